//! Letters to people who cannot be emailed, in PostgreSQL (as in SQLite: see `Store`).

use postgres::Transaction;

use custody_core::{Instant, PersonId, PersonSet};

use super::{Db, optional};
use crate::encoding::{person_id, unpack_people};
use crate::error::{Error, Result};
use crate::types::{AuditDraft, LetterBatchRow, LetterRow, OutboxState};

/// The people of an incident who need or were printed a letter, by person.
pub(super) fn letters(client: &mut Db<'_>, incident: i64) -> Result<Vec<LetterRow>> {
    let rows = client.query(
        "SELECT person, needed, printed_at, batch, posted_at FROM notice_letters WHERE incident = $1 \
         ORDER BY person",
        &[&incident],
    )?;
    rows.iter()
        .map(|row| {
            Ok(LetterRow {
                person: person_id(row.try_get(0)?)?,
                needed: row.try_get::<_, i64>(1)? != 0,
                printed_at: optional(row.try_get(2)?)?,
                batch: row.try_get(3)?,
                posted_at: optional(row.try_get(4)?)?,
            })
        })
        .collect()
}

/// Records letters as printed in the caller's audited transaction: `(people, at, batch, needed)`,
/// in one statement.
pub(super) fn printed(
    transaction: &mut Transaction<'_>,
    incident: i64,
    (people, at, batch, needed): (&[PersonId], Instant, &str, bool),
    draft: &mut AuditDraft,
) -> Result<()> {
    let ids: Vec<i64> = people.iter().map(|person| i64::from(*person)).collect();
    transaction.execute(
        "INSERT INTO notice_letters (incident, person, needed, printed_at, batch) \
         SELECT $1, person, $3, $4, $5 FROM UNNEST($2::BIGINT[]) AS person \
         ON CONFLICT (incident, person) DO UPDATE SET printed_at = excluded.printed_at, \
         batch = excluded.batch, needed = GREATEST(notice_letters.needed, excluded.needed) \
         WHERE notice_letters.posted_at IS NULL",
        &[&incident, &ids, &i64::from(needed), &at.unix_seconds(), &batch],
    )?;
    transaction.execute(
        "INSERT INTO letter_batch_people (incident, batch, person, printed_at) \
         SELECT $1, $2, person, $4 FROM UNNEST($3::BIGINT[]) AS person ON CONFLICT DO NOTHING",
        &[&incident, &batch, &ids, &at.unix_seconds()],
    )?;
    draft.subject = format!("incident:{incident}");
    Ok(())
}

/// Records the letters of `batch` not yet posted as posted at `at` in the caller's audited
/// transaction; a batch with none waiting is refused, and the transaction with it.
pub(super) fn posted(
    transaction: &mut Transaction<'_>,
    incident: i64,
    batch: &str,
    at: Instant,
    draft: &mut AuditDraft,
) -> Result<u64> {
    let changed = transaction.execute(
        "UPDATE notice_letters SET posted_at = $3 WHERE incident = $1 AND posted_at IS NULL \
         AND person IN (SELECT person FROM letter_batch_people WHERE incident = $1 AND batch = $2)",
        &[&incident, &batch, &at.unix_seconds()],
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
    Ok(changed)
}

/// An incident's printed batches, oldest first.
pub(super) fn batches(client: &mut Db<'_>, incident: i64) -> Result<Vec<LetterBatchRow>> {
    let rows = client.query(
        "SELECT b.batch, MIN(b.printed_at), COUNT(*), COUNT(*) FILTER (WHERE n.posted_at IS NULL) \
         FROM letter_batch_people b JOIN notice_letters n ON n.incident = b.incident AND n.person = b.person \
         WHERE b.incident = $1 GROUP BY b.batch ORDER BY MIN(b.printed_at), b.batch",
        &[&incident],
    )?;
    rows.iter()
        .map(|row| {
            Ok(LetterBatchRow {
                batch: row.try_get(0)?,
                printed_at: super::instant(row.try_get(1)?)?,
                letters: row.try_get::<_, i64>(2)?.unsigned_abs(),
                waiting: row.try_get::<_, i64>(3)?.unsigned_abs(),
            })
        })
        .collect()
}

/// The people an incident's messages in `state` cover.
pub(super) fn outbox_people(client: &mut Db<'_>, incident: i64, state: OutboxState) -> Result<PersonSet> {
    let rows = client.query(
        "SELECT people FROM outbox WHERE incident = $1 AND state = $2",
        &[&incident, &state.as_str()],
    )?;
    let mut set = PersonSet::new();
    for row in &rows {
        set.extend(unpack_people(row.try_get(0)?));
    }
    Ok(set)
}
