//! Initialising a directory and importing people: encodings, updates, atomicity, errors.

use crate::support::{CRM, Env};

#[test]
fn init_makes_a_private_key_and_refuses_to_run_twice() {
    let env = Env::new();
    let dir = env.dir();
    assert!(dir.join("settings.toml").exists());
    assert_eq!(dir.join("custody.db").exists(), env.on_sqlite());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("custody.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let settings = std::fs::read_to_string(dir.join("settings.toml")).unwrap();
    assert!(
        settings.contains("time_zone = \"Europe/London\"") && settings.contains("phone_region = \"GB\""),
        "{settings}"
    );
    let again = env.fails(&["init"], 1);
    assert!(again.contains("is a custody data directory already"), "{again}");
}

#[test]
fn an_uninitialised_directory_is_named_plainly() {
    let env = Env::bare();
    let error = env.fails(&["supplier", "list"], 1);
    assert!(
        error.contains("is not a custody data directory") && error.contains("custody init"),
        "{error}"
    );
}

#[test]
fn usage_errors_exit_2() {
    let env = Env::new();
    env.fails(&["people", "import"], 2);
    env.fails(&["supplier", "add", "X", "--role", "boss"], 2);
}

#[test]
fn import_then_reimport_updates_in_place() {
    let env = Env::new();
    let crm = env.write("crm.csv", CRM);
    let first = env
        .ok(&["people", "import", Env::path_str(&crm), "--json"])
        .json();
    assert_eq!(
        (first["inserted"].as_u64(), first["updated"].as_u64()),
        (Some(5), Some(0))
    );
    assert_eq!(first["ignored_columns"], serde_json::json!(["Notes"]));
    let second = env
        .ok(&["people", "import", Env::path_str(&crm), "--json"])
        .json();
    assert_eq!(
        (
            second["inserted"].as_u64(),
            second["updated"].as_u64(),
            second["unchanged"].as_u64()
        ),
        (Some(0), Some(0), Some(5)),
        "the same file again changes no one: {second}"
    );
    let lapsed = env.ok(&["person", "show", "M3", "--json"]).json();
    assert_eq!(lapsed["status"], "former");
    assert_eq!(lapsed["left_on"], "2019-03-01");
    assert_eq!(
        env.ok(&["person", "show", "M5", "--json"]).json()["category"],
        "affiliated_supporter"
    );
}

#[test]
fn windows_1252_tab_separated_exports_are_read() {
    let env = Env::new();
    let mut bytes = b"id\tfirst name\tlast name\temail\n".to_vec();
    bytes.extend_from_slice(b"W1\tZo\xEB\tM\xFCller\tzoe@example.org\n");
    let file = env.write("crm.tsv", bytes);
    let report = env
        .ok(&[
            "people",
            "import",
            Env::path_str(&file),
            "--category",
            "donor",
            "--json",
        ])
        .json();
    assert_eq!(report["encoding"], "windows-1252");
    assert_eq!(report["delimiter"], "\t");
    assert_eq!(
        env.ok(&["person", "show", "W1", "--json"]).json()["category"],
        "donor"
    );
}

#[test]
fn a_bad_row_names_line_and_column_and_writes_nothing() {
    let env = Env::new();
    let bad = CRM.replace("23/03/1960", "31/02/1960");
    let file = env.write("bad.csv", bad);
    let error = env.fails(&["people", "import", Env::path_str(&file)], 1);
    assert!(error.contains("bad.csv, line 5, column 7 (\"DOB\")"), "{error}");
    assert!(error.contains("a day that exists"), "{error}");
    let missing = env.fails(&["person", "show", "M1"], 1);
    assert!(
        missing.contains("no person with the reference"),
        "nothing of the file may be written: {missing}"
    );
}

#[test]
fn a_duplicate_reference_names_both_lines() {
    let env = Env::new();
    let duplicate =
        format!("{CRM}M2;Zed;Jones;zed@example.org;;LS1 4AB;1975-05-05;member;Active;2015-06-01;;\n");
    let file = env.write("dup.csv", duplicate);
    let error = env.fails(&["people", "import", Env::path_str(&file)], 1);
    assert!(
        error.contains("line 7") && error.contains("\"M2\"") && error.contains("first at line 3"),
        "{error}"
    );
    env.fails(&["person", "show", "M1"], 1);
}

/// A file of `rows` people (line N + 1 is person N), with `change` applied to each row.
fn many(rows: u32, change: impl Fn(u32, String) -> String) -> String {
    let mut file = String::from("Member Number,Forename,Surname,Email,DOB,Category\n");
    for number in 1..=rows {
        let row = format!(
            "P{number},Alex,Smith,alex.{number}@example.org,1980-02-{:02},Member\n",
            number % 28 + 1
        );
        file.push_str(&change(number, row));
    }
    file
}

#[test]
fn a_large_file_is_written_whole_and_its_first_fault_in_file_order_is_the_one_named() {
    // Rows are made on several threads, batch by batch; a fault late in the file must not be
    // reported before an earlier one, and a duplicate is found across batches.
    let env = Env::new();
    let good = env.write("good.csv", many(5000, |_, row| row));
    let report = env
        .ok(&["people", "import", Env::path_str(&good), "--json"])
        .json();
    assert_eq!(report["inserted"].as_u64(), Some(5000));
    let last = env.ok(&["person", "show", "P5000", "--json"]).json();
    assert_eq!(last["ref"], "P5000");

    let fresh = Env::new();
    let faults = fresh.write(
        "faults.csv",
        many(5000, |number, row| match number {
            2_499 => row.replace("1980-02-", "1980-13-"),
            4_000 => row.replace("P4000,", "P7,"),
            4_500 => row.replace("1980-02-", "1980-14-"),
            _ => row,
        }),
    );
    let error = fresh.fails(&["people", "import", Env::path_str(&faults)], 1);
    assert!(error.contains("faults.csv, line 2500"), "{error}");
    fresh.fails(&["person", "show", "P1"], 1);

    let duplicate = fresh.write(
        "duplicate.csv",
        many(5000, |number, row| {
            if number == 4_000 {
                row.replace("P4000,", "P7,")
            } else {
                row
            }
        }),
    );
    let error = fresh.fails(&["people", "import", Env::path_str(&duplicate)], 1);
    assert!(
        error.contains("line 4001") && error.contains("\"P7\"") && error.contains("first at line 8"),
        "{error}"
    );
    fresh.fails(&["person", "show", "P1"], 1);

    // A duplicate waiting to be written in a statement's worth of rows still comes before a
    // fault a few rows after it.
    let both = fresh.write(
        "both.csv",
        many(5000, |number, row| match number {
            4_000 => row.replace("P4000,", "P7,"),
            4_010 => row.replace("1980-02-", "1980-13-"),
            _ => row,
        }),
    );
    let error = fresh.fails(&["people", "import", Env::path_str(&both)], 1);
    assert!(error.contains("line 4001") && error.contains("\"P7\""), "{error}");
}

/// The references a leak of these email addresses finds.
fn found_by_email(env: &Env, emails: &[&str]) -> serde_json::Value {
    let leak = env.write("leak.csv", format!("email\n{}\n", emails.join("\n")));
    env.ok(&["match", Env::path_str(&leak), "--people", "--json"])
        .json()["refs"]
        .clone()
}

#[test]
fn a_reimport_skips_only_rows_unchanged_against_what_custody_holds() {
    let env = Env::new();
    // P3's address is not one: its row has something to report, every time it is imported.
    let original = |number: u32, row: String| {
        if number == 3 {
            row.replace("alex.3@example.org", "alex.3@gmail")
        } else {
            row
        }
    };
    let first = env.write("crm.csv", many(50, original));
    env.ok(&["people", "import", Env::path_str(&first)]);
    let counts = |report: &serde_json::Value| {
        (
            report["inserted"].as_u64(),
            report["updated"].as_u64(),
            report["unchanged"].as_u64(),
        )
    };
    let again = env
        .ok(&["people", "import", Env::path_str(&first), "--json"])
        .json();
    assert_eq!(counts(&again), (Some(0), Some(0), Some(50)), "{again}");
    assert_eq!(again["unusable"][0]["count"], 1, "reported again: {again}");
    assert_eq!(again["unusable"][0]["lines"], serde_json::json!([4]), "{again}");

    // One row changed among unchanged ones is read and written.
    let changed = env.write(
        "changed.csv",
        many(50, |number, row| {
            original(number, row).replace("alex.10@example.org", "alex.ten@example.org")
        }),
    );
    // Imported, P10's row is written and the rest found unchanged; P10 is found by the new address.
    let import_changed = || {
        let report = env
            .ok(&["people", "import", Env::path_str(&changed), "--json"])
            .json();
        assert_eq!(counts(&report), (Some(0), Some(1), Some(49)), "{report}");
        assert_eq!(
            found_by_email(&env, &["alex.ten@example.org"]),
            serde_json::json!(["P10"])
        );
    };
    import_changed();

    // Another file moves P10's address; the last file, imported again, is read again for P10:
    // unchanged is judged against what custody holds, not against the file last imported.
    let moved = env.write("moved.csv", "Member Number,Email\nP10,alex.moved@example.org\n");
    env.ok(&["people", "import", Env::path_str(&moved), "--category", "member"]);
    assert_eq!(
        found_by_email(&env, &["alex.ten@example.org"]),
        serde_json::json!([])
    );
    import_changed();

    // A row found unchanged, given twice, is still a duplicate.
    let twice = env.write(
        "twice.csv",
        format!(
            "{}P20,Alex,Smith,alex.20@example.org,1980-02-21,Member\n",
            many(50, |number, row| {
                original(number, row).replace("alex.10@example.org", "alex.ten@example.org")
            })
        ),
    );
    let error = env.fails(&["people", "import", Env::path_str(&twice)], 1);
    assert!(
        error.contains("line 52") && error.contains("\"P20\"") && error.contains("first at line 21"),
        "{error}"
    );
}

#[test]
fn binary_and_unmapped_files_are_refused() {
    let env = Env::new();
    let binary = env.write("photo.jpg", [0xFFu8, 0xD8, 0x00, 0x10, 0x4A, 0x46]);
    let error = env.fails(&["people", "import", Env::path_str(&binary)], 1);
    assert!(error.contains("not a text file"), "{error}");
    let no_ref = env.write("noref.csv", "name,postcode\nA B,SW1A 1AA\n");
    let error = env.fails(&["people", "import", Env::path_str(&no_ref)], 1);
    assert!(
        error.contains("no column holds the person's reference"),
        "{error}"
    );
    let mapped = env.ok(&[
        "people",
        "import",
        Env::path_str(&no_ref),
        "--map",
        "name=ref",
        "--category",
        "other",
        "--json",
    ]);
    assert_eq!(mapped.json()["inserted"], 1);
}

#[test]
fn the_database_holds_no_plain_contact_details() {
    let env = Env::new();
    let crm = env.write("crm.csv", CRM);
    env.ok(&["people", "import", Env::path_str(&crm)]);
    if !env.on_sqlite() {
        return; // what follows reads the SQLite file itself
    }
    let mut bytes = std::fs::read(env.dir().join("custody.db")).unwrap();
    if let Ok(wal) = std::fs::read(env.dir().join("custody.db-wal")) {
        bytes.extend(wal);
    }
    let text = String::from_utf8_lossy(&bytes).to_lowercase();
    for secret in [
        "alex.smith@example.org",
        "zoe.jones",
        "+442079460001",
        "sw1a",
        "1980-02-01",
        "smith",
    ] {
        assert!(
            !text.contains(secret),
            "the database contains {secret:?} in plain"
        );
    }
}

#[test]
fn an_import_killed_midway_leaves_nothing_and_a_rerun_finishes() {
    let env = Env::new();
    let mut crm = String::from("id,first name,last name,email,category\n");
    for index in 0..60_000 {
        crm.push_str(&format!(
            "K{index:06},Alex,Smith,alex.{index}@example.org,member\n"
        ));
    }
    let file = env.write("big.csv", crm);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_custody"))
        .arg("--dir")
        .arg(env.dir())
        .args(["people", "import", Env::path_str(&file)])
        .env_remove("CUSTODY_KEY")
        .env("CUSTODY_DATABASE_PASSWORD", custody_testdb::PASSWORD)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait (polling, with a deadline) until the import is writing, then kill it outright.
    let journal = env.dir().join("custody.db-journal");
    let wal = env.dir().join("custody.db-wal");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let size = |path: &std::path::Path| std::fs::metadata(path).map(|meta| meta.len()).unwrap_or(0);
    let wal_at_start = size(&wal);
    while std::time::Instant::now() < deadline
        && child.try_wait().unwrap().is_none()
        && size(&journal) == 0
        && size(&wal) <= wal_at_start
    {
        std::thread::yield_now();
    }
    let killed = child.try_wait().unwrap().is_none();
    child.kill().unwrap();
    child.wait().unwrap();
    if killed {
        let missing = env.fails(&["person", "show", "K000000"], 1);
        assert!(
            missing.contains("no person"),
            "a killed import must leave nothing: {missing}"
        );
    }
    env.ok(&["audit", "verify"]);
    let rerun = env
        .ok(&["people", "import", Env::path_str(&file), "--json"])
        .json();
    let total = rerun["inserted"].as_u64().unwrap()
        + rerun["updated"].as_u64().unwrap()
        + rerun["unchanged"].as_u64().unwrap();
    assert_eq!(total, 60_000);
    if killed {
        assert_eq!(rerun["inserted"], 60_000, "the killed import wrote nothing");
    }
    assert_eq!(
        env.ok(&["person", "show", "K059999", "--json"]).json()["category"],
        "member"
    );
}

#[test]
fn a_partial_reimport_keeps_what_its_file_does_not_have() {
    let env = Env::new();
    let crm = env.write("crm.csv", CRM);
    env.ok(&["people", "import", Env::path_str(&crm)]);
    // A file of status changes only: M2 lapsed.
    let lapsed = env.write("lapsed.csv", "Member Number,Status,Left\nM2,Lapsed,01/09/2021\n");
    let report = env
        .ok(&[
            "people",
            "import",
            Env::path_str(&lapsed),
            "--category",
            "registered supporter",
            "--date-order",
            "dmy",
            "--json",
        ])
        .json();
    assert_eq!(report["updated"], 1);
    let person = env.ok(&["person", "show", "M2", "--json"]).json();
    assert_eq!(person["status"], "former");
    assert_eq!(person["left_on"], "2021-09-01");
    assert_eq!(
        person["joined_on"], "2015-06-01",
        "the join date was not in the file and is kept"
    );
    assert_eq!(
        person["contact_held"], true,
        "contact details were not in the file and are kept"
    );
    // The email hash is kept too: a file without references still links M2 by email.
    env.ok(&["supplier", "add", "Mailing House", "--role", "processor"]);
    let by_email = env.write("by-email.csv", "Email\nzoe.jones@example.org\n");
    let recorded = env
        .ok(&[
            "share",
            "record",
            "--supplier",
            "Mailing House",
            "--purpose",
            "x",
            Env::path_str(&by_email),
            "--json",
        ])
        .json();
    assert_eq!(recorded["people"], 1, "{recorded}");
    // A file with only emails keeps the names it does not carry, and takes the new email.
    let moved = env.write("moved.csv", "Member Number,Email\nM2,zoe.new@example.org\n");
    env.ok(&[
        "people",
        "import",
        Env::path_str(&moved),
        "--category",
        "registered supporter",
    ]);
    let new_email = env.write("new-email.csv", "Email\nzoe.new@example.org\n");
    let relinked = env
        .ok(&[
            "share",
            "record",
            "--supplier",
            "Mailing House",
            "--purpose",
            "y",
            Env::path_str(&new_email),
            "--json",
        ])
        .json();
    assert_eq!(relinked["people"], 1);
    let old_email = env
        .ok(&[
            "share",
            "record",
            "--supplier",
            "Mailing House",
            "--purpose",
            "z",
            Env::path_str(&by_email),
            "--json",
        ])
        .json();
    assert_eq!(old_email["people"], 0, "the old email no longer links");
}

#[test]
fn a_mailbox_in_the_email_column_is_kept_as_its_address() {
    let env = Env::new();
    let crm = env.write(
        "crm.csv",
        "Member Number,First Name,Last Name,Email,Category\nM1,Alex,Smith,\"Alex Smith <Alex.Smith@Example.org>\",member\n",
    );
    env.ok(&["people", "import", Env::path_str(&crm)]);
    let leak = env.write("leak.csv", "email\nalex.smith@example.org\n");
    let result = env
        .ok(&["match", Env::path_str(&leak), "--people", "--json"])
        .json();
    assert_eq!(result["refs"], serde_json::json!(["M1"]), "{result}");
}

#[test]
fn dates_are_read_in_the_order_the_file_proves_and_never_guessed() {
    let env = Env::new();
    // Every day is 12 or less: month first and day first give different dates. custody does not
    // guess: the import stops, naming the first such value, and writes nothing.
    let us = env.write(
        "us.csv",
        "Contact ID,Email,Join Date\nU1,u1@example.org,03/04/2019\nU2,u2@example.org,11/12/2020\n",
    );
    let stderr = env.fails(
        &["people", "import", Env::path_str(&us), "--category", "member"],
        1,
    );
    assert!(stderr.contains("us.csv, line 2, column 3"), "{stderr}");
    assert!(stderr.contains("--date-order mdy"), "{stderr}");
    assert_ne!(env.run(&["person", "show", "U1"]).code, 0, "nothing was written");
    // The preview says the same, and exits 1.
    let check = env.run(&[
        "people",
        "import",
        Env::path_str(&us),
        "--category",
        "member",
        "--check",
    ]);
    assert_eq!(check.code, 1, "{}", check.stdout);
    assert!(
        check.stdout.contains("could be day/month or month/day"),
        "{}",
        check.stdout
    );
    // Told the order, the same file reads month first, without a warning.
    let run = env.ok(&[
        "people",
        "import",
        Env::path_str(&us),
        "--category",
        "member",
        "--date-order",
        "mdy",
    ]);
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    assert_eq!(
        env.ok(&["person", "show", "U1", "--json"]).json()["joined_on"],
        "2019-03-04"
    );

    // One value proves the order for the whole file, wherever it is.
    let uk = env.write(
        "uk.csv",
        "Contact ID,Email,Join Date\nK1,k1@example.org,03/04/2019\nK2,k2@example.org,25/12/2020\n",
    );
    let report = env
        .ok(&[
            "people",
            "import",
            Env::path_str(&uk),
            "--category",
            "member",
            "--json",
        ])
        .json();
    assert_eq!(report["date_order"], "dmy");
    assert_eq!(
        env.ok(&["person", "show", "K1", "--json"]).json()["joined_on"],
        "2019-04-03"
    );

    // A value that contradicts the proved order stops the import at its line.
    let mixed = env.write(
        "mixed.csv",
        "Contact ID,Email,Join Date\r\nX1,x1@example.org,25/12/2020\r\nX2,x2@example.org,12/25/2020\r\n",
    );
    let error = env.fails(
        &["people", "import", Env::path_str(&mixed), "--category", "member"],
        1,
    );
    assert!(
        error.contains("mixed.csv, line 3, column 3"),
        "CRLF lines count right: {error}"
    );
    assert!(error.contains("can only be mdy"), "{error}");
    assert!(
        env.fails(&["person", "show", "X1"], 1).contains("X1"),
        "nothing was written"
    );

    // Every phone column is read; one can still be left out with --map 'Header=none'.
    let phones = env.write(
        "phones.csv",
        "Contact ID,Mobile,Telephone\nP1,07912 345678,020 7946 0000\n",
    );
    let report = env
        .ok(&[
            "people",
            "import",
            Env::path_str(&phones),
            "--category",
            "member",
            "--json",
        ])
        .json();
    assert_eq!(report["ignored_columns"], serde_json::json!([]));
    assert_eq!(report["without_identifier"], 0);
    env.ok(&[
        "people",
        "import",
        Env::path_str(&phones),
        "--category",
        "member",
        "--map",
        "Telephone=none",
    ]);
}

#[test]
fn countries_are_read_by_name_or_code() {
    let env = Env::new();
    let file = env.write(
        "countries.csv",
        "uuid,email,country\nA1,a1@example.org,United Kingdom\nA2,a2@example.org,FRA\nA3,a3@example.org,USA\n",
    );
    env.ok(&["people", "import", Env::path_str(&file), "--category", "member"]);
    for (reference, code) in [("A1", "GB"), ("A2", "FR"), ("A3", "US")] {
        let person = env.ok(&["person", "show", reference, "--json"]).json();
        assert_eq!(person["country"], code, "{reference}");
    }
    // A country custody cannot read is a hint lost, reported with its line, not a refusal; a
    // home address's country is the person's, though a business address comes first.
    let bad = env.write(
        "narnia.csv",
        "uuid,email,Business Country,Home Country\nB1,b1@example.org,Narnia,France\n",
    );
    let report = env
        .ok(&[
            "people",
            "import",
            Env::path_str(&bad),
            "--category",
            "member",
            "--json",
        ])
        .json();
    assert_eq!(report["unusable"][0]["header"], "Business Country", "{report}");
    assert_eq!(report["unusable"][0]["lines"], serde_json::json!([2]), "{report}");
    assert_eq!(
        env.ok(&["person", "show", "B1", "--json"]).json()["country"],
        "FR"
    );
}

#[test]
fn check_says_what_an_import_would_do_with_every_column_and_changes_nothing() {
    let env = Env::new();
    // Raiser's Edge keeps an email address in a "phone" column.
    let file = env.write(
        "re.csv",
        "CnBio_ID,First Name,Last Name,Phone 1,Phone 2,DOB\r\n\
         101,Ann,Lee,ann@example.org,07911 123456,25/12/1980\r\n\
         102,Bob,Ray,,,\r\n",
    );
    let run = env.ok(&[
        "people",
        "import",
        Env::path_str(&file),
        "--category",
        "member",
        "--check",
        "--json",
    ]);
    let check = run.json();
    assert_eq!(check["rows"], 2);
    let column = |n: usize| &check["columns"][n];
    assert_eq!(column(0)["field"], "ref");
    assert_eq!(column(5)["field"], "date_of_birth");
    assert_eq!(column(5)["valid"], 1);
    // Both phone columns are read; an address in one is read as an email.
    assert_eq!(column(3)["field"], "phone");
    assert_eq!(column(3)["valid"], 1);
    assert_eq!(column(4)["field"], "phone");
    assert_eq!(column(4)["valid"], 1);
    assert_eq!(check["without_identifier"], 1);
    assert_eq!(check["without_identifier_lines"], serde_json::json!([3]));
    assert!(
        env.fails(&["person", "show", "101"], 1).contains("101"),
        "nothing was written"
    );

    // A file the import would refuse: the check says where, and exits 1. (An address that is
    // not one is reported, not refused: `not-an-email` is counted invalid.)
    let bad = env.write(
        "bad.csv",
        "uuid,email,DOB\nZ1,not-an-email,25/12/1980\nZ2,z2@example.org,31/02/1980\n",
    );
    let run = env.run(&[
        "people",
        "import",
        Env::path_str(&bad),
        "--category",
        "member",
        "--check",
        "--json",
    ]);
    assert_eq!(run.code, 1);
    let check = run.json();
    assert_eq!(check["columns"][1]["invalid"], 1);
    assert_eq!(check["rows_refused"], 1);
    assert!(
        check["first_refusal"]
            .as_str()
            .unwrap()
            .contains("bad.csv, line 3, column 3"),
        "{check}"
    );
}

#[test]
fn columns_whose_values_are_identifiers_are_read_or_named_never_dropped() {
    let env = Env::new();
    // `Alt` holds email addresses under a header custody does not know: read as emails.
    // `Other No` holds phone numbers: custody cannot tell, so the import names it loudly.
    // `Email Type` is a label: left out. `Phone` holds words: read, its values reported unusable.
    let file = env.write(
        "crm.csv",
        "id,First Name,Last Name,Alt,Other No,Email Type,Phone\n\
         A1,Ann,Lee,ann@example.org,07912 345678,home,no\n\
         A2,Bob,Ray,bob@example.org,07912 345679,work,no\n\
         A3,Cat,Day,,,,\n",
    );
    let run = env.ok(&[
        "people",
        "import",
        Env::path_str(&file),
        "--category",
        "member",
        "--json",
    ]);
    let report = run.json();
    assert_eq!(report["columns_read_by_value"], serde_json::json!(["Alt"]));
    assert_eq!(
        report["ignored_columns"],
        serde_json::json!(["Other No", "Email Type"])
    );
    let warning = report["warnings"][0].as_str().unwrap();
    assert!(
        warning.contains("column 5 (\"Other No\")") && warning.contains("--map 'Other No=phone'"),
        "{warning}"
    );
    assert!(
        run.stderr.contains("Other No"),
        "warned on stderr too: {}",
        run.stderr
    );
    let phone = &report["unusable"][0];
    assert_eq!(
        (phone["header"].as_str(), phone["count"].as_u64()),
        (Some("Phone"), Some(2)),
        "{report}"
    );
    // A3 has a name and nothing else: counted, and named by reference.
    assert_eq!(report["without_identifier"], 1);
    assert_eq!(report["without_identifier_refs"], serde_json::json!(["A3"]));
    // The email read from `Alt` is a real identifier: a leaked file holding it finds A1.
    let leak = env.write("leak.csv", "email\nann@example.org\n");
    let matched = env
        .ok(&["match", Env::path_str(&leak), "--people", "--json"])
        .json();
    assert_eq!(matched["refs"], serde_json::json!(["A1"]), "{matched}");
}

#[test]
fn other_peoples_details_are_never_read_as_the_persons_own() {
    let env = Env::new();
    // A parent's email under a header custody does not place: named, not adopted. An emergency
    // contact's phone and a spouse's address: not read. An account number beside a sort code is
    // not taken for the reference.
    let file = env.write(
        "crm.csv",
        "Account Number,Member Number,Sort Code,Email,Parent Email,Emergency Contact Phone,Spouse Address\n\
         12345678,M1,00-00-00,ann@example.org,mum@example.org,07912 345678,1 Other Road\n\
         23456789,M2,00-00-00,bob@example.org,dad@example.org,07912 345679,2 Other Road\n",
    );
    let report = env
        .ok(&[
            "people",
            "import",
            Env::path_str(&file),
            "--category",
            "member",
            "--json",
        ])
        .json();
    let uses: Vec<(String, String)> = report["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|column| {
            (
                column["header"].as_str().unwrap().to_owned(),
                column["used_as"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let used = |header: &str| uses.iter().find(|(name, _)| name == header).unwrap().1.clone();
    assert_eq!(used("Member Number"), "ref");
    assert_eq!(used("Account Number"), "ignored");
    assert_eq!(used("Email"), "email");
    for other in ["Parent Email", "Emergency Contact Phone", "Spouse Address"] {
        assert_eq!(used(other), "ignored", "{other}");
    }
    assert!(
        report["warnings"].to_string().contains("names someone else"),
        "{report}"
    );
    let leak = env.write("leak.csv", "email\nmum@example.org\n");
    let matched = env.ok(&["match", Env::path_str(&leak), "--json"]).json();
    assert_eq!(
        matched["matched"], 0,
        "a parent's address finds no member: {matched}"
    );
}
