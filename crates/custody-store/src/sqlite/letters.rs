//! Letters to people who cannot be emailed, in SQLite: who needs one, and when their letter was
//! printed and posted.

use rusqlite::{Connection, params};

use custody_core::{Instant, PersonId};

use super::audit;
use super::incidents::optional;
use crate::AuditSigner;
use crate::error::Result;
use crate::types::{AuditDraft, LetterRow};

/// The people of an incident who need a letter, by person.
pub(super) fn letters(connection: &Connection, incident: i64) -> Result<Vec<LetterRow>> {
    let mut statement = connection.prepare_cached(
        "SELECT person, printed_at, posted_at FROM notice_letters WHERE incident = ?1 ORDER BY person",
    )?;
    let rows = statement.query_map([incident], |row| {
        Ok(LetterRow {
            person: row.get(0)?,
            printed_at: optional(row.get(1)?)?,
            posted_at: optional(row.get(2)?)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Records letters to `people` as printed at `at`, in one audited transaction.
pub(super) fn printed(
    connection: &mut Connection,
    incident: i64,
    people: &[PersonId],
    at: Instant,
    mut draft: AuditDraft,
    signer: &dyn AuditSigner,
) -> Result<()> {
    let transaction = connection.transaction()?;
    {
        let mut upsert = transaction.prepare_cached(
            "INSERT INTO notice_letters (incident, person, printed_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (incident, person) DO UPDATE SET printed_at = excluded.printed_at \
             WHERE posted_at IS NULL",
        )?;
        for person in people {
            upsert.execute(params![incident, person, at.unix_seconds()])?;
        }
    }
    draft.subject = format!("incident:{incident}");
    audit::append(&transaction, draft, signer)?;
    transaction.commit()?;
    Ok(())
}

/// Records every printed letter not yet posted as posted at `at`, in one audited transaction.
pub(super) fn posted(
    connection: &mut Connection,
    incident: i64,
    at: Instant,
    mut draft: AuditDraft,
    signer: &dyn AuditSigner,
) -> Result<u64> {
    let transaction = connection.transaction()?;
    let changed = transaction.execute(
        "UPDATE notice_letters SET posted_at = ?2 \
         WHERE incident = ?1 AND printed_at IS NOT NULL AND posted_at IS NULL",
        params![incident, at.unix_seconds()],
    )?;
    draft.subject = format!("incident:{incident}");
    if let serde_json::Value::Object(details) = &mut draft.details {
        details.insert("letters".to_owned(), changed.into());
    }
    audit::append(&transaction, draft, signer)?;
    transaction.commit()?;
    Ok(changed as u64)
}
