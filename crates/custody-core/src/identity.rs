//! Normalising identifiers before they are hashed, so that the same person matches however a
//! CRM, an export or a leaked file happens to write them. The leak matcher must use exactly
//! these functions: a hash only matches a hash of the same normal form.

use std::str::FromStr;

use deunicode::deunicode;

/// Which identifier a keyed hash was made from; the tag separates the hash domains so that an
/// email can never match a phone number with the same bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IdentifierKind {
    /// The email address, lower-cased.
    EmailStrict,
    /// The email address with sub-addressing and provider-specific dots removed.
    EmailCanonical,
    /// The phone number in E.164.
    Phone,
    /// Name key and postcode.
    NamePostcode,
    /// Name key and date of birth.
    NameDateOfBirth,
    /// Name key and street address (see [`address_key`]).
    NameAddress,
    /// A national identifier (a social security or national insurance number).
    NationalId,
    /// Name key and a birthday without a year (`--03-25`), when that is all a CRM holds.
    NameBirthday,
}

impl IdentifierKind {
    /// The kinds a leaked file is matched by today, in matching order (strongest first).
    pub const ALL: [IdentifierKind; 5] = [
        IdentifierKind::EmailStrict,
        IdentifierKind::EmailCanonical,
        IdentifierKind::Phone,
        IdentifierKind::NamePostcode,
        IdentifierKind::NameDateOfBirth,
    ];

    /// Every kind custody keeps: those of [`Self::ALL`], then the kinds an import records for
    /// linkage to come (addresses, national identifiers, birthdays without a year).
    pub const EVERY: [IdentifierKind; 8] = [
        IdentifierKind::EmailStrict,
        IdentifierKind::EmailCanonical,
        IdentifierKind::Phone,
        IdentifierKind::NamePostcode,
        IdentifierKind::NameDateOfBirth,
        IdentifierKind::NameAddress,
        IdentifierKind::NationalId,
        IdentifierKind::NameBirthday,
    ];

    /// The domain-separation tag mixed into the keyed hash.
    pub fn tag(self) -> u8 {
        match self {
            IdentifierKind::EmailStrict => 1,
            IdentifierKind::EmailCanonical => 2,
            IdentifierKind::Phone => 3,
            IdentifierKind::NamePostcode => 4,
            IdentifierKind::NameDateOfBirth => 5,
            IdentifierKind::NameAddress => 6,
            IdentifierKind::NationalId => 7,
            IdentifierKind::NameBirthday => 8,
        }
    }

    /// The kind of a tag.
    pub fn from_tag(tag: u8) -> Option<Self> {
        Self::EVERY.into_iter().find(|kind| kind.tag() == tag)
    }

    /// Stable name, for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentifierKind::EmailStrict => "email",
            IdentifierKind::EmailCanonical => "email_canonical",
            IdentifierKind::Phone => "phone",
            IdentifierKind::NamePostcode => "name_postcode",
            IdentifierKind::NameDateOfBirth => "name_date_of_birth",
            IdentifierKind::NameAddress => "name_address",
            IdentifierKind::NationalId => "national_id",
            IdentifierKind::NameBirthday => "name_birthday",
        }
    }
}

/// Which person fields a source (an import file) provides. A re-import updates these and keeps
/// the others, so a file of status changes does not wipe contact details or identifiers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PersonFields {
    /// First, last or full name.
    pub names: bool,
    /// Email.
    pub email: bool,
    /// Phone.
    pub phone: bool,
    /// Postcode.
    pub postcode: bool,
    /// Date of birth (or a birthday without a year).
    pub date_of_birth: bool,
    /// Street address.
    pub address: bool,
    /// National identifier.
    pub national_id: bool,
    /// Country.
    pub country: bool,
    /// Status (a status or a leaving-date column).
    pub status: bool,
    /// Join date.
    pub joined_on: bool,
    /// Leaving date.
    pub left_on: bool,
}

impl PersonFields {
    /// Every field.
    pub const ALL: PersonFields = PersonFields {
        names: true,
        email: true,
        phone: true,
        postcode: true,
        date_of_birth: true,
        address: true,
        national_id: true,
        country: true,
        status: true,
        joined_on: true,
        left_on: true,
    };

    /// Whether identifiers of this kind can be made from these fields.
    pub fn provides(self, kind: IdentifierKind) -> bool {
        match kind {
            IdentifierKind::EmailStrict | IdentifierKind::EmailCanonical => self.email,
            IdentifierKind::Phone => self.phone,
            IdentifierKind::NamePostcode => self.names && self.postcode,
            IdentifierKind::NameDateOfBirth | IdentifierKind::NameBirthday => {
                self.names && self.date_of_birth
            }
            IdentifierKind::NameAddress => self.names && self.address,
            IdentifierKind::NationalId => self.national_id,
        }
    }
}

/// An email address trimmed and lower-cased, or `None` when it is not an address.
pub fn normalise_email(text: &str) -> Option<String> {
    // A mailbox (`"Alex Smith" <alex@example.org>`) gives its address; anything else with
    // spaces, quotes or brackets is not an address (the parser would accept a display name).
    let inner = match (text.rfind('<'), text.rfind('>')) {
        (Some(open), Some(close)) if open < close => text.get(open + 1..close).unwrap_or(text),
        _ => text,
    };
    let trimmed = inner.trim();
    if trimmed.contains(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | ',' | ';')) {
        return None;
    }
    let lowered = trimmed.to_lowercase();
    let (local, domain) = lowered.rsplit_once('@')?;
    if local.is_empty() || !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
        return None;
    }
    email_address::EmailAddress::from_str(&lowered).ok()?;
    Some(lowered)
}

/// The canonical form of a normalised email: `+tag` sub-addresses dropped, and for Gmail the dots
/// of the local part dropped and `googlemail.com` read as `gmail.com`.
pub fn canonical_email(normalised: &str) -> String {
    let Some((local, domain)) = normalised.rsplit_once('@') else {
        return normalised.to_owned();
    };
    let base = local.split('+').next().unwrap_or(local);
    match domain {
        "gmail.com" | "googlemail.com" => format!("{}@gmail.com", base.replace('.', "")),
        _ => format!("{base}@{domain}"),
    }
}

/// A phone number in E.164 (`+447700900123`), read with `region` (ISO 3166 alpha-2, e.g. `GB`)
/// for national numbers; `None` when it is not a valid number.
pub fn normalise_phone(text: &str, region: &str) -> Option<String> {
    let trimmed = text.trim();
    if trimmed.len() < 5 || trimmed.len() > 32 {
        return None;
    }
    plain_valid_phone(trimmed, region).or_else(|| library_phone(trimmed, region))
}

/// [`normalise_phone`] by the phone library's full parse of the text.
fn library_phone(trimmed: &str, region: &str) -> Option<String> {
    let region = rlibphonenumber::Region::from_str(region).ok();
    let number = rlibphonenumber::PhoneNumber::parse(trimmed, region).ok()?;
    if !valid_number(&number) {
        return None;
    }
    Some(
        number
            .format_as(rlibphonenumber::PhoneNumberFormat::E164)
            .to_string(),
    )
}

/// A plain number (digits, spaces and hyphens) of a trunk-zero country, written nationally
/// (`0113 496 0000`) or internationally (`+44 113 496 0000`), when the phone library finds its
/// calling code and national number valid: the E.164 text [`normalise_phone`]'s full parse
/// gives it, without the parse (about half the library's time). For these countries the parse
/// of such text only takes the calling code and drops the trunk `0` when what follows has a
/// possible length, which a valid number has, so both ways agree (tested on every country in
/// [`TRUNK_ZERO_REGIONS`]). `None` leaves the number to the full parse.
fn plain_valid_phone(trimmed: &str, region: &str) -> Option<String> {
    let Plain::Direct { code, national } = plain_phone(trimmed, region, true) else {
        return None;
    };
    let number = rlibphonenumber::PhoneNumber {
        country_code: code.parse().ok()?,
        national_number: national.parse().ok()?,
        ..rlibphonenumber::PhoneNumber::default()
    };
    valid_number(&number).then(|| format!("+{code}{national}"))
}

/// Whether the phone library finds `number` valid, as `PhoneNumber::is_valid` says. The
/// library's validity first finds the number's region, the first of its code's regions whose
/// leading digits or number patterns it fits, and then matches it against that region's
/// patterns again: for a British number (+44 is shared by GB, GG, IM and JE), every pattern
/// twice. A number valid for the code's first region is that region's (no region comes before
/// it), so valid, in one pass. A code of one region, the non-geographic ones (`World`) among
/// them, gets the library's own answer in the same one pass. Other numbers of a shared code
/// (Jersey's, Canada's, an invalid one) take the library's whole way after that first pass.
/// This relies on `World` never being the first of several regions of a code, which the
/// library's metadata never makes it.
fn valid_number(number: &rlibphonenumber::PhoneNumber) -> bool {
    let util = &*rlibphonenumber::PHONE_NUMBER_UTIL;
    let Some(mut regions) = util.get_regions_for_country_calling_code(number.country_code) else {
        return false;
    };
    let shared = regions.len() > 1;
    let Some(first) = regions.next() else {
        return false;
    };
    number.is_valid_for_region(first) || (shared && number.is_valid())
}

/// What a plain number's text says without the phone library.
enum Plain {
    /// Not a plain number: the library must read it.
    Library,
    /// Too few or too many digits for any number.
    Impossible,
    /// A trunk-zero country's calling code and the national number after it.
    Direct { code: &'static str, national: String },
}

/// Reads `trimmed` as a plain number of a trunk-zero country. `exact_region` asks for the
/// region's code as the phone library spells it (upper case), as the full parse needs it.
fn plain_phone(trimmed: &str, region: &str, exact_region: bool) -> Plain {
    let simple = trimmed.len() <= 32
        && trimmed.bytes().enumerate().all(|(index, byte)| {
            byte.is_ascii_digit() || byte == b' ' || byte == b'-' || (index == 0 && byte == b'+')
        });
    if !simple {
        return Plain::Library;
    }
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    if !(7..=15).contains(&digits.len()) {
        return Plain::Impossible;
    }
    if trimmed.starts_with('+') {
        // Only calling codes whose numbers have no trunk prefix after the code are read
        // directly (`+44 0113…`, a trunk zero kept, and other countries' forms need the library).
        return TRUNK_ZERO_REGIONS
            .iter()
            .find_map(|(_, code)| {
                let rest = digits.strip_prefix(code)?;
                (!rest.starts_with('0')).then(|| Plain::Direct {
                    code,
                    national: rest.to_owned(),
                })
            })
            .unwrap_or(Plain::Library);
    }
    let same = |name: &str| {
        if exact_region {
            name == region
        } else {
            name.eq_ignore_ascii_case(region)
        }
    };
    match TRUNK_ZERO_REGIONS.iter().find(|(name, _)| same(name)) {
        // `00…` is the international prefix, not a national number.
        Some((_, code)) if digits.starts_with('0') && !digits.starts_with("00") => Plain::Direct {
            code,
            national: digits.get(1..).unwrap_or_default().to_owned(),
        },
        _ => Plain::Library,
    }
}

/// Countries whose numbers are written nationally with a trunk `0` that E.164 drops, and their
/// calling codes: for these, a number written as plain digits needs no phone library to match.
pub(crate) const TRUNK_ZERO_REGIONS: [(&str, &str); 8] = [
    ("GB", "44"),
    ("IE", "353"),
    ("FR", "33"),
    ("DE", "49"),
    ("NL", "31"),
    ("BE", "32"),
    ("AT", "43"),
    ("CH", "41"),
];

/// The form a phone number is looked up by when matching a leaked file: for every number
/// [`normalise_phone`] accepts, the same E.164 text. Plain national numbers (`0113 496 0000`) of
/// a trunk-zero country and plain international ones (`+44 113 496 0000`) are rewritten
/// directly, without the phone library's parsing (about a microsecond a number); anything else
/// goes through [`normalise_phone`]. Unlike it, this does not check validity: an invalid number
/// gives text no valid number has, which the ledger (holding only valid numbers) cannot match.
pub fn phone_match_form(text: &str, region: &str) -> Option<String> {
    match plain_phone(text.trim(), region, false) {
        Plain::Direct { code, national } => Some(format!("+{code}{national}")),
        Plain::Impossible => None,
        Plain::Library => normalise_phone(text, region),
    }
}

/// Whether `region` is a region the phone library knows (ISO 3166 alpha-2).
pub fn is_phone_region(region: &str) -> bool {
    rlibphonenumber::Region::from_str(region).is_ok()
}

/// A postcode upper-cased without spaces or hyphens (`SW1A 1AA` → `SW1A1AA`, `00-950` →
/// `00950`), a US ZIP+4 cut to its five-digit ZIP (`12345-6789` → `12345`, the form most files
/// hold); `None` when it is not 2 to 10 letters and digits.
pub fn normalise_postcode(text: &str) -> Option<String> {
    let trimmed = text.trim();
    let zip_plus_four = trimmed.len() == 10
        && trimmed.bytes().enumerate().all(|(index, byte)| {
            if index == 5 {
                byte == b'-'
            } else {
                byte.is_ascii_digit()
            }
        });
    if zip_plus_four {
        return trimmed.get(..5).map(str::to_owned);
    }
    let folded: String = trimmed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .to_uppercase();
    let valid = (2..=10).contains(&folded.len()) && folded.chars().all(|c| c.is_ascii_alphanumeric());
    valid.then_some(folded)
}

/// Whether a normalised postcode has the form of its country's postcodes, for the countries
/// whose form is simple to state; any other country's pass. The forms are those of Google's
/// address data (libaddressinput) as public validators restate them, e.g. the UK's `@@## #@@`,
/// `@#@ #@@`, `@@# #@@`, `@@#@ #@@`, `@## #@@`, `@# #@@`.
pub fn postcode_fits(normalised: &str, country: &str) -> bool {
    let shape: String = normalised
        .chars()
        .map(|c| if c.is_ascii_digit() { '9' } else { 'A' })
        .collect();
    let digits = |count: usize| shape.len() == count && shape.bytes().all(|b| b == b'9');
    match country {
        // Outward code (A9, A99, AA9, AA99, A9A, AA9A), then inward code 9AA.
        "GB" | "GG" | "JE" | "IM" => {
            let (outward, inward) = shape.split_at(shape.len().saturating_sub(3));
            inward == "9AA" && matches!(outward, "A9" | "A99" | "AA9" | "AA99" | "A9A" | "AA9A")
        }
        "US" | "DE" | "FR" | "ES" | "IT" | "FI" | "MX" | "MY" => digits(5),
        "AU" | "AT" | "BE" | "CH" | "DK" | "NO" | "NZ" | "ZA" | "HU" => digits(4),
        // `L-1234` is written too.
        "LU" => digits(4) || (shape == "A9999" && normalised.starts_with('L')),
        "NL" => shape == "9999AA",
        "CA" => shape == "A9A9A9",
        "IE" => shape.len() == 7 && shape.starts_with('A'),
        "SE" | "PL" | "CZ" | "SK" | "GR" => digits(5),
        "PT" => digits(7) || digits(4),
        "JP" => digits(7),
        "IN" => digits(6),
        "BR" => digits(8),
        _ => true,
    }
}

/// The street part of an address key: the street lines, transliterated, lower-cased and split
/// into words (`10, High St.` → `10 high st`); `None` when there are no words.
pub fn address_key(street_lines: &[&str]) -> Option<String> {
    let words: Vec<String> = street_lines.iter().flat_map(|line| fold_words(line)).collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// A national identifier (`QQ 12 34 56 C`, `123-45-6789`) as letters and digits, upper-cased;
/// `None` unless it is 6 to 20 of them with at least four digits.
pub fn normalise_national_id(text: &str) -> Option<String> {
    let folded: String = text
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let has_other = text
        .chars()
        .any(|c| !c.is_ascii_alphanumeric() && !matches!(c, ' ' | '-' | '.' | '/'));
    let valid = (6..=20).contains(&folded.len())
        && folded.bytes().filter(u8::is_ascii_digit).count() >= 4
        && !has_other;
    valid.then_some(folded)
}

/// The name key: the first word of the given name and the last word of the family name,
/// transliterated to ASCII and lower-cased (`José María`, `García Lorca` → `jose|lorca`).
/// A full name gives its first and last words. `None` when either part is missing.
pub fn name_key(first: &str, last: &str) -> Option<String> {
    let first_word = fold_words(first).into_iter().next()?;
    let last_word = fold_words(last).into_iter().last()?;
    Some(format!("{first_word}|{last_word}"))
}

/// The name key of a full name (`Dr Mary Ann Smith` keeps `mary|smith` only when titles are
/// absent; custody does not guess titles, so exports should give names in separate columns).
pub fn full_name_key(full: &str) -> Option<String> {
    let words = fold_words(full);
    if words.len() < 2 {
        return None;
    }
    Some(format!("{}|{}", words.first()?, words.last()?))
}

fn fold_words(text: &str) -> Vec<String> {
    // ASCII is its own transliteration: no need to copy it first.
    let ascii = if text.is_ascii() {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(deunicode(text))
    };
    ascii
        .to_lowercase()
        .split(|c: char| c.is_whitespace() || c == ',')
        .map(|word| {
            word.chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
        })
        .filter(|word| !word.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postcodes_addresses_and_national_ids() {
        assert_eq!(normalise_postcode(" sw1a 1aa "), Some("SW1A1AA".into()));
        assert_eq!(normalise_postcode("12345-6789"), Some("12345".into()));
        assert_eq!(normalise_postcode("00-950"), Some("00950".into()));
        assert_eq!(normalise_postcode("K1A 0B1"), Some("K1A0B1".into()));
        assert_eq!(normalise_postcode("n/a"), None);
        assert!(postcode_fits("SW1A1AA", "GB") && postcode_fits("M11AE", "GB"));
        assert!(!postcode_fits("12345", "GB") && postcode_fits("12345", "US"));
        assert!(postcode_fits("1012AB", "NL") && !postcode_fits("1012", "NL"));
        assert!(postcode_fits("D02X285", "IE") && postcode_fits("ANYTHING", "ZZ"));
        assert_eq!(
            address_key(&["Flat 2,", "10 High St."]),
            Some("flat 2 10 high st".into())
        );
        assert_eq!(address_key(&["  ", ""]), None);
        assert_eq!(normalise_national_id("QQ 12 34 56 C"), Some("QQ123456C".into()));
        assert_eq!(normalise_national_id("123-45-6789"), Some("123456789".into()));
        assert_eq!(normalise_national_id("n/a"), None);
        assert_eq!(normalise_national_id("12@45#6789"), None);
        for kind in IdentifierKind::EVERY {
            assert_eq!(IdentifierKind::from_tag(kind.tag()), Some(kind));
        }
    }

    #[test]
    fn emails() {
        assert_eq!(
            normalise_email("  Alex.Smith+news@Example.ORG "),
            Some("alex.smith+news@example.org".into())
        );
        assert_eq!(normalise_email("not an email"), None);
        assert_eq!(
            normalise_email("\"Alex Smith\" <Alex@Example.org>"),
            Some("alex@example.org".into())
        );
        assert_eq!(normalise_email("Alex Smith alex@example.org"), None);
        assert_eq!(normalise_email("a@example.org, b@example.org"), None);
        assert_eq!(normalise_email("a@b"), None);
        assert_eq!(
            canonical_email("alex.smith+news@example.org"),
            "alex.smith@example.org"
        );
        assert_eq!(canonical_email("a.b.c+x@googlemail.com"), "abc@gmail.com");
    }

    /// `valid_number` against the library's own `is_valid`, on every geographic region's example numbers
    /// of every type and on numbers near them (digits changed, one more, one fewer): numbers
    /// valid and invalid, of codes with one region and of codes shared by several.
    #[test]
    fn phone_validity_is_the_libraries_own() {
        use rlibphonenumber::{PHONE_NUMBER_UTIL, PhoneNumber, PhoneNumberType};
        let types = [
            PhoneNumberType::FixedLine,
            PhoneNumberType::Mobile,
            PhoneNumberType::TollFree,
            PhoneNumberType::PremiumRate,
            PhoneNumberType::SharedCost,
            PhoneNumberType::VoIP,
            PhoneNumberType::PersonalNumber,
            PhoneNumberType::Pager,
            PhoneNumberType::UAN,
            PhoneNumberType::VoiceMail,
        ];
        let mut rng = fastrand::Rng::with_seed(44);
        // Valid numbers, invalid ones, and valid numbers of a shared code that are not its
        // first region's (the way `valid_number` leaves to the library).
        let (mut valid, mut invalid, mut elsewhere) = (0, 0, 0);
        for region in PHONE_NUMBER_UTIL.get_supported_regions() {
            for kind in types {
                let Ok(example) = PHONE_NUMBER_UTIL.get_example_number_for_type_and_region(region, kind)
                else {
                    continue;
                };
                let national = example.national_number.to_string();
                let mut tries = vec![
                    national.clone(),
                    format!("{national}0"),
                    national[..national.len() - 1].to_owned(),
                ];
                for _ in 0..6 {
                    let keep = rng.usize(1..=national.len());
                    let mut digits = national[..keep].to_owned();
                    while digits.len() < national.len() {
                        digits.push(char::from(b'0' + rng.u8(0..10)));
                    }
                    tries.push(digits);
                }
                for digits in tries {
                    let number = PhoneNumber {
                        country_code: example.country_code,
                        national_number: digits.parse().unwrap_or(0),
                        ..PhoneNumber::default()
                    };
                    let expected = number.is_valid();
                    assert_eq!(
                        valid_number(&number),
                        expected,
                        "+{} {digits}",
                        example.country_code
                    );
                    *(if expected { &mut valid } else { &mut invalid }) += 1;
                    let first = PHONE_NUMBER_UTIL.get_region_for_country_code(example.country_code);
                    elsewhere += usize::from(
                        expected && first.is_some_and(|first| !number.is_valid_for_region(first)),
                    );
                }
            }
        }
        // The comparison covered many of each.
        assert!(
            valid > 5_000 && invalid > 2_000 && elsewhere > 300,
            "{valid} {invalid} {elsewhere}"
        );
        // Jersey's, Guernsey's and the Isle of Man's mobiles share +44 with Britain's.
        for text in [
            "+44 7797 712345",
            "+44 7781 123456",
            "+44 7624 123456",
            "+44 7912 345678",
        ] {
            let number = PhoneNumber::parse(text, None).expect("a number");
            assert!(valid_number(&number), "{text}");
        }
    }

    #[test]
    fn phones_become_e164() {
        assert_eq!(
            normalise_phone("07912 345678", "GB"),
            Some("+447912345678".into())
        );
        // Ofcom's drama mobile range is refused by the phone metadata; its geographic drama
        // ranges (used by the demo) parse as valid.
        assert_eq!(normalise_phone("07700 900123", "GB"), None);
        assert_eq!(
            normalise_phone("+44 (0)20 7946 0123", "GB"),
            Some("+442079460123".into())
        );
        assert_eq!(
            normalise_phone("0113 496 0000", "GB"),
            Some("+441134960000".into())
        );
        assert_eq!(normalise_phone("12345", "GB"), None);
        assert_eq!(normalise_phone("call me", "GB"), None);
    }

    #[test]
    fn plain_numbers_read_directly_agree_with_the_full_parse() {
        let mut rng_state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move |below: u64| {
            rng_state ^= rng_state << 13;
            rng_state ^= rng_state >> 7;
            rng_state ^= rng_state << 17;
            rng_state % below
        };
        for (region, code) in TRUNK_ZERO_REGIONS {
            let mut direct = 0;
            for _ in 0..10_000 {
                let length = 5 + next(8);
                let mut national = format!("0{}", 1 + next(9));
                for _ in 1..length {
                    national.push(char::from(b'0' + u8::try_from(next(10)).unwrap()));
                }
                let spaced = format!("{} {}", &national[..3], &national[3..]);
                let international = format!("+{code} {}", &national[1..]);
                let hyphened = format!("+{code}-{}", &national[1..]);
                for written in [&national, &spaced, &international, &hyphened] {
                    let full = library_phone(written, region);
                    assert_eq!(normalise_phone(written, region), full, "{written} in {region}");
                    if plain_valid_phone(written, region).is_some() {
                        direct += 1;
                    }
                }
            }
            assert!(direct > 100, "only {direct} numbers of {region} read directly");
        }
        // A region spelt otherwise than the library spells it is left to the library.
        assert_eq!(plain_valid_phone("07912 345678", "gb"), None);
        assert_eq!(
            normalise_phone("07912 345678", "gb"),
            library_phone("07912 345678", "gb")
        );
    }

    #[test]
    fn the_match_form_agrees_with_the_phone_library() {
        // Every number the library accepts, written the ways leaks write them, gets the same text.
        let mut rng_state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            rng_state ^= rng_state << 13;
            rng_state ^= rng_state >> 7;
            rng_state ^= rng_state << 17;
            rng_state
        };
        let mut compared = 0;
        for _ in 0..20_000 {
            // `00…` is the international prefix, not a national number.
            let national: String = format!("0{:010}", 1_000_000_000 + next() % 9_000_000_000);
            let Some(e164) = normalise_phone(&national, "GB") else {
                continue;
            };
            compared += 1;
            let spaced = format!("{} {} {}", &national[..4], &national[4..7], &national[7..]);
            let international = format!("+44 {}", &national[1..]);
            for written in [
                national.as_str(),
                spaced.as_str(),
                international.as_str(),
                e164.as_str(),
            ] {
                assert_eq!(
                    phone_match_form(written, "GB").as_deref(),
                    Some(e164.as_str()),
                    "{written}"
                );
            }
            let trunk_kept = format!("+44 (0){}", &national[1..]);
            assert_eq!(
                phone_match_form(&trunk_kept, "GB").as_deref(),
                Some(e164.as_str()),
                "{trunk_kept}"
            );
        }
        assert!(compared > 1_000, "only {compared} valid numbers drawn");
        assert_eq!(phone_match_form("call me", "GB"), None);
        assert_eq!(phone_match_form("12", "GB"), None);
    }

    #[test]
    fn names_and_postcodes() {
        assert_eq!(name_key("José María", "García Lorca"), Some("jose|lorca".into()));
        assert_eq!(name_key("  ", "Smith"), None);
        assert_eq!(full_name_key("Mary Ann O'Brien"), Some("mary|obrien".into()));
        assert_eq!(normalise_postcode("sw1a 1aa"), Some("SW1A1AA".into()));
        assert_eq!(normalise_postcode("!!"), None);
    }
}
