//! The bodies and queries the API reads, each refused as it is read when it does not match its
//! description, and each describing itself to the OpenAPI document (`ToSchema`, `IntoParams`).
//! Bodies the pages share are turned into the pages' forms here, so both take the same path
//! through the use cases.

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::api_schema::whole;
use crate::api_schema::{
    Acts, AnswerFormats, Audiences, CategoryKeys, Channels, ContactParties, Cursor, Email, EntryKinds,
    ErasureBases, ErasureDecisions, ErasureGrounds, Given, Instant, LongText, Months, Natures, NotNotifying,
    Outcomes, PeopleGrounds, Phases, ReportFormats, RequestActions, RequestKinds, ShortText, SupplierName,
    SupplierRoles, YesNoUnknown,
};

/// The text of an optional field, as the shared forms take it.
pub(crate) fn text<T: Given>(value: Option<T>) -> Option<String> {
    value.map(Given::into_inner)
}

/// The instant of an optional field, as written.
pub(crate) fn instant(value: Option<Instant>) -> Option<String> {
    value.map(|instant| instant.0)
}

/// The word of an optional field.
pub(crate) fn word<T: Given>(value: Option<T>) -> Option<String> {
    value.map(Given::into_inner)
}

/// A list that must name one at least.
fn at_least_one<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Vec<T>, D::Error> {
    let list = Vec::<T>::deserialize(deserializer)?;
    if list.is_empty() {
        return Err(serde::de::Error::custom("give one at least"));
    }
    Ok(list)
}

/// A backlog's text: not empty, at most 20,000 characters (within the body's 512 KiB however its
/// characters are escaped).
fn csv_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let text = String::deserialize(deserializer)?;
    let count = text.chars().count();
    if count == 0 || count > 20_000 {
        return Err(serde::de::Error::custom(format!(
            "expected 1 to 20000 characters (this has {count}); send a longer backlog with `custody request import`"
        )));
    }
    Ok(text)
}

/// A timeline entry.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub kind: EntryKinds,
    pub text: LongText,
    /// With a decision: why.
    pub reason: Option<LongText>,
    pub with: Option<ContactParties>,
    /// When it happened; now when left out.
    pub at: Option<Instant>,
}

/// An act recorded as done.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActBody {
    pub act: Acts,
    /// When; now when left out.
    pub at: Option<Instant>,
    /// The regulator's reference, or the run's.
    pub reference: Option<ShortText>,
    /// Required for a report to the regulator after 72 hours (GDPR Art. 33(1)).
    pub delay_reason: Option<LongText>,
}

/// An obligation of another place recorded as met.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObligationBody {
    /// JURISDICTION:obligation as the incident lists it (IE:gdpr-regulator).
    pub obligation: ShortText,
    /// When; now when left out.
    pub at: Option<Instant>,
    pub reference: Option<ShortText>,
    /// Required for a regulator told after its deadline (GDPR Art. 33(1)).
    pub delay_reason: Option<LongText>,
}

/// The report's format, phase and regulator.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    pub format: Option<ReportFormats>,
    pub phase: Option<Phases>,
    /// true: the latest report of the phase exactly as filed, checked against its digests.
    pub as_filed: Option<bool>,
    /// Another regulator (DPC, IE, PT:CNPD, IE:gdpr-regulator): the report in its structure.
    pub regulator: Option<ShortText>,
}

/// A supplier to register.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplierBody {
    pub name: SupplierName,
    pub role: Option<SupplierRoles>,
    /// A sub-processor's processor.
    pub parent: Option<SupplierName>,
    /// Hours the contract gives the supplier to tell us of a breach.
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_u64)]
    #[serde(default, deserialize_with = "whole::optional")]
    pub notice_hours: Option<u32>,
    pub contract: Option<ShortText>,
    /// The supplier's contact for breaches: an email address.
    pub contact: Option<Email>,
}

/// The holdings question.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct At {
    /// The instant asked about; now when left out.
    pub at: Option<Instant>,
}

/// A lookup by email address (in the body, never the address).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailBody {
    pub email: Email,
}

/// An incident to open.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenBody {
    /// The supplier it happened at; left out, an incident at the organisation itself.
    pub supplier: Option<SupplierName>,
    /// When the organisation became aware: its clocks start here.
    pub aware_at: Instant,
    pub summary: LongText,
    #[schema(min_items = 1)]
    #[serde(deserialize_with = "at_least_one")]
    pub nature: Vec<Natures>,
    pub occurred_from: Option<Instant>,
    pub occurred_to: Option<Instant>,
    pub supplier_discovered_at: Option<Instant>,
    pub supplier_notified_at: Option<Instant>,
    /// Whether it was a cyber attack.
    pub cyber: Option<bool>,
}

/// What a supplier said, as recorded by a responder or answered by the supplier.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatementBody {
    pub text: LongText,
    /// When it was received; now when left out.
    pub received_at: Option<Instant>,
    #[schema(value_type = Option<i64>, minimum = 0)]
    #[serde(default, deserialize_with = "whole::optional")]
    pub claims_records: Option<u64>,
    /// Data category keys they name (fideslang, user.contact.email).
    pub claims_categories: Option<Vec<CategoryKeys>>,
    pub claims_exfiltration: Option<YesNoUnknown>,
}

/// A supplier's answer to the question on its incident.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    pub text: LongText,
    #[schema(value_type = Option<i64>, minimum = 0)]
    #[serde(default, deserialize_with = "whole::optional")]
    pub claims_records: Option<u64>,
    pub claims_categories: Option<Vec<CategoryKeys>>,
    pub claims_exfiltration: Option<YesNoUnknown>,
}

/// An assessment of the risk.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessBody {
    /// Mitigations to add, as the organisation's risk rules name them (encrypted, recovered,
    /// contained by default); those recorded before stay.
    #[serde(default)]
    pub mitigations: Vec<ShortText>,
    pub override_regulator: Option<bool>,
    pub override_people: Option<bool>,
    /// Required with an override.
    pub reason: Option<LongText>,
    /// Mitigations recorded before to remove.
    #[serde(default)]
    pub remove_mitigations: Vec<ShortText>,
    /// Whether the key was taken with encrypted data; absent keeps the previous answer.
    pub key_taken: Option<YesNoUnknown>,
    /// Ease of identification, as the organisation's risk rules name it (negligible, limited,
    /// significant or maximum by default, after ENISA 2013).
    pub identification: Option<ShortText>,
    /// Whether the breach was malicious.
    pub malicious: Option<YesNoUnknown>,
}

/// Facts learned since opening; each change is kept with its reason.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AmendBody {
    pub summary: Option<LongText>,
    pub nature: Option<Vec<Natures>>,
    pub aware_at: Option<Instant>,
    pub occurred_from: Option<Instant>,
    pub occurred_to: Option<Instant>,
    pub supplier_discovered_at: Option<Instant>,
    pub supplier_notified_at: Option<Instant>,
    pub cyber: Option<YesNoUnknown>,
    /// What was learned, and from whom.
    pub reason: LongText,
}

/// A decision not to notify, with its reasons.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    pub decision: NotNotifying,
    pub ground: Option<PeopleGrounds>,
    pub reason: LongText,
}

/// Probable links of leak evidence confirmed as the same people.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceConfirmBody {
    /// The evidence event whose probable links these are.
    #[schema(minimum = 1)]
    #[serde(deserialize_with = "whole::positive")]
    pub event: i64,
    /// The people checked; none: every link still waiting.
    #[serde(default)]
    pub references: Vec<ShortText>,
    pub reason: LongText,
}

/// A notification run.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunBody {
    pub audience: Option<Audiences>,
    /// Send again what failed before.
    pub retry_failed: Option<bool>,
}

/// A supplier's confirmation that it did what it was asked.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    pub note: Option<ShortText>,
    /// When its backups no longer hold the data.
    pub backups_until: Option<Instant>,
}

/// A request from a person to log: the person's reference or the requester's address.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogBody {
    /// The person's reference; or give email.
    pub person: Option<ShortText>,
    /// The requester's address (matched by its keyed hash, kept sealed).
    pub email: Option<Email>,
    pub kind: RequestKinds,
    pub received_at: Instant,
    pub channel: Option<Channels>,
    /// The requester's name as the request gives it.
    pub name: Option<ShortText>,
    /// With name: offers the people the request probably came from.
    pub postcode: Option<ShortText>,
    /// With name: offers the people the request probably came from.
    pub born: Option<crate::api_schema::Date>,
}

impl LogBody {
    /// The page's form with the same fields.
    pub fn into_form(self) -> crate::pages_rights::LogForm {
        crate::pages_rights::LogForm {
            person: text(self.person),
            email: self.email.map(|email| email.0),
            kind: Some(self.kind.0),
            received_at: Some(self.received_at.0),
            channel: word(self.channel),
            name: text(self.name),
            postcode: text(self.postcode),
            born: self.born.map(|date| date.0),
        }
    }
}

/// A backlog of requests as CSV text.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadBody {
    pub file_name: Option<ShortText>,
    /// received, sender or ref, kind[, channel]; longer backlogs go through `custody request import`.
    #[schema(min_length = 1, max_length = 20_000)]
    #[serde(deserialize_with = "csv_text")]
    pub csv: String,
}

impl UploadBody {
    /// The page's form with the same fields.
    pub fn into_form(self) -> crate::pages_rights::UploadForm {
        crate::pages_rights::UploadForm {
            file_name: text(self.file_name),
            csv: Some(self.csv),
        }
    }
}

/// An action on a request: `action` names it; the other fields are its own.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestActBody {
    pub action: RequestActions,
    /// identify: the person's reference.
    pub person: Option<ShortText>,
    /// identify: when identity was confirmed.
    pub identity_confirmed_at: Option<Instant>,
    /// pause, resume, confirm: when.
    pub at: Option<Instant>,
    /// pause: clarification, fee or identity (what it waits for); extend, decide, close: why.
    pub reason: Option<LongText>,
    /// pause, resume: what was asked or arrived.
    pub note: Option<LongText>,
    pub months: Option<Months>,
    pub decision: Option<ErasureDecisions>,
    pub ground: Option<ErasureGrounds>,
    pub basis: Option<ErasureBases>,
    /// decide (partial): suppliers kept, comma-separated.
    pub keep_supplier: Option<ShortText>,
    /// confirm: the supplier.
    pub supplier: Option<ShortText>,
    /// confirm (erasure): when backups no longer hold the data.
    pub backups_until: Option<Instant>,
    pub outcome: Option<Outcomes>,
}

impl RequestActBody {
    /// The page's form with the same fields.
    pub fn into_form(self) -> crate::pages_rights::ActForm {
        crate::pages_rights::ActForm {
            action: Some(self.action.0),
            person: text(self.person),
            identity_confirmed_at: instant(self.identity_confirmed_at),
            at: instant(self.at),
            reason: text(self.reason),
            note: text(self.note),
            months: word(self.months),
            decision: word(self.decision),
            ground: word(self.ground),
            basis: word(self.basis),
            keep_supplier: text(self.keep_supplier),
            supplier: text(self.supplier),
            backups_until: instant(self.backups_until),
            outcome: word(self.outcome),
        }
    }
}

/// A list's page: how many, and after which.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// At most this many (default 50, at most 500).
    #[param(minimum = 1, maximum = 500)]
    #[serde(default, deserialize_with = "whole::optional_text")]
    pub limit: Option<u16>,
    pub cursor: Option<Cursor>,
}

/// The requests' page, and whether only the overdue.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequestsQuery {
    /// At most this many (default 50, at most 500).
    #[param(minimum = 1, maximum = 500)]
    #[serde(default, deserialize_with = "whole::optional_text")]
    pub limit: Option<u16>,
    pub cursor: Option<Cursor>,
    /// true: only the requests past their due day.
    pub overdue: Option<bool>,
}

impl RequestsQuery {
    /// The page asked for.
    pub fn page(&self) -> PageQuery {
        PageQuery {
            limit: self.limit,
            cursor: self.cursor,
        }
    }
}

/// An answer's format.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    pub format: Option<AnswerFormats>,
}
