-- Schema version 7: letters to people who cannot be emailed. A row of notice_letters is a
-- person who needs a letter; printed_at says when custody produced their letter, posted_at
-- when the user recorded the batch as handed to the post (only then are they counted told).
ALTER TABLE notice_letters ADD COLUMN printed_at BIGINT;
ALTER TABLE notice_letters ADD COLUMN posted_at BIGINT;
