//! What leaked files call the fields a person is linked by, in the languages of Europe. Names
//! are folded first (`Prénom` → `prenom`, `Imię` → `imie`, `E-Mail` → `email`). The words come
//! from the forms and exports of each language's common systems (the field labels of
//! WooCommerce, Shopify, Magento, PrestaShop, WordPress and Moodle translations, and national
//! address standards: `PLZ`, `code postal`, `CAP`, `CEP`, `kod pocztowy`).

use super::roles::Role;

/// Folds a column name as the vocabulary below is written: transliterated to ASCII,
/// lower-cased, letters and digits only.
pub(crate) fn fold(name: &str) -> String {
    let ascii = if name.is_ascii() {
        std::borrow::Cow::Borrowed(name)
    } else {
        std::borrow::Cow::Owned(deunicode::deunicode(name))
    };
    ascii
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Given names: English, German, French, Spanish, Italian, Dutch, Portuguese, Polish, Welsh.
const FIRST: &[&str] = &[
    "firstname",
    "forename",
    "forenames",
    "givenname",
    "givennames",
    "first",
    "fname",
    "firstnames",
    "christianname",
    "vorname",
    "vornamen",
    "rufname",
    "prenom",
    "prenoms",
    "nombre",
    "nombres",
    "primernombre",
    "nome",
    "nomedibattesimo",
    "voornaam",
    "voornamen",
    "roepnaam",
    "primeironome",
    "prenome",
    "imie",
    "imiona",
    "pierwszeimie",
    "enwcyntaf",
    "enwbedydd",
    "forname",
];

/// Family names, in the same languages.
const LAST: &[&str] = &[
    "lastname",
    "surname",
    "familyname",
    "last",
    "lname",
    "nachname",
    "familienname",
    "zuname",
    "nom",
    "nomdefamille",
    "nomdenaissance",
    "apellido",
    "apellidos",
    "primerapellido",
    "cognome",
    "achternaam",
    "familienaam",
    "geslachtsnaam",
    "sobrenome",
    "apelido",
    "ultimonome",
    "nazwisko",
    "cyfenw",
    "surnames",
];

/// Whole names.
const FULL: &[&str] = &[
    "name",
    "fullname",
    "displayname",
    "realname",
    "names",
    "vollstandigername",
    "vollername",
    "nomcomplet",
    "nometprenom",
    "prenometnom",
    "nombrecompleto",
    "nombreyapellidos",
    "nomecompleto",
    "nomeecognome",
    "volledigenaam",
    "naam",
    "imieinazwisko",
    "enw",
    "enwllawn",
    "nominativo",
];

/// Email addresses.
const EMAIL: &[&str] = &[
    "email",
    "emailaddress",
    "mail",
    "emails",
    "emailaddr",
    "useremail",
    "eml",
    "mailadresse",
    "emailadresse",
    "courriel",
    "adressemail",
    "adresseemail",
    "adressecourriel",
    "correo",
    "correoelectronico",
    "direcciondecorreo",
    "postaelettronica",
    "indirizzoemail",
    "emailadres",
    "mailadres",
    "enderecodeemail",
    "enderecoeletronico",
    "adresemail",
    "ebost",
    "cyfeiriadebost",
];

/// Phone numbers.
const PHONE: &[&str] = &[
    "phone",
    "phonenumber",
    "mobile",
    "mobilenumber",
    "telephone",
    "tel",
    "mobilephone",
    "cell",
    "cellphone",
    "msisdn",
    "phones",
    "landline",
    "phoneno",
    "telefon",
    "telefonnummer",
    "handy",
    "handynummer",
    "mobil",
    "mobiltelefon",
    "mobilnummer",
    "portable",
    "telefono",
    "movil",
    "celular",
    "numerodetelefono",
    "cellulare",
    "numeroditelefono",
    "telefoonnummer",
    "mobiel",
    "mobielnummer",
    "telemovel",
    "telefone",
    "telefonkomorkowy",
    "numertelefonu",
    "komorka",
    "ffon",
    "rhifffon",
    "ffonsymudol",
    "symudol",
];

/// Postcodes.
const POSTCODE: &[&str] = &[
    "postcode",
    "zip",
    "zipcode",
    "postalcode",
    "postcodes",
    "plz",
    "postleitzahl",
    "codepostal",
    "cp",
    "codigopostal",
    "cap",
    "codiceavviamentopostale",
    "codicepostale",
    "cep",
    "kodpocztowy",
    "codpost",
    "postnummer",
    "postnr",
];

/// Dates of birth.
const BIRTH: &[&str] = &[
    "dob",
    "dateofbirth",
    "birthdate",
    "birthday",
    "bday",
    "born",
    "geburtsdatum",
    "geburtstag",
    "gebdatum",
    "geboren",
    "datedenaissance",
    "datenaissance",
    "naissance",
    "fechadenacimiento",
    "fechanacimiento",
    "nacimiento",
    "datadinascita",
    "nascita",
    "geboortedatum",
    "geboren",
    "datadenascimento",
    "datanascimento",
    "nascimento",
    "dataurodzenia",
    "urodzony",
    "dyddiadgeni",
    "birth",
];

/// The role a folded name says, if it says one.
pub(crate) fn role_of(folded: &str) -> Option<Role> {
    [
        (EMAIL, Role::Email),
        (PHONE, Role::Phone),
        (FIRST, Role::FirstName),
        (LAST, Role::LastName),
        (FULL, Role::FullName),
        (POSTCODE, Role::Postcode),
        (BIRTH, Role::DateOfBirth),
    ]
    .into_iter()
    .find(|(words, _)| words.contains(&folded))
    .map(|(_, role)| role)
}

/// Parts of a nested path (`name.given`, `person.name.family`) whose own name is too general to
/// say a role alone: read with the part before them.
pub(crate) fn in_context(parent: &str, last: &str) -> Option<Role> {
    let parent = fold(parent);
    let last = fold(last);
    let names = matches!(
        parent.as_str(),
        "name" | "names" | "fullname" | "personname" | "nom" | "nombre" | "naam"
    );
    let birth = role_of(&parent) == Some(Role::DateOfBirth);
    match last.as_str() {
        "given" | "first" | "firstname" | "forename" | "givenname" if names => Some(Role::FirstName),
        "family" | "last" | "lastname" | "surname" | "familyname" if names => Some(Role::LastName),
        "full" | "formatted" | "display" | "text" | "value" if names => Some(Role::FullName),
        "date" | "value" | "iso" if birth => Some(Role::DateOfBirth),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_languages_of_europe() {
        for (name, role) in [
            ("Vorname", Role::FirstName),
            ("Nachname", Role::LastName),
            ("Prénom", Role::FirstName),
            ("Nom de famille", Role::LastName),
            ("Apellidos", Role::LastName),
            ("Cognome", Role::LastName),
            ("Achternaam", Role::LastName),
            ("Imię", Role::FirstName),
            ("Nazwisko", Role::LastName),
            ("Cyfenw", Role::LastName),
            ("E-Mail-Adresse", Role::Email),
            ("Courriel", Role::Email),
            ("Correo electrónico", Role::Email),
            ("Telefonnummer", Role::Phone),
            ("Teléfono", Role::Phone),
            ("Rhif ffôn", Role::Phone),
            ("PLZ", Role::Postcode),
            ("Code postal", Role::Postcode),
            ("Kod pocztowy", Role::Postcode),
            ("Geburtsdatum", Role::DateOfBirth),
            ("Date de naissance", Role::DateOfBirth),
            ("Data di nascita", Role::DateOfBirth),
            ("Data urodzenia", Role::DateOfBirth),
            ("Dyddiad geni", Role::DateOfBirth),
        ] {
            assert_eq!(role_of(&fold(name)), Some(role), "{name}");
        }
        assert_eq!(role_of(&fold("Stadt")), None);
    }

    #[test]
    fn nested_parts_read_with_their_parent() {
        assert_eq!(in_context("name", "given"), Some(Role::FirstName));
        assert_eq!(in_context("name", "family"), Some(Role::LastName));
        assert_eq!(in_context("dob", "date"), Some(Role::DateOfBirth));
        assert_eq!(in_context("address", "given"), None);
    }
}
