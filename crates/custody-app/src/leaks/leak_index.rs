//! The ledger's identifier hashes in memory, for matching a leaked file at millions of rows a
//! second: an open-addressing table of 16-byte slots (96 bits of the keyed hash and the person),
//! placed by the hash's leading bits and probed linearly. The hashes are keyed BLAKE3, so they are
//! spread evenly: at most seven slots in ten are used, and a lookup reads one or two neighbouring
//! cache lines (a sorted array with a directory costs two random reads, and at ten million people
//! those are cache and TLB misses). 96 bits keep a chance match below one in 10^20 per lookup.
//!
//! A slot is one `u128`: the key (64 bits), the check (32) and the person's id plus one (32), so
//! an empty slot is zero and the table comes from the allocator already cleared.

use custody_core::{IdentifierKind, PersonId};
use custody_store::Store;

use crate::error::Result;

/// Entries are gathered in this many parts by their leading bits before they are placed.
const PART_BITS: u32 = 10;
const PARTS: usize = 1 << PART_BITS;

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

/// Identifier hashes to people; see the module documentation.
#[derive(Debug)]
pub struct IdentifierIndex {
    slots: Vec<Slot>,
    shift: u32,
    mask: usize,
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

    /// Places every entry at its home slot (the leading bits) or the next free one after it.
    /// The entries come split by their leading bits, so each part fills its own stretch of the
    /// table, which stays in cache while it does: placing tens of millions of entries at random
    /// across a gigabyte would wait on memory for each one.
    fn build(parts: Vec<Vec<Slot>>) -> Result<Self> {
        let len: usize = parts.iter().map(Vec::len).sum();
        let wanted = (len * 10 / 7).max(1 << PART_BITS);
        let bits = wanted.next_power_of_two().ilog2();
        let mask = (1usize << bits) - 1;
        let mut slots: Vec<Slot> = vec![0; mask + 1];
        let shift = 64 - bits;
        for part in parts {
            for entry in part {
                let mut at = (key_of(entry) >> shift) as usize;
                while let Some(taken) = slots.get_mut(at) {
                    if *taken == 0 {
                        *taken = entry;
                        break;
                    }
                    at = (at + 1) & mask;
                }
            }
        }
        Ok(IdentifierIndex {
            slots,
            shift,
            mask,
            len,
        })
    }

    /// An index from its table as [`Self::slots`] gave it, or `None` when the table cannot be
    /// one: a power of two of slots, exactly `len` of them used and so at least one empty (a
    /// table with none would make a lookup probe for ever).
    pub(crate) fn from_slots(slots: Vec<Slot>, len: usize) -> Option<Self> {
        if !slots.len().is_power_of_two() || slots.len() < (1 << PART_BITS) || len >= slots.len() {
            return None;
        }
        if slots.iter().filter(|slot| **slot != 0).count() != len {
            return None;
        }
        let bits = slots.len().ilog2();
        Some(IdentifierIndex {
            shift: 64 - bits,
            mask: slots.len() - 1,
            len,
            slots,
        })
    }

    /// The table itself, to be kept in a file.
    pub(crate) fn slots(&self) -> &[Slot] {
        &self.slots
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
        self.slots.len() * std::mem::size_of::<Slot>()
    }

    /// Reads the slot a hash starts at, and nothing else: called for a group of hashes before
    /// their lookups, it brings their cache lines in together.
    pub fn touch(&self, hash: &[u8; 16]) -> u32 {
        let home = hash
            .first_chunk::<8>()
            .map_or(0, |bytes| u64::from_be_bytes(*bytes) >> self.shift);
        self.slots.get(home as usize).map_or(0, |slot| *slot as u32)
    }

    /// Calls `found` for every person with this hash.
    pub fn lookup(&self, hash: &[u8; 16], found: &mut impl FnMut(PersonId)) {
        let Some(probe) = slot_of(hash, 0) else {
            return;
        };
        let mut at = (key_of(probe) >> self.shift) as usize;
        while let Some(&slot) = self.slots.get(at) {
            if slot == 0 {
                return;
            }
            if hash_part(slot) == hash_part(probe) {
                found(person_of(slot));
            }
            at = (at + 1) & self.mask;
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
        let mut entries: Vec<Slot> = (0..10_000u32)
            .map(|seed| slot_of(&hash(seed), seed).unwrap())
            .collect();
        // A household address: two people with one hash; and person 0.
        entries.push(slot_of(&hash(7), 99_999).unwrap());
        entries.push(slot_of(&hash(20_000), 0).unwrap());
        let mut parts: Vec<Vec<Slot>> = (0..PARTS).map(|_| Vec::new()).collect();
        for entry in entries {
            parts[(key_of(entry) >> (64 - PART_BITS)) as usize].push(entry);
        }
        let index = IdentifierIndex::build(parts).unwrap();
        assert_eq!(index.len(), 10_002);
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
