//! Countries as CRM exports write them: ISO 3166-1 alpha-2 (`GB`) or alpha-3 (`GBR`) codes, the
//! standard's English names ("United Kingdom of Great Britain and Northern Ireland", from the
//! `isocountry` crate), and the short names people use ("United Kingdom", "UK", "England",
//! "USA", "South Korea"). Names are compared folded: lower case, letters and digits only.

use std::collections::HashMap;
use std::sync::LazyLock;

use isocountry::CountryCode;

/// The standard's English names, folded, with their codes: built once, as a file may give a
/// name on every one of its millions of rows.
static NAMES: LazyLock<HashMap<String, &'static str>> = LazyLock::new(|| {
    CountryCode::iter()
        .map(|code| (fold(code.name()), code.alpha2()))
        .collect()
});

/// Everyday names and their ISO 3166-1 alpha-2 codes, folded.
const ALIASES: &[(&str, &str)] = &[
    ("uk", "GB"),
    ("unitedkingdom", "GB"),
    ("greatbritain", "GB"),
    ("britain", "GB"),
    ("england", "GB"),
    ("scotland", "GB"),
    ("wales", "GB"),
    ("cymru", "GB"),
    ("northernireland", "GB"),
    ("us", "US"),
    ("usa", "US"),
    ("unitedstates", "US"),
    ("unitedstatesofamerica", "US"),
    ("america", "US"),
    ("ireland", "IE"),
    ("republicofireland", "IE"),
    ("eire", "IE"),
    ("holland", "NL"),
    ("thenetherlands", "NL"),
    ("netherlands", "NL"),
    ("czechia", "CZ"),
    ("czechrepublic", "CZ"),
    ("turkey", "TR"),
    ("turkiye", "TR"),
    ("russia", "RU"),
    ("southkorea", "KR"),
    ("korea", "KR"),
    ("northkorea", "KP"),
    ("vietnam", "VN"),
    ("laos", "LA"),
    ("syria", "SY"),
    ("iran", "IR"),
    ("bolivia", "BO"),
    ("venezuela", "VE"),
    ("tanzania", "TZ"),
    ("moldova", "MD"),
    ("taiwan", "TW"),
    ("macedonia", "MK"),
    ("northmacedonia", "MK"),
    ("swaziland", "SZ"),
    ("eswatini", "SZ"),
    ("burma", "MM"),
    ("myanmar", "MM"),
    ("ivorycoast", "CI"),
    ("cotedivoire", "CI"),
    ("capeverde", "CV"),
    ("caboverde", "CV"),
    ("palestine", "PS"),
    ("vatican", "VA"),
    ("vaticancity", "VA"),
    ("uae", "AE"),
    ("unitedarabemirates", "AE"),
    ("drc", "CD"),
    ("democraticrepublicofthecongo", "CD"),
    ("congo", "CG"),
    ("micronesia", "FM"),
    ("brunei", "BN"),
];

fn fold(text: &str) -> String {
    deunicode::deunicode(text)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The ISO 3166-1 alpha-2 code of a country as written, if custody knows it.
pub fn country_alpha2(text: &str) -> Option<&'static str> {
    let trimmed = text.trim();
    if let Ok(code) = CountryCode::for_alpha2_caseless(trimmed) {
        return Some(code.alpha2());
    }
    if trimmed.len() == 3
        && let Ok(code) = CountryCode::for_alpha3_caseless(trimmed)
    {
        return Some(code.alpha2());
    }
    let folded = fold(trimmed);
    if folded.is_empty() {
        return None;
    }
    if let Some((_, code)) = ALIASES.iter().find(|(name, _)| *name == folded) {
        return Some(code);
    }
    NAMES.get(&folded).copied()
}

/// Short names for the last line of an international address, where the standard's English
/// name is long (UPU: the destination country's name in capitals on the last line).
const POSTAL_NAMES: &[(&str, &str)] = &[
    ("GB", "UNITED KINGDOM"),
    ("US", "UNITED STATES"),
    ("KR", "SOUTH KOREA"),
    ("RU", "RUSSIA"),
    ("IR", "IRAN"),
    ("VN", "VIETNAM"),
    ("TW", "TAIWAN"),
    ("BO", "BOLIVIA"),
    ("VE", "VENEZUELA"),
    ("TZ", "TANZANIA"),
    ("MD", "MOLDOVA"),
    ("NL", "NETHERLANDS"),
    ("CZ", "CZECHIA"),
    ("CD", "DEMOCRATIC REPUBLIC OF THE CONGO"),
    ("CG", "REPUBLIC OF THE CONGO"),
    ("KP", "NORTH KOREA"),
    ("VG", "BRITISH VIRGIN ISLANDS"),
    ("VI", "UNITED STATES VIRGIN ISLANDS"),
    ("MK", "NORTH MACEDONIA"),
    ("LA", "LAOS"),
    ("SY", "SYRIA"),
    ("FM", "MICRONESIA"),
    ("PS", "PALESTINE"),
];

/// A country's name in capitals for the last line of an address, from its alpha-2 code.
pub fn postal_country_name(code: &str) -> Option<String> {
    if let Some((_, name)) = POSTAL_NAMES.iter().find(|(known, _)| *known == code) {
        return Some((*name).to_owned());
    }
    let name = CountryCode::for_alpha2(code).ok()?.name();
    // "Korea (Democratic People's Republic of)" and the like: the part before a bracket.
    let short = name.split(" (").next().unwrap_or(name);
    Some(short.to_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_are_read_as_crms_write_them() {
        for (text, code) in [
            ("GB", Some("GB")),
            ("gb", Some("GB")),
            ("GBR", Some("GB")),
            ("United Kingdom", Some("GB")),
            ("United Kingdom of Great Britain and Northern Ireland", Some("GB")),
            ("Scotland", Some("GB")),
            ("U.S.A.", Some("US")),
            ("United States", Some("US")),
            ("France", Some("FR")),
            ("Côte d'Ivoire", Some("CI")),
            ("Germany", Some("DE")),
            ("Republic of Ireland", Some("IE")),
            ("Narnia", None),
            ("", None),
        ] {
            assert_eq!(country_alpha2(text), code, "{text:?}");
        }
    }
}
