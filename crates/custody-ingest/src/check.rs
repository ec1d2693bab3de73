//! A preview of a people import (`custody people import FILE --check`): every column with what
//! custody will do with it and how many of its values it can read, columns custody does not
//! read whose values look like identifiers (named, never dropped in silence), and the people the
//! import would leave with no identifier to match them by. It reads the file and writes nothing.

use std::path::Path;

use serde::Serialize;

use custody_core::{
    DateOrder, PersonCategory, PersonRef, PersonStatus, country_code, normalise_email, normalise_phone,
    normalise_postcode, parse_day_in,
};

use crate::dates::decide_date_order;
use crate::error::Result;
use crate::people::{PeopleColumns, PersonField, map_people_columns, parse_person_row};
use crate::table::{Table, TableOptions};

/// Lines listed for each kind of finding.
const LINES_MAX: usize = 20;

/// One column of the file and what custody makes of it.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnCheck {
    /// 1-based position.
    pub column: usize,
    /// Its header.
    pub header: String,
    /// The field it fills (`email`, `date_of_birth`, …), or `ignored`.
    pub field: String,
    /// Rows with a value.
    pub filled: u64,
    /// Values custody can read as that field.
    pub valid: u64,
    /// Values it cannot (the import stops at the first, except for phones, which are reported).
    pub invalid: u64,
    /// The first line with a value it cannot read.
    pub first_invalid_line: Option<u64>,
    /// What the user should know: an ignored column that looks like identifiers, and the `--map`
    /// that would use it or leave it out.
    pub note: Option<String>,
}

/// What an import of the file would do.
#[derive(Debug, Clone, Serialize)]
pub struct PeopleCheck {
    /// Data rows.
    pub rows: u64,
    /// Every column.
    pub columns: Vec<ColumnCheck>,
    /// The order of day and month the dates would be read in.
    pub date_order: Option<&'static str>,
    /// Warnings the import would give.
    pub warnings: Vec<String>,
    /// Rows the import would refuse (it stops at the first).
    pub rows_refused: u64,
    /// The first refusal, with its line and column.
    pub first_refusal: Option<String>,
    /// People who would have no identifier to match them by (no valid email or phone, no name
    /// with a postcode or a date of birth).
    pub without_identifier: u64,
    /// Their first lines.
    pub without_identifier_lines: Vec<u64>,
}

/// What a column custody does not read seems to hold.
#[derive(Default)]
struct LookAlike {
    email: u64,
    phone: u64,
    date: u64,
}

fn valid(field: PersonField, text: &str, region: &str, order: Option<DateOrder>) -> bool {
    match field {
        PersonField::Ref => PersonRef::parse(text).is_ok(),
        PersonField::Email => normalise_email(text).is_some(),
        PersonField::Phone => normalise_phone(text, region).is_some(),
        PersonField::Postcode => normalise_postcode(text).is_some(),
        PersonField::DateOfBirth | PersonField::JoinedOn | PersonField::LeftOn => {
            parse_day_in(text, order).is_ok()
        }
        PersonField::Country => country_code(text).is_ok(),
        PersonField::Category => PersonCategory::parse_loose(text).is_ok(),
        PersonField::Status => PersonStatus::parse_loose(text).is_ok(),
        PersonField::FirstName | PersonField::LastName | PersonField::FullName => true,
    }
}

fn look_alike(text: &str, region: &str, seen: &mut LookAlike) {
    if normalise_email(text).is_some() {
        seen.email += 1;
    } else if text.bytes().filter(u8::is_ascii_digit).count() >= 7
        && !text.bytes().any(|b| b.is_ascii_alphabetic())
        && parse_day_in(text, Some(DateOrder::Dmy)).is_err()
        && normalise_phone(text, region).is_some()
    {
        seen.phone += 1;
    } else if parse_day_in(text, Some(DateOrder::Dmy)).is_ok()
        || parse_day_in(text, Some(DateOrder::Mdy)).is_ok()
    {
        seen.date += 1;
    }
}

fn look_alike_note(header: &str, filled: u64, seen: &LookAlike) -> Option<String> {
    let (count, what, field) = [
        (seen.email, "email addresses", "email"),
        (seen.phone, "phone numbers", "phone"),
        (seen.date, "dates", "date_of_birth"),
    ]
    .into_iter()
    .max_by_key(|(count, _, _)| *count)?;
    (count > 0 && count * 2 >= filled).then(|| {
        format!(
            "custody does not read this column, but {count} of its {filled} values look like {what}: \
             use it with --map '{header}={field}' (if that field has no other column) or leave it out \
             with --map '{header}=none'"
        )
    })
}

/// Reads the whole file as `people import` would and says what it would do; writes nothing.
pub fn check_people(
    path: &Path,
    maps: &[(String, String)],
    default_category: Option<PersonCategory>,
    date_order: Option<DateOrder>,
    phone_region: &str,
) -> Result<PeopleCheck> {
    let mut table = Table::open(path, TableOptions::default())?;
    let file = table.file().to_owned();
    let headers = table.headers().to_vec();
    let mut columns: PeopleColumns = map_people_columns(&file, &headers, maps)?;
    let decided = decide_date_order(path, &columns, date_order)?;
    columns.date_order = decided.order;
    let fields: Vec<Option<PersonField>> = (0..headers.len()).map(|index| columns.field_of(index)).collect();
    let mut checks: Vec<ColumnCheck> = headers
        .iter()
        .enumerate()
        .map(|(index, header)| ColumnCheck {
            column: index + 1,
            header: header.clone(),
            field: fields
                .get(index)
                .copied()
                .flatten()
                .map_or("ignored".to_owned(), |field| field.as_str().to_owned()),
            filled: 0,
            valid: 0,
            invalid: 0,
            first_invalid_line: None,
            note: None,
        })
        .collect();
    let mut looks: Vec<LookAlike> = headers.iter().map(|_| LookAlike::default()).collect();
    let mut report = PeopleCheck {
        rows: 0,
        columns: Vec::new(),
        date_order: columns.date_order.map(DateOrder::as_str),
        warnings: decided.assumed.into_iter().collect(),
        rows_refused: 0,
        first_refusal: None,
        without_identifier: 0,
        without_identifier_lines: Vec::new(),
    };
    let mut record = csv::StringRecord::new();
    while let Some(line) = table.next_row(&mut record)? {
        report.rows += 1;
        for (index, text) in record.iter().enumerate() {
            let text = text.trim();
            let (Some(check), Some(field)) = (checks.get_mut(index), fields.get(index)) else {
                continue;
            };
            if text.is_empty() {
                continue;
            }
            check.filled += 1;
            match field {
                Some(field) if valid(*field, text, phone_region, columns.date_order) => check.valid += 1,
                Some(_) => {
                    check.invalid += 1;
                    check.first_invalid_line.get_or_insert(line);
                }
                None => {
                    if let Some(seen) = looks.get_mut(index) {
                        look_alike(text, phone_region, seen);
                    }
                }
            }
        }
        match parse_person_row(
            &file,
            &headers,
            &columns,
            &record,
            line,
            default_category,
            phone_region,
        ) {
            Ok(row) => {
                let named = row.name_key.is_some();
                let usable = row.email.is_some()
                    || row.phone.is_some()
                    || (named && (row.postcode.is_some() || row.date_of_birth.is_some()));
                if !usable {
                    report.without_identifier += 1;
                    if report.without_identifier_lines.len() < LINES_MAX {
                        report.without_identifier_lines.push(line);
                    }
                }
            }
            Err(error) => {
                report.rows_refused += 1;
                report.first_refusal.get_or_insert_with(|| error.to_string());
            }
        }
    }
    for (check, seen) in checks.iter_mut().zip(&looks) {
        if check.field == "ignored" {
            check.note = look_alike_note(&check.header, check.filled, seen);
        }
    }
    report.columns = checks;
    Ok(report)
}
