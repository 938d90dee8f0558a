//! The `run_facets` tree: secondary indexes of runs by repository, by
//! workflow and by status, so that a filtered listing reads only the runs
//! it shows and the dashboard's filters list the known values without a
//! scan.
//!
//! A key is one facet byte (`r`, `w`, `s`), the value's bytes, a `0` byte,
//! then the run id as a big-endian `u64`; values are empty. For one facet
//! value, key order is id order, so the newest run is last; the distinct
//! values of a facet are found by skipping from one value's last key to
//! the next key, one seek per value.
//!
//! Two composite indexes serve the combinations that single indexes answer
//! slowly (weakly selective filters together): `p` keys by repository and
//! workflow, `t` keys by repository, workflow and status, each value
//! followed by its `0` byte. A page filtered by all three reads one index
//! and about one entry per run it shows.

use std::ops::Bound;

use andon_core::run::RunRecord;
use sled::transaction::{ConflictableTransactionResult, TransactionalTree};

use crate::codec::{EMPTY, push_key_part};
use crate::error::StoreError;

pub(crate) const TREE: &str = "run_facets";

/// What runs can be filtered and grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunFacet {
    /// `owner/name`.
    Repository,
    Workflow,
    /// The run's status (`success`, `failure`, …).
    Status,
}

impl RunFacet {
    pub const ALL: [RunFacet; 3] = [RunFacet::Repository, RunFacet::Workflow, RunFacet::Status];

    fn byte(self) -> u8 {
        match self {
            RunFacet::Repository => b'r',
            RunFacet::Workflow => b'w',
            RunFacet::Status => b's',
        }
    }

    /// This facet's value for `run`.
    pub fn of(self, run: &RunRecord) -> &str {
        match self {
            RunFacet::Repository => &run.event.repository,
            RunFacet::Workflow => &run.workflow,
            RunFacet::Status => run.status.as_str(),
        }
    }
}

/// The first byte of the composite index keys.
const PAIR: u8 = b'p';
const TRIPLE: u8 = b't';

/// The prefix of the keys of index `byte` for `values`, each a key part
/// (see [`push_key_part`]).
fn index_prefix(byte: u8, values: &[&str]) -> Vec<u8> {
    let mut key = Vec::with_capacity(values.iter().map(|v| v.len() + 1).sum::<usize>() + 9);
    key.push(byte);
    for value in values {
        push_key_part(&mut key, value);
    }
    key
}

/// The prefix of the keys of `facet` = `value`.
pub(crate) fn prefix(facet: RunFacet, value: &str) -> Vec<u8> {
    index_prefix(facet.byte(), &[value])
}

/// The prefix of the keys of runs of `workflow` in `repository`.
pub(crate) fn pair_prefix(repository: &str, workflow: &str) -> Vec<u8> {
    index_prefix(PAIR, &[repository, workflow])
}

/// The prefix of the keys of runs of `workflow` in `repository` that
/// ended with `status`.
pub(crate) fn triple_prefix(repository: &str, workflow: &str, status: &str) -> Vec<u8> {
    index_prefix(TRIPLE, &[repository, workflow, status])
}

/// Every index key of run `run`, whose id is `id`.
fn keys(id: u64, run: &RunRecord) -> impl Iterator<Item = Vec<u8>> {
    let [repository, workflow, status] = RunFacet::ALL.map(|facet| facet.of(run));
    RunFacet::ALL
        .map(|facet| prefix(facet, facet.of(run)))
        .into_iter()
        .chain([
            pair_prefix(repository, workflow),
            triple_prefix(repository, workflow, status),
        ])
        .map(move |mut key| {
            key.extend_from_slice(&id.to_be_bytes());
            key
        })
}

/// Index run `run` (whose id is `id`) inside a transaction.
pub(crate) fn insert(
    tree: &TransactionalTree,
    id: u64,
    run: &RunRecord,
) -> ConflictableTransactionResult<(), StoreError> {
    for key in keys(id, run) {
        tree.insert(key, EMPTY)?;
    }
    Ok(())
}

/// The same entries as [`insert`], for a batch (the backfill).
pub(crate) fn batch_insert(batch: &mut sled::Batch, id: u64, run: &RunRecord) {
    for key in keys(id, run) {
        batch.insert(key, EMPTY);
    }
}

/// The highest run id at most `at_most` under `prefix`, if any: one seek.
pub(crate) fn seek(
    tree: &sled::Tree,
    prefix: &[u8],
    at_most: u64,
) -> Result<Option<u64>, StoreError> {
    let mut high = prefix.to_vec();
    high.extend_from_slice(&at_most.to_be_bytes());
    let Some(entry) = tree.range(prefix..=high.as_slice()).next_back() else {
        return Ok(None);
    };
    let (key, _) = entry.map_err(StoreError::from_sled)?;
    let id = key
        .strip_prefix(prefix)
        .and_then(|id| <[u8; 8]>::try_from(id).ok())
        .ok_or_else(|| StoreError::corrupt("a run facet key does not end with a run id"))?;
    Ok(Some(u64::from_be_bytes(id)))
}

/// The distinct values of `facet`, in byte order: one seek per value.
pub(crate) fn values(tree: &sled::Tree, facet: RunFacet) -> Result<Vec<String>, StoreError> {
    let mut values = Vec::new();
    let mut from = Bound::Included(vec![facet.byte()]);
    let end = Bound::Excluded(vec![facet.byte() + 1]);
    while let Some(entry) = tree.range::<Vec<u8>, _>((from, end.clone())).next() {
        let (key, _) = entry.map_err(StoreError::from_sled)?;
        let Some(body) = key.get(1..key.len().saturating_sub(9)) else {
            return Err(StoreError::corrupt("a run facet key is too short"));
        };
        values.push(String::from_utf8_lossy(body).into_owned());
        // Past every id of this value.
        let mut last = key[..key.len() - 8].to_vec();
        last.extend_from_slice(&[0xff; 8]);
        from = Bound::Excluded(last);
    }
    Ok(values)
}
