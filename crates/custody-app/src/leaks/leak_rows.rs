//! One leaked record against the ledger: its identifiers (`leak_fields`) hashed with the
//! ledger's key and looked up in the identifier index. This exact stage needs only keyed hashes
//! of what custody holds; a row it does not match, with a name and something else, is kept
//! (folded, in memory) for fuzzy linkage (`linkage`), which opens the sealed details. What
//! linkage compares of a row is copied as it is read, and made a record only for the rows
//! nothing matched: a row is read once.

use custody_core::{DateOrder, IdentifierKind, LinkRecord, PersonId, PersonSet, canonical_email_into};
use custody_ingest::leak::{Batch, Record};
use custody_vault::Vault;

use crate::leaks::leak_fields::{LinkParts, Scratch};
use crate::leaks::leak_index::IdentifierIndex;

/// Rows one worker keeps for fuzzy linkage at most (about 100 bytes each): memory stays
/// bounded however large the file; rows beyond are counted, not tried.
const RESIDUE_MAX: usize = 2_000_000;

/// A set of person ids as plain bits: setting one is a single write, where a Roaring bitmap
/// searches its containers. Its size is bounded by the ledger's largest id, not by the file.
#[derive(Debug, Default, Clone)]
pub(crate) struct Bits(Vec<u64>);

/// Words a set takes as bytes at most: `RoaringBitmap::from_lsb0_bytes` counts their bits in a
/// `u32`.
const BYTES_WORDS_MAX: usize = (u32::MAX / 64) as usize;

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
        self.to_set_in_bytes_up_to(BYTES_WORDS_MAX)
    }

    /// [`Bits::to_set`], taking at most `most` words as bytes. Bit `b` of word `w` is person
    /// `64 w + b`: the words' bytes, least significant first, are the set's bits in order,
    /// which the set takes a container at a time. Words past those (ids near 2^32) are added a
    /// bit at a time.
    fn to_set_in_bytes_up_to(&self, most: usize) -> PersonSet {
        let (whole, rest) = self.0.split_at(self.0.len().min(most));
        let bytes: Vec<u8> = whole.iter().flat_map(|word| word.to_le_bytes()).collect();
        let mut set = PersonSet::from_lsb0_bytes(0, &bytes);
        for (word, bits) in (whole.len()..).zip(rest) {
            let mut bits = *bits;
            while bits != 0 {
                set.insert((word * 64) as u32 + bits.trailing_zeros());
                bits &= bits - 1;
            }
        }
        set
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
    /// Other workers' such rows, a list each, as merged tallies brought them: joined in line
    /// order by [`Tally::take_residue`].
    residue_parts: Vec<Vec<(u64, LinkRecord)>>,
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
    pub(crate) fn merge(&mut self, mut other: Tally) {
        // The rows kept for linkage are kept a worker's list each, to be joined once, in line
        // order, by `take_residue`. Links come in no particular order: the shorter list is
        // added to the longer, so that the longer is copied only if it must grow.
        self.residue_parts.push(std::mem::take(&mut other.residue));
        self.residue_parts.append(&mut other.residue_parts);
        if self.links.len() < other.links.len() {
            std::mem::swap(&mut self.links, &mut other.links);
        }
        self.rows += other.rows;
        self.rows_with_identifiers += other.rows_with_identifiers;
        self.rows_matched += other.rows_matched;
        for (mine, theirs) in self.by_kind.iter_mut().zip(&other.by_kind) {
            mine.union(theirs);
        }
        unite(&mut self.columns_seen, &other.columns_seen);
        unite(&mut self.columns_with_values, &other.columns_with_values);
        self.residue_not_kept += other.residue_not_kept;
        self.links.extend(other.links);
    }

    /// Every row kept for linkage, in the file's order, whichever worker read it: linkage
    /// draws records by their place in the list (for `u`), so the same file gives the same
    /// links every time. Each worker's list is in line order already (it reads its batches in
    /// the file's order), so the lists are merged a run at a time (a batch's rows are together
    /// in one list), each row moved once; a list that is not in order is sorted first. Rows of
    /// one line (a line of JSON can hold several records) keep their order.
    pub(crate) fn take_residue(&mut self) -> Vec<(u64, LinkRecord)> {
        let mut parts = std::mem::take(&mut self.residue_parts);
        parts.push(std::mem::take(&mut self.residue));
        parts.retain(|part| !part.is_empty());
        for part in &mut parts {
            if !part.is_sorted_by_key(|(line, _)| *line) {
                part.sort_by_key(|(line, _)| *line);
            }
        }
        if parts.len() <= 1 {
            return parts.pop().unwrap_or_default();
        }
        let mut merged = Vec::with_capacity(parts.iter().map(Vec::len).sum());
        let mut parts: Vec<_> = parts.into_iter().map(Vec::into_iter).collect();
        // The part whose next row comes first (the lower part on a tie of lines, which only
        // rows of one part can have).
        let mut next: std::collections::BinaryHeap<std::cmp::Reverse<(u64, usize)>> = parts
            .iter()
            .enumerate()
            .filter_map(|(at, part)| Some(std::cmp::Reverse((part.as_slice().first()?.0, at))))
            .collect();
        while let Some(std::cmp::Reverse((_, at))) = next.pop() {
            let Some(part) = parts.get_mut(at) else {
                continue;
            };
            // Its rows up to the next part's next row, moved as one run (a batch's rows are
            // together in one part), the row just popped at least.
            let bound = next.peek().map(|std::cmp::Reverse(first)| *first);
            let run = part
                .as_slice()
                .partition_point(|(line, _)| bound.is_none_or(|bound| (*line, at) < bound));
            merged.extend(part.by_ref().take(run.max(1)));
            if let Some((line, _)) = part.as_slice().first() {
                next.push(std::cmp::Reverse((*line, at)));
            }
        }
        merged
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

/// What a worker keeps of a row until its identifiers are looked up.
#[derive(Debug)]
pub(crate) struct RowInfo {
    record: u32,
    line: u64,
    /// What linkage compares, in `Hashes::arena`, when it may try the row if nothing matches
    /// (a name and something else).
    link: Option<LinkParts>,
}

/// The hashes of a batch's identifiers, (record in the batch, kind slot, hash), and what is
/// kept of its rows for linkage and the linkage file.
#[derive(Debug, Default)]
pub(crate) struct Hashes {
    pub hashes: Vec<(u32, u8, [u8; 16])>,
    rows: Vec<RowInfo>,
    /// The text of the rows' parts for linkage.
    arena: String,
    /// Rows (in `rows`) that nothing matched, from the last lookup.
    unmatched: Vec<usize>,
}

impl Hashes {
    fn clear(&mut self) {
        self.hashes.clear();
        self.rows.clear();
        self.arena.clear();
        self.unmatched.clear();
    }

    /// Memory held, for the workers' budget while the index loads, in hashes (24 bytes).
    pub(crate) fn capacity(&self) -> usize {
        // A row kept is its record, line and where its parts are: about six hashes' worth.
        self.hashes.capacity() + self.rows.capacity() * 6 + self.arena.capacity() / 24
    }
}

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
    hashes: &mut Hashes,
    hits: &mut Hits,
    tally: &mut Tally,
) {
    hits.clear();
    hashes.unmatched.clear();
    index.lookup_each(
        &hashes.hashes,
        |(_, _, hash)| hash,
        &mut |(record, slot, _), person| {
            hits.push((*record, *slot, person));
        },
    );
    let mut rows = hashes.rows.iter().enumerate().peekable();
    for row in hits.chunk_by(|a, b| a.0 == b.0) {
        let record = row.first().map_or(0, |hit| hit.0);
        // Rows before this one matched nothing: linkage may still find them.
        while let Some((at, _)) = rows.next_if(|(_, info)| info.record < record) {
            hashes.unmatched.push(at);
        }
        let line = rows
            .next_if(|(_, info)| info.record == record)
            .map(|(_, info)| info.line);
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
    hashes.unmatched.extend(rows.map(|(at, _)| at));
}

impl RowMatcher<'_> {
    /// Reads a batch's records into `tally`, their identifiers' hashes and what linkage would
    /// compare of them into `hashes` (the batch may be gone when they are looked up).
    pub(crate) fn hash_batch(
        &self,
        batch: &Batch,
        (tally, scratch): (&mut Tally, &mut Scratch),
        hashes: &mut Hashes,
    ) {
        hashes.clear();
        for (number, record) in batch.records().enumerate() {
            self.record(
                u32::try_from(number).unwrap_or(u32::MAX),
                &record,
                (tally, scratch),
                hashes,
            );
        }
    }

    /// Keeps for linkage the rows of the last lookup that nothing matched.
    pub(crate) fn keep_unmatched(&self, hashes: &Hashes, tally: &mut Tally) {
        for info in hashes.unmatched.iter().filter_map(|at| hashes.rows.get(*at)) {
            // A row whose names do not fold (`15`, `Smith`) is none linkage could try.
            let Some(link) = info.link.and_then(|parts| parts.record(&hashes.arena)) else {
                continue;
            };
            if tally.residue.len() >= RESIDUE_MAX {
                tally.residue_not_kept += 1;
            } else {
                tally.residue.push((info.line, link));
            }
        }
    }

    /// Finds one record's identifiers and queues their hashes.
    fn record(
        &self,
        number: u32,
        record: &Record<'_>,
        (tally, scratch): (&mut Tally, &mut Scratch),
        hashes: &mut Hashes,
    ) {
        for (column, _) in record.columns() {
            mark(&mut tally.columns_with_values, column);
        }
        let found = scratch.read(record, self.region, self.date_order);
        tally.rows += 1;
        let any = scratch.has_identifiers();
        let linkable = any && found.named();
        if linkable || (self.keep_links && any) {
            let link = if linkable {
                scratch.link_parts(&found, &mut hashes.arena)
            } else {
                None
            };
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
        let Scratch {
            emails,
            phones,
            postcodes,
            days,
            names,
            key,
        } = scratch;
        for email in emails.iter() {
            self.hash(number, IdentifierKind::EmailStrict, email, hashes);
            canonical_email_into(email, key);
            self.hash(number, IdentifierKind::EmailCanonical, key, hashes);
        }
        for phone in phones.iter() {
            self.hash(number, IdentifierKind::Phone, phone, hashes);
        }
        for name in names.iter() {
            for (kind, values) in [
                (IdentifierKind::NamePostcode, &*postcodes),
                (IdentifierKind::NameDateOfBirth, &*days),
            ] {
                for value in values.iter() {
                    key.clear();
                    key.push_str(name);
                    key.push('|');
                    key.push_str(value);
                    self.hash(number, kind, key, hashes);
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

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]

    use super::*;

    /// A small leaked file read into one batch.
    fn batch_of(text: &str) -> (tempfile::TempDir, Batch) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dump.csv");
        std::fs::write(&path, text).unwrap();
        let mut reader = custody_ingest::leak::LeakReader::open(
            &path,
            custody_ingest::leak::LeakOptions::default(),
            std::sync::Arc::default(),
        )
        .unwrap();
        let mut batch = Batch::default();
        assert!(reader.next_batch(&mut batch));
        (dir, batch)
    }

    #[test]
    fn rows_nothing_matched_are_kept_for_linkage_with_what_it_compares() {
        let vault = Vault::from_master(&[3; 32]);
        let held = vault.identifier_hash(IdentifierKind::EmailStrict.tag(), "ann@example.org");
        let index = IdentifierIndex::of_pairs([(held, 7)]);
        let matcher = RowMatcher {
            vault: &vault,
            region: "GB",
            date_order: None,
            keep_links: false,
        };
        let residue = |text: &str| {
            let (_dir, batch) = batch_of(text);
            let (mut tally, mut scratch, mut hashes, mut hits) = (
                Tally::default(),
                Scratch::default(),
                Hashes::default(),
                Hits::new(),
            );
            matcher.hash_batch(&batch, (&mut tally, &mut scratch), &mut hashes);
            // The batch is gone before the lookup, as while the index loads.
            drop(batch);
            look_up(&index, &PersonSet::new(), &mut hashes, &mut hits, &mut tally);
            matcher.keep_unmatched(&hashes, &mut tally);
            (
                tally.rows,
                tally.rows_matched,
                tally.matched().len(),
                tally.residue,
            )
        };
        let (rows, matched, people, kept) = residue(
            "first_name,last_name,email,postcode,date_of_birth,phone\n\
             Ann,Lee,Ann@Example.org,LS1 4AB,1980-02-03,\n\
             Bob,Stone,bob@example.net,LS2 7AB,1975-06-07,07700 900123\n\
             Cat,,cat@example.net,,,\n\
             Dee,Moss,,M1 1AA,,\n\
             15,Smith,x@nowhere.org,,,\n",
        );
        assert_eq!((rows, matched, people), (5, 1, 1), "Ann is found by her address");
        // Bob has a name and more; Cat no family name; Dee a name and a postcode; `15` is no
        // given name linkage can compare.
        let bob = LinkRecord {
            first: "bob".into(),
            last: "stone".into(),
            born: Some(custody_core::parse_day("1975-06-07").unwrap()),
            postcode: Some("LS27AB".into()),
            email: Some("bob@example.net".into()),
            phone: Some("+447700900123".into()),
        };
        let dee = LinkRecord {
            first: "dee".into(),
            last: "moss".into(),
            born: None,
            postcode: Some("M11AA".into()),
            email: None,
            phone: None,
        };
        assert_eq!(kept, [(3, bob.clone()), (5, dee)]);
        // A full name, family name first: folded as the ledger folds a given and a family name.
        let (_, _, _, kept) = residue(
            "name,email,date_of_birth\n\
             \"Stone-Hall, Bob James\",bob@example.net,1975-06-07\n",
        );
        let first = custody_core::fold_first_word(" Bob James").unwrap();
        let last = custody_core::fold_last_word("Stone-Hall").unwrap();
        let bob = LinkRecord {
            first,
            last,
            postcode: None,
            phone: None,
            ..bob
        };
        assert_eq!(kept, [(2, bob)]);
    }

    #[test]
    fn rows_kept_by_several_workers_come_back_in_line_order() {
        let record = |name: &str| LinkRecord {
            first: name.to_owned(),
            last: "lee".to_owned(),
            born: None,
            postcode: None,
            email: None,
            phone: None,
        };
        let mut rng = fastrand::Rng::with_seed(5);
        for workers in [1usize, 2, 3, 8] {
            // Lines dealt to workers in runs (as batches are), some lines giving several
            // records (a line of JSON); one worker's list put out of order.
            let mut lists: Vec<Vec<(u64, LinkRecord)>> = vec![Vec::new(); workers];
            let mut line = 0;
            for batch in 0..200 {
                let worker = rng.usize(..workers);
                for _ in 0..rng.usize(0..20) {
                    line += rng.u64(1..4);
                    for copy in 0..rng.usize(1..3) {
                        lists[worker].push((line, record(&format!("r{batch}.{copy}"))));
                    }
                }
            }
            lists[0].reverse();
            // A stable sort of every row: rows of one line keep the order their list had.
            let mut expected: Vec<(u64, LinkRecord)> = lists.concat();
            expected.sort_by_key(|(line, _)| *line);
            let mut merged = Tally::default();
            for list in lists {
                merged.merge(Tally {
                    residue: list,
                    ..Tally::default()
                });
            }
            let taken = merged.take_residue();
            assert_eq!(taken.len(), expected.len());
            assert_eq!(taken, expected, "{workers} workers");
            assert!(merged.take_residue().is_empty(), "taken once");
        }
        // Lines that tie across lists: the lower list's rows of the line first, then the next.
        let list = |rows: &[(u64, &str)]| Tally {
            residue: rows.iter().map(|(line, name)| (*line, record(name))).collect(),
            ..Tally::default()
        };
        let mut merged = Tally::default();
        merged.merge(list(&[(1, "a0"), (2, "a1"), (2, "a2"), (4, "a3")]));
        merged.merge(list(&[(2, "b0"), (3, "b1")]));
        merged.merge(list(&[(2, "c0")]));
        let names: Vec<String> = merged
            .take_residue()
            .into_iter()
            .map(|(_, row)| row.first)
            .collect();
        assert_eq!(names, ["a0", "a1", "a2", "b0", "c0", "b1", "a3"]);
        // A higher list's run stops before a line a lower list also has.
        let mut merged = Tally::default();
        merged.merge(list(&[(3, "x1")]));
        merged.merge(list(&[(1, "y0"), (3, "y1")]));
        let names: Vec<String> = merged
            .take_residue()
            .into_iter()
            .map(|(_, row)| row.first)
            .collect();
        assert_eq!(names, ["y0", "x1", "y1"]);
    }

    #[test]
    fn bits_become_the_set_of_their_people() {
        let mut rng = fastrand::Rng::with_seed(9);
        let people: Vec<PersonId> = (0..5_000)
            .map(|_| rng.u32(..200_000))
            .chain([0, 63, 64, 65_535, 65_536, 199_999])
            .collect();
        let mut bits = Bits::default();
        for person in &people {
            bits.insert(*person);
        }
        // A dense stretch too: the set holds it as a bitmap, not a list.
        let people: Vec<PersonId> = people.into_iter().chain(70_000..80_000).collect();
        for person in 70_000..80_000 {
            bits.insert(person);
        }
        let expected: PersonSet = people.iter().copied().collect();
        assert_eq!(bits.to_set(), expected);
        // Words past those taken as bytes (ids near 2^32 in a real ledger) are added bit by bit.
        for most in [0, 1, 3, 1_000, 1_250] {
            assert_eq!(
                bits.to_set_in_bytes_up_to(most),
                expected,
                "{most} words as bytes"
            );
        }
        assert!(Bits::default().to_set().is_empty());
    }

    #[test]
    fn strong_slots_are_the_address_and_phone_kinds() {
        for slot in STRONG_SLOTS {
            assert!(matches!(
                IdentifierKind::ALL[usize::from(slot)],
                IdentifierKind::EmailStrict | IdentifierKind::EmailCanonical | IdentifierKind::Phone
            ));
        }
    }
}
