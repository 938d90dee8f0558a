//! Checks on repository-relative paths before they reach a tree lookup.

use crate::GitError;

/// Accepts only a plain `/`-separated path relative to the repository root:
/// not empty, not absolute, no `.`, `..` or empty components, no backslashes
/// and no NUL bytes.
pub fn validate_path(path: &str) -> Result<(), GitError> {
    let refuse = |reason| {
        Err(GitError::InvalidPath {
            path: path.to_owned(),
            reason,
        })
    };
    if path.is_empty() {
        return refuse("path is empty");
    }
    if path.starts_with('/') {
        return refuse("path is absolute");
    }
    if path.contains('\\') {
        return refuse("path contains a backslash");
    }
    if path.contains('\0') {
        return refuse("path contains a NUL byte");
    }
    for component in path.split('/') {
        match component {
            "" => return refuse("path has an empty component"),
            "." => return refuse("path has a `.` component"),
            ".." => return refuse("path has a `..` component"),
            _ => {}
        }
    }
    Ok(())
}

/// The components of a path that passed [`validate_path`].
pub(crate) fn components(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
}
