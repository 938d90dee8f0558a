//! The pipeline: an event and the workflows that apply become runs. Each
//! step runs its plugin, policy filters the actions, and one store
//! transaction records the run with its kv writes.

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use andon_core::action::{Action, KvValue};
use andon_core::event::Event;
use andon_core::plan::PlannedRun;
use andon_core::policy::{self, Denied};
use andon_core::run::{RunRecord, Status, StepRecord};
use andon_host::{Invocation, PluginHost, StepOutcome};
use andon_store::{ArtifactStore, RunStore, Store};
use anyhow::Context;

use crate::artifacts::RunArtifacts;
use crate::inputs::{GitInputs, RunInputs};
use crate::plugins::{self, PluginFiles};

/// `(namespace, key, value)` writes a run's steps made, committed with it.
pub type KvWrites = Vec<(String, String, Vec<u8>)>;

/// Everything a run needs besides its event and workflow.
pub struct Pipeline {
    pub host: Arc<PluginHost>,
    pub store: Store,
}

impl Pipeline {
    /// Run one planned workflow and record it (see [`Pipeline::execute`]).
    pub fn run(
        &self,
        planned: &PlannedRun<'_>,
        event: &Event,
        inputs: &Arc<RunInputs>,
        files: &PluginFiles<'_>,
    ) -> anyhow::Result<RunRecord> {
        let (mut run, kv_writes) = self.execute(planned, event, inputs, files)?;
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
    pub fn execute(
        &self,
        planned: &PlannedRun<'_>,
        event: &Event,
        inputs: &Arc<RunInputs>,
        files: &PluginFiles<'_>,
    ) -> anyhow::Result<(RunRecord, KvWrites)> {
        let started = Instant::now();
        let started_at_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let mut steps = Vec::with_capacity(planned.steps.len());
        let mut kv_writes = Vec::new();
        let mut stopped = false;
        let artifacts = Arc::new(RunArtifacts::default());
        for planned_step in &planned.steps {
            let step = planned_step.step;
            let plugin_name = step.uses.display_name().to_string();
            if stopped {
                steps.push(skipped(&step.id, &plugin_name));
                continue;
            }
            let record = match plugins::load(&self.host, &step.uses, files) {
                Ok(plugin) => {
                    let manifest = self.host.manifest(&plugin);
                    let (namespace, granted) = match &manifest {
                        Ok(m) => (
                            m.name.clone(),
                            step.permissions
                                .clone()
                                .unwrap_or_else(|| m.permissions.clone()),
                        ),
                        Err(_) => (
                            plugin_name.clone(),
                            step.permissions.clone().unwrap_or_default(),
                        ),
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
                    let outcome = match manifest {
                        Ok(_) => self.host.run_step(
                            &plugin,
                            invocation,
                            step_inputs,
                            &planned_step.limits,
                        ),
                        Err(error) => StepOutcome {
                            result: Err(error),
                            duration: std::time::Duration::ZERO,
                            fuel_used: None,
                            memory_peak: 0,
                            log: String::new(),
                            outputs: Default::default(),
                            datasets: Vec::new(),
                        },
                    };
                    self.record_step(
                        &step.id,
                        &plugin_name,
                        &namespace,
                        &granted,
                        outcome,
                        &mut kv_writes,
                    )?
                }
                Err(error) => StepRecord {
                    id: step.id.clone(),
                    plugin: plugin_name,
                    status: Status::Error,
                    duration_us: 0,
                    fuel_used: None,
                    memory_peak: 0,
                    error: Some(format!("{error:#}")),
                    log: String::new(),
                    actions: Vec::new(),
                    denied: Vec::new(),
                    outputs: Default::default(),
                },
            };
            stopped = record.status == Status::Error
                || record
                    .actions
                    .iter()
                    .any(|a| matches!(a, Action::Fail { .. }));
            steps.push(record);
        }
        let run = RunRecord {
            id: 0,
            workflow: planned.workflow.name.clone(),
            event: event.clone(),
            started_at_ms,
            duration_us: micros(started.elapsed()),
            status: RunRecord::rolled_up_status(&steps),
            steps,
        };
        Ok((run, kv_writes))
    }

    /// Turn a step's outcome into its record: policy applied, artifacts
    /// stored, kv writes collected for the run's transaction.
    fn record_step(
        &self,
        id: &str,
        plugin: &str,
        namespace: &str,
        granted: &[andon_core::Permission],
        outcome: StepOutcome,
        kv_writes: &mut KvWrites,
    ) -> anyhow::Result<StepRecord> {
        let (status, error, actions, denied) = match outcome.result {
            Ok(actions) => {
                let (allowed, denied) = policy::authorize(id, granted, actions);
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
                            kv_writes.push((namespace.to_string(), key.clone(), bytes.clone()));
                        }
                        Action::Artifact(artifact) => {
                            self.store
                                .put_artifact(&artifact.data)
                                .context("cannot store an artifact")?;
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
            id: id.to_string(),
            plugin: plugin.to_string(),
            status,
            duration_us: micros(outcome.duration),
            fuel_used: outcome.fuel_used,
            memory_peak: outcome.memory_peak,
            error,
            log: outcome.log,
            actions,
            denied,
            outputs: outcome.outputs,
        })
    }
}

fn skipped(id: &str, plugin: &str) -> StepRecord {
    StepRecord {
        id: id.to_string(),
        plugin: plugin.to_string(),
        status: Status::Skipped,
        duration_us: 0,
        fuel_used: None,
        memory_peak: 0,
        error: Some("skipped: an earlier step stopped the line".into()),
        log: String::new(),
        actions: Vec::new(),
        denied: Vec::new(),
        outputs: Default::default(),
    }
}

fn micros(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}
