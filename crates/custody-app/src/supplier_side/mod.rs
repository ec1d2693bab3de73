//! The supplier's side of the desk: what a supplier's own account may see, and nothing more.
//! Every use case here takes the supplier the caller is bound to, never a name or id the caller
//! chose, and answers only for that supplier and its sub-processors: their incidents (what was
//! asked and when, never the people), their shares' metadata (when, purpose, data categories, row
//! counts; never who), who they are, and its instructions (of a person, only the reference of one
//! an open instruction is for: see `instructions`).

pub mod instructions;

use custody_core::{IncidentId, Instant, ShareId, SupplierId, SupplierRole};
use custody_store::{IncidentRecord, Supplier};
use serde::Serialize;

use crate::breach::incident_events::log;
use crate::breach::incident_facts::as_they_stand;
use crate::dir::Ledger;
use crate::error::{Error, Result};

/// The supplier `root` and the sub-processors it engaged, and theirs: a processor registered
/// under another (a group's company, say) is not the other's to see.
fn side_of(all: &[Supplier], root: SupplierId) -> Vec<SupplierId> {
    crate::ledger::suppliers::below(all, root, |supplier| supplier.role == SupplierRole::SubProcessor)
}

/// The name of supplier `id` among `all`.
fn name_of(all: &[Supplier], id: SupplierId) -> String {
    all.iter()
        .find(|candidate| candidate.id == id)
        .map(|found| found.name.clone())
        .unwrap_or_default()
}

/// `record` as its supplier sees it, with every amendment applied (a corrected summary or
/// awareness instant is what it reads, not the first word).
fn seen(ledger: &Ledger, all: &[Supplier], record: IncidentRecord) -> Result<SideIncident> {
    let events = log(ledger, record.id)?;
    let record = as_they_stand(record, &events);
    Ok(SideIncident {
        incident: record.id,
        supplier: record
            .facts
            .supplier_id
            .map(|at| name_of(all, at))
            .unwrap_or_default(),
        summary: record.facts.summary,
        aware_at: record.facts.aware_at,
        opened_at: record.facts.opened_at,
    })
}

/// What a supplier's account sees on its first page.
#[derive(Debug, Clone, Serialize)]
pub struct SupplierSide {
    /// The supplier's name.
    pub supplier: String,
    /// Its sub-processors' names.
    pub sub_processors: Vec<String>,
    /// Incidents at it or its sub-processors, newest first.
    pub incidents: Vec<SideIncident>,
    /// The shares they received, newest first: metadata only.
    pub shares: Vec<SideShare>,
    /// What it was instructed to do for people's requests, open ones first.
    pub instructions: Vec<instructions::SideInstruction>,
    /// The shares it was asked to delete, open ones first.
    pub deletions: Vec<crate::ledger::deletion_requests::DeletionView>,
}

/// An incident as its supplier sees it: what happened as recorded, and when.
#[derive(Debug, Clone, Serialize)]
pub struct SideIncident {
    /// Id.
    pub incident: IncidentId,
    /// Which of the supplier's side it happened at.
    pub supplier: String,
    /// What happened, as recorded.
    pub summary: String,
    /// When the organisation became aware.
    pub aware_at: Instant,
    /// When it was opened.
    pub opened_at: Instant,
}

/// A share's metadata: never its people.
#[derive(Debug, Clone, Serialize)]
pub struct SideShare {
    /// Id.
    pub share: ShareId,
    /// Which of the supplier's side received it.
    pub supplier: String,
    /// Export or feed.
    pub kind: &'static str,
    /// When it was sent (a feed: began).
    pub shared_at: Instant,
    /// Why.
    pub purpose: String,
    /// The data categories sent.
    pub categories: Vec<String>,
    /// Data rows in the file sent (exports).
    pub rows: u64,
    /// When its deletion was confirmed.
    pub deleted_at: Option<Instant>,
}

/// One of the supplier's incidents as it sees it: what it is asked, by when, and what it has
/// said so far.
#[derive(Debug, Clone, Serialize)]
pub struct SideIncidentDetail {
    /// The incident.
    pub incident: SideIncident,
    /// The newest question to it, and whether it has answered.
    pub question: Option<crate::breach::questions::QuestionState>,
    /// Its statements, oldest first.
    pub statements: Vec<crate::breach::incidents::StatementView>,
    /// Whether this account answers it: the incident is at its own supplier (a sub-processor's
    /// incident is answered by the sub-processor's account, to which the question went).
    pub answers: bool,
}

/// Incident `id`, if it happened at the supplier `supplier` or one of its sub-processors (else
/// not found, as if it did not exist: another supplier's incident is none of its business).
pub fn incident(ledger: &Ledger, supplier: SupplierId, id: IncidentId) -> Result<SideIncidentDetail> {
    let all = ledger.store.suppliers()?;
    let tree = side_of(&all, supplier);
    let record = ledger
        .store
        .incident(id)?
        .filter(|record| record.facts.supplier_id.is_some_and(|at| tree.contains(&at)))
        .ok_or_else(|| Error::NotFound(format!("there is no incident {id} at your side")))?;
    let own = record.facts.supplier_id == Some(supplier);
    let events = log(ledger, id)?;
    Ok(SideIncidentDetail {
        incident: seen(ledger, &all, record)?,
        question: crate::breach::questions::state(&events, ledger.now()),
        statements: crate::breach::incidents::statements(&events),
        answers: own,
    })
}

/// The supplier's answer to the question on incident `id`: recorded as its statement, versioned,
/// a change from what it claimed before flagged as a correction, with the supplier's account as
/// the actor (audited). Refused before it has been asked.
pub fn answer(
    ledger: &mut Ledger,
    supplier: SupplierId,
    id: IncidentId,
    mut input: crate::breach::incidents::StatementInput,
) -> Result<crate::breach::incidents::StatementView> {
    let seen = incident(ledger, supplier, id)?;
    if !seen.answers {
        return Err(Error::Invalid(format!(
            "incident {id} happened at {}: the question went to it, and its own account answers",
            seen.incident.supplier
        )));
    }
    if seen.question.is_none() {
        return Err(Error::Invalid(format!(
            "you have not been asked about incident {id} yet"
        )));
    }
    // Received when it was given: a supplier does not date its own answer.
    input.received_at = ledger.now();
    crate::breach::incidents::statement(ledger, id, input)
}

/// The first page of the supplier `supplier` (the one the caller is bound to).
pub fn overview(ledger: &Ledger, supplier: SupplierId) -> Result<SupplierSide> {
    let all = ledger.store.suppliers()?;
    let own = all
        .iter()
        .find(|candidate| candidate.id == supplier)
        .ok_or_else(|| {
            Error::NotFound("the supplier this account is bound to is no longer registered".to_owned())
        })?;
    let tree = side_of(&all, supplier);
    let mut incidents = ledger
        .store
        .incidents()?
        .into_iter()
        .filter(|incident| incident.facts.supplier_id.is_some_and(|at| tree.contains(&at)))
        .map(|incident| seen(ledger, &all, incident))
        .collect::<Result<Vec<SideIncident>>>()?;
    incidents.reverse();
    let mut shares: Vec<SideShare> = ledger
        .store
        .shares(Some(&tree))?
        .into_iter()
        .map(|share| SideShare {
            share: share.meta.id,
            supplier: share.supplier,
            kind: match share.meta.kind {
                custody_core::ShareKind::Export => "export",
                custody_core::ShareKind::Feed(_) => "feed",
            },
            shared_at: share.meta.shared_at,
            purpose: share.purpose,
            categories: share
                .meta
                .categories
                .iter()
                .map(|key| key.as_str().to_owned())
                .collect(),
            rows: share.row_count,
            deleted_at: share.meta.deleted_at,
        })
        .collect();
    shares.reverse();
    Ok(SupplierSide {
        supplier: own.name.clone(),
        sub_processors: tree.iter().skip(1).map(|id| name_of(&all, *id)).collect(),
        incidents,
        shares,
        instructions: instructions::list(ledger, supplier)?,
        deletions: crate::ledger::deletion_requests::list(ledger, Some(&[supplier]))?,
    })
}
