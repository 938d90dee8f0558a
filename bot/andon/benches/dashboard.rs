//! The dashboard's pages with 100,000 runs in the store (issue 7): median
//! and p99 time of each page, against the 50 ms target, in two passes over
//! the same store and the same URLs:
//!
//! - **in process**: the render time of the page functions alone;
//! - **over HTTP**: `andon serve` started on the filled data directory and
//!   asked for each page on one keep-alive loopback connection, the whole
//!   answer read: routing, the access check, the thread hop to the
//!   blocking pool, the headers and the transfer, as a browser sees it.
//!
//! The pages are the real ones (`src/serve/dashboard/pages.rs` and
//! `chart.rs`, compiled in here: `andon` is a binary crate, and the pages
//! take a store and a query, not axum types), rendered in process against a
//! real sled store in a temporary directory. The store is filled through
//! the store's own write paths: 1,000 deliveries committed with their run
//! and outbox effects (`commit_delivery`), the other runs in batches of
//! 1,000 (`record_runs`, one transaction and one flush per batch), 50
//! schedules, and a model registry index of 5 models.
//!
//! The mix: 10 repositories, 20 workflows (one of them rare: 1 run in
//! 1,000), statuses 80% success, 12% failure, 5% error, 3% skipped, one to
//! four steps with a few hundred bytes of log each, and 1% data-check runs
//! over 4 datasets (their `summary` and `results` outputs).
//!
//! `DASH_RUNS` (default 100000) and `DASH_ITERS` (default 200) change the
//! size and the number of renders per page; `DASH_DUMP=DIR` also writes
//! each page's HTML there, to look at.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use andon_core::action::{Action, CheckRun, Conclusion};
use andon_core::effect::{Effect, PlannedEffect};
use andon_core::event::{Event, EventKind};
use andon_core::registry::IndexedTag;
use andon_core::run::{RunRecord, Status, StepRecord};
use andon_core::schedule::{Origin, Policy, Report, ScheduleEntry, schedule_id};
use andon_store::{
    InboxStore, NewDelivery, OutboxStore, RegistryIndex, RunStore, ScheduleStore, Store,
};
use andon_testkit::client::Connection;
use serde_json::json;
#[path = "support/serve.rs"]
mod support_serve;
use support_serve::{cpu_us, start_serve};

#[path = "../src/activity.rs"]
#[allow(
    dead_code,
    reason = "the pages read runs under way; only the server tracks them"
)]
mod activity;
#[path = "../src/serve/dashboard/chart.rs"]
mod chart;
#[path = "../src/serve/dashboard/pages.rs"]
#[allow(
    dead_code,
    reason = "the benchmark renders the pages, not every helper the server uses"
)]
mod pages;

const REPOSITORIES: usize = 10;
const WORKFLOWS: usize = 20;
const DATASETS: [&str; 4] = [
    "data/orders.csv",
    "data/users.csv",
    "data/events.jsonl",
    "data/payments.csv",
];
const TARGET: Duration = Duration::from_millis(50);
const START_MS: u64 = 1_760_000_000_000;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn repository(i: usize) -> String {
    format!("acme/repo-{}", i % REPOSITORIES)
}

/// Workflow 19 is rare: one run in 1,000.
fn workflow(i: usize) -> String {
    if i % 1000 == 500 {
        "rare-audit".to_string()
    } else {
        format!("workflow-{:02}", (i * 7) % (WORKFLOWS - 1))
    }
}

fn status(i: usize) -> Status {
    match (i * 31) % 100 {
        0..80 => Status::Success,
        80..92 => Status::Failure,
        92..97 => Status::Error,
        _ => Status::Skipped,
    }
}

fn step(i: usize, n: usize, status: Status) -> StepRecord {
    let mut step = StepRecord::not_run(format!("step-{n}"), "size", status, "");
    step.error = (status == Status::Error).then(|| "fuel exhausted after 1000000 units".into());
    step.duration_us = 200 + ((i * 13 + n * 101) % 50_000) as u64;
    step.fuel_used = Some(100_000 + (i as u64 % 9_000));
    step.memory_peak = 1_114_112;
    step.log = format!(
        "info: reading 42 changed files at {i:x}\ninfo: size/M: 120 lines added, 30 removed\nwarn: <generated> files skipped: Cargo.lock, package-lock.json\n{}",
        "info: scanned src/lib.rs\n".repeat(8)
    );
    step.actions = vec![Action::CheckRun(CheckRun {
        name: format!("andon: step-{n}"),
        conclusion: Conclusion::Success,
        title: "ok".into(),
        summary: "All good".into(),
        text: None,
        annotations: Vec::new(),
    })];
    step
}

fn check_step(i: usize) -> StepRecord {
    let mut step = StepRecord::not_run("orders", "data-check", Status::Success, "");
    step.error = None;
    step.duration_us = 30_000;
    let rows = 10_000 + (i % 997) as u64;
    step.outputs.insert(
        "summary".into(),
        json!({"dataset": DATASETS[(i / 100) % DATASETS.len()], "rows": rows, "ragged_rows": 0,
               "checks": 4, "passed": 3, "warned": 0, "failed": 1}),
    );
    step.outputs.insert(
        "results".into(),
        json!([
            {"check": "row_count", "status": "pass", "failed_count": 0, "failed_percent": 0.0, "observed": rows},
            {"check": "not_null", "column": "email", "status": "pass", "failed_count": 0, "failed_percent": 0.0},
            {"check": "unique", "column": "id", "status": "pass", "failed_count": 0, "failed_percent": 0.0},
            {"check": "range", "column": "amount", "status": "fail", "failed_count": i % 50, "failed_percent": (i % 50) as f64 / 100.0}
        ]),
    );
    step
}

fn run(i: usize) -> RunRecord {
    let status = status(i);
    let mut event = Event::new(EventKind::PullRequest, repository(i), format!("{i:040x}"));
    event.number = Some(1 + (i % 500) as u64);
    event.author = Some("octocat".into());
    event.branch = Some("main".into());
    event.title = Some(format!("Change number {i}"));
    let mut steps: Vec<StepRecord> = (0..1 + i % 4).map(|n| step(i, n, status)).collect();
    if i % 100 == 7 {
        steps.push(check_step(i));
    }
    RunRecord {
        id: 0,
        workflow: workflow(i),
        event,
        started_at_ms: START_MS + i as u64 * 30_000,
        duration_us: steps.iter().map(|s| s.duration_us).sum(),
        status,
        steps,
        delivery: None,
    }
}

fn effect(i: usize, n: usize) -> PlannedEffect {
    PlannedEffect {
        key: format!("bench/{i}/{n}"),
        repository: repository(i),
        installation: None,
        effect: Effect::StickyComment {
            number: 1 + (i % 500) as u64,
            marker: format!("andon:{n}"),
            body: format!("Run {i} says hello"),
        },
    }
}

fn fill(store: &Store, count: usize) {
    let started = Instant::now();
    let committed = 1_000.min(count);
    let mut batch = Vec::with_capacity(1_000);
    for i in 0..count {
        if i % (count / committed).max(1) == 0 && i / (count / committed).max(1) < committed {
            if !batch.is_empty() {
                store.record_runs(&mut batch).expect("record runs");
                batch.clear();
            }
            commit_delivery(store, i);
            continue;
        }
        batch.push(run(i));
        if batch.len() == 1_000 {
            store.record_runs(&mut batch).expect("record runs");
            batch.clear();
        }
    }
    if !batch.is_empty() {
        store.record_runs(&mut batch).expect("record runs");
    }
    fill_schedules(store);
    fill_registry(store);
    println!(
        "filled {count} runs, {committed} deliveries, 50 schedules, 5 models in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

fn commit_delivery(store: &Store, i: usize) {
    let accepted = store
        .accept(&NewDelivery {
            id: format!("delivery-{i}"),
            event: "pull_request".into(),
            received_at_ms: START_MS + i as u64 * 30_000,
            body: vec![b'{'; 64],
        })
        .expect("accept");
    let effects = vec![(Some(0), effect(i, 0)), (Some(0), effect(i, 1))];
    store
        .commit_delivery(accepted.seq(), &mut [run(i)], &[], &effects, START_MS)
        .expect("commit delivery");
    // Half the effects carried out, some refused.
    let items = store.outbox_pending(2).expect("outbox");
    if let Some(item) = items.first() {
        let outcome = if i.is_multiple_of(10) {
            andon_core::effect::EffectOutcome::Failed {
                error: "422 Unprocessable Entity".into(),
            }
        } else {
            andon_core::effect::EffectOutcome::Done {
                detail: "created comment 12".into(),
            }
        };
        store.outbox_finish(item.seq, &outcome, 1).expect("finish");
    }
}

fn fill_schedules(store: &Store) {
    for r in 0..REPOSITORIES {
        let repository = repository(r);
        let entries: Vec<ScheduleEntry> = (0..5)
            .map(|n| {
                let file = format!(".andon/workflows/nightly-{n}.yml");
                ScheduleEntry {
                    id: schedule_id(&repository, &file, 0),
                    repository: repository.clone(),
                    workflow: format!("nightly-{n}"),
                    file,
                    index: 0,
                    cron: format!("{n} 3 * * *"),
                    timezone: "Europe/Paris".into(),
                    with_seconds: false,
                    policy: Policy::DEFAULT,
                    report: Report::default(),
                    origin: Origin::Local {
                        path: "/nowhere".into(),
                    },
                }
            })
            .collect();
        store
            // Synced now, so that no tick falls due (and runs) while the
            // server is measured.
            .sync_schedules(&repository, "abc", &entries, now_ms())
            .expect("schedules");
    }
}

fn fill_registry(store: &Store) {
    for m in 0..5 {
        for v in 0..20 {
            let tag = |name: String, time: i64| IndexedTag {
                name,
                target: format!("{:040x}", m * 100 + v),
                commit: format!("{:040x}", m * 1000 + v),
                time,
                author: "andon-bot".into(),
                author_email: "bot@example.com".into(),
                message: format!(
                    "Registering\n\nAndon-Path: models/m{m}.pkl\nAndon-Run: {}\nAndon-Workflow: model-release\n",
                    v * 10 + 1
                ),
            };
            let base = 1_760_000_000 + v * 3600;
            store
                .registry_put("acme/repo-0", &tag(format!("model-{m}@v0.{v}.0"), base))
                .expect("registry");
            if v % 5 == 4 {
                let stage = if v == 19 { "prod" } else { "staging" };
                store
                    .registry_put(
                        "acme/repo-0",
                        &tag(format!("model-{m}#{stage}#{}", v + 1), base + 60),
                    )
                    .expect("registry");
            }
        }
    }
}

/// One page of the list both passes measure: a name for the report and the
/// URL, path and query, as a browser asks for it.
struct Target {
    name: &'static str,
    url: String,
}

fn targets(detail: u64, count: usize) -> Vec<Target> {
    let target = |name, url: &str| Target {
        name,
        url: url.to_string(),
    };
    vec![
        target("/ (newest 50)", "/"),
        target("/?repository=", "/?repository=acme/repo-3"),
        target("/?workflow=", "/?workflow=workflow-05"),
        target("/?status=error", "/?status=error"),
        target("/?workflow=rare (1 in 1000)", "/?workflow=rare-audit"),
        target(
            "/?repo&workflow&status",
            "/?repository=acme/repo-3&workflow=workflow-05&status=failure",
        ),
        target(
            "/?repo&rare workflow (no match)",
            "/?repository=acme/repo-1&workflow=rare-audit",
        ),
        target(
            "/?before= (page 2, mid-store)",
            &format!("/?before={}", count / 2),
        ),
        target("/runs/{id}", &format!("/runs/{detail}")),
        target("/runs/{id} with outbox", "/runs/1"),
        target("/schedules", "/schedules"),
        target("/data", "/data"),
        target(
            "/data?dataset= (200 points)",
            "/data?dataset=data/orders.csv&repository=acme/repo-7",
        ),
        target("/models", "/models"),
        target("/inbox", "/inbox"),
    ]
}

/// Render a URL with the page functions, routed as the server routes it
/// (`src/serve/dashboard/mod.rs`). The bench's URLs need no decoding.
fn render(store: &Store, url: &str) -> pages::Page {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let params: pages::Params = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect::<HashMap<_, _>>();
    match path {
        "/" => pages::runs(store, &params, &[]),
        "/schedules" => pages::schedules(store),
        "/data" => pages::data(store, &params),
        "/models" => pages::models(store),
        "/inbox" => pages::inbox(store, &params),
        _ => match path.strip_prefix("/runs/") {
            Some(id) => pages::run(store, id),
            None => panic!("the bench asks for an unknown page {url}"),
        },
    }
}

/// Time `iters` calls of `fetch`, which answers a status and a page, and
/// print the median and p99 against the target.
fn measure(name: &str, iters: usize, mut fetch: impl FnMut() -> (u16, String)) {
    let (status, first) = fetch();
    assert_eq!(status, 200, "{name}: {first}");
    if let Some(dir) = std::env::var_os("DASH_DUMP") {
        let file: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let path = Path::new(&dir).join(format!("{file}.html"));
        std::fs::write(&path, &first).expect("write the page");
    }
    let mut times: Vec<Duration> = (0..iters)
        .map(|_| {
            let started = Instant::now();
            let page = fetch();
            let elapsed = started.elapsed();
            assert_eq!(page.0, 200, "{name}");
            std::hint::black_box(page);
            elapsed
        })
        .collect();
    times.sort();
    let median = times[times.len() / 2];
    let p99 = times[(times.len() * 99 / 100).min(times.len() - 1)];
    let mark = if p99 > TARGET { "  OVER 50 ms" } else { "" };
    println!(
        "{name:<34} median {:>8.3} ms   p99 {:>8.3} ms   {:>7} bytes{mark}",
        median.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        first.len()
    );
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Wait until the server has finished starting (it compiles the bundled
/// plugins into a fresh cache): until it uses no CPU for half a second,
/// at most two minutes.
fn wait_quiet(pid: u32) {
    let started = Instant::now();
    let mut last = cpu_us(pid);
    while started.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(500));
        let now = cpu_us(pid);
        if now.is_some() && now == last {
            break;
        }
        last = now;
    }
    println!(
        "andon serve quiet after {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

fn main() {
    let count = env_usize("DASH_RUNS", 100_000);
    let iters = env_usize("DASH_ITERS", 200);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("store")).expect("open store");
    fill(&store, count);
    // The lineage index is built on first read, once: not a page's cost.
    let warm = Instant::now();
    pages::models(&store);
    println!(
        "first /models (indexes artifacts once): {:.1} ms",
        warm.elapsed().as_secs_f64() * 1e3
    );
    let detail = store
        .runs(&andon_store::RunQuery::default())
        .expect("runs")
        .first()
        .map_or(1, |r| r.id);
    let targets = targets(detail, count);

    println!("\nin process: the page functions, {count} runs, {iters} renders per page");
    for target in &targets {
        measure(target.name, iters, || {
            let page = render(&store, &target.url);
            (page.status, page.html)
        });
    }
    drop(store);

    // The same pages as a browser gets them: `andon serve` on the same
    // store, one keep-alive connection, the whole answer read each time.
    // No GitHub credentials: nothing leaves the machine.
    let (mut server, base) = start_serve(dir.path(), &[("ANDON_LOG", "error")], Stdio::inherit());
    wait_quiet(server.id());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut connection = runtime
        .block_on(Connection::open(&base))
        .expect("connect to andon serve");
    println!("\nover HTTP: andon serve on loopback, {iters} requests per page");
    for target in &targets {
        measure(target.name, iters, || {
            let response = runtime
                .block_on(connection.send("GET", &target.url, &[], Vec::new()))
                .expect("GET a page");
            (response.status, response.text())
        });
    }
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
}
