//! Errors of the store.

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database refused an operation (or could not be reached): what it said, whichever
    /// backend it is.
    #[error("database: {0}")]
    Database(#[source] BackendError),
    /// Another writer held a lock longer than this command would wait.
    #[error("the database is busy (another command or desk is writing); try again: {0}")]
    Busy(#[source] BackendError),
    /// The database cannot be reached, or its address cannot be used.
    #[error("{0}")]
    Connect(String),
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

/// A backend's own error, kept as its cause without naming the backend's types.
#[derive(Debug)]
pub struct BackendError(Box<dyn std::error::Error + Send + Sync>);

impl std::fmt::Display for BackendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for BackendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Self {
        let busy = matches!(
            error.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        );
        let error = BackendError(Box::new(error));
        if busy {
            Error::Busy(error)
        } else {
            Error::Database(error)
        }
    }
}

impl From<postgres::Error> for Error {
    fn from(error: postgres::Error) -> Self {
        use postgres::error::SqlState;
        let busy = error.code().is_some_and(|code| {
            *code == SqlState::LOCK_NOT_AVAILABLE
                || *code == SqlState::QUERY_CANCELED
                || *code == SqlState::T_R_SERIALIZATION_FAILURE
                || *code == SqlState::T_R_DEADLOCK_DETECTED
        });
        let error = BackendError(Box::new(error));
        if busy {
            Error::Busy(error)
        } else {
            Error::Database(error)
        }
    }
}
