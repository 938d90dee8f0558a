//! Step inputs backed by a git repository and the store: the change, files
//! at the base and head revisions, and the plugin's kv namespace.

use std::sync::{Arc, OnceLock};

use andon_core::change::{AddedLine, Change, ChangedFile, Side};
use andon_core::event::OpenPullRequest;
use andon_git::Repo;
use andon_host::{Blob, BytesBlob, ReadError, StepInputs, Stream};
use andon_store::{KvStore, Store};

use crate::artifacts::RunArtifacts;

/// What every step of one run reads.
pub struct RunInputs {
    pub repo: Arc<Repo>,
    pub base: Option<String>,
    pub head: String,
    pub change: Arc<Change>,
    pub store: Store,
    /// The run's reference time in microseconds since the epoch: the tick a
    /// scheduled run was due at, or when the run started (`dataset.now`).
    pub now_micros: i64,
    /// The repository's open pull requests, asked of the forge the first
    /// time a step wants them and kept for the run.
    pub pulls: Pulls,
}

/// Open pull requests, listed at most once per run.
pub struct Pulls {
    list: Option<Box<PullLister>>,
    listed: OnceLock<Result<Vec<OpenPullRequest>, String>>,
}

/// Lists the open pull requests of the run's repository.
pub type PullLister = dyn Fn() -> Result<Vec<OpenPullRequest>, String> + Send + Sync;

impl Pulls {
    /// No forge (`andon run`): steps are told so.
    pub fn none() -> Pulls {
        Pulls {
            list: None,
            listed: OnceLock::new(),
        }
    }

    pub fn from(list: Box<PullLister>) -> Pulls {
        Pulls {
            list: Some(list),
            listed: OnceLock::new(),
        }
    }

    fn get(&self) -> Result<Vec<OpenPullRequest>, String> {
        match &self.list {
            None => Err(andon_host::NO_FORGE.into()),
            Some(list) => self.listed.get_or_init(list).clone(),
        }
    }
}

/// One step's view: the run's inputs plus its kv namespace.
pub struct GitInputs {
    pub run: Arc<RunInputs>,
    pub namespace: String,
    /// What earlier steps of the same run stored.
    pub artifacts: Arc<RunArtifacts>,
}

impl GitInputs {
    fn revision(&self, side: Side) -> Result<&str, ReadError> {
        match side {
            Side::Head => Ok(&self.run.head),
            Side::Base => self.run.base.as_deref().ok_or(ReadError::NoRevision),
        }
    }
}

impl StepInputs for GitInputs {
    fn changed_files(&self) -> &[ChangedFile] {
        &self.run.change.files
    }

    fn open_pull_requests(&self) -> Result<Vec<OpenPullRequest>, String> {
        self.run.pulls.get()
    }

    fn added_lines(&self, path: &str) -> &[AddedLine] {
        self.run.change.added_lines(path)
    }

    fn read_file(&self, side: Side, path: &str) -> Result<Vec<u8>, ReadError> {
        let rev = self.revision(side)?;
        match self.run.repo.read_file(rev, path) {
            Ok(Some(bytes)) => Ok(bytes),
            Ok(None) => Err(ReadError::NotFound),
            Err(error) => Err(ReadError::Other(error.to_string())),
        }
    }

    fn open_blob(&self, side: Side, path: &str) -> Result<Box<dyn Blob>, ReadError> {
        self.read_file(side, path)
            .map(|bytes| Box::new(BytesBlob::new(bytes)) as Box<dyn Blob>)
    }

    /// Streamed from the object database: a loose blob is never whole in
    /// memory (a packed one is, see `Repo::open_stream`).
    fn open_stream(&self, side: Side, path: &str) -> Result<Stream, ReadError> {
        let rev = self.revision(side)?;
        match self.run.repo.open_stream(rev, path) {
            Ok(Some(blob)) => Ok(Stream {
                reader: blob.reader,
                size: blob.size,
                content_id: format!("git:{}", blob.id),
            }),
            Ok(None) => Err(ReadError::NotFound),
            Err(error) => Err(ReadError::Other(error.to_string())),
        }
    }

    fn open_artifact(&self, name: &str) -> Result<Stream, ReadError> {
        self.artifacts.open(name)
    }

    fn now_micros(&self) -> i64 {
        self.run.now_micros
    }

    fn kv_get(&self, key: &str) -> Option<Vec<u8>> {
        match self.run.store.kv_get(&self.namespace, key) {
            Ok(value) => value,
            Err(error) => {
                tracing::warn!(namespace = %self.namespace, key, %error, "kv read failed");
                None
            }
        }
    }
}

/// The wall clock in microseconds since the epoch.
pub fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}
