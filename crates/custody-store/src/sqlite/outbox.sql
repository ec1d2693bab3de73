-- Schema version 4: the outbox of notices to people. One row per message (people who share an
-- address get one message); its state moves queued -> sending -> sent | failed | retry, and
-- a message is claimed (sending) before it is handed to the mail server, so a process killed
-- at any moment leaves every message not yet accepted to be sent by the next run.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    incident INTEGER NOT NULL REFERENCES incidents(id),
    -- Keyed hash of the normalised address: one message per address per incident.
    address_hash BLOB NOT NULL,
    -- The address, sealed (bound to the message id).
    recipient BLOB NOT NULL,
    -- The people the message covers: person ids, 4 bytes each, little-endian.
    people BLOB NOT NULL,
    -- Unique by construction (a random part per queueing and a counter).
    message_id TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'retry')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    -- The notification run that last claimed it.
    claimed_by INTEGER,
    -- The mail server's last reply.
    reply TEXT,
    queued_at INTEGER NOT NULL,
    sent_at INTEGER
);
CREATE INDEX outbox_by_state ON outbox(incident, state, id);
-- An address normally has one message; a person who joins an address whose message went out
-- already gets a message of their own.
CREATE INDEX outbox_by_address ON outbox(incident, address_hash);

-- People of an incident's audience who have no email address: they need a letter. Ids only.
CREATE TABLE notice_letters (
    incident INTEGER NOT NULL REFERENCES incidents(id),
    person INTEGER NOT NULL REFERENCES people(id),
    PRIMARY KEY (incident, person)
) WITHOUT ROWID;
