//! Questions reach a supplier's contacts by mail through a real mail server: one message per
//! security or data protection contact, naming the desk's page and carrying nothing that signs
//! anyone in; kept as queued, retried, and refused ones recorded.

use crate::support::{Env, SmtpServer, days_ahead};

fn supplier_with_contacts(env: &Env) {
    env.ok(&["supplier", "add", "Mailing House", "--role", "processor"]);
    for (email, name, role) in [
        ("security@mailing.example", "Sam Lee", "security"),
        ("reject-dpo@mailing.example", "Ada Roe", "dpo"),
        ("accounts@mailing.example", "Kim Poe", "account"),
    ] {
        env.ok(&[
            "supplier",
            "contact",
            "add",
            "Mailing House",
            "--email",
            email,
            "--name",
            name,
            "--role",
            role,
        ]);
    }
    env.ok(&[
        "incident",
        "open",
        "--supplier",
        "Mailing House",
        "--aware-at",
        "2021-11-01 10:00",
        "--nature",
        "confidentiality",
        "--summary",
        "Mailing list copied",
    ]);
}

#[test]
fn a_question_is_mailed_to_the_suppliers_contacts_with_a_link_that_grants_nothing() {
    let env = Env::new();
    supplier_with_contacts(&env);
    let settings = env.dir().join("settings.toml");
    let mut text = std::fs::read_to_string(&settings).unwrap();
    assert!(!text.contains("[desk]"), "{text}");
    text.push_str("\n[desk]\npublic_url = \"https://desk.party.example.org/\"\n");
    std::fs::write(&settings, text).unwrap();

    let server = SmtpServer::start(&env.dir(), 0);
    let asked = env
        .ok_with(
            &[
                "incident",
                "ask",
                "1",
                "--due",
                &days_ahead(3),
                "--question",
                "What happened?",
                "--json",
            ],
            &server.env(),
        )
        .json();
    assert_eq!(
        asked["contacts"], 2,
        "security and dpo, not the account manager: {asked}"
    );
    assert_eq!(asked["mail"]["sent"], 1, "{asked}");
    assert_eq!(asked["mail"]["failed"], 1, "the server refused one: {asked}");

    let received = server.received();
    assert_eq!(received.len(), 1, "{received:?}");
    let message = &received[0];
    assert_eq!(message["to"][0], "security@mailing.example");
    let body = message["text"].as_str().unwrap();
    assert!(body.starts_with("Dear Sam Lee,"), "{body}");
    assert!(body.contains("1. What happened?"), "{body}");
    assert!(
        body.contains("https://desk.party.example.org/supplier/incidents/1,"),
        "{body}"
    );
    assert!(!body.contains("/supplier/incidents/1?"), "no query: {body}");
    for secret in ["token", "sign-in/", "csrf"] {
        assert!(!body.to_lowercase().contains(secret), "{secret} in {body}");
    }
    assert!(
        message["subject"].as_str().unwrap().contains("incident 1"),
        "{message}"
    );

    let listed = env
        .ok(&[
            "supplier",
            "mail",
            "list",
            "--supplier",
            "mailing house",
            "--json",
        ])
        .json();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    let state_of = |to: &str| {
        listed
            .iter()
            .find(|mail| mail["recipient"] == to)
            .map(|mail| mail["state"].as_str().unwrap().to_owned())
            .unwrap()
    };
    assert_eq!(state_of("security@mailing.example"), "sent");
    assert_eq!(state_of("reject-dpo@mailing.example"), "failed");
    let audit = env.ok(&["audit", "export"]).stdout;
    assert!(
        audit.contains("supplier.mail.queue") && audit.contains("supplier.mail.send"),
        "{audit}"
    );
    assert!(
        !audit.contains("security@mailing.example"),
        "the log counts messages, it keeps no address"
    );
    let shown = env.ok(&["incident", "show", "1"]).stdout;
    assert!(shown.contains("mailed to 2 contact(s)"), "{shown}");
}

#[test]
fn mail_queued_without_a_server_waits_and_goes_with_the_next_sending() {
    let env = Env::new();
    supplier_with_contacts(&env);
    let asked = env.ok(&["incident", "ask", "1", "--due", &days_ahead(3)]);
    assert!(asked.stderr.contains("queued"), "{}", asked.stderr);
    let queued = env.ok(&["supplier", "mail", "list", "--json"]).json();
    assert_eq!(queued.as_array().unwrap().len(), 2);
    assert!(
        queued
            .as_array()
            .unwrap()
            .iter()
            .all(|mail| mail["state"] == "queued")
    );
    let no_server = env.fails(&["supplier", "mail", "send"], 1);
    assert!(no_server.contains("no mail server"), "{no_server}");

    // A server that is not there: nothing is lost, the sending says so.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let down = SmtpServer::start(&env.dir(), 0);
    let mut vars = down.env();
    drop(down);
    for (name, value) in &mut vars {
        if *name == "CUSTODY_SMTP_PORT" {
            *value = port.to_string();
        }
    }
    let unreachable = env
        .command(&["supplier", "mail", "send", "--json"], &vars)
        .output()
        .unwrap();
    assert_eq!(unreachable.status.code(), Some(1));
    let still = env.ok(&["supplier", "mail", "list", "--json"]).json();
    assert!(
        still
            .as_array()
            .unwrap()
            .iter()
            .all(|mail| mail["state"] == "queued"),
        "{still}"
    );

    let server = SmtpServer::start(&env.dir(), 0);
    let sent = env
        .ok_with(&["supplier", "mail", "send", "--json"], &server.env())
        .json();
    assert_eq!(
        (sent["sent"].as_u64(), sent["failed"].as_u64()),
        (Some(1), Some(1)),
        "{sent}"
    );
    assert_eq!(server.received().len(), 1);
    let body = server.received()[0]["text"].as_str().unwrap().to_owned();
    assert!(
        body.contains("at the page /supplier/incidents/1"),
        "no public address set: {body}"
    );
    assert!(
        body.lines().any(|line| line.trim_end() == "1. What happened?"),
        "the standard questions: {body}"
    );
    assert!(
        body.lines().any(|line| line.starts_with("9. ")),
        "all nine: {body}"
    );
    // Nothing is sent twice.
    let again = env
        .ok_with(&["supplier", "mail", "send", "--json"], &server.env())
        .json();
    assert_eq!(again["sent"], 0);
    assert_eq!(server.received().len(), 1);
}
