//! The value types the API's bodies and queries are read into and described with: text as custody
//! checks it where it enters ([`custody_core::check_text`]: not blank, no control characters but
//! line breaks and tabs, at most so many characters), instants, email addresses, and the words a
//! field may take. Each type refuses a value its description does not allow, while the body is
//! read (400, with the field), and gives its JSON Schema to the OpenAPI document; the body types
//! derive theirs (`utoipa::ToSchema`) from the same structs the handlers read, so the document
//! and the server cannot disagree on a field, its type or its limits.

use serde::de::{Deserialize, Deserializer, Error as _};
use serde_json::{Value, json};
use utoipa::openapi::{RefOr, schema::Schema};

/// Characters that may appear anywhere in a text: everything but control characters (C0, DEL and
/// C1), bar tab, line feed and carriage return.
const TEXT_CHARACTER: &str = r"[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]";
/// A character that makes a text not blank: none of the above and not white space as Rust's
/// `char::is_whitespace` counts it (what `trim` removes).
const SEEN_CHARACTER: &str =
    r"[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]";

/// A character on one line: no control character at all.
const LINE_CHARACTER: &str = r"[^\u0000-\u001F\u007F-\u009F]";

/// The pattern of a text custody keeps: at least one character that is not white space, and no
/// control character but tab and line breaks.
pub fn text_pattern() -> String {
    format!("^{TEXT_CHARACTER}*{SEEN_CHARACTER}{TEXT_CHARACTER}*$")
}

/// The same on one line: no control character at all.
pub fn line_pattern() -> String {
    format!("^{LINE_CHARACTER}*{SEEN_CHARACTER}{LINE_CHARACTER}*$")
}

fn schema(value: Value) -> RefOr<Schema> {
    // The values are written here and checked by the tests: one that utoipa cannot read is a bug.
    serde_json::from_value(value).unwrap_or_else(|_| RefOr::T(Schema::default()))
}

fn text(chars_max: usize, lines: bool) -> RefOr<Schema> {
    let (pattern, description) = if lines {
        (
            text_pattern(),
            "not blank, no control characters but tabs and line breaks",
        )
    } else {
        (line_pattern(), "not blank, one line without control characters")
    };
    schema(json!({
        "type": "string", "minLength": 1, "maxLength": chars_max, "pattern": pattern,
        "description": format!("at most {chars_max} characters, {description}"),
    }))
}

/// What the API's value types hold: the text as given.
pub trait Given {
    /// The text.
    fn into_inner(self) -> String;
}

/// Declares a text type custody keeps, checked as it is read: at most so many characters, not
/// blank, no control characters but tabs and line breaks.
macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, $max:expr) => {
        text_type!($(#[$doc])* $name, $max, true);
    };
    ($(#[$doc:meta])* $name:ident, $max:expr, $lines:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(pub String);

        impl Given for $name {
            fn into_inner(self) -> String {
                self.0
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                read_text(String::deserialize(deserializer)?, $max, $lines).map($name).map_err(D::Error::custom)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                text($max, $lines)
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

fn read_text(text: String, chars_max: usize, lines: bool) -> Result<String, String> {
    if text.trim().is_empty() {
        return Err("give a text that is not blank".to_owned());
    }
    if !lines && let Some(position) = text.chars().position(char::is_control) {
        return Err(format!(
            "expected one line without control characters (character {} is one)",
            position + 1
        ));
    }
    custody_core::check_text("text", &text, chars_max).map_err(|error| match error {
        custody_core::Error::Invalid { expected, .. } => format!("expected {expected}"),
        other => other.to_string(),
    })?;
    Ok(text)
}

text_type!(
    /// A name, a reference, a title or a contact.
    ShortText, custody_core::SHORT_TEXT_CHARS_MAX
);
text_type!(
    /// A summary, a timeline entry, a statement or a reason.
    LongText, custody_core::LONG_TEXT_CHARS_MAX
);
text_type!(
    /// A supplier's name (custody_core's `SupplierName`: at most 120 characters, on one line).
    SupplierName, 120, false
);

/// An instant as written: RFC 3339 with its offset, or a local date and time, which the use case
/// reads in the organisation's time zone.
#[derive(Debug, Clone)]
pub struct Instant(pub String);

impl<'de> Deserialize<'de> for Instant {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let trimmed = text.trim();
        // A date alone reads as its midnight in the organisation's zone, as everywhere in custody.
        // An RFC 3339 time beyond what jiff can hold (late in the year 9999 with its offset) reads
        // here as its civil part and is refused, as out of range, by the use case.
        let civil = |text: &str| text.parse::<jiff::civil::DateTime>().is_ok();
        let without_offset = trimmed
            .strip_suffix(['Z', 'z'])
            .or_else(|| {
                trimmed
                    .len()
                    .checked_sub(6)
                    .and_then(|at| trimmed.get(..at))
                    .filter(|_| {
                        trimmed.len() > 6
                            && matches!(trimmed.as_bytes().get(trimmed.len() - 6), Some(b'+' | b'-'))
                    })
            })
            .unwrap_or(trimmed);
        let readable = trimmed.parse::<jiff::Timestamp>().is_ok() || civil(trimmed) || civil(without_offset);
        if !readable {
            return Err(D::Error::custom(format!(
                "{} is not a time; expected RFC 3339 (2021-10-29T18:30:00+01:00) or a local time (2021-10-29 18:30)",
                crate::error::quoted(&text.chars().take(80).collect::<String>())
            )));
        }
        Ok(Instant(text))
    }
}

impl utoipa::PartialSchema for Instant {
    fn schema() -> RefOr<Schema> {
        schema(json!({
            "type": "string", "format": "date-time",
            "description": "RFC 3339 with an offset (2021-10-29T18:30:00+01:00); a local time without one (2021-10-29 18:30), or a date alone (its midnight), is read in the organisation's time zone",
        }))
    }
}

impl utoipa::ToSchema for Instant {}

/// An email address, as RFC 5321 allows one.
#[derive(Debug, Clone)]
pub struct Email(pub String);

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text.chars().count() > custody_core::SHORT_TEXT_CHARS_MAX
            || !email_address::EmailAddress::is_valid(text.trim())
        {
            return Err(D::Error::custom(
                "expected an email address of at most 200 characters",
            ));
        }
        Ok(Email(text))
    }
}

impl utoipa::PartialSchema for Email {
    fn schema() -> RefOr<Schema> {
        schema(
            json!({ "type": "string", "format": "email", "maxLength": custody_core::SHORT_TEXT_CHARS_MAX }),
        )
    }
}

impl utoipa::ToSchema for Email {}

/// A date (a date of birth), as RFC 3339's full-date.
#[derive(Debug, Clone)]
pub struct Date(pub String);

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text.len() != 10 || text.parse::<jiff::civil::Date>().is_err() {
            return Err(D::Error::custom("expected a date, 1970-01-31"));
        }
        Ok(Date(text))
    }
}

impl utoipa::PartialSchema for Date {
    fn schema() -> RefOr<Schema> {
        schema(json!({ "type": "string", "format": "date" }))
    }
}

impl utoipa::ToSchema for Date {}

/// Where a page starts: the `next` of the page before.
#[derive(Debug, Clone, Copy)]
pub struct Cursor(pub i64);

impl<'de> Deserialize<'de> for Cursor {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        match text.parse::<i64>() {
            Ok(position)
                if (1..=18).contains(&text.len()) && text.bytes().all(|byte| byte.is_ascii_digit()) =>
            {
                Ok(Cursor(position))
            }
            _ => Err(D::Error::custom("expected the `next` of the page before")),
        }
    }
}

impl utoipa::PartialSchema for Cursor {
    fn schema() -> RefOr<Schema> {
        schema(json!({
            "type": "string", "pattern": "^[0-9]{1,18}$",
            "description": "the `next` of the page before; opaque to clients",
        }))
    }
}

impl utoipa::ToSchema for Cursor {}

/// Declares the words a field may take: a type that refuses any other as it is read.
macro_rules! choices {
    ($(#[$doc:meta])* $name:ident => $values:expr, $description:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(pub String);

        impl $name {
            /// Every word the field takes.
            pub fn values() -> Vec<&'static str> {
                $values.into_iter().collect()
            }
            /// The word.
            #[allow(dead_code)]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl Given for $name {
            fn into_inner(self) -> String {
                self.0
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                let values = Self::values();
                if !values.contains(&text.as_str()) {
                    return Err(D::Error::custom(format!(
                        "{} is not one of {}",
                        crate::error::quoted(&text.chars().take(80).collect::<String>()),
                        values.join(", ")
                    )));
                }
                Ok($name(text))
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                choice(Self::values(), $description)
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

/// A string that is one of `values`.
fn choice<S: AsRef<str>>(values: impl IntoIterator<Item = S>, description: &str) -> RefOr<Schema> {
    let values: Vec<String> = values
        .into_iter()
        .map(|value| value.as_ref().to_owned())
        .collect();
    schema(json!({ "type": "string", "enum": values, "description": description }))
}

choices!(
    /// What a timeline entry records.
    EntryKinds => ["note", "decision", "contact", "update"], "note, decision, contact (with a party) or update"
);
choices!(
    /// A fideslang data-category key under `user`, as custody's taxonomy has them.
    CategoryKeys => custody_core::taxonomy_keys(), "a fideslang data-category key under user, such as user.contact.email"
);
choices!(
    /// Whom a contact entry was with.
    ContactParties => custody_app::breach::incidents::CONTACT_PARTIES.iter().copied(), "with a contact entry: whom it was with"
);
choices!(
    /// An act on the breach desk.
    Acts => ["regulator_notified", "regulator_updated", "people_notified"], "what was done"
);
choices!(
    /// What an incident affected (GDPR's three kinds of breach).
    Natures => ["confidentiality", "integrity", "availability"], "what the incident affected"
);
choices!(
    /// Yes, no or not known.
    YesNoUnknown => ["yes", "no", "unknown"], "yes, no or unknown"
);
choices!(
    /// A supplier's role.
    SupplierRoles => ["processor", "sub-processor"], "processor (default) or sub-processor"
);
choices!(
    /// A mitigation the assessment counts.
    Mitigations => ["encrypted", "recovered", "contained"], "a mitigation"
);
choices!(
    /// Ease of identification (ENISA 2013).
    Identifications => ["negligible", "limited", "significant", "maximum"], "ease of identification (ENISA 2013)"
);
choices!(
    /// A decision not to notify.
    NotNotifying => ["regulator_not_required", "people_not_required"], "whom not to notify"
);
choices!(
    /// The Art. 34(3) ground for not telling the people.
    PeopleGrounds => ["encrypted", "measures-taken", "disproportionate-effort"], "required for people_not_required (GDPR Art. 34(3))"
);
choices!(
    /// Whom a notification run writes to.
    Audiences => ["affected", "all-current"], "everyone affected (default) or every current member"
);
choices!(
    /// A kind of request from a person.
    RequestKinds => ["access", "erasure", "rectification", "objection", "restriction", "portability"], "the right exercised"
);
choices!(
    /// How a request arrived.
    Channels => ["email", "post", "web", "phone"], "how the request arrived"
);
choices!(
    /// An action on a request.
    RequestActions => ["identify", "pause", "resume", "extend", "decide", "confirm", "close"], "the action; the other fields are its own"
);
choices!(
    /// Why a request is paused.
    PauseReasons => ["clarification", "fee", "identity"], "pause: what the request waits for"
);
choices!(
    /// Months an answer is extended by.
    Months => ["1", "2"], "extend: by one or two months (Art. 12(3))"
);
choices!(
    /// A decision on an erasure.
    ErasureDecisions => ["erase", "partial", "refuse"], "decide: what is done"
);
choices!(
    /// The ground of a partial or refused erasure.
    ErasureGrounds => custody_app::rights::request_decide::GROUNDS.iter().map(|(name, _, _)| *name),
        "decide: Art. 17(3), or for a refusal Art. 17(1)/12(5); required for partial and refuse"
);
choices!(
    /// The Art. 17(1) basis of an erasure.
    ErasureBases => ["no-longer-necessary", "consent-withdrawn", "objection", "unlawful", "legal-obligation", "child"], "decide: the Art. 17(1) basis"
);
choices!(
    /// How a request ended.
    Outcomes => ["done", "refused", "withdrawn"], "close: how it ended"
);
choices!(
    /// A report's format.
    ReportFormats => ["md", "html", "json"], "md, html or json (default)"
);
choices!(
    /// An answer's format.
    AnswerFormats => ["md", "json"], "md or json (default); a portability answer is json only"
);
choices!(
    /// A report's phase.
    Phases => ["initial", "follow-up"], "initial (default) or follow-up"
);

/// Whole numbers as JSON Schema counts them: `804` and `804.0` alike (a client in JavaScript or
/// Python may write either), refused when they have a fraction or do not fit.
pub mod whole {
    use serde::de::{self, Deserializer, Visitor};
    use std::fmt;

    struct Whole {
        text: bool,
    }

    impl Visitor<'_> for Whole {
        type Value = i128;

        fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
            formatter.write_str("a whole number")
        }

        fn visit_i64<E: de::Error>(self, value: i64) -> Result<i128, E> {
            Ok(i128::from(value))
        }

        fn visit_u64<E: de::Error>(self, value: u64) -> Result<i128, E> {
            Ok(i128::from(value))
        }

        fn visit_f64<E: de::Error>(self, value: f64) -> Result<i128, E> {
            // Beyond 2^63 a float is never exact enough to name one whole number.
            if value.fract() != 0.0 || !value.is_finite() {
                Err(E::custom(format!("{value} is not a whole number")))
            } else if value.abs() < 9.2e18 {
                #[allow(clippy::cast_possible_truncation)]
                Ok(value as i128)
            } else {
                Err(E::custom(format!("{value} is out of range")))
            }
        }

        fn visit_str<E: de::Error>(self, value: &str) -> Result<i128, E> {
            if !self.text {
                return Err(E::invalid_type(de::Unexpected::Str(value), &self));
            }
            // In a query, a whole number is written in digits, as the document's integers are.
            let digits = value.strip_prefix('-').unwrap_or(value);
            match value.parse::<i128>() {
                Ok(number) if !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit()) => {
                    Ok(number)
                }
                _ => Err(E::custom(format!(
                    "{} is not a whole number",
                    crate::error::quoted(value)
                ))),
            }
        }
    }

    /// Within `T` and within int64, the format the document gives every whole number.
    fn fit<T: TryFrom<i64>, E: de::Error>(number: i128) -> Result<T, E> {
        i64::try_from(number)
            .ok()
            .and_then(|number| T::try_from(number).ok())
            .ok_or_else(|| E::custom(format!("{number} is out of range")))
    }

    /// A whole number of at least 1 in a JSON body.
    pub fn positive<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
        let number: i64 = fit(deserializer.deserialize_any(Whole { text: false })?)?;
        if number < 1 {
            return Err(de::Error::custom(format!("{number} is below 1")));
        }
        Ok(number)
    }

    /// A whole number in a JSON body.
    pub fn number<'de, D: Deserializer<'de>, T: TryFrom<i64>>(deserializer: D) -> Result<T, D::Error> {
        fit(deserializer.deserialize_any(Whole { text: false })?)
    }

    /// An optional whole number in a JSON body.
    pub fn optional<'de, D: Deserializer<'de>, T: TryFrom<i64>>(
        deserializer: D,
    ) -> Result<Option<T>, D::Error> {
        let value: Option<serde_json::Value> = serde::Deserialize::deserialize(deserializer)?;
        match value {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(value) => number(value).map(Some).map_err(de::Error::custom),
        }
    }

    /// An optional whole number in a query string.
    pub fn optional_text<'de, D: Deserializer<'de>, T: TryFrom<i64>>(
        deserializer: D,
    ) -> Result<Option<T>, D::Error> {
        let value: Option<String> = serde::Deserialize::deserialize(deserializer)?;
        match value {
            None => Ok(None),
            Some(text) => Whole { text: true }
                .visit_str::<D::Error>(&text)
                .and_then(fit)
                .map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read<T: for<'de> Deserialize<'de>>(json: &str) -> Result<T, String> {
        serde_json::from_str(json).map_err(|error| error.to_string())
    }

    #[test]
    fn texts_are_refused_as_their_schema_says_while_the_body_is_read() {
        assert_eq!(
            read::<ShortText>(r#""Example CRM""#).map(|text| text.0),
            Ok("Example CRM".to_owned())
        );
        assert!(read::<ShortText>(r#""""#).is_err(), "empty");
        assert!(read::<ShortText>(r#"" \t\u3000""#).is_err(), "blank");
        assert!(
            read::<LongText>(r#""line\none\ttab""#).is_ok(),
            "line breaks and tabs are text"
        );
        assert!(
            read::<SupplierName>(r#""Example\nCRM""#).is_err(),
            "a name is one line"
        );
        assert!(read::<SupplierName>(r#""Example CRM""#).is_ok());
        assert!(
            read::<LongText>(r#""bell\u0007""#).is_err(),
            "a control character"
        );
        assert!(
            read::<LongText>(r#""c1\u0085""#).is_err(),
            "a C1 control character"
        );
        let longest = format!("\"{}\"", "é".repeat(custody_core::SHORT_TEXT_CHARS_MAX));
        assert!(
            read::<ShortText>(&longest).is_ok(),
            "characters are counted, not bytes"
        );
        let longer = format!("\"{}\"", "é".repeat(custody_core::SHORT_TEXT_CHARS_MAX + 1));
        assert!(read::<ShortText>(&longer).is_err());
        let schema = serde_json::to_value(<ShortText as utoipa::PartialSchema>::schema()).unwrap_or_default();
        assert_eq!(schema["maxLength"], custody_core::SHORT_TEXT_CHARS_MAX);
        assert_eq!(schema["minLength"], 1);
        assert_eq!(schema["pattern"], text_pattern());
    }

    #[test]
    fn words_times_and_numbers_are_read_as_described() {
        assert!(read::<Natures>(r#""integrity""#).is_ok());
        let refused = read::<Natures>(r#""nope""#).unwrap_err();
        assert!(
            refused.contains("\"nope\" is not one of confidentiality, integrity, availability"),
            "{refused}"
        );
        assert!(read::<Instant>(r#""2021-10-29T18:30:00+01:00""#).is_ok());
        assert!(
            read::<Instant>(r#""0001-01-01T00:00:00.123456-23:59""#).is_ok(),
            "RFC 3339's whole range"
        );
        assert!(read::<Instant>(r#""2021-10-29 18:30""#).is_ok(), "a local time");
        assert!(read::<Instant>(r#""soon""#).is_err());
        assert!(
            read::<Instant>(r#""2021-10-29""#).is_ok(),
            "a date alone is its midnight"
        );
        assert!(
            read::<Instant>(r#""9999-12-31T23:59:59.999999+00:30""#).is_ok(),
            "RFC 3339's top of range reads"
        );
        assert!(read::<Email>(r#""ada@example.org""#).is_ok());
        assert!(read::<Email>(r#""not an address""#).is_err());
        assert!(read::<Date>(r#""1970-01-31""#).is_ok());
        assert!(read::<Date>(r#""1970-02-31""#).is_err());

        #[derive(serde::Deserialize)]
        struct Counted {
            #[serde(default, deserialize_with = "whole::optional")]
            count: Option<u32>,
        }
        let count = |json: &str| read::<Counted>(json).map(|counted| counted.count);
        assert_eq!(count(r#"{"count": 804}"#), Ok(Some(804)));
        assert_eq!(
            count(r#"{"count": 804.0}"#),
            Ok(Some(804)),
            "JSON Schema's integer"
        );
        assert_eq!(count(r#"{"count": null}"#), Ok(None));
        assert_eq!(count("{}"), Ok(None));
        assert!(count(r#"{"count": 804.5}"#).is_err());
        assert!(count(r#"{"count": -1}"#).is_err());
        assert!(
            count(r#"{"count": "804"}"#).is_err(),
            "a string is not a number in a body"
        );
    }
}
