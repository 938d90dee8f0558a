//! The `registry` tree: an index of each repository's model registry tags,
//! one value per repository.
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

    /// The indexed tags, if the index was last synced with tag refs of
    /// this `fingerprint` (see `andon_git::Repo::tag_refs_fingerprint`):
    /// then nothing needs listing.
    fn registry_fresh(
        &self,
        repository: &str,
        fingerprint: &str,
    ) -> Result<Option<Vec<IndexedTag>>, StoreError>;

    /// Bring `repository`'s index up to date with its tag refs (`(name,
    /// target id)`, every tag; those that are not registry tags are
    /// skipped). `read` is asked for the tags that are new or changed, by
    /// name, and must return them. Not flushed: the index can always be
    /// rebuilt from the tags.
    fn registry_sync(
        &self,
        repository: &str,
        fingerprint: &str,
        refs: &[(String, String)],
        read: &mut ReadTags<'_>,
    ) -> Result<RegistrySync, StoreError>;

    /// Record a tag andon is about to create, so that reads and the next
    /// tag's counter see it before the tag can be fetched.
    fn registry_put(&self, repository: &str, tag: &IndexedTag) -> Result<(), StoreError>;

    /// The repositories the index holds tags of, in byte order.
    fn registry_repositories(&self) -> Result<Vec<String>, StoreError>;
}

/// One value per repository: the fingerprint of the tag refs it was
/// synced at, then every tag, each as seven NUL-terminated fields (git
/// forbids NUL in names and messages). One read and a split decode it:
/// with 10,000 tags, far cheaper than 10,000 entries.
fn key(repository: &str) -> Vec<u8> {
    let mut key = repository.as_bytes().to_vec();
    key.push(0);
    key
}

const FIELDS: usize = 7;

fn encode(fingerprint: &str, tags: &[IndexedTag]) -> Vec<u8> {
    let size: usize = tags
        .iter()
        .map(|t| {
            t.name.len()
                + t.target.len()
                + t.commit.len()
                + t.author.len()
                + t.author_email.len()
                + t.message.len()
                + 32
        })
        .sum();
    let mut out = Vec::with_capacity(fingerprint.len() + 1 + size);
    let field = |out: &mut Vec<u8>, text: &str| {
        out.extend(text.bytes().filter(|b| *b != 0));
        out.push(0);
    };
    field(&mut out, fingerprint);
    for t in tags {
        field(&mut out, &t.name);
        field(&mut out, &t.target);
        field(&mut out, &t.commit);
        field(&mut out, &t.time.to_string());
        field(&mut out, &t.author);
        field(&mut out, &t.author_email);
        field(&mut out, &t.message);
    }
    out
}

fn decode(bytes: &[u8]) -> Result<(String, Vec<IndexedTag>), StoreError> {
    let corrupt = || StoreError::Corrupt {
        what: "registry index entry".into(),
    };
    let text = std::str::from_utf8(bytes).map_err(|_| corrupt())?;
    let mut fields = text.split_terminator('\0');
    let fingerprint = fields.next().unwrap_or_default().to_string();
    let rest: Vec<&str> = fields.collect();
    if !rest.len().is_multiple_of(FIELDS) {
        return Err(corrupt());
    }
    let tags = rest
        .chunks_exact(FIELDS)
        .map(|f| {
            Ok(IndexedTag {
                name: f[0].to_string(),
                target: f[1].to_string(),
                commit: f[2].to_string(),
                time: f[3].parse().map_err(|_| corrupt())?,
                author: f[4].to_string(),
                author_email: f[5].to_string(),
                message: f[6].to_string(),
            })
        })
        .collect::<Result<_, StoreError>>()?;
    Ok((fingerprint, tags))
}

impl Store {
    fn registry_load(&self, repository: &str) -> Result<(String, Vec<IndexedTag>), StoreError> {
        match self
            .registry
            .get(key(repository))
            .map_err(StoreError::from_sled)?
        {
            Some(bytes) => decode(&bytes),
            None => Ok((String::new(), Vec::new())),
        }
    }

    fn registry_save(
        &self,
        repository: &str,
        fingerprint: &str,
        tags: &[IndexedTag],
    ) -> Result<(), StoreError> {
        self.registry
            .insert(key(repository), encode(fingerprint, tags))
            .map_err(StoreError::from_sled)?;
        Ok(())
    }
}

impl RegistryIndex for Store {
    fn registry_repositories(&self) -> Result<Vec<String>, StoreError> {
        self.registry
            .iter()
            .keys()
            .map(|key| {
                let key = key.map_err(StoreError::from_sled)?;
                let name = key.strip_suffix(&[0]).unwrap_or(&key);
                Ok(String::from_utf8_lossy(name).into_owned())
            })
            .collect()
    }

    fn registry_tags(&self, repository: &str) -> Result<Vec<IndexedTag>, StoreError> {
        Ok(self.registry_load(repository)?.1)
    }

    fn registry_fresh(
        &self,
        repository: &str,
        fingerprint: &str,
    ) -> Result<Option<Vec<IndexedTag>>, StoreError> {
        let (stored, tags) = self.registry_load(repository)?;
        Ok((!fingerprint.is_empty() && stored == fingerprint).then_some(tags))
    }

    fn registry_sync(
        &self,
        repository: &str,
        fingerprint: &str,
        refs: &[(String, String)],
        read: &mut ReadTags<'_>,
    ) -> Result<RegistrySync, StoreError> {
        let (stored, indexed) = self.registry_load(repository)?;
        let wanted: HashMap<&str, &str> = refs
            .iter()
            .filter(|(name, _)| RegistryTag::parse(name).is_some())
            .map(|(name, target)| (name.as_str(), target.as_str()))
            .collect();
        let mut tags: HashMap<String, IndexedTag> = HashMap::with_capacity(wanted.len());
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
                None => removed += 1,
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
            tags.insert(tag.name.clone(), tag);
        }
        let mut tags: Vec<IndexedTag> = tags.into_values().collect();
        tags.sort_by(|a, b| a.name.cmp(&b.name));
        // A read-only command writes nothing when nothing changed.
        if read_count > 0 || removed > 0 || stored != fingerprint {
            self.registry_save(repository, fingerprint, &tags)?;
        }
        Ok(RegistrySync {
            tags,
            read: read_count,
            removed,
        })
    }

    fn registry_put(&self, repository: &str, tag: &IndexedTag) -> Result<(), StoreError> {
        let (fingerprint, mut tags) = self.registry_load(repository)?;
        tags.retain(|t| t.name != tag.name);
        tags.push(tag.clone());
        tags.sort_by(|a, b| a.name.cmp(&b.name));
        // A tag made now changes the refs: the next read compares them.
        let fingerprint = if tag.pending() {
            fingerprint
        } else {
            String::new()
        };
        self.registry_save(repository, &fingerprint, &tags)
    }
}
