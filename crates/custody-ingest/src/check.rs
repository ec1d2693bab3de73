//! A preview of a people import (`custody people import FILE --check`): every column with what
//! custody will do with it and how many of its values it can read, columns custody does not
//! read whose values look like identifiers (named, never dropped in silence), and the people the
//! import would leave with no identifier to match them by. It reads the file and writes nothing.

use std::path::Path;

use serde::Serialize;

use custody_core::{
    DateOrder, PersonCategory, PersonRef, PersonStatus, country_code, is_blank_date, normalise_email,
    normalise_national_id, normalise_phone, normalise_postcode, parse_day_in, parse_month_day_in,
};

use crate::error::Result;
use crate::people::{PeopleColumns, PersonField, map_people_columns};
use crate::person_row::parse_person_row;
use crate::sniff::{LookAlike, Prescan, look_alike_note, prescan};
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
    /// The field it fills (`email`, `postcode of address "home"`, …), or `ignored`.
    pub field: String,
    /// Rows with a value.
    pub filled: u64,
    /// Values custody can read as that field.
    pub valid: u64,
    /// Values it cannot (the import stops at the first, except for phones, which are reported).
    pub invalid: u64,
    /// The first line with a value it cannot read.
    pub first_invalid_line: Option<u64>,
    /// What the user should know of a column not read: why, or that its values look like
    /// identifiers, with the `--map` that would use it or leave it out.
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
    /// People who would have no identifier to match them by (no valid email, phone or national
    /// identifier, no name with an address, a postcode or a date of birth).
    pub without_identifier: u64,
    /// Their first lines.
    pub without_identifier_lines: Vec<u64>,
}

fn valid(field: PersonField, text: &str, region: &str, order: Option<DateOrder>) -> bool {
    match field {
        PersonField::Ref => PersonRef::parse(text).is_ok(),
        PersonField::Email => normalise_email(text).is_some(),
        PersonField::Phone => normalise_phone(text, region).is_some() || normalise_email(text).is_some(),
        PersonField::Postcode => normalise_postcode(text).is_some(),
        PersonField::DateOfBirth => {
            is_blank_date(text)
                || parse_day_in(text, order).is_ok()
                || parse_month_day_in(text, order).is_ok()
        }
        PersonField::JoinedOn | PersonField::LeftOn => {
            is_blank_date(text) || parse_day_in(text, order).is_ok()
        }
        PersonField::Country => country_code(text).is_ok(),
        PersonField::Category => PersonCategory::parse_loose(text).is_ok(),
        PersonField::Status => PersonStatus::parse_loose(text).is_ok(),
        PersonField::NationalId => normalise_national_id(text).is_some(),
        PersonField::Deceased => true,
        PersonField::FirstName
        | PersonField::LastName
        | PersonField::FullName
        | PersonField::Street
        | PersonField::Town
        | PersonField::Region => true,
    }
}

/// Fields whose values the preview counts as the import reads them, from the row: emails,
/// phones (read by the person's country), postcodes (checked against it), national ids and
/// countries, each value either used or listed as unusable.
fn by_row(field: PersonField) -> bool {
    matches!(
        field,
        PersonField::Email
            | PersonField::Phone
            | PersonField::Postcode
            | PersonField::NationalId
            | PersonField::Country
    )
}

/// What a column is used for, as the preview and the import report print it (`email`,
/// `postcode of address "home"`, `ignored`).
pub fn use_of(columns: &PeopleColumns, index: usize) -> String {
    let Some(column) = columns.placed.iter().find(|column| column.index == index) else {
        return "ignored".to_owned();
    };
    let name = column.field.as_str();
    let address = column
        .address
        .and_then(|at| columns.addresses.get(at))
        .filter(|_| columns.addresses.len() > 1);
    match (address, column.because) {
        (Some(address), _) => format!("{name} of address {address:?}"),
        (None, "values") => format!("{name} (its values are addresses)"),
        (None, _) => name.to_owned(),
    }
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
    let Prescan {
        mut warnings,
        order: decided,
    } = prescan(path, &mut columns, date_order)?;
    columns.date_order = decided.order;
    let fields: Vec<Option<PersonField>> = (0..headers.len()).map(|index| columns.field_of(index)).collect();
    let mut checks: Vec<ColumnCheck> = headers
        .iter()
        .enumerate()
        .map(|(index, header)| ColumnCheck {
            column: index + 1,
            header: header.clone(),
            field: use_of(&columns, index),
            filled: 0,
            valid: 0,
            invalid: 0,
            first_invalid_line: None,
            note: None,
        })
        .collect();
    let mut looks: Vec<LookAlike> = headers.iter().map(|_| LookAlike::default()).collect();
    if columns.reference_from_contact {
        warnings.push(crate::people::derived_reference_warning(&file));
    }
    warnings.extend(decided.unproven.clone());
    let mut report = PeopleCheck {
        rows: 0,
        columns: Vec::new(),
        date_order: columns.date_order.map(DateOrder::as_str),
        warnings,
        rows_refused: 0,
        first_refusal: decided.unproven,
        without_identifier: 0,
        without_identifier_lines: Vec::new(),
    };
    let mut record = csv::StringRecord::new();
    while let Some(line) = table.next_row(&mut record)? {
        report.rows += 1;
        for (index, text) in record.iter().enumerate() {
            let text = crate::person_row::cell(text);
            let (Some(check), Some(field)) = (checks.get_mut(index), fields.get(index)) else {
                continue;
            };
            if text.is_empty() {
                continue;
            }
            check.filled += 1;
            let all_valid = |field: PersonField| {
                text.split(" ::: ")
                    .map(str::trim)
                    .all(|part| valid(field, part, phone_region, columns.date_order))
            };
            match field {
                // Read as the import reads them, with the person's country: counted from the row.
                Some(field) if by_row(*field) => {}
                Some(field) if all_valid(*field) => check.valid += 1,
                Some(_) => {
                    check.invalid += 1;
                    check.first_invalid_line.get_or_insert(line);
                }
                None => {
                    if let Some(seen) = looks.get_mut(index) {
                        seen.see(text);
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
                for index in &row.unusable {
                    if let Some(check) = checks.get_mut(*index) {
                        check.invalid += 1;
                        check.first_invalid_line.get_or_insert(line);
                    }
                }
                for (index, text) in record.iter().enumerate() {
                    let counted = fields.get(index).copied().flatten().is_some_and(by_row)
                        && !row.unusable.contains(&index);
                    if let (true, false, Some(check)) = (
                        counted,
                        crate::person_row::cell(text).is_empty(),
                        checks.get_mut(index),
                    ) {
                        check.valid += 1;
                    }
                }
                if !row.has_identifier() {
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
    if let Some(line) = table.footer() {
        report.warnings.push(format!(
            "{file}, line {line}: the file ends with lines of one field (a report's footer); they would not be \
             read as people"
        ));
    }
    for ((check, seen), index) in checks.iter_mut().zip(&looks).zip(0..) {
        if check.field == "ignored" {
            let why = columns.ignored.iter().find(|column| column.column == index + 1);
            check.note =
                look_alike_note(&check.header, seen).or_else(|| why.map(|column| column.why.clone()));
        }
    }
    report.columns = checks;
    Ok(report)
}
