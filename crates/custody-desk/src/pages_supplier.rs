//! The supplier's side of the desk: a supplier's own account (or token) sees its supplier's
//! incidents and shares' metadata, and nothing of the organisation's people, other suppliers,
//! the audit log or settings (those routes need a staff role). Staff are sent to the suppliers.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, State};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde_json::Value;

use custody_app::supplier_side;

use crate::auth::Caller;
use crate::error::{ApiError, DeskError, PageError};
use crate::render::{self, s};
use crate::state::Desk;

/// `GET /supplier`: the supplier's first page.
pub async fn page(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, PageError> {
    let Some(supplier) = caller.supplier else {
        return Ok(Redirect::to("/suppliers").into_response());
    };
    let side = desk
        .run(&caller.actor(), move |ledger| {
            Ok(supplier_side::overview(ledger, supplier)?)
        })
        .await?;
    Ok(render::page(
        &desk,
        &caller,
        "supplier_side.html",
        context! { side => s(&side) },
    )?
    .into_response())
}

/// `GET /api/v1/supplier`: the same, for a supplier's token.
pub async fn api(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Value>, ApiError> {
    let Some(supplier) = caller.supplier else {
        return Err(ApiError(DeskError::App(custody_app::Error::NotFound(
            "this is a supplier's side: the token is not a supplier's (see /api/v1/suppliers)".to_owned(),
        ))));
    };
    let side = desk
        .run(&caller.actor(), move |ledger| {
            Ok(supplier_side::overview(ledger, supplier)?)
        })
        .await?;
    Ok(Json(serde_json::to_value(side).map_err(|error| {
        ApiError(DeskError::Internal(error.to_string()))
    })?))
}
