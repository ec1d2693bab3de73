//! People in PostgreSQL. An import into an empty table streams rows through binary `COPY` in
//! batches (people and their sealed contacts), then the identifier pairs sorted by key, and
//! builds the feed columns on the way; an import into a populated table updates in place,
//! touching contacts and identifiers only where they changed.

use custody_core::ShareId;
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{ToSql, Type};
use postgres::{Row, Transaction};

use custody_core::{Day, IdentifierKind, PersonCategory, PersonId, PersonSet, PersonStatus, parse_day};

use super::Db;
use super::records;
use crate::PersonRows;
use crate::encoding::{
    FeedBuilder, KNOWN_PERSON_COLUMNS, KnownPerson, identifier_kinds as kinds_of, identifiers_of_kinds,
    person_id, unpack_identifiers,
};
use crate::error::{Error, Result};
use crate::pairs::IdentifierPairs;
use crate::types::{AuditDraft, ImportCounts, ImportRow, NewPerson, PersonRecord, ReadAt};

/// Rows per `COPY` batch of an import into an empty store. While the server takes one batch,
/// the workers make the next into their queue (32 batches of 1,024 rows); a batch larger than
/// that queue left the workers waiting on the server and the server on the workers in turn
/// (50,000 rows: 34.6 s at 2M people; 8,192: 28.1 s).
const COPY_ROWS: usize = 8_192;

fn corrupt(message: impl std::fmt::Display) -> Error {
    Error::Corrupt(message.to_string())
}

fn days(person: &NewPerson) -> (Option<String>, Option<String>) {
    (person.joined_on.map(Day::to_iso), person.left_on.map(Day::to_iso))
}

/// Inserts one person (and its contact and identifiers), returning its id: canaries, and the
/// new people of an import into a populated store.
pub(super) fn insert(
    transaction: &mut Transaction<'_>,
    person: &NewPerson,
    batch: i64,
    canary_share: Option<i64>,
) -> Result<PersonId> {
    let (joined, left) = days(person);
    let inserted = transaction.query_opt(
        "INSERT INTO people (ref, category, status, joined_on, left_on, country, canary_share, import_batch, \
         identifiers, contact_digest, source_digest, region) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (ref) DO NOTHING RETURNING id",
        &[
            &person.reference,
            &person.category.as_str(),
            &person.status.as_str(),
            &joined,
            &left,
            &person.country,
            &canary_share,
            &batch,
            &person.packed_identifiers(),
            &person.contact_digest.as_ref().map(|digest| digest.as_slice()),
            &person.source_digest.as_ref().map(|digest| digest.as_slice()),
            &person.region,
        ],
    )?;
    // No row came back: the reference was taken.
    let Some(row) = inserted else {
        return Err(Error::DuplicateReference {
            reference: person.reference.clone(),
            line: person.line,
        });
    };
    let id = person_id(row.try_get(0)?)?;
    let id64 = i64::from(id);
    if let Some(sealed) = &person.contact {
        transaction.execute(
            "INSERT INTO contacts (person, sealed) VALUES ($1, $2)",
            &[&id64, sealed],
        )?;
    }
    for (_, hash) in &person.identifiers {
        transaction.execute(
            "INSERT INTO identifiers (hash, person) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&hash.as_slice(), &id64],
        )?;
    }
    Ok(id)
}

/// Updates a known person in place; contacts and identifiers are rewritten only if changed.
/// Returns whether anything but the source digest changed.
fn update(
    transaction: &mut Transaction<'_>,
    old: &KnownPerson,
    person: &NewPerson,
    batch: i64,
) -> Result<bool> {
    let id = i64::from(old.id);
    let merged = old.merged(person);
    let digest = person.source_digest.as_ref().map(|digest| digest.as_slice());
    if merged.changes_nothing {
        if merged.source_digest_changed {
            transaction.execute(
                "UPDATE people SET source_digest = $2 WHERE id = $1",
                &[&id, &digest],
            )?;
        }
        return Ok(false);
    }
    transaction.execute(
        "UPDATE people SET category = $2, status = $3, joined_on = $4, left_on = $5, country = $6, \
         import_batch = $7, identifiers = $8, contact_digest = $9, source_digest = $10, region = $11 WHERE id = $1",
        &[
            &id,
            &person.category.as_str(),
            &merged.status,
            &merged.joined_on,
            &merged.left_on,
            &merged.country,
            &batch,
            &merged.identifiers,
            &person.contact_digest.as_ref().map(|digest| digest.as_slice()),
            &digest,
            &merged.region,
        ],
    )?;
    if merged.contact_changed {
        transaction.execute("DELETE FROM contacts WHERE person = $1", &[&id])?;
        if let Some(sealed) = &person.contact {
            transaction.execute(
                "INSERT INTO contacts (person, sealed) VALUES ($1, $2)",
                &[&id, sealed],
            )?;
        }
    }
    if merged.identifiers_changed {
        for hash in unpack_identifiers(&old.identifiers) {
            transaction.execute(
                "DELETE FROM identifiers WHERE hash = $1 AND person = $2",
                &[&hash, &id],
            )?;
        }
        for hash in unpack_identifiers(&merged.identifiers) {
            transaction.execute(
                "INSERT INTO identifiers (hash, person) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&hash, &id],
            )?;
        }
    }
    Ok(true)
}

fn existing(transaction: &mut Transaction<'_>, reference: &str) -> Result<Option<KnownPerson>> {
    let row = transaction.query_opt(
        &format!("SELECT {KNOWN_PERSON_COLUMNS} FROM people WHERE ref = $1"),
        &[&reference],
    )?;
    row.map(|row| -> Result<KnownPerson> {
        Ok(KnownPerson {
            id: person_id(row.try_get(0)?)?,
            category: row.try_get(1)?,
            identifiers: row.try_get(2)?,
            contact_digest: row.try_get(3)?,
            status: row.try_get(4)?,
            joined_on: row.try_get(5)?,
            left_on: row.try_get(6)?,
            country: row.try_get(7)?,
            source_digest: row.try_get(8)?,
            region: row.try_get(9)?,
        })
    })
    .transpose()
}

/// The error for a person the file names a second time on `line`.
fn twice(transaction: &mut Transaction<'_>, person: PersonId, line: u64) -> Result<Error> {
    let reference: String = transaction
        .query_one("SELECT ref FROM people WHERE id = $1", &[&i64::from(person)])?
        .try_get(0)?;
    Ok(Error::DuplicateReference { reference, line })
}

/// Every person's source digest, sorted (see `Store::source_digests`).
pub(super) fn source_digests(client: &mut Db<'_>) -> Result<Vec<([u8; 16], PersonId)>> {
    let rows = client.query(
        "SELECT source_digest, id FROM people WHERE source_digest IS NOT NULL",
        &[],
    )?;
    let mut digests = Vec::with_capacity(rows.len());
    for row in rows {
        let bytes: &[u8] = row.try_get(0)?;
        let digest = <[u8; 16]>::try_from(bytes).map_err(|_| corrupt("a source digest is not 16 bytes"))?;
        digests.push((digest, person_id(row.try_get(1)?)?));
    }
    digests.sort_unstable();
    Ok(digests)
}

/// Inserts or updates every person, in the caller's transaction (which holds the write lock).
pub(super) fn import(
    transaction: &mut Transaction<'_>,
    rows: PersonRows<'_>,
    read_at: Option<&ReadAt>,
    draft: &mut AuditDraft,
) -> Result<ImportCounts> {
    let batch: i64 = transaction
        .query_one(
            "INSERT INTO imports (at) VALUES ($1) RETURNING id",
            &[&draft.at.unix_seconds()],
        )?
        .try_get(0)?;
    let empty: bool = transaction
        .query_one("SELECT NOT EXISTS (SELECT 1 FROM people)", &[])?
        .try_get(0)?;
    // The rows were made from what the people were when the import began (digests, contact
    // details kept): refused if another import changed them since.
    let generation: Option<String> = transaction
        .query_opt(crate::generation::GET_POSTGRES, &[&crate::generation::KEY])?
        .map(|row| row.try_get(0))
        .transpose()?;
    if let Some(read_at) = read_at {
        crate::generation::still(read_at, generation.as_ref())?;
    }
    let counts = if empty {
        copy_into_empty(transaction, rows, batch)?
    } else {
        let mut counts = ImportCounts::default();
        // The people the file has named so far: a second row for one of them is refused.
        let mut met = PersonSet::new();
        for row in rows {
            let person = match row.map_err(Error::Aborted)? {
                ImportRow::Person(person) => person,
                ImportRow::Unchanged { line, person } => {
                    if read_at.is_none() {
                        return Err(crate::generation::unjudged());
                    }
                    if !met.insert(person) {
                        return Err(twice(transaction, person, line)?);
                    }
                    counts.unchanged += 1;
                    continue;
                }
            };
            let id = match existing(transaction, &person.reference)? {
                Some(old) => {
                    if !met.contains(old.id) {
                        let changed = update(transaction, &old, &person, batch)?;
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
                    insert(transaction, &person, batch, None)?
                }
            };
            if !met.insert(id) {
                return Err(Error::DuplicateReference {
                    reference: person.reference,
                    line: person.line,
                });
            }
        }
        if counts.inserted + counts.updated > 0 {
            records::rebuild_feeds(transaction)?;
        }
        counts
    };
    let written = counts.inserted + counts.updated > 0;
    // The planner's statistics follow the import (a table filled by COPY has none until
    // autovacuum comes by), so that lookups use their indexes from the first question on.
    if written {
        transaction.batch_execute("ANALYZE people, contacts, identifiers")?;
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
        transaction.execute(crate::generation::SET_POSTGRES, &[&crate::generation::fresh()])?;
    }
    Ok(counts)
}

/// Indexes and constraints an import into an empty store builds after its rows are in (one sort
/// each, instead of a B-tree insertion, a foreign-key check and its WAL per row): name, drop,
/// add.
const BUILT_AFTER: [(&str, &str, &str); 3] = [
    ("people", "people_ref_key", "UNIQUE (ref)"),
    ("identifiers", "identifiers_pkey", "PRIMARY KEY (hash, person)"),
    (
        "contacts",
        "contacts_person_fkey",
        "FOREIGN KEY (person) REFERENCES people(id)",
    ),
];

/// The people of an import into an empty store, in batches through binary `COPY`; ids are
/// given here, from 1, and the identity moved past them at the end. The unique index on
/// references is built at the end: a reference given twice is found then, and named with both
/// its lines.
fn copy_into_empty(
    transaction: &mut Transaction<'_>,
    rows: PersonRows<'_>,
    batch: i64,
) -> Result<ImportCounts> {
    transaction.batch_execute("SET LOCAL maintenance_work_mem = '512MB'")?;
    for (table, name, _) in BUILT_AFTER {
        transaction.batch_execute(&format!("ALTER TABLE {table} DROP CONSTRAINT {name}"))?;
    }
    let mut counts = ImportCounts::default();
    let mut pairs = IdentifierPairs::default();
    // Each person's line in the file, by id, to name a repeated reference's lines.
    let mut lines: Vec<u64> = Vec::new();
    let mut feed = FeedBuilder::default();
    let mut next: PersonId = 1;
    let mut pending: Vec<NewPerson> = Vec::with_capacity(COPY_ROWS);
    let mut rows = rows.peekable();
    while let Some(row) = rows.next() {
        let person = match row {
            Ok(ImportRow::Person(person)) => person,
            Ok(ImportRow::Unchanged { .. }) => {
                return Err(corrupt("a row was found unchanged in an empty people table"));
            }
            Err(error) => {
                // A reference given twice before this fault comes first in the file.
                copy_people(transaction, &pending, next - pending.len() as u32, batch)?;
                return Err(repeated_reference(transaction, &lines)?.unwrap_or(Error::Aborted(error)));
            }
        };
        feed.push_person(next, &person);
        pairs.push_person(&person.identifiers, next);
        lines.push(person.line);
        next = next
            .checked_add(1)
            .ok_or_else(|| corrupt("person ids have run past 2^32"))?;
        pending.push(person);
        if pending.len() == COPY_ROWS || rows.peek().is_none() {
            let first = next - pending.len() as u32;
            copy_people(transaction, &pending, first, batch)?;
            counts.inserted += pending.len() as u64;
            pending.clear();
        }
    }
    let writer = transaction.copy_in("COPY identifiers (hash, person) FROM STDIN (FORMAT binary)")?;
    let mut writer = BinaryCopyInWriter::new(writer, &[Type::BYTEA, Type::INT8]);
    pairs.each_sorted(|(hash, person)| {
        writer.write(&[&hash.as_slice(), &i64::from(person)])?;
        Ok(())
    })?;
    writer.finish()?;
    build_after(transaction, &lines)?;
    transaction.execute(
        "SELECT setval(pg_get_serial_sequence('people', 'id'), GREATEST((SELECT max(id) FROM people), 1))",
        &[],
    )?;
    records::write_feeds(transaction, feed)?;
    Ok(counts)
}

/// Builds the indexes and constraints dropped for the load; a reference given twice is named
/// with its second line.
fn build_after(transaction: &mut Transaction<'_>, lines: &[u64]) -> Result<()> {
    for (table, name, definition) in BUILT_AFTER {
        let mut attempt = transaction.savepoint("custody_build_after")?;
        match attempt.batch_execute(&format!("ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")) {
            Ok(()) => attempt.commit()?,
            Err(error) if error.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION) => {
                attempt.rollback()?;
                return Err(repeated_reference(transaction, lines)?.unwrap_or_else(|| {
                    corrupt("a reference's uniqueness failed, and no reference is there twice")
                }));
            }
            Err(error) => return Err(error.into()),
        }
    }
    Ok(())
}

/// The first reference given twice among the people loaded (ids from 1, `lines` by id), named
/// with its second line; `None` when every reference is there once.
fn repeated_reference(transaction: &mut Transaction<'_>, lines: &[u64]) -> Result<Option<Error>> {
    let Some(row) = transaction.query_opt(
        "SELECT ref, (array_agg(id ORDER BY id))[2] AS second FROM people GROUP BY ref \
         HAVING count(*) > 1 ORDER BY second LIMIT 1",
        &[],
    )?
    else {
        return Ok(None);
    };
    let id: i64 = row.try_get(1)?;
    let line = usize::try_from(id - 1)
        .ok()
        .and_then(|index| lines.get(index))
        .copied()
        .unwrap_or(0);
    Ok(Some(Error::DuplicateReference {
        reference: row.try_get(0)?,
        line,
    }))
}

/// One batch of new people and their contacts.
fn copy_people(
    transaction: &mut Transaction<'_>,
    people: &[NewPerson],
    first: PersonId,
    batch: i64,
) -> Result<()> {
    let writer = transaction.copy_in(
        "COPY people (id, ref, category, status, joined_on, left_on, country, import_batch, identifiers, \
         contact_digest, source_digest, region) FROM STDIN (FORMAT binary)",
    )?;
    let types = [
        Type::INT8,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::INT8,
        Type::BYTEA,
        Type::BYTEA,
        Type::BYTEA,
        Type::TEXT,
    ];
    let mut writer = BinaryCopyInWriter::new(writer, &types);
    for (offset, person) in people.iter().enumerate() {
        let (joined, left) = days(person);
        let id = i64::from(first) + offset as i64;
        let digest = person.contact_digest.as_ref().map(|digest| digest.as_slice());
        let source = person.source_digest.as_ref().map(|digest| digest.as_slice());
        let values: [&(dyn ToSql + Sync); 12] = [
            &id,
            &person.reference,
            &person.category.as_str(),
            &person.status.as_str(),
            &joined,
            &left,
            &person.country,
            &batch,
            &person.packed_identifiers(),
            &digest,
            &source,
            &person.region,
        ];
        writer.write(&values)?;
    }
    writer.finish()?;
    let writer = transaction.copy_in("COPY contacts (person, sealed) FROM STDIN (FORMAT binary)")?;
    let mut writer = BinaryCopyInWriter::new(writer, &[Type::INT8, Type::BYTEA]);
    for (offset, person) in people.iter().enumerate() {
        if let Some(sealed) = &person.contact {
            let id = i64::from(first) + offset as i64;
            writer.write(&[&id, sealed])?;
        }
    }
    writer.finish()?;
    Ok(())
}

const PERSON_COLUMNS: &str = "SELECT p.id, p.ref, p.category, p.status, p.joined_on, p.left_on, p.country, \
     c.sealed, p.canary_share, p.region FROM people p LEFT JOIN contacts c ON c.person = p.id";

fn day(text: Option<String>) -> Result<Option<Day>> {
    text.map(|text| parse_day(&text).map_err(corrupt)).transpose()
}

fn person(row: &Row) -> Result<PersonRecord> {
    let category: &str = row.try_get(2)?;
    let status: &str = row.try_get(3)?;
    Ok(PersonRecord {
        id: person_id(row.try_get(0)?)?,
        reference: row.try_get(1)?,
        category: PersonCategory::from_stable(category).map_err(corrupt)?,
        status: PersonStatus::from_stable(status).map_err(corrupt)?,
        joined_on: day(row.try_get(4)?)?,
        left_on: day(row.try_get(5)?)?,
        country: row.try_get(6)?,
        contact: row.try_get(7)?,
        canary_share: row.try_get(8).map(|id: Option<i64>| id.map(ShareId::new))?,
        region: row.try_get(9)?,
    })
}

pub(super) fn by_reference(client: &mut Db<'_>, reference: &str) -> Result<Option<PersonRecord>> {
    let row = client.query_opt(&format!("{PERSON_COLUMNS} WHERE p.ref = $1"), &[&reference])?;
    row.as_ref().map(person).transpose()
}

pub(super) fn by_id(client: &mut Db<'_>, id: PersonId) -> Result<Option<PersonRecord>> {
    let row = client.query_opt(&format!("{PERSON_COLUMNS} WHERE p.id = $1"), &[&i64::from(id)])?;
    row.as_ref().map(person).transpose()
}

pub(super) fn id_by_reference(client: &mut Db<'_>, reference: &str) -> Result<Option<PersonId>> {
    let row = client.query_opt("SELECT id FROM people WHERE ref = $1", &[&reference])?;
    row.map(|row| person_id(row.try_get(0)?)).transpose()
}

/// People with this identifier hash (the kind is inside the hash).
pub(super) fn by_identifier(client: &mut Db<'_>, hash: &[u8]) -> Result<Vec<PersonId>> {
    let rows = client.query(
        "SELECT person FROM identifiers WHERE hash = $1 ORDER BY person",
        &[&hash],
    )?;
    rows.iter().map(|row| person_id(row.try_get(0)?)).collect()
}

/// The ids of many references, in their order, one query per batch.
pub(super) fn ids_by_references(client: &mut Db<'_>, references: &[String]) -> Result<Vec<Option<PersonId>>> {
    let mut found = std::collections::HashMap::with_capacity(references.len());
    for batch in references.chunks(IDS_PER_QUERY) {
        for row in client.query("SELECT ref, id FROM people WHERE ref = ANY($1)", &[&batch])? {
            let reference: String = row.try_get(0)?;
            found.insert(reference, person_id(row.try_get(1)?)?);
        }
    }
    Ok(references
        .iter()
        .map(|reference| found.get(reference).copied())
        .collect())
}

/// The people of many identifier hashes, in their order, one query per batch.
pub(super) fn by_identifiers(client: &mut Db<'_>, hashes: &[[u8; 16]]) -> Result<Vec<Vec<PersonId>>> {
    let mut found: std::collections::HashMap<[u8; 16], Vec<PersonId>> = std::collections::HashMap::new();
    for batch in hashes.chunks(IDS_PER_QUERY) {
        let values: Vec<&[u8]> = batch.iter().map(<[u8; 16]>::as_slice).collect();
        for row in client.query(
            "SELECT hash, person FROM identifiers WHERE hash = ANY($1) ORDER BY person",
            &[&values],
        )? {
            let hash: &[u8] = row.try_get(0)?;
            let hash: [u8; 16] = hash
                .try_into()
                .map_err(|_| corrupt("an identifier hash of another length"))?;
            found.entry(hash).or_default().push(person_id(row.try_get(1)?)?);
        }
    }
    Ok(hashes
        .iter()
        .map(|hash| found.get(hash).cloned().unwrap_or_default())
        .collect())
}

/// Ids sent per query when a set is read: `id = ANY($1)`.
const IDS_PER_QUERY: usize = 10_000;

fn id_batches(set: &PersonSet) -> impl Iterator<Item = Vec<i64>> + '_ {
    let mut ids = set.iter().map(i64::from).peekable();
    std::iter::from_fn(move || {
        ids.peek()?;
        Some(ids.by_ref().take(IDS_PER_QUERY).collect())
    })
}

pub(super) fn references(client: &mut Db<'_>, set: &PersonSet) -> Result<Vec<String>> {
    let mut out = Vec::with_capacity(set.len() as usize);
    for ids in id_batches(set) {
        for row in client.query("SELECT ref FROM people WHERE id = ANY($1) ORDER BY id", &[&ids])? {
            out.push(row.try_get(0)?);
        }
    }
    Ok(out)
}

/// Every person of `set`, in id order, a batch of ids per query; the store is free while
/// `visit` runs.
pub(super) fn each_of(
    client: &mut Db<'_>,
    set: &PersonSet,
    visit: &mut dyn FnMut(PersonRecord) -> Result<()>,
) -> Result<()> {
    for ids in id_batches(set) {
        let rows = client.query(
            &format!("{PERSON_COLUMNS} WHERE p.id = ANY($1) ORDER BY p.id"),
            &[&ids],
        )?;
        for row in &rows {
            visit(person(row)?)?;
        }
    }
    Ok(())
}

/// Rows read per page when the whole people table is visited.
const PAGE: i64 = 50_000;

/// Every person's sealed contact details with their reference (canaries left out), in id order,
/// a page at a time.
pub(super) fn each_contact(client: &mut Db<'_>, visit: &mut crate::ContactVisitor<'_>) -> Result<()> {
    let mut after = 0i64;
    loop {
        let rows = client.query(
            "SELECT p.id, p.ref, c.sealed FROM contacts c JOIN people p ON p.id = c.person \
             WHERE p.canary_share IS NULL AND c.person > $1 ORDER BY c.person LIMIT $2",
            &[&after, &PAGE],
        )?;
        for row in &rows {
            after = row.try_get(0)?;
            visit(person_id(after)?, row.try_get(1)?, row.try_get(2)?)?;
        }
        if (rows.len() as i64) < PAGE {
            return Ok(());
        }
    }
}

/// The sealed contact details of the people of `set` (canaries left out), in id order.
pub(super) fn contacts_of(
    client: &mut Db<'_>,
    set: &PersonSet,
    visit: &mut crate::ContactVisitor<'_>,
) -> Result<()> {
    for ids in id_batches(set) {
        let rows = client.query(
            "SELECT p.id, p.ref, c.sealed FROM contacts c JOIN people p ON p.id = c.person \
             WHERE p.canary_share IS NULL AND c.person = ANY($1) ORDER BY c.person",
            &[&ids],
        )?;
        for row in &rows {
            visit(person_id(row.try_get(0)?)?, row.try_get(1)?, row.try_get(2)?)?;
        }
    }
    Ok(())
}

/// Visits the identifier hashes of the kinds in `kinds` of every person, a page at a time.
pub(super) fn each_identifier(
    client: &mut Db<'_>,
    kinds: &[IdentifierKind],
    visit: &mut dyn FnMut(IdentifierKind, &[u8], PersonId),
) -> Result<()> {
    let tags: Vec<u8> = kinds.iter().map(|kind| kind.tag()).collect();
    let mut after = 0i64;
    loop {
        let rows = client.query(
            "SELECT id, identifiers FROM people WHERE id > $1 ORDER BY id LIMIT $2",
            &[&after, &PAGE],
        )?;
        for row in &rows {
            after = row.try_get(0)?;
            let person = person_id(after)?;
            for (kind, hash) in identifiers_of_kinds(row.try_get(1)?, &tags) {
                visit(kind, hash, person);
            }
        }
        if (rows.len() as i64) < PAGE {
            return Ok(());
        }
    }
}

pub(super) fn counts(client: &mut Db<'_>) -> Result<Vec<(PersonCategory, PersonStatus, u64)>> {
    let rows = client.query(
        "SELECT category, status, count(*) FROM people WHERE canary_share IS NULL GROUP BY category, status \
         ORDER BY category, status",
        &[],
    )?;
    rows.iter()
        .map(|row| {
            let category = PersonCategory::from_stable(row.try_get(0)?).map_err(corrupt)?;
            let status = PersonStatus::from_stable(row.try_get(1)?).map_err(corrupt)?;
            Ok((category, status, row.try_get::<_, i64>(2)?.unsigned_abs()))
        })
        .collect()
}

pub(super) fn canaries(client: &mut Db<'_>) -> Result<PersonSet> {
    let rows = client.query("SELECT id FROM people WHERE canary_share IS NOT NULL", &[])?;
    let mut set = PersonSet::new();
    for row in rows {
        set.insert(person_id(row.try_get(0)?)?);
    }
    Ok(set)
}

/// The kinds of identifier custody holds (hashed) for a person.
pub(super) fn identifier_kinds(client: &mut Db<'_>, person: PersonId) -> Result<Vec<IdentifierKind>> {
    let row = client.query_opt(
        "SELECT identifiers FROM people WHERE id = $1",
        &[&i64::from(person)],
    )?;
    let packed: Vec<u8> = row.map(|row| row.try_get(0)).transpose()?.unwrap_or_default();
    Ok(kinds_of(&packed))
}
