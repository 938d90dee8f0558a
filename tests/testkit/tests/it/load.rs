//! The load generator against a tiny signature-checking receiver.

use std::collections::HashSet;

use andon_testkit::load::{LoadConfig, run};
use andon_testkit::webhook::Payload;

use super::Receiver;

const SECRET: &[u8] = b"load-secret";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_connections_lose_nothing() {
    let receiver = Receiver::start(SECRET);
    let payload = Payload::fixture("pull_request", "opened.payload.json").to_bytes();
    let mut config = LoadConfig::new(&receiver.url, SECRET, "pull_request", payload);
    config.total = 4_000;
    config.id_prefix = "bench".to_owned();
    assert_eq!(config.connections, 64);
    let report = run(config).await;

    assert_eq!(report.sent, 4_000);
    assert_eq!(report.acked_2xx, 4_000, "{:?}", report.non_2xx);
    assert_eq!(report.errors, 0);
    assert!(report.non_2xx.is_empty());
    assert_eq!(report.latencies.len(), 4_000);
    assert!(report.p50() <= report.p99());
    assert!(report.per_second() > 0.0);

    let expected: HashSet<String> = (0..4_000).map(|n| format!("bench-{n}")).collect();
    let acked: HashSet<String> = report.acked_ids.iter().cloned().collect();
    assert_eq!(acked, expected);
    let received = receiver.received();
    assert_eq!(received.len(), 4_000);
    let received: HashSet<String> = received.into_iter().map(|r| r.id).collect();
    assert_eq!(received, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejections_and_errors_are_counted() {
    let receiver = Receiver::start(SECRET);
    let mut config = LoadConfig::new(&receiver.url, b"wrong", "ping", b"{}".to_vec());
    config.connections = 4;
    config.total = 40;
    let report = run(config.clone()).await;
    assert_eq!(report.acked_2xx, 0);
    assert_eq!(report.non_2xx.get(&401), Some(&40));
    assert!(report.acked_ids.is_empty());

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    config.url = format!("http://{}/webhook", closed.local_addr().unwrap());
    drop(closed);
    let report = run(config).await;
    assert_eq!(report.sent, 40);
    assert_eq!(report.errors, 40);
    assert!(report.latencies.is_empty());
    assert_eq!(report.p99(), std::time::Duration::ZERO);
}

#[test]
fn percentiles_use_the_nearest_rank() {
    use andon_testkit::load::LoadReport;
    use std::time::Duration;
    let report = LoadReport {
        acked_2xx: 100,
        elapsed: Duration::from_secs(2),
        latencies: (1..=100).map(Duration::from_millis).collect(),
        ..LoadReport::default()
    };
    assert_eq!(report.p50(), Duration::from_millis(51));
    assert_eq!(report.p99(), Duration::from_millis(99));
    assert_eq!(report.percentile(1.0), Duration::from_millis(100));
    assert!((report.per_second() - 50.0).abs() < 1e-9);
}
