//! The desk's accounts and API tokens.

use custody_core::{AccountId, SupplierId, TokenId};
use rusqlite::{Connection, OptionalExtension, Row, params};

use custody_core::{DeskRole, Instant};

use super::audit;
use crate::AuditSigner;
use crate::error::{Error, Result};
use crate::types::{AccountRecord, ApiTokenRecord, AuditDraft, NewAccount, NewApiToken};

fn role(text: &str) -> rusqlite::Result<DeskRole> {
    DeskRole::parse(text).map_err(|error| {
        rusqlite::Error::InvalidColumnType(0, error.to_string(), rusqlite::types::Type::Text)
    })
}

fn at(seconds: i64) -> rusqlite::Result<Instant> {
    Instant::from_unix_seconds(seconds).map_err(|error| {
        rusqlite::Error::InvalidColumnType(0, error.to_string(), rusqlite::types::Type::Integer)
    })
}

fn instant(seconds: Option<i64>) -> rusqlite::Result<Option<Instant>> {
    seconds.map(at).transpose()
}

fn account(row: &Row<'_>) -> rusqlite::Result<AccountRecord> {
    Ok(AccountRecord {
        id: row.get(0).map(AccountId::new)?,
        name: row.get(1)?,
        role: role(&row.get::<_, String>(2)?)?,
        password_hash: row.get(3)?,
        totp_sealed: row.get(4)?,
        supplier: row.get(7).map(|id: Option<i64>| id.map(SupplierId::new))?,
        created_at: at(row.get(5)?)?,
        disabled_at: instant(row.get(6)?)?,
    })
}

fn token(row: &Row<'_>) -> rusqlite::Result<ApiTokenRecord> {
    Ok(ApiTokenRecord {
        id: row.get(0).map(TokenId::new)?,
        name: row.get(1)?,
        role: role(&row.get::<_, String>(2)?)?,
        supplier: row.get(5).map(|id: Option<i64>| id.map(SupplierId::new))?,
        created_at: at(row.get(3)?)?,
        revoked_at: instant(row.get(4)?)?,
    })
}

const ACCOUNT_COLUMNS: &str =
    "SELECT id, name, role, password_hash, totp_sealed, created_at, disabled_at, supplier FROM accounts";
const TOKEN_COLUMNS: &str = "SELECT id, name, role, created_at, revoked_at, supplier FROM api_tokens";

pub(super) fn accounts(connection: &Connection) -> Result<Vec<AccountRecord>> {
    let mut statement = connection.prepare_cached(&format!("{ACCOUNT_COLUMNS} ORDER BY id"))?;
    let rows = statement.query_map([], account)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(super) fn account_named(connection: &Connection, name: &str) -> Result<Option<AccountRecord>> {
    let mut statement =
        connection.prepare_cached(&format!("{ACCOUNT_COLUMNS} WHERE name = ?1 COLLATE NOCASE"))?;
    Ok(statement.query_row([name], account).optional()?)
}

pub(super) fn tokens(connection: &Connection) -> Result<Vec<ApiTokenRecord>> {
    let mut statement = connection.prepare_cached(&format!("{TOKEN_COLUMNS} ORDER BY id"))?;
    let rows = statement.query_map([], token)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(super) fn token_by_hash(connection: &Connection, hash: &[u8]) -> Result<Option<ApiTokenRecord>> {
    let mut statement = connection.prepare_cached(&format!("{TOKEN_COLUMNS} WHERE token_hash = ?1"))?;
    Ok(statement.query_row([hash], token).optional()?)
}

/// What accounts and tokens share: a table, the column that ends one, and words for messages.
struct Kind {
    table: &'static str,
    ended: &'static str,
    noun: &'static str,
    with_article: &'static str,
    done: &'static str,
}

const ACCOUNTS: Kind = Kind {
    table: "accounts",
    ended: "disabled_at",
    noun: "account",
    with_article: "an account",
    done: "disabled",
};
const TOKENS: Kind = Kind {
    table: "api_tokens",
    ended: "revoked_at",
    noun: "token",
    with_article: "a token",
    done: "revoked",
};

/// Runs `insert` for a new named row of `kind` when the name (whatever its case) is free, with
/// its audit entry, in one transaction.
fn add_named(
    connection: &mut Connection,
    kind: &Kind,
    name: &str,
    insert: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<usize>,
    mut draft: AuditDraft,
    signer: &dyn AuditSigner,
) -> Result<i64> {
    let transaction = connection.transaction()?;
    let taken: bool = transaction.query_row(
        &format!(
            "SELECT EXISTS (SELECT 1 FROM {} WHERE name = ?1 COLLATE NOCASE)",
            kind.table
        ),
        [name],
        |row| row.get(0),
    )?;
    if taken {
        return Err(Error::Conflict(format!(
            "there is already {} named {name}",
            kind.with_article
        )));
    }
    insert(&transaction)?;
    let id = transaction.last_insert_rowid();
    draft.subject = format!("{}:{id}", kind.noun);
    audit::append(&transaction, draft, signer)?;
    transaction.commit()?;
    Ok(id)
}

/// Ends the named row of `kind` (disables an account, revokes a token) at `at`, audited; a row
/// already ended is refused.
fn end_named(
    connection: &mut Connection,
    kind: &Kind,
    name: &str,
    at: Instant,
    mut draft: AuditDraft,
    signer: &dyn AuditSigner,
) -> Result<()> {
    let transaction = connection.transaction()?;
    let found: Option<(i64, Option<i64>)> = transaction
        .query_row(
            &format!(
                "SELECT id, {} FROM {} WHERE name = ?1 COLLATE NOCASE",
                kind.ended, kind.table
            ),
            [name],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let id = match found {
        None => return Err(Error::NotFound(format!("there is no {} named {name}", kind.noun))),
        Some((_, Some(_))) => {
            return Err(Error::Conflict(format!(
                "the {} {name} is already {}",
                kind.noun, kind.done
            )));
        }
        Some((id, None)) => id,
    };
    transaction.execute(
        &format!("UPDATE {} SET {} = ?1 WHERE id = ?2", kind.table, kind.ended),
        params![at.unix_seconds(), id],
    )?;
    draft.subject = format!("{}:{id}", kind.noun);
    audit::append(&transaction, draft, signer)?;
    transaction.commit()?;
    Ok(())
}

pub(super) fn add_account(
    connection: &mut Connection,
    new: NewAccount,
    draft: AuditDraft,
    signer: &dyn AuditSigner,
) -> Result<i64> {
    let insert = |transaction: &rusqlite::Transaction<'_>| {
        transaction.execute(
            "INSERT INTO accounts (name, role, password_hash, created_at, supplier) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                new.name,
                new.role.as_str(),
                new.password_hash,
                new.created_at.unix_seconds(),
                new.supplier.map(SupplierId::get)
            ],
        )
    };
    add_named(connection, &ACCOUNTS, &new.name, insert, draft, signer)
}

pub(super) fn add_token(
    connection: &mut Connection,
    new: NewApiToken,
    draft: AuditDraft,
    signer: &dyn AuditSigner,
) -> Result<i64> {
    let insert = |transaction: &rusqlite::Transaction<'_>| {
        transaction.execute(
            "INSERT INTO api_tokens (name, role, token_hash, created_at, supplier) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                new.name,
                new.role.as_str(),
                new.token_hash,
                new.created_at.unix_seconds(),
                new.supplier.map(SupplierId::get)
            ],
        )
    };
    add_named(connection, &TOKENS, &new.name, insert, draft, signer)
}

pub(super) fn take_totp_step(connection: &Connection, name: &str, step: i64) -> Result<bool> {
    let changed = connection.execute(
        "UPDATE accounts SET totp_last_step = ?2 WHERE name = ?1 COLLATE NOCASE \
         AND (totp_last_step IS NULL OR totp_last_step < ?2)",
        params![name, step],
    )?;
    Ok(changed == 1)
}

/// Sets (or, with `None`, clears) an account's sealed TOTP secret, audited.
pub(super) fn set_account_totp(
    connection: &mut Connection,
    name: &str,
    sealed: Option<&[u8]>,
    draft: AuditDraft,
    signer: &dyn AuditSigner,
) -> Result<()> {
    update_active(
        connection,
        name,
        "totp_sealed",
        rusqlite::types::Value::from(sealed.map(<[u8]>::to_vec)),
        draft,
        signer,
    )
}

/// Replaces an account's password hash, audited.
pub(super) fn set_account_password(
    connection: &mut Connection,
    name: &str,
    password_hash: &str,
    draft: AuditDraft,
    signer: &dyn AuditSigner,
) -> Result<()> {
    update_active(
        connection,
        name,
        "password_hash",
        rusqlite::types::Value::from(password_hash.to_owned()),
        draft,
        signer,
    )
}

/// Sets one column of an active account, audited in the same transaction.
fn update_active(
    connection: &mut Connection,
    name: &str,
    column: &'static str,
    value: rusqlite::types::Value,
    mut draft: AuditDraft,
    signer: &dyn AuditSigner,
) -> Result<()> {
    let transaction = connection.transaction()?;
    let id: Option<i64> = transaction
        .query_row(
            "SELECT id FROM accounts WHERE name = ?1 COLLATE NOCASE AND disabled_at IS NULL",
            [name],
            |row| row.get(0),
        )
        .optional()?;
    let id = id.ok_or_else(|| Error::NotFound(format!("there is no active account named {name}")))?;
    transaction.execute(
        &format!("UPDATE accounts SET {column} = ?1 WHERE id = ?2"),
        params![value, id],
    )?;
    draft.subject = format!("account:{id}");
    audit::append(&transaction, draft, signer)?;
    transaction.commit()?;
    Ok(())
}

pub(super) fn disable_account(
    connection: &mut Connection,
    name: &str,
    at: Instant,
    draft: AuditDraft,
    signer: &dyn AuditSigner,
) -> Result<()> {
    end_named(connection, &ACCOUNTS, name, at, draft, signer)
}

pub(super) fn revoke_token(
    connection: &mut Connection,
    name: &str,
    at: Instant,
    draft: AuditDraft,
    signer: &dyn AuditSigner,
) -> Result<()> {
    end_named(connection, &TOKENS, name, at, draft, signer)
}
