//! The desk's accounts and API tokens on the command line: passwords kept only as Argon2id
//! hashes, tokens shown once and kept only as keyed hashes, every change audited.

use std::io::Write;
use std::process::Stdio;

use crate::support::Env;

/// Runs `custody ARGS` with `input` on standard input (not a terminal).
fn with_input(env: &Env, args: &[&str], input: &str) -> (i32, String, String) {
    let mut child = env
        .command(args, &[])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn accounts_keep_only_an_argon2id_hash_and_refuse_weak_or_repeated_ones() {
    let env = Env::new();
    let password = "correct horse battery staple";
    let (code, stdout, stderr) = with_input(
        &env,
        &["user", "add", "dpo", "--role", "admin", "--json"],
        &format!("{password}\n"),
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    let added: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        (added["name"].as_str(), added["role"].as_str()),
        (Some("dpo"), Some("admin"))
    );

    let (code, _, stderr) = with_input(
        &env,
        &["user", "add", "dpo", "--role", "viewer"],
        &format!("{password}\n"),
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("already an account named dpo"), "{stderr}");
    let (code, _, stderr) = with_input(&env, &["user", "add", "lead", "--role", "responder"], "short\n");
    assert_eq!(code, 1);
    assert!(stderr.contains("at least 12 characters"), "{stderr}");
    let (code, _, stderr) = with_input(
        &env,
        &["user", "add", "lead", "--role", "owner"],
        &format!("{password}\n"),
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("admin, responder or viewer"), "{stderr}");
    let (code, _, stderr) = with_input(
        &env,
        &["user", "add", "a b", "--role", "viewer"],
        &format!("{password}\n"),
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("letters, digits"), "{stderr}");

    let listed = env.ok(&["user", "list", "--json"]).json();
    assert_eq!(
        listed.as_array().unwrap().len(),
        1,
        "the refused ones were not added: {listed}"
    );
    assert!(
        !listed.to_string().contains("argon2"),
        "no hash is shown: {listed}"
    );

    let db = rusqlite::Connection::open(env.dir().join("custody.db")).unwrap();
    let stored: String = db
        .query_row(
            "SELECT password_hash FROM accounts WHERE name = 'dpo'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
    assert!(!stored.contains(password));
    let audit = env.ok(&["audit", "export"]).stdout;
    assert!(audit.contains("account.add") && !audit.contains(password));
}

#[test]
fn a_token_is_shown_once_kept_hashed_and_can_be_revoked() {
    let env = Env::new();
    let made = env
        .ok(&[
            "token",
            "add",
            "--name",
            "reporting",
            "--role",
            "viewer",
            "--json",
        ])
        .json();
    let token = made["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("cst_") && token.len() == 4 + 64, "{token}");
    let again = env
        .ok(&["token", "add", "--name", "other", "--role", "viewer", "--json"])
        .json();
    assert_ne!(again["token"], made["token"], "each token is random");

    let listed = env.ok(&["token", "list", "--json"]).json();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert!(
        !listed.to_string().contains(&token),
        "the token is never shown again"
    );
    let db = rusqlite::Connection::open(env.dir().join("custody.db")).unwrap();
    let hash: Vec<u8> = db
        .query_row(
            "SELECT token_hash FROM api_tokens WHERE name = 'reporting'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(hash.len(), 16);
    assert!(!String::from_utf8_lossy(&hash).contains(&token[4..12]));
    // Nowhere in the database files, in any form custody writes.
    for name in ["custody.db", "custody.db-wal"] {
        let bytes = std::fs::read(env.dir().join(name)).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(&token[4..]), "{name} holds the token");
    }

    env.ok(&["token", "revoke", "reporting"]);
    let listed = env.ok(&["token", "list", "--json"]).json();
    assert!(listed[0]["revoked_at"].is_string(), "{listed}");
    assert!(listed[1]["revoked_at"].is_null(), "{listed}");
    let twice = env.fails(&["token", "revoke", "reporting"], 1);
    assert!(twice.contains("already revoked"), "{twice}");
    let missing = env.fails(&["token", "revoke", "nobody"], 1);
    assert!(missing.contains("no token named nobody"), "{missing}");
    let audit = env.ok(&["audit", "export"]).stdout;
    assert!(audit.contains("token.add") && audit.contains("token.revoke"));
    assert!(!audit.contains(&token), "the audit log never holds the token");
    assert_eq!(env.ok(&["audit", "verify", "--json"]).json()["intact"], true);
}
