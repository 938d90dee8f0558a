//! Workflow files: YAML in `.andon/workflows/`, parsed into [`Workflow`]s.
//!
//! Parsing never fails as a whole: [`parse`] returns the workflow when it is
//! usable plus every problem found, each with file, line and a hint, so one
//! broken file or key never hides the others.

use std::time::Duration;

use serde::Serialize;

use crate::diagnostic::{Diagnostic, Severity};
use crate::event::EventKind;
use crate::glob::Filter;
use crate::manifest::Permission;
use crate::schedule::{self, Cron, Missed, Overlap, Policy, Report, ReportWhen};
use crate::yaml::{self, Node, Value};

/// The default folder of workflow files in a repository.
pub const DEFAULT_DIR: &str = ".andon/workflows";

/// A parsed, valid workflow.
#[derive(Debug, Clone, PartialEq)]
pub struct Workflow {
    pub name: String,
    /// The file it came from, as given to [`parse`].
    pub file: String,
    pub on: Triggers,
    pub concurrency: Option<Concurrency>,
    pub steps: Vec<Step>,
    /// Where scheduled runs report on GitHub (`report:`); `None`: only in
    /// the store.
    pub report: Option<Report>,
}

/// When a workflow runs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Triggers {
    pub pull_request: Option<PullRequestTrigger>,
    pub push: Option<PushTrigger>,
    pub manual: bool,
    pub comment: Option<CommentTrigger>,
    pub schedule: Vec<ScheduleTrigger>,
    pub review: Option<ReviewTrigger>,
    pub workflow_run: Option<WorkflowRunTrigger>,
}

/// Reviews submitted on pull requests (`on: review`).
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewTrigger {
    /// Review states: `approved`, `changes_requested`, `commented`.
    pub states: Vec<String>,
    /// Base branches; `None` means any.
    pub branches: Option<Filter>,
}

/// The review states a workflow runs on when it names none.
pub const REVIEW_STATES: [&str; 3] = ["approved", "changes_requested", "commented"];

/// andon's own runs finishing (`on: workflow_run`), as GitHub Actions'
/// `workflow_run: {types: [completed]}`.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowRunTrigger {
    /// The workflows whose runs count, by name; `None` means every other
    /// workflow.
    pub workflows: Option<Vec<String>>,
    /// The branches the runs ran on; `None` means any (a scheduled run
    /// counts as the default branch's).
    pub branches: Option<Filter>,
}

/// The pull request actions a workflow runs on when it names none, as in
/// GitHub Actions.
pub const DEFAULT_PR_TYPES: [&str; 3] = ["opened", "synchronize", "reopened"];

#[derive(Debug, Clone, PartialEq)]
pub struct PullRequestTrigger {
    pub types: Vec<String>,
    /// Base branches; `None` means any.
    pub branches: Option<Filter>,
    /// Changed paths; `None` means any.
    pub paths: Option<Filter>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PushTrigger {
    pub branches: Option<Filter>,
    pub paths: Option<Filter>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommentTrigger {
    /// The commands without their slash: `data-check` for `/data-check`,
    /// `/andon data-check` and `/andon run data-check`. The first is the
    /// workflow's name for `/andon run`.
    pub commands: Vec<String>,
    /// The repository permission needed: `read`, `triage`, `write`,
    /// `maintain` or `admin`.
    pub permission: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduleTrigger {
    /// Five fields, or a shorthand such as `@daily`.
    pub cron: String,
    /// An IANA time zone; `None` is UTC.
    pub timezone: Option<String>,
    /// The entry's own keys over the workflow's `schedule_policy:` over the
    /// defaults.
    pub policy: Policy,
    /// Line of the entry in its file.
    pub line: usize,
}

/// Policy keys as written in one place (a schedule entry or
/// `schedule_policy:`), each absent key left to the next level.
#[derive(Debug, Clone, Copy, Default)]
struct PolicyPatch {
    missed: Option<Missed>,
    max_catchup: Option<u32>,
    overlap: Option<Overlap>,
    retries: Option<u32>,
    retry_backoff_ms: Option<u64>,
    deadline_ms: Option<u64>,
}

impl PolicyPatch {
    fn apply(self, policy: Policy) -> Policy {
        Policy {
            missed: self.missed.unwrap_or(policy.missed),
            max_catchup: self.max_catchup.unwrap_or(policy.max_catchup),
            overlap: self.overlap.unwrap_or(policy.overlap),
            retries: self.retries.unwrap_or(policy.retries),
            retry_backoff_ms: self.retry_backoff_ms.unwrap_or(policy.retry_backoff_ms),
            deadline_ms: self.deadline_ms.or(policy.deadline_ms),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Concurrency {
    pub group: String,
    pub cancel_in_progress: bool,
}

/// Where a step's plugin comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PluginRef {
    /// A plugin bundled with andon, by name (`size`).
    Bundled(String),
    /// A `.wasm` file, relative to the repository root, optionally pinned by
    /// its sha256.
    Path {
        path: String,
        sha256: Option<String>,
    },
}

impl PluginRef {
    /// How the step names its plugin, for reports.
    pub fn display_name(&self) -> &str {
        match self {
            PluginRef::Bundled(name) => name,
            PluginRef::Path { path, .. } => path,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub id: String,
    pub uses: PluginRef,
    /// The `with:` mapping as JSON (`{}` when absent).
    pub with: serde_json::Value,
    pub timeout: Option<Duration>,
    /// Linear memory limit in bytes.
    pub memory: Option<usize>,
    /// `None`: the plugin's manifest decides. `Some`: exactly these.
    pub permissions: Option<Vec<Permission>>,
    /// Line of the step in its file, for later diagnostics (unknown plugin).
    pub line: usize,
}

/// The result of parsing one file: the workflow if it is usable, and every
/// problem found.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub workflow: Option<Workflow>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Parsed {
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }
}

/// Parse the workflow in `text`, read from `file`.
pub fn parse(file: &str, text: &str) -> Parsed {
    let mut cx = Checker {
        file,
        diagnostics: Vec::new(),
        schedule_patches: Vec::new(),
    };
    let workflow = match yaml::parse(text) {
        Ok(root) => cx.workflow(&root),
        Err(error) => {
            cx.diagnostics.push(Diagnostic {
                severity: Severity::Error,
                file: file.to_string(),
                line: error.line,
                column: error.column,
                message: format!("invalid YAML: {}", error.message),
                hint: Some("check indentation and quoting near this line".into()),
            });
            None
        }
    };
    let workflow = if cx.diagnostics.iter().any(|d| d.severity == Severity::Error) {
        None
    } else {
        workflow
    };
    Parsed {
        workflow,
        diagnostics: cx.diagnostics,
    }
}

struct Checker<'a> {
    file: &'a str,
    diagnostics: Vec<Diagnostic>,
    /// Each schedule entry's own policy keys, in entry order, resolved
    /// once `schedule_policy:` is read (it may come after `on:`).
    schedule_patches: Vec<PolicyPatch>,
}

const TOP_KEYS: &[&str] = &[
    "name",
    "on",
    "concurrency",
    "steps",
    "schedule_policy",
    "report",
];
const STEP_KEYS: &[&str] = &[
    "id",
    "uses",
    "with",
    "timeout",
    "memory",
    "permissions",
    "sha256",
];
const PR_KEYS: &[&str] = &["types", "branches", "paths"];
const PUSH_KEYS: &[&str] = &["branches", "paths"];
const COMMENT_KEYS: &[&str] = &["command", "commands", "permission"];
const REVIEW_KEYS: &[&str] = &["states", "branches"];
const WORKFLOW_RUN_KEYS: &[&str] = &["workflows", "branches"];
const POLICY_KEYS: &[&str] = &[
    "missed",
    "max_catchup",
    "overlap",
    "retries",
    "retry_backoff",
    "deadline",
];
const SCHEDULE_KEYS: &[&str] = &[
    "cron",
    "timezone",
    "missed",
    "max_catchup",
    "overlap",
    "retries",
    "retry_backoff",
    "deadline",
];
const REPORT_KEYS: &[&str] = &["status", "issue", "when"];
const CONCURRENCY_KEYS: &[&str] = &["group", "cancel_in_progress"];
const TRIGGERS: &[&str] = &[
    "pull_request",
    "push",
    "manual",
    "comment",
    "schedule",
    "review",
    "workflow_run",
];
const PR_TYPES: &[&str] = &crate::webhook::PULL_REQUEST_ACTIONS;
const REPO_PERMISSIONS: &[&str] = &["read", "triage", "write", "maintain", "admin"];

impl Checker<'_> {
    fn error(&mut self, node: &Node, message: impl Into<String>, hint: Option<String>) {
        self.push(Severity::Error, node, message.into(), hint);
    }

    fn warn(&mut self, node: &Node, message: impl Into<String>, hint: Option<String>) {
        self.push(Severity::Warning, node, message.into(), hint);
    }

    fn push(&mut self, severity: Severity, node: &Node, message: String, hint: Option<String>) {
        self.diagnostics.push(Diagnostic {
            severity,
            file: self.file.to_string(),
            line: node.line,
            column: node.column,
            message,
            hint,
        });
    }

    /// The entries of a mapping, reporting unknown keys with the closest
    /// known one.
    fn mapping<'n>(
        &mut self,
        node: &'n Node,
        what: &str,
        known: &[&str],
    ) -> Option<Vec<(&'n str, &'n Node, &'n Node)>> {
        let Value::Map(entries) = &node.value else {
            self.error(
                node,
                format!("{what} must be a mapping, found {}", node.kind()),
                None,
            );
            return None;
        };
        let mut out = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            let Some(name) = key.as_str() else {
                self.error(key, format!("keys in {what} must be strings"), None);
                continue;
            };
            if !known.contains(&name) {
                self.error(
                    key,
                    format!("unknown key `{name}` in {what}"),
                    Some(suggest(name, known)),
                );
                continue;
            }
            out.push((name, key, value));
        }
        Some(out)
    }

    fn string(&mut self, node: &Node, what: &str) -> Option<String> {
        match &node.value {
            Value::Str(s) if !s.trim().is_empty() => Some(s.clone()),
            Value::Str(_) => {
                self.error(node, format!("{what} must not be empty"), None);
                None
            }
            Value::Int(_) | Value::Float(_) | Value::Bool(_) => Some(node.scalar_text()),
            _ => {
                self.error(
                    node,
                    format!("{what} must be a string, found {}", node.kind()),
                    None,
                );
                None
            }
        }
    }

    /// A string or a list of strings.
    fn strings(&mut self, node: &Node, what: &str) -> Option<Vec<(String, Node)>> {
        match &node.value {
            Value::Seq(items) => Some(
                items
                    .iter()
                    .filter_map(|item| self.string(item, what).map(|s| (s, item.clone())))
                    .collect(),
            ),
            Value::Str(_) => self.string(node, what).map(|s| vec![(s, node.clone())]),
            _ => {
                self.error(
                    node,
                    format!(
                        "{what} must be a string or a list of strings, found {}",
                        node.kind()
                    ),
                    None,
                );
                None
            }
        }
    }

    fn filter(&mut self, node: &Node, what: &str) -> Option<Filter> {
        let patterns = self.strings(node, what)?;
        let mut ok = true;
        for (pattern, at) in &patterns {
            if let Err(message) = Filter::new(&[pattern]) {
                self.error(
                    at,
                    message,
                    Some("globs use `*`, `**`, `?`, `[abc]`; a leading `!` excludes".into()),
                );
                ok = false;
            }
        }
        let patterns: Vec<String> = patterns.into_iter().map(|(p, _)| p).collect();
        if ok {
            Filter::new(&patterns).ok()
        } else {
            None
        }
    }

    fn workflow(&mut self, root: &Node) -> Option<Workflow> {
        if root.value == Value::Null {
            self.error(root, "the workflow file is empty", Some(example_hint()));
            return None;
        }
        let entries = self.mapping(root, "the workflow", TOP_KEYS)?;
        let mut name = None;
        let mut on = None;
        let mut concurrency = None;
        let mut steps = None;
        let mut schedule_policy = None;
        let mut report = None;
        for (key, key_node, value) in entries {
            match key {
                "name" => name = self.string(value, "`name`"),
                "on" => on = self.triggers(key_node, value),
                "concurrency" => concurrency = self.concurrency(value),
                "steps" => steps = self.steps(value),
                "schedule_policy" => {
                    schedule_policy = self
                        .mapping(value, "`schedule_policy`", POLICY_KEYS)
                        .map(|entries| (self.policy(&entries), key_node.clone()));
                }
                "report" => report = self.report(value).map(|r| (r, key_node.clone())),
                _ => {}
            }
        }
        if let Some(triggers) = &mut on {
            self.resolve_schedules(triggers, schedule_policy.as_ref(), report.as_ref());
        }
        if on.is_none() && !self.diagnostics.iter().any(|d| d.message.contains("`on`")) {
            self.error(
                root,
                "the workflow has no `on:` section, so it never runs",
                Some("add for example `on: { pull_request: {} }`".into()),
            );
        }
        if steps.is_none()
            && !self
                .diagnostics
                .iter()
                .any(|d| d.message.contains("`steps`"))
        {
            self.error(root, "the workflow has no `steps:`", Some(example_hint()));
        }
        let name = name.unwrap_or_else(|| file_stem(self.file));
        Some(Workflow {
            name,
            file: self.file.to_string(),
            on: on?,
            concurrency,
            steps: steps?,
            report: report.map(|(r, _)| r),
        })
    }

    /// Give each schedule entry its policy: its own keys over
    /// `schedule_policy:` over the defaults. Warn about settings that
    /// cannot apply.
    fn resolve_schedules(
        &mut self,
        triggers: &mut Triggers,
        workflow: Option<&(PolicyPatch, Node)>,
        report: Option<&(Report, Node)>,
    ) {
        let patches = std::mem::take(&mut self.schedule_patches);
        if triggers.schedule.is_empty() {
            let unused = [
                workflow.map(|(_, at)| ("schedule_policy", at)),
                report.map(|(_, at)| ("report", at)),
            ];
            for (key, at) in unused.into_iter().flatten() {
                self.warn(
                    at,
                    format!("`{key}` has no effect: the workflow has no `on.schedule`"),
                    Some("it applies to scheduled runs only".into()),
                );
            }
            return;
        }
        let base = workflow.map_or(Policy::DEFAULT, |(patch, _)| patch.apply(Policy::DEFAULT));
        for (trigger, patch) in triggers.schedule.iter_mut().zip(patches) {
            trigger.policy = patch.apply(base);
            let asked_catchup = patch
                .max_catchup
                .or(workflow.and_then(|(p, _)| p.max_catchup));
            if asked_catchup.is_some() && trigger.policy.missed != Missed::All {
                let at = Node {
                    value: Value::Null,
                    line: trigger.line,
                    column: 0,
                };
                self.warn(
                    &at,
                    format!(
                        "`max_catchup` has no effect with `missed: {}`",
                        trigger.policy.missed.as_str()
                    ),
                    Some("it limits how many missed ticks `missed: all` runs".into()),
                );
            }
        }
    }

    /// The policy keys of a schedule entry or of `schedule_policy:`.
    fn policy(&mut self, entries: &[(&str, &Node, &Node)]) -> PolicyPatch {
        let mut patch = PolicyPatch::default();
        for (key, _, value) in entries {
            match *key {
                "missed" => {
                    patch.missed = self.choice(value, "`missed`", &Missed::NAMES, Missed::parse);
                }
                "overlap" => {
                    patch.overlap =
                        self.choice(value, "`overlap`", &Overlap::NAMES, Overlap::parse);
                }
                "max_catchup" => {
                    patch.max_catchup =
                        self.count(value, "`max_catchup`", 1, schedule::MAX_CATCHUP);
                }
                "retries" => {
                    patch.retries = self.count(value, "`retries`", 0, schedule::MAX_RETRIES);
                }
                "retry_backoff" => {
                    patch.retry_backoff_ms = self
                        .duration(value)
                        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
                    if patch.retry_backoff_ms == Some(0) {
                        self.error(value, "`retry_backoff` must be longer than 0", None);
                    }
                }
                "deadline" => {
                    let deadline = self
                        .duration(value)
                        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
                    match deadline {
                        Some(0) => self.error(value, "`deadline` must be longer than 0", None),
                        Some(ms) if ms > schedule::MAX_DEADLINE_MS => self.error(
                            value,
                            format!("`deadline` of {} is longer than 24h", value.scalar_text()),
                            Some("a scheduled run may last at most 24h".into()),
                        ),
                        _ => patch.deadline_ms = deadline,
                    }
                }
                _ => {}
            }
        }
        patch
    }

    /// One of `names`, with the closest one as a hint.
    fn choice<T>(
        &mut self,
        node: &Node,
        what: &str,
        names: &[&str],
        parse: fn(&str) -> Option<T>,
    ) -> Option<T> {
        let text = self.string(node, what)?;
        let parsed = parse(&text);
        if parsed.is_none() {
            self.error(
                node,
                format!("{what} cannot be `{text}`"),
                Some(suggest(&text, names)),
            );
        }
        parsed
    }

    /// A whole number in `min..=max`.
    fn count(&mut self, node: &Node, what: &str, min: u32, max: u32) -> Option<u32> {
        let parsed = match node.value {
            Value::Int(n) => u32::try_from(n).ok().filter(|n| (min..=max).contains(n)),
            _ => None,
        };
        if parsed.is_none() {
            self.error(
                node,
                format!("{what} must be a whole number from {min} to {max}"),
                None,
            );
        }
        parsed
    }

    /// `report: { status: true, issue: 42, when: failure }`.
    fn report(&mut self, node: &Node) -> Option<Report> {
        let mut report = Report::default();
        for (key, _, value) in self.mapping(node, "`report`", REPORT_KEYS)? {
            match key {
                "status" => match value.value {
                    Value::Bool(b) => report.status = b,
                    _ => self.error(
                        value,
                        "`status` must be true or false",
                        Some("`status: true` sets a commit status on the commit that ran".into()),
                    ),
                },
                "issue" => match value.value {
                    Value::Int(n) if n > 0 => report.issue = u64::try_from(n).ok(),
                    _ => self.error(
                        value,
                        "`issue` must be an issue number",
                        Some("for example `issue: 42`".into()),
                    ),
                },
                "when" => {
                    if let Some(when) =
                        self.choice(value, "`when`", &ReportWhen::NAMES, ReportWhen::parse)
                    {
                        report.when = when;
                    }
                }
                _ => {}
            }
        }
        if !report.status && report.issue.is_none() {
            self.warn(
                node,
                "`report` asks for nothing",
                Some("add `status: true` or `issue: NUMBER`".into()),
            );
        }
        Some(report)
    }

    fn triggers(&mut self, key: &Node, node: &Node) -> Option<Triggers> {
        let mut triggers = Triggers::default();
        // `on: push` and `on: [push, pull_request]` are shorthands for
        // triggers with default settings, as in GitHub Actions.
        let entries: Vec<(String, Node, Node)> = match &node.value {
            Value::Str(_) | Value::Seq(_) => self
                .strings(node, "`on`")?
                .into_iter()
                .map(|(name, at)| {
                    let empty = Node {
                        value: Value::Null,
                        ..at.clone()
                    };
                    (name, at, empty)
                })
                .collect(),
            Value::Map(_) => self
                .mapping(node, "`on`", TRIGGERS)?
                .into_iter()
                .map(|(k, kn, v)| (k.to_string(), kn.clone(), v.clone()))
                .collect(),
            _ => {
                self.error(
                    key,
                    format!("`on` must be a mapping of triggers, found {}", node.kind()),
                    Some("for example `on: { pull_request: { types: [opened] } }`".into()),
                );
                return None;
            }
        };
        for (name, at, value) in entries {
            match name.as_str() {
                "pull_request" => triggers.pull_request = self.pull_request(&value),
                "push" => triggers.push = self.push_trigger(&value),
                "manual" => triggers.manual = true,
                "comment" => triggers.comment = self.comment(&value),
                "schedule" => triggers.schedule = self.schedule(&value),
                "review" => triggers.review = self.review(&value),
                "workflow_run" => triggers.workflow_run = self.workflow_run(&value),
                other => self.error(
                    &at,
                    format!("unknown trigger `{other}`"),
                    Some(suggest(other, TRIGGERS)),
                ),
            }
        }
        Some(triggers)
    }

    fn pull_request(&mut self, node: &Node) -> Option<PullRequestTrigger> {
        let mut trigger = PullRequestTrigger {
            types: DEFAULT_PR_TYPES.iter().map(ToString::to_string).collect(),
            branches: None,
            paths: None,
        };
        if node.value == Value::Null {
            return Some(trigger);
        }
        for (key, _, value) in self.mapping(node, "`on.pull_request`", PR_KEYS)? {
            match key {
                "types" => {
                    let types = self.strings(value, "`types`")?;
                    for (t, at) in &types {
                        if !PR_TYPES.contains(&t.as_str()) {
                            self.error(
                                at,
                                format!("unknown pull request type `{t}`"),
                                Some(suggest(t, PR_TYPES)),
                            );
                        }
                    }
                    trigger.types = types.into_iter().map(|(t, _)| t).collect();
                }
                "branches" => trigger.branches = self.filter(value, "`branches`"),
                "paths" => trigger.paths = self.filter(value, "`paths`"),
                _ => {}
            }
        }
        Some(trigger)
    }

    fn push_trigger(&mut self, node: &Node) -> Option<PushTrigger> {
        let mut trigger = PushTrigger {
            branches: None,
            paths: None,
        };
        if node.value == Value::Null {
            return Some(trigger);
        }
        for (key, _, value) in self.mapping(node, "`on.push`", PUSH_KEYS)? {
            match key {
                "branches" => trigger.branches = self.filter(value, "`branches`"),
                "paths" => trigger.paths = self.filter(value, "`paths`"),
                _ => {}
            }
        }
        Some(trigger)
    }

    fn comment(&mut self, node: &Node) -> Option<CommentTrigger> {
        let mut commands: Vec<String> = Vec::new();
        let mut permission = String::from("write");
        for (key, _, value) in self.mapping(node, "`on.comment`", COMMENT_KEYS)? {
            match key {
                "command" | "commands" => {
                    let names: Vec<(String, Node)> = if key == "command" {
                        self.string(value, "`command`")
                            .map(|c| vec![(c, value.clone())])
                            .unwrap_or_default()
                    } else {
                        self.strings(value, "`commands`").unwrap_or_default()
                    };
                    for (name, at) in names {
                        let name = name.trim_start_matches('/').to_string();
                        if name.is_empty()
                            || !name
                                .chars()
                                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
                        {
                            self.error(
                                &at,
                                format!(
                                    "command `{name}` may only use letters, digits, `-` and `_`"
                                ),
                                None,
                            );
                        } else if crate::command::ANDON_SUBCOMMANDS.contains(&name.as_str()) {
                            self.error(
                                &at,
                                format!(
                                    "`{name}` is one of andon's own commands (`/andon {name}`)"
                                ),
                                Some("pick another name".into()),
                            );
                        } else if !commands.contains(&name) {
                            commands.push(name);
                        }
                    }
                }
                "permission" => {
                    if let Some(p) = self.string(value, "`permission`") {
                        if !REPO_PERMISSIONS.contains(&p.as_str()) {
                            self.error(
                                value,
                                format!("unknown permission level `{p}`"),
                                Some(suggest(&p, REPO_PERMISSIONS)),
                            );
                        }
                        permission = p;
                    }
                }
                _ => {}
            }
        }
        if commands.is_empty() {
            self.error(
                node,
                "`on.comment` needs a `command` or `commands`",
                Some("for example `comment: { command: data-check }` or `comment: { commands: [lgtm] }`".into()),
            );
            return None;
        }
        Some(CommentTrigger {
            commands,
            permission,
        })
    }

    fn review(&mut self, node: &Node) -> Option<ReviewTrigger> {
        let mut trigger = ReviewTrigger {
            states: REVIEW_STATES.iter().map(ToString::to_string).collect(),
            branches: None,
        };
        if node.value == Value::Null {
            return Some(trigger);
        }
        for (key, _, value) in self.mapping(node, "`on.review`", REVIEW_KEYS)? {
            match key {
                "states" => {
                    let states = self.strings(value, "`states`")?;
                    for (state, at) in &states {
                        if !REVIEW_STATES.contains(&state.as_str()) {
                            self.error(
                                at,
                                format!("unknown review state `{state}`"),
                                Some(suggest(state, &REVIEW_STATES)),
                            );
                        }
                    }
                    trigger.states = states.into_iter().map(|(s, _)| s).collect();
                }
                "branches" => trigger.branches = self.filter(value, "`branches`"),
                _ => {}
            }
        }
        Some(trigger)
    }

    fn workflow_run(&mut self, node: &Node) -> Option<WorkflowRunTrigger> {
        let mut trigger = WorkflowRunTrigger {
            workflows: None,
            branches: None,
        };
        if node.value == Value::Null {
            return Some(trigger);
        }
        for (key, _, value) in self.mapping(node, "`on.workflow_run`", WORKFLOW_RUN_KEYS)? {
            match key {
                "workflows" => {
                    trigger.workflows = self
                        .strings(value, "`workflows`")
                        .map(|names| names.into_iter().map(|(n, _)| n).collect());
                }
                "branches" => trigger.branches = self.filter(value, "`branches`"),
                _ => {}
            }
        }
        Some(trigger)
    }

    fn schedule(&mut self, node: &Node) -> Vec<ScheduleTrigger> {
        let items: Vec<Node> = match &node.value {
            Value::Seq(items) => items.clone(),
            Value::Map(_) => vec![node.clone()],
            _ => {
                self.error(
                    node,
                    format!(
                        "`schedule` must be a list of `{{cron, timezone}}`, found {}",
                        node.kind()
                    ),
                    Some("for example `schedule: [{ cron: \"0 3 * * *\" }]`".into()),
                );
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for item in &items {
            let Some(entries) = self.mapping(item, "a schedule", SCHEDULE_KEYS) else {
                continue;
            };
            let mut cron = None;
            let mut timezone = None;
            for (key, _, value) in &entries {
                match *key {
                    "cron" => cron = self.string(value, "`cron`").map(|c| (c, *value)),
                    "timezone" => {
                        timezone = self.string(value, "`timezone`").map(|t| (t, *value));
                    }
                    _ => {}
                }
            }
            let patch = self.policy(&entries);
            let mut valid = true;
            if let Some((name, at)) = &timezone
                && let Err(error) = schedule::parse_timezone(name)
            {
                self.error(at, error.to_string(), Some(error.hint()));
                valid = false;
            }
            match cron {
                Some((expr, at)) => {
                    if let Err(error) = Cron::parse(&expr, None) {
                        self.error(at, error.to_string(), Some(error.hint()));
                        valid = false;
                    }
                    if valid {
                        out.push(ScheduleTrigger {
                            cron: expr,
                            timezone: timezone.map(|(t, _)| t),
                            policy: Policy::DEFAULT,
                            line: item.line,
                        });
                        self.schedule_patches.push(patch);
                    }
                }
                None => self.error(
                    item,
                    "a schedule needs a `cron` expression",
                    Some("for example `{ cron: \"0 3 * * *\", timezone: Europe/Paris }`".into()),
                ),
            }
        }
        out
    }

    fn concurrency(&mut self, node: &Node) -> Option<Concurrency> {
        if let Value::Str(group) = &node.value {
            return Some(Concurrency {
                group: group.clone(),
                cancel_in_progress: false,
            });
        }
        let mut group = None;
        let mut cancel_in_progress = false;
        for (key, _, value) in self.mapping(node, "`concurrency`", CONCURRENCY_KEYS)? {
            match key {
                "group" => group = self.string(value, "`group`"),
                "cancel_in_progress" => match value.value {
                    Value::Bool(b) => cancel_in_progress = b,
                    _ => self.error(value, "`cancel_in_progress` must be true or false", None),
                },
                _ => {}
            }
        }
        match group {
            Some(group) => Some(Concurrency {
                group,
                cancel_in_progress,
            }),
            None => {
                self.error(node, "`concurrency` needs a `group`", None);
                None
            }
        }
    }

    fn steps(&mut self, node: &Node) -> Option<Vec<Step>> {
        let Value::Seq(items) = &node.value else {
            self.error(
                node,
                format!("`steps` must be a list, found {}", node.kind()),
                Some(example_hint()),
            );
            return None;
        };
        if items.is_empty() {
            self.error(node, "`steps` is empty", Some(example_hint()));
            return None;
        }
        let mut steps: Vec<Step> = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            if let Some(step) = self.step(index, item) {
                if steps.iter().any(|s| s.id == step.id) {
                    self.error(
                        item,
                        format!("two steps have the id `{}`", step.id),
                        Some("step ids must be unique within a workflow".into()),
                    );
                }
                steps.push(step);
            }
        }
        Some(steps)
    }

    fn step(&mut self, index: usize, node: &Node) -> Option<Step> {
        let entries = self.mapping(node, "a step", STEP_KEYS)?;
        let mut id = None;
        let mut uses = None;
        let mut sha256 = None;
        let mut with = serde_json::Value::Object(serde_json::Map::new());
        let mut timeout = None;
        let mut memory = None;
        let mut permissions = None;
        for (key, _, value) in entries {
            match key {
                "id" => {
                    id = self.string(value, "`id`");
                    if let Some(i) = &id
                        && !i
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                    {
                        self.error(
                            value,
                            format!("step id `{i}` may only use letters, digits, `-` and `_`"),
                            None,
                        );
                    }
                }
                "uses" => uses = self.string(value, "`uses`").map(|u| (u, value.clone())),
                "sha256" => {
                    sha256 = self.string(value, "`sha256`");
                    if let Some(h) = &sha256
                        && (h.len() != 64 || !h.chars().all(|c| c.is_ascii_hexdigit()))
                    {
                        self.error(
                            value,
                            "`sha256` must be 64 hexadecimal digits",
                            Some("compute it with `sha256sum plugin.wasm`".into()),
                        );
                    }
                }
                "with" => match &value.value {
                    Value::Map(_) => with = value.to_json(),
                    Value::Null => {}
                    _ => self.error(
                        value,
                        format!("`with` must be a mapping, found {}", value.kind()),
                        None,
                    ),
                },
                "timeout" => timeout = self.duration(value),
                "memory" => memory = self.bytes(value),
                "permissions" => permissions = self.permissions(value),
                _ => {}
            }
        }
        let Some((uses, uses_node)) = uses else {
            self.error(
                node,
                format!("step {} has no `uses`", index + 1),
                Some("name a plugin (`uses: size`) or a file (`uses: ./plugins/x.wasm`)".into()),
            );
            return None;
        };
        let plugin = if uses.ends_with(".wasm") {
            let path = uses.trim_start_matches("./").to_string();
            if path.starts_with('/') || path.split('/').any(|part| part == "..") {
                self.error(
                    &uses_node,
                    format!("plugin path `{uses}` leaves the repository"),
                    Some("use a path relative to the repository root".into()),
                );
            }
            if sha256.is_none() {
                self.warn(
                    &uses_node,
                    format!("plugin `{uses}` is not pinned"),
                    Some("add `sha256: <hash>` so a changed file is refused".into()),
                );
            }
            PluginRef::Path { path, sha256 }
        } else {
            if sha256.is_some() {
                self.warn(&uses_node, "`sha256` only applies to `.wasm` paths; bundled plugins are pinned by andon's own version", None);
            }
            PluginRef::Bundled(uses.clone())
        };
        let id = id.unwrap_or_else(|| {
            uses.rsplit('/')
                .next()
                .unwrap_or(&uses)
                .trim_end_matches(".wasm")
                .to_string()
        });
        Some(Step {
            id,
            uses: plugin,
            with,
            timeout,
            memory,
            permissions,
            line: node.line,
        })
    }

    fn duration(&mut self, node: &Node) -> Option<Duration> {
        let parsed = match &node.value {
            Value::Int(secs) => u64::try_from(*secs).ok().map(Duration::from_secs),
            Value::Str(text) => parse_duration(text),
            _ => None,
        };
        if parsed.is_none() {
            self.error(
                node,
                format!("`{}` is not a duration", node.scalar_text()),
                Some("write for example `500ms`, `30s`, `5m` or `1h`".into()),
            );
        }
        parsed
    }

    fn bytes(&mut self, node: &Node) -> Option<usize> {
        let parsed = match &node.value {
            Value::Int(n) => usize::try_from(*n).ok(),
            Value::Str(text) => parse_bytes(text),
            _ => None,
        };
        if parsed.is_none() {
            self.error(
                node,
                format!("`{}` is not a size", node.scalar_text()),
                Some("write for example `64MiB`, `512KiB` or `1GiB`".into()),
            );
        }
        parsed
    }

    fn permissions(&mut self, node: &Node) -> Option<Vec<Permission>> {
        let names: Vec<&str> = Permission::ALL.iter().map(|p| p.as_str()).collect();
        if let Value::Seq(items) = &node.value
            && items.is_empty()
        {
            return Some(Vec::new());
        }
        let mut out = Vec::new();
        for (name, at) in self.strings(node, "`permissions`")? {
            match Permission::parse(&name) {
                Some(p) if !out.contains(&p) => out.push(p),
                Some(_) => {}
                None => self.error(
                    &at,
                    format!("unknown permission `{name}`"),
                    Some(suggest(&name, &names)),
                ),
            }
        }
        Some(out)
    }
}

/// Parse `500ms`, `30s`, `5m`, `1h` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let millis = match unit.trim() {
        "" | "s" => number.checked_mul(1000)?,
        "ms" => number,
        "m" => number.checked_mul(60_000)?,
        "h" => number.checked_mul(3_600_000)?,
        _ => return None,
    };
    Some(Duration::from_millis(millis))
}

/// Parse `64MiB`, `512KiB`, `1GiB`, `10MB` or a bare number of bytes.
pub fn parse_bytes(text: &str) -> Option<usize> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: usize = number.parse().ok()?;
    let factor: usize = match unit.trim() {
        "" | "B" => 1,
        "KiB" | "K" => 1 << 10,
        "MiB" | "M" => 1 << 20,
        "GiB" | "G" => 1 << 30,
        "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        _ => return None,
    };
    number.checked_mul(factor)
}

fn file_stem(file: &str) -> String {
    let name = file.rsplit('/').next().unwrap_or(file);
    name.trim_end_matches(".yml")
        .trim_end_matches(".yaml")
        .to_string()
}

fn example_hint() -> String {
    "a workflow looks like `name: review`, `on: { pull_request: {} }`, `steps: [{ id: size, uses: size }]`".into()
}

/// "did you mean `x`?" with the closest known word, or the list of them.
fn suggest(word: &str, known: &[&str]) -> String {
    match closest(word, known) {
        Some(best) => format!("did you mean `{best}`?"),
        None => format!("expected one of: {}", known.join(", ")),
    }
}

/// The known word within edit distance 2 (or a third of the word), if any.
pub fn closest<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    let limit = (word.len() / 3).max(2);
    known
        .iter()
        .map(|k| (edit_distance(word, k), *k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let next = (row[j] + 1).min(row[j + 1] + 1).min(prev + cost);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

impl Triggers {
    /// Whether the workflow has any trigger for `kind`.
    pub fn handles(&self, kind: EventKind) -> bool {
        match kind {
            EventKind::PullRequest => self.pull_request.is_some(),
            EventKind::Push => self.push.is_some(),
            EventKind::Manual => self.manual,
            EventKind::Comment => self.comment.is_some(),
            EventKind::Schedule => !self.schedule.is_empty(),
            EventKind::Review => self.review.is_some(),
            EventKind::WorkflowRun => self.workflow_run.is_some(),
        }
    }
}

#[cfg(test)]
mod tests;
