//! The test kit's tests: one binary, one module per part, all over real
//! HTTP with the kit's own client.

#![allow(clippy::unwrap_used, reason = "tests")]

mod binary;
mod github;
mod load;
mod octocrab;
mod webhook;

use std::sync::{Arc, Mutex};

use andon_testkit::FakeGitHub;
use andon_testkit::client::{self, Response};
use andon_testkit::webhook::sign;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;

const TOKEN: &str = "ghp_test";

/// A request to the fake with the test's personal token.
fn http(github: &FakeGitHub, method: &str, path: &str, body: Option<Value>) -> Response {
    http_as(github, TOKEN, method, path, body)
}

/// A request to the fake with `token`.
fn http_as(
    github: &FakeGitHub,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Response {
    let url = format!("{}{path}", github.url());
    let auth = format!("Bearer {token}");
    let mut headers = vec![
        ("authorization", auth.as_str()),
        ("accept", "application/vnd.github+json"),
    ];
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    if !body.is_empty() {
        headers.push(("content-type", "application/json"));
    }
    client::send_blocking(method, &url, &headers, body).unwrap()
}

/// A request with a raw body.
fn client_raw(github: &FakeGitHub, method: &str, path: &str, body: &str) -> Response {
    let url = format!("{}{path}", github.url());
    let headers = [
        ("authorization", "Bearer ghp_test"),
        ("content-type", "application/json"),
    ];
    client::send_blocking(method, &url, &headers, body.to_owned()).unwrap()
}

/// A tiny webhook endpoint for the delivery and load tests: it checks the
/// signature the way andon does (before parsing) and records what came.
struct Receiver {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[derive(Debug, Clone)]
struct Received {
    event: String,
    id: String,
    user_agent: String,
    content_type: String,
    body: Vec<u8>,
}

impl Receiver {
    fn start(secret: &'static [u8]) -> Receiver {
        let received = Arc::new(Mutex::new(Vec::new()));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}/webhook", listener.local_addr().unwrap());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = {
            let _context = runtime.enter();
            tokio::net::TcpListener::from_std(listener).unwrap()
        };
        let store = Arc::clone(&received);
        let app = axum::Router::new().route(
            "/webhook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let store = Arc::clone(&store);
                async move { receive(secret, &store, &headers, &body) }
            }),
        );
        let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                tokio::select! {
                    _ = axum::serve(listener, app) => {}
                    _ = stop => {}
                }
            });
        });
        Receiver {
            url,
            received,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.shutdown.take().unwrap().send(());
        self.thread.take().unwrap().join().unwrap();
    }
}

fn receive(
    secret: &[u8],
    store: &Mutex<Vec<Received>>,
    headers: &HeaderMap,
    body: &[u8],
) -> (StatusCode, &'static str) {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    if header("x-hub-signature-256") != sign(secret, body) {
        return (StatusCode::UNAUTHORIZED, "bad signature");
    }
    store.lock().unwrap().push(Received {
        event: header("x-github-event"),
        id: header("x-github-delivery"),
        user_agent: header("user-agent"),
        content_type: header("content-type"),
        body: body.to_vec(),
    });
    (StatusCode::ACCEPTED, "accepted")
}
