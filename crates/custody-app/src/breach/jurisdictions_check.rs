//! Checks a jurisdiction rules file whole, naming the line and column of the first fault: every
//! obligation cites its law and source and was checked on a real day, its deadline can be
//! computed, its regulator and the obligation it replaces exist, ids and codes are unique.

use std::collections::{BTreeMap, BTreeSet};

use toml::Spanned;

use crate::breach::jurisdictions::{
    FORMAT, Jurisdiction, JurisdictionFile, NoticeContact, Obligation, Recipient, RulesFile,
};
use crate::error::{Error, Result};

/// The 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |last| last.chars().count()) + 1;
    (line, column)
}

/// The error for a fault in the item that starts at `offset`.
fn fault(text: &str, origin: &str, offset: usize, what: &str) -> Error {
    let (line, column) = line_column(text, offset);
    Error::Invalid(format!("{origin}: line {line}, column {column}: {what}"))
}

/// The jurisdictions of a rules file, their rule sets' obligations included, once every rule is
/// good.
pub(crate) fn check(
    file: RulesFile,
    text: &str,
    origin: &str,
) -> Result<(Vec<Jurisdiction>, Vec<NoticeContact>)> {
    let at = |offset: usize, what: &str| fault(text, origin, offset, what);
    if *file.format.get_ref() != FORMAT {
        return Err(at(
            file.format.span().start,
            &format!(
                "format = {}; this custody reads format = {FORMAT}",
                file.format.get_ref()
            ),
        ));
    }
    let mut ids = BTreeSet::new();
    let mut sets: BTreeMap<String, Vec<Obligation>> = BTreeMap::new();
    for set in file.rule_set {
        let start = set.span().start;
        let set = set.into_inner();
        if set.id.trim().is_empty() || sets.contains_key(&set.id) {
            return Err(at(
                start,
                &format!("the rule set id {:?} is empty or taken", set.id),
            ));
        }
        if set.name.trim().is_empty() {
            return Err(at(start, "a rule set has no name"));
        }
        let obligations = obligations(&set.obligation, &[], &mut ids, &at)?;
        sets.insert(set.id, obligations);
    }
    let mut codes = BTreeSet::new();
    let mut out = Vec::with_capacity(file.jurisdiction.len());
    for jurisdiction in file.jurisdiction {
        let start = jurisdiction.span().start;
        let jurisdiction = jurisdiction.into_inner();
        if !is_code(&jurisdiction.code) {
            return Err(at(
                start,
                &format!(
                    "the code {:?} is not an ISO 3166-1 alpha-2 code (GB) or an ISO 3166-2 region (US-CA)",
                    jurisdiction.code
                ),
            ));
        }
        if !codes.insert(jurisdiction.code.clone()) {
            return Err(at(start, &format!("{} is given twice", jurisdiction.code)));
        }
        out.push(resolve(jurisdiction, start, &sets, &mut ids, &at)?);
    }
    if out.is_empty() {
        return Err(Error::Invalid(format!("{origin}: it names no jurisdiction")));
    }
    let contacts = contacts(file.contact, &at)?;
    for jurisdiction in &out {
        for rule in &jurisdiction.obligations {
            if let Some(missing) = rule
                .notice_contacts
                .iter()
                .find(|id| !contacts.iter().any(|contact| &contact.id == *id))
            {
                return Err(Error::Invalid(format!(
                    "{origin}: obligation {} names the notice contact {missing:?}, which no [[contact]] defines",
                    rule.id
                )));
            }
        }
    }
    Ok((out, contacts))
}

/// The notice contacts, each with every detail, a source and a checked day.
fn contacts(
    list: Vec<Spanned<NoticeContact>>,
    at: &dyn Fn(usize, &str) -> Error,
) -> Result<Vec<NoticeContact>> {
    let mut out: Vec<NoticeContact> = Vec::with_capacity(list.len());
    for contact in list {
        let start = contact.span().start;
        let contact = contact.into_inner();
        let id = &contact.id;
        if id.is_empty() || out.iter().any(|seen| &seen.id == id) {
            return Err(at(start, &format!("the contact id {id:?} is empty or taken")));
        }
        let details = [
            &contact.name,
            &contact.purpose,
            &contact.phone,
            &contact.address,
            &contact.web,
            &contact.source,
        ];
        if details.iter().any(|value| value.trim().is_empty()) {
            return Err(at(
                start,
                &format!("contact {id} lacks a name, purpose, phone, address, web or source"),
            ));
        }
        checked_day(&contact.checked).map_err(|what| at(start, &format!("contact {id}: {what}")))?;
        out.push(contact);
    }
    Ok(out)
}

/// One jurisdiction, checked, with its rule sets' obligations.
fn resolve(
    jurisdiction: JurisdictionFile,
    start: usize,
    sets: &BTreeMap<String, Vec<Obligation>>,
    ids: &mut BTreeSet<String>,
    at: &dyn Fn(usize, &str) -> Error,
) -> Result<Jurisdiction> {
    let code = &jurisdiction.code;
    for (field, value) in [
        ("name", &jurisdiction.name),
        ("law", &jurisdiction.law),
        ("report_form", &jurisdiction.report_form),
    ] {
        if value.trim().is_empty() {
            return Err(at(start, &format!("{code} has no {field}")));
        }
    }
    checked_day(&jurisdiction.checked).map_err(|what| at(start, &format!("{code}: {what}")))?;
    let regulators: Vec<_> = jurisdiction
        .regulator
        .into_iter()
        .map(|regulator| {
            let start = regulator.span().start;
            let regulator = regulator.into_inner();
            if [
                &regulator.short,
                &regulator.name,
                &regulator.contact,
                &regulator.source,
            ]
            .iter()
            .any(|value| value.trim().is_empty())
            {
                return Err(at(
                    start,
                    &format!("a regulator of {code} lacks a short name, name, contact or source"),
                ));
            }
            Ok(regulator)
        })
        .collect::<Result<_>>()?;
    let shorts: Vec<&str> = regulators
        .iter()
        .map(|regulator| regulator.short.as_str())
        .collect();
    if let Some(twice) = shorts.iter().enumerate().find(|(index, short)| {
        shorts
            .iter()
            .skip(index + 1)
            .any(|other| other.eq_ignore_ascii_case(short))
    }) {
        return Err(at(
            start,
            &format!("{code} lists the regulator short name {:?} twice", twice.1),
        ));
    }
    let mut all = Vec::new();
    for set in &jurisdiction.rule_sets {
        let Some(shared) = sets.get(set) else {
            return Err(at(
                start,
                &format!("{code} uses the rule set {set:?}, which the file does not define"),
            ));
        };
        all.extend(shared.iter().cloned());
    }
    all.extend(obligations(&jurisdiction.obligation, &shorts, ids, at)?);
    if !all.is_empty() && regulators.is_empty() {
        return Err(at(
            start,
            &format!("{code} has obligations but no regulator to tell"),
        ));
    }
    Ok(Jurisdiction {
        code: jurisdiction.code,
        name: jurisdiction.name,
        law: jurisdiction.law,
        checked: jurisdiction.checked,
        report_form: jurisdiction.report_form,
        eu: jurisdiction.eu,
        regulators,
        obligations: all,
    })
}

/// A list of obligations, each checked; `regulators` are the short names they may name.
fn obligations(
    list: &[Spanned<Obligation>],
    regulators: &[&str],
    ids: &mut BTreeSet<String>,
    at: &dyn Fn(usize, &str) -> Error,
) -> Result<Vec<Obligation>> {
    let local: BTreeSet<&str> = list
        .iter()
        .map(|obligation| obligation.get_ref().id.as_str())
        .collect();
    let mut out = Vec::with_capacity(list.len());
    for obligation in list {
        let start = obligation.span().start;
        let rule = obligation.get_ref();
        let id = &rule.id;
        if id.is_empty()
            || !id
                .bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
        {
            return Err(at(
                start,
                &format!("the obligation id {id:?} is not lowercase letters, digits and dashes"),
            ));
        }
        if !ids.insert(id.clone()) {
            return Err(at(start, &format!("the obligation id {id:?} is given twice")));
        }
        let problem = problem(rule, regulators, &local);
        if let Some(what) = problem {
            return Err(at(start, &format!("obligation {id}: {what}")));
        }
        out.push(rule.clone());
    }
    Ok(out)
}

/// What is wrong with one obligation, if anything.
fn problem(rule: &Obligation, regulators: &[&str], local: &BTreeSet<&str>) -> Option<String> {
    if rule.citation.trim().is_empty() {
        return Some("it cites no law (citation = \"Art. …\" expected)".to_owned());
    }
    if rule.source.trim().is_empty() {
        return Some("it gives no source (the official text's address expected)".to_owned());
    }
    if let Err(what) = checked_day(&rule.checked) {
        return Some(what);
    }
    match rule.deadline {
        None if !rule.without_undue_delay => {
            return Some(
                "its deadline cannot be computed: give deadline = { hours = N, from = … } or { days = N, from = … }, \
                 or without_undue_delay = true"
                    .to_owned(),
            );
        }
        Some(deadline) if deadline.hours.is_some() == deadline.days.is_some() => {
            return Some("its deadline must give hours or days, one of them".to_owned());
        }
        _ => {}
    }
    if !matches!(rule.headings.len(), 0 | 5) {
        return Some(
            "headings must be five, in the order: what happened, which information, what we are doing, \
             what you can do, for more information"
                .to_owned(),
        );
    }
    if rule.to != Recipient::Individuals
        && (!rule.headings.is_empty()
            || rule.title.is_some()
            || !rule.notice_lines.is_empty()
            || !rule.notice_contacts.is_empty()
            || !rule.leave_out.is_empty())
    {
        return Some(
            "headings, title, notice_lines, notice_contacts and leave_out shape the notice to people: \
             they belong to an obligation with to = \"individuals\""
                .to_owned(),
        );
    }
    if rule.residents_at_least == 0 {
        return Some("residents_at_least must be 1 or more".to_owned());
    }
    if let Some(name) = &rule.regulator
        && !regulators.contains(&name.as_str())
    {
        return Some(format!(
            "it goes to the regulator {name:?}, which its jurisdiction does not list"
        ));
    }
    match (&rule.variant, &rule.replaces) {
        (None, Some(_)) => Some("replaces is given without a variant".to_owned()),
        (_, Some(replaced)) if !local.contains(replaced.as_str()) => Some(format!(
            "it replaces {replaced:?}, which is not an obligation beside it"
        )),
        _ => None,
    }
}

/// A checked day must be a real date, as yyyy-mm-dd.
fn checked_day(text: &str) -> std::result::Result<(), String> {
    let well_formed = text.len() == 10 && text.as_bytes().get(4) == Some(&b'-');
    match custody_core::parse_day(text) {
        Ok(_) if well_formed => Ok(()),
        _ => Err(format!("checked = {text:?} is not a date as yyyy-mm-dd")),
    }
}

/// An ISO 3166-1 alpha-2 code, or one with an ISO 3166-2 subdivision (`US-CA`, `CA-QC`).
fn is_code(code: &str) -> bool {
    let (country, region) = code
        .split_once('-')
        .map_or((code, None), |(country, region)| (country, Some(region)));
    let country_ok = country.len() == 2 && country.bytes().all(|byte| byte.is_ascii_uppercase());
    let region_ok = region.is_none_or(|region| {
        (1..=3).contains(&region.len())
            && region
                .bytes()
                .all(|byte| byte.is_ascii_uppercase() || byte.is_ascii_digit())
    });
    country_ok && region_ok
}

#[cfg(test)]
mod tests {
    use crate::breach::jurisdictions::{Recipient, SHIPPED, parse};

    const GOOD: &str = r#"format = 1

[[jurisdiction]]
code = "GB"
name = "United Kingdom"
law = "UK GDPR"
checked = "2026-12-03"
report_form = "ico"

[[jurisdiction.regulator]]
short = "ICO"
name = "Information Commissioner's Office"
contact = "https://ico.org.uk"
source = "https://ico.org.uk"
verified = true

[[jurisdiction.obligation]]
id = "gb-regulator"
to = "regulator"
threshold = "risk"
deadline = { hours = 72, from = "awareness" }
citation = "UK GDPR Art. 33(1)"
source = "https://www.legislation.gov.uk/eur/2016/679/article/33"
checked = "2026-12-03"
verified = true
"#;

    #[test]
    fn the_shipped_rules_are_good_and_cover_what_custody_promises() {
        let rules = parse(SHIPPED, "shipped").unwrap();
        for code in [
            "GB", "IE", "FR", "DE", "NL", "NO", "AU", "CA", "US-CA", "US-NY", "US-TX", "US-FL", "US-MA",
            "US-IL", "US-WA",
        ] {
            let jurisdiction = rules.get(code).unwrap_or_else(|| panic!("{code} is missing"));
            assert!(!jurisdiction.regulators.is_empty(), "{code}");
            assert!(
                jurisdiction
                    .obligations
                    .iter()
                    .any(|rule| rule.to == Recipient::Individuals),
                "{code} says nothing of telling people"
            );
        }
        let france = rules.get("FR").unwrap();
        assert!(france.eu);
        let regulator = france
            .obligations
            .iter()
            .find(|rule| rule.id == "gdpr-regulator")
            .unwrap();
        assert_eq!(regulator.deadline.and_then(|deadline| deadline.hours), Some(72));
        let omnibus = france
            .obligations
            .iter()
            .find(|rule| rule.variant.as_deref() == Some("eu-omnibus-2025"))
            .unwrap();
        assert_eq!(omnibus.deadline.and_then(|deadline| deadline.hours), Some(96));
        let california = rules.get("US-CA").unwrap();
        let headings: Vec<&str> = california
            .obligations
            .iter()
            .flat_map(|rule| rule.headings.iter().map(String::as_str))
            .collect();
        assert!(
            headings.contains(&"What Happened") && headings.contains(&"For More Information"),
            "{headings:?}"
        );
        assert_eq!(rules.sha256.len(), 64);
    }

    #[test]
    fn a_good_file_is_read() {
        let rules = parse(GOOD, "good.toml").unwrap();
        assert_eq!(rules.jurisdictions.len(), 1);
        assert_eq!(rules.get("GB").unwrap().obligations.len(), 1);
    }

    fn refused(text: &str) -> String {
        parse(text, "rules.toml").unwrap_err().to_string()
    }

    #[test]
    fn faults_are_named_with_their_line_and_what_was_expected() {
        let unknown = refused(&format!("{GOOD}urgent = true\n"));
        assert!(
            unknown.contains("rules.toml: line 26") && unknown.contains("urgent"),
            "{unknown}"
        );
        let uncited = refused(&GOOD.replace("citation = \"UK GDPR Art. 33(1)\"", "citation = \"\""));
        assert!(
            uncited.contains("line 17") && uncited.contains("cites no law"),
            "{uncited}"
        );
        let no_deadline = refused(&GOOD.replace("deadline = { hours = 72, from = \"awareness\" }\n", ""));
        assert!(
            no_deadline.contains("line 17") && no_deadline.contains("cannot be computed"),
            "{no_deadline}"
        );
        let both = refused(&GOOD.replace("{ hours = 72, from", "{ hours = 72, days = 3, from"));
        assert!(both.contains("hours or days, one of them"), "{both}");
        let unknown_from = refused(&GOOD.replace("from = \"awareness\"", "from = \"breakfast\""));
        assert!(
            unknown_from.contains("line 21") && unknown_from.contains("breakfast"),
            "{unknown_from}"
        );
        let bad_day = refused(&GOOD.replacen("checked = \"2026-12-03\"", "checked = \"2026-13-03\"", 1));
        assert!(
            bad_day.contains("line 3") && bad_day.contains("yyyy-mm-dd"),
            "{bad_day}"
        );
        let bad_code = refused(&GOOD.replace("code = \"GB\"", "code = \"Britain\""));
        assert!(bad_code.contains("ISO 3166"), "{bad_code}");
        let stranger = refused(&GOOD.replace(
            "threshold = \"risk\"",
            "regulator = \"CNIL\"\nthreshold = \"risk\"",
        ));
        assert!(stranger.contains("\"CNIL\""), "{stranger}");
        let format = refused(&GOOD.replace("format = 1", "format = 2"));
        assert!(
            format.contains("line 1") && format.contains("format = 1"),
            "{format}"
        );
        let twice = refused(&format!(
            "{GOOD}{}",
            &GOOD[GOOD.find("[[jurisdiction]]").unwrap()..]
        ));
        assert!(twice.contains("GB is given twice"), "{twice}");
    }
}
