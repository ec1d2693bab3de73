//! Leak evidence on an incident: the people a leaked file was matched to (confirmed exposed) and
//! the data categories it holds, recorded beside what the ledger says the supplier held. The
//! event carries the figures and the file's SHA-256; the people are stored as a set with it.

use serde::Serialize;

use custody_core::PersonSet;
use custody_store::{IncidentRecord, Store};

use crate::dir::{Ledger, signer_for};
use crate::error::Result;
use crate::leak::MatchReport;

/// Suppliers named in the event, best first.
const SUPPLIERS_RECORDED: usize = 5;

/// Records `report` on `incident`; returns the event's id.
pub(crate) fn record(
    ledger: &mut Ledger,
    incident: &IncidentRecord,
    report: &MatchReport,
    matched: &PersonSet,
) -> Result<i64> {
    let holdings = crate::in_house::held(ledger, incident)?;
    let held = holdings.people.intersection_len(matched);
    let categories_not_held: Vec<&String> = report
        .categories
        .iter()
        .filter(|key| {
            let Ok(key) = custody_core::CategoryKey::parse(key) else {
                return true;
            };
            !crate::leak_rank::covered(holdings.categories.keys(), &key)
        })
        .collect();
    let evidence = crate::incident_events::Evidence {
        file: crate::limits::cleaned_name(&report.file),
        sha256: report.sha256.clone(),
        bytes: report.bytes,
        format: report.format,
        rows: report.rows,
        rows_matched: report.rows_matched,
        matched: report.matched,
        held_by_supplier: held,
        not_held_by_supplier: report.matched - held,
        by_identifier: report
            .by_identifier
            .iter()
            .map(|(kind, count)| ((*kind).to_owned(), *count))
            .collect(),
        categories: report.categories.clone(),
        categories_not_held_by_supplier: categories_not_held.into_iter().cloned().collect(),
        canaries: report.canaries.clone(),
        suppliers: report
            .suppliers
            .iter()
            .take(SUPPLIERS_RECORDED)
            .cloned()
            .collect(),
    };
    let now = ledger.now();
    let typed = crate::incident_events::IncidentEventBody::Evidence(Box::new(evidence));
    let (event, draft) = crate::incidents::prepare(ledger, now, &typed, None)?;
    let id = ledger.store.append_evidence(
        incident.id,
        event,
        matched,
        draft,
        &signer_for(&ledger.vault, &ledger.dir),
    )?;
    ledger.anchor_audit()?;
    // The impact on record now says what the evidence confirms (the desk reads it from there).
    crate::impact::refresh(ledger, incident.id)?;
    Ok(id)
}

/// What recorded leak evidence confirms, beside the ledger's figures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Confirmed {
    /// Files recorded.
    pub files: u64,
    /// People found in them (canaries excluded).
    pub people: u64,
    /// Of those, held by the supplier during the window.
    pub held_by_supplier: u64,
    /// Of those, not held by the supplier (the ledger does not explain them).
    pub not_held_by_supplier: u64,
    /// Data categories the files hold.
    pub categories: Vec<String>,
}

/// The confirmed exposure of an incident, when any evidence was recorded.
pub fn confirmed(
    ledger: &Ledger,
    incident: i64,
    held: &PersonSet,
    events: &[crate::incident_events::Recorded],
) -> Result<Option<Confirmed>> {
    let evidence: Vec<&crate::incident_events::Evidence> = events
        .iter()
        .filter_map(|recorded| match &recorded.body {
            crate::incident_events::IncidentEventBody::Evidence(evidence) => Some(&**evidence),
            _ => None,
        })
        .collect();
    if evidence.is_empty() {
        return Ok(None);
    }
    let people = ledger.store.evidence_people(incident)?;
    let mut categories: Vec<String> = evidence
        .iter()
        .flat_map(|evidence| evidence.categories.iter().cloned())
        .collect();
    categories.sort();
    categories.dedup();
    let held_by_supplier = people.intersection_len(held);
    Ok(Some(Confirmed {
        files: evidence.len() as u64,
        people: people.len(),
        held_by_supplier,
        not_held_by_supplier: people.len() - held_by_supplier,
        categories,
    }))
}
