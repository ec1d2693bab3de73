//! Snapshot tests of the leak readers: every file in `tests/corpus` is read, and what was read
//! (format, encoding, columns with their roles, records, problems) must equal its `.snap` file.
//! After a deliberate change, `CUSTODY_BLESS=1 cargo test -p custody-ingest --test snapshots`
//! rewrites the snapshots; review the diff before committing it.

// Test code may panic: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use custody_ingest::leak::{Batch, LeakOptions, LeakReader};

/// Records written into a snapshot; the rest are counted.
const RECORDS_SHOWN: usize = 20;

fn describe(path: &Path) -> String {
    let options = LeakOptions {
        line_bytes_max: 1024,
        ..LeakOptions::default()
    };
    let read = Arc::new(AtomicU64::new(0));
    let mut reader = LeakReader::open(path, options, Arc::clone(&read)).unwrap();
    let mut records = String::new();
    let mut batch = Batch::default();
    let mut count = 0;
    while reader.next_batch(&mut batch) {
        for record in batch.records() {
            count += 1;
            if count > RECORDS_SHOWN {
                continue;
            }
            let fields: Vec<String> = record
                .columns()
                .map(|(column, value)| format!("{}={value:?}", reader.columns()[column as usize].name))
                .collect();
            writeln!(records, "  line {}: {}", record.line, fields.join(" | ")).unwrap();
        }
    }
    if count > RECORDS_SHOWN {
        writeln!(records, "  … {count} records in all").unwrap();
    }
    let mut out = String::new();
    writeln!(out, "format: {}", reader.format().describe()).unwrap();
    writeln!(
        out,
        "encoding: {}; gzip: {}",
        reader.encoding(),
        reader.facts().gzip
    )
    .unwrap();
    writeln!(out, "columns:").unwrap();
    for column in reader.columns() {
        writeln!(
            out,
            "  {:?}: {:?} by {}, {}",
            column.name,
            column.role,
            if column.by_shape { "shape" } else { "name" },
            column.category.map_or("no category", |key| key.as_str())
        )
        .unwrap();
    }
    writeln!(out, "records:\n{records}problems:").unwrap();
    for (problem, count) in &reader.problems().counts {
        writeln!(out, "  {problem:?}: {} at lines {:?}", count.count, count.lines).unwrap();
    }
    if let Some((line, why)) = &reader.problems().stopped {
        writeln!(out, "  stopped at line {line}: {why}").unwrap();
    }
    let sha = reader.sha256().unwrap();
    writeln!(
        out,
        "sha256 of the file: {}",
        sha.iter().map(|byte| format!("{byte:02x}")).collect::<String>()
    )
    .unwrap();
    out
}

#[test]
fn the_corpus_reads_as_its_snapshots() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let bless = std::env::var_os("CUSTODY_BLESS").is_some();
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    for path in &entries {
        if path.extension().is_some_and(|extension| extension == "snap") {
            let file = path.with_extension("");
            assert!(file.exists(), "{} has no corpus file", path.display());
            continue;
        }
        let snap = path.with_file_name(format!("{}.snap", path.file_name().unwrap().to_string_lossy()));
        let actual = describe(path);
        checked += 1;
        if bless {
            std::fs::write(&snap, &actual).unwrap();
            continue;
        }
        match std::fs::read_to_string(&snap) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => failures.push(format!(
                "{}:\n--- expected\n{expected}+++ actual\n{actual}",
                path.display()
            )),
            Err(_) => failures.push(format!(
                "{}: no snapshot; run with CUSTODY_BLESS=1",
                path.display()
            )),
        }
    }
    assert!(checked >= 20, "only {checked} corpus files");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
