//! The answer to a requester, for every kind of request: an access answer
//! ([`crate::rights::access`]); for portability, a machine-readable file of what custody holds with a
//! note of what the organisation's own systems must add (Art. 20); for erasure, rectification,
//! restriction and objection, what was done at which supplier and what was kept and why
//! (Art. 12(3), 12(4), 19).

use custody_core::RequestId;
use serde::Serialize;

use custody_core::RequestKind;

use crate::dir::Ledger;
use crate::error::{Error, Result};
use crate::rights::request_acts::derived;
use crate::rights::request_decide::ground;

/// What happened at one supplier.
#[derive(Debug, Clone, Serialize)]
pub struct SupplierOutcome {
    /// Supplier.
    pub supplier: String,
    /// What it was told to do, in words.
    pub action: String,
    /// `done` or `pending`.
    pub state: &'static str,
    /// When it confirmed, local.
    pub confirmed: Option<String>,
}

/// A supplier's copy kept despite an erasure, and why.
#[derive(Debug, Clone, Serialize)]
pub struct KeptCopy {
    /// Supplier.
    pub supplier: String,
    /// The article.
    pub article: String,
    /// Why, in the law's words.
    pub ground: String,
    /// Why, in the organisation's words.
    pub reason: String,
}

/// The answer to an erasure, rectification, restriction or objection.
#[derive(Debug, Clone, Serialize)]
pub struct Response {
    /// Request id.
    pub request: RequestId,
    /// Kind.
    pub kind: &'static str,
    /// The right, in words.
    pub right: &'static str,
    /// The article.
    pub article: &'static str,
    /// Organisation.
    pub organisation: String,
    /// Regulator.
    pub regulator: String,
    /// How to complain.
    pub regulator_contact: String,
    /// DPO.
    pub dpo: custody_core::DpoContact,
    /// The person's reference.
    #[serde(rename = "ref")]
    pub reference: String,
    /// Received, local.
    pub received_local: String,
    /// Generated, local.
    pub generated_local: String,
    /// What each supplier was told and whether it has done it.
    pub suppliers: Vec<SupplierOutcome>,
    /// Copies kept, with their grounds.
    pub kept: Vec<KeptCopy>,
    /// A refusal on review: article, ground in words, reason.
    pub refused: Option<KeptCopy>,
    /// How the request was closed by hand (`done`, `refused`, `withdrawn`), with the reason.
    pub closed: Option<(String, String)>,
}

fn right(kind: RequestKind) -> &'static str {
    match kind {
        RequestKind::Access => "access to your data",
        RequestKind::Erasure => "erasure of your data",
        RequestKind::Rectification => "correction of your data",
        RequestKind::Restriction => "restriction of the use of your data",
        RequestKind::Portability => "a copy of your data to take elsewhere",
        RequestKind::Objection => "an end to the use of your data for direct marketing",
    }
}

/// The person a request is linked to, or a clear error.
fn linked_person(
    ledger: &Ledger,
    id: RequestId,
    state: &crate::rights::request_state::Derived,
) -> Result<custody_store::PersonRecord> {
    state
        .person
        .map(|person| ledger.store.person(person))
        .transpose()?
        .flatten()
        .ok_or_else(|| {
            Error::Invalid(format!(
                "request {id} is not linked to a person yet; run `custody request identify {id} --person REF`"
            ))
        })
}

/// The response model for a request that is not access or portability.
pub fn response(ledger: &Ledger, id: RequestId) -> Result<Response> {
    let _snapshot = ledger.store.read_snapshot()?;
    let (record, state) = derived(ledger, id)?;
    let person = linked_person(ledger, id, &state)?;
    if state.awaiting_decision(&record) {
        return Err(Error::Invalid(format!(
            "request {id} awaits a decision; run `custody request decide {id}` first"
        )));
    }
    let words = |name: &str| ground(name, true).unwrap_or(("", ""));
    let (kept, refused) = match &state.decision {
        Some((decide, _)) => {
            let kept = decide
                .kept
                .iter()
                .map(|kept| KeptCopy {
                    supplier: kept.supplier.clone(),
                    article: words(&kept.ground).0.to_owned(),
                    ground: words(&kept.ground).1.to_owned(),
                    reason: kept.reason.clone(),
                })
                .collect();
            let refused = (decide.decision == "refuse").then(|| {
                let name = decide.ground.clone().unwrap_or_default();
                KeptCopy {
                    supplier: String::new(),
                    article: words(&name).0.to_owned(),
                    ground: words(&name).1.to_owned(),
                    reason: decide.reason.clone().unwrap_or_default(),
                }
            });
            (kept, refused)
        }
        None => (Vec::new(), None),
    };
    let answer = &ledger.settings.access_answer;
    Ok(Response {
        request: id,
        kind: record.facts.kind.as_str(),
        right: right(record.facts.kind),
        article: record.facts.kind.article(),
        organisation: ledger.settings.organisation.clone(),
        regulator: ledger.settings.regulator.clone(),
        regulator_contact: answer
            .regulator_contact
            .clone()
            .unwrap_or_else(|| custody_core::DEFAULT_REGULATOR_CONTACT.to_owned()),
        dpo: ledger.settings.dpo.clone(),
        reference: person.reference,
        received_local: record.facts.received_at.local(&ledger.zone),
        generated_local: ledger.now().local(&ledger.zone),
        suppliers: state
            .instructions
            .iter()
            .map(|instruction| SupplierOutcome {
                supplier: instruction.supplier.clone(),
                action: instruction.action.words().to_owned(),
                state: if instruction.confirmed_at.is_some() {
                    "done"
                } else {
                    "pending"
                },
                confirmed: instruction.confirmed_at.map(|at| at.local(&ledger.zone)),
            })
            .collect(),
        kept,
        refused,
        closed: state
            .closed
            .as_ref()
            .map(|(outcome, _)| (outcome.clone(), state.closed_reason.clone().unwrap_or_default())),
    })
}

/// The portability file (Art. 20): what custody holds on the person, in a machine-readable
/// form, and what the organisation's own systems must add.
#[derive(Debug, Clone, Serialize)]
pub struct Portable {
    /// A name for the format.
    pub format: &'static str,
    /// Organisation.
    pub organisation: String,
    /// Generated (RFC 3339).
    pub generated_at: String,
    /// The person as the organisation records them.
    pub person: crate::rights::access::AnswerPerson,
    /// The kinds of data held, keys and plain names.
    pub data_held: Vec<crate::rights::access::Labelled>,
}

/// What the organisation must add to a portability file before sending it (told to the DPO).
pub const CRM_MUST_ADD: &str = "this file holds what custody records: the person's reference, status and the \
     kinds of data held. custody keeps only keyed fingerprints of contact details, never the details \
     themselves: add the person's own record from the membership system (CRM), with their name, contact \
     details and every field they provided, in this or another machine-readable format (CSV or JSON) \
     before sending it (Art. 20)";

fn portable(ledger: &Ledger, id: RequestId) -> Result<Portable> {
    let (_, state) = derived(ledger, id)?;
    let person = linked_person(ledger, id, &state)?;
    let view = crate::ledger::person::show(ledger, &person.reference)?;
    let data_held = crate::rights::access::labelled_held(ledger, &person, &view.recipients)?;
    Ok(Portable {
        format: "custody-portability/1",
        organisation: ledger.settings.organisation.clone(),
        generated_at: ledger.now().to_rfc3339(),
        person: crate::rights::access::AnswerPerson::of(&view),
        data_held,
    })
}

/// Produces the answer to a request of any kind as `md` or `json` and hands it to `deliver`;
/// once delivered, records on the request that it was produced, with the SHA-256 of the text.
/// Returns warnings for the DPO (never part of the answer).
pub fn answer(
    ledger: &mut Ledger,
    id: RequestId,
    format: &str,
    deliver: impl FnOnce(&str) -> Result<()>,
) -> Result<Vec<String>> {
    use sha2::Digest;
    if !matches!(format, "md" | "json") {
        return Err(Error::Invalid(format!(
            "--format {format:?}: expected md or json"
        )));
    }
    let record = crate::rights::requests::find_request(ledger, id)?;
    if record.facts.kind == RequestKind::Access {
        let (_, state) = derived(ledger, id)?;
        if let Some((outcome @ ("refused" | "withdrawn"), _)) =
            state.closed.as_ref().map(|(o, at)| (o.as_str(), at))
        {
            return Err(Error::Invalid(format!(
                "request {id} was closed as {outcome}: there is no access answer to give; the requester \
                 is told the refusal or the withdrawal with its reason"
            )));
        }
    }
    let (text, warnings) = match (record.facts.kind, format) {
        (RequestKind::Access, "json") => {
            let model = crate::rights::access::model(ledger, id)?;
            (pretty(&model)?, crate::rights::access::warnings(&model))
        }
        (RequestKind::Access, _) => {
            let model = crate::rights::access::model(ledger, id)?;
            let text = crate::breach::report::render_template(
                "access.md",
                crate::rights::access::ACCESS_MARKDOWN,
                &model,
            )?;
            (text, crate::rights::access::warnings(&model))
        }
        (RequestKind::Portability, "json") => {
            (pretty(&portable(ledger, id)?)?, vec![CRM_MUST_ADD.to_owned()])
        }
        (RequestKind::Portability, _) => {
            return Err(Error::Invalid(
                "a portability answer is a machine-readable file: use --format json".to_owned(),
            ));
        }
        (_, "json") => (pretty(&response(ledger, id)?)?, Vec::new()),
        (_, _) => {
            let model = response(ledger, id)?;
            (
                crate::breach::report::render_template("response.md", RESPONSE_MARKDOWN, &model)?,
                Vec::new(),
            )
        }
    };
    deliver(&text)?;
    let digest = custody_vault::hex(&sha2::Sha256::digest(text.as_bytes()));
    crate::rights::request_acts::record_answer(ledger, id, format, &digest)?;
    Ok(warnings)
}

fn pretty<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string_pretty(value).map_err(|error| Error::Invalid(error.to_string()))
}

const RESPONSE_MARKDOWN: &str = include_str!("../../templates/response.md");
