//! What andon writes on GitHub, as snapshots: check run summaries, the help
//! reply, replies to commands, and the effects of finished runs.

use andon_core::Conclusion;
use andon_core::action::{Action, Annotation, AnnotationLevel, Artifact, CheckRun, KvValue};
use andon_core::command::{self, Command};
use andon_core::effect::Effect;
use andon_core::event::{Event, EventKind};
use andon_core::manifest::{CommandInfo, Manifest, Permission};
use andon_core::policy::Denied;
use andon_core::render::{
    self, check_run_name, check_run_start, effects_for_run, help, ok_to_test, refused_command,
    run_summary, unknown_command, workflow_not_found,
};
use andon_core::run::{RunRecord, Status, StepRecord};
use andon_core::workflow::{self, Workflow};

const HEAD: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";

fn step(id: &str, status: Status, duration_us: u64, actions: Vec<Action>) -> StepRecord {
    StepRecord {
        id: id.into(),
        plugin: id.into(),
        status,
        duration_us,
        fuel_used: None,
        memory_peak: 1 << 20,
        error: None,
        log: String::new(),
        actions,
        denied: Vec::new(),
        outputs: Default::default(),
        plugin_version: None,
        plugin_sha256: None,
        inputs: Vec::new(),
    }
}

fn pr_event() -> Event {
    let mut event = Event::new(EventKind::PullRequest, "octo/repo", HEAD);
    event.number = Some(7);
    event.action = Some("opened".into());
    event
}

fn run(workflow: &str, event: Event, steps: Vec<StepRecord>) -> RunRecord {
    let status = RunRecord::rolled_up_status(&steps);
    RunRecord {
        id: 1,
        workflow: workflow.into(),
        event,
        started_at_ms: 1_700_000_000_000,
        duration_us: steps.iter().map(|s| s.duration_us).sum(),
        status,
        steps,
        delivery: None,
    }
}

fn comment(body: &str) -> Action {
    Action::Comment {
        body: body.into(),
        number: None,
    }
}

fn label(name: &str, present: bool) -> Action {
    let label = name.to_string();
    if present {
        Action::AddLabel {
            label,
            number: None,
        }
    } else {
        Action::RemoveLabel {
            label,
            number: None,
        }
    }
}

fn check_run(name: &str, conclusion: Conclusion, title: &str) -> Action {
    Action::CheckRun(CheckRun {
        name: name.into(),
        conclusion,
        title: title.into(),
        summary: format!("{title}, in detail"),
        text: None,
        annotations: vec![Annotation {
            path: "src/config.rs".into(),
            start_line: 3,
            end_line: 3,
            level: AnnotationLevel::Failure,
            title: None,
            message: "an AWS key".into(),
        }],
    })
}

/// A summary as it reads on GitHub: the title line, then the Markdown.
fn rendered(run: &RunRecord) -> String {
    let (conclusion, title, summary) = run_summary(run);
    format!("conclusion: {conclusion:?}\ntitle: {title}\n\n{summary}")
}

#[test]
fn check_runs_are_named_after_their_workflow() {
    assert_eq!(check_run_name("review"), "andon / review");
}

#[test]
fn a_passing_run() {
    let run = run(
        "review",
        pr_event(),
        vec![
            step("size", Status::Success, 850, vec![label("size/XS", true)]),
            step("secret-scan", Status::Success, 12_345, Vec::new()),
        ],
    );
    insta::assert_snapshot!("summary_passed", rendered(&run));
}

#[test]
fn a_failing_run_shows_why_and_the_end_of_the_log() {
    let mut scan = step(
        "secret-scan",
        Status::Failure,
        1_520_000,
        vec![
            check_run("secret-scan", Conclusion::Failure, "1 secret found"),
            Action::Fail {
                reason: "secrets in the diff: src/config.rs:3".into(),
            },
        ],
    );
    scan.log = (1..=30)
        .map(|i| format!("scanned file {i}"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut size = step("size", Status::Success, 900, vec![label("size/S", true)]);
    size.denied = vec![Denied {
        action: comment("big | pull request"),
        reason: "step `size` was not granted `comment`, which `comment` needs; add it to the step's `permissions:`".into(),
    }];
    let run = run("review", pr_event(), vec![size, scan]);
    insta::assert_snapshot!("summary_failed", rendered(&run));
}

#[test]
fn an_errored_run_keeps_hostile_text_in_its_box() {
    let mut trap = step("my|plugin", Status::Error, 30_000_000, Vec::new());
    trap.plugin = "plugins/`odd`|name.wasm".into();
    trap.error =
        Some("epoch deadline reached after 30s\n```\n</details><!-- andon:review/size -->".into());
    trap.log = "panicked at src/lib.rs:1:1\n````\n<!-- forged -->".into();
    let skipped = step("after", Status::Skipped, 0, Vec::new());
    let run = run("data quality", pr_event(), vec![trap, skipped]);
    let text = rendered(&run);
    assert!(!text.contains("<!--"), "{text}");
    insta::assert_snapshot!("summary_errored", text);
}

#[test]
fn titles_count_and_name_the_steps() {
    let titles = |steps: Vec<StepRecord>| run_summary(&run("w", pr_event(), steps));
    let (conclusion, title, _) = titles(vec![step("a", Status::Skipped, 0, vec![])]);
    assert_eq!(
        (conclusion, title.as_str()),
        (Conclusion::Skipped, "1 step skipped")
    );
    let (conclusion, title, _) = titles(vec![
        step("a", Status::Success, 0, vec![]),
        step("b", Status::Skipped, 0, vec![]),
    ]);
    assert_eq!(
        (conclusion, title.as_str()),
        (Conclusion::Success, "1 step passed, 1 skipped")
    );
    let (conclusion, title, _) = titles(vec![
        step("a", Status::Failure, 0, vec![]),
        step("b", Status::Failure, 0, vec![]),
        step("c", Status::Error, 0, vec![]),
    ]);
    assert_eq!(
        (conclusion, title.as_str()),
        (Conclusion::Failure, "a and b failed; c errored")
    );
    let (_, title, _) = titles(
        ["a", "b", "c"]
            .into_iter()
            .map(|id| step(id, Status::Failure, 0, vec![]))
            .collect(),
    );
    assert_eq!(title, "3 steps failed");
    let (conclusion, title, _) = titles(Vec::new());
    assert_eq!(
        (conclusion, title.as_str()),
        (Conclusion::Skipped, "no steps ran")
    );
}

#[test]
fn a_huge_run_stays_under_github_limits() {
    let steps = (0..200)
        .map(|i| {
            let mut s = step(&format!("s{i}"), Status::Error, 1, vec![]);
            s.error = Some("x".repeat(10_000));
            s.log = format!("{}\n", "y".repeat(1_000)).repeat(30);
            s
        })
        .collect();
    let (_, _, summary) = run_summary(&run("w", pr_event(), steps));
    assert!(summary.len() < 65_535, "{} bytes", summary.len());
    assert!(summary.contains("left out to fit"), "{summary}");
}

fn workflows() -> Vec<Workflow> {
    [
        "name: data-quality\non: { comment: { command: data-check, permission: write } }\nsteps: [{ uses: size }]",
        "name: deploy\non: { comment: { command: deploy, permission: maintain } }\nsteps: [{ uses: size }]",
        "name: review\non: { pull_request: {} }\nsteps: [{ uses: size }]",
    ]
    .iter()
    .map(|text| {
        workflow::parse("w.yml", text)
            .workflow
            .expect("valid workflow")
    })
    .collect()
}

fn manifest(name: &str, commands: Vec<CommandInfo>) -> Manifest {
    Manifest {
        name: name.into(),
        version: "0.1.0".into(),
        description: String::new(),
        events: vec![EventKind::Comment],
        commands,
        permissions: vec![Permission::Labels],
        config_schema: None,
    }
}

#[test]
fn help_lists_builtin_workflow_and_plugin_commands() {
    let workflows = workflows();
    let refs: Vec<&Workflow> = workflows.iter().collect();
    let plugins = vec![
        (
            "lgtm".to_string(),
            manifest(
                "lgtm",
                vec![CommandInfo {
                    name: "lgtm".into(),
                    usage: "/lgtm [cancel]".into(),
                    description: "Approve | or cancel\nan approval".into(),
                }],
            ),
        ),
        (
            "registry".to_string(),
            manifest(
                "registry",
                vec![CommandInfo {
                    name: "promote".into(),
                    usage: String::new(),
                    description: "Move a model version to a stage".into(),
                }],
            ),
        ),
    ];
    let text = help(&refs, &plugins);
    // The help text quotes commands but must never contain one itself.
    assert!(command::parse(&text).is_empty(), "{text}");
    insta::assert_snapshot!("help", text);
    insta::assert_snapshot!("help_without_commands", help(&[], &[]));
}

#[test]
fn replies_to_commands() {
    let parsed = command::parse("/andon rerum");
    let Command::Unknown { text, suggestion } = &parsed[0].command else {
        panic!("{parsed:?}");
    };
    assert_eq!(
        unknown_command(text, suggestion.as_deref()),
        "`/andon rerum` is not a command. Did you mean `/andon rerun`? Say `/andon help` for the list."
    );
    assert_eq!(
        refused_command("/andon run deploy", "write", "owner/repo", "alice", "read"),
        "`/andon run deploy` needs `write` permission on owner/repo; @alice has `read`."
    );
    let replies = [
        unknown_command("/andon xyzzy", None),
        unknown_command("/data-chek", Some("/data-check")),
        unknown_command("/`weird` <!-- x -->", None),
        ok_to_test("maintainer"),
        workflow_not_found("deplyo", &["deploy", "data-check"]),
        workflow_not_found("release", &["deploy", "data-check"]),
        workflow_not_found("release", &[]),
    ];
    insta::assert_snapshot!("replies", replies.join("\n\n"));
}

#[test]
fn effects_of_a_pull_request_run() {
    let mut size = step(
        "size",
        Status::Success,
        900,
        vec![
            label("size/L", true),
            label("size/XS", false),
            comment("This pull request is **large**."),
            comment("<!-- andon:review/secret-scan --> forged"),
            label("size/L", false),
            label("size/M", true),
            Action::KvSet {
                key: "last".into(),
                value: KvValue(b"M".to_vec()),
            },
        ],
    );
    size.denied = vec![Denied {
        action: label("x", true),
        reason: "denied".into(),
    }];
    let scan = step(
        "secret-scan",
        Status::Failure,
        900,
        vec![
            check_run("secrets", Conclusion::Failure, "1 secret found"),
            Action::Artifact(Artifact {
                name: "report.json".into(),
                media_type: "application/json".into(),
                data: b"{}".to_vec(),
                sha256: "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a".into(),
                size: 2,
            }),
            Action::Fail {
                reason: "a secret".into(),
            },
        ],
    );
    let run = run("review", pr_event(), vec![size, scan]);
    let effects = effects_for_run("delivery-1", "octo/repo", Some(42), &run, 0);
    insta::assert_json_snapshot!("effects_pull_request", effects);

    // The worker's start and this finish name the same check run.
    let start = check_run_start("delivery-1", "octo/repo", Some(42), "review", HEAD, 0);
    let Effect::CheckRunStart { external_id, .. } = &start.effect else {
        panic!("{start:?}");
    };
    let finish = effects
        .iter()
        .find(|e| e.effect.kind() == "check-run-finish" && e.key.ends_with("/check-run"))
        .expect("the workflow's check run");
    let Effect::CheckRunFinish {
        external_id: finished,
        name,
        ..
    } = &finish.effect
    else {
        panic!("{finish:?}");
    };
    assert_eq!(external_id, finished);
    assert_eq!(name, "andon / review");
    insta::assert_json_snapshot!("check_run_start", start);

    // Keys are unique: the outbox deduplicates by key.
    let mut keys: Vec<&str> = effects.iter().map(|e| e.key.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), effects.len());
}

#[test]
fn runs_without_a_pull_request_or_a_head_drop_what_they_cannot_do() {
    let actions = || {
        vec![
            comment("hello"),
            label("a", true),
            check_run("c", Conclusion::Success, "ok"),
        ]
    };
    let mut push = Event::new(EventKind::Push, "octo/repo", HEAD);
    push.branch = Some("main".into());
    let run_on_push = run(
        "nightly",
        push,
        vec![step("s", Status::Success, 1, actions())],
    );
    let kinds: Vec<&str> = effects_for_run("d", "octo/repo", None, &run_on_push, 3)
        .iter()
        .map(|e| e.effect.kind())
        .collect();
    assert_eq!(kinds, ["check-run-finish", "check-run-finish"]);

    let mut comment_event = Event::new(EventKind::Comment, "octo/repo", "");
    comment_event.number = Some(7);
    let unresolved = run(
        "dq",
        comment_event,
        vec![step("s", Status::Success, 1, actions())],
    );
    let kinds: Vec<&str> = effects_for_run("d", "octo/repo", None, &unresolved, 0)
        .iter()
        .map(|e| e.effect.kind())
        .collect();
    assert_eq!(kinds, ["sticky-comment", "label"]);
}

#[test]
fn plugin_text_cannot_forge_markers() {
    assert_eq!(render::neutralise("a <!-- b"), "a <\u{200b}!-- b");
}

/// A scheduled `nightly` run, reported as its workflow asks.
fn scheduled(report: &andon_core::schedule::Report, attempt: u32) -> render::ScheduledRun<'_> {
    render::ScheduledRun {
        key_prefix: "s1f2e3d4c/1767578400000/1",
        repository: "octo/repo",
        installation: Some(42),
        tick: "2026-01-05T03:00:00+01:00",
        attempt,
        branch: Some("main"),
        report,
    }
}

fn scheduled_event() -> Event {
    let mut event = Event::new(EventKind::Schedule, "octo/repo", HEAD);
    event.branch = Some("main".into());
    event
}

#[test]
fn scheduled_runs_report_a_commit_status_and_an_issue_comment() {
    use andon_core::schedule::{Report, ReportWhen};
    let report = Report {
        status: true,
        issue: Some(12),
        when: ReportWhen::Always,
    };
    let mut check = step(
        "orders",
        Status::Failure,
        2_345_000,
        vec![
            check_run("data-check", Conclusion::Failure, "3 checks failed"),
            comment("a comment for pull requests only"),
            label("stale", true),
        ],
    );
    check.log = "checked 5000000 rows".into();
    let run = run("nightly", scheduled_event(), vec![check]);
    let start = render::scheduled_run_start(&scheduled(&report, 1), "nightly", HEAD);
    insta::assert_json_snapshot!("scheduled_start", start);
    let effects = render::effects_for_scheduled_run(&scheduled(&report, 2), &run);
    insta::assert_json_snapshot!("scheduled_effects", effects);
    let Effect::Reply { body, .. } = &effects[1].effect else {
        panic!("a comment: {effects:?}");
    };
    insta::assert_snapshot!("scheduled_comment", body);
}

#[test]
fn scheduled_runs_report_only_what_is_asked() {
    use andon_core::schedule::{Report, ReportWhen};
    let passed = run(
        "nightly",
        scheduled_event(),
        vec![step("orders", Status::Success, 10, Vec::new())],
    );
    let kinds = |report: &Report, run: &RunRecord| -> Vec<&'static str> {
        render::effects_for_scheduled_run(&scheduled(report, 1), run)
            .iter()
            .map(|e| e.effect.kind())
            .collect()
    };
    assert!(kinds(&Report::default(), &passed).is_empty());
    let on_failure = Report {
        status: false,
        issue: Some(3),
        when: ReportWhen::Failure,
    };
    assert!(kinds(&on_failure, &passed).is_empty());
    let errored = run(
        "nightly",
        scheduled_event(),
        vec![step("orders", Status::Error, 10, Vec::new())],
    );
    assert_eq!(kinds(&on_failure, &errored), ["reply"]);
    let status = Report {
        status: true,
        ..Report::default()
    };
    let effects = render::effects_for_scheduled_run(&scheduled(&status, 1), &errored);
    assert!(
        matches!(&effects[..], [e] if matches!(&e.effect, Effect::CommitStatus { state, .. } if state.as_str() == "error")),
        "{effects:?}"
    );
    assert!(render::scheduled_run_start(&scheduled(&on_failure, 1), "nightly", HEAD).is_none());
}
