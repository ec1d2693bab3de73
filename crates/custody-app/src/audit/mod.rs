//! Verifying and exporting the audit chain. An entry whose content was edited, an entry removed
//! from the middle (a gap in the sequence or a broken link), or entries removed from the end
//! (the chain ends before the keyed record in `audit.head`) all make verification fail, naming
//! the first bad entry. Checkpoints kept outside custody (`audit_anchor`) prove more: that the
//! chain still holds every entry they name.

pub(crate) mod anchor;
pub mod head;

use std::io::Write;

use serde::Serialize;

use custody_store::{AuditEntry, ChainEnd};

pub use crate::audit::anchor::{Checkpoint, CheckpointCheck, anchor, check_checkpoints, reanchor};
use crate::dir::Ledger;
use crate::error::{Error, Result};

/// The outcome of a verification.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// Entries checked.
    pub entries: u64,
    /// Whether the chain is intact.
    pub intact: bool,
    /// The first bad entry's position, when not intact.
    pub first_bad: Option<i64>,
    /// What is wrong with it.
    pub problem: Option<String>,
    /// The checkpoints checked against the chain.
    pub checkpoints: Vec<CheckpointCheck>,
}

/// Checks the chain as [`verify`] does, and every checkpoint file against it: the chain is
/// intact only when it still holds every anchored entry.
pub fn verify_against(ledger: &Ledger, checkpoints: &[std::path::PathBuf]) -> Result<Verification> {
    let mut verification = verify(ledger)?;
    verification.checkpoints = check_checkpoints(ledger, checkpoints)?;
    if let Some(bad) = verification.checkpoints.iter().find(|check| !check.held)
        && verification.intact
    {
        verification.intact = false;
        verification.first_bad = bad.seq;
        verification.problem = Some(format!(
            "checkpoint {}: {}",
            bad.file,
            bad.problem.clone().unwrap_or_default()
        ));
    }
    Ok(verification)
}

/// The chain as walked: entries, the first bad link or hash, and the newest entry.
pub(crate) struct Walk {
    pub(crate) entries: u64,
    pub(crate) first_bad: Option<(i64, String)>,
    pub(crate) last: Option<(i64, String)>,
}

/// Checks the whole chain and that it ends where `audit.head` says.
pub fn verify(ledger: &Ledger) -> Result<Verification> {
    // A change committed between walking the chain and reading `audit.head` makes the two
    // disagree for a moment: when the store has moved on meanwhile, look again.
    const ATTEMPTS_MAX: usize = 5;
    let mut attempt = 0;
    let (entries, first_bad) = loop {
        attempt += 1;
        let Walk {
            entries,
            mut first_bad,
            last,
        } = walk(ledger)?;
        if first_bad.is_none() {
            first_bad = check_head(ledger, last.as_ref());
        }
        let moved =
            first_bad.is_some() && ledger.store.audit_head()?.map(|entry| (entry.seq, entry.hash)) != last;
        if !moved || attempt >= ATTEMPTS_MAX {
            break (entries, first_bad);
        }
    };
    // An empty log beside a ledger that holds data was emptied, record and all.
    let first_bad = match first_bad {
        None if entries == 0 && holds_a_ledger(ledger)? => Some((
            1,
            "the audit log is empty while the ledger holds data: it was emptied".to_owned(),
        )),
        other => other,
    };
    Ok(Verification {
        entries,
        intact: first_bad.is_none(),
        first_bad: first_bad.as_ref().map(|(seq, _)| *seq),
        problem: first_bad.map(|(_, problem)| problem),
        checkpoints: Vec::new(),
    })
}

/// Walks the chain checking every sequence number, link and hash.
pub(crate) fn walk(ledger: &Ledger) -> Result<Walk> {
    let mut previous_hash = String::new();
    let mut expected_seq = 1i64;
    let mut first_bad: Option<(i64, String)> = None;
    let mut entries = 0u64;
    let mut last: Option<(i64, String)> = None;
    ledger.store.audit_entries(&mut |entry: AuditEntry| {
        entries += 1;
        if first_bad.is_none() {
            let bytes = AuditEntry::canonical_bytes(
                entry.seq,
                entry.at,
                &entry.actor,
                &entry.action,
                &entry.subject,
                &entry.details,
            );
            let prev_bytes = head::unhex(&entry.prev).unwrap_or_default();
            let expected = custody_vault::hex(&ledger.vault.audit_mac(&prev_bytes, &bytes));
            if entry.seq != expected_seq {
                first_bad = Some((
                    expected_seq,
                    format!("entry {expected_seq} is missing (next is {})", entry.seq),
                ));
            } else if entry.prev != previous_hash {
                first_bad = Some((entry.seq, "its link to the previous entry is broken".to_owned()));
            } else if entry.hash != expected {
                first_bad = Some((
                    entry.seq,
                    "its content does not match its hash (edited)".to_owned(),
                ));
            }
        }
        expected_seq = entry.seq + 1;
        previous_hash = entry.hash.clone();
        last = Some((entry.seq, entry.hash));
        Ok(())
    })?;
    Ok(Walk {
        entries,
        first_bad,
        last,
    })
}

/// Whether the chain ends where `audit.head` says it does.
fn check_head(ledger: &Ledger, last: Option<&(i64, String)>) -> Option<(i64, String)> {
    let last_seq = last.map_or(0, |(seq, _)| *seq);
    let hash = last.and_then(|(_, hash)| head::unhex(hash)).unwrap_or_default();
    let newest = last.map(|(seq, _)| ChainEnd {
        seq: *seq,
        hash: &hash,
    });
    let keeps = ledger.store.keeps_audit_head();
    let head = head::read_for(ledger);
    match head {
        Err(problem) => Some((last_seq, problem)),
        Ok(head) => head::refusal(head.as_ref(), newest, head::place(keeps)).map(|problem| {
            let first = match &head {
                Some(head) if head.furthest() > last_seq => last_seq + 1,
                _ => last_seq,
            };
            (first, problem)
        }),
    }
}

/// Records that an account was refused for going past a rate limit (`lookup`, `download`).
pub fn rate_limited(ledger: &mut Ledger, limit: &str, retry_seconds: u64) -> Result<()> {
    ledger.audit_only(
        "desk.rate_limited",
        "desk",
        serde_json::json!({ "limit": limit, "retry_seconds": retry_seconds }),
    )
}

/// Writes every entry as one JSON object per line.
pub fn export(ledger: &Ledger, out: &mut dyn Write) -> Result<u64> {
    let mut count = 0u64;
    ledger.store.audit_entries(&mut |entry| {
        count += 1;
        let line = serde_json::to_string(&entry)
            .map_err(|error| custody_store::Error::Corrupt(error.to_string()))?;
        writeln!(out, "{line}").map_err(|error| custody_store::Error::Corrupt(error.to_string()))
    })?;
    out.flush().map_err(|source| Error::Io {
        path: "standard output".to_owned(),
        source,
    })?;
    Ok(count)
}

/// Where the audit chain ends (0 before any entry): moves on with every change to the store,
/// whichever process made it, so caches keyed by it never outlive a change.
pub fn version(ledger: &Ledger) -> Result<i64> {
    Ok(ledger.store.audit_head()?.map_or(0, |head| head.seq))
}

/// Every audit entry, oldest first, handed to `visit` one at a time.
pub fn each_entry(ledger: &Ledger, visit: &mut dyn FnMut(AuditEntry) -> Result<()>) -> Result<()> {
    let mut failed = None;
    ledger.store.audit_entries(&mut |entry| {
        visit(entry).map_err(|error| {
            let message = error.to_string();
            failed = Some(error);
            custody_store::Error::Corrupt(message)
        })
    })?;
    match failed {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// Whether the ledger holds anything its first audited change would have logged.
fn holds_a_ledger(ledger: &Ledger) -> Result<bool> {
    Ok(ledger.store.has_people()?
        || !ledger.store.suppliers()?.is_empty()
        || !ledger.store.accounts()?.is_empty()
        || !ledger.store.incidents()?.is_empty())
}
