//! What the organisation says in every answer to a subject access request that custody cannot
//! know from its ledger (UK GDPR Art. 15(1)(a), (g), (h), 15(3)), kept as `[access_answer]` in
//! `settings.toml`. Each has a default in plain words that is true for most membership bodies,
//! so an answer is never missing a part the law requires.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::text::{LONG_TEXT_CHARS_MAX, check_text};

/// The organisation's own words for an access answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerSettings {
    /// Why the organisation itself uses the data (Art. 15(1)(a)), one purpose a line.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub purposes: Vec<String>,
    /// Where the data came from when not from the person (Art. 15(1)(g)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Automated decision-making, including profiling (Art. 15(1)(h)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automated_decisions: Option<String>,
    /// Where the copy of the data attached to the answer comes from (Art. 15(3)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_from: Option<String>,
    /// How to complain to the regulator (Art. 15(1)(f)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regulator_contact: Option<String>,
}

/// The organisation's purposes when settings give none.
pub const DEFAULT_PURPOSES: &[&str] = &[
    "to keep a record of your membership or support and to run it (subscriptions, renewals, your account)",
    "to send you the communications you have chosen to receive",
    "to meet our legal obligations, such as keeping records the law requires",
];
/// The source when settings give none.
pub const DEFAULT_SOURCE: &str =
    "from you, when you joined or gave us your details, and from your later dealings with us";
/// Automated decisions when settings give none.
pub const DEFAULT_AUTOMATED: &str = "We do not make decisions about you by automated means alone, and we do not profile you in a way that has legal or similarly significant effects on you.";
/// The copy's source when settings give none.
pub const DEFAULT_COPY_FROM: &str = "an export of your record from our membership system";
/// The UK regulator's contact when settings give none (ICO, "Make a complaint", and its helpline).
pub const DEFAULT_REGULATOR_CONTACT: &str = "ico.org.uk/make-a-complaint or telephone 0303 123 1113";

impl AnswerSettings {
    /// Checks every text.
    pub fn validate(&self) -> Result<()> {
        for purpose in &self.purposes {
            check_text("access_answer.purposes", purpose, LONG_TEXT_CHARS_MAX)?;
            if purpose.trim().is_empty() {
                return Err(Error::invalid(
                    "access_answer.purposes",
                    purpose,
                    "a purpose in words",
                ));
            }
        }
        for (what, text) in [
            ("access_answer.source", &self.source),
            ("access_answer.automated_decisions", &self.automated_decisions),
            ("access_answer.copy_from", &self.copy_from),
            ("access_answer.regulator_contact", &self.regulator_contact),
        ] {
            if let Some(text) = text {
                check_text(what, text, LONG_TEXT_CHARS_MAX)?;
            }
        }
        Ok(())
    }

    /// The purposes, or the defaults.
    pub fn purposes_or_default(&self) -> Vec<String> {
        if self.purposes.is_empty() {
            DEFAULT_PURPOSES.iter().map(|text| (*text).to_owned()).collect()
        } else {
            self.purposes.clone()
        }
    }

    /// Whether every field is left to its default.
    pub fn is_default(&self) -> bool {
        self == &AnswerSettings::default()
    }
}
