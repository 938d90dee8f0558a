//! A fake GitHub REST API over real HTTP, for tests and demos: the
//! endpoints andon calls (check runs, commit statuses, issue comments,
//! labels, reactions, pull requests, permissions, app installation tokens,
//! annotated tags and their refs), answering in GitHub's JSON shapes and
//! status codes, with in-memory state the test can seed and inspect, every
//! call recorded, and injectable failures. Tags and refs become real in a
//! repository on disk when the test says where it is
//! ([`FakeGitHub::set_git_dir`]).
//!
//! The server runs on a thread of its own with its own runtime, so sync and
//! async tests use it alike; it stops when the [`FakeGitHub`] is dropped.

mod api;
mod checks;
mod git;
mod issues;
mod render;
mod repos;
mod statuses;

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State as AxumState};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::oneshot;

use api::{Incoming, State};

/// Bodies larger than this are refused with 413 (GitHub's own limits are
/// lower; this only bounds memory).
const MAX_BODY: usize = 32 * 1024 * 1024;

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    /// The path as sent (still percent-encoded), without the query.
    pub path: String,
    /// The query's pairs, decoded, in order.
    pub query: Vec<(String, String)>,
    pub authorization: Option<String>,
    /// The JSON body; `Null` when empty, a string when not JSON.
    pub body: Value,
    /// The status the fake answered with.
    pub status: u16,
    /// Whether the path is an endpoint the fake implements (an unknown one
    /// gets 404 and `false`).
    pub implemented: bool,
    /// When the request arrived.
    pub at: Instant,
}

impl Call {
    /// A query parameter's value.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Display for Call {
    /// `STATUS METHOD PATH?QUERY`, for logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.status, self.method, self.path)?;
        for (i, (name, value)) in self.query.iter().enumerate() {
            write!(f, "{}{name}={value}", if i == 0 { '?' } else { '&' })?;
        }
        Ok(())
    }
}

/// An issue or pull request comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub id: u64,
    /// `owner/name`, lowercase.
    pub repo: String,
    pub issue: u64,
    /// The author's login (`andon-bot`, `andon[bot]`, or a seeded user).
    pub author: String,
    pub body: String,
    pub created_at: String,
    pub updated_at: String,
    /// How many times the body was changed through the API.
    pub edits: usize,
}

/// A check run with every annotation it received.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckRun {
    pub id: u64,
    /// `owner/name`, lowercase.
    pub repo: String,
    pub name: String,
    pub head_sha: String,
    pub external_id: Option<String>,
    pub details_url: Option<String>,
    /// `queued`, `in_progress` or `completed`.
    pub status: String,
    pub conclusion: Option<String>,
    pub started_at: Option<String>,
    pub completed_at: Option<String>,
    pub output: CheckRunOutput,
    /// All annotations, in the order they arrived (each update appends).
    pub annotations: Vec<Annotation>,
    /// How many times it was updated (`PATCH`).
    pub updates: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckRunOutput {
    pub title: Option<String>,
    pub summary: Option<String>,
    pub text: Option<String>,
}

/// A check run annotation, as GitHub accepts and returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Annotation {
    pub path: String,
    pub start_line: u64,
    pub end_line: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_column: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_column: Option<u64>,
    /// `notice`, `warning` or `failure`.
    pub annotation_level: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_details: Option<String>,
}

/// A reaction to an issue comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reaction {
    pub id: u64,
    pub comment_id: u64,
    pub user: String,
    /// `+1`, `-1`, `laugh`, `confused`, `heart`, `hooray`, `rocket`, `eyes`.
    pub content: String,
    pub created_at: String,
}

/// A pull request the test registers; `GET /repos/{o}/{r}/pulls/{n}`
/// serves it, with the labels the issue has at that moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    /// `owner/name`.
    pub repo: String,
    pub number: u64,
    pub title: String,
    pub body: Option<String>,
    pub author: String,
    pub head_sha: String,
    pub head_ref: String,
    /// The repository the head branch lives in, when it is a fork.
    pub head_repo: Option<String>,
    pub base_sha: String,
    pub base_ref: String,
    /// The labels it starts with.
    pub labels: Vec<String>,
    /// `open` or `closed`.
    pub state: String,
    pub draft: bool,
}

impl PullRequest {
    /// An open pull request by `octocat` from `feature-<number>` into `main`.
    pub fn new(repo: &str, number: u64, head_sha: &str, base_sha: &str) -> PullRequest {
        PullRequest {
            repo: repo.to_owned(),
            number,
            title: format!("Test pull request #{number}"),
            body: None,
            author: "octocat".to_owned(),
            head_sha: head_sha.to_owned(),
            head_ref: format!("feature-{number}"),
            head_repo: None,
            base_sha: base_sha.to_owned(),
            base_ref: "main".to_owned(),
            labels: Vec::new(),
            state: "open".to_owned(),
            draft: false,
        }
    }
}

/// A collaborator's role on a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    Admin,
    Maintain,
    Write,
    Triage,
    Read,
    None,
}

impl Permission {
    /// The role name (`role_name` in the API).
    pub fn role_name(self) -> &'static str {
        match self {
            Permission::Admin => "admin",
            Permission::Maintain => "maintain",
            Permission::Write => "write",
            Permission::Triage => "triage",
            Permission::Read => "read",
            Permission::None => "none",
        }
    }

    /// The legacy base role (`permission` in the API): maintain maps to
    /// write and triage to read.
    pub fn legacy(self) -> &'static str {
        match self {
            Permission::Maintain => "write",
            Permission::Triage => "read",
            other => other.role_name(),
        }
    }

    /// Parse a role name.
    pub fn parse(name: &str) -> Option<Permission> {
        [
            Permission::Admin,
            Permission::Maintain,
            Permission::Write,
            Permission::Triage,
            Permission::Read,
            Permission::None,
        ]
        .into_iter()
        .find(|p| p.role_name() == name)
    }
}

/// A commit status (`POST /repos/{o}/{r}/statuses/{sha}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitStatus {
    pub id: u64,
    /// `owner/name`, lowercase.
    pub repo: String,
    pub sha: String,
    pub context: String,
    /// `error`, `failure`, `pending` or `success`.
    pub state: String,
    pub description: Option<String>,
    pub target_url: Option<String>,
    /// The login of whoever posted it.
    pub creator: String,
    pub created_at: String,
}

/// An annotated tag object made through `POST /repos/{o}/{r}/git/tags`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// The tag object's id: git's, with a git directory; otherwise a
    /// stand-in hashed from the content.
    pub sha: String,
    /// `owner/name`, lowercase.
    pub repo: String,
    /// The tag's name (`tag` in the API).
    pub name: String,
    /// The tagged object's id.
    pub object: String,
    /// `commit`, `tree` or `blob`.
    pub object_type: String,
    pub message: String,
    pub tagger_name: String,
    pub tagger_email: String,
    /// As the request gave it (RFC 3339), or when it arrived.
    pub tagger_date: String,
}

/// An installation token the fake handed out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    pub installation_id: u64,
    pub token: String,
    /// The `Authorization` header of the request (the app's JWT).
    pub authorization: Option<String>,
}

type Observer = Arc<dyn Fn(&Call) + Send + Sync>;

struct Shared {
    state: Mutex<State>,
    /// Signalled after every call, for [`FakeGitHub::wait_for`].
    changed: Condvar,
    observer: Mutex<Option<Observer>>,
}

/// The running fake. Dropping it stops the server.
pub struct FakeGitHub {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl fmt::Debug for FakeGitHub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeGitHub")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl FakeGitHub {
    /// Start on a free port of 127.0.0.1.
    pub fn start() -> FakeGitHub {
        FakeGitHub::start_on(SocketAddr::from(([127, 0, 0, 1], 0)))
            .expect("the fake GitHub can listen on a free loopback port")
    }

    /// Start on `addr`.
    pub fn start_on(addr: SocketAddr) -> io::Result<FakeGitHub> {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new(format!("http://{addr}"))),
            changed: Condvar::new(),
            observer: Mutex::new(None),
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let listener = {
            let _context = runtime.enter();
            tokio::net::TcpListener::from_std(listener)?
        };
        let app = Router::new()
            .fallback(serve_request)
            .with_state(Arc::clone(&shared));
        let (shutdown, stop) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("fake-github-{}", addr.port()))
            .spawn(move || {
                // Dropping the runtime at the end of this thread aborts the
                // open connections too, so shutdown never waits on a client.
                runtime.block_on(async move {
                    tokio::select! {
                        _ = axum::serve(listener, app) => {}
                        _ = stop => {}
                    }
                });
            })?;
        Ok(FakeGitHub {
            shared,
            addr,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// The base URL, for `ANDON_GITHUB_API_URL` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Run `observer` on every call, after it was answered (the
    /// `fake-github` binary logs with it).
    pub fn on_call(&self, observer: impl Fn(&Call) + Send + Sync + 'static) {
        *lock(&self.shared.observer) = Some(Arc::new(observer));
    }

    // --- seeding -----------------------------------------------------------

    /// The login of the user the (non-installation) token belongs to:
    /// `GET /user` answers it, and comments created through the API with
    /// such a token are authored by it. Default `andon-bot`. (With an
    /// installation token the author is `andon[bot]`.)
    pub fn set_user_comments_author(&self, login: &str) {
        self.state().token_user = login.to_owned();
    }

    /// Answer 401 to requests whose token is neither `token` nor an
    /// installation token the fake issued (`/app` endpoints are exempt:
    /// they take the app's JWT).
    pub fn require_token(&self, token: &str) {
        self.state().required_token = Some(token.to_owned());
    }

    /// Register a pull request (and its starting labels).
    pub fn add_pull_request(&self, pr: PullRequest) {
        let mut state = self.state();
        let key = (api::repo_key(&pr.repo), pr.number);
        state.labels.insert(key.clone(), pr.labels.clone());
        state.pulls.insert(key, pr);
    }

    /// The clone URL served for `repo` (default `https://github.com/<repo>.git`);
    /// point it at a local repository for end-to-end tests.
    pub fn set_clone_url(&self, repo: &str, url: &str) {
        self.state()
            .clone_urls
            .insert(api::repo_key(repo), url.to_owned());
    }

    /// `user`'s role on `repo`.
    pub fn set_permission(&self, repo: &str, user: &str, level: Permission) {
        self.state()
            .permissions
            .insert((api::repo_key(repo), user.to_lowercase()), level);
    }

    /// The role of users without one (`None`: 404 for them, the default).
    pub fn set_default_permission(&self, level: Option<Permission>) {
        self.state().default_permission = level;
    }

    /// The installation id answered for `repo` (default 1).
    pub fn set_installation(&self, repo: &str, id: u64) {
        self.state().installations.insert(api::repo_key(repo), id);
    }

    /// Replace the labels of issue or pull request `number`.
    pub fn set_labels(&self, repo: &str, number: u64, labels: &[&str]) {
        let labels = labels.iter().map(|l| (*l).to_owned()).collect();
        self.state()
            .labels
            .insert((api::repo_key(repo), number), labels);
    }

    /// Seed a comment by `author` (any user); returns its id.
    pub fn add_comment(&self, repo: &str, number: u64, author: &str, body: &str) -> u64 {
        self.state()
            .insert_comment(&api::repo_key(repo), number, author, body)
    }

    /// Where `repo`'s git data live (a repository, bare or not, such as
    /// an end-to-end test's origin): tags and refs made through the API
    /// are then made there with the `git` command, so a mirror fetching
    /// from it sees them, and refs and tags are looked up there. Without
    /// one they live in memory only.
    pub fn set_git_dir(&self, repo: &str, path: impl Into<PathBuf>) {
        self.state()
            .git_dirs
            .insert(api::repo_key(repo), path.into());
    }

    // --- fault injection ---------------------------------------------------

    /// Answer the next `times` requests with `method` (or `*`) whose path
    /// starts with `path_prefix` with `status` and `headers`, without
    /// touching the state. The body is GitHub's message for that status
    /// (403: the secondary rate limit message).
    pub fn fail_next(
        &self,
        method: &str,
        path_prefix: &str,
        status: u16,
        headers: &[(&str, &str)],
        times: usize,
    ) {
        let body = api::fault_body(status);
        self.fail_next_with_body(method, path_prefix, status, headers, body, times);
    }

    /// [`FakeGitHub::fail_next`] with a body of the test's choosing.
    pub fn fail_next_with_body(
        &self,
        method: &str,
        path_prefix: &str,
        status: u16,
        headers: &[(&str, &str)],
        body: Value,
        times: usize,
    ) {
        self.state().faults.push(api::Fault {
            method: method.to_uppercase(),
            path_prefix: path_prefix.to_owned(),
            status,
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body,
            remaining: times,
        });
    }

    // --- inspection --------------------------------------------------------

    /// Every call so far, in arrival order.
    pub fn calls(&self) -> Vec<Call> {
        self.state().calls.clone()
    }

    /// The first call that arrived after `instant`.
    pub fn first_call_after(&self, instant: Instant) -> Option<Call> {
        self.state().calls.iter().find(|c| c.at > instant).cloned()
    }

    /// The comments on issue or pull request `number`, oldest first.
    pub fn comments(&self, repo: &str, number: u64) -> Vec<Comment> {
        let repo = api::repo_key(repo);
        self.state()
            .comments
            .iter()
            .filter(|c| c.repo == repo && c.issue == number)
            .cloned()
            .collect()
    }

    /// The labels of issue or pull request `number`.
    pub fn labels(&self, repo: &str, number: u64) -> Vec<String> {
        self.state()
            .labels
            .get(&(api::repo_key(repo), number))
            .cloned()
            .unwrap_or_default()
    }

    /// The check runs of `repo`, oldest first.
    pub fn check_runs(&self, repo: &str) -> Vec<CheckRun> {
        let repo = api::repo_key(repo);
        self.state()
            .check_runs
            .iter()
            .filter(|c| c.repo == repo)
            .cloned()
            .collect()
    }

    /// The reactions to comment `comment_id`, oldest first.
    pub fn reactions(&self, comment_id: u64) -> Vec<Reaction> {
        self.state()
            .reactions
            .iter()
            .filter(|r| r.comment_id == comment_id)
            .cloned()
            .collect()
    }

    /// The commit statuses posted on `sha`, oldest first.
    pub fn commit_statuses(&self, repo: &str, sha: &str) -> Vec<CommitStatus> {
        let repo = api::repo_key(repo);
        self.state()
            .statuses
            .iter()
            .filter(|s| s.repo == repo && s.sha == sha)
            .cloned()
            .collect()
    }

    /// The tag objects made through the API in `repo`, oldest first
    /// (whether or not a ref names them).
    pub fn tags(&self, repo: &str) -> Vec<Tag> {
        let repo = api::repo_key(repo);
        self.state()
            .tags
            .iter()
            .filter(|t| t.repo == repo)
            .cloned()
            .collect()
    }

    /// The refs made through the API in `repo` (`refs/tags/...`, object
    /// id), oldest first.
    pub fn refs(&self, repo: &str) -> Vec<(String, String)> {
        let repo = api::repo_key(repo);
        self.state()
            .refs
            .iter()
            .filter(|(r, _, _)| *r == repo)
            .map(|(_, name, sha)| (name.clone(), sha.clone()))
            .collect()
    }

    /// The installation tokens handed out so far.
    pub fn issued_tokens(&self) -> Vec<IssuedToken> {
        self.state().issued_tokens.clone()
    }

    /// Wait until `predicate` holds or `timeout` passes; whether it held.
    /// It is checked now and again after every call the fake answers, so
    /// tests need no sleeps.
    pub fn wait_for(
        &self,
        mut predicate: impl FnMut(&FakeGitHub) -> bool,
        timeout: Duration,
    ) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let seen = self.state().calls.len();
            if predicate(self) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            // Re-check at least every 50 ms: the predicate may look at
            // things other than the fake.
            let wait = (deadline - now).min(Duration::from_millis(50));
            let state = self.state();
            drop(
                self.shared
                    .changed
                    .wait_timeout_while(state, wait, |s| s.calls.len() == seen)
                    .unwrap_or_else(PoisonError::into_inner),
            );
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.shared.state)
    }
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            // An error only means the server already stopped.
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            // A panic on the server thread was already reported there.
            let _ = thread.join();
        }
    }
}

/// A poisoned lock only means a test panicked; the state is still usable
/// for reporting.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The one axum handler: buffer the request, let the state answer it,
/// record it, and add the headers every GitHub answer carries.
async fn serve_request(AxumState(shared): AxumState<Arc<Shared>>, request: Request) -> Response {
    let at = Instant::now();
    let (parts, body) = request.into_parts();
    let Ok(body) = to_bytes(body, MAX_BODY).await else {
        return status_only(StatusCode::PAYLOAD_TOO_LARGE);
    };
    let incoming = Incoming::new(&parts, &body, at);
    let (reply, call) = {
        let mut state = lock(&shared.state);
        let answer = state.answer(incoming);
        shared.changed.notify_all();
        answer
    };
    let observer = lock(&shared.observer).clone();
    if let Some(observer) = observer {
        observer(&call);
    }
    reply.into_response()
}

fn status_only(status: StatusCode) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}

impl api::Reply {
    fn into_response(self) -> Response {
        let mut response = match &self.body {
            Some(json) => {
                let mut response = Response::new(Body::from(json.to_string()));
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json; charset=utf-8"),
                );
                response
            }
            None => Response::new(Body::empty()),
        };
        *response.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        for (name, value) in &self.headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                response.headers_mut().insert(name, value);
            }
        }
        response
    }
}
