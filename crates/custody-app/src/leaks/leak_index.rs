//! The ledger's identifier hashes in memory, for matching a leaked file at millions of rows a
//! second: a table of 16-byte slots (96 bits of the keyed hash and the person) in which every
//! entry sits at its home slot or just after it, in the order of the keys. The hashes are keyed
//! BLAKE3, so they are spread evenly: the home slot is the key scaled to the table (six home
//! slots for every four entries), and an entry is placed at its home or at the first free slot
//! after the entry before it. The table is therefore sorted, with
//! gaps: a lookup reads from the home slot until an empty slot or a larger key, one or two
//! neighbouring cache lines, and never wraps around or runs past the end. 96 bits keep a chance
//! match below one in 10^20 per lookup.
//!
//! How far a lookup reads is set by how full the table is, as in linear probing. At four
//! entries in five home slots a lookup that finds nothing read 3.5 slots on average (measured
//! on a 3M-person ledger's index), and that reading cost more than the cache misses before it;
//! at four in six it reads fewer, for a table a fifth larger. A table kept by a release that
//! filled four in five is read as it is: its header gives its home count.
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
/// Home slots for every four entries: at most four in six are used.
const HOMES_PER_FOUR: usize = 6;
/// Home slots at least.
const HOMES_MIN: usize = 1 << PART_BITS;
/// Hashes whose slots [`IdentifierIndex::lookup_each`] reads together.
const GROUP: usize = 32;

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
    pub(crate) fn build(parts: Vec<Vec<Slot>>) -> Result<Self> {
        Self::build_with(parts, HOMES_PER_FOUR)
    }

    /// [`Self::build`] with `per_four` home slots for every four entries.
    fn build_with(mut parts: Vec<Vec<Slot>>, per_four: usize) -> Result<Self> {
        let len: usize = parts.iter().map(Vec::len).sum();
        let homes = (len / 4 * per_four + per_four).max(HOMES_MIN);
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

    /// Calls `found` for every person with this hash.
    pub fn lookup(&self, hash: &[u8; 16], found: &mut impl FnMut(PersonId)) {
        walk(self.table.slots(), self.home_of(hash), hash, found);
    }

    /// Looks up the hash of every item (`hash` gives it) and calls `found` with the item for
    /// every person with it, in the items' order. The items go a group at a time: their home
    /// slots are computed first, then the slot at each home and the one three after it are
    /// read, one after another with nothing in between, so that the cache misses of the whole
    /// group overlap (a lookup reads a few slots, which may run into the next cache line); only
    /// then are they looked up, from cache.
    pub fn lookup_each<T>(
        &self,
        items: &[T],
        hash: impl Fn(&T) -> &[u8; 16],
        found: &mut impl FnMut(&T, PersonId),
    ) {
        let slots = self.table.slots();
        let at = |at: usize| slots.get(at).map_or(0, |slot| *slot as u32);
        let mut homes = [0usize; GROUP];
        for group in items.chunks(GROUP) {
            for (home, item) in homes.iter_mut().zip(group) {
                *home = self.home_of(hash(item));
            }
            let touched = homes
                .iter()
                .take(group.len())
                .fold(0u32, |sum, home| sum ^ at(*home) ^ at(*home + 3));
            std::hint::black_box(touched);
            for (home, item) in homes.iter().zip(group) {
                walk(slots, *home, hash(item), &mut |person| found(item, person));
            }
        }
    }
}

/// Reads from `home` until an empty slot or a larger key, calling `found` for every person
/// whose slot holds `hash`.
fn walk(slots: &[Slot], home: usize, hash: &[u8; 16], found: &mut impl FnMut(PersonId)) {
    let Some(probe) = slot_of(hash, 0) else {
        return;
    };
    let key = key_of(probe);
    for &slot in slots.get(home..).unwrap_or_default() {
        if slot == 0 || key_of(slot) > key {
            return;
        }
        if hash_part(slot) == hash_part(probe) {
            found(person_of(slot));
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

    #[test]
    fn hashes_looked_up_together_find_what_each_finds_alone_in_order() {
        // Households (two or three people with one hash), people without a household, and
        // hashes nobody has; more than a group's worth, and not a whole number of groups.
        let pairs: Vec<([u8; 16], PersonId)> = (0..20_000u32)
            .map(|seed| (hash(seed), seed))
            .chain((0..500u32).map(|seed| (hash(seed * 7), 50_000 + seed)))
            .chain((0..100u32).map(|seed| (hash(seed * 11), 60_000 + seed)))
            .collect();
        // Hashes nobody holds at both ends of the table too: the last home slots' lookups
        // read past the end.
        let items: Vec<(usize, [u8; 16])> = (0..1_000u32)
            .map(|at| hash(at * 37 % 40_000))
            .chain([[0xff; 16], [0; 16]])
            .enumerate()
            .collect();
        // As this release fills a table, and as a table kept by one that filled four in five.
        for per_four in [HOMES_PER_FOUR, 5] {
            let mut parts: Vec<Vec<Slot>> = (0..PARTS).map(|_| Vec::new()).collect();
            for (hash, person) in &pairs {
                let slot = slot_of(hash, *person).unwrap();
                parts[(key_of(slot) >> (64 - PART_BITS)) as usize].push(slot);
            }
            let index = IdentifierIndex::build_with(parts, per_four).unwrap();
            let mut together = Vec::new();
            index.lookup_each(&items, |(_, hash)| hash, &mut |(at, _), person| {
                together.push((*at, person));
            });
            let mut alone = Vec::new();
            for (at, hash) in &items {
                index.lookup(hash, &mut |person| alone.push((*at, person)));
            }
            assert_eq!(together, alone, "{per_four} homes for four");
            index.lookup_each(&[] as &[(usize, [u8; 16])], |(_, hash)| hash, &mut |_, _| {
                panic!("nothing to find")
            });
            // Every item a seed below 20,000 gives is found, with its household.
            let found: std::collections::BTreeSet<usize> = together.iter().map(|(at, _)| *at).collect();
            let held = (0..1_000u32).filter(|at| at * 37 % 40_000 < 20_000).count();
            assert_eq!(found.len(), held);
            assert!(together.len() > held, "households give more than one person");
        }
    }
}
