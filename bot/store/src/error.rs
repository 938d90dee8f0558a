//! What can go wrong in the store, with `is_transient` for callers that
//! retry.

use std::path::PathBuf;

use sled::transaction::TransactionError;

/// An error from the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store at {}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the store at {} is in use by another process", path.display())]
    Locked { path: PathBuf },
    #[error(
        "the store has schema version {found} but this andon supports up to {supported}; upgrade andon or use another data directory"
    )]
    SchemaTooNew { found: u64, supported: u64 },
    #[error("corrupt data in the store: {what}")]
    Corrupt { what: String },
    #[error("invalid kv namespace {namespace:?}: it must not contain a NUL byte")]
    InvalidNamespace { namespace: String },
    #[error("invalid artifact digest {digest:?}: expected 64 hex digits")]
    InvalidDigest { digest: String },
    #[error("the store is not empty; import into a fresh data directory")]
    NotEmpty,
    /// The delivery is no longer pending: another worker (or an earlier
    /// attempt of this one) has already processed or finished it, and
    /// nothing was changed.
    #[error("delivery {seq} was already processed")]
    AlreadyProcessed { seq: u64 },
    /// The outbox item is no longer pending; nothing was changed.
    #[error("outbox item {seq} is already finished")]
    EffectAlreadyFinished { seq: u64 },
    #[error("no {what} {seq} in the store")]
    NotFound { what: &'static str, seq: u64 },
    /// The caller asked for something the store cannot do, such as
    /// accepting a delivery without an id; a bug in the caller.
    #[error("invalid store request: {what}")]
    InvalidRequest { what: String },
    #[error("store io: {0}")]
    Io(String),
    /// sled reported a misuse or a bug of its own.
    #[error("store backend: {0}")]
    Backend(String),
}

impl StoreError {
    /// Whether retrying the same operation later may succeed.
    ///
    /// A lock held by another process goes away when it exits, and an IO
    /// error may be a full or busy disk; bad data, a newer schema and
    /// invalid input stay as they are.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Locked { .. } | StoreError::Io(_) => true,
            StoreError::Open { .. }
            | StoreError::SchemaTooNew { .. }
            | StoreError::Corrupt { .. }
            | StoreError::InvalidNamespace { .. }
            | StoreError::InvalidDigest { .. }
            | StoreError::NotEmpty
            | StoreError::AlreadyProcessed { .. }
            | StoreError::EffectAlreadyFinished { .. }
            | StoreError::NotFound { .. }
            | StoreError::InvalidRequest { .. }
            | StoreError::Backend(_) => false,
        }
    }

    pub(crate) fn corrupt(what: impl Into<String>) -> StoreError {
        StoreError::Corrupt { what: what.into() }
    }

    pub(crate) fn invalid(what: impl Into<String>) -> StoreError {
        StoreError::InvalidRequest { what: what.into() }
    }

    /// Not a `From` impl: that would put a sled type in the public API.
    pub(crate) fn from_sled(error: sled::Error) -> StoreError {
        match error {
            sled::Error::Io(io) => StoreError::Io(io.to_string()),
            sled::Error::Corruption { at, .. } => {
                StoreError::corrupt(format!("sled storage file at {at:?}"))
            }
            other => StoreError::Backend(other.to_string()),
        }
    }

    pub(crate) fn from_transaction(error: TransactionError<StoreError>) -> StoreError {
        match error {
            TransactionError::Abort(error) => error,
            TransactionError::Storage(error) => StoreError::from_sled(error),
        }
    }
}
