//! The guest SDK for andon plugins.
//!
//! Write a plugin as a type implementing [`Plugin`] (`describe`, and `run`
//! over the invocation and a `&dyn Host`), export it with
//! [`plugin!`](crate::plugin), and test its logic natively with
//! [`testing::FakeHost`] and [`testing::event`].
//!
//! It owns the one `wit_bindgen::generate!` site for the `andon:plugin@0.2.0`
//! world and re-exports the generated items under stable paths:
//!
//! - [`types`]: the WIT `types` interface (`Invocation`, `Action`, `Manifest`…)
//! - [`host`]: the functions the host offers (`changed_files`, `read_file`…)
//! - [`Guest`]: the trait a plugin implements
//! - [`export!`]: the macro that makes a type the component's export
//!
//! ```ignore
//! struct MyPlugin;
//! impl andon_pdk::Guest for MyPlugin { /* describe, run */ }
//! andon_pdk::export!(MyPlugin);
//! ```
//!
//! Everything else here ([`config`], [`glob`]) is plain Rust that compiles and
//! runs natively, so plugin logic can be unit-tested without a wasm runtime.
//! The host imports are only callable inside a component: natively they are
//! stubs that panic, which is why plugins keep their logic apart from glue.

// The generated `export!` macro and its docs name this crate by path, both
// from plugin crates and from here.
extern crate self as andon_pdk;

pub mod glob;
pub mod owners;

mod config;
mod sdk;

pub use config::{checked_config, config, non_empty, parse_config};
pub use sdk::{Host, Plugin, RepoPermission, WasmHost, read_error_message};

/// The generated bindings. Use the re-exports instead; the layout of this
/// module follows wit-bindgen and may change with it.
#[doc(hidden)]
pub mod bindings {
    #![allow(
        unsafe_code,
        reason = "wit-bindgen's generated glue is unsafe canonical ABI code"
    )]
    #![allow(
        unused_qualifications,
        clippy::all,
        reason = "generated code is not ours to restyle"
    )]

    wit_bindgen::generate!({
        path: "../../wit",
        world: "plugin",
        pub_export_macro: true,
        export_macro_name: "export",
        default_bindings_module: "andon_pdk::bindings",
        runtime_path: "andon_pdk::bindings::__rt",
    });

    #[doc(hidden)]
    pub use wit_bindgen::rt as __rt;
}

/// The WIT `types` interface: the values shared by host and plugin.
pub mod types {
    pub use crate::bindings::andon::plugin::types::*;
}

/// The host functions: read-only, scoped to the event's repository.
pub use bindings::andon::plugin::host;

/// Datasets the host parses into typed column batches (CSV, JSON Lines).
pub use bindings::andon::plugin::dataset;

pub mod testing;

/// A slash command for a manifest's `commands`.
pub fn command_info(name: &str, usage: &str, description: &str) -> types::CommandInfo {
    types::CommandInfo {
        name: name.into(),
        usage: usage.into(),
        description: description.into(),
    }
}

/// A dataset error as a phrase for a message: `not found (data/x.csv)`,
/// `no column `email``, `malformed: line 3: …`.
pub fn dataset_error_message(error: dataset::DatasetError) -> String {
    use dataset::DatasetError;
    match error {
        DatasetError::NotFound(m) => format!("not found ({m})"),
        DatasetError::InvalidSource(m) => format!("invalid source: {m}"),
        DatasetError::MissingColumn(c) => format!("no column `{c}`"),
        DatasetError::Malformed(m) => format!("malformed: {m}"),
        DatasetError::Other(m) => m,
    }
}

/// A dataset as workflows and suites name it: `artifact:NAME` is the
/// newest artifact of that name (stored by an earlier step of the run, or
/// else by the newest earlier run that succeeded), anything else a file of
/// the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatasetName {
    File(String),
    Artifact(String),
}

impl DatasetName {
    /// Reads `text`, trimmed, without a leading `./` on a path.
    pub fn parse(text: &str) -> Result<DatasetName, String> {
        let text = text.trim();
        match text.strip_prefix("artifact:").map(str::trim) {
            Some("") => Err("`artifact:` needs a name, e.g. `artifact:orders_clean.csv`".into()),
            Some(name) => Ok(DatasetName::Artifact(name.to_string())),
            None if text.is_empty() => Err("the path is empty".into()),
            None => Ok(DatasetName::File(text.trim_start_matches("./").to_string())),
        }
    }

    /// Where the host reads it, a file at `side`.
    pub fn source(&self, side: types::Side) -> dataset::Source {
        match self {
            DatasetName::File(path) => dataset::Source::File((side, path.clone())),
            DatasetName::Artifact(name) => dataset::Source::Artifact(name.clone()),
        }
    }
}

/// The trait a plugin implements: `describe` and `run`.
pub use bindings::Guest;

/// Makes a type that implements [`Guest`] the component's export:
/// `andon_pdk::export!(MyPlugin);`.
pub use bindings::export;

#[cfg(test)]
mod tests {
    use super::DatasetName;

    #[test]
    fn dataset_names_are_artifacts_or_paths() {
        let parse = |text: &str| DatasetName::parse(text);
        assert_eq!(
            parse(" artifact: orders_clean.csv "),
            Ok(DatasetName::Artifact("orders_clean.csv".into()))
        );
        assert_eq!(
            parse("./data/orders.csv"),
            Ok(DatasetName::File("data/orders.csv".into()))
        );
        assert!(parse("artifact:").is_err_and(|e| e.contains("needs a name")));
        assert!(parse("  ").is_err_and(|e| e.contains("empty")));
    }
}
