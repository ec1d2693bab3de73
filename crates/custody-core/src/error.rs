//! The error type of the domain crate: a value that could not be built, with what was expected.

/// What went wrong when building a domain value from outside input.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// A value did not have the expected shape.
    #[error("{what}: {value:?} is not valid; expected {expected}")]
    Invalid {
        /// Which kind of value it was meant to be.
        what: &'static str,
        /// The value as given (never personal data beyond what the user just typed).
        value: String,
        /// What would have been accepted.
        expected: String,
    },
    /// A local time that is skipped or repeated in the organisation's time zone.
    #[error("{0}")]
    AmbiguousLocalTime(String),
}

/// Result with the domain error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn invalid(what: &'static str, value: &str, expected: impl Into<String>) -> Self {
        Error::Invalid {
            what,
            value: value.chars().take(80).collect(),
            expected: expected.into(),
        }
    }
}
