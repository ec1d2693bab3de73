//! `custody incident …` and `custody impact`: the breach desk on the command line.

use custody_core::{EventId, IncidentId};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;

use custody_app::breach::incident_facts::{self, Amendment};
use custody_app::breach::incidents::{self, Act, EntryKind, Exfiltration, OpenInput, StatementInput};
use custody_app::{Ledger, breach::impact};
use custody_core::{CategoryKey, Nature};

use crate::cli::{instant, open};
use crate::output;

/// Incident commands.
#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// Open an incident at a supplier.
    Open {
        /// Supplier name; leave out for an incident at the organisation itself (then say who was
        /// affected with `incident people`, or --people and --categories here).
        #[arg(long)]
        supplier: Option<String>,
        /// For an incident at the organisation itself known only by numbers: how many people.
        #[arg(long, requires = "categories")]
        people: Option<u64>,
        /// With --people: the data categories involved (comma-separated keys).
        #[arg(long)]
        categories: Option<String>,
        /// When the organisation became aware (starts the regulator's 72 hours).
        #[arg(long)]
        aware_at: String,
        /// What was affected: confidentiality, integrity, availability (comma-separated).
        #[arg(long)]
        nature: String,
        /// What happened.
        #[arg(long)]
        summary: String,
        /// Start of the window of compromise.
        #[arg(long)]
        occurred_from: Option<String>,
        /// End of the window of compromise.
        #[arg(long)]
        occurred_to: Option<String>,
        /// When the supplier discovered it.
        #[arg(long)]
        supplier_discovered_at: Option<String>,
        /// When the supplier told us.
        #[arg(long)]
        supplier_notified_at: Option<String>,
        /// Whether it was a cyber incident (an attack on systems): yes, no or unknown.
        #[arg(long, value_parser = ["yes", "no", "unknown"])]
        cyber: Option<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Amend facts learned since opening: each change is kept with its reason, old and new values
    /// (`incident show --json` gives facts and facts_history); moving --aware-at moves the
    /// regulator's clock.
    Amend {
        /// Incident id.
        id: IncidentId,
        /// What was affected now that more is known: confidentiality, integrity, availability.
        #[arg(long)]
        nature: Option<String>,
        /// Start of the window of compromise.
        #[arg(long)]
        occurred_from: Option<String>,
        /// End of the window of compromise.
        #[arg(long)]
        occurred_to: Option<String>,
        /// Whether it was a cyber incident: yes, no or unknown.
        #[arg(long, value_parser = ["yes", "no", "unknown"])]
        cyber: Option<String>,
        /// What happened, as now understood.
        #[arg(long)]
        summary: Option<String>,
        /// When the organisation became aware.
        #[arg(long)]
        aware_at: Option<String>,
        /// When the supplier discovered it.
        #[arg(long)]
        supplier_discovered_at: Option<String>,
        /// When the supplier told us.
        #[arg(long)]
        supplier_notified_at: Option<String>,
        /// Why: what was learned, and from whom (required).
        #[arg(long)]
        reason: String,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Dismiss the flag that the evidence is ahead of the facts, with the reason the facts stand
    /// (it returns with the next statement or leak evidence that says data was taken).
    Dismiss {
        /// Incident id.
        id: IncidentId,
        /// Why the facts stand as they are (required).
        #[arg(long)]
        reason: String,
    },
    /// Leak evidence's probable links: list those waiting, or confirm them as the same people
    /// (only then are they part of the evidence, and told).
    Evidence {
        /// Incident id.
        id: IncidentId,
        /// What to do.
        #[command(subcommand)]
        action: EvidenceAction,
    },
    /// Who an incident at the organisation itself affected: the people of a file (matched to
    /// the ledger as a share's rows are), or a count with the data categories involved.
    People {
        /// Incident id.
        id: IncidentId,
        /// A CSV of the people affected (e.g. a misdirected email's recipients).
        file: Option<PathBuf>,
        /// How many people, when only a number is known.
        #[arg(long, conflicts_with = "file", requires = "categories")]
        count: Option<u64>,
        /// With --count: the data categories involved (comma-separated keys).
        #[arg(long)]
        categories: Option<String>,
        /// Map a column to a field or category, as for `share record` (repeatable).
        #[arg(long = "map")]
        maps: Vec<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Answer what the regulator's form asks that the ledger cannot know (each answer stands
    /// until answered again).
    Answer {
        /// Incident id.
        id: IncidentId,
        /// Security measures in place before the breach.
        #[arg(long)]
        measures_before: Option<String>,
        /// Staff training, where relevant.
        #[arg(long)]
        training: Option<String>,
        /// The impact on the organisation.
        #[arg(long)]
        organisation_impact: Option<String>,
        /// Whether and how the data was recovered.
        #[arg(long)]
        recovery: Option<String>,
        /// Other regulators or bodies told.
        #[arg(long)]
        other_regulators: Option<String>,
        /// Whether people in other countries are affected, and where.
        #[arg(long)]
        other_countries: Option<String>,
    },
    /// Every incident with its clocks.
    List {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// An incident: clocks, impact, assessment, statements, timeline.
    Show {
        /// Incident id.
        id: IncidentId,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Record an act: regulator-notified (files the initial report as it stands: kept byte for
    /// byte), regulator-updated (files a follow-up the same way), people-notified,
    /// obligation-met --obligation J:ID (another jurisdiction's regulator, an attorney general,
    /// the credit bureaus told); or a decision not to notify, with its reasons:
    /// regulator-not-required, people-not-required --ground.
    Record {
        /// Incident id.
        id: IncidentId,
        /// The act or decision.
        #[arg(value_parser = [
            "regulator-notified", "regulator-updated", "people-notified", "obligation-met",
            "regulator-not-required", "people-not-required",
        ])]
        act: String,
        /// When it happened (acts; a decision is recorded as of now).
        #[arg(long)]
        at: Option<String>,
        /// For people-not-required: encrypted, measures-taken or disproportionate-effort
        /// (Art. 34(3)(a)-(c)).
        #[arg(long)]
        ground: Option<String>,
        /// For a decision not to notify: the reasons (Art. 33(5)).
        #[arg(long)]
        reason: Option<String>,
        /// The reference the regulator gave, or of the notice.
        #[arg(long = "ref")]
        reference: Option<String>,
        /// Reasons for a late report (required after the 72 hours, Art. 33(1)).
        #[arg(long)]
        delay_reason: Option<String>,
        /// For obligation-met: which, as `incident show` lists it (`US-CA:us-ca-attorney-general`).
        #[arg(long)]
        obligation: Option<String>,
    },
    /// Read the timeline, or add an entry with `add`.
    Timeline {
        /// Incident id.
        id: IncidentId,
        #[command(subcommand)]
        add: Option<TimelineCommand>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Record a statement from the supplier (versioned; changes are flagged as corrections).
    Statement {
        /// Incident id.
        id: IncidentId,
        /// When we received it.
        #[arg(long)]
        received_at: String,
        /// What the supplier said.
        #[arg(long)]
        text: String,
        /// Data categories the supplier says were involved (comma-separated keys).
        #[arg(long, value_delimiter = ',')]
        claims_categories: Option<Vec<String>>,
        /// Records the supplier says were involved.
        #[arg(long)]
        claims_records: Option<u64>,
        /// Whether the supplier says data was taken.
        #[arg(long, value_parser = ["yes", "no", "unknown"])]
        claims_exfiltration: Option<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Ask the incident's supplier questions, due at an instant (by default the contract's
    /// breach-notice hours from now); its answer, at the desk, is recorded as its statement.
    Ask {
        /// Incident id.
        id: IncidentId,
        /// When the answer is due (default: the contract's breach-notice hours from now).
        #[arg(long)]
        due: Option<String>,
        /// A question (give once for each; default: the standard set).
        #[arg(long = "question")]
        questions: Vec<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Assess the risk from the impact (rules: risk.toml in the data directory, else the default).
    Assess {
        /// Incident id.
        id: IncidentId,
        /// Mitigations to add (comma-separated): encrypted, recovered, contained. Those recorded
        /// before stay until removed.
        #[arg(long, value_delimiter = ',')]
        mitigations: Vec<String>,
        /// Mitigations to remove (comma-separated).
        #[arg(long, value_delimiter = ',')]
        remove_mitigations: Vec<String>,
        /// Whether the key was taken with encrypted data: yes, no or unknown ("encrypted" counts
        /// only when it was not).
        #[arg(long, value_parser = ["yes", "no", "unknown"])]
        key_taken: Option<String>,
        /// How easily the people can be identified from the data (ENISA 2013): negligible,
        /// limited, significant or maximum.
        #[arg(long, value_parser = ["negligible", "limited", "significant", "maximum"])]
        identification: Option<String>,
        /// Whether the breach was malicious: yes, no or unknown.
        #[arg(long, value_parser = ["yes", "no", "unknown"])]
        malicious: Option<String>,
        /// Override: report to the regulator, yes or no.
        #[arg(long, value_parser = ["yes", "no"])]
        override_regulator: Option<String>,
        /// Override: tell people, yes or no.
        #[arg(long, value_parser = ["yes", "no"])]
        override_people: Option<String>,
        /// The reason for an override.
        #[arg(long)]
        reason: Option<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

/// Adding to a timeline.
#[derive(Debug, Subcommand)]
pub enum TimelineCommand {
    /// Add an entry.
    Add {
        /// note, decision, contact or update.
        #[arg(long)]
        kind: String,
        /// What happened or was decided.
        #[arg(long)]
        text: String,
        /// When (default: now).
        #[arg(long)]
        at: Option<String>,
        /// The reasoning of a decision.
        #[arg(long)]
        reason: Option<String>,
        /// The party of a contact: regulator, police, cyber-security-agency, forensics, supplier,
        /// insurer, other.
        #[arg(long)]
        with: Option<String>,
    },
}

fn optional_instant(
    ledger: &Ledger,
    text: Option<String>,
    flag: &str,
) -> anyhow::Result<Option<custody_core::Instant>> {
    text.map(|text| instant(ledger, &text, flag)).transpose()
}

/// Comma-separated category keys.
fn category_keys(text: &str) -> anyhow::Result<Vec<CategoryKey>> {
    text.split(',')
        .map(str::trim)
        .filter(|key| !key.is_empty())
        .map(|key| CategoryKey::parse(key).with_context(|| "--categories".to_owned()))
        .collect()
}

fn yes(text: Option<String>) -> Option<bool> {
    text.map(|text| text == "yes")
}

/// yes, no, or not known (`unknown`, or not given).
fn answer(text: Option<String>) -> Option<bool> {
    match text.as_deref() {
        Some("yes") => Some(true),
        Some("no") => Some(false),
        _ => None,
    }
}

fn print_clocks(clocks: &[incidents::ClockView]) {
    let rows: Vec<Vec<String>> = clocks
        .iter()
        .map(|clock| {
            let state = clock.state.as_str().to_owned();
            vec![
                clock.name.to_owned(),
                clock.due_local.clone().unwrap_or_default(),
                state,
                clock.in_words.clone(),
            ]
        })
        .collect();
    output::table(&["clock", "due", "state", ""], &rows);
}

/// The obligations of the places the affected people live in, each with its law.
fn print_obligations(obligations: &custody_app::breach::obligations::Obligations) {
    if let Some(problem) = &obligations.problem {
        crate::say!("Obligations by jurisdiction left out: {problem}");
    }
    if obligations.clocks.is_empty() {
        return;
    }
    if let Some(lead) = &obligations.lead {
        crate::say!("EU/EEA lead authority: {lead}'s (main establishment, GDPR Art. 56)");
    }
    let rows: Vec<Vec<String>> = obligations
        .clocks
        .iter()
        .map(|clock| {
            let state = serde_json::to_value(clock.state)
                .ok()
                .and_then(|value| value.as_str().map(str::to_owned))
                .unwrap_or_default();
            let to = serde_json::to_value(clock.to)
                .ok()
                .and_then(|value| value.as_str().map(|to| to.replace('_', " ")))
                .unwrap_or_default();
            vec![
                format!("{}:{}", clock.jurisdiction, clock.obligation),
                match &clock.body {
                    Some(body) => format!("{to} ({body})"),
                    None => to,
                },
                clock.residents.to_string(),
                clock.due_local.clone().unwrap_or_default(),
                state,
                clock.in_words.clone(),
                clock.citation.clone(),
            ]
        })
        .collect();
    output::table(
        &["obligation", "tell", "people", "due", "state", "", "law"],
        &rows,
    );
}

/// What to do with leak evidence's probable links.
#[derive(Debug, Subcommand)]
pub enum EvidenceAction {
    /// List the probable links waiting for a responder.
    Waiting {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Confirm probable links of an evidence event as the same people.
    Confirm {
        /// The evidence event (its id, from `incident show` or `evidence waiting`).
        event: EventId,
        /// A reference to confirm (repeat it); leave out with --all.
        #[arg(long = "ref", value_name = "REFERENCE", required_unless_present = "all")]
        refs: Vec<String>,
        /// Confirm every link of the event still waiting.
        #[arg(long, conflicts_with = "refs")]
        all: bool,
        /// What was checked to confirm them (required).
        #[arg(long)]
        reason: String,
    },
}

fn evidence(ledger: &mut Ledger, id: IncidentId, action: EvidenceAction) -> anyhow::Result<()> {
    match action {
        EvidenceAction::Waiting { json } => {
            let waiting = custody_app::leaks::leak_evidence::waiting(ledger, id)?;
            if json {
                let list: Vec<serde_json::Value> = waiting
                    .iter()
                    .map(|(event, link)| serde_json::json!({"event": event, "link": link}))
                    .collect();
                output::json(&list)?;
            } else if waiting.is_empty() {
                crate::say!("No probable links are waiting.");
            } else {
                let rows: Vec<Vec<String>> = waiting
                    .iter()
                    .map(|(event, link)| {
                        vec![
                            event.to_string(),
                            link.reference.clone(),
                            format!("{:.4}", link.probability),
                            link.agreed.clone(),
                            link.line.to_string(),
                        ]
                    })
                    .collect();
                output::table(&["evidence", "reference", "probability", "agreed", "line"], &rows);
            }
        }
        EvidenceAction::Confirm {
            event,
            refs,
            all: _,
            reason,
        } => {
            let (recorded, added) =
                custody_app::leaks::leak_evidence::confirm(ledger, id, event, &refs, &reason)?;
            crate::say!("Confirmed {added} people as found in the leak (event {recorded}).");
        }
    }
    Ok(())
}

/// Runs an incident command.
pub fn run(dir: Option<PathBuf>, command: IncidentCommand) -> anyhow::Result<ExitCode> {
    let mut ledger = open(dir)?;
    match command {
        IncidentCommand::Ask {
            id,
            due,
            questions,
            json,
        } => {
            let due = due
                .map(|text| custody_core::parse_instant(&text, &ledger.zone))
                .transpose()
                .context("--due")?;
            let questions = (!questions.is_empty()).then_some(questions);
            let asked = custody_app::breach::questions::ask(&mut ledger, id, due, questions)?;
            let sent = (asked.contacts > 0)
                .then(|| crate::supplier_mail_cli::send_if_configured(&mut ledger))
                .flatten();
            if json {
                let mut value = serde_json::to_value(&asked)?;
                if let Some(object) = value.as_object_mut() {
                    object.insert("mail".to_owned(), serde_json::to_value(&sent)?);
                }
                output::json(&value)?;
            } else {
                crate::say!(
                    "Asked {} {} question(s) on incident {id}; the answer is due {}.",
                    asked.supplier,
                    asked.questions.len(),
                    asked.due_at.local(&ledger.zone)
                );
                if asked.contacts == 0 {
                    crate::say!(
                        "{} has no contacts on record (custody supplier contact add): nobody was emailed; its account answers at the desk.",
                        asked.supplier
                    );
                }
                if let Some(sent) = &sent {
                    crate::supplier_mail_cli::say_sent(sent);
                }
            }
        }
        IncidentCommand::Answer {
            id,
            measures_before,
            training,
            organisation_impact,
            recovery,
            other_regulators,
            other_countries,
        } => {
            let answers = incident_facts::ReportAnswers {
                measures_before,
                training,
                organisation_impact,
                recovery,
                other_regulators,
                other_countries,
            };
            incident_facts::answer(&mut ledger, id, answers)?;
            crate::say!("Recorded; the report gives these answers from now on.");
        }
        IncidentCommand::Evidence { id, action } => evidence(&mut ledger, id, action)?,
        IncidentCommand::Dismiss { id, reason } => {
            incident_facts::dismiss_evidence_flag(&mut ledger, id, &reason)?;
            crate::say!("Dismissed; the reason is on incident {id}'s timeline.");
        }
        IncidentCommand::Amend {
            id,
            nature,
            occurred_from,
            occurred_to,
            cyber,
            summary,
            aware_at,
            supplier_discovered_at,
            supplier_notified_at,
            reason,
            json,
        } => {
            let amendment = Amendment {
                summary,
                nature: nature
                    .map(|list| Nature::parse_list(&list))
                    .transpose()
                    .context("--nature")?,
                aware_at: optional_instant(&ledger, aware_at, "--aware-at")?,
                occurred_from: optional_instant(&ledger, occurred_from, "--occurred-from")?,
                occurred_to: optional_instant(&ledger, occurred_to, "--occurred-to")?,
                supplier_discovered_at: optional_instant(
                    &ledger,
                    supplier_discovered_at,
                    "--supplier-discovered-at",
                )?,
                supplier_notified_at: optional_instant(
                    &ledger,
                    supplier_notified_at,
                    "--supplier-notified-at",
                )?,
                cyber: cyber.map(|answer| match answer.as_str() {
                    "yes" => Some(true),
                    "no" => Some(false),
                    _ => None,
                }),
                reason,
            };
            let changes = incident_facts::amend(&mut ledger, id, amendment)?;
            if json {
                let changes: Vec<serde_json::Value> = changes
                    .iter()
                    .map(|change| {
                        let (old, new) = change.words();
                        serde_json::json!({ "field": change.field(), "old": old, "new": new })
                    })
                    .collect();
                output::json(&serde_json::json!({ "incident": id, "changes": changes }))?;
            } else {
                for change in &changes {
                    let (old, new) = change.words();
                    crate::say!("{}: {old} → {new}", change.field());
                }
                print_clocks(&incidents::show(&mut ledger, id)?.clocks);
            }
        }
        IncidentCommand::People {
            id,
            file,
            count,
            categories,
            maps,
            json,
        } => {
            let affected = match (file, count) {
                (Some(file), None) => custody_app::breach::in_house::record_file(
                    &mut ledger,
                    id,
                    &file,
                    &crate::cli::pairs(&maps)?,
                )?,
                (None, Some(count)) => {
                    let keys = category_keys(categories.as_deref().unwrap_or_default())?;
                    custody_app::breach::in_house::record_count(&mut ledger, id, count, &keys)?
                }
                _ => anyhow::bail!("give a FILE of the people affected, or --count N with --categories"),
            };
            if json {
                output::json(&affected)?;
            } else {
                crate::say!(
                    "Recorded {} people affected (data: {}).",
                    affected.people,
                    affected.categories.join(", ")
                );
            }
        }
        IncidentCommand::Open {
            supplier,
            people,
            categories,
            aware_at,
            nature,
            summary,
            occurred_from,
            occurred_to,
            supplier_discovered_at,
            supplier_notified_at,
            cyber,
            json,
        } => {
            let input = OpenInput {
                supplier,
                aware_at: instant(&ledger, &aware_at, "--aware-at")?,
                nature: Nature::parse_list(&nature).context("--nature")?,
                summary,
                occurred_from: optional_instant(&ledger, occurred_from, "--occurred-from")?,
                occurred_to: optional_instant(&ledger, occurred_to, "--occurred-to")?,
                supplier_discovered_at: optional_instant(
                    &ledger,
                    supplier_discovered_at,
                    "--supplier-discovered-at",
                )?,
                supplier_notified_at: optional_instant(
                    &ledger,
                    supplier_notified_at,
                    "--supplier-notified-at",
                )?,
                cyber: cyber.and_then(|answer| match answer.as_str() {
                    "yes" => Some(true),
                    "no" => Some(false),
                    _ => None,
                }),
            };
            if input.supplier.is_some() && people.is_some() {
                anyhow::bail!(
                    "--people is for an incident at the organisation itself; a supplier's comes from the ledger"
                );
            }
            let id = incidents::open(&mut ledger, input)?;
            if let Some(count) = people {
                let keys = category_keys(categories.as_deref().unwrap_or_default())?;
                custody_app::breach::in_house::record_count(&mut ledger, id, count, &keys)?;
            }
            if json {
                output::json(&serde_json::json!({ "incident": id }))?;
            } else {
                crate::say!("Opened incident {id}.");
                print_clocks(&incidents::show(&mut ledger, id)?.clocks);
            }
        }
        IncidentCommand::List { json } => {
            let list = incidents::list(&ledger)?;
            if json {
                output::json(&list)?;
            } else {
                for incident in &list {
                    let people = incident
                        .people
                        .map_or_else(|| "?".to_owned(), |people| people.to_string());
                    crate::say!(
                        "#{} {} — {} (aware {}; {people} people)",
                        incident.incident,
                        incident.supplier,
                        incident.summary,
                        incident.aware_at
                    );
                    print_clocks(&incident.clocks);
                }
            }
        }
        IncidentCommand::Show { id, json } => {
            let view = incidents::show(&mut ledger, id)?;
            if json {
                output::json(&view)?;
            } else {
                crate::say!(
                    "Incident {} at {}: {}",
                    view.incident,
                    view.supplier,
                    view.summary
                );
                crate::say!("Aware: {} ({})", view.aware_at_local, view.aware_at);
                if let Some(flag) = &view.evidence_ahead {
                    crate::say!("FLAG: {flag}");
                }
                print_clocks(&view.clocks);
                print_obligations(&view.obligations);
                crate::say!("People affected (ledger): {}", view.impact.people);
                if let Some(confirmed) = &view.confirmed {
                    print_confirmed(confirmed);
                }
                if let Some(comparison) = &view.claims_vs_ledger {
                    let records = comparison
                        .supplier_records
                        .map_or_else(|| "not said".to_owned(), |n| n.to_string());
                    crate::say!(
                        "The supplier says (statements 1 to {}): {records} records; the ledger: {} people held.",
                        comparison.statement,
                        comparison.ledger_people
                    );
                    if !comparison.categories_only_in_ledger.is_empty() {
                        crate::say!(
                            "  Held per the ledger but not in the supplier's claims: {}",
                            comparison.categories_only_in_ledger.join(", ")
                        );
                    }
                    if !comparison.categories_only_claimed.is_empty() {
                        crate::say!(
                            "  Claimed by the supplier but never sent per the ledger: {}",
                            comparison.categories_only_claimed.join(", ")
                        );
                    }
                }
                if let Some(question) = &view.question {
                    crate::say!(
                        "Question to {} asked {}: answer due {}, {}.",
                        question.asked.supplier,
                        question.asked_at,
                        question.asked.due_at,
                        question.state
                    );
                }
                if let Some(assessment) = &view.assessment {
                    crate::say!(
                        "Risk: report to the regulator {}, tell people {}",
                        assessment.report_regulator,
                        assessment.tell_people
                    );
                }
                crate::say!("Timeline:");
                for entry in &view.timeline {
                    crate::say!("  {}  {}  {}", entry.at, entry.actor, entry.summary);
                }
            }
        }
        IncidentCommand::Record {
            id,
            act,
            at,
            reference,
            delay_reason,
            ground,
            reason,
            obligation,
        } => {
            if (act == "obligation-met") != obligation.is_some() {
                anyhow::bail!("--obligation J:ID goes with obligation-met, and obligation-met needs it");
            }
            if obligation.is_some() && (reason.is_some() || ground.is_some()) {
                anyhow::bail!("obligation-met takes --obligation, --at, --ref and --delay-reason only");
            }
            if let Some(key) = obligation {
                let at = at.ok_or_else(|| anyhow::anyhow!("--at: when it happened is needed for an act"))?;
                let at = instant(&ledger, &at, "--at")?;
                incidents::record_obligation_met(&mut ledger, id, &key, at, reference, delay_reason)?;
                crate::say!("Recorded.");
                print_obligations(&incidents::show(&mut ledger, id)?.obligations);
                return Ok(ExitCode::SUCCESS);
            }
            let act = match act.as_str() {
                "regulator-notified" => Act::RegulatorNotified,
                "regulator-updated" => Act::RegulatorUpdated,
                "regulator-not-required" => Act::RegulatorNotRequired,
                "people-not-required" => Act::PeopleNotRequired,
                _ => Act::PeopleNotified,
            };
            let decision = matches!(act, Act::RegulatorNotRequired | Act::PeopleNotRequired);
            if decision && (at.is_some() || reference.is_some() || delay_reason.is_some()) {
                anyhow::bail!(
                    "a decision not to notify takes --reason (and --ground), not --at, --ref or --delay-reason"
                );
            }
            if !decision && (ground.is_some() || reason.is_some()) {
                anyhow::bail!("--reason and --ground go with regulator-not-required and people-not-required");
            }
            if decision {
                let ground = ground.as_deref().map(incidents::Ground::parse).transpose()?;
                incidents::record_decision(
                    &mut ledger,
                    id,
                    act,
                    ground,
                    reason.as_deref().unwrap_or_default(),
                )?;
            } else {
                let at = at.ok_or_else(|| anyhow::anyhow!("--at: when it happened is needed for an act"))?;
                let at = instant(&ledger, &at, "--at")?;
                incidents::record_act(&mut ledger, id, act, at, reference, delay_reason)?;
            }
            crate::say!("Recorded.");
            print_clocks(&incidents::show(&mut ledger, id)?.clocks);
        }
        IncidentCommand::Timeline { id, add, json } => match add {
            Some(TimelineCommand::Add {
                kind,
                text,
                at,
                reason,
                with,
            }) => {
                let at = optional_instant(&ledger, at, "--at")?;
                let entry =
                    incidents::add_entry(&mut ledger, id, EntryKind::parse(&kind)?, &text, at, reason, with)?;
                if json {
                    output::json(&serde_json::json!({ "entry": entry }))?;
                } else {
                    crate::say!("Added entry {entry} to the timeline of incident {id}.");
                }
            }
            None => {
                let timeline = incidents::timeline_of(&ledger, id)?;
                if json {
                    output::json(&timeline)?;
                } else {
                    for entry in &timeline {
                        crate::say!("{}  {}  {}", entry.at, entry.actor, entry.summary);
                    }
                }
            }
        },
        IncidentCommand::Statement {
            id,
            received_at,
            text,
            claims_categories,
            claims_records,
            claims_exfiltration,
            json,
        } => {
            let input = StatementInput {
                received_at: instant(&ledger, &received_at, "--received-at")?,
                text,
                claims_categories: claims_categories
                    .map(|keys| {
                        keys.iter()
                            .map(|key| CategoryKey::parse(key))
                            .collect::<Result<Vec<_>, _>>()
                    })
                    .transpose()?,
                claims_records,
                claims_exfiltration: claims_exfiltration
                    .map(|text| Exfiltration::parse(&text))
                    .transpose()?,
            };
            let view = incidents::statement(&mut ledger, id, input)?;
            if json {
                output::json(&view)?;
            } else {
                crate::say!("Recorded statement {} from the supplier.", view.version);
                if view.correction {
                    crate::say!("It CORRECTS earlier claims: {}", view.changes.join("; "));
                }
            }
        }
        IncidentCommand::Assess {
            id,
            mitigations,
            remove_mitigations,
            key_taken,
            identification,
            malicious,
            override_regulator,
            override_people,
            reason,
            json,
        } => {
            let overrides = (yes(override_regulator), yes(override_people));
            let mitigations = impact::mitigations_after(&ledger, id, &mitigations, &remove_mitigations)?;
            let factors = impact::FactorsGiven {
                key_taken: key_taken.map(|text| answer(Some(text))),
                identification,
                malicious: malicious.map(|text| answer(Some(text))),
            };
            let assessment =
                impact::assess_and_record(&mut ledger, id, &mitigations, &factors, overrides, reason)?;
            if json {
                output::json(&assessment)?;
            } else {
                crate::say!(
                    "Report to the regulator: {}. Tell people: {}.",
                    if assessment.report_regulator { "yes" } else { "no" },
                    if assessment.tell_people {
                        "yes (high risk)"
                    } else {
                        "no"
                    }
                );
                for reason in &assessment.reasons {
                    crate::say!("  {reason}");
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `custody impact ID`.
pub fn impact_command(dir: Option<PathBuf>, id: IncidentId, json: bool) -> anyhow::Result<ExitCode> {
    let mut ledger = open(dir)?;
    let view = impact::refresh(&mut ledger, id)?;
    if json {
        output::json(&view)?;
        return Ok(ExitCode::SUCCESS);
    }
    let figures = &view.figures;
    crate::say!(
        "Incident {} at {}: {} people held between {} and {}.",
        view.incident,
        view.supplier,
        figures.people,
        view.window_from.local(&ledger.zone),
        view.window_to.local(&ledger.zone)
    );
    if !view.sub_processors.is_empty() {
        crate::say!("Including sub-processors: {}", view.sub_processors.join(", "));
    }
    let status = &figures.status;
    crate::say!(
        "Current {}, former {} (left within a year {}, 1–3 years {}, over 3 years {}, date unknown {})",
        status.current,
        status.former,
        status.left_within_1_year,
        status.left_1_to_3_years,
        status.left_over_3_years,
        status.left_unknown
    );
    crate::say!(
        "Held past the share's retention: {}; left long ago: {}; canaries: {}",
        figures.retention_expired,
        figures.left_long_ago,
        figures.canaries
    );
    let rows: Vec<Vec<String>> = figures
        .person_categories
        .iter()
        .map(|(key, count)| vec![key.clone(), count.to_string()])
        .collect();
    output::table(&["person category", "people"], &rows);
    let rows: Vec<Vec<String>> = figures
        .categories
        .iter()
        .map(|(key, count)| vec![key.clone(), count.to_string()])
        .collect();
    output::table(&["data category", "people"], &rows);
    for (key, count) in &figures.special_categories {
        crate::say!("Special category {key}: {count} people (revealed by membership)");
    }
    if let Some(confirmed) = &view.confirmed {
        print_confirmed(confirmed);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_confirmed(confirmed: &custody_app::leaks::leak_evidence::Confirmed) {
    crate::say!(
        "Confirmed exposed (leak evidence, {} file(s)): {} people, {} held by the supplier, {} not held by it",
        confirmed.files,
        confirmed.people,
        confirmed.held_by_supplier,
        confirmed.not_held_by_supplier
    );
    if !confirmed.categories.is_empty() {
        crate::say!(
            "Data categories in the leaked files: {}",
            confirmed.categories.join(", ")
        );
    }
}
