//! Credentials: tokens sent, App JWTs signed, installation tokens minted
//! once and used, and no secret in any `Debug` output.

use andon_core::effect::{Effect, EffectOutcome, PlannedEffect};
use andon_github::{Credentials, GitHub, GitHubConfig, GitHubError};
use octocrab::jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use wiremock::matchers::{header, method, path};
use wiremock::{Match, Mock, MockServer, Request};

use crate::{TOKEN, created, fixture, ok, refusal, token_config, token_github, user};

/// A throwaway RSA key generated for these tests (`openssl genrsa
/// -traditional 2048`); it belongs to no GitHub App.
const APP_KEY: &str = include_str!("fixtures/app-key.pem");
const APP_PUBLIC_KEY: &str = include_str!("fixtures/app-key.pub.pem");
const APP_ID: u64 = 4242;
const INSTALLATION_TOKEN: &str = "ghs_16C7e42F292c6912E7710c838347Ae178B4a";

fn app_config(url: &str) -> GitHubConfig {
    GitHubConfig {
        api_url: url.to_owned(),
        credentials: Credentials::App {
            app_id: APP_ID,
            private_key_pem: APP_KEY.to_owned().into(),
        },
    }
}

/// Matches a request carrying a JWT signed with the test key for the App.
struct SignedByApp;

#[derive(serde::Deserialize)]
struct Claims {
    iss: u64,
}

impl Match for SignedByApp {
    fn matches(&self, request: &Request) -> bool {
        let Some(jwt) = request
            .headers
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
        else {
            return false;
        };
        let key = DecodingKey::from_rsa_pem(APP_PUBLIC_KEY.as_bytes()).expect("public key");
        decode::<Claims>(jwt, &key, &Validation::new(Algorithm::RS256))
            .is_ok_and(|token| token.claims.iss == APP_ID)
    }
}

fn label_effect(installation: Option<u64>) -> PlannedEffect {
    PlannedEffect {
        installation,
        ..crate::planned(Effect::Label {
            number: 7,
            label: "bug".into(),
            present: true,
        })
    }
}

#[tokio::test]
async fn a_token_is_sent_and_its_login_is_the_identity_asked_once() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ok(user("andon-bot")).insert_header("x-ratelimit-remaining", "4999"))
        .expect(1)
        .mount(&server)
        .await;
    let github = token_github(&server);
    assert_eq!(github.rate_limit_remaining(), None);
    assert_eq!(github.identity().await.expect("identity"), "andon-bot");
    assert_eq!(github.identity().await.expect("cached"), "andon-bot");
    assert_eq!(github.rate_limit_remaining(), Some(4999));
}

#[tokio::test]
async fn bad_credentials_are_a_refusal_that_does_not_show_the_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .respond_with(refusal(401, "Bad credentials"))
        .mount(&server)
        .await;
    let github = token_github(&server);
    let error = github.identity().await.expect_err("401");
    assert_eq!(error.status(), Some(401), "{error:?}");
    assert!(!error.is_transient());
    assert!(error.to_string().contains("Bad credentials"), "{error}");
    for text in [format!("{error:?}"), format!("{github:?}")] {
        assert!(!text.contains(TOKEN), "{text}");
    }
}

#[test]
fn a_malformed_url_or_a_missing_runtime_is_refused_and_secrets_are_not_printed() {
    let error = GitHub::new(&token_config("api.github.com")).expect_err("no scheme");
    assert!(error.to_string().contains("http://"), "{error}");
    let error = GitHub::new(&token_config("https://api.github.com")).expect_err("no runtime");
    assert!(matches!(error, GitHubError::Setup(_)), "{error:?}");
    let debug = format!("{:?}", token_config("https://api.github.com"));
    assert!(!debug.contains(TOKEN), "{debug}");
    let debug = format!("{:?}", app_config("https://api.github.com"));
    assert!(
        !debug.contains("PRIVATE KEY") && !debug.contains("MII"),
        "{debug}"
    );
}

#[tokio::test]
async fn an_unreadable_key_is_refused_without_quoting_it() {
    let mut config = app_config("http://127.0.0.1:1");
    config.credentials = Credentials::App {
        app_id: APP_ID,
        private_key_pem:
            "-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0\n-----END RSA PRIVATE KEY-----\n"
                .to_owned()
                .into(),
    };
    let error = GitHub::new(&config).expect_err("not a key");
    assert!(matches!(error, GitHubError::InvalidKey(_)), "{error:?}");
    assert!(!format!("{error:?}").contains("c2VjcmV0"), "{error:?}");
}

#[tokio::test]
async fn an_app_identifies_as_its_bot_with_a_signed_jwt() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/app"))
        .and(SignedByApp)
        .respond_with(ok(fixture("app.json")))
        .expect(1)
        .mount(&server)
        .await;
    let github = GitHub::new(&app_config(&server.uri())).expect("client");
    assert_eq!(github.identity().await.expect("identity"), "andon[bot]");
}

#[tokio::test]
async fn an_app_mints_an_installation_token_once_and_acts_with_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/app/installations/42/access_tokens"))
        .and(SignedByApp)
        .respond_with(created(fixture("installation-token.json")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/octo-org/hello-world/issues/7/labels"))
        .and(header(
            "authorization",
            format!("Bearer {INSTALLATION_TOKEN}").as_str(),
        ))
        .respond_with(ok(serde_json::json!([fixture("label.json")])))
        .expect(2)
        .mount(&server)
        .await;
    let github = GitHub::new(&app_config(&server.uri())).expect("client");
    for _ in 0..2 {
        let outcome = github.execute(&label_effect(Some(42))).await.expect("done");
        assert_eq!(crate::done(outcome), "label `bug` already present");
    }
    let debug = format!("{github:?}");
    assert!(
        !debug.contains(INSTALLATION_TOKEN) && !debug.contains("MII"),
        "{debug}"
    );
    assert!(debug.contains("installation_clients: 1"), "{debug}");
}

#[tokio::test]
async fn an_installation_the_app_lost_is_a_permanent_failure() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/app/installations/43/access_tokens"))
        .respond_with(refusal(404, "Not Found"))
        .mount(&server)
        .await;
    let github = GitHub::new(&app_config(&server.uri())).expect("client");
    let outcome = github
        .execute(&label_effect(Some(43)))
        .await
        .expect("final");
    let EffectOutcome::Failed { error } = outcome else {
        panic!("{outcome:?}")
    };
    assert!(
        error.contains("404") && error.contains("installation token"),
        "{error}"
    );
    // An App cannot act on a repository without an installation.
    let outcome = github.execute(&label_effect(None)).await.expect("final");
    assert!(
        matches!(&outcome, EffectOutcome::Failed { error } if error.contains("installation id")),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn the_git_token_is_the_cached_installation_token_or_the_plain_token() {
    use secrecy::ExposeSecret;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/app/installations/42/access_tokens"))
        .and(SignedByApp)
        .respond_with(created(fixture("installation-token.json")))
        .expect(1)
        .mount(&server)
        .await;
    let github = GitHub::new(&app_config(&server.uri())).expect("client");
    for _ in 0..2 {
        let token = github.git_token(Some(42)).await.expect("a token");
        assert_eq!(token.expose_secret(), INSTALLATION_TOKEN);
    }
    assert!(matches!(
        github.git_token(None).await,
        Err(GitHubError::NoInstallation)
    ));
    let plain = GitHub::new(&token_config(&server.uri())).expect("client");
    assert_eq!(
        plain
            .git_token(Some(42))
            .await
            .expect("token")
            .expose_secret(),
        TOKEN
    );
}
