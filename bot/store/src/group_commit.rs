//! Group commit: concurrent callers of [`Store::flush`](crate::Store::flush)
//! share disk flushes.
//!
//! A flush (an fsync underneath) costs about as much for one small write as
//! for a hundred, so an intake that flushes once per acknowledged delivery
//! is bound by fsync latency. Instead, a caller that finds no flush running
//! leads one; callers that arrive while it runs cannot rely on it, since it
//! may have started before their write, so they wait for the next flush,
//! which one of them leads on behalf of all of them.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// The flush schedule shared by every clone of a store.
#[derive(Debug, Default)]
pub(crate) struct GroupCommit {
    flushes: Mutex<Flushes>,
    finished: Condvar,
}

#[derive(Debug, Default)]
struct Flushes {
    /// Flushes started so far, numbered from 1; a running flush has the
    /// number `started`.
    started: u64,
    /// The number of the last flush that succeeded. Flushes run one at a
    /// time, so it covers every write made before that flush started.
    completed: u64,
    /// Whether a leader is flushing right now.
    flushing: bool,
}

impl GroupCommit {
    /// Return once a call of `flush` that started after this call began has
    /// succeeded, calling it here or sharing another caller's. A failed
    /// flush is reported to its leader; the callers waiting on it try again
    /// with a flush of their own.
    pub(crate) fn sync<E>(&self, flush: impl FnOnce() -> Result<(), E>) -> Result<(), E> {
        let mut flushes = self.lock();
        // Every flush numbered from `need` on starts after this point, so
        // after the caller's writes.
        let need = flushes.started + 1;
        loop {
            if flushes.completed >= need {
                return Ok(());
            }
            if !flushes.flushing {
                break;
            }
            flushes = self
                .finished
                .wait(flushes)
                .unwrap_or_else(PoisonError::into_inner);
        }
        flushes.flushing = true;
        flushes.started += 1;
        let number = flushes.started;
        drop(flushes);

        let mut leading = Leading {
            commit: self,
            succeeded: None,
        };
        let result = flush();
        if result.is_ok() {
            leading.succeeded = Some(number);
        }
        drop(leading);
        result
    }

    /// How many flushes were started, for tests and metrics.
    pub(crate) fn flush_count(&self) -> u64 {
        self.lock().started
    }

    /// The counters stay consistent even if a thread panicked while holding
    /// the lock (no code here panics between two updates), so a poisoned
    /// lock is used as it is.
    fn lock(&self) -> MutexGuard<'_, Flushes> {
        self.flushes.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Hands leadership back when the leader's flush ends, also if the flush
/// panicked, so that waiting callers never hang on a flush that is gone.
struct Leading<'a> {
    commit: &'a GroupCommit,
    succeeded: Option<u64>,
}

impl Drop for Leading<'_> {
    fn drop(&mut self) {
        let mut flushes = self.commit.lock();
        flushes.flushing = false;
        if let Some(number) = self.succeeded {
            flushes.completed = number;
        }
        drop(flushes);
        self.commit.finished.notify_all();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Barrier, mpsc};
    use std::thread;
    use std::time::Duration;

    use super::GroupCommit;

    #[test]
    fn a_lone_caller_flushes_every_time() {
        let commit = GroupCommit::default();
        let calls = AtomicU64::new(0);
        for _ in 0..3 {
            commit
                .sync(|| {
                    calls.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, ()>(())
                })
                .unwrap();
        }
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert_eq!(commit.flush_count(), 3);
    }

    /// Callers that arrive during a flush are all served by one more flush,
    /// and none of them returns before that flush is done.
    #[test]
    fn callers_arriving_during_a_flush_share_the_next_one() {
        let commit = Arc::new(GroupCommit::default());
        let (started_tx, started) = mpsc::channel();
        let (release, release_rx) = mpsc::channel::<()>();
        let leader = {
            let commit = Arc::clone(&commit);
            thread::spawn(move || {
                commit.sync(|| {
                    started_tx.send(()).unwrap();
                    release_rx.recv().unwrap();
                    Ok::<_, ()>(())
                })
            })
        };
        started.recv().unwrap();

        let second_flushes = Arc::new(AtomicU64::new(0));
        let followers: Vec<_> = (0..8)
            .map(|_| {
                let commit = Arc::clone(&commit);
                let second_flushes = Arc::clone(&second_flushes);
                thread::spawn(move || {
                    commit
                        .sync(|| {
                            second_flushes.fetch_add(1, Ordering::SeqCst);
                            thread::sleep(Duration::from_millis(20));
                            Ok::<_, ()>(())
                        })
                        .unwrap();
                    // The flush that covers this caller has finished.
                    assert_eq!(second_flushes.load(Ordering::SeqCst), 1);
                })
            })
            .collect();
        // Generous time for every follower to queue behind the first flush.
        thread::sleep(Duration::from_millis(300));
        assert_eq!(second_flushes.load(Ordering::SeqCst), 0);
        release.send(()).unwrap();

        leader.join().unwrap().unwrap();
        for follower in followers {
            follower.join().unwrap();
        }
        assert_eq!(second_flushes.load(Ordering::SeqCst), 1);
        assert_eq!(commit.flush_count(), 2);
    }

    /// The property that makes acknowledging safe: when `sync` returns, a
    /// flush that saw the caller's write has completed.
    #[test]
    fn every_write_is_flushed_before_its_sync_returns() {
        let commit = Arc::new(GroupCommit::default());
        let written = Arc::new(AtomicU64::new(0));
        let durable = Arc::new(AtomicU64::new(0));
        let threads = 16;
        let rounds = 20;
        let barrier = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (commit, written, durable, barrier) = (
                    Arc::clone(&commit),
                    Arc::clone(&written),
                    Arc::clone(&durable),
                    Arc::clone(&barrier),
                );
                thread::spawn(move || {
                    barrier.wait();
                    for _ in 0..rounds {
                        let mine = written.fetch_add(1, Ordering::SeqCst) + 1;
                        commit
                            .sync(|| {
                                // A flush makes durable what was written
                                // when it started.
                                let seen = written.load(Ordering::SeqCst);
                                thread::sleep(Duration::from_millis(1));
                                durable.fetch_max(seen, Ordering::SeqCst);
                                Ok::<_, ()>(())
                            })
                            .unwrap();
                        assert!(durable.load(Ordering::SeqCst) >= mine);
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
        let total = (threads * rounds) as u64;
        assert_eq!(durable.load(Ordering::SeqCst), total);
        assert!(commit.flush_count() < total, "{}", commit.flush_count());
    }

    #[test]
    fn a_failed_flush_is_reported_and_the_next_caller_flushes_again() {
        let commit = GroupCommit::default();
        assert_eq!(commit.sync(|| Err("disk full")), Err("disk full"));
        let mut flushed = false;
        commit
            .sync(|| {
                flushed = true;
                Ok::<_, &str>(())
            })
            .unwrap();
        assert!(flushed);
        assert_eq!(commit.flush_count(), 2);
    }
}
