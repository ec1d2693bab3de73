//! The incident pages: the list with every clock, an incident with its clocks, impact, risk,
//! statements, notifications, report and timeline, and the forms responders use.

use custody_core::IncidentId;
use std::sync::Arc;

use axum::extract::{Extension, Form, Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::context;
use serde::{Deserialize, Serialize};

use custody_app::breach::incidents::{self, Act, EntryKind, IncidentView};
use custody_app::breach::report::{self, Format, Phase};
use custody_app::{Ledger, breach::impact, notices::notify_run};

use crate::auth::Caller;
use crate::error::{DeskError, PageError};
use crate::render::{self, Bar, ClockRow, bars, bars_of, clock_rows, given, s};
use crate::state::Desk;

/// An incident in the list.
#[derive(Serialize)]
struct ListRow {
    id: IncidentId,
    supplier: String,
    summary: String,
    aware_local: String,
    people: String,
    clocks: Vec<ClockRow>,
}

/// Every incident with its clocks, newest first.
pub async fn list(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
) -> Result<Html<String>, PageError> {
    list_page(&desk, &caller, None).await
}

/// The incidents page, with what was wrong with a form when one was refused.
pub async fn list_page(
    desk: &Arc<Desk>,
    caller: &Caller,
    problem: Option<String>,
) -> Result<Html<String>, PageError> {
    // Only responders see the form to open an incident, which lists the suppliers.
    let opens = caller.role.allows(custody_core::DeskRole::Responder);
    let (rows, suppliers, now) = desk
        .run(&caller.actor(), move |ledger| {
            let rows = incidents::list(ledger)?
                .into_iter()
                .map(|incident| ListRow {
                    id: incident.incident,
                    supplier: incident.supplier,
                    summary: incident.summary,
                    aware_local: incident.aware_at.local(&ledger.zone),
                    people: incident
                        .people
                        .map_or_else(|| "not computed".to_owned(), report::thousands),
                    clocks: clock_rows(&incident.clocks, &ledger.zone),
                })
                .collect::<Vec<_>>();
            let suppliers: Vec<String> = if opens {
                custody_app::ledger::suppliers::list(ledger)?
                    .into_iter()
                    .map(|supplier| supplier.name)
                    .collect()
            } else {
                Vec::new()
            };
            Ok((rows, suppliers, ledger.now().local_input(&ledger.zone)))
        })
        .await?;
    let values = context! {
        incidents => s(&rows),
        suppliers => s(&suppliers),
        now_local => now,
        problem => problem,
    };
    render::page(desk, caller, "incidents.html", values)
}

/// A timeline entry as the page shows it.
#[derive(Serialize)]
struct TimelineRow {
    at: String,
    kind: String,
    summary: String,
    actor: String,
}

/// A supplier statement as the page shows it.
#[derive(Serialize)]
struct StatementRow {
    version: u64,
    received_local: String,
    text: String,
    correction: bool,
    changes: Vec<String>,
}

/// Everything the incident page shows, read in one go.
struct IncidentPage {
    statements: Vec<StatementRow>,
    view: IncidentView,
    clocks: Vec<ClockRow>,
    timeline: Vec<TimelineRow>,
    outbox: std::collections::BTreeMap<&'static str, u64>,
    impact_at: Option<String>,
    window: String,
    waiting: Vec<crate::pages_evidence::WaitingRow>,
    letters: custody_app::notices::letter_posting::LetterCounts,
}

fn read_incident(ledger: &Ledger, id: IncidentId) -> Result<IncidentPage, DeskError> {
    let view = incidents::view(ledger, id)?;
    let zone = &ledger.zone;
    let local =
        |at: Option<custody_core::Instant>| at.map_or_else(|| "not known".to_owned(), |at| at.local(zone));
    let window = match (view.occurred_from, view.occurred_to) {
        (None, None) => "not known".to_owned(),
        (from, to) => format!("{} to {}", local(from), local(to)),
    };
    let waiting = crate::pages_evidence::waiting_rows(ledger, id)?;
    Ok(IncidentPage {
        waiting,
        statements: view
            .statements
            .iter()
            .map(|statement| StatementRow {
                version: statement.version,
                received_local: statement.received_at.local(zone),
                text: statement.text.clone(),
                correction: statement.correction,
                changes: statement.changes.clone(),
            })
            .collect(),
        clocks: clock_rows(&view.clocks, zone),
        timeline: view
            .timeline
            .iter()
            .map(|entry| TimelineRow {
                at: entry.at.local(zone),
                kind: entry.kind.clone(),
                summary: entry.summary.clone(),
                actor: entry.actor.clone(),
            })
            .collect(),
        outbox: notify_run::outbox_counts(ledger, id)?,
        letters: custody_app::notices::letter_posting::counts(ledger, id)?,
        impact_at: view.impact_at.map(|at| at.local(zone)),
        window,
        view,
    })
}

fn status_bars(figures: &impact::ImpactFigures) -> Vec<Bar> {
    let status = &figures.status;
    let mut rows = bars([
        ("current".to_owned(), status.current),
        ("former".to_owned(), status.former),
    ]);
    let mut left = bars([
        ("former: left within a year".to_owned(), status.left_within_1_year),
        (
            "former: left 1 to 3 years before".to_owned(),
            status.left_1_to_3_years,
        ),
        (
            "former: left over 3 years before".to_owned(),
            status.left_over_3_years,
        ),
        ("former: leaving date unknown".to_owned(), status.left_unknown),
    ]);
    let longest = status.current.max(status.former).max(1) as f64;
    for bar in rows.iter_mut().chain(left.iter_mut()) {
        if bar.label.starts_with("former") {
            bar.class = Some("former");
        }
    }
    for bar in &mut left {
        let value: f64 = bar.text.replace(',', "").parse().unwrap_or(0.0);
        bar.width = (value * 1000.0 / longest).round() / 10.0;
    }
    rows.extend(left);
    rows
}

fn retention_bars(figures: &impact::ImpactFigures) -> Vec<Bar> {
    let mut rows = bars([
        (
            "held past the share's retention".to_owned(),
            figures.retention_expired,
        ),
        (
            "former people who left long ago".to_owned(),
            figures.left_long_ago,
        ),
    ]);
    for bar in &mut rows {
        bar.class = Some("expired");
    }
    rows
}

async fn incident_page(
    desk: &Arc<Desk>,
    caller: &Caller,
    id: IncidentId,
    problem: Option<String>,
) -> Result<Html<String>, PageError> {
    incident_page_with(desk, caller, id, problem, None).await
}

/// The incident page with an error (`problem`) or word of what was just done (`news`).
pub(crate) async fn incident_page_with(
    desk: &Arc<Desk>,
    caller: &Caller,
    id: IncidentId,
    problem: Option<String>,
    news: Option<String>,
) -> Result<Html<String>, PageError> {
    let page = desk
        .run(&caller.actor(), move |ledger| read_incident(ledger, id))
        .await?;
    let run = desk.notify_runs.state_for(id, caller);
    let figures = &page.view.impact;
    let nature: Vec<&str> = page.view.nature.iter().map(|nature| nature.as_str()).collect();
    let values = context! {
        i => s(&page.view),
        nature => nature.join(", "),
        window => page.window,
        clocks => s(&page.clocks),
        statements => s(&page.statements),
        timeline => s(&page.timeline),
        outbox => s(&page.outbox),
        impact_at => page.impact_at,
        people => report::thousands(figures.people),
        person_categories => s(&bars_of(&figures.person_categories)),
        data_categories => s(&bars_of(&figures.categories)),
        status => s(&status_bars(figures)),
        retention => s(&retention_bars(figures)),
        special => s(&bars_of(&figures.special_categories)),
        jurisdictions => s(&bars_of(&figures.jurisdictions)),
        parties => s(&incidents::CONTACT_PARTIES),
        acts => vec![
            context! { value => "regulator_notified", label => "regulator notified" },
            context! { value => "regulator_updated", label => "follow-up report filed" },
            context! { value => "people_notified", label => "people notified" },
        ],
        problem => problem,
        news => news,
        waiting => s(&page.waiting),
        letters => s(&page.letters),
        run => s(&run),
    };
    render::page(desk, caller, "incident.html", values)
}

/// An incident.
pub async fn show(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<IncidentId>,
) -> Result<Html<String>, PageError> {
    incident_page(&desk, &caller, id, None).await
}

/// The counts of the incident's notices per state, for the page to poll while they go.
pub async fn progress(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<IncidentId>,
) -> Result<Response, PageError> {
    let (counts, letters) = desk
        .run(&caller.actor(), move |ledger| {
            incidents::find_incident(ledger, id)?;
            Ok((
                notify_run::outbox_counts(ledger, id)?,
                custody_app::notices::letter_posting::counts(ledger, id)?,
            ))
        })
        .await?;
    let mut body = serde_json::to_value(counts).map_err(|error| DeskError::Internal(error.to_string()))?;
    if let serde_json::Value::Object(fields) = &mut body {
        fields.insert("letters".to_owned(), serde_json::json!(letters));
        fields.insert(
            "run".to_owned(),
            serde_json::json!(desk.notify_runs.state_for(id, &caller)),
        );
    }
    Ok(axum::Json(body).into_response())
}

/// The report's phase.
#[derive(Deserialize)]
pub struct PhaseQuery {
    phase: Option<String>,
    /// `true`: the report exactly as filed with the regulator.
    as_filed: Option<bool>,
    /// Another regulator, by short name or jurisdiction code: the report in its structure.
    regulator: Option<String>,
}

/// The report's phase: `initial` (when not given) or `follow-up`.
pub fn phase_of(text: Option<&str>) -> Result<(Phase, &'static str), DeskError> {
    match text.unwrap_or("initial") {
        "initial" => Ok((Phase::Initial, "initial")),
        "follow-up" => Ok((Phase::FollowUp, "follow-up")),
        other => Err(DeskError::BadRequest(format!(
            "phase {other:?}: expected initial or follow-up"
        ))),
    }
}

/// The report to the regulator, previewed as text.
pub async fn report_page(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<IncidentId>,
    Query(query): Query<PhaseQuery>,
) -> Result<Html<String>, PageError> {
    let (phase, phase_name) = phase_of(query.phase.as_deref())?;
    let regulator = query.regulator.clone().filter(|name| !name.trim().is_empty());
    let named = regulator.clone();
    let text = desk
        .run(&caller.actor(), move |ledger| match &named {
            Some(name) => Ok(custody_app::breach::report_forms::generate(
                ledger,
                id,
                phase,
                Format::Markdown,
                name,
            )?),
            None => Ok(report::generate(ledger, id, phase, Format::Markdown)?),
        })
        .await?;
    render::page(
        &desk,
        &caller,
        "report.html",
        context! { id => id.get(), phase => phase_name, text => text, regulator => regulator },
    )
}

/// The report as a file: Markdown, HTML or JSON.
pub async fn report_download(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path((id, format)): Path<(IncidentId, String)>,
    Query(query): Query<PhaseQuery>,
) -> Result<Response, PageError> {
    let (phase, phase_name) = phase_of(query.phase.as_deref())?;
    let as_filed = query.as_filed.unwrap_or(false);
    let regulator = query.regulator.filter(|name| !name.trim().is_empty());
    if let Some(name) = regulator {
        return Ok(
            regulator_report_file(&desk, &caller, id, &format, (phase, phase_name), as_filed, name).await?,
        );
    }
    Ok(report_file(&desk, &caller, id, &format, (phase, phase_name), as_filed).await?)
}

/// The parsed format, its content type and its extension.
fn format_of(format: &str) -> Result<(Format, &'static str, &'static str), DeskError> {
    match format {
        "md" => Ok((Format::Markdown, "text/markdown; charset=utf-8", "md")),
        "html" => Ok((Format::Html, "text/html; charset=utf-8", "html")),
        "json" => Ok((Format::Json, "application/json", "json")),
        other => Err(DeskError::BadRequest(format!(
            "format {other:?}: expected md, html or json"
        ))),
    }
}

/// The report to another regulator, in its structure, as a file (as it stands, or as filed).
pub async fn regulator_report_file(
    desk: &Arc<Desk>,
    caller: &Caller,
    id: IncidentId,
    format: &str,
    (phase, phase_name): (Phase, &str),
    as_filed: bool,
    regulator: String,
) -> Result<Response, DeskError> {
    let (parsed, content_type, extension) = format_of(format)?;
    if as_filed && phase != Phase::Initial {
        return Err(DeskError::App(custody_app::Error::Invalid(
            "a report to another regulator is filed once, when its obligation is recorded as met: ask for phase=initial"
                .to_owned(),
        )));
    }
    let name = regulator.clone();
    let text = desk
        .run(&caller.actor(), move |ledger| {
            if as_filed {
                return Ok(custody_app::breach::filed::as_filed_with(
                    ledger, id, &name, parsed,
                )?);
            }
            Ok(custody_app::breach::report_forms::generate(
                ledger, id, phase, parsed, &name,
            )?)
        })
        .await?;
    // Only letters and digits of the name reach the header.
    let safe: String = regulator
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(20)
        .collect();
    let filed = if as_filed { "-as-filed" } else { "" };
    let name = format!("incident-{id}-{phase_name}-report-{safe}{filed}.{extension}");
    Ok(attachment(text, content_type, &name))
}

/// A download: `text` as `content_type`, saved as `name`.
fn attachment(text: String, content_type: &str, name: &str) -> Response {
    let disposition = format!("attachment; filename=\"{name}\"");
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        text,
    )
        .into_response()
}

/// The time a form or body gives (RFC 3339, or local time in the organisation's zone), else now.
pub(crate) fn at_or_now(ledger: &Ledger, text: Option<&str>) -> Result<custody_core::Instant, DeskError> {
    match text {
        Some(text) => Ok(custody_core::parse_instant(text, &ledger.zone).map_err(custody_app::Error::from)?),
        None => Ok(ledger.now()),
    }
}

/// An obligation recorded as met.
#[derive(Deserialize)]
pub struct MetForm {
    obligation: String,
    at: Option<String>,
    reference: Option<String>,
    delay_reason: Option<String>,
}

/// Records one obligation of another place as met (a regulator's files its report as it stands).
pub async fn record_obligation_met(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<IncidentId>,
    Form(form): Form<MetForm>,
) -> Result<Response, PageError> {
    let result = desk
        .run(&caller.actor(), move |ledger| {
            let at = at_or_now(ledger, given(&form.at).as_deref())?;
            Ok(incidents::record_obligation_met(
                ledger,
                id,
                form.obligation.trim(),
                at,
                given(&form.reference),
                given(&form.delay_reason),
            )?)
        })
        .await;
    after_change(&desk, &caller, id, result).await
}

/// The report as a file, for pages and the API.
pub async fn report_file(
    desk: &Arc<Desk>,
    caller: &Caller,
    id: IncidentId,
    format: &str,
    (phase, phase_name): (Phase, &str),
    as_filed: bool,
) -> Result<Response, DeskError> {
    let (parsed, content_type, extension) = format_of(format)?;
    let text = desk
        .run(&caller.actor(), move |ledger| {
            if as_filed {
                return Ok(custody_app::breach::filed::as_filed(ledger, id, phase, parsed)?);
            }
            Ok(report::generate(ledger, id, phase, parsed)?)
        })
        .await?;
    let filed = if as_filed { "-as-filed" } else { "" };
    let name = format!("incident-{id}-{phase_name}-report{filed}.{extension}");
    Ok(attachment(text, content_type, &name))
}

/// A timeline entry's fields.
#[derive(Deserialize)]
pub struct Entry {
    kind: String,
    text: String,
    reason: Option<String>,
    with: Option<String>,
}

/// Adds a timeline entry.
pub async fn add_entry(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<IncidentId>,
    Form(form): Form<Entry>,
) -> Result<Response, PageError> {
    let result = desk
        .run(&caller.actor(), move |ledger| {
            let kind = EntryKind::parse(&form.kind)?;
            Ok(incidents::add_entry(
                ledger,
                id,
                kind,
                &form.text,
                None,
                given(&form.reason),
                given(&form.with),
            )?)
        })
        .await;
    after_change(&desk, &caller, id, result.map(|_| ())).await
}

/// Back to the incident after a change, or the page again with what was wrong.
pub async fn after_change(
    desk: &Arc<Desk>,
    caller: &Caller,
    id: IncidentId,
    result: Result<(), DeskError>,
) -> Result<Response, PageError> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/incidents/{id}")).into_response()),
        Err(error) if error.status() == axum::http::StatusCode::BAD_REQUEST => {
            let status = error.status();
            let page = incident_page(desk, caller, id, Some(error.to_string())).await?;
            Ok((status, page).into_response())
        }
        Err(error) => Err(error.into()),
    }
}

/// An act's fields.
#[derive(Deserialize)]
pub struct ActForm {
    act: String,
    at: Option<String>,
    reference: Option<String>,
    delay_reason: Option<String>,
}

/// Parses an act's name.
pub fn parse_act(text: &str) -> Result<Act, DeskError> {
    match text {
        "regulator_notified" | "regulator-notified" => Ok(Act::RegulatorNotified),
        "people_notified" | "people-notified" => Ok(Act::PeopleNotified),
        "regulator_updated" | "regulator-updated" => Ok(Act::RegulatorUpdated),
        other => Err(DeskError::BadRequest(format!(
            "act {other:?}: expected regulator_notified, regulator_updated or people_notified"
        ))),
    }
}

/// Records "regulator notified" or "people notified" (now, unless a time is given).
pub async fn record_act(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<IncidentId>,
    Form(form): Form<ActForm>,
) -> Result<Response, PageError> {
    let result = desk
        .run(&caller.actor(), move |ledger| {
            let act = parse_act(&form.act)?;
            let at = at_or_now(ledger, given(&form.at).as_deref())?;
            Ok(incidents::record_act(
                ledger,
                id,
                act,
                at,
                given(&form.reference),
                given(&form.delay_reason),
            )?)
        })
        .await;
    after_change(&desk, &caller, id, result).await
}

/// Recomputes the impact from the ledger (recorded on the timeline when it changed).
pub async fn recompute(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<IncidentId>,
) -> Result<Response, PageError> {
    let result = desk
        .run(&caller.actor(), move |ledger| {
            impact::refresh(ledger, id)?;
            Ok(())
        })
        .await;
    after_change(&desk, &caller, id, result).await
}
