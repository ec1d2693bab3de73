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
