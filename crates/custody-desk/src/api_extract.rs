//! What the API reads from a request (its JSON body, its path, its query), refused in the API's
//! one error shape with the field at fault, never as the framework's plain text; and the last
//! word on any other refusal under `/api/` (no such route, a method the route does not take, a
//! body too large), which is made JSON in the same shape.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::{StatusCode, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, DeskError};

/// A JSON body, read as the route's type; a body that is not JSON, not of the type or too large is
/// refused with the field at fault (`nature[1]`).
pub(crate) struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return Err(ApiError(DeskError::UnsupportedMediaType(
                "send the body as JSON, with Content-Type: application/json".to_owned(),
            )));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection: BytesRejection| match rejection.status() {
                StatusCode::PAYLOAD_TOO_LARGE => DeskError::TooLarge,
                _ => malformed("malformed_body", "the body could not be read".to_owned(), None),
            })?;
        read_json(&bytes).map(ApiJson).map_err(ApiError)
    }
}

/// The body as `T`, or what is wrong with it and where.
pub(crate) fn read_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DeskError> {
    let mut reader = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut reader).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let field = (path != "." && !path.is_empty()).then_some(path);
        let message = match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                format!("the body is not JSON: {inner}")
            }
            _ => match &field {
                Some(field) => format!("{field}: {}", without_position(&inner)),
                None => format!(
                    "the body is not what this route takes: {}",
                    without_position(&inner)
                ),
            },
        };
        malformed("malformed_body", message, field)
    })?;
    reader
        .end()
        .map_err(|error| malformed("malformed_body", format!("the body is not JSON: {error}"), None))?;
    Ok(value)
}

/// serde_json's message without its "at line 1 column 9", which a body sent by a program does not
/// need when the field is named.
fn without_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(at) => text.get(..at).unwrap_or(&text).to_owned(),
        None => text,
    }
}

fn malformed(code: &'static str, message: String, field: Option<String>) -> DeskError {
    DeskError::Malformed { code, message, field }
}

/// A path's parameters; one that is not of its type (`/incidents/abc`) is refused, named.
pub(crate) struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => {
                // A route with one parameter: the framework does not name it, the template does.
                let only = templates_of(parts.uri.path())
                    .first()
                    .and_then(|template| only_parameter(template));
                let mut refused = path_refused(&rejection);
                if let DeskError::Malformed { field, message, .. } = &mut refused
                    && field.is_none()
                    && let Some(name) = only
                {
                    *message = format!("{name}: {message}");
                    *field = Some(name);
                }
                Err(ApiError(refused))
            }
        }
    }
}

/// The name of a template's one parameter (`/incidents/{id}` gives `id`).
fn only_parameter(template: &str) -> Option<String> {
    let mut names = template
        .split('/')
        .filter_map(|part| part.strip_prefix('{')?.strip_suffix('}'));
    let name = names.next()?;
    names.next().is_none().then(|| name.to_owned())
}

/// The routes whose template `path` fits, as the route table declares them.
fn routes_at(path: &str) -> Vec<crate::routes::RouteSpec> {
    let segments: Vec<&str> = path.split('/').collect();
    crate::routes::route_table()
        .into_iter()
        .filter(|route| {
            let template: Vec<&str> = route.path.split('/').collect();
            template.len() == segments.len()
                && template
                    .iter()
                    .zip(&segments)
                    .all(|(part, given)| part.starts_with('{') || part == given)
        })
        .collect()
}

/// The routes the router would choose for `path`: of those that fit, the ones with the fewest
/// parameters (`/requests/import` over `/requests/{id}`).
fn chosen_routes(path: &str) -> Vec<crate::routes::RouteSpec> {
    let fitting = routes_at(path);
    let parameters = |route: &crate::routes::RouteSpec| route.path.matches('{').count();
    let fewest = fitting.iter().map(parameters).min().unwrap_or_default();
    fitting
        .into_iter()
        .filter(|route| parameters(route) == fewest)
        .collect()
}

fn templates_of(path: &str) -> Vec<&'static str> {
    chosen_routes(path).into_iter().map(|route| route.path).collect()
}

/// The methods the API takes at `path`.
fn allowed_methods(path: &str) -> Vec<&'static str> {
    let mut methods: Vec<&'static str> = chosen_routes(path)
        .into_iter()
        .map(|route| route.method)
        .collect();
    // axum answers HEAD wherever it answers GET.
    if methods.contains(&"GET") {
        methods.push("HEAD");
    }
    methods.sort_unstable();
    methods.dedup();
    methods
}

fn path_refused(rejection: &PathRejection) -> DeskError {
    use axum::extract::path::ErrorKind;
    let PathRejection::FailedToDeserializePathParams(failed) = rejection else {
        return malformed("malformed_path", "this address cannot be read".to_owned(), None);
    };
    match failed.kind() {
        ErrorKind::ParseErrorAtKey {
            key,
            value,
            expected_type,
        } => malformed(
            "malformed_path",
            format!(
                "{key}: {} is not {}",
                crate::error::quoted(value),
                expected(expected_type)
            ),
            Some(key.clone()),
        ),
        ErrorKind::ParseError { value, expected_type } => malformed(
            "malformed_path",
            format!(
                "{} is not {}",
                crate::error::quoted(value),
                expected(expected_type)
            ),
            None,
        ),
        ErrorKind::InvalidUtf8InPathParam { key } => malformed(
            "malformed_path",
            format!("{key}: not UTF-8 once decoded"),
            Some(key.clone()),
        ),
        _ => malformed("malformed_path", "this address cannot be read".to_owned(), None),
    }
}

/// A Rust type's name as a client would say it.
fn expected(type_name: &str) -> &'static str {
    match type_name {
        "i64" | "u64" | "i32" | "u32" => "a whole number",
        "bool" => "true or false",
        _ => "of the expected type",
    }
}

/// A query string; a parameter that is not of its type is refused, named.
pub(crate) struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let reader = serde_urlencoded::Deserializer::new(form_urlencoded_parse(query));
        serde_path_to_error::deserialize(reader)
            .map(ApiQuery)
            .map_err(|error| {
                let path = error.path().to_string();
                let field = (path != "." && !path.is_empty()).then_some(path);
                let message = match &field {
                    Some(field) => format!("{field}: {}", error.inner()),
                    None => format!("the query is not what this route takes: {}", error.inner()),
                };
                ApiError(malformed("malformed_query", message, field))
            })
    }
}

fn form_urlencoded_parse(query: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(query.as_bytes())
}

/// The last word under `/api/`: any refusal that is not already JSON (the router's own 404 and
/// 405, a body refused by a layer) is answered in the API's error shape, keeping its status and
/// headers (`Allow`, `Retry-After`).
pub async fn json_errors(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let api = path.starts_with("/api/");
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if !api || is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("no_route", "there is nothing at this address".to_owned()),
        StatusCode::METHOD_NOT_ALLOWED => {
            let allowed = allowed_methods(&path).join(", ");
            if let Ok(value) = header::HeaderValue::from_str(&allowed) {
                parts.headers.insert(header::ALLOW, value);
            }
            (
                "method_not_allowed",
                format!("this address does not take {method}; it takes {allowed}"),
            )
        }
        StatusCode::PAYLOAD_TOO_LARGE => ("too_large", DeskError::TooLarge.to_string()),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "send the body as JSON, with Content-Type: application/json".to_owned(),
        ),
        StatusCode::MISDIRECTED_REQUEST => (
            "unknown_host",
            "this desk does not answer to that host name (settings: [desk] allowed_hosts)".to_owned(),
        ),
        StatusCode::FORBIDDEN => ("forbidden", "this request is refused".to_owned()),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took too long and was stopped".to_owned()),
        _ if status.is_server_error() => ("internal", "the server could not answer".to_owned()),
        _ => (
            "malformed_request",
            "the request could not be read (one Host header is needed)".to_owned(),
        ),
    };
    let body = serde_json::json!({ "error": { "code": code, "message": message, "field": null } });
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    (parts, axum::Json(body)).into_response()
}
