//! The SMTP sender: `concurrency` connections, each reused for message after message, on a
//! small async runtime in a thread of its own. The outbox worker submits jobs and reads back one
//! outcome per job: accepted (with the server's reply), temporary (4xx, a dropped connection, a
//! timeout: retry later) or permanent (5xx: do not retry).
//!
//! lettre 0.11.23 leaves Nagle's algorithm on for its connections, which holds the end-of-data
//! line back until the server's delayed ACK (about 40 ms a message on loopback); so custody
//! opens the TCP stream itself with `TCP_NODELAY` and hands it to lettre.

use std::sync::Arc;
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
// `AsyncNetworkStream` is deprecated only as a public name; `use_existing_tokio1` is how lettre
// takes a stream it did not open, which is what TCP_NODELAY needs for implicit TLS.
#[allow(deprecated)]
use lettre::transport::smtp::client::AsyncNetworkStream;
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use tokio::net::TcpStream;
use tokio::sync::{Mutex, mpsc};
use tokio_util::compat::{Compat, FuturesAsyncReadCompatExt};

use crate::config::{SmtpConfig, TlsMode};
use crate::error::{Error, Result};

/// One message to send.
#[derive(Debug, Clone)]
pub struct Job {
    /// The outbox id it answers to.
    pub id: i64,
    /// Sender and recipients.
    pub envelope: Envelope,
    /// The formatted message.
    pub bytes: Vec<u8>,
}

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The server took responsibility for it (2xx), with its reply.
    Accepted(String),
    /// Try again later: a 4xx reply, or the connection failed; with the reason.
    Temporary(String),
    /// Will never be accepted as it is: a 5xx reply, or a message that cannot be sent.
    Permanent(String),
    /// The message was not tried: the server could not be reached, greeted or logged in to.
    Unavailable(String),
}

/// The outcome of one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The job's outbox id.
    pub id: i64,
    /// What happened.
    pub delivery: Delivery,
}

/// A running sender.
pub struct Sender {
    jobs: Option<mpsc::Sender<Job>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    results: std::sync::mpsc::Receiver<Outcome>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sender {
    /// Checks that the mail server can be reached, greeted and (when configured) logged in to.
    pub fn check(config: &SmtpConfig) -> Result<()> {
        check(config)
    }

    /// Starts `concurrency` connections' worth of workers (connections open on first use).
    pub fn start(config: SmtpConfig, concurrency: usize) -> Result<Self> {
        let concurrency = concurrency.clamp(1, 64);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| Error::Config(format!("cannot start the sender: {error}")))?;
        let (jobs, receiver) = mpsc::channel::<Job>(concurrency);
        let (results, outcomes) = std::sync::mpsc::channel();
        let receiver = Arc::new(Mutex::new(receiver));
        let config = Arc::new(config);
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stop_flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("custody-smtp".to_owned())
            .spawn(move || {
                runtime.block_on(async move {
                    let mut workers = Vec::with_capacity(concurrency);
                    for _ in 0..concurrency {
                        workers.push(tokio::spawn(worker(
                            config.clone(),
                            receiver.clone(),
                            results.clone(),
                            stop_flag.clone(),
                        )));
                    }
                    for handle in workers {
                        // A worker that panicked has nothing left to report; the others go on.
                        let _ = handle.await;
                    }
                });
            })
            .map_err(|error| Error::Config(format!("cannot start the sender: {error}")))?;
        Ok(Sender {
            jobs: Some(jobs),
            stop,
            results: outcomes,
            thread: Some(thread),
        })
    }

    /// Hands a job to the next free connection (waits while all are busy).
    pub fn submit(&self, job: Job) -> Result<()> {
        let Some(jobs) = &self.jobs else {
            return Err(Error::Config("the sender has stopped".to_owned()));
        };
        jobs.blocking_send(job)
            .map_err(|_| Error::Config("the sender has stopped".to_owned()))
    }

    /// The next outcome, waiting up to `timeout`; an error when every worker has stopped.
    pub fn next_outcome(&self, timeout: Duration) -> Result<Option<Outcome>> {
        match self.results.recv_timeout(timeout) {
            Ok(outcome) => Ok(Some(outcome)),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Ok(None),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                Err(Error::Config("the sender stopped unexpectedly".to_owned()))
            }
        }
    }

    /// An outcome already waiting, if any.
    pub fn ready_outcome(&self) -> Option<Outcome> {
        self.results.try_recv().ok()
    }

    /// Stops taking jobs (those not yet started are dropped, untried), closes the connections
    /// politely and waits for the workers.
    pub fn finish(mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn worker(
    config: Arc<SmtpConfig>,
    jobs: Arc<Mutex<mpsc::Receiver<Job>>>,
    results: std::sync::mpsc::Sender<Outcome>,
    stop: Arc<std::sync::atomic::AtomicBool>,
) {
    let mut connection: Option<(AsyncSmtpConnection, tokio::time::Instant)> = None;
    loop {
        let job = jobs.lock().await.recv().await;
        let Some(job) = job else { break };
        if stop.load(std::sync::atomic::Ordering::SeqCst) {
            // Stopping: a job not yet started stays untried (claimed, and sent by the next run).
            continue;
        }
        let delivery = deliver(&config, &mut connection, &job).await;
        if results.send(Outcome { id: job.id, delivery }).is_err() {
            break;
        }
    }
    if let Some((mut connection, _)) = connection {
        let _ = tokio::time::timeout(Duration::from_secs(5), connection.quit()).await;
    }
}

/// A connection idle this long is checked (NOOP) before use: servers drop idle clients.
const IDLE_CHECK: Duration = Duration::from_secs(10);

async fn deliver(
    config: &SmtpConfig,
    connection: &mut Option<(AsyncSmtpConnection, tokio::time::Instant)>,
    job: &Job,
) -> Delivery {
    if let Some((open, last_used)) = connection.as_mut() {
        let stale = last_used.elapsed() > IDLE_CHECK
            && !tokio::time::timeout(Duration::from_secs(5), open.test_connected())
                .await
                .unwrap_or(false);
        if open.has_broken() || stale {
            *connection = None;
        }
    }
    if connection.is_none() {
        match tokio::time::timeout(config.timeout, connect(config)).await {
            Ok(Ok(fresh)) => *connection = Some((fresh, tokio::time::Instant::now())),
            Ok(Err(error)) => return error.delivery(),
            Err(_) => return Delivery::Unavailable("timed out connecting to the mail server".to_owned()),
        }
    }
    let Some((open, last_used)) = connection.as_mut() else {
        return Delivery::Unavailable("no connection".to_owned());
    };
    let sent = tokio::time::timeout(config.timeout, open.send(&job.envelope, &job.bytes)).await;
    *last_used = tokio::time::Instant::now();
    match sent {
        Ok(Ok(response)) => Delivery::Accepted(
            format!(
                "{} {}",
                response.code(),
                response.message().collect::<Vec<_>>().join(" ")
            )
            .trim()
            .to_owned(),
        ),
        Ok(Err(error)) => {
            if !error.is_permanent() {
                *connection = None;
            }
            classify(&error)
        }
        Err(_) => {
            *connection = None;
            Delivery::Temporary("timed out waiting for the mail server".to_owned())
        }
    }
}

/// A 5xx reply, or a message this client can never send (an address the server's extensions
/// cannot carry), is permanent; the rest is worth another try.
fn classify(error: &lettre::transport::smtp::Error) -> Delivery {
    let text = error.to_string();
    if error.is_permanent() || error.is_client() {
        Delivery::Permanent(text)
    } else {
        Delivery::Temporary(text)
    }
}

/// A TLS stream that lettre did not open, handed back to it as a plain transport.
#[derive(Debug)]
#[allow(deprecated)]
struct Wrapped(Compat<AsyncNetworkStream>);

impl tokio::io::AsyncRead for Wrapped {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Wrapped {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for Wrapped {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.0.get_ref().peer_addr()
    }
}

fn tls_parameters(config: &SmtpConfig) -> std::result::Result<TlsParameters, lettre::transport::smtp::Error> {
    let mut builder = TlsParameters::builder(config.host.clone());
    if let Some(pem) = &config.ca_pem {
        builder = builder.add_root_certificate(Certificate::from_pem(pem)?);
    }
    builder.build_rustls()
}

/// Why a connection could not be opened.
enum ConnectError {
    /// The SMTP exchange failed (with the server's reply when there was one).
    Smtp(lettre::transport::smtp::Error),
    /// The network, or a server that lacks what the settings require.
    Io(std::io::Error),
}

impl From<lettre::transport::smtp::Error> for ConnectError {
    fn from(error: lettre::transport::smtp::Error) -> Self {
        ConnectError::Smtp(error)
    }
}

impl From<std::io::Error> for ConnectError {
    fn from(error: std::io::Error) -> Self {
        ConnectError::Io(error)
    }
}

impl ConnectError {
    /// Whatever went wrong while connecting, the message was not tried.
    fn delivery(&self) -> Delivery {
        match self {
            ConnectError::Smtp(error) => Delivery::Unavailable(error.to_string()),
            ConnectError::Io(error) => Delivery::Unavailable(format!("mail server: {error}")),
        }
    }
}

/// Opens a connection: TCP with `TCP_NODELAY`, TLS as configured, EHLO, authentication.
async fn connect(config: &SmtpConfig) -> std::result::Result<AsyncSmtpConnection, ConnectError> {
    let tcp = TcpStream::connect((config.host.as_str(), config.port)).await?;
    tcp.set_nodelay(config.nodelay)?;
    let hello = ClientId::Domain(config.hello.clone());
    let mut connection = match config.tls {
        TlsMode::None => AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello).await?,
        TlsMode::StartTls => {
            let mut connection = AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello).await?;
            if !connection.can_starttls() {
                return Err(ConnectError::Io(std::io::Error::other(
                    "the server does not offer STARTTLS (tls = none is for a server on this machine only)",
                )));
            }
            connection.starttls(tls_parameters(config)?, &hello).await?;
            connection
        }
        TlsMode::Tls => {
            #[allow(deprecated)] // The documented way to hand lettre a stream it did not open.
            let mut stream = AsyncNetworkStream::use_existing_tokio1(Box::new(tcp));
            stream.upgrade_tls(tls_parameters(config)?).await?;
            AsyncSmtpConnection::connect_with_transport(Box::new(Wrapped(stream.compat())), &hello).await?
        }
    };
    if let Some((user, password)) = &config.credentials {
        connection
            .auth(
                &[Mechanism::Plain, Mechanism::Login],
                &Credentials::new(user.clone(), password.clone()),
            )
            .await?;
    }
    Ok(connection)
}

/// Opens one connection and closes it: a clear error before any message is claimed.
pub(crate) fn check(config: &SmtpConfig) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| Error::Config(format!("cannot start the sender: {error}")))?;
    runtime.block_on(async {
        match tokio::time::timeout(config.timeout, connect(config)).await {
            Ok(Ok(mut connection)) => {
                let _ = tokio::time::timeout(Duration::from_secs(5), connection.quit()).await;
                Ok(())
            }
            Ok(Err(error)) => Err(Error::Config(format!(
                "cannot use the mail server {}:{}: {}",
                config.host,
                config.port,
                match error.delivery() {
                    Delivery::Accepted(text)
                    | Delivery::Temporary(text)
                    | Delivery::Permanent(text)
                    | Delivery::Unavailable(text) => text,
                }
            ))),
            Err(_) => Err(Error::Config(format!(
                "the mail server {}:{} did not answer within {} s",
                config.host,
                config.port,
                config.timeout.as_secs()
            ))),
        }
    })
}
