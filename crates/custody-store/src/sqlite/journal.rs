//! The delivery journal: during a notification run, each answer from the mail server is first
//! appended to a small file beside the database (one `write` of a line: it survives the process
//! being killed the moment the call returns) and applied to the outbox table in batches. A
//! journal left by a killed run is applied when the store is next opened. Lines hold outbox ids,
//! states and the server's (masked) replies: no personal data.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use custody_core::Instant;

use crate::error::{Error, Result};
use crate::types::OutboxUpdate;

/// Answers applied to the table at once.
const BATCH: usize = 1024;

#[derive(Serialize, Deserialize)]
struct Line {
    run: i64,
    id: i64,
    state: String,
    at: Option<i64>,
    reply: Option<String>,
}

fn line(run: i64, id: i64, update: &OutboxUpdate) -> Line {
    let (state, at, reply) = match update {
        OutboxUpdate::Sent(at, reply) => ("sent", Some(at.unix_seconds()), Some(reply.clone())),
        OutboxUpdate::Retry(at, reply) => ("retry", Some(at.unix_seconds()), Some(reply.clone())),
        OutboxUpdate::Failed(reply) => ("failed", None, Some(reply.clone())),
        OutboxUpdate::Requeue => ("queued", None, None),
    };
    Line {
        run,
        id,
        state: state.to_owned(),
        at,
        reply,
    }
}

fn update(line: &Line) -> Option<OutboxUpdate> {
    let at = || {
        line.at
            .and_then(|seconds| Instant::from_unix_seconds(seconds).ok())
    };
    let reply = line.reply.clone().unwrap_or_default();
    Some(match line.state.as_str() {
        "sent" => OutboxUpdate::Sent(at()?, reply),
        "retry" => OutboxUpdate::Retry(at()?, reply),
        "failed" => OutboxUpdate::Failed(reply),
        "queued" => OutboxUpdate::Requeue,
        _ => return None,
    })
}

/// The journal of a running notification run.
pub(super) struct Journal {
    path: PathBuf,
    file: File,
    pending: Vec<(i64, i64, OutboxUpdate)>,
}

/// Where the journal of the database at `database` lives.
pub(super) fn path_for(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push("-deliveries");
    PathBuf::from(name)
}

fn io(path: &Path, error: std::io::Error) -> Error {
    Error::Corrupt(format!("{}: {error}", path.display()))
}

/// Opens the journal for reading and appending (creating it when `create`).
fn open_file(path: &Path, create: bool) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).append(true).create(create);
    // It names people (by id) and what their mail server answered: its owner's only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Takes the journal's lock: `Ok(false)` when another process holds it.
fn try_lock(file: &File, path: &Path) -> Result<bool> {
    match file.try_lock() {
        Ok(()) => Ok(true),
        Err(std::fs::TryLockError::WouldBlock) => Ok(false),
        Err(std::fs::TryLockError::Error(error)) => Err(io(path, error)),
    }
}

/// Applies whatever a journal holds (its lock held by the caller), then empties it. The file
/// is never removed, so every process agrees on which file the journal is.
fn apply_and_empty(connection: &mut Connection, file: &File, path: &Path) -> Result<()> {
    let mut updates = Vec::new();
    for text in std::io::BufReader::new(file).lines() {
        let text = text.map_err(|error| io(path, error))?;
        // A line cut short by a kill is the answer to a notice that stays `sending`.
        let Ok(line) = serde_json::from_str::<Line>(&text) else {
            continue;
        };
        if let Some(update) = update(&line) {
            updates.push((line.run, line.id, update));
        }
    }
    super::outbox::apply(connection, &updates)?;
    file.set_len(0).map_err(|error| io(path, error))
}

impl Journal {
    /// Opens the journal for a run, applying first what a killed run left in it. A process that
    /// is only replaying holds the lock for a moment: wait for it (a live run is kept out by the
    /// run lock before this).
    pub(super) fn open(connection: &mut Connection, path: PathBuf) -> Result<Journal> {
        let file = open_file(&path, true).map_err(|error| io(&path, error))?;
        let mut waited = 0;
        while !try_lock(&file, &path)? {
            if waited >= 100 {
                return Err(Error::Conflict(
                    "another notification run is recording deliveries in this data directory".to_owned(),
                ));
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
            waited += 1;
        }
        apply_and_empty(connection, &file, &path)?;
        Ok(Journal {
            path,
            file,
            pending: Vec::new(),
        })
    }

    /// Appends answers in one write; applies them to the table once a batch has gathered.
    pub(super) fn record(
        &mut self,
        connection: &mut Connection,
        run: i64,
        updates: &[(i64, OutboxUpdate)],
    ) -> Result<()> {
        let mut text = String::new();
        for (id, update) in updates {
            let json = serde_json::to_string(&line(run, *id, update))
                .map_err(|error| Error::Corrupt(error.to_string()))?;
            text.push_str(&json);
            text.push('\n');
            self.pending.push((run, *id, update.clone()));
        }
        self.file
            .write_all(text.as_bytes())
            .map_err(|error| io(&self.path, error))?;
        if self.pending.len() >= BATCH {
            self.flush(connection)?;
        }
        Ok(())
    }

    /// Applies every pending answer to the table, then empties the journal.
    pub(super) fn flush(&mut self, connection: &mut Connection) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        super::outbox::apply(connection, &self.pending)?;
        self.pending.clear();
        self.file.set_len(0).map_err(|error| io(&self.path, error))
    }

    /// Applies everything and empties the journal (the file stays, empty); the lock goes with
    /// the file handle.
    pub(super) fn close(mut self, connection: &mut Connection) -> Result<()> {
        self.flush(connection)
    }
}

/// Applies a journal a killed run left, keeping the lock from the first read to emptying it; a
/// journal a live run holds (locked) is left alone. Applying twice changes nothing: only rows
/// still `sending` for that run are updated.
pub(super) fn replay(connection: &mut Connection, path: &Path) -> Result<()> {
    let file = match open_file(path, false) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(io(path, error)),
    };
    if file.metadata().map(|meta| meta.len()).unwrap_or(0) == 0 || !try_lock(&file, path)? {
        return Ok(());
    }
    apply_and_empty(connection, &file, path)
}
