//! The rights desk: requests from people (access, erasure, rectification, objection) with their
//! clock of one calendar month (UK/EU GDPR Art. 12(3)), and for an erasure an instruction to
//! every supplier that holds the person's data, tracked until each confirms (Art. 17 and 19).
//! A request's record is append-only: its state is derived from its events.

use serde::Serialize;

use custody_core::{
    Channel, IdentifierKind, Instant, MAX_EXTENSION_MONTHS, PersonId, RequestKind, days_left,
    normalise_email, request_clock, request_due,
};
use custody_store::{Erasure, NewRequest, NewRequestEvent, PersonRecord, RequestEvent, RequestRecord, Store};

use crate::dir::{Ledger, signer_for};
use crate::error::{Error, Result};

/// Associated data that binds a sealed requester address to its purpose.
const REQUESTER_AAD: &[u8] = b"custody request requester";

/// Who made a request, as the user gave it.
#[derive(Debug, Clone)]
pub enum Requester {
    /// A person by the organisation's reference.
    Reference(String),
    /// An email address, matched through the keyed hash.
    Email(String),
}

/// A request to record.
#[derive(Debug, Clone)]
pub struct OpenInput {
    /// Who asked.
    pub requester: Requester,
    /// What they asked for.
    pub kind: RequestKind,
    /// When it arrived.
    pub received_at: Instant,
    /// How it arrived.
    pub channel: Option<Channel>,
    /// Where it came from when imported.
    pub source: Option<String>,
}

/// What recording a request did.
#[derive(Debug, Clone, Serialize)]
pub struct Opened {
    /// The request's id.
    pub request: i64,
    /// The last day to answer, in the organisation's time zone.
    pub due: String,
    /// The person it was matched to, if any.
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    /// Why no person was matched.
    pub unmatched: Option<String>,
    /// Suppliers instructed to erase.
    pub instructed: Vec<String>,
}

/// The person a requester matched, or why none did.
pub(crate) enum Match {
    /// One person.
    Person(PersonRecord),
    /// None, with the reason.
    Unknown(String),
}

/// Finds the person behind a requester: a reference must exist; an email address matches
/// through its keyed hash (strict form first, then the canonical form), never a canary.
pub(crate) fn match_requester(ledger: &Ledger, requester: &Requester) -> Result<Match> {
    match requester {
        Requester::Reference(reference) => {
            let person = ledger
                .store
                .person_by_ref(reference.trim())?
                .filter(|person| person.canary_share.is_none())
                .ok_or_else(|| {
                    Error::NotFound(format!("there is no person with the reference {reference:?}"))
                })?;
            Ok(Match::Person(person))
        }
        Requester::Email(address) => {
            let normalised = normalise_email(address).ok_or_else(|| {
                Error::Invalid(format!(
                    "{address:?} is not an email address; expected one such as name@example.org"
                ))
            })?;
            let canonical = custody_core::canonical_email(&normalised);
            for (kind, value) in [
                (IdentifierKind::EmailStrict, normalised.as_str()),
                (IdentifierKind::EmailCanonical, canonical.as_str()),
            ] {
                let hash = ledger.vault.identifier_hash(kind.tag(), value);
                let mut people = Vec::new();
                for id in ledger.store.people_by_identifier(kind, &hash)? {
                    if let Some(person) = ledger.store.person(id)? {
                        if person.canary_share.is_none() {
                            people.push(person);
                        }
                    }
                }
                match people.len() {
                    0 => continue,
                    1 => {
                        return Ok(people
                            .into_iter()
                            .next()
                            .map_or_else(|| Match::Unknown("no match".to_owned()), Match::Person));
                    }
                    many => {
                        return Ok(Match::Unknown(format!(
                            "{many} people share this address; check the requester's identity and run \
                             `custody request identify ID --person REF`"
                        )));
                    }
                }
            }
            Ok(Match::Unknown(
                "no person has this address; check the requester's identity and run \
                 `custody request identify ID --person REF`"
                    .to_owned(),
            ))
        }
    }
}

/// A supplier that holds a person's data now, with the shares it holds it under.
#[derive(Debug, Clone, Serialize)]
pub struct Holder {
    /// Supplier id.
    pub supplier_id: i64,
    /// Supplier name.
    pub supplier: String,
    /// Shares.
    pub shares: Vec<i64>,
}

/// Every supplier that holds a person's data live at `now` (a share not deleted, not erased for
/// this person). Backups-only holdings expire by themselves and are not instructed.
pub(crate) fn holders(ledger: &Ledger, person: &PersonRecord, now: Instant) -> Result<Vec<Holder>> {
    let mut out: Vec<Holder> = Vec::new();
    let suppliers = ledger.store.suppliers()?;
    for recipient in crate::person::recipients(ledger, person, now)? {
        if recipient.deleted_at.is_some() {
            continue;
        }
        let Some(supplier) = suppliers.iter().find(|s| s.name == recipient.supplier) else {
            continue;
        };
        match out.iter_mut().find(|holder| holder.supplier_id == supplier.id) {
            Some(holder) => holder.shares.push(recipient.share),
            None => out.push(Holder {
                supplier_id: supplier.id,
                supplier: supplier.name.clone(),
                shares: vec![recipient.share],
            }),
        }
    }
    Ok(out)
}

/// The events that instruct each holder to erase the person's data.
fn instructions(ledger: &Ledger, holders: &[Holder], person: &PersonRecord) -> Vec<NewRequestEvent> {
    holders
        .iter()
        .map(|holder| NewRequestEvent {
            kind: "instruct".to_owned(),
            at: ledger.now(),
            actor: ledger.actor.clone(),
            recorded_at: ledger.now(),
            body: serde_json::json!({ "supplier_id": holder.supplier_id, "supplier": holder.supplier,
                "shares": holder.shares, "person": person.reference }),
        })
        .collect()
}

/// Builds the stored form of a request (sealing and hashing an email requester).
pub(crate) fn new_request(ledger: &Ledger, input: &OpenInput) -> Result<(NewRequest, Opened)> {
    let now = ledger.now();
    if input.received_at > now {
        return Err(Error::Invalid(format!(
            "the request cannot have been received at {} , which is in the future",
            input.received_at.local(&ledger.zone)
        )));
    }
    let (requester, requester_hash) = match &input.requester {
        Requester::Email(address) => {
            let normalised = normalise_email(address)
                .ok_or_else(|| Error::Invalid(format!("{address:?} is not an email address")))?;
            let sealed = ledger.vault.sealer().seal(normalised.as_bytes(), REQUESTER_AAD)?;
            let hash = ledger
                .vault
                .identifier_hash(IdentifierKind::EmailStrict.tag(), &normalised);
            (Some(sealed), Some(hash))
        }
        Requester::Reference(_) => (None, None),
    };
    let found = match_requester(ledger, &input.requester)?;
    let (person, unmatched, events, instructed) = match found {
        Match::Person(person) => {
            let (events, instructed) = if input.kind == RequestKind::Erasure {
                let holders = holders(ledger, &person, now)?;
                let names = holders.iter().map(|holder| holder.supplier.clone()).collect();
                (instructions(ledger, &holders, &person), names)
            } else {
                (Vec::new(), Vec::new())
            };
            (Some(person), None, events, instructed)
        }
        Match::Unknown(reason) => (None, Some(reason), Vec::new(), Vec::new()),
    };
    let due = request_due(input.received_at.local_day(&ledger.zone), 0)?;
    let opened = Opened {
        request: 0,
        due: due.to_iso(),
        reference: person.as_ref().map(|person| person.reference.clone()),
        unmatched,
        instructed,
    };
    let request = NewRequest {
        person: person.map(|person| person.id),
        requester,
        requester_hash,
        kind: input.kind,
        channel: input.channel,
        received_at: input.received_at,
        opened_at: now,
        source: input.source.clone(),
        events,
    };
    Ok((request, opened))
}

/// Records a request; an erasure instructs every supplier holding the person's data.
pub fn open(ledger: &mut Ledger, input: OpenInput) -> Result<Opened> {
    let (request, mut opened) = new_request(ledger, &input)?;
    let draft = ledger.draft(
        "request.open",
        "request",
        serde_json::json!({ "kind": input.kind.as_str(), "received_at": input.received_at,
            "person": opened.reference, "instructed": opened.instructed }),
    );
    let ids = ledger
        .store
        .open_requests(vec![request], draft, &signer_for(&ledger.vault))?;
    ledger.anchor_audit()?;
    opened.request = ids.first().copied().unwrap_or_default();
    Ok(opened)
}

/// A request by id, or a clear error.
pub fn find_request(ledger: &Ledger, id: i64) -> Result<RequestRecord> {
    ledger.store.request(id)?.ok_or_else(|| {
        Error::NotFound(format!(
            "there is no request {id}; `custody request list` shows them"
        ))
    })
}

/// Appends an event to a request (with the erasure it confirms), audited.
fn append(
    ledger: &mut Ledger,
    request: i64,
    kind: &str,
    at: Instant,
    body: serde_json::Value,
    erasure: Option<Erasure>,
) -> Result<i64> {
    let event = NewRequestEvent {
        kind: kind.to_owned(),
        at,
        actor: ledger.actor.clone(),
        recorded_at: ledger.now(),
        body: body.clone(),
    };
    let draft = ledger.draft(
        &format!("request.{kind}"),
        "request",
        serde_json::json!({ "at": at, "body": body }),
    );
    let id = ledger
        .store
        .append_request_event(request, event, erasure, draft, &signer_for(&ledger.vault))?;
    ledger.anchor_audit()?;
    Ok(id)
}

/// The state of a request, derived from its record and events.
#[derive(Debug, Clone)]
pub struct Derived {
    /// The person, once known.
    pub person: Option<PersonId>,
    /// Months of extension recorded.
    pub extension: u8,
    /// Suppliers instructed to erase: (id, name, confirmed erasure instant).
    pub instructions: Vec<(i64, String, Instant, Option<Instant>)>,
    /// When custody's answer to an access request was first produced.
    pub answered_at: Option<Instant>,
    /// How it was closed by hand, and when.
    pub closed: Option<(String, Instant)>,
}

impl Derived {
    /// Works out a request's state from its events.
    pub fn of(record: &RequestRecord, events: &[RequestEvent]) -> Self {
        let mut derived = Derived {
            person: record.facts.person,
            extension: 0,
            instructions: Vec::new(),
            answered_at: None,
            closed: None,
        };
        for event in events {
            let number = |key: &str| event.body.get(key).and_then(serde_json::Value::as_i64);
            let text = |key: &str| {
                event
                    .body
                    .get(key)
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            match event.kind.as_str() {
                "identify" => {
                    derived.person = number("person_id").and_then(|id| u32::try_from(id).ok());
                }
                "extend" => {
                    let months = number("months").and_then(|m| u8::try_from(m).ok()).unwrap_or(0);
                    derived.extension = derived.extension.saturating_add(months);
                }
                "instruct" => {
                    if let Some(supplier) = number("supplier_id") {
                        if !derived.instructions.iter().any(|i| i.0 == supplier) {
                            derived
                                .instructions
                                .push((supplier, text("supplier"), event.at, None));
                        }
                    }
                }
                "confirm" => {
                    let supplier = number("supplier_id");
                    if let Some(entry) = derived.instructions.iter_mut().find(|i| Some(i.0) == supplier) {
                        entry.3 = Some(event.at);
                    }
                }
                "answer" => {
                    derived.answered_at.get_or_insert(event.at);
                }
                "close" => derived.closed = Some((text("outcome"), event.at)),
                _ => {}
            }
        }
        derived
    }

    /// When the request was done with, if it was: closed by hand; an access request answered;
    /// an erasure confirmed by every instructed supplier (at once if none held the data).
    pub fn done_at(&self, record: &RequestRecord) -> Option<Instant> {
        if let Some((_, at)) = &self.closed {
            return Some(*at);
        }
        match record.facts.kind {
            RequestKind::Access => self.answered_at,
            RequestKind::Erasure => {
                self.person?;
                let mut last = record.facts.received_at;
                for (_, _, instructed, confirmed) in &self.instructions {
                    last = last.max((*confirmed)?).max(*instructed);
                }
                Some(last)
            }
            RequestKind::Rectification | RequestKind::Objection => None,
        }
    }
}

pub use crate::request_views::{RequestSummary, RequestView, list, show};

/// Links a request from an unknown requester to a person, once their identity is checked; an
/// erasure then instructs the suppliers holding the person's data.
pub fn identify(ledger: &mut Ledger, id: i64, reference: &str) -> Result<Vec<String>> {
    let record = find_request(ledger, id)?;
    let derived = Derived::of(&record, &ledger.store.request_events(id)?);
    if derived.person.is_some() {
        return Err(Error::Invalid(format!(
            "request {id} is linked to a person already"
        )));
    }
    let Match::Person(person) = match_requester(ledger, &Requester::Reference(reference.to_owned()))? else {
        return Err(Error::NotFound(format!(
            "there is no person with the reference {reference:?}"
        )));
    };
    append(
        ledger,
        id,
        "identify",
        ledger.now(),
        serde_json::json!({ "person_id": person.id, "person": person.reference }),
        None,
    )?;
    if record.facts.kind != RequestKind::Erasure {
        return Ok(Vec::new());
    }
    let holders = holders(ledger, &person, ledger.now())?;
    for event in instructions(ledger, &holders, &person) {
        append(ledger, id, "instruct", event.at, event.body, None)?;
    }
    Ok(holders.into_iter().map(|holder| holder.supplier).collect())
}

/// Extends the period by one or two months (two at most in all), with the reason given to the
/// requester. Art. 12(3) requires the requester to be told within the first month, so an
/// extension after the original due day is refused.
pub fn extend(ledger: &mut Ledger, id: i64, months: u8, reason: &str) -> Result<String> {
    let record = find_request(ledger, id)?;
    let derived = Derived::of(&record, &ledger.store.request_events(id)?);
    if reason.trim().is_empty() {
        return Err(Error::Invalid(
            "--reason must say why the request needs longer".to_owned(),
        ));
    }
    if months == 0 || derived.extension.saturating_add(months) > MAX_EXTENSION_MONTHS {
        return Err(Error::Invalid(format!(
            "request {id} may be extended by {} more month(s) at most (two in all, Art. 12(3))",
            MAX_EXTENSION_MONTHS.saturating_sub(derived.extension)
        )));
    }
    if derived.done_at(&record).is_some() {
        return Err(Error::Invalid(format!(
            "request {id} is done; there is nothing to extend"
        )));
    }
    let received = record.facts.received_at.local_day(&ledger.zone);
    let first_due = request_due(received, 0)?;
    let today = ledger.now().local_day(&ledger.zone);
    if today > first_due {
        return Err(Error::Invalid(format!(
            "request {id} was due on {first_due}; an extension must be decided and the requester told \
             within the first month (Art. 12(3))"
        )));
    }
    append(
        ledger,
        id,
        "extend",
        ledger.now(),
        serde_json::json!({ "months": months, "reason": reason.trim() }),
        None,
    )?;
    Ok(request_due(received, derived.extension.saturating_add(months))?.to_iso())
}

/// Records a supplier's confirmation that it erased the person's data: from `at`, the person's
/// recipients show that supplier's deletion and its holdings no longer count them.
pub fn confirm(ledger: &mut Ledger, id: i64, supplier: &str, at: Instant) -> Result<bool> {
    let record = find_request(ledger, id)?;
    let derived = Derived::of(&record, &ledger.store.request_events(id)?);
    if record.facts.kind != RequestKind::Erasure {
        return Err(Error::Invalid(format!(
            "request {id} is a request for {}; only erasures are confirmed by suppliers",
            record.facts.kind.as_str()
        )));
    }
    let supplier = crate::suppliers::find(ledger, supplier)?;
    let (Some(person), Some(instruction)) = (
        derived.person,
        derived.instructions.iter().find(|i| i.0 == supplier.id),
    ) else {
        return Err(Error::Invalid(format!(
            "{} was not instructed to erase for request {id}; `custody request show {id}` lists who was",
            supplier.name
        )));
    };
    if instruction.3.is_some() {
        return Err(Error::Invalid(format!(
            "{} confirmed this erasure already",
            supplier.name
        )));
    }
    if at > ledger.now() || at < record.facts.received_at {
        return Err(Error::Invalid(format!(
            "--at {} must be between the request's receipt and now",
            at.local(&ledger.zone)
        )));
    }
    let erasure = Erasure {
        supplier_id: supplier.id,
        person,
        deleted_at: at,
        request: Some(id),
    };
    append(
        ledger,
        id,
        "confirm",
        at,
        serde_json::json!({ "supplier_id": supplier.id, "supplier": supplier.name }),
        Some(erasure),
    )?;
    let derived = Derived::of(&record, &ledger.store.request_events(id)?);
    Ok(derived.done_at(&record).is_some())
}

/// How a request was closed by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done outside custody (a correction made, processing stopped).
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

    fn as_str(self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::Refused => "refused",
            Outcome::Withdrawn => "withdrawn",
        }
    }
}

/// Closes a request by hand (a rectification made, a refusal with its reason, a withdrawal).
pub fn close(ledger: &mut Ledger, id: i64, outcome: Outcome, reason: &str) -> Result<()> {
    let record = find_request(ledger, id)?;
    let derived = Derived::of(&record, &ledger.store.request_events(id)?);
    if derived.done_at(&record).is_some() {
        return Err(Error::Invalid(format!("request {id} is done already")));
    }
    if reason.trim().is_empty() {
        return Err(Error::Invalid(
            "--reason must say what was done, or why the request was refused (the requester must be told, Art. 12(4))"
                .to_owned(),
        ));
    }
    append(
        ledger,
        id,
        "close",
        ledger.now(),
        serde_json::json!({ "outcome": outcome.as_str(), "reason": reason.trim() }),
        None,
    )?;
    Ok(())
}

/// The requester's email address, opened from its seal.
pub(crate) fn requester_address(ledger: &Ledger, record: &RequestRecord) -> Option<String> {
    let sealed = record.facts.requester.as_ref()?;
    let bytes = ledger.vault.open(sealed, REQUESTER_AAD).ok()?;
    String::from_utf8(bytes).ok()
}

/// The clock of a request on the organisation's today: due day, state and days left.
pub(crate) fn clock_of(
    ledger: &Ledger,
    record: &RequestRecord,
    derived: &Derived,
) -> Result<(custody_core::Day, custody_core::RequestClockState, i64)> {
    let due = request_due(
        record.facts.received_at.local_day(&ledger.zone),
        derived.extension,
    )?;
    let today = ledger.now().local_day(&ledger.zone);
    let done = derived.done_at(record).map(|at| at.local_day(&ledger.zone));
    Ok((due, request_clock(due, done, today), days_left(due, today)))
}

/// Records that custody's answer to an access request was produced (its format and digest).
pub(crate) fn record_answer(ledger: &mut Ledger, id: i64, format: &str, sha256: &str) -> Result<()> {
    append(
        ledger,
        id,
        "answer",
        ledger.now(),
        serde_json::json!({ "format": format, "sha256": sha256 }),
        None,
    )?;
    Ok(())
}
