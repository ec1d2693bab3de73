//! Copying a ledger from one store to another, table by table, in the backends' own bulk paths:
//! `custody store migrate` (a SQLite file into an empty PostgreSQL database), `custody backup`
//! (any store into a new SQLite file, the interchange format: one file, readable for decades) and
//! `custody restore` (such a file into an empty store of either kind).
//!
//! Every table of the ledger is copied whole, ids as they are, except the schema version (each
//! backend keeps its own), the desk's state (sessions and sign-in counts are transient) and the
//! record of the chain's end (the application checks the copied chain and seals a new record).
//! The source is read in one consistent snapshot; the destination is written in one transaction.

use std::path::Path;

use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{ToSql, Type};
use postgres::{Client, fallible_iterator::FallibleIterator};
use rusqlite::Connection;

use crate::error::{Error, Result};

/// The ledger's tables, parents before the tables that refer to them.
pub const TABLES: [&str; 27] = [
    "meta",
    "imports",
    "people",
    "contacts",
    "identifiers",
    "feed_columns",
    "place_sets",
    "suppliers",
    "supplier_contacts",
    "shares",
    "share_chunks",
    "share_deletion_requests",
    "audit",
    "incidents",
    "incident_events",
    "incident_evidence",
    "filed_reports",
    "incident_people",
    "requests",
    "request_events",
    "erasures",
    "outbox",
    "notice_letters",
    "letter_batch_people",
    "supplier_mail",
    "accounts",
    "api_tokens",
];

/// Tables whose `id` is given by the database: after a copy its counter moves past the ids copied.
const WITH_IDS: [&str; 14] = [
    "imports",
    "people",
    "suppliers",
    "supplier_contacts",
    "shares",
    "incidents",
    "incident_events",
    "requests",
    "request_events",
    "outbox",
    "supplier_mail",
    "accounts",
    "api_tokens",
    "filed_reports",
];

/// Rows copied per table, in [`TABLES`]' order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Copied {
    /// (table, rows).
    pub tables: Vec<(String, u64)>,
}

impl Copied {
    /// Rows of one table.
    pub fn rows(&self, table: &str) -> u64 {
        self.tables
            .iter()
            .find(|(name, _)| name == table)
            .map_or(0, |(_, rows)| *rows)
    }
}

/// One value of a row, whatever the backend.
#[derive(Debug, Clone)]
enum Value {
    Null,
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

fn where_clause(table: &str) -> &'static str {
    if table == "meta" {
        " WHERE key = 'key_check'"
    } else {
        ""
    }
}

/// A column's type in the PostgreSQL schema.
fn postgres_columns(client: &mut impl postgres::GenericClient, table: &str) -> Result<Vec<(String, Type)>> {
    let rows = client.query(
        "SELECT column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
        &[&table],
    )?;
    rows.iter()
        .map(|row| {
            let name: String = row.try_get(0)?;
            let kind: String = row.try_get(1)?;
            let kind = match kind.as_str() {
                "bigint" => Type::INT8,
                "text" => Type::TEXT,
                "bytea" => Type::BYTEA,
                "boolean" => Type::BOOL,
                other => {
                    return Err(Error::Incompatible(format!(
                        "{table}.{name} has the type {other}, which custody does not copy"
                    )));
                }
            };
            Ok((name, kind))
        })
        .collect()
}

/// Copies the ledger in the SQLite file at `from` into the empty PostgreSQL database whose
/// schema is made (by [`crate::PostgresStore::open`]) and whose connection is `to`.
pub(crate) fn sqlite_into_postgres(from: &Path, to: &mut Client) -> Result<Copied> {
    let source = Connection::open_with_flags(from, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let source_transaction = source.unchecked_transaction()?;
    let mut transaction = to.transaction()?;
    transaction.batch_execute("SELECT pg_advisory_xact_lock(7306, 1)")?;
    // A key check the empty database had (an `open` that ran `check_key`) gives way to the
    // copied one, in the same transaction.
    transaction.execute("DELETE FROM meta WHERE key = 'key_check'", &[])?;
    let mut copied = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        let columns = postgres_columns(&mut transaction, table)?;
        let names: Vec<&str> = columns.iter().map(|(name, _)| name.as_str()).collect();
        let types: Vec<Type> = columns.iter().map(|(_, kind)| kind.clone()).collect();
        let list = names.join(", ");
        let writer = transaction.copy_in(&format!("COPY {table} ({list}) FROM STDIN (FORMAT binary)"))?;
        let mut writer = BinaryCopyInWriter::new(writer, &types);
        let mut statement =
            source_transaction.prepare(&format!("SELECT {list} FROM {table}{}", where_clause(table)))?;
        let mut rows = statement.query([])?;
        let mut count = 0u64;
        while let Some(row) = rows.next()? {
            let mut values: Vec<Box<dyn ToSql + Sync>> = Vec::with_capacity(types.len());
            for (index, kind) in types.iter().enumerate() {
                values.push(postgres_value(row.get_ref(index)?, kind, table)?);
            }
            let borrowed: Vec<&(dyn ToSql + Sync)> = values.iter().map(|value| value.as_ref()).collect();
            writer.write(&borrowed)?;
            count += 1;
        }
        writer.finish()?;
        copied.push((table.to_owned(), count));
    }
    for table in WITH_IDS {
        let column = if table == "filed_reports" { continue } else { "id" };
        transaction.execute(
            &format!(
                "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), \
                 GREATEST((SELECT max({column}) FROM {table}), 1))"
            ),
            &[],
        )?;
    }
    transaction.commit()?;
    Ok(Copied { tables: copied })
}

fn postgres_value(
    value: rusqlite::types::ValueRef<'_>,
    kind: &Type,
    table: &str,
) -> Result<Box<dyn ToSql + Sync>> {
    use rusqlite::types::ValueRef;
    let mismatch = || Error::Corrupt(format!("a value in {table} is not of its column's type"));
    Ok(match (value, kind) {
        (ValueRef::Null, kind) if *kind == Type::INT8 => Box::new(None::<i64>),
        (ValueRef::Null, kind) if *kind == Type::TEXT => Box::new(None::<String>),
        (ValueRef::Null, kind) if *kind == Type::BYTEA => Box::new(None::<Vec<u8>>),
        (ValueRef::Null, _) => Box::new(None::<bool>),
        (ValueRef::Integer(number), kind) if *kind == Type::BOOL => Box::new(number != 0),
        (ValueRef::Integer(number), _) => Box::new(number),
        (ValueRef::Text(text), kind) if *kind == Type::TEXT => {
            Box::new(String::from_utf8(text.to_vec()).map_err(|_| mismatch())?)
        }
        (ValueRef::Blob(bytes) | ValueRef::Text(bytes), kind) if *kind == Type::BYTEA => {
            Box::new(bytes.to_vec())
        }
        _ => return Err(mismatch()),
    })
}

/// Copies the ledger of the PostgreSQL database `from` (in one repeatable-read snapshot) into a
/// new SQLite file at `to`, made with the current schema.
pub(crate) fn postgres_into_sqlite(from: &mut Client, to: &Path) -> Result<Copied> {
    drop(crate::SqliteStore::open(to, true)?);
    let mut destination = Connection::open(to)?;
    destination.pragma_update(None, "foreign_keys", "OFF")?;
    let target = destination.transaction()?;
    let mut source = from
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()?;
    let mut copied = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        let columns = postgres_columns(&mut source, table)?;
        let names: Vec<&str> = columns.iter().map(|(name, _)| name.as_str()).collect();
        let list = names.join(", ");
        let marks: Vec<String> = (1..=names.len()).map(|index| format!("?{index}")).collect();
        let mut insert = target.prepare(&format!(
            "INSERT OR REPLACE INTO {table} ({list}) VALUES ({})",
            marks.join(", ")
        ))?;
        let params: [&(dyn ToSql + Sync); 0] = [];
        let mut rows = source.query_raw(
            &format!("SELECT {list} FROM {table}{}", where_clause(table)),
            params,
        )?;
        let mut count = 0u64;
        while let Some(row) = rows.next()? {
            let mut values = Vec::with_capacity(columns.len());
            for (index, (_, kind)) in columns.iter().enumerate() {
                values.push(sqlite_value(&row, index, kind)?);
            }
            insert.execute(rusqlite::params_from_iter(values.iter().map(
                |value| match value {
                    Value::Null => rusqlite::types::Value::Null,
                    Value::Int(number) => rusqlite::types::Value::Integer(*number),
                    Value::Text(text) => rusqlite::types::Value::Text(text.clone()),
                    Value::Blob(bytes) => rusqlite::types::Value::Blob(bytes.clone()),
                },
            )))?;
            count += 1;
        }
        copied.push((table.to_owned(), count));
    }
    source.commit()?;
    target.commit()?;
    destination.pragma_update(None, "foreign_keys", "ON")?;
    Ok(Copied { tables: copied })
}

fn sqlite_value(row: &postgres::Row, index: usize, kind: &Type) -> Result<Value> {
    Ok(if *kind == Type::INT8 {
        row.try_get::<_, Option<i64>>(index)?
            .map_or(Value::Null, Value::Int)
    } else if *kind == Type::TEXT {
        row.try_get::<_, Option<String>>(index)?
            .map_or(Value::Null, Value::Text)
    } else if *kind == Type::BYTEA {
        row.try_get::<_, Option<Vec<u8>>>(index)?
            .map_or(Value::Null, Value::Blob)
    } else {
        row.try_get::<_, Option<bool>>(index)?
            .map_or(Value::Null, |flag| Value::Int(i64::from(flag)))
    })
}

/// Copies the SQLite file at `from` into a new file at `to`, consistently, while others may
/// write (`VACUUM INTO`).
pub(crate) fn sqlite_into_sqlite(from: &Path, to: &Path) -> Result<()> {
    let source = Connection::open_with_flags(from, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let target = to
        .to_str()
        .ok_or_else(|| Error::Corrupt(format!("{}: not a path SQLite can be given", to.display())))?;
    source.execute("VACUUM INTO ?1", [target])?;
    Ok(())
}

/// Rows per table of a SQLite ledger, for checking a copy.
pub fn sqlite_counts(path: &Path) -> Result<Copied> {
    let connection = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut tables = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        let count: i64 = connection.query_row(
            &format!("SELECT count(*) FROM {table}{}", where_clause(table)),
            [],
            |row| row.get(0),
        )?;
        tables.push((table.to_owned(), count.unsigned_abs()));
    }
    Ok(Copied { tables })
}

/// Rows per table of a PostgreSQL ledger, for checking a copy.
pub(crate) fn postgres_counts(client: &mut Client) -> Result<Copied> {
    let mut tables = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        let count: i64 = client
            .query_one(
                &format!("SELECT count(*) FROM {table}{}", where_clause(table)),
                &[],
            )?
            .try_get(0)?;
        tables.push((table.to_owned(), count.unsigned_abs()));
    }
    Ok(Copied { tables })
}

/// Notes a backup file carries beside the ledger (its settings, what it was made from), in a
/// table of their own that no store reads.
pub fn write_notes(path: &Path, notes: &[(&str, &str)]) -> Result<()> {
    let connection = Connection::open(path)?;
    connection.execute_batch(
        "CREATE TABLE IF NOT EXISTS backup_notes (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    )?;
    for (key, value) in notes {
        connection.execute(
            "INSERT OR REPLACE INTO backup_notes (key, value) VALUES (?1, ?2)",
            [key, value],
        )?;
    }
    Ok(())
}

/// The notes of a backup file; an error names what is wrong with a file that is not one.
pub fn read_notes(path: &Path) -> Result<Vec<(String, String)>> {
    let connection = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut statement = connection
        .prepare("SELECT key, value FROM backup_notes ORDER BY key")
        .map_err(|_| Error::Incompatible(format!("{} is not a custody backup", path.display())))?;
    let notes = statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(notes)
}

/// Removes a backup's notes from a copy of it that becomes a store.
pub fn remove_notes(path: &Path) -> Result<()> {
    Connection::open(path)?.execute_batch("DROP TABLE IF EXISTS backup_notes")?;
    Ok(())
}
