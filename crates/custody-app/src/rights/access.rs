//! The answer custody gives to a subject access request, covering every part of UK GDPR
//! Art. 15: the purposes (the organisation's own, from settings `[access_answer]`, and each
//! share's), the kinds of data by their plain names, every recipient (which supplier, which
//! data, when, deleted or not), retention, the rights (with how to complain to the regulator),
//! the source, automated decision-making, transfers outside the UK and EEA with their
//! safeguards (15(2)), and a statement that a copy of the data is attached (15(3)) — the copy
//! itself comes from the organisation's own systems. Times are in the organisation's zone.

use custody_core::{RequestId, ShareId};
use serde::Serialize;

use custody_core::{CategoryKey, IdentifierKind, RequestKind};

use crate::dir::Ledger;
use crate::error::{Error, Result};
use crate::rights::requests::{Derived, find_request};

/// A data category with its words.
#[derive(Debug, Clone, Serialize)]
pub struct Labelled {
    /// fideslang key.
    pub key: &'static str,
    /// Plain words.
    pub label: String,
}

fn labelled(key: CategoryKey) -> Labelled {
    let label = key.plain_label();
    Labelled {
        key: key.as_str(),
        label: label.strip_prefix("your ").map_or(label.clone(), |rest| {
            let mut chars = rest.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        }),
    }
}

/// A recipient as the answer shows it.
#[derive(Debug, Clone, Serialize)]
pub struct AnswerRecipient {
    /// Supplier.
    pub supplier: String,
    /// Share id.
    pub share: ShareId,
    /// `export` or `feed`.
    pub kind: &'static str,
    /// When sent.
    pub shared_at: String,
    /// Why.
    pub purpose: String,
    /// The data sent.
    pub categories: Vec<Labelled>,
    /// When deleted.
    pub deleted_at: Option<String>,
    /// Whether that was this person's own erasure.
    pub erased_by_request: bool,
    /// Until when backups keep it.
    pub backups_until: Option<String>,
    /// The retention the contract allows, in words.
    pub retention: Option<String>,
    /// Whether the supplier still holds it past that retention (a warning to the DPO, never
    /// part of the answer).
    #[serde(skip)]
    pub past_retention: bool,
}

/// The person as their answer shows them: what the organisation records, nothing of custody's own
/// bookkeeping.
#[derive(Debug, Clone, Serialize)]
pub struct AnswerPerson {
    /// Their reference.
    #[serde(rename = "ref")]
    pub reference: String,
    /// Current or former.
    pub status: &'static str,
    /// Joined.
    pub joined_on: Option<String>,
    /// Left.
    pub left_on: Option<String>,
    /// Country (ISO 3166 alpha-2).
    pub country: Option<String>,
}

impl AnswerPerson {
    /// From the ledger's view of a person.
    pub fn of(view: &crate::ledger::person::PersonView) -> Self {
        AnswerPerson {
            reference: view.reference.clone(),
            status: view.status,
            joined_on: view.joined_on.clone(),
            left_on: view.left_on.clone(),
            country: view.country.clone(),
        }
    }
}

/// A transfer outside the UK and EEA (Art. 15(1)(c), 15(2)).
#[derive(Debug, Clone, Serialize)]
pub struct Transfer {
    /// Supplier.
    pub supplier: String,
    /// Country (ISO 3166 alpha-2).
    pub country: String,
    /// The safeguard, or a statement that none is recorded.
    pub safeguard: String,
}

/// The answer's model; Markdown is rendered from it, JSON is it.
#[derive(Debug, Clone, Serialize)]
pub struct AccessAnswer {
    /// Request id.
    pub request: RequestId,
    /// Organisation.
    pub organisation: String,
    /// Regulator.
    pub regulator: String,
    /// DPO.
    pub dpo: custody_core::DpoContact,
    /// Received, local.
    pub received_local: String,
    /// Generated, local.
    pub generated_local: String,
    /// The person.
    pub person: AnswerPerson,
    /// Their category in words ("registered supporter").
    pub category_words: String,
    /// The kinds of data held about the person.
    pub data_held: Vec<Labelled>,
    /// Special categories their membership reveals.
    pub special_categories: Vec<Labelled>,
    /// Every recipient.
    pub recipients: Vec<AnswerRecipient>,
    /// How long data is kept, in words.
    pub retention: String,
    /// The organisation's own purposes (Art. 15(1)(a)).
    pub purposes: Vec<String>,
    /// Where the data came from (Art. 15(1)(g)).
    pub source: String,
    /// Automated decision-making (Art. 15(1)(h)).
    pub automated_decisions: String,
    /// Transfers outside the UK and EEA (Art. 15(2)).
    pub transfers: Vec<Transfer>,
    /// Recipients whose country is not recorded (the answer says so rather than guess).
    pub country_unknown: Vec<String>,
    /// The copy of the data attached, and where it comes from (Art. 15(3)).
    pub copy_statement: String,
    /// How to complain to the regulator (Art. 15(1)(f)).
    pub regulator_contact: String,
}

/// An RFC 3339 instant as the organisation's local time (the person reads local times).
fn local(ledger: &Ledger, text: &str) -> String {
    text.parse::<jiff::Timestamp>()
        .map(|at| custody_core::Instant::from_timestamp(at).local(&ledger.zone))
        .unwrap_or_else(|_| text.to_owned())
}

/// The kinds of data held about a person, with their plain names.
pub(crate) fn labelled_held(
    ledger: &Ledger,
    person: &custody_store::PersonRecord,
    recipients: &[crate::ledger::person::Recipient],
) -> Result<Vec<Labelled>> {
    data_held(ledger, person, recipients)
}

/// The kinds of data custody knows the organisation holds for a person: from the identifiers
/// it hashed, the country it keeps, and every category the organisation sent to a supplier.
fn data_held(
    ledger: &Ledger,
    person: &custody_store::PersonRecord,
    recipients: &[crate::ledger::person::Recipient],
) -> Result<Vec<Labelled>> {
    let mut keys = Vec::new();
    for kind in ledger.store.identifier_kinds(person.id)? {
        keys.extend(match kind {
            IdentifierKind::EmailStrict | IdentifierKind::EmailCanonical => vec!["user.contact.email"],
            IdentifierKind::Phone => vec!["user.contact.phone_number"],
            IdentifierKind::NamePostcode => vec!["user.name", "user.contact.address.postal_code"],
            IdentifierKind::NameDateOfBirth | IdentifierKind::NameBirthday => {
                vec!["user.name", "user.demographic.date_of_birth"]
            }
            IdentifierKind::NameAddress => vec!["user.name", "user.contact.address.street"],
            IdentifierKind::NationalId => vec!["user.government_id.national_identification_number"],
        });
    }
    if person.country.is_some() {
        keys.push("user.contact.address.country");
    }
    for recipient in recipients {
        keys.extend(recipient.categories.iter().copied());
    }
    let mut parsed: Vec<CategoryKey> = keys
        .into_iter()
        .filter_map(|key| CategoryKey::parse(key).ok())
        .collect();
    parsed.sort();
    parsed.dedup();
    Ok(parsed.into_iter().map(labelled).collect())
}

/// Builds the answer to an access request.
pub fn model(ledger: &Ledger, id: RequestId) -> Result<AccessAnswer> {
    let _snapshot = ledger.store.read_snapshot()?;
    let record = find_request(ledger, id)?;
    if record.facts.kind != RequestKind::Access {
        return Err(Error::Invalid(format!(
            "request {id} is a request for {}; only access requests are answered this way",
            record.facts.kind.as_str()
        )));
    }
    let derived = Derived::of(&record, &ledger.store.request_events(id)?)?;
    let Some(person) = derived
        .person
        .map(|id| ledger.store.person(id))
        .transpose()?
        .flatten()
    else {
        return Err(Error::Invalid(format!(
            "request {id} is not linked to a person yet; check the requester's identity and run \
             `custody request identify {id} --person REF`"
        )));
    };
    let view = crate::ledger::person::show(ledger, &person.reference)?;
    let special = ledger.settings.special_category_map()?;
    let special_categories = special
        .get(&person.category)
        .map(|keys| keys.iter().copied().map(labelled).collect())
        .unwrap_or_default();
    let shares = ledger.store.shares(None)?;
    let now = ledger.now();
    let recipients: Vec<AnswerRecipient> = view
        .recipients
        .iter()
        .map(|recipient| {
            let share = shares.iter().find(|share| share.meta.id == recipient.share);
            let days = share.and_then(|share| share.meta.retention_days);
            let past_retention = share.is_some_and(|share| {
                let ends = share.meta.ends_at.unwrap_or(share.meta.shared_at);
                recipient.deleted_at.is_none()
                    && (share.meta.ends_at.is_some() || recipient.kind == "export")
                    && days.is_some_and(|days| ends.plus_hours(i64::from(days) * 24) < now)
            });
            let from = if recipient.kind == "feed" {
                "after the feed stops"
            } else {
                "from when it was sent"
            };
            AnswerRecipient {
                supplier: recipient.supplier.clone(),
                share: recipient.share,
                kind: recipient.kind,
                shared_at: local(ledger, &recipient.shared_at),
                purpose: recipient.purpose.clone(),
                categories: recipient
                    .categories
                    .iter()
                    .filter_map(|key| CategoryKey::parse(key).ok())
                    .map(labelled)
                    .collect(),
                deleted_at: recipient.deleted_at.as_deref().map(|at| local(ledger, at)),
                erased_by_request: recipient.erased_by_request,
                backups_until: recipient.backups_until.as_deref().map(|at| local(ledger, at)),
                retention: days.map(|days| format!("{days} days {from}")),
                past_retention,
            }
        })
        .collect();
    let (transfers, country_unknown) = transfers(ledger, &recipients)?;
    let words = &ledger.settings.access_answer;
    let years = ledger
        .settings
        .former_retention_years
        .unwrap_or(crate::breach::impact::FORMER_RETENTION_YEARS_DEFAULT);
    Ok(AccessAnswer {
        request: id,
        organisation: ledger.settings.organisation.clone(),
        regulator: ledger.settings.regulator.clone(),
        dpo: ledger.settings.dpo.clone(),
        received_local: record.facts.received_at.local(&ledger.zone),
        generated_local: ledger.now().local(&ledger.zone),
        data_held: data_held(ledger, &person, &view.recipients)?,
        special_categories,
        recipients,
        retention: format!(
            "We keep your data while you are with us, and for {years} {} after you leave. \
             Each supplier keeps it only as long as its contract allows (shown above) and deletes it \
             when the work is done.",
            if years == 1 { "year" } else { "years" }
        ),
        category_words: person.category.as_str().replace('_', " "),
        person: AnswerPerson::of(&view),
        purposes: words.purposes_or_default(),
        source: words
            .source
            .clone()
            .unwrap_or_else(|| custody_core::DEFAULT_SOURCE.to_owned()),
        automated_decisions: words
            .automated_decisions
            .clone()
            .unwrap_or_else(|| custody_core::DEFAULT_AUTOMATED.to_owned()),
        transfers,
        country_unknown,
        copy_statement: format!(
            "A copy of the personal data we hold about you is attached: {}.",
            words
                .copy_from
                .as_deref()
                .unwrap_or(custody_core::DEFAULT_COPY_FROM)
        ),
        regulator_contact: words
            .regulator_contact
            .clone()
            .unwrap_or_else(|| custody_core::DEFAULT_REGULATOR_CONTACT.to_owned()),
    })
}

/// The recipients whose supplier keeps data outside the UK and EEA, with the safeguard (UK
/// adequacy regulations where they apply), and those whose country is not recorded.
fn transfers(ledger: &Ledger, recipients: &[AnswerRecipient]) -> Result<(Vec<Transfer>, Vec<String>)> {
    let suppliers = ledger.store.suppliers()?;
    let mut out: Vec<Transfer> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    for recipient in recipients {
        let Some(supplier) = suppliers.iter().find(|s| s.name == recipient.supplier) else {
            continue;
        };
        if out.iter().any(|t| t.supplier == supplier.name) || unknown.contains(&supplier.name) {
            continue;
        }
        let Some(country) = supplier.country.as_deref() else {
            unknown.push(supplier.name.clone());
            continue;
        };
        if custody_core::is_uk_or_eea(country) {
            continue;
        }
        let safeguard = match &supplier.transfer_safeguard {
            Some(text) => text.clone(),
            None if custody_core::is_uk_adequate(country) => {
                "UK adequacy regulations: the UK has found the protection there adequate".to_owned()
            }
            None => "no safeguard is recorded; ask our data protection officer".to_owned(),
        };
        out.push(Transfer {
            supplier: supplier.name.clone(),
            country: country.to_owned(),
            safeguard,
        });
    }
    Ok((out, unknown))
}

/// Warnings for the DPO about what an answer reveals (never part of the answer): shares still
/// held past their retention.
pub fn warnings(model: &AccessAnswer) -> Vec<String> {
    model
        .recipients
        .iter()
        .filter(|recipient| recipient.past_retention)
        .map(|recipient| {
            format!(
                "this answer shows that {} still holds share {} past its retention ({}); ask for its \
                 deletion (`custody retention`)",
                recipient.supplier,
                recipient.share,
                recipient.retention.as_deref().unwrap_or("")
            )
        })
        .collect()
}

/// The Markdown template of the access answer.
pub(crate) const ACCESS_MARKDOWN: &str = include_str!("../../templates/access.md");
