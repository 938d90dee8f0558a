//! Signed webhook deliveries, as GitHub sends them: real payloads from
//! `tests/fixtures/github-webhooks`, rewritten to point at a test's
//! repository, signed with `X-Hub-Signature-256` and posted over HTTP/1.1.

use std::io;
use std::path::PathBuf;

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::client::{self, Response};

/// `sha256=<hex HMAC-SHA256 of body>`, the `X-Hub-Signature-256` value.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts a key of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// One delivery: the `X-GitHub-Event` name, the `X-GitHub-Delivery` id and
/// the body.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub event: String,
    pub id: String,
    pub body: Vec<u8>,
}

impl Delivery {
    pub fn new(event: &str, id: &str, body: impl Into<Vec<u8>>) -> Delivery {
        Delivery {
            event: event.to_owned(),
            id: id.to_owned(),
            body: body.into(),
        }
    }

    /// The headers GitHub sends with this delivery, signed with `secret`.
    pub fn headers(&self, secret: &[u8]) -> Vec<(&'static str, String)> {
        vec![
            ("content-type", "application/json".to_owned()),
            ("user-agent", "GitHub-Hookshot/test".to_owned()),
            ("x-github-event", self.event.clone()),
            ("x-github-delivery", self.id.clone()),
            ("x-hub-signature-256", sign(secret, &self.body)),
        ]
    }

    /// POST the delivery to `url` and return the status and body of the
    /// answer. Blocking; see [`Delivery::send`] for async code. Panics
    /// when the server cannot be reached.
    pub fn post(&self, url: &str, secret: &[u8]) -> (u16, String) {
        let headers = self.headers(secret);
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let response = client::send_blocking("POST", url, &headers, self.body.clone())
            .unwrap_or_else(|error| panic!("cannot post delivery {} to {url}: {error}", self.id));
        (response.status, response.text())
    }

    /// POST the delivery to `url` from async code.
    pub async fn send(&self, url: &str, secret: &[u8]) -> io::Result<Response> {
        let headers = self.headers(secret);
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        client::send("POST", url, &headers, self.body.clone()).await
    }
}

/// `tests/fixtures/github-webhooks` in the workspace.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/github-webhooks")
}

/// A webhook payload being prepared for a test: a fixture (or any JSON)
/// and the event it belongs to. The setters rewrite the fields that tie a
/// payload to a repository, pull request or comment, wherever the event
/// carries them; fields an event does not have are left alone.
#[derive(Debug, Clone)]
pub struct Payload {
    pub event: String,
    pub json: Value,
}

impl Payload {
    /// Load `tests/fixtures/github-webhooks/<event>/<file>`.
    pub fn fixture(event: &str, file: &str) -> Payload {
        let path = fixtures_dir().join(event).join(file);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("cannot read fixture {}: {error}", path.display()));
        let json = serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("fixture {} is not JSON: {error}", path.display()));
        Payload {
            event: event.to_owned(),
            json,
        }
    }

    pub fn new(event: &str, json: Value) -> Payload {
        Payload {
            event: event.to_owned(),
            json,
        }
    }

    /// Point the payload at `full_name` (`owner/name`), cloned from
    /// `clone_url`: `repository`, and the pull request's base and head
    /// repositories (the test's pull requests do not come from forks).
    pub fn repository(mut self, full_name: &str, clone_url: &str) -> Payload {
        let (owner, name) = full_name
            .split_once('/')
            .unwrap_or_else(|| panic!("`{full_name}` is not owner/name"));
        for pointer in [
            "/repository",
            "/pull_request/base/repo",
            "/pull_request/head/repo",
        ] {
            if let Some(repo) = self.json.pointer_mut(pointer).filter(|r| r.is_object()) {
                repo["full_name"] = json!(full_name);
                repo["name"] = json!(name);
                repo["clone_url"] = json!(clone_url);
                repo["html_url"] = json!(format!("https://github.com/{full_name}"));
                repo["url"] = json!(format!("https://api.github.com/repos/{full_name}"));
                if let Some(login) = repo.pointer_mut("/owner/login") {
                    *login = json!(owner);
                }
            }
        }
        self
    }

    /// The pull request or issue number (`number`, `pull_request.number`,
    /// `issue.number`).
    pub fn number(mut self, number: u64) -> Payload {
        for pointer in ["/number", "/pull_request/number", "/issue/number"] {
            self.replace(pointer, json!(number));
        }
        self
    }

    /// The head commit: `pull_request.head.sha`, or `after` for a push.
    pub fn head_sha(mut self, sha: &str) -> Payload {
        self.replace("/pull_request/head/sha", json!(sha));
        self.replace("/after", json!(sha));
        self
    }

    /// The base commit: `pull_request.base.sha`, or `before` for a push.
    pub fn base_sha(mut self, sha: &str) -> Payload {
        self.replace("/pull_request/base/sha", json!(sha));
        self.replace("/before", json!(sha));
        self
    }

    /// `comment.body`.
    pub fn comment_body(mut self, body: &str) -> Payload {
        self.replace("/comment/body", json!(body));
        self
    }

    /// Who acted: `sender.login`, and the author of the comment (for a
    /// comment event) or of the pull request (otherwise).
    pub fn author(mut self, login: &str) -> Payload {
        self.replace("/sender/login", json!(login));
        if self.json.pointer("/comment/user/login").is_some() {
            self.replace("/comment/user/login", json!(login));
        } else {
            self.replace("/pull_request/user/login", json!(login));
        }
        self
    }

    /// `installation.id` (added when the fixture has no installation).
    pub fn installation(mut self, id: u64) -> Payload {
        if let Some(installation) = self.json.get_mut("installation").filter(|i| i.is_object()) {
            installation["id"] = json!(id);
        } else {
            self.json["installation"] = json!({ "id": id, "node_id": format!("MDIz{id}") });
        }
        self
    }

    /// Any field, by JSON pointer (which must exist).
    pub fn set(mut self, pointer: &str, value: Value) -> Payload {
        let field = self
            .json
            .pointer_mut(pointer)
            .unwrap_or_else(|| panic!("the payload has no field {pointer}"));
        *field = value;
        self
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.json).expect("a JSON value serializes")
    }

    /// The delivery of this payload with id `id`.
    pub fn delivery(&self, id: &str) -> Delivery {
        Delivery::new(&self.event, id, self.to_bytes())
    }

    fn replace(&mut self, pointer: &str, value: Value) {
        if let Some(field) = self.json.pointer_mut(pointer) {
            *field = value;
        }
    }
}
