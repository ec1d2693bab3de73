//! An incident's legal record, typed. Every incident event is one of these bodies, written by
//! [`encode`] and read back by [`decode`] strictly: a body of an unknown kind, a missing or
//! misspelt field, a value of the wrong type, or a version this custody does not know is an error
//! that names the event, never a zero or an empty string in a report (UK/EU GDPR Art. 33(5):
//! the documentation of a breach must be what was recorded).
//!
//! A body is stored as JSON with its kind beside it; `v` in the body is its version (absent in
//! what the release before typed events wrote, which is version 1 too).

use custody_core::{EventId, IncidentId};
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use custody_core::Instant;
use custody_store::IncidentEvent;

use crate::breach::impact::{Assessment, ImpactFigures};
use crate::breach::incidents::{Act, EntryKind, StatementView};
use crate::dir::Ledger;
use crate::error::{Error, Result};
use crate::leaks::leak_evidence::Confirmed;
use crate::leaks::leak_rank::{CanaryFound, SupplierFit};

/// The version of the bodies this custody writes.
pub const EVENT_VERSION: u64 = 1;

/// A timeline entry a user added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Note, decision, contact or update.
    pub entry: EntryKind,
    /// What it says.
    pub text: String,
    /// The reasons, for a decision.
    pub reason: Option<String>,
    /// The other party, for a contact.
    pub with: Option<String>,
}

/// An act that stops a clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActDone {
    /// Which.
    pub act: Act,
    /// The regulator's reference, or how people were told.
    pub reference: Option<String>,
    /// The reasons a report was late (Art. 33(1)).
    pub delay_reason: Option<String>,
    /// For a decision not to tell people: the Art. 34(3) ground.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ground: Option<crate::breach::incidents::Ground>,
    /// For a decision not to notify: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For an obligation met: which, as `JURISDICTION:obligation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub obligation: Option<String>,
}

/// The impact computed from the ledger, recorded when it changed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImpactRecorded {
    /// The figures.
    pub figures: ImpactFigures,
    /// What changed since the last, in words.
    pub changes: Vec<String>,
    /// The window the figures are for.
    pub window_from: Instant,
    /// The window the figures are for.
    pub window_to: Instant,
    /// What leak evidence confirmed then.
    pub confirmed: Option<Confirmed>,
}

/// A leaked file matched against the ledger and recorded on the incident.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// The file's name (cleaned).
    pub file: String,
    /// SHA-256 of the file as read.
    pub sha256: String,
    /// Its size.
    pub bytes: u64,
    /// How it was read.
    pub format: custody_ingest::leak::DetectedFormat,
    /// Rows read.
    pub rows: u64,
    /// Rows that matched someone.
    pub rows_matched: u64,
    /// People matched (canaries excluded).
    pub matched: u64,
    /// Of those, held by the supplier during the window.
    pub held_by_supplier: u64,
    /// Of those, not held by it.
    pub not_held_by_supplier: u64,
    /// People matched by each identifier.
    pub by_identifier: BTreeMap<String, u64>,
    /// Data categories the file holds.
    pub categories: Vec<String>,
    /// Of those, categories the supplier never received.
    pub categories_not_held_by_supplier: Vec<String>,
    /// Canaries found.
    pub canaries: Vec<CanaryFound>,
    /// The suppliers whose holdings explain it best.
    pub suppliers: Vec<SupplierFit>,
    /// People fuzzy linkage found only probably: not part of the evidence until a responder
    /// confirms them (`confirm` events).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub probable: Vec<ProbableLink>,
}

/// A person a leaked file probably holds, waiting for a responder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbableLink {
    /// Our reference.
    pub reference: String,
    /// The match probability.
    pub probability: f64,
    /// The fields that agreed (`first_name+last_name+postcode`).
    pub agreed: String,
    /// The line of the file.
    pub line: u64,
}

/// Probable links a responder confirmed as the same people: they join the evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinksConfirmed {
    /// The evidence event whose probable links these are.
    pub evidence: EventId,
    /// The references confirmed.
    pub references: Vec<String>,
    /// Why (what the responder checked).
    pub reason: String,
}

/// A notification run's start or end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case", deny_unknown_fields)]
pub enum NotifyRun {
    /// Queued and started.
    Start {
        /// Who was asked for (`affected`, `all-current`, a file).
        audience: String,
        /// People in it.
        people: u64,
        /// Messages queued for them.
        messages: u64,
        /// Of those, new.
        added: u64,
        /// Messages given more people.
        extended: u64,
        /// People without an address, for a letter.
        letters: u64,
    },
    /// Ended, with its counts, or stopped by an error.
    End {
        /// The run (the id of its start event).
        run: EventId,
        /// Accepted by the mail server.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sent: Option<u64>,
        /// Refused for good.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        failed: Option<u64>,
        /// Still to send.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        waiting: Option<u64>,
        /// Why it stopped, when it did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
}

/// Every kind of incident event.
#[derive(Debug, Clone)]
pub enum IncidentEventBody {
    /// `entry`.
    Entry(Entry),
    /// `act`.
    Act(ActDone),
    /// `statement`.
    Statement(StatementView),
    /// `impact`.
    Impact(ImpactRecorded),
    /// `assessment`.
    Assessment(Assessment),
    /// `evidence`.
    Evidence(Box<Evidence>),
    /// `notify`.
    Notify(NotifyRun),
    /// `amend`: facts corrected as they were learned.
    Amend(crate::breach::incident_facts::Amended),
    /// `dismiss`: a flag dismissed with a reason.
    Dismiss(crate::breach::incident_facts::Dismissed),
    /// `answers`: what the regulator's form asks that the ledger cannot know.
    Answers(crate::breach::incident_facts::ReportAnswers),
    /// `people`: people an incident at the organisation itself affected.
    People(crate::breach::in_house::PeopleAffected),
    /// `confirm`: probable links of leak evidence confirmed by a responder.
    Confirm(LinksConfirmed),
    /// `question`: questions sent to the supplier, with a due instant.
    Question(crate::breach::questions::QuestionAsked),
}

impl IncidentEventBody {
    /// The kind it is stored under.
    pub fn kind(&self) -> &'static str {
        match self {
            IncidentEventBody::Entry(_) => "entry",
            IncidentEventBody::Act(_) => "act",
            IncidentEventBody::Statement(_) => "statement",
            IncidentEventBody::Impact(_) => "impact",
            IncidentEventBody::Assessment(_) => "assessment",
            IncidentEventBody::Evidence(_) => "evidence",
            IncidentEventBody::Notify(_) => "notify",
            IncidentEventBody::Amend(_) => "amend",
            IncidentEventBody::Dismiss(_) => "dismiss",
            IncidentEventBody::Answers(_) => "answers",
            IncidentEventBody::People(_) => "people",
            IncidentEventBody::Confirm(_) => "confirm",
            IncidentEventBody::Question(_) => "question",
        }
    }
}

/// The stored form of a body: its kind and its JSON, with the version.
pub fn encode(body: &IncidentEventBody) -> Result<(&'static str, serde_json::Value)> {
    let value = match body {
        IncidentEventBody::Entry(entry) => serde_json::to_value(entry),
        IncidentEventBody::Act(act) => serde_json::to_value(act),
        IncidentEventBody::Statement(statement) => serde_json::to_value(statement),
        IncidentEventBody::Impact(impact) => serde_json::to_value(impact),
        IncidentEventBody::Assessment(assessment) => serde_json::to_value(assessment),
        IncidentEventBody::Evidence(evidence) => serde_json::to_value(evidence),
        IncidentEventBody::Notify(run) => serde_json::to_value(run),
        IncidentEventBody::Amend(amended) => serde_json::to_value(amended),
        IncidentEventBody::Dismiss(dismissed) => serde_json::to_value(dismissed),
        IncidentEventBody::Answers(answers) => serde_json::to_value(answers),
        IncidentEventBody::People(affected) => serde_json::to_value(affected),
        IncidentEventBody::Confirm(confirmed) => serde_json::to_value(confirmed),
        IncidentEventBody::Question(asked) => serde_json::to_value(asked),
    }
    .map_err(|error| Error::Invalid(format!("a {} event could not be written: {error}", body.kind())))?;
    Ok((body.kind(), versioned(value)))
}

/// A body with the version this custody writes.
pub(crate) fn versioned(mut value: serde_json::Value) -> serde_json::Value {
    if let serde_json::Value::Object(fields) = &mut value {
        fields.insert("v".to_owned(), serde_json::Value::from(EVENT_VERSION));
    }
    value
}

/// A stored body without its version, or why it cannot be read: a version other than this
/// custody's was written by a newer one (absent is version 1, as the release before wrote).
pub(crate) fn unversioned(body: &serde_json::Value) -> std::result::Result<serde_json::Value, String> {
    let mut body = body.clone();
    if let serde_json::Value::Object(fields) = &mut body
        && let Some(version) = fields.remove("v")
        && version.as_u64() != Some(EVENT_VERSION)
    {
        return Err(format!(
            "version {version} was written by a newer custody; this one reads version {EVENT_VERSION}"
        ));
    }
    Ok(body)
}

/// Reads a typed body, the error in words.
pub(crate) fn read<T: serde::de::DeserializeOwned>(
    body: serde_json::Value,
) -> std::result::Result<T, String> {
    serde_json::from_value(body).map_err(|error| error.to_string())
}

/// Reads an event's body strictly.
pub fn decode(event: &IncidentEvent) -> Result<IncidentEventBody> {
    let bad = |problem: String| {
        Error::Store(custody_store::Error::Corrupt(format!(
            "incident event {} ({}): {problem}",
            event.id, event.kind
        )))
    };
    let body = unversioned(&event.body).map_err(bad)?;
    let decoded = match event.kind.as_str() {
        "entry" => read(body).map(IncidentEventBody::Entry),
        "act" => read(body).map(IncidentEventBody::Act),
        "statement" => read(body).map(IncidentEventBody::Statement),
        "impact" => read(body).map(IncidentEventBody::Impact),
        "assessment" => read(body).map(IncidentEventBody::Assessment),
        "evidence" => read(body).map(|evidence| IncidentEventBody::Evidence(Box::new(evidence))),
        "notify" => read(body).map(IncidentEventBody::Notify),
        "amend" => read(body).map(IncidentEventBody::Amend),
        "dismiss" => read(body).map(IncidentEventBody::Dismiss),
        "answers" => read(body).map(IncidentEventBody::Answers),
        "people" => read(body).map(IncidentEventBody::People),
        "confirm" => read(body).map(IncidentEventBody::Confirm),
        "question" => read(body).map(IncidentEventBody::Question),
        other => Err(format!(
            "{other:?} is not a kind of incident event this custody knows"
        )),
    };
    decoded.map_err(bad)
}

/// An event as recorded, with its body read.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The event: id, kind, instants, actor, stored body.
    pub event: IncidentEvent,
    /// Its body, typed.
    pub body: IncidentEventBody,
}

/// Every event of an incident in recording order, each read strictly: one that does not read
/// fails the whole, naming it.
pub fn log(ledger: &Ledger, id: IncidentId) -> Result<Vec<Recorded>> {
    ledger
        .store
        .incident_events(id)?
        .into_iter()
        .map(|event| decode(&event).map(|body| Recorded { event, body }))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn event(id: i64, kind: &str, body: serde_json::Value) -> IncidentEvent {
        let at = Instant::from_unix_seconds(1_635_528_600).unwrap();
        IncidentEvent {
            id: EventId::new(id),
            kind: kind.to_owned(),
            at,
            recorded_at: at,
            actor: "cli:dpo".to_owned(),
            body,
        }
    }

    #[test]
    fn what_is_written_reads_back_as_written() {
        let entry = IncidentEventBody::Entry(Entry {
            entry: EntryKind::Contact,
            text: "Reported to the police".into(),
            reason: None,
            with: Some("police".into()),
        });
        let (kind, body) = encode(&entry).unwrap();
        assert_eq!(body["v"], 1);
        let IncidentEventBody::Entry(read) = decode(&event(1, kind, body)).unwrap() else {
            panic!("not an entry");
        };
        assert_eq!(read.with.as_deref(), Some("police"));
        let run = IncidentEventBody::Notify(NotifyRun::End {
            run: EventId::new(4),
            sent: Some(3),
            failed: Some(0),
            waiting: Some(0),
            error: None,
        });
        let (kind, body) = encode(&run).unwrap();
        assert!(matches!(
            decode(&event(2, kind, body)).unwrap(),
            IncidentEventBody::Notify(NotifyRun::End { sent: Some(3), .. })
        ));
    }

    #[test]
    fn a_misspelt_unknown_or_newer_event_is_an_error_that_names_it() {
        let cases = [
            (
                event(7, "entry", serde_json::json!({ "entry": "note", "txet": "typo" })),
                "incident event 7 (entry)",
            ),
            (
                event(
                    8,
                    "act",
                    serde_json::json!({ "act": "regulator_told", "reference": null, "delay_reason": null }),
                ),
                "incident event 8 (act)",
            ),
            (
                event(9, "rumour", serde_json::json!({})),
                "not a kind of incident event",
            ),
            (
                event(
                    10,
                    "entry",
                    serde_json::json!({ "v": 2, "entry": "note", "text": "x", "reason": null, "with": null }),
                ),
                "newer custody",
            ),
        ];
        for (bad, expected) in cases {
            let error = decode(&bad).unwrap_err().to_string();
            assert!(error.contains(expected), "{error}");
        }
    }
}
