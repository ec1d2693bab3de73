//! Moving a ledger between stores and keeping it safe: `custody store migrate --to` (a SQLite
//! directory into an empty PostgreSQL database), `custody backup` and `custody restore`.
//!
//! A backup is one SQLite file (the interchange format, whichever backend the ledger is on):
//! every table of the ledger copied in one consistent snapshot, with notes beside it (the
//! settings, the key's check value, where the chain ended, when and from what it was made). It
//! never holds the key: the key is kept apart (`custody.key`, or `CUSTODY_KEY`), and a restore
//! refuses to go on without it, or with another. A restore checks every link of the copied
//! audit chain with the key before it seals a new record of the chain's end.

use std::fs;
use std::path::Path;

use serde::Serialize;

use custody_core::Settings;
use custody_store::transfer::Copied;
use custody_store::{PostgresStore, SqliteStore, Store};

use crate::clock::Clock;
use crate::dir::{Ledger, SETTINGS_FILE_NAME};
use crate::error::{Error, Result};

/// What a migration, backup or restore did.
#[derive(Debug, Clone, Serialize)]
pub struct Transferred {
    /// Rows per table.
    pub copied: Copied,
    /// Audit entries in the chain, checked with the key.
    pub audit_entries: u64,
    /// Where the ledger now is (restore, migrate) or the file written (backup).
    pub to: String,
    /// What the user should do next.
    pub notes: Vec<String>,
}

/// The URL as shown and audited: without a password, which custody never keeps anyway.
fn shown_url(url: &str) -> String {
    custody_store::postgres::parse_url(url).map_or_else(|_| "(unreadable URL)".to_owned(), |_| url.to_owned())
}

/// Refuses unless the whole chain verifies, its end included (`audit verify`).
fn refuse_unless_intact(ledger: &Ledger, done: &str) -> Result<()> {
    let verification = crate::audit::verify(ledger)?;
    if verification.intact {
        return Ok(());
    }
    Err(Error::Invalid(format!(
        "the audit chain does not verify ({}); a ledger is not {done} while it does not, since the \
         new store would seal the chain's end as it is; see `custody audit verify`",
        verification.problem.unwrap_or_default()
    )))
}

/// The MAC that seals a backup's notes with the data directory's key.
fn notes_mac(vault: &custody_vault::Vault, notes: &[(String, String)]) -> String {
    let mut body = String::new();
    let mut sorted: Vec<&(String, String)> = notes.iter().filter(|(key, _)| key != "mac").collect();
    sorted.sort();
    for (key, value) in sorted {
        body.push_str(&format!("{key}={}\n", value.escape_default()));
    }
    custody_vault::hex(&vault.checkpoint_mac("backup.notes", body.as_bytes()))
}

/// Refuses unless the chain walks intact with the ledger's key.
fn intact_chain(ledger: &Ledger) -> Result<u64> {
    let walk = crate::audit::walk(ledger)?;
    if let Some((seq, problem)) = walk.first_bad {
        return Err(Error::Invalid(format!(
            "the audit chain is broken at entry {seq}: {problem}; nothing was changed (see `custody audit verify`)"
        )));
    }
    Ok(walk.entries)
}

/// Copies a SQLite directory's ledger into the empty PostgreSQL database at `url`, checks every
/// table's count and the chain, and points the directory's settings at it. The SQLite file is
/// kept as `custody.db.migrated` until the user removes it.
pub fn migrate_to(ledger: &mut Ledger, url: &str, clock: &dyn Clock) -> Result<Transferred> {
    if ledger.settings.database.is_some() {
        return Err(Error::Invalid(
            "this directory's ledger is in PostgreSQL already; `store migrate` moves a SQLite ledger"
                .to_owned(),
        ));
    }
    custody_store::postgres::parse_url(url)?;
    // The whole chain, its end included: a cut must not be carried into the new store, where
    // sealing its end would hide it.
    refuse_unless_intact(ledger, "moved")?;
    // No notification run records answers meanwhile (they would stay in the SQLite file).
    let _runs = crate::notices::notify::one_run_at_a_time(ledger)?;
    let before = ledger.store.audit_head()?.map(|entry| (entry.seq, entry.hash));
    // The indexes kept beside the SQLite file answer to it alone.
    crate::leaks::remove_kept_indexes(&ledger.dir);
    let snapshot = ledger.dir.join(".custody.db.migrating");
    let _ = fs::remove_file(&snapshot);
    let source_counts = ledger.store.copy_into_sqlite_file(&snapshot)?;
    let mut target = PostgresStore::open(url)?;
    let copied = target.fill_from_sqlite_file(&snapshot);
    let _ = fs::remove_file(&snapshot);
    copied?;
    let copied = target.table_counts()?;
    if copied != source_counts {
        return Err(Error::Invalid(format!(
            "the copy does not hold what the SQLite file held ({copied:?} against {source_counts:?}); \
             the settings still name the SQLite file; empty the PostgreSQL database before trying again"
        )));
    }
    target.check_key(ledger.vault.check_value())?;
    drop(target);
    // Under the SQLite file's write lock: nothing was written since the copy, the settings name
    // PostgreSQL, and the file refuses every later write (a desk or command that opened it
    // before would otherwise write where no one looks).
    let mut settings = ledger.settings.clone();
    settings.database = Some(url.to_owned());
    let dir = ledger.dir.clone();
    let mut source = SqliteStore::open(&dir.join(custody_store::sqlite::DATABASE_FILE_NAME), false)?;
    let mut unswitched = None;
    let mut switch = || -> custody_store::Result<()> {
        write_settings(&dir, &settings).map_err(|error| {
            let said = error.to_string();
            unswitched = Some(error);
            custody_store::Error::Corrupt(said)
        })
    };
    let retired = source.retire(&shown_url(url), before, &mut switch);
    drop(source);
    let settled = match retired {
        Ok(settled) => settled,
        Err(error) => {
            // The mark was not kept: the settings name the SQLite file again, whatever
            // happened to them on the way.
            write_settings(&dir, &ledger.settings)?;
            let problem = match (unswitched, error) {
                (Some(error), _) => error.to_string(),
                (None, custody_store::Error::Conflict(problem)) => problem,
                (None, other) => other.to_string(),
            };
            return Err(Error::Invalid(format!(
                "{problem}; the settings still name the SQLite file; empty the PostgreSQL database before trying again"
            )));
        }
    };
    // The file is renamed only once it holds the mark itself; else it stays where it is, its
    // log beside it, and refuses writes as well.
    let mut kept_as = custody_store::sqlite::DATABASE_FILE_NAME.to_owned();
    for name in [
        custody_store::sqlite::DATABASE_FILE_NAME,
        crate::dir::AUDIT_HEAD_FILE_NAME,
    ] {
        let path = dir.join(name);
        if path.exists() && (settled || name != custody_store::sqlite::DATABASE_FILE_NAME) {
            fs::rename(&path, dir.join(format!("{name}.migrated")))
                .map_err(|source| Error::io(&path, source))?;
            if name == custody_store::sqlite::DATABASE_FILE_NAME {
                kept_as = format!("{name}.migrated");
            }
        }
    }
    let mut moved = Ledger::open(&dir, Box::new(crate::dir::FixedNow(clock.now())), &ledger.actor)?;
    let entries = intact_chain(&moved)?;
    crate::audit::reanchor(&mut moved)?;
    moved.audit_only(
        "store.migrate",
        "store",
        serde_json::json!({ "from": "sqlite", "to": shown_url(url), "tables": copied.tables }),
    )?;
    Ok(Transferred {
        copied,
        audit_entries: entries,
        to: shown_url(url),
        notes: vec![format!(
            "The SQLite file is kept as {}: remove it (and audit.head.migrated) once you have checked the ledger in PostgreSQL.",
            dir.join(&kept_as).display()
        )],
    })
}

/// Writes a backup of the ledger (any backend) and its settings to `out`, a new file (mode 0600).
pub fn backup(ledger: &mut Ledger, out: &Path) -> Result<Transferred> {
    if out.exists() {
        return Err(Error::Invalid(format!(
            "{} exists already; custody never overwrites a backup",
            out.display()
        )));
    }
    let partial = crate::files::temporary_beside(out).map_err(|source| Error::io(out, source))?;
    crate::files::create_new_private(&partial).map_err(|source| Error::io(&partial, source))?;
    let made = (|| -> Result<(Copied, u64)> {
        let copied = ledger.store.copy_into_sqlite_file(&partial)?;
        let settings = fs::read_to_string(ledger.dir.join(SETTINGS_FILE_NAME))
            .map_err(|source| Error::io(&ledger.dir.join(SETTINGS_FILE_NAME), source))?;
        let head = {
            let copy = SqliteStore::open(&partial, false)?;
            copy.audit_head()?
        };
        let (seq, hash) = head.map_or((0, String::new()), |entry| (entry.seq, entry.hash));
        // A backup is made even of a ledger whose chain does not verify (it may be all there is),
        // and says so: a restore refuses it rather than seal the cut away.
        let verification = crate::audit::verify(ledger)?;
        let intact = if verification.intact {
            "yes".to_owned()
        } else {
            format!("no: {}", verification.problem.unwrap_or_default())
        };
        let tables = table_digests(&partial)?;
        let notes: Vec<(String, String)> = [
            ("format", BACKUP_FORMAT.to_owned()),
            ("tables", tables),
            ("settings", settings),
            ("key_check", ledger.vault.check_value().to_owned()),
            ("audit_seq", seq.to_string()),
            ("audit_hash", hash),
            ("audit_intact", intact),
            ("made_at", ledger.now().to_rfc3339()),
            ("made_from", ledger.store.backend().to_owned()),
            ("custody", env!("CARGO_PKG_VERSION").to_owned()),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect();
        let mac = notes_mac(&ledger.vault, &notes);
        let mut written: Vec<(&str, &str)> = notes
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str()))
            .collect();
        written.push(("mac", &mac));
        custody_store::transfer::write_notes(&partial, &written)?;
        Ok((copied, seq.unsigned_abs()))
    })();
    let (copied, entries) = match made {
        Ok(made) => made,
        Err(error) => {
            let _ = fs::remove_file(&partial);
            return Err(error);
        }
    };
    fs::rename(&partial, out).map_err(|source| Error::io(out, source))?;
    crate::files::sync_parent(out).map_err(|source| Error::io(out, source))?;
    let name = out
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let recorded = ledger.audit_only(
        "store.backup",
        "store",
        serde_json::json!({ "file": name, "audit_seq": entries, "tables": copied.tables }),
    );
    let mut notes = vec![
        "The backup holds no key: keep the data directory's key (custody.key or CUSTODY_KEY) apart from it; \
         without the key it cannot be restored or read."
            .to_owned(),
    ];
    match recorded {
        Ok(()) => {}
        // A ledger whose chain was cut accepts no entry until someone looks; its backup is still
        // made (it may be the evidence), and says why it is not in the log.
        Err(Error::Store(custody_store::Error::AuditChain(problem))) => notes.push(format!(
            "The backup is not in the audit log ({problem}); it is marked as made of a chain that does not \
             verify, and a restore refuses it."
        )),
        Err(error) => return Err(error),
    }
    Ok(Transferred {
        copied,
        audit_entries: entries,
        to: out.display().to_string(),
        notes,
    })
}

/// Restores the backup `file` into the new data directory `dir`, with the key in `key_file`, its
/// ledger in SQLite (`custody.db`) or, with `database`, in that empty PostgreSQL database.
pub fn restore(
    file: &Path,
    dir: &Path,
    key_file: &Path,
    database: Option<&str>,
    clock: &dyn Clock,
    actor: &str,
) -> Result<Transferred> {
    if dir.join(SETTINGS_FILE_NAME).exists() {
        return Err(Error::Directory(format!(
            "{} is a custody data directory already; restore into a new one",
            dir.display()
        )));
    }
    // An identifier index left in the directory answers to another store.
    crate::leaks::remove_kept_indexes(dir);
    let notes = custody_store::transfer::read_notes(file)?;
    let note = |key: &str| {
        notes
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.clone())
    };
    if note("format").as_deref() != Some(BACKUP_FORMAT) {
        return Err(Error::Invalid(format!(
            "{} is not a custody backup this custody can read",
            file.display()
        )));
    }
    let key_check = note("key_check").unwrap_or_default();
    let settings_text = note("settings").unwrap_or_default();
    let mut settings: Settings = toml::from_str(&settings_text)
        .map_err(|error| Error::Invalid(format!("the backup's settings cannot be read: {error}")))?;
    settings.database = database.map(str::to_owned);
    settings.validate()?;
    // The key is checked before anything is written, then the notes it sealed.
    let probe = custody_vault::Vault::from_key_file(key_file)?;
    if probe.check_value() != key_check {
        return Err(Error::Invalid(format!(
            "{} is not the key this backup was made with (its key check differs); nothing was restored",
            key_file.display()
        )));
    }
    if note("mac").as_deref() != Some(notes_mac(&probe, &notes).as_str()) {
        return Err(Error::Invalid(
            "this backup's notes were altered (their MAC does not match); nothing was restored".to_owned(),
        ));
    }
    // Every table as the backup was made: rows cut from, added to or changed in the file since
    // (share sets, events, erasures, which the chain does not cover) stop the restore here.
    if note("tables").as_deref() != Some(table_digests(file)?.as_str()) {
        return Err(altered_tables());
    }
    if note("audit_intact").as_deref() != Some("yes") {
        return Err(Error::Invalid(format!(
            "the audit chain did not verify when this backup was made ({}); restoring it would seal that \
             away; restore an earlier backup; nothing was restored",
            note("audit_intact").unwrap_or_default()
        )));
    }
    let noted_end = (
        note("audit_seq")
            .and_then(|seq| seq.parse::<u64>().ok())
            .unwrap_or(0),
        note("audit_hash").unwrap_or_default(),
    );
    let target = match database {
        Some(url) => {
            let store = PostgresStore::open(url)?;
            if !store.is_empty()? {
                return Err(Error::Directory(format!(
                    "{} holds a ledger already; restore into an empty database",
                    shown_url(url)
                )));
            }
            Some(store)
        }
        None => None,
    };
    let existed = dir.exists();
    let restoring = Restoring {
        file,
        dir,
        key_file,
        settings: &settings,
        noted_end,
        noted_tables: note("tables").unwrap_or_default(),
        clock,
        actor,
    };
    let restored = restore_into(&restoring, target);
    if restored.is_err() && !existed {
        let _ = fs::remove_dir_all(dir);
    }
    let (copied, entries) = restored?;
    let to = database.map_or_else(|| dir.join("custody.db").display().to_string(), shown_url);
    let made = [note("made_at"), note("made_from")];
    let mut ledger = Ledger::open(dir, Box::new(crate::dir::FixedNow(clock.now())), actor)?;
    let name = file
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    ledger.audit_only(
        "store.restore",
        "store",
        serde_json::json!({
            "file": name,
            "made_at": made[0],
            "made_from": made[1],
            "audit_seq": note("audit_seq"),
            "tables": copied.tables,
        }),
    )?;
    Ok(Transferred {
        copied,
        audit_entries: entries,
        to,
        notes: vec![
            "Take an audit checkpoint now (`custody audit anchor --out FILE`) and keep it apart.".to_owned(),
        ],
    })
}

/// Writes the restored directory: its key, its ledger and its settings, then checks the chain
/// and seals its end.
/// What a restore writes, and where.
struct Restoring<'a> {
    file: &'a Path,
    dir: &'a Path,
    key_file: &'a Path,
    settings: &'a Settings,
    /// The chain's end the backup's notes sealed: (position, hash).
    noted_end: (u64, String),
    /// Every table's rows and digest, as the notes sealed them.
    noted_tables: String,
    clock: &'a dyn Clock,
    actor: &'a str,
}

fn restore_into(restoring: &Restoring<'_>, target: Option<PostgresStore>) -> Result<(Copied, u64)> {
    let Restoring {
        file,
        dir,
        key_file,
        settings,
        noted_end,
        noted_tables,
        clock,
        actor,
    } = restoring;
    let (file, dir, key_file, clock, actor) = (*file, *dir, *key_file, *clock, *actor);
    fs::create_dir_all(dir).map_err(|source| Error::io(dir, source))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|source| Error::io(dir, source))?;
    }
    custody_vault::Vault::adopt(dir, key_file)?;
    // Restored as a SQLite directory first, and checked there: the chain with the key, to the
    // end the notes sealed. Only then is a PostgreSQL database filled.
    let database = dir.join(custody_store::sqlite::DATABASE_FILE_NAME);
    fs::copy(file, &database).map_err(|source| Error::io(&database, source))?;
    // Checked again on the copy itself: the file may have changed since it was first read.
    if table_digests(&database)? != *noted_tables {
        return Err(altered_tables());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&database, fs::Permissions::from_mode(0o600))
            .map_err(|source| Error::io(&database, source))?;
    }
    custody_store::transfer::remove_notes(&database)?;
    let mut local: Settings = (*settings).clone();
    local.database = None;
    write_settings(dir, &local)?;
    let entries = {
        let ledger = Ledger::open(dir, Box::new(crate::dir::FixedNow(clock.now())), actor)?;
        let entries = intact_chain(&ledger)?;
        let end = ledger
            .store
            .audit_head()?
            .map(|entry| (entry.seq.unsigned_abs(), entry.hash));
        let expected = (noted_end.0 > 0).then(|| noted_end.clone());
        if end != expected {
            return Err(Error::Invalid(format!(
                "the backup's chain ends at entry {} but its notes say {}: entries were cut from it; nothing was restored",
                end.map_or(0, |(seq, _)| seq),
                noted_end.0
            )));
        }
        entries
    };
    let copied = match target {
        Some(mut store) => {
            let copied = store.fill_from_sqlite_file(&database)?;
            let counted = store.table_counts()?;
            if counted != copied {
                return Err(Error::Invalid(format!(
                    "the database does not hold what the backup held ({counted:?} against {copied:?})"
                )));
            }
            fs::remove_file(&database).map_err(|source| Error::io(&database, source))?;
            write_settings(dir, settings)?;
            copied
        }
        None => custody_store::transfer::sqlite_counts(&database)?,
    };
    let mut ledger = Ledger::open(dir, Box::new(crate::dir::FixedNow(clock.now())), actor)?;
    crate::audit::reanchor(&mut ledger)?;
    Ok((copied, entries))
}

fn altered_tables() -> Error {
    Error::Invalid(
        "this backup's tables differ from what its notes say was backed up (rows or the schema were \
         removed, added or changed); nothing was restored"
            .to_owned(),
    )
}

/// What a backup file says it is (version 2: with every table's digest).
const BACKUP_FORMAT: &str = "custody backup 2";

/// Every table's rows and SHA-256, one table a line, as a backup's notes keep them.
fn table_digests(file: &Path) -> Result<String> {
    Ok(custody_store::digest::sqlite_table_digests(file)?
        .into_iter()
        .map(|digest| format!("{} {} {}\n", digest.table, digest.rows, digest.sha256))
        .collect())
}

fn write_settings(dir: &Path, settings: &Settings) -> Result<()> {
    let path = dir.join(SETTINGS_FILE_NAME);
    crate::files::replace_private(&path, crate::dir::settings_template(settings)?.as_bytes())
        .map_err(|source| Error::io(&path, source))
}
