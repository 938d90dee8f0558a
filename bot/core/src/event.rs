//! The typed event a workflow runs for, whatever its source (a webhook, the
//! CLI or a schedule).

use serde::{Deserialize, Serialize};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    PullRequest,
    Push,
    Manual,
    Comment,
    Schedule,
    /// A review submitted on a pull request.
    Review,
    /// One of andon's own runs finished (on a push or a schedule).
    WorkflowRun,
}

impl EventKind {
    /// The name used in workflow files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::PullRequest => "pull_request",
            EventKind::Push => "push",
            EventKind::Manual => "manual",
            EventKind::Comment => "comment",
            EventKind::Schedule => "schedule",
            EventKind::Review => "review",
            EventKind::WorkflowRun => "workflow_run",
        }
    }

    /// Parse the name used in workflow files and on the command line.
    pub fn parse(name: &str) -> Option<EventKind> {
        Some(match name {
            "pull_request" => EventKind::PullRequest,
            "push" => EventKind::Push,
            "manual" => EventKind::Manual,
            "comment" => EventKind::Comment,
            "schedule" => EventKind::Schedule,
            "review" => EventKind::Review,
            "workflow_run" => EventKind::WorkflowRun,
            _ => return None,
        })
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event, parsed once at the boundary. Fields that do not apply to the
/// kind are `None` or empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub kind: EventKind,
    /// GitHub's sub-kind: `opened`, `synchronize`, `labeled`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// `owner/name`, or the local folder's name.
    pub repository: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_association: Option<String>,
    /// Full commit id of the base revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// Full commit id of the head revision.
    pub head: String,
    /// The branch the event targets: a pull request's base branch, or the
    /// pushed branch (without `refs/heads/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// The author's repository permission (`admin` … `none`), asked of
    /// GitHub, for comment and review events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_permission: Option<String>,
    /// A review's state: `approved`, `changes_requested`, `commented`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_state: Option<String>,
    /// The run that finished, for workflow-run events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<RunInfo>,
    /// The repository's default branch, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_branch: Option<String>,
    /// Who opened the pull request (`author` is who caused the event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_request_author: Option<String>,
}

/// A finished run of andon, as a workflow-run event carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunInfo {
    pub id: u64,
    pub workflow: String,
    /// `success`, `failure`, `error` or `cancelled`.
    pub status: String,
    /// What the run ran for (`push` or `schedule`).
    pub event: EventKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    pub head: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// One line on what failed; empty on success.
    #[serde(default)]
    pub summary: String,
}

/// An open pull request, as a forge lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenPullRequest {
    pub number: u64,
    pub title: String,
    pub author: String,
    pub labels: Vec<String>,
    pub head: String,
    pub base_branch: String,
    pub draft: bool,
}

impl Event {
    /// A bare event of `kind` at `head`, for local runs and tests.
    pub fn new(kind: EventKind, repository: impl Into<String>, head: impl Into<String>) -> Event {
        Event {
            kind,
            action: None,
            repository: repository.into(),
            number: None,
            author: None,
            author_association: None,
            base: None,
            head: head.into(),
            branch: None,
            title: None,
            body: None,
            labels: Vec::new(),
            command: None,
            args: Vec::new(),
            author_permission: None,
            review_state: None,
            run: None,
            default_branch: None,
            pull_request_author: None,
        }
    }
}
