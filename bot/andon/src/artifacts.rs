//! The artifacts of one run: what its steps stored, by name, so that later
//! steps can read them as datasets (`dataset.open(artifact(NAME))`).

use std::path::Path;
use std::process::ExitCode;

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

/// `andon artifacts`.
#[derive(Debug, clap::Args)]
pub struct ArtifactsArgs {}

/// Runs `andon artifacts …`.
pub fn command(_data_dir: &Path, _args: &ArtifactsArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`andon artifacts` is not built yet")
}
