//! `custody store migrate`, `custody backup` and `custody restore`: moving a ledger between
//! backends, and keeping a copy of it safe (never the key).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use custody_app::clock::SystemClock;
use custody_app::store_admin::{self, Transferred};

use crate::cli::{actor, open};
use crate::output;

/// `custody store …`.
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Copy this directory's SQLite ledger into an empty PostgreSQL database, check every
    /// table's rows and the audit chain, and switch the directory to it (stop the desk and every
    /// other command first).
    Migrate {
        /// The database: postgresql://user@host[:port]/database (the password from
        /// CUSTODY_DATABASE_PASSWORD, PGPASSWORD or ~/.pgpass).
        #[arg(long, value_name = "URL")]
        to: String,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

/// `custody backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The backup file to write (new; mode 0600). It holds no key.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// JSON output.
    #[arg(long)]
    json: bool,
}

/// `custody restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup file.
    file: PathBuf,
    /// The data directory's key, kept apart from the backup (its custody.key).
    #[arg(long, value_name = "KEYFILE")]
    key: PathBuf,
    /// Restore the ledger into this empty PostgreSQL database instead of a SQLite file.
    #[arg(long, value_name = "URL")]
    database: Option<String>,
    /// JSON output.
    #[arg(long)]
    json: bool,
}

fn report(done: &Transferred, json: bool, what: &str) -> anyhow::Result<ExitCode> {
    if json {
        output::json(done)?;
    } else {
        let rows: u64 = done.copied.tables.iter().map(|(_, rows)| rows).sum();
        crate::say!(
            "{what} {}: {rows} rows in {} tables; the audit chain ({} entries) verified with the key.",
            output::terminal_safe(&done.to),
            done.copied.tables.len(),
            done.audit_entries
        );
        for note in &done.notes {
            crate::say!("{}", output::terminal_safe(note));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `custody store …`.
pub fn store(dir: Option<PathBuf>, command: StoreCommand) -> anyhow::Result<ExitCode> {
    match command {
        StoreCommand::Migrate { to, json } => {
            let mut ledger = open(dir)?;
            let done = store_admin::migrate_to(&mut ledger, &to, &SystemClock)?;
            report(&done, json, "Migrated to")
        }
    }
}

/// Runs `custody backup`.
pub fn backup(dir: Option<PathBuf>, args: BackupArgs) -> anyhow::Result<ExitCode> {
    let mut ledger = open(dir)?;
    let done = store_admin::backup(&mut ledger, &args.out)?;
    report(&done, args.json, "Backed up to")
}

/// Runs `custody restore`.
pub fn restore(dir: PathBuf, args: RestoreArgs) -> anyhow::Result<ExitCode> {
    let done = store_admin::restore(
        &args.file,
        &dir,
        &args.key,
        args.database.as_deref(),
        &SystemClock,
        &actor(),
    )?;
    report(&done, args.json, "Restored into")
}
