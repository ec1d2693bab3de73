//! The small doors, tried as the attacks they stop: screen-rewriting text in what the CLI
//! prints, oversized and hostile free text.

use crate::support::{CRM, Env};

fn audit_count(env: &Env) -> usize {
    env.ok(&["audit", "export"]).stdout.lines().count()
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
