//! People in SQLite: the bulk upsert of an import, lookups by reference and by identifier hash,
//! and the people a standing feed covers.

use rusqlite::{Connection, OptionalExtension, Row, ToSql, params};

use custody_core::{
    Day, FeedWindow, IdentifierKind, PersonCategory, PersonId, PersonSet, PersonStatus, parse_day,
};

use super::{INDEXES, audit};
use crate::error::{Error, Result};
use crate::types::{AuditDraft, ImportCounts, NewPerson, PersonRecord};
use crate::{AuditSigner, PersonRows};

const DROP_INDEXES: &str = "
DROP INDEX IF EXISTS people_h_email;
DROP INDEX IF EXISTS people_h_email_canonical;
DROP INDEX IF EXISTS people_h_phone;
DROP INDEX IF EXISTS people_h_name_postcode;
DROP INDEX IF EXISTS people_h_name_dob;
DROP INDEX IF EXISTS people_feed;
DROP INDEX IF EXISTS people_canary;
";

fn identifier_column(kind: IdentifierKind) -> &'static str {
    match kind {
        IdentifierKind::EmailStrict => "h_email",
        IdentifierKind::EmailCanonical => "h_email_canonical",
        IdentifierKind::Phone => "h_phone",
        IdentifierKind::NamePostcode => "h_name_postcode",
        IdentifierKind::NameDateOfBirth => "h_name_dob",
    }
}

fn hash_of(person: &NewPerson, kind: IdentifierKind) -> Option<&[u8]> {
    person
        .identifiers
        .iter()
        .find(|(candidate, _)| *candidate == kind)
        .map(|(_, hash)| hash.as_slice())
}

/// Inserts or updates every person in one transaction; a failing row rolls everything back.
pub(super) fn import(
    connection: &mut Connection,
    rows: PersonRows<'_>,
    mut draft: AuditDraft,
    signer: &dyn AuditSigner,
) -> Result<ImportCounts> {
    let transaction = connection.transaction()?;
    transaction.execute("INSERT INTO imports (at) VALUES (?1)", [draft.at.unix_seconds()])?;
    let batch = transaction.last_insert_rowid();
    let empty: bool =
        transaction.query_row("SELECT NOT EXISTS (SELECT 1 FROM people)", [], |row| row.get(0))?;
    if empty {
        transaction.execute_batch(DROP_INDEXES)?;
    }
    let mut counts = ImportCounts::default();
    {
        let mut select = transaction.prepare("SELECT id, import_batch FROM people WHERE ref = ?1")?;
        let mut insert = transaction.prepare(
            "INSERT INTO people (ref, category, status, joined_on, left_on, country, contact, import_batch, \
             h_email, h_email_canonical, h_phone, h_name_postcode, h_name_dob) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?;
        let mut update = transaction.prepare(
            "UPDATE people SET category = ?2, status = ?3, joined_on = ?4, left_on = ?5, country = ?6, contact = ?7, \
             import_batch = ?8, h_email = ?9, h_email_canonical = ?10, h_phone = ?11, h_name_postcode = ?12, \
             h_name_dob = ?13 WHERE id = ?1",
        )?;
        for row in rows {
            let person = row.map_err(Error::Aborted)?;
            let existing: Option<(i64, i64)> = if empty {
                None
            } else {
                select
                    .query_row([&person.reference], |row| Ok((row.get(0)?, row.get(1)?)))
                    .optional()?
            };
            let joined = person.joined_on.map(Day::to_iso);
            let left = person.left_on.map(Day::to_iso);
            let values: [&dyn ToSql; 12] = [
                &person.category.as_str(),
                &person.status.as_str(),
                &joined,
                &left,
                &person.country,
                &person.contact,
                &batch,
                &hash_of(&person, IdentifierKind::EmailStrict),
                &hash_of(&person, IdentifierKind::EmailCanonical),
                &hash_of(&person, IdentifierKind::Phone),
                &hash_of(&person, IdentifierKind::NamePostcode),
                &hash_of(&person, IdentifierKind::NameDateOfBirth),
            ];
            match existing {
                Some((_, seen_in)) if seen_in == batch => {
                    return Err(Error::DuplicateReference {
                        reference: person.reference,
                        line: person.line,
                    });
                }
                Some((id, _)) => {
                    let mut bound: Vec<&dyn ToSql> = vec![&id];
                    bound.extend(values);
                    update.execute(bound.as_slice())?;
                    counts.updated += 1;
                }
                None => {
                    let mut bound: Vec<&dyn ToSql> = vec![&person.reference];
                    bound.extend(values);
                    match insert.execute(bound.as_slice()) {
                        Ok(_) => counts.inserted += 1,
                        Err(rusqlite::Error::SqliteFailure(failure, _))
                            if failure.code == rusqlite::ErrorCode::ConstraintViolation =>
                        {
                            return Err(Error::DuplicateReference {
                                reference: person.reference,
                                line: person.line,
                            });
                        }
                        Err(error) => return Err(error.into()),
                    }
                }
            }
        }
    }
    if empty {
        transaction.execute_batch(INDEXES)?;
    }
    if let serde_json::Value::Object(details) = &mut draft.details {
        details.insert("inserted".into(), counts.inserted.into());
        details.insert("updated".into(), counts.updated.into());
    }
    audit::append(&transaction, draft, signer)?;
    transaction.commit()?;
    Ok(counts)
}

const PERSON_COLUMNS: &str =
    "SELECT id, ref, category, status, joined_on, left_on, country, contact, canary_share FROM people";

fn day(text: Option<String>) -> rusqlite::Result<Option<Day>> {
    text.map(|text| parse_day(&text).map_err(|error| corrupt(error.to_string())))
        .transpose()
}

fn corrupt(message: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, message.into())
}

fn person(row: &Row<'_>) -> rusqlite::Result<PersonRecord> {
    let category: String = row.get(2)?;
    let status: String = row.get(3)?;
    Ok(PersonRecord {
        id: row.get(0)?,
        reference: row.get(1)?,
        category: PersonCategory::from_stable(&category).map_err(|error| corrupt(error.to_string()))?,
        status: PersonStatus::from_stable(&status).map_err(|error| corrupt(error.to_string()))?,
        joined_on: day(row.get(4)?)?,
        left_on: day(row.get(5)?)?,
        country: row.get(6)?,
        contact: row.get(7)?,
        canary_share: row.get(8)?,
    })
}

pub(super) fn by_column(
    connection: &Connection,
    column: &str,
    value: &dyn ToSql,
) -> Result<Option<PersonRecord>> {
    let mut statement = connection.prepare_cached(&format!("{PERSON_COLUMNS} WHERE {column} = ?1"))?;
    Ok(statement.query_row([value], person).optional()?)
}

pub(super) fn by_identifier(
    connection: &Connection,
    kind: IdentifierKind,
    hash: &[u8],
) -> Result<Vec<PersonId>> {
    let column = identifier_column(kind);
    let mut statement =
        connection.prepare_cached(&format!("SELECT id FROM people WHERE {column} = ?1 ORDER BY id"))?;
    let ids = statement.query_map([hash], |row| row.get(0))?;
    Ok(ids.collect::<rusqlite::Result<Vec<PersonId>>>()?)
}

pub(super) fn references(connection: &Connection, set: &PersonSet) -> Result<Vec<String>> {
    let mut statement = connection.prepare_cached("SELECT ref FROM people WHERE id = ?1")?;
    let mut out = Vec::with_capacity(set.len() as usize);
    for id in set {
        if let Some(reference) = statement.query_row([id], |row| row.get(0)).optional()? {
            out.push(reference);
        }
    }
    Ok(out)
}

pub(super) fn counts(connection: &Connection) -> Result<Vec<(PersonCategory, PersonStatus, u64)>> {
    let mut statement = connection.prepare(
        "SELECT category, status, count(*) FROM people WHERE canary_share IS NULL GROUP BY category, status",
    )?;
    let rows = statement.query_map([], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, i64>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (category, status, count) = row?;
        let category =
            PersonCategory::from_stable(&category).map_err(|error| Error::Corrupt(error.to_string()))?;
        let status = PersonStatus::from_stable(&status).map_err(|error| Error::Corrupt(error.to_string()))?;
        out.push((category, status, count as u64));
    }
    Ok(out)
}

pub(super) fn feed(
    connection: &Connection,
    audience: &[PersonCategory],
    window: FeedWindow,
) -> Result<PersonSet> {
    let mut statement = connection.prepare_cached(
        "SELECT id FROM people WHERE canary_share IS NULL AND category = ?1 \
         AND (joined_on IS NULL OR joined_on <= ?2) AND (left_on IS NULL OR left_on >= ?3)",
    )?;
    let mut set = PersonSet::new();
    let joined_by = window.joined_by.to_iso();
    let not_left_before = window.not_left_before.to_iso();
    for category in audience {
        let ids = statement.query_map(params![category.as_str(), joined_by, not_left_before], |row| {
            row.get::<_, u32>(0)
        })?;
        for id in ids {
            set.insert(id?);
        }
    }
    Ok(set)
}
