//! Telling people from the desk, with the same use cases as `custody notice` and `custody
//! notify`: preview one person's notice (a responder: it shows a person's data, and the look is
//! audited), count or start a run and watch it, retry what failed, produce the letters for the
//! people who cannot be emailed and record them posted, and download the public statement (no
//! one's data: a viewer may).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, Form, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Deserialize;

use custody_app::notices::letters;
use custody_app::notices::notify::{self, Audience, NotifyOptions};
use custody_app::notices::notify_run::RunOptions;
use custody_core::IncidentId;

use crate::api_extract::{ApiJson, ApiPath};
use crate::auth::Caller;
use crate::error::{ApiError, DeskError, PageError};
use crate::pages_incident::incident_page_with;
use crate::render;
use crate::state::Desk;

/// Connections a run from the desk keeps to the mail server (the command line's default).
const CONCURRENCY: usize = 4;
/// Letters the desk makes in one request, at most (a larger batch is the command line's: it
/// would outlast the request's time limit).
const DESK_LETTERS_MAX: usize = 20_000;

/// Whose notice to preview (posted, so a person's reference stays out of addresses and logs).
#[derive(Deserialize)]
pub struct PreviewForm {
    person: Option<String>,
}

/// `GET /incidents/{id}/notice`: the notice of the first affected person with an email address,
/// as they will receive it. Audited.
pub async fn preview_first(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<IncidentId>,
) -> Result<Html<String>, PageError> {
    preview_page(&desk, &caller, id, None).await
}

/// `POST /incidents/{id}/notice`: one person's notice (by reference), as they will receive it.
/// Audited.
pub async fn preview(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<IncidentId>,
    Form(form): Form<PreviewForm>,
) -> Result<Html<String>, PageError> {
    preview_page(&desk, &caller, id, form.person).await
}

async fn preview_page(
    desk: &Arc<Desk>,
    caller: &Caller,
    id: IncidentId,
    person: Option<String>,
) -> Result<Html<String>, PageError> {
    let person = person.filter(|text| !text.trim().is_empty());
    let (reference, text) = desk
        .run(&caller.actor(), move |ledger| {
            Ok(notify::preview(ledger, id, person.as_deref())?)
        })
        .await?;
    render::page(
        desk,
        caller,
        "notice_preview.html",
        context! { incident => id.get(), reference => reference, subject => text.subject, text => text.text },
    )
}

/// What a run is asked to do.
#[derive(Deserialize)]
pub struct RunForm {
    audience: Option<String>,
    retry_failed: Option<String>,
    dry_run: Option<String>,
    /// Ticked: the responder checked the notice and the count (a run cannot be called back).
    confirm: Option<String>,
}

/// The audience a form or body names: everyone affected (the default) or everyone current.
fn audience(text: Option<&str>) -> Result<Audience, DeskError> {
    match text.map(str::trim).filter(|text| !text.is_empty()) {
        None | Some("affected") => Ok(Audience::Affected),
        Some("all-current") => Ok(Audience::AllCurrent),
        Some(other) => Err(DeskError::BadRequest(format!(
            "audience {other:?}: expected affected or all-current"
        ))),
    }
}

/// Starts a run of incident `id` on its own thread, after checking that a mail server is set.
async fn start_run(
    desk: &Arc<Desk>,
    caller: &Caller,
    id: IncidentId,
    audience: Audience,
    retry_failed: bool,
) -> Result<(), DeskError> {
    desk.run(&caller.actor(), move |ledger| {
        custody_app::breach::incidents::find_incident(ledger, id)?;
        if custody_app::notices::notify_run::smtp_config(ledger)?.is_none() {
            return Err(DeskError::App(custody_app::Error::Invalid(
                "no mail server is configured: set [smtp] in settings.toml or CUSTODY_SMTP_HOST (and the \
                 other CUSTODY_SMTP_* variables) for the desk"
                    .to_owned(),
            )));
        }
        Ok(())
    })
    .await?;
    let options = NotifyOptions {
        audience,
        dry_run: false,
        run: RunOptions::from_env(CONCURRENCY, None, retry_failed)?,
    };
    desk.notify_runs
        .start(desk.dir().to_owned(), caller.actor(), id, options, desk.now())
}

/// `POST /incidents/{id}/notify`: counts the notices (a dry run) or starts a run, and shows the
/// incident with its progress.
pub async fn run(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<IncidentId>,
    Form(form): Form<RunForm>,
) -> Result<Response, PageError> {
    let audience = audience(form.audience.as_deref())?;
    if form.dry_run.is_some() {
        let counted = desk
            .run(&caller.actor(), move |ledger| {
                let context = custody_app::notices::notice_model::NoticeContext::build(ledger, id)?;
                Ok(notify::queue(ledger, &context, &audience, true)?)
            })
            .await?;
        let news = format!(
            "Counted, nothing sent: {} people, {} messages ({} share an address), {} need a letter, {} canaries left out.",
            counted.people,
            counted.messages,
            counted.sharing_an_address,
            counted.letters.len(),
            counted.canaries_left_out
        );
        return Ok(incident_page_with(&desk, &caller, id, None, Some(news))
            .await?
            .into_response());
    }
    if form.confirm.is_none() {
        return Ok(incident_page_with(
            &desk,
            &caller,
            id,
            Some(
                "nothing was sent: tick the box to say the notice and the count were checked (a run cannot be called back)"
                    .to_owned(),
            ),
            None,
        )
        .await?
        .into_response());
    }
    match start_run(&desk, &caller, id, audience, form.retry_failed.is_some()).await {
        Ok(()) => Ok(Redirect::to(&format!("/incidents/{id}#notifications")).into_response()),
        Err(DeskError::App(error @ custody_app::Error::Invalid(_))) => {
            Ok(
                incident_page_with(&desk, &caller, id, Some(error.to_string()), None)
                    .await?
                    .into_response(),
            )
        }
        Err(error) => Err(PageError(error)),
    }
}

/// `POST /api/v1/incidents/{id}/notifications`: starts a run; `GET` on the same path watches it.
pub async fn api_run(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<IncidentId>,
    ApiJson(given): ApiJson<crate::api_bodies::RunBody>,
) -> Result<Response, ApiError> {
    let audience = audience(crate::api_bodies::word(given.audience).as_deref())?;
    start_run(&desk, &caller, id, audience, given.retry_failed.unwrap_or(false)).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "incident": id, "started": true, "watch": format!("/api/v1/incidents/{id}/notifications") })),
    )
        .into_response())
}

/// `POST /incidents/{id}/letters`: the letters for everyone who cannot be emailed, as a PDF to
/// download (recorded as printed; people without a postal address are named on the incident
/// page's next view by `custody notify status`).
pub async fn letters_pdf(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<IncidentId>,
) -> Result<Response, PageError> {
    let (bytes, report) = desk
        .run(&caller.actor(), move |ledger| {
            let folder = custody_app::files::private_folder(&ledger.dir, "letters")
                .map_err(|error| DeskError::Internal(format!("the letters' folder: {error}")))?;
            let path = folder.join(format!("incident-{id}-letters.pdf"));
            let made = letters::letters_at_most(ledger, id, None, &path, DESK_LETTERS_MAX);
            // The file holds people's addresses: it leaves the data directory only as the answer.
            let bytes = made.as_ref().ok().map(|_| std::fs::read(&path));
            let _ = std::fs::remove_dir_all(&folder);
            let report = made?;
            let bytes = bytes
                .transpose()
                .map_err(|error| DeskError::Internal(format!("the letters' file: {error}")))?
                .unwrap_or_default();
            Ok((bytes, report))
        })
        .await?;
    let short = custody_app::notices::letter_posting::short(&report.sha256).to_owned();
    let disposition = format!("attachment; filename=\"incident-{id}-letters-{short}.pdf\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_owned()),
            (
                header::HeaderName::from_static("x-custody-letters"),
                format!(
                    "{} letters; {} without a postal address; {} addresses cut; batch {}",
                    report.letters,
                    report.without_address.len(),
                    report.address_shortened.len(),
                    report.sha256
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// When a batch of letters went to the post.
#[derive(Deserialize)]
pub struct PostedForm {
    batch: String,
    posted_at: String,
}

/// `GET /incidents/{id}/letters`: the batches printed and waiting to be posted, the people who
/// need a letter and have no postal address, and the form to record a batch posted.
pub async fn letters_page(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<IncidentId>,
) -> Result<Html<String>, PageError> {
    letters_view(&desk, &caller, id, None, None).await
}

async fn letters_view(
    desk: &Arc<Desk>,
    caller: &Caller,
    id: IncidentId,
    problem: Option<String>,
    news: Option<String>,
) -> Result<Html<String>, PageError> {
    let (batches, without, counts) = desk
        .run(&caller.actor(), move |ledger| {
            Ok((
                custody_app::notices::letter_posting::batches(ledger, id)?,
                letters::without_address(ledger, id)?,
                custody_app::notices::letter_posting::counts(ledger, id)?,
            ))
        })
        .await?;
    let rows: Vec<serde_json::Value> = batches
        .iter()
        .map(|batch| {
            serde_json::json!({
                "batch": batch.batch,
                "short": custody_app::notices::letter_posting::short(&batch.batch),
                "printed_at": batch.printed_at,
                "letters": batch.letters,
                "waiting": batch.waiting,
            })
        })
        .collect();
    render::page(
        desk,
        caller,
        "letters.html",
        context! {
            incident => id.get(), batches => render::s(&rows), without => without, counts => render::s(&counts),
            problem => problem, news => news,
        },
    )
}

/// `POST /incidents/{id}/letters/posted`: a printed batch went to the post at the time given;
/// its people count as told.
pub async fn letters_posted(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<IncidentId>,
    Form(form): Form<PostedForm>,
) -> Result<Html<String>, PageError> {
    let result = desk
        .run(&caller.actor(), move |ledger| {
            let at = custody_core::parse_instant(form.posted_at.trim(), &ledger.zone)
                .map_err(|error| DeskError::BadRequest(format!("posted_at: {error}")))?;
            Ok(custody_app::notices::letter_posting::posted(
                ledger,
                id,
                at,
                Some(form.batch.as_str()),
            )?)
        })
        .await;
    let (problem, news) = match result {
        Ok(report) => (
            None,
            Some(match report.people_notified_not_recorded {
                None => format!(
                    "Recorded {} letters of batch {} as posted; \"people notified\" is recorded.",
                    report.letters,
                    custody_app::notices::letter_posting::short(&report.batch)
                ),
                Some(why) => format!(
                    "Recorded {} letters of batch {} as posted. \"People notified\" was not recorded now: {why}.",
                    report.letters,
                    custody_app::notices::letter_posting::short(&report.batch)
                ),
            }),
        ),
        Err(DeskError::App(error @ custody_app::Error::Invalid(_))) => (Some(error.to_string()), None),
        Err(error) => return Err(PageError(error)),
    };
    letters_view(&desk, &caller, id, problem, news).await
}

/// `GET /incidents/{id}/statement/{format}`: the public statement for the website (`md` or
/// `html`), as a file.
pub async fn statement(
    State(desk): State<Arc<Desk>>,
    Extension(caller): Extension<Caller>,
    Path((id, format)): Path<(IncidentId, String)>,
) -> Result<Response, PageError> {
    let (html, content_type) = match format.as_str() {
        "md" => (false, "text/markdown; charset=utf-8"),
        "html" => (true, "text/html; charset=utf-8"),
        other => {
            return Err(PageError(DeskError::BadRequest(format!(
                "format {other:?}: expected md or html"
            ))));
        }
    };
    let text = desk
        .run(&caller.actor(), move |ledger| {
            Ok(notify::public_statement(ledger, id, html)?)
        })
        .await?;
    let disposition = format!("attachment; filename=\"incident-{id}-statement.{format}\"");
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        text,
    )
        .into_response())
}
