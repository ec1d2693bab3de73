//! The organisation's requests that a supplier delete a share's data, in SQLite.

use rusqlite::{Connection, OptionalExtension, params};

use custody_core::{Instant, ShareId, SupplierId};

use super::audit;
use super::incidents::{instant, optional};
use crate::AuditSigner;
use crate::error::{Error, Result};
use crate::types::{AuditDraft, DeletionRequest};

/// Records a request, in one audited transaction; a share asked before is a conflict.
pub(super) fn ask(
    connection: &mut Connection,
    share: ShareId,
    asked_at: Instant,
    due_at: Instant,
    reason: &str,
    draft: AuditDraft,
    signer: &dyn AuditSigner,
) -> Result<()> {
    let transaction = connection.transaction()?;
    let before: Option<i64> = transaction
        .query_row(
            "SELECT asked_at FROM share_deletion_requests WHERE share = ?1",
            [share.get()],
            |row| row.get(0),
        )
        .optional()?;
    if let Some(at) = before {
        let at = instant(at).map_err(Error::from)?;
        return Err(Error::Conflict(format!(
            "the deletion of share {share} was asked for already, at {at}"
        )));
    }
    transaction.execute(
        "INSERT INTO share_deletion_requests (share, asked_at, due_at, reason) VALUES (?1, ?2, ?3, ?4)",
        params![
            share.get(),
            asked_at.unix_seconds(),
            due_at.unix_seconds(),
            reason
        ],
    )?;
    audit::append(&transaction, draft, signer)?;
    transaction.commit()?;
    Ok(())
}

/// The requests to `suppliers` (all when `None`), oldest first.
pub(super) fn list(
    connection: &Connection,
    suppliers: Option<&[SupplierId]>,
) -> Result<Vec<DeletionRequest>> {
    let mut statement = connection.prepare_cached(
        "SELECT r.share, s.supplier, r.asked_at, r.due_at, r.reason, r.note, s.deleted_at, s.backups_until \
         FROM share_deletion_requests r JOIN shares s ON s.id = r.share ORDER BY r.asked_at, r.share",
    )?;
    let rows = statement.query_map([], |row| {
        Ok(DeletionRequest {
            share: ShareId::new(row.get(0)?),
            supplier: SupplierId::new(row.get(1)?),
            asked_at: instant(row.get(2)?)?,
            due_at: instant(row.get(3)?)?,
            reason: row.get(4)?,
            note: row.get(5)?,
            deleted_at: optional(row.get(6)?)?,
            backups_until: optional(row.get(7)?)?,
        })
    })?;
    let all = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(all
        .into_iter()
        .filter(|request| suppliers.is_none_or(|wanted| wanted.contains(&request.supplier)))
        .collect())
}
