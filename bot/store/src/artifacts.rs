//! Artifact bytes, stored once per content and named by their sha256.
//!
//! Small blobs (up to [`INLINE_MAX`] bytes: reports, summaries) live inline
//! in the `artifacts` tree, keyed by the raw digest: one sled write, no
//! file and no fsyncs, and they travel with `andon export`. Larger blobs
//! (datasets) are files under `<store>/artifacts/sha256/<ab>/<hex>`, next to
//! the sled database, because sled keeps values in its log and page cache
//! and rewrites them on compaction. The `artifact_files` tree records which
//! digests are files and their sizes; a blob is only listed there once its
//! file is complete and synced.
//!
//! A file is written to `<store>/artifacts/tmp/`, synced, renamed into
//! place and its directory synced, so a crash never leaves a partial blob
//! under a digest's name. Identical content lands on the same name, so a
//! second put finds the file and writes nothing. A crash between writing a
//! blob and recording the run that made it leaves an unreferenced file:
//! harmless, and reclaimable by a later garbage collection.
//!
//! `andon export` carries the trees, so inline blobs, but not the files:
//! copy `<store>/artifacts/` along with an export.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use crate::error::StoreError;
use crate::store::Store;

pub(crate) const TREE: &str = "artifacts";
/// Raw sha256 -> big-endian `u64` size, for blobs kept as files.
pub(crate) const FILES_TREE: &str = "artifact_files";

/// Largest blob kept inline in the `artifacts` tree.
pub const INLINE_MAX: usize = 4096;

/// The folder under the store's directory that holds blob files.
const DIR: &str = "artifacts";

/// Blobs stored once per content, named by their hex sha256.
pub trait ArtifactStore {
    /// Store `data` (once, however often it is put) and return its hex
    /// sha256. A file blob is durable when this returns; an inline one after
    /// the next flush or recorded run.
    fn put_artifact(&self, data: &[u8]) -> Result<String, StoreError>;

    /// The bytes whose hex sha256 is `sha256`, if stored.
    fn artifact(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// The blob whose hex sha256 is `sha256` as a stream, if stored: a file
    /// blob is read from disk as it is consumed, never whole into memory.
    fn open_artifact(&self, sha256: &str) -> Result<Option<ArtifactBlob>, StoreError>;
}

/// A stored blob opened for reading.
pub struct ArtifactBlob {
    /// Size in bytes.
    pub size: u64,
    pub reader: Box<dyn Read + Send>,
}

impl std::fmt::Debug for ArtifactBlob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArtifactBlob")
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl ArtifactStore for Store {
    fn put_artifact(&self, data: &[u8]) -> Result<String, StoreError> {
        let digest: [u8; 32] = Sha256::digest(data).into();
        if data.len() <= INLINE_MAX {
            // Same key, same bytes: a failed swap means the blob is already
            // stored, which is the goal.
            let _already_stored = self
                .artifacts
                .compare_and_swap(digest, None::<&[u8]>, Some(data))
                .map_err(StoreError::from_sled)?;
        } else {
            let files = self.artifact_files()?;
            if !files.contains_key(digest).map_err(StoreError::from_sled)? {
                let path = blob_path(&self.store_dir(), &hex::encode(digest));
                write_atomically(&path, data).map_err(|e| io_error("write", &path, &e))?;
                files
                    .insert(digest, &(data.len() as u64).to_be_bytes())
                    .map_err(StoreError::from_sled)?;
            }
        }
        Ok(hex::encode(digest))
    }

    fn artifact(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(mut blob) = self.open_artifact(sha256)? else {
            return Ok(None);
        };
        let mut data = Vec::with_capacity(usize::try_from(blob.size).unwrap_or(0));
        blob.reader
            .read_to_end(&mut data)
            .map_err(|e| StoreError::Io(format!("cannot read artifact {sha256}: {e}")))?;
        Ok(Some(data))
    }

    fn open_artifact(&self, sha256: &str) -> Result<Option<ArtifactBlob>, StoreError> {
        let key = parse_digest(sha256)?;
        if let Some(bytes) = self.artifacts.get(key).map_err(StoreError::from_sled)? {
            return Ok(Some(ArtifactBlob {
                size: bytes.len() as u64,
                reader: Box::new(io::Cursor::new(bytes)),
            }));
        }
        if !self
            .artifact_files()?
            .contains_key(key)
            .map_err(StoreError::from_sled)?
        {
            return Ok(None);
        }
        let path = blob_path(&self.store_dir(), &hex::encode(key));
        match open_blob_file(&path) {
            Ok(blob) => Ok(Some(blob)),
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                Err(StoreError::corrupt(format!(
                    "artifact {} is recorded but {} is missing",
                    hex::encode(key),
                    path.display()
                )))
            }
            Err(error) => Err(io_error("open", &path, &error)),
        }
    }
}

impl Store {
    /// The folder the sled database lives in: the `path` given to
    /// [`Store::open`], or sled's own folder for a temporary store (which
    /// sled deletes on drop, blob files included).
    pub(crate) fn store_dir(&self) -> PathBuf {
        // sled 0.34 exposes its path only through this hidden accessor;
        // `Store::open` knows it, but this module may not add a field there.
        self.db.context.get_path()
    }

    fn artifact_files(&self) -> Result<sled::Tree, StoreError> {
        self.db.open_tree(FILES_TREE).map_err(StoreError::from_sled)
    }
}

/// Where a file blob with hex digest `sha256` lives under the store's
/// folder `store_dir`: `artifacts/sha256/<first two digits>/<digest>`.
///
/// A reader that cannot open the store (`andon serve` holds it) can still
/// read file blobs here, once it knows the digest.
pub fn blob_path(store_dir: &Path, sha256: &str) -> PathBuf {
    let sha256 = sha256.to_ascii_lowercase();
    let fan_out = sha256.get(..2).unwrap_or("00");
    store_dir
        .join(DIR)
        .join("sha256")
        .join(fan_out)
        .join(&sha256)
}

/// Open a blob file for streaming.
pub fn open_blob_file(path: &Path) -> io::Result<ArtifactBlob> {
    let file = File::open(path)?;
    let size = file.metadata()?.len();
    Ok(ArtifactBlob {
        size,
        reader: Box::new(io::BufReader::new(file)),
    })
}

/// Temp file in `<store>/artifacts/tmp`, fsync, rename into place, fsync
/// the directory: the final name holds the whole blob or nothing.
fn write_atomically(path: &Path, data: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::other("a blob path has a parent"))?;
    fs::create_dir_all(dir)?;
    let tmp_dir = dir
        .ancestors()
        .nth(2)
        .ok_or_else(|| io::Error::other("a blob path is three levels deep"))?
        .join("tmp");
    fs::create_dir_all(&tmp_dir)?;
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::other("a blob path has a file name"))?;
    // Unique per process and call: two threads putting the same new blob
    // each write their own temp file; the second rename replaces the first
    // with identical bytes.
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let tmp = tmp_dir.join(format!(
        "{}.{}.{}",
        name.to_string_lossy(),
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut file = File::create(&tmp)?;
        file.write_all(data)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn io_error(what: &str, path: &Path, error: &io::Error) -> StoreError {
    StoreError::Io(format!("cannot {what} {}: {error}", path.display()))
}

fn parse_digest(sha256: &str) -> Result<[u8; 32], StoreError> {
    let mut key = [0; 32];
    hex::decode_to_slice(sha256, &mut key).map_err(|_| StoreError::InvalidDigest {
        digest: sha256.to_owned(),
    })?;
    Ok(key)
}
