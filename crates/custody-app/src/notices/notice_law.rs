//! What a person's notice must carry where they live: the duty to tell people of the rules of
//! their region and their country (`custody jurisdictions`, under the variants switched on)
//! gives its prescribed title and headings, the sentences it requires (a right to a police
//! report, local advice), the agencies it requires named (credit bureaus, the FTC), the parts it
//! forbids (Massachusetts: what happened), and the regulator a person may complain to. People
//! whose place the rules do not know get custody's headings and the organisation's own regulator
//! to complain to, without the local lines and agencies of any place's law.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::breach::jurisdictions::{Jurisdiction, LeaveOut, NoticeContact, Recipient, Rules};

/// The notice's section headings, as the law words them or in custody's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Headings {
    /// What happened.
    pub happened: String,
    /// Which of the person's data.
    pub data: String,
    /// What it could mean for them; none where the law's headings have no such section (the
    /// consequences then open "what you can do").
    pub meaning: Option<String>,
    /// What the organisation has done.
    pub done: String,
    /// What they can do.
    pub can_do: String,
    /// Whom to contact.
    pub contact: String,
}

impl Default for Headings {
    fn default() -> Self {
        Headings {
            happened: "What happened".to_owned(),
            data: "Which of your data".to_owned(),
            meaning: Some("What this could mean for you".to_owned()),
            done: "What we have done".to_owned(),
            can_do: "What you can do".to_owned(),
            contact: "Contact us".to_owned(),
        }
    }
}

/// What one place's law asks of a notice.
#[derive(Debug, Clone, Serialize)]
pub struct NoticeLaw {
    /// The jurisdiction whose rules shaped it (the region's where it has its own), none where the
    /// rules do not know the place.
    pub jurisdiction: Option<String>,
    /// The title the law prescribes ("Notice of Data Breach").
    pub title: Option<String>,
    /// The section headings.
    pub headings: Headings,
    /// False where the law forbids describing the breach.
    pub tell_what_happened: bool,
    /// Sentences the law (or local advice) adds under "what you can do".
    pub lines: Vec<String>,
    /// Agencies the notice names, with their details.
    pub contacts: Vec<NoticeContact>,
    /// The regulator the person may complain to, in words; none where their law gives no
    /// data-protection regulator (the US states).
    pub complain_to: Option<String>,
    /// The rules that shaped it.
    pub citations: Vec<String>,
}

/// The notice laws of every place the rules know, and the default.
#[derive(Debug, Clone)]
pub struct NoticeLaws {
    by_place: BTreeMap<String, NoticeLaw>,
    /// For a place the rules do not know.
    default: NoticeLaw,
    /// For a person whose place is not recorded: the organisation's own country's.
    home: NoticeLaw,
}

impl NoticeLaws {
    /// The laws by `rules` under `variants`; `home` is the organisation's own country, whose
    /// regulator is named in `regulator`'s words (the settings').
    pub fn new(rules: &Rules, variants: &[String], home: &str, regulator: &str) -> Self {
        let mut by_place = BTreeMap::new();
        for jurisdiction in &rules.jurisdictions {
            let country = jurisdiction
                .code
                .split_once('-')
                .and_then(|(country, _)| rules.get(country));
            let places: Vec<&Jurisdiction> = std::iter::once(jurisdiction).chain(country).collect();
            by_place.insert(
                jurisdiction.code.clone(),
                law_of(rules, &places, variants, home, regulator),
            );
        }
        let default = NoticeLaw {
            jurisdiction: None,
            title: None,
            headings: Headings::default(),
            tell_what_happened: true,
            lines: Vec::new(),
            contacts: Vec::new(),
            complain_to: Some(regulator.to_owned()),
            citations: Vec::new(),
        };
        let home = by_place.get(home).cloned().unwrap_or_else(|| default.clone());
        NoticeLaws {
            by_place,
            default,
            home,
        }
    }

    /// The law of a person in `country` and `region`: the region's where the rules know it,
    /// else the country's; with no place recorded, the organisation's own country's; a place
    /// the rules do not know gets no place's local lines.
    pub fn of(&self, country: Option<&str>, region: Option<&str>) -> &NoticeLaw {
        if country.is_none() && region.is_none() {
            return &self.home;
        }
        region
            .and_then(|region| self.by_place.get(region))
            .or_else(|| country.and_then(|country| self.by_place.get(country)))
            .unwrap_or(&self.default)
    }

    /// The laws of every place the rules know (for checking each place's templates).
    pub fn places(&self) -> impl Iterator<Item = (&str, &NoticeLaw)> {
        self.by_place.iter().map(|(code, law)| (code.as_str(), law))
    }
}

/// The notice law of a place: `places` is the place and, for a region, its country; the
/// region's rules come first.
fn law_of(
    rules: &Rules,
    places: &[&Jurisdiction],
    variants: &[String],
    home: &str,
    regulator: &str,
) -> NoticeLaw {
    let duties: Vec<_> = places
        .iter()
        .flat_map(|place| crate::breach::obligations::applicable(place, variants))
        .filter(|rule| rule.to == Recipient::Individuals)
        .collect();
    let headings = duties
        .iter()
        .find_map(|rule| match rule.headings.as_slice() {
            [happened, data, done, can_do, contact] => Some(Headings {
                happened: happened.clone(),
                data: data.clone(),
                meaning: None,
                done: done.clone(),
                can_do: can_do.clone(),
                contact: contact.clone(),
            }),
            _ => None,
        })
        .unwrap_or_default();
    let mut lines: Vec<String> = Vec::new();
    let mut contacts: Vec<NoticeContact> = Vec::new();
    for rule in &duties {
        for line in &rule.notice_lines {
            if !lines.contains(line) {
                lines.push(line.clone());
            }
        }
        for id in &rule.notice_contacts {
            if let Some(contact) = rules.contact(id)
                && !contacts.contains(contact)
            {
                contacts.push(contact.clone());
            }
        }
    }
    // A person may complain to their own place's data-protection regulator (GDPR Art. 77: where
    // they live); the organisation's own is named as its settings name it.
    let complain_to = places.iter().find_map(|place| {
        let has_regulator_duty = place
            .obligations
            .iter()
            .any(|rule| rule.to == Recipient::Regulator);
        let first = place.regulators.first().filter(|_| has_regulator_duty)?;
        Some(if place.code == home {
            regulator.to_owned()
        } else {
            format!("{} ({})", first.name, first.short)
        })
    });
    NoticeLaw {
        jurisdiction: places.first().map(|place| place.code.clone()),
        title: duties.iter().find_map(|rule| rule.title.clone()),
        headings,
        tell_what_happened: !duties
            .iter()
            .any(|rule| rule.leave_out.contains(&LeaveOut::WhatHappened)),
        lines,
        contacts,
        complain_to,
        citations: duties.iter().map(|rule| rule.citation.clone()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::breach::jurisdictions::{SHIPPED, parse};

    fn laws() -> NoticeLaws {
        let rules = parse(SHIPPED, "shipped").unwrap();
        NoticeLaws::new(&rules, &[], "GB", "Information Commissioner's Office (ICO)")
    }

    #[test]
    fn california_prescribes_its_title_and_headings_and_the_credit_bureaus() {
        let laws = laws();
        let california = laws.of(Some("US"), Some("US-CA"));
        assert_eq!(california.jurisdiction.as_deref(), Some("US-CA"));
        assert_eq!(california.title.as_deref(), Some("Notice of Data Breach"));
        assert_eq!(california.headings.happened, "What Happened");
        assert_eq!(california.headings.data, "What Information Was Involved");
        assert_eq!(california.headings.done, "What We Are Doing");
        assert_eq!(california.headings.can_do, "What You Can Do");
        assert_eq!(california.headings.contact, "For More Information");
        assert_eq!(california.headings.meaning, None);
        let names: Vec<&str> = california.contacts.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["Equifax", "Experian", "TransUnion"]);
        assert_eq!(california.complain_to, None, "no state data-protection regulator");
        assert!(california.tell_what_happened);
    }

    #[test]
    fn massachusetts_forbids_saying_what_happened_and_requires_the_police_report_right() {
        let laws = laws();
        let massachusetts = laws.of(Some("US"), Some("US-MA"));
        assert!(!massachusetts.tell_what_happened);
        assert!(
            massachusetts
                .lines
                .iter()
                .any(|line| line.contains("police report"))
        );
        assert!(massachusetts.lines.iter().any(|line| line.contains("no charge")));
        let new_york = laws.of(Some("US"), Some("US-NY"));
        assert!(new_york.tell_what_happened);
        assert!(new_york.contacts.iter().any(|c| c.id == "ftc"));
        assert!(new_york.contacts.iter().any(|c| c.id == "ny-dos"));
    }

    #[test]
    fn uk_people_keep_the_uk_advice_and_others_complain_to_their_own_regulator() {
        let laws = laws();
        let uk = laws.of(Some("GB"), None);
        assert_eq!(uk.headings, Headings::default());
        assert_eq!(
            uk.complain_to.as_deref(),
            Some("Information Commissioner's Office (ICO)")
        );
        assert!(uk.lines.iter().any(|line| line.contains("7726")));
        let ireland = laws.of(Some("IE"), None);
        assert!(
            ireland.lines.is_empty(),
            "no UK advice abroad: {:?}",
            ireland.lines
        );
        assert!(
            ireland
                .complain_to
                .as_deref()
                .is_some_and(|to| to.contains("(DPC)")),
            "{:?}",
            ireland.complain_to
        );
        let quebec = laws.of(Some("CA"), Some("CA-QC"));
        assert_eq!(quebec.jurisdiction.as_deref(), Some("CA-QC"));
        // A place the rules do not know: no place's local lines, the organisation's regulator.
        for (country, region) in [(Some("JP"), None), (Some("US"), Some("US-OR"))] {
            let elsewhere = laws.of(country, region);
            assert_eq!(elsewhere.jurisdiction, None);
            assert!(
                elsewhere.lines.is_empty() && elsewhere.contacts.is_empty(),
                "{elsewhere:?}"
            );
            assert_eq!(
                elsewhere.complain_to.as_deref(),
                Some("Information Commissioner's Office (ICO)")
            );
        }
        // No place recorded: the organisation's own country's.
        assert_eq!(laws.of(None, None).jurisdiction.as_deref(), Some("GB"));
    }
}
