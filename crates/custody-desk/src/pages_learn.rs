//! What an incident learns over time, at the desk and in the API: amending its facts with a
//! reason, recording a decision not to notify, and the breach register. Pages and the API share
//! the same functions over the same use cases as the CLI.

use custody_core::IncidentId;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde::Deserialize;

use custody_app::Ledger;
use custody_app::breach::incident_facts::{self, Amendment};
use custody_app::breach::incidents::{self, Act, Ground};
use custody_core::{Nature, parse_instant};

use crate::api_extract::{ApiJson, ApiPath};
use crate::auth::Caller;
use crate::error::{ApiError, DeskError, PageError};
use crate::render::{self, given, s};
use crate::state::Desk;

/// An amendment as typed: every field optional, empty means "as it is".
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Changes {
    summary: Option<String>,
    #[serde(default)]
    nature: Option<Vec<String>>,
    aware_at: Option<String>,
    occurred_from: Option<String>,
    occurred_to: Option<String>,
    supplier_discovered_at: Option<String>,
    supplier_notified_at: Option<String>,
    /// `yes`, `no` or `unknown`.
    cyber: Option<String>,
    reason: Option<String>,
}

fn amend_with(
    ledger: &mut Ledger,
    id: IncidentId,
    changes: Changes,
) -> Result<Vec<incident_facts::FactChange>, DeskError> {
    let instant = |field: &str, text: &Option<String>| {
        given(text)
            .map(|text| {
                parse_instant(&text, &ledger.zone)
                    .map_err(|error| DeskError::BadRequest(format!("{field}: {error}")))
            })
            .transpose()
    };
    let nature = match changes.nature.filter(|list| !list.is_empty()) {
        Some(list) => Some(
            list.iter()
                .map(|name| Nature::parse(name))
                .collect::<custody_core::Result<Vec<_>>>()
                .map_err(|error| DeskError::BadRequest(error.to_string()))?,
        ),
        None => None,
    };
    let cyber = match given(&changes.cyber).as_deref() {
        None => None,
        Some("yes") => Some(Some(true)),
        Some("no") => Some(Some(false)),
        Some("unknown") => Some(None),
        Some(other) => {
            return Err(DeskError::BadRequest(format!(
                "cyber {other:?}: expected yes, no or unknown"
            )));
        }
    };
    let amendment = Amendment {
        summary: given(&changes.summary),
        nature,
        aware_at: instant("aware since", &changes.aware_at)?,
        occurred_from: instant("window from", &changes.occurred_from)?,
        occurred_to: instant("window to", &changes.occurred_to)?,
        supplier_discovered_at: instant("supplier discovered", &changes.supplier_discovered_at)?,
        supplier_notified_at: instant("supplier told us", &changes.supplier_notified_at)?,
        cyber,
        reason: changes.reason.unwrap_or_default(),
    };
    Ok(incident_facts::amend(ledger, id, amendment)?)
}

/// The amendment form: the natures as ticked boxes.
#[derive(Debug, Deserialize)]
pub struct AmendForm {
    summary: Option<String>,
    nature_confidentiality: Option<String>,
    nature_integrity: Option<String>,
    nature_availability: Option<String>,
    aware_at: Option<String>,
    occurred_from: Option<String>,
    occurred_to: Option<String>,
    supplier_discovered_at: Option<String>,
    supplier_notified_at: Option<String>,
    cyber: Option<String>,
    reason: Option<String>,
}

/// `POST /incidents/{id}/amend`.
pub async fn amend(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<IncidentId>,
    Form(form): Form<AmendForm>,
) -> Result<Response, PageError> {
    let nature: Vec<String> = [
        ("confidentiality", &form.nature_confidentiality),
        ("integrity", &form.nature_integrity),
        ("availability", &form.nature_availability),
    ]
    .into_iter()
    .filter(|(_, ticked)| ticked.is_some())
    .map(|(name, _)| name.to_owned())
    .collect();
    let changes = Changes {
        summary: form.summary,
        nature: Some(nature),
        aware_at: form.aware_at,
        occurred_from: form.occurred_from,
        occurred_to: form.occurred_to,
        supplier_discovered_at: form.supplier_discovered_at,
        supplier_notified_at: form.supplier_notified_at,
        cyber: form.cyber,
        reason: form.reason,
    };
    let result = desk
        .run(&caller.actor(), move |ledger| {
            amend_with(ledger, id, changes).map(|_| ())
        })
        .await;
    crate::pages_incident::after_change(&desk, &caller, id, result).await
}

/// `POST /api/v1/incidents/{id}/amend`: the changes made, field by field.
pub async fn api_amend(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<IncidentId>,
    ApiJson(body): ApiJson<crate::api_bodies::AmendBody>,
) -> Result<Response, ApiError> {
    use crate::api_bodies::{instant, text, word};
    let changes = Changes {
        summary: text(body.summary),
        nature: body
            .nature
            .map(|list| list.into_iter().map(|name| name.0).collect()),
        aware_at: instant(body.aware_at),
        occurred_from: instant(body.occurred_from),
        occurred_to: instant(body.occurred_to),
        supplier_discovered_at: instant(body.supplier_discovered_at),
        supplier_notified_at: instant(body.supplier_notified_at),
        cyber: word(body.cyber),
        reason: Some(body.reason.0),
    };
    let made = desk
        .run(&caller.actor(), move |ledger| amend_with(ledger, id, changes))
        .await?;
    let made: Vec<serde_json::Value> = made
        .iter()
        .map(|change| {
            let (old, new) = change.words();
            serde_json::json!({ "field": change.field(), "old": old, "new": new })
        })
        .collect();
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "incident": id, "changes": made })),
    )
        .into_response())
}

/// A decision not to notify, as given.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionForm {
    /// `regulator_not_required` or `people_not_required`.
    decision: Option<String>,
    /// For people: `encrypted`, `measures-taken` or `disproportionate-effort`.
    ground: Option<String>,
    reason: Option<String>,
    /// The page's CSRF field (checked by the guard).
    #[serde(default)]
    csrf: Option<String>,
}

fn decide_with(ledger: &mut Ledger, id: IncidentId, form: DecisionForm) -> Result<(), DeskError> {
    let _ = form.csrf;
    let act = match given(&form.decision).as_deref() {
        Some("regulator_not_required" | "regulator-not-required") => Act::RegulatorNotRequired,
        Some("people_not_required" | "people-not-required") => Act::PeopleNotRequired,
        other => {
            return Err(DeskError::BadRequest(format!(
                "decision {:?}: expected regulator_not_required or people_not_required",
                other.unwrap_or_default()
            )));
        }
    };
    let ground = given(&form.ground).map(|text| Ground::parse(&text)).transpose()?;
    incidents::record_decision(ledger, id, act, ground, &form.reason.unwrap_or_default())?;
    Ok(())
}

/// `POST /incidents/{id}/decisions`.
pub async fn decide(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<IncidentId>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, PageError> {
    let result = desk
        .run(&caller.actor(), move |ledger| decide_with(ledger, id, form))
        .await;
    crate::pages_incident::after_change(&desk, &caller, id, result).await
}

/// `POST /api/v1/incidents/{id}/decisions`.
pub async fn api_decide(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<IncidentId>,
    ApiJson(body): ApiJson<crate::api_bodies::DecisionBody>,
) -> Result<Response, ApiError> {
    let form = DecisionForm {
        decision: Some(body.decision.0),
        ground: crate::api_bodies::word(body.ground),
        reason: Some(body.reason.0),
        csrf: None,
    };
    desk.run(&caller.actor(), move |ledger| decide_with(ledger, id, form))
        .await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "incident": id }))).into_response())
}

/// `GET /register`: the breach register.
pub async fn register(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, PageError> {
    let entries = desk
        .run(&caller.actor(), |ledger| {
            Ok(custody_app::breach::register::entries(ledger)?)
        })
        .await?;
    Ok(render::page(
        &desk,
        &caller,
        "register.html",
        context! { entries => s(&entries) },
    )?
    .into_response())
}

/// `GET /api/v1/register`.
pub async fn api_register(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    let entries = desk
        .run(&caller.actor(), |ledger| {
            Ok(custody_app::breach::register::entries(ledger)?)
        })
        .await?;
    Ok(Json(serde_json::json!({ "incidents": crate::api::to_json(entries)? })).into_response())
}
