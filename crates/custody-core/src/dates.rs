//! Dates as CRM exports write them: ISO (`1980-04-03`), compact (`19800403`), year first
//! (`1980/04/03`), and day and month in either order (`03/04/1980`, `04/03/1980`, with `/`, `.`
//! or `-`). Day-first and month-first cannot be told apart value by value when both parts are 12
//! or less: the order is decided for a whole file from the values that prove it, or given by the
//! user, and never guessed.

use jiff::civil::Date;

use crate::error::{Error, Result};
use crate::instant::Day;

/// The order of day and month (and year) in a file's dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOrder {
    /// Day, month, year (UK and most of the world).
    Dmy,
    /// Month, day, year (US exports).
    Mdy,
    /// Year, month, day.
    Ymd,
}

impl DateOrder {
    /// Parses `dmy`, `mdy` or `ymd`.
    pub fn parse(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "dmy" => Ok(DateOrder::Dmy),
            "mdy" => Ok(DateOrder::Mdy),
            "ymd" => Ok(DateOrder::Ymd),
            _ => Err(Error::invalid("date order", text, "dmy, mdy or ymd")),
        }
    }

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            DateOrder::Dmy => "dmy",
            DateOrder::Mdy => "mdy",
            DateOrder::Ymd => "ymd",
        }
    }
}

/// What one written date says about its file's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateEvidence {
    /// Its order is fixed by its form (ISO, compact, year first) or both readings agree.
    Unordered,
    /// It can only be read in this order (`25/03/1980` is day first).
    Proves(DateOrder),
    /// Both parts are 12 or less and differ: day first and month first give different dates.
    Ambiguous,
}

/// The three numeric parts of a separated date, with whether the year comes first.
fn parts(text: &str) -> Option<(u32, u32, u32, bool)> {
    let separator = text.chars().find(|c| matches!(c, '/' | '.' | '-'))?;
    let mut pieces = text.split(separator);
    let (a, b, c) = (pieces.next()?, pieces.next()?, pieces.next()?);
    if pieces.next().is_some() {
        return None;
    }
    let digits = |part: &str, max: usize| {
        (!part.is_empty() && part.len() <= max && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse::<u32>().ok())
            .flatten()
    };
    if a.len() == 4 {
        return Some((digits(a, 4)?, digits(b, 2)?, digits(c, 2)?, true));
    }
    Some((digits(a, 2)?, digits(b, 2)?, digits(c, 4)?, false))
}

/// The date of a value that may carry a time after it (`2024-03-01 12:00:00`,
/// `2024-03-01T12:00:00Z`, `3/1/2024 12:00 PM`, as CRMs export timestamps).
fn date_part(text: &str) -> &str {
    let trimmed = text.trim();
    // No date with a time after it is this short (`2024-03-01`, `03/25/2024` are 10).
    if trimmed.len() <= 10 {
        return trimmed;
    }
    let cut = trimmed
        .find(char::is_whitespace)
        .or_else(|| trimmed.find('T').filter(|at| *at >= 8));
    cut.and_then(|at| trimmed.get(..at)).unwrap_or(trimmed)
}

/// Whether a date cell means "no date": every digit zero (`0/0/00`, `00/00/0000`, as Outlook
/// and some CRMs write an empty date).
pub fn is_blank_date(text: &str) -> bool {
    // Most dates have a digit other than zero: no need to look further.
    if text.bytes().any(|b| matches!(b, b'1'..=b'9')) {
        return false;
    }
    let text = date_part(text);
    text.bytes().any(|b| b.is_ascii_digit())
        && text.bytes().all(|b| b == b'0' || matches!(b, b'/' | b'-' | b'.'))
}

/// Year, month and day of text that is exactly `yyyy-mm-dd` in ASCII digits (a calendar day or
/// not).
fn iso_parts(text: &str) -> Option<(u32, u32, u32)> {
    let bytes: &[u8; 10] = text.as_bytes().try_into().ok()?;
    let digit = |at: usize| {
        bytes
            .get(at)
            .filter(|byte| byte.is_ascii_digit())
            .map(|byte| u32::from(byte - b'0'))
    };
    let number = |from: usize, to: usize| (from..to).try_fold(0, |sum, at| Some(sum * 10 + digit(at)?));
    if bytes.get(4) != Some(&b'-') || bytes.get(7) != Some(&b'-') {
        return None;
    }
    Some((number(0, 4)?, number(5, 7)?, number(8, 10)?))
}

/// Whether `text` is written exactly `yyyy-mm-dd` (ISO 8601's calendar date, digits only), the
/// form that needs no order to be read.
pub fn is_iso_date(text: &str) -> bool {
    iso_parts(text).is_some()
}

/// The two parts of a day-and-month value without a year (`25/03`, `03-25`).
fn month_day_parts(text: &str) -> Option<(u32, u32)> {
    let separator = text.chars().find(|c| matches!(c, '/' | '.' | '-'))?;
    let (a, b) = text.split_once(separator)?;
    let number = |part: &str| {
        (!part.is_empty() && part.len() <= 2 && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse::<u32>().ok())
            .flatten()
    };
    Some((number(a)?, number(b)?))
}

/// What a written date says about the order of its file.
pub fn date_evidence(text: &str) -> DateEvidence {
    let text = date_part(text);
    let (a, b) = match (parts(text), month_day_parts(text)) {
        (Some((a, b, _, false)), _) | (None, Some((a, b))) => (a, b),
        _ => return DateEvidence::Unordered,
    };
    match (a, b) {
        (a, b) if a != b && a <= 12 && b <= 12 => DateEvidence::Ambiguous,
        (a, b) if a > 12 && (1..=12).contains(&b) => DateEvidence::Proves(DateOrder::Dmy),
        (a, b) if b > 12 && (1..=12).contains(&a) => DateEvidence::Proves(DateOrder::Mdy),
        _ => DateEvidence::Unordered,
    }
}

/// A birthday without a year: month and day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct MonthDay {
    month: u8,
    day: u8,
}

impl MonthDay {
    /// The ISO 8601 form without a year, `--MM-DD`.
    pub fn to_iso(self) -> String {
        format!("--{:02}-{:02}", self.month, self.day)
    }
}

/// Reads a birthday without a year: `--03-25` or `--0325` (vCard and ISO 8601), or two parts in
/// the file's order (`03/25` month first, `25/03` day first). 29 February is a birthday.
pub fn parse_month_day_in(text: &str, order: Option<DateOrder>) -> Result<MonthDay> {
    let trimmed = date_part(text);
    let expected = "a birthday such as --03-25, 25/03 or 03/25";
    let (month, day) = if let Some(rest) = trimmed.strip_prefix("--") {
        let digits: String = rest.chars().filter(|c| *c != '-').collect();
        match (digits.len(), digits.get(..2), digits.get(2..)) {
            (4, Some(month), Some(day)) => (
                month
                    .parse::<u32>()
                    .map_err(|_| Error::invalid("birthday", text, expected))?,
                day.parse::<u32>()
                    .map_err(|_| Error::invalid("birthday", text, expected))?,
            ),
            _ => return Err(Error::invalid("birthday", text, expected)),
        }
    } else {
        let (a, b) = month_day_parts(trimmed).ok_or_else(|| Error::invalid("birthday", text, expected))?;
        let order = match (date_evidence(trimmed), order) {
            (DateEvidence::Proves(proved), Some(given)) if given != proved && given != DateOrder::Ymd => {
                return Err(Error::invalid(
                    "birthday",
                    text,
                    format!(
                        "a birthday in the file's order ({}); this one can only be {}",
                        given.as_str(),
                        proved.as_str()
                    ),
                ));
            }
            (DateEvidence::Proves(proved), _) => proved,
            (DateEvidence::Unordered, _) => DateOrder::Dmy,
            (DateEvidence::Ambiguous, Some(given)) if given != DateOrder::Ymd => given,
            (DateEvidence::Ambiguous, _) => {
                return Err(Error::invalid(
                    "birthday",
                    text,
                    "a birthday whose order is known: it could be day/month or month/day; pass --date-order dmy or mdy",
                ));
            }
        };
        match order {
            DateOrder::Mdy => (a, b),
            DateOrder::Dmy | DateOrder::Ymd => (b, a),
        }
    };
    let days = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let fits = month
        .checked_sub(1)
        .and_then(|index| days.get(index as usize))
        .is_some_and(|last| (1..=*last).contains(&day));
    if !fits {
        return Err(Error::invalid(
            "birthday",
            text,
            "a day that exists in the calendar",
        ));
    }
    Ok(MonthDay {
        month: u8::try_from(month).map_err(|_| Error::invalid("birthday", text, expected))?,
        day: u8::try_from(day).map_err(|_| Error::invalid("birthday", text, expected))?,
    })
}

/// Reads a date in a file whose order is `order` (`None`: not known, so a date that could be
/// either is refused rather than guessed).
pub fn parse_day_in(text: &str, order: Option<DateOrder>) -> Result<Day> {
    let trimmed = date_part(text);
    let expected = "a date such as 1980-04-03, 03/04/1980 or 19800403";
    let make = |year: u32, month: u32, day: u32| -> Result<Day> {
        if !(1000..=9999).contains(&year) {
            return Err(Error::invalid("date", text, "a four-digit year"));
        }
        let (year, month, day) = (
            i16::try_from(year).map_err(|_| Error::invalid("date", text, expected))?,
            i8::try_from(month).map_err(|_| Error::invalid("date", text, expected))?,
            i8::try_from(day).map_err(|_| Error::invalid("date", text, expected))?,
        );
        Date::new(year, month, day)
            .map(Day::from_date)
            .map_err(|_| Error::invalid("date", text, "a day that exists in the calendar"))
    };
    // The most common form first, read without splitting: the same as its parts read below.
    if let Some((year, month, day)) = iso_parts(trimmed) {
        return make(year, month, day);
    }
    if trimmed.len() == 8 && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        let number =
            |range: std::ops::Range<usize>| trimmed.get(range).and_then(|part| part.parse::<u32>().ok());
        return match (number(0..4), number(4..6), number(6..8)) {
            (Some(year), Some(month), Some(day)) => make(year, month, day),
            _ => Err(Error::invalid("date", text, expected)),
        };
    }
    let Some((a, b, c, year_first)) = parts(trimmed) else {
        return Err(Error::invalid("date", text, expected));
    };
    if year_first {
        return make(a, b, c);
    }
    let order = match (date_evidence(trimmed), order) {
        (DateEvidence::Proves(proved), Some(given)) if given != proved => {
            return Err(Error::invalid(
                "date",
                text,
                format!(
                    "a date in the file's order ({}); this one can only be {}",
                    given.as_str(),
                    proved.as_str()
                ),
            ));
        }
        (DateEvidence::Proves(proved), _) => proved,
        (DateEvidence::Ambiguous, Some(DateOrder::Ymd)) => {
            return Err(Error::invalid(
                "date",
                text,
                "a date in the file's order (ymd): this one has the year last and could be day/month or \
                 month/day; pass --date-order dmy or mdy",
            ));
        }
        (_, Some(given)) => given,
        (DateEvidence::Unordered, None) => DateOrder::Dmy,
        (DateEvidence::Ambiguous, None) => {
            return Err(Error::invalid(
                "date",
                text,
                "a date whose order is known: it could be day/month or month/day; pass --date-order dmy or mdy",
            ));
        }
    };
    match order {
        DateOrder::Mdy => make(c, a, b),
        DateOrder::Dmy | DateOrder::Ymd => make(c, b, a),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn read(text: &str, order: Option<DateOrder>) -> String {
        parse_day_in(text, order).map_or_else(|error| format!("error: {error}"), |day| day.to_iso())
    }

    #[test]
    fn dates_written_yyyy_mm_dd_are_read_as_their_parts_are() {
        let mut random = fastrand::Rng::with_seed(7);
        for _ in 0..100_000 {
            let text = format!(
                "{:04}-{:02}-{:02}",
                random.u32(0..=9999),
                random.u32(0..=19),
                random.u32(0..=39)
            );
            let (a, b, c, year_first) = parts(&text).unwrap();
            assert!(year_first && is_iso_date(&text));
            assert_eq!(iso_parts(&text), Some((a, b, c)), "{text}");
        }
        for text in [
            "1980-4-03",
            "1980/04/03",
            "1980-04-03 ",
            "+980-04-03",
            "1980-04-0x",
            "19800-4-03",
        ] {
            assert!(!is_iso_date(text), "{text}");
        }
        assert_eq!(read("1980-02-29", None), "1980-02-29");
        assert!(read("1981-02-29", None).contains("exists in the calendar"));
        assert!(read("0999-01-01", None).contains("four-digit year"));
    }

    #[test]
    fn evidence_proves_an_order_or_says_it_cannot() {
        assert_eq!(date_evidence("25/03/1980"), DateEvidence::Proves(DateOrder::Dmy));
        assert_eq!(date_evidence("03/25/1980"), DateEvidence::Proves(DateOrder::Mdy));
        assert_eq!(date_evidence("03/04/1980"), DateEvidence::Ambiguous);
        assert_eq!(date_evidence("04/04/1980"), DateEvidence::Unordered);
        assert_eq!(date_evidence("1980-04-03"), DateEvidence::Unordered);
        assert_eq!(date_evidence("19800403"), DateEvidence::Unordered);
    }

    #[test]
    fn dates_read_in_the_files_order_and_never_by_guess() {
        assert_eq!(read("1980-04-03", None), "1980-04-03");
        assert_eq!(read("19151111", None), "1915-11-11");
        assert_eq!(read("1980/4/3", None), "1980-04-03");
        assert_eq!(read("25.03.1980", None), "1980-03-25");
        assert_eq!(read("03/25/1980", None), "1980-03-25");
        assert_eq!(read("03/04/1980", Some(DateOrder::Mdy)), "1980-03-04");
        assert_eq!(read("03/04/1980", Some(DateOrder::Dmy)), "1980-04-03");
        assert!(read("03/04/1980", None).contains("--date-order"));
        assert!(read("03/04/1980", Some(DateOrder::Ymd)).contains("dmy or mdy"));
        assert!(read("03/25/1980", Some(DateOrder::Dmy)).contains("can only be mdy"));
        assert!(read("31/02/1980", None).contains("exists"));
        assert!(read("3/4/80", Some(DateOrder::Dmy)).starts_with("error"));
        assert!(read("yesterday", None).starts_with("error"));
        assert_eq!(read("2024-03-01 12:00:00", None), "2024-03-01");
        assert_eq!(read("2024-03-01T12:00:00Z", None), "2024-03-01");
        assert_eq!(read("3/25/2024 12:00 PM", None), "2024-03-25");
    }

    #[test]
    fn blank_dates_and_birthdays_without_a_year() {
        assert!(is_blank_date("0/0/00") && is_blank_date("00/00/0000"));
        assert!(!is_blank_date("2000-01-01") && !is_blank_date("none"));
        let birthday = |text, order| {
            parse_month_day_in(text, order).map_or_else(|error| format!("error: {error}"), MonthDay::to_iso)
        };
        assert_eq!(birthday("--03-25", None), "--03-25");
        assert_eq!(birthday("--0229", None), "--02-29");
        assert_eq!(birthday("03/25", None), "--03-25");
        assert_eq!(birthday("25/03", None), "--03-25");
        assert_eq!(birthday("03/04", Some(DateOrder::Mdy)), "--03-04");
        assert_eq!(birthday("03/04", Some(DateOrder::Dmy)), "--04-03");
        assert!(birthday("03/04", None).contains("--date-order"));
        assert!(birthday("02/30", Some(DateOrder::Mdy)).contains("exists"));
        assert_eq!(date_evidence("03/25"), DateEvidence::Proves(DateOrder::Mdy));
        assert_eq!(date_evidence("03/04"), DateEvidence::Ambiguous);
    }
}
