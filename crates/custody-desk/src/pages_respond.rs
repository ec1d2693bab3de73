//! What responders record at the desk besides the timeline: opening an incident, a supplier's
//! statement, and the risk assessment.

use custody_core::IncidentId;
use std::sync::Arc;

use axum::extract::{Extension, Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use custody_app::breach::incidents::{self, Exfiltration, OpenInput, StatementInput};
use custody_app::{Ledger, breach::impact};
use custody_core::{CategoryKey, Instant, Nature, parse_instant};

use crate::auth::Caller;
use crate::error::{DeskError, PageError};
use crate::render::given;
use crate::state::Desk;

fn instant(ledger: &Ledger, field: &str, text: &Option<String>) -> Result<Option<Instant>, DeskError> {
    given(text)
        .map(|text| {
            parse_instant(&text, &ledger.zone)
                .map_err(|error| DeskError::BadRequest(format!("{field}: {error}")))
        })
        .transpose()
}

/// The moments of a new incident, as typed (RFC 3339 or local time).
pub struct Times {
    /// When the organisation became aware.
    pub aware_at: Option<String>,
    /// Window of compromise, from.
    pub occurred_from: Option<String>,
    /// Window of compromise, to.
    pub occurred_to: Option<String>,
    /// When the supplier discovered it.
    pub supplier_discovered_at: Option<String>,
    /// When the supplier told us.
    pub supplier_notified_at: Option<String>,
}

/// Opens an incident from what a page or the API was given.
pub fn open_with(
    ledger: &mut Ledger,
    supplier: String,
    summary: String,
    nature: Vec<Nature>,
    times: &Times,
    cyber: Option<bool>,
) -> Result<IncidentId, DeskError> {
    if nature.is_empty() {
        return Err(DeskError::BadRequest(
            "tick what the incident affected: confidentiality, integrity or availability".to_owned(),
        ));
    }
    let aware_at = instant(ledger, "aware since", &times.aware_at)?
        .ok_or_else(|| DeskError::BadRequest("give when you became aware".to_owned()))?;
    let input = OpenInput {
        // No supplier: an incident at the organisation itself.
        supplier: Some(supplier).filter(|name| !name.trim().is_empty()),
        aware_at,
        nature,
        summary,
        occurred_from: instant(ledger, "occurred from", &times.occurred_from)?,
        occurred_to: instant(ledger, "occurred to", &times.occurred_to)?,
        supplier_discovered_at: instant(
            ledger,
            "the supplier discovered it",
            &times.supplier_discovered_at,
        )?,
        supplier_notified_at: instant(ledger, "the supplier told us", &times.supplier_notified_at)?,
        cyber,
    };
    Ok(incidents::open(ledger, input)?)
}

/// A new incident's fields.
#[derive(Deserialize)]
pub struct NewIncident {
    supplier: String,
    aware_at: String,
    summary: String,
    nature_confidentiality: Option<String>,
    nature_integrity: Option<String>,
    nature_availability: Option<String>,
    occurred_from: Option<String>,
    occurred_to: Option<String>,
    supplier_discovered_at: Option<String>,
    supplier_notified_at: Option<String>,
    cyber: Option<String>,
}

/// Opens an incident (its clocks start; its impact is computed and recorded).
pub async fn open_incident(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Form(form): Form<NewIncident>,
) -> Result<Response, PageError> {
    let result = desk
        .run(&caller.actor(), move |ledger| {
            let nature: Vec<Nature> = [
                (Nature::Confidentiality, &form.nature_confidentiality),
                (Nature::Integrity, &form.nature_integrity),
                (Nature::Availability, &form.nature_availability),
            ]
            .into_iter()
            .filter_map(|(nature, ticked)| ticked.is_some().then_some(nature))
            .collect();
            let times = Times {
                aware_at: Some(form.aware_at),
                occurred_from: form.occurred_from,
                occurred_to: form.occurred_to,
                supplier_discovered_at: form.supplier_discovered_at,
                supplier_notified_at: form.supplier_notified_at,
            };
            let cyber = match form.cyber.as_deref() {
                Some("yes") => Some(true),
                Some("no") => Some(false),
                _ => None,
            };
            open_with(ledger, form.supplier, form.summary, nature, &times, cyber)
        })
        .await;
    match result {
        Ok(id) => Ok(Redirect::to(&format!("/incidents/{id}")).into_response()),
        Err(error) if error.status().is_client_error() => {
            let status = error.status();
            let page = crate::pages_incident::list_page(&desk, &caller, Some(error.to_string())).await?;
            Ok((status, page).into_response())
        }
        Err(error) => Err(error.into()),
    }
}

/// What a supplier said, as a page or the API was given it.
pub struct Said {
    /// When it was received (now when not given).
    pub received_at: Option<String>,
    /// What it says.
    pub text: String,
    /// Records they say were involved.
    pub records: Option<u64>,
    /// Data category keys they name.
    pub categories: Option<Vec<String>>,
    /// `yes`, `no` or `unknown`.
    pub exfiltration: Option<String>,
}

/// Records a supplier statement.
pub fn statement_with(ledger: &mut Ledger, id: IncidentId, said: Said) -> Result<(), DeskError> {
    let input = statement_input(ledger, said)?;
    incidents::statement(ledger, id, input)?;
    Ok(())
}

/// A statement's fields as the use case takes them.
pub(crate) fn statement_input(ledger: &Ledger, said: Said) -> Result<StatementInput, DeskError> {
    let received_at = instant(ledger, "received", &said.received_at)?.unwrap_or_else(|| ledger.now());
    let categories = said
        .categories
        .map(|keys| {
            keys.iter()
                .map(|key| CategoryKey::parse(key.trim()).map_err(custody_app::Error::from))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let exfiltration = said
        .exfiltration
        .as_deref()
        .map(Exfiltration::parse)
        .transpose()?;
    Ok(StatementInput {
        received_at,
        text: said.text,
        claims_categories: categories,
        claims_records: said.records,
        claims_exfiltration: exfiltration,
    })
}

/// A supplier statement's fields.
#[derive(Deserialize)]
pub struct NewStatement {
    received_at: Option<String>,
    text: String,
    claims_records: Option<String>,
    claims_categories: Option<String>,
    claims_exfiltration: Option<String>,
}

/// Records what the supplier said; a change to an earlier claim is flagged as a correction.
pub async fn add_statement(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<IncidentId>,
    Form(form): Form<NewStatement>,
) -> Result<Response, PageError> {
    let result = desk
        .run(&caller.actor(), move |ledger| {
            statement_with(ledger, id, said(form)?)
        })
        .await;
    crate::pages_incident::after_change(&desk, &caller, id, result).await
}

/// What a statement form says, read.
pub(crate) fn said(form: NewStatement) -> Result<Said, DeskError> {
    let records = given(&form.claims_records)
        .map(|text| {
            text.replace([',', ' '], "")
                .parse::<u64>()
                .map_err(|_| DeskError::BadRequest(format!("records {text:?}: expected a whole number")))
        })
        .transpose()?;
    let categories = given(&form.claims_categories).map(|text| {
        text.split(',')
            .map(|key| key.trim().to_owned())
            .filter(|key| !key.is_empty())
            .collect()
    });
    Ok(Said {
        received_at: form.received_at,
        text: form.text,
        records,
        categories,
        exfiltration: given(&form.claims_exfiltration),
    })
}

/// The assessment's fields.
#[derive(Deserialize)]
pub struct Assess {
    mitigation_encrypted: Option<String>,
    mitigation_recovered: Option<String>,
    mitigation_contained: Option<String>,
    override_regulator: Option<String>,
    override_people: Option<String>,
    reason: Option<String>,
}

fn yes_no(text: &Option<String>) -> Option<bool> {
    match text.as_deref() {
        Some("yes") => Some(true),
        Some("no") => Some(false),
        _ => None,
    }
}

/// Assesses the risk from the impact now and the documented rules, with any override and its
/// reason.
pub async fn assess(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<IncidentId>,
    Form(form): Form<Assess>,
) -> Result<Response, PageError> {
    let result = desk
        .run(&caller.actor(), move |ledger| {
            let mitigations: Vec<String> = [
                ("encrypted", &form.mitigation_encrypted),
                ("recovered", &form.mitigation_recovered),
                ("contained", &form.mitigation_contained),
            ]
            .into_iter()
            .filter(|(_, ticked)| ticked.is_some())
            .map(|(name, _)| name.to_owned())
            .collect();
            let answers = (yes_no(&form.override_regulator), yes_no(&form.override_people));
            let factors = impact::FactorsGiven::default();
            impact::assess_and_record(ledger, id, &mitigations, &factors, answers, given(&form.reason))?;
            Ok(())
        })
        .await;
    crate::pages_incident::after_change(&desk, &caller, id, result).await
}
