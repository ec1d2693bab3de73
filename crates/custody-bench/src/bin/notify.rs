//! `notify`: custody's notice sending against Postfix's `smtp-sink`, beside Postfix's
//! `smtp-source` (the reference SMTP load generator) sending the same message to the same sink
//! with the same number of parallel sessions, in the same run; plus the cost of Nagle's
//! algorithm (lettre's default) on a small sample, and the time to queue many notices.
//!
//! `cargo run --release -p custody-bench --bin notify -- --messages 20000 --concurrency 4
//! [--queue-people 2000000]` (needs `smtp-sink` and `smtp-source`: Debian's `postfix`).

use custody_core::IncidentId;
use std::io::{BufWriter, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant as Clock};

use anyhow::{Context, bail};
use clap::Parser;
// Linked for its global allocator (mimalloc, as the `custody` binary has): the benchmark runs
// custody's own code in this process.
use custody_bench as _;

use custody_app::breach::incidents::{self, OpenInput};
use custody_app::clock::SystemClock;
use custody_app::notices::notice_model::NoticeContext;
use custody_app::notices::notify::{self, Audience, NotifyOptions};
use custody_app::notices::notify_run::RunOptions;
use custody_app::{Ledger, ledger::people, ledger::shares, ledger::suppliers};
use custody_core::{Nature, Settings, SupplierRole, parse_instant};
use custody_mail::{SmtpConfig, TlsMode};

/// Benchmark options.
#[derive(Debug, Parser)]
struct Options {
    /// Notices to send in each measured run.
    #[arg(long, default_value_t = 20_000)]
    messages: u32,
    /// Parallel SMTP sessions, for custody and smtp-source alike.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Messages sent with Nagle's algorithm on, to show its cost.
    #[arg(long, default_value_t = 200)]
    nagle_sample: u32,
    /// Also time queueing the notices of an incident affecting this many people.
    #[arg(long)]
    queue_people: Option<u32>,
}

/// Postfix's smtp-sink on a free loopback port.
struct Sink {
    child: Child,
    port: u16,
}

impl Sink {
    fn start() -> anyhow::Result<Sink> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut command = Command::new("smtp-sink");
        if running_as_root() {
            // smtp-sink refuses to run as root unless told whose privileges to drop to.
            command.args(["-u", "nobody"]);
        }
        let child = command
            .arg(format!("127.0.0.1:{port}"))
            .arg("512")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("smtp-sink (Debian's postfix package) must be installed")?;
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(Sink { child, port });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        bail!("smtp-sink did not start")
    }
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find(|line| line.starts_with("Uid:"))
            .and_then(|line| line.split_whitespace().nth(1))
            == Some("0")
    })
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn write_people(path: &Path, count: u32) -> anyhow::Result<Vec<String>> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        out,
        "ref,first_name,last_name,email,postcode,category,status,joined_on"
    )?;
    let mut refs = Vec::with_capacity(count as usize);
    for index in 0..count {
        let reference = format!("N{index:08}");
        writeln!(
            out,
            "{reference},Alex,Smith{index},alex.smith.{index}@example.org,SW1A 1AA,member,current,2015-01-01"
        )?;
        refs.push(reference);
    }
    out.flush()?;
    Ok(refs)
}

/// A ledger of `count` people all sent to one supplier, and `incidents` incidents there.
fn ledger_with_incidents(root: &Path, count: u32, incidents: usize) -> anyhow::Result<(Ledger, Vec<String>)> {
    let dir = root.join("data");
    let mut settings = Settings::new("Bench Party");
    settings.dpo.email = "dpo@party.example.org".to_owned();
    custody_app::init(&dir, settings, &SystemClock, "bench")?;
    let mut ledger = Ledger::open(&dir, Box::new(SystemClock), "bench")?;
    let crm = root.join("people.csv");
    let refs = write_people(&crm, count)?;
    people::import_people(&mut ledger, &crm, &people::ImportOptions::default())?;
    let shared_at = parse_instant("2021-09-01 09:00", &ledger.zone)?;
    let aware_at = parse_instant("2021-10-29 18:30", &ledger.zone)?;
    suppliers::add_supplier(
        &mut ledger,
        suppliers::SupplierInput {
            name: "Mailing House".to_owned(),
            role: SupplierRole::Processor,
            parent: None,
            notice_hours: None,
            contract: None,
            contact: None,
            country: None,
            transfer_safeguard: None,
        },
    )?;
    shares::record_export(
        &mut ledger,
        shares::RecordInput {
            supplier: "Mailing House".to_owned(),
            purpose: "newsletter".to_owned(),
            marketing: false,
            at: Some(shared_at),
            retention_days: None,
            maps: ["category", "status", "joined_on"]
                .iter()
                .map(|column| ((*column).to_owned(), "none".to_owned()))
                .collect(),
            canaries: None,
            file: crm.clone(),
        },
    )?;
    for _ in 0..incidents {
        incidents::open(
            &mut ledger,
            OpenInput {
                supplier: Some("Mailing House".to_owned()),
                aware_at,
                nature: vec![Nature::Confidentiality],
                summary: "Ransomware at the mailing house; member data was copied out.".to_owned(),
                occurred_from: None,
                occurred_to: None,
                supplier_discovered_at: None,
                supplier_notified_at: None,
                cyber: Some(true),
            },
        )?;
    }
    Ok((ledger, refs))
}

fn config(port: u16, nodelay: bool) -> anyhow::Result<SmtpConfig> {
    let env = |name: &str| match name {
        "CUSTODY_SMTP_HOST" => Some("127.0.0.1".to_owned()),
        "CUSTODY_SMTP_PORT" => Some(port.to_string()),
        "CUSTODY_SMTP_TLS" => Some("none".to_owned()),
        _ => None,
    };
    let mut config = SmtpConfig::resolve(None, &env, "Bench Party <dpo@party.example.org>")?;
    assert_eq!(config.tls, TlsMode::None);
    config.nodelay = nodelay;
    Ok(config)
}

/// CPU seconds used so far by each thread of this process, by thread name.
fn thread_cpu() -> Vec<(String, f64)> {
    let mut out = Vec::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for task in tasks.flatten() {
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        let name = stat
            .split_once(" (")
            .and_then(|(_, rest)| rest.rsplit_once(") "))
            .map_or("", |(name, _)| name)
            .to_owned();
        out.push((name, cpu_seconds(&stat).unwrap_or(0.0)));
    }
    out
}

/// User plus system CPU seconds from a `/proc/…/stat` line (fields 14 and 15; 100 ticks a second).
fn cpu_seconds(stat: &str) -> Option<f64> {
    let rest = stat.rsplit_once(") ")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |index: usize| fields.get(index).and_then(|field| field.parse::<f64>().ok());
    Some((ticks(11)? + ticks(12)?) / 100.0)
}

/// Sends the notices of incident `id` to the audience in `file`; returns messages a second.
fn custody_run(
    ledger: &mut Ledger,
    id: IncidentId,
    file: &Path,
    port: u16,
    concurrency: usize,
    nodelay: bool,
) -> anyhow::Result<(u64, f64)> {
    let options = NotifyOptions {
        audience: Audience::File(file.to_owned()),
        dry_run: false,
        run: RunOptions {
            concurrency,
            ..RunOptions::default()
        },
    };
    let process_cpu = || {
        std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|stat| cpu_seconds(&stat))
            .unwrap_or(0.0)
    };
    let sink_cpu = || -> f64 {
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return 0.0;
        };
        entries
            .flatten()
            .filter_map(|entry| std::fs::read_to_string(entry.path().join("stat")).ok())
            .filter(|stat| stat.contains("(smtp-sink)"))
            .filter_map(|stat| cpu_seconds(&stat))
            .sum()
    };
    let (all_before, sink_before) = (process_cpu(), sink_cpu());
    let before: f64 = thread_cpu()
        .iter()
        .filter(|(name, _)| name != "custody-smtp")
        .map(|(_, s)| s)
        .sum();
    let report = notify::notify(ledger, id, &options, Some(config(port, nodelay)?), &mut |_| {})?;
    let after: f64 = thread_cpu()
        .iter()
        .filter(|(name, _)| name != "custody-smtp")
        .map(|(_, s)| s)
        .sum();
    let (all_after, sink_after) = (process_cpu(), sink_cpu());
    if std::env::var_os("CUSTODY_BENCH_CPU").is_some() {
        println!(
            "    CPU: custody {:.2} s (main {:.2} s), smtp-sink {:.2} s",
            all_after - all_before,
            after - before,
            sink_after - sink_before
        );
    }
    let progress = report.run.context("a run")?.progress;
    if std::env::var_os("CUSTODY_BENCH_CPU").is_some() {
        println!(
            "    main thread: {:.2} s CPU over {:.2} s ({} messages)",
            after - before,
            progress.elapsed,
            progress.sent
        );
    }
    Ok((progress.sent, progress.sent as f64 / progress.elapsed.max(1e-9)))
}

fn audience_file(root: &Path, name: &str, refs: &[String]) -> anyhow::Result<PathBuf> {
    let path = root.join(name);
    let mut out = BufWriter::new(std::fs::File::create(&path)?);
    writeln!(out, "ref")?;
    for reference in refs {
        writeln!(out, "{reference}")?;
    }
    out.flush()?;
    Ok(path)
}

/// smtp-source sending `count` copies of the message in `file`; returns messages a second.
fn smtp_source(file: &Path, port: u16, count: u32, sessions: usize) -> anyhow::Result<f64> {
    let started = Clock::now();
    let status = Command::new("smtp-source")
        .args(["-d", "-s", &sessions.to_string(), "-m", &count.to_string()])
        .arg("-F")
        .arg(file)
        .args([
            "-f",
            "dpo@party.example.org",
            "-t",
            "alex.smith@example.org",
            "-M",
            "party.example.org",
        ])
        .arg(format!("127.0.0.1:{port}"))
        .status()
        .context("smtp-source (Debian's postfix package) must be installed")?;
    if !status.success() {
        bail!("smtp-source failed: {status}");
    }
    Ok(f64::from(count) / started.elapsed().as_secs_f64())
}

fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    let root = std::env::temp_dir().join(format!("custody-notify-bench-{}", std::process::id()));
    std::fs::create_dir_all(&root)?;
    let result = run(&options, &root);
    let _ = std::fs::remove_dir_all(&root);
    result
}

fn run(options: &Options, root: &Path) -> anyhow::Result<()> {
    let sink = Sink::start()?;
    let count = options.messages;
    let nagle = options.nagle_sample.min(count);
    let (mut ledger, refs) = ledger_with_incidents(root, count, 3)?;
    let all = audience_file(root, "all.csv", &refs)?;
    let sample = audience_file(root, "sample.csv", refs.get(..nagle as usize).unwrap_or(&refs))?;

    // The message smtp-source sends: custody's own notice for the first person, byte for byte.
    let (_, text) = notify::preview(&mut ledger, IncidentId::new(1), refs.first().map(String::as_str))?;
    let notice = custody_mail::Notice {
        message_id: "<bench@party.example.org>".to_owned(),
        to: "alex.smith.0@example.org".to_owned(),
        subject: text.subject,
        text: text.text,
        html: text.html,
    };
    let (_, bytes) = custody_mail::build("Bench Party <dpo@party.example.org>", &notice, 1_635_528_600)?;
    let message = root.join("message.eml");
    std::fs::write(&message, &bytes)?;
    println!(
        "notice sending: {count} messages of {} bytes, {} sessions, to Postfix smtp-sink on loopback",
        bytes.len(),
        options.concurrency
    );

    if std::env::var_os("CUSTODY_BENCH_CPU").is_some() {
        let context = NoticeContext::build(&ledger, IncidentId::new(1))?;
        let templates = custody_mail::Templates::load(None)?;
        let first = refs.first().context("people")?;
        let person = ledger.store.person_by_ref(first)?.context("person")?;
        let n = 5000;
        let t = Clock::now();
        let mut texts = Vec::new();
        for _ in 0..n {
            let part = context.person_part(&person, Some("Alex".to_owned()));
            texts.push(context.model(vec![part]).render(&templates)?);
        }
        let render = t.elapsed().as_secs_f64() / f64::from(n) * 1e6;
        let t = Clock::now();
        for text in &texts {
            let notice = custody_mail::Notice {
                message_id: "<x@y.org>".into(),
                to: "alex@example.org".into(),
                subject: text.subject.clone(),
                text: text.text.clone(),
                html: text.html.clone(),
            };
            custody_mail::build("Bench <dpo@party.example.org>", &notice, 0)?;
        }
        let build = t.elapsed().as_secs_f64() / f64::from(n) * 1e6;
        let t = Clock::now();
        for _ in 0..n {
            ledger.store.person(person.id)?;
        }
        let lookup = t.elapsed().as_secs_f64() / f64::from(n) * 1e6;
        println!("    per message: render {render:.1} µs, build {build:.1} µs, person lookup {lookup:.1} µs");
    }
    let reference_first = smtp_source(&message, sink.port, count, options.concurrency)?;
    let (sent_first, custody_first) = custody_run(
        &mut ledger,
        IncidentId::new(1),
        &all,
        sink.port,
        options.concurrency,
        true,
    )?;
    let (sent_second, custody_second) = custody_run(
        &mut ledger,
        IncidentId::new(2),
        &all,
        sink.port,
        options.concurrency,
        true,
    )?;
    let reference_second = smtp_source(&message, sink.port, count, options.concurrency)?;
    if sent_first != u64::from(count) || sent_second != u64::from(count) {
        bail!("custody sent {sent_first} and {sent_second} of {count}");
    }
    let reference = reference_first.max(reference_second);
    let custody = custody_first.max(custody_second);
    println!("  smtp-source (reference): {reference_first:.0} and {reference_second:.0} msg/s");
    println!("  custody notify:          {custody_first:.0} and {custody_second:.0} msg/s");
    println!(
        "  custody / reference (best of two each): {:.0} %  [target ≥ 80 %]",
        100.0 * custody / reference
    );
    let (_, with_nagle) = custody_run(
        &mut ledger,
        IncidentId::new(3),
        &sample,
        sink.port,
        options.concurrency,
        false,
    )?;
    println!(
        "  with Nagle's algorithm on (lettre's default), {nagle} messages: {with_nagle:.0} msg/s \
         ({:.1} ms a message per session)",
        1000.0 * options.concurrency as f64 / with_nagle.max(1e-9)
    );
    drop(ledger);

    if let Some(people) = options.queue_people {
        let queue_root = root.join("queue");
        std::fs::create_dir_all(&queue_root)?;
        let started = Clock::now();
        let (mut ledger, _) = ledger_with_incidents(&queue_root, people, 1)?;
        println!(
            "queueing: a ledger of {people} people built in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        let started = Clock::now();
        let context = NoticeContext::build(&ledger, IncidentId::new(1))?;
        let queued = notify::queue(&mut ledger, &context, &Audience::Affected, false)?;
        let elapsed = started.elapsed().as_secs_f64();
        println!(
            "  queue {} notices for {} people: {elapsed:.1} s  [target ≤ 30 s at 2M]",
            queued.added, queued.people
        );
    }
    Ok(())
}
