//! "Delete this share": the organisation asks the supplier that holds a share to delete its
//! data and every copy by a day (UK GDPR and EU GDPR Art. 28(3)(g): at the end of the service,
//! or when its retention ends), its contacts are told (never whom the share held), the request
//! is listed on its side of the desk, and its own account confirms, with an optional note and
//! the day its backups no longer hold the data; the confirmation is the share's deletion,
//! recorded with the supplier's account as the actor.

use custody_core::{ContactRole, Instant, ShareId, SupplierId};
use custody_store::{DeletionRequest, MailAbout, SupplierMailText};
use serde::Serialize;

use crate::dir::Ledger;
use crate::error::{Error, Result};
use crate::notices::supplier_mail::{message_id_for, queue_audited, recipients};

/// Days a supplier is given by default: the period data processing agreements commonly set for
/// deletion or return at the end of the service.
pub const DEFAULT_DAYS: i64 = 30;
/// The latest a request may be due.
const DAYS_MAX: i64 = 366;

/// A deletion request as the desk and the command line show it.
#[derive(Debug, Clone, Serialize)]
pub struct DeletionView {
    /// The request.
    #[serde(flatten)]
    pub request: DeletionRequest,
    /// The supplier's name.
    pub supplier_name: String,
    /// Not confirmed, and its day has passed.
    pub overdue: bool,
}

/// What asking did.
#[derive(Debug, Clone, Serialize)]
pub struct Asked {
    /// The share.
    pub share: ShareId,
    /// Its supplier.
    pub supplier: String,
    /// By when.
    pub due_at: Instant,
    /// Messages queued to its contacts (none when it has no contacts).
    pub messages: usize,
}

/// Asks the holder of `share` to delete it by `due_at` (default: [`DEFAULT_DAYS`] from now),
/// for `reason`; audited, and word queued to its contacts.
pub fn ask(
    ledger: &mut Ledger,
    share: ShareId,
    due_at: Option<Instant>,
    reason: Option<String>,
) -> Result<Asked> {
    let record = ledger.store.share(share)?.ok_or_else(|| {
        Error::NotFound(format!(
            "there is no share {share}; `custody share list` shows them"
        ))
    })?;
    if let Some(at) = record.meta.deleted_at {
        return Err(Error::Invalid(format!(
            "share {share} was confirmed deleted already, at {at}"
        )));
    }
    let now = ledger.now();
    let due_at = due_at.unwrap_or_else(|| now.plus_hours(DEFAULT_DAYS * 24));
    if due_at <= now {
        return Err(Error::Invalid(format!(
            "--by {due_at} has passed: a supplier needs time to delete"
        )));
    }
    if due_at > now.plus_hours(DAYS_MAX * 24) {
        return Err(Error::Invalid(format!("--by {due_at} is more than a year away")));
    }
    let reason = reason
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty())
        .unwrap_or_else(|| "the data is no longer needed for the purpose it was shared for".to_owned());
    if reason.chars().count() > 500 {
        return Err(Error::Invalid(
            "--reason is longer than 500 characters".to_owned(),
        ));
    }
    let draft = ledger.draft(
        "share.deletion_asked",
        &format!("share:{share}"),
        serde_json::json!({ "due_at": due_at.to_rfc3339(), "reason": reason }),
    );
    let (store, signer) = ledger.store_and_signer();
    store.ask_deletion(share, now, due_at, &reason, draft, &signer)?;
    ledger.anchor_audit()?;
    let mail = mail(ledger, &record, due_at, &reason)?;
    let messages = mail.len();
    queue_audited(
        ledger,
        &format!("share:{share}"),
        "deletion",
        &record.supplier,
        &mail,
    )
    .map_err(|error| {
        Error::Invalid(format!(
            "the deletion of share {share} is asked for (see custody share deletions), but the mail telling \
             {}'s contacts could not be queued: {error}",
            record.supplier
        ))
    })?;
    Ok(Asked {
        share,
        supplier: record.supplier,
        due_at,
        messages,
    })
}

/// Queues the word of an open deletion request again (when queueing it failed, or the supplier's
/// contacts changed); audited as mail to the supplier.
pub fn resend(ledger: &mut Ledger, share: ShareId) -> Result<Asked> {
    let request = ledger
        .store
        .deletion_requests(None)?
        .into_iter()
        .find(|request| request.share == share)
        .ok_or_else(|| Error::NotFound(format!("the deletion of share {share} was not asked for")))?;
    if request.deleted_at.is_some() {
        return Err(Error::Invalid(format!(
            "share {share} was confirmed deleted already"
        )));
    }
    let record = ledger
        .store
        .share(share)?
        .ok_or_else(|| Error::NotFound(format!("there is no share {share}")))?;
    let mail = mail(ledger, &record, request.due_at, &request.reason)?;
    let messages = mail.len();
    queue_audited(
        ledger,
        &format!("share:{share}"),
        "deletion",
        &record.supplier,
        &mail,
    )?;
    Ok(Asked {
        share,
        supplier: record.supplier,
        due_at: request.due_at,
        messages,
    })
}

/// The messages to the share's supplier's data protection and account contacts (or its others).
fn mail(
    ledger: &Ledger,
    record: &custody_store::ShareRecord,
    due_at: Instant,
    reason: &str,
) -> Result<Vec<SupplierMailText>> {
    let supplier = record.meta.supplier_id;
    let contacts = ledger.store.supplier_contacts(supplier)?;
    let settings = &ledger.settings;
    let share = record.meta.id;
    let open = settings.desk.link("/supplier").map_or_else(
        || "on our custody desk, at the page /supplier".to_owned(),
        |link| format!("at {link}"),
    );
    let subject = format!(
        "{}: please delete the data of share {share} by {}",
        settings.organisation,
        due_at.local(&ledger.zone)
    );
    let mut out = Vec::new();
    for contact in recipients(&contacts, &[ContactRole::Dpo, ContactRole::Account]) {
        let body = format!(
            "Dear {contact_name},\n\n\
             {organisation} instructs {name}, as its processor, to delete the personal data it \
             received from us in share {share} (sent {sent}, for {purpose}), with every copy, by \
             {due} ({zone}): {reason}. Our data processing agreement and UK GDPR and EU GDPR \
             Article 28(3)(g) ask this of a processor.\n\n\
             Confirm it {open}, signed in with {name}'s custody account, with the day your backups \
             no longer hold the data. The link grants nothing by itself. If you have no account, \
             reply to this message.\n\n\
             {dpo}\n{organisation}\n{dpo_email}\n",
            contact_name = contact.name,
            organisation = settings.organisation,
            name = record.supplier,
            sent = record.meta.shared_at.local(&ledger.zone),
            purpose = record.purpose,
            due = due_at.local(&ledger.zone),
            zone = ledger.zone.as_str(),
            dpo = settings.dpo.name,
            dpo_email = settings.dpo.email,
        );
        out.push(SupplierMailText {
            supplier,
            incident: None,
            about: MailAbout::Instruction,
            recipient: contact.email.clone(),
            subject: subject.clone(),
            body,
            message_id: message_id_for("deletion", &share.to_string(), &settings.dpo.email)?,
        });
    }
    Ok(out)
}

/// The deletion requests to `suppliers` (all when `None`), open ones first, each with its
/// supplier's name and whether it is overdue.
pub fn list(ledger: &Ledger, suppliers: Option<&[SupplierId]>) -> Result<Vec<DeletionView>> {
    let all = ledger.store.suppliers()?;
    let now = ledger.now();
    let mut out: Vec<DeletionView> = ledger
        .store
        .deletion_requests(suppliers)?
        .into_iter()
        .map(|request| DeletionView {
            supplier_name: all
                .iter()
                .find(|supplier| supplier.id == request.supplier)
                .map(|supplier| supplier.name.clone())
                .unwrap_or_default(),
            overdue: request.deleted_at.is_none() && request.due_at < now,
            request,
        })
        .collect();
    out.sort_by_key(|view| view.request.deleted_at.is_some());
    Ok(out)
}

/// The supplier `supplier` (the one the caller is bound to) confirms it deleted `share`, now,
/// with an optional note and the instant its backups no longer hold the data; recorded as the
/// share's deletion with its account as the actor (audited). A share it was not asked to delete
/// is not found.
pub fn confirm(
    ledger: &mut Ledger,
    supplier: SupplierId,
    share: ShareId,
    note: Option<String>,
    backups_until: Option<Instant>,
) -> Result<()> {
    let asked = ledger
        .store
        .deletion_requests(Some(&[supplier]))?
        .into_iter()
        .any(|request| request.share == share);
    if !asked {
        return Err(Error::NotFound(format!(
            "you were not asked to delete share {share}"
        )));
    }
    let note = note
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty());
    if note.as_ref().is_some_and(|text| text.chars().count() > 200) {
        return Err(Error::Invalid(
            "the note is longer than 200 characters".to_owned(),
        ));
    }
    let now = ledger.now();
    if backups_until.is_some_and(|until| until < now) {
        return Err(Error::Invalid(
            "backups_until has passed: give the day your backups will no longer hold the data, or leave it out if they no longer do".to_owned(),
        ));
    }
    crate::ledger::shares::confirm_deletion(ledger, share, now, backups_until, note.as_deref())
}
