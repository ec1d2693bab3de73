//! Data categories: fideslang keys (CC BY 4.0, Ethyca; see `taxonomy/NOTICE.md`), validated
//! against the taxonomy shipped inside the binary, with custody's own plain-language labels.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::OnceLock;

use crate::error::{Error, Result};

/// The fideslang data-category taxonomy, as published by Ethyca under CC BY 4.0.
const TAXONOMY_CSV: &str = include_str!("../taxonomy/fideslang_data_categories.csv");

struct Entry {
    key: &'static str,
    name: &'static str,
}

fn taxonomy() -> &'static [Entry] {
    static TAXONOMY: OnceLock<Vec<Entry>> = OnceLock::new();
    TAXONOMY.get_or_init(|| {
        // Keys and names contain no commas or quotes, so the first and third fields of each line
        // can be read without a CSV parser; the header line is skipped.
        TAXONOMY_CSV
            .lines()
            .skip(1)
            .filter_map(|line| {
                let mut fields = line.split(',');
                let key = fields.next()?;
                let name = fields.nth(1)?;
                (key.starts_with("user")).then_some(Entry { key, name })
            })
            .collect()
    })
}

/// Every personal-data key of the taxonomy (those under `user`), in file order.
pub fn taxonomy_keys() -> impl Iterator<Item = &'static str> {
    taxonomy().iter().map(|entry| entry.key)
}

/// A fideslang data-category key under `user`, such as `user.contact.email`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CategoryKey(&'static str);

impl CategoryKey {
    /// Looks a key up in the taxonomy; anything not in it is refused.
    pub fn parse(text: &str) -> Result<Self> {
        let wanted = text.trim();
        taxonomy()
            .iter()
            .find(|entry| entry.key == wanted)
            .map(|entry| CategoryKey(entry.key))
            .ok_or_else(|| {
                Error::invalid(
                    "data category",
                    text,
                    "a fideslang key under `user`, such as user.contact.email",
                )
            })
    }

    /// The key itself.
    pub fn as_str(self) -> &'static str {
        self.0
    }

    /// The taxonomy's own name for the key.
    pub fn taxonomy_name(self) -> &'static str {
        taxonomy()
            .iter()
            .find(|entry| entry.key == self.0)
            .map_or(self.0, |entry| entry.name)
    }

    /// Plain words for a notice to a person ("your email address"); custody's own wording.
    pub fn plain_label(self) -> String {
        let label = match self.0 {
            "user.name" => "your name",
            "user.name.first" => "your first name",
            "user.name.last" => "your last name",
            "user.contact.email" => "your email address",
            "user.contact.phone_number" => "your phone number",
            "user.contact.address" => "your postal address",
            "user.contact.address.street" => "your street address",
            "user.contact.address.city" => "your town or city",
            "user.contact.address.postal_code" => "your postcode",
            "user.contact.address.country" => "your country",
            "user.contact.address.state" => "your county or region",
            "user.demographic.date_of_birth" => "your date of birth",
            "user.demographic.age_range" => "your age range",
            "user.demographic.gender" => "your gender",
            "user.demographic.political_opinion" => "your political opinions or party membership",
            "user.demographic.religious_belief" => "your religious beliefs",
            "user.financial.bank_account" => "your bank account details",
            "user.financial.credit_card" => "your payment card details",
            "user.financial" => "your financial details",
            "user.unique_id" => "your membership or supporter number",
            "user.government_id.national_identification_number" => "your national insurance number",
            "user.health_and_medical" => "information about your health",
            "user.authorization.password" => "your password",
            "user.behavior.purchase_history" => "your donation or purchase history",
            _ => return format!("your {}", self.taxonomy_name().to_lowercase()),
        };
        label.to_owned()
    }
}

impl fmt::Display for CategoryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// A set of data categories, ordered by key.
pub type CategorySet = BTreeSet<CategoryKey>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_keys_parse_and_unknown_keys_are_refused() {
        assert_eq!(
            CategoryKey::parse("user.contact.email").map(CategoryKey::as_str),
            Ok("user.contact.email")
        );
        assert!(CategoryKey::parse("user.contact.emial").is_err());
        assert!(
            CategoryKey::parse("system.operations").is_err(),
            "only personal-data keys are categories"
        );
        assert!(taxonomy_keys().count() > 80);
    }

    #[test]
    fn labels_are_plain_words() {
        let key = CategoryKey::parse("user.contact.address.postal_code").unwrap();
        assert_eq!(key.plain_label(), "your postcode");
        let other = CategoryKey::parse("user.biometric.voice").unwrap();
        assert!(
            other.plain_label().starts_with("your "),
            "{}",
            other.plain_label()
        );
    }
}
