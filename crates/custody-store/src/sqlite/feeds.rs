//! What standing feeds are answered from (see `feed_columns` in the schema and
//! `crate::encoding`): rewritten in the import's transaction, read with two binary searches and
//! two short reads per category, through SQLite's incremental blob reads.

use rusqlite::{Connection, MAIN_DB, OptionalExtension, Transaction, params};

use custody_core::{FeedWindow, PersonCategory, PersonSet};

use crate::encoding::{DateList, FeedBuilder, ReadAt, count_leavers, day_number, read_set};
use crate::error::{Error, Result};

/// Replaces the stored columns with those `builder` collected.
pub(super) fn write(builder: FeedBuilder, transaction: &Transaction<'_>) -> Result<()> {
    transaction.execute("DELETE FROM place_sets", [])?;
    let mut place = transaction.prepare("INSERT INTO place_sets (place, ids) VALUES (?1, ?2)")?;
    for (name, ids) in builder.places()? {
        place.execute(params![name, ids])?;
    }
    transaction.execute("DELETE FROM feed_columns", [])?;
    let mut insert = transaction.prepare(
        "INSERT INTO feed_columns (category, ids, by_join, by_leave, former) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for columns in builder.finish()? {
        insert.execute(params![
            columns.category,
            columns.ids,
            columns.by_join,
            columns.by_leave,
            columns.former
        ])?;
    }
    Ok(())
}

/// Rebuilds every category's columns from the people table.
pub(super) fn rebuild(transaction: &Transaction<'_>) -> Result<()> {
    let mut builder = FeedBuilder::default();
    {
        let mut statement = transaction.prepare(
            "SELECT id, category, status, joined_on, left_on, COALESCE(region, country) FROM people \
             WHERE canary_share IS NULL ORDER BY id",
        )?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let category: String = row.get(1)?;
            let category =
                PersonCategory::from_stable(&category).map_err(|error| Error::Corrupt(error.to_string()))?;
            let former = row.get::<_, String>(2)? == "former";
            let joined: Option<String> = row.get(3)?;
            let left: Option<String> = row.get(4)?;
            let place: Option<String> = row.get(5)?;
            builder.push(
                row.get(0)?,
                category,
                former,
                (joined.as_deref(), left.as_deref()),
                place.as_deref(),
            );
        }
    }
    write(builder, transaction)
}

/// Every place's people, sorted by place.
pub(super) fn places(connection: &Connection) -> Result<Vec<(String, PersonSet)>> {
    let mut statement = connection.prepare_cached("SELECT place, ids FROM place_sets ORDER BY place")?;
    let mut rows = statement.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let ids = row.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?;
        out.push((row.get(0)?, read_set(ids)?));
    }
    Ok(out)
}

/// A date list read from its blob.
fn open_list<'connection>(
    connection: &'connection Connection,
    column: &str,
    rowid: i64,
) -> Result<DateList<impl ReadAt + 'connection>> {
    let blob = connection.blob_open(MAIN_DB, "feed_columns", column, rowid, true)?;
    let bytes = blob.len();
    Ok(DateList::new(bytes, move |offset, buffer: &mut [u8]| {
        Ok(blob.read_at_exact(buffer, offset)?)
    }))
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
        let mut covered = read_set(&ids)?;
        let mut joins = open_list(connection, "by_join", rowid)?;
        let joined_later = joins.first_at_least(joined_by.saturating_add(1))?;
        let entries = joins.entries;
        covered -= joins.ids(joined_later, entries)?;
        let mut leaves = open_list(connection, "by_leave", rowid)?;
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
    ids.map_or_else(|| Ok(PersonSet::new()), |bytes| read_set(&bytes))
}

/// Everyone whose status is former.
pub(super) fn former(connection: &Connection) -> Result<PersonSet> {
    let mut statement = connection.prepare_cached("SELECT former FROM feed_columns")?;
    let mut rows = statement.query([])?;
    let mut out = PersonSet::new();
    while let Some(row) = rows.next()? {
        let bytes = row.get_ref(0)?.as_blob().map_err(rusqlite::Error::from)?;
        out |= read_set(bytes)?;
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
        let mut leaves = open_list(connection, "by_leave", rowid)?;
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
        count_leavers(bytes, people, &cuts, &mut counts);
    }
    Ok(counts)
}
