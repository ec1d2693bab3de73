//! The `custody` binary: command-line definitions and glue. Domain logic lives in the library
//! crates; this file parses arguments, opens the data directory, calls a use case and prints.

mod account_cli;
mod audit_cli;
mod cli;
mod contact_cli;
mod holidays_cli;
mod incident_cli;
mod jurisdictions_cli;
mod match_cli;
mod notice_cli;
mod output;
mod people_check_cli;
mod request_cli;
mod request_review_cli;
mod serve_cli;
mod store_cli;
mod supplier_mail_cli;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc: an import's and a match's threads allocate and free small strings for every row,
/// where glibc's allocator spent a tenth of the time (a third of the import at 2M people). The
/// crate's `override` feature makes it the C allocator as well, so SQLite's mallocs use it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let arguments = cli::Cli::parse();
    match cli::run(arguments) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("custody: {}", output::terminal_safe(&format!("{error:#}")));
            ExitCode::from(1)
        }
    }
}
