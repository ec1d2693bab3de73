//! A person as custody knows them, and their recipients: every supplier that received their
//! data, which categories, when, under which share, and whether it confirmed deletion
//! (UK/EU GDPR Art. 15(1)(c)).

use custody_core::ShareId;
use serde::Serialize;

use custody_core::{FeedWindow, Instant, ShareKind};
use custody_store::PersonRecord;

use crate::dir::Ledger;
use crate::error::{Error, Result};

/// One recipient of a person's data.
#[derive(Debug, Clone, Serialize)]
pub struct Recipient {
    /// Supplier name.
    pub supplier: String,
    /// Share id.
    pub share: ShareId,
    /// `export` or `feed`.
    pub kind: &'static str,
    /// When the data was sent (a feed: when syncing began).
    pub shared_at: String,
    /// Data categories.
    pub categories: Vec<&'static str>,
    /// Purpose.
    pub purpose: String,
    /// When the supplier confirmed deletion.
    pub deleted_at: Option<String>,
    /// Until when backups still hold it.
    pub backups_until: Option<String>,
    /// Whether the supplier's backups still hold it now.
    pub backups_held: bool,
    /// Whether `deleted_at` is the supplier's confirmed erasure of this one person (a request).
    pub erased_by_request: bool,
}

/// A person for output.
#[derive(Debug, Clone, Serialize)]
pub struct PersonView {
    /// The organisation's reference.
    #[serde(rename = "ref")]
    pub reference: String,
    /// Category.
    pub category: &'static str,
    /// Status.
    pub status: &'static str,
    /// Join date.
    pub joined_on: Option<String>,
    /// Leaving date.
    pub left_on: Option<String>,
    /// Country.
    pub country: Option<String>,
    /// Region (ISO 3166-2), where the country's laws are by region.
    pub region: Option<String>,
    /// The jurisdictions whose breach rules apply to them (`custody jurisdictions`): their
    /// country's and their region's, those the rules know.
    pub jurisdictions: Vec<String>,
    /// Whether custody holds contact details (sealed) for a notice.
    pub contact_held: bool,
    /// For a canary, the share it was planted in.
    pub canary_share: Option<ShareId>,
    /// Every recipient, oldest first.
    pub recipients: Vec<Recipient>,
}

/// How someone asked for a person.
#[derive(Debug, Clone, Copy)]
pub enum Query<'a> {
    /// By the organisation's reference.
    Reference(&'a str),
    /// By email address (matched through its keyed hash).
    Email(&'a str),
    /// A reference, or an email address when the text has an `@` (the desk's search box).
    Either(&'a str),
}

/// Looks a person up for someone and records the look as `person.view`: who asked, how, and
/// what was found. Every look at a person is accounted for (UK/EU GDPR Art. 5(2) and 32), and
/// the record itself holds no new personal data: a reference the organisation gave, or the
/// email address's keyed hash, never the address. A look that finds nobody is recorded too.
pub fn look_up(ledger: &mut Ledger, query: Query<'_>) -> Result<PersonView> {
    // Anything with an `@` is recorded as the address it probably is, through its keyed hash,
    // never as typed; given as a reference, it is still tried as one first.
    let query = match query {
        Query::Reference(text) if text.contains('@') => {
            return look_up_address_as_reference(ledger, text);
        }
        Query::Either(text) if text.contains('@') => Query::Email(text),
        Query::Either(text) => Query::Reference(text),
        other => other,
    };
    let (by, asked, found) = match query {
        Query::Email(address) => (
            "email",
            email_hash(ledger, address),
            show_by_email(ledger, address),
        ),
        Query::Reference(reference) | Query::Either(reference) => {
            let reference = reference.trim();
            if reference.is_empty() {
                return Err(Error::Invalid("give a reference or an email address".to_owned()));
            }
            let asked: String = reference
                .chars()
                .take(custody_core::SHORT_TEXT_CHARS_MAX)
                .collect();
            ("reference", asked, show(ledger, reference))
        }
    };
    record_look(ledger, by, asked, &found)?;
    found
}

/// A reference with an `@` in it: found as a reference if there is one, else as an email
/// address; audited by the address's keyed hash either way.
fn look_up_address_as_reference(ledger: &mut Ledger, text: &str) -> Result<PersonView> {
    let asked = email_hash(ledger, text);
    let found = match show(ledger, text) {
        Err(Error::NotFound(_)) => show_by_email(ledger, text),
        other => other,
    };
    record_look(ledger, "reference", asked, &found)?;
    found
}

fn email_hash(ledger: &Ledger, address: &str) -> String {
    match crate::rights::requests::requester_email(address) {
        Some(normalised) => format!(
            "email-hash:{}",
            custody_vault::hex(
                &ledger
                    .vault
                    .identifier_hash(custody_core::IdentifierKind::EmailStrict.tag(), &normalised)
            )
        ),
        None => "an address that does not parse".to_owned(),
    }
}

fn record_look(ledger: &mut Ledger, by: &str, asked: String, found: &Result<PersonView>) -> Result<()> {
    let subject = match found {
        Ok(view) => format!("person:{}", view.reference),
        Err(_) => "people".to_owned(),
    };
    ledger.audit_look(
        "person.view",
        &subject,
        serde_json::json!({ "by": by, "asked": asked, "found": found.is_ok() }),
    )
}

/// Records that a list of people's references was shown (`holdings --people`, `retention
/// --people`, `match --people`): what listed them and how many, as `people.list`.
pub fn record_listing(ledger: &mut Ledger, what: &str, count: usize) -> Result<()> {
    ledger.audit_look(
        "people.list",
        "people",
        serde_json::json!({ "by": what, "references": count }),
    )
}

/// A person by reference, with recipients as of `now` (not audited: for use cases that audit
/// what they do with it, and for [`look_up`]).
pub fn show(ledger: &Ledger, reference: &str) -> Result<PersonView> {
    let person = ledger
        .store
        .person_by_ref(reference.trim())?
        .ok_or_else(|| Error::NotFound(format!("there is no person with the reference {reference:?}")))?;
    let recipients = recipients(ledger, &person, ledger.now())?;
    let rules = crate::breach::jurisdictions::for_ledger(ledger)?;
    let jurisdictions = [person.country.as_deref(), person.region.as_deref()]
        .into_iter()
        .flatten()
        .filter(|code| rules.get(code).is_some())
        .map(str::to_owned)
        .collect();
    Ok(PersonView {
        reference: person.reference,
        category: person.category.as_str(),
        status: person.status.as_str(),
        joined_on: person.joined_on.map(|day| day.to_iso()),
        left_on: person.left_on.map(|day| day.to_iso()),
        country: person.country,
        region: person.region,
        jurisdictions,
        contact_held: person.contact.is_some(),
        canary_share: person.canary_share,
        recipients,
    })
}

/// A person found by email address, through the address's keyed hash (the address itself is
/// never stored in plain); canaries are never found.
pub fn show_by_email(ledger: &Ledger, address: &str) -> Result<PersonView> {
    let requester = crate::rights::requests::Requester {
        reference: None,
        email: Some(address.to_owned()),
        described: Default::default(),
    };
    match crate::rights::requests::match_requester(ledger, &requester)? {
        crate::rights::requests::Match::Person(person) => show(ledger, &person.reference),
        crate::rights::requests::Match::Unknown(reason) => Err(Error::NotFound(
            reason
                .split(';')
                .next()
                .unwrap_or("no person has this address")
                .to_owned(),
        )),
    }
}

/// The recipients of a person's data up to `now`.
pub fn recipients(ledger: &Ledger, person: &PersonRecord, now: Instant) -> Result<Vec<Recipient>> {
    let exports = ledger.store.export_shares_of(person.id)?;
    let erasures = ledger.store.erasures_of_person(person.id)?;
    let mut out = Vec::new();
    for share in ledger.store.shares(None)? {
        let received = match &share.meta.kind {
            ShareKind::Export => exports.contains(&share.meta.id),
            ShareKind::Feed(audience) => {
                person.canary_share.is_none()
                    && audience.categories.contains(&person.category)
                    && FeedWindow::of(&share.meta, now, &ledger.zone)
                        .is_some_and(|window| window.includes(person.joined_on, person.left_on))
            }
        };
        if !received {
            continue;
        }
        // A supplier's confirmed erasure of this person ends the shares it had received by then.
        let erasure = erasures.iter().find(|erasure| {
            erasure.supplier_id == share.meta.supplier_id
                && share.meta.shared_at <= erasure.deleted_at
                && erasure.deleted_at <= now
        });
        let erased = erasure.map(|erasure| erasure.deleted_at);
        let (deleted_at, backups_until) = match (share.meta.deleted_at, erasure) {
            (Some(share_deleted), Some(erasure)) if share_deleted <= erasure.deleted_at => {
                (Some(share_deleted), share.meta.backups_until)
            }
            (_, Some(erasure)) => (Some(erasure.deleted_at), erasure.backups_until),
            (share_deleted, None) => (share_deleted, share.meta.backups_until),
        };
        out.push(Recipient {
            supplier: share.supplier.clone(),
            share: share.meta.id,
            kind: share.meta.kind.name(),
            shared_at: share.meta.shared_at.to_rfc3339(),
            categories: share.meta.categories.iter().map(|key| key.as_str()).collect(),
            purpose: share.purpose.clone(),
            deleted_at: deleted_at.map(Instant::to_rfc3339),
            erased_by_request: erased.is_some_and(|at| Some(at) == deleted_at),
            backups_until: backups_until.map(Instant::to_rfc3339),
            backups_held: backups_until.is_some_and(|until| until > now),
        });
    }
    Ok(out)
}
