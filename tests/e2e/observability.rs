//! Observability end to end (issue 7): `/metrics`, `/healthz`, `/readyz`
//! and JSON logs of the real `andon serve`, against the fake GitHub.

use std::process::Command;
use std::time::Duration;

use andon_testkit::client::{Response, send_blocking};
use andon_testkit::webhook::Delivery;
use serde_json::Value;

use crate::server::{REPO, Server, github_with_pull, origin_with_review, pull_request};

const WAIT: Duration = Duration::from_secs(60);

fn get(url: &str, headers: &[(&str, &str)]) -> Response {
    send_blocking("GET", url, headers, Vec::new())
        .unwrap_or_else(|error| panic!("GET {url}: {error}"))
}

/// The value of the first sample of `name` whose labels include all of
/// `labels`, from an exposition in the text format.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.rsplit_once(' '))
        .find(|(series, _)| {
            let (series_name, series_labels) = series.split_once('{').unwrap_or((series, ""));
            series_name == name
                && labels
                    .iter()
                    .all(|(k, v)| series_labels.contains(&format!("{k}=\"{v}\"")))
        })
        .and_then(|(_, value)| value.parse().ok())
}

/// Every sample of `name` as `(labels, value)`.
fn samples(text: &str, name: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.rsplit_once(' '))
        .filter_map(|(series, value)| {
            let (series_name, labels) = series.split_once('{').unwrap_or((series, ""));
            (series_name == name).then(|| (labels.to_string(), value.parse().unwrap_or(f64::NAN)))
        })
        .collect()
}

#[test]
fn metrics_count_deliveries_runs_steps_and_github_calls_and_logs_are_json() {
    let (origin, base, head) = origin_with_review();
    let github = github_with_pull(7, &base, &head);
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(data.path(), &github.url(), &[("ANDON_LOG_FORMAT", "json")]);

    // One good delivery that runs the review workflow.
    let payload = pull_request("opened", &origin, 7, &base, &head);
    let (status, body) = server.post(&payload.delivery("obs-good-1"));
    assert_eq!(status, 202, "{body}");
    // One signed with another secret, one signed but not JSON.
    let (status, _) = payload
        .delivery("obs-bad-signature")
        .post(&server.webhook(), b"not-the-secret");
    assert_eq!(status, 401);
    let (status, _) = server.post(&Delivery::new("push", "obs-broken", b"{\"ref\": ".to_vec()));
    assert_eq!(status, 400);
    assert!(
        github.wait_for(
            |gh| gh
                .check_runs(REPO)
                .iter()
                .filter(|r| r.status == "completed")
                .count()
                >= 2,
            WAIT
        ),
        "no completed check runs:\n{}",
        server.log()
    );
    assert!(server.wait_idle(WAIT), "{}", server.log());

    // On loopback without a token, /metrics is open.
    let metrics = get(&format!("{}/metrics", server.url), &[]);
    assert_eq!(metrics.status, 200, "{}", metrics.text());
    assert!(
        metrics
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/openmetrics-text")),
        "{:?}",
        metrics.headers
    );
    let text = metrics.text();
    let value = |name: &str, labels: &[(&str, &str)]| {
        sample(&text, name, labels).unwrap_or_else(|| panic!("no {name} {labels:?} in:\n{text}"))
    };
    assert_eq!(value("andon_webhook_deliveries_accepted_total", &[]), 1.0);
    assert_eq!(
        value(
            "andon_webhook_deliveries_rejected_total",
            &[("reason", "bad_signature")]
        ),
        1.0
    );
    assert_eq!(
        value(
            "andon_webhook_deliveries_rejected_total",
            &[("reason", "malformed_json")]
        ),
        1.0
    );
    assert_eq!(
        value(
            "andon_runs_total",
            &[("workflow", "review"), ("status", "success")]
        ),
        1.0
    );
    for plugin in ["size", "secret-scan"] {
        assert_eq!(
            value("andon_step_duration_seconds_count", &[("plugin", plugin)]),
            1.0
        );
        assert!(value("andon_step_duration_seconds_sum", &[("plugin", plugin)]) > 0.0);
        assert_eq!(
            value("andon_step_memory_peak_bytes_count", &[("plugin", plugin)]),
            1.0
        );
    }
    assert_eq!(value("andon_inbox_depth", &[]), 0.0);
    assert_eq!(value("andon_outbox_depth", &[]), 0.0);
    // Every call the fake answered was counted, by status.
    let calls = samples(&text, "andon_github_api_calls_total");
    let ok: f64 = calls
        .iter()
        .filter(|(labels, _)| labels.contains("status=\"2"))
        .map(|(_, v)| v)
        .sum();
    let counted: f64 = calls.iter().map(|(_, v)| v).sum();
    assert!(ok >= 3.0, "{calls:?}");
    assert_eq!(counted, github.calls().len() as f64, "{calls:?}");
    assert!(
        calls
            .iter()
            .any(|(labels, _)| labels.contains("route=\"check-runs\"")),
        "{calls:?}"
    );
    let remaining = value("andon_github_rate_limit_remaining", &[]);
    assert!(remaining > 0.0 && remaining < 5000.0, "{remaining}");
    assert!(
        value(
            "andon_outbox_effects_total",
            &[("effect", "check-run-finish"), ("outcome", "done")]
        ) >= 1.0
    );
    // The scheduler's histogram is there, empty: no schedule ran.
    assert_eq!(
        value("andon_scheduler_tick_lateness_seconds_count", &[]),
        0.0
    );
    assert!(text.ends_with("# EOF\n"));

    // Health and readiness, no credentials needed.
    let health = get(&format!("{}/healthz", server.url), &[]);
    assert_eq!((health.status, health.text().as_str()), (200, "ok"));
    let ready = get(&format!("{}/readyz", server.url), &[]);
    assert_eq!(ready.status, 200, "{}", ready.text());

    // The log is JSON, one object per line; the lines logged while a step
    // ran carry the delivery, the repository, the workflow and the plugin
    // in their spans.
    let log = server.log();
    let lines: Vec<Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.len() > 5, "{log}");
    let in_step = lines.iter().find(|line| {
        let spans = line["spans"].as_array().cloned().unwrap_or_default();
        let field = |span: &str, key: &str| {
            spans
                .iter()
                .find(|s| s["name"] == span)
                .and_then(|s| s.get(key).cloned())
        };
        field("delivery", "delivery") == Some("obs-good-1".into())
            && field("delivery", "repository") == Some(REPO.into())
            && field("delivery", "pr") == Some(7.into())
            && field("run", "workflow") == Some("review".into())
            && field("step", "plugin").is_some()
    });
    let outbox = lines.iter().any(|line| {
        line["span"]["name"] == "outbox"
            && line["span"]["repository"] == REPO
            && line["span"]["effect"].is_string()
    });
    assert!(
        in_step.is_some(),
        "no line within a step span with the delivery, repository and workflow:\n{log}"
    );
    assert!(outbox, "no line within an outbox span:\n{log}");
    let recorded = lines
        .iter()
        .find(|line| line["fields"]["message"] == "run recorded")
        .unwrap_or_else(|| panic!("no `run recorded` line:\n{log}"));
    assert!(recorded["span"]["run_id"].as_u64().is_some(), "{recorded}");
    assert_eq!(recorded["span"]["workflow"], "review", "{recorded}");
}

#[test]
fn metrics_need_the_token_off_loopback_and_health_does_not() {
    let github = andon_testkit::github::FakeGitHub::start();
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(
        data.path(),
        &github.url(),
        &[
            ("ANDON_LISTEN", "0.0.0.0:0"),
            ("ANDON_DASHBOARD_TOKEN", "obs-token"),
        ],
    );
    let url = server.url.replace("0.0.0.0", "127.0.0.1");
    let metrics = format!("{url}/metrics");
    let refused = get(&metrics, &[]);
    assert_eq!(refused.status, 401, "{}", refused.text());
    let wrong = get(&metrics, &[("authorization", "Bearer not-it")]);
    assert_eq!(wrong.status, 401);
    let allowed = get(&metrics, &[("authorization", "Bearer obs-token")]);
    assert_eq!(allowed.status, 200, "{}", allowed.text());
    assert!(
        allowed
            .text()
            .contains("andon_webhook_deliveries_accepted_total 0")
    );
    assert_eq!(get(&format!("{url}/healthz"), &[]).status, 200);
    let ready = get(&format!("{url}/readyz"), &[]);
    assert_eq!(ready.status, 200, "{}", ready.text());
    assert!(
        !server.log().contains("obs-token"),
        "the token reached the log"
    );
}

#[test]
fn an_unknown_log_format_is_refused_at_start() {
    let data = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_andon"))
        .arg("serve")
        .env("ANDON_DATA_DIR", data.path())
        .env("ANDON_LISTEN", "127.0.0.1:0")
        .env("ANDON_WEBHOOK_SECRET", "s")
        .env("ANDON_LOG_FORMAT", "yaml")
        .env_remove("ANDON_GITHUB_TOKEN")
        .output()
        .expect("run andon serve");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    for expected in ["ANDON_LOG_FORMAT", "yaml", "`text`", "`json`"] {
        assert!(stderr.contains(expected), "{expected}: {stderr}");
    }
    assert!(
        !data.path().join("serve.json").exists(),
        "the server started anyway"
    );
}
