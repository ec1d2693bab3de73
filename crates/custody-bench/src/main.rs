//! `custody-bench`: measures the ledger against DESIGN.md section 6 and prints the figures.
//!
//! `cargo run --release -p custody-bench -- --people 10000000` builds a reference organisation in a
//! temporary directory and measures: importing the people from CSV (time and peak memory),
//! recording a one-million-row share, and the holdings question at 5,000 shares, beside the same
//! question asked of a plain SQLite table of (share, person) rows with an index. With
//! `--backend both` it runs the same organisation on SQLite and on PostgreSQL (a server of its
//! own with PostgreSQL's default durability, started from Debian's binaries, or `--database`)
//! and prints each figure's ratio.

use custody_core::ShareId;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant as Clock};

use anyhow::Context;
use clap::Parser;

use custody_app::clock::SystemClock;
use custody_app::{Ledger, ledger::holdings, ledger::people, ledger::shares, ledger::suppliers};
use custody_bench::{peak_memory_mib, write_people};
use custody_core::{
    CategoryKey, Instant, PersonCategory, PersonSet, Settings, ShareKind, ShareMeta, SupplierRole,
};
use custody_store::{AuditDraft, NewShare};

/// Benchmark options.
#[derive(Debug, Parser)]
struct Options {
    /// People in the reference organisation.
    #[arg(long, default_value_t = 10_000_000)]
    people: u32,
    /// Suppliers.
    #[arg(long, default_value_t = 200)]
    suppliers: u32,
    /// Shares.
    #[arg(long, default_value_t = 5_000)]
    shares: u32,
    /// Rows in the recorded share file.
    #[arg(long, default_value_t = 1_000_000)]
    share_rows: u32,
    /// Repetitions of each query.
    #[arg(long, default_value_t = 21)]
    repeat: usize,
    /// Keep the data directory here (for profiling) instead of a temporary one.
    #[arg(long)]
    keep: Option<std::path::PathBuf>,
    /// Where the ledger is kept: `sqlite`, `postgresql`, or `both` (one after the other).
    #[arg(long, default_value = "sqlite")]
    backend: String,
    /// An empty PostgreSQL database to use (else a server of its own is started).
    #[arg(long, value_name = "URL")]
    database: Option<String>,
}

/// One backend's figures.
#[derive(Debug, Clone, Copy, Default)]
struct Figures {
    import: f64,
    reimport: f64,
    share: f64,
    holdings_ms: f64,
    impact_ms: f64,
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    let backends: Vec<&str> = match options.backend.as_str() {
        "both" => vec!["sqlite", "postgresql"],
        "sqlite" => vec!["sqlite"],
        "postgresql" => vec!["postgresql"],
        other => anyhow::bail!("--backend {other}: expected sqlite, postgresql or both"),
    };
    custody_bench::in_root(options.keep.as_deref(), "custody-bench", |root| {
        let mut server = None;
        let mut figures = Vec::new();
        for backend in &backends {
            let database = if *backend == "postgresql" {
                Some(match &options.database {
                    Some(url) => url.clone(),
                    None => {
                        let started = server.get_or_insert_with(custody_testdb::durable_server);
                        started.database("bench")
                    }
                })
            } else {
                None
            };
            let root = root.join(backend);
            let first = backends.first() == Some(backend);
            figures.push((*backend, run(&options, &root, database, first)?));
        }
        if let [(_, sqlite), (_, postgres)] = figures.as_slice() {
            println!("PostgreSQL against SQLite (target ≤ 2×):");
            for (what, left, right) in [
                ("import people", postgres.import, sqlite.import),
                ("re-import people", postgres.reimport, sqlite.reimport),
                ("record share", postgres.share, sqlite.share),
                ("holdings", postgres.holdings_ms, sqlite.holdings_ms),
                ("impact", postgres.impact_ms, sqlite.impact_ms),
            ] {
                println!("  {what}: {left:.2} against {right:.2} = {:.2}×", left / right);
            }
        }
        Ok(())
    })
}

fn run(
    options: &Options,
    root: &Path,
    database: Option<String>,
    with_baseline: bool,
) -> anyhow::Result<Figures> {
    std::fs::create_dir_all(root)?;
    let dir = root.join("data");
    let mut settings = Settings::new("Bench");
    settings.database = database;
    let backend = if settings.database.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    custody_app::init(&dir, settings, &SystemClock, "bench")?;
    let mut ledger = Ledger::open(&dir, Box::new(SystemClock), "bench")?;
    let mut figures = Figures::default();
    println!(
        "custody benchmark on {backend}: {} people, {} suppliers, {} shares",
        options.people, options.suppliers, options.shares
    );

    let crm = root.join("people.csv");
    write_people(&crm, options.people)?;
    let size_mib = std::fs::metadata(&crm)?.len() as f64 / 1_048_576.0;
    let started = Clock::now();
    let report = people::import_people(&mut ledger, &crm, &people::ImportOptions::default())?;
    let import = started.elapsed();
    figures.import = import.as_secs_f64();
    println!(
        "import people: {} rows ({size_mib:.0} MiB) in {:.1} s ({:.0} rows/s); peak memory {:.0} MiB  [target ≤ 60 s, ≤ 2048 MiB at 10M]",
        report.inserted,
        import.as_secs_f64(),
        f64::from(options.people) / import.as_secs_f64(),
        peak_memory_mib().unwrap_or(f64::NAN)
    );
    // The same file again, as a nightly export that changed nothing: every row read and found
    // unchanged.
    let started = Clock::now();
    let again = people::import_people(&mut ledger, &crm, &people::ImportOptions::default())?;
    let reimport = started.elapsed();
    figures.reimport = reimport.as_secs_f64();
    println!(
        "re-import unchanged: {} rows found unchanged, {} updated, in {:.1} s ({:.0} rows/s)  [target ≤ 30 s at 10M]",
        again.unchanged,
        again.updated,
        reimport.as_secs_f64(),
        f64::from(options.people) / reimport.as_secs_f64(),
    );
    // Kept with the directory (to profile an import of it again), else removed.
    if options.keep.is_none() {
        std::fs::remove_file(&crm)?;
    }

    for index in 0..options.suppliers {
        let input = suppliers::SupplierInput {
            name: format!("Supplier {index:03}"),
            role: SupplierRole::Processor,
            parent: None,
            notice_hours: Some(72),
            contract: None,
            contact: None,
            country: None,
            transfer_safeguard: None,
        };
        suppliers::add_supplier(&mut ledger, input)?;
    }

    let share_file = root.join("share.csv");
    {
        let mut out = BufWriter::new(std::fs::File::create(&share_file)?);
        writeln!(out, "Member Number,First Name,Email")?;
        let step = (options.people / options.share_rows.max(1)).max(1);
        for index in (1..=options.people)
            .step_by(step as usize)
            .take(options.share_rows as usize)
        {
            writeln!(out, "P{index:08},Alex,alex.{index}@example.org")?;
        }
        out.flush()?;
    }
    let started = Clock::now();
    let recorded = shares::record_export(
        &mut ledger,
        shares::RecordInput {
            supplier: "Supplier 000".to_owned(),
            purpose: "bench".to_owned(),
            marketing: false,
            at: Some(Instant::from_unix_seconds(1_600_000_000)?),
            retention_days: None,
            maps: Vec::new(),
            canaries: None,
            file: share_file.clone(),
        },
    )?;
    figures.share = started.elapsed().as_secs_f64();
    println!(
        "record share: {} rows, {} people in {:.2} s  [target ≤ 5 s for 1M rows]",
        recorded.rows, recorded.people, figures.share
    );

    let all = ledger.store.suppliers()?;
    let measured = all.first().context("no supplier")?.id;
    let mut rng = fastrand::Rng::with_seed(11);
    let categories = [
        "user.name",
        "user.contact.email",
        "user.contact.address.postal_code",
        "user.financial.bank_account",
    ]
    .iter()
    .map(|key| CategoryKey::parse(key))
    .collect::<Result<Vec<_>, _>>()?;
    // The recorded share went to the measured supplier too.
    let mut measured_sets: Vec<(ShareId, PersonSet)> =
        vec![(recorded.share, ledger.store.share_people(recorded.share)?)];
    let started = Clock::now();
    for index in 1..options.shares {
        // One in a hundred shares goes to the measured supplier, so it has about 50 shares (twice
        // the average of 25); the rest spread over the others. Sizes: mostly segments of a few thousand to a few hundred
        // thousand people, some whole-membership exports of millions.
        let supplier = if index % 100 == 0 {
            measured
        } else {
            all.get(rng.usize(..all.len())).map_or(measured, |s| s.id)
        };
        let set = random_set(&mut rng, options.people);
        let at = Instant::from_unix_seconds(1_400_000_000 + i64::from(index) * 40_000)?;
        let share = NewShare {
            meta: ShareMeta {
                id: ShareId::new(0),
                supplier_id: supplier,
                kind: ShareKind::Export,
                shared_at: at,
                ends_at: None,
                categories: categories
                    .iter()
                    .take(1 + rng.usize(..categories.len()))
                    .copied()
                    .collect(),
                retention_days: None,
                deleted_at: None,
                backups_until: None,
            },
            purpose: "bench".to_owned(),
            marketing: false,
            audience: Vec::new(),
            row_count: set.len(),
            unmatched_count: 0,
            unmatched_lines: Vec::new(),
            file_name: None,
            file_sha256: None,
            columns: Vec::new(),
            recorded_at: at,
        };
        let draft = AuditDraft {
            actor: "bench".into(),
            action: "share.record".into(),
            subject: "share".into(),
            at,
            details: serde_json::json!({}),
        };
        // Through the ledger's own signer, so that the audit head follows the entries.
        let (store, signer) = ledger.store_and_signer();
        let id = store.record_share(share, &set, Vec::new(), draft, &signer)?.id;
        if supplier == measured {
            measured_sets.push((id, set));
        }
    }
    // The shares were written through the store, past the ledger's own commands: settle the
    // audit head on their entries, as every ledger change does.
    ledger.anchor_audit()?;
    println!(
        "set-up: {} shares stored in {:.0} s",
        options.shares,
        started.elapsed().as_secs_f64()
    );

    // A standing feed of members and registered supporters (about half of everyone), as a
    // hosted CRM or membership processor has.
    let name = all.first().map(|s| s.name.clone()).unwrap_or_default();
    let at = Instant::from_unix_seconds(1_700_000_000)?;
    let feed = shares::declare_feed(
        &mut ledger,
        shares::FeedInput {
            supplier: name.clone(),
            categories: categories.clone(),
            audience: vec![PersonCategory::Member, PersonCategory::RegisteredSupporter],
            from: Instant::from_unix_seconds(1_420_000_000)?,
            to: None,
            purpose: "sync".to_owned(),
            marketing: false,
            retention_days: None,
        },
    )?;
    let window = custody_core::FeedWindow {
        joined_by: at.local_day(&ledger.zone),
        not_left_before: Instant::from_unix_seconds(1_420_000_000)?.local_day(&ledger.zone),
    };
    let feed_people = ledger.store.feed_people(
        &[PersonCategory::Member, PersonCategory::RegisteredSupporter],
        window,
    )?;
    println!("standing feed: {} people", feed_people.len());
    measured_sets.push((feed, feed_people));
    let mut samples = Vec::new();
    let mut held = 0;
    for _ in 0..options.repeat {
        let started = Clock::now();
        let report = holdings::holdings(&ledger, &name, at, false)?;
        samples.push(started.elapsed());
        held = report.people;
    }
    figures.holdings_ms = median(samples).as_secs_f64() * 1000.0;
    println!(
        "holdings (custody, Roaring sets): {} shares of one supplier, {held} people, median {:.1} ms  [target ≤ 100 ms]",
        measured_sets.len(),
        figures.holdings_ms
    );
    figures.impact_ms = impact_figures(&mut ledger, &name, at, options.repeat)?;
    if with_baseline {
        let baseline_people = baseline(root, &measured_sets, options.repeat)?;
        if baseline_people != held {
            anyhow::bail!("custody and the baseline disagree: {held} people against {baseline_people}");
        }
    }
    Ok(figures)
}

/// The impact of an incident at the measured supplier: holdings plus every breakdown.
fn impact_figures(
    ledger: &mut Ledger,
    supplier: &str,
    aware_at: Instant,
    repeat: usize,
) -> anyhow::Result<f64> {
    let id = custody_app::breach::incidents::open(
        ledger,
        custody_app::breach::incidents::OpenInput {
            supplier: Some(supplier.to_owned()),
            aware_at,
            nature: vec![custody_core::Nature::Confidentiality],
            summary: "bench".to_owned(),
            occurred_from: Some(Instant::from_unix_seconds(aware_at.unix_seconds() - 30 * 86_400)?),
            occurred_to: Some(aware_at),
            supplier_discovered_at: None,
            supplier_notified_at: None,
            cyber: None,
        },
    )?;
    let incident = custody_app::breach::incidents::find_incident(ledger, id)?;
    let mut samples = Vec::new();
    let mut people = 0;
    for _ in 0..repeat {
        let started = Clock::now();
        let view = custody_app::breach::impact::compute(ledger, &incident)?;
        samples.push(started.elapsed());
        people = view.figures.people;
    }
    let impact_ms = median(samples).as_secs_f64() * 1000.0;
    println!(
        "impact (window of 30 days, every breakdown): {people} people, median {impact_ms:.1} ms  [target ≤ 100 ms]"
    );
    Ok(impact_ms)
}

fn random_set(rng: &mut fastrand::Rng, people: u32) -> PersonSet {
    let size = match rng.u8(0..100) {
        0..60 => rng.u32(1_000..20_000),
        60..95 => rng.u32(20_000..400_000),
        _ => rng.u32(1_000_000..4_000_000),
    }
    .min(people);
    let start = rng.u32(1..=people.saturating_sub(size).max(1));
    // A segment of the id space at a random density: exports select by category and region.
    let density = rng.u32(20..100);
    let span = (u64::from(size) * 100 / u64::from(density)).min(u64::from(people - start + 1)) as u32;
    (start..start + span)
        .filter(|_| rng.u32(0..100) < density)
        .collect()
}

/// The same question of a plain SQLite table of (share, person) rows with an index. Only the
/// measured supplier's shares are loaded, which favours the baseline (a smaller table).
fn baseline(root: &Path, sets: &[(ShareId, PersonSet)], repeat: usize) -> anyhow::Result<u64> {
    let path = root.join("baseline.db");
    let mut connection = rusqlite::Connection::open(&path)?;
    connection.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -262144;
         CREATE TABLE share_people (share INTEGER NOT NULL, person INTEGER NOT NULL, PRIMARY KEY (share, person)) WITHOUT ROWID;",
    )?;
    let transaction = connection.transaction()?;
    let mut rows = 0u64;
    {
        let mut insert = transaction.prepare("INSERT INTO share_people (share, person) VALUES (?1, ?2)")?;
        for (share, set) in sets {
            for person in set {
                insert.execute(rusqlite::params![share.get(), person])?;
                rows += 1;
            }
        }
    }
    transaction.commit()?;
    let ids: Vec<String> = sets.iter().map(|(id, _)| id.to_string()).collect();
    let query = format!(
        "SELECT count(DISTINCT person) FROM share_people WHERE share IN ({})",
        ids.join(",")
    );
    let mut samples = Vec::new();
    let mut count = 0i64;
    for _ in 0..repeat.min(5) {
        let started = Clock::now();
        count = connection.query_row(&query, [], |row| row.get(0))?;
        samples.push(started.elapsed());
    }
    println!(
        "holdings (baseline, SQLite (share, person) table of {rows} rows): {count} people, median {:.1} ms",
        median(samples).as_secs_f64() * 1000.0
    );
    Ok(count as u64)
}
