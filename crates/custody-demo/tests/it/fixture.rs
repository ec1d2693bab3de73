//! One shared fixture for the in-process use-case tests: the demo organisation (2,000 people, a
//! supplier breach with its shares, requests and a leak) built once per test process with a
//! fixed clock and backed up; each test restores the backup into a directory of its own, its
//! ledger on SQLite or on PostgreSQL (a database of its own on the test server).

use std::path::PathBuf;
use std::sync::OnceLock;

use custody_app::clock::FixedClock;
use custody_app::{Ledger, store_admin};
use custody_core::{Instant, TimeZoneName, parse_instant};

/// Which backend a test's ledger is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const BOTH: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

struct Built {
    _dir: tempfile::TempDir,
    backup: PathBuf,
    key: PathBuf,
    supplier: String,
}

static BUILT: OnceLock<Built> = OnceLock::new();

/// The fixed instant every use case runs at.
pub fn now() -> Instant {
    parse_instant("2022-01-10 12:00", &TimeZoneName::parse("Europe/London").unwrap()).unwrap()
}

fn build() -> Built {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let options = custody_demo::DemoOptions {
        people: 2_000,
        seed: 7,
        smtp: None,
    };
    let summary = custody_demo::run(&data, options, &FixedClock(now()), "cli:fixture", &mut |_| {}).unwrap();
    let mut ledger = Ledger::open(&data, Box::new(FixedClock(now())), "cli:fixture").unwrap();
    let backup = dir.path().join("demo.backup");
    store_admin::backup(&mut ledger, &backup).unwrap();
    let key = dir.path().join("demo.key");
    std::fs::copy(data.join("custody.key"), &key).unwrap();
    Built {
        _dir: dir,
        backup,
        key,
        supplier: summary.incident_holdings.supplier,
    }
}

/// A test's own copy of the fixture, on `backend`.
pub struct Restored {
    _dir: tempfile::TempDir,
    pub ledger: Ledger,
    /// The demo's breached supplier.
    pub supplier: String,
}

/// Restores the shared fixture onto `backend`.
pub fn restored(backend: Backend) -> Restored {
    let built = BUILT.get_or_init(build);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let database = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(custody_testdb::server().database("use_case")),
    };
    store_admin::restore(
        &built.backup,
        &data,
        &built.key,
        database.as_deref(),
        &FixedClock(now()),
        "cli:test",
    )
    .unwrap();
    let ledger = Ledger::open(&data, Box::new(FixedClock(now())), "cli:test").unwrap();
    Restored {
        _dir: dir,
        ledger,
        supplier: built.supplier.clone(),
    }
}
