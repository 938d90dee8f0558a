//! Group commit for the intake: one thread writes and flushes batches.
//!
//! Each request hands its delivery to the committer thread and awaits the
//! answer. The thread takes every delivery queued so far, writes them to
//! sled one after another (no lock contention between threads), flushes
//! once, and only then answers each request: one fsync acknowledges the
//! whole batch. Waiting requests are async tasks, not parked threads; on
//! two cores, thread hand-offs cost more than the writes themselves.

use std::sync::mpsc;

use andon_store::{Accepted, InboxStore, NewDelivery, Store, StoreError};
use tokio::sync::oneshot;

/// The most deliveries written under one flush.
const MAX_BATCH: usize = 1024;

struct Job {
    delivery: NewDelivery,
    reply: oneshot::Sender<Result<Accepted, StoreError>>,
}

/// The handle requests use; the thread stops when it is dropped.
pub struct Committer {
    jobs: mpsc::Sender<Job>,
}

impl Committer {
    /// Start the committer thread for `store`.
    pub fn start(store: Store) -> std::io::Result<Committer> {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("andon-commit".into())
            .spawn(move || commit_batches(&store, &queue))?;
        Ok(Committer { jobs })
    }

    /// Store `delivery` and return once it is on disk.
    pub async fn accept(&self, delivery: NewDelivery) -> Result<Accepted, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { delivery, reply })
            .map_err(|_| StoreError::Io("the committer thread has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Io("the committer thread has stopped".into()))?
    }
}

fn commit_batches(store: &Store, queue: &mpsc::Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let results: Vec<Result<Accepted, StoreError>> = batch
            .iter()
            .map(|job| store.accept(&job.delivery))
            .collect();
        // Duplicates wait for the flush too: their first copy may be in
        // this very batch.
        let flushed = store.flush();
        for (job, result) in batch.into_iter().zip(results) {
            let result = match (&flushed, result) {
                (Err(error), Ok(_)) => Err(StoreError::Io(format!("cannot flush: {error}"))),
                (_, result) => result,
            };
            let _ = job.reply.send(result);
        }
    }
}
