//! `custody people import FILE --check`: the preview, printed.

use std::process::ExitCode;

use custody_app::ledger::people::{ImportReport, PeopleCheck};

use crate::output;

/// Prints the preview; exits 1 when the import would be refused.
pub fn print(report: &PeopleCheck, json: bool) -> anyhow::Result<ExitCode> {
    if json {
        output::json(report)?;
    } else {
        let rows: Vec<Vec<String>> = report
            .columns
            .iter()
            .map(|c| {
                vec![
                    c.column.to_string(),
                    c.header.clone(),
                    c.field.clone(),
                    c.filled.to_string(),
                    c.valid.to_string(),
                    c.invalid.to_string(),
                    c.first_invalid_line
                        .map(|line| line.to_string())
                        .unwrap_or_default(),
                ]
            })
            .collect();
        output::table(
            &[
                "#",
                "column",
                "used as",
                "filled",
                "valid",
                "invalid",
                "first invalid line",
            ],
            &rows,
        );
        for column in &report.columns {
            if let Some(note) = &column.note {
                crate::say!("Column {} ({:?}): {note}.", column.column, column.header);
            }
        }
        crate::say!("{} rows.", report.rows);
        if let Some(order) = report.date_order {
            crate::say!("Dates read with day and month in the order {order}.");
        }
        for warning in &report.warnings {
            crate::say!("Warning: {warning}.");
        }
        if report.without_identifier > 0 {
            crate::say!(
                "{} people would have nothing to match them by (no email, phone or national id, and no name \
                 with an address, postcode or date of birth); first lines: {:?}.",
                report.without_identifier,
                report.without_identifier_lines
            );
        }
        match &report.first_refusal {
            Some(first) => crate::say!(
                "The import would be refused ({} rows cannot be read), first: {first}",
                report.rows_refused
            ),
            None => crate::say!("The import would record every row. Nothing was changed."),
        }
    }
    Ok(if report.rows_refused > 0 || report.first_refusal.is_some() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Prints what an import did beyond its counts: every column not read and why, values not
/// used, and the people left with nothing to match them by, by reference.
pub fn print_import(report: &ImportReport) {
    let read: Vec<String> = report
        .columns
        .iter()
        .filter(|column| column.used_as != "ignored")
        .map(|column| format!("{} ({})", output::terminal_safe(&column.header), column.used_as))
        .collect();
    crate::say!("Read: {}.", read.join(", "));
    for column in &report.columns_not_read {
        crate::say!(
            "Not kept: column {} ({:?}): {}.",
            column.column,
            output::terminal_safe(&column.header),
            column.why
        );
    }
    for header in &report.columns_read_by_value {
        crate::say!(
            "Read as email addresses (its values are addresses): {:?}.",
            output::terminal_safe(header)
        );
    }
    for column in &report.unusable {
        crate::say!(
            "{} values of column {} ({:?}, {}) could not be used and were not kept (lines {:?}).",
            column.count,
            column.column,
            output::terminal_safe(&column.header),
            column.field,
            column.lines
        );
    }
    if report.without_identifier > 0 {
        crate::say!(
            "{} people have nothing to match them by in a leaked file (no email, phone or national id, and \
             no name with an address, postcode or date of birth); first: {}.",
            report.without_identifier,
            output::terminal_safe(&report.without_identifier_refs.join(", "))
        );
    }
}
