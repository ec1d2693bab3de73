//! A person's address block as the post of their country wants it, from the address as the
//! export wrote it. Sources: Royal Mail's addressing guidance (post town in capitals, the
//! postcode on a line of its own), USPS Publication 28 (`CITY ST ZIP` on the last line), Canada
//! Post's addressing guidelines (`CITY PROVINCE  POSTCODE`, two spaces before the postcode),
//! Australia Post's (`LOCALITY STATE POSTCODE`), An Post's Eircode guidance (the Eircode on the
//! last line, no county needed with it), and the Universal Postal Union's S42 and its members'
//! entries in the UPU's address-format list: in most of Europe the postcode before the town (in
//! Italy the province after it), elsewhere the town before the postcode; mail abroad has the town
//! and the destination country's name in capitals, the country on the last line.

use custody_ingest::PostalAddress;

/// Lines of the address field of a DIN 5008 window (its last six lines are the address).
const MAX_LINES: usize = 6;

/// Where the postcode goes, by country (ISO 3166 alpha-2).
enum Order {
    /// Royal Mail: `TOWN` then `POSTCODE` on a line of its own.
    British,
    /// An Post: town, county (left out when there is an Eircode), `EIRCODE`.
    Irish,
    /// `TOWN REGION POSTCODE` on one line, in capitals (USPS, Australia Post).
    TownRegionPostcode,
    /// Canada Post: `TOWN PROVINCE  POSTCODE`.
    Canadian,
    /// `POSTCODE TOWN` (most of Europe, Latin America).
    PostcodeTown,
    /// Italy: `POSTCODE TOWN PROVINCE`.
    Italian,
    /// `TOWN POSTCODE` (elsewhere, e.g. New Zealand, India, Singapore).
    TownPostcode,
}

fn order(country: &str) -> Order {
    match country {
        "GB" | "IM" | "JE" | "GG" => Order::British,
        "IE" => Order::Irish,
        "US" | "AU" | "PR" => Order::TownRegionPostcode,
        "CA" => Order::Canadian,
        "IT" | "SM" | "VA" => Order::Italian,
        "AT" | "BE" | "BG" | "CH" | "CY" | "CZ" | "DE" | "DK" | "EE" | "ES" | "FI" | "FR" | "GR" | "HR"
        | "HU" | "IS" | "LI" | "LT" | "LU" | "LV" | "MC" | "MT" | "NL" | "NO" | "PL" | "PT" | "RO" | "SE"
        | "SI" | "SK" | "AD" | "BA" | "ME" | "MK" | "RS" | "AL" | "MD" | "UA" | "TR" | "IL" | "AR" | "BR"
        | "CL" | "MX" | "UY" | "DZ" | "MA" | "TN" | "FO" | "GL" => Order::PostcodeTown,
        _ => Order::TownPostcode,
    }
}

/// A UK postcode with its space before the inward code (`SW1A2AA` → `SW1A 2AA`).
fn british_postcode(postcode: &str) -> String {
    let compact: String = postcode.split_whitespace().collect::<String>().to_uppercase();
    match compact.len() {
        5..=7 if compact.is_ascii() => {
            let (outward, inward) = compact.split_at(compact.len() - 3);
            format!("{outward} {inward}")
        }
        _ => postcode.trim().to_uppercase(),
    }
}

/// The address block: the name, then the address in the country's order, then the country when
/// it is not `home` (the organisation's). At most six lines: when the street lines do not fit,
/// the last of them are joined to the one before with a comma rather than left out.
pub fn address_lines(name: &str, postal: &PostalAddress, home: &str) -> Vec<String> {
    let country = postal.country.as_deref().unwrap_or(home);
    let abroad = country != home;
    let town = postal.town.clone().unwrap_or_default();
    let postcode = postal.postcode.clone().unwrap_or_default();
    let region = postal.region.clone().unwrap_or_default();
    let capital_town = if abroad { town.to_uppercase() } else { town.clone() };
    let mut tail: Vec<String> = match order(country) {
        Order::British => vec![town.to_uppercase(), british_postcode(&postcode)],
        Order::Irish if postcode.trim().is_empty() => vec![capital_town, region],
        Order::Irish => vec![capital_town, postcode.to_uppercase()],
        Order::TownRegionPostcode => vec![join(&[&town, &region, &postcode], " ").to_uppercase()],
        Order::Canadian => vec![
            format!("{}  {}", join(&[&town, &region], " "), postcode.trim())
                .trim()
                .to_uppercase(),
        ],
        Order::PostcodeTown => vec![join(&[&postcode, &capital_town], " ")],
        Order::Italian => vec![join(&[&postcode, &capital_town, &region.to_uppercase()], " ")],
        Order::TownPostcode => vec![join(&[&capital_town, &region, &postcode], " ")],
    };
    tail.retain(|line| !line.trim().is_empty());
    if abroad && let Some(name) = custody_core::postal_country_name(country) {
        tail.push(name);
    }
    let mut lines: Vec<String> = Vec::new();
    if !name.trim().is_empty() {
        lines.push(name.trim().to_owned());
    }
    let room = MAX_LINES.saturating_sub(lines.len() + tail.len()).max(1);
    let street: Vec<&str> = postal
        .lines
        .iter()
        .map(|line| line.trim())
        .filter(|line| !line.is_empty())
        .collect();
    if street.len() > room {
        let (kept, rest) = street.split_at(room - 1);
        lines.extend(kept.iter().map(|line| (*line).to_owned()));
        lines.push(rest.join(", "));
    } else {
        lines.extend(street.iter().map(|line| (*line).to_owned()));
    }
    lines.extend(tail);
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
        let uk = address("GB", &["10 Downing Street"], "London", "", "sw1a2aa");
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
        let ca = address("CA", &["111 Wellington St"], "Ottawa", "ON", "K1A 0A9");
        assert_eq!(
            address_lines("Al Roy", &ca, "CA").last().map(String::as_str),
            Some("OTTAWA ON  K1A 0A9")
        );
        let de = address("DE", &["Unter den Linden 1"], "Berlin", "", "10117");
        assert_eq!(
            address_lines("Jan Kurz", &de, "DE"),
            ["Jan Kurz", "Unter den Linden 1", "10117 Berlin"]
        );
        // Abroad, the town and the country in capitals.
        assert_eq!(
            address_lines("Jan Kurz", &de, "GB"),
            ["Jan Kurz", "Unter den Linden 1", "10117 BERLIN", "GERMANY"]
        );
        let nz = address("NZ", &["1 Queen Street"], "Auckland", "", "1010");
        assert_eq!(
            address_lines("Mere Tane", &nz, "GB").get(2).map(String::as_str),
            Some("AUCKLAND 1010")
        );
        let it = address("IT", &["Via del Corso 1"], "Roma", "rm", "00186");
        assert_eq!(
            address_lines("Lia Neri", &it, "IT").get(2).map(String::as_str),
            Some("00186 Roma RM")
        );
    }

    #[test]
    fn an_eircode_needs_no_county_and_no_street_line_is_lost() {
        let ie = address(
            "IE",
            &["Flat 2", "10 Main Street"],
            "Dublin",
            "Co. Dublin",
            "d02 x285",
        );
        assert_eq!(
            address_lines("Aoife Byrne", &ie, "GB"),
            [
                "Aoife Byrne",
                "Flat 2",
                "10 Main Street",
                "DUBLIN",
                "D02 X285",
                "IRELAND"
            ]
        );
        let long = address(
            "FR",
            &[
                "Bâtiment B",
                "Résidence Les Pins",
                "12 rue de la Paix",
                "Entrée 3",
            ],
            "Paris",
            "",
            "75002",
        );
        let lines = address_lines("Zoë Martin", &long, "GB");
        assert_eq!(lines.len(), 6);
        assert_eq!(
            lines.get(3).map(String::as_str),
            Some("12 rue de la Paix, Entrée 3")
        );
        assert_eq!(lines.get(4).map(String::as_str), Some("75002 PARIS"));
        assert_eq!(lines.get(5).map(String::as_str), Some("FRANCE"));
    }
}
