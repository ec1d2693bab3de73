//! What a column of a leaked file holds: the identifier it can match a person by (its role) and
//! its data category, from its name, and where the name says nothing, from its values' shape.

use std::collections::HashMap;

use custody_core::{CategoryKey, normalise_email};

use super::names;
use super::values::leak_day;
use crate::columns::category_for_header;

/// The identifier a column holds, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Nothing custody matches by (emails inside it are still found).
    Other,
    /// An email address.
    Email,
    /// A phone number.
    Phone,
    /// A given name.
    FirstName,
    /// A family name.
    LastName,
    /// A full name.
    FullName,
    /// A postcode.
    Postcode,
    /// A date of birth.
    DateOfBirth,
}

impl Role {
    /// The data category a column of this role holds.
    fn category(self) -> Option<&'static str> {
        Some(match self {
            Role::Other => return None,
            Role::Email => "user.contact.email",
            Role::Phone => "user.contact.phone_number",
            Role::FirstName => "user.name.first",
            Role::LastName => "user.name.last",
            Role::FullName => "user.name",
            Role::Postcode => "user.contact.address.postal_code",
            Role::DateOfBirth => "user.demographic.date_of_birth",
        })
    }
}

/// Words leaked schemas put before a field name (`user_email`, `customer_first_name`).
const PREFIXES: [&str; 8] = [
    "user", "member", "customer", "contact", "account", "client", "primary", "billing",
];

/// The role and category a column name says, if it says one.
pub(crate) fn by_name(name: &str) -> (Role, Option<CategoryKey>) {
    // A JSON path or an SQL name: the last part names the field, unless it is an extended JSON
    // type (`dob.$date`, `born.$date.$numberLong`) or too general alone (`name.given`).
    let parts: Vec<&str> = name
        .split(['.', '/'])
        .map(|part| part.trim_end_matches("[]"))
        .filter(|part| !part.is_empty() && !part.starts_with('$'))
        .collect();
    let last = parts.last().copied().unwrap_or(name);
    if let [.., parent, last] = parts.as_slice()
        && let Some(role) = names::in_context(parent, last)
    {
        return (role, role_category(role));
    }
    let folded = names::fold(last);
    let mut candidates = vec![folded.clone()];
    for prefix in PREFIXES {
        if let Some(rest) = folded.strip_prefix(prefix).filter(|rest| rest.len() >= 2) {
            candidates.push(rest.to_owned());
        }
    }
    for candidate in &candidates {
        if let Some(found) = known(candidate) {
            return found;
        }
    }
    (Role::Other, None)
}

fn known(folded: &str) -> Option<(Role, Option<CategoryKey>)> {
    match names::role_of(folded) {
        Some(role) => Some((role, role_category(role))),
        None => known_category(folded).map(|key| (Role::Other, Some(key))),
    }
}

fn known_category(folded: &str) -> Option<CategoryKey> {
    let key = match folded {
        "password" | "pass" | "passwd" | "pwd" | "passwordhash" | "hash" | "pwhash" | "passhash" | "salt" => {
            "user.authorization.credentials"
        }
        "username" | "user" | "login" | "nick" | "nickname" | "handle" | "screenname" => {
            "user.account.username"
        }
        "ip" | "ipaddress" | "lastip" | "regip" | "ipaddr" | "signupip" => "user.device.ip_address",
        _ => return category_for_header(folded),
    };
    CategoryKey::parse(key).ok()
}

/// The role a column's sample values suggest, when its name says nothing. `headerless` allows
/// names and dates of birth to be guessed: a file with a header names its columns, and there a
/// column of dates is more likely when an account was made than when its owner was born.
pub(crate) fn by_shape(values: &[&str], headerless: bool) -> Role {
    let values: Vec<&str> = values
        .iter()
        .map(|value| value.trim())
        .filter(|value| !value.is_empty())
        .collect();
    if values.len() < 3 {
        return Role::Other;
    }
    let share = |test: &dyn Fn(&str) -> bool| {
        values.iter().filter(|value| test(value)).count() * 10 >= values.len() * 8
    };
    if share(&|value| normalise_email(value).is_some()) {
        return Role::Email;
    }
    if share(&looks_like_phone) {
        return Role::Phone;
    }
    if share(&looks_like_uk_postcode) {
        return Role::Postcode;
    }
    if !headerless {
        return Role::Other;
    }
    // Numbers alone are ids more often than dates since 1970: only a date column's name says so.
    let written_date = |value: &str| {
        !value
            .trim_start_matches('-')
            .bytes()
            .all(|byte| byte.is_ascii_digit())
    };
    if share(&|value| {
        written_date(value) && leak_day(value).is_some_and(|day| (1900..=2012).contains(&day.date().year()))
    }) {
        return Role::DateOfBirth;
    }
    {
        if share(&|value| is_name_word(value)) {
            return Role::FirstName;
        }
        if share(&|value| {
            let words: Vec<&str> = value.split_whitespace().collect();
            (2..=4).contains(&words.len()) && words.iter().all(|word| is_name_word(word))
        }) {
            return Role::FullName;
        }
    }
    Role::Other
}

/// Assigns roles to columns by shape: `samples` maps a column to its first values. Two adjacent
/// name-word columns are a given name then a family name.
pub(crate) fn shape_roles(samples: &HashMap<u32, Vec<String>>, headerless: bool) -> HashMap<u32, Role> {
    let mut ids: Vec<u32> = samples.keys().copied().collect();
    ids.sort_unstable();
    let mut roles = HashMap::new();
    let mut previous_first: Option<u32> = None;
    for id in ids {
        let values: Vec<&str> = samples
            .get(&id)
            .map(|values| values.iter().map(String::as_str).collect())
            .unwrap_or_default();
        let mut role = by_shape(&values, headerless);
        if role == Role::FirstName && previous_first.is_some_and(|first| first + 1 == id) {
            role = Role::LastName;
        }
        previous_first = (role == Role::FirstName).then_some(id);
        if role != Role::Other {
            roles.insert(id, role);
        }
    }
    // A lone name word is not enough to be a given name.
    let firsts: Vec<u32> = roles
        .iter()
        .filter(|(_, role)| **role == Role::FirstName)
        .map(|(id, _)| *id)
        .collect();
    for id in firsts {
        if roles.get(&(id + 1)).is_none_or(|role| *role != Role::LastName) {
            roles.remove(&id);
        }
    }
    roles
}

/// The data category of a role.
pub(crate) fn role_category(role: Role) -> Option<CategoryKey> {
    role.category().and_then(|key| CategoryKey::parse(key).ok())
}

fn is_name_word(value: &str) -> bool {
    let mut chars = value.chars();
    chars.next().is_some_and(char::is_uppercase)
        && value.chars().count() >= 2
        && value.chars().all(|c| c.is_alphabetic() || c == '-' || c == '\'')
}

/// Digits, spaces and phone punctuation, with 9 to 15 digits, written as people write phone
/// numbers: with a `+`, a leading `0`, or separators. A bare run of digits is more often an id
/// or a timestamp (`1614556800` would read as a Manchester number).
pub(crate) fn looks_like_phone(value: &str) -> bool {
    let digits = value.bytes().filter(u8::is_ascii_digit).count();
    let written_as_phone = value.starts_with(['+', '0', '(']) || value.contains([' ', '-']);
    // A minus sign first is a negative number: a date before 1970 in milliseconds.
    if value.starts_with('-') {
        return false;
    }
    (9..=15).contains(&digits)
        && written_as_phone
        && value
            .bytes()
            .all(|byte| byte.is_ascii_digit() || b" +-().".contains(&byte))
        && !value.contains("--")
        && leak_day(value).is_none()
}

/// A UK postcode: `A9 9AA`, `A99 9AA`, `AA9 9AA`, `AA99 9AA`, `A9A 9AA`, `AA9A 9AA`.
pub(crate) fn looks_like_uk_postcode(value: &str) -> bool {
    let compact: Vec<u8> = value
        .bytes()
        .filter(|byte| *byte != b' ')
        .map(|byte| byte.to_ascii_uppercase())
        .collect();
    if !(5..=7).contains(&compact.len()) {
        return false;
    }
    let (outward, inward) = compact.split_at(compact.len() - 3);
    let inward_ok = matches!(inward, [digit, a, b] if digit.is_ascii_digit() && a.is_ascii_uppercase() && b.is_ascii_uppercase());
    let outward_ok = outward.first().is_some_and(u8::is_ascii_uppercase)
        && outward.iter().any(u8::is_ascii_digit)
        && outward.iter().all(u8::is_ascii_alphanumeric);
    inward_ok && outward_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_say_roles_and_categories() {
        assert_eq!(by_name("E-mail").0, Role::Email);
        assert_eq!(by_name("user_email").0, Role::Email);
        assert_eq!(by_name("customer.contact.phone").0, Role::Phone);
        assert_eq!(by_name("profile.first_name").0, Role::FirstName);
        assert_eq!(by_name("emails[]").0, Role::Email);
        let (role, category) = by_name("password_hash");
        assert_eq!(role, Role::Other);
        assert_eq!(
            category.map(CategoryKey::as_str),
            Some("user.authorization.credentials")
        );
        assert_eq!(by_name("favourite_colour"), (Role::Other, None));
    }

    #[test]
    fn shapes_say_roles() {
        assert_eq!(
            by_shape(&["a@example.org", "B@Example.org ", "c@x.org"], false),
            Role::Email
        );
        assert_eq!(
            by_shape(&["0113 496 0000", "+44 20 7946 0123", "07912345678"], false),
            Role::Phone
        );
        assert_eq!(
            by_shape(&["SW1A 1AA", "ls1 4ap", "M1 1AE"], false),
            Role::Postcode
        );
        assert_eq!(
            by_shape(&["1980-02-03", "03/04/1975", "12.12.1990"], true),
            Role::DateOfBirth
        );
        assert_eq!(
            by_shape(&["1980-02-03", "03/04/1975", "12.12.1990"], false),
            Role::Other
        );
        assert_eq!(
            by_shape(&["1614556800", "1614556801", "1614556802"], true),
            Role::Other
        );
        assert_eq!(
            by_shape(&["2024-02-03", "2023-04-01", "2025-12-12"], false),
            Role::Other
        );
        assert_eq!(by_shape(&["Alex", "Sam", "Jo"], false), Role::Other);
        assert_eq!(by_shape(&["Alex", "Sam", "Jo"], true), Role::FirstName);
        assert_eq!(by_shape(&["12", "13", "14"], true), Role::Other);
    }
}
