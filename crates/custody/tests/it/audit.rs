//! The audit chain: every change is logged, and edits or removals are detected.

use crate::support::{CRM, Env};

fn audited() -> Env {
    let env = Env::new();
    let crm = env.write("crm.csv", CRM);
    env.ok(&["people", "import", Env::path_str(&crm)]);
    env.ok(&["supplier", "add", "Mailing House", "--role", "processor"]);
    env.ok(&["supplier", "add", "Printer", "--role", "processor"]);
    env
}

fn database(env: &Env) -> rusqlite::Connection {
    rusqlite::Connection::open(env.dir().join("custody.db")).unwrap()
}

#[test]
fn every_change_is_logged_and_the_chain_verifies() {
    let env = audited();
    let verified = env.ok(&["audit", "verify", "--json"]).json();
    assert_eq!(verified["intact"], true);
    assert_eq!(verified["entries"], 4);
    let export = env.ok(&["audit", "export"]).stdout;
    let actions: Vec<String> = export
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap()["action"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        actions,
        ["directory.init", "people.import", "supplier.add", "supplier.add"]
    );
    assert!(
        !export.contains("example.org"),
        "no contact details in the audit log"
    );
}

#[test]
fn an_edited_entry_is_named() {
    let env = audited();
    env.tamper("UPDATE audit SET details = replace(details, 'Mailing', 'Nailing') WHERE seq = 3");
    let run = env.run(&["audit", "verify"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("BROKEN at entry 3") && run.stdout.contains("edited"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_removed_entry_is_named() {
    let env = audited();
    env.tamper("DELETE FROM audit WHERE seq = 2");
    let run = env.run(&["audit", "verify", "--json"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.json()["first_bad"], 2);
}

#[test]
fn entries_removed_from_the_end_are_detected() {
    let env = audited();
    env.tamper("DELETE FROM audit WHERE seq = 4");
    let run = env.run(&["audit", "verify", "--json"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.json()["first_bad"], 4);
}

#[test]
fn a_rebuilt_chain_without_the_key_is_detected() {
    let env = audited();
    // Re-hash entry 3 with an unkeyed hash, as someone without the key might.
    let random = if env.on_sqlite() {
        "randomblob(32)"
    } else {
        "decode(md5(random()::text) || md5(random()::text), 'hex')"
    };
    env.tamper(&format!("UPDATE audit SET hash = {random} WHERE seq = 3"));
    assert_eq!(env.run(&["audit", "verify", "--json"]).json()["first_bad"], 3);
}

#[test]
fn the_demo_builds_an_organisation_through_the_cli_paths() {
    let env = Env::bare();
    let summary = env.ok(&["demo", "--people", "3000", "--json"]).json();
    let total: u64 = summary["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row[1].as_u64().unwrap() + row[2].as_u64().unwrap())
        .sum();
    assert_eq!(total, 3000);
    assert_eq!(summary["suppliers"], 12);
    let held = &summary["incident_holdings"];
    assert!(held["people"].as_u64().unwrap() > 500, "{held}");
    assert_eq!(held["canaries"], 10);
    assert_eq!(
        held["sub_processors"],
        serde_json::json!(["Example Cloud Backup", "Example Mail Delivery"])
    );
    // The incident of 29 October 2021 went through the breach desk.
    let incident = &summary["incident"];
    assert_eq!(incident["impact"]["people"], held["people"]);
    let regulator = &incident["clocks_then"][0];
    assert_eq!(
        (regulator["name"].as_str(), regulator["state"].as_str()),
        (Some("regulator"), Some("running"))
    );
    assert_eq!(regulator["due"], "2021-11-01T17:30:00Z");
    assert_eq!(
        incident["clocks_now"][0]["state"], "met",
        "reported on 1 November at 15:20"
    );
    assert_eq!(incident["statements"][1]["correction"], true);
    assert_eq!(incident["assessment"]["tell_people"], true);
    let shown = env.ok(&["incident", "show", "1", "--json"]).json();
    assert_eq!(shown["impact"]["people"], held["people"]);
    // Learned over weeks: opened as availability, amended when the supplier corrected itself,
    // an initial and a follow-up report filed, and the Irish authority told of its members.
    assert_eq!(
        incident["filed"],
        "initial and initial:IE:gdpr-regulator and follow-up"
    );
    let places: std::collections::BTreeSet<&str> = incident["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|clock| clock["jurisdiction"].as_str().unwrap())
        .collect();
    for place in ["GB", "IE", "FR", "US-CA", "CA-QC", "AU"] {
        assert!(
            places.contains(place),
            "members abroad bring {place}'s duties: {places:?}"
        );
    }
    assert_eq!(shown["facts_history"][0]["field"], "summary");
    assert_eq!(shown["facts_history"][1]["old"], "availability");
    assert_eq!(
        shown["facts"]["nature"],
        serde_json::json!(["confidentiality", "availability"])
    );
    let follow_up = env
        .ok(&["report", "1", "--phase", "follow-up", "--as-filed"])
        .stdout;
    assert!(
        follow_up.contains("- Facts: nature: availability → confidentiality, availability"),
        "{follow_up}"
    );
    // The leaked file: every canary planted in the share it came from is found, the people in it
    // were all held by the supplier, and it is on the incident as evidence.
    let leak = &summary["leak"];
    let canaries = leak["canaries"].as_array().unwrap();
    assert_eq!(canaries.len(), 5, "{leak}");
    assert!(
        canaries
            .iter()
            .all(|canary| canary["share"] == 4 && canary["supplier"] == "Example Membership Services")
    );
    assert_eq!(leak["best"], "Example Membership Services");
    let matched = leak["matched"].as_u64().unwrap();
    assert!(
        matched > 100 && leak["rows"].as_u64().unwrap() >= matched,
        "{leak}"
    );
    assert_eq!(shown["confirmed"]["people"], matched, "{shown}");
    assert_eq!(shown["confirmed"]["not_held_by_supplier"], 0, "{shown}");
    // The same data through the CLI: the demo left an ordinary data directory.
    let again = env
        .ok(&[
            "holdings",
            "--supplier",
            "Example Membership Services",
            "--at",
            "2021-10-29 18:30",
            "--json",
        ])
        .json();
    assert_eq!(again["people"], held["people"]);
    // Without a mail server the demo counts the notices and sends none.
    let notices = &summary["notices"];
    assert_eq!(notices["people"], held["people"]);
    assert!(notices["messages"].as_u64().unwrap() <= notices["people"].as_u64().unwrap());
    assert!(
        notices["letters"].as_u64().unwrap() > 0,
        "some have no email address"
    );
    assert!(notices["sent"].is_null());
    // The unwatched inbox of November 2021 went through the rights desk.
    let requests = &summary["requests"];
    assert_eq!(requests["imported"]["recorded"], 420);
    assert!(
        requests["imported"]["matched"].as_u64().unwrap() > 350,
        "{requests}"
    );
    assert_eq!(requests["imported"]["overdue"], 420);
    let answered = requests["answered"].as_i64().unwrap().to_string();
    let shown = env.ok(&["request", "show", &answered, "--json"]).json();
    assert_eq!(shown["state"], "done");
    let erasure = requests["erasure"].as_i64().unwrap().to_string();
    let shown = env.ok(&["request", "show", &erasure, "--json"]).json();
    assert_eq!(
        shown["instructions"].as_array().unwrap().len(),
        requests["erasure_suppliers"].as_array().unwrap().len()
    );
    assert_eq!(
        env.ok(&["request", "list", "--overdue", "--json"])
            .json()
            .as_array()
            .unwrap()
            .len(),
        419,
        "all but the one answered and closed"
    );
    env.ok(&["audit", "verify"]);
    // A rerun replaces the demo directory; a foreign directory is refused.
    env.ok(&["demo", "--people", "1000", "--json"]);
    let foreign = Env::new();
    let refused = foreign.fails(&["demo", "--people", "1000"], 1);
    assert!(refused.contains("was not made by the demo"), "{refused}");
}

#[test]
fn a_missing_anchor_is_not_taken_for_an_intact_chain() {
    let env = audited();
    if !env.on_sqlite() {
        return; // audit.head is SQLite's; PostgreSQL keeps the record in the database (tests/it/postgres.rs)
    }
    database(&env)
        .execute("DELETE FROM audit WHERE seq = 4", [])
        .unwrap();
    std::fs::remove_file(env.dir().join("audit.head")).unwrap();
    let run = env.run(&["audit", "verify", "--json"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.json()["problem"]
            .as_str()
            .unwrap()
            .contains("audit.head is missing"),
        "{}",
        run.stdout
    );
}

fn newest_seq(env: &Env) -> i64 {
    env.query_number("SELECT max(seq) FROM audit")
}

#[test]
fn a_write_after_the_tail_was_deleted_is_refused_and_the_cut_stays_visible() {
    let env = audited();
    env.ok(&["token", "add", "--name", "scripts", "--role", "admin"]);
    let before = newest_seq(&env);
    // The attack: delete the newest entry (the token being made), then make any change so that
    // the chain grows past the cut.
    env.tamper(&format!("DELETE FROM audit WHERE seq = {before}"));
    let refused = env.fails(&["supplier", "add", "Telephony", "--role", "processor"], 1);
    assert!(
        refused.contains("audit chain was cut")
            && refused.contains(&format!("entries {before} to {before} were removed")),
        "{refused}"
    );
    assert_eq!(newest_seq(&env), before - 1, "nothing was written");
    let listed = env.ok(&["supplier", "list", "--json"]).stdout;
    assert!(!listed.contains("Telephony"), "the change was not made");
    let run = env.run(&["audit", "verify", "--json"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.json()["first_bad"], before);
}

#[test]
fn a_head_rewritten_by_hand_to_the_shortened_chain_is_refused() {
    let env = audited();
    if !env.on_sqlite() {
        return; // audit.head is SQLite's; PostgreSQL keeps the record in the database (tests/it/postgres.rs)
    }
    let before = newest_seq(&env);
    let (seq, hash): (i64, Vec<u8>) = database(&env)
        .query_row(
            "SELECT seq, hash FROM audit WHERE seq = ?1",
            [before - 1],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    database(&env)
        .execute("DELETE FROM audit WHERE seq = ?1", [before])
        .unwrap();
    let hex: String = hash.iter().map(|byte| format!("{byte:02x}")).collect();
    // As the old custody wrote it, and in the new layout with a MAC made up without the key.
    for forged in [
        format!("{seq} {hex}\n"),
        format!(
            "custody-audit-head v2\ncommitted {seq} {hex}\npending none\nmac {}\n",
            "0".repeat(64)
        ),
    ] {
        std::fs::write(env.dir().join("audit.head"), &forged).unwrap();
        let refused = env.fails(&["supplier", "add", "Telephony", "--role", "processor"], 1);
        assert!(refused.contains("audit chain was cut"), "{refused}");
        let run = env.run(&["audit", "verify", "--json"]);
        assert_eq!(run.code, 1, "{}", run.stdout);
    }
}

#[test]
fn a_checkpoint_kept_outside_catches_a_cut_covered_by_an_older_head() {
    let env = audited();
    if !env.on_sqlite() {
        return; // audit.head is SQLite's; PostgreSQL keeps the record in the database (tests/it/postgres.rs)
    }
    // The insider keeps a genuine audit.head from now, lets work go on, takes a checkpoint
    // (as the DPO does each week) ... then cuts the chain back and puts the old head back.
    let old_head = std::fs::read(env.dir().join("audit.head")).unwrap();
    let kept_at = newest_seq(&env);
    env.ok(&["supplier", "add", "Telephony", "--role", "processor"]);
    let checkpoint = env.dir().join("checkpoint.json");
    env.ok(&["audit", "anchor", "--out", Env::path_str(&checkpoint)]);
    let anchored: serde_json::Value = serde_json::from_slice(&std::fs::read(&checkpoint).unwrap()).unwrap();
    assert_eq!(anchored["seq"], kept_at + 1);
    let export = env.ok(&["audit", "export"]).stdout;
    assert!(
        export.lines().last().unwrap().contains("\"audit.anchor\""),
        "taking it is recorded"
    );
    database(&env)
        .execute("DELETE FROM audit WHERE seq > ?1", [kept_at])
        .unwrap();
    std::fs::write(env.dir().join("audit.head"), old_head).unwrap();
    // Locally the chain looks whole: only the checkpoint can tell.
    assert_eq!(env.run(&["audit", "verify", "--json"]).code, 0);
    let run = env.run(&[
        "audit",
        "verify",
        "--anchor",
        Env::path_str(&checkpoint),
        "--json",
    ]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let checks = run.json()["checkpoints"].clone();
    assert_eq!(checks[0]["held"], false, "{checks}");
    assert!(
        checks[0]["problem"]
            .as_str()
            .unwrap()
            .contains("no longer holds entry"),
        "{checks}"
    );
}

#[test]
fn a_checkpoint_altered_or_from_another_directory_is_not_trusted() {
    let env = audited();
    if !env.on_sqlite() {
        return; // audit.head is SQLite's; PostgreSQL keeps the record in the database (tests/it/postgres.rs)
    }
    let checkpoint = env.dir().join("checkpoint.json");
    env.ok(&["audit", "anchor", "--out", Env::path_str(&checkpoint)]);
    let run = env.run(&[
        "audit",
        "verify",
        "--anchor",
        Env::path_str(&checkpoint),
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.json()["checkpoints"][0]["held"], true);
    let text = std::fs::read_to_string(&checkpoint).unwrap();
    let altered = text.replace("\"seq\": ", "\"seq\": 1");
    std::fs::write(&checkpoint, altered).unwrap();
    let run = env.run(&[
        "audit",
        "verify",
        "--anchor",
        Env::path_str(&checkpoint),
        "--json",
    ]);
    assert_eq!(run.code, 1);
    assert!(
        run.json()["checkpoints"][0]["problem"]
            .as_str()
            .unwrap()
            .contains("MAC does not match"),
        "{}",
        run.stdout
    );
    let other = audited();
    let foreign = other.dir().join("theirs.json");
    other.ok(&["audit", "anchor", "--out", Env::path_str(&foreign)]);
    let run = env.run(&["audit", "verify", "--anchor", Env::path_str(&foreign), "--json"]);
    assert_eq!(run.code, 1, "another directory's key");
}

#[test]
fn reanchoring_accepts_a_whole_chain_and_records_what_the_head_said() {
    let env = audited();
    if !env.on_sqlite() {
        return; // audit.head is SQLite's; PostgreSQL keeps the record in the database (tests/it/postgres.rs)
    }
    // A data directory from the previous custody: an unkeyed head.
    let (seq, hash): (i64, Vec<u8>) = database(&env)
        .query_row(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    let hex: String = hash.iter().map(|byte| format!("{byte:02x}")).collect();
    std::fs::write(env.dir().join("audit.head"), format!("{seq} {hex}\n")).unwrap();
    let refused = env.fails(&["supplier", "add", "Telephony", "--role", "processor"], 1);
    assert!(refused.contains("reanchor"), "{refused}");
    let said = env.ok(&["audit", "reanchor"]).stdout;
    assert!(said.contains(&format!("now names entry {seq}")), "{said}");
    env.ok(&["supplier", "add", "Telephony", "--role", "processor"]);
    env.ok(&["audit", "verify"]);
    let export = env.ok(&["audit", "export"]).stdout;
    let reanchor = export
        .lines()
        .find(|line| line.contains("audit.reanchor"))
        .unwrap();
    assert!(reanchor.contains("not a keyed record"), "{reanchor}");
    // A chain with an edited entry is not mended by reanchoring.
    database(&env)
        .execute("UPDATE audit SET actor = 'someone else' WHERE seq = 2", [])
        .unwrap();
    let refused = env.fails(&["audit", "reanchor"], 1);
    assert!(refused.contains("broken at entry 2"), "{refused}");
}

#[test]
fn the_head_file_is_private_and_keyed() {
    let env = audited();
    if !env.on_sqlite() {
        return; // audit.head is SQLite's; PostgreSQL keeps the record in the database (tests/it/postgres.rs)
    }
    let text = std::fs::read_to_string(env.dir().join("audit.head")).unwrap();
    assert!(
        text.starts_with("custody-audit-head v2\n") && text.contains("\nmac "),
        "{text}"
    );
    assert!(
        text.contains("pending none"),
        "settled after the last change: {text}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(env.dir().join("audit.head"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "{mode:o}");
    }
}

#[test]
fn verifying_while_others_write_raises_no_false_alarm() {
    let env = audited();
    let dir = env.dir();
    let writer = std::thread::spawn(move || {
        for _ in 0..40 {
            let output = std::process::Command::new(env!("CARGO_BIN_EXE_custody"))
                .arg("--dir")
                .arg(&dir)
                .args(["person", "show", "M1"])
                .env_remove("CUSTODY_KEY")
                .env("CUSTODY_DATABASE_PASSWORD", custody_testdb::PASSWORD)
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    });
    let mut alarms = Vec::new();
    while !writer.is_finished() {
        let run = env.run(&["audit", "verify", "--json"]);
        if run.code != 0 {
            alarms.push(run.stdout);
        }
    }
    writer.join().unwrap();
    assert!(alarms.is_empty(), "{alarms:#?}");
    assert_eq!(env.run(&["audit", "verify"]).code, 0);
}
