//! `lgtm`: Prow's lgtm plugin. A reviewer with permission says `/lgtm` (or
//! submits an approving review) and the pull request gets the `lgtm`
//! label; `/lgtm cancel` (or a review requesting changes) removes it, and
//! so does a new push unless the label is sticky. Nobody LGTMs their own
//! pull request.
//!
//! The decision lives in [`plan`]; this file is the glue that asks the host
//! (the forge for the pull request's author, the OWNERS files with
//! `owners: true`) only when the decision needs it.

pub mod plan;

// Prow's OWNERS format, from the plugin kit (the approve plugin reads it
// too).
pub use andon_pdk::owners;

use andon_pdk::types::{
    Action, CommandInfo, EventKind, Invocation, LogLevel, Manifest, Permission, PluginError, Side,
};
use andon_pdk::{Host, Plugin, RepoPermission};

use crate::owners::{OwnersTree, norm_login};
use crate::plan::{Actor, Config, Intent};

struct Lgtm;

impl Plugin for Lgtm {
    fn describe() -> Manifest {
        Manifest {
            name: "lgtm".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Prow's lgtm: reviewers /lgtm, the `lgtm` label follows".into(),
            events: vec![
                EventKind::Comment,
                EventKind::Review,
                EventKind::PullRequest,
            ],
            commands: vec![CommandInfo {
                name: "lgtm".into(),
                usage: "/lgtm [cancel]".into(),
                description: "add the lgtm label to someone else's pull request, or remove it"
                    .into(),
            }],
            permissions: vec![Permission::Labels, Permission::Comment],
            config_schema: Some(plan::SCHEMA.into()),
        }
    }

    fn run(inv: Invocation, host: &dyn Host) -> Result<Vec<Action>, PluginError> {
        // The config is checked on every event, so a mistake shows up early.
        let cfg = Config::parse(&inv.config)?;
        let event = &inv.event;
        let labelled = event.labels.iter().any(|l| l == &cfg.label);
        let intent = match event.kind {
            EventKind::PullRequest => {
                let pushed = event.action.as_deref() == Some("synchronize");
                let on_pr = event.number.is_some();
                return Ok(if pushed && on_pr {
                    plan::on_push(labelled, &cfg)
                } else {
                    Vec::new()
                });
            }
            EventKind::Comment
                if event
                    .command
                    .as_deref()
                    .is_some_and(|c| c.eq_ignore_ascii_case("lgtm")) =>
            {
                Intent::of_command(&event.args)
            }
            EventKind::Review => match event.review_state.as_deref() {
                Some(state) => match Intent::of_review(state, &cfg) {
                    Some(intent) => intent,
                    None => return Ok(Vec::new()),
                },
                None => return Ok(Vec::new()),
            },
            _ => return Ok(Vec::new()),
        };
        let Some(number) = event.number else {
            host.info("the event names no pull request: nothing to LGTM");
            return Ok(Vec::new());
        };
        let Some(login) = event.author.as_deref().map(norm_login) else {
            host.log(LogLevel::Warn, "an event without an author: ignored");
            return Ok(Vec::new());
        };
        let actor = Actor {
            login,
            permission: RepoPermission::of_author(&inv),
        };
        // The forge is asked at most once; its failure is the run's.
        let mut lookup_error = None;
        let pull_request_author = event.pull_request_author.as_deref().map(norm_login);
        let author = || match pull_request_author
            .clone()
            .map_or_else(|| pr_author(host, number), |a| Ok(Some(a)))
        {
            Ok(author) => author,
            Err(error) => {
                lookup_error = Some(error);
                None
            }
        };
        let listed = || listed_in_owners(host, &actor.login);
        let verdict = match intent {
            Intent::Add => plan::may_add(&actor, &cfg, author, listed),
            Intent::Remove => plan::may_remove(&actor, &cfg, author, listed),
            Intent::Usage(_) => plan::Verdict::Allowed,
        };
        if let Some(error) = lookup_error {
            return Err(PluginError::Failed(error));
        }
        Ok(plan::actions(&intent, &verdict, &actor, labelled, &cfg))
    }
}

/// The author of open pull request `number`, normalised, asked of the
/// forge when the event does not say (a host before it sent
/// `pull-request-author`); `None` when it is not open.
fn pr_author(host: &dyn Host, number: u64) -> Result<Option<String>, String> {
    let pulls = host.open_pull_requests().map_err(|error| {
        format!("cannot list open pull requests to tell who opened #{number}: {error}")
    })?;
    Ok(pulls
        .iter()
        .find(|p| p.number == number)
        .map(|p| norm_login(&p.author)))
}

/// Whether `login` is a reviewer or approver in an OWNERS file (at the base
/// revision) covering a changed file. Problems with the files are logged.
fn listed_in_owners(host: &dyn Host, login: &str) -> bool {
    let paths = owners::changed_paths(host.changed_files());
    let tree = OwnersTree::load(&paths, &mut |path| host.read_text(Side::Base, path));
    for problem in &tree.problems {
        host.log(LogLevel::Warn, &problem.to_string());
    }
    let roots = [String::new()];
    let paths = if paths.is_empty() { &roots[..] } else { &paths };
    paths
        .iter()
        .any(|path| tree.coverage(path).reviewers.contains(login))
}

andon_pdk::plugin!(Lgtm);

#[cfg(test)]
mod tests;
