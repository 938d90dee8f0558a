//! The scheduler's tick lateness with 1,000 schedules: how long after its
//! due instant each tick reaches the workers.
//!
//! This drives the real scheduler loop (`src/serve/scheduler.rs`, compiled
//! in here: `andon` is a binary crate) on a real sled store in a temporary
//! directory. The job sink is a channel whose receiver notes when each tick
//! arrives and finishes the ticks that arrived together in one store
//! transaction, as workers whose runs take no time would: plugins do not
//! run. The schedules use six-field
//! (seconds) expressions, which workflows cannot, so that 1,000 schedules
//! fire every five seconds and a round takes 30 s instead of hours.
//!
//! Two shapes, several rounds each, medians printed:
//! - burst: all 1,000 due at the same second (`*/5 * * * * *`);
//! - spread: 200 due each second (`{0..4}/5 * * * * *`).
//!
//! `SCHED_ROUNDS` (default 3) and `SCHED_SECONDS` (default 30) change the
//! rounds and their length.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use andon_core::run::Status;
use andon_core::schedule::{
    Origin, Policy, Report, ScheduleEntry, TickJob, TickResult, schedule_id,
};
use andon_store::{ScheduleStore, Store};
use tokio::sync::{Notify, mpsc};

#[path = "../src/serve/scheduler.rs"]
#[allow(
    dead_code,
    unused_imports,
    reason = "the benchmark drives the scheduler's loop, not every item the server uses; \
              under clippy --all-targets its unit tests compile here too, without the server"
)]
mod scheduler;

use scheduler::{Clock, Scheduler, SystemClock};

const SCHEDULES: usize = 1_000;
const REPOSITORIES: usize = 10;

#[derive(Debug, Clone, Copy)]
enum Shape {
    Burst,
    Spread,
}

impl Shape {
    fn name(self) -> &'static str {
        match self {
            Shape::Burst => "burst (1,000 due at once every 5 s)",
            Shape::Spread => "spread (200 due each second)",
        }
    }

    fn cron(self, index: usize) -> String {
        match self {
            Shape::Burst => "*/5 * * * * *".to_string(),
            Shape::Spread => format!("{}/5 * * * * *", index % 5),
        }
    }
}

/// One round's figures, in milliseconds.
#[derive(Debug, Clone, Copy)]
struct Round {
    ticks: usize,
    expected: usize,
    skipped: u64,
    p50: f64,
    p99: f64,
    max: f64,
}

fn entries(shape: Shape) -> Vec<Vec<ScheduleEntry>> {
    let mut by_repo = vec![Vec::new(); REPOSITORIES];
    for index in 0..SCHEDULES {
        let repository = format!("bench/repo{}", index % REPOSITORIES);
        let file = format!(".andon/workflows/w{index}.yml");
        by_repo[index % REPOSITORIES].push(ScheduleEntry {
            id: schedule_id(&repository, &file, 0),
            repository,
            workflow: format!("w{index}"),
            file,
            index: 0,
            cron: shape.cron(index),
            timezone: "UTC".into(),
            with_seconds: true,
            policy: Policy::DEFAULT,
            report: Report::default(),
            origin: Origin::Local {
                path: "/nowhere".into(),
            },
        });
    }
    by_repo
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p / 100.0 * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn round(shape: Shape, seconds: u64) -> Round {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = Store::open(dir.path()).expect("the store opens");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let start = clock.now_ms();
    for (index, batch) in entries(shape).iter().enumerate() {
        store
            .sync_schedules(&format!("bench/repo{index}"), "rev", batch, start)
            .expect("schedules registered");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let (jobs, mut received) = mpsc::unbounded_channel::<TickJob>();
    let wake = Arc::new(Notify::new());
    let stop = Arc::new(AtomicBool::new(false));
    let scheduler = Arc::new(Scheduler::new(
        store.clone(),
        clock.clone(),
        jobs,
        wake.clone(),
        stop.clone(),
    ));
    let mut lateness: Vec<f64> = runtime.block_on(async {
        let loop_task = tokio::spawn(scheduler.run());
        // The sink: note arrival, then finish the ticks in batches, as
        // workers would record their runs.
        let sink_store = store.clone();
        let sink_clock = clock.clone();
        let sink = tokio::spawn(async move {
            let mut lateness = Vec::new();
            while let Some(first) = received.recv().await {
                let mut batch = vec![first];
                while let Ok(job) = received.try_recv() {
                    batch.push(job);
                }
                let now = sink_clock.now_ms();
                for job in &batch {
                    lateness.push(now.saturating_sub(job.tick_ms) as f64);
                }
                let store = sink_store.clone();
                tokio::task::spawn_blocking(move || {
                    // One transaction for the batch that arrived together.
                    let by_id: HashMap<&str, &TickJob> =
                        batch.iter().map(|job| (job.id.as_str(), job)).collect();
                    let ids: Vec<String> = batch.iter().map(|job| job.id.clone()).collect();
                    let ran = TickResult::Ran {
                        run: 0,
                        status: Status::Success,
                    };
                    store
                        .update_schedules(&ids, |record| {
                            let job = by_id[record.entry.id.as_str()];
                            record.finish(job.tick_ms, job.attempt, &ran, now)
                        })
                        .expect("finished");
                })
                .await
                .expect("the sink's store task");
            }
            lateness
        });
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        stop.store(true, Ordering::Release);
        wake.notify_waiters();
        loop_task.await.expect("the scheduler loop");
        // The loop dropped its sender: the sink drains and ends.
        sink.await.expect("the sink")
    });
    let end = clock.now_ms();
    let skipped: u64 = store
        .schedules()
        .expect("schedules")
        .iter()
        .map(|record| record.state.skipped)
        .sum();
    let expected = usize::try_from((end.saturating_sub(start)) / 5_000).unwrap_or(0) * SCHEDULES;
    lateness.sort_by(f64::total_cmp);
    Round {
        ticks: lateness.len(),
        expected,
        skipped,
        p50: percentile(&lateness, 50.0),
        p99: percentile(&lateness, 99.0),
        max: lateness.last().copied().unwrap_or(f64::NAN),
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; a filter is not supported.
    let rounds = env("SCHED_ROUNDS", 3).max(1);
    let seconds = env("SCHED_SECONDS", 30).max(6);
    println!(
        "scheduler tick lateness: {SCHEDULES} schedules over {REPOSITORIES} repositories, real sled store on disk, \
         job sink = a channel that records arrival and finishes the tick (no plugins run); \
         {rounds} rounds of {seconds} s per shape"
    );
    for shape in [Shape::Burst, Shape::Spread] {
        let started = Instant::now();
        let results: Vec<Round> = (0..rounds).map(|_| round(shape, seconds)).collect();
        for (i, r) in results.iter().enumerate() {
            println!(
                "  {} round {}: {} ticks dispatched of ~{} due, {} skipped; lateness p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                shape.name(),
                i + 1,
                r.ticks,
                r.expected,
                r.skipped,
                r.p50,
                r.p99,
                r.max
            );
        }
        println!(
            "{}: median of {rounds} rounds: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (target p99 < 1000 ms) [{:.0} s]",
            shape.name(),
            median(results.iter().map(|r| r.p50).collect()),
            median(results.iter().map(|r| r.p99).collect()),
            median(results.iter().map(|r| r.max).collect()),
            started.elapsed().as_secs_f64()
        );
    }
}
