//! The order of day and month in a CRM export's dates, decided from the file itself: the first
//! value that can only be read one way (`25/03/1980`, `03/25/1980`) proves it, and a value that
//! contradicts the proved order fails the import at its line. A file whose day-or-month dates
//! never prove their order is not guessed at: the import stops, naming the first such value,
//! and asks for `--date-order dmy|mdy|ymd`.

use custody_core::{DateEvidence, DateOrder, date_evidence};

use crate::people::{PeopleColumns, column_name};

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

/// The order of a file's dates, decided as its rows go by (see [`crate::prescan`], which reads
/// the file once for this and for what its columns hold).
pub(crate) struct OrderScan {
    /// The columns holding dates.
    dated: Vec<usize>,
    /// The order once settled: given, proved, or none needed.
    decided: Option<Option<DateOrder>>,
    /// The first value that could be read either way: (line, column, text).
    first_ambiguous: Option<(u64, usize, String)>,
    rows: u64,
}

impl OrderScan {
    /// A scan of the date columns of `columns`, settled at once when the order is given or the
    /// file has no dates.
    pub(crate) fn new(columns: &PeopleColumns, given: Option<DateOrder>) -> Self {
        let dated: Vec<usize> = columns
            .date_columns()
            .into_iter()
            .map(|(index, _)| index)
            .collect();
        let decided = (given.is_some() || dated.is_empty()).then_some(given);
        OrderScan {
            dated,
            decided,
            first_ambiguous: None,
            rows: 0,
        }
    }

    /// Looks at one row; true once the order is settled and no more rows are needed.
    pub(crate) fn see(&mut self, line: u64, record: &csv::StringRecord) -> bool {
        if self.decided.is_some() {
            return true;
        }
        self.rows += 1;
        for index in &self.dated {
            let Some(text) = record
                .get(*index)
                .map(crate::person_row::cell)
                .filter(|text| !text.is_empty())
            else {
                continue;
            };
            match date_evidence(text) {
                DateEvidence::Proves(order) => {
                    self.decided = Some(Some(order));
                    return true;
                }
                DateEvidence::Ambiguous if self.first_ambiguous.is_none() => {
                    self.first_ambiguous = Some((line, *index, text.to_owned()));
                }
                _ => {}
            }
        }
        if self.first_ambiguous.is_none() && self.rows >= ISO_ROWS {
            self.decided = Some(None);
            return true;
        }
        false
    }

    /// The order to read the file's dates in: the one given, else the one its dates prove,
    /// else none, with the error naming the first value that could be read either way.
    pub(crate) fn finish(self, file: &str, headers: &[String]) -> DecidedOrder {
        if let Some(order) = self.decided {
            return DecidedOrder {
                order,
                unproven: None,
            };
        }
        DecidedOrder {
            order: None,
            unproven: self.first_ambiguous.map(|(line, index, text)| {
                let header = headers.get(index).map_or("", String::as_str);
                format!(
                    "{file}, line {line}, column {}: {text:?} could be day/month or month/day, and no date in \
                     the file tells which; custody does not guess: expected --date-order dmy (day first, as UK \
                     exports write dates) or --date-order mdy (month first, as US exports do)",
                    column_name(index, header)
                )
            }),
        }
    }
}
