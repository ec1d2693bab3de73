//! The columns of a file sent to a supplier: each one placed on a fideslang data category
//! (automatically where the header is obvious, by `--map` otherwise), and the columns that can
//! link a row to a person. A column that cannot be placed is an error that names it: custody
//! never drops a column silently, because an unrecorded column is an unrecorded disclosure.

use custody_core::{CategoryKey, CategorySet};

use crate::error::{Error, Result};
use crate::headers::fold_header;
use crate::people::{PersonField, column_name};

/// One column of a share file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareColumn {
    /// Position in the row.
    pub index: usize,
    /// Header as written.
    pub header: String,
    /// Data category sent in it; `None` when the user declared it holds no personal data.
    pub category: Option<CategoryKey>,
    /// The identifier it can link a row to a person by.
    pub link: Option<PersonField>,
}

/// The placed columns of a share file.
#[derive(Debug, Clone, Default)]
pub struct ShareColumns {
    /// Every column, in file order.
    pub columns: Vec<ShareColumn>,
}

impl ShareColumns {
    /// The data categories sent.
    pub fn categories(&self) -> CategorySet {
        self.columns.iter().filter_map(|column| column.category).collect()
    }

    /// The column that links by `field`, if any.
    pub fn link(&self, field: PersonField) -> Option<usize> {
        self.columns
            .iter()
            .find(|column| column.link == Some(field))
            .map(|column| column.index)
    }
}

/// The data category of a person field, for the fields a share file's header can name the way
/// a CRM export's does ([`crate::classify_header`]).
fn category_for_field(field: PersonField) -> Option<&'static str> {
    let key = match field {
        PersonField::Ref => "user.unique_id",
        PersonField::FirstName => "user.name.first",
        PersonField::LastName => "user.name.last",
        PersonField::FullName => "user.name",
        PersonField::Email => "user.contact.email",
        PersonField::Phone => "user.contact.phone_number",
        PersonField::Street => "user.contact.address.street",
        PersonField::Town => "user.contact.address.city",
        PersonField::Region => "user.contact.address.state",
        PersonField::Postcode => "user.contact.address.postal_code",
        PersonField::Country => "user.contact.address.country",
        PersonField::DateOfBirth => "user.demographic.date_of_birth",
        PersonField::NationalId => "user.government_id.national_identification_number",
        PersonField::Category
        | PersonField::Status
        | PersonField::JoinedOn
        | PersonField::LeftOn
        | PersonField::Deceased => return None,
    };
    Some(key)
}

/// The data category an obvious header names.
pub fn category_for_header(header: &str) -> Option<CategoryKey> {
    // In a file sent to a supplier, an account number is a bank account's (eTapestry's
    // `Account Number` is a reference only in a people import), and `Account Name` is
    // Salesforce's household or organisation name.
    match fold_header(header).as_str() {
        "accountnumber" => return CategoryKey::parse("user.financial.bank_account").ok(),
        "accountname" => return CategoryKey::parse("user.name").ok(),
        _ => {}
    }
    if let Some(key) = crate::classify_header(header).and_then(|found| category_for_field(found.field)) {
        return CategoryKey::parse(key).ok();
    }
    let key = match fold_header(header).as_str() {
        "firstname" | "forename" | "givenname" | "first" => "user.name.first",
        "lastname" | "surname" | "familyname" | "last" => "user.name.last",
        "name" | "fullname" | "title" | "salutation" => "user.name",
        "email" | "emailaddress" | "mail" => "user.contact.email",
        "phone" | "phonenumber" | "mobile" | "mobilenumber" | "telephone" | "tel" | "mobilephone"
        | "landline" => "user.contact.phone_number",
        "address" | "address1" | "address2" | "address3" | "addressline1" | "addressline2"
        | "addressline3" | "street" | "streetaddress" | "house" | "housenumber" => {
            "user.contact.address.street"
        }
        "town" | "city" | "towncity" | "posttown" => "user.contact.address.city",
        "county" | "state" | "region" => "user.contact.address.state",
        "postcode" | "zip" | "zipcode" | "postalcode" => "user.contact.address.postal_code",
        "country" | "countrycode" => "user.contact.address.country",
        "dob" | "dateofbirth" | "birthdate" | "birthday" => "user.demographic.date_of_birth",
        "age" | "agerange" | "ageband" => "user.demographic.age_range",
        "gender" | "sex" => "user.demographic.gender",
        "language" => "user.demographic.language",
        "bankaccount" | "sortcode" | "iban" | "bic" | "bankaccountname" | "bankaccountnumber" => {
            "user.financial.bank_account"
        }
        "cardnumber" | "card" | "pan" | "cardexpiry" => "user.financial.credit_card",
        "amount" | "donation" | "donationamount" | "giftamount" | "giftaid" | "lastdonation" => {
            "user.financial"
        }
        "ninumber" | "nationalinsurancenumber" | "nino" => {
            "user.government_id.national_identification_number"
        }
        "employer" | "workplace" => "user.workplace",
        "jobtitle" | "occupation" => "user.job_title",
        "ipaddress" | "ip" => "user.device.ip_address",
        "branch" | "constituency" | "ward" | "localparty" => "user.location.imprecise",
        _ => return None,
    };
    CategoryKey::parse(key).ok()
}

/// The identifier a column of this data category can link a row to a person by.
fn link_for_category(key: CategoryKey) -> Option<PersonField> {
    let field = match key.as_str() {
        "user.unique_id" => PersonField::Ref,
        "user.contact.email" => PersonField::Email,
        "user.contact.phone_number" => PersonField::Phone,
        "user.name.first" => PersonField::FirstName,
        "user.name.last" => PersonField::LastName,
        "user.name" => PersonField::FullName,
        "user.contact.address.postal_code" => PersonField::Postcode,
        "user.demographic.date_of_birth" => PersonField::DateOfBirth,
        _ => return None,
    };
    Some(field)
}

/// Places every column: `--map 'Header=key'` (or `Header=none` for a column with no personal
/// data) first, then obvious headers; any other column is an error naming it.
pub fn map_share_columns(file: &str, headers: &[String], maps: &[(String, String)]) -> Result<ShareColumns> {
    for (header, _) in maps {
        if !headers.iter().any(|candidate| candidate == header) {
            return Err(Error::at(
                file,
                Some(1),
                None,
                format!("--map names the column {header:?}, which the header row does not have"),
            ));
        }
    }
    let mut columns = ShareColumns::default();
    for (index, header) in headers.iter().enumerate() {
        let category = match maps.iter().find(|(candidate, _)| candidate == header) {
            Some((_, key)) if key.trim() == "none" => None,
            Some((_, key)) => Some(CategoryKey::parse(key).map_err(|error| {
                Error::at(file, Some(1), Some(column_name(index, header)), error.to_string())
            })?),
            None => Some(category_for_header(header).ok_or_else(|| {
                Error::at(
                    file,
                    Some(1),
                    Some(column_name(index, header)),
                    format!(
                        "custody cannot tell which data category this column holds; \
                     expected --map '{header}=KEY' with a fideslang key such as user.contact.email, \
                     or --map '{header}=none' if it holds no personal data"
                    ),
                )
            })?),
        };
        // A column the user mapped links by what it was mapped to (and not at all when mapped to
        // `none`); an obvious header links by its name.
        let mapped = maps.iter().any(|(candidate, _)| candidate == header);
        let link = if mapped {
            category.and_then(link_for_category)
        } else {
            // An obvious header links by its name, when its category says the same (a share
            // file's `Account Number` is a bank account's, not a reference to link by).
            category
                .and_then(link_for_category)
                .filter(|field| PersonField::from_header(header) == Some(*field))
        };
        columns.columns.push(ShareColumn {
            index,
            header: header.clone(),
            category,
            link,
        });
    }
    Ok(columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn obvious_columns_are_placed() {
        let columns = map_share_columns(
            "out.csv",
            &headers(&["Member No", "Email", "Post code", "Sort Code"]),
            &[],
        )
        .unwrap();
        let keys: Vec<&str> = columns
            .categories()
            .into_iter()
            .map(CategoryKey::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "user.contact.address.postal_code",
                "user.contact.email",
                "user.financial.bank_account",
                "user.unique_id"
            ]
        );
        assert_eq!(columns.link(PersonField::Ref), Some(0));
        assert_eq!(columns.link(PersonField::Email), Some(1));
    }

    #[test]
    fn an_unplaceable_column_is_named() {
        let error = map_share_columns("out.csv", &headers(&["id", "Segment"]), &[])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("column 2 (\"Segment\")") && error.contains("--map 'Segment=KEY'"),
            "{error}"
        );
        let mapped = map_share_columns(
            "out.csv",
            &headers(&["id", "Segment"]),
            &[("Segment".into(), "none".into())],
        )
        .unwrap();
        assert_eq!(mapped.categories().len(), 1);
        // A mapped column links by what it was mapped to, or not at all.
        let names = headers(&["ID", "Key", "Email"]);
        let maps = [
            ("ID".to_owned(), "none".to_owned()),
            ("Key".to_owned(), "user.unique_id".to_owned()),
        ];
        let columns = map_share_columns("out.csv", &names, &maps).unwrap();
        assert_eq!(
            columns.link(PersonField::Ref),
            Some(1),
            "the supplier's own row id is not our reference"
        );
        assert_eq!(columns.link(PersonField::Email), Some(2));
        let wrong = map_share_columns(
            "out.csv",
            &headers(&["id", "Segment"]),
            &[("Segment".into(), "user.bogus".into())],
        );
        assert!(wrong.unwrap_err().to_string().contains("data category"));
    }
}
