//! The model registry in `andon serve`: a push that changes a model
//! registers its next version through GitHub's git data API (the fake
//! writes the tag into the origin repository, so the mirror and `gto` see
//! it), and `/andon promote` assigns stages with permission and check gates.

use std::time::Duration;

use andon_testkit::github::{FakeGitHub, Permission};

use crate::server::{REPO, Server, comment, github_with_pull, push};
use crate::support::{TestRepo, andon, assert_contains, project_root, stdout};

const WAIT: Duration = Duration::from_secs(60);

/// An origin whose `main` has the model-release workflow, a model, its
/// metrics and a registry policy; then a commit that changes the model.
/// `(origin, before, after)`.
fn origin() -> (TestRepo, String, String) {
    let origin = TestRepo::new();
    origin.write(
        ".andon/workflows/model-release.yml",
        std::fs::read(project_root().join("workflows/model-release.yml")).expect("workflow"),
    );
    origin.write(
        ".andon/registry.yml",
        "promote:\n  stages:\n    staging: {}\n    prod: { require_checks: [model-eval] }\n",
    );
    origin.write(
        "artifacts.yaml",
        "churn:\n  type: model\n  path: models/churn.pkl\n  description: churn classifier\n",
    );
    origin.write("models/churn.pkl", "weights v1\n");
    origin.write("metrics/churn.json", "{\"auc\": 0.8}\n");
    let before = origin.commit_all("model v1");
    origin.write("models/churn.pkl", "weights v2\n");
    origin.write("metrics/churn.json", "{\"auc\": 0.86}\n");
    let after = origin.commit_all("model v2");
    (origin, before, after)
}

fn bot_comments(github: &FakeGitHub) -> Vec<String> {
    github
        .comments(REPO, 5)
        .into_iter()
        .filter(|c| c.author == "andon-bot")
        .map(|c| c.body)
        .collect()
}

#[test]
fn a_push_registers_and_promote_assigns_stages_through_the_api() {
    let (origin, before, after) = origin();
    let github = github_with_pull(5, &before, &after);
    github.set_git_dir(REPO, origin.path());
    github.set_permission(REPO, "maintainer", Permission::Write);
    github.set_permission(REPO, "visitor", Permission::Read);
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(data.path(), &github.url(), &[]);

    // The push registers churn v0.0.1 on the pushed commit.
    let (status, body) = server.post(&push(&origin, &before, &after).delivery("push-1"));
    assert_eq!(status, 202, "{body}");
    assert!(
        github.wait_for(|gh| !gh.refs(REPO).is_empty(), WAIT),
        "no tag was created:\n{}",
        server.log()
    );
    let tags = github.tags(REPO);
    assert_eq!(tags.len(), 1, "{tags:#?}");
    assert_eq!(tags[0].name, "churn@v0.0.1");
    assert_eq!(tags[0].object, after);
    assert_contains(
        &tags[0].message,
        &[
            "Registering artifact churn version v0.0.1\n\n",
            "Andon-Path: models/churn.pkl",
            "Andon-Sha256: ",
            "Andon-Workflow: model-release",
            "Andon-Metrics: {\"auc\":0.86}",
        ],
    );
    // The tag is real in the origin: the local CLI reads it.
    let local = tempfile::tempdir().expect("tempdir");
    let repo_arg = origin.path().to_str().expect("utf-8");
    let shown = andon(
        local.path(),
        &["model", "show", "churn@v0.0.1", "--repo", repo_arg],
    );
    assert_contains(
        &stdout(&shown),
        &[
            "commit:        ",
            &after,
            "path:          models/churn.pkl",
            "auc: 0.86",
        ],
    );

    // A redelivered push registers nothing new.
    let (status, _) = server.post(&push(&origin, &before, &after).delivery("push-2"));
    assert_eq!(status, 202);
    assert!(server.wait_idle(WAIT), "{}", server.log());
    assert_eq!(github.tags(REPO).len(), 1);

    // Read permission is not enough; prod needs model-eval to have passed;
    // a stage the policy does not list does not exist.
    let commands = [
        ("visitor", "/andon promote churn v0.0.1 staging", "p-1"),
        ("maintainer", "/andon promote churn v0.0.1 prod", "p-2"),
        ("maintainer", "/andon promote churn v0.0.1 prd", "p-3"),
        ("maintainer", "/andon promote churn v9.0.0 staging", "p-4"),
        ("maintainer", "/andon promote churn v0.0.1 staging", "p-5"),
    ];
    for (author, body, delivery) in commands {
        let id = github.add_comment(REPO, 5, author, body);
        let payload = comment(&origin, 5, author, body).set("/comment/id", serde_json::json!(id));
        assert_eq!(server.post(&payload.delivery(delivery)).0, 202);
        assert!(server.wait_idle(WAIT), "{}", server.log());
    }
    assert!(
        github.wait_for(|gh| gh.refs(REPO).len() == 2, WAIT),
        "{:#?}\n{}",
        github.refs(REPO),
        server.log()
    );
    let replies = bot_comments(&github);
    let said = replies.join("\n---\n");
    assert_contains(
        &said,
        &[
            "needs `write`",
            "`model-eval` (not run)",
            "there is no stage `prd`; .andon/registry.yml allows prod, staging",
            "`churn` has no version v9.0.0; known: v0.0.1",
            "Promoted `churn` v0.0.1 to `staging`: tag `churn#staging#1`",
        ],
    );
    let staging = &github.tags(REPO)[1];
    assert_eq!(
        (staging.name.as_str(), staging.object.as_str()),
        ("churn#staging#1", after.as_str())
    );
    assert_eq!(
        staging.message,
        "Assigning stage staging to artifact churn version v0.0.1"
    );

    // Once model-eval passed on the version's commit, prod is allowed.
    let status = serde_json::json!({ "state": "success", "context": "model-eval" }).to_string();
    let answer = andon_testkit::client::send_blocking(
        "POST",
        &format!("{}/repos/{REPO}/statuses/{after}", github.url()),
        &[
            ("content-type", "application/json"),
            ("authorization", "token test"),
        ],
        status,
    )
    .expect("status posted");
    assert_eq!(answer.status, 201, "{}", answer.text());
    let body = "/andon promote churn v0.0.1 prod";
    let id = github.add_comment(REPO, 5, "maintainer", body);
    let payload = comment(&origin, 5, "maintainer", body).set("/comment/id", serde_json::json!(id));
    assert_eq!(server.post(&payload.delivery("p-6")).0, 202);
    assert!(
        github.wait_for(|gh| gh.refs(REPO).len() == 3, WAIT),
        "{}",
        server.log()
    );
    assert_eq!(github.tags(REPO)[2].name, "churn#prod#2");
    let listed = andon(
        local.path(),
        &["model", "list", "--format", "json", "--repo", repo_arg],
    );
    let listed: serde_json::Value = serde_json::from_str(&stdout(&listed)).expect("json");
    assert_eq!(
        listed["churn"]["stage"],
        serde_json::json!({ "prod": "v0.0.1", "staging": "v0.0.1" })
    );
}

#[test]
fn andon_run_registers_with_gix_and_dry_run_only_prints() {
    let (origin, _, after) = origin();
    let workflow = project_root().join("workflows/model-release.yml");
    let push = ["--event", "push", "--branch", "main"];
    let mut dry = push.to_vec();
    dry.push("--dry-run");
    let (code, json) = origin.run_json(&workflow, &dry);
    assert_eq!(code, 0, "{json:#}");
    let actions: Vec<&str> = json["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter_map(|a| a["kind"].as_str())
        .collect();
    assert!(actions.contains(&"register-version"), "{json:#}");
    assert_eq!(json["tags"], serde_json::json!([]));
    assert!(origin.git(&["tag", "-l"]).trim().is_empty());

    let (code, json) = origin.run_json(&workflow, &push);
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(
        json["tags"][0],
        format!("created tag churn@v0.0.1 on {}", &after[..12])
    );
    let message = origin.git(&["tag", "-l", "--format=%(contents)", "churn@v0.0.1"]);
    assert_contains(
        &message,
        &[
            "Andon-Sha256: ",
            "Andon-Workflow: model-release",
            "Andon-Run: ",
        ],
    );
    // Again on the same commit: nothing new, and said so.
    let (code, json) = origin.run_json(&workflow, &push);
    assert_eq!(code, 0, "{json:#}");
    assert_contains(
        json["tags"][0].as_str().expect("tag line"),
        &["churn v0.0.1 is already registered on this commit"],
    );
    // A pull request proposes a model and registers nothing.
    let (code, json) = origin.run_json(&workflow, &["--event", "pull_request"]);
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(json["tags"], serde_json::json!([]));
    assert_eq!(origin.git(&["tag", "-l"]).lines().count(), 1);
}
