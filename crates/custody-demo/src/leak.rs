//! The demo's leak: weeks after the incident, a file turns up on a forum. The demo writes it
//! from part of the file the party actually sent the membership-data processor (canaries
//! included), reshaped as leaks are (no header row, semicolons, addresses in capitals), matches it
//! against the ledger and records it on the incident as evidence.

use custody_core::IncidentId;
use std::io::{BufWriter, Write};
use std::path::Path;

use serde::Serialize;

use custody_app::Ledger;
use custody_app::leaks::leak::{LeakOptions, MatchOptions, MatchProgress, match_file};
use custody_app::leaks::leak_rank::CanaryFound;
use custody_app::{Error, Result};

/// The file the demo's leak is made from: the first export file, as sent with its canaries.
const SENT_FILE: &str = "share-01.sent.csv";
/// The leaked file the demo writes.
pub const LEAK_FILE: &str = "forum-dump.txt";

/// What matching the demo's leak found.
#[derive(Debug, Clone, Serialize)]
pub struct DemoLeak {
    /// Rows in the leaked file.
    pub rows: u64,
    /// People matched.
    pub matched: u64,
    /// Canaries found.
    pub canaries: Vec<CanaryFound>,
    /// The supplier ranked first.
    pub best: Option<String>,
    /// Seconds the match took.
    pub seconds: f64,
}

/// Writes the leaked file and matches it, recording it on incident `id`.
pub fn run(ledger: &mut Ledger, files: &Path, id: IncidentId) -> Result<DemoLeak> {
    let leak = files.join(LEAK_FILE);
    write_leak(&files.join(SENT_FILE), &leak)?;
    let options = MatchOptions {
        rows: None,
        path: leak,
        read: LeakOptions::default(),
        incident: Some(id),
        people: false,
        workers: custody_app::workers(),
    };
    let report = match_file(ledger, &options, &MatchProgress::default())?;
    Ok(DemoLeak {
        rows: report.rows,
        matched: report.matched,
        canaries: report.canaries,
        best: report.suppliers.first().map(|fit| fit.supplier.clone()),
        seconds: report.seconds,
    })
}

/// Every third row of the sent file (the first, the fourth, …) and its canaries, without the
/// header, with semicolons.
fn write_leak(sent: &Path, leak: &Path) -> Result<()> {
    let mut reader = csv::Reader::from_path(sent)
        .map_err(|error| Error::Invalid(format!("{}: {error}", sent.display())))?;
    let file = std::fs::File::create(leak).map_err(|source| Error::io(leak, source))?;
    let mut out = BufWriter::new(file);
    // Rows are counted without the canaries, which the export put at random places: the leak is
    // then the same rows every run, and its canaries on top.
    let mut index = 0usize;
    for row in reader.records() {
        let row = row.map_err(|error| Error::Invalid(format!("{}: {error}", sent.display())))?;
        let canary = row.iter().any(|field| field.contains("@canary."));
        if !canary {
            index += 1;
            if index % 3 != 1 {
                continue;
            }
        }
        let fields: Vec<String> = row
            .iter()
            .map(|field| {
                let field = field.replace(';', ",");
                if field.contains('@') && !canary && index.is_multiple_of(2) {
                    field.to_uppercase()
                } else {
                    field
                }
            })
            .collect();
        writeln!(out, "{}", fields.join(";")).map_err(|source| Error::io(leak, source))?;
    }
    out.flush().map_err(|source| Error::io(leak, source))
}

/// The leak in words.
pub fn to_text(leak: &DemoLeak, dir: &str) -> String {
    let mut out = format!(
        "\nA leaked file turned up: files/{LEAK_FILE}, {} rows, {} people matched in {:.1} s.\n",
        leak.rows, leak.matched, leak.seconds
    );
    for canary in &leak.canaries {
        out.push_str(&format!(
            "  canary {} names share {} sent to {}: the file came from there.\n",
            canary.canary, canary.share, canary.supplier
        ));
    }
    if let Some(best) = &leak.best {
        out.push_str(&format!("  best explanation by holdings: {best}\n"));
    }
    out.push_str(&format!(
        "Recorded on the incident as evidence. Try: custody --dir {dir} match {dir}/files/{LEAK_FILE}\n"
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::write_leak;

    /// The leak made from a sent file whose canaries sit at `canary_at` (indexes among all rows).
    fn leak_of(dir: &std::path::Path, canary_at: &[usize]) -> Vec<String> {
        let mut rows: Vec<String> = (0..10).map(|n| format!("m{n},m{n}@example.org")).collect();
        for (k, at) in canary_at.iter().enumerate() {
            rows.insert(*at, format!("c{k},c{k}@canary.example.net"));
        }
        let sent = dir.join("sent.csv");
        let leak = dir.join("leak.txt");
        std::fs::write(&sent, format!("ref,email\n{}\n", rows.join("\n"))).unwrap();
        write_leak(&sent, &leak).unwrap();
        std::fs::read_to_string(&leak)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn the_leak_is_the_same_rows_wherever_the_canaries_were_put() {
        let dir = tempfile::tempdir().unwrap();
        let members = |leak: &[String]| -> Vec<String> {
            leak.iter()
                .filter(|row| !row.contains("@canary."))
                .cloned()
                .collect()
        };
        let first = leak_of(dir.path(), &[0, 5]);
        assert_eq!(
            members(&first),
            [
                "m0;m0@example.org",
                "m3;M3@EXAMPLE.ORG",
                "m6;m6@example.org",
                "m9;M9@EXAMPLE.ORG"
            ]
        );
        for canary_at in [[1, 2], [3, 11], [7, 8]] {
            let leak = leak_of(dir.path(), &canary_at);
            assert_eq!(members(&leak), members(&first), "canaries at {canary_at:?}");
            assert_eq!(leak.len(), 6, "canaries at {canary_at:?}");
            assert!(leak.contains(&"c0;c0@canary.example.net".to_owned()));
        }
    }
}
