//! Pausing a request's clock while the organisation waits for the requester, as UK GDPR
//! Art. 12A allows (inserted by the Data (Use and Access) Act 2025, s. 76, in force 5 February
//! 2026): a clarification of an access request (the days asked to answered do not count), a fee
//! (Art. 12(5), 15(3)) or information to confirm identity (Art. 12(6)), after which the month
//! starts again. How each moves the deadline is in [`crate::rights::request_state`].

use custody_core::RequestId;
use custody_core::{Instant, PauseReason, RequestKind};

use crate::dir::Ledger;
use crate::error::{Error, Result};
use crate::rights::request_acts::{append, derived, event};
use crate::rights::request_events::{Pause, RequestEventBody, Resume};

fn checked_at(ledger: &Ledger, at: Instant, not_before: Instant, what: &str) -> Result<()> {
    if at > ledger.now() {
        return Err(Error::Invalid(format!(
            "--at {} is in the future",
            at.local(&ledger.zone)
        )));
    }
    if at < not_before {
        return Err(Error::Invalid(format!(
            "--at {} is before {what} ({})",
            at.local(&ledger.zone),
            not_before.local(&ledger.zone)
        )));
    }
    Ok(())
}

/// A note as given: trimmed, empty as none, within the long-text limit.
fn note_of(note: Option<&str>) -> Result<Option<String>> {
    let note = note
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_owned);
    if let Some(text) = &note {
        crate::limits::long_text("note", text)?;
    }
    Ok(note)
}

/// Pauses the clock from `at`, when the requester was asked for a clarification, a fee or
/// identity information; the reason is required and a clarification is for access requests
/// only (Art. 12A speaks of a request under Art. 15).
pub fn pause(
    ledger: &mut Ledger,
    id: RequestId,
    at: Instant,
    reason: PauseReason,
    note: Option<&str>,
) -> Result<()> {
    let (record, state) = derived(ledger, id)?;
    if state.done_at(&record).is_some() {
        return Err(Error::Invalid(format!(
            "request {id} is done; its clock cannot be paused"
        )));
    }
    if let Some(open) = state.open_pause() {
        return Err(Error::Invalid(format!(
            "request {id} is paused already (waiting for {} since {}); resume it first",
            open.reason.as_str(),
            open.from.local(&ledger.zone)
        )));
    }
    if reason == PauseReason::Clarification && record.facts.kind != RequestKind::Access {
        return Err(Error::Invalid(format!(
            "request {id} is a request for {}; the clock stops for a clarification only on an access \
             request (UK GDPR Art. 12A)",
            record.facts.kind.as_str()
        )));
    }
    // A pause cannot hide a deadline already missed.
    let holidays = crate::rights::holidays::for_ledger(ledger)?;
    let clock = crate::rights::request_state::clock_of(ledger, &record, &state, &holidays)?;
    if at.local_day(&ledger.zone) > clock.due {
        return Err(Error::Invalid(format!(
            "request {id} was due on {}; a pause cannot start after the deadline",
            clock.due
        )));
    }
    let last_resume = state.pauses.last().and_then(|pause| pause.to);
    let not_before = last_resume.map_or(record.facts.received_at, |to| to.max(record.facts.received_at));
    checked_at(
        ledger,
        at,
        not_before,
        "the request's receipt or its last resumption",
    )?;
    let note = note_of(note)?;
    let body = RequestEventBody::Pause(Pause { reason, note });
    append(ledger, id, vec![event(ledger, at, &body)?], None)
}

/// Resumes the clock at `at`, when the clarification, fee or identity information arrived;
/// returns the new deadline.
pub fn resume(ledger: &mut Ledger, id: RequestId, at: Instant, note: Option<&str>) -> Result<String> {
    let (record, state) = derived(ledger, id)?;
    let Some(open) = state.open_pause() else {
        return Err(Error::Invalid(format!(
            "request {id} is not paused; `custody request pause` pauses it"
        )));
    };
    if state.done_at(&record).is_some() {
        return Err(Error::Invalid(format!("request {id} is done")));
    }
    checked_at(ledger, at, open.from, "the pause")?;
    let note = note_of(note)?;
    let body = RequestEventBody::Resume(Resume { note });
    append(ledger, id, vec![event(ledger, at, &body)?], None)?;
    let (record, state) = derived(ledger, record.id)?;
    let holidays = crate::rights::holidays::for_ledger(ledger)?;
    Ok(
        crate::rights::request_state::clock_of(ledger, &record, &state, &holidays)?
            .due
            .to_iso(),
    )
}
