//! Any bytes as an address book: reading the cards must return a table or an error naming a
//! line, never panic or hang.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut file) = tempfile::Builder::new().suffix(".vcf").tempfile() else { return };
    if file.write_all(data).is_err() {
        return;
    }
    if let Ok(table) = custody_ingest::vcard::read_vcards(file.path()) {
        for (_, values) in &table.rows {
            assert_eq!(values.len(), table.headers.len());
        }
    }
});
