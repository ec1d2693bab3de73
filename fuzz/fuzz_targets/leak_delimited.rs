//! Any bytes as a leaked file read as format `Csv`: every batch must come out and reading
//! must end, never panic or hang; memory stays bounded by the line limit.
#![no_main]

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use custody_ingest::leak::{Batch, LeakFormat, LeakOptions, LeakReader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut file) = tempfile::NamedTempFile::new() else { return };
    if file.write_all(data).is_err() {
        return;
    }
    let options = LeakOptions {
        format: LeakFormat::Csv,
        line_bytes_max: 4096,
        ..LeakOptions::default()
    };
    let Ok(mut reader) = LeakReader::open(file.path(), options, Arc::new(AtomicU64::new(0))) else { return };
    let mut batch = Batch::default();
    let mut records = 0usize;
    while reader.next_batch(&mut batch) {
        for record in batch.records() {
            records += record.fields().count();
        }
    }
    std::hint::black_box(records);
    let _ = reader.sha256();
});
