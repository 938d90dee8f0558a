//! Checks on repository-relative paths before they reach a tree lookup.

use crate::GitError;

/// Accepts only a plain `/`-separated path relative to the repository root
/// (the rules are [`andon_core::change::validate_repo_path`]'s).
pub fn validate_path(path: &str) -> Result<(), GitError> {
    andon_core::change::validate_repo_path(path).map_err(|reason| GitError::InvalidPath {
        path: path.to_owned(),
        reason,
    })
}

/// The components of a path that passed [`validate_path`].
pub(crate) fn components(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
}
