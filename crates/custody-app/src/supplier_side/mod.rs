//! The supplier's side of the desk: what a supplier's own account may see, and nothing more.
//! Every use case here takes the supplier the caller is bound to, never a name or id the caller
//! chose, and answers only for that supplier and its sub-processors: their incidents (what was
//! asked and when, never the people), their shares' metadata (when, purpose, data categories, row
//! counts; never who), and who they are.

use custody_core::{IncidentId, Instant, ShareId, SupplierId};
use serde::Serialize;

use crate::dir::Ledger;
use crate::error::{Error, Result};
use crate::ledger::suppliers::with_sub_processors;

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

/// The first page of the supplier `supplier` (the one the caller is bound to).
pub fn overview(ledger: &Ledger, supplier: SupplierId) -> Result<SupplierSide> {
    let all = ledger.store.suppliers()?;
    let own = all
        .iter()
        .find(|candidate| candidate.id == supplier)
        .ok_or_else(|| {
            Error::NotFound("the supplier this account is bound to is no longer registered".to_owned())
        })?;
    let tree = with_sub_processors(&all, supplier);
    let name_of = |id: SupplierId| {
        all.iter()
            .find(|candidate| candidate.id == id)
            .map(|found| found.name.clone())
            .unwrap_or_default()
    };
    let mut incidents: Vec<SideIncident> = ledger
        .store
        .incidents()?
        .into_iter()
        .filter_map(|incident| {
            let at = incident.facts.supplier_id.filter(|id| tree.contains(id))?;
            Some(SideIncident {
                incident: incident.id,
                supplier: name_of(at),
                summary: incident.facts.summary,
                aware_at: incident.facts.aware_at,
                opened_at: incident.facts.opened_at,
            })
        })
        .collect();
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
        sub_processors: tree.iter().skip(1).map(|id| name_of(*id)).collect(),
        incidents,
        shares,
    })
}
