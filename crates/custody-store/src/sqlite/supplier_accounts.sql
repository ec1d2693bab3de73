-- Schema version 13: a supplier's desk account or API token, bound to its supplier (and only
-- a supplier's is). SQLite cannot change a CHECK in place, so both tables are made again with
-- their rows.
CREATE TABLE accounts_new (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'responder', 'viewer', 'supplier')),
    password_hash TEXT NOT NULL,
    totp_sealed BLOB,
    created_at INTEGER NOT NULL,
    disabled_at INTEGER,
    totp_last_step INTEGER,
    supplier INTEGER REFERENCES suppliers(id),
    CHECK ((role = 'supplier') = (supplier IS NOT NULL))
);
INSERT INTO accounts_new (id, name, role, password_hash, totp_sealed, created_at, disabled_at, totp_last_step)
    SELECT id, name, role, password_hash, totp_sealed, created_at, disabled_at, totp_last_step FROM accounts;
DROP TABLE accounts;
ALTER TABLE accounts_new RENAME TO accounts;

CREATE TABLE api_tokens_new (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'responder', 'viewer', 'supplier')),
    token_hash BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 16),
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    supplier INTEGER REFERENCES suppliers(id),
    CHECK ((role = 'supplier') = (supplier IS NOT NULL))
);
INSERT INTO api_tokens_new (id, name, role, token_hash, created_at, revoked_at)
    SELECT id, name, role, token_hash, created_at, revoked_at FROM api_tokens;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_new RENAME TO api_tokens;
