//! Schedules end to end: `andon run --event schedule` at a given reference
//! time, `andon validate` on schedule keys, and `andon serve` reading a
//! repository's schedules from a push to its default branch, firing a tick,
//! recording the run, reporting it on the fake GitHub, and keeping its
//! state across a SIGKILL.

use std::collections::HashSet;
use std::time::Duration;

use andon_testkit::github::FakeGitHub;
use andon_testkit::webhook::Payload;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::server::{REPO, Server};
use crate::support::{TestRepo, andon, assert_contains, stderr, stdout};

/// A workflow that echoes its event through the testbed plugin.
fn echo_workflow(triggers: &str, extra: &str) -> String {
    format!(
        "name: nightly\non:\n{triggers}\n{extra}steps:\n  - id: echo\n    uses: ./plugins/testbed.wasm\n    sha256: {}\n    with: {{ mode: echo }}\n",
        hex::encode(Sha256::digest(andon_bundle::testing::TESTBED))
    )
}

fn repo_with(workflow: &str) -> TestRepo {
    let repo = TestRepo::new();
    repo.write("plugins/testbed.wasm", andon_bundle::testing::TESTBED);
    repo.write(".andon/workflows/nightly.yml", workflow);
    repo.write("data/orders.csv", "id,amount\n1,10\n");
    repo.commit_all("nightly workflow");
    repo
}

/// The event the testbed plugin saw, from its echo comment.
fn echoed(run: &Value) -> Value {
    let body = run["actions"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["kind"] == "comment"))
        .and_then(|a| a["body"].as_str())
        .unwrap_or_else(|| panic!("an echo comment in {run:#}"));
    serde_json::from_str(body).expect("the echo is JSON")
}

#[test]
fn run_event_schedule_runs_at_the_given_reference_time() {
    let repo = repo_with(&echo_workflow(
        "  schedule: [{ cron: \"0 3 * * *\", timezone: Europe/Paris }]",
        "",
    ));
    let workflow = repo.path().join(".andon/workflows/nightly.yml");
    let (code, json) = repo.run_json(
        &workflow,
        &["--event", "schedule", "--now", "2026-01-05T03:00:00+01:00"],
    );
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(json["status"], "success");
    assert_eq!(json["event"]["kind"], "schedule");
    assert_eq!(json["now"], "2026-01-05T02:00:00Z");
    assert_eq!(json["files_changed"], 0);
    let seen = echoed(&json);
    assert_eq!(seen["kind"], "schedule");
    assert_eq!(seen["changed_files"], 0);
    assert_eq!(seen["head"], repo.git(&["rev-parse", "HEAD"]));
    // Recorded as a schedule run.
    let runs = repo.andon(&["runs", "--format", "json"]);
    let runs: Value = serde_json::from_slice(&runs.stdout).expect("runs JSON");
    assert_eq!(runs[0]["event"], "schedule");

    // A workflow without a schedule trigger does not run on one.
    let manual = repo_with(&echo_workflow("  manual:", ""));
    let (code, json) = manual.run_json(
        &manual.path().join(".andon/workflows/nightly.yml"),
        &["--event", "schedule"],
    );
    assert_eq!((code, &json["status"]), (0, &Value::from("skipped")));
    assert_eq!(json["reason"], "no `schedule` trigger");

    // A reference time that is not RFC 3339 is refused before anything runs.
    let out = repo.run(&workflow, &["--event", "schedule", "--now", "tomorrow"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_contains(&stderr(&out), &["`tomorrow` is not an RFC 3339 time"]);
}

#[test]
fn a_scheduled_run_stops_at_its_deadline() {
    let sha = hex::encode(Sha256::digest(andon_bundle::testing::TESTBED));
    let step = |id: &str, mode: &str| {
        format!(
            "  - id: {id}\n    uses: ./plugins/testbed.wasm\n    sha256: {sha}\n    with: {{ mode: {mode} }}\n"
        )
    };
    let workflow = format!(
        "name: nightly\non:\n  schedule: [{{ cron: \"0 3 * * *\" }}]\nschedule_policy: {{ deadline: 2s }}\nsteps:\n{}{}{}",
        step("first", "echo"),
        step("spin", "loop"),
        step("after", "echo"),
    );
    let repo = repo_with(&workflow);
    let started = std::time::Instant::now();
    let (code, json) = repo.run_json(
        &repo.path().join(".andon/workflows/nightly.yml"),
        &["--event", "schedule"],
    );
    // The looping step had 30 s of its own but only what was left of the
    // run's 2 s.
    assert!(started.elapsed() < Duration::from_secs(20), "{json:#}");
    assert_eq!(
        (code, &json["status"]),
        (1, &Value::from("failure")),
        "{json:#}"
    );
    let steps = json["steps"].as_array().expect("steps");
    let status: Vec<&str> = steps
        .iter()
        .map(|s| s["status"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(status, ["success", "error", "skipped"], "{json:#}");
    assert_contains(
        steps[1]["error"].as_str().unwrap_or(""),
        &["ran past its time limit"],
    );
}

#[test]
fn validate_points_at_schedule_mistakes() {
    let text = echo_workflow(
        "  schedule:\n    - cron: \"0 3 * * 8\"\n      timezone: Europe/Pariss\n      overlap: allow",
        "schedule_policy: { missed: latest, retries: 2, deadline: 10m }\n",
    );
    let repo = repo_with(&text);
    let out = repo.andon(&["validate", "--repo", repo.path().to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert_contains(
        &stdout(&out),
        &[
            "nightly.yml:4:",
            "day of week `8` in cron expression `0 3 * * 8` is invalid",
            "nightly.yml:5:",
            "unknown time zone `Europe/Pariss`",
            "hint: did you mean `Europe/Paris`?",
            "`overlap` cannot be `allow`",
            "hint: expected one of: skip, queue, cancel",
        ],
    );
}

#[test]
fn schedule_list_says_when_there_is_none() {
    let data = tempfile::tempdir().expect("tempdir");
    let out = andon(data.path(), &["schedule", "list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_contains(&stdout(&out), &["no schedules"]);
}

/// `andon schedule list --format json`, through the server while it runs.
fn schedules(server: &Server) -> Vec<Value> {
    let out = andon(&server.data, &["schedule", "list", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice::<Value>(&out.stdout)
        .expect("schedule list is JSON")
        .as_array()
        .cloned()
        .expect("an array")
}

/// The ticks the reports on issue 1 name, in order.
fn reported_ticks(github: &FakeGitHub) -> Vec<String> {
    github
        .comments(REPO, 1)
        .iter()
        .filter_map(|c| {
            let rest = c.body.split("scheduled for `").nth(1)?;
            Some(rest.split('`').next()?.to_string())
        })
        .collect()
}

#[test]
fn serve_fires_a_scheduled_workflow_records_and_reports_it() {
    let origin = repo_with(&echo_workflow(
        "  schedule: [{ cron: \"* * * * *\" }]",
        "report: { status: true, issue: 1 }\n",
    ));
    let head = origin.git(&["rev-parse", "HEAD"]);
    let local = repo_with(&echo_workflow(
        "  schedule: [{ cron: \"30 4 * * *\", timezone: America/New_York }]",
        "",
    ));
    let github = FakeGitHub::start();
    let data = tempfile::tempdir().expect("tempdir");
    let local_path = local.path().to_str().expect("utf-8").to_string();
    let mut server = Server::start(
        data.path(),
        &github.url(),
        &[("ANDON_SCHEDULE_REPOS", local_path.as_str())],
    );

    // The local repository's schedule is known from the start.
    let listed = schedules(&server);
    assert_eq!(listed.len(), 1, "{listed:#?}");
    assert_eq!(listed[0]["timezone"], "America/New_York");
    assert_eq!(listed[0]["cron"], "30 4 * * *");
    assert!(
        listed[0]["next_fire"]
            .as_str()
            .is_some_and(|t| t.contains("T04:30:00-0")),
        "{listed:#?}"
    );

    // A push to the default branch makes the server read the schedules.
    let push = Payload::fixture("push", "payload.json")
        .repository(REPO, origin.path().to_str().expect("utf-8"))
        .set("/ref", serde_json::json!("refs/heads/main"))
        .set("/repository/default_branch", serde_json::json!("main"))
        .set("/deleted", serde_json::json!(false))
        .set("/created", serde_json::json!(false))
        .base_sha(&head)
        .head_sha(&head);
    let (status, body) = server.post(&push.delivery("push-main-1"));
    assert_eq!(status, 202, "{body}");

    // The next minute's tick runs and is reported on issue 1.
    let reported = github.wait_for(
        |gh| !reported_ticks(gh).is_empty(),
        Duration::from_secs(150),
    );
    assert!(reported, "no scheduled run was reported:\n{}", server.log());
    let comment = github.comments(REPO, 1)[0].body.clone();
    assert_contains(&comment, &["`nightly` passed · scheduled for `", "run "]);
    // The commit status was asked for on the default branch's head (the
    // fake has no statuses endpoint: the effect ends refused, not retried).
    let status_path = format!("/repos/{REPO}/commits/{head}/status");
    assert!(
        github.wait_for(
            |gh| gh.calls().iter().any(|c| c.path == status_path),
            Duration::from_secs(30)
        ),
        "no commit status call:\n{}",
        server.log()
    );
    assert!(
        server.wait_idle(Duration::from_secs(60)),
        "{}",
        server.log()
    );

    let listed = schedules(&server);
    let nightly = listed
        .iter()
        .find(|s| s["repository"] == REPO)
        .unwrap_or_else(|| panic!("{listed:#?}"));
    assert_eq!(nightly["cron"], "* * * * *");
    assert_eq!(nightly["timezone"], "UTC");
    assert_eq!(nightly["policy"]["missed"], "latest");
    let run_id = nightly["last_run"]["run"].as_u64().expect("a run id");
    let tick_ms = nightly["last_run"]["tick_ms"].as_u64().expect("a tick");
    assert!(nightly["next_fire_ms"].as_u64().expect("a next fire") > tick_ms);
    let text = andon(&server.data, &["schedule", "list"]);
    assert_contains(
        &stdout(&text),
        &[
            REPO,
            "nightly",
            "cron `* * * * *` in UTC",
            "last run: tick",
            "next fire:",
        ],
    );

    let shown = andon(
        &server.data,
        &["runs", "show", &run_id.to_string(), "--format", "json"],
    );
    let run: Value = serde_json::from_slice(&shown.stdout).expect("run JSON");
    assert_eq!(run["event"]["kind"], "schedule");
    assert_eq!(run["event"]["head"], head.as_str());
    let body = run["steps"][0]["actions"][0]["body"]
        .as_str()
        .expect("echo");
    let seen: Value = serde_json::from_str(body).expect("echo JSON");
    assert_eq!(seen["kind"], "schedule");

    // SIGKILL and back: the schedule keeps where it stands, and no tick
    // is ever reported twice.
    server.kill9();
    server.restart();
    let listed = schedules(&server);
    let nightly = listed
        .iter()
        .find(|s| s["repository"] == REPO)
        .unwrap_or_else(|| panic!("{listed:#?}"));
    assert!(nightly["last_run"]["tick_ms"].as_u64().expect("kept") >= tick_ms);
    assert!(
        server.wait_idle(Duration::from_secs(60)),
        "{}",
        server.log()
    );
    let ticks = reported_ticks(&github);
    let unique: HashSet<&String> = ticks.iter().collect();
    assert_eq!(unique.len(), ticks.len(), "a tick ran twice: {ticks:?}");
    let status = server.terminate();
    assert!(status.success(), "{status:?}\n{}", server.log());
}
