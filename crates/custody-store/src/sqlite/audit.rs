//! The hash-chained audit log: each entry's hash is the signer's MAC over the previous hash and
//! the entry's canonical bytes, so an edited, inserted or removed entry breaks the chain.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::encoding::{NextEntry, hex};
use crate::error::{Error, Result};
use crate::types::{AuditDraft, AuditEntry};
use crate::{AuditSigner, ChainEnd};

/// Appends an entry inside the caller's transaction.
pub(super) fn append(
    connection: &Connection,
    draft: AuditDraft,
    signer: &dyn AuditSigner,
) -> Result<AuditEntry> {
    let moved: Option<String> = connection
        .query_row("SELECT value FROM meta WHERE key = 'moved_to'", [], |row| {
            row.get(0)
        })
        .optional()?;
    if let Some(to) = moved {
        return Err(Error::Conflict(format!(
            "this ledger was moved to {to} by `store migrate`; nothing was written here (open the data \
             directory again: its settings name the new store)"
        )));
    }
    let previous: Option<(i64, Vec<u8>)> = connection
        .query_row(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let newest = previous.as_ref().map(|(seq, hash)| ChainEnd { seq: *seq, hash });
    signer.check_end(newest).map_err(Error::AuditChain)?;
    let next = NextEntry::after(previous, draft, signer);
    let draft = &next.draft;
    connection.execute(
        "INSERT INTO audit (seq, at, actor, action, subject, details, prev, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![next.seq, next.at, draft.actor, draft.action, draft.subject, next.details, next.prev, next.hash.as_slice()],
    )?;
    let newest = (next.seq > 1).then(|| ChainEnd {
        seq: next.seq - 1,
        hash: next.prev.as_slice(),
    });
    signer
        .stage(
            newest,
            ChainEnd {
                seq: next.seq,
                hash: &next.hash,
            },
        )
        .map_err(Error::AuditChain)?;
    Ok(next.entry())
}

fn entry(row: &Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        seq: row.get(0)?,
        at: row.get(1)?,
        actor: row.get(2)?,
        action: row.get(3)?,
        subject: row.get(4)?,
        details: row.get(5)?,
        prev: hex(&row.get::<_, Vec<u8>>(6)?),
        hash: hex(&row.get::<_, Vec<u8>>(7)?),
    })
}

const COLUMNS: &str = "SELECT seq, at, actor, action, subject, details, prev, hash FROM audit";

pub(super) fn each(connection: &Connection, visit: &mut dyn FnMut(AuditEntry) -> Result<()>) -> Result<()> {
    let mut statement = connection.prepare(&format!("{COLUMNS} ORDER BY seq"))?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        visit(entry(row)?)?;
    }
    Ok(())
}

/// Lets the signer settle on the newest entry, under the write lock.
pub(super) fn settle(connection: &Connection, signer: &dyn AuditSigner) -> Result<()> {
    let newest: Option<(i64, Vec<u8>)> = connection
        .query_row(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let newest = newest.as_ref().map(|(seq, hash)| ChainEnd { seq: *seq, hash });
    signer.settle(newest).map_err(Error::AuditChain)
}

pub(super) fn head(connection: &Connection) -> Result<Option<AuditEntry>> {
    Ok(connection
        .query_row(&format!("{COLUMNS} ORDER BY seq DESC LIMIT 1"), [], entry)
        .optional()?)
}
