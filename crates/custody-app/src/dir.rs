//! The data directory: `settings.toml`, `custody.key` (unless `CUSTODY_KEY` is set), the store
//! (`custody.db`, SQLite in WAL mode, unless the settings name a PostgreSQL database) and
//! `audit.head` (the keyed record of where the audit chain ends, kept outside the database so
//! that removing entries from the end of the chain is refused).

use std::fs;
use std::path::{Path, PathBuf};

use custody_core::{Instant, Settings, TimeZoneName};
use custody_store::{AuditDraft, PostgresStore, SqliteStore, Store, sqlite::DATABASE_FILE_NAME};
use custody_vault::Vault;

use crate::audit::head::VaultSigner;
use crate::clock::Clock;
use crate::error::{Error, Result};

/// Name of the settings file.
pub const SETTINGS_FILE_NAME: &str = "settings.toml";
/// How long a look at a person waits for a long write to end before it fails.
const LOOK_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

/// Name of the audit anchor file.
pub const AUDIT_HEAD_FILE_NAME: &str = "audit.head";

/// An open data directory: settings, keys, store and clock.
pub struct Ledger {
    /// The directory.
    pub dir: PathBuf,
    /// The organisation's settings.
    pub settings: Settings,
    /// Its time zone.
    pub zone: TimeZoneName,
    /// Keys.
    pub vault: Vault,
    /// The store: SQLite or PostgreSQL, behind one trait object (see ARCHITECTURE.md).
    pub store: Box<dyn Store + Send>,
    /// Who is acting, for the audit log.
    pub actor: String,
    /// What the user should know about the directory (permissions looser than `init` sets).
    pub warnings: Vec<String>,
    clock: Box<dyn Clock>,
}

/// Opens the store the settings name: `custody.db` in `dir` (created when `create`), or the
/// PostgreSQL database of `database` (its schema made or brought up to date).
pub fn open_store(dir: &Path, settings: &Settings, create: bool) -> Result<Box<dyn Store + Send>> {
    Ok(match &settings.database {
        Some(url) => Box::new(PostgresStore::open(url)?),
        None => Box::new(SqliteStore::open(&dir.join(DATABASE_FILE_NAME), create)?),
    })
}

/// The audit signer of a vault, guarding the chain of the data directory `dir`.
pub(crate) fn signer_for<'a>(vault: &'a Vault, dir: &'a Path) -> VaultSigner<'a> {
    VaultSigner::new(vault, dir)
}

pub(crate) fn settings_template(settings: &Settings) -> Result<String> {
    let body = toml::to_string(settings).map_err(|error| Error::Directory(error.to_string()))?;
    Ok(format!(
        "# custody settings. Edit with care; custody checks every value when it starts.\n\
         # time_zone: IANA name in which instants are shown and local times are read.\n\
         # phone_region: region for national phone numbers (ISO 3166 alpha-2).\n\
         # canary_domain: canary addresses are made under it; route its mail to the DPO.\n\
         # [special_categories]: person categories whose membership itself reveals a special\n\
         #   category (UK/EU GDPR Art. 9), e.g. member = [\"user.demographic.political_opinion\"].\n\n{body}"
    ))
}

/// Creates a data directory: settings, key file (unless `CUSTODY_KEY` is set) and database.
pub fn init(dir: &Path, settings: Settings, clock: &dyn Clock, actor: &str) -> Result<()> {
    settings.validate()?;
    if dir.join(SETTINGS_FILE_NAME).exists() || dir.join(DATABASE_FILE_NAME).exists() {
        return Err(Error::Directory(format!(
            "{} is a custody data directory already",
            dir.display()
        )));
    }
    // A PostgreSQL database is reached, and found empty, before anything is written here.
    let postgres = match &settings.database {
        Some(url) => {
            let store = PostgresStore::open(url)?;
            if store.audit_head()?.is_some() || store.has_people()? {
                return Err(Error::Directory(format!(
                    "{url} holds a custody ledger already; give `custody init` an empty database \
                     (or restore a backup into it with `custody restore`)"
                )));
            }
            if !store.is_empty()? || store.keeps_key_check()? {
                return Err(Error::Directory(format!(
                    "{url} is not empty (an earlier `custody init` may have stopped half-way); drop and \
                     create the database again, then run `custody init`"
                )));
            }
            Some(store)
        }
        None => None,
    };
    fs::create_dir_all(dir).map_err(|source| Error::io(dir, source))?;
    // The directory holds the database and perhaps the key: only its owner may enter it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|source| Error::io(dir, source))?;
    }
    let vault = Vault::create(dir)?;
    let settings_path = dir.join(SETTINGS_FILE_NAME);
    crate::files::replace_private(&settings_path, settings_template(&settings)?.as_bytes())
        .map_err(|source| Error::io(&settings_path, source))?;
    let mut store: Box<dyn Store + Send> = match postgres {
        Some(store) => Box::new(store),
        None => open_store(dir, &settings, true)?,
    };
    store.check_key(vault.check_value())?;
    let zone = settings.zone()?;
    let mut ledger = Ledger {
        dir: dir.to_owned(),
        settings,
        zone,
        vault,
        store,
        actor: actor.to_owned(),
        warnings: Vec::new(),
        clock: Box::new(FixedNow(clock.now())),
    };
    let organisation = ledger.settings.organisation.clone();
    // `audit_head` says this chain was guarded by a keyed head from its first entry, so a
    // head in the previous custody's unkeyed form is never taken over for it.
    ledger.audit_only(
        "directory.init",
        "directory",
        serde_json::json!({ "organisation": organisation, "audit_head": crate::audit::head::KEYED_FROM_INIT }),
    )?;
    Ok(())
}

/// The fields an admin may change, by name, with their values as JSON.
fn settings_fields(settings: &Settings) -> [(&'static str, serde_json::Value); 8] {
    use serde_json::json;
    [
        ("organisation", json!(settings.organisation)),
        ("regulator", json!(settings.regulator)),
        ("canary_domain", json!(settings.canary_domain)),
        ("dpo.name", json!(settings.dpo.name)),
        ("dpo.email", json!(settings.dpo.email)),
        ("people_target_hours", json!(settings.people_target_hours)),
        ("former_retention_years", json!(settings.former_retention_years)),
        (
            "notice_names_supplier",
            json!(settings.notice_names_supplier.unwrap_or(true)),
        ),
    ]
}

/// The settings an admin may change while custody runs.
#[derive(Debug, Clone)]
pub struct SettingsChange {
    /// The organisation's name.
    pub organisation: String,
    /// The supervisory authority.
    pub regulator: String,
    /// The canary domain.
    pub canary_domain: String,
    /// The DPO's name or role.
    pub dpo_name: String,
    /// The DPO's address.
    pub dpo_email: String,
    /// Hours to tell people.
    pub people_target_hours: Option<u32>,
    /// Years after leaving.
    pub former_retention_years: Option<u32>,
    /// Whether notices name the supplier.
    pub notice_names_supplier: bool,
}

pub(crate) struct FixedNow(pub(crate) Instant);

impl Clock for FixedNow {
    fn now(&self) -> Instant {
        self.0
    }
}

impl Ledger {
    /// Opens an initialised data directory.
    pub fn open(dir: &Path, clock: Box<dyn Clock>, actor: &str) -> Result<Self> {
        let settings_path = dir.join(SETTINGS_FILE_NAME);
        let database = dir.join(DATABASE_FILE_NAME);
        if !settings_path.exists() {
            return Err(Error::Directory(format!(
                "{} is not a custody data directory (no {SETTINGS_FILE_NAME} or {DATABASE_FILE_NAME}); \
                 run `custody init --dir {}` first",
                dir.display(),
                dir.display()
            )));
        }
        let text = fs::read_to_string(&settings_path).map_err(|source| Error::io(&settings_path, source))?;
        let settings: Settings = toml::from_str(&text)
            .map_err(|error| Error::Directory(format!("{}: {error}", settings_path.display())))?;
        settings
            .validate()
            .map_err(|error| Error::Directory(format!("{}: {error}", settings_path.display())))?;
        let zone = settings.zone()?;
        let vault = Vault::load(dir)?;
        if settings.database.is_none() && !database.exists() {
            return Err(Error::Directory(format!(
                "{} has no {DATABASE_FILE_NAME} and its settings name no other database",
                dir.display()
            )));
        }
        let mut store = open_store(dir, &settings, false)?;
        store.check_key(vault.check_value())?;
        let ledger = Ledger {
            dir: dir.to_owned(),
            settings,
            zone,
            vault,
            store,
            actor: actor.to_owned(),
            warnings: crate::files::loose_permissions(dir).into_iter().collect(),
            clock,
        };
        Ok(ledger)
    }

    /// The current instant from the injected clock.
    pub fn now(&self) -> Instant {
        self.clock.now()
    }

    /// An audit draft for an action by the current actor, now.
    pub fn draft(&self, action: &str, subject: &str, details: serde_json::Value) -> AuditDraft {
        AuditDraft {
            actor: self.actor.clone(),
            action: action.to_owned(),
            subject: subject.to_owned(),
            at: self.now(),
            details,
        }
    }

    /// Splits the ledger into the store and the signer for one mutating call.
    /// The store with the signer that chains and anchors its audit entries: for code that
    /// writes through the store directly (the benchmark's set-up), which then calls
    /// [`Ledger::anchor_audit`].
    pub fn store_and_signer(&mut self) -> (&mut dyn Store, VaultSigner<'_>) {
        (self.store.as_mut(), VaultSigner::new(&self.vault, &self.dir))
    }

    /// Appends an audit entry for an action that changed nothing else, and moves the anchor.
    pub(crate) fn audit_only(
        &mut self,
        action: &str,
        subject: &str,
        details: serde_json::Value,
    ) -> Result<()> {
        let draft = self.draft(action, subject, details);
        let (store, signer) = self.store_and_signer();
        store.append_audit(draft, &signer)?;
        self.anchor_audit()
    }

    /// Records a look at people's data. It waits for the write lock as long as a long write (an
    /// import, a share of a million rows) may hold it, rather than the usual ten seconds: the
    /// look is not shown until it is recorded, and it should not fail for being patient.
    pub(crate) fn audit_look(
        &mut self,
        action: &str,
        subject: &str,
        details: serde_json::Value,
    ) -> Result<()> {
        self.store.set_lock_wait(LOOK_LOCK_WAIT)?;
        let recorded = self.audit_only(action, subject, details);
        self.store.set_lock_wait(custody_store::sqlite::LOCK_WAIT)?;
        recorded
    }

    /// Changes the settings an admin may change while custody runs, rewriting `settings.toml`
    /// whole (written beside it, then renamed over it); returns the names of the fields changed,
    /// audited with their old and new values. The file is read again first, so values edited
    /// in it by hand since custody started (the mail server, special categories) are kept;
    /// comments are not. The time zone and phone region are not among the fields: changing
    /// either would reread every local time and national phone number already held, so they
    /// are changed in the file, with care, while nothing runs.
    pub fn change_settings(&mut self, change: SettingsChange) -> Result<Vec<&'static str>> {
        let path = self.dir.join(SETTINGS_FILE_NAME);
        let text = fs::read_to_string(&path).map_err(|source| Error::io(&path, source))?;
        let old: Settings = toml::from_str(&text)
            .map_err(|error| Error::Directory(format!("{}: {error}", path.display())))?;
        let mut next = old.clone();
        next.organisation = change.organisation.trim().to_owned();
        next.regulator = change.regulator.trim().to_owned();
        next.canary_domain = change.canary_domain.trim().to_owned();
        next.dpo.name = change.dpo_name.trim().to_owned();
        next.dpo.email = change.dpo_email.trim().to_owned();
        next.people_target_hours = change.people_target_hours;
        next.former_retention_years = change.former_retention_years;
        next.notice_names_supplier = Some(change.notice_names_supplier);
        for (name, value) in [
            ("organisation", &next.organisation),
            ("regulator", &next.regulator),
            ("dpo.name", &next.dpo.name),
        ] {
            if value.is_empty() || value.chars().count() > 200 || value.chars().any(char::is_control) {
                return Err(Error::Invalid(format!(
                    "{name}: expected 1 to 200 printable characters"
                )));
            }
        }
        next.validate()?;
        let (before, after) = (settings_fields(&old), settings_fields(&next));
        let mut changed = Vec::new();
        let mut details = serde_json::Map::new();
        for ((name, from), (_, to)) in before.into_iter().zip(after) {
            if from != to {
                changed.push(name);
                details.insert(name.to_owned(), serde_json::json!({ "from": from, "to": to }));
            }
        }
        if changed.is_empty() {
            return Ok(changed);
        }
        // Written beside the file first, audited, then put in place: a failure before the rename
        // leaves the settings as they were.
        let temporary = crate::files::temporary_beside(&path).map_err(|source| Error::io(&path, source))?;
        let body = settings_template(&next)?;
        let write = || -> std::io::Result<()> {
            let mut file = crate::files::create_new_private(&temporary)?;
            std::io::Write::write_all(&mut file, body.as_bytes())?;
            file.sync_all()
        };
        if let Err(source) = write() {
            let _ = fs::remove_file(&temporary);
            return Err(Error::io(&temporary, source));
        }
        if let Err(error) = self.audit_only("settings.change", "settings", serde_json::Value::Object(details))
        {
            let _ = fs::remove_file(&temporary);
            return Err(error);
        }
        fs::rename(&temporary, &path).map_err(|source| Error::io(&path, source))?;
        crate::files::sync_parent(&path).map_err(|source| Error::io(&path, source))?;
        self.settings = next;
        Ok(changed)
    }

    /// After a change has committed, lets `audit.head` settle on the newest entry (under the
    /// store's write lock, so it never moves behind another writer's entry). Code that writes
    /// through `store` directly (the benchmark's set-up) calls it when it is done.
    pub fn anchor_audit(&mut self) -> Result<()> {
        let (store, signer) = self.store_and_signer();
        store.settle_audit(&signer)?;
        Ok(())
    }

    /// Whether other processes may serve this ledger at once (its store is a shared database),
    /// so a desk keeps its sessions and sign-in counts in the store.
    pub fn is_shared(&self) -> bool {
        self.store.runs_may_overlap()
    }

    /// Whether the store's connection can still be used (a database server may have closed it).
    pub fn is_usable(&self) -> bool {
        self.store.is_usable()
    }

    /// Runs `work` holding the audit writer's lock across its reads and writes, so that what a
    /// use case checks before it writes (a request not yet closed, the next statement's version)
    /// still holds when it writes, whatever other processes on the same database do meanwhile
    /// (see `Store::hold_writes`; a desk runs every request that may change something so).
    pub fn holding_writes<T, E: From<Error>>(
        &mut self,
        work: impl FnOnce(&mut Ledger) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        self.store.hold_writes().map_err(Error::from)?;
        let result = work(self);
        if self.store.release_writes().is_err() {
            // A connection that may still hold the lock is never kept: a fresh one replaces it
            // (the old one closes, and the server lets its locks go), or the ledger is reported
            // broken, so a desk drops it instead of pooling it.
            let fresh = self.store.reopen().map_err(|error| {
                Error::Store(custody_store::Error::Connect(format!(
                    "the writer's lock could not be let go, and a new connection failed: {error}"
                )))
            })?;
            self.store = fresh;
        }
        result
    }
}
