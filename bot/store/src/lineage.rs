//! Artifact lineage: every version of every named artifact, newest first,
//! with the run, step, plugin and input datasets that made it.
//!
//! The source of truth is the run record: a step's `artifact` actions carry
//! name, media type, sha256 and size, and the step carries the plugin's
//! version and the datasets it read. This module keeps an index derived
//! from the run records, so `andon artifacts` never walks run history:
//!
//! - `artifact_versions`: `u16 name length | name | !run id | !version` ->
//!   JSON [`ArtifactVersion`]. The complemented numbers make a prefix scan
//!   over one name yield its newest version first (a later run, then a
//!   later step or action of the same run); `version` counts the versions
//!   of the name from 1.
//! - `artifact_names`: name -> JSON [`ArtifactSummary`] (its newest version
//!   and how many there are), so listing reads one entry per name.
//! - `artifact_index`: `indexed_through` -> the last run id indexed.
//!
//! Runs are recorded by more than one path (`record_run`, a delivery's
//! commit), so rather than hooking each, readers bring the index up to date
//! first ([`LineageStore::index_artifacts`]): the runs after the watermark
//! are read in id order and indexed in one transaction per batch, which
//! also moves the watermark, so a run is never counted twice. Run ids are
//! allocated inside the transactions that write the runs, so a run with a
//! lower id is always visible before one with a higher id. The index can be
//! dropped and rebuilt from the runs at any time.

use andon_core::action::Action;
use andon_core::run::{DatasetInput, RunRecord, Status};
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionResult, TransactionalTree};

use crate::codec::{decode, decode_u64, encode, key_u64};
use crate::error::StoreError;
use crate::store::Store;

const VERSIONS_TREE: &str = "artifact_versions";
const NAMES_TREE: &str = "artifact_names";
const INDEX_TREE: &str = "artifact_index";
const WATERMARK_KEY: &[u8] = b"indexed_through";

/// Runs indexed per transaction.
const BATCH: usize = 64;

/// One stored version of a named artifact and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactVersion {
    pub name: String,
    /// 1 for the first version stored under this name, then 2, 3…
    #[serde(default)]
    pub version: u64,
    /// Hex sha256 of the bytes.
    pub sha256: String,
    pub size: u64,
    pub media_type: String,
    /// The run that stored it, and how that run ended.
    pub run_id: u64,
    pub run_status: Status,
    pub workflow: String,
    /// The step's id, and the plugin it used.
    pub step: String,
    pub plugin: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin_sha256: Option<String>,
    /// The datasets the step read, with the ids of their content.
    #[serde(default)]
    pub inputs: Vec<DatasetInput>,
    /// `owner/name` (or the local folder's name) and the revision the run
    /// read files at.
    pub repository: String,
    pub revision: String,
    /// When its run started, in milliseconds since the Unix epoch.
    pub created_at_ms: u64,
}

/// One named artifact: its newest version and how many versions exist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactSummary {
    pub name: String,
    pub versions: u64,
    pub latest: ArtifactVersion,
}

/// Reading artifact lineage. Every method first indexes runs recorded
/// since the last call.
pub trait LineageStore {
    /// Index the runs recorded since the last call; returns how many runs
    /// were read.
    fn index_artifacts(&self) -> Result<u64, StoreError>;

    /// Every artifact name with its newest version, in name order.
    fn artifact_summaries(&self) -> Result<Vec<ArtifactSummary>, StoreError>;

    /// The versions of `name`, newest first, at most `limit`.
    fn artifact_versions(
        &self,
        name: &str,
        limit: usize,
    ) -> Result<Vec<ArtifactVersion>, StoreError>;
}

impl LineageStore for Store {
    fn index_artifacts(&self) -> Result<u64, StoreError> {
        let trees = LineageTrees::open(self)?;
        let mut indexed = 0;
        loop {
            let through = match trees
                .index
                .get(WATERMARK_KEY)
                .map_err(StoreError::from_sled)?
            {
                Some(bytes) => decode_u64(&bytes, "the artifact index watermark")?,
                None => 0,
            };
            let start = through.saturating_add(1).to_be_bytes();
            let mut runs = Vec::new();
            for entry in self.runs.range(start..).take(BATCH) {
                let (key, bytes) = entry.map_err(StoreError::from_sled)?;
                let id = key_u64(&key, "run")?;
                let run: RunRecord = decode(&bytes, "run", id)?;
                runs.push(RunRecord { id, ..run });
            }
            let Some(last) = runs.last().map(|r| r.id) else {
                return Ok(indexed);
            };
            let versions: Vec<ArtifactVersion> = runs.iter().flat_map(versions_of).collect();
            let applied = (&trees.versions, &trees.names, &trees.index)
                .transaction(|(versions_tx, names_tx, index_tx)| {
                    // Another thread indexed these runs first: start over
                    // from its watermark.
                    let now = index_tx
                        .get(WATERMARK_KEY)?
                        .map(|bytes| decode_u64(&bytes, "the artifact index watermark"))
                        .transpose()
                        .map_err(sled::transaction::ConflictableTransactionError::Abort)?
                        .unwrap_or(0);
                    if now != through {
                        return Ok(false);
                    }
                    for version in &versions {
                        insert_version(versions_tx, names_tx, version)?;
                    }
                    index_tx.insert(WATERMARK_KEY, &last.to_be_bytes())?;
                    Ok(true)
                })
                .map_err(StoreError::from_transaction)?;
            if applied {
                indexed += runs.len() as u64;
            }
        }
    }

    fn artifact_summaries(&self) -> Result<Vec<ArtifactSummary>, StoreError> {
        self.index_artifacts()?;
        let trees = LineageTrees::open(self)?;
        trees
            .names
            .iter()
            .enumerate()
            .map(|(i, entry)| {
                let (_, bytes) = entry.map_err(StoreError::from_sled)?;
                decode(&bytes, "artifact summary", i as u64)
            })
            .collect()
    }

    fn artifact_versions(
        &self,
        name: &str,
        limit: usize,
    ) -> Result<Vec<ArtifactVersion>, StoreError> {
        self.index_artifacts()?;
        let Some(prefix) = name_prefix(name) else {
            return Ok(Vec::new());
        };
        let trees = LineageTrees::open(self)?;
        trees
            .versions
            .scan_prefix(prefix)
            .take(limit)
            .enumerate()
            .map(|(i, entry)| {
                let (_, bytes) = entry.map_err(StoreError::from_sled)?;
                decode(&bytes, "artifact version", i as u64)
            })
            .collect()
    }
}

struct LineageTrees {
    versions: sled::Tree,
    names: sled::Tree,
    index: sled::Tree,
}

impl LineageTrees {
    fn open(store: &Store) -> Result<LineageTrees, StoreError> {
        let tree = |name| store.db.open_tree(name).map_err(StoreError::from_sled);
        Ok(LineageTrees {
            versions: tree(VERSIONS_TREE)?,
            names: tree(NAMES_TREE)?,
            index: tree(INDEX_TREE)?,
        })
    }
}

/// The artifact versions a run stored, in step and action order.
fn versions_of(run: &RunRecord) -> Vec<ArtifactVersion> {
    let mut out = Vec::new();
    for step in &run.steps {
        for action in &step.actions {
            let Action::Artifact(artifact) = action else {
                continue;
            };
            out.push(ArtifactVersion {
                name: artifact.name.clone(),
                version: 0,
                sha256: artifact.sha256.clone(),
                size: artifact.size,
                media_type: artifact.media_type.clone(),
                run_id: run.id,
                run_status: run.status,
                workflow: run.workflow.clone(),
                step: step.id.clone(),
                plugin: step.plugin.clone(),
                plugin_version: step.plugin_version.clone(),
                plugin_sha256: step.plugin_sha256.clone(),
                inputs: step.inputs.clone(),
                repository: run.event.repository.clone(),
                revision: run.event.head.clone(),
                created_at_ms: run.started_at_ms,
            });
        }
    }
    out
}

/// Write one version and fold it into its name's summary. Versions arrive
/// in run order, so each one is the newest so far.
fn insert_version(
    versions: &TransactionalTree,
    names: &TransactionalTree,
    version: &ArtifactVersion,
) -> ConflictableTransactionResult<(), StoreError> {
    // A name too long for the key layout is left out of the index; the run
    // record still holds it.
    let Some(mut key) = name_prefix(&version.name) else {
        return Ok(());
    };
    let count = match names.get(version.name.as_bytes())? {
        Some(bytes) => {
            let summary: ArtifactSummary = serde_json::from_slice(&bytes).map_err(|e| {
                sled::transaction::ConflictableTransactionError::Abort(StoreError::corrupt(
                    format!("artifact summary {:?}: {e}", version.name),
                ))
            })?;
            summary.versions
        }
        None => 0,
    };
    key.extend_from_slice(&(!version.run_id).to_be_bytes());
    key.extend_from_slice(&(!count).to_be_bytes());
    let version = ArtifactVersion {
        version: count + 1,
        ..version.clone()
    };
    versions.insert(key, encode(&version, "an artifact version")?)?;
    let summary = ArtifactSummary {
        name: version.name.clone(),
        versions: count + 1,
        latest: version,
    };
    names.insert(
        summary.name.as_bytes(),
        encode(&summary, "an artifact summary")?,
    )?;
    Ok(())
}

/// `u16 length | name`: the prefix every version key of `name` starts with,
/// or `None` for a name longer than 65,535 bytes.
fn name_prefix(name: &str) -> Option<Vec<u8>> {
    let len = u16::try_from(name.len()).ok()?;
    let mut key = Vec::with_capacity(2 + name.len() + 16);
    key.extend_from_slice(&len.to_be_bytes());
    key.extend_from_slice(name.as_bytes());
    Some(key)
}
