//! `custody match LEAKFILE`: leak evidence on the command line.

use custody_core::IncidentId;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;

use anyhow::anyhow;
use clap::Args;

use custody_app::leaks::leak::{
    self, LeakEncoding, LeakFormat, LeakOptions, MatchOptions, MatchProgress, MatchReport,
};

use crate::cli::open;
use crate::output;

/// Files smaller than this match too fast for a progress bar to help.
const PROGRESS_BYTES_MIN: u64 = 4 * 1024 * 1024;

/// Arguments of `custody match`.
#[derive(Debug, Args)]
pub struct MatchArgs {
    /// The leaked file (CSV/TSV, JSON lines, SQL dump, combo list; gzip too).
    pub file: PathBuf,
    /// Record the result on this incident as leak evidence.
    #[arg(long)]
    pub incident: Option<IncidentId>,
    /// auto, csv, tsv, jsonl, sql or combo.
    #[arg(long, default_value = "auto")]
    pub format: String,
    /// auto, utf-8, utf-16 or windows-1252.
    #[arg(long, default_value = "auto")]
    pub encoding: String,
    /// List the people matched and probably matched: how, the score, what agreed.
    #[arg(long)]
    pub people: bool,
    /// Write the linkage file here: a CSV of every linked row (line, reference, certain or
    /// probable, how, probability, what agreed), for a person to check any decision.
    #[arg(long, value_name = "FILE")]
    pub rows: Option<PathBuf>,
    /// JSON output.
    #[arg(long)]
    pub json: bool,
    /// Threads that read and match the file's rows, 1 to 8 (default: one per core, at most
    /// eight; each keeps at most two million rows for linkage). The result is the same with
    /// any number while every row is kept (`rows_not_tried` is 0) and linkage samples fewer
    /// than four million pairs. Linkage runs a thread per core, at most eight, whatever N is.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=8))]
    pub workers: Option<u16>,
}

/// Runs `custody match`.
pub fn match_command(dir: Option<PathBuf>, args: MatchArgs) -> anyhow::Result<ExitCode> {
    let format = LeakFormat::parse(&args.format).ok_or_else(|| {
        anyhow!(
            "--format {:?}: expected auto, csv, tsv, jsonl, sql or combo",
            args.format
        )
    })?;
    let encoding = LeakEncoding::parse(&args.encoding).ok_or_else(|| {
        anyhow!(
            "--encoding {:?}: expected auto, utf-8, utf-16 or windows-1252",
            args.encoding
        )
    })?;
    let mut ledger = open(dir)?;
    let options = MatchOptions {
        path: args.file,
        read: LeakOptions {
            format,
            encoding,
            ..LeakOptions::default()
        },
        incident: args.incident,
        people: args.people,
        rows: args.rows,
        workers: args.workers.map_or_else(custody_app::workers, usize::from),
    };
    let progress = MatchProgress::default();
    let report = with_bar(&progress, || leak::match_file(&mut ledger, &options, &progress))?;
    if let Some(refs) = &report.refs {
        custody_app::ledger::person::record_listing(&mut ledger, "match", refs.len())?;
    }
    if args.json {
        output::json(&report)?;
    } else {
        print_report(&report);
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `work`, drawing a progress bar on standard error (a terminal only) for a large file.
fn with_bar<T>(progress: &MatchProgress, work: impl FnOnce() -> T) -> T {
    output::with_status(|seconds| bar(progress, seconds), work)
}

/// The progress bar: bytes read of the file, rows, rows matched, rate, time left.
fn bar(progress: &MatchProgress, seconds: f64) -> Option<String> {
    let total = progress.total.load(Ordering::Relaxed);
    if total < PROGRESS_BYTES_MIN {
        return None;
    }
    let bytes = progress.bytes.load(Ordering::Relaxed);
    let rate = bytes as f64 / seconds.max(0.001);
    let left = if rate > 0.0 {
        format!("{:.0} s left", total.saturating_sub(bytes) as f64 / rate)
    } else {
        "—".into()
    };
    let width = 24usize;
    let filled = ((bytes as f64 / total as f64) * width as f64).min(width as f64) as usize;
    Some(format!(
        "[{}{}] {} of {} · {} rows · {} matched · {}/s · {left}",
        "#".repeat(filled),
        "·".repeat(width - filled),
        size(bytes),
        size(total),
        progress.rows.load(Ordering::Relaxed),
        progress.matched_rows.load(Ordering::Relaxed),
        size(rate as u64),
    ))
}

fn size(bytes: u64) -> String {
    match bytes {
        0..1_000_000 => format!("{:.0} kB", bytes as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", bytes as f64 / 1e6),
        _ => format!("{:.2} GB", bytes as f64 / 1e9),
    }
}

fn print_report(report: &MatchReport) {
    crate::say!(
        "{} ({}{}, {}, {}; SHA-256 {})",
        report.file,
        report.format.describe(),
        if report.gzip { ", gzip" } else { "" },
        report.encoding,
        size(report.bytes),
        report.sha256
    );
    crate::say!(
        "Rows read: {}; with identifiers: {}; matching someone: {}",
        report.rows,
        report.rows_with_identifiers,
        report.rows_matched
    );
    crate::say!("People matched (certain): {}", report.matched);
    for (kind, count) in &report.by_identifier {
        crate::say!("  by {kind}: {count}");
    }
    for (how, count) in &report.fuzzy_by {
        crate::say!("  fuzzy rows by {how}: {count}");
    }
    crate::say!(
        "People probably matched (review band {:.3} to {:.3}; never told unless confirmed): {}",
        report.linkage.review_line,
        report.linkage.certain_line,
        report.probable
    );
    for (how, count) in &report.probable_by {
        crate::say!("  probable rows by {how}: {count}");
    }
    crate::say!(
        "Fuzzy linkage: {} rows tried against {} people, {} pairs compared, {:.2} s; dates read as {}",
        report.linkage.rows_tried,
        report.linkage.people_read,
        report.linkage.pairs,
        report.linkage.seconds,
        report.date_order
    );
    if let Some(people) = &report.people {
        let rows: Vec<Vec<String>> = people
            .iter()
            .map(|link| {
                vec![
                    link.reference.clone(),
                    link.link.to_owned(),
                    link.how.to_owned(),
                    format!("{:.4}", link.probability),
                    link.agreed.join("+"),
                    link.line.to_string(),
                ]
            })
            .collect();
        output::table(
            &["reference", "link", "how", "probability", "agreed", "line"],
            &rows,
        );
    }
    if let Some(written) = report.rows_written {
        crate::say!("Linkage file written: {written} linked rows.");
    }
    let rows: Vec<Vec<String>> = report
        .columns
        .iter()
        .map(|column| {
            vec![
                column.name.clone(),
                column.role.to_owned(),
                column.decided_by.to_owned(),
                column.category.clone().unwrap_or_else(|| "—".into()),
            ]
        })
        .collect();
    output::table(&["column", "identifier", "decided by", "data category"], &rows);
    if report.canaries.is_empty() {
        crate::say!("Canaries found: none");
    }
    for canary in &report.canaries {
        crate::say!(
            "CANARY {} found: planted in share {} sent to {} on {} — the file came from that share.",
            canary.canary,
            canary.share,
            canary.supplier,
            canary.shared_at
        );
    }
    let rows: Vec<Vec<String>> = report
        .suppliers
        .iter()
        .map(|fit| {
            vec![
                fit.supplier.clone(),
                format!("{:.3}{}", fit.score, if fit.canary { " (canary)" } else { "" }),
                format!("{} ({:.1} %)", fit.held, fit.coverage * 100.0),
                format!("{:.1} %", fit.of_its_holdings * 100.0),
                if fit.categories_missing.is_empty() {
                    "all".into()
                } else {
                    format!("never received {}", fit.categories_missing.join(", "))
                },
            ]
        })
        .collect();
    crate::say!(
        "Suppliers that held these people between {} and {}, best explanation first:",
        report.window_from,
        report.window_to
    );
    output::table(
        &[
            "supplier",
            "score",
            "matched people held",
            "of its holdings",
            "the file's categories",
        ],
        &rows,
    );
    if report.problems.is_empty() {
        crate::say!("Everything in the file could be read.");
    }
    for (problem, count) in &report.problems.counts {
        let lines: Vec<String> = count.lines.iter().map(u64::to_string).collect();
        crate::say!(
            "Could not read: {} {} (first at lines {})",
            count.count,
            problem.describe(),
            lines.join(", ")
        );
    }
    if let Some((line, why)) = &report.problems.stopped {
        crate::say!("Reading stopped at line {line}: {why}");
    }
    if let Some(event) = report.recorded {
        crate::say!("Recorded on the incident as evidence (event {event}).");
    }
    crate::say!("Matched in {:.2} s.", report.seconds);
}
