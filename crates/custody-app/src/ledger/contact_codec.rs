//! The plaintext of a person's sealed contact details.
//!
//! Written as version 1: the byte `0x01`, then each field present as a tag byte, its length
//! (LEB128) and its UTF-8 bytes, in tag order; a list is its tag repeated. The postal address,
//! a nested struct, is its JSON. For the benchmark's people this is about 60 bytes a person
//! fewer to seal and to write than the JSON object custody wrote before, whose field names
//! took more room than the values. Contact details sealed before are JSON (`{` first) and
//! still open.

use std::borrow::Cow;

use custody_ingest::PostalAddress;

use crate::ledger::people::Contact;

/// The first byte of version 1.
const VERSION_1: u8 = 0x01;

const FIRST_NAME: u8 = 1;
const LAST_NAME: u8 = 2;
const EMAIL: u8 = 3;
const PHONE: u8 = 4;
const MORE_EMAIL: u8 = 5;
const MORE_PHONE: u8 = 6;
const POSTCODE: u8 = 7;
const BORN: u8 = 8;
const POSTAL: u8 = 9;

/// The plaintext of `contact`.
pub(crate) fn encode(contact: &Contact) -> Vec<u8> {
    let mut out = Vec::with_capacity(96);
    out.push(VERSION_1);
    let mut field = |tag: u8, value: &str| {
        out.push(tag);
        let mut length = value.len();
        loop {
            let low = u8::try_from(length & 0x7f).unwrap_or(0);
            length >>= 7;
            if length == 0 {
                out.push(low);
                break;
            }
            out.push(low | 0x80);
        }
        out.extend_from_slice(value.as_bytes());
    };
    let optional = [
        (FIRST_NAME, &contact.first_name),
        (LAST_NAME, &contact.last_name),
        (EMAIL, &contact.email),
        (PHONE, &contact.phone),
    ];
    for (tag, value) in optional {
        if let Some(value) = value {
            field(tag, value);
        }
    }
    for value in &contact.more_emails {
        field(MORE_EMAIL, value);
    }
    for value in &contact.more_phones {
        field(MORE_PHONE, value);
    }
    for (tag, value) in [(POSTCODE, &contact.postcode), (BORN, &contact.born)] {
        if let Some(value) = value {
            field(tag, value);
        }
    }
    if let Some(postal) = &contact.postal {
        // A struct of strings and a list of strings: serialising it cannot fail.
        let json = serde_json::to_string(postal).unwrap_or_default();
        field(POSTAL, &json);
    }
    out
}

/// The contact details in `plaintext`, of either version.
pub(crate) fn decode(plaintext: &[u8]) -> Result<Contact, String> {
    if plaintext.first() == Some(&b'{') {
        return serde_json::from_slice(plaintext).map_err(|error| error.to_string());
    }
    let mut contact = Contact::default();
    for item in fields(plaintext)? {
        let (tag, value) = item?;
        let owned = || value.to_owned();
        match tag {
            FIRST_NAME => contact.first_name = Some(owned()),
            LAST_NAME => contact.last_name = Some(owned()),
            EMAIL => contact.email = Some(owned()),
            PHONE => contact.phone = Some(owned()),
            MORE_EMAIL => contact.more_emails.push(owned()),
            MORE_PHONE => contact.more_phones.push(owned()),
            POSTCODE => contact.postcode = Some(owned()),
            BORN => contact.born = Some(owned()),
            POSTAL => {
                let postal: PostalAddress =
                    serde_json::from_str(value).map_err(|error| format!("postal address: {error}"))?;
                contact.postal = Some(postal);
            }
            other => return Err(format!("unknown field tag {other}")),
        }
    }
    Ok(contact)
}

/// The fields linkage compares, borrowed from the plaintext where it can be.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct LinkFields<'a> {
    #[serde(borrow, default)]
    pub first_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub last_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub email: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub phone: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub postcode: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub born: Option<Cow<'a, str>>,
}

/// The fields linkage compares, of either version; the others are skipped unread.
pub(crate) fn link_fields(plaintext: &[u8]) -> Result<LinkFields<'_>, String> {
    if plaintext.first() == Some(&b'{') {
        return serde_json::from_slice(plaintext).map_err(|error| error.to_string());
    }
    let mut view = LinkFields::default();
    for item in fields(plaintext)? {
        let (tag, value) = item?;
        let slot = match tag {
            FIRST_NAME => &mut view.first_name,
            LAST_NAME => &mut view.last_name,
            EMAIL => &mut view.email,
            PHONE => &mut view.phone,
            POSTCODE => &mut view.postcode,
            BORN => &mut view.born,
            MORE_EMAIL | MORE_PHONE | POSTAL => continue,
            other => return Err(format!("unknown field tag {other}")),
        };
        *slot = Some(Cow::Borrowed(value));
    }
    Ok(view)
}

/// The (tag, value) fields of version 1's plaintext, each an error where it is malformed.
fn fields(plaintext: &[u8]) -> Result<impl Iterator<Item = Result<(u8, &str), String>>, String> {
    match plaintext.split_first() {
        Some((&VERSION_1, rest)) => Ok(Fields { rest }),
        Some((other, _)) => Err(format!("unknown contact details version {other}")),
        None => Err("empty contact details".to_owned()),
    }
}

struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u8, &'a str), String>;

    fn next(&mut self) -> Option<Self::Item> {
        let (&tag, mut rest) = self.rest.split_first()?;
        let mut length = 0usize;
        let mut shift = 0u32;
        loop {
            let Some((&byte, after)) = rest.split_first() else {
                self.rest = &[];
                return Some(Err("contact details end inside a length".to_owned()));
            };
            rest = after;
            if shift > 28 {
                self.rest = &[];
                return Some(Err("a contact field's length is too large".to_owned()));
            }
            length |= usize::from(byte & 0x7f) << shift;
            shift += 7;
            if byte & 0x80 == 0 {
                break;
            }
        }
        let Some((value, after)) = rest.split_at_checked(length) else {
            self.rest = &[];
            return Some(Err("contact details end inside a field".to_owned()));
        };
        self.rest = after;
        Some(
            std::str::from_utf8(value)
                .map(|value| (tag, value))
                .map_err(|_| format!("contact field {tag} is not UTF-8")),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> Contact {
        Contact {
            first_name: Some("Zoë".into()),
            last_name: Some("O'Brien".into()),
            email: Some("zoe@example.org".into()),
            phone: Some("+447912345678".into()),
            more_emails: vec!["z@example.net".into(), "zob@example.com".into()],
            more_phones: vec!["+441134960000".into()],
            postcode: Some("SW1A1AA".into()),
            born: Some("1980-02-29".into()),
            postal: Some(PostalAddress {
                lines: vec!["1 High Street".into(), "Flat 2".into()],
                town: Some("London".into()),
                region: None,
                postcode: Some("SW1A 1AA".into()),
                country: Some("GB".into()),
            }),
        }
    }

    #[test]
    fn every_field_comes_back_and_old_json_still_opens() {
        let mut long = full();
        // A length of two LEB128 bytes.
        long.more_emails.push(format!("{}@example.org", "a".repeat(300)));
        for contact in [
            full(),
            long,
            Contact::default(),
            Contact {
                born: Some("2000-01-01".into()),
                ..Contact::default()
            },
        ] {
            let encoded = encode(&contact);
            assert_eq!(decode(&encoded).unwrap(), contact);
            let json = serde_json::to_vec(&contact).unwrap();
            assert_eq!(decode(&json).unwrap(), contact);
            let (ours, old) = (link_fields(&encoded).unwrap(), link_fields(&json).unwrap());
            assert_eq!(ours.first_name, contact.first_name.as_deref().map(Cow::Borrowed));
            assert_eq!(ours.first_name, old.first_name);
            assert_eq!(ours.last_name, old.last_name);
            assert_eq!(ours.email, old.email);
            assert_eq!(ours.phone, old.phone);
            assert_eq!(ours.postcode, old.postcode);
            assert_eq!(ours.born, old.born);
        }
        assert!(encode(&full()).len() < serde_json::to_vec(&full()).unwrap().len());
    }

    #[test]
    fn damaged_plaintext_is_an_error_never_a_panic() {
        let encoded = encode(&full());
        for cut in 0..encoded.len() {
            let short = &encoded[..cut];
            // A cut at a field's end is a shorter contact, anywhere else an error.
            if let Ok(contact) = decode(short) {
                assert_ne!(contact, full(), "cut at {cut}");
            }
            let _ = link_fields(short);
        }
        assert!(decode(&[]).is_err());
        assert!(decode(&[2, 1, 1, b'a']).is_err());
        assert!(decode(&[VERSION_1, 42, 1, b'a']).is_err());
        assert!(decode(&[VERSION_1, FIRST_NAME, 2, 0xff, 0xfe]).is_err());
        assert!(decode(&[VERSION_1, FIRST_NAME, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]).is_err());
        assert!(decode(&[VERSION_1, FIRST_NAME, 5, b'a']).is_err());
    }
}
