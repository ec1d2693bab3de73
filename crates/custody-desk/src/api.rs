//! The JSON API under `/api/v1` (described by `openapi.json`): the same use cases as the pages,
//! for a bearer token.

use custody_core::{IncidentId, ShareId};
use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use custody_app::breach::incidents::{self, EntryKind};
use custody_app::{ledger::person, ledger::shares, ledger::suppliers, notices::notify_run};
use custody_core::parse_instant;

use crate::api_bodies::{
    ActBody, AssessBody, At, EmailBody, Entry, ObligationBody, OpenBody, ReportQuery, StatementBody,
    SupplierBody, instant, text, word,
};
use crate::api_extract::{ApiJson, ApiPath, ApiQuery};
use crate::auth::Caller;
use crate::error::{ApiError, DeskError};
use crate::pages::find_share;
use crate::pages_admin::{NewSupplier, supplier_input};
use crate::pages_incident::{parse_act, phase_of, regulator_report_file, report_file};
use crate::pages_respond::{Said, Times, open_with, statement_with};
use crate::state::Desk;

type Answer = Result<Json<Value>, ApiError>;

pub(crate) fn to_json<T: serde::Serialize>(value: T) -> Result<Value, DeskError> {
    serde_json::to_value(value).map_err(|error| DeskError::Internal(error.to_string()))
}

/// `GET /api/v1/incidents/{id}`: clocks, impact (as last recorded), statements, timeline.
pub async fn incident(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<IncidentId>,
) -> Answer {
    let view = desk
        .run(&caller.actor(), move |ledger| Ok(incidents::view(ledger, id)?))
        .await?;
    let mut value = to_json(view)?;
    if let Some(object) = value.as_object_mut() {
        object.insert("links".to_owned(), incident_links(id));
    }
    Ok(Json(value))
}

/// `POST /api/v1/incidents/{id}/timeline`.
pub async fn add_entry(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<IncidentId>,
    ApiJson(entry): ApiJson<Entry>,
) -> Result<Response, ApiError> {
    let event = desk
        .run(&caller.actor(), move |ledger| {
            let kind = EntryKind::parse(&entry.kind.0)?;
            let at = match entry.at.as_ref().map(|at| at.0.as_str()) {
                Some(text) => Some(parse_instant(text, &ledger.zone).map_err(custody_app::Error::from)?),
                None => None,
            };
            Ok(incidents::add_entry(
                ledger,
                id,
                kind,
                &entry.text.0,
                at,
                text(entry.reason),
                word(entry.with),
            )?)
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "incident": id, "event": event })),
    )
        .into_response())
}

/// `POST /api/v1/incidents/{id}/acts`.
pub async fn record_act(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<IncidentId>,
    ApiJson(act): ApiJson<ActBody>,
) -> Result<Response, ApiError> {
    let clocks = desk
        .run(&caller.actor(), move |ledger| {
            let kind = parse_act(&act.act.0)?;
            let at = crate::pages_incident::at_or_now(ledger, instant(act.at).as_deref())?;
            incidents::record_act(ledger, id, kind, at, text(act.reference), text(act.delay_reason))?;
            Ok(incidents::view(ledger, id)?.clocks)
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "incident": id, "clocks": to_json(clocks)? })),
    )
        .into_response())
}

/// `POST /api/v1/incidents/{id}/obligations`: one obligation of another place met (a
/// regulator's files its report as it stands); answers with the obligations.
pub async fn record_obligation_met(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<IncidentId>,
    ApiJson(met): ApiJson<ObligationBody>,
) -> Result<Response, ApiError> {
    let obligations = desk
        .run(&caller.actor(), move |ledger| {
            let at = crate::pages_incident::at_or_now(ledger, instant(met.at).as_deref())?;
            incidents::record_obligation_met(
                ledger,
                id,
                met.obligation.0.trim(),
                at,
                text(met.reference),
                text(met.delay_reason),
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

/// `GET /api/v1/incidents/{id}/report?format=md|html|json&phase=initial|follow-up&as_filed=true`.
pub async fn report(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<IncidentId>,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Response, ApiError> {
    let (phase, phase_name) = phase_of(word(query.phase).as_deref())?;
    let format = word(query.format).unwrap_or_else(|| "json".to_owned());
    let as_filed = query.as_filed.unwrap_or(false);
    if let Some(name) = text(query.regulator) {
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
    ApiPath(id): ApiPath<IncidentId>,
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

/// `POST /api/v1/suppliers`.
pub async fn add_supplier(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    ApiJson(given): ApiJson<SupplierBody>,
) -> Result<Response, ApiError> {
    let form = NewSupplier {
        name: given.name.0,
        role: word(given.role).unwrap_or_else(|| "processor".to_owned()),
        parent: text(given.parent),
        notice_hours: given.notice_hours.map(|hours| hours.to_string()),
        contract: text(given.contract),
        contact: given.contact.map(|email| email.0),
    };
    let view = desk
        .run(&caller.actor(), move |ledger| {
            let input = supplier_input(&form)?;
            let name = input.name.trim().to_owned();
            // A parent the body names that does not exist is 409, not 404.
            suppliers::add_supplier(ledger, input).map_err(|error| DeskError::named_in_body(error.into()))?;
            Ok(suppliers::show(ledger, &name)?)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(to_json(view)?)).into_response())
}

/// `GET /api/v1/suppliers/{name}` with its shares.
pub async fn supplier(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    ApiPath(name): ApiPath<String>,
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

/// `GET /api/v1/suppliers/{name}/holdings?at=…` (now when not given).
pub async fn holdings(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(query): ApiQuery<At>,
) -> Answer {
    let cache = Arc::clone(&desk);
    let report = desk
        .run(&caller.actor(), move |ledger| {
            let at = crate::pages_incident::at_or_now(ledger, instant(query.at).as_deref())?;
            cache.holdings.holdings(ledger, &name, at)
        })
        .await?;
    Ok(Json(to_json(&*report)?))
}

/// `GET /api/v1/shares/{id}`.
pub async fn share(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<ShareId>,
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
    ApiPath(reference): ApiPath<String>,
) -> Answer {
    let view = desk
        .run(&caller.actor(), move |ledger| {
            Ok(person::look_up(ledger, person::Query::Reference(&reference))?)
        })
        .await?;
    Ok(Json(to_json(view)?))
}

/// `POST /api/v1/people/lookup` with `{"email": …}`.
pub async fn person_by_email(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    ApiJson(query): ApiJson<EmailBody>,
) -> Answer {
    let view = desk
        .run(&caller.actor(), move |ledger| {
            Ok(person::look_up(ledger, person::Query::Email(&query.email.0))?)
        })
        .await?;
    Ok(Json(to_json(view)?))
}

/// `POST /api/v1/incidents`: opens an incident (its clocks start; its impact is recorded).
pub async fn open_incident(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    ApiJson(given): ApiJson<OpenBody>,
) -> Result<Response, ApiError> {
    let view = desk
        .run(&caller.actor(), move |ledger| {
            let nature = given
                .nature
                .iter()
                .map(|text| custody_core::Nature::parse(&text.0))
                .collect::<Result<Vec<_>, _>>()
                .map_err(custody_app::Error::from)?;
            let times = Times {
                aware_at: Some(given.aware_at.0),
                occurred_from: instant(given.occurred_from),
                occurred_to: instant(given.occurred_to),
                supplier_discovered_at: instant(given.supplier_discovered_at),
                supplier_notified_at: instant(given.supplier_notified_at),
            };
            // No incident is in the path: a supplier the body names that does not exist is 409.
            let id = open_with(
                ledger,
                text(given.supplier).unwrap_or_default(),
                given.summary.0,
                nature,
                &times,
                given.cyber,
            )
            .map_err(DeskError::named_in_body)?;
            Ok(incidents::view(ledger, id)?)
        })
        .await?;
    let mut value = to_json(view)?;
    let id = value.get("incident").and_then(Value::as_i64).unwrap_or_default();
    if let Some(object) = value.as_object_mut() {
        object.insert("links".to_owned(), incident_links(IncidentId::new(id)));
    }
    Ok((StatusCode::CREATED, Json(value)).into_response())
}

/// Where a client goes from an incident: its own address and those of what it can do there.
pub(crate) fn incident_links(id: IncidentId) -> Value {
    let at = format!("/api/v1/incidents/{id}");
    let links: serde_json::Map<String, Value> = INCIDENT_LINK_PATHS
        .iter()
        .map(|(name, tail)| ((*name).to_owned(), Value::String(format!("{at}{tail}"))))
        .collect();
    Value::Object(links)
}

/// An incident's links: each name and what follows the incident's own address.
pub(crate) const INCIDENT_LINK_PATHS: &[(&str, &str)] = &[
    ("self", ""),
    ("timeline", "/timeline"),
    ("statements", "/statements"),
    ("assess", "/assess"),
    ("acts", "/acts"),
    ("obligations", "/obligations"),
    ("report", "/report"),
    ("notifications", "/notifications"),
];

/// `POST /api/v1/incidents/{id}/statements`: the statements after it, corrections flagged.
pub async fn add_statement(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<IncidentId>,
    ApiJson(given): ApiJson<StatementBody>,
) -> Result<Response, ApiError> {
    let statements = desk
        .run(&caller.actor(), move |ledger| {
            let said = Said {
                received_at: instant(given.received_at),
                text: given.text.0,
                records: given.claims_records,
                categories: given
                    .claims_categories
                    .map(|keys| keys.into_iter().map(|key| key.0).collect()),
                exfiltration: word(given.claims_exfiltration),
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
    ApiPath(id): ApiPath<IncidentId>,
    ApiJson(given): ApiJson<AssessBody>,
) -> Result<Response, ApiError> {
    let assessment = desk
        .run(&caller.actor(), move |ledger| {
            let answers = (given.override_regulator, given.override_people);
            let factors = custody_app::breach::impact::FactorsGiven {
                key_taken: answer(word(given.key_taken))?,
                identification: word(given.identification),
                malicious: answer(word(given.malicious))?,
            };
            let added: Vec<String> = given.mitigations.into_iter().map(|name| name.0).collect();
            let removed: Vec<String> = given.remove_mitigations.into_iter().map(|name| name.0).collect();
            // Mitigations recorded before stay until removed.
            let mitigations = custody_app::breach::impact::mitigations_after(ledger, id, &added, &removed)?;
            Ok(custody_app::breach::impact::assess_and_record(
                ledger,
                id,
                &mitigations,
                &factors,
                answers,
                text(given.reason),
            )?)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(to_json(assessment)?)).into_response())
}
