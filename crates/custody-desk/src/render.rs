//! Templates (compiled into the binary, HTML auto-escaped) and the view helpers pages share:
//! clocks with their colours, bar charts, the caller's part of every page.

use std::collections::BTreeMap;

use axum::response::Html;
use minijinja::{Environment, Value, context};
use serde::Serialize;

use custody_app::breach::incidents::ClockView;
use custody_core::{ClockState, Instant};

use crate::auth::Caller;
use crate::error::{DeskError, PageError};
use crate::state::Desk;

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("bare.html", include_str!("../templates/bare.html")),
    ("macros.html", include_str!("../templates/macros.html")),
    ("sign_in.html", include_str!("../templates/sign_in.html")),
    ("code.html", include_str!("../templates/code.html")),
    ("incidents.html", include_str!("../templates/incidents.html")),
    ("incident.html", include_str!("../templates/incident.html")),
    ("report.html", include_str!("../templates/report.html")),
    (
        "notice_preview.html",
        include_str!("../templates/notice_preview.html"),
    ),
    ("letters.html", include_str!("../templates/letters.html")),
    ("suppliers.html", include_str!("../templates/suppliers.html")),
    ("supplier.html", include_str!("../templates/supplier.html")),
    (
        "supplier_side.html",
        include_str!("../templates/supplier_side.html"),
    ),
    (
        "supplier_incident.html",
        include_str!("../templates/supplier_incident.html"),
    ),
    ("holdings.html", include_str!("../templates/holdings.html")),
    ("share.html", include_str!("../templates/share.html")),
    ("people.html", include_str!("../templates/people.html")),
    ("audit.html", include_str!("../templates/audit.html")),
    ("register.html", include_str!("../templates/register.html")),
    ("requests.html", include_str!("../templates/requests.html")),
    ("request.html", include_str!("../templates/request.html")),
    ("retention.html", include_str!("../templates/retention.html")),
    ("account.html", include_str!("../templates/account.html")),
    ("users.html", include_str!("../templates/users.html")),
    ("tokens.html", include_str!("../templates/tokens.html")),
    ("settings.html", include_str!("../templates/settings.html")),
];

/// The templates, parsed once; `|local` shows an RFC 3339 instant in the organisation's zone.
pub fn templates(zone: custody_core::TimeZoneName) -> Result<Environment<'static>, DeskError> {
    let mut environment = Environment::new();
    environment.add_filter("local", move |text: String| {
        custody_core::parse_instant(&text, &zone).map_or(text, |at| at.local(&zone))
    });
    // A misspelt field is an error, not an empty space (tests render every page).
    environment.set_undefined_behavior(minijinja::UndefinedBehavior::SemiStrict);
    environment.add_filter("segment", |text: String| path_segment(&text));
    environment.add_filter("plain", |text: String| plain(&text));
    for (name, source) in TEMPLATES {
        environment
            .add_template(name, source)
            .map_err(|error| DeskError::Internal(format!("template {name}: {error}")))?;
    }
    Ok(environment)
}

/// Renders a template with `values` and what every page shows of the caller.
pub fn page(desk: &Desk, caller: &Caller, name: &str, values: Value) -> Result<Html<String>, PageError> {
    let me = context! {
        name => caller.name.clone(),
        role => caller.role.as_str(),
        csrf => caller.csrf.clone(),
        staff => caller.role.allows(custody_core::DeskRole::Viewer),
        responder => caller.role.allows(custody_core::DeskRole::Responder),
        admin => caller.role.allows(custody_core::DeskRole::Admin),
    };
    let values = context! { me => me, organisation => desk.organisation(), ..values };
    bare(desk, name, values)
}

/// Renders a template with `values` only (the sign-in pages).
pub fn bare(desk: &Desk, name: &str, values: Value) -> Result<Html<String>, PageError> {
    let template = desk
        .templates
        .get_template(name)
        .map_err(|error| DeskError::Internal(format!("template {name}: {error}")))?;
    let text = template
        .render(values)
        .map_err(|error| DeskError::Internal(format!("template {name}: {error}")))?;
    Ok(Html(text))
}

/// A page for an error, standing alone (it may be shown to someone not signed in).
pub fn error_page(status: axum::http::StatusCode, message: &str) -> String {
    let title = status.canonical_reason().unwrap_or("Error");
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} · custody</title>\
         <link rel=\"stylesheet\" href=\"/static/desk.css\"></head><body class=\"bare\"><main class=\"narrow\">\
         <h1>{title}</h1><p class=\"problem\" role=\"alert\">{}</p><p><a href=\"/\">Back to the desk</a></p>\
         </main></body></html>",
        escape(message)
    )
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A clock as pages show it.
#[derive(Debug, Clone, Serialize)]
pub struct ClockRow {
    /// What it is.
    pub label: &'static str,
    /// Time left, or what happened, in words.
    pub in_words: String,
    /// `running`, `soon`, `overdue`, `met`, `late` or `na`: the colour.
    pub class: &'static str,
    /// Counting down in the browser (running or overdue, not done).
    pub live: bool,
    /// Due, as Unix seconds, for the countdown.
    pub due_unix: Option<i64>,
    /// Due, local.
    pub due_local: Option<String>,
    /// Done, local.
    pub done_local: Option<String>,
}

/// Hours left under which a running clock is shown as close.
pub const SOON_SECONDS: i64 = 6 * 3600;

/// Clocks as pages show them.
pub fn clock_rows(clocks: &[ClockView], zone: &custody_core::TimeZoneName) -> Vec<ClockRow> {
    clocks
        .iter()
        .map(|clock| {
            let not_done = clock.done_at.is_none();
            let class = match (clock.state, clock.seconds_to_due) {
                (ClockState::Running, Some(left)) if left < SOON_SECONDS => "soon",
                (ClockState::Running, _) => "running",
                (ClockState::Missed, _) if not_done => "overdue",
                (ClockState::Missed, _) => "late",
                (ClockState::Met, _) => "met",
                (ClockState::NotApplicable, _) => "na",
                (ClockState::NotRequired, _) => "met",
            };
            ClockRow {
                label: match clock.name {
                    "regulator" => "Regulator (72 h)",
                    "supplier_notice" => "Supplier's notice to us",
                    "people" => "Telling the people",
                    _ => "Clock",
                },
                in_words: clock.in_words.clone(),
                class,
                live: not_done && matches!(clock.state, ClockState::Running | ClockState::Missed),
                due_unix: clock.due.map(Instant::unix_seconds),
                due_local: clock.due_local.clone(),
                done_local: clock.done_at.map(|done| done.local(zone)),
            }
        })
        .collect()
}

/// One bar of a chart.
#[derive(Debug, Clone, Serialize)]
pub struct Bar {
    /// What it counts.
    pub label: String,
    /// The figure, with thousands separators.
    pub text: String,
    /// Its length, 0 to 100, against the longest.
    pub width: f64,
    /// A colour class.
    pub class: Option<&'static str>,
}

/// Bars for figures, longest first; zero figures are left out.
pub fn bars<I: IntoIterator<Item = (String, u64)>>(figures: I) -> Vec<Bar> {
    let mut figures: Vec<(String, u64)> = figures.into_iter().filter(|(_, value)| *value > 0).collect();
    figures.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let longest = figures.first().map_or(1, |(_, value)| (*value).max(1));
    figures
        .into_iter()
        .map(|(label, value)| Bar {
            text: custody_app::breach::report::thousands(value),
            width: (value as f64 * 100.0 / longest as f64 * 10.0).round() / 10.0,
            label,
            class: None,
        })
        .collect()
}

/// Bars for a map of figures.
pub fn bars_of(map: &BTreeMap<String, u64>) -> Vec<Bar> {
    bars(map.iter().map(|(key, value)| (plain(key), *value)))
}

/// A data-category key by its plain name ("email address"); other labels as they are.
pub fn plain(key: &str) -> String {
    custody_core::CategoryKey::parse(key).map_or_else(
        |_| key.to_owned(),
        |key| key.plain_label().trim_start_matches("your ").to_owned(),
    )
}

/// Percent-encodes one segment of a path (a supplier's name may hold `/`).
pub fn path_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A value for a template.
pub fn s<T: Serialize>(value: &T) -> Value {
    Value::from(minijinja::value::Serde(value))
}

/// A form field that may be left empty: `None` when blank.
pub fn given(text: &Option<String>) -> Option<String> {
    text.as_ref()
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty())
}
