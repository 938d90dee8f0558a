//! The outbox: effects waiting to be carried out on GitHub, and how each
//! ended.
//!
//! Four trees:
//! - `outbox`: one JSON [`OutboxItem`] per effect, keyed by its sequence
//!   number, a big-endian `u64` from the `meta` counter, so key order is
//!   enqueue order;
//! - `outbox_keys`: each effect's idempotency key to its sequence number, so
//!   that enqueueing it again (a delivery processed again after a crash)
//!   adds nothing;
//! - `outbox_pending`: an empty value for each unfinished item, so that the
//!   executor and the depth gauge never scan finished ones;
//! - `outbox_runs`: run id then sequence number (both big-endian), empty
//!   values, for the effects of one run.

use andon_core::effect::{EffectOutcome, PlannedEffect};
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionResult, TransactionalTree, abort};

use crate::codec::{EMPTY, decode, encode, in_tx, key_u64, newest_first};
use crate::error::StoreError;
use crate::meta::{self, Counter};
use crate::store::Store;

pub(crate) const TREE: &str = "outbox";
pub(crate) const KEYS_TREE: &str = "outbox_keys";
pub(crate) const PENDING_TREE: &str = "outbox_pending";
pub(crate) const RUNS_TREE: &str = "outbox_runs";

/// Where an outbox item is in its life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum OutboxState {
    /// Not carried out yet, or to be tried again at `not_before_ms`.
    Pending,
    /// Done; what was done or found.
    Done { detail: String },
    /// Refused for good; not retried.
    Failed { error: String },
}

impl From<&EffectOutcome> for OutboxState {
    fn from(outcome: &EffectOutcome) -> OutboxState {
        match outcome {
            EffectOutcome::Done { detail } => OutboxState::Done {
                detail: detail.clone(),
            },
            EffectOutcome::Failed { error } => OutboxState::Failed {
                error: error.clone(),
            },
        }
    }
}

/// One effect in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxItem {
    pub seq: u64,
    /// The run that produced it, if a run did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<u64>,
    /// The delivery whose processing produced it, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<u64>,
    pub planned: PlannedEffect,
    pub state: OutboxState,
    /// Attempts so far: failed ones while pending, all of them once
    /// finished.
    pub attempts: u32,
    /// Not to be attempted before this time, in milliseconds since the Unix
    /// epoch (backoff after a failed attempt).
    pub not_before_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub created_at_ms: u64,
}

/// Effects to carry out, as the pipeline and the executor need them.
pub trait OutboxStore {
    /// Add `effects` in one transaction, skipping those whose key is in the
    /// outbox already, make them durable, and return how many were added.
    /// They are due at once (`not_before_ms` is `now_ms`).
    fn enqueue_effects(
        &self,
        delivery: Option<u64>,
        effects: &[PlannedEffect],
        now_ms: u64,
    ) -> Result<usize, StoreError>;

    /// Up to `limit` pending items, oldest first, including those not due
    /// yet: the caller compares `not_before_ms` with its clock.
    fn outbox_pending(&self, limit: usize) -> Result<Vec<OutboxItem>, StoreError>;

    /// Record how a pending item ended after `attempts` attempts (this one
    /// included), durably. Fails with [`StoreError::EffectAlreadyFinished`]
    /// if it is not pending.
    fn outbox_finish(
        &self,
        seq: u64,
        outcome: &EffectOutcome,
        attempts: u32,
    ) -> Result<(), StoreError>;

    /// Note a failed attempt at a pending item, to be tried again from
    /// `not_before_ms`, durably, and return how many attempts failed so far.
    fn outbox_retry(&self, seq: u64, not_before_ms: u64, error: &str) -> Result<u32, StoreError>;

    /// The items produced by run `run`, oldest first.
    fn outbox_for_run(&self, run: u64) -> Result<Vec<OutboxItem>, StoreError>;

    /// Up to `limit` items, newest first, with a sequence number below
    /// `before` when it is given (pass the last one of a page).
    fn outbox_items(
        &self,
        limit: usize,
        before: Option<u64>,
    ) -> Result<Vec<OutboxItem>, StoreError>;

    /// How many items are pending.
    fn outbox_depth(&self) -> Result<usize, StoreError>;
}

impl OutboxStore for Store {
    fn enqueue_effects(
        &self,
        delivery: Option<u64>,
        effects: &[PlannedEffect],
        now_ms: u64,
    ) -> Result<usize, StoreError> {
        let trees = (
            &self.meta,
            &self.outbox,
            &self.outbox_keys,
            &self.outbox_pending,
            &self.outbox_runs,
        );
        let added = trees
            .transaction(|(meta, items, keys, pending, by_run)| {
                let trees = OutboxTrees {
                    items,
                    keys,
                    pending,
                    by_run,
                };
                let origin = Origin {
                    run: None,
                    delivery,
                };
                let mut added = 0;
                for planned in effects {
                    if insert(meta, &trees, origin, planned, now_ms)? {
                        added += 1;
                    }
                }
                Ok(added)
            })
            .map_err(StoreError::from_transaction)?;
        // Also when nothing was added: the effects may have been added by a
        // concurrent caller that has not flushed yet.
        self.flush()?;
        Ok(added)
    }

    fn outbox_pending(&self, limit: usize) -> Result<Vec<OutboxItem>, StoreError> {
        let mut found = Vec::new();
        for key in self.outbox_pending.iter().keys().take(limit) {
            let seq = key_u64(&key.map_err(StoreError::from_sled)?, "pending outbox item")?;
            let item = self.indexed_item(seq)?;
            // Finished between reading the index and the item.
            if item.state == OutboxState::Pending {
                found.push(item);
            }
        }
        Ok(found)
    }

    fn outbox_finish(
        &self,
        seq: u64,
        outcome: &EffectOutcome,
        attempts: u32,
    ) -> Result<(), StoreError> {
        let trees = (&self.outbox, &self.outbox_pending);
        trees
            .transaction(|(items, pending)| {
                let item = OutboxItem {
                    state: OutboxState::from(outcome),
                    attempts,
                    ..pending_item(items, seq)?
                };
                let key = seq.to_be_bytes();
                items.insert(&key[..], encode(&item, "an outbox item")?)?;
                pending.remove(&key[..])?;
                Ok(())
            })
            .map_err(StoreError::from_transaction)?;
        self.flush()
    }

    fn outbox_retry(&self, seq: u64, not_before_ms: u64, error: &str) -> Result<u32, StoreError> {
        let attempts = self
            .outbox
            .transaction(|items| {
                let mut item = pending_item(items, seq)?;
                item.attempts = item.attempts.saturating_add(1);
                item.not_before_ms = not_before_ms;
                item.last_error = Some(error.to_owned());
                items.insert(&seq.to_be_bytes()[..], encode(&item, "an outbox item")?)?;
                Ok(item.attempts)
            })
            .map_err(StoreError::from_transaction)?;
        self.flush()?;
        Ok(attempts)
    }

    fn outbox_for_run(&self, run: u64) -> Result<Vec<OutboxItem>, StoreError> {
        let mut found = Vec::new();
        for key in self.outbox_runs.scan_prefix(run.to_be_bytes()).keys() {
            let key = key.map_err(StoreError::from_sled)?;
            let seq = key_u64(key.get(8..).unwrap_or_default(), "run outbox index")?;
            found.push(self.indexed_item(seq)?);
        }
        Ok(found)
    }

    fn outbox_items(
        &self,
        limit: usize,
        before: Option<u64>,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        newest_first(&self.outbox, before)
            .take(limit)
            .map(|entry| {
                let (key, value) = entry.map_err(StoreError::from_sled)?;
                decode(&value, "outbox item", key_u64(&key, "outbox item")?)
            })
            .collect()
    }

    fn outbox_depth(&self) -> Result<usize, StoreError> {
        // sled counts by walking the tree, which holds only pending ones.
        Ok(self.outbox_pending.len())
    }
}

impl Store {
    /// The item an index names, which must exist.
    fn indexed_item(&self, seq: u64) -> Result<OutboxItem, StoreError> {
        let bytes = self
            .outbox
            .get(seq.to_be_bytes())
            .map_err(StoreError::from_sled)?
            .ok_or_else(|| StoreError::corrupt(format!("indexed outbox item {seq} is missing")))?;
        decode(&bytes, "outbox item", seq)
    }
}

/// The outbox trees inside a transaction.
pub(crate) struct OutboxTrees<'a> {
    pub(crate) items: &'a TransactionalTree,
    pub(crate) keys: &'a TransactionalTree,
    pub(crate) pending: &'a TransactionalTree,
    pub(crate) by_run: &'a TransactionalTree,
}

/// What produced an effect.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Origin {
    pub(crate) run: Option<u64>,
    pub(crate) delivery: Option<u64>,
}

/// Add `planned` under the next sequence number unless its key is in the
/// outbox already, inside a transaction that also holds `meta`; return
/// whether it was added.
pub(crate) fn insert(
    meta: &TransactionalTree,
    trees: &OutboxTrees<'_>,
    origin: Origin,
    planned: &PlannedEffect,
    now_ms: u64,
) -> ConflictableTransactionResult<bool, StoreError> {
    if planned.key.is_empty() {
        // Every effect without a key would be a duplicate of the first.
        return abort(StoreError::invalid(
            "an effect needs a non-empty idempotency key",
        ));
    }
    // Reads see this transaction's own writes, so a key repeated within
    // one batch is added once.
    if trees.keys.get(planned.key.as_bytes())?.is_some() {
        return Ok(false);
    }
    let seq = meta::allocate(meta, Counter::OutboxSeq)?;
    let item = OutboxItem {
        seq,
        run: origin.run,
        delivery: origin.delivery,
        planned: planned.clone(),
        state: OutboxState::Pending,
        attempts: 0,
        not_before_ms: now_ms,
        last_error: None,
        created_at_ms: now_ms,
    };
    let key = seq.to_be_bytes();
    trees
        .items
        .insert(&key[..], encode(&item, "an outbox item")?)?;
    trees.keys.insert(planned.key.as_bytes(), &key[..])?;
    trees.pending.insert(&key[..], EMPTY)?;
    if let Some(run) = origin.run {
        trees.by_run.insert(run_key(run, seq), EMPTY)?;
    }
    Ok(true)
}

fn run_key(run: u64, seq: u64) -> Vec<u8> {
    [run.to_be_bytes(), seq.to_be_bytes()].concat()
}

/// The item `seq` inside a transaction, aborting unless it is pending.
fn pending_item(
    items: &TransactionalTree,
    seq: u64,
) -> ConflictableTransactionResult<OutboxItem, StoreError> {
    let Some(bytes) = items.get(seq.to_be_bytes())? else {
        return abort(StoreError::NotFound {
            what: "outbox item",
            seq,
        });
    };
    let item: OutboxItem = in_tx(decode(&bytes, "outbox item", seq))?;
    if item.state != OutboxState::Pending {
        return abort(StoreError::EffectAlreadyFinished { seq });
    }
    Ok(item)
}
