//! The client against a fake GitHub over HTTP.

use andon_github::{GitHub, GitHubConfig, GitHubError};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn config(url: &str, token: &str) -> GitHubConfig {
    GitHubConfig {
        api_url: url.to_string(),
        token: token.to_string().into(),
    }
}

fn user(login: &str) -> serde_json::Value {
    let mut user: serde_json::Value =
        serde_json::from_str(include_str!("user.json")).expect("fixture parses");
    user["login"] = login.into();
    user
}

#[tokio::test]
async fn the_token_reaches_github_and_the_login_comes_back() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .and(header("authorization", "Bearer t0ken"))
        .respond_with(ResponseTemplate::new(200).set_body_json(user("andon-bot")))
        .expect(1)
        .mount(&server)
        .await;
    let github = GitHub::new(&config(&server.uri(), "t0ken")).expect("client");
    assert_eq!(github.login().await.expect("login"), "andon-bot");
}

#[tokio::test]
async fn bad_credentials_are_reported_as_such() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(serde_json::json!({ "message": "Bad credentials", "documentation_url": "https://docs.github.com/rest" })),
        )
        .mount(&server)
        .await;
    let github = GitHub::new(&config(&server.uri(), "wrong")).expect("client");
    let error = github.login().await.expect_err("401");
    assert!(
        matches!(error, GitHubError::Unauthorized { status: 401 }),
        "{error:?}"
    );
    assert!(!error.is_transient());
}

#[test]
fn a_malformed_url_is_refused_and_tokens_are_not_printed() {
    let error = GitHub::new(&config("api.github.com", "secret-token")).expect_err("no scheme");
    assert!(error.to_string().contains("http://"), "{error}");
    let debug = format!("{:?}", config("https://api.github.com", "secret-token"));
    assert!(!debug.contains("secret-token"), "{debug}");
}
