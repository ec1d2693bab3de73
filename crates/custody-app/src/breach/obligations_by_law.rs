//! The shipped rules against the words of their laws: for each resident count and each deadline
//! a statute gives, a fixture population one short of the count and at it, and an incident whose
//! clock must fall due when the law says. A change to the rules file that moves a threshold or a
//! deadline away from its statute fails here, with the words it broke.

use custody_core::Instant;

use crate::breach::impact::ImpactFigures;
use crate::breach::jurisdictions::{SHIPPED, parse};
use crate::breach::obligations::{Done, Establishment, ObligationState, Obligations, compute};

fn at(text: &str) -> Instant {
    custody_core::parse_instant(text, &custody_core::TimeZoneName::parse("UTC").unwrap()).unwrap()
}

fn obligations(place: &str, residents: u64, done: &Done) -> Obligations {
    let rules = parse(SHIPPED, "shipped").unwrap();
    let figures = ImpactFigures {
        jurisdictions: [(place.to_owned(), residents)].into_iter().collect(),
        ..ImpactFigures::default()
    };
    let settings = custody_core::Establishment::default();
    let establishment = Establishment {
        settings: &settings,
        country: "GB",
    };
    compute(
        &rules,
        establishment,
        &figures,
        None,
        done,
        at("2026-11-02 09:00"),
    )
}

fn state(place: &str, id: &str, residents: u64, done: &Done) -> Option<ObligationState> {
    obligations(place, residents, done)
        .clocks
        .into_iter()
        .find(|clock| clock.jurisdiction == place && clock.obligation == id)
        .map(|clock| clock.state)
}

/// Each count a statute gives, in its words: owed at the count, not one resident short of it.
const COUNTS: &[(&str, &str, u64, &str)] = &[
    (
        "US-CA",
        "us-ca-attorney-general",
        501,
        "Cal. Civ. Code § 1798.82(f): more than 500 California residents",
    ),
    (
        "US-NY",
        "us-ny-consumer-reporting-agencies",
        5001,
        "N.Y. GBL § 899-aa(8)(b): more than five thousand New York residents",
    ),
    (
        "US-TX",
        "us-tx-attorney-general",
        250,
        "Tex. Bus. & Com. Code § 521.053(i): at least 250 residents of this state",
    ),
    (
        "US-TX",
        "us-tx-consumer-reporting-agencies",
        10_001,
        "Tex. Bus. & Com. Code § 521.053(h): more than 10,000 persons",
    ),
    (
        "US-FL",
        "us-fl-department-of-legal-affairs",
        500,
        "Fla. Stat. § 501.171(3)(a): 500 or more individuals in this state",
    ),
    (
        "US-FL",
        "us-fl-consumer-reporting-agencies",
        1001,
        "Fla. Stat. § 501.171(5): more than 1,000 individuals at a single time",
    ),
    (
        "US-IL",
        "us-il-attorney-general",
        501,
        "815 ILCS 530/10(e)(1): more than 500 Illinois residents",
    ),
    (
        "US-WA",
        "us-wa-attorney-general",
        501,
        "RCW 19.255.010(7): more than five hundred Washington residents",
    ),
];

#[test]
fn every_resident_count_is_owed_at_the_count_the_law_gives_and_not_one_short() {
    let done = Done {
        aware_at: Some(at("2026-11-01 09:00")),
        ..Done::default()
    };
    for (place, id, count, words) in COUNTS {
        let short = state(place, id, count - 1, &done);
        assert_eq!(
            short,
            Some(ObligationState::NotReached),
            "{words}: with {} residents {id} must not be owed",
            count - 1
        );
        let reached = state(place, id, *count, &done);
        assert!(
            reached.is_some_and(|state| state != ObligationState::NotReached),
            "{words}: with {count} residents {id} is owed, found {reached:?}"
        );
    }
}

/// Each fixed period a statute gives, from the event it counts from, in its words.
const PERIODS: &[(&str, &str, Start, i64, &str)] = &[
    (
        "GB",
        "gb-regulator",
        Start::Awareness,
        72,
        "UK GDPR Art. 33(1): not later than 72 hours after having become aware of it",
    ),
    (
        "IE",
        "gdpr-regulator",
        Start::Awareness,
        72,
        "GDPR Art. 33(1): not later than 72 hours after having become aware of it",
    ),
    (
        "DE",
        "gdpr-regulator",
        Start::Awareness,
        72,
        "GDPR Art. 33(1), the same for every EU/EEA authority",
    ),
    (
        "US-CA",
        "us-ca-individuals",
        Start::Awareness,
        30 * 24,
        "Cal. Civ. Code § 1798.82(a)(2) (SB 446): within 30 calendar days of discovery or notification",
    ),
    (
        "US-NY",
        "us-ny-individuals",
        Start::Awareness,
        30 * 24,
        "N.Y. GBL § 899-aa(2): within 30 days after the breach has been discovered",
    ),
    (
        "US-TX",
        "us-tx-individuals",
        Start::Awareness,
        60 * 24,
        "Tex. Bus. & Com. Code § 521.053(b): not later than the 60th day after determining that the breach occurred",
    ),
    (
        "US-TX",
        "us-tx-attorney-general",
        Start::Awareness,
        30 * 24,
        "Tex. Bus. & Com. Code § 521.053(i): not later than the 30th day after the determination",
    ),
    (
        "US-FL",
        "us-fl-individuals",
        Start::Awareness,
        30 * 24,
        "Fla. Stat. § 501.171(4)(a): no later than 30 days after the determination of a breach or reason to believe a breach occurred",
    ),
    (
        "US-FL",
        "us-fl-department-of-legal-affairs",
        Start::Awareness,
        30 * 24,
        "Fla. Stat. § 501.171(3)(a): no later than 30 days after the determination of a breach or reason to believe a breach occurred",
    ),
    (
        "US-WA",
        "us-wa-individuals",
        Start::Awareness,
        30 * 24,
        "RCW 19.255.010(8): no more than 30 calendar days after the breach was discovered",
    ),
    (
        "US-CA",
        "us-ca-attorney-general",
        Start::PeopleTold,
        15 * 24,
        "Cal. Civ. Code § 1798.82(f) (SB 446): within 15 calendar days of notifying the affected residents",
    ),
];

/// What a period counts from, in the fixture.
#[derive(Debug, Clone, Copy)]
enum Start {
    Awareness,
    PeopleTold,
}

#[test]
fn every_fixed_period_falls_due_when_its_law_says() {
    let aware = at("2026-11-01 09:00");
    let assessed = at("2026-11-03 12:00");
    let told = at("2026-11-10 15:00");
    for (place, id, start, hours, words) in PERIODS {
        let done = Done {
            aware_at: Some(aware),
            assessed_at: Some(assessed),
            people_at: matches!(start, Start::PeopleTold).then_some(told),
            ..Done::default()
        };
        let from = match start {
            Start::Awareness => aware,
            Start::PeopleTold => told,
        };
        let listed = obligations(place, 10_000, &done);
        let clock = listed
            .clocks
            .iter()
            .find(|clock| clock.jurisdiction == *place && clock.obligation == *id)
            .unwrap_or_else(|| panic!("{words}: {place} lists no {id}"));
        assert_eq!(
            clock.due,
            Some(from.plus_hours(*hours)),
            "{words}: {id} counted from {start:?}"
        );
    }
}

/// Duties with no fixed period run "without undue delay" and never fall due at a made-up time.
#[test]
fn duties_without_a_period_have_no_due_time() {
    let done = Done {
        aware_at: Some(at("2026-11-01 09:00")),
        ..Done::default()
    };
    for (place, id, words) in [
        ("GB", "gb-individuals", "UK GDPR Art. 34(1): without undue delay"),
        (
            "US-MA",
            "us-ma-individuals",
            "M.G.L. c. 93H § 3(b): as soon as practicable and without unreasonable delay",
        ),
        (
            "US-IL",
            "us-il-individuals",
            "815 ILCS 530/10(a): in the most expedient time possible and without unreasonable delay",
        ),
    ] {
        let listed = obligations(place, 10, &done);
        let clock = listed
            .clocks
            .iter()
            .find(|clock| clock.jurisdiction == place && clock.obligation == id)
            .unwrap_or_else(|| panic!("{words}: {place} lists no {id}"));
        assert_eq!(clock.due, None, "{words}");
        assert_eq!(clock.state, ObligationState::Running, "{words}");
    }
}
