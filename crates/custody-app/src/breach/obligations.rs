//! An incident's obligations: for the places its affected people live in (the impact's
//! `jurisdictions`), every duty the jurisdiction rules give (`custody jurisdictions`) to tell a
//! regulator, the people, an attorney general or the credit bureaus, each with its rule and
//! citation, its threshold weighed against the impact and the risk assessment, and its clock.
//!
//! The organisation's EU/EEA main establishment (settings `[establishment] eu_main`) decides the
//! lead authority (GDPR Art. 56): its regulator obligation covers every EU/EEA person, and the
//! other EU/EEA authorities' are marked as told through it. Rule variants apply only when the
//! settings switch them on, in place of the obligation they replace.

use std::collections::BTreeMap;

use serde::Serialize;

use custody_core::Instant;

use crate::breach::impact::{Assessment, ImpactFigures};
use crate::breach::incidents::{Act, duration_words};
use crate::breach::jurisdictions::{
    Deadline, DeadlineFrom, Jurisdiction, Obligation, Recipient, Rules, Threshold,
};
use crate::dir::Ledger;
use crate::error::Result;

/// Where an obligation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObligationState {
    /// Owed and not yet done; due in the future (or with no fixed period).
    Running,
    /// Done by its due time.
    Met,
    /// Past due, or done late.
    Missed,
    /// Its threshold is not reached (too few residents, or the assessment found less harm).
    NotReached,
    /// Owed when an event has happened first (the people told, a determination made).
    Waiting,
    /// An EU/EEA authority told through the lead authority.
    ThroughLead,
}

/// One obligation of an incident, with its clock.
#[derive(Debug, Clone, Serialize)]
pub struct ObligationClock {
    /// The jurisdiction (ISO 3166-1 or 3166-2).
    pub jurisdiction: String,
    /// The rule's id.
    pub obligation: String,
    /// Who must be told.
    pub to: Recipient,
    /// The body told (a regulator's or attorney general's short name), when one is.
    pub body: Option<String>,
    /// Affected people living there (for the lead authority, every EU/EEA person).
    pub residents: u64,
    /// The law.
    pub citation: String,
    /// When the rule was checked.
    pub checked: String,
    /// False when the rule rests partly on secondary sources.
    pub verified: bool,
    /// Due (UTC), when the rule gives a period and its start is known.
    pub due: Option<Instant>,
    /// Due, local.
    pub due_local: Option<String>,
    /// Where it stands.
    pub state: ObligationState,
    /// In words: time left, or why it does not run.
    pub in_words: String,
    /// Whether it was done (on time or late).
    pub done: bool,
    /// The record that meets it: `regulator-notified` (the organisation's own regulator),
    /// `people-notified` (the people), else `obligation-met` with this obligation's key.
    pub met_by: &'static str,
}

/// An incident's obligations, and the rules they came from.
#[derive(Debug, Clone, Serialize)]
pub struct Obligations {
    /// SHA-256 of the rules applied.
    pub rules_sha256: String,
    /// The EU/EEA lead authority's jurisdiction, when the settings name a main establishment.
    pub lead: Option<String>,
    /// Every obligation, jurisdiction by jurisdiction.
    pub clocks: Vec<ObligationClock>,
    /// Why there are none, when the rules could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

impl Obligations {
    /// None listed, because the rules could not be read.
    pub fn unreadable(problem: String) -> Self {
        Obligations {
            rules_sha256: String::new(),
            lead: None,
            clocks: Vec::new(),
            problem: Some(problem),
        }
    }
}

/// What happened on the incident that obligations are measured against.
#[derive(Debug, Clone, Default)]
pub struct Done {
    /// When the organisation became aware.
    pub aware_at: Option<Instant>,
    /// The organisation's own regulator told (`incident record … regulator-notified`): it meets
    /// the regulator obligations of the home jurisdiction only (the EU lead's, with a main
    /// establishment; else the organisation's country's).
    pub regulator_at: Option<Instant>,
    /// Obligations met one by one (`incident record … obligation-met --obligation J:ID`), by
    /// `JURISDICTION:obligation`, each at its first record.
    pub met: BTreeMap<String, Instant>,
    /// The people told.
    pub people_at: Option<Instant>,
    /// The first risk assessment: when the organisation determined what is owed.
    pub assessed_at: Option<Instant>,
    /// Decided that the regulator need not be told.
    pub regulator_not_required: bool,
    /// Decided that the people need not be told.
    pub people_not_required: bool,
}

/// The obligations of an incident whose impact is `figures`.
pub fn for_incident(
    ledger: &Ledger,
    figures: &ImpactFigures,
    assessment: Option<&Assessment>,
    done: &Done,
) -> Result<Obligations> {
    let rules = crate::breach::jurisdictions::for_ledger(ledger)?;
    let place = Establishment {
        settings: &ledger.settings.establishment,
        country: &ledger.settings.phone_region,
    };
    Ok(compute(&rules, place, figures, assessment, done, ledger.now()).with_local(ledger))
}

impl Obligations {
    fn with_local(mut self, ledger: &Ledger) -> Self {
        for clock in &mut self.clocks {
            clock.due_local = clock.due.map(|due| due.local(&ledger.zone));
        }
        self
    }
}

/// Where the organisation is: its establishment settings and its own country.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Establishment<'s> {
    pub settings: &'s custody_core::Establishment,
    pub country: &'s str,
}

/// The residents of each jurisdiction the rules know: a region's people count for the region
/// and for its country (Quebec's for Quebec's law and for Canada's).
fn residents(rules: &Rules, figures: &ImpactFigures) -> BTreeMap<String, u64> {
    let mut out: BTreeMap<String, u64> = BTreeMap::new();
    for (place, count) in &figures.jurisdictions {
        let country = place.split_once('-').map(|(country, _)| country);
        for code in std::iter::once(place.as_str()).chain(country) {
            if rules.get(code).is_some() {
                *out.entry(code.to_owned()).or_default() += count;
            }
        }
    }
    out
}

/// The obligations, pure: the rules, where the organisation is, the impact, the assessment,
/// what was done, and the time.
pub(crate) fn compute(
    rules: &Rules,
    establishment: Establishment<'_>,
    figures: &ImpactFigures,
    assessment: Option<&Assessment>,
    done: &Done,
    now: Instant,
) -> Obligations {
    let residents = residents(rules, figures);
    let lead = establishment
        .settings
        .eu_main
        .clone()
        .filter(|code| rules.get(code).is_some_and(|jurisdiction| jurisdiction.eu));
    let eu_people: u64 = residents
        .iter()
        .filter(|(code, _)| rules.get(code).is_some_and(|jurisdiction| jurisdiction.eu))
        .map(|(_, count)| count)
        .sum();
    // The regulator the organisation reports to itself (`regulator-notified`): its own country's.
    let home = establishment.country;
    // The lead authority's jurisdiction counts even with no resident of its own affected.
    let mut places: Vec<(String, u64)> = residents.into_iter().collect();
    if let Some(lead) = &lead
        && eu_people > 0
        && !places.iter().any(|(code, _)| code == lead)
    {
        places.push((lead.clone(), 0));
    }
    let mut clocks = Vec::new();
    for (code, count) in places {
        let Some(jurisdiction) = rules.get(&code) else {
            continue;
        };
        for rule in applicable(jurisdiction, &establishment.settings.variants) {
            let is_lead = rule.to == Recipient::Regulator && lead.as_ref() == Some(&code);
            // The lead's jurisdiction with none of its own residents owes only its report.
            if count == 0 && !is_lead {
                continue;
            }
            let place = Place {
                residents: if is_lead { eu_people } else { count },
                through_lead: rule.to == Recipient::Regulator
                    && jurisdiction.eu
                    && lead.as_ref().is_some_and(|lead| *lead != code),
                home: code == home,
            };
            clocks.push(clock(jurisdiction, rule, place, assessment, done, now));
        }
    }
    Obligations {
        rules_sha256: rules.sha256.clone(),
        lead,
        clocks,
        problem: None,
    }
}

/// A jurisdiction's obligations under the variants switched on.
pub(crate) fn applicable<'r>(jurisdiction: &'r Jurisdiction, variants: &[String]) -> Vec<&'r Obligation> {
    let on = |rule: &Obligation| {
        rule.variant
            .as_ref()
            .is_some_and(|variant| variants.contains(variant))
    };
    let replaced: Vec<&str> = jurisdiction
        .obligations
        .iter()
        .filter(|rule| on(rule))
        .filter_map(|rule| rule.replaces.as_deref())
        .collect();
    jurisdiction
        .obligations
        .iter()
        .filter(|rule| (rule.variant.is_none() || on(rule)) && !replaced.contains(&rule.id.as_str()))
        .collect()
}

/// What an obligation's place brings to its clock.
#[derive(Debug, Clone, Copy)]
struct Place {
    /// Affected residents counted for it.
    residents: u64,
    /// An EU/EEA authority told through the lead.
    through_lead: bool,
    /// The jurisdiction of the regulator the organisation reports to itself.
    home: bool,
}

/// One obligation's clock.
fn clock(
    jurisdiction: &Jurisdiction,
    rule: &Obligation,
    place: Place,
    assessment: Option<&Assessment>,
    done: &Done,
    now: Instant,
) -> ObligationClock {
    let body = match rule.to {
        Recipient::Individuals | Recipient::ConsumerReportingAgencies => None,
        // "Other organisations" (PIPEDA s 10.2) are a body only where the rule names one.
        Recipient::OtherAuthority => rule.regulator.clone(),
        Recipient::Regulator | Recipient::AttorneyGeneral => rule.regulator.clone().or_else(|| {
            jurisdiction
                .regulators
                .first()
                .map(|regulator| regulator.short.clone())
        }),
    };
    let met = done
        .met
        .get(&format!("{}:{}", jurisdiction.code, rule.id))
        .copied();
    let (state, due, in_words) = standing(rule, place, met, assessment, done, now);
    let act_done = match rule.to {
        Recipient::Regulator if place.home => done.regulator_at.is_some(),
        Recipient::Individuals => done.people_at.is_some(),
        _ => false,
    };
    ObligationClock {
        jurisdiction: jurisdiction.code.clone(),
        obligation: rule.id.clone(),
        to: rule.to,
        body,
        residents: place.residents,
        citation: rule.citation.clone(),
        checked: rule.checked.clone(),
        verified: rule.verified,
        due,
        due_local: None,
        state,
        in_words,
        done: met.is_some() || act_done,
        met_by: match rule.to {
            Recipient::Regulator if place.home => "regulator-notified",
            Recipient::Individuals => "people-notified",
            _ => "obligation-met",
        },
    }
}

/// Where an obligation stands: its state, due instant and words. `met` is its own record of
/// being met, if any.
fn standing(
    rule: &Obligation,
    place: Place,
    met: Option<Instant>,
    assessment: Option<&Assessment>,
    done: &Done,
    now: Instant,
) -> (ObligationState, Option<Instant>, String) {
    if place.through_lead {
        return (
            ObligationState::ThroughLead,
            None,
            "told through the lead authority (GDPR Art. 56)".to_owned(),
        );
    }
    if place.residents < rule.residents_at_least {
        let words = format!(
            "{} residents affected; owed from {}",
            place.residents, rule.residents_at_least
        );
        return (ObligationState::NotReached, None, words);
    }
    let act_at = match rule.to {
        Recipient::Regulator if place.home => done.regulator_at,
        Recipient::Individuals => done.people_at,
        _ => None,
    };
    // The earlier of its own record and the act that meets it.
    let done_at = match (met, act_at) {
        (Some(own), Some(act)) => Some(own.min(act)),
        (own, act) => own.or(act),
    };
    let found = match rule.threshold {
        Threshold::Any => Some(true),
        Threshold::Risk => assessment.map(|assessment| assessment.report_regulator),
        _ => assessment.map(|assessment| assessment.tell_people),
    };
    let declined = match rule.to {
        Recipient::Regulator => done.regulator_not_required,
        Recipient::Individuals => done.people_not_required,
        _ => false,
    };
    if done_at.is_none() && (found == Some(false) || (declined && rule.threshold != Threshold::Any)) {
        let why = if declined {
            "decided not owed (recorded with its reasons)"
        } else {
            "the assessment found it not owed"
        };
        return (ObligationState::NotReached, None, why.to_owned());
    }
    let start = rule.deadline.and_then(|deadline| match deadline.from {
        DeadlineFrom::Awareness | DeadlineFrom::Discovery => done.aware_at,
        // Owed whatever the harm: due from when the organisation knew.
        DeadlineFrom::Determination if rule.threshold == Threshold::Any => done.aware_at,
        DeadlineFrom::Determination => done.assessed_at,
        DeadlineFrom::IndividualNotice => done.people_at,
    });
    let due = rule
        .deadline
        .zip(start)
        .map(|(deadline, start)| start.plus_hours(hours(deadline)));
    let seconds = |from: Instant, to: Instant| to.unix_seconds() - from.unix_seconds();
    match (done_at, due) {
        (Some(at), Some(due)) if at.unix_seconds() <= due.unix_seconds() => (
            ObligationState::Met,
            Some(due),
            format!("done {} early", duration_words(seconds(at, due))),
        ),
        (Some(at), Some(due)) => (
            ObligationState::Missed,
            Some(due),
            format!("done {} late", duration_words(seconds(due, at))),
        ),
        (Some(_), None) => (ObligationState::Met, None, "done".to_owned()),
        (None, Some(due)) if due.unix_seconds() < now.unix_seconds() => (
            ObligationState::Missed,
            Some(due),
            format!("overdue by {}", duration_words(seconds(due, now))),
        ),
        (None, Some(due)) => (
            ObligationState::Running,
            Some(due),
            format!("{} left", duration_words(seconds(now, due))),
        ),
        (None, None) if rule.deadline.is_some() => {
            (ObligationState::Waiting, None, waiting_words(rule.deadline))
        }
        (None, None) => (ObligationState::Running, None, "without undue delay".to_owned()),
    }
}

/// A period in hours.
fn hours(deadline: Deadline) -> i64 {
    match (deadline.hours, deadline.days) {
        (Some(hours), _) => i64::from(hours),
        (None, Some(days)) => i64::from(days) * 24,
        (None, None) => 0,
    }
}

fn waiting_words(deadline: Option<Deadline>) -> String {
    match deadline.map(|deadline| deadline.from) {
        Some(DeadlineFrom::IndividualNotice) => "runs from telling the people".to_owned(),
        Some(DeadlineFrom::Determination) => "runs from the determination that it is owed".to_owned(),
        _ => "runs from awareness".to_owned(),
    }
}

/// What was done on an incident, from its events.
pub(crate) fn done_of(aware_at: Instant, events: &[crate::breach::incident_events::Recorded]) -> Done {
    use crate::breach::incident_events::IncidentEventBody;
    use crate::breach::incidents::first_act;
    let mut met: BTreeMap<String, Instant> = BTreeMap::new();
    for recorded in events {
        if let IncidentEventBody::Act(done) = &recorded.body
            && done.act == Act::ObligationMet
            && let Some(key) = &done.obligation
        {
            let first = met.entry(key.clone()).or_insert(recorded.event.at);
            *first = (*first).min(recorded.event.at);
        }
    }
    Done {
        aware_at: Some(aware_at),
        regulator_at: first_act(events, Act::RegulatorNotified),
        met,
        people_at: first_act(events, Act::PeopleNotified),
        assessed_at: events
            .iter()
            .filter(|recorded| matches!(recorded.body, IncidentEventBody::Assessment(_)))
            .map(|recorded| recorded.event.at)
            .min(),
        regulator_not_required: first_act(events, Act::RegulatorNotRequired).is_some(),
        people_not_required: first_act(events, Act::PeopleNotRequired).is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::breach::jurisdictions::{SHIPPED, parse};

    fn at(text: &str) -> Instant {
        custody_core::parse_instant(text, &custody_core::TimeZoneName::parse("Europe/London").unwrap())
            .unwrap()
    }

    fn figures(places: &[(&str, u64)]) -> ImpactFigures {
        ImpactFigures {
            jurisdictions: places
                .iter()
                .map(|(place, count)| ((*place).to_owned(), *count))
                .collect(),
            ..ImpactFigures::default()
        }
    }

    fn find<'o>(obligations: &'o Obligations, jurisdiction: &str, id: &str) -> &'o ObligationClock {
        obligations
            .clocks
            .iter()
            .find(|clock| clock.jurisdiction == jurisdiction && clock.obligation == id)
            .unwrap_or_else(|| panic!("no {id} for {jurisdiction}: {obligations:#?}"))
    }

    fn none_set() -> custody_core::Establishment {
        custody_core::Establishment::default()
    }

    fn gb(settings: &custody_core::Establishment) -> Establishment<'_> {
        Establishment {
            settings,
            country: "GB",
        }
    }

    fn done() -> Done {
        Done {
            aware_at: Some(at("2026-11-02 09:00")),
            ..Done::default()
        }
    }

    #[test]
    fn each_place_brings_its_own_obligations_with_their_thresholds_and_clocks() {
        let rules = parse(SHIPPED, "shipped").unwrap();
        let impact = figures(&[
            ("GB", 3),
            ("FR", 2),
            ("IE", 1),
            ("US-CA", 600),
            ("US-TX", 100),
            ("unknown", 4),
        ]);
        let now = at("2026-11-03 09:00");
        let obligations = compute(&rules, gb(&none_set()), &impact, None, &done(), now);
        let ico = find(&obligations, "GB", "gb-regulator");
        assert_eq!(
            (ico.state, ico.residents, ico.body.as_deref()),
            (ObligationState::Running, 3, Some("ICO"))
        );
        assert_eq!(ico.due, Some(at("2026-11-05 09:00")), "72 hours from awareness");
        // No main establishment: every EU authority concerned is told.
        let cnil = find(&obligations, "FR", "gdpr-regulator");
        assert_eq!((cnil.state, cnil.residents), (ObligationState::Running, 2));
        assert_eq!(
            find(&obligations, "IE", "gdpr-regulator").state,
            ObligationState::Running
        );
        // California's attorney general: over 500 residents, 15 days after the people are told.
        let california = find(&obligations, "US-CA", "us-ca-attorney-general");
        assert_eq!(
            (california.state, california.residents),
            (ObligationState::Waiting, 600)
        );
        // Texas's: 250 residents or more; 100 are affected.
        let texas = find(&obligations, "US-TX", "us-tx-attorney-general");
        assert_eq!(texas.state, ObligationState::NotReached, "{texas:?}");
        assert!(
            !obligations
                .clocks
                .iter()
                .any(|clock| clock.jurisdiction == "unknown")
        );
        assert_eq!(obligations.rules_sha256, rules.sha256);
    }

    #[test]
    fn a_main_establishment_makes_one_lead_authority_and_a_variant_replaces_its_rule() {
        let rules = parse(SHIPPED, "shipped").unwrap();
        let impact = figures(&[("FR", 2), ("DE", 5)]);
        let establishment = custody_core::Establishment {
            eu_main: Some("IE".to_owned()),
            variants: Vec::new(),
        };
        let now = at("2026-11-03 09:00");
        let obligations = compute(&rules, gb(&establishment), &impact, None, &done(), now);
        assert_eq!(obligations.lead.as_deref(), Some("IE"));
        // The organisation's own report went to its own regulator (the ICO), not to the lead.
        let impact_gb = figures(&[("GB", 1), ("FR", 2), ("DE", 5)]);
        let reported = Done {
            regulator_at: Some(at("2026-11-03 08:00")),
            ..done()
        };
        let told = compute(&rules, gb(&establishment), &impact_gb, None, &reported, now);
        assert_eq!(find(&told, "GB", "gb-regulator").state, ObligationState::Met);
        assert_eq!(
            find(&told, "IE", "gdpr-regulator").state,
            ObligationState::Running
        );
        let lead = find(&obligations, "IE", "gdpr-regulator");
        assert_eq!(
            (lead.state, lead.residents),
            (ObligationState::Running, 7),
            "every EU person"
        );
        assert_eq!(
            find(&obligations, "FR", "gdpr-regulator").state,
            ObligationState::ThroughLead
        );
        assert_eq!(
            find(&obligations, "FR", "gdpr-individuals").state,
            ObligationState::Running,
            "people are told wherever they live"
        );
        let omnibus = custody_core::Establishment {
            eu_main: None,
            variants: vec!["eu-omnibus-2025".to_owned()],
        };
        let proposed = compute(&rules, gb(&omnibus), &impact, None, &done(), now);
        let french = find(&proposed, "FR", "gdpr-regulator-omnibus");
        assert_eq!(french.due, Some(at("2026-11-06 09:00")), "96 hours");
        assert!(
            !proposed
                .clocks
                .iter()
                .any(|clock| clock.obligation == "gdpr-regulator")
        );
    }

    #[test]
    fn an_act_meets_or_misses_its_clock_and_a_decision_not_to_tell_stops_it() {
        let rules = parse(SHIPPED, "shipped").unwrap();
        let impact = figures(&[("GB", 3)]);
        let in_time = Done {
            regulator_at: Some(at("2026-11-04 12:00")),
            ..done()
        };
        let now = at("2026-11-10 09:00");
        let met = compute(&rules, gb(&none_set()), &impact, None, &in_time, now);
        assert_eq!(find(&met, "GB", "gb-regulator").state, ObligationState::Met);
        let late = Done {
            regulator_at: Some(at("2026-11-06 12:00")),
            ..done()
        };
        let missed = compute(&rules, gb(&none_set()), &impact, None, &late, now);
        let ico = find(&missed, "GB", "gb-regulator");
        assert_eq!(
            (ico.state, ico.in_words.as_str()),
            (ObligationState::Missed, "done 1 d 3 h 0 min late")
        );
        let overdue = compute(&rules, gb(&none_set()), &impact, None, &done(), now);
        assert_eq!(
            find(&overdue, "GB", "gb-regulator").state,
            ObligationState::Missed
        );
        let declined = Done {
            people_not_required: true,
            ..done()
        };
        let none = compute(&rules, gb(&none_set()), &impact, None, &declined, now);
        assert_eq!(
            find(&none, "GB", "gb-individuals").state,
            ObligationState::NotReached
        );
        // The organisation's own report meets its own regulator's obligation only; another
        // country's is met by its own record.
        let abroad = figures(&[("GB", 3), ("FR", 1), ("US-CA", 600)]);
        let told = Done {
            met: [("FR:gdpr-regulator".to_owned(), at("2026-11-03 10:00"))].into(),
            people_at: Some(at("2026-11-04 09:00")),
            ..in_time.clone()
        };
        let obligations = compute(&rules, gb(&none_set()), &abroad, None, &told, now);
        assert_eq!(
            find(&obligations, "GB", "gb-regulator").state,
            ObligationState::Met
        );
        assert_eq!(
            find(&obligations, "FR", "gdpr-regulator").state,
            ObligationState::Met
        );
        let california = find(&obligations, "US-CA", "us-ca-attorney-general");
        assert_eq!(
            (california.state, california.due),
            (ObligationState::Running, Some(at("2026-11-19 09:00"))),
            "15 days from telling the people; nothing records the attorney general told yet"
        );
        let only_gb = Done {
            met: BTreeMap::new(),
            ..told
        };
        let obligations = compute(&rules, gb(&none_set()), &abroad, None, &only_gb, now);
        assert_eq!(
            find(&obligations, "FR", "gdpr-regulator").state,
            ObligationState::Missed
        );
    }
}
