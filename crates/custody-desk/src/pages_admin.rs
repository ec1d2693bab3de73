//! What admins manage at the desk: users, API tokens, suppliers, and a view of the settings.

use std::sync::Arc;

use axum::extract::{Extension, Form, Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::{Value, context};
use serde::Deserialize;

use custody_app::{desk::accounts, ledger::suppliers};
use custody_core::{DeskRole, SupplierRole};

use crate::auth::Caller;
use crate::error::{DeskError, PageError};
use crate::render::{self, given, s};
use crate::state::Desk;

/// A page again after a change that was refused for its input; other errors stay errors.
async fn refused(
    error: DeskError,
    again: impl AsyncFnOnce(Value) -> Result<Html<String>, PageError>,
) -> Result<Response, PageError> {
    let status = error.status();
    if matches!(status.as_u16(), 400 | 404 | 409) {
        let page = again(context! { problem => error.to_string() }).await?;
        return Ok((status, page).into_response());
    }
    Err(error.into())
}

/// After a change: on to `target`, or the page again with what was wrong.
async fn redirect_or_refused(
    result: Result<(), DeskError>,
    target: &str,
    again: impl AsyncFnOnce(Value) -> Result<Html<String>, PageError>,
) -> Result<Response, PageError> {
    match result {
        Ok(()) => Ok(Redirect::to(target).into_response()),
        Err(error) => refused(error, again).await,
    }
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
    supplier: Option<String>,
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
            let supplier = form
                .supplier
                .as_deref()
                .map(str::trim)
                .filter(|name| !name.is_empty());
            accounts::add_user(ledger, form.name.trim(), role, supplier, &form.password)?;
            Ok(())
        })
        .await;
    redirect_or_refused(result, "/admin/users", async |extra| {
        users_page(&desk, &caller, extra).await
    })
    .await
}

/// Disables an account (its sessions end at their next request).
pub async fn disable_user(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Result<Response, PageError> {
    if name.eq_ignore_ascii_case(&caller.name) {
        let error = DeskError::BadRequest("you cannot disable your own account".to_owned());
        return refused(error, async |extra| users_page(&desk, &caller, extra).await).await;
    }
    let result = desk
        .run(&caller.actor(), move |ledger| {
            Ok(accounts::disable_user(ledger, &name)?)
        })
        .await;
    redirect_or_refused(result, "/admin/users", async |extra| {
        users_page(&desk, &caller, extra).await
    })
    .await
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
    redirect_or_refused(result, "/admin/users", async |extra| {
        users_page(&desk, &caller, extra).await
    })
    .await
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
    supplier: Option<String>,
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
            let supplier = form
                .supplier
                .as_deref()
                .map(str::trim)
                .filter(|name| !name.is_empty());
            Ok(accounts::add_token(ledger, form.name.trim(), role, supplier)?)
        })
        .await;
    match result {
        Ok((token, view)) => {
            let extra = context! { new_token => token, new_name => view.name };
            Ok(tokens_page(&desk, &caller, extra).await?.into_response())
        }
        Err(error) => refused(error, async |extra| tokens_page(&desk, &caller, extra).await).await,
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
    redirect_or_refused(result, "/admin/tokens", async |extra| {
        tokens_page(&desk, &caller, extra).await
    })
    .await
}

async fn settings_page(desk: &Arc<Desk>, caller: &Caller, extra: Value) -> Result<Html<String>, PageError> {
    let settings = desk
        .run(&caller.actor(), |ledger| Ok(ledger.settings.clone()))
        .await?;
    let values = context! {
        s => s(&settings),
        names_supplier => settings.notice_names_supplier.unwrap_or(true),
        ..extra
    };
    render::page(desk, caller, "settings.html", values)
}

/// The settings, with the form to change those that may change while custody runs.
pub async fn settings(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
) -> Result<Html<String>, PageError> {
    settings_page(&desk, &caller, context! {}).await
}

/// The settings' fields.
#[derive(Deserialize)]
pub struct SettingsForm {
    organisation: String,
    regulator: String,
    canary_domain: String,
    dpo_name: String,
    dpo_email: String,
    people_target_hours: Option<String>,
    former_retention_years: Option<String>,
    notice_names_supplier: Option<String>,
}

fn whole(name: &str, text: &Option<String>) -> Result<Option<u32>, DeskError> {
    given(text)
        .map(|text| {
            text.parse::<u32>()
                .map_err(|_| DeskError::BadRequest(format!("{name} {text:?}: expected a whole number")))
        })
        .transpose()
}

/// Changes the settings (audited with what changed).
pub async fn change_settings(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Form(form): Form<SettingsForm>,
) -> Result<Response, PageError> {
    let result = desk
        .run(&caller.actor(), move |ledger| {
            let change = custody_app::SettingsChange {
                organisation: form.organisation,
                regulator: form.regulator,
                canary_domain: form.canary_domain,
                dpo_name: form.dpo_name,
                dpo_email: form.dpo_email,
                people_target_hours: whole("hours to tell people", &form.people_target_hours)?,
                former_retention_years: whole("years after leaving", &form.former_retention_years)?,
                notice_names_supplier: form.notice_names_supplier.is_some(),
            };
            let changed = ledger.change_settings(change)?;
            Ok((changed, ledger.settings.organisation.clone()))
        })
        .await;
    match result {
        Ok((changed, organisation)) => {
            if !changed.is_empty() {
                desk.settings_changed(organisation);
            }
            let notice = if changed.is_empty() {
                "Nothing changed.".to_owned()
            } else {
                format!("Changed: {}.", changed.join(", "))
            };
            Ok(settings_page(&desk, &caller, context! { notice => notice })
                .await?
                .into_response())
        }
        Err(error) => refused(error, async |extra| settings_page(&desk, &caller, extra).await).await,
    }
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
        country: None,
        transfer_safeguard: None,
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
        Err(error) => refused(error, async |extra| suppliers_page(&desk, &caller, extra).await).await,
    }
}
