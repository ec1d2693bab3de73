//! Word of new instructions to a supplier's contacts: what to do for people's requests and by
//! which day, never whom (which only the supplier's own account sees at the desk).

use custody_core::{ContactRole, RequestId, SupplierId};
use custody_store::{MailAbout, SupplierMailText};

use crate::dir::Ledger;
use crate::error::Result;
use crate::notices::supplier_mail::{message_id_for, queue_audited, recipients};
use crate::rights::request_events::{RequestEventBody, decode_all};

/// An instruction for the mail: the request, what to do, and by which day.
struct Instructed {
    request: RequestId,
    words: &'static str,
    due: String,
}

/// Queues word of the instructions each request made after its first `before` instructions
/// (those just recorded): one message per contact of each supplier instructed, listing all of
/// its new instructions (an imported backlog is one message, not one per request).
pub(crate) fn queue_new(ledger: &mut Ledger, requests: &[(RequestId, usize)]) -> Result<()> {
    let holidays = crate::rights::holidays::for_ledger(ledger)?;
    let mut by_supplier: Vec<(SupplierId, Vec<Instructed>)> = Vec::new();
    for &(id, before) in requests {
        let events = ledger.store.request_events(id)?;
        let instructs: Vec<_> = decode_all(&events)?
            .into_iter()
            .filter_map(|(_, body)| match body {
                RequestEventBody::Instruct(instruct) => Some(instruct),
                _ => None,
            })
            .skip(before)
            .collect();
        if instructs.is_empty() {
            continue;
        }
        let record = crate::rights::requests::find_request(ledger, id)?;
        let due = crate::rights::request_views::summary(ledger, &record, &events, &holidays)?.due;
        for instruct in instructs {
            let one = Instructed {
                request: id,
                words: instruct.action.words(),
                due: due.clone(),
            };
            match by_supplier
                .iter_mut()
                .find(|(supplier, _)| *supplier == instruct.supplier_id)
            {
                Some((_, list)) => list.push(one),
                None => by_supplier.push((instruct.supplier_id, vec![one])),
            }
        }
    }
    for (supplier, instructed) in by_supplier {
        queue_for(ledger, supplier, &instructed)?;
    }
    Ok(())
}

/// [`queue_new`] after the requests were recorded: a failure says that they were, so the user
/// does not record them again, and how to send the word later.
pub(crate) fn queue_recorded(ledger: &mut Ledger, requests: &[(RequestId, usize)]) -> Result<()> {
    queue_new(ledger, requests).map_err(|error| {
        crate::error::Error::Invalid(format!(
            "the request is recorded and its suppliers instructed (see custody request show), but the \
             mail telling their contacts could not be queued: {error}"
        ))
    })
}

/// How many instructions request `id` has made so far.
pub(crate) fn count(ledger: &Ledger, id: RequestId) -> Result<usize> {
    Ok(decode_all(&ledger.store.request_events(id)?)?
        .into_iter()
        .filter(|(_, body)| matches!(body, RequestEventBody::Instruct(_)))
        .count())
}

fn queue_for(ledger: &mut Ledger, supplier: SupplierId, instructed: &[Instructed]) -> Result<()> {
    let name =
        crate::ledger::suppliers::by_id(ledger, supplier, "an instructed supplier is no longer registered")?
            .name;
    let contacts = ledger.store.supplier_contacts(supplier)?;
    let settings = &ledger.settings;
    let open = settings.desk.link("/supplier").map_or_else(
        || "on our custody desk, at the page /supplier".to_owned(),
        |link| format!("at {link}"),
    );
    let lines: String = instructed
        .iter()
        .map(|one| {
            format!(
                "- request {}: {} of one person, by {}\n",
                one.request, one.words, one.due
            )
        })
        .collect();
    let numbers: Vec<String> = instructed.iter().map(|one| one.request.to_string()).collect();
    // The first request and how many: a backlog's Message-ID stays short.
    let batch = format!(
        "{}x{}",
        numbers.first().map_or("0", String::as_str),
        numbers.len()
    );
    let subject = format!(
        "{}: {} instruction(s) for {name} under our data processing agreement",
        settings.organisation,
        instructed.len()
    );
    let mut mail = Vec::new();
    // Its data protection and account contacts, or its others when it has neither.
    for contact in recipients(&contacts, &[ContactRole::Dpo, ContactRole::Account]) {
        let body = format!(
            "Dear {contact_name},\n\n\
             {organisation} instructs {name}, as its processor, to act on people's requests about \
             their data (UK GDPR and EU GDPR Articles 19 and 28(3)(e)):\n\n\
             {lines}\n\
             Whom each concerns is shown only {open}, signed in with {name}'s custody account: this \
             message carries none of their data, and the link grants nothing by itself. Confirm \
             there when each is done (for an erasure, with the day your backups no longer hold \
             the data). If you have no account, reply to this message.\n\n\
             {dpo}\n{organisation}\n{dpo_email}\n",
            contact_name = contact.name,
            organisation = settings.organisation,
            dpo = settings.dpo.name,
            dpo_email = settings.dpo.email,
        );
        mail.push(SupplierMailText {
            supplier,
            incident: None,
            about: MailAbout::Instruction,
            recipient: contact.email.clone(),
            subject: subject.clone(),
            body,
            message_id: message_id_for("instruction", &batch, &settings.dpo.email)?,
        });
    }
    let subject = match numbers.as_slice() {
        [one] => format!("request:{one}"),
        _ => "requests".to_owned(),
    };
    queue_audited(ledger, &subject, "instruction", &name, &mail)
}
