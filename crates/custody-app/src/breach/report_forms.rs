//! The report to a regulator in that regulator's structure (`custody report --regulator NAME`):
//! the UK regulator's questions for the ICO (the report of `report`), the sections of the EDPB's
//! common template for EU/EEA authorities (draft v1.0, adopted June 2026: type of notification;
//! controller, reporting person and DPO; nature; dates and duration; people and data affected;
//! measures in place at the time; likely consequences; measures to mitigate and prevent;
//! communication to the people), and for any other regulator the same sections followed by what
//! its law says the report must contain. Every item is answered from the report's model (recorded
//! facts, the ledger, the assessment) or said to be not known.

use serde::Serialize;

use custody_core::IncidentId;

use crate::breach::report::{Phase, ReportModel, thousands};
pub use crate::breach::report_addressee::Addressee;
use crate::error::{Error, Result};

/// One question of a form, with its answer when the record gives one.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    /// The question.
    pub question: String,
    /// The answer; none is "not known".
    pub answer: Option<String>,
}

/// A section of a form.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    /// Its number in the form.
    pub number: usize,
    /// Its title.
    pub title: String,
    /// Its questions.
    pub items: Vec<Item>,
}

/// A report in a regulator's structure.
#[derive(Debug, Clone, Serialize)]
pub struct FormReport {
    /// The form (`edpb`, `oaic`, …).
    pub form: String,
    /// The form in words.
    pub form_name: String,
    /// The regulator.
    pub to: Addressee,
    /// Initial or follow-up.
    pub phase: Phase,
    /// Organisation.
    pub organisation: String,
    /// When prepared (local).
    pub prepared_at: String,
    /// custody's incident id.
    pub incident: IncidentId,
    /// The sections, in the form's order.
    pub sections: Vec<Section>,
    /// How many items are not known.
    pub not_known: usize,
}

fn item(question: &str, answer: Option<String>) -> Item {
    Item {
        question: question.to_owned(),
        answer: answer.filter(|text| !text.trim().is_empty()),
    }
}

fn section(title: &str, items: Vec<Item>) -> Section {
    Section {
        number: 0,
        title: title.to_owned(),
        items,
    }
}

/// `a: 3; b: 4` from pairs, none when empty.
fn counts<'a>(
    pairs: impl Iterator<Item = (&'a String, &'a u64)>,
    label: impl Fn(&str) -> String,
) -> Option<String> {
    let parts: Vec<String> = pairs
        .map(|(key, count)| format!("{}: {}", label(key), thousands(*count)))
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn plain(key: &str) -> String {
    custody_core::CategoryKey::parse(key).map_or_else(
        |_| key.to_owned(),
        |key| key.plain_label().trim_start_matches("your ").to_owned(),
    )
}

/// The report of `model` in `to`'s structure; `eu` lists the EU/EEA jurisdiction codes and
/// `lead` names the lead authority when the organisation has a main establishment in the EU/EEA.
pub fn form_report(model: &ReportModel, to: Addressee, eu: &[String], lead: Option<String>) -> FormReport {
    let mut sections = vec![
        notification_type(model, eu, lead),
        controller(model),
        nature(model),
        dates(model),
        people_and_data(model),
        measures_at_the_time(model),
        consequences(model),
        mitigation(model),
        communication(model),
    ];
    let form_name = if to.form == "edpb" {
        "the EDPB common template for personal data breach notifications (draft v1.0, June 2026), by section"
            .to_owned()
    } else {
        let required: Vec<Item> = to
            .contents
            .iter()
            .map(|line| item(line, Some("see the sections above".to_owned())))
            .collect();
        if !required.is_empty() {
            let title = format!(
                "What {} asks the report to contain",
                to.citation.as_deref().unwrap_or("the law")
            );
            sections.push(section(&title, required));
        }
        format!(
            "custody's breach report in the EDPB template's sections, with what {} asks (the {} form)",
            to.citation.as_deref().unwrap_or("the law"),
            to.form
        )
    };
    for (index, section) in sections.iter_mut().enumerate() {
        section.number = index + 1;
    }
    let not_known = sections
        .iter()
        .flat_map(|section| &section.items)
        .filter(|item| item.answer.is_none())
        .count();
    FormReport {
        form: to.form.clone(),
        form_name,
        to,
        phase: model.phase,
        organisation: model.organisation.clone(),
        prepared_at: model.prepared_at.clone(),
        incident: model.incident,
        sections,
        not_known,
    }
}

fn notification_type(model: &ReportModel, eu: &[String], lead: Option<String>) -> Section {
    let phase = match (model.phase, &model.since_initial) {
        (Phase::FollowUp, Some(since)) => format!("a follow-up to the notification of {}", since.initial_at),
        (Phase::FollowUp, None) => "a follow-up".to_owned(),
        (Phase::Initial, _) => {
            "an initial notification; more will follow in phases as it is learned (Art. 33(4))".to_owned()
        }
    };
    let eu_places: Vec<(&String, &u64)> = model
        .impact
        .jurisdictions
        .iter()
        .filter(|(code, _)| eu.contains(code))
        .collect();
    let cross_border = match eu_places.len() {
        0 => "no person living in the EU/EEA is recorded as affected".to_owned(),
        1 => "no: the people affected in the EU/EEA live in one state".to_owned(),
        _ => format!(
            "yes: people affected live in {}",
            counts(eu_places.into_iter(), str::to_owned).unwrap_or_default()
        ),
    };
    let lead = lead.map_or_else(
        || {
            "none: the controller has no main establishment in the EU/EEA (GDPR Art. 56 does not apply)"
                .to_owned()
        },
        |lead| format!("{lead} (the main establishment's authority, GDPR Art. 56(1))"),
    );
    let delay = if model.late {
        Some(format!(
            "yes (due {}); reasons for the delay: {}",
            model.regulator_due,
            model.delay_reason.as_deref().unwrap_or("not recorded")
        ))
    } else {
        Some(format!("no; due {}", model.regulator_due))
    };
    section(
        "Type of notification",
        vec![
            item(
                "Is this a complete, an initial (in phases) or a follow-up notification?",
                Some(phase),
            ),
            item(
                "Your reference for an earlier notification",
                model.regulator_reference.clone(),
            ),
            item("Is the breach cross-border?", Some(cross_border)),
            item("Lead supervisory authority", Some(lead)),
            item(
                "Other authorities or bodies notified",
                model.answers.other_regulators.clone(),
            ),
            item("Is it made after the period the law gives?", delay),
        ],
    )
}

fn controller(model: &ReportModel) -> Section {
    let dpo = format!(
        "{}, {}{}",
        model.dpo_name,
        model.dpo_email,
        model
            .dpo_phone
            .as_deref()
            .map(|phone| format!(", {phone}"))
            .unwrap_or_default()
    );
    let processor = if model.in_house {
        "none: it happened at the controller itself".to_owned()
    } else {
        let mut words = model.supplier.clone();
        if let Some(contract) = &model.supplier_contract {
            words.push_str(&format!(" (contract: {contract})"));
        }
        if !model.sub_processors.is_empty() {
            words.push_str(&format!(
                "; its sub-processors: {}",
                model.sub_processors.join(", ")
            ));
        }
        words
    };
    section(
        "Controller, reporting person and data protection officer",
        vec![
            item("Controller", Some(model.organisation.clone())),
            item(
                "Registration number with the authority",
                model.registration_number.clone(),
            ),
            item(
                "Data protection officer or contact point (Art. 33(3)(b))",
                Some(dpo),
            ),
            item("Person making this notification", None),
            item("Processor involved", Some(processor)),
        ],
    )
}

fn nature(model: &ReportModel) -> Section {
    let statements = model.statements.last().map(|latest| {
        format!(
            "{} statement(s); the latest (version {}, received {}): \"{}\"",
            model.statements.len(),
            latest.version,
            latest.received_at,
            latest.text
        )
    });
    section(
        "Nature of the breach",
        vec![
            item("What happened", Some(model.summary.clone())),
            item("Type of breach", Some(model.nature.join(", "))),
            item("Was it a cyber incident?", Some(model.cyber.to_owned())),
            item("What the processor has said", statements),
        ],
    )
}

fn dates(model: &ReportModel) -> Section {
    section(
        "Dates and duration",
        vec![
            item("When the breach started", model.occurred_from.clone()),
            item("When it ended", model.occurred_to.clone()),
            item(
                "When the processor discovered it",
                model.supplier_discovered_at.clone(),
            ),
            item(
                "When the processor told the controller",
                model.supplier_notified_at.clone(),
            ),
            item("When the controller became aware", Some(model.aware_at.clone())),
        ],
    )
}

fn people_and_data(model: &ReportModel) -> Section {
    let impact = &model.impact;
    let categories: Vec<String> = model
        .data_categories
        .iter()
        .map(|(_, label, count)| format!("{label}: {}", thousands(*count)))
        .collect();
    let records = model
        .supplier_claims
        .as_ref()
        .and_then(|claims| claims.supplier_records)
        .map(|records| format!("{} (the processor's statements)", thousands(records)));
    section(
        "People and data affected",
        vec![
            item(
                "Approximate number of people",
                Some(format!("{} ({})", thousands(impact.people), model.figures_window)),
            ),
            item(
                "Categories of people",
                counts(impact.person_categories.iter(), str::to_owned),
            ),
            item("Approximate number of records", records),
            item(
                "Categories of personal data",
                (!categories.is_empty()).then(|| categories.join("; ")),
            ),
            item(
                "Special categories of data (Art. 9)",
                Some(
                    counts(impact.special_categories.iter(), plain).unwrap_or_else(|| "none held".to_owned()),
                ),
            ),
            item(
                "Where the people live",
                counts(impact.jurisdictions.iter(), str::to_owned),
            ),
        ],
    )
}

fn measures_at_the_time(model: &ReportModel) -> Section {
    let encrypted = model
        .assessment
        .as_ref()
        .filter(|assessment| assessment.mitigations.iter().any(|m| m == "encrypted"))
        .map(|_| "yes: the data was encrypted".to_owned());
    section(
        "Measures in place at the time of the breach",
        vec![
            item(
                "Technical and organisational measures",
                model.answers.measures_before.clone(),
            ),
            item("Was the data encrypted or otherwise unintelligible?", encrypted),
            item("Staff training, where relevant", model.answers.training.clone()),
        ],
    )
}

fn consequences(model: &ReportModel) -> Section {
    let assessment = model.assessment.as_ref().map(|assessment| {
        let level = if assessment.tell_people {
            "likely to result in a high risk"
        } else if assessment.report_regulator {
            "likely to result in a risk"
        } else {
            "unlikely to result in a risk"
        };
        let mut words = format!("{level} (score {})", assessment.score);
        if !assessment.reasons.is_empty() {
            words.push_str(&format!(": {}", assessment.reasons.join("; ")));
        }
        words
    });
    section(
        "Likely consequences",
        vec![
            item(
                "Likely consequences for the people (Art. 33(3)(c))",
                (!model.consequences.is_empty()).then(|| model.consequences.join(" ")),
            ),
            item("Severity, as assessed", assessment),
            item(
                "Impact on the controller",
                model.answers.organisation_impact.clone(),
            ),
        ],
    )
}

fn mitigation(model: &ReportModel) -> Section {
    let mut taken: Vec<String> = model.mitigations.clone();
    taken.extend(
        model
            .decisions
            .iter()
            .map(|quoted| format!("{}: decision — {}", quoted.at, quoted.text)),
    );
    taken.extend(
        model
            .measures
            .iter()
            .map(|quoted| format!("{}: {}", quoted.at, quoted.text)),
    );
    let contacts: Vec<String> = model
        .contacts
        .iter()
        .map(|quoted| format!("{}: {}", quoted.at, quoted.text))
        .collect();
    section(
        "Measures to mitigate and to prevent",
        vec![
            item(
                "Measures taken or proposed to address the breach (Art. 33(3)(d))",
                (!taken.is_empty()).then(|| taken.join("; ")),
            ),
            item("Recovery of the data", model.answers.recovery.clone()),
            item(
                "Police, cyber-security agency and others contacted",
                (!contacts.is_empty()).then(|| contacts.join("; ")),
            ),
        ],
    )
}

fn communication(model: &ReportModel) -> Section {
    let told = if let Some(at) = &model.people_notified_at {
        Some(format!("yes, on {at}"))
    } else if let Some(decision) = &model.people_decision {
        Some(format!("no: {decision}"))
    } else {
        model.assessment.as_ref().map(|assessment| {
            if assessment.tell_people {
                "not yet; the assessment says they must be told (Art. 34)".to_owned()
            } else {
                "no: the assessment does not find a high risk (Art. 34(1))".to_owned()
            }
        })
    };
    let content = model.people_notified_at.as_ref().map(|_| {
        "each person was told which of their own data the processor held, what it could mean for them, \
         what has been done, what they can do and whom to contact, in the form the law of where they live \
         prescribes"
            .to_owned()
    });
    let channel = model
        .people_notified_at
        .as_ref()
        .map(|_| "email to each person, and a letter where no email address is held".to_owned());
    section(
        "Communication to the people affected",
        vec![
            item("Have the people been told?", told),
            item("What they were told", content),
            item("How they were told", channel),
        ],
    )
}

/// Renders a form report: JSON is the model; Markdown and HTML from templates.
pub fn render(report: &FormReport, format: crate::breach::report::Format) -> Result<String> {
    use crate::breach::report::Format;
    match format {
        Format::Json => {
            serde_json::to_string_pretty(report).map_err(|error| Error::Invalid(error.to_string()))
        }
        Format::Markdown => crate::breach::report::render_template("report_form.md", MARKDOWN, report),
        Format::Html => crate::breach::report::render_template("report_form.html", HTML, report),
    }
}

const MARKDOWN: &str = include_str!("../../templates/report_form.md");
const HTML: &str = include_str!("../../templates/report_form.html");

/// A report to one body, ready to render in each format.
pub enum Prepared {
    /// The UK regulator's form (the report of `report`).
    Ico(Box<ReportModel>),
    /// The sections of a form.
    Form(Box<FormReport>),
}

impl Prepared {
    /// Renders it.
    pub fn render(&self, format: crate::breach::report::Format) -> Result<String> {
        match self {
            Prepared::Ico(model) => crate::breach::report::render(model, format),
            Prepared::Form(report) => render(report, format),
        }
    }
}

/// A filing: when the body was told, and the reasons for any delay.
#[derive(Debug, Clone)]
pub struct Filing {
    /// When it was told.
    pub at: custody_core::Instant,
    /// Why after its deadline, if it was.
    pub delay_reason: Option<String>,
}

/// The report of incident `id` for the body `name`, in its structure, as it stands now.
pub fn text_for(
    ledger: &crate::dir::Ledger,
    id: IncidentId,
    phase: Phase,
    format: crate::breach::report::Format,
    name: &str,
) -> Result<String> {
    let rules = crate::breach::jurisdictions::for_ledger(ledger)?;
    let to =
        crate::breach::report_addressee::addressee(&rules, name, &ledger.settings.establishment.variants)?;
    prepare(ledger, id, phase, to, None)?.render(format)
}

/// The report to `to` as it stands, or, with `filing`, as filed then: its own duty's deadline
/// decides whether it is late.
pub(crate) fn prepare(
    ledger: &crate::dir::Ledger,
    id: IncidentId,
    phase: Phase,
    to: Addressee,
    filing: Option<Filing>,
) -> Result<Prepared> {
    let rules = crate::breach::jurisdictions::for_ledger(ledger)?;
    let settings = &ledger.settings;
    let mut model = crate::breach::report::model(ledger, id, phase)?;
    let home = to.jurisdiction == settings.phone_region;
    if !home || filing.is_some() {
        let (due, late, reason) = due_and_delay(ledger, id, &to, filing.as_ref())?;
        model.regulator_due = due;
        model.late = late;
        model.delay_reason = reason;
    }
    if to.jurisdiction != settings.phone_region {
        model.regulator = format!("{} ({})", to.name, to.short);
        // Another body's reference is not this one's.
        model.regulator_reference = None;
    }
    if to.form == "ico" {
        return Ok(Prepared::Ico(Box::new(model)));
    }
    let eu: Vec<String> = rules
        .jurisdictions
        .iter()
        .filter(|jurisdiction| jurisdiction.eu)
        .map(|jurisdiction| jurisdiction.code.clone())
        .collect();
    let lead = settings.establishment.eu_main.as_deref().and_then(|code| {
        let regulator = rules.get(code)?.regulators.first()?;
        Some(format!("{} ({}, {code})", regulator.name, regulator.short))
    });
    Ok(Prepared::Form(Box::new(form_report(&model, to, &eu, lead))))
}

/// The duty's due time in words, whether the report is (or was, when filed) late, and the
/// reasons for the delay given with the filing or recorded with the act that met the duty.
fn due_and_delay(
    ledger: &crate::dir::Ledger,
    id: IncidentId,
    to: &Addressee,
    filing: Option<&Filing>,
) -> Result<(String, bool, Option<String>)> {
    use crate::breach::obligations::ObligationState;
    let Some(obligation) = &to.obligation else {
        return Ok((
            format!("{}'s rules give no duty to tell {}", to.jurisdiction, to.short),
            false,
            None,
        ));
    };
    let key = format!("{}:{obligation}", to.jurisdiction);
    let view = crate::breach::incidents::view(ledger, id)?;
    let Some(clock) = view
        .obligations
        .clocks
        .into_iter()
        .find(|clock| clock.jurisdiction == to.jurisdiction && &clock.obligation == obligation)
    else {
        return Ok((
            format!(
                "not owed for this incident: none of its affected people live in {}",
                to.jurisdiction
            ),
            false,
            None,
        ));
    };
    let due = match (&clock.due_local, clock.state) {
        (Some(due), _) => due.clone(),
        (None, ObligationState::Waiting | ObligationState::NotReached | ObligationState::ThroughLead) => {
            clock.in_words.clone()
        }
        (None, _) => "without undue delay (the law gives no fixed period)".to_owned(),
    };
    let recorded = crate::breach::incident_events::log(ledger, id)?
        .into_iter()
        .find_map(|recorded| match recorded.body {
            crate::breach::incident_events::IncidentEventBody::Act(done)
                if done.obligation.as_deref() == Some(key.as_str()) =>
            {
                Some(done.delay_reason)
            }
            _ => None,
        })
        .flatten();
    Ok(match filing {
        Some(filing) => (
            due,
            clock.due.is_some_and(|due| filing.at > due),
            filing.delay_reason.clone(),
        ),
        // Overdue, or done late.
        None => (due, clock.state == ObligationState::Missed, recorded),
    })
}

/// [`text_for`], audited with the body and the digest of the text.
pub fn generate(
    ledger: &mut crate::dir::Ledger,
    id: IncidentId,
    phase: Phase,
    format: crate::breach::report::Format,
    name: &str,
) -> Result<String> {
    use sha2::Digest;
    let text = text_for(ledger, id, phase, format, name)?;
    let digest = custody_vault::hex(&sha2::Sha256::digest(text.as_bytes()));
    ledger.audit_only(
        "report.generate",
        &format!("incident:{id}"),
        serde_json::json!({ "phase": phase, "regulator": name, "sha256": digest }),
    )?;
    Ok(text)
}
