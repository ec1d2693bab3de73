//! `custody audit`: verify the chain (and checkpoints kept outside custody), export it, take a
//! checkpoint, and accept the chain's end again after a crash or an older custody.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use custody_app::audit;

use crate::cli::open;
use crate::output;

/// The audit log's commands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain and that it ends where audit.head says; exit 1 naming the first bad
    /// entry.
    Verify {
        /// Checkpoint files from `custody audit anchor`: the chain must still hold each anchored
        /// entry.
        #[arg(long = "anchor", value_name = "FILE")]
        anchors: Vec<PathBuf>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Write every entry as JSON lines to standard output.
    Export,
    /// Sign a checkpoint of the newest entry to keep outside custody (printed, or written to
    /// --out), and record that it was taken.
    Anchor {
        /// Write the checkpoint to this file (mode 0600) instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Accept the chain's end as it now is (after a crash, or a data directory from an older
    /// custody): only when every link and hash verifies; audited with what audit.head said.
    Reanchor,
}

/// Runs an audit command.
pub fn run(dir: Option<PathBuf>, command: AuditCommand) -> anyhow::Result<ExitCode> {
    match command {
        AuditCommand::Verify { anchors, json } => {
            let ledger = open(dir)?;
            let verification = audit::verify_against(&ledger, &anchors)?;
            if json {
                output::json(&verification)?;
            } else {
                print_verification(&verification);
            }
            return Ok(if verification.intact {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            });
        }
        AuditCommand::Export => {
            let ledger = open(dir)?;
            audit::export(&ledger, &mut std::io::stdout().lock())?;
        }
        AuditCommand::Anchor { out } => {
            let mut ledger = open(dir)?;
            let checkpoint = audit::anchor(&mut ledger, out.as_deref())?;
            match out {
                Some(path) => crate::say!(
                    "Checkpoint of entry {} written to {}; keep it where custody's operators cannot change it.",
                    checkpoint.seq,
                    path.display()
                ),
                None => output::json(&checkpoint)?,
            }
        }
        AuditCommand::Reanchor => {
            let mut ledger = open(dir)?;
            let reanchored = audit::reanchor(&mut ledger)?;
            crate::say!(
                "audit.head now names entry {} (before, it {}); recorded as audit.reanchor.",
                reanchored.seq,
                reanchored.before
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_verification(verification: &audit::Verification) {
    if verification.intact {
        crate::say!("The audit chain is intact: {} entries.", verification.entries);
    } else {
        crate::say!(
            "The audit chain is BROKEN at entry {}: {}.",
            verification.first_bad.unwrap_or_default(),
            verification.problem.clone().unwrap_or_default()
        );
    }
    for check in &verification.checkpoints {
        match &check.problem {
            None => crate::say!(
                "Checkpoint {}: entry {} held as anchored.",
                check.file,
                check.seq.unwrap_or_default()
            ),
            Some(problem) => crate::say!("Checkpoint {}: NOT HELD: {problem}.", check.file),
        }
    }
}
