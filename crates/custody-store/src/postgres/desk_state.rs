//! The desk's shared state in PostgreSQL: every update of it holds one advisory lock, so desks
//! on several processes count sign-in attempts and move sessions one at a time.

use postgres::Client;

use crate::error::Result;
use crate::types::DeskStateRecord;

const DESK_STATE_LOCK: &str = "SELECT pg_advisory_xact_lock(7306, 3)";

/// Loads, lets `update` change, and writes back the records named, in one transaction.
pub(super) fn update(
    client: &mut Client,
    kind: &str,
    keys: &[Vec<u8>],
    update: &mut dyn FnMut(&mut [Option<DeskStateRecord>]) -> Result<()>,
) -> Result<()> {
    let mut transaction = client.transaction()?;
    transaction.batch_execute(DESK_STATE_LOCK)?;
    let mut records = Vec::with_capacity(keys.len());
    for key in keys {
        let row = transaction.query_opt(
            "SELECT owner, value, updated FROM desk_state WHERE kind = $1 AND key = $2",
            &[&kind, key],
        )?;
        records.push(
            row.map(|row| -> Result<DeskStateRecord> {
                Ok(DeskStateRecord {
                    key: key.clone(),
                    owner: row.try_get(0)?,
                    value: row.try_get(1)?,
                    updated: row.try_get(2)?,
                })
            })
            .transpose()?,
        );
    }
    update(&mut records)?;
    for (key, record) in keys.iter().zip(&records) {
        match record {
            Some(record) => {
                transaction.execute(
                    "INSERT INTO desk_state (kind, key, owner, value, updated) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (kind, key) DO UPDATE SET owner = excluded.owner, value = excluded.value, \
                     updated = excluded.updated",
                    &[&kind, key, &record.owner, &record.value, &record.updated],
                )?;
            }
            None => {
                transaction.execute(
                    "DELETE FROM desk_state WHERE kind = $1 AND key = $2",
                    &[&kind, key],
                )?;
            }
        }
    }
    transaction.commit()?;
    Ok(())
}

/// Removes an owner's records (but one) and the stale ones of a kind, under the same lock as
/// updates: a session ended here cannot be written back by another desk that read it before.
pub(super) fn remove(
    client: &mut Client,
    kind: &str,
    owner: Option<&str>,
    keep: Option<&[u8]>,
    stale_before: i64,
) -> Result<u64> {
    let mut transaction = client.transaction()?;
    transaction.batch_execute(DESK_STATE_LOCK)?;
    let removed = transaction.execute(
        "DELETE FROM desk_state WHERE kind = $1 AND (updated < $2 OR (owner = $3 AND key IS DISTINCT FROM $4))",
        &[&kind, &stale_before, &owner, &keep],
    )?;
    transaction.commit()?;
    Ok(removed)
}
