//! Suppliers and shares in SQLite. A share's person set is stored in chunks of 65,536 ids
//! (`share_chunks`), so that holdings read whole sets and recipients read one chunk per share.

use custody_core::{ShareId, SupplierId};
use rusqlite::{Connection, Row, params};

use custody_core::{
    CategoryKey, CategorySet, FeedAudience, Instant, PersonCategory, PersonId, PersonSet, ShareKind,
    ShareMeta, SupplierRole,
};

use super::audit;
use crate::AuditSigner;
use crate::encoding::{CHUNK_BITS, read_set, share_chunks};
use crate::error::{Error, Result};
use crate::types::{AuditDraft, NewPerson, NewShare, NewSupplier, RecordedShare, ShareRecord, Supplier};

pub(super) fn add_supplier(
    connection: &mut Connection,
    supplier: NewSupplier,
    mut draft: AuditDraft,
    signer: &dyn AuditSigner,
) -> Result<i64> {
    let transaction = connection.transaction()?;
    let taken: bool = transaction.query_row(
        "SELECT EXISTS (SELECT 1 FROM suppliers WHERE name = ?1)",
        [&supplier.name],
        |row| row.get(0),
    )?;
    if taken {
        return Err(Error::Conflict(format!(
            "a supplier named {:?} exists already",
            supplier.name
        )));
    }
    transaction.execute(
        "INSERT INTO suppliers (name, role, parent, notice_hours, contract, contact, created_at, country, \
         transfer_safeguard) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            supplier.name,
            supplier.role.as_str(),
            supplier.parent.map(SupplierId::get),
            supplier.notice_hours,
            supplier.contract,
            supplier.contact,
            supplier.created_at.unix_seconds(),
            supplier.country,
            supplier.transfer_safeguard
        ],
    )?;
    let id = transaction.last_insert_rowid();
    draft.subject = format!("supplier:{id}");
    audit::append(&transaction, draft, signer)?;
    transaction.commit()?;
    Ok(id)
}

fn supplier(row: &Row<'_>) -> rusqlite::Result<Supplier> {
    let role: String = row.get(2)?;
    Ok(Supplier {
        id: row.get(0).map(SupplierId::new)?,
        name: row.get(1)?,
        role: SupplierRole::parse(&role).map_err(|error| conversion(error.to_string()))?,
        parent: row.get(3).map(|id: Option<i64>| id.map(SupplierId::new))?,
        notice_hours: row.get(4)?,
        contract: row.get(5)?,
        contact: row.get(6)?,
        created_at: instant(row.get(7)?)?,
        country: row.get(8)?,
        transfer_safeguard: row.get(9)?,
    })
}

/// Runs one update of one row by id with its audit entry, in one transaction.
fn update_one(
    connection: &mut Connection,
    what: &str,
    sql: &str,
    values: &[&dyn rusqlite::ToSql],
    draft: AuditDraft,
    signer: &dyn AuditSigner,
) -> Result<()> {
    let transaction = connection.transaction()?;
    if transaction.execute(sql, values)? != 1 {
        return Err(Error::NotFound(format!("there is no {what} with that id")));
    }
    audit::append(&transaction, draft, signer)?;
    transaction.commit()?;
    Ok(())
}

pub(super) fn set_supplier_transfer(
    connection: &mut Connection,
    id: i64,
    country: Option<&str>,
    safeguard: Option<&str>,
    draft: AuditDraft,
    signer: &dyn AuditSigner,
) -> Result<()> {
    let sql = "UPDATE suppliers SET country = ?1, transfer_safeguard = ?2 WHERE id = ?3";
    update_one(
        connection,
        "supplier",
        sql,
        params![country, safeguard, id],
        draft,
        signer,
    )
}

pub(super) fn set_share_marketing(
    connection: &mut Connection,
    id: i64,
    marketing: bool,
    draft: AuditDraft,
    signer: &dyn AuditSigner,
) -> Result<()> {
    let sql = "UPDATE shares SET marketing = ?1 WHERE id = ?2";
    update_one(connection, "share", sql, params![marketing, id], draft, signer)
}

fn conversion(message: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, message.into())
}

fn instant(seconds: i64) -> rusqlite::Result<Instant> {
    Instant::from_unix_seconds(seconds).map_err(|error| conversion(error.to_string()))
}

pub(super) fn suppliers(connection: &Connection, name: Option<&str>) -> Result<Vec<Supplier>> {
    let base = "SELECT id, name, role, parent, notice_hours, contract, contact, created_at, country, \
                transfer_safeguard FROM suppliers";
    let mut statement = match name {
        Some(_) => connection.prepare_cached(&format!("{base} WHERE name = ?1"))?,
        None => connection.prepare_cached(&format!("{base} ORDER BY name"))?,
    };
    let rows = match name {
        Some(name) => statement
            .query_map([name], supplier)?
            .collect::<rusqlite::Result<Vec<_>>>()?,
        None => statement
            .query_map([], supplier)?
            .collect::<rusqlite::Result<Vec<_>>>()?,
    };
    Ok(rows)
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".to_owned())
}

/// Records a share, its canaries and its chunks in one transaction.
pub(super) fn record(
    connection: &mut Connection,
    share: NewShare,
    people: &PersonSet,
    canaries: Vec<NewPerson>,
    mut draft: AuditDraft,
    signer: &dyn AuditSigner,
) -> Result<RecordedShare> {
    let transaction = connection.transaction()?;
    let meta = &share.meta;
    let (kind, audience) = match &meta.kind {
        ShareKind::Export => ("export", Vec::new()),
        ShareKind::Feed(FeedAudience { categories }) => {
            ("feed", categories.iter().map(|c| c.as_str()).collect())
        }
    };
    let categories: Vec<&str> = meta.categories.iter().map(|key| key.as_str()).collect();
    transaction.execute(
        "INSERT INTO shares (supplier, kind, purpose, shared_at, ends_at, retention_days, categories, audience, \
         people_count, row_count, unmatched_count, unmatched_lines, file_name, file_sha256, columns, canary_count, \
         recorded_at, marketing) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
        params![
            meta.supplier_id.get(),
            kind,
            share.purpose,
            meta.shared_at.unix_seconds(),
            meta.ends_at.map(Instant::unix_seconds),
            meta.retention_days,
            json(&categories),
            json(&audience),
            share.row_count as i64,
            share.unmatched_count as i64,
            json(&share.unmatched_lines),
            share.file_name,
            share.file_sha256,
            json(&share.columns),
            canaries.len() as i64,
            share.recorded_at.unix_seconds(),
            share.marketing,
        ],
    )?;
    let id = transaction.last_insert_rowid();
    let mut set = people.clone();
    let mut canary_ids = Vec::with_capacity(canaries.len());
    for canary in &canaries {
        let canary_id = super::people::insert(&transaction, canary, 0, Some(id))?;
        canary_ids.push(canary_id);
        set.insert(canary_id);
    }
    if !canaries.is_empty() {
        transaction.execute(crate::generation::SET_SQLITE, [crate::generation::fresh()])?;
    }
    write_chunks(&transaction, id, &set)?;
    transaction.execute(
        "UPDATE shares SET people_count = ?2 WHERE id = ?1",
        params![id, set.len() as i64],
    )?;
    draft.subject = format!("share:{id}");
    if let serde_json::Value::Object(details) = &mut draft.details {
        details.insert("people".into(), set.len().into());
        details.insert("canaries".into(), canary_ids.len().into());
    }
    audit::append(&transaction, draft, signer)?;
    transaction.commit()?;
    Ok(RecordedShare {
        id: ShareId::new(id),
        canaries: canary_ids,
    })
}

fn write_chunks(connection: &Connection, share: i64, set: &PersonSet) -> Result<()> {
    let mut insert =
        connection.prepare("INSERT INTO share_chunks (share, chunk, bits) VALUES (?1, ?2, ?3)")?;
    for (chunk, bytes) in share_chunks(set)? {
        insert.execute(params![share, chunk, bytes])?;
    }
    Ok(())
}

pub(super) fn people(connection: &Connection, share: i64) -> Result<PersonSet> {
    let mut statement =
        connection.prepare_cached("SELECT bits FROM share_chunks WHERE share = ?1 ORDER BY chunk")?;
    let mut rows = statement.query([share])?;
    let mut set = PersonSet::new();
    while let Some(row) = rows.next()? {
        let bytes = row.get_ref(0)?.as_blob().map_err(rusqlite::Error::from)?;
        set |= read_set(bytes)?;
    }
    Ok(set)
}

pub(super) fn containing(connection: &Connection, person: PersonId) -> Result<Vec<i64>> {
    let mut statement =
        connection.prepare_cached("SELECT share, bits FROM share_chunks WHERE chunk = ?1 ORDER BY share")?;
    let mut rows = statement.query([person >> CHUNK_BITS])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let bytes = row.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?;
        if read_set(bytes)?.contains(person) {
            out.push(row.get(0)?);
        }
    }
    Ok(out)
}

fn parse_json<T: serde::de::DeserializeOwned>(text: &str) -> rusqlite::Result<T> {
    serde_json::from_str(text).map_err(|error| conversion(error.to_string()))
}

fn share(row: &Row<'_>) -> rusqlite::Result<ShareRecord> {
    let kind: String = row.get(3)?;
    let categories: Vec<String> = parse_json(&row.get::<_, String>(8)?)?;
    let categories = categories
        .iter()
        .map(|key| CategoryKey::parse(key).map_err(|error| conversion(error.to_string())))
        .collect::<rusqlite::Result<CategorySet>>()?;
    let audience: Vec<String> = parse_json(&row.get::<_, String>(9)?)?;
    let audience = audience
        .iter()
        .map(|text| PersonCategory::from_stable(text).map_err(|error| conversion(error.to_string())))
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let optional_instant = |index: usize| -> rusqlite::Result<Option<Instant>> {
        row.get::<_, Option<i64>>(index)?.map(instant).transpose()
    };
    Ok(ShareRecord {
        meta: ShareMeta {
            id: row.get(0).map(ShareId::new)?,
            supplier_id: row.get(1).map(SupplierId::new)?,
            kind: if kind == "feed" {
                ShareKind::Feed(FeedAudience {
                    categories: audience.clone(),
                })
            } else {
                ShareKind::Export
            },
            shared_at: instant(row.get(5)?)?,
            ends_at: optional_instant(6)?,
            categories,
            retention_days: row.get(7)?,
            deleted_at: optional_instant(17)?,
            backups_until: optional_instant(18)?,
        },
        supplier: row.get(2)?,
        purpose: row.get(4)?,
        marketing: row.get(21)?,
        audience,
        people_count: row.get::<_, i64>(10)? as u64,
        row_count: row.get::<_, i64>(11)? as u64,
        unmatched_count: row.get::<_, i64>(12)? as u64,
        unmatched_lines: parse_json(&row.get::<_, String>(13)?)?,
        file_name: row.get(14)?,
        file_sha256: row.get(15)?,
        columns: parse_json(&row.get::<_, String>(16)?)?,
        canary_count: row.get::<_, i64>(19)? as u64,
        recorded_at: instant(row.get(20)?)?,
    })
}

pub(super) fn list(
    connection: &Connection,
    suppliers: Option<&[i64]>,
    id: Option<i64>,
) -> Result<Vec<ShareRecord>> {
    let base = "SELECT s.id, s.supplier, p.name, s.kind, s.purpose, s.shared_at, s.ends_at, s.retention_days, \
                s.categories, s.audience, s.people_count, s.row_count, s.unmatched_count, s.unmatched_lines, \
                s.file_name, s.file_sha256, s.columns, s.deleted_at, s.backups_until, s.canary_count, s.recorded_at, s.marketing \
                FROM shares s JOIN suppliers p ON p.id = s.supplier";
    let mut out = Vec::new();
    match (suppliers, id) {
        (_, Some(id)) => {
            let mut statement = connection.prepare_cached(&format!("{base} WHERE s.id = ?1"))?;
            out.extend(
                statement
                    .query_map([id], share)?
                    .collect::<rusqlite::Result<Vec<_>>>()?,
            );
        }
        (Some(suppliers), None) => {
            let mut statement =
                connection.prepare_cached(&format!("{base} WHERE s.supplier = ?1 ORDER BY s.id"))?;
            for supplier in suppliers {
                out.extend(
                    statement
                        .query_map([supplier], share)?
                        .collect::<rusqlite::Result<Vec<_>>>()?,
                );
            }
            out.sort_by_key(|record| record.meta.id);
        }
        (None, None) => {
            let mut statement = connection.prepare_cached(&format!("{base} ORDER BY s.id"))?;
            out.extend(
                statement
                    .query_map([], share)?
                    .collect::<rusqlite::Result<Vec<_>>>()?,
            );
        }
    }
    Ok(out)
}
