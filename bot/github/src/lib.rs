//! The GitHub adapter: the only crate that uses octocrab. It turns andon's
//! configuration (an API base URL and a credential) into a client and
//! answers in plain types; octocrab's types stay inside.
//!
//! This release only connects and checks credentials; carrying out actions
//! (check runs, sticky comments, labels) arrives with `andon serve`.

use secrecy::SecretString;

/// Where GitHub is and how to authenticate.
#[derive(Clone)]
pub struct GitHubConfig {
    /// `https://api.github.com`, a GitHub Enterprise URL, or a fake for tests.
    pub api_url: String,
    /// A token (personal, fine-grained or installation). Never logged.
    pub token: SecretString,
}

impl std::fmt::Debug for GitHubConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHubConfig")
            .field("api_url", &self.api_url)
            .field("token", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GitHubError {
    #[error("invalid GitHub API URL `{url}`: {message}")]
    InvalidUrl { url: String, message: String },
    #[error("GitHub rejected the credentials (HTTP {status})")]
    Unauthorized { status: u16 },
    #[error("GitHub request failed: {0}")]
    Request(String),
}

impl GitHubError {
    /// Whether retrying later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, GitHubError::Request(_))
    }
}

/// A connected client.
#[derive(Debug)]
pub struct GitHub {
    client: octocrab::Octocrab,
}

impl GitHub {
    /// Build a client for `config`. Makes no request.
    pub fn new(config: &GitHubConfig) -> Result<GitHub, GitHubError> {
        let invalid = |message: String| GitHubError::InvalidUrl {
            url: config.api_url.clone(),
            message,
        };
        if !(config.api_url.starts_with("http://") || config.api_url.starts_with("https://")) {
            return Err(invalid("it must start with http:// or https://".into()));
        }
        let client = octocrab::Octocrab::builder()
            .base_uri(config.api_url.as_str())
            .map_err(|e| invalid(e.to_string()))?
            .personal_token(config.token.clone())
            .build()
            .map_err(|e| GitHubError::Request(e.to_string()))?;
        Ok(GitHub { client })
    }

    /// The login the credentials belong to (`GET /user`).
    pub async fn login(&self) -> Result<String, GitHubError> {
        match self.client.current().user().await {
            Ok(user) => Ok(user.login),
            Err(octocrab::Error::GitHub { source, .. }) if source.status_code.as_u16() == 401 => {
                Err(GitHubError::Unauthorized { status: 401 })
            }
            Err(error) => Err(GitHubError::Request(error.to_string())),
        }
    }
}
