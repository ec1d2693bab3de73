//! One leaked record against the ledger: its identifiers found (by the column's role, and any
//! email anywhere in any field), normalised exactly as the ledger normalises them, hashed with
//! the ledger's key and looked up in the identifier index. This exact stage needs only keyed
//! hashes of what custody holds; a row it does not match, with a name and something else, is
//! kept (folded, in memory) for fuzzy linkage (`linkage`), which opens the sealed details.

use custody_core::{
    DateOrder, Day, IdentifierKind, LinkRecord, PersonId, PersonSet, canonical_email, fold_first_word,
    fold_last_word, name_key, name_key_spellings, normalise_email, normalise_postcode, phone_match_form,
};
use custody_ingest::leak::{Batch, Record, Role, leak_days};
use custody_vault::Vault;

use crate::leaks::leak_index::IdentifierIndex;

/// Emails read from one field at most.
const EMAILS_PER_FIELD: usize = 8;
/// Rows one worker keeps for fuzzy linkage at most (about 100 bytes each): memory stays
/// bounded however large the file; rows beyond are counted, not tried.
const RESIDUE_MAX: usize = 2_000_000;
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
    /// Rows no identifier matched that linkage can still try: (line, what the row holds).
    pub residue: Vec<(u64, LinkRecord)>,
    /// Such rows beyond what memory allows, not tried.
    pub residue_not_kept: u64,
    /// With links kept: each row's matches (line, person, kind slot).
    pub links: Vec<(u64, PersonId, u8)>,
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
        self.residue.extend(other.residue);
        self.residue_not_kept += other.residue_not_kept;
        self.links.extend(other.links);
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
    names: Vec<String>,
    key: String,
}

/// What a worker keeps of a row until its identifiers are looked up.
#[derive(Debug)]
pub(crate) struct RowInfo {
    record: u32,
    line: u64,
    link: Option<LinkRecord>,
}

/// The hashes of a batch's identifiers, (record in the batch, kind slot, hash), and what is
/// kept of its rows for linkage and the linkage file.
#[derive(Debug, Default)]
pub(crate) struct Hashes {
    pub hashes: Vec<(u32, u8, [u8; 16])>,
    rows: Vec<RowInfo>,
}

impl Hashes {
    fn clear(&mut self) {
        self.hashes.clear();
        self.rows.clear();
    }

    /// Memory held, for the workers' budget while the index loads.
    pub(crate) fn capacity(&self) -> usize {
        // A row kept is its record, line and folded fields: about five hashes' worth.
        self.hashes.capacity() + self.rows.capacity() * 5
    }
}

/// Hashes looked up together: the first pass reads each one's slot, so the cache misses
/// overlap instead of waiting one after another.
const LOOKUP_GROUP: usize = 16;

/// Finds records' identifiers and hashes them (no index needed yet).
pub(crate) struct RowMatcher<'a> {
    pub vault: &'a Vault,
    pub region: &'a str,
    /// The order of day and month the file's dates proved (`None`: both readings tried).
    pub date_order: Option<DateOrder>,
    /// Whether to keep each row's matches (for the linkage file and per-person detail).
    pub keep_links: bool,
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
    for group in hashes.hashes.chunks(LOOKUP_GROUP) {
        let touched = group
            .iter()
            .fold(0u32, |sum, (_, _, hash)| sum ^ index.touch(hash));
        std::hint::black_box(touched);
        for (record, slot, hash) in group {
            index.lookup(hash, &mut |person| hits.push((*record, *slot, person)));
        }
    }
    let mut rows = hashes.rows.iter().peekable();
    for row in hits.chunk_by(|a, b| a.0 == b.0) {
        let record = row.first().map_or(0, |hit| hit.0);
        // Rows before this one matched nothing: linkage may still find them.
        while let Some(info) = rows.next_if(|info| info.record < record) {
            keep_residue(info, tally);
        }
        let line = rows.next_if(|info| info.record == record).map(|info| info.line);
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
                if let Some(line) = line {
                    tally.links.push((line, *person, *slot));
                }
            }
        }
        if matched {
            tally.rows_matched += 1;
        }
    }
    for info in rows {
        keep_residue(info, tally);
    }
}

fn keep_residue(info: &RowInfo, tally: &mut Tally) {
    if let Some(link) = &info.link {
        if tally.residue.len() < RESIDUE_MAX {
            tally.residue.push((info.line, link.clone()));
        } else {
            tally.residue_not_kept += 1;
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
        let mut born: Option<Day> = None;
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
                    for day in leak_days(value, self.date_order).each() {
                        born = born.or(Some(day));
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
        let (first, last) = match (first, last, full) {
            (Some(first), Some(last), _) => (Some(first), Some(last)),
            (_, _, Some(full)) => split_full_name(full),
            _ => (None, None),
        };
        scratch.names.clear();
        if let (Some(first), Some(last)) = (first, last)
            && let Some(key) = name_key(first, last)
        {
            let spellings = name_key_spellings(first, last, &key);
            scratch.names.push(key);
            scratch.names.extend(spellings);
        }
        tally.rows += 1;
        let contact = !scratch.emails.is_empty() || !scratch.phones.is_empty();
        let any = contact
            || (!scratch.names.is_empty() && (!scratch.postcodes.is_empty() || !scratch.days.is_empty()));
        let link = match (first, last) {
            (Some(first), Some(last)) if any => link_record(first, last, born, scratch),
            _ => None,
        };
        if link.is_some() || (self.keep_links && any) {
            hashes.rows.push(RowInfo {
                record: number,
                line: record.line,
                link,
            });
        }
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
        for name in &scratch.names {
            for (kind, values) in [
                (IdentifierKind::NamePostcode, &scratch.postcodes),
                (IdentifierKind::NameDateOfBirth, &scratch.days),
            ] {
                for value in values {
                    scratch.key.clear();
                    scratch.key.push_str(name);
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
        hashes
            .hashes
            .push((number, slot as u8, self.vault.identifier_hash(kind.tag(), value)));
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

/// A full name's given and family names: `Smith, Alex` is family name first; otherwise the
/// first word and the last (a lone word is no name to link by).
fn split_full_name(full: &str) -> (Option<&str>, Option<&str>) {
    if let Some((last, first)) = full.split_once(',')
        && !first.trim().is_empty()
        && !last.trim().is_empty()
    {
        return (Some(first), Some(last));
    }
    let mut words = full.split_whitespace();
    match (words.next(), words.next_back()) {
        (Some(first), Some(last)) => (Some(first), Some(last)),
        _ => (None, None),
    }
}

/// What linkage compares of a row: its names folded, its first date of birth, postcode,
/// email and phone.
fn link_record(first: &str, last: &str, born: Option<Day>, scratch: &Scratch) -> Option<LinkRecord> {
    let first = fold_first_word(first)?;
    let last = fold_last_word(last)?;
    Some(LinkRecord {
        first,
        last,
        born,
        postcode: scratch.postcodes.first().cloned(),
        email: scratch.emails.first().cloned(),
        phone: scratch.phones.first().cloned(),
    })
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
