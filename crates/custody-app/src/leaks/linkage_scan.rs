//! The readings of the ledger fuzzy linkage makes: this thread reads people's sealed contact
//! details in batches; worker threads open each in memory and hand it to the job. Two jobs: the
//! people's blocking keys (every person, once for each identifiers generation, kept in
//! `linkage_blocks`), and the comparisons (only the people who share a usable blocking key with a
//! record, and the people drawn at random that `u` is estimated from). Nothing opened outlives
//! its batch.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError, mpsc};

use custody_core::{Levels, LinkRecord, PersonId, PersonSet, compare};

use crate::dir::Ledger;
use crate::error::{Error, Result};
use crate::leaks::linkage::{Blocks, block_keys, person_record};
use crate::leaks::linkage_blocks::PeopleBlocks;
use crate::leaks::linkage_groups::Spread;
use crate::leaks::linkage_model::{LevelCounts, can_link};

/// People in a batch handed to a worker.
const BATCH: usize = 2048;
/// Random pairs drawn for `u` at most: enough for the rarest agreement the model weighs (an
/// exact email or phone, about one in a million pairs) to be bounded by the smoothing, not
/// guessed; comparing more costs a second per two million.
const U_PAIRS_MAX: usize = 250_000;
/// People drawn at random for `u` (each paired with several records).
const U_PEOPLE_MAX: usize = 20_000;
/// The drawn people come in runs of this many neighbours among the linkable (runs drawn at
/// random, none twice): each linkable person is still drawn with the same chance, and a run is
/// read from the store in one short scan, where people drawn one by one cost a lookup each (a
/// page from disk each when the cache is cold). Neighbours were often imported together and
/// can be alike (a region, a household), so the estimate of `u` is a little noisier than from
/// people drawn one by one; short runs keep that small.
const U_RUN: usize = 16;
/// People drawn at most when the records are too few to make `U_PAIRS_MAX` pairs with
/// `U_PEOPLE_MAX` people (a single request): more pairs, but not the whole of a large ledger.
const U_PEOPLE_FEW_RECORDS: usize = 50_000;
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

/// Every person's blocking keys, read from the store (the people are opened in memory), with
/// the number of people opened.
pub(crate) fn people_blocks(ledger: &Ledger) -> Result<(PeopleBlocks, u64)> {
    type Keys = (Spread, Vec<PersonId>);
    let vault = &ledger.vault;
    let (parts, opened) = each_opened(ledger, None, &|found: &mut Keys, person, ours| {
        let mut keys = Vec::new();
        block_keys(vault, &ours, false, &mut keys);
        for key in &keys {
            found.0.push(*key, person);
        }
        found.1.push(person);
        Ok(())
    })?;
    let (mut spreads, mut linkable) = (Vec::new(), Vec::new());
    for (spread, people) in parts {
        spreads.push(spread);
        linkable.extend(people);
    }
    let most = crate::leaks::linkage::PAIRS_PER_KEY as usize;
    Ok((PeopleBlocks::from_spread(spreads, linkable, most)?, opened))
}

/// Who is read to compare: the people a usable block brings, and the people drawn for `u`.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub candidates: PersonSet,
    drawn: PersonSet,
    per_drawn: usize,
}

impl Plan {
    /// Draws linkable people in runs (the same ones every time for the same ledger and number
    /// of records), each to be paired with random records, to make up to `U_PAIRS_MAX` pairs:
    /// `U_PEOPLE_MAX` people when the records are many, up to `U_PEOPLE_FEW_RECORDS` when they
    /// are few (one record, a request, gets 50,000 pairs).
    pub(crate) fn new(candidates: PersonSet, linkable: &[PersonId], records: usize) -> Plan {
        let records = records.max(1);
        let wanted = U_PAIRS_MAX
            .div_ceil(records)
            .clamp(U_PEOPLE_MAX, U_PEOPLE_FEW_RECORDS);
        let drawn: PersonSet = if linkable.len() <= wanted {
            linkable.iter().copied().collect()
        } else {
            let mut rng = fastrand::Rng::with_seed(0x5eed);
            rng.choose_multiple(linkable.chunks(U_RUN), (wanted / U_RUN).max(1))
                .into_iter()
                .flatten()
                .copied()
                .collect()
        };
        let per_drawn = U_PAIRS_MAX
            .div_ceil((drawn.len() as usize).max(1))
            .clamp(1, records);
        Plan {
            candidates,
            drawn,
            per_drawn,
        }
    }
}

/// Compares the planned people with the records that share a usable block with them, and the
/// drawn people with random records.
pub(crate) fn compare_planned(
    ledger: &Ledger,
    records: &[(u64, LinkRecord)],
    blocks: &Blocks,
    plan: &Plan,
) -> Result<Scanned> {
    let read = &plan.candidates | &plan.drawn;
    let vault = &ledger.vault;
    let workers = crate::workers();
    let m_max = M_PAIRS_MAX / workers;
    let job = |scanned: &mut Scanned, person: PersonId, ours: LinkRecord| -> Result<()> {
        if plan.drawn.contains(person) {
            // Seeded by the person: the same pairs whichever worker opens them.
            let mut rng = fastrand::Rng::with_seed(0x5eed ^ u64::from(person));
            for _ in 0..plan.per_drawn {
                if let Some((_, theirs)) = records.get(rng.usize(..records.len())) {
                    scanned.random.add(&compare(&ours, theirs).0);
                }
            }
        }
        if !plan.candidates.contains(person) {
            return Ok(());
        }
        let (mut keys, mut candidates) = (Vec::new(), Vec::new());
        block_keys(vault, &ours, false, &mut keys);
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
        Ok(())
    };
    let (parts, opened) = each_opened(ledger, Some(&read), &job)?;
    let mut scanned = Scanned::default();
    for part in parts {
        scanned.merge(part);
    }
    scanned.people_read = opened;
    Ok(scanned)
}

/// A job done for each person opened: their linkable record, into the worker's own state.
type Job<'a, S> = dyn Fn(&mut S, PersonId, LinkRecord) -> Result<()> + Sync + 'a;

/// Reads the people (`only` those, or everyone), opens them on worker threads and hands each
/// linkable record to `job`; the workers' states, and how many people were opened.
fn each_opened<S: Default + Send>(
    ledger: &Ledger,
    only: Option<&PersonSet>,
    job: &Job<'_, S>,
) -> Result<(Vec<S>, u64)> {
    let workers = crate::workers();
    let (sender, receiver) = mpsc::sync_channel::<Batch>(workers * 2);
    let receiver = Mutex::new(receiver);
    let failed = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let (receiver, failed, vault) = (&receiver, &failed, &ledger.vault);
                scope.spawn(move || {
                    // A panic in a worker must stop the reader too, not leave it waiting.
                    let _failing = FailOnUnwind(failed);
                    let outcome = work(vault, receiver, job);
                    if outcome.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    outcome
                })
            })
            .collect();
        let mut batch = Batch::default();
        let read = ledger.store.each_contact(only, &mut |person, reference, sealed| {
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
        let (mut parts, mut opened, mut failure) = (Vec::new(), 0, None);
        for handle in handles {
            match handle.join() {
                Ok(Ok((part, count))) => {
                    parts.push(part);
                    opened += count;
                }
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
        Ok((parts, opened))
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

/// One worker: batches of people until the reader is done; its state and the people it opened.
fn work<S: Default>(
    vault: &custody_vault::Vault,
    receiver: &Mutex<mpsc::Receiver<Batch>>,
    job: &Job<'_, S>,
) -> Result<(S, u64)> {
    let (mut state, mut opened) = (S::default(), 0);
    loop {
        let next = receiver.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(batch) = next else {
            return Ok((state, opened));
        };
        for (person, reference, sealed) in batch.each() {
            let details = vault.open(sealed, reference)?;
            opened += 1;
            let Some(ours) = person_record(&details).map_err(|error| {
                Error::Invalid(format!(
                    "sealed contact details of {}: {error}",
                    String::from_utf8_lossy(reference)
                ))
            })?
            else {
                continue;
            };
            job(&mut state, person, ours)?;
        }
    }
}
