//! Requests from people, their append-only events, and per-person erasures in SQLite.

use custody_core::{RequestId, SupplierId};
use rusqlite::{Connection, OptionalExtension, Row, params};

use custody_core::{Channel, IdentifierKind, PersonId, RequestKind};

use super::audit;
use super::incidents::{conversion, event_rows, insert_event, instant};
use crate::AuditSigner;
use crate::error::{Error, Result};
use crate::types::{AuditDraft, Erasure, NewRequest, NewRequestEvent, RequestEvent, RequestRecord};

/// Records requests (and the events that come with each) in one transaction, all or nothing.
pub(super) fn open(
    connection: &mut Connection,
    requests: Vec<NewRequest>,
    mut draft: AuditDraft,
    signer: &dyn AuditSigner,
) -> Result<Vec<i64>> {
    let transaction = connection.transaction()?;
    let mut ids = Vec::with_capacity(requests.len());
    for request in requests {
        transaction
            .prepare_cached(
                "INSERT INTO requests (person, requester, requester_hash, kind, channel, received_at, \
                 opened_at, source) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                request.person,
                request.requester,
                request.requester_hash.as_ref().map(|hash| hash.as_slice()),
                request.kind.as_str(),
                request.channel.map(Channel::as_str),
                request.received_at.unix_seconds(),
                request.opened_at.unix_seconds(),
                request.source,
            ])?;
        let id = transaction.last_insert_rowid();
        for event in &request.events {
            insert_event(&transaction, "request_events", id, event)?;
        }
        ids.push(id);
    }
    draft.subject = match (ids.first(), ids.last()) {
        (Some(first), Some(last)) if first == last => format!("request:{first}"),
        (Some(first), Some(last)) => format!("requests:{first}-{last}"),
        _ => "requests".to_owned(),
    };
    audit::append(&transaction, draft, signer)?;
    transaction.commit()?;
    Ok(ids)
}

fn record(row: &Row<'_>) -> rusqlite::Result<RequestRecord> {
    let kind: String = row.get(4)?;
    let channel: Option<String> = row.get(5)?;
    let hash: Option<Vec<u8>> = row.get(3)?;
    Ok(RequestRecord {
        id: row.get(0).map(RequestId::new)?,
        facts: NewRequest {
            person: row.get(1)?,
            requester: row.get(2)?,
            requester_hash: hash.and_then(|bytes| bytes.try_into().ok()),
            kind: RequestKind::parse(&kind).map_err(|error| conversion(error.to_string()))?,
            channel: channel
                .map(|text| Channel::parse(&text))
                .transpose()
                .map_err(|error| conversion(error.to_string()))?,
            received_at: instant(row.get(6)?)?,
            opened_at: instant(row.get(7)?)?,
            source: row.get(8)?,
            events: Vec::new(),
        },
    })
}

const COLUMNS: &str = "SELECT id, person, requester, requester_hash, kind, channel, received_at, opened_at, \
     source FROM requests";

pub(super) fn list(connection: &Connection) -> Result<Vec<RequestRecord>> {
    let mut statement = connection.prepare_cached(&format!("{COLUMNS} ORDER BY id"))?;
    Ok(statement
        .query_map([], record)?
        .collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(super) fn one(connection: &Connection, id: i64) -> Result<Option<RequestRecord>> {
    let mut statement = connection.prepare_cached(&format!("{COLUMNS} WHERE id = ?1"))?;
    Ok(statement.query_row([id], record).optional()?)
}

pub(super) fn events(connection: &Connection, request: i64) -> Result<Vec<RequestEvent>> {
    event_rows(
        connection,
        "SELECT id, kind, at, recorded_at, actor, body FROM request_events WHERE request = ?1 ORDER BY id",
        request,
    )
}

/// Appends events to a request, with the erasure they confirm if any, in one transaction.
pub(super) fn append(
    connection: &mut Connection,
    request: i64,
    events: Vec<NewRequestEvent>,
    erasure: Option<Erasure>,
    mut draft: AuditDraft,
    signer: &dyn AuditSigner,
) -> Result<Vec<i64>> {
    let transaction = connection.transaction()?;
    let exists: bool = transaction.query_row(
        "SELECT EXISTS (SELECT 1 FROM requests WHERE id = ?1)",
        [request],
        |row| row.get(0),
    )?;
    if !exists {
        return Err(Error::NotFound(format!("there is no request {request}")));
    }
    let mut ids = Vec::with_capacity(events.len());
    for event in &events {
        ids.push(insert_event(&transaction, "request_events", request, event)?);
    }
    if let Some(erasure) = erasure {
        let inserted = transaction.execute(
            "INSERT OR IGNORE INTO erasures (supplier, person, request, deleted_at, backups_until) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                erasure.supplier_id.get(),
                erasure.person,
                erasure.request.get(),
                erasure.deleted_at.unix_seconds(),
                erasure.backups_until.map(|at| at.unix_seconds()),
            ],
        )?;
        if inserted == 0 {
            return Err(Error::Conflict(
                "that supplier's erasure for this request is recorded already".to_owned(),
            ));
        }
    }
    draft.subject = format!("request:{request}");
    audit::append(&transaction, draft, signer)?;
    transaction.commit()?;
    Ok(ids)
}

fn erasure(row: &Row<'_>) -> rusqlite::Result<Erasure> {
    Ok(Erasure {
        supplier_id: row.get(0).map(SupplierId::new)?,
        person: row.get(1)?,
        request: row.get(2).map(RequestId::new)?,
        deleted_at: instant(row.get(3)?)?,
        backups_until: super::incidents::optional(row.get(4)?)?,
    })
}

/// The erasures of one person, or at one supplier.
pub(super) fn erasures(connection: &Connection, column: &str, value: i64) -> Result<Vec<Erasure>> {
    let column = if column == "person" { "person" } else { "supplier" };
    let mut statement = connection.prepare_cached(&format!(
        "SELECT supplier, person, request, deleted_at, backups_until FROM erasures WHERE {column} = ?1 \
         ORDER BY supplier, person, request"
    ))?;
    Ok(statement
        .query_map([value], erasure)?
        .collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The kinds of identifier custody holds (hashed) for a person.
pub(super) fn identifier_kinds(connection: &Connection, person: PersonId) -> Result<Vec<IdentifierKind>> {
    let packed: Option<Vec<u8>> = connection
        .prepare_cached("SELECT identifiers FROM people WHERE id = ?1")?
        .query_row([person], |row| row.get(0))
        .optional()?;
    Ok(crate::encoding::identifier_kinds(&packed.unwrap_or_default()))
}
