//! `custody supplier contact …`: the people at a supplier whom custody writes to.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};

use custody_app::ledger::contacts::{self, ContactInput};
use custody_core::ContactRole;

use crate::cli::open;
use crate::output;

/// What a contact is for.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ContactRoleArg {
    /// Security incidents.
    Security,
    /// Data protection (the supplier's DPO).
    Dpo,
    /// The account: the contract, and instructions under it.
    Account,
}

/// `custody supplier contact …`.
#[derive(Debug, Subcommand)]
pub enum ContactCommand {
    /// Add a contact at a supplier (audited).
    Add {
        /// The supplier.
        supplier: String,
        /// Their work address.
        #[arg(long)]
        email: String,
        /// Their name.
        #[arg(long)]
        name: String,
        /// What they are the contact for.
        #[arg(long, value_enum)]
        role: ContactRoleArg,
    },
    /// Remove a supplier's contact by address (audited).
    Remove {
        /// The supplier.
        supplier: String,
        /// Their work address.
        #[arg(long)]
        email: String,
    },
    /// List a supplier's contacts.
    List {
        /// The supplier.
        supplier: String,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `custody supplier contact …`.
pub fn contact(dir: Option<PathBuf>, command: ContactCommand) -> anyhow::Result<ExitCode> {
    match command {
        ContactCommand::Add {
            supplier,
            email,
            name,
            role,
        } => {
            let mut ledger = open(dir)?;
            let role = match role {
                ContactRoleArg::Security => ContactRole::Security,
                ContactRoleArg::Dpo => ContactRole::Dpo,
                ContactRoleArg::Account => ContactRole::Account,
            };
            let added = contacts::add(&mut ledger, &supplier, ContactInput { name, email, role })?;
            crate::say!(
                "Added {} <{}> as the {} contact of {}.",
                added.name,
                added.email,
                added.role.as_str(),
                supplier.trim()
            );
        }
        ContactCommand::Remove { supplier, email } => {
            let mut ledger = open(dir)?;
            let removed = contacts::remove(&mut ledger, &supplier, &email)?;
            crate::say!(
                "Removed {} <{}> from {}.",
                removed.name,
                removed.email,
                supplier.trim()
            );
        }
        ContactCommand::List { supplier, json } => {
            let ledger = open(dir)?;
            let list = contacts::list(&ledger, &supplier)?;
            if json {
                output::json(&list)?;
            } else {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|contact| {
                        vec![
                            contact.role.as_str().to_owned(),
                            contact.name.clone(),
                            contact.email.clone(),
                            contact.added_at.to_rfc3339(),
                        ]
                    })
                    .collect();
                output::table(&["role", "name", "email", "added"], &rows);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
