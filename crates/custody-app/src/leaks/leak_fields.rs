//! What one leaked record holds that identifies someone: its email addresses (by the column's
//! role, and any written anywhere in any field), phone numbers, postcodes, dates of birth and
//! name keys, each normalised exactly as the ledger normalises them, into strings kept from row
//! to row, so that reading a record allocates nothing in the common case.

use custody_core::{
    DateOrder, Day, LinkRecord, day_into, email_into, fold_first_word, fold_last_word, name_key_into,
    name_key_spellings, phone_into, postcode_into,
};
use custody_ingest::leak::{Record, Role, leak_days};

/// Emails read from one field at most.
const EMAILS_PER_FIELD: usize = 8;
/// Values of one kind (emails, phones, postcodes, dates) taken from one record at most.
const VALUES_PER_KIND: usize = 256;

/// Values of one kind read from a record, in strings reused from row to row.
#[derive(Debug, Default)]
pub(crate) struct Values {
    items: Vec<String>,
    len: usize,
}

impl Values {
    fn clear(&mut self) {
        self.len = 0;
    }

    /// The values, in the order they were found.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        self.items.iter().take(self.len).map(String::as_str)
    }

    /// The first value.
    pub(crate) fn first(&self) -> Option<&str> {
        self.iter().next()
    }

    /// Whether there is none.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds the value `fill` writes, when it writes one and it is not there yet; a record gives
    /// at most `VALUES_PER_KIND` of a kind (a line of a million addresses is read, not matched
    /// a million times over). Whether a value was written.
    fn add(&mut self, fill: impl FnOnce(&mut String) -> bool) -> bool {
        if self.len >= VALUES_PER_KIND {
            return false;
        }
        if self.items.len() == self.len {
            self.items.push(String::new());
        }
        let (kept, rest) = self.items.split_at_mut(self.len);
        let Some(value) = rest.first_mut() else {
            return false;
        };
        if !fill(value) {
            return false;
        }
        if !kept.iter().any(|kept| kept == value) {
            self.len += 1;
        }
        true
    }
}

/// Buffers reused from row to row, holding the last record's values.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    pub(crate) emails: Values,
    pub(crate) phones: Values,
    pub(crate) postcodes: Values,
    pub(crate) days: Values,
    pub(crate) names: Values,
    /// A name key with a postcode or a date, or an address's canonical form, being hashed.
    pub(crate) key: String,
}

/// A record's names (as written) and first date of birth; its other values are in the scratch.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Found<'r> {
    first: Option<&'r str>,
    last: Option<&'r str>,
    born: Option<Day>,
}

impl Found<'_> {
    /// Whether it has a given and a family name.
    pub(crate) fn named(&self) -> bool {
        self.first.is_some() && self.last.is_some()
    }
}

impl Scratch {
    /// Reads `record`'s values into the scratch; see the module documentation.
    pub(crate) fn read<'r>(
        &mut self,
        record: &Record<'r>,
        region: &str,
        order: Option<DateOrder>,
    ) -> Found<'r> {
        for values in [
            &mut self.emails,
            &mut self.phones,
            &mut self.postcodes,
            &mut self.days,
            &mut self.names,
        ] {
            values.clear();
        }
        let (mut first, mut last, mut full) = (None, None, None);
        let mut born: Option<Day> = None;
        for (role, value) in record.fields() {
            match role {
                Role::Email => {
                    if !self.emails.add(|out| email_into(value, out)) {
                        emails_in(value, &mut self.emails);
                    }
                }
                Role::Phone => {
                    self.phones.add(|out| phone_into(value, region, out));
                }
                Role::FirstName => first = first.or(Some(value)),
                Role::LastName => last = last.or(Some(value)),
                Role::FullName => full = full.or(Some(value)),
                Role::Postcode => {
                    self.postcodes.add(|out| postcode_into(value, out));
                }
                Role::DateOfBirth => {
                    for day in leak_days(value, order).each() {
                        born = born.or(Some(day));
                        self.days.add(|out| {
                            day_into(day, out);
                            true
                        });
                    }
                }
                Role::Other => {
                    if value.as_bytes().contains(&b'@') {
                        emails_in(value, &mut self.emails);
                    }
                }
            }
        }
        let (first, last) = match (first, last, full) {
            (Some(first), Some(last), _) => (Some(first), Some(last)),
            (_, _, Some(full)) => split_full_name(full),
            _ => (None, None),
        };
        if let (Some(first), Some(last)) = (first, last)
            && self.names.add(|out| name_key_into(first, last, out))
            && let Some(key) = self.names.first()
        {
            for spelling in name_key_spellings(first, last, key) {
                self.names.add(|out| {
                    out.clear();
                    out.push_str(&spelling);
                    true
                });
            }
        }
        Found { first, last, born }
    }

    /// Whether the record read last has something to match by: an address or a phone number,
    /// or a name with a postcode or a date of birth.
    pub(crate) fn has_identifiers(&self) -> bool {
        !self.emails.is_empty()
            || !self.phones.is_empty()
            || (!self.names.is_empty() && (!self.postcodes.is_empty() || !self.days.is_empty()))
    }

    /// Writes what linkage compares of the record read last (`found`: what it gave) to the end
    /// of `arena`, to be made a [`LinkRecord`] only if nothing matches the record: its names as
    /// written, its first date of birth, postcode, address and phone number. `None` when it has
    /// no given and family name.
    pub(crate) fn link_parts(&self, found: &Found<'_>, arena: &mut String) -> Option<LinkParts> {
        let (first, last) = (found.first?, found.last?);
        let mut put = |text: Option<&str>| {
            text.map(|text| {
                let start = arena.len();
                arena.push_str(text);
                (start, arena.len())
            })
        };
        Some(LinkParts {
            spans: [
                put(Some(first)),
                put(Some(last)),
                put(self.postcodes.first()),
                put(self.emails.first()),
                put(self.phones.first()),
            ],
            born: found.born,
        })
    }
}

/// Where a record's parts for linkage are in an arena (given name, family name, postcode,
/// address, phone number), and its first date of birth.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LinkParts {
    spans: [Option<(usize, usize)>; 5],
    born: Option<Day>,
}

impl LinkParts {
    /// What linkage compares, from the `arena` the parts were written to: the names folded (the
    /// first word of the given name, the last of the family name), the rest as read. `None` when
    /// a name does not fold (`15`, `Smith`): no record linkage could try.
    pub(crate) fn record(&self, arena: &str) -> Option<LinkRecord> {
        let text = |span: Option<(usize, usize)>| span.and_then(|(start, end)| arena.get(start..end));
        let [first, last, postcode, email, phone] = self.spans;
        Some(LinkRecord {
            first: fold_first_word(text(first)?)?,
            last: fold_last_word(text(last)?)?,
            born: self.born,
            postcode: text(postcode).map(str::to_owned),
            email: text(email).map(str::to_owned),
            phone: text(phone).map(str::to_owned),
        })
    }
}

/// Every email address written anywhere in `text` (`Alex <alex@example.org>`, a URL, a sentence).
pub(crate) fn emails_in(text: &str, emails: &mut Values) {
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
        if emails.add(|out| email_into(candidate, out)) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_anywhere() {
        let mut emails = Values::default();
        emails_in("Alex Smith <Alex.Smith@Example.org>; cc bo@x.co.uk.", &mut emails);
        emails_in(
            "https://forum.example/u?mail=sam%40x.org&to=jo@y.org",
            &mut emails,
        );
        emails_in("no address @ here, nor here@", &mut emails);
        emails_in("again: bo@x.co.uk", &mut emails);
        assert_eq!(
            emails.iter().collect::<Vec<_>>(),
            ["alex.smith@example.org", "bo@x.co.uk", "jo@y.org"]
        );
    }

    #[test]
    fn values_are_kept_once_and_reused() {
        let mut values = Values::default();
        assert!(values.add(|out| {
            out.push('a');
            true
        }));
        values.add(|out| {
            out.clear();
            out.push('a');
            true
        });
        assert!(!values.add(|_| false));
        assert_eq!(values.iter().collect::<Vec<_>>(), ["a"]);
        values.clear();
        assert!(values.is_empty());
        values.add(|out| {
            out.clear();
            out.push('b');
            true
        });
        assert_eq!(values.first(), Some("b"));
    }
}
