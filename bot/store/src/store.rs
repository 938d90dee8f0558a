//! The sled-backed [`Store`]: opening the database, its trees, flushing.

use std::path::Path;

use crate::error::StoreError;
use crate::{artifacts, kv, meta, runs};

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
    pub(crate) kv: sled::Tree,
    pub(crate) artifacts: sled::Tree,
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
        let db = sled::Config::new()
            .path(dir)
            .open()
            .map_err(|error| match error {
                // sled 0.34 reports a held lock only through this message
                // (with kind `Other`), so the message is all there is to match.
                sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
                    StoreError::Locked {
                        path: dir.to_path_buf(),
                    }
                }
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
            kv: tree(kv::TREE)?,
            artifacts: tree(artifacts::TREE)?,
            db,
        };
        meta::prepare_schema(&store)?;
        Ok(store)
    }

    /// Write everything to disk; once this returns, earlier writes survive
    /// a crash.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map_err(StoreError::from_sled)?;
        Ok(())
    }

    /// The schema version on disk, [`SCHEMA_VERSION`](crate::SCHEMA_VERSION)
    /// once the store is open.
    pub fn schema_version(&self) -> Result<u64, StoreError> {
        Ok(meta::schema_version(&self.meta)?.unwrap_or(0))
    }

    /// Every tree by name, in export order: `meta` first so that an import
    /// sees the schema version before any data.
    pub(crate) fn trees(&self) -> [(&'static str, &sled::Tree); 5] {
        [
            (meta::TREE, &self.meta),
            (runs::TREE, &self.runs),
            (runs::INDEX_TREE, &self.run_index),
            (kv::TREE, &self.kv),
            (artifacts::TREE, &self.artifacts),
        ]
    }
}
