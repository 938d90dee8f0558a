//! `andon serve` under load, as a whole process on loopback.
//!
//! 1. Intake: unique signed deliveries from 64 concurrent keep-alive
//!    connections; durable acknowledgements per second, p50 and p99
//!    latency, and a check that every acknowledged delivery is in the
//!    store (zero lost). Rounds alternate between a server with tracing
//!    and metrics on (`ANDON_LOG=info`, `ANDON_LOG_FORMAT=json` into a
//!    file, metrics recorded) and one with both off (`ANDON_LOG=off`,
//!    `ANDON_METRICS=off`), each on a fresh data directory; the medians of
//!    each and the cost of observability (the drop in throughput) are
//!    printed.
//! 2. Reaction time: from posting a `pull_request` delivery to the first
//!    call andon makes on the (fake) GitHub, with `workflows/review.yml`
//!    and a warm mirror; the median of 31 deliveries.
//!
//! `cargo bench -p andon --bench serve` (the bench profile builds the
//! `andon` binary optimised). `ANDON_BENCH_DELIVERIES` sets the number of
//! intake deliveries per round (default 20,000), `ANDON_BENCH_ROUNDS` the
//! rounds of each mode (default 3).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use andon_testkit::github::{FakeGitHub, PullRequest};
use andon_testkit::load::{self, LoadConfig};
use andon_testkit::webhook::Payload;
use serde_json::json;
#[path = "support/serve.rs"]
mod support_serve;
use support_serve::{cpu_us, start_serve};

const SECRET: &[u8] = b"bench-secret";
const REPO: &str = "acme/widgets";

/// Whether a server records traces and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Observed,
    Bare,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Observed => "with tracing+metrics",
            Mode::Bare => "without",
        }
    }

    fn env(self) -> [(&'static str, &'static str); 3] {
        match self {
            Mode::Observed => [
                ("ANDON_LOG", "info"),
                ("ANDON_LOG_FORMAT", "json"),
                ("ANDON_METRICS", "on"),
            ],
            Mode::Bare => [
                ("ANDON_LOG", "off"),
                ("ANDON_LOG_FORMAT", "text"),
                ("ANDON_METRICS", "off"),
            ],
        }
    }
}

/// One intake round's figures.
#[derive(Debug, Clone, Copy)]
struct Round {
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    lost: usize,
    /// The server's CPU time (user + system) per delivery, from the start
    /// of the measured load until the workers have processed it all.
    cpu_us_per_delivery: f64,
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let work = tempfile::tempdir().expect("tempdir");
    let origin = work.path().join("origin");
    let (base, head) = make_origin(&origin, &root);
    let github = FakeGitHub::start();
    github.add_pull_request(PullRequest::new(REPO, 1, &head, &base));

    // --- 1. intake, with and without observability, alternating
    let total: usize = env_number("ANDON_BENCH_DELIVERIES", 20_000);
    let rounds: usize = env_number("ANDON_BENCH_ROUNDS", 3);
    let comment = Payload::fixture("issue_comment", "created.payload.json")
        .repository(REPO, origin.to_str().expect("utf-8"))
        .comment_body("Looks good to me, thanks!");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut results: Vec<(Mode, Round)> = Vec::new();
    for round in 0..rounds {
        // Which mode goes first alternates too, so neither always runs on
        // a warmer machine.
        let order = if round % 2 == 0 {
            [Mode::Observed, Mode::Bare]
        } else {
            [Mode::Bare, Mode::Observed]
        };
        for mode in order {
            let data = work.path().join(format!("intake-{round}-{mode:?}"));
            let figures = intake_round(&runtime, &data, &github.url(), mode, &comment, total);
            println!(
                "intake round {} {:<22} {:>6.0} acks/s, p50 {:.2} ms, p99 {:.2} ms, server CPU {:.0} µs/delivery, {} lost",
                round + 1,
                mode.name(),
                figures.per_second,
                figures.p50_ms,
                figures.p99_ms,
                figures.cpu_us_per_delivery,
                figures.lost
            );
            results.push((mode, figures));
        }
    }
    let median_of = |mode: Mode, pick: fn(&Round) -> f64| {
        let mut values: Vec<f64> = results
            .iter()
            .filter(|(m, _)| *m == mode)
            .map(|(_, r)| pick(r))
            .collect();
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let observed = median_of(Mode::Observed, |r| r.per_second);
    let bare = median_of(Mode::Bare, |r| r.per_second);
    println!(
        "intake medians over {rounds} rounds of {total}: with tracing+metrics {observed:.0} acks/s (p99 {:.2} ms), without {bare:.0} acks/s (p99 {:.2} ms): observability costs {:.1}% of throughput (target < 5%); {} lost in all",
        median_of(Mode::Observed, |r| r.p99_ms),
        median_of(Mode::Bare, |r| r.p99_ms),
        (1.0 - observed / bare) * 100.0,
        results.iter().map(|(_, r)| r.lost).sum::<usize>()
    );
    // CPU time moves less than throughput with the load of a shared
    // machine: the cost in work done, not in waiting.
    let observed_cpu = median_of(Mode::Observed, |r| r.cpu_us_per_delivery);
    let bare_cpu = median_of(Mode::Bare, |r| r.cpu_us_per_delivery);
    println!(
        "server CPU per delivery, medians: with tracing+metrics {observed_cpu:.0} µs, without {bare_cpu:.0} µs: observability costs {:.1}% of CPU",
        (observed_cpu / bare_cpu - 1.0) * 100.0
    );

    // --- 2. delivery -> first GitHub call, warm mirror
    let data = work.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    let (mut server, url) = start(
        &data,
        &github.url(),
        &[("ANDON_LOG", "warn")],
        Stdio::inherit(),
    );
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
    stop(&mut server);
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

/// One intake round on a fresh server in `data`: warm up, load, stop,
/// then check every acknowledged delivery is in the store.
fn intake_round(
    runtime: &tokio::runtime::Runtime,
    data: &Path,
    github: &str,
    mode: Mode,
    payload: &Payload,
    total: usize,
) -> Round {
    std::fs::create_dir_all(data).expect("data dir");
    let stderr = match mode {
        // A real file, as an operator's log collector would read.
        Mode::Observed => {
            Stdio::from(std::fs::File::create(data.join("serve.log")).expect("create serve.log"))
        }
        Mode::Bare => Stdio::null(),
    };
    let (mut server, url) = start(data, github, &mode.env(), stderr);
    let mut config = LoadConfig::new(
        &format!("{url}/webhook"),
        SECRET,
        "issue_comment",
        payload.to_bytes(),
    );
    config.connections = 64;
    config.total = total;
    config.id_prefix = "bench".into();
    // Warm up connections and the store.
    let mut warm = config.clone();
    warm.total = 500;
    warm.id_prefix = "warm".into();
    let _ = runtime.block_on(load::run(warm));
    let cpu_before = cpu_us(server.id()).expect("the server's CPU time");
    let report = runtime.block_on(load::run(config));
    wait_idle(data);
    let cpu_after = cpu_us(server.id()).expect("the server's CPU time");
    assert_eq!(
        report.acked_2xx, report.sent,
        "non-2xx {:?}, errors {}",
        report.non_2xx, report.errors
    );
    stop(&mut server);
    let listed = andon(
        data,
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
    let lost = report
        .acked_ids
        .iter()
        .filter(|id| !ids.contains(id.as_str()))
        .count();
    Round {
        per_second: report.per_second(),
        p50_ms: report.p50().as_secs_f64() * 1e3,
        p99_ms: report.p99().as_secs_f64() * 1e3,
        lost,
        cpu_us_per_delivery: (cpu_after - cpu_before) as f64 / total as f64,
    }
}

/// SIGTERM and wait: a graceful stop.
fn stop(server: &mut Child) {
    let pid = server.id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    let _ = server.wait();
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

fn start(data: &Path, github: &str, env: &[(&str, &str)], stderr: Stdio) -> (Child, String) {
    let mut all = vec![
        ("ANDON_GITHUB_TOKEN", "bench-token"),
        ("ANDON_GITHUB_API_URL", github),
    ];
    all.extend_from_slice(env);
    start_serve(data, &all, stderr)
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
