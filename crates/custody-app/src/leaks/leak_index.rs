//! The ledger's identifier hashes in memory, for matching a leaked file at millions of rows a
//! second: a table of 16-byte slots (96 bits of the keyed hash and the person) in which every
//! entry sits at its home slot or just after it, in the order of the keys. The hashes are keyed
//! BLAKE3, so they are spread evenly: the home slot is the key scaled to the table (five home
//! slots for every four entries), and an entry is placed at its home or at the first free slot
//! after the entry before it. The table is therefore sorted, with
//! gaps: a lookup reads from the home slot until an empty slot or a larger key, one or two
//! neighbouring cache lines, and never wraps around or runs past the end. 96 bits keep a chance
//! match below one in 10^20 per lookup.
//!
//! A slot is one `u128`: the key (64 bits), the check (32) and the person's id plus one (32), so
//! an empty slot is zero and the table comes from the kernel already cleared.

use custody_core::{IdentifierKind, PersonId};
use custody_store::Store;

use crate::error::{Error, Result};
use crate::leaks::leak_table::SlotTable;

/// Entries are gathered in this many parts by their leading bits before they are placed.
const PART_BITS: u32 = 10;
const PARTS: usize = 1 << PART_BITS;
/// Home slots for every four entries: at most four in five are used.
const HOMES_PER_FOUR: usize = 5;
/// Home slots at least.
const HOMES_MIN: usize = 1 << PART_BITS;

/// A slot: key, check and person (plus one; zero is empty).
type Slot = u128;

fn slot_of(hash: &[u8], person: PersonId) -> Option<Slot> {
    let key = u64::from_be_bytes(hash.get(..8)?.try_into().ok()?);
    let check = u32::from_be_bytes(hash.get(8..12)?.try_into().ok()?);
    let tag = person.checked_add(1)?;
    Some((u128::from(key) << 64) | (u128::from(check) << 32) | u128::from(tag))
}

fn key_of(slot: Slot) -> u64 {
    (slot >> 64) as u64
}

/// The key and check of a slot, for comparing with a probe.
fn hash_part(slot: Slot) -> u128 {
    slot >> 32
}

fn person_of(slot: Slot) -> PersonId {
    (slot as u32).wrapping_sub(1)
}

/// The home slot of `key` among `homes`: the key scaled to the table, so that homes rise with keys.
fn home(key: u64, homes: usize) -> usize {
    ((u128::from(key) * homes as u128) >> 64) as usize
}

/// Identifier hashes to people; see the module documentation.
#[derive(Debug)]
pub struct IdentifierIndex {
    table: SlotTable,
    homes: usize,
    len: usize,
}

impl IdentifierIndex {
    /// Loads the hashes of `kinds` from the store.
    pub fn load(store: &dyn Store, kinds: &[IdentifierKind]) -> Result<Self> {
        let mut parts: Vec<Vec<Slot>> = (0..PARTS).map(|_| Vec::new()).collect();
        store.each_identifier(kinds, &mut |_, hash, person| {
            if let Some(slot) = slot_of(hash, person)
                && let Some(part) = parts.get_mut((key_of(slot) >> (64 - PART_BITS)) as usize)
            {
                part.push(slot);
            }
        })?;
        Self::build(parts)
    }

    /// Places the entries in the order of their keys, each at its home slot or the one after
    /// the entry before it. The entries come split by their leading bits, so each part is
    /// sorted on its own and fills its own stretch of the table, which stays in cache while it
    /// does.
    pub(crate) fn build(mut parts: Vec<Vec<Slot>>) -> Result<Self> {
        let len: usize = parts.iter().map(Vec::len).sum();
        let homes = (len / 4 * HOMES_PER_FOUR + HOMES_PER_FOUR).max(HOMES_MIN);
        for part in &mut parts {
            part.sort_unstable();
        }
        // Where the last entry lands: the table's length.
        let mut next = 0;
        for entry in parts.iter().flatten() {
            next = home(key_of(*entry), homes).max(next) + 1;
        }
        let mut table = SlotTable::zeroed(next.max(homes))
            .map_err(|source| Error::Invalid(format!("no memory for the identifier index: {source}")))?;
        let slots = table.slots_mut();
        let mut next = 0;
        for entry in parts.into_iter().flatten() {
            let at = home(key_of(entry), homes).max(next);
            if let Some(slot) = slots.get_mut(at) {
                *slot = entry;
            }
            next = at + 1;
        }
        Ok(IdentifierIndex { table, homes, len })
    }

    /// An index of these (hash, person) pairs, for tests.
    #[cfg(test)]
    pub(crate) fn of_pairs(pairs: impl IntoIterator<Item = ([u8; 16], PersonId)>) -> Self {
        let mut parts: Vec<Vec<Slot>> = (0..PARTS).map(|_| Vec::new()).collect();
        for (hash, person) in pairs {
            let slot = slot_of(&hash, person).expect("a person below u32::MAX");
            parts[(key_of(slot) >> (64 - PART_BITS)) as usize].push(slot);
        }
        Self::build(parts).expect("an index of a few pairs")
    }

    /// An index from a table as [`Self::table`] gave it, with its home count and entries, or
    /// `None` when those cannot be its own.
    pub(crate) fn from_table(table: SlotTable, homes: usize, len: usize) -> Option<Self> {
        let slots = table.slots().len();
        if homes < HOMES_MIN || homes > slots || len > slots {
            return None;
        }
        Some(IdentifierIndex { table, homes, len })
    }

    /// The table itself, to be kept in a file.
    pub(crate) fn table(&self) -> &SlotTable {
        &self.table
    }

    /// Home slots (the table may run a little past them).
    pub(crate) fn homes(&self) -> usize {
        self.homes
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of memory it takes.
    pub fn bytes(&self) -> usize {
        self.table.bytes().len()
    }

    fn home_of(&self, hash: &[u8; 16]) -> usize {
        hash.first_chunk::<8>()
            .map_or(0, |bytes| home(u64::from_be_bytes(*bytes), self.homes))
    }

    /// Reads the slot a hash starts at and the one three after it (a lookup reads three slots
    /// on average, which may run into the next cache line), and nothing else: called for a
    /// group of hashes before their lookups, it brings their cache lines in together.
    pub fn touch(&self, hash: &[u8; 16]) -> u32 {
        let slots = self.table.slots();
        let home = self.home_of(hash);
        let at = |at: usize| slots.get(at).map_or(0, |slot| *slot as u32);
        at(home) ^ at(home + 3)
    }

    /// Calls `found` for every person with this hash.
    pub fn lookup(&self, hash: &[u8; 16], found: &mut impl FnMut(PersonId)) {
        let Some(probe) = slot_of(hash, 0) else {
            return;
        };
        let key = key_of(probe);
        let slots = self.table.slots();
        for &slot in slots.get(self.home_of(hash)..).unwrap_or_default() {
            if slot == 0 || key_of(slot) > key {
                return;
            }
            if hash_part(slot) == hash_part(probe) {
                found(person_of(slot));
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
        // A household address: two people with one hash; and person 0.
        let index = IdentifierIndex::of_pairs(
            (0..10_000u32)
                .map(|seed| (hash(seed), seed))
                .chain([(hash(7), 99_999), (hash(20_000), 0)]),
        );
        assert_eq!(index.len(), 10_002);
        let mut keys = index
            .table
            .slots()
            .iter()
            .filter(|slot| **slot != 0)
            .map(|slot| key_of(*slot));
        let first = keys.next().unwrap();
        assert!(
            keys.try_fold(first, |before, key| (before <= key).then_some(key))
                .is_some(),
            "sorted"
        );
        let mut zero = Vec::new();
        index.lookup(&hash(20_000), &mut |person| zero.push(person));
        assert_eq!(zero, [0]);
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
        let empty = IdentifierIndex::build(Vec::new()).unwrap();
        empty.lookup(&hash(1), &mut |person| missing.push(person));
        assert!(missing.is_empty());
    }
}
