//! Source digests: how a re-import knows a row unchanged without reading it again.
//!
//! A row's source digest is a keyed hash of the way the file is read (custody's reading rules,
//! the headers, what each column was taken as, the date order, the default category, the phone
//! region) and of the row's fields as the CSV reader gives them. A person keeps the digest of
//! the row last imported over them, and only when that row had nothing to report (every value
//! used, an identifier present), so a re-import reports what it reported before. The same
//! digest again means the same row read the same way over the same stored person: nothing to
//! write. Any other write of the person replaces or drops the digest, so a row found unchanged
//! is unchanged against what custody holds, not only against the last file.

use std::fmt::Write as _;

use custody_core::PersonId;
use custody_vault::Vault;

/// Domain tag of a row's source digest (identifier kinds use 1 to 8, contacts 0x10 and 0x11).
const SOURCE_DIGEST_TAG: u8 = 0x12;

/// Domain tag of the digest of the way a file is read.
const READING_TAG: u8 = 0x13;

/// The version of the rules that turn a row into a person (parsing, normalising, hashing).
/// Raise it with any change to them: every digest kept then stops matching, and the next import
/// reads every row again.
const READING_RULES: u32 = 1;

/// The digests of an import: the way its file is read, and the digests already held.
pub(crate) struct SourceDigests {
    /// The way the file is read, as hex: the start of every row's digest input.
    reading: String,
    /// Every person's digest, sorted by digest.
    known: Vec<([u8; 16], PersonId)>,
}

impl SourceDigests {
    /// For a file read as `reading` says (anything that decides how a row is read, written out
    /// in a stable form), against the digests the store holds.
    pub(crate) fn new(vault: &Vault, reading: &str, known: Vec<([u8; 16], PersonId)>) -> Self {
        let rules = format!(
            "custody {} rules {READING_RULES}\n{reading}",
            env!("CARGO_PKG_VERSION")
        );
        let digest = vault.identifier_hash(READING_TAG, &rules);
        let mut hex = String::with_capacity(32);
        for byte in digest {
            let _infallible = write!(hex, "{byte:02x}");
        }
        SourceDigests { reading: hex, known }
    }

    /// The digest of a row, `buffer` being scratch space kept between rows.
    pub(crate) fn of(&self, vault: &Vault, record: &csv::StringRecord, buffer: &mut String) -> [u8; 16] {
        buffer.clear();
        buffer.push_str(&self.reading);
        // Each field after its length: no two rows give the same input.
        for field in record {
            let _infallible = write!(buffer, "\n{}:", field.len());
            buffer.push_str(field);
        }
        vault.identifier_hash(SOURCE_DIGEST_TAG, buffer)
    }

    /// The person a digest is held for, if any.
    pub(crate) fn holder(&self, digest: &[u8; 16]) -> Option<PersonId> {
        self.known
            .binary_search_by(|(held, _)| held.cmp(digest))
            .ok()
            .and_then(|at| self.known.get(at))
            .map(|(_, person)| *person)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(fields: &[&str]) -> csv::StringRecord {
        csv::StringRecord::from(fields.to_vec())
    }

    #[test]
    fn a_digest_changes_with_any_field_its_split_or_the_reading() {
        let vault = Vault::from_master(&[7; 32]);
        let digests = SourceDigests::new(&vault, "headers a,b", Vec::new());
        let mut buffer = String::new();
        let base = digests.of(&vault, &record(&["M1", "a@example.org"]), &mut buffer);
        assert_eq!(
            base,
            digests.of(&vault, &record(&["M1", "a@example.org"]), &mut buffer)
        );
        assert_ne!(
            base,
            digests.of(&vault, &record(&["M1", "b@example.org"]), &mut buffer)
        );
        // The same characters split differently are another row.
        assert_ne!(
            base,
            digests.of(&vault, &record(&["M1a", "@example.org"]), &mut buffer)
        );
        let other = SourceDigests::new(&vault, "headers a,c", Vec::new());
        assert_ne!(
            base,
            other.of(&vault, &record(&["M1", "a@example.org"]), &mut buffer)
        );
        let keyed = Vault::from_master(&[8; 32]);
        let digests_elsewhere = SourceDigests::new(&keyed, "headers a,b", Vec::new());
        assert_ne!(
            base,
            digests_elsewhere.of(&keyed, &record(&["M1", "a@example.org"]), &mut buffer)
        );
    }

    #[test]
    fn a_holder_is_found_by_its_digest_only() {
        let vault = Vault::from_master(&[7; 32]);
        let digests = SourceDigests::new(&vault, "", vec![([1; 16], 10), ([3; 16], 30), ([5; 16], 50)]);
        assert_eq!(digests.holder(&[3; 16]), Some(30));
        assert_eq!(digests.holder(&[5; 16]), Some(50));
        assert_eq!(digests.holder(&[4; 16]), None);
    }
}
