//! `etl`: select, rename, filter, derive, deduplicate, aggregate and join datasets into artifacts.

use andon_pdk::Guest;
use andon_pdk::types::{Action, EventKind, Invocation, Manifest, Permission, PluginError};

struct Plugin;

impl Guest for Plugin {
    fn describe() -> Manifest {
        Manifest {
            name: "etl".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "select, rename, filter, derive, deduplicate, aggregate and join datasets into artifacts".into(),
            events: vec![EventKind::PullRequest, EventKind::Push, EventKind::Manual, EventKind::Comment, EventKind::Schedule],
            commands: Vec::new(),
            permissions: vec![Permission::Checks],
            config_schema: None,
        }
    }

    fn run(_inv: Invocation) -> Result<Vec<Action>, PluginError> {
        Err(PluginError::Failed("not built yet".into()))
    }
}

andon_pdk::export!(Plugin);
