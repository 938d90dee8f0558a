//! The blob contents of a change. Packed blobs are read up front in order of
//! delta-chain depth, so that each one resolves from its freshly cached base
//! instead of inflating its whole chain again: gix caches the objects it
//! returns, not the bases it passes through. Loose blobs are read on demand,
//! as the line diffs reach them.
//!
//! A blob larger than [`BIG_FILE_BYTES`] is not read at all: like git's
//! `core.bigFileThreshold`, it is treated as binary (no line counts, no
//! added lines). A dataset of hundreds of megabytes in a pull request
//! would otherwise cost seconds and gigabytes to number every line that no
//! review reads; plugins that want its content stream it through
//! `dataset`.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::io::Read;

use gix::ObjectId;
use gix::odb::find::Header;

use super::{Entry, Side};
use crate::GitError;

/// After this many loose blobs in a row and no packed one, the change is
/// taken to be loose and probing stops: order does not matter for loose
/// objects, and each probe opens a file.
const LOOSE_PROBES: usize = 16;

/// Packed blobs held at once, at most; the rest are read on demand.
const PRELOAD_BYTES: u64 = 256 * 1024 * 1024;

/// Blobs above this size are not diffed (git's default threshold is
/// 512 MiB; GitHub stops rendering a file's diff far sooner).
pub(crate) const BIG_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Blobs read ahead of the line diffs, by id.
pub(super) struct Blobs {
    read: HashMap<ObjectId, Vec<u8>>,
    /// Packed blobs found above [`BIG_FILE_BYTES`] while probing.
    big: HashSet<ObjectId>,
}

/// One side of an entry.
pub(super) enum Content<'a> {
    Bytes(Cow<'a, [u8]>),
    /// A submodule: only the recorded commit changed.
    Submodule,
    /// Above [`BIG_FILE_BYTES`]: not read.
    TooLarge,
}

impl Blobs {
    /// Reads the packed blobs of `entries`, shallowest in their delta chains
    /// first. Never fails: a blob that cannot be probed or read here is read
    /// again on demand, which reports the error with its path.
    pub(super) fn preload(repo: &gix::Repository, entries: &[Entry]) -> Blobs {
        let mut ids: Vec<ObjectId> = entries
            .iter()
            .flat_map(|entry| [entry.old, entry.new])
            .flatten()
            .filter(|side| !side.mode.is_commit())
            .map(|side| side.id)
            .collect();
        ids.sort_unstable();
        ids.dedup();

        let mut packed = Vec::new();
        let mut big = HashSet::new();
        let mut budget = PRELOAD_BYTES;
        let mut loose_in_a_row = 0;
        for id in ids {
            match repo.find_header(id) {
                Ok(Header::Packed(header)) => {
                    loose_in_a_row = 0;
                    if header.object_size > BIG_FILE_BYTES {
                        big.insert(id);
                    } else if header.object_size <= budget {
                        budget -= header.object_size;
                        packed.push((header.num_deltas, id));
                    }
                }
                Ok(Header::Loose { .. }) => {
                    loose_in_a_row += 1;
                    if loose_in_a_row >= LOOSE_PROBES && packed.is_empty() {
                        break;
                    }
                }
                Err(_) => {}
            }
        }
        packed.sort_unstable();
        let read = packed
            .into_iter()
            .filter_map(|(_, id)| Some((id, repo.find_blob(id).ok()?.take_data())))
            .collect();
        Blobs { read, big }
    }

    /// One side of an entry: empty bytes when the side is absent.
    pub(super) fn content<'a>(
        &'a self,
        repo: &gix::Repository,
        side: Option<&Side>,
        path: &str,
    ) -> Result<Content<'a>, GitError> {
        let Some(side) = side else {
            return Ok(Content::Bytes(Cow::Borrowed(&[])));
        };
        if side.mode.is_commit() {
            return Ok(Content::Submodule);
        }
        if let Some(data) = self.read.get(&side.id) {
            return Ok(Content::Bytes(Cow::Borrowed(data)));
        }
        if self.big.contains(&side.id) {
            return Ok(Content::TooLarge);
        }
        let error = |err: &dyn std::fmt::Display| {
            GitError::object(
                format_args!("reading {path} ({})", side.id),
                err.to_string(),
            )
        };
        // Deflate shrinks data 1032 times at the most, so a small loose file
        // cannot hold a big blob: read it the usual way. A larger one says
        // its size in its header, before its content is inflated.
        let loose = crate::stream::loose_path(repo, &side.id);
        let compressed = std::fs::metadata(&loose).map(|m| m.len());
        if compressed
            .as_ref()
            .is_ok_and(|&len| len <= BIG_FILE_BYTES / 1032)
        {
            let mut blob = repo.find_blob(side.id).map_err(|e| error(&e))?;
            return Ok(Content::Bytes(Cow::Owned(blob.take_data())));
        }
        let opened = match compressed {
            Ok(_) => crate::stream::open_loose(&loose).map_err(|e| error(&e))?,
            Err(_) => None,
        };
        if let Some((mut reader, size)) = opened {
            if size > BIG_FILE_BYTES {
                return Ok(Content::TooLarge);
            }
            let mut data = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            reader.read_to_end(&mut data).map_err(|e| error(&e))?;
            return Ok(Content::Bytes(Cow::Owned(data)));
        }
        if let Ok(header) = repo.find_header(side.id)
            && header.size() > BIG_FILE_BYTES
        {
            return Ok(Content::TooLarge);
        }
        let mut blob = repo.find_blob(side.id).map_err(|e| error(&e))?;
        Ok(Content::Bytes(Cow::Owned(blob.take_data())))
    }
}
