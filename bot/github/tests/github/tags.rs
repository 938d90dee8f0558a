//! Registry tags through the git data API (a tag object, then its ref),
//! found again by the ref; and the promotion gate's read of how a check
//! ended on a commit.

use andon_core::effect::{Effect, EffectOutcome};
use andon_github::GitHubError;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::{REPO, bodies, created, done, ok, planned, refusal, token_github};

const COMMIT: &str = "1234567890abcdef1234567890abcdef12345678";
const OTHER: &str = "fedcba0987654321fedcba0987654321fedcba09";
const TAG_OBJECT: &str = "abc1234def5678abc1234def5678abc1234def56";
const API: &str = "/repos/octo-org/hello-world";

fn tag(name: &str) -> Effect {
    Effect::Tag {
        name: name.into(),
        commit: COMMIT.into(),
        message: "Promote churn to prod".into(),
        tagger_name: "Jane Doe".into(),
        tagger_email: "jane@example.com".into(),
        // 2026-01-02T02:04:05Z
        time: 1_767_319_445,
    }
}

/// `GET .../git/ref/tags/{name}` answers with a ref to `object`.
fn reference(name: &str, kind: &str, sha: &str) -> Value {
    json!({
        "ref": format!("refs/tags/{name}"),
        "node_id": "REF_kwDOAJy2KrByZWZzL3RhZ3MvdjE",
        "url": format!("https://api.github.com{API}/git/refs/tags/{name}"),
        "object": { "type": kind, "sha": sha, "url": format!("https://api.github.com{API}/git/{kind}s/{sha}") },
    })
}

/// A tag object `sha` on commit `commit`, as GitHub answers it.
fn tag_object(sha: &str, name: &str, commit: &str) -> Value {
    json!({
        "node_id": "TAG_kwDOAJy2KrFhYmMxMjM0",
        "tag": name,
        "sha": sha,
        "url": format!("https://api.github.com{API}/git/tags/{sha}"),
        "message": "Promote churn to prod\n",
        "tagger": { "name": "Jane Doe", "email": "jane@example.com", "date": "2026-01-02T02:04:05Z" },
        "object": { "type": "commit", "sha": commit, "url": format!("https://api.github.com{API}/git/commits/{commit}") },
        "verification": { "verified": false, "reason": "unsigned", "signature": null, "payload": null, "verified_at": null },
    })
}

async fn mount_ref(server: &MockServer, encoded: &str, answer: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(format!("{API}/git/ref/tags/{encoded}")))
        .respond_with(answer)
        .mount(server)
        .await;
}

async fn mount_tag_object(server: &MockServer, name: &str, commit: &str) {
    Mock::given(method("GET"))
        .and(path(format!("{API}/git/tags/{TAG_OBJECT}")))
        .respond_with(ok(tag_object(TAG_OBJECT, name, commit)))
        .mount(server)
        .await;
}

fn failed(outcome: EffectOutcome) -> String {
    match outcome {
        EffectOutcome::Failed { error } => error,
        EffectOutcome::Done { detail } => panic!("done: {detail}"),
    }
}

#[tokio::test]
async fn a_tag_is_a_tag_object_then_a_ref() {
    let server = MockServer::start().await;
    mount_ref(&server, "churn%23prod%233", refusal(404, "Not Found")).await;
    Mock::given(method("POST"))
        .and(path(format!("{API}/git/tags")))
        .and(body_json(json!({
            "tag": "churn#prod#3",
            "message": "Promote churn to prod",
            "object": COMMIT,
            "type": "commit",
            "tagger": { "name": "Jane Doe", "email": "jane@example.com", "date": "2026-01-02T02:04:05Z" },
        })))
        .respond_with(created(tag_object(TAG_OBJECT, "churn#prod#3", COMMIT)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{API}/git/refs")))
        .and(body_json(
            json!({ "ref": "refs/tags/churn#prod#3", "sha": TAG_OBJECT }),
        ))
        .respond_with(created(reference("churn#prod#3", "tag", TAG_OBJECT)))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = token_github(&server)
        .execute(&planned(tag("churn#prod#3")))
        .await
        .expect("not transient");
    assert_eq!(
        done(outcome),
        "created tag churn#prod#3 (tag object abc1234) on 1234567"
    );
}

#[tokio::test]
async fn a_retry_finds_the_ref_and_makes_no_second_tag_object() {
    let server = MockServer::start().await;
    mount_ref(
        &server,
        "churn%40v0.0.2",
        ok(reference("churn@v0.0.2", "tag", TAG_OBJECT)),
    )
    .await;
    mount_tag_object(&server, "churn@v0.0.2", COMMIT).await;
    Mock::given(method("POST"))
        .respond_with(created(json!({})))
        .expect(0)
        .mount(&server)
        .await;
    let outcome = token_github(&server)
        .execute(&planned(tag("churn@v0.0.2")))
        .await
        .expect("not transient");
    assert_eq!(done(outcome), "tag churn@v0.0.2 already exists on 1234567");
}

#[tokio::test]
async fn a_ref_made_meanwhile_on_the_commit_is_done() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{API}/git/ref/tags/churn%40v0.0.2")))
        .respond_with(refusal(404, "Not Found"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    mount_ref(
        &server,
        "churn%40v0.0.2",
        ok(reference("churn@v0.0.2", "tag", TAG_OBJECT)),
    )
    .await;
    mount_tag_object(&server, "churn@v0.0.2", COMMIT).await;
    Mock::given(method("POST"))
        .and(path(format!("{API}/git/tags")))
        .respond_with(created(tag_object(OTHER, "churn@v0.0.2", COMMIT)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{API}/git/refs")))
        .respond_with(refusal(422, "Reference already exists"))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = token_github(&server)
        .execute(&planned(tag("churn@v0.0.2")))
        .await
        .expect("not transient");
    assert_eq!(done(outcome), "tag churn@v0.0.2 already exists on 1234567");
}

#[tokio::test]
async fn a_tag_on_another_commit_is_never_moved() {
    let server = MockServer::start().await;
    mount_ref(
        &server,
        "churn%40v0.0.2",
        ok(reference("churn@v0.0.2", "tag", TAG_OBJECT)),
    )
    .await;
    mount_tag_object(&server, "churn@v0.0.2", OTHER).await;
    Mock::given(method("POST"))
        .respond_with(created(json!({})))
        .expect(0)
        .mount(&server)
        .await;
    let error = failed(
        token_github(&server)
            .execute(&planned(tag("churn@v0.0.2")))
            .await
            .expect("not transient"),
    );
    assert!(
        error.contains(
            "tag churn@v0.0.2 already exists on another commit fedcba0; registry tags are never moved"
        ),
        "{error}"
    );
}

#[tokio::test]
async fn a_lightweight_tag_of_the_name_is_refused() {
    let server = MockServer::start().await;
    mount_ref(
        &server,
        "churn%40v0.0.2",
        ok(reference("churn@v0.0.2", "commit", COMMIT)),
    )
    .await;
    let error = failed(
        token_github(&server)
            .execute(&planned(tag("churn@v0.0.2")))
            .await
            .expect("not transient"),
    );
    assert!(error.contains("as a lightweight tag"), "{error}");
    assert!(
        bodies(&server, "POST", &format!("{API}/git/tags"))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn a_server_error_is_tried_again_later() {
    let server = MockServer::start().await;
    mount_ref(&server, "churn%40v0.0.2", refusal(404, "Not Found")).await;
    Mock::given(method("POST"))
        .and(path(format!("{API}/git/tags")))
        .respond_with(refusal(502, "Bad Gateway"))
        .expect(1)
        .mount(&server)
        .await;
    let result = token_github(&server)
        .execute(&planned(tag("churn@v0.0.2")))
        .await;
    assert!(
        matches!(result, Err(GitHubError::Transient { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn an_unknown_commit_is_refused_for_good() {
    let server = MockServer::start().await;
    mount_ref(&server, "churn%40v0.0.2", refusal(404, "Not Found")).await;
    Mock::given(method("POST"))
        .and(path(format!("{API}/git/tags")))
        .respond_with(refusal(422, "Object does not exist"))
        .mount(&server)
        .await;
    let error = failed(
        token_github(&server)
            .execute(&planned(tag("churn@v0.0.2")))
            .await
            .expect("not transient"),
    );
    assert!(error.contains("Object does not exist"), "{error}");
}

// --- check_conclusion ------------------------------------------------------

const CHECK: &str = "andon / train";

fn check_run(id: u64, status: &str, conclusion: Option<&str>) -> Value {
    json!({
        "id": id,
        "name": CHECK,
        "head_sha": COMMIT,
        "status": status,
        "conclusion": conclusion,
        "started_at": "2026-01-02T02:04:05Z",
        "completed_at": null,
    })
}

/// Answers the check run listing with `runs` and the combined status with
/// `statuses`; the conclusion read.
async fn conclusion(runs: Value, statuses: Value) -> Option<String> {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{API}/commits/{COMMIT}/check-runs")))
        .and(query_param("check_name", CHECK))
        .and(query_param("filter", "latest"))
        .respond_with(ok(json!({
            "total_count": runs.as_array().map_or(0, Vec::len),
            "check_runs": runs,
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{API}/commits/{COMMIT}/status")))
        .respond_with(ok(json!({
            "state": "pending",
            "sha": COMMIT,
            "total_count": statuses.as_array().map_or(0, Vec::len),
            "statuses": statuses,
        })))
        .mount(&server)
        .await;
    token_github(&server)
        .check_conclusion(None, REPO, COMMIT, CHECK)
        .await
        .expect("read")
}

#[tokio::test]
async fn a_completed_check_answers_its_conclusion() {
    let runs = json!([check_run(7, "completed", Some("success"))]);
    assert_eq!(
        conclusion(runs, json!([])).await.as_deref(),
        Some("success")
    );
    let runs = json!([
        check_run(7, "completed", Some("success")),
        check_run(9, "completed", Some("failure")),
    ]);
    assert_eq!(
        conclusion(runs, json!([])).await.as_deref(),
        Some("failure"),
        "the newest run decides"
    );
}

#[tokio::test]
async fn a_running_check_answers_its_status() {
    let runs = json!([check_run(7, "in_progress", None)]);
    assert_eq!(
        conclusion(runs, json!([])).await.as_deref(),
        Some("in_progress")
    );
}

#[tokio::test]
async fn without_a_check_run_a_commit_status_of_that_context_answers() {
    let statuses = json!([
        { "context": "ci/other", "state": "failure" },
        { "context": CHECK, "state": "success" },
    ]);
    assert_eq!(
        conclusion(json!([]), statuses).await.as_deref(),
        Some("success")
    );
}

#[tokio::test]
async fn neither_a_check_run_nor_a_status_is_none() {
    let statuses = json!([{ "context": "ci/other", "state": "success" }]);
    assert_eq!(conclusion(json!([]), statuses).await, None);
}
