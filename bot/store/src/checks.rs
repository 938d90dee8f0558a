//! The `check_history` tree: data-check results over time, per dataset,
//! so that the dashboard charts a dataset's history without reading runs.
//!
//! The convention any plugin can follow: a step whose outputs hold a
//! `summary` object with a string `dataset` is a check of that dataset.
//! Its numeric `summary` fields (`rows`, `passed`, `warned`, `failed`, …)
//! and its `results` array (objects with `check`, optional `name` and
//! `column`, `status`, `failed_percent` and a numeric `observed`) are kept
//! here, written in the same transaction as the run.
//!
//! A key is the dataset, a `0` byte, the repository, a `0` byte, then the
//! run id as a big-endian `u64` (0 bytes inside names are indexed as
//! U+FFFD); the value is a JSON [`CheckPoint`].

use std::collections::BTreeMap;
use std::ops::Bound;

use andon_core::run::{RunRecord, Status};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sled::transaction::{ConflictableTransactionResult, TransactionalTree};

use crate::codec::{encode, push_key_part};
use crate::error::StoreError;

pub(crate) const TREE: &str = "check_history";

/// One check of a dataset by one step of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckPoint {
    pub dataset: String,
    pub repository: String,
    pub run: u64,
    pub workflow: String,
    pub step: String,
    /// The run's start, in milliseconds since the Unix epoch.
    pub started_at_ms: u64,
    /// The step's status.
    pub status: Status,
    /// The summary's numeric fields (`rows`, `checks`, `passed`, …).
    pub summary: BTreeMap<String, f64>,
    /// One entry per check, in the step's order.
    #[serde(default)]
    pub results: Vec<CheckMetric>,
}

/// One check's result within a [`CheckPoint`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckMetric {
    /// The check's `name`, else `check(column)` or `check`.
    pub label: String,
    /// `pass`, `warn`, `fail`, …
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_percent: Option<f64>,
    /// What the check measured, when it is a number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<f64>,
}

/// The check points in `run`'s steps.
pub fn points_of(id: u64, run: &RunRecord) -> Vec<CheckPoint> {
    run.steps
        .iter()
        .filter_map(|step| {
            let summary = step.outputs.get("summary")?.as_object()?;
            let dataset = summary.get("dataset")?.as_str()?;
            let numbers = summary
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_f64()?)))
                .collect();
            let results = step
                .outputs
                .get("results")
                .and_then(Value::as_array)
                .map(|results| results.iter().filter_map(metric).collect())
                .unwrap_or_default();
            Some(CheckPoint {
                dataset: dataset.to_string(),
                repository: run.event.repository.clone(),
                run: id,
                workflow: run.workflow.clone(),
                step: step.id.clone(),
                started_at_ms: run.started_at_ms,
                status: step.status,
                summary: numbers,
                results,
            })
        })
        .collect()
}

fn metric(result: &Value) -> Option<CheckMetric> {
    let result = result.as_object()?;
    let text = |key: &str| result.get(key).and_then(Value::as_str);
    let check = text("check")?;
    let label = match (text("name"), text("column")) {
        (Some(name), _) => name.to_string(),
        (None, Some(column)) => format!("{check}({column})"),
        (None, None) => check.to_string(),
    };
    Some(CheckMetric {
        label,
        status: text("status").unwrap_or_default().to_string(),
        failed_percent: result.get("failed_percent").and_then(Value::as_f64),
        observed: result.get("observed").and_then(Value::as_f64),
    })
}

/// The prefix of a dataset's keys, of every repository.
pub(crate) fn dataset_prefix(dataset: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(dataset.len() + 1);
    push_key_part(&mut key, dataset);
    key
}

/// The prefix of a dataset's keys in one repository.
pub(crate) fn prefix(dataset: &str, repository: &str) -> Vec<u8> {
    let mut key = dataset_prefix(dataset);
    push_key_part(&mut key, repository);
    key
}

fn key(point: &CheckPoint) -> Vec<u8> {
    let mut key = prefix(&point.dataset, &point.repository);
    key.extend_from_slice(&point.run.to_be_bytes());
    key
}

/// Record the check points of run `id` inside a transaction.
pub(crate) fn insert(
    tree: &TransactionalTree,
    id: u64,
    run: &RunRecord,
) -> ConflictableTransactionResult<(), StoreError> {
    for point in points_of(id, run) {
        tree.insert(key(&point), encode(&point, "a check point")?)?;
    }
    Ok(())
}

/// The same entries as [`insert`], for a batch (the backfill).
pub(crate) fn batch_insert(
    batch: &mut sled::Batch,
    id: u64,
    run: &RunRecord,
) -> Result<(), StoreError> {
    for point in points_of(id, run) {
        let value = serde_json::to_vec(&point).map_err(|error| {
            StoreError::Backend(format!("cannot serialize a check point: {error}"))
        })?;
        batch.insert(key(&point), value);
    }
    Ok(())
}

fn decode_point(bytes: &[u8]) -> Result<CheckPoint, StoreError> {
    serde_json::from_slice(bytes)
        .map_err(|error| StoreError::corrupt(format!("a check history entry: {error}")))
}

/// The newest point of each (dataset, repository), in dataset order: one
/// seek per pair.
pub(crate) fn latest(tree: &sled::Tree) -> Result<Vec<CheckPoint>, StoreError> {
    let mut found = Vec::new();
    let mut from: Bound<Vec<u8>> = Bound::Unbounded;
    while let Some(entry) = tree.range::<Vec<u8>, _>((from, Bound::Unbounded)).next() {
        let (key, _) = entry.map_err(StoreError::from_sled)?;
        let Some(pair) = key.get(..key.len().saturating_sub(8)) else {
            return Err(StoreError::corrupt("a check history key is too short"));
        };
        if let Some(newest) = tree.scan_prefix(pair).next_back() {
            let (_, bytes) = newest.map_err(StoreError::from_sled)?;
            found.push(decode_point(&bytes)?);
        }
        let mut last = pair.to_vec();
        last.extend_from_slice(&[0xff; 8]);
        from = Bound::Excluded(last);
    }
    Ok(found)
}

/// Up to `limit` points of `dataset` in `repository` (the first repository
/// holding it when `None`), newest first.
pub(crate) fn history(
    tree: &sled::Tree,
    dataset: &str,
    repository: Option<&str>,
    limit: usize,
) -> Result<Vec<CheckPoint>, StoreError> {
    let prefix = match repository {
        Some(repository) => prefix(dataset, repository),
        None => {
            let Some(first) = tree.scan_prefix(dataset_prefix(dataset)).next() else {
                return Ok(Vec::new());
            };
            let (key, _) = first.map_err(StoreError::from_sled)?;
            key.get(..key.len().saturating_sub(8))
                .ok_or_else(|| StoreError::corrupt("a check history key is too short"))?
                .to_vec()
        }
    };
    tree.scan_prefix(prefix)
        .rev()
        .take(limit)
        .map(|entry| {
            let (_, bytes) = entry.map_err(StoreError::from_sled)?;
            decode_point(&bytes)
        })
        .collect()
}
