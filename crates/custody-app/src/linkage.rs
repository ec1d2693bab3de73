//! Fuzzy linkage: records that no identifier matched exactly (leaked rows, a request from an
//! address custody does not hold) against the people in the ledger, by names, date of birth,
//! postcode, email and phone with typos, other spellings and swapped fields.
//!
//! custody keeps no plain personal data at rest and no similarity encoding of it either: the
//! people's sealed contact details are opened in memory, one at a time, while the ledger is read
//! once; nothing opened is written anywhere. Blocking keeps the comparisons few: a person is
//! compared only with the records that share a blocking key with them (date of birth and an
//! initial, postcode, the Soundex codes of both names, email's local part, a phone's last
//! digits), computed in memory for the records first, then for each person as they are read.
//! Pairs are scored by a Fellegi–Sunter model (`linkage_model`) whose `u` comes from random
//! pairs and whose `m` is estimated from the candidate pairs themselves.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use custody_core::{Day, Levels, LinkRecord, LinkageSettings, PersonId, fold_name_words, soundex};

use crate::dir::Ledger;
use crate::error::Result;
use crate::linkage_model::{Model, corroborated};
use crate::people::Contact;

/// A block holding more of the file's records than this says too little to compare every
/// person who shares it with each of them (a common name's Soundex codes, a date and an
/// initial in a file of the same few names): those records are compared through their other
/// keys only.
pub(crate) const BLOCK_MAX: usize = 64;
/// A row's best link counts as ambiguous when the next person is this close (in bits).
const AMBIGUOUS_BITS: f64 = 2.0;

/// One record linked to a person.
#[derive(Debug, Clone)]
pub struct FuzzyLink {
    /// The record's line (a leaked file's) or number.
    pub line: u64,
    /// The person.
    pub person: PersonId,
    /// The match probability.
    pub probability: f64,
    /// The field levels (see `custody_core::LINK_FIELDS`).
    pub levels: Levels,
    /// Given and family names were the other way round.
    pub swapped: bool,
    /// Another person scored nearly as well: never certain.
    pub ambiguous: bool,
}

/// What linkage found.
#[derive(Debug, Clone, Default)]
pub struct Linked {
    /// Links at or above the certain line.
    pub certain: Vec<FuzzyLink>,
    /// Links in the review band.
    pub probable: Vec<FuzzyLink>,
    /// People read from the ledger.
    pub people_read: u64,
    /// Candidate pairs compared.
    pub pairs: u64,
    /// The model as estimated.
    pub model: Model,
}

/// A hasher for keys that are already hashes.
#[derive(Default)]
pub(crate) struct Passthrough(u64);

impl Hasher for Passthrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }
    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

/// The file's records by blocking key.
pub(crate) type Blocks = HashMap<u64, Vec<u32>, BuildHasherDefault<Passthrough>>;

fn key(parts: &[&str]) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    parts.hash(&mut hasher);
    hasher.finish()
}

/// The blocking keys of a record; `query` adds the readings a record of the file may need (day
/// and month swapped, names the other way round).
pub(crate) fn block_keys(record: &LinkRecord, query: bool, out: &mut Vec<u64>) {
    out.clear();
    let initial = |word: &str| word.get(..1).unwrap_or("").to_owned();
    let (first, last) = (initial(&record.first), initial(&record.last));
    if let Some(born) = record.born {
        let iso = born.to_iso();
        out.push(key(&["b", &iso, &last]));
        out.push(key(&["b", &iso, &first]));
        if query && let Some(swapped) = swapped_day(born) {
            out.push(key(&["b", &swapped.to_iso(), &last]));
            out.push(key(&["b", &swapped.to_iso(), &first]));
        }
    }
    if let Some(postcode) = &record.postcode {
        out.push(key(&["p", postcode]));
    }
    if !record.first.is_empty() && !record.last.is_empty() {
        let (a, b) = (soundex(&record.first), soundex(&record.last));
        out.push(key(&["s", &a, &b]));
        if query {
            out.push(key(&["s", &b, &a]));
        }
    }
    if let Some((local, _)) = record.email.as_deref().and_then(|email| email.rsplit_once('@')) {
        out.push(key(&["e", local]));
    }
    if let Some(phone) = &record.phone {
        let tail = phone.get(phone.len().saturating_sub(8)..).unwrap_or(phone);
        out.push(key(&["t", tail]));
    }
    out.sort_unstable();
    out.dedup();
}

fn swapped_day(day: Day) -> Option<Day> {
    let date = day.date();
    jiff::civil::Date::new(date.year(), date.day(), date.month())
        .ok()
        .filter(|swapped| *swapped != date)
        .map(Day::from_date)
}

/// What a person's sealed contact details give linkage.
pub(crate) fn person_record(contact: &Contact) -> Option<LinkRecord> {
    let first = fold_name_words(contact.first_name.as_deref()?)
        .into_iter()
        .next()?;
    let last = fold_name_words(contact.last_name.as_deref()?)
        .into_iter()
        .last()?;
    Some(LinkRecord {
        first,
        last,
        born: contact
            .born
            .as_deref()
            .and_then(|text| custody_core::parse_day(text).ok()),
        postcode: contact.postcode.clone(),
        email: contact.email.clone(),
        phone: contact.phone.clone(),
    })
}

/// The best and second-best person for one record.
#[derive(Debug, Clone, Copy, Default)]
struct Best {
    first: Option<(f64, PersonId, Levels, bool)>,
    second: Option<f64>,
}

impl Best {
    fn offer(&mut self, weight: f64, person: PersonId, levels: Levels, swapped: bool) {
        match self.first {
            Some((best, holder, ..)) if weight <= best => {
                if holder != person && self.second.is_none_or(|second| weight > second) {
                    self.second = Some(weight);
                }
            }
            Some((best, holder, ..)) => {
                if holder != person {
                    self.second = Some(self.second.map_or(best, |second| second.max(best)));
                }
                self.first = Some((weight, person, levels, swapped));
            }
            None => self.first = Some((weight, person, levels, swapped)),
        }
    }
}

/// Links `records` (line, record) to the ledger's people; see the module documentation.
pub(crate) fn link(ledger: &Ledger, records: &[(u64, LinkRecord)], lines: LinkageSettings) -> Result<Linked> {
    if records.is_empty() {
        return Ok(Linked::default());
    }
    let mut blocks = Blocks::default();
    let mut keys = Vec::new();
    for (at, (_, record)) in records.iter().enumerate() {
        block_keys(record, true, &mut keys);
        for key in &keys {
            blocks
                .entry(*key)
                .or_default()
                .push(u32::try_from(at).unwrap_or(u32::MAX));
        }
    }
    let scanned = crate::linkage_scan::scan(ledger, records, &blocks)?;
    let (random, sample, pairs) = (scanned.random, scanned.sample, scanned.pairs);
    let (people_read, compared) = (scanned.people_read, scanned.compared);
    let mut model = Model::default();
    model.estimate_u(&random);
    model.estimate_m(&sample, records.len());
    let weights = model.weights();
    let mut best = vec![Best::default(); records.len()];
    for (row, person, levels, swapped) in &pairs {
        if let Some(slot) = best.get_mut(*row as usize) {
            slot.offer(weights.weight(levels), *person, *levels, *swapped);
        }
    }
    let mut linked = Linked {
        people_read,
        pairs: compared,
        ..Linked::default()
    };
    for ((line, _), found) in records.iter().zip(&best) {
        let Some((weight, person, levels, swapped)) = found.first else {
            continue;
        };
        let probability = weights.probability(&levels);
        let ambiguous = found
            .second
            .is_some_and(|second| weight - second < AMBIGUOUS_BITS);
        let link = FuzzyLink {
            line: *line,
            person,
            probability,
            levels,
            swapped,
            ambiguous,
        };
        if probability >= lines.certain && !ambiguous && corroborated(&levels) {
            linked.certain.push(link);
        } else if probability >= lines.review {
            linked.probable.push(link);
        }
    }
    linked.model = model;
    Ok(linked)
}
