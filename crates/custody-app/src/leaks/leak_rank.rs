//! Who a leaked file came from. A canary in it is definitive: it was planted in one share sent
//! to one supplier and exists nowhere else. Without one, suppliers are ranked by how well what
//! they held explains the file: the share of the matched people they held during the window,
//! whether they ever received the data categories the file holds, and how much of what they
//! held the file is (a supplier that held exactly these people explains the file better than one
//! that held everyone).

use custody_core::ShareId;
use std::collections::BTreeSet;

use serde::Serialize;

use custody_core::{CategoryKey, Instant, PersonSet};

use crate::dir::Ledger;
use crate::error::Result;
use crate::ledger::holdings::compute_window;

/// A canary found in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CanaryFound {
    /// The share it was planted in.
    pub share: ShareId,
    /// The supplier that share was sent to.
    pub supplier: String,
    /// When the share was sent.
    pub shared_at: Instant,
    /// The canary's reference.
    pub canary: String,
}

/// How well one supplier's holdings explain the file.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupplierFit {
    /// Supplier.
    pub supplier: String,
    /// From 0 to 1: the share of matched people held, times the share of the file's data
    /// categories received; 1 for a supplier a canary names.
    pub score: f64,
    /// A canary planted for this supplier is in the file.
    pub canary: bool,
    /// Matched people it held during the window.
    pub held: u64,
    /// `held` over the people matched.
    pub coverage: f64,
    /// `held` over everyone it held: how much of its holdings the file is.
    pub of_its_holdings: f64,
    /// The file's data categories it received.
    pub categories_received: Vec<String>,
    /// The file's data categories it never received.
    pub categories_missing: Vec<String>,
}

/// The canaries among `found`, with the share and supplier each names.
pub fn canaries(ledger: &Ledger, found: &PersonSet) -> Result<Vec<CanaryFound>> {
    let mut out = Vec::new();
    for person in found {
        let Some(record) = ledger.store.person(person)? else {
            continue;
        };
        let Some(share_id) = record.canary_share else {
            continue;
        };
        if let Some(share) = ledger.store.share(share_id)? {
            out.push(CanaryFound {
                share: share_id,
                supplier: share.supplier,
                shared_at: share.meta.shared_at,
                canary: record.reference,
            });
        }
    }
    out.sort_by(|a, b| (a.share, &a.canary).cmp(&(b.share, &b.canary)));
    Ok(out)
}

/// Whether the categories received cover one the file holds: the same key or a broader one
/// (`user.name` covers `user.name.first`), or two or more of its parts (`user.name.first` and
/// `user.name.last` cover `user.name`; `user.name.first` alone does not).
pub(crate) fn covered<'a>(received: impl IntoIterator<Item = &'a CategoryKey>, file: &CategoryKey) -> bool {
    let file = file.as_str();
    let mut parts = 0;
    for key in received {
        let key = key.as_str();
        if key == file || file.strip_prefix(key).is_some_and(|rest| rest.starts_with('.')) {
            return true;
        }
        if key.strip_prefix(file).is_some_and(|rest| rest.starts_with('.')) {
            parts += 1;
        }
    }
    parts >= 2
}

/// Ranks every supplier that held any matched person in `from..=to`, or that a canary names.
pub fn rank(
    ledger: &Ledger,
    matched: &PersonSet,
    categories: &BTreeSet<CategoryKey>,
    canaries: &[CanaryFound],
    (from, to): (Instant, Instant),
) -> Result<Vec<SupplierFit>> {
    let mut fits = Vec::new();
    for supplier in ledger.store.suppliers()? {
        let (holdings, _, _) = compute_window(ledger, &supplier.name, from, to)?;
        let held = holdings.people.intersection_len(matched);
        let canary = canaries.iter().any(|found| found.supplier == supplier.name);
        if held == 0 && !canary {
            continue;
        }
        let (received, missing): (Vec<&CategoryKey>, Vec<&CategoryKey>) = categories
            .iter()
            .partition(|file| covered(holdings.categories.keys(), file));
        let coverage = ratio(held, matched.len());
        let category_fit = if categories.is_empty() {
            1.0
        } else {
            received.len() as f64 / categories.len() as f64
        };
        fits.push(SupplierFit {
            supplier: supplier.name.clone(),
            score: if canary {
                1.0
            } else {
                round(coverage * category_fit)
            },
            canary,
            held,
            coverage: round(coverage),
            of_its_holdings: round(ratio(held, holdings.people.len())),
            categories_received: received.iter().map(|key| key.as_str().to_owned()).collect(),
            categories_missing: missing.iter().map(|key| key.as_str().to_owned()).collect(),
        });
    }
    fits.sort_by(|a, b| {
        b.canary
            .cmp(&a.canary)
            .then(b.score.total_cmp(&a.score))
            .then(b.of_its_holdings.total_cmp(&a.of_its_holdings))
            .then(a.supplier.cmp(&b.supplier))
    });
    Ok(fits)
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn round(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broader_keys_cover_narrower_ones() {
        let key = |text: &str| CategoryKey::parse(text).unwrap();
        let received = |keys: &[&str]| keys.iter().map(|text| key(text)).collect::<Vec<_>>();
        assert!(covered(&received(&["user.name"]), &key("user.name.first")));
        assert!(!covered(&received(&["user.name.first"]), &key("user.name")));
        assert!(covered(
            &received(&["user.name.first", "user.name.last"]),
            &key("user.name")
        ));
        assert!(covered(
            &received(&["user.contact.email"]),
            &key("user.contact.email")
        ));
        assert!(!covered(
            &received(&["user.contact.email"]),
            &key("user.contact.phone_number")
        ));
    }
}
