//! The threads of a people import. One thread reads the file's records in batches;
//! `crate::workers()` threads make each batch's people (parse, normalise, seal, hash: most of an
//! import's work); the caller's thread hands the people to the store in the file's order. The
//! queues between them are bounded, so memory does not grow with the file.
//!
//! A row that fails ends its batch, and the store stops there: the first failure in the file's
//! order is the one reported, whichever thread met it first. A worker that panics on a batch
//! sends a failure in the batch's place; a reader that dies closes its queue; either way the
//! store is told the rows stopped early, and rolls back. The reader takes a token for each batch
//! and the store's side gives it back when it has taken the batch, so batches made out of order
//! wait in a bounded number, however slow one worker is.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};

use custody_ingest::Table;
use custody_store::{BoxError, ImportRow, PersonRows, Store};
use custody_vault::Sealer;

use crate::error::{Error, Result};
use crate::ledger::people::Maker;

/// Rows in a batch.
const BATCH_ROWS: usize = 1024;
/// Batches that may wait in each queue.
const BATCHES_IN_FLIGHT: usize = 8;
/// Batches read and not yet taken by the store, at most.
const BATCHES_AHEAD: usize = 4 * BATCHES_IN_FLIGHT;
/// Bytes a record is made with room for: a CRM export's row is mostly under this.
const RECORD_BYTES: usize = 256;
/// Lines reported for a count at most.
pub(crate) const LINES_REPORTED_MAX: usize = 20;

/// What the rows came to besides the people: values not used, people without an identifier.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    /// Per column index: values not used and their first lines.
    pub unusable: BTreeMap<usize, (u64, Vec<u64>)>,
    pub without_identifier: u64,
    pub without_identifier_refs: Vec<String>,
}

impl Tally {
    /// Counts a value of `column` on `line` not used.
    pub(crate) fn unusable_at(&mut self, column: usize, line: u64) {
        let entry = self.unusable.entry(column).or_default();
        entry.0 += 1;
        if entry.1.len() < LINES_REPORTED_MAX && entry.1.last() != Some(&line) {
            entry.1.push(line);
        }
    }

    /// Adds a later batch's tally (batches are merged in the file's order).
    fn merge(&mut self, later: Self) {
        for (column, (count, lines)) in later.unusable {
            let entry = self.unusable.entry(column).or_default();
            entry.0 += count;
            for line in lines {
                if entry.1.len() < LINES_REPORTED_MAX && entry.1.last() != Some(&line) {
                    entry.1.push(line);
                }
            }
        }
        self.without_identifier += later.without_identifier;
        let room = LINES_REPORTED_MAX.saturating_sub(self.without_identifier_refs.len());
        self.without_identifier_refs
            .extend(later.without_identifier_refs.into_iter().take(room));
    }
}

/// Records read: the batch's place in the file, its records and their lines, and the read
/// failure that ended it, if one did.
struct Read {
    seq: u64,
    records: Vec<(csv::StringRecord, u64)>,
    failure: Option<Error>,
    last: bool,
}

/// A batch's people (a failure ends it) and its tally.
struct Made {
    seq: u64,
    people: Vec<Result<ImportRow>>,
    tally: Tally,
    last: bool,
}

/// Reads `table`, makes its people on worker threads (one a `previous` store: a connection of
/// its own to the people already held, or none) and gives them to `write` in the file's order.
/// Returns what `write` returned and the rows' tally (an error when a thread died).
pub(crate) fn run<T>(
    table: &mut Table,
    maker: &Maker<'_>,
    previous: Vec<Option<Box<dyn Store + Send>>>,
    write: impl FnOnce(PersonRows<'_>) -> T,
) -> (T, Result<Tally>) {
    let (read_tx, read_rx) = sync_channel::<Read>(BATCHES_IN_FLIGHT);
    let (made_tx, made_rx) = sync_channel::<Made>(BATCHES_IN_FLIGHT);
    let (tokens_tx, tokens_rx) = sync_channel::<()>(BATCHES_AHEAD);
    let read_rx = Arc::new(Mutex::new(read_rx));
    std::thread::scope(|scope| {
        let reading = scope.spawn(move || read(table, &read_tx, &tokens_tx));
        let making: Vec<_> = previous
            .into_iter()
            .map(|store| {
                let (read_rx, made_tx) = (Arc::clone(&read_rx), made_tx.clone());
                scope.spawn(move || make(maker, store.as_deref(), &read_rx, &made_tx))
            })
            .collect();
        // The workers hold the only ends left: when they stop, the reader's sends fail.
        drop((read_rx, made_tx));
        let mut tally = Tally::default();
        let mut ordered = Ordered {
            made: made_rx,
            tokens: tokens_rx,
            next: 0,
            early: BTreeMap::new(),
            current: Vec::new().into_iter(),
            ended: false,
            failed: false,
            tally: &mut tally,
        };
        let written = write(&mut ordered);
        // Dropping the queue lets workers blocked on it stop when the store stopped early.
        drop(ordered);
        let threads_ok = making
            .into_iter()
            .map(std::thread::ScopedJoinHandle::join)
            .fold(reading.join().is_ok(), |ok, joined| ok && joined.is_ok());
        let tally = if threads_ok {
            Ok(tally)
        } else {
            Err(Error::Invalid("an import thread stopped unexpectedly".to_owned()))
        };
        (written, tally)
    })
}

/// The reading thread: batches of records until the file ends or fails, or nobody listens.
fn read(table: &mut Table, queue: &SyncSender<Read>, tokens: &SyncSender<()>) {
    // A record made with room for a typical row grows once at most, not several times.
    let fields = table.headers().len();
    for seq in 0.. {
        let mut records = Vec::with_capacity(BATCH_ROWS);
        let (mut failure, mut last) = (None, false);
        while records.len() < BATCH_ROWS {
            let mut record = csv::StringRecord::with_capacity(RECORD_BYTES, fields);
            match table.next_row(&mut record) {
                Ok(Some(line)) => records.push((record, line)),
                Ok(None) => last = true,
                Err(error) => (failure, last) = (Some(Error::from(error)), true),
            }
            if last {
                break;
            }
        }
        let batch = Read {
            seq,
            records,
            failure,
            last,
        };
        if tokens.send(()).is_err() || queue.send(batch).is_err() || last {
            return;
        }
    }
}

/// A worker: makes the people of each batch it takes until the batches end or nobody listens.
fn make(
    maker: &Maker<'_>,
    previous: Option<&(dyn Store + Send)>,
    batches: &Mutex<Receiver<Read>>,
    made: &SyncSender<Made>,
) {
    let mut sealer: Sealer<'_> = maker.vault.sealer();
    let previous: Option<&dyn Store> = previous.map(|store| store as &dyn Store);
    loop {
        let next = batches.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(batch) = next else {
            return;
        };
        let made_batch = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            make_batch(maker, previous, &mut sealer, &batch.records)
        }));
        let (mut people, tally, failed) = made_batch.unwrap_or_else(|_| {
            let error =
                Error::Invalid("an import thread stopped unexpectedly; nothing was written".to_owned());
            (vec![Err(error)], Tally::default(), true)
        });
        if let (false, Some(failure)) = (failed, batch.failure) {
            people.push(Err(failure));
        }
        if let Some(counter) = &maker.options.rows_read {
            counter.fetch_add(people.len() as u64, Ordering::Relaxed);
        }
        let batch = Made {
            seq: batch.seq,
            people,
            tally,
            last: batch.last || failed,
        };
        if made.send(batch).is_err() {
            return;
        }
    }
}

/// One batch's people (up to its first failure), its tally, and whether a row failed. A row
/// whose source digest a person holds is passed on as unchanged, unread.
fn make_batch(
    maker: &Maker<'_>,
    previous: Option<&dyn Store>,
    sealer: &mut Sealer<'_>,
    records: &[(csv::StringRecord, u64)],
) -> (Vec<Result<ImportRow>>, Tally, bool) {
    let mut tally = Tally::default();
    let mut people = Vec::with_capacity(records.len());
    let mut buffer = String::new();
    for (record, line) in records {
        let digest = maker.digests.of(maker.vault, record, &mut buffer);
        if let Some(person) = maker.digests.holder(&digest) {
            people.push(Ok(ImportRow::Unchanged { line: *line, person }));
            continue;
        }
        let person = maker
            .person(record, (*line, digest), sealer, &mut tally, previous)
            .map(ImportRow::Person);
        let failed = person.is_err();
        people.push(person);
        if failed {
            return (people, tally, true);
        }
    }
    (people, tally, false)
}

/// The people in the file's order, for the store: batches that arrive early wait their turn.
struct Ordered<'a> {
    made: Receiver<Made>,
    /// A token the reader took for each batch: one is given back for each batch taken.
    tokens: Receiver<()>,
    next: u64,
    early: BTreeMap<u64, Made>,
    current: std::vec::IntoIter<Result<ImportRow>>,
    ended: bool,
    failed: bool,
    tally: &'a mut Tally,
}

impl Iterator for Ordered<'_> {
    type Item = std::result::Result<ImportRow, BoxError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(person) = self.current.next() {
                return Some(person.map_err(|error| Box::new(error) as BoxError));
            }
            if self.ended || self.failed {
                return None;
            }
            let batch = match self.early.remove(&self.next) {
                Some(batch) => batch,
                None => match self.made.recv() {
                    Ok(batch) if batch.seq == self.next => batch,
                    Ok(batch) => {
                        self.early.insert(batch.seq, batch);
                        continue;
                    }
                    Err(_) => {
                        // Every worker is gone without the last batch: one of them died.
                        self.failed = true;
                        let error = Error::Invalid(
                            "an import thread stopped before the end of the file; nothing was written"
                                .to_owned(),
                        );
                        return Some(Err(Box::new(error)));
                    }
                },
            };
            self.next += 1;
            let _given_back = self.tokens.try_recv();
            self.ended = batch.last;
            self.tally.merge(batch.tally);
            self.current = batch.people.into_iter();
        }
    }
}
