//! The PostgreSQL implementation of [`Store`], for teams that run custody as a service: several
//! desk processes and commands on one database.
//!
//! **Architecture invariant (one audit writer)**: every audited write begins by taking one
//! transaction-scoped advisory lock ([`WRITE_LOCK`]), so writes that append to the audit chain
//! follow one another as SQLite's single writer does, and the chain never forks however many
//! processes write. Reads take no lock; a [`ReadSnapshot`] is a repeatable-read transaction.
//! Delivery claims of the notices outbox are not audited one by one and use `FOR UPDATE SKIP
//! LOCKED` instead, with a session lock per notification run so that a live run's messages are
//! never taken over by another.

mod audit;
mod connect;
mod contacts;
mod deletion_requests;
mod desk;
mod desk_state;
mod events;
mod letters;
mod mail;
mod outbox;
mod people;
mod records;
mod tls;

use std::cell::{Cell, RefCell, RefMut};
use std::collections::HashMap;

use postgres::types::ToSql;
use postgres::{Client, Row, Statement, Transaction};

use custody_core::{
    AccountId, EventId, FeedWindow, IdentifierKind, IncidentId, Instant, MailId, MessageId, PersonCategory,
    PersonId, PersonSet, PersonStatus, RequestId, ShareId, SupplierId, TokenId,
};

use crate::error::{Error, Result};
use crate::types::*;
use crate::{AuditSigner, PersonRows, ReadSnapshot, Store};

pub use connect::{is_postgres_url, parse_url};

/// Schema migrations, in order; version N is the first N applied.
const MIGRATIONS: [&str; 9] = [
    include_str!("schema.sql"),
    include_str!("share_chunks_append_only.sql"),
    include_str!("names_fold_ascii.sql"),
    include_str!("supplier_contacts.sql"),
    include_str!("supplier_accounts.sql"),
    include_str!("supplier_mail.sql"),
    include_str!("letters.sql"),
    include_str!("deletion_requests.sql"),
    include_str!("people_digests_places.sql"),
];

/// Taken at the start of every audited write (see the module's invariant).
const WRITE_LOCK: &str = "SELECT pg_advisory_xact_lock(7306, 1)";
/// Taken while the schema is brought up to date.
const MIGRATION_LOCK: &str = "SELECT pg_advisory_xact_lock(7306, 2)";

/// The connection for a read, with the store's prepared statements: a statement is prepared
/// once per connection (one round trip saved on every later query).
pub(super) struct Db<'a> {
    client: RefMut<'a, Client>,
    cache: &'a RefCell<HashMap<String, Statement>>,
}

impl Db<'_> {
    fn statement(&mut self, sql: &str) -> Result<Statement> {
        if let Some(statement) = self.cache.borrow().get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.cache.borrow_mut().insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    pub(super) fn query(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        let statement = self.statement(sql)?;
        Ok(self.client.query(&statement, params)?)
    }

    pub(super) fn query_opt(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>> {
        let statement = self.statement(sql)?;
        Ok(self.client.query_opt(&statement, params)?)
    }

    pub(super) fn query_one(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Row> {
        let statement = self.statement(sql)?;
        Ok(self.client.query_one(&statement, params)?)
    }
}

/// Person sets this connection read before and may answer from again: a share's set never
/// changes once recorded (append-only), and a category's people change only with an import
/// (their generation is the newest import's id, read each time).
#[derive(Default)]
struct Kept {
    shares: HashMap<i64, PersonSet>,
    bytes: usize,
    categories: Option<(i64, HashMap<PersonCategory, PersonSet>)>,
}

/// Bytes of share sets (serialised) one connection keeps at most.
const KEPT_BYTES_MAX: usize = 128 << 20;

/// The PostgreSQL store: one connection.
pub struct PostgresStore {
    client: RefCell<Client>,
    statements: RefCell<HashMap<String, Statement>>,
    kept: RefCell<Kept>,
    url: String,
    /// Nesting of read snapshots: the outermost begins and ends the transaction.
    snapshots: Cell<u32>,
    lock_wait: std::time::Duration,
}

fn corrupt(message: impl std::fmt::Display) -> Error {
    Error::Corrupt(message.to_string())
}

/// A stored instant.
pub(super) fn instant(seconds: i64) -> Result<Instant> {
    Instant::from_unix_seconds(seconds).map_err(corrupt)
}

/// A stored optional instant.
pub(super) fn optional(seconds: Option<i64>) -> Result<Option<Instant>> {
    seconds.map(instant).transpose()
}

/// Before schema version 3: names that were apart under the database's own case folding but
/// fold together under ASCII's (a Turkish locale's dotless ı) are named, for someone to rename,
/// rather than failing the new unique index with the database's own words.
fn names_fold_apart(transaction: &mut postgres::Transaction<'_>) -> Result<()> {
    let mut clashes = Vec::new();
    for table in ["suppliers", "accounts", "api_tokens"] {
        for row in transaction.query(
            &format!(
                "SELECT string_agg(name, ', ' ORDER BY name) FROM {table} \
                 GROUP BY lower(name COLLATE \"C\") HAVING count(*) > 1"
            ),
            &[],
        )? {
            let names: String = row.try_get(0)?;
            clashes.push(format!("{table}: {names}"));
        }
    }
    if clashes.is_empty() {
        return Ok(());
    }
    Err(Error::Incompatible(format!(
        "this custody compares names without regard to the case of ASCII letters only, and these names \
         differ only so: {}; rename all but one of each with the previous custody, then open it again",
        clashes.join("; ")
    )))
}

impl PostgresStore {
    /// Connects to the database at `url` and brings its schema up to date (creating it in an
    /// empty database).
    pub fn open(url: &str) -> Result<Self> {
        let client = connect::connect(url)?;
        let mut store = PostgresStore {
            client: RefCell::new(client),
            statements: RefCell::new(HashMap::new()),
            kept: RefCell::new(Kept::default()),
            url: url.to_owned(),
            snapshots: Cell::new(0),
            lock_wait: crate::sqlite::LOCK_WAIT,
        };
        store.apply_lock_wait()?;
        store.migrate()?;
        Ok(store)
    }

    /// Whether the database holds a key check already (a directory was made for it).
    pub fn keeps_key_check(&self) -> Result<bool> {
        Ok(self
            .client()?
            .query_one("SELECT EXISTS (SELECT 1 FROM meta WHERE key = 'key_check')", &[])?
            .try_get(0)?)
    }

    /// Whether the database holds no custody tables (a target for `store migrate`).
    pub fn is_empty(&self) -> Result<bool> {
        let mut client = self.client()?;
        let row = client.query_one("SELECT count(*) FROM people", &[])?;
        let people: i64 = row.try_get(0)?;
        let row = client.query_one("SELECT count(*) FROM audit", &[])?;
        let audit: i64 = row.try_get(0)?;
        Ok(people == 0 && audit == 0)
    }

    fn apply_lock_wait(&mut self) -> Result<()> {
        let millis = self.lock_wait.as_millis();
        self.client
            .get_mut()
            .batch_execute(&format!("SET lock_timeout = {millis}"))?;
        Ok(())
    }

    fn migrate(&mut self) -> Result<()> {
        let mut transaction = self.client.get_mut().transaction()?;
        transaction.batch_execute(MIGRATION_LOCK)?;
        let has_meta: bool = transaction
            .query_one("SELECT to_regclass('meta') IS NOT NULL", &[])?
            .try_get(0)?;
        let current: u32 = if has_meta {
            let version: Option<String> = transaction
                .query_opt("SELECT value FROM meta WHERE key = 'schema_version'", &[])?
                .map(|row| row.try_get(0))
                .transpose()?;
            version
                .as_deref()
                .and_then(|text| text.parse().ok())
                .ok_or_else(|| {
                    Error::Incompatible(format!(
                        "the database has no readable schema version ({version:?})"
                    ))
                })?
        } else {
            0
        };
        let latest = MIGRATIONS.len() as u32;
        if current > latest {
            return Err(Error::Incompatible(format!(
                "the database has schema version {current}; this custody knows up to version {latest}"
            )));
        }
        for (index, migration) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            if index == 2 {
                names_fold_apart(&mut transaction)?;
            }
            transaction.batch_execute(migration)?;
            if index + 1 == MIGRATIONS.len() && current > 0 {
                // Version 9 added the places: filled from the people already stored.
                records::rebuild_feeds(&mut transaction)?;
            }
            let version = (index + 1).to_string();
            transaction.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', $1) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[&version],
            )?;
        }
        transaction.commit()?;
        Ok(())
    }

    /// The connection, for a read. A visitor that calls back into the store while a read streams
    /// is an error, not a panic.
    fn client(&self) -> Result<RefMut<'_, Client>> {
        self.client.try_borrow_mut().map_err(|_| {
            Error::Corrupt("the store was used again from inside one of its own reads".to_owned())
        })
    }

    /// The connection and its prepared statements, for a read.
    fn db(&self) -> Result<Db<'_>> {
        Ok(Db {
            client: self.client()?,
            cache: &self.statements,
        })
    }

    /// Runs `work` in a transaction under the write lock, then appends its audit entry, and
    /// commits: all or nothing.
    fn audited<T>(
        &mut self,
        mut draft: AuditDraft,
        signer: &dyn AuditSigner,
        work: impl FnOnce(&mut Transaction<'_>, &mut AuditDraft) -> Result<T>,
    ) -> Result<T> {
        if self.snapshots.get() > 0 {
            return Err(Error::Corrupt(
                "a write was tried inside a read snapshot".to_owned(),
            ));
        }
        let mut transaction = self.client.get_mut().transaction()?;
        transaction.batch_execute(WRITE_LOCK)?;
        audit::refuse_if_emptied(&mut transaction)?;
        let out = work(&mut transaction, &mut draft)?;
        audit::append(&mut transaction, draft, signer)?;
        transaction.commit()?;
        Ok(out)
    }
}

impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgresql"
    }

    fn is_usable(&self) -> bool {
        self.client.try_borrow().is_ok_and(|client| !client.is_closed())
    }

    fn reopen(&self) -> Result<Box<dyn Store + Send>> {
        let mut store = PostgresStore::open(&self.url)?;
        store.lock_wait = self.lock_wait;
        store.apply_lock_wait()?;
        Ok(Box::new(store))
    }

    fn runs_may_overlap(&self) -> bool {
        true
    }

    fn hold_writes(&mut self) -> Result<()> {
        // The session's hold on the key the audited writes take per transaction: they take it
        // again at once on this connection, and wait on every other.
        self.client
            .get_mut()
            .batch_execute("SELECT pg_advisory_lock(7306, 1)")?;
        Ok(())
    }

    fn release_writes(&mut self) -> Result<()> {
        self.client
            .get_mut()
            .batch_execute("SELECT pg_advisory_unlock(7306, 1)")?;
        Ok(())
    }

    fn set_lock_wait(&mut self, wait: std::time::Duration) -> Result<()> {
        self.lock_wait = wait;
        self.apply_lock_wait()
    }

    fn read_snapshot(&self) -> Result<ReadSnapshot<'_>> {
        let depth = self.snapshots.get();
        if depth == 0 {
            self.client()?
                .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
        }
        self.snapshots.set(depth + 1);
        Ok(ReadSnapshot::new(move || {
            let depth = self.snapshots.get().saturating_sub(1);
            self.snapshots.set(depth);
            if depth == 0
                && let Ok(mut client) = self.client.try_borrow_mut()
            {
                // A read-only transaction: ending it cannot lose anything.
                let _ = client.batch_execute("COMMIT");
            }
        }))
    }

    fn check_key(&mut self, check_value: &str) -> Result<()> {
        let stored: Option<String> = self
            .client
            .get_mut()
            .query_opt("SELECT value FROM meta WHERE key = 'key_check'", &[])?
            .map(|row| row.try_get(0))
            .transpose()?;
        match stored {
            Some(value) if value == check_value => Ok(()),
            Some(_) => Err(Error::Incompatible(
                "this key does not belong to this database (its key check differs); \
                 use the key file made by `custody init` for this directory"
                    .to_owned(),
            )),
            None => {
                self.client.get_mut().execute(
                    "INSERT INTO meta (key, value) VALUES ('key_check', $1) ON CONFLICT (key) DO NOTHING",
                    &[&check_value],
                )?;
                Ok(())
            }
        }
    }

    fn import_people(
        &mut self,
        rows: PersonRows<'_>,
        read_at: Option<&ReadAt>,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<ImportCounts> {
        self.audited(audit, signer, |transaction, draft| {
            people::import(transaction, rows, read_at, draft)
        })
    }

    fn has_people(&self) -> Result<bool> {
        Ok(self
            .client()?
            .query_one("SELECT EXISTS (SELECT 1 FROM people)", &[])?
            .try_get(0)?)
    }

    fn place_people(&self) -> Result<Vec<(String, PersonSet)>> {
        records::places(&mut self.db()?)
    }

    fn source_digests(&self) -> Result<HeldDigests> {
        let _snapshot = self.read_snapshot()?;
        Ok(HeldDigests {
            at: ReadAt(self.identifiers_generation()?),
            digests: people::source_digests(&mut self.db()?)?,
        })
    }

    fn person_by_ref(&self, reference: &str) -> Result<Option<PersonRecord>> {
        people::by_reference(&mut self.db()?, reference)
    }

    fn person(&self, id: PersonId) -> Result<Option<PersonRecord>> {
        people::by_id(&mut self.db()?, id)
    }

    fn person_id_by_ref(&self, reference: &str) -> Result<Option<PersonId>> {
        people::id_by_reference(&mut self.db()?, reference)
    }

    fn person_ids_by_refs(&self, references: &[String]) -> Result<Vec<Option<PersonId>>> {
        people::ids_by_references(&mut self.db()?, references)
    }

    fn people_by_identifiers(&self, hashes: &[[u8; 16]]) -> Result<Vec<Vec<PersonId>>> {
        people::by_identifiers(&mut self.db()?, hashes)
    }

    fn people_by_identifier(&self, _kind: IdentifierKind, hash: &[u8]) -> Result<Vec<PersonId>> {
        people::by_identifier(&mut self.db()?, hash)
    }

    fn references(&self, set: &PersonSet) -> Result<Vec<String>> {
        people::references(&mut self.db()?, set)
    }

    fn each_person(&self, set: &PersonSet, visit: &mut dyn FnMut(PersonRecord) -> Result<()>) -> Result<()> {
        people::each_of(&mut self.db()?, set, visit)
    }

    fn each_contact(&self, only: Option<&PersonSet>, visit: &mut crate::ContactVisitor<'_>) -> Result<()> {
        match only {
            Some(set) => people::contacts_of(&mut self.db()?, set, visit),
            None => people::each_contact(&mut self.db()?, visit),
        }
    }

    fn people_counts(&self) -> Result<Vec<(PersonCategory, PersonStatus, u64)>> {
        people::counts(&mut self.db()?)
    }

    fn add_supplier(
        &mut self,
        supplier: NewSupplier,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<SupplierId> {
        self.audited(audit, signer, |transaction, draft| {
            records::add_supplier(transaction, supplier, draft)
        })
        .map(SupplierId::new)
    }

    fn set_supplier_transfer(
        &mut self,
        id: SupplierId,
        country: Option<&str>,
        safeguard: Option<&str>,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<()> {
        self.audited(audit, signer, |transaction, _| {
            let changed = transaction.execute(
                "UPDATE suppliers SET country = $1, transfer_safeguard = $2 WHERE id = $3",
                &[&country, &safeguard, &id.get()],
            )?;
            records::one_changed(changed, "supplier")
        })
    }

    fn set_share_marketing(
        &mut self,
        id: ShareId,
        marketing: bool,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<()> {
        self.audited(audit, signer, |transaction, _| {
            let changed = transaction.execute(
                "UPDATE shares SET marketing = $1 WHERE id = $2",
                &[&marketing, &id.get()],
            )?;
            records::one_changed(changed, "share")
        })
    }

    fn add_supplier_contact(
        &mut self,
        contact: SupplierContact,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<()> {
        self.audited(audit, signer, |transaction, _| {
            contacts::add(transaction, contact)
        })
    }

    fn remove_supplier_contact(
        &mut self,
        supplier: SupplierId,
        email: &str,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<()> {
        self.audited(audit, signer, |transaction, _| {
            contacts::remove(transaction, supplier, email)
        })
    }

    fn supplier_contacts(&self, supplier: SupplierId) -> Result<Vec<SupplierContact>> {
        contacts::list(&mut self.db()?, supplier)
    }

    fn queue_supplier_mail(
        &mut self,
        mail: &[SupplierMailText],
        queued_at: Instant,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<Vec<MailId>> {
        self.audited(audit, signer, |transaction, _| {
            mail::queue(transaction, mail, queued_at)
        })
    }

    fn claim_supplier_mail(&mut self, run: i64, now: Instant, limit: usize) -> Result<Vec<SupplierMail>> {
        mail::claim(self.client.get_mut(), run, now, limit)
    }

    fn record_supplier_mail(&mut self, run: i64, id: MailId, update: &OutboxUpdate) -> Result<()> {
        mail::record(self.client.get_mut(), run, id, update)
    }

    fn supplier_mail(&self, supplier: Option<SupplierId>) -> Result<Vec<SupplierMail>> {
        mail::list(&mut self.db()?, supplier)
    }

    fn suppliers(&self) -> Result<Vec<Supplier>> {
        records::suppliers(&mut self.db()?, None)
    }

    fn supplier_by_name(&self, name: &str) -> Result<Option<Supplier>> {
        Ok(records::suppliers(&mut self.db()?, Some(name))?
            .into_iter()
            .next())
    }

    fn record_share(
        &mut self,
        share: NewShare,
        set: &PersonSet,
        canaries: Vec<NewPerson>,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<RecordedShare> {
        self.audited(audit, signer, |transaction, draft| {
            records::record_share(transaction, share, set, canaries, draft)
        })
    }

    fn confirm_deletion(
        &mut self,
        share: ShareId,
        confirmed_at: Instant,
        backups_until: Option<Instant>,
        note: Option<&str>,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<()> {
        self.audited(audit, signer, |transaction, _| {
            let changed = transaction.execute(
                "UPDATE shares SET deleted_at = $2, backups_until = $3 WHERE id = $1 AND deleted_at IS NULL",
                &[
                    &share.get(),
                    &confirmed_at.unix_seconds(),
                    &backups_until.map(Instant::unix_seconds),
                ],
            )?;
            if changed == 0 {
                let exists = transaction
                    .query_opt("SELECT 1 FROM shares WHERE id = $1", &[&share.get()])?
                    .is_some();
                return Err(if exists {
                    Error::Conflict(format!("share {share} was confirmed deleted already"))
                } else {
                    Error::NotFound(format!("there is no share {share}"))
                });
            }
            if let Some(note) = note {
                transaction.execute(
                    "UPDATE share_deletion_requests SET note = $2 WHERE share = $1",
                    &[&share.get(), &note],
                )?;
            }
            Ok(())
        })
    }

    fn ask_deletion(
        &mut self,
        share: ShareId,
        asked_at: Instant,
        due_at: Instant,
        reason: &str,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<()> {
        self.audited(audit, signer, |transaction, _| {
            deletion_requests::ask(transaction, share, asked_at, due_at, reason)
        })
    }

    fn deletion_requests(&self, suppliers: Option<&[SupplierId]>) -> Result<Vec<DeletionRequest>> {
        deletion_requests::list(&mut self.db()?, suppliers)
    }

    fn shares(&self, suppliers: Option<&[SupplierId]>) -> Result<Vec<ShareRecord>> {
        records::shares(
            &mut self.db()?,
            crate::encoding::raw_ids(suppliers).as_deref(),
            None,
        )
    }

    fn share(&self, id: ShareId) -> Result<Option<ShareRecord>> {
        Ok(records::shares(&mut self.db()?, None, Some(id.get()))?
            .into_iter()
            .next())
    }

    fn share_people(&self, id: ShareId) -> Result<PersonSet> {
        if let Some(set) = self.kept.borrow().shares.get(&id.get()) {
            return Ok(set.clone());
        }
        let set = records::share_people(&mut self.db()?, id.get())?;
        // Only a committed share is kept: inside a write, or for a share not there, ask again.
        if !set.is_empty() {
            let mut kept = self.kept.borrow_mut();
            let size = set.serialized_size();
            if kept.bytes + size > KEPT_BYTES_MAX {
                kept.shares.clear();
                kept.bytes = 0;
            }
            if size <= KEPT_BYTES_MAX {
                kept.bytes += size;
                kept.shares.insert(id.get(), set.clone());
            }
        }
        Ok(set)
    }

    fn feed_people(&self, audience: &[PersonCategory], window: FeedWindow) -> Result<PersonSet> {
        records::feed_people(&mut self.db()?, audience, window)
    }

    fn category_people(&self, category: PersonCategory) -> Result<PersonSet> {
        let generation = records::feed_generation(&mut self.db()?)?;
        if let Some((kept_generation, sets)) = &self.kept.borrow().categories
            && *kept_generation == generation
            && let Some(set) = sets.get(&category)
        {
            return Ok(set.clone());
        }
        let set = records::category_people(&mut self.db()?, category)?;
        let mut kept = self.kept.borrow_mut();
        if kept
            .categories
            .as_ref()
            .is_none_or(|(kept_generation, _)| *kept_generation != generation)
        {
            kept.categories = Some((generation, HashMap::new()));
        }
        if let Some((_, sets)) = kept.categories.as_mut() {
            sets.insert(category, set.clone());
        }
        Ok(set)
    }

    fn former_people(&self) -> Result<PersonSet> {
        records::former_people(&mut self.db()?)
    }

    fn left_between(
        &self,
        from: Option<custody_core::Day>,
        until: Option<custody_core::Day>,
    ) -> Result<PersonSet> {
        records::left_between(&mut self.db()?, from, until)
    }

    fn left_counts(&self, people: &PersonSet, boundaries: &[custody_core::Day]) -> Result<Vec<u64>> {
        records::left_counts(&mut self.db()?, people, boundaries)
    }

    fn export_shares_of(&self, person: PersonId) -> Result<Vec<ShareId>> {
        records::shares_containing(&mut self.db()?, person)
            .map(|ids| ids.into_iter().map(ShareId::new).collect())
    }

    fn canaries(&self) -> Result<PersonSet> {
        people::canaries(&mut self.db()?)
    }

    fn open_incident(
        &mut self,
        incident: NewIncident,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<IncidentId> {
        self.audited(audit, signer, |transaction, draft| {
            events::open_incident(transaction, incident, draft)
        })
        .map(IncidentId::new)
    }

    fn incidents(&self) -> Result<Vec<IncidentRecord>> {
        events::incidents(&mut self.db()?, None)
    }

    fn incident(&self, id: IncidentId) -> Result<Option<IncidentRecord>> {
        Ok(events::incidents(&mut self.db()?, Some(id.get()))?
            .into_iter()
            .next())
    }

    fn append_incident_event(
        &mut self,
        incident: IncidentId,
        event: NewIncidentEvent,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<EventId> {
        self.audited(audit, signer, |transaction, draft| {
            events::append(transaction, incident.get(), &event, events::With::Nothing, draft)
        })
        .map(EventId::new)
    }

    fn incident_events(&self, incident: IncidentId) -> Result<Vec<IncidentEvent>> {
        events::events(&mut self.db()?, "incident_events", "incident", incident.get())
    }

    fn add_account(
        &mut self,
        account: NewAccount,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<AccountId> {
        self.audited(audit, signer, |transaction, draft| {
            desk::add_account(transaction, account, draft)
        })
        .map(AccountId::new)
    }

    fn accounts(&self) -> Result<Vec<AccountRecord>> {
        desk::accounts(&mut self.db()?, None)
    }

    fn account_named(&self, name: &str) -> Result<Option<AccountRecord>> {
        Ok(desk::accounts(&mut self.db()?, Some(name))?.into_iter().next())
    }

    fn set_account_password(
        &mut self,
        name: &str,
        password_hash: &str,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<()> {
        self.audited(audit, signer, |transaction, draft| {
            desk::set_password(transaction, name, password_hash, draft)
        })
    }

    fn take_totp_step(&mut self, name: &str, step: i64) -> Result<bool> {
        let changed = self.client.get_mut().execute(
            "UPDATE accounts SET totp_last_step = $2 WHERE lower(name COLLATE \"C\") = lower($1::text COLLATE \"C\") \
             AND (totp_last_step IS NULL OR totp_last_step < $2)",
            &[&name, &step],
        )?;
        Ok(changed == 1)
    }

    fn set_account_totp(
        &mut self,
        name: &str,
        sealed: Option<&[u8]>,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<()> {
        self.audited(audit, signer, |transaction, draft| {
            desk::set_totp(transaction, name, sealed, draft)
        })
    }

    fn disable_account(
        &mut self,
        name: &str,
        at: Instant,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<()> {
        self.audited(audit, signer, |transaction, draft| {
            desk::end_named(transaction, &desk::ACCOUNTS, name, at, draft)
        })
    }

    fn add_api_token(
        &mut self,
        token: NewApiToken,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<TokenId> {
        self.audited(audit, signer, |transaction, draft| {
            desk::add_token(transaction, token, draft)
        })
        .map(TokenId::new)
    }

    fn api_tokens(&self) -> Result<Vec<ApiTokenRecord>> {
        desk::tokens(&mut self.db()?, None)
    }

    fn api_token_by_hash(&self, hash: &[u8]) -> Result<Option<ApiTokenRecord>> {
        Ok(desk::tokens(&mut self.db()?, Some(hash))?.into_iter().next())
    }

    fn revoke_api_token(
        &mut self,
        name: &str,
        at: Instant,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<()> {
        self.audited(audit, signer, |transaction, draft| {
            desk::end_named(transaction, &desk::TOKENS, name, at, draft)
        })
    }

    fn append_evidence(
        &mut self,
        incident: IncidentId,
        event: NewIncidentEvent,
        people: &PersonSet,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<EventId> {
        self.audited(audit, signer, |transaction, draft| {
            events::append(
                transaction,
                incident.get(),
                &event,
                events::With::Evidence(people),
                draft,
            )
        })
        .map(EventId::new)
    }

    fn evidence_people(&self, incident: IncidentId) -> Result<PersonSet> {
        events::union_of(&mut self.db()?, "incident_evidence", incident.get())
    }

    fn file_report(
        &mut self,
        incident: IncidentId,
        event: NewIncidentEvent,
        report: NewFiledReport,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<EventId> {
        self.audited(audit, signer, |transaction, draft| {
            events::append(
                transaction,
                incident.get(),
                &event,
                events::With::Report(&report),
                draft,
            )
        })
        .map(EventId::new)
    }

    fn filed_reports(&self, incident: IncidentId) -> Result<Vec<FiledReport>> {
        events::filed_reports(&mut self.db()?, incident.get())
    }

    fn record_incident_people(
        &mut self,
        incident: IncidentId,
        event: NewIncidentEvent,
        people: &PersonSet,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<EventId> {
        self.audited(audit, signer, |transaction, draft| {
            events::append(
                transaction,
                incident.get(),
                &event,
                events::With::People(people),
                draft,
            )
        })
        .map(EventId::new)
    }

    fn incident_people(&self, incident: IncidentId) -> Result<PersonSet> {
        events::union_of(&mut self.db()?, "incident_people", incident.get())
    }

    fn identifiers_generation(&self) -> Result<Option<String>> {
        let row = self
            .db()?
            .query_opt(crate::generation::GET_POSTGRES, &[&crate::generation::KEY])?;
        Ok(row.map(|row| row.try_get(0)).transpose()?)
    }

    fn each_identifier(
        &self,
        kinds: &[IdentifierKind],
        visit: &mut dyn FnMut(IdentifierKind, &[u8], PersonId),
    ) -> Result<()> {
        people::each_identifier(&mut self.db()?, kinds, visit)
    }

    fn open_requests(
        &mut self,
        requests: Vec<NewRequest>,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<Vec<RequestId>> {
        self.audited(audit, signer, |transaction, draft| {
            events::open_requests(transaction, requests, draft)
        })
        .map(|ids| ids.into_iter().map(RequestId::new).collect())
    }

    fn requests(&self) -> Result<Vec<RequestRecord>> {
        events::requests(&mut self.db()?, None)
    }

    fn request(&self, id: RequestId) -> Result<Option<RequestRecord>> {
        Ok(events::requests(&mut self.db()?, Some(id.get()))?
            .into_iter()
            .next())
    }

    fn append_request_events(
        &mut self,
        request: RequestId,
        new: Vec<NewRequestEvent>,
        erasure: Option<Erasure>,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<Vec<EventId>> {
        self.audited(audit, signer, |transaction, draft| {
            events::append_request(transaction, request.get(), &new, erasure, draft)
        })
        .map(|ids| ids.into_iter().map(EventId::new).collect())
    }

    fn request_events(&self, request: RequestId) -> Result<Vec<RequestEvent>> {
        events::events(&mut self.db()?, "request_events", "request", request.get())
    }

    fn erasures_of_person(&self, person: PersonId) -> Result<Vec<Erasure>> {
        events::erasures(&mut self.db()?, "person", i64::from(person))
    }

    fn erasures_at_supplier(&self, supplier: SupplierId) -> Result<Vec<Erasure>> {
        events::erasures(&mut self.db()?, "supplier", supplier.get())
    }

    fn identifier_kinds(&self, person: PersonId) -> Result<Vec<IdentifierKind>> {
        people::identifier_kinds(&mut self.db()?, person)
    }

    fn enqueue_notices(
        &mut self,
        incident: IncidentId,
        messages: &mut dyn Iterator<Item = NewOutboxMessage>,
        letters: &[PersonId],
        queued_at: Instant,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<EnqueueCounts> {
        self.audited(audit, signer, |transaction, draft| {
            outbox::enqueue(transaction, incident.get(), messages, letters, queued_at, draft)
        })
    }

    fn notice_letters(&self, incident: IncidentId) -> Result<Vec<LetterRow>> {
        letters::letters(&mut self.db()?, incident.get())
    }

    fn record_letters_printed(
        &mut self,
        incident: IncidentId,
        people: &[PersonId],
        at: Instant,
        batch: &str,
        needed: bool,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<()> {
        self.audited(audit, signer, |transaction, draft| {
            letters::printed(transaction, incident.get(), (people, at, batch, needed), draft)
        })
    }

    fn record_letters_posted(
        &mut self,
        incident: IncidentId,
        batch: &str,
        at: Instant,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<u64> {
        self.audited(audit, signer, |transaction, draft| {
            letters::posted(transaction, incident.get(), batch, at, draft)
        })
    }

    fn letter_batches(&self, incident: IncidentId) -> Result<Vec<LetterBatchRow>> {
        letters::batches(&mut self.db()?, incident.get())
    }

    fn outbox_people(&self, incident: IncidentId, state: OutboxState) -> Result<PersonSet> {
        letters::outbox_people(&mut self.db()?, incident.get(), state)
    }

    fn claim_notices(
        &mut self,
        incident: IncidentId,
        run: EventId,
        now: Instant,
        limit: usize,
        include_failed: bool,
    ) -> Result<Vec<OutboxMessage>> {
        outbox::claim(
            self.client.get_mut(),
            incident.get(),
            run.get(),
            now,
            limit,
            include_failed,
        )
    }

    fn record_deliveries(&mut self, run: EventId, updates: &[(MessageId, OutboxUpdate)]) -> Result<()> {
        let updates: Vec<(i64, OutboxUpdate)> = updates
            .iter()
            .map(|(id, update)| (id.get(), update.clone()))
            .collect();
        outbox::apply(self.client.get_mut(), run.get(), &updates)
    }

    fn flush_deliveries(&mut self) -> Result<()> {
        // Answers are written as they come: there is no journal to apply.
        Ok(())
    }

    fn outbox_counts(&self, incident: IncidentId) -> Result<Vec<(OutboxState, u64)>> {
        outbox::counts(&mut self.db()?, incident.get())
    }

    fn outbox_in_state(
        &self,
        incident: IncidentId,
        state: OutboxState,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>> {
        outbox::in_state(&mut self.db()?, incident.get(), state, limit)
    }

    fn outbox_times(&self, incident: IncidentId) -> Result<(Option<Instant>, Option<Instant>)> {
        outbox::times(&mut self.db()?, incident.get())
    }

    fn set_relaxed_durability(&mut self, relaxed: bool) -> Result<()> {
        // Asynchronous commit: a server crash may lose the last answers recorded (a notice may
        // then go out twice, never be lost); it never corrupts anything.
        let setting = if relaxed { "off" } else { "on" };
        self.client
            .get_mut()
            .batch_execute(&format!("SET synchronous_commit = {setting}"))?;
        Ok(())
    }

    fn update_desk_state(
        &mut self,
        kind: &str,
        keys: &[Vec<u8>],
        update: &mut dyn FnMut(&mut [Option<DeskStateRecord>]) -> Result<()>,
    ) -> Result<()> {
        desk_state::update(self.client.get_mut(), kind, keys, update)
    }

    fn remove_desk_state(
        &mut self,
        kind: &str,
        owner: Option<&str>,
        keep: Option<&[u8]>,
        stale_before: i64,
    ) -> Result<u64> {
        desk_state::remove(self.client.get_mut(), kind, owner, keep, stale_before)
    }

    fn copy_into_sqlite_file(&mut self, path: &std::path::Path) -> Result<crate::transfer::Copied> {
        crate::transfer::postgres_into_sqlite(self.client.get_mut(), path)
    }

    fn fill_from_sqlite_file(&mut self, path: &std::path::Path) -> Result<crate::transfer::Copied> {
        if !self.is_empty()? {
            return Err(Error::Conflict(format!(
                "{} holds a ledger already; give an empty database",
                self.url
            )));
        }
        crate::transfer::sqlite_into_postgres(path, self.client.get_mut())
    }

    fn table_counts(&mut self) -> Result<crate::transfer::Copied> {
        crate::transfer::postgres_counts(self.client.get_mut())
    }

    fn append_audit(&mut self, draft: AuditDraft, signer: &dyn AuditSigner) -> Result<AuditEntry> {
        if self.snapshots.get() > 0 {
            return Err(Error::Corrupt(
                "a write was tried inside a read snapshot".to_owned(),
            ));
        }
        let mut transaction = self.client.get_mut().transaction()?;
        transaction.batch_execute(WRITE_LOCK)?;
        audit::refuse_if_emptied(&mut transaction)?;
        let entry = audit::append(&mut transaction, draft, signer)?;
        transaction.commit()?;
        Ok(entry)
    }

    fn audit_entries(&self, visit: &mut dyn FnMut(AuditEntry) -> Result<()>) -> Result<()> {
        audit::each(&mut self.db()?, visit)
    }

    fn audit_head(&self) -> Result<Option<AuditEntry>> {
        audit::head(&mut self.db()?)
    }

    fn settle_audit(&mut self, _signer: &dyn AuditSigner) -> Result<()> {
        // The record of the chain's end is kept in the transaction that appends: nothing is
        // left to settle after a commit.
        Ok(())
    }

    fn keeps_audit_head(&self) -> bool {
        true
    }

    fn kept_audit_head(&self) -> Result<Option<String>> {
        audit::kept(&mut *self.client()?)
    }

    fn rekeep_audit_head(&mut self, signer: &dyn AuditSigner) -> Result<i64> {
        let mut transaction = self.client.get_mut().transaction()?;
        transaction.batch_execute(WRITE_LOCK)?;
        let seq = audit::rekeep(&mut transaction, signer)?;
        transaction.commit()?;
        Ok(seq)
    }
}
