//! Importing people from a CRM export: every row read, normalised, its contact details sealed
//! and its identifiers hashed, and the whole file written in one transaction or not at all.

use std::path::Path;

use serde::{Deserialize, Serialize};

use custody_core::{IdentifierKind, PersonCategory, canonical_email};
use custody_ingest::{PersonRow, Table, TableOptions, map_people_columns, parse_person_row};
use custody_store::{BoxError, NewPerson, Store};
use custody_vault::{Sealer, Vault};

use crate::dir::Ledger;
use crate::error::{Error, Result};

/// What custody keeps, sealed, to contact a person: nothing more than a notice needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Given name, to address the person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Phone in E.164.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// Choices for an import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// `Header=field` pairs.
    pub maps: Vec<(String, String)>,
    /// Category for rows without one.
    pub default_category: Option<PersonCategory>,
    /// Rows read so far, for a progress display; updated once per batch.
    pub rows_read: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
    /// The order of day and month in the file's dates, when the file cannot prove it.
    pub date_order: Option<custody_core::DateOrder>,
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    /// People new to custody.
    pub inserted: u64,
    /// The order day and month were read in (`dmy`, `mdy`; none when every date was
    /// unambiguous or the file has none).
    pub date_order: Option<&'static str>,
    /// What the user should check (an order of day and month assumed, not proved).
    pub warnings: Vec<String>,
    /// People updated in place.
    pub updated: u64,
    /// Columns read past and not kept.
    pub ignored_columns: Vec<String>,
    /// Rows whose phone was not a valid number (kept without a phone).
    pub phones_unusable: u64,
    /// Their first lines.
    pub phones_unusable_lines: Vec<u64>,
    /// Detected encoding.
    pub encoding: String,
    /// Detected delimiter.
    pub delimiter: String,
}

const LINES_REPORTED_MAX: usize = 20;
/// Rows handed from the reading thread to the writing thread at a time.
const BATCH_ROWS: usize = 1024;
/// Batches that may wait between the threads; bounds memory whatever the file's size.
const BATCHES_IN_FLIGHT: usize = 8;

/// Rows handed from the reading thread to the writing thread; `last` marks the end of the file.
struct Batch {
    rows: Vec<Result<NewPerson>>,
    last: bool,
}

/// Reads, normalises, seals and hashes rows on a second thread while the store writes on this
/// one: the two halves take about as long as each other, and the machine has two cores.
struct Reader<'a> {
    file: &'a str,
    headers: &'a [String],
    columns: &'a custody_ingest::PeopleColumns,
    options: &'a ImportOptions,
    region: &'a str,
    vault: &'a Vault,
    /// The database, when it already holds people: their sealed contact details are read from
    /// it so that a file without some contact columns keeps what custody held.
    previous: Option<std::path::PathBuf>,
    /// The fields this file provides (the same for every row).
    fields: custody_core::PersonFields,
}

impl Reader<'_> {
    /// Sends batches until the file ends, a row fails (sent as the batch's last item), or the
    /// writer stops listening. Returns the count and first lines of unusable phone numbers.
    fn run(&self, table: &mut Table, sender: &std::sync::mpsc::SyncSender<Batch>) -> (u64, Vec<u64>) {
        let previous = match self
            .previous
            .as_deref()
            .map(|path| custody_store::SqliteStore::open(path, false))
        {
            Some(Ok(store)) => Some(store),
            Some(Err(error)) => {
                let _ = sender.send(Batch {
                    rows: vec![Err(error.into())],
                    last: true,
                });
                return (0, Vec::new());
            }
            None => None,
        };
        let mut sealer = self.vault.sealer();
        let mut record = csv::StringRecord::new();
        let mut unusable = (0u64, Vec::new());
        loop {
            let mut batch = Vec::with_capacity(BATCH_ROWS);
            let mut finished = false;
            while batch.len() < BATCH_ROWS {
                match self.next(table, &mut record, &mut sealer, &mut unusable, previous.as_ref()) {
                    Ok(Some(person)) => batch.push(Ok(person)),
                    Ok(None) => {
                        finished = true;
                        break;
                    }
                    Err(error) => {
                        batch.push(Err(error));
                        finished = true;
                        break;
                    }
                }
            }
            if let Some(counter) = &self.options.rows_read {
                counter.fetch_add(batch.len() as u64, std::sync::atomic::Ordering::Relaxed);
            }
            if sender
                .send(Batch {
                    rows: batch,
                    last: finished,
                })
                .is_err()
                || finished
            {
                return unusable;
            }
        }
    }

    fn next(
        &self,
        table: &mut Table,
        record: &mut csv::StringRecord,
        sealer: &mut Sealer<'_>,
        unusable: &mut (u64, Vec<u64>),
        previous: Option<&custody_store::SqliteStore>,
    ) -> Result<Option<NewPerson>> {
        let Some(line) = table.next_row(record)? else {
            return Ok(None);
        };
        let row = parse_person_row(
            self.file,
            self.headers,
            self.columns,
            record,
            line,
            self.options.default_category,
            self.region,
        )?;
        if row.phone_unusable {
            unusable.0 += 1;
            if unusable.1.len() < LINES_REPORTED_MAX {
                unusable.1.push(line);
            }
        }
        let fields = self.fields;
        let old = match previous {
            Some(store) if !(fields.names && fields.email && fields.phone) => {
                old_contact(self.vault, store, row.reference.as_str())?
            }
            _ => None,
        };
        new_person(self.vault, sealer, row, fields, old).map(Some)
    }
}

/// The keyed hashes of a person's identifiers.
pub fn identifier_hashes(
    vault: &Vault,
    email: Option<&str>,
    phone: Option<&str>,
    name_key: Option<&str>,
    postcode: Option<&str>,
    date_of_birth: Option<&str>,
) -> Vec<(IdentifierKind, [u8; 16])> {
    let mut out = Vec::with_capacity(5);
    let mut add =
        |kind: IdentifierKind, value: &str| out.push((kind, vault.identifier_hash(kind.tag(), value)));
    if let Some(email) = email {
        add(IdentifierKind::EmailStrict, email);
        add(IdentifierKind::EmailCanonical, &canonical_email(email));
    }
    if let Some(phone) = phone {
        add(IdentifierKind::Phone, phone);
    }
    if let Some(name) = name_key {
        if let Some(postcode) = postcode {
            add(IdentifierKind::NamePostcode, &format!("{name}|{postcode}"));
        }
        if let Some(date) = date_of_birth {
            add(IdentifierKind::NameDateOfBirth, &format!("{name}|{date}"));
        }
    }
    out
}

/// Domain tag of the contact digest (identifier kinds use 1 to 5).
const CONTACT_DIGEST_TAG: u8 = 0x10;

/// Sealed contact details and the keyed digest of what was sealed.
pub(crate) struct SealedContact {
    pub sealed: Option<Vec<u8>>,
    pub digest: Option<[u8; 16]>,
}

/// Seals contact details, with a keyed digest of them that tells a re-import whether they changed.
pub(crate) fn seal_contact(
    vault: &Vault,
    sealer: &mut Sealer<'_>,
    reference: &str,
    contact: &Contact,
) -> Result<SealedContact> {
    if *contact == Contact::default() {
        return Ok(SealedContact {
            sealed: None,
            digest: None,
        });
    }
    let text = serde_json::to_string(contact).map_err(|error| Error::Invalid(error.to_string()))?;
    let digest = vault.identifier_hash(CONTACT_DIGEST_TAG, &text);
    Ok(SealedContact {
        sealed: Some(sealer.seal(text.as_bytes(), reference.as_bytes())?),
        digest: Some(digest),
    })
}

/// The contact details already held for a reference, if any.
fn old_contact(
    vault: &Vault,
    store: &custody_store::SqliteStore,
    reference: &str,
) -> Result<Option<Contact>> {
    let Some(person) = store.person_by_ref(reference)? else {
        return Ok(None);
    };
    let Some(sealed) = person.contact else {
        return Ok(None);
    };
    let bytes = vault.open(&sealed, reference.as_bytes())?;
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|error| Error::Invalid(format!("sealed contact details: {error}")))
}

fn new_person(
    vault: &Vault,
    sealer: &mut Sealer<'_>,
    row: PersonRow,
    fields: custody_core::PersonFields,
    old: Option<Contact>,
) -> Result<NewPerson> {
    let dob = row.date_of_birth.map(|day| day.to_iso());
    let identifiers = identifier_hashes(
        vault,
        row.email.as_deref(),
        row.phone.as_deref(),
        row.name_key.as_deref(),
        row.postcode.as_deref(),
        dob.as_deref(),
    );
    let contact = Contact {
        first_name: row.first_name,
        last_name: row.last_name,
        email: row.email,
        phone: row.phone,
    };
    // Keep what custody held for the contact fields this file does not have.
    let contact = match old {
        Some(old) => Contact {
            first_name: if fields.names {
                contact.first_name
            } else {
                old.first_name
            },
            last_name: if fields.names {
                contact.last_name
            } else {
                old.last_name
            },
            email: if fields.email { contact.email } else { old.email },
            phone: if fields.phone { contact.phone } else { old.phone },
        },
        None => contact,
    };
    let SealedContact {
        sealed: contact,
        digest: contact_digest,
    } = seal_contact(vault, sealer, row.reference.as_str(), &contact)?;
    Ok(NewPerson {
        line: row.line,
        reference: row.reference.as_str().to_owned(),
        category: row.category,
        status: row.status,
        joined_on: row.joined_on,
        left_on: row.left_on,
        country: row.country,
        contact,
        contact_digest,
        identifiers,
        fields,
    })
}

/// Imports or updates people from a CRM export; nothing is written unless every row is good.
pub fn import_people(ledger: &mut Ledger, path: &Path, options: &ImportOptions) -> Result<ImportReport> {
    let mut table = Table::open(path, TableOptions::default())?;
    let file = table.file().to_owned();
    let headers = table.headers().to_vec();
    let mut columns = map_people_columns(&file, &headers, &options.maps)?;
    let decided = custody_ingest::decide_date_order(path, &columns, options.date_order)?;
    columns.date_order = decided.order;
    let mut report = ImportReport {
        ignored_columns: columns.ignored.clone(),
        date_order: columns.date_order.map(|order| order.as_str()),
        warnings: decided.assumed.into_iter().collect(),
        encoding: table.encoding().to_owned(),
        delimiter: table.delimiter().to_string(),
        ..ImportReport::default()
    };
    let region = ledger.settings.phone_region.clone();
    let draft = ledger.draft(
        "people.import",
        "people",
        serde_json::json!({ "file": file_name(path), "columns": headers.len(), "ignored_columns": columns.ignored }),
    );
    // Person ids start at 1, so id 1 exists once anyone was ever imported.
    let has_people = ledger.store.person(1)?.is_some();
    let ledger_dir = ledger.dir.clone();
    let vault = &ledger.vault;
    let store = &mut ledger.store;
    let (sender, receiver) = std::sync::mpsc::sync_channel::<Batch>(BATCHES_IN_FLIGHT);
    let reader = Reader {
        file: &file,
        headers: &headers,
        columns: &columns,
        options,
        region: &region,
        vault,
        previous: has_people.then(|| ledger_dir.join(custody_store::sqlite::DATABASE_FILE_NAME)),
        fields: columns.fields(),
    };
    let (counts, unusable) = std::thread::scope(|scope| {
        let worker = scope.spawn(move || reader.run(&mut table, &sender));
        // The reader marks its last batch. A channel that closes without it means the reader
        // died (a panic in a parser, say): the store must roll back, not commit what it has.
        let mut pending: std::vec::IntoIter<Result<NewPerson>> = Vec::new().into_iter();
        let (mut ended, mut failed) = (false, false);
        let mut rows = std::iter::from_fn(move || {
            loop {
                if let Some(row) = pending.next() {
                    return Some(row.map_err(|error| Box::new(error) as BoxError));
                }
                if ended || failed {
                    return None;
                }
                match receiver.recv() {
                    Ok(batch) => {
                        ended = batch.last;
                        pending = batch.rows.into_iter();
                    }
                    Err(_) => {
                        failed = true;
                        let error = Error::Invalid(
                            "the reading thread stopped before the end of the file; nothing was written"
                                .to_owned(),
                        );
                        return Some(Err(Box::new(error) as BoxError));
                    }
                }
            }
        });
        let counts = store.import_people(&mut rows, draft, &crate::dir::signer_for(vault, &ledger_dir));
        // Dropping the receiver (inside `rows`) lets a reader blocked on a full channel finish
        // when the store stopped early.
        drop(rows);
        (counts, worker.join())
    });
    let unusable =
        unusable.map_err(|_| Error::Invalid("the reading thread stopped unexpectedly".to_owned()))?;
    let counts = counts.map_err(|error| match error {
        custody_store::Error::DuplicateReference { reference, line } => {
            duplicate(path, &file, &reference, line)
        }
        other => unbox(other),
    })?;
    ledger.anchor_audit()?;
    report.inserted = counts.inserted;
    report.updated = counts.updated;
    report.phones_unusable = unusable.0;
    report.phones_unusable_lines = unusable.1;
    Ok(report)
}

/// Turns an aborted store call back into the error that aborted it.
pub(crate) fn unbox(error: custody_store::Error) -> Error {
    match error {
        custody_store::Error::Aborted(inner) => match inner.downcast::<Error>() {
            Ok(error) => *error,
            Err(other) => Error::Invalid(other.to_string()),
        },
        other => Error::Store(other),
    }
}

/// A duplicate reference, with the line where it first appeared (found by reading again).
fn duplicate(path: &Path, file: &str, reference: &str, line: u64) -> Error {
    let first = Table::open(path, TableOptions::default())
        .ok()
        .and_then(|mut table| {
            let headers = table.headers().to_vec();
            let columns = map_people_columns(file, &headers, &[]).ok();
            let mut record = csv::StringRecord::new();
            while let Ok(Some(at)) = table.next_row(&mut record) {
                if at >= line {
                    break;
                }
                if record.iter().any(|field| field.trim() == reference) && columns.is_some() {
                    return Some(at);
                }
            }
            None
        });
    let earlier = first.map_or_else(|| "an earlier line".to_owned(), |at| format!("line {at}"));
    Error::Ingest(custody_ingest::Error::at(
        file,
        Some(line),
        None,
        format!(
            "the reference {reference:?} appears again (first at {earlier}); expected each person once per file"
        ),
    ))
}

pub(crate) fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    )
}

/// The contact details custody holds for a person, opened with the key; `None` when none are held.
/// Details sealed for another person's reference do not open here.
pub fn contact_of(ledger: &Ledger, reference: &str) -> Result<Option<Contact>> {
    let person = ledger
        .store
        .person_by_ref(reference)?
        .ok_or_else(|| Error::NotFound(format!("there is no person with the reference {reference:?}")))?;
    let Some(sealed) = person.contact else {
        return Ok(None);
    };
    let bytes = ledger.vault.open(&sealed, person.reference.as_bytes())?;
    let contact = serde_json::from_slice(&bytes)
        .map_err(|error| Error::Invalid(format!("sealed contact details: {error}")))?;
    Ok(Some(contact))
}

pub use custody_ingest::{ColumnCheck, PeopleCheck};

/// What `import_people` would do with a file, column by column; reads it whole, writes nothing
/// (see [`custody_ingest::check_people`]).
pub fn check_import(
    ledger: &Ledger,
    path: &Path,
    options: &ImportOptions,
) -> Result<custody_ingest::PeopleCheck> {
    Ok(custody_ingest::check_people(
        path,
        &options.maps,
        options.default_category,
        options.date_order,
        &ledger.settings.phone_region,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;

    #[test]
    fn contacts_open_only_for_their_own_person() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let now = custody_core::Instant::from_unix_seconds(1_700_000_000).unwrap();
        crate::init(
            &data,
            custody_core::Settings::new("Test"),
            &FixedClock(now),
            "test",
        )
        .unwrap();
        let mut ledger = Ledger::open(&data, Box::new(FixedClock(now)), "test").unwrap();
        let file = dir.path().join("crm.csv");
        std::fs::write(
            &file,
            "id,first name,email\nA1,Alex,alex@example.org\nB2,Sam,sam@example.org\n",
        )
        .unwrap();
        let options = ImportOptions {
            default_category: Some(PersonCategory::Member),
            ..ImportOptions::default()
        };
        import_people(&mut ledger, &file, &options).unwrap();
        let alex = contact_of(&ledger, "A1").unwrap().unwrap();
        assert_eq!(
            (alex.first_name.as_deref(), alex.email.as_deref()),
            (Some("Alex"), Some("alex@example.org"))
        );
        // A file with emails only keeps the names custody held.
        let emails = dir.path().join("emails.csv");
        std::fs::write(&emails, "id,email\nA1,alex.new@example.org\n").unwrap();
        import_people(&mut ledger, &emails, &options).unwrap();
        let moved = contact_of(&ledger, "A1").unwrap().unwrap();
        assert_eq!(
            (moved.first_name.as_deref(), moved.email.as_deref()),
            (Some("Alex"), Some("alex.new@example.org"))
        );
        // Move A1's sealed details onto B2's row: they must not open as B2's.
        let sealed = ledger
            .store
            .person_by_ref("A1")
            .unwrap()
            .unwrap()
            .contact
            .unwrap();
        let b2 = ledger.store.person_by_ref("B2").unwrap().unwrap();
        // Through a separate connection, as anyone with write access to the file could.
        let raw = rusqlite::Connection::open(data.join("custody.db")).unwrap();
        raw.execute(
            "UPDATE contacts SET sealed = ?1 WHERE person = ?2",
            rusqlite::params![sealed, b2.id],
        )
        .unwrap();
        assert!(
            contact_of(&ledger, "B2").is_err(),
            "details sealed for A1 do not open for B2"
        );
    }
}
