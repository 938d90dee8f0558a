//! `size`: Prow-style `size/XS` … `size/XXL` labels on pull requests.
//!
//! The decision lives in [`plan`]; this file is the component glue: it asks
//! the host for the changed files once and turns the plan into actions.

pub mod plan;

use andon_pdk::types::{
    Action, ChangedFile, EventKind, Invocation, Manifest, Permission, PluginError,
};
use andon_pdk::{Guest, host};

use crate::plan::{Act, Config, FileStat, RawConfig};

/// The JSON Schema of `with:`, published in the manifest.
const CONFIG_SCHEMA: &str = r#"{
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "s": { "type": "integer", "minimum": 0, "default": 10 },
    "m": { "type": "integer", "minimum": 0, "default": 30 },
    "l": { "type": "integer", "minimum": 0, "default": 100 },
    "xl": { "type": "integer", "minimum": 0, "default": 500 },
    "xxl": { "type": "integer", "minimum": 0, "default": 1000 },
    "ignore": { "type": "array", "items": { "type": "string" } }
  }
}"#;

struct Size;

impl Guest for Size {
    fn describe() -> Manifest {
        Manifest {
            name: "size".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "labels pull requests size/XS to size/XXL by changed lines".into(),
            events: vec![EventKind::PullRequest, EventKind::Comment],
            commands: Vec::new(),
            permissions: vec![Permission::Labels],
            config_schema: Some(CONFIG_SCHEMA.into()),
        }
    }

    fn run(inv: Invocation) -> Result<Vec<Action>, PluginError> {
        // The config is checked on every event, so a mistake shows up early.
        let raw: RawConfig = andon_pdk::config(&inv)?;
        let cfg = Config::try_from(raw).map_err(PluginError::InvalidConfig)?;
        // A pull request, or a command on one (`/andon run review`).
        let on_pull_request = match inv.event.kind {
            EventKind::PullRequest => true,
            EventKind::Comment => inv.event.number.is_some(),
            _ => false,
        };
        if !on_pull_request {
            return Ok(Vec::new());
        }
        let files: Vec<FileStat> = host::changed_files().into_iter().map(file_stat).collect();
        Ok(plan::plan(&files, &inv.event.labels, &cfg)
            .into_iter()
            .map(action)
            .collect())
    }
}

fn file_stat(f: ChangedFile) -> FileStat {
    FileStat {
        path: f.path,
        added: f.added,
        removed: f.removed,
        binary: f.binary,
    }
}

fn action(act: Act) -> Action {
    match act {
        Act::AddLabel(l) => Action::AddLabel(l),
        Act::RemoveLabel(l) => Action::RemoveLabel(l),
    }
}

andon_pdk::export!(Size);
