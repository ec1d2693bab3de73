//! The identifiers' generation: a token in `meta` replaced, inside the same transaction, by every
//! write that adds or removes identifier hashes (a people import, a share's canaries). A copy of
//! the identifier index kept outside the store (the application's index file) records the token
//! it was built at, and is used only while the store still holds that token: never stale.

use std::sync::atomic::{AtomicU64, Ordering};

/// The key of the token in `meta`.
pub(crate) const KEY: &str = "identifiers_generation";

/// A fresh token: unique to this write (the process's random hash keys, which the standard
/// library seeds from the operating system, the process and a counter, hashed); not secret.
pub(crate) fn fresh() -> String {
    use std::hash::BuildHasher;
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let random = std::collections::hash_map::RandomState::new();
    let mut hasher = blake3::Hasher::new();
    hasher.update(&random.hash_one(count).to_le_bytes());
    hasher.update(&random.hash_one(std::process::id()).to_le_bytes());
    hasher.update(&std::process::id().to_le_bytes());
    hasher.update(&count.to_le_bytes());
    let hash = hasher.finalize();
    hash.as_bytes()
        .iter()
        .take(12)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The token a SQLite store holds, if any (a transaction is a connection too).
pub(crate) fn read_sqlite(connection: &rusqlite::Connection) -> crate::Result<Option<String>> {
    use rusqlite::OptionalExtension;
    Ok(connection
        .query_row("SELECT value FROM meta WHERE key = ?1", [KEY], |row| row.get(0))
        .optional()?)
}

/// The SQL that reads the token (`$1` is [`KEY`]), for PostgreSQL.
pub(crate) const GET_POSTGRES: &str = "SELECT value FROM meta WHERE key = $1";

/// The SQL that sets the token (`?1` / `$1` is the token), for SQLite.
pub(crate) const SET_SQLITE: &str = "INSERT INTO meta (key, value) VALUES ('identifiers_generation', ?1) \
     ON CONFLICT (key) DO UPDATE SET value = excluded.value";

/// The same, for PostgreSQL.
pub(crate) const SET_POSTGRES: &str = "INSERT INTO meta (key, value) VALUES ('identifiers_generation', $1) \
     ON CONFLICT (key) DO UPDATE SET value = excluded.value";

/// The error for a row found unchanged by an import that gave no state it was judged against.
pub(crate) fn unjudged() -> crate::Error {
    crate::Error::Corrupt("a row was found unchanged without the state it was judged against".to_owned())
}

/// Whether the people are still as they were when an import's rows were made (`read_at`), the
/// store's token being `now`: else the import is refused, as its rows (found unchanged, or
/// keeping contact details read then) were made from another state.
pub(crate) fn still(read_at: &crate::ReadAt, now: Option<&String>) -> crate::Result<()> {
    if read_at.0.as_ref() == now {
        return Ok(());
    }
    Err(crate::Error::Conflict(
        "the people changed while this import read its file (another import or a share's canaries \
             wrote them); nothing was written: run the import again"
            .to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_token_is_new() {
        let tokens: std::collections::HashSet<String> = (0..1000).map(|_| super::fresh()).collect();
        assert_eq!(tokens.len(), 1000);
        assert!(tokens.iter().all(|token| token.len() == 24));
    }
}
