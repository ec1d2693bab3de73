//! The desk's accounts and API tokens in PostgreSQL; names are unique whatever their case.

use custody_core::{AccountId, SupplierId, TokenId};
use postgres::types::ToSql;
use postgres::{Row, Transaction};

use custody_core::{DeskRole, Instant};

use super::Db;
use super::{instant, optional};
use crate::error::{Error, Result};
use crate::types::{AccountRecord, ApiTokenRecord, AuditDraft, NewAccount, NewApiToken};

fn role(text: &str) -> Result<DeskRole> {
    DeskRole::parse(text).map_err(|error| Error::Corrupt(error.to_string()))
}

fn account(row: &Row) -> Result<AccountRecord> {
    Ok(AccountRecord {
        id: row.try_get(0).map(AccountId::new)?,
        name: row.try_get(1)?,
        role: role(row.try_get(2)?)?,
        password_hash: row.try_get(3)?,
        totp_sealed: row.try_get(4)?,
        supplier: row.try_get(7).map(|id: Option<i64>| id.map(SupplierId::new))?,
        created_at: instant(row.try_get(5)?)?,
        disabled_at: optional(row.try_get(6)?)?,
    })
}

fn token(row: &Row) -> Result<ApiTokenRecord> {
    Ok(ApiTokenRecord {
        id: row.try_get(0).map(TokenId::new)?,
        name: row.try_get(1)?,
        role: role(row.try_get(2)?)?,
        supplier: row.try_get(5).map(|id: Option<i64>| id.map(SupplierId::new))?,
        created_at: instant(row.try_get(3)?)?,
        revoked_at: optional(row.try_get(4)?)?,
    })
}

const ACCOUNT_COLUMNS: &str =
    "SELECT id, name, role, password_hash, totp_sealed, created_at, disabled_at, supplier FROM accounts";
const TOKEN_COLUMNS: &str = "SELECT id, name, role, created_at, revoked_at, supplier FROM api_tokens";

/// Every account, or the one named (any case).
pub(super) fn accounts(client: &mut Db<'_>, name: Option<&str>) -> Result<Vec<AccountRecord>> {
    let rows = match name {
        Some(name) => client.query(
            &format!("{ACCOUNT_COLUMNS} WHERE lower(name COLLATE \"C\") = lower($1::text COLLATE \"C\")"),
            &[&name],
        )?,
        None => client.query(&format!("{ACCOUNT_COLUMNS} ORDER BY id"), &[])?,
    };
    rows.iter().map(account).collect()
}

/// Every token, or the one with this keyed hash.
pub(super) fn tokens(client: &mut Db<'_>, hash: Option<&[u8]>) -> Result<Vec<ApiTokenRecord>> {
    let rows = match hash {
        Some(hash) => client.query(&format!("{TOKEN_COLUMNS} WHERE token_hash = $1"), &[&hash])?,
        None => client.query(&format!("{TOKEN_COLUMNS} ORDER BY id"), &[])?,
    };
    rows.iter().map(token).collect()
}

/// What accounts and tokens share: a table, the column that ends one, and words for messages.
pub(super) struct Kind {
    table: &'static str,
    ended: &'static str,
    noun: &'static str,
    with_article: &'static str,
    done: &'static str,
}

pub(super) const ACCOUNTS: Kind = Kind {
    table: "accounts",
    ended: "disabled_at",
    noun: "account",
    with_article: "an account",
    done: "disabled",
};
pub(super) const TOKENS: Kind = Kind {
    table: "api_tokens",
    ended: "revoked_at",
    noun: "token",
    with_article: "a token",
    done: "revoked",
};

/// Inserts a named row of `kind` when the name (whatever its case) is free.
fn add_named(
    transaction: &mut Transaction<'_>,
    kind: &Kind,
    name: &str,
    sql: &str,
    values: &[&(dyn ToSql + Sync)],
    draft: &mut AuditDraft,
) -> Result<i64> {
    let taken: bool = transaction
        .query_one(
            &format!(
                "SELECT EXISTS (SELECT 1 FROM {} WHERE lower(name COLLATE \"C\") = lower($1::text COLLATE \"C\"))",
                kind.table
            ),
            &[&name],
        )?
        .try_get(0)?;
    if taken {
        return Err(Error::Conflict(format!(
            "there is already {} named {name}",
            kind.with_article
        )));
    }
    let id: i64 = transaction.query_one(sql, values)?.try_get(0)?;
    draft.subject = format!("{}:{id}", kind.noun);
    Ok(id)
}

pub(super) fn add_account(
    transaction: &mut Transaction<'_>,
    new: NewAccount,
    draft: &mut AuditDraft,
) -> Result<i64> {
    add_named(
        transaction,
        &ACCOUNTS,
        &new.name,
        "INSERT INTO accounts (name, role, password_hash, created_at, supplier) VALUES ($1, $2, $3, $4, $5) \
         RETURNING id",
        &[
            &new.name,
            &new.role.as_str(),
            &new.password_hash,
            &new.created_at.unix_seconds(),
            &new.supplier.map(SupplierId::get),
        ],
        draft,
    )
}

pub(super) fn add_token(
    transaction: &mut Transaction<'_>,
    new: NewApiToken,
    draft: &mut AuditDraft,
) -> Result<i64> {
    add_named(
        transaction,
        &TOKENS,
        &new.name,
        "INSERT INTO api_tokens (name, role, token_hash, created_at, supplier) VALUES ($1, $2, $3, $4, $5) \
         RETURNING id",
        &[
            &new.name,
            &new.role.as_str(),
            &new.token_hash,
            &new.created_at.unix_seconds(),
            &new.supplier.map(SupplierId::get),
        ],
        draft,
    )
}

/// Ends the named row of `kind` at `at`; one already ended is refused.
pub(super) fn end_named(
    transaction: &mut Transaction<'_>,
    kind: &Kind,
    name: &str,
    at: Instant,
    draft: &mut AuditDraft,
) -> Result<()> {
    let found = transaction.query_opt(
        &format!(
            "SELECT id, {} FROM {} WHERE lower(name COLLATE \"C\") = lower($1::text COLLATE \"C\") FOR UPDATE",
            kind.ended, kind.table
        ),
        &[&name],
    )?;
    let id: i64 = match found {
        None => return Err(Error::NotFound(format!("there is no {} named {name}", kind.noun))),
        Some(row) if row.try_get::<_, Option<i64>>(1)?.is_some() => {
            return Err(Error::Conflict(format!(
                "the {} {name} is already {}",
                kind.noun, kind.done
            )));
        }
        Some(row) => row.try_get(0)?,
    };
    transaction.execute(
        &format!("UPDATE {} SET {} = $1 WHERE id = $2", kind.table, kind.ended),
        &[&at.unix_seconds(), &id],
    )?;
    draft.subject = format!("{}:{id}", kind.noun);
    Ok(())
}

fn active_account(transaction: &mut Transaction<'_>, name: &str, draft: &mut AuditDraft) -> Result<i64> {
    let row = transaction.query_opt(
        "SELECT id FROM accounts WHERE lower(name COLLATE \"C\") = lower($1::text COLLATE \"C\") AND disabled_at IS NULL FOR UPDATE",
        &[&name],
    )?;
    let id: i64 = row
        .ok_or_else(|| Error::NotFound(format!("there is no active account named {name}")))?
        .try_get(0)?;
    draft.subject = format!("account:{id}");
    Ok(id)
}

pub(super) fn set_password(
    transaction: &mut Transaction<'_>,
    name: &str,
    password_hash: &str,
    draft: &mut AuditDraft,
) -> Result<()> {
    let id = active_account(transaction, name, draft)?;
    transaction.execute(
        "UPDATE accounts SET password_hash = $1 WHERE id = $2",
        &[&password_hash, &id],
    )?;
    Ok(())
}

pub(super) fn set_totp(
    transaction: &mut Transaction<'_>,
    name: &str,
    sealed: Option<&[u8]>,
    draft: &mut AuditDraft,
) -> Result<()> {
    let id = active_account(transaction, name, draft)?;
    transaction.execute(
        "UPDATE accounts SET totp_sealed = $1 WHERE id = $2",
        &[&sealed, &id],
    )?;
    Ok(())
}
