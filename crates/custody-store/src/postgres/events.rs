//! Incidents, requests and their append-only events in PostgreSQL, with what some events carry
//! (leak evidence, people, a filed report) and the erasures suppliers confirmed.

use custody_core::{EventId, IncidentId, RequestId, SupplierId};
use postgres::{Row, Transaction};

use custody_core::{Channel, Instant, Nature, PersonSet, RequestKind};

use super::Db;
use super::{instant, optional};
use crate::encoding::{person_id, read_set, set_bytes};
use crate::error::{Error, Result};
use crate::types::{
    AuditDraft, Erasure, FiledReport, IncidentEvent, IncidentRecord, NewFiledReport, NewIncident,
    NewIncidentEvent, NewRequest, RequestRecord,
};

fn corrupt(message: impl std::fmt::Display) -> Error {
    Error::Corrupt(message.to_string())
}

pub(super) fn open_incident(
    transaction: &mut Transaction<'_>,
    incident: NewIncident,
    draft: &mut AuditDraft,
) -> Result<i64> {
    let nature: Vec<&str> = incident.nature.iter().map(|nature| nature.as_str()).collect();
    let id: i64 = transaction
        .query_one(
            "INSERT INTO incidents (supplier, summary, nature, aware_at, occurred_from, occurred_to, \
             supplier_discovered_at, supplier_notified_at, cyber, opened_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            &[
                &incident.supplier_id.map(SupplierId::get),
                &incident.summary,
                &serde_json::to_string(&nature).unwrap_or_default(),
                &incident.aware_at.unix_seconds(),
                &incident.occurred_from.map(Instant::unix_seconds),
                &incident.occurred_to.map(Instant::unix_seconds),
                &incident.supplier_discovered_at.map(Instant::unix_seconds),
                &incident.supplier_notified_at.map(Instant::unix_seconds),
                &incident.cyber,
                &incident.opened_at.unix_seconds(),
            ],
        )?
        .try_get(0)?;
    draft.subject = format!("incident:{id}");
    Ok(id)
}

fn incident(row: &Row) -> Result<IncidentRecord> {
    let nature: Vec<String> = serde_json::from_str(row.try_get(4)?).map_err(corrupt)?;
    let nature = nature
        .iter()
        .map(|text| Nature::parse(text).map_err(corrupt))
        .collect::<Result<Vec<_>>>()?;
    Ok(IncidentRecord {
        id: row.try_get(0).map(IncidentId::new)?,
        supplier: row.try_get(2)?,
        facts: NewIncident {
            supplier_id: row.try_get(1).map(|id: Option<i64>| id.map(SupplierId::new))?,
            summary: row.try_get(3)?,
            nature,
            aware_at: instant(row.try_get(5)?)?,
            occurred_from: optional(row.try_get(6)?)?,
            occurred_to: optional(row.try_get(7)?)?,
            supplier_discovered_at: optional(row.try_get(8)?)?,
            supplier_notified_at: optional(row.try_get(9)?)?,
            cyber: row.try_get(11)?,
            opened_at: instant(row.try_get(10)?)?,
        },
    })
}

pub(super) fn incidents(client: &mut Db<'_>, id: Option<i64>) -> Result<Vec<IncidentRecord>> {
    let base = "SELECT i.id, i.supplier, s.name, i.summary, i.nature, i.aware_at, i.occurred_from, \
         i.occurred_to, i.supplier_discovered_at, i.supplier_notified_at, i.opened_at, i.cyber \
         FROM incidents i LEFT JOIN suppliers s ON s.id = i.supplier";
    let rows = match id {
        Some(id) => client.query(&format!("{base} WHERE i.id = $1"), &[&id])?,
        None => client.query(&format!("{base} ORDER BY i.id"), &[])?,
    };
    rows.iter().map(incident).collect()
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

fn exists(transaction: &mut Transaction<'_>, table: &str, id: i64) -> Result<bool> {
    Ok(transaction
        .query_one(
            &format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE id = $1)"),
            &[&id],
        )?
        .try_get(0)?)
}

/// Appends one event row (the caller's transaction).
fn insert_event(
    transaction: &mut Transaction<'_>,
    table: &str,
    owner: &str,
    id: i64,
    event: &NewIncidentEvent,
) -> Result<i64> {
    Ok(transaction
        .query_one(
            &format!(
                "INSERT INTO {table} ({owner}, kind, at, recorded_at, actor, body) VALUES ($1, $2, $3, $4, $5, $6) \
                 RETURNING id"
            ),
            &[
                &id,
                &event.kind,
                &event.at.unix_seconds(),
                &event.recorded_at.unix_seconds(),
                &event.actor,
                &event.body.to_string(),
            ],
        )?
        .try_get(0)?)
}

/// Appends an incident's event with what it carries.
pub(super) fn append(
    transaction: &mut Transaction<'_>,
    incident: i64,
    event: &NewIncidentEvent,
    with: With<'_>,
    draft: &mut AuditDraft,
) -> Result<i64> {
    if !exists(transaction, "incidents", incident)? {
        return Err(Error::NotFound(format!("there is no incident {incident}")));
    }
    let id = insert_event(transaction, "incident_events", "incident", incident, event)?;
    match with {
        With::Nothing => {}
        With::Report(report) => {
            transaction.execute(
                "INSERT INTO filed_reports (event, incident, phase, model, markdown, html, model_sha256, \
                 markdown_sha256, html_sha256) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[
                    &id,
                    &incident,
                    &report.phase,
                    &report.model,
                    &report.markdown,
                    &report.html,
                    &report.sha256[0],
                    &report.sha256[1],
                    &report.sha256[2],
                ],
            )?;
        }
        With::People(people) | With::Evidence(people) => {
            let table = if matches!(with, With::People(_)) {
                "incident_people"
            } else {
                "incident_evidence"
            };
            transaction.execute(
                &format!("INSERT INTO {table} (event, incident, people) VALUES ($1, $2, $3)"),
                &[&id, &incident, &set_bytes(people)?],
            )?;
        }
    }
    draft.subject = format!("incident:{incident}");
    Ok(id)
}

/// The reports filed for an incident, in the order filed.
pub(super) fn filed_reports(client: &mut Db<'_>, incident: i64) -> Result<Vec<FiledReport>> {
    let rows = client.query(
        "SELECT event, phase, model, markdown, html, model_sha256, markdown_sha256, html_sha256 \
         FROM filed_reports WHERE incident = $1 ORDER BY event",
        &[&incident],
    )?;
    rows.iter()
        .map(|row| {
            Ok(FiledReport {
                event: row.try_get(0).map(EventId::new)?,
                incident: IncidentId::new(incident),
                report: NewFiledReport {
                    phase: row.try_get(1)?,
                    model: row.try_get(2)?,
                    markdown: row.try_get(3)?,
                    html: row.try_get(4)?,
                    sha256: [row.try_get(5)?, row.try_get(6)?, row.try_get(7)?],
                },
            })
        })
        .collect()
}

/// The union of the person sets an incident's events recorded in `table`.
pub(super) fn union_of(client: &mut Db<'_>, table: &'static str, incident: i64) -> Result<PersonSet> {
    let rows = client.query(
        &format!("SELECT people FROM {table} WHERE incident = $1 ORDER BY event"),
        &[&incident],
    )?;
    let mut people = PersonSet::new();
    for row in rows {
        people |= read_set(row.try_get(0)?)?;
    }
    Ok(people)
}

/// The events of one incident or request, in recording order.
pub(super) fn events(
    client: &mut Db<'_>,
    table: &'static str,
    owner: &'static str,
    id: i64,
) -> Result<Vec<IncidentEvent>> {
    let rows = client.query(
        &format!("SELECT id, kind, at, recorded_at, actor, body FROM {table} WHERE {owner} = $1 ORDER BY id"),
        &[&id],
    )?;
    rows.iter()
        .map(|row| {
            Ok(IncidentEvent {
                id: row.try_get(0).map(EventId::new)?,
                kind: row.try_get(1)?,
                at: instant(row.try_get(2)?)?,
                recorded_at: instant(row.try_get(3)?)?,
                actor: row.try_get(4)?,
                body: serde_json::from_str(row.try_get(5)?).map_err(corrupt)?,
            })
        })
        .collect()
}

/// Records requests with their first events (the caller's transaction).
pub(super) fn open_requests(
    transaction: &mut Transaction<'_>,
    requests: Vec<NewRequest>,
    draft: &mut AuditDraft,
) -> Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(requests.len());
    for request in requests {
        let id: i64 = transaction
            .query_one(
                "INSERT INTO requests (person, requester, requester_hash, kind, channel, received_at, opened_at, \
                 source) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                &[
                    &request.person.map(i64::from),
                    &request.requester,
                    &request.requester_hash.as_ref().map(|hash| hash.as_slice()),
                    &request.kind.as_str(),
                    &request.channel.map(Channel::as_str),
                    &request.received_at.unix_seconds(),
                    &request.opened_at.unix_seconds(),
                    &request.source,
                ],
            )?
            .try_get(0)?;
        for event in &request.events {
            insert_event(transaction, "request_events", "request", id, event)?;
        }
        ids.push(id);
    }
    draft.subject = match (ids.first(), ids.last()) {
        (Some(first), Some(last)) if first == last => format!("request:{first}"),
        (Some(first), Some(last)) => format!("requests:{first}-{last}"),
        _ => "requests".to_owned(),
    };
    Ok(ids)
}

fn request(row: &Row) -> Result<RequestRecord> {
    let person: Option<i64> = row.try_get(1)?;
    let hash: Option<Vec<u8>> = row.try_get(3)?;
    let channel: Option<&str> = row.try_get(5)?;
    Ok(RequestRecord {
        id: row.try_get(0).map(RequestId::new)?,
        facts: NewRequest {
            person: person.map(person_id).transpose()?,
            requester: row.try_get(2)?,
            requester_hash: hash.and_then(|bytes| bytes.try_into().ok()),
            kind: RequestKind::parse(row.try_get(4)?).map_err(corrupt)?,
            channel: channel.map(Channel::parse).transpose().map_err(corrupt)?,
            received_at: instant(row.try_get(6)?)?,
            opened_at: instant(row.try_get(7)?)?,
            source: row.try_get(8)?,
            events: Vec::new(),
        },
    })
}

pub(super) fn requests(client: &mut Db<'_>, id: Option<i64>) -> Result<Vec<RequestRecord>> {
    let base = "SELECT id, person, requester, requester_hash, kind, channel, received_at, opened_at, source \
                FROM requests";
    let rows = match id {
        Some(id) => client.query(&format!("{base} WHERE id = $1"), &[&id])?,
        None => client.query(&format!("{base} ORDER BY id"), &[])?,
    };
    rows.iter().map(request).collect()
}

/// Appends events to a request, with the erasure they confirm if any (the caller's transaction).
pub(super) fn append_request(
    transaction: &mut Transaction<'_>,
    request: i64,
    events: &[NewIncidentEvent],
    erasure: Option<Erasure>,
    draft: &mut AuditDraft,
) -> Result<Vec<i64>> {
    if !exists(transaction, "requests", request)? {
        return Err(Error::NotFound(format!("there is no request {request}")));
    }
    let mut ids = Vec::with_capacity(events.len());
    for event in events {
        ids.push(insert_event(
            transaction,
            "request_events",
            "request",
            request,
            event,
        )?);
    }
    if let Some(erasure) = erasure {
        let inserted = transaction.execute(
            "INSERT INTO erasures (supplier, person, request, deleted_at, backups_until) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            &[
                &erasure.supplier_id.get(),
                &i64::from(erasure.person),
                &erasure.request.get(),
                &erasure.deleted_at.unix_seconds(),
                &erasure.backups_until.map(|at| at.unix_seconds()),
            ],
        )?;
        if inserted == 0 {
            return Err(Error::Conflict(
                "that supplier's erasure for this request is recorded already".to_owned(),
            ));
        }
    }
    draft.subject = format!("request:{request}");
    Ok(ids)
}

/// The erasures of one person, or at one supplier.
pub(super) fn erasures(client: &mut Db<'_>, column: &str, value: i64) -> Result<Vec<Erasure>> {
    let column = if column == "person" { "person" } else { "supplier" };
    let rows = client.query(
        &format!(
            "SELECT supplier, person, request, deleted_at, backups_until FROM erasures WHERE {column} = $1 \
             ORDER BY supplier, person, request"
        ),
        &[&value],
    )?;
    rows.iter()
        .map(|row| {
            Ok(Erasure {
                supplier_id: row.try_get(0).map(SupplierId::new)?,
                person: person_id(row.try_get(1)?)?,
                request: row.try_get(2).map(RequestId::new)?,
                deleted_at: instant(row.try_get(3)?)?,
                backups_until: optional(row.try_get(4)?)?,
            })
        })
        .collect()
}
