//! The pipeline: an event and the workflows that apply become runs. Each
//! step runs its plugin, policy filters the actions, and one store
//! transaction records the run with its kv writes.
//!
//! Artifacts are stored as the step that made them ends, so that later
//! steps of the run can read them. Their lineage (the plugin's version and
//! the datasets the step read) goes into the step's record, from which the
//! store indexes it once the run is recorded.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use andon_core::action::{Action, KvValue};
use andon_core::event::Event;
use andon_core::plan::{PlannedRun, PlannedStep};
use andon_core::policy::{self, Denied};
use andon_core::run::{DatasetInput, RunRecord, Status, StepRecord};
use andon_host::{DatasetRead, Invocation, Plugin, PluginHost, StepError, StepOutcome};
use andon_store::{ArtifactStore, RunStore, Store};
use anyhow::Context;

use crate::activity::{ActiveRun, Activity};
use crate::artifacts::{self, RunArtifacts};
use crate::inputs::{GitInputs, RunInputs};
use crate::plugins::{self, PluginFiles};

/// `(namespace, key, value)` writes a run's steps made, committed with it.
pub type KvWrites = Vec<(String, String, Vec<u8>)>;

/// Everything a run needs besides its event and workflow.
pub struct Pipeline {
    pub host: Arc<PluginHost>,
    pub store: Store,
    /// Where runs under way are shown while they run (`andon serve`).
    pub activity: Option<Arc<Activity>>,
}

/// Who ran a step, for its record and its artifacts' lineage.
struct StepIdentity<'a> {
    id: &'a str,
    plugin: &'a str,
    namespace: &'a str,
    version: Option<String>,
    sha256: Option<String>,
}

impl Pipeline {
    /// Run one planned workflow within `budget` and record it (see
    /// [`Pipeline::execute`]).
    pub fn run(
        &self,
        planned: &PlannedRun<'_>,
        event: &Event,
        inputs: &Arc<RunInputs>,
        files: &PluginFiles<'_>,
        budget: &RunBudget<'_>,
    ) -> anyhow::Result<RunRecord> {
        let (mut run, kv_writes) = self.execute(planned, event, inputs, files, budget)?;
        self.store
            .record_run(&mut run, &kv_writes)
            .context("cannot record the run")?;
        Ok(run)
    }

    /// Run one planned workflow without recording it: the run (id 0) and
    /// the kv writes its steps made, for the caller to commit in its own
    /// transaction. Steps run in order; a step that errors or asks to
    /// `fail` stops the line, and the steps after it are skipped. A failed
    /// check run is reported but does not stop it.
    ///
    /// The `budget` is checked before each step: a step starts only with
    /// time left and gets at most that time as its limit, and a cancelled
    /// run starts no further step (and is an error, not retried by the
    /// scheduler). A run that still took longer than its deadline in all
    /// (loading a plugin is not bounded) is an error too.
    pub fn execute(
        &self,
        planned: &PlannedRun<'_>,
        event: &Event,
        inputs: &Arc<RunInputs>,
        files: &PluginFiles<'_>,
        budget: &RunBudget<'_>,
    ) -> anyhow::Result<(RunRecord, KvWrites)> {
        let started = Instant::now();
        let started_at_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let mut steps = Vec::with_capacity(planned.steps.len());
        let mut kv_writes = Vec::new();
        let mut stopped = false;
        let mut cancelled = false;
        let artifacts = Arc::new(RunArtifacts::new(
            self.store.clone(),
            event.repository.clone(),
        ));
        let tracked = self.activity.as_deref().map(|activity| {
            activity.start(ActiveRun {
                workflow: planned.workflow.name.clone(),
                repository: event.repository.clone(),
                event: event.kind.as_str(),
                number: event.number,
                started_at_ms,
                steps: planned
                    .steps
                    .iter()
                    .map(|s| (s.step.id.clone(), s.step.uses.display_name().to_string()))
                    .collect(),
                current: 0,
                running_for_us: 0,
            })
        });
        for (index, planned_step) in planned.steps.iter().enumerate() {
            if let Some(tracked) = &tracked {
                tracked.step(index);
            }
            let step = planned_step.step;
            let plugin_name = step.uses.display_name().to_string();
            let _span =
                tracing::info_span!("step", step = %step.id, plugin = %plugin_name).entered();
            if stopped {
                steps.push(skipped(&step.id, &plugin_name));
                continue;
            }
            if (budget.cancelled)() {
                stopped = true;
                cancelled = true;
                steps.push(StepRecord::not_run(
                    &step.id,
                    &plugin_name,
                    Status::Skipped,
                    "cancelled: a newer tick replaced this run (overlap: cancel)",
                ));
                continue;
            }
            let mut bounded = planned_step.clone();
            if let Some(deadline) = budget.deadline {
                let left = deadline.saturating_sub(started.elapsed());
                if left.is_zero() {
                    stopped = true;
                    steps.push(errored(&step.id, &plugin_name, deadline_passed(deadline)));
                    continue;
                }
                bounded.limits.timeout = bounded.limits.timeout.min(left);
            }
            let record = match plugins::load(&self.host, &step.uses, files) {
                Ok(plugin) => self.run_step(
                    planned,
                    &bounded,
                    &plugin,
                    event,
                    inputs,
                    &artifacts,
                    &mut kv_writes,
                )?,
                Err(error) => errored(&step.id, &plugin_name, format!("{error:#}")),
            };
            stopped = record.status == Status::Error
                || record
                    .actions
                    .iter()
                    .any(|a| matches!(a, Action::Fail { .. }));
            tracing::info!(
                status = record.status.as_str(),
                duration_us = record.duration_us,
                error = record.error.as_deref(),
                "step finished"
            );
            steps.push(record);
        }
        let duration_us = micros(started.elapsed());
        let mut status = RunRecord::rolled_up_status(&steps);
        if let Some(deadline) = budget.deadline.filter(|d| duration_us > micros(*d)) {
            note_deadline(&mut steps, deadline);
            status = status.worst(Status::Error);
        }
        if cancelled {
            // A cancelled run did not do its work: an error, not a pass.
            status = status.worst(Status::Error);
        }
        let run = RunRecord {
            id: 0,
            workflow: planned.workflow.name.clone(),
            event: event.clone(),
            started_at_ms,
            duration_us,
            status,
            steps,
            delivery: None,
        };
        Ok((run, kv_writes))
    }

    /// Run one step whose plugin loaded, and record it. The datasets it
    /// declares as outputs (`with.output`) stay locked until its artifacts
    /// are stored.
    #[allow(
        clippy::too_many_arguments,
        reason = "the run's pieces, passed down once; a struct would only rename them"
    )]
    fn run_step(
        &self,
        planned: &PlannedRun<'_>,
        planned_step: &PlannedStep<'_>,
        plugin: &Plugin,
        event: &Event,
        inputs: &Arc<RunInputs>,
        artifacts: &Arc<RunArtifacts>,
        kv_writes: &mut KvWrites,
    ) -> anyhow::Result<StepRecord> {
        let step = planned_step.step;
        let plugin_name = step.uses.display_name();
        let manifest = self.host.manifest(plugin);
        // A plugin's kv is its own and its repository's: another
        // repository's plugin never reads it.
        let (namespace, granted) = match &manifest {
            Ok(m) => (
                format!("{}@{}", m.name, event.repository),
                step.permissions
                    .clone()
                    .unwrap_or_else(|| m.permissions.clone()),
            ),
            Err(_) => (
                format!("{plugin_name}@{}", event.repository),
                step.permissions.clone().unwrap_or_default(),
            ),
        };
        let identity = StepIdentity {
            id: &step.id,
            plugin: plugin_name,
            namespace: &namespace,
            version: manifest.as_ref().ok().map(|m| m.version.clone()),
            sha256: Some(plugin.sha256().to_string()),
        };
        let step_inputs = Arc::new(GitInputs {
            run: inputs.clone(),
            namespace: namespace.clone(),
            artifacts: artifacts.clone(),
        });
        let invocation = Invocation {
            event,
            workflow: &planned.workflow.name,
            step_id: &step.id,
            config: &step.with,
        };
        let outputs = artifacts::lock_outputs(
            &event.repository,
            &artifacts::declared_outputs(&step.with),
            planned_step.limits.timeout,
        );
        let outcome = match (manifest, &outputs) {
            (Ok(_), Ok(_)) => {
                self.host
                    .run_step(plugin, invocation, step_inputs, &planned_step.limits)
            }
            (Ok(_), Err(busy)) => not_run(StepError::Instantiate {
                plugin: plugin_name.to_string(),
                message: busy.clone(),
            }),
            (Err(error), _) => not_run(error),
        };
        let record = self.record_step(&identity, &granted, outcome, artifacts, kv_writes);
        drop(outputs);
        record
    }

    /// Turn a step's outcome into its record: policy applied, artifacts
    /// stored (and readable by the run's later steps), kv writes collected
    /// for the run's transaction.
    fn record_step(
        &self,
        who: &StepIdentity<'_>,
        granted: &[andon_core::Permission],
        outcome: StepOutcome,
        artifacts: &RunArtifacts,
        kv_writes: &mut KvWrites,
    ) -> anyhow::Result<StepRecord> {
        let (status, error, actions, denied) = match outcome.result {
            Ok(actions) => {
                let (allowed, denied) = policy::authorize(who.id, granted, actions);
                let actions: Vec<Action> = allowed
                    .into_iter()
                    .map(policy::AuthorizedAction::into_action)
                    .collect();
                for action in &actions {
                    match action {
                        Action::KvSet {
                            key,
                            value: KvValue(bytes),
                        } => {
                            kv_writes.push((who.namespace.to_string(), key.clone(), bytes.clone()));
                        }
                        Action::Artifact(artifact) => {
                            let sha256 =
                                self.store.put_artifact(&artifact.data).with_context(|| {
                                    format!("cannot store artifact `{}`", artifact.name)
                                })?;
                            artifacts.record(&artifact.name, &sha256);
                        }
                        _ => {}
                    }
                }
                let status = if actions.iter().any(Action::is_failure) {
                    Status::Failure
                } else {
                    Status::Success
                };
                (status, None, actions, denied)
            }
            Err(error) => (
                Status::Error,
                Some(error.to_string()),
                Vec::new(),
                Vec::<Denied>::new(),
            ),
        };
        Ok(StepRecord {
            id: who.id.to_string(),
            plugin: who.plugin.to_string(),
            status,
            duration_us: micros(outcome.duration),
            fuel_used: outcome.fuel_used,
            memory_peak: outcome.memory_peak,
            error,
            log: outcome.log,
            actions,
            denied,
            outputs: outcome.outputs,
            plugin_version: who.version.clone(),
            plugin_sha256: who.sha256.clone(),
            inputs: dataset_inputs(outcome.datasets),
        })
    }
}

/// The datasets a step read, each source and content once, in the order
/// first opened (a plugin may open a dataset twice: once for its header).
fn dataset_inputs(reads: Vec<DatasetRead>) -> Vec<DatasetInput> {
    let mut inputs: Vec<DatasetInput> = Vec::with_capacity(reads.len());
    for read in reads {
        let input = DatasetInput {
            source: read.source,
            content_id: read.content_id,
        };
        if !inputs.contains(&input) {
            inputs.push(input);
        }
    }
    inputs
}

/// The outcome of a step that did not get to run.
fn not_run(error: StepError) -> StepOutcome {
    StepOutcome {
        result: Err(error),
        duration: Duration::ZERO,
        fuel_used: None,
        memory_peak: 0,
        log: String::new(),
        outputs: Default::default(),
        datasets: Vec::new(),
    }
}

/// A step whose plugin could not be loaded.
fn errored(id: &str, plugin: &str, message: String) -> StepRecord {
    StepRecord::not_run(id, plugin, Status::Error, message)
}

fn skipped(id: &str, plugin: &str) -> StepRecord {
    StepRecord::not_run(
        id,
        plugin,
        Status::Skipped,
        "skipped: an earlier step stopped the line",
    )
}

/// What a run as a whole may use: see [`Pipeline::execute_within`].
pub struct RunBudget<'a> {
    /// Wall time for all the steps together.
    pub deadline: Option<Duration>,
    /// Asked before each step; true starts no further step.
    pub cancelled: &'a dyn Fn() -> bool,
}

impl RunBudget<'static> {
    pub const UNLIMITED: RunBudget<'static> = RunBudget {
        deadline: None,
        cancelled: &|| false,
    };
}

/// Notes on the step during which `deadline` passed that it did, unless
/// its error says so already.
fn note_deadline(steps: &mut [StepRecord], deadline: Duration) {
    let limit_us = micros(deadline);
    let reason = deadline_passed(deadline);
    let mut elapsed = 0u64;
    if let Some(step) = steps.iter_mut().find(|step| {
        elapsed = elapsed.saturating_add(step.duration_us);
        elapsed > limit_us
    }) {
        step.error = Some(match step.error.take() {
            Some(error) if error.contains(&reason) => error,
            Some(error) => format!("{error} ({reason})"),
            None => reason,
        });
    }
}

/// Why a run over its deadline stopped: `the run's deadline of 10m passed`.
fn deadline_passed(deadline: Duration) -> String {
    format!(
        "the run's deadline of {} passed",
        human_ms(deadline.as_millis())
    )
}

/// `90s`, `10m`, `1h30m`, `500ms`.
fn human_ms(ms: u128) -> String {
    let secs = ms / 1000;
    match (ms % 1000, secs) {
        (rest, 0) => format!("{rest}ms"),
        (0, s) if s % 3600 == 0 => format!("{}h", s / 3600),
        (0, s) if s >= 3600 => format!("{}h{}m", s / 3600, s % 3600 / 60),
        (0, s) if s % 60 == 0 => format!("{}m", s / 60),
        (_, s) => format!("{s}s"),
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_dataset_read_is_one_input() {
        let read = |source: &str, id: &str| DatasetRead {
            source: source.into(),
            content_id: id.into(),
        };
        let inputs = dataset_inputs(vec![
            read("head:data/orders.csv", "git:1"),
            read("artifact:customers", "sha256:2"),
            read("head:data/orders.csv", "git:1"),
        ]);
        let sources: Vec<&str> = inputs.iter().map(|i| i.source.as_str()).collect();
        assert_eq!(sources, ["head:data/orders.csv", "artifact:customers"]);
    }
}
