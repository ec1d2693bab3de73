-- Indexes on people that a bulk import into an empty table drops and rebuilds afterwards,
-- because one sort is much faster than ten million scattered insertions.
CREATE INDEX IF NOT EXISTS people_canary ON people(canary_share) WHERE canary_share IS NOT NULL;
