//! Leak evidence's probable links at the desk: a responder confirms the people they have
//! checked, with the reason, and only then are they part of the evidence (and told).

use custody_core::{EventId, IncidentId};
use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use custody_app::Ledger;

use crate::api_extract::{ApiJson, ApiPath};
use crate::auth::Caller;
use crate::error::{ApiError, DeskError, PageError};
use crate::render::given;
use crate::state::Desk;

/// A probable link waiting, as the incident page lists it.
#[derive(Debug, Serialize)]
pub(crate) struct WaitingRow {
    event: EventId,
    reference: String,
    probability: String,
    agreed: String,
    line: u64,
}

/// The probable links of an incident's evidence still waiting.
pub(crate) fn waiting_rows(ledger: &Ledger, id: IncidentId) -> Result<Vec<WaitingRow>, DeskError> {
    Ok(custody_app::leaks::leak_evidence::waiting(ledger, id)?
        .into_iter()
        .map(|(event, link)| WaitingRow {
            event,
            reference: link.reference,
            probability: format!("{:.4}", link.probability),
            agreed: link.agreed.replace('+', ", ").replace('_', " "),
            line: link.line,
        })
        .collect())
}

/// The form confirming one probable link (or, without a reference, every link of the event).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmForm {
    event: Option<String>,
    reference: Option<String>,
    reason: Option<String>,
    /// The page's CSRF field (checked by the guard).
    #[serde(default)]
    csrf: Option<String>,
}

fn confirm_with(ledger: &mut Ledger, id: IncidentId, form: ConfirmForm) -> Result<(), DeskError> {
    let _ = form.csrf;
    let event = given(&form.event)
        .and_then(|text| text.trim().parse::<EventId>().ok())
        .ok_or_else(|| DeskError::BadRequest("event: expected the evidence event's number".into()))?;
    let references: Vec<String> = given(&form.reference).into_iter().collect();
    custody_app::leaks::leak_evidence::confirm(
        ledger,
        id,
        event,
        &references,
        &form.reason.unwrap_or_default(),
    )?;
    Ok(())
}

/// `POST /incidents/{id}/evidence/confirm`.
pub async fn confirm(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<IncidentId>,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, PageError> {
    let result = desk
        .run(&caller.actor(), move |ledger| confirm_with(ledger, id, form))
        .await;
    crate::pages_incident::after_change(&desk, &caller, id, result).await
}

/// `POST /api/v1/incidents/{id}/evidence/confirm`.
pub async fn api_confirm(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<IncidentId>,
    ApiJson(body): ApiJson<crate::api_bodies::EvidenceConfirmBody>,
) -> Result<Response, ApiError> {
    let (event, people) = desk
        .run(&caller.actor(), move |ledger| {
            custody_app::breach::incidents::find_incident(ledger, id)?;
            custody_app::leaks::leak_evidence::confirm(
                ledger,
                id,
                custody_core::EventId::new(body.event),
                &body
                    .references
                    .into_iter()
                    .map(|reference| reference.0)
                    .collect::<Vec<_>>(),
                &body.reason.0,
            )
            .map_err(|error| DeskError::named_in_body(error.into()))
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "incident": id, "event": event, "confirmed": people })),
    )
        .into_response())
}
