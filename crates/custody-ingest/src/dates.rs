//! The order of day and month in a CRM export's dates, decided from the file itself: the first
//! value that can only be read one way (`25/03/1980`, `03/25/1980`) proves it, and a value that
//! contradicts the proved order fails the import at its line. A file whose day-or-month dates
//! never prove their order is read day first, as custody always has, and the import says so
//! with the first such value, so that a month-first export is caught and re-imported with
//! `--date-order mdy` (refusing such files outright is left to the CRM-import work, issue 16).

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
    /// Set when the order was assumed, not given or proved: what to tell the user.
    pub assumed: Option<String>,
}

/// The order to read the file's dates in: the one given, else the one its dates prove, else day
/// first with a warning naming the first value that could be read either way.
pub fn decide_date_order(
    path: &Path,
    columns: &PeopleColumns,
    given: Option<DateOrder>,
) -> Result<DecidedOrder> {
    let dated = columns.date_columns();
    if given.is_some() || dated.is_empty() {
        return Ok(DecidedOrder {
            order: given,
            assumed: None,
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
            let Some(text) = record.get(*index).map(str::trim).filter(|text| !text.is_empty()) else {
                continue;
            };
            match date_evidence(text) {
                DateEvidence::Proves(order) => {
                    return Ok(DecidedOrder {
                        order: Some(order),
                        assumed: None,
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
                assumed: None,
            });
        }
    }
    Ok(match first_ambiguous {
        Some((line, index, text)) => {
            let header = headers.get(index).map_or("", String::as_str);
            DecidedOrder {
                order: Some(DateOrder::Dmy),
                assumed: Some(format!(
                    "{file}, line {line}, column {}: {text:?} could be day/month or month/day, and no date in \
                     the file tells which; dates were read day first (dmy). If the export writes the month \
                     first, import it again with --date-order mdy",
                    column_name(index, header)
                )),
            }
        }
        None => DecidedOrder {
            order: None,
            assumed: None,
        },
    })
}
