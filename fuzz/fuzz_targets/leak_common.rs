//! What every leak-reader fuzz target does: any bytes as a leaked file read as one format; every
//! batch must come out and reading must end, never panic or hang; memory stays bounded by the
//! line limit.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use custody_ingest::leak::{Batch, LeakFormat, LeakOptions, LeakReader};

pub fn read_all(data: &[u8], format: LeakFormat) {
    let Ok(mut file) = tempfile::NamedTempFile::new() else { return };
    if file.write_all(data).is_err() {
        return;
    }
    let options = LeakOptions {
        format,
        line_bytes_max: 4096,
        ..LeakOptions::default()
    };
    let Ok(mut reader) = LeakReader::open(file.path(), options, Arc::new(AtomicU64::new(0))) else { return };
    let mut batch = Batch::default();
    let mut fields = 0usize;
    while reader.next_batch(&mut batch) {
        for record in batch.records() {
            fields += record.fields().count();
        }
    }
    std::hint::black_box(fields);
    let _ = reader.sha256();
}
