//! The inbox: webhook deliveries from their acceptance to the end of their
//! processing.
//!
//! Every tree but `delivery_ids` is keyed by the delivery's sequence number,
//! a big-endian `u64` from the `meta` counter, so key order is arrival order:
//! - `deliveries`: one JSON [`DeliveryRecord`] per delivery, without the
//!   body, so that listing stays cheap;
//! - `delivery_bodies`: the raw body, which a worker reads once;
//! - `delivery_ids`: GitHub's `X-GitHub-Delivery` id to the sequence number,
//!   which drops a delivery GitHub sends twice;
//! - `delivery_pending`: an empty value for each delivery still pending, so
//!   that workers and the depth gauge never scan finished deliveries.

use andon_core::effect::PlannedEffect;
use andon_core::run::RunRecord;
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionResult, TransactionalTree, abort};

use crate::codec::{EMPTY, decode, decode_u64, encode, in_tx, key_u64, newest_first};
use crate::error::StoreError;
use crate::kv;
use crate::meta::{self, Counter};
use crate::outbox::{self, OutboxTrees};
use crate::runs::{self, RunTrees};
use crate::store::Store;

pub(crate) const TREE: &str = "deliveries";
pub(crate) const BODIES_TREE: &str = "delivery_bodies";
pub(crate) const IDS_TREE: &str = "delivery_ids";
pub(crate) const PENDING_TREE: &str = "delivery_pending";

/// A webhook delivery as it arrives, after its signature was verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    /// GitHub's `X-GitHub-Delivery` header; must not be empty.
    pub id: String,
    /// The `X-GitHub-Event` header.
    pub event: String,
    /// Milliseconds since the Unix epoch, passed in by the caller.
    pub received_at_ms: u64,
    pub body: Vec<u8>,
}

/// What [`InboxStore::accept`] did with a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// Stored under a new sequence number.
    New { seq: u64 },
    /// A delivery with the same id was stored before, under `seq`; nothing
    /// was written.
    Duplicate { seq: u64 },
}

impl Accepted {
    /// The sequence number the delivery is stored under.
    pub fn seq(self) -> u64 {
        match self {
            Accepted::New { seq } | Accepted::Duplicate { seq } => seq,
        }
    }
}

/// Where a delivery is in its processing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum DeliveryState {
    /// Waiting for a worker, also after a failed attempt that will be
    /// retried.
    Pending,
    /// Processed; these runs were recorded for it (possibly none).
    Done { runs: Vec<u64> },
    /// Not processed, on purpose (an event andon does not handle).
    Ignored { reason: String },
    /// Given up on.
    Failed { error: String },
}

impl DeliveryState {
    pub fn kind(&self) -> DeliveryStateKind {
        match self {
            DeliveryState::Pending => DeliveryStateKind::Pending,
            DeliveryState::Done { .. } => DeliveryStateKind::Done,
            DeliveryState::Ignored { .. } => DeliveryStateKind::Ignored,
            DeliveryState::Failed { .. } => DeliveryStateKind::Failed,
        }
    }
}

/// A [`DeliveryState`] without its details, to filter listings by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeliveryStateKind {
    Pending,
    Done,
    Ignored,
    Failed,
}

/// One delivery as the inbox keeps it, without its body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    pub seq: u64,
    /// GitHub's delivery id.
    pub id: String,
    pub event: String,
    pub received_at_ms: u64,
    /// The body's length in bytes.
    pub size: u64,
    pub state: DeliveryState,
    /// Failed processing attempts so far (see [`InboxStore::retry_delivery`]).
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// Which deliveries to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryQuery {
    /// At most this many records (0 gives none).
    pub limit: usize,
    /// Only deliveries with a sequence number below this one: pass the last
    /// one of a page to get the next page.
    pub before: Option<u64>,
    /// Only deliveries in this state; `None` lists all.
    pub state: Option<DeliveryStateKind>,
}

impl DeliveryQuery {
    pub const DEFAULT_LIMIT: usize = 50;
}

impl Default for DeliveryQuery {
    /// The newest [`DeliveryQuery::DEFAULT_LIMIT`] deliveries.
    fn default() -> DeliveryQuery {
        DeliveryQuery {
            limit: DeliveryQuery::DEFAULT_LIMIT,
            before: None,
            state: None,
        }
    }
}

/// Webhook deliveries, from acceptance to processing, as `andon serve`
/// needs them.
pub trait InboxStore {
    /// Store `delivery` unless one with the same id is stored already, in
    /// one transaction. Not durable yet: call [`InboxStore::sync`] before
    /// acknowledging it, so that concurrent requests share one flush.
    fn accept(&self, delivery: &NewDelivery) -> Result<Accepted, StoreError>;

    /// Make every write made before the call durable. Concurrent callers
    /// share flushes; this blocks the calling thread.
    fn sync(&self) -> Result<(), StoreError>;

    /// Up to `limit` pending deliveries, oldest first.
    fn pending_deliveries(&self, limit: usize) -> Result<Vec<DeliveryRecord>, StoreError>;

    fn delivery(&self, seq: u64) -> Result<Option<DeliveryRecord>, StoreError>;

    fn delivery_body(&self, seq: u64) -> Result<Option<Vec<u8>>, StoreError>;

    /// The deliveries matching `query`, newest first.
    fn deliveries(&self, query: &DeliveryQuery) -> Result<Vec<DeliveryRecord>, StoreError>;

    /// Finish a pending delivery without recording runs (ignored, failed
    /// for good, or done with nothing to do), durably. Fails with
    /// [`StoreError::AlreadyProcessed`] if it is not pending.
    fn finish_delivery(&self, seq: u64, state: DeliveryState) -> Result<(), StoreError>;

    /// Note a failed attempt at a pending delivery, which stays pending,
    /// durably, and return how many attempts failed so far.
    fn retry_delivery(&self, seq: u64, error: &str) -> Result<u32, StoreError>;

    /// How many deliveries are pending.
    fn inbox_depth(&self) -> Result<usize, StoreError>;

    /// Record everything that processing the pending delivery `seq`
    /// produced in one transaction, then make it durable: `runs` under new
    /// ids (set in each record and returned in order), the kv writes, the
    /// effects (each tied to the run at its index in `runs`, if any, and
    /// skipped if its key is in the outbox already) and the delivery's
    /// state, `Done` with the run ids.
    ///
    /// If the delivery is not pending any more nothing is written and the
    /// error is [`StoreError::AlreadyProcessed`], so a delivery is processed
    /// exactly once even if two workers raced for it.
    fn commit_delivery(
        &self,
        seq: u64,
        runs: &mut [RunRecord],
        kv_writes: &[(String, String, Vec<u8>)],
        effects: &[(Option<usize>, PlannedEffect)],
        now_ms: u64,
    ) -> Result<Vec<u64>, StoreError> {
        self.commit_delivery_with(seq, runs, kv_writes, effects, now_ms, &|_| None)
    }

    /// [`InboxStore::commit_delivery`], and in the same transaction a new
    /// delivery for each run that `follow_up` (given the run under its new
    /// id) returns one for: a finished run that other workflows watch is
    /// queued with the run or not at all. A follow-up whose id is in the
    /// inbox already is not queued again.
    fn commit_delivery_with(
        &self,
        seq: u64,
        runs: &mut [RunRecord],
        kv_writes: &[(String, String, Vec<u8>)],
        effects: &[(Option<usize>, PlannedEffect)],
        now_ms: u64,
        follow_up: &dyn Fn(&RunRecord) -> Option<NewDelivery>,
    ) -> Result<Vec<u64>, StoreError>;
}

impl InboxStore for Store {
    fn accept(&self, delivery: &NewDelivery) -> Result<Accepted, StoreError> {
        let trees = (
            &self.meta,
            &self.deliveries,
            &self.delivery_bodies,
            &self.delivery_ids,
            &self.delivery_pending,
        );
        trees
            .transaction(|(meta, records, bodies, ids, pending)| {
                let inbox = InboxTrees {
                    records,
                    bodies,
                    ids,
                    pending,
                };
                insert(meta, &inbox, delivery)
            })
            .map_err(StoreError::from_transaction)
    }

    fn sync(&self) -> Result<(), StoreError> {
        self.flush()
    }

    fn pending_deliveries(&self, limit: usize) -> Result<Vec<DeliveryRecord>, StoreError> {
        let mut found = Vec::new();
        for key in self.delivery_pending.iter().keys().take(limit) {
            let seq = key_u64(&key.map_err(StoreError::from_sled)?, "pending delivery")?;
            let record = self.pending_delivery_record(seq)?;
            // Finished between reading the index and the record.
            if record.state == DeliveryState::Pending {
                found.push(record);
            }
        }
        Ok(found)
    }

    fn delivery(&self, seq: u64) -> Result<Option<DeliveryRecord>, StoreError> {
        self.deliveries
            .get(seq.to_be_bytes())
            .map_err(StoreError::from_sled)?
            .map(|bytes| decode(&bytes, "delivery", seq))
            .transpose()
    }

    fn delivery_body(&self, seq: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let body = self
            .delivery_bodies
            .get(seq.to_be_bytes())
            .map_err(StoreError::from_sled)?;
        Ok(body.map(|bytes| bytes.to_vec()))
    }

    fn deliveries(&self, query: &DeliveryQuery) -> Result<Vec<DeliveryRecord>, StoreError> {
        // Pending deliveries are few among many finished ones: walk their
        // index rather than every record.
        let pending_only = query.state == Some(DeliveryStateKind::Pending);
        let tree = if pending_only {
            &self.delivery_pending
        } else {
            &self.deliveries
        };
        let mut found = Vec::new();
        for entry in newest_first(tree, query.before) {
            if found.len() >= query.limit {
                break;
            }
            let (key, value) = entry.map_err(StoreError::from_sled)?;
            let seq = key_u64(&key, "delivery")?;
            let record: DeliveryRecord = if pending_only {
                self.pending_delivery_record(seq)?
            } else {
                decode(&value, "delivery", seq)?
            };
            if query.state.is_none_or(|kind| kind == record.state.kind()) {
                found.push(record);
            }
        }
        Ok(found)
    }

    fn finish_delivery(&self, seq: u64, state: DeliveryState) -> Result<(), StoreError> {
        if state == DeliveryState::Pending {
            return Err(StoreError::invalid(format!(
                "delivery {seq} cannot be finished as pending"
            )));
        }
        let trees = (&self.deliveries, &self.delivery_pending);
        trees
            .transaction(|(records, pending)| {
                let record = DeliveryRecord {
                    state: state.clone(),
                    ..pending_record(records, seq)?
                };
                let key = seq.to_be_bytes();
                records.insert(&key[..], encode(&record, "a delivery")?)?;
                pending.remove(&key[..])?;
                Ok(())
            })
            .map_err(StoreError::from_transaction)?;
        self.flush()
    }

    fn retry_delivery(&self, seq: u64, error: &str) -> Result<u32, StoreError> {
        let attempts = self
            .deliveries
            .transaction(|records| {
                let mut record = pending_record(records, seq)?;
                record.attempts = record.attempts.saturating_add(1);
                record.last_error = Some(error.to_owned());
                records.insert(&seq.to_be_bytes()[..], encode(&record, "a delivery")?)?;
                Ok(record.attempts)
            })
            .map_err(StoreError::from_transaction)?;
        self.flush()?;
        Ok(attempts)
    }

    fn inbox_depth(&self) -> Result<usize, StoreError> {
        // sled counts by walking the tree, which holds only pending ones.
        Ok(self.delivery_pending.len())
    }

    fn commit_delivery_with(
        &self,
        seq: u64,
        runs: &mut [RunRecord],
        kv_writes: &[(String, String, Vec<u8>)],
        effects: &[(Option<usize>, PlannedEffect)],
        now_ms: u64,
        follow_up: &dyn Fn(&RunRecord) -> Option<NewDelivery>,
    ) -> Result<Vec<u64>, StoreError> {
        let kv_entries = kv::entries(kv_writes)?;
        for run in runs.iter_mut() {
            run.delivery = Some(seq);
        }
        let trees = (
            &self.meta,
            &self.deliveries,
            &self.delivery_bodies,
            &self.delivery_ids,
            &self.delivery_pending,
            &self.runs,
            &self.run_index,
            &self.run_facets,
            &self.check_history,
            &self.kv,
            &self.outbox,
            &self.outbox_keys,
            &self.outbox_pending,
            &self.outbox_runs,
        );
        let ids = trees
            .transaction(
                |(
                    meta,
                    records,
                    bodies,
                    ids,
                    pending,
                    run_tree,
                    run_index,
                    run_facets,
                    check_history,
                    kv,
                    items,
                    keys,
                    due,
                    by_run,
                )| {
                    // First, so that a delivery processed twice writes nothing.
                    let record = pending_record(records, seq)?;
                    let run_trees = RunTrees {
                        runs: run_tree,
                        index: run_index,
                        facets: run_facets,
                        checks: check_history,
                    };
                    let inbox = InboxTrees {
                        records,
                        bodies,
                        ids,
                        pending,
                    };
                    let mut run_ids = Vec::with_capacity(runs.len());
                    for run in runs.iter() {
                        let recorded = runs::insert(meta, &run_trees, run)?;
                        if let Some(delivery) = follow_up(&recorded) {
                            insert(meta, &inbox, &delivery)?;
                        }
                        run_ids.push(recorded.id);
                    }
                    kv::write_all(kv, &kv_entries)?;
                    let outbox_trees = OutboxTrees {
                        items,
                        keys,
                        pending: due,
                        by_run,
                    };
                    for (index, planned) in effects {
                        let run = in_tx(index.map(|index| run_at(&run_ids, index)).transpose())?;
                        let origin = outbox::Origin {
                            run,
                            delivery: Some(seq),
                        };
                        outbox::insert(meta, &outbox_trees, origin, planned, now_ms)?;
                    }
                    let record = DeliveryRecord {
                        state: DeliveryState::Done {
                            runs: run_ids.clone(),
                        },
                        ..record
                    };
                    let key = seq.to_be_bytes();
                    records.insert(&key[..], encode(&record, "a delivery")?)?;
                    pending.remove(&key[..])?;
                    Ok(run_ids)
                },
            )
            .map_err(StoreError::from_transaction)?;
        for (run, id) in runs.iter_mut().zip(&ids) {
            run.id = *id;
        }
        self.flush()?;
        Ok(ids)
    }
}

impl Store {
    /// The record of a delivery found in the pending index, which must
    /// exist.
    fn pending_delivery_record(&self, seq: u64) -> Result<DeliveryRecord, StoreError> {
        self.delivery(seq)?
            .ok_or_else(|| StoreError::corrupt(format!("pending delivery {seq} has no record")))
    }
}

/// The inbox trees inside a transaction.
pub(crate) struct InboxTrees<'a> {
    pub(crate) records: &'a TransactionalTree,
    pub(crate) bodies: &'a TransactionalTree,
    pub(crate) ids: &'a TransactionalTree,
    pub(crate) pending: &'a TransactionalTree,
}

/// Store `delivery` as pending under the next sequence number, inside a
/// transaction that also holds `meta`, unless its id was stored before.
pub(crate) fn insert(
    meta: &TransactionalTree,
    trees: &InboxTrees<'_>,
    delivery: &NewDelivery,
) -> ConflictableTransactionResult<Accepted, StoreError> {
    if delivery.id.is_empty() {
        // Every delivery without an id would be a duplicate of the first.
        return abort(StoreError::invalid("a delivery needs a non-empty id"));
    }
    if let Some(seq) = trees.ids.get(delivery.id.as_bytes())? {
        let seq = in_tx(decode_u64(&seq, "a delivery id's sequence number"))?;
        return Ok(Accepted::Duplicate { seq });
    }
    let seq = meta::allocate(meta, Counter::DeliverySeq)?;
    let record = DeliveryRecord {
        seq,
        id: delivery.id.clone(),
        event: delivery.event.clone(),
        received_at_ms: delivery.received_at_ms,
        size: delivery.body.len() as u64,
        state: DeliveryState::Pending,
        attempts: 0,
        last_error: None,
    };
    let key = seq.to_be_bytes();
    trees
        .records
        .insert(&key[..], encode(&record, "a delivery")?)?;
    trees.bodies.insert(&key[..], delivery.body.as_slice())?;
    trees.ids.insert(delivery.id.as_bytes(), &key[..])?;
    trees.pending.insert(&key[..], EMPTY)?;
    Ok(Accepted::New { seq })
}

/// The record of delivery `seq` inside a transaction, aborting unless it is
/// pending.
fn pending_record(
    records: &TransactionalTree,
    seq: u64,
) -> ConflictableTransactionResult<DeliveryRecord, StoreError> {
    let Some(bytes) = records.get(seq.to_be_bytes())? else {
        return abort(StoreError::NotFound {
            what: "delivery",
            seq,
        });
    };
    let record: DeliveryRecord = in_tx(decode(&bytes, "delivery", seq))?;
    if record.state != DeliveryState::Pending {
        return abort(StoreError::AlreadyProcessed { seq });
    }
    Ok(record)
}

/// The new id of the run an effect names by its index.
fn run_at(ids: &[u64], index: usize) -> Result<u64, StoreError> {
    ids.get(index).copied().ok_or_else(|| {
        StoreError::invalid(format!(
            "an effect names run {index} but only {} runs were given",
            ids.len()
        ))
    })
}
