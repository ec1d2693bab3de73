//! Leak evidence on an incident: the people a leaked file was matched to (confirmed exposed) and
//! the data categories it holds, recorded beside what the ledger says the supplier held. The
//! event carries the figures and the file's SHA-256; the people are stored as a set with it.

use custody_core::{EventId, IncidentId};
use serde::Serialize;

use custody_core::PersonSet;
use custody_store::IncidentRecord;

use crate::breach::incident_events::{IncidentEventBody, LinksConfirmed, ProbableLink};
use crate::dir::{Ledger, signer_for};
use crate::error::{Error, Result};
use crate::leaks::leak::MatchReport;

/// Suppliers named in the event, best first.
const SUPPLIERS_RECORDED: usize = 5;

/// Records `report` on `incident`; returns the event's id.
pub(crate) fn record(
    ledger: &mut Ledger,
    incident: &IncidentRecord,
    report: &MatchReport,
    (matched, probable): (&PersonSet, Vec<ProbableLink>),
) -> Result<EventId> {
    let holdings = crate::breach::in_house::held(ledger, incident)?;
    let held = holdings.people.intersection_len(matched);
    let categories_not_held: Vec<&String> = report
        .categories
        .iter()
        .filter(|key| {
            let Ok(key) = custody_core::CategoryKey::parse(key) else {
                return true;
            };
            !crate::leaks::leak_rank::covered(holdings.categories.keys(), &key)
        })
        .collect();
    let evidence = crate::breach::incident_events::Evidence {
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
        probable,
    };
    let now = ledger.now();
    let typed = crate::breach::incident_events::IncidentEventBody::Evidence(Box::new(evidence));
    let (event, draft) = crate::breach::incidents::prepare(ledger, now, &typed, None)?;
    let id = ledger.store.append_evidence(
        incident.id,
        event,
        matched,
        draft,
        &signer_for(&ledger.vault, &ledger.dir),
    )?;
    ledger.anchor_audit()?;
    // The impact on record now says what the evidence confirms (the desk reads it from there).
    crate::breach::impact::refresh(ledger, incident.id)?;
    Ok(id)
}

/// Confirms probable links of an evidence event as the same people: they join the incident's
/// evidence (and so the people told). `references` empty confirms every link still waiting.
/// Returns the event's id and the people it added.
pub fn confirm(
    ledger: &mut Ledger,
    incident: IncidentId,
    evidence_event: EventId,
    references: &[String],
    reason: &str,
) -> Result<(EventId, u64)> {
    let incident_record = crate::breach::incidents::find_incident(ledger, incident)?;
    crate::limits::long_text("reason", reason)?;
    let reason = reason.trim().to_owned();
    if reason.is_empty() {
        return Err(Error::Invalid(
            "a reason is needed: what was checked to confirm these people".into(),
        ));
    }
    let waiting_links = waiting(ledger, incident)?;
    if !crate::breach::incident_events::log(ledger, incident)?
        .iter()
        .any(|recorded| {
            recorded.event.id == evidence_event && matches!(recorded.body, IncidentEventBody::Evidence(_))
        })
    {
        return Err(Error::NotFound(format!(
            "incident {incident} has no leak evidence event {evidence_event}"
        )));
    }
    let waiting: Vec<&String> = waiting_links
        .iter()
        .filter(|(event, _)| *event == evidence_event)
        .map(|(_, link)| &link.reference)
        .collect();
    let chosen: Vec<String> = if references.is_empty() {
        waiting.iter().map(|reference| (*reference).clone()).collect()
    } else {
        for reference in references {
            if !waiting.contains(&reference) {
                return Err(Error::Invalid(format!(
                    "{reference:?} is not a probable link of evidence {evidence_event} waiting to be confirmed \
                     (waiting: {})",
                    if waiting.is_empty() {
                        "none".to_owned()
                    } else {
                        waiting.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
                    }
                )));
            }
        }
        let mut chosen = references.to_vec();
        chosen.sort();
        chosen.dedup();
        chosen
    };
    if chosen.is_empty() {
        return Err(Error::Invalid(format!(
            "evidence {evidence_event} has no probable links waiting to be confirmed"
        )));
    }
    let mut people = PersonSet::new();
    for reference in &chosen {
        let id = ledger
            .store
            .person_id_by_ref(reference)?
            .ok_or_else(|| Error::NotFound(format!("no person {reference:?}")))?;
        people.insert(id);
    }
    let body = IncidentEventBody::Confirm(LinksConfirmed {
        evidence: evidence_event,
        references: chosen,
        reason,
    });
    let now = ledger.now();
    let (event, draft) = crate::breach::incidents::prepare(ledger, now, &body, None)?;
    let id = ledger.store.append_evidence(
        incident_record.id,
        event,
        &people,
        draft,
        &signer_for(&ledger.vault, &ledger.dir),
    )?;
    ledger.anchor_audit()?;
    crate::breach::impact::refresh(ledger, incident_record.id)?;
    Ok((id, people.len()))
}

/// The probable links of an incident's evidence still waiting for a responder: (evidence
/// event, link).
pub fn waiting(ledger: &Ledger, incident: IncidentId) -> Result<Vec<(EventId, ProbableLink)>> {
    let events = crate::breach::incident_events::log(ledger, incident)?;
    let done: std::collections::BTreeSet<(EventId, &String)> = events
        .iter()
        .filter_map(|recorded| match &recorded.body {
            IncidentEventBody::Confirm(confirmed) => Some(
                confirmed
                    .references
                    .iter()
                    .map(move |reference| (confirmed.evidence, reference)),
            ),
            _ => None,
        })
        .flatten()
        .collect();
    Ok(events
        .iter()
        .filter_map(|recorded| match &recorded.body {
            IncidentEventBody::Evidence(evidence) => Some((recorded.event.id, &evidence.probable)),
            _ => None,
        })
        .flat_map(|(event, links)| links.iter().map(move |link| (event, link)))
        .filter(|(event, link)| !done.contains(&(*event, &link.reference)))
        .map(|(event, link)| (event, link.clone()))
        .collect())
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
    incident: IncidentId,
    held: &PersonSet,
    events: &[crate::breach::incident_events::Recorded],
) -> Result<Option<Confirmed>> {
    let evidence: Vec<&crate::breach::incident_events::Evidence> = events
        .iter()
        .filter_map(|recorded| match &recorded.body {
            crate::breach::incident_events::IncidentEventBody::Evidence(evidence) => Some(&**evidence),
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
