//! The outbox worker: claims due notices (committed as `sending` before any is handed to the mail
//! server), renders each, hands it to the SMTP sender, and records every answer as it comes:
//! accepted → sent; 4xx or a dropped connection → retry after a backoff (failed after the last
//! attempt); 5xx → failed with the server's reply. A worker never starts a message while the
//! answer to its previous one is unrecorded, so a kill at any moment leaves at most
//! `concurrency` notices accepted but not recorded: the only ones a rerun may send twice.

use std::collections::VecDeque;
use std::time::Duration;

use serde::Serialize;

use custody_core::Instant;
use custody_mail::{Delivery, Job, Notice, Sender, SmtpConfig, Templates};
use custody_store::{OutboxMessage, OutboxState, OutboxUpdate, Store};

use crate::dir::Ledger;
use crate::error::{Error, Result};
use crate::notice_model::NoticeContext;
use crate::notify::open_contact;

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
    pub run: i64,
    /// The final progress.
    pub progress: Progress,
    /// Counts per state in the outbox after the run.
    pub outbox: std::collections::BTreeMap<&'static str, u64>,
    /// Whether this run recorded "people notified" on the incident.
    pub people_notified_recorded: bool,
}

/// Renders and builds one claimed message.
fn job(
    ledger: &Ledger,
    context: &NoticeContext,
    templates: &Templates,
    from: &str,
    message: &OutboxMessage,
) -> Result<Job> {
    let address = ledger
        .vault
        .open(&message.recipient, message.message_id.as_bytes())?;
    let address = String::from_utf8(address).map_err(|error| Error::Invalid(error.to_string()))?;
    let mut parts = Vec::with_capacity(message.people.len());
    for id in &message.people {
        if let Some(person) = ledger.store.person(*id)? {
            let first_name = open_contact(ledger, &person)?.and_then(|contact| contact.first_name);
            parts.push(context.person_part(&person, first_name));
        }
    }
    let text = templates.notice(&context.model(parts))?;
    let notice = Notice {
        message_id: message.message_id.clone(),
        to: address,
        subject: text.subject,
        text: text.text,
        html: text.html,
    };
    let (envelope, bytes) = custody_mail::build(from, &notice, ledger.now().unix_seconds())?;
    Ok(Job {
        id: message.id,
        envelope,
        bytes,
    })
}

/// Paces submissions to a rate.
struct Pace {
    interval: Option<Duration>,
    next: std::time::Instant,
}

impl Pace {
    fn new(rate: Option<f64>) -> Self {
        Pace {
            interval: rate
                .filter(|rate| *rate > 0.0)
                .map(|rate| Duration::from_secs_f64(1.0 / rate)),
            next: std::time::Instant::now(),
        }
    }

    /// Waits for the next slot.
    fn wait(&mut self) {
        let Some(interval) = self.interval else { return };
        let now = std::time::Instant::now();
        if self.next > now {
            std::thread::sleep(self.next - now);
        }
        self.next = self.next.max(now) + interval;
    }
}

/// The update for a delivery of a message tried `attempts` times.
fn update(ledger: &Ledger, options: &RunOptions, attempts: u32, delivery: Delivery) -> OutboxUpdate {
    match delivery {
        Delivery::Accepted(reply) => OutboxUpdate::Sent(ledger.now(), reply),
        Delivery::Permanent(reply) => OutboxUpdate::Failed(reply),
        Delivery::Temporary(reply) if attempts >= options.max_attempts => {
            OutboxUpdate::Failed(format!("gave up after {attempts} attempts: {reply}"))
        }
        Delivery::Temporary(reply) => {
            let factor = 2_u32.saturating_pow(attempts.saturating_sub(1)).min(64);
            let wait = options.retry_base.saturating_mul(factor).as_secs().max(1);
            let wait = i64::try_from(wait).unwrap_or(i64::MAX);
            let at = Instant::from_unix_seconds(ledger.now().unix_seconds().saturating_add(wait))
                .unwrap_or(ledger.now());
            OutboxUpdate::Retry(at, reply)
        }
    }
}

/// Counts per state.
pub fn outbox_counts(
    ledger: &Ledger,
    incident: i64,
) -> Result<std::collections::BTreeMap<&'static str, u64>> {
    let mut counts: std::collections::BTreeMap<&'static str, u64> = [
        OutboxState::Queued,
        OutboxState::Sending,
        OutboxState::Sent,
        OutboxState::Failed,
        OutboxState::Retry,
    ]
    .into_iter()
    .map(|state| (state.as_str(), 0))
    .collect();
    for (state, count) in ledger.store.outbox_counts(incident)? {
        counts.insert(state.as_str(), count);
    }
    Ok(counts)
}

/// Sends every due notice of an incident: the loop described at the top of this file.
pub fn send(
    ledger: &mut Ledger,
    context: &NoticeContext,
    run: i64,
    config: SmtpConfig,
    options: &RunOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Progress> {
    let templates = Templates::load(Some(&ledger.dir.join("templates")))?;
    let from = config.from.clone();
    let counts = outbox_counts(ledger, context.incident)?;
    let mut state = Progress {
        remaining: counts
            .iter()
            .filter(|(name, _)| **name != "sent" && **name != "failed")
            .map(|(_, n)| n)
            .sum::<u64>()
            + if options.retry_failed {
                counts.get("failed").copied().unwrap_or(0)
            } else {
                0
            },
        ..Progress::default()
    };
    let concurrency = options.concurrency.clamp(1, 64);
    let sender = Sender::start(config, concurrency)?;
    ledger.store.set_relaxed_durability(true)?;
    let started = std::time::Instant::now();
    let mut shown = started;
    let mut pending: VecDeque<OutboxMessage> = VecDeque::new();
    let mut attempts: std::collections::HashMap<i64, u32> = std::collections::HashMap::new();
    let mut in_flight = 0_usize;
    let mut pace = Pace::new(options.rate);
    let result = (|| -> Result<()> {
        loop {
            if pending.is_empty() {
                let claimed = ledger.store.claim_notices(
                    context.incident,
                    run,
                    ledger.now(),
                    256,
                    options.retry_failed,
                )?;
                pending.extend(claimed);
            }
            while in_flight < concurrency {
                let Some(message) = pending.pop_front() else { break };
                match job(ledger, context, &templates, &from, &message) {
                    Ok(job) => {
                        pace.wait();
                        attempts.insert(message.id, message.attempts);
                        sender.submit(job)?;
                        in_flight += 1;
                    }
                    Err(error) => {
                        // A message that cannot be built will never be: failed, with why.
                        ledger
                            .store
                            .record_deliveries(&[(message.id, OutboxUpdate::Failed(error.to_string()))])?;
                        state.failed += 1;
                        state.remaining = state.remaining.saturating_sub(1);
                    }
                }
            }
            if in_flight == 0 && pending.is_empty() {
                let (next_retry, _) = ledger.store.outbox_times(context.incident)?;
                match next_retry {
                    Some(at) => {
                        state.retrying = outbox_counts(ledger, context.incident)?
                            .get("retry")
                            .copied()
                            .unwrap_or(0);
                        let wait = (at.unix_seconds() - ledger.now().unix_seconds()).clamp(0, 1);
                        std::thread::sleep(Duration::from_millis(
                            u64::try_from(wait).unwrap_or(1) * 1000 + 50,
                        ));
                        report(&mut state, started, &mut shown, progress, true);
                        continue;
                    }
                    None => break,
                }
            }
            let mut updates = Vec::new();
            if let Some(outcome) = sender.next_outcome(Duration::from_millis(200)) {
                updates.push(outcome);
                while let Some(outcome) = sender.ready_outcome() {
                    updates.push(outcome);
                }
            }
            if updates.is_empty() {
                report(&mut state, started, &mut shown, progress, false);
                continue;
            }
            let records: Vec<(i64, OutboxUpdate)> = updates
                .into_iter()
                .map(|outcome| {
                    let tries = attempts.remove(&outcome.id).unwrap_or(1);
                    (outcome.id, update(ledger, options, tries, outcome.delivery))
                })
                .collect();
            ledger.store.record_deliveries(&records)?;
            in_flight -= records.len().min(in_flight);
            for (_, record) in &records {
                match record {
                    OutboxUpdate::Sent(..) => {
                        state.sent += 1;
                        state.remaining = state.remaining.saturating_sub(1);
                    }
                    OutboxUpdate::Failed(_) => {
                        state.failed += 1;
                        state.remaining = state.remaining.saturating_sub(1);
                    }
                    OutboxUpdate::Retry(..) => {}
                }
            }
            report(&mut state, started, &mut shown, progress, false);
        }
        Ok(())
    })();
    sender.finish();
    ledger.store.set_relaxed_durability(false)?;
    result?;
    state.retrying = 0;
    report(&mut state, started, &mut shown, progress, true);
    Ok(state)
}

fn report(
    state: &mut Progress,
    started: std::time::Instant,
    shown: &mut std::time::Instant,
    progress: &mut dyn FnMut(&Progress),
    force: bool,
) {
    if !force && shown.elapsed() < Duration::from_millis(250) {
        return;
    }
    *shown = std::time::Instant::now();
    state.elapsed = started.elapsed().as_secs_f64();
    state.rate = if state.elapsed > 0.0 {
        (state.sent + state.failed) as f64 / state.elapsed
    } else {
        0.0
    };
    state.eta_seconds = (state.rate > 0.0).then(|| state.remaining as f64 / state.rate);
    progress(state);
}
