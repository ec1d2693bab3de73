-- custody ledger schema, version 1. Instants are Unix seconds (UTC); days are ISO dates.
-- Identifier hashes are keyed BLAKE3 (16 bytes); contact details are sealed blobs.
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE imports (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL
);

-- One narrow row per person: scans (feeds, index builds) stay cheap. `identifiers` packs the
-- person's identifier hashes (kind byte + 16 bytes each) so an update can remove exactly the old
-- entries; `contact_digest` is a keyed hash of the contact details, so a re-import that changes
-- nothing rewrites nothing.
CREATE TABLE people (
    id INTEGER PRIMARY KEY,
    ref TEXT NOT NULL UNIQUE,
    category TEXT NOT NULL,
    status TEXT NOT NULL,
    joined_on TEXT,
    left_on TEXT,
    country TEXT,
    canary_share INTEGER,
    import_batch INTEGER NOT NULL,
    identifiers BLOB NOT NULL,
    contact_digest BLOB
);

-- Sealed contact details, apart from the narrow people rows.
CREATE TABLE contacts (
    person INTEGER PRIMARY KEY REFERENCES people(id),
    sealed BLOB NOT NULL
);

-- Keyed identifier hashes (domain-separated by kind inside the hash) to people. A person may
-- share an identifier with others (a household email), so the key is the pair.
CREATE TABLE identifiers (
    hash BLOB NOT NULL,
    person INTEGER NOT NULL,
    PRIMARY KEY (hash, person)
) WITHOUT ROWID;

-- Per person category, what a standing feed needs, rewritten at the end of every import: the ids
-- (a serialised Roaring bitmap), and two lists of 8-byte entries (little-endian u32 yyyymmdd,
-- then u32 id) sorted by date: the known join dates, and the known leaving dates. A feed's people
-- at an instant are the ids minus a suffix of the first list (joined later) and a prefix of the
-- second (left before the feed began), both found by binary search inside the blobs.
CREATE TABLE feed_columns (
    category TEXT PRIMARY KEY,
    ids BLOB NOT NULL,
    by_join BLOB NOT NULL,
    by_leave BLOB NOT NULL
);

CREATE TABLE suppliers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role TEXT NOT NULL,
    parent INTEGER REFERENCES suppliers(id),
    notice_hours INTEGER,
    contract TEXT,
    contact TEXT,
    created_at INTEGER NOT NULL
);

CREATE TABLE shares (
    id INTEGER PRIMARY KEY,
    supplier INTEGER NOT NULL REFERENCES suppliers(id),
    kind TEXT NOT NULL CHECK (kind IN ('export', 'feed')),
    purpose TEXT NOT NULL,
    shared_at INTEGER NOT NULL,
    ends_at INTEGER,
    retention_days INTEGER,
    categories TEXT NOT NULL,
    audience TEXT NOT NULL,
    people_count INTEGER NOT NULL,
    row_count INTEGER NOT NULL,
    unmatched_count INTEGER NOT NULL,
    unmatched_lines TEXT NOT NULL,
    file_name TEXT,
    file_sha256 TEXT,
    columns TEXT NOT NULL,
    canary_count INTEGER NOT NULL,
    deleted_at INTEGER,
    backups_until INTEGER,
    recorded_at INTEGER NOT NULL
);
CREATE INDEX shares_supplier ON shares(supplier, shared_at);

-- A share's person set, cut by the high 16 bits of the person id: one serialised Roaring
-- bitmap per chunk. Holdings read a share's chunks; "who received this person" reads one chunk
-- per share through the second index.
CREATE TABLE share_chunks (
    share INTEGER NOT NULL REFERENCES shares(id),
    chunk INTEGER NOT NULL,
    bits BLOB NOT NULL,
    PRIMARY KEY (share, chunk)
) WITHOUT ROWID;
CREATE INDEX share_chunks_by_chunk ON share_chunks(chunk, share);

CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    details TEXT NOT NULL,
    prev BLOB NOT NULL,
    hash BLOB NOT NULL
);
