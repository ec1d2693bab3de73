-- Schema version 3: names (suppliers, desk accounts, API tokens) are unique and found without
-- regard to the case of ASCII letters only, as SQLite's NOCASE compares them, whatever the
-- database's locale: "Öresund" and "öresund" are two names on both backends.
DROP INDEX suppliers_name;
CREATE UNIQUE INDEX suppliers_name ON suppliers (lower(name COLLATE "C"));
DROP INDEX accounts_name;
CREATE UNIQUE INDEX accounts_name ON accounts (lower(name COLLATE "C"));
DROP INDEX api_tokens_name;
CREATE UNIQUE INDEX api_tokens_name ON api_tokens (lower(name COLLATE "C"));
