//! The supplier's side of the desk: a supplier's own account (or token) sees its supplier's
//! incidents and shares' metadata, and nothing of the organisation's people, other suppliers,
//! the audit log or settings (those routes need a staff role). Staff are sent to the suppliers.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Deserialize;
use serde_json::Value;

use custody_app::ledger::deletion_requests;
use custody_app::supplier_side;
use custody_core::{IncidentId, RequestId, ShareId, SupplierId};

use crate::api_extract::{ApiJson, ApiPath};
use crate::auth::Caller;
use crate::error::{ApiError, DeskError, PageError};
use crate::pages_respond::{NewStatement, Said, said, statement_input};
use crate::render::{self, s};
use crate::state::Desk;

/// `GET /supplier`: the supplier's first page.
pub async fn page(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, PageError> {
    let Some(supplier) = caller.supplier else {
        return Ok(Redirect::to("/suppliers").into_response());
    };
    side_page(&desk, &caller, supplier, None).await
}

/// The supplier a form is posted for: the caller's, or not found when the account is staff.
fn form_supplier(caller: &Caller) -> Result<SupplierId, PageError> {
    caller.supplier.ok_or_else(|| {
        PageError(DeskError::App(custody_app::Error::NotFound(
            "this is a supplier's form: the account is not a supplier's".to_owned(),
        )))
    })
}

async fn side_page(
    desk: &Arc<Desk>,
    caller: &Caller,
    supplier: SupplierId,
    problem: Option<String>,
) -> Result<Response, PageError> {
    let side = desk
        .run(&caller.actor(), move |ledger| {
            Ok(supplier_side::overview(ledger, supplier)?)
        })
        .await?;
    Ok(render::page(
        desk,
        caller,
        "supplier_side.html",
        context! { side => s(&side), problem => problem },
    )?
    .into_response())
}

/// A supplier's confirmation that it did what it was instructed (the form's token is checked
/// before this is read).
#[derive(Deserialize)]
pub struct ConfirmForm {
    note: Option<String>,
    backups_until: Option<String>,
}

/// `POST /supplier/requests/{id}/confirm`: the supplier confirms an instruction is done.
pub async fn confirm(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<RequestId>,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, PageError> {
    let supplier = form_supplier(&caller)?;
    let result = desk
        .run(&caller.actor(), move |ledger| {
            let until = backups_until(ledger, form.backups_until.as_deref())?;
            supplier_side::instructions::confirm(ledger, supplier, id, form.note, until)?;
            Ok(())
        })
        .await;
    match result {
        Ok(()) => Ok(Redirect::to("/supplier").into_response()),
        Err(DeskError::App(error @ custody_app::Error::Invalid(_))) => {
            side_page(&desk, &caller, supplier, Some(error.to_string())).await
        }
        Err(error) => Err(PageError(error)),
    }
}

/// `POST /api/v1/supplier/requests/{id}/confirm`: the same, for a supplier's token.
pub async fn api_confirm(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<RequestId>,
    ApiJson(given): ApiJson<crate::api_bodies::ConfirmBody>,
) -> Result<Response, ApiError> {
    let supplier = token_supplier(&caller)?;
    let complete = desk
        .run(&caller.actor(), move |ledger| {
            let until = backups_until(ledger, crate::api_bodies::instant(given.backups_until).as_deref())?;
            Ok(supplier_side::instructions::confirm(
                ledger,
                supplier,
                id,
                crate::api_bodies::text(given.note),
                until,
            )?)
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "request": id, "confirmed": true, "request_complete": complete })),
    )
        .into_response())
}

/// `POST /supplier/shares/{id}/confirm-deletion`: the supplier confirms it deleted a share it
/// was asked to delete.
pub async fn confirm_deletion(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<ShareId>,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, PageError> {
    let supplier = form_supplier(&caller)?;
    let result = desk
        .run(&caller.actor(), move |ledger| {
            let until = backups_until(ledger, form.backups_until.as_deref())?;
            deletion_requests::confirm(ledger, supplier, id, form.note, until)?;
            Ok(())
        })
        .await;
    match result {
        Ok(()) => Ok(Redirect::to("/supplier").into_response()),
        Err(DeskError::App(error @ custody_app::Error::Invalid(_))) => {
            side_page(&desk, &caller, supplier, Some(error.to_string())).await
        }
        Err(error) => Err(PageError(error)),
    }
}

/// `POST /api/v1/supplier/shares/{id}/confirm-deletion`: the same, for a supplier's token.
pub async fn api_confirm_deletion(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<ShareId>,
    ApiJson(given): ApiJson<crate::api_bodies::ConfirmBody>,
) -> Result<Response, ApiError> {
    let supplier = token_supplier(&caller)?;
    desk.run(&caller.actor(), move |ledger| {
        let until = backups_until(ledger, crate::api_bodies::instant(given.backups_until).as_deref())?;
        Ok(deletion_requests::confirm(
            ledger,
            supplier,
            id,
            crate::api_bodies::text(given.note),
            until,
        )?)
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "share": id, "deleted": true })),
    )
        .into_response())
}

/// The backups' end as given (an instant in the organisation's zone), if given.
fn backups_until(
    ledger: &custody_app::Ledger,
    text: Option<&str>,
) -> Result<Option<custody_core::Instant>, DeskError> {
    text.map(str::trim)
        .filter(|text| !text.is_empty())
        .map(|text| {
            custody_core::parse_instant(text, &ledger.zone)
                .map_err(|error| DeskError::BadRequest(format!("backups_until: {error}")))
        })
        .transpose()
}

/// `GET /api/v1/supplier`: the same, for a supplier's token.
pub async fn api(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Value>, ApiError> {
    let supplier = token_supplier(&caller)?;
    let side = desk
        .run(&caller.actor(), move |ledger| {
            Ok(supplier_side::overview(ledger, supplier)?)
        })
        .await?;
    Ok(Json(serde_json::to_value(side).map_err(|error| {
        ApiError(DeskError::Internal(error.to_string()))
    })?))
}

/// `GET /api/v1/supplier/incidents/{id}`: one of its incidents, for a supplier's token: what it
/// is asked, by when, and what it has said.
pub async fn api_incident(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<IncidentId>,
) -> Result<Json<Value>, ApiError> {
    let supplier = token_supplier(&caller)?;
    let detail = desk
        .run(&caller.actor(), move |ledger| {
            Ok(supplier_side::incident(ledger, supplier, id)?)
        })
        .await?;
    Ok(Json(serde_json::to_value(detail).map_err(|error| {
        ApiError(DeskError::Internal(error.to_string()))
    })?))
}

/// The supplier a token is bound to, or not found: staff tokens have no supplier's side.
fn token_supplier(caller: &Caller) -> Result<SupplierId, ApiError> {
    caller.supplier.ok_or_else(|| {
        ApiError(DeskError::App(custody_app::Error::NotFound(
            "this is a supplier's side: the token is not a supplier's (see /api/v1/suppliers)".to_owned(),
        )))
    })
}

/// `GET /supplier/incidents/{id}`: one of its incidents: what it is asked, by when, and a form
/// to answer.
pub async fn incident(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<IncidentId>,
) -> Result<Response, PageError> {
    let Some(supplier) = caller.supplier else {
        return Ok(Redirect::to(&format!("/incidents/{id}")).into_response());
    };
    incident_page(&desk, &caller, supplier, id, None).await
}

async fn incident_page(
    desk: &Arc<Desk>,
    caller: &Caller,
    supplier: SupplierId,
    id: IncidentId,
    problem: Option<String>,
) -> Result<Response, PageError> {
    let detail = desk
        .run(&caller.actor(), move |ledger| {
            Ok(supplier_side::incident(ledger, supplier, id)?)
        })
        .await?;
    Ok(render::page(
        desk,
        caller,
        "supplier_incident.html",
        context! { d => s(&detail), problem => problem },
    )?
    .into_response())
}

/// `POST /supplier/incidents/{id}/answer`: the supplier's answer, recorded as its statement.
pub async fn answer(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<IncidentId>,
    Form(form): Form<NewStatement>,
) -> Result<Response, PageError> {
    let supplier = form_supplier(&caller)?;
    let result = desk
        .run(&caller.actor(), move |ledger| {
            let mut given = said(form)?;
            given.received_at = None;
            let input = statement_input(ledger, given)?;
            supplier_side::answer(ledger, supplier, id, input)?;
            Ok(())
        })
        .await;
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/supplier/incidents/{id}")).into_response()),
        Err(DeskError::App(error @ custody_app::Error::Invalid(_))) => {
            incident_page(&desk, &caller, supplier, id, Some(error.to_string())).await
        }
        Err(error) => Err(PageError(error)),
    }
}

/// `POST /api/v1/supplier/incidents/{id}/answer`: the same, for a supplier's token.
pub async fn api_answer(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<IncidentId>,
    ApiJson(given): ApiJson<crate::api_bodies::AnswerBody>,
) -> Result<Response, ApiError> {
    let supplier = token_supplier(&caller)?;
    let statement = desk
        .run(&caller.actor(), move |ledger| {
            let said = Said {
                received_at: None,
                text: given.text.0,
                records: given.claims_records,
                categories: given
                    .claims_categories
                    .map(|keys| keys.into_iter().map(|key| key.0).collect()),
                exfiltration: crate::api_bodies::word(given.claims_exfiltration),
            };
            let input = statement_input(ledger, said)?;
            Ok(supplier_side::answer(ledger, supplier, id, input)?)
        })
        .await?;
    let value =
        serde_json::to_value(statement).map_err(|error| ApiError(DeskError::Internal(error.to_string())))?;
    Ok((StatusCode::CREATED, Json(value)).into_response())
}
