//! The normal forms of identifiers written into a buffer the caller reuses, for matching a
//! leaked file at millions of rows a second: each gives exactly what its allocating twin in
//! `identity` gives (tested against it), but the common case (ASCII, the shapes CRMs and dumps
//! write) is done in place without allocating, and anything else goes through the twin.

use crate::Day;
use crate::identity::{TRUNK_ZERO_REGIONS, name_key, normalise_email, normalise_phone, normalise_postcode};

/// [`normalise_email`] into `out`; whether `text` is an address.
pub fn email_into(text: &str, out: &mut String) -> bool {
    out.clear();
    // Most addresses are written plainly: such text has no brackets or spaces to take off.
    if plain_address(text) {
        out.push_str(text);
        out.make_ascii_lowercase();
        return true;
    }
    let inner = match (text.rfind('<'), text.rfind('>')) {
        (Some(open), Some(close)) if open < close => text.get(open + 1..close).unwrap_or(text),
        _ => text,
    };
    let trimmed = inner.trim();
    // Text that is its own trimmed inner part was asked above.
    if trimmed.len() < text.len() && plain_address(trimmed) {
        out.push_str(trimmed);
        out.make_ascii_lowercase();
        return true;
    }
    match normalise_email(text) {
        Some(email) => {
            out.push_str(&email);
            true
        }
        None => false,
    }
}

/// Whether `text` is an address of the plainest form, which every parser accepts: a local
/// part of letters, digits, `.`, `_`, `+` and `-` (no dot first, last or twice), and a domain
/// of two or more labels of letters, digits and inner hyphens. One pass over the bytes: it is
/// asked of every address in a leaked file.
fn plain_address(text: &str) -> bool {
    let bytes = text.as_bytes();
    let Some(at) = bytes.iter().position(|byte| *byte == b'@') else {
        return false;
    };
    let (Some(local), Some(domain)) = (bytes.get(..at), bytes.get(at + 1..)) else {
        return false;
    };
    plain_local_part(local) && plain_domain(domain)
}

/// 1 to 64 letters, digits, `_`, `+`, `-` and dots, with no dot first, last or twice.
fn plain_local_part(local: &[u8]) -> bool {
    let mut previous = b'.';
    for byte in local {
        let allowed = if *byte == b'.' {
            previous != b'.'
        } else {
            byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'+' | b'-')
        };
        if !allowed {
            return false;
        }
        previous = *byte;
    }
    (1..=64).contains(&local.len()) && previous != b'.'
}

/// At most 253 bytes of two or more dot-separated labels, each 1 to 63 letters, digits and
/// hyphens, with a letter or digit first and last.
fn plain_domain(domain: &[u8]) -> bool {
    let (mut labels, mut length, mut previous) = (1, 0, b'.');
    for byte in domain {
        match byte {
            b'.' if length > 0 && previous != b'-' => {
                labels += 1;
                length = 0;
            }
            b'-' if length > 0 => length += 1,
            byte if byte.is_ascii_alphanumeric() => length += 1,
            _ => return false,
        }
        if length > 63 {
            return false;
        }
        previous = *byte;
    }
    domain.len() <= 253 && length > 0 && previous != b'-' && labels >= 2
}

/// [`crate::canonical_email`] into `out`.
pub fn canonical_email_into(normalised: &str, out: &mut String) {
    out.clear();
    let Some((local, domain)) = normalised.rsplit_once('@') else {
        out.push_str(normalised);
        return;
    };
    let base = local.split('+').next().unwrap_or(local);
    match domain {
        "gmail.com" | "googlemail.com" => {
            out.extend(base.chars().filter(|c| *c != '.'));
            out.push_str("@gmail.com");
        }
        _ => {
            out.push_str(base);
            out.push('@');
            out.push_str(domain);
        }
    }
}

/// [`crate::phone_match_form`] into `out`; whether it gave a form.
pub fn phone_into(text: &str, region: &str, out: &mut String) -> bool {
    out.clear();
    let trimmed = text.trim();
    let simple = trimmed.len() <= 32
        && trimmed.bytes().enumerate().all(|(index, byte)| {
            byte.is_ascii_digit() || byte == b' ' || byte == b'-' || (index == 0 && byte == b'+')
        });
    let slow = |out: &mut String| match normalise_phone(text, region) {
        Some(phone) => {
            out.push_str(&phone);
            true
        }
        None => false,
    };
    if !simple {
        return slow(out);
    }
    let mut digits = [0_u8; 32];
    let mut count = 0;
    for byte in trimmed.bytes().filter(u8::is_ascii_digit) {
        if let Some(place) = digits.get_mut(count) {
            *place = byte;
            count += 1;
        }
    }
    let digits = std::str::from_utf8(digits.get(..count).unwrap_or_default()).unwrap_or("");
    if !(7..=15).contains(&digits.len()) {
        return false;
    }
    if trimmed.starts_with('+') {
        let known = TRUNK_ZERO_REGIONS
            .iter()
            .find_map(|(_, code)| digits.strip_prefix(code))
            .is_some_and(|rest| !rest.starts_with('0'));
        if !known {
            return slow(out);
        }
        out.push('+');
        out.push_str(digits);
        return true;
    }
    match TRUNK_ZERO_REGIONS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(region))
    {
        Some((_, code)) if digits.starts_with('0') && !digits.starts_with("00") => {
            out.push('+');
            out.push_str(code);
            out.push_str(digits.get(1..).unwrap_or(""));
            true
        }
        _ => slow(out),
    }
}

/// [`normalise_postcode`] into `out`; whether it is a postcode.
pub fn postcode_into(text: &str, out: &mut String) -> bool {
    out.clear();
    if !text.is_ascii() {
        return match normalise_postcode(text) {
            Some(postcode) => {
                out.push_str(&postcode);
                true
            }
            None => false,
        };
    }
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
        out.push_str(trimmed.get(..5).unwrap_or(""));
        return true;
    }
    for byte in trimmed.bytes() {
        if !char::from(byte).is_whitespace() && byte != b'-' {
            out.push(char::from(byte.to_ascii_uppercase()));
        }
    }
    let valid = (2..=10).contains(&out.len()) && out.bytes().all(|byte| byte.is_ascii_alphanumeric());
    if !valid {
        out.clear();
    }
    valid
}

/// [`name_key`] into `out`; whether both parts gave a word.
pub fn name_key_into(first: &str, last: &str, out: &mut String) -> bool {
    out.clear();
    if !first.is_ascii() || !last.is_ascii() {
        return match name_key(first, last) {
            Some(key) => {
                out.push_str(&key);
                true
            }
            None => false,
        };
    }
    let (Some(first_word), Some(last_word)) = (words(first).first, words(last).last) else {
        return false;
    };
    push_folded(first_word, out);
    out.push('|');
    push_folded(last_word, out);
    true
}

/// The words of an ASCII name: split at spaces and commas, those with a letter or digit.
fn words(text: &str) -> Words<'_> {
    text.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|word| word.bytes().any(|byte| byte.is_ascii_alphanumeric()))
        .collect()
}

/// An ASCII word's letters and digits, lower-cased.
fn push_folded(word: &str, out: &mut String) {
    if word.bytes().all(|byte| byte.is_ascii_alphanumeric()) {
        let start = out.len();
        out.push_str(word);
        if let Some(pushed) = out.get_mut(start..) {
            pushed.make_ascii_lowercase();
        }
        return;
    }
    out.extend(
        word.bytes()
            .filter(u8::is_ascii_alphanumeric)
            .map(|byte| char::from(byte.to_ascii_lowercase())),
    );
}

/// The first and last of some words, without keeping the rest.
#[derive(Default)]
struct Words<'a> {
    first: Option<&'a str>,
    last: Option<&'a str>,
}

impl<'a> FromIterator<&'a str> for Words<'a> {
    fn from_iter<I: IntoIterator<Item = &'a str>>(words: I) -> Self {
        let mut out = Words::default();
        for word in words {
            out.first = out.first.or(Some(word));
            out.last = Some(word);
        }
        out
    }
}

/// [`Day::to_iso`] into `out`.
pub fn day_into(day: Day, out: &mut String) {
    out.clear();
    out.push_str(day.iso().as_str());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{canonical_email, phone_match_form};

    /// Strings of characters the forms care about, from a fixed seed.
    fn strings(alphabet: &[&str], count: usize, longest: usize) -> Vec<String> {
        let mut random = fastrand::Rng::with_seed(2026);
        (0..count)
            .map(|_| {
                (0..random.usize(0..=longest))
                    .map(|_| alphabet[random.usize(..alphabet.len())])
                    .collect()
            })
            .collect()
    }

    #[test]
    fn email_into_gives_what_normalise_email_gives() {
        let mut out = String::new();
        let mut written = vec![
            "Alex.Smith@Example.ORG",
            " a@b.co ",
            "a..b@c.org",
            ".a@c.org",
            "a.@c.org",
            "a@-c.org",
            "a@c-.org",
            "a@c",
            "a@c.",
            "\"A\" <a@b.org>",
            "a@b@c.org",
            "ä@b.org",
            "a@b.org>",
            "<a@b.org",
            "a+tag@gmail.com",
            "a@[127.0.0.1]",
            "a_b-c@x-y.z9.org",
            "a@b.c",
            "@b.org",
            "a@.org",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
        let locals = strings(
            &[
                "a", "b", "Z", "0", "a", ".", "-", "_", "+", "'", "!", "é", " ", "<",
            ],
            20_000,
            7,
        );
        let domains = strings(&["a", "b", "C", "0", "a", "-", ".", "_", "é"], 20_000, 8);
        let mut random = fastrand::Rng::with_seed(7);
        written.extend(locals.iter().zip(&domains).map(|(local, domain)| {
            let top = if random.bool() { ".org" } else { "" };
            format!("{local}@{domain}{top}")
        }));
        written.extend(strings(&["a", "0", ".", "-", "@", " ", "<", ">"], 5_000, 12));
        // At and past the plain form's lengths: a local part of 64, a label of 63, a domain
        // of 253 bytes (three labels of 63 and one of 61 or 62, with their dots).
        for (local, label, labels, last, plain) in [
            (64, 10, 2, 10, true),
            (65, 10, 2, 10, false),
            (3, 63, 2, 63, true),
            (3, 64, 2, 10, false),
            (3, 63, 4, 61, true),
            (3, 63, 4, 62, false),
        ] {
            let mut domain = vec!["d".repeat(label); labels - 1];
            domain.push("e".repeat(last));
            let domain = domain.join(".");
            let address = format!("{}@{domain}", "l".repeat(local));
            assert_eq!(plain_address(&address), plain, "{address}");
            written.push(address);
        }
        let mut accepted = 0;
        for text in &written {
            let want = normalise_email(text);
            assert_eq!(email_into(text, &mut out), want.is_some(), "{text:?}");
            if let Some(want) = want {
                assert_eq!(out, want, "{text:?}");
                canonical_email_into(&want, &mut out);
                assert_eq!(out, canonical_email(&want), "{want:?}");
                accepted += 1;
            }
        }
        assert!(accepted > 1_000, "the sample holds addresses: {accepted}");
    }

    #[test]
    fn the_other_forms_give_what_their_twins_give() {
        let mut out = String::new();
        for text in strings(&["0", "1", "7", "4", " ", "-", "+", "(", "a"], 5_000, 18)
            .iter()
            .map(String::as_str)
            .chain([
                "0113 496 0000",
                "+44 113 496 0000",
                "+1 202 555 0100",
                "07700 900123",
            ])
        {
            for region in ["GB", "US", "de"] {
                let want = phone_match_form(text, region);
                assert_eq!(phone_into(text, region, &mut out), want.is_some(), "{text:?}");
                assert_eq!(want.unwrap_or_default(), out, "{text:?} {region}");
            }
        }
        for text in strings(&["a", "B", "1", " ", "-", "\u{b}", "ß", "\t"], 5_000, 12)
            .iter()
            .map(String::as_str)
            .chain([
                "SW1A 1AA",
                "12345-6789",
                "00-950",
                "ls1 4ab",
                " 12345-6789 ",
                "12345-678a",
                "123456-789",
                "\u{a0}SW1A 1AA",
                "SW1A\n1AA\r",
                "SW1A\u{c}1AA",
                "ß1",
            ])
        {
            let want = normalise_postcode(text);
            assert_eq!(postcode_into(text, &mut out), want.is_some(), "{text:?}");
            assert_eq!(want.unwrap_or_default(), out, "{text:?}");
        }
        let mut names = strings(&["a", "B", "1", " ", ",", "-", "'", "é", "\u{b}"], 3_000, 10);
        // Other ASCII whitespace, and the separators below it that are not whitespace.
        names.extend(
            [
                "Mary\nAnn",
                "Smith\r",
                "\u{c}Jo",
                "Ann\u{1f}Lee",
                "O'Neil-Smith",
                "--'",
            ]
            .map(str::to_owned),
        );
        for (first, last) in names.iter().zip(names.iter().rev()) {
            let want = name_key(first, last);
            assert_eq!(
                name_key_into(first, last, &mut out),
                want.is_some(),
                "{first:?} {last:?}"
            );
            assert_eq!(want.unwrap_or_default(), out, "{first:?} {last:?}");
        }
        let day = crate::parse_day("1969-11-08").unwrap();
        day_into(day, &mut out);
        assert_eq!(out, day.to_iso());
    }
}
