//! What changed between two revisions, as the git adapter reports it and
//! plugins see it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    Added,
    Modified,
    Deleted,
    Renamed,
}

/// One changed file with its line counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangedFile {
    /// `/`-separated path relative to the repository root (the new path of a
    /// rename).
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_path: Option<String>,
    pub status: FileStatus,
    pub added: u32,
    pub removed: u32,
    /// A NUL in the first 8,000 bytes of either side, or either side over
    /// 16 MiB (not diffed, like git's `core.bigFileThreshold`).
    pub binary: bool,
}

/// One added line, numbered in the head revision (1-based).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddedLine {
    pub line: u32,
    pub text: String,
}

/// Which side of a change to read a file from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Base,
    Head,
}

/// Check that `path` stays inside the repository: a plain `/`-separated
/// path relative to the root, not empty, not absolute, with no `.`, `..` or
/// empty components, no backslashes and no NUL bytes. Plugins name files
/// with it, so it is checked before any lookup; the reason says what is
/// wrong.
pub fn validate_repo_path(path: &str) -> Result<(), &'static str> {
    if path.is_empty() {
        return Err("path is empty");
    }
    if path.starts_with('/') {
        return Err("path is absolute");
    }
    if path.contains('\\') {
        return Err("path contains a backslash");
    }
    if path.contains('\0') {
        return Err("path contains a NUL byte");
    }
    for component in path.split('/') {
        match component {
            "" => return Err("path has an empty component"),
            "." => return Err("path has a `.` component"),
            ".." => return Err("path has a `..` component"),
            _ => {}
        }
    }
    Ok(())
}

/// A changed file together with its added lines.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Change {
    pub files: Vec<ChangedFile>,
    /// Added lines per file, in the order of `files` (empty for binary and
    /// deleted files).
    pub added_lines: Vec<Vec<AddedLine>>,
}

impl Change {
    /// The added lines of `path`, or an empty slice.
    pub fn added_lines(&self, path: &str) -> &[AddedLine] {
        self.files
            .iter()
            .position(|f| f.path == path)
            .and_then(|i| self.added_lines.get(i))
            .map_or(&[], Vec::as_slice)
    }

    /// The changed paths, for `paths:` filters.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.iter().map(|f| f.path.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_must_stay_in_the_repository() {
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../b",
            "a//b",
            "./a",
            "a\\b",
            "a/.",
        ] {
            assert!(
                validate_repo_path(bad).is_err(),
                "{bad:?} should be refused"
            );
        }
        for good in ["a", "a/b.txt", ".andon/workflows/x.yml", "a..b"] {
            assert!(
                validate_repo_path(good).is_ok(),
                "{good:?} should be allowed"
            );
        }
    }
}
