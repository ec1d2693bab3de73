//! Requests from the people whose data the organisation holds (UK/EU GDPR Art. 15 to 21) and
//! their clock: one calendar month from receipt (Art. 12(3)), extendable by up to two further
//! months. Pure: the caller gives every instant.

use jiff::ToSpan;

use crate::error::{Error, Result};
use crate::instant::Day;

/// What a person asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// A copy of their data and to whom it went (Art. 15).
    Access,
    /// Erasure, told to every recipient (Art. 17, 19).
    Erasure,
    /// Correction (Art. 16, 19).
    Rectification,
    /// Objection to processing (Art. 21).
    Objection,
}

impl RequestKind {
    /// Parses `access`, `erasure`, `rectification` or `objection` (any case).
    pub fn parse(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "access" | "sar" | "subject access" => Ok(RequestKind::Access),
            "erasure" | "deletion" | "delete" => Ok(RequestKind::Erasure),
            "rectification" | "correction" => Ok(RequestKind::Rectification),
            "objection" | "object" => Ok(RequestKind::Objection),
            _ => Err(Error::invalid(
                "request kind",
                text,
                "access, erasure, rectification or objection",
            )),
        }
    }

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Access => "access",
            RequestKind::Erasure => "erasure",
            RequestKind::Rectification => "rectification",
            RequestKind::Objection => "objection",
        }
    }
}

/// How a request arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// By email.
    Email,
    /// By post.
    Post,
    /// Through a web form.
    Web,
    /// By telephone.
    Phone,
}

impl Channel {
    /// Parses `email`, `post`, `web` or `phone` (any case).
    pub fn parse(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "email" | "e-mail" | "mail" => Ok(Channel::Email),
            "post" | "letter" => Ok(Channel::Post),
            "web" | "form" | "web form" => Ok(Channel::Web),
            "phone" | "telephone" => Ok(Channel::Phone),
            _ => Err(Error::invalid("channel", text, "email, post, web or phone")),
        }
    }

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Post => "post",
            Channel::Web => "web",
            Channel::Phone => "phone",
        }
    }
}

/// The most the period may be extended, in months (Art. 12(3)).
pub const MAX_EXTENSION_MONTHS: u8 = 2;

/// The last day to answer a request received on `received`, with `extension` further months:
/// the same day-of-month `1 + extension` months later, or the last day of that month when it
/// has no such day (received 31 January → 28 or 29 February). Counted from the day of receipt,
/// never chained month by month (31 January + 3 months is 30 April, not 28 April).
pub fn request_due(received: Day, extension: u8) -> Result<Day> {
    if extension > MAX_EXTENSION_MONTHS {
        return Err(Error::invalid(
            "extension",
            &extension.to_string(),
            "at most two further months in all (Art. 12(3))",
        ));
    }
    let months = i64::from(extension) + 1;
    received
        .date()
        .checked_add(months.months())
        .map(Day::from_date)
        .map_err(|_| {
            Error::invalid(
                "received date",
                &received.to_iso(),
                "a date far from the calendar's ends",
            )
        })
}

/// Where a request stands against its clock on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestClockState {
    /// Open, due day not passed.
    Open,
    /// Open, due day passed.
    Overdue,
    /// Done on or before the due day.
    Met,
    /// Done after the due day.
    Late,
}

impl RequestClockState {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestClockState::Open => "open",
            RequestClockState::Overdue => "overdue",
            RequestClockState::Met => "met",
            RequestClockState::Late => "late",
        }
    }
}

/// The clock's state on `today` (the organisation's local day), given the day it was done.
pub fn request_clock(due: Day, done: Option<Day>, today: Day) -> RequestClockState {
    match done {
        Some(day) if day <= due => RequestClockState::Met,
        Some(_) => RequestClockState::Late,
        None if today > due => RequestClockState::Overdue,
        None => RequestClockState::Open,
    }
}

/// Days from `today` to `due` (negative when overdue).
pub fn days_left(due: Day, today: Day) -> i64 {
    today
        .date()
        .until(due.date())
        .map(|span| i64::from(span.get_days()))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instant::parse_day;

    fn due(received: &str, extension: u8) -> String {
        request_due(parse_day(received).unwrap(), extension)
            .unwrap()
            .to_iso()
    }

    #[test]
    fn one_calendar_month_to_the_same_day() {
        assert_eq!(due("2026-03-03", 0), "2026-04-03");
        assert_eq!(due("2026-12-15", 0), "2027-01-15");
    }

    #[test]
    fn month_ends_fall_back_to_the_last_day() {
        assert_eq!(due("2026-01-31", 0), "2026-02-28");
        assert_eq!(due("2028-01-31", 0), "2028-02-29");
        assert_eq!(due("2028-01-30", 0), "2028-02-29");
        assert_eq!(due("2026-03-31", 0), "2026-04-30");
        assert_eq!(due("2026-08-31", 0), "2026-09-30");
        assert_eq!(due("2028-02-29", 0), "2028-03-29");
    }

    #[test]
    fn extensions_count_from_receipt_not_from_the_first_due_day() {
        assert_eq!(due("2026-01-31", 1), "2026-03-31");
        assert_eq!(due("2026-01-31", 2), "2026-04-30");
        assert_eq!(due("2027-11-30", 2), "2028-02-29");
        assert!(request_due(parse_day("2026-01-31").unwrap(), 3).is_err());
    }

    #[test]
    fn clock_states() {
        let due = parse_day("2026-02-28").unwrap();
        let day = |text| parse_day(text).unwrap();
        assert_eq!(
            request_clock(due, None, day("2026-02-28")),
            RequestClockState::Open
        );
        assert_eq!(
            request_clock(due, None, day("2026-03-01")),
            RequestClockState::Overdue
        );
        assert_eq!(
            request_clock(due, Some(day("2026-02-28")), day("2026-06-01")),
            RequestClockState::Met
        );
        assert_eq!(
            request_clock(due, Some(day("2026-03-01")), day("2026-03-01")),
            RequestClockState::Late
        );
        assert_eq!(days_left(due, day("2026-02-20")), 8);
        assert_eq!(days_left(due, day("2026-03-02")), -2);
    }

    #[test]
    fn kinds_and_channels_parse() {
        assert_eq!(RequestKind::parse("Erasure").unwrap(), RequestKind::Erasure);
        assert!(RequestKind::parse("portability").is_err());
        assert_eq!(Channel::parse("POST").unwrap(), Channel::Post);
        assert!(Channel::parse("pigeon").is_err());
    }
}
