//! Who is asking: sessions (for pages) and bearer tokens (for the API), the guard every route
//! passes through, CSRF checks on page forms, and the headers every answer carries.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use custody_core::DeskRole;

use crate::error::{ApiError, DeskError, PageError};
use crate::rate::{Limit, Verdict};
use crate::routes::Surface;
use crate::state::Desk;

/// The session cookie.
pub const SESSION_COOKIE: &str = "custody_session";
/// The cookie that ties the sign-in form to the browser that loaded it.
pub const SIGN_IN_COOKIE: &str = "custody_sign_in";
/// A session ends after this long without a request.
pub const IDLE_SECONDS: i64 = 30 * 60;
/// A session ends this long after sign-in, whatever happens.
pub const LIFETIME_SECONDS: i64 = 12 * 60 * 60;
/// The largest form a page may post, and the largest body any route reads: two of the longest
/// free texts custody keeps (`LONG_TEXT_CHARS_MAX` characters each, as a timeline entry's text and
/// reason) with every character escaped as a client may send it (`\uD83D\uDE0D`, 12 bytes for
/// a character outside the Basic Multilingual Plane; `%F0%9F%98%8D`, 12, in a form), with room
/// for the other fields.
pub const BODY_BYTES_MAX: usize = 512 * 1024;
const FORM_BYTES_MAX: usize = BODY_BYTES_MAX;

/// A signed-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    /// The account.
    pub account: String,
    /// The token every form of this session carries.
    pub csrf: String,
    created: i64,
    seen: i64,
    /// The password was right; the second factor is still to come.
    pub needs_code: bool,
    /// A TOTP secret shown for enrolment, until a code made from it confirms it.
    pub enrolling: Option<Vec<u8>>,
}

/// Sessions by id: in memory for a desk alone on its store (a restart signs everyone out), or
/// in the store for desks on several processes (`custody_app::desk::desk_state`: keyed by a keyed
/// hash of the id, the form token derived from it, an enrolment secret sealed).
pub struct Sessions {
    by_id: Mutex<HashMap<String, Session>>,
    shared: Option<Arc<crate::state::Ledgers>>,
}

/// 32 random bytes as hex.
pub fn random_token() -> Result<String, DeskError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|error| DeskError::Internal(format!("no randomness: {error}")))?;
    Ok(custody_vault::hex(&bytes))
}

impl From<custody_app::desk::desk_state::SharedSession> for Session {
    fn from(shared: custody_app::desk::desk_state::SharedSession) -> Self {
        Session {
            account: shared.account,
            csrf: shared.csrf,
            created: shared.created,
            seen: shared.seen,
            needs_code: shared.needs_code,
            enrolling: shared.enrolling,
        }
    }
}

impl From<Session> for custody_app::desk::desk_state::SharedSession {
    fn from(session: Session) -> Self {
        custody_app::desk::desk_state::SharedSession {
            account: session.account,
            csrf: session.csrf,
            created: session.created,
            seen: session.seen,
            needs_code: session.needs_code,
            enrolling: session.enrolling,
        }
    }
}

impl Sessions {
    /// Sessions kept in memory.
    pub fn in_memory() -> Self {
        Sessions {
            by_id: Mutex::new(HashMap::new()),
            shared: None,
        }
    }

    /// Sessions kept in the store, known to every desk on it.
    pub fn shared(ledgers: Arc<crate::state::Ledgers>) -> Self {
        Sessions {
            by_id: Mutex::new(HashMap::new()),
            shared: Some(ledgers),
        }
    }

    /// Starts a session; returns its id.
    pub async fn start(&self, account: &str, needs_code: bool, now: i64) -> Result<String, DeskError> {
        let id = random_token()?;
        if let Some(ledgers) = &self.shared {
            let (kept, account) = (id.clone(), account.to_owned());
            ledgers
                .run("desk", move |ledger| {
                    let stale = now - LIFETIME_SECONDS;
                    custody_app::desk::desk_state::start_session(
                        ledger, &kept, &account, needs_code, now, stale,
                    )?;
                    Ok(())
                })
                .await?;
            return Ok(id);
        }
        let session = Session {
            account: account.to_owned(),
            csrf: random_token()?,
            created: now,
            seen: now,
            needs_code,
            enrolling: None,
        };
        let mut sessions = self.by_id.lock().unwrap_or_else(PoisonError::into_inner);
        sessions.retain(|_, session| live(session, now));
        sessions.insert(id.clone(), session);
        Ok(id)
    }

    /// Runs `change` on the stored session `id`: it sees the session (or none) and says what
    /// it becomes (none ends it).
    async fn change_shared(
        ledgers: &Arc<crate::state::Ledgers>,
        id: &str,
        change: impl FnOnce(Option<Session>) -> Option<Session> + Send + 'static,
    ) -> Result<Option<Session>, DeskError> {
        let id = id.to_owned();
        ledgers
            .run("desk", move |ledger| {
                let mut change = Some(change);
                let became = custody_app::desk::desk_state::change_session(ledger, &id, &mut |current| {
                    let change = change.take()?;
                    change(current.map(Session::from)).map(Into::into)
                })?;
                Ok(became.map(Session::from))
            })
            .await
    }

    /// The live session with this id; marked as seen now when `touch` (a page the person asked
    /// for, not a background poll, which must not keep an unattended browser signed in).
    pub async fn get(&self, id: &str, now: i64, touch: bool) -> Result<Option<Session>, DeskError> {
        if let Some(ledgers) = &self.shared {
            return Self::change_shared(ledgers, id, move |session| {
                let mut session = session.filter(|session| live(session, now))?;
                if touch {
                    session.seen = now;
                }
                Some(session)
            })
            .await;
        }
        let mut sessions = self.by_id.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(session) = sessions.get_mut(id) else {
            return Ok(None);
        };
        if !live(session, now) {
            sessions.remove(id);
            return Ok(None);
        }
        if touch {
            session.seen = now;
        }
        Ok(Some(session.clone()))
    }

    /// Changes a session.
    pub async fn update(
        &self,
        id: &str,
        change: impl FnOnce(&mut Session) + Send + 'static,
    ) -> Result<(), DeskError> {
        if let Some(ledgers) = &self.shared {
            Self::change_shared(ledgers, id, move |session| {
                let mut session = session?;
                change(&mut session);
                Some(session)
            })
            .await?;
            return Ok(());
        }
        if let Some(session) = self
            .by_id
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_mut(id)
        {
            change(session);
        }
        Ok(())
    }

    /// Ends every session of an account but one (after its password changed).
    pub async fn end_others(&self, account: &str, keep: &str) -> Result<(), DeskError> {
        if let Some(ledgers) = &self.shared {
            let (account, keep) = (account.to_owned(), keep.to_owned());
            return ledgers
                .run("desk", move |ledger| {
                    Ok(custody_app::desk::desk_state::end_other_sessions(
                        ledger,
                        &account,
                        Some(&keep),
                    )?)
                })
                .await;
        }
        self.by_id
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|id, session| id == keep || !session.account.eq_ignore_ascii_case(account));
        Ok(())
    }

    /// Ends a session.
    pub async fn end(&self, id: &str) -> Result<(), DeskError> {
        if let Some(ledgers) = &self.shared {
            Self::change_shared(ledgers, id, |_| None).await?;
            return Ok(());
        }
        self.by_id
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id);
        Ok(())
    }
}

fn live(session: &Session, now: i64) -> bool {
    now - session.seen < IDLE_SECONDS && now - session.created < LIFETIME_SECONDS
}

/// The caller of a route that passed the guard.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Account or token name.
    pub name: String,
    /// Its role.
    pub role: DeskRole,
    /// The session's CSRF token (empty for the API).
    pub csrf: String,
    /// The session id (pages only).
    pub session: Option<String>,
    /// For a supplier's account or token, its supplier (all it may see).
    pub supplier: Option<custody_core::SupplierId>,
}

impl Caller {
    /// Who acted, for the audit log: `desk:NAME` for a person at the desk, `api:NAME` for a token.
    pub fn actor(&self) -> String {
        match self.session {
            Some(_) => format!("desk:{}", self.name),
            None => format!("api:{}", self.name),
        }
    }
}

/// A cookie's value.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Secure behind HTTPS; `None` clears it.
pub fn set_cookie(desk: &Desk, name: &str, value: Option<&str>) -> HeaderValue {
    let secure = if desk.behind_https() { "; Secure" } else { "" };
    let text = match value {
        Some(value) => format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict{secure}"),
        None => format!("{name}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}"),
    };
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Equal strings, compared in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What the guard of one route knows.
#[derive(Clone)]
pub struct Guard {
    /// The desk.
    pub desk: Arc<Desk>,
    /// The least role the route needs.
    pub need: DeskRole,
    /// Page, API or public.
    pub surface: Surface,
    /// The route's path template, for the log (never the path asked, which may hold data).
    pub path: &'static str,
    /// The route may change something (or append to the audit log): it runs one at a time.
    pub writes: bool,
    /// The per-account rate limit the route counts against.
    pub limit: Option<Limit>,
}

/// Checks the caller of a route before its handler runs, and logs the answer.
pub async fn guard(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let response = match guard.surface {
        Surface::Public => match same_site(request.headers(), &method) {
            Ok(()) => changing(&guard, next.run(request)).await,
            Err(error) => PageError(error).into_response(),
        },
        Surface::Page => match page_caller(&guard, request).await {
            Ok(request) => match limited(&guard, actor_of(&request)).await {
                Ok(()) => changing(&guard, next.run(request)).await,
                Err(error) => PageError(error).into_response(),
            },
            Err(response) => response,
        },
        Surface::Api => match api_caller(&guard, request.headers()).await {
            Ok(caller) => {
                let mut request = request;
                request.extensions_mut().insert(caller);
                match limited(&guard, actor_of(&request)).await {
                    Ok(()) => changing(&guard, next.run(request)).await,
                    Err(error) => ApiError(error).into_response(),
                }
            }
            Err(error) => ApiError(error).into_response(),
        },
    };
    let status = response.status().as_u16();
    tracing::info!(method = %method, route = guard.path, status, "{method} {} {status}", guard.path);
    response
}

/// Counts the request against its route's rate limit for the caller; the first refusal of a run
/// is audited (under the write lock, as any audit entry).
async fn limited(guard: &Guard, actor: Option<String>) -> Result<(), DeskError> {
    let (Some(limit), Some(actor)) = (guard.limit, actor) else {
        return Ok(());
    };
    let now = guard.desk.now().timestamp().as_millisecond();
    match guard.desk.limits.take(limit, &actor, now) {
        Verdict::Allowed => Ok(()),
        Verdict::Refused { retry_seconds, first } => {
            if first {
                let _one_at_a_time = guard.desk.writes.lock().await;
                let audited = guard.desk.run(&actor, move |ledger| {
                    Ok(custody_app::audit::rate_limited(
                        ledger,
                        limit.as_str(),
                        retry_seconds,
                    )?)
                });
                crate::state::WRITING.scope(true, audited).await?;
            }
            Err(DeskError::RateLimited(retry_seconds))
        }
    }
}

fn actor_of(request: &Request) -> Option<String> {
    request.extensions().get::<Caller>().map(Caller::actor)
}

/// Runs a request that may change something one at a time (reads run side by side), so that
/// the audit chain's anchor moves in the order of the entries.
async fn changing(guard: &Guard, answer: impl std::future::Future<Output = Response>) -> Response {
    if !guard.writes {
        return answer.await;
    }
    let _one_at_a_time = guard.desk.writes.lock().await;
    crate::state::WRITING.scope(true, answer).await
}

/// A form posted from another site is refused (browsers say where a request comes from).
fn same_site(headers: &HeaderMap, method: &Method) -> Result<(), DeskError> {
    if method == Method::GET || method == Method::HEAD {
        return Ok(());
    }
    match headers
        .get("sec-fetch-site")
        .and_then(|value| value.to_str().ok())
    {
        None | Some("same-origin" | "none") => Ok(()),
        Some(_) => Err(DeskError::StaleForm),
    }
}

async fn page_caller(guard: &Guard, request: Request) -> Result<Request, Response> {
    let desk = &guard.desk;
    let now = desk.now().unix_seconds();
    let to_sign_in = || Redirect::to("/sign-in").into_response();
    let Some(id) = cookie(request.headers(), SESSION_COOKIE).map(str::to_owned) else {
        return Err(to_sign_in());
    };
    // The incident page polls its notices' progress: that alone does not keep a session alive.
    let touch = !guard.path.ends_with("/progress");
    let found = desk
        .sessions
        .get(&id, now, touch)
        .await
        .map_err(|error| PageError(error).into_response())?;
    let Some(session) = found else {
        return Err(to_sign_in());
    };
    if session.needs_code {
        return Err(Redirect::to("/sign-in/code").into_response());
    }
    let name = session.account.clone();
    let account = desk
        .run("desk", move |ledger| {
            Ok(custody_app::desk::accounts::account_named(ledger, &name)?)
        })
        .await
        .map_err(|error| PageError(error).into_response())?;
    let (role, supplier) = match account {
        Some(account) if account.disabled_at.is_none() => (account.role, account.supplier),
        _ => {
            desk.sessions
                .end(&id)
                .await
                .map_err(|error| PageError(error).into_response())?;
            return Err(to_sign_in());
        }
    };
    if !role.allows(guard.need) {
        return Err(PageError(DeskError::Forbidden).into_response());
    }
    let method = request.method().clone();
    same_site(request.headers(), &method).map_err(|error| PageError(error).into_response())?;
    let mut request = if method == Method::GET || method == Method::HEAD {
        request
    } else {
        checked_form(request, &session.csrf)
            .await
            .map_err(|error| PageError(error).into_response())?
    };
    request.extensions_mut().insert(Caller {
        name: session.account,
        role,
        csrf: session.csrf,
        session: Some(id),
        supplier,
    });
    Ok(request)
}

/// Reads a posted form and checks its `csrf` field against the session's; the form is put back
/// for the handler.
async fn checked_form(request: Request, csrf: &str) -> Result<Request, DeskError> {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, FORM_BYTES_MAX)
        .await
        .map_err(|_| DeskError::TooLarge)?;
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
    let given = fields
        .iter()
        .find(|(key, _)| key == "csrf")
        .map(|(_, value)| value.as_str());
    if !given.is_some_and(|given| same_secret(given, csrf)) {
        return Err(DeskError::StaleForm);
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

async fn api_caller(guard: &Guard, headers: &HeaderMap) -> Result<Caller, DeskError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(|token| token.trim().to_owned())
        .ok_or(DeskError::Unauthenticated)?;
    let found = guard
        .desk
        .run("desk", move |ledger| {
            Ok(custody_app::desk::accounts::check_token(ledger, &token)?)
        })
        .await?;
    let holder = found.ok_or(DeskError::Unauthenticated)?;
    if !holder.role.allows(guard.need) {
        return Err(DeskError::Forbidden);
    }
    Ok(Caller {
        name: holder.name,
        role: holder.role,
        csrf: String::new(),
        session: None,
        supplier: holder.supplier,
    })
}

/// Refuses a request whose `Host` is not one the desk answers to (421): a page on another site
/// that rebinds its own name to this machine's address cannot reach the desk under that name.
pub async fn known_host(State(hosts): State<Arc<Vec<String>>>, request: Request, next: Next) -> Response {
    // RFC 9112 section 3.2: a request with no Host, or more than one, is answered 400.
    let mut given = request.headers().get_all(header::HOST).iter();
    let (Some(first), None) = (given.next(), given.next()) else {
        return (axum::http::StatusCode::BAD_REQUEST, "one Host header is needed\n").into_response();
    };
    if crate::server::host_allowed(&hosts, first.to_str().unwrap_or_default()) {
        return next.run(request).await;
    }
    tracing::warn!("a request for another host name was refused");
    (
        axum::http::StatusCode::MISDIRECTED_REQUEST,
        "this desk does not answer to that host name (settings: [desk] allowed_hosts)\n",
    )
        .into_response()
}

/// The headers every answer carries: a strict Content-Security-Policy (scripts, styles and
/// everything else from this server only; no framing), no MIME sniffing, no referrer, no caching
/// of pages that hold personal data, and HSTS behind HTTPS.
pub async fn security_headers(State(desk): State<Arc<Desk>>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let fixed = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            header::HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if desk.behind_https() {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}

/// The answer to a path no route has.
pub async fn no_route() -> Response {
    (StatusCode::NOT_FOUND, PageError(DeskError::NoRoute)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sessions_end_when_idle_or_old_and_polls_do_not_keep_them() {
        let sessions = Sessions::in_memory();
        let live = |id: String, now: i64, touch: bool| {
            let sessions = &sessions;
            async move { sessions.get(&id, now, touch).await.unwrap().is_some() }
        };
        let id = sessions.start("alice", false, 1_000).await.unwrap();
        // Seen within the idle time, the session lives on.
        assert!(live(id.clone(), 1_000 + IDLE_SECONDS - 1, true).await);
        let seen = 1_000 + IDLE_SECONDS - 1;
        // A background poll does not move `seen`: the session ends idle time after the last page.
        assert!(live(id.clone(), seen + IDLE_SECONDS - 1, false).await);
        assert!(!live(id.clone(), seen + IDLE_SECONDS, false).await);
        assert!(
            !live(id.clone(), seen, true).await,
            "an ended session stays ended"
        );
        // However busy, a session ends at its lifetime.
        let busy = sessions.start("bob", false, 0).await.unwrap();
        let mut now = 0;
        while now < LIFETIME_SECONDS - 60 {
            now += 60;
            assert!(live(busy.clone(), now, true).await);
        }
        assert!(!live(busy, LIFETIME_SECONDS, true).await);
        assert!(!live("not-a-session".to_owned(), 0, true).await);
    }
}
