//! Telling people (UK/EU GDPR Art. 34): the audience, one message per address (people who share
//! an address get one message that covers each of them), queued into the durable outbox; the
//! people without an address listed for a letter; canaries never mailed. Sending is
//! `notify_run`; what a notice says is `notice_model`.

use custody_core::IncidentId;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use custody_core::{IdentifierKind, PersonSet, normalise_email};
use custody_ingest::{Table, TableOptions};
use custody_store::{NewOutboxMessage, PersonRecord};

use crate::breach::incident_events::{IncidentEventBody, NotifyRun};
use crate::dir::{Ledger, signer_for};
use crate::error::{Error, Result};
use crate::ledger::people::Contact;
use crate::notices::notice_model::NoticeContext;

/// Who is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Everyone the supplier held over the incident's window (canaries never).
    Affected,
    /// Everyone current, held or not (each is told what, if anything, was held).
    AllCurrent,
    /// The references listed in a file (a column named ref or reference).
    File(PathBuf),
}

impl Audience {
    /// `affected`, `all-current`, or a file's path.
    pub fn parse(text: &str) -> Self {
        match text {
            "affected" => Audience::Affected,
            "all-current" => Audience::AllCurrent,
            path => Audience::File(PathBuf::from(path)),
        }
    }

    pub(crate) fn name(&self) -> String {
        match self {
            Audience::Affected => "affected".to_owned(),
            Audience::AllCurrent => "all-current".to_owned(),
            Audience::File(path) => format!("file {}", crate::ledger::people::file_name(path)),
        }
    }
}

/// What queueing found and did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Queued {
    /// The audience.
    pub audience: String,
    /// People in it (canaries left out).
    pub people: u64,
    /// Messages it makes (one per address).
    pub messages: u64,
    /// Messages newly queued.
    pub added: u64,
    /// Unsent messages extended to people who joined their address.
    pub extended: u64,
    /// Messages queued by an earlier run that already covered everyone.
    pub already_queued: u64,
    /// People who share an address with someone else in the audience.
    pub sharing_an_address: u64,
    /// Canaries left out.
    pub canaries_left_out: u64,
    /// References of people without an email address, for a letter.
    pub letters: Vec<String>,
}

/// Opens a person's sealed contact details.
pub(crate) fn open_contact(ledger: &Ledger, person: &PersonRecord) -> Result<Option<Contact>> {
    let Some(sealed) = &person.contact else {
        return Ok(None);
    };
    let bytes = ledger.vault.open(sealed, person.reference.as_bytes())?;
    crate::ledger::contact_codec::decode(&bytes)
        .map(Some)
        .map_err(|error| Error::Invalid(format!("sealed contact details: {error}")))
}

/// The people of an audience, canaries left out; and how many canaries were.
pub fn audience_people(
    ledger: &Ledger,
    context: &NoticeContext,
    audience: &Audience,
) -> Result<(PersonSet, u64)> {
    let canaries = ledger.store.canaries()?;
    let people = match audience {
        Audience::Affected => context.affected.clone(),
        Audience::AllCurrent => {
            let mut all = PersonSet::new();
            for category in custody_core::PersonCategory::ALL {
                all |= ledger.store.category_people(*category)?;
            }
            all - ledger.store.former_people()?
        }
        Audience::File(path) => people_in_file(ledger, path)?,
    };
    let left_out = match audience {
        Audience::Affected => context.canaries_held,
        _ => people.intersection_len(&canaries),
    };
    Ok((people - canaries, left_out))
}

/// The people a file lists by reference; an unknown reference is an error naming its line.
fn people_in_file(ledger: &Ledger, path: &Path) -> Result<PersonSet> {
    let mut table = Table::open(path, TableOptions::default())?;
    let file = table.file().to_owned();
    let column = table
        .headers()
        .iter()
        .position(|header| {
            let key: String = header.chars().filter(char::is_ascii_alphanumeric).collect();
            matches!(
                key.to_ascii_lowercase().as_str(),
                "ref" | "reference" | "personref"
            )
        })
        .ok_or_else(|| {
            Error::from(custody_ingest::Error::at(
                &file,
                Some(1),
                None,
                "no ref column; expected a header named ref",
            ))
        })?;
    let mut set = PersonSet::new();
    let mut record = csv::StringRecord::new();
    while let Some(line) = table.next_row(&mut record)? {
        let reference = record.get(column).unwrap_or_default().trim();
        let header = format!("ref ({})", column + 1);
        let id = ledger.store.person_id_by_ref(reference)?.ok_or_else(|| {
            Error::from(custody_ingest::Error::at(
                &file,
                Some(line),
                Some(header),
                format!("no person has the reference {reference:?}"),
            ))
        })?;
        set.insert(id);
    }
    Ok(set)
}

/// A random part for this queueing's Message-IDs: with the incident and a counter, each id is
/// unique, says nothing about the person, and stays the same whenever the notice is sent again.
fn message_id_prefix(incident: IncidentId) -> Result<String> {
    let mut random = [0_u8; 12];
    getrandom::fill(&mut random).map_err(|error| Error::Invalid(format!("no randomness: {error}")))?;
    Ok(format!("notice.{incident}.{}", custody_vault::hex(&random)))
}

/// An address's keyed hash, the address, and the people who share it.
type Group = ([u8; 16], (String, Vec<u32>));

/// Groups the audience by address and queues one message per address (all in one transaction).
pub fn queue(
    ledger: &mut Ledger,
    context: &NoticeContext,
    audience: &Audience,
    dry_run: bool,
) -> Result<Queued> {
    let (people, canaries_left_out) = audience_people(ledger, context, audience)?;
    // People come in id order; an address's group keeps the place of its first person, so the
    // messages a run claims together have people close together in the ledger.
    let mut index: HashMap<[u8; 16], usize> = HashMap::new();
    let mut groups: Vec<Group> = Vec::new();
    let mut letters = Vec::new();
    let mut letter_ids = Vec::new();
    ledger.store.each_person(&people, &mut |person| {
        let address = open_contact(ledger, &person)
            .map_err(|error| custody_store::Error::Aborted(Box::new(error)))?
            .and_then(|contact| contact.email)
            .and_then(|email| normalise_email(&email));
        match address {
            Some(address) => {
                let hash = ledger
                    .vault
                    .identifier_hash(IdentifierKind::EmailStrict.tag(), &address);
                match index.get(&hash) {
                    Some(&at) => {
                        if let Some((_, (_, ids))) = groups.get_mut(at) {
                            ids.push(person.id);
                        }
                    }
                    None => {
                        index.insert(hash, groups.len());
                        groups.push((hash, (address, vec![person.id])));
                    }
                }
            }
            None => {
                letter_ids.push(person.id);
                letters.push(person.reference);
            }
        }
        Ok(())
    })?;
    let mut queued = Queued {
        audience: audience.name(),
        people: people.len(),
        messages: groups.len() as u64,
        sharing_an_address: groups
            .iter()
            .filter(|(_, (_, ids))| ids.len() > 1)
            .map(|(_, (_, ids))| ids.len() as u64)
            .sum(),
        canaries_left_out,
        letters,
        ..Queued::default()
    };
    if dry_run {
        return Ok(queued);
    }
    let domain = ledger
        .settings
        .dpo
        .email
        .rsplit_once('@')
        .map_or("custody.invalid".to_owned(), |(_, domain)| domain.to_owned());
    drop(index);
    let mut messages = Vec::with_capacity(groups.len());
    let mut sealer = ledger.vault.sealer();
    let prefix = message_id_prefix(context.incident)?;
    for (index, (hash, (address, ids))) in groups.into_iter().enumerate() {
        let message_id = format!("<{prefix}.{index}@{domain}>");
        messages.push(NewOutboxMessage {
            address_hash: hash,
            recipient: sealer.seal(address.as_bytes(), message_id.as_bytes())?,
            people: ids,
            message_id,
        });
    }
    let draft = ledger.draft(
        "notice.queue",
        "incident",
        serde_json::json!({ "audience": queued.audience, "people": queued.people, "messages": queued.messages,
            "letters": queued.letters.len() }),
    );
    let now = ledger.now();
    let counts = ledger.store.enqueue_notices(
        context.incident,
        &mut messages.into_iter(),
        &letter_ids,
        now,
        draft,
        &signer_for(&ledger.vault, &ledger.dir),
    )?;
    ledger.anchor_audit()?;
    queued.added = counts.added;
    queued.extended = counts.extended;
    queued.already_queued = counts.unchanged;
    Ok(queued)
}

/// How `custody notify` runs.
#[derive(Debug, Clone)]
pub struct NotifyOptions {
    /// Who is told.
    pub audience: Audience,
    /// Count and check, queue nothing, send nothing.
    pub dry_run: bool,
    /// How to send.
    pub run: crate::notices::notify_run::RunOptions,
}

/// What `custody notify` did.
#[derive(Debug, Clone, Serialize)]
pub struct NotifyReport {
    /// Queueing.
    pub queued: Queued,
    /// Sending (not on a dry run).
    pub run: Option<crate::notices::notify_run::RunReport>,
}

/// Queues the notices of an incident and sends every one not yet accepted; the run is on the
/// timeline and in the audit log, and once nothing is left to send, "people notified" is
/// recorded at the last acceptance (the incident's people clock).
pub fn notify(
    ledger: &mut Ledger,
    id: IncidentId,
    options: &NotifyOptions,
    config: Option<custody_mail::SmtpConfig>,
    progress: &mut dyn FnMut(&crate::notices::notify_run::Progress),
) -> Result<NotifyReport> {
    let context = NoticeContext::build(ledger, id)?;
    if options.dry_run {
        let queued = queue(ledger, &context, &options.audience, true)?;
        return Ok(NotifyReport { queued, run: None });
    }
    let config = config.ok_or_else(|| {
        Error::Invalid(
            "no mail server is configured: set [smtp] in settings.toml or CUSTODY_SMTP_HOST (and the other \
             CUSTODY_SMTP_* variables)"
                .to_owned(),
        )
    })?;
    // One run at a time, unless the store keeps runs apart: a second would take the first one's
    // notices for stale ones.
    let _lock = if ledger.store.runs_may_overlap() {
        None
    } else {
        Some(one_run_at_a_time(ledger)?)
    };
    // A template that cannot render, the general one or a place's, stops the run before
    // anything is queued.
    let templates = custody_mail::Templates::load(Some(&ledger.dir.join("templates")))?;
    context.model(Vec::new()).render(&templates)?;
    for place in &templates.places {
        let (country, region) = match place.split_once('-') {
            Some((country, _)) => (Some(country.to_owned()), Some(place.clone())),
            None => (Some(place.clone()), None),
        };
        context.model_in(Vec::new(), country, region).render(&templates)?;
    }
    custody_mail::Sender::check(&config)?;
    let queued = queue(ledger, &context, &options.audience, false)?;
    let now = ledger.now();
    let start = NotifyRun::Start {
        audience: queued.audience.clone(),
        people: queued.people,
        messages: queued.messages,
        added: queued.added,
        extended: queued.extended,
        letters: queued.letters.len() as u64,
    };
    let run = crate::breach::incidents::append(ledger, id, now, &IncidentEventBody::Notify(start))?;
    let progress =
        match crate::notices::notify_run::send(ledger, &context, run, config, &options.run, progress) {
            Ok(progress) => progress,
            Err(error) => {
                // The run is on the timeline with how it ended, then the error is reported.
                let now = ledger.now();
                let stopped = NotifyRun::End {
                    run,
                    sent: None,
                    failed: None,
                    waiting: None,
                    error: Some(error.to_string()),
                };
                let _ =
                    crate::breach::incidents::append(ledger, id, now, &IncidentEventBody::Notify(stopped));
                return Err(error);
            }
        };
    let outbox = crate::notices::notify_run::outbox_counts(ledger, id)?;
    let waiting = ["queued", "sending", "retry"]
        .iter()
        .map(|state| outbox.get(state).copied().unwrap_or(0))
        .sum::<u64>();
    let now = ledger.now();
    let ended = NotifyRun::End {
        run,
        sent: Some(progress.sent),
        failed: Some(progress.failed),
        waiting: Some(waiting),
        error: None,
    };
    crate::breach::incidents::append(ledger, id, now, &IncidentEventBody::Notify(ended))?;
    let sent = outbox.get("sent").copied().unwrap_or(0);
    // "People notified" is recorded once everyone affected is told (by email, or by a letter
    // posted), at the last of those instants; otherwise the reason is reported and the clock
    // keeps running.
    // Whom the incident affects now (a holdings import during a long run may have grown it).
    let affected = NoticeContext::build(ledger, id)?.affected;
    let not_recorded = crate::notices::coverage::record_if_everyone_told(
        ledger,
        id,
        &affected,
        format!(
            "notification run {run}: {sent} messages accepted, {} letters to send",
            queued.letters.len()
        ),
    )?;
    let people_notified_recorded = not_recorded.is_none();
    Ok(NotifyReport {
        queued,
        run: Some(crate::notices::notify_run::RunReport {
            run,
            progress,
            outbox,
            people_notified_recorded,
            people_notified_not_recorded: not_recorded.filter(|_| !people_notified_recorded),
        }),
    })
}

/// A notice that failed, for the status.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    /// The people it covered.
    pub refs: Vec<String>,
    /// Attempts made.
    pub attempts: u32,
    /// The server's reply.
    pub reply: Option<String>,
}

/// The outbox of an incident: counts per state, the failures, and who needs a letter.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// Counts per state (`queued`, `sending`, `sent`, `failed`, `retry`).
    #[serde(flatten)]
    pub counts: std::collections::BTreeMap<&'static str, u64>,
    /// Failed notices (the first 100).
    pub failures: Vec<Failure>,
    /// People who need a letter (no usable email address), by reference.
    pub letters: Vec<String>,
    /// Of them, those whose letter was printed (`custody notify letters ID --out …`).
    pub letters_printed: u64,
    /// Of them, those whose letter was recorded as posted (they count as told).
    pub letters_posted: u64,
}

/// The status of an incident's notices.
pub fn status(ledger: &Ledger, id: IncidentId) -> Result<Status> {
    crate::breach::incidents::find_incident(ledger, id)?;
    let mut failures = Vec::new();
    for message in ledger
        .store
        .outbox_in_state(id, custody_store::OutboxState::Failed, 100)?
    {
        let mut refs = Vec::new();
        for person in &message.people {
            if let Some(record) = ledger.store.person(*person)? {
                refs.push(record.reference);
            }
        }
        failures.push(Failure {
            refs,
            attempts: message.attempts,
            reply: message.reply,
        });
    }
    let mut letters = Vec::new();
    let (mut letters_printed, mut letters_posted) = (0, 0);
    for letter in ledger.store.notice_letters(id)? {
        letters_printed += u64::from(letter.printed_at.is_some());
        letters_posted += u64::from(letter.posted_at.is_some());
        if let Some(record) = ledger.store.person(letter.person)? {
            letters.push(record.reference);
        }
    }
    Ok(Status {
        counts: crate::notices::notify_run::outbox_counts(ledger, id)?,
        failures,
        letters,
        letters_printed,
        letters_posted,
    })
}

/// The notice one person (by reference; by default the first affected person with an address)
/// would receive: subject, text and HTML. Audited, as it shows a person's details.
pub fn preview(
    ledger: &mut Ledger,
    id: IncidentId,
    reference: Option<&str>,
) -> Result<(String, custody_mail::NoticeText)> {
    let context = NoticeContext::build(ledger, id)?;
    let person = match reference {
        Some(reference) => ledger
            .store
            .person_by_ref(reference.trim())?
            .ok_or_else(|| Error::NotFound(format!("there is no person with the reference {reference:?}")))?,
        None => {
            let mut found = None;
            let (people, _) = audience_people(ledger, &context, &Audience::Affected)?;
            for candidate in people.iter().take(10_000) {
                if let Some(person) = ledger.store.person(candidate)?
                    && open_contact(ledger, &person)?.is_some_and(|contact| contact.email.is_some())
                {
                    found = Some(person);
                    break;
                }
            }
            found.ok_or_else(|| Error::NotFound("no affected person has an email address".to_owned()))?
        }
    };
    let contact = open_contact(ledger, &person)?;
    let part = context.person_part(&person, contact.as_ref().and_then(|c| c.first_name.clone()));
    let templates = custody_mail::Templates::load(Some(&ledger.dir.join("templates")))?;
    let text = context.model(vec![part]).render(&templates)?;
    ledger.audit_only(
        "notice.preview",
        &format!("incident:{id}"),
        serde_json::json!({ "person": person.reference }),
    )?;
    Ok((person.reference, text))
}

/// The public statement for the website, from the same facts (no personal data).
pub fn public_statement(ledger: &Ledger, id: IncidentId, html: bool) -> Result<String> {
    let context = NoticeContext::build(ledger, id)?;
    let templates = custody_mail::Templates::load(Some(&ledger.dir.join("templates")))?;
    Ok(templates.public(&context.public_model(ledger)?, html)?)
}

/// Holds the data directory's notification lock, or says that another run holds it.
pub(crate) fn one_run_at_a_time(ledger: &Ledger) -> Result<std::fs::File> {
    let lock_path = ledger.dir.join("notify.lock");
    let lock = std::fs::File::create(&lock_path).map_err(|source| Error::io(&lock_path, source))?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::Invalid(
            "another notification run is in progress for this data directory; wait for it to finish"
                .to_owned(),
        )),
        Err(std::fs::TryLockError::Error(source)) => Err(Error::io(&lock_path, source)),
    }
}
