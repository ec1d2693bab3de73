//! People in SQLite: the bulk upsert of an import, lookups by reference and by identifier hash,
//! and the people a standing feed covers.
//!
//! An import into an empty table takes a fast path: rows are appended in id order, identifier
//! pairs are collected, sorted in memory and appended to the `identifiers` B-tree in key order,
//! and the people indexes are built by one sort each at the end. An import into a populated
//! table updates in place and touches contacts and identifiers only where they changed.

use custody_core::ShareId;
use rusqlite::{Connection, OptionalExtension, Row, ToSql, Transaction, params};

use custody_core::{Day, IdentifierKind, PersonCategory, PersonId, PersonSet, PersonStatus, parse_day};

use super::people_bulk::Bulk;
use super::{audit, feeds};
use crate::encoding::{
    KNOWN_PERSON_COLUMNS, KnownPerson, identifiers_of_kinds, person_id, unpack_identifiers,
};
use crate::error::{Error, Result};
use crate::pairs::{IdentifierPairs, Pair};
use crate::types::{AuditDraft, ImportCounts, ImportRow, NewPerson, PersonRecord, ReadAt};
use crate::{AuditSigner, PersonRows};

/// Visits the identifier hashes of the kinds in `kinds` of every person.
pub(super) fn each_identifier(
    connection: &Connection,
    kinds: &[IdentifierKind],
    visit: &mut dyn FnMut(IdentifierKind, &[u8], PersonId),
) -> Result<()> {
    let tags: Vec<u8> = kinds.iter().map(|kind| kind.tag()).collect();
    let mut statement = connection.prepare("SELECT id, identifiers FROM people")?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let person = person_id(row.get(0)?)?;
        let packed = row.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?;
        for (kind, hash) in identifiers_of_kinds(packed, &tags) {
            visit(kind, hash, person);
        }
    }
    Ok(())
}

/// Inserts one new person, its contact and its identifiers, returning its id. Shared by imports
/// into a populated store and canaries.
pub(super) fn insert(
    transaction: &Transaction<'_>,
    person: &NewPerson,
    batch: i64,
    canary_share: Option<i64>,
) -> Result<PersonId> {
    let mut insert = transaction.prepare_cached(
        "INSERT INTO people (ref, category, status, joined_on, left_on, country, canary_share, import_batch, \
         identifiers, contact_digest, source_digest, region) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    let inserted = insert.execute(params![
        person.reference,
        person.category.as_str(),
        person.status.as_str(),
        person.joined_on.map(Day::to_iso),
        person.left_on.map(Day::to_iso),
        person.country,
        canary_share,
        batch,
        person.packed_identifiers(),
        person.contact_digest.as_ref().map(|digest| digest.as_slice()),
        person.source_digest.as_ref().map(|digest| digest.as_slice()),
        person.region,
    ]);
    match inserted {
        Err(rusqlite::Error::SqliteFailure(failure, _))
            if failure.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            return Err(Error::DuplicateReference {
                reference: person.reference.clone(),
                line: person.line,
            });
        }
        other => {
            other?;
        }
    }
    let id = person_id(transaction.last_insert_rowid())?;
    if let Some(sealed) = &person.contact {
        let mut contact =
            transaction.prepare_cached("INSERT INTO contacts (person, sealed) VALUES (?1, ?2)")?;
        contact.execute(params![id, sealed])?;
    }
    let mut identifier =
        transaction.prepare_cached("INSERT OR IGNORE INTO identifiers (hash, person) VALUES (?1, ?2)")?;
    for (_, hash) in &person.identifiers {
        identifier.execute(params![hash.as_slice(), id])?;
    }
    Ok(id)
}

/// Updates a known person in place; contacts and identifiers are rewritten only if changed.
/// Returns whether anything but the source digest changed.
fn update(transaction: &Transaction<'_>, old: &KnownPerson, person: &NewPerson, batch: i64) -> Result<bool> {
    let id = old.id;
    let merged = old.merged(person);
    let digest = person.source_digest.as_ref().map(|digest| digest.as_slice());
    if merged.changes_nothing {
        if merged.source_digest_changed {
            transaction
                .prepare_cached("UPDATE people SET source_digest = ?2 WHERE id = ?1")?
                .execute(params![id, digest])?;
        }
        return Ok(false);
    }
    let mut update = transaction.prepare_cached(
        "UPDATE people SET category = ?2, status = ?3, joined_on = ?4, left_on = ?5, country = ?6, import_batch = ?7, \
         identifiers = ?8, contact_digest = ?9, source_digest = ?10, region = ?11 WHERE id = ?1",
    )?;
    update.execute(params![
        id,
        person.category.as_str(),
        merged.status,
        merged.joined_on,
        merged.left_on,
        merged.country,
        batch,
        merged.identifiers,
        person.contact_digest.as_ref().map(|digest| digest.as_slice()),
        digest,
        merged.region,
    ])?;
    if merged.contact_changed {
        transaction
            .prepare_cached("DELETE FROM contacts WHERE person = ?1")?
            .execute([id])?;
        if let Some(sealed) = &person.contact {
            transaction
                .prepare_cached("INSERT INTO contacts (person, sealed) VALUES (?1, ?2)")?
                .execute(params![id, sealed])?;
        }
    }
    if merged.identifiers_changed {
        let mut delete =
            transaction.prepare_cached("DELETE FROM identifiers WHERE hash = ?1 AND person = ?2")?;
        for hash in unpack_identifiers(&old.identifiers) {
            delete.execute(params![hash, id])?;
        }
        let mut insert =
            transaction.prepare_cached("INSERT OR IGNORE INTO identifiers (hash, person) VALUES (?1, ?2)")?;
        for hash in unpack_identifiers(&merged.identifiers) {
            insert.execute(params![hash, id])?;
        }
    }
    Ok(true)
}

/// Inserts or updates every person in one transaction; a failing row rolls everything back.
pub(super) fn import(
    connection: &mut Connection,
    rows: PersonRows<'_>,
    read_at: Option<&ReadAt>,
    mut draft: AuditDraft,
    signer: &dyn AuditSigner,
) -> Result<ImportCounts> {
    let transaction = connection.transaction()?;
    transaction.execute("INSERT INTO imports (at) VALUES (?1)", [draft.at.unix_seconds()])?;
    let batch = transaction.last_insert_rowid();
    let empty: bool =
        transaction.query_row("SELECT NOT EXISTS (SELECT 1 FROM people)", [], |row| row.get(0))?;
    // The rows were made from what the people were when the import began (digests, contact
    // details kept): refused if another import changed them since.
    let generation = crate::generation::read_sqlite(&transaction)?;
    if let Some(read_at) = read_at {
        crate::generation::still(read_at, generation.as_ref())?;
    }
    let mut counts = ImportCounts::default();
    let mut bulk = if empty {
        Some(Bulk::new(&transaction, batch)?)
    } else {
        None
    };
    // The people the file has named so far: a second row for one of them is refused.
    let mut met = PersonSet::new();
    for row in rows {
        let person = match row {
            Ok(ImportRow::Person(person)) => person,
            Ok(ImportRow::Unchanged { line, person }) => {
                if bulk.is_some() {
                    return Err(Error::Corrupt(
                        "a row was found unchanged in an empty people table".to_owned(),
                    ));
                }
                if read_at.is_none() {
                    return Err(crate::generation::unjudged());
                }
                if !met.insert(person) {
                    return Err(twice(&transaction, person, line)?);
                }
                counts.unchanged += 1;
                continue;
            }
            Err(error) => {
                // A duplicate among the people still waiting comes before this fault in the file.
                if let Some(bulk) = &mut bulk {
                    bulk.flush(&transaction)?;
                }
                return Err(Error::Aborted(error));
            }
        };
        if let Some(bulk) = &mut bulk {
            bulk.push(&transaction, person)?;
            counts.inserted += 1;
            continue;
        }
        let existing = transaction
            .prepare_cached(&format!(
                "SELECT {KNOWN_PERSON_COLUMNS} FROM people WHERE ref = ?1"
            ))?
            .query_row([&person.reference], |row| {
                Ok(KnownPerson {
                    id: row.get(0)?,
                    category: row.get(1)?,
                    identifiers: row.get(2)?,
                    contact_digest: row.get(3)?,
                    status: row.get(4)?,
                    joined_on: row.get(5)?,
                    left_on: row.get(6)?,
                    country: row.get(7)?,
                    source_digest: row.get(8)?,
                    region: row.get(9)?,
                })
            })
            .optional()?;
        let id = match existing {
            Some(old) => {
                if !met.contains(old.id) {
                    let changed = update(&transaction, &old, &person, batch)?;
                    *(if changed {
                        &mut counts.updated
                    } else {
                        &mut counts.unchanged
                    }) += 1;
                }
                old.id
            }
            None => {
                counts.inserted += 1;
                insert(&transaction, &person, batch, None)?
            }
        };
        if !met.insert(id) {
            return Err(Error::DuplicateReference {
                reference: person.reference,
                line: person.line,
            });
        }
    }
    let written = counts.inserted + counts.updated > 0;
    if let Some(mut bulk) = bulk {
        bulk.flush(&transaction)?;
        append_identifiers(&transaction, bulk.pairs)?;
        feeds::write(bulk.feed, &transaction)?;
    } else if written {
        feeds::rebuild(&transaction)?;
    }
    if let serde_json::Value::Object(details) = &mut draft.details {
        details.insert("inserted".into(), counts.inserted.into());
        details.insert("updated".into(), counts.updated.into());
        details.insert("unchanged".into(), counts.unchanged.into());
    }
    // The people as a leak is matched against are the same when no row changed: an index
    // built for them stays good.
    // A store without a generation yet (after a migrate or a restore) gets one, so that the
    // index kept beside it can be used from now on.
    if written || generation.is_none() {
        transaction.execute(crate::generation::SET_SQLITE, [crate::generation::fresh()])?;
    }
    audit::append(&transaction, draft, signer)?;
    transaction.commit()?;
    Ok(counts)
}

/// The error for a person the file names a second time on `line`.
fn twice(transaction: &Transaction<'_>, person: PersonId, line: u64) -> Result<Error> {
    let reference: String =
        transaction.query_row("SELECT ref FROM people WHERE id = ?1", [person], |row| row.get(0))?;
    Ok(Error::DuplicateReference { reference, line })
}

/// Every person's source digest, sorted (see `Store::source_digests`).
pub(super) fn source_digests(connection: &Connection) -> Result<Vec<([u8; 16], PersonId)>> {
    let mut statement =
        connection.prepare("SELECT source_digest, id FROM people WHERE source_digest IS NOT NULL")?;
    let mut rows = statement.query([])?;
    let mut digests = Vec::new();
    while let Some(row) = rows.next()? {
        let bytes = row.get_ref(0)?.as_blob().map_err(rusqlite::Error::from)?;
        let digest = <[u8; 16]>::try_from(bytes)
            .map_err(|_| Error::Corrupt("a source digest is not 16 bytes".to_owned()))?;
        digests.push((digest, person_id(row.get(1)?)?));
    }
    digests.sort_unstable();
    Ok(digests)
}

/// Identifier pairs written per statement: one statement per row costs more than the row.
const APPEND_ROWS: usize = 128;

/// Appends identifier pairs in key order, which keeps every B-tree page write sequential.
fn append_identifiers(transaction: &Transaction<'_>, pairs: IdentifierPairs) -> Result<()> {
    let values = vec!["(?, ?)"; APPEND_ROWS].join(", ");
    let mut full = transaction.prepare(&format!("INSERT INTO identifiers (hash, person) VALUES {values}"))?;
    let mut chunk: Vec<Pair> = Vec::with_capacity(APPEND_ROWS);
    pairs.each_sorted(|pair| {
        chunk.push(pair);
        if chunk.len() == APPEND_ROWS {
            let mut bound: Vec<&dyn ToSql> = Vec::with_capacity(APPEND_ROWS * 2);
            for (hash, person) in &chunk {
                bound.push(hash);
                bound.push(person);
            }
            full.execute(bound.as_slice())?;
            chunk.clear();
        }
        Ok(())
    })?;
    let mut single = transaction.prepare("INSERT INTO identifiers (hash, person) VALUES (?1, ?2)")?;
    for (hash, person) in &chunk {
        single.execute(params![hash.as_slice(), person])?;
    }
    Ok(())
}

const PERSON_COLUMNS: &str = "SELECT p.id, p.ref, p.category, p.status, p.joined_on, p.left_on, p.country, c.sealed, \
     p.canary_share, p.region FROM people p LEFT JOIN contacts c ON c.person = p.id";

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
        canary_share: row.get(8).map(|id: Option<i64>| id.map(ShareId::new))?,
        region: row.get(9)?,
    })
}

pub(super) fn by_column(
    connection: &Connection,
    column: &str,
    value: &dyn ToSql,
) -> Result<Option<PersonRecord>> {
    let mut statement = connection.prepare_cached(&format!("{PERSON_COLUMNS} WHERE p.{column} = ?1"))?;
    Ok(statement.query_row([value], person).optional()?)
}

/// People with this identifier hash. The kind is already inside the hash (domain separation),
/// so one lookup serves every kind.
pub(super) fn by_identifier(
    connection: &Connection,
    _kind: IdentifierKind,
    hash: &[u8],
) -> Result<Vec<PersonId>> {
    let mut statement =
        connection.prepare_cached("SELECT person FROM identifiers WHERE hash = ?1 ORDER BY person")?;
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
        "SELECT category, status, count(*) FROM people WHERE canary_share IS NULL GROUP BY category, status \
         ORDER BY category, status",
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

/// Every person's sealed contact details with their reference (canaries left out), in id order.
pub(super) fn each_contact(connection: &Connection, visit: &mut crate::ContactVisitor<'_>) -> Result<()> {
    let mut statement = connection.prepare_cached(
        "SELECT p.id, p.ref, c.sealed FROM contacts c JOIN people p ON p.id = c.person \
         WHERE p.canary_share IS NULL ORDER BY c.person",
    )?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let id: PersonId = row.get(0)?;
        let reference = row.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?;
        let sealed = row.get_ref(2)?.as_blob().map_err(rusqlite::Error::from)?;
        visit(id, reference, sealed)?;
    }
    Ok(())
}

/// A lookup by id costs about as much as reading a dozen rows in a scan: people of a set this
/// close to one another are read in one range scan, the others one lookup each.
const SCAN_GAP: u32 = 12;

/// The sealed contact details of the people of `set` (canaries left out), in id order: each
/// stretch of the set whose ids lie within `SCAN_GAP` of one another is one range scan, a person
/// alone one lookup.
pub(super) fn contacts_of(
    connection: &Connection,
    set: &PersonSet,
    visit: &mut crate::ContactVisitor<'_>,
) -> Result<()> {
    let select = "SELECT p.id, p.ref, c.sealed FROM contacts c JOIN people p ON p.id = c.person \
                  WHERE p.canary_share IS NULL";
    let mut one = connection.prepare_cached(&format!("{select} AND c.person = ?1"))?;
    let mut range = connection.prepare_cached(&format!(
        "{select} AND c.person BETWEEN ?1 AND ?2 ORDER BY c.person"
    ))?;
    let mut visit_row = |row: &rusqlite::Row<'_>| -> Result<()> {
        let id: PersonId = row.get(0)?;
        let reference = row.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?;
        let sealed = row.get_ref(2)?.as_blob().map_err(rusqlite::Error::from)?;
        visit(id, reference, sealed)
    };
    for (first, last) in stretches(set, SCAN_GAP) {
        if first == last {
            let mut rows = one.query([first])?;
            if let Some(row) = rows.next()? {
                visit_row(row)?;
            }
            continue;
        }
        let mut rows = range.query([first, last])?;
        while let Some(row) = rows.next()? {
            let id: PersonId = row.get(0)?;
            if set.contains(id) {
                visit_row(row)?;
            }
        }
    }
    Ok(())
}

/// The set as stretches (first id, last id), in order, each ending where the next id is more
/// than `gap` away.
fn stretches(set: &PersonSet, gap: u32) -> impl Iterator<Item = (PersonId, PersonId)> + '_ {
    let mut ids = set.iter().peekable();
    std::iter::from_fn(move || {
        let first = ids.next()?;
        let mut last = first;
        while let Some(next) = ids.next_if(|next| next - last <= gap) {
            last = next;
        }
        Some((first, last))
    })
}

/// Every person of `set`, in id order, with their sealed contact details, handed to `visit`:
/// one range scan over the ids the set spans, the others skipped.
pub(super) fn each_of(
    connection: &Connection,
    set: &PersonSet,
    visit: &mut dyn FnMut(PersonRecord) -> Result<()>,
) -> Result<()> {
    let (Some(first), Some(last)) = (set.min(), set.max()) else {
        return Ok(());
    };
    let mut statement = connection.prepare_cached(&format!(
        "{PERSON_COLUMNS} WHERE p.id BETWEEN ?1 AND ?2 ORDER BY p.id"
    ))?;
    let mut rows = statement.query([first, last])?;
    while let Some(row) = rows.next()? {
        let id: PersonId = row.get(0)?;
        if set.contains(id) {
            visit(person(row)?)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_is_read_in_stretches_of_close_ids() {
        let set: PersonSet = [1, 2, 14, 27, 40, 100, 200, 205].into_iter().collect();
        let of = |set: &PersonSet, gap| stretches(set, gap).collect::<Vec<_>>();
        assert_eq!(
            of(&set, 12),
            [(1, 14), (27, 27), (40, 40), (100, 100), (200, 205)]
        );
        assert_eq!(of(&set, 13), [(1, 40), (100, 100), (200, 205)]);
        assert!(of(&PersonSet::new(), 12).is_empty());
    }
}
