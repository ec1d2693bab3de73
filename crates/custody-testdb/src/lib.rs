//! A real PostgreSQL server for custody's tests, started once per test process: Debian's server
//! binaries (`initdb`, `postgres`) in a temporary directory, listening on a free loopback port
//! and on a Unix socket in that directory. `initdb` refuses to run as root, so when the tests
//! run as root (as CI does) the server runs as Debian's `postgres` user through `runuser`.
//!
//! The server stops when the test process ends: it runs under a small shell that waits on a
//! pipe from this process and stops the server when the pipe closes.
//!
//! Each test asks for a database of its own ([`Server::database`]). Connections through the
//! socket are trusted (in-process tests); connections over TCP need the password
//! [`PASSWORD`] (tests of the binary give it in `CUSTODY_DATABASE_PASSWORD`).

// Test support: a failure to start the server is a failed test, said plainly.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, missing_docs)]

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The superuser's name.
pub const USER: &str = "custody";
/// The superuser's password over TCP.
pub const PASSWORD: &str = "test-only-password";

/// A running server.
pub struct Server {
    /// The loopback port.
    pub port: u16,
    /// The socket directory.
    pub socket_dir: PathBuf,
    _dir: tempfile::TempDir,
    _keeper: Child,
}

static SERVER: OnceLock<Server> = OnceLock::new();
static NEXT: AtomicU32 = AtomicU32::new(0);

/// The test process's server, started on first use (durability off: tests need speed).
pub fn server() -> &'static Server {
    SERVER.get_or_init(|| start(false, None))
}

/// A server of its own with PostgreSQL's default durability (fsync, synchronous commit), for a
/// benchmark that compares it with SQLite's synchronous commits fairly.
pub fn durable_server() -> Server {
    start(true, None)
}

/// A server that speaks only TLS over TCP (`hostssl`, trusted; plain connections are refused),
/// with a certificate for 127.0.0.1 only, signed by a throwaway authority made with openssl.
pub struct TlsServer {
    /// The server.
    pub server: Server,
    /// The authority that signed the server's certificate (PEM).
    pub authority: PathBuf,
    /// Another authority, which signed nothing the server shows (PEM).
    pub stranger: PathBuf,
    _certificates: tempfile::TempDir,
}

/// Starts a [`TlsServer`].
pub fn tls_server() -> TlsServer {
    let certificates = tempfile::Builder::new()
        .prefix("custody-pg-tls-")
        .tempdir()
        .expect("a temporary directory");
    make_certificates(certificates.path());
    let server = start(false, Some(certificates.path()));
    TlsServer {
        server,
        authority: certificates.path().join("ca.pem"),
        stranger: certificates.path().join("stranger.pem"),
        _certificates: certificates,
    }
}

fn make_certificates(dir: &Path) {
    let openssl = |args: &[&str]| {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl runs (the test command installs it)");
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    for (name, subject) in [("ca", "/CN=custody test CA"), ("stranger", "/CN=another CA")] {
        let key = format!("{name}.key");
        let pem = format!("{name}.pem");
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            subject,
            "-keyout",
            &key,
            "-out",
            &pem,
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
    }
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n\
         extendedKeyUsage=serverAuth\n",
    )
    .expect("the extensions file");
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-out",
        "server.pem",
        "-extfile",
        "server.ext",
    ]);
}

fn bin_dir() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| entries.filter_map(|entry| Some(entry.ok()?.path())).collect())
        .unwrap_or_default();
    versions.sort_by_key(|path| {
        path.file_name()
            .and_then(|name| name.to_str())
            .and_then(|name| name.parse::<u32>().ok())
            .unwrap_or(0)
    });
    versions
        .pop()
        .map(|version| version.join("bin"))
        .filter(|bin| bin.join("initdb").exists())
        .expect(
            "PostgreSQL's server binaries (Debian's postgresql package: apt-get install postgresql) \
             run the PostgreSQL tests; .ci/run installs them",
        )
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A command run as the server's user.
fn as_server_user(program: &Path, root: bool) -> Command {
    if root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free loopback port")
}

fn start(durable: bool, tls: Option<&Path>) -> Server {
    let bin = bin_dir();
    let root = is_root();
    let dir = tempfile::Builder::new()
        .prefix("custody-pg-")
        .tempdir()
        .expect("a temporary directory");
    let data = dir.path().join("data");
    let password_file = dir.path().join("password");
    std::fs::write(&password_file, PASSWORD).expect("the password file");
    let mut tls_options = String::new();
    if let Some(certificates) = tls {
        // The server refuses a key others can read: its own copy, mode 0600.
        for file in ["server.pem", "server.key"] {
            std::fs::copy(certificates.join(file), dir.path().join(file)).expect("the server's certificate");
        }
        std::fs::set_permissions(
            dir.path().join("server.key"),
            std::fs::Permissions::from_mode(0o600),
        )
        .expect("the key's mode");
        tls_options = format!(
            "-c ssl=on -c ssl_cert_file={dir}/server.pem -c ssl_key_file={dir}/server.key",
            dir = dir.path().display()
        );
    }
    if root {
        let status = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir.path())
            .status()
            .expect("chown");
        assert!(
            status.success(),
            "the server's directory could not be given to postgres"
        );
    }
    let output = as_server_user(&bin.join("initdb"), root)
        .arg("-D")
        .arg(&data)
        .args([
            "-U",
            USER,
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
            "--auth-local=trust",
        ])
        .arg("--auth-host=scram-sha-256")
        .arg(format!("--pwfile={}", password_file.display()))
        .output()
        .expect("initdb runs");
    assert!(
        output.status.success(),
        "initdb failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    if tls.is_some() {
        // TCP only over TLS, trusted (no password); the socket stays trusted for the harness.
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n",
        )
        .expect("pg_hba.conf");
    }
    let port = free_port();
    // The keeper shell starts the server, then waits for its standard input to close (this
    // process ended) and stops it.
    let script = format!(
        "{postgres} -D {data} -p {port} -k {socket} -c listen_addresses=127.0.0.1 {durability} \
         {tls_options} -c max_connections=200 > {log} 2>&1 & pid=$!; cat > /dev/null; kill -INT $pid; \
         wait $pid; rm -rf {dir}",
        durability = if durable {
            ""
        } else {
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        },
        postgres = bin.join("postgres").display(),
        data = data.display(),
        socket = dir.path().display(),
        log = dir.path().join("server.log").display(),
        dir = dir.path().display(),
    );
    let keeper = as_server_user(Path::new("/bin/sh"), root)
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server's keeper starts");
    let server = Server {
        port,
        socket_dir: dir.path().to_owned(),
        _dir: dir,
        _keeper: keeper,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if server.admin().is_ok() {
            return server;
        }
        assert!(
            Instant::now() < deadline,
            "PostgreSQL did not start: {}",
            std::fs::read_to_string(server.socket_dir.join("server.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

impl Server {
    fn admin(&self) -> Result<postgres::Client, postgres::Error> {
        postgres::Config::new()
            .host_path(&self.socket_dir)
            .port(self.port)
            .user(USER)
            .dbname("postgres")
            .connect(postgres::NoTls)
    }

    /// A new empty database, named after `label`; returns its name.
    pub fn create_database(&self, label: &str) -> String {
        let clean: String = label
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(40)
            .collect();
        let name = format!(
            "t{}_{}_{clean}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let mut admin = self.admin().expect("the test server answers");
        admin
            // A UTF-8 locale, as a real server has, so case and order rules that depend on the
            // locale are tried (the cluster itself is made with the C locale).
            .batch_execute(&format!(
                "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C.UTF-8'"
            ))
            .expect("a test database");
        name
    }

    /// The URL of a new empty database, through the socket (trusted; for in-process tests).
    pub fn database(&self, label: &str) -> String {
        let name = self.create_database(label);
        let socket: String = self
            .socket_dir
            .display()
            .to_string()
            .bytes()
            .map(|byte| match byte {
                b'/' => "%2F".to_owned(),
                other => (other as char).to_string(),
            })
            .collect();
        format!("postgresql://{USER}@{socket}:{}/{name}", self.port)
    }

    /// The URL of a new empty database over loopback TCP (the password is [`PASSWORD`]).
    pub fn tcp_database(&self, label: &str) -> String {
        let name = self.create_database(label);
        format!("postgresql://{USER}@127.0.0.1:{}/{name}", self.port)
    }

    fn connect_to(&self, name: &str) -> Result<postgres::Client, String> {
        postgres::Config::new()
            .host_path(&self.socket_dir)
            .port(self.port)
            .user(USER)
            .dbname(name)
            .connect(postgres::NoTls)
            .map_err(|error| error.to_string())
    }

    /// Runs SQL as the superuser in database `name` (for tests that play a hostile insider).
    pub fn execute(&self, name: &str, sql: &str) -> Result<(), String> {
        self.connect_to(name)?
            .batch_execute(sql)
            .map_err(|error| message(&error))
    }

    /// One number (`bigint`, or anything cast to it) from a query in database `name`.
    pub fn query_number(&self, name: &str, sql: &str) -> Result<i64, String> {
        let row = self
            .connect_to(name)?
            .query_one(&format!("SELECT ({sql})::bigint"), &[])
            .map_err(|error| message(&error))?;
        row.try_get(0).map_err(|error| message(&error))
    }
}

fn message(error: &postgres::Error) -> String {
    error
        .as_db_error()
        .map_or_else(|| error.to_string(), |db| db.message().to_owned())
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stdin) = self._keeper.stdin.as_mut() {
            let _ = stdin.flush();
        }
    }
}
