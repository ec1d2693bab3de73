//! custody on PostgreSQL as a team runs it: the ledger in a database on the test server, several
//! processes on it at once (two desks, two notification workers), the record of the audit
//! chain's end kept in the database, and `init` refusing what it must.

use crate::desk_support::{DeskServer, PASSWORD, add_user};
use crate::notices::{export_of, incident_in};
use crate::support::{Env, SmtpServer};

#[test]
fn two_desks_on_one_database_share_sessions_and_sign_in_counts() {
    let env = Env::new_postgres();
    add_user(&env, "dpo", "admin");
    let first = DeskServer::start(&env);
    let second = DeskServer::start(&env);
    // Signed in on one desk, the browser is signed in on the other (a load balancer may send
    // any request to either).
    let session = first.sign_in("dpo", PASSWORD);
    let page = session.get(&second, "/account");
    assert_eq!(page.status, 200, "{}", page.body);
    // A form from one desk is accepted by the other: the token is the session's, not the
    // process's.
    let posted = session.post(
        &second,
        "/suppliers",
        &[("name", "Mailing House"), ("role", "processor")],
    );
    assert!(posted.status < 400, "{} {}", posted.status, posted.body);
    assert!(env.ok(&["supplier", "list"]).stdout.contains("Mailing House"));
    // Signed out on the second, the session is gone on the first too.
    let out = session.post(&second, "/sign-out", &[]);
    assert_eq!(out.status, 303, "{}", out.body);
    assert_eq!(session.get(&first, "/account").status, 303);
    // Wrong passwords spread over both desks are counted together: the pair backs off after
    // the free tries, whichever desk the next try reaches. The desk counts in whole seconds and
    // the first back-off lasts until the next one, so the checks hold when the third failure and
    // the tries after it fall in one second (else the tries are counted, not checked).
    #[allow(clippy::disallowed_methods)] // the desks count by the wall clock
    let second_now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs())
    };
    for desk in [&first, &second] {
        assert_eq!(desk.try_sign_in("dpo", "wrong password").status, 401);
    }
    let before_third = second_now();
    assert_eq!(first.try_sign_in("dpo", "wrong password").status, 401);
    let fourth = second.try_sign_in("dpo", "wrong password").status;
    let right = first.try_sign_in("dpo", PASSWORD).status;
    if second_now() == before_third {
        assert_eq!(fourth, 429, "the other desk counted the failures");
        assert_eq!(right, 429, "backing off on both");
    } else {
        assert!(matches!(fourth, 401 | 429), "{fourth}");
    }
}

#[test]
fn two_notification_workers_never_send_one_notice_twice() {
    let mut crm = String::from("ref,first_name,email,category,status,joined_on\n");
    let mut refs = Vec::new();
    for n in 0..60 {
        crm.push_str(&format!(
            "P{n:04},Name{n},person{n}@example.org,member,current,2015-01-01\n"
        ));
        refs.push(format!("P{n:04}"));
    }
    let refs: Vec<&str> = refs.iter().map(String::as_str).collect();
    let env = incident_in(Env::new_postgres(), &crm, &export_of(&refs));
    let smtp = SmtpServer::start(env.root.path(), 5);
    let workers: Vec<_> = (0..2)
        .map(|_| {
            env.command(&["notify", "1", "--concurrency", "2"], &smtp.env())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for worker in workers {
        let output = worker.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let mut told = std::collections::BTreeMap::<String, u32>::new();
    for message in smtp.received() {
        *told
            .entry(message["to"][0].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    // Every member affected, once (canaries are never told).
    assert_eq!(told.len(), 60, "{told:?}");
    assert!(
        told.values().all(|count| *count == 1),
        "a notice went out twice: {told:?}"
    );
    let progress = env.ok(&["notify", "status", "1", "--json"]).json();
    assert_eq!(progress["sent"], 60, "{progress}");
    env.ok(&["audit", "verify"]);
}

#[test]
fn the_chain_s_end_is_kept_in_the_database_and_a_cut_is_refused() {
    let env = Env::new_postgres();
    env.ok(&["supplier", "add", "Mailing House", "--role", "processor"]);
    env.ok(&["supplier", "add", "Printer", "--role", "processor"]);
    assert!(
        !env.dir().join("audit.head").exists(),
        "several machines share the database, not a directory"
    );
    // The table refuses a plain deletion.
    let refused = custody_testdb::server().execute(
        env.database.as_deref().unwrap(),
        "DELETE FROM audit WHERE seq = 3",
    );
    assert!(refused.is_err(), "{refused:?}");
    // The database's owner turns the triggers off and cuts the tail.
    env.tamper("DELETE FROM audit WHERE seq = 3");
    let blocked = env.fails(&["supplier", "add", "Telephony", "--role", "processor"], 1);
    assert!(blocked.contains("audit chain was cut"), "{blocked}");
    assert!(blocked.contains("the database's audit head"), "{blocked}");
    let verified = env.run(&["audit", "verify", "--json"]);
    assert_eq!(verified.code, 1, "{}", verified.stdout);
    assert_eq!(verified.json()["first_bad"], 3);
    // On an intact ledger, a record forged without the key is refused too.
    let fresh = Env::new_postgres();
    fresh.ok(&["supplier", "add", "Mailing House", "--role", "processor"]);
    fresh.ok(&["audit", "verify"]);
    fresh.tamper("UPDATE audit_head SET record = replace(record, 'mac ', 'mac 0')");
    let refused = fresh.fails(&["supplier", "add", "Printer", "--role", "processor"], 1);
    assert!(refused.contains("MAC does not match"), "{refused}");
    assert_eq!(fresh.run(&["audit", "verify"]).code, 1);
    // The log and its record emptied together, by the database's owner: still found.
    let emptied = Env::new_postgres();
    emptied.ok(&["supplier", "add", "Mailing House", "--role", "processor"]);
    emptied.tamper("DELETE FROM audit; DELETE FROM audit_head;");
    let refused = emptied.fails(&["supplier", "add", "Printer", "--role", "processor"], 1);
    assert!(
        refused.contains("audit log and the record of its end are empty"),
        "{refused}"
    );
    let verified = emptied.run(&["audit", "verify", "--json"]);
    assert_eq!(verified.code, 1, "{}", verified.stdout);
}

#[test]
fn init_refuses_a_password_in_the_url_a_ledger_already_there_and_a_database_it_cannot_reach() {
    let server = custody_testdb::server();
    let bare = Env::bare();
    let url = server.tcp_database("refusals");
    let with_password = url.replace("custody@", &format!("custody:{}@", custody_testdb::PASSWORD));
    let said = bare.fails(&["init", "--database", &with_password], 1);
    assert!(said.contains("password"), "{said}");
    assert!(
        !said.contains(custody_testdb::PASSWORD),
        "the password is never repeated: {said}"
    );
    assert!(!bare.dir().exists(), "nothing was written");
    // A ledger there already.
    bare.ok(&["init", "--database", &url]);
    let again = Env::bare();
    let said = again.fails(&["init", "--database", &url], 1);
    assert!(said.contains("holds a custody ledger already"), "{said}");
    assert!(!again.dir().exists(), "nothing was written");
    // Nothing listening.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let said = again.fails(
        &[
            "init",
            "--database",
            &format!("postgresql://custody@127.0.0.1:{closed}/none"),
        ],
        1,
    );
    assert!(said.contains("cannot reach"), "{said}");
    assert!(!again.dir().exists(), "nothing was written");
}

#[test]
fn a_failure_is_logged_with_its_cause_under_the_id_the_page_shows() {
    let env = Env::new_postgres();
    add_user(&env, "dpo", "admin");
    let settings = env.dir().join("settings.toml");
    let mut text = std::fs::read_to_string(&settings).unwrap();
    text.push_str("\n[desk]\nlog_format = \"json\"\n");
    std::fs::write(&settings, text).unwrap();
    let server = DeskServer::start(&env);
    let session = server.sign_in("dpo", PASSWORD);
    let fine = session.get(&server, "/incidents");
    assert_eq!(fine.status, 200);
    assert_eq!(fine.header("x-request-id").map(str::len), Some(16));
    // The database drops the desk's connections (a restart, a failover).
    custody_testdb::server()
        .execute(
            "postgres",
            &format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}' \
                 AND pid <> pg_backend_pid()",
                env.database.as_deref().unwrap()
            ),
        )
        .unwrap();
    let failed = session.get(&server, "/incidents");
    assert_eq!(failed.status, 500, "{}", failed.body);
    let id = failed.header("x-request-id").unwrap().to_owned();
    assert!(failed.body.contains(&format!("request {id}")), "{}", failed.body);
    // The log says what failed, as JSON, under that id; no session or token in it.
    let log = server.log_text();
    let line = log
        .lines()
        .filter(|line| line.contains(&id))
        .find(|line| line.contains("could not answer"))
        .unwrap_or_else(|| panic!("no line for request {id}:\n{log}"));
    let entry: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(entry["level"], "ERROR", "{entry}");
    assert_eq!(entry["fields"]["kind"], "store", "{entry}");
    let cause = entry["fields"]["cause"].as_str().unwrap();
    assert!(
        cause.starts_with("database: ") && cause.len() > "database: ".len() + 5,
        "the database's own words: {entry}"
    );
    assert!(
        !log.contains(&session.cookie),
        "the session id never reaches the log"
    );
    // No broken connection is used again: the next requests are answered.
    for _ in 0..3 {
        let again = session.get(&server, "/incidents");
        assert_eq!(again.status, 200, "{}", again.body);
    }
}
