//! A person's postal address as written, for a letter when they have no usable email address:
//! the home address (one named home, mailing, primary, … or the file's only one), else the
//! first other address that can take a letter (a street line, and a town or a postcode), never
//! a work address (a letter about their data does not go to their employer's post room). Values
//! are kept as written, spaces collapsed and each part cut to a length a print house accepts; an
//! address's country is its own country column's, else none (the organisation's country).

use serde::{Deserialize, Serialize};

use crate::people::{PeopleColumns, PersonField};
use crate::person_row::cell;

/// Street lines kept (the letter joins those that do not fit its six lines with commas).
const MAX_STREET_LINES: usize = 5;
/// Characters kept of one part (a window's line holds about 50; a longer one is set smaller, then
/// cut, and the letters' report names the people whose address was cut).
const MAX_PART: usize = 80;

/// A postal address as written in the export.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostalAddress {
    /// Street lines, in order (house, street, locality).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<String>,
    /// Town or city.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub town: Option<String>,
    /// Region, state or county.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Postcode as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postcode: Option<String>,
    /// Country, ISO 3166 alpha-2, when the file gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

impl PostalAddress {
    /// Whether a letter can be addressed with it: a street line and a town or a postcode.
    pub fn is_usable(&self) -> bool {
        !self.lines.is_empty() && (self.town.is_some() || self.postcode.is_some())
    }
}

/// Whether an address's name marks it as the person's home (or the file's only address).
pub(crate) fn is_home(name: &str) -> bool {
    name.is_empty()
        || ["home", "mailing", "primary", "preferred", "postal", "main"]
            .iter()
            .any(|word| name.starts_with(word))
}

/// Whether an address's name marks it as a workplace's.
pub(crate) fn is_work(name: &str) -> bool {
    ["business", "work", "office", "company", "employer", "job"]
        .iter()
        .any(|word| name.starts_with(word))
}

/// One part, spaces collapsed and cut to [`MAX_PART`] characters.
fn part(text: &str) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed.chars().take(MAX_PART).collect()
}

/// The address a letter goes to, if the row has one that can take a letter.
pub(crate) fn postal_address(
    columns: &PeopleColumns,
    record: &csv::StringRecord,
    countries: &[Option<String>],
) -> Option<PostalAddress> {
    let mut order: Vec<usize> = (0..columns.address_parts().len())
        .filter(|slot| !columns.addresses.get(*slot).is_some_and(|name| is_work(name)))
        .collect();
    // Home addresses first, then the others in file order.
    order.sort_by_key(|slot| !columns.addresses.get(*slot).is_some_and(|name| is_home(name)));
    order.into_iter().find_map(|slot| {
        let parts = columns.address_parts().get(slot)?;
        let mut address = PostalAddress {
            country: countries.get(slot).and_then(Option::clone),
            ..PostalAddress::default()
        };
        for (index, field) in parts {
            let Some(text) = record.get(*index).map(cell).filter(|text| !text.is_empty()) else {
                continue;
            };
            // A street cell may hold several lines (Outlook writes them with line breaks).
            match field {
                PersonField::Street => {
                    for line in text.lines().map(part).filter(|line| !line.is_empty()) {
                        if address.lines.len() < MAX_STREET_LINES {
                            address.lines.push(line);
                        }
                    }
                }
                PersonField::Town if address.town.is_none() => address.town = Some(part(text)),
                PersonField::Region if address.region.is_none() => address.region = Some(part(text)),
                PersonField::Postcode if address.postcode.is_none() => {
                    address.postcode = Some(part(text));
                }
                _ => {}
            }
        }
        address.is_usable().then_some(address)
    })
}
