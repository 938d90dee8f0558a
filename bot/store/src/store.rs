//! The sled-backed [`Store`]: opening the database, its trees, flushing.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::StoreError;
use crate::group_commit::GroupCommit;
use crate::{artifacts, checks, facets, inbox, kv, meta, outbox, registry, runs, schedules};

/// The embedded store: one sled database with one tree per kind of state.
///
/// Cloning is cheap and clones share the database, so one `Store` can be
/// handed to every worker.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) db: sled::Db,
    pub(crate) meta: sled::Tree,
    pub(crate) runs: sled::Tree,
    pub(crate) run_index: sled::Tree,
    pub(crate) run_facets: sled::Tree,
    pub(crate) check_history: sled::Tree,
    pub(crate) kv: sled::Tree,
    pub(crate) artifacts: sled::Tree,
    pub(crate) deliveries: sled::Tree,
    pub(crate) delivery_bodies: sled::Tree,
    pub(crate) delivery_ids: sled::Tree,
    pub(crate) delivery_pending: sled::Tree,
    pub(crate) outbox: sled::Tree,
    pub(crate) outbox_keys: sled::Tree,
    pub(crate) outbox_pending: sled::Tree,
    pub(crate) outbox_runs: sled::Tree,
    pub(crate) schedules: sled::Tree,
    pub(crate) schedule_due: sled::Tree,
    pub(crate) schedule_repos: sled::Tree,
    pub(crate) registry: sled::Tree,
    /// Shared by clones, so that every handle joins the same flushes.
    pub(crate) commit: Arc<GroupCommit>,
}

/// How long a lock this process held may take to be released.
const LINGERING_LOCK: Duration = Duration::from_secs(2);

/// Whether this process opened the store in `dir` before, and notes that it
/// does now.
fn opened_here(dir: &Path) -> bool {
    static OPENED: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let mut opened = OPENED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    !opened.get_or_insert_with(HashSet::new).insert(dir)
}

impl Store {
    /// Open (or create) the store in `dir`, creating the folder, and bring
    /// its schema up to [`SCHEMA_VERSION`](crate::SCHEMA_VERSION).
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let open_error = |source| StoreError::Open {
            path: dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(open_error)?;
        // sled 0.34 reports a held lock only through this message (with
        // kind `Other`), so the message is all there is to match.
        let locked = |error: &sled::Error| match error {
            sled::Error::Io(io) => io.to_string().contains("could not acquire lock"),
            _ => false,
        };
        // A store this process closed a moment ago keeps its lock until
        // sled's background threads wind down: wait for them. Another
        // process's lock is reported at once (the CLI then asks the server).
        let ours = opened_here(dir);
        let deadline = Instant::now() + LINGERING_LOCK;
        let db = loop {
            match sled::Config::new().path(dir).open() {
                Err(error) if ours && locked(&error) && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                opened => break opened,
            }
        }
        .map_err(|error| match error {
            error if locked(&error) => StoreError::Locked {
                path: dir.to_path_buf(),
            },
            sled::Error::Io(io) => open_error(io),
            other => StoreError::from_sled(other),
        })?;
        Store::with_db(db)
    }

    /// A store that lives in a temporary folder and is deleted on drop,
    /// for tests.
    pub fn open_temporary() -> Result<Store, StoreError> {
        let db = sled::Config::new()
            .temporary(true)
            .open()
            .map_err(StoreError::from_sled)?;
        Store::with_db(db)
    }

    fn with_db(db: sled::Db) -> Result<Store, StoreError> {
        let tree = |name: &str| db.open_tree(name).map_err(StoreError::from_sled);
        let store = Store {
            meta: tree(meta::TREE)?,
            runs: tree(runs::TREE)?,
            run_index: tree(runs::INDEX_TREE)?,
            run_facets: tree(facets::TREE)?,
            check_history: tree(checks::TREE)?,
            kv: tree(kv::TREE)?,
            artifacts: tree(artifacts::TREE)?,
            deliveries: tree(inbox::TREE)?,
            delivery_bodies: tree(inbox::BODIES_TREE)?,
            delivery_ids: tree(inbox::IDS_TREE)?,
            delivery_pending: tree(inbox::PENDING_TREE)?,
            outbox: tree(outbox::TREE)?,
            outbox_keys: tree(outbox::KEYS_TREE)?,
            outbox_pending: tree(outbox::PENDING_TREE)?,
            outbox_runs: tree(outbox::RUNS_TREE)?,
            schedules: tree(schedules::TREE)?,
            schedule_due: tree(schedules::DUE_TREE)?,
            schedule_repos: tree(schedules::REPOS_TREE)?,
            registry: tree(registry::TREE)?,
            commit: Arc::default(),
            db,
        };
        meta::prepare_schema(&store)?;
        Ok(store)
    }

    /// Write everything to disk; once this returns, every write made before
    /// the call survives a crash.
    ///
    /// Concurrent callers share flushes (group commit): at most one flush
    /// runs at a time, and the callers that arrive while it runs are all
    /// served by the next one. It blocks the thread until its flush is
    /// done, so call it from async code through `spawn_blocking`.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.commit.sync(|| {
            self.db.flush().map_err(StoreError::from_sled)?;
            Ok(())
        })
    }

    /// How many disk flushes this store (with its clones) has started, for
    /// tests and metrics: fewer than the calls of [`Store::flush`] when
    /// callers shared flushes.
    pub fn flush_count(&self) -> u64 {
        self.commit.flush_count()
    }

    /// The schema version on disk, [`SCHEMA_VERSION`](crate::SCHEMA_VERSION)
    /// once the store is open.
    pub fn schema_version(&self) -> Result<u64, StoreError> {
        Ok(meta::schema_version(&self.meta)?.unwrap_or(0))
    }

    /// Every tree by name, in export order: `meta` first so that an import
    /// sees the schema version before any data.
    pub(crate) fn trees(&self) -> [(&'static str, &sled::Tree); 19] {
        [
            (meta::TREE, &self.meta),
            (runs::TREE, &self.runs),
            (runs::INDEX_TREE, &self.run_index),
            (facets::TREE, &self.run_facets),
            (checks::TREE, &self.check_history),
            (kv::TREE, &self.kv),
            (artifacts::TREE, &self.artifacts),
            (inbox::TREE, &self.deliveries),
            (inbox::BODIES_TREE, &self.delivery_bodies),
            (inbox::IDS_TREE, &self.delivery_ids),
            (inbox::PENDING_TREE, &self.delivery_pending),
            (outbox::TREE, &self.outbox),
            (outbox::KEYS_TREE, &self.outbox_keys),
            (outbox::PENDING_TREE, &self.outbox_pending),
            (outbox::RUNS_TREE, &self.outbox_runs),
            (schedules::TREE, &self.schedules),
            (schedules::DUE_TREE, &self.schedule_due),
            (schedules::REPOS_TREE, &self.schedule_repos),
            (registry::TREE, &self.registry),
        ]
    }
}
