//! Which person field a CRM export's column holds, told from its header as CRMs write them:
//! `Email`, `E-mail 2 Address`, `PreferredEmail`, `CnBio_First_Name`, `Mobile Phone Number`,
//! `Address 1: ZIP/Postal Code`, `MailingCity`, `Home Country/Region`. Headers are folded first
//! (lower case, letters and digits only), so spacing and punctuation never matter.
//!
//! Emails and phones may come in several columns each; address parts are grouped into
//! addresses by what is left of the header once the part is taken off (`Home Street` and
//! `Home City` are one address, `Business Street` another).

use crate::people::PersonField;

/// A header lower-cased with everything but letters and digits removed ("E-mail" → "email").
pub(crate) fn fold_header(header: &str) -> String {
    header
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Headers (folded) that hold the organisation's reference for a person, as CRMs name them:
/// generic names; CiviCRM's and Salesforce's `Contact ID`; Mailchimp's `LEID`; NationBuilder's
/// `nationbuilder_id`; Action Network's `uuid`; Raiser's Edge's `CnBio_ID`, `CnBio_System_ID`
/// and `Constituent ID`; EveryAction's `VANID`; HubSpot's `Record ID`; Salsa's `supporter_KEY`
/// and `Supporter ID`; Beacon's `Beacon ID`; eTapestry's `Account Number`; Donorfy's
/// `Constituent Number`; Dynamics' `(Do Not Modify) Contact`; vCard's `UID`.
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
    "cnbiosystemid",
    "constituentid",
    "constituentnumber",
    "vanid",
    "recordid",
    "beaconid",
    "accountnumber",
    "donotmodifycontact",
    "uid",
    "voterfilevanid",
    "hsobjectid",
    "salsaclassicid",
];

/// Words that make a header about an email or a phone something other than the address or the
/// number itself (its type, a consent flag, a date): such a column is not an identifier.
const NOT_THE_VALUE: &[&str] = &[
    "type",
    "label",
    "opt",
    "consent",
    "status",
    "permission",
    "preference",
    "format",
    "verified",
    "bounce",
    "donot",
    "subscri",
    "date",
    "time",
    "count",
    "source",
    "allow",
    "valid",
    "rating",
    "client",
    "domain",
    "ext",
    "countrycode",
    "carrier",
    "sms",
    "fax",
    "flag",
    "isprimary",
    "okto",
    "noemail",
    "nophone",
    "nocall",
    "last",
    "first",
    "bad",
    "display",
    "assistant",
    "company",
    "manager",
    "spouse",
    "partner",
    "emergency",
    "parent",
    "guardian",
    "child",
    "deliverab",
    "greeting",
    "salutation",
    "addressee",
    "quarantine",
    "opened",
    "clicked",
    "marketing",
    "sent",
    "delivered",
    "replied",
    "receive",
    "invalid",
    "unsub",
    "hardbounce",
];

/// Address parts by the folded ending of a header, longest first, so `Address 1: Street 2` is a
/// street of address `address1` and `Home Country/Region` a country, not a region.
const ADDRESS_PARTS: &[(&str, PersonField)] = &[
    ("contrylongdscription", PersonField::Country),
    ("countrylongdscription", PersonField::Country),
    ("countrylongdescription", PersonField::Country),
    ("extendedaddress", PersonField::Street),
    ("postcodezipcode", PersonField::Postcode),
    ("zippostalcode", PersonField::Postcode),
    ("countryregion", PersonField::Country),
    ("streetaddress", PersonField::Street),
    ("addressline1", PersonField::Street),
    ("addressline2", PersonField::Street),
    ("addressline3", PersonField::Street),
    ("stateprovince", PersonField::Region),
    ("countrycode", PersonField::Country),
    ("countryname", PersonField::Country),
    ("stateregion", PersonField::Region),
    ("postalcode", PersonField::Postcode),
    ("ziporpostal", PersonField::Postcode),
    ("addresslines", PersonField::Street),
    ("housebuildingnumber", PersonField::Street),
    ("housenumber", PersonField::Street),
    ("housename", PersonField::Street),
    ("zippostal", PersonField::Postcode),
    ("postcodezip", PersonField::Postcode),
    ("addrline1", PersonField::Street),
    ("addrline2", PersonField::Street),
    ("addrline3", PersonField::Street),
    ("towncity", PersonField::Town),
    ("posttown", PersonField::Town),
    ("locality", PersonField::Town),
    ("province", PersonField::Region),
    ("address1", PersonField::Street),
    ("address2", PersonField::Street),
    ("address3", PersonField::Street),
    ("postcode", PersonField::Postcode),
    ("street1", PersonField::Street),
    ("street2", PersonField::Street),
    ("street3", PersonField::Street),
    ("zipcode", PersonField::Postcode),
    ("address", PersonField::Street),
    ("country", PersonField::Country),
    ("street", PersonField::Street),
    ("county", PersonField::Region),
    ("region", PersonField::Region),
    ("pobox", PersonField::Street),
    ("state", PersonField::Region),
    ("city", PersonField::Town),
    ("town", PersonField::Town),
    ("zip5", PersonField::Postcode),
    ("line1", PersonField::Street),
    ("line2", PersonField::Street),
    ("line3", PersonField::Street),
    ("zip", PersonField::Postcode),
];

/// Beginnings of an address header that make it something else (`Email Address`, `IP Address`,
/// `Web Address`, a `Country of birth`), or a part CRMs add that is not an address (`Address 1 -
/// Formatted` repeats the others, `Address 1 - Type` labels them).
const NOT_AN_ADDRESS: &[&str] = &[
    "email",
    "website",
    "webaddress",
    "url",
    "birth",
    "nationality",
    "citizenship",
    "formatted",
    "type",
    "label",
    "valid",
    "date",
    "status",
    "phone",
    "mobile",
    "ipaddress",
    "polling",
];

/// Headers (folded) holding a national identifier.
const NATIONAL_ID_HEADERS: &[&str] = &[
    "ssn",
    "socialsecuritynumber",
    "socialsecurityno",
    "ninumber",
    "nino",
    "nationalinsurancenumber",
    "nationalinsuranceno",
    "nationalid",
    "nationalidnumber",
    "nationalidentifier",
    "nationalidentitynumber",
    "taxid",
    "personnummer",
    "bsn",
    "ppsn",
    "ppsnumber",
    "governmentid",
    "governmentidnumber",
];

/// Words that make a column about someone else than the person of the row: a parent, a partner,
/// an emergency contact, the CRM user who owns the record, a referrer, an employer, a branch.
/// Their emails, phones and addresses are never read as the person's own.
const SOMEONE_ELSE: &[&str] = &[
    "parent",
    "mother",
    "father",
    "guardian",
    "spouse",
    "partner",
    "husband",
    "wife",
    "child",
    "sibling",
    "emergency",
    "nextofkin",
    "nok",
    "carer",
    "assistant",
    "manager",
    "owner",
    "referrer",
    "referredby",
    "recruiter",
    "employer",
    "company",
    "organisation",
    "organization",
    "branch",
    "doctor",
    "salesrep",
    "secretary",
    "polling",
    "billing",
];

/// Whether a folded header names someone other than the row's person.
pub(crate) fn names_someone_else(folded: &str) -> bool {
    SOMEONE_ELSE.iter().any(|word| folded.contains(word))
}

/// The positions in the folded header where a word of the header begins: after a space or
/// punctuation, at a change from lower to upper case (`MailingCity`), or between letters and
/// digits. `None` when the header is in one case with no separators (`MAILINGCITY`), which
/// tells nothing of its words.
fn word_starts(header: &str) -> Option<Vec<usize>> {
    let mut starts = Vec::new();
    let mut previous: Option<char> = None;
    let mut at = 0usize;
    let mut told = false;
    for c in header.chars() {
        if !c.is_ascii_alphanumeric() {
            previous = None;
            told |= at > 0;
            continue;
        }
        let begins = match previous {
            None => true,
            Some(before) => {
                let case = before.is_ascii_lowercase() && c.is_ascii_uppercase();
                told |= case;
                case || before.is_ascii_digit() != c.is_ascii_digit()
            }
        };
        if begins {
            starts.push(at);
        }
        previous = Some(c);
        at += 1;
    }
    told.then_some(starts)
}

/// Beginnings CRMs put before a field's usual name (`CnBio_First_Name`, `Contact First Name`,
/// `Primary Email`): taken off when the header is not known as it is.
const PREFIXES: &[&str] = &[
    "cnbio",
    "contact",
    "person",
    "primary",
    "preferred",
    "supporter",
    "member",
    "constituent",
    "main",
    "individual",
    "donor",
];

/// What a header names: the field, and for an address part the address it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderField {
    /// The field.
    pub field: PersonField,
    /// The address (`home`, `address1`, or empty for the only one) of an address part.
    pub address: Option<String>,
}

impl HeaderField {
    fn plain(field: PersonField) -> Self {
        HeaderField { field, address: None }
    }
}

/// The field a header names, if custody can tell it from the header alone.
pub fn classify_header(header: &str) -> Option<HeaderField> {
    // Salesforce names its custom fields `Date_of_Birth__c`.
    let header = header
        .strip_suffix("__c")
        .or_else(|| header.strip_suffix("__C"))
        .unwrap_or(header);
    let folded = fold_header(header);
    if folded.is_empty() {
        return None;
    }
    if let Some(field) = exact_field(&folded) {
        return Some(HeaderField::plain(field));
    }
    // `Date of Birth (DD/MM/YYYY)`: the field, then how it is written.
    if ["dateofbirth", "birthdate", "dob"]
        .iter()
        .any(|name| folded.starts_with(name))
    {
        return Some(HeaderField::plain(PersonField::DateOfBirth));
    }
    // `IsHomePhoneACellExchange`, `has_email`: a flag about the value, not the value.
    let flag = word_starts(header).is_some_and(|starts| {
        starts.get(1).is_some_and(|second| {
            ["is", "has", "can", "do", "does"].contains(&folded.get(..*second).unwrap_or(""))
                && folded
                    .as_bytes()
                    .get(*second)
                    .is_some_and(u8::is_ascii_alphabetic)
        })
    });
    if flag || names_someone_else(&folded) {
        return None;
    }
    // Only names, dates of birth and references are known by their prefixed names: a prefixed
    // `type` or `status` (CiviCRM's `Contact Type`) is something else.
    if let Some(field) = PREFIXES
        .iter()
        .filter_map(|prefix| folded.strip_prefix(prefix))
        .filter_map(exact_field)
        .find(|field| {
            matches!(
                field,
                PersonField::Ref
                    | PersonField::FirstName
                    | PersonField::LastName
                    | PersonField::FullName
                    | PersonField::DateOfBirth
                    | PersonField::Deceased
            )
        })
    {
        return Some(HeaderField::plain(field));
    }
    if NATIONAL_ID_HEADERS.contains(&folded.as_str()) {
        return Some(HeaderField::plain(PersonField::NationalId));
    }
    if folded.contains("email") || folded == "mail" {
        return value_column(&folded).then(|| HeaderField::plain(PersonField::Email));
    }
    if is_phone_header(&folded) {
        return value_column(&folded).then(|| HeaderField::plain(PersonField::Phone));
    }
    address_part(header, &folded)
}

/// Fields whose headers are known whole.
fn exact_field(folded: &str) -> Option<PersonField> {
    let field = match folded {
        folded if REFERENCE_HEADERS.contains(&folded) => PersonField::Ref,
        "firstname" | "forename" | "forenames" | "givenname" | "first" | "namefirst" | "fname" => {
            PersonField::FirstName
        }
        "lastname" | "surname" | "familyname" | "last" | "namelast" | "lname" => PersonField::LastName,
        "name" | "fullname" | "displayname" | "fn" | "namefull" => PersonField::FullName,
        "dob" | "dateofbirth" | "birthdate" | "birthday" | "bday" | "bornat" | "borndate" => {
            PersonField::DateOfBirth
        }
        "category" | "type" | "persontype" | "membershiptype" | "supportertype" => PersonField::Category,
        "status" | "membershipstatus" => PersonField::Status,
        "deceased" | "isdeceased" | "cnbiodeceased" | "deceaseddate" | "dateofdeath" => PersonField::Deceased,
        "joined" | "joinedon" | "joindate" | "datejoined" | "startdate" => PersonField::JoinedOn,
        "left" | "lefton" | "leftdate" | "dateleft" | "enddate" | "lapsedon" | "lapsedate" => {
            PersonField::LeftOn
        }
        _ => return None,
    };
    Some(field)
}

fn is_phone_header(folded: &str) -> bool {
    ["phone", "mobile", "telephone", "cellular"]
        .iter()
        .any(|word| folded.contains(word))
        || folded.starts_with("cell")
        || folded == "tel"
        || folded == "cnph101phonenumber"
}

/// Whether an email or phone header names the value itself (not its type, consent or date).
fn value_column(folded: &str) -> bool {
    !NOT_THE_VALUE.iter().any(|word| folded.contains(word))
}

/// Names of addresses that headers in one case (`MAILINGCITY`) may begin with.
const ADDRESS_NAMES: &[&str] = &[
    "",
    "home",
    "mailing",
    "postal",
    "other",
    "business",
    "work",
    "shipping",
    "primary",
    "preferred",
    "alternate",
    "alt",
    "main",
    "current",
    "previous",
    "address",
    "address1",
    "address2",
    "address3",
    "cnadrprf",
    "contact",
    "person",
    "member",
];

/// An address part: the longest known ending that begins a word of the header (`Ethnicity` does
/// not end in a city), and what comes before it as the address's name.
fn address_part(header: &str, folded: &str) -> Option<HeaderField> {
    if NOT_AN_ADDRESS.iter().any(|word| folded.contains(word)) || folded.starts_with("ip") {
        return None;
    }
    let starts = word_starts(header);
    ADDRESS_PARTS.iter().find_map(|(ending, field)| {
        let address = folded.strip_suffix(ending)?;
        let begins_a_word = match &starts {
            Some(starts) => starts.contains(&address.len()),
            None => ADDRESS_NAMES.contains(&address),
        };
        if !begins_a_word {
            return None;
        }
        // `Address (line 1)` and `Address (postal code)` are one address, as are `Home Street`
        // and `Home Address Postal Code`.
        let address = address
            .strip_suffix("address")
            .or_else(|| address.strip_suffix("addr"))
            .unwrap_or(address);
        Some(HeaderField {
            field: *field,
            address: Some(address.to_owned()),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(header: &str) -> Option<(PersonField, Option<String>)> {
        classify_header(header).map(|found| (found.field, found.address))
    }

    fn part(field: PersonField, address: &str) -> Option<(PersonField, Option<String>)> {
        Some((field, Some(address.to_owned())))
    }

    #[test]
    fn emails_and_phones_as_crms_name_them() {
        for header in [
            "Email",
            "E-mail 2 Address",
            "PreferredEmail",
            "E-mail 1 - Value",
            "Email Address",
            "email_address",
            "Work Email",
        ] {
            assert_eq!(field(header), Some((PersonField::Email, None)), "{header}");
        }
        for header in [
            "Mobile Phone Number",
            "CellPhone",
            "Cell_Phone",
            "Home Phone",
            "Phone 1 - Value",
            "can2_phone",
            "CnPh_1_01_Phone_number",
            "Business Phone",
        ] {
            assert_eq!(field(header), Some((PersonField::Phone, None)), "{header}");
        }
        for header in [
            "Email Opt In",
            "E-mail 1 - Label",
            "Phone Type",
            "CnPh_1_01_Phone_type",
            "Email Status",
            "Invalid email address",
            "Email Address Quarantined",
            "Marketing emails opened",
            "Receive_Email",
            "Business Fax",
            "Phone 1 - Type",
        ] {
            assert_eq!(field(header), None, "{header}");
        }
    }

    #[test]
    fn address_parts_are_grouped_by_address() {
        assert_eq!(field("Home Street"), part(PersonField::Street, "home"));
        assert_eq!(field("Home City"), part(PersonField::Town, "home"));
        assert_eq!(field("Home Country/Region"), part(PersonField::Country, "home"));
        assert_eq!(
            field("Address 1: ZIP/Postal Code"),
            part(PersonField::Postcode, "address1")
        );
        assert_eq!(
            field("Address 1: Street 2"),
            part(PersonField::Street, "address1")
        );
        assert_eq!(field("MailingCity"), part(PersonField::Town, "mailing"));
        assert_eq!(
            field("CnAdrPrf_ContryLongDscription"),
            part(PersonField::Country, "cnadrprf")
        );
        assert_eq!(field("Address 2"), part(PersonField::Street, ""));
        assert_eq!(field("Post Code"), part(PersonField::Postcode, ""));
        assert_eq!(field("State/Region"), part(PersonField::Region, ""));
        assert_eq!(field("Address 1 - Formatted"), None);
        assert_eq!(field("Address (postal code)"), part(PersonField::Postcode, ""));
        assert_eq!(field("Address (line 1)"), part(PersonField::Street, ""));
        assert_eq!(field("PollingAddress"), None);
        assert_eq!(field("Ethnicity"), None, "not a city");
        assert_eq!(field("Real Estate"), None);
        assert_eq!(field("MAILINGCITY"), part(PersonField::Town, "mailing"));
        assert_eq!(field("MailingStreet"), part(PersonField::Street, "mailing"));
        assert_eq!(field("zip_code"), part(PersonField::Postcode, ""));
        for header in [
            "Spouse Address",
            "Emergency Contact Postcode",
            "Branch Address",
            "Parent Email",
            "Referrer Email",
            "Owner Email",
            "Father Phone",
            "NOK Mobile",
            "Employer Email",
            "IsHomePhoneACellExchange",
            "is_mobile_bad",
        ] {
            assert_eq!(field(header), None, "{header}");
        }
        assert_eq!(field("IP Address"), None);
        assert_eq!(field("Zip"), part(PersonField::Postcode, ""));
        assert_eq!(field("Shipping Zip"), part(PersonField::Postcode, "shipping"));
        assert_eq!(field("primary_zip"), part(PersonField::Postcode, "primary"));
        assert_eq!(field("Country of birth"), None);
    }

    #[test]
    fn names_references_and_national_ids() {
        assert_eq!(field("CnBio_First_Name"), Some((PersonField::FirstName, None)));
        assert_eq!(field("Name (first)"), Some((PersonField::FirstName, None)));
        assert_eq!(field("Contact Last Name"), Some((PersonField::LastName, None)));
        assert_eq!(field("CnBio_Birth_date"), Some((PersonField::DateOfBirth, None)));
        assert_eq!(field("(Do Not Modify) Contact"), Some((PersonField::Ref, None)));
        assert_eq!(field("NI Number"), Some((PersonField::NationalId, None)));
        assert_eq!(field("SSN"), Some((PersonField::NationalId, None)));
        assert_eq!(field("Segment"), None);
        assert_eq!(
            field("Contact Type"),
            None,
            "CiviCRM's contact type is not a category"
        );
        assert_eq!(field("Email Greeting"), None);
    }
}
