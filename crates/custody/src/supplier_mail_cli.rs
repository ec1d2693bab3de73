//! `custody supplier mail …`: what custody has written to suppliers' contacts, and sending what
//! is due.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use custody_app::Ledger;
use custody_app::notices::supplier_mail::{self, MailSent};

use crate::cli::open;
use crate::output;

/// `custody supplier mail …`.
#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// List the messages to suppliers' contacts, newest first.
    List {
        /// One supplier's only.
        #[arg(long)]
        supplier: Option<String>,
        /// JSON output (with each message's text).
        #[arg(long)]
        json: bool,
    },
    /// Send every message to suppliers that is due (queued, or a retry whose time has come).
    Send {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `custody supplier mail …`.
pub fn mail(dir: Option<PathBuf>, command: MailCommand) -> anyhow::Result<ExitCode> {
    match command {
        MailCommand::List { supplier, json } => {
            let ledger = open(dir)?;
            let supplier = supplier
                .map(|name| custody_app::ledger::suppliers::find(&ledger, &name))
                .transpose()?
                .map(|found| found.id);
            let list = supplier_mail::list(&ledger, supplier)?;
            if json {
                output::json(&list)?;
            } else {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|mail| {
                        vec![
                            mail.id.to_string(),
                            mail.mail.about.as_str().to_owned(),
                            mail.mail.incident.map(|id| id.to_string()).unwrap_or_default(),
                            mail.mail.recipient.clone(),
                            mail.state.as_str().to_owned(),
                            mail.queued_at.local(&ledger.zone),
                            mail.sent_at.map(|at| at.local(&ledger.zone)).unwrap_or_default(),
                        ]
                    })
                    .collect();
                output::table(
                    &["id", "about", "incident", "to", "state", "queued", "sent"],
                    &rows,
                );
            }
        }
        MailCommand::Send { json } => {
            let mut ledger = open(dir)?;
            let Some(config) = crate::notice_cli::smtp_config(&ledger)? else {
                anyhow::bail!(
                    "no mail server is configured: set [smtp] in settings.toml or CUSTODY_SMTP_HOST"
                );
            };
            let sent = supplier_mail::send_due(&mut ledger, config)?;
            if json {
                output::json(&sent)?;
            } else {
                say_sent(&sent);
            }
            if sent.unavailable.is_some() {
                return Ok(ExitCode::from(1));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Sends what is due after something was queued, when a mail server is set; a failure to send
/// is told, not fatal: what was asked is recorded, and the mail waits for the next sending.
pub fn send_if_configured(ledger: &mut Ledger) -> Option<MailSent> {
    let waiting = supplier_mail::list(ledger, None)
        .is_ok_and(|mail| mail.iter().any(|one| one.state.as_str() == "queued"));
    if !waiting {
        return None;
    }
    let config = match crate::notice_cli::smtp_config(ledger) {
        Ok(Some(config)) => config,
        Ok(None) => {
            eprintln!(
                "No mail server is set: the mail is queued; send it with custody supplier mail send once one is."
            );
            return None;
        }
        Err(error) => {
            eprintln!("The mail is queued but not sent: {error:#}");
            return None;
        }
    };
    match supplier_mail::send_due(ledger, config) {
        Ok(sent) => Some(sent),
        Err(error) => {
            eprintln!("The mail is queued but not sent: {error:#}; custody supplier mail send tries again.");
            None
        }
    }
}

/// Says what a sending did.
pub fn say_sent(sent: &MailSent) {
    crate::say!(
        "Sent {} message(s) to suppliers' contacts; {} to try again later, {} refused.",
        sent.sent,
        sent.retry,
        sent.failed
    );
    if let Some(reason) = &sent.unavailable {
        crate::say!("The mail server could not be used ({reason}); the rest wait for the next sending.");
    }
}
