//! Prometheus metrics: what `andon serve` counts, and `GET /metrics`.
//!
//! The loops record into one [`Metrics`] as they go (deliveries at the
//! intake, runs and steps as they are committed, GitHub calls as they are
//! answered, ticks as the scheduler hands them out); the inbox and outbox
//! depths are read from the store at scrape time. Labels come from the
//! configuration (workflow and plugin names), from closed sets (reasons,
//! statuses, limits, effect kinds, route classes) or from GitHub's status
//! codes, so their number stays bounded.
//!
//! `ANDON_METRICS=off` turns recording into a branch on a boolean, to
//! measure what the metrics cost (the intake benchmark does).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use andon_core::run::{RunRecord, Status};
use andon_github::ApiCall;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use super::Shared;
use crate::activity::Activity;

/// The reasons the intake refuses or drops a delivery, as counted.
pub const REJECT_REASONS: [&str; 10] = [
    "unsigned",
    "bad_signature",
    "content_type",
    "no_event",
    "no_delivery",
    "bad_header",
    "malformed_json",
    "duplicate",
    "draining",
    "store_unavailable",
];

/// The OpenMetrics text format, which Prometheus asks for and reads.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunLabels {
    workflow: String,
    status: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PluginLabels {
    plugin: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabels {
    plugin: String,
    limit: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ApiLabels {
    /// The HTTP status, or `error` when no response came.
    status: String,
    route: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EffectLabels {
    effect: &'static str,
    outcome: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// [`RateRemaining`] before any response carried the header.
const RATE_UNKNOWN: u64 = u64::MAX;

/// `x-ratelimit-remaining` of the last GitHub response that had it: no
/// sample at all until one did, rather than a misleading 0.
#[derive(Debug, Clone)]
struct RateRemaining(Arc<AtomicU64>);

impl Default for RateRemaining {
    fn default() -> RateRemaining {
        RateRemaining(Arc::new(AtomicU64::new(RATE_UNKNOWN)))
    }
}

impl Collector for RateRemaining {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> std::fmt::Result {
        let remaining = self.0.load(Ordering::Relaxed);
        if remaining == RATE_UNKNOWN {
            return Ok(());
        }
        let gauge = ConstGauge::new(i64::try_from(remaining).unwrap_or(i64::MAX));
        let metric = encoder.encode_descriptor(
            "github_rate_limit_remaining",
            "x-ratelimit-remaining of the last GitHub response that carried it",
            None,
            gauge.metric_type(),
        )?;
        gauge.encode(metric)
    }
}

/// Every metric `andon serve` exposes, registered once.
pub struct Metrics {
    enabled: bool,
    registry: Registry,
    accepted: Counter,
    rejected: Family<ReasonLabels, Counter>,
    inbox_depth: Gauge,
    outbox_depth: Gauge,
    runs: Family<RunLabels, Counter>,
    step_duration: HistogramFamily<PluginLabels>,
    step_fuel: HistogramFamily<PluginLabels>,
    step_memory: HistogramFamily<PluginLabels>,
    limit_hits: Family<LimitLabels, Counter>,
    effects: Family<EffectLabels, Counter>,
    github_calls: Family<ApiLabels, Counter>,
    github_call_duration: Histogram,
    github_rate_remaining: RateRemaining,
    tick_lateness: Histogram,
    runs_in_progress: Gauge,
    /// The runs under way, counted at scrape time and listed by the
    /// dashboard.
    pub activity: Arc<Activity>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

fn duration_histogram() -> Histogram {
    // 1 ms to 10 min.
    Histogram::new([
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
        120.0, 300.0, 600.0,
    ])
}

fn fuel_histogram() -> Histogram {
    // 10^4 to 10^11 units of fuel.
    Histogram::new(exponential_buckets(1e4, 10.0, 8))
}

fn memory_histogram() -> Histogram {
    // 64 KiB (one wasm page) to 16 GiB.
    Histogram::new(exponential_buckets(65_536.0, 4.0, 10))
}

fn lateness_histogram() -> Histogram {
    Histogram::new([
        0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0,
    ])
}

fn api_duration_histogram() -> Histogram {
    Histogram::new([
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    ])
}

impl Metrics {
    /// The metrics, recording when `enabled`.
    pub fn new(enabled: bool) -> Metrics {
        let mut metrics = Metrics {
            enabled,
            registry: Registry::with_prefix("andon"),
            accepted: Counter::default(),
            rejected: Family::default(),
            inbox_depth: Gauge::default(),
            outbox_depth: Gauge::default(),
            runs: Family::default(),
            step_duration: Family::new_with_constructor(duration_histogram),
            step_fuel: Family::new_with_constructor(fuel_histogram),
            step_memory: Family::new_with_constructor(memory_histogram),
            limit_hits: Family::default(),
            effects: Family::default(),
            github_calls: Family::default(),
            github_call_duration: api_duration_histogram(),
            github_rate_remaining: RateRemaining::default(),
            tick_lateness: lateness_histogram(),
            runs_in_progress: Gauge::default(),
            activity: Arc::new(Activity::default()),
        };
        metrics.register();
        metrics
    }

    /// Metrics that record nothing (`andon replay`, `ANDON_METRICS=off`).
    pub fn disabled() -> Metrics {
        Metrics::new(false)
    }

    fn register(&mut self) {
        let r = &mut self.registry;
        r.register(
            "webhook_deliveries_accepted",
            "Webhook deliveries stored in the inbox and acknowledged with 202",
            self.accepted.clone(),
        );
        r.register(
            "webhook_deliveries_rejected",
            "Webhook deliveries refused or dropped at the intake, by reason",
            self.rejected.clone(),
        );
        r.register(
            "inbox_depth",
            "Deliveries in the inbox not yet processed (read at scrape time)",
            self.inbox_depth.clone(),
        );
        r.register(
            "outbox_depth",
            "Effects in the outbox not yet carried out (read at scrape time)",
            self.outbox_depth.clone(),
        );
        r.register(
            "runs",
            "Workflow runs recorded, by workflow and status",
            self.runs.clone(),
        );
        r.register(
            "runs_in_progress",
            "Workflow runs under way (read at scrape time)",
            self.runs_in_progress.clone(),
        );
        r.register_with_unit(
            "step_duration",
            "Wall time of plugin steps that ran, by plugin",
            Unit::Seconds,
            self.step_duration.clone(),
        );
        r.register(
            "step_fuel_consumed",
            "Fuel plugin steps consumed, by plugin (only when the engine meters fuel)",
            self.step_fuel.clone(),
        );
        r.register_with_unit(
            "step_memory_peak",
            "Peak linear memory of plugin steps, by plugin",
            Unit::Bytes,
            self.step_memory.clone(),
        );
        r.register(
            "step_limit_hits",
            "Plugin steps stopped by a limit (timeout, memory, fuel, output), by plugin and limit",
            self.limit_hits.clone(),
        );
        r.register(
            "outbox_effects",
            "Outbox effects attempted, by effect kind and outcome (done, failed, retry)",
            self.effects.clone(),
        );
        r.register(
            "github_api_calls",
            "Requests to the GitHub API, by HTTP status (`error` when no response came) and route class",
            self.github_calls.clone(),
        );
        r.register_with_unit(
            "github_api_call_duration",
            "Time from sending a GitHub API request to its response headers",
            Unit::Seconds,
            self.github_call_duration.clone(),
        );
        r.register_collector(Box::new(self.github_rate_remaining.clone()));
        r.register_with_unit(
            "scheduler_tick_lateness",
            "Time between a scheduled tick's due instant and its hand-over to the workers",
            Unit::Seconds,
            self.tick_lateness.clone(),
        );
    }

    pub fn accepted(&self) {
        if self.enabled {
            self.accepted.inc();
        }
    }

    /// `reason` is one of [`REJECT_REASONS`].
    pub fn rejected(&self, reason: &'static str) {
        if self.enabled {
            self.rejected.get_or_create(&ReasonLabels { reason }).inc();
        }
    }

    /// A run was recorded: count it, and its steps that ran.
    pub fn run_recorded(&self, run: &RunRecord) {
        if !self.enabled {
            return;
        }
        self.runs
            .get_or_create(&RunLabels {
                workflow: run.workflow.clone(),
                status: run.status.as_str(),
            })
            .inc();
        for step in &run.steps {
            if step.status == Status::Skipped {
                continue;
            }
            let plugin = PluginLabels {
                plugin: step.plugin.clone(),
            };
            self.step_duration
                .get_or_create(&plugin)
                .observe(step.duration_us as f64 / 1e6);
            if let Some(fuel) = step.fuel_used {
                self.step_fuel.get_or_create(&plugin).observe(fuel as f64);
            }
            if step.memory_peak > 0 {
                self.step_memory
                    .get_or_create(&plugin)
                    .observe(step.memory_peak as f64);
            }
            if let Some(limit) = step.error.as_deref().and_then(limit_hit) {
                self.limit_hits
                    .get_or_create(&LimitLabels {
                        plugin: plugin.plugin,
                        limit,
                    })
                    .inc();
            }
        }
    }

    /// An outbox effect was attempted; `outcome` is `done`, `failed` or
    /// `retry`.
    pub fn effect(&self, effect: &'static str, outcome: &'static str) {
        if self.enabled {
            self.effects
                .get_or_create(&EffectLabels { effect, outcome })
                .inc();
        }
    }

    /// GitHub answered (or did not).
    pub fn github_call(&self, call: &ApiCall) {
        if !self.enabled {
            return;
        }
        let status = call
            .status
            .map_or_else(|| "error".to_string(), |s| s.to_string());
        self.github_calls
            .get_or_create(&ApiLabels {
                status,
                route: call.route,
            })
            .inc();
        self.github_call_duration
            .observe(call.elapsed.as_secs_f64());
        if let Some(remaining) = call.rate_limit_remaining {
            self.github_rate_remaining
                .0
                .store(remaining.min(RATE_UNKNOWN - 1), Ordering::Relaxed);
        }
    }

    /// The scheduler handed out a tick this long after it was due.
    pub fn tick_dispatched(&self, lateness: Duration) {
        if self.enabled {
            self.tick_lateness.observe(lateness.as_secs_f64());
        }
    }

    /// The text exposition, with the store's depths as given.
    pub fn render(&self, inbox_depth: usize, outbox_depth: usize) -> String {
        let gauge = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        self.inbox_depth.set(gauge(inbox_depth));
        self.outbox_depth.set(gauge(outbox_depth));
        self.runs_in_progress.set(gauge(self.activity.count()));
        let mut text = String::new();
        if let Err(error) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            tracing::error!(%error, "cannot encode the metrics");
        }
        text
    }

    /// The intake's counters as JSON, for `/api/status`.
    pub fn snapshot(&self) -> serde_json::Value {
        let rejected: serde_json::Map<String, serde_json::Value> = REJECT_REASONS
            .iter()
            .filter_map(|reason| {
                let count = self.rejected.get(&ReasonLabels { reason })?.get();
                Some(((*reason).to_string(), count.into()))
            })
            .collect();
        serde_json::json!({
            "accepted": self.accepted.get(),
            "rejected": rejected,
        })
    }
}

/// The limit a step's error says it hit, if any: `timeout`, `memory`,
/// `fuel` or `output`.
pub fn limit_hit(error: &str) -> Option<&'static str> {
    andon_host::StepError::limit_in_message(error)
}

/// `GET /metrics`.
pub async fn scrape(State(shared): State<Arc<Shared>>) -> Response {
    let store = shared.store.clone();
    let depths = tokio::task::spawn_blocking(move || {
        use andon_store::{InboxStore, OutboxStore};
        Ok::<_, andon_store::StoreError>((store.inbox_depth()?, store.outbox_depth()?))
    })
    .await;
    let (inbox, outbox) = match depths {
        Ok(Ok(depths)) => depths,
        Ok(Err(error)) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("andon: cannot read the store: {error}\n"),
            )
                .into_response();
        }
        Err(error) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("andon: the metrics task failed: {error}\n"),
            )
                .into_response();
        }
    };
    (
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        shared.metrics.render(inbox, outbox),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use andon_core::event::{Event, EventKind};
    use andon_core::run::StepRecord;

    use super::*;

    fn step(plugin: &str, status: Status, error: Option<&str>) -> StepRecord {
        let mut step = StepRecord::not_run("s", plugin, status, "");
        step.error = error.map(str::to_string);
        step.duration_us = 1_500;
        step.memory_peak = 1 << 20;
        step.fuel_used = Some(50_000);
        step
    }

    fn run(workflow: &str, status: Status, steps: Vec<StepRecord>) -> RunRecord {
        RunRecord {
            id: 1,
            workflow: workflow.into(),
            event: Event::new(EventKind::PullRequest, "o/r", "abc"),
            started_at_ms: 0,
            duration_us: 2_000,
            status,
            steps,
            delivery: None,
        }
    }

    /// The sample lines of the exposition that start with `prefix`.
    fn lines(text: &str, prefix: &str) -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with(prefix))
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn runs_steps_and_limits_are_counted_by_their_labels() {
        let metrics = Metrics::new(true);
        let timeout = andon_host::StepError::Timeout {
            plugin: "size".into(),
            limit: Duration::from_secs(2),
        }
        .to_string();
        metrics.run_recorded(&run(
            "review",
            Status::Error,
            vec![
                step("size", Status::Error, Some(&timeout)),
                step("secret-scan", Status::Skipped, None),
            ],
        ));
        metrics.run_recorded(&run(
            "review",
            Status::Success,
            vec![step("size", Status::Success, None)],
        ));
        let text = metrics.render(3, 4);
        assert_eq!(lines(&text, "andon_runs_total").len(), 2, "{text}");
        assert!(text.contains(r#"andon_runs_total{workflow="review",status="error"} 1"#));
        assert!(text.contains(r#"andon_runs_total{workflow="review",status="success"} 1"#));
        assert!(text.contains(r#"andon_step_duration_seconds_count{plugin="size"} 2"#));
        // A skipped step did not run: no sample for it.
        assert!(!text.contains(r#"plugin="secret-scan""#), "{text}");
        assert!(text.contains(r#"andon_step_limit_hits_total{plugin="size",limit="timeout"} 1"#));
        assert!(text.contains(r#"andon_step_memory_peak_bytes_count{plugin="size"} 2"#));
        assert!(text.contains(r#"andon_step_fuel_consumed_count{plugin="size"} 2"#));
        assert!(text.contains("andon_inbox_depth 3"));
        assert!(text.contains("andon_outbox_depth 4"));
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn intake_counters_and_their_snapshot() {
        let metrics = Metrics::new(true);
        metrics.accepted();
        metrics.accepted();
        metrics.rejected("bad_signature");
        let text = metrics.render(0, 0);
        assert!(
            text.contains("andon_webhook_deliveries_accepted_total 2"),
            "{text}"
        );
        assert!(
            text.contains(r#"andon_webhook_deliveries_rejected_total{reason="bad_signature"} 1"#)
        );
        assert_eq!(
            metrics.snapshot(),
            serde_json::json!({ "accepted": 2, "rejected": { "bad_signature": 1 } })
        );
    }

    #[test]
    fn github_calls_by_status_and_the_rate_limit_once_known() {
        let metrics = Metrics::new(true);
        let call = |status, remaining| ApiCall {
            method: "GET",
            route: "pulls",
            status,
            rate_limit_remaining: remaining,
            elapsed: Duration::from_millis(3),
        };
        metrics.github_call(&call(None, None));
        assert!(
            !metrics
                .render(0, 0)
                .contains("andon_github_rate_limit_remaining ")
        );
        metrics.github_call(&call(Some(200), Some(4_999)));
        metrics.github_call(&call(Some(200), Some(4_998)));
        let text = metrics.render(0, 0);
        assert!(text.contains(r#"andon_github_api_calls_total{status="200",route="pulls"} 2"#));
        assert!(text.contains(r#"andon_github_api_calls_total{status="error",route="pulls"} 1"#));
        assert!(
            text.contains("andon_github_rate_limit_remaining 4998"),
            "{text}"
        );
        assert!(
            text.contains("andon_github_api_call_duration_seconds_count 3"),
            "{text}"
        );
    }

    #[test]
    fn off_records_nothing() {
        let metrics = Metrics::disabled();
        metrics.accepted();
        metrics.rejected("duplicate");
        metrics.tick_dispatched(Duration::from_millis(5));
        metrics.run_recorded(&run("w", Status::Success, vec![]));
        let text = metrics.render(0, 0);
        assert!(text.contains("andon_webhook_deliveries_accepted_total 0"));
        assert!(!text.contains("andon_runs_total{"));
        assert!(text.contains("andon_scheduler_tick_lateness_seconds_count 0"));
    }
}
