//! What standing feeds are answered from (see `feed_columns` in the schema): rewritten in the
//! import's transaction, read with two binary searches and two short reads per category.

use std::collections::BTreeMap;

use rusqlite::{Connection, MAIN_DB, OptionalExtension, Transaction, params};

use custody_core::{FeedWindow, PersonCategory, PersonSet};

use crate::error::{Error, Result};

/// Bytes of one entry of a date list: the day then the id, little-endian u32 each.
const ENTRY_BYTES: usize = 8;

/// `2021-10-29` → 20211029, an order-preserving number; `None` when the text is not a date.
fn day_number(text: &str) -> Option<u32> {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    (digits.len() == 8).then(|| digits.parse().ok()).flatten()
}

#[derive(Default)]
struct Columns {
    ids: Vec<u32>,
    former: Vec<u32>,
    joins: Vec<(u32, u32)>,
    leaves: Vec<(u32, u32)>,
}

fn entries(mut list: Vec<(u32, u32)>) -> Vec<u8> {
    list.sort_unstable();
    let mut bytes = Vec::with_capacity(list.len() * ENTRY_BYTES);
    for (day, id) in list {
        bytes.extend_from_slice(&day.to_le_bytes());
        bytes.extend_from_slice(&id.to_le_bytes());
    }
    bytes
}

fn serialise(ids: &[u32]) -> Result<Vec<u8>> {
    let set = PersonSet::from_sorted_iter(ids.iter().copied())
        .map_err(|error| Error::Corrupt(format!("people ids out of order: {error}")))?;
    let mut bytes = Vec::with_capacity(set.serialized_size());
    set.serialize_into(&mut bytes)
        .map_err(|error| Error::Corrupt(error.to_string()))?;
    Ok(bytes)
}

fn deserialise(bytes: &[u8]) -> Result<PersonSet> {
    PersonSet::deserialize_from(bytes).map_err(|error| Error::Corrupt(error.to_string()))
}

/// Collects people in ascending id order, then writes every category's columns.
#[derive(Default)]
pub(super) struct Builder {
    by_category: BTreeMap<&'static str, Columns>,
}

impl Builder {
    /// Adds one person; ids must come in ascending order. An unknown join date counts as joined
    /// long ago, an unknown leaving date as never left.
    pub(super) fn push(
        &mut self,
        id: u32,
        category: PersonCategory,
        former: bool,
        joined: Option<&str>,
        left: Option<&str>,
    ) {
        let columns = self.by_category.entry(category.as_str()).or_default();
        columns.ids.push(id);
        if former {
            columns.former.push(id);
        }
        if let Some(day) = joined.and_then(day_number) {
            columns.joins.push((day, id));
        }
        if let Some(day) = left.and_then(day_number) {
            columns.leaves.push((day, id));
        }
    }

    /// Replaces the stored columns with these.
    pub(super) fn write(self, transaction: &Transaction<'_>) -> Result<()> {
        transaction.execute("DELETE FROM feed_columns", [])?;
        let mut insert = transaction.prepare(
            "INSERT INTO feed_columns (category, ids, by_join, by_leave, former) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for (category, columns) in self.by_category {
            let ids = serialise(&columns.ids)?;
            let former = serialise(&columns.former)?;
            insert.execute(params![
                category,
                ids,
                entries(columns.joins),
                entries(columns.leaves),
                former
            ])?;
        }
        Ok(())
    }
}

/// Rebuilds every category's columns from the people table.
pub(super) fn rebuild(transaction: &Transaction<'_>) -> Result<()> {
    let mut builder = Builder::default();
    {
        let mut statement = transaction.prepare(
            "SELECT id, category, status, joined_on, left_on FROM people WHERE canary_share IS NULL ORDER BY id",
        )?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let category: String = row.get(1)?;
            let category =
                PersonCategory::from_stable(&category).map_err(|error| Error::Corrupt(error.to_string()))?;
            let former = row.get::<_, String>(2)? == "former";
            let joined: Option<String> = row.get(3)?;
            let left: Option<String> = row.get(4)?;
            builder.push(row.get(0)?, category, former, joined.as_deref(), left.as_deref());
        }
    }
    builder.write(transaction)
}

/// A sorted date list inside a blob.
struct DateList<'connection> {
    blob: rusqlite::blob::Blob<'connection>,
    entries: usize,
}

impl DateList<'_> {
    fn day(&self, index: usize) -> Result<u32> {
        let mut bytes = [0u8; 4];
        self.blob.read_at_exact(&mut bytes, index * ENTRY_BYTES)?;
        Ok(u32::from_le_bytes(bytes))
    }

    /// The first index whose day is at least `day` (the list's length when none is).
    fn first_at_least(&self, day: u32) -> Result<usize> {
        let (mut low, mut high) = (0, self.entries);
        while low < high {
            let middle = low + (high - low) / 2;
            if self.day(middle)? < day {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        Ok(low)
    }

    /// The ids of entries `from..to`.
    fn ids(&self, from: usize, to: usize) -> Result<PersonSet> {
        let mut bytes = vec![0u8; to.saturating_sub(from) * ENTRY_BYTES];
        self.blob.read_at_exact(&mut bytes, from * ENTRY_BYTES)?;
        let ids = bytes
            .chunks_exact(ENTRY_BYTES)
            .filter_map(|entry| entry.get(4..8))
            .filter_map(|id| {
                let id: [u8; 4] = id.try_into().ok()?;
                Some(u32::from_le_bytes(id))
            });
        Ok(ids.collect())
    }
}

fn open_list<'connection>(
    connection: &'connection Connection,
    column: &str,
    rowid: i64,
) -> Result<DateList<'connection>> {
    let blob = connection.blob_open(MAIN_DB, "feed_columns", column, rowid, true)?;
    let entries = blob.len() / ENTRY_BYTES;
    Ok(DateList { blob, entries })
}

/// The people of the audience categories that the feed window covers: everyone of the category,
/// minus those who joined after `joined_by`, minus those who left before `not_left_before`.
pub(super) fn people(
    connection: &Connection,
    audience: &[PersonCategory],
    window: FeedWindow,
) -> Result<PersonSet> {
    let joined_by = day_number(&window.joined_by.to_iso()).unwrap_or(u32::MAX);
    let not_left_before = day_number(&window.not_left_before.to_iso()).unwrap_or(0);
    let mut statement =
        connection.prepare_cached("SELECT rowid, ids FROM feed_columns WHERE category = ?1")?;
    let mut out = PersonSet::new();
    for category in audience {
        let row: Option<(i64, Vec<u8>)> = statement
            .query_row([category.as_str()], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?;
        let Some((rowid, ids)) = row else {
            continue;
        };
        let mut covered = deserialise(&ids)?;
        let joins = open_list(connection, "by_join", rowid)?;
        let joined_later = joins.first_at_least(joined_by.saturating_add(1))?;
        covered -= joins.ids(joined_later, joins.entries)?;
        let leaves = open_list(connection, "by_leave", rowid)?;
        let left_before = leaves.first_at_least(not_left_before)?;
        covered -= leaves.ids(0, left_before)?;
        out |= covered;
    }
    Ok(out)
}

/// Everyone of a category (canaries never).
pub(super) fn category(connection: &Connection, category: PersonCategory) -> Result<PersonSet> {
    let mut statement = connection.prepare_cached("SELECT ids FROM feed_columns WHERE category = ?1")?;
    let ids: Option<Vec<u8>> = statement
        .query_row([category.as_str()], |row| row.get(0))
        .optional()?;
    ids.map_or_else(|| Ok(PersonSet::new()), |bytes| deserialise(&bytes))
}

/// Everyone whose status is former.
pub(super) fn former(connection: &Connection) -> Result<PersonSet> {
    let mut statement = connection.prepare_cached("SELECT former FROM feed_columns")?;
    let mut rows = statement.query([])?;
    let mut out = PersonSet::new();
    while let Some(row) = rows.next()? {
        let bytes = row.get_ref(0)?.as_blob().map_err(rusqlite::Error::from)?;
        out |= deserialise(bytes)?;
    }
    Ok(out)
}

/// Everyone who left on a day in `from..until` (days as ISO dates; `None` is unbounded).
pub(super) fn left_between(
    connection: &Connection,
    from: Option<&str>,
    until: Option<&str>,
) -> Result<PersonSet> {
    let from = from.and_then(day_number).unwrap_or(0);
    let until = until.and_then(day_number).unwrap_or(u32::MAX);
    let rowids: Vec<i64> = {
        let mut statement = connection.prepare_cached("SELECT rowid FROM feed_columns")?;
        statement
            .query_map([], |row| row.get(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?
    };
    let mut out = PersonSet::new();
    for rowid in rowids {
        let leaves = open_list(connection, "by_leave", rowid)?;
        let start = leaves.first_at_least(from)?;
        let end = leaves.first_at_least(until)?;
        out |= leaves.ids(start, end.max(start))?;
    }
    Ok(out)
}

/// How many of `people` left in each period cut by `boundaries` (ascending days): before the first,
/// between each pair, from the last on. One pass over the leaving lists; nothing is materialised.
pub(super) fn left_counts(
    connection: &Connection,
    people: &PersonSet,
    boundaries: &[&str],
) -> Result<Vec<u64>> {
    let cuts: Vec<u32> = boundaries.iter().filter_map(|day| day_number(day)).collect();
    let mut counts = vec![0u64; cuts.len() + 1];
    let mut statement = connection.prepare_cached("SELECT by_leave FROM feed_columns")?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let bytes = row.get_ref(0)?.as_blob().map_err(rusqlite::Error::from)?;
        for entry in bytes.chunks_exact(ENTRY_BYTES) {
            let (Some(day), Some(id)) = (entry.get(0..4), entry.get(4..8)) else {
                continue;
            };
            let (Ok(day), Ok(id)) = (<[u8; 4]>::try_from(day), <[u8; 4]>::try_from(id)) else {
                continue;
            };
            if !people.contains(u32::from_le_bytes(id)) {
                continue;
            }
            let day = u32::from_le_bytes(day);
            let bucket = cuts.iter().take_while(|cut| day >= **cut).count();
            if let Some(count) = counts.get_mut(bucket) {
                *count += 1;
            }
        }
    }
    Ok(counts)
}
