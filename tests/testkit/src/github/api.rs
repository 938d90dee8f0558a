//! The fake's state and its request pipeline: record, inject faults,
//! check the token, route to an endpoint, paginate. Endpoints live in
//! `checks`, `git`, `issues`, `repos` and `statuses`; JSON shapes in
//! `render`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use axum::extract::Query;
use axum::http::header;
use axum::http::request::Parts;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde_json::{Value, json};

use super::{
    Call, CheckRun, Comment, CommitStatus, IssuedToken, Permission, PullRequest, Reaction, Tag,
};

/// The app the fake plays, and its id.
pub(super) const APP_SLUG: &str = "andon";
pub(super) const APP_ID: u64 = 1;
/// GitHub's primary rate limit for a token, per hour.
const RATE_LIMIT: u64 = 5000;
const DOCS: &str = "https://docs.github.com/rest";

/// A repository's key in the state: GitHub matches owner and name without
/// regard to case.
pub(super) fn repo_key(full_name: &str) -> String {
    full_name.to_lowercase()
}

/// A failure to inject.
pub(super) struct Fault {
    pub method: String,
    pub path_prefix: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
    pub remaining: usize,
}

/// GitHub's body for an injected status.
pub(super) fn fault_body(status: u16) -> Value {
    let message = match status {
        401 => "Bad credentials",
        403 => "You have exceeded a secondary rate limit",
        404 => "Not Found",
        422 => "Validation Failed",
        429 => "API rate limit exceeded",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Server Error",
    };
    json!({ "message": message, "documentation_url": DOCS, "status": status.to_string() })
}

/// A request, read to the end.
pub(super) struct Incoming {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub authorization: Option<String>,
    /// `None` when the body is not empty and not JSON.
    pub json: Option<Value>,
    pub body: Value,
    pub at: Instant,
}

impl Incoming {
    pub fn new(parts: &Parts, body: &[u8], at: Instant) -> Incoming {
        let query = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map(|q| q.0)
            .unwrap_or_default();
        let json = if body.is_empty() {
            Some(Value::Null)
        } else {
            serde_json::from_slice(body).ok()
        };
        Incoming {
            method: parts.method.as_str().to_owned(),
            path: parts.uri.path().to_owned(),
            query,
            authorization: parts
                .headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            body: json
                .clone()
                .unwrap_or_else(|| Value::String(String::from_utf8_lossy(body).into_owned())),
            json,
            at,
        }
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The token, without its `Bearer`/`token` scheme.
    pub fn token(&self) -> Option<&str> {
        let value = self.authorization.as_deref()?;
        let token = value
            .split_once(' ')
            .map_or(value, |(_, token)| token)
            .trim();
        Some(token)
    }

    /// The JSON body (`Null` when empty).
    pub fn json(&self) -> &Value {
        self.json.as_ref().unwrap_or(&Value::Null)
    }
}

/// An answer before it becomes HTTP.
pub(super) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Some(body),
        }
    }

    pub fn no_content() -> Reply {
        Reply {
            status: 204,
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn not_found() -> Reply {
        Reply::json(404, fault_body(404))
    }

    pub fn message(status: u16, message: &str) -> Reply {
        Reply::json(
            status,
            json!({ "message": message, "documentation_url": DOCS, "status": status.to_string() }),
        )
    }

    /// 422 with one error on `field` of `resource`.
    pub fn invalid(resource: &str, field: &str, message: &str) -> Reply {
        Reply::json(
            422,
            json!({
                "message": "Validation Failed",
                "errors": [{ "resource": resource, "code": "custom", "field": field, "message": message }],
                "documentation_url": DOCS,
                "status": "422",
            }),
        )
    }

    pub fn header(mut self, name: &str, value: String) -> Reply {
        self.headers.push((name.to_owned(), value));
        self
    }

    /// With a pagination `Link` header, if there is one.
    pub fn link(self, link: Option<String>) -> Reply {
        match link {
            Some(link) => self.header("link", link),
            None => self,
        }
    }
}

/// Who a request acts as.
pub(super) struct Identity {
    pub login: String,
    /// `User` or `Bot`.
    pub kind: &'static str,
}

/// Everything the fake knows.
pub(super) struct State {
    /// `http://127.0.0.1:PORT`, for URLs in answers.
    pub base_url: String,
    pub token_user: String,
    pub required_token: Option<String>,
    pub issued_tokens: Vec<IssuedToken>,
    pub installations: HashMap<String, u64>,
    pub clone_urls: HashMap<String, String>,
    pub next_id: u64,
    /// Stable ids for users, repositories and labels, by name.
    pub names: HashMap<String, u64>,
    pub check_runs: Vec<CheckRun>,
    pub statuses: Vec<CommitStatus>,
    /// Where repositories' git data live, by repository key.
    pub git_dirs: HashMap<String, PathBuf>,
    pub tags: Vec<Tag>,
    /// Refs made through the API: repository key, full name, object id.
    pub refs: Vec<(String, String, String)>,
    pub comments: Vec<Comment>,
    pub labels: HashMap<(String, u64), Vec<String>>,
    pub reactions: Vec<Reaction>,
    pub pulls: HashMap<(String, u64), PullRequest>,
    pub permissions: HashMap<(String, String), Permission>,
    pub default_permission: Option<Permission>,
    pub faults: Vec<Fault>,
    pub calls: Vec<Call>,
    pub rate_remaining: u64,
    /// When the rate limit window ends, in seconds since the epoch.
    pub rate_reset: i64,
}

impl State {
    pub fn new(base_url: String) -> State {
        State {
            base_url,
            token_user: "andon-bot".to_owned(),
            required_token: None,
            issued_tokens: Vec::new(),
            installations: HashMap::new(),
            clone_urls: HashMap::new(),
            next_id: 1,
            names: HashMap::new(),
            check_runs: Vec::new(),
            statuses: Vec::new(),
            git_dirs: HashMap::new(),
            tags: Vec::new(),
            refs: Vec::new(),
            comments: Vec::new(),
            labels: HashMap::new(),
            reactions: Vec::new(),
            pulls: HashMap::new(),
            permissions: HashMap::new(),
            default_permission: None,
            faults: Vec::new(),
            calls: Vec::new(),
            rate_remaining: RATE_LIMIT,
            rate_reset: chrono::Utc::now().timestamp() + 3600,
        }
    }

    pub fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// A stable id for a named thing (`user:login`, `repo:o/r`, `label:x`).
    pub fn id_for(&mut self, name: String) -> u64 {
        if let Some(id) = self.names.get(&name) {
            return *id;
        }
        let id = self.next_id();
        self.names.insert(name, id);
        id
    }

    /// Answer a request and record it.
    pub fn answer(&mut self, request: Incoming) -> (Reply, Call) {
        self.rate_remaining = self.rate_remaining.saturating_sub(1);
        let mut implemented = true;
        let mut reply = self.injected_fault(&request).unwrap_or_else(|| {
            self.unauthorized(&request).unwrap_or_else(|| {
                let reply = self.route(&request);
                implemented = reply.is_some();
                reply.unwrap_or_else(Reply::not_found)
            })
        });
        let mut headers = self.rate_limit_headers();
        // Later headers win, so a fault's own rate limit headers override.
        headers.append(&mut reply.headers);
        reply.headers = headers;
        let call = Call {
            method: request.method,
            path: request.path,
            query: request.query,
            authorization: request.authorization,
            body: request.body,
            status: reply.status,
            implemented,
            at: request.at,
        };
        self.calls.push(call.clone());
        (reply, call)
    }

    /// The headers of every answer: GitHub's primary rate limit, counted
    /// down by one per call within a fixed hour.
    fn rate_limit_headers(&self) -> Vec<(String, String)> {
        [
            ("x-ratelimit-limit", RATE_LIMIT.to_string()),
            ("x-ratelimit-remaining", self.rate_remaining.to_string()),
            (
                "x-ratelimit-used",
                (RATE_LIMIT - self.rate_remaining).to_string(),
            ),
            ("x-ratelimit-reset", self.rate_reset.to_string()),
            ("x-ratelimit-resource", "core".to_owned()),
            ("x-github-api-version-selected", "2022-11-28".to_owned()),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
    }

    fn injected_fault(&mut self, request: &Incoming) -> Option<Reply> {
        let index = self.faults.iter().position(|f| {
            f.remaining > 0
                && (f.method == "*" || f.method == request.method)
                && request.path.starts_with(&f.path_prefix)
        })?;
        let fault = &mut self.faults[index];
        fault.remaining -= 1;
        let reply = Reply {
            status: fault.status,
            headers: fault.headers.clone(),
            body: Some(fault.body.clone()),
        };
        if fault.remaining == 0 {
            self.faults.remove(index);
        }
        Some(reply)
    }

    fn unauthorized(&self, request: &Incoming) -> Option<Reply> {
        let required = self.required_token.as_deref()?;
        if request.path == "/app" || request.path.starts_with("/app/") {
            return None;
        }
        let token = request.token();
        let accepted = token == Some(required)
            || self
                .issued_tokens
                .iter()
                .any(|t| Some(t.token.as_str()) == token);
        (!accepted).then(|| Reply::message(401, "Bad credentials"))
    }

    /// Who the request's token belongs to.
    pub fn identity(&self, request: &Incoming) -> Identity {
        let token = request.token();
        if self
            .issued_tokens
            .iter()
            .any(|t| Some(t.token.as_str()) == token)
        {
            Identity {
                login: format!("{APP_SLUG}[bot]"),
                kind: "Bot",
            }
        } else {
            Identity {
                login: self.token_user.clone(),
                kind: "User",
            }
        }
    }

    /// `None` when no endpoint matches.
    fn route(&mut self, request: &Incoming) -> Option<Reply> {
        let segments: Vec<String> = request
            .path
            .trim_start_matches('/')
            .split('/')
            .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
            .collect();
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        if request.json.is_none() {
            return Some(Reply::message(400, "Problems parsing JSON"));
        }
        let method = request.method.as_str();
        let reply = match (method, segments.as_slice()) {
            ("GET", ["user"]) => self.get_user(request),
            ("GET", ["app"]) => self.get_app(),
            ("POST", ["app", "installations", id, "access_tokens"]) => {
                self.create_installation_token(request, number(id)?)
            }
            (_, ["repos", owner, name, rest @ ..]) => {
                let repo = format!("{owner}/{name}");
                self.route_repo(request, method, &repo, rest)?
            }
            _ => return None,
        };
        Some(reply)
    }

    fn route_repo(
        &mut self,
        request: &Incoming,
        method: &str,
        repo: &str,
        rest: &[&str],
    ) -> Option<Reply> {
        let reply = match (method, rest) {
            ("GET", ["installation"]) => self.get_repo_installation(repo),
            ("POST", ["check-runs"]) => self.create_check_run(request, repo),
            ("GET", ["check-runs", id]) => self.get_check_run(repo, number(id)?),
            // GitHub takes POST for PATCH (for clients that cannot send
            // PATCH); octocrab edits comments that way.
            ("PATCH" | "POST", ["check-runs", id]) => {
                self.update_check_run(request, repo, number(id)?)
            }
            ("GET", ["check-runs", id, "annotations"]) => {
                self.list_annotations(request, repo, number(id)?)
            }
            ("GET", ["commits", sha, "check-runs"]) => self.list_check_runs(request, repo, sha),
            ("GET", ["commits", sha, "status"]) => self.combined_status(request, repo, sha),
            ("GET", ["commits", sha, "statuses"]) => self.list_statuses(request, repo, sha),
            ("POST", ["statuses", sha]) => self.create_status(request, repo, sha),
            ("POST", ["git", "tags"]) => self.create_tag(request, repo),
            ("GET", ["git", "tags", sha]) => self.get_tag(repo, sha),
            ("POST", ["git", "refs"]) => self.create_ref(request, repo),
            ("GET", ["git", "ref", name @ ..]) if !name.is_empty() => {
                self.get_ref(repo, &format!("refs/{}", name.join("/")))
            }
            ("GET", ["issues", "comments", id]) => self.get_comment(repo, number(id)?),
            ("PATCH" | "POST", ["issues", "comments", id]) => {
                self.update_comment(request, repo, number(id)?)
            }
            ("DELETE", ["issues", "comments", id]) => self.delete_comment(repo, number(id)?),
            ("GET", ["issues", "comments", id, "reactions"]) => {
                self.list_reactions(request, repo, number(id)?)
            }
            ("POST", ["issues", "comments", id, "reactions"]) => {
                self.create_reaction(request, repo, number(id)?)
            }
            ("GET", ["issues", n, "comments"]) => self.list_comments(request, repo, number(n)?),
            ("POST", ["issues", n, "comments"]) => self.create_comment(request, repo, number(n)?),
            ("GET", ["issues", n, "labels"]) => self.list_labels(request, repo, number(n)?),
            ("POST", ["issues", n, "labels"]) => self.add_labels(request, repo, number(n)?),
            ("PUT", ["issues", n, "labels"]) => self.replace_labels(request, repo, number(n)?),
            ("DELETE", ["issues", n, "labels"]) => self.clear_labels(repo, number(n)?),
            ("DELETE", ["issues", n, "labels", name]) => self.remove_label(repo, number(n)?, name),
            ("GET", ["pulls"]) => self.list_pulls(request, repo),
            ("GET", ["pulls", n]) => self.get_pull(repo, number(n)?),
            ("GET", ["collaborators", user, "permission"]) => self.get_permission(repo, user),
            _ => return None,
        };
        Some(reply)
    }

    /// One page of `items` (`per_page` default 30, at most 100; `page`
    /// from 1), and a GitHub `Link` header when there is more than one.
    pub fn paginate<T: Clone>(&self, request: &Incoming, items: &[T]) -> (Vec<T>, Option<String>) {
        let per_page = request
            .param("per_page")
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(30)
            .clamp(1, 100);
        let page = request
            .param("page")
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(1)
            .max(1);
        let last = items.len().div_ceil(per_page).max(1);
        let start = (page - 1).saturating_mul(per_page).min(items.len());
        let end = (start + per_page).min(items.len());
        let link = (last > 1).then(|| {
            let mut links = Vec::new();
            if page > 1 {
                links.push(self.page_link(request, page.min(last + 1) - 1, "prev"));
            }
            if page < last {
                links.push(self.page_link(request, page + 1, "next"));
                links.push(self.page_link(request, last, "last"));
            }
            if page > 1 {
                links.push(self.page_link(request, 1, "first"));
            }
            links.join(", ")
        });
        (items[start..end].to_vec(), link)
    }

    fn page_link(&self, request: &Incoming, page: usize, rel: &str) -> String {
        let mut query: Vec<String> = request
            .query
            .iter()
            .filter(|(name, _)| name != "page")
            .map(|(name, value)| format!("{}={}", encode_segment(name), encode_segment(value)))
            .collect();
        query.push(format!("page={page}"));
        format!(
            "<{}{}?{}>; rel=\"{rel}\"",
            self.base_url,
            request.path,
            query.join("&")
        )
    }

    /// A JSON list answer, paginated.
    pub fn list_reply(&self, request: &Incoming, items: &[Value]) -> Reply {
        let (page, link) = self.paginate(request, items);
        Reply::json(200, Value::Array(page)).link(link)
    }
}

/// Everything but RFC 3986's unreserved characters.
const RESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encode a path segment or query value.
pub(super) fn encode_segment(text: &str) -> String {
    utf8_percent_encode(text, RESERVED).to_string()
}

/// A numeric path segment; `None` (so 404) when it is not one.
fn number(segment: &str) -> Option<u64> {
    segment.parse().ok()
}

/// Now, as GitHub writes timestamps.
pub(super) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
