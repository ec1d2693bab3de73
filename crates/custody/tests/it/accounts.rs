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
    // A command refused before it reads its input closes the pipe: that is not a failure here.
    if let Err(error) = child.stdin.take().unwrap().write_all(input.as_bytes()) {
        assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe, "{error}");
    }
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
    assert!(
        stderr.contains("admin, responder, viewer or supplier"),
        "{stderr}"
    );
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

    if !env.on_sqlite() {
        return; // what follows reads the SQLite file itself
    }
    let db = rusqlite::Connection::open(env.dir().join("custody.db")).unwrap();
    let stored: String = db
        .query_row(
            "SELECT password_hash FROM accounts WHERE name = 'dpo'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
    assert!(verifies(&stored, password), "the hash is of the password typed");
    assert!(
        !verifies(&stored, &format!("{password}\n")),
        "and not of its line break"
    );

    // A Windows line break is not part of the password; spaces are.
    let (code, _, stderr) = with_input(
        &env,
        &["user", "add", "lead", "--role", "responder"],
        "  spaced passphrase  \r\n",
    );
    assert_eq!(code, 0, "{stderr}");
    let stored: String = db
        .query_row(
            "SELECT password_hash FROM accounts WHERE name = 'lead'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert!(verifies(&stored, "  spaced passphrase  "));
    assert!(!verifies(&stored, "spaced passphrase"));
    let (code, _, stderr) = with_input(
        &env,
        &["user", "add", "LEAD", "--role", "viewer"],
        &format!("{password}\n"),
    );
    assert_eq!(code, 1, "names are the same whatever their case");
    assert!(stderr.contains("already an account named LEAD"), "{stderr}");
    let (code, _, stderr) = with_input(&env, &["user", "add", "empty", "--role", "viewer"], "");
    assert_eq!(code, 1);
    assert!(stderr.contains("no password on standard input"), "{stderr}");
    env.ok(&["user", "disable", "lead"]);
    let listed = env.ok(&["user", "list", "--json"]).json();
    assert!(listed[1]["disabled_at"].is_string(), "{listed}");
    assert!(
        env.fails(&["user", "disable", "lead"], 1)
            .contains("already disabled")
    );
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
    if !env.on_sqlite() {
        return; // what follows reads the SQLite file itself
    }
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
    // Nowhere in the data directory's files, as text or as its raw bytes.
    let raw: Vec<u8> = (0..32)
        .map(|index| u8::from_str_radix(&token[4 + index * 2..6 + index * 2], 16).unwrap())
        .collect();
    for entry in std::fs::read_dir(env.dir()).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(&token[4..]),
            "{} holds the token",
            path.display()
        );
        assert!(
            !bytes.windows(raw.len()).any(|window| window == raw.as_slice()),
            "{} holds its bytes",
            path.display()
        );
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

/// Whether an Argon2 PHC string is the hash of `password` (checked here with the argon2 crate,
/// not through custody).
fn verifies(phc: &str, password: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    let parsed = PasswordHash::new(phc).unwrap();
    argon2::Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}
