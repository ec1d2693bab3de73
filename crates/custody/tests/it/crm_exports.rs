//! Exports of the CRMs and address books organisations use, one small fixture each
//! (`tests/fixtures/crm/`, written for custody from the vendors' documented layouts; see the
//! README there): each imports with no `--map`, every email address in it becomes an
//! identifier that a leaked file is matched by, and what it cannot use is reported.

use std::path::PathBuf;

use crate::support::Env;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/crm")
        .join(name)
}

/// Every email address written anywhere in a file, once each.
fn emails_in(text: &str) -> Vec<String> {
    let mut found: Vec<String> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || "@._%+-".contains(c)))
        .filter(|word| {
            word.split_once('@')
                .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        })
        .map(|word| word.trim_matches('.').to_ascii_lowercase())
        .collect();
    found.sort();
    found.dedup();
    found
}

struct Case {
    file: &'static str,
    /// The order the file's own dates prove, if any depend on it.
    date_order: Option<&'static str>,
    /// A warning the import must give.
    warning: Option<&'static str>,
    /// A column whose values are reported as unusable.
    unusable: Option<&'static str>,
}

const CASES: &[Case] = &[
    Case {
        file: "actionnetwork.csv",
        date_order: None,
        warning: None,
        unusable: None,
    },
    Case {
        file: "beacon.csv",
        date_order: Some("dmy"),
        warning: None,
        unusable: None,
    },
    Case {
        file: "civicrm.csv",
        date_order: None,
        warning: None,
        unusable: None,
    },
    Case {
        file: "donorfy.csv",
        date_order: None,
        warning: None,
        unusable: None,
    },
    Case {
        file: "dynamics.csv",
        date_order: Some("dmy"),
        warning: None,
        unusable: None,
    },
    Case {
        file: "etapestry.csv",
        date_order: None,
        warning: None,
        unusable: None,
    },
    Case {
        file: "everyaction.csv",
        date_order: Some("mdy"),
        warning: None,
        unusable: None,
    },
    Case {
        file: "google-contacts.csv",
        date_order: None,
        warning: Some("no column holds a reference"),
        unusable: None,
    },
    Case {
        file: "hubspot.csv",
        date_order: None,
        warning: None,
        unusable: None,
    },
    // Mailchimp's birthdays are month/day without a year.
    Case {
        file: "mailchimp.csv",
        date_order: Some("mdy"),
        warning: None,
        unusable: None,
    },
    Case {
        file: "nationbuilder.csv",
        date_order: Some("mdy"),
        warning: None,
        unusable: None,
    },
    Case {
        file: "outlook.csv",
        date_order: Some("dmy"),
        warning: Some("no column holds a reference"),
        unusable: None,
    },
    // Raiser's Edge keeps emails in phone slots and "fuzzy" birth dates (a year alone).
    Case {
        file: "raisersedge.csv",
        date_order: Some("mdy"),
        warning: None,
        unusable: Some("CnBio_Birth_date"),
    },
    Case {
        file: "salesforce.csv",
        date_order: None,
        warning: None,
        unusable: None,
    },
    Case {
        file: "salesforce_report.csv",
        date_order: Some("dmy"),
        warning: Some("a report's footer"),
        unusable: None,
    },
    Case {
        file: "salsa.csv",
        date_order: None,
        warning: None,
        unusable: None,
    },
];

#[test]
fn every_known_crm_export_imports_as_exported_and_every_email_matches() {
    for case in CASES {
        let env = Env::new();
        let path = fixture(case.file);
        let report = env
            .ok(&[
                "people",
                "import",
                Env::path_str(&path),
                "--category",
                "member",
                "--json",
            ])
            .json();
        let file = case.file;
        assert_eq!(report["inserted"], 5, "{file}: {report}");
        assert_eq!(report["without_identifier"], 0, "{file}: {report}");
        assert_eq!(report["date_order"].as_str(), case.date_order, "{file}: {report}");
        let warnings = report["warnings"].to_string();
        match case.warning {
            Some(expected) => assert!(warnings.contains(expected), "{file}: {warnings}"),
            None => assert_eq!(report["warnings"], serde_json::json!([]), "{file}"),
        }
        if let Some(header) = case.unusable {
            let columns = report["unusable"].as_array().unwrap();
            assert!(
                columns.iter().any(|column| column["header"] == header),
                "{file}: {report}"
            );
        }
        // Every address in the export, in whichever column the CRM keeps it (a second email
        // column, a Raiser's Edge phone slot, a Google cell of several), finds its person.
        let bytes = std::fs::read(&path).unwrap();
        let text = match bytes.strip_prefix(&[0xFF, 0xFE]) {
            Some(utf16) => String::from_utf16_lossy(
                &utf16
                    .chunks(2)
                    .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
                    .collect::<Vec<u16>>(),
            ),
            None => String::from_utf8_lossy(&bytes).into_owned(),
        };
        let emails = emails_in(&text);
        assert!(emails.len() >= 5, "{file}: {emails:?}");
        let leak = env.write("leak.csv", format!("email\n{}\n", emails.join("\n")));
        let matched = env.ok(&["match", Env::path_str(&leak), "--json"]).json();
        assert_eq!(matched["rows_matched"], emails.len(), "{file}: {matched}");
        assert_eq!(matched["matched"], 5, "{file}: {matched}");
    }
}

#[test]
fn the_preview_of_each_export_accounts_for_every_column() {
    for case in CASES {
        let env = Env::new();
        let path = fixture(case.file);
        let check = env
            .ok(&[
                "people",
                "import",
                Env::path_str(&path),
                "--category",
                "member",
                "--check",
                "--json",
            ])
            .json();
        let file = case.file;
        let columns = check["columns"].as_array().unwrap();
        for column in columns {
            let used = column["field"].as_str().unwrap();
            // A column not read says why; none that holds addresses goes unread.
            if used == "ignored" {
                assert!(column["note"].is_string(), "{file}: {column}");
            }
        }
        assert!(
            columns.iter().any(|column| column["field"] == "ref")
                || check["warnings"]
                    .to_string()
                    .contains("no column holds a reference"),
            "{file}: {check}"
        );
        assert_eq!(check["rows_refused"], 0, "{file}: {check}");
    }
}

#[test]
fn an_address_book_without_references_keys_people_by_a_digest_of_their_address() {
    let env = Env::new();
    let path = fixture("outlook.csv");
    env.ok(&["people", "import", Env::path_str(&path), "--category", "member"]);
    let leak = env.write("leak.csv", "email\namelia.hartley@example.org\n");
    let first = env
        .ok(&["match", Env::path_str(&leak), "--people", "--json"])
        .json();
    let reference = first["refs"][0].as_str().unwrap().to_owned();
    assert!(
        reference.starts_with("c-") && reference.len() == 18 && !reference.contains("amelia"),
        "{reference}"
    );
    // Imported again, the same people are found unchanged, not added.
    let again = env
        .ok(&[
            "people",
            "import",
            Env::path_str(&path),
            "--category",
            "member",
            "--json",
        ])
        .json();
    assert_eq!(
        (
            again["inserted"].as_u64(),
            again["updated"].as_u64(),
            again["unchanged"].as_u64()
        ),
        (Some(0), Some(0), Some(5)),
        "{again}"
    );
    let second = env
        .ok(&["match", Env::path_str(&leak), "--people", "--json"])
        .json();
    assert_eq!(second["refs"][0], reference.as_str());
}

#[test]
fn a_vcard_address_book_imports_and_its_errors_name_the_vcard_line() {
    let env = Env::new();
    let path = fixture("contacts.vcf");
    let report = env
        .ok(&[
            "people",
            "import",
            Env::path_str(&path),
            "--category",
            "member",
            "--json",
        ])
        .json();
    assert_eq!(report["inserted"], 5, "{report}");
    assert_eq!(report["without_identifier"], 0, "{report}");
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("contacts.vcf") && !warnings.contains("cards.csv"),
        "the vCard file is named, not the table made of it: {warnings}"
    );
    // A second email of a card, and a birthday without a year, are read.
    let leak = env.write(
        "leak.csv",
        "email\na.hartley@example.com\nsiobhan.oconnell@example.org\n",
    );
    let matched = env.ok(&["match", Env::path_str(&leak), "--json"]).json();
    assert_eq!(matched["matched"], 2, "{matched}");

    // A country custody cannot read is reported at its card's BEGIN line, in the vCard file.
    let odd = env.write(
        "odd.vcf",
        "BEGIN:VCARD\nVERSION:3.0\nFN:A B\nEMAIL:a@example.org\nEND:VCARD\n\
         BEGIN:VCARD\nVERSION:3.0\nFN:C D\nEMAIL:c@example.org\nADR:;;1 Road;Town;;;Narnia\nEND:VCARD\n",
    );
    let report = env
        .ok(&[
            "people",
            "import",
            Env::path_str(&odd),
            "--category",
            "member",
            "--json",
        ])
        .json();
    assert_eq!(report["unusable"][0]["lines"], serde_json::json!([6]), "{report}");
    // A birthday that does not exist stops the import, naming the vCard file and the card.
    let broken = env.write(
        "book.vcf",
        "BEGIN:VCARD\nVERSION:3.0\nFN:A B\nEMAIL:e@example.org\nEND:VCARD\n\
         BEGIN:VCARD\nVERSION:3.0\nFN:C D\nEMAIL:f@example.org\nBDAY:1980-02-31\nEND:VCARD\n",
    );
    let error = env.fails(
        &["people", "import", Env::path_str(&broken), "--category", "member"],
        1,
    );
    assert!(error.contains("book.vcf, line 6"), "{error}");
    assert!(
        !error.contains("cards.csv") && !error.contains(".vcard."),
        "{error}"
    );
    let leak = env.write("leak.csv", "email\ne@example.org\n");
    let matched = env.ok(&["match", Env::path_str(&leak), "--json"]).json();
    assert_eq!(
        matched["matched"], 0,
        "nothing of the refused file was written: {matched}"
    );
    // Nothing is left behind in the data directory.
    let left: Vec<String> = std::fs::read_dir(env.dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".vcard."))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
