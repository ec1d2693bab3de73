//! The command line: `custody --help` lists every command; each has `--help` of its own.
//! Exit codes: 0 success, 1 failure (printed with its cause), 2 usage error (from clap).

use custody_core::{IncidentId, ShareId};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};

use custody_app::clock::SystemClock;
use custody_app::{
    Ledger, ledger::holdings, ledger::people, ledger::person, ledger::shares, ledger::suppliers,
};
use custody_core::{CategoryKey, DateOrder, Instant, PersonCategory, Settings, SupplierRole, parse_instant};

use crate::output;

/// custody: the ledger of who received whose personal data, and the breach response.
#[derive(Debug, Parser)]
#[command(name = "custody", version, about, propagate_version = true)]
pub struct Cli {
    /// Data directory (made by `custody init`).
    #[arg(long, global = true, env = "CUSTODY_DIR", value_name = "DIR")]
    dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a data directory: settings, key file and database.
    Init {
        /// The organisation's name.
        #[arg(long, default_value = "Example Organisation")]
        organisation: String,
        /// IANA time zone.
        #[arg(long, default_value = "Europe/London")]
        time_zone: String,
        /// Keep the ledger in this PostgreSQL database (`postgresql://user@host[:port]/database`,
        /// empty, no password in it: that comes from CUSTODY_DATABASE_PASSWORD, PGPASSWORD or
        /// ~/.pgpass) instead of the SQLite file custody.db in the data directory.
        #[arg(long, value_name = "URL")]
        database: Option<String>,
    },
    /// Build a realistic demo organisation end to end, through the same code paths as a user.
    Demo {
        /// How many people (about 2 million by default).
        #[arg(long, default_value_t = 2_000_000)]
        people: u32,
        /// Seed for the generated data.
        #[arg(long, default_value_t = 2021)]
        seed: u64,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
        /// Then serve the desk on the demo, with an admin account made for it (printed).
        #[arg(long)]
        serve: bool,
        /// Address to serve on with --serve.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
    },
    /// The web desk and the JSON API (`/api/v1`), on loopback unless told otherwise.
    Serve(crate::serve_cli::ServeArgs),
    /// People: import a CRM export.
    #[command(subcommand)]
    People(PeopleCommand),
    /// Suppliers: register, list, show.
    #[command(subcommand)]
    Supplier(SupplierCommand),
    /// Shares: record an export sent, declare a standing feed, record a deletion, list.
    #[command(subcommand)]
    Share(ShareCommand),
    /// Who and which data a supplier (with its sub-processors) held at an instant.
    Holdings {
        /// Supplier name.
        #[arg(long)]
        supplier: String,
        /// The instant (RFC 3339, or local time in the organisation's zone).
        #[arg(long)]
        at: String,
        /// List the people's references.
        #[arg(long)]
        people: bool,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// A person: what custody holds and who received their data.
    #[command(subcommand)]
    Person(PersonCommand),
    /// Incidents at suppliers: open, list, show, record acts, timeline, statements, assess.
    #[command(subcommand)]
    Incident(crate::incident_cli::IncidentCommand),
    /// The impact of an incident from the ledger, with breakdowns.
    Impact {
        /// Incident id.
        id: IncidentId,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// The report to the regulator (Art. 33(3)), initial or follow-up.
    Report {
        /// Incident id.
        id: IncidentId,
        /// initial or follow-up.
        #[arg(long, default_value = "initial", value_parser = ["initial", "follow-up"])]
        phase: String,
        /// md, html or json.
        #[arg(long, default_value = "md", value_parser = ["md", "html", "json"])]
        format: String,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        /// The report exactly as it was filed with the regulator (the latest of the phase),
        /// checked against its digests, instead of as it would read now.
        #[arg(long)]
        as_filed: bool,
        /// The regulator to report to, by short name or jurisdiction code as `custody
        /// jurisdictions` lists them (DPC, CNIL, IE, OAIC): the report in its structure (the
        /// EDPB common template's sections for EU/EEA authorities). Default: the organisation's own.
        #[arg(long)]
        regulator: Option<String>,
    },
    /// The breach register (Art. 33(5)): every incident, reported or not, with its facts,
    /// effects, decisions and their reasons, remedial action and the reports filed.
    Register {
        /// md, csv or json.
        #[arg(long, default_value = "md", value_parser = ["md", "csv", "json"])]
        format: String,
        /// JSON output (the same as --format json).
        #[arg(long)]
        json: bool,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Notices to people: preview one, the public statement.
    #[command(subcommand)]
    Notice(crate::notice_cli::NoticeCommand),
    /// Queue and send the notices of an incident through the mail server; `notify status ID`.
    Notify(crate::notice_cli::NotifyArgs),
    /// Requests from people (every right of UK GDPR Art. 15 to 21) with their legal clocks.
    #[command(subcommand)]
    Request(crate::request_cli::RequestCommand),
    /// The bank holidays request deadlines are counted with: show them, or import GOV.UK's list.
    #[command(subcommand)]
    Holidays(crate::holidays_cli::HolidaysCommand),
    /// Who must be told of a breach, by when and with what, per country and region, with the
    /// law each rule cites; `jurisdictions import FILE` replaces the rules (audited).
    Jurisdictions(crate::jurisdictions_cli::JurisdictionsArgs),
    /// What each supplier should have deleted by now: shares past retention, former people.
    Retention {
        /// List the references of the people to delete.
        #[arg(long)]
        people: bool,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// The audit log: verify the chain, export it.
    #[command(subcommand)]
    Audit(crate::audit_cli::AuditCommand),
    /// The store: move a SQLite ledger into PostgreSQL.
    #[command(subcommand)]
    Store(crate::store_cli::StoreCommand),
    /// Write a backup of the ledger and its settings to a file (never the key).
    Backup(crate::store_cli::BackupArgs),
    /// Restore a backup into a new data directory (--dir), with the key kept apart from it.
    Restore(crate::store_cli::RestoreArgs),
    /// Match a leaked file against the ledger: whose data, which data, which supplier.
    Match(crate::match_cli::MatchArgs),
    /// The desk's accounts: add, list.
    #[command(subcommand)]
    User(crate::account_cli::UserCommand),
    /// The desk's API tokens: add, list, revoke.
    #[command(subcommand)]
    Token(crate::account_cli::TokenCommand),
}

#[derive(Debug, Subcommand)]
enum PeopleCommand {
    /// Import or update people from a CSV or TSV export (all rows or none).
    Import {
        /// The export file.
        file: PathBuf,
        /// Map a header to a field: 'Header=field' (ref, first_name, last_name, full_name, email,
        /// phone, postcode, date_of_birth, country, category, status, joined_on, left_on), or
        /// 'Header=none' to leave a column out.
        #[arg(long = "map", value_name = "HEADER=FIELD")]
        maps: Vec<String>,
        /// Category of people without a category column.
        #[arg(long)]
        category: Option<String>,
        /// The order of day and month in the file's dates, when no date in it proves the order
        /// (every day 12 or less): dmy or mdy (ymd for year first).
        #[arg(long, value_parser = ["dmy", "mdy", "ymd"])]
        date_order: Option<String>,
        /// Say what the import would do with each column, and with every row, and change nothing.
        #[arg(long)]
        check: bool,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RoleArg {
    Processor,
    SubProcessor,
}

#[derive(Debug, Subcommand)]
enum SupplierCommand {
    /// Register a supplier.
    Add {
        /// Unique name.
        name: String,
        /// Processor, or sub-processor of --parent.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// The processor that engaged this sub-processor.
        #[arg(long)]
        parent: Option<String>,
        /// Hours the contract gives the supplier to report a breach to us.
        #[arg(long)]
        notice_hours: Option<u32>,
        /// Contract reference.
        #[arg(long)]
        contract: Option<String>,
        /// The supplier's data-protection contact (email).
        #[arg(long)]
        contact: Option<String>,
        /// Where it keeps the data (ISO 3166 alpha-2, e.g. GB, IE, US).
        #[arg(long)]
        country: Option<String>,
        /// The safeguard of a transfer outside the UK and EEA (e.g. "UK International Data
        /// Transfer Agreement"); named in access answers (Art. 15(2)).
        #[arg(long)]
        safeguard: Option<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Set where a supplier keeps the data and the safeguard of a transfer (audited).
    Transfer {
        /// Name.
        name: String,
        /// ISO 3166 alpha-2 country.
        #[arg(long)]
        country: Option<String>,
        /// The safeguard, in words.
        #[arg(long)]
        safeguard: Option<String>,
    },
    /// List suppliers.
    List {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Show one supplier.
    Show {
        /// Name.
        name: String,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// The people at a supplier whom custody writes to: add, remove, list.
    #[command(subcommand)]
    Contact(crate::contact_cli::ContactCommand),
    /// Mail to suppliers' contacts (questions, instructions): list, send what is due.
    #[command(subcommand)]
    Mail(crate::supplier_mail_cli::MailCommand),
}

#[derive(Debug, Subcommand)]
enum ShareCommand {
    /// Record an export actually sent to a supplier.
    Record {
        /// Supplier name.
        #[arg(long)]
        supplier: String,
        /// Why the data was sent.
        #[arg(long)]
        purpose: String,
        /// When it was sent (default: now).
        #[arg(long)]
        at: Option<String>,
        /// Days the supplier may keep it.
        #[arg(long)]
        retention_days: Option<u32>,
        /// Place a column on a data category: 'Header=user.contact.email', or 'Header=none'.
        #[arg(long = "map", value_name = "HEADER=KEY")]
        maps: Vec<String>,
        /// Add N synthetic canary people to the file to send.
        #[arg(long, requires = "canary_out")]
        canaries: Option<usize>,
        /// Where to write the file with canaries (send this one).
        #[arg(long, requires = "canaries")]
        canary_out: Option<PathBuf>,
        /// The supplier uses it for direct marketing (an objection then reaches it, Art. 21(3)).
        #[arg(long)]
        marketing: bool,
        /// The file sent.
        file: PathBuf,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Declare a standing feed (a supplier synced continuously).
    Declare {
        /// Supplier name.
        #[arg(long)]
        supplier: String,
        /// Data categories, comma-separated fideslang keys.
        #[arg(long, value_delimiter = ',', required = true)]
        categories: Vec<String>,
        /// Person categories covered, comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        audience: Vec<String>,
        /// When syncing began.
        #[arg(long)]
        from: String,
        /// When syncing stopped.
        #[arg(long)]
        to: Option<String>,
        /// Why.
        #[arg(long, default_value = "standing feed")]
        purpose: String,
        /// The supplier uses it for direct marketing.
        #[arg(long)]
        marketing: bool,
        /// Days the supplier may keep the data.
        #[arg(long)]
        retention_days: Option<u32>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Mark a share as used for direct marketing (--on) or not (--off), audited.
    Marketing {
        /// Share id.
        share: ShareId,
        /// Used for direct marketing.
        #[arg(long, conflicts_with = "off", required_unless_present = "off")]
        on: bool,
        /// Not used for direct marketing.
        #[arg(long)]
        off: bool,
    },
    /// Record a supplier's confirmation that it deleted a share's data.
    Delete {
        /// Share id.
        share: ShareId,
        /// When the supplier confirmed deletion.
        #[arg(long)]
        confirmed_at: String,
        /// Until when backups still hold the data.
        #[arg(long)]
        backups_until: Option<String>,
    },
    /// List shares.
    List {
        /// Only this supplier's.
        #[arg(long)]
        supplier: Option<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Ask the supplier that holds a share to delete its data, with every copy, by a time: its
    /// contacts are told, and its own account confirms at the desk.
    AskDeletion {
        /// Share id.
        share: ShareId,
        /// By when (default: 30 days from now).
        #[arg(long)]
        by: Option<String>,
        /// Why (default: the data is no longer needed for the purpose it was shared for).
        #[arg(long)]
        reason: Option<String>,
        /// Queue the word of a request made before again (its day and reason unchanged).
        #[arg(long, conflicts_with_all = ["by", "reason"])]
        resend: bool,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// The deletion requests to suppliers, open ones first, overdue ones marked.
    Deletions {
        /// Only this supplier's.
        #[arg(long)]
        supplier: Option<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum PersonCommand {
    /// Show a person and the recipients of their data.
    Show {
        /// The organisation's reference.
        reference: String,
        /// Accepted for clarity; recipients are always shown.
        #[arg(long)]
        recipients: bool,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".to_owned());
    format!("cli:{user}")
}

fn data_dir(dir: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    dir.context(
        "no data directory: pass --dir DIR or set CUSTODY_DIR (create one with `custody init --dir DIR`)",
    )
}

pub(crate) fn open(dir: Option<PathBuf>) -> anyhow::Result<Ledger> {
    let dir = data_dir(dir)?;
    let ledger = Ledger::open(&dir, Box::new(SystemClock), &actor())?;
    for warning in &ledger.warnings {
        eprintln!("custody: warning: {}", crate::output::terminal_safe(warning));
    }
    Ok(ledger)
}

pub(crate) fn instant(ledger: &Ledger, text: &str, flag: &str) -> anyhow::Result<Instant> {
    parse_instant(text, &ledger.zone).with_context(|| flag.to_owned())
}

pub(crate) fn pairs(maps: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    maps.iter()
        .map(|map| {
            map.rsplit_once('=')
                .map(|(header, target)| (header.trim().to_owned(), target.trim().to_owned()))
                .with_context(|| format!("--map {map:?}: expected 'Header=target'"))
        })
        .collect()
}

/// Runs one command.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Init {
            organisation,
            time_zone,
            database,
        } => {
            let dir = data_dir(cli.dir)?;
            let mut settings = Settings::new(&organisation);
            settings.time_zone = time_zone;
            settings.database = database;
            let postgres = settings.database.clone();
            custody_app::init(&dir, settings, &SystemClock, &actor())?;
            crate::say!("Created the custody data directory {}.", dir.display());
            if let Some(url) = postgres {
                crate::say!("The ledger is in {url}; the key and settings stay in the directory.");
            }
            if std::env::var(custody_vault_key_env()).is_err() {
                crate::say!(
                    "The key is in {}: back it up somewhere safe, apart from the database.",
                    dir.join("custody.key").display()
                );
            }
            crate::say!(
                "Review {} (time zone, DPO contact, special categories).",
                dir.join("settings.toml").display()
            );
        }
        Command::Serve(args) => crate::serve_cli::serve(cli.dir, args)?,
        Command::Demo {
            people,
            seed,
            json,
            serve,
            addr,
        } => {
            if serve && !addr.ip().is_loopback() {
                bail!(
                    "the demo is served on loopback only ({addr} is not); use `custody serve` behind HTTPS"
                );
            }
            let dir = cli.dir.unwrap_or_else(|| PathBuf::from("custody-demo"));
            let summary = custody_demo::run(
                &dir,
                custody_demo::DemoOptions {
                    people,
                    seed,
                    smtp: crate::notice_cli::demo_smtp()?,
                },
                &SystemClock,
                &actor(),
                &mut |step| {
                    if !json {
                        eprintln!("{step}");
                    }
                },
            )?;
            if json {
                output::json(&summary)?;
            } else {
                crate::say_raw!("{}", summary.to_text());
            }
            if serve {
                crate::serve_cli::serve_demo(&dir, addr)?;
            }
        }
        Command::People(PeopleCommand::Import {
            file,
            maps,
            category,
            date_order,
            check,
            json,
        }) => {
            let mut ledger = open(cli.dir)?;
            let default_category = category
                .map(|text| PersonCategory::parse_loose(&text))
                .transpose()?;
            let rows_read = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
            let options = people::ImportOptions {
                maps: pairs(&maps)?,
                default_category,
                rows_read: Some(rows_read.clone()),
                date_order: date_order.as_deref().map(DateOrder::parse).transpose()?,
            };
            if check {
                let report = people::check_import(&ledger, &file, &options)?;
                return crate::people_check_cli::print(&report, json);
            }
            let report = crate::output::with_progress(&rows_read, "rows read", || {
                people::import_people(&mut ledger, &file, &options)
            })?;
            for warning in &report.warnings {
                eprintln!("custody: warning: {}", crate::output::terminal_safe(warning));
            }
            if json {
                output::json(&report)?;
            } else {
                crate::say!(
                    "Imported {}: {} new, {} updated, {} unchanged.",
                    file.display(),
                    report.inserted,
                    report.updated,
                    report.unchanged
                );
                crate::people_check_cli::print_import(&report);
            }
        }
        Command::Supplier(command) => return supplier(cli.dir, command),
        Command::Incident(command) => return crate::incident_cli::run(cli.dir, command),
        Command::Request(command) => return crate::request_cli::run(cli.dir, command),
        Command::Holidays(command) => return crate::holidays_cli::run(cli.dir, command),
        Command::Jurisdictions(args) => return crate::jurisdictions_cli::run(cli.dir, args),
        Command::Notice(command) => return crate::notice_cli::notice(cli.dir, command),
        Command::Notify(args) => return crate::notice_cli::notify_command(cli.dir, args),
        Command::Retention { people, json } => {
            return crate::request_cli::retention_command(cli.dir, people, json);
        }
        Command::Match(args) => return crate::match_cli::match_command(cli.dir, args),
        Command::User(command) => return crate::account_cli::user(cli.dir, command),
        Command::Token(command) => return crate::account_cli::token(cli.dir, command),
        Command::Impact { id, json } => return crate::incident_cli::impact_command(cli.dir, id, json),
        Command::Report {
            id,
            phase,
            format,
            out,
            as_filed,
            regulator,
        } => {
            let mut ledger = open(cli.dir)?;
            let phase = custody_app::breach::report::Phase::parse(&phase)?;
            let format = custody_app::breach::report::Format::parse(&format)?;
            let text = match (as_filed, regulator) {
                (true, None) => custody_app::breach::filed::as_filed(&mut ledger, id, phase, format)?,
                (true, Some(name)) => {
                    if phase != custody_app::breach::report::Phase::Initial {
                        anyhow::bail!(
                            "a report to another regulator is filed once, by obligation-met: ask for --phase initial"
                        );
                    }
                    custody_app::breach::filed::as_filed_with(&mut ledger, id, &name, format)?
                }
                (false, regulator) => {
                    // The impact is recorded on the timeline first when the ledger changed since.
                    custody_app::breach::impact::refresh(&mut ledger, id)?;
                    match regulator {
                        Some(name) => custody_app::breach::report_forms::generate(
                            &mut ledger,
                            id,
                            phase,
                            format,
                            &name,
                        )?,
                        None => custody_app::breach::report::generate(&mut ledger, id, phase, format)?,
                    }
                }
            };
            match out {
                Some(path) => {
                    custody_app::files::write_output(&path, text.as_bytes())
                        .with_context(|| format!("writing {}", path.display()))?;
                    crate::say!("Wrote the report to {}.", path.display());
                }
                None => crate::say_raw!("{text}"),
            }
        }
        Command::Register { format, json, out } => {
            let mut ledger = open(cli.dir)?;
            let format = if json { "json".to_owned() } else { format };
            let text = custody_app::breach::register::render(&mut ledger, &format)?;
            match out {
                Some(path) => {
                    custody_app::files::write_output(&path, text.as_bytes())
                        .with_context(|| format!("writing {}", path.display()))?;
                    crate::say!("Wrote the register to {}.", path.display());
                }
                None => crate::say_raw!("{text}"),
            }
        }
        Command::Share(command) => return share(cli.dir, command),
        Command::Holdings {
            supplier,
            at,
            people,
            json,
        } => {
            let mut ledger = open(cli.dir)?;
            let at = instant(&ledger, &at, "--at")?;
            let report = holdings::holdings(&ledger, &supplier, at, people)?;
            if let Some(refs) = &report.refs {
                person::record_listing(&mut ledger, "holdings", refs.len())?;
            }
            if json {
                output::json(&report)?;
            } else {
                crate::say!(
                    "{} held data of {} people at {} ({}).",
                    report.supplier,
                    report.people,
                    report.at_local,
                    report.at
                );
                if !report.sub_processors.is_empty() {
                    crate::say!("Including sub-processors: {}", report.sub_processors.join(", "));
                }
                if report.canaries > 0 {
                    crate::say!("Canaries held: {}", report.canaries);
                }
                let rows: Vec<Vec<String>> = report
                    .categories
                    .iter()
                    .map(|(key, count)| vec![(*key).to_owned(), count.to_string()])
                    .collect();
                output::table(&["data category", "people"], &rows);
                if let Some(refs) = report.refs {
                    for reference in refs {
                        crate::say!("{reference}");
                    }
                }
            }
        }
        Command::Person(PersonCommand::Show {
            reference,
            recipients: _,
            json,
        }) => {
            let mut ledger = open(cli.dir)?;
            let view = person::look_up(&mut ledger, person::Query::Reference(&reference))?;
            if json {
                output::json(&view)?;
            } else {
                crate::say!("{} — {} ({})", view.reference, view.category, view.status);
                crate::say!(
                    "Lives in: {}; breach rules of: {}",
                    view.region
                        .as_deref()
                        .or(view.country.as_deref())
                        .unwrap_or("not known"),
                    if view.jurisdictions.is_empty() {
                        "none custody knows".to_owned()
                    } else {
                        view.jurisdictions.join(", ")
                    }
                );
                if let Some(left) = &view.left_on {
                    crate::say!("Left on {left}");
                }
                crate::say!("Recipients of their data:");
                let rows: Vec<Vec<String>> = view
                    .recipients
                    .iter()
                    .map(|r| {
                        vec![
                            r.supplier.clone(),
                            r.share.to_string(),
                            r.shared_at.clone(),
                            r.categories.join(", "),
                            r.deleted_at.clone().unwrap_or_else(|| "not deleted".into()),
                        ]
                    })
                    .collect();
                output::table(
                    &["supplier", "share", "shared at", "categories", "deleted"],
                    &rows,
                );
            }
        }
        Command::Audit(command) => return crate::audit_cli::run(cli.dir, command),
        Command::Store(command) => return crate::store_cli::store(cli.dir, command),
        Command::Backup(args) => return crate::store_cli::backup(cli.dir, args),
        Command::Restore(args) => return crate::store_cli::restore(data_dir(cli.dir)?, args),
    }
    Ok(ExitCode::SUCCESS)
}

fn custody_vault_key_env() -> &'static str {
    "CUSTODY_KEY"
}

fn supplier(dir: Option<PathBuf>, command: SupplierCommand) -> anyhow::Result<ExitCode> {
    match command {
        SupplierCommand::Contact(command) => return crate::contact_cli::contact(dir, command),
        SupplierCommand::Mail(command) => return crate::supplier_mail_cli::mail(dir, command),
        SupplierCommand::Add {
            name,
            role,
            parent,
            notice_hours,
            contract,
            contact,
            country,
            safeguard,
            json,
        } => {
            let mut ledger = open(dir)?;
            let role = match role {
                RoleArg::Processor => SupplierRole::Processor,
                RoleArg::SubProcessor => SupplierRole::SubProcessor,
            };
            let id = suppliers::add_supplier(
                &mut ledger,
                suppliers::SupplierInput {
                    name: name.clone(),
                    role,
                    parent,
                    notice_hours,
                    contract,
                    contact,
                    country,
                    transfer_safeguard: safeguard,
                },
            )?;
            if json {
                output::json(&serde_json::json!({ "supplier": id, "name": name.trim() }))?;
            } else {
                crate::say!("Registered supplier {} ({id}).", name.trim());
            }
        }
        SupplierCommand::Transfer {
            name,
            country,
            safeguard,
        } => {
            let mut ledger = open(dir)?;
            let view = suppliers::set_transfer(&mut ledger, &name, country.as_deref(), safeguard)?;
            crate::say!(
                "{}: data kept in {}{}.",
                view.name,
                view.country.as_deref().unwrap_or("(not known)"),
                view.transfer_safeguard
                    .as_ref()
                    .map(|text| format!(", safeguard: {text}"))
                    .unwrap_or_default()
            );
        }
        SupplierCommand::List { json } => {
            let ledger = open(dir)?;
            let list = suppliers::list(&ledger)?;
            if json {
                output::json(&list)?;
            } else {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|s| {
                        vec![
                            s.name.clone(),
                            s.role.to_owned(),
                            s.parent.clone().unwrap_or_default(),
                            s.notice_hours.map(|h| h.to_string()).unwrap_or_default(),
                            s.shares.to_string(),
                        ]
                    })
                    .collect();
                output::table(&["supplier", "role", "parent", "notice hours", "shares"], &rows);
            }
        }
        SupplierCommand::Show { name, json } => {
            let ledger = open(dir)?;
            let view = suppliers::show(&ledger, &name)?;
            if json {
                output::json(&view)?;
            } else {
                crate::say!("{} ({}), registered {}", view.name, view.role, view.created_at);
                if let Some(parent) = &view.parent {
                    crate::say!("Sub-processor of {parent}");
                }
                if !view.sub_processors.is_empty() {
                    crate::say!("Sub-processors: {}", view.sub_processors.join(", "));
                }
                crate::say!(
                    "Breach notice: {}",
                    view.notice_hours
                        .map_or("not agreed".to_owned(), |h| format!("{h} hours"))
                );
                crate::say!("Contract: {}", view.contract.as_deref().unwrap_or("-"));
                crate::say!("Contact: {}", view.contact.as_deref().unwrap_or("-"));
                crate::say!(
                    "Data kept in: {}{}",
                    view.country.as_deref().unwrap_or("-"),
                    match (&view.transfer_safeguard, view.outside_uk_eea) {
                        (Some(safeguard), _) => format!(" (safeguard: {safeguard})"),
                        (None, true) => " (outside the UK and EEA, and no safeguard recorded)".to_owned(),
                        (None, false) => String::new(),
                    }
                );
                crate::say!("Shares: {}", view.shares);
                for contact in view.contacts.iter().flatten() {
                    crate::say!(
                        "Contact ({}): {} <{}>",
                        contact.role.as_str(),
                        contact.name,
                        contact.email
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn share(dir: Option<PathBuf>, command: ShareCommand) -> anyhow::Result<ExitCode> {
    match command {
        ShareCommand::Record {
            supplier,
            purpose,
            at,
            retention_days,
            maps,
            canaries,
            canary_out,
            marketing,
            file,
            json,
        } => {
            let mut ledger = open(dir)?;
            let at = at.map(|text| instant(&ledger, &text, "--at")).transpose()?;
            let canaries = match (canaries, canary_out) {
                (Some(count), Some(out)) => Some((count, out)),
                (None, None) => None,
                _ => bail!("--canaries and --canary-out go together"),
            };
            let input = shares::RecordInput {
                supplier,
                purpose,
                marketing,
                at,
                retention_days,
                maps: pairs(&maps)?,
                canaries,
                file,
            };
            let report = shares::record_export(&mut ledger, input)?;
            if json {
                output::json(&report)?;
            } else {
                crate::say!(
                    "Recorded share {}: {} people from {} rows, {} unmatched.",
                    report.share,
                    report.people,
                    report.rows,
                    report.unmatched
                );
                crate::say!("Categories: {}", report.categories.join(", "));
                if report.canaries > 0 {
                    crate::say!(
                        "Planted {} canaries; send the canary file (SHA-256 {}).",
                        report.canaries,
                        report.sha256
                    );
                }
                if report.unmatched > 0 {
                    crate::say!(
                        "Unmatched lines (first {}): {:?}",
                        report.unmatched_lines.len().min(20),
                        &report.unmatched_lines.iter().take(20).collect::<Vec<_>>()
                    );
                }
            }
        }
        ShareCommand::Declare {
            supplier,
            categories,
            audience,
            from,
            to,
            purpose,
            marketing,
            retention_days,
            json,
        } => {
            let mut ledger = open(dir)?;
            let input = shares::FeedInput {
                supplier,
                categories: categories
                    .iter()
                    .map(|key| CategoryKey::parse(key))
                    .collect::<Result<_, _>>()?,
                audience: audience
                    .iter()
                    .map(|text| PersonCategory::parse_loose(text))
                    .collect::<Result<_, _>>()?,
                from: instant(&ledger, &from, "--from")?,
                to: to.map(|text| instant(&ledger, &text, "--to")).transpose()?,
                purpose,
                marketing,
                retention_days,
            };
            let id = shares::declare_feed(&mut ledger, input)?;
            if json {
                output::json(&serde_json::json!({ "share": id }))?;
            } else {
                crate::say!("Declared standing feed as share {id}.");
            }
        }
        ShareCommand::Marketing { share, on, off: _ } => {
            let mut ledger = open(dir)?;
            shares::set_marketing(&mut ledger, share, on)?;
            crate::say!(
                "Share {share} is {} for direct marketing.",
                if on {
                    "now marked as used"
                } else {
                    "no longer marked as used"
                }
            );
        }
        ShareCommand::Delete {
            share,
            confirmed_at,
            backups_until,
        } => {
            let mut ledger = open(dir)?;
            let at = instant(&ledger, &confirmed_at, "--confirmed-at")?;
            let backups = backups_until
                .map(|text| instant(&ledger, &text, "--backups-until"))
                .transpose()?;
            shares::confirm_deletion(&mut ledger, share, at, backups, None)?;
            crate::say!("Recorded the deletion of share {share}.");
        }
        ShareCommand::AskDeletion {
            share,
            by,
            reason,
            resend,
            json,
        } => {
            let mut ledger = open(dir)?;
            let by = by.map(|text| instant(&ledger, &text, "--by")).transpose()?;
            let asked = if resend {
                custody_app::ledger::deletion_requests::resend(&mut ledger, share)?
            } else {
                custody_app::ledger::deletion_requests::ask(&mut ledger, share, by, reason)?
            };
            if json {
                output::json(&asked)?;
            } else {
                crate::say!(
                    "Asked {} to delete share {share} by {}; {} message(s) to its contacts queued (`custody supplier mail send`).",
                    asked.supplier,
                    asked.due_at.local(&ledger.zone),
                    asked.messages
                );
            }
        }
        ShareCommand::Deletions { supplier, json } => {
            let ledger = open(dir)?;
            let only = supplier
                .map(|name| custody_app::ledger::suppliers::find(&ledger, &name).map(|found| found.id))
                .transpose()?;
            let list = custody_app::ledger::deletion_requests::list(
                &ledger,
                only.as_ref().map(std::slice::from_ref),
            )?;
            if json {
                output::json(&list)?;
            } else {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|view| {
                        let state = match (view.request.deleted_at, view.overdue) {
                            (Some(at), _) => format!("deleted {}", at.local(&ledger.zone)),
                            (None, true) => "OVERDUE".to_owned(),
                            (None, false) => "waiting".to_owned(),
                        };
                        vec![
                            view.request.share.to_string(),
                            view.supplier_name.clone(),
                            view.request.asked_at.local(&ledger.zone),
                            view.request.due_at.local(&ledger.zone),
                            state,
                        ]
                    })
                    .collect();
                output::table(&["share", "supplier", "asked", "due", "state"], &rows);
            }
        }
        ShareCommand::List { supplier, json } => {
            let ledger = open(dir)?;
            let list = shares::list(&ledger, supplier.as_deref())?;
            if json {
                output::json(&list)?;
            } else {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|s| {
                        vec![
                            s.share.to_string(),
                            s.supplier.clone(),
                            s.kind.to_owned(),
                            s.shared_at.clone(),
                            s.people
                                .map_or_else(|| "(feed)".to_owned(), |people| people.to_string()),
                            s.purpose.clone(),
                            s.deleted_at.clone().unwrap_or_default(),
                        ]
                    })
                    .collect();
                output::table(
                    &[
                        "share",
                        "supplier",
                        "kind",
                        "shared at",
                        "people",
                        "purpose",
                        "deleted at",
                    ],
                    &rows,
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
