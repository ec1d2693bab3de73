//! Leak evidence: matching leaked files of every shape against the ledger, canaries, supplier
//! ranking, bad input, and recording on an incident.

use std::io::Write;

use crate::support::{CRM, Env};

/// The CRM's people; a mailing house got M1 and M2 (with three canaries), an events company
/// got M3 and M4 with phone numbers.
fn ledger() -> (Env, std::path::PathBuf) {
    let env = Env::new();
    let crm = env.write("crm.csv", CRM);
    env.ok(&["people", "import", Env::path_str(&crm)]);
    for name in ["Mailing House", "Events Co"] {
        env.ok(&["supplier", "add", name, "--role", "processor"]);
    }
    let export = env.write(
        "mailing.csv",
        "Member Number,First Name,Last Name,Email\nM1,Alex,Smith,alex.smith@example.org\nM2,Zoë,Jones,zoe.jones@example.org\n",
    );
    let sent = env.root.path().join("sent.csv");
    env.ok(&[
        "share",
        "record",
        "--supplier",
        "Mailing House",
        "--purpose",
        "mailing",
        "--at",
        "2021-06-01",
        "--canaries",
        "3",
        "--canary-out",
        Env::path_str(&sent),
        Env::path_str(&export),
    ]);
    let events = env.write(
        "events.csv",
        "Member Number,Email,Mobile,Post Code\nM3,sam.patel@example.com,0113 496 0002,M1 1AA\nM4,ruth@example.net,,EH1 1YZ\n",
    );
    env.ok(&[
        "share",
        "record",
        "--supplier",
        "Events Co",
        "--purpose",
        "conference",
        "--at",
        "2021-07-01",
        Env::path_str(&events),
    ]);
    (env, sent)
}

fn matched(env: &Env, file: &std::path::Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["match", Env::path_str(file), "--json", "--people"];
    args.extend_from_slice(extra);
    env.ok(&args).json()
}

fn refs(result: &serde_json::Value) -> Vec<String> {
    let mut refs: Vec<String> = result["refs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|value| value.as_str().unwrap().to_owned())
        .collect();
    refs.sort();
    refs
}

#[test]
fn a_canary_names_the_share_and_supplier() {
    let (env, sent) = ledger();
    let result = matched(&env, &sent, &[]);
    assert_eq!(result["rows"], 5, "{result}");
    assert_eq!(result["matched"], 2, "canaries are not people: {result}");
    assert_eq!(refs(&result), ["M1", "M2"]);
    let canaries = result["canaries"].as_array().unwrap();
    assert_eq!(canaries.len(), 3, "{result}");
    assert!(
        canaries
            .iter()
            .all(|canary| canary["supplier"] == "Mailing House" && canary["share"] == 1)
    );
    assert_eq!(result["suppliers"][0]["supplier"], "Mailing House");
    assert_eq!(result["suppliers"][0]["canary"], true);
    assert_eq!(result["by_identifier"]["email"], 2);
}

#[test]
fn without_canaries_suppliers_are_ranked_by_what_they_held() {
    let (env, _) = ledger();
    // M3 by a changed-case email inside a nested object, M4 by name and postcode only, a stranger.
    let leak = env.write(
        "dump.jsonl",
        concat!(
            "{\"user\": {\"contact\": {\"email\": \"  Sam.Patel@Example.COM\"}}, \"pass\": \"x\"}\n",
            "{\"user\": {\"first_name\": \"Ruth\", \"last_name\": \"Evans\", \"zip\": \"eh1 1yz\"}}\n",
            "{\"user\": {\"contact\": {\"email\": \"nobody@example.org\"}}}\n",
            "{\"member\": {\"full_name\": \"Khan, Omar\", \"postcode\": \"B1 1AA\"}}\n",
        ),
    );
    let result = matched(&env, &leak, &[]);
    assert_eq!(result["format"]["format"], "jsonl");
    // Omar Khan by his name written family name first, and his postcode.
    assert_eq!(refs(&result), ["M3", "M4", "M5"]);
    assert_eq!(result["by_identifier"]["email"], 1);
    assert_eq!(result["by_identifier"]["name_postcode"], 2);
    assert_eq!(result["refs_by_identifier"]["email"], serde_json::json!(["M3"]));
    assert_eq!(
        result["refs_by_identifier"]["name_postcode"],
        serde_json::json!(["M4", "M5"])
    );
    assert_eq!(result["canaries"], serde_json::json!([]));
    let best = &result["suppliers"][0];
    assert_eq!(best["supplier"], "Events Co", "{result}");
    assert_eq!(best["held"], 2, "M5 was sent to no one: {best}");
    assert_eq!(best["coverage"], 0.6667);
    // The file holds names and a password, which the events company never received.
    let missing: Vec<&str> = best["categories_missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|value| value.as_str().unwrap())
        .collect();
    assert!(missing.contains(&"user.authorization.credentials"), "{best}");
    assert!(!missing.contains(&"user.contact.email"), "{best}");
    assert_eq!(
        result["suppliers"].as_array().unwrap().len(),
        1,
        "Mailing House held neither: {result}"
    );
}

/// The same three people written in every format the reader knows.
fn shapes() -> Vec<(&'static str, Vec<u8>)> {
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            "email\tname\nalex.smith@example.org\tAlex\nsam.patel@example.com\tSam\nruth@example.net\tRuth\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    let mut windows_1252 =
        b"Surname;Forename;Post code\nJones;Zo\xEB;LS1 4AB\nPatel;Sam;M1 1AA\nEvans;Ruth;EH1 1YZ\n".to_vec();
    windows_1252.extend_from_slice(b"");
    vec![
        (
            "headerless.csv",
            b"\"Smith, Alex\",alex.smith@example.org,020 7946 0001\nPatel,sam.patel@example.com,\nEvans,RUTH@example.net,\nNobody,no@example.org,\n".to_vec(),
        ),
        ("utf16.tsv", utf16),
        ("windows.csv", windows_1252),
        (
            "mysql.sql",
            b"-- MySQL dump 10.13\nCREATE TABLE `members` (\n  `id` int NOT NULL,\n  `mail` varchar(255),\n  `note` text,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB;\nINSERT INTO `members` VALUES (1,'alex.smith@example.org','it\\'s; (fine)'),(2,'sam.patel@example.com',NULL),\n(3,'ruth@example.net','x');\n".to_vec(),
        ),
        (
            "pg.sql",
            b"--\n-- PostgreSQL database dump\n--\nCOPY public.people (id, email, phone) FROM stdin;\n1\talex.smith@example.org\t\\N\n2\tsam.patel@example.com\t01134960002\n\\.\nINSERT INTO public.people (id, email, phone) VALUES (3, 'ruth@example.net', 'it''s');\n".to_vec(),
        ),
        (
            "combo.txt",
            b"alex.smith@example.org:hunter2\nsam.patel+shop@example.com;pa:ss\nhttps://shop.example:ruth@example.net:secret\nbob:nothing\n".to_vec(),
        ),
    ]
}

#[test]
fn every_format_and_encoding_finds_the_same_people() {
    let (env, _) = ledger();
    for (name, bytes) in shapes() {
        let file = env.write(name, &bytes);
        let result = matched(&env, &file, &[]);
        let found = refs(&result);
        let expected: &[&str] = if name == "windows.csv" {
            &["M2", "M3", "M4"]
        } else {
            &["M1", "M3", "M4"]
        };
        assert_eq!(found, expected, "{name}: {result}");
        assert_eq!(
            result["problems"]["counts"],
            serde_json::json!({}),
            "{name}: {result}"
        );
        // The same file gzipped gives the same people.
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(&bytes).unwrap();
        let gz = env.write(&format!("{name}.gz"), encoder.finish().unwrap());
        let zipped = matched(&env, &gz, &[]);
        assert_eq!(zipped["gzip"], true);
        assert_eq!(refs(&zipped), expected, "{name}.gz: {zipped}");
    }
}

#[test]
fn what_cannot_be_read_is_counted_and_the_rest_is_matched() {
    let (env, _) = ledger();
    let mut bytes = b"email,name\nalex.smith@example.org,Alex\n\x00\x01\x02\x03junk\x00\n".to_vec();
    bytes.extend_from_slice(b"\"never closed,x\n");
    bytes.extend_from_slice(format!("{}\n", "a".repeat(200)).as_bytes());
    bytes.extend_from_slice(b"sam.patel@example.com,Sam\n");
    bytes.extend_from_slice(b"Zo\xEB Jones <zoe.jones@example.org>,Zo\xEB\n");
    let file = env.write("messy.csv", &bytes);
    let result = matched(&env, &file, &[]);
    assert_eq!(refs(&result), ["M1", "M2", "M3"], "{result}");
    let problems = &result["problems"]["counts"];
    assert_eq!(problems["binary"]["lines"], serde_json::json!([3]), "{result}");
    assert_eq!(
        problems["broken_quoting"]["lines"],
        serde_json::json!([4]),
        "{result}"
    );
    assert_eq!(result["encoding"], "windows-1252", "{result}");

    // A truncated gzip: what came before the cut is matched, the cut is reported.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for index in 0..20_000 {
        writeln!(encoder, "person{index}@example.org,x").unwrap();
    }
    writeln!(encoder, "alex.smith@example.org,Alex").unwrap();
    let whole = encoder.finish().unwrap();
    let cut = env.write("cut.csv.gz", &whole[..whole.len() / 2]);
    let result = matched(&env, &cut, &[]);
    assert!(
        result["problems"]["stopped"][1]
            .as_str()
            .unwrap()
            .contains("ends early"),
        "{result}"
    );
    assert!(result["rows"].as_u64().unwrap() > 1000, "{result}");
    assert_eq!(result["matched"], 0);

    // Not a file at all: a clear error, nothing recorded.
    let missing = env.fails(&["match", "/nonexistent/leak.csv"], 1);
    assert!(missing.contains("/nonexistent/leak.csv"), "{missing}");
    let bad = env.fails(&["match", Env::path_str(&file), "--format", "xml"], 1);
    assert!(
        bad.contains("expected auto, csv, tsv, jsonl, sql or combo"),
        "{bad}"
    );
}

#[test]
fn recorded_evidence_shows_beside_the_ledger_impact() {
    let (env, _) = ledger();
    env.ok(&[
        "incident",
        "open",
        "--supplier",
        "Events Co",
        "--aware-at",
        "2021-10-29 18:30",
        "--nature",
        "confidentiality",
        "--summary",
        "Events database posted on a forum",
    ]);
    // M3 was held by the events company; M1 was not: the ledger does not explain them.
    let leak = env.write(
        "forum.csv",
        "mail,pw\nsam.patel@example.com,x\nalex.smith@example.org,y\n",
    );
    let result = matched(&env, &leak, &["--incident", "1"]);
    assert!(result["recorded"].as_i64().is_some(), "{result}");
    let impact = env.ok(&["impact", "1", "--json"]).json();
    assert_eq!(impact["people"], 2, "the ledger's figure: {impact}");
    let confirmed = &impact["confirmed"];
    assert_eq!(confirmed["people"], 2, "{impact}");
    assert_eq!(confirmed["held_by_supplier"], 1);
    assert_eq!(confirmed["not_held_by_supplier"], 1);
    let show = env.ok(&["incident", "show", "1", "--json"]).json();
    let kinds: Vec<&str> = show["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"evidence"), "{show}");
    let audit = env.ok(&["audit", "verify", "--json"]).json();
    assert_eq!(audit["intact"], true, "{audit}");
    let unknown = env.fails(&["match", Env::path_str(&leak), "--incident", "9"], 1);
    assert!(unknown.contains("9"), "{unknown}");
}

#[test]
fn a_namesake_in_a_row_already_matched_by_address_is_not_a_second_person() {
    let (env, _) = ledger();
    // Row 1 is Alex Smith by address, with Sam Patel's name and postcode beside it (a form filled
    // in for someone else): Alex only. Row 2 has only Sam's name and postcode: Sam.
    let leak = env.write(
        "forms.csv",
        "email,first_name,last_name,postcode\nalex.smith@example.org,Sam,Patel,M1 1AA\n,Sam,Patel,M1 1AA\n",
    );
    let first = env.write(
        "first.csv",
        "email,first_name,last_name,postcode\nalex.smith@example.org,Sam,Patel,M1 1AA\n",
    );
    let only_first = matched(&env, &first, &[]);
    assert_eq!(refs(&only_first), ["M1"], "{only_first}");
    assert_eq!(only_first["by_identifier"]["name_postcode"], 0, "{only_first}");
    let both = matched(&env, &leak, &[]);
    assert_eq!(refs(&both), ["M1", "M3"], "{both}");
    assert_eq!(both["rows_matched"], 2);
}
