//! `POST /webhook`: verify, persist, acknowledge.
//!
//! The order is the guarantee: the signature is checked (in constant time,
//! against every configured secret) before the body is parsed; the
//! delivery is written to the inbox and made durable before `202` is sent.
//! A delivery that got a 2xx is never lost, and one GitHub sends twice (a
//! redelivery) is recognised by its `X-GitHub-Delivery` id and acknowledged
//! without being stored again.

use std::sync::Arc;

use andon_store::{Accepted, InboxStore, NewDelivery, StoreError};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use super::{Shared, now_ms};

/// GitHub's own limit on webhook payloads.
pub const MAX_BODY: usize = 25 * 1024 * 1024;

/// The webhook secrets, any of which may have signed a delivery (several
/// during a rotation). Never printed.
#[derive(Clone)]
pub struct Secrets(Arc<Vec<Vec<u8>>>);

impl Secrets {
    pub fn new(secrets: Vec<String>) -> Secrets {
        Secrets(Arc::new(
            secrets
                .into_iter()
                .map(|s| s.trim().as_bytes().to_vec())
                .filter(|s| !s.is_empty())
                .collect(),
        ))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `signature` (`sha256=<hex>`) is the HMAC-SHA256 of `body`
    /// under one of the secrets. The comparison is constant-time.
    pub fn verify(&self, signature: &str, body: &[u8]) -> bool {
        let Some(hex_digest) = signature.trim().strip_prefix("sha256=") else {
            return false;
        };
        let Ok(expected) = hex::decode(hex_digest) else {
            return false;
        };
        self.0.iter().any(|secret| {
            Hmac::<Sha256>::new_from_slice(secret).is_ok_and(|mut mac| {
                mac.update(body);
                mac.verify_slice(&expected).is_ok()
            })
        })
    }
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets(<{} redacted>)", self.0.len())
    }
}

/// A refusal: a status and a message for whoever sent the request.
fn refuse(status: StatusCode, reason: &str, message: impl Into<String>) -> Response {
    let message = message.into();
    tracing::warn!(status = status.as_u16(), reason, %message, "webhook refused");
    (status, Json(json!({ "error": message }))).into_response()
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

pub async fn webhook(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // 1. Authenticate before looking at the body.
    let Some(signature) = header_str(&headers, "x-hub-signature-256") else {
        shared.metrics.rejected("unsigned");
        return refuse(
            StatusCode::UNAUTHORIZED,
            "unsigned",
            "missing X-Hub-Signature-256: configure a webhook secret on GitHub",
        );
    };
    if !shared.secrets.verify(signature, &body) {
        shared.metrics.rejected("bad_signature");
        return refuse(
            StatusCode::UNAUTHORIZED,
            "bad_signature",
            "X-Hub-Signature-256 does not match the payload for any configured secret",
        );
    }
    // 2. Shape of the request.
    let content_type = header_str(&headers, header::CONTENT_TYPE.as_str()).unwrap_or("");
    if !content_type.starts_with("application/json") {
        shared.metrics.rejected("content_type");
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content_type",
            format!(
                "content type `{content_type}` is not supported: set the webhook's content type to application/json"
            ),
        );
    }
    let Some(event) = header_str(&headers, "x-github-event") else {
        shared.metrics.rejected("no_event");
        return refuse(
            StatusCode::BAD_REQUEST,
            "no_event",
            "missing X-GitHub-Event",
        );
    };
    let Some(id) = header_str(&headers, "x-github-delivery") else {
        shared.metrics.rejected("no_delivery");
        return refuse(
            StatusCode::BAD_REQUEST,
            "no_delivery",
            "missing X-GitHub-Delivery",
        );
    };
    if id.len() > 200 || event.len() > 100 {
        shared.metrics.rejected("bad_header");
        return refuse(
            StatusCode::BAD_REQUEST,
            "bad_header",
            "X-GitHub-Delivery or X-GitHub-Event is too long",
        );
    }
    if let Err(error) = serde_json::from_slice::<serde::de::IgnoredAny>(&body) {
        shared.metrics.rejected("malformed_json");
        return refuse(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the payload is not valid JSON: {error}"),
        );
    }
    if event == "ping" {
        tracing::info!(delivery = id, "ping");
        return (StatusCode::OK, Json(json!({ "ok": true, "event": "ping" }))).into_response();
    }
    if shared.draining() {
        shared.metrics.rejected("draining");
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "draining",
            "andon is shutting down; GitHub will let you redeliver",
        );
    }

    // 3. Persist and make durable, then acknowledge.
    let delivery = NewDelivery {
        id: id.to_string(),
        event: event.to_string(),
        received_at_ms: now_ms(),
        body: body.to_vec(),
    };
    // The store's group commit: concurrent requests share one flush, and
    // the answer comes once this delivery is on disk. A duplicate waits
    // too: its first copy may still be on its way there.
    let store = shared.store.clone();
    let stored = tokio::task::spawn_blocking(move || {
        let accepted = store.accept(&delivery)?;
        store.sync()?;
        Ok(accepted)
    })
    .await
    .unwrap_or_else(|error| Err(StoreError::Io(format!("the store task failed: {error}"))));
    match stored {
        Ok(Accepted::New { seq }) => {
            shared.metrics.accepted();
            // Debug: at info every delivery already gets one line, its
            // outcome, from the worker (within its `delivery` span); a
            // second line here would double the log volume of the intake.
            tracing::debug!(delivery = id, event, seq, "accepted");
            shared.wake_workers();
            (
                StatusCode::ACCEPTED,
                Json(json!({ "delivery": id, "seq": seq })),
            )
                .into_response()
        }
        Ok(Accepted::Duplicate { seq }) => {
            shared.metrics.rejected("duplicate");
            tracing::info!(delivery = id, event, seq, "duplicate delivery ignored");
            (
                StatusCode::OK,
                Json(json!({ "delivery": id, "seq": seq, "duplicate": true })),
            )
                .into_response()
        }
        Err(error) => {
            shared.metrics.rejected("store_unavailable");
            tracing::error!(delivery = id, %error, "cannot store the delivery");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "error": "cannot store the delivery now; redeliver it later" })),
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key size");
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn github_documented_vector() {
        let secrets = Secrets::new(vec!["It's a Secret to Everybody".into()]);
        assert!(secrets.verify(
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
            b"Hello, World!"
        ));
        assert!(!secrets.verify(
            "sha256=657107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
            b"Hello, World!"
        ));
    }

    #[test]
    fn any_of_several_secrets_during_a_rotation() {
        let secrets = Secrets::new(vec!["old".into(), " new ".into()]);
        assert!(secrets.verify(&sign("old", b"x"), b"x"));
        assert!(secrets.verify(&sign("new", b"x"), b"x"));
        assert!(!secrets.verify(&sign("other", b"x"), b"x"));
        assert!(!secrets.verify(&sign("old", b"x"), b"y"));
    }

    #[test]
    fn malformed_signatures_are_refused() {
        let secrets = Secrets::new(vec!["s".into()]);
        for bad in ["", "sha256=", "sha256=zz", "sha1=abcd", "abcd"] {
            assert!(!secrets.verify(bad, b"x"), "{bad}");
        }
        assert!(format!("{secrets:?}").contains("redacted"));
    }
}
