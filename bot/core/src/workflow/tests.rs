//! Workflow parsing cases: each input with the diagnostics it must produce.

use super::*;

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
    assert_eq!(wf.on.comment.as_ref().expect("comment").command, "review");
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
            "3: error: `on.comment` needs a `command`",
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
