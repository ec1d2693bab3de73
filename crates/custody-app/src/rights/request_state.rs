//! A request's state and legal clock, derived from its append-only events.
//!
//! The clock follows UK GDPR Art. 12(3) and Art. 12A (inserted by the Data (Use and Access) Act
//! 2025, s. 76, in force 5 February 2026):
//! - one month from the *relevant time*: the latest of receipt, receipt of the identity
//!   information asked for under Art. 12(6), and payment of a fee charged under Art. 12(5);
//! - extendable by two further months where the requests are complex or numerous, the requester
//!   told within the first month;
//! - for an access request, the days from asking the requester to clarify to the day the answer
//!   arrives do not count (Art. 12A: "the period beginning with the day on which the controller
//!   makes the request and ending with the day on which the controller receives the
//!   information"), so both of those days are excluded;
//! - the deadline is counted as the ICO counts it: to the corresponding calendar date, moved to
//!   the next working day when that is a weekend or bank holiday ([`custody_core::request_deadline`]).

use custody_core::SupplierId;
use custody_core::{
    Day, Instant, MAX_EXTENSION_MONTHS, PauseReason, PersonId, RequestClockState, RequestKind, days_left,
    request_clock, request_deadline, request_target,
};
use custody_store::{RequestEvent, RequestRecord};

use crate::dir::Ledger;
use crate::error::Result;
use crate::rights::holidays::BankHolidays;
use crate::rights::request_events::{Action, Decide, RequestEventBody};

/// An instruction to a supplier, and whether it confirmed.
#[derive(Debug, Clone)]
pub struct Instruction {
    /// Supplier id.
    pub supplier_id: SupplierId,
    /// Supplier name.
    pub supplier: String,
    /// What it was told to do.
    pub action: Action,
    /// When it was told.
    pub instructed_at: Instant,
    /// When it confirmed.
    pub confirmed_at: Option<Instant>,
}

/// A pause of the clock.
#[derive(Debug, Clone)]
pub struct PauseSpan {
    /// Why.
    pub reason: PauseReason,
    /// What was asked.
    pub note: Option<String>,
    /// When the requester was asked.
    pub from: Instant,
    /// When the answer arrived, if it has.
    pub to: Option<Instant>,
}

/// The state of a request, derived from its record and events.
#[derive(Debug, Clone)]
pub struct Derived {
    /// The person, once known.
    pub person: Option<PersonId>,
    /// When the requester's identity was confirmed, if the clock waited for it.
    pub identity_confirmed_at: Option<Instant>,
    /// Months of extension recorded (two at most count).
    pub extension: u8,
    /// Suppliers instructed.
    pub instructions: Vec<Instruction>,
    /// Pauses, in order.
    pub pauses: Vec<PauseSpan>,
    /// The decision on an erasure, and when it was made.
    pub decision: Option<(Decide, Instant)>,
    /// When custody's answer was first produced.
    pub answered_at: Option<Instant>,
    /// How it was closed by hand, and when.
    pub closed: Option<(String, Instant)>,
    /// Why it was closed, as recorded.
    pub closed_reason: Option<String>,
}

impl Derived {
    /// Works out a request's state from its events.
    pub fn of(record: &RequestRecord, events: &[RequestEvent]) -> Result<Self> {
        let mut derived = Derived {
            person: record.facts.person,
            identity_confirmed_at: None,
            extension: 0,
            instructions: Vec::new(),
            pauses: Vec::new(),
            decision: None,
            answered_at: None,
            closed: None,
            closed_reason: None,
        };
        for (event, body) in crate::rights::request_events::decode_all(events)? {
            derived.apply(event, body)?;
        }
        Ok(derived)
    }

    fn apply(&mut self, event: &RequestEvent, body: RequestEventBody) -> Result<()> {
        match body {
            RequestEventBody::Identify(identify) => {
                self.person = Some(identify.person_id);
                self.identity_confirmed_at = identify
                    .identity_confirmed_at
                    .map(Instant::from_unix_seconds)
                    .transpose()?;
            }
            RequestEventBody::Extend(extend) => {
                self.extension = self
                    .extension
                    .saturating_add(extend.months)
                    .min(MAX_EXTENSION_MONTHS);
            }
            RequestEventBody::Instruct(instruct) => {
                if !self
                    .instructions
                    .iter()
                    .any(|i| i.supplier_id == instruct.supplier_id)
                {
                    self.instructions.push(Instruction {
                        supplier_id: instruct.supplier_id,
                        supplier: instruct.supplier,
                        action: instruct.action,
                        instructed_at: event.at,
                        confirmed_at: None,
                    });
                }
            }
            RequestEventBody::Confirm(confirm) => {
                if let Some(entry) = self
                    .instructions
                    .iter_mut()
                    .find(|i| i.supplier_id == confirm.supplier_id)
                {
                    entry.confirmed_at = Some(event.at);
                }
            }
            RequestEventBody::Answer(_) => {
                self.answered_at.get_or_insert(event.at);
            }
            RequestEventBody::Close(close) => {
                self.closed = Some((close.outcome.as_str().to_owned(), event.at));
                self.closed_reason = Some(close.reason);
            }
            RequestEventBody::Pause(pause) => self.pauses.push(PauseSpan {
                reason: pause.reason,
                note: pause.note,
                from: event.at,
                to: None,
            }),
            RequestEventBody::Resume(_) => {
                if let Some(open) = self.pauses.last_mut().filter(|pause| pause.to.is_none()) {
                    open.to = Some(event.at);
                }
            }
            RequestEventBody::Decide(decide) => self.decision = Some((decide, event.at)),
            RequestEventBody::Suggest(_) => {}
        }
        Ok(())
    }

    /// The pause still waiting for the requester.
    pub fn open_pause(&self) -> Option<&PauseSpan> {
        self.pauses.last().filter(|pause| pause.to.is_none())
    }

    /// Whether an erasure waits for a responder's decision: linked to a person, not decided,
    /// nobody instructed (with `erasure_review = false` suppliers are instructed at once).
    pub fn awaiting_decision(&self, record: &RequestRecord) -> bool {
        record.facts.kind == RequestKind::Erasure
            && self.person.is_some()
            && self.decision.is_none()
            && self.instructions.is_empty()
            && self.closed.is_none()
    }

    /// When the request was done with: closed by hand; for an erasure, refused on review, or
    /// confirmed by every supplier instructed (the last confirmation). Every other kind is done
    /// when the organisation says so (`close --outcome done`), having done its own part.
    pub fn done_at(&self, record: &RequestRecord) -> Option<Instant> {
        if let Some((_, at)) = &self.closed {
            return Some(*at);
        }
        if record.facts.kind != RequestKind::Erasure || self.person.is_none() {
            return None;
        }
        if let Some((decide, at)) = &self.decision
            && decide.decision == "refuse"
        {
            return Some(*at);
        }
        if self.instructions.is_empty() {
            return None;
        }
        let mut last = record.facts.received_at;
        for instruction in &self.instructions {
            // A confirmation recorded as made before the instruction was recorded counts from
            // the instruction: the request cannot be done before custody knew it was decided.
            last = last.max(instruction.confirmed_at?.max(instruction.instructed_at));
        }
        Some(last)
    }

    /// When the month started (the relevant time, Art. 12A): receipt, the confirmation of
    /// identity it waited for, or the end of the last pause for a fee or identity information.
    pub fn clock_start(&self, record: &RequestRecord) -> Instant {
        let mut start = self
            .identity_confirmed_at
            .map_or(record.facts.received_at, |at| at.max(record.facts.received_at));
        for pause in &self.pauses {
            if let (PauseReason::Fee | PauseReason::Identity, Some(to)) = (pause.reason, pause.to) {
                start = start.max(to);
            }
        }
        start
    }
}

/// Where a request stands against the law's clock.
#[derive(Debug, Clone)]
pub struct ClockView {
    /// The legal deadline.
    pub due: Day,
    /// The internal target, when settings set one.
    pub target: Option<Day>,
    /// Open, overdue, met, late or paused.
    pub state: RequestClockState,
    /// Days from today to the deadline (negative: overdue by).
    pub days_left: i64,
    /// Days that do not count (clarification).
    pub paused_days: i64,
    /// Why the clock waits now, if it does.
    pub paused: Option<PauseReason>,
    /// Set when the deadline falls after the last year of the bank holiday list.
    pub holidays_note: Option<String>,
}

/// The day the month runs from (Art. 12A's relevant time): receipt, the identity confirmed, the
/// end of the last fee or identity pause. While such a pause is open the month has not started:
/// it will start when the requester answers, today at the earliest; a request done while
/// waiting never started its month, so it is measured from the day it was done.
pub fn relevant_start(ledger: &Ledger, record: &RequestRecord, derived: &Derived, today: Day) -> Day {
    let zone = &ledger.zone;
    let start = derived.clock_start(record).local_day(zone);
    match derived.open_pause() {
        Some(pause) if pause.reason != PauseReason::Clarification => {
            let waiting_until = derived.done_at(record).map_or(today, |at| at.local_day(zone));
            start.max(waiting_until)
        }
        _ => start,
    }
}

/// The distinct days that do not count: from each clarification asked to its answer, both
/// included (Art. 12A), from the relevant start on; days covered twice count once.
pub fn clarification_days(ledger: &Ledger, derived: &Derived, start: Day, until: Day) -> i64 {
    let zone = &ledger.zone;
    let mut days = std::collections::BTreeSet::new();
    for pause in derived
        .pauses
        .iter()
        .filter(|p| p.reason == PauseReason::Clarification)
    {
        let mut day = pause.from.local_day(zone).max(start).date();
        let to = pause.to.map_or(until, |at| at.local_day(zone)).date();
        // A pause is bounded by the request's life; 800 days bounds a corrupt record.
        for _ in 0..800 {
            if day > to {
                break;
            }
            days.insert(day);
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
    }
    i64::try_from(days.len()).unwrap_or(i64::MAX)
}

/// The clock of a request on the organisation's today.
pub fn clock_of(
    ledger: &Ledger,
    record: &RequestRecord,
    derived: &Derived,
    holidays: &BankHolidays,
) -> Result<ClockView> {
    let zone = &ledger.zone;
    let today = ledger.now().local_day(zone);
    let done = derived.done_at(record);
    let open = derived.open_pause().filter(|_| done.is_none());
    let start = relevant_start(ledger, record, derived, today);
    let until = done.map_or(today, |at| at.local_day(zone));
    let paused_days = clarification_days(ledger, derived, start, until);
    let due = request_deadline(
        start,
        derived.extension.min(MAX_EXTENSION_MONTHS),
        paused_days,
        &holidays.days,
    )?;
    let state = match open {
        Some(_) => RequestClockState::Paused,
        None => request_clock(due, done.map(|at| at.local_day(zone)), today),
    };
    let target = ledger
        .settings
        .request_target_days
        .map(|days| request_target(due, days, &holidays.days));
    let holidays_note = (due.date().year() > holidays.last_year).then(|| {
        format!(
            "the bank holiday list ({}) ends in {}; this deadline is moved off weekends only — \
             import a newer list with `custody holidays import FILE`",
            holidays.division, holidays.last_year
        )
    });
    Ok(ClockView {
        due,
        target,
        state,
        days_left: days_left(due, today),
        paused_days,
        paused: open.map(|pause| pause.reason),
        holidays_note,
    })
}
