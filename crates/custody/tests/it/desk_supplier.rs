//! The supplier's side of the desk: a supplier's account and token see their own supplier's
//! incidents and shares' metadata, never a person, another supplier, the log or settings.

use crate::desk_support::{DEMO_SUPPLIER, DeskServer, PASSWORD, demo_env, demo_person};
use crate::support::days_ahead;

#[test]
fn a_supplier_sees_its_own_side_and_nothing_of_the_organisations_people() {
    let (env, tokens) = demo_env();
    let (reference, email) = demo_person(&env);
    let server = DeskServer::start(&env);

    let session = server.sign_in("supplier", PASSWORD);
    let home = session.get(&server, "/");
    assert_eq!(home.status, 303);
    assert_eq!(home.header("location"), Some("/supplier"));
    let page = session.get(&server, "/supplier");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(DEMO_SUPPLIER), "{}", page.body);
    assert!(page.body.contains("id=\"side-incidents\""));
    for secret in [reference.as_str(), email.as_str()] {
        assert!(!page.body.contains(secret), "a person on the supplier's page");
    }
    assert!(
        !page.body.contains("href=\"/people\"") && !page.body.contains("href=\"/audit\""),
        "no staff links: {}",
        page.body
    );
    for path in [
        "/incidents",
        "/incidents/1",
        "/people",
        "/audit",
        "/admin/settings",
        "/suppliers",
        "/requests",
    ] {
        assert_eq!(session.get(&server, path).status, 403, "{path}");
    }
    // Its own account page works: a supplier changes its own password.
    assert_eq!(session.get(&server, "/account").status, 200);

    // The token answers the same side, for its supplier and sub-processors only.
    let token = &tokens.iter().find(|(role, _)| role == "supplier").unwrap().1;
    let side = server.api("GET", "/api/v1/supplier", Some(token), None).json();
    assert_eq!(side["supplier"], DEMO_SUPPLIER);
    let mine: Vec<String> = std::iter::once(DEMO_SUPPLIER.to_owned())
        .chain(
            side["sub_processors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|name| name.as_str().unwrap().to_owned()),
        )
        .collect();
    let incidents = side["incidents"].as_array().unwrap();
    assert!(!incidents.is_empty(), "the demo's incident is at {DEMO_SUPPLIER}");
    let shares = side["shares"].as_array().unwrap();
    assert!(!shares.is_empty());
    for item in incidents.iter().chain(shares) {
        assert!(
            mine.contains(&item["supplier"].as_str().unwrap().to_owned()),
            "{item}"
        );
    }
    for share in shares {
        assert!(share.get("people").is_none(), "a share's people: {share}");
    }
    let all = env.ok(&["share", "list", "--json"]).json();
    let others = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|share| !mine.contains(&share["supplier"].as_str().unwrap().to_owned()))
        .count();
    assert!(
        others > 0,
        "the demo has other suppliers' shares, which stay hidden"
    );
    assert_eq!(
        server.api("GET", "/api/v1/incidents/1", Some(token), None).status,
        403
    );

    // Binding is required for a supplier, and refused for staff.
    let unbound = env.fails(&["token", "add", "--name", "x", "--role", "supplier"], 1);
    assert!(unbound.contains("--supplier"), "{unbound}");
    let staff = env.fails(
        &[
            "token",
            "add",
            "--name",
            "y",
            "--role",
            "viewer",
            "--supplier",
            DEMO_SUPPLIER,
        ],
        1,
    );
    assert!(staff.contains("--role supplier only"), "{staff}");
    let listed = env.ok(&["user", "list"]).stdout;
    assert!(
        listed.contains(&format!("supplier of {DEMO_SUPPLIER}")),
        "{listed}"
    );
}

#[test]
fn a_supplier_answers_the_question_at_the_desk_and_its_answer_is_its_statement() {
    let (env, tokens) = demo_env();
    env.ok(&[
        "supplier",
        "contact",
        "add",
        DEMO_SUPPLIER,
        "--email",
        "security@ems.example",
        "--name",
        "Sam Lee",
        "--role",
        "security",
    ]);
    // Asked with the standard questions, due in ten days.
    let asked = env
        .ok(&["incident", "ask", "1", "--due", &days_ahead(10), "--json"])
        .json();
    assert_eq!(asked["supplier"], DEMO_SUPPLIER);
    assert_eq!(asked["questions"].as_array().unwrap().len(), 9);
    let passed = env.fails(&["incident", "ask", "1", "--due", "2001-01-01 12:00"], 1);
    assert!(passed.contains("has passed"), "{passed}");
    let before = env.ok(&["incident", "show", "1", "--json"]).json();
    assert_eq!(before["question"]["state"], "waiting");
    let statements_before = before["statements"].as_array().unwrap().len();

    let server = DeskServer::start(&env);
    // Staff see what was written to the supplier (queued: the test sets no mail server).
    let staff = server.sign_in("viewer", PASSWORD);
    let supplier_page = staff.get(
        &server,
        &format!("/suppliers/{}", DEMO_SUPPLIER.replace(' ', "%20")),
    );
    assert_eq!(supplier_page.status, 200, "{}", supplier_page.body);
    assert!(
        supplier_page.body.contains("security@ems.example</td><td>")
            && supplier_page.body.contains("<td class=\"queued\">queued"),
        "{}",
        supplier_page.body
    );
    let session = server.sign_in("supplier", PASSWORD);
    let page = session.get(&server, "/supplier/incidents/1");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("Which systems were affected?"),
        "{}",
        page.body
    );
    let answered = session.post(
        &server,
        "/supplier/incidents/1/answer",
        &[
            ("text", "Ransomware; a copy of the member table was taken."),
            ("claims_records", "1,100,000"),
            ("claims_categories", "user.name, user.contact.email"),
            ("claims_exfiltration", "yes"),
        ],
    );
    assert_eq!(answered.status, 303, "{}", answered.body);
    let after = env.ok(&["incident", "show", "1", "--json"]).json();
    assert_eq!(after["question"]["state"], "answered");
    let statements = after["statements"].as_array().unwrap();
    assert_eq!(statements.len(), statements_before + 1);
    let newest = statements.last().unwrap();
    assert_eq!(newest["claims"]["records"], 1_100_000);
    let audit = env.ok(&["audit", "export"]).stdout;
    assert!(
        audit
            .lines()
            .any(|line| line.contains("incident.statement") && line.contains("desk:supplier")),
        "the answer is audited with the supplier's account"
    );
    // A bad field changes nothing and says what was wrong.
    let bad = session.post(
        &server,
        "/supplier/incidents/1/answer",
        &[("text", "more"), ("claims_records", "many")],
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
    let unchanged = env.ok(&["incident", "show", "1", "--json"]).json();
    assert_eq!(
        unchanged["statements"].as_array().unwrap().len(),
        statements.len()
    );

    // Another supplier's incident does not exist for it, at the desk or through its token.
    env.ok(&[
        "incident",
        "open",
        "--supplier",
        "Example Hosted CRM",
        "--aware-at",
        "2021-11-01 10:00",
        "--nature",
        "confidentiality",
        "--summary",
        "A leaked backup",
    ]);
    assert_eq!(session.get(&server, "/supplier/incidents/2").status, 404);
    let token = &tokens.iter().find(|(role, _)| role == "supplier").unwrap().1;
    let refused = server.api(
        "POST",
        "/api/v1/supplier/incidents/2/answer",
        Some(token),
        Some(serde_json::json!({ "text": "not ours" })),
    );
    assert_eq!(refused.status, 404, "{}", refused.body);
    let through_api = server.api(
        "POST",
        "/api/v1/supplier/incidents/1/answer",
        Some(token),
        Some(serde_json::json!({ "text": "Contained on 2 November.", "claims_exfiltration": "yes" })),
    );
    assert_eq!(through_api.status, 201, "{}", through_api.body);
}

#[test]
fn a_supplier_reads_incidents_as_they_stand_and_answers_only_its_own() {
    let (env, tokens) = demo_env();
    let token = &tokens.iter().find(|(role, _)| role == "supplier").unwrap().1;
    env.ok(&[
        "incident",
        "amend",
        "1",
        "--summary",
        "Member table copied out by ransomware",
        "--reason",
        "The supplier's statement of 12 November",
    ]);
    // A sub-processor it engaged, and a processor merely filed under it.
    env.ok(&[
        "supplier",
        "add",
        "Example Mail Relay",
        "--role",
        "sub-processor",
        "--parent",
        DEMO_SUPPLIER,
    ]);
    env.ok(&[
        "supplier",
        "add",
        "Example Group Company",
        "--role",
        "processor",
        "--parent",
        DEMO_SUPPLIER,
    ]);
    for (supplier, summary) in [
        ("Example Mail Relay", "Relay logs exposed"),
        ("Example Group Company", "A lost laptop"),
    ] {
        env.ok(&[
            "incident",
            "open",
            "--supplier",
            supplier,
            "--aware-at",
            "2021-11-02 10:00",
            "--nature",
            "confidentiality",
            "--summary",
            summary,
        ]);
    }
    env.ok(&["incident", "ask", "2", "--due", &days_ahead(10)]);
    let server = DeskServer::start(&env);

    let one = server.api("GET", "/api/v1/supplier/incidents/1", Some(token), None);
    assert_eq!(one.status, 200, "{}", one.body);
    let one = one.json();
    assert_eq!(
        one["incident"]["summary"],
        "Member table copied out by ransomware"
    );
    assert_eq!(one["answers"], true);

    // The sub-processor's incident is on its side, to read; the question went to the
    // sub-processor, which answers it, not the processor.
    let side = server.api("GET", "/api/v1/supplier", Some(token), None).json();
    let at: Vec<&str> = side["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|incident| incident["supplier"].as_str().unwrap())
        .collect();
    assert!(at.contains(&"Example Mail Relay"), "{side}");
    assert!(!at.contains(&"Example Group Company"), "{side}");
    let relay = server
        .api("GET", "/api/v1/supplier/incidents/2", Some(token), None)
        .json();
    assert_eq!(relay["answers"], false, "{relay}");
    assert_eq!(relay["question"]["state"], "waiting", "{relay}");
    let refused = server.api(
        "POST",
        "/api/v1/supplier/incidents/2/answer",
        Some(token),
        Some(serde_json::json!({ "text": "for the relay" })),
    );
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(
        refused.body.contains("its own account answers"),
        "{}",
        refused.body
    );
    let shown = env.ok(&["incident", "show", "2", "--json"]).json();
    assert_eq!(shown["question"]["state"], "waiting");
    assert_eq!(
        server
            .api("GET", "/api/v1/supplier/incidents/3", Some(token), None)
            .status,
        404
    );
    let session = server.sign_in("supplier", PASSWORD);
    let page = session.get(&server, "/supplier/incidents/2");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"answered-by\""), "{}", page.body);
    assert!(!page.body.contains("id=\"answer\""), "{}", page.body);
}

#[test]
fn a_supplier_confirms_its_instruction_and_then_no_longer_sees_whom_it_was_for() {
    // The demo's first person is held, today, by its hosted CRM: that supplier's account acts.
    const AT: &str = "Example Hosted CRM";
    let (env, _) = demo_env();
    let (reference, email) = demo_person(&env);
    crate::desk_support::add_user_with(&env, "crm", "supplier", &["--supplier", AT]);
    let made = env.ok(&[
        "token",
        "add",
        "--name",
        "t-crm",
        "--role",
        "supplier",
        "--supplier",
        AT,
        "--json",
    ]);
    let token = made.json()["token"].as_str().unwrap().to_owned();
    let token = &token;
    env.ok(&[
        "supplier",
        "contact",
        "add",
        AT,
        "--email",
        "dpo@crm.example",
        "--name",
        "Ada Roe",
        "--role",
        "dpo",
    ]);
    let received = crate::requests::today_minus(2);
    let opened = env
        .ok(&[
            "request",
            "open",
            "--person",
            &reference,
            "--kind",
            "rectification",
            "--received-at",
            &received,
            "--json",
        ])
        .json();
    let id = opened["request"].as_i64().unwrap();
    assert!(
        opened["instructed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|name| name == AT),
        "{opened}"
    );
    // Word of it waits for the DPO contact (no mail server here), carrying nobody's data.
    let mail = env.ok(&["supplier", "mail", "list", "--json"]).json();
    let word = mail
        .as_array()
        .unwrap()
        .iter()
        .find(|one| one["about"] == "instruction")
        .unwrap_or_else(|| panic!("no instruction mail: {mail}"));
    assert_eq!(word["recipient"], "dpo@crm.example");
    assert_eq!(word["state"], "queued");
    let body = word["body"].as_str().unwrap();
    assert!(
        body.contains(&format!("request {id}: correct the data of one person")),
        "{body}"
    );
    assert!(!body.contains(&reference) && !body.contains(&email), "{body}");

    let server = DeskServer::start(&env);
    let side = server.api("GET", "/api/v1/supplier", Some(token), None).json();
    let find = |side: &serde_json::Value| {
        side["instructions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|one| one["request"] == id)
            .unwrap_or_else(|| panic!("{side}"))
            .clone()
    };
    let ours = find(&side);
    assert_eq!(ours["action"], "rectify");
    assert_eq!(ours["reference"], reference.as_str(), "whom, to act on");
    assert!(ours["confirmed_at"].is_null());
    assert!(!side.to_string().contains(&email), "nothing else of the person");

    // Staff see it waiting on the supplier's page, without whom it is for.
    let viewer = server.sign_in("viewer", PASSWORD);
    let staff_page = viewer.get(&server, &format!("/suppliers/{}", AT.replace(' ', "%20")));
    assert_eq!(staff_page.status, 200);
    assert!(
        staff_page
            .body
            .contains(&format!("<a href=\"/requests/{id}\">{id}</a>"))
            && staff_page.body.contains("waiting"),
        "{}",
        staff_page.body
    );
    assert!(!staff_page.body.contains(&reference), "no person for a viewer");
    // The organisation finishes its own part and closes the request as done: the supplier's
    // instruction stays open, with whom it is for, until it confirms.
    env.ok(&[
        "request",
        "close",
        &id.to_string(),
        "--outcome",
        "done",
        "--reason",
        "Corrected in our CRM",
    ]);
    let still = find(&server.api("GET", "/api/v1/supplier", Some(token), None).json());
    assert_eq!(still["reference"], reference.as_str(), "{still}");
    let session = server.sign_in("crm", PASSWORD);
    let page = session.get(&server, "/supplier");
    assert!(
        page.body.contains(&format!("id=\"confirm-{id}\"")),
        "{}",
        page.body
    );
    let confirmed = session.post(
        &server,
        &format!("/supplier/requests/{id}/confirm"),
        &[("note", "Corrected in our CRM")],
    );
    assert_eq!(confirmed.status, 303, "{}", confirmed.body);
    let shown = env.ok(&["request", "show", &id.to_string(), "--json"]).json();
    let instruction = shown["instructions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|one| one["supplier"] == AT)
        .unwrap()
        .clone();
    assert_eq!(instruction["state"], "confirmed", "{shown}");
    assert!(
        shown.to_string().contains("confirmed (Corrected in our CRM)"),
        "its note is kept: {shown}"
    );
    let audit = env.ok(&["audit", "export"]).stdout;
    assert!(
        audit
            .lines()
            .any(|line| line.contains("request.confirm") && line.contains("desk:crm")),
        "the confirmation is audited with the supplier's account"
    );
    let after = server.api("GET", "/api/v1/supplier", Some(token), None).json();
    let ours = find(&after);
    assert!(ours["reference"].is_null(), "whom is no longer shown: {ours}");
    assert!(!ours["confirmed_at"].is_null());
    let again = server.api(
        "POST",
        &format!("/api/v1/supplier/requests/{id}/confirm"),
        Some(token),
        Some(serde_json::json!({})),
    );
    assert_eq!(again.status, 409, "{}", again.body);
    let elsewhere = server.api(
        "POST",
        "/api/v1/supplier/requests/9999/confirm",
        Some(token),
        Some(serde_json::json!({ "note": "x" })),
    );
    assert_eq!(elsewhere.status, 404, "{}", elsewhere.body);
}

#[test]
fn a_supplier_confirms_the_deletion_of_a_share_it_was_asked_to_delete() {
    const AT: &str = "Example Hosted CRM";
    let (env, _) = demo_env();
    let (reference, email) = demo_person(&env);
    crate::desk_support::add_user_with(&env, "crm", "supplier", &["--supplier", AT]);
    let token = env
        .ok(&[
            "token",
            "add",
            "--name",
            "t-crm",
            "--role",
            "supplier",
            "--supplier",
            AT,
            "--json",
        ])
        .json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    env.ok(&[
        "supplier",
        "contact",
        "add",
        AT,
        "--email",
        "dpo@crm.example",
        "--name",
        "Ada Roe",
        "--role",
        "dpo",
    ]);
    let shares = env.ok(&["share", "list", "--json"]).json();
    let open_share = |ours: bool| {
        shares
            .as_array()
            .unwrap()
            .iter()
            .find(|share| (share["supplier"] == AT) == ours && share["deleted_at"].is_null())
            .unwrap_or_else(|| panic!("{shares}"))["share"]
            .as_i64()
            .unwrap()
            .to_string()
    };
    let (ours, theirs) = (open_share(true), open_share(false));
    let asked = env
        .ok(&[
            "share",
            "ask-deletion",
            &ours,
            "--reason",
            "Our contract with you ended",
            "--json",
        ])
        .json();
    assert_eq!(asked["messages"], 1, "{asked}");
    let twice = env.run(&["share", "ask-deletion", &ours]);
    assert!(
        twice.code != 0 && twice.stderr.contains("asked for already"),
        "{}",
        twice.stderr
    );
    env.ok(&["share", "ask-deletion", &theirs, "--by", &days_ahead(10)]);
    // The word names the share and the day, never a person.
    let mail = env
        .ok(&["supplier", "mail", "list", "--supplier", AT, "--json"])
        .json();
    let word = mail
        .as_array()
        .unwrap()
        .iter()
        .find(|one| {
            one["subject"]
                .as_str()
                .unwrap()
                .contains(&format!("share {ours}"))
        })
        .unwrap_or_else(|| panic!("{mail}"));
    assert_eq!(word["recipient"], "dpo@crm.example");
    let body = word["body"].as_str().unwrap();
    assert!(
        body.contains("Our contract with you ended") && body.contains("28(3)(g)"),
        "{body}"
    );
    assert!(!body.contains(&reference) && !body.contains(&email), "{body}");

    let server = DeskServer::start(&env);
    let side = server.api("GET", "/api/v1/supplier", Some(&token), None).json();
    let listed: Vec<String> = side["deletions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|one| one["share"].to_string())
        .collect();
    assert_eq!(listed, std::slice::from_ref(&ours), "only its own: {side}");
    // Another supplier's share is not its to confirm.
    let elsewhere = server.api(
        "POST",
        &format!("/api/v1/supplier/shares/{theirs}/confirm-deletion"),
        Some(&token),
        Some(serde_json::json!({})),
    );
    assert_eq!(elsewhere.status, 404, "{}", elsewhere.body);

    let session = server.sign_in("crm", PASSWORD);
    let page = session.get(&server, "/supplier");
    assert!(
        page.body.contains(&format!("id=\"delete-{ours}\"")),
        "{}",
        page.body
    );
    let until = days_ahead(35);
    let confirmed = session.post(
        &server,
        &format!("/supplier/shares/{ours}/confirm-deletion"),
        &[
            ("note", "Wiped with its replicas"),
            ("backups_until", until.as_str()),
        ],
    );
    assert_eq!(confirmed.status, 303, "{}", confirmed.body);
    let list = env.ok(&["share", "deletions", "--json"]).json();
    let done = list
        .as_array()
        .unwrap()
        .iter()
        .find(|one| one["share"].as_i64().map(|id| id.to_string()).as_deref() == Some(ours.as_str()))
        .unwrap()
        .clone();
    assert!(
        !done["deleted_at"].is_null() && !done["backups_until"].is_null(),
        "{done}"
    );
    assert_eq!(done["note"], "Wiped with its replicas");
    assert_eq!(done["overdue"], false);
    let audit = env.ok(&["audit", "export"]).stdout;
    assert!(
        audit
            .lines()
            .any(|line| line.contains("share.delete") && line.contains("desk:crm")),
        "the confirmation is audited with the supplier's account"
    );
    let again = server.api(
        "POST",
        &format!("/api/v1/supplier/shares/{ours}/confirm-deletion"),
        Some(&token),
        Some(serde_json::json!({})),
    );
    assert_eq!(again.status, 409, "confirmed already: {}", again.body);

    // Once its day passes unconfirmed, the other request is overdue on the staff's page.
    let sql = if env.on_sqlite() {
        format!(
            "DROP TRIGGER share_deletion_requests_kept; UPDATE share_deletion_requests SET due_at = 1 WHERE share = {theirs};"
        )
    } else {
        format!("UPDATE share_deletion_requests SET due_at = 1 WHERE share = {theirs};")
    };
    env.tamper(&sql);
    let list = env.ok(&["share", "deletions", "--json"]).json();
    assert_eq!(list[0]["share"].to_string(), theirs, "open ones first: {list}");
    assert_eq!(list[0]["overdue"], true);
    let other = list[0]["supplier_name"].as_str().unwrap().replace(' ', "%20");
    let viewer = server.sign_in("viewer", PASSWORD);
    let staff = viewer.get(&server, &format!("/suppliers/{other}"));
    assert!(
        staff.body.contains("id=\"supplier-deletions\"") && staff.body.contains("<strong>overdue</strong>"),
        "{}",
        staff.body
    );
}
