-- A keyed digest of the source row each person was last imported from, and of the way it was
-- read: a re-import finds an unchanged row by it without reading the row again. Read whole and
-- sorted in memory by the import, so it has no index.
ALTER TABLE people ADD COLUMN source_digest BLOB;
-- The person's region (ISO 3166-2, `US-CA`) where their country's breach laws are by region.
ALTER TABLE people ADD COLUMN region TEXT;
-- The people of each place (a region where known, else a country; canaries excluded), a Roaring
-- bitmap each: rewritten with the feeds in every import's transaction, read by impact.
CREATE TABLE IF NOT EXISTS place_sets (
    place TEXT PRIMARY KEY,
    ids BLOB NOT NULL
);
