//! The `registry` tree: an index of each repository's model registry tags,
//! keyed by repository, a NUL byte, then the tag's name.
//!
//! The tags stay the truth; the index lets reads skip opening thousands of
//! tag objects. It is brought up to date from the list of tag refs (name and
//! target, cheap to list): only tags that are new or point elsewhere are
//! read, and tags that are gone are dropped. An entry andon writes ahead of
//! its tag (a tag asked of GitHub and not yet fetched) has an empty target
//! and stays until the ref shows up.

use std::collections::HashMap;

use andon_core::registry::{IndexedTag, RegistryTag};

use crate::error::StoreError;
use crate::store::Store;

pub(crate) const TREE: &str = "registry";

/// Reads the tags named (new or moved) from git, for
/// [`RegistryIndex::registry_sync`].
pub type ReadTags<'a> = dyn FnMut(&[String]) -> Result<Vec<IndexedTag>, String> + 'a;

/// What bringing the index up to date did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistrySync {
    /// Every registry tag of the repository, in name order.
    pub tags: Vec<IndexedTag>,
    /// Tags read from git because they were new or had changed.
    pub read: usize,
    /// Entries dropped because their ref is gone.
    pub removed: usize,
}

/// The registry index.
pub trait RegistryIndex {
    /// The indexed tags of `repository`, in name order.
    fn registry_tags(&self, repository: &str) -> Result<Vec<IndexedTag>, StoreError>;

    /// Bring `repository`'s index up to date with its tag refs (`(name,
    /// target id)`, every tag; those that are not registry tags are
    /// skipped). `read` is asked for the tags that are new or changed, by
    /// name, and must return them. Not flushed: the index can always be
    /// rebuilt from the tags.
    fn registry_sync(
        &self,
        repository: &str,
        refs: &[(String, String)],
        read: &mut ReadTags<'_>,
    ) -> Result<RegistrySync, StoreError>;

    /// Record a tag andon is about to create, so that reads and the next
    /// tag's counter see it before the tag can be fetched.
    fn registry_put(&self, repository: &str, tag: &IndexedTag) -> Result<(), StoreError>;
}

fn prefix(repository: &str) -> Vec<u8> {
    let mut key = repository.as_bytes().to_vec();
    key.push(0);
    key
}

fn key(repository: &str, name: &str) -> Vec<u8> {
    let mut key = prefix(repository);
    key.extend_from_slice(name.as_bytes());
    key
}

fn decode(bytes: &[u8]) -> Result<IndexedTag, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        what: format!("registry index entry: {e}"),
    })
}

fn encode(tag: &IndexedTag) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(tag).map_err(|e| StoreError::InvalidRequest {
        what: format!("registry index entry: {e}"),
    })
}

impl RegistryIndex for Store {
    fn registry_tags(&self, repository: &str) -> Result<Vec<IndexedTag>, StoreError> {
        self.registry
            .scan_prefix(prefix(repository))
            .map(|entry| {
                let (_, value) = entry.map_err(StoreError::from_sled)?;
                decode(&value)
            })
            .collect()
    }

    fn registry_sync(
        &self,
        repository: &str,
        refs: &[(String, String)],
        read: &mut ReadTags<'_>,
    ) -> Result<RegistrySync, StoreError> {
        let indexed = self.registry_tags(repository)?;
        let wanted: HashMap<&str, &str> = refs
            .iter()
            .filter(|(name, _)| RegistryTag::parse(name).is_some())
            .map(|(name, target)| (name.as_str(), target.as_str()))
            .collect();
        let mut tags: HashMap<String, IndexedTag> = HashMap::with_capacity(wanted.len());
        let mut batch = sled::Batch::default();
        let mut removed = 0;
        for tag in indexed {
            match wanted.get(tag.name.as_str()) {
                Some(target) if *target == tag.target => {
                    tags.insert(tag.name.clone(), tag);
                }
                // Changed: read again below.
                Some(_) => {}
                None if tag.pending() => {
                    tags.insert(tag.name.clone(), tag);
                }
                None => {
                    batch.remove(key(repository, &tag.name));
                    removed += 1;
                }
            }
        }
        let mut missing: Vec<String> = wanted
            .iter()
            .filter(|(name, target)| tags.get(**name).is_none_or(|t| t.target != **target))
            .map(|(name, _)| (*name).to_string())
            .collect();
        missing.sort();
        let fresh = if missing.is_empty() {
            Vec::new()
        } else {
            read(&missing).map_err(|what| StoreError::Io(format!("cannot read tags: {what}")))?
        };
        let read_count = fresh.len();
        for tag in fresh {
            batch.insert(key(repository, &tag.name), encode(&tag)?);
            tags.insert(tag.name.clone(), tag);
        }
        self.registry
            .apply_batch(batch)
            .map_err(StoreError::from_sled)?;
        let mut tags: Vec<IndexedTag> = tags.into_values().collect();
        tags.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(RegistrySync {
            tags,
            read: read_count,
            removed,
        })
    }

    fn registry_put(&self, repository: &str, tag: &IndexedTag) -> Result<(), StoreError> {
        self.registry
            .insert(key(repository, &tag.name), encode(tag)?)
            .map_err(StoreError::from_sled)?;
        Ok(())
    }
}
