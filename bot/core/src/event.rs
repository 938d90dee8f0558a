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
        }
    }
}
