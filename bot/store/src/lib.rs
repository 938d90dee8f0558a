//! andon's durable state: run history, plugin kv, content-addressed
//! artifacts and the schema that holds them, behind narrow traits.
//!
//! The pipeline depends on [`RunStore`], [`KvStore`] and [`ArtifactStore`],
//! not on sled: [`Store`] is the embedded sled backend, and a PostgreSQL
//! backend can implement the same traits to serve several replicas. No sled
//! type appears in this crate's public API.
//!
//! Each sled tree has one module that owns its key layout:
//! `meta` (schema version, run id counter), `runs` (run records and their
//! summary index), `kv` and `artifacts`. `transfer` exports and imports
//! every tree as JSON Lines.

mod artifacts;
mod error;
mod kv;
mod meta;
mod runs;
mod store;
mod transfer;

pub use artifacts::ArtifactStore;
pub use error::StoreError;
pub use kv::KvStore;
pub use meta::SCHEMA_VERSION;
pub use runs::{RunQuery, RunStore, RunSummary};
pub use store::Store;
