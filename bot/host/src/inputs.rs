//! What a step can read, as a port the caller implements (from git, the
//! store, or fixtures in tests). The host checks paths before asking.

use std::io::Read;

use andon_core::change::{AddedLine, ChangedFile, Side};
use andon_core::event::OpenPullRequest;

/// Why `open-pull-requests` fails without a forge, and what to do.
pub const NO_FORGE: &str = "no forge to ask: open pull requests are only known to `andon serve` (with GitHub credentials); a local `andon run` cannot list them";

/// Why a file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    NotFound,
    InvalidPath(String),
    NoRevision,
    TooLarge(u64),
    Other(String),
}

/// A file read in chunks.
pub trait Blob: Send {
    fn size(&self) -> u64;
    /// Up to `max` next bytes; empty at the end.
    fn read(&mut self, max: usize) -> Vec<u8>;
}

/// The inputs of one step, all read-only and scoped to the event's
/// repository and the plugin's kv namespace. Every method defaults to
/// "nothing there", so an implementation grants only what it provides.
pub trait StepInputs: Send + Sync {
    fn changed_files(&self) -> &[ChangedFile] {
        &[]
    }

    fn added_lines(&self, _path: &str) -> &[AddedLine] {
        &[]
    }

    /// A whole file. `path` has been checked by the host already.
    fn read_file(&self, _side: Side, _path: &str) -> Result<Vec<u8>, ReadError> {
        Err(ReadError::NotFound)
    }

    fn open_blob(&self, _side: Side, _path: &str) -> Result<Box<dyn Blob>, ReadError> {
        Err(ReadError::NotFound)
    }

    /// A file as a stream, for datasets: never the whole file in memory
    /// when the source can avoid it. `path` has been checked by the host.
    /// The default reads the whole file through [`StepInputs::read_file`].
    fn open_stream(&self, side: Side, path: &str) -> Result<Stream, ReadError> {
        let bytes = self.read_file(side, path)?;
        Ok(Stream::from_bytes(bytes))
    }

    /// An artifact an earlier step of the same run stored under `name`.
    fn open_artifact(&self, _name: &str) -> Result<Stream, ReadError> {
        Err(ReadError::NotFound)
    }

    /// The run's reference time in microseconds since the epoch (the tick a
    /// scheduled run was due at, or when the run started). The default is
    /// the wall clock now.
    fn now_micros(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
    }

    /// A value from this plugin's own namespace.
    fn kv_get(&self, _key: &str) -> Option<Vec<u8>> {
        None
    }

    /// The repository's open pull requests, as the forge lists them now.
    fn open_pull_requests(&self) -> Result<Vec<OpenPullRequest>, String> {
        Err(NO_FORGE.into())
    }
}

/// An input opened for one streaming pass.
pub struct Stream {
    pub reader: Box<dyn Read + Send>,
    /// Size in bytes.
    pub size: u64,
    /// What identifies the content, for lineage: `git:<blob id>` or
    /// `sha256:<hex>`, empty when unknown.
    pub content_id: String,
}

impl Stream {
    /// A stream over bytes already in memory.
    pub fn from_bytes(bytes: Vec<u8>) -> Stream {
        Stream {
            size: bytes.len() as u64,
            reader: Box::new(std::io::Cursor::new(bytes)),
            content_id: String::new(),
        }
    }
}

/// No changes, no files, no kv: for `describe` and for benchmarks.
#[derive(Debug, Default, Clone, Copy)]
pub struct EmptyInputs;

impl StepInputs for EmptyInputs {}

/// An in-memory blob, for inputs that already hold the bytes.
pub struct BytesBlob {
    data: Vec<u8>,
    offset: usize,
}

impl BytesBlob {
    pub fn new(data: Vec<u8>) -> BytesBlob {
        BytesBlob { data, offset: 0 }
    }
}

impl Blob for BytesBlob {
    fn size(&self) -> u64 {
        self.data.len() as u64
    }

    fn read(&mut self, max: usize) -> Vec<u8> {
        let end = self.offset.saturating_add(max).min(self.data.len());
        let chunk = self.data[self.offset..end].to_vec();
        self.offset = end;
        chunk
    }
}
