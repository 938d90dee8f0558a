//! Schedules and where each stands, for the scheduler.
//!
//! Three trees:
//! - `schedules`: one JSON [`ScheduleRecord`] per schedule, keyed by its id
//!   (`{repository}:{file}#{index}`);
//! - `schedule_due`: the record's wake instant (big-endian `u64`, so key
//!   order is time order) then its id, with empty values: the scheduler
//!   finds what is due without reading every schedule;
//! - `schedule_repos`: a repository to the JSON [`SyncedRepo`] that says
//!   when its schedules were read from its workflows, and their ids.
//!
//! Every change to a record rewrites its wake entry in the same
//! transaction, and a scheduled run is recorded in the same transaction as
//! the change it makes to its schedule: a tick whose run is recorded is no
//! longer pending, so it never runs twice.

use andon_core::effect::PlannedEffect;
use andon_core::run::RunRecord;
use andon_core::schedule::{ScheduleEntry, ScheduleRecord};
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{
    ConflictableTransactionError, ConflictableTransactionResult, TransactionError,
    TransactionalTree, abort,
};

use crate::codec::{EMPTY, encode, in_tx};
use crate::error::StoreError;
use crate::inbox::{self, InboxTrees, NewDelivery};
use crate::kv;
use crate::outbox::{self, OutboxTrees};
use crate::runs::{self, RunTrees};
use crate::store::Store;

pub(crate) const TREE: &str = "schedules";
pub(crate) const DUE_TREE: &str = "schedule_due";
pub(crate) const REPOS_TREE: &str = "schedule_repos";

/// When a repository's schedules were last read from its workflows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncedRepo {
    /// The commit the workflows were read at.
    pub rev: String,
    pub synced_ms: u64,
    /// Its schedules' ids.
    pub ids: Vec<String>,
}

/// What [`ScheduleStore::sync_schedules`] changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub added: usize,
    /// Kept, with a changed definition.
    pub changed: usize,
    pub unchanged: usize,
    pub removed: usize,
}

/// Schedules, as `andon serve`'s scheduler and `andon schedule list` need
/// them.
pub trait ScheduleStore {
    /// When the schedules of `repository` were last read, if ever.
    fn schedule_repository(&self, repository: &str) -> Result<Option<SyncedRepo>, StoreError>;

    /// Make the schedules of `repository` be `entries`, read at `rev`, in
    /// one transaction, durably: new ones start at `now_ms`, kept ones
    /// keep where they stand (one whose expression or zone changed starts
    /// over at `now_ms`, never firing a tick already run), and those no
    /// longer declared are deleted.
    fn sync_schedules(
        &self,
        repository: &str,
        rev: &str,
        entries: &[ScheduleEntry],
        now_ms: u64,
    ) -> Result<SyncReport, StoreError>;

    /// Every schedule, by id.
    fn schedules(&self) -> Result<Vec<ScheduleRecord>, StoreError>;

    fn schedule(&self, id: &str) -> Result<Option<ScheduleRecord>, StoreError>;

    /// The ids of up to `limit` schedules due at `now_ms` (wake time at or
    /// before it), earliest first, and the first wake time after `now_ms`
    /// among the others.
    fn due_schedules(
        &self,
        now_ms: u64,
        limit: usize,
    ) -> Result<(Vec<String>, Option<u64>), StoreError>;

    /// Apply `change` to each schedule of `ids` that exists, in one
    /// transaction, then make it durable; return what `change` returned for
    /// each. A transaction may run again on a conflict, so `change` must
    /// depend on the record only.
    fn update_schedules<T>(
        &self,
        ids: &[String],
        change: impl Fn(&mut ScheduleRecord) -> T,
    ) -> Result<Vec<(String, T)>, StoreError>;

    /// Record the run of a scheduled tick (under a new id, set in `run.id`)
    /// with its kv writes and its effects, and let `finish` move the
    /// schedule on given the run's id, in one transaction, then make it
    /// durable. When `finish` refuses (that attempt is not running any
    /// more) nothing is written and the answer is `None`. A schedule
    /// deleted meanwhile does not stop its run from being recorded.
    ///
    /// When `follow_up` (given the run under its new id) returns a
    /// delivery, it is queued in the same transaction, unless its id is in
    /// the inbox already: a finished run that other workflows watch is
    /// queued with the run or not at all.
    #[allow(
        clippy::too_many_arguments,
        reason = "the parts of one transaction, each from a different source"
    )]
    fn record_scheduled_run(
        &self,
        id: &str,
        run: &mut RunRecord,
        kv_writes: &[(String, String, Vec<u8>)],
        effects: &[PlannedEffect],
        now_ms: u64,
        finish: impl Fn(&mut ScheduleRecord, u64) -> Result<(), String>,
        follow_up: impl Fn(&RunRecord) -> Option<NewDelivery>,
    ) -> Result<Option<u64>, StoreError>;
}

impl ScheduleStore for Store {
    fn schedule_repository(&self, repository: &str) -> Result<Option<SyncedRepo>, StoreError> {
        self.schedule_repos
            .get(repository.as_bytes())
            .map_err(StoreError::from_sled)?
            .map(|bytes| decode(&bytes, "synced repository", repository))
            .transpose()
    }

    fn sync_schedules(
        &self,
        repository: &str,
        rev: &str,
        entries: &[ScheduleEntry],
        now_ms: u64,
    ) -> Result<SyncReport, StoreError> {
        if let Some(stranger) = entries.iter().find(|e| e.repository != repository) {
            return Err(StoreError::invalid(format!(
                "schedule {} is not of repository {repository}",
                stranger.id
            )));
        }
        let trees = (&self.schedules, &self.schedule_due, &self.schedule_repos);
        let report = trees
            .transaction(|(records, due, repos)| {
                let mut report = SyncReport::default();
                let known: Option<SyncedRepo> = match repos.get(repository.as_bytes())? {
                    Some(bytes) => Some(in_tx(decode(&bytes, "synced repository", repository))?),
                    None => None,
                };
                for old_id in known.iter().flat_map(|k| &k.ids) {
                    if entries.iter().any(|e| &e.id == old_id) {
                        continue;
                    }
                    if let Some(old) = get(records, old_id)? {
                        remove(records, due, &old)?;
                        report.removed += 1;
                    }
                }
                for entry in entries {
                    let old = get(records, &entry.id)?;
                    let new = match &old {
                        Some(old) if old.entry == *entry => {
                            report.unchanged += 1;
                            continue;
                        }
                        Some(old) => {
                            report.changed += 1;
                            let mut record = old.clone();
                            record.redefine(entry.clone(), now_ms);
                            record
                        }
                        None => {
                            report.added += 1;
                            ScheduleRecord::new(entry.clone(), now_ms)
                        }
                    };
                    put(records, due, old.as_ref(), &new)?;
                }
                let synced = SyncedRepo {
                    rev: rev.to_string(),
                    synced_ms: now_ms,
                    ids: entries.iter().map(|e| e.id.clone()).collect(),
                };
                repos.insert(
                    repository.as_bytes(),
                    encode(&synced, "a synced repository")?,
                )?;
                Ok(report)
            })
            .map_err(StoreError::from_transaction)?;
        self.flush()?;
        Ok(report)
    }

    fn schedules(&self) -> Result<Vec<ScheduleRecord>, StoreError> {
        self.schedules
            .iter()
            .map(|entry| {
                let (key, bytes) = entry.map_err(StoreError::from_sled)?;
                decode(&bytes, "schedule", &String::from_utf8_lossy(&key))
            })
            .collect()
    }

    fn schedule(&self, id: &str) -> Result<Option<ScheduleRecord>, StoreError> {
        self.schedules
            .get(id.as_bytes())
            .map_err(StoreError::from_sled)?
            .map(|bytes| decode(&bytes, "schedule", id))
            .transpose()
    }

    fn due_schedules(
        &self,
        now_ms: u64,
        limit: usize,
    ) -> Result<(Vec<String>, Option<u64>), StoreError> {
        let mut due = Vec::new();
        for key in self.schedule_due.iter().keys() {
            let key = key.map_err(StoreError::from_sled)?;
            let (wake, id) = split_due_key(&key)?;
            if wake > now_ms {
                return Ok((due, Some(wake)));
            }
            if due.len() >= limit {
                return Ok((due, Some(wake)));
            }
            due.push(id);
        }
        Ok((due, None))
    }

    fn update_schedules<T>(
        &self,
        ids: &[String],
        change: impl Fn(&mut ScheduleRecord) -> T,
    ) -> Result<Vec<(String, T)>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let trees = (&self.schedules, &self.schedule_due);
        let changed = trees
            .transaction(|(records, due)| {
                let mut out = Vec::with_capacity(ids.len());
                for id in ids {
                    let Some(old) = get(records, id)? else {
                        continue;
                    };
                    let mut new = old.clone();
                    let result = change(&mut new);
                    if new != old {
                        put(records, due, Some(&old), &new)?;
                    }
                    out.push((id.clone(), result));
                }
                Ok(out)
            })
            .map_err(StoreError::from_transaction)?;
        self.flush()?;
        Ok(changed)
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "the parts of one transaction, each from a different source"
    )]
    fn record_scheduled_run(
        &self,
        id: &str,
        run: &mut RunRecord,
        kv_writes: &[(String, String, Vec<u8>)],
        effects: &[PlannedEffect],
        now_ms: u64,
        finish: impl Fn(&mut ScheduleRecord, u64) -> Result<(), String>,
        follow_up: impl Fn(&RunRecord) -> Option<NewDelivery>,
    ) -> Result<Option<u64>, StoreError> {
        let kv_entries = kv::entries(kv_writes)?;
        // More trees than sled's tuples take (14): a slice, named below.
        let trees = [
            &self.meta,
            &self.runs,
            &self.run_index,
            &self.run_facets,
            &self.check_history,
            &self.kv,
            &self.outbox,
            &self.outbox_keys,
            &self.outbox_pending,
            &self.outbox_runs,
            &self.schedules,
            &self.schedule_due,
            &self.deliveries,
            &self.delivery_bodies,
            &self.delivery_ids,
            &self.delivery_pending,
        ];
        let recorded = trees[..]
            .transaction(|views| {
                let [
                    meta,
                    run_tree,
                    run_index,
                    run_facets,
                    check_history,
                    kv,
                    items,
                    keys,
                    pending,
                    by_run,
                    records,
                    due,
                    deliveries,
                    delivery_bodies,
                    delivery_ids,
                    delivery_pending,
                ] = named_views(views);
                // Insert the run first to learn its id; an abort below
                // undoes it with the rest.
                let run_trees = RunTrees {
                    runs: run_tree,
                    index: run_index,
                    facets: run_facets,
                    checks: check_history,
                };
                let recorded = lift(runs::insert(meta, &run_trees, run))?;
                let run_id = recorded.id;
                if let Some(old) = get(records, id)? {
                    let mut new = old.clone();
                    if finish(&mut new, run_id).is_err() {
                        return abort(Aborted::NotRunning);
                    }
                    put(records, due, Some(&old), &new)?;
                }
                lift(kv::write_all(kv, &kv_entries))?;
                let outbox_trees = OutboxTrees {
                    items,
                    keys,
                    pending,
                    by_run,
                };
                let origin = outbox::Origin {
                    run: Some(run_id),
                    delivery: None,
                };
                for planned in effects {
                    lift(outbox::insert(meta, &outbox_trees, origin, planned, now_ms))?;
                }
                if let Some(delivery) = follow_up(&recorded) {
                    let inbox = InboxTrees {
                        records: deliveries,
                        bodies: delivery_bodies,
                        ids: delivery_ids,
                        pending: delivery_pending,
                    };
                    lift(inbox::insert(meta, &inbox, &delivery))?;
                }
                Ok(run_id)
            })
            .map_err(|error| match error {
                TransactionError::Abort(reason) => reason,
                TransactionError::Storage(error) => Aborted::Store(StoreError::from_sled(error)),
            });
        let run_id = match recorded {
            Ok(run_id) => run_id,
            Err(Aborted::NotRunning) => return Ok(None),
            Err(Aborted::Store(error)) => return Err(error),
        };
        run.id = run_id;
        self.flush()?;
        Ok(Some(run_id))
    }
}

/// The views of a transaction over a slice of `N` trees, in their order.
fn named_views<const N: usize>(views: &[TransactionalTree]) -> &[TransactionalTree; N] {
    // sled makes one view per tree of the slice, in order.
    views
        .try_into()
        .expect("a transaction has a view of each of its trees")
}

/// Why the transaction of a scheduled run stopped.
#[derive(Debug)]
enum Aborted {
    /// The attempt is not running: nothing to record.
    NotRunning,
    Store(StoreError),
}

impl From<StoreError> for Aborted {
    fn from(error: StoreError) -> Aborted {
        Aborted::Store(error)
    }
}

/// A result of the shared tree helpers, in this transaction's error type.
fn lift<T>(
    result: ConflictableTransactionResult<T, StoreError>,
) -> ConflictableTransactionResult<T, Aborted> {
    result.map_err(|error| match error {
        ConflictableTransactionError::Abort(error) => {
            ConflictableTransactionError::Abort(Aborted::Store(error))
        }
        ConflictableTransactionError::Conflict => ConflictableTransactionError::Conflict,
        ConflictableTransactionError::Storage(error) => {
            ConflictableTransactionError::Storage(error)
        }
    })
}

fn decode<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    what: &str,
    key: &str,
) -> Result<T, StoreError> {
    serde_json::from_slice(bytes)
        .map_err(|error| StoreError::corrupt(format!("{what} {key}: {error}")))
}

fn get<E>(
    records: &TransactionalTree,
    id: &str,
) -> ConflictableTransactionResult<Option<ScheduleRecord>, E>
where
    E: From<StoreError>,
{
    match records.get(id.as_bytes())? {
        Some(bytes) => decode(&bytes, "schedule", id)
            .map(Some)
            .map_err(|error| ConflictableTransactionError::Abort(E::from(error))),
        None => Ok(None),
    }
}

fn due_key(wake_ms: u64, id: &str) -> Vec<u8> {
    [&wake_ms.to_be_bytes()[..], id.as_bytes()].concat()
}

fn split_due_key(key: &[u8]) -> Result<(u64, String), StoreError> {
    let (wake, id) = key
        .split_at_checked(8)
        .ok_or_else(|| StoreError::corrupt("a schedule wake key is shorter than 8 bytes"))?;
    let wake = u64::from_be_bytes(
        wake.try_into()
            .map_err(|_| StoreError::corrupt("wake key"))?,
    );
    let id = String::from_utf8(id.to_vec())
        .map_err(|_| StoreError::corrupt("a schedule id is not UTF-8"))?;
    Ok((wake, id))
}

/// Write `new` over `old` (if any), moving its wake entry.
fn put<E>(
    records: &TransactionalTree,
    due: &TransactionalTree,
    old: Option<&ScheduleRecord>,
    new: &ScheduleRecord,
) -> ConflictableTransactionResult<(), E>
where
    E: From<StoreError>,
{
    let id = &new.entry.id;
    if let Some(old) = old
        && let Some(wake) = old.wake_ms()
    {
        due.remove(due_key(wake, &old.entry.id))?;
    }
    if let Some(wake) = new.wake_ms() {
        due.insert(due_key(wake, id), EMPTY)?;
    }
    let bytes = serde_json::to_vec(new).map_err(|error| {
        ConflictableTransactionError::Abort(E::from(StoreError::Backend(format!(
            "cannot serialize a schedule: {error}"
        ))))
    })?;
    records.insert(id.as_bytes(), bytes)?;
    Ok(())
}

fn remove<E>(
    records: &TransactionalTree,
    due: &TransactionalTree,
    old: &ScheduleRecord,
) -> ConflictableTransactionResult<(), E> {
    if let Some(wake) = old.wake_ms() {
        due.remove(due_key(wake, &old.entry.id))?;
    }
    records.remove(old.entry.id.as_bytes())?;
    Ok(())
}
