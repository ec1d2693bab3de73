//! Linkage as a person would do it: leaked files that name their columns in other languages or
//! nest them, write dates as systems do, spell names otherwise, carry typos and swapped fields;
//! certain links apart from probable ones, and only certain ones (or confirmed) as evidence.

use crate::desk_support::{DeskServer, PASSWORD, add_user};
use crate::support::{CRM, Env};

fn refs_of(report: &serde_json::Value, link: &str) -> Vec<String> {
    let mut refs: Vec<String> = report["people"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|person| person["link"] == link)
        .filter_map(|person| person["reference"].as_str().map(str::to_owned))
        .collect();
    refs.sort();
    refs
}

#[test]
fn exports_as_systems_write_them() {
    let env = Env::new();
    let crm = env.write("crm.csv", CRM);
    env.ok(&["people", "import", Env::path_str(&crm)]);
    // MongoDB's export: nested names, dates as extended JSON (canonical before 1970).
    let mongo = env.write(
        "users.json",
        concat!(
            "{\"_id\":{\"$oid\":\"5f1d7a3e9b1e8a3c4d5e6f70\"},\"name\":{\"given\":\"Ruth\",\"family\":\"Evans\"},",
            "\"dob\":{\"$date\":{\"$numberLong\":\"-308534400000\"}}}\n",
            "{\"_id\":{\"$oid\":\"5f1d7a3e9b1e8a3c4d5e6f71\"},\"name\":{\"given\":\"Omar\",\"family\":\"Khan\"},",
            "\"dob\":{\"$date\":\"1985-04-04T00:00:00Z\"}}\n",
        ),
    );
    let report = env
        .ok(&["match", Env::path_str(&mongo), "--json", "--people"])
        .json();
    assert_eq!(refs_of(&report, "certain"), ["M4", "M5"], "{report}");
    assert_eq!(report["by_identifier"]["name_date_of_birth"], 2);
    // A German spreadsheet, dates year first with slashes, a name written without its umlaut.
    let german = env.write(
        "mitglieder.csv",
        "Vorname;Nachname;Geburtsdatum\nSam;Patel;1990/12/12\nAlex;Smith;1980/02/01\nZoe;Jones;1975/05/05\n",
    );
    let report = env
        .ok(&["match", Env::path_str(&german), "--json", "--people"])
        .json();
    assert_eq!(refs_of(&report, "certain"), ["M1", "M2", "M3"], "{report}");
    let roles: Vec<&str> = report["columns"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|column| column["role"].as_str())
        .collect();
    assert_eq!(roles, ["first_name", "last_name", "date_of_birth"]);
}

#[test]
fn transliterated_names_match_both_ways() {
    let env = Env::new();
    let crm = env.write(
        "crm.csv",
        "Member Number,First Name,Last Name,Post Code,Category\nK1,Jürgen,Müller,LS1 4AB,member\nK2,Soeren,Soerensen,M1 1AA,member\n",
    );
    env.ok(&["people", "import", Env::path_str(&crm)]);
    let leak = env.write(
        "leak.csv",
        "first_name,last_name,zip\nJuergen,Mueller,LS1 4AB\nSøren,Sørensen,M1 1AA\n",
    );
    let report = env
        .ok(&["match", Env::path_str(&leak), "--json", "--people"])
        .json();
    assert_eq!(refs_of(&report, "certain"), ["K1", "K2"], "{report}");
    assert_eq!(report["by_identifier"]["name_postcode"], 2);
}

/// A ledger of people with names, postcodes and dates of birth, made from small lists.
fn people(count: usize) -> String {
    let first = [
        "Alex", "Sam", "Ruth", "Omar", "Priya", "Gareth", "Siobhan", "Tomasz", "Ingrid", "Kwame",
    ];
    let last = [
        "Smith", "Patel", "Evans", "Khan", "Nowak", "Jones", "Murphy", "Okafor", "Larsen", "Brown",
    ];
    let mut out = String::from("Member Number,First Name,Last Name,Post Code,Date of Birth,Category\n");
    for n in 0..count {
        out.push_str(&format!(
            "R{n:04},{},{},LS{} {}AB,{}-{:02}-{:02},member\n",
            first[n % first.len()],
            last[(n / first.len()) % last.len()],
            1 + n % 27,
            n % 10,
            1940 + n % 60,
            1 + n % 12,
            1 + (n * 7) % 28
        ));
    }
    out
}

#[test]
fn typos_link_for_certain_and_namesakes_never() {
    let env = Env::new();
    let crm = env.write("crm.csv", people(400));
    env.ok(&["people", "import", Env::path_str(&crm)]);
    // R0001: Sam Smith, LS2 1AB, 1941-02-08. R0012: Ruth Patel, LS13 2AB, 1952-01-01.
    // R0023: Omar Evans, LS24 3AB, 1963-12-22. R0034: Priya Khan, LS8 4AB, 1974-11-15.
    let leak = env.write(
        "leak.csv",
        "fname,lname,zip,birthdate\n\
         Sam,Smiht,LS2 1AB,08/02/1941\n\
         Patel,Ruth,LS13 2AB,01/01/1952\n\
         Omar,Evens,LS24 3AB,22/12/1963\n\
         Priya,Kahn,LS8 4AB,15/11/1974\n\
         Sam,Smith,EH9 9ZZ,01/07/1999\n\
         Alex,Smith,CF1 1XY,30/06/2001\n",
    );
    let (report, file) = match_with_links(&env, &leak, "links.csv", &[]);
    assert_eq!(
        refs_of(&report, "certain"),
        ["R0001", "R0012", "R0023", "R0034"],
        "{report}"
    );
    // The namesakes (lines 6 and 7) share only a name with people of ours: no link at all.
    assert!(refs_of(&report, "probable").is_empty(), "{report}");
    assert_eq!(report["matched"], 4);
    assert_eq!(report["by_identifier"]["fuzzy"], 4);
    let lines: Vec<&str> = file.lines().collect();
    assert_eq!(
        lines.first().copied(),
        Some("line,reference,link,how,probability,agreed")
    );
    assert_eq!(lines.len(), 5, "{file}");
    assert!(
        lines
            .iter()
            .any(|line| line.starts_with("3,R0012,certain,fuzzy,") && line.contains("names_swapped")),
        "{file}"
    );
    assert!(
        !lines
            .iter()
            .any(|line| line.starts_with("6,") || line.starts_with("7,"))
    );
}

/// `match LEAK --json --people --rows NAME` with `extra` options: the report and the linkage
/// file (empty when none was written).
fn match_with_links(
    env: &Env,
    leak: &std::path::Path,
    name: &str,
    extra: &[&str],
) -> (serde_json::Value, String) {
    let links = env.root.path().join(name);
    let mut args = vec!["match", Env::path_str(leak), "--json", "--people"];
    args.extend_from_slice(extra);
    args.extend(["--rows", Env::path_str(&links)]);
    let report = env.ok(&args).json();
    (report, std::fs::read_to_string(&links).unwrap_or_default())
}

/// A ledger of 400, an incident, and a leak of one row that is R0045 only probably (names
/// right, date of birth one figure off, no postcode), matched onto the incident: the report.
fn probable_on_an_incident(env: &Env) -> serde_json::Value {
    let crm = env.write("crm.csv", people(400));
    env.ok(&["people", "import", Env::path_str(&crm)]);
    env.ok(&["supplier", "add", "Mailing House", "--role", "processor"]);
    env.ok(&[
        "incident",
        "open",
        "--supplier",
        "Mailing House",
        "--aware-at",
        "2024-03-01 09:00",
        "--nature",
        "confidentiality",
        "--summary",
        "member list posted on a forum",
    ]);
    let crm_text = people(400);
    let row = crm_text
        .lines()
        .find(|line| line.starts_with("R0045,"))
        .unwrap_or("");
    let fields: Vec<&str> = row.split(',').collect();
    let (first, last, born) = (fields[1], fields[2], fields[4]);
    let (year, rest) = born.split_at(4);
    let day_month: Vec<&str> = rest.trim_start_matches('-').split('-').collect();
    let typo_year = format!("{}{}", &year[..3], if year.ends_with('9') { '8' } else { '9' });
    let leak = env.write(
        "leak.csv",
        format!(
            "fname,lname,zip,birthdate\n{first},{last},,{}/{}/{typo_year}\n",
            day_month[1], day_month[0]
        ),
    );
    env.ok(&[
        "match",
        Env::path_str(&leak),
        "--json",
        "--people",
        "--incident",
        "1",
    ])
    .json()
}

#[test]
fn probable_links_wait_for_a_responder() {
    let env = Env::new();
    let report = probable_on_an_incident(&env);
    let incident = "1".to_owned();
    assert_eq!(report["matched"], 0, "{report}");
    assert_eq!(refs_of(&report, "probable"), ["R0045"], "{report}");
    let event = report["recorded"].as_i64().unwrap_or(0).to_string();
    let waiting = env
        .ok(&["incident", "evidence", &incident, "waiting", "--json"])
        .json();
    assert_eq!(waiting[0]["link"]["reference"], "R0045", "{waiting}");
    // Nobody is evidence yet; a responder confirms, with a reason.
    let impact = env.ok(&["impact", &incident, "--json"]).json();
    assert_eq!(impact["confirmed"]["people"], 0, "{impact}");
    let refused = env.fails(
        &[
            "incident", "evidence", &incident, "confirm", &event, "--ref", "R0001", "--reason", "checked",
        ],
        1,
    );
    assert!(refused.contains("not a probable link"), "{refused}");
    env.ok(&[
        "incident",
        "evidence",
        &incident,
        "confirm",
        &event,
        "--all",
        "--reason",
        "address on the forum post matches our record",
    ]);
    let impact = env.ok(&["impact", &incident, "--json"]).json();
    assert_eq!(impact["confirmed"]["people"], 1, "{impact}");
    let waiting = env
        .ok(&["incident", "evidence", &incident, "waiting", "--json"])
        .json();
    assert_eq!(waiting.as_array().map(Vec::len), Some(0));
}

#[test]
fn a_request_from_an_unknown_address_is_offered_the_people_it_probably_is() {
    let env = Env::new();
    let crm = env.write("crm.csv", people(400));
    env.ok(&["people", "import", Env::path_str(&crm)]);
    let open = |name: &str, extra: &[&str]| {
        let mut args = vec![
            "request",
            "open",
            "--email",
            "someone.new@example.net",
            "--kind",
            "access",
            "--received-at",
            "2024-03-01 09:00",
            "--name",
            name,
            "--json",
        ];
        args.extend_from_slice(extra);
        env.ok(&args).json()
    };
    // R0023: Omar Evans, LS24 3AB, 1963-12-22.
    let exact = open("Omar Evans", &["--postcode", "ls24 3ab"]);
    assert_eq!(
        exact["ref"],
        serde_json::Value::Null,
        "never linked on its own: {exact}"
    );
    assert_eq!(exact["suggested"][0]["reference"], "R0023", "{exact}");
    assert_eq!(exact["suggested"][0]["agreed"], "name+postcode");
    let fuzzy = open("Evens, Omar", &["--postcode", "LS24 3AB", "--born", "1963-12-22"]);
    assert_eq!(fuzzy["suggested"][0]["reference"], "R0023", "{fuzzy}");
    assert!(
        fuzzy["unmatched"]
            .as_str()
            .unwrap_or("")
            .contains("probably R0023"),
        "{fuzzy}"
    );
    let shown = env.ok(&["request", "show", "2", "--json"]).json();
    assert!(shown.to_string().contains("probably R0023"), "{shown}");
    // A name alone offers nobody; a postcode that is not one is refused, and nothing recorded.
    let alone = open("Omar Evans", &[]);
    assert!(alone.get("suggested").is_none(), "{alone}");
    let refused = env.fails(
        &[
            "request",
            "open",
            "--email",
            "x@example.net",
            "--kind",
            "access",
            "--received-at",
            "2024-03-01 09:00",
            "--name",
            "Omar Evans",
            "--postcode",
            "not a postcode",
        ],
        1,
    );
    assert!(refused.contains("postcode"), "{refused}");
    let listed = env.ok(&["request", "list", "--json"]).json();
    assert_eq!(listed.as_array().map(Vec::len), Some(3), "{listed}");
}

#[test]
fn the_desk_lists_probable_links_and_a_responder_confirms_them() {
    let env = Env::new();
    probable_on_an_incident(&env);
    add_user(&env, "lead", "responder");
    add_user(&env, "reader", "viewer");
    let server = DeskServer::start(&env);
    let reader = server.sign_in("reader", PASSWORD);
    let page = reader.get(&server, "/incidents/1");
    assert!(
        page.body.contains("Probably in the leak") && page.body.contains("R0045"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("/evidence/confirm"),
        "a viewer gets no confirm form"
    );
    let refused = reader.post(
        &server,
        "/incidents/1/evidence/confirm",
        &[("event", "2"), ("reference", "R0045"), ("reason", "checked")],
    );
    assert_eq!(refused.status, 403, "{}", refused.body);
    let lead = server.sign_in("lead", PASSWORD);
    let event = env.ok(&["incident", "evidence", "1", "waiting", "--json"]).json()[0]["event"]
        .as_i64()
        .unwrap_or(0)
        .to_string();
    let no_reason = lead.post(
        &server,
        "/incidents/1/evidence/confirm",
        &[("event", &event), ("reference", "R0045"), ("reason", "")],
    );
    assert_eq!(no_reason.status, 400, "{}", no_reason.body);
    let confirmed = lead.post(
        &server,
        "/incidents/1/evidence/confirm",
        &[
            ("event", &event),
            ("reference", "R0045"),
            ("reason", "the forum post gives our address"),
        ],
    );
    assert_eq!(confirmed.status, 303, "{}", confirmed.body);
    let impact = env.ok(&["impact", "1", "--json"]).json();
    assert_eq!(impact["confirmed"]["people"], 1, "{impact}");
    let page = lead.get(&server, "/incidents/1");
    assert!(
        !page.body.contains("Probably in the leak"),
        "nothing waits any more"
    );
}

#[test]
fn columns_whose_names_say_nothing_are_proved_against_the_ledger() {
    let env = Env::new();
    let crm = env.write("crm.csv", CRM);
    env.ok(&["people", "import", Env::path_str(&crm)]);
    let leak = env.write(
        "dump.csv",
        "f1;f2;f3;f4\nRuth;Evans;EH1 1YZ;x\nSam;Patel;M1 1AA;y\nAlex;Smith;SW1A 1AA;z\nZoe;Jones;LS1 4AB;w\n",
    );
    let report = env
        .ok(&["match", Env::path_str(&leak), "--json", "--people"])
        .json();
    assert_eq!(refs_of(&report, "certain"), ["M1", "M2", "M3", "M4"], "{report}");
    let decided: Vec<(String, String)> = report["columns"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|column| {
            (
                column["role"].as_str().unwrap_or("").to_owned(),
                column["decided_by"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        decided[0],
        ("first_name".to_owned(), "ledger".to_owned()),
        "{report}"
    );
    assert_eq!(decided[1], ("last_name".to_owned(), "ledger".to_owned()));
    // The same columns with names that are nobody's stay unread.
    let strangers = env.write(
        "strangers.csv",
        "f1;f2;f3\nAnna;Berg;EH1 1YZ\nBo;Lind;M1 1AA\nCai;Holm;SW1A 1AA\nDag;Moe;LS1 4AB\n",
    );
    let report = env.ok(&["match", Env::path_str(&strangers), "--json"]).json();
    assert_eq!(report["matched"], 0, "{report}");
    assert_eq!(report["columns"][0]["role"], "other", "{report}");
}

#[test]
fn a_backlog_and_the_desk_offer_people_by_name_with_postcode_or_birth_date() {
    let env = Env::new();
    let crm = env.write("crm.csv", people(400));
    env.ok(&["people", "import", Env::path_str(&crm)]);
    // R0023: Omar Evans, LS24 3AB, 1963-12-22; R0001: Sam Smith, LS2 1AB, 1941-02-08.
    let backlog = env.write(
        "inbox.csv",
        "received_at,sender,kind,name,postcode,dob\n\
         2024-03-01 09:00,new.one@example.net,access,Omar Evans,LS24 3AB,\n\
         2024-03-02 09:00,new.two@example.net,erasure,Sam Smith,,1941-02-08\n\
         2024-03-03 09:00,new.three@example.net,access,Nobody Known,M1 1AA,\n\
         2024-03-04 09:00,new.four@example.net,access,,,N/A\n",
    );
    env.ok(&["request", "import", Env::path_str(&backlog)]);
    // Without a name, a date that cannot be read is not held against the row.
    for (id, reference) in [
        ("1", Some("R0023")),
        ("2", Some("R0001")),
        ("3", None),
        ("4", None),
    ] {
        let shown = env.ok(&["request", "show", id, "--json"]).json().to_string();
        match reference {
            Some(reference) => assert!(shown.contains(&format!("probably {reference}")), "{shown}"),
            None => assert!(!shown.contains("probably"), "{shown}"),
        }
    }
    // A postcode that is not one names its cell, and nothing is recorded.
    let bad = env.write(
        "bad.csv",
        "received_at,sender,kind,name,postcode\n2024-03-04 09:00,x@example.net,access,Omar Evans,#12!\n",
    );
    let refused = env.fails(&["request", "import", Env::path_str(&bad)], 1);
    assert!(
        refused.contains("line 2") && refused.contains("postcode"),
        "{refused}"
    );
    add_user(&env, "lead", "responder");
    let server = DeskServer::start(&env);
    let lead = server.sign_in("lead", PASSWORD);
    let logged = lead.post(
        &server,
        "/requests",
        &[
            ("email", "new.four@example.net"),
            ("kind", "access"),
            ("received_at", "2024-03-05T09:00"),
            ("name", "Omar Evans"),
            ("postcode", "LS24 3AB"),
        ],
    );
    assert_eq!(logged.status, 303, "{}", logged.body);
    let page = lead.get(&server, logged.header("location").unwrap_or("/requests"));
    assert!(page.body.contains("probably R0023"), "{}", page.body);
}

#[test]
fn the_peoples_blocking_keys_are_kept_and_rebuilt_after_an_import() {
    let env = Env::new();
    let crm = env.write("crm.csv", people(400));
    env.ok(&["people", "import", Env::path_str(&crm)]);
    // R0001: Sam Smith, LS2 1AB, 1941-02-08; a typo in the family name.
    let leak = env.write(
        "leak.csv",
        "fname,lname,zip,birthdate\nSam,Smiht,LS2 1AB,08/02/1941\nZofia,Wrzeszcs,LS9 9ZZ,03/04/1985\n",
    );
    let run = || {
        env.ok(&["match", Env::path_str(&leak), "--json", "--people"])
            .json()
    };
    let first = run();
    assert_eq!(first["linkage"]["blocks_source"], "store", "{first}");
    assert_eq!(refs_of(&first, "certain"), ["R0001"], "{first}");
    let kept = env.dir().join("linkage-blocks.bin");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&kept).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "only its owner reads it: {mode:o}");
    }
    let second = run();
    assert_eq!(second["linkage"]["blocks_source"], "file", "{second}");
    assert_eq!(refs_of(&second, "certain"), ["R0001"]);
    assert_eq!(second["linkage"]["pairs"], first["linkage"]["pairs"]);

    // Someone imported since is linked (their name has a typo in the file): the kept keys
    // answer to the old ledger and are rebuilt.
    let more = env.write(
        "more.csv",
        "Member Number,First Name,Last Name,Post Code,Date of Birth,Category\n\
         R9000,Zofia,Wrzeszcz,LS9 9ZZ,1985-04-03,member\n",
    );
    env.ok(&["people", "import", Env::path_str(&more)]);
    let after = run();
    assert_eq!(after["linkage"]["blocks_source"], "store", "{after}");
    assert_eq!(refs_of(&after, "certain"), ["R0001", "R9000"], "{after}");
    assert_eq!(after["matched"], 2, "{after}");

    // A damaged file is not trusted: it is rebuilt, and the links are the same.
    let mut bytes = std::fs::read(&kept).unwrap();
    bytes.truncate(bytes.len() - 3);
    std::fs::write(&kept, &bytes).unwrap();
    let damaged = run();
    assert_eq!(damaged["linkage"]["blocks_source"], "store", "{damaged}");
    assert_eq!(damaged["matched"], 2);
}

#[test]
fn nobody_is_opened_when_no_row_shares_a_usable_block_with_anyone() {
    let env = Env::new();
    let crm = env.write("crm.csv", people(400));
    env.ok(&["people", "import", Env::path_str(&crm)]);
    let run = |text: &str| {
        let leak = env.write("leak.csv", text);
        env.ok(&["match", Env::path_str(&leak), "--json", "--people"])
            .json()
    };
    // One of ours, mistyped: the people's keys are made (everyone opened) and kept, and the
    // people drawn to estimate the model are opened as well.
    let typo = run("fname,lname,zip,birthdate\nSam,Smiht,LS2 1AB,08/02/1941\n");
    assert_eq!(refs_of(&typo, "certain"), ["R0001"], "{typo}");
    let typo = run("fname,lname,zip,birthdate\nSam,Smiht,LS2 1AB,08/02/1941\n");
    assert_eq!(typo["linkage"]["blocks_source"], "file", "{typo}");
    assert!(typo["linkage"]["people_read"].as_u64().unwrap() > 0, "{typo}");
    // A stranger whose name, date and postcode nobody shares: nothing to compare, so nobody's
    // sealed details are opened.
    let stranger = run("fname,lname,zip,birthdate\nZebedee,Quaintance,ZE3 9QQ,30/11/1903\n");
    assert_eq!(stranger["linkage"]["blocks_source"], "file", "{stranger}");
    assert_eq!(stranger["linkage"]["rows_tried"], 1, "{stranger}");
    assert_eq!(stranger["linkage"]["people_read"], 0, "{stranger}");
    assert_eq!(stranger["linkage"]["pairs"], 0, "{stranger}");
    assert_eq!(stranger["matched"], 0, "{stranger}");
    // Seventy rows named as four of our people are, each with an address nobody holds: their
    // keys are shared, but a block of more than 64 rows is too crowded to compare.
    let mut crowd = String::from("fname,lname,email\n");
    for row in 0..70 {
        crowd.push_str(&format!("Sam,Smith,crowd{row}@example.net\n"));
    }
    let crowded = run(&crowd);
    assert_eq!(crowded["linkage"]["rows_tried"], 70, "{crowded}");
    assert_eq!(crowded["linkage"]["people_read"], 0, "{crowded}");
    assert_eq!(crowded["linkage"]["model"]["u_pairs"], 0, "{crowded}");
    let audit = env.ok(&["audit", "export"]).stdout;
    assert_eq!(audit.matches("linkage.read").count(), 2, "{audit}");
    // Without the kept keys everyone is opened to make them, and that is on the record.
    std::fs::remove_file(env.dir().join("linkage-blocks.bin")).unwrap();
    let remade = run("fname,lname,zip,birthdate\nZebedee,Quaintance,ZE3 9QQ,30/11/1903\n");
    assert_eq!(remade["linkage"]["blocks_source"], "store", "{remade}");
    assert_eq!(remade["linkage"]["people_read"], 400, "{remade}");
    let audit = env.ok(&["audit", "export"]).stdout;
    assert_eq!(audit.matches("linkage.read").count(), 3, "{audit}");
}

#[test]
fn an_organisation_may_choose_not_to_keep_the_blocking_keys() {
    let env = Env::new();
    let crm = env.write("crm.csv", people(400));
    env.ok(&["people", "import", Env::path_str(&crm)]);
    let leak = env.write(
        "leak.csv",
        "fname,lname,zip,birthdate\nSam,Smiht,LS2 1AB,08/02/1941\n",
    );
    let run = || {
        env.ok(&["match", Env::path_str(&leak), "--json", "--people"])
            .json()
    };
    run();
    let kept = env.dir().join("linkage-blocks.bin");
    assert!(kept.exists());
    let settings = env.dir().join("settings.toml");
    let mut text = std::fs::read_to_string(&settings).unwrap();
    text.push_str("\n[linkage]\nkeep_blocks = false\n");
    std::fs::write(&settings, text).unwrap();
    // What a writer killed mid-write would have left goes too.
    let left = env.dir().join(".linkage-blocks.bin.0123456789ab.tmp");
    std::fs::write(&left, b"keys").unwrap();
    for _ in 0..2 {
        let report = run();
        assert_eq!(report["linkage"]["blocks_source"], "store", "{report}");
        assert_eq!(refs_of(&report, "certain"), ["R0001"], "{report}");
        assert!(
            report["linkage"]["people_read"].as_u64().unwrap() >= 400,
            "{report}"
        );
        assert!(!kept.exists(), "the file kept before is removed, none is written");
        assert!(!left.exists(), "a writer's leftover is removed");
    }
}

#[test]
fn the_links_are_the_same_however_many_threads_read_the_file() {
    let env = Env::new();
    let crm = env.write("crm.csv", people(400));
    env.ok(&["people", "import", Env::path_str(&crm)]);
    // Ten batches of rows and more (a batch is 4,096 records): one row in eight is one of our
    // people with the family name mistyped, the rest are strangers with a name, a postcode and
    // a birthday, all left to linkage.
    let first = [
        "Alex", "Sam", "Ruth", "Omar", "Priya", "Gareth", "Siobhan", "Tomasz", "Ingrid", "Kwame",
    ];
    let last = [
        "Smith", "Patel", "Evans", "Khan", "Nowak", "Jones", "Murphy", "Okafor", "Larsen", "Brown",
    ];
    let syllables = ["ka", "lo", "vin", "ter", "sa", "mu", "dor", "el", "rib", "zan"];
    let mut rng = fastrand::Rng::with_seed(12);
    let mut leak = String::from("fname,lname,zip,birthdate\n");
    for row in 0..45_000usize {
        if row % 8 == 0 {
            let n = rng.usize(..400);
            let mut surname: Vec<char> = last[(n / first.len()) % last.len()].chars().collect();
            surname.swap(2, 3);
            leak.push_str(&format!(
                "{},{},LS{} {}AB,{:02}/{:02}/{}\n",
                first[n % first.len()],
                surname.iter().collect::<String>(),
                1 + n % 27,
                n % 10,
                1 + (n * 7) % 28,
                1 + n % 12,
                1940 + n % 60,
            ));
        } else {
            let mut name = || -> String {
                let word: String = (0..3).map(|_| syllables[rng.usize(..syllables.len())]).collect();
                format!("{}{}", word[..1].to_uppercase(), &word[1..])
            };
            let (given, family) = (name(), name());
            leak.push_str(&format!(
                "{given},{family},LS{} {}AB,{:02}/{:02}/{}\n",
                rng.u8(1..28),
                rng.u8(0..10),
                rng.u8(1..29),
                rng.u8(1..13),
                rng.u16(1940..2000),
            ));
        }
    }
    let leak = env.write("leak.csv", &leak);
    let run = |workers: &str| {
        let name = format!("links-{workers}.csv");
        match_with_links(&env, &leak, &name, &["--workers", workers])
    };
    let (one, one_links) = run("1");
    assert_eq!(one["linkage"]["rows_tried"], 45_000, "{}", one["linkage"]);
    assert!(
        one_links.lines().count() > 4_000,
        "most mistyped rows are linked: {} lines",
        one_links.lines().count()
    );
    for workers in ["2", "5"] {
        let (many, many_links) = run(workers);
        assert!(
            many_links == one_links,
            "the linkage file with {workers} threads differs"
        );
        for field in ["matched", "probable", "by_identifier", "people"] {
            assert_eq!(many[field], one[field], "{field} with {workers} threads");
        }
        for field in [
            "prior",
            "model",
            "pairs",
            "rows_tried",
            "rows_not_tried",
            "rows_certain",
            "rows_probable",
        ] {
            let (a, b) = (&many["linkage"][field], &one["linkage"][field]);
            assert!(!b.is_null(), "linkage.{field} is in the report");
            assert_eq!(a, b, "linkage.{field} with {workers} threads");
        }
    }
    let refused = env.fails(&["match", Env::path_str(&leak), "--workers", "0"], 2);
    assert!(refused.contains("--workers"), "{refused}");
}
