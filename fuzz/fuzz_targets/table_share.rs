//! Any bytes as a file sent to a supplier: column placement and reading must not panic.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut file) = tempfile::NamedTempFile::new() else { return };
    if file.write_all(data).is_err() {
        return;
    }
    let options = custody_ingest::TableOptions { line_bytes_max: 4096 };
    let Ok(mut table) = custody_ingest::Table::open(file.path(), options) else { return };
    let headers = table.headers().to_vec();
    let maps = vec![("x".to_owned(), "none".to_owned())];
    let _ = custody_ingest::map_share_columns("fuzz.csv", &headers, &maps);
    let mut record = csv::StringRecord::new();
    while let Ok(Some(_)) = table.next_row(&mut record) {}
});
