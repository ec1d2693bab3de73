//! An incident's impact, from the ledger: who and which data the supplier (with its
//! sub-processors) held at any moment of the window of compromise (at awareness when no window is
//! known), with the breakdowns a DPO reports; and the risk assessment that follows from it.

use custody_core::{IncidentId, ShareId};
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use custody_core::{Day, Instant, Nature, PersonCategory, PersonSet, ShareKind};
use custody_store::IncidentRecord;

use crate::breach::incident_events::{ImpactRecorded, IncidentEventBody, Recorded};
use crate::breach::incidents::{append, find_incident};
use crate::dir::Ledger;
use crate::error::{Error, Result};
use crate::ledger::holdings::{HeldShare, compute_window};

/// Years after leaving past which a supplier should have deleted a former person's data, unless
/// settings say otherwise.
pub const FORMER_RETENTION_YEARS_DEFAULT: u32 = 2;

/// Current and former people, and how long ago the former left (at the end of the window).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusBreakdown {
    /// Still with the organisation.
    pub current: u64,
    /// Former.
    pub former: u64,
    /// Former who left less than a year before.
    pub left_within_1_year: u64,
    /// Former who left one to three years before.
    pub left_1_to_3_years: u64,
    /// Former who left more than three years before.
    pub left_over_3_years: u64,
    /// Former with no leaving date.
    pub left_unknown: u64,
}

/// The figures of an impact; equal figures mean nothing changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImpactFigures {
    /// People held (canaries excluded).
    pub people: u64,
    /// People per data category.
    pub categories: BTreeMap<String, u64>,
    /// People per person category.
    pub person_categories: BTreeMap<String, u64>,
    /// Current and former.
    pub status: StatusBreakdown,
    /// People the supplier held past the retention its share allowed.
    pub retention_expired: u64,
    /// Former people who left longer ago than the organisation's retention after leaving.
    pub left_long_ago: u64,
    /// People whose membership reveals a special category, per special category key.
    pub special_categories: BTreeMap<String, u64>,
    /// Canaries among the data held.
    pub canaries: u64,
    /// People per place they live in: the ISO 3166-2 region where custody knows it (`US-CA`),
    /// else the ISO 3166-1 country (`GB`), else `unknown` (people only counted included). The
    /// breach rules of each are `custody jurisdictions`'.
    #[serde(default)]
    pub jurisdictions: BTreeMap<String, u64>,
    /// Shares that counted.
    pub shares: Vec<ShareId>,
}

/// An impact for output.
#[derive(Debug, Clone, Serialize)]
pub struct ImpactView {
    /// Incident.
    pub incident: IncidentId,
    /// Supplier.
    pub supplier: String,
    /// Sub-processors included.
    pub sub_processors: Vec<String>,
    /// Window start.
    pub window_from: Instant,
    /// Window end.
    pub window_to: Instant,
    /// The figures.
    #[serde(flatten)]
    pub figures: ImpactFigures,
    /// The shares that counted, with their state.
    pub held_shares: Vec<HeldShare>,
    /// What leak evidence confirms exposed, when any was recorded (`custody match --incident`).
    pub confirmed: Option<crate::leaks::leak_evidence::Confirmed>,
}

/// The window an impact covers: the window of compromise, else the moment of awareness.
pub fn window(incident: &IncidentRecord) -> (Instant, Instant) {
    let facts = &incident.facts;
    match (facts.occurred_from, facts.occurred_to) {
        (Some(from), Some(to)) => (from, to),
        (Some(from), None) => (from, facts.aware_at.max(from)),
        (None, Some(to)) => (to, to),
        (None, None) => (facts.aware_at, facts.aware_at),
    }
}

pub(crate) fn years_before(day: Day, years: i16) -> Day {
    let date = day.date();
    let year = date.year().saturating_sub(years);
    // 29 February becomes 28 February in a year that has none.
    let earlier = jiff::civil::Date::new(year, date.month(), date.day())
        .or_else(|_| jiff::civil::Date::new(year, date.month(), 28))
        .unwrap_or(date);
    Day::from_date(earlier)
}

/// Computes the impact of an incident from the ledger as it is now.
pub fn compute(ledger: &Ledger, incident: &IncidentRecord) -> Result<ImpactView> {
    let _snapshot = ledger.store.read_snapshot()?;
    let (from, to) = window(incident);
    let events = crate::breach::incident_events::log(ledger, incident.id)?;
    let (holdings, held_shares, sub_processors, counted) = match &incident.supplier {
        Some(supplier) => {
            let (holdings, held_shares, sub_processors) = compute_window(ledger, supplier, from, to)?;
            (holdings, held_shares, sub_processors, (0, Vec::new()))
        }
        None => {
            let (holdings, count, categories) = crate::breach::in_house::holdings(ledger, incident, &events)?;
            (holdings, Vec::new(), Vec::new(), (count, categories))
        }
    };
    let people = &holdings.people;
    let mut person_categories = BTreeMap::new();
    let mut by_category = BTreeMap::new();
    for category in PersonCategory::ALL {
        let count = ledger.store.category_people(*category)?.intersection_len(people);
        if count > 0 {
            person_categories.insert(category.as_str().to_owned(), count);
        }
        by_category.insert(*category, count);
    }
    let former_now = ledger.store.former_people()?.intersection_len(people);
    let end = to.local_day(&ledger.zone);
    let after_end = Day::from_date(end.date().tomorrow().unwrap_or(end.date()));
    let retention_years = ledger
        .settings
        .former_retention_years
        .unwrap_or(FORMER_RETENTION_YEARS_DEFAULT);
    let retention = years_before(end, i16::try_from(retention_years).unwrap_or(i16::MAX));
    let (one_year, three_years) = (years_before(end, 1), years_before(end, 3));
    let mut boundaries = vec![three_years, retention, one_year, after_end];
    boundaries.sort_unstable();
    boundaries.dedup();
    let counts = ledger.store.left_counts(people, &boundaries)?;
    // Sums the periods whose start lies in `from..until` (periods are cut at the boundaries).
    let periods = |from: Option<Day>, until: Option<Day>| -> u64 {
        (0..counts.len())
            .filter(|index| {
                let start = index
                    .checked_sub(1)
                    .and_then(|previous| boundaries.get(previous).copied());
                from.is_none_or(|from| start.is_some_and(|start| start >= from))
                    && until.is_none_or(|until| start.is_none_or(|start| start < until))
            })
            .filter_map(|index| counts.get(index))
            .sum()
    };
    // People who left after the window were still with the organisation during it.
    let left_later = periods(Some(after_end), None);
    let former = former_now.saturating_sub(left_later);
    let within_1 = periods(Some(one_year), Some(after_end));
    let between = periods(Some(three_years), Some(one_year));
    let over_3 = periods(None, Some(three_years));
    let long_ago = periods(None, Some(retention));
    let status = StatusBreakdown {
        current: people.len() - former,
        former,
        left_within_1_year: within_1,
        left_1_to_3_years: between,
        left_over_3_years: over_3,
        left_unknown: former.saturating_sub(within_1 + between + over_3),
    };
    let mut special_categories: BTreeMap<String, u64> = BTreeMap::new();
    for (category, keys) in ledger.settings.special_category_map()? {
        let count = by_category.get(&category).copied().unwrap_or(0);
        for key in keys {
            *special_categories.entry(key.as_str().to_owned()).or_default() += count;
        }
    }
    special_categories.retain(|_, count| *count > 0);
    let mut jurisdictions = BTreeMap::new();
    for (place, set) in ledger.store.place_people()? {
        let count = set.intersection_len(people);
        if count > 0 {
            jurisdictions.insert(place, count);
        }
    }
    let placed: u64 = jurisdictions.values().sum();
    let unplaced = (people.len() + counted.0).saturating_sub(placed);
    if unplaced > 0 {
        jurisdictions.insert("unknown".to_owned(), unplaced);
    }
    let confirmed = crate::leaks::leak_evidence::confirmed(ledger, incident.id, people, &events)?;
    Ok(ImpactView {
        incident: incident.id,
        supplier: crate::breach::in_house::where_(incident),
        sub_processors,
        window_from: from,
        window_to: to,
        figures: ImpactFigures {
            // People only counted (an incident at the organisation known by numbers) add to
            // those matched, in total and in each data category named.
            people: people.len() + counted.0,
            categories: {
                let mut categories: BTreeMap<String, u64> = holdings
                    .categories
                    .iter()
                    .map(|(key, set)| (key.as_str().to_owned(), set.len()))
                    .collect();
                for key in &counted.1 {
                    *categories.entry(key.clone()).or_default() += counted.0;
                }
                categories
            },
            person_categories,
            status,
            retention_expired: retention_expired(ledger, &held_shares, people, to)?,
            left_long_ago: long_ago,
            special_categories,
            canaries: holdings.canaries.len(),
            jurisdictions,
            shares: held_shares.iter().map(|share| share.share).collect(),
        },
        held_shares,
        confirmed,
    })
}

/// People held under export shares whose agreed retention had run out by `at`.
fn retention_expired(ledger: &Ledger, held: &[HeldShare], people: &PersonSet, at: Instant) -> Result<u64> {
    let mut expired = PersonSet::new();
    for share in held {
        let Some(record) = ledger.store.share(share.share)? else {
            continue;
        };
        let (Some(days), ShareKind::Export) = (record.meta.retention_days, &record.meta.kind) else {
            continue;
        };
        // The last moment of the window the supplier still held the data (in backups too).
        let last_held = match record.meta.deleted_at {
            Some(deleted) => record
                .meta
                .backups_until
                .map_or(deleted, |until| until.max(deleted))
                .min(at),
            None => at,
        };
        if record.meta.shared_at.plus_hours(i64::from(days) * 24) < last_held {
            expired |= ledger.store.share_people(share.share)?;
        }
    }
    Ok((expired & people).len())
}

/// The figures of the latest impact recorded on the incident.
pub fn latest_figures(events: &[Recorded]) -> Option<ImpactFigures> {
    latest_recorded(events).map(|(figures, _, _)| figures)
}

/// The latest impact recorded on the incident: its figures, what leak evidence confirmed then,
/// and when it was computed.
pub fn latest_recorded(
    events: &[Recorded],
) -> Option<(
    ImpactFigures,
    Option<crate::leaks::leak_evidence::Confirmed>,
    Instant,
)> {
    events.iter().rev().find_map(|recorded| match &recorded.body {
        IncidentEventBody::Impact(impact) => Some((
            impact.figures.clone(),
            impact.confirmed.clone(),
            recorded.event.at,
        )),
        _ => None,
    })
}

/// Recomputes the impact; when the figures (or what leak evidence confirms) differ from the last
/// recorded ones (the ledger changed), records them on the timeline with what changed.
pub fn refresh(ledger: &mut Ledger, id: IncidentId) -> Result<ImpactView> {
    let incident = find_incident(ledger, id)?;
    let view = compute(ledger, &incident)?;
    let events = crate::breach::incident_events::log(ledger, id)?;
    let previous = latest_recorded(&events);
    let unchanged = previous
        .as_ref()
        .is_some_and(|(figures, confirmed, _)| *figures == view.figures && *confirmed == view.confirmed);
    if !unchanged {
        let changes = match previous {
            Some((before, _, _)) if before != view.figures => describe_changes(&before, &view.figures),
            Some(_) => vec![format!(
                "leak evidence confirms {} people exposed",
                view.confirmed.as_ref().map_or(0, |confirmed| confirmed.people)
            )],
            None => vec![format!(
                "first computed from the ledger: {} people",
                view.figures.people
            )],
        };
        let recorded = ImpactRecorded {
            figures: view.figures.clone(),
            changes,
            window_from: view.window_from,
            window_to: view.window_to,
            confirmed: view.confirmed.clone(),
        };
        let now = ledger.now();
        append(ledger, id, now, &IncidentEventBody::Impact(recorded))?;
    }
    Ok(view)
}

fn describe_changes(before: &ImpactFigures, after: &ImpactFigures) -> Vec<String> {
    let mut changes = Vec::new();
    if before.people != after.people {
        changes.push(format!("people: {} → {}", before.people, after.people));
    }
    let keys: std::collections::BTreeSet<&String> =
        before.categories.keys().chain(after.categories.keys()).collect();
    for key in keys {
        let (old, new) = (
            before.categories.get(key).copied().unwrap_or(0),
            after.categories.get(key).copied().unwrap_or(0),
        );
        if old != new {
            changes.push(format!("{key}: {old} → {new}"));
        }
    }
    if before.shares != after.shares {
        changes.push(format!(
            "shares counted: {:?} → {:?}",
            before.shares, after.shares
        ));
    }
    if changes.is_empty() {
        changes.push("breakdowns changed".to_owned());
    }
    changes
}

/// The risk rules (see `risk.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskRules {
    /// Score from which the regulator must be told.
    pub report_regulator_at: i32,
    /// Score from which the risk is high and people must be told.
    pub tell_people_at: i32,
    /// Severity per data-category key (and `special_category`).
    pub severity: BTreeMap<String, i32>,
    /// Points by number of people.
    pub scale: Vec<ScaleStep>,
    /// Adjustments by nature.
    pub nature: NatureRules,
    /// Adjustments by mitigation.
    pub mitigations: BTreeMap<String, i32>,
    /// Adjustments by ease of identification (ENISA 2013, EI); rules written before these
    /// factors get the shipped values.
    #[serde(default = "default_identification")]
    pub identification: BTreeMap<String, i32>,
    /// Adjustment for malicious intent (ENISA 2013, circumstances of the breach).
    #[serde(default)]
    pub intent: IntentRules,
}

fn default_identification() -> BTreeMap<String, i32> {
    [
        ("negligible", -2),
        ("limited", -1),
        ("significant", 0),
        ("maximum", 0),
    ]
    .into_iter()
    .map(|(name, points)| (name.to_owned(), points))
    .collect()
}

/// Adjustments by intent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntentRules {
    /// When the breach was malicious.
    pub malicious: i32,
}

impl Default for IntentRules {
    fn default() -> Self {
        IntentRules { malicious: 1 }
    }
}

/// What the assessor is asked beyond the ledger: `None` keeps the previous answer, or the
/// default when there is none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Factors {
    /// Whether the key was taken with encrypted data (`encrypted` counts only when it was not).
    #[serde(default)]
    pub key_taken: Option<bool>,
    /// Ease of identification: negligible, limited, significant or maximum.
    #[serde(default)]
    pub identification: Option<String>,
    /// Whether the breach was malicious.
    #[serde(default)]
    pub malicious: Option<bool>,
}

/// One step of the scale.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScaleStep {
    /// From this many people.
    pub people: u64,
    /// These points.
    pub points: i32,
}

/// Adjustments by nature.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatureRules {
    /// When only availability was affected.
    pub availability_only: i32,
}

/// The rules shipped with custody.
pub const DEFAULT_RULES: &str = include_str!("risk.toml");

/// The rules in force: the data directory's `risk.toml`, else the shipped default; with the
/// SHA-256 of their text, recorded with every assessment.
pub fn rules(ledger: &Ledger) -> Result<(RiskRules, String)> {
    use sha2::Digest;
    let path = ledger.dir.join("risk.toml");
    let (text, name) = match std::fs::read_to_string(&path) {
        Ok(text) => (text, path.display().to_string()),
        Err(_) => (DEFAULT_RULES.to_owned(), "the default risk rules".to_owned()),
    };
    let rules = toml::from_str(&text).map_err(|error| Error::Invalid(format!("{name}: {error}")))?;
    Ok((rules, custody_vault::hex(&sha2::Sha256::digest(text.as_bytes()))))
}

/// A risk assessment, with its reasons written out.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assessment {
    /// The score.
    pub score: i32,
    /// Report to the regulator (Art. 33).
    pub report_regulator: bool,
    /// Tell the people (Art. 34: high risk).
    pub tell_people: bool,
    /// How the score was reached.
    pub reasons: Vec<String>,
    /// Mitigations taken into account.
    pub mitigations: Vec<String>,
    /// A user's override of either answer, with its reason.
    pub override_reason: Option<String>,
    /// The answers given beyond the ledger.
    #[serde(default)]
    pub factors: Factors,
    /// SHA-256 of the risk rules used (absent in assessments made before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules_sha256: Option<String>,
    /// SHA-256 of the jurisdiction rules the obligations were weighed by (absent in
    /// assessments made before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jurisdictions_sha256: Option<String>,
}

/// Assesses the risk from the current impact, the nature and the mitigations.
pub fn assess(
    rules: &RiskRules,
    incident: &IncidentRecord,
    figures: &ImpactFigures,
    mitigations: &[String],
    factors: &Factors,
) -> Result<Assessment> {
    let mut reasons = Vec::new();
    let mut severity: Option<(i32, String)> = None;
    for key in figures.categories.keys() {
        for (prefix, points) in &rules.severity {
            let matches = key == prefix || key.starts_with(&format!("{prefix}."));
            if matches && severity.as_ref().is_none_or(|(best, _)| points > best) {
                severity = Some((*points, format!("the supplier held {} ({points})", plain(key))));
            }
        }
    }
    if !figures.special_categories.is_empty() {
        let points = rules.severity.get("special_category").copied().unwrap_or(0);
        if severity.as_ref().is_none_or(|(best, _)| points > *best) {
            let names: Vec<String> = figures.special_categories.keys().map(|key| plain(key)).collect();
            severity = Some((
                points,
                format!(
                    "membership itself reveals a special category: {} ({points})",
                    names.join(", ")
                ),
            ));
        }
    }
    let mut score = 0;
    match severity {
        Some((points, reason)) => {
            score += points;
            reasons.push(format!("severity: {reason}"));
        }
        None => reasons.push("severity: no rated data category was held (0)".to_owned()),
    }
    let scale = rules
        .scale
        .iter()
        .filter(|step| figures.people >= step.people)
        .map(|step| step.points)
        .next_back()
        .unwrap_or(0);
    score += scale;
    reasons.push(format!("scale: {} people ({scale:+})", figures.people));
    let nature = &incident.facts.nature;
    if !nature.is_empty() && nature.iter().all(|n| *n == Nature::Availability) {
        score += rules.nature.availability_only;
        reasons.push(format!(
            "nature: availability only, nothing disclosed or altered ({:+})",
            rules.nature.availability_only
        ));
    } else {
        let names: Vec<&str> = nature.iter().map(|n| n.as_str()).collect();
        reasons.push(format!("nature: {} (0)", names.join(", ")));
    }
    score += enisa_factors(rules, incident, figures, factors, &mut reasons)?;
    for mitigation in mitigations {
        let points = rules.mitigations.get(mitigation).copied().ok_or_else(|| {
            let known: Vec<&String> = rules.mitigations.keys().collect();
            Error::Invalid(format!(
                "unknown mitigation {mitigation:?}; the rules know {known:?}"
            ))
        })?;
        if mitigation == "encrypted" {
            let why_not = if !nature.contains(&Nature::Confidentiality) {
                Some("it lowers only the risk of disclosure, and confidentiality is not affected")
            } else {
                match factors.key_taken {
                    Some(false) => None,
                    Some(true) => Some("the key was taken too"),
                    None => Some("it is not known whether the key was taken too (--key-taken)"),
                }
            };
            if let Some(why_not) = why_not {
                reasons.push(format!("mitigation: encrypted (0): {why_not}"));
                continue;
            }
        }
        score += points;
        reasons.push(format!("mitigation: {mitigation} ({points:+})"));
    }
    let report_regulator = score >= rules.report_regulator_at;
    let tell_people = score >= rules.tell_people_at;
    reasons.push(format!(
        "score {score}: report to the regulator from {}, tell people from {}",
        rules.report_regulator_at, rules.tell_people_at
    ));
    Ok(Assessment {
        score,
        report_regulator,
        tell_people,
        reasons,
        mitigations: mitigations.to_vec(),
        override_reason: None,
        factors: factors.clone(),
        rules_sha256: None,
        jurisdictions_sha256: None,
    })
}

/// A data-category key in plain words ("email address"), for sentences; the key where unknown.
fn plain(key: &str) -> String {
    custody_core::CategoryKey::parse(key).map_or_else(
        |_| key.to_owned(),
        |key| key.plain_label().trim_start_matches("your ").to_owned(),
    )
}

/// ENISA's ease of identification and malicious intent, as points with their reasons.
fn enisa_factors(
    rules: &RiskRules,
    incident: &IncidentRecord,
    figures: &ImpactFigures,
    factors: &Factors,
    reasons: &mut Vec<String>,
) -> Result<i32> {
    let direct = figures
        .categories
        .keys()
        .any(|key| key.starts_with("user.name") || key.starts_with("user.contact"));
    let (level, how) = match &factors.identification {
        Some(level) => (level.as_str(), "as assessed"),
        None if direct => ("maximum", "names or contact details were held"),
        None => ("limited", "no names or contact details were held"),
    };
    let identification = rules.identification.get(level).copied().ok_or_else(|| {
        let known: Vec<&String> = rules.identification.keys().collect();
        Error::Invalid(format!(
            "ease of identification {level:?}: expected one of {known:?}"
        ))
    })?;
    reasons.push(format!(
        "ease of identification: {level}, {how} ({identification:+})"
    ));
    let (malicious, how) = match factors.malicious {
        Some(answer) => (answer, "as assessed"),
        None => (
            incident.facts.cyber == Some(true),
            "from whether it was a cyber incident",
        ),
    };
    let intent = if malicious { rules.intent.malicious } else { 0 };
    reasons.push(format!(
        "intent: {}, {how} ({intent:+})",
        if malicious {
            "malicious"
        } else {
            "not known to be malicious"
        }
    ));
    Ok(identification + intent)
}

/// The mitigations after adding `add` to those of the latest assessment and removing `remove`:
/// a mitigation stays on the incident until it is removed explicitly.
pub fn mitigations_after(
    ledger: &Ledger,
    id: IncidentId,
    add: &[String],
    remove: &[String],
) -> Result<Vec<String>> {
    let events = crate::breach::incident_events::log(ledger, id)?;
    let mut mitigations = latest_assessment(&events)
        .map(|assessment| assessment.mitigations)
        .unwrap_or_default();
    for mitigation in add {
        if !mitigations.contains(mitigation) {
            mitigations.push(mitigation.clone());
        }
    }
    if let Some(unknown) = remove.iter().find(|mitigation| !mitigations.contains(mitigation)) {
        return Err(Error::Invalid(format!(
            "--remove-mitigations {unknown:?}: it is not among the incident's mitigations {mitigations:?}"
        )));
    }
    mitigations.retain(|mitigation| !remove.contains(mitigation));
    Ok(mitigations)
}

/// Answers given now to the assessor's questions: `None` keeps the previous answer (or the
/// default); `Some(None)` says "not known".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FactorsGiven {
    /// Whether the key was taken with encrypted data.
    pub key_taken: Option<Option<bool>>,
    /// Ease of identification.
    pub identification: Option<String>,
    /// Whether the breach was malicious.
    pub malicious: Option<Option<bool>>,
}

/// Assesses (refreshing the impact first), applies any override, and records the result.
pub fn assess_and_record(
    ledger: &mut Ledger,
    id: IncidentId,
    mitigations: &[String],
    factors: &FactorsGiven,
    override_answers: (Option<bool>, Option<bool>),
    override_reason: Option<String>,
) -> Result<Assessment> {
    let (regulator, people) = override_answers;
    if (regulator.is_some() || people.is_some())
        && override_reason
            .as_ref()
            .is_none_or(|reason| reason.trim().is_empty())
    {
        // Checked before anything is recorded: a refused assessment leaves no trace.
        return Err(Error::Invalid(
            "an override of the assessment must carry its reason (--reason, or the form's reason)".to_owned(),
        ));
    }
    let view = refresh(ledger, id)?;
    let incident = find_incident(ledger, id)?;
    // An answer not given now is the one given before.
    let previous = latest_assessment(&crate::breach::incident_events::log(ledger, id)?)
        .map(|assessment| assessment.factors);
    let factors = Factors {
        key_taken: factors
            .key_taken
            .unwrap_or_else(|| previous.as_ref().and_then(|before| before.key_taken)),
        identification: factors
            .identification
            .clone()
            .or(previous.as_ref().and_then(|before| before.identification.clone())),
        malicious: factors
            .malicious
            .unwrap_or_else(|| previous.as_ref().and_then(|before| before.malicious)),
    };
    let (rules, rules_sha256) = rules(ledger)?;
    let mut assessment = assess(&rules, &incident, &view.figures, mitigations, &factors)?;
    assessment.rules_sha256 = Some(rules_sha256);
    assessment.jurisdictions_sha256 = Some(crate::breach::jurisdictions::for_ledger(ledger)?.sha256);
    if regulator.is_some() || people.is_some() {
        let reason = override_reason
            .filter(|reason| !reason.trim().is_empty())
            .ok_or_else(|| {
                Error::Invalid("an override of the assessment must carry its reason (--reason)".to_owned())
            })?;
        if let Some(answer) = regulator {
            assessment
                .reasons
                .push(format!("overridden: report to the regulator = {answer}"));
            assessment.report_regulator = answer;
        }
        if let Some(answer) = people {
            assessment
                .reasons
                .push(format!("overridden: tell people = {answer}"));
            assessment.tell_people = answer;
        }
        assessment.override_reason = Some(reason);
    }
    let now = ledger.now();
    append(
        ledger,
        id,
        now,
        &IncidentEventBody::Assessment(assessment.clone()),
    )?;
    Ok(assessment)
}

/// The latest risk assessment recorded on an incident.
pub fn latest_assessment(events: &[Recorded]) -> Option<Assessment> {
    events.iter().rev().find_map(|recorded| match &recorded.body {
        IncidentEventBody::Assessment(assessment) => Some(assessment.clone()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_rules_parse() {
        let rules: RiskRules = toml::from_str(DEFAULT_RULES).unwrap();
        assert!(rules.tell_people_at > rules.report_regulator_at);
        assert_eq!(rules.severity.get("user.demographic.political_opinion"), Some(&4));
    }

    #[test]
    fn years_before_handles_leap_days() {
        let day = Day::from_date(jiff::civil::date(2024, 2, 29));
        assert_eq!(years_before(day, 1).to_iso(), "2023-02-28");
        assert_eq!(years_before(day, 4).to_iso(), "2020-02-29");
    }
}
