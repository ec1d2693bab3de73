//! The desk's small doors, tried as the attacks they stop: a viewer harvesting people's
//! categories, a script pulling reports, oversized bodies and texts.

use serde_json::json;

use crate::desk_support::{DeskServer, demo_env, demo_person};
use crate::support::Env;

fn token<'a>(tokens: &'a [(String, String)], role: &str) -> &'a str {
    &tokens.iter().find(|(name, _)| name == role).unwrap().1
}

fn audit_lines(env: &Env) -> Vec<serde_json::Value> {
    env.ok(&["audit", "export"])
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// Appends a `[desk]` table to the data directory's settings.
fn desk_settings(env: &Env, table: &str) {
    let path = env.dir().join("settings.toml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(&format!("\n[desk]\n{table}\n"));
    std::fs::write(&path, text).unwrap();
}

#[test]
fn harvesting_people_by_email_is_audited_and_stopped_after_a_burst() {
    let (env, tokens) = demo_env();
    desk_settings(&env, "lookup_burst = 3\nlookups_per_minute = 1");
    let server = DeskServer::start(&env);
    let (reference, email) = demo_person(&env);
    // A viewer may not look people up at all: for a party, a person's category is an opinion.
    let viewer = server.api(
        "POST",
        "/api/v1/people/lookup",
        Some(token(&tokens, "viewer")),
        Some(json!({ "email": email })),
    );
    assert_eq!(viewer.status, 403);
    let responder = token(&tokens, "responder");
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let reply = server.api(
            "POST",
            "/api/v1/people/lookup",
            Some(responder),
            Some(json!({ "email": email })),
        );
        if reply.status == 429 {
            let retry: u64 = reply.header("retry-after").unwrap().parse().unwrap();
            assert!((1..=60).contains(&retry), "{retry}");
        }
        statuses.push(reply.status);
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429, 429]);
    let by_ref = server.api(
        "GET",
        &format!("/api/v1/people/{reference}"),
        Some(responder),
        None,
    );
    assert_eq!(by_ref.status, 429, "one budget for every way of looking");
    let audit = audit_lines(&env);
    let views: Vec<&serde_json::Value> = audit
        .iter()
        .filter(|entry| entry["action"] == "person.view")
        .collect();
    assert_eq!(views.len(), 3, "each look that was answered is an entry");
    for view in &views {
        assert_eq!(view["actor"], "api:t-responder");
        assert_eq!(view["subject"], format!("person:{reference}"));
        let details: serde_json::Value = serde_json::from_str(view["details"].as_str().unwrap()).unwrap();
        assert_eq!(details["by"], "email");
        assert!(
            details["asked"].as_str().unwrap().starts_with("email-hash:"),
            "{details}"
        );
    }
    let refusals: Vec<&serde_json::Value> = audit
        .iter()
        .filter(|entry| entry["action"] == "desk.rate_limited")
        .collect();
    assert_eq!(
        refusals.len(),
        1,
        "the first refusal of a run is audited, not every one"
    );
    assert_eq!(refusals[0]["actor"], "api:t-responder");
    let whole = env.ok(&["audit", "export"]).stdout;
    assert!(
        !whole.contains(&email) && !whole.contains(&email.to_lowercase()),
        "no address in the audit log"
    );
    // Another account keeps its own budget.
    let admin = server.api(
        "GET",
        &format!("/api/v1/people/{reference}"),
        Some(token(&tokens, "admin")),
        None,
    );
    assert_eq!(admin.status, 200);
}

#[test]
fn a_look_from_the_cli_and_a_miss_are_audited_too() {
    let (env, _tokens) = demo_env();
    let (reference, _) = demo_person(&env);
    env.ok(&["person", "show", &reference]);
    env.fails(&["person", "show", "NO-SUCH-REF"], 1);
    let audit = audit_lines(&env);
    let views: Vec<&serde_json::Value> = audit
        .iter()
        .filter(|entry| entry["action"] == "person.view")
        .collect();
    assert_eq!(views.len(), 2);
    assert!(views[0]["actor"].as_str().unwrap().starts_with("cli:"));
    assert_eq!(views[0]["subject"], format!("person:{reference}"));
    assert_eq!(views[1]["subject"], "people");
    assert!(views[1]["details"].as_str().unwrap().contains("\"found\":false"));
}

#[test]
fn pulling_reports_in_a_loop_is_limited_per_account() {
    let (env, tokens) = demo_env();
    desk_settings(&env, "download_burst = 2\ndownloads_per_minute = 1");
    let server = DeskServer::start(&env);
    let viewer = token(&tokens, "viewer");
    let statuses: Vec<u16> = (0..4)
        .map(|_| {
            server
                .api(
                    "GET",
                    "/api/v1/incidents/1/report?format=json",
                    Some(viewer),
                    None,
                )
                .status
        })
        .collect();
    assert_eq!(statuses, [200, 200, 429, 429]);
    let audit = audit_lines(&env);
    let reports = audit
        .iter()
        .filter(|entry| entry["action"] == "report.generate")
        .count();
    assert_eq!(reports, 2, "refused downloads add no report entry");
}

#[test]
fn an_oversized_body_or_text_is_refused_before_it_reaches_the_incident() {
    let (env, tokens) = demo_env();
    let server = DeskServer::start(&env);
    let responder = token(&tokens, "responder");
    let before = audit_lines(&env).len();
    let huge = json!({ "kind": "note", "text": "x".repeat(1_900_000) });
    let reply = server.api(
        "POST",
        "/api/v1/incidents/1/timeline",
        Some(responder),
        Some(huge),
    );
    assert_eq!(reply.status, 413, "{}", reply.body);
    let long = json!({ "kind": "note", "text": "x".repeat(custody_core::LONG_TEXT_CHARS_MAX + 1) });
    let reply = server.api(
        "POST",
        "/api/v1/incidents/1/timeline",
        Some(responder),
        Some(long),
    );
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(
        reply.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("at most"),
        "{}",
        reply.body
    );
    assert_eq!(audit_lines(&env).len(), before, "nothing written");
    let fine = json!({ "kind": "note", "text": "Called the supplier's incident line." });
    let reply = server.api(
        "POST",
        "/api/v1/incidents/1/timeline",
        Some(responder),
        Some(fine),
    );
    assert!(reply.status < 300, "{} {}", reply.status, reply.body);
}

/// Reads from `stream` until it closes or `deadline`; what was read, and whether it closed.
fn read_until_closed(stream: &mut std::net::TcpStream, deadline: std::time::Instant) -> (String, bool) {
    use std::io::Read;
    let mut got = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return (String::from_utf8_lossy(&got).into_owned(), false);
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buffer) {
            Ok(0) => return (String::from_utf8_lossy(&got).into_owned(), true),
            Ok(read) => got.extend_from_slice(&buffer[..read]),
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => {
                return (String::from_utf8_lossy(&got).into_owned(), true);
            }
            Err(_) => return (String::from_utf8_lossy(&got).into_owned(), false),
        }
    }
}

#[test]
fn half_sent_requests_are_cut_off_and_the_desk_keeps_answering() {
    use std::io::Write;
    let (env, tokens) = demo_env();
    desk_settings(
        &env,
        "header_read_seconds = 1\nrequest_seconds = 2\nconnections_max = 8",
    );
    let server = DeskServer::start(&env);
    // Fifty clients send half a request each and then nothing (slow loris), far more than the
    // desk serves at once.
    let mut loris: Vec<std::net::TcpStream> = (0..50)
        .map(|_| {
            let mut stream = std::net::TcpStream::connect(&server.addr).unwrap();
            let _ = stream.write_all(b"GET /sign-in HTTP/1.1\r\nHost: ");
            stream
        })
        .collect();
    // The desk still answers a real request, once the held connections are cut off.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut first = loris.remove(0);
    let (_, closed) = read_until_closed(&mut first, deadline);
    assert!(closed, "a client that never finishes its headers is cut off");
    let answered = server.get("/sign-in", &[]);
    assert_eq!(answered.status, 200);
    // A body trickled in is stopped with 408.
    let mut slow = std::net::TcpStream::connect(&server.addr).unwrap();
    let head = format!(
        "POST /api/v1/people/lookup HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"email\"",
        server.addr,
        token(&tokens, "responder")
    );
    slow.write_all(head.as_bytes()).unwrap();
    let (reply, _) = read_until_closed(
        &mut slow,
        std::time::Instant::now() + std::time::Duration::from_secs(30),
    );
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
}

#[test]
fn a_request_for_another_host_name_is_refused() {
    let (env, _) = demo_env();
    let server = DeskServer::start(&env);
    let rebound = server.send("GET", "/sign-in", &[("Host", "attacker.example".to_owned())], b"");
    // The client sends its own Host first; a second one makes the request ambiguous either way.
    assert_eq!(rebound.status, 400, "two Host headers");
    let port = server.addr.rsplit(':').next().unwrap();
    let by_name =
        crate::desk_support::request_with_host(&server.addr, &format!("localhost:{port}"), "/sign-in");
    assert_eq!(by_name.status, 200);
    let other = crate::desk_support::request_with_host(&server.addr, "attacker.example", "/sign-in");
    assert_eq!(other.status, 421, "{}", other.body);
    assert!(server.log_text().contains("another host name"));
}

#[test]
fn the_audit_page_shows_the_latest_checkpoint_and_viewers_see_no_people_link() {
    let (env, tokens) = demo_env();
    let server = DeskServer::start(&env);
    let viewer = server.sign_in("viewer", crate::desk_support::PASSWORD);
    let page = viewer.get(&server, "/audit").body;
    assert!(page.contains("No checkpoint has been taken"), "{page}");
    assert!(
        !page.contains("href=\"/people\""),
        "a viewer is not offered people"
    );
    let checkpoint = env.root.path().join("checkpoint.json");
    env.ok(&["audit", "anchor", "--out", Env::path_str(&checkpoint)]);
    let anchored: serde_json::Value = serde_json::from_slice(&std::fs::read(&checkpoint).unwrap()).unwrap();
    let page = viewer.get(&server, "/audit").body;
    assert!(page.contains(&format!("at entry {}", anchored["seq"])), "{page}");
    let api = server
        .api("GET", "/api/v1/audit", Some(token(&tokens, "viewer")), None)
        .json();
    assert_eq!(api["latest_anchor"]["seq"], anchored["seq"]);
}

#[test]
fn a_cut_audit_chain_stops_every_change_at_the_desk_and_says_why() {
    let (env, tokens) = demo_env();
    let server = DeskServer::start(&env);
    let newest = env.query_number("SELECT max(seq) FROM audit");
    env.tamper(&format!("DELETE FROM audit WHERE seq = {newest}"));
    let entry = json!({ "kind": "note", "text": "Called the supplier." });
    let reply = server.api(
        "POST",
        "/api/v1/incidents/1/timeline",
        Some(token(&tokens, "responder")),
        Some(entry),
    );
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert!(
        reply.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("audit chain was cut"),
        "{}",
        reply.body
    );
    let count = env.query_number("SELECT count(*) FROM audit");
    assert_eq!(count, newest - 1, "nothing written");
}
