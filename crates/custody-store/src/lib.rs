//! The `Store` API of custody and its SQLite implementation.
//!
//! **API boundary**: everything custody keeps goes through the [`Store`] trait. Callers never
//! see SQL, and the trait assumes nothing SQLite-specific (instants are Unix seconds, person sets
//! are serialised Roaring bitmaps cut into 65,536-id chunks, bulk writes take iterators inside
//! one transaction), so a PostgreSQL backend can implement the same trait.
//!
//! **Architecture invariant**: every method that changes state takes an [`AuditDraft`] and
//! appends it to the hash-chained audit log in the same transaction as the change. The one
//! exception is the outbox's per-message delivery state (claims and the server's answers),
//! which is operational state recorded per person; the run that moves it is audited.

pub mod digest;
mod encoding;
mod error;
mod generation;
mod mail_rows;
mod pairs;
pub mod postgres;
pub mod sqlite;
pub mod transfer;
mod types;

pub use error::{Error, Result};
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;
pub use types::*;

use custody_core::{
    AccountId, EventId, FeedWindow, IncidentId, Instant, MailId, MessageId, PersonCategory, PersonId,
    PersonSet, RequestId, ShareId, SupplierId, TokenId,
};

/// The newest entry of the audit chain, as its sequence number and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainEnd<'a> {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// The entry's chain hash.
    pub hash: &'a [u8],
}

/// Signs audit entries and guards the chain's end.
///
/// **Architecture invariant**: a write transaction appends at most one audit entry, and calls
/// [`AuditSigner::check_end`] before it and [`AuditSigner::stage`] after it, both while the
/// store's write lock is held, so the guard's record of the chain's end moves in step with the
/// store whatever the number of writers.
pub trait AuditSigner {
    /// MAC(previous hash ‖ canonical entry bytes).
    fn chain_hash(&self, previous: &[u8], entry: &[u8]) -> [u8; 32];
    /// Refuses (with what it found) when the store's newest entry is not where the signer's
    /// record of the chain says the chain ends: entries removed from the end.
    fn check_end(&self, newest: Option<ChainEnd<'_>>) -> std::result::Result<(), String>;
    /// Records that `entry` is about to be committed after `newest`.
    fn stage(&self, newest: Option<ChainEnd<'_>>, entry: ChainEnd<'_>) -> std::result::Result<(), String>;
    /// After a commit: the store's newest entry is `newest`; the record may settle on it.
    fn settle(&self, newest: Option<ChainEnd<'_>>) -> std::result::Result<(), String>;

    /// For a store that keeps the record of the chain's end itself, in the transaction that
    /// appends (PostgreSQL, whose writers may share no data directory): refuses (with what it
    /// found) when `kept` (none before the first entry) is not a genuine record naming `newest`.
    /// Such a store calls this and [`AuditSigner::seal_end`] instead of the three above.
    fn check_kept(&self, kept: Option<&str>, newest: Option<ChainEnd<'_>>)
    -> std::result::Result<(), String>;
    /// The sealed record naming `end` as the chain's end, for such a store to keep.
    fn seal_end(&self, end: Option<ChainEnd<'_>>) -> std::result::Result<String, String>;
}

/// A source of new people that may fail part-way (a bad row): the store then rolls back.
pub type PersonRows<'a> = &'a mut dyn Iterator<Item = std::result::Result<ImportRow, BoxError>>;

/// Any error from a caller's iterator.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// While alive, every read through the store sees the same state of the data, however many
/// queries a computation makes; dropping it ends the snapshot. Snapshots nest.
pub struct ReadSnapshot<'store> {
    release: Option<Box<dyn FnOnce() + 'store>>,
}

impl<'store> ReadSnapshot<'store> {
    /// A snapshot that runs `release` when dropped (for backends).
    pub fn new(release: impl FnOnce() + 'store) -> Self {
        ReadSnapshot {
            release: Some(Box::new(release)),
        }
    }
}

impl Drop for ReadSnapshot<'_> {
    fn drop(&mut self) {
        if let Some(release) = self.release.take() {
            release();
        }
    }
}

/// Visits one person's id, reference and sealed contact details.
pub type ContactVisitor<'a> = dyn FnMut(PersonId, &str, &[u8]) -> Result<()> + 'a;

/// Where custody keeps its ledger.
pub trait Store {
    /// The backend's name, for messages and `custody store` (`sqlite`, `postgresql`).
    fn backend(&self) -> &'static str;
    /// Whether the connection is still there (a pooled one whose server went away is not
    /// handed out again).
    fn is_usable(&self) -> bool {
        true
    }
    /// Another connection to the same store (a reader thread's own, for an import).
    fn reopen(&self) -> Result<Box<dyn Store + Send>>;
    /// Another connection for point lookups on a worker thread (an import's rows): one of
    /// several, so it keeps a small cache where the store has one of its own.
    fn reopen_for_lookups(&self) -> Result<Box<dyn Store + Send>> {
        self.reopen()
    }
    /// Whether several notification runs may claim from one outbox at once, each keeping to its
    /// own messages (PostgreSQL); when not, runs take one another's unanswered messages for
    /// abandoned, and custody runs one at a time.
    fn runs_may_overlap(&self) -> bool;
    /// Holds the audit writer's lock on this connection until `release_writes`, so that a use
    /// case that checks, then writes, sees no other process's audited write in between (the
    /// writes it makes itself take the lock again, as they would anyway). Where only one process
    /// serves (SQLite: one desk), this does nothing.
    fn hold_writes(&mut self) -> Result<()>;
    /// Lets the lock `hold_writes` took go.
    fn release_writes(&mut self) -> Result<()>;
    /// How long the next writes wait for another writer's lock before failing as busy.
    fn set_lock_wait(&mut self, wait: std::time::Duration) -> Result<()>;

    /// Starts a consistent read: answers built from several queries (holdings, impact) must not
    /// mix states when another process writes meanwhile.
    fn read_snapshot(&self) -> Result<ReadSnapshot<'_>>;

    /// Records the key check value on first use, and refuses a different key afterwards.
    fn check_key(&mut self, check_value: &str) -> Result<()>;

    /// Inserts or updates (by reference) every person the iterator yields, all or nothing.
    /// `read_at` is the state the rows were made from (see [`Store::source_digests`]: rows
    /// found unchanged, contact details kept from it): the import is refused (`Error::Conflict`)
    /// if the people have changed since. A row found unchanged needs it.
    fn import_people(
        &mut self,
        rows: PersonRows<'_>,
        read_at: Option<&ReadAt>,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<ImportCounts>;
    /// Whether anyone (a canary included) was ever stored.
    fn has_people(&self) -> Result<bool>;
    /// Every person's source digest (see [`NewPerson::source_digest`]) with the person, sorted by
    /// digest, and the state they were read at (both in one snapshot): what a re-import looks
    /// its rows up in.
    fn source_digests(&self) -> Result<HeldDigests>;
    /// The people of each place (ISO 3166-2 region where known, else ISO 3166-1 country; people
    /// with neither and canaries are in none), sorted by place.
    fn place_people(&self) -> Result<Vec<(String, PersonSet)>>;
    /// A person by the organisation's reference.
    fn person_by_ref(&self, reference: &str) -> Result<Option<PersonRecord>>;
    /// A person by internal id.
    fn person(&self, id: PersonId) -> Result<Option<PersonRecord>>;
    /// The internal id of a reference (for linking share rows; cached statement).
    fn person_id_by_ref(&self, reference: &str) -> Result<Option<PersonId>>;
    /// The internal ids of many references at once, in their order (`None` for an unknown one):
    /// one round trip for a batch of a share's rows rather than one per row.
    fn person_ids_by_refs(&self, references: &[String]) -> Result<Vec<Option<PersonId>>>;
    /// The people of many identifier hashes at once, in their order.
    fn people_by_identifiers(&self, hashes: &[[u8; 16]]) -> Result<Vec<Vec<PersonId>>>;
    /// People whose identifier of `kind` has this keyed hash.
    fn people_by_identifier(&self, kind: custody_core::IdentifierKind, hash: &[u8]) -> Result<Vec<PersonId>>;
    /// The references of a set of people, in id order.
    fn references(&self, people: &PersonSet) -> Result<Vec<String>>;
    /// Every person of a set, in id order, with their sealed contact details.
    fn each_person(
        &self,
        people: &PersonSet,
        visit: &mut dyn FnMut(PersonRecord) -> Result<()>,
    ) -> Result<()>;
    /// Every person's sealed contact details with their reference, canaries left out, in id
    /// order (for linkage, which opens them in memory); with `only`, the people of that set.
    fn each_contact(&self, only: Option<&PersonSet>, visit: &mut ContactVisitor<'_>) -> Result<()>;
    /// Counts of people per category and status (canaries excluded).
    fn people_counts(&self) -> Result<Vec<(PersonCategory, custody_core::PersonStatus, u64)>>;

    /// Registers a supplier; a taken name is an error.
    fn add_supplier(
        &mut self,
        supplier: NewSupplier,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<SupplierId>;
    /// Sets where a supplier keeps the data and the safeguard of a transfer (audited).
    fn set_supplier_transfer(
        &mut self,
        id: SupplierId,
        country: Option<&str>,
        safeguard: Option<&str>,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<()>;
    /// Marks a share as used for direct marketing, or not (audited).
    fn set_share_marketing(
        &mut self,
        id: ShareId,
        marketing: bool,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<()>;
    /// Adds a contact at a supplier (audited); an address the supplier has already (in any
    /// case) is refused.
    fn add_supplier_contact(
        &mut self,
        contact: SupplierContact,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<()>;
    /// Removes a supplier's contact by address, in any case (audited); none is `NotFound`.
    fn remove_supplier_contact(
        &mut self,
        supplier: SupplierId,
        email: &str,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<()>;
    /// A supplier's contacts, in the order they were added.
    fn supplier_contacts(&self, supplier: SupplierId) -> Result<Vec<SupplierContact>>;
    /// Queues messages to suppliers' contacts, audited as one entry; returns their ids.
    fn queue_supplier_mail(
        &mut self,
        mail: &[SupplierMailText],
        queued_at: Instant,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<Vec<MailId>>;
    /// Claims up to `limit` messages to suppliers that are due at `now` (queued, a retry whose
    /// time has come, or one left `sending` for ten minutes by a run that ended), marking them
    /// `sending` by `run`. Not audited one by one: the sending is.
    fn claim_supplier_mail(&mut self, run: i64, now: Instant, limit: usize) -> Result<Vec<SupplierMail>>;
    /// Records what became of a message `run` claimed (one still `sending` under its claim; any
    /// other is left alone).
    fn record_supplier_mail(&mut self, run: i64, id: MailId, update: &OutboxUpdate) -> Result<()>;
    /// Messages to one supplier (or every supplier), newest first.
    fn supplier_mail(&self, supplier: Option<SupplierId>) -> Result<Vec<SupplierMail>>;
    /// Every supplier, by name.
    fn suppliers(&self) -> Result<Vec<Supplier>>;
    /// A supplier by name (any case).
    fn supplier_by_name(&self, name: &str) -> Result<Option<Supplier>>;

    /// Records a share with its person set and any canaries (added to the set), all at once.
    fn record_share(
        &mut self,
        share: NewShare,
        people: &PersonSet,
        canaries: Vec<NewPerson>,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<RecordedShare>;
    /// Records a supplier's deletion confirmation for a share.
    fn confirm_deletion(
        &mut self,
        share: ShareId,
        confirmed_at: Instant,
        backups_until: Option<Instant>,
        note: Option<&str>,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<()>;
    /// Records the organisation's request that the holder of `share` delete its data by
    /// `due_at`; a share asked before is a conflict. Audited.
    fn ask_deletion(
        &mut self,
        share: ShareId,
        asked_at: Instant,
        due_at: Instant,
        reason: &str,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<()>;
    /// The deletion requests to some suppliers (all when `None`), oldest first.
    fn deletion_requests(&self, suppliers: Option<&[SupplierId]>) -> Result<Vec<DeletionRequest>>;
    /// Shares, optionally of some suppliers only, in id order.
    fn shares(&self, suppliers: Option<&[SupplierId]>) -> Result<Vec<ShareRecord>>;
    /// One share.
    fn share(&self, id: ShareId) -> Result<Option<ShareRecord>>;
    /// The exact people of an export share (canaries included).
    fn share_people(&self, id: ShareId) -> Result<PersonSet>;
    /// The people a standing feed covered in a window (canaries never).
    fn feed_people(&self, audience: &[PersonCategory], window: FeedWindow) -> Result<PersonSet>;
    /// Everyone of a person category (canaries never).
    fn category_people(&self, category: PersonCategory) -> Result<PersonSet>;
    /// Everyone whose status is former.
    fn former_people(&self) -> Result<PersonSet>;
    /// Everyone who left on a day from `from` (inclusive) until `until` (exclusive); `None` is
    /// unbounded.
    fn left_between(
        &self,
        from: Option<custody_core::Day>,
        until: Option<custody_core::Day>,
    ) -> Result<PersonSet>;
    /// How many of `people` left in each period cut by `boundaries` (ascending days): before the
    /// first, between each pair, and from the last on.
    fn left_counts(&self, people: &PersonSet, boundaries: &[custody_core::Day]) -> Result<Vec<u64>>;
    /// The export shares whose person set contains `person`.
    fn export_shares_of(&self, person: PersonId) -> Result<Vec<ShareId>>;
    /// Every canary.
    fn canaries(&self) -> Result<PersonSet>;

    /// Opens an incident.
    fn open_incident(
        &mut self,
        incident: NewIncident,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<IncidentId>;
    /// Every incident, oldest first.
    fn incidents(&self) -> Result<Vec<IncidentRecord>>;
    /// One incident.
    fn incident(&self, id: IncidentId) -> Result<Option<IncidentRecord>>;
    /// Appends an event to an incident's record (never updated, never deleted).
    fn append_incident_event(
        &mut self,
        incident: IncidentId,
        event: NewIncidentEvent,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<EventId>;
    /// An incident's events, in recording order.
    fn incident_events(&self, incident: IncidentId) -> Result<Vec<IncidentEvent>>;
    /// Adds a desk account (audited); a name already taken is refused.
    fn add_account(
        &mut self,
        account: NewAccount,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<AccountId>;
    /// Every desk account, oldest first.
    fn accounts(&self) -> Result<Vec<AccountRecord>>;
    /// The account with this name.
    fn account_named(&self, name: &str) -> Result<Option<AccountRecord>>;
    /// Replaces the password hash of an active account (audited).
    fn set_account_password(
        &mut self,
        name: &str,
        password_hash: &str,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<()>;
    /// Takes a TOTP time step for an account: false when it, or a later one, was taken before
    /// (a code is never accepted twice). Not audited: the sign-in it completes is.
    fn take_totp_step(&mut self, name: &str, step: i64) -> Result<bool>;
    /// Sets or clears the sealed TOTP secret of an active account (audited).
    fn set_account_totp(
        &mut self,
        name: &str,
        sealed: Option<&[u8]>,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<()>;
    /// Disables the account with this name (audited); names are compared without case.
    fn disable_account(
        &mut self,
        name: &str,
        at: Instant,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<()>;
    /// Adds an API token (audited); a name already taken is refused.
    fn add_api_token(
        &mut self,
        token: NewApiToken,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<TokenId>;
    /// Every API token, oldest first.
    fn api_tokens(&self) -> Result<Vec<ApiTokenRecord>>;
    /// The API token with this keyed hash.
    fn api_token_by_hash(&self, hash: &[u8]) -> Result<Option<ApiTokenRecord>>;
    /// Revokes the API token with this name (audited).
    fn revoke_api_token(
        &mut self,
        name: &str,
        at: Instant,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<()>;
    /// Appends an event recording leak evidence, with the people it confirms exposed, in one
    /// transaction (never updated, never deleted).
    fn append_evidence(
        &mut self,
        incident: IncidentId,
        event: NewIncidentEvent,
        people: &PersonSet,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<EventId>;
    /// Everyone any recorded leak evidence of the incident confirms exposed.
    fn evidence_people(&self, incident: IncidentId) -> Result<PersonSet>;
    /// Appends the act that filed a report with the regulator and the report as filed, in one
    /// transaction (never updated, never deleted).
    fn file_report(
        &mut self,
        incident: IncidentId,
        event: NewIncidentEvent,
        report: NewFiledReport,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<EventId>;
    /// The reports filed for an incident, in the order filed.
    fn filed_reports(&self, incident: IncidentId) -> Result<Vec<FiledReport>>;
    /// Appends an event recording people an incident at the organisation itself affected, with
    /// their set, in one transaction (never updated, never deleted).
    fn record_incident_people(
        &mut self,
        incident: IncidentId,
        event: NewIncidentEvent,
        people: &PersonSet,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<EventId>;
    /// Everyone recorded as affected by an incident at the organisation itself.
    fn incident_people(&self, incident: IncidentId) -> Result<PersonSet>;
    /// The identifiers' generation: a token every write of identifier hashes replaces in the
    /// same transaction (`None` before the first such write, or after a copy into a new store).
    fn identifiers_generation(&self) -> Result<Option<String>>;
    /// Visits the identifier hashes of the kinds in `kinds` of every person (canaries
    /// included), person by person.
    fn each_identifier(
        &self,
        kinds: &[custody_core::IdentifierKind],
        visit: &mut dyn FnMut(custody_core::IdentifierKind, &[u8], PersonId),
    ) -> Result<()>;

    /// Records requests from people (each with its first events), all or nothing.
    fn open_requests(
        &mut self,
        requests: Vec<NewRequest>,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<Vec<RequestId>>;
    /// Every request, oldest first.
    fn requests(&self) -> Result<Vec<RequestRecord>>;
    /// One request.
    fn request(&self, id: RequestId) -> Result<Option<RequestRecord>>;
    /// Appends events to a request (never updated, never deleted), with the per-person erasure
    /// they confirm, if any, all in one transaction.
    fn append_request_events(
        &mut self,
        request: RequestId,
        events: Vec<NewRequestEvent>,
        erasure: Option<Erasure>,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<Vec<EventId>>;
    /// A request's events, in recording order.
    fn request_events(&self, request: RequestId) -> Result<Vec<RequestEvent>>;
    /// The suppliers' confirmed erasures of one person.
    fn erasures_of_person(&self, person: PersonId) -> Result<Vec<Erasure>>;
    /// The people a supplier confirmed it erased.
    fn erasures_at_supplier(&self, supplier: SupplierId) -> Result<Vec<Erasure>>;
    /// The kinds of identifier held (as keyed hashes) for a person.
    fn identifier_kinds(&self, person: PersonId) -> Result<Vec<custody_core::IdentifierKind>>;

    /// Queues notices for an incident (see `EnqueueCounts`) and the people who need a letter.
    /// Audited as one entry.
    fn enqueue_notices(
        &mut self,
        incident: IncidentId,
        messages: &mut dyn Iterator<Item = NewOutboxMessage>,
        letters: &[PersonId],
        queued_at: Instant,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<EnqueueCounts>;
    /// The people of an incident who need a letter (no email address, or one that failed), with
    /// when their letter was printed and posted, by person.
    fn notice_letters(&self, incident: IncidentId) -> Result<Vec<LetterRow>>;
    /// Records that letters to `people` were printed at `at` in `batch` (a letter posted already
    /// stays posted); `needed` marks them as people who need a letter. Audited as one entry.
    #[allow(clippy::too_many_arguments)]
    fn record_letters_printed(
        &mut self,
        incident: IncidentId,
        people: &[PersonId],
        at: Instant,
        batch: &str,
        needed: bool,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<()>;
    /// Records the letters of `batch` (the people printed in it) not yet posted as posted at
    /// `at`; returns how many (none: refused, nothing is written). Audited as one entry.
    fn record_letters_posted(
        &mut self,
        incident: IncidentId,
        batch: &str,
        at: Instant,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<u64>;
    /// An incident's printed batches of letters, oldest first.
    fn letter_batches(&self, incident: IncidentId) -> Result<Vec<LetterBatchRow>>;
    /// The people covered by an incident's messages in one state (`sent`: told by email).
    fn outbox_people(&self, incident: IncidentId, state: OutboxState) -> Result<PersonSet>;
    /// Claims up to `limit` due notices for a run, marking them `sending` (committed before any
    /// is handed to the mail server). Not audited one by one: the run is (see ARCHITECTURE.md).
    fn claim_notices(
        &mut self,
        incident: IncidentId,
        run: EventId,
        now: Instant,
        limit: usize,
        include_failed: bool,
    ) -> Result<Vec<OutboxMessage>>;
    /// Records the mail server's answers for notices `run` claimed. While durability is relaxed
    /// they go to a delivery journal first (recorded once the call returns, even if the process
    /// is killed next) and reach the outbox table in batches; `flush_deliveries` applies them.
    fn record_deliveries(&mut self, run: EventId, updates: &[(MessageId, OutboxUpdate)]) -> Result<()>;
    /// Applies journalled answers to the outbox table now (before reading its counts or times).
    fn flush_deliveries(&mut self) -> Result<()>;
    /// Notices per state.
    fn outbox_counts(&self, incident: IncidentId) -> Result<Vec<(OutboxState, u64)>>;
    /// Notices in one state, oldest first.
    fn outbox_in_state(
        &self,
        incident: IncidentId,
        state: OutboxState,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>>;
    /// The earliest pending retry and the latest acceptance.
    fn outbox_times(&self, incident: IncidentId) -> Result<(Option<Instant>, Option<Instant>)>;
    /// While relaxed (a notification run), a commit or a journalled answer survives the process
    /// being killed but perhaps not the machine losing power (which can only make a notice go out
    /// twice, never lose one). Ending it applies the journal.
    fn set_relaxed_durability(&mut self, relaxed: bool) -> Result<()>;

    /// Loads the desk-state records of `kind` named by `keys` (in that order; `None` where there
    /// is none), lets `update` change them (`None` removes one), and writes them back, in one
    /// transaction that no other desk's update of desk state overlaps. Not audited: the
    /// sign-ins and sign-outs these records serve are.
    fn update_desk_state(
        &mut self,
        kind: &str,
        keys: &[Vec<u8>],
        update: &mut dyn FnMut(&mut [Option<DeskStateRecord>]) -> Result<()>,
    ) -> Result<()>;
    /// Removes the desk-state records of `kind` owned by `owner` (but the one keyed `keep`), and
    /// any of `kind` last written before `stale_before`; returns how many went.
    fn remove_desk_state(
        &mut self,
        kind: &str,
        owner: Option<&str>,
        keep: Option<&[u8]>,
        stale_before: i64,
    ) -> Result<u64>;

    /// Writes a consistent copy of the whole ledger into a new SQLite file at `path` (a backup:
    /// SQLite's file is the interchange format).
    fn copy_into_sqlite_file(&mut self, path: &std::path::Path) -> Result<transfer::Copied>;
    /// Fills this store, which must hold no ledger yet, with the ledger in the SQLite file at
    /// `path` (a backup being restored, a SQLite store being migrated), ids as they are.
    fn fill_from_sqlite_file(&mut self, path: &std::path::Path) -> Result<transfer::Copied>;
    /// Rows per table of the ledger, for checking a copy.
    fn table_counts(&mut self) -> Result<transfer::Copied>;

    /// Appends an entry for an action that changed nothing else in the store.
    fn append_audit(&mut self, audit: AuditDraft, signer: &dyn AuditSigner) -> Result<AuditEntry>;
    /// Every audit entry, oldest first, handed to `visit` one at a time.
    fn audit_entries(&self, visit: &mut dyn FnMut(AuditEntry) -> Result<()>) -> Result<()>;
    /// The newest audit entry.
    fn audit_head(&self) -> Result<Option<AuditEntry>>;
    /// Under the write lock and changing nothing, lets the signer settle its record of the
    /// chain's end on the store's newest entry (after a commit).
    fn settle_audit(&mut self, signer: &dyn AuditSigner) -> Result<()>;
    /// Whether the store keeps the record of its chain's end itself (see
    /// [`AuditSigner::check_kept`]); when not, the signer keeps it (`audit.head`).
    fn keeps_audit_head(&self) -> bool;
    /// The record of the chain's end the store keeps (none yet, or none kept).
    fn kept_audit_head(&self) -> Result<Option<String>>;
    /// Under the write lock, replaces the kept record with one naming the newest entry, as it
    /// is (accepting the chain's end after a person has looked at it); returns its position.
    fn rekeep_audit_head(&mut self, signer: &dyn AuditSigner) -> Result<i64>;
}
