//! What happens to a request after it is recorded, each an append-only event: the requester
//! identified, the period extended, suppliers' erasures confirmed, custody's answer produced,
//! the request closed. Its state and clock are derived from those events.

use custody_core::RequestId;
use custody_core::{Instant, MAX_EXTENSION_MONTHS, request_deadline};
use custody_store::{Erasure, NewRequestEvent, RequestRecord};

use crate::dir::{Ledger, signer_for};
use crate::error::{Error, Result};
use crate::rights::request_events::{Action, Answer, Close, Confirm, Extend, Identify, RequestEventBody};
pub use crate::rights::request_state::Derived;
use crate::rights::requests::{Match, Requester, find_request, instructions_on_open, match_requester};

/// Associated data that binds a sealed requester address to its purpose.
pub(crate) const REQUESTER_AAD: &[u8] = b"custody request requester";

/// An event to append, by the current actor.
pub(crate) fn event(ledger: &Ledger, at: Instant, typed: &RequestEventBody) -> Result<NewRequestEvent> {
    let (kind, body) = crate::rights::request_events::encode(typed)?;
    Ok(NewRequestEvent {
        kind: kind.to_owned(),
        at,
        actor: ledger.actor.clone(),
        recorded_at: ledger.now(),
        body,
    })
}

/// Appends events to a request (with the erasure they confirm) in one transaction, audited.
pub(crate) fn append(
    ledger: &mut Ledger,
    request: RequestId,
    events: Vec<NewRequestEvent>,
    erasure: Option<Erasure>,
) -> Result<()> {
    for event in &events {
        crate::limits::event_body(&event.kind, &event.body)?;
    }
    let action = events.first().map_or("event", |event| event.kind.as_str());
    let bodies: Vec<_> = events
        .iter()
        .map(|event| serde_json::json!({ "kind": event.kind, "at": event.at, "body": event.body }))
        .collect();
    let draft = ledger.draft(
        &format!("request.{action}"),
        "request",
        serde_json::json!({ "events": bodies }),
    );
    ledger.store.append_request_events(
        request,
        events,
        erasure,
        draft,
        &signer_for(&ledger.vault, &ledger.dir),
    )?;
    ledger.anchor_audit()
}

pub(crate) fn derived(ledger: &Ledger, id: RequestId) -> Result<(RequestRecord, Derived)> {
    let record = find_request(ledger, id)?;
    let derived = Derived::of(&record, &ledger.store.request_events(id)?)?;
    Ok((record, derived))
}

/// Links a request from an unknown requester to a person once their identity is checked (the
/// clock then runs from `identity_confirmed_at` when given, UK GDPR Art. 12A); the suppliers
/// the request reaches are instructed in the same transaction (an erasure under review waits
/// for the decision).
pub fn identify(
    ledger: &mut Ledger,
    id: RequestId,
    reference: &str,
    identity_confirmed_at: Option<Instant>,
) -> Result<Vec<String>> {
    let (record, state) = derived(ledger, id)?;
    if state.closed.is_some() {
        return Err(Error::Invalid(format!("request {id} is closed")));
    }
    if state.person.is_some() {
        return Err(Error::Invalid(format!(
            "request {id} is linked to a person already"
        )));
    }
    if let Some(at) = identity_confirmed_at
        && (at > ledger.now() || at < record.facts.received_at)
    {
        return Err(Error::Invalid(
            "--identity-confirmed-at must be between the request's receipt and now".to_owned(),
        ));
    }
    let requester = Requester {
        reference: Some(reference.to_owned()),
        email: None,
        described: Default::default(),
    };
    let Match::Person(person) = match_requester(ledger, &requester)? else {
        return Err(Error::NotFound(format!(
            "there is no person with the reference {reference:?}"
        )));
    };
    let identify = RequestEventBody::Identify(Identify {
        person_id: person.id,
        person: person.reference.clone(),
        identity_confirmed_at: identity_confirmed_at.map(Instant::unix_seconds),
    });
    let mut events = vec![event(ledger, ledger.now(), &identify)?];
    // Identity information asked for with a pause has arrived: the pause ends there.
    if let Some(pause) = state
        .open_pause()
        .filter(|pause| pause.reason == custody_core::PauseReason::Identity)
    {
        // Never before the pause began: a pause does not run backwards.
        let at = identity_confirmed_at
            .unwrap_or_else(|| ledger.now())
            .max(pause.from);
        let resume = RequestEventBody::Resume(crate::rights::request_events::Resume {
            note: Some("identity confirmed".to_owned()),
        });
        events.push(event(ledger, at, &resume)?);
    }
    let (instructed, names) = instructions_on_open(ledger, record.facts.kind, &person)?;
    let before = crate::notices::instruction_mail::count(ledger, id)?;
    events.extend(instructed);
    append(ledger, id, events, None)?;
    if !names.is_empty() {
        crate::notices::instruction_mail::queue_recorded(ledger, &[(id, before)])?;
    }
    Ok(names)
}

/// Extends the period by one or two months (two at most in all), with the reason given to the
/// requester. Art. 12(3) requires the requester to be told within the first month, so an
/// extension after the original due day is refused.
pub fn extend(ledger: &mut Ledger, id: RequestId, months: u8, reason: &str) -> Result<String> {
    let (record, state) = derived(ledger, id)?;
    if reason.trim().is_empty() {
        return Err(Error::Invalid(
            "--reason must say why the request needs longer".to_owned(),
        ));
    }
    if months == 0 || state.extension.saturating_add(months) > MAX_EXTENSION_MONTHS {
        return Err(Error::Invalid(format!(
            "request {id} may be extended by {} more month(s) at most (two in all, Art. 12(3))",
            MAX_EXTENSION_MONTHS.saturating_sub(state.extension)
        )));
    }
    if state.done_at(&record).is_some() {
        return Err(Error::Invalid(format!(
            "request {id} is done; there is nothing to extend"
        )));
    }
    if let Some(pause) = state.open_pause() {
        return Err(Error::Invalid(format!(
            "request {id} is paused (waiting for {}); resume it first",
            pause.reason.as_str()
        )));
    }
    let holidays = crate::rights::holidays::for_ledger(ledger)?;
    let clock = crate::rights::request_state::clock_of(ledger, &record, &state, &holidays)?;
    let start = state.clock_start(&record).local_day(&ledger.zone);
    let first_due = request_deadline(start, 0, clock.paused_days, &holidays.days)?;
    if ledger.now().local_day(&ledger.zone) > first_due {
        return Err(Error::Invalid(format!(
            "request {id} was due on {first_due}; an extension must be decided and the requester told \
             within the first month (Art. 12(3))"
        )));
    }
    let body = RequestEventBody::Extend(Extend {
        months,
        reason: reason.trim().to_owned(),
    });
    append(ledger, id, vec![event(ledger, ledger.now(), &body)?], None)?;
    Ok(request_deadline(
        start,
        state.extension.saturating_add(months),
        clock.paused_days,
        &holidays.days,
    )?
    .to_iso())
}

/// Records a supplier's confirmation that it did what it was told at `at`. For an erasure (with
/// backups kept until `backups_until`) the person's recipients show that supplier's deletion
/// from then on, and its holdings no longer count the person under the shares it had by then.
pub fn confirm(
    ledger: &mut Ledger,
    id: RequestId,
    supplier: &str,
    at: Instant,
    backups_until: Option<Instant>,
    note: Option<String>,
) -> Result<bool> {
    if let Some(note) = &note {
        crate::limits::short_text("note", note)?;
    }
    let (record, state) = derived(ledger, id)?;
    // A request closed as done (the organisation's own part finished) still takes its
    // suppliers' confirmations; one refused or withdrawn instructs nobody any more.
    if let Some((outcome, _)) = &state.closed
        && outcome != Outcome::Done.as_str()
    {
        return Err(Error::Invalid(format!("request {id} was closed as {outcome}")));
    }
    let supplier = crate::ledger::suppliers::find(ledger, supplier)?;
    let (Some(person), Some(instruction)) = (
        state.person,
        state.instructions.iter().find(|i| i.supplier_id == supplier.id),
    ) else {
        return Err(Error::Invalid(format!(
            "{} was not instructed for request {id}; `custody request show {id}` lists who was",
            supplier.name
        )));
    };
    if instruction.confirmed_at.is_some() {
        return Err(Error::Invalid(format!(
            "{} confirmed this instruction already",
            supplier.name
        )));
    }

    if backups_until.is_some() && instruction.action != Action::Erase {
        return Err(Error::Invalid("--backups-until is for erasures only".to_owned()));
    }
    if at > ledger.now() || at < record.facts.received_at {
        return Err(Error::Invalid(format!(
            "--at {} must be between the request's receipt and now",
            at.local(&ledger.zone)
        )));
    }
    if backups_until.is_some_and(|until| until < at) {
        return Err(Error::Invalid("--backups-until is before --at".to_owned()));
    }
    let erasure = (instruction.action == Action::Erase).then_some(Erasure {
        supplier_id: supplier.id,
        person,
        request: id,
        deleted_at: at,
        backups_until,
    });
    let body = RequestEventBody::Confirm(Confirm {
        supplier_id: supplier.id,
        supplier: supplier.name.clone(),
        backups_until,
        note,
    });
    append(ledger, id, vec![event(ledger, at, &body)?], erasure)?;
    let (record, state) = derived(ledger, id)?;
    Ok(state.done_at(&record).is_some())
}

/// How a request was closed by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Done: the answer sent, the correction made, processing stopped, erased in-house.
    Done,
    /// Refused, with the reason given to the requester (Art. 12(4)).
    Refused,
    /// Withdrawn by the requester.
    Withdrawn,
}

impl Outcome {
    /// Parses `done`, `refused` or `withdrawn`.
    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "done" => Ok(Outcome::Done),
            "refused" => Ok(Outcome::Refused),
            "withdrawn" => Ok(Outcome::Withdrawn),
            _ => Err(Error::Invalid(format!(
                "--outcome {text:?}: expected done, refused or withdrawn"
            ))),
        }
    }

    /// `done`, `refused` or `withdrawn`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::Refused => "refused",
            Outcome::Withdrawn => "withdrawn",
        }
    }
}

/// Closes a request by hand (an answer sent, a refusal with its reason, a withdrawal).
pub fn close(ledger: &mut Ledger, id: RequestId, outcome: Outcome, reason: &str) -> Result<()> {
    let (record, state) = derived(ledger, id)?;
    if state.done_at(&record).is_some() {
        return Err(Error::Invalid(format!("request {id} is done already")));
    }
    if reason.trim().is_empty() {
        return Err(Error::Invalid(
            "--reason must say what was done, or why the request was refused (the requester must be told, \
             Art. 12(4))"
                .to_owned(),
        ));
    }
    let body = RequestEventBody::Close(Close {
        outcome,
        reason: reason.trim().to_owned(),
    });
    append(ledger, id, vec![event(ledger, ledger.now(), &body)?], None)
}

/// Records that custody's answer to an access request was produced (its format and digest).
pub(crate) fn record_answer(ledger: &mut Ledger, id: RequestId, format: &str, sha256: &str) -> Result<()> {
    let body = RequestEventBody::Answer(Answer {
        format: format.to_owned(),
        sha256: sha256.to_owned(),
    });
    append(ledger, id, vec![event(ledger, ledger.now(), &body)?], None)
}

/// The requester's email address, opened from its seal; audited, as it is personal data.
pub fn reveal_requester(ledger: &mut Ledger, id: RequestId) -> Result<Option<String>> {
    let record = find_request(ledger, id)?;
    let Some(sealed) = record.facts.requester.as_ref() else {
        return Ok(None);
    };
    let bytes = ledger.vault.open(sealed, REQUESTER_AAD)?;
    let address = String::from_utf8(bytes).map_err(|error| Error::Invalid(error.to_string()))?;
    ledger.audit_only(
        "request.reveal_requester",
        &format!("request:{id}"),
        serde_json::json!({}),
    )?;
    Ok(Some(address))
}
