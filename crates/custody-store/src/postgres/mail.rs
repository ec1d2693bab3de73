//! Messages to suppliers' contacts, as the SQLite store keeps them. Sending runs on several
//! desks claim with `FOR UPDATE SKIP LOCKED`, so no message is handed to two of them.

use custody_core::{Instant, MailId, SupplierId};
use postgres::{Client, Row, Transaction};

use super::Db;
use crate::error::Result;
use crate::mail_rows::{COLUMNS, MailRow, STALE_CLAIM_SECONDS, written};
use crate::types::{OutboxUpdate, SupplierMail, SupplierMailText};

/// Queues `mail` in the caller's transaction, which holds the write lock.
pub(super) fn queue(
    transaction: &mut Transaction<'_>,
    mail: &[SupplierMailText],
    queued_at: Instant,
) -> Result<Vec<MailId>> {
    let insert = transaction.prepare(
        "INSERT INTO supplier_mail (supplier, incident, about, recipient, subject, body, message_id, queued_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )?;
    let mut ids = Vec::with_capacity(mail.len());
    for one in mail {
        let row = transaction.query_one(
            &insert,
            &[
                &one.supplier.get(),
                &one.incident.map(|id| id.get()),
                &one.about.as_str(),
                &one.recipient,
                &one.subject,
                &one.body,
                &one.message_id,
                &queued_at.unix_seconds(),
            ],
        )?;
        ids.push(MailId::new(row.try_get(0)?));
    }
    Ok(ids)
}

pub(super) fn claim(client: &mut Client, run: i64, now: Instant, limit: usize) -> Result<Vec<SupplierMail>> {
    let mut transaction = client.transaction()?;
    let rows = transaction.query(
        &format!(
            "UPDATE supplier_mail SET state = 'sending', claimed_at = $1, claimed_by = $4 WHERE id IN (\
                 SELECT id FROM supplier_mail WHERE state = 'queued' \
                    OR (state = 'retry' AND next_attempt_at <= $1) \
                    OR (state = 'sending' AND claimed_at <= $1 - $2) \
                 ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED) \
             RETURNING {COLUMNS}"
        ),
        &[
            &now.unix_seconds(),
            &STALE_CLAIM_SECONDS,
            &i64::try_from(limit).unwrap_or(i64::MAX),
            &run,
        ],
    )?;
    let mut claimed = rows
        .iter()
        .map(|row| read(row)?.into_mail())
        .collect::<Result<Vec<_>>>()?;
    transaction.commit()?;
    claimed.sort_by_key(|mail| mail.id);
    Ok(claimed)
}

pub(super) fn record(client: &mut Client, run: i64, id: MailId, update: &OutboxUpdate) -> Result<()> {
    let written = written(update);
    client.execute(
        "UPDATE supplier_mail SET state = $2, next_attempt_at = $3, sent_at = $4, \
             reply = COALESCE($5, reply), attempts = attempts + $6, claimed_at = NULL \
         WHERE id = $1 AND state = 'sending' AND claimed_by = $7",
        &[
            &id.get(),
            &written.state,
            &written.next_attempt_at,
            &written.sent_at,
            &written.reply,
            &written.attempt,
            &run,
        ],
    )?;
    Ok(())
}

pub(super) fn list(client: &mut Db<'_>, supplier: Option<SupplierId>) -> Result<Vec<SupplierMail>> {
    client
        .query(
            &format!(
                "SELECT {COLUMNS} FROM supplier_mail WHERE $1::bigint IS NULL OR supplier = $1 ORDER BY id DESC"
            ),
            &[&supplier.map(|id| id.get())],
        )?
        .iter()
        .map(|row| read(row)?.into_mail())
        .collect()
}

fn read(row: &Row) -> Result<MailRow> {
    Ok(MailRow {
        id: row.try_get(0)?,
        supplier: row.try_get(1)?,
        incident: row.try_get(2)?,
        about: row.try_get(3)?,
        recipient: row.try_get(4)?,
        subject: row.try_get(5)?,
        body: row.try_get(6)?,
        message_id: row.try_get(7)?,
        state: row.try_get(8)?,
        attempts: row.try_get(9)?,
        reply: row.try_get(10)?,
        queued_at: row.try_get(11)?,
        sent_at: row.try_get(12)?,
    })
}
