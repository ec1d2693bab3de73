-- Schema version 5: leak evidence. The people a leaked file was matched to, recorded on an
-- incident beside the ledger's held-by-supplier set (a serialised Roaring bitmap); the incident
-- event of the same id carries the figures. Append-only like the events.
CREATE TABLE incident_evidence (
    event INTEGER PRIMARY KEY REFERENCES incident_events(id),
    incident INTEGER NOT NULL REFERENCES incidents(id),
    people BLOB NOT NULL
);
CREATE INDEX incident_evidence_by_incident ON incident_evidence(incident, event);

CREATE TRIGGER incident_evidence_append_only_update BEFORE UPDATE ON incident_evidence
BEGIN SELECT RAISE(ABORT, 'incident evidence is append-only'); END;
CREATE TRIGGER incident_evidence_append_only_delete BEFORE DELETE ON incident_evidence
BEGIN SELECT RAISE(ABORT, 'incident evidence is append-only'); END;
