//! The demo's incident, learned over weeks: on Friday 29 October 2021, in the evening, the
//! membership-data processor tells the party that ransomware has made party data inaccessible.
//! The demo opens the incident as the processor first described it (availability only), records
//! its first statement, assesses the risk, shows the clocks as they stood on the Sunday, files
//! the initial report with the regulator (kept as filed), records contacts with the police and
//! the cyber-security agency; then the supplier's correction arrives (data was copied out), the
//! facts are amended with that reason, the risk is assessed again, and a follow-up report is
//! filed saying what changed — all through the same use cases.

use custody_core::IncidentId;
use serde::Serialize;

use custody_core::{CategoryKey, Nature, parse_instant};

use custody_app::Ledger;
use custody_app::Result;
use custody_app::breach::impact::{Assessment, ImpactFigures, assess_and_record};
use custody_app::breach::incidents::{
    Act, ClockView, EntryKind, Exfiltration, OpenInput, StatementInput, StatementView, add_entry,
    clock_views, find_incident, incident_clocks, open, record_act, show, statement,
};

/// The moment the demo shows the clocks at: Sunday 31 October 2021, noon, after the clocks went back.
pub const CLOCKS_SHOWN_AT: &str = "2021-10-31 12:00";

/// What the demo's incident shows.
#[derive(Debug, Clone, Serialize)]
pub struct DemoIncident {
    /// Incident id.
    pub incident: IncidentId,
    /// The impact from the ledger.
    pub impact: ImpactFigures,
    /// The clocks as they stood at [`CLOCKS_SHOWN_AT`].
    pub clocks_then: Vec<ClockView>,
    /// The clocks now.
    pub clocks_now: Vec<ClockView>,
    /// The supplier's statements (the second corrects the first).
    pub statements: Vec<StatementView>,
    /// The risk assessment as it stands.
    pub assessment: Assessment,
    /// The reports filed with the regulator, by phase.
    pub filed: String,
    /// The obligations of the places the affected people live in, now.
    pub obligations: Vec<custody_app::breach::obligations::ObligationClock>,
}

/// Runs the incident through the breach desk.
pub fn run(ledger: &mut Ledger, supplier: &str, aware_at: &str) -> Result<DemoIncident> {
    let at = |ledger: &Ledger, text: &str| parse_instant(text, &ledger.zone);
    let input = OpenInput {
        supplier: Some(supplier.to_owned()),
        aware_at: at(ledger, aware_at)?,
        nature: vec![Nature::Availability],
        summary: "An incident at the membership-data processor, most likely ransomware, made a significant quantity \
                  of party data inaccessible on its systems. The party's own systems were not affected."
            .to_owned(),
        occurred_from: None,
        occurred_to: None,
        supplier_discovered_at: Some(at(ledger, "2021-10-28 23:10")?),
        supplier_notified_at: Some(at(ledger, "2021-10-29 17:45")?),
        cyber: Some(true),
    };
    let id = open(ledger, input)?;
    let keys = |list: &[&str]| {
        list.iter()
            .map(|key| CategoryKey::parse(key))
            .collect::<custody_core::Result<Vec<_>>>()
    };
    statement(
        ledger,
        id,
        StatementInput {
            received_at: at(ledger, "2021-10-29 17:45")?,
            text: "Party data on our systems has been rendered inaccessible. We have no evidence that data was taken."
                .to_owned(),
            claims_categories: Some(keys(&["user.name", "user.contact.email"])?),
            claims_records: Some(250_000),
            claims_exfiltration: Some(Exfiltration::No),
        },
    )?;
    let assessment = assess_and_record(
        ledger,
        id,
        &[],
        &custody_app::breach::impact::FactorsGiven::default(),
        (None, None),
        None,
    )?;
    let incident = find_incident(ledger, id)?;
    let events = custody_app::breach::incident_events::log(ledger, id)?;
    let clocks_then = clock_views(
        ledger,
        incident_clocks(ledger, &incident, &events, at(ledger, CLOCKS_SHOWN_AT)?)?,
    );
    add_entry(
        ledger,
        id,
        EntryKind::Contact,
        "Reported to the National Crime Agency",
        Some(at(ledger, "2021-10-30 10:15")?),
        None,
        Some("police".to_owned()),
    )?;
    add_entry(
        ledger,
        id,
        EntryKind::Contact,
        "Informed the National Cyber Security Centre",
        Some(at(ledger, "2021-10-30 11:00")?),
        None,
        Some("cyber-security-agency".to_owned()),
    )?;
    add_entry(
        ledger,
        id,
        EntryKind::Decision,
        "Tell every affected person individually, current and former",
        Some(at(ledger, "2021-10-30 16:00")?),
        Some(
            "membership reveals political opinion, and the supplier cannot yet rule out that data was taken"
                .to_owned(),
        ),
        None,
    )?;
    record_act(
        ledger,
        id,
        Act::RegulatorNotified,
        at(ledger, "2021-11-01 15:20")?,
        Some("IC-0000-DEMO".to_owned()),
        None,
    )?;
    // The Irish authority is told of the Irish members, with the report in the EDPB template's
    // sections, filed as it stands (when the generated people include any).
    let irish = "IE:gdpr-regulator";
    if show(ledger, id)?
        .obligations
        .clocks
        .iter()
        .any(|clock| format!("{}:{}", clock.jurisdiction, clock.obligation) == irish)
    {
        custody_app::breach::incidents::record_obligation_met(
            ledger,
            id,
            irish,
            at(ledger, "2021-11-01 16:00")?,
            Some("DPC-BN-0000-DEMO".to_owned()),
            None,
        )?;
    }
    statement(
        ledger,
        id,
        StatementInput {
            received_at: at(ledger, "2021-11-12 10:00")?,
            text: "Forensic analysis shows that data was copied out before it was encrypted, including phone numbers."
                .to_owned(),
            claims_categories: Some(keys(&["user.name", "user.contact.email", "user.contact.phone_number"])?),
            claims_records: Some(1_100_000),
            claims_exfiltration: Some(Exfiltration::Yes),
        },
    )?;
    custody_app::breach::incident_facts::amend(
        ledger,
        id,
        custody_app::breach::incident_facts::Amendment {
            nature: Some(vec![Nature::Confidentiality, Nature::Availability]),
            summary: Some(
                "Ransomware at the membership-data processor: party data was copied out, then encrypted on its \
                 systems. The party's own systems were not affected."
                    .to_owned(),
            ),
            reason: "The supplier's statement of 12 November 2021: forensic analysis shows data was copied out"
                .to_owned(),
            ..custody_app::breach::incident_facts::Amendment::default()
        },
    )?;
    record_act(
        ledger,
        id,
        Act::RegulatorUpdated,
        at(ledger, "2021-11-15 11:00")?,
        Some("IC-0000-DEMO".to_owned()),
        None,
    )?;
    let assessment = custody_app::breach::impact::latest_assessment(
        &custody_app::breach::incident_events::log(ledger, id)?,
    )
    .unwrap_or(assessment);
    let view = show(ledger, id)?;
    Ok(DemoIncident {
        incident: id,
        impact: view.impact,
        clocks_then,
        clocks_now: view.clocks,
        filed: view
            .filed_reports
            .iter()
            .map(|filed| filed.phase.clone())
            .collect::<Vec<_>>()
            .join(" and "),
        statements: view.statements,
        assessment,
        obligations: view.obligations.clocks,
    })
}

/// The incident in words, for the demo's summary.
pub fn to_text(incident: &DemoIncident, dir: &str) -> String {
    let mut out = format!(
        "\nIncident {}: {} people affected per the ledger; special categories {:?}.\n",
        incident.incident, incident.impact.people, incident.impact.special_categories
    );
    out.push_str(&format!(
        "Risk: report to the regulator {}, tell people {} (score {}).\n",
        incident.assessment.report_regulator, incident.assessment.tell_people, incident.assessment.score
    ));
    out.push_str(&format!("Clocks on {CLOCKS_SHOWN_AT} (UK time):\n"));
    for clock in &incident.clocks_then {
        out.push_str(&format!(
            "  {:<16} {:<22} {:<15} {}\n",
            clock.name,
            clock.due_local.clone().unwrap_or_default(),
            clock.state.as_str(),
            clock.in_words
        ));
    }
    if !incident.obligations.is_empty() {
        out.push_str(
            "Obligations where the affected people live, as they stand now (jurisdiction, duty, people there, state):\n",
        );
        for clock in &incident.obligations {
            let to = serde_json::to_value(clock.to)
                .ok()
                .and_then(|value| value.as_str().map(|text| text.replace('_', " ")))
                .unwrap_or_default();
            let state = serde_json::to_value(clock.state)
                .ok()
                .and_then(|value| value.as_str().map(str::to_owned))
                .unwrap_or_default();
            out.push_str(&format!(
                "  {:<7} {:<28} {:>6}  {:<12} {}\n",
                clock.jurisdiction,
                format!(
                    "{to}{}",
                    clock
                        .body
                        .as_deref()
                        .map(|body| format!(" ({body})"))
                        .unwrap_or_default()
                ),
                clock.residents,
                state,
                clock.citation
            ));
        }
    }
    out.push_str(&format!(
        "Opened as the supplier first described it (availability only); amended when it corrected itself; \
         reports filed: {}.\n",
        incident.filed
    ));
    for statement in &incident.statements {
        let correction = if statement.correction {
            format!(" — CORRECTION: {}", statement.changes.join("; "))
        } else {
            String::new()
        };
        out.push_str(&format!(
            "Supplier statement {} ({}){correction}\n",
            statement.version, statement.received_at
        ));
    }
    out.push_str(&format!(
        "\nTry: custody --dir {dir} incident show {id}\n     custody --dir {dir} report {id} --format html --out report.html\n     \
         custody --dir {dir} report {id} --regulator DPC --as-filed\n",
        id = incident.incident
    ));
    out
}
