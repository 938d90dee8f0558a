//! The scheduler: one task that sleeps until the earliest wake time in the
//! store, claims the ticks that came due and hands them to the workers.
//!
//! A pass claims every due schedule in one store transaction (each record
//! gets its newest decided tick, its next fire time and its pending ticks,
//! under its `missed` and `overlap` policies) and makes it durable before
//! sending anything: a tick is "claimed" on disk before it runs. The
//! workers record a tick's run in the same transaction that clears it from
//! its schedule, so after a crash [`Scheduler::recover`] runs again exactly
//! the ticks whose run was not recorded, under the `missed` policy.
//!
//! The module depends on the core, the store and tokio only, so that the
//! scheduler benchmark can drive this very loop with a channel as the job
//! sink.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use andon_core::schedule::TickJob;
use andon_store::{ScheduleStore, Store, StoreError};
use tokio::sync::{Notify, mpsc};

/// The longest the scheduler sleeps without looking at the store, in case
/// the wall clock jumped.
const MAX_SLEEP: Duration = Duration::from_secs(60);
/// Schedules claimed in one transaction at most; more due ones wait for
/// the next pass, which follows at once.
const BATCH: usize = 4_096;
/// After a failed pass (the store refused), wait this long.
const RETRY_AFTER_ERROR: Duration = Duration::from_secs(1);

/// Where the scheduler reads the time: the system clock, or a test's.
pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    /// Ticks sent to the workers.
    pub dispatched: usize,
    /// Ticks dropped by the `missed` or `overlap` policies.
    pub skipped: u64,
    /// Running ticks asked to stop (`overlap: cancel`).
    pub cancelled: usize,
    /// When the next schedule is due, if any is.
    pub next_wake_ms: Option<u64>,
}

/// The scheduler's handles: the store, the clock, and where ticks go.
pub struct Scheduler {
    store: Store,
    clock: Arc<dyn Clock>,
    jobs: mpsc::UnboundedSender<TickJob>,
    /// Notified when schedules change (a sync, a finished tick) or on
    /// shutdown.
    wake: Arc<Notify>,
    stop: Arc<AtomicBool>,
}

impl Scheduler {
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        jobs: mpsc::UnboundedSender<TickJob>,
        wake: Arc<Notify>,
        stop: Arc<AtomicBool>,
    ) -> Scheduler {
        Scheduler {
            store,
            clock,
            jobs,
            wake,
            stop,
        }
    }

    /// Once at start: ticks that were running when the last process stopped
    /// did not finish, so they run again with those missed meanwhile,
    /// under each schedule's `missed` policy. Blocking.
    pub fn recover(&self) -> Result<Pass, StoreError> {
        let ids: Vec<String> = self
            .store
            .schedules()?
            .into_iter()
            .map(|record| record.entry.id)
            .collect();
        let now = self.clock.now_ms();
        let claims = self.store.update_schedules(&ids, |record| record.recover(now))?;
        let mut pass = self.send(claims.into_iter().map(|(_, claim)| claim));
        pass.next_wake_ms = self.store.due_schedules(now, 0)?.1;
        Ok(pass)
    }

    /// Claim everything due now and send it to the workers. Blocking: one
    /// transaction and one flush for the whole batch.
    pub fn pass(&self) -> Result<Pass, StoreError> {
        let now = self.clock.now_ms();
        let (due, later) = self.store.due_schedules(now, BATCH)?;
        if due.is_empty() {
            return Ok(Pass {
                next_wake_ms: later,
                ..Pass::default()
            });
        }
        let claims = self.store.update_schedules(&due, |record| record.claim(now))?;
        let mut pass = self.send(claims.into_iter().map(|(_, claim)| claim));
        // The claims moved the wake times: read the earliest again.
        pass.next_wake_ms = self.store.due_schedules(now, 0)?.1.or(later);
        if due.len() >= BATCH {
            pass.next_wake_ms = Some(now);
        }
        Ok(pass)
    }

    fn send(&self, claims: impl Iterator<Item = andon_core::schedule::Claim>) -> Pass {
        let mut pass = Pass::default();
        for claim in claims {
            pass.skipped += claim.skipped;
            if let Some(tick) = claim.cancel {
                tracing::info!(tick, "a newer tick replaces a running one");
                pass.cancelled += 1;
            }
            if let Some(job) = claim.dispatch {
                // Without workers (shutting down) the tick stays claimed and
                // runs again after the restart.
                if self.jobs.send(job).is_ok() {
                    pass.dispatched += 1;
                }
            }
        }
        pass
    }

    /// The loop: recover, then pass after pass, sleeping until the next
    /// wake time or a notification, until stopped.
    pub async fn run(self: Arc<Self>) {
        let scheduler = self.clone();
        match tokio::task::spawn_blocking(move || scheduler.recover()).await {
            Ok(Ok(pass)) if pass.dispatched > 0 || pass.skipped > 0 => tracing::info!(
                dispatched = pass.dispatched,
                skipped = pass.skipped,
                "scheduler recovered unfinished and missed ticks"
            ),
            Ok(Ok(_)) => {}
            Ok(Err(error)) => tracing::error!(%error, "scheduler cannot recover its ticks"),
            Err(error) => tracing::error!(%error, "the scheduler's recovery task failed"),
        }
        while !self.stop.load(Ordering::Acquire) {
            let scheduler = self.clone();
            // Registered before the pass, so a change during it is not
            // missed.
            let notified = self.wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let sleep = match tokio::task::spawn_blocking(move || scheduler.pass()).await {
                Ok(Ok(pass)) => {
                    if pass.dispatched > 0 || pass.skipped > 0 {
                        tracing::debug!(
                            dispatched = pass.dispatched,
                            skipped = pass.skipped,
                            "scheduler pass"
                        );
                    }
                    pass.next_wake_ms.map_or(MAX_SLEEP, |wake| {
                        Duration::from_millis(wake.saturating_sub(self.clock.now_ms()))
                            .min(MAX_SLEEP)
                    })
                }
                Ok(Err(error)) => {
                    tracing::error!(%error, "scheduler pass failed");
                    RETRY_AFTER_ERROR
                }
                Err(error) => {
                    tracing::error!(%error, "the scheduler task failed");
                    RETRY_AFTER_ERROR
                }
            };
            if sleep.is_zero() {
                continue;
            }
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep(sleep) => {}
            }
        }
    }
}
