//! The dashboard: server-rendered HTML pages (issue 7), read-only, with
//! no JavaScript, behind the [`Access`] rule.
//!
//! `pages` renders each page from the store (no axum there, so the
//! benchmark renders the same pages in process), `chart` draws the SVG
//! charts; this module routes and guards them.

mod chart;
pub mod pages;

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use base64::Engine as _;

use super::Shared;
use pages::{Page, Params};

/// The dashboard's routes, each behind [`require_access`].
pub fn router(shared: Arc<Shared>) -> Router<Arc<Shared>> {
    Router::new()
        .route("/", get(runs))
        .route("/runs", get(|| async { Redirect::permanent("/") }))
        .route("/runs/{id}", get(run))
        .route("/schedules", get(schedules))
        .route("/data", get(data))
        .route("/models", get(models))
        .route("/inbox", get(inbox))
        .route("/outbox", get(inbox))
        .route_layer(axum::middleware::from_fn_with_state(shared, require_access))
}

/// The query string as pairs; an undecodable one is read as empty rather
/// than refused.
struct QueryParams(Params);

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let params = Query::<Params>::try_from_uri(&parts.uri).map(|Query(params)| params);
        Ok(QueryParams(params.unwrap_or_default()))
    }
}

/// Render a page off the async threads: a page reads the store.
async fn render(
    shared: Arc<Shared>,
    make: impl FnOnce(&Shared) -> Page + Send + 'static,
) -> Response {
    let page = tokio::task::spawn_blocking(move || make(&shared))
        .await
        .unwrap_or_else(|_| {
            pages::problem(500, "Internal error", "the page could not be rendered")
        });
    let status = StatusCode::from_u16(page.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, page.html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    // No script, no external asset: say so to the browser too.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'",
        ),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn runs(State(shared): State<Arc<Shared>>, QueryParams(params): QueryParams) -> Response {
    render(shared, move |s| {
        pages::runs(&s.store, &params, &s.metrics.activity.snapshot())
    })
    .await
}

async fn run(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    render(shared, move |s| pages::run(&s.store, &id)).await
}

async fn schedules(State(shared): State<Arc<Shared>>) -> Response {
    render(shared, |s| pages::schedules(&s.store)).await
}

async fn data(State(shared): State<Arc<Shared>>, QueryParams(params): QueryParams) -> Response {
    render(shared, move |s| pages::data(&s.store, &params)).await
}

async fn models(State(shared): State<Arc<Shared>>) -> Response {
    render(shared, |s| pages::models(&s.store)).await
}

async fn inbox(State(shared): State<Arc<Shared>>, QueryParams(params): QueryParams) -> Response {
    render(shared, move |s| pages::inbox(&s.store, &params)).await
}

/// Who may read the dashboard and `/metrics`: anyone who can reach a
/// server bound to loopback, otherwise whoever presents the token.
#[derive(Debug, Clone)]
pub struct Access {
    token: Option<String>,
    loopback: bool,
}

/// Why a request may not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No token is configured and the server is reachable beyond loopback.
    NoToken,
    /// A token is configured and the request did not present it.
    WrongToken,
}

impl Access {
    pub fn new(token: Option<String>, loopback: bool) -> Access {
        Access {
            token: token.filter(|t| !t.is_empty()),
            loopback,
        }
    }

    /// Whether a request with these headers may read. The token is taken
    /// as `Authorization: Bearer TOKEN` or as the password of
    /// `Authorization: Basic` (any user name), which browsers ask for
    /// themselves, JavaScript or not.
    pub fn check(&self, headers: &axum::http::HeaderMap) -> Result<(), Refusal> {
        let Some(token) = &self.token else {
            return if self.loopback {
                Ok(())
            } else {
                Err(Refusal::NoToken)
            };
        };
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(presented_token);
        match given {
            Some(given) if constant_time_eq(given.as_bytes(), token.as_bytes()) => Ok(()),
            _ => Err(Refusal::WrongToken),
        }
    }
}

/// The token in an `Authorization` header's value.
fn presented_token(value: &str) -> Option<String> {
    let (scheme, rest) = value.trim().split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.trim().to_string());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (_user, password) = text.split_once(':')?;
        return Some(password.to_string());
    }
    None
}

/// Compare secrets without leaking where they differ through timing.
pub(super) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Middleware for the dashboard and `/metrics`: answers 401 (asking the
/// browser for Basic credentials) or 403 with the reason, in plain text.
pub async fn require_access(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    match shared.access.check(request.headers()) {
        Ok(()) => next.run(request).await,
        Err(Refusal::WrongToken) => {
            let mut response = (
                StatusCode::UNAUTHORIZED,
                "andon: this page needs the dashboard token (ANDON_DASHBOARD_TOKEN), as a bearer token or as the password of Basic auth\n",
            )
                .into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"andon\", charset=\"UTF-8\""),
            );
            response
        }
        Err(Refusal::NoToken) => (
            StatusCode::FORBIDDEN,
            "andon: the dashboard and /metrics answer on a loopback address only, unless ANDON_DASHBOARD_TOKEN is set\n",
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    fn with(auth: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(auth).expect("header"),
        );
        headers
    }

    #[test]
    fn loopback_without_token_is_open_and_elsewhere_refused() {
        assert_eq!(Access::new(None, true).check(&HeaderMap::new()), Ok(()));
        assert_eq!(
            Access::new(Some(String::new()), false).check(&HeaderMap::new()),
            Err(Refusal::NoToken)
        );
    }

    #[test]
    fn token_as_bearer_or_basic_password() {
        let access = Access::new(Some("s3cret".into()), true);
        assert_eq!(access.check(&with("Bearer s3cret")), Ok(()));
        // "anyone:s3cret"
        assert_eq!(access.check(&with("Basic YW55b25lOnMzY3JldA==")), Ok(()));
        assert_eq!(access.check(&with("Bearer nope")), Err(Refusal::WrongToken));
        assert_eq!(access.check(&HeaderMap::new()), Err(Refusal::WrongToken));
        assert_eq!(access.check(&with("Basic !!!")), Err(Refusal::WrongToken));
    }
}
