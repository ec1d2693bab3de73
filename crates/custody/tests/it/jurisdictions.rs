//! Jurisdictions as data: the shipped rules listed with their sources, and an organisation's own
//! rules checked whole before they replace them, audited.

use crate::support::Env;

#[test]
fn the_rules_are_listed_with_their_citations_and_a_bad_file_changes_nothing() {
    let env = Env::new();
    let listed = env.ok(&["jurisdictions", "--json"]).json();
    let shipped_digest = listed["sha256"].as_str().unwrap().to_owned();
    let codes: Vec<&str> = listed["jurisdictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|jurisdiction| jurisdiction["code"].as_str().unwrap())
        .collect();
    for code in ["GB", "IE", "DE", "AU", "CA", "US-CA", "US-WA"] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    for jurisdiction in listed["jurisdictions"].as_array().unwrap() {
        for rule in jurisdiction["obligations"].as_array().unwrap() {
            assert!(!rule["citation"].as_str().unwrap().is_empty(), "{rule}");
            assert!(rule["checked"].as_str().unwrap().starts_with("20"), "{rule}");
        }
    }
    let text = env.ok(&["jurisdictions"]).stdout;
    assert!(
        text.contains("UK GDPR Art. 33(1)") && text.contains("72 hours of becoming aware"),
        "{text}"
    );

    let uncited = env.write(
        "rules.toml",
        "format = 1\n\n[[jurisdiction]]\ncode = \"GB\"\nname = \"United Kingdom\"\nlaw = \"UK GDPR\"\n\
         checked = \"2026-12-03\"\nreport_form = \"ico\"\n\n[[jurisdiction.regulator]]\nshort = \"ICO\"\n\
         name = \"Information Commissioner's Office\"\ncontact = \"https://ico.org.uk\"\nsource = \"https://ico.org.uk\"\n\
         verified = true\n\n[[jurisdiction.obligation]]\nid = \"gb-regulator\"\nto = \"regulator\"\n\
         threshold = \"risk\"\ndeadline = { hours = 48, from = \"awareness\" }\ncitation = \"\"\n\
         source = \"https://www.legislation.gov.uk/eur/2016/679/article/33\"\nchecked = \"2026-12-03\"\nverified = true\n",
    );
    let error = env.fails(&["jurisdictions", "import", Env::path_str(&uncited)], 1);
    assert!(
        error.contains("line 17") && error.contains("cites no law"),
        "{error}"
    );
    assert!(!env.dir().join("jurisdictions.toml").exists(), "nothing was kept");
    assert!(
        !env.ok(&["audit", "export"])
            .stdout
            .contains("jurisdictions.import")
    );

    let own = env.write(
        "own.toml",
        std::fs::read_to_string(&uncited)
            .unwrap()
            .replace("citation = \"\"", "citation = \"UK GDPR Art. 33(1)\""),
    );
    env.ok(&["jurisdictions", "import", Env::path_str(&own)]);
    let listed = env.ok(&["jurisdictions", "--json"]).json();
    assert!(
        listed["origin"].as_str().unwrap().contains("imported"),
        "{listed}"
    );
    assert_eq!(listed["jurisdictions"].as_array().unwrap().len(), 1);
    assert_eq!(
        listed["jurisdictions"][0]["obligations"][0]["deadline"]["hours"],
        48
    );
    let audit = env.ok(&["audit", "export"]).stdout;
    let entry = audit
        .lines()
        .find(|line| line.contains("jurisdictions.import"))
        .expect("the change of rules is audited");
    assert!(
        entry.contains(&shipped_digest) && entry.contains(listed["sha256"].as_str().unwrap()),
        "the audit names the rules replaced and the new: {entry}"
    );
}

/// Members at home and abroad: a region read by code or name where the law is by region.
const ABROAD: &str = "Member Number,First Name,Last Name,Email,Street,City,State,Country,Category\n\
G1,Amy,Ward,amy@example.org,1 High St,Leeds,,United Kingdom,member\n\
G2,Ben,Cole,ben@example.org,2 High St,York,,GB,member\n\
U1,Cal,Diaz,cal@example.org,1 Market St,San Francisco,CA,US,member\n\
U2,Dee,Park,dee@example.org,5 Pine St,Seattle,Washington,United States,member\n\
U3,Eve,Ross,eve@example.org,9 Elm St,Springfield,Calif,US,member\n\
Q1,Fay,Roy,fay@example.org,1 rue Principale,Montréal,Québec,Canada,member\n\
F1,Gil,Roux,gil@example.org,3 rue de Rivoli,Paris,Île-de-France,FR,member\n\
N1,Hal,Moss,hal@example.org,,,,,member\n";

#[test]
fn a_persons_jurisdiction_comes_from_their_country_and_region_and_impact_counts_them() {
    let env = Env::new();
    let crm = env.write("crm.csv", ABROAD);
    env.ok(&["people", "import", Env::path_str(&crm)]);
    let quebec = env.ok(&["person", "show", "Q1", "--json"]).json();
    assert_eq!(quebec["region"], "CA-QC");
    assert_eq!(
        quebec["jurisdictions"],
        serde_json::json!(["CA", "CA-QC"]),
        "PIPEDA and Quebec's law both apply"
    );
    let unplaced = env.ok(&["person", "show", "U3", "--json"]).json();
    assert_eq!(
        unplaced["region"],
        serde_json::Value::Null,
        "Calif is not guessed at"
    );
    assert_eq!(
        unplaced["jurisdictions"],
        serde_json::json!([]),
        "no US-wide rules"
    );
    let france = env.ok(&["person", "show", "F1", "--json"]).json();
    assert_eq!(
        (france["region"].clone(), france["jurisdictions"].clone()),
        (serde_json::Value::Null, serde_json::json!(["FR"]))
    );
    let shown = env.ok(&["person", "show", "U2"]).stdout;
    assert!(
        shown.contains("US-WA") && shown.contains("breach rules of: US-WA"),
        "{shown}"
    );

    env.ok(&["supplier", "add", "Mailing House", "--role", "processor"]);
    env.ok(&[
        "share",
        "record",
        "--supplier",
        "Mailing House",
        "--purpose",
        "mailing",
        "--at",
        "2021-06-01",
        "--map",
        "Category=none",
        Env::path_str(&crm),
    ]);
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
            "Ransomware at the mailing house",
            "--json",
        ])
        .json();
    let id = opened["incident"].as_i64().unwrap().to_string();
    let impact = env.ok(&["impact", &id, "--json"]).json();
    assert_eq!(
        impact["jurisdictions"],
        serde_json::json!({ "GB": 2, "US-CA": 1, "US-WA": 1, "US": 1, "CA-QC": 1, "FR": 1, "unknown": 1 }),
        "{impact}"
    );
    // The obligations are those of the places the affected people live in, each with its law.
    let shown = env.ok(&["incident", "show", &id, "--json"]).json();
    let clocks = shown["obligations"]["clocks"].as_array().unwrap();
    let of = |jurisdiction: &str, obligation: &str| {
        obligation_of(&shown, jurisdiction, obligation)
            .unwrap_or_else(|| panic!("no {obligation} for {jurisdiction}: {clocks:?}"))
    };
    assert_eq!(of("GB", "gb-regulator")["residents"], 2);
    assert_eq!(of("GB", "gb-regulator")["body"], "ICO");
    assert_eq!(of("FR", "gdpr-regulator")["citation"], "GDPR Art. 33(1)");
    assert_eq!(
        of("CA", "ca-opc-report")["residents"],
        1,
        "Quebec's member counts for Canada too"
    );
    assert!(clocks.iter().any(|clock| clock["jurisdiction"] == "CA-QC"));
    assert_eq!(
        of("US-CA", "us-ca-attorney-general")["state"],
        "not_reached",
        "one Californian, not 501"
    );
    assert!(
        !clocks.iter().any(|clock| clock["jurisdiction"] == "US"),
        "no US-wide rules: {clocks:?}"
    );
    let text = env.ok(&["incident", "show", &id]).stdout;
    assert!(
        text.contains("UK GDPR Art. 33(1)") && text.contains("ICO"),
        "{text}"
    );
    // Another country's regulator told is recorded against its own obligation.
    let record = |key: &str| {
        vec![
            "incident".to_owned(),
            "record".to_owned(),
            id.clone(),
            "obligation-met".to_owned(),
            "--obligation".to_owned(),
            key.to_owned(),
            "--at".to_owned(),
            "2021-10-30 10:00".to_owned(),
        ]
    };
    let unknown = record("CA:no-such-rule");
    let error = env.fails(&unknown.iter().map(String::as_str).collect::<Vec<_>>(), 1);
    assert!(error.contains("JURISDICTION:obligation"), "{error}");
    let own = record("GB:gb-regulator");
    let error = env.fails(&own.iter().map(String::as_str).collect::<Vec<_>>(), 1);
    assert!(error.contains("regulator-notified"), "{error}");
    let canada = record("CA:ca-opc-report");
    env.ok(&canada.iter().map(String::as_str).collect::<Vec<_>>());
    // "Other organisations" (PIPEDA s 10.2) are no body to report to: recorded, nothing filed.
    let others = record("CA:ca-other-organizations");
    env.ok(&others.iter().map(String::as_str).collect::<Vec<_>>());
    let error = env.fails(&["report", &id, "--regulator", "CA:ca-other-organizations"], 1);
    assert!(
        error.contains("not a duty to a regulator or another body"),
        "{error}"
    );
    let filed = env.ok(&["register", "--format", "json"]).stdout;
    assert!(
        filed.contains("initial:CA:ca-opc-report") && !filed.contains("initial:CA:ca-other"),
        "{filed}"
    );
    let shown = env.ok(&["incident", "show", &id, "--json"]).json();
    let state = |jurisdiction: &str, obligation: &str| {
        obligation_of(&shown, jurisdiction, obligation).map(|clock| clock["state"].clone())
    };
    assert_eq!(state("CA", "ca-opc-report"), Some(serde_json::json!("met")));
    assert_ne!(
        state("CA-QC", "ca-qc-cai"),
        Some(serde_json::json!("met")),
        "Quebec's commission is another body"
    );
    // With a main establishment in Ireland, the Irish authority leads for the French member.
    let settings = env.dir().join("settings.toml");
    let mut text = std::fs::read_to_string(&settings).unwrap();
    text.push_str("\n[establishment]\neu_main = \"IE\"\n");
    std::fs::write(&settings, text).unwrap();
    let shown = env.ok(&["incident", "show", &id, "--json"]).json();
    assert_eq!(shown["obligations"]["lead"], "IE");
    let lead = obligation_of(&shown, "IE", "gdpr-regulator").unwrap();
    assert_eq!(lead["residents"], 1);
    let french = obligation_of(&shown, "FR", "gdpr-regulator").unwrap();
    assert_eq!(french["state"], "through_lead");
    let through = record("FR:gdpr-regulator");
    let error = env.fails(&through.iter().map(String::as_str).collect::<Vec<_>>(), 1);
    assert!(error.contains("through the lead authority"), "{error}");
}

/// One obligation of an incident as `incident show --json` gives it.
fn obligation_of<'v>(
    shown: &'v serde_json::Value,
    jurisdiction: &str,
    obligation: &str,
) -> Option<&'v serde_json::Value> {
    shown["obligations"]["clocks"]
        .as_array()?
        .iter()
        .find(|clock| clock["jurisdiction"] == jurisdiction && clock["obligation"] == obligation)
}

/// Members in six places whose laws shape a notice or a report differently.
const SIX_PLACES: &str = "Member Number,First Name,Last Name,Email,Street,City,State,Country,Category\n\
G1,Amy,Ward,amy@example.org,1 High St,Leeds,,GB,member\n\
C1,Cal,Diaz,cal@example.org,1 Market St,San Francisco,CA,US,member\n\
M1,Meg,Hale,meg@example.org,1 Beacon St,Boston,Massachusetts,US,member\n\
N1,Ned,Ford,ned@example.org,1 Broadway,New York,NY,US,member\n\
I1,Ita,Byrne,ita@example.org,1 Grafton St,Dublin,,Ireland,member\n\
F1,Flo,Roux,flo@example.org,3 rue de Rivoli,Paris,,France,member\n";

fn notice_text(env: &Env, reference: &str) -> String {
    let preview = env
        .ok(&["notice", "preview", "1", "--person", reference, "--json"])
        .json();
    let text = preview["text"].as_str().unwrap().to_owned();
    let html = preview["html"].as_str().unwrap();
    // The HTML says the same under the same headings.
    for line in text.lines().filter(|line| {
        !line.is_empty() && line.chars().all(|c| !c.is_lowercase()) && line.chars().any(char::is_alphabetic)
    }) {
        assert!(
            html.to_uppercase().contains(&format!(">{line}<")),
            "{line} missing from the HTML of {reference}: {html}"
        );
    }
    text
}

#[test]
fn each_persons_notice_carries_what_their_jurisdiction_requires() {
    let env = crate::notices::incident_in(
        Env::new(),
        SIX_PLACES,
        &crate::notices::export_of(&["G1", "C1", "M1", "N1", "I1"]),
    );
    let summary = "Ransomware at the mailing house";

    // UK people keep the UK advice and may complain to the organisation's regulator.
    let uk = notice_text(&env, "G1");
    assert!(uk.contains("WHAT HAPPENED") && uk.contains(summary), "{uk}");
    assert!(uk.contains("report@phishing.gov.uk"), "{uk}");
    assert!(uk.contains("right to complain to the"), "{uk}");

    // California: titled "Notice of Data Breach", under the law's five headings, with the credit
    // bureaus (Cal. Civ. Code § 1798.82(d)); no UK advice and no UK regulator.
    let california = notice_text(&env, "C1");
    assert!(california.starts_with("NOTICE OF DATA BREACH"), "{california}");
    let order: Vec<usize> = [
        "WHAT HAPPENED",
        "WHAT INFORMATION WAS INVOLVED",
        "WHAT WE ARE DOING",
        "WHAT YOU CAN DO",
        "FOR MORE INFORMATION",
    ]
    .iter()
    .map(|heading| {
        california
            .find(heading)
            .unwrap_or_else(|| panic!("{heading}: {california}"))
    })
    .collect();
    assert!(order.windows(2).all(|pair| pair[0] < pair[1]), "{order:?}");
    assert!(!california.contains("WHAT THIS COULD MEAN"), "{california}");
    for bureau in ["Equifax", "Experian", "TransUnion"] {
        assert!(california.contains(bureau), "{bureau}: {california}");
    }
    assert!(!california.contains("phishing.gov.uk") && !california.contains("complain to"));

    // Massachusetts forbids saying what happened (M.G.L. c. 93H § 3(b)) and requires the right
    // to a police report and the free security freeze.
    let massachusetts = notice_text(&env, "M1");
    assert!(
        !massachusetts.contains(summary) && !massachusetts.contains("WHAT HAPPENED"),
        "{massachusetts}"
    );
    assert!(
        massachusetts.contains("right to obtain a police report"),
        "{massachusetts}"
    );
    assert!(massachusetts.contains("no charge to place, lift or remove a security freeze"));
    assert!(
        !massachusetts.contains("police.") && uk.contains("We reported it to the police."),
        "no measure hints at the breach's nature in Massachusetts: {massachusetts}"
    );

    // New York: the state and federal agencies' numbers and websites (GBL § 899-aa(7)).
    let new_york = notice_text(&env, "N1");
    assert!(
        new_york.contains("Federal Trade Commission") && new_york.contains("dos.ny.gov"),
        "{new_york}"
    );

    // Ireland: the person may complain to their own authority (GDPR Art. 77).
    let ireland = notice_text(&env, "I1");
    assert!(
        ireland.contains("right to complain to the") && ireland.contains("(DPC)"),
        "{ireland}"
    );
    assert!(!ireland.contains("phishing.gov.uk"), "{ireland}");

    // A template for one jurisdiction, in its language, replaces the general one there only.
    std::fs::create_dir_all(env.dir().join("templates")).unwrap();
    std::fs::write(
        env.dir().join("templates").join("notice.IE.txt"),
        "A {{ greeting_name }}, a chara,\n{{ law.headings.data }}",
    )
    .unwrap();
    assert!(notice_text(&env, "I1").starts_with("A Ita, a chara,"));
    assert!(notice_text(&env, "G1").starts_with("Dear Amy,"));
}

#[test]
fn each_regulator_gets_the_report_in_its_own_structure_and_it_is_kept_as_filed() {
    let env = crate::notices::incident_in(
        Env::new(),
        SIX_PLACES,
        &crate::notices::export_of(&["G1", "C1", "I1", "F1"]),
    );
    // An EU authority gets the EDPB common template's sections, every item answered or not known.
    let edpb = env
        .ok(&["report", "1", "--regulator", "DPC", "--format", "json"])
        .json();
    assert_eq!(edpb["form"], "edpb");
    assert_eq!(edpb["to"]["jurisdiction"], "IE");
    let titles: Vec<&str> = edpb["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|section| section["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "Type of notification",
            "Controller, reporting person and data protection officer",
            "Nature of the breach",
            "Dates and duration",
            "People and data affected",
            "Measures in place at the time of the breach",
            "Likely consequences",
            "Measures to mitigate and to prevent",
            "Communication to the people affected",
        ]
    );
    let answer = |question: &str| {
        edpb["sections"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|section| section["items"].as_array().unwrap())
            .find(|item| item["question"] == question)
            .unwrap_or_else(|| panic!("no {question:?}"))["answer"]
            .clone()
    };
    let cross_border = answer("Is the breach cross-border?");
    assert!(
        cross_border.as_str().unwrap().contains("FR: 1") && cross_border.as_str().unwrap().contains("IE: 1"),
        "{cross_border}"
    );
    assert!(
        answer("Approximate number of people")
            .as_str()
            .unwrap()
            .starts_with("4 ")
    );
    assert_eq!(
        answer("When the breach started"),
        serde_json::Value::Null,
        "not recorded, so not known"
    );
    let nulls = edpb["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|section| section["items"].as_array().unwrap())
        .filter(|item| item["answer"].is_null())
        .count();
    assert_eq!(edpb["not_known"], nulls);
    let markdown = env.ok(&["report", "1", "--regulator", "IE"]).stdout;
    assert!(
        markdown.contains("To: Data Protection Commission") || markdown.contains("(DPC, IE)"),
        "{markdown}"
    );
    assert!(
        markdown.contains("## 5. People and data affected") && markdown.contains("Not known."),
        "{markdown}"
    );
    // Another regulator gets the same sections and what its own law asks the report to contain.
    let opc = env
        .ok(&["report", "1", "--regulator", "OPC", "--format", "json"])
        .json();
    let last = opc["sections"].as_array().unwrap().last().unwrap().clone();
    assert!(last["title"].as_str().unwrap().contains("PIPEDA"), "{last}");
    // The UK regulator's report is the UK form, as `report` gives it.
    let ico = env.ok(&["report", "1", "--regulator", "ICO"]).stdout;
    assert!(ico.starts_with("# Personal data breach report"), "{ico}");
    let error = env.fails(&["report", "1", "--regulator", "Nobody"], 1);
    assert!(
        error.contains("expected a regulator's short name, a jurisdiction code"),
        "{error}"
    );

    // Telling the Irish authority files its report as it stands, kept byte for byte.
    let error = env.fails(&["report", "1", "--regulator", "DPC", "--as-filed"], 1);
    assert!(error.contains("obligation-met"), "{error}");
    let record = [
        "incident",
        "record",
        "1",
        "obligation-met",
        "--obligation",
        "IE:gdpr-regulator",
        "--at",
        "2021-10-30 10:00",
    ];
    env.ok(&record);
    let filed = env
        .ok(&[
            "report",
            "1",
            "--regulator",
            "DPC",
            "--as-filed",
            "--format",
            "json",
        ])
        .json();
    assert_eq!(filed["form"], "edpb");
    assert_eq!(filed["to"]["short"], "DPC");
    let again = env
        .ok(&[
            "report",
            "1",
            "--regulator",
            "dpc",
            "--as-filed",
            "--format",
            "json",
        ])
        .json();
    assert_eq!(filed, again, "read back the same, whatever the case of the name");
    let error = env.fails(&record, 1);
    assert!(error.contains("already recorded as met"), "{error}");
    let error = env.fails(&["report", "1", "--regulator", "CNIL", "--as-filed"], 1);
    assert!(error.contains("no report of incident 1 to CNIL"), "{error}");
    // One short name, two authorities: named with the jurisdiction, never guessed.
    let error = env.fails(&["report", "1", "--regulator", "CNPD"], 1);
    assert!(error.contains("LU:CNPD") && error.contains("PT:CNPD"), "{error}");
    let portugal = env
        .ok(&["report", "1", "--regulator", "PT:CNPD", "--format", "json"])
        .json();
    assert_eq!(portugal["to"]["jurisdiction"], "PT");
    let due = portugal["sections"][0]["items"][5]["answer"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        due.contains("not owed for this incident"),
        "no one in Portugal: {due}"
    );
    // An attorney general is a body with its own law; its report is filed when it is told.
    let california = env
        .ok(&[
            "report",
            "1",
            "--regulator",
            "US-CA:us-ca-attorney-general",
            "--format",
            "json",
        ])
        .json();
    assert_eq!(california["form"], "us-ag");
    let last = california["sections"].as_array().unwrap().last().unwrap().clone();
    assert!(last["title"].as_str().unwrap().contains("1798.82(f)"), "{last}");
    assert!(
        env.ok(&["audit", "export"])
            .stdout
            .contains("initial:IE:gdpr-regulator"),
        "the filing is audited with its digests"
    );
}
