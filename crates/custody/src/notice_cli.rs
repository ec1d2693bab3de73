//! `custody notice …` and `custody notify …`: telling people, on the command line.

use custody_core::IncidentId;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use custody_app::Ledger;
use custody_app::notices::notify::{self, Audience, NotifyOptions};
use custody_app::notices::notify_run::{Progress, RunOptions};
use custody_mail::SmtpConfig;

use crate::cli::open;
use crate::output;

/// Notice commands.
#[derive(Debug, Subcommand)]
pub enum NoticeCommand {
    /// The notice exactly as a person will receive it: subject, text and HTML.
    Preview {
        /// Incident id.
        id: IncidentId,
        /// The person (default: the first affected person with an email address).
        #[arg(long)]
        person: Option<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// The public statement for the website, from the same facts.
    Public {
        /// Incident id.
        id: IncidentId,
        /// md or html.
        #[arg(long, default_value = "md", value_parser = ["md", "html"])]
        format: String,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// `custody notify ID …` or `custody notify status ID`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct NotifyArgs {
    #[command(subcommand)]
    command: Option<NotifyCommand>,
    /// Incident id.
    id: Option<IncidentId>,
    /// affected (default), all-current, or a CSV file with a ref column.
    #[arg(long, default_value = "affected")]
    audience: String,
    /// Messages per second at most.
    #[arg(long)]
    rate: Option<f64>,
    /// Connections to the mail server at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    concurrency: u16,
    /// Count and check; queue and send nothing.
    #[arg(long)]
    dry_run: bool,
    /// Send again the notices that failed in earlier runs.
    #[arg(long)]
    retry_failed: bool,
    /// JSON output.
    #[arg(long)]
    json: bool,
}

/// `custody notify status` and `custody notify letters`.
#[derive(Debug, Subcommand)]
enum NotifyCommand {
    /// Counts per state, the failures, and who needs a letter.
    Status {
        /// Incident id.
        id: IncidentId,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Print-ready letters (one PDF, A4, one letter per person, for a DL window envelope) for the
    /// people who cannot be emailed; or, with --posted-at, record that the batch was posted.
    Letters {
        /// Incident id.
        id: IncidentId,
        /// The PDF to write.
        #[arg(long, required_unless_present = "posted_at", conflicts_with = "posted_at")]
        out: Option<PathBuf>,
        /// Letters for this audience instead (affected, all-current, or a CSV file with a ref
        /// column): everyone in it with a postal address, emailed or not.
        #[arg(long)]
        audience: Option<String>,
        /// Record a printed batch as posted at this time.
        #[arg(long)]
        posted_at: Option<String>,
        /// With --posted-at: the batch (the SHA-256 `--out` printed); by default the latest
        /// batch printed.
        #[arg(long, requires = "posted_at")]
        batch: Option<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

/// The mail server from the settings and `CUSTODY_SMTP_*`, if one is named.
pub fn smtp_config(ledger: &Ledger) -> anyhow::Result<Option<SmtpConfig>> {
    Ok(custody_app::notices::notify_run::smtp_config(ledger)?)
}

/// The mail server for the demo's notices, from `CUSTODY_SMTP_*` alone (there are no settings yet).
pub fn demo_smtp() -> anyhow::Result<Option<SmtpConfig>> {
    let env = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    if env("CUSTODY_SMTP_HOST").is_none() {
        return Ok(None);
    }
    Ok(Some(SmtpConfig::resolve(
        None,
        &env,
        "Example Democratic Party <dpo@party.example.org>",
    )?))
}

/// Retry pacing from `CUSTODY_SMTP_RETRY_SECONDS` (default 60) and `CUSTODY_SMTP_MAX_ATTEMPTS` (5).
fn run_options(args: &NotifyArgs) -> anyhow::Result<RunOptions> {
    Ok(RunOptions::from_env(
        usize::from(args.concurrency),
        args.rate,
        args.retry_failed,
    )?)
}

fn show_progress(progress: &Progress) {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return;
    }
    let left = progress
        .eta_seconds
        .map_or_else(|| "—".to_owned(), |seconds| format!("{seconds:.0} s left"));
    eprint!(
        "\rsent {} · failed {} · retrying {} · remaining {} · {:.0}/s · {left}      ",
        progress.sent, progress.failed, progress.retrying, progress.remaining, progress.rate
    );
}

/// Runs a notice command.
pub fn notice(dir: Option<PathBuf>, command: NoticeCommand) -> anyhow::Result<ExitCode> {
    match command {
        NoticeCommand::Preview { id, person, json } => {
            let mut ledger = open(dir)?;
            let (reference, text) = notify::preview(&mut ledger, id, person.as_deref())?;
            if json {
                output::json(&serde_json::json!({ "ref": reference, "subject": text.subject,
                    "text": text.text, "html": text.html }))?;
            } else {
                crate::say!(
                    "To: {reference}\nSubject: {}\n\n{}\n--- HTML ---\n{}",
                    text.subject,
                    text.text,
                    text.html
                );
            }
        }
        NoticeCommand::Public { id, format, out } => {
            let ledger = open(dir)?;
            let text = notify::public_statement(&ledger, id, format == "html")?;
            match out {
                Some(path) => {
                    custody_app::files::write_output(&path, text.as_bytes())
                        .map_err(|error| anyhow::anyhow!("{}: {error}", path.display()))?;
                    crate::say!("Wrote the public statement to {}.", path.display());
                }
                None => crate::say_raw!("{text}"),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `custody notify`.
pub fn notify_command(dir: Option<PathBuf>, args: NotifyArgs) -> anyhow::Result<ExitCode> {
    if let Some(NotifyCommand::Status { id, json }) = args.command {
        let ledger = open(dir)?;
        let status = notify::status(&ledger, id)?;
        if json {
            output::json(&status)?;
        } else {
            let rows: Vec<Vec<String>> = status
                .counts
                .iter()
                .map(|(state, count)| vec![(*state).to_owned(), count.to_string()])
                .collect();
            output::table(&["state", "messages"], &rows);
            for failure in &status.failures {
                crate::say!(
                    "failed: {} after {} attempt(s): {}",
                    failure.refs.join(", "),
                    failure.attempts,
                    failure.reply.as_deref().unwrap_or("")
                );
            }
            if !status.letters.is_empty() {
                crate::say!(
                    "{} people need a letter: {} printed, {} posted (`custody notify letters {id} --out FILE.pdf`).",
                    status.letters.len(),
                    status.letters_printed,
                    status.letters_posted
                );
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(NotifyCommand::Letters {
        id,
        out,
        audience,
        posted_at,
        batch,
        json,
    }) = args.command
    {
        return letters_command(dir, id, out, audience, (posted_at, batch), json);
    }
    let Some(id) = args.id else {
        anyhow::bail!("give the incident: custody notify ID (or custody notify status ID)");
    };
    let mut ledger = open(dir)?;
    let options = NotifyOptions {
        audience: Audience::parse(&args.audience),
        dry_run: args.dry_run,
        run: run_options(&args)?,
    };
    let config = if args.dry_run { None } else { smtp_config(&ledger)? };
    let report = notify::notify(&mut ledger, id, &options, config, &mut show_progress)?;
    if report.run.is_some() {
        use std::io::IsTerminal;
        if std::io::stderr().is_terminal() {
            eprintln!();
        }
    }
    if args.json {
        output::json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    let queued = &report.queued;
    crate::say!(
        "Audience {}: {} people, {} messages ({} newly queued, {} queued before); {} share an address; {} \
         canaries left out.",
        queued.audience,
        queued.people,
        queued.messages,
        queued.added,
        queued.already_queued,
        queued.sharing_an_address,
        queued.canaries_left_out
    );
    if !queued.letters.is_empty() {
        crate::say!(
            "{} people have no email address and need a letter (`custody notify status {id} --json` lists them).",
            queued.letters.len()
        );
    }
    if let Some(run) = &report.run {
        let progress = &run.progress;
        crate::say!(
            "Run {}: {} sent, {} failed in {:.1} s ({:.0}/s). Outbox: {}.",
            run.run,
            progress.sent,
            progress.failed,
            progress.elapsed,
            progress.rate,
            run.outbox
                .iter()
                .map(|(state, count)| format!("{state} {count}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if run.people_notified_recorded {
            crate::say!("Recorded \"people notified\" on incident {id}.");
        }
    } else {
        crate::say!("Dry run: nothing was queued or sent.");
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `custody notify letters`.
fn letters_command(
    dir: Option<PathBuf>,
    id: IncidentId,
    out: Option<PathBuf>,
    audience: Option<String>,
    (posted_at, batch): (Option<String>, Option<String>),
    json: bool,
) -> anyhow::Result<ExitCode> {
    use custody_app::notices::letters;
    let mut ledger = open(dir)?;
    if let Some(at) = posted_at {
        let at = crate::cli::instant(&ledger, &at, "--posted-at")?;
        let report = custody_app::notices::letter_posting::posted(&mut ledger, id, at, batch.as_deref())?;
        if json {
            output::json(&report)?;
        } else {
            crate::say!(
                "Recorded {} letters of batch {} as posted at {}.",
                report.letters,
                report.batch,
                at.local(&ledger.zone)
            );
            match &report.people_notified_not_recorded {
                None => crate::say!("Recorded \"people notified\" on incident {id}."),
                Some(why) => crate::say!("\"People notified\" was not recorded now: {why}."),
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let Some(out) = out else {
        anyhow::bail!("give --out FILE.pdf for the letters, or --posted-at TIME once they are posted");
    };
    let audience = audience.as_deref().map(Audience::parse);
    let report = letters::letters(&mut ledger, id, audience.as_ref(), &out)?;
    if json {
        output::json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    crate::say!(
        "Wrote {} letters ({} pages with the print house's summary page; {} longer than a page) to {}.",
        report.letters,
        report.pages,
        report.longer_than_one_page,
        out.display()
    );
    crate::say!("Batch (SHA-256) {}", report.sha256);
    if !report.address_shortened.is_empty() {
        crate::say!(
            "{} addresses did not fit the window in full and were cut; check these letters before posting: {}",
            report.address_shortened.len(),
            report
                .address_shortened
                .iter()
                .take(20)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if report.posted_before > 0 {
        crate::say!(
            "{} people were posted a letter before and are not in this batch.",
            report.posted_before
        );
    }
    if !report.without_address.is_empty() {
        crate::say!(
            "{} people need a letter but have no postal address custody can use: {}",
            report.without_address.len(),
            report
                .without_address
                .iter()
                .take(20)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        );
        if report.without_address.len() > 20 {
            crate::say!("(`--json` lists them all.)");
        }
    }
    crate::say!(
        "Once the batch is posted: custody notify letters {id} --posted-at TIME --batch {}",
        report.sha256
    );
    Ok(ExitCode::SUCCESS)
}
