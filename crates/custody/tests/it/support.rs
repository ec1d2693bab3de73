//! Running the binary in a fresh data directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Env {
    pub root: tempfile::TempDir,
    /// The name of the test server's database holding the ledger, when on PostgreSQL.
    pub database: Option<String>,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {}\n{}", self.stdout, self.stderr))
    }
}

impl Env {
    /// A new, initialised data directory, its ledger on the backend the run asks for
    /// (`CUSTODY_TEST_BACKEND=postgresql`: a database of its own on the test server).
    pub fn new() -> Env {
        let mut env = Env::bare();
        match postgres_url("env") {
            Some(url) => {
                env.ok(&["init", "--organisation", "Test Party", "--database", &url]);
                env.database = url.rsplit('/').next().map(str::to_owned);
            }
            None => {
                env.ok(&["init", "--organisation", "Test Party"]);
            }
        };
        env
    }

    /// A new data directory whose ledger is a SQLite file, whatever backend the run asks for.
    pub fn bare_sqlite() -> Env {
        let env = Env::bare();
        env.ok(&["init", "--organisation", "Test Party"]);
        env
    }

    /// A new data directory whose ledger is in a database of its own on the test server,
    /// whatever backend the run asks for.
    pub fn new_postgres() -> Env {
        let mut env = Env::bare();
        let url = custody_testdb::server().tcp_database("pg");
        env.ok(&["init", "--organisation", "Test Party", "--database", &url]);
        env.database = url.rsplit('/').next().map(str::to_owned);
        env
    }

    /// Runs SQL on the ledger's database with a tool of the test's own, as an insider would (on
    /// PostgreSQL, with the append-only triggers turned off first, as the database's owner can).
    pub fn tamper(&self, sql: &str) {
        match &self.database {
            Some(name) => custody_testdb::server()
                .execute(name, &format!("SET session_replication_role = replica; {sql}"))
                .unwrap(),
            None => rusqlite::Connection::open(self.dir().join("custody.db"))
                .unwrap()
                .execute_batch(sql)
                .unwrap(),
        }
    }

    /// One number from the ledger's database.
    pub fn query_number(&self, sql: &str) -> i64 {
        match &self.database {
            Some(name) => custody_testdb::server().query_number(name, sql).unwrap(),
            None => rusqlite::Connection::open(self.dir().join("custody.db"))
                .unwrap()
                .query_row(sql, [], |row| row.get(0))
                .unwrap(),
        }
    }

    /// Whether this ledger is a SQLite file (tests of the file itself, and of `audit.head`,
    /// need one).
    pub fn on_sqlite(&self) -> bool {
        self.database.is_none()
    }

    /// A temporary root with no data directory made yet.
    pub fn bare() -> Env {
        Env {
            root: tempfile::tempdir().unwrap(),
            database: None,
        }
    }

    pub fn dir(&self) -> PathBuf {
        self.root.path().join("data")
    }

    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.root.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    pub fn run(&self, args: &[&str]) -> Run {
        let output: Output = Command::new(env!("CARGO_BIN_EXE_custody"))
            .arg("--dir")
            .arg(self.dir())
            .args(args)
            .env_remove("CUSTODY_KEY")
            .env("CUSTODY_DATABASE_PASSWORD", custody_testdb::PASSWORD)
            .env_remove("CUSTODY_DIR")
            .envs(SMTP_VARIABLES.iter().map(|name| (*name, "")))
            .output()
            .unwrap();
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs and asserts success.
    pub fn ok(&self, args: &[&str]) -> Run {
        let run = self.run(args);
        assert_eq!(
            run.code, 0,
            "custody {args:?} failed:\n{}\n{}",
            run.stdout, run.stderr
        );
        run
    }

    /// Runs and asserts failure with `code`, returning stderr.
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        let run = self.run(args);
        assert_eq!(
            run.code, code,
            "custody {args:?} should exit {code}:\n{}\n{}",
            run.stdout, run.stderr
        );
        run.stderr
    }

    pub fn path_str(path: &Path) -> &str {
        path.to_str().unwrap()
    }
}

/// Whether the tests run with their ledgers in PostgreSQL (`CUSTODY_TEST_BACKEND=postgresql`).
pub fn on_postgres() -> bool {
    std::env::var("CUSTODY_TEST_BACKEND").is_ok_and(|backend| backend == "postgresql")
}

/// A new empty database on the test server over loopback, when the run is on PostgreSQL.
pub fn postgres_url(label: &str) -> Option<String> {
    on_postgres().then(|| custody_testdb::server().tcp_database(label))
}

/// A small CRM export: five people, semicolons, BOM, UK dates.
pub const CRM: &str = "\u{feff}Member Number;Forename;Surname;E-mail;Mobile;Post Code;DOB;Category;Status;Joined;Left;Notes\n\
M1;Alex;Smith;Alex.Smith@Example.org;020 7946 0001;SW1A 1AA;01/02/1980;Member;Active;01/01/2010;;likes cats\n\
M2;Zoë;Jones;zoe.jones@example.org;;LS1 4AB;1975-05-05;registered supporter;Active;2015-06-01;;\n\
M3;Sam;Patel;sam.patel@example.com;0113 496 0002;M1 1AA;12/12/1990;member;Lapsed;2012-01-01;2019-03-01;\n\
M4;Ruth;Evans;ruth@example.net;;EH1 1YZ;23/03/1960;Donor;Active;2018-01-01;;\n\
M5;Omar;Khan;;0161 496 0003;B1 1AA;04/04/1985;affiliated-supporter;current;2020-07-01;;\n";

/// Mail settings from the machine's environment never reach a test: emptied for every run.
const SMTP_VARIABLES: [&str; 9] = [
    "CUSTODY_SMTP_HOST",
    "CUSTODY_SMTP_PORT",
    "CUSTODY_SMTP_TLS",
    "CUSTODY_SMTP_USER",
    "CUSTODY_SMTP_PASSWORD",
    "CUSTODY_SMTP_FROM",
    "CUSTODY_SMTP_CA_FILE",
    "CUSTODY_SMTP_RETRY_SECONDS",
    "CUSTODY_SMTP_MAX_ATTEMPTS",
];

/// A real SMTP server (aiosmtpd) on a free loopback port, recording what it accepts.
pub struct SmtpServer {
    child: std::process::Child,
    pub port: u16,
    pub out: PathBuf,
    certs: PathBuf,
}

impl SmtpServer {
    /// Starts the server; `delay_ms` slows each accepted message.
    pub fn start(dir: &Path, delay_ms: u32) -> SmtpServer {
        SmtpServer::start_with(dir, delay_ms, "none")
    }

    /// Starts the server speaking `tls` (`none`, `starttls` or `tls`, with a certificate for
    /// 127.0.0.1 from an authority written to `ca.pem` in the server's folder).
    pub fn start_with(dir: &Path, delay_ms: u32, tls: &str) -> SmtpServer {
        use std::io::BufRead;
        let suffix = fastrand_suffix();
        let out = dir.join(format!("received-{suffix}.jsonl"));
        let certs = dir.join(format!("certs-{suffix}"));
        std::fs::create_dir_all(&certs).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp/server.py");
        let python = std::env::var("CUSTODY_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned());
        let mut child = Command::new(python)
            .arg(script)
            .arg("--out")
            .arg(&out)
            .arg("--delay-ms")
            .arg(delay_ms.to_string())
            .arg("--tls")
            .arg(tls)
            .arg("--cert-dir")
            .arg(&certs)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 with aiosmtpd (pip install aiosmtpd) runs the test SMTP server");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        std::io::BufReader::new(stdout).read_line(&mut line).unwrap();
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .unwrap_or_else(|| panic!("the SMTP server did not start: {line:?}"))
            .parse()
            .unwrap();
        SmtpServer {
            child,
            port,
            out,
            certs,
        }
    }

    /// The authority that signed the server's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.certs.join("ca.pem")
    }

    /// Every message accepted so far, as recorded: complete lines only, since the server may be
    /// writing the next one while this reads.
    pub fn received(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(&self.out).unwrap_or_default();
        let complete = text.rfind('\n').map_or("", |end| &text[..end]);
        complete
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    /// The environment that points custody at this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("CUSTODY_SMTP_HOST", "127.0.0.1".to_owned()),
            ("CUSTODY_SMTP_PORT", self.port.to_string()),
            ("CUSTODY_SMTP_TLS", "none".to_owned()),
            (
                "CUSTODY_SMTP_FROM",
                "Test Party <dpo@party.example.org>".to_owned(),
            ),
            ("CUSTODY_SMTP_RETRY_SECONDS", "1".to_owned()),
        ]
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fastrand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl Env {
    /// A command for the binary in this environment, with extra variables.
    pub fn command(&self, args: &[&str], vars: &[(&'static str, String)]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_custody"));
        command
            .arg("--dir")
            .arg(self.dir())
            .args(args)
            .env_remove("CUSTODY_KEY")
            .env("CUSTODY_DATABASE_PASSWORD", custody_testdb::PASSWORD)
            .env_remove("CUSTODY_DIR")
            .envs(SMTP_VARIABLES.iter().map(|name| (*name, "")));
        for (name, value) in vars {
            command.env(name, value);
        }
        command
    }

    /// Runs with extra variables and asserts success.
    pub fn ok_with(&self, args: &[&str], vars: &[(&'static str, String)]) -> Run {
        let output = self.command(args, vars).output().unwrap();
        let run = Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        assert_eq!(
            run.code, 0,
            "custody {args:?} failed:\n{}\n{}",
            run.stdout, run.stderr
        );
        run
    }
}

/// An instant `days` from now, as the command line takes it (the organisation's local time).
/// The binary under test reads the real clock, so the test does too.
#[allow(clippy::disallowed_methods)]
pub fn days_ahead(days: i64) -> String {
    let at = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(days * 24);
    at.strftime("%Y-%m-%d %H:%M").to_string()
}
