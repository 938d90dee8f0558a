//! Test kit for andon's end-to-end tests and benchmarks:
//!
//! - [`github`]: [`FakeGitHub`], a fake GitHub REST API over real HTTP with
//!   inspectable state and fault injection;
//! - [`webhook`]: signed deliveries built from real payload fixtures;
//! - [`load`]: a webhook load generator over keep-alive connections;
//! - [`client`]: the small HTTP/1.1 client all of them share.

pub mod client;
pub mod github;
pub mod load;
pub mod webhook;

pub use github::FakeGitHub;
