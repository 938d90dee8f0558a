//! Commit statuses as a desired state of their context.

use andon_core::effect::{CommitState, Effect};
use serde_json::json;
use wiremock::matchers::{body_json, method, path, query_param};
use wiremock::{Mock, MockServer};

use crate::{bodies, created, done, ok, planned, refusal, token_github};

const SHA: &str = "6dcb09b5b57875f334f61aebed695e2e4193db5e";

fn status(state: CommitState, description: &str) -> Effect {
    Effect::CommitStatus {
        sha: SHA.into(),
        context: "andon / nightly".into(),
        state,
        description: description.into(),
    }
}

/// GitHub's combined status: the newest status of each context.
fn combined(statuses: &serde_json::Value) -> serde_json::Value {
    json!({
        "state": "pending",
        "sha": SHA,
        "total_count": statuses.as_array().map_or(0, Vec::len),
        "statuses": statuses,
    })
}

#[tokio::test]
async fn a_status_is_posted_once_and_then_found() {
    let server = MockServer::start().await;
    let route = format!("/repos/octo-org/hello-world/commits/{SHA}/status");
    Mock::given(method("GET"))
        .and(path(route.as_str()))
        .and(query_param("per_page", "100"))
        .respond_with(ok(combined(&json!([
            { "context": "ci/travis", "state": "success", "description": "ok" },
            { "context": "andon / nightly", "state": "pending", "description": "running" },
        ]))))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(route.as_str()))
        .respond_with(ok(combined(&json!([
            { "context": "andon / nightly", "state": "failure", "description": "2 checks failed" },
        ]))))
        .mount(&server)
        .await;
    let post = format!("/repos/octo-org/hello-world/statuses/{SHA}");
    Mock::given(method("POST"))
        .and(path(post.as_str()))
        .and(body_json(json!({
            "state": "failure",
            "context": "andon / nightly",
            "description": "2 checks failed",
        })))
        .respond_with(created(json!({ "id": 1, "state": "failure" })))
        .expect(1)
        .mount(&server)
        .await;
    let github = token_github(&server);
    let effect = planned(status(CommitState::Failure, "2 checks failed"));
    let first = done(github.execute(&effect).await.expect("first"));
    assert_eq!(first, "set commit status `andon / nightly` to failure");
    let second = done(github.execute(&effect).await.expect("second"));
    assert_eq!(second, "commit status `andon / nightly` already failure");
    assert_eq!(bodies(&server, "POST", &post).await.len(), 1);
}

#[tokio::test]
async fn a_status_on_an_unknown_commit_is_refused_for_good() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/repos/octo-org/hello-world/commits/{SHA}/status"
        )))
        .respond_with(refusal(422, "No commit found for SHA"))
        .mount(&server)
        .await;
    let outcome = token_github(&server)
        .execute(&planned(status(CommitState::Success, "passed")))
        .await
        .expect("not transient");
    assert!(
        matches!(&outcome, andon_core::effect::EffectOutcome::Failed { error } if error.contains("No commit found")),
        "{outcome:?}"
    );
}
