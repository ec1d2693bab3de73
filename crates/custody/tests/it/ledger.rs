//! Suppliers, shares, canaries, feeds, holdings and recipients.

use crate::support::{CRM, Env};

fn with_people() -> Env {
    let env = Env::new();
    let crm = env.write("crm.csv", CRM);
    env.ok(&["people", "import", Env::path_str(&crm)]);
    env.ok(&[
        "supplier",
        "add",
        "Mailing House",
        "--role",
        "processor",
        "--notice-hours",
        "24",
        "--contract",
        "DPA-7",
    ]);
    env.ok(&[
        "supplier",
        "add",
        "Backup Co",
        "--role",
        "sub-processor",
        "--parent",
        "Mailing House",
    ]);
    env
}

#[test]
fn suppliers_are_registered_once_and_shown() {
    let env = with_people();
    let taken = env.fails(&["supplier", "add", "mailing house", "--role", "processor"], 1);
    assert!(taken.contains("exists already"), "{taken}");
    let orphan = env.fails(&["supplier", "add", "Lonely", "--role", "sub-processor"], 1);
    assert!(orphan.contains("--parent"), "{orphan}");
    let list = env.ok(&["supplier", "list", "--json"]).json();
    assert_eq!(list.as_array().map(Vec::len), Some(2));
    let shown = env.ok(&["supplier", "show", "Mailing House", "--json"]).json();
    assert_eq!(shown["notice_hours"], 24);
    assert_eq!(shown["sub_processors"], serde_json::json!(["Backup Co"]));
    env.fails(&["supplier", "show", "Nobody"], 1);
}

#[test]
fn holdings_follow_shares_sub_processors_and_deletions() {
    let env = with_people();
    let export = env.write("export.csv", "Member Number,First Name,Email\nM1,Alex,alex.smith@example.org\nM2,Zoë,zoe.jones@example.org\nM9,Nobody,nobody@example.org\n");
    let recorded = env
        .ok(&[
            "share",
            "record",
            "--supplier",
            "Mailing House",
            "--purpose",
            "newsletter",
            "--at",
            "2021-09-01 09:00",
            Env::path_str(&export),
            "--json",
        ])
        .json();
    assert_eq!(recorded["people"], 2);
    assert_eq!(recorded["unmatched"], 1);
    assert_eq!(recorded["unmatched_lines"], serde_json::json!([4]));
    let sent = std::fs::read(&export).unwrap();
    assert_eq!(
        recorded["sha256"].as_str().unwrap(),
        sha2_check::digest_hex(&sent),
        "the digest of the file sent"
    );
    assert_eq!(
        recorded["categories"],
        serde_json::json!(["user.contact.email", "user.name.first", "user.unique_id"])
    );
    // An export without references links by email.
    let backup = env.write("backup.csv", "Email,Post Code\nsam.patel@example.com,M1 1AA\n");
    env.ok(&[
        "share",
        "record",
        "--supplier",
        "Backup Co",
        "--purpose",
        "backup",
        "--at",
        "2021-10-01T00:00:00Z",
        Env::path_str(&backup),
    ]);

    let holdings = env
        .ok(&[
            "holdings",
            "--supplier",
            "Mailing House",
            "--at",
            "2021-10-29 18:30",
            "--people",
            "--json",
        ])
        .json();
    assert_eq!(
        holdings["people"], 3,
        "its own share and its sub-processor's: {holdings}"
    );
    assert_eq!(holdings["refs"], serde_json::json!(["M1", "M2", "M3"]));
    assert_eq!(holdings["categories"]["user.contact.email"], 3);
    assert_eq!(holdings["categories"]["user.name.first"], 2);
    assert_eq!(holdings["categories"]["user.contact.address.postal_code"], 1);
    let before = env
        .ok(&[
            "holdings",
            "--supplier",
            "Mailing House",
            "--at",
            "2021-08-31",
            "--json",
        ])
        .json();
    assert_eq!(before["people"], 0);

    let share = recorded["share"].as_i64().unwrap().to_string();
    env.ok(&[
        "share",
        "delete",
        &share,
        "--confirmed-at",
        "2021-10-01 12:00",
        "--backups-until",
        "2021-11-15",
    ]);
    let in_backups = env
        .ok(&[
            "holdings",
            "--supplier",
            "Mailing House",
            "--at",
            "2021-10-29 18:30",
            "--json",
        ])
        .json();
    assert_eq!(in_backups["people"], 3, "backups still hold it: {in_backups}");
    assert_eq!(in_backups["shares"][0]["state"], "backups_only");
    let after = env
        .ok(&[
            "holdings",
            "--supplier",
            "Mailing House",
            "--at",
            "2021-12-01",
            "--json",
        ])
        .json();
    assert_eq!(after["people"], 1, "only the sub-processor's backup remains");

    let person = env.ok(&["person", "show", "M1", "--recipients", "--json"]).json();
    let recipients = person["recipients"].as_array().unwrap();
    assert_eq!(recipients.len(), 1);
    assert_eq!(recipients[0]["supplier"], "Mailing House");
    assert_eq!(recipients[0]["shared_at"], "2021-09-01T08:00:00Z");
    assert_eq!(recipients[0]["deleted_at"], "2021-10-01T11:00:00Z");
    let again = env.fails(&["share", "delete", &share, "--confirmed-at", "2021-10-02"], 1);
    assert!(again.contains("already"), "{again}");
}

#[test]
fn an_unplaceable_column_is_named_and_nothing_is_recorded() {
    let env = with_people();
    let export = env.write("export.csv", "Member Number,Segment\nM1,gold\n");
    let error = env.fails(
        &[
            "share",
            "record",
            "--supplier",
            "Mailing House",
            "--purpose",
            "x",
            Env::path_str(&export),
        ],
        1,
    );
    assert!(
        error.contains("export.csv, line 1, column 2 (\"Segment\")"),
        "{error}"
    );
    assert_eq!(env.ok(&["share", "list", "--json"]).json(), serde_json::json!([]));
    let unknown = env.fails(
        &[
            "share",
            "record",
            "--supplier",
            "Nobody",
            "--purpose",
            "x",
            Env::path_str(&export),
        ],
        1,
    );
    assert!(unknown.contains("no supplier named"), "{unknown}");
    let mapped = env.ok(&[
        "share",
        "record",
        "--supplier",
        "Mailing House",
        "--purpose",
        "x",
        "--map",
        "Segment=none",
        Env::path_str(&export),
        "--json",
    ]);
    assert_eq!(mapped.json()["categories"], serde_json::json!(["user.unique_id"]));
}

#[test]
fn canaries_go_into_the_file_sent_and_the_ledger() {
    let env = with_people();
    let export = env.write("export.csv", "Member Number,First Name,Last Name,Email\nM1,Alex,Smith,alex.smith@example.org\nM2,Zoë,Jones,zoe.jones@example.org\n");
    let out = env.root.path().join("sent.csv");
    let recorded = env
        .ok(&[
            "share",
            "record",
            "--supplier",
            "Mailing House",
            "--purpose",
            "mailing",
            "--canaries",
            "3",
            "--canary-out",
            Env::path_str(&out),
            Env::path_str(&export),
            "--json",
        ])
        .json();
    assert_eq!(recorded["people"], 2);
    assert_eq!(recorded["canaries"], 3);
    let sent = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = sent.lines().collect();
    assert_eq!(lines.len(), 1 + 2 + 3, "{sent}");
    let canary_lines: Vec<&&str> = lines
        .iter()
        .filter(|line| line.contains("@canary.example.org"))
        .collect();
    assert_eq!(canary_lines.len(), 3, "{sent}");
    for line in &canary_lines {
        let reference = line.split(',').next().unwrap();
        assert!(
            reference.len() == 2 && reference.starts_with('M') && reference != "M1" && reference != "M2",
            "{line}"
        );
    }
    use sha2_check::digest_hex;
    assert_eq!(recorded["sha256"].as_str().unwrap(), digest_hex(sent.as_bytes()));
    let holdings = env
        .ok(&[
            "holdings",
            "--supplier",
            "Mailing House",
            "--at",
            "2099-01-01",
            "--json",
        ])
        .json();
    assert_eq!(
        (holdings["people"].as_u64(), holdings["canaries"].as_u64()),
        (Some(2), Some(3))
    );
}

mod sha2_check {
    /// SHA-256 via the system's `sha256sum`, so the test does not trust custody's own hashing.
    pub fn digest_hex(bytes: &[u8]) -> String {
        use std::io::Write;
        let mut child = std::process::Command::new("sha256sum")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(bytes).unwrap();
        let output = child.wait_with_output().unwrap();
        String::from_utf8(output.stdout)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned()
    }
}

#[test]
fn standing_feeds_cover_their_audience_over_time() {
    let env = with_people();
    let declared = env
        .ok(&[
            "share",
            "declare",
            "--supplier",
            "Mailing House",
            "--categories",
            "user.name,user.contact.email",
            "--audience",
            "member,donor",
            "--from",
            "2016-01-01",
            "--json",
        ])
        .json();
    assert!(declared["share"].as_i64().is_some());
    let listed = env.ok(&["share", "list", "--json"]).json();
    assert_eq!(listed[0]["kind"], "feed");
    assert_eq!(
        listed[0]["people"],
        serde_json::Value::Null,
        "a feed's people depend on the instant"
    );
    assert_eq!(listed[0]["audience"], serde_json::json!(["member", "donor"]));
    // Members M1 (joined 2010), M3 (joined 2012, left 2019, after the feed began) and donor M4
    // (joined 2018-01-01).
    let late_2021 = env
        .ok(&[
            "holdings",
            "--supplier",
            "Mailing House",
            "--at",
            "2021-10-29 18:30",
            "--people",
            "--json",
        ])
        .json();
    assert_eq!(late_2021["refs"], serde_json::json!(["M1", "M3", "M4"]));
    let early_2017 = env
        .ok(&[
            "holdings",
            "--supplier",
            "Mailing House",
            "--at",
            "2017-06-01",
            "--people",
            "--json",
        ])
        .json();
    assert_eq!(
        early_2017["refs"],
        serde_json::json!(["M1", "M3"]),
        "M4 had not joined yet"
    );
    let recipients = env.ok(&["person", "show", "M4", "--json"]).json();
    assert_eq!(recipients["recipients"][0]["kind"], "feed");
    let bad = env.fails(
        &[
            "share",
            "declare",
            "--supplier",
            "Mailing House",
            "--categories",
            "user.emails",
            "--audience",
            "member",
            "--from",
            "2016-01-01",
        ],
        1,
    );
    assert!(bad.contains("data category"), "{bad}");
}

#[test]
fn local_times_are_read_in_the_organisation_zone_and_ambiguity_is_refused() {
    let env = with_people();
    let export = env.write("export.csv", "Member Number\nM1\n");
    env.ok(&[
        "share",
        "record",
        "--supplier",
        "Mailing House",
        "--purpose",
        "x",
        "--at",
        "2021-10-31T01:30:00+01:00",
        Env::path_str(&export),
    ]);
    let repeated = env.fails(
        &[
            "holdings",
            "--supplier",
            "Mailing House",
            "--at",
            "2021-10-31 01:30",
        ],
        1,
    );
    assert!(repeated.contains("happened twice"), "{repeated}");
    // 01:29 BST is 00:29 UTC, before the share (00:30 UTC); 01:30 GMT is after it.
    let before = env
        .ok(&[
            "holdings",
            "--supplier",
            "Mailing House",
            "--at",
            "2021-10-31T00:29:00Z",
            "--json",
        ])
        .json();
    assert_eq!(before["people"], 0);
    let after = env
        .ok(&[
            "holdings",
            "--supplier",
            "Mailing House",
            "--at",
            "2021-10-31T01:30:00+00:00",
            "--json",
        ])
        .json();
    assert_eq!(after["people"], 1);
    assert_eq!(after["at_local"], "2021-10-31 01:30 GMT");
}

#[test]
fn share_files_with_bad_rows_or_a_taken_canary_file_change_nothing() {
    let env = with_people();
    let ragged = env.write(
        "ragged.csv",
        "Member Number,Email\nM1,alex.smith@example.org\nM2\n",
    );
    let error = env.fails(
        &[
            "share",
            "record",
            "--supplier",
            "Mailing House",
            "--purpose",
            "x",
            Env::path_str(&ragged),
        ],
        1,
    );
    assert!(
        error.contains("ragged.csv, line 3") && error.contains("expected 2"),
        "{error}"
    );
    let long = env.write(
        "long.csv",
        format!(
            "Member Number,Email\nM1,{}@example.org\n",
            "a".repeat(2 * 1024 * 1024)
        ),
    );
    let error = env.fails(
        &[
            "share",
            "record",
            "--supplier",
            "Mailing House",
            "--purpose",
            "x",
            Env::path_str(&long),
        ],
        1,
    );
    assert!(error.contains("longer than"), "{error}");
    let good = env.write("good.csv", "Member Number\nM1\n");
    let taken = env.write("taken.csv", "keep me");
    let error = env.fails(
        &[
            "share",
            "record",
            "--supplier",
            "Mailing House",
            "--purpose",
            "x",
            "--canaries",
            "2",
            "--canary-out",
            Env::path_str(&taken),
            Env::path_str(&good),
        ],
        1,
    );
    assert!(error.contains("exists already"), "{error}");
    assert_eq!(std::fs::read_to_string(&taken).unwrap(), "keep me");
    assert_eq!(env.ok(&["share", "list", "--json"]).json(), serde_json::json!([]));
    let verified = env.ok(&["audit", "verify", "--json"]).json();
    assert_eq!(
        verified["entries"], 4,
        "no audit entry for changes that did not happen"
    );
}
