//! The desk under load: serves a data directory on loopback and runs wrk (Debian's `wrk`)
//! against the incident page and the API, printing requests per second and latency
//! percentiles (the target: p95 ≤ 100 ms at demo size and at 10M people).
//!
//! `cargo run --release -p custody-bench --bin desk -- --dir DIR 2>/dev/null`, where DIR is a
//! data directory (the demo's, or the matching benchmark's 10M one). An incident is opened at
//! the first supplier when there is none; a `bench` account and token are made for the run.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use clap::Parser;
// Linked for its global allocator (mimalloc, as the `custody` binary has): the benchmark runs
// custody's own code in this process.
use custody_bench as _;

use custody_app::clock::{Clock, SystemClock};
use custody_app::{Ledger, breach::incidents, desk::accounts, ledger::suppliers};
use custody_core::{DeskRole, Nature};

#[derive(Debug, Parser)]
struct Options {
    /// The data directory to serve.
    #[arg(long)]
    dir: PathBuf,
    /// Seconds each route is loaded for.
    #[arg(long, default_value_t = 15)]
    seconds: u32,
    /// Connections kept open by wrk.
    #[arg(long, default_value_t = 16)]
    connections: u32,
}

const PERCENTILES_LUA: &str = r#"
done = function(summary, latency, requests)
  io.write(string.format("FIGURES %d %.3f %.3f %.3f %.3f %d\n", summary.requests,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.duration / 1000000, summary.errors.status + summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout))
end
"#;

fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    let prepared = prepare(&options.dir)?;
    let incident = prepared.incident;
    println!(
        "incident {incident}: {} people affected (as recorded)",
        prepared.people
    );
    let (sender, receiver) = std::sync::mpsc::channel();
    let desk_options = custody_desk::DeskOptions {
        dir: options.dir.clone(),
        behind_https: false,
    };
    std::thread::spawn(move || {
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        let result = custody_desk::serve(desk_options, loopback, |addr| {
            let _ = sender.send(addr);
        });
        if let Err(error) = result {
            eprintln!("desk: {error}");
        }
    });
    let addr = receiver.recv().context("the desk did not start")?;
    let cookie = sign_in(addr, &prepared.account, &prepared.password)?;
    let script = std::env::temp_dir().join(format!("custody-desk-bench-{}.lua", std::process::id()));
    std::fs::write(&script, PERCENTILES_LUA)?;
    println!(
        "wrk: {} connections, 2 threads, {} s per route",
        options.connections, options.seconds
    );
    println!("route                              requests/s   p50 ms   p95 ms   p99 ms  errors");
    let page = format!("Cookie: custody_session={cookie}");
    let api = format!("Authorization: Bearer {}", prepared.token);
    let routes = [
        (
            "page GET /incidents/{id}",
            format!("/incidents/{incident}"),
            &page,
        ),
        (
            "api  GET /api/v1/incidents/{id}",
            format!("/api/v1/incidents/{incident}"),
            &api,
        ),
        ("page GET /incidents", "/incidents".to_owned(), &page),
        ("api  GET /api/v1/incidents", "/api/v1/incidents".to_owned(), &api),
        (
            "api  GET …/holdings?at=",
            format!(
                "/api/v1/suppliers/{}/holdings?at={}",
                prepared.supplier,
                prepared.aware_at.to_rfc3339()
            ),
            &api,
        ),
    ];
    for (name, path, header) in routes {
        let figures = wrk(&options, &script, &format!("http://{addr}{path}"), header)?;
        println!(
            "{name:<34} {:>10.0} {:>8.2} {:>8.2} {:>8.2} {:>7}",
            figures.requests as f64 / figures.seconds,
            figures.p50,
            figures.p95,
            figures.p99,
            figures.errors
        );
    }
    let _ = std::fs::remove_file(&script);
    Ok(())
}

struct Prepared {
    incident: custody_core::IncidentId,
    /// The incident's supplier, percent-encoded for a path.
    supplier: String,
    /// When the organisation became aware.
    aware_at: custody_core::Instant,
    account: String,
    password: String,
    token: String,
    people: u64,
}

/// An incident to load (opened when there is none, its impact recorded), an account and a
/// token for this run.
fn prepare(dir: &Path) -> anyhow::Result<Prepared> {
    let mut ledger = Ledger::open(dir, Box::new(SystemClock), "cli:bench")?;
    let incident = match incidents::list(&ledger)?.first() {
        Some(incident) => incident.incident,
        None => {
            let supplier = suppliers::list(&ledger)?
                .into_iter()
                .next()
                .context("the data directory has no supplier to open an incident at")?;
            incidents::open(
                &mut ledger,
                incidents::OpenInput {
                    supplier: Some(supplier.name),
                    aware_at: SystemClock.now().plus_hours(-20),
                    nature: vec![Nature::Confidentiality],
                    summary: "A benchmark incident: the supplier's database was copied.".to_owned(),
                    occurred_from: None,
                    occurred_to: None,
                    supplier_discovered_at: None,
                    supplier_notified_at: None,
                    cyber: Some(true),
                },
            )?
        }
    };
    let people = custody_app::breach::impact::refresh(&mut ledger, incident)?
        .figures
        .people;
    let record = incidents::find_incident(&ledger, incident)?;
    let supplier = record
        .supplier
        .context("the benchmark needs an incident at a supplier")?
        .bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect();
    let password = accounts::random_password()?;
    let account = format!("bench-{}", std::process::id());
    accounts::add_user(&mut ledger, &account, DeskRole::Admin, None, &password)?;
    let (token, _) = accounts::add_token(&mut ledger, &account, DeskRole::Viewer, None)?;
    Ok(Prepared {
        incident,
        supplier,
        aware_at: record.facts.aware_at,
        account,
        password,
        token,
        people,
    })
}

/// One request on its own connection; the answer's head and body.
fn http(addr: SocketAddr, request: &str) -> anyhow::Result<String> {
    let mut stream = TcpStream::connect(addr)?;
    stream.write_all(request.as_bytes())?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer)
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let to = text.get(from..)?.find(end)? + from;
    text.get(from..to)
}

/// Signs in as a browser would; the session cookie.
fn sign_in(addr: SocketAddr, name: &str, password: &str) -> anyhow::Result<String> {
    let form = http(
        addr,
        &format!("GET /sign-in HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    )?;
    let tie = between(&form, "custody_sign_in=", ";").context("no sign-in cookie")?;
    let csrf = between(&form, "name=\"csrf\" value=\"", "\"").context("no sign-in token")?;
    let body = format!("csrf={csrf}&name={name}&password={password}");
    let answer = http(
        addr,
        &format!(
            "POST /sign-in HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nCookie: custody_sign_in={tie}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    )?;
    match between(&answer, "custody_session=", ";") {
        Some(cookie) => Ok(cookie.to_owned()),
        None => bail!("the bench account could not sign in: {answer}"),
    }
}

struct Figures {
    requests: u64,
    p50: f64,
    p95: f64,
    p99: f64,
    seconds: f64,
    errors: u64,
}

/// Runs wrk against one address and reads the figures its script prints.
fn wrk(options: &Options, script: &Path, url: &str, header: &str) -> anyhow::Result<Figures> {
    let output = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{}", options.connections),
            &format!("-d{}s", options.seconds),
        ])
        .args(["--timeout", "10s", "-H", header, "-s"])
        .arg(script)
        .arg(url)
        .output()
        .context("wrk could not run (Debian's wrk package)")?;
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text
        .lines()
        .find_map(|line| line.strip_prefix("FIGURES "))
        .with_context(|| format!("wrk printed no figures: {text}"))?;
    let fields: Vec<f64> = line
        .split_whitespace()
        .filter_map(|field| field.parse().ok())
        .collect();
    let [requests, p50, p95, p99, seconds, errors] = fields[..] else {
        bail!("wrk's figures are not as expected: {line}");
    };
    Ok(Figures {
        requests: requests as u64,
        p50,
        p95,
        p99,
        seconds,
        errors: errors as u64,
    })
}
