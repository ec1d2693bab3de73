//! The API's lists that grow (incidents, the audit log, requests, an incident's timeline), a page
//! at a time: `?limit=N` (default 50, at most 500) and `?cursor=C`, where C is the `next` of the
//! page before (`null` on the last page). Each list is in the order of its ids, which are given
//! once and never reused (incidents, requests and the audit log newest first, a timeline in the
//! order it was recorded), and a cursor is the id of its page's last item, so the next page
//! holds the items beyond it: nothing is skipped or repeated, whatever is added or changes
//! between pages.

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

/// Which way a list runs by its ids, and so which items lie beyond a cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Newest (highest id) first: a page holds the ids below the cursor.
    Descending,
    /// Oldest first: a page holds the ids above the cursor.
    Ascending,
}

/// One page of `items` and the cursor of the next (`None` on the last). The items are sorted
/// here by their ids, so a page never depends on any other order.
pub fn page<T>(
    mut items: Vec<T>,
    key: impl Fn(&T) -> i64,
    order: Order,
    paging: Paging,
) -> (Vec<T>, Option<String>) {
    match order {
        Order::Descending => items.sort_by_key(|item| std::cmp::Reverse(key(item))),
        Order::Ascending => items.sort_by_key(|item| key(item)),
    }
    let beyond = |item: &T| match (paging.after, order) {
        (None, _) => true,
        (Some(after), Order::Descending) => key(item) < after,
        (Some(after), Order::Ascending) => key(item) > after,
    };
    let start = items.iter().position(beyond).unwrap_or(items.len());
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

/// `GET /api/v1/incidents/{id}/timeline?limit&cursor`: the incident's timeline in the order it
/// was recorded (each entry has its own `at`), a page at a time.
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
    let (entries, next) = page(entries, |entry| entry.id.get(), Order::Ascending, paging);
    Ok(Json(
        json!({ "incident": id, "timeline": to_json(entries)?, "next": next }),
    ))
}

/// `GET /api/v1/requests?limit&cursor&overdue`: requests newest first, each with its clock and
/// due day (`overdue=true`: only those past it).
pub async fn requests(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    ApiQuery(query): ApiQuery<crate::api_bodies::RequestsQuery>,
) -> Result<Json<Value>, ApiError> {
    let overdue = query.overdue.unwrap_or(false);
    let paging = paging(query.page())?;
    let queue = desk
        .run(&caller.actor(), move |ledger| {
            Ok(custody_app::rights::requests::list(ledger, overdue)?)
        })
        .await?;
    let (queue, next) = page(queue, |item| item.request.get(), Order::Descending, paging);
    Ok(Json(json!({ "requests": to_json(queue)?, "next": next })))
}

/// `GET /api/v1/audit?limit&cursor`: its entries newest first, and on the first page (no
/// cursor) the chain's verification and latest checkpoint; later pages give those as `null`,
/// since checking the whole chain again for every page would make reading it quadratic.
pub async fn audit(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    let paging = paging(query)?;
    let (verification, entries, anchor) = desk
        .run(&caller.actor(), move |ledger| {
            crate::pages::audit_page(
                ledger,
                paging.after,
                paging.limit.saturating_add(1),
                paging.after.is_none(),
            )
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
    fn an_ascending_list_goes_on_above_its_cursor_whatever_order_it_came_in() {
        let recorded = vec![9, 2, 5, 1, 7];
        let (first, next) = page(recorded.clone(), |id| *id, Order::Ascending, paging(2, None));
        assert_eq!((first, next.as_deref()), (vec![1, 2], Some("2")));
        let (second, next) = page(recorded.clone(), |id| *id, Order::Ascending, paging(2, Some(2)));
        assert_eq!((second, next.as_deref()), (vec![5, 7], Some("7")));
        let (last, next) = page(recorded.clone(), |id| *id, Order::Ascending, paging(2, Some(7)));
        assert_eq!((last, next), (vec![9], None));
        // A cursor whose item is gone still starts where it was.
        let (after_gone, _) = page(recorded, |id| *id, Order::Ascending, paging(2, Some(3)));
        assert_eq!(after_gone, vec![5, 7]);
    }
}
