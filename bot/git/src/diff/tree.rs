//! Which files differ between two trees, with renames detected like
//! `git diff -M` (50% similarity, no copies).

use std::ops::ControlFlow;

use andon_core::change::FileStatus;
use gix::ObjectId;
use gix::diff::tree::recorder::Location;
use gix::diff::tree_with_rewrites::{ChangeRef, Options};
use gix::objs::TreeRefIter;
use gix::objs::tree::EntryMode;

use super::{Entry, Side};
use crate::GitError;

/// The changed files (never directories), in no particular order.
pub(super) fn changed_entries(
    repo: &gix::Repository,
    base: &gix::Tree<'_>,
    head: &gix::Tree<'_>,
) -> Result<Vec<Entry>, GitError> {
    let mut resource_cache = resource_cache(repo)?;
    let options = Options {
        location: Some(Location::Path),
        rewrites: Some(gix::diff::Rewrites::default()),
    };
    let mut entries = Vec::new();
    gix::diff::tree_with_rewrites(
        TreeRefIter::from_bytes(&base.data, base.id.kind()),
        TreeRefIter::from_bytes(&head.data, head.id.kind()),
        &mut resource_cache,
        &mut Default::default(),
        &repo.objects,
        |change| {
            entries.extend(entry(change));
            Ok(ControlFlow::Continue(()))
        },
        options,
    )
    .map_err(|err| GitError::object("diffing trees", err))?;
    Ok(entries)
}

/// A blob cache for similarity checks during rename tracking. It gets no
/// attributes from an index or work tree: the bot diffs commits, and
/// building an index from `HEAD` in a bare repository would cost a full tree
/// walk on every call.
fn resource_cache(repo: &gix::Repository) -> Result<gix::diff::blob::Platform, GitError> {
    let fail = |err: gix::Error| GitError::object("preparing the diff", err);
    let no_index = gix::index::State::new(repo.object_hash());
    let attributes = repo
        .attributes_only(
            &no_index,
            gix::worktree::stack::state::attributes::Source::IdMapping,
        )
        .map_err(fail)?
        .detach();
    gix::diff::resource_cache(
        repo,
        gix::diff::blob::pipeline::Mode::ToGit,
        attributes,
        Default::default(),
    )
    .map_err(fail)
}

/// The file-level view of a tree change; `None` for directories.
fn entry(change: ChangeRef<'_>) -> Option<Entry> {
    let side = |id: ObjectId, mode: EntryMode| (!mode.is_tree()).then_some(Side { id, mode });
    let path = |location: &gix::bstr::BStr| location.to_string();
    let (path, old_path, old, new) = match change {
        ChangeRef::Addition {
            location,
            entry_mode,
            id,
            ..
        } => (path(location), None, None, side(id, entry_mode)),
        ChangeRef::Deletion {
            location,
            entry_mode,
            id,
            ..
        } => (path(location), None, side(id, entry_mode), None),
        ChangeRef::Modification {
            location,
            previous_entry_mode,
            previous_id,
            entry_mode,
            id,
        } => (
            path(location),
            None,
            side(previous_id, previous_entry_mode),
            side(id, entry_mode),
        ),
        ChangeRef::Rewrite {
            source_location,
            source_entry_mode,
            source_id,
            location,
            entry_mode,
            id,
            copy,
            ..
        } => (
            path(location),
            (!copy).then(|| path(source_location)),
            // A copy leaves its source in place: it is an addition here.
            (!copy)
                .then(|| side(source_id, source_entry_mode))
                .flatten(),
            side(id, entry_mode),
        ),
    };
    let status = match (&old, &new, &old_path) {
        (None, None, _) => return None,
        (None, Some(_), _) => FileStatus::Added,
        (Some(_), None, _) => FileStatus::Deleted,
        (Some(_), Some(_), Some(_)) => FileStatus::Renamed,
        (Some(_), Some(_), None) => FileStatus::Modified,
    };
    Some(Entry {
        path,
        old_path,
        status,
        old,
        new,
    })
}
