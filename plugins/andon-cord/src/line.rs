//! The state of the line (which workflows are failing, which pull requests
//! carry a stop notice) and what it takes to bring every open pull request
//! in line with it. Pure: the glue in `lib.rs` reads kv and lists the pull
//! requests, this module decides.

use std::collections::BTreeMap;

use andon_pdk::types::PullRequest;
use serde::{Deserialize, Serialize};

use crate::config::Config;

/// The kv key the state is kept under.
pub const STATE_KEY: &str = "state";

/// One failing workflow on one branch: its latest failed run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub workflow: String,
    pub branch: String,
    pub run_id: u64,
    /// `failure` or `error`.
    pub status: String,
    /// `push` or `schedule`.
    pub event: String,
    /// The commit the run failed at.
    pub head: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default)]
    pub summary: String,
}

/// What the plugin remembers between runs, in kv.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    /// Failing workflows, sorted by workflow then branch. The line is
    /// stopped while this is not empty.
    pub failing: Vec<Failure>,
    /// Pull requests whose sticky comment says the line is stopped, with a
    /// fingerprint of that comment, so an unchanged notice is not sent again
    /// and a lift knows whom to tell.
    pub notified: BTreeMap<u64, u64>,
}

impl State {
    /// Reads the kv value; a value that does not parse starts afresh (the
    /// reason is returned for the log) rather than wedging the plugin.
    pub fn load(bytes: Option<&[u8]>) -> (State, Option<String>) {
        match bytes {
            None => (State::default(), None),
            Some(bytes) => match serde_json::from_slice(bytes) {
                Ok(state) => (state, None),
                Err(e) => (
                    State::default(),
                    Some(format!(
                        "the stored state does not parse, starting afresh: {e}"
                    )),
                ),
            },
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }

    pub fn stopped(&self) -> bool {
        !self.failing.is_empty()
    }

    /// Notices still to be taken back: the line runs but some pull request
    /// was told it is stopped (a lift whose listing failed, say).
    pub fn lift_pending(&self) -> bool {
        !self.stopped() && !self.notified.is_empty()
    }

    /// Records (or replaces) the latest failed run of a workflow on a branch.
    pub fn fail(&mut self, failure: Failure) {
        self.failing
            .retain(|f| !(f.workflow == failure.workflow && f.branch == failure.branch));
        self.failing.push(failure);
        self.failing.sort_by(|a, b| {
            (a.workflow.as_str(), a.branch.as_str()).cmp(&(b.workflow.as_str(), b.branch.as_str()))
        });
    }

    /// A workflow went green on a branch.
    pub fn pass(&mut self, workflow: &str, branch: &str) {
        self.failing
            .retain(|f| !(f.workflow == workflow && f.branch == branch));
    }

    /// The `state` output: whether the line is stopped, and why.
    pub fn output(&self, cfg: &Config) -> String {
        serde_json::json!({
            "stopped": self.stopped(),
            "label": cfg.label,
            "failing": self.failing,
        })
        .to_string()
    }
}

/// A change to one pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    AddLabel(u64),
    RemoveLabel(u64),
    Comment(u64, String),
}

/// Whether a pull request carries `label` (GitHub compares labels without
/// case).
pub fn has_label(labels: &[String], label: &str) -> bool {
    labels.iter().any(|l| l.eq_ignore_ascii_case(label))
}

/// Brings every open pull request in line with the state: while stopped,
/// each gets the label and the current stop notice; once running, the label
/// goes and those told of the stop are told it is over (`cleared_by` names
/// who pulled the cord back). Forgets closed pull requests.
pub fn sync(
    state: &mut State,
    pulls: &[PullRequest],
    cfg: &Config,
    cleared_by: Option<&str>,
) -> Vec<Change> {
    state
        .notified
        .retain(|number, _| pulls.iter().any(|p| p.number == *number));
    let mut changes = Vec::new();
    if state.stopped() {
        let body = stopped_body(&state.failing, cfg);
        let print = fingerprint(&body);
        for pull in pulls {
            if !has_label(&pull.labels, &cfg.label) {
                changes.push(Change::AddLabel(pull.number));
            }
            if state.notified.get(&pull.number) != Some(&print) {
                changes.push(Change::Comment(pull.number, body.clone()));
                state.notified.insert(pull.number, print);
            }
        }
    } else {
        let body = running_body(cfg, cleared_by);
        for pull in pulls {
            if has_label(&pull.labels, &cfg.label) {
                changes.push(Change::RemoveLabel(pull.number));
            }
            if state.notified.remove(&pull.number).is_some() {
                changes.push(Change::Comment(pull.number, body.clone()));
            }
        }
    }
    changes
}

/// Stops one pull request (just opened or reopened) while the line is
/// stopped, without listing the others.
pub fn stop_one(state: &mut State, number: u64, labels: &[String], cfg: &Config) -> Vec<Change> {
    if !state.stopped() {
        return Vec::new();
    }
    let mut changes = Vec::new();
    if !has_label(labels, &cfg.label) {
        changes.push(Change::AddLabel(number));
    }
    let body = stopped_body(&state.failing, cfg);
    let print = fingerprint(&body);
    if state.notified.get(&number) != Some(&print) {
        changes.push(Change::Comment(number, body));
        state.notified.insert(number, print);
    }
    changes
}

/// The stop notice: what failed, and how to lift it. It depends only on
/// the failing runs, so a repeated delivery leaves it unchanged.
pub fn stopped_body(failing: &[Failure], cfg: &Config) -> String {
    let mut out = String::from("## 🛑 The line is stopped\n\n");
    out.push_str(&format!(
        "A workflow failed on a watched branch, so merging is on hold: every open pull request \
         has the `{}` label until the line runs again.\n\n",
        code(&cfg.label)
    ));
    out.push_str("| Workflow | Branch | Commit | Run | What failed |\n|---|---|---|---|---|\n");
    for f in failing {
        let run = match &f.url {
            Some(url) => format!("[#{}]({url}) ({}, {})", f.run_id, f.status, f.event),
            None => format!("#{} ({}, {})", f.run_id, f.status, f.event),
        };
        let summary = if f.summary.trim().is_empty() {
            "(no summary)".to_string()
        } else {
            cell(&f.summary)
        };
        out.push_str(&format!(
            "| `{}` | `{}` | `{}` | {run} | {summary} |\n",
            code(&cell(&f.workflow)),
            code(&cell(&f.branch)),
            code(&short(&f.head)),
        ));
    }
    out.push_str(&format!(
        "\nTo lift it, fix the failure: the next green run of each failing workflow on its \
         branch takes the label off every pull request. Someone with the `{}` permission or \
         higher can also comment `/andon clear`.\n",
        cfg.clear_permission
    ));
    out
}

/// The notice that replaces the stop notice once the line runs again.
pub fn running_body(cfg: &Config, cleared_by: Option<&str>) -> String {
    let how = match cleared_by {
        Some(login) => format!("@{login} cleared it with `/andon clear`"),
        None => "the failing workflows are green again".into(),
    };
    format!(
        "## ✅ The line is running again\n\n{how}, so the `{}` label is off and merging \
         may go on.\n",
        code(&cfg.label)
    )
}

/// The first seven characters of a commit id.
fn short(head: &str) -> String {
    head.chars().take(7).collect()
}

/// Text for one Markdown table cell: one line, no column breaks.
fn cell(text: &str) -> String {
    let line = text.lines().map(str::trim).collect::<Vec<_>>().join(" ");
    line.replace('|', "\\|")
}

/// Text safe inside a Markdown code span.
fn code(text: &str) -> String {
    text.replace('`', "'")
}

/// FNV-1a: a stable fingerprint of a comment body (the standard library's
/// hasher is not guaranteed stable across releases, and kv outlives them).
pub fn fingerprint(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use andon_pdk::testing::pull_request;

    use super::*;

    fn failure(workflow: &str, run_id: u64) -> Failure {
        Failure {
            workflow: workflow.into(),
            branch: "main".into(),
            run_id,
            status: "failure".into(),
            event: "push".into(),
            head: "0123456789abcdef".into(),
            url: Some(format!("https://ci.example/runs/{run_id}")),
            summary: "tests | failed\nsecond line".into(),
        }
    }

    #[test]
    fn failures_replace_per_workflow_and_branch() {
        let mut state = State::default();
        state.fail(failure("lint", 1));
        state.fail(failure("ci", 2));
        state.fail(failure("ci", 3));
        let ids: Vec<u64> = state.failing.iter().map(|f| f.run_id).collect();
        assert_eq!(ids, [3, 1]);
        state.pass("ci", "release");
        assert_eq!(state.failing.len(), 2);
        state.pass("ci", "main");
        state.pass("lint", "main");
        assert!(!state.stopped());
    }

    #[test]
    fn the_notice_is_one_table_row_per_failure() {
        let body = stopped_body(&[failure("ci", 42)], &Config::default());
        assert!(body.contains("`do-not-merge/andon`"), "{body}");
        assert!(
            body.contains(
                "| `ci` | `main` | `0123456` | [#42](https://ci.example/runs/42) (failure, push) \
                 | tests \\| failed second line |"
            ),
            "{body}"
        );
        assert!(body.contains("`maintain` permission"), "{body}");
        assert!(body.contains("`/andon clear`"), "{body}");
    }

    #[test]
    fn sync_sends_only_what_changed() {
        let cfg = Config::default();
        let mut state = State::default();
        state.fail(failure("ci", 1));
        let pulls = [
            pull_request(1, &[]),
            pull_request(2, &["Do-Not-Merge/Andon"]),
        ];
        let changes = sync(&mut state, &pulls, &cfg, None);
        assert_eq!(changes.len(), 3, "{changes:?}");
        assert!(matches!(changes[0], Change::AddLabel(1)));
        // Everyone is told and labelled: a second sync is silent.
        let pulls = [
            pull_request(1, &["do-not-merge/andon"]),
            pull_request(2, &["do-not-merge/andon"]),
        ];
        assert!(sync(&mut state, &pulls, &cfg, None).is_empty());
        // A closed pull request is forgotten.
        state.pass("ci", "main");
        let changes = sync(&mut state, &pulls[..1], &cfg, None);
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert!(matches!(changes[0], Change::RemoveLabel(1)));
        assert!(state.notified.is_empty());
    }

    #[test]
    fn stored_state_round_trips_and_garbage_starts_afresh() {
        let mut state = State::default();
        state.fail(failure("ci", 7));
        state.notified.insert(3, 99);
        let json = state.to_json();
        assert_eq!(State::load(Some(json.as_bytes())), (state, None));
        let (fresh, why) = State::load(Some(b"not json"));
        assert_eq!(fresh, State::default());
        assert!(why.is_some_and(|w| w.contains("starting afresh")));
    }

    #[test]
    fn fingerprints_are_stable() {
        assert_eq!(fingerprint(""), 0xcbf2_9ce4_8422_2325);
        assert_ne!(fingerprint("a"), fingerprint("b"));
    }
}
