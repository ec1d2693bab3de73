//! Messages to suppliers' contacts: queued with an audit entry, claimed by a sending run,
//! answered by the mail server. What was queued never changes (the schema's triggers).

use custody_core::{Instant, MailId, SupplierId};
use rusqlite::{Connection, Row, params};

use super::audit;
use crate::AuditSigner;
use crate::error::Result;
use crate::mail_rows::{COLUMNS, MailRow, STALE_CLAIM_SECONDS, written};
use crate::types::{AuditDraft, OutboxUpdate, SupplierMail, SupplierMailText};

pub(super) fn queue(
    connection: &mut Connection,
    mail: &[SupplierMailText],
    queued_at: Instant,
    draft: AuditDraft,
    signer: &dyn AuditSigner,
) -> Result<Vec<MailId>> {
    let transaction = connection.transaction()?;
    let mut ids = Vec::with_capacity(mail.len());
    {
        let mut insert = transaction.prepare_cached(
            "INSERT INTO supplier_mail (supplier, incident, about, recipient, subject, body, message_id, queued_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for one in mail {
            insert.execute(params![
                one.supplier.get(),
                one.incident.map(|id| id.get()),
                one.about.as_str(),
                one.recipient,
                one.subject,
                one.body,
                one.message_id,
                queued_at.unix_seconds()
            ])?;
            ids.push(MailId::new(transaction.last_insert_rowid()));
        }
    }
    audit::append(&transaction, draft, signer)?;
    transaction.commit()?;
    Ok(ids)
}

pub(super) fn claim(
    connection: &mut Connection,
    run: i64,
    now: Instant,
    limit: usize,
) -> Result<Vec<SupplierMail>> {
    let transaction = connection.transaction()?;
    let claimed = {
        let mut statement = transaction.prepare_cached(&format!(
            "UPDATE supplier_mail SET state = 'sending', claimed_at = ?1, claimed_by = ?4 WHERE id IN (\
                 SELECT id FROM supplier_mail WHERE state = 'queued' \
                    OR (state = 'retry' AND next_attempt_at <= ?1) \
                    OR (state = 'sending' AND claimed_at <= ?1 - ?2) \
                 ORDER BY id LIMIT ?3) \
             RETURNING {COLUMNS}"
        ))?;
        let rows = statement.query_map(
            params![
                now.unix_seconds(),
                STALE_CLAIM_SECONDS,
                i64::try_from(limit).unwrap_or(i64::MAX),
                run
            ],
            read,
        )?;
        rows.map(|row| row?.into_mail()).collect::<Result<Vec<_>>>()?
    };
    transaction.commit()?;
    let mut claimed = claimed;
    claimed.sort_by_key(|mail| mail.id);
    Ok(claimed)
}

pub(super) fn record(connection: &mut Connection, run: i64, id: MailId, update: &OutboxUpdate) -> Result<()> {
    let written = written(update);
    connection.execute(
        "UPDATE supplier_mail SET state = ?2, next_attempt_at = ?3, sent_at = ?4, \
             reply = COALESCE(?5, reply), attempts = attempts + ?6, claimed_at = NULL \
         WHERE id = ?1 AND state = 'sending' AND claimed_by = ?7",
        params![
            id.get(),
            written.state,
            written.next_attempt_at,
            written.sent_at,
            written.reply,
            written.attempt,
            run
        ],
    )?;
    Ok(())
}

pub(super) fn list(connection: &Connection, supplier: Option<SupplierId>) -> Result<Vec<SupplierMail>> {
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM supplier_mail WHERE ?1 IS NULL OR supplier = ?1 ORDER BY id DESC"
    ))?;
    let rows = statement.query_map([supplier.map(|id| id.get())], read)?;
    rows.map(|row| row?.into_mail()).collect()
}

fn read(row: &Row<'_>) -> rusqlite::Result<MailRow> {
    Ok(MailRow {
        id: row.get(0)?,
        supplier: row.get(1)?,
        incident: row.get(2)?,
        about: row.get(3)?,
        recipient: row.get(4)?,
        subject: row.get(5)?,
        body: row.get(6)?,
        message_id: row.get(7)?,
        state: row.get(8)?,
        attempts: row.get(9)?,
        reply: row.get(10)?,
        queued_at: row.get(11)?,
        sent_at: row.get(12)?,
    })
}
