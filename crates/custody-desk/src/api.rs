//! The JSON API under `/api/v1` (described by `openapi.json`): the same use cases as the pages,
//! for a bearer token.

use custody_core::{IncidentId, ShareId};
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use custody_app::breach::incidents::{self, EntryKind};
use custody_app::{ledger::person, ledger::shares, ledger::suppliers, notices::notify_run};
use custody_core::parse_instant;

use crate::auth::Caller;
use crate::error::{ApiError, DeskError};
use crate::pages::{audit_view, find_share};
use crate::pages_admin::{NewSupplier, supplier_input};
use crate::pages_incident::{parse_act, phase_of, regulator_report_file, report_file};
use crate::pages_respond::{Said, Times, open_with, statement_with};
use crate::state::Desk;

type Answer = Result<Json<Value>, ApiError>;

pub(crate) fn to_json<T: serde::Serialize>(value: T) -> Result<Value, DeskError> {
    serde_json::to_value(value).map_err(|error| DeskError::Internal(error.to_string()))
}

pub(crate) fn body<T>(payload: Result<Json<T>, JsonRejection>) -> Result<T, DeskError> {
    payload.map(|Json(value)| value).map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            return DeskError::TooLarge;
        }
        DeskError::BadRequest(format!(
            "the body is not what this route takes: {}",
            rejection.body_text()
        ))
    })
}

/// `GET /api/v1/incidents`.
pub async fn incidents(State(desk): State<Arc<Desk>>, Extension(caller): Extension<Caller>) -> Answer {
    let list = desk
        .run(&caller.actor(), |ledger| Ok(incidents::list(ledger)?))
        .await?;
    Ok(Json(json!({ "incidents": to_json(list)? })))
}

/// `GET /api/v1/incidents/{id}`: clocks, impact (as last recorded), statements, timeline.
pub async fn incident(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<IncidentId>,
) -> Answer {
    let view = desk
        .run(&caller.actor(), move |ledger| Ok(incidents::view(ledger, id)?))
        .await?;
    Ok(Json(to_json(view)?))
}

/// A timeline entry.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    kind: String,
    text: String,
    reason: Option<String>,
    with: Option<String>,
    at: Option<String>,
}

/// `POST /api/v1/incidents/{id}/timeline`.
pub async fn add_entry(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<IncidentId>,
    payload: Result<Json<Entry>, JsonRejection>,
) -> Result<Response, ApiError> {
    let entry = body(payload)?;
    let event = desk
        .run(&caller.actor(), move |ledger| {
            let kind = EntryKind::parse(&entry.kind)?;
            let at = match entry.at.as_deref() {
                Some(text) => Some(parse_instant(text, &ledger.zone).map_err(custody_app::Error::from)?),
                None => None,
            };
            Ok(incidents::add_entry(
                ledger,
                id,
                kind,
                &entry.text,
                at,
                entry.reason,
                entry.with,
            )?)
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "incident": id, "event": event })),
    )
        .into_response())
}

/// An act.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActBody {
    act: String,
    at: Option<String>,
    reference: Option<String>,
    delay_reason: Option<String>,
}

/// `POST /api/v1/incidents/{id}/acts`.
pub async fn record_act(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<IncidentId>,
    payload: Result<Json<ActBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let act = body(payload)?;
    let clocks = desk
        .run(&caller.actor(), move |ledger| {
            let kind = parse_act(&act.act)?;
            let at = crate::pages_incident::at_or_now(ledger, act.at.as_deref())?;
            incidents::record_act(ledger, id, kind, at, act.reference, act.delay_reason)?;
            Ok(incidents::view(ledger, id)?.clocks)
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "incident": id, "clocks": to_json(clocks)? })),
    )
        .into_response())
}

/// An obligation recorded as met.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObligationBody {
    obligation: String,
    at: Option<String>,
    reference: Option<String>,
    delay_reason: Option<String>,
}

/// `POST /api/v1/incidents/{id}/obligations`: one obligation of another place met (a
/// regulator's files its report as it stands); answers with the obligations.
pub async fn record_obligation_met(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<IncidentId>,
    payload: Result<Json<ObligationBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let met = body(payload)?;
    let obligations = desk
        .run(&caller.actor(), move |ledger| {
            let at = crate::pages_incident::at_or_now(ledger, met.at.as_deref())?;
            incidents::record_obligation_met(
                ledger,
                id,
                met.obligation.trim(),
                at,
                met.reference,
                met.delay_reason,
            )?;
            Ok(incidents::view(ledger, id)?.obligations)
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "incident": id, "obligations": to_json(obligations)? })),
    )
        .into_response())
}

/// The report's format and phase.
#[derive(Deserialize)]
pub struct ReportQuery {
    format: Option<String>,
    phase: Option<String>,
    as_filed: Option<bool>,
    regulator: Option<String>,
}

/// `GET /api/v1/incidents/{id}/report?format=md|html|json&phase=initial|follow-up&as_filed=true`.
pub async fn report(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<IncidentId>,
    Query(query): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let (phase, phase_name) = phase_of(query.phase.as_deref())?;
    let format = query.format.unwrap_or_else(|| "json".to_owned());
    let as_filed = query.as_filed.unwrap_or(false);
    if let Some(name) = query.regulator.filter(|name| !name.trim().is_empty()) {
        let phase = (phase, phase_name);
        return Ok(regulator_report_file(&desk, &caller, id, &format, phase, as_filed, name).await?);
    }
    Ok(report_file(&desk, &caller, id, &format, (phase, phase_name), as_filed).await?)
}

/// `GET /api/v1/incidents/{id}/notifications`: the outbox per state, the letters, and the latest
/// run started from this desk (counts only: no one is named).
pub async fn notifications(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<IncidentId>,
) -> Answer {
    let (counts, letters) = desk
        .run(&caller.actor(), move |ledger| {
            incidents::find_incident(ledger, id)?;
            Ok((
                notify_run::outbox_counts(ledger, id)?,
                custody_app::notices::letter_posting::counts(ledger, id)?,
            ))
        })
        .await?;
    Ok(Json(json!({
        "incident": id,
        "counts": to_json(counts)?,
        "letters": to_json(letters)?,
        "run": to_json(desk.notify_runs.state_for(id, &caller))?,
    })))
}

/// `GET /api/v1/suppliers`.
pub async fn suppliers(State(desk): State<Arc<Desk>>, Extension(caller): Extension<Caller>) -> Answer {
    let list = desk
        .run(&caller.actor(), |ledger| Ok(suppliers::list(ledger)?))
        .await?;
    Ok(Json(json!({ "suppliers": to_json(list)? })))
}

/// A supplier to register.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupplierBody {
    name: String,
    role: Option<String>,
    parent: Option<String>,
    notice_hours: Option<u32>,
    contract: Option<String>,
    contact: Option<String>,
}

/// `POST /api/v1/suppliers`.
pub async fn add_supplier(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    payload: Result<Json<SupplierBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let given = body(payload)?;
    let form = NewSupplier {
        name: given.name,
        role: given.role.unwrap_or_else(|| "processor".to_owned()),
        parent: given.parent,
        notice_hours: given.notice_hours.map(|hours| hours.to_string()),
        contract: given.contract,
        contact: given.contact,
    };
    let view = desk
        .run(&caller.actor(), move |ledger| {
            let input = supplier_input(&form)?;
            let name = input.name.trim().to_owned();
            suppliers::add_supplier(ledger, input)?;
            Ok(suppliers::show(ledger, &name)?)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(to_json(view)?)).into_response())
}

/// `GET /api/v1/suppliers/{name}` with its shares.
pub async fn supplier(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Answer {
    let (supplier, list) = desk
        .run(&caller.actor(), move |ledger| {
            let supplier = suppliers::show(ledger, &name)?;
            let list = shares::list(ledger, Some(&supplier.name))?;
            Ok((supplier, list))
        })
        .await?;
    let mut value = to_json(supplier)?;
    if let Some(object) = value.as_object_mut() {
        object.insert("share_list".to_owned(), to_json(list)?);
    }
    Ok(Json(value))
}

/// The holdings question.
#[derive(Deserialize)]
pub struct At {
    at: Option<String>,
}

/// `GET /api/v1/suppliers/{name}/holdings?at=…` (now when not given).
pub async fn holdings(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    Query(query): Query<At>,
) -> Answer {
    let cache = Arc::clone(&desk);
    let report = desk
        .run(&caller.actor(), move |ledger| {
            let at = crate::pages_incident::at_or_now(ledger, query.at.as_deref())?;
            cache.holdings.holdings(ledger, &name, at)
        })
        .await?;
    Ok(Json(to_json(&*report)?))
}

/// `GET /api/v1/shares/{id}`.
pub async fn share(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<ShareId>,
) -> Answer {
    let share = desk
        .run(&caller.actor(), move |ledger| find_share(ledger, id))
        .await?;
    Ok(Json(to_json(share)?))
}

/// `GET /api/v1/people/{ref}`: the person and the recipients of their data.
pub async fn person(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(reference): Path<String>,
) -> Answer {
    let view = desk
        .run(&caller.actor(), move |ledger| {
            Ok(person::look_up(ledger, person::Query::Reference(&reference))?)
        })
        .await?;
    Ok(Json(to_json(view)?))
}

/// A lookup by email address (in the body, never the address).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailBody {
    email: String,
}

/// `POST /api/v1/people/lookup` with `{"email": …}`.
pub async fn person_by_email(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    payload: Result<Json<EmailBody>, JsonRejection>,
) -> Answer {
    let query = body(payload)?;
    let view = desk
        .run(&caller.actor(), move |ledger| {
            Ok(person::look_up(ledger, person::Query::Email(&query.email))?)
        })
        .await?;
    Ok(Json(to_json(view)?))
}

/// `GET /api/v1/audit`: the chain's verification and the newest 100 entries.
pub async fn audit(State(desk): State<Arc<Desk>>, Extension(caller): Extension<Caller>) -> Answer {
    let (verification, entries, anchor) = desk
        .run(&caller.actor(), |ledger| audit_view(ledger, 100))
        .await?;
    Ok(Json(json!({
        "verification": to_json(verification)?,
        "entries": to_json(entries)?,
        "latest_anchor": to_json(anchor)?,
    })))
}

/// An incident to open.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenBody {
    supplier: String,
    aware_at: String,
    summary: String,
    nature: Vec<String>,
    occurred_from: Option<String>,
    occurred_to: Option<String>,
    supplier_discovered_at: Option<String>,
    supplier_notified_at: Option<String>,
    cyber: Option<bool>,
}

/// `POST /api/v1/incidents`: opens an incident (its clocks start; its impact is recorded).
pub async fn open_incident(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    payload: Result<Json<OpenBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let given = body(payload)?;
    let view = desk
        .run(&caller.actor(), move |ledger| {
            let nature = given
                .nature
                .iter()
                .map(|text| custody_core::Nature::parse(text))
                .collect::<Result<Vec<_>, _>>()
                .map_err(custody_app::Error::from)?;
            let times = Times {
                aware_at: Some(given.aware_at),
                occurred_from: given.occurred_from,
                occurred_to: given.occurred_to,
                supplier_discovered_at: given.supplier_discovered_at,
                supplier_notified_at: given.supplier_notified_at,
            };
            let id = open_with(ledger, given.supplier, given.summary, nature, &times, given.cyber)?;
            Ok(incidents::view(ledger, id)?)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(to_json(view)?)).into_response())
}

/// A supplier statement.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementBody {
    text: String,
    received_at: Option<String>,
    claims_records: Option<u64>,
    claims_categories: Option<Vec<String>>,
    claims_exfiltration: Option<String>,
}

/// `POST /api/v1/incidents/{id}/statements`: the statements after it, corrections flagged.
pub async fn add_statement(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<IncidentId>,
    payload: Result<Json<StatementBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let given = body(payload)?;
    let statements = desk
        .run(&caller.actor(), move |ledger| {
            let said = Said {
                received_at: given.received_at,
                text: given.text,
                records: given.claims_records,
                categories: given.claims_categories,
                exfiltration: given.claims_exfiltration,
            };
            statement_with(ledger, id, said)?;
            Ok(incidents::view(ledger, id)?.statements)
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "incident": id, "statements": to_json(statements)? })),
    )
        .into_response())
}

/// An assessment.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessBody {
    #[serde(default)]
    mitigations: Vec<String>,
    override_regulator: Option<bool>,
    override_people: Option<bool>,
    reason: Option<String>,
    #[serde(default)]
    remove_mitigations: Vec<String>,
    #[serde(default)]
    key_taken: Option<String>,
    #[serde(default)]
    identification: Option<String>,
    #[serde(default)]
    malicious: Option<String>,
}

/// `yes`, `no` or `unknown` as the assessor's answer.
fn answer(text: Option<String>) -> Result<Option<Option<bool>>, DeskError> {
    match text.as_deref() {
        None => Ok(None),
        Some("yes") => Ok(Some(Some(true))),
        Some("no") => Ok(Some(Some(false))),
        Some("unknown") => Ok(Some(None)),
        Some(other) => Err(DeskError::BadRequest(format!(
            "{other:?}: expected yes, no or unknown"
        ))),
    }
}

/// `POST /api/v1/incidents/{id}/assess`: the risk from the impact now and the rules.
pub async fn assess(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<IncidentId>,
    payload: Result<Json<AssessBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let given = body(payload)?;
    let assessment = desk
        .run(&caller.actor(), move |ledger| {
            let answers = (given.override_regulator, given.override_people);
            let factors = custody_app::breach::impact::FactorsGiven {
                key_taken: answer(given.key_taken)?,
                identification: given.identification,
                malicious: answer(given.malicious)?,
            };
            // Mitigations recorded before stay until removed.
            let mitigations = custody_app::breach::impact::mitigations_after(
                ledger,
                id,
                &given.mitigations,
                &given.remove_mitigations,
            )?;
            Ok(custody_app::breach::impact::assess_and_record(
                ledger,
                id,
                &mitigations,
                &factors,
                answers,
                given.reason,
            )?)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(to_json(assessment)?)).into_response())
}
