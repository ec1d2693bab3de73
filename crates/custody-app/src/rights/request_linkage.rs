//! Linkage for requests: a request from an address custody does not hold, but with the
//! requester's name and their postcode or date of birth, is offered the people it probably is,
//! for a responder to confirm (`request identify ID --person REF`). It is never linked on its
//! own: a name and a postcode are not proof of identity.

use serde::{Deserialize, Serialize};

use custody_core::{
    IdentifierKind, LinkRecord, PersonSet, fold_first_word, fold_last_word, name_key, name_key_spellings,
    normalise_postcode, parse_day,
};

use crate::dir::Ledger;
use crate::error::{Error, Result};
use crate::leaks::linkage_model::agreed;

/// What a requester said about themselves beyond their address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Described {
    /// Their name as written (`Alex Smith`; `Smith, Alex`).
    pub name: Option<String>,
    /// Their postcode.
    pub postcode: Option<String>,
    /// Their date of birth (`1980-04-03`).
    pub born: Option<String>,
    /// Suggest by keyed identifiers only, never reading the ledger for fuzzy linkage (a
    /// backlog import, where one reading per request would take hours).
    pub keyed_only: bool,
}

/// A person a request probably came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suggested {
    /// Our reference.
    pub reference: String,
    /// The match probability (1 when the name with the postcode or date of birth matched a
    /// keyed identifier exactly).
    pub probability: f64,
    /// What agreed (`name+postcode`, or the fields fuzzy linkage compared).
    pub agreed: String,
}

/// The people a described requester probably is, best first (at most five). Names with the
/// postcode or date of birth are looked up as keyed identifiers first; only when none matches
/// does fuzzy linkage read the ledger. With them, the people fuzzy linkage opened.
pub fn suggest(ledger: &Ledger, described: &Described) -> Result<(Vec<Suggested>, u64)> {
    let Some(record) = record_of(described)? else {
        return Ok((Vec::new(), 0));
    };
    let (first, last) = split_name(described.name.as_deref().unwrap_or(""));
    let mut keys: Vec<String> = name_key(first, last).into_iter().collect();
    if let Some(key) = keys.first() {
        let spellings = name_key_spellings(first, last, key);
        keys.extend(spellings);
    }
    let mut exact = PersonSet::new();
    let mut how = Vec::new();
    for key in &keys {
        for (kind, value, label) in [
            (
                IdentifierKind::NamePostcode,
                record.postcode.clone(),
                "name+postcode",
            ),
            (
                IdentifierKind::NameDateOfBirth,
                record.born.map(custody_core::Day::to_iso),
                "name+date_of_birth",
            ),
        ] {
            let Some(value) = value else {
                continue;
            };
            let hash = ledger
                .vault
                .identifier_hash(kind.tag(), &format!("{key}|{value}"));
            for person in ledger.store.people_by_identifier(kind, &hash)? {
                if exact.insert(person) {
                    how.push((person, label));
                }
            }
        }
    }
    exact -= &ledger.store.canaries()?;
    if !exact.is_empty() {
        let references = crate::leaks::leak_links::references(ledger, &exact)?;
        return Ok((
            exact
                .iter()
                .filter_map(|person| Some((person, references.get(&person)?.clone())))
                .take(5)
                .map(|(person, reference)| Suggested {
                    reference,
                    probability: 1.0,
                    agreed: how
                        .iter()
                        .filter(|(found, _)| *found == person)
                        .map(|(_, label)| *label)
                        .collect::<Vec<_>>()
                        .join("+"),
                })
                .collect(),
            0,
        ));
    }
    if described.keyed_only {
        return Ok((Vec::new(), 0));
    }
    let linked = crate::leaks::linkage::link(ledger, &[(0, record)], ledger.settings.linkage)?;
    let links: Vec<_> = linked.certain.iter().chain(&linked.probable).collect();
    let people: PersonSet = links.iter().map(|link| link.person).collect();
    let references = crate::leaks::leak_links::references(ledger, &people)?;
    let read = linked.people_read;
    Ok((
        links
            .into_iter()
            .take(5)
            .filter_map(|link| {
                Some(Suggested {
                    reference: references.get(&link.person)?.clone(),
                    probability: link.probability,
                    agreed: agreed(&link.levels).join("+"),
                })
            })
            .collect(),
        read,
    ))
}

/// What linkage compares of a described requester, or `None` without a name and a postcode or
/// date of birth; a postcode or date that cannot be read is an error naming it.
fn record_of(described: &Described) -> Result<Option<LinkRecord>> {
    // Without a name there is nothing to suggest by, and the rest is not read.
    if described
        .name
        .as_deref()
        .is_none_or(|name| name.trim().is_empty())
    {
        return Ok(None);
    }
    let postcode = described
        .postcode
        .as_deref()
        .filter(|text| !text.trim().is_empty())
        .map(|text| {
            normalise_postcode(text).ok_or_else(|| {
                Error::Invalid(format!("postcode {text:?}: expected a postcode such as LS1 4AP"))
            })
        })
        .transpose()?;
    let born = described
        .born
        .as_deref()
        .filter(|text| !text.trim().is_empty())
        .map(|text| {
            parse_day(text.trim()).map_err(|_| {
                Error::Invalid(format!(
                    "date of birth {text:?}: expected a date such as 1980-04-03"
                ))
            })
        })
        .transpose()?;
    let Some(name) = described.name.as_deref() else {
        return Ok(None);
    };
    crate::limits::short_text("name", name)?;
    let (first, last) = split_name(name);
    let first = fold_first_word(first);
    let last = fold_last_word(last);
    match (first, last) {
        (Some(first), Some(last)) if postcode.is_some() || born.is_some() => Ok(Some(LinkRecord {
            first,
            last,
            born,
            postcode,
            email: None,
            phone: None,
        })),
        _ => Ok(None),
    }
}

/// Given and family name of a name as written: `Smith, Alex` is family name first.
fn split_name(name: &str) -> (&str, &str) {
    if let Some((last, first)) = name.split_once(',') {
        return (first.trim(), last.trim());
    }
    let trimmed = name.trim();
    match (
        trimmed.split_whitespace().next(),
        trimmed.split_whitespace().next_back(),
    ) {
        (Some(first), Some(last)) if first != last || trimmed.contains(' ') => (first, last),
        _ => ("", ""),
    }
}
