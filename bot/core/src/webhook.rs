//! GitHub webhook payloads: the one place raw delivery bytes become a typed
//! [`Event`] and the decision to route it to workflows or to ignore it.
//!
//! The payload is read as untyped JSON and walked by path, so an error names
//! the exact field (`pull_request.head.sha`) and fields andon does not use
//! can change shape without breaking it. Events andon does not act on are
//! not errors: they become [`Parsed::Ignore`] with a reason for the log.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::command::{self, CommandLine};
use crate::event::{Event, EventKind};

/// The pull request actions routed to workflows: every type a workflow's
/// `on.pull_request.types` accepts.
pub const PULL_REQUEST_ACTIONS: [&str; 9] = [
    "opened",
    "synchronize",
    "reopened",
    "ready_for_review",
    "labeled",
    "unlabeled",
    "closed",
    "edited",
    "converted_to_draft",
];

/// What the bot should do with a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(
    clippy::large_enum_variant,
    reason = "one value per delivery, matched once and moved on: a box buys nothing"
)]
pub enum Parsed {
    /// GitHub's hello when a webhook is set up: answer, do nothing.
    Ping { zen: Option<String> },
    /// An event to plan workflows for.
    Route(Incoming),
    /// Nothing to do, and why (for the log).
    Ignore { reason: String },
}

/// A routed event with what the worker needs besides the [`Event`]. The
/// event's `command` and `args` are left empty: the worker sets them for
/// each of `commands` it acts on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incoming {
    pub event: Event,
    /// The GitHub App installation that received the delivery.
    pub installation: Option<u64>,
    /// `repository.clone_url`.
    pub clone_url: Option<String>,
    /// `repository.default_branch` (or the older `master_branch`).
    pub default_branch: Option<String>,
    /// `sender.login`: who caused the event.
    pub sender: String,
    /// The id of the issue comment, to react to it.
    pub comment_id: Option<u64>,
    /// Commands in a comment or review body.
    pub commands: Vec<CommandLine>,
    /// The pull request's head is in another repository than its base. For
    /// an `issue_comment` the payload does not say, so this is `false` and
    /// the worker learns it when it fetches the pull request.
    pub fork: bool,
    /// A submitted review's state: `approved`, `commented`,
    /// `changes_requested`.
    pub review_state: Option<String>,
}

/// A payload that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("the `{event}` payload is not valid JSON: {message}")]
    Json { event: String, message: String },
    #[error("the `{event}` payload should be a JSON object, found {found}")]
    NotAnObject { event: String, found: &'static str },
    #[error("the `{event}` payload has no `{field}`")]
    Missing { event: String, field: String },
    #[error("`{field}` in the `{event}` payload should be {expected}, found {found}")]
    WrongType {
        event: String,
        field: String,
        expected: &'static str,
        found: &'static str,
    },
}

/// Read the delivery of `event_name` (the `X-GitHub-Event` header) with
/// `body`. `self_login` is andon's own login (`andon[bot]` for an App), so
/// its own comments and pushes do not trigger it again.
pub fn parse(
    event_name: &str,
    body: &[u8],
    self_login: Option<&str>,
) -> Result<Parsed, WebhookError> {
    let root: Value = serde_json::from_slice(body).map_err(|e| WebhookError::Json {
        event: event_name.to_string(),
        message: e.to_string(),
    })?;
    if !root.is_object() {
        return Err(WebhookError::NotAnObject {
            event: event_name.to_string(),
            found: type_name(&root),
        });
    }
    let payload = Payload {
        event: event_name,
        root: &root,
    };
    if event_name == "ping" {
        let zen = payload.opt_str("zen")?.map(ToString::to_string);
        return Ok(Parsed::Ping { zen });
    }
    if ![
        "pull_request",
        "issue_comment",
        "pull_request_review",
        "push",
        "installation",
    ]
    .contains(&event_name)
    {
        return Ok(ignore(format!("event `{event_name}` is not handled")));
    }
    let sender = payload.str("sender.login")?;
    if let Some(me) = self_login
        && is_self(sender, payload.opt_str("sender.type")?, me)
    {
        return Ok(ignore("sent by andon itself".into()));
    }
    match event_name {
        "pull_request" => pull_request(&payload, sender),
        "issue_comment" => issue_comment(&payload, sender),
        "pull_request_review" => review(&payload, sender),
        "push" => push(&payload, sender),
        _ => installation(&payload, sender),
    }
}

fn ignore(reason: String) -> Parsed {
    Parsed::Ignore { reason }
}

/// Whether `login` (of account type `kind`) is andon itself. Logins compare
/// without case, as on GitHub; a `Bot` account also matches without its
/// `[bot]` suffix, so `andon` and `andon[bot]` name the same App.
fn is_self(login: &str, kind: Option<&str>, me: &str) -> bool {
    if me.is_empty() {
        return false;
    }
    if login.eq_ignore_ascii_case(me) {
        return true;
    }
    let bare = |name: &str| {
        name.strip_suffix("[bot]")
            .unwrap_or(name)
            .to_ascii_lowercase()
    };
    kind == Some("Bot") && bare(login) == bare(me)
}

fn pull_request(p: &Payload<'_>, sender: &str) -> Result<Parsed, WebhookError> {
    let action = p.str("action")?;
    if !PULL_REQUEST_ACTIONS.contains(&action) {
        return Ok(ignore(format!(
            "pull_request action `{action}` is not handled"
        )));
    }
    let mut event = p.event(EventKind::PullRequest, p.str("pull_request.head.sha")?)?;
    event.action = Some(action.to_string());
    p.fill_pull_request(&mut event)?;
    event.author = Some(p.str("pull_request.user.login")?.to_string());
    event.author_association = p.opt_string("pull_request.author_association")?;
    event.body = p.opt_string("pull_request.body")?;
    p.route(event, sender, Vec::new(), None, p.fork()?, None)
}

fn issue_comment(p: &Payload<'_>, sender: &str) -> Result<Parsed, WebhookError> {
    let action = p.str("action")?;
    if action != "created" {
        return Ok(ignore(format!(
            "issue_comment action `{action}` is not handled"
        )));
    }
    if p.get("issue.pull_request")?.is_none() {
        return Ok(ignore("comment on an issue, not a pull request".into()));
    }
    // The payload has no commit: the worker fetches the pull request's head.
    let mut event = p.event(EventKind::Comment, "")?;
    event.action = Some(action.to_string());
    event.number = Some(p.u64("issue.number")?);
    event.title = p.opt_string("issue.title")?;
    event.labels = p.labels("issue.labels")?;
    event.pull_request_author = p.opt_string("issue.user.login")?;
    event.author = Some(p.str("comment.user.login")?.to_string());
    event.author_association = p.opt_string("comment.author_association")?;
    event.body = p.opt_string("comment.body")?;
    let commands = command::parse(event.body.as_deref().unwrap_or_default());
    let comment_id = Some(p.u64("comment.id")?);
    p.route(event, sender, commands, comment_id, false, None)
}

fn review(p: &Payload<'_>, sender: &str) -> Result<Parsed, WebhookError> {
    let action = p.str("action")?;
    if action != "submitted" {
        return Ok(ignore(format!(
            "pull_request_review action `{action}` is not handled"
        )));
    }
    let head = p.str("pull_request.head.sha")?;
    let mut event = p.event(EventKind::Comment, head)?;
    event.action = Some("review_submitted".into());
    p.fill_pull_request(&mut event)?;
    event.author = Some(p.str("review.user.login")?.to_string());
    event.author_association = p.opt_string("review.author_association")?;
    event.body = p.opt_string("review.body")?;
    let commands = command::parse(event.body.as_deref().unwrap_or_default());
    let state = p.opt_string("review.state")?;
    p.route(event, sender, commands, None, p.fork()?, state)
}

fn push(p: &Payload<'_>, sender: &str) -> Result<Parsed, WebhookError> {
    let reference = p.str("ref")?;
    if let Some(tag) = reference.strip_prefix("refs/tags/") {
        return Ok(ignore(format!("push of tag `{tag}` is not handled")));
    }
    let Some(branch) = reference.strip_prefix("refs/heads/") else {
        return Ok(ignore(format!(
            "push to `{reference}` is not a branch push"
        )));
    };
    let after = p.str("after")?;
    if after.is_empty() {
        return Err(p.missing("after"));
    }
    if p.opt_bool("deleted")? == Some(true) || is_zero_sha(after) {
        return Ok(ignore(format!("branch `{branch}` was deleted")));
    }
    let mut event = p.event(EventKind::Push, after)?;
    event.base = p
        .opt_str("before")?
        .filter(|sha| !sha.is_empty() && !is_zero_sha(sha))
        .map(ToString::to_string);
    event.branch = Some(branch.to_string());
    event.author = Some(sender.to_string());
    p.route(event, sender, Vec::new(), None, false, None)
}

fn installation(p: &Payload<'_>, sender: &str) -> Result<Parsed, WebhookError> {
    let action = p.str("action")?;
    let reason = match p.get("repositories")? {
        Some(Value::Array(repos)) => {
            let noun = if repos.len() == 1 {
                "repository"
            } else {
                "repositories"
            };
            format!(
                "installation {action} for {} {noun} by {sender}",
                repos.len()
            )
        }
        _ => format!("installation {action} by {sender}"),
    };
    Ok(ignore(reason))
}

/// A git object id of zeros: "no commit" in a push (a created or deleted
/// branch).
fn is_zero_sha(sha: &str) -> bool {
    !sha.is_empty() && sha.bytes().all(|b| b == b'0')
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A payload with its event name, read by dotted paths.
struct Payload<'a> {
    event: &'a str,
    root: &'a Value,
}

impl<'a> Payload<'a> {
    /// The value at `path`; `None` when it or a parent is missing or null.
    fn get(&self, path: &str) -> Result<Option<&'a Value>, WebhookError> {
        let mut value = self.root;
        let mut walked = 0;
        for key in path.split('.') {
            let Value::Object(map) = value else {
                return Err(self.wrong(&path[..walked.max(1) - 1], "an object", value));
            };
            match map.get(key) {
                None | Some(Value::Null) => return Ok(None),
                Some(next) => value = next,
            }
            walked += key.len() + 1;
        }
        Ok(Some(value))
    }

    fn opt_str(&self, path: &str) -> Result<Option<&'a str>, WebhookError> {
        match self.get(path)? {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.wrong(path, "a string", other)),
        }
    }

    fn opt_string(&self, path: &str) -> Result<Option<String>, WebhookError> {
        Ok(self.opt_str(path)?.map(ToString::to_string))
    }

    fn str(&self, path: &str) -> Result<&'a str, WebhookError> {
        self.opt_str(path)?.ok_or_else(|| self.missing(path))
    }

    fn opt_bool(&self, path: &str) -> Result<Option<bool>, WebhookError> {
        match self.get(path)? {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.wrong(path, "true or false", other)),
        }
    }

    fn u64(&self, path: &str) -> Result<u64, WebhookError> {
        match self.get(path)? {
            None => Err(self.missing(path)),
            Some(value) => value
                .as_u64()
                .ok_or_else(|| self.wrong(path, "a positive integer", value)),
        }
    }

    fn opt_u64(&self, path: &str) -> Result<Option<u64>, WebhookError> {
        match self.get(path)? {
            None => Ok(None),
            Some(value) => value
                .as_u64()
                .map(Some)
                .ok_or_else(|| self.wrong(path, "a positive integer", value)),
        }
    }

    /// The names of a list of label objects.
    fn labels(&self, path: &str) -> Result<Vec<String>, WebhookError> {
        match self.get(path)? {
            None => Ok(Vec::new()),
            Some(Value::Array(labels)) => Ok(labels
                .iter()
                .filter_map(|label| label.get("name")?.as_str())
                .map(ToString::to_string)
                .collect()),
            Some(other) => Err(self.wrong(path, "an array", other)),
        }
    }

    /// An event of `kind` at `head` on the payload's repository.
    fn event(&self, kind: EventKind, head: &str) -> Result<Event, WebhookError> {
        Ok(Event::new(kind, self.str("repository.full_name")?, head))
    }

    /// The fields every pull request payload carries in `pull_request`.
    fn fill_pull_request(&self, event: &mut Event) -> Result<(), WebhookError> {
        event.number = Some(self.u64("pull_request.number")?);
        event.base = Some(self.str("pull_request.base.sha")?.to_string());
        event.branch = Some(self.str("pull_request.base.ref")?.to_string());
        event.title = self.opt_string("pull_request.title")?;
        event.labels = self.labels("pull_request.labels")?;
        event.pull_request_author = self.opt_string("pull_request.user.login")?;
        Ok(())
    }

    /// Whether the pull request comes from another repository. A head
    /// repository that was deleted counts as a fork: it is not the base.
    fn fork(&self) -> Result<bool, WebhookError> {
        let head = self.opt_str("pull_request.head.repo.full_name")?;
        let base = match self.opt_str("pull_request.base.repo.full_name")? {
            Some(base) => base,
            None => self.str("repository.full_name")?,
        };
        Ok(head != Some(base))
    }

    fn route(
        &self,
        event: Event,
        sender: &str,
        commands: Vec<CommandLine>,
        comment_id: Option<u64>,
        fork: bool,
        review_state: Option<String>,
    ) -> Result<Parsed, WebhookError> {
        let default_branch = match self.opt_string("repository.default_branch")? {
            Some(branch) => Some(branch),
            None => self.opt_string("repository.master_branch")?,
        };
        Ok(Parsed::Route(Incoming {
            event,
            installation: self.opt_u64("installation.id")?,
            clone_url: self.opt_string("repository.clone_url")?,
            default_branch,
            sender: sender.to_string(),
            comment_id,
            commands,
            fork,
            review_state,
        }))
    }

    fn missing(&self, field: &str) -> WebhookError {
        WebhookError::Missing {
            event: self.event.to_string(),
            field: field.to_string(),
        }
    }

    fn wrong(&self, field: &str, expected: &'static str, found: &Value) -> WebhookError {
        WebhookError::WrongType {
            event: self.event.to_string(),
            field: field.to_string(),
            expected,
            found: type_name(found),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_routed_pull_request_action_is_a_workflow_type() {
        for action in PULL_REQUEST_ACTIONS {
            let text = format!(
                "on: {{ pull_request: {{ types: [{action}] }} }}\nsteps: [{{ uses: size }}]"
            );
            let parsed = crate::workflow::parse("w.yml", &text);
            assert!(
                parsed.diagnostics.is_empty(),
                "{action}: {:?}",
                parsed.diagnostics
            );
        }
    }

    #[test]
    fn self_is_matched_with_and_without_the_bot_suffix() {
        assert!(is_self("andon[bot]", Some("Bot"), "andon[bot]"));
        assert!(is_self("andon[bot]", Some("Bot"), "andon"));
        assert!(is_self("Andon", Some("User"), "andon"));
        assert!(!is_self("andon", Some("User"), "andon[bot]"));
        assert!(!is_self("alice", Some("User"), "andon"));
        assert!(!is_self("alice", None, ""));
    }

    #[test]
    fn errors_name_the_field() {
        let root = serde_json::json!({ "a": { "b": 5 }, "c": "x" });
        let p = Payload {
            event: "e",
            root: &root,
        };
        let message = |e: WebhookError| e.to_string();
        assert_eq!(
            p.str("a.b").map_err(message),
            Err("`a.b` in the `e` payload should be a string, found a number".into())
        );
        assert_eq!(
            p.str("a.b.c").map_err(message),
            Err("`a.b` in the `e` payload should be an object, found a number".into())
        );
        assert_eq!(
            p.str("c.d").map_err(message),
            Err("`c` in the `e` payload should be an object, found a string".into())
        );
        assert_eq!(
            p.str("a.z").map_err(message),
            Err("the `e` payload has no `a.z`".into())
        );
    }
}
