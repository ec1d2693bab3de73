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
const READING_RULES: u32 = 2;

/// The rows of `tests::CORPUS` as read by these rules, digested (see
/// `tests::the_reading_rules_version_follows_the_reading`): when it changes, so must
/// `READING_RULES`.
#[cfg(test)]
const READING_FINGERPRINT: &str = "a671382158a8fb59dfe2776d2c64ef958efc17483f44ea53aa2d0b8aa598ce0b";

/// The digests of an import: the way its file is read, and the digests already held.
pub(crate) struct SourceDigests {
    /// The way the file is read, as hex: the start of every row's digest input.
    reading: String,
    /// Every person's digest, sorted by digest, with a directory by their first bits.
    known: Held,
}

/// The digests held, sorted, and where each run of digests with the same first `bits` bits
/// starts. Digests are keyed hashes, so spread evenly: a directory of a quarter as many runs
/// as digests leaves two to four to a run, and a lookup reads one directory entry and one or two
/// cache lines of digests. A binary search of the whole list missed the cache at almost every
/// one of its 23 steps at 10M people (most of a re-import's time).
struct Held {
    sorted: Vec<([u8; 16], PersonId)>,
    starts: Vec<usize>,
    bits: u32,
}

impl Held {
    fn new(mut sorted: Vec<([u8; 16], PersonId)>) -> Self {
        if !sorted.is_sorted() {
            sorted.sort_unstable();
        }
        // 2^bits runs: about a quarter of the digests, at least one, at most 2^26.
        let bits = (usize::BITS - (sorted.len() / 4).leading_zeros()).min(26);
        let runs = 1usize << bits;
        let mut starts = Vec::with_capacity(runs + 1);
        for (at, (digest, _)) in sorted.iter().enumerate() {
            let run = Self::run_of(digest, bits);
            while starts.len() <= run {
                starts.push(at);
            }
        }
        starts.resize(runs + 1, sorted.len());
        Held { sorted, starts, bits }
    }

    /// The run of `digest`: its first `bits` bits.
    fn run_of(digest: &[u8; 16], bits: u32) -> usize {
        let first = u64::from_be_bytes(*digest.first_chunk::<8>().unwrap_or(&[0; 8]));
        // `bits` is at most 26: the shift is in range, and the run fits in usize.
        usize::try_from(first.checked_shr(64 - bits).unwrap_or(0)).unwrap_or(0)
    }

    fn holder(&self, digest: &[u8; 16]) -> Option<PersonId> {
        let run = Self::run_of(digest, self.bits);
        let (from, to) = (*self.starts.get(run)?, *self.starts.get(run + 1)?);
        let candidates = self.sorted.get(from..to)?;
        let at = candidates.binary_search_by(|(held, _)| held.cmp(digest)).ok()?;
        candidates.get(at).map(|(_, person)| *person)
    }
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
        SourceDigests {
            reading: hex,
            known: Held::new(known),
        }
    }

    /// The digest of a row, `buffer` being scratch space kept between rows.
    pub(crate) fn of(&self, vault: &Vault, record: &csv::StringRecord, buffer: &mut String) -> [u8; 16] {
        buffer.clear();
        buffer.push_str(&self.reading);
        // Each field after its length: no two rows give the same input.
        let mut digits = itoa::Buffer::new();
        for field in record {
            buffer.push('\n');
            buffer.push_str(digits.format(field.len()));
            buffer.push(':');
            buffer.push_str(field);
        }
        vault.identifier_hash(SOURCE_DIGEST_TAG, buffer)
    }

    /// The person a digest is held for, if any.
    pub(crate) fn holder(&self, digest: &[u8; 16]) -> Option<PersonId> {
        self.known.holder(digest)
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

    /// Rows of every kind the reading normalises: names, emails, phones of several countries,
    /// postcodes, dates in both orders, addresses, statuses, a deceased flag.
    const CORPUS: &str = "Member Number,First Name,Last Name,Email,Email 2,Mobile,Home Phone,Post Code,\
Street,City,State,Country,DOB,Category,Status,Joined,Left,Deceased\n\
M1,Zoë,O'Brien-Smith, Zoe.OBrien+news@Example.ORG ,zoe@example.org,07700 900123,+44 20 7946 0958,sw1a 1aa,\
10 Downing St,London,,United Kingdom,03/04/1980,member,Active,01/01/2010,,\n\
M2,JOSÉ,García,jose@EXAMPLE.es,,612 34 56 78,,28013,Calle Mayor 1,Madrid,,ES,1975-12-31,donor,lapsed,2015-06-01,2020-01-31,\n\
M3,Ann,Lee,ann.lee@gmail.com,a.n.n.lee@googlemail.com,(415) 555-2671,,94103-1234,1 Market St,San Francisco,CA,US,12/11/1990,\
member,current,,,\n\
M4,Sam,Patel,,,0113 496 0002,,LS1 4AB,,Leeds,,,1969,registered supporter,Active,2012-01-01,,yes\n\
M5,,,bad@,,12,,,,,,,,,,,,\n";

    #[test]
    fn the_reading_rules_version_follows_the_reading() {
        let vault = Vault::from_master(&[9; 32]);
        let headers: Vec<String> = CORPUS
            .lines()
            .next()
            .unwrap_or_default()
            .split(',')
            .map(str::to_owned)
            .collect();
        let mut columns = custody_ingest::map_people_columns("corpus.csv", &headers, &[]).unwrap();
        columns.date_order = Some(custody_core::DateOrder::Dmy);
        let options = crate::ledger::people::ImportOptions::default();
        let maker = crate::ledger::people::Maker {
            file: "corpus.csv",
            headers: &headers,
            columns: &columns,
            options: &options,
            region: "GB",
            vault: &vault,
            fields: columns.fields(),
            digests: SourceDigests::new(&vault, "", Vec::new()),
        };
        let mut reader = csv::Reader::from_reader(CORPUS.as_bytes());
        let mut sealer = vault.sealer();
        let mut read = String::new();
        for (line, record) in (2..).zip(reader.records()) {
            let record = record.unwrap();
            let mut tally = crate::ledger::people_rows::Tally::default();
            let person = maker.person(&record, (line, [0; 16]), &mut sealer, &mut tally, None);
            // Everything the store is given, but the sealed bytes (a random nonce each time).
            let made = person.map(|person| {
                format!(
                    "{} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
                    person.reference,
                    person.category,
                    person.status,
                    person.joined_on,
                    person.left_on,
                    person.country,
                    person.region,
                    person.contact_digest,
                    person.identifiers,
                    person.fields,
                    person.source_digest.is_some(),
                )
            });
            read.push_str(&format!("{made:?} {:?}\n", tally.unusable));
        }
        let fingerprint = custody_vault::hex(&<sha2::Sha256 as sha2::Digest>::digest(read.as_bytes()));
        assert_eq!(
            fingerprint, READING_FINGERPRINT,
            "the way rows are read has changed: raise READING_RULES (a re-import must read every row \
             again) and set READING_FINGERPRINT to this value. Rows read:\n{read}"
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

    #[test]
    fn every_held_digest_is_found_and_no_other_whatever_their_number_or_order() {
        let mut rng = fastrand::Rng::with_seed(5);
        for count in [0usize, 1, 2, 3, 4, 5, 7, 8, 9, 100, 1000, 40_000] {
            let mut held: Vec<([u8; 16], PersonId)> = (0..count)
                .map(|at| {
                    let mut digest = [0u8; 16];
                    rng.fill(&mut digest);
                    (digest, u32::try_from(at).unwrap() + 1)
                })
                .collect();
            // The extremes of the digest space, and a list given unsorted.
            if count > 2 {
                held[0].0 = [0; 16];
                held[1].0 = [0xff; 16];
            }
            rng.shuffle(&mut held);
            let digests = SourceDigests::new(&Vault::from_master(&[7; 32]), "", held.clone());
            for (digest, person) in &held {
                assert_eq!(digests.holder(digest), Some(*person), "{count} held");
            }
            for _ in 0..1000 {
                let mut other = [0u8; 16];
                rng.fill(&mut other);
                let expected = held.iter().find(|(digest, _)| *digest == other).map(|(_, p)| *p);
                assert_eq!(digests.holder(&other), expected);
            }
        }
    }
}
