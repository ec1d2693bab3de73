//! The outbox worker's loop. It claims due notices (committed as `sending` before any is handed
//! to the mail server), renders them a few ahead, hands each to a free connection, and records
//! every answer as it comes: accepted → sent; 4xx or a dropped connection → retry after a
//! backoff (failed after the last attempt); 5xx → failed with the server's reply (addresses
//! masked); server unreachable → queued again, no attempt counted. A connection is given its
//! next message only once the answer to its previous one is recorded, so a kill at any moment
//! leaves at most `concurrency` notices accepted but unrecorded: the only ones a rerun may send
//! twice. One run at a time (a lock file in the data directory).

use custody_core::EventId;
use custody_core::MessageId;
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use custody_core::PersonId;
use custody_mail::{Job, Sender, SmtpConfig, Templates};
use custody_store::{OutboxMessage, OutboxUpdate, PersonRecord};

use crate::dir::Ledger;
use crate::error::{Error, Result};
use crate::notices::notice_model::NoticeContext;
use crate::notices::notify_run::{Progress, RunOptions, job, outbox_counts, people_of, update};

/// Paces submissions to a rate.
struct Pace {
    interval: Option<Duration>,
    next: std::time::Instant,
}

impl Pace {
    fn new(rate: Option<f64>) -> Self {
        Pace {
            interval: rate
                .filter(|rate| rate.is_finite() && *rate > 0.0)
                .map(|rate| Duration::from_secs_f64(1.0 / rate.max(0.01))),
            next: std::time::Instant::now(),
        }
    }

    fn wait(&mut self) {
        let Some(interval) = self.interval else { return };
        let now = std::time::Instant::now();
        if self.next > now {
            std::thread::sleep(self.next - now);
        }
        self.next = self.next.max(now) + interval;
    }
}

/// Consecutive answers that stop a run: the server is down, or refuses everything alike.
const UNAVAILABLE_LIMIT: usize = 3;
const SAME_REFUSAL_LIMIT: u32 = 10;

struct Loop<'a> {
    context: &'a NoticeContext,
    templates: Templates,
    from: String,
    options: &'a RunOptions,
    run: EventId,
    concurrency: usize,
    sender: Sender,
    pending: VecDeque<OutboxMessage>,
    people: HashMap<PersonId, (PersonRecord, Option<String>)>,
    ready: VecDeque<(Job, u32)>,
    /// Handed to the sender, answer not yet recorded: (attempt, when handed over).
    outstanding: HashMap<MessageId, (u32, std::time::Instant)>,
    pace: Pace,
    state: Progress,
    unavailable: usize,
    refusal: (String, u32),
    started: std::time::Instant,
    shown: std::time::Instant,
}

impl Loop<'_> {
    fn render_one(&mut self, ledger: &mut Ledger) -> Result<bool> {
        let Some(message) = self.pending.pop_front() else {
            return Ok(false);
        };
        match job(
            ledger,
            self.context,
            &self.templates,
            &self.from,
            &message,
            &self.people,
        )? {
            Ok(job) => self.ready.push_back((job, message.attempts + 1)),
            Err(reason) => {
                ledger
                    .store
                    .record_deliveries(self.run, &[(message.id, OutboxUpdate::Failed(reason))])?;
                self.state.failed += 1;
                self.state.remaining = self.state.remaining.saturating_sub(1);
            }
        }
        Ok(true)
    }

    fn submit(&mut self) -> Result<()> {
        while self.outstanding.len() < self.concurrency {
            let Some((job, attempt)) = self.ready.pop_front() else {
                break;
            };
            self.pace.wait();
            self.outstanding
                .insert(MessageId::new(job.id), (attempt, std::time::Instant::now()));
            self.sender.submit(job)?;
        }
        Ok(())
    }

    /// Records the answers that have come (waiting up to `wait` for the first).
    fn collect(&mut self, ledger: &mut Ledger, wait: Option<Duration>) -> Result<()> {
        let mut outcomes = Vec::new();
        let first = match wait {
            Some(wait) => self.sender.next_outcome(wait)?,
            None => self.sender.ready_outcome(),
        };
        if let Some(outcome) = first {
            outcomes.push(outcome);
            while let Some(outcome) = self.sender.ready_outcome() {
                outcomes.push(outcome);
            }
        }
        let records: Vec<(MessageId, OutboxUpdate)> = outcomes
            .into_iter()
            .filter_map(|outcome| {
                let (attempt, _) = self.outstanding.get(&MessageId::new(outcome.id)).copied()?;
                Some((
                    MessageId::new(outcome.id),
                    update(ledger, self.options, attempt, outcome.delivery),
                ))
            })
            .collect();
        self.record(ledger, records)
    }

    /// Records updates, then frees their slots (the order the in-flight bound rests on).
    fn record(&mut self, ledger: &mut Ledger, records: Vec<(MessageId, OutboxUpdate)>) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        ledger.store.record_deliveries(self.run, &records)?;
        for (id, record) in records {
            self.outstanding.remove(&id);
            match record {
                OutboxUpdate::Sent(..) => {
                    self.state.sent += 1;
                    self.unavailable = 0;
                    self.refusal = (String::new(), 0);
                }
                OutboxUpdate::Failed(reply) => {
                    self.state.failed += 1;
                    self.unavailable = 0;
                    if self.refusal.0 == reply {
                        self.refusal.1 += 1;
                    } else {
                        self.refusal = (reply, 1);
                    }
                }
                OutboxUpdate::Retry(..) => continue,
                OutboxUpdate::Requeue => {
                    self.unavailable += 1;
                    continue;
                }
            }
            self.state.remaining = self.state.remaining.saturating_sub(1);
        }
        self.check_server()
    }

    /// Stops the run when the server is down or refuses every notice alike.
    fn check_server(&self) -> Result<()> {
        if self.unavailable >= UNAVAILABLE_LIMIT * self.concurrency {
            return Err(Error::Invalid(format!(
                "the mail server is unavailable; nothing is lost (the notices not accepted are queued \
                 again): run `custody notify {}` once it is back",
                self.context.incident
            )));
        }
        if self.state.sent == 0 && self.refusal.1 >= SAME_REFUSAL_LIMIT {
            return Err(Error::Invalid(format!(
                "the mail server refuses every notice ({}); fix the settings, then run `custody notify {} \
                 --retry-failed`",
                self.refusal.0, self.context.incident
            )));
        }
        Ok(())
    }

    /// A notice the sender never answered for, long after every timeout of a delivery (about
    /// 125 s at most; a worker that died), is retried later; its slot is freed.
    fn expire(&mut self, ledger: &mut Ledger) -> Result<()> {
        let deadline = Duration::from_secs(180);
        let late: Vec<(MessageId, OutboxUpdate)> = self
            .outstanding
            .iter()
            .filter(|(_, (_, since))| since.elapsed() > deadline)
            .map(|(id, (attempt, _))| {
                let delivery = custody_mail::Delivery::Temporary("no answer in time".to_owned());
                (*id, update(ledger, self.options, *attempt, delivery))
            })
            .collect();
        self.record(ledger, late)
    }

    fn claim(&self, ledger: &mut Ledger) -> Result<Vec<OutboxMessage>> {
        Ok(ledger.store.claim_notices(
            self.context.incident,
            self.run,
            ledger.now(),
            256,
            self.options.retry_failed,
        )?)
    }

    /// Claims more when nothing is left in hand; `false` when the run is over.
    fn refill(&mut self, ledger: &mut Ledger, progress: &mut dyn FnMut(&Progress)) -> Result<bool> {
        if !self.pending.is_empty() || !self.ready.is_empty() {
            return Ok(true);
        }
        let mut claimed = self.claim(ledger)?;
        if claimed.is_empty() && self.outstanding.is_empty() {
            // Answers still in the journal (retries, requeued notices) become claimable once applied.
            ledger.store.flush_deliveries()?;
            claimed = self.claim(ledger)?;
        }
        if !claimed.is_empty() {
            self.people = people_of(ledger, &claimed)?;
            self.pending.extend(claimed);
            return Ok(true);
        }
        if !self.outstanding.is_empty() {
            return Ok(true);
        }
        if self.unavailable > 0 {
            // Requeued after a failed connection, and nothing else to do: give the server a moment.
            std::thread::sleep(Duration::from_secs(1));
            return Ok(true);
        }
        let (next_retry, _) = ledger.store.outbox_times(self.context.incident)?;
        let Some(at) = next_retry else {
            return Ok(false);
        };
        self.state.retrying = outbox_counts(ledger, self.context.incident)?
            .get("retry")
            .copied()
            .unwrap_or(0);
        let wait = (at.unix_seconds() - ledger.now().unix_seconds()).clamp(0, 1);
        std::thread::sleep(Duration::from_millis(
            u64::try_from(wait).unwrap_or(1) * 1000 + 50,
        ));
        report(&mut self.state, self.started, &mut self.shown, progress, true);
        Ok(true)
    }

    fn step(&mut self, ledger: &mut Ledger, progress: &mut dyn FnMut(&Progress)) -> Result<bool> {
        if !self.refill(ledger, progress)? {
            return Ok(false);
        }
        self.submit()?;
        // Render ahead while the connections work; then record the answers that came meanwhile
        // in one transaction.
        if self.ready.len() < 2 * self.concurrency && self.render_one(ledger)? {
            if self.outstanding.len() == self.concurrency && self.ready.len() >= self.concurrency {
                self.collect(ledger, None)?;
            }
        } else if !self.outstanding.is_empty() {
            self.collect(ledger, Some(Duration::from_millis(200)))?;
        }
        // Answers that came are recorded before anything is given up on as unanswered.
        self.collect(ledger, None)?;
        self.expire(ledger)?;
        report(&mut self.state, self.started, &mut self.shown, progress, false);
        Ok(true)
    }
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

/// Sends every due notice of an incident (see the top of this file).
pub fn send(
    ledger: &mut Ledger,
    context: &NoticeContext,
    run: EventId,
    config: SmtpConfig,
    options: &RunOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Progress> {
    let templates = Templates::load(Some(&ledger.dir.join("templates")))?;
    let counts = outbox_counts(ledger, context.incident)?;
    let waiting: u64 = ["queued", "sending", "retry"]
        .iter()
        .map(|state| counts.get(state).copied().unwrap_or(0))
        .sum();
    let failed = if options.retry_failed {
        counts.get("failed").copied().unwrap_or(0)
    } else {
        0
    };
    let concurrency = options.concurrency.clamp(1, 64);
    let started = std::time::Instant::now();
    let mut state = Loop {
        context,
        templates,
        from: config.from.clone(),
        options,
        run,
        concurrency,
        sender: Sender::start(config, concurrency)?,
        pending: VecDeque::new(),
        people: HashMap::new(),
        ready: VecDeque::new(),
        outstanding: HashMap::new(),
        pace: Pace::new(options.rate),
        state: Progress {
            remaining: waiting + failed,
            ..Progress::default()
        },
        unavailable: 0,
        refusal: (String::new(), 0),
        started,
        shown: started,
    };
    ledger.store.set_relaxed_durability(true)?;
    let result = (|| -> Result<()> {
        while state.step(ledger, progress)? {}
        Ok(())
    })();
    if result.is_err() {
        // Record the answers of the notices already on the wire (for up to 15 s), so that fewer
        // go out again with the next run.
        let until = std::time::Instant::now() + Duration::from_secs(15);
        while !state.outstanding.is_empty() && std::time::Instant::now() < until {
            if state.collect(ledger, Some(Duration::from_millis(200))).is_err() {
                break;
            }
        }
    }
    let Loop {
        sender,
        state: mut done,
        mut shown,
        ..
    } = state;
    // On an error, jobs not yet started are dropped untried; those on the wire stay `sending`
    // and go out with the next run (within the in-flight bound).
    sender.finish();
    let closed = ledger.store.set_relaxed_durability(false);
    result?;
    closed?;
    done.retrying = 0;
    report(&mut done, started, &mut shown, progress, true);
    Ok(done)
}
