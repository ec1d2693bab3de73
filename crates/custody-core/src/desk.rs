//! Who may do what at the desk (the web desk and its API): four roles, each allowed what the
//! one below it is and more. A supplier's account sees only its own supplier's side (and its own
//! account); viewers read the organisation's ledger; responders also work incidents; admins also
//! manage users, tokens, suppliers and settings.

use crate::error::{Error, Result};

/// An account's or API token's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DeskRole {
    /// A supplier's account, bound to one supplier: its questions, instructions and its own
    /// shares' metadata, never the organisation's people, other suppliers, the log or settings.
    Supplier,
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
            DeskRole::Supplier => "supplier",
            DeskRole::Viewer => "viewer",
            DeskRole::Responder => "responder",
            DeskRole::Admin => "admin",
        }
    }

    /// Parses the stable text form.
    pub fn parse(text: &str) -> Result<Self> {
        match text.trim() {
            "supplier" => Ok(DeskRole::Supplier),
            "viewer" => Ok(DeskRole::Viewer),
            "responder" => Ok(DeskRole::Responder),
            "admin" => Ok(DeskRole::Admin),
            _ => Err(Error::invalid(
                "role",
                text,
                "admin, responder, viewer or supplier",
            )),
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
        assert!(DeskRole::Viewer.allows(DeskRole::Supplier));
        assert!(!DeskRole::Supplier.allows(DeskRole::Viewer));
        for role in [
            DeskRole::Supplier,
            DeskRole::Viewer,
            DeskRole::Responder,
            DeskRole::Admin,
        ] {
            assert_eq!(DeskRole::parse(role.as_str()), Ok(role));
        }
        assert!(DeskRole::parse("root").is_err());
        assert!(check_desk_name("dpo.alex").is_ok());
        assert!(check_desk_name("alex smith").is_err());
        assert!(check_desk_name("").is_err());
    }
}
