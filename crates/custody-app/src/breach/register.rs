//! The breach register (UK/EU GDPR Art. 33(5): "the controller shall document any personal data
//! breaches, comprising the facts relating to the personal data breach, its effects and the
//! remedial action taken"): every incident, reported or not, with its facts as they stand, its
//! effects, every decision with its reasons, the remedial action, and the reports filed with
//! their digests. As JSON, Markdown or CSV (cells made safe for spreadsheets).

use custody_core::IncidentId;
use serde::Serialize;

use custody_core::{Instant, Nature};

use crate::breach::incident_events::{IncidentEventBody, Recorded};
use crate::breach::incidents::{Act, EntryKind};
use crate::dir::Ledger;
use crate::error::{Error, Result};

/// One decision or act, with its reasons.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    /// When.
    pub at: Instant,
    /// Who recorded it.
    pub actor: String,
    /// What was decided or done, with its reasons.
    pub what: String,
}

/// One incident in the register.
#[derive(Debug, Clone, Serialize)]
pub struct RegisterEntry {
    /// Id.
    pub incident: IncidentId,
    /// Where it happened.
    pub supplier: String,
    /// What happened (as the facts now stand).
    pub summary: String,
    /// Confidentiality, integrity, availability.
    pub nature: Vec<Nature>,
    /// When the organisation became aware.
    pub aware_at: Instant,
    /// Window of compromise.
    pub occurred_from: Option<Instant>,
    /// Window of compromise.
    pub occurred_to: Option<Instant>,
    /// Amendments made to the facts.
    pub amendments: usize,
    /// People affected, as last computed from the ledger.
    pub people: Option<u64>,
    /// Data categories held, as last computed.
    pub categories: Vec<String>,
    /// People a leaked file confirmed exposed.
    pub confirmed_exposed: Option<u64>,
    /// The risk as last assessed: `high` (tell people), `risk` (report), `unlikely`.
    pub risk: Option<&'static str>,
    /// Whether the regulator was told, when, or why not.
    pub regulator: String,
    /// Whether people were told, when, or why not.
    pub people_told: String,
    /// Decisions and acts, with their reasons, in order.
    pub decisions: Vec<Decision>,
    /// Remedial action: mitigations recorded and measures on the timeline.
    pub remedial_action: Vec<String>,
    /// Reports filed, each `phase at time (SHA-256 of the Markdown)`.
    pub filed_reports: Vec<String>,
}

fn decision(recorded: &Recorded) -> Option<String> {
    match &recorded.body {
        IncidentEventBody::Act(done) => {
            let mut what = done.act.as_str().replace('_', " ");
            if let Some(obligation) = &done.obligation {
                what = format!("{what}: {obligation}");
            }
            for part in [&done.reference, &done.delay_reason, &done.reason]
                .into_iter()
                .flatten()
            {
                what = format!("{what}; {part}");
            }
            if let Some(ground) = done.ground {
                what = format!("{what} ({})", ground.words());
            }
            Some(what)
        }
        IncidentEventBody::Entry(entry) if entry.entry == EntryKind::Decision => Some(format!(
            "{} (reasoning: {})",
            entry.text,
            entry.reason.as_deref().unwrap_or("none recorded")
        )),
        IncidentEventBody::Assessment(assessment) => Some(format!(
            "risk assessed (score {}): report to the regulator {}, tell people {}{}",
            assessment.score,
            if assessment.report_regulator { "yes" } else { "no" },
            if assessment.tell_people { "yes" } else { "no" },
            assessment
                .override_reason
                .as_ref()
                .map(|reason| format!("; overridden because {reason}"))
                .unwrap_or_default()
        )),
        IncidentEventBody::Amend(amended) => Some(crate::breach::incident_facts::summarise(amended)),
        _ => None,
    }
}

fn told(events: &[Recorded], done: Act, not: Act) -> String {
    let first = |wanted: Act| {
        events.iter().find_map(|recorded| match &recorded.body {
            IncidentEventBody::Act(act) if act.act == wanted => Some((recorded.event.at, act)),
            _ => None,
        })
    };
    match (first(done), first(not)) {
        (Some((at, _)), _) => format!("yes, {}", at.to_rfc3339()),
        (None, Some((at, act))) => format!(
            "no: decided {}{}: {}",
            at.to_rfc3339(),
            act.ground
                .map(|ground| format!(", {}", ground.words()))
                .unwrap_or_default(),
            act.reason.as_deref().unwrap_or_default()
        ),
        (None, None) => "not yet".to_owned(),
    }
}

/// Every incident, oldest first.
pub fn entries(ledger: &Ledger) -> Result<Vec<RegisterEntry>> {
    let mut out = Vec::new();
    for record in ledger.store.incidents()? {
        let events = crate::breach::incident_events::log(ledger, record.id)?;
        let incident = crate::breach::incident_facts::as_they_stand(record, &events);
        let figures = crate::breach::impact::latest_recorded(&events);
        let assessment = crate::breach::impact::latest_assessment(&events);
        let mut remedial_action: Vec<String> = assessment
            .as_ref()
            .map(|assessment| {
                assessment
                    .mitigations
                    .iter()
                    .map(|m| format!("mitigation: {m}"))
                    .collect()
            })
            .unwrap_or_default();
        remedial_action.extend(events.iter().filter_map(|recorded| match &recorded.body {
            IncidentEventBody::Entry(entry) if entry.entry == EntryKind::Update => {
                Some(format!("{}: {}", recorded.event.at.to_rfc3339(), entry.text))
            }
            _ => None,
        }));
        let filed_reports = crate::breach::filed::filed(ledger, incident.id)?
            .into_iter()
            .map(|filed| {
                format!(
                    "{} {} (Markdown SHA-256 {})",
                    filed.phase,
                    filed.filed_at.to_rfc3339(),
                    filed.sha256[1]
                )
            })
            .collect();
        out.push(RegisterEntry {
            incident: incident.id,
            supplier: crate::breach::in_house::where_(&incident),
            summary: incident.facts.summary.clone(),
            nature: incident.facts.nature.clone(),
            aware_at: incident.facts.aware_at,
            occurred_from: incident.facts.occurred_from,
            occurred_to: incident.facts.occurred_to,
            amendments: crate::breach::incident_facts::history(&events).len(),
            people: figures.as_ref().map(|(figures, _, _)| figures.people),
            categories: figures
                .as_ref()
                .map(|(figures, _, _)| figures.categories.keys().cloned().collect())
                .unwrap_or_default(),
            confirmed_exposed: figures
                .as_ref()
                .and_then(|(_, confirmed, _)| confirmed.as_ref().map(|c| c.people)),
            risk: assessment.as_ref().map(|assessment| {
                if assessment.tell_people {
                    "high"
                } else if assessment.report_regulator {
                    "risk"
                } else {
                    "unlikely"
                }
            }),
            regulator: told(&events, Act::RegulatorNotified, Act::RegulatorNotRequired),
            people_told: told(&events, Act::PeopleNotified, Act::PeopleNotRequired),
            decisions: events
                .iter()
                .filter_map(|recorded| {
                    decision(recorded).map(|what| Decision {
                        at: recorded.event.at,
                        actor: recorded.event.actor.clone(),
                        what,
                    })
                })
                .collect(),
            remedial_action,
            filed_reports,
        });
    }
    Ok(out)
}

/// Every incident for the desk and the API, the look audited as `register.view`.
pub fn look(ledger: &mut Ledger) -> Result<Vec<RegisterEntry>> {
    let entries = entries(ledger)?;
    ledger.audit_only(
        "register.view",
        "register",
        serde_json::json!({ "incidents": entries.len() }),
    )?;
    Ok(entries)
}

/// The register rendered as `json`, `md` or `csv`, audited as `register.generate`.
pub fn render(ledger: &mut Ledger, format: &str) -> Result<String> {
    let entries = entries(ledger)?;
    let text = match format {
        "json" => {
            serde_json::to_string_pretty(&entries).map_err(|error| Error::Invalid(error.to_string()))?
        }
        "md" => markdown(ledger, &entries),
        "csv" => csv(&entries)?,
        other => {
            return Err(Error::Invalid(format!(
                "--format {other:?}: expected json, md or csv"
            )));
        }
    };
    ledger.audit_only(
        "register.generate",
        "register",
        serde_json::json!({ "format": format, "incidents": entries.len() }),
    )?;
    Ok(text)
}

fn markdown(ledger: &Ledger, entries: &[RegisterEntry]) -> String {
    let escape = custody_mail::markdown::escape;
    let mut out = format!(
        "# Breach register — {}\n\nEvery personal data breach, reported or not (UK/EU GDPR Art. 33(5)). {} incidents.\n",
        escape(&ledger.settings.organisation),
        entries.len()
    );
    for entry in entries {
        let natures: Vec<&str> = entry.nature.iter().map(|nature| nature.as_str()).collect();
        out.push_str(&format!(
            "\n## Incident {} at {}\n\n- What happened: {}\n- Nature: {}\n- Aware: {}\n- People affected: {}\n\
             - Risk: {}\n- Regulator: {}\n- People: {}\n- Amendments to the facts: {}\n",
            entry.incident,
            escape(&entry.supplier),
            escape(&entry.summary),
            natures.join(", "),
            entry.aware_at.local(&ledger.zone),
            entry.people.map_or_else(|| "not computed".to_owned(), |people| people.to_string()),
            entry.risk.unwrap_or("not assessed"),
            escape(&entry.regulator),
            escape(&entry.people_told),
            entry.amendments
        ));
        out.push_str("\n### Decisions\n\n");
        for decision in &entry.decisions {
            out.push_str(&format!(
                "- {} ({}): {}\n",
                decision.at.local(&ledger.zone),
                escape(&decision.actor),
                escape(&decision.what)
            ));
        }
        out.push_str("\n### Remedial action\n\n");
        if entry.remedial_action.is_empty() {
            out.push_str("None recorded.\n");
        }
        for action in &entry.remedial_action {
            out.push_str(&format!("- {}\n", escape(action)));
        }
        out.push_str("\n### Reports filed\n\n");
        if entry.filed_reports.is_empty() {
            out.push_str("None.\n");
        }
        for filed in &entry.filed_reports {
            out.push_str(&format!("- {}\n", escape(filed)));
        }
    }
    out
}

fn csv(entries: &[RegisterEntry]) -> Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = [
        "incident",
        "supplier",
        "summary",
        "nature",
        "aware_at",
        "people",
        "confirmed_exposed",
        "risk",
        "regulator",
        "people_told",
        "decisions",
        "remedial_action",
        "filed_reports",
    ];
    let failed = |error: csv::Error| Error::Invalid(error.to_string());
    writer.write_record(header).map_err(failed)?;
    for entry in entries {
        let natures: Vec<&str> = entry.nature.iter().map(|nature| nature.as_str()).collect();
        let decisions: Vec<String> = entry
            .decisions
            .iter()
            .map(|decision| format!("{} {}", decision.at.to_rfc3339(), decision.what))
            .collect();
        let row = [
            entry.incident.to_string(),
            entry.supplier.clone(),
            entry.summary.clone(),
            natures.join(","),
            entry.aware_at.to_rfc3339(),
            entry.people.map(|people| people.to_string()).unwrap_or_default(),
            entry
                .confirmed_exposed
                .map(|people| people.to_string())
                .unwrap_or_default(),
            entry.risk.unwrap_or_default().to_owned(),
            entry.regulator.clone(),
            entry.people_told.clone(),
            decisions.join(" | "),
            entry.remedial_action.join(" | "),
            entry.filed_reports.join(" | "),
        ];
        writer
            .write_record(
                row.iter()
                    .map(|cell| custody_core::spreadsheet_safe(cell).into_owned()),
            )
            .map_err(failed)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|error| Error::Invalid(error.to_string()))?;
    String::from_utf8(bytes).map_err(|error| Error::Invalid(error.to_string()))
}
