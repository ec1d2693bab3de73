//! A digest of every table of a SQLite ledger file (a backup): each row's values in a fixed
//! encoding, rows in the table's own order, hashed with SHA-256. A backup's notes keep them
//! under the key's MAC, so a restore finds a row removed, added or changed in the file, in tables
//! the audit chain does not cover (share sets, events, erasures) as in those it does.

use std::path::Path;

use rusqlite::Connection;
use rusqlite::types::ValueRef;
use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::transfer::TABLES;

/// One table's rows and the SHA-256 of their contents (hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDigest {
    /// The table.
    pub table: String,
    /// Its rows.
    pub rows: u64,
    /// SHA-256 over its rows, in order (hex).
    pub sha256: String,
}

/// The digests of the schema (`sqlite_master`: every table's columns, index, trigger and view,
/// so a column swapped, a trigger added or a table turned into a view shows) and then of every
/// ledger table in the SQLite file at `path`, in [`TABLES`]' order (those it has: an older
/// backup lacks the tables added since). A backup's own notes are left out.
pub fn sqlite_table_digests(path: &Path) -> Result<Vec<TableDigest>> {
    let connection = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut digests = vec![rows_digest(
        &connection,
        "sqlite_master",
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE tbl_name <> 'backup_notes' \
         ORDER BY type, name",
    )?];
    // A backup made before a table was added has no such table: its absence is in the
    // schema's digest, and the restore's migration adds it.
    let mut present = connection.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1")?;
    for table in TABLES {
        if present.exists([table])? {
            digests.push(table_digest(&connection, table)?);
        }
    }
    Ok(digests)
}

fn table_digest(connection: &Connection, table: &str) -> Result<TableDigest> {
    // Rows in rowid order; a table without rowids in the order of its columns (its key first).
    let has_rowid = connection
        .prepare(&format!("SELECT rowid FROM {table} LIMIT 0"))
        .is_ok();
    let columns = connection
        .prepare(&format!("SELECT * FROM {table} LIMIT 0"))?
        .column_count();
    let order = if has_rowid {
        "rowid".to_owned()
    } else {
        (1..=columns)
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    // Every row, `meta` included whole (its schema version as much as its key check).
    rows_digest(
        connection,
        table,
        &format!("SELECT * FROM {table} ORDER BY {order}"),
    )
}

fn rows_digest(connection: &Connection, table: &str, sql: &str) -> Result<TableDigest> {
    let mut statement = connection.prepare(sql)?;
    let columns = statement.column_count();
    let mut rows = statement.query([])?;
    let mut hasher = Sha256::new();
    let mut count = 0u64;
    while let Some(row) = rows.next()? {
        count += 1;
        for index in 0..columns {
            feed(&mut hasher, row.get_ref(index)?);
        }
    }
    Ok(TableDigest {
        table: table.to_owned(),
        rows: count,
        sha256: crate::encoding::hex(&hasher.finalize()),
    })
}

/// A value as a tag, then its bytes (text and blobs led by their length), so no two rows of
/// different values feed the same bytes.
fn feed(hasher: &mut Sha256, value: ValueRef<'_>) {
    match value {
        ValueRef::Null => hasher.update([0]),
        ValueRef::Integer(number) => {
            hasher.update([1]);
            hasher.update(number.to_be_bytes());
        }
        ValueRef::Real(number) => {
            hasher.update([2]);
            hasher.update(number.to_bits().to_be_bytes());
        }
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => {
            hasher.update([if matches!(value, ValueRef::Text(_)) { 3 } else { 4 }]);
            hasher.update((bytes.len() as u64).to_be_bytes());
            hasher.update(bytes);
        }
    }
}
