//! Workers: deliveries in, runs and their outbox out.
//!
//! The dispatcher takes pending deliveries from the inbox in arrival order
//! and hands each to a worker, at most `workers` at once. Deliveries about
//! the same pull request (or the same pushed branch) share an ordering key
//! and are handled one after another, in order; different keys run in
//! parallel. A worker fetches the repository into a mirror, loads the
//! workflows from the default branch, runs the plugins and commits the runs,
//! their kv writes, their effects and the delivery's new state in one store
//! transaction: a crash before that commit leaves the delivery pending, to
//! be processed again from scratch; after it, never again.
//!
//! The dispatcher also takes the scheduler's ticks ([`TickJob`]s), ahead of
//! deliveries. A tick runs its workflow on the default branch's head (or a
//! local repository's `HEAD`) within its deadline, and records the run in
//! the same transaction that moves its schedule on.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use andon_core::change::Change;

use andon_core::command::{Command, CommandLine};
use andon_core::diagnostic::Severity;
use andon_core::effect::{Effect, PlannedEffect};
use andon_core::event::{Event, EventKind, OpenPullRequest};
use andon_core::limits::Limits;
use andon_core::plan::{self, PlannedRun};
use andon_core::render;
use andon_core::run::{RunRecord, Status};
use andon_core::schedule::{self, Origin, ScheduleRecord, TickJob, TickResult};
use andon_core::webhook::{self, Incoming, Parsed};
use andon_core::workflow::{self, Workflow};
use andon_core::{Annotation, AnnotationLevel, Conclusion};
use andon_git::{Mirrors, Repo};
use andon_github::{GitHub, PullRequestInfo, RepoPermission};
use andon_host::PluginHost;
use andon_store::{
    DeliveryRecord, DeliveryState, InboxStore, KvStore, NewDelivery, OutboxStore, RunQuery,
    RunStore, ScheduleStore, Store, StoreError, SyncReport,
};
use anyhow::{Context as _, anyhow, bail};
use secrecy::ExposeSecret;
use tokio::runtime::Handle;
use tokio::sync::{Notify, Semaphore, mpsc};
use tokio::task::JoinSet;
use tracing::{Instrument, Span, field};

use super::{Metrics, Shared, now_ms};

mod registry;
use crate::inputs::{Pulls, RunInputs};
use crate::pipeline::{KvWrites, Pipeline, RunBudget};
use crate::plugins::{self, PluginFiles};

/// After this many failed attempts a delivery is marked failed.
const MAX_ATTEMPTS: u32 = 5;
/// How many pending deliveries the dispatcher looks at at once, to find
/// ones whose pull request is not busy.
const WINDOW: usize = 64;
/// Commands acted on per comment.
const MAX_COMMANDS: usize = 10;
/// The kv namespace andon itself uses (trust granted by `/andon ok-to-test`).
const ANDON_NAMESPACE: &str = "andon";
/// The inbox event of a finished scheduled run, for the workflows that
/// watch andon's runs (`on: workflow_run`); its body is an [`Incoming`].
const WORKFLOW_RUN_DELIVERY: &str = "andon_workflow_run";

/// What every worker needs.
pub struct Context {
    pub store: Store,
    pub host: Arc<PluginHost>,
    pub github: Option<Arc<GitHub>>,
    pub mirrors: Mirrors,
    pub git_base_url: Option<String>,
    /// Fetch every repository from here (`andon replay --repo`).
    pub clone_url: Option<String>,
    /// Woken when effects are queued early, so the executor starts on
    /// them while the plugins run.
    pub outbox_ready: Option<Arc<Notify>>,
    /// The bot's own login: events it caused are ignored.
    pub self_login: Option<String>,
    /// Woken when schedules change or a tick finishes, so the scheduler
    /// looks again.
    pub schedules_ready: Option<Arc<Notify>>,
    /// Where recorded runs and their steps are counted.
    pub metrics: Arc<Metrics>,
}

impl Context {
    fn wake_scheduler(&self) {
        if let Some(ready) = &self.schedules_ready {
            ready.notify_one();
        }
    }

    fn wake_executor(&self) {
        if let Some(ready) = &self.outbox_ready {
            ready.notify_one();
        }
    }
}

/// How processing a delivery ended.
#[derive(Debug)]
pub enum Outcome {
    /// Committed: the runs made (possibly none) and the effects queued.
    Done {
        runs: Vec<RunRecord>,
        effects: Vec<PlannedEffect>,
    },
    /// Nothing to do, and why.
    Ignored(String),
    /// Worth trying again later (a fetch or API call failed).
    Retry(anyhow::Error),
    /// Will never succeed (a malformed payload).
    Failed(String),
}

/// The loop that hands the scheduler's ticks and pending deliveries to
/// workers, ticks first: they are due now.
pub async fn dispatch(
    shared: Arc<Shared>,
    context: Arc<Context>,
    workers: usize,
    mut ticks: mpsc::UnboundedReceiver<TickJob>,
) {
    let permits = Arc::new(Semaphore::new(workers));
    let busy: Arc<Mutex<HashSet<String>>> = Arc::default();
    let mut keys: HashMap<u64, String> = HashMap::new();
    let mut not_before: HashMap<u64, Instant> = HashMap::new();
    let mut waiting: VecDeque<TickJob> = VecDeque::new();
    let mut tasks = JoinSet::new();
    loop {
        if shared.draining() {
            break;
        }
        while let Ok(job) = ticks.try_recv() {
            waiting.push_back(job);
        }
        while !waiting.is_empty() {
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                break;
            };
            let Some(job) = waiting.pop_front() else {
                break;
            };
            let shared = shared.clone();
            let context = context.clone();
            tasks.spawn(async move {
                let handle = Handle::current();
                let worker_context = context.clone();
                let span = tracing::info_span!(
                    "tick",
                    schedule = %job.id,
                    tick = job.tick_ms,
                    attempt = job.attempt,
                );
                let ran = tokio::task::spawn_blocking(move || {
                    span.in_scope(|| run_tick(&worker_context, &handle, &job));
                })
                .await;
                if let Err(error) = ran {
                    tracing::error!(%error, "a scheduled run panicked; its tick runs again after a restart");
                }
                drop(permit);
                context.wake_scheduler();
                shared.wake_workers();
                // Not a delivery: nothing to retry here.
                (0, None)
            });
        }
        // With every worker busy there is nothing to hand out: do not read
        // the inbox on every new delivery (under a flood that would cost
        // more than the intake itself).
        if permits.available_permits() == 0 {
            if let Some(joined) = tasks.join_next().await
                && let Ok((seq, Some(delay))) = joined
            {
                not_before.insert(seq, Instant::now() + delay);
            }
            continue;
        }
        let store = shared.store.clone();
        let window = WINDOW.max(workers * 8);
        let pending =
            match tokio::task::spawn_blocking(move || store.pending_deliveries(window)).await {
                Ok(Ok(pending)) => pending,
                Ok(Err(error)) => {
                    tracing::error!(%error, "cannot read the inbox");
                    Vec::new()
                }
                Err(error) => {
                    tracing::error!(%error, "the inbox task failed");
                    Vec::new()
                }
            };
        let pending_seqs: HashSet<u64> = pending.iter().map(|d| d.seq).collect();
        keys.retain(|seq, _| pending_seqs.contains(seq));
        not_before.retain(|seq, _| pending_seqs.contains(seq));
        let mut blocked: HashSet<String> = busy.lock().map(|b| b.clone()).unwrap_or_default();
        let now = Instant::now();
        for delivery in pending {
            let key = keys
                .entry(delivery.seq)
                .or_insert_with(|| ordering_key(&shared.store, &delivery))
                .clone();
            // The first pending delivery of a key blocks the later ones.
            if !blocked.insert(key.clone()) {
                continue;
            }
            if not_before.get(&delivery.seq).is_some_and(|t| *t > now) {
                continue;
            }
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                break;
            };
            if let Ok(mut busy) = busy.lock() {
                busy.insert(key.clone());
            }
            let shared = shared.clone();
            let context = context.clone();
            let busy = busy.clone();
            tasks.spawn(async move {
                let seq = delivery.seq;
                let attempts = delivery.attempts;
                let handle = Handle::current();
                let worker_context = context.clone();
                let span = delivery_span(&delivery);
                let blocking_span = span.clone();
                let outcome = tokio::task::spawn_blocking(move || {
                    blocking_span.in_scope(|| process(&worker_context, &handle, &delivery))
                })
                .await
                .unwrap_or_else(|error| Outcome::Retry(anyhow!("the worker panicked: {error}")));
                let retry = settle(&shared, &context, seq, attempts, outcome)
                    .instrument(span)
                    .await;
                if let Ok(mut busy) = busy.lock() {
                    busy.remove(&key);
                }
                drop(permit);
                shared.wake_workers();
                (seq, retry)
            });
        }
        tokio::select! {
            () = shared.work.notified() => {}
            () = tokio::time::sleep(Duration::from_millis(500)) => {}
            Some(job) = ticks.recv() => waiting.push_back(job),
            Some(joined) = tasks.join_next(), if !tasks.is_empty() => {
                if let Ok((seq, Some(delay))) = joined {
                    not_before.insert(seq, Instant::now() + delay);
                }
            }
        }
    }
    while tasks.join_next().await.is_some() {}
}

/// The span of processing one delivery; the repository and pull request
/// are recorded once the payload is parsed.
fn delivery_span(delivery: &DeliveryRecord) -> Span {
    tracing::info_span!(
        "delivery",
        delivery = %delivery.id,
        seq = delivery.seq,
        event = %delivery.event,
        repository = field::Empty,
        pr = field::Empty,
    )
}

/// Record how processing ended; returns a delay when it should be retried.
async fn settle(
    shared: &Arc<Shared>,
    context: &Arc<Context>,
    seq: u64,
    attempts: u32,
    outcome: Outcome,
) -> Option<Duration> {
    let store = context.store.clone();
    let result = match outcome {
        Outcome::Done { runs, effects } => {
            tracing::info!(
                seq,
                runs = runs.len(),
                effects = effects.len(),
                "delivery processed"
            );
            shared.wake_executor();
            return None;
        }
        Outcome::Ignored(reason) => {
            tracing::info!(seq, %reason, "delivery ignored");
            tokio::task::spawn_blocking(move || {
                store.finish_delivery(seq, DeliveryState::Ignored { reason })
            })
            .await
        }
        Outcome::Failed(error) => {
            tracing::warn!(seq, %error, "delivery failed");
            tokio::task::spawn_blocking(move || {
                store.finish_delivery(seq, DeliveryState::Failed { error })
            })
            .await
        }
        Outcome::Retry(error) => {
            let message = format!("{error:#}");
            if attempts + 1 >= MAX_ATTEMPTS {
                tracing::warn!(seq, error = %message, "delivery failed after {MAX_ATTEMPTS} attempts");
                tokio::task::spawn_blocking(move || {
                    store.finish_delivery(
                        seq,
                        DeliveryState::Failed {
                            error: format!("gave up after {MAX_ATTEMPTS} attempts: {message}"),
                        },
                    )
                })
                .await
            } else {
                tracing::warn!(seq, error = %message, attempt = attempts + 1, "delivery will be retried");
                let stored = tokio::task::spawn_blocking(move || {
                    store.retry_delivery(seq, &message).map(|_| ())
                })
                .await;
                if let Ok(Err(error)) = stored {
                    tracing::error!(seq, %error, "cannot record the retry");
                }
                return Some(Duration::from_secs(1 << attempts.min(6)));
            }
        }
    };
    match result {
        Ok(Ok(())) | Ok(Err(StoreError::AlreadyProcessed { .. })) => None,
        Ok(Err(error)) => {
            tracing::error!(seq, %error, "cannot record the delivery's state");
            Some(Duration::from_secs(1))
        }
        Err(error) => {
            tracing::error!(seq, %error, "the store task failed");
            Some(Duration::from_secs(1))
        }
    }
}

/// Deliveries with the same key are processed in order: one pull request,
/// one pushed branch, or else one repository.
fn ordering_key(store: &Store, delivery: &DeliveryRecord) -> String {
    #[derive(serde::Deserialize)]
    struct Probe {
        repository: Option<Named>,
        pull_request: Option<Numbered>,
        issue: Option<Numbered>,
        #[serde(rename = "ref")]
        reference: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct Named {
        full_name: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct Numbered {
        number: Option<u64>,
    }
    let probe = store
        .delivery_body(delivery.seq)
        .ok()
        .flatten()
        .and_then(|body| serde_json::from_slice::<Probe>(&body).ok());
    let Some(probe) = probe else {
        return format!("#delivery{}", delivery.seq);
    };
    let repository = probe
        .repository
        .and_then(|r| r.full_name)
        .unwrap_or_default();
    let number = probe
        .pull_request
        .and_then(|p| p.number)
        .or_else(|| probe.issue.and_then(|i| i.number));
    match (number, probe.reference) {
        (Some(n), _) => format!("{repository}#{n}"),
        (None, Some(reference)) => format!("{repository}@{reference}"),
        (None, None) => repository,
    }
}

/// Process one delivery from start to commit. Blocking: call it from a
/// blocking thread; `handle` runs the GitHub calls.
pub fn process(context: &Context, handle: &Handle, delivery: &DeliveryRecord) -> Outcome {
    let body = match context.store.delivery_body(delivery.seq) {
        Ok(Some(body)) => body,
        Ok(None) => return Outcome::Failed("the delivery's payload is missing".into()),
        Err(error) => return Outcome::Retry(error.into()),
    };
    let parsed = if delivery.event == WORKFLOW_RUN_DELIVERY {
        match serde_json::from_slice::<Incoming>(&body) {
            Ok(incoming) => Parsed::Route(incoming),
            Err(error) => return Outcome::Failed(format!("cannot read the follow-up: {error}")),
        }
    } else {
        match webhook::parse(&delivery.event, &body, context.self_login.as_deref()) {
            Ok(parsed) => parsed,
            Err(error) => return Outcome::Failed(format!("cannot read the payload: {error}")),
        }
    };
    let mut incoming = match parsed {
        Parsed::Ping { .. } => return Outcome::Ignored("ping".into()),
        Parsed::Ignore { reason } => return Outcome::Ignored(reason),
        Parsed::Route(incoming) => incoming,
    };
    incoming
        .event
        .default_branch
        .clone_from(&incoming.default_branch);
    let span = Span::current();
    span.record("repository", incoming.event.repository.as_str());
    if let Some(number) = incoming.event.number {
        span.record("pr", number);
    }
    let mut job = Job {
        context,
        handle,
        seq: delivery.seq,
        prefix: format!("d{}", delivery.seq),
        incoming,
        runs: Vec::new(),
        run_spans: Vec::new(),
        kv_writes: Vec::new(),
        effects: Vec::new(),
        pull: None,
        loaded: None,
    };
    let handled = job.handle();
    if handled.is_ok()
        && let Err(error) = job.sync_schedules()
    {
        tracing::warn!(
            repository = job.repository(),
            error = format!("{error:#}"),
            "cannot read the repository's schedules; the next delivery tries again"
        );
    }
    match handled {
        Ok(Some(reason)) if job.runs.is_empty() && job.effects.is_empty() => {
            Outcome::Ignored(reason)
        }
        Ok(_) => job.commit(),
        Err(error) if error.downcast_ref::<Permanent>().is_some() => {
            Outcome::Failed(format!("{error:#}"))
        }
        Err(error) => Outcome::Retry(error),
    }
}

/// An error that trying again will not fix.
#[derive(Debug)]
struct Permanent(String);

impl std::fmt::Display for Permanent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Permanent {}

/// One delivery being processed.
struct Job<'a> {
    context: &'a Context,
    handle: &'a Handle,
    seq: u64,
    /// The prefix of every idempotency key this delivery makes: the same on
    /// every attempt, so effects queued before a crash are not queued twice.
    prefix: String,
    incoming: Incoming,
    runs: Vec<RunRecord>,
    /// The span of each run, to note its id once committed.
    run_spans: Vec<Span>,
    kv_writes: KvWrites,
    /// Effects committed with the runs; `Some(i)` ties one to `runs[i]`.
    effects: Vec<(Option<usize>, PlannedEffect)>,
    /// The pull request as the API described it, once asked.
    pull: Option<PullRequestInfo>,
    /// The workflows of the default branch, once loaded (commands may need
    /// them several times).
    loaded: Option<Arc<Loaded>>,
}

/// The workflows on the default branch, the mirror they came from, and the
/// commit they were read at.
struct Loaded {
    workflows: Vec<Workflow>,
    repo: Arc<Repo>,
    rev: String,
}

/// Which workflows a delivery runs.
enum Selection<'w> {
    /// Whatever the triggers select for the event.
    Triggered,
    /// These workflows, whatever their triggers (`/andon run NAME`).
    Named(&'w str),
    /// Only the steps that did not succeed last time (`/andon rerun`).
    Rerun(HashMap<String, HashSet<String>>),
}

impl Job<'_> {
    fn repository(&self) -> &str {
        &self.incoming.event.repository
    }

    fn planned(&self, key: impl std::fmt::Display, effect: Effect) -> PlannedEffect {
        PlannedEffect {
            key: format!("{}/{key}", self.prefix),
            repository: self.repository().to_string(),
            installation: self.incoming.installation,
            effect,
        }
    }

    /// Queue effects that should go out before the plugins run (check runs
    /// in progress, reactions), durably, and wake the executor.
    fn send_early(&self, effects: &[PlannedEffect]) -> anyhow::Result<()> {
        if effects.is_empty() {
            return Ok(());
        }
        self.context
            .store
            .enqueue_effects(Some(self.seq), effects, now_ms())?;
        if let Some(ready) = &self.context.outbox_ready {
            ready.notify_one();
        }
        Ok(())
    }

    fn commit(mut self) -> Outcome {
        let effects = std::mem::take(&mut self.effects);
        // Workflows that watch andon's own runs (`on: workflow_run`) run
        // for each finished run of a push, as a delivery of its own queued
        // with the run.
        let default_branch = self.incoming.default_branch.as_deref().unwrap_or("main");
        let follow_up = |run: &RunRecord| {
            follow_up(
                run,
                self.incoming.installation,
                &self.incoming.clone_url,
                default_branch,
            )
        };
        match self.context.store.commit_delivery_with(
            self.seq,
            &mut self.runs,
            &self.kv_writes,
            &effects,
            now_ms(),
            &follow_up,
        ) {
            Ok(_) => {
                for (run, span) in self.runs.iter().zip(&self.run_spans) {
                    span.record("run_id", run.id);
                    span.in_scope(|| {
                        tracing::info!(status = run.status.as_str(), "run recorded");
                    });
                    self.context.metrics.run_recorded(run);
                }
                Outcome::Done {
                    runs: self.runs,
                    effects: effects.into_iter().map(|(_, e)| e).collect(),
                }
            }
            Err(StoreError::AlreadyProcessed { .. }) => {
                Outcome::Ignored("already processed".into())
            }
            Err(error) => Outcome::Retry(error.into()),
        }
    }

    /// Do what the event asks. `Ok(Some(reason))` when nothing applied.
    fn handle(&mut self) -> anyhow::Result<Option<String>> {
        match self.incoming.event.kind {
            EventKind::PullRequest => {
                if self.incoming.fork && !self.trusted()? {
                    let number = self.incoming.event.number.unwrap_or(0);
                    let author = self.incoming.event.author.clone().unwrap_or_default();
                    let reply = self.planned(
                        "ok-to-test",
                        Effect::Reply {
                            number,
                            marker: format!("ok-to-test/{number}"),
                            body: format!(
                                "Thanks for the pull request, @{author}! It comes from a fork, so andon waits for a maintainer: one of them can say `/andon ok-to-test` to run this repository's workflows on it."
                            ),
                        },
                    );
                    self.effects.push((None, reply));
                    return Ok(Some("fork pull request from an untrusted author".into()));
                }
                let event = self.incoming.event.clone();
                self.run_workflows(&event, &Selection::Triggered)
            }
            EventKind::Push => {
                let event = self.incoming.event.clone();
                self.run_workflows(&event, &Selection::Triggered)
            }
            EventKind::Comment => {
                let commands = self.commands()?;
                match self.incoming.review_state.clone() {
                    // A review runs the workflows that watch reviews, with
                    // or without commands in its body.
                    Some(state) => {
                        let reviewed = self.review(state)?;
                        Ok(commands.and(reviewed))
                    }
                    None => Ok(commands),
                }
            }
            // A scheduled run finished (queued by `run_checkout`).
            EventKind::WorkflowRun => {
                let event = self.incoming.event.clone();
                self.run_workflows(&event, &Selection::Triggered)
            }
            EventKind::Manual | EventKind::Schedule | EventKind::Review => Ok(Some(format!(
                "{} events do not come from webhooks",
                self.incoming.event.kind
            ))),
        }
    }

    fn github(&self) -> Option<&GitHub> {
        self.context.github.as_deref()
    }

    /// Whether a fork pull request's author may have workflows run: a
    /// collaborator with write access, or trusted by `/andon ok-to-test`.
    fn trusted(&self) -> anyhow::Result<bool> {
        let number = self.incoming.event.number.unwrap_or(0);
        let author = self.incoming.event.author.clone().unwrap_or_default();
        let key = trust_key(self.repository(), number);
        if let Some(value) = self.context.store.kv_get(ANDON_NAMESPACE, &key)?
            && String::from_utf8_lossy(&value)
                .split(',')
                .any(|who| who.eq_ignore_ascii_case(&author))
        {
            return Ok(true);
        }
        Ok(self.permission_of(&author)? >= RepoPermission::Write)
    }

    /// The repository permission of `user`, asked of GitHub (never taken
    /// from the payload's author association). Without GitHub (`andon
    /// replay`), the local operator is trusted.
    fn permission_of(&self, user: &str) -> anyhow::Result<RepoPermission> {
        let Some(github) = self.github() else {
            return Ok(RepoPermission::Admin);
        };
        Ok(self.handle.block_on(github.permission(
            self.incoming.installation,
            self.repository(),
            user,
        ))?)
    }

    /// Fill in what a comment's payload lacks: the pull request's head,
    /// base, branch and labels.
    fn complete_pull_request(&mut self) -> anyhow::Result<()> {
        if !self.incoming.event.head.is_empty() && self.incoming.event.base.is_some() {
            return Ok(());
        }
        let Some(number) = self.incoming.event.number else {
            bail!("the comment names no pull request");
        };
        let Some(github) = self.github() else {
            bail!("looking up pull request #{number} needs GitHub credentials");
        };
        let info = self.handle.block_on(github.pull_request(
            self.incoming.installation,
            self.repository(),
            number,
        ))?;
        let event = &mut self.incoming.event;
        event.head.clone_from(&info.head_sha);
        event.base = Some(info.base_sha.clone());
        event.branch = Some(info.base_ref.clone());
        event.labels.clone_from(&info.labels);
        event.title = Some(info.title.clone());
        event.pull_request_author = Some(info.author.clone());
        self.incoming.fork = info.fork;
        self.pull = Some(info);
        Ok(())
    }

    /// A submitted review: the workflows with an `on: review` trigger for
    /// its state.
    fn review(&mut self, state: String) -> anyhow::Result<Option<String>> {
        let mut event = self.incoming.event.clone();
        event.kind = EventKind::Review;
        event.action = Some("submitted".into());
        event.review_state = Some(state);
        event.command = None;
        event.args = Vec::new();
        self.run_workflows(&event, &Selection::Triggered)
    }

    /// Commands in a comment or review body, each answered.
    fn commands(&mut self) -> anyhow::Result<Option<String>> {
        let commands = std::mem::take(&mut self.incoming.commands);
        if commands.is_empty() {
            return Ok(Some("no command in the comment".into()));
        }
        let mut handled = 0;
        // A comment can hold thousands of lines; act on the first few.
        for line in commands.iter().take(MAX_COMMANDS) {
            if self.command(line)? {
                handled += 1;
            }
        }
        Ok((handled == 0).then(|| "no command for andon in the comment".into()))
    }

    fn react(&mut self, line: &CommandLine, content: &str) -> anyhow::Result<()> {
        if let Some(comment_id) = self.incoming.comment_id {
            let reaction = self.planned(
                format!("cmd{}/reaction", line.line),
                Effect::Reaction {
                    comment_id,
                    content: content.to_string(),
                },
            );
            self.send_early(std::slice::from_ref(&reaction))?;
        }
        Ok(())
    }

    fn reply(&mut self, line: &CommandLine, body: String) {
        let number = self.incoming.event.number.unwrap_or(0);
        let reply = self.planned(
            format!("cmd{}/reply", line.line),
            Effect::Reply {
                number,
                marker: format!("{}/cmd{}", self.prefix, line.line),
                body,
            },
        );
        self.effects.push((None, reply));
    }

    /// Check that the comment's author has `needed`; reply and react when
    /// not.
    fn allowed(&mut self, line: &CommandLine, needed: RepoPermission) -> anyhow::Result<bool> {
        let user = self.incoming.sender.clone();
        let has = self.permission_of(&user)?;
        // Plugins get it on the event: no second API call for it.
        if self.incoming.event.author.as_deref() == Some(user.as_str()) {
            self.incoming.event.author_permission = Some(has.as_str().to_string());
        }
        if has >= needed {
            return Ok(true);
        }
        self.react(line, "confused")?;
        self.reply(
            line,
            render::refused_command(
                &line.text,
                needed.as_str(),
                self.repository(),
                &user,
                has.as_str(),
            ),
        );
        Ok(false)
    }

    /// Handle one command line; `false` when it was not for andon.
    fn command(&mut self, line: &CommandLine) -> anyhow::Result<bool> {
        match &line.command {
            Command::Help => {
                // Knowing the head lets a warm mirror answer without a fetch.
                self.complete_pull_request()?;
                self.react(line, "eyes")?;
                let help = self.help_text()?;
                self.reply(line, help);
            }
            Command::Unknown { text, suggestion } => {
                // `/andon NAME ARGS` is `/NAME ARGS` when a workflow declares
                // NAME: workflow commands live under andon's name too.
                let mut words = text.split_whitespace().skip(1);
                if let Some(name) = words.next()
                    && self.declared_commands()?.iter().any(|(c, _)| c == name)
                {
                    let custom = CommandLine {
                        line: line.line,
                        text: line.text.clone(),
                        command: Command::Custom {
                            name: name.to_string(),
                            args: words.map(str::to_string).collect(),
                        },
                    };
                    return self.command(&custom);
                }
                self.react(line, "confused")?;
                self.reply(line, render::unknown_command(text, suggestion.as_deref()));
            }
            Command::OkToTest => {
                if !self.allowed(line, RepoPermission::Write)? {
                    return Ok(true);
                }
                self.complete_pull_request()?;
                self.react(line, "+1")?;
                let number = self.incoming.event.number.unwrap_or(0);
                let author = self.pull_request_author()?;
                let key = trust_key(self.repository(), number);
                let mut trusted: Vec<String> = self
                    .context
                    .store
                    .kv_get(ANDON_NAMESPACE, &key)?
                    .map(|v| {
                        String::from_utf8_lossy(&v)
                            .split(',')
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default();
                if !trusted.contains(&author) {
                    trusted.push(author.clone());
                }
                self.kv_writes
                    .push((ANDON_NAMESPACE.into(), key, trusted.join(",").into_bytes()));
                self.reply(line, render::ok_to_test(&self.incoming.sender));
                let mut event = self.incoming.event.clone();
                event.kind = EventKind::PullRequest;
                event.action = Some("opened".into());
                event.author = Some(author);
                self.run_workflows(&event, &Selection::Triggered)?;
            }
            Command::Run { workflow } => {
                if !self.allowed(line, RepoPermission::Write)? {
                    return Ok(true);
                }
                self.complete_pull_request()?;
                let mut event = self.incoming.event.clone();
                event.command = Some("run".into());
                event.args = vec![workflow.clone()];
                let ran = self.run_workflows(&event, &Selection::Named(workflow))?;
                if ran.is_some() {
                    self.react(line, "confused")?;
                    let names = self.workflow_names()?;
                    let names: Vec<&str> = names.iter().map(String::as_str).collect();
                    self.reply(line, render::workflow_not_found(workflow, &names));
                } else {
                    self.react(line, "rocket")?;
                }
            }
            Command::Rerun => {
                if !self.allowed(line, RepoPermission::Write)? {
                    return Ok(true);
                }
                self.complete_pull_request()?;
                let failed = self.failed_steps()?;
                if failed.is_empty() {
                    self.react(line, "confused")?;
                    self.reply(
                        line,
                        "Nothing to rerun: the latest run of every workflow on this pull request passed.".into(),
                    );
                } else {
                    self.react(line, "rocket")?;
                    let mut event = self.incoming.event.clone();
                    event.command = Some("rerun".into());
                    self.run_workflows(&event, &Selection::Rerun(failed))?;
                }
            }
            Command::Promote {
                model,
                version,
                stage,
            } => self.promote(line, model, version, stage)?,
            Command::Custom { name, args } => {
                self.complete_pull_request()?;
                let declared = self.declared_commands()?;
                let Some((_, permission)) = declared.iter().find(|(c, _)| c == name) else {
                    let known: Vec<&str> = declared.iter().map(|(c, _)| c.as_str()).collect();
                    if let Some(best) = andon_core::command::resolve_custom(name, &known) {
                        self.react(line, "confused")?;
                        self.reply(
                            line,
                            render::unknown_command(&line.text, Some(&format!("/{best}"))),
                        );
                        return Ok(true);
                    }
                    // Not for andon: another bot's command, or prose.
                    return Ok(false);
                };
                let needed = RepoPermission::parse(permission).unwrap_or(RepoPermission::Write);
                if !self.allowed(line, needed)? {
                    return Ok(true);
                }
                self.react(line, "rocket")?;
                let mut event = self.incoming.event.clone();
                event.command = Some(name.clone());
                event.args = args.clone();
                self.run_workflows(&event, &Selection::Triggered)?;
            }
        }
        Ok(true)
    }

    /// The commands the default branch's workflows declare, with the
    /// permission each needs (the strictest when several declare one).
    fn declared_commands(&mut self) -> anyhow::Result<Vec<(String, String)>> {
        let mut declared: Vec<(String, String)> = Vec::new();
        for trigger in self
            .workflows()?
            .workflows
            .iter()
            .filter_map(|w| w.on.comment.as_ref())
        {
            for command in &trigger.commands {
                let level = |p: &str| RepoPermission::parse(p).unwrap_or(RepoPermission::Write);
                match declared.iter_mut().find(|(c, _)| c == command) {
                    Some((_, needed)) if level(&trigger.permission) > level(needed) => {
                        needed.clone_from(&trigger.permission);
                    }
                    Some(_) => {}
                    None => declared.push((command.clone(), trigger.permission.clone())),
                }
            }
        }
        Ok(declared)
    }

    /// Who opened the pull request (a comment's author is someone else).
    fn pull_request_author(&self) -> anyhow::Result<String> {
        if let Some(info) = &self.pull {
            return Ok(info.author.clone());
        }
        if let (Some(github), Some(number)) = (self.github(), self.incoming.event.number) {
            let info = self.handle.block_on(github.pull_request(
                self.incoming.installation,
                self.repository(),
                number,
            ))?;
            return Ok(info.author);
        }
        Ok(self.incoming.event.author.clone().unwrap_or_default())
    }

    /// The latest run of each workflow on this pull request that did not
    /// succeed, and the steps in it that did not.
    fn failed_steps(&self) -> anyhow::Result<HashMap<String, HashSet<String>>> {
        let number = self.incoming.event.number;
        let query = RunQuery {
            limit: 1000,
            repository: Some(self.repository().to_string()),
            ..RunQuery::default()
        };
        let mut seen = HashSet::new();
        let mut failed = HashMap::new();
        for summary in self.context.store.runs(&query)? {
            if summary.number != number || !seen.insert(summary.workflow.clone()) {
                continue;
            }
            if matches!(summary.status, Status::Success | Status::Skipped) {
                continue;
            }
            let Some(run) = self.context.store.run(summary.id)? else {
                continue;
            };
            let steps: HashSet<String> = run
                .steps
                .iter()
                .filter(|s| s.status != Status::Success)
                .map(|s| s.id.clone())
                .collect();
            failed.insert(run.workflow, steps);
        }
        Ok(failed)
    }

    fn help_text(&mut self) -> anyhow::Result<String> {
        let loaded = self.workflows()?;
        let refs: Vec<&Workflow> = loaded.workflows.iter().collect();
        let files = PluginFiles::Commit {
            repo: &loaded.repo,
            rev: &loaded.rev,
        };
        Ok(render::help(
            &refs,
            &plugins::manifests_for(&self.context.host, &refs, &files),
        ))
    }

    fn workflow_names(&mut self) -> anyhow::Result<Vec<String>> {
        Ok(self
            .workflows()?
            .workflows
            .iter()
            .map(|w| w.name.clone())
            .collect())
    }

    /// The mirror, synced so that the event's commits are there.
    fn mirror(&self) -> anyhow::Result<Repo> {
        let repository = self.repository();
        let url = match (&self.context.clone_url, &self.context.git_base_url) {
            (Some(url), _) => url.clone(),
            (None, Some(base)) => format!("{}/{repository}.git", base.trim_end_matches('/')),
            (None, None) => self
                .incoming
                .clone_url
                .clone()
                .with_context(|| format!("the payload has no clone URL for {repository}"))?,
        };
        let event = &self.incoming.event;
        let mut want: Vec<&str> = Vec::new();
        if !event.head.is_empty() {
            want.push(&event.head);
        }
        if let Some(base) = &event.base {
            want.push(base);
        }
        // Private repositories need the installation's token over https.
        let auth = match self.github() {
            Some(github) if url.starts_with("https://") => Some(andon_git::Auth::new(
                self.handle
                    .block_on(github.git_token(self.incoming.installation))?
                    .expose_secret(),
            )),
            _ => None,
        };
        self.context
            .mirrors
            .sync(repository, &url, &want, auth.as_ref())
            .map_err(|error| {
                if error.is_transient() {
                    anyhow::Error::new(error)
                } else {
                    Permanent(error.to_string()).into()
                }
            })
    }

    /// The workflows on the default branch, loaded once per delivery.
    fn workflows(&mut self) -> anyhow::Result<Arc<Loaded>> {
        if let Some(loaded) = &self.loaded {
            return Ok(loaded.clone());
        }
        let loaded = Arc::new(self.load_workflows()?);
        self.loaded = Some(loaded.clone());
        Ok(loaded)
    }

    fn load_workflows(&self) -> anyhow::Result<Loaded> {
        let repo = self.mirror()?;
        let branch = self
            .incoming
            .default_branch
            .clone()
            .unwrap_or_else(|| "main".into());
        let rev = repo
            .resolve(&format!("refs/heads/{branch}"))
            .with_context(|| format!("the default branch `{branch}` is not in the mirror"))?;
        let workflows = workflows_at(&repo, &rev, self.repository())?;
        Ok(Loaded {
            workflows,
            repo: Arc::new(repo),
            rev,
        })
    }

    /// Read the schedules of the repository again when the default branch
    /// may have changed them: on a push to it, and on the first delivery
    /// of a repository that loaded its workflows (as Prow re-reads its
    /// config on a push). A delivery that needed no workflows does not
    /// fetch for this: a later one will.
    fn sync_schedules(&mut self) -> anyhow::Result<()> {
        let repository = self.repository().to_string();
        let default_branch = self
            .incoming
            .default_branch
            .clone()
            .unwrap_or_else(|| "main".into());
        let event = &self.incoming.event;
        let pushed = event.kind == EventKind::Push
            && event.branch.as_deref() == Some(default_branch.as_str());
        if !pushed
            && (self.loaded.is_none()
                || self
                    .context
                    .store
                    .schedule_repository(&repository)?
                    .is_some())
        {
            return Ok(());
        }
        let loaded = self.workflows()?;
        let origin = Origin::GitHub {
            installation: self.incoming.installation,
            clone_url: self.incoming.clone_url.clone(),
            default_branch,
        };
        let entries = schedule::entries(&repository, &origin, &loaded.workflows);
        let report =
            self.context
                .store
                .sync_schedules(&repository, &loaded.rev, &entries, now_ms())?;
        log_sync(&repository, &report);
        if report != SyncReport::default() {
            self.context.wake_scheduler();
        }
        Ok(())
    }

    /// Plan and run the workflows `selection` picks for `event`. Returns
    /// `Some(reason)` when none ran.
    fn run_workflows(
        &mut self,
        event: &Event,
        selection: &Selection<'_>,
    ) -> anyhow::Result<Option<String>> {
        let mut event = event.clone();
        // Plugins may rely on the author's permission for comments and
        // reviews: it is asked of GitHub, never read from the payload.
        if matches!(event.kind, EventKind::Comment | EventKind::Review)
            && event.author_permission.is_none()
            && let Some(author) = event.author.clone()
        {
            event.author_permission = Some(self.permission_of(&author)?.as_str().to_string());
        }
        let event = &event;
        let loaded = self.workflows()?;
        let (workflows, repo, default_rev) = (&loaded.workflows, &loaded.repo, &loaded.rev);
        let base = match &event.base {
            Some(base) => Some(base.clone()),
            None => repo.first_parent(&event.head)?,
        };
        let change = Arc::new(repo.diff(base.as_deref(), &event.head)?);
        let paths: Vec<&str> = change.paths().collect();
        if event.kind == EventKind::PullRequest || event.command.is_some() {
            self.validate_changed_workflows(repo, event, &paths)?;
        }
        let runs: Vec<PlannedRun<'_>> = match selection {
            Selection::Triggered => {
                let plan = plan::plan(event, &paths, workflows, &Limits::DEFAULT, &Limits::MAX);
                for skipped in &plan.skipped {
                    tracing::debug!(
                        workflow = skipped.workflow,
                        reason = skipped.reason,
                        "skipped"
                    );
                }
                plan.runs
            }
            Selection::Named(name) => workflows
                .iter()
                .filter(|w| w.name == *name)
                .map(|w| plan::every_step(w, &Limits::DEFAULT, &Limits::MAX))
                .collect(),
            Selection::Rerun(failed) => workflows
                .iter()
                .filter_map(|w| {
                    let steps = failed.get(&w.name)?;
                    let mut planned = plan::every_step(w, &Limits::DEFAULT, &Limits::MAX);
                    planned.steps.retain(|s| steps.contains(&s.step.id));
                    (!planned.steps.is_empty()).then_some(planned)
                })
                .collect(),
        };
        if runs.is_empty() {
            return Ok(Some("no workflow applies".into()));
        }
        let offset = self.runs.len();
        let starts: Vec<PlannedEffect> = runs
            .iter()
            .enumerate()
            .map(|(i, planned)| {
                render::check_run_start(
                    &self.prefix,
                    self.repository(),
                    self.incoming.installation,
                    &planned.workflow.name,
                    &event.head,
                    offset + i,
                )
            })
            .collect();
        self.send_early(&starts)?;
        let inputs = Arc::new(RunInputs {
            repo: repo.clone(),
            base,
            head: event.head.clone(),
            change,
            store: self.context.store.clone(),
            now_micros: crate::inputs::now_micros(),
            pulls: self.pull_lister(),
        });
        let pipeline = Pipeline {
            host: self.context.host.clone(),
            store: self.context.store.clone(),
            activity: Some(self.context.metrics.activity.clone()),
        };
        let files = PluginFiles::Commit {
            repo,
            rev: default_rev,
        };
        for (i, planned) in runs.iter().enumerate() {
            let span = run_span(&planned.workflow.name, event);
            let (run, kv_writes) = span.in_scope(|| {
                pipeline.execute(planned, event, &inputs, &files, &RunBudget::UNLIMITED)
            })?;
            self.run_spans.push(span);
            let index = offset + i;
            for effect in render::effects_for_run(
                &self.prefix,
                self.repository(),
                self.incoming.installation,
                &run,
                index,
            ) {
                self.effects.push((Some(index), effect));
            }
            self.registry_effects(repo, &run, index)?;
            self.kv_writes.extend(kv_writes);
            self.runs.push(run);
        }
        Ok(None)
    }

    /// Lists the repository's open pull requests for plugins that ask
    /// (`host.open-pull-requests`), through the GitHub API.
    fn pull_lister(&self) -> Pulls {
        let Some(github) = self.context.github.clone() else {
            return Pulls::none();
        };
        let handle = self.handle.clone();
        let installation = self.incoming.installation;
        let repository = self.repository().to_string();
        Pulls::from(Box::new(move || {
            let pulls = handle
                .block_on(github.open_pull_requests(installation, &repository))
                .map_err(|error| format!("cannot list the open pull requests: {error}"))?;
            Ok(pulls
                .into_iter()
                .map(|pull| OpenPullRequest {
                    number: pull.number,
                    title: pull.title,
                    author: pull.author,
                    labels: pull.labels,
                    head: pull.head_sha,
                    base_branch: pull.base_ref,
                    draft: pull.draft,
                })
                .collect())
        }))
    }

    /// A workflow file changed in a pull request is not run (it could do
    /// anything with the bot's permissions); it is validated and reported
    /// on its own check run.
    fn validate_changed_workflows(
        &mut self,
        repo: &Repo,
        event: &Event,
        paths: &[&str],
    ) -> anyhow::Result<()> {
        let changed: Vec<&str> = paths
            .iter()
            .copied()
            .filter(|p| {
                p.starts_with(workflow::DEFAULT_DIR)
                    && (p.ends_with(".yml") || p.ends_with(".yaml"))
            })
            .collect();
        if changed.is_empty() {
            return Ok(());
        }
        let mut annotations = Vec::new();
        let mut errors = 0;
        for path in &changed {
            let Some(bytes) = repo.read_file(&event.head, path)? else {
                continue; // deleted
            };
            let parsed = workflow::parse(path, &String::from_utf8_lossy(&bytes));
            for d in parsed.diagnostics {
                if d.severity == Severity::Error {
                    errors += 1;
                }
                let line = u32::try_from(d.line.max(1)).unwrap_or(1);
                annotations.push(Annotation {
                    path: (*path).to_string(),
                    start_line: line,
                    end_line: line,
                    level: if d.severity == Severity::Error {
                        AnnotationLevel::Failure
                    } else {
                        AnnotationLevel::Warning
                    },
                    title: None,
                    message: match &d.hint {
                        Some(hint) => format!("{}\nhint: {hint}", d.message),
                        None => d.message.clone(),
                    },
                });
            }
        }
        let branch = self
            .incoming
            .default_branch
            .clone()
            .unwrap_or_else(|| "main".into());
        let (conclusion, title) = if errors == 0 {
            (
                Conclusion::Success,
                format!("{} workflow file(s) valid", changed.len()),
            )
        } else {
            (
                Conclusion::Failure,
                format!("{errors} error(s) in workflow files"),
            )
        };
        let summary = format!(
            "Workflow files changed in this pull request are checked here but not run: andon runs the workflows on `{branch}`, so the changes take effect once merged.\n\n{}",
            changed
                .iter()
                .map(|p| format!("- `{p}`"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        let check = self.planned(
            "workflow-files",
            Effect::CheckRunFinish {
                name: "andon / workflow files".into(),
                head_sha: event.head.clone(),
                external_id: format!("{}/workflow-files", self.prefix),
                conclusion,
                title,
                summary,
                text: None,
                annotations,
            },
        );
        self.effects.push((None, check));
        Ok(())
    }
}

/// The valid workflows in `.andon/workflows/` at `rev`; the broken ones are
/// logged and left out (they are reported where they change, in pull
/// requests).
pub fn workflows_at(repo: &Repo, rev: &str, repository: &str) -> anyhow::Result<Vec<Workflow>> {
    let mut workflows = Vec::new();
    for name in repo.list_dir(rev, workflow::DEFAULT_DIR)? {
        if !(name.ends_with(".yml") || name.ends_with(".yaml")) {
            continue;
        }
        let path = format!("{}/{name}", workflow::DEFAULT_DIR);
        let Some(bytes) = repo.read_file(rev, &path)? else {
            continue;
        };
        let parsed = workflow::parse(&path, &String::from_utf8_lossy(&bytes));
        let errors = parsed
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        match parsed.workflow {
            Some(wf) if errors == 0 => workflows.push(wf),
            _ => tracing::warn!(
                repository,
                path,
                errors,
                "a workflow on the default branch has errors and is not run"
            ),
        }
    }
    Ok(workflows)
}

fn log_sync(repository: &str, report: &SyncReport) {
    if *report == SyncReport::default() {
        return;
    }
    tracing::info!(
        repository,
        added = report.added,
        changed = report.changed,
        unchanged = report.unchanged,
        removed = report.removed,
        "schedules read from the workflows"
    );
}

/// Read the schedules of the local repository at `path` from its `HEAD`,
/// unless they were read at that commit already (`andon serve
/// --schedule-repo`).
pub fn sync_local_schedules(store: &Store, path: &Path) -> anyhow::Result<SyncReport> {
    let path = std::fs::canonicalize(path)
        .with_context(|| format!("cannot find the repository {}", path.display()))?;
    let repository = path.display().to_string();
    let repo = Repo::open(&path)?;
    let rev = repo.resolve("HEAD")?;
    if store
        .schedule_repository(&repository)?
        .is_some_and(|synced| synced.rev == rev)
    {
        return Ok(SyncReport::default());
    }
    let workflows = workflows_at(&repo, &rev, &repository)?;
    let origin = Origin::Local {
        path: repository.clone(),
    };
    let entries = schedule::entries(&repository, &origin, &workflows);
    let report = store.sync_schedules(&repository, &rev, &entries, now_ms())?;
    log_sync(&repository, &report);
    Ok(report)
}

/// Why a tick could not start its run.
struct NoRun {
    error: String,
    /// Whether trying again may help (a fetch that failed).
    retry: bool,
}

impl NoRun {
    fn transient(error: &anyhow::Error) -> NoRun {
        NoRun {
            error: format!("{error:#}"),
            retry: true,
        }
    }

    fn permanent(error: String) -> NoRun {
        NoRun {
            error,
            retry: false,
        }
    }
}

/// What a tick runs: the workflow at the commit it runs on.
struct Checkout {
    repo: Arc<Repo>,
    rev: String,
    branch: Option<String>,
    workflow: Workflow,
}

/// Run one scheduled tick to the end: check out, run, record with its
/// schedule's new state, report. Blocking.
pub fn run_tick(context: &Context, handle: &Handle, job: &TickJob) {
    let store = &context.store;
    let record = match store.schedule(&job.id) {
        Ok(Some(record)) => record,
        Ok(None) => {
            tracing::info!(
                schedule = job.id,
                "the schedule was removed; its tick is dropped"
            );
            return;
        }
        Err(error) => {
            tracing::error!(schedule = job.id, %error, "cannot read the schedule; the tick runs after a restart");
            return;
        }
    };
    let still_running = record
        .state
        .pending
        .iter()
        .any(|p| p.tick_ms == job.tick_ms && p.attempt == job.attempt && p.running);
    if !still_running {
        tracing::debug!(
            schedule = job.id,
            tick = job.tick_ms,
            "the tick is not running any more"
        );
        return;
    }
    let result = match checkout(context, handle, &record) {
        Ok(checkout) => run_checkout(context, &record, job, &checkout),
        Err(no_run) => Err(no_run),
    };
    let now = now_ms();
    let outcome = match result {
        Ok(()) => return,
        Err(no_run) => {
            tracing::warn!(
                schedule = job.id,
                tick = job.tick_ms,
                attempt = job.attempt,
                error = no_run.error,
                "a scheduled run could not start"
            );
            let failed = TickResult::Failed {
                error: no_run.error,
                retry: no_run.retry,
            };
            store.update_schedules(std::slice::from_ref(&job.id), |record| {
                record.finish(job.tick_ms, job.attempt, &failed, now)
            })
        }
    };
    if let Err(error) = outcome {
        tracing::error!(schedule = job.id, %error, "cannot record the tick's failure; it runs again after a restart");
    }
}

/// The commit a tick runs on and its workflow there.
fn checkout(
    context: &Context,
    handle: &Handle,
    record: &ScheduleRecord,
) -> Result<Checkout, NoRun> {
    let entry = &record.entry;
    let (repo, rev, branch) = match &entry.origin {
        Origin::GitHub {
            installation,
            clone_url,
            default_branch,
        } => {
            let url = match (&context.clone_url, &context.git_base_url, clone_url) {
                (Some(url), _, _) => url.clone(),
                (None, Some(base), _) => {
                    format!("{}/{}.git", base.trim_end_matches('/'), entry.repository)
                }
                (None, None, Some(url)) => url.clone(),
                (None, None, None) => {
                    return Err(NoRun::permanent(format!(
                        "no clone URL is known for {}",
                        entry.repository
                    )));
                }
            };
            let auth = match context.github.as_deref() {
                Some(github) if url.starts_with("https://") => {
                    let token = handle
                        .block_on(github.git_token(*installation))
                        .map_err(|e| NoRun::transient(&e.into()))?;
                    Some(andon_git::Auth::new(token.expose_secret()))
                }
                _ => None,
            };
            // An empty want fetches: the branch may have moved since the
            // last delivery.
            let repo = context
                .mirrors
                .sync(&entry.repository, &url, &[], auth.as_ref())
                .map_err(|e| NoRun::transient(&e.into()))?;
            let rev = repo
                .resolve(&format!("refs/heads/{default_branch}"))
                .map_err(|e| NoRun::transient(&e.into()))?;
            (repo, rev, Some(default_branch.clone()))
        }
        Origin::Local { path } => {
            let repo = Repo::open(Path::new(path)).map_err(|e| NoRun::transient(&e.into()))?;
            let rev = repo
                .resolve("HEAD")
                .map_err(|e| NoRun::transient(&e.into()))?;
            (repo, rev, None)
        }
    };
    let short: String = rev.chars().take(10).collect();
    let bytes = repo
        .read_file(&rev, &entry.file)
        .map_err(|e| NoRun::transient(&e.into()))?
        .ok_or_else(|| {
            NoRun::permanent(format!("{} is not there at {short} any more", entry.file))
        })?;
    let parsed = workflow::parse(&entry.file, &String::from_utf8_lossy(&bytes));
    let workflow = parsed
        .workflow
        .filter(|_| {
            !parsed
                .diagnostics
                .iter()
                .any(|d| d.severity == Severity::Error)
        })
        .ok_or_else(|| {
            NoRun::permanent(format!(
                "{} has errors at {short}; `andon validate` lists them",
                entry.file
            ))
        })?;
    if workflow.on.schedule.get(entry.index).is_none() {
        return Err(NoRun::permanent(format!(
            "{} has no schedule #{} at {short} any more",
            entry.file, entry.index
        )));
    }
    Ok(Checkout {
        repo: Arc::new(repo),
        rev,
        branch,
        workflow,
    })
}

/// Run the checked-out workflow for the tick and record it.
fn run_checkout(
    context: &Context,
    record: &ScheduleRecord,
    job: &TickJob,
    checkout: &Checkout,
) -> Result<(), NoRun> {
    let store = &context.store;
    let entry = &record.entry;
    let trigger = &checkout.workflow.on.schedule[entry.index];
    let mut event = Event::new(EventKind::Schedule, &entry.repository, &checkout.rev);
    event.branch.clone_from(&checkout.branch);
    let planned = plan::every_step(&checkout.workflow, &Limits::DEFAULT, &Limits::MAX);
    let tick = schedule::format_instant(job.tick_ms, &entry.timezone);
    let prefix = schedule::effect_key_prefix(&entry.id, job.tick_ms, job.attempt);
    // A local repository has no GitHub to report to.
    let report = match entry.origin {
        Origin::GitHub { .. } => checkout.workflow.report.clone().unwrap_or_default(),
        Origin::Local { .. } => schedule::Report::default(),
    };
    let installation = match &entry.origin {
        Origin::GitHub { installation, .. } => *installation,
        Origin::Local { .. } => None,
    };
    let scheduled = render::ScheduledRun {
        key_prefix: &prefix,
        repository: &entry.repository,
        installation,
        tick: &tick,
        attempt: job.attempt,
        branch: checkout.branch.as_deref(),
        report: &report,
    };
    if let Some(start) =
        render::scheduled_run_start(&scheduled, &checkout.workflow.name, &checkout.rev)
    {
        match store.enqueue_effects(None, &[start], now_ms()) {
            Ok(_) => context.wake_executor(),
            Err(error) => tracing::warn!(%error, "cannot queue the pending commit status"),
        }
    }
    let inputs = Arc::new(RunInputs {
        repo: checkout.repo.clone(),
        base: None,
        head: checkout.rev.clone(),
        change: Arc::new(Change::default()),
        store: store.clone(),
        now_micros: i64::try_from(job.tick_ms.saturating_mul(1000)).unwrap_or(i64::MAX),
        pulls: Pulls::none(),
    });
    let pipeline = Pipeline {
        host: context.host.clone(),
        store: store.clone(),
        activity: Some(context.metrics.activity.clone()),
    };
    let files = PluginFiles::Commit {
        repo: &checkout.repo,
        rev: &checkout.rev,
    };
    let deadline = trigger.policy.deadline_ms.map(Duration::from_millis);
    let cancelled = || {
        store
            .schedule(&job.id)
            .ok()
            .flatten()
            .is_some_and(|r| r.cancelled(job.tick_ms, job.attempt))
    };
    let budget = RunBudget {
        deadline,
        cancelled: &cancelled,
    };
    let span = run_span(&checkout.workflow.name, &event);
    let _entered = span.enter();
    let (mut run, kv_writes) = pipeline
        .execute(&planned, &event, &inputs, &files, &budget)
        .map_err(|e| NoRun::transient(&e))?;
    let effects = render::effects_for_scheduled_run(&scheduled, &run);
    let status = run.status;
    let now = now_ms();
    let recorded = store
        .record_scheduled_run(
            &job.id,
            &mut run,
            &kv_writes,
            &effects,
            now,
            |record, run_id| {
                let result = TickResult::Ran {
                    run: run_id,
                    status,
                };
                record
                    .finish(job.tick_ms, job.attempt, &result, now)
                    .map(|_| ())
            },
            |run| match &entry.origin {
                Origin::GitHub {
                    installation,
                    clone_url,
                    default_branch,
                } => follow_up(run, *installation, clone_url, default_branch),
                Origin::Local { .. } => None,
            },
        )
        .map_err(|e| NoRun::transient(&e.into()))?;
    match recorded {
        Some(id) => {
            span.record("run_id", id);
            context.metrics.run_recorded(&run);
            tracing::info!(
                schedule = job.id,
                tick,
                attempt = job.attempt,
                run = id,
                status = status.as_str(),
                "scheduled run recorded"
            );
            if !effects.is_empty() {
                context.wake_executor();
            }
        }
        None => tracing::info!(
            schedule = job.id,
            tick,
            "the tick was finished elsewhere; this run is not recorded"
        ),
    }
    Ok(())
}

/// The span of one run; its id is recorded once the run is committed.
fn run_span(workflow: &str, event: &Event) -> Span {
    let span = tracing::info_span!(
        "run",
        workflow,
        repository = %event.repository,
        pr = field::Empty,
        run_id = field::Empty,
    );
    if let Some(number) = event.number {
        span.record("pr", number);
    }
    span
}

/// The delivery that queues a finished run of a push or a schedule for the
/// workflows watching andon's runs, if it is such a run. The store queues
/// it in the transaction that records the run, so the run and its
/// follow-up are kept or lost together; the workers pick it up when the job
/// that queued it wakes them as it ends.
fn follow_up(
    run: &RunRecord,
    installation: Option<u64>,
    clone_url: &Option<String>,
    default_branch: &str,
) -> Option<NewDelivery> {
    let event = render::workflow_run_event(run, Some(default_branch))?;
    let incoming = Incoming {
        event,
        installation,
        clone_url: clone_url.clone(),
        default_branch: Some(default_branch.to_string()),
        sender: "andon".into(),
        comment_id: None,
        commands: Vec::new(),
        fork: false,
        review_state: None,
    };
    match serde_json::to_vec(&incoming) {
        Ok(body) => Some(NewDelivery {
            id: format!("andon-run-{}", run.id),
            event: WORKFLOW_RUN_DELIVERY.into(),
            received_at_ms: now_ms(),
            body,
        }),
        Err(error) => {
            tracing::warn!(run = run.id, %error, "cannot queue the finished run for `workflow_run` workflows");
            None
        }
    }
}

fn trust_key(repository: &str, number: u64) -> String {
    format!("trust/{repository}#{number}")
}
