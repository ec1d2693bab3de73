//! Address books exported as vCards (RFC 6350 version 4.0, RFC 2426 version 3.0, and the
//! version 2.1 older phones write), read into the rows of a table whose headers the people
//! import knows: `UID`, `First Name`, `Last Name`, `Full Name`, `Email N`, `Phone N`,
//! `Address N Street|City|Region|Postal Code|Country`, `Birthday`. Each row remembers the line
//! of its card's `BEGIN:VCARD`, so that errors name the line of the vCard file. `UID` is the
//! reference when every card has one (most writers give none: Google's and Apple's exports).
//!
//! Handled: folded lines (a line starting with a space or tab continues the one before, RFC
//! 6350 §3.2), property groups (`item1.EMAIL`), parameters, backslash escapes (§3.4), version
//! 2.1's quoted-printable values, `tel:` URIs, and birthdays without a year (`--0325`, and
//! Apple's year 1604 with `X-APPLE-OMIT-YEAR`).

use std::path::Path;

use crate::error::{Error, Result};

/// Largest address book read: vCards are held in memory (an export of 100,000 contacts is
/// about 30 MiB).
const FILE_BYTES_MAX: u64 = 256 * 1024 * 1024;

/// One card, as far as custody reads it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Card {
    /// Line of its `BEGIN:VCARD`.
    pub line: u64,
    /// `UID`.
    pub uid: Option<String>,
    /// `FN`.
    pub full_name: Option<String>,
    /// Given name, from `N`.
    pub first_name: Option<String>,
    /// Family name, from `N`.
    pub last_name: Option<String>,
    /// `EMAIL`s, in order.
    pub emails: Vec<String>,
    /// `TEL`s, in order.
    pub phones: Vec<String>,
    /// `ADR`s: street, city, region, postal code, country.
    pub addresses: Vec<[String; 5]>,
    /// `BDAY`.
    pub birthday: Option<String>,
}

/// The cards of a vCard file, as a table: headers, then per card its line and values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VcardTable {
    /// Column headers.
    pub headers: Vec<String>,
    /// (line of `BEGIN:VCARD`, values in header order).
    pub rows: Vec<(u64, Vec<String>)>,
}

/// Whether a file is a vCard file: named `.vcf` or `.vcard`, or beginning `BEGIN:VCARD`.
pub fn is_vcard(path: &Path) -> bool {
    let named = path
        .extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| matches!(extension.to_ascii_lowercase().as_str(), "vcf" | "vcard"));
    named
        || std::fs::File::open(path)
            .and_then(|file| {
                use std::io::Read;
                let mut head = [0u8; 64];
                let count = file.take(64).read(&mut head)?;
                Ok(String::from_utf8_lossy(head.get(..count).unwrap_or_default())
                    .trim_start_matches('\u{feff}')
                    .trim_start()
                    .to_ascii_uppercase()
                    .starts_with("BEGIN:VCARD"))
            })
            .unwrap_or(false)
}

/// Reads a vCard file into a table.
pub fn read_vcards(path: &Path) -> Result<VcardTable> {
    let shown = path.display().to_string();
    let io_error = |source| Error::Io {
        file: shown.clone(),
        source,
    };
    let size = std::fs::metadata(path).map_err(io_error)?.len();
    if size > FILE_BYTES_MAX {
        return Err(Error::at(
            &shown,
            None,
            None,
            format!("the file is {size} bytes; expected an address book of at most {FILE_BYTES_MAX} bytes"),
        ));
    }
    let bytes = std::fs::read(path).map_err(io_error)?;
    let text = match std::str::from_utf8(&bytes) {
        Ok(text) => text.trim_start_matches('\u{feff}').to_owned(),
        Err(_) => encoding_rs::WINDOWS_1252.decode(&bytes).0.into_owned(),
    };
    let cards = parse_cards(&shown, &text)?;
    Ok(table_of(&cards))
}

/// Unfolded content lines with the line each began on. Linear in the file: whether a line is
/// a quoted-printable value is decided once, when it begins.
fn unfold(text: &str) -> Vec<(u64, String)> {
    let mut lines: Vec<(u64, String)> = Vec::new();
    let mut quoted_printable = false;
    for (index, raw) in text.split('\n').enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let number = index as u64 + 1;
        // Version 2.1: a quoted-printable value whose line ends in `=` goes on.
        let soft_break = quoted_printable && lines.last().is_some_and(|(_, last)| last.ends_with('='));
        match lines.last_mut() {
            Some((_, last)) if soft_break => {
                last.pop();
                last.push_str(raw);
            }
            Some((_, last)) if raw.starts_with([' ', '\t']) => last.push_str(raw.get(1..).unwrap_or("")),
            _ if raw.trim().is_empty() => {}
            _ => {
                let head = raw.split(':').next().unwrap_or("");
                quoted_printable = head.to_ascii_uppercase().contains("QUOTED-PRINTABLE");
                lines.push((number, raw.to_owned()));
            }
        }
    }
    lines
}

/// A content line's name (without group), parameters (upper-cased) and value: the value begins
/// after the first colon outside a quoted parameter value (`GEO="geo:12.3,45.6"`).
fn split_line(line: &str) -> Option<(String, Vec<String>, String)> {
    let mut quoted = false;
    let colon = line.char_indices().find_map(|(at, c)| match c {
        '"' => {
            quoted = !quoted;
            None
        }
        ':' if !quoted => Some(at),
        _ => None,
    })?;
    let (head, value) = (line.get(..colon)?, line.get(colon + 1..)?);
    let mut parts = head.split(';');
    let name = parts.next()?;
    let name = name
        .rsplit('.')
        .next()
        .unwrap_or(name)
        .trim()
        .to_ascii_uppercase();
    let parameters = parts.map(|part| part.trim().to_ascii_uppercase()).collect();
    Some((name, parameters, value.to_owned()))
}

fn parse_cards(file: &str, text: &str) -> Result<Vec<Card>> {
    let mut cards = Vec::new();
    let mut current: Option<Card> = None;
    for (line, content) in unfold(text) {
        let Some((name, parameters, value)) = split_line(&content) else {
            return Err(Error::at(
                file,
                Some(line),
                None,
                "expected a vCard property such as EMAIL:alex@example.org (a name, a colon, a value)",
            ));
        };
        let value = decode_value(&parameters, &value);
        match (name.as_str(), current.as_mut()) {
            ("BEGIN", None) if value.trim().eq_ignore_ascii_case("VCARD") => {
                current = Some(Card {
                    line,
                    ..Card::default()
                });
            }
            ("END", Some(_)) if value.trim().eq_ignore_ascii_case("VCARD") => {
                cards.extend(current.take());
            }
            ("BEGIN", Some(card)) if value.trim().eq_ignore_ascii_case("VCARD") => {
                return Err(Error::at(
                    file,
                    Some(card.line),
                    None,
                    format!(
                        "this card has no END:VCARD before the next BEGIN:VCARD (line {line}); expected every card to end"
                    ),
                ));
            }
            (_, Some(card)) => read_property(card, &name, &parameters, &value),
            _ => {
                return Err(Error::at(
                    file,
                    Some(line),
                    None,
                    format!("{name} outside a card; expected BEGIN:VCARD first"),
                ));
            }
        }
    }
    if let Some(card) = current {
        return Err(Error::at(
            file,
            Some(card.line),
            None,
            "this card has no END:VCARD; expected every card to end",
        ));
    }
    Ok(cards)
}

fn read_property(card: &mut Card, name: &str, parameters: &[String], value: &str) {
    let text = |value: &str| Some(unescape(value).trim().to_owned()).filter(|text| !text.is_empty());
    match name {
        "UID" => card.uid = text(value),
        "FN" => card.full_name = text(value),
        "N" => {
            let parts = components(value);
            card.last_name = parts.first().cloned().filter(|part| !part.is_empty());
            card.first_name = parts.get(1).cloned().filter(|part| !part.is_empty());
        }
        "EMAIL" => card.emails.extend(text(value)),
        "TEL" => card
            .phones
            .extend(text(value).map(|phone| phone.trim_start_matches("tel:").to_owned())),
        "ADR" => {
            let parts = components(value);
            let part = |at: usize| parts.get(at).cloned().unwrap_or_default();
            let street: Vec<String> = (0..3).map(part).filter(|line| !line.is_empty()).collect();
            card.addresses
                .push([street.join(", "), part(3), part(4), part(5), part(6)]);
        }
        "BDAY" => {
            let omit_year = parameters
                .iter()
                .any(|parameter| parameter.starts_with("X-APPLE-OMIT-YEAR"));
            card.birthday = text(value).map(|day| birthday(&day, omit_year));
        }
        _ => {}
    }
}

/// A birthday as the import reads it: `--MM-DD` when the card has no year (or Apple's
/// placeholder year 1604), else as written.
fn birthday(value: &str, omit_year: bool) -> String {
    let digits: String = value.chars().filter(char::is_ascii_digit).collect();
    let placeholder = omit_year || value.starts_with("1604");
    match (value.starts_with("--"), digits.len()) {
        (false, 8) if placeholder => format!(
            "--{}-{}",
            digits.get(4..6).unwrap_or(""),
            digits.get(6..8).unwrap_or("")
        ),
        (false, 8) if !value.contains('-') => format!(
            "{}-{}-{}",
            digits.get(..4).unwrap_or(""),
            digits.get(4..6).unwrap_or(""),
            digits.get(6..8).unwrap_or("")
        ),
        _ => value
            .get(..value.find('T').unwrap_or(value.len()))
            .unwrap_or(value)
            .to_owned(),
    }
}

/// The `;`-separated components of a structured value (N, ADR), unescaped.
fn components(value: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                current.push('\\');
                current.extend(chars.next());
            }
            ';' => parts.push(unescape(&std::mem::take(&mut current)).trim().to_owned()),
            _ => current.push(c),
        }
    }
    parts.push(unescape(&current).trim().to_owned());
    parts
}

/// RFC 6350 §3.4 escapes: `\n`, `\,`, `\;`, `\\`.
fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push(' '),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// Version 2.1's `ENCODING=QUOTED-PRINTABLE` (`=C3=A9` is `é` in UTF-8).
fn decode_value(parameters: &[String], value: &str) -> String {
    let quoted = parameters
        .iter()
        .any(|parameter| parameter == "QUOTED-PRINTABLE" || parameter == "ENCODING=QUOTED-PRINTABLE");
    if !quoted {
        return value.to_owned();
    }
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        let hex = bytes
            .get(index + 1..index + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (byte, hex) {
            (b'=', Some(decoded)) => {
                out.push(decoded);
                index += 3;
            }
            _ => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn table_of(cards: &[Card]) -> VcardTable {
    let most = |count: fn(&Card) -> usize| cards.iter().map(count).max().unwrap_or(0);
    let (emails, phones, addresses) = (
        most(|card| card.emails.len()).max(1),
        most(|card| card.phones.len()),
        most(|card| card.addresses.len()),
    );
    let mut headers: Vec<String> = ["UID", "First Name", "Last Name", "Full Name", "Birthday"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    headers.extend((1..=emails).map(|n| format!("Email {n}")));
    headers.extend((1..=phones).map(|n| format!("Phone {n}")));
    for n in 1..=addresses {
        for part in ["Street", "City", "Region", "Postal Code", "Country"] {
            headers.push(format!("Address {n} {part}"));
        }
    }
    // A UID is the reference only when every card has one; otherwise the import refers to each
    // person by a keyed digest of their email address, the same for every card.
    let has_uid = !cards.is_empty() && cards.iter().all(|card| card.uid.is_some());
    if !has_uid {
        headers.remove(0);
    }
    let rows = cards
        .iter()
        .map(|card| {
            let mut values: Vec<String> = Vec::with_capacity(headers.len());
            if has_uid {
                values.push(card.uid.clone().unwrap_or_default());
            }
            for field in [&card.first_name, &card.last_name, &card.full_name, &card.birthday] {
                values.push(field.clone().unwrap_or_default());
            }
            let padded = |list: &[String], count: usize| -> Vec<String> {
                (0..count)
                    .map(|at| list.get(at).cloned().unwrap_or_default())
                    .collect()
            };
            values.extend(padded(&card.emails, emails));
            values.extend(padded(&card.phones, phones));
            for at in 0..addresses {
                values.extend(card.addresses.get(at).cloned().unwrap_or_default());
            }
            (card.line, values)
        })
        .collect();
    VcardTable { headers, rows }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CARDS: &str = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:urn:uuid:1\r\nN:Hartley;Amelia;;;\r\n\
        FN:Amelia Hartley\r\nitem1.EMAIL;TYPE=INTERNET:amelia@example.org\r\nEMAIL:a.h@exam\r\n ple.com\r\n\
        TEL;TYPE=CELL:+44 7912 345678\r\nADR;TYPE=HOME:;;14 Quill Lane\\, Flat 2;Leeds;;LS1 4AB;United Kingdom\r\n\
        BDAY;X-APPLE-OMIT-YEAR=1604:1604-03-25\r\nEND:VCARD\r\n\
        BEGIN:VCARD\r\nVERSION:2.1\r\nN;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:Jos=C3=A9;Ana\r\n\
        TEL:tel:+1-555-0134\r\nBDAY:19800403\r\nEND:VCARD\r\n";

    #[test]
    fn cards_become_rows_with_their_lines() {
        let cards = parse_cards("book.vcf", CARDS).unwrap();
        assert_eq!(cards.len(), 2);
        let first = &cards[0];
        assert_eq!(first.line, 1);
        assert_eq!(
            first.emails,
            ["amelia@example.org", "a.h@example.com"],
            "folded line joined"
        );
        assert_eq!(first.addresses[0][0], "14 Quill Lane, Flat 2");
        assert_eq!(first.addresses[0][3], "LS1 4AB");
        assert_eq!(
            first.birthday.as_deref(),
            Some("--03-25"),
            "Apple's year 1604 is no year"
        );
        let second = &cards[1];
        assert_eq!(second.line, 13);
        assert_eq!(second.last_name.as_deref(), Some("José"));
        assert_eq!(second.phones, ["+1-555-0134"]);
        assert_eq!(second.birthday.as_deref(), Some("1980-04-03"));
        let table = table_of(&cards);
        assert_eq!(
            table.headers[0], "First Name",
            "not every card has a UID: none is the reference"
        );
        assert!(table.headers.contains(&"Address 1 Postal Code".to_owned()));
        assert_eq!(table.rows[1].0, 13);
    }

    #[test]
    fn broken_cards_name_their_line() {
        let error = parse_cards("book.vcf", "BEGIN:VCARD\nFN:A\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("book.vcf, line 1") && error.contains("END:VCARD"),
            "{error}"
        );
        let error = parse_cards("book.vcf", "BEGIN:VCARD\nnot a property\nEND:VCARD\n")
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("book.vcf, line 2"), "{error}");
        // Two people never become one.
        let error = parse_cards("book.vcf", "BEGIN:VCARD\nFN:A\nBEGIN:VCARD\nFN:B\nEND:VCARD\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("book.vcf, line 1") && error.contains("line 3"),
            "{error}"
        );
        // A colon inside a quoted parameter does not start the value.
        let cards = parse_cards(
            "book.vcf",
            "BEGIN:VCARD\nADR;GEO=\"geo:12.3,45.6\":;;1 Road;Town;;AB1 2CD;UK\nEMAIL:a@example.org\nEND:VCARD\n",
        )
        .unwrap();
        assert_eq!(cards[0].addresses[0][3], "AB1 2CD");
        // A long folded value (a photo) is read in one pass.
        let photo = format!(
            "BEGIN:VCARD\nPHOTO;ENCODING=b:{}\nEMAIL:a@example.org\nEND:VCARD\n",
            "\n AAAA".repeat(200_000)
        );
        assert_eq!(
            parse_cards("book.vcf", &photo).unwrap()[0].emails,
            ["a@example.org"]
        );
    }
}
