-- Lookup indexes on people; dropped and rebuilt around a bulk import into an empty table,
-- because building them by sorting is much faster than ten million random insertions.
CREATE INDEX IF NOT EXISTS people_h_email ON people(h_email) WHERE h_email IS NOT NULL;
CREATE INDEX IF NOT EXISTS people_h_email_canonical ON people(h_email_canonical) WHERE h_email_canonical IS NOT NULL;
CREATE INDEX IF NOT EXISTS people_h_phone ON people(h_phone) WHERE h_phone IS NOT NULL;
CREATE INDEX IF NOT EXISTS people_h_name_postcode ON people(h_name_postcode) WHERE h_name_postcode IS NOT NULL;
CREATE INDEX IF NOT EXISTS people_h_name_dob ON people(h_name_dob) WHERE h_name_dob IS NOT NULL;
CREATE INDEX IF NOT EXISTS people_feed ON people(category, joined_on, left_on) WHERE canary_share IS NULL;
CREATE INDEX IF NOT EXISTS people_canary ON people(canary_share) WHERE canary_share IS NOT NULL;
