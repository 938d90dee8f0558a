//! metrics-diff end to end: `andon run` on a pull request that changes metrics and params files.

use std::path::PathBuf;

use serde_json::Value;

use crate::support::{TestRepo, assert_contains};

/// The example workflow: DVC-style metrics and params, one TOML file of
/// scores, and which way the metrics should move.
const WORKFLOW: &str = r#"
name: metrics
on: [pull_request, manual]
steps:
  - id: metrics
    uses: metrics-diff
    with:
      metrics: [metrics.json, "eval/*.toml"]
      params: [params.yaml]
      higher_is_better: [acc, auc]
      lower_is_better: [loss]
    permissions: [comment]
"#;

const BASE_METRICS: &str =
    r#"{"acc": 0.8, "loss": 0.25, "eval": {"f1": 0.7, "per_class": [0.6, 0.9]}}"#;

const BASE_PARAMS: &str = "\
train:
  lr: 0.001
  layers:
    - units: 64
    - units: 32
seed: 42
";

const BASE_SCORES: &str = "[test]\nauc = 0.9\nlabel = \"v1\"\n";

/// A repository whose first commit holds the three files and a README.
fn metrics_repo() -> TestRepo {
    let repo = TestRepo::new();
    repo.write("README.md", "model\n");
    repo.write("metrics.json", BASE_METRICS);
    repo.write("params.yaml", BASE_PARAMS);
    repo.write("eval/scores.toml", BASE_SCORES);
    repo.commit_all("base");
    repo
}

fn workflow(repo: &TestRepo, text: &str) -> PathBuf {
    // After the last commit, so it is in no revision the plugin compares.
    let file = repo.path().join("metrics-workflow.yml");
    std::fs::write(&file, text).expect("write workflow");
    file
}

/// The bodies of the run's comment actions.
fn comments(json: &Value) -> Vec<String> {
    json["actions"]
        .as_array()
        .unwrap_or_else(|| panic!("no actions: {json:#}"))
        .iter()
        .filter(|a| a["kind"] == "comment")
        .filter_map(|a| a["body"].as_str().map(str::to_string))
        .collect()
}

fn the_comment(json: &Value) -> String {
    let comments = comments(json);
    assert_eq!(comments.len(), 1, "{json:#}");
    comments.into_iter().next().expect("one comment")
}

fn short(rev: &str) -> &str {
    &rev[..7]
}

#[test]
fn changed_metrics_and_params_are_tabled_with_old_new_and_change() {
    let repo = metrics_repo();
    let base = repo.git(&["rev-parse", "HEAD"]);
    repo.write(
        "metrics.json",
        r#"{"acc": 0.85, "loss": 0.2, "eval": {"f1": 0.7, "per_class": [0.65, 0.9]}}"#,
    );
    repo.write(
        "params.yaml",
        "train:\n  lr: 0.001\n  dropout: 0.1\n  layers:\n    - units: 64\n    - units: 16\nseed: 42\n",
    );
    repo.write("eval/scores.toml", "[test]\nauc = 0.88\nlabel = \"v2\"\n");
    repo.write("README.md", "model v2\n");
    let head = repo.commit_all("retrain");
    let wf = workflow(&repo, WORKFLOW);

    let (code, json) = repo.run_json(&wf, &[]);
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(json["status"], "success", "{json:#}");
    let comment = the_comment(&json);
    assert_contains(
        &comment,
        &[
            &format!(
                "Base `{}` → head `{}`: 5 metrics and 2 params changed.",
                short(&base),
                short(&head)
            ),
            "### Metrics\n\n| file | key | old | new | change |",
            "| `metrics.json` | `acc` | 0.8 | 0.85 | +0.05 (+6.2%) ✅ |",
            "| `metrics.json` | `loss` | 0.25 | 0.2 | -0.05 (-20.0%) ✅ |",
            "| `metrics.json` | `eval.per_class.0` | 0.6 | 0.65 | +0.05 (+8.3%) |",
            "| `eval/scores.toml` | `test.auc` | 0.9 | 0.88 | -0.02 (-2.2%) ⚠️ |",
            "| `eval/scores.toml` | `test.label` | `v1` | `v2` | changed |",
            "### Params",
            "| `params.yaml` | `train.dropout` | — | 0.1 | added |",
            "| `params.yaml` | `train.layers.1.units` | 32 | 16 | -16 (-50.0%) |",
        ],
    );
    // Unchanged keys and files that are neither metrics nor params stay out.
    for absent in ["eval.f1", "per_class.1", "train.lr", "seed", "README"] {
        assert!(!comment.contains(absent), "{absent} in:\n{comment}");
    }
    assert!(
        comment.find("### Metrics") < comment.find("### Params"),
        "{comment}"
    );

    let output = &json["steps"][0]["outputs"]["metrics_diff"];
    assert_eq!(output["files"], 3, "{json:#}");
    let rows = output["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 7, "{output:#}");
    let acc = rows
        .iter()
        .find(|r| r["key"] == "acc")
        .unwrap_or_else(|| panic!("no acc row: {output:#}"));
    assert_eq!(
        (&acc["kind"], &acc["file"], &acc["old"], &acc["new"]),
        (
            &Value::from("metric"),
            &Value::from("metrics.json"),
            &Value::from(0.8),
            &Value::from(0.85)
        )
    );
    assert_eq!(
        (&acc["change"], &acc["verdict"]),
        (&Value::from("modified"), &Value::from("better"))
    );
    let units = rows
        .iter()
        .find(|r| r["key"] == "train.layers.1.units")
        .unwrap_or_else(|| panic!("no units row: {output:#}"));
    assert_eq!(
        (&units["kind"], &units["delta"]),
        (&Value::from("param"), &Value::from(-16))
    );
}

#[test]
fn a_broken_metrics_file_is_reported_in_the_comment_and_fails_only_when_asked() {
    let repo = metrics_repo();
    repo.write("metrics.json", "{\n  \"acc\": 0.9,\n  \"loss\": \n}\n");
    repo.write("params.yaml", BASE_PARAMS.replace("42", "7"));
    repo.commit_all("broken metrics");
    let wf = workflow(&repo, WORKFLOW);

    let (code, json) = repo.run_json(&wf, &[]);
    assert_eq!(
        code, 0,
        "a broken metrics file does not fail the run: {json:#}"
    );
    assert_eq!(json["steps"][0]["status"], "success", "{json:#}");
    let comment = the_comment(&json);
    assert_contains(
        &comment,
        &[
            ": 1 param changed. 1 file could not be compared.",
            "| `metrics.json` | ⚠️ not compared | — | — | head: invalid JSON at line 4, column 1: expected value |",
            "| `params.yaml` | `seed` | 42 | 7 | -35 (-83.3%) |",
        ],
    );
    let errors = &json["steps"][0]["outputs"]["metrics_diff"]["errors"];
    assert_eq!(errors[0]["file"], "metrics.json", "{json:#}");

    let strict = workflow(
        &repo,
        &WORKFLOW.replace(
            "lower_is_better: [loss]",
            "lower_is_better: [loss]\n      fail_on_error: true",
        ),
    );
    let (code, json) = repo.run_json(&strict, &[]);
    assert_eq!(code, 1, "{json:#}");
    assert_eq!(json["status"], "failure", "{json:#}");
    assert_contains(&the_comment(&json), &["⚠️ not compared"]);
    let fail = json["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .find(|a| a["kind"] == "fail")
        .unwrap_or_else(|| panic!("no fail action: {json:#}"));
    assert_contains(
        &fail.to_string(),
        &["metrics-diff: cannot compare metrics.json"],
    );
}

#[test]
fn nothing_changed_says_so_on_a_pull_request_and_a_manual_run() {
    let repo = metrics_repo();
    let base = repo.git(&["rev-parse", "HEAD"]);
    // Same values, different layout: the file changed, no metric did.
    repo.write(
        "metrics.json",
        "{\n  \"loss\": 0.250,\n  \"acc\": 0.8,\n  \"eval\": {\"per_class\": [0.6, 0.9], \"f1\": 0.7}\n}\n",
    );
    repo.write("README.md", "model, reformatted metrics\n");
    let head = repo.commit_all("reformat");
    let wf = workflow(&repo, WORKFLOW);
    let expected = format!(
        "## metrics-diff\n\nNo metric or param changed between base `{}` and head `{}`.\n",
        short(&base),
        short(&head)
    );

    let (code, json) = repo.run_json(&wf, &[]);
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(the_comment(&json), expected);
    assert_eq!(
        json["steps"][0]["outputs"]["metrics_diff"]["files"], 1,
        "{json:#}"
    );

    let (code, json) = repo.run_json(&wf, &["--event", "manual", "--base", &base]);
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(the_comment(&json), expected);

    // A manual run without a base has nothing to compare: no comment.
    let (code, json) = repo.run_json(&wf, &["--event", "manual"]);
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(comments(&json), Vec::<String>::new(), "{json:#}");
}
