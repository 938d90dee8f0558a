//! andon: a Git-native workflow bot and data/ML-ops task runner.
//!
//! The binary wires the adapters together: the command line, the pipeline
//! that turns an event and workflows into runs, and the reports.

mod activity;
mod artifacts;
mod cli;
mod inputs;
mod model;
mod pipeline;
mod plugin_cmd;
mod plugins;
mod report;
mod serve;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
