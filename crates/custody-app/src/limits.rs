//! Limits on what people type, checked where it enters a use case, so the CLI, the desk and the
//! API refuse the same things: one long or hostile value cannot swell every page and report
//! that shows it. The numbers are custody_core's `SHORT_TEXT_CHARS_MAX` and
//! `LONG_TEXT_CHARS_MAX`; an event's whole body is bounded too.

use custody_core::{LONG_TEXT_CHARS_MAX, SHORT_TEXT_CHARS_MAX, check_text};

use crate::error::{Error, Result};

/// Bytes of an incident or request event's body as JSON, at most.
pub const EVENT_BODY_BYTES_MAX: usize = 64 * 1024;

/// A long free text (a summary, a statement, a reason).
pub fn long_text(field: &'static str, text: &str) -> Result<()> {
    Ok(check_text(field, text, LONG_TEXT_CHARS_MAX)?)
}

/// A short free text (a name, a reference, a contract number).
pub fn short_text(field: &'static str, text: &str) -> Result<()> {
    Ok(check_text(field, text, SHORT_TEXT_CHARS_MAX)?)
}

/// A name custody did not choose (a leaked file's), kept as a short text: control characters
/// dropped, cut to `SHORT_TEXT_CHARS_MAX` characters.
pub fn cleaned_name(name: &str) -> String {
    name.chars()
        .filter(|character| !character.is_control())
        .take(SHORT_TEXT_CHARS_MAX)
        .collect()
}

/// Every string in an event's body is a long text at most, and the body as a whole is bounded.
pub fn event_body(kind: &str, body: &serde_json::Value) -> Result<()> {
    let bytes = body.to_string().len();
    if bytes > EVENT_BODY_BYTES_MAX {
        return Err(Error::Invalid(format!(
            "the {kind} is {bytes} bytes; at most {EVENT_BODY_BYTES_MAX} are kept"
        )));
    }
    each_string(body, &mut |text| long_text("text", text))
}

fn each_string(value: &serde_json::Value, check: &mut dyn FnMut(&str) -> Result<()>) -> Result<()> {
    match value {
        serde_json::Value::String(text) => check(text),
        serde_json::Value::Array(items) => items.iter().try_for_each(|item| each_string(item, check)),
        serde_json::Value::Object(fields) => fields.values().try_for_each(|item| each_string(item, check)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_with_a_long_or_hostile_string_anywhere_is_refused() {
        assert!(event_body("entry", &serde_json::json!({ "text": "Called the police." })).is_ok());
        let long = "x".repeat(LONG_TEXT_CHARS_MAX + 1);
        assert!(event_body("entry", &serde_json::json!({ "text": long })).is_err());
        assert!(event_body("entry", &serde_json::json!({ "changes": ["ok", "\u{1b}[2J"] })).is_err());
        let many: Vec<String> = (0..20).map(|_| "y".repeat(5_000)).collect();
        assert!(
            event_body("entry", &serde_json::json!({ "parts": many })).is_err(),
            "bounded as a whole"
        );
    }
}
