//! custody's use cases, shared by the CLI and (later) the web desk: opening a data directory,
//! importing people, registering suppliers, recording shares with canaries, answering
//! holdings and recipients, and keeping and verifying the audit chain.
//!
//! **Architecture invariant**: the wall clock is read only by [`clock::SystemClock`]; every use
//! case takes `now` from the ledger's injectable clock.

pub mod access;
pub mod accounts;
pub mod audit;
mod audit_anchor;
pub mod audit_head;
mod canary;
pub mod clock;
pub mod demo;
pub mod demo_incident;
pub mod demo_leak;
pub mod demo_notices;
pub mod demo_requests;
pub mod desk_state;
mod dir;
mod error;
pub mod filed;
pub mod files;
pub mod holdings;
pub mod holidays;
pub mod impact;
pub mod in_house;
pub mod incident_events;
pub mod incident_facts;
pub mod incidents;
pub mod leak;
mod leak_columns;
pub mod leak_evidence;
pub mod leak_index;
mod leak_links;
pub mod leak_rank;
mod leak_rows;
mod leak_run;
pub mod limits;
pub mod linkage;
pub mod linkage_model;
mod linkage_scan;
pub mod notice_model;
pub mod notify;
mod notify_loop;
pub mod notify_run;
pub mod people;
mod people_vcard;
pub mod person;
pub mod register;
pub mod report;
mod request_acts;
pub mod request_answer;
pub mod request_decide;
pub mod request_events;
pub mod request_import;
pub mod request_linkage;
pub mod request_pause;
pub mod request_state;
mod request_views;
pub mod requests;
pub mod retention;
pub mod shares;
pub mod store_admin;
pub mod suppliers;

pub use dir::{Ledger, SettingsChange, init};
pub use error::{Error, Result};
