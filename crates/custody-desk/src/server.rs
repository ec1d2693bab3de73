//! Serving connections with limits a slow or hostile client cannot get around: at most
//! `connections_max` connections at once (more wait in the listen queue), request headers
//! within `header_read_seconds` (a slow-loris client is cut off), a request answered within
//! `request_seconds` (a body trickled in is cut off with 408), and a `Host` header the desk
//! answers to (a DNS-rebinding page cannot reach it under another name). All from `[desk]`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tower::ServiceExt;

use custody_core::DeskSettings;

use crate::error::DeskError;

/// The `Host` values the desk answers to: the address it serves (a proxy's default `Host`) and,
/// on loopback, `localhost` at the same port, with the settings' names. Answering to its own
/// address is no help to a DNS-rebinding page, whose requests carry the page's own name.
pub fn allowed_hosts(settings: &DeskSettings, bound: SocketAddr) -> Vec<String> {
    let port = bound.port();
    let mut hosts: Vec<String> = settings
        .allowed_hosts
        .iter()
        .map(|host| host.to_ascii_lowercase())
        .collect();
    hosts.push(bound.to_string());
    if bound.ip().is_loopback() {
        hosts.push(format!("localhost:{port}"));
    }
    if bound.ip().is_unspecified() {
        hosts.push(format!("127.0.0.1:{port}"));
        hosts.push(format!("localhost:{port}"));
    }
    hosts
}

/// Whether a `Host` header names the desk: the same name and port as an allowed host, or the
/// name alone when the allowed host gives no port.
pub fn host_allowed(hosts: &[String], given: &str) -> bool {
    let given = given.trim().to_ascii_lowercase();
    hosts.iter().any(|host| {
        *host == given
            || (!host.contains(':') && given.strip_suffix(":443").or(given.strip_suffix(":80")) == Some(host))
    })
}

/// Serves `router` on `listener` until the process ends.
pub async fn run(
    listener: tokio::net::TcpListener,
    router: Router,
    settings: DeskSettings,
) -> Result<(), DeskError> {
    let connections = Arc::new(tokio::sync::Semaphore::new(settings.connections_max as usize));
    let header_read = Duration::from_secs(u64::from(settings.header_read_seconds));
    let request_time = Duration::from_secs(u64::from(settings.request_seconds));
    loop {
        // A permit before accepting: past the cap, connections wait in the listen queue.
        let permit = Arc::clone(&connections)
            .acquire_owned()
            .await
            .map_err(|_| DeskError::Internal("the server is shutting down".to_owned()))?;
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors and the like: wait a moment rather than spin.
                tracing::warn!(%error, "a connection could not be accepted");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let service = hyper::service::service_fn(move |mut request: Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                let api = request.uri().path().starts_with("/api/");
                let answer = router.clone().oneshot(request.map(axum::body::Body::new));
                async move {
                    match tokio::time::timeout(request_time, answer).await {
                        Ok(Ok(response)) => Ok::<Response, Infallible>(response),
                        Ok(Err(never)) => match never {},
                        Err(_) => Ok(timed_out(api)),
                    }
                }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_read)
                .serve_connection(TokioIo::new(stream), service);
            // A client that goes away or is cut off ends only its own connection.
            let _ = connection.await;
        });
    }
}

/// Resolves when the process is asked to stop (Ctrl-C, or SIGTERM on Unix).
pub async fn stop_signal() {
    #[cfg(unix)]
    {
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = terminate => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn timed_out(api: bool) -> Response {
    let message = "the request took too long and was stopped";
    let mut response = if api {
        let body = serde_json::json!({ "error": { "code": "timeout", "message": message, "field": null } });
        (StatusCode::REQUEST_TIMEOUT, axum::Json(body)).into_response()
    } else {
        (StatusCode::REQUEST_TIMEOUT, format!("{message}\n")).into_response()
    };
    response
        .headers_mut()
        .insert(header::CONNECTION, header::HeaderValue::from_static("close"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_served_names_are_answered() {
        let bound: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let hosts = allowed_hosts(&DeskSettings::default(), bound);
        assert!(host_allowed(&hosts, "127.0.0.1:8080"));
        assert!(host_allowed(&hosts, "LOCALHOST:8080"));
        assert!(!host_allowed(&hosts, "attacker.example:8080"));
        assert!(!host_allowed(&hosts, "127.0.0.1:9090"));
        let settings = DeskSettings {
            allowed_hosts: vec!["desk.example.org".into()],
            ..DeskSettings::default()
        };
        let hosts = allowed_hosts(&settings, bound);
        assert!(host_allowed(&hosts, "desk.example.org"));
        assert!(host_allowed(&hosts, "desk.example.org:443"));
        assert!(host_allowed(&hosts, "127.0.0.1:8080"), "a proxy's default Host");
        assert!(!host_allowed(&hosts, "evil.example"));
    }
}
