//! Telling people: notices through a real SMTP server, from the durable outbox.

use std::collections::BTreeMap;

use crate::support::{Env, SmtpServer};

/// People for notices: M1 normal; M2 and M3 share an address; M4 has no address (a letter);
/// M5 is tempfailed once; M6 is rejected; M7 is never sent to the supplier.
const CRM: &str = "ref,first_name,last_name,email,postcode,category,status,joined_on\n\
M1,Alex,Smith,alex@example.org,SW1A 1AA,member,current,2010-01-01\n\
M2,Sam,Patel,household@example.org,M1 1AA,member,current,2011-01-01\n\
M3,Priya,Patel,household@example.org,M1 1AA,member,current,2012-01-01\n\
M4,Ruth,Evans,,EH1 1YZ,member,current,2013-01-01\n\
M5,Omar,Khan,tempfail1-omar@example.org,B1 1AA,member,current,2014-01-01\n\
M6,Zoë,Jones,reject-zoe@example.org,LS1 4AB,member,current,2015-01-01\n\
M7,Ivy,Brown,ivy@example.org,CF10 1AA,donor,current,2016-01-01\n";

fn with_incident(crm: &str, export: &str) -> Env {
    incident_in(Env::new(), crm, export)
}

/// An incident at a mailing house that received `export` of the people in `crm`, in `env`.
pub(crate) fn incident_in(env: Env, crm: &str, export: &str) -> Env {
    let file = env.write("crm.csv", crm);
    env.ok(&["people", "import", Env::path_str(&file)]);
    env.ok(&["supplier", "add", "Mailing House", "--role", "processor"]);
    let sent = env.write("export.csv", export);
    env.ok(&[
        "share",
        "record",
        "--supplier",
        "Mailing House",
        "--purpose",
        "newsletter",
        "--at",
        "2021-09-01 09:00",
        "--canaries",
        "2",
        "--canary-out",
        Env::path_str(&env.root.path().join("sent.csv")),
        Env::path_str(&sent),
    ]);
    env.ok(&[
        "incident",
        "open",
        "--supplier",
        "Mailing House",
        "--aware-at",
        "2021-10-29 18:30",
        "--nature",
        "confidentiality",
        "--summary",
        "Ransomware at the mailing house; member data was copied out.",
    ]);
    env.ok(&[
        "incident",
        "timeline",
        "1",
        "add",
        "--kind",
        "contact",
        "--text",
        "Reported to the police",
        "--with",
        "police",
    ]);
    env
}

pub(crate) fn export_of(refs: &[&str]) -> String {
    let mut out = String::from("Member Number,First Name,Email,Post Code\n");
    for reference in refs {
        out.push_str(&format!("{reference},Name,x@example.org,SW1A 1AA\n"));
    }
    out
}

#[test]
fn every_affected_person_is_told_about_their_own_data_once() {
    let env = with_incident(CRM, &export_of(&["M1", "M2", "M3", "M4", "M5", "M6"]));
    let preview = env
        .ok(&["notice", "preview", "1", "--person", "M1", "--json"])
        .json();
    assert_eq!(
        preview["subject"],
        "Test Party: a data incident at Mailing House that affects you"
    );
    let text = preview["text"].as_str().unwrap();
    assert!(text.contains("Dear Alex,"), "{text}");
    assert!(
        text.contains("held your first name, email address, postcode and membership or supporter number"),
        "{text}"
    );
    assert!(text.contains("We reported it to the police."), "{text}");
    assert!(text.contains("report@phishing.gov.uk"), "{text}");

    let dry = env.ok(&["notify", "1", "--dry-run", "--json"]).json();
    assert_eq!(dry["queued"]["people"], 6);
    assert_eq!(
        dry["queued"]["messages"], 4,
        "M2 and M3 share one; M4 has no address"
    );
    assert_eq!(dry["queued"]["letters"], serde_json::json!(["M4"]));
    assert_eq!(dry["queued"]["canaries_left_out"], 2);
    assert_eq!(dry["queued"]["added"], 0, "a dry run queues nothing");

    let server = SmtpServer::start(env.root.path(), 0);
    let report = env.ok_with(&["notify", "1", "--json"], &server.env()).json();
    let outbox = &report["run"]["outbox"];
    assert_eq!(
        (outbox["sent"].as_u64(), outbox["failed"].as_u64()),
        (Some(3), Some(1)),
        "{report}"
    );
    assert_eq!(
        report["run"]["people_notified_recorded"], false,
        "one notice failed"
    );
    assert!(
        report["run"]["people_notified_not_recorded"]
            .as_str()
            .unwrap()
            .contains(
                "2 affected people are not told yet (1 of them in notices that failed, 1 needing a letter)"
            ),
        "{report}"
    );

    let received = server.received();
    let mut by_address: BTreeMap<String, Vec<&serde_json::Value>> = BTreeMap::new();
    for message in &received {
        by_address
            .entry(message["to"][0].as_str().unwrap().to_owned())
            .or_default()
            .push(message);
    }
    let addresses: Vec<&str> = by_address.keys().map(String::as_str).collect();
    assert_eq!(
        addresses,
        [
            "alex@example.org",
            "household@example.org",
            "tempfail1-omar@example.org"
        ]
    );
    assert!(
        by_address.values().all(|messages| messages.len() == 1),
        "each told once"
    );
    let household = by_address["household@example.org"][0]["text"].as_str().unwrap();
    assert!(
        household.contains("For Sam (M2): our records show that Mailing House held their first name"),
        "{household}"
    );
    assert!(household.contains("For Priya (M3):"), "{household}");
    assert!(
        household.starts_with("Hello,"),
        "no single name to greet: {household}"
    );
    let alex = by_address["alex@example.org"][0]["text"].as_str().unwrap();
    assert!(alex.starts_with("Dear Alex,"), "{alex}");

    let status = env.ok(&["notify", "status", "1", "--json"]).json();
    assert_eq!(
        (status["sent"].as_u64(), status["failed"].as_u64()),
        (Some(3), Some(1))
    );
    assert_eq!(status["queued"], 0);
    assert_eq!(status["retry"], 0);
    assert_eq!(status["failures"][0]["refs"], serde_json::json!(["M6"]));
    let reply = status["failures"][0]["reply"].as_str().unwrap();
    assert!(reply.contains("550"), "{status}");
    assert!(
        !reply.contains('@'),
        "addresses are masked in stored replies: {reply}"
    );
    assert_eq!(status["letters"], serde_json::json!(["M4"]));

    let shown = env.ok(&["incident", "show", "1", "--json"]).json();
    assert!(
        people_clock(&shown)["done_at"].is_null(),
        "not met while a notice failed"
    );
    let timeline = env.ok(&["incident", "timeline", "1"]).stdout;
    assert!(timeline.contains("notification run started"), "{timeline}");
    assert!(
        timeline.contains("ended: 3 sent, 1 failed, 0 waiting"),
        "{timeline}"
    );

    // A rerun sends only what was not accepted: nothing.
    let again = env.ok_with(&["notify", "1", "--json"], &server.env()).json();
    assert_eq!(again["run"]["progress"]["sent"], 0);
    assert_eq!(server.received().len(), received.len());
    let audit = env.ok(&["audit", "verify", "--json"]).json();
    assert_eq!(audit["intact"], true);
}

fn people_clock(shown: &serde_json::Value) -> serde_json::Value {
    shown["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|clock| clock["name"] == "people")
        .unwrap()
        .clone()
}

fn now_seconds() -> i64 {
    use custody_app::clock::Clock;
    custody_app::clock::SystemClock.now().unix_seconds()
}

#[test]
fn without_a_mail_server_nothing_is_queued_and_the_error_says_what_to_set() {
    let env = with_incident(CRM, &export_of(&["M1"]));
    let error = env.fails(&["notify", "1"], 1);
    assert!(error.contains("CUSTODY_SMTP_HOST"), "{error}");
    let unreachable = env
        .command(
            &["notify", "1"],
            &[
                ("CUSTODY_SMTP_HOST", "127.0.0.1".to_owned()),
                ("CUSTODY_SMTP_PORT", "9".to_owned()),
                ("CUSTODY_SMTP_TLS", "none".to_owned()),
            ],
        )
        .output()
        .unwrap();
    assert_eq!(unreachable.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unreachable.stderr).contains("127.0.0.1:9"));
    let status = env.ok(&["notify", "status", "1", "--json"]).json();
    assert_eq!(status["queued"], 0);
    let public = env.ok(&["notice", "public", "1"]).stdout;
    assert!(public.contains("# A data incident at Mailing House"), "{public}");
    assert!(
        !public.contains("Alex"),
        "no personal data in the public statement: {public}"
    );
}

#[test]
fn a_sender_killed_mid_run_loses_nothing_and_repeats_at_most_what_was_in_flight() {
    let mut crm = String::from("ref,first_name,email,category,status,joined_on\n");
    let mut refs = Vec::new();
    for n in 0..240 {
        crm.push_str(&format!(
            "P{n:04},Name{n},person{n}@example.org,member,current,2015-01-01\n"
        ));
        refs.push(format!("P{n:04}"));
    }
    let refs: Vec<&str> = refs.iter().map(String::as_str).collect();
    let env = with_incident(&crm, &export_of(&refs));
    let server = SmtpServer::start(env.root.path(), 15);
    let concurrency = 4;
    let mut child = env
        .command(&["notify", "1", "--concurrency", "4"], &server.env())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while server.received().len() < 60 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let at_kill = server.received().len();
    assert!((60..240).contains(&at_kill), "killed mid-run: {at_kill} received");

    let before = now_seconds();
    let rerun = env
        .ok_with(&["notify", "1", "--concurrency", "4", "--json"], &server.env())
        .json();
    let after = now_seconds();
    assert_eq!(rerun["run"]["people_notified_recorded"], true, "{rerun}");
    let shown = env.ok(&["incident", "show", "1", "--json"]).json();
    let done_at = people_clock(&shown)["done_at"].as_str().unwrap().to_owned();
    let done_at: i64 = done_at.parse::<jiff::Timestamp>().unwrap().as_second();
    assert!(
        (before..=after).contains(&done_at),
        "people notified at the last acceptance"
    );
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for message in server.received() {
        *counts
            .entry(message["to"][0].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    let expected: Vec<String> = (0..240).map(|n| format!("person{n}@example.org")).collect();
    let got: Vec<String> = counts.keys().cloned().collect();
    let mut expected_sorted = expected.clone();
    expected_sorted.sort();
    assert_eq!(got, expected_sorted, "every notice arrived");
    let duplicates: usize = counts.values().map(|n| n - 1).sum();
    assert!(
        duplicates <= concurrency,
        "{duplicates} duplicates with {concurrency} in flight"
    );
    let status = env.ok(&["notify", "status", "1", "--json"]).json();
    assert_eq!(status["sent"], 240);
}

#[test]
fn a_server_that_goes_away_mid_run_stops_the_run_and_loses_nothing() {
    let mut crm = String::from("ref,first_name,email,category,status,joined_on\n");
    let mut refs = Vec::new();
    for n in 0..120 {
        crm.push_str(&format!(
            "P{n:04},Name{n},person{n}@example.org,member,current,2015-01-01\n"
        ));
        refs.push(format!("P{n:04}"));
    }
    let refs: Vec<&str> = refs.iter().map(String::as_str).collect();
    let env = with_incident(&crm, &export_of(&refs));
    let first = SmtpServer::start(env.root.path(), 20);
    let child = env
        .command(&["notify", "1", "--concurrency", "2"], &first.env())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A second run while the first one runs is refused (on SQLite; on PostgreSQL runs keep to
    // their own messages, tested in tests/it/postgres.rs).
    std::thread::sleep(std::time::Duration::from_millis(300));
    if env.on_sqlite() {
        let second = env.command(&["notify", "1"], &first.env()).output().unwrap();
        assert_eq!(second.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&second.stderr).contains("another notification run"));
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while first.received().len() < 20 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let received_first = first.received();
    drop(first); // the server dies mid-run
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("unavailable") && stderr.contains("nothing is lost"),
        "{stderr}"
    );
    let status = env.ok(&["notify", "status", "1", "--json"]).json();
    assert_eq!(status["failed"], 0, "nothing was given up on: {status}");

    let back = SmtpServer::start(env.root.path(), 0);
    env.ok_with(&["notify", "1"], &back.env());
    let mut all: Vec<String> = received_first
        .iter()
        .chain(back.received().iter())
        .map(|m| m["to"][0].as_str().unwrap().to_owned())
        .collect();
    let total = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 120, "everyone was told");
    assert!(total - all.len() <= 2, "duplicates within the two in flight");
}

#[test]
fn the_demo_sends_its_notices_to_a_configured_server() {
    let env = Env::bare();
    let server = SmtpServer::start(env.root.path(), 0);
    let summary = env
        .ok_with(&["demo", "--people", "1500", "--json"], &server.env())
        .json();
    let notices = &summary["notices"];
    let messages = notices["messages"].as_u64().unwrap();
    assert!(messages > 100, "{notices}");
    assert_eq!(notices["sent"].as_u64(), Some(messages));
    // The processor's questionnaire went through the same server, to its security and DPO
    // contacts.
    let questionnaire = &summary["questionnaire"];
    assert_eq!(questionnaire["sent"]["sent"], 2, "{questionnaire}");
    assert_eq!(questionnaire["state"], "answered", "{questionnaire}");
    let received = server.received();
    let questions: Vec<&serde_json::Value> = received
        .iter()
        .filter(|message| {
            message["subject"]
                .as_str()
                .unwrap_or_default()
                .contains("questions about incident 1")
        })
        .collect();
    assert_eq!(questions.len(), 2);
    assert_eq!(received.len() as u64, messages + 2);
    let status = env.ok(&["notify", "status", "1", "--json"]).json();
    assert_eq!(status["sent"].as_u64(), Some(messages));
}

#[test]
fn notices_go_through_starttls_and_implicit_tls_with_the_organisation_s_authority() {
    for mode in ["starttls", "tls"] {
        let env = with_incident(CRM, &export_of(&["M1", "M2", "M3"]));
        let server = SmtpServer::start_with(env.root.path(), 0, mode);
        let mut vars = server.env();
        vars.retain(|(name, _)| *name != "CUSTODY_SMTP_TLS");
        vars.push(("CUSTODY_SMTP_TLS", mode.to_owned()));
        // Without the authority, the server's certificate is not trusted: nothing is queued.
        let untrusted = env.command(&["notify", "1"], &vars).output().unwrap();
        assert_eq!(untrusted.status.code(), Some(1), "{mode}");
        assert_eq!(env.ok(&["notify", "status", "1", "--json"]).json()["queued"], 0);
        vars.push((
            "CUSTODY_SMTP_CA_FILE",
            server.ca_file().to_str().unwrap().to_owned(),
        ));
        let report = env.ok_with(&["notify", "1", "--json"], &vars).json();
        assert_eq!(report["run"]["outbox"]["sent"], 2, "{mode}: {report}");
        assert_eq!(server.received().len(), 2, "{mode}");
    }
}

#[test]
fn a_chosen_audience_gets_its_notices_paced_and_unheld_people_are_told_so() {
    let env = with_incident(CRM, &export_of(&["M1", "M2", "M3"]));
    let server = SmtpServer::start(env.root.path(), 0);
    let bad = env.write("audience.csv", "ref\nM1\nM99\n");
    let error = env.fails(
        &["notify", "1", "--audience", Env::path_str(&bad), "--dry-run"],
        1,
    );
    assert!(error.contains("line 3") && error.contains("M99"), "{error}");

    let file = env.write("first.csv", "ref\nM1\n");
    let first = env
        .ok_with(
            &["notify", "1", "--audience", Env::path_str(&file), "--json"],
            &server.env(),
        )
        .json();
    assert_eq!(first["queued"]["people"], 1);
    assert_eq!(
        first["run"]["people_notified_recorded"], false,
        "a file is not everyone affected"
    );
    let before = server.received().len();

    // Everyone current: the people the supplier never held are told so, once each; at two a
    // second, the messages reach the server about half a second apart (0.3 s at least, allowing for load).
    let all = env
        .ok_with(
            &[
                "notify",
                "1",
                "--audience",
                "all-current",
                "--rate",
                "2",
                "--json",
            ],
            &server.env(),
        )
        .json();
    assert_eq!(all["queued"]["people"], 7);
    let received = server.received();
    let times: Vec<f64> = received[before..]
        .iter()
        .map(|m| m["at"].as_f64().unwrap())
        .collect();
    assert!(times.len() >= 3, "{received:?}");
    assert!(
        times.windows(2).all(|pair| pair[1] - pair[0] > 0.3),
        "paced at two a second: {times:?}"
    );
    let to_ivy: Vec<&serde_json::Value> = received
        .iter()
        .filter(|m| m["to"][0] == "ivy@example.org")
        .collect();
    assert_eq!(to_ivy.len(), 1);
    let text = to_ivy[0]["text"].as_str().unwrap();
    assert!(text.contains("did not hold data about you"), "{text}");
    let to_alex = received
        .iter()
        .filter(|m| m["to"][0] == "alex@example.org")
        .count();
    assert_eq!(to_alex, 1, "told once, though in both audiences");
}

#[test]
fn markup_typed_into_a_summary_reaches_the_markdown_statement_as_words() {
    let env = with_incident(CRM, &export_of(&["M1"]));
    env.ok(&[
        "incident",
        "open",
        "--supplier",
        "Mailing House",
        "--aware-at",
        "2021-11-02 09:00",
        "--nature",
        "confidentiality",
        "--summary",
        "Copied <img src=x onerror=alert(1)> see [our page](https://evil.example)\n# Pay here",
    ]);
    let public = env.ok(&["notice", "public", "2", "--format", "md"]).stdout;
    assert!(
        public.contains("Copied &lt;img src=x onerror=alert(1)&gt; see \\[our page\\](https\\://evil.example)\\\n\\# Pay here"),
        "{public}"
    );
    assert!(!public.contains("<img"), "{public}");
}
