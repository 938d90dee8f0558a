//! The blob contents of a change. Packed blobs are read up front in order of
//! delta-chain depth, so that each one resolves from its freshly cached base
//! instead of inflating its whole chain again: gix caches the objects it
//! returns, not the bases it passes through. Loose blobs are read on demand,
//! as the line diffs reach them.

use std::borrow::Cow;
use std::collections::HashMap;

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

/// Blobs read ahead of the line diffs, by id.
pub(super) struct Blobs {
    read: HashMap<ObjectId, Vec<u8>>,
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
        let mut budget = PRELOAD_BYTES;
        let mut loose_in_a_row = 0;
        for id in ids {
            match repo.find_header(id) {
                Ok(Header::Packed(header)) => {
                    loose_in_a_row = 0;
                    if header.object_size <= budget {
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
        Blobs { read }
    }

    /// The bytes of one side of an entry: empty when the side is absent,
    /// `None` for a submodule.
    pub(super) fn content<'a>(
        &'a self,
        repo: &gix::Repository,
        side: Option<&Side>,
        path: &str,
    ) -> Result<Option<Cow<'a, [u8]>>, GitError> {
        let Some(side) = side else {
            return Ok(Some(Cow::Borrowed(&[])));
        };
        if side.mode.is_commit() {
            return Ok(None);
        }
        if let Some(data) = self.read.get(&side.id) {
            return Ok(Some(Cow::Borrowed(data)));
        }
        let mut blob = repo
            .find_blob(side.id)
            .map_err(|err| GitError::object(format_args!("reading {path} ({})", side.id), err))?;
        Ok(Some(Cow::Owned(blob.take_data())))
    }
}
