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
            DeskError::App(App::Invalid(_) | App::Domain(_) | App::Ingest(_)) | DeskError::BadRequest(_) => {
                StatusCode::BAD_REQUEST
            }
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

    /// What to tell the user: a server failure is logged (without personal data) and told in
    /// general words, as its cause may name files or data.
    pub fn public_message(&self) -> String {
        if self.status() == StatusCode::INTERNAL_SERVER_ERROR {
            let id = crate::log::request_id().unwrap_or_default();
            tracing::error!(kind = self.kind(), cause = %crate::log::causes(self), "the server could not answer");
            format!("the server could not answer; the error is in its log under request {id}")
        } else {
            self.to_string()
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

/// An error answered as JSON: `{"error": "..."}`.
pub(crate) struct ApiError(pub DeskError);

impl<E: Into<DeskError>> From<E> for ApiError {
    fn from(error: E) -> Self {
        ApiError(error.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let body = axum::Json(serde_json::json!({ "error": self.0.public_message() }));
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
