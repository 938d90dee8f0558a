//! Test data for andon's data checks, and what they are measured against.
//!
//! - [`orders`]: a deterministic orders CSV generator (8 columns, any number
//!   of rows, a small seeded share of errors for each of the seven
//!   checks), streamed in constant memory.
//! - [`native`]: the same seven checks as plain native Rust over the `csv`
//!   crate, the baseline the `data-check` plugin must match exactly.
//! - [`measure`]: running a child process and taking its wall time, CPU time
//!   and peak memory, so the plugin and the baseline are measured alike.
//! - [`time`]: the few calendar conversions both need.

pub mod measure;
pub mod native;
pub mod orders;
pub mod time;
