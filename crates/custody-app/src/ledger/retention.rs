//! "What should each supplier have deleted by now?" (UK/EU GDPR Art. 5(1)(e), 28(3)(g)): per
//! supplier, the people it still holds under a share whose agreed retention has run out, and the
//! former people it still holds longer after they left than the organisation keeps data.

use custody_core::ShareId;
use serde::Serialize;

use custody_core::{FeedWindow, Instant, PersonSet, ShareKind, ShareState, share_state_at};
use custody_store::ShareRecord;

use crate::breach::impact::{FORMER_RETENTION_YEARS_DEFAULT, years_before};
use crate::dir::Ledger;
use crate::error::Result;

/// A share whose retention has run out while the supplier still holds it.
#[derive(Debug, Clone, Serialize)]
pub struct ExpiredShare {
    /// Share id.
    pub share: ShareId,
    /// `export` or `feed`.
    pub kind: &'static str,
    /// When it was sent (a feed: when syncing began).
    pub shared_at: String,
    /// Days the contract allows.
    pub retention_days: u32,
    /// When the retention ran out.
    pub expired_at: String,
    /// People in it still held (canaries and erased people apart).
    pub people: u64,
}

/// One supplier's overdue deletions.
#[derive(Debug, Clone, Serialize)]
pub struct SupplierRetention {
    /// Supplier.
    pub supplier: String,
    /// People it holds now.
    pub people_held: u64,
    /// Shares past their retention: ask for each to be deleted whole.
    pub shares_past_retention: Vec<ExpiredShare>,
    /// People held only under such shares or not: everyone in them.
    pub people_past_share_retention: u64,
    /// Former people it holds who left before `former_left_before`.
    pub former_past_retention: u64,
    /// What to ask the supplier, in words.
    pub ask: Vec<String>,
    /// References of everyone to delete, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refs: Option<Vec<String>>,
}

/// The retention report.
#[derive(Debug, Clone, Serialize)]
pub struct RetentionReport {
    /// As at (UTC).
    pub at: String,
    /// The organisation keeps former people's data this many years after they leave.
    pub former_retention_years: u32,
    /// So former people who left before this day should be gone from every supplier.
    pub former_left_before: String,
    /// Per supplier, by name.
    pub suppliers: Vec<SupplierRetention>,
}

/// The instant a share's retention runs out: from sending for an export, from the end of
/// syncing for a feed (a running feed's data is current, so its retention has not started).
fn expiry(share: &ShareRecord) -> Option<Instant> {
    let days = i64::from(share.meta.retention_days?);
    let start = match share.meta.kind {
        ShareKind::Export => share.meta.shared_at,
        ShareKind::Feed(_) => share.meta.ends_at?,
    };
    Some(start.plus_hours(days * 24))
}

/// People a share put in the supplier's hands who are still there at `now`.
fn live_people(ledger: &Ledger, share: &ShareRecord, now: Instant) -> Result<PersonSet> {
    Ok(match &share.meta.kind {
        ShareKind::Export => ledger.store.share_people(share.meta.id)?,
        ShareKind::Feed(audience) => match FeedWindow::of(&share.meta, now, &ledger.zone) {
            Some(window) => ledger.store.feed_people(&audience.categories, window)?,
            None => PersonSet::new(),
        },
    })
}

/// Works out every supplier's overdue deletions at the ledger's now.
pub fn report(ledger: &Ledger, with_refs: bool) -> Result<RetentionReport> {
    let _snapshot = ledger.store.read_snapshot()?;
    let now = ledger.now();
    let years = ledger
        .settings
        .former_retention_years
        .unwrap_or(FORMER_RETENTION_YEARS_DEFAULT);
    let cutoff = years_before(
        now.local_day(&ledger.zone),
        i16::try_from(years).unwrap_or(i16::MAX),
    );
    let left_long_ago = ledger.store.left_between(None, Some(cutoff))?;
    let canaries = ledger.store.canaries()?;
    let mut suppliers = Vec::new();
    for supplier in ledger.store.suppliers()? {
        let erasures = ledger.store.erasures_at_supplier(supplier.id)?;
        let mut held = PersonSet::new();
        let mut past_share = PersonSet::new();
        let mut expired = Vec::new();
        for share in ledger.store.shares(Some(&[supplier.id]))? {
            if share_state_at(&share.meta, now) != ShareState::Live {
                continue;
            }
            let mut people = live_people(ledger, &share, now)? - &canaries;
            for erasure in &erasures {
                if erasure.removes(share.meta.shared_at, now) {
                    people.remove(erasure.person);
                }
            }
            if let Some(expired_at) = expiry(&share).filter(|expired_at| *expired_at < now) {
                past_share |= &people;
                expired.push(ExpiredShare {
                    share: share.meta.id,
                    kind: share.meta.kind.name(),
                    shared_at: share.meta.shared_at.to_rfc3339(),
                    retention_days: share.meta.retention_days.unwrap_or_default(),
                    expired_at: expired_at.to_rfc3339(),
                    people: people.len(),
                });
            }
            held |= people;
        }
        let former = &held & &left_long_ago;
        let mut ask: Vec<String> = expired
            .iter()
            .map(|share| {
                format!(
                    "delete share {} (sent {}, kept {} days, due for deletion {}): {} people",
                    share.share,
                    share.shared_at,
                    share.retention_days,
                    share.expired_at,
                    crate::breach::report::thousands(share.people)
                )
            })
            .collect();
        let former_elsewhere = (&former - &past_share).len();
        if former_elsewhere > 0 {
            ask.push(format!(
                "delete {} former people who left before {cutoff} (kept {years} year(s) after leaving)",
                crate::breach::report::thousands(former_elsewhere)
            ));
        }
        let refs = if with_refs && !ask.is_empty() {
            Some(ledger.store.references(&(&past_share | &former))?)
        } else {
            None
        };
        suppliers.push(SupplierRetention {
            supplier: supplier.name,
            people_held: held.len(),
            shares_past_retention: expired,
            people_past_share_retention: past_share.len(),
            former_past_retention: former.len(),
            ask,
            refs,
        });
    }
    Ok(RetentionReport {
        at: now.to_rfc3339(),
        former_retention_years: years,
        former_left_before: cutoff.to_iso(),
        suppliers,
    })
}
