//! People as custody knows them: an internal dense id, the organisation's own reference, a
//! category and a status. Nothing else of the CRM record lives here.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// custody's internal id of a person: dense, starting at 1, so person sets are compact bitmaps.
pub type PersonId = u32;

/// The organisation's own reference for a person (member number, contact id).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonRef(String);

impl PersonRef {
    /// Longest reference accepted, in bytes.
    pub const LENGTH_BYTES_MAX: usize = 64;

    /// A reference is 1 to 64 printable characters, trimmed.
    pub fn parse(text: &str) -> Result<Self> {
        let trimmed = text.trim();
        if trimmed.is_empty()
            || trimmed.len() > Self::LENGTH_BYTES_MAX
            || trimmed.chars().any(char::is_control)
        {
            return Err(Error::invalid(
                "person reference",
                text,
                "1 to 64 printable characters",
            ));
        }
        Ok(PersonRef(trimmed.to_owned()))
    }

    /// The reference as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PersonRef {
    type Error = Error;
    fn try_from(value: String) -> Result<Self> {
        PersonRef::parse(&value)
    }
}

impl From<PersonRef> for String {
    fn from(value: PersonRef) -> Self {
        value.0
    }
}

impl fmt::Display for PersonRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal, $expected:literal { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable text form used in files, the store and JSON.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the exact stable text form.
            pub fn from_stable(text: &str) -> Result<Self> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(Error::invalid($what, text, $expected)),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(
    /// The organisation's relationship with a person.
    PersonCategory, "person category",
    "member, registered_supporter, affiliated_supporter, donor, volunteer, staff or other" {
        /// A (paying) member.
        Member = "member",
        /// A registered supporter.
        RegisteredSupporter = "registered_supporter",
        /// An affiliated supporter (through a union or society).
        AffiliatedSupporter = "affiliated_supporter",
        /// A donor.
        Donor = "donor",
        /// A volunteer.
        Volunteer = "volunteer",
        /// Staff.
        Staff = "staff",
        /// Anyone else.
        Other = "other",
    }
);

impl PersonCategory {
    /// Reads a category as a CRM writes it: any case, spaces or hyphens for underscores.
    pub fn parse_loose(text: &str) -> Result<Self> {
        let folded: String = text
            .trim()
            .chars()
            .map(|c| {
                if c == ' ' || c == '-' {
                    '_'
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect();
        Self::from_stable(&folded).map_err(|_| {
            Error::invalid(
                "person category",
                text,
                "member, registered supporter, affiliated supporter, donor, volunteer, staff or other",
            )
        })
    }
}

text_enum!(
    /// Whether a person is still with the organisation.
    PersonStatus, "status", "current or former" {
        /// Still a member, supporter, donor …
        Current = "current",
        /// Left: lapsed, resigned, expired, cancelled or deceased.
        Former = "former",
    }
);

impl PersonStatus {
    /// Reads the words CRMs use for a status.
    pub fn parse_loose(text: &str) -> Result<Self> {
        match text.trim().to_lowercase().as_str() {
            "current" | "active" | "in good standing" | "good standing" => Ok(PersonStatus::Current),
            "former" | "lapsed" | "resigned" | "expired" | "cancelled" | "canceled" | "deceased" | "left"
            | "inactive" => Ok(PersonStatus::Former),
            _ => Err(Error::invalid(
                "status",
                text,
                "current, active, in good standing, or former, lapsed, resigned, expired, cancelled, deceased, inactive",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_read_loosely() {
        assert_eq!(
            PersonCategory::parse_loose("Registered Supporter"),
            Ok(PersonCategory::RegisteredSupporter)
        );
        assert_eq!(
            PersonCategory::parse_loose("affiliated-supporter"),
            Ok(PersonCategory::AffiliatedSupporter)
        );
        assert_eq!(
            PersonCategory::parse_loose(" MEMBER "),
            Ok(PersonCategory::Member)
        );
        assert!(PersonCategory::parse_loose("friend").is_err());
    }

    #[test]
    fn statuses_read_loosely() {
        assert_eq!(
            PersonStatus::parse_loose("In good standing"),
            Ok(PersonStatus::Current)
        );
        assert_eq!(PersonStatus::parse_loose("Lapsed"), Ok(PersonStatus::Former));
        assert_eq!(PersonStatus::parse_loose("deceased"), Ok(PersonStatus::Former));
        assert!(PersonStatus::parse_loose("maybe").is_err());
    }

    #[test]
    fn references_are_bounded() {
        assert!(PersonRef::parse("M000123").is_ok());
        assert!(PersonRef::parse("  ").is_err());
        assert!(PersonRef::parse(&"x".repeat(65)).is_err());
        assert!(PersonRef::parse("a\u{0}b").is_err());
    }
}
