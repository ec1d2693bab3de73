//! `custody holidays show|import`: the bank holidays that move request deadlines.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use custody_app::rights::holidays;

use crate::cli::open;
use crate::output;

/// Holiday commands.
#[derive(Debug, Subcommand)]
pub enum HolidaysCommand {
    /// The list in use: its source, division and years, and the coming holidays.
    Show {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Replace the list with a file in GOV.UK's bank-holidays.json format (checked whole first).
    Import {
        /// The file.
        file: PathBuf,
    },
}

/// Runs a holidays command.
pub fn run(dir: Option<PathBuf>, command: HolidaysCommand) -> anyhow::Result<ExitCode> {
    let mut ledger = open(dir)?;
    match command {
        HolidaysCommand::Show { json } => {
            let list = holidays::for_ledger(&ledger)?;
            let today = ledger.now().local_day(&ledger.zone);
            let coming: Vec<String> = list
                .days
                .iter()
                .filter(|day| **day >= today)
                .take(8)
                .map(|day| day.to_iso())
                .collect();
            if json {
                output::json(
                    &serde_json::json!({ "division": list.division, "source": list.source,
                    "first_year": list.first_year, "last_year": list.last_year, "coming": coming }),
                )?;
            } else {
                crate::say!(
                    "{} bank holidays, {} to {}",
                    list.division,
                    list.first_year,
                    list.last_year
                );
                crate::say!("Source: {}", list.source);
                crate::say!(
                    "Coming: {}",
                    if coming.is_empty() {
                        "none listed".to_owned()
                    } else {
                        coming.join(", ")
                    }
                );
            }
        }
        HolidaysCommand::Import { file } => {
            let imported = holidays::import(&mut ledger, &file)?;
            for (division, first, last) in &imported.divisions {
                crate::say!("{division}: {first} to {last}");
            }
            crate::say!("Bank holidays replaced (SHA-256 {}).", imported.sha256);
        }
    }
    Ok(ExitCode::SUCCESS)
}
