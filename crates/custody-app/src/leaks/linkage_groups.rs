//! Pairs of a 64-bit keyed hash and a 32-bit value (a person, a row), grouped by key on every
//! core: the people's blocking keys (`linkage_blocks`) and the leftover rows' (`linkage`).
//! Each thread spreads its pairs into parts by the keys' leading bits ([`Spread`]); then each
//! thread takes the next part not yet taken, gathered from every spread, and sorts and groups
//! it, and the parts, being in key order, are joined end to end ([`group_spread`]).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::error::{Error, Result};

/// Pairs packed as `key << 32 | value`, grouped by key: the sorted distinct keys, each key's
/// first value (one more than there are keys) and the values, leaving out keys with more than
/// `most` values. All at once: what [`group_spread`] is tested against.
#[cfg(test)]
pub(crate) fn group(mut pairs: Vec<u128>, most: usize) -> (Vec<u64>, Vec<u32>, Vec<u32>) {
    pairs.sort_unstable();
    pairs.dedup();
    let mut out = (Vec::new(), Vec::new(), Vec::new());
    group_sorted(&pairs, most, &mut out);
    out.1.push(entry_count(out.2.len()));
    out
}

/// Adds sorted, distinct pairs to `(keys, starts, values)` as [`group`] makes them (each key's
/// first value counted from the values already there), without the closing start.
pub(crate) fn group_sorted(
    pairs: &[u128],
    most: usize,
    (keys, starts, values): &mut (Vec<u64>, Vec<u32>, Vec<u32>),
) {
    for group in pairs.chunk_by(|a, b| a >> 32 == b >> 32) {
        let Some(first) = group.first() else {
            continue;
        };
        if group.len() > most {
            continue;
        }
        keys.push((first >> 32) as u64);
        starts.push(entry_count(values.len()));
        values.extend(group.iter().map(|pair| (pair & 0xffff_ffff) as u32));
    }
}

/// Parts pairs are spread into by their keys' leading bits (keyed hashes, so the parts are
/// even): a million records' keys make parts of about 50,000 pairs.
const SPREAD_PARTS: usize = 256;

/// Pairs packed as `key << 32 | value`, spread into parts by the key's leading bits, so that a
/// part can be sorted on its own (in cache at a million rows or so, and far better placed than
/// one sort of them all) and the parts, in key order, joined end to end with nothing to merge.
#[derive(Debug)]
pub(crate) struct Spread(Vec<Vec<u128>>);

impl Default for Spread {
    fn default() -> Self {
        Spread::with_room(0)
    }
}

impl Spread {
    /// Room for about `pairs` pairs.
    pub(crate) fn with_room(pairs: usize) -> Self {
        let room = pairs / SPREAD_PARTS;
        Spread((0..SPREAD_PARTS).map(|_| Vec::with_capacity(room)).collect())
    }

    pub(crate) fn push(&mut self, key: u64, value: u32) {
        let part = (key >> (64 - SPREAD_PARTS.trailing_zeros())) as usize;
        if let Some(part) = self.0.get_mut(part) {
            part.push(u128::from(key) << 32 | u128::from(value));
        }
    }
}

/// Keys, each key's first value, and the values, as [`group`] gives them.
type Grouped = (Vec<u64>, Vec<u32>, Vec<u32>);

/// The pairs of several spreads (a thread's each) grouped as [`group`] groups them, on a thread
/// per core: each thread takes the next part not yet taken, gathers its share from every
/// spread (freeing each as it goes), and sorts and groups it; the parts are joined in key
/// order. Parts are taken one at a time rather than in fixed ranges: a part that holds a key
/// many rows share (a common name) takes longer than the others, and a thread with a range of
/// such parts kept the others waiting.
pub(crate) fn group_spread(spreads: Vec<Spread>, most: usize) -> Result<Grouped> {
    // Part by part, each part's share from every spread.
    let mut by_part: Vec<Vec<Vec<u128>>> = (0..SPREAD_PARTS)
        .map(|_| Vec::with_capacity(spreads.len()))
        .collect();
    for spread in spreads {
        for (part, pairs) in by_part.iter_mut().zip(spread.0) {
            part.push(pairs);
        }
    }
    let parts: Vec<Mutex<Vec<Vec<u128>>>> = by_part.into_iter().map(Mutex::new).collect();
    let grouped: Vec<Mutex<Grouped>> = (0..SPREAD_PARTS).map(|_| Mutex::default()).collect();
    let next = AtomicUsize::new(0);
    on_threads((0..crate::workers()).collect(), |_| {
        let mut pairs = Vec::new();
        loop {
            let at = next.fetch_add(1, Ordering::Relaxed);
            let (Some(part), Some(out)) = (parts.get(at), grouped.get(at)) else {
                break;
            };
            let shares = std::mem::take(&mut *part.lock().unwrap_or_else(PoisonError::into_inner));
            pairs.clear();
            for share in shares {
                pairs.extend_from_slice(&share);
            }
            pairs.sort_unstable();
            pairs.dedup();
            group_sorted(
                &pairs,
                most,
                &mut out.lock().unwrap_or_else(PoisonError::into_inner),
            );
        }
    })?;
    let grouped: Vec<Grouped> = grouped
        .into_iter()
        .map(|part| part.into_inner().unwrap_or_else(PoisonError::into_inner))
        .collect();
    let mut keys = Vec::with_capacity(grouped.iter().map(|part| part.0.len()).sum());
    let mut starts = Vec::with_capacity(keys.capacity() + 1);
    let mut values = Vec::with_capacity(grouped.iter().map(|part| part.2.len()).sum());
    for (part_keys, part_starts, part_values) in grouped {
        let before = entry_count(values.len());
        keys.extend(part_keys);
        starts.extend(part_starts.iter().map(|start| start.saturating_add(before)));
        values.extend(part_values);
    }
    starts.push(entry_count(values.len()));
    Ok((keys, starts, values))
}

/// `work` on each item, a thread each; the results in the items' order. Every thread is
/// joined before any failure is looked at.
pub(crate) fn on_threads<T: Send, R: Send>(items: Vec<T>, work: impl Fn(T) -> R + Sync) -> Result<Vec<R>> {
    let work = &work;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .into_iter()
            .map(|item| scope.spawn(move || work(item)))
            .collect();
        let joined: Vec<_> = handles.into_iter().map(|handle| handle.join()).collect();
        joined.into_iter().collect::<std::result::Result<Vec<_>, _>>()
    })
    .map_err(|_| Error::Invalid("a linkage thread stopped unexpectedly; nothing was recorded".into()))
}

fn entry_count(count: usize) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(key: u64, value: u32) -> u128 {
        u128::from(key) << 32 | u128::from(value)
    }

    #[test]
    fn spread_pairs_group_as_all_pairs_at_once() {
        let mut random = fastrand::Rng::with_seed(4);
        for count in [0, 1, 5, 20_000] {
            // Keys in a narrow range too, so that many share one and some pass `most`.
            let pairs: Vec<u128> = (0..count)
                .map(|_| {
                    let key = if random.bool() {
                        random.u64(..)
                    } else {
                        random.u64(..40) << 56
                    };
                    pair(key, random.u32(..3_000))
                })
                .collect();
            let mut shares = [Spread::default(), Spread::default(), Spread::default()];
            for pair in &pairs {
                shares[random.usize(..3)].push((pair >> 32) as u64, *pair as u32);
            }
            for most in [3, usize::MAX] {
                let spread =
                    group_spread(shares.iter().map(|share| Spread(share.0.clone())).collect(), most).unwrap();
                assert_eq!(
                    spread,
                    group(pairs.clone(), most),
                    "{count} pairs, at most {most}"
                );
            }
        }
    }
}
