//! `custody request …` and `custody retention`: the rights desk on the command line.

use custody_core::RequestId;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use clap::Subcommand;

use custody_app::rights::requests::{self, OpenInput, Outcome, Requester};
use custody_app::{ledger::retention, rights::request_answer, rights::request_import};
use custody_core::{Channel, RequestKind};

use crate::cli::{instant, open};
use crate::output;

/// Request commands.
#[derive(Debug, Subcommand)]
pub enum RequestCommand {
    /// Record a request from a person; rectification, restriction and objection instruct the
    /// suppliers holding their data; an erasure waits for `request decide` (erasure_review).
    Open {
        /// The person's reference.
        #[arg(long, required_unless_present = "email")]
        person: Option<String>,
        /// The requester's email address: matched through the keyed hash when no --person is
        /// given; kept sealed to reply to.
        #[arg(long)]
        email: Option<String>,
        /// The requester's name as the request gives it: with --postcode or --born, the people
        /// it probably came from are offered when the address matches nobody.
        #[arg(long)]
        name: Option<String>,
        /// The requester's postcode, as the request gives it.
        #[arg(long)]
        postcode: Option<String>,
        /// The requester's date of birth (1980-04-03), as the request gives it.
        #[arg(long)]
        born: Option<String>,
        /// access, erasure, rectification, objection, restriction or portability.
        #[arg(long, value_parser = ["access", "erasure", "rectification", "objection", "restriction", "portability"])]
        kind: String,
        /// When it was received (starts the one-month clock).
        #[arg(long)]
        received_at: String,
        /// email, post, web or phone.
        #[arg(long, value_parser = ["email", "post", "web", "phone"])]
        channel: Option<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// The queue, overdue first.
    List {
        /// Only the overdue ones.
        #[arg(long)]
        overdue: bool,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// One request: clock, instructions to suppliers, events.
    Show {
        /// Request id.
        id: RequestId,
        /// Also show the requester's email address (opened from its seal; audited).
        #[arg(long)]
        reveal_requester: bool,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Link a request from an unknown requester to a person, once identity is checked.
    Identify {
        /// Request id.
        id: RequestId,
        /// The person's reference.
        #[arg(long)]
        person: String,
        /// When the information needed to confirm identity arrived (the clock runs from it).
        #[arg(long)]
        identity_confirmed_at: Option<String>,
    },
    /// Extend the period by one or two months (Art. 12(3)), with the reason.
    Extend {
        /// Request id.
        id: RequestId,
        /// 1 or 2.
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..=2))]
        months: u8,
        /// Why (the requester must be told).
        #[arg(long)]
        reason: String,
    },
    /// The answer to the requester: for access, everything Art. 15 requires; for an erasure
    /// or another right, what was done where and what was kept and why; for portability, a
    /// machine-readable file.
    Answer {
        /// Request id.
        id: RequestId,
        /// md or json.
        #[arg(long, default_value = "md", value_parser = ["md", "json"])]
        format: String,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Record a supplier's confirmation that it did what it was told (erased, corrected,
    /// restricted, stopped marketing).
    Confirm {
        /// Request id.
        id: RequestId,
        /// Supplier name.
        #[arg(long)]
        supplier: String,
        /// When the supplier erased it.
        #[arg(long)]
        at: String,
        /// Until when the supplier's backups still hold it.
        #[arg(long)]
        backups_until: Option<String>,
    },
    /// Close a request by hand: done (outside custody), refused or withdrawn.
    Close {
        /// Request id.
        id: RequestId,
        /// done, refused or withdrawn.
        #[arg(long, value_parser = ["done", "refused", "withdrawn"])]
        outcome: String,
        /// What was done, or why it was refused.
        #[arg(long)]
        reason: String,
    },
    /// Load a backlog of requests from CSV (received_at, sender or ref, kind[, channel]).
    Import {
        /// The file.
        file: PathBuf,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Pause the clock while waiting for the requester (UK GDPR Art. 12A).
    Pause {
        /// Request id.
        id: RequestId,
        /// When the requester was asked.
        #[arg(long)]
        at: String,
        /// clarification (access requests only), fee or identity.
        #[arg(long, value_parser = ["clarification", "fee", "identity"])]
        reason: String,
        /// What was asked.
        #[arg(long)]
        note: Option<String>,
    },
    /// Resume the clock when the clarification, fee or identity information arrived.
    Resume {
        /// Request id.
        id: RequestId,
        /// When it arrived.
        #[arg(long)]
        at: String,
        /// What arrived.
        #[arg(long)]
        note: Option<String>,
    },
    /// Decide an erasure under review: --erase, --refuse, or --keep-supplier for a partial one.
    Decide {
        /// Request id.
        id: RequestId,
        /// Erase at every supplier that holds the person's data.
        #[arg(long, conflicts_with_all = ["refuse", "keep_supplier"])]
        erase: bool,
        /// Refuse the erasure (with --ground and --reason).
        #[arg(long, conflicts_with = "keep_supplier")]
        refuse: bool,
        /// Erase everywhere but at this supplier (repeat for more), with --ground and --reason.
        #[arg(long)]
        keep_supplier: Vec<String>,
        /// The ground: freedom-of-expression, legal-obligation, public-task, public-health,
        /// archiving-research, legal-claims (Art. 17(3)); for a refusal also no-ground-applies,
        /// manifestly-unfounded, manifestly-excessive.
        #[arg(long)]
        ground: Option<String>,
        /// Why, in words the requester will be given.
        #[arg(long)]
        reason: Option<String>,
        /// The Art. 17(1) ground for erasing: no-longer-necessary, consent-withdrawn, objection,
        /// unlawful, legal-obligation, child.
        #[arg(long)]
        basis: Option<String>,
    },
}

/// Runs a request command.
pub fn run(dir: Option<PathBuf>, command: RequestCommand) -> anyhow::Result<ExitCode> {
    let mut ledger = open(dir)?;
    match command {
        RequestCommand::Open {
            person,
            email,
            name,
            postcode,
            born,
            kind,
            received_at,
            channel,
            json,
        } => {
            if person.is_none() && email.is_none() {
                bail!("give --person REF or --email ADDRESS");
            }
            let requester = Requester {
                reference: person,
                email,
                described: custody_app::rights::request_linkage::Described {
                    name,
                    postcode,
                    born,
                    keyed_only: false,
                },
            };
            let input = OpenInput {
                requester,
                kind: RequestKind::parse(&kind)?,
                received_at: instant(&ledger, &received_at, "--received-at")?,
                channel: channel.as_deref().map(Channel::parse).transpose()?,
                source: None,
            };
            let opened = requests::open(&mut ledger, input)?;
            if json {
                output::json(&opened)?;
            } else {
                crate::say!(
                    "Request {} recorded; due by the end of {}.",
                    opened.request,
                    opened.due
                );
                match (&opened.reference, &opened.unmatched) {
                    (Some(reference), _) => crate::say!("Person: {reference}."),
                    (None, Some(reason)) => crate::say!("No person matched: {reason}."),
                    (None, None) => {}
                }
                if !opened.instructed.is_empty() {
                    crate::say!("Instructed: {}.", opened.instructed.join(", "));
                    if let Some(sent) = crate::supplier_mail_cli::send_if_configured(&mut ledger) {
                        crate::supplier_mail_cli::say_sent(&sent);
                    }
                }
                if let Some(caution) = &opened.caution {
                    crate::say!("Check: {caution}.");
                }
                if opened.awaiting_decision {
                    crate::say!(
                        "Nobody is instructed yet: review the grounds, then `custody request decide {} --erase` \
                         (or --refuse / --keep-supplier). Erasing would instruct: {}.",
                        opened.request,
                        if opened.would_instruct.is_empty() {
                            "no supplier".to_owned()
                        } else {
                            opened.would_instruct.join(", ")
                        }
                    );
                }
            }
        }
        RequestCommand::List { overdue, json } => {
            let list = requests::list(&ledger, overdue)?;
            if json {
                output::json(&list)?;
            } else {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|line| {
                        vec![
                            line.request.to_string(),
                            line.kind.to_owned(),
                            line.reference.clone().unwrap_or_else(|| "(unknown)".to_owned()),
                            line.due.clone(),
                            days(line.days_left, line.clock),
                            line.state.clone(),
                        ]
                    })
                    .collect();
                output::table(&["id", "kind", "person", "due", "clock", "state"], &rows);
            }
        }
        RequestCommand::Show {
            id,
            reveal_requester,
            json,
        } => {
            let view = requests::look(&mut ledger, id)?;
            let requester = if reveal_requester {
                requests::reveal_requester(&mut ledger, id)?
            } else {
                None
            };
            if json {
                let mut value = serde_json::to_value(&view)?;
                if let (Some(address), Some(object)) = (requester, value.as_object_mut()) {
                    object.insert("requester".to_owned(), serde_json::Value::String(address));
                }
                output::json(&value)?;
            } else {
                print_view(&view, requester.as_deref());
            }
        }
        RequestCommand::Identify {
            id,
            person,
            identity_confirmed_at,
        } => {
            let confirmed = match identity_confirmed_at {
                Some(text) => Some(instant(&ledger, &text, "--identity-confirmed-at")?),
                None => None,
            };
            let instructed = requests::identify(&mut ledger, id, &person, confirmed)?;
            crate::say!("Request {id} linked to {person}.");
            if !instructed.is_empty() {
                crate::say!("Instructed: {}.", instructed.join(", "));
                if let Some(sent) = crate::supplier_mail_cli::send_if_configured(&mut ledger) {
                    crate::supplier_mail_cli::say_sent(&sent);
                }
            }
        }
        RequestCommand::Extend { id, months, reason } => {
            let due = requests::extend(&mut ledger, id, months, &reason)?;
            crate::say!("Request {id} extended; now due by the end of {due}. Tell the requester why.");
        }
        RequestCommand::Answer { id, format, out } => {
            let warnings = request_answer::answer(&mut ledger, id, &format, |text| match &out {
                Some(path) => custody_app::files::write_output(path, text.as_bytes()).map_err(|source| {
                    custody_app::Error::Io {
                        path: path.display().to_string(),
                        source,
                    }
                }),
                None => {
                    let end = if text.ends_with('\n') { "" } else { "\n" };
                    crate::say_raw!("{text}{end}");
                    Ok(())
                }
            })?;
            if let Some(path) = out {
                crate::say!("Wrote the answer to {}.", path.display());
            }
            for warning in warnings {
                eprintln!(
                    "custody: warning for the DPO: {}",
                    crate::output::terminal_safe(&warning)
                );
            }
        }
        RequestCommand::Confirm {
            id,
            supplier,
            at,
            backups_until,
        } => {
            let at = instant(&ledger, &at, "--at")?;
            let backups_until = match backups_until {
                Some(text) => Some(instant(&ledger, &text, "--backups-until")?),
                None => None,
            };
            let complete = requests::confirm(&mut ledger, id, &supplier, at, backups_until, None)?;
            crate::say!("Recorded {supplier}'s confirmation for request {id}.");
            if complete {
                crate::say!("Every instructed supplier has confirmed: the erasure is complete.");
            }
        }
        RequestCommand::Close { id, outcome, reason } => {
            requests::close(&mut ledger, id, Outcome::parse(&outcome)?, &reason)?;
            crate::say!("Request {id} closed as {outcome}.");
        }
        RequestCommand::Pause { .. } | RequestCommand::Resume { .. } | RequestCommand::Decide { .. } => {
            return crate::request_review_cli::run(&mut ledger, command);
        }
        RequestCommand::Import { file, json } => {
            let imported = request_import::import(&mut ledger, &file)?;
            if json {
                output::json(&imported)?;
            } else {
                crate::say!(
                    "Recorded {} requests ({} matched to a person, {} overdue already).",
                    imported.recorded,
                    imported.matched,
                    imported.overdue
                );
                if imported.erasures_instructed > 0 {
                    crate::say!(
                        "{} erasures instructed suppliers; `custody request list` shows them.",
                        imported.erasures_instructed
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn days(left: i64, clock: &str) -> String {
    match clock {
        "overdue" => format!("OVERDUE by {} d", -left),
        "open" => format!("{left} d left"),
        "paused" => "paused".to_owned(),
        other => other.to_owned(),
    }
}

fn print_view(view: &requests::RequestView, requester: Option<&str>) {
    let summary = &view.summary;
    crate::say!(
        "Request {}: {} ({})",
        summary.request,
        summary.kind,
        summary.state
    );
    crate::say!(
        "Person: {}",
        summary.reference.as_deref().unwrap_or("not identified yet")
    );
    match requester {
        Some(address) => crate::say!("Requester: {address}"),
        None if view.requester_held => crate::say!("Requester: address held (--reveal-requester shows it)"),
        None => {}
    }
    crate::say!("Received: {} ({})", view.received_local, summary.received_at);
    crate::say!(
        "Due: {} ({}){}",
        summary.due,
        days(summary.days_left, summary.clock),
        if summary.extension_months > 0 {
            format!(", extended by {} month(s)", summary.extension_months)
        } else {
            String::new()
        }
    );
    if let Some(target) = &summary.target {
        crate::say!("Internal target: {target}");
    }
    if let Some(note) = &summary.due_note {
        crate::say!("Caution: {note}");
    }
    for pause in &view.pauses {
        crate::say!(
            "Paused for {} from {} to {}: {}{}",
            pause.reason,
            pause.from,
            pause.to.as_deref().unwrap_or("(waiting)"),
            pause.effect,
            pause
                .note
                .as_ref()
                .map(|note| format!(" — {note}"))
                .unwrap_or_default()
        );
    }
    if let Some(source) = &view.source {
        crate::say!("Imported from: {source}");
    }
    if !view.would_instruct.is_empty() {
        crate::say!(
            "Awaiting decision; erasing would instruct: {}",
            view.would_instruct.join(", ")
        );
    }
    if !view.instructions.is_empty() {
        let rows: Vec<Vec<String>> = view
            .instructions
            .iter()
            .map(|i| {
                vec![
                    i.supplier.clone(),
                    i.action.to_owned(),
                    i.state.to_owned(),
                    i.deleted_at.clone().unwrap_or_default(),
                ]
            })
            .collect();
        output::table(&["supplier", "action", "state", "confirmed_at"], &rows);
    }
    for event in &view.events {
        match &event.recorded_later {
            Some(recorded) => crate::say!(
                "{}  {}  {} (recorded {recorded})",
                event.at_local,
                event.actor,
                event.text
            ),
            None => crate::say!("{}  {}  {}", event.at_local, event.actor, event.text),
        }
    }
}

/// `custody retention`.
pub fn retention_command(dir: Option<PathBuf>, people: bool, json: bool) -> anyhow::Result<ExitCode> {
    let mut ledger = open(dir)?;
    let report = retention::report(&ledger, people)?;
    let listed: usize = report
        .suppliers
        .iter()
        .filter_map(|supplier| supplier.refs.as_ref())
        .map(Vec::len)
        .sum();
    if people {
        custody_app::ledger::person::record_listing(&mut ledger, "retention", listed)?;
    }
    if json {
        output::json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    crate::say!(
        "As at {}; former people are kept {} year(s) after leaving (left before {}: delete).",
        report.at,
        report.former_retention_years,
        report.former_left_before
    );
    let mut asked = 0;
    for supplier in &report.suppliers {
        if supplier.ask.is_empty() {
            continue;
        }
        asked += 1;
        crate::say!("\n{} (holds {} people):", supplier.supplier, supplier.people_held);
        for ask in &supplier.ask {
            crate::say!("  - {ask}");
        }
        if let Some(refs) = &supplier.refs {
            for reference in refs {
                crate::say!("    {reference}");
            }
        }
    }
    if asked == 0 {
        crate::say!("No supplier holds data past its retention.");
    }
    Ok(ExitCode::SUCCESS)
}
