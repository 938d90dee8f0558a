//! The planner: which workflows an event runs, and with what limits.
//! `(event, changed paths, workflows) -> runs`, plus why the others were
//! skipped.

use crate::event::{Event, EventKind};
use crate::limits::Limits;
use crate::workflow::{Step, Workflow};

/// A workflow that will run for the event.
#[derive(Debug, Clone)]
pub struct PlannedRun<'a> {
    pub workflow: &'a Workflow,
    pub steps: Vec<PlannedStep<'a>>,
}

#[derive(Debug, Clone)]
pub struct PlannedStep<'a> {
    pub step: &'a Step,
    pub limits: Limits,
}

/// A workflow that will not run, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub workflow: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default)]
pub struct Plan<'a> {
    pub runs: Vec<PlannedRun<'a>>,
    pub skipped: Vec<Skipped>,
}

/// Plan the runs of `event` over `workflows`. `changed` lists the paths the
/// event changed (used by `paths:` filters); `defaults` are the limits a
/// step gets when it names none, `max` the server's ceiling.
pub fn plan<'a>(
    event: &Event,
    changed: &[&str],
    workflows: &'a [Workflow],
    defaults: &Limits,
    max: &Limits,
) -> Plan<'a> {
    let mut plan = Plan::default();
    for workflow in workflows {
        match applies(workflow, event, changed) {
            Ok(()) => plan.runs.push(every_step(workflow, defaults, max)),
            Err(reason) => plan.skipped.push(Skipped {
                workflow: workflow.name.clone(),
                reason,
            }),
        }
    }
    plan
}

/// `workflow` with every one of its steps, whatever its triggers (for
/// `/andon run NAME`).
pub fn every_step<'a>(workflow: &'a Workflow, defaults: &Limits, max: &Limits) -> PlannedRun<'a> {
    PlannedRun {
        workflow,
        steps: workflow
            .steps
            .iter()
            .map(|step| PlannedStep {
                step,
                limits: step_limits(step, defaults, max),
            })
            .collect(),
    }
}

/// A step's limits: its own where it sets them, the defaults otherwise,
/// never above `max`.
pub fn step_limits(step: &Step, defaults: &Limits, max: &Limits) -> Limits {
    Limits {
        timeout: step.timeout.unwrap_or(defaults.timeout),
        memory: step.memory.unwrap_or(defaults.memory),
        ..*defaults
    }
    .clamp_to(max)
}

/// Whether `workflow` runs for `event`, or why not.
pub fn applies(workflow: &Workflow, event: &Event, changed: &[&str]) -> Result<(), String> {
    let on = &workflow.on;
    match event.kind {
        EventKind::PullRequest => {
            let Some(trigger) = &on.pull_request else {
                return Err("no `pull_request` trigger".into());
            };
            let action = event.action.as_deref().unwrap_or("opened");
            if !trigger.types.iter().any(|t| t == action) {
                return Err(format!("pull request action `{action}` is not in `types`"));
            }
            branch_and_paths(
                event,
                trigger.branches.as_ref(),
                trigger.paths.as_ref(),
                changed,
            )
        }
        EventKind::Push => {
            let Some(trigger) = &on.push else {
                return Err("no `push` trigger".into());
            };
            branch_and_paths(
                event,
                trigger.branches.as_ref(),
                trigger.paths.as_ref(),
                changed,
            )
        }
        EventKind::Manual if on.manual => Ok(()),
        EventKind::Manual => Err("no `manual` trigger".into()),
        EventKind::Comment => match (&on.comment, &event.command) {
            (Some(trigger), Some(command)) if trigger.commands.contains(command) => Ok(()),
            (Some(trigger), _) => Err(format!(
                "the comment is not {}",
                trigger
                    .commands
                    .iter()
                    .map(|c| format!("`/{c}`"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            )),
            (None, _) => Err("no `comment` trigger".into()),
        },
        EventKind::Schedule if !on.schedule.is_empty() => Ok(()),
        EventKind::Schedule => Err("no `schedule` trigger".into()),
        EventKind::Review => {
            let Some(trigger) = &on.review else {
                return Err("no `review` trigger".into());
            };
            let state = event.review_state.as_deref().unwrap_or("commented");
            if !trigger.states.iter().any(|s| s == state) {
                return Err(format!("review state `{state}` is not in `states`"));
            }
            branch_and_paths(event, trigger.branches.as_ref(), None, changed)
        }
        EventKind::WorkflowRun => {
            let (Some(trigger), Some(run)) = (&on.workflow_run, &event.run) else {
                return Err("no `workflow_run` trigger".into());
            };
            // A run of this very workflow never triggers it: no loops.
            if run.workflow == workflow.name {
                return Err("a workflow does not run for its own runs".into());
            }
            if let Some(names) = &trigger.workflows
                && !names.iter().any(|n| n == &run.workflow)
            {
                return Err(format!("workflow `{}` is not in `workflows`", run.workflow));
            }
            branch_and_paths(event, trigger.branches.as_ref(), None, changed)
        }
    }
}

fn branch_and_paths(
    event: &Event,
    branches: Option<&crate::glob::Filter>,
    paths: Option<&crate::glob::Filter>,
    changed: &[&str],
) -> Result<(), String> {
    if let (Some(filter), Some(branch)) = (branches, &event.branch)
        && !filter.matches(branch)
    {
        return Err(format!("branch `{branch}` is not selected by `branches`"));
    }
    if let Some(filter) = paths
        && !filter.matches_any(changed.iter().copied())
    {
        return Err("no changed file is selected by `paths`".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::workflow::parse;

    fn workflows(texts: &[&str]) -> Vec<Workflow> {
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let parsed = parse(&format!("w{i}.yml"), t);
                parsed
                    .workflow
                    .unwrap_or_else(|| panic!("{:?}", parsed.diagnostics))
            })
            .collect()
    }

    fn pr(action: &str, branch: &str) -> Event {
        let mut event = Event::new(EventKind::PullRequest, "o/r", "h");
        event.action = Some(action.into());
        event.branch = Some(branch.into());
        event
    }

    /// Names of the planned workflows and the reasons of the skipped ones.
    fn check(event: &Event, changed: &[&str], wfs: &[Workflow], expected: &[&str]) {
        let plan = plan(event, changed, wfs, &Limits::DEFAULT, &Limits::MAX);
        let mut got: Vec<String> = plan
            .runs
            .iter()
            .map(|r| format!("run {}", r.workflow.name))
            .collect();
        got.extend(
            plan.skipped
                .iter()
                .map(|s| format!("skip {}: {}", s.workflow, s.reason)),
        );
        assert_eq!(got, expected);
    }

    #[test]
    fn pull_requests_match_types_branches_and_paths() {
        let wfs = workflows(&[
            "name: any\non: { pull_request: {} }\nsteps: [{ uses: size }]",
            "name: data\non: { pull_request: { paths: [\"data/**\", \"!data/tmp/**\"] } }\nsteps: [{ uses: size }]",
            "name: labels\non: { pull_request: { types: [labeled] } }\nsteps: [{ uses: size }]",
            "name: release\non: { pull_request: { branches: [\"release/**\"] } }\nsteps: [{ uses: size }]",
            "name: pushes\non: push\nsteps: [{ uses: size }]",
        ]);
        check(
            &pr("opened", "main"),
            &["data/tmp/x.csv", "src/lib.rs"],
            &wfs,
            &[
                "run any",
                "skip data: no changed file is selected by `paths`",
                "skip labels: pull request action `opened` is not in `types`",
                "skip release: branch `main` is not selected by `branches`",
                "skip pushes: no `pull_request` trigger",
            ],
        );
        check(
            &pr("synchronize", "release/1.0"),
            &["data/orders.csv"],
            &wfs,
            &[
                "run any",
                "run data",
                "run release",
                "skip labels: pull request action `synchronize` is not in `types`",
                "skip pushes: no `pull_request` trigger",
            ],
        );
    }

    #[test]
    fn comments_match_their_command() {
        let wfs = workflows(&[
            "name: dq\non: { comment: { command: data-check } }\nsteps: [{ uses: size }]",
        ]);
        let mut event = Event::new(EventKind::Comment, "o/r", "h");
        event.command = Some("data-check".into());
        check(&event, &[], &wfs, &["run dq"]);
        event.command = Some("lgtm".into());
        check(
            &event,
            &[],
            &wfs,
            &["skip dq: the comment is not `/data-check`"],
        );
    }

    #[test]
    fn step_limits_are_clamped_to_the_server_maxima() {
        let wfs = workflows(&[
            "on: manual\nsteps:\n  - uses: size\n    timeout: 5h\n    memory: 8GiB\n  - uses: secret-scan\n    timeout: 2s\n",
        ]);
        let event = Event::new(EventKind::Manual, "o/r", "h");
        let plan = plan(&event, &[], &wfs, &Limits::DEFAULT, &Limits::MAX);
        let steps = &plan.runs[0].steps;
        assert_eq!(steps[0].limits.timeout, Limits::MAX.timeout);
        assert_eq!(steps[0].limits.memory, Limits::MAX.memory);
        assert_eq!(steps[1].limits.timeout, Duration::from_secs(2));
        assert_eq!(steps[1].limits.memory, Limits::DEFAULT.memory);
    }
}
