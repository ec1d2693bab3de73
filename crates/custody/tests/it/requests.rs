//! The rights desk: requests, their clocks, access answers, erasures told to every supplier,
//! retention, and backlog imports.

use custody_app::clock::{Clock, SystemClock};

use crate::support::{CRM, Env};

/// A directory with the five CRM people; M1 and M2 sent to Mailing House, M1 and M3 to its
/// sub-processor Backup Co, with a retention of 30 days.
pub(crate) fn with_shares() -> Env {
    let env = Env::new();
    let crm = env.write("crm.csv", CRM);
    env.ok(&["people", "import", Env::path_str(&crm)]);
    env.ok(&["supplier", "add", "Mailing House", "--role", "processor"]);
    env.ok(&[
        "supplier",
        "add",
        "Backup Co",
        "--role",
        "sub-processor",
        "--parent",
        "Mailing House",
    ]);
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
        "newsletter",
        "--at",
        "2025-09-01 09:00",
        Env::path_str(&export),
    ]);
    let backup = env.write("backup.csv", "Member Number,Post Code\nM1,SW1A 1AA\nM3,M1 1AA\n");
    env.ok(&[
        "share",
        "record",
        "--supplier",
        "Backup Co",
        "--purpose",
        "backup",
        "--at",
        "2025-10-01 00:00",
        "--retention-days",
        "30",
        Env::path_str(&backup),
    ]);
    env
}

/// Today in the organisation's zone, and a day `days` before it, as yyyy-mm-dd.
pub(crate) fn today_minus(days: i64) -> String {
    let today = SystemClock
        .now()
        .timestamp()
        .in_tz("Europe/London")
        .unwrap()
        .date();
    today
        .checked_sub(jiff::Span::new().days(days))
        .unwrap()
        .to_string()
}

#[test]
fn an_access_request_is_matched_by_email_and_answered_from_the_ledger() {
    let env = with_shares();
    let opened = env
        .ok(&[
            "request",
            "open",
            "--email",
            "  ALEX.Smith@example.org ",
            "--kind",
            "access",
            "--received-at",
            "2024-01-31 10:00",
            "--channel",
            "email",
            "--json",
        ])
        .json();
    assert_eq!(opened["ref"], "M1");
    assert_eq!(
        opened["due"], "2024-02-29",
        "one month from 31 January in a leap year"
    );
    let id = opened["request"].as_i64().unwrap().to_string();

    let shown = env.ok(&["request", "show", &id, "--json"]).json();
    assert_eq!(shown["clock"], "overdue");
    assert_eq!(shown["state"], "open");
    assert!(
        shown.get("requester").is_none(),
        "the address stays sealed unless asked for"
    );
    assert_eq!(shown["requester_held"], true);
    let revealed = env
        .ok(&["request", "show", &id, "--reveal-requester", "--json"])
        .json();
    assert_eq!(revealed["requester"], "alex.smith@example.org");
    let audit = env.ok(&["audit", "export"]).stdout;
    assert!(
        audit.contains("request.reveal_requester"),
        "opening the address is audited"
    );

    let answer = env.ok(&["request", "answer", &id, "--format", "json"]).json();
    let suppliers: Vec<&str> = answer["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["supplier"].as_str().unwrap())
        .collect();
    assert_eq!(suppliers, ["Mailing House", "Backup Co"]);
    let keys: Vec<&str> = answer["data_held"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    assert!(keys.contains(&"user.contact.email"), "{keys:?}");
    assert!(keys.contains(&"user.demographic.date_of_birth"), "{keys:?}");
    assert_eq!(
        answer["recipients"][1]["retention"],
        "30 days from when it was sent"
    );

    let markdown = env.ok(&["request", "answer", &id]).stdout;
    assert!(markdown.contains("**Mailing House**, sent on"), "{markdown}");
    assert!(markdown.contains("Your reference with us: **M1**"), "{markdown}");

    let shown = env.ok(&["request", "show", &id, "--json"]).json();
    assert_eq!(shown["state"], "answer_produced");
    assert_eq!(
        shown["clock"], "overdue",
        "producing custody's part does not answer the person"
    );
    let failed = env.fails(
        &["request", "answer", &id, "--out", "/nonexistent-dir/answer.md"],
        1,
    );
    assert!(failed.contains("answer.md"), "{failed}");
    env.ok(&[
        "request",
        "close",
        &id,
        "--outcome",
        "done",
        "--reason",
        "sent by email",
    ]);
    let shown = env.ok(&["request", "show", &id, "--json"]).json();
    assert_eq!(shown["state"], "done");
    assert_eq!(shown["clock"], "late", "answered after its due day");
    let twice = env.fails(
        &["request", "close", &id, "--outcome", "done", "--reason", "again"],
        1,
    );
    assert!(twice.contains("done already"), "{twice}");
    let verify = env.ok(&["audit", "verify", "--json"]).json();
    assert_eq!(verify["intact"], true);
    let erasure = env.fails(&["request", "answer", &id, "--format", "pdf"], 2);
    assert!(erasure.contains("pdf"), "{erasure}");
}

#[test]
fn month_ends_and_leap_years_set_the_due_day_and_the_queue_puts_overdue_first() {
    let env = with_shares();
    let open = |received: &str| {
        env.ok(&[
            "request",
            "open",
            "--person",
            "M2",
            "--kind",
            "rectification",
            "--received-at",
            received,
            "--json",
        ])
        .json()
    };
    let today = open(&today_minus(0));
    assert_eq!(open("2023-01-31")["due"], "2023-02-28");
    assert_eq!(open("2024-01-30")["due"], "2024-02-29");
    assert_eq!(open("2025-03-31")["due"], "2025-04-30");
    // Saturday 31 January 2026 moves to Monday 2 February (the ICO's next working day).
    assert_eq!(open("2025-12-31 23:30")["due"], "2026-02-02");

    let list = env.ok(&["request", "list", "--json"]).json();
    let clocks: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["clock"].as_str().unwrap())
        .collect();
    assert_eq!(clocks, ["overdue", "overdue", "overdue", "overdue", "open"]);
    assert_eq!(list[0]["due"], "2023-02-28", "the most overdue first");
    assert_eq!(list[4]["request"], today["request"]);
    let overdue = env.ok(&["request", "list", "--overdue", "--json"]).json();
    assert_eq!(overdue.as_array().unwrap().len(), 4);
    assert!(overdue[0]["days_left"].as_i64().unwrap() < -1000);

    let future = env.fails(
        &[
            "request",
            "open",
            "--person",
            "M2",
            "--kind",
            "access",
            "--received-at",
            "2099-01-01",
        ],
        1,
    );
    assert!(future.contains("future"), "{future}");
    let unknown = env.fails(
        &[
            "request",
            "open",
            "--person",
            "M99",
            "--kind",
            "access",
            "--received-at",
            "2024-01-01",
        ],
        1,
    );
    assert!(unknown.contains("M99"), "{unknown}");
}

#[test]
fn extensions_add_at_most_two_months_from_receipt_and_only_within_the_first_month() {
    let env = with_shares();
    let received = today_minus(2);
    let opened = env
        .ok(&[
            "request",
            "open",
            "--person",
            "M4",
            "--kind",
            "access",
            "--received-at",
            &received,
            "--json",
        ])
        .json();
    let id = opened["request"].as_i64().unwrap().to_string();
    let received_day = custody_core::parse_day(&received).unwrap();
    let holidays =
        custody_app::rights::holidays::parse(custody_app::rights::holidays::SHIPPED, "shipped").unwrap();
    let bank = holidays.get("england-and-wales").unwrap();
    let expect = |months: i64| {
        let extension = u8::try_from(months - 1).unwrap();
        custody_core::request_deadline(received_day, extension, 0, bank)
            .unwrap()
            .to_iso()
    };
    assert_eq!(opened["due"], expect(1));
    let no_reason = env.fails(&["request", "extend", &id, "--months", "1", "--reason", " "], 1);
    assert!(no_reason.contains("--reason"), "{no_reason}");
    env.ok(&[
        "request",
        "extend",
        &id,
        "--months",
        "1",
        "--reason",
        "complex: 12 years of records",
    ]);
    assert_eq!(
        env.ok(&["request", "show", &id, "--json"]).json()["due"],
        expect(2)
    );
    let too_long = env.fails(
        &["request", "extend", &id, "--months", "2", "--reason", "more"],
        1,
    );
    assert!(too_long.contains("1 more month"), "{too_long}");
    env.ok(&[
        "request",
        "extend",
        &id,
        "--months",
        "1",
        "--reason",
        "still gathering",
    ]);
    let shown = env.ok(&["request", "show", &id, "--json"]).json();
    assert_eq!(shown["due"], expect(3));
    assert_eq!(shown["extension_months"], 2);
    env.fails(&["request", "extend", &id, "--months", "3", "--reason", "x"], 2);

    let late = env
        .ok(&[
            "request",
            "open",
            "--person",
            "M4",
            "--kind",
            "objection",
            "--received-at",
            &today_minus(40),
            "--json",
        ])
        .json();
    let late_id = late["request"].as_i64().unwrap().to_string();
    let refused = env.fails(
        &["request", "extend", &late_id, "--months", "1", "--reason", "busy"],
        1,
    );
    assert!(refused.contains("within the first month"), "{refused}");
}

#[test]
fn an_erasure_instructs_every_holder_and_confirmations_show_in_recipients_and_holdings() {
    let env = with_shares();
    let opened = env
        .ok(&[
            "request",
            "open",
            "--person",
            "M1",
            "--kind",
            "erasure",
            "--received-at",
            &today_minus(3),
            "--json",
        ])
        .json();
    // Nobody is told until a responder has reviewed the grounds (erasure_review, the default).
    assert_eq!(opened["instructed"], serde_json::json!([]));
    assert_eq!(opened["awaiting_decision"], true);
    assert_eq!(
        opened["would_instruct"],
        serde_json::json!(["Mailing House", "Backup Co"])
    );
    let id = opened["request"].as_i64().unwrap().to_string();
    assert_eq!(
        env.ok(&["request", "show", &id, "--json"]).json()["state"],
        "awaiting_decision"
    );
    let decided = env.ok(&[
        "request",
        "decide",
        &id,
        "--erase",
        "--basis",
        "consent-withdrawn",
    ]);
    assert!(
        decided.stdout.contains("Mailing House, Backup Co"),
        "{}",
        decided.stdout
    );
    let shown = env.ok(&["request", "show", &id, "--json"]).json();
    assert_eq!(shown["state"], "awaiting_suppliers");
    let states: Vec<(&str, &str)> = shown["instructions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["supplier"].as_str().unwrap(), i["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        states,
        [("Mailing House", "instructed"), ("Backup Co", "instructed")]
    );

    let holdings = |supplier: &str| {
        env.ok(&[
            "holdings",
            "--supplier",
            supplier,
            "--at",
            &today_minus(0),
            "--people",
            "--json",
        ])
        .json()["refs"]
            .clone()
    };
    assert_eq!(holdings("Backup Co"), serde_json::json!(["M1", "M3"]));

    let at = format!("{} 09:00", today_minus(1));
    let wrong = env.fails(
        &["request", "confirm", &id, "--supplier", "Nobody", "--at", &at],
        1,
    );
    assert!(wrong.contains("Nobody"), "{wrong}");
    env.ok(&["request", "confirm", &id, "--supplier", "Backup Co", "--at", &at]);
    let again = env.fails(
        &["request", "confirm", &id, "--supplier", "Backup Co", "--at", &at],
        1,
    );
    assert!(again.contains("already"), "{again}");

    let person = env.ok(&["person", "show", "M1", "--json"]).json();
    let backup = person["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["supplier"] == "Backup Co")
        .unwrap()
        .clone();
    assert!(backup["deleted_at"].as_str().is_some(), "{backup}");
    assert_eq!(backup["erased_by_request"], true);
    let mailing = person["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["supplier"] == "Mailing House")
        .unwrap()
        .clone();
    assert!(mailing["deleted_at"].is_null(), "not confirmed yet: {mailing}");
    assert_eq!(
        holdings("Backup Co"),
        serde_json::json!(["M3"]),
        "erased from the supplier"
    );
    assert_eq!(holdings("Mailing House"), serde_json::json!(["M1", "M2", "M3"]));
    let before = env
        .ok(&[
            "holdings",
            "--supplier",
            "Backup Co",
            "--at",
            "2025-10-02",
            "--people",
            "--json",
        ])
        .json();
    assert_eq!(before["refs"], serde_json::json!(["M1", "M3"]), "history is kept");

    let done = env.ok(&[
        "request",
        "confirm",
        &id,
        "--supplier",
        "Mailing House",
        "--at",
        &at,
    ]);
    assert!(done.stdout.contains("complete"), "{}", done.stdout);
    let shown = env.ok(&["request", "show", &id, "--json"]).json();
    assert_eq!(shown["state"], "completed");
    assert_eq!(shown["clock"], "met");
    let verify = env.ok(&["audit", "verify", "--json"]).json();
    assert_eq!(verify["intact"], true);
}

#[test]
fn an_unknown_requester_waits_for_identity_then_instructions_follow() {
    let env = with_shares();
    let opened = env
        .ok(&[
            "request",
            "open",
            "--email",
            "stranger@example.org",
            "--kind",
            "erasure",
            "--received-at",
            &today_minus(1),
            "--json",
        ])
        .json();
    assert!(opened["ref"].is_null());
    assert!(opened["unmatched"].as_str().unwrap().contains("identify"));
    let id = opened["request"].as_i64().unwrap().to_string();
    assert_eq!(
        env.ok(&["request", "show", &id, "--json"]).json()["state"],
        "awaiting_identity"
    );
    let not_yet = env.fails(
        &[
            "request",
            "confirm",
            &id,
            "--supplier",
            "Backup Co",
            "--at",
            &today_minus(0),
        ],
        1,
    );
    assert!(not_yet.contains("not instructed"), "{not_yet}");
    let linked = env.ok(&["request", "identify", &id, "--person", "M3"]);
    assert!(!linked.stdout.contains("Backup Co"), "{}", linked.stdout);
    let shown = env.ok(&["request", "show", &id, "--json"]).json();
    assert_eq!(shown["state"], "awaiting_decision");
    assert_eq!(shown["would_instruct"], serde_json::json!(["Backup Co"]));
    env.ok(&["request", "decide", &id, "--erase"]);
    let shown = env.ok(&["request", "show", &id, "--json"]).json();
    assert_eq!(shown["ref"], "M3");
    assert_eq!(shown["instructions"][0]["supplier"], "Backup Co");
    let again = env.fails(&["request", "identify", &id, "--person", "M2"], 1);
    assert!(again.contains("linked to a person already"), "{again}");
    // The plain address is not in the database file.
    if !env.on_sqlite() {
        return; // what follows reads the SQLite file itself
    }
    let db = std::fs::read(env.dir().join("custody.db")).unwrap();
    assert!(!db.windows(20).any(|w| w == b"stranger@example.org"));
}

#[test]
fn a_backlog_is_imported_whole_or_not_at_all() {
    let env = with_shares();
    let bad = env.write(
        "inbox.csv",
        "Received,From,Type\n\
         2025-11-02 08:15,alex.smith@example.org,access\n\
         2025-11-03 25:00,zoe.jones@example.org,erasure\n\
         2025-11-04 10:00,ruth@example.net,forgetting\n\
         2025-11-05 10:00,not-an-address,access\n",
    );
    let error = env.fails(&["request", "import", Env::path_str(&bad)], 1);
    assert!(error.contains("3 bad row(s); nothing was recorded"), "{error}");
    assert!(error.contains("line 3, column Received (1)"), "{error}");
    assert!(error.contains("line 4, column Type (3)"), "{error}");
    assert!(error.contains("line 5, column From (2)"), "{error}");
    assert_eq!(
        env.ok(&["request", "list", "--json"]).json(),
        serde_json::json!([])
    );

    let good = env.write(
        "inbox-fixed.csv",
        "Received,From,Type,Channel\n\
         2025-11-02 08:15,alex.smith@example.org,access,email\n\
         2025-11-03 09:00,zoe.jones@example.org,erasure,\n\
         2025-11-04 10:00,\"\"\"Some One\"\" <someone@example.com>\",objection,post\n",
    );
    let imported = env
        .ok(&["request", "import", Env::path_str(&good), "--json"])
        .json();
    assert_eq!(imported["recorded"], 3);
    assert_eq!(imported["matched"], 2);
    assert_eq!(imported["overdue"], 3);
    let list = env.ok(&["request", "list", "--json"]).json();
    assert_eq!(list.as_array().unwrap().len(), 3);
    let erasure = list
        .as_array()
        .unwrap()
        .iter()
        .find(|line| line["kind"] == "erasure")
        .unwrap();
    env.ok(&["request", "decide", &erasure["request"].to_string(), "--erase"]);
    let shown = env
        .ok(&["request", "show", &erasure["request"].to_string(), "--json"])
        .json();
    assert_eq!(shown["instructions"][0]["supplier"], "Mailing House");
    assert_eq!(shown["source"], "inbox-fixed.csv line 3");

    let again = env.fails(&["request", "import", Env::path_str(&good)], 1);
    assert!(again.contains("already recorded as request"), "{again}");
    assert_eq!(
        env.ok(&["request", "list", "--json"])
            .json()
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn retention_names_expired_shares_and_former_people_per_supplier() {
    let env = with_shares();
    env.ok(&[
        "share",
        "declare",
        "--supplier",
        "Mailing House",
        "--categories",
        "user.contact.email",
        "--audience",
        "member",
        "--from",
        "2011-01-01",
    ]);
    let report = env.ok(&["retention", "--people", "--json"]).json();
    assert_eq!(report["former_retention_years"], 2);
    let by_name = |name: &str| {
        report["suppliers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["supplier"] == name)
            .unwrap()
            .clone()
    };
    let backup = by_name("Backup Co");
    assert_eq!(backup["shares_past_retention"][0]["retention_days"], 30);
    assert_eq!(backup["people_past_share_retention"], 2);
    assert_eq!(backup["refs"], serde_json::json!(["M1", "M3"]));
    let mailing = by_name("Mailing House");
    assert_eq!(mailing["shares_past_retention"], serde_json::json!([]));
    assert_eq!(
        mailing["former_past_retention"], 1,
        "M3 left in 2019 and is still in the feed's hands: {mailing}"
    );
    assert_eq!(mailing["refs"], serde_json::json!(["M3"]));
    let text = env.ok(&["retention"]).stdout;
    assert!(text.contains("delete 1 former people who left before"), "{text}");
}

#[test]
fn an_erasure_covers_the_shares_sent_before_it_and_a_second_request_completes_too() {
    let env = with_shares();
    let open_erasure = |person: &str| {
        env.ok(&[
            "request",
            "open",
            "--person",
            person,
            "--kind",
            "erasure",
            "--received-at",
            &today_minus(5),
            "--json",
        ])
        .json()["request"]
            .as_i64()
            .unwrap()
            .to_string()
    };
    let open_erasure = |person: &str| {
        let id = open_erasure(person);
        env.ok(&["request", "decide", &id, "--erase"]);
        id
    };
    let first = open_erasure("M2");
    let second = open_erasure("M2");
    let at = format!("{} 09:00", today_minus(4));
    env.ok(&[
        "request",
        "confirm",
        &first,
        "--supplier",
        "Mailing House",
        "--at",
        &at,
    ]);
    let done = env.ok(&[
        "request",
        "confirm",
        &second,
        "--supplier",
        "Mailing House",
        "--at",
        &at,
    ]);
    assert!(
        done.stdout.contains("complete"),
        "a repeated request completes: {}",
        done.stdout
    );

    // A new export after the erasure sends M2 again: held again, and shown as not deleted.
    let later = env.write("later.csv", "Member Number,Email\nM2,zoe.jones@example.org\n");
    let sent = format!("{} 12:00", today_minus(2));
    env.ok(&[
        "share",
        "record",
        "--supplier",
        "Mailing House",
        "--purpose",
        "ballot",
        "--at",
        &sent,
        Env::path_str(&later),
    ]);
    let held = env
        .ok(&[
            "holdings",
            "--supplier",
            "Mailing House",
            "--at",
            &today_minus(0),
            "--people",
            "--json",
        ])
        .json();
    assert!(
        held["refs"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("M2")),
        "{held}"
    );
    let person = env.ok(&["person", "show", "M2", "--json"]).json();
    let deleted: Vec<bool> = person["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["deleted_at"].is_string())
        .collect();
    assert_eq!(
        deleted,
        [true, false],
        "the old share erased, the new one held: {person}"
    );
    let third = env
        .ok(&[
            "request",
            "open",
            "--person",
            "M2",
            "--kind",
            "erasure",
            "--received-at",
            &today_minus(0),
            "--json",
        ])
        .json();
    assert_eq!(third["would_instruct"], serde_json::json!(["Mailing House"]));
}

#[test]
fn backups_keep_an_erased_person_held_until_they_expire() {
    let env = with_shares();
    let id = env
        .ok(&[
            "request",
            "open",
            "--person",
            "M3",
            "--kind",
            "erasure",
            "--received-at",
            &today_minus(9),
            "--json",
        ])
        .json()["request"]
        .as_i64()
        .unwrap()
        .to_string();
    env.ok(&["request", "decide", &id, "--erase"]);
    let at = format!("{} 09:00", today_minus(8));
    let until = format!("{} 09:00", today_minus(2));
    let bad = env.fails(
        &[
            "request",
            "confirm",
            &id,
            "--supplier",
            "Backup Co",
            "--at",
            &until,
            "--backups-until",
            &at,
        ],
        1,
    );
    assert!(bad.contains("--backups-until"), "{bad}");
    env.ok(&[
        "request",
        "confirm",
        &id,
        "--supplier",
        "Backup Co",
        "--at",
        &at,
        "--backups-until",
        &until,
    ]);
    let refs = |day: &str| {
        env.ok(&[
            "holdings",
            "--supplier",
            "Backup Co",
            "--at",
            day,
            "--people",
            "--json",
        ])
        .json()["refs"]
            .clone()
    };
    assert_eq!(
        refs(&today_minus(5)),
        serde_json::json!(["M1", "M3"]),
        "still in backups"
    );
    assert_eq!(
        refs(&today_minus(1)),
        serde_json::json!(["M1"]),
        "backups expired"
    );
}

#[test]
fn an_erasure_nobody_holds_waits_for_the_organisation_and_a_closed_request_stays_closed() {
    let env = with_shares();
    let opened = env
        .ok(&[
            "request",
            "open",
            "--person",
            "M5",
            "--kind",
            "erasure",
            "--received-at",
            &today_minus(1),
            "--json",
        ])
        .json();
    assert_eq!(opened["instructed"], serde_json::json!([]));
    let id = opened["request"].as_i64().unwrap().to_string();
    assert_eq!(
        env.ok(&["request", "show", &id, "--json"]).json()["state"],
        "awaiting_decision"
    );
    env.ok(&["request", "decide", &id, "--erase"]);
    let shown = env.ok(&["request", "show", &id, "--json"]).json();
    assert_eq!(shown["state"], "no_supplier_holds");
    assert_eq!(
        shown["clock"], "open",
        "not done until the organisation has erased it too"
    );
    env.ok(&[
        "request",
        "close",
        &id,
        "--outcome",
        "done",
        "--reason",
        "erased from the CRM",
    ]);
    assert_eq!(env.ok(&["request", "show", &id, "--json"]).json()["clock"], "met");

    let unknown = env
        .ok(&[
            "request",
            "open",
            "--email",
            "who@example.net",
            "--kind",
            "erasure",
            "--received-at",
            &today_minus(1),
            "--json",
        ])
        .json()["request"]
        .as_i64()
        .unwrap()
        .to_string();
    env.ok(&[
        "request",
        "close",
        &unknown,
        "--outcome",
        "withdrawn",
        "--reason",
        "asked to stop",
    ]);
    let refused = env.fails(&["request", "identify", &unknown, "--person", "M1"], 1);
    assert!(refused.contains("closed"), "{refused}");
    assert_eq!(
        env.ok(&["request", "show", &unknown, "--json"]).json()["instructions"],
        serde_json::json!([])
    );
}

#[test]
fn the_clock_can_wait_for_identity() {
    let env = with_shares();
    let id = env
        .ok(&[
            "request",
            "open",
            "--email",
            "who@example.net",
            "--kind",
            "access",
            "--received-at",
            "2025-01-31 10:00",
            "--json",
        ])
        .json()["request"]
        .as_i64()
        .unwrap()
        .to_string();
    env.fails(
        &[
            "request",
            "identify",
            &id,
            "--person",
            "M4",
            "--identity-confirmed-at",
            "2024-01-01",
        ],
        1,
    );
    env.ok(&[
        "request",
        "identify",
        &id,
        "--person",
        "M4",
        "--identity-confirmed-at",
        "2025-03-31 16:00",
    ]);
    let shown = env.ok(&["request", "show", &id, "--json"]).json();
    assert_eq!(
        shown["due"], "2025-04-30",
        "one month from the identity check, at a month end"
    );
    assert_eq!(shown["ref"], "M4");
}
