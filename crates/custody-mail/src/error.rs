//! The error of the mail crate.

/// What went wrong with a notice or the mail server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The SMTP settings are incomplete or wrong.
    #[error("SMTP settings: {0}")]
    Config(String),
    /// A template could not be read or rendered.
    #[error("notice template {name}: {message}")]
    Template {
        /// The template's name.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// A message could not be built (an address that is not one).
    #[error("message: {0}")]
    Message(String),
}

/// Result with the mail error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
