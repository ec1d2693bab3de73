//! Every route, declared once with the least role it needs. The same declaration builds the
//! router and the access table (`custody serve --routes`), so a route cannot be served without
//! being listed, and the tests check the table against their own.

use std::sync::Arc;

use axum::Router;
use axum::middleware;
use axum::routing::{MethodRouter, get, post};
use serde::Serialize;

use custody_core::DeskRole::{self, Admin, Responder, Supplier, Viewer};

use crate::auth::{Guard, guard};
use crate::rate::Limit;
use crate::state::Desk;
use crate::{
    api, api_pages, api_rights, openapi, pages, pages_admin, pages_evidence, pages_incident, pages_learn,
    pages_notify, pages_respond, pages_rights, pages_supplier, sign_in,
};

/// Who a route answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Surface {
    /// Anyone (sign-in, static files, the API's description).
    Public,
    /// A signed-in browser; forms carry the session's CSRF token.
    Page,
    /// A bearer token.
    Api,
}

/// One route and who may use it.
#[derive(Debug, Clone, Serialize)]
pub struct RouteSpec {
    /// HTTP method.
    pub method: &'static str,
    /// Path template.
    pub path: &'static str,
    /// Page, API or public.
    pub surface: Surface,
    /// The least role it needs (`None` for public routes).
    pub role: Option<&'static str>,
    /// The per-account rate limit it counts against, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<Limit>,
}

/// The rate limit a route counts against: looking people up, and making audited reports.
fn limit_of(path: &str) -> Option<Limit> {
    if path == "/people" || path.starts_with("/api/v1/people/") || path.ends_with("/notice") {
        Some(Limit::Lookup)
    } else if path.contains("/report")
        || path.contains("/answer")
        || path.ends_with("/register")
        || path.ends_with("/letters")
    {
        Some(Limit::Download)
    } else {
        None
    }
}

struct Builder {
    desk: Option<Arc<Desk>>,
    router: Router<Arc<Desk>>,
    specs: Vec<RouteSpec>,
}

impl Builder {
    fn add(
        mut self,
        method: &'static str,
        path: &'static str,
        surface: Surface,
        need: Option<DeskRole>,
        handler: MethodRouter<Arc<Desk>>,
    ) -> Self {
        // The lookup form itself (GET /people) reads nobody.
        let limit =
            limit_of(path).filter(|_| !(surface == Surface::Page && method == "GET" && path == "/people"));
        self.specs.push(RouteSpec {
            method,
            path,
            surface,
            role: need.map(DeskRole::as_str),
            limit,
        });
        if let Some(desk) = &self.desk {
            let state = Guard {
                desk: Arc::clone(desk),
                need: need.unwrap_or(Viewer),
                surface,
                path,
                // Posts change things; a report and a look at a person are audited as they are made.
                // Signing in is not held behind other writes: it only reads before its answer, and
                // a queue behind an audit write would tell known names from unknown ones.
                writes: surface != Surface::Public && (method != "GET" || limit.is_some()),
                limit,
            };
            let guarded = handler.layer(middleware::from_fn_with_state(state, guard));
            self.router = std::mem::take(&mut self.router).route(path, guarded);
        }
        self
    }

    fn public(self, method: &'static str, path: &'static str, handler: MethodRouter<Arc<Desk>>) -> Self {
        self.add(method, path, Surface::Public, None, handler)
    }

    fn page(
        self,
        method: &'static str,
        path: &'static str,
        need: DeskRole,
        handler: MethodRouter<Arc<Desk>>,
    ) -> Self {
        self.add(method, path, Surface::Page, Some(need), handler)
    }

    fn api(
        self,
        method: &'static str,
        path: &'static str,
        need: DeskRole,
        handler: MethodRouter<Arc<Desk>>,
    ) -> Self {
        self.add(method, path, Surface::Api, Some(need), handler)
    }
}

/// Every route is added here and nowhere else (not in `build`), so the access table lists them
/// all.
fn declare(builder: Builder) -> Builder {
    builder
        .public("GET", "/sign-in", get(sign_in::form))
        .public("POST", "/sign-in", post(sign_in::submit))
        .public("GET", "/sign-in/code", get(sign_in::code_form))
        .public("POST", "/sign-in/code", post(sign_in::code_submit))
        .public("GET", "/static/desk.css", get(pages::stylesheet))
        .public("GET", "/static/desk.js", get(pages::script))
        .public("GET", "/api/v1/openapi.json", get(openapi::document))
        .page("POST", "/sign-out", Supplier, post(sign_in::sign_out))
        .page("GET", "/", Supplier, get(pages::home))
        .page("GET", "/supplier", Supplier, get(pages_supplier::page))
        .api("GET", "/api/v1/supplier", Supplier, get(pages_supplier::api))
        .api(
            "GET",
            "/api/v1/supplier/incidents/{id}",
            Supplier,
            get(pages_supplier::api_incident),
        )
        .page(
            "GET",
            "/supplier/incidents/{id}",
            Supplier,
            get(pages_supplier::incident),
        )
        .page(
            "POST",
            "/supplier/incidents/{id}/answer",
            Supplier,
            post(pages_supplier::answer),
        )
        .api(
            "POST",
            "/api/v1/supplier/incidents/{id}/answer",
            Supplier,
            post(pages_supplier::api_answer),
        )
        .page(
            "POST",
            "/supplier/requests/{id}/confirm",
            Supplier,
            post(pages_supplier::confirm),
        )
        .api(
            "POST",
            "/api/v1/supplier/requests/{id}/confirm",
            Supplier,
            post(pages_supplier::api_confirm),
        )
        .page(
            "POST",
            "/supplier/shares/{id}/confirm-deletion",
            Supplier,
            post(pages_supplier::confirm_deletion),
        )
        .api(
            "POST",
            "/api/v1/supplier/shares/{id}/confirm-deletion",
            Supplier,
            post(pages_supplier::api_confirm_deletion),
        )
        .page("GET", "/incidents", Viewer, get(pages_incident::list))
        .page(
            "POST",
            "/incidents",
            Responder,
            post(pages_respond::open_incident),
        )
        .page("GET", "/incidents/{id}", Viewer, get(pages_incident::show))
        .page(
            "POST",
            "/incidents/{id}/statements",
            Responder,
            post(pages_respond::add_statement),
        )
        .page(
            "POST",
            "/incidents/{id}/assess",
            Responder,
            post(pages_respond::assess),
        )
        .page(
            "GET",
            "/incidents/{id}/progress",
            Viewer,
            get(pages_incident::progress),
        )
        .page(
            "GET",
            "/incidents/{id}/notice",
            Responder,
            get(pages_notify::preview_first),
        )
        .page(
            "POST",
            "/incidents/{id}/notice",
            Responder,
            post(pages_notify::preview),
        )
        .page(
            "GET",
            "/incidents/{id}/letters",
            Responder,
            get(pages_notify::letters_page),
        )
        .page(
            "POST",
            "/incidents/{id}/notify",
            Responder,
            post(pages_notify::run),
        )
        .page(
            "POST",
            "/incidents/{id}/letters",
            Responder,
            post(pages_notify::letters_pdf),
        )
        .page(
            "POST",
            "/incidents/{id}/letters/posted",
            Responder,
            post(pages_notify::letters_posted),
        )
        .page(
            "GET",
            "/incidents/{id}/statement/{format}",
            Viewer,
            get(pages_notify::statement),
        )
        .api(
            "POST",
            "/api/v1/incidents/{id}/notifications",
            Responder,
            post(pages_notify::api_run),
        )
        .page(
            "GET",
            "/incidents/{id}/report",
            Viewer,
            get(pages_incident::report_page),
        )
        .page(
            "GET",
            "/incidents/{id}/report/{format}",
            Viewer,
            get(pages_incident::report_download),
        )
        .page(
            "POST",
            "/incidents/{id}/timeline",
            Responder,
            post(pages_incident::add_entry),
        )
        .page(
            "POST",
            "/incidents/{id}/acts",
            Responder,
            post(pages_incident::record_act),
        )
        .page(
            "POST",
            "/incidents/{id}/obligations",
            Responder,
            post(pages_incident::record_obligation_met),
        )
        .page(
            "POST",
            "/incidents/{id}/impact",
            Responder,
            post(pages_incident::recompute),
        )
        .page(
            "POST",
            "/incidents/{id}/amend",
            Responder,
            post(pages_learn::amend),
        )
        .page(
            "POST",
            "/incidents/{id}/decisions",
            Responder,
            post(pages_learn::decide),
        )
        .page(
            "POST",
            "/incidents/{id}/evidence/confirm",
            Responder,
            post(pages_evidence::confirm),
        )
        .page("GET", "/register", Viewer, get(pages_learn::register))
        // The rights desk: viewers read the queue and requests (references only, each look
        // audited); responders log, act and produce answers.
        .page("GET", "/requests", Viewer, get(pages_rights::list_page))
        .page("POST", "/requests", Responder, post(pages_rights::log))
        .page("POST", "/requests/import", Responder, post(pages_rights::import))
        .page("GET", "/requests/{id}", Viewer, get(pages_rights::show))
        .page("POST", "/requests/{id}/act", Responder, post(pages_rights::act))
        .page(
            "POST",
            "/requests/{id}/requester",
            Responder,
            post(pages_rights::reveal),
        )
        // Producing an answer is recorded on the request: a POST with the form's CSRF token.
        .page(
            "POST",
            "/requests/{id}/answer",
            Responder,
            post(pages_rights::answer_download),
        )
        .page("GET", "/retention", Viewer, get(pages_rights::retention_page))
        .page("GET", "/suppliers", Viewer, get(pages::suppliers))
        .page("POST", "/suppliers", Admin, post(pages_admin::add_supplier))
        .page("GET", "/suppliers/{name}", Viewer, get(pages::supplier))
        .page("GET", "/suppliers/{name}/holdings", Viewer, get(pages::holdings))
        .page("GET", "/shares/{id}", Viewer, get(pages::share))
        .page("GET", "/people", Responder, get(pages::people_form))
        // Looking people up is for those who answer them (responders); a viewer sees incidents
        // and suppliers in aggregate, never a person: for a party, a person's category alone
        // reveals a political opinion (Art. 9).
        .page("POST", "/people", Responder, post(pages::people_lookup))
        .page("GET", "/audit", Viewer, get(pages::audit))
        .page("GET", "/account", Supplier, get(pages::account))
        .page(
            "POST",
            "/account/password",
            Supplier,
            post(pages::change_password),
        )
        .page("POST", "/account/totp", Supplier, post(pages::totp_start))
        .page(
            "POST",
            "/account/totp/confirm",
            Supplier,
            post(pages::totp_confirm),
        )
        .page("GET", "/admin/users", Admin, get(pages_admin::users))
        .page("POST", "/admin/users", Admin, post(pages_admin::add_user))
        .page(
            "POST",
            "/admin/users/{name}/disable",
            Admin,
            post(pages_admin::disable_user),
        )
        .page(
            "POST",
            "/admin/users/{name}/reset-totp",
            Admin,
            post(pages_admin::reset_totp),
        )
        .page("GET", "/admin/tokens", Admin, get(pages_admin::tokens))
        .page("POST", "/admin/tokens", Admin, post(pages_admin::add_token))
        .page(
            "POST",
            "/admin/tokens/{name}/revoke",
            Admin,
            post(pages_admin::revoke_token),
        )
        .page("GET", "/admin/settings", Admin, get(pages_admin::settings))
        .page(
            "POST",
            "/admin/settings",
            Admin,
            post(pages_admin::change_settings),
        )
        .api("GET", "/api/v1/incidents", Viewer, get(api_pages::incidents))
        .api("POST", "/api/v1/incidents", Responder, post(api::open_incident))
        .api("GET", "/api/v1/incidents/{id}", Viewer, get(api::incident))
        .api(
            "GET",
            "/api/v1/incidents/{id}/timeline",
            Viewer,
            get(api_pages::timeline),
        )
        .api(
            "POST",
            "/api/v1/incidents/{id}/statements",
            Responder,
            post(api::add_statement),
        )
        .api(
            "POST",
            "/api/v1/incidents/{id}/assess",
            Responder,
            post(api::assess),
        )
        .api(
            "POST",
            "/api/v1/incidents/{id}/timeline",
            Responder,
            post(api::add_entry),
        )
        .api(
            "POST",
            "/api/v1/incidents/{id}/acts",
            Responder,
            post(api::record_act),
        )
        .api(
            "POST",
            "/api/v1/incidents/{id}/obligations",
            Responder,
            post(api::record_obligation_met),
        )
        .api("GET", "/api/v1/incidents/{id}/report", Viewer, get(api::report))
        .api(
            "POST",
            "/api/v1/incidents/{id}/amend",
            Responder,
            post(pages_learn::api_amend),
        )
        .api(
            "POST",
            "/api/v1/incidents/{id}/decisions",
            Responder,
            post(pages_learn::api_decide),
        )
        .api(
            "POST",
            "/api/v1/incidents/{id}/evidence/confirm",
            Responder,
            post(pages_evidence::api_confirm),
        )
        .api("GET", "/api/v1/register", Viewer, get(pages_learn::api_register))
        .api(
            "GET",
            "/api/v1/incidents/{id}/notifications",
            Viewer,
            get(api::notifications),
        )
        .api("GET", "/api/v1/suppliers", Viewer, get(api::suppliers))
        .api("POST", "/api/v1/suppliers", Admin, post(api::add_supplier))
        .api("GET", "/api/v1/suppliers/{name}", Viewer, get(api::supplier))
        .api(
            "GET",
            "/api/v1/suppliers/{name}/holdings",
            Viewer,
            get(api::holdings),
        )
        .api("GET", "/api/v1/shares/{id}", Viewer, get(api::share))
        .api("GET", "/api/v1/people/{ref}", Responder, get(api::person))
        .api(
            "POST",
            "/api/v1/people/lookup",
            Responder,
            post(api::person_by_email),
        )
        .api("GET", "/api/v1/audit", Viewer, get(api_pages::audit))
        .api("GET", "/api/v1/requests", Viewer, get(api_pages::requests))
        .api("POST", "/api/v1/requests", Responder, post(api_rights::log))
        .api(
            "POST",
            "/api/v1/requests/import",
            Responder,
            post(api_rights::import),
        )
        .api("GET", "/api/v1/requests/{id}", Viewer, get(api_rights::show))
        .api(
            "POST",
            "/api/v1/requests/{id}/act",
            Responder,
            post(api_rights::act),
        )
        .api(
            "GET",
            "/api/v1/requests/{id}/answer",
            Responder,
            get(api_rights::answer),
        )
        .api("GET", "/api/v1/retention", Viewer, get(api_rights::retention))
}

/// The access table: every route with its surface and least role.
pub fn route_table() -> Vec<RouteSpec> {
    declare(Builder {
        desk: None,
        router: Router::new(),
        specs: Vec::new(),
    })
    .specs
}

/// The router of a desk answering to `hosts` (`Host` values), with its access table.
pub fn build(desk: Arc<Desk>, hosts: Vec<String>) -> (Router, Vec<RouteSpec>) {
    let built = declare(Builder {
        desk: Some(Arc::clone(&desk)),
        router: Router::new(),
        specs: Vec::new(),
    });
    let router = built
        .router
        .fallback(crate::auth::no_route)
        .layer(axum::extract::DefaultBodyLimit::max(crate::auth::BODY_BYTES_MAX))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&desk),
            crate::auth::security_headers,
        ))
        .layer(middleware::from_fn_with_state(
            Arc::new(hosts),
            crate::auth::known_host,
        ))
        // Outside the host check, so that its refusals under /api/ are JSON too.
        .layer(middleware::from_fn(crate::api_extract::json_errors))
        .layer(middleware::from_fn(crate::log::with_request_id))
        .with_state(desk);
    (router, built.specs)
}
