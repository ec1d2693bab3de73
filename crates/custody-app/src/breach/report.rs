//! The report to the regulator (UK/EU GDPR Art. 33(3), and the questions of the UK regulator's
//! breach report form), initial or follow-up (Art. 33(4)). Every statement in it comes from a
//! recorded fact, the ledger or the risk assessment; what is not recorded is said to be not
//! known. The JSON model is the source; Markdown and HTML are rendered from it by templates.

use custody_core::{EventId, IncidentId};
use serde::Serialize;

use crate::breach::incident_events::{ActDone, ImpactRecorded, IncidentEventBody, Recorded};
use crate::breach::incidents::{Act, EntryKind};
use custody_core::{Instant, Nature};

use crate::breach::impact::{Assessment, ImpactFigures, compute, latest_assessment};
use crate::breach::incidents::{ClaimsVsLedger, StatementView, compare, find_incident, statements};
use crate::dir::Ledger;
use crate::error::{Error, Result};

/// Initial or follow-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// The first report, within 72 hours.
    Initial,
    /// A later report with what has changed (Art. 33(4): information in phases).
    FollowUp,
}

impl Phase {
    /// Parses `initial` or `follow-up`.
    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "initial" => Ok(Phase::Initial),
            "follow-up" => Ok(Phase::FollowUp),
            _ => Err(Error::Invalid(format!(
                "--phase {text:?}: expected initial or follow-up"
            ))),
        }
    }
}

/// An entry quoted from the timeline.
#[derive(Debug, Clone, Serialize)]
pub struct Quoted {
    /// When it happened (local).
    pub at: String,
    /// What was recorded.
    pub text: String,
}

/// A supplier statement as the report quotes it.
#[derive(Debug, Clone, Serialize)]
pub struct ReportStatement {
    /// Version.
    pub version: u64,
    /// When received (local).
    pub received_at: String,
    /// Whether it corrects earlier claims.
    pub correction: bool,
    /// The corrections.
    pub changes: Vec<String>,
    /// What it says.
    pub text: String,
}

fn report_statement(ledger: &Ledger, statement: StatementView) -> ReportStatement {
    ReportStatement {
        version: statement.version,
        received_at: local(ledger, statement.received_at),
        correction: statement.correction,
        changes: statement.changes,
        text: statement.text,
    }
}

/// What changed since the initial report.
#[derive(Debug, Clone, Serialize)]
pub struct SinceInitial {
    /// When the initial report was made (local).
    pub initial_at: String,
    /// Impact changes recorded since, in words.
    pub impact_changes: Vec<String>,
    /// People then and now.
    pub people_then: Option<u64>,
    /// People now.
    pub people_now: u64,
    /// Supplier statements received since.
    pub statements: Vec<Quoted>,
    /// Timeline entries recorded since.
    pub entries: Vec<Quoted>,
    /// Facts amended since, each `field: old → new (reason)`.
    pub facts_changed: Vec<String>,
    /// Leak evidence recorded since, in words.
    pub evidence: Vec<String>,
}

/// The report's content.
#[derive(Debug, Clone, Serialize)]
pub struct ReportModel {
    /// Initial or follow-up.
    pub phase: Phase,
    /// Organisation.
    pub organisation: String,
    /// Regulator.
    pub regulator: String,
    /// The DPO's name and email.
    pub dpo_name: String,
    /// The DPO's email.
    pub dpo_email: String,
    /// The DPO's phone, when the settings give one.
    pub dpo_phone: Option<String>,
    /// The organisation's registration number with the regulator, when the settings give one.
    pub registration_number: Option<String>,
    /// The contract (data processing agreement) with the supplier, when recorded.
    pub supplier_contract: Option<String>,
    /// Likely consequences for the people, in the words the notice uses.
    pub consequences: Vec<String>,
    /// Mitigations recorded with the assessment, in words.
    pub mitigations: Vec<String>,
    /// What the form asks that the ledger cannot know, as answered.
    pub answers: crate::breach::incident_facts::ReportAnswers,
    /// A decision not to tell the regulator, with its reasons.
    pub regulator_decision: Option<String>,
    /// A decision not to tell people individually: its Art. 34(3) ground and reasons.
    pub people_decision: Option<String>,
    /// When the report was prepared (local).
    pub prepared_at: String,
    /// custody's incident id.
    pub incident: IncidentId,
    /// The regulator's reference, when one was recorded.
    pub regulator_reference: Option<String>,
    /// The supplier (processor) where it happened, or our own organisation.
    pub supplier: String,
    /// Whether it happened at the organisation itself.
    pub in_house: bool,
    /// Its sub-processors included in the figures.
    pub sub_processors: Vec<String>,
    /// What happened, as recorded.
    pub summary: String,
    /// Confidentiality / integrity / availability.
    pub nature: Vec<&'static str>,
    /// Whether it was a cyber incident: yes, no, or not known.
    pub cyber: &'static str,
    /// Confidentiality: `affected`, `not affected` or `not known`.
    pub confidentiality: &'static str,
    /// Integrity: `affected` or `not affected`.
    pub integrity: &'static str,
    /// Availability: `affected` or `not affected`.
    pub availability: &'static str,
    /// When it started (local), or not known.
    pub occurred_from: Option<String>,
    /// When it ended (local), or not known.
    pub occurred_to: Option<String>,
    /// When the supplier discovered it.
    pub supplier_discovered_at: Option<String>,
    /// When the supplier told the organisation.
    pub supplier_notified_at: Option<String>,
    /// When the organisation became aware.
    pub aware_at: String,
    /// The regulator's deadline.
    pub regulator_due: String,
    /// Whether the report is (or was, when recorded) made after the deadline.
    pub late: bool,
    /// The reasons for the delay, as recorded with the report.
    pub delay_reason: Option<String>,
    /// The moment or period the figures describe, in words.
    pub figures_window: String,
    /// The impact from the ledger.
    pub impact: ImpactFigures,
    /// Data categories in plain words with their counts.
    pub data_categories: Vec<(String, String, u64)>,
    /// The supplier's latest statement and its comparison with the ledger.
    pub supplier_claims: Option<ClaimsVsLedger>,
    /// Every statement of the supplier.
    pub statements: Vec<ReportStatement>,
    /// The risk assessment (likely consequences and their likelihood, as assessed).
    pub assessment: Option<Assessment>,
    /// Decisions, with their reasoning.
    pub decisions: Vec<Quoted>,
    /// Measures taken or proposed (updates and notes).
    pub measures: Vec<Quoted>,
    /// Contacts with other parties (police, cyber-security agency, …).
    pub contacts: Vec<Quoted>,
    /// When people were told, if they were.
    pub people_notified_at: Option<String>,
    /// For a follow-up, what changed.
    pub since_initial: Option<SinceInitial>,
    /// The people affected who live outside the organisation's own country, by place (the
    /// impact's jurisdictions), for "people in other countries affected".
    pub abroad: Vec<(String, u64)>,
    /// The people affected whose country is not recorded.
    pub unplaced: u64,
}

fn local(ledger: &Ledger, instant: Instant) -> String {
    instant.local(&ledger.zone)
}

fn quoted(ledger: &Ledger, events: &[Recorded], wanted: EntryKind) -> Vec<Quoted> {
    events
        .iter()
        .filter_map(|recorded| match &recorded.body {
            IncidentEventBody::Entry(entry) if entry.entry == wanted => Some((recorded, entry)),
            _ => None,
        })
        .map(|(recorded, entry)| {
            let mut text = entry.text.clone();
            if let Some(with) = &entry.with {
                text = format!("{with}: {text}");
            }
            if let Some(reason) = &entry.reason {
                text = format!("{text} (reasoning: {reason})");
            }
            Quoted {
                at: local(ledger, recorded.event.at),
                text,
            }
        })
        .collect()
}

/// How many people the report filed with the act `event` gave.
fn filed_people(ledger: &Ledger, id: IncidentId, event: EventId) -> Result<Option<u64>> {
    #[derive(serde::Deserialize)]
    struct Model {
        impact: Figures,
    }
    #[derive(serde::Deserialize)]
    struct Figures {
        people: u64,
    }
    Ok(ledger
        .store
        .filed_reports(id)?
        .into_iter()
        .find(|report| report.event == event)
        .and_then(|report| serde_json::from_slice::<Model>(&report.report.model).ok())
        .map(|model| model.impact.people))
}

/// A recorded mitigation in words.
fn mitigation_words(name: &str, key_taken: Option<bool>) -> String {
    match (name, key_taken) {
        ("encrypted", Some(false)) => "the data was encrypted, and the key was not taken".to_owned(),
        ("encrypted", Some(true)) => "the data was encrypted, but the key was taken too".to_owned(),
        ("encrypted", None) => {
            "the data was encrypted; whether the key was taken too is not known".to_owned()
        }
        (other, _) => match other {
            "recovered" => "the data has been recovered".to_owned(),
            "contained" => "the incident has been contained".to_owned(),
            other => other.to_owned(),
        },
    }
}

/// The first record of an act, with what it said.
fn first_act(events: &[Recorded], wanted: Act) -> Option<(&Recorded, &ActDone)> {
    events
        .iter()
        .filter_map(|recorded| match &recorded.body {
            IncidentEventBody::Act(done) if done.act == wanted => Some((recorded, done)),
            _ => None,
        })
        .min_by_key(|(recorded, _)| recorded.event.at)
}

/// Builds the report's content from the recorded facts and the ledger as it is now (the impact
/// is computed afresh; nothing is recorded).
pub fn model(ledger: &Ledger, id: IncidentId, phase: Phase) -> Result<ReportModel> {
    let incident = find_incident(ledger, id)?;
    let impact = compute(ledger, &incident)?;
    let events = crate::breach::incident_events::log(ledger, id)?;
    let statements = statements(&events);
    let claims_vs_ledger = (!statements.is_empty()).then(|| compare(&statements, &impact.figures));
    let regulator_act = first_act(&events, Act::RegulatorNotified);
    let since_initial = match phase {
        Phase::Initial => None,
        Phase::FollowUp => {
            regulator_act.ok_or_else(|| {
                Error::Invalid(
                    "a follow-up report follows an initial one: record it first with \
                     `custody incident record ID regulator-notified --at …`"
                        .to_owned(),
                )
            })?;
            // What changed is told since the last report filed, initial or follow-up.
            let last = events
                .iter()
                .filter(|recorded| {
                    matches!(&recorded.body, IncidentEventBody::Act(done)
                        if matches!(done.act, Act::RegulatorNotified | Act::RegulatorUpdated))
                })
                .max_by_key(|recorded| (recorded.event.at, recorded.event.id));
            match last {
                Some(last) => {
                    let mut since_last = since(ledger, &events, last, impact.figures.people);
                    // The figure the last report gave, as filed, when a copy was kept.
                    if let Some(people) = filed_people(ledger, id, last.event.id)? {
                        since_last.people_then = Some(people);
                    }
                    Some(since_last)
                }
                None => None,
            }
        }
    };
    let facts = &incident.facts;
    let has = |nature: Nature| {
        if facts.nature.contains(&nature) {
            "affected"
        } else {
            "not affected"
        }
    };
    // Confidentiality is "not known" while the evidence is ahead of the facts, or the supplier
    // says it does not know whether data was taken.
    let unsure = crate::breach::incident_facts::evidence_ahead(facts, &events).is_some()
        || crate::breach::incidents::combined_claims(&crate::breach::incidents::statements(&events))
            .exfiltration
            == Some(crate::breach::incidents::Exfiltration::Unknown);
    let confidentiality = match has(Nature::Confidentiality) {
        "not affected" if unsure => "not known",
        other => other,
    };
    let keys: Vec<custody_core::CategoryKey> = impact
        .figures
        .categories
        .keys()
        .filter_map(|key| custody_core::CategoryKey::parse(key).ok())
        .collect();
    let consequences = crate::notices::notice_model::consequences_for_them(
        &keys,
        !impact.figures.special_categories.is_empty(),
    );
    let assessment = latest_assessment(&events);
    let mitigations = assessment
        .as_ref()
        .map(|assessment| {
            assessment
                .mitigations
                .iter()
                .map(|name| mitigation_words(name, assessment.factors.key_taken))
                .collect()
        })
        .unwrap_or_default();
    let home = ledger.settings.phone_region.as_str();
    let abroad = impact
        .figures
        .jurisdictions
        .iter()
        .filter(|(place, _)| place.as_str() != "unknown" && place.split('-').next() != Some(home))
        .map(|(place, count)| (place.clone(), *count))
        .collect();
    let unplaced = impact.figures.jurisdictions.get("unknown").copied().unwrap_or(0);
    let supplier_contract = match &incident.supplier {
        Some(name) => crate::ledger::suppliers::find(ledger, name)?.contract,
        None => None,
    };
    Ok(ReportModel {
        dpo_phone: ledger.settings.dpo.phone.clone(),
        registration_number: ledger.settings.registration_number.clone(),
        supplier_contract,
        consequences,
        mitigations,
        answers: crate::breach::incident_facts::report_answers(&events),
        regulator_decision: first_act(&events, Act::RegulatorNotRequired).map(|(recorded, done)| {
            format!(
                "decided on {}: {}",
                local(ledger, recorded.event.at),
                done.reason.as_deref().unwrap_or_default()
            )
        }),
        people_decision: first_act(&events, Act::PeopleNotRequired).map(|(recorded, done)| {
            format!(
                "decided on {}, because {}: {}",
                local(ledger, recorded.event.at),
                done.ground.map_or("no ground recorded", |ground| ground.words()),
                done.reason.as_deref().unwrap_or_default()
            )
        }),
        phase,
        organisation: ledger.settings.organisation.clone(),
        regulator: ledger.settings.regulator.clone(),
        dpo_name: ledger.settings.dpo.name.clone(),
        dpo_email: ledger.settings.dpo.email.clone(),
        prepared_at: local(ledger, ledger.now()),
        incident: id,
        regulator_reference: regulator_act.and_then(|(_, done)| done.reference.clone()),
        supplier: crate::breach::in_house::where_(&incident),
        in_house: incident.supplier.is_none(),
        sub_processors: impact.sub_processors.clone(),
        summary: facts.summary.clone(),
        nature: facts.nature.iter().map(|nature| nature.as_str()).collect(),
        cyber: match facts.cyber {
            Some(true) => "yes",
            Some(false) => "no",
            None => "not known",
        },
        confidentiality,
        integrity: has(Nature::Integrity),
        availability: has(Nature::Availability),
        occurred_from: facts.occurred_from.map(|at| local(ledger, at)),
        occurred_to: facts.occurred_to.map(|at| local(ledger, at)),
        supplier_discovered_at: facts.supplier_discovered_at.map(|at| local(ledger, at)),
        supplier_notified_at: facts.supplier_notified_at.map(|at| local(ledger, at)),
        aware_at: local(ledger, facts.aware_at),
        regulator_due: local(ledger, facts.aware_at.plus_hours(custody_core::REGULATOR_HOURS)),
        late: regulator_act.map_or_else(|| ledger.now(), |(recorded, _)| recorded.event.at)
            > facts.aware_at.plus_hours(custody_core::REGULATOR_HOURS),
        delay_reason: regulator_act.and_then(|(_, done)| done.delay_reason.clone()),
        figures_window: if impact.window_from == impact.window_to {
            format!("what the supplier held at {}", local(ledger, impact.window_to))
        } else {
            format!(
                "what the supplier held at any moment from {} to {}",
                local(ledger, impact.window_from),
                local(ledger, impact.window_to)
            )
        },
        data_categories: impact
            .figures
            .categories
            .iter()
            .map(|(key, count)| {
                let plain = custody_core::CategoryKey::parse(key)
                    .map_or_else(|_| key.clone(), |key| key.plain_label());
                (key.clone(), plain.trim_start_matches("your ").to_owned(), *count)
            })
            .collect(),
        impact: impact.figures,
        supplier_claims: claims_vs_ledger,
        statements: statements
            .into_iter()
            .map(|statement| report_statement(ledger, statement))
            .collect(),
        assessment,
        decisions: quoted(ledger, &events, EntryKind::Decision),
        measures: [
            quoted(ledger, &events, EntryKind::Update),
            quoted(ledger, &events, EntryKind::Note),
        ]
        .concat(),
        contacts: quoted(ledger, &events, EntryKind::Contact),
        people_notified_at: first_act(&events, Act::PeopleNotified)
            .map(|(recorded, _)| local(ledger, recorded.event.at)),
        since_initial,
        abroad,
        unplaced,
    })
}

fn since(ledger: &Ledger, events: &[Recorded], initial: &Recorded, people_now: u64) -> SinceInitial {
    // Impact events are dated when they were computed; compare them with when the initial report
    // was made, not with when that act was recorded.
    let cut = initial.event.at;
    let impacts: Vec<(&Recorded, &ImpactRecorded)> = events
        .iter()
        .filter_map(|recorded| match &recorded.body {
            IncidentEventBody::Impact(impact) => Some((recorded, impact)),
            _ => None,
        })
        .collect();
    let people_then = impacts
        .iter()
        .filter(|(recorded, _)| recorded.event.at <= cut)
        .map(|(_, impact)| impact.figures.people)
        .next_back();
    let later = |recorded: &Recorded| {
        recorded.event.at > cut || recorded.event.recorded_at > initial.event.recorded_at
    };
    SinceInitial {
        initial_at: local(ledger, cut),
        // The first computation has nothing to change from; later ones say what changed.
        impact_changes: impacts
            .iter()
            .skip(1)
            .filter(|(recorded, _)| recorded.event.at > cut)
            .flat_map(|(_, impact)| impact.changes.iter().cloned())
            .collect(),
        people_then,
        people_now,
        statements: events
            .iter()
            .filter(|recorded| later(recorded))
            .filter_map(|recorded| match &recorded.body {
                IncidentEventBody::Statement(statement) => Some(Quoted {
                    at: local(ledger, recorded.event.at),
                    text: statement.text.clone(),
                }),
                _ => None,
            })
            .collect(),
        entries: events
            .iter()
            .filter(|recorded| later(recorded))
            .filter_map(|recorded| match &recorded.body {
                IncidentEventBody::Entry(entry) => Some(Quoted {
                    at: local(ledger, recorded.event.at),
                    text: entry.text.clone(),
                }),
                _ => None,
            })
            .collect(),
        facts_changed: events
            .iter()
            .filter(|recorded| later(recorded))
            .filter_map(|recorded| match &recorded.body {
                IncidentEventBody::Amend(amended) => Some(amended),
                _ => None,
            })
            .flat_map(|amended| {
                amended.changes.iter().map(move |change| {
                    let (old, new) = change.words();
                    format!("{}: {old} → {new} ({})", change.field().replace('_', " "), amended.reason)
                })
            })
            .collect(),
        evidence: events
            .iter()
            .filter(|recorded| later(recorded))
            .filter_map(|recorded| match &recorded.body {
                IncidentEventBody::Evidence(evidence) => Some(format!(
                    "{}: a leaked file ({}, SHA-256 {}) names {} of our people, {} of them held by the supplier",
                    local(ledger, recorded.event.at),
                    evidence.file,
                    evidence.sha256,
                    evidence.matched,
                    evidence.held_by_supplier
                )),
                _ => None,
            })
            .collect(),
    }
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Markdown.
    Markdown,
    /// HTML (escaped).
    Html,
    /// JSON (the model itself).
    Json,
}

impl Format {
    /// Parses `md`, `html` or `json`.
    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "md" => Ok(Format::Markdown),
            "html" => Ok(Format::Html),
            "json" => Ok(Format::Json),
            _ => Err(Error::Invalid(format!(
                "--format {text:?}: expected md, html or json"
            ))),
        }
    }
}

const MARKDOWN: &str = include_str!("../../templates/report.md");
const HTML: &str = include_str!("../../templates/report.html");

/// `1201484` → `1,201,484`: figures a reader takes in at a glance.
pub fn thousands(number: u64) -> String {
    let digits = number.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Renders a report.
pub fn render(model: &ReportModel, format: Format) -> Result<String> {
    if format == Format::Json {
        return serde_json::to_string_pretty(model).map_err(|error| Error::Invalid(error.to_string()));
    }
    let (name, source) = if format == Format::Html {
        ("report.html", HTML)
    } else {
        ("report.md", MARKDOWN)
    };
    render_template(name, source, model)
}

/// Renders a model with a template (strict about undefined values; HTML autoescaped by name,
/// free text in Markdown escaped).
pub(crate) fn render_template(name: &str, source: &str, model: &impl Serialize) -> Result<String> {
    let mut environment = minijinja::Environment::new();
    environment.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    custody_mail::markdown::configure(&mut environment);
    environment.add_filter("thousands", thousands);
    // A data-category key by the taxonomy's plain name; the key itself only where a machine reads.
    environment.add_filter("plain", |key: String| {
        custody_core::CategoryKey::parse(&key).map_or(key, |key| {
            key.plain_label().trim_start_matches("your ").to_owned()
        })
    });
    environment
        .add_template(name, source)
        .map_err(|error| Error::Invalid(format!("{name} template: {error}")))?;
    let template = environment
        .get_template(name)
        .map_err(|error| Error::Invalid(format!("{name} template: {error}")))?;
    template
        .render(minijinja::value::Serde(model))
        .map_err(|error| Error::Invalid(format!("{name} template: {error:#}")))
}

/// Builds and renders a report, and audits its generation with the digest of the text.
pub fn generate(ledger: &mut Ledger, id: IncidentId, phase: Phase, format: Format) -> Result<String> {
    use sha2::Digest;
    let model = model(ledger, id, phase)?;
    let text = render(&model, format)?;
    let digest = custody_vault::hex(&sha2::Sha256::digest(text.as_bytes()));
    let format_name = match format {
        Format::Markdown => "md",
        Format::Html => "html",
        Format::Json => "json",
    };
    ledger.audit_only(
        "report.generate",
        &format!("incident:{id}"),
        serde_json::json!({ "phase": model.phase, "format": format_name, "sha256": digest }),
    )?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_201_484), "1,201,484");
    }
}
