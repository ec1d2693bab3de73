//! The rights desk, round two: legal deadlines with bank holidays, pauses (UK GDPR Art. 12A),
//! erasure with a review, every right reaching the suppliers, and complete answers.

use crate::requests::{today_minus, with_shares};
use crate::support::Env;

/// Puts top-level settings at the start of `settings.toml` (before its tables).
fn settings_prepend(env: &Env, lines: &str) {
    let path = env.dir().join("settings.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{lines}\n{text}")).unwrap();
}

fn open(env: &Env, person: &str, kind: &str, received: &str) -> serde_json::Value {
    env.ok(&[
        "request",
        "open",
        "--person",
        person,
        "--kind",
        kind,
        "--received-at",
        received,
        "--json",
    ])
    .json()
}

fn id_of(opened: &serde_json::Value) -> String {
    opened["request"].as_i64().unwrap().to_string()
}

fn show(env: &Env, id: &str) -> serde_json::Value {
    env.ok(&["request", "show", id, "--json"]).json()
}

fn shipped_deadline(received: &str, extension: u8, paused: i64) -> String {
    let holidays =
        custody_app::rights::holidays::parse(custody_app::rights::holidays::SHIPPED, "shipped").unwrap();
    let day = custody_core::parse_day(received).unwrap();
    custody_core::request_deadline(day, extension, paused, holidays.get("england-and-wales").unwrap())
        .unwrap()
        .to_iso()
}

#[test]
fn deadlines_move_off_weekends_and_bank_holidays_of_the_chosen_nation() {
    let env = with_shares();
    // The issue's cases: Saturday 28 February, then Christmas Day.
    assert_eq!(
        open(&env, "M1", "access", "2026-01-31 10:00")["due"],
        "2026-03-02"
    );
    let christmas = open(&env, "M2", "access", "2025-11-25 10:00");
    assert_eq!(christmas["due"], "2025-12-29");
    let shown = show(&env, &id_of(&christmas));
    assert_eq!(shown["due"], "2025-12-29");
    assert!(
        shown["bank_holidays"]
            .as_str()
            .unwrap()
            .contains("england-and-wales")
    );
    assert!(shown["target"].is_null(), "no target unless settings set one");
    // St Andrew's Day (Mon 30 November 2026) is a bank holiday in Scotland only.
    let andrew = open(&env, "M3", "access", "2026-10-30 10:00");
    assert_eq!(andrew["due"], "2026-11-30");
    settings_prepend(&env, "bank_holidays = \"scotland\"\nrequest_target_days = 5");
    let shown = show(&env, &id_of(&andrew));
    assert_eq!(shown["due"], "2026-12-01");
    assert_eq!(
        shown["target"], "2026-11-26",
        "five days before, on a working day"
    );
    // A division the list lacks is a clear error, not a silent English calendar.
    let path = env.dir().join("settings.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("\"scotland\"", "\"wales\"");
    std::fs::write(&path, text).unwrap();
    let error = env.fails(&["request", "show", &id_of(&andrew), "--json"], 1);
    assert!(
        error.contains("\"wales\"") && error.contains("scotland"),
        "{error}"
    );
}

#[test]
fn an_organisation_replaces_the_bank_holidays_with_a_checked_file() {
    let env = with_shares();
    let id = id_of(&open(&env, "M1", "access", "2026-10-14 10:00"));
    assert_eq!(
        show(&env, &id)["due"],
        "2026-11-16",
        "14 November 2026 is a Saturday"
    );
    let bad = env.write(
        "bad.json",
        "{\"england-and-wales\": {\"division\": \"england-and-wales\",\n \"events\": [{\"date\": \"16/11/2026\"}]}}",
    );
    let error = env.fails(&["holidays", "import", Env::path_str(&bad)], 1);
    assert!(error.contains("line 2, column"), "{error}");
    assert!(error.contains("16/11/2026"), "{error}");
    assert!(!env.dir().join("bank-holidays.json").exists(), "nothing was kept");
    let scottish_only = env.write(
        "scotland.json",
        r#"{"scotland": {"division": "scotland", "events": [{"title": "x", "date": "2026-11-30", "notes": "", "bunting": true}]}}"#,
    );
    let error = env.fails(&["holidays", "import", Env::path_str(&scottish_only)], 1);
    assert!(error.contains("england-and-wales"), "{error}");
    // A day of mourning declared after the list was taken.
    let good = env.write(
        "bank-holidays.json",
        r#"{"england-and-wales": {"division": "england-and-wales", "events": [
            {"title": "Christmas Day", "date": "2026-12-25", "notes": "", "bunting": true},
            {"title": "Extra day", "date": "2026-11-16", "notes": "", "bunting": false}]}}"#,
    );
    env.ok(&["holidays", "import", Env::path_str(&good)]);
    assert_eq!(show(&env, &id)["due"], "2026-11-17");
    let shown = env.ok(&["holidays", "show", "--json"]).json();
    assert!(shown["source"].as_str().unwrap().contains("imported"), "{shown}");
    assert!(env.ok(&["audit", "export"]).stdout.contains("holidays.import"));
}

#[test]
fn a_clarification_stops_the_clock_and_identity_or_a_fee_restarts_it() {
    let env = with_shares();
    let received = today_minus(20);
    let access = id_of(&open(&env, "M1", "access", &received));
    let asked = today_minus(18);
    let answered = today_minus(14);
    // Refusals first: nothing is written by any of them.
    let no_reason = env.run(&["request", "pause", &access, "--at", &asked]);
    assert_eq!(no_reason.code, 2, "clap refuses a pause without --reason");
    let error = env.fails(&["request", "resume", &access, "--at", &answered], 1);
    assert!(error.contains("not paused"), "{error}");
    let erasure = id_of(&open(&env, "M2", "erasure", &received));
    let error = env.fails(
        &[
            "request",
            "pause",
            &erasure,
            "--at",
            &asked,
            "--reason",
            "clarification",
        ],
        1,
    );
    assert!(error.contains("Art. 12A"), "{error}");
    assert_eq!(show(&env, &access)["events"], serde_json::json!([]));

    env.ok(&[
        "request",
        "pause",
        &access,
        "--at",
        &asked,
        "--reason",
        "clarification",
        "--note",
        "Which years of records?",
    ]);
    let paused = show(&env, &access);
    assert_eq!(paused["clock"], "paused");
    assert_eq!(paused["state"], "paused");
    assert_eq!(paused["paused"], "clarification");
    let again = env.fails(
        &["request", "pause", &access, "--at", &asked, "--reason", "fee"],
        1,
    );
    assert!(again.contains("paused already"), "{again}");
    let early = env.fails(&["request", "resume", &access, "--at", &today_minus(19)], 1);
    assert!(early.contains("before the pause"), "{early}");
    env.ok(&["request", "resume", &access, "--at", &answered]);
    let resumed = show(&env, &access);
    // From the day asked to the day answered, both days excluded: five days.
    assert_eq!(resumed["paused_days"], 5);
    assert_eq!(resumed["due"], shipped_deadline(&received, 0, 5));
    assert_eq!(resumed["clock"], "open");
    assert_eq!(resumed["pauses"][0]["note"], "Which years of records?");

    // Identity: the month starts again on the day the information arrives.
    let rectify = id_of(&open(&env, "M3", "rectification", &received));
    env.ok(&[
        "request", "pause", &rectify, "--at", &asked, "--reason", "identity",
    ]);
    env.ok(&["request", "resume", &rectify, "--at", &answered]);
    assert_eq!(show(&env, &rectify)["due"], shipped_deadline(&answered, 0, 0));
    let audit = env.ok(&["audit", "export"]).stdout;
    assert!(audit.contains("request.pause") && audit.contains("request.resume"));
}

#[test]
fn an_erasure_waits_for_a_decision_and_grounds_are_offered_by_name() {
    let env = with_shares();
    let opened = open(&env, "M1", "erasure", &today_minus(2));
    let id = id_of(&opened);
    let before = env.ok(&["audit", "export"]).stdout.lines().count();
    let unknown = env.fails(
        &[
            "request",
            "decide",
            &id,
            "--refuse",
            "--ground",
            "we-like-it",
            "--reason",
            "x",
        ],
        1,
    );
    assert!(
        unknown.contains("legal-obligation") && unknown.contains("legal-claims"),
        "{unknown}"
    );
    let no_reason = env.fails(
        &["request", "decide", &id, "--refuse", "--ground", "legal-claims"],
        1,
    );
    assert!(no_reason.contains("--reason"), "{no_reason}");
    let stranger = env.fails(
        &[
            "request",
            "decide",
            &id,
            "--keep-supplier",
            "Nobody Ltd",
            "--ground",
            "legal-obligation",
            "--reason",
            "x",
        ],
        1,
    );
    assert!(stranger.contains("Nobody Ltd"), "{stranger}");
    assert_eq!(
        env.ok(&["audit", "export"]).stdout.lines().count(),
        before,
        "nothing written"
    );

    // Keep the backup copy (donation records the law makes the party keep), erase the rest.
    let decided = env.ok(&[
        "request",
        "decide",
        &id,
        "--keep-supplier",
        "Backup Co",
        "--ground",
        "legal-obligation",
        "--reason",
        "Donation records must be kept for three years under electoral law.",
    ]);
    assert!(decided.stdout.contains("Kept: Backup Co"), "{}", decided.stdout);
    let shown = show(&env, &id);
    let instructed: Vec<&str> = shown["instructions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["supplier"].as_str().unwrap())
        .collect();
    assert_eq!(instructed, ["Mailing House"]);
    assert_eq!(shown["decision"]["decision"], "partial");
    let twice = env.fails(&["request", "decide", &id, "--erase"], 1);
    assert!(twice.contains("decided already"), "{twice}");
    env.ok(&[
        "request",
        "confirm",
        &id,
        "--supplier",
        "Mailing House",
        "--at",
        &today_minus(1),
    ]);
    let answer = env.ok(&["request", "answer", &id]).stdout;
    assert!(
        answer.contains("**Mailing House** was told to erase the data, and confirmed"),
        "{answer}"
    );
    assert!(
        answer.contains("**Backup Co** keeps your data because the law requires us to keep it"),
        "{answer}"
    );
    assert!(answer.contains("Donation records must be kept"), "{answer}");

    // A refusal ends the request; a closed request cannot be decided.
    let refused = id_of(&open(&env, "M2", "erasure", &today_minus(2)));
    env.ok(&[
        "request",
        "decide",
        &refused,
        "--refuse",
        "--ground",
        "manifestly-excessive",
        "--reason",
        "This is the twelfth identical request this month.",
    ]);
    let shown = show(&env, &refused);
    assert_eq!(shown["state"], "refused_on_review");
    assert_eq!(shown["clock"], "met");
    assert!(shown["instructions"].as_array().unwrap().is_empty());
    let closed = id_of(&open(&env, "M3", "erasure", &today_minus(2)));
    env.ok(&[
        "request",
        "close",
        &closed,
        "--outcome",
        "withdrawn",
        "--reason",
        "asked to stop",
    ]);
    let error = env.fails(&["request", "decide", &closed, "--erase"], 1);
    assert!(error.contains("closed"), "{error}");
}

#[test]
fn without_review_an_erasure_instructs_at_once() {
    let env = with_shares();
    settings_prepend(&env, "erasure_review = false");
    let opened = open(&env, "M1", "erasure", &today_minus(2));
    assert_eq!(
        opened["instructed"],
        serde_json::json!(["Mailing House", "Backup Co"])
    );
    assert_eq!(opened["awaiting_decision"], false);
    let error = env.fails(&["request", "decide", &id_of(&opened), "--erase"], 1);
    assert!(error.contains("erasure_review = false"), "{error}");
}

#[test]
fn every_right_reaches_the_suppliers_that_hold_the_person() {
    let env = with_shares();
    let rectify = open(&env, "M1", "rectification", &today_minus(2));
    assert_eq!(
        rectify["instructed"],
        serde_json::json!(["Mailing House", "Backup Co"])
    );
    let shown = show(&env, &id_of(&rectify));
    assert_eq!(shown["instructions"][0]["action"], "rectify");
    assert_eq!(shown["state"], "awaiting_suppliers");
    let restrict = open(&env, "M1", "restriction", &today_minus(2));
    assert_eq!(
        show(&env, &id_of(&restrict))["instructions"][1]["action"],
        "restrict"
    );
    // An objection to direct marketing reaches only the holders of marketing shares.
    let none = open(&env, "M1", "objection", &today_minus(2));
    assert_eq!(none["instructed"], serde_json::json!([]));
    assert!(
        none["caution"].as_str().unwrap().contains("share marketing"),
        "{none}"
    );
    env.ok(&["share", "marketing", "1", "--on"]);
    let object = open(&env, "M1", "objection", &today_minus(1));
    assert_eq!(object["instructed"], serde_json::json!(["Mailing House"]));
    let id = id_of(&object);
    assert_eq!(show(&env, &id)["instructions"][0]["action"], "stop_marketing");
    let backups = env.fails(
        &[
            "request",
            "confirm",
            &id,
            "--supplier",
            "Mailing House",
            "--at",
            &today_minus(0),
            "--backups-until",
            &today_minus(0),
        ],
        1,
    );
    assert!(backups.contains("erasures only"), "{backups}");
    env.ok(&[
        "request",
        "confirm",
        &id,
        "--supplier",
        "Mailing House",
        "--at",
        &today_minus(0),
    ]);
    assert_eq!(show(&env, &id)["state"], "suppliers_confirmed");
    // Rectification confirmed by a supplier does not erase anything.
    let person = env.ok(&["person", "show", "M1", "--json"]).json();
    assert!(
        person["recipients"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["deleted_at"].is_null())
    );
    let answer = env.ok(&["request", "answer", &id]).stdout;
    assert!(answer.contains("stop direct marketing"), "{answer}");

    // Portability: a machine-readable file, with what the CRM must add.
    let port = id_of(&open(&env, "M2", "portability", &today_minus(1)));
    let error = env.fails(&["request", "answer", &port, "--format", "md"], 1);
    assert!(error.contains("--format json"), "{error}");
    let run = env.ok(&["request", "answer", &port, "--format", "json"]);
    let file = run.json();
    assert_eq!(file["format"], "custody-portability/1");
    assert_eq!(file["person"]["ref"], "M2");
    assert!(
        file["person"].get("contact_held").is_none(),
        "no bookkeeping: {file}"
    );
    // What the CRM must add is for the DPO, not in the file given to the person.
    assert!(run.stderr.contains("membership system"), "{}", run.stderr);
    assert!(!run.stdout.contains("membership system"));
}

#[test]
fn the_access_answer_covers_every_part_of_article_15_in_plain_words() {
    let env = with_shares();
    env.ok(&[
        "supplier",
        "transfer",
        "Backup Co",
        "--country",
        "US",
        "--safeguard",
        "the UK International Data Transfer Agreement",
    ]);
    let id = id_of(&open(&env, "M1", "access", &today_minus(1)));
    let run = env.ok(&["request", "answer", &id]);
    let answer = run.stdout;
    for part in [
        "Why we use your data (Art. 15(1)(a))",
        "to send you the communications you have chosen to receive",
        "for: newsletter",
        "Email address",
        "Transfers outside the UK and EEA (Art. 15(2))",
        "**Backup Co** keeps your data in US. Safeguard: the UK International Data Transfer Agreement",
        "Where your data came from (Art. 15(1)(g))",
        "Automated decisions (Art. 15(1)(h))",
        "0303 123 1113",
        "A copy of the personal data we hold about you is attached",
    ] {
        assert!(answer.contains(part), "missing {part:?}:\n{answer}");
    }
    assert!(
        !answer.contains("user.contact"),
        "no category keys for the person:\n{answer}"
    );
    assert!(
        !answer.contains("T09:00:00Z") && !answer.contains("+00:00"),
        "local times:\n{answer}"
    );
    // Backup Co's 30 days ran out long ago: the DPO is warned, the person is not told so.
    assert!(
        run.stderr
            .contains("Backup Co still holds share 2 past its retention"),
        "{}",
        run.stderr
    );
    assert!(!answer.contains("past its retention"));
    let json = env.ok(&["request", "answer", &id, "--format", "json"]).json();
    assert_eq!(json["transfers"][0]["country"], "US");
    assert!(json["data_held"][0]["key"].as_str().unwrap().starts_with("user."));
}

#[test]
fn the_clock_cannot_be_gamed_and_refusals_write_nothing() {
    let env = with_shares();
    // A pause cannot start after the deadline has passed.
    let late = id_of(&open(&env, "M1", "access", "2026-01-05 10:00"));
    let error = env.fails(
        &[
            "request",
            "pause",
            &late,
            "--at",
            &today_minus(0),
            "--reason",
            "fee",
        ],
        1,
    );
    assert!(error.contains("after the deadline"), "{error}");
    assert_eq!(show(&env, &late)["clock"], "overdue");

    // Identity information arriving through `identify` ends the identity pause.
    let stranger = env
        .ok(&[
            "request",
            "open",
            "--email",
            "who@example.net",
            "--kind",
            "erasure",
            "--received-at",
            &today_minus(10),
            "--json",
        ])
        .json();
    let id = id_of(&stranger);
    env.ok(&[
        "request",
        "pause",
        &id,
        "--at",
        &today_minus(9),
        "--reason",
        "identity",
    ]);
    let error = env.fails(&["request", "decide", &id, "--erase"], 1);
    assert!(
        error.contains("not linked") || error.contains("paused"),
        "{error}"
    );
    env.ok(&[
        "request",
        "identify",
        &id,
        "--person",
        "M1",
        "--identity-confirmed-at",
        &today_minus(6),
    ]);
    let shown = show(&env, &id);
    assert_eq!(shown["clock"], "open", "{shown}");
    assert_eq!(shown["due"], shipped_deadline(&today_minus(6), 0, 0));

    // Decisions and extensions wait while the clock is paused for the requester.
    let other = id_of(&open(&env, "M2", "erasure", &today_minus(5)));
    env.ok(&[
        "request",
        "pause",
        &other,
        "--at",
        &today_minus(4),
        "--reason",
        "fee",
    ]);
    let error = env.fails(&["request", "decide", &other, "--erase"], 1);
    assert!(error.contains("paused"), "{error}");
    let error = env.fails(
        &["request", "extend", &other, "--months", "1", "--reason", "busy"],
        1,
    );
    assert!(error.contains("paused"), "{error}");
    env.ok(&["request", "resume", &other, "--at", &today_minus(3)]);
    env.ok(&["request", "decide", &other, "--erase"]);
    // A confirmation dated before the decision was recorded counts from the decision: the
    // request is not done before custody knew of it.
    env.ok(&[
        "request",
        "confirm",
        &other,
        "--supplier",
        "Mailing House",
        "--at",
        &today_minus(4),
    ]);
    let shown = show(&env, &other);
    assert_eq!(shown["state"], "completed", "{shown}");
    assert_eq!(shown["clock"], "met");

    // Keeping every holder is a refusal, not a partial erasure.
    let all = id_of(&open(&env, "M3", "erasure", &today_minus(1)));
    let error = env.fails(
        &[
            "request",
            "decide",
            &all,
            "--keep-supplier",
            "Backup Co",
            "--ground",
            "legal-claims",
            "--reason",
            "x",
        ],
        1,
    );
    assert!(error.contains("--refuse"), "{error}");

    // Setting a safeguard keeps the country recorded before.
    env.ok(&["supplier", "transfer", "Backup Co", "--country", "US"]);
    env.ok(&["supplier", "transfer", "Backup Co", "--safeguard", "the UK IDTA"]);
    let supplier = env.ok(&["supplier", "show", "Backup Co", "--json"]).json();
    assert_eq!(supplier["country"], "US");
    assert_eq!(supplier["transfer_safeguard"], "the UK IDTA");
    let error = env.fails(&["supplier", "transfer", "Backup Co"], 1);
    assert!(error.contains("--country"), "{error}");
}

#[test]
fn a_refused_rectification_says_so_in_its_answer() {
    let env = with_shares();
    let id = id_of(&open(&env, "M1", "rectification", &today_minus(2)));
    env.ok(&[
        "request",
        "close",
        &id,
        "--outcome",
        "refused",
        "--reason",
        "The date of birth we hold matches the certificate you sent.",
    ]);
    let answer = env.ok(&["request", "answer", &id]).stdout;
    assert!(
        answer.contains("We have decided not to act on your request"),
        "{answer}"
    );
    assert!(answer.contains("matches the certificate"), "{answer}");
    // The suppliers already told to correct it are still named (Art. 19).
    assert!(
        answer.contains("**Mailing House** was told to correct the data"),
        "{answer}"
    );
    // An access request closed as refused has no access answer to give.
    let access = id_of(&open(&env, "M2", "access", &today_minus(1)));
    env.ok(&[
        "request",
        "close",
        &access,
        "--outcome",
        "refused",
        "--reason",
        "Manifestly excessive.",
    ]);
    let error = env.fails(&["request", "answer", &access], 1);
    assert!(error.contains("closed as refused"), "{error}");
}
