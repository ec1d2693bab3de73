//! custody's use cases, shared by the CLI and (later) the web desk: opening a data directory,
//! importing people, registering suppliers, recording shares with canaries, answering
//! holdings and recipients, and keeping and verifying the audit chain.
//!
//! **Architecture invariant**: the wall clock is read only by [`clock::SystemClock`]; every use
//! case takes `now` from the ledger's injectable clock.

pub mod audit;
pub mod breach;
pub mod clock;
pub mod desk;
mod dir;
mod error;
pub mod files;
pub mod leaks;
pub mod ledger;
pub mod limits;
pub mod notices;
pub mod rights;
pub mod store_admin;
pub mod supplier_side;

pub use dir::{Ledger, SettingsChange, init};
pub use error::{Error, Result};

/// Threads for work spread over the cores (a match's readers, linkage, an import's rows): one
/// a core, at most eight. Public so that the benchmarks use as many.
pub fn workers() -> usize {
    std::thread::available_parallelism().map_or(2, |count| count.get().clamp(1, 8))
}
