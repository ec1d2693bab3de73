//! Requests for output: the queue (overdue first) and one request in full.

use custody_core::RequestId;
use serde::Serialize;

use custody_core::{Instant, RequestClockState};
use custody_store::{RequestEvent, RequestRecord};

use crate::dir::Ledger;
use crate::error::Result;
use crate::rights::holidays::BankHolidays;
use crate::rights::request_events::RequestEventBody;
use crate::rights::request_state::{Derived, clock_of};
use crate::rights::requests::find_request;

/// One line of the queue.
#[derive(Debug, Clone, Serialize)]
pub struct RequestSummary {
    /// Id.
    pub request: RequestId,
    /// Kind.
    pub kind: &'static str,
    /// The person's reference, once known.
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    /// Received (UTC).
    pub received_at: String,
    /// The legal deadline (organisation's time zone): the corresponding date a month (plus any
    /// extension and clarification days) from the relevant time, moved to a working day.
    pub due: String,
    /// The internal target (settings `request_target_days`), when set.
    pub target: Option<String>,
    /// Days left (negative: overdue by).
    pub days_left: i64,
    /// `open`, `overdue`, `met`, `late` or `paused`.
    pub clock: &'static str,
    /// What is happening: `awaiting_identity`, `awaiting_decision` (an erasure under review),
    /// `paused`, `open`, `answer_produced` (custody's part of an answer; the clock runs until it
    /// is sent and the request closed), `awaiting_suppliers`, `suppliers_confirmed`,
    /// `no_supplier_holds`, `completed`, `refused_on_review`, `done`, `refused`, `withdrawn`.
    pub state: String,
    /// Months of extension.
    pub extension_months: u8,
    /// Why the clock waits now: `clarification`, `fee` or `identity`.
    pub paused: Option<&'static str>,
    /// Days that do not count (clarification).
    pub paused_days: i64,
    /// A caution about the deadline (the bank holiday list ends before it).
    pub due_note: Option<String>,
}

/// An instruction to a supplier.
#[derive(Debug, Clone, Serialize)]
pub struct InstructionView {
    /// Supplier.
    pub supplier: String,
    /// `erase`, `rectify`, `restrict` or `stop_marketing`.
    pub action: &'static str,
    /// `instructed` or `confirmed`.
    pub state: &'static str,
    /// When the instruction was recorded.
    pub instructed_at: String,
    /// When the supplier confirmed it had done it (for an erasure, when it erased the data).
    pub deleted_at: Option<String>,
}

/// A pause of the clock.
#[derive(Debug, Clone, Serialize)]
pub struct PauseView {
    /// `clarification`, `fee` or `identity`.
    pub reason: &'static str,
    /// What it does to the clock.
    pub effect: &'static str,
    /// What was asked.
    pub note: Option<String>,
    /// Asked, local.
    pub from: String,
    /// Answered, local.
    pub to: Option<String>,
}

/// The decision on an erasure.
#[derive(Debug, Clone, Serialize)]
pub struct DecisionView {
    /// `erase`, `partial` or `refuse`.
    pub decision: String,
    /// Refusal ground and its article.
    pub ground: Option<String>,
    /// Why.
    pub reason: Option<String>,
    /// The Art. 17(1) ground for erasure.
    pub basis: Option<String>,
    /// Suppliers kept: (supplier, ground, reason).
    pub kept: Vec<(String, String, String)>,
    /// When, local.
    pub at: String,
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
    /// When it was recorded, local, when that was another day than `at` (a backdated entry).
    pub recorded_later: Option<String>,
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
    /// Instructions to suppliers.
    pub instructions: Vec<InstructionView>,
    /// Pauses of the clock.
    pub pauses: Vec<PauseView>,
    /// The decision on an erasure.
    pub decision: Option<DecisionView>,
    /// For an erasure awaiting decision: the suppliers erasing would instruct.
    pub would_instruct: Vec<String>,
    /// Where the bank holidays come from.
    pub bank_holidays: String,
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
    if derived.open_pause().is_some() {
        return "paused".to_owned();
    }
    if derived.awaiting_decision(record) {
        return "awaiting_decision".to_owned();
    }
    let refused = derived
        .decision
        .as_ref()
        .is_some_and(|(decide, _)| decide.decision == "refuse");
    let all_confirmed = derived.instructions.iter().all(|i| i.confirmed_at.is_some());
    match record.facts.kind {
        custody_core::RequestKind::Erasure if refused => "refused_on_review".to_owned(),
        custody_core::RequestKind::Erasure if derived.done_at(record).is_some() => "completed".to_owned(),
        _ if derived.answered_at.is_some() => "answer_produced".to_owned(),
        custody_core::RequestKind::Erasure if derived.instructions.is_empty() => {
            "no_supplier_holds".to_owned()
        }
        _ if !derived.instructions.is_empty() && !all_confirmed => "awaiting_suppliers".to_owned(),
        _ if !derived.instructions.is_empty() => "suppliers_confirmed".to_owned(),
        _ => "open".to_owned(),
    }
}

pub(crate) fn summary(
    ledger: &Ledger,
    record: &RequestRecord,
    events: &[RequestEvent],
    holidays: &BankHolidays,
) -> Result<RequestSummary> {
    let derived = Derived::of(record, events)?;
    let clock = clock_of(ledger, record, &derived, holidays)?;
    let reference = match derived.person {
        Some(id) => ledger.store.person(id)?.map(|person| person.reference),
        None => None,
    };
    Ok(RequestSummary {
        request: record.id,
        kind: record.facts.kind.as_str(),
        reference,
        received_at: record.facts.received_at.to_rfc3339(),
        due: clock.due.to_iso(),
        target: clock.target.map(custody_core::Day::to_iso),
        days_left: clock.days_left,
        clock: clock.state.as_str(),
        state: state(record, &derived),
        extension_months: derived.extension,
        paused: clock.paused.map(custody_core::PauseReason::as_str),
        paused_days: clock.paused_days,
        due_note: clock.holidays_note,
    })
}

/// The queue: overdue first (most overdue first), then open by due day, then the done ones.
pub fn list(ledger: &Ledger, overdue_only: bool) -> Result<Vec<RequestSummary>> {
    let _snapshot = ledger.store.read_snapshot()?;
    let holidays = crate::rights::holidays::for_ledger(ledger)?;
    let mut out = Vec::new();
    for record in ledger.store.requests()? {
        let events = ledger.store.request_events(record.id)?;
        let line = summary(ledger, &record, &events, &holidays)?;
        if overdue_only && line.clock != RequestClockState::Overdue.as_str() {
            continue;
        }
        out.push(line);
    }
    let rank = |clock: &str| match clock {
        "overdue" => 0,
        "open" => 1,
        "paused" => 2,
        _ => 3,
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
        RequestEventBody::Confirm(confirm) => format!(
            "{} confirmed{}{}",
            confirm.supplier,
            confirm
                .backups_until
                .map(|until| format!("; backups kept until {}", until.to_rfc3339()))
                .unwrap_or_default(),
            confirm
                .note
                .as_ref()
                .map(|note| format!(" ({note})"))
                .unwrap_or_default()
        ),
        RequestEventBody::Extend(extend) => {
            format!("extended by {} month(s): {}", extend.months, extend.reason)
        }
        RequestEventBody::Instruct(instruct) => format!(
            "{} instructed to {} (shares {:?})",
            instruct.supplier,
            instruct.action.words(),
            instruct.shares
        ),
        RequestEventBody::Pause(pause) => format!(
            "clock paused for {}{}",
            pause.reason.as_str(),
            pause
                .note
                .as_ref()
                .map(|note| format!(": {note}"))
                .unwrap_or_default()
        ),
        RequestEventBody::Resume(resume) => format!(
            "clock resumed{}",
            resume
                .note
                .as_ref()
                .map(|note| format!(": {note}"))
                .unwrap_or_default()
        ),
        RequestEventBody::Decide(decide) => match decide.decision.as_str() {
            "refuse" => format!(
                "erasure refused on ground {}: {}",
                decide.ground.as_deref().unwrap_or("?"),
                decide.reason.as_deref().unwrap_or("")
            ),
            "partial" => format!(
                "erasure decided, keeping {}",
                decide
                    .kept
                    .iter()
                    .map(|k| format!("{} ({})", k.supplier, k.ground))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => "erasure decided at every holder".to_owned(),
        },
        RequestEventBody::Suggest(suggestions) => format!(
            "no person has the address; probably {} (confirm with `request identify --person`)",
            suggestions
                .people
                .iter()
                .map(|found| format!("{} ({:.3}: {})", found.reference, found.probability, found.agreed))
                .collect::<Vec<_>>()
                .join(", ")
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
pub fn look(ledger: &mut Ledger, id: RequestId) -> Result<RequestView> {
    let view = show(ledger, id)?;
    ledger.audit_look("request.view", &format!("request:{id}"), serde_json::json!({}))?;
    Ok(view)
}

/// One request with its instructions and events (not audited: for use cases that audit what
/// they do with it, and for [`look`]).
pub fn show(ledger: &Ledger, id: RequestId) -> Result<RequestView> {
    let _snapshot = ledger.store.read_snapshot()?;
    let record = find_request(ledger, id)?;
    let events = ledger.store.request_events(id)?;
    let derived = Derived::of(&record, &events)?;
    let holidays = crate::rights::holidays::for_ledger(ledger)?;
    let would_instruct = match (derived.awaiting_decision(&record), derived.person) {
        (true, Some(person)) => match ledger.store.person(person)? {
            Some(person) => crate::rights::requests::holders(ledger, &person, ledger.now())?
                .into_iter()
                .map(|holder| holder.supplier)
                .collect(),
            None => Vec::new(),
        },
        _ => Vec::new(),
    };
    Ok(RequestView {
        summary: summary(ledger, &record, &events, &holidays)?,
        channel: record.facts.channel.map(custody_core::Channel::as_str),
        requester_held: record.facts.requester.is_some(),
        received_local: local(ledger, record.facts.received_at),
        source: record.facts.source.clone(),
        instructions: derived
            .instructions
            .iter()
            .map(|instruction| InstructionView {
                supplier: instruction.supplier.clone(),
                action: instruction.action.as_str(),
                state: if instruction.confirmed_at.is_some() {
                    "confirmed"
                } else {
                    "instructed"
                },
                instructed_at: instruction.instructed_at.to_rfc3339(),
                deleted_at: instruction.confirmed_at.map(Instant::to_rfc3339),
            })
            .collect(),
        pauses: derived
            .pauses
            .iter()
            .map(|pause| PauseView {
                reason: pause.reason.as_str(),
                effect: pause.reason.effect(),
                note: pause.note.clone(),
                from: local(ledger, pause.from),
                to: pause.to.map(|to| local(ledger, to)),
            })
            .collect(),
        decision: derived.decision.as_ref().map(|(decide, at)| DecisionView {
            decision: decide.decision.clone(),
            ground: decide.ground.clone(),
            reason: decide.reason.clone(),
            basis: decide.basis.clone(),
            kept: decide
                .kept
                .iter()
                .map(|kept| (kept.supplier.clone(), kept.ground.clone(), kept.reason.clone()))
                .collect(),
            at: local(ledger, *at),
        }),
        would_instruct,
        bank_holidays: format!("{} ({})", holidays.division, holidays.source),
        events: crate::rights::request_events::decode_all(&events)?
            .into_iter()
            .map(|(event, body)| RequestEntry {
                at: event.at.to_rfc3339(),
                at_local: local(ledger, event.at),
                kind: event.kind.clone(),
                actor: event.actor.clone(),
                text: words(&body),
                recorded_later: (event.recorded_at.local_day(&ledger.zone)
                    != event.at.local_day(&ledger.zone))
                .then(|| local(ledger, event.recorded_at)),
            })
            .collect(),
    })
}
