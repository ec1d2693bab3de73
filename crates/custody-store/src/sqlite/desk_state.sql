-- Schema version 11: the desk's shared state (sessions, sign-in counts) for desks that share a
-- store; keys are keyed hashes, values the desk's own encoding. Not audited: the sign-ins are.
CREATE TABLE desk_state (
    kind TEXT NOT NULL,
    key BLOB NOT NULL,
    owner TEXT NOT NULL,
    value BLOB NOT NULL,
    updated INTEGER NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE INDEX desk_state_by_owner ON desk_state(kind, owner);
CREATE INDEX desk_state_by_age ON desk_state(kind, updated);
