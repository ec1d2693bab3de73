//! The outbox of notices in SQLite: queueing, claiming, recording what the server said.

use rusqlite::{Connection, Row, params};

use custody_core::{Instant, PersonId};

use super::audit;
use super::incidents::{conversion, optional};
use crate::AuditSigner;
use crate::error::Result;
use crate::types::{AuditDraft, NewOutboxMessage, OutboxMessage, OutboxState, OutboxUpdate};

fn pack(people: &[PersonId]) -> Vec<u8> {
    people.iter().flat_map(|id| id.to_le_bytes()).collect()
}

fn unpack(bytes: &[u8]) -> Vec<PersonId> {
    bytes
        .chunks_exact(4)
        .filter_map(|chunk| <[u8; 4]>::try_from(chunk).ok().map(u32::from_le_bytes))
        .collect()
}

/// Queues messages (one per address; an address queued before is left as it is).
pub(super) fn enqueue(
    connection: &mut Connection,
    incident: i64,
    messages: &mut dyn Iterator<Item = NewOutboxMessage>,
    queued_at: Instant,
    mut draft: AuditDraft,
    signer: &dyn AuditSigner,
) -> Result<(u64, u64)> {
    let transaction = connection.transaction()?;
    let (mut added, mut known) = (0_u64, 0_u64);
    {
        let mut insert = transaction.prepare_cached(
            "INSERT OR IGNORE INTO outbox (incident, address_hash, recipient, people, message_id, queued_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for message in messages {
            let changed = insert.execute(params![
                incident,
                message.address_hash.as_slice(),
                message.recipient,
                pack(&message.people),
                message.message_id,
                queued_at.unix_seconds(),
            ])?;
            if changed == 1 {
                added += 1;
            } else {
                known += 1;
            }
        }
    }
    draft.subject = format!("incident:{incident}");
    if let serde_json::Value::Object(details) = &mut draft.details {
        details.insert("queued".to_owned(), added.into());
        details.insert("queued_before".to_owned(), known.into());
    }
    audit::append(&transaction, draft, signer)?;
    transaction.commit()?;
    Ok((added, known))
}

fn message(row: &Row<'_>) -> rusqlite::Result<OutboxMessage> {
    let state: String = row.get(4)?;
    let people: Vec<u8> = row.get(2)?;
    Ok(OutboxMessage {
        id: row.get(0)?,
        recipient: row.get(1)?,
        people: unpack(&people),
        message_id: row.get(3)?,
        state: OutboxState::parse(&state).ok_or_else(|| conversion(format!("outbox state {state:?}")))?,
        attempts: row.get(5)?,
        reply: row.get(6)?,
        sent_at: optional(row.get(7)?)?,
    })
}

const RETURNING: &str = "id, recipient, people, message_id, state, attempts, reply, sent_at";

/// Claims up to `limit` messages that are due for `run`: queued; to retry, from an earlier run or
/// now due; left in `sending` by an earlier run that stopped (killed) before the server's answer
/// was recorded; and, when asked, failed in an earlier run.
pub(super) fn claim(
    connection: &mut Connection,
    incident: i64,
    run: i64,
    now: Instant,
    limit: usize,
    include_failed: bool,
) -> Result<Vec<OutboxMessage>> {
    let transaction = connection.transaction()?;
    let claimed = {
        let mut statement = transaction.prepare_cached(&format!(
            "UPDATE outbox SET state = 'sending', claimed_by = ?2, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM outbox WHERE incident = ?1 AND ( \
                 state = 'queued' \
                 OR (state = 'retry' AND (claimed_by IS NOT ?2 OR next_attempt_at <= ?3)) \
                 OR (state = 'sending' AND claimed_by IS NOT ?2) \
                 OR (?5 AND state = 'failed' AND claimed_by IS NOT ?2)) \
               ORDER BY id LIMIT ?4) \
             RETURNING {RETURNING}"
        ))?;
        let rows = statement.query_map(
            params![incident, run, now.unix_seconds(), limit as i64, include_failed],
            message,
        )?;
        rows.collect::<rusqlite::Result<Vec<_>>>()?
    };
    transaction.commit()?;
    let mut claimed = claimed;
    claimed.sort_by_key(|message| message.id);
    Ok(claimed)
}

/// Records what the server said of claimed messages, all in one transaction.
pub(super) fn record(connection: &mut Connection, updates: &[(i64, OutboxUpdate)]) -> Result<()> {
    let transaction = connection.transaction()?;
    {
        let mut statement = transaction.prepare_cached(
            "UPDATE outbox SET state = ?2, reply = ?3, sent_at = ?4, next_attempt_at = ?5 WHERE id = ?1",
        )?;
        for (id, update) in updates {
            let (state, reply, sent_at, next) = match update {
                OutboxUpdate::Sent(at, reply) => ("sent", reply, Some(at.unix_seconds()), None),
                OutboxUpdate::Retry(at, reply) => ("retry", reply, None, Some(at.unix_seconds())),
                OutboxUpdate::Failed(reply) => ("failed", reply, None, None),
            };
            statement.execute(params![id, state, reply, sent_at, next])?;
        }
    }
    transaction.commit()?;
    Ok(())
}

/// Messages per state.
pub(super) fn counts(connection: &Connection, incident: i64) -> Result<Vec<(OutboxState, u64)>> {
    let mut statement =
        connection.prepare_cached("SELECT state, count(*) FROM outbox WHERE incident = ?1 GROUP BY state")?;
    let rows = statement.query_map([incident], |row| {
        let state: String = row.get(0)?;
        Ok((
            OutboxState::parse(&state).ok_or_else(|| conversion(format!("outbox state {state:?}")))?,
            row.get::<_, i64>(1)?.unsigned_abs(),
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Messages in one state, oldest first, at most `limit`.
pub(super) fn in_state(
    connection: &Connection,
    incident: i64,
    state: OutboxState,
    limit: usize,
) -> Result<Vec<OutboxMessage>> {
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {RETURNING} FROM outbox WHERE incident = ?1 AND state = ?2 ORDER BY id LIMIT ?3"
    ))?;
    let rows = statement.query_map(params![incident, state.as_str(), limit as i64], message)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The earliest instant a message waits to be retried, and the latest acceptance.
pub(super) fn times(connection: &Connection, incident: i64) -> Result<(Option<Instant>, Option<Instant>)> {
    let (retry, sent): (Option<i64>, Option<i64>) = connection.query_row(
        "SELECT (SELECT min(next_attempt_at) FROM outbox WHERE incident = ?1 AND state = 'retry'), \
                (SELECT max(sent_at) FROM outbox WHERE incident = ?1 AND state = 'sent')",
        [incident],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    Ok((optional(retry)?, optional(sent)?))
}
