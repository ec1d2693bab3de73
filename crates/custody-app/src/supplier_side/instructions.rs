//! What the organisation instructed a supplier to do for a person's request (erase, correct,
//! restrict, stop marketing: UK GDPR and EU GDPR Art. 19 and 28(3)(e)), as the supplier's own
//! account sees it, and its confirmation.
//!
//! To act, the supplier must know whom: it is shown the person's reference, the key of the rows
//! it was sent, while the instruction is open, and nothing else of them (no name, no contact,
//! no category). Once it confirms, the reference is no longer shown.

use custody_core::{Instant, RequestId, ShareId, SupplierId};
use serde::Serialize;

use crate::dir::Ledger;
use crate::error::{Error, Result};
use crate::rights::request_events::RequestEventBody;
use crate::rights::requests::Derived;

/// An instruction to the supplier, as it sees it.
#[derive(Debug, Clone, Serialize)]
pub struct SideInstruction {
    /// The request it serves.
    pub request: RequestId,
    /// What to do: `erase`, `rectify`, `restrict` or `stop_marketing`.
    pub action: &'static str,
    /// The same, in words.
    pub action_words: &'static str,
    /// When it was instructed.
    pub instructed_at: Instant,
    /// The day the request must be answered by (the instruction with it).
    pub due: String,
    /// Not confirmed, and the request's day has passed.
    pub overdue: bool,
    /// The person's reference in the rows it was sent, while the instruction is open.
    pub reference: Option<String>,
    /// The shares that gave it the data.
    pub shares: Vec<ShareId>,
    /// When it confirmed.
    pub confirmed_at: Option<Instant>,
}

/// The instructions to supplier `supplier` (the one the caller is bound to), open ones first,
/// then newest first.
pub fn list(ledger: &Ledger, supplier: SupplierId) -> Result<Vec<SideInstruction>> {
    let _snapshot = ledger.store.read_snapshot()?;
    let holidays = crate::rights::holidays::for_ledger(ledger)?;
    let mut out = Vec::new();
    for record in ledger.store.requests()? {
        let events = ledger.store.request_events(record.id)?;
        let ours: Vec<(Instant, crate::rights::request_events::Instruct)> =
            crate::rights::request_events::decode_all(&events)?
                .into_iter()
                .filter_map(|(event, body)| match body {
                    RequestEventBody::Instruct(instruct) if instruct.supplier_id == supplier => {
                        Some((event.at, instruct))
                    }
                    _ => None,
                })
                .collect();
        if ours.is_empty() {
            continue;
        }
        let derived = Derived::of(&record, &events)?;
        let summary = crate::rights::request_views::summary(ledger, &record, &events, &holidays)?;
        // Open until confirmed, unless the request was closed as refused or withdrawn.
        let open = derived
            .closed
            .as_ref()
            .is_none_or(|(outcome, _)| outcome == "done");
        for (at, instruct) in ours {
            let confirmed_at = derived
                .instructions
                .iter()
                .find(|instruction| instruction.supplier_id == supplier)
                .and_then(|instruction| instruction.confirmed_at);
            let waiting = confirmed_at.is_none() && open;
            out.push(SideInstruction {
                request: record.id,
                action: instruct.action.as_str(),
                action_words: instruct.action.words(),
                instructed_at: at,
                due: summary.due.clone(),
                overdue: waiting && summary.clock == "overdue",
                reference: waiting.then(|| instruct.person.clone()),
                shares: instruct.shares.clone(),
                confirmed_at,
            });
        }
    }
    out.sort_by(|a, b| {
        a.reference
            .is_none()
            .cmp(&b.reference.is_none())
            .then(b.instructed_at.cmp(&a.instructed_at))
    });
    Ok(out)
}

/// The supplier `supplier` confirms it did what request `id` instructed it to, now, with an
/// optional note and, for an erasure, the instant its backups no longer hold the data; recorded
/// as the request's confirmation with its account as the actor (audited). A request that did
/// not instruct it is not found.
pub fn confirm(
    ledger: &mut Ledger,
    supplier: SupplierId,
    id: RequestId,
    note: Option<String>,
    backups_until: Option<Instant>,
) -> Result<bool> {
    let instructed = ledger.store.request(id)?.is_some()
        && crate::rights::request_acts::derived(ledger, id)?
            .1
            .instructions
            .iter()
            .any(|instruction| instruction.supplier_id == supplier);
    if !instructed {
        return Err(Error::NotFound(format!("there is no instruction {id} to you")));
    }
    let name = crate::ledger::suppliers::by_id(
        ledger,
        supplier,
        "the supplier this account is bound to is no longer registered",
    )?
    .name;
    let note = note
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty());
    let now = ledger.now();
    crate::rights::requests::confirm(ledger, id, &name, now, backups_until, note)
}
