//! Two parts every custody match does, each timed alone: the evidence digest (SHA-256 of the
//! leaked file, in order, on one thread; only the digest is timed, the file read untimed from
//! the page cache) and the keyed hashes of identifiers shaped as the match's normal forms of the
//! benchmark's rows (4.6 a row, on every core custody's matcher uses). DuckDB's join does
//! neither. Their CPU time spread evenly over the cores is the least they take together, with
//! perfect overlap: what a match on this machine takes at best before a row is parsed,
//! normalised, looked up or linked. The matching benchmark sets it beside DuckDB's whole join.

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::Path;
use std::time::Instant;

use anyhow::anyhow;
use sha2::Digest as _;

/// What [`measure`] timed.
#[derive(Debug, Clone, Copy)]
pub struct Floor {
    /// Seconds of SHA-256 over the file (the digest's own work).
    pub digest_seconds: f64,
    /// Identifiers hashed.
    pub hashes: u64,
    /// Seconds the threads spent hashing, added up.
    pub hash_cpu_seconds: f64,
    /// Threads the hashes were spread over.
    pub threads: usize,
}

impl Floor {
    /// The least wall time the two parts take together on `threads` cores: all their CPU time
    /// spread evenly, but never less than the digest, which one thread makes.
    pub fn least_seconds(&self) -> f64 {
        let cpu = self.digest_seconds + self.hash_cpu_seconds;
        (cpu / self.threads.max(1) as f64).max(self.digest_seconds)
    }

    /// Nanoseconds a hash took on a thread.
    pub fn nanoseconds_a_hash(&self) -> f64 {
        self.hash_cpu_seconds * 1e9 / (self.hashes.max(1) as f64)
    }
}

/// Times the digest of `leak` and the keyed hashes of `rows` rows' identifiers.
pub fn measure(leak: &Path, rows: u32) -> anyhow::Result<Floor> {
    let mut file = std::fs::File::open(leak)?;
    let mut digest = sha2::Sha256::new();
    let mut buffer = vec![0_u8; 1 << 20];
    let mut digest_seconds = 0.0;
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        let started = Instant::now();
        digest.update(buffer.get(..read).unwrap_or_default());
        digest_seconds += started.elapsed().as_secs_f64();
    }
    std::hint::black_box(digest.finalize());

    let vault = custody_vault::Vault::from_master(&[7; 32]);
    let threads = custody_app::workers();
    let done = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|thread| {
                let vault = &vault;
                scope.spawn(move || hash_rows(vault, thread, threads, rows))
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().map_err(|_| anyhow!("a hashing thread stopped")))
            .collect::<anyhow::Result<Vec<(u64, f64)>>>()
    })?;
    Ok(Floor {
        digest_seconds,
        hashes: done.iter().map(|(count, _)| count).sum(),
        hash_cpu_seconds: done.iter().map(|(_, seconds)| seconds).sum(),
        threads,
    })
}

/// Rows whose identifiers are written out before they are hashed, so that only the hashing
/// is timed.
const BATCH_ROWS: usize = 4_096;

/// Hashes the identifiers of every `step`th row from `first`, shaped as the match's normal
/// forms of the benchmark's rows are (an address as written and canonical, a phone on six rows
/// in ten, a name with a postcode and with a date of birth); how many, and the seconds the
/// hashing took (each batch's values are written out first, untimed).
fn hash_rows(vault: &custody_vault::Vault, first: usize, step: usize, rows: u32) -> (u64, f64) {
    let mut text = String::with_capacity(BATCH_ROWS * 5 * 32);
    let mut ends: Vec<(u8, usize)> = Vec::with_capacity(BATCH_ROWS * 5);
    let (mut count, mut seconds) = (0_u64, 0.0);
    let mut mine = (1..=rows).skip(first).step_by(step.max(1)).peekable();
    while mine.peek().is_some() {
        text.clear();
        ends.clear();
        for row in mine.by_ref().take(BATCH_ROWS) {
            write_row(&mut text, &mut ends, row);
        }
        let started = Instant::now();
        let mut from = 0;
        for (kind, end) in &ends {
            if let Some(value) = text.get(from..*end) {
                std::hint::black_box(vault.identifier_hash(*kind, std::hint::black_box(value)));
                count += 1;
            }
            from = *end;
        }
        seconds += started.elapsed().as_secs_f64();
    }
    (count, seconds)
}

/// Appends one row's identifiers to `text`, each one's kind and end to `ends`.
fn write_row(text: &mut String, ends: &mut Vec<(u8, usize)>, row: u32) {
    for kind in 0..5_u8 {
        let written = match kind {
            0 => write!(text, "alex.{row}@example.org"),
            1 => write!(text, "alex{row}@example.org"),
            2 if row % 10 < 6 => write!(text, "+4477009{:05}", row % 100_000),
            2 => continue,
            3 => write!(
                text,
                "alex{} smith{}\u{1f}ls{} {}ab",
                row % 97,
                row % 89,
                row % 30,
                row % 10
            ),
            _ => write!(
                text,
                "alex{} smith{}\u{1f}19{}-0{}-1{}",
                row % 97,
                row % 89,
                40 + row % 60,
                1 + row % 9,
                row % 9
            ),
        };
        if written.is_ok() {
            ends.push((kind, text.len()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_time_spreads_the_work_but_never_beats_the_digest() {
        let floor = |digest_seconds, hash_cpu_seconds| Floor {
            digest_seconds,
            hashes: 1_000,
            hash_cpu_seconds,
            threads: 2,
        };
        assert!((floor(1.0, 2.0).least_seconds() - 1.5).abs() < 1e-9);
        assert!((floor(3.0, 0.2).least_seconds() - 3.0).abs() < 1e-9);
        assert!((floor(1.0, 2e-6).nanoseconds_a_hash() - 2.0).abs() < 1e-6);
    }

    #[test]
    fn the_rows_are_hashed_once_whichever_thread_takes_them() {
        let vault = custody_vault::Vault::from_master(&[1; 32]);
        // Four kinds a row and a phone on rows ending 0 to 5: rows 1-5 and 10 of ten.
        let count = |first, step, rows| hash_rows(&vault, first, step, rows).0;
        assert_eq!(count(0, 1, 10), 46);
        assert_eq!(count(0, 3, 10) + count(1, 3, 10) + count(2, 3, 10), 46);
        assert_eq!(count(0, 1, 0), 0);
        // More rows than a batch: every batch is hashed.
        assert_eq!(count(0, 1, 10_000), 46_000);
    }
}
