//! The plugin end to end against a [`FakeHost`]: events in, actions out.

use andon_pdk::Plugin;
use andon_pdk::testing::{EventBuilder, FakeHost, event, pull_request};
use andon_pdk::types::{Action, EventKind, FileStatus, PluginError, Side};

use super::Lgtm;

/// A host where pull request #7 was opened by `Zed`.
fn host() -> FakeHost {
    let mut pr = pull_request(7, &[]);
    pr.author = "Zed".into();
    FakeHost::new().pulls(vec![pull_request(3, &[]), pr])
}

fn lgtm(login: &str, permission: &str, args: &[&str]) -> EventBuilder {
    event(EventKind::Comment)
        .number(7)
        .author(login)
        .permission(permission)
        .command("lgtm", args)
}

fn review(login: &str, permission: &str, state: &str) -> EventBuilder {
    event(EventKind::Review)
        .number(7)
        .author(login)
        .permission(permission)
        .review(state)
}

fn run(host: &FakeHost, builder: EventBuilder) -> Vec<Action> {
    <Lgtm as Plugin>::run(builder.build(), host).expect("runs")
}

/// Label changes as `+label`/`-label`, and the comment's text.
fn summary(actions: &[Action]) -> (Vec<String>, String) {
    let mut labels = Vec::new();
    let mut comment = String::new();
    for action in actions {
        match action {
            Action::AddLabel(l) => labels.push(format!("+{l}")),
            Action::RemoveLabel(l) => labels.push(format!("-{l}")),
            Action::Comment(body) => comment.clone_from(body),
            other => panic!("unexpected action {other:?}"),
        }
    }
    (labels, comment)
}

#[test]
fn manifest() {
    let m = <Lgtm as Plugin>::describe();
    assert_eq!(m.name, "lgtm");
    assert_eq!(
        m.events,
        [
            EventKind::Comment,
            EventKind::Review,
            EventKind::PullRequest
        ]
    );
    assert_eq!(m.commands[0].name, "lgtm");
    assert_eq!(m.commands[0].usage, "/lgtm [cancel]");
    let schema: serde_json::Value =
        serde_json::from_str(m.config_schema.as_deref().expect("a schema")).expect("JSON");
    assert_eq!(schema["additionalProperties"], false);
}

#[test]
fn a_writer_lgtms_and_cancels() {
    let host = host();
    let (labels, comment) = summary(&run(&host, lgtm("Wes", "write", &[])));
    assert_eq!(labels, ["+lgtm"]);
    assert!(comment.starts_with("LGTM from @wes"), "{comment}");
    let (labels, _) = summary(&run(
        &host,
        lgtm("wes", "admin", &["no-issue"]).labels(&["lgtm"]),
    ));
    assert!(labels.is_empty(), "already labelled");
    let (labels, comment) = summary(&run(
        &host,
        lgtm("wes", "write", &["cancel"]).labels(&["lgtm"]),
    ));
    assert_eq!(labels, ["-lgtm"]);
    assert!(comment.contains("cancelled LGTM"), "{comment}");
}

#[test]
fn the_author_cannot_lgtm_but_may_cancel() {
    let host = host();
    let (labels, comment) = summary(&run(&host, lgtm("zed", "admin", &[])));
    assert!(labels.is_empty());
    assert!(
        comment.contains("@zed: you cannot LGTM your own PR"),
        "{comment}"
    );
    let (labels, _) = summary(&run(
        &host,
        lgtm("ZED", "read", &["cancel"]).labels(&["lgtm"]),
    ));
    assert_eq!(labels, ["-lgtm"]);
}

#[test]
fn without_permission_the_comment_says_what_is_needed() {
    let host = host();
    let (labels, comment) = summary(&run(&host, lgtm("rita", "read", &[])));
    assert!(labels.is_empty());
    assert_eq!(
        comment,
        "@rita: adding LGTM needs `write` permission on the repository (you have `read`)."
    );
    let (labels, comment) = summary(&run(
        &host,
        lgtm("rita", "triage", &["cancel"]).labels(&["lgtm"]),
    ));
    assert!(labels.is_empty());
    assert!(comment.contains("cancelling LGTM needs"), "{comment}");
    let triage = lgtm("rita", "triage", &[]).config(r#"{"permission": "triage", "label": "ok"}"#);
    assert_eq!(summary(&run(&host, triage)).0, ["+ok"]);
    // No permission known at all (the host did not look it up).
    let unknown = event(EventKind::Comment)
        .number(7)
        .author("x")
        .command("lgtm", &[]);
    assert!(
        summary(&run(&host, unknown))
            .1
            .contains("(you have `none`)")
    );
}

#[test]
fn owners_reviewers_may_lgtm_when_enabled() {
    let host = host()
        .file(Side::Base, "OWNERS", "approvers: [root]\n")
        .file(Side::Base, "api/OWNERS", "reviewers: [sig-api]\n")
        .file(
            Side::Base,
            "OWNERS_ALIASES",
            "aliases:\n  sig-api: [Rita]\n",
        )
        .file(
            Side::Base,
            "web/OWNERS",
            "reviewers: [wendy]\noptions: {no_parent_owners: true}\n",
        )
        .changed("api/a.rs", FileStatus::Modified, 1);
    let owners = r#"{"owners": true}"#;
    assert_eq!(
        summary(&run(&host, lgtm("rita", "read", &[]).config(owners))).0,
        ["+lgtm"]
    );
    assert_eq!(
        summary(&run(&host, lgtm("root", "none", &[]).config(owners))).0,
        ["+lgtm"]
    );
    let (labels, comment) = summary(&run(&host, lgtm("wendy", "read", &[]).config(owners)));
    assert!(labels.is_empty(), "web/ is not changed");
    assert!(comment.contains("OWNERS file"), "{comment}");
    assert!(
        summary(&run(&host, lgtm("rita", "read", &[]))).0.is_empty(),
        "owners is off"
    );
}

#[test]
fn reviews_act_as_lgtm() {
    let host = host();
    assert_eq!(
        summary(&run(&host, review("wes", "write", "approved"))).0,
        ["+lgtm"]
    );
    let requested = review("wes", "write", "changes_requested").labels(&["lgtm"]);
    assert_eq!(summary(&run(&host, requested)).0, ["-lgtm"]);
    assert!(run(&host, review("wes", "write", "commented")).is_empty());
    let outsider = summary(&run(&host, review("rita", "read", "approved")));
    assert!(outsider.0.is_empty() && outsider.1.contains("needs `write`"));
    let off = review("wes", "write", "approved").config(r#"{"review_acts_as_lgtm": false}"#);
    assert!(run(&host, off).is_empty());
    let no_state = event(EventKind::Review)
        .number(7)
        .author("wes")
        .permission("write");
    assert!(run(&host, no_state).is_empty());
}

#[test]
fn a_push_removes_the_label_unless_sticky() {
    let host = FakeHost::new();
    let push = || {
        event(EventKind::PullRequest)
            .number(7)
            .action("synchronize")
    };
    let (labels, comment) = summary(&run(&host, push().labels(&["lgtm"])));
    assert_eq!(labels, ["-lgtm"]);
    assert!(comment.contains("New commits were pushed"), "{comment}");
    assert!(run(&host, push()).is_empty(), "no label, nothing to say");
    let sticky = push()
        .labels(&["lgtm"])
        .config(r#"{"sticky_on_push": true}"#);
    assert!(run(&host, sticky).is_empty());
    let opened = event(EventKind::PullRequest)
        .number(7)
        .action("opened")
        .labels(&["lgtm"]);
    assert!(run(&host, opened).is_empty());
}

#[test]
fn the_forge_failing_fails_the_run() {
    let host = FakeHost::new().pulls_error("no forge");
    match <Lgtm as Plugin>::run(lgtm("wes", "write", &[]).build(), &host) {
        Err(PluginError::Failed(m)) => assert!(m.contains("who opened #7: no forge"), "{m}"),
        other => panic!("expected a failure, got {other:?}"),
    }
    // Cancelling by a writer needs no author.
    assert_eq!(
        summary(&run(
            &host,
            lgtm("wes", "write", &["cancel"]).labels(&["lgtm"])
        ))
        .0,
        ["-lgtm"]
    );
    // A closed (or unknown) pull request: no label, and the comment says why.
    let gone = FakeHost::new().pulls(vec![]);
    let (labels, comment) = summary(&run(&gone, lgtm("wes", "write", &[])));
    assert!(labels.is_empty());
    assert!(comment.contains("author could not be found"), "{comment}");
}

#[test]
fn odd_input_does_not_panic() {
    let host = host();
    let (labels, comment) = summary(&run(&host, lgtm("wes", "write", &["cancel", "please"])));
    assert!(labels.is_empty());
    assert!(
        comment.contains("`/lgtm cancel please` is not understood"),
        "{comment}"
    );
    let no_number = event(EventKind::Comment).author("wes").command("lgtm", &[]);
    assert!(run(&host, no_number).is_empty());
    let no_author = event(EventKind::Comment).number(7).command("lgtm", &[]);
    assert!(run(&host, no_author).is_empty());
    assert!(run(&host, lgtm("wes", "write", &[]).command("approve", &[])).is_empty());
    assert!(run(&host, event(EventKind::Schedule)).is_empty());
    let no_pr_push = event(EventKind::PullRequest)
        .action("synchronize")
        .labels(&["lgtm"]);
    assert!(run(&host, no_pr_push).is_empty());

    let broken =
        host.file(Side::Base, "OWNERS", "reviewers: [\n")
            .changed("a.rs", FileStatus::Modified, 1);
    let (labels, _) = summary(&run(
        &broken,
        lgtm("rita", "read", &[]).config(r#"{"owners": true}"#),
    ));
    assert!(labels.is_empty());
    assert!(
        broken.logs().iter().any(|l| l.contains("`OWNERS` line")),
        "{:?}",
        broken.logs()
    );
}

#[test]
fn bad_config_is_invalid() {
    let inv = lgtm("wes", "write", &[])
        .config(r#"{"sticky": true}"#)
        .build();
    match <Lgtm as Plugin>::run(inv, &host()) {
        Err(PluginError::InvalidConfig(m)) => assert!(m.contains("sticky"), "{m}"),
        other => panic!("expected invalid-config, got {other:?}"),
    }
}

#[test]
fn the_event_names_the_author_without_asking_the_forge() {
    // No pull requests to list: the event says who opened #7.
    let host = FakeHost::new().pulls_error("no forge");
    let (labels, comment) = summary(&run(
        &host,
        lgtm("zed", "admin", &[]).pull_request_author("Zed"),
    ));
    assert!(labels.is_empty());
    assert!(comment.contains("you cannot LGTM your own PR"), "{comment}");
    let (labels, _) = summary(&run(
        &host,
        lgtm("wes", "write", &[]).pull_request_author("Zed"),
    ));
    assert_eq!(labels, ["+lgtm"]);
}
