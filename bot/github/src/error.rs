//! What can go wrong talking to GitHub, sorted by what the caller should
//! do about it: fix the configuration, give up, or try again later.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum GitHubError {
    #[error("invalid GitHub API URL `{url}`: {message}")]
    InvalidUrl { url: String, message: String },
    #[error("invalid GitHub App private key: {0}")]
    InvalidKey(String),
    #[error("cannot build the GitHub client: {0}")]
    Setup(String),
    #[error("`{0}` is not a repository of the form owner/name")]
    InvalidRepository(String),
    #[error("a GitHub App needs an installation id to act on a repository")]
    NoInstallation,
    /// GitHub answered with a refusal that repeating will not change
    /// (401, 403 without rate limiting, 404, 422, ...).
    #[error("GitHub refused the request (HTTP {status}): {message}")]
    Refused { status: u16, message: String },
    /// GitHub answered, but not in the shape its documentation gives.
    #[error("unexpected answer from GitHub: {0}")]
    Malformed(String),
    /// A request andon could not express (a bug, not GitHub's answer).
    #[error("cannot build the request: {0}")]
    BadRequest(String),
    /// Network trouble, a server error or a rate limit: try again, no
    /// sooner than `retry_after` when GitHub said how long to wait.
    #[error("GitHub is unavailable for now: {message}")]
    Transient {
        message: String,
        retry_after: Option<Duration>,
    },
}

impl GitHubError {
    /// Whether retrying later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, GitHubError::Transient { .. })
    }

    /// The HTTP status of a refusal.
    pub fn status(&self) -> Option<u16> {
        match self {
            GitHubError::Refused { status, .. } => Some(*status),
            _ => None,
        }
    }
}
