//! What admins manage at the desk: users, API tokens, suppliers, and a view of the settings.

use std::sync::Arc;

use axum::extract::{Extension, Form, Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::{Value, context};
use serde::Deserialize;

use custody_app::{accounts, suppliers};
use custody_core::{DeskRole, SupplierRole};

use crate::auth::Caller;
use crate::error::{DeskError, PageError};
use crate::render::{self, given, s};
use crate::state::Desk;

/// A page again after a change that was refused for its input; other errors stay errors.
async fn refused(
    desk: &Arc<Desk>,
    caller: &Caller,
    error: DeskError,
    again: impl AsyncFnOnce(Value) -> Result<Html<String>, PageError>,
) -> Result<Response, PageError> {
    let status = error.status();
    if matches!(status.as_u16(), 400 | 404 | 409) {
        let page = again(context! { problem => error.to_string() }).await?;
        return Ok((status, page).into_response());
    }
    let _ = (desk, caller);
    Err(error.into())
}

async fn users_page(desk: &Arc<Desk>, caller: &Caller, extra: Value) -> Result<Html<String>, PageError> {
    let list = desk
        .run(&caller.actor(), |ledger| Ok(accounts::users(ledger)?))
        .await?;
    render::page(
        desk,
        caller,
        "users.html",
        context! { users => s(&list), ..extra },
    )
}

/// The accounts.
pub async fn users(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
) -> Result<Html<String>, PageError> {
    users_page(&desk, &caller, context! {}).await
}

/// A new account's fields.
#[derive(Deserialize)]
pub struct NewUser {
    name: String,
    role: String,
    password: String,
}

/// Adds an account.
pub async fn add_user(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Form(form): Form<NewUser>,
) -> Result<Response, PageError> {
    let result = desk
        .run(&caller.actor(), move |ledger| {
            let role = DeskRole::parse(&form.role).map_err(custody_app::Error::from)?;
            accounts::add_user(ledger, form.name.trim(), role, &form.password)?;
            Ok(())
        })
        .await;
    match result {
        Ok(()) => Ok(Redirect::to("/admin/users").into_response()),
        Err(error) => {
            refused(&desk, &caller, error, async |extra| {
                users_page(&desk, &caller, extra).await
            })
            .await
        }
    }
}

/// Disables an account (its sessions end at their next request).
pub async fn disable_user(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Result<Response, PageError> {
    if name.eq_ignore_ascii_case(&caller.name) {
        let error = DeskError::BadRequest("you cannot disable your own account".to_owned());
        return refused(&desk, &caller, error, async |extra| {
            users_page(&desk, &caller, extra).await
        })
        .await;
    }
    let result = desk
        .run(&caller.actor(), move |ledger| {
            Ok(accounts::disable_user(ledger, &name)?)
        })
        .await;
    match result {
        Ok(()) => Ok(Redirect::to("/admin/users").into_response()),
        Err(error) => {
            refused(&desk, &caller, error, async |extra| {
                users_page(&desk, &caller, extra).await
            })
            .await
        }
    }
}

/// Removes an account's second factor (a lost device).
pub async fn reset_totp(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Result<Response, PageError> {
    let result = desk
        .run(&caller.actor(), move |ledger| {
            Ok(accounts::clear_totp(ledger, &name)?)
        })
        .await;
    match result {
        Ok(()) => Ok(Redirect::to("/admin/users").into_response()),
        Err(error) => {
            refused(&desk, &caller, error, async |extra| {
                users_page(&desk, &caller, extra).await
            })
            .await
        }
    }
}

async fn tokens_page(desk: &Arc<Desk>, caller: &Caller, extra: Value) -> Result<Html<String>, PageError> {
    let list = desk
        .run(&caller.actor(), |ledger| Ok(accounts::tokens(ledger)?))
        .await?;
    render::page(
        desk,
        caller,
        "tokens.html",
        context! { tokens => s(&list), ..extra },
    )
}

/// The API tokens.
pub async fn tokens(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
) -> Result<Html<String>, PageError> {
    tokens_page(&desk, &caller, context! {}).await
}

/// A new token's fields.
#[derive(Deserialize)]
pub struct NewToken {
    name: String,
    role: String,
}

/// Makes a token and shows it once (the answer is not cached).
pub async fn add_token(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Form(form): Form<NewToken>,
) -> Result<Response, PageError> {
    let result = desk
        .run(&caller.actor(), move |ledger| {
            let role = DeskRole::parse(&form.role).map_err(custody_app::Error::from)?;
            Ok(accounts::add_token(ledger, form.name.trim(), role)?)
        })
        .await;
    match result {
        Ok((token, view)) => {
            let extra = context! { new_token => token, new_name => view.name };
            Ok(tokens_page(&desk, &caller, extra).await?.into_response())
        }
        Err(error) => {
            refused(&desk, &caller, error, async |extra| {
                tokens_page(&desk, &caller, extra).await
            })
            .await
        }
    }
}

/// Revokes a token.
pub async fn revoke_token(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Result<Response, PageError> {
    let result = desk
        .run(&caller.actor(), move |ledger| {
            Ok(accounts::revoke_token(ledger, &name)?)
        })
        .await;
    match result {
        Ok(()) => Ok(Redirect::to("/admin/tokens").into_response()),
        Err(error) => {
            refused(&desk, &caller, error, async |extra| {
                tokens_page(&desk, &caller, extra).await
            })
            .await
        }
    }
}

/// The settings, as the data directory has them.
pub async fn settings(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
) -> Result<Html<String>, PageError> {
    let settings = desk
        .run(&caller.actor(), |ledger| Ok(ledger.settings.clone()))
        .await?;
    let settings = serde_json::to_value(settings).map_err(|error| DeskError::Internal(error.to_string()))?;
    // Each setting with its value as TOML would write it (JSON for the nested ones).
    let rows: Vec<(String, String)> = settings
        .as_object()
        .map(|object| {
            object
                .iter()
                .map(|(key, value)| (key.clone(), value.to_string()))
                .collect()
        })
        .unwrap_or_default();
    render::page(&desk, &caller, "settings.html", context! { settings => s(&rows) })
}

/// A supplier's fields.
#[derive(Deserialize)]
pub struct NewSupplier {
    /// Name.
    pub name: String,
    /// `processor` or `sub-processor`.
    pub role: String,
    /// The processor of a sub-processor.
    pub parent: Option<String>,
    /// Breach-notice window, hours.
    pub notice_hours: Option<String>,
    /// Contract reference.
    pub contract: Option<String>,
    /// Contact email.
    pub contact: Option<String>,
}

/// The use case's input from a supplier's fields.
pub fn supplier_input(form: &NewSupplier) -> Result<suppliers::SupplierInput, DeskError> {
    let notice_hours = match given(&form.notice_hours) {
        Some(text) => Some(text.parse::<u32>().map_err(|_| {
            DeskError::BadRequest(format!(
                "breach-notice window {text:?}: expected whole hours, such as 24"
            ))
        })?),
        None => None,
    };
    Ok(suppliers::SupplierInput {
        name: form.name.clone(),
        role: SupplierRole::parse(form.role.trim()).map_err(custody_app::Error::from)?,
        parent: given(&form.parent),
        notice_hours,
        contract: given(&form.contract),
        contact: given(&form.contact),
    })
}

async fn suppliers_page(desk: &Arc<Desk>, caller: &Caller, extra: Value) -> Result<Html<String>, PageError> {
    let list = desk
        .run(&caller.actor(), |ledger| Ok(suppliers::list(ledger)?))
        .await?;
    render::page(
        desk,
        caller,
        "suppliers.html",
        context! { suppliers => s(&list), ..extra },
    )
}

/// Registers a supplier.
pub async fn add_supplier(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Form(form): Form<NewSupplier>,
) -> Result<Response, PageError> {
    let result = desk
        .run(&caller.actor(), move |ledger| {
            let input = supplier_input(&form)?;
            let name = input.name.trim().to_owned();
            suppliers::add_supplier(ledger, input)?;
            Ok(name)
        })
        .await;
    match result {
        Ok(name) => {
            Ok(Redirect::to(&format!("/suppliers/{}", crate::render::path_segment(&name))).into_response())
        }
        Err(error) => {
            refused(&desk, &caller, error, async |extra| {
                suppliers_page(&desk, &caller, extra).await
            })
            .await
        }
    }
}
