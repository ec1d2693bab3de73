//! The desk's log: structured (`tracing`), as text or JSON lines (`[desk] log_format`), on
//! standard error. Every request gets an id, sent back as `X-Request-Id` and named on an error
//! page, so that the line saying what failed can be found. The log holds route templates, never
//! the path asked, and no personal data or tokens: an error's cause is logged up to its first
//! line break (a database's detail lines may quote values).

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use custody_core::LogFormat;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// Starts the desk's log; a second call (tests) leaves the first in place.
pub fn start(format: LogFormat) {
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// The id of the request being answered, if any.
pub fn request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Gives every request an id: in the log's span for it, and in the answer's `X-Request-Id`.
pub async fn with_request_id(request: Request, next: Next) -> Response {
    let id = crate::auth::random_token()
        .ok()
        .and_then(|token| token.get(..16).map(str::to_owned))
        .unwrap_or_default();
    let span = tracing::info_span!("request", id = %id);
    let mut response = REQUEST_ID
        .scope(id.clone(), next.run(request).instrument(span))
        .await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// An error's causes, each up to its first line break, joined.
pub fn causes(error: &dyn std::error::Error) -> String {
    let mut said = Vec::new();
    let mut next = Some(error);
    while let Some(error) = next {
        let text = error.to_string();
        let first = text.lines().next().unwrap_or_default().to_owned();
        let repeated = said.last().is_some_and(|last: &String| last.ends_with(&first));
        if !repeated && !first.is_empty() {
            said.push(first);
        }
        next = error.source();
    }
    said.join(": ")
        .chars()
        .map(|character| if character.is_control() { ' ' } else { character })
        .collect()
}
