//! The desk's shared state: the data directory's ledgers (one per blocking worker, reused),
//! sessions, the sign-in throttle and the templates.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};

use custody_app::Ledger;
use custody_app::clock::{Clock, SystemClock};
use custody_core::Instant;

use crate::auth::Sessions;
use crate::error::DeskError;
use crate::throttle::Throttle;

tokio::task_local! {
    /// Set for a request that may change something: its use cases run holding the audit
    /// writer's lock, so desks in other processes on the same database cannot change what a use
    /// case checked before it writes.
    pub(crate) static WRITING: bool;
}

/// How the desk is run.
#[derive(Debug, Clone)]
pub struct DeskOptions {
    /// The data directory.
    pub dir: PathBuf,
    /// The desk is reached through HTTPS (a TLS-terminating proxy): cookies are marked
    /// `Secure` and browsers are told to keep to HTTPS.
    pub behind_https: bool,
}

/// The open ledgers (database connections) requests run on, one per blocking worker, reused.
pub struct Ledgers {
    dir: PathBuf,
    /// Open ledgers with the settings generation they were opened in.
    open: Mutex<Vec<(u64, Ledger)>>,
    /// Moves on when the settings change, so ledgers opened before are dropped.
    generation: std::sync::atomic::AtomicU64,
    /// Bounds the ledgers open at once.
    permits: Arc<tokio::sync::Semaphore>,
}

/// The desk's state, shared by every request.
pub struct Desk {
    options: DeskOptions,
    ledgers: Arc<Ledgers>,
    pub(crate) sessions: Sessions,
    pub(crate) throttle: Throttle,
    pub(crate) limits: crate::rate::RateLimits,
    desk_settings: custody_core::DeskSettings,
    pub(crate) holdings: crate::cache::HoldingsCache,
    pub(crate) templates: minijinja::Environment<'static>,
    organisation: std::sync::RwLock<String>,
    /// Held while a request that may change something runs.
    pub(crate) writes: tokio::sync::Mutex<()>,
    /// Refused sign-ins waiting to be audited (`sign_in::write_refusals` writes them).
    pub(crate) refusals: crate::sign_in::Refusals,
    /// Told when the desk is stopping, so pending refusals are written first.
    pub(crate) stopping: tokio::sync::Notify,
    /// Notification runs started from this desk.
    pub(crate) notify_runs: crate::notify_runs::Runs,
    clock: Box<dyn Clock>,
}

/// Ledgers open at once, at most: more requests wait for one.
const LEDGERS_MAX: usize = 8;

impl Desk {
    /// Opens the data directory (checking it as the CLI does) and prepares the templates.
    pub fn open(options: DeskOptions) -> Result<Desk, DeskError> {
        let ledger = Ledger::open(&options.dir, Box::new(SystemClock), "desk")?;
        let organisation = ledger.settings.organisation.clone();
        let limits = crate::rate::RateLimits::new(&ledger.settings.desk);
        let desk_settings = ledger.settings.desk.clone();
        let zone = ledger.zone.clone();
        // Desks that may run beside others on one database keep sessions and sign-in counts in
        // it; a desk alone on its SQLite file keeps them in memory.
        let shared = ledger.is_shared();
        let ledgers = Arc::new(Ledgers {
            dir: options.dir.clone(),
            open: Mutex::new(vec![(0, ledger)]),
            generation: std::sync::atomic::AtomicU64::new(0),
            permits: Arc::new(tokio::sync::Semaphore::new(LEDGERS_MAX)),
        });
        let (sessions, throttle) = if shared {
            (
                Sessions::shared(Arc::clone(&ledgers)),
                Throttle::shared(Arc::clone(&ledgers)),
            )
        } else {
            (Sessions::in_memory(), Throttle::in_memory())
        };
        Ok(Desk {
            options,
            ledgers,
            sessions,
            throttle,
            limits,
            desk_settings,
            holdings: crate::cache::HoldingsCache::default(),
            templates: crate::render::templates(zone)?,
            organisation: std::sync::RwLock::new(organisation),
            writes: tokio::sync::Mutex::new(()),
            refusals: crate::sign_in::Refusals::default(),
            stopping: tokio::sync::Notify::new(),
            notify_runs: crate::notify_runs::Runs::default(),
            clock: Box::new(SystemClock),
        })
    }

    /// Now, from the one wall clock.
    pub(crate) fn now(&self) -> Instant {
        self.clock.now()
    }

    /// The organisation's name, as the settings have it.
    pub(crate) fn organisation(&self) -> String {
        self.organisation
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The settings changed: ledgers opened before are not used again.
    pub(crate) fn settings_changed(&self, organisation: String) {
        let old = {
            let mut ledgers = self.ledgers.open.lock().unwrap_or_else(PoisonError::into_inner);
            self.ledgers.generation.fetch_add(1, Ordering::SeqCst);
            std::mem::take(&mut *ledgers)
        };
        // Closing a PostgreSQL connection blocks on its own small runtime, which a thread that
        // drives the desk's tasks may not do: the old ledgers are closed on a thread of their own.
        std::thread::spawn(move || drop(old));
        *self.organisation.write().unwrap_or_else(PoisonError::into_inner) = organisation;
    }

    /// The desk's limits as the settings had them when it started.
    pub(crate) fn desk_settings(&self) -> custody_core::DeskSettings {
        self.desk_settings.clone()
    }

    /// The data directory.
    pub(crate) fn dir(&self) -> &std::path::Path {
        &self.options.dir
    }

    /// Whether cookies are marked `Secure`.
    pub(crate) fn behind_https(&self) -> bool {
        self.options.behind_https
    }

    /// Runs a use case on a blocking worker with a ledger acting as `actor` (for the audit log).
    pub(crate) async fn run<T, F>(self: &Arc<Self>, actor: &str, work: F) -> Result<T, DeskError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Ledger) -> Result<T, DeskError> + Send + 'static,
    {
        self.ledgers.run(actor, work).await
    }
}

impl Ledgers {
    /// Runs a use case on a blocking worker with a ledger acting as `actor` (for the audit log).
    pub(crate) async fn run<T, F>(self: &Arc<Self>, actor: &str, work: F) -> Result<T, DeskError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Ledger) -> Result<T, DeskError> + Send + 'static,
    {
        // The permit moves into the worker: it is held until the work ends, even when the
        // request that asked for it has gone away.
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| DeskError::Internal("the desk is shutting down".to_owned()))?;
        let ledgers = Arc::clone(self);
        let actor = actor.to_owned();
        let writing = WRITING.try_with(|writing| *writing).unwrap_or(false);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let (generation, mut ledger) = ledgers.take_ledger()?;
            ledger.actor = actor;
            let result = if writing {
                ledger.holding_writes(work)
            } else {
                work(&mut ledger)
            };
            // A ledger whose database failed under it (a dropped connection, a restarted
            // server) is not used again: the next request opens a fresh one.
            let broken = matches!(
                &result,
                Err(DeskError::App(custody_app::Error::Store(
                    custody_store::Error::Database(_) | custody_store::Error::Connect(_)
                )))
            );
            let mut open = ledgers.open.lock().unwrap_or_else(PoisonError::into_inner);
            if generation == ledgers.generation.load(Ordering::SeqCst) && !broken {
                open.push((generation, ledger));
            }
            result
        })
        .await
        .map_err(|_| DeskError::Internal("a request's worker failed".to_owned()))?
    }

    fn take_ledger(&self) -> Result<(u64, Ledger), DeskError> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let generation = self.generation.load(Ordering::SeqCst);
        while let Some((opened, ledger)) = open.pop() {
            // A connection the server closed (a restart, a failover) is dropped, not handed out.
            if opened == generation && ledger.is_usable() {
                return Ok((opened, ledger));
            }
        }
        drop(open);
        let ledger = Ledger::open(&self.dir, Box::new(SystemClock), "desk")?;
        Ok((generation, ledger))
    }
}
