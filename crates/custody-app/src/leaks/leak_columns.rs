//! Columns whose names say nothing (`c3`, `field_7`), proved against the ledger: when two such
//! columns of names, read as given and family name with the file's date of birth or postcode,
//! make the keyed identifiers of people custody holds, they are the name columns. Only keyed
//! hashes are compared; nothing of the ledger is opened.

use custody_core::{IdentifierKind, normalise_postcode};
use custody_ingest::leak::{LeakReader, Role, leak_days};

use crate::dir::Ledger;
use crate::error::Result;

/// Records read ahead that are tried.
const ROWS: usize = 200;
/// Columns of names tried at most (every ordered pair of them is).
const CANDIDATES: usize = 6;
/// Rows whose names and date or postcode must hit someone for a pair to be proved.
const HITS_MIN: usize = 3;

/// Proves name columns against the ledger; see the module documentation. Returns whether it did.
pub(crate) fn prove_names(ledger: &Ledger, reader: &mut LeakReader) -> Result<bool> {
    let columns = reader.columns();
    let has = |role: Role| columns.iter().any(|column| column.role == role);
    if has(Role::FirstName) || has(Role::LastName) || has(Role::FullName) {
        return Ok(false);
    }
    if !(has(Role::DateOfBirth) || has(Role::Postcode)) {
        return Ok(false);
    }
    let unplaced: Vec<u32> = columns
        .iter()
        .enumerate()
        .filter(|(_, column)| column.role == Role::Other && column.category.is_none())
        .filter_map(|(id, _)| u32::try_from(id).ok())
        .collect();
    let roles: Vec<(u32, Role)> = columns
        .iter()
        .enumerate()
        .filter_map(|(id, column)| Some((u32::try_from(id).ok()?, column.role)))
        .collect();
    let rows = reader.sample_rows(ROWS);
    let value = |row: &[(u32, String)], column: u32| {
        row.iter()
            .find(|(id, _)| *id == column)
            .map(|(_, value)| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    };
    let candidates: Vec<u32> = unplaced
        .into_iter()
        .filter(|column| {
            let values: Vec<String> = rows.iter().filter_map(|row| value(row, *column)).collect();
            values.len() >= HITS_MIN
                && values.iter().filter(|value| is_name(value)).count() * 2 >= values.len()
        })
        .take(CANDIDATES)
        .collect();
    let order = reader.date_order();
    let mut best: Option<(usize, u32, u32)> = None;
    for first in &candidates {
        for last in candidates.iter().filter(|last| *last != first) {
            let mut hits = 0;
            for row in &rows {
                let (Some(given), Some(family)) = (value(row, *first), value(row, *last)) else {
                    continue;
                };
                let Some(key) = custody_core::name_key(&given, &family) else {
                    continue;
                };
                if hits_someone(ledger, row, &roles, &key, order)? {
                    hits += 1;
                }
            }
            if hits >= HITS_MIN && best.is_none_or(|(most, ..)| hits > most) {
                best = Some((hits, *first, *last));
            }
        }
    }
    let Some((_, first, last)) = best else {
        return Ok(false);
    };
    reader.prove_role(first, Role::FirstName);
    reader.prove_role(last, Role::LastName);
    Ok(true)
}

/// Whether the name key with the row's date of birth or postcode is someone's identifier.
fn hits_someone(
    ledger: &Ledger,
    row: &[(u32, String)],
    roles: &[(u32, Role)],
    key: &str,
    order: Option<custody_core::DateOrder>,
) -> Result<bool> {
    for (column, value) in row {
        let role = roles
            .iter()
            .find(|(id, _)| id == column)
            .map_or(Role::Other, |(_, role)| *role);
        let values: Vec<(IdentifierKind, String)> = match role {
            Role::DateOfBirth => leak_days(value, order)
                .each()
                .map(|day| (IdentifierKind::NameDateOfBirth, day.to_iso()))
                .collect(),
            Role::Postcode => normalise_postcode(value)
                .map(|postcode| (IdentifierKind::NamePostcode, postcode))
                .into_iter()
                .collect(),
            _ => continue,
        };
        for (kind, value) in values {
            let hash = ledger
                .vault
                .identifier_hash(kind.tag(), &format!("{key}|{value}"));
            if !ledger.store.people_by_identifier(kind, &hash)?.is_empty() {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// A value that can be a name: letters (any script), hyphens, apostrophes and spaces, no digits.
fn is_name(value: &str) -> bool {
    let letters = value.chars().filter(|c| c.is_alphabetic()).count();
    (2..=40).contains(&letters)
        && value
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, '-' | '\'' | ' ' | '.'))
}
