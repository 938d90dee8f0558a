//! A webhook load generator: `connections` keep-alive HTTP/1.1 connections
//! post signed deliveries with unique ids until `total` have been sent, and
//! the report says how many were acknowledged, how fast, and which.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;

use crate::client::Connection;
use crate::webhook::sign;

/// What to send, where, and how much.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// The webhook endpoint, e.g. `http://127.0.0.1:8080/webhook`.
    pub url: String,
    pub secret: Vec<u8>,
    /// The `X-GitHub-Event` of every delivery.
    pub event: String,
    /// The body of every delivery (only the delivery id differs).
    pub payload: Vec<u8>,
    /// Concurrent connections, each sending one request at a time.
    pub connections: usize,
    /// Deliveries to send in all.
    pub total: usize,
    /// Delivery ids are `{id_prefix}-{n}` for n in `0..total`.
    pub id_prefix: String,
}

impl LoadConfig {
    /// 64 connections, 10,000 deliveries, ids `load-{n}`.
    pub fn new(url: &str, secret: &[u8], event: &str, payload: Vec<u8>) -> LoadConfig {
        LoadConfig {
            url: url.to_owned(),
            secret: secret.to_vec(),
            event: event.to_owned(),
            payload,
            connections: 64,
            total: 10_000,
            id_prefix: "load".to_owned(),
        }
    }
}

/// What happened.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    /// Requests attempted.
    pub sent: usize,
    pub acked_2xx: usize,
    /// Answers outside 2xx, by status.
    pub non_2xx: BTreeMap<u16, usize>,
    /// Requests without an answer (connection refused, reset, ...).
    pub errors: usize,
    pub elapsed: Duration,
    /// The latency of every answered request, sorted.
    pub latencies: Vec<Duration>,
    /// The delivery ids answered with a 2xx, sorted.
    pub acked_ids: Vec<String>,
}

impl LoadReport {
    pub fn p50(&self) -> Duration {
        self.percentile(0.50)
    }

    pub fn p99(&self) -> Duration {
        self.percentile(0.99)
    }

    /// The latency below which a fraction `q` (0..=1) of answers fell
    /// (nearest rank); zero without answers.
    pub fn percentile(&self, q: f64) -> Duration {
        let Some(last) = self.latencies.len().checked_sub(1) else {
            return Duration::ZERO;
        };
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss,
            reason = "a rank within a vector's length"
        )]
        let rank = (q.clamp(0.0, 1.0) * last as f64).round() as usize;
        self.latencies[rank]
    }

    /// Acknowledged deliveries per second.
    pub fn per_second(&self) -> f64 {
        #[expect(clippy::cast_precision_loss, reason = "a rate, not a count")]
        let acked = self.acked_2xx as f64;
        acked / self.elapsed.as_secs_f64().max(f64::MIN_POSITIVE)
    }
}

/// Send the load and wait for every answer. Runs on the caller's runtime
/// (a multi-threaded one uses all its workers).
pub async fn run(config: LoadConfig) -> LoadReport {
    let shared = Arc::new(Shared {
        next: AtomicUsize::new(0),
        signature: sign(&config.secret, &config.payload),
        payload: Bytes::from(config.payload.clone()),
        config,
    });
    let started = Instant::now();
    let tasks: Vec<_> = (0..shared.config.connections.max(1))
        .map(|_| tokio::spawn(connection_loop(Arc::clone(&shared))))
        .collect();
    let mut report = LoadReport::default();
    for task in tasks {
        let part = task.await.expect("a load connection task does not panic");
        report.sent += part.sent;
        report.acked_2xx += part.acked_2xx;
        report.errors += part.errors;
        for (status, count) in part.non_2xx {
            *report.non_2xx.entry(status).or_default() += count;
        }
        report.latencies.extend(part.latencies);
        report.acked_ids.extend(part.acked_ids);
    }
    report.elapsed = started.elapsed();
    report.latencies.sort_unstable();
    report.acked_ids.sort_unstable();
    report
}

struct Shared {
    config: LoadConfig,
    next: AtomicUsize,
    signature: String,
    payload: Bytes,
}

/// One connection's share: take the next delivery number until none is
/// left; reconnect after a failed request.
async fn connection_loop(shared: Arc<Shared>) -> LoadReport {
    let config = &shared.config;
    let mut part = LoadReport::default();
    let mut connection = None;
    loop {
        let n = shared.next.fetch_add(1, Ordering::Relaxed);
        if n >= config.total {
            return part;
        }
        let id = format!("{}-{n}", config.id_prefix);
        let headers = [
            ("content-type", "application/json"),
            ("user-agent", "GitHub-Hookshot/test"),
            ("x-github-event", config.event.as_str()),
            ("x-github-delivery", id.as_str()),
            ("x-hub-signature-256", shared.signature.as_str()),
        ];
        part.sent += 1;
        if connection.as_ref().is_some_and(Connection::is_closed) {
            connection = None;
        }
        let started = Instant::now();
        let answer = match connection.as_mut() {
            Some(open) => Ok(open),
            None => Connection::open(&config.url)
                .await
                .map(|open| connection.insert(open)),
        };
        let answer = match answer {
            Ok(open) => {
                open.send("POST", &config.url, &headers, shared.payload.clone())
                    .await
            }
            Err(error) => Err(error),
        };
        match answer {
            Ok(response) => {
                part.latencies.push(started.elapsed());
                if (200..300).contains(&response.status) {
                    part.acked_2xx += 1;
                    part.acked_ids.push(id);
                } else {
                    *part.non_2xx.entry(response.status).or_default() += 1;
                }
            }
            Err(_) => {
                part.errors += 1;
                connection = None;
            }
        }
    }
}
