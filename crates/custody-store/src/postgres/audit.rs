//! The hash-chained audit log in PostgreSQL: appended only under the write lock (see the
//! module's invariant), so the newest entry read here is the chain's end for every writer.

use postgres::{GenericClient, Row, Transaction};

use super::Db;
use crate::encoding::{NextEntry, hex};
use crate::error::{Error, Result};
use crate::types::{AuditDraft, AuditEntry};
use crate::{AuditSigner, ChainEnd};

fn newest(client: &mut impl GenericClient) -> Result<Option<(i64, Vec<u8>)>> {
    let row = client.query_opt("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", &[])?;
    row.map(|row| -> Result<(i64, Vec<u8>)> { Ok((row.try_get(0)?, row.try_get(1)?)) })
        .transpose()
}

/// Appends an entry inside the caller's transaction, which holds the write lock.
pub(super) fn append(
    client: &mut Transaction<'_>,
    draft: AuditDraft,
    signer: &dyn AuditSigner,
) -> Result<AuditEntry> {
    let previous = newest(client)?;
    let end = previous.as_ref().map(|(seq, hash)| ChainEnd { seq: *seq, hash });
    let kept = kept(client)?;
    signer
        .check_kept(kept.as_deref(), end)
        .map_err(Error::AuditChain)?;
    let next = NextEntry::after(previous, draft, signer);
    let draft = &next.draft;
    client.execute(
        "INSERT INTO audit (seq, at, actor, action, subject, details, prev, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &next.seq,
            &next.at,
            &draft.actor,
            &draft.action,
            &draft.subject,
            &next.details,
            &next.prev,
            &next.hash.as_slice(),
        ],
    )?;
    let record = signer
        .seal_end(Some(ChainEnd {
            seq: next.seq,
            hash: &next.hash,
        }))
        .map_err(Error::AuditChain)?;
    keep(client, &record)?;
    Ok(next.entry())
}

fn entry(row: &Row) -> Result<AuditEntry> {
    Ok(AuditEntry {
        seq: row.try_get(0)?,
        at: row.try_get(1)?,
        actor: row.try_get(2)?,
        action: row.try_get(3)?,
        subject: row.try_get(4)?,
        details: row.try_get(5)?,
        prev: hex(row.try_get::<_, &[u8]>(6)?),
        hash: hex(row.try_get::<_, &[u8]>(7)?),
    })
}

const COLUMNS: &str = "SELECT seq, at, actor, action, subject, details, prev, hash FROM audit";

/// Entries read per query: the chain may be long, and the visitor may take its time.
const PAGE: i64 = 10_000;

pub(super) fn each(client: &mut Db<'_>, visit: &mut dyn FnMut(AuditEntry) -> Result<()>) -> Result<()> {
    let mut after = 0i64;
    loop {
        let rows = client.query(
            &format!("{COLUMNS} WHERE seq > $1 ORDER BY seq LIMIT $2"),
            &[&after, &PAGE],
        )?;
        let count = rows.len();
        for row in rows {
            let entry = entry(&row)?;
            after = entry.seq;
            visit(entry)?;
        }
        if (count as i64) < PAGE {
            return Ok(());
        }
    }
}

/// The record of the chain's end kept with it.
pub(super) fn kept(client: &mut impl GenericClient) -> Result<Option<String>> {
    let row = client.query_opt("SELECT record FROM audit_head", &[])?;
    Ok(row.map(|row| row.try_get(0)).transpose()?)
}

fn keep(client: &mut Transaction<'_>, record: &str) -> Result<()> {
    client.execute(
        "INSERT INTO audit_head (one, record) VALUES (TRUE, $1) \
         ON CONFLICT (one) DO UPDATE SET record = excluded.record",
        &[&record],
    )?;
    Ok(())
}

/// Replaces the kept record with one naming the newest entry, under the write lock.
pub(super) fn rekeep(client: &mut Transaction<'_>, signer: &dyn AuditSigner) -> Result<i64> {
    let newest = newest(client)?;
    let end = newest.as_ref().map(|(seq, hash)| ChainEnd { seq: *seq, hash });
    let record = signer.seal_end(end).map_err(Error::AuditChain)?;
    keep(client, &record)?;
    Ok(newest.map_or(0, |(seq, _)| seq))
}

pub(super) fn head(client: &mut Db<'_>) -> Result<Option<AuditEntry>> {
    client
        .query_opt(&format!("{COLUMNS} ORDER BY seq DESC LIMIT 1"), &[])?
        .map(|row| entry(&row))
        .transpose()
}

/// Refuses, before a write changes anything, when both the log and the record of its end are
/// gone while the ledger holds data: someone emptied the log (its owner can turn the triggers
/// off), and the next entry would start a new chain that verifies.
pub(super) fn refuse_if_emptied(client: &mut Transaction<'_>) -> Result<()> {
    if newest(client)?.is_none() && kept(client)?.is_none() && holds_a_ledger(client)? {
        return Err(Error::AuditChain(
            "the audit log and the record of its end are empty while the ledger holds data".to_owned(),
        ));
    }
    Ok(())
}

/// Whether anything a ledger's first audited change would have logged is there.
fn holds_a_ledger(client: &mut impl GenericClient) -> Result<bool> {
    Ok(client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM people) OR EXISTS (SELECT 1 FROM suppliers) \
             OR EXISTS (SELECT 1 FROM accounts) OR EXISTS (SELECT 1 FROM incidents) \
             OR EXISTS (SELECT 1 FROM requests) OR EXISTS (SELECT 1 FROM api_tokens)",
            &[],
        )?
        .try_get(0)?)
}
