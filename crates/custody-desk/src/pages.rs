//! The pages every role reads: suppliers, shares, holdings, people, the audit log, and one's
//! own account (with the second factor's enrolment).

use custody_core::ShareId;
use std::collections::VecDeque;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Extension, Form, Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Deserialize;

use custody_app::{audit, ledger::person, ledger::shares, ledger::suppliers};
use custody_core::parse_instant;

use crate::auth::Caller;
use crate::error::{DeskError, PageError};
use crate::render::{self, bars, s};
use crate::state::Desk;

type Page = Result<Html<String>, PageError>;

/// The stylesheet.
pub async fn stylesheet() -> Response {
    static_file("text/css; charset=utf-8", include_str!("../assets/desk.css"))
}

/// The script (clock countdowns and notification progress).
pub async fn script() -> Response {
    static_file(
        "text/javascript; charset=utf-8",
        include_str!("../assets/desk.js"),
    )
}

fn static_file(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// `/` goes to the incidents.
pub async fn home(Extension(caller): Extension<Caller>) -> Redirect {
    if caller.supplier.is_some() {
        Redirect::to("/supplier")
    } else {
        Redirect::to("/incidents")
    }
}

/// Every supplier, and for admins the form to register one.
pub async fn suppliers(State(desk): State<Arc<Desk>>, Extension(caller): Extension<Caller>) -> Page {
    let list = desk
        .run(&caller.actor(), |ledger| Ok(suppliers::list(ledger)?))
        .await?;
    render::page(
        &desk,
        &caller,
        "suppliers.html",
        context! { suppliers => s(&list) },
    )
}

/// A supplier with its shares and the holdings form.
pub async fn supplier(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Page {
    let (supplier, shares, (mail, instructions, deletions), now_local) = desk
        .run(&caller.actor(), move |ledger| {
            let supplier = suppliers::show(ledger, &name)?;
            let shares = shares::list(ledger, Some(&supplier.name))?;
            let id = suppliers::find(ledger, &supplier.name)?.id;
            let mail = custody_app::notices::supplier_mail::list(ledger, Some(id))?;
            // Its instructions without whom they are for: a viewer sees no person.
            let mut instructions = custody_app::supplier_side::instructions::list(ledger, id)?;
            for instruction in &mut instructions {
                instruction.reference = None;
            }
            let deletions = custody_app::ledger::deletion_requests::list(ledger, Some(&[id]))?;
            let now = ledger.now().local_input(&ledger.zone);
            Ok((supplier, shares, (mail, instructions, deletions), now))
        })
        .await?;
    render::page(
        &desk,
        &caller,
        "supplier.html",
        context! {
            s => s(&supplier), shares => s(&shares), mail => s(&mail),
            instructions => s(&instructions), deletions => s(&deletions), now_local => now_local,
        },
    )
}

/// The holdings question's field.
#[derive(Deserialize)]
pub struct At {
    at: String,
}

/// What a supplier (with its sub-processors) held at an instant.
pub async fn holdings(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    Query(query): Query<At>,
) -> Page {
    let cache = Arc::clone(&desk);
    let report = desk
        .run(&caller.actor(), move |ledger| {
            let at = parse_instant(&query.at, &ledger.zone).map_err(custody_app::Error::from)?;
            cache.holdings.holdings(ledger, &name, at)
        })
        .await?;
    let categories = bars(
        report
            .categories
            .iter()
            .map(|(key, value)| ((*key).to_owned(), *value)),
    );
    let people = custody_app::breach::report::thousands(report.people);
    render::page(
        &desk,
        &caller,
        "holdings.html",
        context! { h => s(&*report), categories => s(&categories), people => people },
    )
}

/// One share.
pub async fn share(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<ShareId>,
) -> Page {
    let share = desk
        .run(&caller.actor(), move |ledger| find_share(ledger, id))
        .await?;
    render::page(&desk, &caller, "share.html", context! { share => s(&share) })
}

/// A share by id (one row, not the list of every share).
pub fn find_share(ledger: &custody_app::Ledger, id: ShareId) -> Result<shares::ShareView, DeskError> {
    Ok(shares::share_view(ledger, id)?)
}

/// The lookup form.
pub async fn people_form(State(desk): State<Arc<Desk>>, Extension(caller): Extension<Caller>) -> Page {
    render::page(&desk, &caller, "people.html", context! {})
}

/// The lookup's field: a reference or an email address (posted, so it stays out of addresses
/// and logs).
#[derive(Deserialize)]
pub struct Lookup {
    query: String,
}

/// A person by reference or email address, with the recipients of their data.
pub async fn people_lookup(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Form(form): Form<Lookup>,
) -> Page {
    let found = desk
        .run(&caller.actor(), move |ledger| {
            Ok(person::look_up(ledger, person::Query::Either(&form.query))?)
        })
        .await;
    match found {
        Ok(view) => render::page(&desk, &caller, "people.html", context! { person => s(&view) }),
        Err(DeskError::App(error @ (custody_app::Error::NotFound(_) | custody_app::Error::Invalid(_)))) => {
            render::page(
                &desk,
                &caller,
                "people.html",
                context! { problem => error.to_string() },
            )
        }
        Err(error) => Err(error.into()),
    }
}

/// An audit entry for output.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EntryRow {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    subject: String,
    details: String,
}

impl EntryRow {
    /// Its place in the chain.
    pub fn seq(&self) -> i64 {
        self.seq
    }
}

/// The newest audit entries (newest first) and the chain's verification.
pub fn audit_view(
    ledger: &custody_app::Ledger,
    newest: usize,
) -> Result<(audit::Verification, Vec<EntryRow>, Option<AnchorRow>), DeskError> {
    match audit_page(ledger, None, newest, true)? {
        (Some(verification), entries, anchor) => Ok((verification, entries, anchor)),
        (None, ..) => Err(DeskError::Internal("the chain was not verified".to_owned())),
    }
}

/// A page of the audit log: the chain's verification (when asked for), entries, the latest
/// checkpoint.
pub type AuditPage = (Option<audit::Verification>, Vec<EntryRow>, Option<AnchorRow>);

/// The chain's verification (when `verify`), the newest `newest` entries before `before` (a
/// sequence number; every entry when `None`), newest first, and the latest checkpoint.
pub fn audit_page(
    ledger: &custody_app::Ledger,
    before: Option<i64>,
    newest: usize,
    verify: bool,
) -> Result<AuditPage, DeskError> {
    let verification = if verify {
        Some(audit::verify(ledger)?)
    } else {
        None
    };
    let mut entries = VecDeque::with_capacity(newest.min(1024));
    let mut anchor = None;
    audit::each_entry(ledger, &mut |entry| {
        if entry.action == "audit.anchor" {
            anchor = Some(AnchorRow::of(&entry, &ledger.zone));
        }
        if before.is_some_and(|before| entry.seq >= before) || newest == 0 {
            return Ok(());
        }
        if entries.len() == newest {
            entries.pop_front();
        }
        entries.push_back(entry);
        Ok(())
    })?;
    let rows = entries
        .into_iter()
        .rev()
        .map(|entry| EntryRow {
            seq: entry.seq,
            at: custody_core::Instant::from_unix_seconds(entry.at)
                .map(|at| at.local(&ledger.zone))
                .unwrap_or_default(),
            actor: entry.actor,
            action: entry.action,
            subject: entry.subject,
            details: entry.details,
        })
        .collect();
    Ok((verification, rows, anchor))
}

/// The latest checkpoint taken with `custody audit anchor`, from its audit entry.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AnchorRow {
    /// The anchored entry.
    seq: Option<i64>,
    /// When it was taken, local time.
    at: String,
    /// Who took it.
    actor: String,
}

impl AnchorRow {
    fn of(entry: &custody_store::AuditEntry, zone: &custody_core::TimeZoneName) -> Self {
        #[derive(serde::Deserialize)]
        struct Details {
            seq: i64,
        }
        AnchorRow {
            seq: serde_json::from_str::<Details>(&entry.details)
                .ok()
                .map(|details| details.seq),
            at: custody_core::Instant::from_unix_seconds(entry.at)
                .map(|at| at.local(zone))
                .unwrap_or_default(),
            actor: entry.actor.clone(),
        }
    }
}

/// The audit log, with the chain's state.
pub async fn audit(State(desk): State<Arc<Desk>>, Extension(caller): Extension<Caller>) -> Page {
    let (verification, entries, anchor) = desk
        .run(&caller.actor(), |ledger| audit_view(ledger, 200))
        .await?;
    render::page(
        &desk,
        &caller,
        "audit.html",
        context! { v => s(&verification), entries => s(&entries), anchor => s(&anchor) },
    )
}

/// One's own account: the password and the second factor.
pub async fn account(State(desk): State<Arc<Desk>>, Extension(caller): Extension<Caller>) -> Page {
    account_page(&desk, &caller, context! {}).await
}

/// Whether the caller's account has a second factor.
async fn enrolled(desk: &Arc<Desk>, caller: &Caller) -> Result<bool, DeskError> {
    let name = caller.name.clone();
    desk.run(&caller.actor(), move |ledger| {
        Ok(custody_app::desk::accounts::has_second_factor(ledger, &name)?)
    })
    .await
}

async fn account_page(desk: &Arc<Desk>, caller: &Caller, extra: minijinja::Value) -> Page {
    let enrolled = enrolled(desk, caller).await?;
    let now = desk.now().unix_seconds();
    let enrolling = match caller.session.as_deref() {
        Some(id) => desk
            .sessions
            .get(id, now, true)
            .await?
            .and_then(|session| session.enrolling),
        None => None,
    };
    let values = match enrolling {
        Some(secret) if !enrolled => context! {
            enrolling => true,
            secret => crate::totp::secret_text(&secret),
            uri => crate::totp::otpauth_uri(&secret, &desk.organisation(), &caller.name),
        },
        _ => context! { enrolled => enrolled },
    };
    render::page(desk, caller, "account.html", context! { ..values, ..extra })
}

/// A new password's fields.
#[derive(Deserialize)]
pub struct NewPassword {
    current: String,
    password: String,
    again: String,
}

/// Changes one's own password (the current one is checked, and throttled like a sign-in); the
/// account's other sessions end.
pub async fn change_password(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: axum::http::HeaderMap,
    Form(form): Form<NewPassword>,
) -> Result<Response, PageError> {
    let problem = |text: &str| context! { problem => text.to_owned() };
    if form.password != form.again {
        let page = account_page(&desk, &caller, problem("The two new passwords differ.")).await?;
        return Ok((axum::http::StatusCode::BAD_REQUEST, page).into_response());
    }
    let now = desk.now().unix_seconds();
    let address = crate::sign_in::client_address(&desk, peer, &headers);
    if let Err(seconds) = desk.throttle.attempt(&caller.name, address, now).await? {
        let page = account_page(
            &desk,
            &caller,
            problem(&DeskError::Throttled(seconds).to_string()),
        )
        .await?;
        return Ok((axum::http::StatusCode::TOO_MANY_REQUESTS, page).into_response());
    }
    let name = caller.name.clone();
    let result = desk
        .run(&caller.actor(), move |ledger| {
            if custody_app::desk::accounts::check_user_password(ledger, &name, &form.current)?.is_none() {
                return Ok(false);
            }
            custody_app::desk::accounts::set_password(ledger, &name, &form.password)?;
            Ok(true)
        })
        .await;
    match result {
        Ok(true) => {
            desk.throttle.succeeded(&caller.name, address, now).await?;
            if let Some(id) = &caller.session {
                desk.sessions.end_others(&caller.name, id).await?;
            }
            Ok(account_page(
                &desk,
                &caller,
                context! { notice => "Your password is changed; your other sessions have ended." },
            )
            .await?
            .into_response())
        }
        Ok(false) => {
            let page = account_page(&desk, &caller, problem("The current password is wrong.")).await?;
            Ok((axum::http::StatusCode::UNAUTHORIZED, page).into_response())
        }
        Err(error) if error.status() == axum::http::StatusCode::BAD_REQUEST => {
            desk.throttle.succeeded(&caller.name, address, now).await?;
            let page = account_page(&desk, &caller, problem(&error.to_string())).await?;
            Ok((axum::http::StatusCode::BAD_REQUEST, page).into_response())
        }
        Err(error) => Err(error.into()),
    }
}

/// Starts enrolling a second factor: a new secret is shown, kept in the session until a code
/// made from it is typed.
pub async fn totp_start(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
) -> Result<Redirect, PageError> {
    // No new secret is shown to an account that has one (the use case refuses to replace it).
    if enrolled(&desk, &caller).await? {
        return Err(DeskError::BadRequest(
            "this account has a second factor already; an admin can reset it (a lost device)".to_owned(),
        )
        .into());
    }
    let secret = crate::totp::new_secret()?;
    if let Some(id) = &caller.session {
        desk.sessions
            .update(id, move |session| session.enrolling = Some(secret))
            .await?;
    }
    Ok(Redirect::to("/account"))
}

/// The code that confirms enrolment.
#[derive(Deserialize)]
pub struct Code {
    code: String,
}

/// Confirms enrolment with a code made from the shown secret; the secret is sealed and kept.
pub async fn totp_confirm(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Form(form): Form<Code>,
) -> Result<Response, PageError> {
    let now = desk.now().unix_seconds();
    let session = match caller.session.as_deref() {
        Some(id) => desk.sessions.get(id, now, true).await?,
        None => None,
    };
    let Some(secret) = session.and_then(|session| session.enrolling) else {
        return Ok(Redirect::to("/account").into_response());
    };
    let Some(step) = crate::totp::matching_step(&secret, &form.code, now.unsigned_abs()) else {
        let values = context! {
            enrolling => true,
            secret => crate::totp::secret_text(&secret),
            uri => crate::totp::otpauth_uri(&secret, &desk.organisation(), &caller.name),
            problem => "That code does not match; check the device's clock and try the next code.",
        };
        return Ok(render::page(&desk, &caller, "account.html", values)?.into_response());
    };
    let name = caller.name.clone();
    desk.run(&caller.actor(), move |ledger| {
        custody_app::desk::accounts::set_totp(ledger, &name, &secret)?;
        // The code that enrols cannot sign in afterwards.
        custody_app::desk::accounts::take_totp_step(ledger, &name, step)?;
        Ok(())
    })
    .await?;
    if let Some(id) = &caller.session {
        desk.sessions
            .update(id, |session| session.enrolling = None)
            .await?;
    }
    Ok(Redirect::to("/account").into_response())
}
