-- Schema version 8: reports as filed with the regulator, kept byte for byte. Each belongs to the
-- incident event (an act) that filed it: its JSON model and the rendered Markdown and HTML, with
-- the SHA-256 of each as filed. Append-only: a filed report is never changed or removed.
CREATE TABLE filed_reports (
    event INTEGER PRIMARY KEY REFERENCES incident_events(id),
    incident INTEGER NOT NULL REFERENCES incidents(id),
    phase TEXT NOT NULL,
    model BLOB NOT NULL,
    markdown BLOB NOT NULL,
    html BLOB NOT NULL,
    model_sha256 TEXT NOT NULL,
    markdown_sha256 TEXT NOT NULL,
    html_sha256 TEXT NOT NULL
);
CREATE INDEX filed_reports_by_incident ON filed_reports(incident, event);
-- One initial report an incident: two filings at the same moment cannot both succeed.
CREATE UNIQUE INDEX filed_reports_one_initial ON filed_reports(incident) WHERE phase = 'initial';

CREATE TRIGGER filed_reports_append_only_update BEFORE UPDATE ON filed_reports
BEGIN SELECT RAISE(ABORT, 'a filed report cannot be changed'); END;
CREATE TRIGGER filed_reports_append_only_delete BEFORE DELETE ON filed_reports
BEGIN SELECT RAISE(ABORT, 'a filed report cannot be removed'); END;
