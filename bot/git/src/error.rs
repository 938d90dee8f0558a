//! The errors of every repository and mirror operation, free of gix types.

use std::path::PathBuf;

/// What went wrong while reading a repository or syncing a mirror.
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
    /// A mirror was asked for by a name that is not `owner/name` made of
    /// safe characters.
    #[error("invalid repository name {repository:?}: {reason}")]
    InvalidRepository {
        repository: String,
        reason: &'static str,
    },
    /// A mirror's URL was refused. The URL itself is left out: it may hold
    /// a secret.
    #[error("invalid remote URL: {reason}")]
    InvalidUrl { reason: &'static str },
    /// A wanted commit is not a full hex object id.
    #[error("invalid commit id {id:?}: expected a full hex object id")]
    InvalidCommitId { id: String },
    /// Cloning or fetching a mirror failed.
    #[error("fetching {repository} failed: {message}")]
    Fetch {
        repository: String,
        message: String,
        /// False when retrying as is cannot help: refused credentials, a
        /// missing remote repository, an unsupported server.
        transient: bool,
    },
    /// A wanted commit is still missing after fetching: not pushed yet, or
    /// gone with a force-push.
    #[error("commit {commit} is not in {repository} after fetching")]
    MissingCommit { repository: String, commit: String },
    /// The mirror's directory could not be prepared.
    #[error("cannot prepare the mirror at {}: {message}", path.display())]
    Mirror { path: PathBuf, message: String },
}

impl GitError {
    /// True when the caller named something that does not exist, as opposed
    /// to a broken repository or a refused input.
    pub fn is_not_found(&self) -> bool {
        matches!(self, GitError::RevNotFound { .. })
    }

    /// True when the same call may succeed later: a network failure, or a
    /// wanted commit that the remote may not serve yet (GitHub can send a
    /// webhook before the pushed commit is fetchable).
    pub fn is_transient(&self) -> bool {
        match self {
            GitError::Fetch { transient, .. } => *transient,
            GitError::MissingCommit { .. } => true,
            _ => false,
        }
    }

    /// A failed clone or fetch of `repository`, with gix's whole chain of
    /// causes.
    pub(crate) fn fetch(repository: &str, err: &gix::Error) -> Self {
        use gix::error::Class;
        let transient = !matches!(
            err.dominant_class(),
            Some(
                Class::Validation
                    | Class::Unsupported
                    | Class::Unauthenticated
                    | Class::PermissionDenied
                    | Class::NotFound
            )
        );
        GitError::Fetch {
            repository: repository.to_owned(),
            message: chain(err),
            transient,
        }
    }

    /// Wraps a gix failure with what we were doing when it happened.
    pub(crate) fn object(context: impl std::fmt::Display, err: impl std::fmt::Display) -> Self {
        GitError::Object(format!("{context}: {err}"))
    }
}

/// `err` and its sources, outermost first, joined by `: `.
fn chain(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !text.is_empty() && !message.ends_with(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}
