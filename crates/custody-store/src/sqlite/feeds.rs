//! The columns standing feeds are answered from (see `feed_columns` in the schema): rebuilt in
//! the import's transaction, read by one linear pass per audience category.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use custody_core::{FeedWindow, PersonCategory, PersonSet};

use crate::error::{Error, Result};

const UNKNOWN_JOIN: u32 = 0;
const NEVER_LEFT: u32 = u32::MAX;

/// `2021-10-29` → 20211029, an order-preserving number; `None` when the text is not a date.
fn day_number(text: &str) -> Option<u32> {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    (digits.len() == 8).then(|| digits.parse().ok()).flatten()
}

#[derive(Default)]
struct Columns {
    ids: Vec<u32>,
    joined: Vec<u8>,
    left: Vec<u8>,
}

/// Collects people in ascending id order, then writes every category's columns.
#[derive(Default)]
pub(super) struct Builder {
    by_category: BTreeMap<&'static str, Columns>,
}

impl Builder {
    /// Adds one person; ids must come in ascending order.
    pub(super) fn push(
        &mut self,
        id: u32,
        category: PersonCategory,
        joined: Option<&str>,
        left: Option<&str>,
    ) {
        let columns = self.by_category.entry(category.as_str()).or_default();
        columns.ids.push(id);
        let joined = joined.and_then(day_number).unwrap_or(UNKNOWN_JOIN);
        let left = left.and_then(day_number).unwrap_or(NEVER_LEFT);
        columns.joined.extend_from_slice(&joined.to_le_bytes());
        columns.left.extend_from_slice(&left.to_le_bytes());
    }

    /// Replaces the stored columns with these.
    pub(super) fn write(self, transaction: &Transaction<'_>) -> Result<()> {
        transaction.execute("DELETE FROM feed_columns", [])?;
        let mut insert = transaction
            .prepare("INSERT INTO feed_columns (category, ids, joined, left_on) VALUES (?1, ?2, ?3, ?4)")?;
        for (category, columns) in self.by_category {
            let set = PersonSet::from_sorted_iter(columns.ids.iter().copied())
                .map_err(|error| Error::Corrupt(format!("people ids out of order: {error}")))?;
            let mut ids = Vec::with_capacity(set.serialized_size());
            set.serialize_into(&mut ids)
                .map_err(|error| Error::Corrupt(error.to_string()))?;
            insert.execute(params![category, ids, columns.joined, columns.left])?;
        }
        Ok(())
    }
}

/// Rebuilds every category's columns from the people table.
pub(super) fn rebuild(transaction: &Transaction<'_>) -> Result<()> {
    let mut builder = Builder::default();
    {
        let mut statement = transaction.prepare(
            "SELECT id, category, joined_on, left_on FROM people WHERE canary_share IS NULL ORDER BY id",
        )?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let category: String = row.get(1)?;
            let category =
                PersonCategory::from_stable(&category).map_err(|error| Error::Corrupt(error.to_string()))?;
            let joined: Option<String> = row.get(2)?;
            let left: Option<String> = row.get(3)?;
            builder.push(row.get(0)?, category, joined.as_deref(), left.as_deref());
        }
    }
    builder.write(transaction)
}

/// The people of the audience categories that the feed window covers.
pub(super) fn people(
    connection: &Connection,
    audience: &[PersonCategory],
    window: FeedWindow,
) -> Result<PersonSet> {
    let joined_by = day_number(&window.joined_by.to_iso()).unwrap_or(NEVER_LEFT);
    let not_left_before = day_number(&window.not_left_before.to_iso()).unwrap_or(UNKNOWN_JOIN);
    let mut statement =
        connection.prepare_cached("SELECT ids, joined, left_on FROM feed_columns WHERE category = ?1")?;
    let mut out = PersonSet::new();
    for category in audience {
        let row: Option<(Vec<u8>, Vec<u8>, Vec<u8>)> = statement
            .query_row([category.as_str()], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .optional()?;
        let Some((ids, joined, left)) = row else {
            continue;
        };
        let ids =
            PersonSet::deserialize_from(ids.as_slice()).map_err(|error| Error::Corrupt(error.to_string()))?;
        if joined.len() != ids.len() as usize * 4 || left.len() != joined.len() {
            return Err(Error::Corrupt(format!(
                "feed columns of {category} do not line up"
            )));
        }
        let covered = ids
            .iter()
            .zip(joined.chunks_exact(4).zip(left.chunks_exact(4)))
            .filter_map(|(id, (joined, left))| {
                let joined = u32::from_le_bytes(joined.try_into().ok()?);
                let left = u32::from_le_bytes(left.try_into().ok()?);
                (joined <= joined_by && left >= not_left_before).then_some(id)
            });
        out |= PersonSet::from_sorted_iter(covered).map_err(|error| Error::Corrupt(error.to_string()))?;
    }
    Ok(out)
}
