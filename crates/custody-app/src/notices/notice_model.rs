//! What a notice to a person says, from recorded facts only: the incident in the words of its
//! record, the supplier (or "a supplier that processes data for us"), which of *that person's*
//! data the supplier held (from the ledger), likely consequences by kind of data, and what the
//! organisation has done (from the acts, contacts and mitigations recorded on the incident).

use custody_core::IncidentId;
use std::collections::BTreeMap;

use serde::Serialize;

use custody_core::{CategoryKey, PersonCategory, PersonSet};
use custody_store::{IncidentRecord, PersonRecord};

use crate::breach::incident_events::{IncidentEventBody, Recorded};
use crate::breach::incidents::find_incident;
use crate::dir::Ledger;
use crate::error::Result;

/// The incident as notices tell it.
#[derive(Debug, Clone, Serialize)]
pub struct IncidentWords {
    /// The supplier's name, or words that do not name it (settings).
    pub supplier_words: String,
    /// What happened, as recorded.
    pub summary: String,
    /// The day the organisation became aware ("29 October 2021").
    pub aware_day: String,
    /// Whether it happened at the organisation itself (then `supplier_words` is its name).
    pub in_house: bool,
    /// When it happened, as recorded ("between 7 February 2020 and 20 May 2020").
    pub occurred: Option<String>,
}

/// Everything a run's notices share, computed once.
pub struct NoticeContext {
    /// Incident id.
    pub incident: IncidentId,
    /// The incident in words.
    pub words: IncidentWords,
    /// Who the supplier held, by data category (over the incident's window).
    pub held: Vec<(CategoryKey, PersonSet)>,
    /// Everyone the supplier held (canaries apart).
    pub affected: PersonSet,
    /// Canaries the supplier held (never mailed).
    pub canaries_held: u64,
    /// What the organisation has done.
    pub measures: Vec<String>,
    /// The same, without what would hint at the breach's nature.
    neutral_measures: Vec<String>,
    /// Whether it was decided not to write to each person because that would involve
    /// disproportionate effort (Art. 34(3)(c)): the public statement is then the communication.
    pub public_is_the_notice: bool,
    special: BTreeMap<PersonCategory, Vec<CategoryKey>>,
    laws: crate::notices::notice_law::NoticeLaws,
    organisation: String,
    dpo: custody_core::DpoContact,
    regulator: String,
}

/// One person's part of a notice.
#[derive(Debug, Clone, Serialize)]
pub struct PersonPart {
    /// Their reference.
    pub reference: String,
    /// Their first name, when known.
    pub first_name: Option<String>,
    /// "your name, email address and postcode", or nothing when the supplier held none.
    pub held_words: Option<String>,
    /// The same about someone else at the address: "their name, …".
    pub their_words: Option<String>,
    /// What their being on the supplier's records reveals (Art. 9), in words.
    pub special: Option<String>,
    #[serde(skip)]
    keys: Vec<CategoryKey>,
    #[serde(skip)]
    place: (Option<String>, Option<String>),
}

/// The model a notice template renders.
#[derive(Debug, Clone, Serialize)]
pub struct NoticeModel<'a> {
    /// Organisation.
    pub organisation: &'a str,
    /// DPO.
    pub dpo: &'a custody_core::DpoContact,
    /// Regulator.
    pub regulator: &'a str,
    /// "Dear …" when the message covers one person whose first name is known.
    pub greeting_name: Option<String>,
    /// The incident.
    pub incident: &'a IncidentWords,
    /// The people the message covers.
    pub people: Vec<PersonPart>,
    /// Likely consequences for them.
    pub consequences: Vec<String>,
    /// What the organisation has done.
    pub measures: &'a [String],
    /// What the law of the place the people live in asks of the notice.
    pub law: &'a crate::notices::notice_law::NoticeLaw,
    /// The place the people live in (region, else country) whose templates are used.
    #[serde(skip)]
    pub place: Option<String>,
}

impl NoticeModel<'_> {
    /// Renders it with the templates of the people's place (`notice.US-CA.txt` where given).
    pub fn render(
        &self,
        templates: &custody_mail::Templates,
    ) -> custody_mail::Result<custody_mail::NoticeText> {
        templates.notice_for(self.place.as_deref(), self)
    }
}

/// The order a person reads their data in: names, then how to reach them, then the rest.
fn reading_order(key: &CategoryKey) -> (u8, &'static str) {
    let text = key.as_str();
    let rank = if text.starts_with("user.name") {
        0
    } else if text == "user.contact.email" {
        1
    } else if text == "user.contact.phone_number" {
        2
    } else if text.starts_with("user.contact") {
        3
    } else if text.starts_with("user.demographic.date_of_birth") {
        4
    } else {
        5
    };
    (rank, text)
}

/// "your name, email address and postcode": the first label keeps "your".
pub fn plain_list(keys: &[CategoryKey]) -> Option<String> {
    let mut keys = keys.to_vec();
    // "your name" says it all; "your first name" beside it repeats it.
    if keys.iter().any(|key| key.as_str() == "user.name") {
        keys.retain(|key| !matches!(key.as_str(), "user.name.first" | "user.name.last"));
    }
    keys.sort_by_key(reading_order);
    let labels: Vec<String> = keys
        .iter()
        .enumerate()
        .map(|(index, key)| {
            let label = key.plain_label();
            if index == 0 {
                label
            } else {
                label.strip_prefix("your ").map_or(label.clone(), str::to_owned)
            }
        })
        .collect();
    match labels.as_slice() {
        [] => None,
        [one] => Some(one.clone()),
        [rest @ .., last] => Some(format!("{} and {last}", rest.join(", "))),
    }
}

/// What the organisation has done, from the incident's record; and the same without what hints
/// at the breach's nature (who was told of it, how it was contained).
fn measures(
    ledger: &Ledger,
    incident: &IncidentRecord,
    events: &[Recorded],
    supplier: &str,
) -> (Vec<String>, Vec<String>) {
    let mut out = Vec::new();
    if let Some(at) =
        crate::breach::incidents::first_act(events, crate::breach::incidents::Act::RegulatorNotified)
    {
        out.push(format!(
            "We reported the incident to the {} on {}.",
            ledger.settings.regulator,
            day_words(ledger, at)
        ));
    }
    let contacted = |party: &str| {
        events.iter().any(|recorded| {
            matches!(&recorded.body, IncidentEventBody::Entry(entry) if entry.with.as_deref() == Some(party))
        })
    };
    if contacted("police") {
        out.push("We reported it to the police.".to_owned());
    }
    if contacted("cyber-security-agency") {
        out.push("We told the national cyber-security agency.".to_owned());
    }
    if contacted("forensics") {
        out.push("We engaged specialists to investigate what happened.".to_owned());
    }
    let mitigations = crate::breach::impact::latest_assessment(events)
        .map(|assessment| assessment.mitigations)
        .unwrap_or_default();
    for mitigation in mitigations {
        match mitigation.as_str() {
            "contained" => out.push(format!("{supplier} has contained the incident.")),
            "recovered" => out.push("The data has been recovered.".to_owned()),
            "encrypted" => out.push("The data was encrypted.".to_owned()),
            _ => {}
        }
    }
    let neutral = vec![
        format!("We are working with {supplier} to establish exactly what happened."),
        format!(
            "We are writing to everyone whose data {supplier} held, telling each person which of their own data was involved."
        ),
    ];
    out.extend(neutral.iter().cloned());
    let _ = incident;
    (out, neutral)
}

/// The notice laws of the ledger's jurisdiction rules and settings.
fn notice_laws(ledger: &Ledger) -> Result<crate::notices::notice_law::NoticeLaws> {
    let rules = crate::breach::jurisdictions::for_ledger(ledger)?;
    Ok(crate::notices::notice_law::NoticeLaws::new(
        &rules,
        &ledger.settings.establishment.variants,
        &ledger.settings.phone_region,
        &ledger.settings.regulator,
    ))
}

/// When an incident happened, in words, as far as recorded.
fn occurred_words(ledger: &Ledger, incident: &IncidentRecord) -> Option<String> {
    let from = incident.facts.occurred_from.map(|at| day_words(ledger, at));
    let to = incident.facts.occurred_to.map(|at| day_words(ledger, at));
    match (from, to) {
        (Some(from), Some(to)) if from == to => Some(format!("on {from}")),
        (Some(from), Some(to)) => Some(format!("between {from} and {to}")),
        (Some(from), None) => Some(format!("from {from}")),
        (None, Some(to)) => Some(format!("by {to}")),
        (None, None) => None,
    }
}

pub(crate) fn day_words(ledger: &Ledger, at: custody_core::Instant) -> String {
    let day = at.local_day(&ledger.zone).date();
    let months = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let month = usize::try_from(day.month() - 1)
        .ok()
        .and_then(|index| months.get(index))
        .copied()
        .unwrap_or("");
    format!("{} {month} {}", day.day(), day.year())
}

/// The same consequences said of the people affected, for the regulator's report.
pub fn consequences_for_them(keys: &[CategoryKey], special: bool) -> Vec<String> {
    consequences(keys, special)
        .into_iter()
        .map(|line| {
            line.replace("You may receive", "The people affected may receive")
                .replace("your details", "their details")
                .replace(
                    "try to get passwords, money or more information from you",
                    "try to get passwords, money or more information from them",
                )
                .replace(
                    "use your payment or bank details; watch your statements",
                    "use their payment or bank details",
                )
                .replace(
                    "sign in to your accounts with your details",
                    "sign in to their accounts with their details",
                )
                .replace("pass themselves off as you", "pass themselves off as them")
                .replace(
                    "Others could learn something sensitive about you that you may not have made public",
                    "Others could learn something sensitive about them that they may not have made public",
                )
                .replace(
                    "We judge the risk to you to be low, but we want you to know.",
                    "We judge the risk to them to be low.",
                )
        })
        .collect()
}

/// Likely consequences, in custody's words, for the kinds of data held.
pub fn consequences(keys: &[CategoryKey], special: bool) -> Vec<String> {
    let any = |prefix: &str| keys.iter().any(|key| key.as_str().starts_with(prefix));
    let mut out = Vec::new();
    if any("user.contact") || any("user.name") {
        out.push(
            "You may receive emails, calls or texts that use your details to seem genuine and try to get \
             passwords, money or more information from you (phishing)."
                .to_owned(),
        );
    }
    if any("user.financial") {
        out.push("Someone may try to use your payment or bank details; watch your statements.".to_owned());
    }
    if any("user.authorization") {
        out.push("Someone may try to sign in to your accounts with your details.".to_owned());
    }
    if any("user.demographic.date_of_birth") || any("user.government_id") {
        out.push("Someone may try to pass themselves off as you (identity fraud).".to_owned());
    }
    if special {
        out.push(
            "Others could learn something sensitive about you that you may not have made public.".to_owned(),
        );
    }
    if out.is_empty() {
        out.push("We judge the risk to you to be low, but we want you to know.".to_owned());
    }
    out
}

impl NoticeContext {
    /// Computes what an incident's notices share: its words, what the supplier held (over the
    /// incident's window), and the measures recorded.
    pub fn build(ledger: &Ledger, id: IncidentId) -> Result<Self> {
        let incident = find_incident(ledger, id)?;
        let events = crate::breach::incident_events::log(ledger, id)?;
        let holdings = crate::breach::in_house::held(ledger, &incident)?;
        let names_supplier = ledger.settings.notice_names_supplier.unwrap_or(true);
        let supplier_words = match &incident.supplier {
            None => ledger.settings.organisation.clone(),
            Some(supplier) if names_supplier => supplier.clone(),
            Some(_) => "a supplier that processes data for us".to_owned(),
        };
        let (measures, neutral_measures) = measures(ledger, &incident, &events, &supplier_words);
        Ok(NoticeContext {
            incident: id,
            measures,
            neutral_measures,
            words: IncidentWords {
                supplier_words,
                summary: incident.facts.summary.clone(),
                aware_day: day_words(ledger, incident.facts.aware_at),
                in_house: incident.supplier.is_none(),
                occurred: occurred_words(ledger, &incident),
            },
            held: holdings.categories.into_iter().collect(),
            canaries_held: holdings.canaries.len(),
            affected: holdings.people,
            public_is_the_notice: events.iter().any(|recorded| {
                matches!(&recorded.body, IncidentEventBody::Act(done)
                    if done.act == crate::breach::incidents::Act::PeopleNotRequired
                        && done.ground == Some(crate::breach::incidents::Ground::DisproportionateEffort))
            }),
            special: ledger.settings.special_category_map()?,
            laws: notice_laws(ledger)?,
            organisation: ledger.settings.organisation.clone(),
            dpo: ledger.settings.dpo.clone(),
            regulator: ledger.settings.regulator.clone(),
        })
    }

    /// One person's part: which of their data the supplier held.
    pub fn person_part(&self, person: &PersonRecord, first_name: Option<String>) -> PersonPart {
        let keys: Vec<CategoryKey> = self
            .held
            .iter()
            .filter(|(_, set)| set.contains(person.id))
            .map(|(key, _)| *key)
            .collect();
        let special = if self.affected.contains(person.id) {
            self.special
                .get(&person.category)
                .and_then(|keys| plain_list(keys))
                .map(|words| format!("{words} (from being on its records)"))
        } else {
            None
        };
        PersonPart {
            reference: person.reference.clone(),
            first_name,
            held_words: plain_list(&keys),
            their_words: plain_list(&keys).map(|words| words.replacen("your ", "their ", 1)),
            special,
            keys,
            place: (person.country.clone(), person.region.clone()),
        }
    }

    /// The model for a message covering `people`.
    pub fn model(&self, people: Vec<PersonPart>) -> NoticeModel<'_> {
        // The people of one message share an address, so a place.
        let (country, region) = people
            .first()
            .map(|part| (part.place.0.clone(), part.place.1.clone()))
            .unwrap_or_default();
        self.model_in(people, country, region)
    }

    /// The model for a message covering `people` who live in `country` and `region`.
    pub fn model_in(
        &self,
        people: Vec<PersonPart>,
        country: Option<String>,
        region: Option<String>,
    ) -> NoticeModel<'_> {
        let mut keys: Vec<CategoryKey> = people.iter().flat_map(|part| part.keys.iter().copied()).collect();
        keys.sort();
        keys.dedup();
        let special = people.iter().any(|part| part.special.is_some());
        let law = self.laws.of(country.as_deref(), region.as_deref());
        // A law that forbids describing the breach (Massachusetts) gets no measure that hints
        // at its nature: the police, containment, recovery, encryption.
        let measures = if law.tell_what_happened {
            self.measures.as_slice()
        } else {
            self.neutral_measures.as_slice()
        };
        NoticeModel {
            law,
            place: region.or(country),
            organisation: &self.organisation,
            dpo: &self.dpo,
            regulator: &self.regulator,
            greeting_name: match people.as_slice() {
                [one] => one.first_name.clone(),
                _ => None,
            },
            incident: &self.words,
            consequences: consequences(&keys, special),
            people,
            measures,
        }
    }

    /// The public statement's model: no personal data, the figures in words.
    pub fn public_model(&self, ledger: &Ledger) -> Result<serde_json::Value> {
        let count = self.affected.len();
        let rounded = if count >= 1000 {
            format!("about {}", crate::breach::report::thousands(count / 1000 * 1000))
        } else {
            crate::breach::report::thousands(count)
        };
        let keys: Vec<CategoryKey> = self.held.iter().map(|(key, _)| *key).collect();
        let categories = plain_list(&keys).map(|words| words.replace("your ", ""));
        let mut special = std::collections::BTreeSet::new();
        for (category, keys) in &self.special {
            if ledger
                .store
                .category_people(*category)?
                .intersection_len(&self.affected)
                > 0
            {
                special.extend(keys.iter().copied());
            }
        }
        let special: Vec<CategoryKey> = special.into_iter().collect();
        Ok(serde_json::json!({
            "organisation": self.organisation,
            "dpo": self.dpo,
            "regulator": self.regulator,
            "incident": self.words,
            "published_day": day_words(ledger, ledger.now()),
            "people_words": format!("{rounded} people"),
            "categories": categories,
            "special": plain_list(&special).map(|words| words.replace("your ", "people's ")),
            "measures": self.measures,
            "public_is_the_notice": self.public_is_the_notice,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_as_plain_english() {
        let key = |text| CategoryKey::parse(text).unwrap();
        assert_eq!(plain_list(&[]), None);
        assert_eq!(plain_list(&[key("user.name")]).unwrap(), "your name");
        assert_eq!(
            plain_list(&[
                key("user.name"),
                key("user.contact.email"),
                key("user.contact.address.postal_code")
            ])
            .unwrap(),
            "your name, email address and postcode"
        );
        let phishing = consequences(&[key("user.contact.email")], false);
        assert!(phishing[0].contains("phishing"));
        assert!(consequences(&[key("user.unique_id")], false)[0].contains("low"));
        assert_eq!(consequences(&[key("user.contact.email")], true).len(), 2);
    }
}
