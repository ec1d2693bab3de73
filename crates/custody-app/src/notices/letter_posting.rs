//! A batch of letters handed to the post: recorded (audited), after which its people count as
//! told; and where an incident's letters stand.

use serde::Serialize;

use custody_core::{IncidentId, Instant};

use crate::dir::Ledger;
use crate::error::{Error, Result};
use crate::notices::notice_model::NoticeContext;

/// Where an incident's letters stand (counts only: no one is named).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct LetterCounts {
    /// People who need a letter (no usable email address, or their notice failed).
    pub needed: u64,
    /// People whose letter was printed (needed or for a chosen audience).
    pub printed: u64,
    /// People whose letter was recorded as posted (they count as told).
    pub posted: u64,
}

/// The letter counts of incident `id`.
pub fn counts(ledger: &Ledger, id: IncidentId) -> Result<LetterCounts> {
    let mut counts = LetterCounts::default();
    for row in ledger.store.notice_letters(id)? {
        counts.needed += u64::from(row.needed);
        counts.printed += u64::from(row.printed_at.is_some());
        counts.posted += u64::from(row.posted_at.is_some());
    }
    Ok(counts)
}

/// A batch's short name: the first 12 characters of its SHA-256.
pub fn short(batch: &str) -> &str {
    batch.get(..12).unwrap_or(batch)
}

/// An incident's printed batches, oldest first.
pub fn batches(ledger: &Ledger, id: IncidentId) -> Result<Vec<custody_store::LetterBatchRow>> {
    crate::breach::incidents::find_incident(ledger, id)?;
    Ok(ledger.store.letter_batches(id)?)
}

/// What recording a batch as posted did.
#[derive(Debug, Clone, Serialize)]
pub struct PostedReport {
    /// The batch (the PDF's SHA-256).
    pub batch: String,
    /// Letters recorded as posted now.
    pub letters: u64,
    /// Whether "people notified" was recorded now (everyone affected told).
    pub people_notified_recorded: bool,
    /// Why not, when it was not.
    pub people_notified_not_recorded: Option<String>,
}

/// Records the letters of `batch` (by default the latest batch printed with letters waiting) of
/// incident `id` as posted at `at` (audited); when everyone affected is then told, by email or
/// by post, "people notified" is recorded at the last of those instants.
pub fn posted(ledger: &mut Ledger, id: IncidentId, at: Instant, batch: Option<&str>) -> Result<PostedReport> {
    let incident = crate::breach::incidents::find_incident(ledger, id)?;
    if at > ledger.now() {
        return Err(Error::Invalid(format!(
            "--posted-at ({at}) is in the future: record a batch once it has gone"
        )));
    }
    let batches = ledger.store.letter_batches(id)?;
    let chosen = match batch.map(|given| given.trim().to_ascii_lowercase()) {
        Some(given) => {
            let matching: Vec<&custody_store::LetterBatchRow> = batches
                .iter()
                .filter(|row| given.len() >= 8 && row.batch.starts_with(&given))
                .collect();
            match matching.as_slice() {
                [one] => (*one).clone(),
                [] => {
                    return Err(Error::Invalid(format!(
                        "incident {id} has no batch of letters {given} (give at least its first 8 characters)"
                    )));
                }
                _ => return Err(Error::Invalid(format!("{given} names more than one batch: give more of it"))),
            }
        }
        None => batches
            .iter()
            .filter(|row| row.waiting > 0)
            .max_by_key(|row| row.printed_at)
            .cloned()
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "incident {id} has no printed letter waiting to be posted; make them with `custody notify letters \
                     {id} --out FILE.pdf`"
                ))
            })?,
    };
    if chosen.waiting == 0 {
        return Err(Error::Invalid(format!(
            "no letter of batch {} is waiting to be posted: each was recorded as posted",
            short(&chosen.batch)
        )));
    }
    // Given to the minute, a posting in the minute the batch was printed is after it.
    if at.unix_seconds() + 60 <= chosen.printed_at.unix_seconds() {
        return Err(Error::Invalid(format!(
            "--posted-at ({at}) is before batch {} was printed ({})",
            short(&chosen.batch),
            chosen.printed_at
        )));
    }
    if at < incident.facts.aware_at {
        return Err(Error::Invalid(format!(
            "--posted-at ({at}) is before the organisation became aware of the incident ({})",
            incident.facts.aware_at
        )));
    }
    let batch = chosen.batch;
    let draft = ledger.draft(
        "notice.letters_posted",
        &format!("incident:{id}"),
        serde_json::json!({ "posted_at": at.to_rfc3339(), "batch": batch }),
    );
    let letters = ledger.store.record_letters_posted(
        id,
        &batch,
        at,
        draft,
        &crate::dir::signer_for(&ledger.vault, &ledger.dir),
    )?;
    ledger.anchor_audit()?;
    let context = NoticeContext::build(ledger, id)?;
    let not_recorded = crate::notices::coverage::record_if_everyone_told(
        ledger,
        id,
        &context.affected,
        format!("emails accepted and {letters} letters posted"),
    )?;
    Ok(PostedReport {
        batch,
        letters,
        people_notified_recorded: not_recorded.is_none(),
        people_notified_not_recorded: not_recorded,
    })
}
