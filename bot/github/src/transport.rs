//! One HTTP exchange with GitHub through octocrab's raw methods, and the
//! rules that sort a failed one into "try again later" (network, 5xx, rate
//! limits, with GitHub's requested wait) or "refused for good".
//!
//! Raw methods because the typed ones drop the headers that say how long
//! to wait; octocrab's own retries are off (see `GitHub::new`), so one call
//! here is one request, plus at most one installation-token refresh.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use octocrab::Octocrab;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::GitHubError;

/// Stored in the rate-limit gauge until a response carried the header.
pub(crate) const RATE_UNKNOWN: u64 = u64::MAX;

/// Pages followed at most when listing, so a server that always answers
/// with a `next` link cannot keep a worker busy forever.
const MAX_PAGES: usize = 100;

/// How long to wait after a rate limit that gives no hint, as GitHub's
/// documentation asks ("wait for at least one minute").
const DEFAULT_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verb {
    Get,
    Post,
    Patch,
    Delete,
}

/// A repository, checked to be `owner/name` with characters GitHub allows,
/// so it can be put in a path as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Repo {
    owner: String,
    name: String,
}

impl Repo {
    pub(crate) fn parse(full_name: &str) -> Result<Repo, GitHubError> {
        let invalid = || GitHubError::InvalidRepository(full_name.to_owned());
        let (owner, name) = full_name.split_once('/').ok_or_else(invalid)?;
        let allowed = |part: &str| {
            !part.is_empty()
                && part != "."
                && part != ".."
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        if !allowed(owner) || !allowed(name) {
            return Err(invalid());
        }
        Ok(Repo {
            owner: owner.to_owned(),
            name: name.to_owned(),
        })
    }

    /// `/repos/{owner}/{name}`, the prefix of every repository route.
    pub(crate) fn path(&self) -> String {
        format!("/repos/{}/{}", self.owner, self.name)
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters: safe for
/// a path segment and for a query value.
pub(crate) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A response: status, body and the next page, if any.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: String,
    next: Option<String>,
}

impl Reply {
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The reply if it is a 2xx, else a refusal with GitHub's message.
    pub(crate) fn success(self) -> Result<Reply, GitHubError> {
        if self.is_success() {
            Ok(self)
        } else {
            Err(GitHubError::Refused {
                status: self.status,
                message: message(self.status, &self.body),
            })
        }
    }

    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<T, GitHubError> {
        serde_json::from_str(&self.body).map_err(|e| GitHubError::Malformed(e.to_string()))
    }
}

/// One request to GitHub as seen by a [`CallObserver`]: for metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiCall {
    /// `GET`, `POST`, `PATCH` or `DELETE`.
    pub method: &'static str,
    /// What the request was about, from a closed set (see [`route_class`]).
    pub route: &'static str,
    /// The response's status; `None` when no response came (network
    /// failure, timeout).
    pub status: Option<u16>,
    /// `x-ratelimit-remaining`, when the response carried it.
    pub rate_limit_remaining: Option<u64>,
    /// From sending the request to the response's headers.
    pub elapsed: Duration,
}

/// Told of every request the adapter sends, answered or not.
pub type CallObserver = Arc<dyn Fn(&ApiCall) + Send + Sync>;

/// A client for one identity (token, App or installation), the gauge of
/// the rate limit left and the observer, shared by all of them.
pub(crate) struct Api<'a> {
    pub(crate) crab: Arc<Octocrab>,
    pub(crate) rate: &'a AtomicU64,
    pub(crate) observer: Option<&'a CallObserver>,
}

impl Verb {
    fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Patch => "PATCH",
            Verb::Delete => "DELETE",
        }
    }
}

/// The class of a request path, a bounded label: the resource after
/// `/repos/{owner}/{name}/` (`check-runs`, `issues`, `pulls`, `git`, ...),
/// or the first segment of other paths (`user`, `app`), or `other`.
pub fn route_class(path: &str) -> &'static str {
    const KNOWN: [&str; 12] = [
        "check-runs",
        "commits",
        "statuses",
        "issues",
        "pulls",
        "collaborators",
        "git",
        "labels",
        "user",
        "app",
        "installation",
        "repos",
    ];
    let path = path.split('?').next().unwrap_or("");
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    let first = segments.next().unwrap_or("");
    let segment = if first == "repos" {
        segments.nth(2).unwrap_or("repos")
    } else {
        first
    };
    KNOWN
        .iter()
        .find(|known| **known == segment)
        .copied()
        .unwrap_or("other")
}

impl Api<'_> {
    /// Sends one request. Transient failures are errors; any other status
    /// comes back for the caller to judge (a 404 can be an answer).
    pub(crate) async fn send(
        &self,
        verb: Verb,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, GitHubError> {
        let started = Instant::now();
        let result = match verb {
            Verb::Get => self.crab._get(path).await,
            Verb::Post => self.crab._post(path, body).await,
            Verb::Patch => self.crab._patch(path, body).await,
            Verb::Delete => self.crab._delete(path, body).await,
        };
        let observe = |status: Option<u16>, rate_limit_remaining: Option<u64>| {
            if let Some(observer) = self.observer {
                observer(&ApiCall {
                    method: verb.as_str(),
                    route: route_class(path),
                    status,
                    rate_limit_remaining,
                    elapsed: started.elapsed(),
                });
            }
        };
        let response = match result {
            Ok(response) => response,
            Err(error) => {
                observe(None, None);
                return Err(from_octocrab(error));
            }
        };
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let limits = Limits::read(header);
        let next = header("link").as_deref().and_then(next_link);
        if let Some(remaining) = limits.remaining {
            self.rate.store(remaining, Ordering::Relaxed);
        }
        observe(Some(status), limits.remaining);
        let body = self
            .crab
            .body_to_string(response)
            .await
            .map_err(from_octocrab)?;
        if let Some(error) = transient(status, &limits, &message(status, &body), SystemTime::now())
        {
            return Err(error);
        }
        Ok(Reply { status, body, next })
    }

    /// `send`, then a refusal unless 2xx, then the body as `T`.
    pub(crate) async fn json<T: DeserializeOwned>(
        &self,
        verb: Verb,
        path: &str,
        body: Option<&Value>,
    ) -> Result<T, GitHubError> {
        self.send(verb, path, body).await?.success()?.json()
    }

    /// Every item of a paginated list, following `Link: rel="next"`. A
    /// page parses as `P` (an array, or an object holding one).
    pub(crate) async fn get_all<T, P>(&self, first: String) -> Result<Vec<T>, GitHubError>
    where
        P: DeserializeOwned + Into<Vec<T>>,
    {
        let mut items = Vec::new();
        let mut next = Some(first);
        let mut pages = 0;
        while let Some(path) = next.take() {
            let reply = self.send(Verb::Get, &path, None).await?.success()?;
            items.extend(reply.json::<P>()?.into());
            pages += 1;
            if pages < MAX_PAGES {
                next = reply.next;
            }
        }
        Ok(items)
    }
}

/// The headers that say whether and how long to wait.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Limits {
    retry_after: Option<String>,
    remaining: Option<u64>,
    reset: Option<u64>,
    date: Option<String>,
}

impl Limits {
    pub(crate) fn read(header: impl Fn(&str) -> Option<String>) -> Limits {
        let number = |name: &str| header(name).and_then(|value| value.trim().parse().ok());
        Limits {
            retry_after: header("retry-after"),
            remaining: number("x-ratelimit-remaining"),
            reset: number("x-ratelimit-reset"),
            date: header("date"),
        }
    }
}

/// The transient error for a response, or `None` when the status is a
/// success or a refusal for good. `clock` stands in when the response has
/// no `Date` header; with one, waits are computed on GitHub's clock, the
/// one `x-ratelimit-reset` is on.
pub(crate) fn transient(
    status: u16,
    limits: &Limits,
    message: &str,
    clock: SystemTime,
) -> Option<GitHubError> {
    let now = limits
        .date
        .as_deref()
        .and_then(parse_http_date)
        .unwrap_or(clock);
    let asked = limits
        .retry_after
        .as_deref()
        .and_then(|value| parse_retry_after(value, now));
    let exhausted = limits.remaining == Some(0);
    let until_reset = limits
        .reset
        .filter(|_| exhausted)
        .map(|reset| wait_until(reset, now));
    let says_rate_limit = message.to_ascii_lowercase().contains("rate limit");
    let retry_after = match status {
        429 => asked.or(until_reset).or(Some(DEFAULT_RATE_LIMIT_WAIT)),
        403 if asked.is_some() || exhausted || says_rate_limit => {
            asked.or(until_reset).or(Some(DEFAULT_RATE_LIMIT_WAIT))
        }
        500..=599 => asked,
        _ => return None,
    };
    Some(GitHubError::Transient {
        message: format!("HTTP {status}: {message}"),
        retry_after,
    })
}

/// `Retry-After` is delay-seconds or an HTTP date.
fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    match value.parse::<u64>() {
        Ok(seconds) => Some(Duration::from_secs(seconds)),
        Err(_) => parse_http_date(value).map(|at| at.duration_since(now).unwrap_or_default()),
    }
}

fn wait_until(reset_epoch_seconds: u64, now: SystemTime) -> Duration {
    let reset = SystemTime::UNIX_EPOCH + Duration::from_secs(reset_epoch_seconds);
    reset.duration_since(now).unwrap_or_default()
}

/// An IMF-fixdate (`Tue, 15 Nov 1994 08:12:31 GMT`), which is RFC 2822.
fn parse_http_date(value: &str) -> Option<SystemTime> {
    let at = chrono::DateTime::parse_from_rfc2822(value.trim()).ok()?;
    let seconds = u64::try_from(at.timestamp()).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(seconds))
}

/// The URL of `rel="next"` in a `Link` header, as a path for the base URI.
fn next_link(link: &str) -> Option<String> {
    let url = link.split(',').find_map(|entry| {
        let (url, params) = entry.split_once(';')?;
        params
            .split(';')
            .any(|param| param.trim() == "rel=\"next\"")
            .then(|| url.trim().trim_start_matches('<').trim_end_matches('>'))
    })?;
    if url.starts_with('/') {
        return Some(url.to_owned());
    }
    // Keep only the path: requests then go to the configured base URL with
    // the credentials, wherever the link pointed.
    let rest = url.split_once("://")?.1;
    rest.find('/').map(|slash| rest[slash..].to_owned())
}

#[derive(Deserialize)]
struct ErrorBody {
    message: Option<String>,
    #[serde(default)]
    errors: Vec<Value>,
}

/// GitHub's explanation of a failed request: `message`, with the details
/// of `errors` (422s say what was invalid there).
pub(crate) fn message(status: u16, body: &str) -> String {
    let text = match serde_json::from_str::<ErrorBody>(body) {
        Ok(ErrorBody {
            message: Some(message),
            errors,
        }) => {
            let details: Vec<String> = errors.iter().map(error_detail).collect();
            if details.is_empty() {
                message
            } else {
                format!("{message} ({})", details.join("; "))
            }
        }
        _ if !body.trim().is_empty() => body.trim().to_owned(),
        _ => format!("HTTP {status}"),
    };
    truncate_chars(&text, 500)
}

fn error_detail(error: &Value) -> String {
    if let Some(text) = error.as_str() {
        return text.to_owned();
    }
    if let Some(text) = error.get("message").and_then(Value::as_str) {
        return text.to_owned();
    }
    let field = |name: &str| error.get(name).and_then(Value::as_str).unwrap_or("");
    format!("{} {} {}", field("resource"), field("field"), field("code"))
        .trim()
        .to_owned()
}

fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Sorts octocrab's failures: an error answer while minting an
/// installation token is judged like any answer; a key octocrab cannot
/// sign with is configuration; a request it cannot build is a bug; the rest
/// (connect, TLS, timeouts, a body cut short) is the network.
pub(crate) fn from_octocrab(error: octocrab::Error) -> GitHubError {
    match error {
        octocrab::Error::GitHub { source, .. } => {
            let limits = source
                .headers
                .as_ref()
                .map(|headers| {
                    Limits::read(|name| {
                        headers
                            .get(name)
                            .and_then(|value| value.to_str().ok())
                            .map(str::to_owned)
                    })
                })
                .unwrap_or_default();
            let status = source.status_code.as_u16();
            let message = format!("installation token: {}", source.message);
            transient(status, &limits, &message, SystemTime::now())
                .unwrap_or(GitHubError::Refused { status, message })
        }
        octocrab::Error::JWT { source, .. } => GitHubError::InvalidKey(source.to_string()),
        error @ (octocrab::Error::UriParse { .. }
        | octocrab::Error::Uri { .. }
        | octocrab::Error::Http { .. }
        | octocrab::Error::InvalidHeaderValue { .. }
        | octocrab::Error::Serde { .. }) => GitHubError::BadRequest(describe(&error)),
        error @ octocrab::Error::InvalidUtf8 { .. } => GitHubError::Malformed(describe(&error)),
        error => GitHubError::Transient {
            message: describe(&error),
            retry_after: None,
        },
    }
}

/// An error and its causes on one line, without the backtraces some of
/// octocrab's messages carry.
fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let first_line = |e: &dyn std::error::Error| {
        e.to_string()
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned()
    };
    let mut text = first_line(error);
    let mut source = error.source();
    while let Some(cause) = source {
        let line = first_line(cause);
        if !line.is_empty() && !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_classed_into_a_bounded_set() {
        for (path, class) in [
            ("/repos/o/r/check-runs/5", "check-runs"),
            ("/repos/o/r/commits/abc/status?per_page=100", "commits"),
            ("/repos/o/r/issues/3/comments", "issues"),
            ("/repos/o/r/pulls/3", "pulls"),
            ("/repos/o/r/collaborators/u/permission", "collaborators"),
            ("/repos/o/r/git/refs", "git"),
            ("/repos/o/r", "repos"),
            ("/user", "user"),
            ("/app", "app"),
            ("/repos/o/r/anything-else", "other"),
            ("/somewhere", "other"),
            ("", "other"),
        ] {
            assert_eq!(route_class(path), class, "{path}");
        }
    }

    fn limits(headers: &[(&str, &str)]) -> Limits {
        Limits::read(|name| {
            headers
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        })
    }

    fn wait(status: u16, headers: &[(&str, &str)], message: &str) -> Option<Option<Duration>> {
        let clock = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        match transient(status, &limits(headers), message, clock)? {
            GitHubError::Transient { retry_after, .. } => Some(retry_after),
            other => panic!("not transient: {other:?}"),
        }
    }

    #[test]
    fn refusals_are_not_transient() {
        for status in [200, 201, 401, 403, 404, 422] {
            assert_eq!(wait(status, &[], "Not Found"), None, "{status}");
        }
    }

    #[test]
    fn retry_after_seconds_and_dates_are_honoured() {
        let secs = |n| Some(Some(Duration::from_secs(n)));
        assert_eq!(wait(429, &[("retry-after", "7")], ""), secs(7));
        assert_eq!(wait(503, &[("retry-after", "2")], ""), secs(2));
        assert_eq!(wait(502, &[], "Bad Gateway"), Some(None));
        let date = [
            ("date", "Tue, 14 Nov 2023 22:13:20 GMT"),
            ("retry-after", "Tue, 14 Nov 2023 22:13:50 GMT"),
        ];
        assert_eq!(wait(429, &date, ""), secs(30));
    }

    #[test]
    fn an_exhausted_primary_limit_waits_for_the_reset_on_githubs_clock() {
        // The local clock is far behind: the `Date` header is the reference.
        let headers = [
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1800000100"),
            ("date", "Fri, 15 Jan 2027 08:00:00 GMT"),
        ];
        let date = chrono::DateTime::parse_from_rfc2822("Fri, 15 Jan 2027 08:00:00 GMT")
            .expect("date parses")
            .timestamp();
        let expected = u64::try_from(1_800_000_100 - date).expect("reset is later");
        assert_eq!(
            wait(403, &headers, "API rate limit exceeded"),
            Some(Some(Duration::from_secs(expected)))
        );
        // Without `Date`, the local clock (1_700_000_000 here).
        let headers = [
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1700000090"),
        ];
        assert_eq!(
            wait(403, &headers, "API rate limit exceeded"),
            Some(Some(Duration::from_secs(90)))
        );
    }

    #[test]
    fn a_secondary_rate_limit_without_headers_waits_a_minute() {
        let message = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.";
        assert_eq!(wait(403, &[], message), Some(Some(Duration::from_secs(60))));
        assert_eq!(wait(429, &[], ""), Some(Some(Duration::from_secs(60))));
    }

    #[test]
    fn next_links_become_paths() {
        let link = r#"<https://api.github.com/repositories/1/issues/1/comments?per_page=100&page=2>; rel="next", <https://api.github.com/repositories/1/issues/1/comments?per_page=100&page=5>; rel="last""#;
        assert_eq!(
            next_link(link).as_deref(),
            Some("/repositories/1/issues/1/comments?per_page=100&page=2")
        );
        let last_page = r#"<https://api.github.com/x?page=1>; rel="first", <https://api.github.com/x?page=4>; rel="prev""#;
        assert_eq!(next_link(last_page), None);
        assert_eq!(next_link("garbage"), None);
    }

    #[test]
    fn messages_carry_githubs_details() {
        let body = r#"{"message":"Validation Failed","errors":[{"resource":"Label","code":"invalid","field":"name"},{"message":"name is too long"}],"documentation_url":"https://docs.github.com/rest"}"#;
        assert_eq!(
            message(422, body),
            "Validation Failed (Label name invalid; name is too long)"
        );
        assert_eq!(message(502, ""), "HTTP 502");
        assert_eq!(
            message(502, "<html>bad gateway</html>"),
            "<html>bad gateway</html>"
        );
    }

    #[test]
    fn repositories_are_checked_before_they_reach_a_path() {
        assert_eq!(
            Repo::parse("octo-org/hello.world_2").expect("valid").path(),
            "/repos/octo-org/hello.world_2"
        );
        for bad in [
            "nope", "a/b/c", "/b", "a/", "a/..", "a/b?x=1", "a b/c", "a/%2e",
        ] {
            assert!(Repo::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn encoding_keeps_only_unreserved_characters() {
        assert_eq!(encode("size/XS"), "size%2FXS");
        assert_eq!(encode("good first issue"), "good%20first%20issue");
        assert_eq!(encode("dependabot[bot]"), "dependabot%5Bbot%5D");
        assert_eq!(encode("é"), "%C3%A9");
        assert_eq!(encode("a-b.c_d~e"), "a-b.c_d~e");
    }
}
