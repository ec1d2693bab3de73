//! Letters for the people a notice cannot reach by email: a PDF read back with poppler's
//! `pdfinfo` and `pdftotext`, and the batch recorded as posted.

use std::path::Path;
use std::process::Command;

use crate::notices::{export_of, incident_in};
use crate::support::{Env, SmtpServer};

/// M1 has an email; M4 has none and a Scottish address; M6's email is refused by the server
/// and they live in Leeds; M8 has none and lives in Berlin; M9 has neither email nor address;
/// M10 (Łucja, whose Ł is not in the PDF font's code page) has none and lives in Cardiff.
const CRM: &str = "ref,first_name,last_name,email,Address Line 1,Town,postcode,country,category,status,joined_on\n\
M1,Alex,Smith,alex@example.org,1 High Street,London,SW1A 1AA,GB,member,current,2010-01-01\n\
M4,Ruth,Evans,,12 Princes Street,Edinburgh,EH1 1YZ,GB,member,current,2013-01-01\n\
M6,Zoë,Jones,reject-zoe@example.org,3 Park Row,Leeds,LS1 4AB,GB,member,current,2015-01-01\n\
M8,Jürgen,Müller,,Unter den Linden 1,Berlin,10117,DE,member,current,2016-01-01\n\
M9,Ivy,Brown,,,,,,member,current,2016-01-01\n\
M10,Łucja,Nowak,,8 Castle Street,Cardiff,CF10 1BT,GB,member,current,2017-01-01\n";

pub(crate) fn poppler(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("{tool} (Debian's poppler-utils; scripts/test installs it): {error}"));
    assert!(
        out.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub(crate) fn pages(pdf: &Path) -> u64 {
    let info = poppler("pdfinfo", &[Env::path_str(pdf)]);
    info.lines()
        .find_map(|line| line.strip_prefix("Pages:"))
        .and_then(|count| count.trim().parse().ok())
        .unwrap_or_else(|| panic!("no page count in {info}"))
}

/// The text of pages `first` to `last`.
pub(crate) fn text(pdf: &Path, first: u64, last: u64) -> String {
    poppler(
        "pdftotext",
        &[
            "-layout",
            "-f",
            &first.to_string(),
            "-l",
            &last.to_string(),
            Env::path_str(pdf),
            "-",
        ],
    )
}

#[test]
fn everyone_who_cannot_be_emailed_gets_a_letter_and_is_told_once_it_is_posted() {
    let env = incident_in(
        Env::new(),
        CRM,
        &export_of(&["M1", "M4", "M6", "M8", "M9", "M10"]),
    );
    let server = SmtpServer::start(env.root.path(), 0);
    env.ok_with(&["notify", "1", "--json"], &server.env());

    let pdf = env.root.path().join("letters.pdf");
    let report = env
        .ok(&["notify", "letters", "1", "--out", Env::path_str(&pdf), "--json"])
        .json();
    assert_eq!(report["letters"], 4, "M4, M6 (refused), M8 and M10: {report}");
    assert_eq!(report["without_address"], serde_json::json!(["M9"]));
    assert_eq!(report["by_country"], serde_json::json!({ "DE": 1, "GB": 3 }));
    let total = pages(&pdf);
    assert_eq!(report["pages"].as_u64(), Some(total), "{report}");
    assert!(
        total >= 5,
        "a summary page and a page or more per letter: {total}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&pdf).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "letters hold people's addresses");
    }

    let summary = text(&pdf, 1, 1);
    assert!(summary.contains("do not post it"), "{summary}");
    assert!(summary.contains("By country: DE 1, GB 3"), "{summary}");
    assert!(!summary.contains("Ruth"), "the summary names no one: {summary}");

    // Letters come in postcode order within each country: Berlin first, then CF, EH, LS.
    let everything = text(&pdf, 2, total);
    let at = |needle: &str| {
        everything
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} is not in the letters:\n{everything}"))
    };
    assert!(at("Jürgen Müller") < at("Lucja Nowak"));
    assert!(at("Lucja Nowak") < at("Ruth Evans"));
    assert!(at("Ruth Evans") < at("Zoë Jones"));
    // Each address in its post's order, abroad with its country.
    assert!(at("10117 BERLIN") < at("GERMANY"), "abroad, the town in capitals");
    assert!(at("EDINBURGH") < at("EH1 1YZ"));
    // The same personal content as the email.
    assert!(everything.contains("Dear Ruth,"), "{everything}");
    assert!(everything.contains("Our reference: M4"));
    assert!(everything.contains("Ransomware at the mailing house"));
    for absent in ["Alex", "Ivy", "M9"] {
        assert!(
            !everything.contains(absent),
            "{absent} needs no letter or has no address"
        );
    }
    // The first letter (Berlin) starts on page 2 with its address in the window's place.
    let first = text(&pdf, 2, 2);
    assert!(
        first.contains("Jürgen Müller") && first.contains("Dear Jürgen,"),
        "{first}"
    );

    let status = env.ok(&["notify", "status", "1", "--json"]).json();
    assert_eq!(
        (
            status["letters_printed"].as_u64(),
            status["letters_posted"].as_u64()
        ),
        (Some(4), Some(0))
    );

    let early = env.fails(&["notify", "letters", "1", "--posted-at", "2021-11-01 10:00"], 1);
    assert!(early.contains("was printed"), "{early}");
    let now = crate::support::days_ahead(0);
    let wrong = env.fails(
        &[
            "notify",
            "letters",
            "1",
            "--posted-at",
            &now,
            "--batch",
            "0123abcd",
        ],
        1,
    );
    assert!(wrong.contains("has no batch of letters 0123abcd"), "{wrong}");
    let posted = env
        .ok(&["notify", "letters", "1", "--posted-at", &now, "--json"])
        .json();
    assert_eq!(posted["letters"], 4);
    assert_eq!(posted["batch"], report["sha256"]);
    assert_eq!(posted["people_notified_recorded"], false);
    assert!(
        posted["people_notified_not_recorded"].as_str().unwrap().contains(
            "1 affected people are not told yet (0 of them in notices that failed, 1 needing a letter)"
        ),
        "M9 has no address: {posted}"
    );
    let again = env.fails(&["notify", "letters", "1", "--posted-at", "2021-11-02 10:00"], 1);
    assert!(again.contains("no printed letter waiting"), "{again}");
    // A second batch leaves out the people posted to already.
    let second = env.root.path().join("second.pdf");
    let report = env
        .ok(&[
            "notify",
            "letters",
            "1",
            "--out",
            Env::path_str(&second),
            "--json",
        ])
        .json();
    assert_eq!(
        (report["letters"].as_u64(), report["posted_before"].as_u64()),
        (Some(0), Some(4))
    );
    env.ok(&["audit", "verify"]);
}

#[test]
fn once_every_letter_is_posted_people_notified_is_recorded_at_the_last_of_them() {
    let crm: String = CRM
        .lines()
        .filter(|line| !line.starts_with("M9,"))
        .collect::<Vec<_>>()
        .join("\n");
    let env = incident_in(
        Env::new(),
        &format!("{crm}\n"),
        &export_of(&["M1", "M4", "M6", "M8"]),
    );
    let server = SmtpServer::start(env.root.path(), 0);
    let run = env.ok_with(&["notify", "1", "--json"], &server.env()).json();
    assert_eq!(run["run"]["people_notified_recorded"], false, "{run}");
    let pdf = env.root.path().join("letters.pdf");
    env.ok(&["notify", "letters", "1", "--out", Env::path_str(&pdf)]);
    let future = env.fails(
        &[
            "notify",
            "letters",
            "1",
            "--posted-at",
            &crate::support::days_ahead(3),
        ],
        1,
    );
    assert!(future.contains("in the future"), "{future}");
    let posted = env
        .ok(&[
            "notify",
            "letters",
            "1",
            "--posted-at",
            &crate::support::days_ahead(0),
            "--json",
        ])
        .json();
    assert_eq!(posted["people_notified_recorded"], true, "{posted}");
    let shown = env.ok(&["incident", "show", "1", "--json"]).json();
    let text = shown.to_string();
    assert!(text.contains("people_notified"), "{text}");
    assert!(text.contains("letters posted"), "{text}");
}

#[test]
fn people_notified_waits_for_everyone_affected_whatever_audience_a_run_had() {
    let crm: String = CRM
        .lines()
        .filter(|line| !line.starts_with("M9,"))
        .collect::<Vec<_>>()
        .join("\n");
    let env = incident_in(
        Env::new(),
        &format!("{crm}\n"),
        &export_of(&["M1", "M4", "M6", "M8"]),
    );
    let server = SmtpServer::start(env.root.path(), 0);
    // A run for one person only: M6, who has an email address, is never mailed.
    let file = env.write("only.csv", "ref\nM1\n");
    env.ok_with(
        &["notify", "1", "--audience", Env::path_str(&file)],
        &server.env(),
    );
    let pdf = env.root.path().join("letters.pdf");
    let report = env
        .ok(&["notify", "letters", "1", "--out", Env::path_str(&pdf), "--json"])
        .json();
    assert_eq!(report["letters"], 2, "M4 and M8 have no email address: {report}");
    let posted = env
        .ok(&[
            "notify",
            "letters",
            "1",
            "--posted-at",
            &crate::support::days_ahead(0),
            "--json",
        ])
        .json();
    assert_eq!(posted["people_notified_recorded"], false, "{posted}");
    assert!(
        posted["people_notified_not_recorded"]
            .as_str()
            .unwrap()
            .starts_with("1 affected people are not told yet"),
        "{posted}"
    );
    // Once M6 is mailed too, the run records it: everyone affected is told, by email or by post.
    let run = env.ok_with(&["notify", "1", "--json"], &server.env()).json();
    let outbox = &run["run"]["outbox"];
    assert_eq!(outbox["failed"], 1, "M6's address is refused: {run}");
    assert_eq!(run["run"]["people_notified_recorded"], false, "{run}");
    let second = env.root.path().join("second.pdf");
    let report = env
        .ok(&[
            "notify",
            "letters",
            "1",
            "--out",
            Env::path_str(&second),
            "--json",
        ])
        .json();
    assert_eq!(report["letters"], 1, "M6, whose notice failed: {report}");
    let posted = env
        .ok(&[
            "notify",
            "letters",
            "1",
            "--posted-at",
            &crate::support::days_ahead(0),
            "--json",
        ])
        .json();
    assert_eq!(posted["people_notified_recorded"], true, "{posted}");
}

#[test]
fn posting_a_batch_marks_exactly_the_people_printed_in_it() {
    let crm: String = CRM
        .lines()
        .filter(|line| !line.starts_with("M9,"))
        .collect::<Vec<_>>()
        .join("\n");
    let env = incident_in(
        Env::new(),
        &format!("{crm}\n"),
        &export_of(&["M1", "M4", "M6", "M8"]),
    );
    let first = env.root.path().join("first.pdf");
    let a = env
        .ok(&["notify", "letters", "1", "--out", Env::path_str(&first), "--json"])
        .json();
    assert_eq!(a["letters"], 2, "M4 and M8: {a}");
    // M6's notice fails; a second batch holds M4 and M8 again (not posted yet) and M6.
    let server = SmtpServer::start(env.root.path(), 0);
    env.ok_with(&["notify", "1"], &server.env());
    let second = env.root.path().join("second.pdf");
    let b = env
        .ok(&[
            "notify",
            "letters",
            "1",
            "--out",
            Env::path_str(&second),
            "--json",
        ])
        .json();
    assert_eq!(b["letters"], 3, "{b}");
    // The first batch went to the post: only its two people are told.
    let short = &a["sha256"].as_str().unwrap()[..12];
    let now = crate::support::days_ahead(0);
    let posted = env
        .ok(&[
            "notify",
            "letters",
            "1",
            "--posted-at",
            &now,
            "--batch",
            short,
            "--json",
        ])
        .json();
    assert_eq!(posted["letters"], 2, "{posted}");
    assert_eq!(
        posted["people_notified_recorded"], false,
        "M6 is not told: {posted}"
    );
    // What is left of the second batch is M6 alone.
    let posted = env
        .ok(&["notify", "letters", "1", "--posted-at", &now, "--json"])
        .json();
    assert_eq!(posted["batch"], b["sha256"]);
    assert_eq!(posted["letters"], 1, "{posted}");
    assert_eq!(posted["people_notified_recorded"], true, "{posted}");
}
