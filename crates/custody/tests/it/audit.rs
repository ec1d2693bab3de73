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
    database(&env)
        .execute(
            "UPDATE audit SET details = replace(details, 'Mailing', 'Nailing') WHERE seq = 3",
            [],
        )
        .unwrap();
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
    database(&env)
        .execute("DELETE FROM audit WHERE seq = 2", [])
        .unwrap();
    let run = env.run(&["audit", "verify", "--json"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.json()["first_bad"], 2);
}

#[test]
fn entries_removed_from_the_end_are_detected() {
    let env = audited();
    database(&env)
        .execute("DELETE FROM audit WHERE seq = 4", [])
        .unwrap();
    let run = env.run(&["audit", "verify", "--json"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.json()["first_bad"], 4);
}

#[test]
fn a_rebuilt_chain_without_the_key_is_detected() {
    let env = audited();
    // Re-hash entry 3 with an unkeyed hash, as someone without the key might.
    database(&env)
        .execute("UPDATE audit SET hash = randomblob(32) WHERE seq = 3", [])
        .unwrap();
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
