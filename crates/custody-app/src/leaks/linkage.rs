//! Fuzzy linkage: records that no identifier matched exactly (leaked rows, a request from an
//! address custody does not hold) against the people in the ledger, by names, date of birth,
//! postcode, email and phone with typos, other spellings and swapped fields.
//!
//! custody keeps no plain personal data at rest: the people's sealed contact details are
//! opened in memory, one at a time, and nothing opened is written in the clear. Blocking keeps the comparisons few: a person is compared only with the
//! records that share a blocking key with them (date of birth and an initial, postcode, the
//! Soundex codes of both names, email's local part, a phone's last digits). The people's keys
//! are kept beside the store as keyed hashes (`linkage_blocks`, built by reading everyone once
//! per identifiers generation), so a linkage opens only the people a usable block brings, and
//! 20,000 to 50,000 drawn at random (none when no block is usable). Pairs are scored by a
//! Fellegi–Sunter model (`linkage_model`) whose `u` comes from random pairs and whose `m` is
//! estimated from the candidate pairs themselves.

use custody_core::{
    Day, Levels, LinkRecord, LinkageSettings, PersonId, fold_first_word, fold_last_word, soundex_code,
};

use custody_core::PersonSet;
use custody_vault::Vault;

use crate::dir::Ledger;
use crate::error::Result;
use crate::leaks::leak_index_file::Source;
use crate::leaks::linkage_blocks::PeopleBlocks;
use crate::leaks::linkage_groups::{Spread, group_spread, on_threads};
use crate::leaks::linkage_model::{Model, corroborated};
use crate::leaks::linkage_scan::Plan;

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
    /// Where the people's blocking keys came from.
    pub blocks_source: crate::leaks::leak_index_file::Source,
    /// The model as estimated.
    pub model: Model,
}

/// Pairs one blocking key may bring at most (its records times the people who hold it): a
/// key shared by many people and several records (a date of birth in a file whose names are
/// all alike) says too little to compare them all; its records are compared through their
/// other keys. A key this crowded is rare outside such files (a date of birth with an initial
/// holds about 30 people of 10 million).
pub(crate) const PAIRS_PER_KEY: u32 = 400;

/// The file's records by blocking key (sorted keys, each with its records), with how many
/// people hold each key.
#[derive(Debug, Default)]
pub(crate) struct Blocks {
    keys: Vec<u64>,
    starts: Vec<u32>,
    rows: Vec<u32>,
    people: Vec<u32>,
}

/// Blocking keys a record is given room for: a record with every field makes 13 (four with a
/// birthday that reads both ways, six of its names, a postcode, an email, a phone number); most
/// make 11 or fewer, and a part that needs more grows.
const KEYS_PER_RECORD_ROOM: usize = 12;

impl Blocks {
    /// The records' blocking keys, grouped by key on a thread per core: each thread makes
    /// the keys of a share of the records, spread into parts by the keys' leading bits, and
    /// [`group_spread`] groups them.
    fn of(vault: &Vault, records: &[(u64, LinkRecord)]) -> Result<Blocks> {
        let workers = crate::workers();
        let chunk = records.len().div_ceil(workers).max(1);
        let shares: Vec<_> = records.chunks(chunk).enumerate().collect();
        let spread = on_threads(shares, |(share, slice)| {
            let mut spread = Spread::with_room(slice.len() * KEYS_PER_RECORD_ROOM);
            let mut keys = Vec::new();
            for (offset, (_, record)) in slice.iter().enumerate() {
                let row = u32::try_from(share * chunk + offset).unwrap_or(u32::MAX);
                block_keys(vault, record, true, &mut keys);
                for key in &keys {
                    spread.push(*key, row);
                }
            }
            spread
        })?;
        let (keys, starts, rows) = group_spread(spread, usize::MAX)?;
        // Unusable until the people's keys say how many hold it: a key the kept keys lack is
        // held by nobody or by too many.
        let people = vec![u32::MAX; keys.len()];
        Ok(Blocks {
            keys,
            starts,
            rows,
            people,
        })
    }

    /// Counts the people who hold each key, and gives the people of the usable blocks (a key
    /// whose records times people stay within `PAIRS_PER_KEY`).
    fn meet(&mut self, people: &PeopleBlocks) -> PersonSet {
        let sorted: Vec<(u64, u32)> = self
            .keys
            .iter()
            .enumerate()
            .map(|(at, key)| (*key, u32::try_from(at).unwrap_or(u32::MAX)))
            .collect();
        let mut candidates = PersonSet::new();
        people.each_shared(&sorted, |at, holders| {
            if let Some(count) = self.people.get_mut(at as usize) {
                *count = u32::try_from(holders.len()).unwrap_or(u32::MAX);
            }
            if !self.usable(at as usize).is_empty() {
                candidates.extend(holders.iter().copied());
            }
        });
        candidates
    }

    /// The records of block `at` if it is usable: none when it holds too many records, or too
    /// many people for its records.
    fn usable(&self, at: usize) -> &[u32] {
        let (Some(start), Some(end), Some(people)) =
            (self.starts.get(at), self.starts.get(at + 1), self.people.get(at))
        else {
            return &[];
        };
        let rows = self.rows.get(*start as usize..*end as usize).unwrap_or(&[]);
        let length = u32::try_from(rows.len()).unwrap_or(u32::MAX);
        if rows.len() > BLOCK_MAX || people.saturating_mul(length) > PAIRS_PER_KEY {
            return &[];
        }
        rows
    }

    /// The records a person with this key is to be compared with (see [`Blocks::usable`]).
    pub(crate) fn rows_for(&self, key: u64) -> &[u32] {
        self.keys.binary_search(&key).map_or(&[], |at| self.usable(at))
    }
}

/// A day as four bytes.
fn day_bytes(day: Day) -> [u8; 4] {
    let date = day.date();
    let [high, low] = date.year().to_be_bytes();
    [high, low, date.month().unsigned_abs(), date.day().unsigned_abs()]
}

/// The blocking keys of a record, keyed (`Vault::blocking_hash`); `query` adds the readings a
/// record of the file may need (day and month swapped, names the other way round). A change to
/// what is keyed here needs `linkage_blocks::LAYOUT` bumped, so kept keys are rebuilt.
pub(crate) fn block_keys(vault: &Vault, record: &LinkRecord, query: bool, out: &mut Vec<u64>) {
    let key = |tag: u8, parts: &[&[u8]]| vault.blocking_hash(tag, parts);
    out.clear();
    let first = record.first.as_bytes().get(..1).unwrap_or(&[]);
    let last = record.last.as_bytes().get(..1).unwrap_or(&[]);
    if let Some(born) = record.born {
        let day = day_bytes(born);
        out.push(key(b'b', &[&day, last]));
        out.push(key(b'b', &[&day, first]));
        if query && let Some(swapped) = swapped_day(born) {
            let day = day_bytes(swapped);
            out.push(key(b'b', &[&day, last]));
            out.push(key(b'b', &[&day, first]));
        }
    }
    if let Some(postcode) = &record.postcode {
        out.push(key(b'p', &[postcode.as_bytes()]));
    }
    if !record.first.is_empty() && !record.last.is_empty() {
        let (a, b) = (soundex_code(&record.first), soundex_code(&record.last));
        let (first_two, last_two) = (first_two_bytes(&record.first), first_two_bytes(&record.last));
        out.push(key(b's', &[&a, &b]));
        // One name mistyped: the other's sound with the first letters of the mistyped one.
        out.push(key(b'f', &[&a, last_two]));
        out.push(key(b'l', &[&b, first_two]));
        if query {
            out.push(key(b's', &[&b, &a]));
            out.push(key(b'f', &[&b, first_two]));
            out.push(key(b'l', &[&a, last_two]));
        }
    }
    if let Some((local, _)) = record.email.as_deref().and_then(|email| email.rsplit_once('@')) {
        out.push(key(b'e', &[local.as_bytes()]));
    }
    if let Some(phone) = &record.phone {
        let tail = phone.get(phone.len().saturating_sub(8)..).unwrap_or(phone);
        out.push(key(b't', &[tail.as_bytes()]));
    }
    out.sort_unstable();
    out.dedup();
}

/// A word's first two bytes (the whole word when shorter).
fn first_two_bytes(word: &str) -> &[u8] {
    word.as_bytes().get(..2).unwrap_or(word.as_bytes())
}

fn swapped_day(day: Day) -> Option<Day> {
    let date = day.date();
    jiff::civil::Date::new(date.year(), date.day(), date.month())
        .ok()
        .filter(|swapped| *swapped != date)
        .map(Day::from_date)
}

/// What a person's opened contact details give linkage; `Err` when they are not readable.
pub(crate) fn person_record(opened: &[u8]) -> std::result::Result<Option<LinkRecord>, String> {
    let contact = crate::ledger::contact_codec::link_fields(opened)?;
    let (Some(first), Some(last)) = (contact.first_name, contact.last_name) else {
        return Ok(None);
    };
    let (Some(first), Some(last)) = (fold_first_word(&first), fold_last_word(&last)) else {
        return Ok(None);
    };
    Ok(Some(LinkRecord {
        first,
        last,
        born: contact.born.and_then(|text| custody_core::parse_day(&text).ok()),
        postcode: contact.postcode.map(std::borrow::Cow::into_owned),
        email: contact.email.map(std::borrow::Cow::into_owned),
        phone: contact.phone.map(std::borrow::Cow::into_owned),
    }))
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

/// The people's blocking keys: kept ones when they answer to the store's identifiers
/// generation, else read from everyone and kept (unless `[linkage] keep_blocks = false`, which
/// also removes a file kept before); with the people opened for them and where they came from.
/// The caller holds a read snapshot, so the token and the people are of one moment.
fn people_blocks(ledger: &Ledger) -> Result<(PeopleBlocks, u64, Source)> {
    if !ledger.settings.linkage.keep_blocks {
        crate::leaks::linkage_blocks::forget(ledger);
        let (blocks, opened) = crate::leaks::linkage_scan::people_blocks(ledger)?;
        return Ok((blocks, opened, Source::Store));
    }
    let token = ledger.store.identifiers_generation()?;
    if let Some(token) = &token
        && let Some(kept) = crate::leaks::linkage_blocks::read_kept(ledger, token)
    {
        return Ok((kept, 0, Source::File));
    }
    let (blocks, opened) = crate::leaks::linkage_scan::people_blocks(ledger)?;
    if let Some(token) = &token {
        crate::leaks::linkage_blocks::keep(ledger, token, &blocks);
    }
    Ok((blocks, opened, Source::Store))
}

/// Links `records` (line, record) to the ledger's people; see the module documentation.
pub(crate) fn link(ledger: &Ledger, records: &[(u64, LinkRecord)], lines: LinkageSettings) -> Result<Linked> {
    if records.is_empty() {
        return Ok(Linked::default());
    }
    let mut blocks = Blocks::of(&ledger.vault, records)?;
    // One snapshot for the token, the keys and the people compared: an import meanwhile changes
    // none of them.
    let snapshot = ledger.store.read_snapshot()?;
    let (people, opened_for_keys, source) = people_blocks(ledger)?;
    let candidates = blocks.meet(&people);
    if candidates.is_empty() {
        // No usable block: no row could be compared with anyone, so nobody is opened, not even
        // the people drawn to estimate `u` for a model that would link nothing.
        return Ok(Linked {
            people_read: opened_for_keys,
            blocks_source: source,
            ..Linked::default()
        });
    }
    let plan = Plan::new(candidates, people.linkable(), records.len());
    drop(people);
    let scanned = crate::leaks::linkage_scan::compare_planned(ledger, records, &blocks, &plan)?;
    drop(snapshot);
    let (random, sample, pairs) = (scanned.random, scanned.sample, scanned.pairs);
    let (people_read, compared) = (scanned.people_read + opened_for_keys, scanned.compared);
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
        blocks_source: source,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_records_blocks_are_every_key_with_its_records_in_key_order() {
        let vault = Vault::from_master(&[5; 32]);
        let names = ["ann", "bob", "cat", "dee", "eve"];
        let record = |line: u64| LinkRecord {
            first: names[(line % 5) as usize].into(),
            last: format!("lee{}", line % 37),
            born: Some(Day::from_date(jiff::civil::date(
                1950 + (line % 40) as i16,
                1 + (line % 12) as i8,
                1 + (line % 28) as i8,
            ))),
            postcode: line.is_multiple_of(3).then(|| format!("LS{}", line % 50)),
            email: Some(format!("p{line}@example.org")),
            phone: line
                .is_multiple_of(4)
                .then(|| format!("+4477009{:05}", line % 900)),
        };
        for count in [1, 2, 3, 3_001] {
            let records: Vec<(u64, LinkRecord)> = (0..count).map(|line| (line, record(line))).collect();
            let blocks = Blocks::of(&vault, &records).unwrap();
            let (mut pairs, mut keys) = (Vec::new(), Vec::new());
            for (row, (_, record)) in records.iter().enumerate() {
                block_keys(&vault, record, true, &mut keys);
                pairs.extend(keys.iter().map(|key| u128::from(*key) << 32 | row as u128));
            }
            let (keys, starts, rows) = crate::leaks::linkage_groups::group(pairs, usize::MAX);
            assert!(keys.len() >= 8 * count as usize / 5, "{count} records");
            assert_eq!(blocks.keys, keys, "{count} records");
            assert_eq!(blocks.starts, starts);
            assert_eq!(blocks.rows, rows);
            assert_eq!(blocks.people, vec![u32::MAX; keys.len()]);
        }
    }
}
