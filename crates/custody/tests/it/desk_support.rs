//! The desk in tests: a real `custody serve` process on a free loopback port, a plain HTTP/1.1
//! client over TCP, and signed-in sessions.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};

use crate::support::Env;

/// The password every test account has.
pub const PASSWORD: &str = "correct horse battery staple";

/// The supplier the demo's `supplier` account and token are bound to (the processor of the
/// demo's incident).
pub const DEMO_SUPPLIER: &str = "Example Membership Services";

/// A demo data directory with an account and a token of each role (`admin`, `responder`,
/// `viewer`, and `supplier`, bound to [`DEMO_SUPPLIER`]; tokens `t-admin`, …), the tokens'
/// secrets returned by role.
pub fn demo_env() -> (Env, Vec<(String, String)>) {
    let env = Env::bare();
    env.ok(&["demo", "--people", "2000"]);
    let mut tokens = Vec::new();
    for role in ["admin", "responder", "viewer", "supplier"] {
        let bound: &[&str] = if role == "supplier" {
            &["--supplier", DEMO_SUPPLIER]
        } else {
            &[]
        };
        add_user_with(&env, role, role, bound);
        let name = format!("t-{role}");
        let mut args = vec!["token", "add", "--name", &name, "--role", role, "--json"];
        args.extend_from_slice(bound);
        let made = env.ok(&args);
        tokens.push((role.to_owned(), made.json()["token"].as_str().unwrap().to_owned()));
    }
    (env, tokens)
}

/// Adds an account with [`PASSWORD`], given on standard input.
pub fn add_user(env: &Env, name: &str, role: &str) {
    add_user_with(env, name, role, &[]);
}

/// Adds an account with [`PASSWORD`] and the further arguments `more` (`--supplier S`).
pub fn add_user_with(env: &Env, name: &str, role: &str, more: &[&str]) {
    let mut args = vec!["user", "add", name, "--role", role];
    args.extend_from_slice(more);
    let mut child = env
        .command(&args, &[])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The first person of the demo's CRM export: (reference, email address).
pub fn demo_person(env: &Env) -> (String, String) {
    let crm = std::fs::read_to_string(env.dir().join("files").join("crm-export.csv")).unwrap();
    let row = crm.lines().nth(1).unwrap();
    let fields: Vec<&str> = row.split(',').collect();
    (fields[0].to_owned(), fields[3].to_owned())
}

/// A running `custody serve`.
pub struct DeskServer {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// Where the server's log goes.
    pub log: std::path::PathBuf,
}

impl DeskServer {
    /// Starts the desk on a free loopback port and waits for its address.
    pub fn start(env: &Env) -> DeskServer {
        DeskServer::start_with(env, &[])
    }

    /// Starts the desk with more arguments.
    pub fn start_with(env: &Env, extra: &[&str]) -> DeskServer {
        DeskServer::start_with_vars(env, extra, &[])
    }

    /// Starts the desk with more arguments and environment variables (a mail server's).
    pub fn start_with_vars(env: &Env, extra: &[&str], vars: &[(&'static str, String)]) -> DeskServer {
        let log = env.root.path().join(format!("desk-{}.log", fastrand_suffix()));
        let mut args = vec!["serve", "--addr", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        let mut child = env
            .command(&args, vars)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("custody desk: http://")
            .and_then(|rest| rest.strip_suffix('/'))
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_owned();
        DeskServer { child, addr, log }
    }

    /// Asks the server to stop as an operator would (SIGTERM) and waits for it to exit.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = std::process::Command::new("sh")
            .args(["-c", &format!("kill -TERM {pid}")])
            .status()
            .unwrap();
        assert!(sent.success());
        self.child.wait().unwrap()
    }

    /// What the server has logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }

    /// Sends a request.
    pub fn send(&self, method: &str, path: &str, headers: &[(&str, String)], body: &[u8]) -> Reply {
        request(&self.addr, method, path, headers, body)
    }

    /// GET with headers.
    pub fn get(&self, path: &str, headers: &[(&str, String)]) -> Reply {
        self.send("GET", path, headers, b"")
    }

    /// The API with a bearer token.
    pub fn api(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> Reply {
        let mut headers = Vec::new();
        if let Some(token) = token {
            headers.push(("Authorization", format!("Bearer {token}")));
        }
        let body = body.map(|body| body.to_string()).unwrap_or_default();
        if !body.is_empty() {
            headers.push(("Content-Type", "application/json".to_owned()));
        }
        self.send(method, path, &headers, body.as_bytes())
    }

    /// Signs in with a password; panics unless it works.
    pub fn sign_in(&self, name: &str, password: &str) -> Session {
        let reply = self.try_sign_in(name, password);
        assert_eq!(reply.status, 303, "sign-in of {name} failed: {}", reply.body);
        let cookie = reply.cookie("custody_session").expect("a session cookie");
        let page = self.get("/account", &[("Cookie", format!("custody_session={cookie}"))]);
        assert_eq!(page.status, 200, "{}", page.body);
        Session {
            cookie,
            csrf: page.field("csrf").expect("a CSRF token on the page"),
        }
    }

    /// Posts the sign-in form as a browser would (with its cookie and token).
    pub fn try_sign_in(&self, name: &str, password: &str) -> Reply {
        let form = self.get("/sign-in", &[]);
        let tie = form.cookie("custody_sign_in").expect("the sign-in form's cookie");
        let csrf = form.field("csrf").expect("the sign-in form's token");
        self.send(
            "POST",
            "/sign-in",
            &[
                ("Cookie", format!("custody_sign_in={tie}")),
                ("Content-Type", "application/x-www-form-urlencoded".to_owned()),
            ],
            form_body(&[("csrf", &csrf), ("name", name), ("password", password)]).as_bytes(),
        )
    }
}

impl Drop for DeskServer {
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

/// A signed-in browser: its cookie and the token its forms carry.
#[derive(Clone)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

impl Session {
    /// The Cookie header.
    pub fn header(&self) -> (&'static str, String) {
        ("Cookie", format!("custody_session={}", self.cookie))
    }

    /// GET as this session.
    pub fn get(&self, server: &DeskServer, path: &str) -> Reply {
        server.get(path, &[self.header()])
    }

    /// Posts a form as this session, with its CSRF token.
    pub fn post(&self, server: &DeskServer, path: &str, fields: &[(&str, &str)]) -> Reply {
        let mut all = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        server.send(
            "POST",
            path,
            &[
                self.header(),
                ("Content-Type", "application/x-www-form-urlencoded".to_owned()),
            ],
            form_body(&all).as_bytes(),
        )
    }
}

/// An URL-encoded form.
pub fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(key, value)| format!("{}={}", encode(key), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes everything but unreserved characters.
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The body as it came (a PDF, say).
    pub bytes: Vec<u8>,
}

impl Reply {
    /// The first header with this name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Every `Set-Cookie` value.
    pub fn set_cookies(&self) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(key, _)| key.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, value)| value.as_str())
            .collect()
    }

    /// The whole `Set-Cookie` value for a cookie, with its attributes.
    pub fn set_cookie_line(&self, name: &str) -> String {
        let prefix = format!("{name}=");
        self.set_cookies()
            .into_iter()
            .find(|value| value.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no {name} cookie set"))
            .to_owned()
    }

    /// A cookie this answer sets (non-empty).
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookies().into_iter().find_map(|value| {
            let first = value.split(';').next()?;
            let (key, value) = first.split_once('=')?;
            (key == name && !value.is_empty()).then(|| value.to_owned())
        })
    }

    /// The value of the first form field with this name on the page.
    pub fn field(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker)? + marker.len();
        let end = self.body[start..].find('"')? + start;
        Some(self.body[start..end].to_owned())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.body))
    }
}

/// One HTTP/1.1 request on its own connection.
pub fn request(addr: &str, method: &str, path: &str, headers: &[(&str, String)], body: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(addr).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    read_reply(&mut stream)
}

/// A GET naming `host` in its `Host` header, sent to `addr`.
pub fn request_with_host(addr: &str, host: &str, path: &str) -> Reply {
    let mut stream = TcpStream::connect(addr).unwrap();
    let head = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    read_reply(&mut stream)
}

/// Reads one answer: the head, then as many bytes as it says (a server may keep the
/// connection open whatever the request asked).
fn read_reply(stream: &mut TcpStream) -> Reply {
    let mut raw = Vec::new();
    let mut buffer = [0u8; 16384];
    let head_end = loop {
        if let Some(end) = raw.windows(4).position(|window| window == b"\r\n\r\n") {
            break end;
        }
        let read = stream.read(&mut buffer).unwrap();
        assert!(read > 0, "the connection closed before the answer's head");
        raw.extend_from_slice(&buffer[..read]);
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(key, value)| (key.trim().to_owned(), value.trim().to_owned()))
        .collect();
    let named = |name: &str| {
        headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.clone())
    };
    let mut body = raw[head_end + 4..].to_vec();
    if let Some(length) = named("content-length") {
        let length: usize = length.parse().unwrap();
        while body.len() < length {
            let read = stream.read(&mut buffer).unwrap();
            assert!(read > 0, "the connection closed before the body's end");
            body.extend_from_slice(&buffer[..read]);
        }
        body.truncate(length);
    } else if named("transfer-encoding").is_some_and(|value| value.contains("chunked")) {
        while !body.ends_with(b"0\r\n\r\n") {
            let read = stream.read(&mut buffer).unwrap();
            if read == 0 {
                break;
            }
            body.extend_from_slice(&buffer[..read]);
        }
        body = dechunk(&body);
    } else if status != 204 && status != 304 && !(100..200).contains(&status) {
        stream.read_to_end(&mut body).unwrap();
    }
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        bytes: body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(end) = data.windows(2).position(|window| window == b"\r\n") else {
            return out;
        };
        let size = usize::from_str_radix(String::from_utf8_lossy(&data[..end]).trim(), 16).unwrap_or(0);
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[end + 2..end + 2 + size]);
        data = &data[end + 2 + size + 2..];
    }
}
