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

/// A cell as a spreadsheet must not run it: a cell that Excel, LibreOffice or Google Sheets
/// would read as a formula (beginning with `=`, `@`, a tab or a carriage return, or with `+` or
/// `-` followed by more than a number) gets a leading `'`, which spreadsheets show as text. A
/// phone number such as `+44 113 496 0000` or a negative amount stays as it is. (OWASP, "CSV
/// Injection".)
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    let mut characters = cell.chars();
    let risky = match characters.next() {
        Some('=' | '@' | '\t' | '\r') => true,
        Some('+' | '-') => !characters.all(|character| {
            character.is_ascii_digit() || matches!(character, ' ' | '.' | ',' | '(' | ')' | '-' | '/')
        }),
        _ => false,
    };
    if risky {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_numbers_left_alone() {
        for (cell, expected) in [
            (
                "=HYPERLINK(\"http://evil.example\",\"x\")",
                "'=HYPERLINK(\"http://evil.example\",\"x\")",
            ),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("\tx", "'\tx"),
            ("+44 113 496 0000", "+44 113 496 0000"),
            ("+1-202-555-0100", "+1-202-555-0100"),
            ("-12.50", "-12.50"),
            ("Alex", "Alex"),
            ("", ""),
        ] {
            assert_eq!(spreadsheet_safe(cell), expected, "{cell:?}");
        }
    }

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
