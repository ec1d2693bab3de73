//! The outbox of notices in PostgreSQL. Several notification workers may run at once, in one
//! process or several: each run holds a session advisory lock keyed by its id while its
//! connection lives, and claims rows with `FOR UPDATE SKIP LOCKED`. A message left `sending` is
//! taken over only when the run that claimed it no longer holds its lock (its process ended
//! before the server's answer was recorded), never from a run still at work.

use custody_core::MessageId;
use postgres::{Client, Row, Transaction};

use custody_core::{Instant, PersonId};

use super::Db;
use super::optional;
use crate::encoding::{Queueing, pack_people, queueing, unpack_people};
use crate::error::{Error, Result};
use crate::types::{AuditDraft, EnqueueCounts, NewOutboxMessage, OutboxMessage, OutboxState, OutboxUpdate};

/// Queues messages as the SQLite store does (see `Store::enqueue_notices`), in the caller's
/// transaction, which holds the write lock.
pub(super) fn enqueue(
    transaction: &mut Transaction<'_>,
    incident: i64,
    messages: &mut dyn Iterator<Item = NewOutboxMessage>,
    letters: &[PersonId],
    queued_at: Instant,
    draft: &mut AuditDraft,
) -> Result<EnqueueCounts> {
    let mut counts = EnqueueCounts::default();
    let insert = transaction.prepare(
        "INSERT INTO outbox (incident, address_hash, recipient, people, message_id, queued_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )?;
    // Locked for the rest of this transaction: a run claiming one of them meanwhile waits, so a
    // message is never grown after a run took it for sending.
    let existing = transaction.prepare(
        "SELECT id, people, state FROM outbox WHERE incident = $1 AND address_hash = $2 ORDER BY id FOR UPDATE",
    )?;
    for message in messages {
        let rows = transaction.query(&existing, &[&incident, &message.address_hash.as_slice()])?;
        let mut found = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: i64 = row.try_get(0)?;
            let state: String = row.try_get(2)?;
            found.push((id, unpack_people(row.try_get(1)?), state));
        }
        match queueing(&found, &message.people) {
            Queueing::Unchanged => counts.unchanged += 1,
            Queueing::Extend { id, people } => {
                transaction.execute(
                    "UPDATE outbox SET people = $2 WHERE id = $1",
                    &[&id, &pack_people(&people)],
                )?;
                counts.extended += 1;
            }
            Queueing::Add(new) => {
                transaction.execute(
                    &insert,
                    &[
                        &incident,
                        &message.address_hash.as_slice(),
                        &message.recipient,
                        &pack_people(&new),
                        &message.message_id,
                        &queued_at.unix_seconds(),
                    ],
                )?;
                counts.added += 1;
            }
        }
    }
    for person in letters {
        transaction.execute(
            "INSERT INTO notice_letters (incident, person) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&incident, &i64::from(*person)],
        )?;
    }
    draft.subject = format!("incident:{incident}");
    if let serde_json::Value::Object(details) = &mut draft.details {
        details.insert("added".to_owned(), counts.added.into());
        details.insert("extended".to_owned(), counts.extended.into());
        details.insert("unchanged".to_owned(), counts.unchanged.into());
    }
    Ok(counts)
}

fn message(row: &Row) -> Result<OutboxMessage> {
    let state: &str = row.try_get(4)?;
    let attempts: i64 = row.try_get(5)?;
    Ok(OutboxMessage {
        id: row.try_get(0).map(MessageId::new)?,
        recipient: row.try_get(1)?,
        people: unpack_people(row.try_get(2)?),
        message_id: row.try_get(3)?,
        state: OutboxState::parse(state).ok_or_else(|| Error::Corrupt(format!("outbox state {state:?}")))?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        reply: row.try_get(6)?,
        sent_at: optional(row.try_get(7)?)?,
    })
}

const RETURNING: &str = "id, recipient, people, message_id, state, attempts, reply, sent_at";

/// The run's own lock, and the test that another run's lock is free (its process is gone).
const RUN_LOCK: &str = "SELECT pg_advisory_lock($1::bigint)";
const RUN_GONE: &str = "pg_try_advisory_xact_lock(claimed_by)";

/// Claims up to `limit` messages due for `run` (see the module's note), committed before any is
/// handed to the mail server.
pub(super) fn claim(
    client: &mut Client,
    incident: i64,
    run: i64,
    now: Instant,
    limit: usize,
    include_failed: bool,
) -> Result<Vec<OutboxMessage>> {
    // Re-entrant: taken again by every claim of the run, held until the connection closes.
    client.execute(RUN_LOCK, &[&run])?;
    let mut transaction = client.transaction()?;
    let mut ids: Vec<i64> = Vec::with_capacity(limit);
    let mut kinds = vec![
        format!(
            "state = 'sending' AND claimed_by IS DISTINCT FROM $2 AND {RUN_GONE} AND $3::bigint IS NOT NULL"
        ),
        format!(
            "state = 'retry' AND ((claimed_by IS DISTINCT FROM $2 AND {RUN_GONE}) OR next_attempt_at <= $3)"
        ),
        "state = 'queued' AND $2::bigint IS NOT NULL AND $3::bigint IS NOT NULL".to_owned(),
    ];
    if include_failed {
        kinds.push(
            "state = 'failed' AND claimed_by IS DISTINCT FROM $2 AND $3::bigint IS NOT NULL".to_owned(),
        );
    }
    for condition in kinds {
        let left = limit.saturating_sub(ids.len()) as i64;
        if left == 0 {
            break;
        }
        let rows = transaction.query(
            &format!(
                "SELECT id FROM outbox WHERE incident = $1 AND {condition} ORDER BY id LIMIT $4 \
                 FOR UPDATE SKIP LOCKED"
            ),
            &[&incident, &run, &now.unix_seconds(), &left],
        )?;
        for row in rows {
            ids.push(row.try_get(0)?);
        }
    }
    let rows = transaction.query(
        &format!(
            "UPDATE outbox SET claimed_by = $2, \
                 attempts = CASE WHEN state = 'failed' THEN 0 ELSE attempts END, state = 'sending' \
             WHERE id = ANY($1) RETURNING {RETURNING}"
        ),
        &[&ids, &run],
    )?;
    let mut claimed = rows.iter().map(message).collect::<Result<Vec<_>>>()?;
    transaction.commit()?;
    claimed.sort_by_key(|message| message.id);
    Ok(claimed)
}

/// Applies a run's answers in one transaction; a message another run claimed since, or that is
/// no longer `sending`, is left alone.
pub(super) fn apply(client: &mut Client, run: i64, updates: &[(i64, OutboxUpdate)]) -> Result<()> {
    if updates.is_empty() {
        return Ok(());
    }
    let mut transaction = client.transaction()?;
    let statement = transaction.prepare(
        "UPDATE outbox SET state = $3, reply = coalesce($4, reply), sent_at = $5, next_attempt_at = $6, \
         attempts = attempts + $7 WHERE id = $1 AND state = 'sending' AND claimed_by = $2",
    )?;
    for (id, update) in updates {
        let (state, reply, sent_at, next, attempt): (&str, Option<&String>, Option<i64>, Option<i64>, i64) =
            match update {
                OutboxUpdate::Sent(at, reply) => ("sent", Some(reply), Some(at.unix_seconds()), None, 1),
                OutboxUpdate::Retry(at, reply) => ("retry", Some(reply), None, Some(at.unix_seconds()), 1),
                OutboxUpdate::Failed(reply) => ("failed", Some(reply), None, None, 1),
                OutboxUpdate::Requeue => ("queued", None, None, None, 0),
            };
        transaction.execute(&statement, &[id, &run, &state, &reply, &sent_at, &next, &attempt])?;
    }
    transaction.commit()?;
    Ok(())
}

pub(super) fn counts(client: &mut Db<'_>, incident: i64) -> Result<Vec<(OutboxState, u64)>> {
    let rows = client.query(
        "SELECT state, count(*) FROM outbox WHERE incident = $1 GROUP BY state",
        &[&incident],
    )?;
    rows.iter()
        .map(|row| {
            let state: &str = row.try_get(0)?;
            Ok((
                OutboxState::parse(state).ok_or_else(|| Error::Corrupt(format!("outbox state {state:?}")))?,
                row.try_get::<_, i64>(1)?.unsigned_abs(),
            ))
        })
        .collect()
}

pub(super) fn in_state(
    client: &mut Db<'_>,
    incident: i64,
    state: OutboxState,
    limit: usize,
) -> Result<Vec<OutboxMessage>> {
    let rows = client.query(
        &format!("SELECT {RETURNING} FROM outbox WHERE incident = $1 AND state = $2 ORDER BY id LIMIT $3"),
        &[&incident, &state.as_str(), &(limit as i64)],
    )?;
    rows.iter().map(message).collect()
}

pub(super) fn times(client: &mut Db<'_>, incident: i64) -> Result<(Option<Instant>, Option<Instant>)> {
    let row = client.query_one(
        "SELECT (SELECT min(next_attempt_at) FROM outbox WHERE incident = $1 AND state = 'retry'), \
                (SELECT max(sent_at) FROM outbox WHERE incident = $1 AND state = 'sent')",
        &[&incident],
    )?;
    Ok((optional(row.try_get(0)?)?, optional(row.try_get(1)?)?))
}
