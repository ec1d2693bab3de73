//! Importing people from a CRM export: every row read, normalised, its contact details sealed
//! and its identifiers hashed, and the whole file written in one transaction or not at all.

use std::path::Path;

use serde::{Deserialize, Serialize};

use custody_core::{IdentifierKind, PersonCategory};
use custody_ingest::{PersonRow, Table, TableOptions, map_people_columns, parse_person_row};
use custody_store::NewPerson;
use custody_vault::{Sealer, Vault};

use crate::dir::Ledger;
use crate::error::{Error, Result};
use crate::ledger::contact_codec;
use crate::ledger::people_rows::{LINES_REPORTED_MAX, Tally};

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
    /// The person's other email addresses, after the one notices go to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub more_emails: Vec<String>,
    /// The person's other phone numbers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub more_phones: Vec<String>,
    /// The first address's postcode, normalised: with the date of birth, what fuzzy linkage
    /// compares a leaked row with (never shown, never sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postcode: Option<String>,
    /// The date of birth (ISO 8601), for the same linkage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub born: Option<String>,
    /// The postal address as written, for a letter when no email address can be used (never
    /// shown on a page, never sent to a supplier).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal: Option<custody_ingest::PostalAddress>,
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
    /// People already held exactly as their row says: nothing written but, at most, the digest
    /// of the row they were read from.
    pub unchanged: u64,
    /// Every column and what custody did with it (`email`, `phone`, `street of address
    /// "home"`, `ignored`).
    pub columns: Vec<ColumnUse>,
    /// Columns read past and not kept.
    pub ignored_columns: Vec<String>,
    /// The same columns with why each was not read.
    pub columns_not_read: Vec<custody_ingest::IgnoredColumn>,
    /// Columns read because their values showed what they hold (a column of email addresses
    /// under a header custody does not know).
    pub columns_read_by_value: Vec<String>,
    /// Phone values that were not a valid number (the person was kept without it).
    pub phones_unusable: u64,
    /// Their first lines.
    pub phones_unusable_lines: Vec<u64>,
    /// Every column with values that could not be used (phones, postcodes of the wrong form
    /// for their country, national identifiers), with counts and first lines.
    pub unusable: Vec<UnusableValues>,
    /// People imported with nothing to match them by in a leaked file (no email, phone or
    /// national identifier, and no name with an address, postcode or date of birth).
    pub without_identifier: u64,
    /// The first of them, by reference.
    pub without_identifier_refs: Vec<String>,
    /// Detected encoding.
    pub encoding: String,
    /// Detected delimiter.
    pub delimiter: String,
}

/// One column of an imported file and its use.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ColumnUse {
    /// 1-based position.
    pub column: usize,
    /// Its header.
    pub header: String,
    /// What custody did with it.
    pub used_as: String,
}

/// A column whose values could not all be used.
#[derive(Debug, Clone, Default, Serialize)]
pub struct UnusableValues {
    /// 1-based position.
    pub column: usize,
    /// Its header.
    pub header: String,
    /// The field it fills.
    pub field: String,
    /// Values not used.
    pub count: u64,
    /// Their first lines.
    pub lines: Vec<u64>,
}

/// What the reading thread counted on its way through the file.
/// Makes a person of each row (normalised, sealed, hashed): shared by the import's worker
/// threads (see `people_rows`).
pub(crate) struct Maker<'a> {
    pub(crate) file: &'a str,
    pub(crate) headers: &'a [String],
    pub(crate) columns: &'a custody_ingest::PeopleColumns,
    pub(crate) options: &'a ImportOptions,
    pub(crate) region: &'a str,
    pub(crate) vault: &'a Vault,
    /// The fields this file provides (the same for every row).
    pub(crate) fields: custody_core::PersonFields,
    /// How a row found unchanged is known.
    pub(crate) digests: crate::ledger::people_digest::SourceDigests,
}

impl Maker<'_> {
    /// Whether a row's person needs the contact details already held: the file lacks some
    /// contact fields, and those held are kept.
    fn needs_previous(&self) -> bool {
        let fields = self.fields;
        !(fields.names
            && fields.email
            && fields.phone
            && fields.postcode
            && fields.date_of_birth
            && fields.address)
    }

    /// The person of the record on `line`, whose source digest is `digest`. `previous` reads the
    /// contact details already held, when the store has people.
    pub(crate) fn person(
        &self,
        record: &csv::StringRecord,
        (line, digest): (u64, [u8; 16]),
        sealer: &mut Sealer<'_>,
        tally: &mut Tally,
        previous: Option<&dyn custody_store::Store>,
    ) -> Result<NewPerson> {
        let mut row = parse_person_row(
            self.file,
            self.headers,
            self.columns,
            record,
            line,
            self.options.default_category,
            self.region,
        )?;
        if let Some(source) = &row.derived_reference {
            row.reference = derived_reference(self.vault, source)?;
        }
        for index in &row.unusable {
            tally.unusable_at(*index, line);
        }
        // A row with something to report keeps no digest: it is read again next time, and
        // reported again.
        let source_digest = (row.unusable.is_empty() && row.has_identifier()).then_some(digest);
        if !row.has_identifier() {
            tally.without_identifier += 1;
            if tally.without_identifier_refs.len() < LINES_REPORTED_MAX {
                tally
                    .without_identifier_refs
                    .push(row.reference.as_str().to_owned());
            }
        }
        let mut fields = self.fields;
        // A person the file says has died is former, though the file has no status column.
        fields.status |= row.deceased;
        let old = match previous {
            Some(store) if self.needs_previous() => old_contact(self.vault, store, row.reference.as_str())?,
            _ => None,
        };
        let mut person = new_person(self.vault, sealer, row, fields, old)?;
        person.source_digest = source_digest;
        Ok(person)
    }
}

/// A name key with another part (`mary|smith|SW1A1AA`) into `out`: what the name-and-postcode,
/// name-and-address and name-and-date identifiers hash.
fn name_key_with(name: &str, part: &str, out: &mut String) {
    out.clear();
    out.push_str(name);
    out.push('|');
    out.push_str(part);
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
    // The canonical address and the name keys are written here, one after another: no string
    // is allocated for each (an import hashes these for millions of rows).
    let mut text = String::with_capacity(96);
    if let Some(email) = email {
        add(IdentifierKind::EmailStrict, email);
        custody_core::canonical_email_into(email, &mut text);
        add(IdentifierKind::EmailCanonical, &text);
    }
    if let Some(phone) = phone {
        add(IdentifierKind::Phone, phone);
    }
    if let Some(name) = name_key {
        for (kind, part) in [
            (IdentifierKind::NamePostcode, postcode),
            (IdentifierKind::NameDateOfBirth, date_of_birth),
        ] {
            if let Some(part) = part {
                name_key_with(name, part, &mut text);
                add(kind, &text);
            }
        }
    }
    out
}

/// Domain tag of the contact digest (identifier kinds use 1 to 8).
const CONTACT_DIGEST_TAG: u8 = 0x10;

/// Domain tag of a reference derived from a contact detail.
const DERIVED_REFERENCE_TAG: u8 = 0x11;

/// The reference of a person in a file without references (an address book): `c-` and 16 hex
/// digits of a keyed digest of their first email address (else phone number). It is the same
/// on every import of the same address, names no one without the key, and changes when the
/// address does (the person is then a new one; the import report says how many were new).
fn derived_reference(vault: &Vault, source: &str) -> Result<custody_core::PersonRef> {
    let digest = vault.identifier_hash(DERIVED_REFERENCE_TAG, source);
    let hex: String = digest.iter().take(8).map(|byte| format!("{byte:02x}")).collect();
    custody_core::PersonRef::parse(&format!("c-{hex}")).map_err(Error::from)
}

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
    let plaintext = contact_codec::encode(contact);
    // The digest stays over the details' JSON, the form they were sealed in before
    // `contact_codec`: a digest held from then still compares, so a row read again with the
    // same details is unchanged (not rewritten, not counted as updated).
    let text = serde_json::to_string(contact).map_err(|error| Error::Invalid(error.to_string()))?;
    let digest = vault.identifier_hash(CONTACT_DIGEST_TAG, &text);
    Ok(SealedContact {
        sealed: Some(sealer.seal(&plaintext, reference.as_bytes())?),
        digest: Some(digest),
    })
}

/// The contact details already held for a reference, if any.
fn old_contact(vault: &Vault, store: &dyn custody_store::Store, reference: &str) -> Result<Option<Contact>> {
    let Some(person) = store.person_by_ref(reference)? else {
        return Ok(None);
    };
    let Some(sealed) = person.contact else {
        return Ok(None);
    };
    let bytes = vault.open(&sealed, reference.as_bytes())?;
    contact_codec::decode(&bytes)
        .map(Some)
        .map_err(|error| Error::Invalid(format!("sealed contact details: {error}")))
}

/// The keyed hashes of every identifier of a row: each email (strict and canonical), each
/// phone, each national identifier, and with the name key each address's postcode and street,
/// the date of birth or the birthday without a year.
fn row_identifier_hashes(vault: &Vault, row: &PersonRow) -> Vec<(IdentifierKind, [u8; 16])> {
    let mut out: Vec<(IdentifierKind, [u8; 16])> = Vec::with_capacity(5);
    let mut add = |kind: IdentifierKind, value: &str| {
        let entry = (kind, vault.identifier_hash(kind.tag(), value));
        if !out.contains(&entry) {
            out.push(entry);
        }
    };
    // Canonical addresses and name keys are written here, one after another: no string is
    // allocated for each (an import hashes them for millions of rows).
    let mut text = String::with_capacity(96);
    for email in &row.emails {
        add(IdentifierKind::EmailStrict, email);
        custody_core::canonical_email_into(email, &mut text);
        add(IdentifierKind::EmailCanonical, &text);
    }
    for phone in &row.phones {
        add(IdentifierKind::Phone, phone);
    }
    for id in &row.national_ids {
        add(IdentifierKind::NationalId, id);
    }
    if let Some(name) = &row.name_key {
        let mut keyed = |kind: IdentifierKind, part: &str| {
            name_key_with(name, part, &mut text);
            add(kind, &text);
        };
        for address in &row.addresses {
            if let Some(postcode) = &address.postcode {
                keyed(IdentifierKind::NamePostcode, postcode);
            }
            if let Some(street) = &address.street {
                keyed(IdentifierKind::NameAddress, street);
            }
        }
        if let Some(day) = row.date_of_birth {
            keyed(IdentifierKind::NameDateOfBirth, day.iso().as_str());
        }
        if let Some(birthday) = row.birthday {
            keyed(IdentifierKind::NameBirthday, &birthday.to_iso());
        }
    }
    out
}

fn new_person(
    vault: &Vault,
    sealer: &mut Sealer<'_>,
    row: PersonRow,
    fields: custody_core::PersonFields,
    old: Option<Contact>,
) -> Result<NewPerson> {
    let identifiers = row_identifier_hashes(vault, &row);
    let mut emails = row.emails.into_iter();
    let mut phones = row.phones.into_iter();
    let contact = Contact {
        first_name: row.first_name,
        last_name: row.last_name,
        email: emails.next(),
        phone: phones.next(),
        more_emails: emails.collect(),
        more_phones: phones.collect(),
        postcode: row.addresses.iter().find_map(|address| address.postcode.clone()),
        born: row.date_of_birth.map(custody_core::Day::to_iso),
        postal: row.postal,
    };
    // Keep what custody held for the contact fields this file does not have.
    let contact = match old {
        Some(old) => {
            let (email, more_emails) = if fields.email {
                (contact.email, contact.more_emails)
            } else {
                (old.email, old.more_emails)
            };
            let (phone, more_phones) = if fields.phone {
                (contact.phone, contact.more_phones)
            } else {
                (old.phone, old.more_phones)
            };
            let (first_name, last_name) = if fields.names {
                (contact.first_name, contact.last_name)
            } else {
                (old.first_name, old.last_name)
            };
            Contact {
                first_name,
                last_name,
                email,
                phone,
                more_emails,
                more_phones,
                postcode: if fields.postcode {
                    contact.postcode
                } else {
                    old.postcode
                },
                born: if fields.date_of_birth {
                    contact.born
                } else {
                    old.born
                },
                postal: if fields.address {
                    contact.postal
                } else {
                    old.postal
                },
            }
        }
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
        region: row.region,
        contact,
        contact_digest,
        identifiers,
        fields,
        source_digest: None,
    })
}

/// Imports or updates people from a CRM export; nothing is written unless every row is good.
pub fn import_people(ledger: &mut Ledger, path: &Path, options: &ImportOptions) -> Result<ImportReport> {
    let dir = ledger.dir.clone();
    crate::ledger::people_vcard::as_table(
        &dir,
        path,
        |table| import_table(ledger, table, path, options),
        |mut report, renamer| {
            report.warnings = report
                .warnings
                .iter()
                .map(|warning| renamer.text(warning))
                .collect();
            for column in &mut report.unusable {
                column.lines = column.lines.iter().map(|line| renamer.line(*line)).collect();
            }
            report.phones_unusable_lines = report
                .phones_unusable_lines
                .iter()
                .map(|line| renamer.line(*line))
                .collect();
            report
        },
    )
}

/// Imports a table of people (a CRM export, or an address book's cards, `source` being the
/// file the user gave, as the audit names it).
fn import_table(
    ledger: &mut Ledger,
    path: &Path,
    source: &Path,
    options: &ImportOptions,
) -> Result<ImportReport> {
    let mut table = Table::open(path, TableOptions::default())?;
    let file = table.file().to_owned();
    let headers = table.headers().to_vec();
    let mut columns = map_people_columns(&file, &headers, &options.maps)?;
    let region = ledger.settings.phone_region.clone();
    // One look ahead: what the first rows' values show of the columns, and the dates' order.
    let custody_ingest::Prescan {
        mut warnings,
        order: decided,
    } = custody_ingest::prescan(path, &mut columns, options.date_order)?;
    if let Some(unproven) = decided.unproven {
        return Err(Error::Invalid(unproven));
    }
    columns.date_order = decided.order;
    if columns.reference_from_contact {
        warnings.push(custody_ingest::derived_reference_warning(&file));
    }
    let mut report = ImportReport {
        columns: headers
            .iter()
            .enumerate()
            .map(|(index, header)| ColumnUse {
                column: index + 1,
                header: header.clone(),
                used_as: custody_ingest::use_of(&columns, index),
            })
            .collect(),
        ignored_columns: columns.ignored_headers(),
        columns_not_read: columns.ignored.clone(),
        columns_read_by_value: columns
            .placed
            .iter()
            .filter(|column| column.because == "values")
            .filter_map(|column| headers.get(column.index).cloned())
            .collect(),
        date_order: columns.date_order.map(|order| order.as_str()),
        warnings,
        encoding: table.encoding().to_owned(),
        delimiter: table.delimiter().to_string(),
        ..ImportReport::default()
    };
    let draft = ledger.draft(
        "people.import",
        "people",
        serde_json::json!({ "file": file_name(source), "columns": headers.len(), "ignored_columns": report.ignored_columns }),
    );
    let ledger_dir = ledger.dir.clone();
    let has_people = ledger.store.has_people()?;
    // Everything that decides how a row is read, in a stable form.
    let reading = format!(
        "{headers:?}\n{columns:?}\n{:?}\n{region}",
        options.default_category
    );
    let held = if has_people {
        ledger.store.source_digests()?
    } else {
        custody_store::HeldDigests::default()
    };
    let maker = Maker {
        file: &file,
        headers: &headers,
        columns: &columns,
        options,
        region: &region,
        vault: &ledger.vault,
        fields: columns.fields(),
        digests: crate::ledger::people_digest::SourceDigests::new(&ledger.vault, &reading, held.digests),
    };
    // Each worker reads the contact details already held through a connection of its own, so
    // that a file without some contact columns keeps what custody held.
    let with_previous = maker.needs_previous() && has_people;
    let previous = (0..crate::workers())
        .map(|_| {
            with_previous
                .then(|| ledger.store.reopen_for_lookups())
                .transpose()
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let store = &mut ledger.store;
    let signer = crate::dir::signer_for(maker.vault, &ledger_dir);
    let (counts, tally) = crate::ledger::people_rows::run(&mut table, &maker, previous, |rows| {
        store.import_people(rows, Some(&held.at), draft, &signer)
    });
    let tally = tally?;
    let counts = counts.map_err(|error| match error {
        custody_store::Error::DuplicateReference { reference, line } => {
            duplicate(path, &file, &reference, line)
        }
        other => unbox(other),
    })?;
    ledger.anchor_audit()?;
    report.inserted = counts.inserted;
    report.updated = counts.updated;
    report.unchanged = counts.unchanged;
    if let Some(line) = table.footer() {
        report.warnings.push(footer_warning(&file, line));
    }
    report.without_identifier = tally.without_identifier;
    report.without_identifier_refs = tally.without_identifier_refs;
    for (index, (count, lines)) in tally.unusable {
        let field = columns
            .field_of(index)
            .map_or("?", custody_ingest::PersonField::as_str);
        if field == "phone" {
            report.phones_unusable += count;
            report.phones_unusable_lines.extend(&lines);
        }
        report.unusable.push(UnusableValues {
            column: index + 1,
            header: headers.get(index).cloned().unwrap_or_default(),
            field: field.to_owned(),
            count,
            lines,
        });
    }
    report.phones_unusable_lines.sort_unstable();
    report.phones_unusable_lines.truncate(LINES_REPORTED_MAX);
    Ok(report)
}

/// What the import says of a footer it read past.
fn footer_warning(file: &str, line: u64) -> String {
    format!(
        "{file}, line {line}: the file ends with lines of one field (a report's footer, such as Salesforce's \
         \"Confidential Information - Do Not Distribute\"); they were not read as people"
    )
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
    let derived = if reference.starts_with("c-") && first.is_none() {
        " (the file has no reference column, and this row has the same first email address or phone \
         number as an earlier one)"
    } else {
        ""
    };
    Error::Ingest(custody_ingest::Error::at(
        file,
        Some(line),
        None,
        format!(
            "the reference {reference:?} appears again (first at {earlier}){derived}; expected each person once per file"
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
    let contact = contact_codec::decode(&bytes)
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
    crate::ledger::people_vcard::as_table(
        &ledger.dir,
        path,
        |table| {
            Ok(custody_ingest::check_people(
                table,
                &options.maps,
                options.default_category,
                options.date_order,
                &ledger.settings.phone_region,
            )?)
        },
        |mut check, renamer| {
            check.warnings = check
                .warnings
                .iter()
                .map(|warning| renamer.text(warning))
                .collect();
            check.first_refusal = check.first_refusal.map(|refusal| renamer.text(&refusal));
            for column in &mut check.columns {
                column.first_invalid_line = column.first_invalid_line.map(|line| renamer.line(line));
            }
            check.without_identifier_lines = check
                .without_identifier_lines
                .iter()
                .map(|line| renamer.line(*line))
                .collect();
            check
        },
    )
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
