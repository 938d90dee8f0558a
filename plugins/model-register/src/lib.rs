//! `model-register`: registers a new model version (a GTO tag) when a push changes the model's file.

use andon_pdk::Guest;
use andon_pdk::types::{Action, Invocation, Manifest, PluginError};

struct Plugin;

impl Guest for Plugin {
    fn describe() -> Manifest {
        Manifest {
            name: "model-register".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description:
                "registers a new model version (a GTO tag) when a push changes the model's file"
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
