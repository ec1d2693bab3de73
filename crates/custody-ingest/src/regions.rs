//! A person's region as ISO 3166-2 (`US-CA`, `CA-QC`, `AU-NSW`), read from the region, state or
//! province an address gives, for the countries whose breach laws are by region: the United
//! States (ISO 3166-2:US, whose codes are the USPS abbreviations), Canada (ISO 3166-2:CA, Canada
//! Post's abbreviations) and Australia (ISO 3166-2:AU). A value custody cannot place is no
//! region (the person's country still is their jurisdiction), never a guess.

/// US states, the District of Columbia and the inhabited territories: code, name.
const US: [(&str, &str); 56] = [
    ("AL", "alabama"),
    ("AK", "alaska"),
    ("AZ", "arizona"),
    ("AR", "arkansas"),
    ("CA", "california"),
    ("CO", "colorado"),
    ("CT", "connecticut"),
    ("DE", "delaware"),
    ("FL", "florida"),
    ("GA", "georgia"),
    ("HI", "hawaii"),
    ("ID", "idaho"),
    ("IL", "illinois"),
    ("IN", "indiana"),
    ("IA", "iowa"),
    ("KS", "kansas"),
    ("KY", "kentucky"),
    ("LA", "louisiana"),
    ("ME", "maine"),
    ("MD", "maryland"),
    ("MA", "massachusetts"),
    ("MI", "michigan"),
    ("MN", "minnesota"),
    ("MS", "mississippi"),
    ("MO", "missouri"),
    ("MT", "montana"),
    ("NE", "nebraska"),
    ("NV", "nevada"),
    ("NH", "new hampshire"),
    ("NJ", "new jersey"),
    ("NM", "new mexico"),
    ("NY", "new york"),
    ("NC", "north carolina"),
    ("ND", "north dakota"),
    ("OH", "ohio"),
    ("OK", "oklahoma"),
    ("OR", "oregon"),
    ("PA", "pennsylvania"),
    ("RI", "rhode island"),
    ("SC", "south carolina"),
    ("SD", "south dakota"),
    ("TN", "tennessee"),
    ("TX", "texas"),
    ("UT", "utah"),
    ("VT", "vermont"),
    ("VA", "virginia"),
    ("WA", "washington"),
    ("WV", "west virginia"),
    ("WI", "wisconsin"),
    ("WY", "wyoming"),
    ("DC", "district of columbia"),
    ("PR", "puerto rico"),
    ("GU", "guam"),
    ("VI", "virgin islands"),
    ("AS", "american samoa"),
    ("MP", "northern mariana islands"),
];

/// Canada's provinces and territories: code, English name, French name.
const CANADA: [(&str, &str, &str); 13] = [
    ("AB", "alberta", "alberta"),
    ("BC", "british columbia", "colombie-britannique"),
    ("MB", "manitoba", "manitoba"),
    ("NB", "new brunswick", "nouveau-brunswick"),
    ("NL", "newfoundland and labrador", "terre-neuve-et-labrador"),
    ("NS", "nova scotia", "nouvelle-écosse"),
    ("ON", "ontario", "ontario"),
    ("PE", "prince edward island", "île-du-prince-édouard"),
    ("QC", "quebec", "québec"),
    ("SK", "saskatchewan", "saskatchewan"),
    ("NT", "northwest territories", "territoires du nord-ouest"),
    ("NU", "nunavut", "nunavut"),
    ("YT", "yukon", "yukon"),
];

/// Australia's states and territories: code, name.
const AUSTRALIA: [(&str, &str); 8] = [
    ("NSW", "new south wales"),
    ("QLD", "queensland"),
    ("SA", "south australia"),
    ("TAS", "tasmania"),
    ("VIC", "victoria"),
    ("WA", "western australia"),
    ("ACT", "australian capital territory"),
    ("NT", "northern territory"),
];

/// The ISO 3166-2 code of `text` (a code or a name, any case, with or without the country's
/// prefix or full stops) as a region of `country` (ISO 3166-1 alpha-2), when custody reads
/// regions for that country and knows the value.
pub fn subdivision(country: &str, text: &str) -> Option<String> {
    let cleaned: String = text
        .trim()
        .replace('.', "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let lower = cleaned.to_lowercase();
    let prefix = format!("{}-", country.to_lowercase());
    let bare = lower.strip_prefix(&prefix).unwrap_or(&lower);
    let code = match country {
        "US" => US
            .iter()
            .find(|(code, name)| code.eq_ignore_ascii_case(bare) || *name == bare)
            .map(|(code, _)| *code),
        "CA" => CANADA
            .iter()
            .find(|(code, english, french)| {
                code.eq_ignore_ascii_case(bare)
                    || *english == bare
                    || *french == bare
                    || (bare == "pq" && *code == "QC")
            })
            .map(|(code, _, _)| *code),
        "AU" => AUSTRALIA
            .iter()
            .find(|(code, name)| code.eq_ignore_ascii_case(bare) || *name == bare)
            .map(|(code, _)| *code),
        _ => None,
    }?;
    Some(format!("{country}-{code}"))
}

#[cfg(test)]
mod tests {
    use super::subdivision;

    #[test]
    fn regions_are_read_by_code_or_name_in_the_countries_whose_laws_are_by_region() {
        assert_eq!(subdivision("US", "CA").as_deref(), Some("US-CA"));
        assert_eq!(subdivision("US", " california ").as_deref(), Some("US-CA"));
        assert_eq!(subdivision("US", "New  York").as_deref(), Some("US-NY"));
        assert_eq!(subdivision("US", "US-WA").as_deref(), Some("US-WA"));
        assert_eq!(subdivision("US", "D.C.").as_deref(), Some("US-DC"));
        assert_eq!(subdivision("CA", "Québec").as_deref(), Some("CA-QC"));
        assert_eq!(subdivision("CA", "PQ").as_deref(), Some("CA-QC"));
        assert_eq!(subdivision("CA", "alberta").as_deref(), Some("CA-AB"));
        assert_eq!(subdivision("AU", "Vic").as_deref(), Some("AU-VIC"));
        assert_eq!(subdivision("AU", "Western Australia").as_deref(), Some("AU-WA"));
        // Washington the state, not Western Australia: a code is read in its own country.
        assert_eq!(subdivision("US", "WA").as_deref(), Some("US-WA"));
        // Not a region custody can place, or a country whose laws are not by region.
        assert_eq!(subdivision("US", "Calif").as_deref(), None);
        assert_eq!(subdivision("GB", "Yorkshire"), None);
        assert_eq!(subdivision("US", ""), None);
    }
}
