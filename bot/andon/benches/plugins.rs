//! `andon plugin bench` on every review plugin (and the other stock
//! plugins that answer pull requests and pushes) with a realistic event on
//! a real git repository: instantiate + run medians and p99s, and peak
//! linear memory. The target: every review plugin under 1 ms
//! median per event.
//!
//! `cargo bench -p andon --bench plugins` (`ANDON_BENCH_RUNS`, default
//! 500 timed runs per plugin).

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "support/git.rs"]
mod support_git;
use support_git::git;

struct Case {
    plugin: &'static str,
    what: &'static str,
    event: serde_json::Value,
    config: &'static str,
    review: bool,
}

fn main() {
    let runs = std::env::var("ANDON_BENCH_RUNS").unwrap_or_else(|_| "500".into());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let wasm_dir = root.join("target/plugins/wasm32-wasip2/release");
    let work = tempfile::tempdir().expect("tempdir");
    let repo = work.path().join("repo");
    let (base, head) = repository(&repo);
    let data = work.path().join("data");
    let events = work.path().join("events");
    std::fs::create_dir_all(&events).expect("events dir");

    println!(
        "| plugin | event | instantiate + run: median | p99 | run alone: median | peak memory | target |"
    );
    println!("|---|---|--:|--:|--:|--:|---|");
    for case in cases(&base, &head) {
        let file = events.join(format!("{}.json", case.plugin));
        std::fs::write(&file, case.event.to_string()).expect("event file");
        let wasm = wasm_dir.join(format!("andon_{}.wasm", case.plugin.replace('-', "_")));
        let out = Command::new(env!("CARGO_BIN_EXE_andon"))
            .args(["plugin", "bench"])
            .arg(&wasm)
            .arg("--event")
            .arg(&file)
            .args(["--config", case.config, "--runs", &runs, "--format", "json"])
            .arg("--repo")
            .arg(&repo)
            .args(["--base", &base, "--head", &head])
            .arg("--data-dir")
            .arg(&data)
            .output()
            .expect("andon runs");
        assert!(
            out.status.success(),
            "{}: {}",
            case.plugin,
            String::from_utf8_lossy(&out.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        let timing = |what: &str, stat: &str| {
            report["timings_us"][what][stat]
                .as_f64()
                .unwrap_or(f64::NAN)
        };
        let median = timing("instantiate_run", "median");
        let target = if case.review {
            if median < 1000.0 {
                "< 1 ms: met"
            } else {
                "< 1 ms: **not met**"
            }
        } else {
            "-"
        };
        let outcome = match report["error"].as_str() {
            Some(error) => format!(" (error: {error})"),
            None => format!(" ({} actions)", report["actions_count"]),
        };
        println!(
            "| `{}` | {}{} | {:.1} µs | {:.1} µs | {:.1} µs | {:.1} MiB | {} |",
            case.plugin,
            case.what,
            outcome,
            median,
            timing("instantiate_run", "p99"),
            timing("run", "median"),
            report["memory_peak_bytes"].as_f64().unwrap_or(0.0) / f64::from(1 << 20),
            target,
        );
    }
}

/// A repository with OWNERS files, metrics, a model and a 40-file change
/// between base and head. `(base, head)`.
fn repository(dir: &Path) -> (String, String) {
    std::fs::create_dir_all(dir).expect("repo dir");
    git(dir, &["init", "-q", "-b", "main"]);
    let write = |path: &str, text: &str| {
        let file: PathBuf = dir.join(path);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("dirs");
        std::fs::write(file, text).expect("write");
    };
    write("OWNERS", "approvers: [alice]\nreviewers: [carol]\n");
    write("sub/OWNERS", "approvers: [bob, sig-api]\n");
    write("OWNERS_ALIASES", "aliases:\n  sig-api: [dave, erin]\n");
    write(
        "artifacts.yaml",
        "churn:\n  type: model\n  path: models/churn.pkl\n",
    );
    write("models/churn.pkl", "weights v1\n");
    write(
        "metrics.json",
        "{\"acc\": 0.80, \"loss\": 0.25, \"eval\": {\"auc\": 0.9}}\n",
    );
    for i in 0..20 {
        write(
            &format!("src/m{i}.rs"),
            &format!("pub fn f{i}() -> u32 {{ {i} }}\n"),
        );
        write(
            &format!("sub/m{i}.rs"),
            &format!("pub fn g{i}() -> u32 {{ {i} }}\n"),
        );
    }
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "base"]);
    let base = rev(dir);
    for i in 0..20 {
        write(
            &format!("src/m{i}.rs"),
            &format!(
                "pub fn f{i}() -> u32 {{ {i} }}\npub fn h{i}() -> u32 {{ {} }}\n",
                i * 2
            ),
        );
        write(
            &format!("sub/m{i}.rs"),
            &format!("pub fn g{i}() -> u32 {{ {} }}\n", i + 1),
        );
    }
    write("models/churn.pkl", "weights v2\n");
    write(
        "metrics.json",
        "{\"acc\": 0.85, \"loss\": 0.20, \"eval\": {\"auc\": 0.88}}\n",
    );
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "head"]);
    (base, rev(dir))
}

fn rev(dir: &Path) -> String {
    let out = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(dir)
        .output()
        .expect("git");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn cases(base: &str, head: &str) -> Vec<Case> {
    let event = |kind: &str, extra: serde_json::Value| {
        let mut event = serde_json::json!({
            "kind": kind,
            "repository": "acme/widgets",
            "number": 7,
            "base": base,
            "head": head,
            "branch": "main",
            "default_branch": "main",
            "pull_request_author": "zed",
            "labels": ["kind/feature", "size/M"],
        });
        for (key, value) in extra.as_object().expect("object") {
            event[key] = value.clone();
        }
        event
    };
    let comment = |author: &str, permission: &str, command: &str, args: &[&str]| {
        event(
            "comment",
            serde_json::json!({
                "action": "created",
                "author": author,
                "author_permission": permission,
                "command": command,
                "args": args,
            }),
        )
    };
    let opened = event(
        "pull_request",
        serde_json::json!({
            "action": "opened",
            "author": "zed",
            "title": "feat(api): add the h functions",
            "body": "Adds `h0`..`h19`.\n\nFixes #12",
        }),
    );
    vec![
        Case {
            plugin: "lgtm",
            what: "`/lgtm` by a writer",
            event: comment("wes", "write", "lgtm", &[]),
            config: "{}",
            review: true,
        },
        Case {
            plugin: "approve",
            what: "`/approve` by an approver, 40 files under 2 OWNERS",
            event: comment("alice", "write", "approve", &[]),
            config: "{}",
            review: true,
        },
        Case {
            plugin: "hold",
            what: "`/hold`",
            event: comment("wes", "triage", "hold", &[]),
            config: "{}",
            review: true,
        },
        Case {
            plugin: "label",
            what: "`/label kind/bug area/api`",
            event: comment("wes", "read", "label", &["kind/bug", "area/api"]),
            config: "{}",
            review: true,
        },
        Case {
            plugin: "pr-hygiene",
            what: "pull request opened",
            event: opened.clone(),
            config: "{\"require_issue\": true}",
            review: true,
        },
        Case {
            plugin: "andon-cord",
            what: "pull request opened, line running",
            event: opened.clone(),
            config: "{}",
            review: true,
        },
        Case {
            plugin: "size",
            what: "pull request opened, 42 files",
            event: opened.clone(),
            config: "{}",
            review: true,
        },
        Case {
            plugin: "secret-scan",
            what: "pull request opened, 42 files",
            event: opened.clone(),
            config: "{}",
            review: false,
        },
        Case {
            plugin: "metrics-diff",
            what: "pull request changing metrics.json",
            event: opened,
            config: "{}",
            review: false,
        },
        Case {
            plugin: "model-register",
            what: "push changing the model",
            event: event("push", serde_json::json!({ "number": null })),
            config: "{}",
            review: false,
        },
    ]
}
