//! The domain of custody: people, suppliers, shares, data categories, instants, and the set
//! algebra that answers "who and what did this supplier hold at that moment".
//!
//! **Architecture invariant**: this crate does no IO and never reads the wall clock; every
//! function that depends on time takes the instant as an argument.

mod answer_settings;
mod category;
mod countries;
mod dates;
mod desk;
mod desk_settings;
mod error;
mod identity;
mod ids;
mod incident;
mod instant;
mod ledger;
mod linkage;
mod match_forms;
mod person;
mod rights;
mod settings;
mod supplier;
mod text;

pub use answer_settings::{
    AnswerSettings, DEFAULT_AUTOMATED, DEFAULT_COPY_FROM, DEFAULT_PURPOSES, DEFAULT_REGULATOR_CONTACT,
    DEFAULT_SOURCE,
};
pub use category::{CategoryKey, CategorySet, taxonomy_keys};
pub use countries::{country_alpha2, postal_country_name};
pub use dates::{
    DateEvidence, DateOrder, MonthDay, date_evidence, is_blank_date, is_iso_date, parse_day_in,
    parse_month_day_in,
};
pub use desk::{DeskRole, check_desk_name};
pub use desk_settings::{DeskSettings, LogFormat};
pub use error::{Error, Result};
pub use identity::{
    IdentifierKind, PersonFields, address_key, canonical_email, full_name_key, is_phone_region, name_key,
    normalise_email, normalise_national_id, normalise_phone, normalise_postcode, phone_match_form,
    postcode_fits,
};
pub use ids::{AccountId, EventId, IncidentId, MailId, MessageId, RequestId, ShareId, SupplierId, TokenId};
pub use incident::{Clock, ClockFacts, ClockState, Nature, REGULATOR_HOURS, clocks};
pub use instant::{Day, Instant, IsoDay, TimeZoneName, parse_day, parse_instant};
pub use ledger::{
    FeedAudience, FeedWindow, Holdings, ShareKind, ShareMeta, ShareState, holdings_from_sets,
    share_held_during, share_state_at,
};
pub use linkage::{
    LEVELS, LINK_FIELDS, Level, Levels, LinkRecord, MISSING, are_nicknames, compare, fold_first_word,
    fold_last_word, fold_name_words, name_key_spellings, one_edit_apart, soundex, soundex_code, vowel_fold,
};
pub use match_forms::{canonical_email_into, day_into, email_into, name_key_into, phone_into, postcode_into};
pub use person::{PersonCategory, PersonId, PersonRef, PersonStatus};
pub use rights::{
    Channel, MAX_EXTENSION_MONTHS, PauseReason, RequestClockState, RequestKind, days_left, is_working_day,
    next_working_day, request_clock, request_deadline, request_due, request_target,
};
pub use roaring::RoaringBitmap as PersonSet;
pub use settings::{DpoContact, Establishment, LinkageSettings, Settings, SmtpSettings};
pub use supplier::{ContactRole, SupplierName, SupplierRole, country_code, is_uk_adequate, is_uk_or_eea};
pub use text::{LONG_TEXT_CHARS_MAX, SHORT_TEXT_CHARS_MAX, check_text, spreadsheet_safe};
