//! The rights desk in the browser: the queue of requests with every clock (overdue first), a
//! request with its events, decisions and actions, a form to log a request, a backlog upload,
//! and the retention page. Viewers read; responders act. Every action goes through the same use
//! cases as `custody request …`, and the API ([`crate::api_rights`]) shares the functions here.

use custody_core::RequestId;
use std::sync::Arc;

use axum::extract::{Extension, Form, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Deserialize;

use custody_app::rights::requests::{self, Decision, OpenInput, Outcome, Requester};
use custody_app::{Ledger, ledger::retention, rights::request_answer, rights::request_import};
use custody_core::{Channel, PauseReason, RequestKind, parse_instant};

use crate::auth::Caller;
use crate::error::{DeskError, PageError};
use crate::render::{self, given, s};
use crate::state::Desk;

/// A request to log, as typed or posted.
#[derive(Debug, Default, Deserialize)]
pub struct LogForm {
    /// The person's reference.
    pub person: Option<String>,
    /// The requester's address.
    pub email: Option<String>,
    /// The kind of request.
    pub kind: Option<String>,
    /// When it arrived (local time, or RFC 3339).
    pub received_at: Option<String>,
    /// email, post, web or phone.
    pub channel: Option<String>,
    /// The requester's name, as the request gives it.
    pub name: Option<String>,
    /// Their postcode.
    pub postcode: Option<String>,
    /// Their date of birth.
    pub born: Option<String>,
}

/// Logs a request; returns what opening it did.
pub fn log_with(ledger: &mut Ledger, form: LogForm) -> Result<requests::Opened, DeskError> {
    let requester = Requester {
        reference: given(&form.person),
        email: given(&form.email),
        // At the desk, suggestions come from keyed identifiers (at once); `custody request
        // open` also reads the ledger for fuzzy linkage.
        described: custody_app::rights::request_linkage::Described {
            name: given(&form.name),
            postcode: given(&form.postcode),
            born: given(&form.born),
            keyed_only: true,
        },
    };
    if requester.reference.is_none() && requester.email.is_none() {
        return Err(DeskError::BadRequest(
            "give the person's reference or the requester's email address".to_owned(),
        ));
    }
    let bad = |error: custody_core::Error| DeskError::BadRequest(error.to_string());
    let kind = RequestKind::parse(&given(&form.kind).unwrap_or_default()).map_err(bad)?;
    let received = given(&form.received_at)
        .ok_or_else(|| DeskError::BadRequest("received at: when did the request arrive?".to_owned()))?;
    let received_at = parse_instant(&received, &ledger.zone)
        .map_err(|error| DeskError::BadRequest(format!("received at: {error}")))?;
    let channel = given(&form.channel)
        .map(|text| Channel::parse(&text))
        .transpose()
        .map_err(bad)?;
    let input = OpenInput {
        requester,
        kind,
        received_at,
        channel,
        source: None,
    };
    Ok(requests::open(ledger, input)?)
}

/// An action on a request, as a form or a JSON body: `action` names it, the rest are its fields.
#[derive(Debug, Default, Deserialize)]
pub struct ActForm {
    /// identify, pause, resume, extend, decide, confirm or close.
    pub action: Option<String>,
    /// identify: the person's reference.
    pub person: Option<String>,
    /// identify: when identity was confirmed.
    pub identity_confirmed_at: Option<String>,
    /// pause, resume, confirm: when.
    pub at: Option<String>,
    /// pause: clarification, fee or identity; extend, decide, close: why.
    pub reason: Option<String>,
    /// pause, resume: what was asked or arrived.
    pub note: Option<String>,
    /// extend: 1 or 2.
    pub months: Option<String>,
    /// decide: erase, partial or refuse.
    pub decision: Option<String>,
    /// decide: the ground.
    pub ground: Option<String>,
    /// decide: the Art. 17(1) basis.
    pub basis: Option<String>,
    /// decide (partial): suppliers kept, comma-separated.
    pub keep_supplier: Option<String>,
    /// confirm: the supplier.
    pub supplier: Option<String>,
    /// confirm: until when backups keep the data.
    pub backups_until: Option<String>,
    /// close: done, refused or withdrawn.
    pub outcome: Option<String>,
}

fn required(field: &str, value: &Option<String>) -> Result<String, DeskError> {
    given(value).ok_or_else(|| DeskError::BadRequest(format!("{field} is required")))
}

fn when(ledger: &Ledger, field: &str, value: &Option<String>) -> Result<custody_core::Instant, DeskError> {
    let text = required(field, value)?;
    parse_instant(&text, &ledger.zone).map_err(|error| DeskError::BadRequest(format!("{field}: {error}")))
}

/// Takes an action on a request; returns what it did, in words.
pub fn act_with(ledger: &mut Ledger, id: RequestId, form: ActForm) -> Result<String, DeskError> {
    let action = required("action", &form.action)?;
    let said = match action.as_str() {
        "identify" => {
            let person = required("person", &form.person)?;
            let confirmed = given(&form.identity_confirmed_at)
                .map(|_| when(ledger, "identity confirmed at", &form.identity_confirmed_at))
                .transpose()?;
            let instructed = requests::identify(ledger, id, &person, confirmed)?;
            format!("linked to {person}; instructed: {}", list(&instructed))
        }
        "pause" => {
            let at = when(ledger, "at", &form.at)?;
            let reason = PauseReason::parse(&required("reason", &form.reason)?)
                .map_err(|error| DeskError::BadRequest(error.to_string()))?;
            requests::pause(ledger, id, at, reason, given(&form.note).as_deref())?;
            format!("paused for {}", reason.as_str())
        }
        "resume" => {
            let at = when(ledger, "at", &form.at)?;
            let due = requests::resume(ledger, id, at, given(&form.note).as_deref())?;
            format!("resumed; due {due}")
        }
        "extend" => {
            let months: u8 = required("months", &form.months)?
                .parse()
                .map_err(|_| DeskError::BadRequest("months: expected 1 or 2".to_owned()))?;
            let due = requests::extend(ledger, id, months, &form.reason.unwrap_or_default())?;
            format!("extended; due {due}")
        }
        "decide" => {
            let decided = requests::decide(ledger, id, decision(&form)?)?;
            format!(
                "decided: {}; instructed: {}",
                decided.decision,
                list(&decided.instructed)
            )
        }
        "confirm" => {
            let supplier = required("supplier", &form.supplier)?;
            let at = when(ledger, "at", &form.at)?;
            let until = given(&form.backups_until)
                .map(|_| when(ledger, "backups until", &form.backups_until))
                .transpose()?;
            requests::confirm(ledger, id, &supplier, at, until, None)?;
            format!("{supplier} confirmed")
        }
        "close" => {
            let outcome = Outcome::parse(&required("outcome", &form.outcome)?)?;
            requests::close(ledger, id, outcome, &form.reason.unwrap_or_default())?;
            format!("closed as {}", outcome.as_str())
        }
        other => {
            return Err(DeskError::BadRequest(format!(
                "action {other:?}: expected identify, pause, resume, extend, decide, confirm or close"
            )));
        }
    };
    Ok(said)
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "nobody".to_owned()
    } else {
        names.join(", ")
    }
}

fn decision(form: &ActForm) -> Result<Decision, DeskError> {
    match given(&form.decision).as_deref() {
        Some("erase") => Ok(Decision::Erase {
            basis: given(&form.basis),
        }),
        Some("refuse") => Ok(Decision::Refuse {
            ground: required("ground", &form.ground)?,
            reason: form.reason.clone().unwrap_or_default(),
        }),
        Some("partial") => Ok(Decision::Partial {
            keep: required("keep supplier", &form.keep_supplier)?
                .split(',')
                .map(|name| name.trim().to_owned())
                .filter(|name| !name.is_empty())
                .collect(),
            ground: required("ground", &form.ground)?,
            reason: form.reason.clone().unwrap_or_default(),
            basis: given(&form.basis),
        }),
        other => Err(DeskError::BadRequest(format!(
            "decision {:?}: expected erase, partial or refuse",
            other.unwrap_or_default()
        ))),
    }
}

/// `GET /requests`: the queue, every clock, overdue first.
pub async fn list_page(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, PageError> {
    queue_page(&desk, &caller, None, StatusCode::OK).await
}

async fn queue_page(
    desk: &Arc<Desk>,
    caller: &Caller,
    message: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let (queue, now_local) = desk
        .run(&caller.actor(), |ledger| {
            Ok((
                requests::list(ledger, false)?,
                ledger.now().local_input(&ledger.zone),
            ))
        })
        .await?;
    let kinds: Vec<&str> = RequestKind::ALL.iter().map(|kind| kind.as_str()).collect();
    let page = render::page(
        desk,
        caller,
        "requests.html",
        context! { queue => s(&queue), kinds => kinds, message => message, now_local => now_local },
    )?;
    Ok((status, page).into_response())
}

/// `POST /requests`: log a request.
pub async fn log(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Form(form): Form<LogForm>,
) -> Result<Response, PageError> {
    let result = desk
        .run(&caller.actor(), move |ledger| log_with(ledger, form))
        .await;
    match result {
        Ok(opened) => Ok(Redirect::to(&format!("/requests/{}", opened.request)).into_response()),
        Err(error)
            if error.status() == StatusCode::BAD_REQUEST || error.status() == StatusCode::NOT_FOUND =>
        {
            queue_page(&desk, &caller, Some(error.to_string()), StatusCode::BAD_REQUEST).await
        }
        Err(error) => Err(error.into()),
    }
}

/// A backlog as uploaded: the file's name and its text (the page's script reads the chosen file
/// into `csv`; it may also be pasted).
#[derive(Debug, Deserialize)]
pub struct UploadForm {
    /// The file's name.
    pub file_name: Option<String>,
    /// Its text.
    pub csv: Option<String>,
}

/// Imports an uploaded backlog, all rows or none.
pub fn import_with(
    ledger: &mut Ledger,
    form: UploadForm,
) -> Result<request_import::ImportedRequests, DeskError> {
    let text = required("csv", &form.csv)?;
    let name = given(&form.file_name).unwrap_or_else(|| "upload.csv".to_owned());
    // A file that cannot be read as a backlog is what was sent, not a conflict with the queue.
    request_import::import_upload(ledger, &name, text.as_bytes()).map_err(|error| match error {
        custody_app::Error::Invalid(message) => DeskError::BadRequest(message),
        other => other.into(),
    })
}

/// `POST /requests/import`: a backlog upload.
pub async fn import(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Form(form): Form<UploadForm>,
) -> Result<Response, PageError> {
    let result = desk
        .run(&caller.actor(), move |ledger| import_with(ledger, form))
        .await;
    match result {
        Ok(imported) => {
            let message = format!(
                "Recorded {} requests ({} matched to a person, {} overdue already).",
                imported.recorded, imported.matched, imported.overdue
            );
            queue_page(&desk, &caller, Some(message), StatusCode::OK).await
        }
        Err(error)
            if error.status() == StatusCode::BAD_REQUEST || error.status() == StatusCode::NOT_FOUND =>
        {
            queue_page(&desk, &caller, Some(error.to_string()), StatusCode::BAD_REQUEST).await
        }
        Err(error) => Err(error.into()),
    }
}

/// `GET /requests/{id}`: one request (the look is audited as `request.view`).
pub async fn show(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<RequestId>,
) -> Result<Response, PageError> {
    request_page(&desk, &caller, id, None, None, StatusCode::OK).await
}

async fn request_page(
    desk: &Arc<Desk>,
    caller: &Caller,
    id: RequestId,
    message: Option<String>,
    requester: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let view = desk
        .run(&caller.actor(), move |ledger| Ok(requests::look(ledger, id)?))
        .await?;
    let grounds: Vec<(&str, &str)> = custody_app::rights::request_decide::GROUNDS
        .iter()
        .map(|(name, article, _)| (*name, *article))
        .collect();
    let page = render::page(
        desk,
        caller,
        "request.html",
        context! {
            r => s(&view),
            message => message,
            requester => requester,
            grounds => grounds,
            crm_note => request_answer::CRM_MUST_ADD,
        },
    )?;
    Ok((status, page).into_response())
}

/// `POST /requests/{id}/act`: any action on a request.
pub async fn act(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<RequestId>,
    Form(form): Form<ActForm>,
) -> Result<Response, PageError> {
    let result = desk
        .run(&caller.actor(), move |ledger| act_with(ledger, id, form))
        .await;
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/requests/{id}")).into_response()),
        Err(error) if error.status() == StatusCode::BAD_REQUEST => {
            request_page(
                &desk,
                &caller,
                id,
                Some(error.to_string()),
                None,
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(error) => Err(error.into()),
    }
}

/// `POST /requests/{id}/requester`: opens the sealed requester address (audited).
pub async fn reveal(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<RequestId>,
) -> Result<Response, PageError> {
    let address = desk
        .run(&caller.actor(), move |ledger| {
            Ok(requests::reveal_requester(ledger, id)?)
        })
        .await?;
    let shown = address.unwrap_or_else(|| "no address is held for this request".to_owned());
    request_page(&desk, &caller, id, None, Some(shown), StatusCode::OK).await
}

/// The answer to a requester as a file, for pages and the API; records that it was produced.
pub async fn answer_file(
    desk: &Arc<Desk>,
    caller: &Caller,
    id: RequestId,
    format: &str,
) -> Result<Response, DeskError> {
    let content_type = match format {
        "md" => "text/markdown; charset=utf-8",
        "json" => "application/json",
        other => {
            return Err(DeskError::BadRequest(format!(
                "format {other:?}: expected md or json"
            )));
        }
    };
    let format = format.to_owned();
    let extension = format.clone();
    let (text, warnings) = desk
        .run(&caller.actor(), move |ledger| {
            let mut text = String::new();
            let warnings = request_answer::answer(ledger, id, &format, |answer| {
                text = answer.to_owned();
                Ok(())
            })?;
            Ok((text, warnings))
        })
        .await?;
    let disposition = format!("attachment; filename=\"request-{id}-answer.{extension}\"");
    // Warnings for the DPO (a share past its retention; what the CRM must add to a portability
    // file) travel beside the file, never in it.
    let warning: String = warnings
        .join("; ")
        .chars()
        .map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' })
        .collect();
    let mut response = (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        text,
    )
        .into_response();
    if let Ok(value) = header::HeaderValue::from_str(&warning)
        && !warning.is_empty()
    {
        response.headers_mut().insert("custody-warning", value);
    }
    Ok(response)
}

/// The answer's format, as a form field.
#[derive(Debug, Deserialize)]
pub struct AnswerForm {
    /// `md` or `json`.
    pub format: Option<String>,
}

/// `POST /requests/{id}/answer`: the answer as a file.
pub async fn answer_download(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<RequestId>,
    Form(form): Form<AnswerForm>,
) -> Result<Response, PageError> {
    let format = given(&form.format).unwrap_or_else(|| "md".to_owned());
    Ok(answer_file(&desk, &caller, id, &format).await?)
}

/// `GET /retention`: what each supplier should have deleted by now (in aggregate).
pub async fn retention_page(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, PageError> {
    let report = desk
        .run(&caller.actor(), |ledger| Ok(retention::report(ledger, false)?))
        .await?;
    Ok(render::page(
        &desk,
        &caller,
        "retention.html",
        context! { report => s(&report) },
    )?
    .into_response())
}
