//! Incidents at suppliers and their clocks: the regulator's 72 hours from awareness (UK/EU GDPR
//! Art. 33(1)), the supplier's contractual notice window (Art. 33(2) obliges the processor to tell
//! the controller "without undue delay"; the contract puts a number on it), and the organisation's
//! own target for telling people (Art. 34). Deadlines are absolute instants: 72 hours are 72 real
//! hours, whatever the clocks on the wall do in between.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::instant::Instant;

/// Hours the regulator allows from awareness (Art. 33(1)).
pub const REGULATOR_HOURS: i64 = 72;

/// What the incident affected (the regulator's confidentiality / integrity / availability).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Nature {
    /// Data disclosed to or accessed by someone who should not have it.
    Confidentiality,
    /// Data altered.
    Integrity,
    /// Data lost or made inaccessible.
    Availability,
}

impl Nature {
    /// Stable text.
    pub fn as_str(self) -> &'static str {
        match self {
            Nature::Confidentiality => "confidentiality",
            Nature::Integrity => "integrity",
            Nature::Availability => "availability",
        }
    }

    /// Parses one value.
    pub fn parse(text: &str) -> Result<Self> {
        match text.trim().to_lowercase().as_str() {
            "confidentiality" => Ok(Nature::Confidentiality),
            "integrity" => Ok(Nature::Integrity),
            "availability" => Ok(Nature::Availability),
            _ => Err(Error::invalid(
                "nature",
                text,
                "confidentiality, integrity or availability",
            )),
        }
    }

    /// Parses a comma-separated list; at least one, no repeats kept.
    pub fn parse_list(text: &str) -> Result<Vec<Nature>> {
        let mut natures = text
            .split(',')
            .filter(|part| !part.trim().is_empty())
            .map(Nature::parse)
            .collect::<Result<Vec<_>>>()?;
        natures.sort_unstable();
        natures.dedup();
        if natures.is_empty() {
            return Err(Error::invalid(
                "nature",
                text,
                "one or more of confidentiality, integrity, availability",
            ));
        }
        Ok(natures)
    }
}

impl fmt::Display for Nature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The facts the clocks are computed from.
#[derive(Debug, Clone, Default)]
pub struct ClockFacts {
    /// When the organisation became aware.
    pub aware_at: Option<Instant>,
    /// When the supplier discovered the incident.
    pub supplier_discovered_at: Option<Instant>,
    /// When the supplier told the organisation.
    pub supplier_notified_at: Option<Instant>,
    /// The supplier's contractual notice window, hours.
    pub supplier_notice_hours: Option<u32>,
    /// When the regulator was notified.
    pub regulator_notified_at: Option<Instant>,
    /// When it was decided, with reasons, that the regulator need not be told (Art. 33(1):
    /// the breach is unlikely to result in a risk).
    pub regulator_not_required_at: Option<Instant>,
    /// When it was decided, on an Art. 34(3) ground, that people need not be told.
    pub people_not_required_at: Option<Instant>,
    /// When the affected people were told.
    pub people_notified_at: Option<Instant>,
    /// Whether people must be told (from the risk assessment); `None` until assessed.
    pub people_required: Option<bool>,
    /// The organisation's target for telling people, hours after awareness.
    pub people_target_hours: u32,
}

/// Where a clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockState {
    /// Not yet due and not yet done.
    Running,
    /// Done in time.
    Met,
    /// Done late, or due and not done.
    Missed,
    /// Does not apply (or lacks the facts to apply).
    NotApplicable,
    /// Decided, with reasons, that the act is not required: stopped, never missed.
    NotRequired,
}

impl ClockState {
    /// Words for output.
    pub fn as_str(self) -> &'static str {
        match self {
            ClockState::Running => "running",
            ClockState::Met => "met",
            ClockState::Missed => "missed",
            ClockState::NotApplicable => "not applicable",
            ClockState::NotRequired => "not required",
        }
    }
}

/// One clock at an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Clock {
    /// `regulator`, `supplier_notice` or `people`.
    pub name: &'static str,
    /// When it is (was) due.
    pub due: Option<Instant>,
    /// Where it stands.
    pub state: ClockState,
    /// When the act that stops it happened.
    pub done_at: Option<Instant>,
    /// Seconds from `now` (or from the act, once done) to the due instant: positive is time left
    /// or margin, negative is overdue or lateness.
    pub seconds_to_due: Option<i64>,
    /// Why it does not apply, when it does not.
    pub reason: Option<&'static str>,
}

fn clock(name: &'static str, due: Instant, done_at: Option<Instant>, now: Instant) -> Clock {
    let reference = done_at.unwrap_or(now);
    let seconds_to_due = due.unix_seconds() - reference.unix_seconds();
    let state = match done_at {
        Some(done) if done <= due => ClockState::Met,
        Some(_) => ClockState::Missed,
        None if now < due => ClockState::Running,
        None => ClockState::Missed,
    };
    Clock {
        name,
        due: Some(due),
        state,
        done_at,
        seconds_to_due: Some(seconds_to_due),
        reason: None,
    }
}

fn not_applicable(name: &'static str, reason: &'static str) -> Clock {
    Clock {
        name,
        due: None,
        state: ClockState::NotApplicable,
        done_at: None,
        seconds_to_due: None,
        reason: Some(reason),
    }
}

fn not_required(name: &'static str, due: Instant, decided: Instant, reason: &'static str) -> Clock {
    Clock {
        name,
        due: Some(due),
        state: ClockState::NotRequired,
        done_at: Some(decided),
        seconds_to_due: None,
        reason: Some(reason),
    }
}

/// The three clocks of an incident at `now`.
pub fn clocks(facts: &ClockFacts, now: Instant) -> Vec<Clock> {
    let regulator = match facts.aware_at {
        // A decision not to report stops the clock unless the report was made after all.
        Some(aware) if facts.regulator_notified_at.is_none() && facts.regulator_not_required_at.is_some() => {
            let due = aware.plus_hours(REGULATOR_HOURS);
            let decided = facts.regulator_not_required_at.unwrap_or(aware);
            not_required(
                "regulator",
                due,
                decided,
                if decided > due {
                    "decided, with reasons, after the 72 hours had run out, that the breach is unlikely to result \
                     in a risk (Art. 33(1))"
                } else {
                    "decided, with reasons, that the breach is unlikely to result in a risk (Art. 33(1))"
                },
            )
        }
        Some(aware) => clock(
            "regulator",
            aware.plus_hours(REGULATOR_HOURS),
            facts.regulator_notified_at,
            now,
        ),
        None => not_applicable("regulator", "the moment of awareness is not recorded"),
    };
    let supplier = match (facts.supplier_discovered_at, facts.supplier_notice_hours) {
        (Some(discovered), Some(hours)) => {
            // Only the supplier's own notice stops this clock: learning of it elsewhere does not.
            clock(
                "supplier_notice",
                discovered.plus_hours(i64::from(hours)),
                facts.supplier_notified_at,
                now,
            )
        }
        (None, _) => not_applicable("supplier_notice", "the supplier's discovery time is not recorded"),
        (_, None) => not_applicable("supplier_notice", "the contract sets no notice window"),
    };
    let people = match (facts.aware_at, facts.people_required, facts.people_notified_at) {
        (Some(aware), _, None) if facts.people_not_required_at.is_some() => not_required(
            "people",
            aware.plus_hours(i64::from(facts.people_target_hours)),
            facts.people_not_required_at.unwrap_or(aware),
            "decided, on an Art. 34(3) ground, that people need not be told individually",
        ),
        (Some(aware), _, Some(done)) => clock(
            "people",
            aware.plus_hours(i64::from(facts.people_target_hours)),
            Some(done),
            now,
        ),
        (Some(aware), Some(true), None) => clock(
            "people",
            aware.plus_hours(i64::from(facts.people_target_hours)),
            None,
            now,
        ),
        (_, Some(false), None) => {
            not_applicable("people", "the risk assessment does not require telling people")
        }
        _ => not_applicable("people", "the risk to people has not been assessed yet"),
    };
    vec![regulator, supplier, people]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instant::{TimeZoneName, parse_instant};

    fn at(text: &str) -> Instant {
        parse_instant(text, &TimeZoneName::parse("Europe/London").unwrap()).unwrap()
    }

    fn facts() -> ClockFacts {
        ClockFacts {
            aware_at: Some(at("2021-10-29 18:30")),
            supplier_discovered_at: Some(at("2021-10-28 09:00")),
            supplier_notified_at: Some(at("2021-10-29 17:00")),
            supplier_notice_hours: Some(24),
            people_target_hours: 72,
            ..ClockFacts::default()
        }
    }

    #[test]
    fn a_decision_not_to_notify_stops_a_clock_and_is_never_missed() {
        let facts = ClockFacts {
            regulator_not_required_at: Some(at("2021-10-30 10:00")),
            people_not_required_at: Some(at("2021-10-30 11:00")),
            people_required: Some(true),
            ..facts()
        };
        let years_later = at("2026-01-01 00:00");
        let all = clocks(&facts, years_later);
        assert_eq!(all[0].state, ClockState::NotRequired);
        assert_eq!(all[2].state, ClockState::NotRequired);
        // A report made after all is what counts.
        let reported = ClockFacts {
            regulator_notified_at: Some(at("2021-11-05 10:00")),
            ..facts
        };
        assert_eq!(clocks(&reported, years_later)[0].state, ClockState::Missed);
    }

    #[test]
    fn the_regulator_clock_counts_real_hours_across_the_autumn_change() {
        let clocks = clocks(&facts(), at("2021-10-31 12:00"));
        let regulator = &clocks[0];
        assert_eq!(regulator.due.unwrap().to_rfc3339(), "2021-11-01T17:30:00Z");
        assert_eq!(regulator.state, ClockState::Running);
        // From Sunday 12:00 GMT to Monday 17:30 GMT: 29.5 hours.
        assert_eq!(regulator.seconds_to_due, Some(29 * 3600 + 1800));
    }

    #[test]
    fn clocks_are_met_missed_or_not_applicable() {
        let mut facts = facts();
        let late = clocks(&facts, at("2021-11-02 09:00"));
        assert_eq!(late[0].state, ClockState::Missed);
        assert!(late[0].seconds_to_due.unwrap() < 0);
        // The supplier told us 32 hours after discovering it, against 24 in the contract.
        assert_eq!(late[1].state, ClockState::Missed);
        assert_eq!(late[1].seconds_to_due, Some(-8 * 3600));
        assert_eq!(late[2].state, ClockState::NotApplicable);
        facts.regulator_notified_at = Some(at("2021-11-01 10:00"));
        facts.people_required = Some(true);
        let later = clocks(&facts, at("2021-11-05 09:00"));
        assert_eq!(later[0].state, ClockState::Met);
        assert_eq!(
            later[2].state,
            ClockState::Missed,
            "people were due to be told by 1 November"
        );
        facts.people_required = Some(false);
        assert_eq!(
            clocks(&facts, at("2021-11-05 09:00"))[2].state,
            ClockState::NotApplicable
        );
        facts.supplier_notified_at = None;
        let silent = clocks(&facts, at("2021-10-28 20:00"));
        assert_eq!(
            silent[1].state,
            ClockState::Running,
            "the supplier has not told us yet"
        );
        facts.supplier_notice_hours = None;
        assert_eq!(
            clocks(&facts, at("2021-11-05 09:00"))[1].state,
            ClockState::NotApplicable
        );
    }

    #[test]
    fn natures_parse_as_a_list() {
        assert_eq!(
            Nature::parse_list("availability, confidentiality").unwrap(),
            vec![Nature::Confidentiality, Nature::Availability]
        );
        assert!(Nature::parse_list("").is_err());
        assert!(Nature::parse_list("secrecy").is_err());
    }
}
