//! The ids the store gives its records. Each kind of record has its own type, so an incident's
//! id cannot be passed where a share's is meant; in JSON and on the command line each is the
//! plain number the store gave it.

use std::fmt;
use std::num::ParseIntError;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! record_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            /// The id the store gave the record.
            pub const fn new(raw: i64) -> Self {
                Self(raw)
            }

            /// The number as the store keeps it.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        /// The bare number, as in JSON: texts written before ids had types (some kept in
        /// append-only records) read the same.
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl FromStr for $name {
            type Err = ParseIntError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                text.trim().parse().map(Self)
            }
        }
    };
}

record_id!(
    /// A supplier.
    SupplierId
);
record_id!(
    /// A share (an export or a standing feed).
    ShareId
);
record_id!(
    /// An incident.
    IncidentId
);
record_id!(
    /// An event in an incident's or a request's append-only record (each numbers its own; a
    /// notification run is named by its incident event).
    EventId
);
record_id!(
    /// A request from a person.
    RequestId
);
record_id!(
    /// A notice in the outbox.
    MessageId
);
record_id!(
    /// A message to a supplier's contact (a question, an instruction).
    MailId
);
record_id!(
    /// A desk account.
    AccountId
);
record_id!(
    /// An API token.
    TokenId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_its_number_in_json_and_text() {
        let id = IncidentId::new(42);
        assert_eq!(serde_json::to_string(&id).ok().as_deref(), Some("42"));
        assert_eq!(serde_json::from_str::<IncidentId>("42").ok(), Some(id));
        assert!(serde_json::from_str::<IncidentId>("\"42\"").is_err());
        assert_eq!("42".parse::<IncidentId>(), Ok(id));
        assert!("forty".parse::<IncidentId>().is_err());
        assert_eq!(id.to_string(), "42");
        assert_eq!(format!("{:?}", [ShareId::new(3), ShareId::new(7)]), "[3, 7]");
    }
}
