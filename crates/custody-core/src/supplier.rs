//! Suppliers: the processors and sub-processors that receive the organisation's data.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A supplier's name, unique in the organisation (compared without regard to case).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SupplierName(String);

impl SupplierName {
    /// Longest name accepted, in characters.
    pub const LENGTH_CHARS_MAX: usize = 120;

    /// A name is 1 to 120 printable characters, trimmed.
    pub fn parse(text: &str) -> Result<Self> {
        let trimmed = text.trim();
        if trimmed.is_empty()
            || trimmed.chars().count() > Self::LENGTH_CHARS_MAX
            || trimmed.chars().any(char::is_control)
        {
            return Err(Error::invalid(
                "supplier name",
                text,
                "1 to 120 printable characters",
            ));
        }
        Ok(SupplierName(trimmed.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SupplierName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a person at a supplier is the contact for: security incidents, data protection, or the
/// account (the contract and its instructions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContactRole {
    /// Security incidents.
    Security,
    /// The supplier's data protection officer.
    Dpo,
    /// The account: the contract, and instructions under it.
    Account,
}

impl ContactRole {
    /// Stable text form.
    pub fn as_str(self) -> &'static str {
        match self {
            ContactRole::Security => "security",
            ContactRole::Dpo => "dpo",
            ContactRole::Account => "account",
        }
    }

    /// Parses the stable text form.
    pub fn parse(text: &str) -> Result<Self> {
        match text.trim() {
            "security" => Ok(ContactRole::Security),
            "dpo" => Ok(ContactRole::Dpo),
            "account" => Ok(ContactRole::Account),
            _ => Err(Error::invalid("contact role", text, "security, dpo or account")),
        }
    }
}

/// What a supplier is to the organisation (UK/EU GDPR Art. 28).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SupplierRole {
    /// Processes data on the organisation's behalf under a contract (Art. 28(3)).
    Processor,
    /// Engaged by a processor, with the organisation's authorisation (Art. 28(2), 28(4)).
    SubProcessor,
}

impl SupplierRole {
    /// Stable text form.
    pub fn as_str(self) -> &'static str {
        match self {
            SupplierRole::Processor => "processor",
            SupplierRole::SubProcessor => "sub-processor",
        }
    }

    /// Parses the stable text form.
    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "processor" => Ok(SupplierRole::Processor),
            "sub-processor" => Ok(SupplierRole::SubProcessor),
            _ => Err(Error::invalid(
                "supplier role",
                text,
                "processor or sub-processor",
            )),
        }
    }
}

/// The UK and the states of the European Economic Area (the EU's 27 with Iceland, Liechtenstein
/// and Norway), ISO 3166 alpha-2: a transfer to anywhere else needs a safeguard (UK GDPR
/// Chapter V; the answer to an access request names it, Art. 15(2)).
const UK_AND_EEA: [&str; 31] = [
    "GB", "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
    "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
];

/// A country as ISO 3166 alpha-2 in capitals, from a code (`GB`, `GBR`, `UK`) or a name
/// ("United Kingdom", "France"), or an error.
pub fn country_code(text: &str) -> crate::Result<String> {
    crate::countries::country_alpha2(text)
        .map(str::to_owned)
        .ok_or_else(|| {
            crate::Error::invalid(
                "country",
                text,
                "an ISO 3166 code such as GB, IE or US, or a country's name such as United Kingdom",
            )
        })
}

/// Whether a country (ISO 3166 alpha-2) is the UK or in the EEA.
pub fn is_uk_or_eea(code: &str) -> bool {
    UK_AND_EEA.contains(&code)
}

/// Countries covered by UK adequacy regulations (Data Protection Act 2018, Schedule 21
/// paragraphs 4 and 5, and the regulations made since, such as the Republic of Korea in 2022):
/// a transfer there needs no further safeguard. The United States is not listed: its bridge
/// covers only certified organisations, so a US supplier's safeguard must be recorded.
const UK_ADEQUATE: [&str; 14] = [
    "AD", "AR", "CA", "CH", "FO", "GG", "GI", "IL", "IM", "JE", "JP", "KR", "NZ", "UY",
];

/// Whether a country is covered by UK adequacy regulations.
pub fn is_uk_adequate(code: &str) -> bool {
    UK_ADEQUATE.contains(&code)
}
