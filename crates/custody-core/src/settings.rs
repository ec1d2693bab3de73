//! The organisation's settings, as kept in the data directory's `settings.toml`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::answer_settings::AnswerSettings;
use crate::category::CategoryKey;
use crate::desk_settings::DeskSettings;
use crate::error::{Error, Result};
use crate::identity::{is_phone_region, normalise_email};
use crate::instant::TimeZoneName;
use crate::person::PersonCategory;

/// How to reach the data protection officer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DpoContact {
    /// Name or role, e.g. "Data Protection Officer".
    pub name: String,
    /// Email address people may write to.
    pub email: String,
    /// A phone number the regulator may call (the ICO's form asks for one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// A postal address people may write to, on one line ("1 High Street, Leeds LS1 1AA"):
    /// printed as the return address on letters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal: Option<String>,
}

/// The organisation's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The organisation's name, as people know it.
    pub organisation: String,
    /// IANA time zone in which instants are shown and local times are read.
    pub time_zone: String,
    /// Region for reading national phone numbers (ISO 3166 alpha-2).
    pub phone_region: String,
    /// The supervisory authority reports go to.
    pub regulator: String,
    /// Domain under which canary addresses are made; mail to it should reach the DPO.
    pub canary_domain: String,
    /// The DPO's contact.
    pub dpo: DpoContact,
    /// Where the ledger is kept: left out, `custody.db` (SQLite) in the data directory; or a
    /// PostgreSQL URL, `postgresql://user@host[:port]/database`, never with its password (which
    /// comes from `CUSTODY_DATABASE_PASSWORD`, `PGPASSWORD` or `~/.pgpass`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// The organisation's registration number with the regulator (in the UK, the ICO's register
    /// of data protection fee payers), given in reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_number: Option<String>,
    /// Hours after awareness by which the organisation aims to tell affected people (default 72).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub people_target_hours: Option<u32>,
    /// Years after leaving past which a supplier should long since have deleted a former
    /// person's data (default 2): such people are counted apart in an incident's impact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub former_retention_years: Option<u32>,
    /// Whether notices to people name the supplier (default yes); when not, they say "a supplier
    /// that processes data for us".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice_names_supplier: Option<bool>,
    /// Person categories whose very membership reveals a special category of data (Art. 9),
    /// e.g. `member = ["user.demographic.political_opinion"]` for a political party.
    #[serde(default)]
    pub special_categories: BTreeMap<String, Vec<String>>,
    /// The mail server notices go through; `CUSTODY_SMTP_*` variables override each field, and
    /// the password is only ever read from `CUSTODY_SMTP_PASSWORD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp: Option<SmtpSettings>,
    /// The web desk's limits (`[desk]`); defaults when left out.
    #[serde(default, skip_serializing_if = "DeskSettings::is_default")]
    pub desk: DeskSettings,
    /// Whose bank holidays move a request's deadline: `england-and-wales` (default), `scotland`
    /// or `northern-ireland` (or any division of an imported list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_holidays: Option<String>,
    /// An internal target for answering requests, this many days before the legal deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_target_days: Option<u32>,
    /// Whether an erasure request waits for a responder's decision before any supplier is
    /// instructed (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erasure_review: Option<bool>,
    /// The organisation's own words in access answers (`[access_answer]`).
    #[serde(default, skip_serializing_if = "AnswerSettings::is_default")]
    pub access_answer: AnswerSettings,
    /// Where fuzzy linkage draws its lines (`[linkage]`); defaults when left out.
    #[serde(default, skip_serializing_if = "LinkageSettings::is_default")]
    pub linkage: LinkageSettings,
    /// Where the organisation is established and which rule variants it works by
    /// (`[establishment]`), for the obligations of `custody jurisdictions`.
    #[serde(default, skip_serializing_if = "Establishment::is_default")]
    pub establishment: Establishment,
}

/// Where the organisation is established, for which authority leads on a breach.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Establishment {
    /// The EU/EEA country of the organisation's main establishment (GDPR Art. 4(16)), if it has
    /// one: that country's authority leads for every EU/EEA person (one-stop shop, Art. 56).
    /// Without one, every EU/EEA authority concerned is told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eu_main: Option<String>,
    /// Rule variants switched on, e.g. `["eu-omnibus-2025"]` to work by the Commission's
    /// proposed 96-hour, high-risk rule instead of GDPR Art. 33 as it stands.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<String>,
}

impl Establishment {
    fn is_default(&self) -> bool {
        *self == Establishment::default()
    }
}

/// Fuzzy linkage's two lines (a leaked row linked to a person with at least `certain`
/// probability is matched; from `review` up to it, it is probable, shown for a responder to
/// confirm and never told on its own), and whether its blocking keys are kept.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkageSettings {
    /// Probability from which a link is certain (default 0.999).
    #[serde(default = "LinkageSettings::default_certain")]
    pub certain: f64,
    /// Probability from which a link is shown for review (default 0.5).
    #[serde(default = "LinkageSettings::default_review")]
    pub review: f64,
    /// Whether the people's keyed blocking keys are kept beside the store (default true); when
    /// false, every linkage opens everyone to make them and nothing is kept.
    #[serde(default = "LinkageSettings::default_keep_blocks")]
    pub keep_blocks: bool,
}

// Settings compare whole; the lines are never NaN (`validate` refuses it).
impl Eq for LinkageSettings {}

impl Default for LinkageSettings {
    fn default() -> Self {
        LinkageSettings {
            certain: Self::default_certain(),
            review: Self::default_review(),
            keep_blocks: Self::default_keep_blocks(),
        }
    }
}

impl LinkageSettings {
    fn default_certain() -> f64 {
        0.999
    }

    fn default_review() -> f64 {
        0.5
    }

    fn default_keep_blocks() -> bool {
        true
    }

    /// Whether these are the defaults (left out of `settings.toml`).
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// Both lines are probabilities, the review line below the certain one.
    pub fn validate(&self) -> Result<()> {
        if !(self.review > 0.0 && self.review < self.certain && self.certain < 1.0) {
            return Err(Error::invalid(
                "linkage",
                &format!("review = {}, certain = {}", self.review, self.certain),
                "0 < review < certain < 1, such as review = 0.5 and certain = 0.999",
            ));
        }
        Ok(())
    }
}

/// The mail server, as kept in `settings.toml` (never its password).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    /// Host name or address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Port (default 587 with STARTTLS, 465 with TLS, 25 without).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// `none`, `starttls` (default) or `tls`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<String>,
    /// User name for authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The sender, e.g. `Example Party <dpo@example.org>` (default: the DPO's address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// A PEM file of extra certificate authorities to trust (an internal mail server's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
}

impl Settings {
    /// Settings for a new organisation, to be edited.
    pub fn new(organisation: &str) -> Self {
        Settings {
            organisation: organisation.to_owned(),
            time_zone: "Europe/London".to_owned(),
            phone_region: "GB".to_owned(),
            regulator: "Information Commissioner's Office (ICO)".to_owned(),
            canary_domain: "canary.example.org".to_owned(),
            dpo: DpoContact {
                name: "Data Protection Officer".to_owned(),
                email: "dpo@example.org".to_owned(),
                phone: None,
                postal: None,
            },
            database: None,
            registration_number: None,
            people_target_hours: None,
            former_retention_years: None,
            notice_names_supplier: None,
            special_categories: BTreeMap::new(),
            smtp: None,
            desk: DeskSettings::default(),
            bank_holidays: None,
            request_target_days: None,
            erasure_review: None,
            access_answer: AnswerSettings::default(),
            linkage: LinkageSettings::default(),
            establishment: Establishment::default(),
        }
    }

    /// Checks every field; the first bad one is named.
    pub fn validate(&self) -> Result<()> {
        self.zone()?;
        if let Some(url) = &self.database {
            let rest = url
                .strip_prefix("postgresql://")
                .or_else(|| url.strip_prefix("postgres://"));
            let user_info = rest.and_then(|rest| rest.split_once('@')).map(|(user, _)| user);
            if rest.is_none() || user_info.is_none_or(|user| user.is_empty() || user.contains(':')) {
                return Err(Error::invalid(
                    "database",
                    url.split_once(':').map_or(url.as_str(), |(scheme, _)| scheme),
                    "a PostgreSQL URL with a user and no password, such as postgresql://custody@127.0.0.1:5432/custody",
                ));
            }
        }
        if !is_phone_region(&self.phone_region) {
            return Err(Error::invalid(
                "phone_region",
                &self.phone_region,
                "an ISO 3166 region such as GB",
            ));
        }
        if normalise_email(&format!("canary@{}", self.canary_domain)).is_none() {
            return Err(Error::invalid(
                "canary_domain",
                &self.canary_domain,
                "a domain name such as canary.example.org",
            ));
        }
        if normalise_email(&self.dpo.email).is_none() {
            return Err(Error::invalid("dpo.email", &self.dpo.email, "an email address"));
        }
        self.special_category_map()?;
        self.desk.validate()?;
        self.access_answer.validate()?;
        self.linkage.validate()?;
        if let Some(code) = &self.establishment.eu_main
            && !(code.len() == 2 && code.bytes().all(|byte| byte.is_ascii_uppercase()))
        {
            return Err(Error::invalid(
                "establishment.eu_main",
                code,
                "an ISO 3166-1 alpha-2 code of an EU/EEA country, such as IE",
            ));
        }
        if let Some(division) = &self.bank_holidays
            && (division.is_empty() || !division.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        {
            return Err(Error::invalid(
                "bank_holidays",
                division,
                "a division such as england-and-wales, scotland or northern-ireland",
            ));
        }
        if let Some(days) = self.request_target_days
            && days > 27
        {
            return Err(Error::invalid(
                "request_target_days",
                &days.to_string(),
                "0 to 27 days before the deadline",
            ));
        }
        if let Some(years) = self.former_retention_years
            && !(1..=100).contains(&years)
        {
            return Err(Error::invalid(
                "former_retention_years",
                &years.to_string(),
                "1 to 100 years",
            ));
        }
        if let Some(hours) = self.people_target_hours
            && !(1..=8760).contains(&hours)
        {
            return Err(Error::invalid(
                "people_target_hours",
                &hours.to_string(),
                "1 to 8760 hours",
            ));
        }
        Ok(())
    }

    /// The time zone.
    pub fn zone(&self) -> Result<TimeZoneName> {
        TimeZoneName::parse(&self.time_zone)
    }

    /// The special categories each person category reveals.
    pub fn special_category_map(&self) -> Result<BTreeMap<PersonCategory, Vec<CategoryKey>>> {
        self.special_categories
            .iter()
            .map(|(person, keys)| {
                let category = PersonCategory::parse_loose(person)?;
                let keys = keys
                    .iter()
                    .map(|key| CategoryKey::parse(key))
                    .collect::<Result<Vec<_>>>()?;
                Ok((category, keys))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_bad_values_are_named() {
        let mut settings = Settings::new("Example Party");
        settings.validate().unwrap();
        settings.time_zone = "Europe/Lundon".into();
        assert!(settings.validate().unwrap_err().to_string().contains("time zone"));
        settings.time_zone = "Europe/London".into();
        settings
            .special_categories
            .insert("member".into(), vec!["user.demographic.politics".into()]);
        assert!(
            settings
                .validate()
                .unwrap_err()
                .to_string()
                .contains("data category")
        );
    }
}
