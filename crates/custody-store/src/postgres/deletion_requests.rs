//! The organisation's requests that a supplier delete a share's data, in PostgreSQL (as in
//! SQLite: see `Store::ask_deletion`).

use postgres::Transaction;

use custody_core::{Instant, ShareId, SupplierId};

use super::{Db, instant, optional};
use crate::error::{Error, Result};
use crate::types::DeletionRequest;

/// Records a request in the caller's audited transaction; a share asked before is a conflict.
pub(super) fn ask(
    transaction: &mut Transaction<'_>,
    share: ShareId,
    asked_at: Instant,
    due_at: Instant,
    reason: &str,
) -> Result<()> {
    let inserted = transaction.execute(
        "INSERT INTO share_deletion_requests (share, asked_at, due_at, reason) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (share) DO NOTHING",
        &[
            &share.get(),
            &asked_at.unix_seconds(),
            &due_at.unix_seconds(),
            &reason,
        ],
    )?;
    if inserted == 0 {
        let row = transaction.query_one(
            "SELECT asked_at FROM share_deletion_requests WHERE share = $1",
            &[&share.get()],
        )?;
        let at = instant(row.try_get(0)?)?;
        return Err(Error::Conflict(format!(
            "the deletion of share {share} was asked for already, at {at}"
        )));
    }
    Ok(())
}

/// The requests to `suppliers` (all when `None`), oldest first.
pub(super) fn list(client: &mut Db<'_>, suppliers: Option<&[SupplierId]>) -> Result<Vec<DeletionRequest>> {
    let rows = client.query(
        "SELECT r.share, s.supplier, r.asked_at, r.due_at, r.reason, r.note, s.deleted_at, s.backups_until \
         FROM share_deletion_requests r JOIN shares s ON s.id = r.share ORDER BY r.asked_at, r.share",
        &[],
    )?;
    let mut out = Vec::new();
    for row in &rows {
        let request = DeletionRequest {
            share: ShareId::new(row.try_get(0)?),
            supplier: SupplierId::new(row.try_get(1)?),
            asked_at: instant(row.try_get(2)?)?,
            due_at: instant(row.try_get(3)?)?,
            reason: row.try_get(4)?,
            note: row.try_get(5)?,
            deleted_at: optional(row.try_get(6)?)?,
            backups_until: optional(row.try_get(7)?)?,
        };
        if suppliers.is_none_or(|wanted| wanted.contains(&request.supplier)) {
            out.push(request);
        }
    }
    Ok(out)
}
