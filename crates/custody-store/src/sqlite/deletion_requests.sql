-- Schema version 16: the organisation's requests that a supplier delete a share's data (UK GDPR
-- and EU GDPR Art. 28(3)(g)), by when, and the note the supplier gave when it confirmed (the
-- confirmation itself is the share's deleted_at). One request per share; it is never removed.
CREATE TABLE share_deletion_requests (
    share INTEGER PRIMARY KEY REFERENCES shares(id),
    asked_at INTEGER NOT NULL,
    due_at INTEGER NOT NULL,
    reason TEXT NOT NULL,
    note TEXT
);
CREATE TRIGGER share_deletion_requests_kept BEFORE UPDATE OF share, asked_at, due_at, reason
    ON share_deletion_requests
BEGIN SELECT RAISE(ABORT, 'a deletion request is kept as it was made'); END;
CREATE TRIGGER share_deletion_requests_never_removed BEFORE DELETE ON share_deletion_requests
BEGIN SELECT RAISE(ABORT, 'a deletion request is never removed'); END;
