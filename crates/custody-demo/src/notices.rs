//! The demo's notices: how many people the incident's notices would reach, in how many messages,
//! and who needs a letter; and, when a mail server is configured (`CUSTODY_SMTP_HOST` and the
//! other `CUSTODY_SMTP_*` variables), the notices sent to it through the outbox.

use custody_core::IncidentId;
use std::path::Path;

use serde::Serialize;

use custody_mail::SmtpConfig;

use custody_app::Ledger;
use custody_app::Result;
use custody_app::clock::SystemClock;
use custody_app::notices::notify::{Audience, NotifyOptions, notify};
use custody_app::notices::notify_run::RunOptions;

/// What the demo did about notices.
#[derive(Debug, Clone, Serialize)]
pub struct DemoNotices {
    /// People to tell.
    pub people: u64,
    /// Messages (one per address).
    pub messages: u64,
    /// People without an address, for a letter.
    pub letters: usize,
    /// Canaries left out.
    pub canaries_left_out: u64,
    /// Messages the mail server accepted, when one was configured.
    pub sent: Option<u64>,
    /// Seconds the sending took.
    pub seconds: Option<f64>,
}

/// Counts the notices of incident `id`, and sends them when `smtp` is given.
pub fn run(dir: &Path, actor: &str, id: IncidentId, smtp: Option<SmtpConfig>) -> Result<DemoNotices> {
    // Sending waits for real time to pass (retries): a ledger on the system clock.
    let mut ledger = Ledger::open(dir, Box::new(SystemClock), actor)?;
    let options = NotifyOptions {
        audience: Audience::Affected,
        dry_run: smtp.is_none(),
        run: RunOptions::default(),
    };
    let report = notify(&mut ledger, id, &options, smtp, &mut |_| {})?;
    Ok(DemoNotices {
        people: report.queued.people,
        messages: report.queued.messages,
        letters: report.queued.letters.len(),
        canaries_left_out: report.queued.canaries_left_out,
        sent: report.run.as_ref().map(|run| run.progress.sent),
        seconds: report.run.as_ref().map(|run| run.progress.elapsed),
    })
}

/// The notices in words.
pub fn to_text(notices: &DemoNotices, dir: &str) -> String {
    let mut out = format!(
        "\nNotices: {} people to tell in {} messages ({} without an email address need a letter; {} canaries left \
         out).\n",
        notices.people, notices.messages, notices.letters, notices.canaries_left_out
    );
    match (notices.sent, notices.seconds) {
        (Some(sent), Some(seconds)) => out.push_str(&format!(
            "Sent {sent} notices to the configured mail server in {seconds:.0} s.\n"
        )),
        _ => out.push_str(
            "No mail server configured: set CUSTODY_SMTP_HOST, CUSTODY_SMTP_PORT, CUSTODY_SMTP_TLS (and \
             CUSTODY_SMTP_FROM) to send them.\n",
        ),
    }
    out.push_str(&format!("Try: custody --dir {dir} notice preview 1\n"));
    out.push_str(&format!(
        "     custody --dir {dir} notice public 1 --format html --out statement.html\n"
    ));
    out.push_str(&format!(
        "     custody --dir {dir} notify letters 1 --out letters.pdf   # a letter each for those without email\n"
    ));
    out
}
