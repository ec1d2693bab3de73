//! The breach desk: incidents, clocks, impact, statements, timeline, risk assessment.

use crate::support::{CRM, Env};

/// People imported, a processor with a 24-hour notice window and an export to it.
fn desk() -> Env {
    let env = Env::new();
    let settings = env.dir().join("settings.toml");
    let text = std::fs::read_to_string(&settings).unwrap();
    assert!(text.contains("[special_categories]\n"), "{text}");
    let text = text.replace(
        "[special_categories]\n",
        "[special_categories]\nmember = [\"user.demographic.political_opinion\"]\n",
    );
    std::fs::write(&settings, text).unwrap();
    let crm = env.write("crm.csv", CRM);
    env.ok(&["people", "import", Env::path_str(&crm)]);
    env.ok(&[
        "supplier",
        "add",
        "Mailing House",
        "--role",
        "processor",
        "--notice-hours",
        "24",
    ]);
    let export = env.write(
        "export.csv",
        "Member Number,First Name,Email\nM1,Alex,alex.smith@example.org\nM2,Zoë,zoe.jones@example.org\nM3,Sam,sam.patel@example.com\n",
    );
    env.ok(&[
        "share",
        "record",
        "--supplier",
        "Mailing House",
        "--purpose",
        "mailing",
        "--at",
        "2021-06-01",
        "--retention-days",
        "30",
        Env::path_str(&export),
    ]);
    env
}

fn open_incident(env: &Env) -> String {
    let opened = env
        .ok(&[
            "incident",
            "open",
            "--supplier",
            "Mailing House",
            "--aware-at",
            "2021-10-29 18:30",
            "--nature",
            "confidentiality,availability",
            "--summary",
            "Ransomware at the mailing house",
            "--supplier-discovered-at",
            "2021-10-28 09:00",
            "--supplier-notified-at",
            "2021-10-29 17:00",
            "--cyber",
            "yes",
            "--json",
        ])
        .json();
    opened["incident"].as_i64().unwrap().to_string()
}

fn clock<'a>(view: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    view["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|clock| clock["name"] == name)
        .unwrap()
}

#[test]
fn clocks_count_real_hours_and_the_supplier_window() {
    let env = desk();
    let id = open_incident(&env);
    let view = env.ok(&["incident", "show", &id, "--json"]).json();
    let regulator = clock(&view, "regulator");
    assert_eq!(
        regulator["due"], "2021-11-01T17:30:00Z",
        "72 real hours although the clocks went back"
    );
    assert_eq!(regulator["due_local"], "2021-11-01 17:30 GMT");
    assert_eq!(
        regulator["state"], "missed",
        "the deadline is long past and no report is recorded"
    );
    let supplier = clock(&view, "supplier_notice");
    assert_eq!(supplier["state"], "missed");
    assert_eq!(
        supplier["seconds_to_due"],
        -8 * 3600,
        "told 32 hours after discovery against 24"
    );
    assert_eq!(clock(&view, "people")["state"], "not_applicable");

    let late = env.fails(
        &[
            "incident",
            "record",
            &id,
            "regulator-notified",
            "--at",
            "2021-11-02 09:00",
        ],
        1,
    );
    assert!(
        late.contains("--delay-reason") && late.contains("Art. 33(1)"),
        "{late}"
    );
    env.ok(&[
        "incident",
        "record",
        &id,
        "regulator-notified",
        "--at",
        "2021-11-02 09:00",
        "--ref",
        "ICO-1",
        "--delay-reason",
        "forensics needed a weekend",
    ]);
    let view = env.ok(&["incident", "show", &id, "--json"]).json();
    assert_eq!(clock(&view, "regulator")["done_at"], "2021-11-02T09:00:00Z");
    assert_eq!(clock(&view, "regulator")["state"], "missed");
    assert_eq!(
        env.ok(&["report", &id, "--format", "json"]).json()["cyber"],
        "yes"
    );
    let list = env.ok(&["incident", "list", "--json"]).json();
    assert_eq!(list[0]["incident"].as_i64().unwrap().to_string(), id);
}

#[test]
fn bad_incidents_are_refused() {
    let env = desk();
    let backwards = env.fails(
        &[
            "incident",
            "open",
            "--supplier",
            "Mailing House",
            "--aware-at",
            "2021-10-29",
            "--nature",
            "integrity",
            "--summary",
            "x",
            "--occurred-from",
            "2021-10-20",
            "--occurred-to",
            "2021-10-10",
        ],
        1,
    );
    assert!(backwards.contains("before --occurred-from"), "{backwards}");
    let nature = env.fails(
        &[
            "incident",
            "open",
            "--supplier",
            "Mailing House",
            "--aware-at",
            "2021-10-29",
            "--nature",
            "secrecy",
            "--summary",
            "x",
        ],
        1,
    );
    assert!(
        nature.contains("confidentiality, integrity or availability"),
        "{nature}"
    );
    let supplier = env.fails(
        &[
            "incident",
            "open",
            "--supplier",
            "Nobody",
            "--aware-at",
            "2021-10-29",
            "--nature",
            "integrity",
            "--summary",
            "x",
        ],
        1,
    );
    assert!(supplier.contains("no supplier named"), "{supplier}");
    let missing = env.fails(&["incident", "show", "42"], 1);
    assert!(missing.contains("no incident 42"), "{missing}");
    env.fails(&["impact", "42"], 1);
    assert_eq!(
        env.ok(&["incident", "list", "--json"]).json(),
        serde_json::json!([])
    );
}

#[test]
fn impact_comes_from_the_ledger_with_breakdowns() {
    let env = desk();
    let id = open_incident(&env);
    let impact = env.ok(&["impact", &id, "--json"]).json();
    assert_eq!(impact["people"], 3);
    assert_eq!(impact["categories"]["user.contact.email"], 3);
    assert_eq!(
        impact["person_categories"],
        serde_json::json!({ "member": 2, "registered_supporter": 1 })
    );
    assert_eq!(impact["status"]["former"], 1, "M3 lapsed in 2019");
    assert_eq!(impact["status"]["left_1_to_3_years"], 1);
    assert_eq!(
        impact["retention_expired"], 3,
        "30 days from June 2021 ran out before October"
    );
    assert_eq!(
        impact["special_categories"]["user.demographic.political_opinion"],
        2
    );

    // The ledger changes: the impact is recomputed and the change goes on the timeline.
    let more = env.write("more.csv", "Member Number,Phone\nM4,\nM5,0161 496 0003\n");
    env.ok(&[
        "share",
        "record",
        "--supplier",
        "Mailing House",
        "--purpose",
        "calls",
        "--at",
        "2021-09-01",
        Env::path_str(&more),
    ]);
    let again = env.ok(&["impact", &id, "--json"]).json();
    assert_eq!(again["people"], 5);
    let timeline = env.ok(&["incident", "timeline", &id, "--json"]).json();
    let changes: Vec<&str> = timeline
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["kind"] == "impact")
        .map(|entry| entry["summary"].as_str().unwrap())
        .collect();
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert!(changes[1].contains("people: 3 → 5"), "{changes:?}");
    env.ok(&["impact", &id]);
    let unchanged = env.ok(&["incident", "timeline", &id, "--json"]).json();
    assert_eq!(
        unchanged.as_array().unwrap().len(),
        timeline.as_array().unwrap().len(),
        "no entry when nothing changed"
    );
}

#[test]
fn supplier_statements_are_versioned_and_corrections_flagged() {
    let env = desk();
    let id = open_incident(&env);
    let first = env
        .ok(&[
            "incident",
            "statement",
            &id,
            "--received-at",
            "2021-10-29 17:00",
            "--text",
            "No data taken",
            "--claims-records",
            "2",
            "--claims-exfiltration",
            "no",
            "--claims-categories",
            "user.name",
            "--json",
        ])
        .json();
    assert_eq!(
        (first["version"].as_u64(), first["correction"].as_bool()),
        (Some(1), Some(false))
    );
    let second = env
        .ok(&[
            "incident",
            "statement",
            &id,
            "--received-at",
            "2021-11-20 10:00",
            "--text",
            "Data was copied",
            "--claims-records",
            "3",
            "--claims-exfiltration",
            "yes",
            "--json",
        ])
        .json();
    assert_eq!(second["correction"], true);
    assert_eq!(
        second["changes"],
        serde_json::json!(["records: 2 → 3", "exfiltration: no → yes"])
    );
    let view = env.ok(&["incident", "show", &id, "--json"]).json();
    assert_eq!(view["statements"].as_array().unwrap().len(), 2);
    assert_eq!(view["claims_vs_ledger"]["ledger_people"], 3);
    assert_eq!(view["claims_vs_ledger"]["supplier_records"], 3);
    let bad = env.fails(
        &[
            "incident",
            "statement",
            &id,
            "--received-at",
            "2021-11-20",
            "--text",
            "x",
            "--claims-categories",
            "user.nope",
        ],
        1,
    );
    assert!(bad.contains("data category"), "{bad}");
}

#[test]
fn the_timeline_keeps_decisions_with_reasons_and_contacts_with_parties() {
    let env = desk();
    let id = open_incident(&env);
    let no_reason = env.fails(
        &[
            "incident",
            "timeline",
            &id,
            "add",
            "--kind",
            "decision",
            "--text",
            "Tell members",
        ],
        1,
    );
    assert!(no_reason.contains("--reason"), "{no_reason}");
    let no_party = env.fails(
        &[
            "incident", "timeline", &id, "add", "--kind", "contact", "--text", "Called",
        ],
        1,
    );
    assert!(no_party.contains("--with"), "{no_party}");
    env.ok(&[
        "incident",
        "timeline",
        &id,
        "add",
        "--kind",
        "contact",
        "--with",
        "police",
        "--text",
        "Reported to the NCA",
        "--at",
        "2021-10-30 10:00",
    ]);
    env.ok(&[
        "incident",
        "timeline",
        &id,
        "add",
        "--kind",
        "decision",
        "--text",
        "Tell all affected members",
        "--reason",
        "political opinion exposed",
        "--at",
        "2021-10-30 09:00",
    ]);
    let timeline = env.ok(&["incident", "timeline", &id, "--json"]).json();
    let entries: Vec<&str> = timeline
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["kind"] == "entry")
        .map(|entry| entry["summary"].as_str().unwrap())
        .collect();
    assert_eq!(
        entries,
        [
            "decision: Tell all affected members — because: political opinion exposed",
            "contact: Reported to the NCA (with police)"
        ]
    );
    let verified = env.ok(&["audit", "verify", "--json"]).json();
    assert_eq!(verified["intact"], true);
}

#[test]
fn the_risk_assessment_gives_reasons_and_starts_the_people_clock() {
    let env = desk();
    let id = open_incident(&env);
    let assessment = env.ok(&["incident", "assess", &id, "--json"]).json();
    assert_eq!(assessment["report_regulator"], true);
    assert_eq!(
        assessment["tell_people"], true,
        "membership reveals political opinion: {assessment}"
    );
    assert!(
        assessment["reasons"][0]
            .as_str()
            .unwrap()
            .contains("special category"),
        "{assessment}"
    );
    let view = env.ok(&["incident", "show", &id, "--json"]).json();
    assert_eq!(clock(&view, "people")["due"], "2021-11-01T17:30:00Z");
    // "encrypted" counts only once it is known the key was not taken too.
    let unasked = env
        .ok(&[
            "incident",
            "assess",
            &id,
            "--mitigations",
            "encrypted,contained",
            "--json",
        ])
        .json();
    assert_eq!(unasked["tell_people"], true, "{unasked}");
    assert!(
        unasked["reasons"].to_string().contains("--key-taken"),
        "{unasked}"
    );
    assert_eq!(
        unasked["rules_sha256"].as_str().unwrap().len(),
        64,
        "the rules used are recorded"
    );
    let shipped = env.ok(&["jurisdictions", "--json"]).json();
    assert_eq!(
        unasked["jurisdictions_sha256"], shipped["sha256"],
        "so are the jurisdiction rules"
    );
    // Mitigations stay without being repeated; the key answer is kept too.
    let mitigated = env
        .ok(&["incident", "assess", &id, "--key-taken", "no", "--json"])
        .json();
    assert_eq!(
        mitigated["mitigations"],
        serde_json::json!(["encrypted", "contained"])
    );
    assert_eq!(mitigated["tell_people"], false, "{mitigated}");
    let removed = env
        .ok(&[
            "incident",
            "assess",
            &id,
            "--remove-mitigations",
            "encrypted",
            "--json",
        ])
        .json();
    assert_eq!(removed["mitigations"], serde_json::json!(["contained"]));
    assert_eq!(removed["factors"]["key_taken"], false, "kept from before");
    let again = env
        .ok(&["incident", "assess", &id, "--mitigations", "encrypted", "--json"])
        .json();
    assert_eq!(again["tell_people"], false);
    let unknown = env.fails(&["incident", "assess", &id, "--mitigations", "prayed"], 1);
    assert!(unknown.contains("unknown mitigation"), "{unknown}");
    let no_reason = env.fails(&["incident", "assess", &id, "--override-people", "yes"], 1);
    assert!(no_reason.contains("--reason"), "{no_reason}");
    let overridden = env
        .ok(&[
            "incident",
            "assess",
            &id,
            "--mitigations",
            "encrypted,contained",
            "--override-people",
            "yes",
            "--reason",
            "members expect it",
            "--json",
        ])
        .json();
    assert_eq!(overridden["tell_people"], true);
    assert_eq!(overridden["override_reason"], "members expect it");
}

#[test]
fn the_regulator_report_says_what_is_recorded_and_what_is_not_known() {
    let env = desk();
    let opened = env
        .ok(&[
            "incident",
            "open",
            "--supplier",
            "Mailing House",
            "--aware-at",
            "2021-10-29 18:30",
            "--nature",
            "confidentiality",
            "--summary",
            "Files copied <script>alert(1)</script>",
            "--json",
        ])
        .json();
    let id = opened["incident"].as_i64().unwrap().to_string();
    let markdown = env
        .ok(&["report", &id, "--phase", "initial", "--format", "md"])
        .stdout;
    for expected in [
        "Personal data breach report — initial",
        "Deadline for this report (72 hours from awareness): 2021-11-01 17:30 GMT",
        "Approximate number of people: 3",
        "Approximate number of records: not known",
        "Whether it was a cyber incident: not known.",
        "The supplier discovered it: not known",
        "Not yet assessed.",
        "political opinions or party membership: 2 people",
        "| email address | 3 |",
        "- Confidentiality: affected",
        "The people affected may receive emails, calls or texts",
        // Free text is escaped in Markdown as it is in HTML.
        "Files copied &lt;script&gt;alert(1)&lt;/script&gt;",
        "No contact with police",
    ] {
        assert!(
            markdown.contains(expected),
            "missing {expected:?} in:\n{markdown}"
        );
    }
    let html = env.ok(&["report", &id, "--format", "html"]).stdout;
    assert!(
        html.contains("Files copied &lt;script&gt;alert(1)&lt;"),
        "escaped: {html}"
    );
    assert!(
        !html.contains("<script>"),
        "nothing the user typed runs in the report"
    );
    let json = env.ok(&["report", &id, "--format", "json"]).json();
    assert_eq!(json["phase"], "initial");
    assert_eq!(json["impact"]["people"], 3);

    let early = env.fails(&["report", &id, "--phase", "follow-up"], 1);
    assert!(
        early.contains("follow-up report follows an initial one"),
        "{early}"
    );
    env.ok(&[
        "incident",
        "record",
        &id,
        "regulator-notified",
        "--at",
        "2021-10-31 12:00",
        "--ref",
        "ICO-7",
    ]);
    env.ok(&[
        "incident",
        "statement",
        &id,
        "--received-at",
        "2021-11-03 09:00",
        "--text",
        "Backups were copied too",
        "--claims-records",
        "9",
    ]);
    env.ok(&[
        "incident",
        "timeline",
        &id,
        "add",
        "--kind",
        "update",
        "--text",
        "Passwords reset at the supplier",
        "--at",
        "2021-11-04 09:00",
    ]);
    let follow_up = env.ok(&["report", &id, "--phase", "follow-up"]).stdout;
    for expected in [
        "Your reference: ICO-7",
        "Since the last report",
        "Backups were copied too",
        "Passwords reset at the supplier",
        "Approximate number of records: 9",
    ] {
        assert!(
            follow_up.contains(expected),
            "missing {expected:?} in:\n{follow_up}"
        );
    }
    let out = env.root.path().join("report.html");
    env.ok(&["report", &id, "--format", "html", "--out", Env::path_str(&out)]);
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .starts_with("<!doctype html>")
    );
    let audit = env.ok(&["audit", "export"]).stdout;
    assert_eq!(
        audit.matches("report.generate").count(),
        5,
        "every report generated is on the audit log"
    );
}

#[test]
fn a_statement_without_figures_withdraws_none() {
    let env = desk();
    let id = open_incident(&env);
    let statement = |at: &str, extra: &[&str]| {
        let mut args = vec![
            "incident",
            "statement",
            &id,
            "--received-at",
            at,
            "--text",
            "update",
            "--json",
        ];
        args.extend_from_slice(extra);
        env.ok(&args).json()
    };
    statement(
        "2021-10-29 17:00",
        &["--claims-records", "2", "--claims-exfiltration", "no"],
    );
    let silent = statement("2021-11-01 10:00", &[]);
    assert_eq!(silent["correction"], false, "saying nothing changes nothing");
    let third = statement("2021-11-02 10:00", &["--claims-records", "3"]);
    assert_eq!(third["changes"], serde_json::json!(["records: 2 → 3"]));
    let view = env.ok(&["incident", "show", &id, "--json"]).json();
    assert_eq!(view["claims_vs_ledger"]["supplier_records"], 3);
    assert_eq!(
        view["claims_vs_ledger"]["supplier_exfiltration"], "no",
        "kept from statement 1"
    );
}

#[test]
fn acts_cannot_be_recorded_in_the_future_or_before_awareness() {
    let env = desk();
    let id = open_incident(&env);
    let future = env.fails(
        &["incident", "record", &id, "people-notified", "--at", "2099-01-01"],
        1,
    );
    assert!(future.contains("in the future"), "{future}");
    let early = env.fails(
        &["incident", "record", &id, "people-notified", "--at", "2021-10-01"],
        1,
    );
    assert!(early.contains("before the organisation became aware"), "{early}");
}

#[test]
fn people_who_left_after_the_incident_were_current_during_it() {
    let env = desk();
    let id = open_incident(&env);
    // M2 lapses in 2022, after the incident of October 2021.
    let lapsed = env.write(
        "lapsed.csv",
        "Member Number;Forename;Surname;E-mail;Category;Status;Left\nM2;Zoë;Jones;zoe.jones@example.org;registered supporter;Lapsed;01/02/2022\n",
    );
    env.ok(&["people", "import", Env::path_str(&lapsed), "--date-order", "dmy"]);
    let impact = env.ok(&["impact", &id, "--json"]).json();
    assert_eq!(impact["status"]["current"], 2, "{impact}");
    assert_eq!(impact["status"]["former"], 1, "only M3, who left in 2019");
    assert_eq!(impact["status"]["left_within_1_year"], 0);
}

#[test]
fn a_late_report_says_so_and_what_its_figures_describe() {
    let env = desk();
    let id = open_incident(&env);
    let markdown = env.ok(&["report", &id]).stdout;
    assert!(
        markdown.contains("This report is made after the deadline. Reasons for the delay: not recorded"),
        "{markdown}"
    );
    assert!(
        markdown.contains("The figures below are what the supplier held at 2021-10-29 18:30 BST."),
        "{markdown}"
    );
    env.ok(&[
        "incident",
        "record",
        &id,
        "regulator-notified",
        "--at",
        "2021-10-30 09:00",
        "--delay-reason",
        "not needed",
    ]);
    let on_time = env.ok(&["report", &id]).stdout;
    assert!(
        !on_time.contains("after the deadline"),
        "a report in time is not called late:\n{on_time}"
    );
}

#[test]
fn the_incident_page_puts_the_supplier_claims_beside_the_ledger() {
    let env = desk();
    let id = open_incident(&env);
    env.ok(&[
        "incident",
        "statement",
        &id,
        "--received-at",
        "2021-10-29 17:00",
        "--text",
        "Names only",
        "--claims-records",
        "2",
        "--claims-categories",
        "user.name",
    ]);
    let text = env.ok(&["incident", "show", &id]).stdout;
    assert!(
        text.contains("The supplier says (statements 1 to 1): 2 records; the ledger: 3 people held."),
        "{text}"
    );
    assert!(
        text.contains(
            "Held per the ledger but not in the supplier's claims: user.contact.email, user.unique_id"
        ),
        "{text}"
    );
}
