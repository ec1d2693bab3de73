-- Rights desk, round two: shares used for direct marketing (an objection under UK GDPR
-- Art. 21(3) instructs their holders), and where each supplier keeps the data, for transfers
-- outside the UK and EEA and their safeguards (Art. 15(1)(c), 15(2)).
ALTER TABLE shares ADD COLUMN marketing INTEGER NOT NULL DEFAULT 0 CHECK (marketing IN (0, 1));
ALTER TABLE suppliers ADD COLUMN country TEXT;
ALTER TABLE suppliers ADD COLUMN transfer_safeguard TEXT;

-- Restriction (Art. 18) and portability (Art. 20) are kinds of request too. SQLite cannot change
-- a CHECK in place, so the requests table is rebuilt (as schema version 9 rebuilt incidents),
-- with foreign keys checked after the copy.
CREATE TABLE requests_v10 (
    id INTEGER PRIMARY KEY,
    person INTEGER REFERENCES people(id),
    requester BLOB,
    requester_hash BLOB,
    kind TEXT NOT NULL CHECK (kind IN ('access', 'erasure', 'rectification', 'objection', 'restriction',
        'portability')),
    channel TEXT CHECK (channel IN ('email', 'post', 'web', 'phone')),
    received_at INTEGER NOT NULL,
    opened_at INTEGER NOT NULL,
    source TEXT
);
INSERT INTO requests_v10 (id, person, requester, requester_hash, kind, channel, received_at, opened_at, source)
    SELECT id, person, requester, requester_hash, kind, channel, received_at, opened_at, source FROM requests;
DROP TABLE requests;
ALTER TABLE requests_v10 RENAME TO requests;
CREATE INDEX requests_by_person ON requests(person);
