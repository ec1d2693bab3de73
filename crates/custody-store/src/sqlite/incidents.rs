//! Incidents and their append-only events in SQLite.

use custody_core::{EventId, IncidentId, SupplierId};
use rusqlite::{Connection, OptionalExtension, Row, params};

use custody_core::{Instant, Nature, PersonSet};

use super::audit;
use crate::AuditSigner;
use crate::error::{Error, Result};
use crate::types::{
    AuditDraft, FiledReport, IncidentEvent, IncidentRecord, NewFiledReport, NewIncident, NewIncidentEvent,
};

pub(super) fn conversion(message: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, message.into())
}

pub(super) fn instant(seconds: i64) -> rusqlite::Result<Instant> {
    Instant::from_unix_seconds(seconds).map_err(|error| conversion(error.to_string()))
}

pub(super) fn optional(seconds: Option<i64>) -> rusqlite::Result<Option<Instant>> {
    seconds.map(instant).transpose()
}

pub(super) fn open(
    connection: &mut Connection,
    incident: NewIncident,
    mut draft: AuditDraft,
    signer: &dyn AuditSigner,
) -> Result<i64> {
    let transaction = connection.transaction()?;
    let nature: Vec<&str> = incident.nature.iter().map(|nature| nature.as_str()).collect();
    transaction.execute(
        "INSERT INTO incidents (supplier, summary, nature, aware_at, occurred_from, occurred_to, \
         supplier_discovered_at, supplier_notified_at, cyber, opened_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            incident.supplier_id.map(SupplierId::get),
            incident.summary,
            serde_json::to_string(&nature).unwrap_or_default(),
            incident.aware_at.unix_seconds(),
            incident.occurred_from.map(Instant::unix_seconds),
            incident.occurred_to.map(Instant::unix_seconds),
            incident.supplier_discovered_at.map(Instant::unix_seconds),
            incident.supplier_notified_at.map(Instant::unix_seconds),
            incident.cyber,
            incident.opened_at.unix_seconds(),
        ],
    )?;
    let id = transaction.last_insert_rowid();
    draft.subject = format!("incident:{id}");
    audit::append(&transaction, draft, signer)?;
    transaction.commit()?;
    Ok(id)
}

fn record(row: &Row<'_>) -> rusqlite::Result<IncidentRecord> {
    let nature: String = row.get(4)?;
    let nature: Vec<String> = serde_json::from_str(&nature).map_err(|error| conversion(error.to_string()))?;
    let nature = nature
        .iter()
        .map(|text| Nature::parse(text).map_err(|error| conversion(error.to_string())))
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(IncidentRecord {
        id: row.get(0).map(IncidentId::new)?,
        supplier: row.get(2)?,
        facts: NewIncident {
            supplier_id: row.get(1).map(|id: Option<i64>| id.map(SupplierId::new))?,
            summary: row.get(3)?,
            nature,
            aware_at: instant(row.get(5)?)?,
            occurred_from: optional(row.get(6)?)?,
            occurred_to: optional(row.get(7)?)?,
            supplier_discovered_at: optional(row.get(8)?)?,
            supplier_notified_at: optional(row.get(9)?)?,
            cyber: row.get(11)?,
            opened_at: instant(row.get(10)?)?,
        },
    })
}

const COLUMNS: &str = "SELECT i.id, i.supplier, s.name, i.summary, i.nature, i.aware_at, i.occurred_from, \
     i.occurred_to, i.supplier_discovered_at, i.supplier_notified_at, i.opened_at, i.cyber \
     FROM incidents i LEFT JOIN suppliers s ON s.id = i.supplier";

pub(super) fn list(connection: &Connection) -> Result<Vec<IncidentRecord>> {
    let mut statement = connection.prepare_cached(&format!("{COLUMNS} ORDER BY i.id"))?;
    Ok(statement
        .query_map([], record)?
        .collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(super) fn one(connection: &Connection, id: i64) -> Result<Option<IncidentRecord>> {
    let mut statement = connection.prepare_cached(&format!("{COLUMNS} WHERE i.id = ?1"))?;
    Ok(statement.query_row([id], record).optional()?)
}

/// What an appended event carries besides its body.
pub(super) enum With<'a> {
    /// Nothing.
    Nothing,
    /// Leak evidence: the people it confirms exposed.
    Evidence(&'a PersonSet),
    /// A filing: the report as filed.
    Report(&'a NewFiledReport),
    /// The people an incident at the organisation itself affected.
    People(&'a PersonSet),
}

/// The reports filed for an incident, in the order filed.
pub(super) fn filed_reports(connection: &Connection, incident: i64) -> Result<Vec<FiledReport>> {
    let mut statement = connection.prepare_cached(
        "SELECT event, phase, model, markdown, html, model_sha256, markdown_sha256, html_sha256 \
         FROM filed_reports WHERE incident = ?1 ORDER BY event",
    )?;
    let rows = statement.query_map([incident], |row| {
        Ok(FiledReport {
            event: row.get(0).map(EventId::new)?,
            incident: IncidentId::new(incident),
            report: NewFiledReport {
                phase: row.get(1)?,
                model: row.get(2)?,
                markdown: row.get(3)?,
                html: row.get(4)?,
                sha256: [row.get(5)?, row.get(6)?, row.get(7)?],
            },
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Appends an event, with the people it confirms exposed when it is leak evidence, or the report
/// it filed.
pub(super) fn append(
    connection: &mut Connection,
    incident: i64,
    event: NewIncidentEvent,
    with: With<'_>,
    mut draft: AuditDraft,
    signer: &dyn AuditSigner,
) -> Result<i64> {
    let transaction = connection.transaction()?;
    let exists: bool = transaction.query_row(
        "SELECT EXISTS (SELECT 1 FROM incidents WHERE id = ?1)",
        [incident],
        |row| row.get(0),
    )?;
    if !exists {
        return Err(Error::NotFound(format!("there is no incident {incident}")));
    }
    let id = insert_event(&transaction, "incident_events", incident, &event)?;
    if let With::Report(report) = with {
        transaction.execute(
            "INSERT INTO filed_reports (event, incident, phase, model, markdown, html, model_sha256, \
             markdown_sha256, html_sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            rusqlite::params![
                id,
                incident,
                report.phase,
                report.model,
                report.markdown,
                report.html,
                report.sha256[0],
                report.sha256[1],
                report.sha256[2]
            ],
        )?;
    }
    if let With::People(people) = with {
        let bytes = crate::encoding::set_bytes(people)?;
        transaction.execute(
            "INSERT INTO incident_people (event, incident, people) VALUES (?1, ?2, ?3)",
            rusqlite::params![id, incident, bytes],
        )?;
    }
    if let With::Evidence(people) = with {
        let bytes = crate::encoding::set_bytes(people)?;
        transaction.execute(
            "INSERT INTO incident_evidence (event, incident, people) VALUES (?1, ?2, ?3)",
            rusqlite::params![id, incident, bytes],
        )?;
    }
    draft.subject = format!("incident:{incident}");
    audit::append(&transaction, draft, signer)?;
    transaction.commit()?;
    Ok(id)
}

pub(super) fn evidence_people(connection: &Connection, incident: i64) -> Result<PersonSet> {
    union_of(
        connection,
        "SELECT people FROM incident_evidence WHERE incident = ?1 ORDER BY event",
        incident,
    )
}

pub(super) fn in_house_people(connection: &Connection, incident: i64) -> Result<PersonSet> {
    union_of(
        connection,
        "SELECT people FROM incident_people WHERE incident = ?1 ORDER BY event",
        incident,
    )
}

fn union_of(connection: &Connection, sql: &str, incident: i64) -> Result<PersonSet> {
    let mut statement = connection.prepare_cached(sql)?;
    let mut rows = statement.query([incident])?;
    let mut people = PersonSet::new();
    while let Some(row) = rows.next()? {
        let bytes = row.get_ref(0)?.as_blob().map_err(rusqlite::Error::from)?;
        people |= crate::encoding::read_set(bytes)?;
    }
    Ok(people)
}

pub(super) fn events(connection: &Connection, incident: i64) -> Result<Vec<IncidentEvent>> {
    event_rows(
        connection,
        "SELECT id, kind, at, recorded_at, actor, body FROM incident_events WHERE incident = ?1 ORDER BY id",
        incident,
    )
}

/// The events a query selects (id, kind, at, recorded_at, actor, body) for one owner.
pub(super) fn event_rows(connection: &Connection, sql: &str, owner: i64) -> Result<Vec<IncidentEvent>> {
    let mut statement = connection.prepare_cached(sql)?;
    let rows = statement.query_map([owner], |row| {
        let body: String = row.get(5)?;
        Ok(IncidentEvent {
            id: row.get(0).map(EventId::new)?,
            kind: row.get(1)?,
            at: instant(row.get(2)?)?,
            recorded_at: instant(row.get(3)?)?,
            actor: row.get(4)?,
            body: serde_json::from_str(&body).map_err(|error| conversion(error.to_string()))?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Appends one event row (the caller's transaction).
pub(super) fn insert_event(
    transaction: &rusqlite::Transaction<'_>,
    table: &str,
    owner: i64,
    event: &NewIncidentEvent,
) -> Result<i64> {
    transaction
        .prepare_cached(&format!(
            "INSERT INTO {table} VALUES (NULL, ?1, ?2, ?3, ?4, ?5, ?6)"
        ))?
        .execute(params![
            owner,
            event.kind,
            event.at.unix_seconds(),
            event.recorded_at.unix_seconds(),
            event.actor,
            event.body.to_string()
        ])?;
    Ok(transaction.last_insert_rowid())
}
