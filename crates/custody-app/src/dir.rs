//! The data directory: `settings.toml`, `custody.key` (unless `CUSTODY_KEY` is set),
//! `custody.db` (SQLite, WAL) and `audit.head` (the newest audit entry, kept outside the
//! database so that removing entries from the end of the chain is detected too).

use std::fs;
use std::path::{Path, PathBuf};

use custody_core::{Instant, Settings, TimeZoneName};
use custody_store::{AuditDraft, AuditSigner, SqliteStore, Store, sqlite::DATABASE_FILE_NAME};
use custody_vault::Vault;

use crate::clock::Clock;
use crate::error::{Error, Result};

/// Name of the settings file.
pub const SETTINGS_FILE_NAME: &str = "settings.toml";
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
    /// The store.
    pub store: SqliteStore,
    /// Who is acting, for the audit log.
    pub actor: String,
    clock: Box<dyn Clock>,
}

pub(crate) struct VaultSigner<'a>(&'a Vault);

/// The audit signer of a vault.
pub(crate) fn signer_for(vault: &Vault) -> VaultSigner<'_> {
    VaultSigner(vault)
}

impl AuditSigner for VaultSigner<'_> {
    fn chain_hash(&self, previous: &[u8], entry: &[u8]) -> [u8; 32] {
        self.0.audit_mac(previous, entry)
    }
}

fn settings_template(settings: &Settings) -> Result<String> {
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
    fs::write(&settings_path, settings_template(&settings)?)
        .map_err(|source| Error::io(&settings_path, source))?;
    let mut store = SqliteStore::open(&dir.join(DATABASE_FILE_NAME), true)?;
    store.check_key(vault.check_value())?;
    let zone = settings.zone()?;
    let mut ledger = Ledger {
        dir: dir.to_owned(),
        settings,
        zone,
        vault,
        store,
        actor: actor.to_owned(),
        clock: Box::new(FixedNow(clock.now())),
    };
    let organisation = ledger.settings.organisation.clone();
    ledger.audit_only(
        "directory.init",
        "directory",
        serde_json::json!({ "organisation": organisation }),
    )?;
    Ok(())
}

struct FixedNow(Instant);

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
        if !settings_path.exists() || !database.exists() {
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
        let mut store = SqliteStore::open(&database, false)?;
        store.check_key(vault.check_value())?;
        Ok(Ledger {
            dir: dir.to_owned(),
            settings,
            zone,
            vault,
            store,
            actor: actor.to_owned(),
            clock,
        })
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
    pub(crate) fn store_and_signer(&mut self) -> (&mut SqliteStore, VaultSigner<'_>) {
        (&mut self.store, VaultSigner(&self.vault))
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

    /// Writes the newest audit entry to `audit.head` (after every change).
    pub(crate) fn anchor_audit(&self) -> Result<()> {
        let Some(head) = self.store.audit_head()? else {
            return Ok(());
        };
        let path = self.dir.join(AUDIT_HEAD_FILE_NAME);
        // A name of its own, so that two writers (the desk and a command) never share one.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let serial = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let temporary = self.dir.join(format!(
            "{AUDIT_HEAD_FILE_NAME}.{}-{serial}.tmp",
            std::process::id()
        ));
        // Written whole, synced, then renamed over the old anchor: a crash leaves one or the other.
        let write = || -> std::io::Result<()> {
            let mut file = fs::File::create(&temporary)?;
            std::io::Write::write_all(&mut file, format!("{} {}\n", head.seq, head.hash).as_bytes())?;
            file.sync_all()
        };
        write().map_err(|source| Error::io(&temporary, source))?;
        fs::rename(&temporary, &path).map_err(|source| Error::io(&path, source))
    }
}
