//! What a match says about each link: certain (an identifier matched exactly, or fuzzy linkage
//! scored at or above the certain line) or probable (the review band), how, and with what
//! score; and the linkage file (`--rows`), one line per linked row, for a person to check any
//! decision.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Serialize;

use custody_core::{IdentifierKind, PersonId, PersonSet};

use crate::dir::Ledger;
use crate::error::{Error, Result};
use crate::leaks::linkage::{FuzzyLink, Linked};
use crate::leaks::linkage_model::agreed;

/// One person's link, with `--people`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PersonLink {
    /// Our reference.
    pub reference: String,
    /// `certain` or `probable`.
    pub link: &'static str,
    /// `exact` (an identifier matched) or `fuzzy`.
    pub how: &'static str,
    /// The match probability (1 for an exact identifier).
    pub probability: f64,
    /// The identifiers that matched, or the fields that agreed.
    pub agreed: Vec<String>,
    /// The first line of the file the person was found on.
    pub line: u64,
}

/// How fuzzy linkage ran, for the report.
#[derive(Debug, Clone, Serialize, Default)]
pub struct LinkageView {
    /// Rows no identifier matched exactly that had a name and something else to link by.
    pub rows_tried: u64,
    /// Such rows beyond what fuzzy linkage keeps in memory (2 million a worker): not tried.
    pub rows_not_tried: u64,
    /// People read from the ledger (their sealed details opened in memory).
    pub people_read: u64,
    /// Pairs compared after blocking.
    pub pairs: u64,
    /// Where the people's blocking keys came from: `file` (kept beside the store) or `store`
    /// (everyone read to make them; kept for the next linkage unless `keep_blocks` is false).
    pub blocks_source: &'static str,
    /// Rows linked for certain.
    pub rows_certain: u64,
    /// Rows in the review band.
    pub rows_probable: u64,
    /// The certain line and the review line (from `[linkage]`).
    pub certain_line: f64,
    /// The review line.
    pub review_line: f64,
    /// The share of candidate pairs the model estimated to be matches.
    pub prior: f64,
    /// Seconds linkage took.
    pub seconds: f64,
    /// The model's parameters as estimated from this file and the ledger; its starting values
    /// (`u_pairs` 0) when no block was usable, so that nothing could be compared.
    pub model: crate::leaks::linkage_model::Model,
}

/// How a fuzzy link agreed, as one name: `first_name+last_name+date_of_birth`.
pub(crate) fn how(link: &FuzzyLink) -> String {
    let mut fields = agreed(&link.levels);
    if link.swapped {
        fields.push("names_swapped");
    }
    fields.join("+")
}

/// The people of a list of links.
pub(crate) fn people_of(links: &[FuzzyLink]) -> PersonSet {
    links.iter().map(|link| link.person).collect()
}

/// Counts of rows by how they agreed.
pub(crate) fn counts_by_how(links: &[FuzzyLink]) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for link in links {
        *counts.entry(how(link)).or_insert(0) += 1;
    }
    counts
}

/// References by person, for the people in `set` (each read with its own id: a person gone
/// meanwhile is left out, never named by another's reference).
pub(crate) fn references(ledger: &Ledger, set: &PersonSet) -> Result<HashMap<PersonId, String>> {
    let mut out = HashMap::with_capacity(set.len() as usize);
    ledger.store.each_person(set, &mut |person| {
        out.insert(person.id, person.reference);
        Ok(())
    })?;
    Ok(out)
}

/// Every person linked, certain first, each once at their best link.
pub(crate) fn person_links(
    ledger: &Ledger,
    exact: &[(u64, PersonId, u8)],
    linked: &Linked,
    canaries: &PersonSet,
) -> Result<Vec<PersonLink>> {
    let mut everyone: PersonSet = exact.iter().map(|(_, person, _)| *person).collect();
    everyone |= people_of(&linked.certain);
    everyone |= people_of(&linked.probable);
    everyone -= canaries;
    let names = references(ledger, &everyone)?;
    let mut out: BTreeMap<PersonId, PersonLink> = BTreeMap::new();
    for (line, person, slot) in exact {
        let Some(reference) = names.get(person) else {
            continue;
        };
        let kind = IdentifierKind::ALL
            .get(usize::from(*slot))
            .map_or("identifier", |kind| kind.as_str());
        let entry = out.entry(*person).or_insert_with(|| PersonLink {
            reference: reference.clone(),
            link: "certain",
            how: "exact",
            probability: 1.0,
            agreed: Vec::new(),
            line: *line,
        });
        if !entry.agreed.iter().any(|known| known == kind) {
            entry.agreed.push(kind.to_owned());
        }
        entry.line = entry.line.min(*line);
    }
    for (links, certain) in [(&linked.certain, true), (&linked.probable, false)] {
        for link in links {
            let Some(reference) = names.get(&link.person) else {
                continue;
            };
            // Certain links come first: a probable one never takes a certain one's place.
            let better = out.get(&link.person).is_none_or(|known| {
                known.how == "fuzzy"
                    && known.link == if certain { "certain" } else { "probable" }
                    && known.probability < link.probability
            });
            if better {
                out.insert(
                    link.person,
                    PersonLink {
                        reference: reference.clone(),
                        link: if certain { "certain" } else { "probable" },
                        how: "fuzzy",
                        probability: link.probability,
                        agreed: how(link).split('+').map(str::to_owned).collect(),
                        line: link.line,
                    },
                );
            }
        }
    }
    let mut list: Vec<PersonLink> = out.into_values().collect();
    list.sort_by(|a, b| (a.link, &a.reference).cmp(&(b.link, &b.reference)));
    Ok(list)
}

/// Writes the linkage file: a CSV of every linked row (line, reference, link, how,
/// probability, what agreed), private to its owner.
pub(crate) fn write_rows(
    ledger: &Ledger,
    path: &Path,
    exact: &[(u64, PersonId, u8)],
    linked: &Linked,
    canaries: &PersonSet,
) -> Result<u64> {
    let mut everyone: PersonSet = exact.iter().map(|(_, person, _)| *person).collect();
    everyone |= people_of(&linked.certain);
    everyone |= people_of(&linked.probable);
    everyone -= canaries;
    let names = references(ledger, &everyone)?;
    let mut lines: Vec<(u64, String, &'static str, &'static str, f64, String)> = Vec::new();
    let mut exact_rows: BTreeMap<(u64, PersonId), Vec<&'static str>> = BTreeMap::new();
    for (line, person, slot) in exact {
        let kind = IdentifierKind::ALL
            .get(usize::from(*slot))
            .map_or("identifier", |kind| kind.as_str());
        exact_rows.entry((*line, *person)).or_default().push(kind);
    }
    for ((line, person), kinds) in exact_rows {
        if let Some(reference) = names.get(&person) {
            lines.push((line, reference.clone(), "certain", "exact", 1.0, kinds.join("+")));
        }
    }
    for (links, link_name) in [(&linked.certain, "certain"), (&linked.probable, "probable")] {
        for link in links {
            if let Some(reference) = names.get(&link.person) {
                lines.push((
                    link.line,
                    reference.clone(),
                    link_name,
                    "fuzzy",
                    link.probability,
                    how(link),
                ));
            }
        }
    }
    lines.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(["line", "reference", "link", "how", "probability", "agreed"])
        .map_err(|error| Error::Invalid(error.to_string()))?;
    for (line, reference, link, how, probability, agreed) in &lines {
        writer
            .write_record([
                line.to_string(),
                custody_core::spreadsheet_safe(reference).into_owned(),
                (*link).to_owned(),
                (*how).to_owned(),
                format!("{probability:.6}"),
                agreed.clone(),
            ])
            .map_err(|error| Error::Invalid(error.to_string()))?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|error| Error::Invalid(error.to_string()))?;
    crate::files::write_output(path, &bytes)
        .map_err(|error| Error::Invalid(format!("{}: {error}", path.display())))?;
    Ok(lines.len() as u64)
}
