//! The ledger's identifier hashes in memory, for matching a leaked file at millions of rows a
//! second: one array of 16-byte entries (96 bits of the keyed hash and the person) grouped by
//! the hash's leading bits, with a directory of where each group starts. The hashes are keyed
//! BLAKE3, so they are spread evenly and a group holds one or two entries: a lookup reads the
//! directory and one cache line. 96 bits keep a chance match below one in 10^20 per lookup.

use custody_core::{IdentifierKind, PersonId};
use custody_store::Store;

use crate::error::Result;

#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    key: u64,
    check: u32,
    person: PersonId,
}

impl Entry {
    fn of(hash: &[u8], person: PersonId) -> Option<Self> {
        let key = u64::from_be_bytes(hash.get(..8)?.try_into().ok()?);
        let check = u32::from_be_bytes(hash.get(8..12)?.try_into().ok()?);
        Some(Entry { key, check, person })
    }
}

/// Identifier hashes to people; see the module documentation.
#[derive(Debug, Default)]
pub struct IdentifierIndex {
    entries: Vec<Entry>,
    directory: Vec<u32>,
    shift: u32,
}

impl IdentifierIndex {
    /// Loads the hashes of `kinds` from the store.
    pub fn load(store: &dyn Store, kinds: &[IdentifierKind]) -> Result<Self> {
        let mut entries = Vec::new();
        store.each_identifier(kinds, &mut |_, hash, person| {
            if let Some(entry) = Entry::of(hash, person) {
                entries.push(entry);
            }
        })?;
        Ok(Self::build(entries))
    }

    /// Groups the entries by their leading bits (a counting sort: two passes, no comparisons).
    fn build(entries: Vec<Entry>) -> Self {
        let bits = entries.len().max(256).ilog2().min(30);
        let shift = 64 - bits;
        let groups = 1usize << bits;
        let mut directory = vec![0u32; groups + 1];
        for entry in &entries {
            if let Some(count) = directory.get_mut((entry.key >> shift) as usize + 1) {
                *count += 1;
            }
        }
        for index in 1..directory.len() {
            let previous = directory.get(index - 1).copied().unwrap_or(0);
            if let Some(count) = directory.get_mut(index) {
                *count += previous;
            }
        }
        let mut cursor = directory.clone();
        let mut grouped = vec![Entry::default(); entries.len()];
        for entry in entries {
            let group = (entry.key >> shift) as usize;
            if let Some(next) = cursor.get_mut(group) {
                if let Some(slot) = grouped.get_mut(*next as usize) {
                    *slot = entry;
                }
                *next += 1;
            }
        }
        IdentifierIndex {
            entries: grouped,
            directory,
            shift,
        }
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes of memory it takes.
    pub fn bytes(&self) -> usize {
        self.entries.len() * std::mem::size_of::<Entry>() + self.directory.len() * 4
    }

    /// Calls `found` for every person with this hash.
    pub fn lookup(&self, hash: &[u8; 16], found: &mut impl FnMut(PersonId)) {
        let Some(probe) = Entry::of(hash, 0) else {
            return;
        };
        let group = (probe.key >> self.shift) as usize;
        let (Some(start), Some(end)) = (self.directory.get(group), self.directory.get(group + 1)) else {
            return;
        };
        for entry in self
            .entries
            .get(*start as usize..*end as usize)
            .unwrap_or_default()
        {
            if entry.key == probe.key && entry.check == probe.check {
                found(entry.person);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(seed: u32) -> [u8; 16] {
        custody_vault::Vault::from_master(&[1; 32]).identifier_hash(1, &seed.to_string())
    }

    #[test]
    fn finds_every_person_of_a_hash_and_nothing_else() {
        let mut entries: Vec<Entry> = (0..10_000u32)
            .map(|seed| Entry::of(&hash(seed), seed).unwrap())
            .collect();
        // A household address: two people with one hash.
        entries.push(Entry::of(&hash(7), 99_999).unwrap());
        let index = IdentifierIndex::build(entries);
        assert_eq!(index.len(), 10_001);
        for seed in [0u32, 1, 5_000, 9_999] {
            let mut found = Vec::new();
            index.lookup(&hash(seed), &mut |person| found.push(person));
            assert_eq!(found, [seed]);
        }
        let mut found = Vec::new();
        index.lookup(&hash(7), &mut |person| found.push(person));
        found.sort_unstable();
        assert_eq!(found, [7, 99_999]);
        let mut missing = Vec::new();
        index.lookup(&hash(10_000), &mut |person| missing.push(person));
        assert!(missing.is_empty());
        let empty = IdentifierIndex::build(Vec::new());
        empty.lookup(&hash(1), &mut |person| missing.push(person));
        assert!(missing.is_empty());
    }
}
