//! The stock review plugins in `andon serve`, through the example
//! workflows `workflows/prow-review.yml` and `workflows/andon-cord.yml`
//! committed into the origin: slash commands, reviews and pull request
//! events become labels, sticky comments and check runs on the fake GitHub;
//! a failing push stops the line on every open pull request.

use std::time::Duration;

use andon_testkit::github::{CheckRun, FakeGitHub, Permission, PullRequest};
use andon_testkit::webhook::Payload;
use serde_json::json;

use crate::server::{REPO, Server, comment, pull_request, push};
use crate::support::{TestRepo, assert_contains, project_root};

const WAIT: Duration = Duration::from_secs(90);

/// The bot's login on the fake GitHub (a personal access token).
const BOT: &str = "andon-bot";

/// An origin whose `main` has the example `workflows` (file names under
/// `workflows/`) in `.andon/workflows/`, and whatever `setup` writes; then a
/// `feature` branch with `change` applied. `(origin, base, head)`.
fn origin(
    workflows: &[&str],
    setup: impl FnOnce(&TestRepo),
    change: impl FnOnce(&TestRepo),
) -> (TestRepo, String, String) {
    let origin = TestRepo::new();
    for name in workflows {
        let file = project_root().join("workflows").join(name);
        let text =
            std::fs::read(&file).unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        origin.write(&format!(".andon/workflows/{name}"), text);
    }
    origin.write("src/lib.rs", "pub fn one() -> u32 { 1 }\n");
    setup(&origin);
    let base = origin.commit_all("base");
    origin.git(&["checkout", "-q", "-b", "feature"]);
    change(&origin);
    let head = origin.commit_all("the change");
    origin.git(&["checkout", "-q", "main"]);
    (origin, base, head)
}

/// The prow-review origin with a one-file change.
fn prow_origin() -> (TestRepo, String, String) {
    origin(
        &["prow-review.yml"],
        |_| {},
        |o| {
            o.write(
                "src/lib.rs",
                "pub fn one() -> u32 { 1 }\npub fn two() -> u32 { 2 }\n",
            );
        },
    )
}

/// A fake GitHub that knows pull request `number` (opened by `octocat`)
/// and the users' roles.
fn github(number: u64, base: &str, head: &str, users: &[(&str, Permission)]) -> FakeGitHub {
    let github = FakeGitHub::start();
    github.add_pull_request(PullRequest::new(REPO, number, head, base));
    for (user, level) in users {
        github.set_permission(REPO, user, *level);
    }
    github
}

/// The labels of `number` on the fake as a payload's `labels` array.
fn labels_json(github: &FakeGitHub, number: u64) -> serde_json::Value {
    let labels: Vec<_> = github
        .labels(REPO, number)
        .into_iter()
        .map(|name| json!({ "name": name }))
        .collect();
    json!(labels)
}

/// The bodies of the bot's comments on `number`, oldest first.
fn bot_comments(github: &FakeGitHub, number: u64) -> Vec<String> {
    github
        .comments(REPO, number)
        .into_iter()
        .filter(|c| c.author == BOT)
        .map(|c| c.body)
        .collect()
}

fn has_label(github: &FakeGitHub, number: u64, label: &str) -> bool {
    github.labels(REPO, number).iter().any(|l| l == label)
}

/// Posts `payload` as delivery `id` and waits until the server is idle.
fn deliver(server: &Server, payload: &Payload, id: &str) {
    let (status, body) = server.post(&payload.delivery(id));
    assert_eq!(status, 202, "{id}: {body}");
    assert!(
        server.wait_idle(WAIT),
        "{id} did not finish:\n{}",
        server.log()
    );
}

/// `author` comments `body` on pull request `number` (the comment exists on
/// the fake, as on GitHub), delivered as `id`; waits for the server.
fn say(
    server: &Server,
    github: &FakeGitHub,
    origin: &TestRepo,
    number: u64,
    author: &str,
    body: &str,
    id: &str,
) {
    let comment_id = github.add_comment(REPO, number, author, body);
    let payload = comment(origin, number, author, body).set("/comment/id", json!(comment_id));
    deliver(server, &payload, id);
}

/// A submitted review of pull request `number` by `reviewer` in `state`,
/// with the labels the pull request has on the fake.
fn review(
    origin: &TestRepo,
    github: &FakeGitHub,
    number: u64,
    (base, head): (&str, &str),
    reviewer: &str,
    state: &str,
) -> Payload {
    Payload::fixture("pull_request_review", "submitted.payload.json")
        .repository(REPO, origin.path().to_str().expect("utf-8 path"))
        .set("/repository/default_branch", json!("main"))
        .set("/pull_request/base/ref", json!("main"))
        .set("/pull_request/user/login", json!("octocat"))
        .set("/pull_request/labels", labels_json(github, number))
        .number(number)
        .base_sha(base)
        .head_sha(head)
        .set("/review/state", json!(state))
        .set("/review/user/login", json!(reviewer))
        .set("/review/commit_id", json!(head))
        .set("/sender/login", json!(reviewer))
}

/// A `pull_request` event for `number` with the labels it has on the fake.
fn pr_event(
    action: &str,
    origin: &TestRepo,
    github: &FakeGitHub,
    number: u64,
    (base, head): (&str, &str),
) -> Payload {
    pull_request(action, origin, number, base, head)
        .set("/pull_request/base/ref", json!("main"))
        .set("/pull_request/labels", labels_json(github, number))
}

#[test]
fn lgtm_follows_commands_reviews_and_pushes() {
    let (origin, base, head) = prow_origin();
    let github = github(
        1,
        &base,
        &head,
        &[
            ("wes", Permission::Write),
            ("octocat", Permission::Write),
            ("rev", Permission::Write),
        ],
    );
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(data.path(), &github.url(), &[]);

    // A writer LGTMs someone else's pull request.
    say(&server, &github, &origin, 1, "wes", "/lgtm", "lgtm-1");
    assert_eq!(github.labels(REPO, 1), ["lgtm"], "{}", server.log());
    assert_contains(&bot_comments(&github, 1).join("\n"), &["LGTM from @wes"]);

    // The author may not LGTM their own pull request: refused, said so.
    say(&server, &github, &origin, 1, "octocat", "/lgtm", "lgtm-2");
    assert_contains(
        &bot_comments(&github, 1).join("\n"),
        &["@octocat: you cannot LGTM your own PR."],
    );

    // `/lgtm cancel` takes it off.
    say(
        &server,
        &github,
        &origin,
        1,
        "wes",
        "/lgtm cancel",
        "lgtm-3",
    );
    assert!(!has_label(&github, 1, "lgtm"), "{}", server.log());
    assert_contains(
        &bot_comments(&github, 1).join("\n"),
        &["@wes cancelled LGTM"],
    );

    // An approving review puts it back.
    let approved = review(&origin, &github, 1, (&base, &head), "rev", "approved");
    deliver(&server, &approved, "review-1");
    assert_eq!(github.labels(REPO, 1), ["lgtm"], "{}", server.log());
    assert_contains(&bot_comments(&github, 1).join("\n"), &["LGTM from @rev"]);

    // A new push removes it.
    let pushed = pr_event("synchronize", &origin, &github, 1, (&base, &head));
    deliver(&server, &pushed, "sync-1");
    assert!(!has_label(&github, 1, "lgtm"), "{}", server.log());
    assert_contains(
        &bot_comments(&github, 1).join("\n"),
        &["New commits were pushed: the `lgtm` label is removed."],
    );
    // One sticky comment for the step, edited in place.
    let lgtm_comments = bot_comments(&github, 1)
        .iter()
        .filter(|b| b.contains("andon:sticky:prow-review/lgtm "))
        .count();
    assert_eq!(lgtm_comments, 1, "{:#?}", bot_comments(&github, 1));
}

#[test]
fn approve_needs_an_approver_for_every_owned_folder() {
    let (origin, base, head) = origin(
        &["prow-review.yml"],
        |o| {
            o.write("OWNERS", "approvers:\n  - alice\n");
            o.write("sub/OWNERS", "approvers:\n  - bob\n");
            o.write("sub/x.rs", "pub const X: u32 = 1;\n");
        },
        |o| {
            o.write(
                "src/lib.rs",
                "pub fn one() -> u32 { 1 }\npub fn two() -> u32 { 2 }\n",
            );
            o.write("sub/x.rs", "pub const X: u32 = 2;\n");
        },
    );
    let github = github(
        1,
        &base,
        &head,
        &[("alice", Permission::Write), ("bob", Permission::Write)],
    );
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(data.path(), &github.url(), &[]);
    let approve_comment = |github: &FakeGitHub| -> String {
        let comments: Vec<String> = bot_comments(github, 1)
            .into_iter()
            .filter(|b| b.contains("andon:sticky:prow-review/approve "))
            .collect();
        assert_eq!(comments.len(), 1, "one sticky comment: {comments:#?}");
        comments[0].clone()
    };

    // bob approves sub/ only: the root still needs alice.
    say(&server, &github, &origin, 1, "bob", "/approve", "approve-1");
    assert!(!has_label(&github, 1, "approved"), "{}", server.log());
    let said = approve_comment(&github);
    assert_contains(
        &said,
        &[
            "**Approval: NOT APPROVED**",
            "Approved by: @bob",
            "- [x] `sub/OWNERS` (`sub/x.rs`): approved by @bob",
            "- [ ] `OWNERS` (`src/lib.rs`): approvers: @alice",
        ],
    );

    // alice approves the root: every file is approved.
    say(
        &server,
        &github,
        &origin,
        1,
        "alice",
        "/approve",
        "approve-2",
    );
    assert_eq!(github.labels(REPO, 1), ["approved"], "{}", server.log());
    assert_contains(
        &approve_comment(&github),
        &["**Approval: APPROVED**", "it has the `approved` label"],
    );

    // alice withdraws: the label goes.
    say(
        &server,
        &github,
        &origin,
        1,
        "alice",
        "/approve cancel",
        "approve-3",
    );
    assert!(!has_label(&github, 1, "approved"), "{}", server.log());
    let said = approve_comment(&github);
    assert_contains(
        &said,
        &[
            "**Approval: NOT APPROVED**",
            "- [ ] `OWNERS` (`src/lib.rs`): approvers: @alice",
        ],
    );
}

#[test]
fn hold_and_hold_cancel() {
    let (origin, base, head) = prow_origin();
    let github = github(1, &base, &head, &[("rita", Permission::Read)]);
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(data.path(), &github.url(), &[]);

    say(&server, &github, &origin, 1, "rita", "/hold", "hold-1");
    assert_eq!(
        github.labels(REPO, 1),
        ["do-not-merge/hold"],
        "{}",
        server.log()
    );
    say(
        &server,
        &github,
        &origin,
        1,
        "rita",
        "/hold cancel",
        "hold-2",
    );
    assert!(github.labels(REPO, 1).is_empty(), "{}", server.log());
    // Holding says nothing: the label is the answer.
    assert!(
        bot_comments(&github, 1).is_empty(),
        "{:#?}",
        bot_comments(&github, 1)
    );
}

#[test]
fn label_applies_allowed_labels_and_explains_refusals() {
    let (origin, base, head) = prow_origin();
    let github = github(
        1,
        &base,
        &head,
        &[("rita", Permission::Read), ("mia", Permission::Maintain)],
    );
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(data.path(), &github.url(), &[]);

    say(
        &server,
        &github,
        &origin,
        1,
        "rita",
        "/label kind/bug",
        "label-1",
    );
    assert_eq!(github.labels(REPO, 1), ["kind/bug"], "{}", server.log());
    assert!(bot_comments(&github, 1).is_empty());

    // Not on the allow-list: refused, with the reason.
    say(
        &server,
        &github,
        &origin,
        1,
        "rita",
        "/label lgtm",
        "label-2",
    );
    assert_eq!(github.labels(REPO, 1), ["kind/bug"]);
    assert_contains(
        &bot_comments(&github, 1).join("\n"),
        &["`lgtm`: not a label this repository allows."],
    );

    // Restricted to maintainers: a reader is refused, a maintainer not.
    let restricted = "/label priority/critical-urgent";
    say(&server, &github, &origin, 1, "rita", restricted, "label-3");
    assert_eq!(github.labels(REPO, 1), ["kind/bug"]);
    assert_contains(
        &bot_comments(&github, 1).join("\n"),
        &["`maintain` permission", "yours is `read`"],
    );
    say(&server, &github, &origin, 1, "mia", restricted, "label-4");
    assert_eq!(
        github.labels(REPO, 1),
        ["kind/bug", "priority/critical-urgent"],
        "{}",
        server.log()
    );

    say(
        &server,
        &github,
        &origin,
        1,
        "rita",
        "/remove-label kind/bug",
        "label-5",
    );
    assert_eq!(github.labels(REPO, 1), ["priority/critical-urgent"]);
}

#[test]
fn pr_hygiene_checks_title_and_description() {
    let (origin, base, head) = prow_origin();
    let github = github(1, &base, &head, &[]);
    github.add_pull_request(PullRequest::new(REPO, 2, &head, &base));
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(data.path(), &github.url(), &[]);
    let hygiene = |github: &FakeGitHub| -> Vec<CheckRun> {
        github
            .check_runs(REPO)
            .into_iter()
            .filter(|r| r.name == "pr-hygiene")
            .collect()
    };

    let sloppy = pr_event("opened", &origin, &github, 1, (&base, &head))
        .set("/pull_request/title", json!("Update stuff"))
        .set("/pull_request/body", json!(""));
    deliver(&server, &sloppy, "opened-1");
    let runs = hygiene(&github);
    assert_eq!(runs.len(), 1, "{runs:#?}\n{}", server.log());
    let run = &runs[0];
    assert_eq!(run.head_sha, head);
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{run:#?}");
    let title = run.output.title.clone().unwrap_or_default();
    assert_contains(&title, &["title format", "description"]);
    let summary = run.output.summary.clone().unwrap_or_default();
    assert_contains(&summary, &["❌ title format", "The description is empty"]);

    let tidy = pr_event("opened", &origin, &github, 2, (&base, &head))
        .set("/pull_request/title", json!("feat: add two"))
        .set("/pull_request/body", json!("Adds `two`, which returns 2."));
    deliver(&server, &tidy, "opened-2");
    let runs = hygiene(&github);
    assert_eq!(runs.len(), 2, "{runs:#?}\n{}", server.log());
    assert_eq!(runs[1].conclusion.as_deref(), Some("success"), "{runs:#?}");
}

#[test]
fn andon_cord_stops_and_restarts_the_line() {
    // `review.yml` fails on a push that adds a likely secret (its
    // secret-scan step); `andon-cord.yml` watches it.
    let (origin, base, _) = origin(&["review.yml", "andon-cord.yml"], |_| {}, |_| {});
    let github = FakeGitHub::start();
    for number in 1..=3 {
        github.add_pull_request(PullRequest::new(REPO, number, &base, &base));
    }
    github.set_permission(REPO, "rita", Permission::Read);
    github.set_permission(REPO, "mia", Permission::Maintain);
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(data.path(), &github.url(), &[]);
    let stopped = |github: &FakeGitHub| (1..=3).all(|n| has_label(github, n, "do-not-merge/andon"));
    let running =
        |github: &FakeGitHub| (1..=3).all(|n| !has_label(github, n, "do-not-merge/andon"));
    let one_comment = |github: &FakeGitHub, n: u64| -> String {
        let comments = bot_comments(github, n);
        assert_eq!(comments.len(), 1, "#{n}: {comments:#?}");
        comments[0].clone()
    };
    let checks = |sha: &str| format!("https://github.com/{REPO}/commit/{sha}/checks");

    // A push that adds an AWS key fails `review`: every open pull request
    // is stopped, with one comment linking the failing run.
    origin.write("deploy.env", "AWS_ACCESS_KEY_ID=AKIAQ7RZ3XW4ND5KLMPO\n");
    let first = origin.commit_all("add deploy settings");
    deliver(&server, &push(&origin, &base, &first), "push-1");
    assert!(stopped(&github), "{}", server.log());
    let scan = github
        .check_runs(REPO)
        .into_iter()
        .find(|r| r.name == "secret-scan" && r.head_sha == first)
        .expect("secret-scan's check run");
    assert_eq!(scan.conclusion.as_deref(), Some("failure"), "{scan:#?}");
    for n in 1..=3 {
        assert_contains(
            &one_comment(&github, n),
            &["The line is stopped", "`review`", "`main`", &checks(&first)],
        );
    }

    // A second failing push edits the notices: no new comments.
    origin.write("more.env", "AWS_ACCESS_KEY_ID=AKIAZ2YX8WV7UT6SRQPN\n");
    let second = origin.commit_all("more settings");
    deliver(&server, &push(&origin, &first, &second), "push-2");
    assert!(stopped(&github), "{}", server.log());
    for n in 1..=3 {
        let body = one_comment(&github, n);
        assert_contains(&body, &[&checks(&second)]);
        assert!(!body.contains(&checks(&first)), "{body}");
    }

    // A reader may not clear the line; a maintainer may.
    say(
        &server,
        &github,
        &origin,
        2,
        "rita",
        "/andon clear",
        "clear-1",
    );
    assert!(stopped(&github), "{}", server.log());
    assert_contains(
        &bot_comments(&github, 2).join("\n"),
        &[
            "`/andon clear` needs the `maintain` permission",
            "yours is `read`",
        ],
    );
    say(
        &server,
        &github,
        &origin,
        2,
        "mia",
        "/andon clear",
        "clear-2",
    );
    assert!(running(&github), "{}", server.log());
    for n in 1..=3 {
        assert_contains(
            &one_comment(&github, n),
            &["The line is running again", "@mia cleared it"],
        );
    }

    // Another failure stops it again; the next green run lifts it.
    origin.write("third.env", "AWS_ACCESS_KEY_ID=AKIAM4NB5VC6XZ7LKJHG\n");
    let third = origin.commit_all("third settings");
    deliver(&server, &push(&origin, &second, &third), "push-3");
    assert!(stopped(&github), "{}", server.log());
    origin.git(&["rm", "-q", "deploy.env", "more.env", "third.env"]);
    let green = origin.commit_all("remove the keys");
    deliver(&server, &push(&origin, &third, &green), "push-4");
    assert!(running(&github), "{}", server.log());
    for n in 1..=3 {
        assert_contains(
            &one_comment(&github, n),
            &["The line is running again", "green again"],
        );
    }
}
