//! How values and keys are laid out in every tree: JSON values, big-endian
//! `u64` keys (so that sled's byte order is numeric order), and the
//! newest-first walk that listings share.

use serde::Serialize;
use serde::de::DeserializeOwned;
use sled::transaction::{ConflictableTransactionError, ConflictableTransactionResult, abort};

use crate::error::StoreError;

/// The value of an index entry that only needs its key.
pub(crate) const EMPTY: &[u8] = &[];

/// Append `text` to an index key as one part ended by a 0 byte. A 0 byte
/// inside the text (which would end the part early) is written as U+FFFD:
/// readers check each entry they find against what they asked for, so the
/// rare clash costs a skipped entry, never a wrong answer.
pub(crate) fn push_key_part(key: &mut Vec<u8>, text: &str) {
    if text.contains('\0') {
        key.extend_from_slice(text.replace('\0', "\u{FFFD}").as_bytes());
    } else {
        key.extend_from_slice(text.as_bytes());
    }
    key.push(0);
}

/// Serialize inside a transaction, where a failure must abort it.
pub(crate) fn encode<T: Serialize>(
    value: &T,
    what: &str,
) -> ConflictableTransactionResult<Vec<u8>, StoreError> {
    serde_json::to_vec(value).or_else(|error| {
        abort(StoreError::Backend(format!(
            "cannot serialize {what}: {error}"
        )))
    })
}

/// Parse a stored value; anything unreadable is corruption, not a panic.
pub(crate) fn decode<T: DeserializeOwned>(
    bytes: &[u8],
    what: &str,
    id: u64,
) -> Result<T, StoreError> {
    serde_json::from_slice(bytes)
        .map_err(|error| StoreError::corrupt(format!("{what} {id}: {error}")))
}

/// A stored big-endian `u64` value.
pub(crate) fn decode_u64(bytes: &[u8], what: &str) -> Result<u64, StoreError> {
    <[u8; 8]>::try_from(bytes)
        .map(u64::from_be_bytes)
        .map_err(|_| StoreError::corrupt(format!("{what} is {} bytes, not 8", bytes.len())))
}

/// A big-endian `u64` key.
pub(crate) fn key_u64(key: &[u8], what: &str) -> Result<u64, StoreError> {
    <[u8; 8]>::try_from(key)
        .map(u64::from_be_bytes)
        .map_err(|_| StoreError::corrupt(format!("{what} key {} is not 8 bytes", hex::encode(key))))
}

/// Carry a store error out of a transaction, aborting it.
pub(crate) fn in_tx<T>(
    result: Result<T, StoreError>,
) -> ConflictableTransactionResult<T, StoreError> {
    result.map_err(ConflictableTransactionError::Abort)
}

/// The entries of a tree keyed by big-endian `u64`, highest key first,
/// starting below `before` when it is given (the paging cursor).
pub(crate) fn newest_first(tree: &sled::Tree, before: Option<u64>) -> std::iter::Rev<sled::Iter> {
    match before {
        Some(before) => tree.range(..before.to_be_bytes()),
        None => tree.iter(),
    }
    .rev()
}
