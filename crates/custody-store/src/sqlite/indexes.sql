-- Secondary indexes on people, made with the schema. Canaries are few, so the partial index
-- costs an import nothing beyond evaluating its condition.
CREATE INDEX IF NOT EXISTS people_canary ON people(canary_share) WHERE canary_share IS NOT NULL;
