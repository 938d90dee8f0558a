//! The errors of every repository operation, free of gix types.

use std::path::PathBuf;

/// What went wrong while reading a repository.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// The path is not a git work tree or bare repository, or it could not
    /// be read.
    #[error("cannot open git repository at {}: {message}", path.display())]
    Open { path: PathBuf, message: String },
    /// The revision does not name anything in the repository (or is not a
    /// valid revision spec).
    #[error("revision not found: {rev}")]
    RevNotFound { rev: String },
    /// The revision names an object that does not peel to a commit, such as
    /// a tree or a blob.
    #[error("revision {rev} is not a commit")]
    NotACommit { rev: String },
    /// A repository path was refused before any lookup.
    #[error("invalid path {path:?}: {reason}")]
    InvalidPath { path: String, reason: &'static str },
    /// The object database failed or holds a broken object.
    #[error("git object error: {0}")]
    Object(String),
}

impl GitError {
    /// True when the caller named something that does not exist, as opposed
    /// to a broken repository or a refused input.
    pub fn is_not_found(&self) -> bool {
        matches!(self, GitError::RevNotFound { .. })
    }

    /// Wraps a gix failure with what we were doing when it happened.
    pub(crate) fn object(context: impl std::fmt::Display, err: impl std::fmt::Display) -> Self {
        GitError::Object(format!("{context}: {err}"))
    }
}
