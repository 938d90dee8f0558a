//! andon-github against a fake GitHub over HTTP: wiremock answers with the
//! JSON shapes of GitHub's REST documentation, octocrab is pointed at it.
//! `expect(n)` on a mock is checked when the server drops, which is how
//! "the second execution makes no write" is asserted.

mod auth;
mod checks;
mod comments;
mod failures;
mod issues;
mod reads;
mod statuses;
mod tags;

use andon_core::effect::{Effect, EffectOutcome, PlannedEffect};
use andon_github::{Credentials, GitHub, GitHubConfig};
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

pub const REPO: &str = "octo-org/hello-world";
pub const TOKEN: &str = "ghp_16C7e42F292c6912E7710c838347Ae178B4a";
pub const BOT: &str = "andon-bot";

/// A response body from `tests/github/fixtures/`.
pub fn fixture(name: &str) -> Value {
    let file = format!(
        "{}/tests/github/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&file).expect("fixture exists");
    serde_json::from_str(&text).expect("fixture parses")
}

pub fn token_config(url: &str) -> GitHubConfig {
    GitHubConfig {
        api_url: url.to_owned(),
        credentials: Credentials::Token(TOKEN.to_owned().into()),
    }
}

pub fn token_github(server: &MockServer) -> GitHub {
    GitHub::new(&token_config(&server.uri())).expect("client")
}

pub fn planned(effect: Effect) -> PlannedEffect {
    PlannedEffect {
        key: "delivery-1/0/size/0".into(),
        repository: REPO.into(),
        installation: None,
        effect,
    }
}

pub fn user(login: &str) -> Value {
    let mut user = fixture("user.json");
    user["login"] = login.into();
    user
}

/// `GET /user`: the token belongs to `login`.
pub async fn mount_identity(server: &MockServer, login: &str) {
    Mock::given(method("GET"))
        .and(path("/user"))
        .respond_with(ResponseTemplate::new(200).set_body_json(user(login)))
        .mount(server)
        .await;
}

pub fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

pub fn created(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(body)
}

/// GitHub's error body.
pub fn refusal(status: u16, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(serde_json::json!({
        "message": message,
        "documentation_url": "https://docs.github.com/rest",
        "status": status.to_string(),
    }))
}

pub fn done(outcome: EffectOutcome) -> String {
    match outcome {
        EffectOutcome::Done { detail } => detail,
        EffectOutcome::Failed { error } => panic!("failed: {error}"),
    }
}

/// The JSON bodies of the requests `server` received for `verb` on `route`.
pub async fn bodies(server: &MockServer, verb: &str, route: &str) -> Vec<Value> {
    requests(server, verb, route)
        .await
        .iter()
        .map(|request| request.body_json().expect("a JSON body"))
        .collect()
}

pub async fn requests(server: &MockServer, verb: &str, route: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .expect("recording is on")
        .into_iter()
        .filter(|request| request.method.as_str() == verb && request.url.path() == route)
        .collect()
}
