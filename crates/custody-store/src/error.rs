//! Errors of the store.

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database refused an operation.
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
    /// The database is from another version of custody or another key.
    #[error("{0}")]
    Incompatible(String),
    /// A name or reference that must be unique is taken.
    #[error("{0}")]
    Conflict(String),
    /// Something asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A person reference appears twice in one import.
    #[error("the reference {reference:?} appears twice in this file (again at line {line})")]
    DuplicateReference {
        /// The reference.
        reference: String,
        /// The line of the second occurrence.
        line: u64,
    },
    /// The caller's rows failed part-way; nothing was written.
    #[error("{0}")]
    Aborted(crate::BoxError),
    /// The audit chain does not end where the signer's record says: nothing was written.
    #[error("the audit chain was cut: {0}; nothing was written (see `custody audit verify`)")]
    AuditChain(String),
    /// Stored data could not be read back.
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
}

/// Result with the store error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
