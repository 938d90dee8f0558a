//! End-to-end tests: the real `andon` binary, real git repositories built
//! by script, the real bundled plugins.

mod browser;
mod cases;
mod cli;
mod dashboard;
mod data;
mod etl;
mod metrics;
mod model;
mod observability;
mod plugin_cli;
mod promote;
mod python;
mod review;
mod schedule;
mod serve;
mod server;
mod support;
