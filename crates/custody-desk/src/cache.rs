//! Answers to the holdings question, kept while the ledger does not change. Every change to the
//! ledger appends to the audit chain in the same transaction, so the newest audit entry's
//! position says whether a kept answer is still the answer: during an incident many people ask
//! what one supplier held at one moment, and only the first pays for the sets.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use custody_app::Ledger;
use custody_app::ledger::holdings::{self, HoldingsReport};
use custody_core::Instant;

use crate::error::DeskError;

/// Answers kept at most; the oldest go when it is full.
const ENTRIES_MAX: usize = 256;

#[derive(Default)]
struct Entries {
    by_question: HashMap<(String, i64), (i64, Arc<HoldingsReport>)>,
    order: std::collections::VecDeque<(String, i64)>,
}

/// Holdings answers by supplier and instant, with the ledger version they were computed at.
#[derive(Default)]
pub struct HoldingsCache {
    entries: Mutex<Entries>,
}

impl HoldingsCache {
    /// What `supplier` (with its sub-processors) held at `at`: kept, or computed and kept.
    pub fn holdings(
        &self,
        ledger: &Ledger,
        supplier: &str,
        at: Instant,
    ) -> Result<Arc<HoldingsReport>, DeskError> {
        let version = custody_app::audit::version(ledger)?;
        let key = (supplier.to_owned(), at.unix_seconds());
        if let Some((kept_at, report)) = self
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .by_question
            .get(&key)
            && *kept_at == version
        {
            return Ok(Arc::clone(report));
        }
        let report = Arc::new(holdings::holdings(ledger, supplier, at, false)?);
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.by_question.len() >= ENTRIES_MAX
            && let Some(oldest) = entries.order.pop_front()
        {
            entries.by_question.remove(&oldest);
        }
        if entries
            .by_question
            .insert(key.clone(), (version, Arc::clone(&report)))
            .is_none()
        {
            entries.order.push_back(key);
        }
        Ok(report)
    }
}
