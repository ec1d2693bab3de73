//! The demo's aftermath: after the 2021 incident, members wrote in to ask what the party held
//! about them and where it had gone, and to be erased, and the mailbox went unwatched. The demo
//! writes that inbox as a CSV export, loads it with `request import`, answers one access request
//! and follows one erasure through the suppliers, all through the same use cases as a user.

use custody_core::RequestId;
use std::io::Write;
use std::path::Path;

use serde::Serialize;

use custody_app::Ledger;
use custody_app::rights::request_import::{ImportedRequests, import};
use custody_app::rights::requests::{self, RequestSummary};
use custody_app::{Error, Result};

/// What the demo's rights desk shows.
#[derive(Debug, Clone, Serialize)]
pub struct DemoRequests {
    /// What the backlog import recorded.
    pub imported: ImportedRequests,
    /// The access request answered as an example.
    pub answered: Option<RequestId>,
    /// The erasure request shown with its instructions.
    pub erasure: Option<RequestId>,
    /// The suppliers instructed for it.
    pub erasure_suppliers: Vec<String>,
    /// The queue's most overdue line.
    pub most_overdue: Option<RequestSummary>,
}

/// Writes the unwatched inbox: `count` requests from 1 to 26 November 2021, mostly from
/// members' own addresses (some typed with capitals), a few from addresses custody does not know.
fn write_inbox(path: &Path, senders: &[String], rng: &mut fastrand::Rng, count: usize) -> Result<()> {
    let io = |error| Error::io(path, error);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).map_err(io)?);
    writeln!(out, "Received,From,Type,Channel").map_err(io)?;
    for index in 0..count {
        let day = 1 + index * 26 / count.max(1);
        let (hour, minute) = (rng.u8(7..23), rng.u8(0..60));
        let from = match senders.get(rng.usize(0..senders.len().max(1))) {
            Some(sender) if rng.u8(0..100) < 95 => {
                if rng.bool() {
                    sender.to_uppercase()
                } else {
                    sender.clone()
                }
            }
            _ => format!("worried.{index}@example.net"),
        };
        let kind = match rng.u8(0..100) {
            0..=69 => "access",
            70..=94 => "erasure",
            95..=97 => "objection",
            _ => "rectification",
        };
        writeln!(out, "2021-11-{day:02} {hour:02}:{minute:02},{from},{kind},email").map_err(io)?;
    }
    out.flush().map_err(io)
}

/// Loads the inbox, answers the first matched access request and shows the first erasure.
pub fn run(
    ledger: &mut Ledger,
    files: &Path,
    senders: &[String],
    rng: &mut fastrand::Rng,
) -> Result<DemoRequests> {
    let inbox = files.join("inbox-november-2021.csv");
    write_inbox(&inbox, senders, rng, 420)?;
    let imported = import(ledger, &inbox)?;
    let queue = requests::list(ledger, false)?;
    let first = |kind: &str| {
        queue
            .iter()
            .filter(|line| line.kind == kind && line.reference.is_some())
            .map(|line| line.request)
            .min()
    };
    let answered = first("access");
    if let Some(id) = answered {
        custody_app::rights::request_answer::answer(ledger, id, "json", |_| Ok(()))?;
        requests::close(
            ledger,
            id,
            requests::Outcome::Done,
            "answer sent by email with the membership record attached",
        )?;
    }
    let erasure = first("erasure");
    if let Some(id) = erasure
        && requests::show(ledger, id)?.summary.state == "awaiting_decision"
    {
        // A responder reviews the erasure (settings erasure_review): the member left and
        // withdrew consent, and nothing the law makes the party keep is held at a supplier.
        requests::decide(
            ledger,
            id,
            requests::Decision::Erase {
                basis: Some("consent-withdrawn".to_owned()),
            },
        )?;
    }
    let erasure_suppliers = match erasure {
        Some(id) => requests::show(ledger, id)?
            .instructions
            .into_iter()
            .map(|instruction| instruction.supplier)
            .collect(),
        None => Vec::new(),
    };
    Ok(DemoRequests {
        imported,
        answered,
        erasure,
        erasure_suppliers,
        most_overdue: requests::list(ledger, true)?.into_iter().next(),
    })
}

/// The rights desk in words.
pub fn to_text(requests: &DemoRequests, dir: &str) -> String {
    let imported = &requests.imported;
    let mut out = format!(
        "\nRights desk: {} requests from the unwatched November 2021 inbox loaded ({} matched to a person, \
         {} overdue).\n",
        imported.recorded, imported.matched, imported.overdue
    );
    if let Some(line) = &requests.most_overdue {
        out.push_str(&format!(
            "Most overdue: request {} ({}), due {}, {} days late.\n",
            line.request, line.kind, line.due, -line.days_left
        ));
    }
    if let Some(id) = requests.erasure {
        out.push_str(&format!(
            "Erasure request {id} instructed: {}.\n",
            requests.erasure_suppliers.join(", ")
        ));
    }
    out.push_str(&format!("Try: custody --dir {dir} request list --overdue\n"));
    if let Some(id) = requests.answered {
        out.push_str(&format!("     custody --dir {dir} request answer {id}\n"));
    }
    out.push_str(&format!("     custody --dir {dir} retention\n"));
    out
}
