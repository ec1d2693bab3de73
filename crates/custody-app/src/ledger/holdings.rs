//! "Who and what did this supplier hold at that instant?": the union of the person sets of its
//! shares (and its sub-processors' shares) held at the instant, minus confirmed deletions, with
//! per-category counts. Every later question (impact, recipients, retention) builds on this.

use custody_core::ShareId;
use custody_core::SupplierId;
use std::collections::BTreeMap;

use serde::Serialize;

use custody_core::{
    FeedWindow, Holdings, Instant, PersonSet, ShareKind, ShareState, holdings_from_sets, share_held_during,
    share_state_at,
};
use custody_store::ShareRecord;

use crate::dir::Ledger;
use crate::error::Result;
use crate::ledger::suppliers::{find, with_sub_processors};

/// A share that counted towards holdings.
#[derive(Debug, Clone, Serialize)]
pub struct HeldShare {
    /// Share id.
    pub share: ShareId,
    /// Supplier that received it.
    pub supplier: String,
    /// Live, or in backups only.
    pub state: ShareState,
    /// People in it at the instant (canaries included).
    pub people: u64,
}

/// The answer to a holdings question.
#[derive(Debug, Clone, Serialize)]
pub struct HoldingsReport {
    /// The supplier asked about.
    pub supplier: String,
    /// Sub-processors included.
    pub sub_processors: Vec<String>,
    /// The instant (UTC).
    pub at: String,
    /// The instant in the organisation's time zone.
    pub at_local: String,
    /// People held (canaries excluded).
    pub people: u64,
    /// Canaries held.
    pub canaries: u64,
    /// People held per data category.
    pub categories: BTreeMap<&'static str, u64>,
    /// Shares that counted.
    pub shares: Vec<HeldShare>,
    /// References of the people held, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refs: Option<Vec<String>>,
}

/// The holdings, the shares that counted, and the names of the sub-processors included.
pub type Computed = (Holdings, Vec<HeldShare>, Vec<String>);

/// Computes a supplier's holdings at `at`; the sets are returned for later questions.
pub fn compute(ledger: &Ledger, supplier: &str, at: Instant) -> Result<Computed> {
    compute_window(ledger, supplier, at, at)
}

/// Computes what a supplier held at any moment from `from` to `at`: every share held at some
/// moment of the window (a feed with everyone it had covered by `at`).
pub fn compute_window(ledger: &Ledger, supplier: &str, from: Instant, at: Instant) -> Result<Computed> {
    let _snapshot = ledger.store.read_snapshot()?;
    let root = find(ledger, supplier)?;
    let all = ledger.store.suppliers()?;
    let tree = with_sub_processors(&all, root.id);
    let shares = ledger.store.shares(Some(&tree))?;
    // People a supplier confirmed it erased one by one (Art. 17 and 19): gone from the shares it
    // had received by then, once the erasure (and its backups) had run out before the window.
    let mut erasures: BTreeMap<SupplierId, Vec<custody_store::Erasure>> = BTreeMap::new();
    for supplier in &tree {
        erasures.insert(*supplier, ledger.store.erasures_at_supplier(*supplier)?);
    }
    let mut sets: Vec<(&ShareRecord, PersonSet)> = Vec::new();
    let mut held = Vec::new();
    for share in &shares {
        if !share_held_during(&share.meta, from, at) {
            continue;
        }
        let state = share_state_at(&share.meta, from.max(share.meta.shared_at).min(at));
        let mut people = match &share.meta.kind {
            ShareKind::Export => ledger.store.share_people(share.meta.id)?,
            ShareKind::Feed(audience) => match FeedWindow::of(&share.meta, at, &ledger.zone) {
                Some(window) => ledger.store.feed_people(&audience.categories, window)?,
                None => PersonSet::new(),
            },
        };
        for erasure in erasures.get(&share.meta.supplier_id).into_iter().flatten() {
            if erasure.removes(share.meta.shared_at, from) {
                people.remove(erasure.person);
            }
        }
        held.push(HeldShare {
            share: share.meta.id,
            supplier: share.supplier.clone(),
            state,
            people: people.len(),
        });
        sets.push((share, people));
    }
    let canaries = ledger.store.canaries()?;
    let holdings = holdings_from_sets(
        sets.iter().map(|(share, set)| (&share.meta.categories, set)),
        &canaries,
    );
    let names = tree
        .iter()
        .skip(1)
        .filter_map(|id| all.iter().find(|s| s.id == *id).map(|s| s.name.clone()))
        .collect();
    Ok((holdings, held, names))
}

/// The holdings report, with references when `with_refs`.
pub fn holdings(ledger: &Ledger, supplier: &str, at: Instant, with_refs: bool) -> Result<HoldingsReport> {
    let (holdings, shares, sub_processors) = compute(ledger, supplier, at)?;
    let refs = if with_refs {
        Some(ledger.store.references(&holdings.people)?)
    } else {
        None
    };
    Ok(HoldingsReport {
        supplier: find(ledger, supplier)?.name,
        sub_processors,
        at: at.to_rfc3339(),
        at_local: at.local(&ledger.zone),
        people: holdings.people.len(),
        canaries: holdings.canaries.len(),
        categories: holdings
            .categories
            .iter()
            .map(|(key, set)| (key.as_str(), set.len()))
            .collect(),
        shares,
        refs,
    })
}
