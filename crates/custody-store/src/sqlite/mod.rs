//! The SQLite implementation of [`Store`]: one file in the data directory, in WAL mode.

mod accounts;
mod audit;
mod contacts;
mod deletion_requests;
mod desk_state;
mod feeds;
mod incidents;
mod journal;
mod letters;
mod mail;
mod outbox;
mod people;
mod people_bulk;
mod requests;
mod shares;

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use custody_core::{
    AccountId, EventId, FeedWindow, IdentifierKind, IncidentId, Instant, MailId, MessageId, PersonCategory,
    PersonId, PersonSet, PersonStatus, RequestId, ShareId, SupplierId, TokenId,
};

use crate::error::{Error, Result};
use crate::types::*;
use crate::{AuditSigner, PersonRows, ReadSnapshot, Store};

/// Schema migrations, in order; version N is the first N applied.
const MIGRATIONS: [&str; 17] = [
    concat!(include_str!("schema.sql"), include_str!("indexes.sql")),
    include_str!("incidents.sql"),
    include_str!("requests.sql"),
    include_str!("outbox.sql"),
    include_str!("evidence.sql"),
    include_str!("accounts.sql"),
    include_str!("totp_steps.sql"),
    include_str!("filed_reports.sql"),
    include_str!("in_house.sql"),
    include_str!("rights.sql"),
    include_str!("desk_state.sql"),
    include_str!("supplier_contacts.sql"),
    include_str!("supplier_accounts.sql"),
    include_str!("supplier_mail.sql"),
    include_str!("letters.sql"),
    include_str!("deletion_requests.sql"),
    include_str!("people_digests_places.sql"),
];

/// Name of the database file inside a data directory.
pub const DATABASE_FILE_NAME: &str = "custody.db";

/// The SQLite store.
pub struct SqliteStore {
    connection: Connection,
    /// The delivery journal's place, beside the database.
    journal_path: std::path::PathBuf,
    /// Open while a notification run records deliveries.
    journal: Option<journal::Journal>,
}

/// How long a write waits for another's lock before failing, usually.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The page size of a new database. SQLite's default of 4 KiB made the single thread that
/// writes an import the slowest part of it: a first import of 3M people wrote 1.4 GB a page at
/// a time, and a fifth of its append of 14 million identifier pairs was the kernel copying those
/// pages. At 16 KiB the import took 5 to 10% less time and the re-import about 8% less; the
/// notification benchmark and the holdings and impact queries were unchanged. SQLite allows up to
/// 64 KiB. A database made before keeps its 4 KiB pages, and so do its backups and restores
/// (`VACUUM INTO` copies pages as they are); only `VACUUM` out of WAL mode would change them.
const NEW_PAGE_SIZE: i64 = 16_384;

/// The pages of WAL after which it is checkpointed: 64 MiB when durability is relaxed, else
/// SQLite's default of 1,000 pages of 4 KiB, whatever the page size.
fn checkpoint_pages(relaxed: bool, page_size: i64) -> i64 {
    let bytes: i64 = if relaxed { 64 << 20 } else { 1_000 * 4_096 };
    bytes / page_size.max(512)
}

/// Page cache of a lookup connection, in KiB (negative: SQLite's unit for a size, not pages).
const LOOKUP_CACHE_KIB: i64 = -16_384;

/// Creates an empty database file with mode 0600, unless one exists.
fn create_private(path: &Path) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(Error::Corrupt(format!("{}: {error}", path.display()))),
    }
}

impl SqliteStore {
    /// The database file.
    fn file(&self) -> Result<std::path::PathBuf> {
        self.connection
            .path()
            .map(std::path::PathBuf::from)
            .ok_or_else(|| Error::Corrupt("the database has no file".to_owned()))
    }

    /// Marks this ledger as moved to `to` (a PostgreSQL database it was copied into), under the
    /// write lock and only if its chain still ends at `end` (nothing was written since the copy);
    /// `switch` (pointing the settings at the new store) runs inside, and the mark is kept only if
    /// it succeeds. From then on every audited write here is refused, so a process that opened
    /// the file before cannot write where no one will look. Returns whether the file holds the
    /// mark itself (its write-ahead log emptied), so it may be renamed.
    pub fn retire(
        &mut self,
        to: &str,
        end: Option<(i64, String)>,
        switch: &mut dyn FnMut() -> Result<()>,
    ) -> Result<bool> {
        let transaction = self.connection.transaction()?;
        let now: Option<(i64, Vec<u8>)> = transaction
            .query_row(
                "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        if now.map(|(seq, hash)| (seq, crate::encoding::hex(&hash))) != end {
            return Err(Error::Conflict(
                "something wrote to the ledger while it was copied (stop the desk and every other command first)"
                    .to_owned(),
            ));
        }
        transaction.execute(
            "INSERT INTO meta (key, value) VALUES ('moved_to', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [to],
        )?;
        switch()?;
        transaction.commit()?;
        // Into the file itself, so it may be renamed (a write-ahead log left beside the old name
        // would not follow it): false when a reader elsewhere kept the log from being emptied.
        let busy: rusqlite::Result<i64> =
            self.connection
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0));
        Ok(matches!(busy, Ok(0)))
    }

    /// Opens (creating when `create`) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path, create: bool) -> Result<Self> {
        use rusqlite::OpenFlags;
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
            // Made readable by its owner only before SQLite opens it: SQLite gives the WAL, the
            // shared-memory index and rollback journals the database file's permissions.
            create_private(path)?;
        }
        let mut connection = Connection::open_with_flags(path, flags)?;
        if create {
            // Before the first write, which fixes it; a database that already exists keeps its own.
            connection.pragma_update(None, "page_size", NEW_PAGE_SIZE)?;
        }
        // WAL lets readers (the web desk) work while a writer imports. Synchronous FULL makes
        // every commit durable before custody says it is done and moves the audit anchor, so a
        // power cut cannot undo a change the user was told about. A 256 MiB page cache keeps
        // the lookup indexes of a large import in memory.
        connection.pragma_update(None, "journal_mode", "WAL")?;
        // SQLite's interval counts pages: the same bytes of WAL whatever the database's pages.
        let page: i64 = connection.query_row("PRAGMA page_size", [], |row| row.get(0))?;
        connection.pragma_update(None, "wal_autocheckpoint", checkpoint_pages(false, page))?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        connection.pragma_update(None, "cache_size", -262_144)?;
        connection.pragma_update(None, "temp_store", "MEMORY")?;
        // Plans never depend on the values bound. Without this, a query on `people` with a
        // parameter is planned again on every run: checking whether its parameter rules in the
        // partial index `people_canary` marks the statement for re-planning when its bindings
        // are cleared, which the statement cache does each time (half of a re-import's time).
        connection.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        // Let the sorter that builds indexes after a bulk import use a second core.
        connection.pragma_update(None, "threads", 2)?;
        connection.busy_timeout(LOCK_WAIT)?;
        // Every write transaction takes the write lock when it begins, so that a second writer
        // (the desk's other requests, a command run beside it) waits for it under the busy
        // timeout instead of failing when it upgrades from reading to writing.
        connection.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
        let mut store = SqliteStore {
            connection,
            journal_path: journal::path_for(path),
            journal: None,
        };
        store.migrate()?;
        // Deliveries a killed notification run recorded but had not applied yet.
        journal::replay(&mut store.connection, &store.journal_path)?;
        Ok(store)
    }

    /// Brings the schema up to date, one numbered migration per transaction. A database from a
    /// newer custody is refused rather than guessed at.
    fn migrate(&mut self) -> Result<()> {
        let has_meta: bool = self.connection.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
            [],
            |row| row.get::<_, i64>(0).map(|count| count > 0),
        )?;
        let current: u32 = if has_meta {
            let version: Option<String> = self
                .connection
                .query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |row| {
                    row.get(0)
                })
                .optional()?;
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
        if current == latest {
            return Ok(());
        }
        // A migration may rebuild a table others refer to (SQLite's way to change a column):
        // foreign keys are off while migrations run, and checked whole before they are on again.
        // The pragma has no effect inside a transaction, so it is set outside.
        self.connection.pragma_update(None, "foreign_keys", "OFF")?;
        let migrated = self.run_migrations(current);
        self.connection.pragma_update(None, "foreign_keys", "ON")?;
        migrated
    }

    fn run_migrations(&mut self, current: u32) -> Result<()> {
        for (index, migration) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            let version = (index + 1).to_string();
            let transaction = self.connection.transaction()?;
            transaction.execute_batch(migration)?;
            if index + 1 == MIGRATIONS.len() {
                // Version 2 added the feeds' former column and version 17 the places: both are
                // filled from the people already stored, with the code of the latest version.
                feeds::rebuild(&transaction)?;
            }
            transaction.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?1) \
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [&version],
            )?;
            let broken: Option<String> = transaction
                .query_row(
                    "SELECT \"table\" FROM pragma_foreign_key_check LIMIT 1",
                    [],
                    |row| row.get(0),
                )
                .optional()?;
            if let Some(table) = broken {
                return Err(Error::Corrupt(format!(
                    "schema version {version} would leave rows of {table} referring to nothing; nothing was changed"
                )));
            }
            transaction.commit()?;
        }
        Ok(())
    }
}

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn reopen(&self) -> Result<Box<dyn Store + Send>> {
        let path = self
            .connection
            .path()
            .ok_or_else(|| Error::Corrupt("the database has no file to open again".to_owned()))?;
        Ok(Box::new(SqliteStore::open(Path::new(path), false)?))
    }

    fn reopen_for_lookups(&self) -> Result<Box<dyn Store + Send>> {
        let path = self
            .connection
            .path()
            .ok_or_else(|| Error::Corrupt("the database has no file to open again".to_owned()))?;
        let store = SqliteStore::open(Path::new(path), false)?;
        // One of an import's workers' connections: 16 MiB of pages each, not the writer's 256.
        store
            .connection
            .pragma_update(None, "cache_size", LOOKUP_CACHE_KIB)?;
        Ok(Box::new(store))
    }

    fn runs_may_overlap(&self) -> bool {
        false
    }

    fn hold_writes(&mut self) -> Result<()> {
        // One desk process serves a SQLite ledger, and holds its writes one at a time itself.
        Ok(())
    }

    fn release_writes(&mut self) -> Result<()> {
        Ok(())
    }

    fn set_lock_wait(&mut self, wait: std::time::Duration) -> Result<()> {
        Ok(self.connection.busy_timeout(wait)?)
    }

    fn read_snapshot(&self) -> Result<ReadSnapshot<'_>> {
        // A savepoint outside a transaction begins a deferred one; inside, it nests.
        self.connection.execute_batch("SAVEPOINT custody_read")?;
        Ok(ReadSnapshot::new(move || {
            // Releasing a read-only savepoint cannot lose anything; a failure leaves the
            // transaction to end with the connection.
            let _ = self.connection.execute_batch("RELEASE custody_read");
        }))
    }

    fn check_key(&mut self, check_value: &str) -> Result<()> {
        let stored: Option<String> = self
            .connection
            .query_row("SELECT value FROM meta WHERE key = 'key_check'", [], |row| {
                row.get(0)
            })
            .optional()?;
        match stored {
            Some(value) if value == check_value => Ok(()),
            Some(_) => Err(Error::Incompatible(
                "this key does not belong to this database (its key check differs); \
                 use the key file made by `custody init` for this directory"
                    .to_owned(),
            )),
            None => {
                self.connection.execute(
                    "INSERT INTO meta (key, value) VALUES ('key_check', ?1)",
                    [check_value],
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
        // A first import into an empty store writes every page once through a rollback journal
        // (which holds nothing, the store being empty) instead of twice through the WAL. The
        // switch needs this to be the only connection; if another is open, the WAL is kept.
        // Synchronous is FULL throughout: the journal is synced before any page of the database
        // is overwritten, so a power cut cannot leave a half-written store.
        let empty: bool =
            self.connection
                .query_row("SELECT NOT EXISTS (SELECT 1 FROM people)", [], |row| row.get(0))?;
        let rollback_journal = empty
            && self
                .connection
                .query_row("PRAGMA journal_mode = DELETE", [], |row| row.get::<_, String>(0))
                .is_ok_and(|mode| mode.eq_ignore_ascii_case("delete"));
        let result = people::import(&mut self.connection, rows, read_at, audit, signer);
        if rollback_journal {
            // The import is committed (or rolled back) already; if WAL cannot be restored now,
            // the next open restores it, so the import's own outcome is what is reported.
            let _ = self
                .connection
                .query_row("PRAGMA journal_mode = WAL", [], |row| row.get::<_, String>(0));
        }
        result
    }

    fn has_people(&self) -> Result<bool> {
        Ok(self
            .connection
            .query_row("SELECT EXISTS (SELECT 1 FROM people)", [], |row| row.get(0))?)
    }

    fn place_people(&self) -> Result<Vec<(String, PersonSet)>> {
        feeds::places(&self.connection)
    }

    fn source_digests(&self) -> Result<HeldDigests> {
        let _snapshot = self.read_snapshot()?;
        Ok(HeldDigests {
            at: ReadAt(self.identifiers_generation()?),
            digests: people::source_digests(&self.connection)?,
        })
    }

    fn person_by_ref(&self, reference: &str) -> Result<Option<PersonRecord>> {
        people::by_column(&self.connection, "ref", &reference)
    }

    fn person(&self, id: PersonId) -> Result<Option<PersonRecord>> {
        people::by_column(&self.connection, "id", &id)
    }

    fn person_id_by_ref(&self, reference: &str) -> Result<Option<PersonId>> {
        let mut statement = self
            .connection
            .prepare_cached("SELECT id FROM people WHERE ref = ?1")?;
        Ok(statement.query_row([reference], |row| row.get(0)).optional()?)
    }

    fn person_ids_by_refs(&self, references: &[String]) -> Result<Vec<Option<PersonId>>> {
        references
            .iter()
            .map(|reference| self.person_id_by_ref(reference))
            .collect()
    }

    fn people_by_identifiers(&self, hashes: &[[u8; 16]]) -> Result<Vec<Vec<PersonId>>> {
        hashes
            .iter()
            .map(|hash| people::by_identifier(&self.connection, IdentifierKind::EmailStrict, hash))
            .collect()
    }

    fn people_by_identifier(&self, kind: IdentifierKind, hash: &[u8]) -> Result<Vec<PersonId>> {
        people::by_identifier(&self.connection, kind, hash)
    }

    fn references(&self, set: &PersonSet) -> Result<Vec<String>> {
        people::references(&self.connection, set)
    }

    fn each_person(&self, set: &PersonSet, visit: &mut dyn FnMut(PersonRecord) -> Result<()>) -> Result<()> {
        people::each_of(&self.connection, set, visit)
    }

    fn each_contact(&self, only: Option<&PersonSet>, visit: &mut crate::ContactVisitor<'_>) -> Result<()> {
        match only {
            Some(set) => people::contacts_of(&self.connection, set, visit),
            None => people::each_contact(&self.connection, visit),
        }
    }

    fn people_counts(&self) -> Result<Vec<(PersonCategory, PersonStatus, u64)>> {
        people::counts(&self.connection)
    }

    fn add_supplier(
        &mut self,
        supplier: NewSupplier,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<SupplierId> {
        shares::add_supplier(&mut self.connection, supplier, audit, signer).map(SupplierId::new)
    }

    fn set_supplier_transfer(
        &mut self,
        id: SupplierId,
        country: Option<&str>,
        safeguard: Option<&str>,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<()> {
        shares::set_supplier_transfer(&mut self.connection, id.get(), country, safeguard, audit, signer)
    }

    fn set_share_marketing(
        &mut self,
        id: ShareId,
        marketing: bool,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<()> {
        shares::set_share_marketing(&mut self.connection, id.get(), marketing, audit, signer)
    }

    fn add_supplier_contact(
        &mut self,
        contact: SupplierContact,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<()> {
        contacts::add(&mut self.connection, contact, audit, signer)
    }

    fn remove_supplier_contact(
        &mut self,
        supplier: SupplierId,
        email: &str,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<()> {
        contacts::remove(&mut self.connection, supplier, email, audit, signer)
    }

    fn supplier_contacts(&self, supplier: SupplierId) -> Result<Vec<SupplierContact>> {
        contacts::list(&self.connection, supplier)
    }

    fn queue_supplier_mail(
        &mut self,
        mail: &[SupplierMailText],
        queued_at: Instant,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<Vec<MailId>> {
        mail::queue(&mut self.connection, mail, queued_at, audit, signer)
    }

    fn claim_supplier_mail(&mut self, run: i64, now: Instant, limit: usize) -> Result<Vec<SupplierMail>> {
        mail::claim(&mut self.connection, run, now, limit)
    }

    fn record_supplier_mail(&mut self, run: i64, id: MailId, update: &OutboxUpdate) -> Result<()> {
        mail::record(&mut self.connection, run, id, update)
    }

    fn supplier_mail(&self, supplier: Option<SupplierId>) -> Result<Vec<SupplierMail>> {
        mail::list(&self.connection, supplier)
    }

    fn suppliers(&self) -> Result<Vec<Supplier>> {
        shares::suppliers(&self.connection, None)
    }

    fn supplier_by_name(&self, name: &str) -> Result<Option<Supplier>> {
        Ok(shares::suppliers(&self.connection, Some(name))?
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
        shares::record(&mut self.connection, share, set, canaries, audit, signer)
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
        let transaction = self.connection.transaction()?;
        let changed = transaction.execute(
            "UPDATE shares SET deleted_at = ?2, backups_until = ?3 WHERE id = ?1 AND deleted_at IS NULL",
            params![
                share.get(),
                confirmed_at.unix_seconds(),
                backups_until.map(Instant::unix_seconds)
            ],
        )?;
        if changed == 0 {
            let exists: bool = transaction.query_row(
                "SELECT EXISTS (SELECT 1 FROM shares WHERE id = ?1)",
                [share.get()],
                |row| row.get(0),
            )?;
            return Err(if exists {
                Error::Conflict(format!("share {share} was confirmed deleted already"))
            } else {
                Error::NotFound(format!("there is no share {share}"))
            });
        }
        if let Some(note) = note {
            transaction.execute(
                "UPDATE share_deletion_requests SET note = ?2 WHERE share = ?1",
                params![share.get(), note],
            )?;
        }
        audit::append(&transaction, audit, signer)?;
        transaction.commit()?;
        Ok(())
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
        deletion_requests::ask(
            &mut self.connection,
            share,
            asked_at,
            due_at,
            reason,
            audit,
            signer,
        )
    }

    fn deletion_requests(&self, suppliers: Option<&[SupplierId]>) -> Result<Vec<DeletionRequest>> {
        deletion_requests::list(&self.connection, suppliers)
    }

    fn shares(&self, suppliers: Option<&[SupplierId]>) -> Result<Vec<ShareRecord>> {
        shares::list(
            &self.connection,
            crate::encoding::raw_ids(suppliers).as_deref(),
            None,
        )
    }

    fn share(&self, id: ShareId) -> Result<Option<ShareRecord>> {
        Ok(shares::list(&self.connection, None, Some(id.get()))?
            .into_iter()
            .next())
    }

    fn share_people(&self, id: ShareId) -> Result<PersonSet> {
        shares::people(&self.connection, id.get())
    }

    fn feed_people(&self, audience: &[PersonCategory], window: FeedWindow) -> Result<PersonSet> {
        feeds::people(&self.connection, audience, window)
    }

    fn category_people(&self, category: PersonCategory) -> Result<PersonSet> {
        feeds::category(&self.connection, category)
    }

    fn former_people(&self) -> Result<PersonSet> {
        feeds::former(&self.connection)
    }

    fn left_between(
        &self,
        from: Option<custody_core::Day>,
        until: Option<custody_core::Day>,
    ) -> Result<PersonSet> {
        let (from, until) = (from.map(|day| day.to_iso()), until.map(|day| day.to_iso()));
        feeds::left_between(&self.connection, from.as_deref(), until.as_deref())
    }

    fn left_counts(&self, people: &PersonSet, boundaries: &[custody_core::Day]) -> Result<Vec<u64>> {
        let days: Vec<String> = boundaries.iter().map(|day| day.to_iso()).collect();
        let days: Vec<&str> = days.iter().map(String::as_str).collect();
        feeds::left_counts(&self.connection, people, &days)
    }

    fn export_shares_of(&self, person: PersonId) -> Result<Vec<ShareId>> {
        shares::containing(&self.connection, person).map(|ids| ids.into_iter().map(ShareId::new).collect())
    }

    fn canaries(&self) -> Result<PersonSet> {
        let mut statement = self
            .connection
            .prepare_cached("SELECT id FROM people WHERE canary_share IS NOT NULL")?;
        let ids = statement.query_map([], |row| row.get::<_, u32>(0))?;
        let mut set = PersonSet::new();
        for id in ids {
            set.insert(id?);
        }
        Ok(set)
    }

    fn open_incident(
        &mut self,
        incident: NewIncident,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<IncidentId> {
        incidents::open(&mut self.connection, incident, audit, signer).map(IncidentId::new)
    }

    fn incidents(&self) -> Result<Vec<IncidentRecord>> {
        incidents::list(&self.connection)
    }

    fn incident(&self, id: IncidentId) -> Result<Option<IncidentRecord>> {
        incidents::one(&self.connection, id.get())
    }

    fn append_incident_event(
        &mut self,
        incident: IncidentId,
        event: NewIncidentEvent,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<EventId> {
        incidents::append(
            &mut self.connection,
            incident.get(),
            event,
            incidents::With::Nothing,
            audit,
            signer,
        )
        .map(EventId::new)
    }

    fn incident_events(&self, incident: IncidentId) -> Result<Vec<IncidentEvent>> {
        incidents::events(&self.connection, incident.get())
    }

    fn add_account(
        &mut self,
        account: NewAccount,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<AccountId> {
        accounts::add_account(&mut self.connection, account, audit, signer).map(AccountId::new)
    }

    fn accounts(&self) -> Result<Vec<AccountRecord>> {
        accounts::accounts(&self.connection)
    }

    fn account_named(&self, name: &str) -> Result<Option<AccountRecord>> {
        accounts::account_named(&self.connection, name)
    }

    fn set_account_totp(
        &mut self,
        name: &str,
        sealed: Option<&[u8]>,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<()> {
        accounts::set_account_totp(&mut self.connection, name, sealed, audit, signer)
    }

    fn set_account_password(
        &mut self,
        name: &str,
        password_hash: &str,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<()> {
        accounts::set_account_password(&mut self.connection, name, password_hash, audit, signer)
    }

    fn take_totp_step(&mut self, name: &str, step: i64) -> Result<bool> {
        accounts::take_totp_step(&self.connection, name, step)
    }

    fn disable_account(
        &mut self,
        name: &str,
        at: Instant,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<()> {
        accounts::disable_account(&mut self.connection, name, at, audit, signer)
    }

    fn add_api_token(
        &mut self,
        token: NewApiToken,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<TokenId> {
        accounts::add_token(&mut self.connection, token, audit, signer).map(TokenId::new)
    }

    fn api_tokens(&self) -> Result<Vec<ApiTokenRecord>> {
        accounts::tokens(&self.connection)
    }

    fn api_token_by_hash(&self, hash: &[u8]) -> Result<Option<ApiTokenRecord>> {
        accounts::token_by_hash(&self.connection, hash)
    }

    fn revoke_api_token(
        &mut self,
        name: &str,
        at: Instant,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<()> {
        accounts::revoke_token(&mut self.connection, name, at, audit, signer)
    }

    fn append_evidence(
        &mut self,
        incident: IncidentId,
        event: NewIncidentEvent,
        people: &PersonSet,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<EventId> {
        incidents::append(
            &mut self.connection,
            incident.get(),
            event,
            incidents::With::Evidence(people),
            audit,
            signer,
        )
        .map(EventId::new)
    }

    fn evidence_people(&self, incident: IncidentId) -> Result<PersonSet> {
        incidents::evidence_people(&self.connection, incident.get())
    }

    fn file_report(
        &mut self,
        incident: IncidentId,
        event: NewIncidentEvent,
        report: NewFiledReport,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<EventId> {
        incidents::append(
            &mut self.connection,
            incident.get(),
            event,
            incidents::With::Report(&report),
            audit,
            signer,
        )
        .map(EventId::new)
    }

    fn filed_reports(&self, incident: IncidentId) -> Result<Vec<FiledReport>> {
        incidents::filed_reports(&self.connection, incident.get())
    }

    fn record_incident_people(
        &mut self,
        incident: IncidentId,
        event: NewIncidentEvent,
        people: &PersonSet,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<EventId> {
        incidents::append(
            &mut self.connection,
            incident.get(),
            event,
            incidents::With::People(people),
            audit,
            signer,
        )
        .map(EventId::new)
    }

    fn incident_people(&self, incident: IncidentId) -> Result<PersonSet> {
        incidents::in_house_people(&self.connection, incident.get())
    }

    fn identifiers_generation(&self) -> Result<Option<String>> {
        crate::generation::read_sqlite(&self.connection)
    }

    fn each_identifier(
        &self,
        kinds: &[IdentifierKind],
        visit: &mut dyn FnMut(IdentifierKind, &[u8], PersonId),
    ) -> Result<()> {
        people::each_identifier(&self.connection, kinds, visit)
    }

    fn open_requests(
        &mut self,
        requests: Vec<NewRequest>,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<Vec<RequestId>> {
        requests::open(&mut self.connection, requests, audit, signer)
            .map(|ids| ids.into_iter().map(RequestId::new).collect())
    }

    fn requests(&self) -> Result<Vec<RequestRecord>> {
        requests::list(&self.connection)
    }

    fn request(&self, id: RequestId) -> Result<Option<RequestRecord>> {
        requests::one(&self.connection, id.get())
    }

    fn append_request_events(
        &mut self,
        request: RequestId,
        events: Vec<NewRequestEvent>,
        erasure: Option<Erasure>,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<Vec<EventId>> {
        requests::append(
            &mut self.connection,
            request.get(),
            events,
            erasure,
            audit,
            signer,
        )
        .map(|ids| ids.into_iter().map(EventId::new).collect())
    }

    fn request_events(&self, request: RequestId) -> Result<Vec<RequestEvent>> {
        requests::events(&self.connection, request.get())
    }

    fn erasures_of_person(&self, person: PersonId) -> Result<Vec<Erasure>> {
        requests::erasures(&self.connection, "person", i64::from(person))
    }

    fn erasures_at_supplier(&self, supplier: SupplierId) -> Result<Vec<Erasure>> {
        requests::erasures(&self.connection, "supplier", supplier.get())
    }

    fn identifier_kinds(&self, person: PersonId) -> Result<Vec<IdentifierKind>> {
        requests::identifier_kinds(&self.connection, person)
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
        outbox::enqueue(
            &mut self.connection,
            incident.get(),
            messages,
            letters,
            queued_at,
            audit,
            signer,
        )
    }

    fn notice_letters(&self, incident: IncidentId) -> Result<Vec<LetterRow>> {
        letters::letters(&self.connection, incident.get())
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
        letters::printed(
            &mut self.connection,
            incident.get(),
            (people, at, batch, needed),
            audit,
            signer,
        )
    }

    fn record_letters_posted(
        &mut self,
        incident: IncidentId,
        batch: &str,
        at: Instant,
        audit: AuditDraft,
        signer: &dyn AuditSigner,
    ) -> Result<u64> {
        letters::posted(&mut self.connection, incident.get(), batch, at, audit, signer)
    }

    fn letter_batches(&self, incident: IncidentId) -> Result<Vec<LetterBatchRow>> {
        letters::batches(&self.connection, incident.get())
    }

    fn outbox_people(&self, incident: IncidentId, state: OutboxState) -> Result<PersonSet> {
        letters::outbox_people(&self.connection, incident.get(), state)
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
            &mut self.connection,
            incident.get(),
            run.get(),
            now,
            limit,
            include_failed,
        )
    }

    fn record_deliveries(&mut self, run: EventId, updates: &[(MessageId, OutboxUpdate)]) -> Result<()> {
        let run = run.get();
        match &mut self.journal {
            Some(journal) => {
                let updates: Vec<(i64, OutboxUpdate)> = updates
                    .iter()
                    .map(|(id, update)| (id.get(), update.clone()))
                    .collect();
                journal.record(&mut self.connection, run, &updates)
            }
            None => {
                let updates: Vec<(i64, i64, OutboxUpdate)> = updates
                    .iter()
                    .map(|(id, update)| (run, id.get(), update.clone()))
                    .collect();
                outbox::apply(&mut self.connection, &updates)
            }
        }
    }

    fn flush_deliveries(&mut self) -> Result<()> {
        match &mut self.journal {
            Some(journal) => journal.flush(&mut self.connection),
            None => Ok(()),
        }
    }

    fn outbox_counts(&self, incident: IncidentId) -> Result<Vec<(OutboxState, u64)>> {
        outbox::counts(&self.connection, incident.get())
    }

    fn outbox_in_state(
        &self,
        incident: IncidentId,
        state: OutboxState,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>> {
        outbox::in_state(&self.connection, incident.get(), state, limit)
    }

    fn outbox_times(&self, incident: IncidentId) -> Result<(Option<Instant>, Option<Instant>)> {
        outbox::times(&self.connection, incident.get())
    }

    fn set_relaxed_durability(&mut self, relaxed: bool) -> Result<()> {
        if relaxed {
            if self.journal.is_none() {
                self.journal = Some(journal::Journal::open(
                    &mut self.connection,
                    self.journal_path.clone(),
                )?);
            }
        } else if let Some(journal) = self.journal.take() {
            journal.close(&mut self.connection)?;
        }
        self.connection
            .pragma_update(None, "synchronous", if relaxed { "NORMAL" } else { "FULL" })?;
        // Thousands of small commits a second: checkpoint (and sync) the WAL every 64 MiB, not
        // every 4 MiB. The pragma counts pages, whose size is the database's own.
        let page: i64 = self
            .connection
            .query_row("PRAGMA page_size", [], |row| row.get(0))?;
        self.connection
            .pragma_update(None, "wal_autocheckpoint", checkpoint_pages(relaxed, page))?;
        Ok(())
    }

    fn update_desk_state(
        &mut self,
        kind: &str,
        keys: &[Vec<u8>],
        update: &mut dyn FnMut(&mut [Option<DeskStateRecord>]) -> Result<()>,
    ) -> Result<()> {
        desk_state::update(&mut self.connection, kind, keys, update)
    }

    fn remove_desk_state(
        &mut self,
        kind: &str,
        owner: Option<&str>,
        keep: Option<&[u8]>,
        stale_before: i64,
    ) -> Result<u64> {
        desk_state::remove(&self.connection, kind, owner, keep, stale_before)
    }

    fn copy_into_sqlite_file(&mut self, path: &Path) -> Result<crate::transfer::Copied> {
        self.flush_deliveries()?;
        let from = self.file()?;
        crate::transfer::sqlite_into_sqlite(&from, path)?;
        crate::transfer::sqlite_counts(path)
    }

    fn fill_from_sqlite_file(&mut self, path: &Path) -> Result<crate::transfer::Copied> {
        if self.has_people()? || self.audit_head()?.is_some() {
            return Err(Error::Conflict("this store holds a ledger already".to_owned()));
        }
        let target = self.file()?;
        let transaction = self.connection.transaction()?;
        transaction.execute("ATTACH DATABASE ?1 AS source", [path.to_string_lossy()])?;
        let copied = (|| -> Result<()> {
            for table in crate::transfer::TABLES {
                let filter = if table == "meta" {
                    " WHERE key = 'key_check'"
                } else {
                    ""
                };
                transaction.execute(&format!("DELETE FROM main.{table}{filter}"), [])?;
                transaction.execute(
                    &format!("INSERT INTO main.{table} SELECT * FROM source.{table}{filter}"),
                    [],
                )?;
            }
            Ok(())
        })();
        // A table that could not be copied leaves nothing copied.
        match copied {
            Ok(()) => transaction.commit()?,
            Err(error) => {
                drop(transaction);
                let _ = self.connection.execute("DETACH DATABASE source", []);
                return Err(error);
            }
        }
        self.connection.execute("DETACH DATABASE source", [])?;
        crate::transfer::sqlite_counts(&target)
    }

    fn table_counts(&mut self) -> Result<crate::transfer::Copied> {
        crate::transfer::sqlite_counts(&self.file()?)
    }

    fn append_audit(&mut self, draft: AuditDraft, signer: &dyn AuditSigner) -> Result<AuditEntry> {
        let transaction = self.connection.transaction()?;
        let entry = audit::append(&transaction, draft, signer)?;
        transaction.commit()?;
        Ok(entry)
    }

    fn audit_entries(&self, visit: &mut dyn FnMut(AuditEntry) -> Result<()>) -> Result<()> {
        audit::each(&self.connection, visit)
    }

    fn audit_head(&self) -> Result<Option<AuditEntry>> {
        audit::head(&self.connection)
    }

    fn keeps_audit_head(&self) -> bool {
        false
    }

    fn kept_audit_head(&self) -> Result<Option<String>> {
        Ok(None)
    }

    fn rekeep_audit_head(&mut self, _signer: &dyn AuditSigner) -> Result<i64> {
        Err(Error::Incompatible(
            "the SQLite store keeps no record of its chain's end: audit.head does".to_owned(),
        ))
    }

    fn settle_audit(&mut self, signer: &dyn AuditSigner) -> Result<()> {
        let transaction = self.connection.transaction()?;
        audit::settle(&transaction, signer)?;
        transaction.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wal_is_checkpointed_by_bytes_whatever_the_page_size() {
        assert_eq!(checkpoint_pages(true, 4_096), 16_384);
        assert_eq!(checkpoint_pages(false, 4_096), 1_000, "SQLite's default");
        assert_eq!(checkpoint_pages(true, 16_384), 4_096);
        assert_eq!(checkpoint_pages(false, 16_384), 250);
        assert_eq!(checkpoint_pages(false, 0), 8_000, "never a division by zero");
    }
}
