//! The leak readers at the edges: rows cut across batches, files of blank lines, absurdly wide
//! rows. Each would lose rows or stall if the reader got it wrong.

// Test code may panic: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use custody_ingest::leak::{Batch, LeakOptions, LeakReader};

/// Every record's field count, in order.
fn read(bytes: &[u8]) -> (Vec<usize>, LeakReader) {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(bytes).unwrap();
    let mut reader =
        LeakReader::open(file.path(), LeakOptions::default(), Arc::new(AtomicU64::new(0))).unwrap();
    let mut batch = Batch::default();
    let mut records = Vec::new();
    while reader.next_batch(&mut batch) {
        records.extend(batch.records().map(|record| record.fields().count()));
    }
    (records, reader)
}

#[test]
fn rows_that_run_over_lines_are_never_cut_between_batches() {
    // Far more rows than a batch holds, each with a value over two lines.
    let mut dump = String::from("--\n-- PostgreSQL database dump\n--\n");
    for index in 0..10_000 {
        dump.push_str(&format!(
            "INSERT INTO public.people (id, email, address) VALUES ({index}, 'p{index}@example.org', '1 High St\nLeeds');\n"
        ));
    }
    let (records, reader) = read(dump.as_bytes());
    assert_eq!(records.len(), 10_000);
    assert!(records.iter().all(|fields| *fields == 3), "a row lost fields");
    assert!(reader.problems().is_empty(), "{:?}", reader.problems());
}

#[test]
fn a_dump_of_blank_lines_reads_in_linear_time() {
    let mut dump = String::from("INSERT INTO t (email) VALUES ('a@example.org');\n");
    dump.push_str(&"\n".repeat(2_000_000));
    dump.push_str("INSERT INTO t (email) VALUES ('b@example.org');\n");
    // Quadratic work over two million lines would not finish; linear work takes a second.
    let (records, _) = read(dump.as_bytes());
    assert_eq!(records, [1, 1]);
}

#[test]
fn an_absurdly_wide_row_is_read_with_its_fields_capped() {
    let line: Vec<String> = (0..100_000)
        .map(|index| format!("p{index}@example.org"))
        .collect();
    let text = format!("{}\nlast@example.org,x\n", line.join(","));
    let (records, reader) = read(text.as_bytes());
    assert_eq!(records.len(), 2);
    assert_eq!(records[0], 4096, "fields of one record are capped");
    assert_eq!(
        reader.problems().count(custody_ingest::leak::Problem::WideRecord),
        1
    );
    assert!(
        reader.columns().len() <= 4097,
        "{} columns",
        reader.columns().len()
    );
}

#[test]
fn an_sql_row_left_open_is_given_up_at_the_next_statement() {
    // A cut line leaves a parenthesis open: the next INSERT starts afresh, and the loss is
    // counted rather than swallowing the rest of the dump into one row.
    let mut dump = String::from("INSERT INTO t (email, note) VALUES ('a@example.org', (1, 2\n");
    for _ in 0..1000 {
        dump.push_str("more text of the cut row, 'quoted', (nested\n");
    }
    dump.push_str("INSERT INTO t (email, note) VALUES ('b@example.org', 'fine');\n");
    let (records, reader) = read(dump.as_bytes());
    assert_eq!(records.len(), 2, "the cut row and the next one");
    assert_eq!(reader.problems().count(custody_ingest::leak::Problem::BadSql), 1);
}
