//! `metrics-diff`: compares metrics and params files (JSON, YAML, TOML)
//! between the base and head of a pull request, as `dvc metrics diff` and
//! `dvc params diff` do, and posts the table as a sticky comment and as the
//! step output `metrics_diff`.
//!
//! The logic is plain Rust, tested natively: [`config`] reads `with:`,
//! [`select`] picks the files, [`flatten`] parses them into keys, [`diff`]
//! compares, [`render`] writes the comment. This file is the glue: host
//! calls in, actions out.

pub mod config;
pub mod diff;
pub mod flatten;
pub mod render;
pub mod select;

use andon_pdk::types::{
    Action, ChangedFile, EventKind, FileStatus, Invocation, LogLevel, Manifest, Permission,
    PluginError, ReadError, Side,
};
use andon_pdk::{Guest, host};

use crate::config::Config;
use crate::diff::{FileError, Report};
use crate::flatten::Flat;
use crate::render::Revisions;
use crate::select::{Changed, Status, Target};

/// The JSON Schema of `with:`, published in the manifest.
const CONFIG_SCHEMA: &str = r#"{
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "metrics": { "type": "array", "items": { "type": "string" },
                 "default": ["metrics.json", "metrics.yaml", "metrics.yml", "metrics.toml"] },
    "params": { "type": "array", "items": { "type": "string" },
                "default": ["params.yaml", "params.yml", "params.json", "params.toml"] },
    "precision": { "type": "integer", "minimum": 1, "maximum": 17, "default": 5 },
    "all": { "type": "boolean", "default": false },
    "fail_on_error": { "type": "boolean", "default": false },
    "higher_is_better": { "type": "array", "items": { "type": "string" } },
    "lower_is_better": { "type": "array", "items": { "type": "string" } }
  }
}"#;

struct MetricsDiff;

impl Guest for MetricsDiff {
    fn describe() -> Manifest {
        Manifest {
            name: "metrics-diff".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description:
                "compares metrics and params files between the base and head of a pull request"
                    .into(),
            events: vec![
                EventKind::PullRequest,
                EventKind::Comment,
                EventKind::Manual,
            ],
            commands: Vec::new(),
            permissions: vec![Permission::Comment],
            config_schema: Some(CONFIG_SCHEMA.into()),
        }
    }

    fn run(inv: Invocation) -> Result<Vec<Action>, PluginError> {
        // The config is checked on every event, so a mistake shows up early.
        let cfg = config::parse(&inv.config).map_err(PluginError::InvalidConfig)?;
        let Some(base) = inv.event.base.as_deref() else {
            host::log(
                LogLevel::Info,
                "the event has no base revision: nothing to compare",
            );
            return Ok(Vec::new());
        };
        let changed: Vec<Changed> = host::changed_files().into_iter().map(changed).collect();
        let report = compare(&cfg, &select::targets(&cfg, &changed));
        for error in &report.errors {
            host::log(
                LogLevel::Warn,
                &format!("{}: not compared: {}", error.file, error.message),
            );
        }
        match serde_json::to_string(&report) {
            Ok(json) => {
                if let Err(error) = host::set_output("metrics_diff", &json) {
                    host::log(
                        LogLevel::Warn,
                        &format!("cannot set the metrics_diff output: {error}"),
                    );
                }
            }
            Err(error) => host::log(
                LogLevel::Warn,
                &format!("cannot encode the metrics diff: {error}"),
            ),
        }
        let revisions = Revisions {
            base,
            head: &inv.event.head,
        };
        let mut actions = vec![Action::Comment(render::markdown(
            &report,
            revisions,
            cfg.precision,
        ))];
        if cfg.fail_on_error && !report.errors.is_empty() {
            let files: Vec<&str> = report.errors.iter().map(|e| e.file.as_str()).collect();
            actions.push(Action::Fail(format!(
                "metrics-diff: cannot compare {}",
                files.join(", ")
            )));
        }
        Ok(actions)
    }
}

fn changed(file: ChangedFile) -> Changed {
    Changed {
        path: file.path,
        old_path: file.old_path,
        status: match file.status {
            FileStatus::Added => Status::Added,
            FileStatus::Modified => Status::Modified,
            FileStatus::Deleted => Status::Deleted,
            FileStatus::Renamed => Status::Renamed,
        },
    }
}

/// Reads and compares every target.
fn compare(cfg: &Config, targets: &[Target]) -> Report {
    let mut report = Report::default();
    for target in targets {
        let sides = read(target, Side::Base, target.base.as_deref()).and_then(|base| {
            read(target, Side::Head, target.head.as_deref()).map(|head| (base, head))
        });
        match sides {
            // Absent on both sides: a plain path of `all` that is nowhere.
            Ok((None, None)) => {}
            Ok((base, head)) => {
                report.files += 1;
                report.rows.extend(diff::diff_file(
                    target.kind,
                    &target.path,
                    base.as_ref(),
                    head.as_ref(),
                    &cfg.goals,
                    cfg.all,
                ));
            }
            Err(message) => report.errors.push(FileError {
                kind: target.kind,
                file: target.path.clone(),
                message,
            }),
        }
    }
    report
}

/// One side of a target, flattened; `None` when the file is not there.
fn read(target: &Target, side: Side, path: Option<&str>) -> Result<Option<Flat>, String> {
    let Some(path) = path else {
        return Ok(None);
    };
    let label = match side {
        Side::Base => "base",
        Side::Head => "head",
    };
    let bytes = match host::read_file(side, path) {
        Ok(bytes) => bytes,
        Err(ReadError::NotFound | ReadError::NoRevision) => return Ok(None),
        Err(ReadError::TooLarge(size)) => {
            return Err(format!("{label}: too large to read ({size} bytes)"));
        }
        Err(ReadError::InvalidPath(m) | ReadError::Other(m)) => {
            return Err(format!("{label}: cannot read: {m}"));
        }
    };
    let text = String::from_utf8(bytes).map_err(|_| format!("{label}: not UTF-8 text"))?;
    flatten::parse(target.format, &text)
        .map(Some)
        .map_err(|e| format!("{label}: {e}"))
}

andon_pdk::export!(MetricsDiff);
