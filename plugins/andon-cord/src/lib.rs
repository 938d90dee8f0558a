//! `andon-cord`: stop the line. When one of andon's own workflows fails on
//! the default branch (or the configured `branches`), every open pull
//! request gets the `do-not-merge/andon` label and a sticky comment saying
//! what failed and how to lift it; new pull requests are stopped as they
//! open. The next green run of each failing workflow, or `/andon clear` by
//! a maintainer, takes the label off everywhere.
//!
//! [`config`] reads `with:`; [`line`] holds the state and decides; this
//! file is the glue: kv and the pull request list in, actions out.

pub mod config;
pub mod line;

use andon_pdk::types::{
    Action, CommandInfo, Event, EventKind, Invocation, KvEntry, LogLevel, Manifest, Permission,
    PluginError, PullRequestComment, PullRequestLabel, RunInfo,
};
use andon_pdk::{Host, Plugin, RepoPermission};

use crate::config::{Config, RawConfig};
use crate::line::{Change, Failure, STATE_KEY, State};

/// The JSON Schema of `with:`, published in the manifest.
const CONFIG_SCHEMA: &str = r#"{
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "label": { "type": "string", "minLength": 1, "default": "do-not-merge/andon" },
    "branches": {
      "type": "array", "items": { "type": "string", "minLength": 1 },
      "description": "branches whose failing runs stop the line; default: the repository's default branch"
    },
    "workflows": {
      "type": "array", "items": { "type": "string", "minLength": 1 },
      "description": "workflows whose failing runs stop the line; default: all"
    },
    "clear_permission": {
      "enum": ["read", "triage", "write", "maintain", "admin"], "default": "maintain"
    }
  }
}"#;

/// The plugin.
pub struct AndonCord;

impl Plugin for AndonCord {
    fn describe() -> Manifest {
        Manifest {
            name: "andon-cord".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description:
                "stops merging on every open pull request while a workflow fails on the default branch"
                    .into(),
            events: vec![
                EventKind::WorkflowRun,
                EventKind::Comment,
                EventKind::PullRequest,
            ],
            commands: vec![CommandInfo {
                name: "clear".into(),
                usage: "/andon clear".into(),
                description: "lift the stop: forget the failures and take the label off".into(),
            }],
            permissions: vec![Permission::Labels, Permission::Comment, Permission::Kv],
            config_schema: Some(CONFIG_SCHEMA.into()),
        }
    }

    fn run(inv: Invocation, host: &dyn Host) -> Result<Vec<Action>, PluginError> {
        // The config is checked on every event, so a mistake shows up early.
        let raw: RawConfig = andon_pdk::config(&inv)?;
        let cfg = Config::try_from(raw).map_err(PluginError::InvalidConfig)?;
        let stored = host.kv_get(STATE_KEY);
        let (mut state, warning) = State::load(stored.as_deref());
        if let Some(warning) = warning {
            host.log(LogLevel::Warn, &warning);
        }
        let before = state.to_json();
        let mut step = Step {
            host,
            cfg: &cfg,
            event_number: inv.event.number,
            actions: Vec::new(),
        };
        match inv.event.kind {
            EventKind::WorkflowRun => step.workflow_run(&inv.event, &mut state)?,
            EventKind::Comment => step.command(&inv, &mut state),
            EventKind::PullRequest => step.pull_request(&inv.event, &mut state),
            other => host.info(&format!("andon-cord: nothing to do for a {other:?} event")),
        }
        let mut actions = step.actions;
        let after = state.to_json();
        if after != before && (stored.is_some() || state != State::default()) {
            // Written first: a `fail` below must not lose the record.
            actions.insert(
                0,
                Action::KvSet(KvEntry {
                    key: STATE_KEY.into(),
                    value: after.into_bytes(),
                }),
            );
        }
        if let Err(e) = host.set_output("state", &state.output(&cfg)) {
            host.log(LogLevel::Warn, &format!("cannot set the state output: {e}"));
        }
        Ok(actions)
    }
}

/// One run's work: the event's pull request and the actions so far.
struct Step<'a> {
    host: &'a dyn Host,
    cfg: &'a Config,
    event_number: Option<u64>,
    actions: Vec<Action>,
}

impl Step<'_> {
    /// A run of another workflow finished: record a failure or a pass on a
    /// watched branch, then bring the pull requests in line.
    fn workflow_run(&mut self, event: &Event, state: &mut State) -> Result<(), PluginError> {
        let Some(run) = &event.run else {
            return Err(PluginError::Failed(
                "a workflow-run event without its run".into(),
            ));
        };
        if !self.watched(run, event)? {
            return Ok(());
        }
        let branch = run.branch.clone().unwrap_or_default();
        let before = state.clone();
        match run.status.to_ascii_lowercase().as_str() {
            "failure" | "error" => state.fail(failure(run, branch)),
            "success" => state.pass(&run.workflow, &branch),
            other => {
                self.host.info(&format!(
                    "andon-cord: `{}` ended `{other}`: neither stops nor starts the line",
                    run.workflow
                ));
                return Ok(());
            }
        }
        if *state != before || state.lift_pending() {
            self.sync(state, None);
        }
        Ok(())
    }

    /// Whether the run is one that may stop the line: a push or schedule
    /// run of a watched workflow on a watched branch.
    fn watched(&self, run: &RunInfo, event: &Event) -> Result<bool, PluginError> {
        let ignore = |why: String| {
            self.host.info(&format!("andon-cord: ignored: {why}"));
            Ok(false)
        };
        if !matches!(run.event, EventKind::Push | EventKind::Schedule) {
            return ignore(format!(
                "`{}` ran for a {:?} event",
                run.workflow, run.event
            ));
        }
        if !self.cfg.workflows.is_empty() && !self.cfg.workflows.contains(&run.workflow) {
            return ignore(format!("`{}` is not in `workflows`", run.workflow));
        }
        let branches: Vec<&str> = if self.cfg.branches.is_empty() {
            match event.default_branch.as_deref() {
                Some(branch) => vec![branch],
                None => {
                    return Err(PluginError::Failed(
                        "the host did not say which branch is the default: set `branches`".into(),
                    ));
                }
            }
        } else {
            self.cfg.branches.iter().map(String::as_str).collect()
        };
        match run.branch.as_deref() {
            Some(branch) if branches.contains(&branch) => Ok(true),
            Some(branch) => ignore(format!("`{}` ran on `{branch}`", run.workflow)),
            None => ignore(format!("`{}` ran on no branch", run.workflow)),
        }
    }

    /// `/andon clear`: lift the stop for someone with the permission, or
    /// tell them why not.
    fn command(&mut self, inv: &Invocation, state: &mut State) {
        let event = &inv.event;
        if !event
            .command
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case("clear"))
        {
            self.host
                .info("andon-cord: nothing to do: not `/andon clear`");
            return;
        }
        let author = event.author.as_deref().unwrap_or("someone");
        let permission = RepoPermission::of_author(inv);
        if permission < self.cfg.clear_permission {
            let Some(number) = event.number else {
                self.host.info(&format!(
                    "andon-cord: @{author} may not clear the line and there is no pull request \
                     to say so on"
                ));
                return;
            };
            let mut body = format!(
                "@{author}: `/andon clear` needs the `{}` permission or higher (yours is \
                 `{permission}`).\n\n",
                self.cfg.clear_permission
            );
            if state.stopped() {
                body.push_str(&line::stopped_body(&state.failing, self.cfg));
                state.notified.insert(number, line::fingerprint(&body));
            } else {
                body.push_str("The line is running: there is nothing to clear.\n");
            }
            self.actions.push(Action::Comment(body));
            return;
        }
        let was_stopped = state.stopped() || state.lift_pending();
        state.failing.clear();
        self.sync(state, Some(author));
        let told = self.actions.iter().any(|a| {
            matches!(a, Action::Comment(_))
                || matches!(a, Action::CommentOn(c) if Some(c.number) == self.event_number)
        });
        if !was_stopped && !told && self.event_number.is_some() {
            self.actions.push(Action::Comment(
                "The line is running: there is nothing to clear.\n".into(),
            ));
        }
    }

    /// A pull request opened or reopened while the line is stopped gets
    /// the label and the notice too.
    fn pull_request(&mut self, event: &Event, state: &mut State) {
        let action = event.action.as_deref().unwrap_or_default();
        if !matches!(action, "opened" | "reopened") {
            self.host
                .info(&format!("andon-cord: nothing to do for `{action}`"));
            return;
        }
        let Some(number) = event.number else {
            self.host
                .info("andon-cord: nothing to do: the event names no pull request");
            return;
        };
        let changes = line::stop_one(state, number, &event.labels, self.cfg);
        self.apply(changes);
    }

    /// Lists the open pull requests and brings them in line. A listing that
    /// fails fails the step, so it shows, while the state is still kept.
    fn sync(&mut self, state: &mut State, cleared_by: Option<&str>) {
        match self.host.open_pull_requests() {
            Ok(pulls) => {
                let changes = line::sync(state, &pulls, self.cfg, cleared_by);
                self.apply(changes);
            }
            Err(e) => self.actions.push(Action::Fail(format!(
                "andon-cord: cannot list the open pull requests: {e}"
            ))),
        }
    }

    fn apply(&mut self, changes: Vec<Change>) {
        let label = &self.cfg.label;
        for change in changes {
            let own = |number: u64| Some(number) == self.event_number;
            self.actions.push(match change {
                Change::AddLabel(n) if own(n) => Action::AddLabel(label.clone()),
                Change::AddLabel(n) => Action::AddLabelTo(PullRequestLabel {
                    number: n,
                    label: label.clone(),
                }),
                Change::RemoveLabel(n) if own(n) => Action::RemoveLabel(label.clone()),
                Change::RemoveLabel(n) => Action::RemoveLabelFrom(PullRequestLabel {
                    number: n,
                    label: label.clone(),
                }),
                Change::Comment(n, body) if own(n) => Action::Comment(body),
                Change::Comment(n, body) => {
                    Action::CommentOn(PullRequestComment { number: n, body })
                }
            });
        }
    }
}

fn failure(run: &RunInfo, branch: String) -> Failure {
    Failure {
        workflow: run.workflow.clone(),
        branch,
        run_id: run.id,
        status: run.status.to_ascii_lowercase(),
        event: match run.event {
            EventKind::Schedule => "schedule".into(),
            _ => "push".into(),
        },
        head: run.head.clone(),
        url: run.url.clone(),
        summary: run.summary.clone(),
    }
}

andon_pdk::plugin!(AndonCord);

#[cfg(test)]
mod tests;
