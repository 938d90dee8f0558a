//! `andon serve`: the GitHub bot.
//!
//! Four loops share one store: the intake answers webhooks (persisting each
//! delivery before acknowledging it), the scheduler claims the ticks of
//! scheduled workflows (persisting each claim before handing it out), the
//! workers turn deliveries and ticks into runs (committing each run with
//! its outbox in one transaction), and the executor carries the outbox out
//! on GitHub. Each loop only reads what the
//! previous one made durable, so a crash anywhere loses nothing: on restart
//! the workers find the deliveries still pending and the executor the
//! effects not yet done.

pub mod api;
pub mod dashboard;
mod executor;
mod intake;
pub mod metrics;
pub mod scheduler;
pub mod worker;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use andon_git::Mirrors;
use andon_github::{Credentials, GitHub, GitHubConfig};
use andon_host::{HostConfig, PluginHost};
use andon_store::{InboxStore, Store};
use anyhow::{Context, bail};
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use secrecy::SecretString;
use tokio::sync::{Notify, mpsc};

pub use intake::Secrets;
pub use metrics::Metrics;
pub use worker::{Context as WorkerContext, Outcome};

/// `andon serve`'s settings. Each flag can also be given by its
/// environment variable (prefer those for secrets: flags show up in `ps`).
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The address to listen on (`127.0.0.1:0` picks a free port).
    #[arg(long, env = "ANDON_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Webhook secrets, comma-separated; any of them may sign a delivery
    /// (list the new one beside the old one while rotating).
    #[arg(
        long,
        env = "ANDON_WEBHOOK_SECRET",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub webhook_secret: Vec<String>,
    /// A GitHub token (personal, fine-grained or installation).
    #[arg(long, env = "ANDON_GITHUB_TOKEN", hide_env_values = true)]
    pub github_token: Option<String>,
    /// The GitHub App's id (with `--github-private-key`).
    #[arg(long, env = "ANDON_GITHUB_APP_ID")]
    pub github_app_id: Option<u64>,
    /// The GitHub App's private key: a PEM file.
    #[arg(long, env = "ANDON_GITHUB_PRIVATE_KEY")]
    pub github_private_key: Option<PathBuf>,
    /// The GitHub REST API, for GitHub Enterprise or a fake in tests.
    #[arg(
        long,
        env = "ANDON_GITHUB_API_URL",
        default_value = "https://api.github.com"
    )]
    pub github_api_url: String,
    /// Fetch repositories from `{this}/{owner}/{repo}.git` (a URL or a
    /// local folder) instead of the clone URL in the payload.
    #[arg(long, env = "ANDON_GIT_BASE_URL")]
    pub git_base_url: Option<String>,
    /// How many deliveries are processed at once (different pull requests
    /// in parallel; one pull request's events always in order).
    #[arg(long, env = "ANDON_WORKERS")]
    pub workers: Option<usize>,
    /// How long a graceful shutdown waits for work in flight.
    #[arg(long, env = "ANDON_SHUTDOWN_GRACE", default_value = "30s", value_parser = parse_duration)]
    pub shutdown_grace: Duration,
    /// Local git repositories whose workflows' schedules run too (read
    /// from `HEAD`, again whenever it moves), comma-separated in the
    /// variable; repeat the flag for several.
    #[arg(
        long = "schedule-repo",
        env = "ANDON_SCHEDULE_REPOS",
        value_delimiter = ','
    )]
    pub schedule_repos: Vec<PathBuf>,
    /// The token the dashboard and `/metrics` ask for (as a bearer token,
    /// or as the password of HTTP Basic auth, any user name). Without it
    /// they answer only when andon listens on a loopback address.
    #[arg(long, env = "ANDON_DASHBOARD_TOKEN", hide_env_values = true)]
    pub dashboard_token: Option<String>,
    /// `off` records no metrics (`/metrics` then shows zeros): only for
    /// measuring what recording them costs.
    #[arg(
        long,
        env = "ANDON_METRICS",
        default_value = "on",
        value_parser = ["on", "off"],
        hide = true
    )]
    pub metrics: String,
}

/// How often local schedule repositories are checked for a new `HEAD`.
const LOCAL_SYNC_EVERY: Duration = Duration::from_secs(30);

fn parse_duration(text: &str) -> Result<Duration, String> {
    andon_core::workflow::parse_duration(text).ok_or_else(|| format!("invalid duration `{text}`"))
}

/// Which of the long-running loops are running, for `/readyz`.
#[derive(Debug, Default)]
pub struct Readiness {
    workers: AtomicBool,
    scheduler: AtomicBool,
    executor: AtomicBool,
    /// Whether there is an executor to wait for (GitHub is configured).
    needs_executor: AtomicBool,
}

/// One of the loops [`Readiness`] follows.
#[derive(Debug, Clone, Copy)]
enum Loop {
    Workers,
    Scheduler,
    Executor,
}

impl Readiness {
    fn flag(&self, which: Loop) -> &AtomicBool {
        match which {
            Loop::Workers => &self.workers,
            Loop::Scheduler => &self.scheduler,
            Loop::Executor => &self.executor,
        }
    }

    /// What is not running, in words.
    fn missing(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        if !self.workers.load(Ordering::Acquire) {
            missing.push("the worker dispatcher is not running");
        }
        if !self.scheduler.load(Ordering::Acquire) {
            missing.push("the scheduler is not running");
        }
        if self.needs_executor.load(Ordering::Acquire) && !self.executor.load(Ordering::Acquire) {
            missing.push("the outbox executor is not running");
        }
        missing
    }
}

/// Marks a loop running while it is alive: dropped when the loop returns,
/// panics or is aborted.
struct Alive {
    shared: Arc<Shared>,
    which: Loop,
}

impl Alive {
    fn new(shared: &Arc<Shared>, which: Loop) -> Alive {
        shared.readiness.flag(which).store(true, Ordering::Release);
        Alive {
            shared: shared.clone(),
            which,
        }
    }
}

impl Drop for Alive {
    fn drop(&mut self) {
        self.shared
            .readiness
            .flag(self.which)
            .store(false, Ordering::Release);
    }
}

/// What the intake, the API and the loops share.
pub struct Shared {
    pub store: Store,
    pub secrets: Secrets,
    pub metrics: Arc<Metrics>,
    pub readiness: Readiness,
    pub api_token: String,
    /// Who may read the dashboard and `/metrics`.
    pub access: dashboard::Access,
    work: Notify,
    outbox: Arc<Notify>,
    draining: AtomicBool,
}

impl Shared {
    fn wake_workers(&self) {
        self.work.notify_one();
    }

    fn wake_executor(&self) {
        self.outbox.notify_one();
    }

    fn draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The GitHub client the settings ask for, if any.
pub fn github_client(args: &ServeArgs) -> anyhow::Result<Option<GitHub>> {
    let credentials = match (
        &args.github_token,
        args.github_app_id,
        &args.github_private_key,
    ) {
        (Some(_), Some(_), _) => {
            bail!("give either ANDON_GITHUB_TOKEN or ANDON_GITHUB_APP_ID, not both")
        }
        (Some(token), None, _) => Credentials::Token(SecretString::from(token.clone())),
        (None, Some(app_id), Some(key_path)) => {
            let pem = std::fs::read_to_string(key_path).with_context(|| {
                format!(
                    "cannot read the GitHub App private key {}",
                    key_path.display()
                )
            })?;
            Credentials::App {
                app_id,
                private_key_pem: SecretString::from(pem),
            }
        }
        (None, Some(_), None) => {
            bail!("ANDON_GITHUB_APP_ID needs ANDON_GITHUB_PRIVATE_KEY (a PEM file)")
        }
        (None, None, Some(_)) => {
            bail!("ANDON_GITHUB_PRIVATE_KEY needs ANDON_GITHUB_APP_ID")
        }
        (None, None, None) => return Ok(None),
    };
    let github = GitHub::new(&GitHubConfig {
        api_url: args.github_api_url.trim_end_matches('/').to_string(),
        credentials,
    })?;
    Ok(Some(github))
}

/// Run the server until SIGINT or SIGTERM, then drain.
pub fn serve(data_dir: &Path, args: &ServeArgs) -> anyhow::Result<()> {
    let secrets = Secrets::new(args.webhook_secret.clone());
    if secrets.is_empty() {
        bail!(
            "andon serve needs ANDON_WEBHOOK_SECRET: without it anyone could send events; set the same secret on the GitHub App or webhook"
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("andon")
        .build()
        .context("cannot start the async runtime")?;
    let metrics = Arc::new(Metrics::new(args.metrics != "off"));
    // octocrab's client needs the runtime it will run on.
    let github = {
        let _runtime = runtime.enter();
        github_client(args)?.map(|github| {
            let metrics = metrics.clone();
            Arc::new(github.with_observer(Arc::new(move |call| metrics.github_call(call))))
        })
    };
    if github.is_none() {
        tracing::warn!(
            "no GitHub credentials (ANDON_GITHUB_TOKEN or ANDON_GITHUB_APP_ID): deliveries are processed and their effects kept in the outbox until credentials are configured"
        );
    }
    let store = Store::open(&data_dir.join("store"))
        .with_context(|| format!("cannot open the store in {}", data_dir.display()))?;
    let host = Arc::new(PluginHost::new(HostConfig {
        cache_dir: Some(crate::cli::plugin_cache(data_dir)),
        ..HostConfig::default()
    })?);
    let workers = args
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from))
        .max(1);
    // Read local schedule repositories before serving, so a broken path is
    // said at once.
    for path in &args.schedule_repos {
        worker::sync_local_schedules(&store, path)
            .with_context(|| format!("cannot read the schedules of {}", path.display()))?;
    }
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Shared {
            store: store.clone(),
            secrets,
            metrics: metrics.clone(),
            readiness: Readiness::default(),
            api_token: api::new_token(),
            access: dashboard::Access::new(args.dashboard_token.clone(), address.ip().is_loopback()),
            work: Notify::new(),
            outbox: Arc::new(Notify::new()),
            draining: AtomicBool::new(false),
        });
        let info = api::publish(data_dir, address, &shared.api_token)?;
        let schedules_ready = Arc::new(Notify::new());
        let scheduler_stop = Arc::new(AtomicBool::new(false));
        let (ticks_tx, ticks_rx) = mpsc::unbounded_channel();
        let context = Arc::new(worker::Context {
            store: store.clone(),
            host: host.clone(),
            github: github.clone(),
            mirrors: Mirrors::new(data_dir.join("mirrors")),
            git_base_url: args.git_base_url.clone(),
            clone_url: None,
            outbox_ready: Some(shared.outbox.clone()),
            self_login: match &github {
                Some(gh) => match gh.identity().await {
                    Ok(login) => Some(login),
                    Err(error) => {
                        tracing::warn!(%error, "cannot learn the bot's own login; its own events are recognised by sender type only");
                        None
                    }
                },
                None => None,
            },
            schedules_ready: Some(schedules_ready.clone()),
            metrics: metrics.clone(),
        });
        // Precompile the stock plugins so the first delivery does not pay
        // for it.
        {
            let host = host.clone();
            tokio::task::spawn_blocking(move || crate::plugins::warm(&host));
        }
        let workers_task = tokio::spawn({
            let dispatch = worker::dispatch(shared.clone(), context.clone(), workers, ticks_rx);
            let alive = Alive::new(&shared, Loop::Workers);
            async move {
                dispatch.await;
                drop(alive);
            }
        });
        let lateness = metrics.clone();
        let scheduler = Arc::new(
            scheduler::Scheduler::new(
                store.clone(),
                Arc::new(scheduler::SystemClock),
                ticks_tx,
                schedules_ready.clone(),
                scheduler_stop.clone(),
            )
            .observe_lateness(Arc::new(move |late| lateness.tick_dispatched(late))),
        );
        let scheduler_task = tokio::spawn({
            let alive = Alive::new(&shared, Loop::Scheduler);
            async move {
                scheduler.run().await;
                drop(alive);
            }
        });
        let local_task = (!args.schedule_repos.is_empty()).then(|| {
            tokio::spawn(sync_local_repos(
                store.clone(),
                args.schedule_repos.clone(),
                schedules_ready.clone(),
                scheduler_stop.clone(),
            ))
        });
        shared.readiness.needs_executor.store(github.is_some(), Ordering::Release);
        let executor_task = github.clone().map(|gh| {
            let alive = Alive::new(&shared, Loop::Executor);
            let run = executor::run(shared.clone(), gh);
            tokio::spawn(async move {
                run.await;
                drop(alive);
            })
        });

        let app = router(shared.clone());
        println!("andon listening on http://{address}");
        tracing::info!(%address, workers, "andon serve started");
        let shutdown_shared = shared.clone();
        let shutdown_schedules = (schedules_ready.clone(), scheduler_stop.clone());
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                shutdown_signal().await;
                tracing::info!("shutting down: no new deliveries, draining work in flight");
                shutdown_shared.draining.store(true, Ordering::Release);
                shutdown_schedules.1.store(true, Ordering::Release);
                shutdown_shared.work.notify_waiters();
                shutdown_shared.outbox.notify_waiters();
                shutdown_schedules.0.notify_waiters();
            })
            .await
            .context("the HTTP server failed")?;
        let grace = args.shutdown_grace;
        if tokio::time::timeout(grace, scheduler_task).await.is_err() {
            tracing::warn!("the scheduler is still busy; its claimed ticks run after the restart");
        }
        if let Some(task) = local_task {
            task.abort();
        }
        if tokio::time::timeout(grace, workers_task).await.is_err() {
            tracing::warn!(?grace, "workers still busy after the grace period; their deliveries stay pending and run after the restart");
        }
        if let Some(task) = executor_task
            && tokio::time::timeout(grace, task).await.is_err()
        {
            tracing::warn!("the outbox executor is still busy; pending effects resume after the restart");
        }
        store.sync()?;
        info.remove();
        tracing::info!("stopped");
        Ok(())
    })
}

/// Read local schedule repositories again whenever their `HEAD` moves.
async fn sync_local_repos(
    store: Store,
    paths: Vec<PathBuf>,
    ready: Arc<Notify>,
    stop: Arc<AtomicBool>,
) {
    while !stop.load(Ordering::Acquire) {
        tokio::time::sleep(LOCAL_SYNC_EVERY).await;
        for path in &paths {
            let (store, owned) = (store.clone(), path.clone());
            match tokio::task::spawn_blocking(move || worker::sync_local_schedules(&store, &owned))
                .await
            {
                Ok(Ok(report)) if report != andon_store::SyncReport::default() => {
                    ready.notify_one();
                }
                Ok(Ok(_)) => {}
                Ok(Err(error)) => tracing::warn!(
                    path = %path.display(),
                    error = format!("{error:#}"),
                    "cannot read a local repository's schedules"
                ),
                Err(error) => tracing::error!(%error, "the schedule sync task failed"),
            }
        }
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/webhook", post(intake::webhook))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route(
            "/metrics",
            get(metrics::scrape).layer(axum::middleware::from_fn_with_state(
                shared.clone(),
                dashboard::require_access,
            )),
        )
        .nest("/api", api::router(shared.clone()))
        .merge(dashboard::router(shared.clone()))
        .layer(DefaultBodyLimit::max(intake::MAX_BODY))
        .with_state(shared)
}

/// `GET /readyz`: 200 once the store answers and every loop runs; 503
/// with what is not ready otherwise (and while draining).
async fn readyz(State(shared): State<Arc<Shared>>) -> Response {
    let mut missing: Vec<String> = Vec::new();
    if shared.draining() {
        missing.push("shutting down: draining work in flight".into());
    }
    let store = shared.store.clone();
    match tokio::task::spawn_blocking(move || store.schema_version()).await {
        Ok(Ok(_)) => {}
        Ok(Err(error)) => missing.push(format!("the store does not answer: {error}")),
        Err(error) => missing.push(format!("the store check failed: {error}")),
    }
    missing.extend(shared.readiness.missing().into_iter().map(String::from));
    if missing.is_empty() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        let mut text = String::from("not ready:\n");
        for reason in missing {
            text.push_str("- ");
            text.push_str(&reason);
            text.push('\n');
        }
        (StatusCode::SERVICE_UNAVAILABLE, text).into_response()
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

/// The address clients use to reach a server listening on `address`.
pub fn client_address(address: SocketAddr) -> SocketAddr {
    if address.ip().is_unspecified() {
        let ip = if address.is_ipv4() {
            std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)
        } else {
            std::net::IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)
        };
        SocketAddr::new(ip, address.port())
    } else {
        address
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_names_each_loop_that_is_not_running() {
        let readiness = Readiness::default();
        assert_eq!(
            readiness.missing(),
            [
                "the worker dispatcher is not running",
                "the scheduler is not running"
            ]
        );
        readiness.needs_executor.store(true, Ordering::Release);
        readiness.workers.store(true, Ordering::Release);
        readiness.scheduler.store(true, Ordering::Release);
        assert_eq!(readiness.missing(), ["the outbox executor is not running"]);
        readiness.executor.store(true, Ordering::Release);
        assert!(readiness.missing().is_empty());
    }
}
