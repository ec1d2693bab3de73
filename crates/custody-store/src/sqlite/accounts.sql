-- Schema version 6: the desk's accounts and API tokens. A password is kept only as its
-- Argon2id hash (PHC string), a token only as its keyed hash; a TOTP secret is sealed with the
-- vault. Nothing is deleted: an account is disabled, a token revoked, with the moment.
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'responder', 'viewer')),
    password_hash TEXT NOT NULL,
    totp_sealed BLOB,
    created_at INTEGER NOT NULL,
    disabled_at INTEGER
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'responder', 'viewer')),
    token_hash BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 16),
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
