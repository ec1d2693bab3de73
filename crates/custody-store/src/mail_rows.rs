//! What both stores share about messages to suppliers: the columns read back, how a row becomes
//! a message, and what an answer from the mail server writes.

use custody_core::{IncidentId, Instant, MailId, SupplierId};

use crate::error::{Error, Result};
use crate::types::{MailAbout, OutboxState, OutboxUpdate, SupplierMail, SupplierMailText};

/// The columns every read takes, in this order.
pub(crate) const COLUMNS: &str = "id, supplier, incident, about, recipient, subject, body, message_id, \
     state, attempts, reply, queued_at, sent_at";

/// A claim left `sending` this long belonged to a run that ended before recording the answer.
pub(crate) const STALE_CLAIM_SECONDS: i64 = 600;

/// One row as read, in [`COLUMNS`]' order.
pub(crate) struct MailRow {
    pub id: i64,
    pub supplier: i64,
    pub incident: Option<i64>,
    pub about: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub message_id: String,
    pub state: String,
    pub attempts: i64,
    pub reply: Option<String>,
    pub queued_at: i64,
    pub sent_at: Option<i64>,
}

impl MailRow {
    /// The message the row holds.
    pub(crate) fn into_mail(self) -> Result<SupplierMail> {
        let corrupt = |what: String| Error::Corrupt(format!("supplier mail {}: {what}", self.id));
        let instant =
            |seconds: i64| Instant::from_unix_seconds(seconds).map_err(|error| corrupt(error.to_string()));
        Ok(SupplierMail {
            id: MailId::new(self.id),
            mail: SupplierMailText {
                supplier: SupplierId::new(self.supplier),
                incident: self.incident.map(IncidentId::new),
                about: MailAbout::parse(&self.about)
                    .ok_or_else(|| corrupt(format!("about {:?}", self.about)))?,
                recipient: self.recipient.clone(),
                subject: self.subject.clone(),
                body: self.body.clone(),
                message_id: self.message_id.clone(),
            },
            state: OutboxState::parse(&self.state)
                .ok_or_else(|| corrupt(format!("state {:?}", self.state)))?,
            attempts: u32::try_from(self.attempts).unwrap_or(u32::MAX),
            reply: self.reply.clone(),
            queued_at: instant(self.queued_at)?,
            sent_at: self.sent_at.map(instant).transpose()?,
        })
    }
}

/// What an answer writes: the state, when to try again, when it was accepted, the reply, and
/// whether it counts as an attempt.
pub(crate) struct Written {
    pub state: &'static str,
    pub next_attempt_at: Option<i64>,
    pub sent_at: Option<i64>,
    pub reply: Option<String>,
    pub attempt: i64,
}

/// The columns `update` writes.
pub(crate) fn written(update: &OutboxUpdate) -> Written {
    match update {
        OutboxUpdate::Sent(at, reply) => Written {
            state: OutboxState::Sent.as_str(),
            next_attempt_at: None,
            sent_at: Some(at.unix_seconds()),
            reply: Some(reply.clone()),
            attempt: 1,
        },
        OutboxUpdate::Retry(at, reply) => Written {
            state: OutboxState::Retry.as_str(),
            next_attempt_at: Some(at.unix_seconds()),
            sent_at: None,
            reply: Some(reply.clone()),
            attempt: 1,
        },
        OutboxUpdate::Failed(reply) => Written {
            state: OutboxState::Failed.as_str(),
            next_attempt_at: None,
            sent_at: None,
            reply: Some(reply.clone()),
            attempt: 1,
        },
        OutboxUpdate::Requeue => Written {
            state: OutboxState::Queued.as_str(),
            next_attempt_at: None,
            sent_at: None,
            reply: None,
            attempt: 0,
        },
    }
}
