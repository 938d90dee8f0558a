//! The runs under way: which workflows are running right now, on what,
//! since when and at which step. In memory only, for the dashboard and the
//! `andon_runs_in_progress` gauge: a run is recorded in the store when it
//! ends, and one cut off by a crash is run again from the inbox.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

/// One run under way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveRun {
    pub workflow: String,
    pub repository: String,
    /// The event's kind, as workflows name it.
    pub event: &'static str,
    pub number: Option<u64>,
    pub started_at_ms: u64,
    /// Each step's id and plugin, in order.
    pub steps: Vec<(String, String)>,
    /// The index of the step running or about to.
    pub current: usize,
    /// How long the run has been going, in microseconds: filled in by
    /// [`Activity::snapshot`] from a monotonic clock.
    pub running_for_us: u64,
}

/// The runs under way, shared by every worker and the dashboard.
#[derive(Debug, Default)]
pub struct Activity {
    next: AtomicU64,
    runs: Mutex<BTreeMap<u64, (Instant, ActiveRun)>>,
}

/// A run's place in [`Activity`]; it leaves when this is dropped, however
/// the run ends (a panicking plugin host included).
#[derive(Debug)]
pub struct Tracked<'a> {
    activity: &'a Activity,
    key: u64,
}

impl Activity {
    fn runs(&self) -> MutexGuard<'_, BTreeMap<u64, (Instant, ActiveRun)>> {
        // The map stays consistent whatever panicked while holding it.
        self.runs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Note `run` as under way until the answer is dropped.
    pub fn start(&self, run: ActiveRun) -> Tracked<'_> {
        let key = self.next.fetch_add(1, Ordering::Relaxed);
        self.runs().insert(key, (Instant::now(), run));
        Tracked {
            activity: self,
            key,
        }
    }

    /// The runs under way, the oldest first, with how long each has been
    /// going.
    pub fn snapshot(&self) -> Vec<ActiveRun> {
        self.runs()
            .values()
            .map(|(started, run)| ActiveRun {
                running_for_us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
                ..run.clone()
            })
            .collect()
    }

    /// How many runs are under way.
    pub fn count(&self) -> usize {
        self.runs().len()
    }
}

impl Tracked<'_> {
    /// The run moved on to step `index`.
    pub fn step(&self, index: usize) {
        if let Some((_, run)) = self.activity.runs().get_mut(&self.key) {
            run.current = index;
        }
    }
}

impl Drop for Tracked<'_> {
    fn drop(&mut self) {
        self.activity.runs().remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(workflow: &str) -> ActiveRun {
        ActiveRun {
            workflow: workflow.into(),
            repository: "acme/widgets".into(),
            event: "pull_request",
            number: Some(7),
            started_at_ms: 1,
            steps: vec![("a".into(), "size".into()), ("b".into(), "lgtm".into())],
            current: 0,
            running_for_us: 0,
        }
    }

    #[test]
    fn runs_are_listed_while_tracked_and_follow_their_step() {
        let activity = Activity::default();
        let first = activity.start(run("review"));
        {
            let second = activity.start(run("data"));
            second.step(1);
            let now = activity.snapshot();
            assert_eq!(now.len(), 2);
            assert_eq!(now[0].workflow, "review", "oldest first");
            assert_eq!((now[1].workflow.as_str(), now[1].current), ("data", 1));
        }
        assert_eq!(activity.count(), 1, "a dropped run leaves");
        drop(first);
        assert!(activity.snapshot().is_empty());
    }
}
