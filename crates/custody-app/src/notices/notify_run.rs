//! The outbox worker's pieces: options, progress, rendering a claimed notice into a message, and
//! turning the mail server's answer into the outbox's next state. The loop itself is
//! `notify_loop`.

use custody_core::{EventId, IncidentId};
use std::collections::HashMap;
use std::time::Duration;

use serde::Serialize;

use custody_core::{Instant, PersonId};
use custody_mail::{Delivery, Job, Notice, Templates};
use custody_store::{OutboxMessage, OutboxState, OutboxUpdate, PersonRecord};

use crate::dir::Ledger;
use crate::error::{Error, Result};
use crate::notices::notice_model::NoticeContext;
use crate::notices::notify::open_contact;

pub use crate::notices::notify_loop::send;

/// How a run sends.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Connections at once.
    pub concurrency: usize,
    /// Messages per second at most.
    pub rate: Option<f64>,
    /// Send again what failed in earlier runs.
    pub retry_failed: bool,
    /// Wait before the first retry; doubled each time.
    pub retry_base: Duration,
    /// Attempts before a message is given up on.
    pub max_attempts: u32,
}

impl RunOptions {
    /// Options with the retry pacing from `CUSTODY_SMTP_RETRY_SECONDS` (default 60, 1 to 3,600)
    /// and `CUSTODY_SMTP_MAX_ATTEMPTS` (default 5, 1 to 20).
    pub fn from_env(concurrency: usize, rate: Option<f64>, retry_failed: bool) -> Result<Self> {
        let number = |name: &str, default: u64| -> Result<u64> {
            match std::env::var(name).ok().filter(|text| !text.trim().is_empty()) {
                Some(text) => text
                    .trim()
                    .parse()
                    .map_err(|_| Error::Invalid(format!("{name} {text:?} is not a whole number"))),
                None => Ok(default),
            }
        };
        if rate.is_some_and(|rate| rate <= 0.0 || !rate.is_finite()) {
            return Err(Error::Invalid(
                "--rate must be a positive number of messages per second".to_owned(),
            ));
        }
        Ok(RunOptions {
            concurrency,
            rate,
            retry_failed,
            retry_base: Duration::from_secs(number("CUSTODY_SMTP_RETRY_SECONDS", 60)?.clamp(1, 3600)),
            max_attempts: u32::try_from(number("CUSTODY_SMTP_MAX_ATTEMPTS", 5)?.clamp(1, 20)).unwrap_or(5),
        })
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            concurrency: 4,
            rate: None,
            retry_failed: false,
            retry_base: Duration::from_secs(60),
            max_attempts: 5,
        }
    }
}

/// Where a run stands, for a progress bar.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Progress {
    /// Accepted in this run.
    pub sent: u64,
    /// Failed for good in this run.
    pub failed: u64,
    /// Waiting for a retry.
    pub retrying: u64,
    /// Not yet accepted or failed.
    pub remaining: u64,
    /// Messages a second, this run.
    pub rate: f64,
    /// Seconds left at this rate.
    pub eta_seconds: Option<f64>,
    /// Seconds so far.
    pub elapsed: f64,
}

/// What a run did.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The run's id (its timeline entry).
    pub run: EventId,
    /// The final progress.
    pub progress: Progress,
    /// Counts per state in the outbox after the run.
    pub outbox: std::collections::BTreeMap<&'static str, u64>,
    /// Whether this run recorded "people notified" on the incident.
    pub people_notified_recorded: bool,
    /// Why it did not, when it did not.
    pub people_notified_not_recorded: Option<String>,
}

/// The people of a batch of claimed messages with their first names, read in one range scan.
pub(crate) fn people_of(
    ledger: &Ledger,
    messages: &[OutboxMessage],
) -> Result<HashMap<PersonId, (PersonRecord, Option<String>)>> {
    let set: custody_core::PersonSet = messages
        .iter()
        .flat_map(|message| message.people.iter().copied())
        .collect();
    let mut out = HashMap::with_capacity(set.len() as usize);
    let mut failure = None;
    let span = match (set.min(), set.max()) {
        (Some(first), Some(last)) => u64::from(last - first) + 1,
        _ => 0,
    };
    if span > 16 * set.len() {
        // Scattered people (retries, later additions): one lookup each beats a long range scan.
        for id in &set {
            if let Some(person) = ledger.store.person(id)? {
                let first_name = open_contact(ledger, &person)?.and_then(|contact| contact.first_name);
                out.insert(id, (person, first_name));
            }
        }
        return Ok(out);
    }
    ledger.store.each_person(&set, &mut |person| {
        match open_contact(ledger, &person) {
            Ok(contact) => {
                let first_name = contact.and_then(|contact| contact.first_name);
                out.insert(person.id, (person, first_name));
            }
            Err(error) => failure = Some(error),
        }
        Ok(())
    })?;
    match failure {
        Some(error) => Err(error),
        None => Ok(out),
    }
}

/// A claimed notice as a message; `Ok(Err(reason))` when this message can never be built (the
/// address is not one the mail server can take), an error when nothing can be (a template, keys).
pub(crate) fn job(
    ledger: &Ledger,
    context: &NoticeContext,
    templates: &Templates,
    from: &str,
    message: &OutboxMessage,
    people: &HashMap<PersonId, (PersonRecord, Option<String>)>,
) -> Result<std::result::Result<Job, String>> {
    let address = ledger
        .vault
        .open(&message.recipient, message.message_id.as_bytes())?;
    let address = String::from_utf8(address).map_err(|error| Error::Invalid(error.to_string()))?;
    let mut parts = Vec::with_capacity(message.people.len());
    for id in &message.people {
        let (person, first_name) = people.get(id).ok_or_else(|| {
            Error::NotFound(format!(
                "person {id} of notice {} is not in the ledger",
                message.id
            ))
        })?;
        parts.push(context.person_part(person, first_name.clone()));
    }
    let text = context.model(parts).render(templates)?;
    let notice = Notice {
        message_id: message.message_id.clone(),
        to: address,
        subject: text.subject,
        text: text.text,
        html: text.html,
    };
    match custody_mail::build(from, &notice, ledger.now().unix_seconds()) {
        Ok((envelope, bytes)) => Ok(Ok(Job {
            id: message.id.get(),
            envelope,
            bytes,
        })),
        Err(custody_mail::Error::Message(_)) => Ok(Err(
            "the mail server cannot be given this address; send a letter".to_owned(),
        )),
        Err(error) => Err(error.into()),
    }
}

/// A server's reply with any address in it masked: replies are kept and shown, addresses are not.
pub(crate) fn masked(reply: &str) -> String {
    reply
        .split(' ')
        .map(|word| if word.contains('@') { "[address]" } else { word })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The next state of a message tried for the `attempt`th time.
pub(crate) fn update(
    ledger: &Ledger,
    options: &RunOptions,
    attempt: u32,
    delivery: Delivery,
) -> OutboxUpdate {
    match delivery {
        Delivery::Accepted(reply) => OutboxUpdate::Sent(ledger.now(), masked(&reply)),
        Delivery::Permanent(reply) => OutboxUpdate::Failed(masked(&reply)),
        Delivery::Unavailable(_) => OutboxUpdate::Requeue,
        Delivery::Temporary(reply) if attempt >= options.max_attempts => {
            OutboxUpdate::Failed(format!("gave up after {attempt} attempts: {}", masked(&reply)))
        }
        Delivery::Temporary(reply) => {
            let factor = 2_u32.saturating_pow(attempt.saturating_sub(1)).min(64);
            let wait = options.retry_base.saturating_mul(factor).as_secs().max(1);
            let wait = i64::try_from(wait).unwrap_or(i64::MAX);
            let at = Instant::from_unix_seconds(ledger.now().unix_seconds().saturating_add(wait))
                .unwrap_or(ledger.now());
            OutboxUpdate::Retry(at, masked(&reply))
        }
    }
}

/// Counts per state.
pub fn outbox_counts(
    ledger: &Ledger,
    incident: IncidentId,
) -> Result<std::collections::BTreeMap<&'static str, u64>> {
    let mut counts: std::collections::BTreeMap<&'static str, u64> = OutboxState::ALL
        .into_iter()
        .map(|state| (state.as_str(), 0))
        .collect();
    for (state, count) in ledger.store.outbox_counts(incident)? {
        counts.insert(state.as_str(), count);
    }
    Ok(counts)
}

/// The mail server from the settings and `CUSTODY_SMTP_*` (each variable overriding its
/// setting; the password only ever from `CUSTODY_SMTP_PASSWORD`), if one is named.
pub fn smtp_config(ledger: &Ledger) -> Result<Option<custody_mail::SmtpConfig>> {
    let env = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    let named = env("CUSTODY_SMTP_HOST").is_some()
        || ledger
            .settings
            .smtp
            .as_ref()
            .is_some_and(|smtp| smtp.host.is_some());
    if !named {
        return Ok(None);
    }
    let default_from = format!("{} <{}>", ledger.settings.organisation, ledger.settings.dpo.email);
    Ok(Some(custody_mail::SmtpConfig::resolve(
        ledger.settings.smtp.as_ref(),
        &env,
        &default_from,
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_in_replies_are_masked() {
        assert_eq!(
            masked("550 5.1.1 <zoe@example.org>: Recipient address rejected"),
            "550 5.1.1 [address] Recipient address rejected"
        );
        assert_eq!(
            masked("250 2.0.0 Ok: queued as 4F2"),
            "250 2.0.0 Ok: queued as 4F2"
        );
    }
}
