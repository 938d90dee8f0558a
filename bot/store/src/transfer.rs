//! Export and import of every tree as JSON Lines, one entry a line:
//! `{"tree":"runs","key":"<hex>","value":"<hex>"}`.
//!
//! The format copies bytes, not records, so it moves a store between
//! machines or sled versions without knowing what each tree holds; the
//! schema version travels in the `meta` tree, which comes first.

use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::meta;
use crate::store::Store;

#[derive(Serialize, Deserialize)]
struct Line {
    tree: String,
    key: String,
    value: String,
}

impl Store {
    /// Write every entry of every tree to `w` and return how many. `w` is
    /// written one line at a time, so pass a buffered writer.
    pub fn export(&self, w: &mut impl Write) -> Result<u64, StoreError> {
        let mut count = 0;
        for (name, tree) in self.trees() {
            for entry in tree.iter() {
                let (key, value) = entry.map_err(StoreError::from_sled)?;
                let line = Line {
                    tree: name.to_owned(),
                    key: hex::encode(key),
                    value: hex::encode(value),
                };
                serde_json::to_writer(&mut *w, &line).map_err(|error| write_error(&error))?;
                w.write_all(b"\n").map_err(|error| write_error(&error))?;
                count += 1;
            }
        }
        w.flush().map_err(|error| write_error(&error))?;
        Ok(count)
    }

    /// Load an export made by [`Store::export`] into this store, which must
    /// be new, migrate it to the current schema, flush, and return how many
    /// entries were read. On error the store holds part of the import:
    /// discard it.
    pub fn import(&self, r: impl BufRead) -> Result<u64, StoreError> {
        if !self.is_empty()? {
            return Err(StoreError::NotEmpty);
        }
        let trees = self.trees();
        let mut count = 0;
        for (index, line) in r.lines().enumerate() {
            let number = index + 1;
            let line = line.map_err(|error| {
                StoreError::Io(format!("cannot read line {number} of the import: {error}"))
            })?;
            if line.trim().is_empty() {
                continue;
            }
            let bad = |what: String| StoreError::corrupt(format!("import line {number}: {what}"));
            let line: Line = serde_json::from_str(&line).map_err(|error| bad(error.to_string()))?;
            let Some((name, tree)) = trees.iter().find(|(name, _)| *name == line.tree) else {
                return Err(bad(format!("unknown tree {:?}", line.tree)));
            };
            let key = hex::decode(&line.key).map_err(|error| bad(format!("key: {error}")))?;
            let value = hex::decode(&line.value).map_err(|error| bad(format!("value: {error}")))?;
            if *name == meta::TREE {
                refuse_newer_schema(&key, &value)?;
            }
            tree.insert(key, value).map_err(StoreError::from_sled)?;
            count += 1;
        }
        meta::prepare_schema(self)?;
        self.flush()?;
        Ok(count)
    }

    fn is_empty(&self) -> Result<bool, StoreError> {
        let data_is_empty = self
            .trees()
            .iter()
            .filter(|(name, _)| *name != meta::TREE)
            .all(|(_, tree)| tree.is_empty());
        Ok(data_is_empty && meta::is_fresh(&self.meta)?)
    }
}

fn refuse_newer_schema(key: &[u8], value: &[u8]) -> Result<(), StoreError> {
    match meta::imported_schema_version(key, value)? {
        Some(found) if found > crate::SCHEMA_VERSION => Err(StoreError::SchemaTooNew {
            found,
            supported: crate::SCHEMA_VERSION,
        }),
        _ => Ok(()),
    }
}

fn write_error(error: &dyn std::fmt::Display) -> StoreError {
    StoreError::Io(format!("cannot write the export: {error}"))
}
