//! One leaked record against the ledger: its identifiers found (by the column's role, and any
//! email anywhere in any field), normalised exactly as the ledger normalises them, hashed with
//! the ledger's key and looked up in the identifier index. custody never needs the plain values
//! it holds to match: only their keyed hashes.

use custody_core::{
    IdentifierKind, PersonId, PersonSet, canonical_email, full_name_key, name_key, normalise_email,
    normalise_postcode, phone_match_form,
};
use custody_ingest::leak::{Batch, Record, Role, leak_day};
use custody_vault::Vault;

use crate::leak_index::IdentifierIndex;

/// Emails read from one field at most.
const EMAILS_PER_FIELD: usize = 8;
/// Values of one kind (emails, phones, postcodes, dates) taken from one record at most.
const VALUES_PER_KIND: usize = 256;

/// A set of person ids as plain bits: setting one is a single write, where a Roaring bitmap
/// searches its containers. Its size is bounded by the ledger's largest id, not by the file.
#[derive(Debug, Default, Clone)]
pub(crate) struct Bits(Vec<u64>);

impl Bits {
    fn insert(&mut self, person: PersonId) {
        let word = (person / 64) as usize;
        if word >= self.0.len() {
            self.0.resize(word + 1, 0);
        }
        if let Some(bits) = self.0.get_mut(word) {
            *bits |= 1 << (person % 64);
        }
    }

    fn union(&mut self, other: &Bits) {
        if self.0.len() < other.0.len() {
            self.0.resize(other.0.len(), 0);
        }
        for (mine, theirs) in self.0.iter_mut().zip(&other.0) {
            *mine |= theirs;
        }
    }

    /// The ids as a person set.
    pub(crate) fn to_set(&self) -> PersonSet {
        let ids = self.0.iter().enumerate().flat_map(|(word, bits)| {
            (0..64u32)
                .filter(move |bit| bits & (1 << bit) != 0)
                .map(move |bit| word as u32 * 64 + bit)
        });
        PersonSet::from_sorted_iter(ids).unwrap_or_default()
    }
}

/// What the rows a worker read came to.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub rows: u64,
    pub rows_with_identifiers: u64,
    pub rows_matched: u64,
    /// People matched, per identifier kind (in `IdentifierKind::ALL` order).
    pub by_kind: [Bits; 5],
    /// Columns that had a value in some row about someone (one with identifiers): the file's
    /// data categories come from these.
    pub columns_seen: Vec<bool>,
    /// Columns that had a value in any row.
    pub columns_with_values: Vec<bool>,
}

/// Marks `column` in `columns`.
fn mark(columns: &mut Vec<bool>, column: u32) {
    let at = column as usize;
    if columns.len() <= at {
        columns.resize(at + 1, false);
    }
    if let Some(seen) = columns.get_mut(at) {
        *seen = true;
    }
}

/// Unites two column marks.
fn unite(mine: &mut Vec<bool>, theirs: &[bool]) {
    if mine.len() < theirs.len() {
        mine.resize(theirs.len(), false);
    }
    for (mine, theirs) in mine.iter_mut().zip(theirs) {
        *mine |= theirs;
    }
}

impl Tally {
    pub(crate) fn merge(&mut self, other: Tally) {
        self.rows += other.rows;
        self.rows_with_identifiers += other.rows_with_identifiers;
        self.rows_matched += other.rows_matched;
        for (mine, theirs) in self.by_kind.iter_mut().zip(&other.by_kind) {
            mine.union(theirs);
        }
        unite(&mut self.columns_seen, &other.columns_seen);
        unite(&mut self.columns_with_values, &other.columns_with_values);
    }

    /// Everyone matched by any identifier.
    pub(crate) fn matched(&self) -> PersonSet {
        self.matched_by(&IdentifierKind::ALL)
    }

    /// Everyone matched by one of `kinds`.
    pub(crate) fn matched_by(&self, kinds: &[IdentifierKind]) -> PersonSet {
        let mut all = Bits::default();
        for (kind, bits) in IdentifierKind::ALL.iter().zip(&self.by_kind) {
            if kinds.contains(kind) {
                all.union(bits);
            }
        }
        all.to_set()
    }
}

/// Buffers reused from row to row.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    emails: Vec<String>,
    phones: Vec<String>,
    postcodes: Vec<String>,
    days: Vec<String>,
    key: String,
}

/// The hashes of a batch's identifiers: (record in the batch, kind slot, hash).
pub(crate) type Hashes = Vec<(u32, u8, [u8; 16])>;

/// Hashes looked up together: the first pass reads each one's slot, so the cache misses
/// overlap instead of waiting one after another.
const LOOKUP_GROUP: usize = 16;

/// Finds records' identifiers and hashes them (no index needed yet).
pub(crate) struct RowMatcher<'a> {
    pub vault: &'a Vault,
    pub region: &'a str,
}

/// Hits of a batch: (record, kind slot, person).
pub(crate) type Hits = Vec<(u32, u8, PersonId)>;

/// Kind slots of the identifiers that name one person (an address, a phone number); a name with
/// a postcode or a birthday can be two people's.
const STRONG_SLOTS: [u8; 3] = [0, 1, 2];

/// Looks up a batch's hashes and counts the people and rows matched. A row is about one person:
/// when its address or phone number matched someone, a name-and-postcode or name-and-birthday
/// match of somebody else in the same row is a namesake, not a second person found. A row
/// counts as matched only for a person who is not a canary.
pub(crate) fn look_up(
    index: &IdentifierIndex,
    canaries: &PersonSet,
    hashes: &Hashes,
    hits: &mut Hits,
    tally: &mut Tally,
) {
    hits.clear();
    for group in hashes.chunks(LOOKUP_GROUP) {
        let touched = group
            .iter()
            .fold(0u32, |sum, (_, _, hash)| sum ^ index.touch(hash));
        std::hint::black_box(touched);
        for (record, slot, hash) in group {
            index.lookup(hash, &mut |person| hits.push((*record, *slot, person)));
        }
    }
    for row in hits.chunk_by(|a, b| a.0 == b.0) {
        // A row's hits are few: asked of the slice itself, with nothing allocated per row.
        let strong = |person: Option<PersonId>| {
            row.iter().any(|(_, slot, found)| {
                STRONG_SLOTS.contains(slot) && person.is_none_or(|person| *found == person)
            })
        };
        let any_strong = strong(None);
        let mut matched = false;
        for (_, slot, person) in row {
            if any_strong && !STRONG_SLOTS.contains(slot) && !strong(Some(*person)) {
                continue;
            }
            if let Some(bits) = tally.by_kind.get_mut(usize::from(*slot)) {
                bits.insert(*person);
                matched |= !canaries.contains(*person);
            }
        }
        if matched {
            tally.rows_matched += 1;
        }
    }
}

impl RowMatcher<'_> {
    /// Reads a batch's records into `tally` and their identifiers' hashes into `hashes`.
    pub(crate) fn hash_batch(
        &self,
        batch: &Batch,
        tally: &mut Tally,
        scratch: &mut Scratch,
        hashes: &mut Hashes,
    ) {
        hashes.clear();
        for (number, record) in batch.records().enumerate() {
            self.record(
                u32::try_from(number).unwrap_or(u32::MAX),
                &record,
                tally,
                scratch,
                hashes,
            );
        }
    }

    /// Finds one record's identifiers and queues their hashes.
    fn record(
        &self,
        number: u32,
        record: &Record<'_>,
        tally: &mut Tally,
        scratch: &mut Scratch,
        hashes: &mut Hashes,
    ) {
        scratch.emails.clear();
        scratch.phones.clear();
        scratch.postcodes.clear();
        scratch.days.clear();
        let (mut first, mut last, mut full) = (None, None, None);
        for (column, _) in record.columns() {
            mark(&mut tally.columns_with_values, column);
        }
        for (role, value) in record.fields() {
            match role {
                Role::Email => match normalise_email(value) {
                    Some(email) => push_new(&mut scratch.emails, email),
                    None => emails_in(value, &mut scratch.emails),
                },
                Role::Phone => {
                    if let Some(phone) = phone_match_form(value, self.region) {
                        push_new(&mut scratch.phones, phone);
                    }
                }
                Role::FirstName => first = first.or(Some(value)),
                Role::LastName => last = last.or(Some(value)),
                Role::FullName => full = full.or(Some(value)),
                Role::Postcode => {
                    if let Some(postcode) = normalise_postcode(value) {
                        push_new(&mut scratch.postcodes, postcode);
                    }
                }
                Role::DateOfBirth => {
                    if let Some(day) = leak_day(value) {
                        push_new(&mut scratch.days, day.to_iso());
                    }
                }
                Role::Other => {
                    if memchr_at(value) {
                        emails_in(value, &mut scratch.emails);
                    }
                }
            }
        }
        let name = match (first, last) {
            (Some(first), Some(last)) => name_key(first, last),
            _ => None,
        }
        .or_else(|| full.and_then(full_name));
        tally.rows += 1;
        let any = !scratch.emails.is_empty()
            || !scratch.phones.is_empty()
            || (name.is_some() && !(scratch.postcodes.is_empty() && scratch.days.is_empty()));
        if !any {
            return;
        }
        tally.rows_with_identifiers += 1;
        // The file's data categories come from the records that are about someone.
        for (column, _) in record.columns() {
            mark(&mut tally.columns_seen, column);
        }
        for email in &scratch.emails {
            self.hash(number, IdentifierKind::EmailStrict, email, hashes);
            self.hash(
                number,
                IdentifierKind::EmailCanonical,
                &canonical_email(email),
                hashes,
            );
        }
        for phone in &scratch.phones {
            self.hash(number, IdentifierKind::Phone, phone, hashes);
        }
        if let Some(name) = name {
            for (kind, values) in [
                (IdentifierKind::NamePostcode, &scratch.postcodes),
                (IdentifierKind::NameDateOfBirth, &scratch.days),
            ] {
                for value in values {
                    scratch.key.clear();
                    scratch.key.push_str(&name);
                    scratch.key.push('|');
                    scratch.key.push_str(value);
                    self.hash(number, kind, &scratch.key, hashes);
                }
            }
        }
    }

    fn hash(&self, number: u32, kind: IdentifierKind, value: &str, hashes: &mut Hashes) {
        // Only the kinds leak matching counts have a slot; any other is not matched (never
        // counted under another kind's slot).
        let Some(slot) = IdentifierKind::ALL
            .iter()
            .position(|candidate| *candidate == kind)
        else {
            return;
        };
        hashes.push((number, slot as u8, self.vault.identifier_hash(kind.tag(), value)));
    }
}

/// Adds a value not there yet; a record gives at most `VALUES_PER_KIND` of a kind (a line of a
/// million addresses is read, not matched a million times over).
fn push_new(values: &mut Vec<String>, value: String) {
    if values.len() < VALUES_PER_KIND && !values.contains(&value) {
        values.push(value);
    }
}

fn memchr_at(value: &str) -> bool {
    value.as_bytes().contains(&b'@')
}

/// Every email address written anywhere in `text` (`Alex <alex@example.org>`, a URL, a sentence).
pub(crate) fn emails_in(text: &str, emails: &mut Vec<String>) {
    let bytes = text.as_bytes();
    // The characters addresses use in practice; the rarer ones RFC 5322 allows (`/`, `=`, `&`)
    // would run an address into a URL's query or the words around it.
    let local_byte = |byte: u8| byte.is_ascii_alphanumeric() || b"._+-'".contains(&byte);
    let domain_byte = |byte: u8| byte.is_ascii_alphanumeric() || byte == b'.' || byte == b'-';
    let mut found = 0;
    for (at, _) in bytes.iter().enumerate().filter(|(_, byte)| **byte == b'@') {
        if found >= EMAILS_PER_FIELD {
            return;
        }
        let mut start = at;
        while start > 0 && bytes.get(start - 1).is_some_and(|byte| local_byte(*byte)) {
            start -= 1;
        }
        let mut end = at + 1;
        while bytes.get(end).is_some_and(|byte| domain_byte(*byte)) {
            end += 1;
        }
        let candidate = text
            .get(start..end)
            .unwrap_or("")
            .trim_start_matches(['.', '\''])
            .trim_end_matches(['.', '-', '\'']);
        if let Some(email) = normalise_email(candidate) {
            push_new(emails, email);
            found += 1;
        }
    }
}

/// The name key of a full name; `Smith, Alex` is family name first.
fn full_name(full: &str) -> Option<String> {
    match full.split_once(',') {
        Some((last, first)) if !first.trim().is_empty() => name_key(first, last),
        _ => full_name_key(full),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]

    use super::*;

    #[test]
    fn strong_slots_are_the_address_and_phone_kinds() {
        for slot in STRONG_SLOTS {
            assert!(matches!(
                IdentifierKind::ALL[usize::from(slot)],
                IdentifierKind::EmailStrict | IdentifierKind::EmailCanonical | IdentifierKind::Phone
            ));
        }
    }

    #[test]
    fn emails_anywhere() {
        let mut emails = Vec::new();
        emails_in("Alex Smith <Alex.Smith@Example.org>; cc bo@x.co.uk.", &mut emails);
        emails_in(
            "https://forum.example/u?mail=sam%40x.org&to=jo@y.org",
            &mut emails,
        );
        emails_in("no address @ here, nor here@", &mut emails);
        assert_eq!(emails, ["alex.smith@example.org", "bo@x.co.uk", "jo@y.org"]);
    }
}
