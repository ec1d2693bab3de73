//! End-to-end tests of the `custody` binary against real data directories (a real SQLite file,
//! a real key file), one module per area.

// Test code may panic: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod accounts;
mod amend;
mod audit;
mod backup;
mod contacts;
mod crm_exports;
mod desk;
mod desk_api;
mod desk_browser;
mod desk_limits;
mod desk_notices;
mod desk_respond;
mod desk_security;
mod desk_supplier;
mod desk_support;
mod hardening;
mod incidents;
mod jurisdictions;
mod leak_index;
mod leaks;
mod ledger;
mod letters;
mod linkage;
mod migration;
mod notices;
mod people;
mod postgres;
mod requests;
mod rights;
mod supplier_mail;
mod support;
