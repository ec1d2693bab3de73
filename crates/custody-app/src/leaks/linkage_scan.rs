//! The one reading of the ledger fuzzy linkage makes: this thread reads the people's sealed
//! contact details in batches; worker threads open each in memory, compute its blocking keys,
//! compare the person with the file's records that share one, and draw the random pairs `u` is
//! estimated from. Nothing opened outlives its batch.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError, mpsc};

use custody_core::{Levels, LinkRecord, PersonId, compare};

use crate::dir::Ledger;
use crate::error::{Error, Result};
use crate::leaks::linkage::{Blocks, block_keys, person_record};
use crate::leaks::linkage_model::{LevelCounts, can_link};

/// People in a batch handed to a worker.
const BATCH: usize = 2048;
/// Random pairs drawn for `u` at most (over all workers).
const U_PAIRS_MAX: u64 = 2_000_000;
/// Candidate pairs kept for estimating `m` at most (over all workers).
const M_PAIRS_MAX: usize = 4_000_000;
/// Pairs that can be a link kept per record and worker: the closest ones (the best and the
/// runners-up that say whether it is ambiguous), so memory stays bounded when a record's
/// blocks are crowded.
const KEEP: usize = 3;

/// A pair that can be a link: (record, person, levels, names swapped).
pub(crate) type Pair = (u32, PersonId, Levels, bool);

/// What the reading found.
#[derive(Debug, Default)]
pub(crate) struct Scanned {
    pub random: LevelCounts,
    pub sample: Vec<Levels>,
    pub pairs: Vec<Pair>,
    /// Per record: its closest pairs so far (closeness, pair), lowest first.
    kept: Vec<Vec<(u16, Pair)>>,
    pub people_read: u64,
    pub compared: u64,
}

impl Scanned {
    fn merge(&mut self, other: Scanned) {
        self.random.merge(&other.random);
        self.sample.extend(other.sample);
        self.pairs.extend(other.pairs);
        self.pairs
            .extend(other.kept.into_iter().flatten().map(|(_, pair)| pair));
        self.people_read += other.people_read;
        self.compared += other.compared;
    }
}

/// People handed to a worker: ids, and their references and sealed details laid end to end
/// (one allocation a batch, not two a person).
#[derive(Debug, Default)]
struct Batch {
    people: Vec<(PersonId, usize, usize)>,
    bytes: Vec<u8>,
}

impl Batch {
    fn len(&self) -> usize {
        self.people.len()
    }

    fn is_empty(&self) -> bool {
        self.people.is_empty()
    }

    fn push(&mut self, person: PersonId, reference: &str, sealed: &[u8]) {
        self.bytes.extend_from_slice(reference.as_bytes());
        self.bytes.extend_from_slice(sealed);
        self.people.push((person, reference.len(), sealed.len()));
    }

    /// Each person with their reference and sealed details.
    fn each(&self) -> impl Iterator<Item = (PersonId, &[u8], &[u8])> + '_ {
        let mut at = 0;
        self.people.iter().map(move |(person, reference, sealed)| {
            let reference_bytes = self.bytes.get(at..at + reference).unwrap_or(&[]);
            let sealed_bytes = self
                .bytes
                .get(at + reference..at + reference + sealed)
                .unwrap_or(&[]);
            at += reference + sealed;
            (*person, reference_bytes, sealed_bytes)
        })
    }
}

/// Reads the ledger once; see the module documentation.
pub(crate) fn scan(ledger: &Ledger, records: &[(u64, LinkRecord)], blocks: &Blocks) -> Result<Scanned> {
    let workers = std::thread::available_parallelism().map_or(2, |count| count.get().clamp(1, 8));
    let (sender, receiver) = mpsc::sync_channel::<Batch>(workers * 2);
    let receiver = Mutex::new(receiver);
    let failed = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|worker| {
                let (receiver, failed, vault) = (&receiver, &failed, &ledger.vault);
                scope.spawn(move || {
                    // A panic in a worker must stop the reader too, not leave it waiting.
                    let _failing = FailOnUnwind(failed);
                    let outcome = work(vault, records, blocks, receiver, (worker, workers));
                    if outcome.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    outcome
                })
            })
            .collect();
        let mut batch = Batch::default();
        let read = ledger.store.each_contact(&mut |person, reference, sealed| {
            if failed.load(Ordering::Relaxed) {
                return Err(custody_store::Error::Aborted("a linkage worker failed".into()));
            }
            batch.push(person, reference, sealed);
            if batch.len() >= BATCH {
                let full = std::mem::take(&mut batch);
                hand_over(&sender, full, &failed)?;
            }
            Ok(())
        });
        if read.is_ok() && !batch.is_empty() {
            let _ = hand_over(&sender, batch, &failed);
        }
        drop(sender);
        let mut scanned = Scanned::default();
        let mut failure = None;
        for handle in handles {
            match handle.join() {
                Ok(Ok(part)) => scanned.merge(part),
                Ok(Err(error)) => failure = failure.or(Some(error)),
                Err(_) => {
                    failure = failure.or(Some(Error::Invalid(
                        "a linkage thread stopped unexpectedly; nothing was recorded".into(),
                    )));
                }
            }
        }
        if let Some(error) = failure {
            return Err(error);
        }
        read?;
        Ok(scanned)
    })
}

/// Marks the scan failed when dropped during a panic.
struct FailOnUnwind<'a>(&'a AtomicBool);

impl Drop for FailOnUnwind<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, Ordering::Relaxed);
        }
    }
}

/// Hands a batch to the workers, waiting while their queue is full, and giving up when they
/// failed (none would take it: a blocking send would wait for ever).
fn hand_over(
    sender: &mpsc::SyncSender<Batch>,
    mut batch: Batch,
    failed: &AtomicBool,
) -> custody_store::Result<()> {
    loop {
        if failed.load(Ordering::Relaxed) {
            return Err(custody_store::Error::Aborted("a linkage worker failed".into()));
        }
        match sender.try_send(batch) {
            Ok(()) => return Ok(()),
            Err(mpsc::TrySendError::Full(back)) => {
                batch = back;
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            Err(mpsc::TrySendError::Disconnected(_)) => {
                return Err(custody_store::Error::Aborted(
                    "the linkage workers stopped".into(),
                ));
            }
        }
    }
}

/// How far apart a pair is, for keeping the closest: the sum of its levels, a missing field
/// counting as far.
fn closeness(levels: &Levels) -> u16 {
    levels
        .iter()
        .map(|level| {
            u16::from(if *level == custody_core::MISSING {
                2
            } else {
                *level
            })
        })
        .sum()
}

/// Keeps `pair` among its record's `KEEP` closest.
fn keep(kept: &mut Vec<Vec<(u16, Pair)>>, pair: Pair, records: usize) {
    if kept.len() < records {
        kept.resize_with(records, Vec::new);
    }
    let Some(list) = kept.get_mut(pair.0 as usize) else {
        return;
    };
    let distance = closeness(&pair.2);
    if list.len() >= KEEP && list.last().is_some_and(|(worst, _)| *worst <= distance) {
        return;
    }
    let at = list.partition_point(|(other, _)| *other <= distance);
    list.insert(at, (distance, pair));
    list.truncate(KEEP);
}

/// One worker: batches of people until the reader is done.
fn work(
    vault: &custody_vault::Vault,
    records: &[(u64, LinkRecord)],
    blocks: &Blocks,
    receiver: &Mutex<mpsc::Receiver<Batch>>,
    (worker, workers): (usize, usize),
) -> Result<Scanned> {
    let mut scanned = Scanned::default();
    let mut rng = fastrand::Rng::with_seed(0x5eed + worker as u64);
    let (u_max, m_max) = (U_PAIRS_MAX / workers as u64, M_PAIRS_MAX / workers);
    let (mut keys, mut candidates) = (Vec::new(), Vec::new());
    loop {
        let next = receiver.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(batch) = next else {
            let kept = std::mem::take(&mut scanned.kept);
            scanned
                .pairs
                .extend(kept.into_iter().flatten().map(|(_, pair)| pair));
            return Ok(scanned);
        };
        for (person, reference, sealed) in batch.each() {
            let opened = vault.open(sealed, reference)?;
            let Some(ours) = person_record(&opened).map_err(|error| {
                Error::Invalid(format!(
                    "sealed contact details of {}: {error}",
                    String::from_utf8_lossy(reference)
                ))
            })?
            else {
                continue;
            };
            scanned.people_read += 1;
            if scanned.random.pairs() < u_max
                && let Some((_, theirs)) = records.get(rng.usize(..records.len()))
            {
                scanned.random.add(&compare(&ours, theirs).0);
            }
            block_keys(&ours, false, &mut keys);
            candidates.clear();
            for key in &keys {
                candidates.extend_from_slice(blocks.rows_for(*key));
            }
            candidates.sort_unstable();
            candidates.dedup();
            for row in &candidates {
                let Some((_, theirs)) = records.get(*row as usize) else {
                    continue;
                };
                scanned.compared += 1;
                let (levels, swapped) = compare(&ours, theirs);
                if scanned.sample.len() < m_max {
                    scanned.sample.push(levels);
                }
                if can_link(&levels) {
                    keep(&mut scanned.kept, (*row, person, levels, swapped), records.len());
                }
            }
        }
    }
}
