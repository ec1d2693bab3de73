-- Schema version 3: requests from people (access, erasure, rectification, objection) and the
-- erasures suppliers confirmed for single people.
CREATE TABLE requests (
    id INTEGER PRIMARY KEY,
    -- The person, when the requester was matched on receipt (later matches are events).
    person INTEGER REFERENCES people(id),
    -- The requester's email address, sealed, and its keyed hash; never in plain.
    requester BLOB,
    requester_hash BLOB,
    kind TEXT NOT NULL CHECK (kind IN ('access', 'erasure', 'rectification', 'objection')),
    channel TEXT CHECK (channel IN ('email', 'post', 'web', 'phone')),
    received_at INTEGER NOT NULL,
    opened_at INTEGER NOT NULL,
    -- Where it came from when imported ("backlog.csv line 4").
    source TEXT
);
CREATE INDEX requests_by_person ON requests(person);

-- Everything that happens to a request, append-only: identification, extensions, erasure
-- instructions and confirmations, answers, closing.
CREATE TABLE request_events (
    id INTEGER PRIMARY KEY,
    request INTEGER NOT NULL REFERENCES requests(id),
    kind TEXT NOT NULL,
    at INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX request_events_by_request ON request_events(request, id);

CREATE TRIGGER request_events_append_only_update BEFORE UPDATE ON request_events
BEGIN SELECT RAISE(ABORT, 'request events are append-only'); END;
CREATE TRIGGER request_events_append_only_delete BEFORE DELETE ON request_events
BEGIN SELECT RAISE(ABORT, 'request events are append-only'); END;

-- A supplier's confirmation that it erased one person's data (Art. 17 and 19), for one
-- request: from then on the supplier holds none of that person's data from the shares it had
-- received by then (a later share sends it again), or, when backups keep it, from backups_until.
CREATE TABLE erasures (
    supplier INTEGER NOT NULL REFERENCES suppliers(id),
    person INTEGER NOT NULL REFERENCES people(id),
    request INTEGER NOT NULL REFERENCES requests(id),
    deleted_at INTEGER NOT NULL,
    backups_until INTEGER,
    PRIMARY KEY (supplier, person, request)
) WITHOUT ROWID;
CREATE INDEX erasures_by_person ON erasures(person);

CREATE TRIGGER erasures_append_only_update BEFORE UPDATE ON erasures
BEGIN SELECT RAISE(ABORT, 'erasures are append-only'); END;
CREATE TRIGGER erasures_append_only_delete BEFORE DELETE ON erasures
BEGIN SELECT RAISE(ABORT, 'erasures are append-only'); END;
