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

/// Told how late each tick handed to the workers is (from its due instant
/// to its hand-over), for metrics.
pub type LatenessObserver = Arc<dyn Fn(Duration) + Send + Sync>;

/// The scheduler's handles: the store, the clock, and where ticks go.
pub struct Scheduler {
    store: Store,
    clock: Arc<dyn Clock>,
    jobs: mpsc::UnboundedSender<TickJob>,
    /// Notified when schedules change (a sync, a finished tick) or on
    /// shutdown.
    wake: Arc<Notify>,
    stop: Arc<AtomicBool>,
    lateness: Option<LatenessObserver>,
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
            lateness: None,
        }
    }

    /// Tell `observer` how late each dispatched tick is.
    pub fn observe_lateness(mut self, observer: LatenessObserver) -> Scheduler {
        self.lateness = Some(observer);
        self
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
        let claims = self
            .store
            .update_schedules(&ids, |record| record.recover(now))?;
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
        let claims = self
            .store
            .update_schedules(&due, |record| record.claim(now))?;
        let mut pass = self.send(claims.into_iter().map(|(_, claim)| claim));
        // The claims moved the wake times: read the earliest again.
        pass.next_wake_ms = self.store.due_schedules(now, 0)?.1.or(later);
        if due.len() >= BATCH {
            pass.next_wake_ms = Some(now);
        }
        Ok(pass)
    }

    /// Hand the claimed (and durable) ticks out.
    fn send(&self, claims: impl Iterator<Item = andon_core::schedule::Claim>) -> Pass {
        let mut pass = Pass::default();
        let now = self.clock.now_ms();
        for claim in claims {
            pass.skipped += claim.skipped;
            if let Some(tick) = claim.cancel {
                tracing::info!(tick, "a newer tick replaces a running one");
                pass.cancelled += 1;
            }
            if let Some(job) = claim.dispatch {
                // Without workers (shutting down) the tick stays claimed and
                // runs again after the restart.
                let late = Duration::from_millis(now.saturating_sub(job.tick_ms));
                if self.jobs.send(job).is_ok() {
                    pass.dispatched += 1;
                    if let Some(observer) = &self.lateness {
                        observer(late);
                    }
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU64;

    use andon_core::run::Status;
    use andon_core::schedule::{Origin, Policy, Report, ScheduleEntry, TickResult};

    use super::*;

    /// A clock the test sets.
    #[derive(Default)]
    struct TestClock(AtomicU64);

    impl Clock for TestClock {
        fn now_ms(&self) -> u64 {
            self.0.load(Ordering::SeqCst)
        }
    }

    const T0: u64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

    fn entry(index: usize, cron: &str) -> ScheduleEntry {
        let file = format!(".andon/workflows/w{index}.yml");
        ScheduleEntry {
            id: andon_core::schedule::schedule_id("o/r", &file, 0),
            repository: "o/r".into(),
            workflow: format!("w{index}"),
            file,
            index: 0,
            cron: cron.into(),
            timezone: "UTC".into(),
            with_seconds: true,
            policy: Policy::DEFAULT,
            report: Report::default(),
            origin: Origin::Local { path: "/r".into() },
        }
    }

    fn scheduler(
        store: &Store,
        clock: &Arc<TestClock>,
    ) -> (Scheduler, mpsc::UnboundedReceiver<TickJob>) {
        let (jobs, received) = mpsc::unbounded_channel();
        let scheduler = Scheduler::new(
            store.clone(),
            clock.clone(),
            jobs,
            Arc::new(Notify::new()),
            Arc::new(AtomicBool::new(false)),
        );
        (scheduler, received)
    }

    fn drain(received: &mut mpsc::UnboundedReceiver<TickJob>) -> Vec<TickJob> {
        let mut jobs = Vec::new();
        while let Ok(job) = received.try_recv() {
            jobs.push(job);
        }
        jobs
    }

    #[test]
    fn a_pass_sends_each_due_tick_once_and_says_when_to_wake() {
        let store = Store::open_temporary().expect("store");
        let entries = [entry(0, "*/10 * * * * *"), entry(1, "5 * * * * *")];
        store
            .sync_schedules("o/r", "rev", &entries, T0)
            .expect("synced");
        let clock = Arc::new(TestClock::default());
        let (scheduler, mut received) = scheduler(&store, &clock);
        clock.0.store(T0 + 1_000, Ordering::SeqCst);
        let pass = scheduler.pass().expect("pass");
        assert_eq!(pass.dispatched, 0);
        assert_eq!(pass.next_wake_ms, Some(T0 + 5_000));
        clock.0.store(T0 + 10_000, Ordering::SeqCst);
        let pass = scheduler.pass().expect("pass");
        assert_eq!((pass.dispatched, pass.skipped), (2, 0));
        let mut ticks: Vec<u64> = drain(&mut received).iter().map(|j| j.tick_ms).collect();
        ticks.sort_unstable();
        // The 5 s one was late by 5 s: on time within the grace period.
        assert_eq!(ticks, [T0 + 5_000, T0 + 10_000]);
        // Nothing twice: both run, and the next ticks are later.
        let pass = scheduler.pass().expect("pass");
        assert_eq!(pass.dispatched, 0);
        assert_eq!(pass.next_wake_ms, Some(T0 + 20_000));
        assert!(drain(&mut received).is_empty());
    }

    #[test]
    fn each_dispatched_tick_reports_its_lateness() {
        let store = Store::open_temporary().expect("store");
        store
            .sync_schedules("o/r", "rev", &[entry(0, "*/10 * * * * *")], T0)
            .expect("synced");
        let clock = Arc::new(TestClock::default());
        let (scheduler, mut received) = scheduler(&store, &clock);
        let seen: Arc<std::sync::Mutex<Vec<Duration>>> = Arc::default();
        let observed = seen.clone();
        let scheduler = scheduler.observe_lateness(Arc::new(move |late| {
            observed.lock().expect("not poisoned").push(late);
        }));
        clock.0.store(T0 + 10_250, Ordering::SeqCst);
        assert_eq!(scheduler.pass().expect("pass").dispatched, 1);
        assert_eq!(drain(&mut received).len(), 1);
        assert_eq!(
            *seen.lock().expect("not poisoned"),
            [Duration::from_millis(250)]
        );
    }

    #[test]
    fn a_restart_sends_the_ticks_whose_runs_were_not_recorded() {
        let store = Store::open_temporary().expect("store");
        let entries = [entry(0, "*/10 * * * * *"), entry(1, "*/10 * * * * *")];
        store
            .sync_schedules("o/r", "rev", &entries, T0)
            .expect("synced");
        let clock = Arc::new(TestClock::default());
        clock.0.store(T0 + 10_000, Ordering::SeqCst);
        let (first, mut received) = scheduler(&store, &clock);
        assert_eq!(first.pass().expect("pass").dispatched, 2);
        let jobs = drain(&mut received);
        // One run is recorded before the crash, the other is not.
        let done = &jobs[0];
        let ran = TickResult::Ran {
            run: 1,
            status: Status::Success,
        };
        store
            .update_schedules(std::slice::from_ref(&done.id), |record| {
                record.finish(done.tick_ms, done.attempt, &ran, T0 + 11_000)
            })
            .expect("finished");
        drop(first);
        clock.0.store(T0 + 12_000, Ordering::SeqCst);
        let (second, mut received) = scheduler(&store, &clock);
        let pass = second.recover().expect("recover");
        assert_eq!(pass.dispatched, 1);
        let again = drain(&mut received);
        assert_eq!(again.len(), 1);
        assert_eq!(again[0], jobs[1]);
        assert_eq!(pass.next_wake_ms, Some(T0 + 20_000));
    }
}
