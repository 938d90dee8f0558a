//! The record of one workflow run, as the store keeps it and `andon runs`
//! shows it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::action::Action;
use crate::event::Event;
use crate::policy::Denied;

/// How a step or run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Ran and asked for nothing that fails the line.
    Success,
    /// Ran and failed its check (a `fail` action or a failed check run).
    Failure,
    /// Did not finish: a trap, an exhausted limit, a plugin error, or a
    /// plugin that could not be loaded.
    Error,
    /// Not run because an earlier step errored or the event did not apply.
    Skipped,
}

impl Status {
    /// Every status, in rank order (best to worst after `Skipped`).
    pub const ALL: [Status; 4] = [
        Status::Skipped,
        Status::Success,
        Status::Failure,
        Status::Error,
    ];

    /// The status named `text` (`success`, `failure`, `error`, `skipped`).
    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Success => "success",
            Status::Failure => "failure",
            Status::Error => "error",
            Status::Skipped => "skipped",
        }
    }

    /// The worse of two statuses, for rolling steps up into a run.
    pub fn worst(self, other: Status) -> Status {
        fn rank(s: Status) -> u8 {
            match s {
                Status::Skipped => 0,
                Status::Success => 1,
                Status::Failure => 2,
                Status::Error => 3,
            }
        }
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one step did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    pub id: String,
    pub plugin: String,
    pub status: Status,
    pub duration_us: u64,
    /// Fuel consumed, when the engine meters fuel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fuel_used: Option<u64>,
    /// Peak linear memory, in bytes.
    pub memory_peak: u64,
    /// Why the step errored, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The plugin's log and captured stderr, bounded.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub log: String,
    /// Actions that passed policy.
    pub actions: Vec<Action>,
    /// Actions that policy dropped, with the reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub denied: Vec<Denied>,
    /// Named JSON values the step set (`host.set-output`), like
    /// `steps.<id>.outputs` in GitHub Actions.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub outputs: BTreeMap<String, serde_json::Value>,
    /// The plugin's version as its manifest states it, for lineage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin_version: Option<String>,
    /// Hex sha256 of the plugin's component, so lineage names the exact
    /// build even when a `.wasm` file keeps its version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin_sha256: Option<String>,
    /// The datasets the step read through the `dataset` interface, in the
    /// order it first opened them: the inputs of the artifacts it stored.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<DatasetInput>,
}

impl StepRecord {
    /// The record of a step that did not run: skipped, or errored before
    /// its plugin was called, with `reason` as its error.
    pub fn not_run(
        id: impl Into<String>,
        plugin: impl Into<String>,
        status: Status,
        reason: impl Into<String>,
    ) -> StepRecord {
        StepRecord {
            id: id.into(),
            plugin: plugin.into(),
            status,
            duration_us: 0,
            fuel_used: None,
            memory_peak: 0,
            error: Some(reason.into()),
            log: String::new(),
            actions: Vec::new(),
            denied: Vec::new(),
            outputs: BTreeMap::new(),
            plugin_version: None,
            plugin_sha256: None,
            inputs: Vec::new(),
        }
    }
}

/// A dataset a step read, as lineage records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetInput {
    /// What was opened: `head:data/orders.csv`, `base:…` or `artifact:NAME`.
    pub source: String,
    /// What identifies the bytes read: `git:<blob id>` for a file of the
    /// repository, `sha256:<hex>` for an artifact; empty when unknown.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub content_id: String,
}

/// One workflow run for one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Assigned by the store; 0 before it is saved.
    pub id: u64,
    pub workflow: String,
    pub event: Event,
    /// Milliseconds since the Unix epoch, passed in by the caller.
    pub started_at_ms: u64,
    pub duration_us: u64,
    pub status: Status,
    pub steps: Vec<StepRecord>,
    /// The inbox sequence number of the webhook delivery the run answered,
    /// set by the store when it commits the delivery; `None` for runs of
    /// `andon run`, schedules and older records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<u64>,
}

impl RunRecord {
    /// The run's status rolled up from its steps.
    pub fn rolled_up_status(steps: &[StepRecord]) -> Status {
        steps
            .iter()
            .map(|s| s.status)
            .fold(Status::Success, Status::worst)
    }
}
