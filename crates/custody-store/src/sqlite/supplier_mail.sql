-- Schema version 14: messages to suppliers' contacts (questions about an incident, instructions),
-- sent through the same mail server as notices and kept as they were queued. Work addresses of
-- the supplier's staff and what was asked of them; never a member's data.
CREATE TABLE supplier_mail (
    id INTEGER PRIMARY KEY,
    supplier INTEGER NOT NULL REFERENCES suppliers(id),
    incident INTEGER REFERENCES incidents(id),
    about TEXT NOT NULL CHECK (about IN ('question', 'instruction')),
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    message_id TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'retry')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    claimed_by INTEGER,
    claimed_at INTEGER,
    reply TEXT,
    queued_at INTEGER NOT NULL,
    sent_at INTEGER
);
CREATE INDEX supplier_mail_by_state ON supplier_mail(state, id);
CREATE INDEX supplier_mail_by_supplier ON supplier_mail(supplier, id);
CREATE TRIGGER supplier_mail_kept BEFORE UPDATE OF
    supplier, incident, about, recipient, subject, body, message_id, queued_at ON supplier_mail
BEGIN SELECT RAISE(ABORT, 'a message to a supplier is kept as it was queued'); END;
CREATE TRIGGER supplier_mail_never_removed BEFORE DELETE ON supplier_mail
BEGIN SELECT RAISE(ABORT, 'a message to a supplier is never removed'); END;
