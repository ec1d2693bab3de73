//! People in a CRM export: which column holds which field, and one row read into a
//! [`PersonRow`] with every value normalised or refused with its line and column.

use custody_core::{
    DateOrder, Day, PersonCategory, PersonFields, PersonRef, PersonStatus, full_name_key, name_key,
    normalise_email, normalise_phone, normalise_postcode, parse_day_in,
};

use crate::error::{Error, Result};

/// A field custody reads from a CRM export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PersonField {
    /// The organisation's reference.
    Ref,
    /// Given name.
    FirstName,
    /// Family name.
    LastName,
    /// Whole name, when not split.
    FullName,
    /// Email address.
    Email,
    /// Phone number.
    Phone,
    /// Postcode.
    Postcode,
    /// Date of birth.
    DateOfBirth,
    /// Country (ISO 3166 alpha-2).
    Country,
    /// Person category.
    Category,
    /// Current or former.
    Status,
    /// Join date.
    JoinedOn,
    /// Leaving date.
    LeftOn,
}

impl PersonField {
    const ALL: [(PersonField, &'static str); 13] = [
        (PersonField::Ref, "ref"),
        (PersonField::FirstName, "first_name"),
        (PersonField::LastName, "last_name"),
        (PersonField::FullName, "full_name"),
        (PersonField::Email, "email"),
        (PersonField::Phone, "phone"),
        (PersonField::Postcode, "postcode"),
        (PersonField::DateOfBirth, "date_of_birth"),
        (PersonField::Country, "country"),
        (PersonField::Category, "category"),
        (PersonField::Status, "status"),
        (PersonField::JoinedOn, "joined_on"),
        (PersonField::LeftOn, "left_on"),
    ];

    /// Parses a field name as given to `--map`.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(_, name)| *name == text.trim())
            .map(|(field, _)| *field)
    }

    /// The field's name.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(field, _)| *field == self)
            .map_or("?", |(_, name)| name)
    }

    /// The field an obvious header names, if any.
    pub fn from_header(header: &str) -> Option<Self> {
        let folded = fold_header(header);
        let field = match folded.as_str() {
            folded if REFERENCE_HEADERS.contains(&folded) => PersonField::Ref,
            "firstname" | "forename" | "givenname" | "first" => PersonField::FirstName,
            "lastname" | "surname" | "familyname" | "last" => PersonField::LastName,
            "name" | "fullname" => PersonField::FullName,
            "email" | "emailaddress" | "mail" => PersonField::Email,
            "phone" | "phonenumber" | "mobile" | "mobilenumber" | "telephone" | "tel" | "mobilephone" => {
                PersonField::Phone
            }
            "postcode" | "zip" | "zipcode" | "postalcode" => PersonField::Postcode,
            "dob" | "dateofbirth" | "birthdate" | "birthday" => PersonField::DateOfBirth,
            "country" | "countrycode" => PersonField::Country,
            "category" | "type" | "persontype" | "membershiptype" | "supportertype" => PersonField::Category,
            "status" | "membershipstatus" => PersonField::Status,
            "joined" | "joinedon" | "joindate" | "datejoined" | "startdate" => PersonField::JoinedOn,
            "left" | "lefton" | "leftdate" | "dateleft" | "enddate" | "lapsedon" | "lapsedate" => {
                PersonField::LeftOn
            }
            _ => return None,
        };
        Some(field)
    }
}

/// Headers (folded) that hold the organisation's reference for a person, as CRMs name them:
/// generic names, CiviCRM's and Salesforce's `Contact ID`, Mailchimp's `LEID`, NationBuilder's
/// `nationbuilder_id`, Action Network's `uuid`, Raiser's Edge's `CnBio_ID` and `Constituent ID`,
/// EveryAction's `VANID`, HubSpot's `Record ID`, Salsa's `supporter_KEY`, Beacon's `Beacon ID`,
/// and `MemberRef`. The per-CRM research and fixtures of issue 16 will extend it.
pub(crate) const REFERENCE_HEADERS: &[&str] = &[
    "ref",
    "reference",
    "id",
    "memberid",
    "membernumber",
    "membershipnumber",
    "memberno",
    "memberref",
    "membershipref",
    "contactid",
    "supporterid",
    "supporterkey",
    "donorid",
    "personid",
    "urn",
    "leid",
    "nationbuilderid",
    "uuid",
    "cnbioid",
    "constituentid",
    "vanid",
    "recordid",
    "beaconid",
];

/// A header lower-cased with everything but letters and digits removed ("E-mail" → "email").
pub(crate) fn fold_header(header: &str) -> String {
    header
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Which column holds each field.
#[derive(Debug, Clone, Default)]
pub struct PeopleColumns {
    columns: Vec<(PersonField, usize)>,
    /// Headers custody does not keep (minimal data: they are read past, never stored).
    pub ignored: Vec<String>,
    /// The order of day and month in the file's dates, once given or proved
    /// ([`crate::decide_date_order`]); `None` refuses a date that could be either.
    pub date_order: Option<DateOrder>,
}

impl PeopleColumns {
    /// The person fields this file provides.
    pub fn fields(&self) -> PersonFields {
        let has = |field| self.index(field).is_some();
        PersonFields {
            names: has(PersonField::FirstName) || has(PersonField::LastName) || has(PersonField::FullName),
            email: has(PersonField::Email),
            phone: has(PersonField::Phone),
            postcode: has(PersonField::Postcode),
            date_of_birth: has(PersonField::DateOfBirth),
            country: has(PersonField::Country),
            status: has(PersonField::Status) || has(PersonField::LeftOn),
            joined_on: has(PersonField::JoinedOn),
            left_on: has(PersonField::LeftOn),
        }
    }

    /// The field a column fills, if any.
    pub fn field_of(&self, index: usize) -> Option<PersonField> {
        self.columns
            .iter()
            .find(|(_, candidate)| *candidate == index)
            .map(|(field, _)| *field)
    }

    /// The columns holding dates: (index, field).
    pub fn date_columns(&self) -> Vec<(usize, PersonField)> {
        self.columns
            .iter()
            .filter(|(field, _)| {
                matches!(
                    field,
                    PersonField::DateOfBirth | PersonField::JoinedOn | PersonField::LeftOn
                )
            })
            .map(|(field, index)| (*index, *field))
            .collect()
    }

    fn index(&self, field: PersonField) -> Option<usize> {
        self.columns
            .iter()
            .find(|(candidate, _)| *candidate == field)
            .map(|(_, index)| *index)
    }
}

/// Maps headers to fields: `--map 'Header=field'` first (`Header=none` leaves a column out),
/// then obvious headers. A field named
/// by two columns, a map naming a missing header or an unknown field, or no `ref` column, is an
/// error naming the file.
pub fn map_people_columns(
    file: &str,
    headers: &[String],
    maps: &[(String, String)],
) -> Result<PeopleColumns> {
    let mut columns = PeopleColumns::default();
    let mut mapped = vec![None; headers.len()];
    let mut skipped = vec![false; headers.len()];
    for (header, field_name) in maps {
        let none = field_name.trim() == "none";
        let field = PersonField::parse(field_name).or(none.then_some(PersonField::Ref));
        let field = field.ok_or_else(|| {
            Error::at(file, None, None, format!(
                "--map {header}={field_name}: unknown field {field_name:?}; expected one of ref, first_name, last_name, \
                 full_name, email, phone, postcode, date_of_birth, country, category, status, joined_on, left_on, \
                 or none to leave the column out"
            ))
        })?;
        let index = headers
            .iter()
            .position(|candidate| candidate == header)
            .ok_or_else(|| {
                Error::at(
                    file,
                    Some(1),
                    None,
                    format!("--map names the column {header:?}, which the header row does not have"),
                )
            })?;
        if none {
            if let Some(slot) = skipped.get_mut(index) {
                *slot = true;
            }
        } else if let Some(slot) = mapped.get_mut(index) {
            *slot = Some(field);
        }
    }
    for (index, header) in headers.iter().enumerate() {
        if skipped.get(index).copied().unwrap_or(false) {
            columns.ignored.push(header.clone());
            continue;
        }
        let field = match mapped.get(index).copied().flatten() {
            Some(field) => Some(field),
            None => PersonField::from_header(header),
        };
        match field {
            Some(field) if columns.index(field).is_some() => {
                return Err(Error::at(
                    file,
                    Some(1),
                    Some(column_name(index, header)),
                    format!(
                        "a second column for {}; map one of them to another field with --map",
                        field.as_str()
                    ),
                ));
            }
            Some(field) => columns.columns.push((field, index)),
            None => columns.ignored.push(header.clone()),
        }
    }
    if columns.index(PersonField::Ref).is_none() {
        return Err(Error::at(
            file,
            Some(1),
            None,
            "no column holds the person's reference; expected a header such as \
             `id`, `member number` or `contact id`, or --map 'Header=ref'",
        ));
    }
    Ok(columns)
}

pub(crate) fn column_name(index: usize, header: &str) -> String {
    format!("{} ({header:?})", index + 1)
}

/// One person as read from a row, every value normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRow {
    /// Line in the file.
    pub line: u64,
    /// The organisation's reference.
    pub reference: PersonRef,
    /// Category.
    pub category: PersonCategory,
    /// Status.
    pub status: PersonStatus,
    /// Join date.
    pub joined_on: Option<Day>,
    /// Leaving date.
    pub left_on: Option<Day>,
    /// Country, ISO 3166 alpha-2, upper case.
    pub country: Option<String>,
    /// Given name as written (kept sealed, to address the notice).
    pub first_name: Option<String>,
    /// Family name as written (kept sealed).
    pub last_name: Option<String>,
    /// Email, normalised.
    pub email: Option<String>,
    /// Phone in E.164.
    pub phone: Option<String>,
    /// A phone value that was given but is not a valid number (reported, not kept).
    pub phone_unusable: bool,
    /// Name key (first word of given name, last word of family name).
    pub name_key: Option<String>,
    /// Postcode, normalised (used for a hash only).
    pub postcode: Option<String>,
    /// Date of birth (used for a hash only).
    pub date_of_birth: Option<Day>,
}

/// Reads one row. `default_category` applies when no column gives one.
pub fn parse_person_row(
    file: &str,
    headers: &[String],
    columns: &PeopleColumns,
    record: &csv::StringRecord,
    line: u64,
    default_category: Option<PersonCategory>,
    phone_region: &str,
) -> Result<PersonRow> {
    let value = |field: PersonField| -> Option<(usize, &str)> {
        let index = columns.index(field)?;
        let text = record.get(index)?.trim();
        (!text.is_empty()).then_some((index, text))
    };
    let fail = |index: usize, message: String| {
        let header = headers.get(index).map_or("", String::as_str);
        Error::at(file, Some(line), Some(column_name(index, header)), message)
    };
    let reference = match value(PersonField::Ref) {
        Some((index, text)) => PersonRef::parse(text).map_err(|error| fail(index, error.to_string()))?,
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
            .map(|(index, text)| {
                parse_day_in(text, columns.date_order).map_err(|error| fail(index, error.to_string()))
            })
            .transpose()
    };
    let joined_on = day(PersonField::JoinedOn)?;
    let left_on = day(PersonField::LeftOn)?;
    let date_of_birth = day(PersonField::DateOfBirth)?;
    let status = match value(PersonField::Status) {
        Some((index, text)) => {
            PersonStatus::parse_loose(text).map_err(|error| fail(index, error.to_string()))?
        }
        None if left_on.is_some() => PersonStatus::Former,
        None => PersonStatus::Current,
    };
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
    let email = value(PersonField::Email)
        .map(|(index, text)| {
            normalise_email(text)
                .ok_or_else(|| fail(index, "expected an email address such as name@example.org".into()))
        })
        .transpose()?;
    let country = value(PersonField::Country)
        .map(|(index, text)| custody_core::country_code(text).map_err(|error| fail(index, error.to_string())))
        .transpose()?;
    let phone_text = value(PersonField::Phone).map(|(_, text)| text);
    let phone = phone_text.and_then(|text| normalise_phone(text, phone_region));
    let first_name = value(PersonField::FirstName).map(|(_, text)| text.to_owned());
    let last_name = value(PersonField::LastName).map(|(_, text)| text.to_owned());
    let name_key = match (&first_name, &last_name) {
        (Some(first), Some(last)) => name_key(first, last),
        _ => value(PersonField::FullName).and_then(|(_, text)| full_name_key(text)),
    };
    let (first_name, last_name) = match (first_name, last_name, value(PersonField::FullName)) {
        (None, None, Some((_, full))) => split_full_name(full),
        (first, last, _) => (first, last),
    };
    Ok(PersonRow {
        line,
        reference,
        category,
        status,
        joined_on,
        left_on,
        country,
        first_name,
        last_name,
        email,
        phone_unusable: phone_text.is_some() && phone.is_none(),
        phone,
        name_key,
        postcode: value(PersonField::Postcode).and_then(|(_, text)| normalise_postcode(text)),
        date_of_birth,
    })
}

fn split_full_name(full: &str) -> (Option<String>, Option<String>) {
    match full.trim().rsplit_once(' ') {
        Some((first, last)) => (Some(first.trim().to_owned()), Some(last.trim().to_owned())),
        None => (Some(full.trim().to_owned()), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn obvious_headers_map_themselves() {
        let headers = headers(&[
            "Member Number",
            "Forename",
            "Surname",
            "E-mail",
            "Mobile",
            "Post Code",
            "DOB",
            "Branch",
        ]);
        let columns = map_people_columns("crm.csv", &headers, &[]).unwrap();
        assert_eq!(columns.index(PersonField::Ref), Some(0));
        assert_eq!(columns.index(PersonField::Email), Some(3));
        assert_eq!(columns.index(PersonField::DateOfBirth), Some(6));
        assert_eq!(columns.ignored, vec!["Branch".to_owned()]);
    }

    #[test]
    fn crms_names_for_the_reference_are_known() {
        for name in [
            "LEID",
            "uuid",
            "CnBio_ID",
            "nationbuilder_id",
            "MemberRef",
            "VANID",
            "Record ID",
        ] {
            let headers = headers(&[name, "Email Address"]);
            let columns = map_people_columns("crm.csv", &headers, &[]).unwrap();
            assert_eq!(columns.index(PersonField::Ref), Some(0), "{name}");
            assert_eq!(
                crate::category_for_header(name).map(|key| key.as_str()),
                Some("user.unique_id"),
                "{name}"
            );
        }
    }

    #[test]
    fn a_second_phone_column_can_be_left_out() {
        let headers = headers(&["Contact ID", "Mobile", "Home Phone", "Telephone"]);
        let error = map_people_columns("crm.csv", &headers, &[])
            .unwrap_err()
            .to_string();
        assert!(error.contains("a second column for phone"), "{error}");
        let maps = [("Telephone".to_owned(), "none".to_owned())];
        let columns = map_people_columns("crm.csv", &headers, &maps).unwrap();
        assert_eq!(columns.index(PersonField::Phone), Some(1));
        assert_eq!(
            columns.ignored,
            vec!["Home Phone".to_owned(), "Telephone".to_owned()]
        );
        let error = map_people_columns("crm.csv", &headers, &[("Mobile".into(), "fax".into())])
            .unwrap_err()
            .to_string();
        assert!(error.contains("or none to leave the column out"), "{error}");
    }

    #[test]
    fn maps_override_and_errors_name_the_problem() {
        let headers = headers(&["Key", "Addr"]);
        let columns = map_people_columns(
            "crm.csv",
            &headers,
            &[("Key".into(), "ref".into()), ("Addr".into(), "email".into())],
        )
        .unwrap();
        assert_eq!(columns.index(PersonField::Email), Some(1));
        let missing = map_people_columns("crm.csv", &headers, &[])
            .unwrap_err()
            .to_string();
        assert!(
            missing.contains("no column holds the person's reference"),
            "{missing}"
        );
        let unknown =
            map_people_columns("crm.csv", &headers, &[("Key".into(), "nickname".into())]).unwrap_err();
        assert!(
            unknown.to_string().contains("unknown field \"nickname\""),
            "{unknown}"
        );
    }

    #[test]
    fn rows_are_normalised_or_refused_with_line_and_column() {
        let headers = headers(&[
            "id",
            "first name",
            "last name",
            "email",
            "status",
            "left on",
            "category",
        ]);
        let mut columns = map_people_columns("crm.csv", &headers, &[]).unwrap();
        // As `decide_date_order` settles it for a day-first file.
        columns.date_order = Some(DateOrder::Dmy);
        let record = csv::StringRecord::from(vec![
            "M1",
            "Zoë",
            "Smith",
            "Zoe@Example.org",
            "Lapsed",
            "01/02/2020",
            "Member",
        ]);
        let row = parse_person_row("crm.csv", &headers, &columns, &record, 7, None, "GB").unwrap();
        assert_eq!(row.email.as_deref(), Some("zoe@example.org"));
        assert_eq!(row.status, PersonStatus::Former);
        assert_eq!(row.left_on.map(Day::to_iso).as_deref(), Some("2020-02-01"));
        assert_eq!(row.name_key.as_deref(), Some("zoe|smith"));
        let bad = csv::StringRecord::from(vec![
            "M2",
            "A",
            "B",
            "a@example.org",
            "current",
            "31/02/2020",
            "member",
        ]);
        let error = parse_person_row("crm.csv", &headers, &columns, &bad, 8, None, "GB")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("crm.csv, line 8, column 6 (\"left on\")"),
            "{error}"
        );
    }
}
