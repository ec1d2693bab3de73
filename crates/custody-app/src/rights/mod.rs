//! The rights desk: requests from people, their clocks, decisions, instructions and answers.

pub mod access;
pub mod holidays;
pub(crate) mod request_acts;
pub mod request_answer;
pub mod request_decide;
pub mod request_events;
pub mod request_import;
pub mod request_linkage;
pub mod request_pause;
pub mod request_state;
pub(crate) mod request_views;
pub mod requests;
