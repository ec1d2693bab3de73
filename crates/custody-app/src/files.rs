//! Files custody writes into a data directory or for the user: created readable by their owner
//! only (mode 0600), like the key file, because most of them describe people.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Creates `path` for writing with mode 0600, failing if anything (a file, a symbolic link) is
/// there already: `O_CREAT | O_EXCL` never follows a link, so a file or link planted at the name
/// by someone else cannot be written through.
pub fn create_new_private(path: &Path) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// A hidden name beside `path` that no one can guess: `.NAME.RANDOM.tmp`.
pub fn temporary_beside(path: &Path) -> std::io::Result<PathBuf> {
    let mut random = [0u8; 12];
    getrandom::fill(&mut random).map_err(|error| std::io::Error::other(error.to_string()))?;
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(path.with_file_name(format!(".{name}.{}.tmp", custody_vault::hex(&random))))
}

/// A fresh folder in `dir` that only its owner can enter (mode 0700), named
/// `.KIND.RANDOM.tmp`, for files that exist while one command runs (an upload, an address
/// book's table). Folders of the same kind a crash left behind are removed first, once they
/// are an hour old (a folder in use by another command running now is younger).
pub fn private_folder(dir: &Path, kind: &str) -> std::io::Result<PathBuf> {
    if let Ok(entries) = fs::read_dir(dir) {
        let prefix = format!(".{kind}.");
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let stale = entry
                .metadata()
                .and_then(|meta| meta.modified())
                .ok()
                .and_then(|modified| modified.elapsed().ok())
                .is_some_and(|age| age.as_secs() > 3600);
            if name.starts_with(&prefix) && name.ends_with(".tmp") && entry.path().is_dir() && stale {
                let _removed = fs::remove_dir_all(entry.path());
            }
        }
    }
    let folder = temporary_beside(&dir.join(kind))?;
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(&folder)?;
    Ok(folder)
}

/// Syncs the directory holding `path`, so that a rename or link into it survives a power cut.
pub fn sync_parent(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let parent = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        fs::File::open(parent)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Replaces `path` with `bytes` whole (mode 0600): written under a temporary name of its own,
/// synced, renamed over `path`, and the directory synced. A crash leaves the old file or the new.
pub fn replace_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let temporary = temporary_beside(path)?;
    let written = (|| {
        let mut file = create_new_private(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temporary, path)?;
        sync_parent(path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written
}

/// Replaces `path` with what `write` writes (mode 0600), as [`replace_private`] does, through a
/// buffered writer: for files too large to hold twice in memory.
pub fn replace_private_with(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<fs::File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let temporary = temporary_beside(path)?;
    let written = (|| {
        let mut out = std::io::BufWriter::with_capacity(1 << 20, create_new_private(&temporary)?);
        write(&mut out)?;
        let out = out.into_inner().map_err(std::io::IntoInnerError::into_error)?;
        out.sync_all()?;
        fs::rename(&temporary, path)?;
        sync_parent(path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written
}

/// Removes the temporaries ([`temporary_beside`]) of `path` that a writer killed mid-write left,
/// once they are an hour old (a writer at work now is younger).
pub fn remove_stale_temporaries(path: &Path) {
    remove_temporaries(path, 3600);
}

/// Removes the temporaries of `path` older than `seconds`.
pub fn remove_temporaries(path: &Path, seconds: u64) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let prefix = format!(".{}.", name.to_string_lossy());
    for entry in entries.flatten() {
        let entry_name = entry.file_name().to_string_lossy().into_owned();
        let stale = entry
            .metadata()
            .and_then(|meta| meta.modified())
            .ok()
            .and_then(|modified| modified.elapsed().ok())
            .is_some_and(|age| age.as_secs() >= seconds);
        if entry_name.starts_with(&prefix) && entry_name.ends_with(".tmp") && stale {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Gives a complete file written at `temporary` the name `path`, never replacing what is there:
/// a hard link (which fails if the name is taken), or where the file system has none, a new
/// file made with `O_EXCL` and the bytes copied in. The directory is synced.
pub fn place_new(temporary: &Path, path: &Path) -> std::io::Result<()> {
    match fs::hard_link(temporary, path) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => return Err(error),
        Err(_) => {
            let mut placed = create_new_private(path)?;
            std::io::copy(&mut fs::File::open(temporary)?, &mut placed)?;
            placed.sync_all()?;
        }
    }
    let _ = fs::remove_file(temporary);
    sync_parent(path)
}

/// Writes a file the user asked for with `--out`: a new or regular file is replaced whole and
/// made private ([`replace_private`]); anything else the name already stands for (a pipe, a
/// device such as `/dev/stdout`, a link to one of those or to a file elsewhere) is written
/// through as the user pointed it, never replaced.
pub fn write_output(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(metadata) if !metadata.file_type().is_file() => {
            let mut file = fs::OpenOptions::new().write(true).open(path)?;
            file.write_all(bytes)?;
            file.flush()
        }
        _ => replace_private(path, bytes),
    }
}

/// The files of a data directory that must be its owner's only.
const PRIVATE_FILES: [&str; 9] = [
    "custody.key",
    "custody.db",
    "custody.db-wal",
    "custody.db-shm",
    "custody.db-deliveries",
    "settings.toml",
    "audit.head",
    "identifier-index.bin",
    "linkage-blocks.bin",
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_planted_file_or_link_is_never_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("victim");
        fs::write(&target, "keep me").unwrap();
        let planted = dir.path().join("planted");
        #[cfg(unix)]
        std::os::unix::fs::symlink(&target, &planted).unwrap();
        #[cfg(not(unix))]
        fs::write(&planted, "x").unwrap();
        assert!(create_new_private(&planted).is_err());
        assert_eq!(fs::read_to_string(&target).unwrap(), "keep me");
        // Two temporary names are never the same.
        let out = dir.path().join("out.csv");
        assert_ne!(temporary_beside(&out).unwrap(), temporary_beside(&out).unwrap());
        // Placing never replaces what is there.
        let written = dir.path().join("written");
        fs::write(&written, "new").unwrap();
        assert!(place_new(&written, &target).is_err());
        assert_eq!(fs::read_to_string(&target).unwrap(), "keep me");
        place_new(&written, &out).unwrap();
        assert_eq!(fs::read_to_string(&out).unwrap(), "new");
        assert!(!written.exists());
    }
}
