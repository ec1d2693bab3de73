//! `audit.head`: the keyed record, kept outside the database, of where the audit chain ends.
//!
//! It names the newest committed entry and, while a write transaction is under way, the entry
//! that transaction is about to commit (`pending`). Every append first checks that the store's
//! newest entry is one of the two, then stages its own entry as pending; after the commit the
//! record settles on it. All three steps run under the store's write lock, so the record moves in
//! step with the store however many processes write. A crash between the commit and the settling
//! leaves the store ending at `pending`, one before it at `committed`: both are accepted. Anything
//! else, such as entries deleted from the end, is refused before a byte is written.
//!
//! The record carries a keyed MAC (the vault's checkpoint key), so it cannot be rewritten to a
//! shortened chain without the key. Replacing it with an older genuine record is the one thing
//! a local record cannot see; the checkpoints of `custody audit anchor`, kept outside custody,
//! catch that.

use std::fs;
use std::path::Path;

use custody_store::ChainEnd;
use custody_vault::Vault;

use crate::dir::AUDIT_HEAD_FILE_NAME;

const FORMAT_LINE: &str = "custody-audit-head v2";
const MAC_PURPOSE: &str = "audit.head";
/// Bytes of `audit.head` read at most: the record is four short lines.
const HEAD_BYTES_MAX: u64 = 4_096;

/// One end of the chain: an entry's position and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct End {
    /// Position in the chain.
    pub seq: i64,
    /// Chain hash.
    pub hash: Vec<u8>,
}

impl End {
    fn of(end: ChainEnd<'_>) -> Self {
        End {
            seq: end.seq,
            hash: end.hash.to_vec(),
        }
    }

    fn matches(this: Option<&End>, newest: Option<ChainEnd<'_>>) -> bool {
        match (this, newest) {
            (None, None) => true,
            (Some(end), Some(newest)) => end.seq == newest.seq && end.hash == newest.hash,
            _ => false,
        }
    }
}

/// The record in `audit.head`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The newest committed entry (none before the first).
    pub committed: Option<End>,
    /// The entry a write under way is about to commit.
    pub pending: Option<End>,
}

impl Head {
    /// The newest position the record names.
    pub fn furthest(&self) -> i64 {
        let seq = |end: &Option<End>| end.as_ref().map_or(0, |end| end.seq);
        seq(&self.committed).max(seq(&self.pending))
    }

    /// Whether the store may end at `newest`.
    pub fn accepts(&self, newest: Option<ChainEnd<'_>>) -> bool {
        End::matches(self.committed.as_ref(), newest)
            || (self.pending.is_some() && End::matches(self.pending.as_ref(), newest))
    }

    fn body(&self) -> String {
        let line = |name: &str, end: &Option<End>| match end {
            Some(end) => format!("{name} {} {}\n", end.seq, custody_vault::hex(&end.hash)),
            None => format!("{name} none\n"),
        };
        format!(
            "{FORMAT_LINE}\n{}{}",
            line("committed", &self.committed),
            line("pending", &self.pending)
        )
    }
}

/// Reads and authenticates the record: `Ok(None)` when there is no file.
pub fn read(dir: &Path, vault: &Vault) -> Result<Option<Head>, String> {
    let path = dir.join(AUDIT_HEAD_FILE_NAME);
    let text = match fs::File::open(&path) {
        Ok(file) => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::Read::take(file, HEAD_BYTES_MAX), &mut text)
                .map_err(|error| format!("{AUDIT_HEAD_FILE_NAME} cannot be read: {error}"))?;
            text
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(format!("{AUDIT_HEAD_FILE_NAME} cannot be read: {error}")),
    };
    parse(&text, vault).map(Some)
}

/// Reads and authenticates a record's text.
pub fn parse(text: &str, vault: &Vault) -> Result<Head, String> {
    let mut lines = text.lines();
    if lines.next() != Some(FORMAT_LINE) {
        return Err(format!(
            "{AUDIT_HEAD_FILE_NAME} is not a keyed record (an older custody wrote it, or it was replaced); \
             if the chain is yours, accept its end with `custody audit reanchor`"
        ));
    }
    let committed = parse_end(lines.next(), "committed")?;
    let pending = parse_end(lines.next(), "pending")?;
    let head = Head { committed, pending };
    let mac = lines
        .next()
        .and_then(|line| line.strip_prefix("mac "))
        .ok_or_else(|| format!("{AUDIT_HEAD_FILE_NAME} has no MAC line"))?;
    let expected = custody_vault::hex(&vault.checkpoint_mac(MAC_PURPOSE, head.body().as_bytes()));
    if !constant_time_equal(mac.as_bytes(), expected.as_bytes()) {
        return Err(format!(
            "{AUDIT_HEAD_FILE_NAME} was not written with this data directory's key (its MAC does not match)"
        ));
    }
    Ok(head)
}

fn parse_end(line: Option<&str>, name: &str) -> Result<Option<End>, String> {
    let bad = || format!("{AUDIT_HEAD_FILE_NAME}: expected a line `{name} SEQ HASH` or `{name} none`");
    let rest = line.and_then(|line| line.strip_prefix(name)).ok_or_else(bad)?;
    let mut words = rest.split_whitespace();
    match (words.next(), words.next(), words.next()) {
        (Some("none"), None, None) => Ok(None),
        (Some(seq), Some(hash), None) => {
            let seq: i64 = seq.parse().map_err(|_| bad())?;
            let hash = unhex(hash).ok_or_else(bad)?;
            Ok(Some(End { seq, hash }))
        }
        _ => Err(bad()),
    }
}

/// The record of the ledger's chain end, wherever it is kept: in the store, when the store keeps
/// it (PostgreSQL), else in `audit.head`.
pub fn read_for(ledger: &crate::dir::Ledger) -> Result<Option<Head>, String> {
    if ledger.store.keeps_audit_head() {
        let kept = ledger
            .store
            .kept_audit_head()
            .map_err(|error| error.to_string())?;
        kept.map(|text| parse(&text, &ledger.vault)).transpose()
    } else {
        read(&ledger.dir, &ledger.vault)
    }
}

/// The sealed text of a record naming `end` as committed, nothing pending.
pub fn seal(vault: &Vault, end: Option<ChainEnd<'_>>) -> String {
    let head = Head {
        committed: end.map(End::of),
        pending: None,
    };
    let body = head.body();
    let mac = custody_vault::hex(&vault.checkpoint_mac(MAC_PURPOSE, body.as_bytes()));
    format!("{body}mac {mac}\n")
}

/// Writes the record whole beside the old one, synced, then renamed over it (mode 0600).
pub fn write(dir: &Path, vault: &Vault, head: &Head) -> Result<(), String> {
    let body = head.body();
    let mac = custody_vault::hex(&vault.checkpoint_mac(MAC_PURPOSE, body.as_bytes()));
    let text = format!("{body}mac {mac}\n");
    let path = dir.join(AUDIT_HEAD_FILE_NAME);
    crate::files::replace_private(&path, text.as_bytes())
        .map_err(|error| format!("{AUDIT_HEAD_FILE_NAME} cannot be written: {error}"))
}

/// Where the record is kept, for messages: `audit.head`, or the database for a store that
/// keeps it itself.
pub fn place(store_keeps: bool) -> &'static str {
    if store_keeps {
        "the database's audit head"
    } else {
        AUDIT_HEAD_FILE_NAME
    }
}

/// Why the store may not end at `newest`, in words, given the record (or its absence) kept in
/// `place`.
pub fn refusal(head: Option<&Head>, newest: Option<ChainEnd<'_>>, place: &str) -> Option<String> {
    let newest_seq = newest.map_or(0, |end| end.seq);
    let Some(head) = head else {
        return (newest_seq > 0)
            .then(|| format!("{place} is missing while the store holds {newest_seq} audit entries"));
    };
    if head.accepts(newest) {
        return None;
    }
    let named = head.furthest();
    let committed = head.committed.as_ref().map_or(0, |end| end.seq);
    Some(if newest_seq < committed {
        format!(
            "the store's newest audit entry is {newest_seq} but {place} names entry {committed}: \
             entries {} to {committed} were removed from the end",
            newest_seq + 1
        )
    } else {
        format!(
            "the store's newest audit entry is {newest_seq} but {place} names entry {named} \
             with another hash: the end of the chain was replaced"
        )
    })
}

fn constant_time_equal(left: &[u8], right: &[u8]) -> bool {
    left.len() == right.len() && left.iter().zip(right).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// Hex digits to bytes; `None` for anything else.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len() / 2)
        .map(|index| {
            text.get(index * 2..index * 2 + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect()
}

/// Records of the chain's end for the store's write transactions: the vault's audit MAC chains
/// entries, and `audit.head` in `dir` guards the end.
pub struct VaultSigner<'a> {
    vault: &'a Vault,
    dir: &'a Path,
}

impl<'a> VaultSigner<'a> {
    /// The signer of a vault guarding the chain of the data directory `dir`.
    pub fn new(vault: &'a Vault, dir: &'a Path) -> Self {
        VaultSigner { vault, dir }
    }
}

impl custody_store::AuditSigner for VaultSigner<'_> {
    fn chain_hash(&self, previous: &[u8], entry: &[u8]) -> [u8; 32] {
        self.vault.audit_mac(previous, entry)
    }

    fn check_end(&self, newest: Option<ChainEnd<'_>>) -> Result<(), String> {
        let head = read(self.dir, self.vault)?;
        match refusal(head.as_ref(), newest, AUDIT_HEAD_FILE_NAME) {
            Some(problem) => Err(problem),
            None => Ok(()),
        }
    }

    fn stage(&self, newest: Option<ChainEnd<'_>>, entry: ChainEnd<'_>) -> Result<(), String> {
        // `check_end` accepted `newest` under the same lock, and a transaction appends one entry,
        // so `newest` is committed now whichever of the two it matched.
        let head = Head {
            committed: newest.map(End::of),
            pending: Some(End::of(entry)),
        };
        write(self.dir, self.vault, &head)
    }

    fn settle(&self, newest: Option<ChainEnd<'_>>) -> Result<(), String> {
        let Some(head) = read(self.dir, self.vault)? else {
            return Ok(());
        };
        // Only a record that already accepts the store's end settles; anything else is left for
        // the next append and `audit verify` to report.
        if head.pending.is_some() && head.accepts(newest) {
            let settled = Head {
                committed: newest.map(End::of),
                pending: None,
            };
            return write(self.dir, self.vault, &settled);
        }
        Ok(())
    }

    fn check_kept(&self, kept: Option<&str>, newest: Option<ChainEnd<'_>>) -> Result<(), String> {
        let head = kept.map(|text| parse(text, self.vault)).transpose()?;
        match refusal(head.as_ref(), newest, place(true)) {
            Some(problem) => Err(problem),
            None => Ok(()),
        }
    }

    fn seal_end(&self, end: Option<ChainEnd<'_>>) -> Result<String, String> {
        Ok(seal(self.vault, end))
    }
}

/// Runs `work` with the store's newest entry while the store's write lock is held (through
/// `Store::settle_audit`), so that what it writes to `audit.head` cannot fall behind another
/// writer's entry.
pub struct UnderLock<'a> {
    vault: &'a Vault,
    work: std::cell::RefCell<&'a mut EndWork<'a>>,
}

/// What runs under the lock, given the store's newest entry.
pub type EndWork<'a> = dyn FnMut(Option<ChainEnd<'_>>) -> Result<(), String> + 'a;

impl<'a> UnderLock<'a> {
    /// A signer whose settling runs `work`.
    pub fn new(vault: &'a Vault, work: &'a mut EndWork<'a>) -> Self {
        UnderLock {
            vault,
            work: std::cell::RefCell::new(work),
        }
    }
}

impl custody_store::AuditSigner for UnderLock<'_> {
    fn chain_hash(&self, previous: &[u8], entry: &[u8]) -> [u8; 32] {
        self.vault.audit_mac(previous, entry)
    }

    fn check_end(&self, _newest: Option<ChainEnd<'_>>) -> Result<(), String> {
        Err("no entry is appended under this signer".to_owned())
    }

    fn stage(&self, _newest: Option<ChainEnd<'_>>, _entry: ChainEnd<'_>) -> Result<(), String> {
        Err("no entry is appended under this signer".to_owned())
    }

    fn settle(&self, newest: Option<ChainEnd<'_>>) -> Result<(), String> {
        (self.work.borrow_mut())(newest)
    }

    fn check_kept(&self, _kept: Option<&str>, _newest: Option<ChainEnd<'_>>) -> Result<(), String> {
        Err("no entry is appended under this signer".to_owned())
    }

    fn seal_end(&self, end: Option<ChainEnd<'_>>) -> Result<String, String> {
        Ok(seal(self.vault, end))
    }
}

/// What `directory.init` records of a chain kept with a keyed head from its start.
pub const KEYED_FROM_INIT: &str = "keyed";

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_head_in_the_older_unkeyed_form_is_refused_never_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::from_master(&[7u8; 32]);
        fs::write(dir.path().join(AUDIT_HEAD_FILE_NAME), "2 00ff\n").unwrap();
        let problem = read(dir.path(), &vault).unwrap_err();
        assert!(problem.contains("reanchor"), "{problem}");
        let head = Head {
            committed: Some(End {
                seq: 2,
                hash: vec![1, 2],
            }),
            pending: None,
        };
        write(dir.path(), &vault, &head).unwrap();
        assert_eq!(read(dir.path(), &vault).unwrap(), Some(head));
        let other = Vault::from_master(&[8u8; 32]);
        assert!(read(dir.path(), &other).unwrap_err().contains("MAC"));
    }
}
