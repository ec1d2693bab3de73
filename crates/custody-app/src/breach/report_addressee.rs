//! Whom a report goes to: a body the jurisdiction rules name (a data-protection authority, a
//! state attorney general, another authority) and the duty to tell it, so that the report cites
//! that duty's law and contents, counts its own deadline, and is filed under the duty's own key
//! (`initial:IE:gdpr-regulator`): two authorities with one short name (Luxembourg's and
//! Portugal's CNPD) and two duties to one body (the ICO's under the UK GDPR and under PECR)
//! never share a filing.

use serde::Serialize;

use crate::breach::jurisdictions::{Jurisdiction, Obligation, Recipient, Regulator, Rules};
use crate::error::{Error, Result};

/// The body a report is addressed to, and the duty it answers.
#[derive(Debug, Clone, Serialize)]
pub struct Addressee {
    /// Its jurisdiction (ISO 3166-1 or 3166-2).
    pub jurisdiction: String,
    /// Its short name (`DPC`).
    pub short: String,
    /// Its full name.
    pub name: String,
    /// Where and how to report to it.
    pub contact: String,
    /// The form its report takes (`ico`, `edpb`, `oaic`, `us-ag`, …).
    pub form: String,
    /// The duty to tell it, when the rules give one.
    pub obligation: Option<String>,
    /// That duty's law.
    pub citation: Option<String>,
    /// What that law says the report must contain.
    pub contents: Vec<String>,
}

impl Addressee {
    /// The key its filing is kept under: `initial:IE:gdpr-regulator`.
    pub fn filing_phase(&self) -> Option<String> {
        self.obligation
            .as_ref()
            .map(|obligation| format!("initial:{}:{obligation}", self.jurisdiction))
    }
}

/// A duty owed to a body (not to the people or the credit bureaus), with the body's short name.
fn body_of<'j>(jurisdiction: &'j Jurisdiction, rule: &Obligation) -> Option<&'j Regulator> {
    match (&rule.regulator, rule.to) {
        (_, Recipient::Individuals | Recipient::ConsumerReportingAgencies) => None,
        (Some(short), _) => jurisdiction.regulators.iter().find(|r| &r.short == short),
        // "Other organisations" (PIPEDA s 10.2) are a body only where the rule names one.
        (None, Recipient::OtherAuthority) => None,
        (None, _) => jurisdiction.regulators.first(),
    }
}

fn made(jurisdiction: &Jurisdiction, regulator: &Regulator, duty: Option<&Obligation>) -> Addressee {
    Addressee {
        jurisdiction: jurisdiction.code.clone(),
        short: regulator.short.clone(),
        name: regulator.name.clone(),
        contact: regulator.contact.clone(),
        form: jurisdiction.report_form.clone(),
        obligation: duty.map(|rule| rule.id.clone()),
        citation: duty.map(|rule| rule.citation.clone()),
        contents: duty.map(|rule| rule.contents.clone()).unwrap_or_default(),
    }
}

/// The addressee of one duty, `JURISDICTION:obligation` as an incident lists it.
pub fn of_obligation(rules: &Rules, key: &str, variants: &[String]) -> Result<Addressee> {
    let (code, id) = key.split_once(':').unwrap_or((key, ""));
    let jurisdiction = rules
        .get(code)
        .ok_or_else(|| Error::Invalid(format!("{key}: the rules list no jurisdiction {code}")))?;
    crate::breach::obligations::applicable(jurisdiction, variants)
        .into_iter()
        .filter(|rule| rule.id.eq_ignore_ascii_case(id))
        .find_map(|rule| Some(made(jurisdiction, body_of(jurisdiction, rule)?, Some(rule))))
        .ok_or_else(|| {
            Error::Invalid(format!(
                "{key}: not a duty to a regulator or another body that {code}'s rules list"
            ))
        })
}

/// The body `name` names, and its first duty: `JURISDICTION:obligation` (`IE:gdpr-regulator`),
/// `JURISDICTION:SHORT` (`PT:CNPD`), a jurisdiction code (its first regulator: `IE`), or a short
/// name that only one jurisdiction uses (`DPC`; `CNPD` is Luxembourg's and Portugal's, so it is
/// refused with both named). Case aside.
pub fn addressee(rules: &Rules, name: &str, variants: &[String]) -> Result<Addressee> {
    let wanted = name.trim();
    if let Some((code, rest)) = wanted.split_once(':') {
        let jurisdiction = rules
            .jurisdictions
            .iter()
            .find(|jurisdiction| jurisdiction.code.eq_ignore_ascii_case(code));
        if let Some(jurisdiction) = jurisdiction {
            let key = format!("{}:{rest}", jurisdiction.code);
            match of_obligation(rules, &key, variants) {
                Ok(found) => return Ok(found),
                // A duty of the place, but not to a body: say so.
                Err(error)
                    if jurisdiction
                        .obligations
                        .iter()
                        .any(|rule| rule.id.eq_ignore_ascii_case(rest)) =>
                {
                    return Err(error);
                }
                Err(_) => {}
            }
            if let Some(regulator) = jurisdiction
                .regulators
                .iter()
                .find(|regulator| regulator.short.eq_ignore_ascii_case(rest))
            {
                return Ok(first_duty(jurisdiction, regulator, variants));
            }
        }
        return Err(unknown(rules, name));
    }
    if let Some(jurisdiction) = rules
        .jurisdictions
        .iter()
        .find(|jurisdiction| jurisdiction.code.eq_ignore_ascii_case(wanted))
    {
        let regulator = jurisdiction
            .regulators
            .first()
            .ok_or_else(|| unknown(rules, name))?;
        return Ok(first_duty(jurisdiction, regulator, variants));
    }
    let found: Vec<(&Jurisdiction, &Regulator)> = rules
        .jurisdictions
        .iter()
        .flat_map(|jurisdiction| {
            jurisdiction
                .regulators
                .iter()
                .filter(|regulator| regulator.short.eq_ignore_ascii_case(wanted))
                .map(move |regulator| (jurisdiction, regulator))
        })
        .collect();
    match found.as_slice() {
        [(jurisdiction, regulator)] => Ok(first_duty(jurisdiction, regulator, variants)),
        [] => Err(unknown(rules, name)),
        several => {
            let names: Vec<String> = several
                .iter()
                .map(|(jurisdiction, regulator)| format!("{}:{}", jurisdiction.code, regulator.short))
                .collect();
            Err(Error::Invalid(format!(
                "--regulator {name:?} names {} bodies; name one with its jurisdiction: {}",
                several.len(),
                names.join(" or ")
            )))
        }
    }
}

/// A body with its first duty under the variants switched on.
fn first_duty(jurisdiction: &Jurisdiction, regulator: &Regulator, variants: &[String]) -> Addressee {
    let duty = crate::breach::obligations::applicable(jurisdiction, variants)
        .into_iter()
        .find(|rule| body_of(jurisdiction, rule).is_some_and(|body| body.short == regulator.short));
    made(jurisdiction, regulator, duty)
}

fn unknown(rules: &Rules, name: &str) -> Error {
    let known: Vec<&str> = rules
        .jurisdictions
        .iter()
        .flat_map(|jurisdiction| jurisdiction.regulators.iter().map(|r| r.short.as_str()))
        .take(12)
        .collect();
    Error::Invalid(format!(
        "--regulator {name:?}: expected a regulator's short name, a jurisdiction code, or \
         JURISDICTION:obligation as `custody jurisdictions` and `incident show` list them ({}, …)",
        known.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::breach::jurisdictions::{SHIPPED, parse};

    #[test]
    fn a_name_finds_one_body_and_one_duty_or_says_why_not() {
        let rules = parse(SHIPPED, "shipped").unwrap();
        let dpc = addressee(&rules, "dpc", &[]).unwrap();
        assert_eq!((dpc.jurisdiction.as_str(), dpc.short.as_str()), ("IE", "DPC"));
        assert_eq!(dpc.filing_phase().as_deref(), Some("initial:IE:gdpr-regulator"));
        // One short name, two authorities: refused with both named.
        let error = addressee(&rules, "CNPD", &[]).unwrap_err().to_string();
        assert!(error.contains("LU:CNPD") && error.contains("PT:CNPD"), "{error}");
        let portugal = addressee(&rules, "PT:CNPD", &[]).unwrap();
        assert_eq!(portugal.jurisdiction, "PT");
        assert_eq!(addressee(&rules, "pt", &[]).unwrap().jurisdiction, "PT");
        // Two duties to one body are two filings (PECR's, for a telecoms provider that says so).
        let provider = ["uk-pecr-provider".to_owned()];
        let pecr = addressee(&rules, "GB:gb-pecr-regulator", &provider).unwrap();
        assert_eq!(pecr.short, "ICO");
        assert_ne!(
            pecr.filing_phase(),
            addressee(&rules, "ICO", &provider).unwrap().filing_phase()
        );
        assert!(
            addressee(&rules, "GB:gb-pecr-regulator", &[]).is_err(),
            "a variant not switched on"
        );
        // An attorney general is a body with a duty and a law of its own.
        let california = addressee(&rules, "US-CA:us-ca-attorney-general", &[]).unwrap();
        assert_eq!(
            california.citation.as_deref(),
            Some("Cal. Civ. Code § 1798.82(f)")
        );
        assert!(
            addressee(&rules, "US-CA:us-ca-individuals", &[]).is_err(),
            "people are not a body"
        );
        assert!(addressee(&rules, "Nobody", &[]).is_err());
    }
}
