//! How custody lays out the values it keeps, whichever database keeps them: packed identifier
//! hashes, person sets cut into chunks, the standing feeds' date lists and the outbox's people.
//! Backends store these bytes as they are; only the reading and writing is theirs.

use std::collections::BTreeMap;

use custody_core::{Day, IdentifierKind, PersonCategory, PersonId, PersonSet, PersonStatus};

use crate::error::{Error, Result};
use crate::types::{AuditDraft, AuditEntry, NewPerson};

/// Bytes of one packed identifier: the kind tag and the 16-byte hash.
pub(crate) const PACKED_BYTES: usize = 17;

/// The hashes of a packed identifier list.
pub(crate) fn unpack_identifiers(packed: &[u8]) -> impl Iterator<Item = &[u8]> {
    packed
        .chunks_exact(PACKED_BYTES)
        .filter_map(|chunk| chunk.get(1..))
}

/// The identifiers of a packed list whose kinds are among `tags`.
pub(crate) fn identifiers_of_kinds<'a>(
    packed: &'a [u8],
    tags: &'a [u8],
) -> impl Iterator<Item = (IdentifierKind, &'a [u8])> + 'a {
    packed.chunks_exact(PACKED_BYTES).filter_map(move |chunk| {
        let (tag, hash) = (chunk.first()?, chunk.get(1..)?);
        if !tags.contains(tag) {
            return None;
        }
        Some((IdentifierKind::from_tag(*tag)?, hash))
    })
}

/// The kinds in a packed list, without repeats next to each other.
pub(crate) fn identifier_kinds(packed: &[u8]) -> Vec<IdentifierKind> {
    let mut kinds: Vec<IdentifierKind> = packed
        .chunks(PACKED_BYTES)
        .filter_map(|chunk| chunk.first().copied().and_then(IdentifierKind::from_tag))
        .collect();
    kinds.dedup();
    kinds
}

/// The identifiers to keep on an update: the new ones, and the old ones of kinds this source
/// cannot make.
pub(crate) fn merged_identifiers(old: &[u8], person: &NewPerson) -> Vec<u8> {
    let mut packed = person.packed_identifiers();
    for entry in old.chunks_exact(PACKED_BYTES) {
        let kind = entry.first().copied().and_then(IdentifierKind::from_tag);
        if kind.is_some_and(|kind| !person.fields.provides(kind)) {
            packed.extend_from_slice(entry);
        }
    }
    packed
}

/// A known person's row as the store has it, read before an import updates it.
pub(crate) struct KnownPerson {
    pub id: PersonId,
    pub category: String,
    pub identifiers: Vec<u8>,
    pub contact_digest: Option<Vec<u8>>,
    pub status: String,
    pub joined_on: Option<String>,
    pub left_on: Option<String>,
    pub country: Option<String>,
    pub source_digest: Option<Vec<u8>>,
    pub region: Option<String>,
}

/// The columns of a known person, in `KnownPerson`'s order, for a `SELECT … FROM people`.
pub(crate) const KNOWN_PERSON_COLUMNS: &str =
    "id, category, identifiers, contact_digest, status, joined_on, left_on, country, source_digest, region";

/// What an import writes over a known person: the fields its file had columns for replace the
/// stored ones, the rest are kept; contacts and identifiers are rewritten only when they changed.
pub(crate) struct MergedPerson {
    pub status: String,
    pub joined_on: Option<String>,
    pub left_on: Option<String>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub identifiers: Vec<u8>,
    pub contact_changed: bool,
    pub identifiers_changed: bool,
    /// The row would be written as it is held (its source digest aside).
    pub changes_nothing: bool,
    /// The source digest held differs from the row's.
    pub source_digest_changed: bool,
}

impl KnownPerson {
    /// The row after `person` is imported over it.
    pub(crate) fn merged(&self, person: &NewPerson) -> MergedPerson {
        let fields = person.fields;
        let keep = |present: bool, new: Option<String>, old: &Option<String>| {
            if present { new } else { old.clone() }
        };
        let identifiers = merged_identifiers(&self.identifiers, person);
        let status = if fields.status {
            person.status.as_str().to_owned()
        } else {
            self.status.clone()
        };
        let joined_on = keep(
            fields.joined_on,
            person.joined_on.map(custody_core::Day::to_iso),
            &self.joined_on,
        );
        let left_on = keep(
            fields.left_on,
            person.left_on.map(custody_core::Day::to_iso),
            &self.left_on,
        );
        let country = keep(fields.country, person.country.clone(), &self.country);
        // A region read is taken; none read (no state column, or a value custody cannot place)
        // keeps the one held while the country stays the same.
        let region = person.region.clone().or_else(|| {
            if country == self.country {
                self.region.clone()
            } else {
                None
            }
        });
        let contact_changed =
            self.contact_digest.as_deref() != person.contact_digest.as_ref().map(|digest| digest.as_slice());
        let identifiers_changed = self.identifiers != identifiers;
        let changes_nothing = !contact_changed
            && !identifiers_changed
            && self.category == person.category.as_str()
            && self.status == status
            && self.joined_on == joined_on
            && self.left_on == left_on
            && self.country == country
            && self.region == region;
        MergedPerson {
            status,
            joined_on,
            left_on,
            country,
            region,
            identifiers,
            contact_changed,
            identifiers_changed,
            changes_nothing,
            source_digest_changed: self.source_digest.as_deref()
                != person.source_digest.as_ref().map(|digest| digest.as_slice()),
        }
    }
}

/// A stored row id as a person id.
pub(crate) fn person_id(rowid: i64) -> Result<PersonId> {
    PersonId::try_from(rowid).map_err(|_| Error::Corrupt("person ids have run past 2^32".to_owned()))
}

/// A person set as stored: Roaring's portable serialisation.
pub(crate) fn set_bytes(set: &PersonSet) -> Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(set.serialized_size());
    set.serialize_into(&mut bytes)
        .map_err(|error| Error::Corrupt(format!("a person set: {error}")))?;
    Ok(bytes)
}

/// A stored person set.
pub(crate) fn read_set(bytes: &[u8]) -> Result<PersonSet> {
    PersonSet::deserialize_from(bytes).map_err(|error| Error::Corrupt(format!("a person set: {error}")))
}

/// Person ids per share chunk: the high 16 bits.
pub(crate) const CHUNK_BITS: u32 = 16;

/// A share's set cut into chunks of 65,536 ids, each serialised: (chunk, bytes).
pub(crate) fn share_chunks(set: &PersonSet) -> Result<Vec<(u32, Vec<u8>)>> {
    let (Some(min), Some(max)) = (set.min(), set.max()) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for chunk in (min >> CHUNK_BITS)..=(max >> CHUNK_BITS) {
        let low = chunk << CHUNK_BITS;
        let mut mask = PersonSet::new();
        mask.insert_range(low..=low | 0xFFFF);
        let part = set & &mask;
        if !part.is_empty() {
            out.push((chunk, set_bytes(&part)?));
        }
    }
    Ok(out)
}

/// The outbox's people of one message: ids, 4 bytes each, little-endian.
pub(crate) fn pack_people(people: &[PersonId]) -> Vec<u8> {
    people.iter().flat_map(|id| id.to_le_bytes()).collect()
}

/// The people of one outbox message.
pub(crate) fn unpack_people(bytes: &[u8]) -> Vec<PersonId> {
    bytes
        .chunks_exact(4)
        .filter_map(|chunk| <[u8; 4]>::try_from(chunk).ok().map(u32::from_le_bytes))
        .collect()
}

/// Bytes of one entry of a date list: the day then the id, little-endian u32 each.
pub(crate) const ENTRY_BYTES: usize = 8;

/// `2021-10-29` → 20211029, an order-preserving number; `None` when the text is not a date.
pub(crate) fn day_number(text: &str) -> Option<u32> {
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
    set_bytes(&set)
}

/// One category's feed columns, ready to store.
pub(crate) struct FeedColumns {
    pub(crate) category: &'static str,
    pub(crate) ids: Vec<u8>,
    pub(crate) by_join: Vec<u8>,
    pub(crate) by_leave: Vec<u8>,
    pub(crate) former: Vec<u8>,
}

/// Collects people in ascending id order, then makes every category's columns.
#[derive(Default)]
pub(crate) struct FeedBuilder {
    by_category: BTreeMap<&'static str, Columns>,
    /// The people of each place (region, else country), ids ascending.
    places: BTreeMap<String, Vec<u32>>,
}

impl FeedBuilder {
    /// Adds one person as stored (days as ISO text); ids must come in ascending order.
    pub(crate) fn push(
        &mut self,
        id: u32,
        category: PersonCategory,
        former: bool,
        (joined, left): (Option<&str>, Option<&str>),
        place: Option<&str>,
    ) {
        let days = (joined.and_then(day_number), left.and_then(day_number));
        self.add(id, category, former, days, place);
    }

    /// Adds a person being imported, as [`FeedBuilder::push`] would with their stored row.
    pub(crate) fn push_person(&mut self, id: u32, person: &NewPerson) {
        let days = (
            person.joined_on.and_then(Day::number),
            person.left_on.and_then(Day::number),
        );
        let place = person.region.as_deref().or(person.country.as_deref());
        let former = person.status == PersonStatus::Former;
        self.add(id, person.category, former, days, place);
    }

    /// Adds one person, days as yyyymmdd. An unknown join date counts as joined long ago, an
    /// unknown leaving date as never left.
    fn add(
        &mut self,
        id: u32,
        category: PersonCategory,
        former: bool,
        (joined, left): (Option<u32>, Option<u32>),
        place: Option<&str>,
    ) {
        if let Some(place) = place {
            match self.places.get_mut(place) {
                Some(ids) => ids.push(id),
                None => {
                    self.places.insert(place.to_owned(), vec![id]);
                }
            }
        }
        let columns = self.by_category.entry(category.as_str()).or_default();
        columns.ids.push(id);
        if former {
            columns.former.push(id);
        }
        if let Some(day) = joined {
            columns.joins.push((day, id));
        }
        if let Some(day) = left {
            columns.leaves.push((day, id));
        }
    }

    /// Every place's people, serialised, sorted by place.
    pub(crate) fn places(&self) -> Result<Vec<(String, Vec<u8>)>> {
        self.places
            .iter()
            .map(|(place, ids)| Ok((place.clone(), serialise(ids)?)))
            .collect()
    }

    /// Every category's columns.
    pub(crate) fn finish(self) -> Result<Vec<FeedColumns>> {
        self.by_category
            .into_iter()
            .map(|(category, columns)| {
                Ok(FeedColumns {
                    category,
                    ids: serialise(&columns.ids)?,
                    former: serialise(&columns.former)?,
                    by_join: entries(columns.joins),
                    by_leave: entries(columns.leaves),
                })
            })
            .collect()
    }
}

/// Reads a stored list in pieces: fills `buffer` from byte `offset`.
pub(crate) trait ReadAt {
    fn read_at(&mut self, offset: usize, buffer: &mut [u8]) -> Result<()>;
}

impl<F: FnMut(usize, &mut [u8]) -> Result<()>> ReadAt for F {
    fn read_at(&mut self, offset: usize, buffer: &mut [u8]) -> Result<()> {
        self(offset, buffer)
    }
}

/// A sorted date list read in pieces.
pub(crate) struct DateList<R> {
    read: R,
    pub(crate) entries: usize,
}

impl<R: ReadAt> DateList<R> {
    /// A list of `bytes` bytes.
    pub(crate) fn new(bytes: usize, read: R) -> Self {
        DateList {
            read,
            entries: bytes / ENTRY_BYTES,
        }
    }

    fn day(&mut self, index: usize) -> Result<u32> {
        let mut bytes = [0u8; 4];
        self.read.read_at(index * ENTRY_BYTES, &mut bytes)?;
        Ok(u32::from_le_bytes(bytes))
    }

    /// The first index whose day is at least `day` (the list's length when none is).
    pub(crate) fn first_at_least(&mut self, day: u32) -> Result<usize> {
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
    pub(crate) fn ids(&mut self, from: usize, to: usize) -> Result<PersonSet> {
        let mut bytes = vec![0u8; to.saturating_sub(from) * ENTRY_BYTES];
        if !bytes.is_empty() {
            self.read.read_at(from * ENTRY_BYTES, &mut bytes)?;
        }
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

/// Adds to `counts` how many of `people` in one leaving list left in each period cut by `cuts`.
pub(crate) fn count_leavers(by_leave: &[u8], people: &PersonSet, cuts: &[u32], counts: &mut [u64]) {
    for entry in by_leave.chunks_exact(ENTRY_BYTES) {
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

/// The next audit entry after `previous` (the chain's newest: position and hash), chained by the
/// signer; each backend writes its fields and returns [`NextEntry::entry`].
pub(crate) struct NextEntry {
    pub(crate) seq: i64,
    pub(crate) at: i64,
    pub(crate) details: String,
    pub(crate) prev: Vec<u8>,
    pub(crate) hash: [u8; 32],
    pub(crate) draft: AuditDraft,
}

impl NextEntry {
    pub(crate) fn after(
        previous: Option<(i64, Vec<u8>)>,
        draft: AuditDraft,
        signer: &dyn crate::AuditSigner,
    ) -> Self {
        let (seq, prev) = match previous {
            Some((seq, hash)) => (seq + 1, hash),
            None => (1, Vec::new()),
        };
        let details = draft.details.to_string();
        let at = draft.at.unix_seconds();
        let bytes =
            AuditEntry::canonical_bytes(seq, at, &draft.actor, &draft.action, &draft.subject, &details);
        let hash = signer.chain_hash(&prev, &bytes);
        NextEntry {
            seq,
            at,
            details,
            prev,
            hash,
            draft,
        }
    }

    pub(crate) fn entry(self) -> AuditEntry {
        AuditEntry {
            seq: self.seq,
            at: self.at,
            actor: self.draft.actor,
            action: self.draft.action,
            subject: self.draft.subject,
            details: self.details,
            prev: hex(&self.prev),
            hash: hex(&self.hash),
        }
    }
}

/// Bytes as lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// What queueing a notice for some people does, given the messages already queued to their
/// address: nothing (they are all covered), grow a message the server never accepted (queued or
/// failed; not one on the wire, delivered, or to retry, since a timeout after DATA may hide an
/// acceptance of that Message-ID), or add a message of their own.
pub(crate) enum Queueing {
    Unchanged,
    Extend { id: i64, people: Vec<PersonId> },
    Add(Vec<PersonId>),
}

/// Decides [`Queueing`] from the address's messages (id, people, state) and the people wanted.
pub(crate) fn queueing(existing: &[(i64, Vec<PersonId>, String)], wanted: &[PersonId]) -> Queueing {
    let covered: std::collections::BTreeSet<PersonId> = existing
        .iter()
        .flat_map(|(_, people, _)| people.iter().copied())
        .collect();
    let new: Vec<PersonId> = wanted
        .iter()
        .copied()
        .filter(|id| !covered.contains(id))
        .collect();
    if new.is_empty() {
        return Queueing::Unchanged;
    }
    match existing
        .iter()
        .find(|(_, _, state)| matches!(state.as_str(), "queued" | "failed"))
    {
        Some((id, people, _)) => {
            let mut all = people.clone();
            all.extend(new);
            Queueing::Extend { id: *id, people: all }
        }
        None => Queueing::Add(new),
    }
}

/// Suppliers' ids as the tables keep them.
pub(crate) fn raw_ids(ids: Option<&[custody_core::SupplierId]>) -> Option<Vec<i64>> {
    ids.map(|ids| ids.iter().map(|id| id.get()).collect())
}
