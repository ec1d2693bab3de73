//! Suppliers, shares and standing feeds in PostgreSQL: the same layouts as SQLite's (see
//! `crate::encoding`), the feeds' date lists searched in place with `substring`.

use custody_core::{ShareId, SupplierId};
use postgres::{Row, Transaction};

use custody_core::{
    CategoryKey, CategorySet, Day, FeedAudience, FeedWindow, Instant, PersonCategory, PersonId, PersonSet,
    ShareKind, ShareMeta, SupplierRole,
};

use super::Db;
use super::{instant, optional, people};
use crate::encoding::{
    CHUNK_BITS, DateList, ENTRY_BYTES, FeedBuilder, count_leavers, day_number, read_set, share_chunks,
};
use crate::error::{Error, Result};
use crate::types::{AuditDraft, NewPerson, NewShare, NewSupplier, RecordedShare, ShareRecord, Supplier};

fn corrupt(message: impl std::fmt::Display) -> Error {
    Error::Corrupt(message.to_string())
}

/// One row changed, or the thing does not exist.
pub(super) fn one_changed(changed: u64, what: &str) -> Result<()> {
    if changed == 1 {
        Ok(())
    } else {
        Err(Error::NotFound(format!("there is no {what} with that id")))
    }
}

pub(super) fn add_supplier(
    transaction: &mut Transaction<'_>,
    supplier: NewSupplier,
    draft: &mut AuditDraft,
) -> Result<i64> {
    let taken: bool = transaction
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM suppliers WHERE lower(name COLLATE \"C\") = lower($1::text COLLATE \"C\"))",
            &[&supplier.name],
        )?
        .try_get(0)?;
    if taken {
        return Err(Error::Conflict(format!(
            "a supplier named {:?} exists already",
            supplier.name
        )));
    }
    let id: i64 = transaction
        .query_one(
            "INSERT INTO suppliers (name, role, parent, notice_hours, contract, contact, created_at, country, \
             transfer_safeguard) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            &[
                &supplier.name,
                &supplier.role.as_str(),
                &supplier.parent.map(SupplierId::get),
                &supplier.notice_hours.map(i64::from),
                &supplier.contract,
                &supplier.contact,
                &supplier.created_at.unix_seconds(),
                &supplier.country,
                &supplier.transfer_safeguard,
            ],
        )?
        .try_get(0)?;
    draft.subject = format!("supplier:{id}");
    Ok(id)
}

fn supplier(row: &Row) -> Result<Supplier> {
    let notice_hours: Option<i64> = row.try_get(4)?;
    Ok(Supplier {
        id: row.try_get(0).map(SupplierId::new)?,
        name: row.try_get(1)?,
        role: SupplierRole::parse(row.try_get(2)?).map_err(corrupt)?,
        parent: row.try_get(3).map(|id: Option<i64>| id.map(SupplierId::new))?,
        notice_hours: notice_hours
            .map(|hours| u32::try_from(hours).map_err(corrupt))
            .transpose()?,
        contract: row.try_get(5)?,
        contact: row.try_get(6)?,
        created_at: instant(row.try_get(7)?)?,
        country: row.try_get(8)?,
        transfer_safeguard: row.try_get(9)?,
    })
}

pub(super) fn suppliers(client: &mut Db<'_>, name: Option<&str>) -> Result<Vec<Supplier>> {
    let base = "SELECT id, name, role, parent, notice_hours, contract, contact, created_at, country, \
                transfer_safeguard FROM suppliers";
    let rows = match name {
        Some(name) => client.query(
            &format!("{base} WHERE lower(name COLLATE \"C\") = lower($1::text COLLATE \"C\")"),
            &[&name],
        )?,
        // As SQLite's NOCASE column orders them.
        None => client.query(&format!("{base} ORDER BY lower(name COLLATE \"C\"), id"), &[])?,
    };
    rows.iter().map(supplier).collect()
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".to_owned())
}

/// Records a share, its canaries and its chunks (the caller's transaction).
pub(super) fn record_share(
    transaction: &mut Transaction<'_>,
    share: NewShare,
    set: &PersonSet,
    canaries: Vec<NewPerson>,
    draft: &mut AuditDraft,
) -> Result<RecordedShare> {
    let meta = &share.meta;
    let (kind, audience) = match &meta.kind {
        ShareKind::Export => ("export", Vec::new()),
        ShareKind::Feed(FeedAudience { categories }) => {
            ("feed", categories.iter().map(|c| c.as_str()).collect())
        }
    };
    let categories: Vec<&str> = meta.categories.iter().map(|key| key.as_str()).collect();
    let id: i64 = transaction
        .query_one(
            "INSERT INTO shares (supplier, kind, purpose, shared_at, ends_at, retention_days, categories, \
             audience, people_count, row_count, unmatched_count, unmatched_lines, file_name, file_sha256, \
             columns, canary_count, recorded_at, marketing) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10, \
             $11, $12, $13, $14, $15, $16, $17) RETURNING id",
            &[
                &meta.supplier_id.get(),
                &kind,
                &share.purpose,
                &meta.shared_at.unix_seconds(),
                &meta.ends_at.map(Instant::unix_seconds),
                &meta.retention_days.map(i64::from),
                &json(&categories),
                &json(&audience),
                &(share.row_count as i64),
                &(share.unmatched_count as i64),
                &json(&share.unmatched_lines),
                &share.file_name,
                &share.file_sha256,
                &json(&share.columns),
                &(canaries.len() as i64),
                &share.recorded_at.unix_seconds(),
                &share.marketing,
            ],
        )?
        .try_get(0)?;
    let mut people = set.clone();
    let mut canary_ids = Vec::with_capacity(canaries.len());
    for canary in &canaries {
        let canary_id = people::insert(transaction, canary, 0, Some(id))?;
        canary_ids.push(canary_id);
        people.insert(canary_id);
    }
    if !canaries.is_empty() {
        transaction.execute(crate::generation::SET_POSTGRES, &[&crate::generation::fresh()])?;
    }
    for (chunk, bytes) in share_chunks(&people)? {
        transaction.execute(
            "INSERT INTO share_chunks (share, chunk, bits) VALUES ($1, $2, $3)",
            &[&id, &i64::from(chunk), &bytes],
        )?;
    }
    transaction.execute(
        "UPDATE shares SET people_count = $2 WHERE id = $1",
        &[&id, &(people.len() as i64)],
    )?;
    draft.subject = format!("share:{id}");
    if let serde_json::Value::Object(details) = &mut draft.details {
        details.insert("people".into(), people.len().into());
        details.insert("canaries".into(), canary_ids.len().into());
    }
    Ok(RecordedShare {
        id: ShareId::new(id),
        canaries: canary_ids,
    })
}

pub(super) fn share_people(client: &mut Db<'_>, share: i64) -> Result<PersonSet> {
    let rows = client.query(
        "SELECT bits FROM share_chunks WHERE share = $1 ORDER BY chunk",
        &[&share],
    )?;
    let mut set = PersonSet::new();
    for row in rows {
        set |= read_set(row.try_get(0)?)?;
    }
    Ok(set)
}

pub(super) fn shares_containing(client: &mut Db<'_>, person: PersonId) -> Result<Vec<i64>> {
    let rows = client.query(
        "SELECT share, bits FROM share_chunks WHERE chunk = $1 ORDER BY share",
        &[&i64::from(person >> CHUNK_BITS)],
    )?;
    let mut out = Vec::new();
    for row in rows {
        if read_set(row.try_get(1)?)?.contains(person) {
            out.push(row.try_get(0)?);
        }
    }
    Ok(out)
}

fn parse_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(corrupt)
}

fn share(row: &Row) -> Result<ShareRecord> {
    let kind: &str = row.try_get(3)?;
    let categories: Vec<String> = parse_json(row.try_get(8)?)?;
    let categories = categories
        .iter()
        .map(|key| CategoryKey::parse(key).map_err(corrupt))
        .collect::<Result<CategorySet>>()?;
    let audience: Vec<String> = parse_json(row.try_get(9)?)?;
    let audience = audience
        .iter()
        .map(|text| PersonCategory::from_stable(text).map_err(corrupt))
        .collect::<Result<Vec<_>>>()?;
    let retention: Option<i64> = row.try_get(7)?;
    let count = |index: usize| -> Result<u64> { Ok(row.try_get::<_, i64>(index)?.unsigned_abs()) };
    Ok(ShareRecord {
        meta: ShareMeta {
            id: row.try_get(0).map(ShareId::new)?,
            supplier_id: row.try_get(1).map(SupplierId::new)?,
            kind: if kind == "feed" {
                ShareKind::Feed(FeedAudience {
                    categories: audience.clone(),
                })
            } else {
                ShareKind::Export
            },
            shared_at: instant(row.try_get(5)?)?,
            ends_at: optional(row.try_get(6)?)?,
            categories,
            retention_days: retention
                .map(|days| u32::try_from(days).map_err(corrupt))
                .transpose()?,
            deleted_at: optional(row.try_get(17)?)?,
            backups_until: optional(row.try_get(18)?)?,
        },
        supplier: row.try_get(2)?,
        purpose: row.try_get(4)?,
        marketing: row.try_get(21)?,
        audience,
        people_count: count(10)?,
        row_count: count(11)?,
        unmatched_count: count(12)?,
        unmatched_lines: parse_json(row.try_get(13)?)?,
        file_name: row.try_get(14)?,
        file_sha256: row.try_get(15)?,
        columns: parse_json(row.try_get(16)?)?,
        canary_count: count(19)?,
        recorded_at: instant(row.try_get(20)?)?,
    })
}

pub(super) fn shares(
    client: &mut Db<'_>,
    suppliers: Option<&[i64]>,
    id: Option<i64>,
) -> Result<Vec<ShareRecord>> {
    let base = "SELECT s.id, s.supplier, p.name, s.kind, s.purpose, s.shared_at, s.ends_at, s.retention_days, \
                s.categories, s.audience, s.people_count, s.row_count, s.unmatched_count, s.unmatched_lines, \
                s.file_name, s.file_sha256, s.columns, s.deleted_at, s.backups_until, s.canary_count, \
                s.recorded_at, s.marketing FROM shares s JOIN suppliers p ON p.id = s.supplier";
    let rows = match (suppliers, id) {
        (_, Some(id)) => client.query(&format!("{base} WHERE s.id = $1"), &[&id])?,
        (Some(suppliers), None) => client.query(
            &format!("{base} WHERE s.supplier = ANY($1) ORDER BY s.id"),
            &[&suppliers],
        )?,
        (None, None) => client.query(&format!("{base} ORDER BY s.id"), &[])?,
    };
    rows.iter().map(share).collect()
}

/// Replaces the stored feed columns with those `builder` collected.
pub(super) fn write_feeds(transaction: &mut Transaction<'_>, builder: FeedBuilder) -> Result<()> {
    transaction.execute("DELETE FROM place_sets", &[])?;
    for (place, ids) in builder.places()? {
        transaction.execute(
            "INSERT INTO place_sets (place, ids) VALUES ($1, $2)",
            &[&place, &ids],
        )?;
    }
    transaction.execute("DELETE FROM feed_columns", &[])?;
    for columns in builder.finish()? {
        transaction.execute(
            "INSERT INTO feed_columns (category, ids, by_join, by_leave, former) VALUES ($1, $2, $3, $4, $5)",
            &[
                &columns.category,
                &columns.ids,
                &columns.by_join,
                &columns.by_leave,
                &columns.former,
            ],
        )?;
    }
    Ok(())
}

/// Rebuilds every category's feed columns from the people table.
pub(super) fn rebuild_feeds(transaction: &mut Transaction<'_>) -> Result<()> {
    let mut builder = FeedBuilder::default();
    let rows = transaction.query(
        "SELECT id, category, status, joined_on, left_on, COALESCE(region, country) FROM people \
         WHERE canary_share IS NULL ORDER BY id",
        &[],
    )?;
    for row in rows {
        let category = PersonCategory::from_stable(row.try_get(1)?).map_err(corrupt)?;
        let former = row.try_get::<_, &str>(2)? == "former";
        let id = crate::encoding::person_id(row.try_get(0)?)?;
        builder.push(
            id,
            category,
            former,
            (row.try_get(3)?, row.try_get(4)?),
            row.try_get(5)?,
        );
    }
    write_feeds(transaction, builder)
}

/// Every place's people, sorted by place.
pub(super) fn places(client: &mut Db<'_>) -> Result<Vec<(String, PersonSet)>> {
    let rows = client.query("SELECT place, ids FROM place_sets ORDER BY place", &[])?;
    rows.iter()
        .map(|row| Ok((row.try_get(0)?, crate::encoding::read_set(row.try_get(1)?)?)))
        .collect()
}

/// The first index of a category's date list (`by_join` or `by_leave`) whose day is at least
/// `day`, and the list's length: a binary search run by the server (one round trip), each probe
/// reading four bytes of the uncompressed list in place.
fn first_at_least(
    client: &mut Db<'_>,
    category: &str,
    column: &'static str,
    day: u32,
) -> Result<(usize, usize)> {
    let sql = format!(
        "WITH RECURSIVE search(low, high) AS ( \
             SELECT 0::bigint, (octet_length({column}) / 8)::bigint FROM feed_columns WHERE category = $1 \
           UNION ALL \
             SELECT CASE WHEN probe.day < $2 THEN (low + high) / 2 + 1 ELSE low END, \
                    CASE WHEN probe.day < $2 THEN high ELSE (low + high) / 2 END \
             FROM search CROSS JOIN LATERAL ( \
                 SELECT get_byte(piece, 0)::bigint + get_byte(piece, 1)::bigint * 256 \
                        + get_byte(piece, 2)::bigint * 65536 + get_byte(piece, 3)::bigint * 16777216 AS day \
                 FROM (SELECT substring({column} FROM (((low + high) / 2) * 8 + 1)::int FOR 4) AS piece \
                       FROM feed_columns WHERE category = $1) probe_bytes \
             ) probe \
             WHERE low < high \
         ) \
         SELECT low, (SELECT (octet_length({column}) / 8)::bigint FROM feed_columns WHERE category = $1) \
         FROM search WHERE low >= high"
    );
    let row = client.query_opt(&sql, &[&category, &i64::from(day)])?;
    let Some(row) = row else {
        return Ok((0, 0));
    };
    let index: i64 = row.try_get(0)?;
    let entries: i64 = row.try_get(1)?;
    Ok((
        usize::try_from(index).map_err(corrupt)?,
        usize::try_from(entries).map_err(corrupt)?,
    ))
}

/// The ids of entries `from..to` of a category's date list, read in place.
fn ids_between(
    client: &mut Db<'_>,
    category: &str,
    column: &'static str,
    from: usize,
    to: usize,
) -> Result<PersonSet> {
    if to <= from {
        return Ok(PersonSet::new());
    }
    let start = i32::try_from(from * ENTRY_BYTES + 1).map_err(corrupt)?;
    let length = i32::try_from((to - from) * ENTRY_BYTES).map_err(corrupt)?;
    let row = client.query_one(
        &format!("SELECT substring({column} FROM $2 FOR $3) FROM feed_columns WHERE category = $1"),
        &[&category, &start, &length],
    )?;
    let bytes: &[u8] = row.try_get(0)?;
    let mut list = DateList::new(bytes.len(), |offset: usize, buffer: &mut [u8]| {
        let piece = bytes
            .get(offset..offset + buffer.len())
            .ok_or_else(|| corrupt("a feed's date list is shorter than it says"))?;
        buffer.copy_from_slice(piece);
        Ok(())
    });
    let entries = list.entries;
    list.ids(0, entries)
}

/// The people of the audience categories that the feed window covers.
pub(super) fn feed_people(
    client: &mut Db<'_>,
    audience: &[PersonCategory],
    window: FeedWindow,
) -> Result<PersonSet> {
    let joined_by = day_number(&window.joined_by.to_iso()).unwrap_or(u32::MAX);
    let not_left_before = day_number(&window.not_left_before.to_iso()).unwrap_or(0);
    let mut out = PersonSet::new();
    for category in audience {
        let category = category.as_str();
        let row = client.query_opt("SELECT ids FROM feed_columns WHERE category = $1", &[&category])?;
        let Some(row) = row else {
            continue;
        };
        let mut covered = read_set(row.try_get(0)?)?;
        let (joined_later, joins) = first_at_least(client, category, "by_join", joined_by.saturating_add(1))?;
        covered -= ids_between(client, category, "by_join", joined_later, joins)?;
        let (left_before, _) = first_at_least(client, category, "by_leave", not_left_before)?;
        covered -= ids_between(client, category, "by_leave", 0, left_before)?;
        out |= covered;
    }
    Ok(out)
}

/// The generation of the feed columns: the newest import's id (they are rewritten by every
/// import and by nothing else).
pub(super) fn feed_generation(client: &mut Db<'_>) -> Result<i64> {
    Ok(client
        .query_one("SELECT coalesce(max(id), 0) FROM imports", &[])?
        .try_get(0)?)
}

pub(super) fn category_people(client: &mut Db<'_>, category: PersonCategory) -> Result<PersonSet> {
    let row = client.query_opt(
        "SELECT ids FROM feed_columns WHERE category = $1",
        &[&category.as_str()],
    )?;
    match row {
        Some(row) => read_set(row.try_get(0)?),
        None => Ok(PersonSet::new()),
    }
}

pub(super) fn former_people(client: &mut Db<'_>) -> Result<PersonSet> {
    let mut out = PersonSet::new();
    for row in client.query("SELECT former FROM feed_columns", &[])? {
        out |= read_set(row.try_get(0)?)?;
    }
    Ok(out)
}

pub(super) fn left_between(client: &mut Db<'_>, from: Option<Day>, until: Option<Day>) -> Result<PersonSet> {
    let from = from.and_then(|day| day_number(&day.to_iso())).unwrap_or(0);
    let until = until
        .and_then(|day| day_number(&day.to_iso()))
        .unwrap_or(u32::MAX);
    let categories: Vec<String> = client
        .query("SELECT category FROM feed_columns", &[])?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<std::result::Result<_, _>>()?;
    let mut out = PersonSet::new();
    for category in &categories {
        let (start, _) = first_at_least(client, category, "by_leave", from)?;
        let (end, _) = first_at_least(client, category, "by_leave", until)?;
        out |= ids_between(client, category, "by_leave", start, end.max(start))?;
    }
    Ok(out)
}

pub(super) fn left_counts(client: &mut Db<'_>, people: &PersonSet, boundaries: &[Day]) -> Result<Vec<u64>> {
    let cuts: Vec<u32> = boundaries
        .iter()
        .filter_map(|day| day_number(&day.to_iso()))
        .collect();
    let mut counts = vec![0u64; cuts.len() + 1];
    for row in client.query("SELECT by_leave FROM feed_columns", &[])? {
        count_leavers(row.try_get(0)?, people, &cuts, &mut counts);
    }
    Ok(counts)
}
