//! The command line contract: `andon run`, `andon validate`, `andon runs`.

use sha2::{Digest, Sha256};

use crate::support::{TestRepo, assert_contains, project_root, stderr, stdout};

/// A repository with one change of a few lines.
fn small_change() -> TestRepo {
    let repo = TestRepo::new();
    repo.write("a.txt", "one\n");
    repo.commit_all("base");
    repo.write("a.txt", "one\ntwo\nthree\n");
    repo.commit_all("change");
    repo
}

fn testbed_workflow(repo: &TestRepo, steps: &str) -> std::path::PathBuf {
    repo.write("plugins/testbed.wasm", andon_bundle::testing::TESTBED);
    let file = repo.path().join("wf.yml");
    std::fs::write(
        &file,
        format!("name: tb\non: [pull_request, manual]\nsteps:\n{steps}"),
    )
    .expect("write workflow");
    file
}

pub fn testbed_sha() -> String {
    hex(&Sha256::digest(andon_bundle::testing::TESTBED))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn run_json_has_status_steps_and_actions() {
    let repo = small_change();
    let (code, json) = repo.run_json(&project_root().join("workflows/review.yml"), &[]);
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(json["status"], "success");
    let steps = json["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 2);
    for step in steps {
        for field in ["id", "plugin", "status", "duration_ms"] {
            assert!(!step[field].is_null(), "step lacks {field}: {step}");
        }
    }
    assert!(
        json["actions"]
            .as_array()
            .expect("actions")
            .iter()
            .all(|a| a["kind"].is_string())
    );
    assert_eq!(json["files_changed"], 1);
}

#[test]
fn run_text_is_a_readable_report() {
    let repo = small_change();
    let out = repo.run(&project_root().join("workflows/review.yml"), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_contains(
        &stdout(&out),
        &[
            "review · pull_request",
            "size",
            "secret-scan",
            "add-label size/XS",
            "success · run",
        ],
    );
}

#[test]
fn runs_are_recorded_and_shown() {
    let repo = small_change();
    let (_, json) = repo.run_json(&project_root().join("workflows/review.yml"), &[]);
    let id = json["run"].as_u64().expect("run id");
    let list = repo.andon(&["runs", "--format", "json"]);
    let runs: serde_json::Value = serde_json::from_slice(&list.stdout).expect("runs JSON");
    assert_eq!(runs[0]["id"], id);
    assert_eq!(runs[0]["workflow"], "review");
    let show = repo.andon(&["runs", "show", &id.to_string(), "--format", "json"]);
    let run: serde_json::Value = serde_json::from_slice(&show.stdout).expect("run JSON");
    assert_eq!(run["steps"][0]["id"], "size");
    assert!(run["steps"][0]["duration_us"].as_u64().is_some());
    let missing = repo.andon(&["runs", "show", "9999"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("no run with id 9999"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn a_pinned_wasm_file_runs_and_a_wrong_pin_is_refused() {
    let repo = small_change();
    let good = testbed_workflow(
        &repo,
        &format!(
            "  - uses: ./plugins/testbed.wasm\n    sha256: {}\n    with: {{ mode: echo }}\n",
            testbed_sha()
        ),
    );
    let (code, json) = repo.run_json(&good, &[]);
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(json["actions"][0]["kind"], "comment");

    let bad = testbed_workflow(
        &repo,
        &format!(
            "  - uses: ./plugins/testbed.wasm\n    sha256: {}\n    with: {{ mode: echo }}\n",
            "0".repeat(64)
        ),
    );
    let (code, json) = repo.run_json(&bad, &[]);
    assert_eq!(code, 1, "{json:#}");
    assert_eq!(json["steps"][0]["status"], "error");
    assert!(
        json["steps"][0]["error"]
            .as_str()
            .expect("error")
            .contains("pins"),
        "{json:#}"
    );
}

#[test]
fn a_runaway_plugin_stops_the_line_and_later_steps_are_skipped() {
    let repo = small_change();
    let wf = testbed_workflow(
        &repo,
        &format!(
            "  - id: spin\n    uses: ./plugins/testbed.wasm\n    sha256: {sha}\n    timeout: 200ms\n    with: {{ mode: loop }}\n  - id: after\n    uses: size\n",
            sha = testbed_sha()
        ),
    );
    let (code, json) = repo.run_json(&wf, &[]);
    assert_eq!(code, 1, "{json:#}");
    assert_eq!(json["status"], "failure");
    assert_eq!(json["steps"][0]["status"], "error");
    assert!(
        json["steps"][0]["error"]
            .as_str()
            .expect("error")
            .contains("time limit"),
        "{json:#}"
    );
    assert_eq!(json["steps"][1]["status"], "skipped");
}

#[test]
fn a_manual_run_needs_no_base() {
    let repo = small_change();
    let wf = testbed_workflow(
        &repo,
        &format!(
            "  - uses: ./plugins/testbed.wasm\n    sha256: {}\n    with: {{ mode: echo }}\n",
            testbed_sha()
        ),
    );
    let (code, json) = repo.run_json(&wf, &["--event", "manual"]);
    assert_eq!(code, 0, "{json:#}");
    let echoed: serde_json::Value =
        serde_json::from_str(json["actions"][0]["body"].as_str().expect("body"))
            .expect("echo JSON");
    assert_eq!(echoed["kind"], "manual");
    assert_eq!(echoed["changed_files"], 0);
}

#[test]
fn validate_reports_every_problem_with_file_line_and_hint() {
    let repo = TestRepo::new();
    repo.write(
        ".andon/workflows/good.yml",
        "on: { pull_request: {} }\nsteps: [{ uses: size }]\n",
    );
    repo.write(
        ".andon/workflows/bad.yml",
        "on:\n  pull_requets: {}\nsteps:\n  - uses: sise\n    timeout: later\n",
    );
    repo.write(".andon/workflows/broken.yml", "on: [\n");
    let out = repo.andon(&["validate", "--repo", repo.path().to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert_contains(
        &stdout(&out),
        &[
            "bad.yml:2:3: error: unknown key `pull_requets` in `on`",
            "hint: did you mean `pull_request`?",
            "bad.yml:5:14: error: `later` is not a duration",
            "broken.yml:1:5: error: invalid YAML: unclosed bracket",
            "1 of 3 workflow files valid",
        ],
    );
}

#[test]
fn validate_flags_unknown_plugins_and_accepts_the_examples() {
    let repo = TestRepo::new();
    repo.write(
        ".andon/workflows/typo.yml",
        "on: manual\nsteps:\n  - uses: secret-scna\n",
    );
    let out = repo.andon(&["validate", "--repo", repo.path().to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("did you mean `secret-scan`?"),
        "{}",
        stdout(&out)
    );

    let examples: Vec<String> = std::fs::read_dir(project_root().join("workflows"))
        .expect("workflows/")
        .filter_map(Result::ok)
        .map(|e| e.path().display().to_string())
        .collect();
    let mut args = vec!["validate"];
    args.extend(examples.iter().map(String::as_str));
    let out = repo.andon(&args);
    assert!(out.status.success(), "{}", stdout(&out));
}

#[test]
fn a_broken_workflow_is_not_run() {
    let repo = small_change();
    repo.write("wf.yml", "on: { pull_request: {} }\nsteps: 3\n");
    let out = repo.run(&repo.path().join("wf.yml"), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_contains(&stderr(&out), &["`steps` must be a list"]);
}

#[test]
fn an_unknown_revision_is_a_clear_error() {
    let repo = small_change();
    let out = repo.run(
        &project_root().join("workflows/review.yml"),
        &["--base", "no-such-branch"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_contains(&stderr(&out), &["no-such-branch"]);
}

#[test]
fn wasm_paths_resolve_from_the_work_tree_root_when_repo_is_a_subdirectory() {
    let repo = small_change();
    repo.write("sub/keep.txt", "x\n");
    let wf = testbed_workflow(
        &repo,
        &format!(
            "  - uses: ./plugins/testbed.wasm\n    sha256: {}\n    with: {{ mode: noop }}\n",
            testbed_sha()
        ),
    );
    let sub = repo.path().join("sub");
    let out = repo.andon(&[
        "run",
        "--repo",
        sub.to_str().expect("utf-8"),
        "--workflow",
        wf.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
}
