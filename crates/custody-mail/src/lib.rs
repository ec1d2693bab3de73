//! Notices to people and the mail server they go through: rendering a notice from templates
//! (shipped defaults, replaced by files in the data directory), building the message (plain text
//! and HTML, a stable Message-ID), and the SMTP sender that custody's outbox worker drives.
//!
//! **Architecture invariant**: nothing here knows the store. The outbox worker in `custody-app`
//! claims messages, hands them to [`Sender`] and records each outcome; nothing else sends mail.

mod config;
mod error;
pub mod letter_pdf;
pub mod markdown;
mod message;
mod render;
mod sender;
mod winansi;

pub use config::{SmtpConfig, TlsMode};
pub use error::{Error, Result};
pub use message::{Notice, TextMessage, build, build_text};
pub use render::{NoticeText, Templates};
pub use sender::{Delivery, Job, Outcome, Sender};
