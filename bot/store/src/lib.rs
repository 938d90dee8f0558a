//! andon's durable state: the webhook inbox, run history, the outbox of
//! effects, plugin kv, content-addressed artifacts and the schema that holds
//! them, behind narrow traits.
//!
//! The pipeline depends on [`InboxStore`], [`RunStore`], [`OutboxStore`],
//! [`KvStore`], [`ArtifactStore`] and [`ScheduleStore`], not on sled:
//! [`Store`] is the embedded sled backend, and a PostgreSQL backend can
//! implement the same traits to serve several replicas. No sled type appears in this crate's public API.
//!
//! Each sled tree has one module that owns its key layout:
//! `meta` (schema version and counters), `inbox` (deliveries, their bodies,
//! the delivery id index and the pending index), `runs` (run records and
//! their summary index), `facets` (runs by repository, workflow and
//! status), `checks` (data-check history per dataset), `outbox` (effects, the idempotency key index, the
//! pending index and the run index), `kv`, `artifacts`, `schedules`
//! (schedules, their wake index, the repositories they were read from) and
//! `registry` (an index of model registry tags).
//! `codec` holds the encodings they share, `group_commit` lets concurrent flushes share one
//! disk flush, and `transfer` exports and imports every tree as JSON Lines.
//!
//! Every state change that must be atomic is one sled transaction; writes
//! are durable once [`Store::flush`] (or [`InboxStore::sync`]) returns, and
//! every operation documented as durable calls it before returning.

mod artifacts;
mod checks;
mod codec;
mod error;
mod facets;
mod group_commit;
mod inbox;
mod kv;
mod lineage;
mod meta;
mod outbox;
mod registry;
mod runs;
mod schedules;
mod store;
mod transfer;

pub use artifacts::ArtifactStore;
pub use artifacts::{ArtifactBlob, INLINE_MAX, blob_path, open_blob_file};
pub use checks::{CheckMetric, CheckPoint};
pub use error::StoreError;
pub use facets::RunFacet;
pub use inbox::{
    Accepted, DeliveryQuery, DeliveryRecord, DeliveryState, DeliveryStateKind, InboxStore,
    NewDelivery,
};
pub use kv::KvStore;
pub use lineage::{ArtifactSummary, ArtifactVersion, LineageStore};
pub use meta::SCHEMA_VERSION;
pub use outbox::{OutboxItem, OutboxState, OutboxStore};
pub use registry::{ReadTags, RegistryIndex, RegistrySync};
pub use runs::{RunQuery, RunStore, RunSummary};
pub use schedules::{ScheduleStore, SyncReport, SyncedRepo};
pub use store::Store;
