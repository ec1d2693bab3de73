//! A responder's review of an erasure request before any supplier is told (UK GDPR Art. 17):
//! erase everywhere, erase but keep some suppliers' copies on an Art. 17(3) ground, or refuse
//! with the ground. Grounds are offered by name, each with the words the requester is given.

use custody_core::RequestId;
use serde::Serialize;

use custody_core::RequestKind;

use crate::dir::Ledger;
use crate::error::{Error, Result};
use crate::rights::request_acts::{append, derived, event};
use crate::rights::request_events::{Action, Decide, Kept, RequestEventBody};
use crate::rights::requests::{holders, instructions};

/// A ground for keeping data despite an erasure request: Art. 17(3)(a) to (e), and, for a
/// refusal only, that no Art. 17(1) ground applies or that the request is manifestly unfounded
/// or excessive (Art. 12(5)).
pub const GROUNDS: &[(&str, &str, &str)] = &[
    (
        "freedom-of-expression",
        "Art. 17(3)(a)",
        "we need it to exercise the right of freedom of expression and information",
    ),
    (
        "legal-obligation",
        "Art. 17(3)(b)",
        "the law requires us to keep it (for example, records of donations a political party must keep under electoral law)",
    ),
    (
        "public-task",
        "Art. 17(3)(b)",
        "we need it to perform a task in the public interest or in the exercise of official authority",
    ),
    (
        "public-health",
        "Art. 17(3)(c)",
        "we need it for reasons of public interest in the area of public health",
    ),
    (
        "archiving-research",
        "Art. 17(3)(d)",
        "we need it for archiving in the public interest, research or statistics, which erasure would seriously impair",
    ),
    (
        "legal-claims",
        "Art. 17(3)(e)",
        "we need it to establish, exercise or defend legal claims",
    ),
    (
        "no-ground-applies",
        "Art. 17(1)",
        "none of the grounds for erasure in the law applies: we still need the data for the purposes we hold it for, on a lawful basis",
    ),
    (
        "manifestly-unfounded",
        "Art. 12(5)",
        "the request is manifestly unfounded",
    ),
    (
        "manifestly-excessive",
        "Art. 12(5)",
        "the request is manifestly excessive",
    ),
];

/// The grounds for erasure a decision may rest on (Art. 17(1)(a) to (f)).
pub const BASES: &[(&str, &str)] = &[
    ("no-longer-necessary", "Art. 17(1)(a)"),
    ("consent-withdrawn", "Art. 17(1)(b)"),
    ("objection", "Art. 17(1)(c)"),
    ("unlawful", "Art. 17(1)(d)"),
    ("legal-obligation", "Art. 17(1)(e)"),
    ("child", "Art. 17(1)(f)"),
];

/// A ground's stable name from what a responder typed: any case, spaces or underscores for
/// hyphens, or the point of Art. 17(3) (`17(3)(b)` is a legal obligation).
pub fn ground_name(text: &str) -> String {
    let typed: String = text
        .trim()
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c == ' ' || c == '_' { '-' } else { c })
        .collect();
    let point = typed
        .trim_start_matches("art.")
        .trim_start_matches("article")
        .trim_start_matches('-');
    match point {
        "17(3)(a)" => "freedom-of-expression",
        "17(3)(b)" => "legal-obligation",
        "17(3)(c)" => "public-health",
        "17(3)(d)" => "archiving-research",
        "17(3)(e)" => "legal-claims",
        _ => typed.as_str(),
    }
    .to_owned()
}

/// The grounds that only a refusal may give (a partial erasure keeps data under Art. 17(3)).
pub const REFUSAL_ONLY_GROUNDS: [&str; 3] = [
    "no-ground-applies",
    "manifestly-unfounded",
    "manifestly-excessive",
];

/// A ground's article and words, or a clear error listing the grounds.
pub fn ground(name: &str, for_refusal: bool) -> Result<(&'static str, &'static str)> {
    let name = ground_name(name);
    let refusal_only = REFUSAL_ONLY_GROUNDS;
    GROUNDS
        .iter()
        .find(|(key, _, _)| *key == name && (for_refusal || !refusal_only.contains(key)))
        .map(|(_, article, words)| (*article, *words))
        .ok_or_else(|| {
            let offered: Vec<&str> = GROUNDS
                .iter()
                .map(|(key, _, _)| *key)
                .filter(|key| for_refusal || !refusal_only.contains(key))
                .collect();
            Error::Invalid(format!(
                "--ground {name:?} is not a ground custody knows; expected one of {}",
                offered.join(", ")
            ))
        })
}

/// What a responder decided.
#[derive(Debug, Clone)]
pub enum Decision {
    /// Erase at every holder, optionally naming the Art. 17(1) ground.
    Erase {
        /// The ground for erasure.
        basis: Option<String>,
    },
    /// Erase, but keep these suppliers' copies on a ground.
    Partial {
        /// Suppliers kept out.
        keep: Vec<String>,
        /// The Art. 17(3) ground.
        ground: String,
        /// Why, for the requester.
        reason: String,
        /// The ground for erasure.
        basis: Option<String>,
    },
    /// Refuse, with the ground and the reason (the requester must be told, Art. 12(4)).
    Refuse {
        /// The ground.
        ground: String,
        /// Why, for the requester.
        reason: String,
    },
}

/// What a decision did.
#[derive(Debug, Clone, Serialize)]
pub struct Decided {
    /// `erase`, `partial` or `refuse`.
    pub decision: &'static str,
    /// Suppliers instructed to erase.
    pub instructed: Vec<String>,
    /// Suppliers kept out.
    pub kept: Vec<String>,
}

fn reason_given(reason: &str) -> Result<String> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Error::Invalid(
            "--reason must say why, in words the requester will be given (Art. 12(4))".to_owned(),
        ));
    }
    crate::limits::long_text("reason", reason)?;
    Ok(reason.to_owned())
}

fn basis_given(basis: Option<String>) -> Result<Option<String>> {
    match basis.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(name) if BASES.iter().any(|(key, _)| *key == name) => Ok(Some(name.to_owned())),
        Some(name) => Err(Error::Invalid(format!(
            "--basis {name:?}: expected one of {}",
            BASES.iter().map(|(key, _)| *key).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// Decides an erasure under review; instructs the suppliers it erases at in the same transaction.
pub fn decide(ledger: &mut Ledger, id: RequestId, decision: Decision) -> Result<Decided> {
    let (record, state) = derived(ledger, id)?;
    if record.facts.kind != RequestKind::Erasure {
        return Err(Error::Invalid(format!(
            "request {id} is a request for {}; only erasures are decided",
            record.facts.kind.as_str()
        )));
    }
    if state.closed.is_some() || state.done_at(&record).is_some() {
        return Err(Error::Invalid(format!(
            "request {id} is closed or done; it cannot be decided"
        )));
    }
    if state.decision.is_some() {
        return Err(Error::Invalid(format!("request {id} was decided already")));
    }
    if let Some(pause) = state.open_pause() {
        return Err(Error::Invalid(format!(
            "request {id} is paused, waiting for {}; resume it before deciding",
            pause.reason.as_str()
        )));
    }
    let Some(person_id) = state.person else {
        return Err(Error::Invalid(format!(
            "request {id} is not linked to a person yet; run `custody request identify {id} --person REF` first"
        )));
    };
    if !state.instructions.is_empty() {
        return Err(Error::Invalid(format!(
            "request {id} instructed its suppliers when it was opened (erasure_review = false)"
        )));
    }
    let person = ledger
        .store
        .person(person_id)?
        .ok_or_else(|| Error::NotFound(format!("request {id}'s person is gone")))?;
    let all = holders(ledger, &person, ledger.now())?;
    let (body, erase_at) = match decision {
        Decision::Erase { basis } => {
            let decide = Decide {
                decision: "erase".to_owned(),
                ground: None,
                reason: None,
                basis: basis_given(basis)?,
                kept: Vec::new(),
            };
            (decide, all)
        }
        Decision::Refuse { ground: name, reason } => {
            ground(&name, true)?;
            let decide = Decide {
                decision: "refuse".to_owned(),
                ground: Some(ground_name(&name)),
                reason: Some(reason_given(&reason)?),
                basis: None,
                kept: Vec::new(),
            };
            (decide, Vec::new())
        }
        Decision::Partial {
            keep,
            ground: name,
            reason,
            basis,
        } => {
            ground(&name, false)?;
            let reason = reason_given(&reason)?;
            if keep.is_empty() {
                return Err(Error::Invalid("--keep-supplier names no supplier".to_owned()));
            }
            let mut kept = Vec::new();
            for supplier in &keep {
                let found = crate::ledger::suppliers::find(ledger, supplier)?;
                if !all.iter().any(|holder| holder.supplier_id == found.id) {
                    return Err(Error::Invalid(format!(
                        "{} does not hold this person's data; the suppliers that do are: {}",
                        found.name,
                        all.iter()
                            .map(|h| h.supplier.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
                if kept.iter().any(|k: &Kept| k.supplier_id == found.id) {
                    continue;
                }
                kept.push(Kept {
                    supplier_id: found.id,
                    supplier: found.name,
                    ground: ground_name(&name),
                    reason: reason.clone(),
                });
            }
            let erase_at: Vec<_> = all
                .into_iter()
                .filter(|holder| !kept.iter().any(|k| k.supplier_id == holder.supplier_id))
                .collect();
            if erase_at.is_empty() {
                return Err(Error::Invalid(
                    "that keeps the data at every supplier holding it: record it as a refusal (--refuse)"
                        .to_owned(),
                ));
            }
            let decide = Decide {
                decision: "partial".to_owned(),
                ground: None,
                reason: None,
                basis: basis_given(basis)?,
                kept,
            };
            (decide, erase_at)
        }
    };
    let decided = Decided {
        decision: match body.decision.as_str() {
            "erase" => "erase",
            "partial" => "partial",
            _ => "refuse",
        },
        instructed: erase_at.iter().map(|holder| holder.supplier.clone()).collect(),
        kept: body.kept.iter().map(|kept| kept.supplier.clone()).collect(),
    };
    let mut events = vec![event(ledger, ledger.now(), &RequestEventBody::Decide(body))?];
    events.extend(instructions(ledger, &erase_at, &person, Action::Erase)?);
    let before = crate::notices::instruction_mail::count(ledger, id)?;
    append(ledger, id, events, None)?;
    if !erase_at.is_empty() {
        crate::notices::instruction_mail::queue_recorded(ledger, &[(id, before)])?;
    }
    Ok(decided)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn grounds_are_read_as_people_type_them() {
        assert_eq!(ground_name("Legal obligation"), "legal-obligation");
        assert_eq!(ground_name("legal_claims"), "legal-claims");
        assert_eq!(ground_name("Art. 17(3)(e)"), "legal-claims");
        assert_eq!(ground_name("17(3)(a)"), "freedom-of-expression");
        assert!(ground("Manifestly excessive", true).is_ok());
        assert!(
            ground("manifestly-excessive", false).is_err(),
            "a refusal ground cannot keep a copy"
        );
        let error = ground("because", true).unwrap_err().to_string();
        assert!(error.contains("legal-claims"), "{error}");
    }
}
