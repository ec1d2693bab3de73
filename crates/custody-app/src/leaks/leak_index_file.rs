//! The identifier index kept in a file beside the store (`identifier-index.bin`), so that a
//! match reads the table as it was built (one sequential read) instead of rebuilding it from
//! every hash in the store. The file records the store's identifiers generation (a token every
//! people import and every share's canaries replace in their own transaction) and is used only
//! while the store still holds that token: an import since, on this machine or another sharing
//! the database, makes the next match rebuild it. It is written under a temporary name, synced
//! and renamed into place, so a process killed at any moment leaves the old file or the new one,
//! never a torn one (and a file of the wrong length, or from another machine's byte order, is
//! rebuilt).
//!
//! Layout: a 128-byte header (`CUSTIDX2`, a byte-order mark, the table's slot count, home slots
//! and entries, the layout's version, the identifier kinds it holds, the token's length and the
//! token, and a keyed MAC of the header and the table, `Vault::kept_file_mac`), then the table's
//! 16-byte slots as they are in memory. A file of another layout or other kinds (a later
//! release) is rebuilt, and so is one whose MAC does not verify: damage, or a change by someone
//! without the key (which could otherwise hide people from a match), is never used. The table is mapped read-only (the page cache's pages,
//! nothing copied) and checked against its digest before it is used.

use std::io::Write;
use std::path::{Path, PathBuf};

use custody_core::IdentifierKind;

use crate::dir::Ledger;
use crate::error::{Error, Result};
use crate::leaks::leak_index::IdentifierIndex;
use crate::leaks::leak_table::{SlotTable, kept_length_is, open_kept};
use custody_vault::Vault;

/// The file's name in the data directory.
pub const FILE_NAME: &str = "identifier-index.bin";
const MAGIC: &[u8; 8] = b"CUSTIDX2";
const BYTE_ORDER: u32 = 0x0102_0304;
const HEADER: usize = 128;
/// The slots' layout (`leak_index`'s: 64-bit key, 32-bit check, person plus one, in key order
/// from each key's home slot).
const LAYOUT: u16 = 2;
/// Bytes of the MAC, at the end of the header.
const MAC: usize = 32;
/// What the MAC is for (`Vault::kept_file_mac`).
const PURPOSE: &str = "identifier-index.bin";
/// Room for the token in the header.
const TOKEN_MAX: usize = HEADER - 8 - 4 - 8 - 8 - 8 - 2 - 2 - 2 - MAC;

/// The kinds the index holds, as a bit mask of their positions in `IdentifierKind::ALL`.
fn kinds_mask() -> u16 {
    (0..IdentifierKind::ALL.len()).fold(0, |mask, bit| mask | (1 << bit))
}

/// Where the index came from, for the match's report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Source {
    /// Read from the file.
    File,
    /// Built from the store (and written to the file when the store has a generation).
    #[default]
    Store,
}

impl Source {
    /// As the match's report names it.
    pub fn name(self) -> &'static str {
        match self {
            Source::File => "file",
            Source::Store => "store",
        }
    }
}

fn path(ledger: &Ledger) -> PathBuf {
    ledger.dir.join(FILE_NAME)
}

/// The index of every kind a leaked file is matched by: from the file when it is the store's
/// current one, else built from the store. With it comes the token to [`keep`] it under when
/// it was built (none when the store has no generation yet, or the file was used).
pub fn load(ledger: &Ledger) -> Result<(IdentifierIndex, Source, Option<String>)> {
    // The token and the hashes read in one snapshot: the index is never newer than its label.
    let snapshot = ledger.store.read_snapshot()?;
    let token = ledger.store.identifiers_generation()?;
    let file = path(ledger);
    if let Some(token) = &token
        && let Some(index) = read(&file, token, &ledger.vault)
    {
        return Ok((index, Source::File, None));
    }
    let index = IdentifierIndex::load(ledger.store.as_ref(), &IdentifierKind::ALL)?;
    drop(snapshot);
    Ok((index, Source::Store, token))
}

/// Keeps `index`, built at `token`, for the next match. A file that cannot be written (a full
/// disk, a read-only directory) costs only speed: the next match builds the index again.
pub fn keep(ledger: &Ledger, token: &str, index: &IdentifierIndex) {
    let file = path(ledger);
    crate::files::remove_stale_temporaries(&file);
    let _kept = write(&file, token, index, &ledger.vault);
}

/// What a header says.
#[derive(Debug, PartialEq, Eq)]
struct Header {
    slots: u64,
    homes: u64,
    len: u64,
    token: String,
    mac: [u8; MAC],
}

/// The index in `file` if it was built at `token`, is whole and its MAC verifies.
fn read(file: &Path, token: &str, vault: &Vault) -> Option<IdentifierIndex> {
    let (opened, bytes) = open_kept::<HEADER>(file)?;
    let header = parse_header(&bytes)?;
    if header.token != token || !kept_length_is(&opened, HEADER, header.slots.checked_mul(16)?) {
        return None;
    }
    let table = SlotTable::map_file(&opened, HEADER, usize::try_from(header.slots).ok()?).ok()?;
    if mac(vault, &bytes, table.bytes()) != header.mac {
        return None;
    }
    IdentifierIndex::from_table(
        table,
        usize::try_from(header.homes).ok()?,
        usize::try_from(header.len).ok()?,
    )
}

/// What a header says, if it is one of ours in this byte order.
fn parse_header(header: &[u8; HEADER]) -> Option<Header> {
    let (magic, rest) = header.split_first_chunk::<8>()?;
    let (order, rest) = rest.split_first_chunk::<4>()?;
    let (slots, rest) = rest.split_first_chunk::<8>()?;
    let (homes, rest) = rest.split_first_chunk::<8>()?;
    let (len, rest) = rest.split_first_chunk::<8>()?;
    let (layout, rest) = rest.split_first_chunk::<2>()?;
    let (kinds, rest) = rest.split_first_chunk::<2>()?;
    let (token_len, rest) = rest.split_first_chunk::<2>()?;
    let (rest, mac) = rest.split_last_chunk::<MAC>()?;
    if magic != MAGIC
        || u32::from_ne_bytes(*order) != BYTE_ORDER
        || u16::from_le_bytes(*layout) != LAYOUT
        || u16::from_le_bytes(*kinds) != kinds_mask()
    {
        return None;
    }
    let token = rest.get(..usize::from(u16::from_le_bytes(*token_len)))?;
    Some(Header {
        slots: u64::from_le_bytes(*slots),
        homes: u64::from_le_bytes(*homes),
        len: u64::from_le_bytes(*len),
        token: String::from_utf8(token.to_vec()).ok()?,
        mac: *mac,
    })
}

/// The MAC of a header (all but its MAC field) and a table.
fn mac(vault: &Vault, header: &[u8], table: &[u8]) -> [u8; MAC] {
    vault.kept_file_mac(PURPOSE, &[header.get(..HEADER - MAC).unwrap_or_default(), table])
}

/// The header of `index` kept for `token`.
fn header_of(token: &[u8], index: &IdentifierIndex, vault: &Vault) -> Vec<u8> {
    let mut header = Vec::with_capacity(HEADER);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&BYTE_ORDER.to_ne_bytes());
    header.extend_from_slice(&(index.table().slots().len() as u64).to_le_bytes());
    header.extend_from_slice(&(index.homes() as u64).to_le_bytes());
    header.extend_from_slice(&(index.len() as u64).to_le_bytes());
    header.extend_from_slice(&LAYOUT.to_le_bytes());
    header.extend_from_slice(&kinds_mask().to_le_bytes());
    header.extend_from_slice(&(token.len() as u16).to_le_bytes());
    header.extend_from_slice(token);
    header.resize(HEADER - MAC, 0);
    let sealed = mac(vault, &header, index.table().bytes());
    header.extend_from_slice(&sealed);
    header
}

/// Writes the index for `token` under a temporary name, syncs it and renames it into place.
fn write(file: &Path, token: &str, index: &IdentifierIndex, vault: &Vault) -> Result<()> {
    let token = token.as_bytes();
    if token.len() > TOKEN_MAX {
        return Err(Error::Invalid(
            "the identifiers generation is too long to keep".to_owned(),
        ));
    }
    let header = header_of(token, index, vault);
    crate::files::replace_private_with(file, |out| {
        out.write_all(&header)?;
        out.write_all(index.table().bytes())
    })
    .map_err(|source| Error::io(file, source))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_round_trips_and_a_foreign_one_is_refused() {
        let index = IdentifierIndex::build(Vec::new()).unwrap();
        let vault = Vault::from_master(&[1; 32]);
        let written = header_of(b"abc", &index, &vault);
        let header: [u8; HEADER] = written.as_slice().try_into().unwrap();
        let parsed = parse_header(&header).unwrap();
        assert_eq!(
            (parsed.slots, parsed.homes, parsed.len, parsed.token.as_str()),
            (index.table().slots().len() as u64, index.homes() as u64, 0, "abc")
        );
        assert_eq!(parsed.mac, mac(&vault, &header, index.table().bytes()));
        let other_key = Vault::from_master(&[2; 32]);
        assert_ne!(
            parsed.mac,
            mac(&other_key, &header, index.table().bytes()),
            "keyed"
        );
        let mut other_kinds = header;
        other_kinds[38] ^= 1;
        assert_eq!(parse_header(&other_kinds), None, "a table of other kinds");
        let mut other_layout = header;
        other_layout[36] ^= 1;
        assert_eq!(parse_header(&other_layout), None, "another layout");
        let mut swapped = header;
        swapped[8..12].copy_from_slice(&BYTE_ORDER.swap_bytes().to_ne_bytes());
        assert_eq!(parse_header(&swapped), None, "another byte order");
        let mut foreign = header;
        foreign[0] = b'X';
        assert_eq!(parse_header(&foreign), None);
    }
}
