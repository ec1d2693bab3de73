//! What responders record at the desk: incidents opened, supplier statements, assessments.

use crate::desk_support::{DeskServer, PASSWORD, demo_env};

#[test]
fn responders_open_an_incident_record_a_statement_and_assess_it_at_the_desk() {
    let (env, _) = demo_env();
    let server = DeskServer::start(&env);
    let lead = server.sign_in("responder", PASSWORD);
    let fields = |nature: &'static str| {
        vec![
            ("supplier", "Example Print House"),
            ("aware_at", "2024-03-01T09:00"),
            ("summary", "The mailing house's file server was copied"),
            (nature, "yes"),
            ("occurred_from", ""),
            ("occurred_to", ""),
            ("supplier_discovered_at", ""),
            ("supplier_notified_at", "2024-03-01T08:30"),
            ("cyber", "yes"),
        ]
    };
    // Nothing ticked as affected: refused with the reason, nothing opened.
    let refused = lead.post(&server, "/incidents", &fields("nature_unknown"));
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("tick what the incident affected"));
    let opened = lead.post(&server, "/incidents", &fields("nature_confidentiality"));
    assert_eq!(opened.status, 303, "{}", opened.body);
    let page = opened.header("location").unwrap().to_owned();
    let id = page.rsplit('/').next().unwrap().to_owned();
    let cli = env.ok(&["incident", "show", &id, "--json"]).json();
    assert_eq!(cli["supplier"], "Example Print House");
    assert_eq!(cli["nature"], serde_json::json!(["confidentiality"]));
    assert_eq!(cli["aware_at"], "2024-03-01T09:00:00Z");

    // Two statements: the second corrects the first, and is flagged.
    for (text, records) in [("About 2,000 records", "2000"), ("In fact 9,500 records", "9500")] {
        let recorded = lead.post(
            &server,
            &format!("{page}/statements"),
            &[
                ("text", text),
                ("claims_records", records),
                ("claims_categories", "user.contact.email"),
                ("claims_exfiltration", "yes"),
                ("received_at", ""),
            ],
        );
        assert_eq!(recorded.status, 303, "{}", recorded.body);
    }
    let bad_key = lead.post(
        &server,
        &format!("{page}/statements"),
        &[("text", "x"), ("claims_categories", "user.favourite_colour")],
    );
    assert_eq!(bad_key.status, 400);
    let shown = lead.get(&server, &page).body;
    assert!(
        shown.contains("class=\"flag\">correction") && shown.contains("records: 2000 → 9500"),
        "{shown}"
    );
    assert_eq!(
        env.ok(&["incident", "show", &id, "--json"]).json()["statements"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // The assessment, then an override without its reason refused.
    let assessed = lead.post(
        &server,
        &format!("{page}/assess"),
        &[("mitigation_contained", "yes")],
    );
    assert_eq!(assessed.status, 303, "{}", assessed.body);
    let assessment = env.ok(&["incident", "show", &id, "--json"]).json()["assessment"].clone();
    assert_eq!(assessment["mitigations"], serde_json::json!(["contained"]));
    let no_reason = lead.post(&server, &format!("{page}/assess"), &[("override_people", "no")]);
    assert_eq!(no_reason.status, 400, "{}", no_reason.body);
    let viewer = server.sign_in("viewer", PASSWORD);
    assert_eq!(viewer.post(&server, &format!("{page}/assess"), &[]).status, 403);
}

#[test]
fn the_api_opens_an_incident_records_statements_and_assesses() {
    let (env, tokens) = demo_env();
    let server = DeskServer::start(&env);
    let token = |role: &str| tokens.iter().find(|(name, _)| name == role).unwrap().1.clone();
    let responder = token("responder");
    let open = serde_json::json!({
        "supplier": "Example Survey Tool", "aware_at": "2024-05-02T10:00:00+01:00",
        "summary": "Survey answers exposed by a misconfigured bucket", "nature": ["confidentiality"]
    });
    assert_eq!(
        server
            .api(
                "POST",
                "/api/v1/incidents",
                Some(&token("viewer")),
                Some(open.clone())
            )
            .status,
        403
    );
    let bad = server.api("POST", "/api/v1/incidents", Some(&responder), Some(serde_json::json!({ "supplier": "Example Survey Tool", "aware_at": "soon", "summary": "x", "nature": ["confidentiality"] })));
    assert_eq!(bad.status, 400, "{}", bad.body);
    let opened = server.api("POST", "/api/v1/incidents", Some(&responder), Some(open));
    assert_eq!(opened.status, 201, "{}", opened.body);
    let id = opened.json()["incident"].as_i64().unwrap();
    assert_eq!(opened.json()["aware_at"], "2024-05-02T09:00:00Z");
    let path = format!("/api/v1/incidents/{id}/statements");
    let first = server.api(
        "POST",
        &path,
        Some(&responder),
        Some(serde_json::json!({ "text": "No data taken", "claims_exfiltration": "no" })),
    );
    assert_eq!(first.status, 201, "{}", first.body);
    let second = server.api(
        "POST",
        &path,
        Some(&responder),
        Some(serde_json::json!({ "text": "Data was taken", "claims_exfiltration": "yes" })),
    );
    let statements = second.json()["statements"].clone();
    assert_eq!(statements[1]["correction"], true, "{statements}");
    let assessed = server.api(
        "POST",
        &format!("/api/v1/incidents/{id}/assess"),
        Some(&responder),
        Some(serde_json::json!({ "mitigations": ["contained"] })),
    );
    assert_eq!(assessed.status, 201, "{}", assessed.body);
    assert!(
        assessed.json()["reasons"]
            .as_array()
            .is_some_and(|reasons| !reasons.is_empty())
    );
    let cli = env.ok(&["incident", "show", &id.to_string(), "--json"]).json();
    assert_eq!(cli["assessment"]["score"], assessed.json()["score"]);
}

#[test]
fn the_api_amends_facts_records_decisions_and_gives_the_register_and_reports_as_filed() {
    let (env, tokens) = demo_env();
    let server = DeskServer::start(&env);
    let token = |role: &str| tokens.iter().find(|(name, _)| name == role).unwrap().1.clone();
    let (responder, viewer) = (token("responder"), token("viewer"));
    let refused = server.api(
        "POST",
        "/api/v1/incidents/1/amend",
        Some(&viewer),
        Some(serde_json::json!({ "cyber": "no", "reason": "x" })),
    );
    assert_eq!(refused.status, 403);
    let amended = server.api(
        "POST",
        "/api/v1/incidents/1/amend",
        Some(&responder),
        Some(serde_json::json!({ "occurred_from": "2021-10-27T22:00:00Z", "reason": "Forensics: first access on the 27th" })),
    );
    assert_eq!(amended.status, 201, "{}", amended.body);
    assert_eq!(amended.json()["changes"][0]["field"], "occurred_from");
    let nothing = server.api(
        "POST",
        "/api/v1/incidents/1/amend",
        Some(&responder),
        Some(serde_json::json!({ "occurred_from": "2021-10-27T22:00:00Z", "reason": "again" })),
    );
    assert_eq!(nothing.status, 409, "{}", nothing.body);
    let shown = server
        .api("GET", "/api/v1/incidents/1", Some(&viewer), None)
        .json();
    let history = shown["facts_history"].as_array().unwrap();
    assert!(
        history
            .iter()
            .any(|change| change["field"] == "occurred_from" && change["actor"] == "api:t-responder")
    );
    let decided = server.api(
        "POST",
        "/api/v1/incidents/1/decisions",
        Some(&responder),
        Some(serde_json::json!({ "decision": "people_not_required", "reason": "no ground" })),
    );
    assert_eq!(decided.status, 409, "a ground is needed: {}", decided.body);
    let register = server.api("GET", "/api/v1/register", Some(&viewer), None);
    assert_eq!(register.status, 200);
    let phases: Vec<String> = register.json()["incidents"][0]["filed_reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|filed| filed.as_str().unwrap().split(' ').next().unwrap().to_owned())
        .collect();
    assert_eq!(
        phases,
        ["initial", "initial:IE:gdpr-regulator", "follow-up"],
        "the demo told the Irish authority too"
    );
    let decisions = register.json()["incidents"][0]["decisions"].to_string();
    assert!(
        decisions.contains("obligation met: IE:gdpr-regulator; DPC-BN-0000-DEMO"),
        "the register names the obligation met: {decisions}"
    );
    let filed = server.api(
        "GET",
        "/api/v1/incidents/1/report?format=md&phase=initial&as_filed=true",
        Some(&viewer),
        None,
    );
    assert_eq!(filed.status, 200);
    assert!(
        filed.body.contains("Personal data breach report — initial"),
        "{}",
        filed.body
    );
    let cli = env
        .ok(&["report", "1", "--phase", "initial", "--as-filed"])
        .stdout;
    assert_eq!(filed.body, cli, "the same bytes as filed");
    // The organisation's own regulator's report, asked for by name, is the one it filed.
    let own = server.api(
        "GET",
        "/api/v1/incidents/1/report?format=md&regulator=ICO&as_filed=true",
        Some(&viewer),
        None,
    );
    assert_eq!(own.status, 200, "{}", own.body);
    assert_eq!(own.body, cli);
}

#[test]
fn the_desk_records_another_places_obligation_and_gives_its_regulator_s_report() {
    let (env, tokens) = demo_env();
    let server = DeskServer::start(&env);
    let token = |role: &str| tokens.iter().find(|(name, _)| name == role).unwrap().1.clone();
    let (responder, viewer) = (token("responder"), token("viewer"));
    // The French authority's obligation, as the incident lists it.
    let shown = server
        .api("GET", "/api/v1/incidents/1", Some(&viewer), None)
        .json();
    let french = shown["obligations"]["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|clock| clock["jurisdiction"] == "FR" && clock["to"] == "regulator")
        .expect("the demo has members in France")
        .clone();
    assert_eq!(french["met_by"], "obligation-met");
    assert_ne!(french["state"], "met");
    let key = format!("FR:{}", french["obligation"].as_str().unwrap());
    let body = serde_json::json!({ "obligation": key, "at": "2021-11-02T10:00:00Z", "reference": "CNIL-1" });
    let refused = server.api(
        "POST",
        "/api/v1/incidents/1/obligations",
        Some(&viewer),
        Some(body.clone()),
    );
    assert_eq!(refused.status, 403, "a viewer records nothing");
    let unknown = server.api(
        "POST",
        "/api/v1/incidents/1/obligations",
        Some(&responder),
        Some(serde_json::json!({ "obligation": "FR:no-such-duty" })),
    );
    assert_eq!(unknown.status, 409, "{}", unknown.body);
    // Told after its 72 hours: the reasons for the delay are required (GDPR Art. 33(1)).
    let without_reasons = server.api(
        "POST",
        "/api/v1/incidents/1/obligations",
        Some(&responder),
        Some(body.clone()),
    );
    assert_eq!(without_reasons.status, 409, "{}", without_reasons.body);
    assert!(
        without_reasons.body.contains("reasons for the delay"),
        "{}",
        without_reasons.body
    );
    let mut body = body;
    body["delay_reason"] = serde_json::json!("French members were found only on 2 November");
    let met = server.api(
        "POST",
        "/api/v1/incidents/1/obligations",
        Some(&responder),
        Some(body),
    );
    assert_eq!(met.status, 201, "{}", met.body);
    let now = met.json()["obligations"]["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|clock| clock["jurisdiction"] == "FR" && clock["to"] == "regulator")
        .unwrap()["state"]
        .clone();
    assert_eq!(now, "missed", "told after the 72 hours");
    // Its report was filed in the EDPB template's sections, and reads back byte for byte.
    let filed = server.api(
        "GET",
        "/api/v1/incidents/1/report?format=json&regulator=CNIL&as_filed=true",
        Some(&viewer),
        None,
    );
    assert_eq!(filed.status, 200, "{}", filed.body);
    assert_eq!(filed.json()["form"], "edpb");
    assert_eq!(filed.json()["to"]["short"], "CNIL");
    let late = filed.json()["sections"][0]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| {
            item["question"]
                .as_str()
                .unwrap()
                .starts_with("Is it made after the period")
        })
        .unwrap()["answer"]
        .clone();
    assert!(
        late.as_str().unwrap().starts_with("yes (due 2021-11-01 17:30")
            && late.as_str().unwrap().contains("found only on 2 November"),
        "{late}"
    );
    let cli = env
        .ok(&[
            "report",
            "1",
            "--regulator",
            "CNIL",
            "--as-filed",
            "--format",
            "json",
        ])
        .stdout;
    assert_eq!(filed.body, cli, "the same bytes as filed");
    // The incident page links each other regulator's report and offers to record the rest.
    let lead = server.sign_in("responder", PASSWORD);
    let page = lead.get(&server, "/incidents/1");
    assert!(
        page.body
            .contains("/incidents/1/report?regulator=FR%3Agdpr-regulator"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("action=\"/incidents/1/obligations\""),
        "{}",
        page.body
    );
    let preview = lead.get(&server, "/incidents/1/report?regulator=DE");
    assert_eq!(preview.status, 200);
    assert!(preview.body.contains("Type of notification"), "{}", preview.body);
}
