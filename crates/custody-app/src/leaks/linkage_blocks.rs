//! The people's blocking keys, kept beside the store (`linkage-blocks.bin`), so that fuzzy
//! linkage opens only the people who share a blocking key with a record, not everyone.
//!
//! Each key is a 64-bit keyed hash (SipHash-1-3 under a key derived from the master key, see
//! `Vault::blocking_hash`) of what the key is made of: a date of birth with an initial, a
//! postcode, Soundex codes, an email's local part, a phone's last digits. Without the master key
//! nobody can tell which date, name or postcode a key stands for; what the file does show is which
//! people share a key (the same postcode, say), as the identifier index shows which share an
//! identifier. Keys that more people share than a block may compare are left out: they would
//! never be used.
//!
//! The file follows the identifier index's rules (`leak_index_file`): it records the store's
//! identifiers generation and is used only while the store holds that token; it is written under
//! a temporary name, synced and renamed into place; a file of another layout, byte order or size
//! is rebuilt, and so is one whose keyed MAC (`Vault::kept_file_mac`, over the header and the
//! body) does not verify: damage, or a change by someone without the key (which could otherwise
//! hide people from linkage), is never used. Like the index, it is mapped read-only
//! (`leak_table::map_kept_file`): the page cache's pages, nothing copied. The MAC is checked on
//! the mapped bytes when the file is opened; custody only ever renames a new file over it, but
//! someone who can write the data directory could change it in place during a match. Layout: a 128-byte header (`CUSTBLK1`, a
//! byte-order mark, the counts of keys, entries and linkable people, the layout's version, the
//! token's length, the MAC, the token), then the sorted keys (u64), each key's first entry (u32,
//! one more than there are keys), the entries (person ids, u32) and the ids of the people with a
//! linkable record (u32, sorted).

use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};

use custody_core::PersonId;
use custody_vault::Vault;

use crate::dir::Ledger;
use crate::error::{Error, Result};
use crate::leaks::linkage_groups::{Spread, group_spread};

/// The file's name in the data directory.
pub const FILE_NAME: &str = "linkage-blocks.bin";
const MAGIC: &[u8; 8] = b"CUSTBLK1";
const BYTE_ORDER: u32 = 0x0102_0304;
const HEADER: usize = 128;
/// Where the MAC sits in the header, and the token after it.
const MAC_AT: usize = 40;
const TOKEN_AT: usize = MAC_AT + 32;
/// The layout of keys and entries: bumped whenever the keys a person gets change, in
/// `linkage::block_keys` or in what it builds on (`person_record`, the name folding, Soundex,
/// date parsing), so that keys kept by an earlier release are rebuilt.
const LAYOUT: u16 = 1;
const TOKEN_MAX: usize = HEADER - TOKEN_AT;
const PURPOSE: &str = "linkage-blocks.bin";

/// People by keyed blocking key.
#[derive(Debug, Default)]
pub(crate) struct PeopleBlocks {
    lists: Lists,
}

/// The sorted keys, each key's first entry, the entries and the linkable people: made here, or
/// a kept file's, mapped (read in by the kernel, nothing copied).
#[derive(Debug)]
enum Lists {
    Made {
        keys: Vec<u64>,
        starts: Vec<u32>,
        people: Vec<PersonId>,
        linkable: Vec<PersonId>,
    },
    Mapped {
        map: memmap2::Mmap,
        /// Where each list is in the mapping, in bytes.
        at: [Range<usize>; 4],
    },
}

impl Default for Lists {
    fn default() -> Self {
        Lists::Made {
            keys: Vec::new(),
            starts: Vec::new(),
            people: Vec::new(),
            linkable: Vec::new(),
        }
    }
}

impl PartialEq for PeopleBlocks {
    fn eq(&self, other: &Self) -> bool {
        self.keys() == other.keys()
            && self.starts() == other.starts()
            && self.people() == other.people()
            && self.linkable() == other.linkable()
    }
}

/// List `which` of a mapping (none when it is not where it should be).
fn mapped<'m, T: bytemuck::AnyBitPattern>(
    map: &'m memmap2::Mmap,
    at: &[Range<usize>; 4],
    which: usize,
) -> &'m [T] {
    at.get(which)
        .and_then(|range| map.get(range.clone()))
        .and_then(|bytes| bytemuck::try_cast_slice(bytes).ok())
        .unwrap_or_default()
}

impl PeopleBlocks {
    /// From the people's keys as threads spread them (person ids as the values), leaving out
    /// keys shared by more than `most` people; `linkable` are the people with a record linkage
    /// can compare.
    pub(crate) fn from_spread(
        spreads: Vec<Spread>,
        mut linkable: Vec<PersonId>,
        most: usize,
    ) -> Result<Self> {
        linkable.sort_unstable();
        linkable.dedup();
        let (keys, starts, people) = group_spread(spreads, most)?;
        Ok(PeopleBlocks {
            lists: Lists::Made {
                keys,
                starts,
                people,
                linkable,
            },
        })
    }

    fn keys(&self) -> &[u64] {
        match &self.lists {
            Lists::Made { keys, .. } => keys,
            Lists::Mapped { map, at } => mapped(map, at, 0),
        }
    }

    fn starts(&self) -> &[u32] {
        match &self.lists {
            Lists::Made { starts, .. } => starts,
            Lists::Mapped { map, at } => mapped(map, at, 1),
        }
    }

    fn people(&self) -> &[PersonId] {
        match &self.lists {
            Lists::Made { people, .. } => people,
            Lists::Mapped { map, at } => mapped(map, at, 2),
        }
    }

    /// The people with a linkable record, in id order.
    pub(crate) fn linkable(&self) -> &[PersonId] {
        match &self.lists {
            Lists::Made { linkable, .. } => linkable,
            Lists::Mapped { map, at } => mapped(map, at, 3),
        }
    }

    /// Calls `visit` with every key of `sorted` (ascending, as (key, anything)) that people
    /// hold, and those people: one pass over both lists.
    pub(crate) fn each_shared<T: Copy>(&self, sorted: &[(u64, T)], mut visit: impl FnMut(T, &[PersonId])) {
        let (keys, starts, people) = (self.keys(), self.starts(), self.people());
        let mut at = 0;
        for (key, value) in sorted {
            at += seek(keys.get(at..).unwrap_or(&[]), *key);
            if keys.get(at) == Some(key) {
                let start = starts.get(at).map_or(0, |start| *start as usize);
                let end = starts.get(at + 1).map_or(start, |end| *end as usize);
                visit(*value, people.get(start..end).unwrap_or(&[]));
            }
        }
    }
}

/// Where `key` is or would be in `sorted`: galloping from the start, so a pass of many keys
/// costs a merge and a pass of a few costs a few binary searches.
fn seek(sorted: &[u64], key: u64) -> usize {
    let mut bound = 1;
    while sorted.get(bound).is_some_and(|found| *found < key) {
        bound *= 2;
    }
    let end = bound.saturating_add(1).min(sorted.len());
    sorted
        .get(..end)
        .map_or(0, |window| window.partition_point(|found| *found < key))
}

fn path(ledger: &Ledger) -> PathBuf {
    ledger.dir.join(FILE_NAME)
}

/// The kept blocks, if the file is whole, was built at `token` and its MAC verifies.
pub(crate) fn read_kept(ledger: &Ledger, token: &str) -> Option<PeopleBlocks> {
    read(&path(ledger), token, &ledger.vault)
}

/// Keeps `blocks`, built at `token`, for the next linkage. A file that cannot be written costs
/// only speed: the next linkage reads every person again.
pub(crate) fn keep(ledger: &Ledger, token: &str, blocks: &PeopleBlocks) {
    let file = path(ledger);
    crate::files::remove_stale_temporaries(&file);
    let _kept = write(&file, token, blocks, &ledger.vault);
}

/// The MAC of a header (its MAC field zeroed) and the blocks.
fn mac(vault: &Vault, header: &[u8; HEADER], blocks: &PeopleBlocks) -> [u8; 32] {
    let mut unsigned = *header;
    if let Some(field) = unsigned.get_mut(MAC_AT..TOKEN_AT) {
        field.fill(0);
    }
    vault.kept_file_mac(
        PURPOSE,
        &[
            &unsigned,
            bytemuck::cast_slice(blocks.keys()),
            bytemuck::cast_slice(blocks.starts()),
            bytemuck::cast_slice(blocks.people()),
            bytemuck::cast_slice(blocks.linkable()),
        ],
    )
}

/// Removes the kept blocks and any copy a writer left (the organisation chose not to keep
/// them).
pub(crate) fn forget(ledger: &Ledger) {
    let file = path(ledger);
    let _ = std::fs::remove_file(&file);
    crate::files::remove_temporaries(&file, 0);
}

fn read(file: &Path, token: &str, vault: &Vault) -> Option<PeopleBlocks> {
    let (opened, header) = crate::leaks::leak_table::open_kept::<HEADER>(file)?;
    let (keys, entries, linkable, written, sealed) = parse_header(&header)?;
    let body = keys
        .checked_mul(8)?
        .checked_add(keys.checked_add(1)?.checked_mul(4)?)?
        .checked_add(entries.checked_mul(4)?)?
        .checked_add(linkable.checked_mul(4)?)?;
    if written != token || !crate::leaks::leak_table::kept_length_is(&opened, HEADER, body) {
        return None;
    }
    // Each list where the header says, in a mapping of the file (page-aligned, so every list
    // is aligned to its type: the header is 128 bytes, and the keys of 8 come before the rest).
    let mut at: [Range<usize>; 4] = Default::default();
    let mut end = HEADER;
    for (range, bytes) in at.iter_mut().zip([
        keys.checked_mul(8)?,
        keys.checked_add(1)?.checked_mul(4)?,
        entries.checked_mul(4)?,
        linkable.checked_mul(4)?,
    ]) {
        let start = end;
        end = start.checked_add(usize::try_from(bytes).ok()?)?;
        *range = start..end;
    }
    let map = crate::leaks::leak_table::map_kept_file(&opened, end).ok()?;
    let blocks = PeopleBlocks {
        lists: Lists::Mapped { map, at },
    };
    let counts = [keys, keys + 1, entries, linkable];
    let lengths = [
        blocks.keys().len(),
        blocks.starts().len(),
        blocks.people().len(),
        blocks.linkable().len(),
    ];
    let placed = counts
        .iter()
        .zip(lengths)
        .all(|(count, length)| *count == length as u64);
    (placed && mac(vault, &header, &blocks) == sealed && whole(&blocks)).then_some(blocks)
}

/// Keys ascending, starts ascending from 0 to the entries' count: a file that says otherwise
/// (damaged, or written by something else) is rebuilt, never trusted.
fn whole(blocks: &PeopleBlocks) -> bool {
    let starts = blocks.starts();
    blocks.keys().windows(2).all(|pair| pair.first() < pair.get(1))
        && starts.first() == Some(&0)
        && starts.last().map(|last| *last as usize) == Some(blocks.people().len())
        && starts.windows(2).all(|pair| pair.first() < pair.get(1))
        && blocks
            .linkable()
            .windows(2)
            .all(|pair| pair.first() < pair.get(1))
}

/// The counts of keys, entries and linkable people, the token and the MAC a header gives, if it
/// is one of ours in this byte order.
fn parse_header(header: &[u8; HEADER]) -> Option<(u64, u64, u64, String, [u8; 32])> {
    let (magic, rest) = header.split_first_chunk::<8>()?;
    let (order, rest) = rest.split_first_chunk::<4>()?;
    let (keys, rest) = rest.split_first_chunk::<8>()?;
    let (entries, rest) = rest.split_first_chunk::<8>()?;
    let (linkable, rest) = rest.split_first_chunk::<8>()?;
    let (layout, rest) = rest.split_first_chunk::<2>()?;
    let (token_len, rest) = rest.split_first_chunk::<2>()?;
    let (sealed, rest) = rest.split_first_chunk::<32>()?;
    if magic != MAGIC || u32::from_ne_bytes(*order) != BYTE_ORDER || u16::from_le_bytes(*layout) != LAYOUT {
        return None;
    }
    let token = rest.get(..usize::from(u16::from_le_bytes(*token_len)))?;
    Some((
        u64::from_le_bytes(*keys),
        u64::from_le_bytes(*entries),
        u64::from_le_bytes(*linkable),
        String::from_utf8(token.to_vec()).ok()?,
        *sealed,
    ))
}

/// The header for `blocks` at `token`, its MAC made.
fn header(token: &[u8], blocks: &PeopleBlocks, vault: &Vault) -> [u8; HEADER] {
    let mut header = Vec::with_capacity(HEADER);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&BYTE_ORDER.to_ne_bytes());
    header.extend_from_slice(&(blocks.keys().len() as u64).to_le_bytes());
    header.extend_from_slice(&(blocks.people().len() as u64).to_le_bytes());
    header.extend_from_slice(&(blocks.linkable().len() as u64).to_le_bytes());
    header.extend_from_slice(&LAYOUT.to_le_bytes());
    header.extend_from_slice(&(token.len() as u16).to_le_bytes());
    header.extend_from_slice(&[0; 32]);
    header.extend_from_slice(token);
    header.resize(HEADER, 0);
    let mut header: [u8; HEADER] = header.try_into().unwrap_or([0; HEADER]);
    let sealed = mac(vault, &header, blocks);
    if let Some(field) = header.get_mut(MAC_AT..TOKEN_AT) {
        field.copy_from_slice(&sealed);
    }
    header
}

fn write(file: &Path, token: &str, blocks: &PeopleBlocks, vault: &Vault) -> Result<()> {
    if token.len() > TOKEN_MAX {
        return Err(Error::Invalid(
            "the identifiers generation is too long to keep".to_owned(),
        ));
    }
    let header = header(token.as_bytes(), blocks, vault);
    crate::files::replace_private_with(file, |out| {
        out.write_all(&header)?;
        out.write_all(bytemuck::cast_slice(blocks.keys()))?;
        out.write_all(bytemuck::cast_slice(blocks.starts()))?;
        out.write_all(bytemuck::cast_slice(blocks.people()))?;
        out.write_all(bytemuck::cast_slice(blocks.linkable()))
    })
    .map_err(|source| Error::io(file, source))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(key: u64, person: PersonId) -> u128 {
        u128::from(key) << 32 | u128::from(person)
    }

    /// People's blocks from (key, person) pairs, spread over two threads' shares as a reading
    /// of everyone spreads them.
    fn from_pairs(pairs: Vec<u128>, linkable: Vec<PersonId>, most: usize) -> PeopleBlocks {
        let mut shares = vec![Spread::default(), Spread::default()];
        for (at, pair) in pairs.iter().enumerate() {
            shares[at % 2].push((pair >> 32) as u64, *pair as u32);
        }
        PeopleBlocks::from_spread(shares, linkable, most).unwrap()
    }

    #[test]
    fn crowded_keys_are_left_out_and_shared_keys_found_in_one_pass() {
        let pairs = vec![
            pair(9, 1),
            pair(5, 2),
            pair(5, 1),
            pair(7, 1),
            pair(7, 2),
            pair(7, 3),
            pair(5, 2),
        ];
        let blocks = from_pairs(pairs, vec![3, 1, 2], 2);
        assert_eq!(blocks.keys(), [5, 9], "key 7 holds three people");
        assert_eq!(blocks.linkable(), &[1, 2, 3]);
        let mut seen = Vec::new();
        blocks.each_shared(
            &[(1, 'a'), (5, 'b'), (7, 'c'), (9, 'd'), (10, 'e')],
            |tag, people| {
                seen.push((tag, people.to_vec()));
            },
        );
        assert_eq!(seen, vec![('b', vec![1, 2]), ('d', vec![1])]);
    }

    #[test]
    fn a_kept_file_is_used_only_whole_at_its_token_and_under_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(FILE_NAME);
        let vault = Vault::from_master(&[7; 32]);
        let blocks = from_pairs(vec![pair(4, 8), pair(4, 9), pair(6, 8)], vec![8, 9], 10);
        write(&file, "token-1", &blocks, &vault).unwrap();
        assert_eq!(read(&file, "token-1", &vault), Some(blocks));
        assert_eq!(read(&file, "token-2", &vault), None, "another generation");
        let other = Vault::from_master(&[8; 32]);
        assert_eq!(read(&file, "token-1", &other), None, "made under another key");
        let mut bytes = std::fs::read(&file).unwrap();
        let last = bytes.pop().unwrap();
        std::fs::write(&file, &bytes).unwrap();
        assert_eq!(read(&file, "token-1", &vault), None, "a torn file");
        bytes.push(last);
        std::fs::write(&file, &bytes).unwrap();
        assert!(read(&file, "token-1", &vault).is_some(), "mended");
        // No keys and no one linkable (a ledger of people without names): kept and read back.
        let empty_file = dir.path().join("empty.bin");
        let empty = from_pairs(Vec::new(), Vec::new(), 10);
        assert_eq!(empty.starts(), [0]);
        write(&empty_file, "token-1", &empty, &vault).unwrap();
        assert_eq!(read(&empty_file, "token-1", &vault), Some(empty));
        // A block's person replaced by another, the order kept: only the MAC tells.
        let entries = HEADER + 2 * 8 + 3 * 4;
        bytes[entries..entries + 4].copy_from_slice(&7_u32.to_ne_bytes());
        std::fs::write(&file, &bytes).unwrap();
        assert_eq!(read(&file, "token-1", &vault), None, "a changed entry");
    }
}
