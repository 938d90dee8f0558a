//! The `artifacts` tree: content-addressed blobs keyed by their raw sha256.

use sha2::{Digest, Sha256};

use crate::error::StoreError;
use crate::store::Store;

pub(crate) const TREE: &str = "artifacts";

/// Blobs stored once per content, named by their hex sha256.
pub trait ArtifactStore {
    /// Store `data` (once, however often it is put) and return its hex
    /// sha256. It is durable after the next flush or recorded run.
    fn put_artifact(&self, data: &[u8]) -> Result<String, StoreError>;

    /// The bytes whose hex sha256 is `sha256`, if stored.
    fn artifact(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError>;
}

impl ArtifactStore for Store {
    fn put_artifact(&self, data: &[u8]) -> Result<String, StoreError> {
        let digest = Sha256::digest(data);
        // Same key, same bytes: a second put need not rewrite the blob.
        // A failed swap means the blob is already stored, which is the goal.
        let _already_stored = self
            .artifacts
            .compare_and_swap(digest.as_slice(), None::<&[u8]>, Some(data))
            .map_err(StoreError::from_sled)?;
        Ok(hex::encode(digest))
    }

    fn artifact(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let key = parse_digest(sha256)?;
        let data = self.artifacts.get(key).map_err(StoreError::from_sled)?;
        Ok(data.map(|bytes| bytes.to_vec()))
    }
}

fn parse_digest(sha256: &str) -> Result<[u8; 32], StoreError> {
    let mut key = [0; 32];
    hex::decode_to_slice(sha256, &mut key).map_err(|_| StoreError::InvalidDigest {
        digest: sha256.to_owned(),
    })?;
    Ok(key)
}
