//! End-to-end tests of the `custody` binary against real data directories (a real SQLite file,
//! a real key file), one module per area.

mod audit;
mod ledger;
mod people;
mod support;
