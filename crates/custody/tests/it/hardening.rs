//! The small doors, tried as the attacks they stop: screen-rewriting text in what the CLI
//! prints, oversized and hostile free text.

use crate::support::{CRM, Env};

fn audit_count(env: &Env) -> usize {
    env.ok(&["audit", "export"]).stdout.lines().count()
}

/// Incident 1, at the mailing house.
fn open_incident(env: &Env) {
    env.ok(&[
        "incident",
        "open",
        "--supplier",
        "Mailing House",
        "--aware-at",
        "2021-10-29 18:30",
        "--nature",
        "confidentiality",
        "--summary",
        "Ransomware at the mailing house.",
    ]);
}

fn with_supplier() -> Env {
    let env = Env::new();
    let crm = env.write("crm.csv", CRM);
    env.ok(&["people", "import", Env::path_str(&crm)]);
    env.ok(&["supplier", "add", "Mailing House", "--role", "processor"]);
    env
}

#[test]
fn a_leaked_column_name_cannot_rewrite_the_screen_of_whoever_runs_match() {
    let env = with_supplier();
    let leak = env.write(
        "leak.csv",
        "\u{1b}[2J\u{1b}]0;pwned\u{7}email,name\nalex.smith@example.org,Alex\n",
    );
    let run = env.ok(&["match", Env::path_str(&leak)]);
    assert!(
        !run.stdout.contains('\u{1b}') && !run.stdout.contains('\u{7}'),
        "{:?}",
        run.stdout
    );
    assert!(run.stdout.contains("\\u{1b}[2J"), "shown escaped: {}", run.stdout);
}

#[test]
fn free_text_is_bounded_and_hostile_text_is_refused_with_nothing_written() {
    let env = with_supplier();
    let before = audit_count(&env);
    let long = "x".repeat(custody_core::LONG_TEXT_CHARS_MAX + 1);
    for summary in [long.as_str(), "Files gone \u{1b}[2J"] {
        let refused = env.fails(
            &[
                "incident",
                "open",
                "--supplier",
                "Mailing House",
                "--aware-at",
                "2021-10-29 18:30",
                "--nature",
                "confidentiality",
                "--summary",
                summary,
            ],
            1,
        );
        assert!(refused.contains("summary"), "{refused}");
    }
    assert_eq!(audit_count(&env), before, "nothing written");
    open_incident(&env);
    let refused = env.fails(
        &[
            "incident", "timeline", "1", "add", "--kind", "note", "--text", &long,
        ],
        1,
    );
    assert!(refused.contains("at most 10000 characters"), "{refused}");
    let refused = env.fails(
        &[
            "supplier",
            "add",
            "Printer",
            "--role",
            "processor",
            "--contract",
            &"c".repeat(201),
        ],
        1,
    );
    assert!(refused.contains("contract"), "{refused}");
}

pub(crate) fn record_with_canaries(
    env: &Env,
    export: &std::path::Path,
    out: &std::path::Path,
) -> crate::support::Run {
    env.run(&[
        "share",
        "record",
        "--supplier",
        "Mailing House",
        "--purpose",
        "mailing",
        "--at",
        "2021-06-01",
        "--canaries",
        "2",
        "--canary-out",
        Env::path_str(out),
        Env::path_str(export),
    ])
}

fn files_beside(path: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn a_canary_file_appears_only_once_its_share_is_committed() {
    let env = with_supplier();
    let export = env.write(
        "mailing.csv",
        "Member Number,First Name,Email\nM1,Alex,alex.smith@example.org\nM2,Zoë,zoe.jones@example.org\n",
    );
    let out = env.root.path().join("to-send.csv");
    // The commit fails (the audit chain was cut): no file by that name, nothing half-written.
    let newest = env.query_number("SELECT max(seq) FROM audit");
    env.tamper(&format!("DELETE FROM audit WHERE seq = {newest}"));
    let refused = record_with_canaries(&env, &export, &out);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(!out.exists(), "a file whose canaries name nothing must not exist");
    let stray: Vec<String> = files_beside(&out)
        .into_iter()
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
    // Once the chain is accepted again, a rerun works and leaves the file.
    env.ok(&["audit", "reanchor"]);
    let recorded = record_with_canaries(&env, &export, &out);
    assert_eq!(recorded.code, 0, "{}", recorded.stderr);
    assert!(out.exists());
    assert!(files_beside(&out).iter().all(|name| !name.ends_with(".tmp")));
}

#[test]
fn cells_a_spreadsheet_would_run_are_neutralised_in_the_file_custody_writes() {
    let env = with_supplier();
    let export = env.write(
        "mailing.csv",
        "Member Number,First Name,Email,Mobile\n\
         M1,=HYPERLINK(\"http://evil.example\"),alex.smith@example.org,+44 20 7946 0001\n\
         M2,@SUM(A1),zoe.jones@example.org,-\n",
    );
    let out = env.root.path().join("to-send.csv");
    let recorded = record_with_canaries(&env, &export, &out);
    assert_eq!(recorded.code, 0, "{}", recorded.stderr);
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.contains("'=HYPERLINK"), "{written}");
    assert!(written.contains("'@SUM(A1)"), "{written}");
    assert!(
        written.contains(",+44 20 7946 0001"),
        "a phone number stays: {written}"
    );
    for line in written.lines() {
        for cell in line.split(',') {
            let cell = cell.trim_start_matches('"');
            assert!(
                !cell.starts_with('=') && !cell.starts_with('@'),
                "{cell:?} in {written}"
            );
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{mode:o}");
    }
}

#[test]
fn a_data_directory_opened_to_others_is_warned_about() {
    let env = with_supplier();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let dir = env.dir();
        assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o077, 0);
        for name in [
            "custody.key",
            "custody.db",
            "custody.db-wal",
            "settings.toml",
            "audit.head",
        ] {
            let path = dir.join(name);
            if path.exists() {
                let mode = std::fs::metadata(&path).unwrap().permissions().mode();
                assert_eq!(mode & 0o077, 0, "{name} is {mode:o}");
            }
        }
        // What custody writes for the user is private too.
        open_incident(&env);
        let report = env.root.path().join("report.md");
        env.ok(&["report", "1", "--out", Env::path_str(&report)]);
        let mode = std::fs::metadata(&report).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "report is {mode:o}");
        let quiet = env.ok(&["supplier", "list"]);
        assert!(!quiet.stderr.contains("warning"), "{}", quiet.stderr);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(dir.join("settings.toml"), std::fs::Permissions::from_mode(0o644)).unwrap();
        let warned = env.ok(&["supplier", "list"]);
        assert!(
            warned.stderr.contains("warning: other users may read")
                && warned.stderr.contains("settings.toml"),
            "{}",
            warned.stderr
        );
    }
}

#[test]
fn an_out_file_that_is_a_link_is_written_through_not_replaced() {
    let env = with_supplier();
    open_incident(&env);
    #[cfg(unix)]
    {
        let target = env.root.path().join("kept-elsewhere.md");
        std::fs::write(&target, "").unwrap();
        let link = env.root.path().join("report-link.md");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        env.ok(&["report", "1", "--out", Env::path_str(&link)]);
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert!(
            std::fs::read_to_string(&target)
                .unwrap()
                .contains("Personal data breach report")
        );
    }
}
