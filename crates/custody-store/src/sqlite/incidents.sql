-- Schema version 2: incidents at suppliers.
CREATE TABLE incidents (
    id INTEGER PRIMARY KEY,
    supplier INTEGER NOT NULL REFERENCES suppliers(id),
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

-- Everything that happens to an incident, append-only: timeline entries, recorded acts
-- (regulator notified, people notified), supplier statements, impact computations, risk
-- assessments. Corrections are new events; nothing is updated or deleted.
CREATE TABLE incident_events (
    id INTEGER PRIMARY KEY,
    incident INTEGER NOT NULL REFERENCES incidents(id),
    kind TEXT NOT NULL,
    at INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX incident_events_by_incident ON incident_events(incident, id);

CREATE TRIGGER incident_events_append_only_update BEFORE UPDATE ON incident_events
BEGIN SELECT RAISE(ABORT, 'incident events are append-only'); END;
CREATE TRIGGER incident_events_append_only_delete BEFORE DELETE ON incident_events
BEGIN SELECT RAISE(ABORT, 'incident events are append-only'); END;

-- Impact breakdowns need who is former per category; rebuilt by custody right after this
-- migration, and at every import.
ALTER TABLE feed_columns ADD COLUMN former BLOB NOT NULL DEFAULT x'';
