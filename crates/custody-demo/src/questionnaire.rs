//! The demo sends the processor its questionnaire and shows the answer: the standard nine
//! questions, due in the contract's hours, mailed to its security and DPO contacts (sent when
//! the demo has a mail server), and answered by the processor's own desk account, recorded as
//! its statement with that account as the actor.

use custody_app::Ledger;
use custody_app::Result;
use custody_app::breach::incidents::{Exfiltration, StatementInput};
use custody_app::breach::questions::{QuestionAsked, ask};
use custody_app::desk::accounts::{add_user, random_password};
use custody_app::notices::supplier_mail::{MailSent, send_due};
use custody_core::{CategoryKey, DeskRole, IncidentId};
use custody_mail::SmtpConfig;
use serde::Serialize;

use crate::INCIDENT_SUPPLIER;

/// The processor's account in the demo.
const PROCESSOR_ACCOUNT: &str = "ems";

/// What the questionnaire came to.
#[derive(Debug, Clone, Serialize)]
pub struct DemoQuestionnaire {
    /// What was asked, and by when.
    pub asked: QuestionAsked,
    /// The due instant in the organisation's time.
    pub due_local: String,
    /// What the mail server did with the messages (none without a mail server: they wait).
    pub sent: Option<MailSent>,
    /// Whether the answer came in time: `answered`.
    pub state: String,
    /// The answer's statement number.
    pub statement: u64,
    /// Who answered, as the audit log names them.
    pub answered_by: String,
}

/// Asks the processor of incident `id`, and records its account's answer.
pub fn run(ledger: &mut Ledger, id: IncidentId, smtp: Option<SmtpConfig>) -> Result<DemoQuestionnaire> {
    let asked = ask(ledger, id, None, None)?;
    let sent = smtp.map(|config| send_due(ledger, config)).transpose()?;
    // The processor's own account (its password is thrown away: the demo answers for it).
    add_user(
        ledger,
        PROCESSOR_ACCOUNT,
        DeskRole::Supplier,
        Some(INCIDENT_SUPPLIER),
        &random_password()?,
    )?;
    let supplier = custody_app::ledger::suppliers::find(ledger, INCIDENT_SUPPLIER)?.id;
    let keys = ["user.name", "user.contact.email", "user.contact.phone_number"]
        .iter()
        .map(|key| CategoryKey::parse(key))
        .collect::<custody_core::Result<Vec<_>>>()?;
    let answer = StatementInput {
        received_at: ledger.now(),
        text: "1. Ransomware encrypted the membership platform after a copy of its database was taken. \
               2. Our monitoring saw the encryption at 23:10 on 28 October 2021. 3. The membership \
               database and its nightly backup. 4. Names, email addresses and phone numbers of about \
               1,100,000 records. 5. Taken out, then encrypted. 6. Our backup provider held the backup \
               copy; our mail provider was not involved. 7. Contained on 30 October: systems rebuilt, \
               credentials reset. 8. Reported to Action Fraud, reference NFRC-DEMO. 9. A remote-access \
               account without a second factor; every such account now has one."
            .to_owned(),
        claims_categories: Some(keys),
        claims_records: Some(1_100_000),
        claims_exfiltration: Some(Exfiltration::Yes),
    };
    let actor = std::mem::replace(&mut ledger.actor, format!("desk:{PROCESSOR_ACCOUNT}"));
    let answered = custody_app::supplier_side::answer(ledger, supplier, id, answer);
    let answered_by = std::mem::replace(&mut ledger.actor, actor);
    let statement = answered?;
    let seen = custody_app::supplier_side::incident(ledger, supplier, id)?;
    Ok(DemoQuestionnaire {
        due_local: asked.due_at.local(&ledger.zone),
        asked,
        sent,
        state: seen
            .question
            .map(|question| question.state.to_owned())
            .unwrap_or_default(),
        statement: statement.version,
        answered_by,
    })
}

/// The questionnaire in words.
pub fn to_text(questionnaire: &DemoQuestionnaire, dir: &str) -> String {
    let asked = &questionnaire.asked;
    let mail = match &questionnaire.sent {
        Some(sent) => format!(
            "{} sent, {} to retry, {} refused",
            sent.sent, sent.retry, sent.failed
        ),
        None => "queued: no mail server in the demo (custody supplier mail send)".to_owned(),
    };
    format!(
        "\nQuestionnaire: {} questions to {}, due {}, mailed to {} contact(s) ({mail}).\n\
         Answered at the desk by its account {}: statement {}, {}.\n\
         Try: custody --dir {dir} supplier mail list\n",
        asked.questions.len(),
        asked.supplier,
        questionnaire.due_local,
        asked.contacts,
        questionnaire.answered_by,
        questionnaire.statement,
        questionnaire.state,
    )
}
