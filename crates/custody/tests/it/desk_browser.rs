//! The desk in Debian's headless Chromium, driven through chromedriver (WebDriver): sign in,
//! open the demo incident, add a timeline entry and see it, download the report, sign out.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::desk_support::{DeskServer, PASSWORD, add_user, demo_env, request};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// WebDriver's key for an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Driver {
    child: Child,
    addr: String,
    session: String,
}

impl Driver {
    fn start(profile: &Path, downloads: &Path) -> Driver {
        assert!(
            Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists(),
            "the browser tests need Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let addr = format!("127.0.0.1:{port}");
        let started = Instant::now();
        while std::net::TcpStream::connect(&addr).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut driver = Driver {
            child,
            addr,
            session: String::new(),
        };
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-quic", "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--window-size=1280,1600",
                         format!("--user-data-dir={}", profile.display())],
                "prefs": { "download.default_directory": downloads.display().to_string(),
                           "download.prompt_for_download": false }
            }
        } } });
        let made = driver.call("POST", "/session", Some(capabilities));
        driver.session = made["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {made}"))
            .to_owned();
        driver
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let body = body.map(|body| body.to_string()).unwrap_or_default();
        let headers = [("Content-Type", "application/json".to_owned())];
        let reply = request(&self.addr, method, path, &headers, body.as_bytes());
        let value = reply.json();
        assert!(reply.status < 300, "WebDriver {method} {path}: {}", reply.body);
        value["value"].clone()
    }

    fn at(&self, suffix: &str) -> String {
        format!("/session/{}{suffix}", self.session)
    }

    fn go(&self, url: &str) {
        self.call("POST", &self.at("/url"), Some(json!({ "url": url })));
    }

    fn url(&self) -> String {
        self.call("GET", &self.at("/url"), None)
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn find(&self, css: &str) -> String {
        let started = Instant::now();
        loop {
            let headers = [("Content-Type", "application/json".to_owned())];
            let body = json!({ "using": "css selector", "value": css }).to_string();
            let reply = request(
                &self.addr,
                "POST",
                &self.at("/element"),
                &headers,
                body.as_bytes(),
            );
            if reply.status == 200 {
                let value = reply.json();
                return value["value"][ELEMENT]
                    .as_str()
                    .unwrap_or_else(|| panic!("no element reference in {value}"))
                    .to_owned();
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "no element {css} on {}",
                self.url()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The text of an element, or `None` while the page is being replaced.
    fn try_text(&self, css: &str) -> Option<String> {
        let headers = [("Content-Type", "application/json".to_owned())];
        let body = json!({ "using": "css selector", "value": css }).to_string();
        let found = request(
            &self.addr,
            "POST",
            &self.at("/element"),
            &headers,
            body.as_bytes(),
        );
        let element = found.json()["value"][ELEMENT].as_str()?.to_owned();
        let text = request(
            &self.addr,
            "GET",
            &self.at(&format!("/element/{element}/text")),
            &[],
            b"",
        );
        text.json()["value"].as_str().map(str::to_owned)
    }

    fn text(&self, css: &str) -> String {
        let element = self.find(css);
        self.call("GET", &self.at(&format!("/element/{element}/text")), None)
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css);
        self.call(
            "POST",
            &self.at(&format!("/element/{element}/value")),
            Some(json!({ "text": text })),
        );
    }

    fn click(&self, css: &str) {
        let element = self.find(css);
        self.call(
            "POST",
            &self.at(&format!("/element/{element}/click")),
            Some(json!({})),
        );
    }

    /// Goes to `url`, is sent to sign in, signs in as `name` and lands on the incidents.
    fn sign_in_at(&self, url: &str, name: &str) {
        self.go(url);
        self.wait_for_path("/sign-in");
        self.type_into("#name", name);
        self.type_into("#password", PASSWORD);
        self.click("#sign-in");
        self.wait_for_path("/incidents");
    }

    /// Waits until the browser's address ends with `suffix`.
    fn wait_for_path(&self, suffix: &str) {
        let started = Instant::now();
        while !self.url().ends_with(suffix) {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "expected {suffix}, at {}",
                self.url()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = request(
                &self.addr,
                "DELETE",
                &format!("/session/{}", self.session),
                &[],
                b"",
            );
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The downloaded file `name` in `dir`, once the download has finished. Chromium reserves the
/// name with an empty file as a download starts, writes into a `.crdownload` file beside it and
/// renames that over the reserved one at the end: the file is whole when it has bytes and no
/// partial download is left.
fn wait_for_file(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let started = Instant::now();
    loop {
        let partial = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .any(|entry| entry.file_name().to_string_lossy().ends_with(".crdownload"));
        let bytes = std::fs::metadata(&path).map_or(0, |meta| meta.len());
        if bytes > 0 && !partial {
            return path;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{name} was not downloaded ({bytes} bytes so far)"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_responder_works_an_incident_in_the_browser() {
    let (env, _) = demo_env();
    add_user(&env, "lead", "responder");
    let people = env.ok(&["incident", "show", "1", "--json"]).json()["impact"]["people"]
        .as_u64()
        .unwrap();
    let server = DeskServer::start(&env);
    let base = format!("http://{}", server.addr);
    let profile = env.root.path().join("chromium-profile");
    let downloads = env.root.path().join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let browser = Driver::start(&profile, &downloads);

    // Not signed in: the desk sends the browser to sign in.
    browser.sign_in_at(&format!("{base}/incidents/1"), "lead");
    assert_eq!(browser.text("#me"), "lead");

    // The demo incident, with the ledger's figure and its clocks.
    browser.click("a[href=\"/incidents/1\"]");
    browser.wait_for_path("/incidents/1");
    let shown = browser.text("#people-affected").replace(',', "");
    assert_eq!(shown, people.to_string());
    assert!(browser.text("#clocks").contains("Regulator (72 h)"));
    // The page's script ran under the Content-Security-Policy: it polled the notices' progress.
    let started = Instant::now();
    while !server.log_text().contains("GET /incidents/{id}/progress 200") {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the page's script did not run"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // A timeline entry, added and then seen.
    browser.type_into("#entry-text", "Asked the supplier for its forensic report");
    browser.click("#add-entry");
    let started = Instant::now();
    let timeline = loop {
        let timeline = browser.try_text("#timeline-entries").unwrap_or_default();
        if timeline.contains("Asked the supplier for its forensic report") {
            break timeline;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the entry did not appear: {timeline}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        timeline.contains("Asked the supplier for its forensic report"),
        "{timeline}"
    );
    assert!(timeline.contains("desk:lead"), "{timeline}");

    // The report, downloaded as a file.
    browser.click("#report-md");
    let report = std::fs::read_to_string(wait_for_file(&downloads, "incident-1-initial-report.md")).unwrap();
    assert!(report.contains("Example Membership Services"), "{report}");

    // Signing out: the desk is closed again.
    browser.click("#sign-out");
    browser.wait_for_path("/sign-in");
    browser.go(&format!("{base}/incidents"));
    browser.wait_for_path("/sign-in");
}

#[test]
fn a_responder_logs_a_request_and_answers_it_in_the_browser() {
    let (env, _) = demo_env();
    add_user(&env, "answerer", "responder");
    let (reference, _) = crate::desk_support::demo_person(&env);
    let server = DeskServer::start(&env);
    let base = format!("http://{}", server.addr);
    let profile = env.root.path().join("chromium-profile");
    let downloads = env.root.path().join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let browser = Driver::start(&profile, &downloads);
    browser.sign_in_at(&format!("{base}/requests"), "answerer");
    browser.click("nav a[href=\"/requests\"]");
    browser.wait_for_path("/requests");

    // Log an access request for a member, received now (the form's default).
    browser.type_into("#log-form input[name=person]", &reference);
    browser.click("#log-request");
    let started = Instant::now();
    while !browser.url().contains("/requests/") {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "not logged: {}",
            browser.url()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let id = browser.url().rsplit('/').next().unwrap().to_owned();
    assert_eq!(browser.text("#person"), reference);
    assert_eq!(browser.text("#state"), "open");
    assert!(
        browser.text("#clock").contains("d left"),
        "{}",
        browser.text("#clock")
    );

    // The answer, downloaded; then the request closed as done.
    browser.click("#answer-md");
    let answer =
        std::fs::read_to_string(wait_for_file(&downloads, &format!("request-{id}-answer.md"))).unwrap();
    assert!(answer.contains("Why we use your data"), "{answer}");
    assert!(answer.contains(&reference), "{answer}");
    browser.go(&format!("{base}/requests/{id}"));
    browser.type_into(
        "#close-reason",
        "Answer sent by email with the CRM export attached",
    );
    browser.click("#close-request");
    let started = Instant::now();
    while browser.try_text("#state").unwrap_or_default() != "done" {
        assert!(started.elapsed() < Duration::from_secs(10), "not closed");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(browser.text("#clock"), "met");
    let events = browser.text("#events");
    assert!(
        events.contains("answer produced") && events.contains("desk:answerer"),
        "{events}"
    );
}

#[test]
fn a_responder_sends_the_notices_from_the_browser_and_watches_them_finish() {
    let (env, _) = demo_env();
    add_user(&env, "teller", "responder");
    let mail = crate::support::SmtpServer::start(env.root.path(), 0);
    let server = DeskServer::start_with_vars(&env, &[], &mail.env());
    let base = format!("http://{}", server.addr);
    let profile = env.root.path().join("chromium-profile");
    let downloads = env.root.path().join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let browser = Driver::start(&profile, &downloads);
    browser.sign_in_at(&format!("{base}/incidents/1"), "teller");
    browser.click("a[href=\"/incidents/1\"]");
    browser.wait_for_path("/incidents/1");

    // Counted first: nothing goes.
    browser.click("#notify-count");
    let counted = browser.text("#news");
    assert!(counted.contains("Counted, nothing sent"), "{counted}");
    assert!(mail.received().is_empty());

    // Sent: the page's script follows the run until it has finished.
    browser.click("#notify-confirm");
    browser.click("#notify-start");
    browser.wait_for_path("/incidents/1#notifications");
    let started = Instant::now();
    let said = loop {
        let said = browser.try_text("#notify-run").unwrap_or_default();
        if said.starts_with("The run finished") {
            break said;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the run did not finish on the page: {said}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let sent: u64 = browser.text("[data-count=\"sent\"]").parse().unwrap();
    assert!(sent > 0, "{said}");
    assert!(said.contains(&format!("{sent} sent")), "{said}");
    assert_eq!(mail.received().len() as u64, sent, "{said}");
    assert_eq!(browser.text("[data-count=\"queued\"]"), "0");
}
