//! Running `andon serve` as a real process against the fake GitHub.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use andon_testkit::github::FakeGitHub;
use andon_testkit::webhook::{Delivery, Payload};

use crate::support::TestRepo;

pub const SECRET: &[u8] = b"e2e-webhook-secret";
pub const REPO: &str = "acme/widgets";

/// A running `andon serve`.
pub struct Server {
    child: Child,
    pub url: String,
    pub data: PathBuf,
    github_url: String,
    extra_env: Vec<(String, String)>,
}

impl Server {
    /// Start a server on a free port with `data` as its data dir, GitHub
    /// faked at `github_url`.
    pub fn start(data: &Path, github_url: &str, extra_env: &[(&str, &str)]) -> Server {
        let extra_env: Vec<(String, String)> = extra_env
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect();
        let (child, url) = spawn(data, github_url, &extra_env);
        Server {
            child,
            url,
            data: data.to_path_buf(),
            github_url: github_url.to_string(),
            extra_env,
        }
    }

    pub fn webhook(&self) -> String {
        format!("{}/webhook", self.url)
    }

    /// Post a signed delivery; the status and body.
    pub fn post(&self, delivery: &Delivery) -> (u16, String) {
        delivery.post(&self.webhook(), SECRET)
    }

    /// SIGKILL, no chance to clean up.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait for a graceful exit.
    pub fn terminate(&mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        self.child.wait().expect("wait for andon serve")
    }

    /// Start again on the same data dir (a new port).
    pub fn restart(&mut self) {
        let (child, url) = spawn(&self.data, &self.github_url, &self.extra_env);
        self.child = child;
        self.url = url;
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data.join("serve.log")).unwrap_or_default()
    }

    /// Wait until the inbox and the outbox are empty (asked over the API).
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            let out =
                crate::support::andon(&self.data, &["deliveries", "list", "--format", "json"]);
            if out.status.success() {
                let list: serde_json::Value =
                    serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
                let pending = list
                    .as_array()
                    .is_some_and(|l| l.iter().any(|d| d["state"]["state"] == "pending"));
                let status = api_status(&self.data);
                if !pending
                    && status.is_some_and(|s| s["inbox_depth"] == 0 && s["outbox_depth"] == 0)
                {
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `/api/status` through the token in `serve.json`.
pub fn api_status(data: &Path) -> Option<serde_json::Value> {
    api_get(data, "/api/status")
}

/// A GET of andon serve's API (`path` from `/api/`) through the token in
/// `serve.json`; `None` unless it answers 200 with JSON.
pub fn api_get(data: &Path, path: &str) -> Option<serde_json::Value> {
    let info: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data.join("serve.json")).ok()?).ok()?;
    let url = info["url"].as_str()?;
    let token = info["token"].as_str()?;
    let response = andon_testkit::client::send_blocking(
        "GET",
        &format!("{url}{path}"),
        &[("authorization", format!("Bearer {token}").as_str())],
        Vec::new(),
    )
    .ok()?;
    (response.status == 200).then(|| response.json())
}

fn spawn(data: &Path, github_url: &str, extra_env: &[(String, String)]) -> (Child, String) {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data.join("serve.log"))
        .expect("open serve.log");
    let mut command = Command::new(env!("CARGO_BIN_EXE_andon"));
    command
        .arg("serve")
        .env("ANDON_PLUGIN_CACHE", crate::support::plugin_cache())
        .env("ANDON_LISTEN", "127.0.0.1:0")
        .env("ANDON_DATA_DIR", data)
        .env("ANDON_WEBHOOK_SECRET", "old-secret,e2e-webhook-secret")
        .env("ANDON_GITHUB_TOKEN", "e2e-token")
        .env("ANDON_GITHUB_API_URL", github_url)
        .env("ANDON_LOG", "info")
        .env_remove("ANDON_GIT_BASE_URL")
        .env_remove("ANDON_WORKERS")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log));
    for (k, v) in extra_env {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("start andon serve");
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        while let Some(Ok(line)) = lines.next() {
            if let Some(url) = line.strip_prefix("andon listening on ") {
                let _ = tx.send(url.trim().to_string());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| {
            let log = std::fs::read_to_string(data.join("serve.log")).unwrap_or_default();
            panic!("andon serve did not start:\n{log}")
        });
    (child, url)
}

/// An origin repository with the review workflow on `main` and a pull
/// request branch; `(origin, base sha, head sha)`.
pub fn origin_with_review() -> (TestRepo, String, String) {
    let origin = TestRepo::new();
    origin.write(
        ".andon/workflows/review.yml",
        std::fs::read(crate::support::project_root().join("workflows/review.yml"))
            .expect("read workflows/review.yml"),
    );
    origin.write("src/lib.rs", "pub fn one() -> u32 { 1 }\n");
    let base = origin.commit_all("base");
    origin.git(&["checkout", "-q", "-b", "feature"]);
    origin.write(
        "src/lib.rs",
        "pub fn one() -> u32 { 1 }\npub fn two() -> u32 { 2 }\n",
    );
    let head = origin.commit_all("add two");
    origin.git(&["checkout", "-q", "main"]);
    (origin, base, head)
}

/// A `pull_request` payload for `REPO` from the real fixture.
pub fn pull_request(
    action: &str,
    origin: &TestRepo,
    number: u64,
    base: &str,
    head: &str,
) -> Payload {
    Payload::fixture("pull_request", "opened.payload.json")
        .set("/action", serde_json::json!(action))
        .repository(REPO, origin.path().to_str().expect("utf-8 path"))
        .set("/repository/default_branch", serde_json::json!("main"))
        .number(number)
        .base_sha(base)
        .head_sha(head)
        .author("octocat")
}

/// An `issue_comment` on pull request `number` by `author`.
pub fn comment(origin: &TestRepo, number: u64, author: &str, body: &str) -> Payload {
    let mut payload = Payload::fixture("issue_comment", "created.payload.json")
        .repository(REPO, origin.path().to_str().expect("utf-8 path"))
        .set("/repository/default_branch", serde_json::json!("main"))
        .number(number)
        .comment_body(body)
        .author(author);
    // The fixture's comment is on an issue; make it a pull request's.
    payload.json["issue"]["pull_request"] = serde_json::json!({
        "url": format!("https://api.github.com/repos/{REPO}/pulls/{number}")
    });
    payload
}

/// A `push` payload for `REPO`: `main` moved from `before` to `after`.
pub fn push(origin: &TestRepo, before: &str, after: &str) -> Payload {
    Payload::fixture("push", "payload.json")
        .repository(REPO, origin.path().to_str().expect("utf-8"))
        .set("/ref", serde_json::json!("refs/heads/main"))
        .set("/repository/default_branch", serde_json::json!("main"))
        .set("/deleted", serde_json::json!(false))
        .set("/created", serde_json::json!(false))
        .base_sha(before)
        .head_sha(after)
}

/// A fake GitHub that knows the pull request.
pub fn github_with_pull(number: u64, base: &str, head: &str) -> FakeGitHub {
    let github = FakeGitHub::start();
    github.add_pull_request(andon_testkit::github::PullRequest::new(
        REPO, number, head, base,
    ));
    github
}
