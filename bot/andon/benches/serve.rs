//! `andon serve` under load, as a whole process on loopback.
//!
//! 1. Intake: unique signed deliveries from 64 concurrent keep-alive
//!    connections; durable acknowledgements per second, p50 and p99
//!    latency, and a check that every acknowledged delivery is in the
//!    store (zero lost).
//! 2. Reaction time: from posting a `pull_request` delivery to the first
//!    call andon makes on the (fake) GitHub, with `workflows/review.yml`
//!    and a warm mirror; the median of 31 deliveries.
//!
//! `cargo bench -p andon --bench serve` (the bench profile builds the
//! `andon` binary optimised). `ANDON_BENCH_DELIVERIES` sets the number of
//! intake deliveries (default 20,000).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use andon_testkit::github::{FakeGitHub, PullRequest};
use andon_testkit::load::{self, LoadConfig};
use andon_testkit::webhook::Payload;
use serde_json::json;

const SECRET: &[u8] = b"bench-secret";
const REPO: &str = "acme/widgets";

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let work = tempfile::tempdir().expect("tempdir");
    let origin = work.path().join("origin");
    let (base, head) = make_origin(&origin, &root);
    let github = FakeGitHub::start();
    github.add_pull_request(PullRequest::new(REPO, 1, &head, &base));

    let data = work.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    let (mut server, url) = start(&data, &github.url());

    // --- 1. intake
    let total: usize = std::env::var("ANDON_BENCH_DELIVERIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let comment = Payload::fixture("issue_comment", "created.payload.json")
        .repository(REPO, origin.to_str().expect("utf-8"))
        .comment_body("Looks good to me, thanks!");
    let mut config = LoadConfig::new(
        &format!("{url}/webhook"),
        SECRET,
        "issue_comment",
        comment.to_bytes(),
    );
    config.connections = 64;
    config.total = total;
    config.id_prefix = "bench".into();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    // Warm up connections and the store.
    let mut warm = config.clone();
    warm.total = 500;
    warm.id_prefix = "warm".into();
    let _ = runtime.block_on(load::run(warm));
    let report = runtime.block_on(load::run(config));
    let acked = report.acked_2xx;
    println!(
        "intake: {} deliveries, 64 connections: {:.0} acks/s, p50 {:.2} ms, p99 {:.2} ms, non-2xx {:?}, errors {}",
        report.sent,
        report.per_second(),
        report.p50().as_secs_f64() * 1e3,
        report.p99().as_secs_f64() * 1e3,
        report.non_2xx,
        report.errors
    );
    let acked_ids = report.acked_ids.clone();

    // --- 2. delivery -> first GitHub call, warm mirror
    wait_idle(&data);
    let pr = |action: &str| {
        Payload::fixture("pull_request", "opened.payload.json")
            .set("/action", json!(action))
            .repository(REPO, origin.to_str().expect("utf-8"))
            .set("/repository/default_branch", json!("main"))
            .number(1)
            .base_sha(&base)
            .head_sha(&head)
    };
    // Warm the mirror and the plugin cache.
    let (status, _) = pr("opened")
        .delivery("latency-warm")
        .post(&format!("{url}/webhook"), SECRET);
    assert_eq!(status, 202);
    wait_idle(&data);
    let mut samples = Vec::new();
    for i in 0..31 {
        let sent = Instant::now();
        let (status, _) = pr("synchronize")
            .delivery(&format!("latency-{i}"))
            .post(&format!("{url}/webhook"), SECRET);
        assert_eq!(status, 202);
        let seen = github.wait_for(
            |gh| gh.first_call_after(sent).is_some(),
            Duration::from_secs(10),
        );
        assert!(seen, "no GitHub call within 10 s");
        let call = github.first_call_after(sent).expect("a call");
        samples.push(call.at.duration_since(sent));
        wait_idle(&data);
    }
    samples.sort();
    let median = samples[samples.len() / 2];
    let p90 = samples[samples.len() * 9 / 10];
    println!(
        "pull_request -> first GitHub call (warm mirror, review.yml): median {:.1} ms, p90 {:.1} ms, min {:.1} ms",
        median.as_secs_f64() * 1e3,
        p90.as_secs_f64() * 1e3,
        samples[0].as_secs_f64() * 1e3
    );
    // Zero lost: stop the server, then every acknowledged id must be in
    // the store.
    let pid = server.id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    let _ = server.wait();
    // Zero lost: every acknowledged id is in the store.
    let listed = andon(
        &data,
        &[
            "deliveries",
            "list",
            "--format",
            "json",
            "--limit",
            "1000000",
        ],
    );
    let listed: serde_json::Value = serde_json::from_slice(&listed).expect("deliveries JSON");
    let ids: std::collections::HashSet<&str> = listed
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|d| d["id"].as_str())
        .collect();
    let lost = acked_ids
        .iter()
        .filter(|id| !ids.contains(id.as_str()))
        .count();
    println!("intake: {acked} acknowledged, {lost} lost");
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=Bench",
            "-c",
            "user.email=bench@example.com",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn make_origin(dir: &Path, root: &Path) -> (String, String) {
    std::fs::create_dir_all(dir.join(".andon/workflows")).expect("mkdir");
    git(dir, &["init", "-q", "-b", "main"]);
    std::fs::copy(
        root.join("workflows/review.yml"),
        dir.join(".andon/workflows/review.yml"),
    )
    .expect("copy review.yml");
    std::fs::write(dir.join("lib.rs"), "pub fn one() -> u32 { 1 }\n").expect("write");
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "base"]);
    let base = git(dir, &["rev-parse", "HEAD"]);
    git(dir, &["checkout", "-q", "-b", "feature"]);
    let mut text = String::new();
    for i in 0..40 {
        text.push_str(&format!("pub fn f{i}() -> u32 {{ {i} }}\n"));
    }
    std::fs::write(dir.join("lib.rs"), text).expect("write");
    git(dir, &["commit", "-q", "-am", "change"]);
    let head = git(dir, &["rev-parse", "HEAD"]);
    git(dir, &["checkout", "-q", "main"]);
    (base, head)
}

fn start(data: &Path, github: &str) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_andon"))
        .arg("serve")
        .env("ANDON_LISTEN", "127.0.0.1:0")
        .env("ANDON_DATA_DIR", data)
        .env("ANDON_WEBHOOK_SECRET", "bench-secret")
        .env("ANDON_GITHUB_TOKEN", "bench-token")
        .env("ANDON_GITHUB_API_URL", github)
        .env("ANDON_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start andon serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        let line = lines.next().expect("andon serve exited").expect("read");
        if let Some(url) = line.strip_prefix("andon listening on ") {
            break url.trim().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, url)
}

fn andon(data: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_andon"))
        .args(args)
        .env("ANDON_DATA_DIR", data)
        .output()
        .expect("andon runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Wait until no delivery is pending and the outbox is empty.
fn wait_idle(data: &Path) {
    let deadline = Instant::now() + Duration::from_secs(600);
    while Instant::now() < deadline {
        let info: serde_json::Value =
            serde_json::from_slice(&std::fs::read(data.join("serve.json")).expect("serve.json"))
                .expect("JSON");
        let url = info["url"].as_str().expect("url");
        let token = info["token"].as_str().expect("token");
        if let Ok(response) = andon_testkit::client::send_blocking(
            "GET",
            &format!("{url}/api/status"),
            &[("authorization", format!("Bearer {token}").as_str())],
            Vec::new(),
        ) {
            let status = response.json();
            if status["inbox_depth"] == 0 && status["outbox_depth"] == 0 {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("andon serve did not become idle");
}
