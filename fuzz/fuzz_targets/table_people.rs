//! Any bytes as a CRM export: reading and parsing every row must return values or errors,
//! never panic or hang.
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
    let Ok(columns) = custody_ingest::map_people_columns("fuzz.csv", &headers, &[]) else { return };
    let mut record = csv::StringRecord::new();
    while let Ok(Some(line)) = table.next_row(&mut record) {
        let _ = custody_ingest::parse_person_row(
            "fuzz.csv",
            &headers,
            &columns,
            &record,
            line,
            Some(custody_core::PersonCategory::Member),
            "GB",
        );
    }
    let _ = table.finish();
});
