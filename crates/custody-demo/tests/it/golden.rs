//! Legal documents have golden files: the regulator report of the demo incident, as it reads now
//! and as filed, at each phase, in Markdown and JSON. A change to their wording is a reviewed
//! diff of `tests/golden/`, not a fragment check. Run with `UPDATE_GOLDEN=1` to rewrite them.

use custody_core::IncidentId;
use std::path::{Path, PathBuf};

use custody_app::breach::report::{Format, Phase};
use custody_app::clock::{Clock, FixedClock};
use custody_app::{Ledger, breach::filed, breach::report};
use custody_core::{TimeZoneName, parse_instant};

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// Compares `text` with the golden file `name`, or rewrites it under `UPDATE_GOLDEN`.
fn check(name: &str, text: &str) {
    let path = golden(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, text).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} is missing; run with UPDATE_GOLDEN=1 to write it",
            path.display()
        )
    });
    if expected != text {
        let line = expected
            .lines()
            .zip(text.lines())
            .position(|(want, got)| want != got)
            .unwrap_or_else(|| expected.lines().count().min(text.lines().count()));
        panic!(
            "{name} differs from its golden file at line {}:\n  golden: {:?}\n  now:    {:?}\n\
             Review the change; run with UPDATE_GOLDEN=1 to accept it.",
            line + 1,
            expected.lines().nth(line).unwrap_or("(end)"),
            text.lines().nth(line).unwrap_or("(end)")
        );
    }
}

#[test]
fn the_demo_incident_reports_read_as_their_golden_files() {
    let zone = TimeZoneName::parse("Europe/London").unwrap();
    let now = parse_instant("2022-01-10 12:00", &zone).unwrap();
    let clock = FixedClock(now);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let options = custody_demo::DemoOptions {
        people: 2_000,
        seed: 7,
        smtp: None,
    };
    custody_demo::run(&data, options, &clock, "cli:golden", &mut |_| {}).unwrap();
    let mut ledger = Ledger::open(&data, Box::new(FixedClock(clock.now())), "cli:golden").unwrap();
    // The initial report as it reads now, and both reports as filed. (A follow-up as it would
    // read now lists the forum dump, whose canaries, and so its digest, differ from run to run.)
    let model = report::model(&ledger, IncidentId::new(1), Phase::Initial).unwrap();
    check(
        "demo-initial-report.md",
        &report::render(&model, Format::Markdown).unwrap(),
    );
    check(
        "demo-initial-report.json",
        &report::render(&model, Format::Json).unwrap(),
    );
    for (phase, name) in [(Phase::Initial, "initial"), (Phase::FollowUp, "follow-up")] {
        for (format, extension) in [(Format::Markdown, "md"), (Format::Json, "json")] {
            let as_filed = filed::as_filed(&mut ledger, IncidentId::new(1), phase, format).unwrap();
            check(&format!("demo-{name}-report-as-filed.{extension}"), &as_filed);
        }
    }
}

#[test]
fn the_demo_answers_to_requesters_read_as_their_golden_files() {
    let zone = TimeZoneName::parse("Europe/London").unwrap();
    let clock = FixedClock(parse_instant("2022-01-10 12:00", &zone).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let options = custody_demo::DemoOptions {
        people: 2_000,
        seed: 7,
        smtp: None,
    };
    let summary = custody_demo::run(&data, options, &clock, "cli:golden", &mut |_| {}).unwrap();
    let mut ledger = Ledger::open(&data, Box::new(FixedClock(clock.now())), "cli:golden").unwrap();
    let answered = summary.requests.answered.unwrap();
    let erasure = summary.requests.erasure.unwrap();
    for (id, name) in [(answered, "demo-access-answer"), (erasure, "demo-erasure-answer")] {
        for format in ["md", "json"] {
            let mut text = String::new();
            custody_app::rights::request_answer::answer(&mut ledger, id, format, |answer| {
                text = answer.to_owned();
                Ok(())
            })
            .unwrap();
            check(&format!("{name}.{format}"), &text);
        }
    }
}
