//! `custody request pause|resume|decide`: the clock's pauses (UK GDPR Art. 12A) and the review
//! of an erasure before any supplier is told (Art. 17).

use std::process::ExitCode;

use anyhow::bail;

use custody_app::Ledger;
use custody_app::rights::requests::{self, Decision};
use custody_core::PauseReason;

use crate::cli::instant;
use crate::request_cli::RequestCommand;

/// Runs `pause`, `resume` or `decide`.
pub fn run(ledger: &mut Ledger, command: RequestCommand) -> anyhow::Result<ExitCode> {
    match command {
        RequestCommand::Pause { id, at, reason, note } => {
            let at = instant(ledger, &at, "--at")?;
            let reason = PauseReason::parse(&reason)?;
            requests::pause(ledger, id, at, reason, note.as_deref())?;
            crate::say!(
                "Request {id} paused for {}: {}.",
                reason.as_str(),
                reason.effect()
            );
        }
        RequestCommand::Resume { id, at, note } => {
            let at = instant(ledger, &at, "--at")?;
            let due = requests::resume(ledger, id, at, note.as_deref())?;
            crate::say!("Request {id} resumed; now due by the end of {due}.");
        }
        RequestCommand::Decide {
            id,
            erase,
            refuse,
            keep_supplier,
            ground,
            reason,
            basis,
        } => {
            let decision = match (erase, refuse, keep_supplier.is_empty()) {
                (true, false, true) => Decision::Erase { basis },
                (false, true, true) => Decision::Refuse {
                    ground: ground.ok_or_else(|| anyhow::anyhow!("--refuse needs --ground"))?,
                    reason: reason.ok_or_else(|| anyhow::anyhow!("--refuse needs --reason"))?,
                },
                (false, false, false) => Decision::Partial {
                    keep: keep_supplier,
                    ground: ground.ok_or_else(|| anyhow::anyhow!("--keep-supplier needs --ground"))?,
                    reason: reason.ok_or_else(|| anyhow::anyhow!("--keep-supplier needs --reason"))?,
                    basis,
                },
                _ => bail!("give one of --erase, --refuse or --keep-supplier SUPPLIER"),
            };
            let decided = requests::decide(ledger, id, decision)?;
            match decided.decision {
                "refuse" => {
                    crate::say!("Request {id}: erasure refused. Tell the requester why (Art. 12(4)).")
                }
                _ => crate::say!(
                    "Request {id}: erasure decided. Instructed: {}.{}",
                    if decided.instructed.is_empty() {
                        "no supplier holds the person's data".to_owned()
                    } else {
                        decided.instructed.join(", ")
                    },
                    if decided.kept.is_empty() {
                        String::new()
                    } else {
                        format!(" Kept: {}.", decided.kept.join(", "))
                    }
                ),
            }
        }
        _ => bail!("not a review command"),
    }
    Ok(ExitCode::SUCCESS)
}
