//! The wasmtime plugin host: loads andon plugins (WebAssembly components
//! built against `wit/`), caches their compiled form on disk, and runs each
//! step in a fresh, bounded sandbox.
//!
//! No wasmtime type crosses this crate's boundary: callers see
//! [`PluginHost`], [`Plugin`], [`StepOutcome`] and the core domain types.
//! [`dataset`] is the native CSV and JSON Lines parser behind the WIT
//! `dataset` interface, public so that benches and native baselines parse
//! exactly as plugins see it.

mod bindings;
mod cache;
mod compat;
mod convert;
pub mod dataset;
mod dataset_host;
mod error;
mod host;
mod inputs;
mod inspect;
mod state;

pub use error::{LoadError, StepError};
pub use host::{DatasetRead, HostConfig, Instance, Invocation, Plugin, PluginHost, StepOutcome};
pub use inputs::{Blob, BytesBlob, EmptyInputs, NO_FORGE, ReadError, StepInputs, Stream};
pub use inspect::{Interfaces, Item, ItemKind, component_interfaces};

/// The WIT package version this host serves.
pub const WIT_VERSION: &str = "andon:plugin@0.2.0";

/// Every WIT package version this host serves, oldest first.
pub const WIT_VERSIONS: &[&str] = &["andon:plugin@0.1.0", "andon:plugin@0.2.0"];
