//! The identifier pairs (keyed hash, person) of an import into an empty store, collected to be
//! appended to the `identifiers` B-tree in key order.
//!
//! They are kept in 256 buckets by the hash's first byte. Keyed hashes are uniform, so each
//! bucket holds about a 256th of the pairs: growing one never copies more than a few MiB (one
//! vector of 46 million pairs at 10M people, grown under mimalloc, which copies a large block
//! into a new one where glibc remaps it, held 0.9 GiB and its 1.8 GiB successor at once and set
//! the import's peak memory), the buckets are sorted on two threads, and read in order they are
//! in key order with nothing to merge. A bucket is freed as soon as it is read.

use custody_core::PersonId;

/// One pair: a keyed identifier hash and the person it belongs to.
pub(crate) type Pair = ([u8; 16], PersonId);

const BUCKETS: usize = 256;

/// Pairs collected, in buckets by the hash's first byte.
pub(crate) struct IdentifierPairs {
    buckets: Vec<Vec<Pair>>,
}

impl Default for IdentifierPairs {
    fn default() -> Self {
        IdentifierPairs {
            buckets: (0..BUCKETS).map(|_| Vec::new()).collect(),
        }
    }
}

impl IdentifierPairs {
    /// Adds a pair.
    pub(crate) fn push(&mut self, hash: [u8; 16], person: PersonId) {
        if let Some(bucket) = self.buckets.get_mut(usize::from(hash[0])) {
            bucket.push((hash, person));
        }
    }

    /// Adds a person's identifiers (as `NewPerson::identifiers` holds them).
    pub(crate) fn push_person<K>(&mut self, identifiers: &[(K, [u8; 16])], person: PersonId) {
        for (_, hash) in identifiers {
            self.push(*hash, person);
        }
    }

    /// Every pair once, in key order (hash, then person). The buckets are sorted on this thread
    /// and one other (all on this one if no thread can be started).
    pub(crate) fn into_sorted(mut self) -> impl Iterator<Item = Pair> {
        let (low, high) = self.buckets.split_at_mut(BUCKETS / 2);
        let sorted_there = std::thread::scope(|scope| {
            let other = std::thread::Builder::new()
                .name("sort-pairs".to_owned())
                .spawn_scoped(scope, || sort(high));
            sort(low);
            other.is_ok_and(|handle| handle.join().is_ok())
        });
        if !sorted_there {
            // No thread could be started, or it panicked: sorted here, again if need be.
            let (_, high) = self.buckets.split_at_mut(BUCKETS / 2);
            sort(high);
        }
        self.buckets.into_iter().flatten()
    }
}

/// Sorts each bucket and drops repeated pairs (a repeated pair has one first byte). The hash
/// is compared as a big-endian `u128`: the same order as its bytes', in two integer compares
/// instead of a call to `memcmp` (a bucket of 180,000 pairs takes about 3.4 million compares).
fn sort(buckets: &mut [Vec<Pair>]) {
    for bucket in buckets {
        bucket.sort_unstable_by_key(|(hash, person)| (u128::from_be_bytes(*hash), *person));
        bucket.dedup();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_come_out_sorted_and_once_whatever_order_they_went_in() {
        let mut rng = fastrand::Rng::with_seed(11);
        let mut pairs = IdentifierPairs::default();
        let mut expected = Vec::new();
        for person in 1..=20_000u32 {
            let mut hash = [0u8; 16];
            rng.fill(&mut hash);
            // Some hashes shared by a household, some pairs given twice.
            if person % 7 == 0 {
                hash = [7; 16];
            }
            pairs.push(hash, person);
            expected.push((hash, person));
            if person % 13 == 0 {
                pairs.push(hash, person);
            }
        }
        expected.sort_unstable();
        let sorted: Vec<Pair> = pairs.into_sorted().collect();
        assert_eq!(sorted, expected);
        assert!(IdentifierPairs::default().into_sorted().next().is_none());
    }
}
