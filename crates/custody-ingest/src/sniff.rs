//! What a people file's columns hold, told from their values, before the import reads it: a
//! column custody does not know by its header but whose values are email addresses is read as
//! emails (unless its header names someone else: a parent, an emergency contact); a phone
//! column holding email addresses is noted, so that the file counts as giving emails; and a
//! column left out whose values look like emails, phone numbers, birth dates or postcodes is
//! named in a warning with the `--map` to use it or leave it out. Nothing that looks like an
//! identifier is dropped in silence.

use std::path::Path;

use custody_core::{DateOrder, normalise_email, normalise_postcode, parse_day_in};

use crate::dates::OrderScan;
use crate::error::Result;
use crate::people::{PeopleColumns, PersonField, column_name};
use crate::table::{Table, TableOptions};

/// Rows looked at: enough to see what a column holds, few enough to cost nothing.
const SNIFF_ROWS: u64 = 2_000;

/// What a column's values seem to be.
#[derive(Debug, Default, Clone)]
pub(crate) struct LookAlike {
    pub filled: u64,
    pub email: u64,
    pub phone: u64,
    pub date: u64,
    pub postcode: u64,
    /// Values with seven digits or more: numbers, even if not valid ones.
    pub numeric: u64,
}

impl LookAlike {
    /// Counts one value. Phone numbers are told by their shape, not by the phone library: the
    /// library's regular expressions run fastest on the one thread that uses them first, and
    /// that must be the import's reading thread, not this look ahead.
    pub(crate) fn see(&mut self, text: &str) {
        self.filled += 1;
        let digits = text.bytes().filter(u8::is_ascii_digit).count();
        if digits >= 7 {
            self.numeric += 1;
        }
        let phone_shape = (7..=15).contains(&digits)
            && text.bytes().enumerate().all(|(at, byte)| {
                byte.is_ascii_digit()
                    || matches!(byte, b' ' | b'-' | b'(' | b')')
                    || (at == 0 && byte == b'+')
            });
        if normalise_email(text).is_some() {
            self.email += 1;
        } else if phone_shape && parse_day_in(text, Some(DateOrder::Dmy)).is_err() {
            self.phone += 1;
        } else if parse_day_in(text, Some(DateOrder::Dmy)).is_ok()
            || parse_day_in(text, Some(DateOrder::Mdy)).is_ok()
        {
            self.date += 1;
        } else if looks_like_uk_postcode(text) {
            self.postcode += 1;
        }
    }

    /// The field most of the values look like, with how many do.
    pub(crate) fn most(&self) -> Option<(u64, &'static str, &'static str)> {
        [
            (self.email, "email addresses", "email"),
            (self.phone, "phone numbers", "phone"),
            (self.date, "dates", "date_of_birth"),
            (self.postcode, "postcodes", "postcode"),
        ]
        .into_iter()
        .max_by_key(|(count, _, _)| *count)
        .filter(|(count, _, _)| *count > 0 && *count * 2 >= self.filled)
    }
}

/// A postcode with letters and digits in the UK's outward-inward form (`SW1A 1AA`): numbers
/// alone are too often something else to be named as postcodes.
fn looks_like_uk_postcode(text: &str) -> bool {
    let Some(code) = normalise_postcode(text) else {
        return false;
    };
    text.trim().contains(' ') && custody_core::postcode_fits(&code, "GB")
}

/// Words in the header of a column of dates that are a record's history, not a birth date
/// (`Create Date`, `OPTIN_TIME`, `created_at`, `Deceased Date`): not named as look-alikes.
const RECORD_DATES: &[&str] = &[
    "date", "time", "created", "modified", "changed", "added", "updated", "deceased", "death", "expir",
    "renew", "last",
];

/// The warning for a column left out whose values look like an identifier.
pub(crate) fn look_alike_note(header: &str, seen: &LookAlike) -> Option<String> {
    let (count, what, field) = seen.most()?;
    let folded = crate::headers::fold_header(header);
    let birth = ["birth", "dob", "born", "bday"]
        .iter()
        .any(|word| folded.contains(word));
    let record_date =
        !birth && (RECORD_DATES.iter().any(|word| folded.contains(word)) || folded.ends_with("at"));
    if field == "date_of_birth" && record_date {
        return None;
    }
    Some(format!(
        "custody does not read this column, but {count} of its {} values looked at look like {what}: use it \
         with --map '{header}={field}' or leave it out with --map '{header}=none'",
        seen.filled
    ))
}

/// What a look ahead at a people file found: warnings for columns left out that look like
/// identifiers, and the order of its dates.
#[derive(Debug, Clone)]
pub struct Prescan {
    /// Columns left out whose values look like identifiers, with the `--map` to use them.
    pub warnings: Vec<String>,
    /// The order of day and month its dates are to be read in.
    pub order: crate::DecidedOrder,
}

/// Reads the start of the file once (the whole file only while its dates have not proved their
/// order): settles the columns the first rows' values show, and decides the order of its dates.
pub fn prescan(path: &Path, columns: &mut PeopleColumns, given: Option<DateOrder>) -> Result<Prescan> {
    let mut table = Table::open(path, TableOptions::default())?;
    let file = table.file().to_owned();
    let headers = table.headers().to_vec();
    let mut seen: Vec<LookAlike> = headers.iter().map(|_| LookAlike::default()).collect();
    let mut dates = OrderScan::new(columns, given);
    let mut record = csv::StringRecord::new();
    let mut rows = 0u64;
    while let Some(line) = table.next_row(&mut record)? {
        rows += 1;
        if rows <= SNIFF_ROWS {
            for (index, text) in record.iter().enumerate() {
                let text = crate::person_row::cell(text);
                if let (false, Some(look)) = (text.is_empty(), seen.get_mut(index)) {
                    look.see(text);
                }
            }
        }
        if dates.see(line, &record) && rows >= SNIFF_ROWS {
            break;
        }
    }
    let warnings = settle(&file, &headers, &seen, columns);
    Ok(Prescan {
        warnings,
        order: dates.finish(&file, &headers),
    })
}

/// Settles the columns their values show; returns the warnings for columns left out that look
/// like identifiers.
fn settle(file: &str, headers: &[String], seen: &[LookAlike], columns: &mut PeopleColumns) -> Vec<String> {
    let mut warnings = Vec::new();
    for (index, header) in headers.iter().enumerate() {
        let Some(look) = seen.get(index).filter(|look| look.filled > 0) else {
            continue;
        };
        let placed = columns.placed.iter().find(|column| column.index == index);
        let someone_else = crate::headers::names_someone_else(&crate::headers::fold_header(header));
        match placed.map(|column| column.field) {
            // A phone column that holds addresses (Raiser's Edge keeps emails as phones): the
            // file gives emails, so a re-import replaces the ones custody held.
            Some(PersonField::Phone) if look.email > 0 => columns.holds_emails = true,
            None if look.email * 10 >= look.filled * 8
                && !someone_else
                && left_out_by_custody(columns, index) =>
            {
                columns.adopt(index, PersonField::Email, "values");
            }
            None if left_out_by_custody(columns, index) => {
                let note = if someone_else {
                    look.most().map(|(count, what, field)| {
                        format!(
                            "custody does not read this column: its header names someone else, though {count} \
                             of its {} values looked at are {what}; if they are the person's own, use it with \
                             --map '{header}={field}'",
                            look.filled
                        )
                    })
                } else {
                    look_alike_note(header, look)
                };
                if let Some(note) = note {
                    warnings.push(format!("{file}, column {}: {note}", column_name(index, header)));
                }
            }
            _ => {}
        }
    }
    warnings
}

/// Whether custody left the column out itself (not the user, with `--map 'Header=none'`).
fn left_out_by_custody(columns: &PeopleColumns, index: usize) -> bool {
    columns
        .ignored
        .iter()
        .any(|column| column.column == index + 1 && column.why != "left out with --map")
}
