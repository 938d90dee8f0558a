//! `model-register`: on a push that changes a model's file (its `path` in
//! GTO's `artifacts.yaml`), asks for the model's next version: the host
//! tags `NAME@vX.Y.Z` on the pushed commit, with the file's sha256, the
//! metrics file the step names and the run in the tag message.
//!
//! The decisions are in [`plan`], tested natively; this file reads the
//! repository through the host and hashes the model as a stream.

pub mod plan;

use andon_pdk::types::{
    Action, EventKind, Invocation, LogLevel, Manifest, Permission, PluginError, RegisterVersion,
    Side,
};
use andon_pdk::{Guest, host};
use sha2::{Digest, Sha256};

use crate::plan::Config;

const CONFIG_SCHEMA: &str = r#"{
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "models": { "type": "array", "items": { "type": "string" } },
    "bump": { "enum": ["patch", "minor", "major"], "default": "patch" },
    "metrics": {
      "oneOf": [
        { "type": "string" },
        { "type": "object", "additionalProperties": { "type": "string" } }
      ]
    }
  }
}"#;

struct ModelRegister;

impl Guest for ModelRegister {
    fn describe() -> Manifest {
        Manifest {
            name: "model-register".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description:
                "registers a model's next version (a GTO tag) when a push changes its file".into(),
            events: vec![EventKind::Push, EventKind::Manual],
            commands: Vec::new(),
            permissions: vec![Permission::Registry],
            config_schema: Some(CONFIG_SCHEMA.into()),
        }
    }

    fn run(inv: Invocation) -> Result<Vec<Action>, PluginError> {
        let cfg: Config = andon_pdk::config(&inv)?;
        cfg.check().map_err(PluginError::InvalidConfig)?;
        // A pull request proposes a model; only what lands is registered.
        if !matches!(inv.event.kind, EventKind::Push | EventKind::Manual) {
            host::log(
                LogLevel::Info,
                "models are registered on pushes (and manual runs), not on this event",
            );
            return Ok(Vec::new());
        }
        let yaml = match host::read_file(Side::Head, "artifacts.yaml") {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(andon_pdk::types::ReadError::NotFound) => {
                return Err(PluginError::Failed(
                    "no artifacts.yaml at the repository root: it names each model and its path, as GTO reads it".into(),
                ));
            }
            Err(error) => {
                return Err(PluginError::Failed(format!(
                    "cannot read artifacts.yaml: {error:?}"
                )));
            }
        };
        let models = plan::models(&yaml).map_err(PluginError::Failed)?;
        // Without a base (a first push, a manual run) every model counts as
        // changed.
        let changed: Option<Vec<String>> = inv
            .event
            .base
            .is_some()
            .then(|| host::changed_files().into_iter().map(|f| f.path).collect());
        let chosen = plan::changed_models(&models, changed.as_deref(), &cfg)
            .map_err(PluginError::InvalidConfig)?;
        let mut actions = Vec::new();
        for (name, path) in chosen {
            let content_hash = sha256(&path)?;
            let metrics = match cfg.metrics_for(&name) {
                Some(file) => Some(metrics(&file)?),
                None => None,
            };
            host::log(
                LogLevel::Info,
                &format!(
                    "{name}: {path} changed; registering its next {} version",
                    cfg.bump_name()
                ),
            );
            actions.push(Action::RegisterVersion(RegisterVersion {
                name,
                version: None,
                bump: cfg.bump(),
                path: Some(path),
                content_hash,
                metrics,
            }));
        }
        if actions.is_empty() {
            host::log(LogLevel::Info, "no model file changed: nothing to register");
        }
        Ok(actions)
    }
}

/// The file's sha256 at head, read as a stream; `None` for a folder model.
fn sha256(path: &str) -> Result<Option<String>, PluginError> {
    let blob = match host::open_blob(Side::Head, path) {
        Ok(blob) => blob,
        // A model kept as a folder, or deleted by the push: no single hash.
        Err(
            andon_pdk::types::ReadError::NotFound | andon_pdk::types::ReadError::InvalidPath(_),
        ) => {
            return Ok(None);
        }
        Err(error) => {
            return Err(PluginError::Failed(format!(
                "cannot read {path}: {error:?}"
            )));
        }
    };
    let mut hasher = Sha256::new();
    loop {
        let chunk = blob.read(1 << 20);
        if chunk.is_empty() {
            break;
        }
        hasher.update(&chunk);
    }
    Ok(Some(hex::encode(hasher.finalize())))
}

/// The metrics file at head as one compact JSON object.
fn metrics(path: &str) -> Result<String, PluginError> {
    let bytes = host::read_file(Side::Head, path)
        .map_err(|e| PluginError::Failed(format!("cannot read the metrics file {path}: {e:?}")))?;
    plan::metrics_json(path, &String::from_utf8_lossy(&bytes)).map_err(PluginError::Failed)
}

andon_pdk::export!(ModelRegister);
