//! The `runs` tree (one JSON [`RunRecord`] per run) and the `run_index`
//! tree (one JSON [`RunSummary`] per run, so listing never parses steps
//! and logs).
//!
//! Both are keyed by the run id as a big-endian `u64`, so sled's key order
//! is id order and the newest run is last. Every run is also indexed, in
//! the same transaction, in `run_facets` (by repository, workflow and
//! status, see [`crate::facets`]) and in `check_history` (see
//! [`crate::checks`]).

use andon_core::EventKind;
use andon_core::run::{RunRecord, Status};
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionResult, TransactionalTree};

use crate::checks::{self, CheckPoint};
use crate::codec::{decode, encode, key_u64, newest_first};
use crate::error::StoreError;
use crate::facets::{self, RunFacet};
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

    /// Save `runs` (with no kv writes) under new ids, set in each record
    /// and returned in order, in one transaction, durably: a bulk path for
    /// imports and benchmarks, one flush for all.
    fn record_runs(&self, runs: &mut [RunRecord]) -> Result<Vec<u64>, StoreError>;

    /// The distinct values of `facet` among all runs, in byte order, read
    /// from an index (one seek per value).
    fn run_facet_values(&self, facet: RunFacet) -> Result<Vec<String>, StoreError>;

    /// The newest check point of each dataset and repository, in dataset
    /// order (see [`crate::checks`] for the convention).
    fn check_datasets(&self) -> Result<Vec<CheckPoint>, StoreError>;

    /// Up to `limit` check points of `dataset`, newest first, in
    /// `repository`, or in the first repository holding it when `None`.
    fn check_history(
        &self,
        dataset: &str,
        repository: Option<&str>,
        limit: usize,
    ) -> Result<Vec<CheckPoint>, StoreError>;
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

    /// The `run_facets` prefixes of the filters set: one composite index
    /// when repository and workflow are both set, else one per filter.
    fn facet_prefixes(&self) -> Vec<Vec<u8>> {
        if let (Some(repository), Some(workflow)) = (&self.repository, &self.workflow) {
            return vec![match self.status {
                Some(status) => facets::triple_prefix(repository, workflow, status.as_str()),
                None => facets::pair_prefix(repository, workflow),
            }];
        }
        let filters = [
            (RunFacet::Repository, self.repository.as_deref()),
            (RunFacet::Workflow, self.workflow.as_deref()),
            (RunFacet::Status, self.status.map(Status::as_str)),
        ];
        filters
            .into_iter()
            .filter_map(|(facet, value)| Some(facets::prefix(facet, value?)))
            .collect()
    }

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
        let trees = (
            &self.meta,
            &self.runs,
            &self.run_index,
            &self.run_facets,
            &self.check_history,
            &self.kv,
        );
        let id = trees
            .transaction(|(meta, runs, index, facets, checks, kv)| {
                kv::write_all(kv, &kv_entries)?;
                let trees = RunTrees {
                    runs,
                    index,
                    facets,
                    checks,
                };
                insert(meta, &trees, run).map(|record| record.id)
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
        let prefixes = query.facet_prefixes();
        if prefixes.is_empty() {
            return self.scan_runs(query);
        }
        // Leapfrog over the filters' indexes, newest first: each index
        // seeks to the highest id at most the candidate, until all agree.
        // A page reads about one entry per index per run it shows, however
        // rare the filter.
        let mut found = Vec::new();
        let mut bound = match query.before {
            Some(0) => return Ok(found),
            Some(before) => before - 1,
            None => u64::MAX,
        };
        'page: while found.len() < query.limit {
            let mut candidate = bound;
            loop {
                let mut agreed = true;
                for prefix in &prefixes {
                    match facets::seek(&self.run_facets, prefix, candidate)? {
                        None => break 'page,
                        Some(id) if id < candidate => {
                            candidate = id;
                            agreed = false;
                        }
                        Some(_) => {}
                    }
                }
                if agreed {
                    break;
                }
            }
            if let Some(summary) = self.summary(candidate)?
                && query.matches(&summary)
            {
                found.push(summary);
            }
            match candidate.checked_sub(1) {
                Some(next) => bound = next,
                None => break,
            }
        }
        Ok(found)
    }

    fn record_runs(&self, runs: &mut [RunRecord]) -> Result<Vec<u64>, StoreError> {
        let trees = (
            &self.meta,
            &self.runs,
            &self.run_index,
            &self.run_facets,
            &self.check_history,
        );
        let ids = trees
            .transaction(|(meta, runs_tx, index, facets, checks)| {
                let trees = RunTrees {
                    runs: runs_tx,
                    index,
                    facets,
                    checks,
                };
                runs.iter()
                    .map(|run| insert(meta, &trees, run).map(|record| record.id))
                    .collect::<Result<Vec<u64>, _>>()
            })
            .map_err(StoreError::from_transaction)?;
        for (run, id) in runs.iter_mut().zip(&ids) {
            run.id = *id;
        }
        self.flush()?;
        Ok(ids)
    }

    fn run_facet_values(&self, facet: RunFacet) -> Result<Vec<String>, StoreError> {
        facets::values(&self.run_facets, facet)
    }

    fn check_datasets(&self) -> Result<Vec<CheckPoint>, StoreError> {
        checks::latest(&self.check_history)
    }

    fn check_history(
        &self,
        dataset: &str,
        repository: Option<&str>,
        limit: usize,
    ) -> Result<Vec<CheckPoint>, StoreError> {
        checks::history(&self.check_history, dataset, repository, limit)
    }
}

impl Store {
    /// The unfiltered listing: the summaries newest first.
    fn scan_runs(&self, query: &RunQuery) -> Result<Vec<RunSummary>, StoreError> {
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

    fn summary(&self, id: u64) -> Result<Option<RunSummary>, StoreError> {
        self.run_index
            .get(id.to_be_bytes())
            .map_err(StoreError::from_sled)?
            .map(|bytes| decode(&bytes, "run summary", id))
            .transpose()
    }

    /// Index every recorded run in `run_facets` and `check_history` (the
    /// migrations to schemas 4 and 5), in batches; entries already there are
    /// written again unchanged.
    pub(crate) fn backfill_run_indexes(&self) -> Result<(), StoreError> {
        const BATCH: usize = 2_000;
        let mut facets = sled::Batch::default();
        let mut checks = sled::Batch::default();
        let mut pending = 0;
        for entry in self.runs.iter() {
            let (key, bytes) = entry.map_err(StoreError::from_sled)?;
            let id = key_u64(&key, "run")?;
            let run: RunRecord = decode(&bytes, "run", id)?;
            facets::batch_insert(&mut facets, id, &run);
            checks::batch_insert(&mut checks, id, &run)?;
            pending += 1;
            if pending == BATCH {
                self.apply_index_batches(std::mem::take(&mut facets), std::mem::take(&mut checks))?;
                pending = 0;
            }
        }
        self.apply_index_batches(facets, checks)
    }

    fn apply_index_batches(
        &self,
        facets: sled::Batch,
        checks: sled::Batch,
    ) -> Result<(), StoreError> {
        self.run_facets
            .apply_batch(facets)
            .map_err(StoreError::from_sled)?;
        self.check_history
            .apply_batch(checks)
            .map_err(StoreError::from_sled)
    }
}

/// The run trees inside a transaction.
pub(crate) struct RunTrees<'a> {
    pub(crate) runs: &'a TransactionalTree,
    pub(crate) index: &'a TransactionalTree,
    pub(crate) facets: &'a TransactionalTree,
    pub(crate) checks: &'a TransactionalTree,
}

/// Write `run` under the next run id, inside a transaction that also holds
/// `meta`, and return the record as written (with that id).
pub(crate) fn insert(
    meta: &TransactionalTree,
    trees: &RunTrees<'_>,
    run: &RunRecord,
) -> ConflictableTransactionResult<RunRecord, StoreError> {
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
    facets::insert(trees.facets, id, &record)?;
    checks::insert(trees.checks, id, &record)?;
    Ok(record)
}
