//! `custody match`: whose data is in a leaked file, which of their data, and which supplier it
//! came from. The file streams through a reader thread in batches; worker threads normalise,
//! hash and look up each record's identifiers in the in-memory identifier index (built while
//! the reader starts); their tallies are merged at the end. Memory is the index's, not the file's.

use custody_core::{EventId, IncidentId};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use custody_core::{CategoryKey, IdentifierKind, Instant};
pub use custody_ingest::leak::{DetectedFormat, LeakEncoding, LeakFormat, LeakOptions, Problems};
use custody_ingest::leak::{LeakReader, Role};

use crate::dir::Ledger;
use crate::error::Result;
use crate::leaks::leak_links::{LinkageView, PersonLink};
use crate::leaks::leak_rank::{CanaryFound, SupplierFit, canaries, rank};
use crate::leaks::leak_rows::Tally;

/// What to match.
#[derive(Debug, Clone)]
pub struct MatchOptions {
    /// The leaked file.
    pub path: PathBuf,
    /// Format, encoding, line limit.
    pub read: LeakOptions,
    /// Record the result on this incident.
    pub incident: Option<IncidentId>,
    /// List the references of the people matched.
    pub people: bool,
    /// Worker threads (at least one).
    pub workers: usize,
    /// Write the linkage file here: each linked row, the person, the score and what agreed.
    pub rows: Option<PathBuf>,
}

/// Live figures for a progress display.
#[derive(Debug, Default)]
pub struct MatchProgress {
    /// Bytes taken from the file (compressed, when it is).
    pub bytes: Arc<AtomicU64>,
    /// The file's size.
    pub total: AtomicU64,
    /// Records read.
    pub rows: AtomicU64,
    /// Records that matched someone.
    pub matched_rows: AtomicU64,
}

/// A column of the file as reported.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnView {
    /// Name.
    pub name: String,
    /// The identifier it holds (`other` for none).
    pub role: &'static str,
    /// How the role was decided: `name`, `shape` (the values' form) or `ledger` (the values,
    /// with another column's, made keyed identifiers of people custody holds).
    pub decided_by: &'static str,
    /// Its data category, if custody can tell.
    pub category: Option<String>,
}

/// What matching found.
#[derive(Debug, Clone, Serialize)]
pub struct MatchReport {
    /// The file's name (without its directory).
    pub file: String,
    /// SHA-256 of the file as it is on disk.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Gzip-compressed.
    pub gzip: bool,
    /// How it was read.
    pub format: DetectedFormat,
    /// Encoding found.
    pub encoding: &'static str,
    /// Lines read.
    pub lines: u64,
    /// Records read.
    pub rows: u64,
    /// Records with at least one identifier.
    pub rows_with_identifiers: u64,
    /// Records that matched at least one person.
    pub rows_matched: u64,
    /// People matched (canaries excluded).
    pub matched: u64,
    /// People linked only probably (the review band): never told, never recorded as evidence
    /// unless a responder confirms them.
    pub probable: u64,
    /// Rows in the review band, by the fields that agreed.
    pub probable_by: BTreeMap<String, u64>,
    /// Rows linked for certain by fuzzy linkage, by the fields that agreed.
    pub fuzzy_by: BTreeMap<String, u64>,
    /// How fuzzy linkage ran.
    pub linkage: LinkageView,
    /// The order of day and month the file's dates of birth proved (`dmy`, `mdy`), or
    /// `undecided` (a date that reads both ways was matched both ways).
    pub date_order: &'static str,
    /// Their references, with `--people`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refs: Option<Vec<String>>,
    /// With `--people`, each person linked (certain and probable): how, the score, what agreed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub people: Option<Vec<PersonLink>>,
    /// With `--rows`, the rows written to the linkage file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_written: Option<u64>,
    /// With `--people`, the references matched through each identifier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refs_by_identifier: Option<BTreeMap<&'static str, Vec<String>>>,
    /// People matched by each identifier.
    pub by_identifier: BTreeMap<&'static str, u64>,
    /// The data categories the file holds (from columns with values in rows with identifiers).
    pub categories: Vec<String>,
    /// The file's columns that had values.
    pub columns: Vec<ColumnView>,
    /// Canaries found: definitive attribution.
    pub canaries: Vec<CanaryFound>,
    /// Suppliers whose holdings best explain the file, best first.
    pub suppliers: Vec<SupplierFit>,
    /// The window holdings were taken over.
    pub window_from: Instant,
    /// End of that window.
    pub window_to: Instant,
    /// What could not be read.
    pub problems: Problems,
    /// The incident event the result was recorded as, with `--incident`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded: Option<EventId>,
    /// Seconds the matching took.
    pub seconds: f64,
    /// Entries of the identifier index.
    pub index_entries: usize,
    /// Seconds loading the identifier index took (while the file was being read).
    pub index_seconds: f64,
    /// Where the index came from: `file` (kept from an earlier match, the store unchanged
    /// since) or `store` (built, and kept for the next match).
    pub index_source: &'static str,
}

/// Matches a leaked file against the ledger; see the module documentation.
pub fn match_file(
    ledger: &mut Ledger,
    options: &MatchOptions,
    progress: &MatchProgress,
) -> Result<MatchReport> {
    let started = std::time::Instant::now();
    let incident = options
        .incident
        .map(|id| crate::breach::incidents::find_incident(ledger, id))
        .transpose()?;
    let mut reader = LeakReader::open(&options.path, options.read, Arc::clone(&progress.bytes))?;
    crate::leaks::leak_columns::prove_names(ledger, &mut reader)?;
    progress.total.store(reader.facts().size, Ordering::Relaxed);
    let kinds = kinds_needed(&reader);
    let (mut tally, reader, (index_entries, index_seconds, index_source)) = crate::leaks::leak_run::run(
        ledger,
        reader,
        (options.workers.max(1), options.people || options.rows.is_some()),
        progress,
    )?;
    let sha256 = custody_vault::hex(&reader.sha256()?);
    let found = tally.matched();
    let canary_set = ledger.store.canaries()?;
    let linking = std::time::Instant::now();
    // In the file's order, whichever worker read which rows (so the same file gives the same
    // links, while every leftover row and every pair sampled for `m` is kept: past a worker's
    // caps, which it keeps depends on the batches it read).
    let residue = tally.take_residue();
    let linked = crate::leaks::linkage::link(ledger, &residue, ledger.settings.linkage)?;
    if linked.people_read > 0 {
        // The people's sealed details were opened (in memory) to compare them: on the record.
        ledger.audit_look(
            "linkage.read",
            "people",
            serde_json::json!({ "file": crate::limits::cleaned_name(&options.path.file_name().map_or_else(
                    || options.path.display().to_string(),
                    |name| name.to_string_lossy().into_owned(),
                )),
                "people_read": linked.people_read, "rows_tried": residue.len() }),
        )?;
    }
    let rows_tried = residue.len() as u64;
    if residue.len() >= FREE_BESIDE_ROWS {
        drop_beside(residue);
    } else {
        drop(residue);
    }
    let fuzzy_certain = &crate::leaks::leak_links::people_of(&linked.certain) - &canary_set;
    // A canary names its share only through what is its alone: its address (made with a token)
    // or its name with its made-up postcode. Its phone number comes from a small range reserved
    // for fiction that other canaries and test data share, and a common name with a birthday can
    // be a real person's.
    let unique = tally.matched_by(&[
        IdentifierKind::EmailStrict,
        IdentifierKind::EmailCanonical,
        IdentifierKind::NamePostcode,
    ]);
    let canaries_found = canaries(ledger, &(&unique & &canary_set))?;
    let matched = &(&found - &canary_set) | &fuzzy_certain;
    let probable = &(&crate::leaks::leak_links::people_of(&linked.probable) - &canary_set) - &matched;
    let linkage = LinkageView {
        rows_tried,
        rows_not_tried: tally.residue_not_kept,
        people_read: linked.people_read,
        pairs: linked.pairs,
        blocks_source: linked.blocks_source.name(),
        rows_certain: linked.certain.len() as u64,
        rows_probable: linked.probable.len() as u64,
        certain_line: ledger.settings.linkage.certain,
        review_line: ledger.settings.linkage.review,
        prior: linked.model.prior,
        seconds: linking.elapsed().as_secs_f64(),
        model: linked.model.clone(),
    };
    let categories: BTreeSet<CategoryKey> = reader
        .columns()
        .iter()
        .enumerate()
        .filter(|(id, _)| tally.columns_seen.get(*id).copied().unwrap_or(false))
        .filter_map(|(_, column)| column.category)
        .collect();
    let window = match &incident {
        Some(incident) => crate::breach::impact::window(incident),
        None => (earliest_share(ledger)?, ledger.now()),
    };
    let suppliers = rank(ledger, &matched, &categories, &canaries_found, window)?;
    let mut by_identifier: BTreeMap<&'static str, u64> = IdentifierKind::ALL
        .iter()
        .zip(&tally.by_kind)
        .filter(|(kind, _)| kinds.contains(kind))
        .map(|(kind, bits)| (kind.as_str(), (bits.to_set() - &canary_set).len()))
        .collect();
    by_identifier.insert("fuzzy", fuzzy_certain.len());
    let rows_written = options
        .rows
        .as_deref()
        .map(|path| crate::leaks::leak_links::write_rows(ledger, path, &tally.links, &linked, &canary_set))
        .transpose()?;
    let mut report = MatchReport {
        file: options.path.file_name().map_or_else(
            || options.path.display().to_string(),
            |name| name.to_string_lossy().into_owned(),
        ),
        sha256,
        bytes: reader.facts().size,
        gzip: reader.facts().gzip,
        format: reader.format(),
        encoding: reader.encoding(),
        lines: reader.lines(),
        rows: tally.rows,
        rows_with_identifiers: tally.rows_with_identifiers,
        rows_matched: tally.rows_matched + linked.certain.len() as u64,
        matched: matched.len(),
        probable: probable.len(),
        probable_by: crate::leaks::leak_links::counts_by_how(&linked.probable),
        fuzzy_by: crate::leaks::leak_links::counts_by_how(&linked.certain),
        linkage,
        date_order: reader.date_order().map_or("undecided", |order| order.as_str()),
        people: if options.people {
            Some(crate::leaks::leak_links::person_links(
                ledger,
                &tally.links,
                &linked,
                &canary_set,
            )?)
        } else {
            None
        },
        rows_written,
        refs: if options.people {
            Some(ledger.store.references(&matched)?)
        } else {
            None
        },
        refs_by_identifier: if options.people {
            let mut by = BTreeMap::new();
            for kind in IdentifierKind::ALL.iter().filter(|kind| kinds.contains(kind)) {
                let people = &tally.matched_by(&[*kind]) - &canary_set;
                by.insert(kind.as_str(), ledger.store.references(&people)?);
            }
            Some(by)
        } else {
            None
        },
        by_identifier,
        categories: categories.iter().map(|key| key.as_str().to_owned()).collect(),
        columns: column_views(&reader, &tally),
        canaries: canaries_found,
        suppliers,
        window_from: window.0,
        window_to: window.1,
        problems: reader.problems().clone(),
        recorded: None,
        seconds: 0.0,
        index_entries,
        index_seconds,
        index_source: index_source.name(),
    };
    if let Some(incident) = incident {
        let waiting = probable_links(ledger, &linked, &probable)?;
        report.recorded = Some(crate::leaks::leak_evidence::record(
            ledger,
            &incident,
            &report,
            (&matched, waiting),
        )?);
    }
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Leftover rows from which they are freed on a thread of their own; fewer are freed at once.
const FREE_BESIDE_ROWS: usize = 100_000;

/// Drops `value` on a thread of its own (freeing a few million rows' strings takes a tenth of a
/// second or more, which the match need not wait for), or here when no thread can be started.
fn drop_beside<T: Send + 'static>(value: T) {
    let _freeing = std::thread::Builder::new()
        .name("free-rows".to_owned())
        .spawn(move || drop(value));
}

/// Probable links an evidence event keeps at most (its body stays under the event size limit).
const PROBABLE_RECORDED: usize = 400;

/// The probable links of people not matched for certain, best first per person, for the
/// evidence event (a responder confirms them there).
fn probable_links(
    ledger: &Ledger,
    linked: &crate::leaks::linkage::Linked,
    probable: &custody_core::PersonSet,
) -> Result<Vec<crate::breach::incident_events::ProbableLink>> {
    let references: std::collections::HashMap<custody_core::PersonId, String> =
        probable.iter().zip(ledger.store.references(probable)?).collect();
    let mut best: BTreeMap<custody_core::PersonId, &crate::leaks::linkage::FuzzyLink> = BTreeMap::new();
    for link in linked
        .probable
        .iter()
        .filter(|link| probable.contains(link.person))
    {
        let entry = best.entry(link.person).or_insert(link);
        if link.probability > entry.probability {
            *entry = link;
        }
    }
    let mut links: Vec<(custody_core::PersonId, &crate::leaks::linkage::FuzzyLink)> =
        best.into_iter().collect();
    // The event keeps the likeliest; the linkage file (`--rows`) has them all.
    links.sort_by(|a, b| b.1.probability.total_cmp(&a.1.probability));
    links.truncate(PROBABLE_RECORDED);
    Ok(links
        .into_iter()
        .filter_map(|(person, link)| {
            Some(crate::breach::incident_events::ProbableLink {
                reference: references.get(&person)?.clone(),
                probability: link.probability,
                agreed: crate::leaks::leak_links::how(link),
                line: link.line,
            })
        })
        .collect())
}

/// The identifier kinds the file can give: emails always (they are found anywhere), the rest
/// when a column holds them. JSON and SQL can bring new columns later, so they get every kind.
fn kinds_needed(reader: &LeakReader) -> Vec<IdentifierKind> {
    if matches!(
        reader.format(),
        DetectedFormat::Jsonl | DetectedFormat::Sql { .. }
    ) {
        return IdentifierKind::ALL.to_vec();
    }
    let has = |role: Role| reader.columns().iter().any(|column| column.role == role);
    let names = has(Role::FullName) || (has(Role::FirstName) && has(Role::LastName));
    IdentifierKind::ALL
        .into_iter()
        .filter(|kind| match kind {
            IdentifierKind::EmailStrict | IdentifierKind::EmailCanonical => true,
            IdentifierKind::Phone => has(Role::Phone),
            IdentifierKind::NamePostcode => names && has(Role::Postcode),
            IdentifierKind::NameDateOfBirth => names && has(Role::DateOfBirth),
            // Kept by imports for the linkage to come; no leaked column is matched by them yet.
            IdentifierKind::NameAddress | IdentifierKind::NationalId | IdentifierKind::NameBirthday => false,
        })
        .collect()
}

fn column_views(reader: &LeakReader, tally: &Tally) -> Vec<ColumnView> {
    reader
        .columns()
        .iter()
        .enumerate()
        .filter(|(id, _)| tally.columns_with_values.get(*id).copied().unwrap_or(false))
        .map(|(_, column)| ColumnView {
            name: column.name.clone(),
            role: role_name(column.role),
            decided_by: if column.by_ledger {
                "ledger"
            } else if column.by_shape {
                "shape"
            } else {
                "name"
            },
            category: column.category.map(|key| key.as_str().to_owned()),
        })
        .collect()
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Other => "other",
        Role::Email => "email",
        Role::Phone => "phone",
        Role::FirstName => "first_name",
        Role::LastName => "last_name",
        Role::FullName => "full_name",
        Role::Postcode => "postcode",
        Role::DateOfBirth => "date_of_birth",
    }
}

/// The first share's sending: holdings over everything ever shared start there.
fn earliest_share(ledger: &Ledger) -> Result<Instant> {
    let shares = ledger.store.shares(None)?;
    Ok(shares
        .iter()
        .map(|share| share.meta.shared_at)
        .min()
        .unwrap_or_else(|| ledger.now()))
}
