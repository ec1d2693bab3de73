//! The web desk's accounts, tokens, sessions and sign-in counts.

pub mod accounts;
pub mod desk_state;
