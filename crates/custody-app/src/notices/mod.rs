//! Notices to people: who is told, the outbox, the sending run.

pub(crate) mod coverage;
pub(crate) mod instruction_mail;
pub(crate) mod letter_address;
pub mod letter_posting;
pub mod letters;
pub mod notice_law;
pub mod notice_model;
pub mod notify;
pub(crate) mod notify_loop;
pub mod notify_run;
pub mod supplier_mail;
