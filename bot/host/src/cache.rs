//! Compiled components on disk, keyed by the component's sha256 and the
//! engine's compatibility hash, so a restart loads in a fraction of a
//! millisecond instead of recompiling, and an engine upgrade never loads a
//! stale artifact.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::Engine;
use wasmtime::component::Component;

/// Where the compiled form of the component with `sha256` lives.
pub fn path(dir: &Path, engine: &Engine, sha256: &str) -> PathBuf {
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    dir.join(format!("{sha256}-{:016x}.cwasm", hasher.finish()))
}

/// Load a compiled component, or `None` when absent or unusable (then the
/// caller compiles and stores it again).
pub fn load(engine: &Engine, file: &Path) -> Option<Component> {
    if !file.exists() {
        return None;
    }
    #[allow(
        unsafe_code,
        reason = "the file is andon's own compiled output, written by `store` into its data dir and keyed by the engine's compatibility hash"
    )]
    // SAFETY: see the reason above: only this module writes these files.
    let loaded = unsafe { Component::deserialize_file(engine, file) };
    match loaded {
        Ok(component) => Some(component),
        Err(error) => {
            tracing::warn!(file = %file.display(), %error, "ignoring unusable compiled plugin cache entry");
            None
        }
    }
}

/// Write `component`'s compiled form atomically (a temporary file renamed
/// into place), so a crash never leaves a truncated entry.
pub fn store(file: &Path, component: &Component) -> Result<(), String> {
    let bytes = component.serialize().map_err(|e| e.to_string())?;
    let dir = file.parent().ok_or("cache path has no parent")?;
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let tmp = file.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| e.to_string())?;
    std::fs::rename(&tmp, file).map_err(|e| e.to_string())
}
