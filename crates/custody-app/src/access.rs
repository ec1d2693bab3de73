//! The answer custody gives to a subject access request (UK/EU GDPR Art. 15): the kinds of data
//! held about the person, every recipient (which supplier, which data, when, under which share,
//! deleted or not) and how long data is kept. The rest of the response (the data itself, from
//! the organisation's own systems) is the organisation's to attach.

use serde::Serialize;

use custody_core::{CategoryKey, IdentifierKind, RequestKind};
use custody_store::Store;

use crate::dir::Ledger;
use crate::error::{Error, Result};
use crate::requests::{Derived, find_request};

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
    pub share: i64,
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
}

/// The answer's model; Markdown is rendered from it, JSON is it.
#[derive(Debug, Clone, Serialize)]
pub struct AccessAnswer {
    /// Request id.
    pub request: i64,
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
    pub person: crate::person::PersonView,
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
}

/// The kinds of data custody knows the organisation holds for a person: from the identifiers
/// it hashed, the country it keeps, and every category the organisation sent to a supplier.
fn data_held(
    ledger: &Ledger,
    person: &custody_store::PersonRecord,
    recipients: &[crate::person::Recipient],
) -> Result<Vec<Labelled>> {
    let mut keys = Vec::new();
    for kind in ledger.store.identifier_kinds(person.id)? {
        keys.extend(match kind {
            IdentifierKind::EmailStrict | IdentifierKind::EmailCanonical => vec!["user.contact.email"],
            IdentifierKind::Phone => vec!["user.contact.phone_number"],
            IdentifierKind::NamePostcode => vec!["user.name", "user.contact.address.postal_code"],
            IdentifierKind::NameDateOfBirth => vec!["user.name", "user.demographic.date_of_birth"],
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
pub fn model(ledger: &Ledger, id: i64) -> Result<AccessAnswer> {
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
    let view = crate::person::show(ledger, &person.reference)?;
    let special = ledger.settings.special_category_map()?;
    let special_categories = special
        .get(&person.category)
        .map(|keys| keys.iter().copied().map(labelled).collect())
        .unwrap_or_default();
    let shares = ledger.store.shares(None)?;
    let recipients = view
        .recipients
        .iter()
        .map(|recipient| {
            let share = shares.iter().find(|share| share.meta.id == recipient.share);
            let days = share.and_then(|share| share.meta.retention_days);
            let from = if recipient.kind == "feed" {
                "after the feed stops"
            } else {
                "from when it was sent"
            };
            AnswerRecipient {
                supplier: recipient.supplier.clone(),
                share: recipient.share,
                kind: recipient.kind,
                shared_at: recipient.shared_at.clone(),
                purpose: recipient.purpose.clone(),
                categories: recipient
                    .categories
                    .iter()
                    .filter_map(|key| CategoryKey::parse(key).ok())
                    .map(labelled)
                    .collect(),
                deleted_at: recipient.deleted_at.clone(),
                erased_by_request: recipient.erased_by_request,
                backups_until: recipient.backups_until.clone(),
                retention: days.map(|days| format!("{days} days {from}")),
            }
        })
        .collect();
    let years = ledger
        .settings
        .former_retention_years
        .unwrap_or(crate::impact::FORMER_RETENTION_YEARS_DEFAULT);
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
            "We keep your data while you are with us, and for {years} year(s) after you leave. \
             Each supplier keeps it only as long as its contract allows (shown above) and deletes it \
             when the work is done."
        ),
        category_words: person.category.as_str().replace('_', " "),
        person: view,
    })
}

/// Produces the answer as `md` or `json` and hands it to `deliver` (print it, write a file);
/// once delivered, records on the request that it was produced, with the SHA-256 of the text.
/// The request stays open until the organisation sends its response and closes it.
pub fn answer(
    ledger: &mut Ledger,
    id: i64,
    format: &str,
    deliver: impl FnOnce(&str) -> Result<()>,
) -> Result<()> {
    use sha2::Digest;
    let model = model(ledger, id)?;
    let text = match format {
        "json" => serde_json::to_string_pretty(&model).map_err(|error| Error::Invalid(error.to_string()))?,
        "md" => crate::report::render_template("access.md", ACCESS_MARKDOWN, &model)?,
        other => {
            return Err(Error::Invalid(format!("--format {other:?}: expected md or json")));
        }
    };
    deliver(&text)?;
    let digest = custody_vault::hex(&sha2::Sha256::digest(text.as_bytes()));
    crate::request_acts::record_answer(ledger, id, format, &digest)
}

const ACCESS_MARKDOWN: &str = include_str!("../templates/access.md");
