//! One notice as an email: plain text and HTML alternatives, a stable Message-ID, UTF-8.

use std::time::{Duration, SystemTime};

use lettre::address::Envelope;
use lettre::message::{Mailbox, MultiPart, header};

use crate::error::{Error, Result};

/// A rendered notice, addressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// `<…@…>`, fixed when the notice was queued, so a resend is recognisably the same message.
    pub message_id: String,
    /// The recipient's address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
}

/// Builds the message bytes and the envelope; `date_seconds` is the Unix time of the Date header.
pub fn build(from: &str, notice: &Notice, date_seconds: i64) -> Result<(Envelope, Vec<u8>)> {
    let from: Mailbox = from
        .parse()
        .map_err(|error| Error::Message(format!("from {from:?}: {error}")))?;
    let to: Mailbox = notice
        .to
        .parse()
        .map_err(|error| Error::Message(format!("to {:?}: {error}", notice.to)))?;
    let date = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(date_seconds).unwrap_or(0));
    let message = lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(notice.subject.clone())
        .message_id(Some(notice.message_id.clone()))
        .date(date)
        .header(header::MIME_VERSION_1_0)
        .multipart(MultiPart::alternative_plain_html(
            notice.text.clone(),
            notice.html.clone(),
        ))
        .map_err(|error| Error::Message(error.to_string()))?;
    Ok((message.envelope().clone(), message.formatted()))
}

/// A plain-text message to a supplier's contact (a working letter, not a notice).
#[derive(Debug, Clone, Copy)]
pub struct TextMessage<'a> {
    /// The sender mailbox.
    pub from: &'a str,
    /// Where replies go (the DPO, when the sender is a no-reply address).
    pub reply_to: &'a str,
    /// The recipient's address.
    pub to: &'a str,
    /// Subject line.
    pub subject: &'a str,
    /// The text.
    pub text: &'a str,
    /// Its Message-ID, fixed when it was queued.
    pub message_id: &'a str,
}

/// Builds a plain-text message; `date_seconds` as for [`build`].
pub fn build_text(message: TextMessage<'_>, date_seconds: i64) -> Result<(Envelope, Vec<u8>)> {
    let mailbox = |what: &str, text: &str| -> Result<Mailbox> {
        text.parse()
            .map_err(|error| Error::Message(format!("{what} {text:?}: {error}")))
    };
    let date = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(date_seconds).unwrap_or(0));
    let built = lettre::Message::builder()
        .from(mailbox("from", message.from)?)
        .reply_to(mailbox("reply-to", message.reply_to)?)
        .to(mailbox("to", message.to)?)
        .subject(message.subject)
        .message_id(Some(message.message_id.to_owned()))
        .date(date)
        .header(header::MIME_VERSION_1_0)
        .header(header::ContentType::TEXT_PLAIN)
        .body(message.text.to_owned())
        .map_err(|error| Error::Message(error.to_string()))?;
    Ok((built.envelope().clone(), built.formatted()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_has_both_parts_and_its_message_id() {
        let notice = Notice {
            message_id: "<incident-1.42.abc@party.example.org>".into(),
            to: "zoë@example.org".into(),
            subject: "About your data — an incident at a supplier".into(),
            text: "Dear Zoë,\nplain words".into(),
            html: "<p>Dear Zoë,</p>".into(),
        };
        let (envelope, bytes) =
            build("Example Party <dpo@party.example.org>", &notice, 1_635_528_600).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            text.contains("Message-ID: <incident-1.42.abc@party.example.org>"),
            "{text}"
        );
        assert!(text.contains("multipart/alternative"), "{text}");
        assert!(text.contains("text/html"), "{text}");
        assert!(text.contains("Date: Fri, 29 Oct 2021 17:30:00 +0000"), "{text}");
        assert_eq!(envelope.to().len(), 1);
        assert!(build("not a mailbox", &notice, 0).is_err());
        let bad = Notice {
            to: "nobody".into(),
            ..notice
        };
        assert!(build("dpo@party.example.org", &bad, 0).is_err());
    }
}
