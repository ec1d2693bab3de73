//! The ledger: people and their imports, suppliers, shares and feeds, who held whom when, canaries.

pub(crate) mod canary;
pub(crate) mod contact_codec;
pub mod contacts;
pub mod deletion_requests;
pub mod holdings;
pub mod people;
pub(crate) mod people_digest;
pub(crate) mod people_rows;
pub(crate) mod people_vcard;
pub mod person;
pub mod retention;
pub mod shares;
pub mod suppliers;
