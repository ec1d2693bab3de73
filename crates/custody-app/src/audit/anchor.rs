//! Checkpoints of the audit chain to keep outside custody, and accepting the chain's end again.
//!
//! `custody audit anchor` signs the newest entry (sequence, hash, time) with a keyed MAC and
//! records that it did so; the checkpoint is meant to be printed, mailed to the DPO or stored
//! where the people who run custody cannot change it. `custody audit verify --anchor FILE`
//! proves the chain still holds every anchored entry: whoever shortens the chain and replays an
//! older `audit.head` is still caught by any checkpoint taken after what they removed.
//!
//! `custody audit reanchor` is the way out after a crash or a data directory from an older
//! custody: it accepts the chain's end as it now is, only when every link and hash still
//! verifies, and records what `audit.head` said before.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::audit::head::{self, End, Head};
use crate::dir::Ledger;
use crate::error::{Error, Result};

const FORMAT: &str = "custody-audit-checkpoint/1";
const MAC_PURPOSE: &str = "audit.checkpoint";
/// Bytes of a checkpoint file read at most.
const CHECKPOINT_BYTES_MAX: u64 = 16_384;

/// A signed statement that the chain held entry `seq` with `hash` at `at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// Always `custody-audit-checkpoint/1`.
    pub format: String,
    /// The organisation, for the reader.
    pub organisation: String,
    /// Identifies the key that signed (never the key).
    pub key_check: String,
    /// The anchored entry's position.
    pub seq: i64,
    /// Its chain hash, hex.
    pub hash: String,
    /// When the checkpoint was taken (RFC 3339, UTC).
    pub at: String,
    /// Keyed MAC over the fields above, hex.
    pub mac: String,
}

impl Checkpoint {
    fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}\n{}\n{}\n",
            self.format, self.organisation, self.key_check, self.seq, self.hash, self.at
        )
    }
}

/// One checkpoint file checked against the chain.
#[derive(Debug, Clone, Serialize)]
pub struct CheckpointCheck {
    /// The file as given.
    pub file: String,
    /// The anchored entry, when the file could be read.
    pub seq: Option<i64>,
    /// Whether the chain still holds the anchored entry, as anchored.
    pub held: bool,
    /// What is wrong, when not held.
    pub problem: Option<String>,
}

/// Signs a checkpoint of the newest entry, records `audit.anchor`, and writes the checkpoint to
/// `out` (mode 0600, put in place whole) when given.
pub fn anchor(ledger: &mut Ledger, out: Option<&Path>) -> Result<Checkpoint> {
    let head = ledger
        .store
        .audit_head()?
        .ok_or_else(|| Error::Invalid("the audit log is empty; nothing to anchor".to_owned()))?;
    let mut checkpoint = Checkpoint {
        format: FORMAT.to_owned(),
        organisation: ledger.settings.organisation.clone(),
        key_check: ledger.vault.check_value().to_owned(),
        seq: head.seq,
        hash: head.hash,
        at: ledger.now().to_rfc3339(),
        mac: String::new(),
    };
    checkpoint.mac = custody_vault::hex(
        &ledger
            .vault
            .checkpoint_mac(MAC_PURPOSE, checkpoint.body().as_bytes()),
    );
    if let Some(path) = out {
        let text =
            serde_json::to_string_pretty(&checkpoint).map_err(|error| Error::Invalid(error.to_string()))?;
        crate::files::replace_private(path, format!("{text}\n").as_bytes())
            .map_err(|source| Error::io(path, source))?;
    }
    ledger.audit_only(
        "audit.anchor",
        "audit",
        serde_json::json!({ "seq": checkpoint.seq, "hash": checkpoint.hash, "at": checkpoint.at }),
    )?;
    Ok(checkpoint)
}

/// Checks each checkpoint file against the chain.
pub fn check_checkpoints(ledger: &Ledger, files: &[PathBuf]) -> Result<Vec<CheckpointCheck>> {
    let mut wanted: Vec<(usize, Checkpoint)> = Vec::new();
    let mut checks: Vec<CheckpointCheck> = files
        .iter()
        .map(|file| CheckpointCheck {
            file: file.display().to_string(),
            seq: None,
            held: false,
            problem: None,
        })
        .collect();
    for (index, (file, check)) in files.iter().zip(checks.iter_mut()).enumerate() {
        match read_checkpoint(ledger, file) {
            Ok(checkpoint) => {
                check.seq = Some(checkpoint.seq);
                wanted.push((index, checkpoint));
            }
            Err(problem) => check.problem = Some(problem),
        }
    }
    ledger.store.audit_entries(&mut |entry| {
        for (index, checkpoint) in &wanted {
            if checkpoint.seq == entry.seq
                && let Some(check) = checks.get_mut(*index)
            {
                if checkpoint.hash == entry.hash {
                    check.held = true;
                } else {
                    check.problem = Some(format!(
                        "entry {} is not the one anchored at {}: the chain was rewritten from there",
                        entry.seq, checkpoint.at
                    ));
                }
            }
        }
        Ok(())
    })?;
    for check in &mut checks {
        if !check.held && check.problem.is_none() {
            check.problem = Some(format!(
                "the chain no longer holds entry {}: entries were removed after it was anchored",
                check.seq.unwrap_or_default()
            ));
        }
    }
    Ok(checks)
}

fn read_checkpoint(ledger: &Ledger, file: &Path) -> std::result::Result<Checkpoint, String> {
    let mut text = String::new();
    std::fs::File::open(file)
        .and_then(|opened| {
            std::io::Read::read_to_string(&mut std::io::Read::take(opened, CHECKPOINT_BYTES_MAX), &mut text)
        })
        .map_err(|error| format!("cannot be read: {error}"))?;
    let checkpoint: Checkpoint = serde_json::from_str(&text).map_err(|error| {
        format!(
            "line {}, column {}: expected a checkpoint from `custody audit anchor` ({error})",
            error.line(),
            error.column()
        )
    })?;
    if checkpoint.format != FORMAT {
        return Err(format!("format {:?}: expected {FORMAT:?}", checkpoint.format));
    }
    let expected = custody_vault::hex(
        &ledger
            .vault
            .checkpoint_mac(MAC_PURPOSE, checkpoint.body().as_bytes()),
    );
    if checkpoint.mac != expected {
        return Err(
            "its MAC does not match: it was altered, or signed with another data directory's key".to_owned(),
        );
    }
    Ok(checkpoint)
}

/// What `reanchor` replaced.
#[derive(Debug, Clone, Serialize)]
pub struct Reanchored {
    /// The entry `audit.head` now names.
    pub seq: i64,
    /// What `audit.head` said before, in words.
    pub before: String,
}

/// Accepts the chain's end as it is, when every link and hash verifies, recording what
/// `audit.head` said before as `audit.reanchor`.
pub fn reanchor(ledger: &mut Ledger) -> Result<Reanchored> {
    if let Some((seq, problem)) = crate::audit::walk(ledger)?.first_bad {
        return Err(Error::Invalid(format!(
            "the chain itself is broken at entry {seq}: {problem}; reanchoring would not mend it"
        )));
    }
    let keeps = ledger.store.keeps_audit_head();
    let head = head::read_for(ledger);
    let before = match head {
        Ok(Some(head)) => format!("named entry {}", head.furthest()),
        Ok(None) => "was missing".to_owned(),
        Err(problem) => problem,
    };
    if keeps {
        let seq = {
            let (store, signer) = ledger.store_and_signer();
            store.rekeep_audit_head(&signer)?
        };
        ledger.audit_only(
            "audit.reanchor",
            "audit",
            serde_json::json!({ "seq": seq, "head_before": before }),
        )?;
        return Ok(Reanchored { seq, before });
    }
    // Written under the store's write lock, so no entry can land between reading the end and
    // recording it.
    let mut seq = 0;
    let (dir, vault) = (ledger.dir.clone(), &ledger.vault);
    let mut work = |newest: Option<custody_store::ChainEnd<'_>>| -> std::result::Result<(), String> {
        seq = newest.map_or(0, |end| end.seq);
        let head = Head {
            committed: newest.map(|end| End {
                seq: end.seq,
                hash: end.hash.to_vec(),
            }),
            pending: None,
        };
        head::write(&dir, vault, &head)
    };
    ledger
        .store
        .settle_audit(&head::UnderLock::new(vault, &mut work))?;
    ledger.audit_only(
        "audit.reanchor",
        "audit",
        serde_json::json!({ "seq": seq, "head_before": before }),
    )?;
    Ok(Reanchored { seq, before })
}
