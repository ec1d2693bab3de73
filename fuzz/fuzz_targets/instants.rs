//! Any text as an INSTANT, a day, a birthday, a person category, an email, a phone number, a
//! postcode, a national identifier or a street.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(zone) = custody_core::TimeZoneName::parse("Europe/London") else { return };
    let _ = custody_core::parse_instant(text, &zone);
    let _ = custody_core::parse_day(text);
    let _ = custody_core::PersonCategory::parse_loose(text);
    let _ = custody_core::PersonStatus::parse_loose(text);
    if let Some(email) = custody_core::normalise_email(text) {
        let _ = custody_core::canonical_email(&email);
    }
    let _ = custody_core::normalise_phone(text, "GB");
    let _ = custody_core::full_name_key(text);
    if let Some(postcode) = custody_core::normalise_postcode(text) {
        let _ = custody_core::postcode_fits(&postcode, "GB");
    }
    let _ = custody_core::parse_month_day_in(text, None);
    let _ = custody_core::is_blank_date(text);
    let _ = custody_core::normalise_national_id(text);
    let _ = custody_core::address_key(&[text]);
});
