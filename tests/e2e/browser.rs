//! The dashboard in a real browser: Debian's headless Chromium, driven
//! over WebDriver (chromedriver's HTTP protocol, spoken with the test
//! kit's client), with JavaScript switched off to prove the pages need
//! none. It filters the runs list with the form, follows a run into its
//! detail page and saves screenshots under `target/test-artifacts/`.
//!
//! Needs `chromium` and `chromium-driver` (`.ci/run` installs them). Set
//! `ANDON_SKIP_BROWSER=1` to skip on a machine without them; otherwise
//! their absence fails the test with what to install.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use andon_testkit::client::send_blocking;
use base64::Engine as _;
use serde_json::{Value, json};

use crate::server::{REPO, Server, github_with_pull, pull_request};
use crate::support::project_root;

/// The W3C WebDriver key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A chromedriver process and one browser session in it.
struct Browser {
    driver: Child,
    base: String,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Start chromedriver and a headless Chromium with JavaScript off.
    fn start(chromium: &Path, chromedriver: &Path) -> Browser {
        let port = free_port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !send_blocking("GET", &format!("{base}/status"), &[], Vec::new())
            .is_ok_and(|r| r.json()["value"]["ready"] == true)
        {
            assert!(Instant::now() < deadline, "chromedriver did not get ready");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().expect("profile dir");
        // The flags this machine's closed network needs (no background
        // connections), and no sandbox since CI runs as root.
        let args = [
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            "--window-size=1280,900".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut browser = Browser {
            driver,
            base,
            session: String::new(),
            _profile: profile,
        };
        let created = browser.call(
            "POST",
            "/session",
            &json!({ "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": chromium,
                    "args": args,
                    // 2 = block: the dashboard must work without scripts.
                    "prefs": { "profile.managed_default_content_settings.javascript": 2 },
                },
            } } }),
        );
        browser.session = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_string();
        browser
    }

    /// One WebDriver command; its `value`.
    fn call(&self, method: &str, path: &str, body: &Value) -> Value {
        let url = format!("{}{path}", self.base);
        let body = if method == "GET" {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        let response = send_blocking(method, &url, &[("content-type", "application/json")], body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let value = response.json();
        assert_eq!(
            response.status,
            200,
            "{method} {path} answered {}: {}",
            response.status,
            response.text()
        );
        value["value"].clone()
    }

    fn session_call(&self, method: &str, path: &str, body: &Value) -> Value {
        self.call(method, &format!("/session/{}{path}", self.session), body)
    }

    fn open(&self, url: &str) {
        self.session_call("POST", "/url", &json!({ "url": url }));
    }

    fn url(&self) -> String {
        self.session_call("GET", "/url", &Value::Null)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn title(&self) -> String {
        self.session_call("GET", "/title", &Value::Null)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Every element matching a CSS selector.
    fn find_all(&self, css: &str) -> Vec<String> {
        self.session_call(
            "POST",
            "/elements",
            &json!({ "using": "css selector", "value": css }),
        )
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|e| e[ELEMENT].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
    }

    /// The one element matching `css`; fails the test with the page's
    /// text when there is none.
    fn find(&self, css: &str) -> String {
        self.find_all(css)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no `{css}` on {}:\n{}", self.url(), self.text("body")))
    }

    fn element_text(&self, element: &str) -> String {
        self.session_call("GET", &format!("/element/{element}/text"), &Value::Null)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The visible text of the first element matching `css`.
    fn text(&self, css: &str) -> String {
        self.find_all(css)
            .first()
            .map(|e| self.element_text(e))
            .unwrap_or_default()
    }

    fn click(&self, element: &str) {
        self.session_call("POST", &format!("/element/{element}/click"), &json!({}));
    }

    /// Click a link or submit button and wait until the browser is on
    /// another page. A click returns before the navigation it starts has
    /// committed, so reading the page (or its URL) straight after it can
    /// see the old one.
    fn follow(&self, element: &str) {
        let before = self.url();
        self.click(element);
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.url() == before {
            assert!(
                Instant::now() < deadline,
                "the click did not leave {before}:\n{}",
                self.text("body")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Save a PNG of the viewport to `path`.
    fn screenshot(&self, path: &Path) {
        let encoded = self.session_call("GET", "/screenshot", &Value::Null);
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap_or_default())
            .expect("the screenshot is base64");
        assert!(png.starts_with(b"\x89PNG"), "the screenshot is not a PNG");
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("artifact dir");
        std::fs::write(path, png).expect("write the screenshot");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = send_blocking(
                "DELETE",
                &format!("{}/session/{}", self.base, self.session),
                &[],
                Vec::new(),
            );
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Chromium and chromedriver, from `ANDON_CHROMIUM`/`ANDON_CHROMEDRIVER`
/// or Debian's paths; `None` (skip) only when `ANDON_SKIP_BROWSER=1`.
fn browser_binaries() -> Option<(PathBuf, PathBuf)> {
    let find = |var: &str, default: &str| {
        std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from)
    };
    let chromium = find("ANDON_CHROMIUM", "/usr/bin/chromium");
    let driver = find("ANDON_CHROMEDRIVER", "/usr/bin/chromedriver");
    if chromium.exists() && driver.exists() {
        return Some((chromium, driver));
    }
    if std::env::var("ANDON_SKIP_BROWSER").is_ok_and(|v| v == "1") {
        eprintln!("skipped: ANDON_SKIP_BROWSER=1 and no chromium/chromedriver");
        return None;
    }
    panic!(
        "the browser test needs {} and {}: `apt-get install chromium chromium-driver` (Debian), or set ANDON_CHROMIUM/ANDON_CHROMEDRIVER, or ANDON_SKIP_BROWSER=1 to skip",
        chromium.display(),
        driver.display()
    );
}

/// Where screenshots go: `target/test-artifacts/`, kept after the run.
fn artifact(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map_or_else(|| project_root().join("target"), Path::to_path_buf)
        .join("test-artifacts")
        .join(name)
}

#[test]
fn the_dashboard_in_headless_chromium_without_javascript() {
    let Some((chromium, chromedriver)) = browser_binaries() else {
        return;
    };
    // Real runs through `andon serve`: a pull request opened and pushed to
    // again, each running the review and data-quality workflows (the
    // second data check fails), so the data page has a history to chart.
    let (origin, _c1, c2, head1, head2) = crate::dashboard::origin();
    let github = github_with_pull(7, &c2, &head1);
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(data.path(), &github.url(), &[]);
    for (action, head, id) in [
        ("opened", &head1, "browser-7"),
        ("synchronize", &head2, "browser-7b"),
    ] {
        let payload = pull_request(action, &origin, 7, &c2, head);
        let (status, body) = server.post(&payload.delivery(id));
        assert_eq!(status, 202, "{body}");
        assert!(
            server.wait_idle(Duration::from_secs(90)),
            "the delivery was not processed:\n{}",
            server.log()
        );
    }

    let browser = Browser::start(&chromium, &chromedriver);
    browser.open(&format!("{}/", server.url));
    assert!(
        browser.title().contains("andon"),
        "title: {}",
        browser.title()
    );
    assert_eq!(browser.text("h1"), "Runs");
    let rows = browser.find_all("#runs tbody tr");
    assert!(rows.len() >= 4, "runs listed: {}", browser.text("#runs"));
    let listed = browser.text("#runs");
    assert!(listed.contains("review"), "{listed}");
    assert!(listed.contains(REPO), "{listed}");
    browser.screenshot(&artifact("dashboard-runs.png"));

    // Filter by status with the form: a form submission, no script.
    let option = browser.find("#filters select[name=status] option[value=success]");
    browser.click(&option);
    browser.follow(&browser.find("#filters button[type=submit], #filters input[type=submit]"));
    let url = browser.url();
    assert!(
        url.contains("status=success"),
        "the form did not submit: {url}"
    );
    let filtered = browser.text("#runs tbody");
    for line in filtered.lines().filter(|l| !l.trim().is_empty()) {
        assert!(
            line.contains("success"),
            "a row that is not a success: {line}"
        );
    }

    // Into the newest review run.
    browser.open(&format!("{}/?workflow=review", server.url));
    let link = browser.find("#runs tbody tr a[href^='/runs/']");
    browser.follow(&link);
    let title = browser.text("h1");
    assert!(title.starts_with("Run #"), "{title}");
    let page = browser.text("body");
    for expected in ["pull_request", REPO, "size", "Steps"] {
        assert!(page.contains(expected), "`{expected}` missing:\n{page}");
    }
    browser.screenshot(&artifact("dashboard-run.png"));

    // The data check's history: follow the dataset from /data to its
    // charts.
    browser.open(&format!("{}/data", server.url));
    assert_eq!(browser.text("h1"), "Data checks");
    browser.follow(
        &browser.find("a[href*='dataset=data%2Forders.csv'], a[href*='dataset=data/orders.csv']"),
    );
    assert!(
        browser.text("h1").contains("data/orders.csv"),
        "{}",
        browser.text("h1")
    );
    let charts = browser.find_all("svg.chart");
    assert!(charts.len() >= 4, "{} charts", charts.len());
    let history = browser.text("#history");
    assert!(
        history.contains("failure") && history.contains("success"),
        "{history}"
    );
    browser.screenshot(&artifact("dashboard-data.png"));

    // Every other page of the nav renders with its heading.
    for (path, heading) in [
        ("/schedules", "Schedules"),
        ("/models", "Models"),
        ("/inbox", "Inbox and outbox"),
    ] {
        browser.open(&format!("{}{path}", server.url));
        assert_eq!(browser.text("h1"), heading, "{path}");
    }
    let queues = browser.text("body");
    assert!(
        queues.contains("browser-7b"),
        "the delivery is listed:\n{queues}"
    );
    eprintln!(
        "screenshots: {}",
        artifact("dashboard-runs.png")
            .parent()
            .expect("dir")
            .display()
    );
}
