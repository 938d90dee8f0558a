//! Workflow parsing cases: each input with the diagnostics it must produce.

use super::*;
use crate::schedule::{Missed, Overlap, Policy, Report, ReportWhen};

/// Parse `text` and compare its diagnostics, rendered one per line as
/// `line: severity: message`, with `expected`.
fn check(text: &str, expected: &[&str]) -> Parsed {
    let parsed = parse("wf.yml", text);
    let got: Vec<String> = parsed
        .diagnostics
        .iter()
        .map(|d| {
            let severity = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            format!("{}: {severity}: {}", d.line, d.message)
        })
        .collect();
    assert_eq!(got, expected, "diagnostics for:\n{text}");
    parsed
}

const REVIEW: &str = r#"
name: review
on:
  pull_request:
    types: [opened, synchronize]
    branches: [main, "release/**"]
    paths: ["src/**", "!src/generated/**"]
  comment: { command: /review, permission: triage }
  schedule: [{ cron: "0 3 * * *", timezone: Europe/Paris }]
  manual:
concurrency: { group: review, cancel_in_progress: true }
steps:
  - id: size
    uses: size
    with: { s: 5, ignore: ["*.lock"] }
    permissions: [labels]
  - uses: secret-scan
    timeout: 10s
    memory: 64MiB
"#;

#[test]
fn a_full_workflow_parses() {
    let parsed = check(REVIEW, &[]);
    let wf = parsed.workflow.expect("valid workflow");
    assert_eq!(wf.name, "review");
    let pr = wf.on.pull_request.as_ref().expect("pull_request trigger");
    assert_eq!(pr.types, ["opened", "synchronize"]);
    assert!(pr.paths.as_ref().expect("paths").matches("src/a.rs"));
    assert!(
        !pr.paths
            .as_ref()
            .expect("paths")
            .matches("src/generated/a.rs")
    );
    assert_eq!(
        wf.on.comment.as_ref().expect("comment").commands,
        ["review"]
    );
    assert_eq!(wf.on.schedule[0].timezone.as_deref(), Some("Europe/Paris"));
    assert!(wf.on.manual);
    assert!(
        wf.concurrency
            .as_ref()
            .expect("concurrency")
            .cancel_in_progress
    );
    assert_eq!(wf.steps.len(), 2);
    assert_eq!(wf.steps[0].with["s"], 5);
    assert_eq!(wf.steps[0].permissions, Some(vec![Permission::Labels]));
    assert_eq!(wf.steps[1].id, "secret-scan");
    assert_eq!(wf.steps[1].timeout, Some(Duration::from_secs(10)));
    assert_eq!(wf.steps[1].memory, Some(64 << 20));
    assert_eq!(wf.steps[1].permissions, None);
}

#[test]
fn shorthand_triggers_get_defaults() {
    let parsed = check("on: [pull_request, push]\nsteps: [{ uses: size }]\n", &[]);
    let wf = parsed.workflow.expect("valid");
    assert_eq!(wf.name, "wf");
    assert_eq!(wf.on.pull_request.expect("pr").types, DEFAULT_PR_TYPES);
    assert!(wf.on.push.is_some());
}

#[test]
fn every_problem_is_reported_with_its_line() {
    let text = "\
name: broken
on:
  pull_requets: {}
  push: { branchs: [main] }
steps:
  - id: a
    uses: size
    timeout: soon
    permissions: [labels, lables]
  - id: a
    uses: size
    wiht: {}
  - id: c
";
    check(
        text,
        &[
            "3: error: unknown key `pull_requets` in `on`",
            "4: error: unknown key `branchs` in `on.push`",
            "8: error: `soon` is not a duration",
            "9: error: unknown permission `lables`",
            "12: error: unknown key `wiht` in a step",
            "10: error: two steps have the id `a`",
            "13: error: step 3 has no `uses`",
        ],
    );
}

#[test]
fn hints_suggest_the_closest_key() {
    let parsed = parse("wf.yml", "on: { pull_request: {} }\nstesp: []\n");
    let typo = parsed
        .diagnostics
        .iter()
        .find(|d| d.message.contains("stesp"))
        .expect("typo reported");
    assert_eq!(typo.hint.as_deref(), Some("did you mean `steps`?"));
}

#[test]
fn broken_yaml_is_a_diagnostic_not_a_panic() {
    for text in [
        "",
        ":",
        "[",
        "on: [",
        "steps: {a: }}",
        "\t- x",
        "on: !!binary AAAA",
        "- - - -",
    ] {
        let parsed = parse("wf.yml", text);
        assert!(parsed.has_errors(), "{text:?} should have errors");
        assert!(parsed.workflow.is_none());
    }
}

#[test]
fn wrong_types_are_reported() {
    check(
        "on: { pull_request: { types: opened, paths: 3 } }\nsteps: { a: 1 }\n",
        &[
            "1: error: `paths` must be a string or a list of strings, found a number",
            "2: error: `steps` must be a list, found a mapping",
        ],
    );
    check(
        "on: { pull_request: { types: [opend] } }\nsteps: [{ uses: size, with: [1] }]\n",
        &[
            "1: error: unknown pull request type `opend`",
            "2: error: `with` must be a mapping, found a list",
        ],
    );
}

#[test]
fn wasm_paths_are_pinned_and_stay_in_the_repository() {
    let parsed = check(
        "on: manual\nsteps:\n  - uses: ./plugins/x.wasm\n    sha256: 0000000000000000000000000000000000000000000000000000000000000000\n",
        &[],
    );
    let step = &parsed.workflow.expect("valid").steps[0];
    assert_eq!(step.id, "x");
    assert!(
        matches!(&step.uses, PluginRef::Path { path, sha256: Some(_) } if path == "plugins/x.wasm")
    );
    check(
        "on: manual\nsteps:\n  - uses: ../x.wasm\n",
        &[
            "3: error: plugin path `../x.wasm` leaves the repository",
            "3: warning: plugin `../x.wasm` is not pinned",
        ],
    );
}

#[test]
fn cron_and_comment_triggers_are_checked() {
    check(
        "on:\n  schedule: [{ cron: \"* *\" }]\n  comment: { permission: root }\nsteps: [{ uses: size }]\n",
        &[
            "2: error: cron expression `* *` has 2 fields, expected 5",
            "3: error: unknown permission level `root`",
            "3: error: `on.comment` needs a `command` or `commands`",
        ],
    );
}

#[test]
fn durations_and_sizes_parse() {
    assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
    assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
    assert_eq!(parse_duration("5"), Some(Duration::from_secs(5)));
    assert_eq!(parse_duration("5 weeks"), None);
    assert_eq!(parse_duration("99999999999999999999h"), None);
    assert_eq!(parse_bytes("64MiB"), Some(64 << 20));
    assert_eq!(parse_bytes("1GB"), Some(1_000_000_000));
    assert_eq!(parse_bytes("lots"), None);
}

#[test]
fn schedule_policies_resolve_entry_over_workflow_over_defaults() {
    let text = "\
name: nightly
on:
  schedule:
    - cron: \"0 3 * * *\"
      timezone: Europe/Paris
    - cron: \"@hourly\"
      missed: all
      max_catchup: 3
      overlap: cancel
      deadline: 90s
schedule_policy:
  overlap: queue
  retries: 2
  retry_backoff: 30s
  deadline: 10m
report: { status: true, issue: 42, when: failure }
steps: [{ uses: size }]
";
    let wf = check(text, &[]).workflow.expect("valid");
    let [daily, hourly] = wf.on.schedule.as_slice() else {
        panic!("two schedules");
    };
    assert_eq!(daily.line, 4);
    assert_eq!(
        daily.policy,
        Policy {
            missed: Missed::Latest,
            max_catchup: 10,
            overlap: Overlap::Queue,
            retries: 2,
            retry_backoff_ms: 30_000,
            deadline_ms: Some(600_000),
        }
    );
    assert_eq!(
        hourly.policy,
        Policy {
            missed: Missed::All,
            max_catchup: 3,
            overlap: Overlap::Cancel,
            retries: 2,
            retry_backoff_ms: 30_000,
            deadline_ms: Some(90_000),
        }
    );
    assert_eq!(
        wf.report,
        Some(Report {
            status: true,
            issue: Some(42),
            when: ReportWhen::Failure,
        })
    );
    let plain = check(
        "on: { schedule: [{ cron: \"0 3 * * *\" }] }\nsteps: [{ uses: size }]\n",
        &[],
    );
    let plain = plain.workflow.expect("valid");
    assert_eq!(plain.on.schedule[0].policy, Policy::DEFAULT);
    assert_eq!(plain.report, None);
}

#[test]
fn schedule_keys_are_checked_with_lines_and_hints() {
    let text = "\
on:
  schedule:
    - cron: \"0 25 * * *\"
      timezone: Europe/Pariss
    - cron: \"0 3 * * *\"
      missed: latests
      overlap: allow
      retries: 99
      retry_backoff: soon
      deadline: 48h
      max_catchup: 5
    - timezone: UTC
schedule_policy: { max_catchp: 5 }
report: { issue: -1, when: sometimes }
steps: [{ uses: size }]
";
    let parsed = check(
        text,
        &[
            "4: error: unknown time zone `Europe/Pariss`",
            "3: error: hour `25` in cron expression `0 25 * * *` is invalid: 25 is not in 0-23",
            "6: error: `missed` cannot be `latests`",
            "7: error: `overlap` cannot be `allow`",
            "8: error: `retries` must be a whole number from 0 to 10",
            "9: error: `soon` is not a duration",
            "10: error: `deadline` of 48h is longer than 24h",
            "12: error: a schedule needs a `cron` expression",
            "13: error: unknown key `max_catchp` in `schedule_policy`",
            "14: error: `issue` must be an issue number",
            "14: error: `when` cannot be `sometimes`",
            "14: warning: `report` asks for nothing",
            "5: warning: `max_catchup` has no effect with `missed: latest`",
        ],
    );
    let hint = |needle: &str| {
        parsed
            .diagnostics
            .iter()
            .find(|d| d.message.contains(needle))
            .and_then(|d| d.hint.clone())
            .unwrap_or_default()
    };
    assert_eq!(hint("Europe/Pariss"), "did you mean `Europe/Paris`?");
    assert_eq!(hint("latests"), "did you mean `latest`?");
    assert_eq!(hint("allow"), "expected one of: skip, queue, cancel");
    assert!(
        hint("hour `25`").starts_with("hour: 0-23"),
        "{}",
        hint("hour `25`")
    );
    assert_eq!(hint("max_catchp"), "did you mean `max_catchup`?");
}

#[test]
fn schedule_settings_without_a_schedule_are_pointed_out() {
    check(
        "on: push\nschedule_policy: { retries: 1 }\nreport: { status: true }\nsteps: [{ uses: size }]\n",
        &[
            "2: warning: `schedule_policy` has no effect: the workflow has no `on.schedule`",
            "3: warning: `report` has no effect: the workflow has no `on.schedule`",
        ],
    );
}

#[test]
fn review_workflow_run_and_command_lists_parse() {
    let parsed = parse(
        "wf.yml",
        "name: review\non:\n  comment: { commands: [lgtm, approve], permission: read }\n  review: { states: [approved] }\n  workflow_run: { workflows: [ci], branches: [main] }\nsteps: [{ uses: size }]\n",
    );
    let wf = parsed.workflow.expect("valid");
    let comment = wf.on.comment.expect("comment");
    assert_eq!(comment.commands, ["lgtm", "approve"]);
    assert_eq!(comment.permission, "read");
    assert_eq!(wf.on.review.expect("review").states, ["approved"]);
    let run = wf.on.workflow_run.expect("workflow_run");
    assert_eq!(run.workflows, Some(vec!["ci".to_string()]));
    check(
        "on:\n  review: { states: [aproved] }\n  comment: { commands: [run, ok] }\nsteps: [{ uses: size }]\n",
        &[
            "2: error: unknown review state `aproved`",
            "3: error: `run` is one of andon's own commands (`/andon run`)",
        ],
    );
}
