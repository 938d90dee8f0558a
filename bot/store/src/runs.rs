//! The `runs` tree (one JSON [`RunRecord`] per run) and the `run_index`
//! tree (one JSON [`RunSummary`] per run, so listing never parses steps
//! and logs).
//!
//! Both are keyed by the run id as a big-endian `u64`, so sled's key order
//! is id order and the newest run is last.

use andon_core::EventKind;
use andon_core::run::{RunRecord, Status};
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionResult, TransactionalTree};

use crate::codec::{decode, encode, key_u64, newest_first};
use crate::error::StoreError;
use crate::kv;
use crate::meta::{self, Counter};
use crate::store::Store;

pub(crate) const TREE: &str = "runs";
pub(crate) const INDEX_TREE: &str = "run_index";

/// Run history, as the pipeline and `andon runs` need it.
pub trait RunStore {
    /// Save `run` with the next id (set in `run.id` and returned), together
    /// with the kv writes its steps made, atomically, and make it durable
    /// before returning.
    fn record_run(
        &self,
        run: &mut RunRecord,
        kv_writes: &[(String, String, Vec<u8>)],
    ) -> Result<u64, StoreError>;

    /// The run with `id`, if there is one.
    fn run(&self, id: u64) -> Result<Option<RunRecord>, StoreError>;

    /// Summaries of the runs matching `query`, newest first.
    fn runs(&self, query: &RunQuery) -> Result<Vec<RunSummary>, StoreError>;
}

/// Which runs to list. Filters that are `None` match every run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunQuery {
    /// At most this many summaries (0 gives none).
    pub limit: usize,
    pub workflow: Option<String>,
    pub status: Option<Status>,
    /// `owner/name`.
    pub repository: Option<String>,
    /// Only runs with an id below this one: pass the last id of a page to
    /// get the next page.
    pub before: Option<u64>,
}

impl RunQuery {
    pub const DEFAULT_LIMIT: usize = 50;

    fn matches(&self, summary: &RunSummary) -> bool {
        self.workflow
            .as_ref()
            .is_none_or(|w| *w == summary.workflow)
            && self.status.is_none_or(|s| s == summary.status)
            && self
                .repository
                .as_ref()
                .is_none_or(|r| *r == summary.repository)
    }
}

impl Default for RunQuery {
    /// The newest [`RunQuery::DEFAULT_LIMIT`] runs.
    fn default() -> RunQuery {
        RunQuery {
            limit: RunQuery::DEFAULT_LIMIT,
            workflow: None,
            status: None,
            repository: None,
            before: None,
        }
    }
}

/// One line of run history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    pub id: u64,
    pub workflow: String,
    pub repository: String,
    pub event: EventKind,
    /// The pull request, for events that have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<u64>,
    pub status: Status,
    /// Milliseconds since the Unix epoch.
    pub started_at_ms: u64,
    pub duration_us: u64,
    pub step_count: usize,
}

impl From<&RunRecord> for RunSummary {
    fn from(run: &RunRecord) -> RunSummary {
        RunSummary {
            id: run.id,
            workflow: run.workflow.clone(),
            repository: run.event.repository.clone(),
            event: run.event.kind,
            number: run.event.number,
            status: run.status,
            started_at_ms: run.started_at_ms,
            duration_us: run.duration_us,
            step_count: run.steps.len(),
        }
    }
}

impl RunStore for Store {
    fn record_run(
        &self,
        run: &mut RunRecord,
        kv_writes: &[(String, String, Vec<u8>)],
    ) -> Result<u64, StoreError> {
        let kv_entries = kv::entries(kv_writes)?;
        let trees = (&self.meta, &self.runs, &self.run_index, &self.kv);
        let id = trees
            .transaction(|(meta, runs, index, kv)| {
                kv::write_all(kv, &kv_entries)?;
                insert(meta, &RunTrees { runs, index }, run)
            })
            .map_err(StoreError::from_transaction)?;
        run.id = id;
        self.flush()?;
        Ok(id)
    }

    fn run(&self, id: u64) -> Result<Option<RunRecord>, StoreError> {
        self.runs
            .get(id.to_be_bytes())
            .map_err(StoreError::from_sled)?
            .map(|bytes| decode(&bytes, "run", id))
            .transpose()
    }

    fn runs(&self, query: &RunQuery) -> Result<Vec<RunSummary>, StoreError> {
        let mut found = Vec::new();
        for entry in newest_first(&self.run_index, query.before) {
            if found.len() >= query.limit {
                break;
            }
            let (key, bytes) = entry.map_err(StoreError::from_sled)?;
            let summary: RunSummary = decode(&bytes, "run summary", key_u64(&key, "run")?)?;
            if query.matches(&summary) {
                found.push(summary);
            }
        }
        Ok(found)
    }
}

/// The run trees inside a transaction.
pub(crate) struct RunTrees<'a> {
    pub(crate) runs: &'a TransactionalTree,
    pub(crate) index: &'a TransactionalTree,
}

/// Write `run` under the next run id, inside a transaction that also holds
/// `meta`, and return the id.
pub(crate) fn insert(
    meta: &TransactionalTree,
    trees: &RunTrees<'_>,
    run: &RunRecord,
) -> ConflictableTransactionResult<u64, StoreError> {
    let id = meta::allocate(meta, Counter::RunId)?;
    // sled may rerun a transaction on conflict, so the record is built here
    // rather than by mutating the caller's run up front.
    let record = RunRecord { id, ..run.clone() };
    let key = id.to_be_bytes();
    trees.runs.insert(&key[..], encode(&record, "a run")?)?;
    trees.index.insert(
        &key[..],
        encode(&RunSummary::from(&record), "a run summary")?,
    )?;
    Ok(id)
}
