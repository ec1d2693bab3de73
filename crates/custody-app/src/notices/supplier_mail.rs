//! Mail to suppliers' contacts (beside the notices to people): what the organisation asks of a supplier, sent through the same
//! mail server as notices and kept as it was queued. A message names the desk's page to answer
//! at and carries nothing that grants access by itself: the contact signs in with their
//! supplier's account (or replies, and is given one).

use std::time::Duration;

use custody_core::{IncidentId, SupplierId};
use custody_mail::{Delivery, Job, Sender, SmtpConfig};
use custody_store::{MailAbout, OutboxUpdate, SupplierContact, SupplierMail, SupplierMailText};
use serde::Serialize;

use crate::breach::questions::QuestionAsked;
use crate::dir::Ledger;
use crate::error::{Error, Result};
use crate::notices::notify_run::{RunOptions, update};

/// Beyond the mail server's own timeouts, how long to wait for its answer to one message.
const ANSWER_MARGIN: Duration = Duration::from_secs(30);

/// What one sending did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MailSent {
    /// Accepted by the mail server.
    pub sent: usize,
    /// To be tried again later.
    pub retry: usize,
    /// Refused for good.
    pub failed: usize,
    /// Why the mail server could not be used, when it could not (what was claimed is queued
    /// again).
    pub unavailable: Option<String>,
}

/// The contacts with any of the `preferred` roles, or, when the supplier has none of those, all
/// of its contacts.
pub(crate) fn recipients<'a>(
    contacts: &'a [SupplierContact],
    preferred: &[custody_core::ContactRole],
) -> Vec<&'a SupplierContact> {
    let first: Vec<&SupplierContact> = contacts
        .iter()
        .filter(|contact| preferred.contains(&contact.role))
        .collect();
    if first.is_empty() {
        contacts.iter().collect()
    } else {
        first
    }
}

/// The contacts a question goes to: the supplier's security and data protection contacts, or,
/// when it has neither, its account contacts.
pub(crate) fn question_recipients(contacts: &[SupplierContact]) -> Vec<&SupplierContact> {
    use custody_core::ContactRole;
    recipients(contacts, &[ContactRole::Security, ContactRole::Dpo])
}

/// The letter asking `asked` of one contact.
fn question_text(
    ledger: &Ledger,
    id: IncidentId,
    contact: &SupplierContact,
    asked: &QuestionAsked,
) -> String {
    let settings = &ledger.settings;
    let page = format!("/supplier/incidents/{id}");
    let open = settings.desk.link(&page).map_or_else(
        || format!("on our custody desk, at the page {page}"),
        |link| format!("at {link}"),
    );
    let questions: String = asked
        .questions
        .iter()
        .enumerate()
        .map(|(index, question)| format!("{}. {question}\n", index + 1))
        .collect();
    format!(
        "Dear {name},\n\n\
         {organisation} is responding to incident {id} at {supplier}. As our processor you are to \
         tell us about a personal data breach without undue delay and to help us meet our own \
         duties to report it (UK GDPR and EU GDPR Articles 28(3)(f) and 33(2)). Please answer the \
         questions below by {due} ({zone}).\n\n\
         {questions}\n\
         Answer {open}, signed in with {supplier}'s custody account. The link does not sign you \
         in and grants nothing by itself. If you have no account, reply to this message and we \
         will give you one. A later answer may correct an earlier one; we keep each.\n\n\
         {dpo}\n{organisation}\n{dpo_email}\n",
        name = contact.name,
        organisation = settings.organisation,
        supplier = asked.supplier,
        due = asked.due_at.local(&ledger.zone),
        zone = ledger.zone.as_str(),
        dpo = settings.dpo.name,
        dpo_email = settings.dpo.email,
    )
}

/// A Message-ID for one message: random, so it says nothing and cannot be guessed.
fn message_id(about: &str, id: IncidentId, from: &str) -> Result<String> {
    message_id_for(about, &id.to_string(), from)
}

/// A Message-ID for one message about `what` (an incident's or requests' numbers).
pub(crate) fn message_id_for(about: &str, what: &str, from: &str) -> Result<String> {
    let mut random = [0_u8; 12];
    getrandom::fill(&mut random).map_err(|error| Error::Invalid(format!("no randomness: {error}")))?;
    let domain = from.rsplit_once('@').map_or("custody.invalid", |(_, domain)| {
        domain.trim_end_matches('>').trim()
    });
    Ok(format!(
        "<{about}.{what}.{}@{domain}>",
        custody_vault::hex(&random)
    ))
}

/// The messages asking `asked` on incident `id` of `recipients` at `supplier`, made before the
/// question is recorded (so nothing that can fail here is left after it).
pub(crate) fn question_mail(
    ledger: &Ledger,
    id: IncidentId,
    supplier: SupplierId,
    asked: &QuestionAsked,
    recipients: &[&SupplierContact],
) -> Result<Vec<SupplierMailText>> {
    let from = ledger.settings.dpo.email.clone();
    let subject = format!(
        "{}: questions about incident {id} at {}, answer by {}",
        ledger.settings.organisation,
        asked.supplier,
        asked.due_at.local(&ledger.zone)
    );
    recipients
        .iter()
        .map(|contact| {
            Ok(SupplierMailText {
                supplier,
                incident: Some(id),
                about: MailAbout::Question,
                recipient: contact.email.clone(),
                subject: subject.clone(),
                body: question_text(ledger, id, contact, asked),
                message_id: message_id("question", id, &from)?,
            })
        })
        .collect()
}

/// Queues `mail` about incident `id` (audited as one entry, which counts the messages but keeps
/// no address).
pub(crate) fn queue(
    ledger: &mut Ledger,
    id: IncidentId,
    supplier: &str,
    mail: &[SupplierMailText],
) -> Result<()> {
    queue_audited(ledger, &format!("incident:{id}"), "question", supplier, mail)
}

/// Queues `mail` with one audit entry on `subject`, which counts the messages and keeps no
/// address.
pub(crate) fn queue_audited(
    ledger: &mut Ledger,
    subject: &str,
    about: &str,
    supplier: &str,
    mail: &[SupplierMailText],
) -> Result<()> {
    if mail.is_empty() {
        return Ok(());
    }
    let draft = ledger.draft(
        "supplier.mail.queue",
        subject,
        serde_json::json!({ "about": about, "supplier": supplier, "messages": mail.len() }),
    );
    let now = ledger.now();
    let (store, signer) = ledger.store_and_signer();
    store.queue_supplier_mail(mail, now, draft, &signer)?;
    ledger.anchor_audit()
}

/// Messages to one supplier (or every supplier), newest first.
pub fn list(ledger: &Ledger, supplier: Option<SupplierId>) -> Result<Vec<SupplierMail>> {
    Ok(ledger.store.supplier_mail(supplier)?)
}

/// Sends every message to suppliers that is due through `config`, one claimed at a time (so a
/// run holds at most one message `sending`, and another run never finds a message this one
/// has yet to reach), and records each answer under this run's claim; audited as one entry
/// with its counts, whether or not it ended well.
pub fn send_due(ledger: &mut Ledger, config: SmtpConfig) -> Result<MailSent> {
    let from = config.from.clone();
    let reply_to = ledger.settings.dpo.email.clone();
    // The longest a message can take: connecting, then sending, each within the timeout.
    let wait = config.timeout.saturating_mul(2) + ANSWER_MARGIN;
    let sender = Sender::start(config, 1)?;
    let mut run = [0_u8; 8];
    getrandom::fill(&mut run).map_err(|error| Error::Invalid(format!("no randomness: {error}")))?;
    let run = i64::from_le_bytes(run);
    let mut sent = MailSent::default();
    let mut claimed = 0_usize;
    let outcome = (|| -> Result<()> {
        let options = RunOptions::default();
        while sent.unavailable.is_none() {
            let Some(mail) = ledger
                .store
                .claim_supplier_mail(run, ledger.now(), 1)?
                .into_iter()
                .next()
            else {
                break;
            };
            claimed += 1;
            let delivery = deliver(
                &sender,
                (&from, &reply_to),
                &mail,
                ledger.now().unix_seconds(),
                wait,
            );
            if let Delivery::Unavailable(reason) = &delivery {
                sent.unavailable = Some(reason.clone());
            }
            let next = update(ledger, &options, mail.attempts.saturating_add(1), delivery);
            match &next {
                OutboxUpdate::Sent(..) => sent.sent += 1,
                OutboxUpdate::Retry(..) => sent.retry += 1,
                OutboxUpdate::Failed(_) => sent.failed += 1,
                OutboxUpdate::Requeue => {}
            }
            ledger.store.record_supplier_mail(run, mail.id, &next)?;
        }
        Ok(())
    })();
    sender.finish();
    if claimed > 0 {
        ledger.audit_only(
            "supplier.mail.send",
            "supplier-mail",
            serde_json::json!({
                "claimed": claimed, "sent": sent.sent, "retry": sent.retry, "failed": sent.failed,
                "unavailable": sent.unavailable.is_some(), "completed": outcome.is_ok(),
            }),
        )?;
    }
    outcome.map(|()| sent)
}

/// Hands one message to the mail server and waits up to `wait` for its answer (an answer for
/// another message, late from an earlier wait, is not this one's).
fn deliver(
    sender: &Sender,
    (from, reply_to): (&str, &str),
    mail: &SupplierMail,
    now: i64,
    wait: Duration,
) -> Delivery {
    let built = custody_mail::build_text(
        custody_mail::TextMessage {
            from,
            reply_to,
            to: &mail.mail.recipient,
            subject: &mail.mail.subject,
            text: &mail.mail.body,
            message_id: &mail.mail.message_id,
        },
        now,
    );
    let (envelope, bytes) = match built {
        Ok(built) => built,
        Err(error) => return Delivery::Permanent(error.to_string()),
    };
    let job = Job {
        id: mail.id.get(),
        envelope,
        bytes,
    };
    if let Err(error) = sender.submit(job) {
        return Delivery::Unavailable(error.to_string());
    }
    let deadline = std::time::Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Delivery::Temporary("no answer in time".to_owned());
        }
        match sender.next_outcome(left) {
            Ok(Some(outcome)) if outcome.id == mail.id.get() => return outcome.delivery,
            Ok(Some(_)) => {}
            Ok(None) => return Delivery::Temporary("no answer in time".to_owned()),
            Err(error) => return Delivery::Unavailable(error.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use custody_core::{ContactRole, Instant};

    fn contact(email: &str, role: ContactRole) -> SupplierContact {
        SupplierContact {
            supplier: SupplierId::new(1),
            name: "Sam".to_owned(),
            email: email.to_owned(),
            role,
            added_at: Instant::from_unix_seconds(0).unwrap(),
        }
    }

    #[test]
    fn questions_go_to_security_and_dpo_contacts_before_the_account_manager() {
        let account = contact("account@s.example", ContactRole::Account);
        let security = contact("security@s.example", ContactRole::Security);
        let dpo = contact("dpo@s.example", ContactRole::Dpo);
        let all = [account.clone(), security, dpo];
        let to: Vec<&str> = question_recipients(&all)
            .iter()
            .map(|c| c.email.as_str())
            .collect();
        assert_eq!(to, ["security@s.example", "dpo@s.example"]);
        let only = [account];
        let to: Vec<&str> = question_recipients(&only)
            .iter()
            .map(|c| c.email.as_str())
            .collect();
        assert_eq!(to, ["account@s.example"]);
    }
}
