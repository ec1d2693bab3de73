//! Bank holidays, for counting request deadlines as the UK regulator counts them (a deadline on
//! a weekend or bank holiday moves to the next working day).
//!
//! custody ships the UK government's list in its published format, the JSON served at
//! `https://www.gov.uk/bank-holidays.json` (divisions `england-and-wales`, `scotland`,
//! `northern-ireland`). The copy in `data/bank-holidays.json` was rendered from GOV.UK's own
//! source of that feed (the `alphagov/frontend` application's `lib/data/bank-holidays.json`, as
//! of 21 August 2026) and checked against saved fetches of the live feed; it covers 2019 to 2028.
//! An organisation replaces it with `custody holidays import FILE`, kept as `bank-holidays.json`
//! in the data directory; settings `bank_holidays` names the division (default England and
//! Wales).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use custody_core::Day;

use crate::dir::Ledger;
use crate::error::{Error, Result};

/// The list shipped with custody.
pub const SHIPPED: &str = include_str!("../../data/bank-holidays.json");
/// Where the shipped list comes from.
pub const SHIPPED_SOURCE: &str =
    "GOV.UK bank holidays (https://www.gov.uk/bank-holidays.json), taken 2026-08-21";
/// The file in the data directory that replaces the shipped list.
pub const FILE_NAME: &str = "bank-holidays.json";
/// The division used when settings name none.
pub const DEFAULT_DIVISION: &str = "england-and-wales";

#[derive(Deserialize)]
struct Division {
    #[serde(default)]
    division: Option<String>,
    events: Vec<Event>,
}

#[derive(Deserialize)]
struct Event {
    #[serde(deserialize_with = "day")]
    date: Day,
}

fn day<'de, D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Day, D::Error> {
    let text = String::deserialize(deserializer)?;
    // GOV.UK's feed writes ISO 8601 dates; nothing else is read as one (16/11/2026 is refused,
    // not guessed).
    let strict =
        text.len() == 10 && text.as_bytes().get(4) == Some(&b'-') && text.as_bytes().get(7) == Some(&b'-');
    text.parse::<jiff::civil::Date>()
        .ok()
        .filter(|_| strict)
        .map(Day::from_date)
        .ok_or_else(|| {
            serde::de::Error::custom(format!(
                "{text:?} is not a date; expected one such as \"2026-12-25\""
            ))
        })
}

/// The bank holidays of one division, with where they came from.
#[derive(Debug, Clone, Serialize)]
pub struct BankHolidays {
    /// The division, e.g. `england-and-wales`.
    pub division: String,
    /// Where the list came from.
    pub source: String,
    /// The days.
    #[serde(skip)]
    pub days: BTreeSet<Day>,
    /// The first year the list covers.
    pub first_year: i16,
    /// The last year the list covers: deadlines after it count weekends only.
    pub last_year: i16,
}

/// Every division in a file in GOV.UK's format, checked: valid JSON with the line and column of
/// the first fault, at least one division, a date on every event.
pub fn parse(text: &str, origin: &str) -> Result<BTreeMap<String, BTreeSet<Day>>> {
    let divisions: BTreeMap<String, Division> = serde_json::from_str(text).map_err(|error| {
        Error::Invalid(format!(
            "{origin}: line {}, column {}: {error}; expected GOV.UK's bank-holidays.json format: \
             {{\"england-and-wales\": {{\"division\": \"england-and-wales\", \"events\": \
             [{{\"title\": \"…\", \"date\": \"2026-12-25\"}}]}}}}",
            error.line(),
            error.column()
        ))
    })?;
    if divisions.is_empty() {
        return Err(Error::Invalid(format!("{origin}: it names no division")));
    }
    let mut out = BTreeMap::new();
    for (name, division) in divisions {
        if let Some(inner) = &division.division
            && inner != &name
        {
            return Err(Error::Invalid(format!(
                "{origin}: the division {name:?} says it is {inner:?}"
            )));
        }
        if division.events.is_empty() {
            return Err(Error::Invalid(format!(
                "{origin}: the division {name:?} has no events"
            )));
        }
        out.insert(name, division.events.iter().map(|event| event.date).collect());
    }
    Ok(out)
}

fn pick(divisions: BTreeMap<String, BTreeSet<Day>>, division: &str, source: String) -> Result<BankHolidays> {
    let known: Vec<String> = divisions.keys().cloned().collect();
    let Some(days) = divisions.get(division).cloned() else {
        return Err(Error::Invalid(format!(
            "settings bank_holidays = {division:?}, but the bank holiday list ({source}) has only {}",
            known.join(", ")
        )));
    };
    let first_year = days.first().map_or(0, |day| day.date().year());
    let last_year = days.last().map_or(0, |day| day.date().year());
    Ok(BankHolidays {
        division: division.to_owned(),
        source,
        days,
        first_year,
        last_year,
    })
}

/// The bank holidays a ledger counts with: the organisation's imported list, else the shipped one.
pub fn for_ledger(ledger: &Ledger) -> Result<BankHolidays> {
    let division = ledger
        .settings
        .bank_holidays
        .clone()
        .unwrap_or_else(|| DEFAULT_DIVISION.to_owned());
    let path = ledger.dir.join(FILE_NAME);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let origin = format!("{FILE_NAME} in the data directory (imported)");
            pick(parse(&text, &origin)?, &division, origin)
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => pick(
            parse(SHIPPED, "the shipped list")?,
            &division,
            SHIPPED_SOURCE.to_owned(),
        ),
        Err(error) => Err(Error::io(&path, error)),
    }
}

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct Imported {
    /// The divisions in the file, each with its first and last year.
    pub divisions: Vec<(String, i16, i16)>,
    /// SHA-256 of the file.
    pub sha256: String,
}

/// Replaces the bank holiday list with a file in GOV.UK's format: checked in full first (the
/// division the settings name must be in it), then kept in the data directory, audited.
pub fn import(ledger: &mut Ledger, file: &Path) -> Result<Imported> {
    use sha2::Digest;
    let bytes = std::fs::read(file).map_err(|error| Error::io(file, error))?;
    let text = String::from_utf8(bytes.clone())
        .map_err(|_| Error::Invalid(format!("{}: is not UTF-8 text", file.display())))?;
    let divisions = parse(&text, &file.display().to_string())?;
    let division = ledger
        .settings
        .bank_holidays
        .clone()
        .unwrap_or_else(|| DEFAULT_DIVISION.to_owned());
    pick(divisions.clone(), &division, file.display().to_string())?;
    let summary: Vec<(String, i16, i16)> = divisions
        .iter()
        .map(|(name, days)| {
            let first = days.first().map_or(0, |day| day.date().year());
            let last = days.last().map_or(0, |day| day.date().year());
            (name.clone(), first, last)
        })
        .collect();
    let sha256 = custody_vault::hex(&sha2::Sha256::digest(&bytes));
    let target = ledger.dir.join(FILE_NAME);
    crate::files::replace_private(&target, &bytes).map_err(|error| Error::io(&target, error))?;
    ledger.audit_only(
        "holidays.import",
        "bank_holidays",
        serde_json::json!({ "sha256": sha256, "divisions": summary }),
    )?;
    Ok(Imported {
        divisions: summary,
        sha256,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_shipped_list_has_every_uk_division() {
        let divisions = parse(SHIPPED, "shipped").unwrap();
        for name in ["england-and-wales", "scotland", "northern-ireland"] {
            let days = divisions.get(name).unwrap();
            assert!(
                days.contains(&custody_core::parse_day("2025-12-25").unwrap()),
                "{name}"
            );
            assert!(days.last().unwrap().date().year() >= 2028, "{name}");
        }
        // St Andrew's Day is Scotland's, not England's.
        let andrew = custody_core::parse_day("2027-11-30").unwrap();
        assert!(divisions.get("scotland").unwrap().contains(&andrew));
        assert!(!divisions.get("england-and-wales").unwrap().contains(&andrew));
    }

    #[test]
    fn bad_files_say_where() {
        let error = parse(
            "{\"scotland\": {\"events\": [{\"date\": \"2026-13-01\"}]}}",
            "f.json",
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("f.json: line 1, column"), "{error}");
        assert!(error.contains("2026-13-01"), "{error}");
        let error = parse("[]", "f.json").unwrap_err().to_string();
        assert!(error.contains("GOV.UK"), "{error}");
        assert!(parse("{}", "f.json").is_err());
    }
}
