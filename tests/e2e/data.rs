//! The data-quality gate: `workflows/data-quality.yml` runs the `data-check`
//! plugin over a generated orders CSV in a real repository, and its counts
//! must equal the native baseline's on the same bytes.

use std::time::{SystemTime, UNIX_EPOCH};

use andon_datagen::native::{self, Checks, Report};
use andon_datagen::orders::{self, Spec};
use serde_json::Value;

use crate::support::{TestRepo, assert_contains, project_root};

const ROWS: u64 = 5_000;

fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).expect("in range"))
}

/// A repository whose second commit adds `data/orders.csv` (5,000 rows with
/// errors, timestamps relative to today 00:00 UTC) and the example suite.
fn orders_repo() -> (TestRepo, Vec<u8>) {
    let repo = TestRepo::new();
    repo.write("README.md", "orders\n");
    repo.commit_all("base");
    let today = now_micros() / 1_000_000 / 86_400 * 86_400;
    let (csv, _) = orders::orders_csv(&Spec::new(ROWS, today));
    repo.write("data/orders.csv", &csv);
    repo.write(
        "checks/orders.yml",
        std::fs::read(project_root().join("plugins/data-check/examples/orders.yml"))
            .expect("example suite"),
    );
    repo.commit_all("orders");
    (repo, csv)
}

fn workflow() -> std::path::PathBuf {
    project_root().join("workflows/data-quality.yml")
}

/// The step's `results` output.
fn results(json: &Value) -> &Vec<Value> {
    json["steps"][0]["outputs"]["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results output: {json:#}"))
}

fn assert_matches_native(results: &[Value], native: &Report) {
    for expected in &native.results {
        let got = results
            .iter()
            .find(|r| {
                r["check"] == expected.check && r["column"].as_str() == expected.column.as_deref()
            })
            .unwrap_or_else(|| panic!("no result for {expected:?}"));
        assert_eq!(
            (got["status"].as_str(), got["failed_count"].as_u64()),
            (Some(expected.status), Some(expected.failed_count)),
            "{} on {:?}: {got:#}",
            expected.check,
            expected.column
        );
    }
}

#[test]
fn the_data_quality_gate_counts_what_the_native_baseline_counts() {
    let (repo, csv) = orders_repo();
    let (code, json) = repo.run_json(&workflow(), &[]);
    let native = native::check_bytes(&csv, &Checks::issue(), now_micros()).expect("baseline");
    assert_eq!(code, 1, "injected errors fail the gate: {json:#}");
    assert_eq!(json["status"], "failure");
    let step = &json["steps"][0];
    assert_eq!(step["plugin"], "data-check", "{json:#}");
    assert_eq!(step["status"], "failure", "{json:#}");

    let results = results(&json);
    assert_eq!(results.len(), 13, "{json:#}");
    assert_matches_native(results, &native);
    // Every kind of injected error was found.
    for r in &results[1..7] {
        assert!(r["failed_count"].as_u64() > Some(0), "{r:#}");
        let samples = r["samples"].as_array().expect("samples");
        assert!(!samples.is_empty() && samples.len() <= 20, "{r:#}");
        assert!(samples.iter().all(|s| s["row"].as_u64().is_some()), "{r:#}");
    }
    // The rest of the example suite passes on clean columns.
    for r in &results[7..] {
        assert_eq!(r["status"], "pass", "{r:#}");
    }
    assert_eq!(results[0]["observed"]["rows"], ROWS);

    let check_run = json["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .find(|a| a["kind"] == "check-run")
        .unwrap_or_else(|| panic!("no check run: {json:#}"));
    assert_eq!(check_run["name"], "data-check: orders");
    assert_eq!(check_run["conclusion"], "failure");
    assert_contains(
        check_run["summary"].as_str().expect("summary"),
        &[
            "`data/orders.csv`: 5,000 rows, 13 checks.",
            "| ❌ | `unique` | `id` |",
            "| ✅ | `row_count` |",
        ],
    );
    assert_contains(
        check_run["title"].as_str().expect("title"),
        &["5 of 13 checks failed"],
    );
    // A pull request compares row counts but records none.
    assert!(
        !json["actions"]
            .as_array()
            .expect("actions")
            .iter()
            .any(|a| a["kind"] == "kv-set"),
        "{json:#}"
    );
}

#[test]
fn a_clean_dataset_passes_and_a_bad_suite_is_a_clear_error() {
    let repo = TestRepo::new();
    repo.write("README.md", "orders\n");
    repo.commit_all("base");
    let today = now_micros() / 1_000_000 / 86_400 * 86_400;
    let mut csv = b"id,email,ts\n".to_vec();
    for id in 1..=150 {
        csv.extend_from_slice(format!("{id},user{id}@example.com,").as_bytes());
        andon_datagen::time::write_timestamp(&mut csv, today - id);
        csv.push(b'\n');
    }
    repo.write("data/orders.csv", &csv);
    repo.write(
        "checks/orders.yml",
        "dataset: data/orders.csv\nchecks:\n  - row_count: { min: 100 }\n  - unique: { column: id }\n  - pattern: { column: email, regex: '^[^@]+@[^@]+$' }\n  - freshness: { column: ts, max_age: 2d }\n",
    );
    repo.commit_all("orders");
    let (code, json) = repo.run_json(&workflow(), &[]);
    assert_eq!(code, 0, "{json:#}");
    let results = results(&json);
    assert_eq!(results.len(), 4, "{json:#}");
    assert!(
        results
            .iter()
            .all(|r| r["status"] == "pass" && r["failed_count"] == 0),
        "{json:#}"
    );

    repo.write(
        "checks/orders.yml",
        "dataset: data/orders.csv\nchecks:\n  - uniqe: { column: id }\n",
    );
    repo.commit_all("typo");
    let (code, json) = repo.run_json(&workflow(), &[]);
    assert_eq!(code, 1, "{json:#}");
    assert_contains(
        json["steps"][0]["error"].as_str().unwrap_or_default(),
        &[
            "checks/orders.yml:3",
            "unknown check `uniqe`",
            "did you mean `unique`?",
        ],
    );
}
