//! The desk's shared state in SQLite: small records by kind and keyed hash.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::Result;
use crate::types::DeskStateRecord;

/// Loads, lets `update` change, and writes back the records named, in one write transaction.
pub(super) fn update(
    connection: &mut Connection,
    kind: &str,
    keys: &[Vec<u8>],
    update: &mut dyn FnMut(&mut [Option<DeskStateRecord>]) -> Result<()>,
) -> Result<()> {
    let transaction = connection.transaction()?;
    let mut records = Vec::with_capacity(keys.len());
    {
        let mut select = transaction
            .prepare_cached("SELECT owner, value, updated FROM desk_state WHERE kind = ?1 AND key = ?2")?;
        for key in keys {
            let record = select
                .query_row(params![kind, key], |row| {
                    Ok(DeskStateRecord {
                        key: key.clone(),
                        owner: row.get(0)?,
                        value: row.get(1)?,
                        updated: row.get(2)?,
                    })
                })
                .optional()?;
            records.push(record);
        }
    }
    update(&mut records)?;
    {
        let mut put = transaction.prepare_cached(
            "INSERT INTO desk_state (kind, key, owner, value, updated) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (kind, key) DO UPDATE SET owner = excluded.owner, value = excluded.value, \
             updated = excluded.updated",
        )?;
        let mut delete = transaction.prepare_cached("DELETE FROM desk_state WHERE kind = ?1 AND key = ?2")?;
        for (key, record) in keys.iter().zip(&records) {
            match record {
                Some(record) => {
                    put.execute(params![kind, key, record.owner, record.value, record.updated])?;
                }
                None => {
                    delete.execute(params![kind, key])?;
                }
            }
        }
    }
    transaction.commit()?;
    Ok(())
}

/// Removes an owner's records (but one) and the stale ones of a kind.
pub(super) fn remove(
    connection: &Connection,
    kind: &str,
    owner: Option<&str>,
    keep: Option<&[u8]>,
    stale_before: i64,
) -> Result<u64> {
    let removed = connection.execute(
        "DELETE FROM desk_state WHERE kind = ?1 AND (updated < ?2 OR (owner = ?3 AND key IS NOT ?4))",
        params![kind, stale_before, owner, keep],
    )?;
    Ok(removed as u64)
}
