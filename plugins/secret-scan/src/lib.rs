//! `secret-scan`: flags likely secrets in the added lines of a change.
//!
//! [`rules`] holds the patterns, [`scan`] the pure scan, [`report`] the
//! check run; this file is the component glue that feeds the scan from the
//! host. A secret never leaves the plugin except redacted.

pub mod report;
pub mod rules;
pub mod scan;

use andon_pdk::types::{
    Action, EventKind, FileStatus, Invocation, LogLevel, Manifest, Permission, PluginError,
};
use andon_pdk::{Guest, host};

use crate::scan::{Config, Line, RawConfig};

/// The JSON Schema of `with:`, published in the manifest.
const CONFIG_SCHEMA: &str = r#"{
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "allow": { "type": "array", "items": { "type": "string", "format": "regex" } },
    "paths_ignore": { "type": "array", "items": { "type": "string" } }
  }
}"#;

struct SecretScan;

impl Guest for SecretScan {
    fn describe() -> Manifest {
        Manifest {
            name: "secret-scan".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "fails a check when added lines contain likely secrets".into(),
            events: vec![EventKind::PullRequest, EventKind::Push],
            commands: Vec::new(),
            permissions: vec![Permission::Checks],
            config_schema: Some(CONFIG_SCHEMA.into()),
        }
    }

    fn run(inv: Invocation) -> Result<Vec<Action>, PluginError> {
        let raw: RawConfig = andon_pdk::config(&inv)?;
        let cfg = Config::try_from(raw).map_err(PluginError::InvalidConfig)?;
        if !matches!(inv.event.kind, EventKind::PullRequest | EventKind::Push) {
            return Ok(Vec::new());
        }
        let files = host::changed_files()
            .into_iter()
            .filter(|f| !f.binary && !matches!(f.status, FileStatus::Deleted))
            // `scan` skips ignored paths too; filtering here saves the host call.
            .filter(|f| !cfg.ignores_path(&f.path))
            .map(|f| {
                let lines = host::added_lines(&f.path)
                    .into_iter()
                    .map(|l| Line {
                        number: l.line,
                        text: l.text,
                    })
                    .collect();
                (f.path, lines)
            });
        let report = scan::scan(files, &cfg);
        host::log(LogLevel::Info, &report::log_line(&report));
        Ok(vec![Action::CheckRun(report::check_run(&report))])
    }
}

andon_pdk::export!(SecretScan);
