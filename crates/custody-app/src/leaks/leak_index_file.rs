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
//! Layout, little-endian: a 64-byte header (`CUSTIDX1`, a byte-order mark, the table's slot
//! count and entries, the token's length and the token), then the table's 16-byte slots.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use custody_core::IdentifierKind;

use crate::dir::Ledger;
use crate::error::{Error, Result};
use crate::leaks::leak_index::IdentifierIndex;

/// The file's name in the data directory.
pub const FILE_NAME: &str = "identifier-index.bin";
const MAGIC: &[u8; 8] = b"CUSTIDX1";
const BYTE_ORDER: u32 = 0x0102_0304;
const HEADER: usize = 64;
/// Room for the token in the header.
const TOKEN_MAX: usize = HEADER - 8 - 4 - 8 - 8 - 2;

/// Where the index came from, for the match's report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Read from the file.
    File,
    /// Built from the store (and written to the file when the store has a generation).
    Store,
}

fn path(ledger: &Ledger) -> PathBuf {
    ledger.dir.join(FILE_NAME)
}

/// The index of every kind a leaked file is matched by: from the file when it is the store's
/// current one, else built from the store and kept for the next match.
pub fn load(ledger: &Ledger) -> Result<(IdentifierIndex, Source)> {
    let token = ledger.store.identifiers_generation()?;
    let file = path(ledger);
    if let Some(token) = &token
        && let Some(index) = read(&file, token)
    {
        return Ok((index, Source::File));
    }
    let index = IdentifierIndex::load(ledger.store.as_ref(), &IdentifierKind::ALL)?;
    if let Some(token) = token {
        // A file that cannot be written (a full disk, a read-only directory) costs only speed:
        // the match goes on with the index in memory, and the next one builds it again.
        let _kept = write(&file, &token, &index);
    }
    Ok((index, Source::Store))
}

/// The index in `file` if it was built at `token` and is whole.
fn read(file: &Path, token: &str) -> Option<IdentifierIndex> {
    let mut opened = std::fs::File::open(file).ok()?;
    let mut header = [0_u8; HEADER];
    opened.read_exact(&mut header).ok()?;
    let (slots, len, written) = parse_header(&header)?;
    if written != token {
        return None;
    }
    let expected = u64::try_from(HEADER).ok()? + slots.checked_mul(16)?;
    if opened.metadata().ok()?.len() != expected {
        return None;
    }
    let mut table = vec![0_u128; usize::try_from(slots).ok()?];
    opened.read_exact(bytemuck::cast_slice_mut(&mut table)).ok()?;
    IdentifierIndex::from_slots(table, usize::try_from(len).ok()?)
}

/// The slot count, entries and token a header gives, if it is one of ours in this byte order.
fn parse_header(header: &[u8; HEADER]) -> Option<(u64, u64, String)> {
    let (magic, rest) = header.split_first_chunk::<8>()?;
    let (order, rest) = rest.split_first_chunk::<4>()?;
    let (slots, rest) = rest.split_first_chunk::<8>()?;
    let (len, rest) = rest.split_first_chunk::<8>()?;
    let (token_len, rest) = rest.split_first_chunk::<2>()?;
    if magic != MAGIC || u32::from_ne_bytes(*order) != BYTE_ORDER {
        return None;
    }
    let token = rest.get(..usize::from(u16::from_le_bytes(*token_len)))?;
    Some((
        u64::from_le_bytes(*slots),
        u64::from_le_bytes(*len),
        String::from_utf8(token.to_vec()).ok()?,
    ))
}

/// Writes the index for `token` under a temporary name, syncs it and renames it into place.
fn write(file: &Path, token: &str, index: &IdentifierIndex) -> Result<()> {
    let token = token.as_bytes();
    if token.len() > TOKEN_MAX {
        return Err(Error::Invalid(
            "the identifiers generation is too long to keep".to_owned(),
        ));
    }
    let mut header = Vec::with_capacity(HEADER);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&BYTE_ORDER.to_ne_bytes());
    header.extend_from_slice(&(index.slots().len() as u64).to_le_bytes());
    header.extend_from_slice(&(index.len() as u64).to_le_bytes());
    header.extend_from_slice(&(token.len() as u16).to_le_bytes());
    header.extend_from_slice(token);
    header.resize(HEADER, 0);
    let temporary = crate::files::temporary_beside(file).map_err(|source| Error::io(file, source))?;
    let written = (|| -> std::io::Result<()> {
        let mut out =
            std::io::BufWriter::with_capacity(1 << 20, crate::files::create_new_private(&temporary)?);
        out.write_all(&header)?;
        out.write_all(bytemuck::cast_slice(index.slots()))?;
        let out = out.into_inner().map_err(std::io::IntoInnerError::into_error)?;
        out.sync_all()?;
        std::fs::rename(&temporary, file)?;
        crate::files::sync_parent(file)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written.map_err(|source| Error::io(file, source))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_round_trips_and_a_foreign_one_is_refused() {
        let mut header = [0_u8; HEADER];
        let mut at = 0;
        for part in [
            &MAGIC[..],
            &BYTE_ORDER.to_ne_bytes()[..],
            &1024_u64.to_le_bytes()[..],
            &7_u64.to_le_bytes()[..],
            &3_u16.to_le_bytes()[..],
            b"abc",
        ] {
            header[at..at + part.len()].copy_from_slice(part);
            at += part.len();
        }
        assert_eq!(parse_header(&header), Some((1024, 7, "abc".to_owned())));
        header[8..12].copy_from_slice(&BYTE_ORDER.swap_bytes().to_ne_bytes());
        assert_eq!(parse_header(&header), None, "another byte order");
        header[0] = b'X';
        assert_eq!(parse_header(&header), None);
    }
}
