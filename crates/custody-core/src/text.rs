//! Limits on the free text people type into custody (summaries, timeline entries, statements,
//! reasons, purposes). Every such field is checked where it enters, whether from the CLI, the
//! desk or the API, so one long or hostile value cannot swell every page and report that shows
//! it: a short text is a name or a title, a long one a paragraph or a supplier's statement.

use crate::error::{Error, Result};

/// Characters in a short text (a name, a reference, a title, a contact).
pub const SHORT_TEXT_CHARS_MAX: usize = 200;
/// Characters in a long text (a summary, a timeline entry, a statement, a reason).
pub const LONG_TEXT_CHARS_MAX: usize = 10_000;

/// Checks a free-text field: at most `chars_max` characters, and no control characters but line
/// breaks and tabs (escape sequences would reach terminals and reports).
pub fn check_text(field: &'static str, text: &str, chars_max: usize) -> Result<()> {
    let count = text.chars().count();
    if count > chars_max {
        return Err(Error::invalid(
            field,
            text,
            format!("at most {chars_max} characters (this has {count})"),
        ));
    }
    if let Some(position) = text
        .chars()
        .position(|character| character.is_control() && !matches!(character, '\n' | '\r' | '\t'))
    {
        return Err(Error::invalid(
            field,
            text,
            format!(
                "text without control characters (character {} is one)",
                position + 1
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_and_control_texts_are_refused_and_plain_ones_pass() {
        assert!(check_text("summary", "Ransomware at the mailing house.\nSecond line.", 200).is_ok());
        assert!(check_text("summary", &"x".repeat(201), 200).is_err());
        assert!(
            check_text("summary", &"é".repeat(200), 200).is_ok(),
            "characters, not bytes"
        );
        assert!(check_text("summary", "\u{1b}[2Jgone", 200).is_err());
        assert!(check_text("summary", "bell\u{7}", 200).is_err());
    }
}
