//! `custody user …` and `custody token …`: the desk's accounts and API tokens.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;

use custody_app::desk::accounts;
use custody_core::DeskRole;

use crate::cli::open;
use crate::output;

/// `custody user …`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add an account. The password is prompted for (twice) on a terminal, otherwise read from
    /// the first line of standard input.
    Add {
        /// Sign-in name.
        name: String,
        /// admin, responder, viewer, or supplier (a supplier's account: its side only).
        #[arg(long)]
        role: String,
        /// For --role supplier: the supplier the account is bound to.
        #[arg(long)]
        supplier: Option<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// List the accounts.
    List {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Set a new password for an account (prompted twice on a terminal, otherwise read from
    /// standard input).
    Passwd {
        /// The account's name.
        name: String,
    },
    /// Disable an account: it can no longer sign in (it is kept, with the moment).
    Disable {
        /// Sign-in name.
        name: String,
    },
}

/// `custody token …`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make an API token; it is shown this once and kept only as a keyed hash.
    Add {
        /// What it is for.
        #[arg(long)]
        name: String,
        /// admin, responder, viewer, or supplier (a supplier's token: its side only).
        #[arg(long)]
        role: String,
        /// For --role supplier: the supplier the token is bound to.
        #[arg(long)]
        supplier: Option<String>,
        /// JSON output: {"token": …}.
        #[arg(long)]
        json: bool,
    },
    /// List the tokens (never the tokens themselves).
    List {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token.
    Revoke {
        /// Its name.
        name: String,
    },
}

fn role(text: &str) -> anyhow::Result<DeskRole> {
    DeskRole::parse(text).context("--role")
}

/// The new password: prompted twice on a terminal, else the first line of standard input.
fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Again: ")?;
        if first != again {
            bail!("the two passwords differ; nothing was changed");
        }
        return Ok(first);
    }
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line)? == 0 {
        bail!("no password on standard input; expected it on the first line");
    }
    // Only the line break goes: spaces are part of a password.
    Ok(line
        .strip_suffix('\n')
        .map_or(line.as_str(), |rest| rest.strip_suffix('\r').unwrap_or(rest))
        .to_owned())
}

/// Runs a user command.
pub fn user(dir: Option<PathBuf>, command: UserCommand) -> anyhow::Result<ExitCode> {
    match command {
        UserCommand::Add {
            name,
            role: text,
            supplier,
            json,
        } => {
            let role = role(&text)?;
            custody_core::check_desk_name(&name)?;
            let mut ledger = open(dir)?;
            // The binding is checked before the password is asked for.
            accounts::supplier_binding(&ledger, role, supplier.as_deref())?;
            let password = read_password()?;
            let added = accounts::add_user(&mut ledger, &name, role, supplier.as_deref(), &password)?;
            if json {
                output::json(&added)?;
            } else {
                match &added.supplier {
                    Some(supplier) => crate::say!("Added {} ({} of {supplier}).", added.name, added.role),
                    None => crate::say!("Added {} ({}).", added.name, added.role),
                }
            }
        }
        UserCommand::Passwd { name } => {
            let mut ledger = open(dir)?;
            let password = read_password()?;
            accounts::set_password(&mut ledger, &name, &password)?;
            crate::say!("Set a new password for {name}.");
        }
        UserCommand::Disable { name } => {
            let mut ledger = open(dir)?;
            accounts::disable_user(&mut ledger, &name)?;
            crate::say!("Disabled {name}.");
        }
        UserCommand::List { json } => {
            let ledger = open(dir)?;
            let users = accounts::users(&ledger)?;
            if json {
                output::json(&users)?;
            } else {
                let rows: Vec<Vec<String>> = users
                    .iter()
                    .map(|user| {
                        vec![
                            user.name.clone(),
                            match &user.supplier {
                                Some(supplier) => format!("{} of {supplier}", user.role),
                                None => user.role.to_owned(),
                            },
                            if user.totp { "yes" } else { "no" }.to_owned(),
                            user.created_at.to_string(),
                            user.disabled_at.map(|at| at.to_string()).unwrap_or_default(),
                        ]
                    })
                    .collect();
                output::table(&["name", "role", "second factor", "created", "disabled"], &rows);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs a token command.
pub fn token(dir: Option<PathBuf>, command: TokenCommand) -> anyhow::Result<ExitCode> {
    match command {
        TokenCommand::Add {
            name,
            role: text,
            supplier,
            json,
        } => {
            let role = role(&text)?;
            let mut ledger = open(dir)?;
            let (token, view) = accounts::add_token(&mut ledger, &name, role, supplier.as_deref())?;
            if json {
                output::json(&serde_json::json!({ "token": token, "name": view.name, "role": view.role }))?;
            } else {
                crate::say!(
                    "Token {} ({}); shown this once, keep it safe:\n{token}",
                    view.name,
                    view.role
                );
            }
        }
        TokenCommand::List { json } => {
            let ledger = open(dir)?;
            let tokens = accounts::tokens(&ledger)?;
            if json {
                output::json(&tokens)?;
            } else {
                let rows: Vec<Vec<String>> = tokens
                    .iter()
                    .map(|token| {
                        vec![
                            token.name.clone(),
                            token.role.to_owned(),
                            token.created_at.to_string(),
                            token.revoked_at.map(|at| at.to_string()).unwrap_or_default(),
                        ]
                    })
                    .collect();
                output::table(&["name", "role", "created", "revoked"], &rows);
            }
        }
        TokenCommand::Revoke { name } => {
            let mut ledger = open(dir)?;
            accounts::revoke_token(&mut ledger, &name)?;
            crate::say!("Revoked {name}.");
        }
    }
    Ok(ExitCode::SUCCESS)
}
