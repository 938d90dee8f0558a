//! The GitHub adapter: the only crate that uses octocrab. It turns andon's
//! configuration (an API base URL and a token or GitHub App) into clients,
//! reads what the workers need, and carries out the outbox's effects; its
//! answers are plain types, octocrab's stay inside.
//!
//! Carrying out an effect is one attempt: no sleeping, no retrying here.
//! A transient failure comes back as an error with GitHub's requested wait
//! for the outbox executor to schedule (see [`backoff`]); a refusal for
//! good comes back as [`EffectOutcome::Failed`]. Every effect is idempotent
//! by lookup (check runs by `external_id`, comments by a hidden marker,
//! labels, reactions and commit statuses as states), so a retry after a
//! crash finds the earlier result instead of repeating it.
//!
//! Secrets stay in [`secrecy::SecretString`]: no `Debug` output, error or
//! log line of this crate contains a token or key.

mod backoff;
mod checks;
mod comments;
mod config;
mod error;
mod issues;
mod reads;
mod split;
mod statuses;
mod tags;
mod transport;

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use andon_core::effect::{Effect, EffectOutcome, PlannedEffect};
use octocrab::Octocrab;
use octocrab::models::{AppId, InstallationId};
use octocrab::service::middleware::retry::RetryConfig;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

pub use backoff::backoff;
pub use config::{Credentials, GitHubConfig};
pub use error::GitHubError;
pub use reads::{PullRequestInfo, PullRequestState, RepoPermission};

use crate::reads::UserJson;
use crate::transport::{Api, RATE_UNKNOWN, Repo, Verb, from_octocrab};
pub use crate::transport::{ApiCall, CallObserver, route_class};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// A connection to GitHub as one identity: a token, or a GitHub App and
/// its installations.
pub struct GitHub {
    api_url: String,
    auth: Auth,
    /// The login andon posts as, once asked.
    identity: Mutex<Option<String>>,
    /// `x-ratelimit-remaining` of the last response that had it.
    rate_limit_remaining: AtomicU64,
    /// The plain token, for fetching over https; `None` for an App.
    plain_token: Option<SecretString>,
    /// Told of every request, for metrics.
    observer: Option<CallObserver>,
}

enum Auth {
    Token(Arc<Octocrab>),
    App {
        app_id: u64,
        /// Authenticates with a JWT: for `/app` and minting tokens.
        app: Arc<Octocrab>,
        /// One client per installation. Each keeps its installation token
        /// and mints a new one 30 s before it expires (octocrab's
        /// `CachedToken`), so the clients must be kept, not rebuilt; they
        /// are shared through `Arc` because cloning an `Octocrab` copies
        /// the token cache rather than sharing it.
        installations: Mutex<HashMap<u64, Arc<Octocrab>>>,
    },
}

impl fmt::Debug for GitHub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("GitHub");
        debug.field("api_url", &self.api_url);
        match &self.auth {
            Auth::Token(_) => debug.field("credentials", &"token"),
            Auth::App {
                app_id,
                installations,
                ..
            } => {
                let cached = lock(installations).len();
                debug
                    .field("app_id", app_id)
                    .field("installation_clients", &cached)
            }
        };
        debug.finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct AppJson {
    slug: String,
}

impl GitHub {
    /// Build a client for `config`. Makes no request. Must be called inside
    /// a Tokio runtime (octocrab spawns its connection task there).
    pub fn new(config: &GitHubConfig) -> Result<GitHub, GitHubError> {
        let invalid = |message: String| GitHubError::InvalidUrl {
            url: config.api_url.clone(),
            message,
        };
        if !(config.api_url.starts_with("http://") || config.api_url.starts_with("https://")) {
            return Err(invalid("it must start with http:// or https://".into()));
        }
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(GitHubError::Setup("it needs a Tokio runtime".into()));
        }
        let builder = Octocrab::builder()
            .base_uri(config.api_url.as_str())
            .map_err(|e| invalid(e.to_string()))?
            // One call is one attempt: the outbox executor owns retries.
            .add_retry_config(RetryConfig::None)
            .set_connect_timeout(Some(CONNECT_TIMEOUT))
            .set_read_timeout(Some(IO_TIMEOUT))
            .set_write_timeout(Some(IO_TIMEOUT));
        let setup = |e: octocrab::Error| GitHubError::Setup(e.to_string());
        let auth = match &config.credentials {
            Credentials::Token(token) => Auth::Token(Arc::new(
                builder
                    .personal_token(token.clone())
                    .build()
                    .map_err(setup)?,
            )),
            Credentials::App {
                app_id,
                private_key_pem,
            } => {
                let builder = builder
                    .app_from_rsa_pem(AppId(*app_id), private_key_pem.expose_secret().as_bytes())
                    .map_err(from_octocrab)?;
                Auth::App {
                    app_id: *app_id,
                    app: Arc::new(builder.build().map_err(setup)?),
                    installations: Mutex::new(HashMap::new()),
                }
            }
        };
        Ok(GitHub {
            api_url: config.api_url.clone(),
            auth,
            identity: Mutex::new(None),
            rate_limit_remaining: AtomicU64::new(RATE_UNKNOWN),
            plain_token: match &config.credentials {
                Credentials::Token(token) => Some(token.clone()),
                Credentials::App { .. } => None,
            },
            observer: None,
        })
    }

    /// Tell `observer` of every request from now on, answered or not
    /// (octocrab's own installation-token refreshes excepted: they do not
    /// pass through this crate's transport).
    pub fn with_observer(mut self, observer: CallObserver) -> GitHub {
        self.observer = Some(observer);
        self
    }

    /// The login andon posts as, to recognise its own events and comments:
    /// the token's user (`GET /user`), or `{slug}[bot]` for an App
    /// (`GET /app`). Asked once, then remembered.
    pub async fn identity(&self) -> Result<String, GitHubError> {
        if let Some(login) = lock(&self.identity).clone() {
            return Ok(login);
        }
        let login = match &self.auth {
            Auth::Token(crab) => {
                let user: UserJson = self.with(crab).json(Verb::Get, "/user", None).await?;
                user.login
            }
            Auth::App { app, .. } => {
                let app: AppJson = self.with(app).json(Verb::Get, "/app", None).await?;
                format!("{}[bot]", app.slug)
            }
        };
        *lock(&self.identity) = Some(login.clone());
        Ok(login)
    }

    /// The pull request `number` of `repo` (`owner/name`).
    pub async fn pull_request(
        &self,
        installation: Option<u64>,
        repo: &str,
        number: u64,
    ) -> Result<PullRequestInfo, GitHubError> {
        let repo = Repo::parse(repo)?;
        reads::pull_request(&self.api(installation)?, &repo, number).await
    }

    /// The open pull requests of `repo`, oldest first.
    pub async fn open_pull_requests(
        &self,
        installation: Option<u64>,
        repo: &str,
    ) -> Result<Vec<PullRequestInfo>, GitHubError> {
        let repo = Repo::parse(repo)?;
        reads::open_pull_requests(&self.api(installation)?, &repo).await
    }

    /// What `user` may do in `repo`; [`RepoPermission::None`] when GitHub
    /// does not know them there (404).
    pub async fn permission(
        &self,
        installation: Option<u64>,
        repo: &str,
        user: &str,
    ) -> Result<RepoPermission, GitHubError> {
        let repo = Repo::parse(repo)?;
        reads::permission(&self.api(installation)?, &repo, user).await
    }

    /// How the newest check run named `check_name` on commit `sha` ended,
    /// in GitHub's words: its `conclusion` (`success`, `failure`,
    /// `neutral`, `cancelled`, `skipped`, `timed_out`, `action_required`,
    /// `stale`) once completed, its `status` (`queued`, `in_progress`, ...)
    /// before. When no check run has that name, the newest commit status
    /// whose context is `check_name` answers with its state (`success`,
    /// `failure`, `error`, `pending`), for CI that reports statuses.
    /// `None` when there is neither.
    pub async fn check_conclusion(
        &self,
        installation: Option<u64>,
        repo: &str,
        sha: &str,
        check_name: &str,
    ) -> Result<Option<String>, GitHubError> {
        let repo = Repo::parse(repo)?;
        reads::check_conclusion(&self.api(installation)?, &repo, sha, check_name).await
    }

    /// Carries out one effect, once. `Ok(Done)` when it is done (now or
    /// earlier), `Ok(Failed)` when GitHub refused it for good, and an
    /// error only when it is worth trying again later
    /// ([`GitHubError::Transient`], with GitHub's requested wait if any).
    pub async fn execute(&self, effect: &PlannedEffect) -> Result<EffectOutcome, GitHubError> {
        match self.carry_out(effect).await {
            Ok(detail) => Ok(EffectOutcome::Done { detail }),
            Err(error) if error.is_transient() => Err(error),
            Err(error) => Ok(EffectOutcome::Failed {
                error: error.to_string(),
            }),
        }
    }

    /// `x-ratelimit-remaining` from the last response that carried it.
    pub fn rate_limit_remaining(&self) -> Option<u64> {
        match self.rate_limit_remaining.load(Ordering::Relaxed) {
            RATE_UNKNOWN => None,
            remaining => Some(remaining),
        }
    }

    async fn carry_out(&self, planned: &PlannedEffect) -> Result<String, GitHubError> {
        let repo = Repo::parse(&planned.repository)?;
        let api = self.api(planned.installation)?;
        match &planned.effect {
            Effect::CheckRunStart {
                name,
                head_sha,
                external_id,
            } => checks::start(&api, &repo, name, head_sha, external_id).await,
            Effect::CheckRunFinish {
                name,
                head_sha,
                external_id,
                conclusion,
                title,
                summary,
                text,
                annotations,
            } => {
                let finish = checks::Finish {
                    name,
                    head_sha,
                    external_id,
                    conclusion: *conclusion,
                    title,
                    summary,
                    text: text.as_deref(),
                    annotations,
                };
                checks::finish(&api, &repo, &finish).await
            }
            Effect::StickyComment {
                number,
                marker,
                body,
            } => {
                let me = self.known_identity().await?;
                comments::sticky(&api, &repo, *number, marker, body, me.as_deref()).await
            }
            Effect::Reply {
                number,
                marker,
                body,
            } => {
                let me = self.known_identity().await?;
                comments::reply(&api, &repo, *number, marker, body, me.as_deref()).await
            }
            Effect::Label {
                number,
                label,
                present,
            } => issues::label(&api, &repo, *number, label, *present).await,
            Effect::Reaction {
                comment_id,
                content,
            } => issues::reaction(&api, &repo, *comment_id, content).await,
            Effect::CommitStatus {
                sha,
                context,
                state,
                description,
            } => statuses::set(&api, &repo, sha, context, *state, description).await,
            Effect::Tag {
                name,
                commit,
                message,
                tagger_name,
                tagger_email,
                time,
            } => {
                let tag = tags::NewTag {
                    name,
                    commit,
                    message,
                    tagger_name,
                    tagger_email,
                    time: *time,
                };
                tags::create(&api, &repo, &tag).await
            }
        }
    }

    /// The identity when GitHub will tell it; `None` if it refuses (then
    /// marked comments by anyone count).
    async fn known_identity(&self) -> Result<Option<String>, GitHubError> {
        match self.identity().await {
            Ok(login) => Ok(Some(login)),
            Err(error) if error.is_transient() => Err(error),
            Err(_) => Ok(None),
        }
    }

    /// The password for fetching a repository over https as user
    /// `x-access-token`: the installation's token for an App (cached by
    /// octocrab and refreshed before it expires), the token itself
    /// otherwise. For the git adapter's credential callback only; never
    /// logged.
    pub async fn git_token(&self, installation: Option<u64>) -> Result<SecretString, GitHubError> {
        if let Some(token) = &self.plain_token {
            return Ok(token.clone());
        }
        let api = self.api(installation)?;
        api.crab.installation_token().await.map_err(from_octocrab)
    }

    /// The client for a repository call: the token's, or the installation's.
    fn api(&self, installation: Option<u64>) -> Result<Api<'_>, GitHubError> {
        let crab = match &self.auth {
            Auth::Token(crab) => Arc::clone(crab),
            Auth::App {
                app, installations, ..
            } => {
                let id = installation.ok_or(GitHubError::NoInstallation)?;
                match lock(installations).entry(id) {
                    Entry::Occupied(entry) => Arc::clone(entry.get()),
                    Entry::Vacant(entry) => {
                        let crab = app
                            .installation(InstallationId(id))
                            .map_err(from_octocrab)?;
                        Arc::clone(entry.insert(Arc::new(crab)))
                    }
                }
            }
        };
        Ok(self.with(&crab))
    }

    fn with(&self, crab: &Arc<Octocrab>) -> Api<'_> {
        Api {
            crab: Arc::clone(crab),
            rate: &self.rate_limit_remaining,
            observer: self.observer.as_ref(),
        }
    }
}

/// A lock that survives a panic elsewhere: the data are caches, valid at
/// every step.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
