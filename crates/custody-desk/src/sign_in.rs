//! Signing in (password, then a code when the account has a second factor) and out. A new
//! session is made at every sign-in; failures are throttled per account and per address.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Extension, Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Deserialize;

use crate::auth::{Caller, SESSION_COOKIE, SIGN_IN_COOKIE, cookie, random_token, same_secret, set_cookie};
use crate::error::{DeskError, PageError};
use crate::render;
use crate::state::Desk;
use crate::throttle;

/// The sign-in form, tied to this browser by a cookie (so another site cannot sign it in).
pub async fn form(State(desk): State<Arc<Desk>>, headers: HeaderMap) -> Result<Response, PageError> {
    let now = desk.now().unix_seconds();
    if let Some(session) = cookie(&headers, SESSION_COOKIE).and_then(|id| desk.sessions.get(id, now))
        && !session.needs_code
    {
        return Ok(Redirect::to("/incidents").into_response());
    }
    sign_in_page(&desk, StatusCode::OK, None, "")
}

fn sign_in_page(
    desk: &Desk,
    status: StatusCode,
    problem: Option<String>,
    name: &str,
) -> Result<Response, PageError> {
    let token = random_token()?;
    let page = render::bare(
        desk,
        "sign_in.html",
        context! { csrf => token.clone(), problem => problem, name => name },
    )?;
    let mut response = (status, page).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, set_cookie(desk, SIGN_IN_COOKIE, Some(&token)));
    Ok(response)
}

/// The sign-in form's fields.
#[derive(Deserialize)]
pub struct SignIn {
    csrf: String,
    name: String,
    password: String,
}

/// Checks a password; starts a session (waiting for a code when the account has a second
/// factor).
pub async fn submit(
    State(desk): State<Arc<Desk>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<SignIn>,
) -> Result<Response, PageError> {
    let tied = cookie(&headers, SIGN_IN_COOKIE).is_some_and(|token| same_secret(token, &form.csrf));
    if !tied {
        return sign_in_page(
            &desk,
            StatusCode::FORBIDDEN,
            Some(DeskError::StaleForm.to_string()),
            &form.name,
        );
    }
    let now = desk.now().unix_seconds();
    let keys = throttle::keys(&form.name, peer.ip());
    if let Some(minutes) = desk.throttle.refused(&keys, now) {
        let problem = DeskError::Throttled(minutes).to_string();
        return sign_in_page(&desk, StatusCode::TOO_MANY_REQUESTS, Some(problem), &form.name);
    }
    let (name, password) = (form.name.trim().to_owned(), form.password);
    let account = desk
        .run("desk", move |ledger| {
            Ok(custody_app::accounts::check_user_password(
                ledger, &name, &password,
            )?)
        })
        .await?;
    let Some(account) = account else {
        desk.throttle.fail(&keys, now);
        eprintln!("custody desk: a sign-in was refused (wrong name or password)");
        let problem = "The name or the password is wrong.".to_owned();
        return sign_in_page(&desk, StatusCode::UNAUTHORIZED, Some(problem), &form.name);
    };
    let needs_code = account.totp_sealed.is_some();
    if let Some(old) = cookie(&headers, SESSION_COOKIE) {
        desk.sessions.end(old);
    }
    let id = desk.sessions.start(&account.name, needs_code, now)?;
    if !needs_code {
        desk.throttle.clear(&keys_account(&keys));
        record(&desk, &account.name, "desk.sign_in", false).await?;
    }
    let target = if needs_code { "/sign-in/code" } else { "/incidents" };
    let mut response = Redirect::to(target).into_response();
    let headers = response.headers_mut();
    headers.append(header::SET_COOKIE, set_cookie(&desk, SESSION_COOKIE, Some(&id)));
    headers.append(header::SET_COOKIE, set_cookie(&desk, SIGN_IN_COOKIE, None));
    Ok(response)
}

fn keys_account(keys: &[(String, u32)]) -> String {
    keys.first().map(|(key, _)| key.clone()).unwrap_or_default()
}

async fn record(
    desk: &Arc<Desk>,
    name: &str,
    action: &'static str,
    second_factor: bool,
) -> Result<(), DeskError> {
    let actor = format!("desk:{name}");
    desk.run(&actor, move |ledger| {
        Ok(custody_app::accounts::record_session(
            ledger,
            action,
            second_factor,
        )?)
    })
    .await
}

/// The session waiting for its code, if the browser has one.
fn pending(desk: &Desk, headers: &HeaderMap) -> Option<(String, crate::auth::Session)> {
    let id = cookie(headers, SESSION_COOKIE)?;
    let session = desk.sessions.get(id, desk.now().unix_seconds())?;
    session.needs_code.then(|| (id.to_owned(), session))
}

/// The form for the second factor's code.
pub async fn code_form(State(desk): State<Arc<Desk>>, headers: HeaderMap) -> Result<Response, PageError> {
    let Some((_, session)) = pending(&desk, &headers) else {
        return Ok(Redirect::to("/sign-in").into_response());
    };
    Ok(render::bare(&desk, "code.html", context! { csrf => session.csrf })?.into_response())
}

/// The second factor's fields.
#[derive(Deserialize)]
pub struct Code {
    csrf: String,
    code: String,
}

/// Checks the code; the session becomes whole.
pub async fn code_submit(
    State(desk): State<Arc<Desk>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<Code>,
) -> Result<Response, PageError> {
    let Some((id, session)) = pending(&desk, &headers) else {
        return Ok(Redirect::to("/sign-in").into_response());
    };
    if !same_secret(&form.csrf, &session.csrf) {
        return Err(DeskError::StaleForm.into());
    }
    let now = desk.now().unix_seconds();
    let keys = throttle::keys(&session.account, peer.ip());
    let refuse = |status: StatusCode, problem: String| -> Result<Response, PageError> {
        let page = render::bare(
            &desk,
            "code.html",
            context! { csrf => session.csrf, problem => problem },
        )?;
        Ok((status, page).into_response())
    };
    if let Some(minutes) = desk.throttle.refused(&keys, now) {
        return refuse(
            StatusCode::TOO_MANY_REQUESTS,
            DeskError::Throttled(minutes).to_string(),
        );
    }
    let name = session.account.clone();
    let secret = desk
        .run("desk", move |ledger| {
            let account = custody_store::Store::account_named(&ledger.store, &name)?;
            match account {
                Some(account) => Ok(custody_app::accounts::totp_secret(ledger, &account)?),
                None => Ok(None),
            }
        })
        .await?;
    let step = secret
        .as_deref()
        .and_then(|secret| crate::totp::matching_step(secret, &form.code, now.unsigned_abs()));
    let fresh = step.is_some_and(|step| desk.used_steps.take(&session.account, step));
    if !fresh {
        desk.throttle.fail(&keys, now);
        return refuse(
            StatusCode::UNAUTHORIZED,
            "That code is not right; try the next one.".to_owned(),
        );
    }
    desk.sessions.update(&id, |session| session.needs_code = false);
    desk.throttle.clear(&keys_account(&keys));
    record(&desk, &session.account, "desk.sign_in", true).await?;
    Ok(Redirect::to("/incidents").into_response())
}

/// Ends the session.
pub async fn sign_out(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, PageError> {
    if let Some(id) = &caller.session {
        desk.sessions.end(id);
    }
    record(&desk, &caller.name, "desk.sign_out", false).await?;
    let mut response = Redirect::to("/sign-in").into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, set_cookie(&desk, SESSION_COOKIE, None));
    Ok(response)
}
