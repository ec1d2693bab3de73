//! The breach desk: incidents, their events and facts, impact, risk, the register and the regulator's reports.

pub mod filed;
pub mod impact;
pub mod in_house;
pub mod incident_events;
pub mod incident_facts;
pub mod incidents;
pub mod jurisdictions;
pub(crate) mod jurisdictions_check;
pub mod obligations;
#[cfg(test)]
mod obligations_by_law;
pub mod questions;
pub mod register;
pub mod report;
pub mod report_addressee;
pub mod report_forms;
