//! The `meta` tree: the schema version, its migrations, and the counters
//! that number runs, deliveries and outbox items.
//!
//! Numbers are stored as big-endian `u64`.

use sled::transaction::{ConflictableTransactionResult, TransactionalTree, abort};

use crate::codec::{decode_u64, in_tx};
use crate::error::StoreError;
use crate::store::Store;

pub(crate) const TREE: &str = "meta";
const SCHEMA_VERSION_KEY: &str = "schema_version";

/// One step of the schema: `MIGRATIONS[n]` turns version `n` into `n + 1`.
type Migration = fn(&Store) -> Result<(), StoreError>;

const MIGRATIONS: [Migration; 5] = [v0_to_v1, v1_to_v2, v2_to_v3, v3_to_v4, v4_to_v5];

/// The schema version this build reads and writes.
pub const SCHEMA_VERSION: u64 = MIGRATIONS.len() as u64;

/// Version 0 is the layout before the version key existed, identical to
/// version 1: nothing to move. Kept so the migration path is exercised.
fn v0_to_v1(_store: &Store) -> Result<(), StoreError> {
    Ok(())
}

/// Version 2 adds the inbox and outbox trees, which opening the store
/// creates empty: nothing to move. The version still changes so that an
/// older andon refuses this store instead of exporting it without its
/// inbox and outbox.
fn v1_to_v2(_store: &Store) -> Result<(), StoreError> {
    Ok(())
}

/// Version 3 adds the schedule trees, which opening the store creates
/// empty: nothing to move. As for version 2, the version changes so that
/// an older andon refuses the store rather than exporting it without its
/// schedules.
fn v2_to_v3(_store: &Store) -> Result<(), StoreError> {
    Ok(())
}

/// Version 4 indexes runs by repository, workflow and status
/// (`run_facets`) and keeps data-check history per dataset
/// (`check_history`): both are built here from the runs recorded so far.
fn v3_to_v4(store: &Store) -> Result<(), StoreError> {
    store.backfill_run_indexes()
}

/// Version 5 adds two composite indexes to `run_facets` (repository and
/// workflow; repository, workflow and status), so that the dashboard's
/// combined filters read one index: built here from the runs recorded so
/// far (the single indexes are written again unchanged).
fn v4_to_v5(store: &Store) -> Result<(), StoreError> {
    store.backfill_run_indexes()
}

/// Stamp a new store with the current version, refuse a newer one, and
/// migrate an older one step by step, recording each step so that an
/// interrupted migration resumes where it stopped.
pub(crate) fn prepare_schema(store: &Store) -> Result<(), StoreError> {
    let Some(found) = schema_version(&store.meta)? else {
        set_schema_version(store, SCHEMA_VERSION)?;
        return store.flush();
    };
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    let pending = (0u64..).zip(MIGRATIONS).filter(|(from, _)| *from >= found);
    for (from, migration) in pending {
        migration(store)?;
        set_schema_version(store, from + 1)?;
        store.flush()?;
    }
    Ok(())
}

pub(crate) fn schema_version(meta: &sled::Tree) -> Result<Option<u64>, StoreError> {
    meta.get(SCHEMA_VERSION_KEY)
        .map_err(StoreError::from_sled)?
        .map(|bytes| decode_u64(&bytes, SCHEMA_VERSION_KEY))
        .transpose()
}

fn set_schema_version(store: &Store, version: u64) -> Result<(), StoreError> {
    store
        .meta
        .insert(SCHEMA_VERSION_KEY, &version.to_be_bytes()[..])
        .map_err(StoreError::from_sled)?;
    Ok(())
}

/// The schema version an imported `meta` entry carries, if it is that key.
pub(crate) fn imported_schema_version(key: &[u8], value: &[u8]) -> Result<Option<u64>, StoreError> {
    if key != SCHEMA_VERSION_KEY.as_bytes() {
        return Ok(None);
    }
    decode_u64(value, SCHEMA_VERSION_KEY).map(Some)
}

/// Whether `meta` holds nothing but the schema version, as in a new store.
pub(crate) fn is_fresh(meta: &sled::Tree) -> Result<bool, StoreError> {
    for key in meta.iter().keys() {
        if key.map_err(StoreError::from_sled)? != SCHEMA_VERSION_KEY.as_bytes() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// A number sequence kept in `meta`: numbers start at 1 and are never
/// reused, also after an export and import.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Counter {
    RunId,
    DeliverySeq,
    OutboxSeq,
}

impl Counter {
    fn key(self) -> &'static str {
        match self {
            Counter::RunId => "last_run_id",
            Counter::DeliverySeq => "last_delivery_seq",
            Counter::OutboxSeq => "last_outbox_seq",
        }
    }
}

/// Take the next number of `counter` inside a transaction, so that it is
/// spent only if what it numbers is written.
pub(crate) fn allocate(
    meta: &TransactionalTree,
    counter: Counter,
) -> ConflictableTransactionResult<u64, StoreError> {
    let key = counter.key();
    let last = match meta.get(key)? {
        None => 0,
        Some(bytes) => in_tx(decode_u64(&bytes, key))?,
    };
    let Some(next) = last.checked_add(1) else {
        return abort(StoreError::corrupt(format!("{key} is at its maximum")));
    };
    meta.insert(key, &next.to_be_bytes()[..])?;
    Ok(next)
}
