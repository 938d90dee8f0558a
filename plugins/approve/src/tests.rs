//! The plugin end to end against a [`FakeHost`]: events in, actions out.

use andon_pdk::testing::{EventBuilder, FakeHost, event, pull_request};
use andon_pdk::types::{Action, ChangedFile, EventKind, FileStatus, PluginError, Side};
use andon_pdk::{Plugin, RepoPermission};

use super::Approve;
use crate::state::State;

const ROOT: &str = "approvers: [root]\n";
const API: &str = "approvers: [Ann, '@bob']\nreviewers: [rev]\n";

/// A repository with root and `api/` OWNERS, and a change to `api/a.rs`.
fn repo() -> FakeHost {
    FakeHost::new()
        .file(Side::Base, "OWNERS", ROOT)
        .file(Side::Base, "api/OWNERS", API)
        .changed("api/a.rs", FileStatus::Modified, 3)
}

fn comment(login: &str, args: &[&str]) -> EventBuilder {
    event(EventKind::Comment)
        .number(7)
        .author(login)
        .permission("write")
        .command("approve", args)
}

fn pull(action: &str, author: &str) -> EventBuilder {
    event(EventKind::PullRequest)
        .number(7)
        .action(action)
        .author(author)
}

fn run(host: &FakeHost, builder: EventBuilder) -> Vec<Action> {
    <Approve as Plugin>::run(builder.build(), host).expect("runs")
}

fn stored(actions: &[Action]) -> Option<State> {
    actions.iter().find_map(|a| match a {
        Action::KvSet(entry) => {
            assert_eq!(entry.key, "pr/7/approvers");
            Some(State::decode(&entry.value).expect("a state"))
        }
        _ => None,
    })
}

fn text(actions: &[Action]) -> String {
    let comments: Vec<&String> = actions
        .iter()
        .filter_map(|a| match a {
            Action::Comment(body) => Some(body),
            _ => None,
        })
        .collect();
    assert_eq!(comments.len(), 1, "one sticky comment: {actions:?}");
    comments[0].clone()
}

fn labels(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::AddLabel(l) => Some(format!("+{l}")),
            Action::RemoveLabel(l) => Some(format!("-{l}")),
            _ => None,
        })
        .collect()
}

/// A state with `logins` approved (with write) and the author known.
fn state(author: &str, logins: &[&str]) -> Vec<u8> {
    let mut state = State {
        author: Some(author.into()),
        ..State::default()
    };
    for login in logins {
        state.approve(login, RepoPermission::Write);
    }
    state.encode()
}

#[test]
fn manifest() {
    let m = <Approve as Plugin>::describe();
    assert_eq!(m.name, "approve");
    assert_eq!(m.events, [EventKind::Comment, EventKind::PullRequest]);
    assert_eq!(m.commands[0].usage, "/approve [no-issue|cancel]");
    let schema: serde_json::Value =
        serde_json::from_str(m.config_schema.as_deref().expect("a schema")).expect("JSON");
    assert_eq!(schema["additionalProperties"], false);
}

#[test]
fn an_approver_approves() {
    let host = repo().kv("pr/7/approvers", state("zed", &[]));
    let actions = run(&host, comment("Bob", &[]));
    let state = stored(&actions).expect("recorded");
    assert!(state.approved_by("bob"));
    assert_eq!(state.approvals[0].permission, "write");
    assert_eq!(labels(&actions), ["+approved"]);
    let body = text(&actions);
    assert!(body.contains("**Approval: APPROVED**"), "{body}");
    assert!(body.contains("Approved by: @bob"), "{body}");
    assert_eq!(
        host.outputs().get("approved").map(String::as_str),
        Some("true")
    );
}

#[test]
fn no_issue_is_an_approval_and_labels_are_not_repeated() {
    let host = repo().kv("pr/7/approvers", state("zed", &[]));
    let actions = run(&host, comment("root", &["no-issue"]).labels(&["approved"]));
    assert!(stored(&actions).is_some_and(|s| s.approved_by("root")));
    assert!(labels(&actions).is_empty());
}

#[test]
fn a_non_approver_is_told_and_not_recorded() {
    let host = repo().kv("pr/7/approvers", state("zed", &[]));
    let actions = run(&host, comment("rev", &[]));
    assert_eq!(stored(&actions), None);
    assert!(labels(&actions).is_empty());
    let body = text(&actions);
    assert!(body.contains("@rev: you are not an approver"), "{body}");
    assert!(body.contains("**Approval: NOT APPROVED**"), "{body}");
    assert!(body.contains("Suggested approvers: @ann"), "{body}");
    assert!(body.contains("`/approve cancel`"), "{body}");
}

#[test]
fn cancel_withdraws_and_removes_the_label() {
    let host = repo().kv("pr/7/approvers", state("zed", &["bob"]));
    let actions = run(&host, comment("bob", &["cancel"]).labels(&["approved"]));
    assert!(stored(&actions).is_some_and(|s| s.approvals.is_empty()));
    assert_eq!(labels(&actions), ["-approved"]);
    let actions = run(&host, comment("ann", &["cancel"]));
    assert!(text(&actions).contains("nothing to cancel"));
}

#[test]
fn the_author_approves_implicitly_until_they_cancel() {
    let host = repo();
    let actions = run(&host, pull("opened", "Ann"));
    assert_eq!(stored(&actions).and_then(|s| s.author), Some("ann".into()));
    assert_eq!(labels(&actions), ["+approved"]);
    assert!(text(&actions).contains("@ann (author, implicitly)"));

    let host = repo().kv("pr/7/approvers", state("ann", &[]));
    let actions = run(&host, comment("ann", &["cancel"]).labels(&["approved"]));
    assert!(stored(&actions).is_some_and(|s| s.author_cancelled));
    assert_eq!(labels(&actions), ["-approved"]);

    let off = repo();
    let actions = run(
        &off,
        pull("opened", "ann").config(r#"{"implicit_self_approve": false}"#),
    );
    assert!(labels(&actions).is_empty());
}

#[test]
fn the_author_is_looked_up_for_comments() {
    let mut opened = pull_request(7, &[]);
    opened.author = "Ann".into();
    let host = repo().pulls(vec![pull_request(6, &[]), opened]);
    let actions = run(&host, comment("rev", &[]));
    assert_eq!(stored(&actions).and_then(|s| s.author), Some("ann".into()));
    assert_eq!(labels(&actions), ["+approved"], "ann approves implicitly");

    let host = repo().pulls_error("no forge");
    let actions = run(&host, comment("rev", &[]));
    assert!(labels(&actions).is_empty());
    assert!(
        host.logs()
            .iter()
            .any(|l| l.contains("cannot tell who opened #7"))
    );
}

#[test]
fn approvals_survive_a_push_but_new_files_need_their_owners() {
    let host = repo().kv("pr/7/approvers", state("zed", &["bob"]));
    let actions = run(&host, pull("synchronize", "zed").labels(&["approved"]));
    assert_eq!(stored(&actions), None, "nothing changed");
    assert!(labels(&actions).is_empty());

    let host = repo()
        .file(
            Side::Base,
            "web/OWNERS",
            "approvers: [cy]\noptions: {no_parent_owners: true}\n",
        )
        .changed("web/index.ts", FileStatus::Added, 10)
        .kv("pr/7/approvers", state("zed", &["bob"]));
    let actions = run(&host, pull("synchronize", "zed").labels(&["approved"]));
    assert_eq!(labels(&actions), ["-approved"]);
    let body = text(&actions);
    assert!(
        body.contains("- [x] `api/OWNERS` (`api/a.rs`): approved by @bob"),
        "{body}"
    );
    assert!(
        body.contains("- [ ] `web/OWNERS` (`web/index.ts`): approvers: @cy"),
        "{body}"
    );
}

#[test]
fn renames_need_the_old_folders_owners_too() {
    let file = |path: &str, old: Option<&str>, status| ChangedFile {
        path: path.into(),
        old_path: old.map(Into::into),
        status,
        added: 0,
        removed: 0,
        binary: false,
    };
    let paths = crate::owners::changed_paths(vec![
        file("web/a.rs", Some("api/a.rs"), FileStatus::Renamed),
        file("api/a.rs", None, FileStatus::Modified),
        file("b.rs", Some("ignored.rs"), FileStatus::Modified),
    ]);
    assert_eq!(paths, ["api/a.rs", "b.rs", "web/a.rs"]);
}

#[test]
fn no_owners_anywhere() {
    let host = FakeHost::new().changed("src/main.rs", FileStatus::Modified, 1);
    let actions = run(&host, comment("wes", &[]));
    assert_eq!(stored(&actions), None);
    let body = text(&actions);
    assert!(body.contains("No `OWNERS` file covers"), "{body}");
    assert!(body.contains("nobody may approve them"), "{body}");
    assert!(body.contains("@wes: you are not an approver"), "{body}");

    let writers = r#"{"no_owners_approver_permission": "write"}"#;
    let actions = run(&host, comment("wes", &[]).config(writers));
    assert!(stored(&actions).is_some_and(|s| s.approved_by("wes")));
    assert_eq!(labels(&actions), ["+approved"]);
    let actions = run(
        &host,
        comment("rita", &[]).permission("read").config(writers),
    );
    assert_eq!(stored(&actions), None);
}

#[test]
fn malformed_owners_are_reported_by_file_and_line() {
    let host = FakeHost::new()
        .file(Side::Base, "OWNERS", ROOT)
        .file(Side::Base, "api/OWNERS", "approvers:\n  - ann\n  - [bob]\n")
        .file(Side::Base, "OWNERS_ALIASES", "aliases: [\n")
        .file(Side::Base, "web/OWNERS", vec![0xff, 0xfe])
        .changed("api/a.rs", FileStatus::Modified, 1)
        .changed("web/b.rs", FileStatus::Modified, 1);
    let actions = run(&host, comment("ann", &[]));
    let body = text(&actions);
    assert!(
        body.contains("`api/OWNERS` line 3: an entry of `approvers` must be a login"),
        "{body}"
    );
    assert!(body.contains("`OWNERS_ALIASES` line"), "{body}");
    assert!(body.contains("`web/OWNERS` is not UTF-8"), "{body}");
    assert!(body.contains("@ann: you are not an approver"), "{body}");
    let actions = run(&host, comment("root", &[]));
    assert_eq!(
        labels(&actions),
        ["+approved"],
        "the root approves what broken files would"
    );
}

#[test]
fn odd_input_does_not_panic() {
    let host = repo().kv("pr/7/approvers", b"not json".to_vec());
    let actions = run(&host, comment("bob", &["please", "now"]));
    let body = text(&actions);
    assert!(
        body.contains("`/approve please now` is not understood"),
        "{body}"
    );
    assert!(host.logs().iter().any(|l| l.contains("starting over")));

    let no_number = event(EventKind::Comment)
        .author("bob")
        .command("approve", &[]);
    assert!(run(&host, no_number).is_empty());
    let anonymous = event(EventKind::Comment).number(7).command("approve", &[]);
    assert!(
        !run(&host, anonymous).is_empty(),
        "still refreshes the status"
    );
    let other = comment("bob", &[]).command("lgtm", &[]);
    assert!(run(&host, other).is_empty());
    assert!(run(&host, pull("labeled", "zed")).is_empty());
    assert!(run(&host, event(EventKind::Push)).is_empty());

    let weird = FakeHost::new()
        .file(Side::Base, "OWNERS", "approvers: [root]\n")
        .changed("", FileStatus::Modified, 0)
        .changed("//x//", FileStatus::Deleted, 0)
        .changed("../escape", FileStatus::Added, 0);
    let actions = run(&weird, comment("root", &[]));
    assert_eq!(labels(&actions), ["+approved"]);
}

#[test]
fn bad_config_is_invalid() {
    let host = repo();
    let inv = comment("bob", &[]).config(r#"{"lable": "x"}"#).build();
    match <Approve as Plugin>::run(inv, &host) {
        Err(PluginError::InvalidConfig(m)) => assert!(m.contains("lable"), "{m}"),
        other => panic!("expected invalid-config, got {other:?}"),
    }
}
