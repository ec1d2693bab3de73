//! What can go wrong answering a request, and how pages and the API say it.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// An error answering a request.
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    /// A use case refused or failed.
    #[error(transparent)]
    App(#[from] custody_app::Error),
    /// No valid session or token.
    #[error("sign in first")]
    Unauthenticated,
    /// The caller's role may not do this.
    #[error("your role may not do this")]
    Forbidden,
    /// A form or body that is not what the route expects.
    #[error("{0}")]
    BadRequest(String),
    /// An API request that does not match its description: a body, path or query the route
    /// cannot read, with the field at fault when there is one.
    #[error("{message}")]
    Malformed {
        /// Stable code: `malformed_body`, `malformed_path`, `malformed_query`.
        code: &'static str,
        /// What was wrong, in words.
        message: String,
        /// Where: `nature[1]`, `id`, `at`.
        field: Option<String>,
    },
    /// A body in a media type the route does not read.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A form whose CSRF token is missing or stale.
    #[error("this form has expired; reload the page and try again")]
    StaleForm,
    /// Too many failed sign-ins from here: seconds to wait.
    #[error("too many failed sign-ins from here; try again in {}", in_words(*.0))]
    Throttled(u64),
    /// Too many lookups or downloads: try again after this many seconds.
    #[error("too many requests of this kind from your account; try again in {0} seconds")]
    RateLimited(u64),
    /// A body larger than any route reads.
    #[error("the request is too large (at most {} KiB)", crate::auth::BODY_BYTES_MAX / 1024)]
    TooLarge,
    /// Nothing here.
    #[error("there is nothing at this address")]
    NoRoute,
    /// The server itself failed.
    #[error("{0}")]
    Internal(String),
}

impl DeskError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        use custody_app::Error as App;
        match self {
            DeskError::App(App::NotFound(_))
            | DeskError::App(App::Store(custody_store::Error::NotFound(_)))
            | DeskError::NoRoute => StatusCode::NOT_FOUND,
            DeskError::App(App::Invalid(_) | App::Domain(_) | App::Ingest(_))
            | DeskError::BadRequest(_)
            | DeskError::Malformed { .. } => StatusCode::BAD_REQUEST,
            DeskError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            DeskError::App(App::Store(custody_store::Error::Conflict(_))) => StatusCode::CONFLICT,
            // Nothing can be written until someone looks at the audit log: say so plainly.
            DeskError::App(App::Store(custody_store::Error::AuditChain(_))) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            DeskError::App(_) | DeskError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            DeskError::Unauthenticated => StatusCode::UNAUTHORIZED,
            DeskError::Forbidden | DeskError::StaleForm => StatusCode::FORBIDDEN,
            DeskError::Throttled(_) | DeskError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            DeskError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        }
    }

    /// A thing the body names (a supplier, a person, an evidence event) that does not exist,
    /// once the thing in the path is known to: the ledger refuses the request as it stands (409),
    /// so that 404 always means the address itself.
    pub fn named_in_body(self) -> DeskError {
        use custody_app::Error as App;
        match self {
            DeskError::App(App::NotFound(message) | App::Store(custody_store::Error::NotFound(message))) => {
                DeskError::App(App::Invalid(message))
            }
            other => other,
        }
    }

    /// The HTTP status through the API: a request that does not match the API's description is
    /// 400; one that matches it but that custody's rules refuse given what is recorded (an act
    /// before the incident was known, a report after its deadline without the reasons, a thing
    /// done once already) is 409; a value or file in it that cannot be read as what it says it
    /// is (a CSV backlog without its columns) is 422.
    pub fn api_status(&self) -> StatusCode {
        use custody_app::Error as App;
        match self {
            DeskError::App(App::Invalid(_)) => StatusCode::CONFLICT,
            DeskError::App(App::Domain(_) | App::Ingest(_)) | DeskError::BadRequest(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            _ => self.status(),
        }
    }

    /// The stable code a client can act on (the API's `error.code`).
    pub fn code(&self) -> &'static str {
        use custody_app::Error as App;
        match self {
            DeskError::App(App::NotFound(_) | App::Store(custody_store::Error::NotFound(_))) => "not_found",
            DeskError::App(App::Store(custody_store::Error::Conflict(_))) => "conflict",
            DeskError::App(App::Store(custody_store::Error::AuditChain(_))) => "audit_chain_broken",
            DeskError::App(App::Invalid(_)) => "refused",
            DeskError::App(App::Domain(_)) | DeskError::BadRequest(_) => "invalid_value",
            DeskError::App(App::Ingest(_)) => "unreadable_file",
            DeskError::App(_) | DeskError::Internal(_) => "internal",
            DeskError::Malformed { code, .. } => code,
            DeskError::UnsupportedMediaType(_) => "unsupported_media_type",
            DeskError::Unauthenticated => "unauthenticated",
            DeskError::Forbidden => "forbidden",
            DeskError::StaleForm => "stale_form",
            DeskError::Throttled(_) => "throttled",
            DeskError::RateLimited(_) => "rate_limited",
            DeskError::TooLarge => "too_large",
            DeskError::NoRoute => "no_route",
        }
    }

    /// The field at fault, where one is known.
    pub fn field(&self) -> Option<&str> {
        match self {
            DeskError::Malformed { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    /// What to tell the user: a server failure is logged (without personal data) and told in
    /// general words, as its cause may name files or data. What the user wrote is shown as they
    /// wrote it (see [`as_written`]).
    pub fn public_message(&self) -> String {
        if self.status() == StatusCode::INTERNAL_SERVER_ERROR {
            let id = crate::log::request_id().unwrap_or_default();
            tracing::error!(kind = self.kind(), cause = %crate::log::causes(self), "the server could not answer");
            format!("the server could not answer; the error is in its log under request {id}")
        } else {
            as_written(&self.to_string())
        }
    }

    /// Seconds the client should wait, for `Retry-After`.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            DeskError::RateLimited(seconds) => Some(*seconds),
            DeskError::Throttled(seconds) => Some(*seconds),
            _ => None,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            DeskError::App(custody_app::Error::Store(_)) => "store",
            DeskError::App(custody_app::Error::Vault(_)) => "vault",
            DeskError::App(custody_app::Error::Mail(_)) => "mail",
            DeskError::App(custody_app::Error::Io { .. }) => "io",
            DeskError::App(custody_app::Error::Directory(_)) => "directory",
            DeskError::App(_) => "use case",
            _ => "server",
        }
    }
}

/// A wait in words: seconds under two minutes, else whole minutes (rounded up).
fn in_words(seconds: u64) -> String {
    match seconds {
        1 => "1 second".to_owned(),
        0..120 => format!("{seconds} seconds"),
        _ => format!("{} minutes", seconds.div_ceil(60)),
    }
}

impl From<custody_store::Error> for DeskError {
    fn from(error: custody_store::Error) -> Self {
        DeskError::App(error.into())
    }
}

/// A message as the user would read it: the quoted values in custody's and serde's messages are
/// formatted with Rust's debug escapes (`"\u{10de88}L"`), which this undoes for every character but
/// control characters and the bidirectional controls that could reorder what is shown. Quotes and
/// backslashes inside a quoted value are shown as typed.
pub fn as_written(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find('\\') {
        out.push_str(rest.get(..at).unwrap_or_default());
        let after = rest.get(at + 1..).unwrap_or_default();
        let (shown, used) = unescape_one(after);
        out.push_str(&shown);
        rest = after.get(used..).unwrap_or_default();
    }
    out.push_str(rest);
    // A message that put the user's text in without escaping it: hidden characters are escaped
    // here, so none reaches a terminal or a page raw.
    let raw = |character: char| hidden(character) && !matches!(character, '\n' | '\t');
    if out.chars().any(raw) {
        return out
            .chars()
            .map(|character| {
                if raw(character) {
                    format!("\\u{{{:x}}}", u32::from(character))
                } else {
                    character.to_string()
                }
            })
            .collect();
    }
    out
}

/// One escape after its backslash: what to show and how many bytes it used.
fn unescape_one(after: &str) -> (String, usize) {
    let mut characters = after.chars();
    match characters.next() {
        Some(quote @ ('"' | '\'' | '\\')) => (quote.to_string(), 1),
        Some('u') if after.starts_with("u{") => {
            let Some(end) = after.find('}') else {
                return ("\\".to_owned(), 0);
            };
            let hex = after.get(2..end).unwrap_or_default();
            match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
                Some(character) if !hidden(character) => (character.to_string(), end + 1),
                _ => (format!("\\{}", after.get(..=end).unwrap_or_default()), end + 1),
            }
        }
        _ => ("\\".to_owned(), 0),
    }
}

/// Characters kept escaped: control characters, and those that reorder, hide or break the text
/// around them (bidirectional controls, zero-width and invisible characters, line and paragraph
/// separators, tag characters).
fn hidden(character: char) -> bool {
    character.is_control()
        || matches!(
            character,
            '\u{061c}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2069}'
                | '\u{feff}'
                | '\u{e0000}'..='\u{e007f}'
        )
}

/// A value the user gave, quoted for a message in Rust's debug form, which every message's
/// [`as_written`] (once, in [`DeskError::public_message`]) shows as typed, with control and
/// hidden characters escaped.
pub fn quoted(text: &str) -> String {
    format!("{text:?}")
}

/// An error answered as JSON, in the one shape every API error has:
/// `{"error": {"code": "not_found", "message": "…", "field": null}}`.
pub(crate) struct ApiError(pub DeskError);

impl<E: Into<DeskError>> From<E> for ApiError {
    fn from(error: E) -> Self {
        ApiError(error.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.0.api_status();
        let body = axum::Json(serde_json::json!({ "error": {
            "code": self.0.code(),
            "message": self.0.public_message(),
            "field": self.0.field(),
        } }));
        let retry = self.0.retry_after();
        let mut response = (status, body).into_response();
        if let Some(seconds) = retry {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"custody\""),
            );
        }
        response
    }
}

/// An error answered as a page.
pub(crate) struct PageError(pub DeskError);

impl<E: Into<DeskError>> From<E> for PageError {
    fn from(error: E) -> Self {
        PageError(error.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let page = crate::render::error_page(status, &self.0.public_message());
        let retry = self.0.retry_after();
        let mut response = (status, axum::response::Html(page)).into_response();
        if let Some(seconds) = retry {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::as_written;

    #[test]
    fn messages_show_what_was_typed_as_typed_but_controls_stay_escaped() {
        let debug = format!("{:?}: expected yes", "\u{10de88}L \"quoted\" back\\slash");
        assert_eq!(
            as_written(&debug),
            "\"\u{10de88}L \"quoted\" back\\slash\": expected yes"
        );
        let control = format!("{:?}", "bell\u{7}\u{202e}");
        assert_eq!(as_written(&control), "\"bell\\u{7}\\u{202e}\"");
        assert_eq!(as_written("no escapes here"), "no escapes here");
        assert_eq!(
            as_written("raw \u{202e}rtl and\nline"),
            "raw \\u{202e}rtl and\nline"
        );
        assert_eq!(as_written(&super::quoted("a\u{7}é")), "\"a\\u{7}é\"");
        // Typed backslashes survive the one pass.
        assert_eq!(as_written(&super::quoted("a\\\"b")), "\"a\\\"b\"");
        assert_eq!(as_written("a lone \\ at the end\\"), "a lone \\ at the end\\");
    }
}
