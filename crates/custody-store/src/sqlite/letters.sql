-- Schema version 15: letters to people who cannot be emailed. A row of notice_letters is a
-- person a letter was needed for (needed = 1: no usable email address, or their notice failed)
-- or printed for (a chosen audience); printed_at and batch (the SHA-256 of the PDF) say when
-- custody produced their latest letter, posted_at when the user recorded that batch as handed to
-- the post (only then are they counted told).
ALTER TABLE notice_letters ADD COLUMN needed INTEGER NOT NULL DEFAULT 1;
ALTER TABLE notice_letters ADD COLUMN printed_at INTEGER;
ALTER TABLE notice_letters ADD COLUMN batch TEXT;
ALTER TABLE notice_letters ADD COLUMN posted_at INTEGER;
