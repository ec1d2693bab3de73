//! Who may do what at the desk (the web desk and its API): three roles, each allowed what the
//! one below it is and more. Viewers read; responders also edit incidents and timelines;
//! admins also manage users, tokens, suppliers and settings.

use crate::error::{Error, Result};

/// An account's or API token's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DeskRole {
    /// Reads everything.
    Viewer,
    /// Reads, and works incidents: timeline entries, acts, statements, notices.
    Responder,
    /// Everything, including users, tokens, suppliers and settings.
    Admin,
}

impl DeskRole {
    /// Stable text form.
    pub fn as_str(self) -> &'static str {
        match self {
            DeskRole::Viewer => "viewer",
            DeskRole::Responder => "responder",
            DeskRole::Admin => "admin",
        }
    }

    /// Parses the stable text form.
    pub fn parse(text: &str) -> Result<Self> {
        match text.trim() {
            "viewer" => Ok(DeskRole::Viewer),
            "responder" => Ok(DeskRole::Responder),
            "admin" => Ok(DeskRole::Admin),
            _ => Err(Error::invalid("role", text, "admin, responder or viewer")),
        }
    }

    /// Whether this role includes everything `needed` may do.
    pub fn allows(self, needed: DeskRole) -> bool {
        self >= needed
    }
}

/// An account or token name: 1 to 64 letters, digits, `.`, `_`, `-` or `@` (never shown in
/// URLs or logs beyond the audit log, which names who acted).
pub fn check_desk_name(name: &str) -> Result<&str> {
    let valid = !name.is_empty()
        && !name.chars().all(|c| c == '.')
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if valid {
        Ok(name)
    } else {
        Err(Error::invalid(
            "name",
            name,
            "1 to 64 letters, digits, '.', '_', '-' or '@'",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_by_what_they_allow() {
        assert!(DeskRole::Admin.allows(DeskRole::Responder));
        assert!(DeskRole::Responder.allows(DeskRole::Viewer));
        assert!(!DeskRole::Viewer.allows(DeskRole::Responder));
        assert!(!DeskRole::Responder.allows(DeskRole::Admin));
        for role in [DeskRole::Viewer, DeskRole::Responder, DeskRole::Admin] {
            assert_eq!(DeskRole::parse(role.as_str()), Ok(role));
        }
        assert!(DeskRole::parse("root").is_err());
        assert!(check_desk_name("dpo.alex").is_ok());
        assert!(check_desk_name("alex smith").is_err());
        assert!(check_desk_name("").is_err());
    }
}
