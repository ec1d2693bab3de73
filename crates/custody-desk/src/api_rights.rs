//! The rights desk in the API: the same functions as the pages ([`crate::pages_rights`]).

use custody_core::RequestId;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use custody_app::{ledger::retention, rights::requests};

use crate::api::to_json;
use crate::api_extract::{ApiJson, ApiPath, ApiQuery};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::pages_rights::{act_with, answer_file, import_with, log_with};
use crate::state::Desk;

/// `POST /api/v1/requests`: log a request.
pub async fn log(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<crate::api_bodies::LogBody>,
) -> Result<Response, ApiError> {
    let form = body.into_form();
    let opened = desk
        .run(&caller.actor(), move |ledger| {
            // A person the body names that does not exist is 409, not 404.
            log_with(ledger, form).map_err(crate::error::DeskError::named_in_body)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(to_json(opened)?)).into_response())
}

/// `POST /api/v1/requests/import`: a backlog, `{"file_name": …, "csv": …}`.
pub async fn import(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<crate::api_bodies::UploadBody>,
) -> Result<Response, ApiError> {
    let form = body.into_form();
    let imported = desk
        .run(&caller.actor(), move |ledger| import_with(ledger, form))
        .await?;
    Ok((StatusCode::CREATED, Json(to_json(imported)?)).into_response())
}

/// `GET /api/v1/requests/{id}` (audited as `request.view`).
pub async fn show(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<RequestId>,
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
    ApiPath(id): ApiPath<RequestId>,
    ApiJson(body): ApiJson<crate::api_bodies::RequestActBody>,
) -> Result<Response, ApiError> {
    let form = body.into_form();
    let said = desk
        .run(&caller.actor(), move |ledger| {
            // 404 is for the request in the path; a supplier or person the body names that does
            // not exist is a value that cannot be used (422), not a request that is gone.
            requests::show(ledger, id)?;
            act_with(ledger, id, form).map_err(crate::error::DeskError::named_in_body)
        })
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

/// `GET /api/v1/requests/{id}/answer?format=md|json`.
pub async fn answer(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<RequestId>,
    ApiQuery(query): ApiQuery<crate::api_bodies::FormatQuery>,
) -> Result<Response, ApiError> {
    let format = crate::api_bodies::word(query.format).unwrap_or_else(|| "json".to_owned());
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
