//! Pull requests and permissions, read into plain types.

use andon_github::{PullRequestState, RepoPermission};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

use crate::{REPO, fixture, ok, refusal, token_github};

async fn serve_pull(server: &MockServer, pull: Value) {
    Mock::given(method("GET"))
        .and(path("/repos/octo-org/hello-world/pulls/2"))
        .respond_with(ok(pull))
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_pull_request_comes_back_as_plain_fields() {
    let server = MockServer::start().await;
    // The `pull_request` of octokit/webhooks' `pull_request.opened` example,
    // the same object `GET /repos/{owner}/{repo}/pulls/{number}` returns.
    serve_pull(&server, fixture("pull-request.json")).await;
    let pull = token_github(&server)
        .pull_request(None, REPO, 2)
        .await
        .expect("pull request");
    assert_eq!(pull.number, 2);
    assert_eq!(pull.title, "Update the README with new information.");
    assert_eq!(
        pull.body,
        "This is a pretty simple change that we need to pull into master."
    );
    assert_eq!(pull.author, "Codertocat");
    assert_eq!(pull.state, PullRequestState::Open);
    assert!(!pull.draft);
    assert_eq!(pull.head_sha, "ec26c3e57ca3a959ca5aad62de7213c562f8c821");
    assert_eq!(pull.head_ref, "changes");
    assert_eq!(pull.base_sha, "f95f852bd8fca8fcc58a9a2d6c842781e32a215e");
    assert_eq!(pull.base_ref, "master");
    assert_eq!(pull.labels, ["bug"]);
    assert!(!pull.fork);
    assert_eq!(
        pull.head_clone_url.as_deref(),
        Some("https://github.com/Codertocat/Hello-World.git")
    );
}

#[tokio::test]
async fn a_head_in_another_or_a_deleted_repository_is_a_fork() {
    let mut pull = fixture("pull-request.json");
    pull["head"]["repo"]["full_name"] = "someone-else/Hello-World".into();
    pull["head"]["repo"]["clone_url"] = "https://github.com/someone-else/Hello-World.git".into();
    let server = MockServer::start().await;
    serve_pull(&server, pull.clone()).await;
    let info = token_github(&server)
        .pull_request(None, REPO, 2)
        .await
        .expect("pull request");
    assert!(info.fork);
    assert_eq!(
        info.head_clone_url.as_deref(),
        Some("https://github.com/someone-else/Hello-World.git")
    );

    pull["head"]["repo"] = Value::Null;
    pull["body"] = Value::Null;
    pull["state"] = "closed".into();
    pull["merged"] = true.into();
    let server = MockServer::start().await;
    serve_pull(&server, pull).await;
    let info = token_github(&server)
        .pull_request(None, REPO, 2)
        .await
        .expect("pull request");
    assert!(info.fork);
    assert_eq!(info.head_clone_url, None);
    assert_eq!(info.body, "");
    assert_eq!(info.state, PullRequestState::Merged);
}

#[tokio::test]
async fn a_missing_pull_request_is_a_refusal() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/octo-org/hello-world/pulls/9"))
        .respond_with(refusal(404, "Not Found"))
        .mount(&server)
        .await;
    let error = token_github(&server)
        .pull_request(None, REPO, 9)
        .await
        .expect_err("404");
    assert_eq!(error.status(), Some(404));
}

#[tokio::test]
async fn permissions_use_the_role_then_the_base_permission_and_404_is_none() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(
            "/repos/octo-org/hello-world/collaborators/octocat/permission",
        ))
        .respond_with(ok(fixture("collaborator-permission.json")))
        .mount(&server)
        .await;
    let mut custom = fixture("collaborator-permission.json");
    custom["role_name"] = "security-engineer".into();
    Mock::given(method("GET"))
        .and(path(
            "/repos/octo-org/hello-world/collaborators/dependabot%5Bbot%5D/permission",
        ))
        .respond_with(ok(custom))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(
            "/repos/octo-org/hello-world/collaborators/stranger/permission",
        ))
        .respond_with(refusal(404, "Not Found"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(
            "/repos/octo-org/hello-world/collaborators/reader/permission",
        ))
        .respond_with(ok(json!({ "permission": "read", "user": null })))
        .mount(&server)
        .await;
    let github = token_github(&server);
    let permission = |user: &'static str| github.permission(None, REPO, user);
    assert_eq!(
        permission("octocat").await.expect("known"),
        RepoPermission::Maintain
    );
    assert_eq!(
        permission("dependabot[bot]").await.expect("known"),
        RepoPermission::Write
    );
    assert_eq!(
        permission("stranger").await.expect("known"),
        RepoPermission::None
    );
    assert_eq!(
        permission("reader").await.expect("known"),
        RepoPermission::Read
    );
}

#[tokio::test]
async fn a_repository_that_is_not_owner_slash_name_makes_no_request() {
    let server = MockServer::start().await;
    let error = token_github(&server)
        .pull_request(None, "octo-org/hello/../../user", 1)
        .await
        .expect_err("invalid");
    assert!(error.to_string().contains("owner/name"), "{error}");
    assert!(
        server
            .received_requests()
            .await
            .expect("recorded")
            .is_empty()
    );
}
