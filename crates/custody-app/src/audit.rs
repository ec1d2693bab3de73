//! Verifying and exporting the audit chain. An entry whose content was edited, an entry removed
//! from the middle (a gap in the sequence or a broken link), or entries removed from the end
//! (the chain is shorter than the anchor in `audit.head`) all make verification fail, naming the
//! first bad entry.

use std::io::Write;

use serde::Serialize;

use custody_store::{AuditEntry, Store};

use crate::dir::{AUDIT_HEAD_FILE_NAME, Ledger};
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
}

/// Checks the whole chain and the anchor.
pub fn verify(ledger: &Ledger) -> Result<Verification> {
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
            let prev_bytes = unhex(&entry.prev);
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
    if first_bad.is_none() {
        first_bad = check_anchor(ledger, last.as_ref())?;
    }
    Ok(Verification {
        entries,
        intact: first_bad.is_none(),
        first_bad: first_bad.as_ref().map(|(seq, _)| *seq),
        problem: first_bad.map(|(_, problem)| problem),
    })
}

fn check_anchor(ledger: &Ledger, last: Option<&(i64, String)>) -> Result<Option<(i64, String)>> {
    let path = ledger.dir.join(AUDIT_HEAD_FILE_NAME);
    let (last_seq, _) = last.cloned().unwrap_or((0, String::new()));
    // `custody init` writes the first entry and the anchor, so a chain with entries and no
    // readable anchor has lost it: removing entries from the end must not go unnoticed that way.
    let anchor = std::fs::read_to_string(&path).ok().and_then(|text| {
        let mut parts = text.split_whitespace();
        let seq: i64 = parts.next()?.parse().ok()?;
        let hash = parts.next()?.to_owned();
        Some((seq, hash))
    });
    let Some((seq, hash)) = anchor else {
        return Ok((last_seq > 0).then(|| {
            (
                last_seq,
                format!("{AUDIT_HEAD_FILE_NAME} is missing or unreadable"),
            )
        }));
    };
    let hash = hash.as_str();
    if seq > last_seq {
        return Ok(Some((
            last_seq + 1,
            format!("entries {} to {seq} were removed from the end", last_seq + 1),
        )));
    }
    let mut mismatch = None;
    ledger.store.audit_entries(&mut |entry| {
        if entry.seq == seq && entry.hash != hash {
            mismatch = Some((seq, "it differs from the anchor in audit.head".to_owned()));
        }
        Ok(())
    })?;
    Ok(mismatch)
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len() / 2)
        .filter_map(|index| text.get(index * 2..index * 2 + 2))
        .filter_map(|pair| u8::from_str_radix(pair, 16).ok())
        .collect()
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
