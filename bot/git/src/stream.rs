//! Files at a revision as streams, for datasets too large to hold whole.
//!
//! A loose object (what `git add` and `git commit` write) is a zlib stream
//! of `blob <size>\0` and the content: it is inflated as it is read, with a
//! fixed-size buffer, so even a gigabyte file costs kilobytes. A packed
//! object (after a clone, a fetch or `git gc`) that is stored whole in its
//! pack (git stores big files and the newest version of a file whole; see
//! `core.bigFileThreshold`) is inflated from the pack file the same way.
//! A packed delta is read whole through gix, which resolves its chain: that
//! costs the file's size in memory, the known limit of this module.

use std::fs::File;
use std::io::{BufReader, ErrorKind, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use gix::zlib::Decompress;
use gix::zlib::stream::inflate;

use crate::{GitError, Repo, file_id, validate_path};

/// Bytes read from a loose object file at a time.
const FILE_BUFFER: usize = 64 << 10;
/// The longest object header (`blob ` and a 20-digit size, then NUL).
const MAX_HEADER: usize = 32;

/// A file's content, opened for one pass.
pub struct BlobStream {
    /// The content, front to back.
    pub reader: Box<dyn Read + Send>,
    /// Its size in bytes.
    pub size: u64,
    /// The blob's full hex object id.
    pub id: String,
}

impl std::fmt::Debug for BlobStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobStream")
            .field("size", &self.size)
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Repo {
    /// The regular file at `path` in `rev` as a stream, or `None` when
    /// there is no such file. Objects stored whole (loose, or whole in a
    /// pack) are inflated as they are read; packed deltas are read whole
    /// first (see the module's docs).
    pub fn open_stream(&self, rev: &str, path: &str) -> Result<Option<BlobStream>, GitError> {
        validate_path(path)?;
        let repo = self.local();
        let Some(id) = file_id(&repo, rev, path)? else {
            return Ok(None);
        };
        let read_error = |err| GitError::object(format_args!("reading {path} at {rev}"), err);
        let opened = match open_loose(&loose_path(&repo, &id)).map_err(read_error)? {
            Some(opened) => Some(opened),
            None => open_packed(objects_dir(&repo), &id).map_err(read_error)?,
        };
        let hex = id.to_string();
        if let Some((reader, size)) = opened {
            return Ok(Some(BlobStream {
                reader,
                size,
                id: hex,
            }));
        }
        let mut blob = repo
            .find_blob(id)
            .map_err(|err| GitError::object(format_args!("reading {path} at {rev}"), err))?;
        let data = blob.take_data();
        Ok(Some(BlobStream {
            size: data.len() as u64,
            reader: Box::new(std::io::Cursor::new(data)),
            id: hex,
        }))
    }
}

/// The folder of the repository's objects.
fn objects_dir(repo: &gix::Repository) -> &Path {
    repo.objects.store_ref().path()
}

/// Where the object `id` is when it is loose.
pub(crate) fn loose_path(repo: &gix::Repository, id: &gix::oid) -> PathBuf {
    let hex = id.to_string();
    objects_dir(repo).join(&hex[..2]).join(&hex[2..])
}

/// The loose blob at `file` as a stream and its size; `None` when there is
/// no such file (the object is packed, or in an alternate).
pub(crate) fn open_loose(file: &Path) -> std::io::Result<Option<(Box<dyn Read + Send>, u64)>> {
    let file = match File::open(file) {
        Ok(file) => file,
        Err(err) if err.kind() == ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err),
    };
    let mut blob = LooseBlob {
        file: BufReader::with_capacity(FILE_BUFFER, file),
        inflate: Decompress::new(),
        remaining: 0,
        pending: Vec::new(),
        pending_at: 0,
    };
    let mut header = [0u8; MAX_HEADER];
    let n = inflate::read(&mut blob.file, &mut blob.inflate, &mut header)?;
    let header = &header[..n];
    let corrupt =
        |why: &str| std::io::Error::new(ErrorKind::InvalidData, format!("loose object {why}"));
    let nul = header
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| corrupt("has no header"))?;
    let size = header[..nul]
        .strip_prefix(b"blob ")
        .and_then(|size| std::str::from_utf8(size).ok())
        .and_then(|size| size.parse::<u64>().ok())
        .ok_or_else(|| corrupt("is not a blob"))?;
    blob.pending = header[nul + 1..].to_vec();
    let pending = blob.pending.len() as u64;
    if pending > size {
        return Err(corrupt("is longer than its header says"));
    }
    blob.remaining = size - pending;
    Ok(Some((Box::new(blob), size)))
}

/// The blob `id` stored whole in one of the packs under `objects`, as a
/// stream, and its size; `None` when no pack has it, or has it as a delta.
fn open_packed(
    objects: &Path,
    id: &gix::oid,
) -> std::io::Result<Option<(Box<dyn Read + Send>, u64)>> {
    use gix::odb::pack;
    let Ok(dir) = std::fs::read_dir(objects.join("pack")) else {
        return Ok(None);
    };
    let invalid = |err: &dyn std::fmt::Display| {
        std::io::Error::new(ErrorKind::InvalidData, format!("pack: {err}"))
    };
    for entry in dir.flatten() {
        let index_path = entry.path();
        if index_path.extension().is_none_or(|e| e != "idx") {
            continue;
        }
        let Ok(index) = pack::index::File::at(&index_path, id.kind()) else {
            continue;
        };
        let Some(at) = index.lookup(id) else {
            continue;
        };
        let offset = index.pack_offset_at_index(at);
        let pack_path = index_path.with_extension("pack");
        // The map is only touched at the entry's header; the content is
        // read through a plain file, so it never counts as resident memory.
        let found = pack::data::File::at(&pack_path, id.kind())
            .map_err(|e| invalid(&e))?
            .entry(offset)
            .map_err(|e| invalid(&e))?;
        if found.header != pack::data::entry::Header::Blob {
            return Ok(None);
        }
        let mut file = File::open(&pack_path)?;
        file.seek(SeekFrom::Start(found.data_offset))?;
        let blob = LooseBlob {
            file: BufReader::with_capacity(FILE_BUFFER, file),
            inflate: Decompress::new(),
            remaining: found.decompressed_size,
            pending: Vec::new(),
            pending_at: 0,
        };
        return Ok(Some((Box::new(blob), found.decompressed_size)));
    }
    Ok(None)
}

/// A zlib-compressed object's content (a loose object after its header,
/// or a whole entry of a pack), inflated as it is read.
struct LooseBlob {
    file: BufReader<File>,
    inflate: Decompress,
    /// Content bytes still to inflate.
    remaining: u64,
    /// Content inflated together with the header.
    pending: Vec<u8>,
    pending_at: usize,
}

impl Read for LooseBlob {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pending_at < self.pending.len() {
            let n = buf.len().min(self.pending.len() - self.pending_at);
            buf[..n].copy_from_slice(&self.pending[self.pending_at..self.pending_at + n]);
            self.pending_at += n;
            return Ok(n);
        }
        if self.remaining == 0 || buf.is_empty() {
            return Ok(0);
        }
        let max = usize::try_from(self.remaining)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let n = inflate::read(&mut self.file, &mut self.inflate, &mut buf[..max])?;
        if n == 0 {
            return Err(std::io::Error::new(
                ErrorKind::UnexpectedEof,
                "loose object is shorter than its header says",
            ));
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}
