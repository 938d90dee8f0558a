//! Failures sorted for the outbox executor: refusals become `Failed`,
//! everything worth retrying an error with GitHub's requested wait, and
//! nothing is retried inside `execute`.

use std::time::Duration;

use andon_core::effect::{Effect, EffectOutcome};
use andon_github::GitHubError;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::{TOKEN, planned, refusal, token_config, token_github};

const LABELS: &str = "/repos/octo-org/hello-world/issues/1347/labels";

fn add_label() -> Effect {
    Effect::Label {
        number: 1347,
        label: "bug".into(),
        present: true,
    }
}

/// Executes `add_label` against a listing answered by `response`, once.
async fn outcome(response: ResponseTemplate) -> Result<EffectOutcome, GitHubError> {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(LABELS))
        .respond_with(response)
        .expect(1)
        .mount(&server)
        .await;
    token_github(&server).execute(&planned(add_label())).await
}

fn transient_wait(result: Result<EffectOutcome, GitHubError>) -> Option<Duration> {
    match result {
        Err(GitHubError::Transient { retry_after, .. }) => retry_after,
        other => panic!("not transient: {other:?}"),
    }
}

fn failed(result: Result<EffectOutcome, GitHubError>) -> String {
    match result {
        Ok(EffectOutcome::Failed { error }) => error,
        other => panic!("not failed: {other:?}"),
    }
}

#[tokio::test]
async fn too_many_requests_waits_as_long_as_retry_after_says() {
    let response = refusal(429, "Too Many Requests").insert_header("retry-after", "17");
    assert_eq!(
        transient_wait(outcome(response).await),
        Some(Duration::from_secs(17))
    );
}

#[tokio::test]
async fn a_secondary_rate_limit_is_transient() {
    let message = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.";
    let response = refusal(403, message);
    assert_eq!(
        transient_wait(outcome(response).await),
        Some(Duration::from_secs(60))
    );
    let response = refusal(403, message).insert_header("retry-after", "30");
    assert_eq!(
        transient_wait(outcome(response).await),
        Some(Duration::from_secs(30))
    );
}

#[tokio::test]
async fn an_exhausted_rate_limit_waits_until_the_reset_by_githubs_clock() {
    let server = MockServer::start().await;
    // 2030-01-01T00:00:00Z is 1893456000; the reset is two minutes later.
    Mock::given(method("GET"))
        .and(path(LABELS))
        .respond_with(
            refusal(403, "API rate limit exceeded for installation ID 42.")
                .insert_header("x-ratelimit-limit", "5000")
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-used", "5000")
                .insert_header("x-ratelimit-reset", "1893456120")
                .insert_header("date", "Tue, 01 Jan 2030 00:00:00 GMT"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let github = token_github(&server);
    let result = github.execute(&planned(add_label())).await;
    assert_eq!(transient_wait(result), Some(Duration::from_secs(120)));
    assert_eq!(github.rate_limit_remaining(), Some(0));
}

#[tokio::test]
async fn server_errors_are_transient_and_not_retried_inside() {
    let result =
        outcome(ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>")).await;
    assert_eq!(transient_wait(result), None);
}

#[tokio::test]
async fn an_unreachable_github_is_transient() {
    // A port nothing listens on. (A dropped `MockServer` would go back to
    // wiremock's pool and answer another test.)
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let url = format!("http://{}", listener.local_addr().expect("bound"));
    drop(listener);
    let github = andon_github::GitHub::new(&token_config(&url)).expect("client");
    let error = github
        .execute(&planned(add_label()))
        .await
        .expect_err("no server");
    assert!(error.is_transient(), "{error:?}");
    assert!(!format!("{error:?}").contains(TOKEN));
}

#[tokio::test]
async fn refusals_are_final_failures_with_githubs_message() {
    let error = failed(outcome(refusal(404, "Not Found")).await);
    assert_eq!(error, "GitHub refused the request (HTTP 404): Not Found");
    let error = failed(outcome(refusal(403, "Resource not accessible by integration")).await);
    assert!(
        error.contains("HTTP 403") && error.contains("not accessible"),
        "{error}"
    );
    let error = failed(outcome(refusal(401, "Bad credentials")).await);
    assert!(error.contains("HTTP 401"), "{error}");
}

#[tokio::test]
async fn a_validation_failure_names_what_was_invalid() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(LABELS))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(LABELS))
        .respond_with(ResponseTemplate::new(422).set_body_json(serde_json::json!({
            "message": "Validation Failed",
            "errors": [{ "resource": "Label", "code": "invalid", "field": "name" }],
            "documentation_url": "https://docs.github.com/rest/issues/labels#add-labels-to-an-issue",
            "status": "422",
        })))
        .expect(1)
        .mount(&server)
        .await;
    let result = token_github(&server).execute(&planned(add_label())).await;
    assert_eq!(
        failed(result),
        "GitHub refused the request (HTTP 422): Validation Failed (Label name invalid)"
    );
}

#[tokio::test]
async fn an_answer_of_the_wrong_shape_fails_without_panicking() {
    let response = ResponseTemplate::new(200).set_body_string("{\"labels\": \"not a list\"}");
    let error = failed(outcome(response).await);
    assert!(error.contains("unexpected answer"), "{error}");
}
