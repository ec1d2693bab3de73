//! Values that go into and come out of the store.

use custody_core::{
    AccountId, ContactRole, Day, EventId, IdentifierKind, IncidentId, Instant, MailId, MessageId,
    PersonCategory, PersonId, PersonStatus, RequestId, ShareId, ShareMeta, SupplierId, SupplierRole, TokenId,
};
use serde::Serialize;

/// A person to insert or update, already normalised, sealed and hashed.
#[derive(Debug, Clone)]
pub struct NewPerson {
    /// Line of the source file (for error messages).
    pub line: u64,
    /// The organisation's reference.
    pub reference: String,
    /// Category.
    pub category: PersonCategory,
    /// Status.
    pub status: PersonStatus,
    /// Join date.
    pub joined_on: Option<Day>,
    /// Leaving date.
    pub left_on: Option<Day>,
    /// ISO 3166 alpha-2 country.
    pub country: Option<String>,
    /// ISO 3166-2 region, where the country's laws are by region.
    pub region: Option<String>,
    /// Sealed contact details.
    pub contact: Option<Vec<u8>>,
    /// A keyed hash of the contact details before sealing: equal digests mean unchanged details,
    /// so a re-import need not rewrite them.
    pub contact_digest: Option<[u8; 16]>,
    /// Keyed hashes of identifiers.
    pub identifiers: Vec<(IdentifierKind, [u8; 16])>,
    /// The fields the source provided: an update keeps the stored values of the others.
    pub fields: custody_core::PersonFields,
    /// A keyed digest of the source row and the way it was read, kept so that the same row
    /// read the same way is known unchanged without being read again (`None` for a row with
    /// something to report, which is always read in full, and for people not from a file).
    pub source_digest: Option<[u8; 16]>,
}

/// The state of the people a re-import's source digests were read at: the identifiers
/// generation then (`None` when the store had none). A row found unchanged is unchanged against
/// that state, so the import is refused if another one changed the people since.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadAt(pub Option<String>);

/// Every person's source digest, sorted by digest, and the state they were read at.
#[derive(Debug, Clone, Default)]
pub struct HeldDigests {
    /// The state they were read at.
    pub at: ReadAt,
    /// The digests, each with its person.
    pub digests: Vec<([u8; 16], PersonId)>,
}

/// A row of an import, for the store.
#[derive(Debug, Clone)]
pub enum ImportRow {
    /// A person to insert or update.
    Person(NewPerson),
    /// A row the store already holds exactly as read (its source digest was found): nothing to
    /// write, but it still counts once in the import, so the same person twice is refused.
    Unchanged {
        /// Line of the source file.
        line: u64,
        /// The person the digest belongs to.
        person: PersonId,
    },
}

impl NewPerson {
    /// The identifier hashes packed as stored: kind tag then 16 bytes, per identifier.
    pub fn packed_identifiers(&self) -> Vec<u8> {
        let mut packed = Vec::with_capacity(self.identifiers.len() * 17);
        self.pack_identifiers_into(&mut packed);
        packed
    }

    /// [`NewPerson::packed_identifiers`] into `packed`, emptied first (a bulk write reuses one).
    pub fn pack_identifiers_into(&self, packed: &mut Vec<u8>) {
        packed.clear();
        for (kind, hash) in &self.identifiers {
            packed.push(kind.tag());
            packed.extend_from_slice(hash);
        }
    }
}

/// A person as stored.
#[derive(Debug, Clone)]
pub struct PersonRecord {
    /// Internal id.
    pub id: PersonId,
    /// The organisation's reference.
    pub reference: String,
    /// Category.
    pub category: PersonCategory,
    /// Status.
    pub status: PersonStatus,
    /// Join date.
    pub joined_on: Option<Day>,
    /// Leaving date.
    pub left_on: Option<Day>,
    /// Country.
    pub country: Option<String>,
    /// ISO 3166-2 region, where the country's laws are by region.
    pub region: Option<String>,
    /// Sealed contact details.
    pub contact: Option<Vec<u8>>,
    /// For a canary, the share it was planted in.
    pub canary_share: Option<ShareId>,
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportCounts {
    /// People new to custody.
    pub inserted: u64,
    /// People already known, updated in place.
    pub updated: u64,
    /// People already known whose row changed nothing.
    pub unchanged: u64,
}

/// A supplier to register.
#[derive(Debug, Clone)]
pub struct NewSupplier {
    /// Unique name.
    pub name: String,
    /// Processor or sub-processor.
    pub role: SupplierRole,
    /// For a sub-processor, the processor that engaged it.
    pub parent: Option<SupplierId>,
    /// Hours the contract gives the supplier to tell us of a breach.
    pub notice_hours: Option<u32>,
    /// Contract reference.
    pub contract: Option<String>,
    /// The supplier's contact for data protection.
    pub contact: Option<String>,
    /// When it was registered.
    pub created_at: Instant,
    /// Where it keeps the data (ISO 3166 alpha-2), when known.
    pub country: Option<String>,
    /// The safeguard of a transfer outside the UK and EEA (UK GDPR Art. 46), in words.
    pub transfer_safeguard: Option<String>,
}

/// A registered supplier.
#[derive(Debug, Clone)]
pub struct Supplier {
    /// Store id.
    pub id: SupplierId,
    /// Name.
    pub name: String,
    /// Role.
    pub role: SupplierRole,
    /// Parent processor.
    pub parent: Option<SupplierId>,
    /// Contractual breach-notice window, hours.
    pub notice_hours: Option<u32>,
    /// Contract reference.
    pub contract: Option<String>,
    /// Contact.
    pub contact: Option<String>,
    /// Registered at.
    pub created_at: Instant,
    /// Where it keeps the data (ISO 3166 alpha-2), when known.
    pub country: Option<String>,
    /// The safeguard of a transfer outside the UK and EEA, in words.
    pub transfer_safeguard: Option<String>,
}

/// A person at a supplier whom custody writes to (questions, instructions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SupplierContact {
    /// The supplier.
    pub supplier: SupplierId,
    /// Their name.
    pub name: String,
    /// Their work address (trimmed, lower-cased).
    pub email: String,
    /// What they are the contact for.
    pub role: ContactRole,
    /// When they were added.
    pub added_at: Instant,
}

/// What a message to a supplier is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MailAbout {
    /// Questions about one of its incidents.
    Question,
    /// Something the organisation instructs it to do (erase, delete a share).
    Instruction,
}

impl MailAbout {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            MailAbout::Question => "question",
            MailAbout::Instruction => "instruction",
        }
    }

    /// Reads the stable name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "question" => Some(MailAbout::Question),
            "instruction" => Some(MailAbout::Instruction),
            _ => None,
        }
    }
}

/// A message to a supplier's contact, and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SupplierMail {
    /// Id.
    pub id: MailId,
    /// What was queued.
    #[serde(flatten)]
    pub mail: SupplierMailText,
    /// State.
    pub state: OutboxState,
    /// Attempts so far.
    pub attempts: u32,
    /// The mail server's last reply.
    pub reply: Option<String>,
    /// When it was queued.
    pub queued_at: Instant,
    /// When the mail server accepted it.
    pub sent_at: Option<Instant>,
}

/// What a message to a supplier's contact says, and to whom: kept as it was queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SupplierMailText {
    /// The supplier.
    pub supplier: SupplierId,
    /// The incident it is about, if any.
    pub incident: Option<IncidentId>,
    /// What it is about.
    pub about: MailAbout,
    /// The contact's work address.
    pub recipient: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// Its Message-ID.
    pub message_id: String,
}

/// A share to record.
#[derive(Debug, Clone)]
pub struct NewShare {
    /// The ledger facts (id and supplier filled by the caller; id is ignored).
    pub meta: ShareMeta,
    /// Why the data was sent.
    pub purpose: String,
    /// Whether the supplier uses it for direct marketing.
    pub marketing: bool,
    /// For a feed, the person categories it covers.
    pub audience: Vec<PersonCategory>,
    /// Data rows in the file.
    pub row_count: u64,
    /// Rows that linked to nobody.
    pub unmatched_count: u64,
    /// Lines of the first unmatched rows.
    pub unmatched_lines: Vec<u64>,
    /// The file's name.
    pub file_name: Option<String>,
    /// SHA-256 of the file actually sent (hex).
    pub file_sha256: Option<String>,
    /// Each column and the category it was placed on (`None`: declared to hold no personal data).
    pub columns: Vec<(String, Option<String>)>,
    /// When it was recorded.
    pub recorded_at: Instant,
}

/// A share as stored.
#[derive(Debug, Clone)]
pub struct ShareRecord {
    /// Ledger facts.
    pub meta: ShareMeta,
    /// Supplier name.
    pub supplier: String,
    /// Purpose.
    pub purpose: String,
    /// Used for direct marketing.
    pub marketing: bool,
    /// Feed audience.
    pub audience: Vec<PersonCategory>,
    /// People in the set (exports; canaries included).
    pub people_count: u64,
    /// Data rows.
    pub row_count: u64,
    /// Unlinked rows.
    pub unmatched_count: u64,
    /// Lines of the first unlinked rows.
    pub unmatched_lines: Vec<u64>,
    /// File name.
    pub file_name: Option<String>,
    /// SHA-256 of the file sent.
    pub file_sha256: Option<String>,
    /// Columns and their categories.
    pub columns: Vec<(String, Option<String>)>,
    /// Canaries planted.
    pub canary_count: u64,
    /// When it was recorded.
    pub recorded_at: Instant,
}

/// What recording a share made.
#[derive(Debug, Clone)]
pub struct RecordedShare {
    /// The new share's id.
    pub id: ShareId,
    /// Ids given to its canaries.
    pub canaries: Vec<PersonId>,
}

/// An audit entry before it is chained.
#[derive(Debug, Clone)]
pub struct AuditDraft {
    /// Who acted (`cli:USER`, later a web account).
    pub actor: String,
    /// What was done, e.g. `people.import`.
    pub action: String,
    /// What it was done to, e.g. `supplier:7`.
    pub subject: String,
    /// When.
    pub at: Instant,
    /// Facts of the action (never contact details).
    pub details: serde_json::Value,
}

/// An entry of the audit log.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// Unix seconds.
    pub at: i64,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// To what.
    pub subject: String,
    /// Facts, as stored JSON text.
    pub details: String,
    /// Previous entry's hash (hex).
    pub prev: String,
    /// This entry's chain hash (hex).
    pub hash: String,
}

impl AuditEntry {
    /// The bytes the chain hash covers.
    pub fn canonical_bytes(
        seq: i64,
        at: i64,
        actor: &str,
        action: &str,
        subject: &str,
        details: &str,
    ) -> Vec<u8> {
        serde_json::to_vec(&(seq, at, actor, action, subject, details)).unwrap_or_default()
    }
}

/// An incident to open.
#[derive(Debug, Clone)]
pub struct NewIncident {
    /// The supplier where it happened; `None` for an incident at the organisation itself.
    pub supplier_id: Option<SupplierId>,
    /// What happened, in a sentence or two.
    pub summary: String,
    /// Confidentiality, integrity, availability.
    pub nature: Vec<custody_core::Nature>,
    /// When the organisation became aware.
    pub aware_at: Instant,
    /// Start of the window of compromise.
    pub occurred_from: Option<Instant>,
    /// End of the window of compromise.
    pub occurred_to: Option<Instant>,
    /// When the supplier discovered it.
    pub supplier_discovered_at: Option<Instant>,
    /// When the supplier told the organisation.
    pub supplier_notified_at: Option<Instant>,
    /// Whether it was a cyber incident (an attack on systems), when known.
    pub cyber: Option<bool>,
    /// When it was opened in custody.
    pub opened_at: Instant,
}

/// An incident as stored.
#[derive(Debug, Clone)]
pub struct IncidentRecord {
    /// Id.
    pub id: IncidentId,
    /// The facts it was opened with.
    pub facts: NewIncident,
    /// The supplier's name; `None` for an incident at the organisation itself.
    pub supplier: Option<String>,
}

/// Something that happened to an incident, to append.
#[derive(Debug, Clone)]
pub struct NewIncidentEvent {
    /// `note`, `decision`, `contact`, `update`, `act`, `statement`, `impact`, `assessment`.
    pub kind: String,
    /// When it happened.
    pub at: Instant,
    /// Who recorded it.
    pub actor: String,
    /// When it was recorded.
    pub recorded_at: Instant,
    /// Its content.
    pub body: serde_json::Value,
}

/// An event of an incident's append-only record.
#[derive(Debug, Clone, Serialize)]
pub struct IncidentEvent {
    /// Id, in recording order.
    pub id: EventId,
    /// Kind.
    pub kind: String,
    /// When it happened.
    pub at: Instant,
    /// When it was recorded.
    pub recorded_at: Instant,
    /// Who recorded it.
    pub actor: String,
    /// Content.
    pub body: serde_json::Value,
}

/// Something that happened to a request: the same shape as an incident's events.
pub type NewRequestEvent = NewIncidentEvent;
/// A request's event as stored.
pub type RequestEvent = IncidentEvent;

/// A request from a person, to record.
#[derive(Debug, Clone)]
pub struct NewRequest {
    /// The person, when matched on receipt.
    pub person: Option<PersonId>,
    /// The requester's email address, sealed.
    pub requester: Option<Vec<u8>>,
    /// Keyed hash of the requester's normalised email address.
    pub requester_hash: Option<[u8; 16]>,
    /// What was asked for.
    pub kind: custody_core::RequestKind,
    /// How it arrived.
    pub channel: Option<custody_core::Channel>,
    /// When it was received (the clock starts).
    pub received_at: Instant,
    /// When it was recorded in custody.
    pub opened_at: Instant,
    /// Where it came from when imported.
    pub source: Option<String>,
    /// Events recorded with it (an erasure's instructions to suppliers).
    pub events: Vec<NewRequestEvent>,
}

/// A request as stored (its events apart).
#[derive(Debug, Clone)]
pub struct RequestRecord {
    /// Id.
    pub id: RequestId,
    /// What was recorded; `events` is empty here.
    pub facts: NewRequest,
}

/// A supplier's confirmation that it erased one person's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Erasure {
    /// The supplier.
    pub supplier_id: SupplierId,
    /// The person.
    pub person: PersonId,
    /// The request it answered.
    pub request: RequestId,
    /// When the supplier erased it.
    pub deleted_at: Instant,
    /// Until when the supplier's backups still hold it.
    pub backups_until: Option<Instant>,
}

impl Erasure {
    /// Whether the erasure takes the person out of a share sent at `shared_at`, as at `at`: the
    /// share had reached the supplier before the erasure, and the erasure (and its backups) had
    /// run out by `at`.
    pub fn removes(&self, shared_at: Instant, at: Instant) -> bool {
        shared_at <= self.deleted_at
            && self.backups_until.unwrap_or(self.deleted_at).max(self.deleted_at) <= at
    }
}

/// A notice to queue.
#[derive(Debug, Clone)]
pub struct NewOutboxMessage {
    /// Keyed hash of the normalised address.
    pub address_hash: [u8; 16],
    /// The address, sealed.
    pub recipient: Vec<u8>,
    /// The people it covers.
    pub people: Vec<PersonId>,
    /// Its Message-ID, fixed now.
    pub message_id: String,
}

/// Where a notice stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    /// Waiting to be sent.
    Queued,
    /// Claimed by a run and handed (or about to be handed) to the mail server.
    Sending,
    /// Accepted by the mail server.
    Sent,
    /// Refused for good, or given up on.
    Failed,
    /// To be tried again after a backoff.
    Retry,
}

impl OutboxState {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Queued => "queued",
            OutboxState::Sending => "sending",
            OutboxState::Sent => "sent",
            OutboxState::Failed => "failed",
            OutboxState::Retry => "retry",
        }
    }

    /// Every state.
    pub const ALL: [OutboxState; 5] = [
        OutboxState::Queued,
        OutboxState::Sending,
        OutboxState::Sent,
        OutboxState::Failed,
        OutboxState::Retry,
    ];

    /// From the stable name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == text)
    }
}

/// A notice in the outbox.
#[derive(Debug, Clone)]
pub struct OutboxMessage {
    /// Id.
    pub id: MessageId,
    /// The address, sealed.
    pub recipient: Vec<u8>,
    /// The people it covers.
    pub people: Vec<PersonId>,
    /// Its Message-ID.
    pub message_id: String,
    /// State.
    pub state: OutboxState,
    /// Attempts so far (this claim included).
    pub attempts: u32,
    /// The mail server's last reply.
    pub reply: Option<String>,
    /// When it was accepted.
    pub sent_at: Option<Instant>,
}

/// What became of a claimed notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxUpdate {
    /// Accepted at this instant, with the reply (an attempt).
    Sent(Instant, String),
    /// To be tried again from this instant; the reply or error (an attempt).
    Retry(Instant, String),
    /// Failed for good; the reply or error (an attempt).
    Failed(String),
    /// Not tried after all (the server was unavailable, the run stopped): queued again, no
    /// attempt counted.
    Requeue,
}

/// The organisation's request that a supplier delete a share's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeletionRequest {
    /// The share.
    pub share: ShareId,
    /// The supplier that holds it.
    pub supplier: SupplierId,
    /// When it was asked.
    pub asked_at: Instant,
    /// By when.
    pub due_at: Instant,
    /// Why (the retention ended, the contract ended, …).
    pub reason: String,
    /// The supplier's note when it confirmed.
    pub note: Option<String>,
    /// When the deletion was confirmed (the share's record).
    pub deleted_at: Option<Instant>,
    /// When the supplier's backups no longer hold it.
    pub backups_until: Option<Instant>,
}

/// A printed batch of letters and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LetterBatchRow {
    /// Its name: the PDF's SHA-256.
    pub batch: String,
    /// When it was printed.
    pub printed_at: Instant,
    /// Letters in it.
    pub letters: u64,
    /// Of them, those not yet recorded as posted (in this batch or another).
    pub waiting: u64,
}

/// A person of an incident who needs a letter, and where their letter stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LetterRow {
    /// The person.
    pub person: PersonId,
    /// Whether they need a letter (no usable email address, or their notice failed), rather
    /// than being printed one for a chosen audience.
    pub needed: bool,
    /// When custody produced their latest letter.
    pub printed_at: Option<Instant>,
    /// The batch it is in (the PDF's SHA-256).
    pub batch: Option<String>,
    /// When the batch with their letter was recorded as posted.
    pub posted_at: Option<Instant>,
}

/// What queueing did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct EnqueueCounts {
    /// New messages.
    pub added: u64,
    /// Unsent messages that now cover more people (someone joined their address).
    pub extended: u64,
    /// Messages that already covered everyone they would cover.
    pub unchanged: u64,
}

/// A desk account to add.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// Sign-in name.
    pub name: String,
    /// Role.
    pub role: custody_core::DeskRole,
    /// Argon2id hash of the password (PHC string); never the password.
    pub password_hash: String,
    /// For a supplier's account, the supplier it is bound to.
    pub supplier: Option<SupplierId>,
    /// When it was made.
    pub created_at: Instant,
}

/// A desk account as stored.
#[derive(Debug, Clone)]
pub struct AccountRecord {
    /// Id.
    pub id: AccountId,
    /// Sign-in name.
    pub name: String,
    /// Role.
    pub role: custody_core::DeskRole,
    /// Argon2id hash of the password (PHC string).
    pub password_hash: String,
    /// The TOTP secret, sealed, once enrolled.
    pub totp_sealed: Option<Vec<u8>>,
    /// For a supplier's account, the supplier it is bound to.
    pub supplier: Option<SupplierId>,
    /// When it was made.
    pub created_at: Instant,
    /// When it was disabled.
    pub disabled_at: Option<Instant>,
}

/// An API token to add.
#[derive(Debug, Clone)]
pub struct NewApiToken {
    /// Its name (what it is for).
    pub name: String,
    /// Role.
    pub role: custody_core::DeskRole,
    /// Keyed hash of the token; never the token.
    pub token_hash: Vec<u8>,
    /// For a supplier's token, the supplier it is bound to.
    pub supplier: Option<SupplierId>,
    /// When it was made.
    pub created_at: Instant,
}

/// An API token as stored (its hash is not read back).
#[derive(Debug, Clone)]
pub struct ApiTokenRecord {
    /// Id.
    pub id: TokenId,
    /// Name.
    pub name: String,
    /// Role.
    pub role: custody_core::DeskRole,
    /// For a supplier's token, the supplier it is bound to.
    pub supplier: Option<SupplierId>,
    /// When it was made.
    pub created_at: Instant,
    /// When it was revoked.
    pub revoked_at: Option<Instant>,
}

/// A report as filed with the regulator, to keep byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFiledReport {
    /// `initial` or `follow-up`.
    pub phase: String,
    /// The report's JSON model.
    pub model: Vec<u8>,
    /// The rendered Markdown.
    pub markdown: Vec<u8>,
    /// The rendered HTML.
    pub html: Vec<u8>,
    /// SHA-256 (hex) of `model`, `markdown` and `html`, as filed.
    pub sha256: [String; 3],
}

/// A filed report as stored, with the act that filed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FiledReport {
    /// The incident event (the act) that filed it.
    pub event: EventId,
    /// The incident.
    pub incident: IncidentId,
    /// What was filed.
    pub report: NewFiledReport,
}

/// A record of the desk's shared state (a session, a sign-in count), kept in the store when
/// desks on several processes share it. The key is a keyed hash (never a session id or an
/// address); the value is the desk's own encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeskStateRecord {
    /// The keyed hash that names it.
    pub key: Vec<u8>,
    /// The account it belongs to, folded to lower case (empty for none).
    pub owner: String,
    /// What the desk keeps.
    pub value: Vec<u8>,
    /// When it was last written (Unix seconds), for sweeping old ones.
    pub updated: i64,
}
