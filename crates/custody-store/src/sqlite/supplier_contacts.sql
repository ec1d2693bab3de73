-- Schema version 12: the people at each supplier whom custody writes to (its security, data
-- protection and account contacts). Work addresses of the supplier's staff, not members' data.
CREATE TABLE supplier_contacts (
    id INTEGER PRIMARY KEY,
    supplier INTEGER NOT NULL REFERENCES suppliers(id),
    name TEXT NOT NULL,
    email TEXT NOT NULL COLLATE NOCASE,
    role TEXT NOT NULL,
    added_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX supplier_contacts_email ON supplier_contacts(supplier, email);
