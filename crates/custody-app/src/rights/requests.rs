//! The rights desk: requests from people (UK GDPR Art. 15 to 21) with their legal clock (see
//! [`crate::rights::request_state`]), and the instructions each right sends to the suppliers that hold
//! the person's data (Art. 19; Art. 21(3) for direct marketing), tracked until each confirms. An
//! erasure waits for a responder's review of its grounds first (`erasure_review`, default on).
//! A request's record is append-only: its state is derived from its events.

use custody_core::{RequestId, ShareId, SupplierId};
use serde::Serialize;

use custody_core::{Channel, IdentifierKind, Instant, RequestKind, normalise_email, request_deadline};
use custody_store::{NewRequest, NewRequestEvent, PersonRecord, RequestRecord};

use crate::dir::{Ledger, signer_for};
use crate::error::{Error, Result};
use crate::rights::request_events::Action;

/// Who made a request, as the user gave it: a reference, an email address, or both (the
/// reference then identifies the person and the address is kept, sealed, to reply to).
#[derive(Debug, Clone, Default)]
pub struct Requester {
    /// The person's reference with the organisation.
    pub reference: Option<String>,
    /// The address the request came from ("Name <address>" is accepted).
    pub email: Option<String>,
    /// Their name, postcode or date of birth, as the request gave them: when the address
    /// matches nobody, the people it probably came from are offered.
    pub described: crate::rights::request_linkage::Described,
}

/// The address inside a mailbox form such as `"Alex Smith" <alex@example.org>`, normalised.
pub fn requester_email(text: &str) -> Option<String> {
    normalise_email(text)
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
    pub request: RequestId,
    /// The last day to answer, in the organisation's time zone.
    pub due: String,
    /// The person it was matched to, if any.
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    /// Why no person was matched.
    pub unmatched: Option<String>,
    /// Suppliers instructed (to erase, correct, restrict or stop marketing).
    pub instructed: Vec<String>,
    /// For an erasure under review: the suppliers a decision to erase would instruct.
    pub would_instruct: Vec<String>,
    /// Whether the request waits for a responder's decision (`custody request decide`).
    pub awaiting_decision: bool,
    /// Something the responder should check (an objection when no share is marked marketing).
    pub caution: Option<String>,
    /// When the address matched nobody: the people the request probably came from, by name
    /// with postcode or date of birth (never linked until a responder identifies one).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suggested: Vec<crate::rights::request_linkage::Suggested>,
    /// People whose sealed details fuzzy linkage opened to suggest them (on the audit entry).
    #[serde(skip)]
    pub people_read: u64,
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
    if let Some(reference) = &requester.reference {
        let person = ledger
            .store
            .person_by_ref(reference.trim())?
            .filter(|person| person.canary_share.is_none())
            .ok_or_else(|| Error::NotFound(format!("there is no person with the reference {reference:?}")))?;
        return Ok(Match::Person(person));
    }
    let Some(address) = &requester.email else {
        return Err(Error::Invalid(
            "give the requester's reference or email address".to_owned(),
        ));
    };
    let normalised = requester_email(address).ok_or_else(|| {
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
            if let Some(person) = ledger
                .store
                .person(id)?
                .filter(|person| person.canary_share.is_none())
            {
                people.push(person);
            }
        }
        if people.len() > 1 {
            return Ok(Match::Unknown(format!(
                "{} people share this address; check the requester's identity and run \
                 `custody request identify ID --person REF`",
                people.len()
            )));
        }
        if let Some(person) = people.pop() {
            return Ok(Match::Person(person));
        }
    }
    Ok(Match::Unknown(
        "no person has this address; check the requester's identity and run \
         `custody request identify ID --person REF`"
            .to_owned(),
    ))
}

/// A supplier that holds a person's data now, with the shares it holds it under.
#[derive(Debug, Clone, Serialize)]
pub struct Holder {
    /// Supplier id.
    pub supplier_id: SupplierId,
    /// Supplier name.
    pub supplier: String,
    /// Shares.
    pub shares: Vec<ShareId>,
}

/// Every supplier that holds a person's data at `now`: under a share not deleted and not erased
/// for this person, or in backups that have not expired yet (those must be put beyond use too).
pub(crate) fn holders(ledger: &Ledger, person: &PersonRecord, now: Instant) -> Result<Vec<Holder>> {
    let mut out: Vec<Holder> = Vec::new();
    let suppliers = ledger.store.suppliers()?;
    for recipient in crate::ledger::person::recipients(ledger, person, now)? {
        if recipient.deleted_at.is_some() && !recipient.backups_held {
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

/// The events that instruct each holder to act on the person's data.
pub(crate) fn instructions(
    ledger: &Ledger,
    holders: &[Holder],
    person: &PersonRecord,
    action: Action,
) -> Result<Vec<NewRequestEvent>> {
    holders
        .iter()
        .map(|holder| {
            let instruct = crate::rights::request_events::RequestEventBody::Instruct(
                crate::rights::request_events::Instruct {
                    supplier_id: holder.supplier_id,
                    supplier: holder.supplier.clone(),
                    shares: holder.shares.clone(),
                    person: person.reference.clone(),
                    action,
                },
            );
            crate::rights::request_acts::event(ledger, ledger.now(), &instruct)
        })
        .collect()
}

/// The holders an objection to direct marketing reaches: those holding the person under a
/// share marked as marketing, with only those shares.
fn marketing_holders(ledger: &Ledger, holders: Vec<Holder>) -> Result<Vec<Holder>> {
    let marketing: std::collections::BTreeSet<ShareId> = ledger
        .store
        .shares(None)?
        .into_iter()
        .filter(|share| share.marketing)
        .map(|share| share.meta.id)
        .collect();
    Ok(holders
        .into_iter()
        .filter_map(|mut holder| {
            holder.shares.retain(|share| marketing.contains(share));
            (!holder.shares.is_empty()).then_some(holder)
        })
        .collect())
}

/// Whether erasures wait for a responder's decision (settings `erasure_review`, default true).
pub(crate) fn erasure_review(ledger: &Ledger) -> bool {
    ledger.settings.erasure_review.unwrap_or(true)
}

/// What a request of this kind sends to the suppliers holding the person once it is linked to
/// them: erasure (unless under review), rectification and restriction to every holder (Art. 19),
/// an objection to the holders of marketing shares (Art. 21(3)); access and portability none.
/// Returns the events and the names of the suppliers instructed.
pub(crate) fn instructions_on_open(
    ledger: &Ledger,
    kind: RequestKind,
    person: &PersonRecord,
) -> Result<(Vec<NewRequestEvent>, Vec<String>)> {
    let action = match kind {
        RequestKind::Erasure if !erasure_review(ledger) => Action::Erase,
        RequestKind::Rectification => Action::Rectify,
        RequestKind::Restriction => Action::Restrict,
        RequestKind::Objection => Action::StopMarketing,
        RequestKind::Erasure | RequestKind::Access | RequestKind::Portability => {
            return Ok((Vec::new(), Vec::new()));
        }
    };
    let mut holders = holders(ledger, person, ledger.now())?;
    if action == Action::StopMarketing {
        holders = marketing_holders(ledger, holders)?;
    }
    let names = holders.iter().map(|holder| holder.supplier.clone()).collect();
    Ok((instructions(ledger, &holders, person, action)?, names))
}

/// Builds the stored form of a request (sealing and hashing an email requester).
pub(crate) fn new_request(
    ledger: &Ledger,
    input: &OpenInput,
    holidays: &crate::rights::holidays::BankHolidays,
) -> Result<(NewRequest, Opened)> {
    // Checked before anything is looked up: fuzzy linkage opens people only for a request
    // that will be recorded (and its audit entry count them).
    if let Some(source) = &input.source {
        crate::limits::short_text("source", source)?;
    }
    let now = ledger.now();
    if input.received_at > now {
        return Err(Error::Invalid(format!(
            "the request cannot have been received at {}, which is in the future",
            input.received_at.local(&ledger.zone)
        )));
    }
    let (requester, requester_hash) = match &input.requester.email {
        Some(address) => {
            let normalised = requester_email(address)
                .ok_or_else(|| Error::Invalid(format!("{address:?} is not an email address")))?;
            let sealed = ledger
                .vault
                .sealer()
                .seal(normalised.as_bytes(), crate::rights::request_acts::REQUESTER_AAD)?;
            let hash = ledger
                .vault
                .identifier_hash(IdentifierKind::EmailStrict.tag(), &normalised);
            (Some(sealed), Some(hash))
        }
        None => (None, None),
    };
    let found = match_requester(ledger, &input.requester)?;
    let mut would_instruct = Vec::new();
    let mut suggested = Vec::new();
    let mut people_read = 0;
    let (person, unmatched, events, instructed) = match found {
        Match::Person(person) => {
            let (events, instructed) = instructions_on_open(ledger, input.kind, &person)?;
            if input.kind == RequestKind::Erasure && erasure_review(ledger) {
                would_instruct = holders(ledger, &person, now)?
                    .into_iter()
                    .map(|holder| holder.supplier)
                    .collect();
            }
            (Some(person), None, events, instructed)
        }
        Match::Unknown(reason) => {
            let mut events = Vec::new();
            let (people, read) = crate::rights::request_linkage::suggest(ledger, &input.requester.described)?;
            people_read = read;
            let reason = if people.is_empty() {
                reason
            } else {
                let names: Vec<String> = people
                    .iter()
                    .map(|found| format!("{} ({})", found.reference, found.agreed))
                    .collect();
                events.push(crate::rights::request_acts::event(
                    ledger,
                    now,
                    &crate::rights::request_events::RequestEventBody::Suggest(
                        crate::rights::request_events::Suggestions {
                            people: people.clone(),
                        },
                    ),
                )?);
                format!(
                    "{reason}; by name it is probably {}: confirm with `custody request identify ID --person REF`",
                    names.join(" or ")
                )
            };
            suggested = people;
            (None, Some(reason), events, Vec::new())
        }
    };
    let caution = if input.kind == RequestKind::Objection
        && !ledger.store.shares(None)?.iter().any(|share| share.marketing)
    {
        Some(
            "no share is marked as used for direct marketing, so this objection reached no supplier; \
             mark those that are with `custody share marketing ID --on`"
                .to_owned(),
        )
    } else {
        None
    };
    let due = request_deadline(input.received_at.local_day(&ledger.zone), 0, 0, &holidays.days)?;
    let opened = Opened {
        // The store gives the id when it records the request.
        request: RequestId::new(0),
        due: due.to_iso(),
        awaiting_decision: person.is_some() && input.kind == RequestKind::Erasure && erasure_review(ledger),
        reference: person.as_ref().map(|person| person.reference.clone()),
        unmatched,
        instructed,
        would_instruct,
        caution,
        suggested,
        people_read,
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

/// Records a request and instructs the suppliers it reaches (an erasure under review waits).
pub fn open(ledger: &mut Ledger, input: OpenInput) -> Result<Opened> {
    let holidays = crate::rights::holidays::for_ledger(ledger)?;
    let (request, mut opened) = new_request(ledger, &input, &holidays)?;
    let draft = ledger.draft(
        "request.open",
        "request",
        serde_json::json!({ "kind": input.kind.as_str(), "received_at": input.received_at,
            "person": opened.reference, "instructed": opened.instructed,
            "suggested": opened.suggested.len(), "people_read": opened.people_read,
            "awaiting_decision": opened.awaiting_decision }),
    );
    let ids = ledger
        .store
        .open_requests(vec![request], draft, &signer_for(&ledger.vault, &ledger.dir))?;
    ledger.anchor_audit()?;
    opened.request = ids
        .first()
        .copied()
        .ok_or_else(|| Error::Invalid("the store recorded no request".into()))?;
    if !opened.instructed.is_empty() {
        crate::notices::instruction_mail::queue_recorded(ledger, &[(opened.request, 0)])?;
    }
    Ok(opened)
}

/// A request by id, or a clear error.
pub fn find_request(ledger: &Ledger, id: RequestId) -> Result<RequestRecord> {
    ledger.store.request(id)?.ok_or_else(|| {
        Error::NotFound(format!(
            "there is no request {id}; `custody request list` shows them"
        ))
    })
}

pub use crate::rights::request_acts::{Derived, Outcome, close, confirm, extend, identify, reveal_requester};
pub use crate::rights::request_decide::{Decision, decide};
pub use crate::rights::request_pause::{pause, resume};
pub use crate::rights::request_views::{RequestSummary, RequestView, list, look, show};
