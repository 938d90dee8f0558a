//! `approve`: Prow's approve plugin. Approvers listed in OWNERS files (read
//! from the base revision) say `/approve`; once every changed file has an
//! approval from one of its approvers, the pull request gets the
//! `approved` label, and a sticky comment tells where it stands.
//!
//! The OWNERS format lives in [`owners`], the decision in [`approval`], the
//! comment in [`render`] and the remembered approvals in [`state`]; this
//! file is the glue that reads the host once and turns the result into
//! actions.

pub mod approval;
pub mod config;
pub use andon_pdk::owners;
pub mod render;
pub mod state;

use andon_pdk::types::{
    Action, CommandInfo, Event, EventKind, Invocation, KvEntry, LogLevel, Manifest, Permission,
    PluginError, Side,
};
use andon_pdk::{Host, Plugin, RepoPermission};

use crate::approval::{Command, Units};
use crate::config::Config;
use crate::owners::{OwnersTree, norm_login};
use crate::render::Report;
use crate::state::State;

/// Pull request actions that change the files or reopen the question.
const REFRESH_ACTIONS: [&str; 4] = ["opened", "synchronize", "reopened", "ready_for_review"];

struct Approve;

impl Plugin for Approve {
    fn describe() -> Manifest {
        Manifest {
            name: "approve".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Prow's approve: OWNERS approvers /approve, the `approved` label follows"
                .into(),
            events: vec![EventKind::Comment, EventKind::PullRequest],
            commands: vec![CommandInfo {
                name: "approve".into(),
                usage: "/approve [no-issue|cancel]".into(),
                description: "approve the files you own in OWNERS, or withdraw your approval"
                    .into(),
            }],
            permissions: vec![Permission::Labels, Permission::Comment, Permission::Kv],
            config_schema: Some(config::SCHEMA.into()),
        }
    }

    fn run(inv: Invocation, host: &dyn Host) -> Result<Vec<Action>, PluginError> {
        // The config is checked on every event, so a mistake shows up early.
        let cfg = Config::parse(&inv.config)?;
        let event = &inv.event;
        let command = match event.kind {
            EventKind::Comment
                if event
                    .command
                    .as_deref()
                    .is_some_and(|c| c.eq_ignore_ascii_case("approve")) =>
            {
                Some(Command::parse(&event.args))
            }
            EventKind::PullRequest
                if event
                    .action
                    .as_deref()
                    .is_some_and(|a| REFRESH_ACTIONS.contains(&a)) =>
            {
                None
            }
            _ => return Ok(Vec::new()),
        };
        let Some(number) = event.number else {
            host.info("the event names no pull request: nothing to approve");
            return Ok(Vec::new());
        };
        Ok(decide(&inv, number, command.as_ref(), &cfg, host))
    }
}

/// Reads the state, the changed files and their OWNERS, applies the
/// command, and returns the state, label and comment actions.
fn decide(
    inv: &Invocation,
    number: u64,
    command: Option<&Command>,
    cfg: &Config,
    host: &dyn Host,
) -> Vec<Action> {
    let event = &inv.event;
    let key = state::key(number);
    let stored = load_state(host, &key);
    let mut state = stored.clone();
    let author = pr_author(event, number, &mut state, host);
    let paths = owners::changed_paths(host.changed_files());
    let tree = OwnersTree::load(&paths, &mut |path| host.read_text(Side::Base, path));
    let units = Units::new(&paths, &tree);

    let commenter = event.author.as_deref().map(norm_login);
    let outcome = match (command, &commenter) {
        (Some(command), Some(login)) => Some(approval::apply(
            command,
            login,
            RepoPermission::of_author(inv),
            author.as_deref(),
            &units,
            cfg.rules,
            &mut state,
        )),
        (Some(_), None) => {
            host.log(LogLevel::Warn, "a command without an author: ignored");
            None
        }
        (None, _) => None,
    };
    let status = approval::status(&units, &state, author.as_deref(), cfg.rules);

    let mut actions = Vec::new();
    if state != stored {
        actions.push(Action::KvSet(KvEntry {
            key,
            value: state.encode(),
        }));
    }
    let labelled = event.labels.iter().any(|l| l == &cfg.label);
    if status.approved && !labelled {
        actions.push(Action::AddLabel(cfg.label.clone()));
    } else if !status.approved && labelled {
        actions.push(Action::RemoveLabel(cfg.label.clone()));
    }
    let report = Report {
        status: &status,
        outcome: commenter.as_deref().zip(outcome.as_ref()),
        any_owners: tree.any_owners(),
        fallback: cfg.rules.fallback,
        label: &cfg.label,
        problems: &tree.problems,
    };
    actions.push(Action::Comment(render::comment(&report)));
    if let Err(error) = host.set_output("approved", &status.approved.to_string()) {
        host.log(
            LogLevel::Warn,
            &format!("cannot set output `approved`: {error}"),
        );
    }
    actions
}

/// The stored approvals of a pull request; unreadable ones are logged and
/// start over.
fn load_state(host: &dyn Host, key: &str) -> State {
    match host.kv_get(key).as_deref().map(State::decode) {
        None => State::default(),
        Some(Ok(state)) => state,
        Some(Err(message)) => {
            host.log(LogLevel::Warn, &format!("{message}; starting over"));
            State::default()
        }
    }
}

/// The pull request's author: a pull request event names them; a comment
/// names the commenter, so then the stored author, or else the forge's list
/// of open pull requests. Unknown authors get no implicit approval.
fn pr_author(event: &Event, number: u64, state: &mut State, host: &dyn Host) -> Option<String> {
    if event.kind == EventKind::PullRequest {
        state.author = event.author.as_deref().map(norm_login);
    }
    if state.author.is_none() {
        match host.open_pull_requests() {
            Ok(pulls) => {
                state.author = pulls
                    .iter()
                    .find(|p| p.number == number)
                    .map(|p| norm_login(&p.author));
            }
            Err(error) => host.log(
                LogLevel::Warn,
                &format!("cannot tell who opened #{number} ({error}): no implicit self-approval"),
            ),
        }
    }
    state.author.clone()
}

andon_pdk::plugin!(Approve);

#[cfg(test)]
mod tests;
