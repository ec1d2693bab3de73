//! Files custody writes into a data directory or for the user: created readable by their owner
//! only (mode 0600), like the key file, because most of them describe people.

use std::fs;
use std::io::Write;
use std::path::Path;

/// Opens `path` for writing, created (or truncated) with mode 0600.
pub fn create_private(path: &Path) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Writes `bytes` whole to `path` (mode 0600) and syncs it.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = create_private(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// The files of a data directory that must be its owner's only.
const PRIVATE_FILES: [&str; 7] = [
    "custody.key",
    "custody.db",
    "custody.db-wal",
    "custody.db-shm",
    "custody.db-deliveries",
    "settings.toml",
    "audit.head",
];

/// A warning naming what in `dir` others may read or enter (looser than `custody init` makes
/// it: the directory 0700, its files 0600), or `None` when all is as it should be.
pub fn loose_permissions(dir: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let open_to_others =
            |path: &Path| fs::metadata(path).is_ok_and(|metadata| metadata.permissions().mode() & 0o077 != 0);
        let mut loose: Vec<String> = Vec::new();
        if open_to_others(dir) {
            loose.push(format!("{} (the directory)", dir.display()));
        }
        loose.extend(
            PRIVATE_FILES
                .iter()
                .filter(|name| open_to_others(&dir.join(name)))
                .map(|name| (*name).to_owned()),
        );
        if !loose.is_empty() {
            return Some(format!(
                "other users may read {}: the data directory should be 0700 and its files 0600 \
                 (chmod 700 {dir}; chmod 600 {dir}/*)",
                loose.join(", "),
                dir = dir.display()
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    None
}
