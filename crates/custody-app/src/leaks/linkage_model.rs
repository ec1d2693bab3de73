//! The Fellegi–Sunter model fuzzy linkage scores with, as Splink builds it: for each field and
//! level of agreement, `m` (how often a true match agrees so) and `u` (how often two different
//! people do). `u` is estimated from pairs drawn at random (nearly all of them two different
//! people), `m` by expectation–maximisation over the candidate pairs with `u` held fixed; a
//! pair's weight is the sum of `log2(m / u)` over the fields both sides have, and its match
//! probability follows from the weight and the share of candidate pairs that match.

use serde::Serialize;

use custody_core::{LEVELS, LINK_FIELDS, Level, Levels, MISSING};

/// Fields compared.
const FIELDS: usize = LINK_FIELDS.len();
/// Rounds of expectation–maximisation.
const ROUNDS: usize = 10;
/// The weight of the starting `m`, in pairs.
const PSEUDO_PAIRS: f64 = 200.0;
/// No probability is taken as lower than this (a level never seen in a sample).
const FLOOR: f64 = 1e-6;

/// Per field, per level: a probability.
type Table = [[f64; LEVELS]; FIELDS];

/// The model's parameters.
#[derive(Debug, Clone, Serialize)]
pub struct Model {
    /// P(level | match), per field.
    pub m: Table,
    /// P(level | non-match), per field.
    pub u: Table,
    /// The share of candidate pairs that are matches.
    pub prior: f64,
    /// Random pairs `u` was estimated from.
    pub u_pairs: u64,
    /// Candidate pairs `m` was estimated from.
    pub m_pairs: u64,
}

impl Default for Model {
    fn default() -> Self {
        // Starting points before the data is read: a true match mostly agrees exactly, two
        // different people mostly disagree.
        let m = [0.85, 0.10, 0.03, 0.02];
        let u = [0.01, 0.01, 0.08, 0.90];
        Model {
            m: [m; FIELDS],
            u: [u; FIELDS],
            prior: 0.1,
            u_pairs: 0,
            m_pairs: 0,
        }
    }
}

/// A model's weights, worked out once for scoring many pairs.
#[derive(Debug, Clone, Copy)]
pub struct Weights {
    table: Table,
    prior: f64,
}

impl Weights {
    /// The pair's weight.
    pub fn weight(&self, levels: &Levels) -> f64 {
        levels
            .iter()
            .zip(&self.table)
            .filter(|(level, _)| **level != MISSING)
            .map(|(level, row)| row.get(usize::from(*level)).copied().unwrap_or(0.0))
            .sum()
    }

    /// The probability that the pair is one person.
    pub fn probability(&self, levels: &Levels) -> f64 {
        let odds = self.weight(levels) + self.prior;
        1.0 / (1.0 + (-odds).exp2())
    }
}

/// Counts of levels per field.
#[derive(Debug, Clone, Default)]
pub(crate) struct LevelCounts {
    counts: [[u64; LEVELS]; FIELDS],
    pairs: u64,
}

impl LevelCounts {
    /// Adds another's counts.
    pub(crate) fn merge(&mut self, other: &LevelCounts) {
        self.pairs += other.pairs;
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            for (mine, theirs) in mine.iter_mut().zip(theirs) {
                *mine += theirs;
            }
        }
    }

    pub(crate) fn add(&mut self, levels: &Levels) {
        self.pairs += 1;
        for (field, level) in levels.iter().enumerate() {
            if let Some(count) = self
                .counts
                .get_mut(field)
                .and_then(|row| row.get_mut(usize::from(*level)))
            {
                *count += 1;
            }
        }
    }
}

impl Model {
    /// Sets `u` from random pairs.
    pub(crate) fn estimate_u(&mut self, random: &LevelCounts) {
        self.u_pairs = random.pairs;
        for (field, counts) in random.counts.iter().enumerate() {
            let total: u64 = counts.iter().sum();
            if total == 0 {
                continue;
            }
            if let Some(row) = self.u.get_mut(field) {
                for (level, count) in counts.iter().enumerate() {
                    if let Some(cell) = row.get_mut(level) {
                        *cell = ((*count as f64 + 0.5) / (total as f64 + 2.0)).max(FLOOR);
                    }
                }
            }
        }
    }

    /// Estimates `m` from the candidate pairs and then the prior by expectation–maximisation
    /// with `m` and `u` held. A field's `m` is counted over the pairs the *other* fields show to
    /// be one person (anchors: for a name, two other fields agreeing exactly; for any other
    /// field, both names close and another field exact), so a crowd of namesakes (a common
    /// name's block) cannot teach the model that a disagreeing date of birth is a match's;
    /// the starting `m` counts as `PSEUDO_PAIRS` anchors already seen. Each record has at most
    /// one true match among its candidates, so the prior is at most `records / pairs`.
    pub(crate) fn estimate_m(&mut self, pairs: &[Levels], records: usize) {
        self.m_pairs = pairs.len() as u64;
        if pairs.is_empty() {
            return;
        }
        let mut sums: Table = self.m.map(|row| row.map(|cell| cell * PSEUDO_PAIRS));
        let mut totals = [PSEUDO_PAIRS; FIELDS];
        for levels in pairs {
            for (field, level) in levels.iter().enumerate() {
                if *level == MISSING || !anchors(levels, field) {
                    continue;
                }
                if let (Some(row), Some(total)) = (sums.get_mut(field), totals.get_mut(field))
                    && let Some(cell) = row.get_mut(usize::from(*level))
                {
                    *cell += 1.0;
                    *total += 1.0;
                }
            }
        }
        for ((row, sum), total) in self.m.iter_mut().zip(&sums).zip(totals) {
            for (cell, value) in row.iter_mut().zip(sum) {
                *cell = (value / total).max(FLOOR);
            }
        }
        let prior_max = (records as f64 / pairs.len() as f64).clamp(FLOOR, 1.0 - FLOOR);
        self.prior = self.prior.min(prior_max);
        for _ in 0..ROUNDS {
            let scoring = self.weights();
            self.prior = (matched(&scoring, pairs) / pairs.len() as f64).clamp(FLOOR, prior_max);
        }
    }

    /// Each field's and level's weight, `log2(m / u)`.
    pub fn weights(&self) -> Weights {
        let mut table = [[0.0; LEVELS]; FIELDS];
        for ((row, m), u) in table.iter_mut().zip(&self.m).zip(&self.u) {
            for ((cell, m), u) in row.iter_mut().zip(m).zip(u) {
                *cell = (m / u).log2();
            }
        }
        Weights {
            table,
            prior: (self.prior / (1.0 - self.prior)).log2(),
        }
    }

    /// The pair's weight: the sum of `log2(m / u)` over the fields both sides have.
    pub fn weight(&self, levels: &Levels) -> f64 {
        self.weights().weight(levels)
    }

    /// The probability that the pair is one person.
    pub fn probability(&self, levels: &Levels) -> f64 {
        self.weights().probability(levels)
    }
}

/// Units a probability is counted in when the pairs' probabilities are added up: 2^32.
const PROBABILITY_UNITS: f64 = 4_294_967_296.0;

/// The pairs' probabilities added up, as whole units ([`PROBABILITY_UNITS`]) so that the sum is
/// the same in any order: the pairs come in the order the workers compared them, and a sum of
/// floats in another order may differ in its last bits, and so the prior and a link on the
/// line. A `u64` holds `2^32` pairs of a whole unit each; the sample holds far fewer.
fn matched(scoring: &Weights, pairs: &[Levels]) -> f64 {
    let units: u64 = pairs
        .iter()
        .map(|levels| (scoring.probability(levels).clamp(0.0, 1.0) * PROBABILITY_UNITS).round() as u64)
        .fold(0, u64::saturating_add);
    units as f64 / PROBABILITY_UNITS
}

/// Whether the fields other than `field` show a pair to be one person (see `estimate_m`).
fn anchors(levels: &Levels, field: usize) -> bool {
    let [first, last, ..] = *levels;
    let exact_others = levels
        .iter()
        .enumerate()
        .skip(2)
        .filter(|(other, level)| *other != field && **level == 0)
        .count();
    if field < 2 {
        exact_others >= 2
    } else {
        first <= 1 && last <= 1 && exact_others >= 1
    }
}

/// Whether a pair can be a link at all, whatever the weights: both names agree (one exactly or
/// closely, the other at least roughly) and something besides the name agrees exactly or
/// closely, or one name agrees and two other fields do. A namesake with nothing else in
/// common is never linked.
pub fn can_link(levels: &Levels) -> bool {
    let [first, last, born, postcode, email, phone] = *levels;
    let close = |level: Level| level <= 1;
    let rough = |level: Level| level <= 2;
    let names = (close(first) && rough(last)) || (rough(first) && close(last));
    let others = [born, postcode, email, phone]
        .into_iter()
        .filter(|level| close(*level))
        .count();
    // A name garbled past recognition (`Smkrh` for `Smith`) beside the other name, the date
    // of birth and the postcode: still the person, for a responder to confirm.
    let one_name = close(first) || close(last);
    // Two dates of birth that differ outright are two people, whatever else agrees.
    // That second reading needs the date of birth among them: a spouse at the member's address
    // shares the family name, the postcode and often the email's domain, never the birthday.
    born != 3 && ((names && others >= 1) || (one_name && others >= 2 && born <= 1))
}

/// Whether a link that scores above the certain line is corroborated enough to be certain:
/// - both names agree exactly or closely (an initial, or a name merely alike, is not enough);
/// - a given name that is only close (`Danielle` for `Daniel`, `Alexandra` for `Alexander`)
///   needs the date of birth to agree: a relative at the same address has the same family
///   name and postcode;
/// - a field besides the name agrees exactly and none disagrees outright, or two agree closely.
///
/// A namesake whose date of birth is one figure off and who lives elsewhere is probable at
/// most: in a large ledger a common name has many holders.
pub fn corroborated(levels: &Levels) -> bool {
    let [first, last, born, postcode, email, phone] = *levels;
    if first > 1 || last > 1 || (first == 1 && born > 1) {
        return false;
    }
    let others = [born, postcode, email, phone];
    let exact = others.iter().filter(|level| **level == 0).count();
    let close = others.iter().filter(|level| **level <= 1).count();
    let against = others.iter().filter(|level| **level == 3).count();
    (exact >= 1 && against == 0) || close >= 2
}

/// The names of the fields that agreed (exactly or closely), for the linkage file.
pub fn agreed(levels: &Levels) -> Vec<&'static str> {
    LINK_FIELDS
        .iter()
        .zip(levels)
        .filter(|(_, level)| **level <= 1)
        .map(|(name, _)| *name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_follow_the_estimates() {
        let mut model = Model::default();
        let mut random = LevelCounts::default();
        for _ in 0..1000 {
            random.add(&[3, 3, 3, 3, MISSING, MISSING]);
        }
        random.add(&[0, 0, 0, 0, MISSING, MISSING]);
        model.estimate_u(&random);
        let pairs: Vec<Levels> = (0..100)
            .map(|n| {
                if n % 2 == 0 {
                    [0, 0, 0, 1, MISSING, MISSING]
                } else {
                    [3, 3, 3, 3, MISSING, MISSING]
                }
            })
            .collect();
        model.estimate_m(&pairs, 100);
        assert!((model.prior - 0.5).abs() < 0.05, "{}", model.prior);
        assert!(model.probability(&[0, 0, 0, 1, MISSING, MISSING]) > 0.999);
        assert!(model.probability(&[3, 3, 3, 3, MISSING, MISSING]) < 0.001);
    }

    #[test]
    fn the_prior_is_the_same_whatever_order_the_pairs_come_in() {
        let mut random = fastrand::Rng::with_seed(3);
        let pairs: Vec<Levels> = (0..20_000)
            .map(|_| {
                std::array::from_fn(|_| {
                    if random.u8(..8) == 0 {
                        MISSING
                    } else {
                        random.u8(..4)
                    }
                })
            })
            .collect();
        let mut shuffled = pairs.clone();
        let (mut plain_sums, mut priors) = (Vec::new(), Vec::new());
        for _ in 0..6 {
            let mut model = Model::default();
            model.estimate_m(&shuffled, 5_000);
            priors.push(model.prior.to_bits());
            let scoring = model.weights();
            plain_sums.push(
                shuffled
                    .iter()
                    .map(|levels| scoring.probability(levels))
                    .sum::<f64>()
                    .to_bits(),
            );
            random.shuffle(&mut shuffled);
        }
        // Floats added in these orders differ in their last bits: the test can tell.
        plain_sums.dedup();
        assert!(plain_sums.len() > 1, "{plain_sums:?}");
        priors.dedup();
        assert_eq!(priors.len(), 1, "{priors:?}");
        let mut model = Model::default();
        model.estimate_m(&pairs, 5_000);
        let scoring = model.weights();
        let plain: f64 = pairs.iter().map(|levels| scoring.probability(levels)).sum();
        assert!((matched(&scoring, &pairs) - plain).abs() < 1e-6 * pairs.len() as f64);
    }

    #[test]
    fn a_namesake_alone_is_no_link() {
        assert!(!can_link(&[0, 0, MISSING, 3, MISSING, MISSING]));
        assert!(!can_link(&[0, 0, 3, 0, MISSING, MISSING]));
        assert!(can_link(&[0, 1, 1, MISSING, MISSING, MISSING]));
        assert!(!can_link(&[3, 0, 0, MISSING, MISSING, MISSING]));
        assert!(can_link(&[0, 3, 0, 0, 1, MISSING]));
        // A spouse: another given name, the address and the email's domain, no birthday.
        assert!(!can_link(&[3, 0, MISSING, 0, 1, MISSING]));
        assert!(!corroborated(&[0, 0, 1, 3, MISSING, MISSING]));
        assert!(corroborated(&[0, 0, 0, MISSING, MISSING, MISSING]));
        assert!(corroborated(&[1, 0, 1, 1, MISSING, MISSING]));
        // A relative at the member's address: a close given name, the postcode, no birth date.
        assert!(!corroborated(&[1, 0, MISSING, 0, MISSING, MISSING]));
        assert!(!corroborated(&[2, 0, 0, 0, MISSING, MISSING]));
        assert_eq!(
            agreed(&[0, 2, 1, MISSING, 3, MISSING]),
            ["first_name", "date_of_birth"]
        );
    }
}
