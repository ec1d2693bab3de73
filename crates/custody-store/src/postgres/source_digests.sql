-- A keyed digest of the source row each person was last imported from, and of the way it was
-- read: a re-import finds an unchanged row by it without reading the row again. Read whole and
-- sorted in memory by the import, so it has no index.
ALTER TABLE people ADD COLUMN source_digest BYTEA;
