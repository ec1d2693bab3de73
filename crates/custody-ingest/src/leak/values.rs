//! Dates of birth as systems write them into the files that leak: ISO 8601 with or without a
//! time, compact (`19800403`), year first with any separator (`1980/04/03`), day and month in
//! either order (`03/04/1980`, `03.04.1980`), English month names (`3 Apr 1980`,
//! `April 3, 1980`, Oracle's `03-APR-1980`), and seconds or milliseconds since 1970 (as
//! databases and MongoDB's canonical extended JSON write them; earlier dates are negative).
//!
//! Day first or month first is decided for the whole file from the values that prove it
//! (`25/03/1980` is day first), as the people import decides it. A leaked file is never refused,
//! so when its dates never prove their order, a date that reads both ways is matched both ways
//! and the report says the order was undecided.

use custody_core::{DateEvidence, DateOrder, Day, date_evidence, is_iso_date, parse_day_in};

/// Readings of one written date: one, or two when day and month could be either way round.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Readings {
    /// The reading in the file's order (or the only one).
    pub first: Option<Day>,
    /// The other reading, when the order is undecided and the value reads both ways.
    pub second: Option<Day>,
}

impl Readings {
    fn one(day: Option<Day>) -> Self {
        Readings {
            first: day,
            second: None,
        }
    }

    /// Each reading.
    pub fn each(self) -> impl Iterator<Item = Day> {
        self.first.into_iter().chain(self.second)
    }
}

/// The order of day and month a file's dates of birth proved: `None` when they never proved it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderVotes {
    day_first: u32,
    month_first: u32,
}

impl OrderVotes {
    /// Counts what one value says.
    pub fn add(&mut self, value: &str) {
        match date_evidence(value.trim()) {
            DateEvidence::Proves(DateOrder::Dmy) => self.day_first += 1,
            DateEvidence::Proves(DateOrder::Mdy) => self.month_first += 1,
            _ => {}
        }
    }

    /// The order proved, when the values proved one and only one.
    pub fn decided(self) -> Option<DateOrder> {
        match (self.day_first, self.month_first) {
            (0, 0) => None,
            (_, 0) => Some(DateOrder::Dmy),
            (0, _) => Some(DateOrder::Mdy),
            _ => None,
        }
    }
}

/// The date a value gives, read in `order` (`None`: undecided, both readings kept).
pub fn leak_days(text: &str, order: Option<DateOrder>) -> Readings {
    let trimmed = text.trim().trim_matches('"');
    if trimmed.is_empty() || trimmed.len() > 40 {
        return Readings::default();
    }
    // `1980-04-03` is no number, names no month and proves its own order.
    if is_iso_date(trimmed) {
        return Readings::one(parse_day_in(trimmed, None).ok());
    }
    if let Some(day) = epoch(trimmed) {
        return Readings::one(Some(day));
    }
    if trimmed.bytes().any(|byte| byte.is_ascii_alphabetic())
        && let Some(day) = named_month(trimmed)
    {
        return Readings::one(Some(day));
    }
    match (date_evidence(trimmed), order) {
        (DateEvidence::Ambiguous, None) => Readings {
            first: parse_day_in(trimmed, Some(DateOrder::Dmy)).ok(),
            second: parse_day_in(trimmed, Some(DateOrder::Mdy)).ok(),
        },
        (DateEvidence::Ambiguous, Some(order)) => Readings::one(parse_day_in(trimmed, Some(order)).ok()),
        // A value that proves its own order (`04/25/1980`) is read in it, whatever the file's.
        _ => Readings::one(parse_day_in(trimmed, None).ok()),
    }
}

/// The first reading of a date (day first when undecided).
pub fn leak_day(text: &str) -> Option<Day> {
    leak_days(text, Some(DateOrder::Dmy)).first
}

/// Seconds (9 to 11 digits) or milliseconds (12 or 13) since 1970, with a sign for dates
/// before it; eight digits that make a date are the compact form instead. Shorter numbers
/// (`030480`, a day-month-year without separators) are not taken for seconds.
fn epoch(text: &str) -> Option<Day> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if !digits.bytes().all(|byte| byte.is_ascii_digit()) || !(8..=13).contains(&digits.len()) {
        return None;
    }
    if digits.len() == 8 && !text.starts_with('-') {
        return None;
    }
    let number: i64 = text.parse().ok()?;
    let seconds = if digits.len() >= 12 {
        number.div_euclid(1000)
    } else {
        number
    };
    let days = seconds.div_euclid(86_400);
    let date = jiff::civil::Date::constant(1970, 1, 1)
        .checked_add(jiff::Span::new().try_days(days).ok()?)
        .ok()?;
    (1850..=2100).contains(&date.year()).then(|| Day::from_date(date))
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// `3 Apr 1980`, `03-APR-1980`, `April 3, 1980`, `3rd April 1980`.
fn named_month(text: &str) -> Option<Day> {
    let lower = text.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '-' | '/' | '.'))
        .filter(|word| !word.is_empty())
        .collect();
    // A time after the date (`03-APR-1980 00:00:00`, `… 12:00 PM UTC`) is not part of it.
    let time = |word: &&str| word.contains(':') || matches!(*word, "am" | "pm" | "utc" | "gmt" | "z");
    let date_words = words.iter().position(time).unwrap_or(words.len());
    let (Some([a, b, c]), true) = (
        words
            .get(..3)
            .and_then(|first| <&[&str; 3]>::try_from(first).ok()),
        date_words == 3 || words.len() == 3,
    ) else {
        return None;
    };
    let month = |word: &str| {
        MONTHS
            .iter()
            .position(|name| word.len() >= 3 && word.starts_with(name))
            .map(|at| at + 1)
    };
    let day = |word: &str| {
        word.trim_end_matches(['s', 't', 'n', 'd', 'r', 'h'])
            .parse::<u32>()
            .ok()
    };
    let (day, month, year) = match (month(a), month(b)) {
        (Some(month), None) => (day(b)?, month, c.parse::<u32>().ok()?),
        (None, Some(month)) => (day(a)?, month, c.parse::<u32>().ok()?),
        _ => return None,
    };
    if year < 1000 {
        return None;
    }
    parse_day_in(&format!("{year:04}-{month:02}-{day:02}"), None).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(readings: Readings) -> Vec<String> {
        readings.each().map(Day::to_iso).collect()
    }

    #[test]
    fn every_common_form() {
        for text in [
            "1980-04-03",
            "1980-04-03T00:00:00Z",
            "1980/04/03",
            "19800403",
            "03.04.1980",
            "3 Apr 1980",
            "03-APR-1980",
            "April 3, 1980",
            "3rd April 1980",
            "03-APR-1980 00:00:00",
            "3 APRIL 1980",
            "323568000",
            "323568000000",
        ] {
            assert_eq!(
                iso(leak_days(text, Some(DateOrder::Dmy))),
                ["1980-04-03"],
                "{text}"
            );
        }
        assert_eq!(iso(leak_days("04/03/1980", Some(DateOrder::Mdy))), ["1980-04-03"]);
        for order in [None, Some(DateOrder::Dmy), Some(DateOrder::Mdy)] {
            // Year first is read as written, whatever the file's order; not a day, no reading.
            assert_eq!(
                iso(leak_days(" \"1980-04-03\" ", order)),
                ["1980-04-03"],
                "{order:?}"
            );
            assert!(iso(leak_days("1981-02-29", order)).is_empty(), "{order:?}");
            assert!(iso(leak_days("0980-02-20", order)).is_empty(), "{order:?}");
            assert_eq!(iso(leak_days("04/25/1980", order)), ["1980-04-25"], "{order:?}");
            assert_eq!(iso(leak_days("25/04/1980", order)), ["1980-04-25"], "{order:?}");
        }
        assert_eq!(iso(leak_days("03-OCT-1980", None)), ["1980-10-03"]);
        assert_eq!(iso(leak_days("1 SEPT 1980", None)), ["1980-09-01"]);
        assert_eq!(iso(leak_days("-863481600000", None)), ["1942-08-22"]);
        assert_eq!(iso(leak_days("-863481600", None)), ["1942-08-22"]);
    }

    #[test]
    fn an_undecided_order_reads_both_ways() {
        assert_eq!(iso(leak_days("03/04/1980", None)), ["1980-04-03", "1980-03-04"]);
        assert_eq!(iso(leak_days("25/04/1980", None)), ["1980-04-25"]);
        assert_eq!(iso(leak_days("04/04/1980", None)), ["1980-04-04"]);
    }

    #[test]
    fn votes_decide_only_when_one_order_is_proved() {
        let mut votes = OrderVotes::default();
        votes.add("03/04/1980");
        assert_eq!(votes.decided(), None);
        votes.add("25/04/1980");
        assert_eq!(votes.decided(), Some(DateOrder::Dmy));
        votes.add("04/25/1980");
        assert_eq!(votes.decided(), None);
    }

    #[test]
    fn not_dates() {
        for text in [
            "",
            "hello",
            "+44 20 7946",
            "1980-02-30",
            "12345",
            "Mayfair 12 Road",
        ] {
            assert_eq!(leak_days(text, None), Readings::default(), "{text}");
        }
    }
}
