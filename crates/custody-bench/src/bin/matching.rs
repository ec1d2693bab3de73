//! `custody-bench --bin matching`: a leaked file matched against the ledger, beside the same
//! normalised-email join done by DuckDB (PyPI `duckdb`) on the same file and the same people.
//!
//! `cargo run --release -p custody-bench --bin matching -- --people 10000000 --rows 10000000`
//! builds the reference organisation (kept with `--keep DIR` for reruns), writes a leaked
//! users table (twelve columns, about 200 bytes a row, seven in ten rows members with their
//! address written in other cases and spacing), matches it in a fresh process (so its peak
//! memory is the match's own), and runs DuckDB's join of `lower(trim(email))` against the
//! people's addresses.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant as Clock;

use anyhow::{Context, bail};
use clap::Parser;

use custody_app::clock::SystemClock;
use custody_app::leaks::leak::{MatchOptions, MatchProgress, match_file};
use custody_app::{Ledger, ledger::people, ledger::shares, ledger::suppliers};
use custody_bench::{peak_memory_mib, phone_of, write_people};
use custody_core::{Instant, Settings, SupplierRole};

/// Benchmark options.
#[derive(Debug, Parser)]
struct Options {
    /// People in the reference organisation.
    #[arg(long, default_value_t = 10_000_000)]
    people: u32,
    /// Rows in the leaked file.
    #[arg(long, default_value_t = 10_000_000)]
    rows: u32,
    /// Keep (and reuse) the data directory and files here.
    #[arg(long)]
    keep: Option<PathBuf>,
    /// Python with `duckdb` installed; `none` skips the comparison.
    #[arg(long, default_value = "python3")]
    python: String,
    /// Internal: only match FILE against the ledger in DIR (run in a fresh process).
    #[arg(long, hide = true, num_args = 2)]
    match_only: Option<Vec<PathBuf>>,
}

fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    if let Some(paths) = &options.match_only {
        let (Some(dir), Some(file)) = (paths.first(), paths.get(1)) else {
            bail!("--match-only DIR FILE");
        };
        return match_only(dir, file);
    }
    custody_bench::in_root(options.keep.as_deref(), "custody-bench-match", |root| {
        run(&options, root)
    })
}

fn run(options: &Options, root: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(root)?;
    let dir = root.join("data");
    if !dir.join("custody.db").exists() {
        build_ledger(&dir, root, options.people)?;
    }
    let leak = root.join(format!("leak-{}.csv", options.rows));
    if !leak.exists() {
        let started = Clock::now();
        write_leak(&leak, options.rows, options.people)?;
        println!(
            "wrote the leaked file in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    let size = std::fs::metadata(&leak)?.len();
    println!(
        "leaked file: {} rows, {:.0} MB, against {} people",
        options.rows,
        size as f64 / 1e6,
        options.people
    );
    // The first match after the ledger changed builds the identifier index and keeps it beside
    // the store; the next reads it (warm: the files were just read). Each runs in a fresh
    // process. Where the page cache can be dropped (root on Linux), the next match and DuckDB's
    // join also run cold, each after the cache is dropped.
    custody_app::leaks::remove_kept_indexes(&dir);
    match_once(&dir, &leak, "first match (builds the kept index)")?;
    let warm = match_once(&dir, &leak, "next match, warm page cache (reads the kept index)")?;
    let cold = if drop_page_cache() {
        match_once(&dir, &leak, "next match, cold page cache")?
    } else {
        println!("(the page cache cannot be dropped here: no cold figures; run as root on Linux)");
        None
    };
    let mut warm_join = None;
    if options.python != "none" {
        let emails = root.join(format!("people-emails-{}.csv", options.people));
        if !emails.exists() {
            write_emails(&emails, options.people)?;
        }
        let theirs = duckdb(&options.python, &leak, &emails, "warm")?;
        warm_join = theirs;
        if let (Some(ours), Some(theirs)) = (warm, theirs) {
            println!(
                "warm: custody's next match / DuckDB's email join: {:.2}x  [target ≤ 1.00x]",
                ours / theirs
            );
        }
        if cold.is_some() && drop_page_cache() {
            let theirs = duckdb(&options.python, &leak, &emails, "cold")?;
            if let (Some(ours), Some(theirs)) = (cold, theirs) {
                println!(
                    "cold: custody's next match / DuckDB's email join: {:.2}x  [target ≤ 1.00x]",
                    ours / theirs
                );
            }
        }
    }
    print_floor(&leak, options.rows, warm_join)
}

/// Two parts every custody match does, timed alone (`custody_bench::floor`), beside DuckDB's
/// whole join when it ran.
fn print_floor(leak: &Path, rows: u32, join: Option<f64>) -> anyhow::Result<()> {
    let floor = custody_bench::floor::measure(leak, rows)?;
    println!(
        "two parts every custody match does, timed alone: SHA-256 of the file {:.2} s (one thread); \
         keyed BLAKE3 of {} identifiers shaped as its rows' {:.2} CPU-s ({:.0} ns a hash); \
         at least {:.2} s together on {} threads",
        floor.digest_seconds,
        floor.hashes,
        floor.hash_cpu_seconds,
        floor.nanoseconds_a_hash(),
        floor.least_seconds(),
        floor.threads,
    );
    if let Some(join) = join {
        println!(
            "  that least time / DuckDB's whole join (warm): {:.2}x, before custody parses, normalises, looks up or links a row",
            floor.least_seconds() / join
        );
    }
    Ok(())
}

/// One match in a fresh process, its figures printed under `title`; its seconds.
fn match_once(dir: &Path, leak: &Path, title: &str) -> anyhow::Result<Option<f64>> {
    println!("{title}:");
    let output = Command::new(std::env::current_exe()?)
        .arg("--match-only")
        .arg(dir)
        .arg(leak)
        .output()?;
    if !output.status.success() {
        bail!("the match failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let printed = String::from_utf8_lossy(&output.stdout);
    for line in printed.lines().filter(|line| !line.starts_with("seconds ")) {
        println!("{line}");
    }
    Ok(seconds_said(&printed))
}

/// Writes the dirty pages out and drops the page cache (Linux, as root); whether it could.
fn drop_page_cache() -> bool {
    let synced = Command::new("sync").status().is_ok_and(|status| status.success());
    synced && std::fs::write("/proc/sys/vm/drop_caches", "3\n").is_ok()
}

/// The seconds a run printed on its `seconds N` line.
fn seconds_said(printed: &str) -> Option<f64> {
    printed
        .lines()
        .find_map(|line| line.strip_prefix("seconds "))
        .and_then(|number| number.trim().parse().ok())
}

fn build_ledger(dir: &Path, root: &Path, count: u32) -> anyhow::Result<()> {
    custody_app::init(dir, Settings::new("Bench"), &SystemClock, "bench")?;
    let mut ledger = Ledger::open(dir, Box::new(SystemClock), "bench")?;
    let crm = root.join("people.csv");
    write_people(&crm, count)?;
    let started = Clock::now();
    people::import_people(&mut ledger, &crm, &people::ImportOptions::default())?;
    println!(
        "built the ledger: {count} people in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    std::fs::remove_file(&crm)?;
    // Two suppliers: one got every member, one got a fifth of them by email.
    for name in ["CRM Host", "Event Platform"] {
        suppliers::add_supplier(
            &mut ledger,
            suppliers::SupplierInput {
                name: name.into(),
                role: SupplierRole::Processor,
                parent: None,
                notice_hours: Some(72),
                contract: None,
                contact: None,
                country: None,
                transfer_safeguard: None,
            },
        )?;
    }
    for (supplier, step) in [("CRM Host", 1usize), ("Event Platform", 5)] {
        let file = root.join("share.csv");
        let mut out = BufWriter::new(std::fs::File::create(&file)?);
        writeln!(out, "Member Number,Email")?;
        for index in (1..=count).step_by(step) {
            writeln!(out, "P{index:08},alex.{index}@example.org")?;
        }
        out.flush()?;
        drop(out);
        shares::record_export(
            &mut ledger,
            shares::RecordInput {
                supplier: supplier.into(),
                purpose: "bench".into(),
                marketing: false,
                at: Some(Instant::from_unix_seconds(1_600_000_000)?),
                retention_days: None,
                maps: Vec::new(),
                canaries: None,
                file: file.clone(),
            },
        )?;
        std::fs::remove_file(&file)?;
    }
    Ok(())
}

/// A leaked users table: members (their address in another case, sometimes padded) and
/// strangers, with names, phones, addresses, dates of birth, password hashes and IP addresses.
fn write_leak(path: &Path, rows: u32, people: u32) -> anyhow::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    writeln!(
        out,
        "id,email,first_name,last_name,phone,street,city,postcode,date_of_birth,password_hash,last_ip,created_at"
    )?;
    let mut rng = fastrand::Rng::with_seed(29);
    let hash_chars = b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut hash = String::with_capacity(60);
    for row in 1..=rows {
        let member = rng.u8(0..10) < 7;
        let index = rng.u32(1..=people.max(1));
        let email = match (member, rng.u8(0..4)) {
            (false, _) => format!("someone.{row}@example.net"),
            (true, 0) => format!(" Alex.{index}@Example.ORG"),
            (true, 1) => format!("ALEX.{index}@EXAMPLE.ORG"),
            (true, _) => format!("alex.{index}@example.org"),
        };
        // Members' own numbers (some written with spaces), strangers' from a drama range.
        let phone = match (rng.u8(0..10) < 6, member) {
            (false, _) => String::new(),
            (true, true) if row % 2 == 0 => {
                let number = phone_of(index);
                format!(
                    "{} {}",
                    number.get(..5).unwrap_or(""),
                    number.get(5..).unwrap_or("")
                )
            }
            (true, true) => phone_of(index),
            (true, false) => format!("0113 496 0{:03}", rng.u16(0..1000)),
        };
        hash.clear();
        hash.push_str("$2y$10$");
        for _ in 0..53 {
            hash.push(char::from(
                hash_chars
                    .get(rng.usize(..hash_chars.len()))
                    .copied()
                    .unwrap_or(b'a'),
            ));
        }
        writeln!(
            out,
            "{row},{email},Alex{},Smith{},{phone},{} High Street,Leeds,LS{} {}AB,{}-{:02}-{:02},{hash},10.{}.{}.{},2019-03-{:02} 10:{:02}:00",
            index % 97,
            index % 89,
            rng.u16(1..300),
            rng.u8(1..30),
            rng.u8(0..10),
            rng.u16(1940..2006),
            rng.u8(1..13),
            rng.u8(1..29),
            rng.u8(0..=255),
            rng.u8(0..=255),
            rng.u8(0..=255),
            rng.u8(1..29),
            rng.u8(0..60),
        )?;
    }
    out.flush()?;
    Ok(())
}

fn write_emails(path: &Path, people: u32) -> anyhow::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    writeln!(out, "ref,email")?;
    for index in 1..=people {
        writeln!(out, "P{index:08},alex.{index}@example.org")?;
    }
    out.flush()?;
    Ok(())
}

fn match_only(dir: &Path, file: &Path) -> anyhow::Result<()> {
    let mut ledger = Ledger::open(dir, Box::new(SystemClock), "bench")?;
    let size = std::fs::metadata(file)?.len() as f64;
    let options = MatchOptions {
        path: file.to_owned(),
        read: Default::default(),
        incident: None,
        people: false,
        rows: None,
        workers: custody_app::workers(),
    };
    let started = Clock::now();
    let report = match_file(&mut ledger, &options, &MatchProgress::default())?;
    let seconds = started.elapsed().as_secs_f64();
    let by: Vec<String> = report
        .by_identifier
        .iter()
        .map(|(kind, count)| format!("{kind} {count}"))
        .collect();
    println!(
        "custody match: {} rows, {} people matched ({}) in {seconds:.1} s: {:.0} MB/s, {:.2} M rows/s; \
         index {} entries from the {} in {:.1} s; peak memory {:.0} MiB  [targets ≥ 150 MB/s on CSV; 10M rows vs 10M people ≤ 20 s]",
        report.rows,
        report.matched,
        by.join(", "),
        size / 1e6 / seconds,
        f64::from(u32::try_from(report.rows).unwrap_or(u32::MAX)) / 1e6 / seconds,
        report.index_entries,
        report.index_source,
        report.index_seconds,
        peak_memory_mib().unwrap_or(f64::NAN),
    );
    let best = report.suppliers.first().context("no supplier ranked")?;
    println!("best explanation: {} (score {:.3})", best.supplier, best.score);
    let linkage = &report.linkage;
    println!(
        "of which fuzzy linkage: {:.1} s ({} rows tried, {} people opened, {} pairs; blocking keys from the {})",
        linkage.seconds, linkage.rows_tried, linkage.people_read, linkage.pairs, linkage.blocks_source
    );
    println!("seconds {seconds}");
    Ok(())
}

/// The same join in DuckDB: people matched by `lower(trim(email))`, timed inside Python; its
/// seconds when it ran.
fn duckdb(python: &str, leak: &Path, emails: &Path, cache: &str) -> anyhow::Result<Option<f64>> {
    let script = r#"
import sys, time
import duckdb
leak, people = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
started = time.perf_counter()
matched = con.execute(
    "SELECT count(DISTINCT p.ref) FROM read_csv(?, header = true, all_varchar = true) l "
    "JOIN read_csv(?, header = true, all_varchar = true) p ON lower(trim(l.email)) = p.email",
    [leak, people],
).fetchone()[0]
threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
took = time.perf_counter() - started
print(f"duckdb {duckdb.__version__} join, {sys.argv[3]} page cache: {matched} people matched by email in {took:.1f} s ({threads} threads)")
print(f"seconds {took}")
"#;
    let output = Command::new(python)
        .arg("-c")
        .arg(script)
        .arg(leak)
        .arg(emails)
        .arg(cache)
        .output();
    match output {
        Ok(output) if output.status.success() => {
            let printed = String::from_utf8_lossy(&output.stdout);
            print!(
                "{}",
                printed
                    .lines()
                    .filter(|line| !line.starts_with("seconds "))
                    .map(|line| format!("{line}\n"))
                    .collect::<String>()
            );
            Ok(seconds_said(&printed))
        }
        Ok(output) => {
            println!(
                "duckdb comparison skipped: {} (install it with `python3 -m pip install duckdb`)",
                String::from_utf8_lossy(&output.stderr)
                    .lines()
                    .last()
                    .unwrap_or("failed")
            );
            Ok(None)
        }
        Err(error) => {
            println!("duckdb comparison skipped: {error}");
            Ok(None)
        }
    }
}
