//! Canaries: synthetic people added to an export before it is sent. Each has an address that
//! exists nowhere else, under the organisation's canary domain, so if one ever turns up (in a
//! leaked file, or as mail to that address) it names the share and supplier it came from.
//! Values are made up or are shapes of real values with every letter and digit replaced, so a
//! canary row carries nothing of any real person.

use custody_core::{CategoryKey, Day, normalise_phone};
use custody_ingest::ShareColumns;

/// Given names for canaries (common in the UK, no one in particular).
const FIRST_NAMES: &[&str] = &[
    "Olivia", "Amelia", "Isla", "Ava", "Mia", "Grace", "Freya", "Lily", "Ella", "Sophie", "Ruth", "Margaret",
    "Oliver", "George", "Noah", "Arthur", "Harry", "Leo", "Jack", "Oscar", "Thomas", "David", "Peter",
    "Aisha", "Mohammed", "Priya", "Rahul", "Siobhan", "Ciaran", "Eilidh", "Callum", "Rhys", "Cerys",
    "Tomasz", "Anna",
];
/// Family names for canaries.
const LAST_NAMES: &[&str] = &[
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Robinson",
    "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson",
    "Clarke", "Khan", "Hughes", "Edwards", "Murphy", "Campbell", "Kaur", "Begum", "Nowak", "Okafor",
    "Mensah", "Lewis", "Harris",
];

/// One generated canary.
#[derive(Debug, Clone)]
pub(crate) struct Canary {
    pub reference: String,
    /// The value put in the file's reference column, if it has one.
    pub file_reference: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub postcode: String,
    pub date_of_birth: Day,
    pub row: Vec<String>,
}

fn pick<'a>(rng: &mut fastrand::Rng, list: &'a [&'a str]) -> &'a str {
    list.get(rng.usize(..list.len())).copied().unwrap_or("Alex")
}

/// Replaces each digit (and, unless `keep_letters`, each letter) of a sample with a random one of
/// the same kind. References keep their letters: a prefix such as `M` is structure, not data.
fn mimic(rng: &mut fastrand::Rng, sample: &str, keep_letters: bool) -> String {
    sample
        .chars()
        .map(|c| match c {
            '0'..='9' => char::from(b'0' + rng.u8(0..10)),
            'a'..='z' if !keep_letters => char::from(b'a' + rng.u8(0..26)),
            'A'..='Z' if !keep_letters => char::from(b'A' + rng.u8(0..26)),
            other => other,
        })
        .collect()
}

/// A reference copied from a sample's shape never begins with a character a spreadsheet reads
/// as the start of a formula (`=`, `+`, `-`, `@`, a tab or a carriage return): that character
/// becomes `C`.
fn inert(reference: String) -> String {
    match reference.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => {
            let mut characters = reference.chars();
            characters.next();
            format!("C{}", characters.as_str())
        }
        _ => reference,
    }
}

fn token(rng: &mut fastrand::Rng) -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    (0..8)
        .map(|_| char::from(ALPHABET.get(rng.usize(..ALPHABET.len())).copied().unwrap_or(b'a')))
        .collect()
}

/// Makes a canary row for a file with these columns, shaped like `sample` (a real row).
pub(crate) fn make(
    rng: &mut fastrand::Rng,
    columns: &ShareColumns,
    sample: &[String],
    domain: &str,
    region: &str,
) -> Canary {
    let first_name = pick(rng, FIRST_NAMES).to_owned();
    let last_name = pick(rng, LAST_NAMES).to_owned();
    let token = token(rng);
    let email = format!(
        "{}.{}.{token}@{domain}",
        first_name.to_lowercase(),
        last_name.to_lowercase()
    );
    // Ofcom's drama range for London, 020 7946 0000 to 0999: reserved for fiction, and valid.
    let phone_national = format!("020 7946 0{:03}", rng.u16(0..1000));
    let phone = normalise_phone(&phone_national, region).unwrap_or_else(|| phone_national.clone());
    let postcode = format!(
        "ZZ{} {}{}{}",
        rng.u8(1..100),
        rng.u8(0..10),
        char::from(b'A' + rng.u8(0..26)),
        char::from(b'A' + rng.u8(0..26))
    );
    let date_of_birth = jiff::civil::Date::new(rng.i16(1940..2006), rng.i8(1..13), rng.i8(1..29))
        .map(Day::from_date)
        .unwrap_or_else(|_| Day::from_date(jiff::civil::Date::constant(1980, 1, 1)));
    let mut file_reference = None;
    let row = columns
        .columns
        .iter()
        .map(|column| {
            let sample_value = sample.get(column.index).map_or("", String::as_str);
            match column.category.map(CategoryKey::as_str) {
                Some("user.unique_id") => {
                    let value = inert(mimic(
                        rng,
                        if sample_value.is_empty() {
                            "C0000000"
                        } else {
                            sample_value
                        },
                        true,
                    ));
                    file_reference = Some(value.clone());
                    value
                }
                Some("user.name.first") => first_name.clone(),
                Some("user.name.last") => last_name.clone(),
                Some("user.name") => format!("{first_name} {last_name}"),
                Some("user.contact.email") => email.clone(),
                Some("user.contact.phone_number") => phone_national.clone(),
                Some("user.contact.address.postal_code") => postcode.clone(),
                Some("user.demographic.date_of_birth") if sample_value.contains('/') => {
                    date_of_birth.date().strftime("%d/%m/%Y").to_string()
                }
                Some("user.demographic.date_of_birth") => date_of_birth.to_iso(),
                _ => mimic(rng, sample_value, false),
            }
        })
        .collect();
    Canary {
        reference: format!("canary-{token}"),
        file_reference,
        first_name,
        last_name,
        email,
        phone,
        postcode: postcode.replace(' ', ""),
        date_of_birth,
        row,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::inert;

    #[test]
    fn a_reference_never_starts_a_formula() {
        assert_eq!(inert("=1234".to_owned()), "C1234");
        assert_eq!(inert("-1001".to_owned()), "C1001");
        assert_eq!(inert("@ab".to_owned()), "Cab");
        assert_eq!(inert("M1234".to_owned()), "M1234");
        assert_eq!(inert(String::new()), "");
    }
}
