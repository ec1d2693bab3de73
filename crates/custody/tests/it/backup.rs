//! Backups, restores and the move from SQLite to PostgreSQL: every figure and the whole audit
//! chain come back, with the key and only with it.

use crate::notices::{export_of, incident_in};
use crate::support::{CRM, Env};

/// An incident whose impact and notices depend on every kind of table.
fn ledger(env: Env) -> Env {
    incident_in(env, CRM, &export_of(&["M1", "M2", "M3", "M4"]))
}

/// What must survive: the impact (people, categories, status), the people per category, and
/// every audit entry as it was.
fn figures(env: &Env) -> (serde_json::Value, serde_json::Value, Vec<String>) {
    let impact = env.ok(&["impact", "1", "--json"]).json();
    let holdings = env
        .ok(&[
            "holdings",
            "--supplier",
            "Mailing House",
            "--at",
            "2021-10-29 18:30",
            "--json",
        ])
        .json();
    let audit: Vec<String> = env
        .ok(&["audit", "export"])
        .stdout
        .lines()
        .map(str::to_owned)
        .collect();
    let figures = serde_json::json!({
        "people": impact["people"],
        "categories": impact["categories"],
        "status": impact["status"],
        "person_categories": impact["person_categories"],
    });
    (figures, holdings["people"].clone(), audit)
}

fn key_of(env: &Env) -> std::path::PathBuf {
    let kept = env.root.path().join("kept.key");
    std::fs::copy(env.dir().join("custody.key"), &kept).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    kept
}

type Figures = (serde_json::Value, serde_json::Value, Vec<String>);

/// Restores `backup` into a fresh directory (on `database`, if given) and checks it against the
/// original's figures as they were when the backup was made.
fn restored_matches(
    before: &Figures,
    backup: &std::path::Path,
    key: &std::path::Path,
    database: Option<String>,
) {
    let (figures, held, audit) = before;
    let mut target = Env::bare();
    let mut args = vec![
        "restore",
        Env::path_str(backup),
        "--key",
        Env::path_str(key),
        "--json",
    ];
    if let Some(url) = &database {
        args.extend(["--database", url.as_str()]);
    }
    let done = target.ok(&args).json();
    assert_eq!(
        done["audit_entries"].as_u64().unwrap(),
        audit.len() as u64,
        "{done}"
    );
    target.database = database
        .as_deref()
        .and_then(|url| url.rsplit('/').next())
        .map(str::to_owned);
    let verified = target.ok(&["audit", "verify", "--json"]).json();
    assert_eq!(verified["intact"], true, "{verified}");
    let (after, held_after, audit_after) = self::figures(&target);
    assert_eq!(&after, figures);
    assert_eq!(&held_after, held);
    assert_eq!(&audit_after[..audit.len()], &audit[..], "every entry as it was");
    let actions: Vec<&str> = audit_after[audit.len()..]
        .iter()
        .map(|line| {
            if line.contains("audit.reanchor") {
                "reanchor"
            } else if line.contains("store.restore") {
                "restore"
            } else {
                "other"
            }
        })
        .collect();
    assert_eq!(&actions[..2], ["reanchor", "restore"], "{audit_after:?}");
    // The restored directory works: a change is recorded and verifies.
    target.ok(&["supplier", "add", "Printer", "--role", "processor"]);
    target.ok(&["audit", "verify"]);
}

#[test]
fn a_backup_restores_every_figure_and_the_whole_chain_with_the_key_only() {
    let env = ledger(Env::new());
    let before = figures(&env);
    let backup = env.root.path().join("ledger.backup");
    let made = env
        .ok(&["backup", "--out", Env::path_str(&backup), "--json"])
        .json();
    assert!(made["audit_entries"].as_u64().unwrap() > 5, "{made}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&backup).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let key_text = std::fs::read_to_string(env.dir().join("custody.key")).unwrap();
    let bytes = std::fs::read(&backup).unwrap();
    assert!(
        !bytes
            .windows(32)
            .any(|window| window == &key_text.trim().as_bytes()[..32]),
        "the backup holds no key"
    );
    assert!(
        !bytes.windows(19).any(|w| w == b"alex.smith@example"),
        "contacts stay sealed"
    );
    let again = env.fails(&["backup", "--out", Env::path_str(&backup)], 1);
    assert!(again.contains("exists already"), "{again}");
    let key = key_of(&env);
    restored_matches(&before, &backup, &key, None);

    // Without the key, or with another, nothing is restored.
    let stranger = Env::new();
    let wrong = key_of(&stranger);
    let target = Env::bare();
    let refused = target.fails(
        &["restore", Env::path_str(&backup), "--key", Env::path_str(&wrong)],
        1,
    );
    assert!(
        refused.contains("not the key this backup was made with"),
        "{refused}"
    );
    assert!(!target.dir().exists(), "nothing was written");
    // A row taken out of the file since (an incident's event, which the chain does not hold),
    // or a share's people changed, is found by the tables' digests the notes sealed.
    for sql in [
        "DROP TRIGGER incident_events_append_only_delete; \
         DELETE FROM incident_events WHERE id = (SELECT max(id) FROM incident_events)",
        "UPDATE share_chunks SET bits = zeroblob(length(bits)) WHERE share = (SELECT min(share) FROM share_chunks)",
        "CREATE TRIGGER quiet AFTER INSERT ON audit BEGIN DELETE FROM erasures; END",
    ] {
        let altered = env.root.path().join("altered.backup");
        std::fs::copy(&backup, &altered).unwrap();
        rusqlite::Connection::open(&altered)
            .unwrap()
            .execute_batch(sql)
            .unwrap();
        let refused = target.fails(
            &["restore", Env::path_str(&altered), "--key", Env::path_str(&key)],
            1,
        );
        assert!(refused.contains("tables differ"), "{sql}: {refused}");
        assert!(!target.dir().exists(), "nothing was written");
        std::fs::remove_file(&altered).unwrap();
    }
    let missing = target.fails(&["restore", Env::path_str(&backup)], 2);
    assert!(missing.contains("--key"), "{missing}");
    // Never over a data directory.
    let refused = env.fails(
        &["restore", Env::path_str(&backup), "--key", Env::path_str(&key)],
        1,
    );
    assert!(refused.contains("data directory already"), "{refused}");
    // A file that is not a backup.
    let crm = env.write("crm.csv", CRM);
    let refused = target.fails(&["restore", Env::path_str(&crm), "--key", Env::path_str(&key)], 1);
    assert!(!target.dir().exists(), "{refused}");
}

#[test]
fn a_postgresql_ledger_backs_up_and_restores_into_either_backend() {
    let env = ledger(Env::new_postgres());
    let before = figures(&env);
    let backup = env.root.path().join("team.backup");
    env.ok(&["backup", "--out", Env::path_str(&backup)]);
    let key = key_of(&env);
    restored_matches(&before, &backup, &key, None);
    let database = custody_testdb::server().tcp_database("restore");
    restored_matches(&before, &backup, &key, Some(database.clone()));
    // Into a database that holds a ledger: refused, nothing written.
    let target = Env::bare();
    let refused = target.fails(
        &[
            "restore",
            Env::path_str(&backup),
            "--key",
            Env::path_str(&key),
            "--database",
            &database,
        ],
        1,
    );
    assert!(refused.contains("holds a ledger already"), "{refused}");
    assert!(!target.dir().exists());
}

#[test]
fn a_sqlite_directory_moves_into_postgresql_with_every_figure_and_its_chain() {
    let mut env = ledger(Env::bare_sqlite());
    let (figures, held, audit) = figures(&env);
    let url = custody_testdb::server().tcp_database("migrate");
    // A process that read the directory before the move still has the SQLite settings.
    let stale = Env::bare();
    std::fs::create_dir_all(stale.dir()).unwrap();
    for name in ["settings.toml", "custody.key"] {
        std::fs::copy(env.dir().join(name), stale.dir().join(name)).unwrap();
    }
    let done = env.ok(&["store", "migrate", "--to", &url, "--json"]).json();
    assert_eq!(done["audit_entries"].as_u64().unwrap(), audit.len() as u64);
    assert!(env.dir().join("custody.db.migrated").exists());
    assert!(!env.dir().join("custody.db").exists());
    let settings = std::fs::read_to_string(env.dir().join("settings.toml")).unwrap();
    assert!(settings.contains(&url), "{settings}");
    env.database = url.rsplit('/').next().map(str::to_owned);
    let (after, held_after, audit_after) = self::figures(&env);
    assert_eq!(after, figures);
    assert_eq!(held_after, held);
    assert_eq!(&audit_after[..audit.len()], &audit[..]);
    assert!(audit_after.last().unwrap().contains("store.migrate"));
    env.ok(&["supplier", "add", "Printer", "--role", "processor"]);
    env.ok(&["audit", "verify"]);
    // The SQLite file left behind refuses every write: nothing can land where no one looks.
    std::fs::copy(
        env.dir().join("custody.db.migrated"),
        stale.dir().join("custody.db"),
    )
    .unwrap();
    std::fs::copy(
        env.dir().join("audit.head.migrated"),
        stale.dir().join("audit.head"),
    )
    .unwrap();
    let refused = stale.fails(&["supplier", "add", "Binder", "--role", "processor"], 1);
    assert!(refused.contains("moved to"), "{refused}");
    // Again, from another SQLite directory, into the same database: refused.
    let other = Env::bare_sqlite();
    let refused = other.fails(&["store", "migrate", "--to", &url], 1);
    assert!(refused.contains("holds a ledger already"), "{refused}");
    assert!(
        other.dir().join("custody.db").exists(),
        "the other directory is as it was"
    );
}

#[test]
fn a_cut_chain_is_never_sealed_by_a_backup_a_restore_or_a_migration() {
    let env = ledger(Env::bare_sqlite());
    let newest = env.query_number("SELECT max(seq) FROM audit");
    env.tamper(&format!("DELETE FROM audit WHERE seq = {newest}"));
    // The backup is made (it may be all there is), but says the chain did not verify.
    let backup = env.root.path().join("cut.backup");
    env.ok(&["backup", "--out", Env::path_str(&backup)]);
    let key = key_of(&env);
    let target = Env::bare();
    let refused = target.fails(
        &["restore", Env::path_str(&backup), "--key", Env::path_str(&key)],
        1,
    );
    assert!(
        refused.contains("did not verify when this backup was made"),
        "{refused}"
    );
    assert!(!target.dir().exists(), "nothing was written");
    // Migrating it is refused, the settings unchanged.
    let url = custody_testdb::server().tcp_database("cut");
    let refused = env.fails(&["store", "migrate", "--to", &url], 1);
    assert!(refused.contains("does not verify"), "{refused}");
    assert!(env.dir().join("custody.db").exists());

    // A backup whose notes were changed (to claim a shorter chain) is refused.
    let whole = ledger(Env::bare_sqlite());
    let backup = whole.root.path().join("whole.backup");
    whole.ok(&["backup", "--out", Env::path_str(&backup)]);
    rusqlite::Connection::open(&backup)
        .unwrap()
        .execute("UPDATE backup_notes SET value = '3' WHERE key = 'audit_seq'", [])
        .unwrap();
    let key = key_of(&whole);
    let target = Env::bare();
    let refused = target.fails(
        &["restore", Env::path_str(&backup), "--key", Env::path_str(&key)],
        1,
    );
    assert!(refused.contains("notes were altered"), "{refused}");
    assert!(!target.dir().exists());
}
