//! Requests from the people whose data the organisation holds (UK/EU GDPR Art. 15 to 21) and
//! their clock: one month from the relevant time (UK GDPR Art. 12(3) and Art. 12A, inserted by
//! the Data (Use and Access) Act 2025), extendable by up to two further months, counted as the
//! UK regulator counts it (see [`request_deadline`]). Pure: the caller gives every instant and
//! the bank holidays.

use std::collections::BTreeSet;

use jiff::ToSpan;
use jiff::civil::{Date, Weekday};

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
    /// Objection to processing (Art. 21); to direct marketing it is absolute (Art. 21(3)).
    Objection,
    /// Restriction of processing (Art. 18, told to every recipient under Art. 19).
    Restriction,
    /// Portability: the data in a machine-readable form (Art. 20).
    Portability,
}

impl RequestKind {
    /// Every kind, in the order of the articles.
    pub const ALL: [RequestKind; 6] = [
        RequestKind::Access,
        RequestKind::Rectification,
        RequestKind::Erasure,
        RequestKind::Restriction,
        RequestKind::Portability,
        RequestKind::Objection,
    ];

    /// Parses `access`, `erasure`, `rectification`, `objection`, `restriction` or `portability`
    /// (any case, with a few common other names).
    pub fn parse(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "access" | "sar" | "subject access" => Ok(RequestKind::Access),
            "erasure" | "deletion" | "delete" => Ok(RequestKind::Erasure),
            "rectification" | "correction" => Ok(RequestKind::Rectification),
            "objection" | "object" => Ok(RequestKind::Objection),
            "restriction" | "restrict" => Ok(RequestKind::Restriction),
            "portability" | "port" => Ok(RequestKind::Portability),
            _ => Err(Error::invalid(
                "request kind",
                text,
                "access, erasure, rectification, objection, restriction or portability",
            )),
        }
    }

    /// The article of UK GDPR that gives the right.
    pub fn article(self) -> &'static str {
        match self {
            RequestKind::Access => "Art. 15",
            RequestKind::Rectification => "Art. 16",
            RequestKind::Erasure => "Art. 17",
            RequestKind::Restriction => "Art. 18",
            RequestKind::Portability => "Art. 20",
            RequestKind::Objection => "Art. 21",
        }
    }

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Access => "access",
            RequestKind::Erasure => "erasure",
            RequestKind::Rectification => "rectification",
            RequestKind::Objection => "objection",
            RequestKind::Restriction => "restriction",
            RequestKind::Portability => "portability",
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

/// Whether a day is a working day: Monday to Friday and not a bank holiday.
pub fn is_working_day(day: Day, bank_holidays: &BTreeSet<Day>) -> bool {
    !matches!(day.date().weekday(), Weekday::Saturday | Weekday::Sunday) && !bank_holidays.contains(&day)
}

/// The day itself when it is a working day, else the next one.
pub fn next_working_day(day: Day, bank_holidays: &BTreeSet<Day>) -> Day {
    step_to_working_day(day, bank_holidays, Date::tomorrow)
}

/// The day itself when it is a working day, else the working day before it.
pub fn previous_working_day(day: Day, bank_holidays: &BTreeSet<Day>) -> Day {
    step_to_working_day(day, bank_holidays, Date::yesterday)
}

fn step_to_working_day(
    day: Day,
    bank_holidays: &BTreeSet<Day>,
    step: fn(Date) -> Result<Date, jiff::Error>,
) -> Day {
    let mut date = day.date();
    // A run of non-working days is never longer than a few days; 31 bounds a bad holiday file.
    for _ in 0..31 {
        if is_working_day(Day::from_date(date), bank_holidays) {
            break;
        }
        match step(date) {
            Ok(next) => date = next,
            Err(_) => break,
        }
    }
    Day::from_date(date)
}

/// The legal deadline of a request whose clock started on `start` (the relevant time, UK GDPR
/// Art. 12A: receipt, or the later receipt of the identity information or fee asked for), with
/// `extension` further months and `paused_days` days that do not count (Art. 12A: asking the
/// requester to clarify an access request stops the clock from the day asked to the day answered).
///
/// The UK regulator's rule (ICO, "Right of access: how long do we have to comply?"): count from
/// the day of receipt to the corresponding calendar date of the next month, or the last day of
/// that month when it has no such date; when that day is a weekend or a bank holiday, the
/// deadline is the next working day. Received 31 Jan 2026 gives Mon 2 Mar 2026; received
/// 25 Nov 2025 gives Mon 29 Dec 2025.
pub fn request_deadline(
    start: Day,
    extension: u8,
    paused_days: i64,
    bank_holidays: &BTreeSet<Day>,
) -> Result<Day> {
    let calendar = request_due(start, extension)?;
    let moved = calendar
        .date()
        .checked_add(paused_days.max(0).days())
        .map_err(|_| Error::invalid("paused days", &paused_days.to_string(), "fewer days"))?;
    Ok(next_working_day(Day::from_date(moved), bank_holidays))
}

/// The internal target: `days_before` calendar days before the deadline, moved back to a
/// working day.
pub fn request_target(deadline: Day, days_before: u32, bank_holidays: &BTreeSet<Day>) -> Day {
    let day = deadline
        .date()
        .checked_sub(i64::from(days_before).days())
        .map(Day::from_date)
        .unwrap_or(deadline);
    previous_working_day(day, bank_holidays)
}

/// Why a request's clock is paused (UK GDPR Art. 12A, inserted by the Data (Use and Access) Act
/// 2025).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseReason {
    /// Asked the requester to clarify an access request, where the organisation processes a
    /// large amount of information about them: the days until the answer do not count.
    Clarification,
    /// Asked for a fee (Art. 12(5), 15(3)): the clock starts again when it is paid.
    Fee,
    /// Asked for information to confirm identity (Art. 12(6)): the clock starts again when it
    /// arrives.
    Identity,
}

impl PauseReason {
    /// Parses `clarification`, `fee` or `identity`.
    pub fn parse(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "clarification" | "clarify" => Ok(PauseReason::Clarification),
            "fee" => Ok(PauseReason::Fee),
            "identity" | "id" => Ok(PauseReason::Identity),
            _ => Err(Error::invalid(
                "pause reason",
                text,
                "clarification, fee or identity",
            )),
        }
    }

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            PauseReason::Clarification => "clarification",
            PauseReason::Fee => "fee",
            PauseReason::Identity => "identity",
        }
    }

    /// What the pause does to the clock, in words.
    pub fn effect(self) -> &'static str {
        match self {
            PauseReason::Clarification => {
                "the days from asking to the answer do not count (UK GDPR Art. 12A)"
            }
            PauseReason::Fee => "the month starts again when the fee is paid (UK GDPR Art. 12A)",
            PauseReason::Identity => {
                "the month starts again when the identity information arrives (UK GDPR Art. 12A)"
            }
        }
    }
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
    /// Waiting for the requester (clarification, fee or identity): the clock does not run.
    Paused,
}

impl RequestClockState {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestClockState::Open => "open",
            RequestClockState::Overdue => "overdue",
            RequestClockState::Met => "met",
            RequestClockState::Late => "late",
            RequestClockState::Paused => "paused",
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

    fn holidays(days: &[&str]) -> BTreeSet<Day> {
        days.iter().map(|day| parse_day(day).unwrap()).collect()
    }

    fn deadline(received: &str, extension: u8, paused: i64, bank: &BTreeSet<Day>) -> String {
        request_deadline(parse_day(received).unwrap(), extension, paused, bank)
            .unwrap()
            .to_iso()
    }

    #[test]
    fn deadlines_move_to_the_next_working_day() {
        // England and Wales, 2025 to 2026 (GOV.UK bank holidays).
        let bank = holidays(&[
            "2025-12-25",
            "2025-12-26",
            "2026-01-01",
            "2026-04-03",
            "2026-04-06",
        ]);
        // The two cases: the calendar date is a Saturday, then Christmas Day.
        assert_eq!(deadline("2026-01-31", 0, 0, &bank), "2026-03-02");
        assert_eq!(deadline("2025-11-25", 0, 0, &bank), "2025-12-29");
        // Good Friday then Easter Monday: the next working day is the Tuesday.
        assert_eq!(deadline("2026-03-03", 0, 0, &bank), "2026-04-07");
        // A working day stays.
        assert_eq!(deadline("2026-03-02", 0, 0, &bank), "2026-04-02");
        // Extensions count from the same rule: 31 Jan + 3 months is Thu 30 Apr 2026.
        assert_eq!(deadline("2026-01-31", 2, 0, &bank), "2026-04-30");
        // Paused days move the calendar date before it is moved off a weekend.
        assert_eq!(deadline("2026-03-03", 0, 2, &bank), "2026-04-07");
        assert_eq!(deadline("2026-03-10", 0, 5, &bank), "2026-04-15");
        // Without the holidays, Christmas Day 2025 (a Thursday) would be the deadline.
        assert_eq!(deadline("2025-11-25", 0, 0, &BTreeSet::new()), "2025-12-25");
    }

    #[test]
    fn targets_fall_back_to_a_working_day() {
        let bank = holidays(&["2026-04-03", "2026-04-06"]);
        let due = parse_day("2026-04-07").unwrap();
        // Five days before is Thu 2 April; four before is Good Friday, so Thu 2 April again.
        assert_eq!(request_target(due, 5, &bank).to_iso(), "2026-04-02");
        assert_eq!(request_target(due, 4, &bank).to_iso(), "2026-04-02");
        assert_eq!(request_target(due, 0, &bank).to_iso(), "2026-04-07");
    }

    #[test]
    fn pause_reasons_parse() {
        assert_eq!(PauseReason::parse("Fee").unwrap(), PauseReason::Fee);
        assert!(PauseReason::parse("holiday").is_err());
        assert_eq!(
            RequestKind::parse("portability").unwrap(),
            RequestKind::Portability
        );
        assert_eq!(RequestKind::parse("restriction").unwrap().article(), "Art. 18");
    }

    #[test]
    fn kinds_and_channels_parse() {
        assert_eq!(RequestKind::parse("Erasure").unwrap(), RequestKind::Erasure);
        assert!(RequestKind::parse("forgetting").is_err());
        assert_eq!(Channel::parse("POST").unwrap(), Channel::Post);
        assert!(Channel::parse("pigeon").is_err());
    }
}
