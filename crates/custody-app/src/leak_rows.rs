//! One leaked record against the ledger: its identifiers found (by the column's role, and any
//! email anywhere in any field), normalised exactly as the ledger normalises them, hashed with
//! the ledger's key and looked up in the identifier index. custody never needs the plain values
//! it holds to match: only their keyed hashes.

use custody_core::{
    IdentifierKind, PersonSet, canonical_email, full_name_key, name_key, normalise_email, normalise_phone,
    normalise_postcode,
};
use custody_ingest::leak::{Record, Role, leak_day};
use custody_vault::Vault;

use crate::leak_index::IdentifierIndex;

/// Emails read from one field at most.
const EMAILS_PER_FIELD: usize = 8;

/// What the rows a worker read came to.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub rows: u64,
    pub rows_with_identifiers: u64,
    pub rows_matched: u64,
    /// People matched, per identifier kind (in `IdentifierKind::ALL` order).
    pub by_kind: [PersonSet; 5],
    /// Columns that had a value in some row.
    pub columns_seen: Vec<bool>,
}

impl Tally {
    pub(crate) fn merge(&mut self, other: Tally) {
        self.rows += other.rows;
        self.rows_with_identifiers += other.rows_with_identifiers;
        self.rows_matched += other.rows_matched;
        for (mine, theirs) in self.by_kind.iter_mut().zip(other.by_kind) {
            *mine |= theirs;
        }
        if self.columns_seen.len() < other.columns_seen.len() {
            self.columns_seen.resize(other.columns_seen.len(), false);
        }
        for (mine, theirs) in self.columns_seen.iter_mut().zip(other.columns_seen) {
            *mine |= theirs;
        }
    }

    /// Everyone matched by any identifier.
    pub(crate) fn matched(&self) -> PersonSet {
        self.by_kind.iter().fold(PersonSet::new(), |all, set| all | set)
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

/// Matches records against the index.
pub(crate) struct RowMatcher<'a> {
    pub vault: &'a Vault,
    pub index: &'a IdentifierIndex,
    pub region: &'a str,
}

impl RowMatcher<'_> {
    /// Reads one record into `tally`.
    pub(crate) fn record(&self, record: &Record<'_>, tally: &mut Tally, scratch: &mut Scratch) {
        scratch.emails.clear();
        scratch.phones.clear();
        scratch.postcodes.clear();
        scratch.days.clear();
        let (mut first, mut last, mut full) = (None, None, None);
        for (column, _) in record.columns() {
            if let Some(seen) = tally.columns_seen.get_mut(column as usize) {
                *seen = true;
            } else {
                tally.columns_seen.resize(column as usize + 1, false);
                if let Some(seen) = tally.columns_seen.get_mut(column as usize) {
                    *seen = true;
                }
            }
        }
        for (role, value) in record.fields() {
            match role {
                Role::Email => {
                    match normalise_email(value).filter(|email| !email.contains([' ', '<', '>'])) {
                        Some(email) => push_new(&mut scratch.emails, email),
                        None => emails_in(value, &mut scratch.emails),
                    }
                }
                Role::Phone => {
                    if let Some(phone) = normalise_phone(value, self.region) {
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
        .or_else(|| full.and_then(full_name_key));
        tally.rows += 1;
        let any = !scratch.emails.is_empty()
            || !scratch.phones.is_empty()
            || (name.is_some() && !(scratch.postcodes.is_empty() && scratch.days.is_empty()));
        if !any {
            return;
        }
        tally.rows_with_identifiers += 1;
        let mut hit = false;
        for email in &scratch.emails {
            hit |= self.look(IdentifierKind::EmailStrict, email, tally);
            let canonical = canonical_email(email);
            hit |= self.look(IdentifierKind::EmailCanonical, &canonical, tally);
        }
        for phone in &scratch.phones {
            hit |= self.look(IdentifierKind::Phone, phone, tally);
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
                    hit |= self.look(kind, &scratch.key, tally);
                }
            }
        }
        if hit {
            tally.rows_matched += 1;
        }
    }

    fn look(&self, kind: IdentifierKind, value: &str, tally: &mut Tally) -> bool {
        let hash = self.vault.identifier_hash(kind.tag(), value);
        let slot = IdentifierKind::ALL
            .iter()
            .position(|candidate| *candidate == kind)
            .unwrap_or(0);
        let mut hit = false;
        if let Some(set) = tally.by_kind.get_mut(slot) {
            self.index.lookup(&hash, &mut |person| {
                set.insert(person);
                hit = true;
            });
        }
        hit
    }
}

fn push_new(values: &mut Vec<String>, value: String) {
    if !values.contains(&value) {
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
            .trim_start_matches('.')
            .trim_end_matches(['.', '-']);
        if let Some(email) = normalise_email(candidate) {
            push_new(emails, email);
            found += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
