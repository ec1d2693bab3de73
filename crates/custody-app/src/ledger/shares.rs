//! Recording what left for a supplier: exports read from the file actually sent (with optional
//! canaries), standing feeds, and the supplier's deletion confirmations.

use custody_core::ShareId;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use custody_core::{
    CategoryKey, CategorySet, FeedAudience, IdentifierKind, Instant, PersonCategory, PersonId, PersonSet,
    PersonStatus, ShareKind, ShareMeta, full_name_key, name_key, normalise_email, normalise_phone,
    normalise_postcode, parse_day,
};
use custody_ingest::{PersonField, ShareColumns, Table, TableOptions, map_share_columns};
use custody_store::{NewPerson, NewShare, ShareRecord};

use crate::dir::{Ledger, signer_for};
use crate::error::{Error, Result};
use crate::ledger::canary;
use crate::ledger::people::{Contact, file_name, identifier_hashes, seal_contact};
use crate::ledger::suppliers::find;

/// Unlinked rows whose line numbers are kept.
const UNMATCHED_LINES_MAX: usize = 1000;
/// Canaries accepted in one share.
const CANARIES_MAX: usize = 1000;

/// An export to record.
#[derive(Debug, Clone)]
pub struct RecordInput {
    /// The supplier's name.
    pub supplier: String,
    /// Why the data was sent.
    pub purpose: String,
    /// Whether the supplier uses it for direct marketing (an objection under Art. 21(3) then
    /// reaches it).
    pub marketing: bool,
    /// When it was sent (default: now).
    pub at: Option<Instant>,
    /// Days the supplier may keep it.
    pub retention_days: Option<u32>,
    /// `Header=key` (or `Header=none`) pairs.
    pub maps: Vec<(String, String)>,
    /// Canaries to add, and where to write the file to send.
    pub canaries: Option<(usize, PathBuf)>,
    /// The file sent.
    pub file: PathBuf,
}

/// What recording an export did.
#[derive(Debug, Clone, Serialize)]
pub struct RecordReport {
    /// The new share's id.
    pub share: ShareId,
    /// People linked (canaries excluded).
    pub people: u64,
    /// Data rows read.
    pub rows: u64,
    /// Rows linked to nobody.
    pub unmatched: u64,
    /// Their first lines.
    pub unmatched_lines: Vec<u64>,
    /// Data categories sent.
    pub categories: Vec<&'static str>,
    /// Canaries planted.
    pub canaries: u64,
    /// SHA-256 of the file sent (with canaries, the canary file).
    pub sha256: String,
}

pub(crate) struct Linked {
    pub(crate) people: PersonSet,
    pub(crate) rows: u64,
    pub(crate) unmatched: u64,
    pub(crate) unmatched_lines: Vec<u64>,
    sample: Vec<String>,
    pub(crate) sha256: [u8; 32],
}

/// Records an export actually sent, all at once or not at all.
pub fn record_export(ledger: &mut Ledger, input: RecordInput) -> Result<RecordReport> {
    let supplier = find(ledger, &input.supplier)?;
    if input.purpose.trim().is_empty() {
        return Err(Error::Invalid(
            "--purpose must say why the data was sent".to_owned(),
        ));
    }
    crate::limits::short_text("purpose", &input.purpose)?;
    if let Some((count, out)) = &input.canaries {
        if *count == 0 || *count > CANARIES_MAX {
            return Err(Error::Invalid(format!("--canaries takes 1 to {CANARIES_MAX}")));
        }
        if out.exists() {
            return Err(Error::Invalid(format!(
                "{} exists already; --canary-out must name a new file, so nothing is overwritten",
                out.display()
            )));
        }
    }
    let mut table = Table::open(&input.file, TableOptions::default())?;
    let file = table.file().to_owned();
    let headers = table.headers().to_vec();
    let delimiter = table.delimiter();
    let columns = map_share_columns(&file, &headers, &input.maps)?;
    let mut linked = link_rows(ledger, &mut table, &columns)?;
    linked.sha256 = table.finish()?;
    let at = input.at.unwrap_or_else(|| ledger.now());
    let mut rng = fastrand::Rng::new();
    let (canaries, sent_sha256, written) = match &input.canaries {
        Some((count, out)) => {
            let canaries = make_canaries(ledger, &mut rng, &columns, &linked.sample, *count)?;
            let written = write_with_canaries(&input.file, out, delimiter, &canaries, linked.rows, &mut rng)?;
            (canaries, written.sha256, Some(written))
        }
        None => (Vec::new(), linked.sha256, None),
    };
    let categories = columns.categories();
    let share = NewShare {
        meta: ShareMeta {
            // The store gives the id.
            id: ShareId::new(0),
            supplier_id: supplier.id,
            kind: ShareKind::Export,
            shared_at: at,
            ends_at: None,
            categories: categories.clone(),
            retention_days: input.retention_days,
            deleted_at: None,
            backups_until: None,
        },
        purpose: input.purpose.trim().to_owned(),
        marketing: input.marketing,
        audience: Vec::new(),
        row_count: linked.rows,
        unmatched_count: linked.unmatched,
        unmatched_lines: linked.unmatched_lines.clone(),
        file_name: Some(file_name(&input.file)),
        file_sha256: Some(custody_vault::hex(&sent_sha256)),
        columns: columns
            .columns
            .iter()
            .map(|c| (c.header.clone(), c.category.map(|k| k.as_str().to_owned())))
            .collect(),
        recorded_at: ledger.now(),
    };
    let new_canaries = match canary_people(ledger, &canaries) {
        Ok(people) => people,
        Err(error) => {
            discard(written.as_ref());
            return Err(error);
        }
    };
    let draft = ledger.draft(
        "share.record",
        "share",
        serde_json::json!({
            "supplier": supplier.name, "shared_at": at.to_rfc3339(), "rows": linked.rows,
            "unmatched": linked.unmatched, "categories": categories.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
            "file": file_name(&input.file), "source_sha256": custody_vault::hex(&linked.sha256),
            "sent_sha256": custody_vault::hex(&sent_sha256),
        }),
    );
    let recorded = ledger.store.record_share(
        share,
        &linked.people,
        new_canaries,
        draft,
        &signer_for(&ledger.vault, &ledger.dir),
    );
    let recorded = match recorded {
        Ok(recorded) => recorded,
        Err(error) => {
            // The canary file must not be sent if its canaries were not recorded.
            discard(written.as_ref());
            return Err(error.into());
        }
    };
    // Only now, with its canaries committed, does the file take the name the user gave: a run
    // killed before this leaves no file by that name, only a hidden partial one.
    if let (Some(written), Some((_, out))) = (&written, &input.canaries) {
        put_in_place(written, out)?;
    }
    ledger.anchor_audit()?;
    Ok(RecordReport {
        share: recorded.id,
        people: linked.people.len(),
        rows: linked.rows,
        unmatched: linked.unmatched,
        unmatched_lines: linked.unmatched_lines,
        categories: categories.iter().map(|key| key.as_str()).collect(),
        canaries: recorded.canaries.len() as u64,
        sha256: custody_vault::hex(&sent_sha256),
    })
}

/// Links every row to people: by the reference column, else by identifiers (email, phone,
/// name and postcode, name and date of birth, strongest first). A row whose identifier is
/// shared by several people links to all of them: for a breach, "may have held" must err
/// towards telling.
pub(crate) fn link_rows(ledger: &Ledger, table: &mut Table, columns: &ShareColumns) -> Result<Linked> {
    let region = ledger.settings.phone_region.as_str();
    let mut linked = Linked {
        people: PersonSet::new(),
        rows: 0,
        unmatched: 0,
        unmatched_lines: Vec::new(),
        sample: Vec::new(),
        sha256: [0; 32],
    };
    let field = |record: &csv::StringRecord, which: PersonField| -> Option<String> {
        let value = record.get(columns.link(which)?)?.trim();
        (!value.is_empty()).then(|| value.to_owned())
    };
    let mut record = csv::StringRecord::new();
    let mut batch: Vec<PendingRow> = Vec::with_capacity(LINK_BATCH);
    while let Some(line) = table.next_row(&mut record)? {
        linked.rows += 1;
        if linked.sample.is_empty() {
            linked.sample = record.iter().map(str::to_owned).collect();
        }
        let email = field(&record, PersonField::Email).and_then(|text| normalise_email(&text));
        let phone = field(&record, PersonField::Phone).and_then(|text| normalise_phone(&text, region));
        let name = match (
            field(&record, PersonField::FirstName),
            field(&record, PersonField::LastName),
        ) {
            (Some(first), Some(last)) => name_key(&first, &last),
            _ => field(&record, PersonField::FullName).and_then(|full| full_name_key(&full)),
        };
        let postcode = field(&record, PersonField::Postcode).and_then(|text| normalise_postcode(&text));
        let dob = field(&record, PersonField::DateOfBirth)
            .and_then(|text| parse_day(&text).ok())
            .map(|d| d.to_iso());
        let hashes = identifier_hashes(
            &ledger.vault,
            email.as_deref(),
            phone.as_deref(),
            name.as_deref(),
            postcode.as_deref(),
            dob.as_deref(),
        )
        .into_iter()
        .filter(|(kind, _)| *kind != IdentifierKind::EmailCanonical)
        .map(|(_, hash)| hash)
        .collect();
        batch.push(PendingRow {
            line,
            reference: field(&record, PersonField::Ref),
            hashes,
        });
        if batch.len() == LINK_BATCH {
            link_batch(ledger, &mut batch, &mut linked)?;
        }
    }
    link_batch(ledger, &mut batch, &mut linked)?;
    let canaries = ledger.store.canaries()?;
    linked.people -= &canaries;
    Ok(linked)
}

/// Rows of a share linked at once: the store is asked once per batch.
const LINK_BATCH: usize = 4_096;

/// A share row waiting to be linked: its reference, and its identifier hashes strongest first.
struct PendingRow {
    line: u64,
    reference: Option<String>,
    hashes: Vec<[u8; 16]>,
}

/// Links a batch of rows (emptying it): by reference, else by the first identifier that finds
/// anyone. A row whose identifier is shared by several people links to all of them.
fn link_batch(ledger: &Ledger, batch: &mut Vec<PendingRow>, linked: &mut Linked) -> Result<()> {
    let references: Vec<String> = batch.iter().filter_map(|row| row.reference.clone()).collect();
    let mut by_reference = ledger.store.person_ids_by_refs(&references)?.into_iter();
    let mut unresolved: Vec<&PendingRow> = Vec::new();
    for row in batch.iter() {
        let found = match &row.reference {
            Some(_) => by_reference.next().flatten(),
            None => None,
        };
        match found {
            Some(id) => {
                linked.people.insert(id);
            }
            None => unresolved.push(row),
        }
    }
    let hashes: Vec<[u8; 16]> = unresolved
        .iter()
        .flat_map(|row| row.hashes.iter().copied())
        .collect();
    let mut people = ledger.store.people_by_identifiers(&hashes)?.into_iter();
    for row in unresolved {
        let mut found: Vec<PersonId> = Vec::new();
        for _ in &row.hashes {
            let these = people.next().unwrap_or_default();
            if found.is_empty() {
                found = these;
            }
        }
        if found.is_empty() {
            linked.unmatched += 1;
            if linked.unmatched_lines.len() < UNMATCHED_LINES_MAX {
                linked.unmatched_lines.push(row.line);
            }
        }
        linked.people.extend(found);
    }
    batch.clear();
    Ok(())
}

fn make_canaries(
    ledger: &Ledger,
    rng: &mut fastrand::Rng,
    columns: &ShareColumns,
    sample: &[String],
    count: usize,
) -> Result<Vec<canary::Canary>> {
    let mut out: Vec<canary::Canary> = Vec::with_capacity(count);
    let mut attempts = 0;
    while out.len() < count {
        attempts += 1;
        if attempts > count * 20 {
            return Err(Error::Invalid(
                "could not make canaries unlike every known person; try fewer".to_owned(),
            ));
        }
        let candidate = canary::make(
            rng,
            columns,
            sample,
            &ledger.settings.canary_domain,
            &ledger.settings.phone_region,
        );
        // A canary must never carry a real person's reference, nor repeat another canary.
        let reference_taken = match &candidate.file_reference {
            Some(reference) => {
                ledger.store.person_id_by_ref(reference)?.is_some()
                    || out
                        .iter()
                        .any(|other| other.file_reference.as_ref() == Some(reference))
            }
            None => false,
        };
        if !reference_taken {
            out.push(candidate);
        }
    }
    Ok(out)
}

fn canary_people(ledger: &Ledger, canaries: &[canary::Canary]) -> Result<Vec<NewPerson>> {
    let mut sealer = ledger.vault.sealer();
    canaries
        .iter()
        .map(|canary| {
            let name = name_key(&canary.first_name, &canary.last_name);
            let dob = canary.date_of_birth.to_iso();
            let contact = Contact {
                first_name: Some(canary.first_name.clone()),
                last_name: Some(canary.last_name.clone()),
                email: Some(canary.email.clone()),
                phone: Some(canary.phone.clone()),
                ..Contact::default()
            };
            let sealed = seal_contact(&ledger.vault, &mut sealer, &canary.reference, &contact)?;
            Ok(NewPerson {
                line: 0,
                reference: canary.reference.clone(),
                category: PersonCategory::Other,
                status: PersonStatus::Current,
                joined_on: None,
                left_on: None,
                country: None,
                contact: sealed.sealed,
                contact_digest: sealed.digest,
                source_digest: None,
                region: None,
                fields: custody_core::PersonFields::ALL,
                // Hashed exactly as the matcher will hash what it finds: normalised, and a phone
                // only when it is a valid number in the organisation's region.
                identifiers: identifier_hashes(
                    &ledger.vault,
                    normalise_email(&canary.email).as_deref(),
                    normalise_phone(&canary.phone, &ledger.settings.phone_region).as_deref(),
                    name.as_deref(),
                    Some(&canary.postcode),
                    Some(&dob),
                ),
            })
        })
        .collect()
}

/// A file with canaries, written under a hidden, unguessable temporary name beside the name it
/// will take (created anew: nothing planted there is written through).
struct Written {
    temporary: std::path::PathBuf,
    sha256: [u8; 32],
}

/// Removes a written file that must not be sent.
fn discard(written: Option<&Written>) {
    if let Some(written) = written {
        let _ = std::fs::remove_file(&written.temporary);
    }
}

/// Gives the written file its name, never replacing a file that appeared there meanwhile.
fn put_in_place(written: &Written, out: &Path) -> Result<()> {
    crate::files::place_new(&written.temporary, out).map_err(|source| {
        Error::Invalid(format!(
            "the share is recorded, but its file could not be named {}: {source}; it is at {}",
            out.display(),
            written.temporary.display()
        ))
    })
}

/// Writes the source rows with the canaries spread among them under a temporary name (mode
/// 0600, synced), returning it with the SHA-256 of what was written. Every cell a spreadsheet
/// would run as a formula is neutralised (`spreadsheet_safe`), in the source rows as in the
/// canaries'.
fn write_with_canaries(
    source: &Path,
    out: &Path,
    delimiter: char,
    canaries: &[canary::Canary],
    rows: u64,
    rng: &mut fastrand::Rng,
) -> Result<Written> {
    let mut positions: Vec<u64> = canaries.iter().map(|_| rng.u64(0..=rows)).collect();
    positions.sort_unstable();
    let temporary = crate::files::temporary_beside(out).map_err(|source| Error::io(out, source))?;
    let written = write_rows(source, &temporary, delimiter, canaries, &positions);
    match written {
        Ok(sha256) => Ok(Written { temporary, sha256 }),
        Err(error) => {
            let _ = std::fs::remove_file(&temporary);
            Err(error)
        }
    }
}

fn write_rows(
    source: &Path,
    temporary: &Path,
    delimiter: char,
    canaries: &[canary::Canary],
    positions: &[u64],
) -> Result<[u8; 32]> {
    let file = crate::files::create_new_private(temporary).map_err(|source| Error::io(temporary, source))?;
    let mut writer = csv::WriterBuilder::new()
        .delimiter(u8::try_from(delimiter).unwrap_or(b','))
        .from_writer(HashingWriter {
            inner: BufWriter::new(file),
            hasher: Sha256::new(),
        });
    let mut table = Table::open(source, TableOptions::default())?;
    let write_error = |error: csv::Error| Error::Invalid(format!("{}: {error}", temporary.display()));
    let safe = |cells: &mut dyn Iterator<Item = &str>| -> Vec<String> {
        cells
            .map(|cell| custody_core::spreadsheet_safe(cell).into_owned())
            .collect()
    };
    writer
        .write_record(safe(&mut table.headers().iter().map(String::as_str)))
        .map_err(write_error)?;
    let mut record = csv::StringRecord::new();
    let mut index = 0u64;
    let mut next_canary = canaries.iter().zip(positions.iter()).peekable();
    loop {
        while let Some((canary, _)) = next_canary.next_if(|(_, position)| **position <= index) {
            writer
                .write_record(safe(&mut canary.row.iter().map(String::as_str)))
                .map_err(write_error)?;
        }
        if table.next_row(&mut record)?.is_none() {
            break;
        }
        writer
            .write_record(safe(&mut record.iter()))
            .map_err(write_error)?;
        index += 1;
    }
    for (canary, _) in next_canary {
        writer
            .write_record(safe(&mut canary.row.iter().map(String::as_str)))
            .map_err(write_error)?;
    }
    let mut hashing = writer
        .into_inner()
        .map_err(|error| Error::Invalid(error.to_string()))?;
    hashing
        .inner
        .flush()
        .map_err(|source| Error::io(temporary, source))?;
    hashing
        .inner
        .get_ref()
        .sync_all()
        .map_err(|source| Error::io(temporary, source))?;
    Ok(hashing.hasher.finalize().into())
}

struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buffer: &[u8]) -> std::io::Result<usize> {
        let count = self.inner.write(buffer)?;
        self.hasher.update(buffer.get(..count).unwrap_or_default());
        Ok(count)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A standing feed to declare.
#[derive(Debug, Clone)]
pub struct FeedInput {
    /// The supplier's name.
    pub supplier: String,
    /// Data categories the feed carries.
    pub categories: Vec<CategoryKey>,
    /// Person categories it covers.
    pub audience: Vec<PersonCategory>,
    /// When syncing began.
    pub from: Instant,
    /// When syncing stopped.
    pub to: Option<Instant>,
    /// Why.
    pub purpose: String,
    /// Whether the supplier uses it for direct marketing.
    pub marketing: bool,
    /// Days the supplier may keep the data.
    pub retention_days: Option<u32>,
}

/// Declares a standing feed.
pub fn declare_feed(ledger: &mut Ledger, input: FeedInput) -> Result<ShareId> {
    let supplier = find(ledger, &input.supplier)?;
    if input.categories.is_empty() || input.audience.is_empty() {
        return Err(Error::Invalid(
            "a feed needs --categories and --audience".to_owned(),
        ));
    }
    if input.to.is_some_and(|to| to < input.from) {
        return Err(Error::Invalid("--to is before --from".to_owned()));
    }
    let categories: CategorySet = input.categories.iter().copied().collect();
    let share = NewShare {
        meta: ShareMeta {
            // The store gives the id.
            id: ShareId::new(0),
            supplier_id: supplier.id,
            kind: ShareKind::Feed(FeedAudience {
                categories: input.audience.clone(),
            }),
            shared_at: input.from,
            ends_at: input.to,
            categories: categories.clone(),
            retention_days: input.retention_days,
            deleted_at: None,
            backups_until: None,
        },
        purpose: {
            crate::limits::short_text("purpose", &input.purpose)?;
            input.purpose
        },
        marketing: input.marketing,
        audience: input.audience.clone(),
        row_count: 0,
        unmatched_count: 0,
        unmatched_lines: Vec::new(),
        file_name: None,
        file_sha256: None,
        columns: Vec::new(),
        recorded_at: ledger.now(),
    };
    let draft = ledger.draft(
        "share.declare",
        "share",
        serde_json::json!({ "supplier": supplier.name, "from": input.from.to_rfc3339(),
            "to": input.to.map(Instant::to_rfc3339),
            "categories": categories.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
            "audience": input.audience.iter().map(|c| c.as_str()).collect::<Vec<_>>() }),
    );
    let recorded = ledger.store.record_share(
        share,
        &PersonSet::new(),
        Vec::new(),
        draft,
        &signer_for(&ledger.vault, &ledger.dir),
    )?;
    ledger.anchor_audit()?;
    Ok(recorded.id)
}

/// One share by id (one row, not the list of every share).
pub fn share_view(ledger: &Ledger, id: ShareId) -> Result<ShareView> {
    let record = ledger
        .store
        .share(id)?
        .ok_or_else(|| Error::NotFound(format!("there is no share {id}")))?;
    Ok(ShareView::from(&record))
}

/// Records a supplier's confirmation that it deleted a share's data (with the supplier's note,
/// when it confirmed a deletion request itself).
pub fn confirm_deletion(
    ledger: &mut Ledger,
    share: ShareId,
    at: Instant,
    backups_until: Option<Instant>,
    note: Option<&str>,
) -> Result<()> {
    let record = ledger
        .store
        .share(share)?
        .ok_or_else(|| Error::NotFound(format!("there is no share {share}")))?;
    if let Some(previous) = record.meta.deleted_at {
        return Err(Error::Invalid(format!(
            "share {share} was confirmed deleted already, at {previous}"
        )));
    }
    if at < record.meta.shared_at {
        return Err(Error::Invalid(format!(
            "--confirmed-at is before the share was sent ({})",
            record.meta.shared_at
        )));
    }
    let draft = ledger.draft(
        "share.delete",
        &format!("share:{share}"),
        serde_json::json!({ "confirmed_at": at.to_rfc3339(), "backups_until": backups_until.map(Instant::to_rfc3339),
            "note_chars": note.map(|text| text.chars().count()) }),
    );
    ledger.store.confirm_deletion(
        share,
        at,
        backups_until,
        note,
        draft,
        &signer_for(&ledger.vault, &ledger.dir),
    )?;
    ledger.anchor_audit()
}

/// Marks a share as used for direct marketing, or not (audited): an objection to direct
/// marketing (UK GDPR Art. 21(3)) instructs the holders of marketing shares.
pub fn set_marketing(ledger: &mut Ledger, id: ShareId, marketing: bool) -> Result<()> {
    if ledger.store.share(id)?.is_none() {
        return Err(Error::NotFound(format!(
            "there is no share {id}; `custody share list` shows them"
        )));
    }
    let draft = ledger.draft(
        "share.marketing",
        &format!("share:{id}"),
        serde_json::json!({ "marketing": marketing }),
    );
    ledger
        .store
        .set_share_marketing(id, marketing, draft, &signer_for(&ledger.vault, &ledger.dir))?;
    ledger.anchor_audit()
}

/// A share for output.
#[derive(Debug, Clone, Serialize)]
pub struct ShareView {
    /// Id.
    pub share: ShareId,
    /// Supplier.
    pub supplier: String,
    /// `export` or `feed`.
    pub kind: &'static str,
    /// Purpose.
    pub purpose: String,
    /// Used for direct marketing.
    pub marketing: bool,
    /// Sent at.
    pub shared_at: String,
    /// Feed end.
    pub ends_at: Option<String>,
    /// Data categories.
    pub categories: Vec<&'static str>,
    /// Feed audience.
    pub audience: Vec<&'static str>,
    /// People in an export (canaries excluded); `None` for a feed, whose people change over time
    /// (ask `holdings` for a given instant).
    pub people: Option<u64>,
    /// Canaries.
    pub canaries: u64,
    /// Rows.
    pub rows: u64,
    /// Unlinked rows.
    pub unmatched: u64,
    /// Retention, days.
    pub retention_days: Option<u32>,
    /// Deletion confirmed at.
    pub deleted_at: Option<String>,
    /// Backups kept until.
    pub backups_until: Option<String>,
    /// File name.
    pub file: Option<String>,
    /// SHA-256 of the file sent.
    pub sha256: Option<String>,
}

impl From<&ShareRecord> for ShareView {
    fn from(record: &ShareRecord) -> Self {
        ShareView {
            share: record.meta.id,
            supplier: record.supplier.clone(),
            kind: record.meta.kind.name(),
            purpose: record.purpose.clone(),
            marketing: record.marketing,
            shared_at: record.meta.shared_at.to_rfc3339(),
            ends_at: record.meta.ends_at.map(Instant::to_rfc3339),
            categories: record.meta.categories.iter().map(|key| key.as_str()).collect(),
            audience: record.audience.iter().map(|category| category.as_str()).collect(),
            people: match record.meta.kind {
                ShareKind::Export => Some(record.people_count.saturating_sub(record.canary_count)),
                ShareKind::Feed(_) => None,
            },
            canaries: record.canary_count,
            rows: record.row_count,
            unmatched: record.unmatched_count,
            retention_days: record.meta.retention_days,
            deleted_at: record.meta.deleted_at.map(Instant::to_rfc3339),
            backups_until: record.meta.backups_until.map(Instant::to_rfc3339),
            file: record.file_name.clone(),
            sha256: record.file_sha256.clone(),
        }
    }
}

/// Shares, optionally of one supplier.
pub fn list(ledger: &Ledger, supplier: Option<&str>) -> Result<Vec<ShareView>> {
    let records = match supplier {
        Some(name) => {
            let supplier = find(ledger, name)?;
            ledger.store.shares(Some(&[supplier.id]))?
        }
        None => ledger.store.shares(None)?,
    };
    Ok(records.iter().map(ShareView::from).collect())
}
