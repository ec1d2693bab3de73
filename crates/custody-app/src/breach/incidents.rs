//! The breach desk: incidents at suppliers, their clocks, the supplier's statements, and an
//! append-only timeline of acts, decisions and contacts (UK/EU GDPR Art. 33(5): document the
//! breach, its effects and the remedial action taken). Nothing about an incident is updated or
//! deleted; corrections are new entries.

use custody_core::{EventId, IncidentId};
use serde::Serialize;

use custody_core::{CategoryKey, Clock, ClockFacts, ClockState, Instant, Nature, clocks};
use custody_store::{IncidentRecord, NewIncident, NewIncidentEvent};

use crate::breach::incident_events::{ActDone, Entry, IncidentEventBody, NotifyRun, Recorded};

use crate::dir::{Ledger, signer_for};
use crate::error::{Error, Result};
use crate::ledger::suppliers::find;

/// Hours after awareness by which the organisation aims to tell people, unless settings say
/// otherwise.
pub const PEOPLE_TARGET_HOURS_DEFAULT: u32 = 72;

/// An incident to open, as the user gave it.
#[derive(Debug, Clone)]
pub struct OpenInput {
    /// The supplier's name; `None` for an incident at the organisation itself.
    pub supplier: Option<String>,
    /// When the organisation became aware.
    pub aware_at: Instant,
    /// Confidentiality, integrity, availability.
    pub nature: Vec<Nature>,
    /// What happened.
    pub summary: String,
    /// Start of the window of compromise.
    pub occurred_from: Option<Instant>,
    /// End of the window of compromise.
    pub occurred_to: Option<Instant>,
    /// When the supplier discovered it.
    pub supplier_discovered_at: Option<Instant>,
    /// When the supplier told us.
    pub supplier_notified_at: Option<Instant>,
    /// Whether it was a cyber incident, when known.
    pub cyber: Option<bool>,
}

/// Opens an incident and computes its first impact from the ledger.
pub fn open(ledger: &mut Ledger, input: OpenInput) -> Result<IncidentId> {
    let supplier = input
        .supplier
        .as_deref()
        .map(|name| find(ledger, name))
        .transpose()?;
    if supplier.is_none() && (input.supplier_discovered_at.is_some() || input.supplier_notified_at.is_some())
    {
        return Err(Error::Invalid(
            "an incident at the organisation itself has no supplier to discover or report it: \
             leave out --supplier-discovered-at and --supplier-notified-at, or name the --supplier"
                .to_owned(),
        ));
    }
    if input.summary.trim().is_empty() {
        return Err(Error::Invalid(
            "the summary (--summary) must say what happened".to_owned(),
        ));
    }
    crate::limits::long_text("summary", &input.summary)?;
    if let (Some(from), Some(to)) = (input.occurred_from, input.occurred_to)
        && to < from
    {
        return Err(Error::Invalid(format!(
            "--occurred-to ({to}) is before --occurred-from ({from})"
        )));
    }
    if let (Some(discovered), Some(notified)) = (input.supplier_discovered_at, input.supplier_notified_at)
        && notified < discovered
    {
        return Err(Error::Invalid(format!(
            "--supplier-notified-at ({notified}) is before --supplier-discovered-at ({discovered})"
        )));
    }
    let incident = NewIncident {
        supplier_id: supplier.as_ref().map(|supplier| supplier.id),
        summary: input.summary.trim().to_owned(),
        nature: input.nature.clone(),
        aware_at: input.aware_at,
        occurred_from: input.occurred_from,
        occurred_to: input.occurred_to,
        supplier_discovered_at: input.supplier_discovered_at,
        supplier_notified_at: input.supplier_notified_at,
        cyber: input.cyber,
        opened_at: ledger.now(),
    };
    let draft = ledger.draft(
        "incident.open",
        "incident",
        serde_json::json!({ "supplier": supplier.as_ref().map(|supplier| supplier.name.clone()), "aware_at": input.aware_at,
            "nature": input.nature.iter().map(|n| n.as_str()).collect::<Vec<_>>() }),
    );
    let id = ledger
        .store
        .open_incident(incident, draft, &signer_for(&ledger.vault, &ledger.dir))?;
    ledger.anchor_audit()?;
    crate::breach::impact::refresh(ledger, id)?;
    Ok(id)
}

/// An incident by id with its facts as they stand (every amendment applied), or a clear error.
pub fn find_incident(ledger: &Ledger, id: IncidentId) -> Result<IncidentRecord> {
    let record = ledger.store.incident(id)?.ok_or_else(|| {
        Error::NotFound(format!(
            "there is no incident {id}; `custody incident list` shows them"
        ))
    })?;
    let events = crate::breach::incident_events::log(ledger, id)?;
    Ok(crate::breach::incident_facts::as_they_stand(record, &events))
}

/// Appends an event to an incident, audited.
pub(crate) fn append(
    ledger: &mut Ledger,
    incident: IncidentId,
    at: Instant,
    typed: &IncidentEventBody,
) -> Result<EventId> {
    let (event, draft) = prepare(ledger, at, typed, None)?;
    let id = ledger.store.append_incident_event(
        incident,
        event,
        draft,
        &signer_for(&ledger.vault, &ledger.dir),
    )?;
    ledger.anchor_audit()?;
    Ok(id)
}

/// An event to append, and its audit draft: the body written (and bounded), by the current
/// actor, the draft saying what and when (with `extra` fields beside, e.g. a filing's digests).
pub(crate) fn prepare(
    ledger: &Ledger,
    at: Instant,
    typed: &IncidentEventBody,
    extra: Option<(&str, serde_json::Value)>,
) -> Result<(NewIncidentEvent, custody_store::AuditDraft)> {
    let (kind, body) = crate::breach::incident_events::encode(typed)?;
    crate::limits::event_body(kind, &body)?;
    let mut details = serde_json::json!({ "at": at, "body": body });
    if let (Some((name, value)), serde_json::Value::Object(fields)) = (extra, &mut details) {
        fields.insert(name.to_owned(), value);
    }
    let draft = ledger.draft(&format!("incident.{kind}"), "incident", details);
    let event = NewIncidentEvent {
        kind: kind.to_owned(),
        at,
        actor: ledger.actor.clone(),
        recorded_at: ledger.now(),
        body,
    };
    Ok((event, draft))
}

/// An act that stops a clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Act {
    /// The report to the regulator was made (Art. 33(1)).
    RegulatorNotified,
    /// The affected people were told (Art. 34).
    PeopleNotified,
    /// A follow-up report was made to the regulator (Art. 33(4): information in phases).
    RegulatorUpdated,
    /// Decided, with reasons, not to report: the breach is unlikely to result in a risk
    /// (Art. 33(1)); kept in the register (Art. 33(5)).
    RegulatorNotRequired,
    /// Decided not to tell people individually, on an Art. 34(3) ground.
    PeopleNotRequired,
    /// One obligation of `custody jurisdictions` was met (an attorney general, a credit bureau,
    /// another country's regulator told): names it as `JURISDICTION:obligation`.
    ObligationMet,
}

/// The grounds on which people need not be told individually (UK/EU GDPR Art. 34(3)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ground {
    /// (a) The data was made unintelligible to anyone not authorised (encryption).
    Encrypted,
    /// (b) Measures taken since mean the high risk is no longer likely to materialise.
    MeasuresTaken,
    /// (c) It would involve disproportionate effort: a public communication instead.
    DisproportionateEffort,
}

impl Ground {
    /// Parses `encrypted`, `measures-taken` or `disproportionate-effort`.
    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "encrypted" => Ok(Ground::Encrypted),
            "measures-taken" => Ok(Ground::MeasuresTaken),
            "disproportionate-effort" => Ok(Ground::DisproportionateEffort),
            _ => Err(Error::Invalid(format!(
                "--ground {text:?}: expected encrypted, measures-taken or disproportionate-effort (Art. 34(3)(a)-(c))"
            ))),
        }
    }

    /// In words, with the article.
    pub fn words(self) -> &'static str {
        match self {
            Ground::Encrypted => "the data was unintelligible to anyone not authorised (Art. 34(3)(a))",
            Ground::MeasuresTaken => {
                "measures taken since mean the high risk is no longer likely (Art. 34(3)(b))"
            }
            Ground::DisproportionateEffort => {
                "telling each person would involve disproportionate effort: a public communication instead (Art. 34(3)(c))"
            }
        }
    }
}

impl Act {
    /// `regulator_notified` or `people_notified`.
    pub fn as_str(self) -> &'static str {
        match self {
            Act::RegulatorNotified => "regulator_notified",
            Act::PeopleNotified => "people_notified",
            Act::RegulatorUpdated => "regulator_updated",
            Act::RegulatorNotRequired => "regulator_not_required",
            Act::PeopleNotRequired => "people_not_required",
            Act::ObligationMet => "obligation_met",
        }
    }
}

/// Records an act. A report to the regulator after the 72 hours must give the reasons for the
/// delay (Art. 33(1): "it shall be accompanied by reasons for the delay").
pub fn record_act(
    ledger: &mut Ledger,
    id: IncidentId,
    act: Act,
    at: Instant,
    reference: Option<String>,
    delay_reason: Option<String>,
) -> Result<()> {
    let incident = find_incident(ledger, id)?;
    if at < incident.facts.aware_at {
        return Err(Error::Invalid(format!(
            "the time of the act (--at, {at}) is before the organisation became aware ({})",
            incident.facts.aware_at
        )));
    }
    if at > ledger.now() {
        return Err(Error::Invalid(format!(
            "the time of the act (--at, {at}) is in the future; record an act once it has happened"
        )));
    }
    let due = incident.facts.aware_at.plus_hours(custody_core::REGULATOR_HOURS);
    let delay_reason = delay_reason.filter(|reason| !reason.trim().is_empty());
    if act == Act::RegulatorNotified && at > due && delay_reason.is_none() {
        return Err(Error::Invalid(format!(
            "the report to the regulator at {at} is after the deadline ({due}); UK/EU GDPR Art. 33(1) requires \
             the reasons for the delay: give them with --delay-reason"
        )));
    }
    let done = ActDone {
        act,
        reference,
        delay_reason,
        ground: None,
        reason: None,
        obligation: None,
    };
    match act {
        Act::RegulatorNotified => {
            crate::breach::filed::file(ledger, id, at, done, crate::breach::report::Phase::Initial)
        }
        Act::RegulatorUpdated => {
            crate::breach::filed::file(ledger, id, at, done, crate::breach::report::Phase::FollowUp)
        }
        Act::PeopleNotified => append(ledger, id, at, &IncidentEventBody::Act(done)).map(|_| ()),
        Act::RegulatorNotRequired | Act::PeopleNotRequired => Err(Error::Invalid(
            "a decision not to notify is recorded with its reason (record_decision)".to_owned(),
        )),
        Act::ObligationMet => Err(Error::Invalid(
            "an obligation met is recorded with the obligation it meets (record_obligation_met)".to_owned(),
        )),
    }
}

/// Records that one obligation of the jurisdiction rules was met at `at`: `key` is
/// `JURISDICTION:obligation` as `incident show` lists them (`US-CA:us-ca-attorney-general`).
pub fn record_obligation_met(
    ledger: &mut Ledger,
    id: IncidentId,
    key: &str,
    at: Instant,
    reference: Option<String>,
    delay_reason: Option<String>,
) -> Result<()> {
    let incident = find_incident(ledger, id)?;
    if let Some(reason) = &delay_reason {
        crate::limits::long_text("delay reason", reason)?;
    }
    if at < incident.facts.aware_at || at > ledger.now() {
        return Err(Error::Invalid(format!(
            "the time of the act (--at, {at}) must be between awareness ({}) and now",
            incident.facts.aware_at
        )));
    }
    let listed = view(ledger, id)?.obligations;
    let Some(clock) = listed
        .clocks
        .iter()
        .find(|clock| format!("{}:{}", clock.jurisdiction, clock.obligation) == key)
    else {
        return Err(Error::Invalid(format!(
            "--obligation {key:?}: expected JURISDICTION:obligation as `incident show {id}` lists them, such as \
             US-CA:us-ca-attorney-general"
        )));
    };
    if clock.to == crate::breach::jurisdictions::Recipient::Regulator
        && clock.jurisdiction == ledger.settings.phone_region
    {
        return Err(Error::Invalid(format!(
            "{key} is the organisation's own regulator: record `regulator-notified`, which files the report \
             as it stands"
        )));
    }
    let events = crate::breach::incident_events::log(ledger, id)?;
    if events.iter().any(|recorded| {
        matches!(&recorded.body, IncidentEventBody::Act(done)
            if done.act == Act::ObligationMet && done.obligation.as_deref() == Some(key))
    }) {
        return Err(Error::Invalid(format!(
            "{key} was already recorded as met on incident {id}; what changed since goes on the timeline"
        )));
    }
    if clock.state == crate::breach::obligations::ObligationState::ThroughLead {
        return Err(Error::Invalid(format!(
            "{key} is told through the lead authority ({}): record the lead's obligation",
            listed.lead.as_deref().unwrap_or("the main establishment's")
        )));
    }
    let late = clock.due.is_some_and(|due| at > due);
    if late && delay_reason.is_none() && clock.to == crate::breach::jurisdictions::Recipient::Regulator {
        return Err(Error::Invalid(format!(
            "{key} was due {}: a report after its deadline carries the reasons for the delay \
             (--delay-reason; GDPR Art. 33(1))",
            clock.due_local.as_deref().unwrap_or("earlier")
        )));
    }
    let done = ActDone {
        act: Act::ObligationMet,
        reference,
        delay_reason: delay_reason.clone(),
        ground: None,
        reason: None,
        obligation: Some(key.to_owned()),
    };
    // Telling a body (a regulator, an attorney general) files the report to it as it stands,
    // in its structure.
    if clock.body.is_some() {
        let rules = crate::breach::jurisdictions::for_ledger(ledger)?;
        let variants = &ledger.settings.establishment.variants;
        let to = crate::breach::report_addressee::of_obligation(&rules, key, variants)?;
        let filing = crate::breach::report_forms::Filing { at, delay_reason };
        return crate::breach::filed::file_for_body(ledger, id, done, to, filing);
    }
    append(ledger, id, at, &IncidentEventBody::Act(done)).map(|_| ())
}

/// Records a decision not to notify, with its reason (and for people, its Art. 34(3) ground): the
/// clock it concerns stops as `not_required`, never `missed`, and the register keeps it.
pub fn record_decision(
    ledger: &mut Ledger,
    id: IncidentId,
    act: Act,
    ground: Option<Ground>,
    reason: &str,
) -> Result<()> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Error::Invalid(
            "a decision not to notify carries its reasons (--reason): Art. 33(5) requires them".to_owned(),
        ));
    }
    crate::limits::long_text("reason", reason)?;
    find_incident(ledger, id)?;
    let events = crate::breach::incident_events::log(ledger, id)?;
    let (done_already, ground) = match act {
        Act::RegulatorNotRequired => (first_act(&events, Act::RegulatorNotified), None),
        Act::PeopleNotRequired => (
            first_act(&events, Act::PeopleNotified),
            Some(ground.ok_or_else(|| {
                Error::Invalid(
                    "a decision not to tell people names its ground (--ground encrypted, measures-taken or \
                     disproportionate-effort; Art. 34(3))"
                        .to_owned(),
                )
            })?),
        ),
        _ => {
            return Err(Error::Invalid(
                "only regulator-not-required and people-not-required are decisions not to notify".to_owned(),
            ));
        }
    };
    if let Some(at) = done_already {
        return Err(Error::Invalid(format!(
            "that notification was already made ({at}); a decision not to make it would contradict the record"
        )));
    }
    // Deciding the regulator need not be told contradicts an assessment that says it must:
    // the assessment is overridden first, with its reason, so the record says why.
    if act == Act::RegulatorNotRequired
        && crate::breach::impact::latest_assessment(&events)
            .is_some_and(|assessment| assessment.report_regulator)
    {
        return Err(Error::Invalid(format!(
            "the latest risk assessment says the regulator must be told; if it need not be, override the \
             assessment first (`custody incident assess {id} --override-regulator no --reason …`)"
        )));
    }
    let now = ledger.now();
    let done = ActDone {
        act,
        reference: None,
        delay_reason: None,
        ground,
        reason: Some(reason.to_owned()),
        obligation: None,
    };
    append(ledger, id, now, &IncidentEventBody::Act(done))?;
    Ok(())
}

/// Kinds of timeline entry a user adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// A note.
    Note,
    /// A decision, with its reasoning.
    Decision,
    /// A contact with another party.
    Contact,
    /// News about the incident.
    Update,
}

impl EntryKind {
    /// Parses `note`, `decision`, `contact` or `update`.
    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "note" => Ok(EntryKind::Note),
            "decision" => Ok(EntryKind::Decision),
            "contact" => Ok(EntryKind::Contact),
            "update" => Ok(EntryKind::Update),
            _ => Err(Error::Invalid(format!(
                "the kind of entry (--kind) {text:?}: expected note, decision, contact or update"
            ))),
        }
    }

    /// `note`, `decision`, `contact` or `update`.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Note => "note",
            EntryKind::Decision => "decision",
            EntryKind::Contact => "contact",
            EntryKind::Update => "update",
        }
    }
}

/// The parties a contact entry may name.
pub const CONTACT_PARTIES: &[&str] = &[
    "regulator",
    "police",
    "cyber-security-agency",
    "forensics",
    "supplier",
    "insurer",
    "other",
];

/// Adds a timeline entry. A decision needs its reasoning; a contact names the party.
pub fn add_entry(
    ledger: &mut Ledger,
    id: IncidentId,
    kind: EntryKind,
    text: &str,
    at: Option<Instant>,
    reason: Option<String>,
    with: Option<String>,
) -> Result<EventId> {
    find_incident(ledger, id)?;
    if text.trim().is_empty() {
        return Err(Error::Invalid(
            "the entry's text (--text) must not be empty".to_owned(),
        ));
    }
    let reason = reason.filter(|reason| !reason.trim().is_empty());
    if kind == EntryKind::Decision && reason.is_none() {
        return Err(Error::Invalid(
            "a decision carries its reasoning: give it (--reason)".to_owned(),
        ));
    }
    if kind == EntryKind::Contact {
        match &with {
            Some(party) if CONTACT_PARTIES.contains(&party.as_str()) => {}
            _ => {
                return Err(Error::Invalid(format!(
                    "a contact names the party (--with): one of {}",
                    CONTACT_PARTIES.join(", ")
                )));
            }
        }
    }
    let at = at.unwrap_or_else(|| ledger.now());
    let entry = Entry {
        entry: kind,
        text: text.trim().to_owned(),
        reason,
        with,
    };
    append(ledger, id, at, &IncidentEventBody::Entry(entry))
}

/// What a supplier said about exfiltration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Exfiltration {
    /// Data was taken.
    Yes,
    /// Data was not taken.
    No,
    /// Not known yet.
    Unknown,
}

impl Exfiltration {
    /// Parses `yes`, `no` or `unknown`.
    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "yes" => Ok(Exfiltration::Yes),
            "no" => Ok(Exfiltration::No),
            "unknown" => Ok(Exfiltration::Unknown),
            _ => Err(Error::Invalid(format!(
                "whether data was taken (--claims-exfiltration) {text:?}: expected yes, no or unknown"
            ))),
        }
    }
}

/// A statement from the supplier, as the user recorded it.
#[derive(Debug, Clone)]
pub struct StatementInput {
    /// When we received it.
    pub received_at: Instant,
    /// What it says.
    pub text: String,
    /// The data categories the supplier says were involved.
    pub claims_categories: Option<Vec<CategoryKey>>,
    /// How many records the supplier says were involved.
    pub claims_records: Option<u64>,
    /// Whether the supplier says data was taken.
    pub claims_exfiltration: Option<Exfiltration>,
}

/// Records a supplier statement, versioned; differences from the previous claims are flagged as a
/// correction.
pub fn statement(ledger: &mut Ledger, id: IncidentId, input: StatementInput) -> Result<StatementView> {
    find_incident(ledger, id)?;
    if input.text.trim().is_empty() {
        return Err(Error::Invalid(
            "the statement's text (--text) must give what the supplier said".to_owned(),
        ));
    }
    let previous = statements(&crate::breach::incident_events::log(ledger, id)?);
    let claims = Claims {
        categories: input
            .claims_categories
            .map(|keys| keys.iter().map(|key| key.as_str().to_owned()).collect()),
        records: input.claims_records,
        exfiltration: input.claims_exfiltration,
    };
    // Compare with everything the supplier has claimed so far, not only its last statement:
    // a statement that leaves a figure out does not withdraw it.
    let changes = combined_claims(&previous).changes_to(&claims);
    let view = StatementView {
        version: previous.len() as u64 + 1,
        received_at: input.received_at,
        text: input.text.trim().to_owned(),
        correction: !changes.is_empty(),
        changes,
        claims,
    };
    append(
        ledger,
        id,
        input.received_at,
        &IncidentEventBody::Statement(view.clone()),
    )?;
    Ok(view)
}

/// What a supplier claims.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    /// Data categories.
    pub categories: Option<Vec<String>>,
    /// Records.
    pub records: Option<u64>,
    /// Exfiltration.
    pub exfiltration: Option<Exfiltration>,
}

impl Claims {
    /// What the newer claims change, in words; a claim not repeated is not a change.
    fn changes_to(&self, newer: &Claims) -> Vec<String> {
        let mut changes = Vec::new();
        if let (Some(before), Some(after)) = (&self.categories, &newer.categories)
            && before != after
        {
            changes.push(format!(
                "data categories: {} → {}",
                before.join(", "),
                after.join(", ")
            ));
        }
        if let (Some(before), Some(after)) = (self.records, newer.records)
            && before != after
        {
            changes.push(format!("records: {before} → {after}"));
        }
        if let (Some(before), Some(after)) = (self.exfiltration, newer.exfiltration)
            && before != after
        {
            changes.push(format!("exfiltration: {before:?} → {after:?}").to_lowercase());
        }
        changes
    }
}

impl<'de> serde::Deserialize<'de> for Exfiltration {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Exfiltration::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A supplier statement as recorded.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementView {
    /// 1 for the first statement, then 2, 3, …
    pub version: u64,
    /// When it was received.
    pub received_at: Instant,
    /// What it says.
    pub text: String,
    /// Whether it changes an earlier claim.
    pub correction: bool,
    /// The changes, in words.
    pub changes: Vec<String>,
    /// The claims.
    pub claims: Claims,
}

/// Everything the supplier has claimed, each field from the latest statement that gave it.
pub fn combined_claims(statements: &[StatementView]) -> Claims {
    statements
        .iter()
        .fold(Claims::default(), |mut combined, statement| {
            if statement.claims.categories.is_some() {
                combined.categories.clone_from(&statement.claims.categories);
            }
            combined.records = statement.claims.records.or(combined.records);
            combined.exfiltration = statement.claims.exfiltration.or(combined.exfiltration);
            combined
        })
}

/// The statements among an incident's events, in order.
pub fn statements(events: &[Recorded]) -> Vec<StatementView> {
    events
        .iter()
        .filter_map(|recorded| match &recorded.body {
            IncidentEventBody::Statement(statement) => Some(statement.clone()),
            _ => None,
        })
        .collect()
}

/// When an act was first recorded.
pub fn first_act(events: &[Recorded], wanted: Act) -> Option<Instant> {
    events
        .iter()
        .filter(|recorded| matches!(&recorded.body, IncidentEventBody::Act(done) if done.act == wanted))
        .map(|recorded| recorded.event.at)
        .min()
}

/// The clocks of an incident at `now`.
pub fn incident_clocks(
    ledger: &Ledger,
    incident: &IncidentRecord,
    events: &[Recorded],
    now: Instant,
) -> Result<Vec<Clock>> {
    let notice_hours = match &incident.supplier {
        Some(name) => find(ledger, name)?.notice_hours,
        None => None,
    };
    let people_required =
        crate::breach::impact::latest_assessment(events).map(|assessment| assessment.tell_people);
    let facts = ClockFacts {
        aware_at: Some(incident.facts.aware_at),
        supplier_discovered_at: incident.facts.supplier_discovered_at,
        supplier_notified_at: incident.facts.supplier_notified_at,
        supplier_notice_hours: notice_hours,
        regulator_notified_at: first_act(events, Act::RegulatorNotified),
        people_notified_at: first_act(events, Act::PeopleNotified),
        regulator_not_required_at: first_act(events, Act::RegulatorNotRequired),
        people_not_required_at: first_act(events, Act::PeopleNotRequired),
        people_required,
        people_target_hours: ledger
            .settings
            .people_target_hours
            .unwrap_or(PEOPLE_TARGET_HOURS_DEFAULT),
    };
    Ok(clocks(&facts, now))
}

/// A clock for output, with its due instant also in the organisation's time zone.
#[derive(Debug, Clone, Serialize)]
pub struct ClockView {
    /// `regulator`, `supplier_notice`, `people`.
    pub name: &'static str,
    /// Due (UTC).
    pub due: Option<Instant>,
    /// Due, local.
    pub due_local: Option<String>,
    /// Running, met, missed, not applicable.
    pub state: ClockState,
    /// When the act happened.
    pub done_at: Option<Instant>,
    /// Seconds left (or margin); negative when overdue (or late).
    pub seconds_to_due: Option<i64>,
    /// The same in words, e.g. "29 h 30 min left".
    pub in_words: String,
    /// Why it does not apply.
    pub reason: Option<&'static str>,
}

/// Hours and minutes in words: "29 h 30 min".
pub fn duration_words(seconds: i64) -> String {
    let minutes = seconds.unsigned_abs() / 60;
    let (days, hours, minutes) = (minutes / 1440, (minutes / 60) % 24, minutes % 60);
    if days > 0 {
        format!("{days} d {hours} h {minutes} min")
    } else {
        format!("{hours} h {minutes} min")
    }
}

/// Clocks for output.
pub fn clock_views(ledger: &Ledger, clocks: Vec<Clock>) -> Vec<ClockView> {
    clocks
        .into_iter()
        .map(|clock| {
            let in_words = match (clock.state, clock.seconds_to_due) {
                (ClockState::Running, Some(seconds)) => format!("{} left", duration_words(seconds)),
                (ClockState::Missed, Some(seconds)) if clock.done_at.is_none() => {
                    format!("overdue by {}", duration_words(seconds))
                }
                (ClockState::Missed, Some(seconds)) => format!("done {} late", duration_words(seconds)),
                (ClockState::Met, Some(seconds)) => format!("done {} early", duration_words(seconds)),
                _ => clock.reason.unwrap_or("not applicable").to_owned(),
            };
            ClockView {
                name: clock.name,
                due_local: clock.due.map(|due| due.local(&ledger.zone)),
                due: clock.due,
                state: clock.state,
                done_at: clock.done_at,
                seconds_to_due: clock.seconds_to_due,
                in_words,
                reason: clock.reason,
            }
        })
        .collect()
}

/// One entry of an incident's timeline for output.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineEntry {
    /// Event id.
    pub id: EventId,
    /// `entry` (note, decision, contact, update), `act`, `statement`, `impact`, `assessment`.
    pub kind: String,
    /// When it happened.
    pub at: Instant,
    /// When it was recorded.
    pub recorded_at: Instant,
    /// Who recorded it.
    pub actor: String,
    /// One line saying what it was.
    pub summary: String,
    /// Its content.
    pub body: serde_json::Value,
}

fn summarise(body: &IncidentEventBody) -> String {
    match body {
        IncidentEventBody::Entry(entry) => {
            let mut line = format!("{}: {}", entry.entry.as_str(), entry.text);
            if let Some(with) = &entry.with {
                line = format!("{line} (with {with})");
            }
            if let Some(reason) = &entry.reason {
                line = format!("{line} — because: {reason}");
            }
            line
        }
        IncidentEventBody::Act(done) => {
            let mut line = done.act.as_str().replace('_', " ");
            if let Some(obligation) = &done.obligation {
                line = format!("{line}: {obligation}");
            }
            if let Some(reference) = &done.reference {
                line = format!("{line} (ref {reference})");
            }
            if let Some(reason) = &done.delay_reason {
                line = format!("{line}; reasons for the delay: {reason}");
            }
            if let Some(ground) = done.ground {
                line = format!("{line}, because {}", ground.words());
            }
            if let Some(reason) = &done.reason {
                line = format!("{line}: {reason}");
            }
            line
        }
        IncidentEventBody::Statement(statement) => format!(
            "supplier statement {}{}: {}",
            statement.version,
            if statement.correction { " (CORRECTION)" } else { "" },
            statement.text
        ),
        IncidentEventBody::Evidence(evidence) => {
            let mut line = format!(
                "leak evidence: {} ({} rows) names {} people: {} held by the supplier, {} not; {} canaries",
                evidence.file,
                evidence.rows,
                evidence.matched,
                evidence.held_by_supplier,
                evidence.not_held_by_supplier,
                evidence.canaries.len()
            );
            if !evidence.probable.is_empty() {
                line = format!(
                    "{line}; {} more probable, waiting for a responder to confirm",
                    evidence.probable.len()
                );
            }
            line
        }
        IncidentEventBody::Question(asked) => format!(
            "{} asked {} question(s), due {}{}",
            asked.supplier,
            asked.questions.len(),
            asked.due_at,
            if asked.contacts == 0 {
                " (no contacts on record)".to_owned()
            } else {
                format!(" (mailed to {} contact(s))", asked.contacts)
            }
        ),
        IncidentEventBody::Confirm(confirmed) => format!(
            "probable links of evidence {} confirmed: {} people ({})",
            confirmed.evidence,
            confirmed.references.len(),
            confirmed.reason
        ),
        IncidentEventBody::Impact(impact) => {
            format!("impact recomputed from the ledger: {}", impact.changes.join("; "))
        }
        IncidentEventBody::Assessment(assessment) => {
            let yes = |value: bool| if value { "yes" } else { "no" };
            format!(
                "risk assessed: report to the regulator {}, tell people {}",
                yes(assessment.report_regulator),
                yes(assessment.tell_people)
            )
        }
        IncidentEventBody::Notify(run) => summarise_run(run),
        IncidentEventBody::Amend(amended) => crate::breach::incident_facts::summarise(amended),
        IncidentEventBody::Answers(answers) => crate::breach::incident_facts::summarise_answers(answers),
        IncidentEventBody::People(affected) => match &affected.file {
            Some(file) => format!(
                "people affected: {} matched from {file} ({} rows, {} unmatched); data: {}",
                affected.people,
                affected.rows,
                affected.unmatched,
                affected.categories.join(", ")
            ),
            None => format!(
                "people affected: {} (a count); data: {}",
                affected.people,
                affected.categories.join(", ")
            ),
        },
        IncidentEventBody::Dismiss(dismissed) => {
            format!(
                "flag dismissed ({}): {}",
                dismissed.flag.replace('_', " "),
                dismissed.reason
            )
        }
    }
}

fn summarise_run(run: &NotifyRun) -> String {
    match run {
        NotifyRun::End {
            run,
            error: Some(error),
            ..
        } => format!("notification run {run} stopped: {error}"),
        NotifyRun::End {
            run,
            sent,
            failed,
            waiting,
            error: None,
        } => format!(
            "notification run {run} ended: {} sent, {} failed, {} waiting",
            sent.unwrap_or(0),
            failed.unwrap_or(0),
            waiting.unwrap_or(0)
        ),
        NotifyRun::Start {
            audience,
            people,
            messages,
            added,
            letters,
            ..
        } => format!(
            "notification run started ({audience}): {people} people, {messages} messages ({added} newly queued), \
             {letters} without an email address for a letter"
        ),
    }
}

/// The timeline of an incident, in the order things happened (then the order recorded).
pub fn timeline(events: &[Recorded]) -> Vec<TimelineEntry> {
    let mut ordered: Vec<&Recorded> = events.iter().collect();
    ordered.sort_by_key(|recorded| (recorded.event.at, recorded.event.id));
    ordered
        .into_iter()
        .map(|recorded| TimelineEntry {
            id: recorded.event.id,
            kind: recorded.event.kind.clone(),
            at: recorded.event.at,
            recorded_at: recorded.event.recorded_at,
            actor: recorded.event.actor.clone(),
            summary: summarise(&recorded.body),
            body: recorded.event.body.clone(),
        })
        .collect()
}

/// An incident for output.
#[derive(Debug, Clone, Serialize)]
pub struct IncidentView {
    /// Id.
    pub incident: IncidentId,
    /// Supplier.
    pub supplier: String,
    /// What happened.
    pub summary: String,
    /// Nature.
    pub nature: Vec<Nature>,
    /// When we became aware.
    pub aware_at: Instant,
    /// The same, local.
    pub aware_at_local: String,
    /// Window of compromise.
    pub occurred_from: Option<Instant>,
    /// Window of compromise.
    pub occurred_to: Option<Instant>,
    /// Supplier's discovery.
    pub supplier_discovered_at: Option<Instant>,
    /// Supplier's notice to us.
    pub supplier_notified_at: Option<Instant>,
    /// Clocks.
    pub clocks: Vec<ClockView>,
    /// The impact from the ledger (recomputed now).
    pub impact: crate::breach::impact::ImpactFigures,
    /// The latest risk assessment.
    pub assessment: Option<crate::breach::impact::Assessment>,
    /// Who must be told, by when, under which law, for the places the affected people live in.
    pub obligations: crate::breach::obligations::Obligations,
    /// Supplier statements, oldest first.
    pub statements: Vec<StatementView>,
    /// The newest question to the supplier, and whether it has answered.
    pub question: Option<crate::breach::questions::QuestionState>,
    /// The supplier's latest claims beside the ledger's own figures.
    pub claims_vs_ledger: Option<ClaimsVsLedger>,
    /// The timeline.
    pub timeline: Vec<TimelineEntry>,
    /// What recorded leak evidence confirms exposed.
    pub confirmed: Option<crate::leaks::leak_evidence::Confirmed>,
    /// The facts as they stand now.
    pub facts: FactsView,
    /// Every change to the facts: field, old, new, who, when, why.
    pub facts_history: Vec<crate::breach::incident_facts::FactHistory>,
    /// Set when the supplier's statements or leak evidence say data was taken while the facts
    /// say confidentiality is not affected.
    pub evidence_ahead: Option<String>,
    /// The reports filed with the regulator, with their digests as filed.
    pub filed_reports: Vec<crate::breach::filed::FiledView>,
    /// When the impact shown was computed (`None`: just now, not yet recorded).
    pub impact_at: Option<Instant>,
}

/// An incident with its clocks, impact (refreshed: recorded first when the ledger changed),
/// statements and timeline.
pub fn show(ledger: &mut Ledger, id: IncidentId) -> Result<IncidentView> {
    crate::breach::impact::refresh(ledger, id)?;
    view(ledger, id)
}

/// An incident as recorded, changing nothing: the impact is the latest one recorded on its
/// timeline (computed, not recorded, when there is none yet), so that reading stays cheap
/// whatever the size of the ledger. [`show`] refreshes the impact first.
pub fn view(ledger: &Ledger, id: IncidentId) -> Result<IncidentView> {
    let incident = find_incident(ledger, id)?;
    let events = crate::breach::incident_events::log(ledger, id)?;
    let (figures, confirmed, impact_at) = match crate::breach::impact::latest_recorded(&events) {
        Some((figures, confirmed, at)) => (figures, confirmed, Some(at)),
        None => {
            let computed = crate::breach::impact::compute(ledger, &incident)?;
            (computed.figures, computed.confirmed, None)
        }
    };
    let now = ledger.now();
    let clocks = clock_views(ledger, incident_clocks(ledger, &incident, &events, now)?);
    let place = crate::breach::in_house::where_(&incident);
    let facts = incident.facts;
    let statements = statements(&events);
    let claims_vs_ledger = (!statements.is_empty()).then(|| compare(&statements, &figures));
    let assessment = crate::breach::impact::latest_assessment(&events);
    // Rules that cannot be read leave the obligations out, never the incident's own clocks.
    let obligations = crate::breach::obligations::for_incident(
        ledger,
        &figures,
        assessment.as_ref(),
        &crate::breach::obligations::done_of(facts.aware_at, &events),
    )
    .unwrap_or_else(|error| crate::breach::obligations::Obligations::unreadable(error.to_string()));
    let facts_view = FactsView {
        summary: facts.summary.clone(),
        nature: facts.nature.clone(),
        aware_at: facts.aware_at,
        occurred_from: facts.occurred_from,
        occurred_to: facts.occurred_to,
        supplier_discovered_at: facts.supplier_discovered_at,
        supplier_notified_at: facts.supplier_notified_at,
        cyber: facts.cyber,
    };
    Ok(IncidentView {
        filed_reports: crate::breach::filed::filed(ledger, id)?,
        evidence_ahead: crate::breach::incident_facts::evidence_ahead(&facts, &events),
        facts: facts_view,
        facts_history: crate::breach::incident_facts::history(&events),
        incident: id,
        supplier: place,
        summary: facts.summary,
        nature: facts.nature,
        aware_at_local: facts.aware_at.local(&ledger.zone),
        aware_at: facts.aware_at,
        occurred_from: facts.occurred_from,
        occurred_to: facts.occurred_to,
        supplier_discovered_at: facts.supplier_discovered_at,
        supplier_notified_at: facts.supplier_notified_at,
        clocks,
        impact: figures,
        assessment,
        obligations,
        claims_vs_ledger,
        statements,
        question: crate::breach::questions::state(&events, ledger.now()),
        timeline: timeline(&events),
        confirmed,
        impact_at,
    })
}

/// An incident's facts as they stand.
#[derive(Debug, Clone, Serialize)]
pub struct FactsView {
    /// What happened.
    pub summary: String,
    /// Confidentiality, integrity, availability.
    pub nature: Vec<Nature>,
    /// When the organisation became aware.
    pub aware_at: Instant,
    /// Window of compromise.
    pub occurred_from: Option<Instant>,
    /// Window of compromise.
    pub occurred_to: Option<Instant>,
    /// The supplier's discovery.
    pub supplier_discovered_at: Option<Instant>,
    /// The supplier's notice to us.
    pub supplier_notified_at: Option<Instant>,
    /// Whether it was a cyber incident (`null`: not known).
    pub cyber: Option<bool>,
}

/// The supplier's claims (each field from the latest statement that gave it) beside the ledger.
#[derive(Debug, Clone, Serialize)]
pub struct ClaimsVsLedger {
    /// The latest statement.
    pub statement: u64,
    /// Records the supplier claims.
    pub supplier_records: Option<u64>,
    /// People the ledger says it held.
    pub ledger_people: u64,
    /// Data categories the ledger shows held that the supplier does not mention.
    pub categories_only_in_ledger: Vec<String>,
    /// Data categories the supplier mentions that the ledger never sent it.
    pub categories_only_claimed: Vec<String>,
    /// What the supplier says about exfiltration.
    pub supplier_exfiltration: Option<Exfiltration>,
}

/// The supplier's latest claims beside the ledger's figures.
pub(crate) fn compare(
    statements: &[StatementView],
    figures: &crate::breach::impact::ImpactFigures,
) -> ClaimsVsLedger {
    let combined = combined_claims(statements);
    let claimed = combined.categories.clone().unwrap_or_default();
    let covered = |ledger_key: &str| {
        claimed
            .iter()
            .any(|claim| ledger_key == claim || ledger_key.starts_with(&format!("{claim}.")))
    };
    let only_in_ledger = if combined.categories.is_some() {
        figures
            .categories
            .keys()
            .filter(|key| !covered(key))
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    let only_claimed = claimed
        .iter()
        .filter(|claim| {
            !figures.categories.keys().any(|key| {
                key == *claim
                    || key.starts_with(&format!("{claim}."))
                    || claim.starts_with(&format!("{key}."))
            })
        })
        .cloned()
        .collect();
    ClaimsVsLedger {
        statement: statements.last().map_or(0, |latest| latest.version),
        supplier_records: combined.records,
        ledger_people: figures.people,
        categories_only_in_ledger: only_in_ledger,
        categories_only_claimed: only_claimed,
        supplier_exfiltration: combined.exfiltration,
    }
}

/// An incident at a glance.
#[derive(Debug, Clone, Serialize)]
pub struct IncidentSummary {
    /// Id.
    pub incident: IncidentId,
    /// Supplier.
    pub supplier: String,
    /// What happened.
    pub summary: String,
    /// When we became aware.
    pub aware_at: Instant,
    /// People affected, as last computed.
    pub people: Option<u64>,
    /// Clocks.
    pub clocks: Vec<ClockView>,
}

/// Every incident with its clocks, newest first.
pub fn list(ledger: &Ledger) -> Result<Vec<IncidentSummary>> {
    let now = ledger.now();
    let mut out = Vec::new();
    for incident in ledger.store.incidents()?.into_iter().rev() {
        let events = crate::breach::incident_events::log(ledger, incident.id)?;
        let incident = crate::breach::incident_facts::as_they_stand(incident, &events);
        let clocks = clock_views(ledger, incident_clocks(ledger, &incident, &events, now)?);
        out.push(IncidentSummary {
            incident: incident.id,
            supplier: crate::breach::in_house::where_(&incident),
            summary: incident.facts.summary.clone(),
            aware_at: incident.facts.aware_at,
            people: crate::breach::impact::latest_figures(&events).map(|figures| figures.people),
            clocks,
        });
    }
    Ok(out)
}

/// The timeline of an incident by id.
pub fn timeline_of(ledger: &Ledger, id: IncidentId) -> Result<Vec<TimelineEntry>> {
    find_incident(ledger, id)?;
    Ok(timeline(&crate::breach::incident_events::log(ledger, id)?))
}
