//! Errors that name the file, the line and the column, and say what was expected.

use std::fmt;

/// Where in a file something went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file as the user named it.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<u64>,
    /// Column header (and 1-based position), when it applies.
    pub column: Option<String>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
        }
        if let Some(column) = &self.column {
            write!(f, ", column {column}")?;
        }
        Ok(())
    }
}

/// A file could not be read as expected.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be opened or read.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The content is not what was expected at that place.
    #[error("{location}: {message}")]
    Content {
        /// Where.
        location: Location,
        /// What was found and what was expected.
        message: String,
    },
}

/// Result with the ingest error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A content error at a line and column.
    pub fn at(file: &str, line: Option<u64>, column: Option<String>, message: impl Into<String>) -> Self {
        Error::Content {
            location: Location {
                file: file.to_owned(),
                line,
                column,
            },
            message: message.into(),
        }
    }
}
