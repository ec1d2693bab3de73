//! An incident learned over weeks: facts amended with reasons, kept as history, and followed by
//! the clocks and the report.

use crate::support::{CRM, Env};

fn incident_opened_as_availability() -> Env {
    let env = Env::new();
    let crm = env.write("crm.csv", CRM);
    env.ok(&["people", "import", Env::path_str(&crm)]);
    env.ok(&["supplier", "add", "Mailing House", "--role", "processor"]);
    let export = env.write(
        "export.csv",
        "Member Number,First Name,Email\nM1,Alex,alex.smith@example.org\nM2,Zoë,zoe.jones@example.org\n",
    );
    env.ok(&[
        "share",
        "record",
        "--supplier",
        "Mailing House",
        "--purpose",
        "mailing",
        "--at",
        "2021-06-01",
        Env::path_str(&export),
    ]);
    env.ok(&[
        "incident",
        "open",
        "--supplier",
        "Mailing House",
        "--aware-at",
        "2021-10-29 18:30",
        "--nature",
        "availability",
        "--summary",
        "Party data rendered inaccessible",
    ]);
    env
}

fn audit_count(env: &Env) -> usize {
    env.ok(&["audit", "export"]).stdout.lines().count()
}

#[test]
fn a_corrected_fact_is_kept_with_its_history_and_followed_by_what_is_derived() {
    let env = incident_opened_as_availability();
    let report = env.ok(&["report", "1", "--format", "md"]).stdout;
    assert!(report.contains("- Confidentiality: not affected"), "{report}");
    let amended = env
        .ok(&[
            "incident",
            "amend",
            "1",
            "--nature",
            "confidentiality,availability",
            "--summary",
            "Party data copied out and encrypted",
            "--reason",
            "The supplier's statement of 12 November: data was copied out",
            "--json",
        ])
        .json();
    assert_eq!(amended["changes"].as_array().unwrap().len(), 2, "{amended}");
    let shown = env.ok(&["incident", "show", "1", "--json"]).json();
    assert_eq!(
        shown["facts"]["nature"],
        serde_json::json!(["confidentiality", "availability"])
    );
    assert_eq!(shown["facts"]["summary"], "Party data copied out and encrypted");
    let history = shown["facts_history"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["field"], "summary");
    assert_eq!(history[1]["field"], "nature");
    assert_eq!(history[1]["old"], "availability");
    assert_eq!(history[1]["new"], "confidentiality, availability");
    assert!(history[1]["actor"].as_str().unwrap().starts_with("cli:"));
    assert!(history[1]["reason"].as_str().unwrap().contains("12 November"));
    let timeline = shown["timeline"].as_array().unwrap();
    assert!(
        timeline
            .iter()
            .any(|entry| entry["summary"].as_str().unwrap().starts_with("facts amended: ")),
        "the amendment is on the timeline"
    );
    // The report follows the facts as they stand.
    let report = env.ok(&["report", "1", "--format", "md"]).stdout;
    assert!(report.contains("- Confidentiality: affected"), "{report}");
    assert!(report.contains("Party data copied out and encrypted"), "{report}");
    let audit = env.ok(&["audit", "export"]).stdout;
    assert!(
        audit.lines().any(|line| line.contains("\"incident.amend\"")),
        "audited"
    );
}

#[test]
fn moving_awareness_moves_the_regulator_clock_and_says_so() {
    let env = incident_opened_as_availability();
    let before = env.ok(&["incident", "show", "1", "--json"]).json();
    let due = |view: &serde_json::Value| {
        view["clocks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|clock| clock["name"] == "regulator")
            .unwrap()["due"]
            .clone()
    };
    assert_eq!(due(&before), "2021-11-01T17:30:00Z");
    env.ok(&[
        "incident",
        "amend",
        "1",
        "--aware-at",
        "2021-10-29 09:00",
        "--reason",
        "The supplier's email reached the membership team that morning",
    ]);
    let after = env.ok(&["incident", "show", "1", "--json"]).json();
    assert_eq!(
        due(&after),
        "2021-11-01T08:00:00Z",
        "72 real hours from 09:00 BST"
    );
    let said = after["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|entry| {
            entry["summary"]
                .as_str()
                .filter(|text| text.starts_with("facts amended"))
        })
        .unwrap()
        .to_owned();
    assert!(
        said.contains(
            "the regulator's 72 hours now end 2021-11-01T08:00:00Z instead of 2021-11-01T17:30:00Z"
        ),
        "{said}"
    );
}

#[test]
fn a_bad_amendment_is_refused_and_writes_nothing() {
    let env = incident_opened_as_availability();
    let before = audit_count(&env);
    for (args, expected) in [
        (
            vec!["--nature", "availability", "--reason", "checked again"],
            "changes nothing",
        ),
        (
            vec!["--nature", "confidentiality", "--reason", "  "],
            "carries its reason",
        ),
        (
            vec![
                "--occurred-from",
                "2021-10-20",
                "--occurred-to",
                "2021-10-10",
                "--reason",
                "logs",
            ],
            "before it starts",
        ),
        (
            vec!["--aware-at", "2099-01-01", "--reason", "typo"],
            "in the future",
        ),
        (vec!["--nature", "secrecy", "--reason", "x"], "nature"),
    ] {
        let mut all = vec!["incident", "amend", "1"];
        all.extend(args);
        let refused = env.fails(&all, 1);
        assert!(refused.contains(expected), "{all:?}: {refused}");
    }
    let unknown = env.fails(
        &["incident", "amend", "9", "--nature", "integrity", "--reason", "x"],
        1,
    );
    assert!(unknown.contains("no incident 9"), "{unknown}");
    assert_eq!(audit_count(&env), before, "nothing written");
}

#[test]
fn evidence_ahead_of_the_facts_is_flagged_until_amended_or_dismissed_and_the_risk_follows() {
    let env = incident_opened_as_availability();
    env.ok(&["incident", "assess", "1", "--mitigations", "contained"]);
    let first = env.ok(&["incident", "show", "1", "--json"]).json();
    assert!(first["evidence_ahead"].is_null());
    assert_eq!(first["assessment"]["tell_people"], false, "availability only");
    env.ok(&[
        "incident",
        "statement",
        "1",
        "--received-at",
        "2021-11-12 10:00",
        "--text",
        "Correction: data was copied out",
        "--claims-exfiltration",
        "yes",
    ]);
    let flagged = env.ok(&["incident", "show", "1", "--json"]).json();
    let flag = flagged["evidence_ahead"].as_str().unwrap();
    assert!(
        flag.contains("the supplier says data was taken (statement 1)"),
        "{flag}"
    );
    assert!(
        env.ok(&["incident", "show", "1"])
            .stdout
            .contains("FLAG: the evidence is ahead of the facts")
    );
    // Dismissed with a reason, it goes; a dismissal without one, or with nothing to dismiss, is refused.
    env.fails(&["incident", "dismiss", "1", "--reason", " "], 1);
    env.ok(&[
        "incident",
        "dismiss",
        "1",
        "--reason",
        "The copy was of test data only, per forensics",
    ]);
    assert!(env.ok(&["incident", "show", "1", "--json"]).json()["evidence_ahead"].is_null());
    let nothing = env.fails(&["incident", "dismiss", "1", "--reason", "again"], 1);
    assert!(nothing.contains("no flag to dismiss"), "{nothing}");
    // Amending the facts re-assesses the risk from them, keeping the mitigations.
    env.ok(&[
        "incident",
        "amend",
        "1",
        "--nature",
        "confidentiality,availability",
        "--reason",
        "Forensics changed its view",
    ]);
    let amended = env.ok(&["incident", "show", "1", "--json"]).json();
    assert_eq!(
        amended["assessment"]["mitigations"],
        serde_json::json!(["contained"])
    );
    let reasons = amended["assessment"]["reasons"].to_string();
    assert!(!reasons.contains("availability only"), "{reasons}");
}

#[test]
fn a_report_filed_with_the_regulator_is_kept_byte_for_byte_and_a_follow_up_says_what_changed() {
    let env = incident_opened_as_availability();
    env.ok(&[
        "incident",
        "record",
        "1",
        "regulator-notified",
        "--at",
        "2021-11-01 15:20",
        "--ref",
        "ICO-123",
    ]);
    let filed = env
        .ok(&["report", "1", "--phase", "initial", "--as-filed"])
        .stdout;
    assert!(
        filed.contains("Your reference: ICO-123") && filed.contains("- Confidentiality: not affected"),
        "{filed}"
    );
    // The facts move on; the report as filed does not.
    env.ok(&[
        "incident",
        "amend",
        "1",
        "--nature",
        "confidentiality,availability",
        "--reason",
        "Data copied out",
    ]);
    assert_eq!(
        env.ok(&["report", "1", "--phase", "initial", "--as-filed"])
            .stdout,
        filed
    );
    let now = env.ok(&["report", "1", "--phase", "initial"]).stdout;
    assert!(now.contains("- Confidentiality: affected"), "{now}");
    let json = env
        .ok(&[
            "report",
            "1",
            "--phase",
            "initial",
            "--as-filed",
            "--format",
            "json",
        ])
        .json();
    assert_eq!(json["regulator_reference"], "ICO-123");
    // A second initial filing is refused; a follow-up is filed and says what changed.
    let twice = env.fails(
        &[
            "incident",
            "record",
            "1",
            "regulator-notified",
            "--at",
            "2021-11-01 16:00",
        ],
        1,
    );
    assert!(twice.contains("regulator-updated"), "{twice}");
    env.ok(&[
        "incident",
        "record",
        "1",
        "regulator-updated",
        "--at",
        "2026-11-30 10:00",
    ]);
    let follow_up = env
        .ok(&["report", "1", "--phase", "follow-up", "--as-filed"])
        .stdout;
    assert!(follow_up.contains("Since the last report"), "{follow_up}");
    assert!(
        follow_up.contains("- Facts: nature: availability → confidentiality, availability (Data copied out)"),
        "{follow_up}"
    );
    // A stored report cannot be changed, and one altered behind the store's back fails loudly.
    if !env.on_sqlite() {
        return; // what follows reads the SQLite file itself
    }
    let database = rusqlite::Connection::open(env.dir().join("custody.db")).unwrap();
    let refused = database.execute("UPDATE filed_reports SET markdown = x'00'", []);
    assert!(refused.is_err(), "the store refuses");
    database
        .execute_batch("DROP TRIGGER filed_reports_append_only_update;")
        .unwrap();
    database
        .execute(
            "UPDATE filed_reports SET markdown = CAST('forged' AS BLOB) WHERE phase = 'initial'",
            [],
        )
        .unwrap();
    let altered = env.fails(&["report", "1", "--phase", "initial", "--as-filed"], 1);
    assert!(altered.contains("has been altered"), "{altered}");
    let html = env
        .ok(&[
            "report",
            "1",
            "--phase",
            "follow-up",
            "--as-filed",
            "--format",
            "html",
        ])
        .stdout;
    assert!(
        html.contains("<h2>12. Since the last report"),
        "the follow-up is untouched"
    );
}

fn clock_state(env: &Env, name: &str) -> String {
    env.ok(&["incident", "show", "1", "--json"]).json()["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|clock| clock["name"] == name)
        .unwrap()["state"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn decisions_not_to_notify_stop_their_clocks_with_reasons_and_grounds() {
    let env = incident_opened_as_availability();
    assert_eq!(
        clock_state(&env, "regulator"),
        "missed",
        "years after 2021, no report"
    );
    let bare = env.fails(&["incident", "record", "1", "regulator-not-required"], 1);
    assert!(bare.contains("reasons"), "{bare}");
    env.ok(&[
        "incident",
        "record",
        "1",
        "regulator-not-required",
        "--reason",
        "Availability only, restored from backup within hours: unlikely to result in a risk",
    ]);
    assert_eq!(clock_state(&env, "regulator"), "not_required");
    env.ok(&[
        "incident",
        "assess",
        "1",
        "--override-people",
        "yes",
        "--reason",
        "Members are at risk of phishing",
    ]);
    let no_ground = env.fails(
        &[
            "incident",
            "record",
            "1",
            "people-not-required",
            "--reason",
            "too many",
        ],
        1,
    );
    assert!(no_ground.contains("ground"), "{no_ground}");
    env.ok(&[
        "incident",
        "record",
        "1",
        "people-not-required",
        "--ground",
        "disproportionate-effort",
        "--reason",
        "No contact details for most of those affected",
    ]);
    assert_eq!(clock_state(&env, "people"), "not_required");
    let statement = env.ok(&["notice", "public", "1"]).stdout;
    assert!(
        statement.contains("disproportionate effort, so this statement is our communication"),
        "{statement}"
    );
    let timeline = env.ok(&["incident", "show", "1", "--json"]).json()["timeline"].to_string();
    assert!(timeline.contains("disproportionate effort"), "{timeline}");
}

#[test]
fn the_register_lists_every_incident_with_its_decisions_reasons_and_filings() {
    let env = incident_opened_as_availability();
    env.ok(&[
        "incident",
        "open",
        "--supplier",
        "Mailing House",
        "--aware-at",
        "2021-12-01 10:00",
        "--nature",
        "confidentiality",
        "--summary",
        "=HYPERLINK(\"http://evil.example\") a misdirected email",
    ]);
    env.ok(&[
        "incident",
        "record",
        "1",
        "regulator-notified",
        "--at",
        "2021-11-01 15:20",
        "--ref",
        "ICO-123",
    ]);
    env.ok(&[
        "incident",
        "timeline",
        "1",
        "add",
        "--kind",
        "update",
        "--text",
        "Backups restored",
    ]);
    env.ok(&[
        "incident",
        "record",
        "2",
        "regulator-not-required",
        "--reason",
        "Sent to a colleague, deleted unread",
    ]);
    let register = env.ok(&["register", "--json"]).json();
    let entries = register.as_array().unwrap();
    assert_eq!(entries.len(), 2, "reported or not");
    assert!(
        entries[0]["regulator"]
            .as_str()
            .unwrap()
            .starts_with("yes, 2021-11-01")
    );
    assert_eq!(entries[0]["filed_reports"].as_array().unwrap().len(), 1);
    assert!(
        entries[0]["remedial_action"]
            .to_string()
            .contains("Backups restored")
    );
    assert!(
        entries[1]["regulator"]
            .as_str()
            .unwrap()
            .contains("Sent to a colleague, deleted unread")
    );
    let markdown = env.ok(&["register"]).stdout;
    assert!(markdown.contains("## Incident 2 at Mailing House"), "{markdown}");
    let csv = env.ok(&["register", "--format", "csv"]).stdout;
    assert!(csv.contains("'=HYPERLINK"), "spreadsheet-safe: {csv}");
}

#[test]
fn what_the_form_asks_beyond_the_ledger_is_answered_once_and_reported() {
    let env = incident_opened_as_availability();
    let before = env.ok(&["report", "1"]).stdout;
    assert!(
        before.contains("- Security measures in place before the breach: not recorded"),
        "{before}"
    );
    env.fails(&["incident", "answer", "1"], 1);
    env.ok(&[
        "incident",
        "answer",
        "1",
        "--measures-before",
        "Encrypted backups; access by named staff only",
        "--other-countries",
        "Yes: about 40 members live in Ireland",
    ]);
    env.ok(&[
        "incident",
        "answer",
        "1",
        "--recovery",
        "Restored from backups on 2 November",
    ]);
    let after = env.ok(&["report", "1"]).stdout;
    assert!(
        after.contains(
            "- Security measures in place before the breach: Encrypted backups; access by named staff only"
        ),
        "{after}"
    );
    assert!(
        after.contains("- Recovery: Restored from backups on 2 November"),
        "{after}"
    );
    assert!(
        after.contains("People in other countries affected: Yes: about 40 members live in Ireland"),
        "{after}"
    );
}

#[test]
fn an_incident_at_the_organisation_itself_takes_its_people_from_a_file_or_a_count() {
    let env = incident_opened_as_availability();
    let refused = env.fails(
        &[
            "incident",
            "open",
            "--aware-at",
            "2021-12-01 10:00",
            "--nature",
            "confidentiality",
            "--summary",
            "An email to the wrong list",
            "--supplier-notified-at",
            "2021-12-01 09:00",
        ],
        1,
    );
    assert!(refused.contains("no supplier"), "{refused}");
    env.ok(&[
        "incident",
        "open",
        "--aware-at",
        "2021-12-01 10:00",
        "--nature",
        "confidentiality",
        "--summary",
        "Members' list sent to the wrong mailing list",
    ]);
    let recipients = env.write(
        "recipients.csv",
        "Member Number,Email\nM1,alex.smith@example.org\nM2,zoe.jones@example.org\nX9,nobody@example.org\n",
    );
    let affected = env
        .ok(&["incident", "people", "2", Env::path_str(&recipients), "--json"])
        .json();
    assert_eq!(
        (affected["people"].as_u64(), affected["unmatched"].as_u64()),
        (Some(2), Some(1))
    );
    let shown = env.ok(&["incident", "show", "2", "--json"]).json();
    assert_eq!(shown["supplier"], "our own organisation");
    assert_eq!(shown["impact"]["people"], 2);
    assert_eq!(shown["impact"]["categories"]["user.contact.email"], 2);
    let report = env.ok(&["report", "2"]).stdout;
    assert!(
        report.contains("The breach happened at our own organisation"),
        "{report}"
    );
    let statement = env.ok(&["notice", "public", "2"]).stdout;
    assert!(statement.contains("at Test Party itself"), "{statement}");
    // Counts only, when that is all that is known; never on an incident at a supplier.
    env.ok(&[
        "incident",
        "open",
        "--aware-at",
        "2021-12-02 10:00",
        "--nature",
        "confidentiality",
        "--summary",
        "A laptop with an export was stolen",
        "--people",
        "40",
        "--categories",
        "user.name,user.contact.email",
    ]);
    let counted = env.ok(&["incident", "show", "3", "--json"]).json();
    assert_eq!(counted["impact"]["people"], 40);
    assert_eq!(counted["impact"]["categories"]["user.name"], 40);
    let at_supplier = env.fails(
        &[
            "incident",
            "people",
            "1",
            "--count",
            "5",
            "--categories",
            "user.name",
        ],
        1,
    );
    assert!(at_supplier.contains("is at Mailing House"), "{at_supplier}");
    let register = env.ok(&["register", "--json"]).json();
    assert_eq!(register[2]["supplier"], "our own organisation");
}

#[test]
fn review_findings_stay_fixed() {
    let env = incident_opened_as_availability();
    env.ok(&[
        "incident",
        "record",
        "1",
        "regulator-notified",
        "--at",
        "2021-11-01 15:20",
    ]);
    // Moving awareness so far back that the report becomes late, with no reasons, is refused.
    let late = env.fails(
        &[
            "incident",
            "amend",
            "1",
            "--aware-at",
            "2021-10-20 09:00",
            "--reason",
            "typo",
        ],
        1,
    );
    assert!(late.contains("reasons for the delay"), "{late}");
    // A decision that the regulator need not be told contradicts an assessment that says it must.
    env.ok(&[
        "incident",
        "open",
        "--supplier",
        "Mailing House",
        "--aware-at",
        "2021-12-01 10:00",
        "--nature",
        "confidentiality",
        "--summary",
        "Copied out",
    ]);
    env.ok(&["incident", "assess", "2"]);
    let contradicts = env.fails(
        &[
            "incident",
            "record",
            "2",
            "regulator-not-required",
            "--reason",
            "small",
        ],
        1,
    );
    assert!(
        contradicts.contains("override the assessment first"),
        "{contradicts}"
    );
    let flags = env.fails(
        &[
            "incident",
            "record",
            "2",
            "people-notified",
            "--at",
            "2021-12-02 10:00",
            "--reason",
            "x",
        ],
        1,
    );
    assert!(flags.contains("--reason and --ground go with"), "{flags}");
    // "unknown" undoes an earlier answer.
    env.ok(&[
        "incident",
        "assess",
        "2",
        "--mitigations",
        "encrypted",
        "--key-taken",
        "no",
    ]);
    let reset = env
        .ok(&["incident", "assess", "2", "--key-taken", "unknown", "--json"])
        .json();
    assert!(reset["factors"]["key_taken"].is_null(), "{reset}");
    // A people decision is in the report.
    env.ok(&[
        "incident",
        "record",
        "2",
        "people-not-required",
        "--ground",
        "encrypted",
        "--reason",
        "AES-256, key kept apart",
    ]);
    let report = env.ok(&["report", "2"]).stdout;
    assert!(
        report.contains("We decided not to tell the people affected individually"),
        "{report}"
    );
    // Rules written before ENISA's factors still load.
    let rules = custody_app::breach::impact::DEFAULT_RULES
        .split("[identification]")
        .next()
        .unwrap()
        .to_owned()
        + "[mitigations]\nencrypted = -3\nrecovered = -1\ncontained = -1\n";
    std::fs::write(env.dir().join("risk.toml"), rules).unwrap();
    env.ok(&["incident", "assess", "2"]);
}
