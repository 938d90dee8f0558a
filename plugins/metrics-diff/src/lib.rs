//! `metrics-diff`: compares metrics and params files between the base and head of a pull request.

use andon_pdk::Guest;
use andon_pdk::types::{Action, Invocation, Manifest, PluginError};

struct Plugin;

impl Guest for Plugin {
    fn describe() -> Manifest {
        Manifest {
            name: "metrics-diff".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description:
                "compares metrics and params files between the base and head of a pull request"
                    .into(),
            events: Vec::new(),
            commands: Vec::new(),
            permissions: Vec::new(),
            config_schema: None,
        }
    }

    fn run(_inv: Invocation) -> Result<Vec<Action>, PluginError> {
        Ok(Vec::new())
    }
}

andon_pdk::export!(Plugin);
