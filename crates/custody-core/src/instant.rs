//! Instants and days. Deadlines are computed on absolute instants (UTC) and shown in the
//! organisation's time zone; a local time that a daylight-saving change skips or repeats is
//! refused rather than guessed, because a DPO's deadline must not move by an hour silently.

use std::fmt;

use jiff::civil::{Date, DateTime};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{Timestamp, ZonedDateTime};

use crate::error::{Error, Result};

/// An absolute point in time, to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(Timestamp);

impl Instant {
    /// From Unix seconds, as the store keeps instants.
    pub fn from_unix_seconds(seconds: i64) -> Result<Self> {
        Timestamp::from_second(seconds).map(Instant).map_err(|_| {
            Error::invalid(
                "instant",
                &seconds.to_string(),
                "Unix seconds within years -9999..9999",
            )
        })
    }

    /// Unix seconds.
    pub fn unix_seconds(self) -> i64 {
        self.0.as_second()
    }

    /// The underlying timestamp.
    pub fn timestamp(self) -> Timestamp {
        self.0
    }

    /// From a timestamp, dropping fractions of a second.
    pub fn from_timestamp(timestamp: Timestamp) -> Self {
        Instant(Timestamp::from_second(timestamp.as_second()).unwrap_or(timestamp))
    }

    /// RFC 3339 in UTC, e.g. `2021-11-01T17:30:00Z`.
    pub fn to_rfc3339(self) -> String {
        self.0.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
    }

    /// The instant in a time zone, e.g. `2021-10-29 18:30 BST`.
    pub fn local(self, zone: &TimeZoneName) -> String {
        self.0
            .to_zoned_datetime(zone.zone.clone())
            .strftime("%Y-%m-%d %H:%M %Z")
            .to_string()
    }

    /// The instant in a time zone as a form's local date-time field takes it (`2021-10-29T18:30`).
    pub fn local_input(self, zone: &TimeZoneName) -> String {
        self.0
            .to_zoned_datetime(zone.zone.clone())
            .strftime("%Y-%m-%dT%H:%M")
            .to_string()
    }

    /// The calendar day of the instant in a time zone.
    pub fn local_day(self, zone: &TimeZoneName) -> Day {
        Day(self.0.to_zoned_datetime(zone.zone.clone()).date())
    }

    /// The instant plus whole hours of real (elapsed) time.
    pub fn plus_hours(self, hours: i64) -> Self {
        Instant(
            self.0
                .saturating_add(jiff::SignedDuration::from_hours(hours))
                .unwrap_or(self.0),
        )
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl serde::Serialize for Instant {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> serde::Deserialize<'de> for Instant {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(deserializer)?;
        text.parse::<Timestamp>()
            .map(Instant::from_timestamp)
            .map_err(serde::de::Error::custom)
    }
}

/// A calendar date with no time of day (a join date, a date of birth).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(Date);

/// A day's ISO 8601 text, on the stack for the years 0 to 9999 (a bulk write formats millions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IsoDay {
    /// `yyyy-mm-dd`.
    Short([u8; 10]),
    /// A year outside 0..=9999, as [`Day::to_iso`] writes it.
    Long(String),
}

impl IsoDay {
    /// The text.
    pub fn as_str(&self) -> &str {
        match self {
            IsoDay::Short(bytes) => std::str::from_utf8(bytes).unwrap_or_default(),
            IsoDay::Long(text) => text,
        }
    }
}

impl Day {
    /// ISO 8601, `yyyy-mm-dd`.
    pub fn to_iso(self) -> String {
        self.0.to_string()
    }

    /// The same text as [`Day::to_iso`], without an allocation for the years 0 to 9999.
    pub fn iso(self) -> IsoDay {
        let Some(number) = self.number() else {
            return IsoDay::Long(self.to_iso());
        };
        let mut bytes = *b"0000-00-00";
        // yyyymmdd's digits, last first, into their places in the text.
        let mut rest = number;
        for at in [9usize, 8, 6, 5, 3, 2, 1, 0] {
            if let Some(byte) = bytes.get_mut(at) {
                *byte = b'0' + u8::try_from(rest % 10).unwrap_or(0);
            }
            rest /= 10;
        }
        IsoDay::Short(bytes)
    }

    /// The day as the number yyyymmdd (2024-03-01 is 20240301), for the years 0 to 9999.
    pub fn number(self) -> Option<u32> {
        let year = u32::try_from(self.0.year()).ok().filter(|year| *year <= 9999)?;
        let month = u32::try_from(self.0.month()).ok()?;
        let day = u32::try_from(self.0.day()).ok()?;
        Some(year * 10_000 + month * 100 + day)
    }

    /// The underlying date.
    pub fn date(self) -> Date {
        self.0
    }

    /// From a jiff date.
    pub fn from_date(date: Date) -> Self {
        Day(date)
    }

    /// The instant this day starts in a time zone (the first instant that exists that day).
    pub fn start(self, zone: &TimeZoneName) -> Instant {
        self.0
            .to_zoned_datetime(zone.zone.clone())
            .and_then(|zoned| zoned.start_of_day())
            .map(|zoned| Instant(zoned.timestamp()))
            .unwrap_or_else(|_| Instant(Timestamp::UNIX_EPOCH))
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An IANA time-zone name that exists in the bundled time-zone database.
#[derive(Clone, Debug)]
pub struct TimeZoneName {
    name: String,
    zone: TimeZone,
}

impl TimeZoneName {
    /// Looks the name up, e.g. `Europe/London`.
    pub fn parse(name: &str) -> Result<Self> {
        TimeZone::get(name)
            .map(|zone| TimeZoneName {
                name: name.to_owned(),
                zone,
            })
            .map_err(|_| Error::invalid("time zone", name, "an IANA time-zone name such as Europe/London"))
    }

    /// The name as given.
    pub fn as_str(&self) -> &str {
        &self.name
    }
}

/// Parses a day in ISO 8601 (`2021-10-29`) or UK day-first form (`29/10/2021`, `9/1/2021`).
pub fn parse_day(text: &str) -> Result<Day> {
    let trimmed = text.trim();
    let expected = "a date as yyyy-mm-dd or dd/mm/yyyy";
    if let Some((day, rest)) = trimmed.split_once('/') {
        let (month, year) = rest
            .split_once('/')
            .ok_or_else(|| Error::invalid("date", text, expected))?;
        let number = |part: &str, digits_max: usize| -> Result<i64> {
            if part.is_empty() || part.len() > digits_max || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Error::invalid("date", text, expected));
            }
            part.parse().map_err(|_| Error::invalid("date", text, expected))
        };
        let (day, month, year) = (number(day, 2)?, number(month, 2)?, number(year, 4)?);
        if year < 1000 {
            return Err(Error::invalid("date", text, "a four-digit year"));
        }
        let date = Date::new(year as i16, month as i8, day as i8)
            .map_err(|_| Error::invalid("date", text, "a day that exists in the calendar"))?;
        return Ok(Day(date));
    }
    if trimmed.len() != 10 {
        return Err(Error::invalid("date", text, expected));
    }
    trimmed
        .parse::<Date>()
        .map(Day)
        .map_err(|_| Error::invalid("date", text, "a day that exists, as yyyy-mm-dd"))
}

/// Parses an INSTANT: RFC 3339 with an offset (`2021-10-29T18:30:00+01:00`, `…Z`), or a local
/// date-time (`2021-10-29 18:30`, `2021-10-29T18:30:00`) or a date (its start) in `zone`.
pub fn parse_instant(text: &str, zone: &TimeZoneName) -> Result<Instant> {
    let trimmed = text.trim();
    let expected = "RFC 3339 with an offset (2021-10-29T18:30:00+01:00) or a local time (2021-10-29 18:30)";
    if let Ok(timestamp) = trimmed.parse::<Timestamp>() {
        return Ok(Instant::from_timestamp(timestamp));
    }
    if trimmed.len() == 10 {
        return parse_day(trimmed).map(|day| day.start(zone));
    }
    if trimmed.contains('[') {
        let zoned: ZonedDateTime = trimmed
            .parse()
            .map_err(|_| Error::invalid("instant", text, expected))?;
        return Ok(Instant::from_timestamp(zoned.timestamp()));
    }
    let civil: DateTime = trimmed
        .replacen(' ', "T", 1)
        .parse()
        .map_err(|_| Error::invalid("instant", text, expected))?;
    local_to_instant(civil, zone, text)
}

fn local_to_instant(civil: DateTime, zone: &TimeZoneName, text: &str) -> Result<Instant> {
    let ambiguous = zone.zone.to_ambiguous_timestamp(civil);
    match ambiguous.offset() {
        AmbiguousOffset::Unambiguous { offset } => offset
            .to_timestamp(civil)
            .map(Instant::from_timestamp)
            .map_err(|_| Error::invalid("instant", text, "a time within years -9999..9999")),
        AmbiguousOffset::Gap { before, after } => Err(Error::AmbiguousLocalTime(format!(
            "{text:?} does not exist in {}: the clocks went forward from {before} to {after}; \
             give the instant with an offset",
            zone.name
        ))),
        AmbiguousOffset::Fold { before, after } => Err(Error::AmbiguousLocalTime(format!(
            "{text:?} happened twice in {}: once at {before} and again at {after}; \
             give the instant with an offset, e.g. {}{before}",
            zone.name,
            civil.strftime("%Y-%m-%dT%H:%M:%S")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_written_on_the_stack_is_the_same_text() {
        let mut day = Date::new(-9999, 1, 1).unwrap();
        let mut compared = 0;
        while day < Date::new(9999, 9, 1).unwrap() {
            let ours = Day(day);
            assert_eq!(ours.iso().as_str(), ours.to_iso(), "{day}");
            let digits: String = ours.to_iso().chars().filter(char::is_ascii_digit).collect();
            let expected = (digits.len() == 8).then(|| digits.parse::<u32>().unwrap());
            assert_eq!(ours.number(), expected, "{day}");
            compared += 1;
            day = day.checked_add(jiff::Span::new().days(97)).unwrap();
        }
        assert!(compared > 70_000);
        for (year, month, date) in [
            (0, 1, 1),
            (999, 12, 31),
            (1000, 1, 1),
            (9999, 12, 31),
            (-1, 6, 15),
        ] {
            let ours = Day(Date::new(year, month, date).unwrap());
            assert_eq!(ours.iso().as_str(), ours.to_iso());
        }
        assert_eq!(Day(Date::new(2024, 3, 1).unwrap()).number(), Some(20_240_301));
    }

    fn london() -> TimeZoneName {
        TimeZoneName::parse("Europe/London").unwrap()
    }

    #[test]
    fn seventy_two_real_hours_cross_the_autumn_change() {
        // Aware on Friday 29 October 2021 at 18:30 UK time (BST, +01:00); clocks went back on
        // Sunday 31 October, so 72 real hours later is 17:30 UTC on Monday 1 November.
        let aware = parse_instant("2021-10-29 18:30", &london()).unwrap();
        assert_eq!(aware.to_rfc3339(), "2021-10-29T17:30:00Z");
        let due = aware.plus_hours(72);
        assert_eq!(due.to_rfc3339(), "2021-11-01T17:30:00Z");
        assert_eq!(due.local(&london()), "2021-11-01 17:30 GMT");
    }

    #[test]
    fn repeated_and_skipped_local_times_are_refused() {
        let fold = parse_instant("2021-10-31 01:30", &london()).unwrap_err();
        assert!(fold.to_string().contains("happened twice"), "{fold}");
        let gap = parse_instant("2021-03-28 01:30", &london()).unwrap_err();
        assert!(gap.to_string().contains("does not exist"), "{gap}");
        let explicit = parse_instant("2021-10-31T01:30:00+00:00", &london()).unwrap();
        assert_eq!(explicit.to_rfc3339(), "2021-10-31T01:30:00Z");
    }

    #[test]
    fn days_in_both_forms() {
        assert_eq!(parse_day("2021-10-29").unwrap().to_iso(), "2021-10-29");
        assert_eq!(parse_day("29/10/2021").unwrap().to_iso(), "2021-10-29");
        assert_eq!(parse_day("9/1/2021").unwrap().to_iso(), "2021-01-09");
        assert!(parse_day("31/02/2021").is_err());
        assert!(parse_day("2021-02-30").is_err());
        assert!(
            parse_day("10/29/2021").is_err(),
            "US month-first dates are not guessed"
        );
        assert!(parse_day("yesterday").is_err());
    }

    #[test]
    fn a_date_alone_is_the_start_of_that_local_day() {
        let start = parse_instant("2021-07-01", &london()).unwrap();
        assert_eq!(start.to_rfc3339(), "2021-06-30T23:00:00Z");
    }
}
