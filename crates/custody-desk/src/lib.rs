//! custody's web desk: the breach response in a browser, and the JSON API under `/api/v1`.
//!
//! Pages are rendered on the server from the same use cases as the CLI (`custody-app`); a small
//! vendored script only counts clocks down and polls notification progress. Every route is
//! declared once in [`routes`] with the least role it needs; the guard in [`auth`] checks the
//! caller (a session cookie for pages, a bearer token for the API) before any handler runs, and
//! every page form carries the session's CSRF token.

mod api;
mod api_bodies;
mod api_extract;
mod api_pages;
mod api_rights;
mod api_schema;
mod auth;
mod cache;
mod error;
pub mod log;
mod notify_runs;
mod openapi;
mod pages;
mod pages_admin;
mod pages_evidence;
mod pages_incident;
mod pages_learn;
mod pages_notify;
mod pages_respond;
mod pages_rights;
mod pages_supplier;
mod rate;
mod render;
mod routes;
mod server;
mod sign_in;
mod state;
mod throttle;
mod totp;

use std::net::SocketAddr;
use std::sync::Arc;

pub use error::DeskError;
pub use routes::{RouteSpec, Surface, route_table};
pub use state::{Desk, DeskOptions};

/// Serves the desk on `addr` until the process ends; `ready` gets the bound address (so that
/// port 0 picks a free port and the caller can say which).
pub fn serve(
    options: DeskOptions,
    addr: SocketAddr,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), DeskError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_io()
        .enable_time()
        .thread_name("custody-desk")
        .build()
        .map_err(|error| DeskError::Internal(format!("the server could not start: {error}")))?;
    // Opened, and dropped last, outside the runtime: a PostgreSQL store's connections block on
    // a runtime of their own when they open and close, which a thread driving this runtime's
    // tasks may not do (the requests' ledgers are opened on blocking workers).
    let desk = Arc::new(Desk::open(options)?);
    log::start(desk.desk_settings().log_format);
    let served = runtime.block_on(serve_desk(Arc::clone(&desk), addr, ready));
    drop(runtime);
    drop(desk);
    served
}

async fn serve_desk(
    desk: Arc<Desk>,
    addr: SocketAddr,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), DeskError> {
    {
        let refusals = tokio::spawn(sign_in::write_refusals(Arc::clone(&desk)));
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|error| DeskError::Internal(format!("cannot listen on {addr}: {error}")))?;
        let bound = listener
            .local_addr()
            .map_err(|error| DeskError::Internal(error.to_string()))?;
        let settings = desk.desk_settings();
        let hosts = server::allowed_hosts(&settings, bound);
        if !bound.ip().is_loopback() && settings.allowed_hosts.is_empty() {
            tracing::warn!(
                %bound,
                "browsers reaching {bound} by a name or another address are refused until [desk] \
                 allowed_hosts names it in settings.toml"
            );
        }
        let (router, _) = routes::build(Arc::clone(&desk), hosts);
        ready(bound);
        // Stopped by Ctrl-C or SIGTERM: what is pending for the audit log is written first.
        tokio::select! {
            served = server::run(listener, router, settings) => served,
            () = server::stop_signal() => {
                desk.stopping.notify_one();
                let _ = tokio::time::timeout(std::time::Duration::from_secs(30), refusals).await;
                Ok(())
            }
        }
    }
}
