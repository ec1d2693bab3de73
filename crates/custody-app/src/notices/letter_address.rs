//! A person's address block as the post of their country wants it, from the address as the
//! export wrote it. Sources: Royal Mail's addressing guidance (post town in capitals, the
//! postcode on a line of its own), USPS Publication 28 (`CITY ST ZIP` on the last line), Canada
//! Post's and Australia Post's addressing guides (locality, province or state and postcode on
//! one line), An Post's Eircode guidance (the Eircode on the last line), and the Universal
//! Postal Union's S42 for the rest of Europe (postcode before the locality) and for mail abroad
//! (the destination country's name in capitals on the last line).

use custody_ingest::PostalAddress;

/// Lines of the address field of a DIN 5008 window (its last six lines are the address).
const MAX_LINES: usize = 6;

/// The address block: the name, then the address in the country's order, then the country when
/// it is not `home` (the organisation's). At most six lines: street lines give way first.
pub fn address_lines(name: &str, postal: &PostalAddress, home: &str) -> Vec<String> {
    let country = postal.country.as_deref().unwrap_or(home);
    let town = postal.town.clone().unwrap_or_default();
    let postcode = postal.postcode.clone().unwrap_or_default();
    let region = postal.region.clone().unwrap_or_default();
    let mut tail: Vec<String> = match country {
        "GB" | "IM" | "JE" | "GG" => vec![town.to_uppercase(), postcode.to_uppercase()],
        "IE" => vec![town, region, postcode.to_uppercase()],
        "US" | "CA" | "AU" => vec![join(&[&town, &region, &postcode], " ").to_uppercase()],
        _ => vec![join(&[&postcode, &town], " ")],
    };
    tail.retain(|line| !line.trim().is_empty());
    if country != home
        && let Some(name) = custody_core::postal_country_name(country)
    {
        tail.push(name);
    }
    let room = MAX_LINES.saturating_sub(1 + tail.len());
    let mut lines = vec![name.trim().to_owned()];
    lines.extend(postal.lines.iter().take(room).cloned());
    lines.extend(tail);
    lines.retain(|line| !line.trim().is_empty());
    lines
}

fn join(parts: &[&str], separator: &str) -> String {
    parts
        .iter()
        .map(|part| part.trim())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(separator)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(country: &str, lines: &[&str], town: &str, region: &str, postcode: &str) -> PostalAddress {
        let some = |text: &str| (!text.is_empty()).then(|| text.to_owned());
        PostalAddress {
            lines: lines.iter().map(|line| (*line).to_owned()).collect(),
            town: some(town),
            region: some(region),
            postcode: some(postcode),
            country: some(country),
        }
    }

    #[test]
    fn each_post_gets_its_order() {
        let uk = address("GB", &["10 Downing Street"], "London", "", "sw1a 2aa");
        assert_eq!(
            address_lines("Ann Smith", &uk, "GB"),
            ["Ann Smith", "10 Downing Street", "LONDON", "SW1A 2AA"]
        );
        let us = address("US", &["1600 Pennsylvania Ave NW"], "Washington", "DC", "20500");
        assert_eq!(
            address_lines("Bo Li", &us, "GB"),
            [
                "Bo Li",
                "1600 Pennsylvania Ave NW",
                "WASHINGTON DC 20500",
                "UNITED STATES"
            ]
        );
        let de = address("DE", &["Unter den Linden 1"], "Berlin", "", "10117");
        assert_eq!(
            address_lines("Jan Kurz", &de, "DE"),
            ["Jan Kurz", "Unter den Linden 1", "10117 Berlin"]
        );
        assert_eq!(
            address_lines("Jan Kurz", &de, "GB").last().map(String::as_str),
            Some("GERMANY")
        );
    }

    #[test]
    fn six_lines_at_most_with_the_town_and_country_kept() {
        let long = address(
            "FR",
            &["Bâtiment B", "Résidence Les Pins", "12 rue de la Paix"],
            "Paris",
            "",
            "75002",
        );
        let lines = address_lines("Zoë Martin", &long, "GB");
        assert_eq!(lines.len(), 6);
        assert_eq!(lines.get(4).map(String::as_str), Some("75002 Paris"));
        assert_eq!(lines.get(5).map(String::as_str), Some("FRANCE"));
    }
}
