//! The order of day and month in a CRM export's dates, decided from the file itself: the first
//! value that can only be read one way (`25/03/1980`, `03/25/1980`) proves it, and a value that
//! contradicts the proved order fails the import at its line. A file whose day-or-month dates
//! never prove their order is not guessed at: the import stops, naming the first such value,
//! and asks for `--date-order dmy|mdy|ymd`.

use std::path::Path;

use custody_core::{DateEvidence, DateOrder, date_evidence};

use crate::error::Result;
use crate::people::{PeopleColumns, column_name};
use crate::table::{Table, TableOptions};

/// Rows read without meeting a day-or-month date before the file is taken as ISO-dated. The
/// import itself still refuses, at its line, any later date that could be either.
const ISO_ROWS: u64 = 10_000;

/// The order a file's dates are read in, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecidedOrder {
    /// The order (`None`: no date in the first rows depends on it; a later date that could be
    /// either is then refused at its line).
    pub order: Option<DateOrder>,
    /// Set when the file has dates that could be read either way and none that tells which:
    /// the error to stop the import with.
    pub unproven: Option<String>,
}

/// The order to read the file's dates in: the one given, else the one its dates prove, else
/// none, with the error naming the first value that could be read either way.
pub fn decide_date_order(
    path: &Path,
    columns: &PeopleColumns,
    given: Option<DateOrder>,
) -> Result<DecidedOrder> {
    let dated = columns.date_columns();
    if given.is_some() || dated.is_empty() {
        return Ok(DecidedOrder {
            order: given,
            unproven: None,
        });
    }
    let mut table = Table::open(path, TableOptions::default())?;
    let file = table.file().to_owned();
    let headers = table.headers().to_vec();
    let mut record = csv::StringRecord::new();
    let mut first_ambiguous: Option<(u64, usize, String)> = None;
    let mut rows = 0u64;
    while let Some(line) = table.next_row(&mut record)? {
        rows += 1;
        for (index, _) in &dated {
            let Some(text) = record
                .get(*index)
                .map(crate::person_row::cell)
                .filter(|text| !text.is_empty())
            else {
                continue;
            };
            match date_evidence(text) {
                DateEvidence::Proves(order) => {
                    return Ok(DecidedOrder {
                        order: Some(order),
                        unproven: None,
                    });
                }
                DateEvidence::Ambiguous if first_ambiguous.is_none() => {
                    first_ambiguous = Some((line, *index, text.to_owned()));
                }
                _ => {}
            }
        }
        if first_ambiguous.is_none() && rows >= ISO_ROWS {
            return Ok(DecidedOrder {
                order: None,
                unproven: None,
            });
        }
    }
    Ok(match first_ambiguous {
        Some((line, index, text)) => {
            let header = headers.get(index).map_or("", String::as_str);
            DecidedOrder {
                order: None,
                unproven: Some(format!(
                    "{file}, line {line}, column {}: {text:?} could be day/month or month/day, and no date in \
                     the file tells which; custody does not guess: expected --date-order dmy (day first, as UK \
                     exports write dates) or --date-order mdy (month first, as US exports do)",
                    column_name(index, header)
                )),
            }
        }
        None => DecidedOrder {
            order: None,
            unproven: None,
        },
    })
}
