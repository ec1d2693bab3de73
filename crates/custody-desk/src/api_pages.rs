//! The API's lists that grow (incidents, the audit log, requests, an incident's timeline), a page
//! at a time: `?limit=N` (default 50, at most 500) and `?cursor=C`, where C is the `next` of the
//! page before (`null` on the last page). A cursor names the last item of its page, so a page
//! starts after that item: for incidents (newest first) and the audit log (newest first) that is
//! every older one, whatever was added since; for the request queue and a timeline it is the
//! items after it in the order as it stands when the page is read.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, State};
use serde_json::{Value, json};

use custody_app::breach::incidents;
use custody_core::IncidentId;

use crate::api::to_json;
use crate::api_bodies::PageQuery;
use crate::api_extract::{ApiPath, ApiQuery};
use crate::auth::Caller;
use crate::error::{ApiError, DeskError};
use crate::state::Desk;

/// Items on a page when the client does not say.
pub const LIMIT_DEFAULT: usize = 50;
/// The most items on a page.
pub const LIMIT_MAX: usize = 500;

/// Where a page starts and how long it is.
#[derive(Debug, Clone, Copy)]
pub struct Paging {
    limit: usize,
    after: Option<i64>,
}

impl TryFrom<PageQuery> for Paging {
    type Error = DeskError;

    fn try_from(query: PageQuery) -> Result<Self, DeskError> {
        let limit = query.limit.map_or(LIMIT_DEFAULT, usize::from);
        if !(1..=LIMIT_MAX).contains(&limit) {
            return Err(DeskError::Malformed {
                code: "malformed_query",
                message: format!("limit: expected 1 to {LIMIT_MAX}"),
                field: Some("limit".to_owned()),
            });
        }
        Ok(Paging {
            limit,
            after: query.cursor.map(|cursor| cursor.0),
        })
    }
}

/// How a list is ordered, and so where a cursor's page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Newest (highest key) first: the page holds keys below the cursor.
    Descending,
    /// As the list stands: the page holds what follows the cursor's item (nothing when it is gone).
    AsListed,
}

/// One page of `items` and the cursor of the next (`None` on the last).
pub fn page<T>(
    items: Vec<T>,
    key: impl Fn(&T) -> i64,
    order: Order,
    paging: Paging,
) -> (Vec<T>, Option<String>) {
    let start = match (paging.after, order) {
        (None, _) => 0,
        (Some(after), Order::Descending) => items
            .iter()
            .position(|item| key(item) < after)
            .unwrap_or(items.len()),
        (Some(after), Order::AsListed) => items
            .iter()
            .position(|item| key(item) == after)
            .map_or(items.len(), |at| at + 1),
    };
    let rest = items.len().saturating_sub(start);
    let more = rest > paging.limit;
    let taken: Vec<T> = items.into_iter().skip(start).take(paging.limit).collect();
    let next = if more {
        taken.last().map(|item| key(item).to_string())
    } else {
        None
    };
    (taken, next)
}

fn paging(query: PageQuery) -> Result<Paging, ApiError> {
    Ok(Paging::try_from(query)?)
}

/// `GET /api/v1/incidents?limit&cursor`: incidents newest first, each with its clocks.
pub async fn incidents(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    let paging = paging(query)?;
    let list = desk
        .run(&caller.actor(), |ledger| Ok(incidents::list(ledger)?))
        .await?;
    let (list, next) = page(list, |item| item.incident.get(), Order::Descending, paging);
    let mut listed = to_json(list)?;
    if let Some(items) = listed.as_array_mut() {
        for item in items {
            let id = item.get("incident").and_then(Value::as_i64).unwrap_or_default();
            if let Some(object) = item.as_object_mut() {
                object.insert(
                    "links".to_owned(),
                    crate::api::incident_links(IncidentId::new(id)),
                );
            }
        }
    }
    Ok(Json(json!({ "incidents": listed, "next": next })))
}

/// `GET /api/v1/incidents/{id}/timeline?limit&cursor`: the incident's timeline as the incident
/// shows it, a page at a time.
pub async fn timeline(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<IncidentId>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    let paging = paging(query)?;
    let entries = desk
        .run(&caller.actor(), move |ledger| {
            Ok(incidents::timeline_of(ledger, id)?)
        })
        .await?;
    let (entries, next) = page(entries, |entry| entry.id.get(), Order::AsListed, paging);
    Ok(Json(
        json!({ "incident": id, "timeline": to_json(entries)?, "next": next }),
    ))
}

/// `GET /api/v1/requests?limit&cursor`: the queue, overdue first.
pub async fn requests(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    let paging = paging(query)?;
    let queue = desk
        .run(&caller.actor(), |ledger| {
            Ok(custody_app::rights::requests::list(ledger, false)?)
        })
        .await?;
    let (queue, next) = page(queue, |item| item.request.get(), Order::AsListed, paging);
    Ok(Json(json!({ "requests": to_json(queue)?, "next": next })))
}

/// `GET /api/v1/audit?limit&cursor`: the chain's verification and its entries, newest first.
pub async fn audit(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    let paging = paging(query)?;
    let (verification, entries, anchor) = desk
        .run(&caller.actor(), move |ledger| {
            crate::pages::audit_page(ledger, paging.after, paging.limit.saturating_add(1))
        })
        .await?;
    let (entries, next) = page(
        entries,
        crate::pages::EntryRow::seq,
        Order::Descending,
        Paging {
            after: None,
            ..paging
        },
    );
    Ok(Json(json!({
        "verification": to_json(verification)?,
        "entries": to_json(entries)?,
        "latest_anchor": to_json(anchor)?,
        "next": next,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paging(limit: usize, after: Option<i64>) -> Paging {
        Paging { limit, after }
    }

    #[test]
    fn a_cursor_starts_the_next_page_after_its_item_and_the_last_page_has_none() {
        let newest_first: Vec<i64> = (1..=7).rev().collect();
        let (first, next) = page(newest_first.clone(), |id| *id, Order::Descending, paging(3, None));
        assert_eq!((first, next.as_deref()), (vec![7, 6, 5], Some("5")));
        let (second, next) = page(
            newest_first.clone(),
            |id| *id,
            Order::Descending,
            paging(3, Some(5)),
        );
        assert_eq!((second, next.as_deref()), (vec![4, 3, 2], Some("2")));
        let (last, next) = page(
            newest_first.clone(),
            |id| *id,
            Order::Descending,
            paging(3, Some(2)),
        );
        assert_eq!((last, next), (vec![1], None));
        // Exactly a page left: no next.
        let (exact, next) = page(newest_first, |id| *id, Order::Descending, paging(4, Some(5)));
        assert_eq!((exact, next), (vec![4, 3, 2, 1], None));
        // An incident opened between two pages does not shift the second.
        let grown: Vec<i64> = (1..=8).rev().collect();
        let (second, _) = page(grown, |id| *id, Order::Descending, paging(3, Some(5)));
        assert_eq!(second, vec![4, 3, 2]);
    }

    #[test]
    fn a_listed_order_follows_the_cursor_item_and_a_gone_item_ends_the_list() {
        let queue = vec![9, 2, 5, 1];
        let (after, next) = page(queue.clone(), |id| *id, Order::AsListed, paging(2, Some(2)));
        assert_eq!((after, next), (vec![5, 1], None));
        let (gone, next) = page(queue, |id| *id, Order::AsListed, paging(2, Some(3)));
        assert_eq!((gone, next), (Vec::<i64>::new(), None));
    }
}
