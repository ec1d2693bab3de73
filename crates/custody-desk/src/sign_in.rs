//! Signing in (password, then a code when the account has a second factor) and out. A new
//! session is made at every sign-in; failures are throttled per pair of account and address
//! (`throttle`).

use std::net::{IpAddr, SocketAddr};
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

/// The sign-in form, tied to this browser by a cookie (so another site cannot sign it in).
pub async fn form(State(desk): State<Arc<Desk>>, headers: HeaderMap) -> Result<Response, PageError> {
    let now = desk.now().unix_seconds();
    let session = match cookie(&headers, SESSION_COOKIE) {
        Some(id) => desk.sessions.get(id, now, true).await?,
        None => None,
    };
    if let Some(session) = session
        && !session.needs_code
    {
        return Ok(Redirect::to("/").into_response());
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

/// The address a sign-in comes from: the peer, or behind an HTTPS proxy on this machine the
/// last address the proxy added to `X-Forwarded-For`.
pub(crate) fn client_address(desk: &Desk, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    if desk.behind_https() && peer.ip().is_loopback() {
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .filter_map(|part| part.trim().parse::<IpAddr>().ok())
            .next_back();
        if let Some(address) = forwarded {
            return address;
        }
        // Every client would share the proxy's address and one another's back-off: the proxy
        // must add the client's address to X-Forwarded-For (nginx: `$proxy_add_x_forwarded_for`).
        static TOLD: std::sync::Once = std::sync::Once::new();
        TOLD.call_once(|| {
            tracing::warn!(
                "a sign-in came through the proxy without X-Forwarded-For; set the proxy to add the \
                 client's address, or all its clients share one throttle"
            );
        });
    }
    peer.ip()
}

/// Checks a password; starts a session (waiting for a code when the account has a second
/// factor).
pub async fn submit(
    State(desk): State<Arc<Desk>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<SignIn>,
) -> Result<Response, PageError> {
    let tied = !form.csrf.is_empty()
        && cookie(&headers, SIGN_IN_COOKIE).is_some_and(|token| same_secret(token, &form.csrf));
    if !tied {
        return sign_in_page(
            &desk,
            StatusCode::FORBIDDEN,
            Some(DeskError::StaleForm.to_string()),
            &form.name,
        );
    }
    let now = desk.now().unix_seconds();
    let address = client_address(&desk, peer, &headers);
    let admitted = match desk.throttle.attempt(&form.name, address, now).await? {
        Ok(admitted) => admitted,
        Err(seconds) => {
            let problem = DeskError::Throttled(seconds).to_string();
            let mut page = sign_in_page(&desk, StatusCode::TOO_MANY_REQUESTS, Some(problem), &form.name)?;
            page.headers_mut().insert(header::RETRY_AFTER, seconds.into());
            return Ok(page);
        }
    };
    let (name, password) = (form.name.trim().to_owned(), form.password);
    // Known and unknown names do the same work before the answer (one Argon2id verification,
    // one look-up of the name); what is audited about a refusal is written after it.
    let (account, known) = desk
        .run("desk", move |ledger| {
            let account = custody_app::desk::accounts::check_user_password(ledger, &name, &password)?;
            let known = active_account(ledger, &name)?;
            Ok((account, known))
        })
        .await?;
    let Some(account) = account else {
        tracing::info!("a sign-in was refused (wrong name or password)");
        audit_refusal_later(&desk, known, false, admitted.alert);
        let problem = "The name or the password is wrong.".to_owned();
        return sign_in_page(&desk, StatusCode::UNAUTHORIZED, Some(problem), &form.name);
    };
    let needs_code = account.totp_sealed.is_some();
    if let Some(old) = cookie(&headers, SESSION_COOKIE) {
        desk.sessions.end(old).await?;
    }
    if needs_code {
        desk.throttle.password_right(&account.name, address, now).await?;
    } else {
        desk.throttle.succeeded(&account.name, address, now).await?;
        record(&desk, &account.name, "desk.sign_in", false).await?;
    }
    let id = desk.sessions.start(&account.name, needs_code, now).await?;
    let target = if needs_code { "/sign-in/code" } else { "/" };
    let mut response = Redirect::to(target).into_response();
    let headers = response.headers_mut();
    headers.append(header::SET_COOKIE, set_cookie(&desk, SESSION_COOKIE, Some(&id)));
    headers.append(header::SET_COOKIE, set_cookie(&desk, SIGN_IN_COOKIE, None));
    Ok(response)
}

/// The name of the active account called `name`, if there is one.
fn active_account(ledger: &custody_app::Ledger, name: &str) -> Result<Option<String>, DeskError> {
    let account = custody_app::desk::accounts::account_named(ledger, name)?;
    Ok(account
        .filter(|account| account.disabled_at.is_none())
        .map(|account| account.name))
}

/// Refused sign-ins to existing accounts waiting to be audited, by account: a count of wrong
/// passwords and wrong codes, the first and last refusal, and whether an alert is due. Bounded by
/// the number of accounts (names that are no account's are never kept).
#[derive(Debug, Default)]
pub(crate) struct Refusals {
    pending: std::sync::Mutex<std::collections::BTreeMap<String, Pending>>,
}

#[derive(Debug, Clone, Copy)]
struct Pending {
    passwords: u32,
    codes: u32,
    first: custody_core::Instant,
    last: custody_core::Instant,
    alert: bool,
}

impl Refusals {
    fn add(&self, account: String, at_code: bool, alert: bool, now: custody_core::Instant) {
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = pending.entry(account).or_insert(Pending {
            passwords: 0,
            codes: 0,
            first: now,
            last: now,
            alert: false,
        });
        if at_code {
            entry.codes += 1;
        } else {
            entry.passwords += 1;
        }
        entry.last = now;
        entry.alert |= alert;
    }

    fn take(&self) -> std::collections::BTreeMap<String, Pending> {
        std::mem::take(
            &mut *self
                .pending
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}

/// How often pending refusals are written.
const REFUSALS_FLUSH_MILLISECONDS: u64 = 1_000;

/// Keeps a refused sign-in to an account that exists and is active, to go into the audit log
/// under the account's name with when it happened, and an alert when failures to it from
/// everywhere reached the alert level (a name that is no account's is only counted: it may be a
/// mistyped password). Written on a timer of its own, never on a request's path or right after
/// one, so an answer takes as long, and the next answer too, whether the name exists or not.
fn audit_refusal_later(desk: &Arc<Desk>, known: Option<String>, at_code: bool, alert: bool) {
    if let Some(account) = known {
        desk.refusals.add(account, at_code, alert, desk.now());
    }
}

/// Writes pending refusals once a second, and a last time when the desk stops.
pub(crate) async fn write_refusals(desk: Arc<Desk>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(REFUSALS_FLUSH_MILLISECONDS));
    loop {
        let stopping = tokio::select! {
            _ = tick.tick() => false,
            () = desk.stopping.notified() => true,
        };
        for (account, pending) in desk.refusals.take() {
            let written = desk
                .run(&format!("desk:{account}"), move |ledger| {
                    custody_app::desk::accounts::record_refusals(
                        ledger,
                        pending.passwords,
                        pending.codes,
                        pending.first,
                        pending.last,
                    )?;
                    if pending.alert {
                        custody_app::desk::accounts::record_alert(
                            ledger,
                            crate::throttle::ACCOUNT_ALERT_FAILURES,
                        )?;
                    }
                    Ok(())
                })
                .await;
            if written.is_err() {
                tracing::error!("refused sign-ins could not be audited");
            }
        }
        if stopping {
            return;
        }
    }
}

async fn record(
    desk: &Arc<Desk>,
    name: &str,
    action: &'static str,
    second_factor: bool,
) -> Result<(), DeskError> {
    let actor = format!("desk:{name}");
    desk.run(&actor, move |ledger| {
        Ok(custody_app::desk::accounts::record_session(
            ledger,
            action,
            second_factor,
        )?)
    })
    .await
}

/// The session waiting for its code, if the browser has one.
async fn pending(
    desk: &Desk,
    headers: &HeaderMap,
) -> Result<Option<(String, crate::auth::Session)>, DeskError> {
    let Some(id) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let session = desk.sessions.get(id, desk.now().unix_seconds(), true).await?;
    Ok(session
        .filter(|session| session.needs_code)
        .map(|session| (id.to_owned(), session)))
}

/// The form for the second factor's code.
pub async fn code_form(State(desk): State<Arc<Desk>>, headers: HeaderMap) -> Result<Response, PageError> {
    let Some((_, session)) = pending(&desk, &headers).await? else {
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

/// Checks the code; a new session (a new id) replaces the half-made one.
pub async fn code_submit(
    State(desk): State<Arc<Desk>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<Code>,
) -> Result<Response, PageError> {
    let Some((id, session)) = pending(&desk, &headers).await? else {
        return Ok(Redirect::to("/sign-in").into_response());
    };
    if !same_secret(&form.csrf, &session.csrf) {
        return Err(DeskError::StaleForm.into());
    }
    let now = desk.now().unix_seconds();
    let address = client_address(&desk, peer, &headers);
    let refuse = |status: StatusCode, problem: String| -> Result<Response, PageError> {
        let page = render::bare(
            &desk,
            "code.html",
            context! { csrf => session.csrf.clone(), problem => problem },
        )?;
        Ok((status, page).into_response())
    };
    let admitted = match desk.throttle.attempt(&session.account, address, now).await? {
        Ok(admitted) => admitted,
        Err(seconds) => {
            let mut page = refuse(
                StatusCode::TOO_MANY_REQUESTS,
                DeskError::Throttled(seconds).to_string(),
            )?;
            page.headers_mut().insert(header::RETRY_AFTER, seconds.into());
            return Ok(page);
        }
    };
    let (name, code) = (session.account.clone(), form.code);
    let accepted = desk
        .run("desk", move |ledger| {
            let Some(account) = custody_app::desk::accounts::account_named(ledger, &name)?
                .filter(|account| account.disabled_at.is_none())
            else {
                return Ok(None);
            };
            let secret = custody_app::desk::accounts::totp_secret(ledger, &account)?;
            let step = secret
                .as_deref()
                .and_then(|secret| crate::totp::matching_step(secret, &code, now.unsigned_abs()));
            let taken = match step {
                Some(step) => custody_app::desk::accounts::take_totp_step(ledger, &account.name, step)?,
                None => false,
            };
            Ok(Some((taken, account.name)))
        })
        .await?;
    let accepted = match accepted {
        Some((true, _)) => true,
        Some((false, name)) => {
            audit_refusal_later(&desk, Some(name), true, admitted.alert);
            false
        }
        None => false,
    };
    if !accepted {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "That code is not right; try the next one.".to_owned(),
        );
    }
    desk.throttle.succeeded(&session.account, address, now).await?;
    record(&desk, &session.account, "desk.sign_in", true).await?;
    desk.sessions.end(&id).await?;
    let fresh = desk.sessions.start(&session.account, false, now).await?;
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(&desk, SESSION_COOKIE, Some(&fresh)),
    );
    Ok(response)
}

/// Ends the session.
pub async fn sign_out(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, PageError> {
    if let Some(id) = &caller.session {
        desk.sessions.end(id).await?;
    }
    record(&desk, &caller.name, "desk.sign_out", false).await?;
    let mut response = Redirect::to("/sign-in").into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, set_cookie(&desk, SESSION_COOKIE, None));
    Ok(response)
}
