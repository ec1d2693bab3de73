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
