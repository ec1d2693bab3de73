//! The rights desk in the API: the same functions as the pages ([`crate::pages_rights`]).

use custody_core::RequestId;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use custody_app::{ledger::retention, rights::requests};

use crate::api::{body, to_json};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::pages_rights::{ActForm, LogForm, UploadForm, act_with, answer_file, import_with, log_with};
use crate::state::Desk;

/// `GET /api/v1/requests`: the queue, overdue first.
pub async fn list(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    let queue = desk
        .run(&caller.actor(), |ledger| Ok(requests::list(ledger, false)?))
        .await?;
    Ok(Json(json!({ "requests": to_json(queue)? })).into_response())
}

/// `POST /api/v1/requests`: log a request.
pub async fn log(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    payload: Result<Json<LogForm>, JsonRejection>,
) -> Result<Response, ApiError> {
    let form = body(payload)?;
    let opened = desk
        .run(&caller.actor(), move |ledger| log_with(ledger, form))
        .await?;
    Ok((StatusCode::CREATED, Json(to_json(opened)?)).into_response())
}

/// `POST /api/v1/requests/import`: a backlog, `{"file_name": …, "csv": …}`.
pub async fn import(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    payload: Result<Json<UploadForm>, JsonRejection>,
) -> Result<Response, ApiError> {
    let form = body(payload)?;
    let imported = desk
        .run(&caller.actor(), move |ledger| import_with(ledger, form))
        .await?;
    Ok((StatusCode::CREATED, Json(to_json(imported)?)).into_response())
}

/// `GET /api/v1/requests/{id}` (audited as `request.view`).
pub async fn show(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<RequestId>,
) -> Result<Response, ApiError> {
    let view = desk
        .run(&caller.actor(), move |ledger| Ok(requests::look(ledger, id)?))
        .await?;
    Ok(Json(to_json(view)?).into_response())
}

/// `POST /api/v1/requests/{id}/act`: `{"action": "pause", "at": …, "reason": "fee"}` and so on.
pub async fn act(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<RequestId>,
    payload: Result<Json<ActForm>, JsonRejection>,
) -> Result<Response, ApiError> {
    let form = body(payload)?;
    let said = desk
        .run(&caller.actor(), move |ledger| act_with(ledger, id, form))
        .await?;
    let view = desk
        .run(&caller.actor(), move |ledger| Ok(requests::show(ledger, id)?))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "request": id, "done": said, "now": to_json(view)? })),
    )
        .into_response())
}

/// The answer's format.
#[derive(Debug, Deserialize)]
pub struct FormatQuery {
    /// `md` or `json` (default).
    format: Option<String>,
}

/// `GET /api/v1/requests/{id}/answer?format=md|json`.
pub async fn answer(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<RequestId>,
    Query(query): Query<FormatQuery>,
) -> Result<Response, ApiError> {
    let format = query.format.unwrap_or_else(|| "json".to_owned());
    Ok(answer_file(&desk, &caller, id, &format).await?)
}

/// `GET /api/v1/retention`.
pub async fn retention(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    let report = desk
        .run(&caller.actor(), |ledger| Ok(retention::report(ledger, false)?))
        .await?;
    Ok(Json(to_json(report)?).into_response())
}
