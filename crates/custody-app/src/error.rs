//! The error of the use cases: what failed, in words a DPO can act on.

/// What went wrong in a use case.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value given by the user is not valid.
    #[error(transparent)]
    Domain(#[from] custody_core::Error),
    /// A file could not be read as expected.
    #[error(transparent)]
    Ingest(#[from] custody_ingest::Error),
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] custody_store::Error),
    /// A notice could not be rendered or sent.
    #[error(transparent)]
    Mail(#[from] custody_mail::Error),
    /// Keys could not be loaded or used.
    #[error(transparent)]
    Vault(#[from] custody_vault::Error),
    /// The data directory is missing, uninitialised, or its settings are wrong.
    #[error("{0}")]
    Directory(String),
    /// Something named does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A request that cannot be carried out as asked.
    #[error("{0}")]
    Invalid(String),
    /// Writing an output file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// Result with the use-case error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An IO error on `path`.
    pub fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.display().to_string(),
            source,
        }
    }
}
