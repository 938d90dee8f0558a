//! The `kv` tree: plugin state, keyed by namespace, a NUL byte, then key.

use sled::transaction::{ConflictableTransactionResult, TransactionalTree};

use crate::error::StoreError;
use crate::store::Store;

pub(crate) const TREE: &str = "kv";

/// Small values by namespace (a plugin's own) and key.
pub trait KvStore {
    fn kv_get(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Set a value. It is durable after the next flush or recorded run;
    /// kv writes that belong to a run go through
    /// [`RunStore::record_run`](crate::RunStore::record_run) instead.
    fn kv_set(&self, namespace: &str, key: &str, value: &[u8]) -> Result<(), StoreError>;
}

impl KvStore for Store {
    fn kv_get(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let value = self
            .kv
            .get(entry_key(namespace, key)?)
            .map_err(StoreError::from_sled)?;
        Ok(value.map(|bytes| bytes.to_vec()))
    }

    fn kv_set(&self, namespace: &str, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.kv
            .insert(entry_key(namespace, key)?, value)
            .map_err(StoreError::from_sled)?;
        Ok(())
    }
}

/// A kv write as a tree entry: the key from [`entry_key`] and the value.
pub(crate) type Entry<'a> = (Vec<u8>, &'a [u8]);

/// The tree entries for a run's kv writes, checked before a transaction
/// starts so that a refused write costs nothing.
pub(crate) fn entries(writes: &[(String, String, Vec<u8>)]) -> Result<Vec<Entry<'_>>, StoreError> {
    writes
        .iter()
        .map(|(namespace, key, value)| Ok((entry_key(namespace, key)?, value.as_slice())))
        .collect()
}

/// Write `entries` (from [`entries`]) inside a transaction.
pub(crate) fn write_all(
    kv: &TransactionalTree,
    entries: &[Entry<'_>],
) -> ConflictableTransactionResult<(), StoreError> {
    for (key, value) in entries {
        kv.insert(key.as_slice(), *value)?;
    }
    Ok(())
}

/// The tree key for `namespace` and `key`. A NUL in the namespace would make
/// two pairs share a key, so it is refused; the key may hold anything.
pub(crate) fn entry_key(namespace: &str, key: &str) -> Result<Vec<u8>, StoreError> {
    if namespace.contains('\0') {
        return Err(StoreError::InvalidNamespace {
            namespace: namespace.to_owned(),
        });
    }
    let mut entry = Vec::with_capacity(namespace.len() + 1 + key.len());
    entry.extend_from_slice(namespace.as_bytes());
    entry.push(0);
    entry.extend_from_slice(key.as_bytes());
    Ok(entry)
}
