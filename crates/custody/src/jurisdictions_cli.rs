//! `custody jurisdictions [--json]` and `custody jurisdictions import FILE`: the rules of who
//! must be told of a breach, by when and with what, with their sources.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use custody_app::breach::jurisdictions::{self, Deadline, DeadlineFrom, Obligation};

use crate::cli::open;
use crate::output;

/// The jurisdictions command.
#[derive(Debug, Args)]
pub struct JurisdictionsArgs {
    #[command(subcommand)]
    command: Option<JurisdictionsCommand>,
    /// JSON output (the list).
    #[arg(long)]
    json: bool,
}

/// What to do with the rules.
#[derive(Debug, Subcommand)]
pub enum JurisdictionsCommand {
    /// Replace the rules with a file in the same format (checked whole first; audited).
    Import {
        /// The file.
        file: PathBuf,
    },
}

/// Runs a jurisdictions command.
pub fn run(dir: Option<PathBuf>, args: JurisdictionsArgs) -> anyhow::Result<ExitCode> {
    let mut ledger = open(dir)?;
    match args.command {
        None => {
            let rules = jurisdictions::for_ledger(&ledger)?;
            if args.json {
                output::json(&rules)?;
            } else {
                crate::say!("Rules: {} (SHA-256 {})", rules.origin, rules.sha256);
                for jurisdiction in &rules.jurisdictions {
                    crate::say!(
                        "\n{} {} — {} (checked {})",
                        jurisdiction.code,
                        jurisdiction.name,
                        jurisdiction.law,
                        jurisdiction.checked
                    );
                    for regulator in &jurisdiction.regulators {
                        crate::say!(
                            "  tell {}: {} — {}",
                            regulator.short,
                            regulator.name,
                            regulator.contact
                        );
                    }
                    for rule in &jurisdiction.obligations {
                        crate::say!("  {}", describe(rule));
                    }
                }
            }
        }
        Some(JurisdictionsCommand::Import { file }) => {
            let imported = jurisdictions::import(&mut ledger, &file)?;
            crate::say!(
                "Jurisdiction rules replaced: {} jurisdictions, {} obligations (SHA-256 {}; replaced {}).",
                imported.jurisdictions,
                imported.obligations,
                imported.sha256,
                imported.replaced
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One line of an obligation: whom, when, by when, under which law.
fn describe(rule: &Obligation) -> String {
    let to = match rule.to {
        jurisdictions::Recipient::Regulator => "the regulator",
        jurisdictions::Recipient::Individuals => "the people affected",
        jurisdictions::Recipient::AttorneyGeneral => "the attorney general",
        jurisdictions::Recipient::ConsumerReportingAgencies => "the consumer reporting agencies",
        jurisdictions::Recipient::OtherAuthority => "another authority",
    };
    let to = match &rule.regulator {
        Some(short) => format!("{to} ({short})"),
        None => to.to_owned(),
    };
    let threshold = match rule.threshold {
        jurisdictions::Threshold::Any => "any breach",
        jurisdictions::Threshold::Risk => "unless unlikely to be a risk",
        jurisdictions::Threshold::HighRisk => "if likely to be a high risk",
        jurisdictions::Threshold::RealRiskOfSignificantHarm => "if a real risk of significant harm",
        jurisdictions::Threshold::SeriousHarm => "if likely to cause serious harm",
    };
    let residents = if rule.residents_at_least > 1 {
        format!(", at {} residents or more", rule.residents_at_least)
    } else {
        String::new()
    };
    let by = match (rule.deadline, rule.without_undue_delay) {
        (Some(deadline), true) => format!("without undue delay, at most {}", period(deadline)),
        (Some(deadline), false) => format!("within {}", period(deadline)),
        (None, _) => "without undue delay".to_owned(),
    };
    let variant = rule
        .variant
        .as_ref()
        .map(|variant| format!(" [only with {variant}]"))
        .unwrap_or_default();
    let unverified = if rule.verified {
        ""
    } else {
        " (partly from secondary sources)"
    };
    format!(
        "{}: tell {to} {threshold}{residents}, {by} — {}{variant}{unverified}",
        rule.id, rule.citation
    )
}

fn period(deadline: Deadline) -> String {
    let amount = match (deadline.hours, deadline.days) {
        (Some(hours), _) => format!("{hours} hours"),
        (None, Some(days)) => format!("{days} days"),
        (None, None) => String::new(),
    };
    let from = match deadline.from {
        DeadlineFrom::Awareness => "of becoming aware",
        DeadlineFrom::Discovery => "of discovery",
        DeadlineFrom::Determination => "of determining it is notifiable",
        DeadlineFrom::IndividualNotice => "of telling the people",
    };
    if matches!(deadline.from, DeadlineFrom::IndividualNotice) && amount == "0 days" {
        "no later than telling the people".to_owned()
    } else {
        format!("{amount} {from}")
    }
}
