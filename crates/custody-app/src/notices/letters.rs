//! Letters for the people a notice cannot reach by email (Art. 34 asks that each affected person
//! be told, however they can be reached): one print-ready PDF, a letter per person with the
//! same personal content as their email, addressed from the postal address sealed at import,
//! in postcode order within each country, after a summary page for the print house. People with
//! no postal address are listed for the DPO. Once the batch is handed to the post the user says
//! so (`--posted-at`), and only then do its letters count as people told.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use custody_core::{IncidentId, PersonId, PersonSet};
use custody_mail::letter_pdf::{Letter, LetterBatch};

use crate::dir::Ledger;
use crate::error::{Error, Result};
use crate::ledger::people::Contact;
use crate::notices::notice_model::{NoticeContext, day_words};
use crate::notices::notify::{Audience, audience_people, open_contact};

/// What producing letters did.
#[derive(Debug, Clone, Serialize)]
pub struct LettersReport {
    /// The incident.
    pub incident: IncidentId,
    /// Whom the letters are for: `no-usable-email`, or the audience asked for.
    pub audience: String,
    /// Letters in the file (one per person).
    pub letters: usize,
    /// Pages in the file, the summary page included.
    pub pages: usize,
    /// Letters of more than one page.
    pub longer_than_one_page: usize,
    /// Letters per country of address (ISO 3166 alpha-2).
    pub by_country: BTreeMap<String, u64>,
    /// People who needed a letter and have no postal address custody can use (references).
    pub without_address: Vec<String>,
    /// People whose address did not fit the window in full (cut to six lines of 80 mm): check
    /// these letters before they are posted.
    pub address_shortened: Vec<String>,
    /// People whose letter was posted already, left out.
    pub posted_before: u64,
    /// SHA-256 of the file written: the batch's name (`--posted-at` takes it with `--batch`).
    pub sha256: String,
}

/// One letter to be laid out, with what it is sorted by.
struct Planned {
    country: String,
    postcode: String,
    reference: String,
    person: PersonId,
    letter: Letter,
}

/// Whom letters go to by default: the people who need one and are not told yet. They are the
/// affected people without a usable email address, those whose notice failed for good, and
/// anyone a notification run recorded as needing a letter; less anyone a message was accepted
/// for since (a new address re-imported and mailed), and canaries.
fn default_people(ledger: &Ledger, context: &NoticeContext, id: IncidentId) -> Result<PersonSet> {
    let (affected, _) = audience_people(ledger, context, &Audience::Affected)?;
    let mut out = PersonSet::new();
    ledger.store.each_person(&affected, &mut |person| {
        let email = open_contact(ledger, &person)
            .map_err(|error| custody_store::Error::Aborted(Box::new(error)))?
            .and_then(|contact| contact.email)
            .and_then(|email| custody_core::normalise_email(&email));
        if email.is_none() {
            out.insert(person.id);
        }
        Ok(())
    })?;
    out |= ledger
        .store
        .outbox_people(id, custody_store::OutboxState::Failed)?;
    out.extend(
        ledger
            .store
            .notice_letters(id)?
            .into_iter()
            .filter(|row| row.needed)
            .map(|row| row.person),
    );
    Ok(out - ledger.store.outbox_people(id, custody_store::OutboxState::Sent)? - ledger.store.canaries()?)
}

/// Writes the letters of incident `id` to `out` (a PDF) for `audience` (by default, everyone
/// who cannot be emailed) and records them as printed (audited, with the file's SHA-256).
pub fn letters(
    ledger: &mut Ledger,
    id: IncidentId,
    audience: Option<&Audience>,
    out: &Path,
) -> Result<LettersReport> {
    letters_at_most(ledger, id, audience, out, usize::MAX)
}

/// [`letters`], refused before anything is made when more than `most` people would get one (the
/// desk makes a batch inside one request).
pub fn letters_at_most(
    ledger: &mut Ledger,
    id: IncidentId,
    audience: Option<&Audience>,
    out: &Path,
    most: usize,
) -> Result<LettersReport> {
    let context = NoticeContext::build(ledger, id)?;
    let people = match audience {
        Some(audience) => audience_people(ledger, &context, audience)?.0,
        None => default_people(ledger, &context, id)?,
    };
    let posted: PersonSet = ledger
        .store
        .notice_letters(id)?
        .into_iter()
        .filter(|row| row.posted_at.is_some())
        .map(|row| row.person)
        .collect();
    // A second batch holds only the people not posted to yet, unless an audience was chosen.
    let posted_before = if audience.is_none() {
        people.intersection_len(&posted)
    } else {
        0
    };
    let people = if audience.is_none() {
        people - posted
    } else {
        people
    };
    if usize::try_from(people.len()).unwrap_or(usize::MAX) > most {
        return Err(Error::Invalid(format!(
            "{} people need a letter, more than the desk makes in one go ({most}): make them with \
             `custody notify letters {id} --out FILE.pdf`",
            people.len()
        )));
    }
    let templates = custody_mail::Templates::load(Some(&ledger.dir.join("templates")))?;
    let today = day_words(ledger, ledger.now());
    let home = ledger.settings.phone_region.clone();
    let mut planned = Vec::new();
    let mut without_address = Vec::new();
    ledger.store.each_person(&people, &mut |person| {
        let contact = open_contact(ledger, &person)
            .map_err(|error| custody_store::Error::Aborted(Box::new(error)))?
            .unwrap_or_default();
        let Some(postal) = contact
            .postal
            .clone()
            .filter(custody_ingest::PostalAddress::is_usable)
        else {
            without_address.push(person.reference.clone());
            return Ok(());
        };
        let part = context.person_part(&person, contact.first_name.clone());
        let notice = context
            .model(vec![part])
            .render(&templates)
            .map_err(|error| custody_store::Error::Aborted(Box::new(Error::from(error))))?;
        let address = crate::notices::letter_address::address_lines(&full_name(&contact), &postal, &home);
        planned.push(Planned {
            country: postal.country.clone().unwrap_or_else(|| home.clone()),
            postcode: postal.postcode.clone().unwrap_or_default().to_uppercase(),
            reference: person.reference.clone(),
            person: person.id,
            letter: Letter {
                address,
                info: vec![
                    format!("Date: {today}"),
                    format!("Our reference: {}", person.reference),
                    format!("Incident: {id}"),
                ],
                subject: notice.subject,
                body: notice.text,
            },
        });
        Ok(())
    })?;
    planned.sort_by(|a, b| {
        (a.country.as_str(), a.postcode.as_str(), a.reference.as_str()).cmp(&(
            b.country.as_str(),
            b.postcode.as_str(),
            b.reference.as_str(),
        ))
    });
    let mut by_country: BTreeMap<String, u64> = BTreeMap::new();
    for letter in &planned {
        *by_country.entry(letter.country.clone()).or_default() += 1;
    }
    let settings = &ledger.settings;
    let return_address = match &settings.dpo.postal {
        Some(postal) => format!("{}, {postal}", settings.organisation),
        None => settings.organisation.clone(),
    };
    let mut batch = LetterBatch::new(&settings.organisation, &return_address);
    let mut address_shortened = Vec::new();
    for letter in &planned {
        if batch.add(&letter.letter).address_cut {
            address_shortened.push(letter.reference.clone());
        }
    }
    let audience_name = audience.map_or_else(|| "no-usable-email".to_owned(), Audience::name);
    let summary = summary_lines(
        ledger,
        id,
        &audience_name,
        planned.len(),
        &by_country,
        without_address.len(),
    );
    let title = format!("{}: letters about incident {id}", settings.organisation);
    let (bytes, counts) = batch.finish(&title, &summary);
    crate::files::write_output(out, &bytes).map_err(|source| Error::io(out, source))?;
    let sha256 = custody_vault::hex(&sha2_digest(&bytes));
    let ids: Vec<PersonId> = planned.iter().map(|letter| letter.person).collect();
    let draft = ledger.draft(
        "notice.letters",
        &format!("incident:{id}"),
        serde_json::json!({ "audience": audience_name, "letters": counts.letters, "pages": counts.pages,
            "without_address": without_address.len(), "sha256": sha256 }),
    );
    let now = ledger.now();
    ledger.store.record_letters_printed(
        id,
        &ids,
        now,
        &sha256,
        audience.is_none(),
        draft,
        &crate::dir::signer_for(&ledger.vault, &ledger.dir),
    )?;
    ledger.anchor_audit()?;
    Ok(LettersReport {
        incident: id,
        audience: audience_name,
        letters: counts.letters,
        pages: counts.pages,
        longer_than_one_page: counts.longer_than_one_page,
        by_country,
        without_address,
        address_shortened,
        posted_before,
        sha256,
    })
}

fn sha2_digest(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).into()
}

/// "Ann Smith", or nothing when the export gave no name.
fn full_name(contact: &Contact) -> String {
    [contact.first_name.as_deref(), contact.last_name.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The print house's page: what the batch is and how to handle it; counts only, no one's data.
fn summary_lines(
    ledger: &Ledger,
    id: IncidentId,
    audience: &str,
    letters: usize,
    by_country: &BTreeMap<String, u64>,
    without_address: usize,
) -> Vec<String> {
    let countries: Vec<String> = by_country
        .iter()
        .map(|(country, count)| format!("{country} {count}"))
        .collect();
    let first = usize::from(letters > 0);
    vec![
        "This page is the batch summary: do not post it.".to_owned(),
        String::new(),
        format!("Organisation: {}", ledger.settings.organisation),
        format!("Incident: {id}; letters for: {audience}"),
        format!("Prepared: {}", ledger.now().local(&ledger.zone)),
        format!("Letters: {letters}, one per person, each starting on a new sheet."),
        format!(
            "Sequence numbers: bottom left of every page, {first:06} to {letters:06}, in postcode order within each country."
        ),
        "Paper: A4, printed on one side. A letter of more than one page says \"Page 1 of 2\" at the foot of each page."
            .to_owned(),
        "Envelope: DL (110 x 220 mm) with a window on the left (90 x 45 mm, 20 mm from the left and 15 mm from the bottom); fold in three at the marks in the left margin (105 and 210 mm) so that the address shows in the window.".to_owned(),
        format!("By country: {}", countries.join(", ")),
        format!(
            "People who needed a letter but have no postal address on record: {without_address} (not in this file; listed for the data protection officer)."
        ),
        String::new(),
        format!("When the batch is handed to the post, tell custody the time: custody notify letters {id} --posted-at TIME."),
    ]
}

/// The people who need a letter, are not told yet and have no postal address custody can use
/// (references): they must be told another way.
pub fn without_address(ledger: &Ledger, id: IncidentId) -> Result<Vec<String>> {
    let context = NoticeContext::build(ledger, id)?;
    let posted: PersonSet = ledger
        .store
        .notice_letters(id)?
        .into_iter()
        .filter(|row| row.posted_at.is_some())
        .map(|row| row.person)
        .collect();
    let people = default_people(ledger, &context, id)? - posted;
    let mut out = Vec::new();
    ledger.store.each_person(&people, &mut |person| {
        let usable = open_contact(ledger, &person)
            .map_err(|error| custody_store::Error::Aborted(Box::new(error)))?
            .and_then(|contact| contact.postal)
            .is_some_and(|postal| postal.is_usable());
        if !usable {
            out.push(person.reference.clone());
        }
        Ok(())
    })?;
    Ok(out)
}
