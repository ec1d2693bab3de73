//! The JSON API: what it answers matches the CLI, what it changes is audited with the token.

use serde_json::json;

use crate::desk_support::{DeskServer, demo_env, demo_person, encode};

fn token<'a>(tokens: &'a [(String, String)], role: &str) -> &'a str {
    &tokens.iter().find(|(name, _)| name == role).unwrap().1
}

#[test]
fn the_api_answers_as_the_cli_does_and_audits_what_it_changes() {
    let (env, tokens) = demo_env();
    let server = DeskServer::start(&env);
    let viewer = token(&tokens, "viewer");
    let responder = token(&tokens, "responder");

    // The incidents, and one with its clocks, impact and timeline.
    let list = server.api("GET", "/api/v1/incidents", Some(viewer), None);
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(list.json()["incidents"][0]["incident"], 1);
    let cli = env.ok(&["incident", "show", "1", "--json"]).json();
    let incident = server
        .api("GET", "/api/v1/incidents/1", Some(viewer), None)
        .json();
    assert_eq!(incident["impact"]["people"], cli["impact"]["people"]);
    assert!(incident["impact"]["people"].as_u64().unwrap() > 0);
    for (desk, cli) in incident["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .zip(cli["clocks"].as_array().unwrap())
    {
        for field in ["name", "state", "due", "done_at"] {
            assert_eq!(desk[field], cli[field], "clock {field}");
        }
    }
    assert_eq!(incident["clocks"].as_array().unwrap().len(), 3);
    let entries_before = incident["timeline"].as_array().unwrap().len();

    // A responder adds a timeline entry; a viewer may not; a bad kind is refused with a reason.
    let entry = json!({ "kind": "contact", "text": "Spoke to the supplier's DPO", "with": "supplier" });
    let refused = server.api(
        "POST",
        "/api/v1/incidents/1/timeline",
        Some(viewer),
        Some(entry.clone()),
    );
    assert_eq!(refused.status, 403);
    let bad = server.api(
        "POST",
        "/api/v1/incidents/1/timeline",
        Some(responder),
        Some(json!({ "kind": "gossip", "text": "x" })),
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert_eq!(bad.json()["error"]["code"], "malformed_body", "{}", bad.body);
    assert_eq!(bad.json()["error"]["field"], "kind", "{}", bad.body);
    assert!(
        bad.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("\"gossip\" is not one of note, decision, contact, update"),
        "{}",
        bad.body
    );
    let unknown_field = server.api(
        "POST",
        "/api/v1/incidents/1/timeline",
        Some(responder),
        Some(json!({ "kind": "note", "text": "x", "colour": "red" })),
    );
    assert_eq!(unknown_field.status, 400, "{}", unknown_field.body);
    let added = server.api(
        "POST",
        "/api/v1/incidents/1/timeline",
        Some(responder),
        Some(entry),
    );
    assert_eq!(added.status, 201, "{}", added.body);
    let timeline = server
        .api("GET", "/api/v1/incidents/1", Some(viewer), None)
        .json()["timeline"]
        .clone();
    let timeline = timeline.as_array().unwrap();
    assert_eq!(timeline.len(), entries_before + 1);
    let last = timeline.last().unwrap();
    assert!(
        last["summary"]
            .as_str()
            .unwrap()
            .contains("Spoke to the supplier's DPO"),
        "{last}"
    );
    assert_eq!(last["actor"], "api:t-responder");
    let audit = server.api("GET", "/api/v1/audit", Some(viewer), None).json();
    assert_eq!(audit["verification"]["intact"], true);
    assert!(
        audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|entry| entry["actor"] == "api:t-responder"),
        "the change is audited with the token's name"
    );

    // Holdings on a date and a person's recipients, as the CLI gives them.
    let supplier = encode("Example Membership Services");
    let at = "2021-10-29T18:30:00+01:00";
    let holdings = server.api(
        "GET",
        &format!("/api/v1/suppliers/{supplier}/holdings?at={}", encode(at)),
        Some(viewer),
        None,
    );
    assert_eq!(holdings.status, 200, "{}", holdings.body);
    let cli = env
        .ok(&[
            "holdings",
            "--supplier",
            "Example Membership Services",
            "--at",
            at,
            "--json",
        ])
        .json();
    assert_eq!(holdings.json()["people"], cli["people"]);
    assert_eq!(holdings.json()["categories"], cli["categories"]);
    let bad_date = server.api(
        "GET",
        &format!("/api/v1/suppliers/{supplier}/holdings?at=yesterday"),
        Some(viewer),
        None,
    );
    assert_eq!(bad_date.status, 400);
    let (reference, email) = demo_person(&env);
    let refused = server.api("GET", &format!("/api/v1/people/{reference}"), Some(viewer), None);
    assert_eq!(refused.status, 403, "a viewer sees no person");
    let person = server.api(
        "GET",
        &format!("/api/v1/people/{reference}"),
        Some(responder),
        None,
    );
    assert_eq!(person.status, 200, "{}", person.body);
    let cli = env.ok(&["person", "show", &reference, "--json"]).json();
    assert_eq!(person.json()["recipients"], cli["recipients"]);
    let by_email = server.api(
        "POST",
        "/api/v1/people/lookup",
        Some(responder),
        Some(json!({ "email": email.to_uppercase() })),
    );
    assert_eq!(by_email.status, 200, "{}", by_email.body);
    assert_eq!(by_email.json()["ref"], reference.as_str());
    let nobody = server.api("GET", "/api/v1/people/NO-SUCH-REF", Some(responder), None);
    assert_eq!(nobody.status, 404);

    // Recording that the people were told stops their clock (late, in the demo); a viewer may not.
    let act = json!({ "act": "people_notified", "reference": "notices sent by post" });
    assert_eq!(
        server
            .api(
                "POST",
                "/api/v1/incidents/1/acts",
                Some(viewer),
                Some(act.clone())
            )
            .status,
        403
    );
    let recorded = server.api("POST", "/api/v1/incidents/1/acts", Some(responder), Some(act));
    assert_eq!(recorded.status, 201, "{}", recorded.body);
    let people_clock = recorded.json()["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|clock| clock["name"] == "people")
        .unwrap()
        .clone();
    assert!(people_clock["done_at"].is_string(), "{people_clock}");
    assert_eq!(people_clock["state"], "missed");
    let future = server.api(
        "POST",
        "/api/v1/incidents/1/acts",
        Some(responder),
        Some(json!({ "act": "people_notified", "at": "2099-01-01T00:00:00Z" })),
    );
    assert_eq!(future.status, 409, "{}", future.body);

    // A share as the command line lists it.
    let listed = env.ok(&["share", "list", "--json"]).json();
    let first = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|share| share["share"] == 1)
        .unwrap()
        .clone();
    assert_eq!(
        server.api("GET", "/api/v1/shares/1", Some(viewer), None).json(),
        first
    );
    assert_eq!(
        server
            .api("GET", "/api/v1/shares/999999", Some(viewer), None)
            .status,
        404
    );

    // The report downloads in each format; the description lists the routes.
    for (format, kind) in [
        ("md", "text/markdown"),
        ("html", "text/html"),
        ("json", "application/json"),
    ] {
        let report = server.api(
            "GET",
            &format!("/api/v1/incidents/1/report?format={format}&phase=follow-up"),
            Some(viewer),
            None,
        );
        assert_eq!(report.status, 200, "{format}: {}", report.body);
        assert!(
            report.header("content-type").unwrap().starts_with(kind),
            "{format}"
        );
        assert!(report.body.contains("Example Membership Services"), "{format}");
        if format == "json" {
            assert_eq!(report.json()["incident"], 1);
        }
    }
    let report = server.api("GET", "/api/v1/incidents/1/report?format=md", Some(viewer), None);
    assert_eq!(report.status, 200);
    assert!(
        report
            .header("content-disposition")
            .unwrap()
            .contains("incident-1-initial-report.md")
    );
    assert!(report.body.contains("Example Membership Services"));
    let spec = server.api("GET", "/api/v1/openapi.json", None, None).json();
    assert_eq!(spec["openapi"], "3.1.0");
    assert!(spec["paths"]["/api/v1/suppliers/{name}/holdings"]["get"].is_object());

    // An admin registers a supplier; a responder may not.
    let supplier = json!({ "name": "Example Survey Panel", "notice_hours": 24 });
    assert_eq!(
        server
            .api(
                "POST",
                "/api/v1/suppliers",
                Some(responder),
                Some(supplier.clone())
            )
            .status,
        403
    );
    let made = server.api(
        "POST",
        "/api/v1/suppliers",
        Some(token(&tokens, "admin")),
        Some(supplier.clone()),
    );
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(made.json()["notice_hours"], 24);
    let again = server.api(
        "POST",
        "/api/v1/suppliers",
        Some(token(&tokens, "admin")),
        Some(supplier),
    );

    // Holdings answers are kept only while the ledger is unchanged: a share recorded from the
    // command line shows at once.
    let path = format!(
        "/api/v1/suppliers/{}/holdings?at=2025-01-01T00:00:00Z",
        encode("Example Survey Panel")
    );
    assert_eq!(server.api("GET", &path, Some(viewer), None).json()["people"], 0);
    assert_eq!(server.api("GET", &path, Some(viewer), None).json()["people"], 0);
    let crm = std::fs::read_to_string(env.dir().join("files").join("crm-export.csv")).unwrap();
    let sent: String = crm
        .lines()
        .take(4)
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            format!("{},{}\n", fields[0], fields[3])
        })
        .collect();
    let file = env.write("panel.csv", sent);
    env.ok(&[
        "share",
        "record",
        "--supplier",
        "Example Survey Panel",
        "--purpose",
        "survey",
        "--at",
        "2024-01-01 00:00",
        file.to_str().unwrap(),
    ]);
    assert_eq!(server.api("GET", &path, Some(viewer), None).json()["people"], 3);
    assert_eq!(again.status, 409, "{}", again.body);

    // A revoked token is refused at once.
    env.ok(&["token", "revoke", "t-viewer"]);
    assert_eq!(
        server.api("GET", "/api/v1/incidents", Some(viewer), None).status,
        401
    );
}

#[test]
fn the_rights_desk_in_the_api_reads_for_viewers_and_acts_for_responders() {
    let (env, tokens) = demo_env();
    let (reference, _) = demo_person(&env);
    let server = DeskServer::start(&env);
    let viewer = token(&tokens, "viewer");
    let responder = token(&tokens, "responder");
    let queue = server.api("GET", "/api/v1/requests", Some(viewer), None);
    assert_eq!(queue.status, 200, "{}", queue.body);
    let before = queue.json()["requests"].as_array().unwrap().len();
    assert!(before > 0, "the demo's inbox is in the queue");
    let overdue = server
        .api(
            "GET",
            "/api/v1/requests?overdue=true&limit=500",
            Some(viewer),
            None,
        )
        .json();
    let overdue = overdue["requests"].as_array().unwrap().clone();
    assert!(!overdue.is_empty(), "the demo's inbox has overdue requests");
    assert!(
        overdue.iter().all(|request| request["clock"] == "overdue"),
        "only the overdue: {overdue:?}"
    );
    let ids: Vec<i64> = overdue
        .iter()
        .map(|request| request["request"].as_i64().unwrap())
        .collect();
    assert!(
        ids.windows(2).all(|pair| pair[0] > pair[1]),
        "newest first: {ids:?}"
    );

    let log = json!({ "person": reference, "kind": "erasure", "received_at": "2021-12-31 23:00" });
    assert_eq!(
        server
            .api("POST", "/api/v1/requests", Some(viewer), Some(log.clone()))
            .status,
        403
    );
    let bad = server.api(
        "POST",
        "/api/v1/requests",
        Some(responder),
        Some(json!({ "person": reference, "kind": "forgetting", "received_at": "2021-12-31 23:00" })),
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
    let opened = server.api("POST", "/api/v1/requests", Some(responder), Some(log));
    assert_eq!(opened.status, 201, "{}", opened.body);
    let id = opened.json()["request"].as_i64().unwrap();
    assert_eq!(opened.json()["awaiting_decision"], true);
    // 31 December 2021 + one month is Monday 31 January 2022.
    assert_eq!(opened.json()["due"], "2022-01-31");

    let path = format!("/api/v1/requests/{id}/act");
    let refused = server.api(
        "POST",
        &path,
        Some(responder),
        Some(json!({ "action": "decide", "decision": "refuse", "ground": "because", "reason": "x" })),
    );
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("legal-claims"),
        "{}",
        refused.body
    );
    let decided = server.api(
        "POST",
        &path,
        Some(responder),
        Some(
            json!({ "action": "decide", "decision": "refuse", "ground": "legal-claims",
            "reason": "A claim about this membership is before the county court." }),
        ),
    );
    assert_eq!(decided.status, 201, "{}", decided.body);
    assert_eq!(decided.json()["now"]["state"], "refused_on_review");
    let shown = server.api("GET", &format!("/api/v1/requests/{id}"), Some(viewer), None);
    assert_eq!(shown.json()["decision"]["ground"], "legal-claims");
    let answer = server.api(
        "GET",
        &format!("/api/v1/requests/{id}/answer?format=md"),
        Some(responder),
        None,
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(
        answer.body.contains("We have decided not to erase your data"),
        "{}",
        answer.body
    );
    let audit = env.ok(&["audit", "export"]).stdout;
    assert!(
        audit.contains("api:t-responder") && audit.contains("request.decide"),
        "audited with the token"
    );
    assert_eq!(
        server.api("GET", "/api/v1/retention", Some(viewer), None).status,
        200
    );
    // A portability file carries only what custody holds; the DPO's note travels beside it.
    let port = json!({ "person": reference, "kind": "portability", "received_at": "2021-12-31 23:00" });
    let port = server.api("POST", "/api/v1/requests", Some(responder), Some(port));
    let port = port.json()["request"].as_i64().unwrap();
    let file = server.api(
        "GET",
        &format!("/api/v1/requests/{port}/answer"),
        Some(responder),
        None,
    );
    assert_eq!(file.status, 200, "{}", file.body);
    assert_eq!(file.json()["format"], "custody-portability/1");
    assert!(!file.body.contains("membership system"));
    assert!(
        file.header("custody-warning")
            .unwrap_or("")
            .contains("membership system"),
        "{:?}",
        file.header("custody-warning")
    );
}

#[test]
fn the_rights_pages_log_upload_and_act_and_bad_input_changes_nothing() {
    let (env, _) = demo_env();
    let (reference, _) = demo_person(&env);
    let server = DeskServer::start(&env);
    let responder = server.sign_in("responder", crate::desk_support::PASSWORD);
    let viewer = server.sign_in("viewer", crate::desk_support::PASSWORD);
    let count = || {
        env.ok(&["request", "list", "--json"])
            .json()
            .as_array()
            .unwrap()
            .len()
    };
    let before = count();

    // A backlog with a bad row: the error names the file and line, and nothing is recorded.
    let bad =
        "Received,From,Type\n2021-12-01 10:00,a@example.org,access\n2021-12-02 25:00,b@example.org,access\n";
    let reply = responder.post(
        &server,
        "/requests/import",
        &[("file_name", "inbox.csv"), ("csv", bad)],
    );
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.body.contains("inbox.csv, line 3"), "{}", reply.body);
    assert!(
        !reply.body.contains(".tmp"),
        "the upload's place is not shown: {}",
        reply.body
    );
    assert_eq!(count(), before);
    let good = "Received,From,Type\n2021-12-01 10:00,a@example.org,access\n";
    let reply = responder.post(
        &server,
        "/requests/import",
        &[("file_name", "inbox.csv"), ("csv", good)],
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.contains("Recorded 1 requests"), "{}", reply.body);
    assert_eq!(count(), before + 1);

    // Logging: a viewer may not; a responder may; a bad date is a clear error.
    let fields = [
        ("person", reference.as_str()),
        ("kind", "access"),
        ("received_at", "2021-12-20T10:00"),
    ];
    assert_eq!(viewer.post(&server, "/requests", &fields).status, 403);
    let reply = responder.post(
        &server,
        "/requests",
        &[
            ("person", &reference),
            ("kind", "access"),
            ("received_at", "yesterday"),
        ],
    );
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.body.contains("received at"), "{}", reply.body);
    let reply = responder.post(&server, "/requests", &fields);
    assert_eq!(reply.status, 303, "{}", reply.body);
    let location = reply.header("location").unwrap().to_owned();
    let id = location.rsplit('/').next().unwrap().to_owned();

    // A resume before any pause is refused on the page and writes nothing.
    let act = format!("/requests/{id}/act");
    let reply = responder.post(&server, &act, &[("action", "resume"), ("at", "2021-12-21T10:00")]);
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.body.contains("not paused"), "{}", reply.body);
    let reply = responder.post(
        &server,
        &act,
        &[
            ("action", "pause"),
            ("at", "2021-12-21T10:00"),
            ("reason", "clarification"),
            ("note", "Which branch?"),
        ],
    );
    assert_eq!(reply.status, 303, "{}", reply.body);
    let page = viewer.get(&server, &location);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Which branch?"), "{}", page.body);
    assert!(!page.body.contains("id=\"pause-form\""), "viewers see no forms");
    let shown = env.ok(&["request", "show", &id, "--json"]).json();
    assert_eq!(shown["clock"], "paused");
}

/// Every refusal under `/api/` is JSON in one shape, the framework's own included, and the lists
/// that grow come a page at a time.
#[test]
fn every_api_error_is_json_in_one_shape_and_lists_come_in_pages() {
    let (env, tokens) = demo_env();
    let server = DeskServer::start(&env);
    let viewer = token(&tokens, "viewer");
    let responder = token(&tokens, "responder");
    let bearer = |token: &str| vec![("Authorization", format!("Bearer {token}"))];
    let shape = |reply: &crate::desk_support::Reply, status: u16, code: &str| {
        assert_eq!(reply.status, status, "{}", reply.body);
        let error = &reply.json()["error"];
        assert_eq!(error["code"], code, "{}", reply.body);
        assert!(
            error["message"].as_str().is_some_and(|text| !text.is_empty()),
            "{}",
            reply.body
        );
        assert!(
            error.get("field").is_some(),
            "field is always there: {}",
            reply.body
        );
    };

    // A path id that is not a number: named, in JSON, as typed.
    let bad_path = server.get("/api/v1/incidents/%C3%AE%C2%BB", &bearer(viewer));
    shape(&bad_path, 400, "malformed_path");
    assert_eq!(bad_path.json()["error"]["field"], "id");
    assert!(
        bad_path.body.contains("\\\"î»\\\""),
        "shown as typed: {}",
        bad_path.body
    );
    // A method the route does not take, with the methods it does (once the token may use the
    // route at all).
    let patch = server.send("PATCH", "/api/v1/incidents", &bearer(responder), b"");
    shape(&patch, 405, "method_not_allowed");
    let allow = patch.header("allow").unwrap_or_default();
    assert_eq!(allow, "GET, HEAD, POST", "{}", patch.body);
    // No route, a body that is not JSON, a body in another media type, a bad query.
    shape(
        &server.get("/api/v1/nothing-here", &bearer(viewer)),
        404,
        "no_route",
    );
    let mut as_json = bearer(responder);
    as_json.push(("Content-Type", "application/json".to_owned()));
    let not_json = server.send("POST", "/api/v1/incidents/1/timeline", &as_json, b"{\"kind\":");
    shape(&not_json, 400, "malformed_body");
    let mut as_text = bearer(responder);
    as_text.push(("Content-Type", "text/plain".to_owned()));
    let text = server.send("POST", "/api/v1/incidents/1/timeline", &as_text, b"{}");
    shape(&text, 415, "unsupported_media_type");
    let query = server.get("/api/v1/incidents?limit=0", &bearer(viewer));
    shape(&query, 400, "malformed_query");
    assert_eq!(query.json()["error"]["field"], "limit");
    // Blank where a value is needed is refused by the document's own rule, with the field.
    let blank = server.api(
        "POST",
        "/api/v1/incidents/1/timeline",
        Some(responder),
        Some(json!({ "kind": "note", "text": "   " })),
    );
    shape(&blank, 400, "malformed_body");
    assert_eq!(blank.json()["error"]["field"], "text");
    // Well formed, but the rules refuse it given what is recorded: 409.
    let future = server.api(
        "POST",
        "/api/v1/incidents/1/acts",
        Some(responder),
        Some(json!({ "act": "people_notified", "at": "2999-01-01T00:00:00Z" })),
    );
    shape(&future, 409, "refused");
    // A value that cannot be read as what it says it is: 422.
    let backlog = server.api(
        "POST",
        "/api/v1/requests/import",
        Some(responder),
        Some(json!({ "csv": "not,a,backlog\n1,2,3\n" })),
    );
    assert_eq!(backlog.status, 422, "{}", backlog.body);
    shape(
        &server.api("GET", "/api/v1/incidents/999999", Some(viewer), None),
        404,
        "not_found",
    );
    shape(
        &server.api("GET", "/api/v1/incidents", None, None),
        401,
        "unauthenticated",
    );

    // Pages: a timeline of more than one page, walked with its cursor, gives each entry once.
    for n in 0..3 {
        let added = server.api(
            "POST",
            "/api/v1/incidents/1/timeline",
            Some(responder),
            Some(json!({ "kind": "note", "text": format!("page note {n}") })),
        );
        assert_eq!(added.status, 201, "{}", added.body);
    }
    let whole = server
        .api(
            "GET",
            "/api/v1/incidents/1/timeline?limit=500",
            Some(viewer),
            None,
        )
        .json();
    let all: Vec<i64> = whole["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["id"].as_i64().unwrap())
        .collect();
    assert!(all.len() > 3 && whole["next"].is_null(), "{whole}");
    let mut walked = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/api/v1/incidents/1/timeline?limit=2&cursor={cursor}"),
            None => "/api/v1/incidents/1/timeline?limit=2".to_owned(),
        };
        let page = server.api("GET", &path, Some(viewer), None).json();
        let ids = page["timeline"].as_array().unwrap();
        assert!(ids.len() <= 2, "{page}");
        walked.extend(ids.iter().map(|entry| entry["id"].as_i64().unwrap()));
        match page["next"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(walked, all, "the pages, in order, are the whole timeline");
    let audit = server
        .api("GET", "/api/v1/audit?limit=2", Some(viewer), None)
        .json();
    let seqs: Vec<i64> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs.len(), 2, "{audit}");
    let next = audit["next"].as_str().unwrap().to_owned();
    let older = server
        .api(
            "GET",
            &format!("/api/v1/audit?limit=2&cursor={next}"),
            Some(viewer),
            None,
        )
        .json();
    let first_older = older["entries"][0]["seq"].as_i64().unwrap();
    assert!(first_older < seqs[1], "the next page is older: {older}");
    let opened = server
        .api("GET", "/api/v1/incidents/1", Some(viewer), None)
        .json();
    assert_eq!(opened["links"]["timeline"], "/api/v1/incidents/1/timeline");
}
