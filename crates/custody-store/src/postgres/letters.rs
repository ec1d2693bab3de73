//! Letters to people who cannot be emailed, in PostgreSQL (as in SQLite: see `Store`).

use postgres::Transaction;

use custody_core::{Instant, PersonId};

use super::{Db, optional};
use crate::encoding::person_id;
use crate::error::Result;
use crate::types::{AuditDraft, LetterRow};

/// The people of an incident who need a letter, by person.
pub(super) fn letters(client: &mut Db<'_>, incident: i64) -> Result<Vec<LetterRow>> {
    let rows = client.query(
        "SELECT person, printed_at, posted_at FROM notice_letters WHERE incident = $1 ORDER BY person",
        &[&incident],
    )?;
    rows.iter()
        .map(|row| {
            Ok(LetterRow {
                person: person_id(row.try_get(0)?)?,
                printed_at: optional(row.try_get(1)?)?,
                posted_at: optional(row.try_get(2)?)?,
            })
        })
        .collect()
}

/// Records letters to `people` as printed at `at`, in the caller's audited transaction.
pub(super) fn printed(
    transaction: &mut Transaction<'_>,
    incident: i64,
    people: &[PersonId],
    at: Instant,
    draft: &mut AuditDraft,
) -> Result<()> {
    let upsert = transaction.prepare(
        "INSERT INTO notice_letters (incident, person, printed_at) VALUES ($1, $2, $3) \
         ON CONFLICT (incident, person) DO UPDATE SET printed_at = excluded.printed_at \
         WHERE notice_letters.posted_at IS NULL",
    )?;
    for person in people {
        transaction.execute(&upsert, &[&incident, &i64::from(*person), &at.unix_seconds()])?;
    }
    draft.subject = format!("incident:{incident}");
    Ok(())
}

/// Records every printed letter not yet posted as posted at `at`, in the caller's audited
/// transaction.
pub(super) fn posted(
    transaction: &mut Transaction<'_>,
    incident: i64,
    at: Instant,
    draft: &mut AuditDraft,
) -> Result<u64> {
    let changed = transaction.execute(
        "UPDATE notice_letters SET posted_at = $2 \
         WHERE incident = $1 AND printed_at IS NOT NULL AND posted_at IS NULL",
        &[&incident, &at.unix_seconds()],
    )?;
    draft.subject = format!("incident:{incident}");
    if let serde_json::Value::Object(details) = &mut draft.details {
        details.insert("letters".to_owned(), changed.into());
    }
    Ok(changed)
}
