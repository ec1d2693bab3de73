//! Letters to people who cannot be emailed, in SQLite: who needs one, and when their letter was
//! printed (in which batch) and posted; and the people an incident's messages in one state cover.

use rusqlite::{Connection, params};

use custody_core::{Instant, PersonId, PersonSet};

use super::audit;
use super::incidents::optional;
use crate::AuditSigner;
use crate::encoding::unpack_people;
use crate::error::{Error, Result};
use crate::types::{AuditDraft, LetterBatchRow, LetterRow, OutboxState};

/// The people of an incident who need or were printed a letter, by person.
pub(super) fn letters(connection: &Connection, incident: i64) -> Result<Vec<LetterRow>> {
    let mut statement = connection.prepare_cached(
        "SELECT person, needed, printed_at, batch, posted_at FROM notice_letters WHERE incident = ?1 \
         ORDER BY person",
    )?;
    let rows = statement.query_map([incident], |row| {
        Ok(LetterRow {
            person: row.get(0)?,
            needed: row.get::<_, i64>(1)? != 0,
            printed_at: optional(row.get(2)?)?,
            batch: row.get(3)?,
            posted_at: optional(row.get(4)?)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Records letters as printed, in one audited transaction: `(people, at, batch, needed)`.
pub(super) fn printed(
    connection: &mut Connection,
    incident: i64,
    (people, at, batch, needed): (&[PersonId], Instant, &str, bool),
    mut draft: AuditDraft,
    signer: &dyn AuditSigner,
) -> Result<()> {
    let transaction = connection.transaction()?;
    {
        let mut upsert = transaction.prepare_cached(
            "INSERT INTO notice_letters (incident, person, needed, printed_at, batch) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (incident, person) DO UPDATE SET printed_at = excluded.printed_at, \
             batch = excluded.batch, needed = max(needed, excluded.needed) WHERE posted_at IS NULL",
        )?;
        let mut member = transaction.prepare_cached(
            "INSERT OR IGNORE INTO letter_batch_people (incident, batch, person, printed_at) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for person in people {
            upsert.execute(params![
                incident,
                person,
                i64::from(needed),
                at.unix_seconds(),
                batch
            ])?;
            member.execute(params![incident, batch, person, at.unix_seconds()])?;
        }
    }
    draft.subject = format!("incident:{incident}");
    audit::append(&transaction, draft, signer)?;
    transaction.commit()?;
    Ok(())
}

/// Records the letters of `batch` not yet posted as posted at `at`, in one audited transaction;
/// a batch with none waiting is refused and nothing is written.
pub(super) fn posted(
    connection: &mut Connection,
    incident: i64,
    batch: &str,
    at: Instant,
    mut draft: AuditDraft,
    signer: &dyn AuditSigner,
) -> Result<u64> {
    let transaction = connection.transaction()?;
    let changed = transaction.execute(
        "UPDATE notice_letters SET posted_at = ?3 WHERE incident = ?1 AND posted_at IS NULL \
         AND person IN (SELECT person FROM letter_batch_people WHERE incident = ?1 AND batch = ?2)",
        params![incident, batch, at.unix_seconds()],
    )?;
    if changed == 0 {
        return Err(Error::Conflict(format!(
            "no letter of batch {batch} is waiting to be posted"
        )));
    }
    draft.subject = format!("incident:{incident}");
    if let serde_json::Value::Object(details) = &mut draft.details {
        details.insert("letters".to_owned(), changed.into());
    }
    audit::append(&transaction, draft, signer)?;
    transaction.commit()?;
    Ok(changed as u64)
}

/// An incident's printed batches, oldest first.
pub(super) fn batches(connection: &Connection, incident: i64) -> Result<Vec<LetterBatchRow>> {
    let mut statement = connection.prepare_cached(
        "SELECT b.batch, MIN(b.printed_at), COUNT(*), SUM(n.posted_at IS NULL) \
         FROM letter_batch_people b JOIN notice_letters n ON n.incident = b.incident AND n.person = b.person \
         WHERE b.incident = ?1 GROUP BY b.batch ORDER BY MIN(b.printed_at), b.batch",
    )?;
    let rows = statement.query_map([incident], |row| {
        Ok(LetterBatchRow {
            batch: row.get(0)?,
            printed_at: super::incidents::instant(row.get(1)?)?,
            letters: row.get::<_, i64>(2)?.unsigned_abs(),
            waiting: row.get::<_, i64>(3)?.unsigned_abs(),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The people an incident's messages in `state` cover.
pub(super) fn outbox_people(connection: &Connection, incident: i64, state: OutboxState) -> Result<PersonSet> {
    let mut statement =
        connection.prepare_cached("SELECT people FROM outbox WHERE incident = ?1 AND state = ?2")?;
    let mut rows = statement.query(params![incident, state.as_str()])?;
    let mut set = PersonSet::new();
    while let Some(row) = rows.next()? {
        let packed: Vec<u8> = row.get(0)?;
        set.extend(unpack_people(&packed));
    }
    Ok(set)
}
