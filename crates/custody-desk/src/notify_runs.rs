//! Notification runs started from the desk. A run sends for minutes or hours, far past a
//! request's time limit, so it goes on a thread of its own with a ledger of its own, acting as
//! the responder who started it (the queueing, the run's start and end are audited and on the
//! timeline as from the command line); the desk keeps where each incident's latest run stands
//! for the page to poll. A desk that stops mid-run loses nothing: the outbox is durable, and the
//! next run sends whatever was not accepted.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;

use custody_app::Ledger;
use custody_app::clock::SystemClock;
use custody_app::notices::notify::{self, NotifyOptions};
use custody_app::notices::notify_run::Progress;
use custody_core::{IncidentId, Instant};

use crate::error::DeskError;

/// Where a run started from the desk stands.
#[derive(Debug, Clone, Serialize)]
pub struct RunState {
    /// Who started it.
    pub by: String,
    /// When.
    pub started_at: Instant,
    /// Whom it tells (`affected`, `all-current`).
    pub audience: String,
    /// Whether it is still sending.
    pub running: bool,
    /// Its latest progress.
    pub progress: Progress,
    /// How it ended, in words.
    pub outcome: Option<String>,
    /// Why it stopped, when it failed.
    pub error: Option<String>,
}

/// The latest run started from this desk, per incident.
#[derive(Default)]
pub struct Runs {
    runs: Mutex<HashMap<IncidentId, Arc<Mutex<RunState>>>>,
}

impl Runs {
    /// The latest run of incident `id` started from this desk, if any.
    pub fn state(&self, id: IncidentId) -> Option<RunState> {
        let runs = self.runs.lock().unwrap_or_else(PoisonError::into_inner);
        runs.get(&id)
            .map(|state| state.lock().unwrap_or_else(PoisonError::into_inner).clone())
    }

    /// The same, for `caller`: why a run stopped (a mail server's reply, a path) is a
    /// responder's to read; others are told only that it stopped.
    pub fn state_for(&self, id: IncidentId, caller: &crate::auth::Caller) -> Option<RunState> {
        let mut state = self.state(id)?;
        if !caller.role.allows(custody_core::DeskRole::Responder) && state.error.is_some() {
            state.error = Some("a responder sees why on the incident's page".to_owned());
        }
        Some(state)
    }

    /// Starts a run of incident `id` on a thread of its own, with a ledger opened on `dir` acting
    /// as `actor`; refused while one started from this desk is still sending (a run from the
    /// command line or another desk is refused by the run itself, and the page says so).
    pub fn start(
        &self,
        dir: PathBuf,
        actor: String,
        id: IncidentId,
        options: NotifyOptions,
        now: Instant,
    ) -> Result<(), DeskError> {
        let state = {
            let mut runs = self.runs.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(current) = runs.get(&id)
                && current.lock().unwrap_or_else(PoisonError::into_inner).running
            {
                return Err(DeskError::App(custody_app::Error::Invalid(format!(
                    "a notification run of incident {id} is already sending; watch it here"
                ))));
            }
            let state = Arc::new(Mutex::new(RunState {
                by: actor.clone(),
                started_at: now,
                audience: match &options.audience {
                    notify::Audience::AllCurrent => "all-current".to_owned(),
                    _ => "affected".to_owned(),
                },
                running: true,
                progress: Progress::default(),
                outcome: None,
                error: None,
            }));
            runs.insert(id, Arc::clone(&state));
            state
        };
        let watched = Arc::clone(&state);
        let spawned = std::thread::Builder::new()
            .name(format!("notify-{id}"))
            .spawn(move || {
                // However the run ends, even by a panic in a library, the page is told it stopped.
                let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    run(&dir, &actor, id, &options, &watched);
                }));
                if ran.is_err() {
                    let mut state = watched.lock().unwrap_or_else(PoisonError::into_inner);
                    state.running = false;
                    state.error = Some(
                        "the run stopped unexpectedly; the outbox keeps every notice not sent".to_owned(),
                    );
                }
            });
        spawned.map(|_| ()).map_err(|error| {
            let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
            state.running = false;
            state.error = Some("the run could not start".to_owned());
            DeskError::Internal(format!("a notification run could not start: {error}"))
        })
    }
}

/// The run itself, recording how it went in `state`.
fn run(dir: &std::path::Path, actor: &str, id: IncidentId, options: &NotifyOptions, state: &Mutex<RunState>) {
    let ended = Ledger::open(dir, Box::new(SystemClock), actor).and_then(|mut ledger| {
        let config = custody_app::notices::notify_run::smtp_config(&ledger)?;
        notify::notify(&mut ledger, id, options, config, &mut |progress| {
            state.lock().unwrap_or_else(PoisonError::into_inner).progress = *progress;
        })
    });
    let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
    state.running = false;
    match ended {
        Ok(report) => {
            if let Some(run) = &report.run {
                state.progress = run.progress;
                state.outcome = Some(
                    match (&run.people_notified_recorded, &run.people_notified_not_recorded) {
                        (true, _) => format!(
                            "{} sent, {} failed; \"people notified\" is recorded",
                            run.progress.sent, run.progress.failed
                        ),
                        (false, Some(why)) => format!(
                            "{} sent, {} failed; \"people notified\" is not recorded: {why}",
                            run.progress.sent, run.progress.failed
                        ),
                        (false, None) => {
                            format!("{} sent, {} failed", run.progress.sent, run.progress.failed)
                        }
                    },
                );
            }
        }
        Err(error) => {
            tracing::warn!(incident = %id, "a notification run from the desk stopped: {}", first_line(&error.to_string()));
            state.error = Some(error.to_string());
        }
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}
