-- Schema version 15: letters to people who cannot be emailed. A row of notice_letters is a
-- person a letter was needed for (needed = 1: no usable email address, or their notice failed)
-- or printed for (a chosen audience); printed_at and batch (the SHA-256 of the PDF) say when
-- custody produced their latest letter, posted_at when the user recorded that batch as handed to
-- the post (only then are they counted told).
ALTER TABLE notice_letters ADD COLUMN needed INTEGER NOT NULL DEFAULT 1;
ALTER TABLE notice_letters ADD COLUMN printed_at INTEGER;
ALTER TABLE notice_letters ADD COLUMN batch TEXT;
ALTER TABLE notice_letters ADD COLUMN posted_at INTEGER;
-- Who is in each printed batch, so that recording a batch as posted marks exactly the people of
-- that PDF, whatever was printed after it.
CREATE TABLE letter_batch_people (
    incident INTEGER NOT NULL REFERENCES incidents(id),
    batch TEXT NOT NULL,
    person INTEGER NOT NULL REFERENCES people(id),
    printed_at INTEGER NOT NULL,
    PRIMARY KEY (incident, batch, person)
) WITHOUT ROWID;
