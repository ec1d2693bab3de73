//! Requests for output: the queue (overdue first) and one request in full.

use serde::Serialize;

use custody_core::{Instant, RequestClockState};
use custody_store::{RequestEvent, RequestRecord, Store};

use crate::dir::Ledger;
use crate::error::Result;
use crate::request_acts::{Derived, clock_of};
use crate::request_events::{Confirm, RequestEventBody};
use crate::requests::find_request;

/// One line of the queue.
#[derive(Debug, Clone, Serialize)]
pub struct RequestSummary {
    /// Id.
    pub request: i64,
    /// Kind.
    pub kind: &'static str,
    /// The person's reference, once known.
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    /// Received (UTC).
    pub received_at: String,
    /// Last day to answer (organisation's time zone).
    pub due: String,
    /// Days left (negative: overdue by).
    pub days_left: i64,
    /// `open`, `overdue`, `met` or `late`.
    pub clock: &'static str,
    /// What is happening: `awaiting_identity`, `open`, `answer_produced` (custody's part of an
    /// access answer; the clock runs until it is sent and the request closed),
    /// `awaiting_suppliers`, `no_supplier_holds`, `completed`, `done`, `refused`, `withdrawn`.
    pub state: String,
    /// Months of extension.
    pub extension_months: u8,
}

/// An instruction to a supplier to erase.
#[derive(Debug, Clone, Serialize)]
pub struct InstructionView {
    /// Supplier.
    pub supplier: String,
    /// `instructed` or `confirmed`.
    pub state: &'static str,
    /// When the instruction was recorded.
    pub instructed_at: String,
    /// When the supplier erased the data.
    pub deleted_at: Option<String>,
}

/// An event of a request, for reading.
#[derive(Debug, Clone, Serialize)]
pub struct RequestEntry {
    /// When it happened (UTC).
    pub at: String,
    /// When it happened, local.
    pub at_local: String,
    /// Kind.
    pub kind: String,
    /// Who recorded it.
    pub actor: String,
    /// In words.
    pub text: String,
}

/// One request in full.
#[derive(Debug, Clone, Serialize)]
pub struct RequestView {
    /// The queue line.
    #[serde(flatten)]
    pub summary: RequestSummary,
    /// How it arrived.
    pub channel: Option<&'static str>,
    /// Whether an address to reply to is held (sealed; `--reveal-requester` opens it).
    pub requester_held: bool,
    /// Received, local.
    pub received_local: String,
    /// Where it came from when imported.
    pub source: Option<String>,
    /// Erasure instructions to suppliers.
    pub instructions: Vec<InstructionView>,
    /// Everything that happened, in order.
    pub events: Vec<RequestEntry>,
}

fn state(record: &RequestRecord, derived: &Derived) -> String {
    if let Some((outcome, _)) = &derived.closed {
        return outcome.clone();
    }
    if derived.person.is_none() {
        return "awaiting_identity".to_owned();
    }
    match record.facts.kind {
        custody_core::RequestKind::Access if derived.answered_at.is_some() => "answer_produced".to_owned(),
        custody_core::RequestKind::Erasure if derived.done_at(record).is_some() => "completed".to_owned(),
        custody_core::RequestKind::Erasure if derived.instructions.is_empty() => {
            "no_supplier_holds".to_owned()
        }
        custody_core::RequestKind::Erasure => "awaiting_suppliers".to_owned(),
        _ => "open".to_owned(),
    }
}

fn summary(ledger: &Ledger, record: &RequestRecord, events: &[RequestEvent]) -> Result<RequestSummary> {
    let derived = Derived::of(record, events)?;
    let (due, clock, days_left) = clock_of(ledger, record, &derived)?;
    let reference = match derived.person {
        Some(id) => ledger.store.person(id)?.map(|person| person.reference),
        None => None,
    };
    Ok(RequestSummary {
        request: record.id,
        kind: record.facts.kind.as_str(),
        reference,
        received_at: record.facts.received_at.to_rfc3339(),
        due: due.to_iso(),
        days_left,
        clock: clock.as_str(),
        state: state(record, &derived),
        extension_months: derived.extension,
    })
}

/// The queue: overdue first (most overdue first), then open by due day, then the done ones.
pub fn list(ledger: &Ledger, overdue_only: bool) -> Result<Vec<RequestSummary>> {
    let _snapshot = ledger.store.read_snapshot()?;
    let mut out = Vec::new();
    for record in ledger.store.requests()? {
        let events = ledger.store.request_events(record.id)?;
        let line = summary(ledger, &record, &events)?;
        if overdue_only && line.clock != RequestClockState::Overdue.as_str() {
            continue;
        }
        out.push(line);
    }
    let rank = |clock: &str| match clock {
        "overdue" => 0,
        "open" => 1,
        _ => 2,
    };
    out.sort_by(|a, b| {
        rank(a.clock)
            .cmp(&rank(b.clock))
            .then(a.due.cmp(&b.due))
            .then(a.request.cmp(&b.request))
    });
    Ok(out)
}

fn words(body: &RequestEventBody) -> String {
    match body {
        RequestEventBody::Identify(identify) => format!("identified as {}", identify.person),
        RequestEventBody::Confirm(Confirm {
            supplier,
            backups_until: Some(until),
            ..
        }) => format!(
            "{supplier} confirmed erasure; backups kept until {}",
            until.to_rfc3339()
        ),
        RequestEventBody::Confirm(confirm) => format!("{} confirmed erasure", confirm.supplier),
        RequestEventBody::Extend(extend) => {
            format!("extended by {} month(s): {}", extend.months, extend.reason)
        }
        RequestEventBody::Instruct(instruct) => format!(
            "{} instructed to erase (shares {:?})",
            instruct.supplier, instruct.shares
        ),
        RequestEventBody::Answer(answer) => {
            format!("answer produced ({}, SHA-256 {})", answer.format, answer.sha256)
        }
        RequestEventBody::Close(close) => {
            format!("closed as {}: {}", close.outcome.as_str(), close.reason)
        }
    }
}

fn local(ledger: &Ledger, at: Instant) -> String {
    at.local(&ledger.zone)
}

/// A request as the rights desk shows it, the look audited as `request.view` (a request is about
/// one person: looking at it is looking at them).
pub fn look(ledger: &mut Ledger, id: i64) -> Result<RequestView> {
    let view = show(ledger, id)?;
    ledger.audit_look("request.view", &format!("request:{id}"), serde_json::json!({}))?;
    Ok(view)
}

/// One request with its instructions and events (not audited: for use cases that audit what
/// they do with it, and for [`look`]).
pub fn show(ledger: &Ledger, id: i64) -> Result<RequestView> {
    let _snapshot = ledger.store.read_snapshot()?;
    let record = find_request(ledger, id)?;
    let events = ledger.store.request_events(id)?;
    let derived = Derived::of(&record, &events)?;
    Ok(RequestView {
        summary: summary(ledger, &record, &events)?,
        channel: record.facts.channel.map(custody_core::Channel::as_str),
        requester_held: record.facts.requester.is_some(),
        received_local: local(ledger, record.facts.received_at),
        source: record.facts.source.clone(),
        instructions: derived
            .instructions
            .iter()
            .map(|(_, supplier, instructed, confirmed)| InstructionView {
                supplier: supplier.clone(),
                state: if confirmed.is_some() {
                    "confirmed"
                } else {
                    "instructed"
                },
                instructed_at: instructed.to_rfc3339(),
                deleted_at: confirmed.map(Instant::to_rfc3339),
            })
            .collect(),
        events: crate::request_events::decode_all(&events)?
            .into_iter()
            .map(|(event, body)| RequestEntry {
                at: event.at.to_rfc3339(),
                at_local: local(ledger, event.at),
                kind: event.kind.clone(),
                actor: event.actor.clone(),
                text: words(&body),
            })
            .collect(),
    })
}
