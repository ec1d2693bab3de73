//! A request's record, typed, as for incidents (`incident_events`): each event body is one of
//! these, written by [`encode`] and read by [`decode`] strictly, so a request's state is never
//! derived from a misspelt field read as zero.

use custody_core::{ShareId, SupplierId};
use serde::{Deserialize, Serialize};

use custody_core::{Instant, PauseReason};
use custody_store::RequestEvent;

use crate::breach::incident_events::{read, unversioned, versioned};
use crate::error::{Error, Result};
use crate::rights::request_acts::Outcome;

/// The requester was identified as a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identify {
    /// The person's internal id.
    pub person_id: u32,
    /// Their reference.
    pub person: String,
    /// When their identity was confirmed, if the clock waited for it (Unix seconds).
    pub identity_confirmed_at: Option<i64>,
}

/// The deadline was extended (Art. 12(3)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Extend {
    /// Months added.
    pub months: u8,
    /// Why (told to the requester).
    pub reason: String,
}

/// What a supplier is told to do with the person's data (UK GDPR Art. 19, 21(3)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Erase it (Art. 17).
    #[default]
    Erase,
    /// Correct it (Art. 16).
    Rectify,
    /// Restrict its processing (Art. 18).
    Restrict,
    /// Stop using it for direct marketing (Art. 21(3)).
    StopMarketing,
}

impl Action {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Erase => "erase",
            Action::Rectify => "rectify",
            Action::Restrict => "restrict",
            Action::StopMarketing => "stop_marketing",
        }
    }

    /// In words, after "instructed to".
    pub fn words(self) -> &'static str {
        match self {
            Action::Erase => "erase the data",
            Action::Rectify => "correct the data",
            Action::Restrict => "restrict processing",
            Action::StopMarketing => "stop direct marketing",
        }
    }
}

/// The clock was paused, waiting for the requester (UK GDPR Art. 12A).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pause {
    /// Clarification, fee or identity.
    pub reason: PauseReason,
    /// What was asked, in the responder's words.
    pub note: Option<String>,
}

/// The requester answered: the clarification, the fee or the identity information arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resume {
    /// What arrived, in the responder's words.
    pub note: Option<String>,
}

/// A supplier kept out of an erasure, with the Art. 17(3) ground.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kept {
    /// The supplier's id.
    pub supplier_id: SupplierId,
    /// Its name.
    pub supplier: String,
    /// The ground's stable name.
    pub ground: String,
    /// Why, for the requester.
    pub reason: String,
}

/// A responder's decision on an erasure request after review (Art. 17(1) and 17(3)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decide {
    /// `erase`, `partial` or `refuse`.
    pub decision: String,
    /// For a refusal: the ground's stable name.
    pub ground: Option<String>,
    /// For a refusal: why, for the requester.
    pub reason: Option<String>,
    /// The Art. 17(1) ground the erasure rests on, when given.
    pub basis: Option<String>,
    /// Suppliers kept out, each with its ground.
    pub kept: Vec<Kept>,
}

/// A supplier holding the person's data was told what to do with it (Art. 19).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instruct {
    /// The supplier's id.
    pub supplier_id: SupplierId,
    /// Its name.
    pub supplier: String,
    /// The shares that gave it the data.
    pub shares: Vec<ShareId>,
    /// The person's reference.
    pub person: String,
    /// What it was told to do (erase when absent: the first rights desk only erased).
    #[serde(default)]
    pub action: Action,
}

/// A supplier confirmed it did what it was told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Confirm {
    /// The supplier's id.
    pub supplier_id: SupplierId,
    /// Its name.
    pub supplier: String,
    /// Until when its backups still hold the data.
    pub backups_until: Option<Instant>,
    /// What the supplier said with it (confirmed at the desk by its own account).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// custody's answer to an access request was produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    /// `md` or `json`.
    pub format: String,
    /// SHA-256 of the answer.
    pub sha256: String,
}

/// The request was closed by hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Close {
    /// Done, refused or withdrawn.
    pub outcome: Outcome,
    /// Why.
    pub reason: String,
}

/// Every kind of request event.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestEventBody {
    /// `identify`.
    Identify(Identify),
    /// `extend`.
    Extend(Extend),
    /// `instruct`.
    Instruct(Instruct),
    /// `confirm`.
    Confirm(Confirm),
    /// `answer`.
    Answer(Answer),
    /// `close`.
    Close(Close),
    /// `pause`.
    Pause(Pause),
    /// `resume`.
    Resume(Resume),
    /// `decide`.
    Decide(Decide),
    /// `suggest`: people the request probably came from, offered when its address matched
    /// nobody (never linked until a responder identifies one).
    Suggest(Suggestions),
}

/// People a request probably came from, by name with postcode or date of birth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suggestions {
    /// Best first.
    pub people: Vec<crate::rights::request_linkage::Suggested>,
}

impl RequestEventBody {
    /// The kind it is stored under.
    pub fn kind(&self) -> &'static str {
        match self {
            RequestEventBody::Identify(_) => "identify",
            RequestEventBody::Extend(_) => "extend",
            RequestEventBody::Instruct(_) => "instruct",
            RequestEventBody::Confirm(_) => "confirm",
            RequestEventBody::Answer(_) => "answer",
            RequestEventBody::Close(_) => "close",
            RequestEventBody::Pause(_) => "pause",
            RequestEventBody::Resume(_) => "resume",
            RequestEventBody::Decide(_) => "decide",
            RequestEventBody::Suggest(_) => "suggest",
        }
    }
}

/// The stored form of a body: its kind and its JSON, with the version.
pub fn encode(body: &RequestEventBody) -> Result<(&'static str, serde_json::Value)> {
    let value = match body {
        RequestEventBody::Identify(identify) => serde_json::to_value(identify),
        RequestEventBody::Extend(extend) => serde_json::to_value(extend),
        RequestEventBody::Instruct(instruct) => serde_json::to_value(instruct),
        RequestEventBody::Confirm(confirm) => serde_json::to_value(confirm),
        RequestEventBody::Answer(answer) => serde_json::to_value(answer),
        RequestEventBody::Close(close) => serde_json::to_value(close),
        RequestEventBody::Pause(pause) => serde_json::to_value(pause),
        RequestEventBody::Resume(resume) => serde_json::to_value(resume),
        RequestEventBody::Decide(decide) => serde_json::to_value(decide),
        RequestEventBody::Suggest(suggestions) => serde_json::to_value(suggestions),
    };
    let value = value
        .map_err(|error| Error::Invalid(format!("a {} event could not be written: {error}", body.kind())))?;
    Ok((body.kind(), versioned(value)))
}

/// Reads a request event's body strictly.
pub fn decode(event: &RequestEvent) -> Result<RequestEventBody> {
    let bad = |problem: String| {
        Error::Store(custody_store::Error::Corrupt(format!(
            "request event {} ({}): {problem}",
            event.id, event.kind
        )))
    };
    let body = unversioned(&event.body).map_err(bad)?;
    let decoded = match event.kind.as_str() {
        "identify" => read(body).map(RequestEventBody::Identify),
        "extend" => read(body).map(RequestEventBody::Extend),
        "instruct" => read(body).map(RequestEventBody::Instruct),
        "confirm" => read(body).map(RequestEventBody::Confirm),
        "answer" => read(body).map(RequestEventBody::Answer),
        "close" => read(body).map(RequestEventBody::Close),
        "pause" => read(body).map(RequestEventBody::Pause),
        "resume" => read(body).map(RequestEventBody::Resume),
        "decide" => read(body).map(RequestEventBody::Decide),
        "suggest" => read(body).map(RequestEventBody::Suggest),
        other => Err(format!(
            "{other:?} is not a kind of request event this custody knows"
        )),
    };
    decoded.map_err(bad)
}

/// Every event of a request with its body read strictly.
pub fn decode_all(events: &[RequestEvent]) -> Result<Vec<(&RequestEvent, RequestEventBody)>> {
    events
        .iter()
        .map(|event| decode(event).map(|body| (event, body)))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn request_events_read_strictly() {
        let at = Instant::from_unix_seconds(1_635_528_600).unwrap();
        let event = |kind: &str, body: serde_json::Value| RequestEvent {
            id: custody_core::EventId::new(3),
            kind: kind.to_owned(),
            at,
            recorded_at: at,
            actor: "cli:dpo".to_owned(),
            body,
        };
        let close = RequestEventBody::Close(Close {
            outcome: Outcome::Refused,
            reason: "No grounds".into(),
        });
        let (kind, body) = encode(&close).unwrap();
        assert_eq!(decode(&event(kind, body)).unwrap(), close);
        // The old bug this replaces: a misspelt month count read as zero months.
        let error = decode(&event("extend", serde_json::json!({ "monts": 1, "reason": "x" })))
            .unwrap_err()
            .to_string();
        assert!(error.contains("request event 3 (extend)"), "{error}");
    }
}
