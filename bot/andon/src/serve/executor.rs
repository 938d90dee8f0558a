//! The outbox executor: carries effects out on GitHub.
//!
//! Effects run in outbox order per target (one pull request, or one commit
//! for check runs): a check run is started before it is finished and a
//! sticky comment's edits land in order; different targets run in
//! parallel. Each effect is idempotent by lookup, so one carried out just
//! before a crash, and carried out again after the restart, is found rather
//! than repeated. Transient failures are retried with exponential backoff
//! that honours `Retry-After` and GitHub's secondary rate limits; a
//! permanent refusal is recorded on the effect (and so on its run) and not
//! retried.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use andon_core::effect::{Effect, EffectOutcome, PlannedEffect};
use andon_github::{GitHub, GitHubError, backoff};
use andon_store::{OutboxItem, OutboxStore};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tracing::Instrument;

use super::{Shared, now_ms};

/// GitHub calls in flight at once.
const CONCURRENCY: usize = 8;
/// A transient failure is retried this many times before the effect is
/// recorded as failed.
const MAX_ATTEMPTS: u32 = 10;

/// The effects of one target are carried out one at a time, in order.
fn target(planned: &PlannedEffect) -> String {
    match &planned.effect {
        Effect::CheckRunStart { head_sha, .. }
        | Effect::CheckRunFinish { head_sha, .. }
        | Effect::CommitStatus { sha: head_sha, .. } => {
            format!("{}@{head_sha}", planned.repository)
        }
        Effect::StickyComment { number, .. }
        | Effect::Reply { number, .. }
        | Effect::Label { number, .. } => format!("{}#{number}", planned.repository),
        Effect::Reaction { comment_id, .. } => {
            format!("{}/comment/{comment_id}", planned.repository)
        }
        // Registry tags in the order they were planned: counters ascend.
        Effect::Tag { .. } => format!("{}/tags", planned.repository),
    }
}

/// The pull request an effect is about, when it names one.
fn pull_number(effect: &Effect) -> Option<u64> {
    match effect {
        Effect::StickyComment { number, .. }
        | Effect::Reply { number, .. }
        | Effect::Label { number, .. } => Some(*number),
        _ => None,
    }
}

/// The span of carrying out one outbox item.
fn span_for(item: &OutboxItem) -> tracing::Span {
    let span = tracing::info_span!(
        "outbox",
        seq = item.seq,
        effect = item.planned.effect.kind(),
        repository = %item.planned.repository,
        pr = tracing::field::Empty,
        run_id = tracing::field::Empty,
    );
    if let Some(number) = pull_number(&item.planned.effect) {
        span.record("pr", number);
    }
    if let Some(run) = item.run {
        span.record("run_id", run);
    }
    span
}

pub async fn run(shared: Arc<Shared>, github: Arc<GitHub>) {
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    let busy: Arc<Mutex<HashSet<String>>> = Arc::default();
    let in_flight: Arc<Mutex<HashSet<u64>>> = Arc::default();
    // Items finished since the outbox was last read: a task that ends
    // after the read leaves its item pending in that (stale) list, and
    // it must not be carried out a second time from it.
    let finished: Arc<Mutex<HashSet<u64>>> = Arc::default();
    let mut tasks = JoinSet::new();
    loop {
        let draining = shared.draining();
        if let Ok(mut finished) = finished.lock() {
            finished.clear();
        }
        let store = shared.store.clone();
        let pending = match tokio::task::spawn_blocking(move || store.outbox_pending(1024)).await {
            Ok(Ok(pending)) => pending,
            Ok(Err(error)) => {
                tracing::error!(%error, "cannot read the outbox");
                Vec::new()
            }
            Err(error) => {
                tracing::error!(%error, "the outbox task failed");
                Vec::new()
            }
        };
        if draining && tasks.is_empty() {
            break;
        }
        let now = now_ms();
        let mut blocked: HashSet<String> = busy.lock().map(|b| b.clone()).unwrap_or_default();
        let mut next_due: Option<u64> = None;
        for item in pending {
            if draining {
                break;
            }
            let key = target(&item.planned);
            if !blocked.insert(key.clone()) {
                continue;
            }
            if in_flight.lock().is_ok_and(|f| f.contains(&item.seq))
                || finished.lock().is_ok_and(|f| f.contains(&item.seq))
            {
                continue;
            }
            if item.not_before_ms > now {
                next_due = Some(next_due.map_or(item.not_before_ms, |d| d.min(item.not_before_ms)));
                continue;
            }
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                break;
            };
            if let Ok(mut busy) = busy.lock() {
                busy.insert(key.clone());
            }
            if let Ok(mut flight) = in_flight.lock() {
                flight.insert(item.seq);
            }
            let shared = shared.clone();
            let github = github.clone();
            let busy = busy.clone();
            let in_flight = in_flight.clone();
            let finished = finished.clone();
            tasks.spawn(async move {
                let seq = item.seq;
                let span = span_for(&item);
                carry_out(&shared, &github, item).instrument(span).await;
                if let Ok(mut busy) = busy.lock() {
                    busy.remove(&key);
                }
                if let Ok(mut done) = finished.lock() {
                    done.insert(seq);
                }
                if let Ok(mut flight) = in_flight.lock() {
                    flight.remove(&seq);
                }
                drop(permit);
                shared.wake_executor();
            });
        }
        let wait = next_due.map_or(Duration::from_secs(1), |due| {
            Duration::from_millis(due.saturating_sub(now_ms()).clamp(10, 1000))
        });
        tokio::select! {
            () = shared.outbox.notified() => {}
            () = tokio::time::sleep(wait) => {}
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    while tasks.join_next().await.is_some() {}
}

async fn carry_out(shared: &Arc<Shared>, github: &GitHub, item: OutboxItem) {
    let seq = item.seq;
    let kind = item.planned.effect.kind();
    let started = std::time::Instant::now();
    let result = github.execute(&item.planned).await;
    let store = shared.store.clone();
    let attempts = item.attempts + 1;
    let stored = match result {
        Ok(outcome) => {
            shared.metrics.effect(
                kind,
                match &outcome {
                    EffectOutcome::Done { .. } => "done",
                    EffectOutcome::Failed { .. } => "failed",
                },
            );
            match &outcome {
                EffectOutcome::Done { detail } => tracing::info!(
                    seq,
                    kind,
                    key = item.planned.key,
                    repository = item.planned.repository,
                    detail,
                    elapsed_ms = started.elapsed().as_millis(),
                    "effect done"
                ),
                EffectOutcome::Failed { error } => tracing::warn!(
                    seq,
                    kind,
                    key = item.planned.key,
                    repository = item.planned.repository,
                    error,
                    "effect refused by GitHub"
                ),
            }
            tokio::task::spawn_blocking(move || store.outbox_finish(seq, &outcome, attempts)).await
        }
        Err(error) if error.is_transient() && attempts < MAX_ATTEMPTS => {
            let retry_after = match &error {
                GitHubError::Transient { retry_after, .. } => *retry_after,
                _ => None,
            };
            shared.metrics.effect(kind, "retry");
            let delay = backoff(attempts, retry_after, seq);
            tracing::warn!(seq, kind, %error, attempt = attempts, ?delay, "effect will be retried");
            let message = error.to_string();
            let not_before = now_ms() + u64::try_from(delay.as_millis()).unwrap_or(u64::MAX / 2);
            tokio::task::spawn_blocking(move || {
                store.outbox_retry(seq, not_before, &message).map(|_| ())
            })
            .await
        }
        Err(error) => {
            shared.metrics.effect(kind, "failed");
            tracing::warn!(seq, kind, %error, attempts, "effect failed for good");
            let outcome = EffectOutcome::Failed {
                error: if error.is_transient() {
                    format!("gave up after {attempts} attempts: {error}")
                } else {
                    error.to_string()
                },
            };
            tokio::task::spawn_blocking(move || store.outbox_finish(seq, &outcome, attempts)).await
        }
    };
    match stored {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::error!(seq, %error, "cannot record the effect's outcome"),
        Err(error) => tracing::error!(seq, %error, "the store task failed"),
    }
}
