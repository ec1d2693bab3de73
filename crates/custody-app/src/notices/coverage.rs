//! Whether everyone an incident affects has been told, and "people notified" recorded when so:
//! one rule for the end of a notification run and for a batch of letters recorded as posted,
//! whichever comes last. A person is told when a message covering them was accepted by the mail
//! server, or a letter to them was posted; anyone affected who is neither keeps the people's
//! clock running, whatever audience a run was for and however the affected set has grown since.

use custody_core::{IncidentId, Instant, PersonSet};
use custody_store::OutboxState;

use crate::breach::incidents::{Act, first_act, record_act};
use crate::dir::Ledger;
use crate::error::Result;

/// Where telling an incident's people stands.
pub(crate) struct Coverage {
    /// Why "people notified" cannot be recorded, or `None` when everyone is told.
    pub untold: Option<String>,
    /// The last instant someone was told (an acceptance or a posting).
    pub last: Option<Instant>,
}

/// Whether everyone in `affected` (canaries apart) was told about incident `id`.
pub(crate) fn coverage(ledger: &Ledger, id: IncidentId, affected: &PersonSet) -> Result<Coverage> {
    let events = crate::breach::incident_events::log(ledger, id)?;
    if first_act(&events, Act::PeopleNotified).is_some() {
        return Ok(Coverage {
            untold: Some("it was recorded already".to_owned()),
            last: None,
        });
    }
    let counts = crate::notices::notify_run::outbox_counts(ledger, id)?;
    let count = |state: &str| counts.get(state).copied().unwrap_or(0);
    let waiting = count("queued") + count("sending") + count("retry");
    let (_, last_sent) = ledger.store.outbox_times(id)?;
    let letters = ledger.store.notice_letters(id)?;
    let last_posted = letters.iter().filter_map(|row| row.posted_at).max();
    let last = match (last_sent, last_posted) {
        (Some(sent), Some(posted)) => Some(sent.max(posted)),
        (sent, posted) => sent.or(posted),
    };
    let mut told = ledger.store.outbox_people(id, OutboxState::Sent)?;
    told.extend(
        letters
            .iter()
            .filter(|row| row.posted_at.is_some())
            .map(|row| row.person),
    );
    let left = affected - &told;
    if left.is_empty() {
        // Messages still waiting are for people told already, or not affected.
        return Ok(Coverage { untold: None, last });
    }
    if waiting > 0 {
        return Ok(Coverage {
            untold: Some(format!(
                "{} affected people are not told yet, and {waiting} notices are still waiting to be sent",
                left.len()
            )),
            last,
        });
    }
    let failed = ledger.store.outbox_people(id, OutboxState::Failed)?;
    let needing: PersonSet = letters
        .iter()
        .filter(|row| row.needed)
        .map(|row| row.person)
        .collect();
    Ok(Coverage {
        untold: Some(format!(
            "{} affected people are not told yet ({} of them in notices that failed, {} needing a letter): \
             `custody notify letters {id} --out FILE.pdf` makes their letters, then record them posted; or, once \
             told another way, `custody incident record {id} people-notified --at …`",
            left.len(),
            left.intersection_len(&failed),
            left.intersection_len(&needing)
        )),
        last,
    })
}

/// Records "people notified" on incident `id`, at the last instant someone was told, when
/// everyone in `affected` has been; returns why not otherwise.
pub(crate) fn record_if_everyone_told(
    ledger: &mut Ledger,
    id: IncidentId,
    affected: &PersonSet,
    how: String,
) -> Result<Option<String>> {
    let coverage = coverage(ledger, id, affected)?;
    match (coverage.untold, coverage.last) {
        (Some(why), _) => Ok(Some(why)),
        (None, None) => Ok(Some("no notice was sent and no letter posted".to_owned())),
        (None, Some(at)) => {
            record_act(ledger, id, Act::PeopleNotified, at, Some(how), None)?;
            Ok(None)
        }
    }
}
