-- Schema version 9: incidents at the organisation itself (a misdirected email, a lost laptop, a
-- hacked account) have no supplier, so the supplier becomes optional; and the people such an
-- incident affected, matched from a file, are kept beside the event that recorded them, like
-- leak evidence. The incidents table is rebuilt (SQLite cannot drop NOT NULL in place), with
-- foreign keys checked after the copy.
CREATE TABLE incidents_v9 (
    id INTEGER PRIMARY KEY,
    supplier INTEGER REFERENCES suppliers(id),
    summary TEXT NOT NULL,
    nature TEXT NOT NULL,
    aware_at INTEGER NOT NULL,
    occurred_from INTEGER,
    occurred_to INTEGER,
    supplier_discovered_at INTEGER,
    supplier_notified_at INTEGER,
    cyber INTEGER,
    opened_at INTEGER NOT NULL
);
INSERT INTO incidents_v9 (id, supplier, summary, nature, aware_at, occurred_from, occurred_to,
    supplier_discovered_at, supplier_notified_at, cyber, opened_at)
    SELECT id, supplier, summary, nature, aware_at, occurred_from, occurred_to,
    supplier_discovered_at, supplier_notified_at, cyber, opened_at FROM incidents;
DROP TABLE incidents;
ALTER TABLE incidents_v9 RENAME TO incidents;

CREATE TABLE incident_people (
    event INTEGER PRIMARY KEY REFERENCES incident_events(id),
    incident INTEGER NOT NULL REFERENCES incidents(id),
    people BLOB NOT NULL
);
CREATE INDEX incident_people_by_incident ON incident_people(incident, event);

CREATE TRIGGER incident_people_append_only_update BEFORE UPDATE ON incident_people
BEGIN SELECT RAISE(ABORT, 'the people of an incident are append-only'); END;
CREATE TRIGGER incident_people_append_only_delete BEFORE DELETE ON incident_people
BEGIN SELECT RAISE(ABORT, 'the people of an incident are append-only'); END;
