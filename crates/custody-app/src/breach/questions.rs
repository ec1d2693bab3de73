//! Questions to a supplier about an incident, with a clock: what a responder asks (a default
//! set, editable), by when (the contract's breach-notice hours by default), and whether the
//! supplier has answered, with a statement, since.

use custody_core::{IncidentId, Instant};
use serde::{Deserialize, Serialize};

use crate::breach::incident_events::{IncidentEventBody, Recorded};
use crate::breach::incidents::{append, find_incident};
use crate::dir::Ledger;
use crate::error::{Error, Result};
use crate::notices::supplier_mail::{question_mail, question_recipients, queue};

/// What a supplier is asked by default (the facts a controller needs for its own report, UK
/// GDPR Art. 33(3), and to tell people, Art. 34).
pub const DEFAULT_QUESTIONS: [&str; 9] = [
    "What happened?",
    "When and how did you discover it?",
    "Which systems were affected?",
    "Which categories of our data were affected, and how many records?",
    "Was data taken out (exfiltrated), or only seen, changed or made unavailable?",
    "Which of your sub-processors were involved?",
    "What have you done to contain it, and is it contained?",
    "Have you told the police or another authority? Give any reference.",
    "What was the root cause, and what will stop it happening again?",
];

/// The furthest a question may be due: a year.
const DUE_SECONDS_MAX: i64 = 366 * 24 * 3600;

/// Questions the longest list may hold.
const QUESTIONS_MAX: usize = 30;

/// A question sent to the supplier of an incident (an incident event, kind `question`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionAsked {
    /// The supplier asked.
    pub supplier: String,
    /// What it is asked.
    pub questions: Vec<String>,
    /// By when it must answer.
    pub due_at: Instant,
    /// How many of the supplier's contacts it was sent to (who they are stays in the contacts
    /// and the mail sent, not in this record).
    pub contacts: u32,
}

/// Where the newest question of an incident stands.
#[derive(Debug, Clone, Serialize)]
pub struct QuestionState {
    /// The question.
    pub asked: QuestionAsked,
    /// When it was asked.
    pub asked_at: Instant,
    /// When the supplier's first statement after it was recorded.
    pub answered_at: Option<Instant>,
    /// `answered`, `waiting` or `overdue`.
    pub state: &'static str,
}

/// Asks the supplier of incident `id` the `questions` (the default set when none), due at `due`
/// (the contract's breach-notice hours from now when not given); audited as an incident event.
pub fn ask(
    ledger: &mut Ledger,
    id: IncidentId,
    due: Option<Instant>,
    questions: Option<Vec<String>>,
) -> Result<QuestionAsked> {
    let incident = find_incident(ledger, id)?;
    let supplier_id = incident.facts.supplier_id.ok_or_else(|| {
        Error::Invalid(format!(
            "incident {id} happened at the organisation itself: there is no supplier to ask"
        ))
    })?;
    let supplier = crate::ledger::suppliers::by_id(
        ledger,
        supplier_id,
        "the incident's supplier is no longer registered",
    )?;
    let now = ledger.now();
    let due_at = match (due, supplier.notice_hours) {
        (Some(due), _) => due,
        (None, Some(hours)) if hours > 0 => {
            Instant::from_unix_seconds(now.unix_seconds() + i64::from(hours) * 3600)?
        }
        (None, _) => {
            return Err(Error::Invalid(format!(
                "{}'s contract gives no breach-notice hours to answer in: give --due",
                supplier.name
            )));
        }
    };
    if due_at <= now {
        return Err(Error::Invalid(format!(
            "--due {due_at} has passed: a question needs time to answer"
        )));
    }
    if due_at.unix_seconds() - now.unix_seconds() > DUE_SECONDS_MAX {
        return Err(Error::Invalid(format!(
            "--due {due_at} is more than a year away: a breach question is answered in days"
        )));
    }
    let questions = checked(questions)?;
    let on_record = ledger.store.supplier_contacts(supplier_id)?;
    let recipients = question_recipients(&on_record);
    let contacts = u32::try_from(recipients.len()).unwrap_or(u32::MAX);
    let asked = QuestionAsked {
        supplier: supplier.name,
        questions,
        due_at,
        contacts,
    };
    // The messages are made first: once the question is recorded, only the store can fail.
    let mail = question_mail(ledger, id, supplier_id, &asked, &recipients)?;
    append(ledger, id, now, &IncidentEventBody::Question(asked.clone()))?;
    // Queued for the contacts it names; sent by the next sending (custody supplier mail send,
    // or at once by the command that asked, when a mail server is set).
    queue(ledger, id, &asked.supplier, &mail)?;
    Ok(asked)
}

fn checked(questions: Option<Vec<String>>) -> Result<Vec<String>> {
    let questions: Vec<String> = match questions {
        None => DEFAULT_QUESTIONS.iter().map(|text| (*text).to_owned()).collect(),
        Some(given) => given.into_iter().map(|text| text.trim().to_owned()).collect(),
    };
    if questions.is_empty() || questions.len() > QUESTIONS_MAX {
        return Err(Error::Invalid(format!(
            "give 1 to {QUESTIONS_MAX} questions (--question, once each)"
        )));
    }
    for question in &questions {
        if question.is_empty() {
            return Err(Error::Invalid("a --question is empty".to_owned()));
        }
        crate::limits::short_text("question", question)?;
    }
    Ok(questions)
}

/// The newest question of an incident and whether a statement has answered it, as of `now`.
pub fn state(events: &[Recorded], now: Instant) -> Option<QuestionState> {
    let (index, asked, asked_at) =
        events
            .iter()
            .enumerate()
            .rev()
            .find_map(|(index, recorded)| match &recorded.body {
                IncidentEventBody::Question(asked) => {
                    Some((index, asked.clone(), recorded.event.recorded_at))
                }
                _ => None,
            })?;
    let answered_at = events
        .iter()
        .skip(index + 1)
        .find(|recorded| matches!(recorded.body, IncidentEventBody::Statement(_)))
        .map(|recorded| recorded.event.recorded_at);
    let state = match answered_at {
        Some(_) => "answered",
        None if now > asked.due_at => "overdue",
        None => "waiting",
    };
    Some(QuestionState {
        asked,
        asked_at,
        answered_at,
        state,
    })
}

/// The question state of incident `id` now.
pub fn of(ledger: &Ledger, id: IncidentId) -> Result<Option<QuestionState>> {
    let events = crate::breach::incident_events::log(ledger, id)?;
    Ok(state(&events, ledger.now()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use custody_core::EventId;
    use custody_store::IncidentEvent;

    fn recorded(id: i64, at: i64, body: IncidentEventBody) -> Recorded {
        let at = Instant::from_unix_seconds(at).unwrap();
        Recorded {
            event: IncidentEvent {
                id: EventId::new(id),
                kind: body.kind().to_owned(),
                at,
                recorded_at: at,
                actor: "test".to_owned(),
                body: serde_json::Value::Null,
            },
            body,
        }
    }

    fn question(due: i64) -> IncidentEventBody {
        IncidentEventBody::Question(QuestionAsked {
            supplier: "S".to_owned(),
            questions: vec!["What happened?".to_owned()],
            due_at: Instant::from_unix_seconds(due).unwrap(),
            contacts: 0,
        })
    }

    fn statement() -> IncidentEventBody {
        let statement: crate::breach::incidents::StatementView = serde_json::from_value(serde_json::json!({
            "version": 1, "received_at": "2021-10-30T09:00:00Z", "text": "x",
            "claims": { "categories": null, "records": null, "exfiltration": null },
            "correction": false, "changes": []
        }))
        .unwrap();
        IncidentEventBody::Statement(statement)
    }

    #[test]
    fn a_question_waits_falls_overdue_and_is_answered_by_a_later_statement_only() {
        let now = |at: i64| Instant::from_unix_seconds(at).unwrap();
        assert!(state(&[], now(0)).is_none());
        let early = recorded(1, 100, statement());
        let asked = recorded(2, 200, question(1_000));
        let events = vec![early, asked];
        assert_eq!(state(&events, now(500)).unwrap().state, "waiting");
        assert_eq!(
            state(&events, now(2_000)).unwrap().state,
            "overdue",
            "a statement before the question answers nothing"
        );
        let mut answered = events.clone();
        answered.push(recorded(3, 300, statement()));
        let answered = state(&answered, now(2_000)).unwrap();
        assert_eq!(answered.state, "answered");
        assert_eq!(answered.answered_at, Some(now(300)));
        assert!(checked(Some(vec![" ".to_owned()])).is_err());
        assert!(checked(Some(Vec::new())).is_err());
        assert_eq!(checked(None).unwrap().len(), DEFAULT_QUESTIONS.len());
    }
}
