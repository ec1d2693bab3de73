//! The identifier pairs (keyed hash, person) of an import into an empty store, collected to be
//! appended to the `identifiers` B-tree in key order.
//!
//! They are kept in 256 buckets by the hash's first byte. Keyed hashes are uniform, so each
//! bucket holds about a 256th of the pairs: growing one never copies more than a few MiB (one
//! vector of 46 million pairs at 10M people, grown under mimalloc, which copies a large block
//! into a new one where glibc remaps it, held 0.9 GiB and its 1.8 GiB successor at once and set
//! the import's peak memory), and read in order they are in key order with nothing to merge.
//! Another thread sorts each bucket while the ones before it are written, so the writer (alone
//! at the end of an import, the other core idle) waits only for the first. A bucket is freed as
//! soon as it is read.

use std::sync::mpsc;

use custody_core::PersonId;

use crate::error::{Error, Result};

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

    /// Visits every pair once, in key order (hash, then person). A thread sorts the buckets in
    /// order, a few ahead of the visits (this one sorts them all if no thread can be started).
    /// An error from `visit` stops the sorting; a sorting thread that stops early is an error,
    /// never fewer pairs.
    pub(crate) fn each_sorted(self, visit: impl FnMut(Pair) -> Result<()>) -> Result<()> {
        self.each_sorted_by(sort, visit)
    }

    /// [`IdentifierPairs::each_sorted`] with the buckets sorted by `sort` (a test's may fail).
    fn each_sorted_by(
        self,
        sort: fn(&mut Vec<Pair>),
        mut visit: impl FnMut(Pair) -> Result<()>,
    ) -> Result<()> {
        let (to_sort, unsorted) = mpsc::channel::<Vec<Pair>>();
        let (to_visit, sorted) = mpsc::sync_channel::<Vec<Pair>>(SORTED_AHEAD);
        std::thread::scope(|scope| {
            let sorter = std::thread::Builder::new()
                .name("sort-pairs".to_owned())
                .spawn_scoped(scope, move || {
                    for mut bucket in unsorted {
                        sort(&mut bucket);
                        if to_visit.send(bucket).is_err() {
                            return;
                        }
                    }
                });
            let Ok(sorter) = sorter else {
                for mut bucket in self.buckets {
                    sort(&mut bucket);
                    bucket.into_iter().try_for_each(&mut visit)?;
                }
                return Ok(());
            };
            let visited = hand_over(self.buckets, to_sort, &sorted, &mut visit);
            // Dropping the receiver ends a sorter still sending (after an error from `visit`).
            drop(sorted);
            let joined = sorter.join();
            visited?;
            joined.map_err(|_| Error::Corrupt("the identifier pairs' sort failed".to_owned()))
        })
    }
}

/// Sends every bucket to the sorter, then visits the pairs of the sorted buckets it sends back.
fn hand_over(
    buckets: Vec<Vec<Pair>>,
    to_sort: mpsc::Sender<Vec<Pair>>,
    sorted: &mpsc::Receiver<Vec<Pair>>,
    visit: &mut impl FnMut(Pair) -> Result<()>,
) -> Result<()> {
    let stopped = || Error::Corrupt("the identifier pairs' sort stopped".to_owned());
    for bucket in buckets {
        to_sort.send(bucket).map_err(|_| stopped())?;
    }
    drop(to_sort);
    let mut received = 0;
    for bucket in sorted {
        received += 1;
        bucket.into_iter().try_for_each(&mut *visit)?;
    }
    if received == BUCKETS {
        Ok(())
    } else {
        Err(stopped())
    }
}

/// Buckets sorted ahead of the one being visited: each takes a few tens of milliseconds to sort
/// at 10M people and longer to write, so the sorter stays ahead with little memory held.
const SORTED_AHEAD: usize = 4;

/// Sorts a bucket and drops repeated pairs (a repeated pair has one first byte). The hash
/// is compared as a big-endian `u128`: the same order as its bytes', in two integer compares
/// instead of a call to `memcmp` (a bucket of 180,000 pairs takes about 3.4 million compares).
fn sort(bucket: &mut Vec<Pair>) {
    bucket.sort_unstable_by_key(|(hash, person)| (u128::from_be_bytes(*hash), *person));
    bucket.dedup();
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
        let mut sorted: Vec<Pair> = Vec::new();
        pairs
            .each_sorted(|pair| {
                sorted.push(pair);
                Ok(())
            })
            .unwrap();
        assert_eq!(sorted, expected);
        let mut none = 0;
        IdentifierPairs::default()
            .each_sorted(|_| {
                none += 1;
                Ok(())
            })
            .unwrap();
        assert_eq!(none, 0);
    }

    #[test]
    fn a_sort_that_stops_part_way_is_an_error_not_fewer_pairs() {
        fn failing(bucket: &mut Vec<Pair>) {
            if bucket.first().is_some_and(|(hash, _)| hash[0] == 100) {
                panic!("a sort that fails, for the test");
            }
            sort(bucket);
        }
        let mut pairs = IdentifierPairs::default();
        for person in 1..=2_000u32 {
            let mut hash = [0u8; 16];
            hash[0] = u8::try_from(person % 256).unwrap();
            pairs.push(hash, person);
        }
        let mut visited = 0;
        let result = pairs.each_sorted_by(failing, |_| {
            visited += 1;
            Ok(())
        });
        assert!(matches!(result, Err(Error::Corrupt(_))), "{result:?}");
        // The buckets before the failing one were visited, none after it.
        assert!(visited < 2_000, "{visited}");
    }

    #[test]
    fn an_error_while_visiting_stops_the_visits_and_is_returned() {
        let mut pairs = IdentifierPairs::default();
        for person in 1..=5_000u32 {
            let mut hash = [0u8; 16];
            hash[0] = u8::try_from(person % 256).unwrap();
            hash[1] = u8::try_from(person / 256).unwrap();
            pairs.push(hash, person);
        }
        let mut visited = 0;
        let result = pairs.each_sorted(|_| {
            visited += 1;
            if visited == 1_000 {
                Err(Error::Corrupt("stop".to_owned()))
            } else {
                Ok(())
            }
        });
        assert!(matches!(result, Err(Error::Corrupt(message)) if message == "stop"));
        assert_eq!(visited, 1_000);
    }
}
