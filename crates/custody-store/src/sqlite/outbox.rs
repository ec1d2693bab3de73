//! The outbox of notices in SQLite: queueing, claiming, recording what the server said.

use custody_core::MessageId;
use rusqlite::{Connection, Row, params};

use custody_core::{Instant, PersonId};

use super::audit;
use super::incidents::{conversion, optional};
use crate::AuditSigner;
use crate::encoding::{Queueing, pack_people, queueing, unpack_people};
use crate::error::Result;
use crate::types::{AuditDraft, EnqueueCounts, NewOutboxMessage, OutboxMessage, OutboxState, OutboxUpdate};

/// Queues messages: a new address gets a message; people who join an address whose message is
/// not sent yet are added to it; people who join an address whose message went out get a message
/// of their own. People without an address are recorded for a letter.
pub(super) fn enqueue(
    connection: &mut Connection,
    incident: i64,
    messages: &mut dyn Iterator<Item = NewOutboxMessage>,
    letters: &[PersonId],
    queued_at: Instant,
    mut draft: AuditDraft,
    signer: &dyn AuditSigner,
) -> Result<EnqueueCounts> {
    let transaction = connection.transaction()?;
    let mut counts = EnqueueCounts::default();
    {
        let mut existing = transaction.prepare_cached(
            "SELECT id, people, state FROM outbox WHERE incident = ?1 AND address_hash = ?2",
        )?;
        let mut extend = transaction.prepare_cached("UPDATE outbox SET people = ?2 WHERE id = ?1")?;
        let mut insert = transaction.prepare_cached(
            "INSERT INTO outbox (incident, address_hash, recipient, people, message_id, queued_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        // The first queueing of an incident has nothing to merge with: insert straight away, and
        // build the address index once at the end (one sort) rather than entry by entry.
        let first: bool = transaction.query_row(
            "SELECT NOT EXISTS (SELECT 1 FROM outbox WHERE incident = ?1)",
            [incident],
            |row| row.get(0),
        )?;
        // (Only when the whole outbox is empty: the index covers every incident.)
        let rebuild = first
            && transaction.query_row("SELECT NOT EXISTS (SELECT 1 FROM outbox)", [], |row| {
                row.get::<_, bool>(0)
            })?;
        if rebuild {
            transaction.execute_batch("DROP INDEX outbox_by_address")?;
        }
        for message in messages {
            if first {
                insert.execute(params![
                    incident,
                    message.address_hash.as_slice(),
                    message.recipient,
                    pack_people(&message.people),
                    message.message_id,
                    queued_at.unix_seconds(),
                ])?;
                counts.added += 1;
                continue;
            }
            let rows = existing
                .query_map(params![incident, message.address_hash.as_slice()], |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        unpack_people(&row.get::<_, Vec<u8>>(1)?),
                        row.get::<_, String>(2)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            match queueing(&rows, &message.people) {
                Queueing::Unchanged => counts.unchanged += 1,
                Queueing::Extend { id, people } => {
                    extend.execute(params![id, pack_people(&people)])?;
                    counts.extended += 1;
                }
                Queueing::Add(new) => {
                    insert.execute(params![
                        incident,
                        message.address_hash.as_slice(),
                        message.recipient,
                        pack_people(&new),
                        message.message_id,
                        queued_at.unix_seconds(),
                    ])?;
                    counts.added += 1;
                }
            }
        }
        if rebuild {
            transaction.execute_batch("CREATE INDEX outbox_by_address ON outbox(incident, address_hash)")?;
        }
        let mut letter = transaction
            .prepare_cached("INSERT OR IGNORE INTO notice_letters (incident, person) VALUES (?1, ?2)")?;
        for person in letters {
            letter.execute(params![incident, person])?;
        }
    }
    draft.subject = format!("incident:{incident}");
    if let serde_json::Value::Object(details) = &mut draft.details {
        details.insert("added".to_owned(), counts.added.into());
        details.insert("extended".to_owned(), counts.extended.into());
        details.insert("unchanged".to_owned(), counts.unchanged.into());
    }
    audit::append(&transaction, draft, signer)?;
    transaction.commit()?;
    Ok(counts)
}

fn message(row: &Row<'_>) -> rusqlite::Result<OutboxMessage> {
    let state: String = row.get(4)?;
    let people: Vec<u8> = row.get(2)?;
    Ok(OutboxMessage {
        id: row.get(0).map(MessageId::new)?,
        recipient: row.get(1)?,
        people: unpack_people(&people),
        message_id: row.get(3)?,
        state: OutboxState::parse(&state).ok_or_else(|| conversion(format!("outbox state {state:?}")))?,
        attempts: row.get(5)?,
        reply: row.get(6)?,
        sent_at: optional(row.get(7)?)?,
    })
}

const RETURNING: &str = "id, recipient, people, message_id, state, attempts, reply, sent_at";

/// Claims up to `limit` messages that are due for `run`, each kind found through the state
/// index (never a scan of the sent ones): left in `sending` by an earlier run that stopped
/// (killed) before the server's answer was recorded; to retry, from an earlier run or now due;
/// queued; and, when asked, failed in an earlier run (its attempts start again).
pub(super) fn claim(
    connection: &mut Connection,
    incident: i64,
    run: i64,
    now: Instant,
    limit: usize,
    include_failed: bool,
) -> Result<Vec<OutboxMessage>> {
    let transaction = connection.transaction()?;
    let mut ids: Vec<i64> = Vec::with_capacity(limit);
    {
        let find = |state: &str, extra: &str, ids: &mut Vec<i64>| -> Result<()> {
            let left = limit.saturating_sub(ids.len());
            if left == 0 {
                return Ok(());
            }
            let mut statement = transaction.prepare_cached(&format!(
                "SELECT id FROM outbox WHERE incident = ?1 AND state = '{state}' {extra} ORDER BY id LIMIT ?4"
            ))?;
            let rows = statement
                .query_map(params![incident, run, now.unix_seconds(), left as i64], |row| {
                    row.get(0)
                })?;
            for id in rows {
                ids.push(id?);
            }
            Ok(())
        };
        find("sending", "AND claimed_by IS NOT ?2 AND ?3 = ?3", &mut ids)?;
        find(
            "retry",
            "AND (claimed_by IS NOT ?2 OR next_attempt_at <= ?3)",
            &mut ids,
        )?;
        find("queued", "AND ?2 = ?2 AND ?3 = ?3", &mut ids)?;
        if include_failed {
            find("failed", "AND claimed_by IS NOT ?2 AND ?3 = ?3", &mut ids)?;
        }
    }
    let mut claimed = Vec::with_capacity(ids.len());
    {
        let mut statement = transaction.prepare_cached(&format!(
            "UPDATE outbox SET claimed_by = ?2, \
                 attempts = CASE WHEN state = 'failed' THEN 0 ELSE attempts END, state = 'sending' \
             WHERE id = ?1 RETURNING {RETURNING}"
        ))?;
        for id in ids {
            claimed.push(statement.query_row(params![id, run], message)?);
        }
    }
    transaction.commit()?;
    claimed.sort_by_key(|message| message.id);
    Ok(claimed)
}

/// Applies answers (run, id, update) in one transaction; a message some other run has claimed
/// since, or that is no longer `sending`, is left alone (so applying twice changes nothing).
pub(super) fn apply(connection: &mut Connection, updates: &[(i64, i64, OutboxUpdate)]) -> Result<()> {
    if updates.is_empty() {
        return Ok(());
    }
    let transaction = connection.transaction()?;
    {
        let mut statement = transaction.prepare_cached(
            "UPDATE outbox SET state = ?3, reply = coalesce(?4, reply), sent_at = ?5, next_attempt_at = ?6, \
             attempts = attempts + ?7 WHERE id = ?1 AND state = 'sending' AND claimed_by = ?2",
        )?;
        for (run, id, update) in updates {
            let (state, reply, sent_at, next, attempt) = match update {
                OutboxUpdate::Sent(at, reply) => ("sent", Some(reply), Some(at.unix_seconds()), None, 1),
                OutboxUpdate::Retry(at, reply) => ("retry", Some(reply), None, Some(at.unix_seconds()), 1),
                OutboxUpdate::Failed(reply) => ("failed", Some(reply), None, None, 1),
                OutboxUpdate::Requeue => ("queued", None, None, None, 0),
            };
            statement.execute(params![id, run, state, reply, sent_at, next, attempt])?;
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
