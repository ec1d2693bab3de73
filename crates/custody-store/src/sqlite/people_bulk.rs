//! A first import's people, written many to a statement: into an empty table, with ids given
//! in the file's order. One statement a row costs more than the row (binding, stepping,
//! resetting); a statement of `BULK_ROWS` rows costs about one row's overhead. Identifier pairs
//! are collected for one sorted append at the end (see `people::import`).

use rusqlite::{Statement, Transaction};

use custody_core::{Day, IsoDay, PersonId};

use crate::encoding::FeedBuilder;
use crate::error::{Error, Result};
use crate::pairs::IdentifierPairs;
use crate::types::NewPerson;

/// People written per statement.
const BULK_ROWS: usize = 64;
/// Columns of a person's row, in `PEOPLE_ROW` order.
const PEOPLE_COLUMNS: usize = 12;
const PEOPLE_ROW: &str = "(?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)";

/// People waiting to be written, and what the import collects of those written.
pub(super) struct Bulk {
    waiting: Vec<NewPerson>,
    next_id: PersonId,
    batch: i64,
    /// Identifier pairs of the people written, for one sorted append.
    pub pairs: IdentifierPairs,
    /// The standing feeds' columns of the people written.
    pub feed: FeedBuilder,
}

impl Bulk {
    /// Writing into an empty people table, for import `batch`.
    pub(super) fn new(transaction: &Transaction<'_>, batch: i64) -> Result<Self> {
        let last: i64 =
            transaction.query_row("SELECT COALESCE(MAX(id), 0) FROM people", [], |row| row.get(0))?;
        Ok(Bulk {
            waiting: Vec::with_capacity(BULK_ROWS),
            next_id: crate::encoding::person_id(last)?,
            batch,
            pairs: IdentifierPairs::default(),
            feed: FeedBuilder::default(),
        })
    }

    /// Adds a person, writing when a statement's worth is waiting.
    pub(super) fn push(&mut self, transaction: &Transaction<'_>, person: NewPerson) -> Result<()> {
        self.waiting.push(person);
        if self.waiting.len() == BULK_ROWS {
            self.flush(transaction)?;
        }
        Ok(())
    }

    /// Writes every person waiting.
    pub(super) fn flush(&mut self, transaction: &Transaction<'_>) -> Result<()> {
        let count = self.waiting.len();
        if count == 0 {
            return Ok(());
        }
        let first = self.next_id;
        let people_sql = values_sql(
            "INSERT INTO people (id, ref, category, status, joined_on, left_on, country, canary_share, \
             import_batch, identifiers, contact_digest, source_digest, region) VALUES ",
            PEOPLE_ROW,
            count,
        );
        let mut people = transaction.prepare_cached(&people_sql)?;
        bind_people(&mut people, &self.waiting, first, self.batch)?;
        match people.raw_execute() {
            Err(rusqlite::Error::SqliteFailure(failure, _))
                if failure.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                return Err(self.duplicate(transaction)?);
            }
            other => {
                other?;
            }
        }
        self.write_contacts(transaction, first)?;
        for (offset, person) in (0u32..).zip(&self.waiting) {
            let id = first
                .checked_add(offset + 1)
                .ok_or_else(|| Error::Corrupt("person ids have run past 2^32".to_owned()))?;
            self.pairs.push_person(&person.identifiers, id);
            self.feed.push_person(id, person);
        }
        self.next_id = first.saturating_add(u32::try_from(count).unwrap_or(u32::MAX));
        self.waiting.clear();
        Ok(())
    }

    /// The sealed contact details of the people waiting, whose ids follow `first`.
    fn write_contacts(&self, transaction: &Transaction<'_>, first: PersonId) -> Result<()> {
        let sealed: Vec<(i64, &[u8])> = (1i64..)
            .zip(&self.waiting)
            .filter_map(|(offset, person)| {
                person
                    .contact
                    .as_deref()
                    .map(|sealed| (i64::from(first) + offset, sealed))
            })
            .collect();
        if sealed.is_empty() {
            return Ok(());
        }
        let sql = values_sql(
            "INSERT INTO contacts (person, sealed) VALUES ",
            "(?, ?)",
            sealed.len(),
        );
        let mut contacts = transaction.prepare_cached(&sql)?;
        for (at, (id, sealed)) in (1usize..).step_by(2).zip(&sealed) {
            contacts.raw_bind_parameter(at, id)?;
            contacts.raw_bind_parameter(at + 1, sealed)?;
        }
        contacts.raw_execute()?;
        Ok(())
    }

    /// The first reference of the people waiting that the table already holds (or that comes
    /// twice among them), as the error to report.
    fn duplicate(&self, transaction: &Transaction<'_>) -> Result<Error> {
        let mut seen = std::collections::HashSet::new();
        let mut known = transaction.prepare("SELECT EXISTS (SELECT 1 FROM people WHERE ref = ?1)")?;
        for person in &self.waiting {
            let held: bool = known.query_row([&person.reference], |row| row.get(0))?;
            if held || !seen.insert(person.reference.as_str()) {
                return Ok(Error::DuplicateReference {
                    reference: person.reference.clone(),
                    line: person.line,
                });
            }
        }
        Ok(Error::Corrupt(
            "a first import broke a constraint other than the references'".to_owned(),
        ))
    }
}

/// `head` and `count` copies of `row`, comma-separated.
fn values_sql(head: &str, row: &str, count: usize) -> String {
    let mut sql = String::with_capacity(head.len() + (row.len() + 2) * count);
    sql.push_str(head);
    for index in 0..count {
        if index > 0 {
            sql.push_str(", ");
        }
        sql.push_str(row);
    }
    sql
}

/// Binds each person's row, their ids following `first`.
fn bind_people(
    statement: &mut Statement<'_>,
    people: &[NewPerson],
    first: PersonId,
    batch: i64,
) -> Result<()> {
    let mut packed = Vec::new();
    for (offset, person) in (0usize..).zip(people) {
        let at = offset * PEOPLE_COLUMNS + 1;
        let (joined, left) = (person.joined_on.map(Day::iso), person.left_on.map(Day::iso));
        person.pack_identifiers_into(&mut packed);
        let id = i64::from(first) + i64::try_from(offset).unwrap_or(i64::MAX) + 1;
        statement.raw_bind_parameter(at, id)?;
        statement.raw_bind_parameter(at + 1, &person.reference)?;
        statement.raw_bind_parameter(at + 2, person.category.as_str())?;
        statement.raw_bind_parameter(at + 3, person.status.as_str())?;
        statement.raw_bind_parameter(at + 4, joined.as_ref().map(IsoDay::as_str))?;
        statement.raw_bind_parameter(at + 5, left.as_ref().map(IsoDay::as_str))?;
        statement.raw_bind_parameter(at + 6, &person.country)?;
        statement.raw_bind_parameter(at + 7, batch)?;
        statement.raw_bind_parameter(at + 8, packed.as_slice())?;
        statement.raw_bind_parameter(
            at + 9,
            person.contact_digest.as_ref().map(|digest| digest.as_slice()),
        )?;
        statement.raw_bind_parameter(
            at + 10,
            person.source_digest.as_ref().map(|digest| digest.as_slice()),
        )?;
        statement.raw_bind_parameter(at + 11, &person.region)?;
    }
    Ok(())
}
