//! Native tests of plugin logic: a [`FakeHost`] that answers from memory
//! and records what the plugin logged and output, and an [`event`] builder
//! for invocations.
//!
//! ```ignore
//! let host = FakeHost::new().file(Side::Base, "OWNERS", "approvers: [alice]");
//! let inv = event(EventKind::Comment).number(7).author("alice").command("approve", &[]).build();
//! let actions = MyPlugin::run(inv, &host)?;
//! ```

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use crate::dataset::{Column, TextValues, Values};
use crate::sdk::Host;
use crate::types::{
    AddedLine, ChangedFile, Event, EventKind, FileStatus, Invocation, LogLevel, PullRequest,
    ReadError, RunInfo, Side,
};

/// A text column as the host sends it; `None` is a null.
pub fn text_column(values: &[Option<&str>]) -> Column {
    let mut offsets = vec![0u32];
    let mut data = Vec::new();
    let mut status = Vec::new();
    for v in values {
        data.extend_from_slice(v.unwrap_or("").as_bytes());
        offsets.push(u32::try_from(data.len()).expect("a test column under 4 GiB"));
        // 0: a value, 1: null (see `column.status` in wit/plugin.wit).
        status.push(u8::from(v.is_none()));
    }
    Column {
        values: Values::Text(TextValues { offsets, data }),
        status,
    }
}

/// A host that answers from memory. Build it with the chained setters;
/// after the run, read [`FakeHost::logs`] and [`FakeHost::outputs`].
#[derive(Debug, Default)]
pub struct FakeHost {
    changed: Vec<ChangedFile>,
    added: HashMap<String, Vec<AddedLine>>,
    files: HashMap<(bool, String), Vec<u8>>,
    kv: HashMap<String, Vec<u8>>,
    pulls: Option<Result<Vec<PullRequest>, String>>,
    logs: RefCell<Vec<(LogLevel, String)>>,
    outputs: RefCell<BTreeMap<String, String>>,
}

impl FakeHost {
    pub fn new() -> FakeHost {
        FakeHost::default()
    }

    /// A file at a revision (`Side::Base` or `Side::Head`).
    pub fn file(mut self, side: Side, path: &str, contents: impl Into<Vec<u8>>) -> FakeHost {
        self.files.insert(
            (matches!(side, Side::Base), path.to_string()),
            contents.into(),
        );
        self
    }

    /// A changed file with `added` added lines (also readable through
    /// `added_lines`, as `line N`).
    pub fn changed(mut self, path: &str, status: FileStatus, added: u32) -> FakeHost {
        self.changed.push(ChangedFile {
            path: path.to_string(),
            old_path: None,
            status,
            added,
            removed: 0,
            binary: false,
        });
        self.added.insert(
            path.to_string(),
            (1..=added)
                .map(|line| AddedLine {
                    line,
                    text: format!("line {line}"),
                })
                .collect(),
        );
        self
    }

    /// A value in the plugin's kv namespace.
    pub fn kv(mut self, key: &str, value: impl Into<Vec<u8>>) -> FakeHost {
        self.kv.insert(key.to_string(), value.into());
        self
    }

    /// The open pull requests `open_pull_requests` returns.
    pub fn pulls(mut self, pulls: Vec<PullRequest>) -> FakeHost {
        self.pulls = Some(Ok(pulls));
        self
    }

    /// Make `open_pull_requests` fail with `message`.
    pub fn pulls_error(mut self, message: &str) -> FakeHost {
        self.pulls = Some(Err(message.to_string()));
        self
    }

    /// Every line logged, as `level: message` (`info: 3 files`).
    pub fn logs(&self) -> Vec<String> {
        self.logs
            .borrow()
            .iter()
            .map(|(level, message)| {
                let level = match level {
                    LogLevel::Debug => "debug",
                    LogLevel::Info => "info",
                    LogLevel::Warn => "warn",
                    LogLevel::Error => "error",
                };
                format!("{level}: {message}")
            })
            .collect()
    }

    /// The outputs set, as JSON text by name.
    pub fn outputs(&self) -> BTreeMap<String, String> {
        self.outputs.borrow().clone()
    }
}

impl Host for FakeHost {
    fn log(&self, level: LogLevel, message: &str) {
        self.logs.borrow_mut().push((level, message.to_string()));
    }

    fn changed_files(&self) -> Vec<ChangedFile> {
        self.changed.clone()
    }

    fn added_lines(&self, path: &str) -> Vec<AddedLine> {
        self.added.get(path).cloned().unwrap_or_default()
    }

    fn read_file(&self, side: Side, path: &str) -> Result<Vec<u8>, ReadError> {
        if path.starts_with('/') || path.split('/').any(|part| part == "..") {
            return Err(ReadError::InvalidPath(format!(
                "`{path}` leaves the repository"
            )));
        }
        self.files
            .get(&(matches!(side, Side::Base), path.to_string()))
            .cloned()
            .ok_or(ReadError::NotFound)
    }

    fn kv_get(&self, key: &str) -> Option<Vec<u8>> {
        self.kv.get(key).cloned()
    }

    fn set_output(&self, name: &str, json: &str) -> Result<(), String> {
        serde_json::from_str::<serde_json::Value>(json)
            .map_err(|e| format!("output `{name}` is not JSON: {e}"))?;
        self.outputs
            .borrow_mut()
            .insert(name.to_string(), json.to_string());
        Ok(())
    }

    fn open_pull_requests(&self) -> Result<Vec<PullRequest>, String> {
        self.pulls
            .clone()
            .unwrap_or_else(|| Err("no forge: the fake host was given no pull requests".into()))
    }
}

/// An event of `kind` in repository `octo/repo` at head `h1` (base `b1`),
/// to be refined with the builder's setters and turned into an
/// [`Invocation`] with [`EventBuilder::build`].
pub fn event(kind: EventKind) -> EventBuilder {
    EventBuilder {
        event: Event {
            kind,
            action: None,
            repository: "octo/repo".into(),
            number: None,
            author: None,
            author_association: None,
            base: Some("b1".into()),
            head: "h1".into(),
            ref_name: Some("main".into()),
            title: None,
            body: None,
            labels: Vec::new(),
            command: None,
            args: Vec::new(),
            author_permission: None,
            review_state: None,
            run: None,
            default_branch: Some("main".into()),
            pull_request_author: None,
        },
        config: "{}".into(),
    }
}

/// A pull request as `open_pull_requests` returns it.
pub fn pull_request(number: u64, labels: &[&str]) -> PullRequest {
    PullRequest {
        number,
        title: format!("change {number}"),
        author: "someone".into(),
        labels: labels.iter().map(ToString::to_string).collect(),
        head: format!("h{number}"),
        base_branch: "main".into(),
        draft: false,
    }
}

/// Builds an [`Invocation`] for a test.
#[derive(Debug, Clone)]
pub struct EventBuilder {
    event: Event,
    config: String,
}

impl EventBuilder {
    pub fn action(mut self, action: &str) -> Self {
        self.event.action = Some(action.into());
        self
    }

    pub fn number(mut self, number: u64) -> Self {
        self.event.number = Some(number);
        self
    }

    pub fn author(mut self, login: &str) -> Self {
        self.event.author = Some(login.into());
        self
    }

    /// Who opened the pull request.
    pub fn pull_request_author(mut self, login: &str) -> Self {
        self.event.pull_request_author = Some(login.into());
        self
    }

    pub fn association(mut self, association: &str) -> Self {
        self.event.author_association = Some(association.into());
        self
    }

    /// The author's repository permission (`write`, `maintain`, ...).
    pub fn permission(mut self, permission: &str) -> Self {
        self.event.author_permission = Some(permission.into());
        self
    }

    pub fn title(mut self, title: &str) -> Self {
        self.event.title = Some(title.into());
        self
    }

    pub fn body(mut self, body: &str) -> Self {
        self.event.body = Some(body.into());
        self
    }

    pub fn labels(mut self, labels: &[&str]) -> Self {
        self.event.labels = labels.iter().map(ToString::to_string).collect();
        self
    }

    /// A slash command and its arguments (`command("label", &["bug"])`).
    pub fn command(mut self, name: &str, args: &[&str]) -> Self {
        self.event.command = Some(name.into());
        self.event.args = args.iter().map(ToString::to_string).collect();
        self
    }

    pub fn review(mut self, state: &str) -> Self {
        self.event.review_state = Some(state.into());
        self
    }

    pub fn branch(mut self, branch: &str) -> Self {
        self.event.ref_name = Some(branch.into());
        self
    }

    /// A finished run, for `workflow-run` events.
    pub fn run(mut self, run: RunInfo) -> Self {
        self.event.run = Some(run);
        self
    }

    /// The step's `with:` mapping as JSON.
    pub fn config(mut self, json: &str) -> Self {
        self.config = json.into();
        self
    }

    pub fn build(self) -> Invocation {
        Invocation {
            event: self.event,
            workflow: "test".into(),
            step_id: "step".into(),
            config: self.config,
        }
    }
}

/// A finished run of `workflow` with `status` on `main`, for
/// `workflow-run` events.
pub fn run_info(workflow: &str, status: &str) -> RunInfo {
    RunInfo {
        id: 1,
        workflow: workflow.into(),
        status: status.into(),
        event: EventKind::Push,
        branch: Some("main".into()),
        head: "h1".into(),
        url: None,
        summary: String::new(),
    }
}
