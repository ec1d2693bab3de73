//! The threads of a match. A reader thread fills batches of records; worker threads find and
//! hash each batch's identifiers and look them up; this thread loads the identifier index
//! meanwhile. Until the index is there, workers keep up to `PENDING_MAX` hashes
//! between them (a fixed amount of memory, whatever the file's size) and then wait; the reader waits
//! when its queue is full. Every thread stops when one of them fails.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError, mpsc};
use std::time::Duration;

use custody_core::PersonSet;
use custody_ingest::leak::{Batch, LeakReader};

use crate::dir::Ledger;
use crate::error::{Error, Result};
use crate::leaks::leak::MatchProgress;
use crate::leaks::leak_fields::Scratch;
use crate::leaks::leak_index::IdentifierIndex;
use crate::leaks::leak_rows::{Hashes, Hits, RowMatcher, Tally, look_up};

/// Batches waiting between the reader and the workers.
const QUEUED_BATCHES: usize = 8;
/// Hashes the workers keep while the index loads, shared among them (24 bytes each: 384 MiB
/// at most).
const PENDING_MAX: usize = 16 << 20;
/// How often a waiting worker looks for the index.
const INDEX_POLL: Duration = Duration::from_millis(2);

/// What the threads share.
struct Shared<'a> {
    batches: Mutex<mpsc::Receiver<Batch>>,
    index: OnceLock<IdentifierIndex>,
    failed: AtomicBool,
    matcher: RowMatcher<'a>,
    canaries: PersonSet,
    progress: &'a MatchProgress,
}

impl<'a> Shared<'a> {
    /// Threads about to start: no index yet, nothing failed.
    fn new(
        batches: mpsc::Receiver<Batch>,
        matcher: RowMatcher<'a>,
        canaries: PersonSet,
        progress: &'a MatchProgress,
    ) -> Self {
        Shared {
            batches: Mutex::new(batches),
            index: OnceLock::new(),
            failed: AtomicBool::new(false),
            matcher,
            canaries,
            progress,
        }
    }
}

/// The merged tally, the reader (for what it learned), and the index's size, load time and
/// source.
pub(crate) type Ran = (
    Tally,
    LeakReader,
    (usize, f64, crate::leaks::leak_index_file::Source),
);

/// Reads and matches; see the module documentation.
pub(crate) fn run(
    ledger: &Ledger,
    mut reader: LeakReader,
    (workers, keep_links): (usize, bool),
    progress: &MatchProgress,
) -> Result<Ran> {
    let (full_tx, full_rx) = mpsc::sync_channel::<Batch>(QUEUED_BATCHES);
    let (empty_tx, empty_rx) = mpsc::channel::<Batch>();
    let matcher = RowMatcher {
        vault: &ledger.vault,
        region: &ledger.settings.phone_region,
        date_order: reader.date_order(),
        keep_links,
    };
    let shared = Shared::new(full_rx, matcher, ledger.store.canaries()?, progress);
    std::thread::scope(|scope| {
        let shared = &shared;
        let reading = scope.spawn(move || {
            while !shared.failed.load(Ordering::Relaxed) {
                let mut batch = empty_rx.try_recv().unwrap_or_default();
                if !reader.next_batch(&mut batch) || !hand_over(shared, &full_tx, batch) {
                    break;
                }
            }
            reader
        });
        let budget = PENDING_MAX / workers.max(1);
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let empty_tx = empty_tx.clone();
                scope.spawn(move || work(shared, &empty_tx, budget))
            })
            .collect();
        drop(empty_tx);
        // However this thread leaves (a panic too), the others stop instead of waiting for it.
        let _failing = FailOnUnwind(&shared.failed);
        let loading = std::time::Instant::now();
        // Every kind a file is matched by: the same table serves every file, kept between matches.
        let loaded = crate::leaks::leak_index_file::load(ledger);
        let index_seconds = loading.elapsed().as_secs_f64();
        let mut failure = None;
        let mut source = crate::leaks::leak_index_file::Source::Store;
        match loaded {
            Ok((index, from, to_keep)) => {
                source = from;
                let _ = shared.index.set(index);
                // Kept for the next match once the workers have it, not before.
                if let (Some(token), Some(index)) = (to_keep, shared.index.get()) {
                    crate::leaks::leak_index_file::keep(ledger, &token, index);
                }
            }
            Err(error) => {
                shared.failed.store(true, Ordering::Relaxed);
                failure = Some(error);
            }
        }
        let mut tally = Tally::default();
        for handle in handles {
            match handle.join() {
                Ok(Some(part)) => tally.merge(part),
                Ok(None) | Err(_) => shared.failed.store(true, Ordering::Relaxed),
            }
        }
        if shared.failed.load(Ordering::Relaxed) {
            // Takes what the reader queued until it sees the failure and stops.
            while shared
                .batches
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .recv()
                .is_ok()
            {}
        }
        let reader = reading
            .join()
            .map_err(|_| Error::Invalid("the file reader stopped unexpectedly".into()))?;
        if let Some(error) = failure {
            return Err(error);
        }
        if shared.failed.load(Ordering::Relaxed) {
            return Err(Error::Invalid(
                "a matching thread stopped unexpectedly; nothing was recorded".into(),
            ));
        }
        let entries = shared.index.get().map_or(0, IdentifierIndex::len);
        Ok((tally, reader, (entries, index_seconds, source)))
    })
}

/// One worker: hash batches as they come, look them up once the index is there. `None` when
/// the match failed elsewhere.
fn work(shared: &Shared<'_>, empty: &mpsc::Sender<Batch>, budget: usize) -> Option<Tally> {
    let mut tally = Tally::default();
    let mut scratch = Scratch::default();
    let mut pending: VecDeque<Hashes> = VecDeque::new();
    let mut spare: Vec<Hashes> = Vec::new();
    let mut hits = Hits::new();
    let (mut rows_shown, mut matched_shown) = (0, 0);
    loop {
        let progress = shared.progress;
        progress
            .rows
            .fetch_add(tally.rows - rows_shown, Ordering::Relaxed);
        progress
            .matched_rows
            .fetch_add(tally.rows_matched - matched_shown, Ordering::Relaxed);
        (rows_shown, matched_shown) = (tally.rows, tally.rows_matched);
        if shared.failed.load(Ordering::Relaxed) {
            return None;
        }
        match shared.index.get() {
            Some(index) => drain(shared, index, &mut pending, (&mut hits, &mut tally), &mut spare),
            None if pending.iter().map(Hashes::capacity).sum::<usize>() >= budget => {
                std::thread::sleep(INDEX_POLL);
                continue;
            }
            None => {}
        }
        let next = shared
            .batches
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .recv();
        let Ok(batch) = next else {
            break;
        };
        let mut hashes = spare.pop().unwrap_or_default();
        shared
            .matcher
            .hash_batch(&batch, (&mut tally, &mut scratch), &mut hashes);
        // Behind the batches still pending: the index may have come while this one was
        // hashed, and a worker keeps its leftover rows in the order it read them (line order).
        pending.push_back(hashes);
        if let Some(index) = shared.index.get() {
            drain(shared, index, &mut pending, (&mut hits, &mut tally), &mut spare);
        }
        let _ = empty.send(batch);
    }
    // The file is read: wait for the index, then finish what is pending.
    loop {
        if shared.failed.load(Ordering::Relaxed) {
            return None;
        }
        if let Some(index) = shared.index.get() {
            drain(shared, index, &mut pending, (&mut hits, &mut tally), &mut spare);
            return Some(tally);
        }
        std::thread::sleep(INDEX_POLL);
    }
}

/// Looks up the pending batches, oldest first (a worker's leftover rows stay in line order),
/// and keeps their buffers for reuse.
fn drain(
    shared: &Shared<'_>,
    index: &IdentifierIndex,
    pending: &mut VecDeque<Hashes>,
    (hits, tally): (&mut Hits, &mut Tally),
    spare: &mut Vec<Hashes>,
) {
    while let Some(mut hashes) = pending.pop_front() {
        look_up(index, &shared.canaries, &mut hashes, hits, tally);
        shared.matcher.keep_unmatched(&hashes, tally);
        spare.push(hashes);
    }
    // One buffer is reused batch after batch; the rest of a long wait's are freed.
    spare.truncate(SPARE_KEPT);
}

/// Emptied buffers a worker keeps for its next batches.
const SPARE_KEPT: usize = 2;

/// Hands a batch to the workers, waiting while their queue is full; `false` when the match
/// failed (nobody will take it).
fn hand_over(shared: &Shared<'_>, queue: &mpsc::SyncSender<Batch>, mut batch: Batch) -> bool {
    loop {
        match queue.try_send(batch) {
            Ok(()) => return true,
            Err(mpsc::TrySendError::Disconnected(_)) => return false,
            Err(mpsc::TrySendError::Full(back)) => {
                if shared.failed.load(Ordering::Relaxed) {
                    return false;
                }
                batch = back;
                std::thread::sleep(INDEX_POLL);
            }
        }
    }
}

/// Marks the match failed when dropped during a panic.
struct FailOnUnwind<'a>(&'a AtomicBool);

impl Drop for FailOnUnwind<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use custody_core::IdentifierKind;
    use custody_vault::Vault;

    use super::*;

    /// `rows` rows: members (found by their address) and, between them, strangers with a name
    /// and a date of birth (kept for linkage).
    fn file_of(dir: &std::path::Path, rows: usize) -> std::path::PathBuf {
        let mut text = String::from("first_name,last_name,email,date_of_birth\n");
        for row in 0..rows {
            if row % 3 == 0 {
                let _ = writeln!(text, "Member,Number{row},member{row}@example.org,1970-01-01");
            } else {
                let _ = writeln!(text, "Stranger,Number{row},stranger{row}@example.net,1980-02-03");
            }
        }
        let path = dir.join("dump.csv");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The index comes after a worker's look for it and before it hashes its next batch, with
    /// older batches still pending: those are looked up first, so the rows kept for linkage stay
    /// in line order, and every row is looked up once.
    #[test]
    fn pending_batches_are_looked_up_oldest_first_when_the_index_comes_mid_batch() {
        let dir = tempfile::tempdir().unwrap();
        let rows = 4096 * 4 + 1_000;
        let path = file_of(dir.path(), rows);
        let vault = Vault::from_master(&[4; 32]);
        let members = (0..rows).step_by(3).map(|row| {
            let hash = vault.identifier_hash(
                IdentifierKind::EmailStrict.tag(),
                &format!("member{row}@example.org"),
            );
            (hash, u32::try_from(row).unwrap())
        });
        let index = IdentifierIndex::of_pairs(members);
        let mut reader = LeakReader::open(
            &path,
            custody_ingest::leak::LeakOptions::default(),
            std::sync::Arc::default(),
        )
        .unwrap();
        let mut batches = Vec::new();
        loop {
            let mut batch = Batch::default();
            if !reader.next_batch(&mut batch) {
                break;
            }
            batches.push(batch);
        }
        // The first batch is what the reader looked at to learn the layout, then full ones and
        // a short last one: all but the last wait for the index, two or more of them.
        assert!(batches.len() >= 3, "{} batches", batches.len());
        let last = batches.pop().unwrap();
        let rows_before_last: usize = batches.iter().map(Batch::len).sum();
        let progress = MatchProgress::default();
        let (to_workers, from_reader) = mpsc::channel::<Batch>();
        let matcher = RowMatcher {
            vault: &vault,
            region: "GB",
            date_order: reader.date_order(),
            keep_links: false,
        };
        let shared = Shared::new(from_reader, matcher, PersonSet::new(), &progress);
        let (emptied, _back) = mpsc::channel::<Batch>();
        let tally = std::thread::scope(|scope| {
            let worker = scope.spawn(|| work(&shared, &emptied, usize::MAX));
            for batch in batches {
                to_workers.send(batch).unwrap();
            }
            // The worker has hashed these batches (they wait for the index) and, past its
            // look for the index, waits for the next batch while holding the queue. A worker
            // that stopped is reported by its join below, not waited for.
            let deadline = std::time::Instant::now() + Duration::from_secs(60);
            let waiting = |ready: &dyn Fn() -> bool| {
                while !ready() && !worker.is_finished() {
                    assert!(std::time::Instant::now() < deadline, "the worker never got there");
                    std::thread::sleep(Duration::from_millis(1));
                }
            };
            waiting(&|| progress.rows.load(Ordering::Relaxed) >= rows_before_last as u64);
            waiting(&|| shared.batches.try_lock().is_err());
            shared.index.set(index).unwrap();
            to_workers.send(last).unwrap();
            drop(to_workers);
            worker.join().unwrap().unwrap()
        });
        assert_eq!(tally.rows, rows as u64);
        assert_eq!(tally.rows_matched, rows.div_ceil(3) as u64, "every member, once");
        let lines: Vec<u64> = tally.residue.iter().map(|(line, _)| *line).collect();
        // Row `r` is on line `r + 2` (after the header); strangers are the rows not a multiple of 3.
        let strangers: Vec<u64> = (0..rows as u64)
            .filter(|row| row % 3 != 0)
            .map(|row| row + 2)
            .collect();
        assert_eq!(lines, strangers, "every stranger kept once, in line order");
    }
}
