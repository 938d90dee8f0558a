//! The command line: `andon run`, `andon validate`, `andon runs`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use andon_core::change::Change;
use andon_core::diagnostic::{Diagnostic, Severity};
use andon_core::event::{Event, EventKind};
use andon_core::limits::Limits;
use andon_core::plan;
use andon_core::run::RunRecord;
use andon_core::run::Status;
use andon_core::schedule::ScheduleRecord;
use andon_core::workflow::{self, PluginRef, Workflow};
use andon_git::Repo;
use andon_host::{HostConfig, PluginHost};
use andon_store::{
    Accepted, DeliveryQuery, DeliveryRecord, DeliveryState, InboxStore, NewDelivery, OutboxItem,
    OutboxStore, RunQuery, RunStore, RunSummary, ScheduleStore, Store, StoreError,
};
use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};

use crate::inputs::RunInputs;
use crate::pipeline::{Pipeline, RunBudget};
use crate::plugins::PluginFiles;
use crate::serve::api;
use crate::{plugins, report};

#[derive(Debug, Parser)]
#[command(
    name = "andon",
    version,
    about = "A Git-native workflow bot and data/ML-ops task runner"
)]
struct Cli {
    /// Where andon keeps its state (runs, kv, artifacts, compiled plugins).
    #[arg(long, global = true, env = "ANDON_DATA_DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a workflow on a local repository and print the actions it asks for.
    Run(RunArgs),
    /// Check workflow files and report every problem with file, line and a hint.
    Validate(ValidateArgs),
    /// List recorded runs, or show one with `andon runs show ID`.
    Runs(RunsArgs),
    /// Run the GitHub bot: webhooks in, check runs, comments and labels out.
    Serve(crate::serve::ServeArgs),
    /// Deliveries the server accepted: `andon deliveries list`.
    Deliveries(DeliveriesArgs),
    /// Run a webhook payload through the pipeline without GitHub.
    Replay(ReplayArgs),
    /// Datasets and files steps stored: `andon artifacts list|show|get`.
    Artifacts(crate::artifacts::ArtifactsArgs),
    /// Scheduled workflows: `andon schedule list`.
    Schedule(ScheduleArgs),
    /// The model registry (GTO tags): `andon model list|show|history|register|assign|unassign|deregister|deprecate`.
    Model(crate::model::ModelArgs),
    /// Plugin authoring: `andon plugin new|inspect|bench`.
    Plugin(crate::plugin_cmd::PluginArgs),
}

#[derive(Debug, clap::Args)]
struct ScheduleArgs {
    #[command(subcommand)]
    command: ScheduleCommand,
}

#[derive(Debug, Subcommand)]
enum ScheduleCommand {
    /// Each schedule: repository, workflow, cron, time zone and policy,
    /// its last run and its next fire time.
    List {
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
}

#[derive(Debug, clap::Args)]
struct DeliveriesArgs {
    #[command(subcommand)]
    command: DeliveriesCommand,
}

#[derive(Debug, Subcommand)]
enum DeliveriesCommand {
    /// List accepted deliveries, newest first: id, event, state.
    List {
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
}

#[derive(Debug, clap::Args)]
struct ReplayArgs {
    /// The payload: a JSON file as GitHub sends it.
    file: PathBuf,
    /// The event name (GitHub's `X-GitHub-Event`): `pull_request`,
    /// `issue_comment`, `pull_request_review`, `push`, ...
    #[arg(long)]
    event: String,
    /// Fetch the repository from here (a path or URL) instead of the
    /// payload's clone URL.
    #[arg(long)]
    repo: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
enum EventArg {
    PullRequest,
    Push,
    Manual,
    Schedule,
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The repository (a work tree or a bare repository).
    #[arg(long, default_value = ".")]
    repo: PathBuf,
    /// The workflow file.
    #[arg(long)]
    workflow: PathBuf,
    /// The event to simulate.
    #[arg(long, value_enum, default_value = "pull_request")]
    event: EventArg,
    /// The base revision; defaults to the head's first parent.
    #[arg(long)]
    base: Option<String>,
    /// The head revision.
    #[arg(long, default_value = "HEAD")]
    head: String,
    /// The pull request action (`opened`, `synchronize`, `labeled`, ...).
    #[arg(long, default_value = "opened")]
    action: String,
    /// The target branch, for `branches:` filters.
    #[arg(long)]
    branch: Option<String>,
    /// A label already on the pull request (repeatable).
    #[arg(long = "label")]
    labels: Vec<String>,
    /// The run's reference time (what plugins see as now), RFC 3339: a
    /// scheduled run replayed at its tick. Default: now.
    #[arg(long, value_parser = parse_rfc3339)]
    now: Option<i64>,
    /// Print the actions without carrying out registry actions (by
    /// default `register-version` and `assign-stage` create their tags in
    /// the repository with gix).
    #[arg(long)]
    dry_run: bool,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Debug, clap::Args)]
struct ValidateArgs {
    /// The repository whose `.andon/workflows/` to check.
    #[arg(long, default_value = ".")]
    repo: PathBuf,
    /// Workflow files to check instead of the repository's folder.
    files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Debug, clap::Args)]
struct RunsArgs {
    #[command(subcommand)]
    show: Option<RunsCommand>,
    /// How many runs to list.
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// Only runs of this workflow.
    #[arg(long)]
    workflow: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Debug, Subcommand)]
enum RunsCommand {
    /// Show one run with its steps, actions and logs.
    Show {
        id: u64,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
}

/// Exit codes: 0 success, 1 a step failed its check or errored, 2 the
/// input was wrong (bad flags, broken workflow, unknown revision).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(error) = init_tracing(matches!(cli.command, Command::Serve(_))) {
        eprintln!("andon: {error}");
        return ExitCode::from(2);
    }
    let result = match cli.command {
        Command::Run(args) => run(cli.data_dir, &args),
        Command::Validate(args) => validate(&args),
        Command::Runs(args) => runs(cli.data_dir, &args),
        Command::Serve(args) => {
            crate::serve::serve(&data_dir(cli.data_dir), &args).map(|()| ExitCode::SUCCESS)
        }
        Command::Deliveries(args) => deliveries(cli.data_dir, &args),
        Command::Replay(args) => replay(cli.data_dir, &args),
        Command::Artifacts(args) => crate::artifacts::command(&data_dir(cli.data_dir), &args),
        Command::Schedule(args) => schedule(cli.data_dir, &args),
        Command::Model(args) => crate::model::command(&data_dir(cli.data_dir), &args),
        Command::Plugin(args) => crate::plugin_cmd::command(&data_dir(cli.data_dir), &args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("andon: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// How log lines are written (`ANDON_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LogFormat {
    /// One human-readable line per event, with its spans' fields.
    Text,
    /// One JSON object per line, with the current span and the list of
    /// spans it is in (delivery, run, step, outbox) and their fields.
    Json,
}

impl LogFormat {
    fn parse(value: Option<&str>) -> anyhow::Result<LogFormat> {
        match value.map(str::trim) {
            None | Some("" | "text") => Ok(LogFormat::Text),
            Some("json") => Ok(LogFormat::Json),
            Some(other) => bail!(
                "ANDON_LOG_FORMAT=`{other}` is not a log format: use `text` (the default) or `json`"
            ),
        }
    }
}

/// Logs go to stderr, filtered by `ANDON_LOG` (an `EnvFilter`: `info`,
/// `andon=debug,warn`, `off`), formatted as `ANDON_LOG_FORMAT` says.
fn init_tracing(serving: bool) -> anyhow::Result<()> {
    let format = LogFormat::parse(std::env::var("ANDON_LOG_FORMAT").ok().as_deref())?;
    let default = if serving { "info" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("ANDON_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Colours only for a person at a terminal, not into log files.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr);
    // A subscriber set already (none is, in the binary) is not an error.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .try_init(),
    };
    Ok(())
}

/// `--data-dir`, `$ANDON_DATA_DIR`, `$XDG_DATA_HOME/andon`, or
/// `~/.local/share/andon`.
fn data_dir(flag: Option<PathBuf>) -> PathBuf {
    if let Some(dir) = flag {
        return dir;
    }
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(xdg).join("andon");
    }
    match std::env::var_os("HOME") {
        Some(home) => PathBuf::from(home).join(".local/share/andon"),
        None => PathBuf::from(".andon-data"),
    }
}

fn open_store(dir: &Path) -> anyhow::Result<Store> {
    Store::open(&dir.join("store"))
        .with_context(|| format!("cannot open the store in {}", dir.display()))
}

fn run(data_dir_flag: Option<PathBuf>, args: &RunArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.workflow)
        .with_context(|| format!("cannot read workflow {}", args.workflow.display()))?;
    let file = args.workflow.display().to_string();
    let parsed = workflow::parse(&file, &text);
    let repo = Arc::new(
        Repo::open(&args.repo)
            .with_context(|| format!("cannot open repository {}", args.repo.display()))?,
    );
    // `.wasm` paths are relative to the work tree's root, wherever inside
    // the repository `--repo` points.
    let root = repo.work_dir().unwrap_or_else(|| args.repo.clone());
    let mut diagnostics = parsed.diagnostics;
    if let Some(wf) = &parsed.workflow {
        diagnostics.extend(check_plugins(wf, &root));
    }
    print_diagnostics(&diagnostics);
    let Some(wf) = parsed
        .workflow
        .filter(|_| !diagnostics.iter().any(|d| d.severity == Severity::Error))
    else {
        bail!("{file} has errors; nothing was run");
    };

    let head = repo.resolve(&args.head)?;
    let base = match (&args.base, args.event) {
        // A scheduled run has no change: it runs on a commit, not a diff.
        (_, EventArg::Schedule) => None,
        (Some(rev), _) => Some(repo.resolve(rev)?),
        (None, EventArg::Manual) => None,
        (None, _) => repo.first_parent(&head)?,
    };
    let no_change = match args.event {
        EventArg::Schedule => true,
        EventArg::Manual => args.base.is_none(),
        EventArg::PullRequest | EventArg::Push => false,
    };
    let change = if no_change {
        Change::default()
    } else {
        repo.diff(base.as_deref(), &head)?
    };
    let event = local_event(args, repo.name(), base.clone(), head.clone());

    let workflows = [wf];
    let paths: Vec<&str> = change.paths().collect();
    let plan = plan::plan(&event, &paths, &workflows, &Limits::DEFAULT, &Limits::MAX);
    let files_changed = change.files.len();
    let Some(planned) = plan.runs.first() else {
        let reason = plan
            .skipped
            .first()
            .map_or("no workflow", |s| s.reason.as_str());
        match args.format {
            Format::Json => println!(
                "{}",
                serde_json::json!({ "status": "skipped", "reason": reason, "steps": [], "actions": [] })
            ),
            Format::Text => println!("skipped: {reason}"),
        }
        return Ok(ExitCode::SUCCESS);
    };
    // Only now that something will run: the store and the engine.
    let data_dir = data_dir(data_dir_flag);
    let store = open_store(&data_dir)?;
    let host = PluginHost::new(HostConfig {
        cache_dir: Some(plugin_cache(&data_dir)),
        ..HostConfig::default()
    })?;
    let pipeline = Pipeline {
        host: Arc::new(host),
        store: store.clone(),
        activity: None,
    };
    let now_micros = args.now.unwrap_or_else(crate::inputs::now_micros);
    let inputs = Arc::new(RunInputs {
        repo,
        base,
        head,
        change: Arc::new(change),
        store: store.clone(),
        now_micros,
        pulls: crate::inputs::Pulls::none(),
    });
    let files = PluginFiles::WorkTree(&root);
    // A schedule runs within its deadline, as the scheduler runs it.
    let deadline = (event.kind == EventKind::Schedule)
        .then(|| planned.workflow.on.schedule.first())
        .flatten()
        .and_then(|s| s.policy.deadline_ms)
        .map(std::time::Duration::from_millis);
    let budget = RunBudget {
        deadline,
        ..RunBudget::UNLIMITED
    };
    let run = pipeline.run(planned, &event, &inputs, &files, &budget)?;
    let (tags, tag_errors) = if args.dry_run {
        (Vec::new(), Vec::new())
    } else {
        apply_registry_actions(&store, &inputs.repo, &args.repo, &run)?
    };
    match args.format {
        Format::Json => {
            let mut value = report::run_json(&run, files_changed);
            value["now"] = serde_json::json!(rfc3339_micros(now_micros));
            value["tags"] = serde_json::json!(tags);
            value["tag_errors"] = serde_json::json!(tag_errors);
            println!("{value}");
        }
        Format::Text => {
            print!("{}", report::run_text(&run, files_changed));
            for tag in &tags {
                println!("registry: {tag}");
            }
            for error in &tag_errors {
                println!("registry error: {error}");
            }
        }
    }
    Ok(match run.status {
        _ if !tag_errors.is_empty() => ExitCode::from(1),
        Status::Success | Status::Skipped => ExitCode::SUCCESS,
        Status::Failure | Status::Error => ExitCode::from(1),
    })
}

/// Carry out a finished run's registry actions on the local repository with
/// gix, in step order: what was done, and what could not be (a version
/// that exists, an unknown stage holder), each for whoever reads the run.
fn apply_registry_actions(
    store: &Store,
    repo: &Repo,
    path: &Path,
    run: &RunRecord,
) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let wanted = run.steps.iter().any(|s| {
        s.actions.iter().any(|a| {
            matches!(
                a,
                andon_core::Action::RegisterVersion(_) | andon_core::Action::AssignStage { .. }
            )
        })
    });
    if !wanted {
        return Ok((Vec::new(), Vec::new()));
    }
    if run.status != Status::Success {
        // A model is released only by a run that passed every step.
        return Ok((
            Vec::new(),
            vec!["registry actions were not carried out: the run did not succeed".into()],
        ));
    }
    let mut local = crate::model::LocalRegistry::open(Some(store), repo, path)?;
    let provenance = crate::model::Provenance {
        run: run.id.to_string(),
        workflow: Some(run.workflow.clone()),
    };
    let (mut done, mut errors) = (Vec::new(), Vec::new());
    for step in &run.steps {
        for action in &step.actions {
            match local.apply(repo, action, &run.event.head, &provenance) {
                Ok(Some(applied)) => done.push(applied.describe()),
                Ok(None) => {}
                Err(error) => errors.push(format!("step `{}`: {error:#}", step.id)),
            }
        }
    }
    Ok((done, errors))
}

fn local_event(args: &RunArgs, repository: String, base: Option<String>, head: String) -> Event {
    let kind = match args.event {
        EventArg::PullRequest => EventKind::PullRequest,
        EventArg::Push => EventKind::Push,
        EventArg::Manual => EventKind::Manual,
        EventArg::Schedule => EventKind::Schedule,
    };
    let mut event = Event::new(kind, repository, head);
    event.base = base;
    event.branch = args.branch.clone();
    if kind == EventKind::PullRequest {
        event.action = Some(args.action.clone());
        event.labels = args.labels.clone();
    }
    event
}

/// Problems the core cannot see: plugins that do not exist.
fn check_plugins(wf: &Workflow, repo: &Path) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for step in &wf.steps {
        let problem = match &step.uses {
            PluginRef::Bundled(name) => plugins::check_bundled(name)
                .err()
                .map(|hint| (format!("no bundled plugin is called `{name}`"), hint)),
            PluginRef::Path { path, .. } if !repo.join(path).is_file() => Some((
                format!("plugin file `{path}` does not exist"),
                "paths are relative to the repository root".to_string(),
            )),
            PluginRef::Path { .. } => None,
        };
        if let Some((message, hint)) = problem {
            out.push(Diagnostic {
                severity: Severity::Error,
                file: wf.file.clone(),
                line: step.line,
                column: 0,
                message,
                hint: Some(hint),
            });
        }
    }
    out
}

fn print_diagnostics(diagnostics: &[Diagnostic]) {
    for d in diagnostics {
        eprintln!("{d}");
    }
}

fn validate(args: &ValidateArgs) -> anyhow::Result<ExitCode> {
    let files = if args.files.is_empty() {
        let dir = args.repo.join(workflow::DEFAULT_DIR);
        let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
                .collect(),
            Err(error) => bail!("cannot read {}: {error}", dir.display()),
        };
        files.sort();
        files
    } else {
        args.files.clone()
    };
    let mut all = Vec::new();
    let mut valid = 0;
    for path in &files {
        let file = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) => {
                all.push(Diagnostic {
                    severity: Severity::Error,
                    file,
                    line: 0,
                    column: 0,
                    message: format!("cannot read the file: {error}"),
                    hint: None,
                });
                continue;
            }
        };
        let parsed = workflow::parse(&file, &text);
        let mut diagnostics = parsed.diagnostics;
        if let Some(wf) = &parsed.workflow {
            diagnostics.extend(check_plugins(wf, &args.repo));
        }
        if !diagnostics.iter().any(|d| d.severity == Severity::Error) {
            valid += 1;
        }
        all.extend(diagnostics);
    }
    let errors = all.iter().filter(|d| d.severity == Severity::Error).count();
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::json!({ "files": files.len(), "valid": valid, "errors": errors, "diagnostics": all })
        ),
        Format::Text => {
            for d in &all {
                println!("{d}");
            }
            println!(
                "{} of {} workflow files valid, {errors} errors",
                valid,
                files.len()
            );
        }
    }
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The store, or the server that holds it.
enum Reader {
    Store(Store),
    Server(api::Client),
}

/// Open the store to read it; while `andon serve` holds it, ask the server.
fn reader(data_dir: &Path) -> anyhow::Result<Reader> {
    match Store::open(&data_dir.join("store")) {
        Ok(store) => Ok(Reader::Store(store)),
        Err(StoreError::Locked { path }) => match api::Client::discover(data_dir) {
            Some(client) => Ok(Reader::Server(client)),
            None => bail!(
                "the store at {} is in use by another process, and no andon server publishes serve.json there",
                path.display()
            ),
        },
        Err(error) => {
            Err(error).with_context(|| format!("cannot open the store in {}", data_dir.display()))
        }
    }
}

fn from_json<T: serde::de::DeserializeOwned>(
    value: &serde_json::Value,
    field: &str,
) -> anyhow::Result<T> {
    let inner = value.get(field).cloned().unwrap_or(serde_json::Value::Null);
    serde_json::from_value(inner)
        .with_context(|| format!("the server sent an unexpected `{field}`"))
}

fn runs(data_dir_flag: Option<PathBuf>, args: &RunsArgs) -> anyhow::Result<ExitCode> {
    let reader = reader(&data_dir(data_dir_flag))?;
    if let Some(RunsCommand::Show { id, format }) = &args.show {
        let (run, outbox): (Option<RunRecord>, Vec<OutboxItem>) = match &reader {
            Reader::Store(store) => (store.run(*id)?, store.outbox_for_run(*id)?),
            Reader::Server(client) => match client.get(&format!("runs/{id}")) {
                Ok(value) => (
                    Some(from_json(&value, "run")?),
                    from_json(&value, "outbox")?,
                ),
                Err(error) if error.to_string().contains("404") => (None, Vec::new()),
                Err(error) => return Err(error),
            },
        };
        let Some(run) = run else {
            bail!("no run with id {id}; `andon runs` lists them");
        };
        match format {
            Format::Json => {
                let mut value = serde_json::to_value(&run)?;
                if let Some(object) = value.as_object_mut() {
                    object.insert("outbox".into(), serde_json::to_value(&outbox)?);
                }
                println!("{}", serde_json::to_string_pretty(&value)?);
            }
            Format::Text => {
                print!("{}", report::run_text(&run, 0));
                print!("{}", report::outbox_text(&outbox));
                for step in run.steps.iter().filter(|s| !s.log.is_empty()) {
                    println!("--- log of {} ---\n{}", step.id, step.log.trim_end());
                }
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let query = RunQuery {
        limit: args.limit,
        workflow: args.workflow.clone(),
        ..RunQuery::default()
    };
    let runs: Vec<RunSummary> = match &reader {
        Reader::Store(store) => store.runs(&query)?,
        Reader::Server(client) => {
            let mut path = format!("runs?limit={}", query.limit);
            if let Some(workflow) = &query.workflow {
                path.push_str(&format!("&workflow={}", api::url_encode(workflow)));
            }
            from_json(&client.get(&path)?, "runs")?
        }
    };
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&runs)?),
        Format::Text => print!("{}", report::runs_text(&runs)),
    }
    Ok(ExitCode::SUCCESS)
}

/// An RFC 3339 instant as microseconds since the epoch.
/// Where compiled plugins are cached: `$ANDON_PLUGIN_CACHE`, else
/// `plugins/` in the data dir. Entries are keyed by the component's sha256
/// and the engine's compatibility hash, so one cache may serve several
/// data dirs (the tests share one).
pub fn plugin_cache(data_dir: &Path) -> PathBuf {
    std::env::var_os("ANDON_PLUGIN_CACHE")
        .filter(|dir| !dir.is_empty())
        .map_or_else(|| data_dir.join("plugins"), PathBuf::from)
}

fn parse_rfc3339(text: &str) -> Result<i64, String> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|at| at.timestamp_micros())
        .map_err(|error| {
            format!(
                "`{text}` is not an RFC 3339 time ({error}); write for example 2026-01-05T03:00:00+01:00"
            )
        })
}

fn rfc3339_micros(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros).map_or_else(
        || micros.to_string(),
        |at| at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
    )
}

/// `andon schedule list`: from the store, or from the server that holds it.
fn schedule(data_dir_flag: Option<PathBuf>, args: &ScheduleArgs) -> anyhow::Result<ExitCode> {
    let ScheduleCommand::List { format } = &args.command;
    let schedules: Vec<ScheduleRecord> = match reader(&data_dir(data_dir_flag))? {
        Reader::Store(store) => store.schedules()?,
        Reader::Server(client) => from_json(&client.get("schedules")?, "schedules")?,
    };
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report::schedules_json(&schedules))?
        ),
        Format::Text => print!("{}", report::schedules_text(&schedules)),
    }
    Ok(ExitCode::SUCCESS)
}

fn deliveries(data_dir_flag: Option<PathBuf>, args: &DeliveriesArgs) -> anyhow::Result<ExitCode> {
    let DeliveriesCommand::List { limit, format } = &args.command;
    let deliveries: Vec<DeliveryRecord> = match reader(&data_dir(data_dir_flag))? {
        Reader::Store(store) => store.deliveries(&DeliveryQuery {
            limit: *limit,
            ..DeliveryQuery::default()
        })?,
        Reader::Server(client) => from_json(
            &client.get(&format!("deliveries?limit={limit}"))?,
            "deliveries",
        )?,
    };
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&deliveries)?),
        Format::Text => print!("{}", report::deliveries_text(&deliveries)),
    }
    Ok(ExitCode::SUCCESS)
}

/// `andon replay`: the worker's path for one payload, with no GitHub: the
/// effects it would have carried out are printed (and kept in the outbox).
fn replay(data_dir_flag: Option<PathBuf>, args: &ReplayArgs) -> anyhow::Result<ExitCode> {
    let body = std::fs::read(&args.file)
        .with_context(|| format!("cannot read payload {}", args.file.display()))?;
    serde_json::from_slice::<serde::de::IgnoredAny>(&body)
        .with_context(|| format!("{} is not valid JSON", args.file.display()))?;
    let data_dir = data_dir(data_dir_flag);
    let store = open_store(&data_dir)?;
    let host = Arc::new(PluginHost::new(HostConfig {
        cache_dir: Some(plugin_cache(&data_dir)),
        ..HostConfig::default()
    })?);
    let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&body));
    let id = format!("replay-{}-{}", &digest[..16], crate::serve::now_ms());
    let accepted = store.accept(&NewDelivery {
        id,
        event: args.event.clone(),
        received_at_ms: crate::serve::now_ms(),
        body,
    })?;
    let (Accepted::New { seq } | Accepted::Duplicate { seq }) = accepted;
    store.sync()?;
    let Some(delivery) = store.delivery(seq)? else {
        bail!("the replayed delivery vanished from the store");
    };
    let context = crate::serve::WorkerContext {
        store: store.clone(),
        host,
        github: None,
        mirrors: andon_git::Mirrors::new(data_dir.join("mirrors")),
        git_base_url: None,
        clone_url: args.repo.clone(),
        outbox_ready: None,
        self_login: None,
        schedules_ready: None,
        metrics: Arc::new(crate::serve::Metrics::disabled()),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let outcome = crate::serve::worker::process(&context, runtime.handle(), &delivery);
    let (status, reason, runs, effects) = match outcome {
        crate::serve::Outcome::Done { runs, effects } => {
            let status = runs
                .iter()
                .fold(Status::Skipped, |acc, run| acc.worst(run.status));
            (status.as_str().to_string(), None, runs, effects)
        }
        crate::serve::Outcome::Ignored(reason) => {
            store.finish_delivery(
                seq,
                DeliveryState::Ignored {
                    reason: reason.clone(),
                },
            )?;
            ("ignored".to_string(), Some(reason), Vec::new(), Vec::new())
        }
        crate::serve::Outcome::Failed(error) => {
            store.finish_delivery(
                seq,
                DeliveryState::Failed {
                    error: error.clone(),
                },
            )?;
            bail!("{error}");
        }
        crate::serve::Outcome::Retry(error) => {
            store.finish_delivery(
                seq,
                DeliveryState::Failed {
                    error: format!("{error:#}"),
                },
            )?;
            return Err(error.context("the payload could not be processed"));
        }
    };
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "status": status,
                "reason": reason,
                "runs": runs.iter().map(|r| report::run_json(r, 0)).collect::<Vec<_>>(),
                "effects": effects,
            }))?
        ),
        Format::Text => {
            if let Some(reason) = &reason {
                println!("ignored: {reason}");
            }
            for run in &runs {
                print!("{}", report::run_text(run, 0));
            }
            print!("{}", report::effects_text(&effects));
        }
    }
    Ok(match status.as_str() {
        "failure" | "error" => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    })
}
