//! The artifacts of one run: what its steps stored, by name, so that later
//! steps can read them as datasets (`dataset.open(artifact(NAME))`).

use andon_host::{ReadError, Stream};

/// The artifacts the steps of one run have stored so far, by name.
#[derive(Debug, Default)]
pub struct RunArtifacts {}

impl RunArtifacts {
    /// The artifact an earlier step stored under `name`.
    pub fn open(&self, _name: &str) -> Result<Stream, ReadError> {
        Err(ReadError::NotFound)
    }
}
