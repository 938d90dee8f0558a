//! Runs of the whole plugin against a fake host, one event after another,
//! each reading the kv state the previous one wrote.

use andon_pdk::testing::{FakeHost, event, pull_request, run_info};
use andon_pdk::types::{Action, EventKind, Invocation, PluginError, PullRequest, RunInfo};

use super::*;

/// The kv state and the host's pull requests between runs.
struct World {
    kv: Option<Vec<u8>>,
    pulls: Result<Vec<PullRequest>, String>,
    /// The pull request of the event being run.
    own: Option<u64>,
}

impl World {
    fn new(pulls: Vec<PullRequest>) -> World {
        World {
            kv: None,
            pulls: Ok(pulls),
            own: None,
        }
    }

    fn host(&self) -> FakeHost {
        let host = match &self.pulls {
            Ok(pulls) => FakeHost::new().pulls(pulls.clone()),
            Err(e) => FakeHost::new().pulls_error(e),
        };
        match &self.kv {
            Some(v) => host.kv(STATE_KEY, v.clone()),
            None => host,
        }
    }

    /// Runs the plugin, keeps its kv write and applies its label changes
    /// to the pull requests; returns the actions as short strings and the
    /// `state` output.
    fn run(&mut self, inv: Invocation) -> (Vec<String>, String) {
        let host = self.host();
        self.own = inv.event.number;
        let actions = match <AndonCord as Plugin>::run(inv, &host) {
            Ok(actions) => actions,
            Err(e) => panic!("unexpected error {e:?}"),
        };
        let mut shown = Vec::new();
        for action in &actions {
            shown.push(self.apply(action));
        }
        (
            shown,
            host.outputs().get("state").cloned().unwrap_or_default(),
        )
    }

    fn apply(&mut self, action: &Action) -> String {
        let mut relabel = |number: u64, label: &str, add: bool| {
            if let Ok(pulls) = &mut self.pulls
                && let Some(pull) = pulls.iter_mut().find(|p| p.number == number)
            {
                pull.labels.retain(|l| l != label);
                if add {
                    pull.labels.push(label.to_string());
                }
            }
        };
        match action {
            Action::KvSet(entry) => {
                self.kv = Some(entry.value.clone());
                "kv".into()
            }
            Action::AddLabelTo(l) => {
                relabel(l.number, &l.label, true);
                format!("+{} #{}", l.label, l.number)
            }
            Action::RemoveLabelFrom(l) => {
                relabel(l.number, &l.label, false);
                format!("-{} #{}", l.label, l.number)
            }
            Action::AddLabel(l) => {
                relabel(self.own.unwrap_or_default(), l, true);
                format!("+{l}")
            }
            Action::RemoveLabel(l) => {
                relabel(self.own.unwrap_or_default(), l, false);
                format!("-{l}")
            }
            Action::CommentOn(c) => format!("comment #{}: {}", c.number, c.body),
            Action::Comment(body) => format!("comment: {body}"),
            Action::Fail(why) => format!("fail: {why}"),
            other => format!("{other:?}"),
        }
    }
}

fn finished(workflow: &str, status: &str, id: u64) -> Invocation {
    finished_with(RunInfo {
        id,
        url: Some(format!("https://ci.example/runs/{id}")),
        summary: format!("{workflow} broke"),
        ..run_info(workflow, status)
    })
}

fn finished_with(run: RunInfo) -> Invocation {
    event(EventKind::WorkflowRun).run(run).build()
}

fn clear(number: u64, author: &str, permission: &str) -> Invocation {
    event(EventKind::Comment)
        .number(number)
        .author(author)
        .permission(permission)
        .command("clear", &[])
        .build()
}

fn count(actions: &[String], prefix: &str) -> usize {
    actions.iter().filter(|a| a.starts_with(prefix)).count()
}

#[test]
fn a_failure_stops_every_open_pull_request_once() {
    let mut world = World::new(vec![
        pull_request(1, &[]),
        pull_request(2, &["do-not-merge/andon"]),
    ]);
    let (actions, output) = world.run(finished("ci", "failure", 41));
    assert_eq!(actions[0], "kv");
    assert_eq!(actions[1], "+do-not-merge/andon #1");
    assert_eq!(count(&actions, "+"), 1, "#2 has the label: {actions:?}");
    assert_eq!(count(&actions, "comment #"), 2, "{actions:?}");
    let comment = &actions[2];
    assert!(comment.contains("The line is stopped"), "{comment}");
    assert!(
        comment.contains("[#41](https://ci.example/runs/41)"),
        "{comment}"
    );
    assert!(comment.contains("ci broke"), "{comment}");
    assert!(comment.contains("/andon clear"), "{comment}");
    let output: serde_json::Value = serde_json::from_str(&output).expect("json output");
    assert_eq!(output["stopped"], true);
    assert_eq!(output["failing"][0]["workflow"], "ci");
    assert_eq!(output["failing"][0]["run_id"], 41);

    // The same run delivered again changes nothing: no comment, no label.
    let (actions, _) = world.run(finished("ci", "failure", 41));
    assert!(actions.is_empty(), "{actions:?}");

    // A new failing run edits the sticky comments in place: no labels.
    let (actions, _) = world.run(finished("ci", "error", 42));
    assert_eq!(count(&actions, "comment #"), 2, "{actions:?}");
    assert_eq!(count(&actions, "+"), 0, "{actions:?}");
    assert!(actions[1].contains("[#42]"), "{actions:?}");
}

#[test]
fn green_runs_lift_the_stop_when_nothing_fails_any_more() {
    let mut world = World::new(vec![pull_request(1, &[]), pull_request(2, &[])]);
    world.run(finished("ci", "failure", 1));
    let (actions, _) = world.run(finished("nightly", "failure", 2));
    assert!(actions[1].contains("`ci`") && actions[1].contains("`nightly`"));

    // One of two goes green: still stopped, the notice lists the other.
    let (actions, output) = world.run(finished("ci", "success", 3));
    assert_eq!(count(&actions, "-"), 0, "{actions:?}");
    assert_eq!(count(&actions, "comment #"), 2, "{actions:?}");
    assert!(!actions[1].contains("`ci`"), "{actions:?}");
    assert!(output.contains(r#""stopped":true"#), "{output}");

    // The last goes green: labels off, comments say so.
    let (actions, output) = world.run(finished("nightly", "success", 4));
    assert_eq!(
        &actions[..3],
        [
            "kv",
            "-do-not-merge/andon #1",
            "comment #1: ## ✅ The line is running again\n\nthe failing workflows are green \
             again, so the `do-not-merge/andon` label is off and merging may go on.\n"
        ]
    );
    assert_eq!(count(&actions, "-"), 2, "{actions:?}");
    assert!(output.contains(r#""stopped":false"#), "{output}");

    // Green again: nothing to do, and no need to list pull requests.
    world.pulls = Err("should not be asked".into());
    let (actions, _) = world.run(finished("ci", "success", 5));
    assert!(actions.is_empty(), "{actions:?}");
}

#[test]
fn runs_that_do_not_count_are_ignored() {
    let mut world = World::new(vec![pull_request(1, &[])]);
    let on_branch = RunInfo {
        branch: Some("feature".into()),
        ..run_info("ci", "failure")
    };
    let for_a_pull_request = RunInfo {
        event: EventKind::PullRequest,
        ..run_info("ci", "failure")
    };
    let no_branch = RunInfo {
        branch: None,
        ..run_info("ci", "failure")
    };
    for run in [
        on_branch,
        for_a_pull_request,
        no_branch,
        run_info("ci", "cancelled"),
    ] {
        let (actions, output) = world.run(finished_with(run));
        assert!(actions.is_empty(), "{actions:?}");
        assert!(output.contains(r#""stopped":false"#), "{output}");
    }
}

#[test]
fn configured_branches_and_workflows() {
    let mut world = World::new(vec![pull_request(1, &[])]);
    let config = r#"{"branches": ["release"], "workflows": ["ci"], "label": "stop"}"#;
    let run = |workflow: &str, branch: &str| {
        event(EventKind::WorkflowRun)
            .run(RunInfo {
                branch: Some(branch.into()),
                ..run_info(workflow, "failure")
            })
            .config(config)
            .build()
    };
    assert!(world.run(run("ci", "main")).0.is_empty());
    assert!(world.run(run("docs", "release")).0.is_empty());
    let (actions, _) = world.run(run("ci", "release"));
    assert!(actions.contains(&"+stop #1".to_string()), "{actions:?}");
    // A schedule run counts too; the host may not know the default branch
    // when `branches` is set.
    let mut scheduled = run("ci", "release");
    if let Some(r) = scheduled.event.run.as_mut() {
        r.event = EventKind::Schedule;
        r.id = 9;
    }
    scheduled.event.default_branch = None;
    let (actions, _) = world.run(scheduled);
    assert!(
        actions.iter().any(|a| a.contains("schedule")),
        "{actions:?}"
    );
}

#[test]
fn clear_needs_the_permission() {
    let mut world = World::new(vec![pull_request(1, &[]), pull_request(2, &[])]);
    world.run(finished("ci", "failure", 1));

    let (actions, _) = world.run(clear(2, "bob", "write"));
    assert_eq!(actions.len(), 2, "{actions:?}");
    assert_eq!(actions[0], "kv");
    assert!(
        actions[1].starts_with(
            "comment: @bob: `/andon clear` needs the `maintain` permission or higher (yours is \
             `write`)."
        ),
        "{actions:?}"
    );
    assert!(actions[1].contains("The line is stopped"), "{actions:?}");

    let (actions, output) = world.run(clear(2, "carol", "maintain"));
    assert_eq!(actions[0], "kv");
    assert!(actions.contains(&"-do-not-merge/andon #1".to_string()));
    // The event's own pull request gets the plain actions.
    assert!(
        actions.contains(&"-do-not-merge/andon".to_string()),
        "{actions:?}"
    );
    let own = actions
        .iter()
        .find(|a| a.starts_with("comment: "))
        .cloned()
        .unwrap_or_default();
    assert!(own.contains("@carol cleared it"), "{own}");
    assert!(output.contains(r#""stopped":false"#), "{output}");

    // Clearing a running line says so.
    let (actions, _) = world.run(clear(2, "carol", "admin"));
    assert_eq!(
        actions,
        ["comment: The line is running: there is nothing to clear.\n"]
    );
    let (actions, _) = world.run(clear(2, "dave", "read"));
    assert!(
        actions[0].contains("there is nothing to clear"),
        "{actions:?}"
    );
}

#[test]
fn the_clear_permission_is_configurable() {
    let mut world = World::new(vec![pull_request(1, &[])]);
    world.run(finished("ci", "failure", 1));
    let mut inv = clear(1, "bob", "write");
    inv.config = r#"{"clear_permission": "write"}"#.into();
    let (actions, _) = world.run(inv);
    assert!(
        actions.contains(&"-do-not-merge/andon".to_string()),
        "{actions:?}"
    );
}

#[test]
fn new_pull_requests_are_stopped_as_they_open() {
    let mut world = World::new(vec![pull_request(1, &[])]);
    let opened = |number: u64| {
        event(EventKind::PullRequest)
            .number(number)
            .action("opened")
            .build()
    };
    // Running: nothing.
    assert!(world.run(opened(5)).0.is_empty());
    world.run(finished("ci", "failure", 1));
    let (actions, _) = world.run(opened(5));
    assert_eq!(actions.len(), 3, "{actions:?}");
    assert_eq!(actions[0], "kv");
    assert_eq!(actions[1], "+do-not-merge/andon");
    assert!(actions[2].starts_with("comment: ## 🛑"), "{actions:?}");
    // Other actions and events without a number do nothing.
    let synchronize = event(EventKind::PullRequest)
        .number(5)
        .action("synchronize")
        .build();
    assert!(world.run(synchronize).0.is_empty());
    let nameless = event(EventKind::PullRequest).action("reopened").build();
    assert!(world.run(nameless).0.is_empty());
}

#[test]
fn a_failed_listing_fails_the_step_but_keeps_the_record() {
    let mut world = World::new(Vec::new());
    world.pulls = Err("no forge".into());
    let (actions, output) = world.run(finished("ci", "failure", 1));
    assert_eq!(
        actions,
        [
            "kv",
            "fail: andon-cord: cannot list the open pull requests: no forge"
        ]
    );
    assert!(output.contains(r#""stopped":true"#), "{output}");

    // Green while the listing still fails: the record clears, the lift is
    // pending and happens on the next run that can list.
    let (actions, _) = world.run(finished("ci", "success", 2));
    assert_eq!(actions[0], "kv");
    assert!(actions[1].starts_with("fail: "), "{actions:?}");
}

#[test]
fn a_lift_that_could_not_list_is_retried() {
    let mut world = World::new(vec![pull_request(1, &[])]);
    world.run(finished("ci", "failure", 1));
    world.pulls = Err("api down".into());
    let (actions, _) = world.run(finished("ci", "success", 2));
    assert_eq!(
        actions[1],
        "fail: andon-cord: cannot list the open pull requests: api down"
    );
    world.pulls = Ok(vec![pull_request(1, &["do-not-merge/andon"])]);
    let (actions, _) = world.run(finished("other", "success", 3));
    assert!(
        actions.contains(&"-do-not-merge/andon #1".to_string()),
        "{actions:?}"
    );
    let (actions, _) = world.run(finished("other", "success", 4));
    assert!(actions.is_empty(), "{actions:?}");
}

#[test]
fn odd_input() {
    let host = FakeHost::new();
    let run = |inv: Invocation| <AndonCord as Plugin>::run(inv, &host);
    let no_run = event(EventKind::WorkflowRun).build();
    assert!(matches!(run(no_run), Err(PluginError::Failed(m)) if m.contains("without its run")));
    let mut no_default = finished("ci", "failure", 1);
    no_default.event.default_branch = None;
    assert!(matches!(run(no_default), Err(PluginError::Failed(m)) if m.contains("`branches`")));
    let garbage = FakeHost::new().kv(STATE_KEY, "{{{");
    let actions = <AndonCord as Plugin>::run(event(EventKind::Push).build(), &garbage);
    assert!(matches!(actions.as_deref(), Ok([])), "{actions:?}");
    assert!(garbage.logs().iter().any(|l| l.contains("starting afresh")));
    let other_command = event(EventKind::Comment)
        .number(1)
        .command("hold", &[])
        .build();
    assert!(matches!(run(other_command).as_deref(), Ok([])));
    // No pull request to answer on: the refusal is only logged.
    let issue = event(EventKind::Comment)
        .permission("read")
        .command("clear", &[])
        .build();
    assert!(matches!(run(issue).as_deref(), Ok([])));
}

#[test]
fn bad_config_is_invalid_config() {
    for (json, needle) in [
        (r#"{"lable": "x"}"#, "lable"),
        (r#"{"label": " "}"#, "must not be empty"),
        (
            r#"{"clear_permission": "boss"}"#,
            "`boss` is not a permission",
        ),
        (r#"{"branches": "main"}"#, "with.branches"),
        (r#"{"workflows": [""]}"#, "empty name"),
    ] {
        let mut inv = finished("ci", "failure", 1);
        inv.config = json.into();
        match <AndonCord as Plugin>::run(inv, &FakeHost::new()) {
            Err(PluginError::InvalidConfig(m)) => assert!(m.contains(needle), "{m}"),
            other => panic!("{json}: expected invalid-config, got {other:?}"),
        }
    }
}

#[test]
fn manifest() {
    let manifest = <AndonCord as Plugin>::describe();
    assert_eq!(manifest.commands[0].name, "clear");
    assert_eq!(manifest.permissions.len(), 3);
    let schema = manifest.config_schema.unwrap_or_default();
    assert!(serde_json::from_str::<serde_json::Value>(&schema).is_ok());
}
