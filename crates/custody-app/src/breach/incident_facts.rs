//! An incident's facts as they are learned: opened with what was known, then amended, each
//! amendment an append-only event with its actor, instant and reason. The facts as they stand
//! are the opening facts with every amendment applied in order; everything derived (clocks,
//! impact window, risk, report, notice) reads those, through `incidents::find_incident`.

use custody_core::IncidentId;
use serde::{Deserialize, Serialize};

use custody_core::{Instant, Nature};
use custody_store::{IncidentRecord, NewIncident};

use crate::breach::incident_events::{IncidentEventBody, Recorded};
use crate::dir::Ledger;
use crate::error::{Error, Result};

/// One fact changed, with its value before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "field", rename_all = "snake_case", deny_unknown_fields)]
pub enum FactChange {
    /// What happened.
    Summary {
        /// Before.
        from: String,
        /// After.
        to: String,
    },
    /// Confidentiality, integrity, availability.
    Nature {
        /// Before.
        from: Vec<Nature>,
        /// After.
        to: Vec<Nature>,
    },
    /// When the organisation became aware (the regulator's clock starts here).
    AwareAt {
        /// Before.
        from: Instant,
        /// After.
        to: Instant,
    },
    /// Start of the window of compromise.
    OccurredFrom {
        /// Before.
        from: Option<Instant>,
        /// After.
        to: Option<Instant>,
    },
    /// End of the window of compromise.
    OccurredTo {
        /// Before.
        from: Option<Instant>,
        /// After.
        to: Option<Instant>,
    },
    /// When the supplier discovered it.
    SupplierDiscoveredAt {
        /// Before.
        from: Option<Instant>,
        /// After.
        to: Option<Instant>,
    },
    /// When the supplier told the organisation.
    SupplierNotifiedAt {
        /// Before.
        from: Option<Instant>,
        /// After.
        to: Option<Instant>,
    },
    /// Whether it was a cyber incident (`None`: not known).
    Cyber {
        /// Before.
        from: Option<bool>,
        /// After.
        to: Option<bool>,
    },
}

/// An amendment as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Amended {
    /// What changed.
    pub changes: Vec<FactChange>,
    /// Why.
    pub reason: String,
}

/// What a user asks to change; `None` leaves a fact as it is.
#[derive(Debug, Clone, Default)]
pub struct Amendment {
    /// What happened.
    pub summary: Option<String>,
    /// Confidentiality, integrity, availability.
    pub nature: Option<Vec<Nature>>,
    /// When the organisation became aware.
    pub aware_at: Option<Instant>,
    /// Start of the window of compromise.
    pub occurred_from: Option<Instant>,
    /// End of the window of compromise.
    pub occurred_to: Option<Instant>,
    /// When the supplier discovered it.
    pub supplier_discovered_at: Option<Instant>,
    /// When the supplier told the organisation.
    pub supplier_notified_at: Option<Instant>,
    /// Whether it was a cyber incident: `Some(None)` for "not known".
    pub cyber: Option<Option<bool>>,
    /// Why (required).
    pub reason: String,
}

impl FactChange {
    /// The field's name, as in `incident show --json`.
    pub fn field(&self) -> &'static str {
        match self {
            FactChange::Summary { .. } => "summary",
            FactChange::Nature { .. } => "nature",
            FactChange::AwareAt { .. } => "aware_at",
            FactChange::OccurredFrom { .. } => "occurred_from",
            FactChange::OccurredTo { .. } => "occurred_to",
            FactChange::SupplierDiscoveredAt { .. } => "supplier_discovered_at",
            FactChange::SupplierNotifiedAt { .. } => "supplier_notified_at",
            FactChange::Cyber { .. } => "cyber",
        }
    }

    /// The value before and after, in words.
    pub fn words(&self) -> (String, String) {
        let instant =
            |value: &Option<Instant>| value.map_or_else(|| "not known".to_owned(), Instant::to_rfc3339);
        let natures = |value: &[Nature]| {
            value
                .iter()
                .map(|nature| nature.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let cyber = |value: &Option<bool>| match value {
            Some(true) => "yes".to_owned(),
            Some(false) => "no".to_owned(),
            None => "not known".to_owned(),
        };
        match self {
            FactChange::Summary { from, to } => (from.clone(), to.clone()),
            FactChange::Nature { from, to } => (natures(from), natures(to)),
            FactChange::AwareAt { from, to } => (from.to_rfc3339(), to.to_rfc3339()),
            FactChange::OccurredFrom { from, to }
            | FactChange::OccurredTo { from, to }
            | FactChange::SupplierDiscoveredAt { from, to }
            | FactChange::SupplierNotifiedAt { from, to } => (instant(from), instant(to)),
            FactChange::Cyber { from, to } => (cyber(from), cyber(to)),
        }
    }

    /// Applies the change to `facts`.
    pub fn apply(&self, facts: &mut NewIncident) {
        match self.clone() {
            FactChange::Summary { to, .. } => facts.summary = to,
            FactChange::Nature { to, .. } => facts.nature = to,
            FactChange::AwareAt { to, .. } => facts.aware_at = to,
            FactChange::OccurredFrom { to, .. } => facts.occurred_from = to,
            FactChange::OccurredTo { to, .. } => facts.occurred_to = to,
            FactChange::SupplierDiscoveredAt { to, .. } => facts.supplier_discovered_at = to,
            FactChange::SupplierNotifiedAt { to, .. } => facts.supplier_notified_at = to,
            FactChange::Cyber { to, .. } => facts.cyber = to,
        }
    }
}

/// `record`'s facts with every amendment in `events` applied, in order.
pub fn as_they_stand(mut record: IncidentRecord, events: &[Recorded]) -> IncidentRecord {
    for recorded in events {
        if let IncidentEventBody::Amend(amended) = &recorded.body {
            for change in &amended.changes {
                change.apply(&mut record.facts);
            }
        }
    }
    record
}

/// The changes an amendment makes to `facts` (only the fields that differ).
fn changes(facts: &NewIncident, amendment: &Amendment) -> Vec<FactChange> {
    let mut changes = Vec::new();
    if let Some(to) = amendment.summary.as_ref().map(|text| text.trim().to_owned())
        && to != facts.summary
    {
        changes.push(FactChange::Summary {
            from: facts.summary.clone(),
            to,
        });
    }
    let sorted = |natures: &[Nature]| {
        let mut natures = natures.to_vec();
        natures.sort_unstable();
        natures.dedup();
        natures
    };
    if let Some(to) = amendment.nature.clone()
        && sorted(&to) != sorted(&facts.nature)
    {
        changes.push(FactChange::Nature {
            from: facts.nature.clone(),
            to,
        });
    }
    if let Some(to) = amendment.aware_at
        && to != facts.aware_at
    {
        changes.push(FactChange::AwareAt {
            from: facts.aware_at,
            to,
        });
    }
    let instants = [
        (amendment.occurred_from, facts.occurred_from, 0),
        (amendment.occurred_to, facts.occurred_to, 1),
        (amendment.supplier_discovered_at, facts.supplier_discovered_at, 2),
        (amendment.supplier_notified_at, facts.supplier_notified_at, 3),
    ];
    for (asked, from, which) in instants {
        if let Some(to) = asked
            && Some(to) != from
        {
            let to = Some(to);
            changes.push(match which {
                0 => FactChange::OccurredFrom { from, to },
                1 => FactChange::OccurredTo { from, to },
                2 => FactChange::SupplierDiscoveredAt { from, to },
                _ => FactChange::SupplierNotifiedAt { from, to },
            });
        }
    }
    if let Some(to) = amendment.cyber
        && to != facts.cyber
    {
        changes.push(FactChange::Cyber {
            from: facts.cyber,
            to,
        });
    }
    changes
}

/// Checks facts as they would stand after an amendment; `report` is the report to the regulator
/// already recorded, with whether it gave reasons for a delay.
fn check(
    facts: &NewIncident,
    now: Instant,
    earliest_act: Option<Instant>,
    report: Option<(Instant, bool)>,
) -> Result<()> {
    if let Some((reported, with_reasons)) = report
        && reported > facts.aware_at.plus_hours(custody_core::REGULATOR_HOURS)
        && !with_reasons
    {
        return Err(Error::Invalid(format!(
            "with awareness at {}, the report to the regulator recorded at {reported} would be after the 72 hours \
             without the reasons for the delay Art. 33(1) requires; if awareness really was then, record those \
             reasons on the timeline and amend with a reason that says so",
            facts.aware_at
        )));
    }
    if facts.summary.trim().is_empty() {
        return Err(Error::Invalid(
            "the summary (--summary) must say what happened".to_owned(),
        ));
    }
    crate::limits::long_text("summary", &facts.summary)?;
    if facts.nature.is_empty() {
        return Err(Error::Invalid(
            "the nature (--nature) names at least one of confidentiality, integrity, availability".to_owned(),
        ));
    }
    if facts.aware_at > now {
        return Err(Error::Invalid(format!(
            "the organisation cannot become aware in the future (--aware-at {})",
            facts.aware_at
        )));
    }
    if let Some(act) = earliest_act
        && act < facts.aware_at
    {
        return Err(Error::Invalid(format!(
            "an act was recorded at {act}, before the awareness this would set ({}); awareness comes first",
            facts.aware_at
        )));
    }
    if let (Some(from), Some(to)) = (facts.occurred_from, facts.occurred_to)
        && to < from
    {
        return Err(Error::Invalid(format!(
            "the window would end ({to}) before it starts ({from}); give --occurred-from and --occurred-to in order"
        )));
    }
    if let (Some(discovered), Some(notified)) = (facts.supplier_discovered_at, facts.supplier_notified_at)
        && notified < discovered
    {
        return Err(Error::Invalid(format!(
            "the supplier would have told us ({notified}) before it discovered the breach ({discovered})"
        )));
    }
    Ok(())
}

/// Amends an incident's facts: an append-only event with the actor, the instant, what changed
/// (old and new) and the reason, shown on the timeline. Nothing is written when the amendment
/// changes nothing, has no reason, or would leave the facts inconsistent.
pub fn amend(ledger: &mut Ledger, id: IncidentId, amendment: Amendment) -> Result<Vec<FactChange>> {
    let reason = amendment.reason.trim().to_owned();
    if reason.is_empty() {
        return Err(Error::Invalid(
            "an amendment carries its reason (--reason): what was learned, and from whom".to_owned(),
        ));
    }
    crate::limits::long_text("reason", &reason)?;
    let incident = crate::breach::incidents::find_incident(ledger, id)?;
    let changes = changes(&incident.facts, &amendment);
    if changes.is_empty() {
        return Err(Error::Invalid(format!(
            "the amendment changes nothing: incident {id}'s facts are already as given"
        )));
    }
    let mut after = incident.facts.clone();
    for change in &changes {
        change.apply(&mut after);
    }
    let events = crate::breach::incident_events::log(ledger, id)?;
    let earliest_act = events
        .iter()
        .filter(|recorded| matches!(recorded.body, IncidentEventBody::Act(_)))
        .map(|recorded| recorded.event.at)
        .min();
    let report = events.iter().find_map(|recorded| match &recorded.body {
        IncidentEventBody::Act(done) if done.act == crate::breach::incidents::Act::RegulatorNotified => {
            Some((recorded.event.at, done.delay_reason.is_some()))
        }
        _ => None,
    });
    check(&after, ledger.now(), earliest_act, report)?;
    // The rules are read before anything is written, so a re-assessment cannot fail half way.
    let previous = crate::breach::impact::latest_assessment(&events);
    if previous.is_some() {
        crate::breach::impact::rules(ledger)?;
    }
    let now = ledger.now();
    let amended = Amended {
        changes: changes.clone(),
        reason,
    };
    crate::breach::incidents::append(ledger, id, now, &IncidentEventBody::Amend(amended))?;
    crate::breach::impact::refresh(ledger, id)?;
    // A risk already assessed is assessed again from the facts as they now stand, with the
    // mitigations it had; an override was a judgment of the old facts and is not carried over.
    if let Some(previous) = previous {
        crate::breach::impact::assess_and_record(
            ledger,
            id,
            &previous.mitigations,
            &crate::breach::impact::FactorsGiven::default(),
            (None, None),
            None,
        )?;
    }
    Ok(changes)
}

/// One change to the facts, for output.
#[derive(Debug, Clone, Serialize)]
pub struct FactHistory {
    /// The field.
    pub field: &'static str,
    /// Before, in words.
    pub old: String,
    /// After, in words.
    pub new: String,
    /// Who amended it.
    pub actor: String,
    /// When.
    pub at: Instant,
    /// Why.
    pub reason: String,
}

/// Every change to an incident's facts, oldest first.
pub fn history(events: &[Recorded]) -> Vec<FactHistory> {
    events
        .iter()
        .filter_map(|recorded| match &recorded.body {
            IncidentEventBody::Amend(amended) => Some((recorded, amended)),
            _ => None,
        })
        .flat_map(|(recorded, amended)| {
            amended.changes.iter().map(move |change| {
                let (old, new) = change.words();
                FactHistory {
                    field: change.field(),
                    old,
                    new,
                    actor: recorded.event.actor.clone(),
                    at: recorded.event.at,
                    reason: amended.reason.clone(),
                }
            })
        })
        .collect()
}

/// An amendment on the timeline, in words; a moved awareness says where the regulator's
/// deadline moves.
pub fn summarise(amended: &Amended) -> String {
    let parts: Vec<String> = amended
        .changes
        .iter()
        .map(|change| {
            let (old, new) = change.words();
            let mut part = format!("{}: {old} → {new}", change.field().replace('_', " "));
            if let FactChange::AwareAt { from, to } = change {
                part = format!(
                    "{part} (the regulator's 72 hours now end {} instead of {})",
                    to.plus_hours(custody_core::REGULATOR_HOURS).to_rfc3339(),
                    from.plus_hours(custody_core::REGULATOR_HOURS).to_rfc3339()
                );
            }
            part
        })
        .collect();
    format!(
        "facts amended: {} — because: {}",
        parts.join("; "),
        amended.reason
    )
}

/// Why the evidence is ahead of the facts, when it is: the supplier says data was taken, or a
/// leaked file names people, while the facts still say confidentiality is not affected, and
/// nobody has dismissed that since with a reason.
pub fn evidence_ahead(facts: &NewIncident, events: &[Recorded]) -> Option<String> {
    if facts.nature.contains(&Nature::Confidentiality) {
        return None;
    }
    let mut signs: Vec<String> = Vec::new();
    let mut latest_sign = None;
    for recorded in events {
        let sign = match &recorded.body {
            IncidentEventBody::Statement(statement)
                if statement.claims.exfiltration == Some(crate::breach::incidents::Exfiltration::Yes) =>
            {
                Some(format!(
                    "the supplier says data was taken (statement {})",
                    statement.version
                ))
            }
            IncidentEventBody::Evidence(evidence)
                if evidence.matched > 0 || !evidence.canaries.is_empty() =>
            {
                Some(format!(
                    "a leaked file ({}) names {} of our people",
                    evidence.file, evidence.matched
                ))
            }
            _ => None,
        };
        if let Some(sign) = sign {
            signs.push(sign);
            latest_sign = Some(recorded.event.id);
        }
    }
    let latest_sign = latest_sign?;
    let dismissed_since = events.iter().any(|recorded| {
        matches!(recorded.body, IncidentEventBody::Dismiss(_)) && recorded.event.id > latest_sign
    });
    (!dismissed_since).then(|| {
        format!(
            "the evidence is ahead of the facts: {}, but the facts say confidentiality is not affected; \
             amend them (custody incident amend ID --nature …) or dismiss this with a reason",
            signs.join("; ")
        )
    })
}

/// A flag dismissed, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dismissed {
    /// Which flag: `evidence_ahead`.
    pub flag: String,
    /// Why the facts stand as they are.
    pub reason: String,
}

/// Dismisses the "evidence ahead of the facts" flag with a reason (until new evidence comes).
pub fn dismiss_evidence_flag(ledger: &mut Ledger, id: IncidentId, reason: &str) -> Result<()> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Error::Invalid(
            "a dismissal carries its reason (--reason): why the facts stand as they are".to_owned(),
        ));
    }
    crate::limits::long_text("reason", reason)?;
    let incident = crate::breach::incidents::find_incident(ledger, id)?;
    let events = crate::breach::incident_events::log(ledger, id)?;
    if evidence_ahead(&incident.facts, &events).is_none() {
        return Err(Error::Invalid(format!(
            "incident {id} has no flag to dismiss: the evidence is not ahead of its facts"
        )));
    }
    let now = ledger.now();
    let dismissed = Dismissed {
        flag: "evidence_ahead".to_owned(),
        reason: reason.to_owned(),
    };
    crate::breach::incidents::append(ledger, id, now, &IncidentEventBody::Dismiss(dismissed))?;
    Ok(())
}

/// What the regulator's form asks that the ledger cannot know, as the user answered it. Each
/// answer stands until answered again; the report says "not recorded" for one never given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportAnswers {
    /// Security measures in place before the breach.
    #[serde(default)]
    pub measures_before: Option<String>,
    /// Staff training, where relevant (e.g. a human error).
    #[serde(default)]
    pub training: Option<String>,
    /// The impact on the organisation.
    #[serde(default)]
    pub organisation_impact: Option<String>,
    /// Recovery: whether and how the data was recovered.
    #[serde(default)]
    pub recovery: Option<String>,
    /// Other regulators or bodies told (e.g. another EU authority, a sector regulator).
    #[serde(default)]
    pub other_regulators: Option<String>,
    /// Whether people in other countries are affected, and where.
    #[serde(default)]
    pub other_countries: Option<String>,
}

impl ReportAnswers {
    fn fields(&self) -> [(&'static str, &Option<String>); 6] {
        [
            ("measures_before", &self.measures_before),
            ("training", &self.training),
            ("organisation_impact", &self.organisation_impact),
            ("recovery", &self.recovery),
            ("other_regulators", &self.other_regulators),
            ("other_countries", &self.other_countries),
        ]
    }

    /// These answers laid over `earlier`: a field given now replaces the earlier one.
    fn over(self, earlier: ReportAnswers) -> ReportAnswers {
        ReportAnswers {
            measures_before: self.measures_before.or(earlier.measures_before),
            training: self.training.or(earlier.training),
            organisation_impact: self.organisation_impact.or(earlier.organisation_impact),
            recovery: self.recovery.or(earlier.recovery),
            other_regulators: self.other_regulators.or(earlier.other_regulators),
            other_countries: self.other_countries.or(earlier.other_countries),
        }
    }
}

/// Every answer given so far, the latest for each field.
pub fn report_answers(events: &[Recorded]) -> ReportAnswers {
    events.iter().fold(ReportAnswers::default(), |answers, recorded| {
        match &recorded.body {
            IncidentEventBody::Answers(given) => given.clone().over(answers),
            _ => answers,
        }
    })
}

/// Records answers to the regulator's form (audited, on the timeline).
pub fn answer(ledger: &mut Ledger, id: IncidentId, answers: ReportAnswers) -> Result<()> {
    crate::breach::incidents::find_incident(ledger, id)?;
    let answers = ReportAnswers {
        measures_before: answers
            .measures_before
            .map(|text| text.trim().to_owned())
            .filter(|text| !text.is_empty()),
        training: answers
            .training
            .map(|text| text.trim().to_owned())
            .filter(|text| !text.is_empty()),
        organisation_impact: answers
            .organisation_impact
            .map(|text| text.trim().to_owned())
            .filter(|text| !text.is_empty()),
        recovery: answers
            .recovery
            .map(|text| text.trim().to_owned())
            .filter(|text| !text.is_empty()),
        other_regulators: answers
            .other_regulators
            .map(|text| text.trim().to_owned())
            .filter(|text| !text.is_empty()),
        other_countries: answers
            .other_countries
            .map(|text| text.trim().to_owned())
            .filter(|text| !text.is_empty()),
    };
    if answers.fields().iter().all(|(_, value)| value.is_none()) {
        return Err(Error::Invalid(
            "give at least one answer (--measures-before, --training, --organisation-impact, --recovery, \
             --other-regulators, --other-countries)"
                .to_owned(),
        ));
    }
    for (_, value) in answers.fields() {
        if let Some(text) = value {
            crate::limits::long_text("answer", text)?;
        }
    }
    let now = ledger.now();
    crate::breach::incidents::append(ledger, id, now, &IncidentEventBody::Answers(answers))?;
    Ok(())
}

/// The answers on the timeline, in words.
pub fn summarise_answers(answers: &ReportAnswers) -> String {
    let given: Vec<String> = answers
        .fields()
        .iter()
        .filter_map(|(name, value)| {
            value
                .as_ref()
                .map(|text| format!("{}: {text}", name.replace('_', " ")))
        })
        .collect();
    format!("answers for the regulator's report — {}", given.join("; "))
}
