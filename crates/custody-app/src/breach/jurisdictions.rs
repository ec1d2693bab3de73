//! Jurisdictions as data: for each country or region, the regulators to tell of a personal data
//! breach, and each obligation (to whom, above which threshold, by when, with what), each citing
//! its law and the day it was checked. custody ships `data/jurisdictions.toml`; an organisation
//! may replace it with its own (`custody jurisdictions import`, checked whole first, audited),
//! kept in the data directory. Every file is checked in full when read (`jurisdictions_check`),
//! so a rule with no citation or a deadline that cannot be computed never reaches an incident.

use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::dir::Ledger;
use crate::error::{Error, Result};

/// The rules custody ships.
pub const SHIPPED: &str = include_str!("../../data/jurisdictions.toml");

/// The organisation's own rules, in the data directory.
pub const FILE_NAME: &str = "jurisdictions.toml";

/// The rules file's format this custody reads.
pub const FORMAT: u32 = 1;

/// A rules file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RulesFile {
    pub format: Spanned<u32>,
    #[serde(default)]
    pub rule_set: Vec<Spanned<RuleSet>>,
    #[serde(default)]
    pub jurisdiction: Vec<Spanned<JurisdictionFile>>,
    #[serde(default)]
    pub contact: Vec<Spanned<NoticeContact>>,
}

/// Obligations shared by several jurisdictions (the GDPR's).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleSet {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub obligation: Vec<Spanned<Obligation>>,
}

/// A jurisdiction as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct JurisdictionFile {
    pub code: String,
    pub name: String,
    pub law: String,
    pub checked: String,
    pub report_form: String,
    #[serde(default)]
    pub rule_sets: Vec<String>,
    #[serde(default)]
    pub eu: bool,
    #[serde(default)]
    pub regulator: Vec<Spanned<Regulator>>,
    #[serde(default)]
    pub obligation: Vec<Spanned<Obligation>>,
}

/// Whom a jurisdiction's obligations are owed to.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Regulator {
    /// Short name (`ICO`, `CNIL`, `CA AG`): how obligations and reports name it.
    pub short: String,
    /// Full name.
    pub name: String,
    /// Where and how to report.
    pub contact: String,
    /// Where the contact was found.
    pub source: String,
    /// False when the contact rests on a secondary source.
    pub verified: bool,
}

/// Who must be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Recipient {
    /// The data protection authority.
    Regulator,
    /// The people affected.
    Individuals,
    /// A state attorney general.
    AttorneyGeneral,
    /// Consumer reporting agencies (credit bureaus).
    ConsumerReportingAgencies,
    /// Another authority (a state police, a department of state).
    OtherAuthority,
}

/// The harm above which an obligation applies, in the law's own terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Threshold {
    /// Any breach of the data the law covers.
    Any,
    /// Unless unlikely to result in a risk (GDPR Art. 33).
    Risk,
    /// Likely to result in a high risk (GDPR Art. 34).
    HighRisk,
    /// A real risk of significant harm (PIPEDA s 10.1).
    RealRiskOfSignificantHarm,
    /// Likely to result in serious harm (Australia's s 26WE).
    SeriousHarm,
}

/// What a deadline counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineFrom {
    /// The organisation became aware of the breach.
    Awareness,
    /// The breach was discovered (or the organisation was told of it).
    Discovery,
    /// The organisation determined that the breach meets the threshold.
    Determination,
    /// The people were told (0: no later than that).
    IndividualNotice,
}

/// A fixed period, in hours or in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Deadline {
    /// Hours, when the law counts hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<u32>,
    /// Days, when the law counts days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
    /// What it counts from.
    pub from: DeadlineFrom,
}

/// One duty to tell someone.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Obligation {
    /// Unique in the file.
    pub id: String,
    /// Who must be told.
    pub to: Recipient,
    /// The short name of the jurisdiction's regulator it goes to (default: its first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regulator: Option<String>,
    /// The harm above which it applies.
    pub threshold: Threshold,
    /// It applies only when at least this many of the jurisdiction's residents are affected.
    #[serde(default = "one")]
    pub residents_at_least: u64,
    /// A fixed period, if the law gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Deadline>,
    /// The law says "without undue delay", "as soon as practicable" or the like.
    #[serde(default)]
    pub without_undue_delay: bool,
    /// The article or section.
    pub citation: String,
    /// The official text.
    pub source: String,
    /// The day the rule was checked against its source.
    pub checked: String,
    /// What the report or notice must contain, item by item.
    #[serde(default)]
    pub contents: Vec<String>,
    /// Headings the law prescribes for the notice to people: five, in the order of custody's
    /// sections (what happened, which data, what we are doing, what you can do, more information).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headings: Vec<String>,
    /// The title the law prescribes for the notice to people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Sentences the notice to people carries for this jurisdiction (a right the law requires
    /// stated, or local advice), each under "What you can do".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notice_lines: Vec<String>,
    /// The ids of the `[[contact]]`s the notice to people lists (credit bureaus, agencies).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notice_contacts: Vec<String>,
    /// Parts of custody's notice the law forbids (`what_happened`: Massachusetts).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub leave_out: Vec<LeaveOut>,
    /// What the notice must not contain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forbidden: Vec<String>,
    /// It applies only when the organisation switches this variant on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// With a variant: the obligation it replaces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
    /// False when a fact of it rests on a secondary source.
    pub verified: bool,
    /// Caveats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A part of custody's notice to people that a law forbids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaveOut {
    /// The description of what happened (the nature of the breach).
    WhatHappened,
}

/// Someone a notice to people must name: a credit bureau, a consumer or identity-theft agency.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeContact {
    /// How obligations name it (`equifax`).
    pub id: String,
    /// Its name.
    pub name: String,
    /// What a person contacts it for.
    pub purpose: String,
    /// Telephone (toll-free where the law asks for it).
    pub phone: String,
    /// Postal address.
    pub address: String,
    /// Web address.
    pub web: String,
    /// Where the details were found.
    pub source: String,
    /// The day they were checked.
    pub checked: String,
    /// False when they rest on a secondary source.
    pub verified: bool,
}

fn one() -> u64 {
    1
}

/// A jurisdiction with its obligations, its rule sets' included.
#[derive(Debug, Clone, Serialize)]
pub struct Jurisdiction {
    /// ISO 3166-1 alpha-2, or ISO 3166-2 for a region.
    pub code: String,
    /// Name.
    pub name: String,
    /// The laws.
    pub law: String,
    /// The day it was checked.
    pub checked: String,
    /// The form its regulator's report takes.
    pub report_form: String,
    /// In the EU/EEA one-stop shop (GDPR Art. 56).
    pub eu: bool,
    /// Whom it reports to.
    pub regulators: Vec<Regulator>,
    /// Every obligation, variants included.
    pub obligations: Vec<Obligation>,
}

/// A checked set of rules.
#[derive(Debug, Clone, Serialize)]
pub struct Rules {
    /// Where they came from.
    pub origin: String,
    /// SHA-256 of the file, recorded with each assessment made by them.
    pub sha256: String,
    /// Every jurisdiction, in the file's order.
    pub jurisdictions: Vec<Jurisdiction>,
    /// Whom notices may have to name.
    pub contacts: Vec<NoticeContact>,
}

impl Rules {
    /// The jurisdiction with this code.
    pub fn get(&self, code: &str) -> Option<&Jurisdiction> {
        self.jurisdictions
            .iter()
            .find(|jurisdiction| jurisdiction.code == code)
    }

    /// The notice contact with this id.
    pub fn contact(&self, id: &str) -> Option<&NoticeContact> {
        self.contacts.iter().find(|contact| contact.id == id)
    }
}

/// Reads and checks a rules file; `origin` names it in errors.
pub fn parse(text: &str, origin: &str) -> Result<Rules> {
    use sha2::Digest;
    let file: RulesFile = toml::from_str(text).map_err(|error| {
        let (line, column) = error.span().map_or((0, 0), |span| {
            crate::breach::jurisdictions_check::line_column(text, span.start)
        });
        Error::Invalid(format!(
            "{origin}: line {line}, column {column}: {}; expected custody's jurisdiction rules \
             (format = {FORMAT}, [[rule_set]] and [[jurisdiction]] tables: see the shipped file)",
            error.message()
        ))
    })?;
    let (jurisdictions, contacts) = crate::breach::jurisdictions_check::check(file, text, origin)?;
    Ok(Rules {
        origin: origin.to_owned(),
        sha256: custody_vault::hex(&sha2::Sha256::digest(text.as_bytes())),
        jurisdictions,
        contacts,
    })
}

/// The rules a ledger works by: the organisation's, else the shipped ones.
pub fn for_ledger(ledger: &Ledger) -> Result<Rules> {
    let path = ledger.dir.join(FILE_NAME);
    match std::fs::read_to_string(&path) {
        Ok(text) => parse(&text, &format!("{FILE_NAME} in the data directory (imported)")),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            parse(SHIPPED, "the rules shipped with custody")
        }
        Err(error) => Err(Error::io(&path, error)),
    }
}

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct Imported {
    /// Jurisdictions in the file.
    pub jurisdictions: usize,
    /// Obligations in them, rule sets' included.
    pub obligations: usize,
    /// SHA-256 of the file.
    pub sha256: String,
    /// SHA-256 of the rules replaced.
    pub replaced: String,
}

/// Replaces the rules with a file: checked whole first, then kept in the data directory, audited
/// with the digests of the old rules and the new.
pub fn import(ledger: &mut Ledger, file: &Path) -> Result<Imported> {
    let bytes = std::fs::read(file).map_err(|error| Error::io(file, error))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::Invalid(format!("{}: is not UTF-8 text", file.display())))?;
    let rules = parse(&text, &file.display().to_string())?;
    let replaced = for_ledger(ledger)?.sha256;
    let target = ledger.dir.join(FILE_NAME);
    crate::files::replace_private(&target, text.as_bytes()).map_err(|error| Error::io(&target, error))?;
    let imported = Imported {
        jurisdictions: rules.jurisdictions.len(),
        obligations: rules
            .jurisdictions
            .iter()
            .map(|jurisdiction| jurisdiction.obligations.len())
            .sum(),
        sha256: rules.sha256,
        replaced,
    };
    ledger.audit_only(
        "jurisdictions.import",
        "jurisdictions",
        serde_json::json!({ "sha256": imported.sha256, "replaced": imported.replaced,
            "jurisdictions": imported.jurisdictions, "obligations": imported.obligations }),
    )?;
    Ok(imported)
}
