//! What andon does on GitHub, as values: the outbox's vocabulary.
//!
//! A worker turns a run's authorised actions (and its replies to commands)
//! into [`Effect`]s, and the store keeps them in the outbox in the same
//! transaction as the run. The executor carries each one out later, at most
//! once in effect: every effect is idempotent by construction (a check run
//! is found by its `external_id`, a comment by its hidden marker, a label
//! is a desired state, a reaction is a set member, a commit status is a
//! desired state of its context), so carrying one out
//! again after a crash finds the earlier result instead of repeating it.

use serde::{Deserialize, Serialize};

use crate::action::{Annotation, Conclusion};

/// One thing to do on GitHub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Effect {
    /// Create a check run `in_progress` on `head_sha`, unless one with
    /// `external_id` already exists.
    CheckRunStart {
        name: String,
        head_sha: String,
        external_id: String,
    },
    /// Complete the check run with `external_id` (creating it if it is
    /// missing). Annotations are sent 50 per request, as GitHub requires.
    CheckRunFinish {
        name: String,
        head_sha: String,
        external_id: String,
        conclusion: Conclusion,
        title: String,
        summary: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        annotations: Vec<Annotation>,
    },
    /// The one comment for `marker` on issue or pull request `number`:
    /// created the first time, edited in place after that, split into
    /// several comments when over GitHub's size limit.
    StickyComment {
        number: u64,
        marker: String,
        body: String,
    },
    /// A comment posted once: a reply to a command. `marker` makes it
    /// findable, so a retry after a crash does not post it twice.
    Reply {
        number: u64,
        marker: String,
        body: String,
    },
    /// Make `label` present or absent on `number`; no call when it already
    /// is.
    Label {
        number: u64,
        label: String,
        present: bool,
    },
    /// React to the issue comment `comment_id` with `content` (`+1`,
    /// `eyes`, `confused`, `rocket`, ...).
    Reaction { comment_id: u64, content: String },
    /// Set the commit status `context` on `sha` (a scheduled run's result
    /// on the commit it ran). Statuses only accumulate on GitHub, so this
    /// is a desired state: no call when the newest status of `context`
    /// already has this state and description.
    CommitStatus {
        sha: String,
        context: String,
        state: CommitState,
        description: String,
    },
    /// Create the annotated tag `name` on `commit` (a model registry tag):
    /// a tag object, then the ref `refs/tags/{name}`. Tags are never moved:
    /// a ref that already points at a tag of `commit` is a retry and done;
    /// one that points elsewhere fails.
    Tag {
        name: String,
        commit: String,
        message: String,
        tagger_name: String,
        tagger_email: String,
        /// The tagger's time, seconds since the epoch (GTO's event time).
        time: i64,
    },
}

/// A commit status's state, in GitHub's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommitState {
    Pending,
    Success,
    Failure,
    Error,
}

impl CommitState {
    pub fn as_str(self) -> &'static str {
        match self {
            CommitState::Pending => "pending",
            CommitState::Success => "success",
            CommitState::Failure => "failure",
            CommitState::Error => "error",
        }
    }
}

impl Effect {
    /// A short name for logs and listings.
    pub fn kind(&self) -> &'static str {
        match self {
            Effect::CheckRunStart { .. } => "check-run-start",
            Effect::CheckRunFinish { .. } => "check-run-finish",
            Effect::StickyComment { .. } => "sticky-comment",
            Effect::Reply { .. } => "reply",
            Effect::Label { .. } => "label",
            Effect::Reaction { .. } => "reaction",
            Effect::CommitStatus { .. } => "commit-status",
            Effect::Tag { .. } => "tag",
        }
    }
}

/// An effect addressed to a repository, with its idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedEffect {
    /// Unique per effect and stable across retries and restarts:
    /// `{delivery}/{run index}/{step}/{n}` or similar.
    pub key: String,
    /// `owner/name`.
    pub repository: String,
    /// The GitHub App installation to act as; `None` with a plain token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installation: Option<u64>,
    pub effect: Effect,
}

/// How carrying out an effect ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum EffectOutcome {
    /// Done; `detail` says what was done or found (`created check run 12`,
    /// `label already present`).
    Done { detail: String },
    /// GitHub refused it for good (404, 422, no permission); not retried.
    Failed { error: String },
}
