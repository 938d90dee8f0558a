//! What a step can read, as a port the caller implements (from git, the
//! store, or fixtures in tests). The host checks paths before asking.

use andon_core::change::{AddedLine, ChangedFile, Side};

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

    /// A value from this plugin's own namespace.
    fn kv_get(&self, _key: &str) -> Option<Vec<u8>> {
        None
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
