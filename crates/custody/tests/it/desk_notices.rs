//! Telling people from the desk: a responder previews a notice, counts, starts a run against
//! a real mail server and watches it finish, makes the letters and records them posted; a
//! viewer downloads the public statement and can do none of the rest.

use std::time::{Duration, Instant};

use crate::desk_support::{DeskServer, PASSWORD, demo_env};
use crate::support::SmtpServer;

/// Polls the API until the run started from the desk has ended; its final answer.
fn finished_run(server: &DeskServer, token: &str) -> serde_json::Value {
    let started = Instant::now();
    loop {
        let status = server
            .api("GET", "/api/v1/incidents/1/notifications", Some(token), None)
            .json();
        if status["run"]["running"] == false {
            return status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the run did not end: {status}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_responder_tells_people_from_the_desk_and_a_viewer_only_reads() {
    let (env, tokens) = demo_env();
    let token = |role: &str| tokens.iter().find(|(name, _)| name == role).unwrap().1.clone();
    let mail = SmtpServer::start(env.root.path(), 0);
    let server = DeskServer::start_with_vars(&env, &[], &mail.env());
    let responder = server.sign_in("responder", PASSWORD);
    let viewer = server.sign_in("viewer", PASSWORD);

    let preview = responder.get(&server, "/incidents/1/notice");
    assert_eq!(preview.status, 200, "{}", preview.body);
    let (reference, _) = crate::desk_support::demo_person(&env);
    let chosen = responder.post(&server, "/incidents/1/notice", &[("person", reference.as_str())]);
    assert!(
        chosen.body.contains(&format!("The notice to {reference}")),
        "{}",
        chosen.body
    );
    assert!(
        preview.body.contains("id=\"notice-text\"") && preview.body.contains("Dear "),
        "{}",
        preview.body
    );
    assert_eq!(
        viewer.get(&server, "/incidents/1/notice").status,
        403,
        "a viewer sees no person"
    );
    let audit = env.ok(&["audit", "export"]).stdout;
    assert!(
        audit
            .lines()
            .any(|line| line.contains("notice.preview") && line.contains("desk:responder")),
        "the look is audited"
    );

    let counted = responder.post(&server, "/incidents/1/notify", &[("dry_run", "1")]);
    assert_eq!(counted.status, 200, "{}", counted.body);
    assert!(counted.body.contains("Counted, nothing sent"), "{}", counted.body);
    assert!(mail.received().is_empty(), "a count sends nothing");
    let refused = viewer.post(&server, "/incidents/1/notify", &[]);
    assert_eq!(refused.status, 403);

    let unconfirmed = responder.post(&server, "/incidents/1/notify", &[("audience", "affected")]);
    assert!(
        unconfirmed.body.contains("nothing was sent: tick the box"),
        "{}",
        unconfirmed.body
    );
    let started = responder.post(
        &server,
        "/incidents/1/notify",
        &[("audience", "affected"), ("confirm", "on")],
    );
    assert_eq!(started.status, 303, "{}", started.body);
    let status = finished_run(&server, &token("viewer"));
    assert!(status["run"]["error"].is_null(), "{status}");
    assert_eq!(status["run"]["by"], "desk:responder");
    let sent = status["counts"]["sent"].as_u64().unwrap();
    assert!(sent > 100, "{status}");
    assert_eq!(status["run"]["progress"]["sent"].as_u64(), Some(sent), "{status}");
    assert_eq!(
        mail.received().len() as u64,
        sent,
        "every accepted notice reached the server"
    );
    let page = viewer.get(&server, "/incidents/1");
    assert!(page.body.contains("data-state=\"finished\""), "{}", page.body);
    let timeline = env.ok(&["incident", "show", "1", "--json"]).stdout;
    assert!(
        timeline.contains("desk:responder"),
        "the run is on the timeline with who started it"
    );

    // Letters for those the demo has no email address for, as a PDF, then posted.
    assert_eq!(viewer.post(&server, "/incidents/1/letters", &[]).status, 403);
    let letters = responder.post(&server, "/incidents/1/letters", &[]);
    assert_eq!(letters.status, 200, "{}", letters.body);
    assert_eq!(letters.header("content-type"), Some("application/pdf"));
    let pdf = env.root.path().join("desk-letters.pdf");
    std::fs::write(&pdf, &letters.bytes).unwrap();
    let made: u64 = letters
        .header("x-custody-letters")
        .and_then(|said| said.split(' ').next())
        .and_then(|count| count.parse().ok())
        .unwrap();
    assert!(made > 0);
    assert!(
        crate::letters::pages(&pdf) > made,
        "a summary page and a page or more per letter"
    );
    assert!(crate::letters::text(&pdf, 2, 2).contains("Dear "));
    let leftovers: Vec<_> = std::fs::read_dir(env.dir())
        .unwrap()
        .flatten()
        .filter(|entry| entry.file_name().to_string_lossy().contains("letters"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "no copy of the letters stays behind: {leftovers:?}"
    );
    let said = letters.header("x-custody-letters").unwrap();
    let batch = said.rsplit(' ').next().unwrap().to_owned();
    assert_eq!(batch.len(), 64, "{said}");
    assert_eq!(viewer.get(&server, "/incidents/1/letters").status, 403);
    let page = responder.get(&server, "/incidents/1/letters");
    assert!(
        page.body.contains(&batch[..12]),
        "the batch is listed: {}",
        page.body
    );
    let now = crate::support::days_ahead(0);
    let posted = responder.post(
        &server,
        "/incidents/1/letters/posted",
        &[("batch", batch.as_str()), ("posted_at", now.as_str())],
    );
    assert_eq!(posted.status, 200, "{}", posted.body);
    let expected = format!("Recorded {made} letters of batch {} as posted", &batch[..12]);
    assert!(posted.body.contains(&expected), "{}", posted.body);
    let status = server
        .api(
            "GET",
            "/api/v1/incidents/1/notifications",
            Some(&token("viewer")),
            None,
        )
        .json();
    assert_eq!(status["letters"]["posted"].as_u64(), Some(made), "{status}");

    let statement = viewer.get(&server, "/incidents/1/statement/html");
    assert_eq!(statement.status, 200);
    assert!(
        statement
            .header("content-disposition")
            .unwrap()
            .starts_with("attachment")
    );
    assert!(
        statement.body.contains("<html") || statement.body.contains("<h1"),
        "{}",
        statement.body
    );
    env.ok(&["audit", "verify"]);
}

#[test]
fn without_a_mail_server_the_desk_says_what_to_set_and_starts_nothing() {
    let (env, tokens) = demo_env();
    let token = &tokens.iter().find(|(name, _)| name == "responder").unwrap().1;
    let server = DeskServer::start(&env);
    let responder = server.sign_in("responder", PASSWORD);
    let page = responder.post(&server, "/incidents/1/notify", &[("confirm", "on")]);
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("no mail server is configured"),
        "{}",
        page.body
    );
    let api = server.api(
        "POST",
        "/api/v1/incidents/1/notifications",
        Some(token),
        Some(serde_json::json!({ "audience": "everyone" })),
    );
    assert_eq!(api.status, 400, "{}", api.body);
    let status = server
        .api("GET", "/api/v1/incidents/1/notifications", Some(token), None)
        .json();
    assert!(status["run"].is_null(), "no run was started: {status}");
}
