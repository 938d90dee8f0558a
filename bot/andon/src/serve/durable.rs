//! Group commit for the intake, without a thread per waiting request.
//!
//! A request writes its delivery to sled, takes a ticket, and awaits the
//! flush that covers it. One flusher thread takes the newest ticket,
//! flushes, and publishes it: every request whose ticket it covered is
//! answered by that one flush. Waiting requests are async tasks, not
//! blocked threads, so a burst of 64 requests costs one fsync and no
//! thread hand-offs (the store's own `sync` parks a thread per caller,
//! which on two cores spent more time switching threads than writing).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use andon_store::Store;
use tokio::sync::watch;

/// Tickets and the flusher that honours them.
pub struct Durability {
    issued: AtomicU64,
    wake: Arc<(Mutex<bool>, Condvar)>,
    flushed: watch::Receiver<u64>,
}

impl Durability {
    /// Start the flusher thread for `store`.
    pub fn start(store: Store) -> std::io::Result<Arc<Durability>> {
        let (sender, flushed) = watch::channel(0u64);
        let durability = Arc::new(Durability {
            issued: AtomicU64::new(0),
            wake: Arc::new((Mutex::new(false), Condvar::new())),
            flushed,
        });
        let shared = durability.clone();
        std::thread::Builder::new()
            .name("andon-flush".into())
            .spawn(move || shared.flusher(&store, &sender))?;
        Ok(durability)
    }

    fn flusher(&self, store: &Store, sender: &watch::Sender<u64>) {
        let mut done = 0u64;
        loop {
            {
                let (lock, signal) = &*self.wake;
                let mut pending = lock
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                while !*pending {
                    pending = signal
                        .wait(pending)
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                }
                *pending = false;
            }
            if sender.is_closed() {
                return;
            }
            // Every ticket up to here was taken after its write.
            let target = self.issued.load(Ordering::SeqCst);
            if target <= done {
                continue;
            }
            match store.flush() {
                Ok(()) => {
                    done = target;
                    sender.send_replace(done);
                }
                Err(error) => {
                    tracing::error!(%error, "cannot flush the store; retrying");
                    std::thread::sleep(Duration::from_millis(50));
                    self.signal();
                }
            }
        }
    }

    fn signal(&self) {
        let (lock, signal) = &*self.wake;
        *lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = true;
        signal.notify_one();
    }

    /// Wait until everything written before this call is on disk; `false`
    /// if that did not happen within `timeout`.
    pub async fn durable(&self, timeout: Duration) -> bool {
        let ticket = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
        self.signal();
        let mut flushed = self.flushed.clone();
        tokio::time::timeout(timeout, flushed.wait_for(|done| *done >= ticket))
            .await
            .is_ok_and(|r| r.is_ok())
    }
}
