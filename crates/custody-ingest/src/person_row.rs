//! One row of a CRM export read into a [`PersonRow`]: every value normalised, or refused with
//! its line and column. Emails, phones, addresses and national identifiers may come from
//! several columns; a phone or postcode that cannot be read is counted (reported by the import)
//! rather than refusing the person, and an email address kept in a phone column (as Raiser's
//! Edge keeps them) is read as an email.

use custody_core::{
    Day, MonthDay, PersonCategory, PersonRef, PersonStatus, address_key, country_code, full_name_key,
    is_blank_date, is_phone_region, normalise_national_id, normalise_phone, parse_day_in, parse_month_day_in,
    postcode_fits,
};

use crate::error::{Error, Result};
use crate::people::{PeopleColumns, PersonField, column_name};

/// One of a person's addresses, as far as custody keys it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AddressRow {
    /// The street lines' words ([`custody_core::address_key`]).
    pub street: Option<String>,
    /// The postcode, normalised.
    pub postcode: Option<String>,
}

/// One person as read from a row, every value normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRow {
    /// Line in the file.
    pub line: u64,
    /// The organisation's reference (a placeholder when `derived_reference` is set).
    pub reference: PersonRef,
    /// For a file without references, what the reference is to be derived from
    /// (`email:…` or `phone:…`): the import replaces `reference` with a keyed digest of it.
    pub derived_reference: Option<String>,
    /// Category.
    pub category: PersonCategory,
    /// Status.
    pub status: PersonStatus,
    /// Join date.
    pub joined_on: Option<Day>,
    /// Leaving date.
    pub left_on: Option<Day>,
    /// Country, ISO 3166 alpha-2: the home address's, else the first address's that has one.
    pub country: Option<String>,
    /// Region, ISO 3166-2 (`US-CA`), where the country's breach laws are by region and an
    /// address in that country gives one custody can place ([`crate::regions`]).
    pub region: Option<String>,
    /// Given name as written (kept sealed, to address the notice).
    pub first_name: Option<String>,
    /// Family name as written (kept sealed).
    pub last_name: Option<String>,
    /// Email addresses, normalised, the primary first, each once.
    pub emails: Vec<String>,
    /// Phone numbers in E.164, the primary first, each once.
    pub phones: Vec<String>,
    /// Name key (first word of given name, last word of family name).
    pub name_key: Option<String>,
    /// Addresses with a street or a postcode (used for hashes only).
    pub addresses: Vec<AddressRow>,
    /// The address a letter goes to, as written (kept sealed, for letters only).
    pub postal: Option<crate::postal::PostalAddress>,
    /// Date of birth (used for a hash only).
    pub date_of_birth: Option<Day>,
    /// A birthday without a year, when that is all the file gives.
    pub birthday: Option<MonthDay>,
    /// National identifiers, normalised (used for hashes only).
    pub national_ids: Vec<String>,
    /// A deceased column says the person has died (their status is then former, whatever the
    /// file's other columns say).
    pub deceased: bool,
    /// Columns whose value in this row was given but could not be used (a phone that is not a
    /// number, a postcode of the wrong form for its country): reported, not kept.
    pub unusable: Vec<usize>,
}

impl PersonRow {
    /// The address a notice goes to.
    pub fn email(&self) -> Option<&str> {
        self.emails.first().map(String::as_str)
    }

    /// The number a notice goes to.
    pub fn phone(&self) -> Option<&str> {
        self.phones.first().map(String::as_str)
    }

    /// Whether a leaked file can match this person today: an email, a phone, or a name with a
    /// postcode or a date of birth. (Streets, national identifiers and birthdays without a year
    /// are kept as identifiers too, for the linkage to come, but nothing matches by them yet.)
    pub fn has_identifier(&self) -> bool {
        let named = self.name_key.is_some()
            && (self.date_of_birth.is_some()
                || self.addresses.iter().any(|address| address.postcode.is_some()));
        !self.emails.is_empty() || !self.phones.is_empty() || named
    }
}

/// A cell's value: trimmed, without the leading apostrophe spreadsheets and NationBuilder put
/// before numbers to keep them as text (`'+447912345678`, `'07030`).
pub(crate) fn cell(text: &str) -> &str {
    let trimmed = text.trim();
    let value = trimmed.strip_prefix('\'').map_or(trimmed, str::trim);
    // What exports write for "nothing here".
    if matches!(value, "n/a" | "N/A" | "#N/A" | "-" | "--") {
        return "";
    }
    value
}

/// Visits the non-empty values of a field's columns, in reading order: (column, text). Google
/// Contacts writes several values in one cell joined by ` ::: `; each is a value. (A plain loop
/// rather than an iterator chain: it runs for several fields of every row.)
fn each_value<'r>(
    columns: &PeopleColumns,
    record: &'r csv::StringRecord,
    field: PersonField,
    mut visit: impl FnMut(usize, &'r str) -> Result<()>,
) -> Result<()> {
    for index in columns.indexes(field) {
        let text = record.get(index).unwrap_or("");
        // Most cells hold one value: only one with a colon can hold several.
        if text.as_bytes().contains(&b':') {
            for part in text.split(" ::: ").map(cell).filter(|part| !part.is_empty()) {
                visit(index, part)?;
            }
        } else {
            let text = cell(text);
            if !text.is_empty() {
                visit(index, text)?;
            }
        }
    }
    Ok(())
}

/// The first non-empty value of a field's columns: what [`each_value`] visits first (most
/// fields are read this way, once per row).
fn first_value<'r>(
    columns: &PeopleColumns,
    record: &'r csv::StringRecord,
    field: PersonField,
) -> Option<(usize, &'r str)> {
    for index in columns.indexes(field) {
        let text = record.get(index).unwrap_or("");
        if text.as_bytes().contains(&b':') {
            if let Some(first) = text.split(" ::: ").map(cell).find(|text| !text.is_empty()) {
                return Some((index, first));
            }
            continue;
        }
        let text = cell(text);
        if !text.is_empty() {
            return Some((index, text));
        }
    }
    None
}

/// What an identity form's twin in `custody_core` writes: the same text as the form itself
/// ([`custody_core::normalise_email`], [`custody_core::name_key`],
/// [`custody_core::normalise_postcode`]), as `custody_core` tests, but the plain text most of a
/// CRM's rows hold is read in place, without the full parse or a string for each word.
fn by_twin(write: impl FnOnce(&mut String) -> bool) -> Option<String> {
    let mut text = String::new();
    write(&mut text).then_some(text)
}

/// The normalised address in `text`, if it is one.
fn email_of(text: &str) -> Option<String> {
    by_twin(|out| custody_core::email_into(text, out))
}

fn push_once(list: &mut Vec<String>, value: String) {
    if !list.contains(&value) {
        list.push(value);
    }
}

/// Reads one row. `default_category` applies when no column gives one; `phone_region` reads
/// national phone numbers of people whose country is not given.
pub fn parse_person_row(
    file: &str,
    headers: &[String],
    columns: &PeopleColumns,
    record: &csv::StringRecord,
    line: u64,
    default_category: Option<PersonCategory>,
    phone_region: &str,
) -> Result<PersonRow> {
    let value = |field: PersonField| -> Option<(usize, &str)> { first_value(columns, record, field) };
    let fail = |index: usize, message: String| {
        let header = headers.get(index).map_or("", String::as_str);
        Error::at(file, Some(line), Some(column_name(index, header)), message)
    };
    let reference = match value(PersonField::Ref) {
        Some((index, text)) => PersonRef::parse(text).map_err(|error| fail(index, error.to_string()))?,
        None if columns.reference_from_contact => {
            PersonRef::parse("derived").map_err(|error| fail(0, error.to_string()))?
        }
        None => {
            let index = columns.index(PersonField::Ref).unwrap_or(0);
            return Err(fail(
                index,
                "the reference is empty; every person needs one".to_owned(),
            ));
        }
    };
    let category = match value(PersonField::Category) {
        Some((index, text)) => {
            PersonCategory::parse_loose(text).map_err(|error| fail(index, error.to_string()))?
        }
        None => default_category.ok_or_else(|| {
            Error::at(
                file,
                Some(line),
                None,
                "no category for this person; add a category column or pass --category",
            )
        })?,
    };
    let day = |field: PersonField| -> Result<Option<Day>> {
        value(field)
            .filter(|(_, text)| !is_blank_date(text))
            .map(|(index, text)| {
                parse_day_in(text, columns.date_order).map_err(|error| fail(index, error.to_string()))
            })
            .transpose()
    };
    let joined_on = day(PersonField::JoinedOn)?;
    let left_on = day(PersonField::LeftOn)?;
    let mut unusable = Vec::new();
    let (date_of_birth, birthday) = birth(columns, &value, &fail, &mut unusable)?;
    let status = match value(PersonField::Status) {
        Some((index, text)) => {
            PersonStatus::parse_loose(text).map_err(|error| fail(index, error.to_string()))?
        }
        None if left_on.is_some() => PersonStatus::Former,
        None => PersonStatus::Current,
    };
    let mut status = status;
    let mut has_died = false;
    each_value(columns, record, PersonField::Deceased, |index, text| {
        if deceased(text).map_err(|message| fail(index, message))? {
            status = PersonStatus::Former;
            has_died = true;
        }
        Ok(())
    })?;
    if let (PersonStatus::Current, Some(_)) = (status, left_on) {
        let index = columns.index(PersonField::LeftOn).unwrap_or(0);
        return Err(fail(
            index,
            "a leaving date is given but the status is current; expected a former status".into(),
        ));
    }
    if let (Some(joined), Some(left)) = (joined_on, left_on)
        && left < joined
    {
        let index = columns.index(PersonField::LeftOn).unwrap_or(0);
        return Err(fail(index, format!("left on {left}, before joining on {joined}")));
    }
    // An address that is not one (`n/a`, `jo@gmail`) is reported by column and line, not
    // kept, as real exports hold a few: it does not stop the import.
    let mut emails = Vec::new();
    each_value(columns, record, PersonField::Email, |index, text| {
        match email_of(text) {
            Some(email) => push_once(&mut emails, email),
            None => unusable.push(index),
        }
        Ok(())
    })?;
    let countries = address_countries(columns, record, &mut unusable);
    let country = person_country(columns, &countries);
    let region = country
        .as_deref()
        .filter(|code| is_phone_region(code))
        .unwrap_or(phone_region);
    let mut phones = Vec::new();
    each_value(columns, record, PersonField::Phone, |index, text| {
        if let Some(phone) = normalise_phone(text, region) {
            push_once(&mut phones, phone);
        } else if let Some(email) = email_of(text) {
            push_once(&mut emails, email);
        } else {
            unusable.push(index);
        }
        Ok(())
    })?;
    let mut national_ids = Vec::new();
    each_value(columns, record, PersonField::NationalId, |index, text| {
        match normalise_national_id(text) {
            Some(id) => push_once(&mut national_ids, id),
            None => unusable.push(index),
        }
        Ok(())
    })?;
    let addresses = addresses(columns, record, &countries, country.as_deref(), &mut unusable);
    let postal = crate::postal::postal_address(columns, record, &countries);
    let region = person_region(columns, record, &countries, country.as_deref());
    let derived_reference = if columns.reference_from_contact {
        let source = match (emails.first(), phones.first()) {
            (Some(email), _) => format!("email:{email}"),
            (None, Some(phone)) => format!("phone:{phone}"),
            (None, None) => {
                return Err(Error::at(
                    file,
                    Some(line),
                    None,
                    "this file has no reference column, so each person is known by their email address or \
                     phone number, and this row has neither; expected one, or a reference column (--map 'Header=ref')",
                ));
            }
        };
        Some(source)
    } else {
        None
    };
    let first_name = value(PersonField::FirstName).map(|(_, text)| text.to_owned());
    let last_name = value(PersonField::LastName).map(|(_, text)| text.to_owned());
    let name_key = match (&first_name, &last_name) {
        (Some(first), Some(last)) => by_twin(|out| custody_core::name_key_into(first, last, out)),
        _ => value(PersonField::FullName).and_then(|(_, text)| full_name_key(text)),
    };
    let (first_name, last_name) = match (first_name, last_name, value(PersonField::FullName)) {
        (None, None, Some((_, full))) => split_full_name(full),
        (first, last, _) => (first, last),
    };
    Ok(PersonRow {
        line,
        reference,
        derived_reference,
        category,
        status,
        joined_on,
        left_on,
        country,
        region,
        first_name,
        last_name,
        emails,
        phones,
        name_key,
        addresses,
        postal,
        date_of_birth,
        birthday,
        national_ids,
        deceased: has_died,
        unusable,
    })
}

/// The person's region: that of their first address in their country (home first, work last)
/// whose region custody can place.
fn person_region(
    columns: &PeopleColumns,
    record: &csv::StringRecord,
    countries: &[Option<String>],
    country: Option<&str>,
) -> Option<String> {
    let country = country?;
    let mut order: Vec<usize> = (0..columns.address_parts().len()).collect();
    order.sort_by_key(|slot| {
        let name = columns.addresses.get(*slot).map_or("", String::as_str);
        (!crate::postal::is_home(name), crate::postal::is_work(name))
    });
    order.into_iter().find_map(|slot| {
        let in_country = countries
            .get(slot)
            .and_then(Option::as_deref)
            .is_none_or(|own| own == country);
        let parts = columns.address_parts().get(slot).filter(|_| in_country)?;
        parts
            .iter()
            .filter(|(_, field)| *field == PersonField::Region)
            .find_map(|(index, _)| {
                let text = record.get(*index).map(cell)?;
                crate::regions::subdivision(country, text)
            })
    })
}

/// Whether a deceased column says the person has died: yes/true/1/y, or a date of death.
fn deceased(text: &str) -> std::result::Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "yes" | "y" | "true" | "1" | "deceased" => Ok(true),
        "no" | "n" | "false" | "0" => Ok(false),
        _ if is_blank_date(text) => Ok(false),
        _ if text.bytes().filter(u8::is_ascii_digit).count() >= 4 => Ok(true),
        _ => Err(format!(
            "deceased: {text:?} is not valid; expected yes or no, or a date of death"
        )),
    }
}

/// Whether a date of birth is a year alone or a month and year (`1969`, `12/1958`), as Raiser's
/// Edge keeps "fuzzy" dates: real, but not a date custody can match by.
fn year_only(text: &str) -> bool {
    let parts: Vec<&str> = text.trim().split(['/', '-', '.']).collect();
    let year = |part: &&str| part.len() == 4 && part.bytes().all(|b| b.is_ascii_digit());
    let month = |part: &&str| (1..=2).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit());
    match parts.as_slice() {
        [only] => year(only),
        [a, b] => (month(a) && year(b)) || (year(a) && month(b)),
        _ => false,
    }
}

/// The date of birth, or a birthday without a year when that is what the column holds; a year
/// alone, or a month and year, is counted as unusable.
fn birth<'r>(
    columns: &PeopleColumns,
    value: &dyn Fn(PersonField) -> Option<(usize, &'r str)>,
    fail: &dyn Fn(usize, String) -> Error,
    unusable: &mut Vec<usize>,
) -> Result<(Option<Day>, Option<MonthDay>)> {
    let Some((index, text)) = value(PersonField::DateOfBirth).filter(|(_, text)| !is_blank_date(text)) else {
        return Ok((None, None));
    };
    match parse_day_in(text, columns.date_order) {
        Ok(day) => Ok((Some(day), None)),
        Err(_) if year_only(text) => {
            unusable.push(index);
            Ok((None, None))
        }
        Err(error) => {
            let no_year = text.starts_with("--") || text.matches(['/', '.', '-']).count() == 1;
            if !no_year {
                return Err(fail(index, error.to_string()));
            }
            parse_month_day_in(text, columns.date_order)
                .map(|birthday| (None, Some(birthday)))
                .map_err(|error| fail(index, error.to_string()))
        }
    }
}

/// Each address's country, read from its country column (the first given, when an address has
/// a code and a name); empty when the file has no country column. A country custody cannot read
/// is counted as unusable: it is a hint for reading phones and postcodes, not worth a refusal.
fn address_countries(
    columns: &PeopleColumns,
    record: &csv::StringRecord,
    unusable: &mut Vec<usize>,
) -> Vec<Option<String>> {
    let mut countries = Vec::new();
    for (slot, parts) in columns.address_parts().iter().enumerate() {
        for (index, _) in parts.iter().filter(|(_, field)| *field == PersonField::Country) {
            let Some(text) = record.get(*index).map(cell).filter(|text| !text.is_empty()) else {
                continue;
            };
            let Ok(code) = country_code(text) else {
                unusable.push(*index);
                continue;
            };
            if countries.is_empty() {
                countries.resize(columns.addresses.len(), None);
            }
            if let Some(own) = countries.get_mut(slot) {
                own.get_or_insert(code);
            }
        }
    }
    countries
}

/// The person's country: that of their home address when the file names one (an address named
/// home, mailing, primary, or the file's only address), else the first address's that has one
/// (Outlook lists its Business address before its Home one).
fn person_country(columns: &PeopleColumns, countries: &[Option<String>]) -> Option<String> {
    let home = crate::postal::is_home;
    let first = |wanted: bool| {
        countries
            .iter()
            .zip(&columns.addresses)
            .filter(|(_, name)| home(name) == wanted)
            .find_map(|(country, _)| country.clone())
    };
    first(true).or_else(|| first(false))
}

/// The person's addresses: street lines keyed, postcodes read by the address's country (else
/// the person's), one [`AddressRow`] per address that has either.
fn addresses(
    columns: &PeopleColumns,
    record: &csv::StringRecord,
    countries: &[Option<String>],
    country: Option<&str>,
    unusable: &mut Vec<usize>,
) -> Vec<AddressRow> {
    let mut out = Vec::new();
    for (slot, parts) in columns.address_parts().iter().enumerate() {
        let own_country = countries.get(slot).and_then(Option::as_ref);
        let mut lines = Vec::new();
        let mut postcode = None;
        for (index, field) in parts {
            let Some(text) = record.get(*index).map(cell).filter(|text| !text.is_empty()) else {
                continue;
            };
            match field {
                PersonField::Street => lines.push(text),
                PersonField::Postcode if postcode.is_none() => {
                    let known = own_country.map(String::as_str).or(country);
                    match by_twin(|out| custody_core::postcode_into(text, out))
                        .filter(|code| known.is_none_or(|country| postcode_fits(code, country)))
                    {
                        Some(code) => postcode = Some(code),
                        None => unusable.push(*index),
                    }
                }
                _ => {}
            }
        }
        let address = AddressRow {
            street: address_key(&lines),
            postcode,
        };
        if address != AddressRow::default() {
            out.push(address);
        }
    }
    out
}

fn split_full_name(full: &str) -> (Option<String>, Option<String>) {
    match full.trim().rsplit_once(' ') {
        Some((first, last)) => (Some(first.trim().to_owned()), Some(last.trim().to_owned())),
        None => (Some(full.trim().to_owned()), None),
    }
}
