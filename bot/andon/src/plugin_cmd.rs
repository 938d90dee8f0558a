//! `andon plugin new|inspect|bench`: the plugin author's tools. `new`
//! scaffolds a crate from the templates in `plugin_template/`, `inspect`
//! reads a component's manifest and interfaces, and `bench` times a plugin
//! on one event the way steps run it.

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use andon_core::Action;
use andon_core::command::Command;
use andon_core::event::Event;
use andon_core::limits::Limits;
use andon_core::manifest::Manifest;
use andon_core::webhook::{self, Parsed};
use andon_git::Repo;
use andon_host::{
    EmptyInputs, HostConfig, Interfaces, Invocation, Item, ItemKind, PluginHost, StepInputs,
    StepOutcome,
};
use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::artifacts::RunArtifacts;
use crate::inputs::{GitInputs, RunInputs};

#[derive(Debug, clap::Args)]
pub struct PluginArgs {
    #[command(subcommand)]
    command: PluginCommand,
}

#[derive(Debug, Subcommand)]
enum PluginCommand {
    /// Create a plugin crate that builds, tests and runs as it is.
    New(NewArgs),
    /// Show a plugin's manifest, WIT version, imports, exports, size and sha256.
    Inspect(InspectArgs),
    /// Time a plugin on one event: instantiation, the call, and the whole step.
    Bench(BenchArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
struct NewArgs {
    /// The plugin's name: lowercase letters, digits and `-`, starting with
    /// a letter. Also the crate's name and its slash command.
    name: String,
    /// The folder to create the crate in (as DIR/NAME).
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    /// The andon-pdk crate to depend on (the andon repository's
    /// `plugins/pdk`); found by itself when run inside the repository.
    #[arg(long)]
    pdk: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct InspectArgs {
    /// The component (`.wasm`).
    file: PathBuf,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Debug, clap::Args)]
struct BenchArgs {
    /// The component (`.wasm`).
    file: PathBuf,
    /// The event: a GitHub webhook payload, or an andon event as JSON (as
    /// `andon run --format json` prints it under `event`).
    #[arg(long)]
    event: PathBuf,
    /// The webhook's event name (`pull_request`, `issue_comment`,
    /// `pull_request_review`, `push`); inferred from the payload's keys
    /// when absent.
    #[arg(long)]
    github_event: Option<String>,
    /// The step's `with:` mapping, as JSON.
    #[arg(long, default_value = "{}")]
    config: String,
    /// Read files and the change from this git repository, as `andon run`
    /// does; without it the plugin sees no files and no change.
    #[arg(long)]
    repo: Option<PathBuf>,
    /// The base revision; defaults to the head's first parent.
    #[arg(long, requires = "repo")]
    base: Option<String>,
    /// The head revision.
    #[arg(long, requires = "repo")]
    head: Option<String>,
    /// Timed runs.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
    /// Untimed runs first, to warm caches.
    #[arg(long, default_value_t = 10)]
    warmup: u32,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

/// Run `andon plugin ...`; `data_dir` holds the compiled-plugin cache.
pub fn command(data_dir: &Path, args: &PluginArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        PluginCommand::New(args) => new(args),
        PluginCommand::Inspect(args) => inspect(data_dir, args),
        PluginCommand::Bench(args) => bench(data_dir, args),
    }
}

// ---------------------------------------------------------------- new

const CARGO_TOML: &str = include_str!("plugin_template/Cargo.toml.tmpl");
const LIB_RS: &str = include_str!("plugin_template/lib.rs.tmpl");
const README: &str = include_str!("plugin_template/README.md.tmpl");
const GITIGNORE: &str = include_str!("plugin_template/gitignore.tmpl");

/// Names the template's `lib.rs` imports: a plugin type may not take one.
const IMPORTED_NAMES: &[&str] = &[
    "Action",
    "CommandInfo",
    "Event",
    "EventKind",
    "FakeHost",
    "Host",
    "Invocation",
    "Manifest",
    "Permission",
    "Plugin",
    "PluginError",
];

fn new(args: &NewArgs) -> anyhow::Result<ExitCode> {
    check_name(&args.name)?;
    let dest = args.dir.join(&args.name);
    if dest.exists() {
        let empty = std::fs::read_dir(&dest)
            .with_context(|| format!("{} exists and is not a folder", dest.display()))?
            .next()
            .is_none();
        if !empty {
            bail!("{} exists and is not empty", dest.display());
        }
    }
    let pdk = find_pdk(args)?;
    std::fs::create_dir_all(dest.join("src"))
        .with_context(|| format!("cannot create {}", dest.display()))?;
    let dest = dest
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", dest.display()))?;
    let root = workspace_root(&pdk);
    let pdk_in_toml = match &root {
        Some(root) if dest.starts_with(root) => relative(&dest, &pdk),
        _ => pdk.clone(),
    };
    let vars = Vars {
        name: args.name.clone(),
        krate: args.name.replace('-', "_"),
        ty: type_name(&args.name),
        pdk: toml_string(&pdk_in_toml.to_string_lossy()),
        wit: wit_package(&pdk),
    };
    let write = |path: &str, text: &str| {
        let file = dest.join(path);
        std::fs::write(&file, vars.fill(text))
            .with_context(|| format!("cannot write {}", file.display()))
    };
    write("Cargo.toml", CARGO_TOML)?;
    write("src/lib.rs", LIB_RS)?;
    write("README.md", README)?;
    write(".gitignore", GITIGNORE)?;
    let lock = root.map(|r| r.join("Cargo.lock")).filter(|f| f.is_file());
    if let Some(lock) = &lock {
        std::fs::copy(lock, dest.join("Cargo.lock"))
            .with_context(|| format!("cannot copy {}", lock.display()))?;
    }
    println!(
        "created plugin `{}` in {} (andon-pdk at {}, {})",
        vars.name,
        dest.display(),
        pdk_in_toml.display(),
        vars.wit
    );
    match &lock {
        Some(lock) => println!("Cargo.lock copied from {}", lock.display()),
        None => println!("no andon Cargo.lock found: cargo will pick dependency versions afresh"),
    }
    println!(
        "next:\n  cd {}\n  cargo test\n  cargo build --release --target wasm32-wasip2\n  \
         sha256sum target/wasm32-wasip2/release/{}.wasm",
        dest.display(),
        vars.krate
    );
    Ok(ExitCode::SUCCESS)
}

/// What the templates' `{{...}}` placeholders stand for.
struct Vars {
    name: String,
    /// The crate's Rust name, and the `.wasm` file's stem.
    krate: String,
    /// The plugin type's name.
    ty: String,
    /// The andon-pdk path, escaped for a TOML string.
    pdk: String,
    /// `andon:plugin@X.Y.Z`.
    wit: String,
}

impl Vars {
    fn fill(&self, template: &str) -> String {
        template
            .replace("{{name}}", &self.name)
            .replace("{{crate}}", &self.krate)
            .replace("{{type}}", &self.ty)
            .replace("{{pdk}}", &self.pdk)
            .replace("{{wit}}", &self.wit)
    }
}

/// A plugin name works as a crate name, a slash command and a manifest
/// name: `[a-z][a-z0-9-]*`, no `--`, no trailing `-`, not a Rust keyword.
fn check_name(name: &str) -> anyhow::Result<()> {
    /// Rust keywords (strict and reserved) and crate names cargo refuses.
    const RESERVED: &str = "as async await break const continue crate dyn else enum extern false \
        fn for if impl in let loop match mod move mut pub ref return self \
        static struct super trait true type unsafe use where while abstract \
        become box do final gen macro override priv try typeof unsized virtual \
        yield core std alloc proc-macro test";
    let valid = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-')
        && !name.contains("--");
    if !valid {
        bail!(
            "`{name}` is not a valid plugin name: use lowercase letters, digits and `-`, \
             starting with a letter (for example `greet` or `pr-greeter`)"
        );
    }
    if RESERVED.split_whitespace().any(|word| word == name) {
        bail!("`{name}` is a reserved word in Rust: choose another plugin name");
    }
    Ok(())
}

/// `pr-greeter` -> `PrGreeter`, avoiding the names the template imports.
fn type_name(name: &str) -> String {
    let mut ty: String = name
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect();
    if IMPORTED_NAMES.contains(&ty.as_str()) {
        ty.push_str("Plugin");
    }
    ty
}

/// The andon-pdk crate, as an absolute path: `--pdk`, or `plugins/pdk` of
/// the andon repository around the current folder or `--dir`.
fn find_pdk(args: &NewArgs) -> anyhow::Result<PathBuf> {
    if let Some(pdk) = &args.pdk {
        let pdk = pdk
            .canonicalize()
            .with_context(|| format!("--pdk {}: no such folder", pdk.display()))?;
        if !is_pdk(&pdk) {
            bail!(
                "--pdk {}: not the andon-pdk crate (its Cargo.toml does not name `andon-pdk`)",
                pdk.display()
            );
        }
        return Ok(pdk);
    }
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let starts = [cwd.clone(), cwd.join(&args.dir)];
    starts
        .iter()
        .filter_map(|start| start.canonicalize().ok())
        .find_map(|start| {
            start
                .ancestors()
                .map(|dir| dir.join("plugins/pdk"))
                .find(|pdk| is_pdk(pdk))
        })
        .with_context(|| {
            "not inside the andon repository, so andon-pdk is not at hand: pass \
             --pdk PATH (the andon repository's plugins/pdk)"
        })
}

fn is_pdk(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("Cargo.toml")).is_ok_and(|toml| {
        toml.lines()
            .any(|l| l.replace(' ', "") == "name=\"andon-pdk\"")
    })
}

/// The workspace the pdk belongs to: the nearest folder above it with a
/// `Cargo.lock`.
fn workspace_root(pdk: &Path) -> Option<PathBuf> {
    pdk.ancestors()
        .skip(1)
        .find(|dir| dir.join("Cargo.lock").is_file())
        .map(Path::to_path_buf)
}

/// The WIT package the pdk binds (`andon:plugin@0.2.0`), from the
/// `package` line of the `wit/plugin.wit` its bindings are generated from.
fn wit_package(pdk: &Path) -> String {
    std::fs::read_to_string(pdk.join("../../wit/plugin.wit"))
        .ok()
        .and_then(|wit| {
            wit.lines()
                .find_map(|l| l.trim().strip_prefix("package "))
                .map(|p| p.trim().trim_end_matches(';').to_string())
        })
        .unwrap_or_else(|| "andon:plugin".into())
}

/// `to` relative to `from`; both absolute and canonical.
fn relative(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<Component<'_>> = from.components().collect();
    let to: Vec<Component<'_>> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut path = PathBuf::new();
    for _ in common..from.len() {
        path.push("..");
    }
    for part in &to[common..] {
        path.push(part);
    }
    path
}

/// A path as the inside of a TOML basic string, `/`-separated.
fn toml_string(path: &str) -> String {
    path.replace('\\', "/").replace('"', "\\\"")
}

// ---------------------------------------------------------------- inspect

/// A component file read once: its bytes, name for messages, and digest.
struct WasmFile {
    name: String,
    bytes: Vec<u8>,
    sha256: String,
}

impl WasmFile {
    fn read(path: &Path) -> anyhow::Result<WasmFile> {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        Ok(WasmFile {
            name: path.display().to_string(),
            sha256: hex::encode(Sha256::digest(&bytes)),
            bytes,
        })
    }
}

fn host(data_dir: &Path) -> anyhow::Result<PluginHost> {
    Ok(PluginHost::new(HostConfig {
        cache_dir: Some(crate::cli::plugin_cache(data_dir)),
        ..HostConfig::default()
    })?)
}

fn inspect(data_dir: &Path, args: &InspectArgs) -> anyhow::Result<ExitCode> {
    let file = WasmFile::read(&args.file)?;
    let interfaces = andon_host::component_interfaces(&file.name, &file.bytes)?;
    let wit = interfaces.package_versions("andon:plugin");
    // The manifest needs the host to link the component: a version it does
    // not serve is reported, not fatal, so the interfaces still show why.
    let host = host(data_dir)?;
    let manifest: anyhow::Result<Manifest> = host
        .load(&file.name, &file.bytes, None)
        .map_err(anyhow::Error::from)
        .and_then(|plugin| Ok(host.manifest(&plugin)?));
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&inspect_json(&file, &interfaces, &wit, &manifest))?
        ),
        Format::Text => print!("{}", inspect_text(&file, &interfaces, &wit, &manifest)),
    }
    Ok(if manifest.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn wit_names(wit: &[String]) -> Vec<String> {
    wit.iter().map(|v| format!("andon:plugin@{v}")).collect()
}

fn inspect_json(
    file: &WasmFile,
    interfaces: &Interfaces,
    wit: &[String],
    manifest: &anyhow::Result<Manifest>,
) -> Value {
    let items = |items: &[Item]| -> Vec<Value> {
        items
            .iter()
            .map(|item| {
                json!({
                    "name": item.name,
                    "kind": item.kind.as_str(),
                    "members": item.members.iter().map(|m| json!({
                        "name": m.name,
                        "kind": m.kind.as_str(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect()
    };
    let mut value = json!({
        "file": file.name,
        "size": file.bytes.len(),
        "sha256": file.sha256,
        "wit": wit_names(wit),
        "imports": items(&interfaces.imports),
        "exports": items(&interfaces.exports),
    });
    match manifest {
        Ok(manifest) => value["manifest"] = json!(manifest),
        Err(error) => value["error"] = json!(format!("{error:#}")),
    }
    value
}

fn inspect_text(
    file: &WasmFile,
    interfaces: &Interfaces,
    wit: &[String],
    manifest: &anyhow::Result<Manifest>,
) -> String {
    let mut out = String::new();
    let wit = match wit_names(wit).join(", ") {
        names if names.is_empty() => "none (no andon:plugin interface)".to_string(),
        names => names,
    };
    let _ = writeln!(out, "file         {}", file.name);
    let _ = writeln!(out, "size         {}", bytes(file.bytes.len() as u64));
    let _ = writeln!(out, "sha256       {}", file.sha256);
    let _ = writeln!(out, "wit          {wit}");
    match manifest {
        Ok(m) => manifest_text(&mut out, m),
        Err(error) => {
            let _ = writeln!(out, "manifest     unavailable: {error:#}");
        }
    }
    for (title, items) in [
        ("imports", &interfaces.imports),
        ("exports", &interfaces.exports),
    ] {
        let _ = writeln!(out, "{title}");
        let width = items.iter().map(|i| i.name.len()).max().unwrap_or(0);
        for item in items {
            let _ = writeln!(
                out,
                "  {:width$}  {}{}",
                item.name,
                item.kind.as_str(),
                members_text(&item.members)
            );
        }
    }
    out
}

/// An interface's functions by name, its types and resources by count:
/// `: changed-files, read-file (2 types)`.
fn members_text(members: &[Item]) -> String {
    let funcs: Vec<&str> = members
        .iter()
        .filter(|m| m.kind == ItemKind::Func)
        .map(|m| m.name.as_str())
        .collect();
    let others = members.len() - funcs.len();
    let mut text = String::new();
    if !funcs.is_empty() {
        text = format!(": {}", funcs.join(", "));
    }
    match others {
        0 => {}
        1 => text.push_str(" (1 type)"),
        n => {
            let _ = write!(text, " ({n} types)");
        }
    }
    text
}

fn manifest_text(out: &mut String, m: &Manifest) {
    let list = |items: Vec<&str>, none: &str| {
        if items.is_empty() {
            none.to_string()
        } else {
            items.join(", ")
        }
    };
    let _ = writeln!(out, "name         {}", m.name);
    let _ = writeln!(out, "version      {}", m.version);
    let _ = writeln!(out, "description  {}", m.description);
    let events = m.events.iter().map(|e| e.as_str()).collect();
    let _ = writeln!(out, "events       {}", list(events, "all"));
    let permissions = m.permissions.iter().map(|p| p.as_str()).collect();
    let _ = writeln!(out, "permissions  {}", list(permissions, "none"));
    let schema = if m.config_schema.is_some() {
        "published"
    } else {
        "none"
    };
    let _ = writeln!(out, "config       {schema}");
    for c in &m.commands {
        let _ = writeln!(out, "command      {}  {}", c.usage, c.description);
    }
}

fn bytes(n: u64) -> String {
    // A size for people, to one decimal: precision loss does not matter.
    let f = n as f64;
    if n < 1 << 10 {
        format!("{n} bytes")
    } else if n < 1 << 20 {
        format!("{n} bytes ({:.1} KiB)", f / 1024.0)
    } else {
        format!("{n} bytes ({:.1} MiB)", f / (1024.0 * 1024.0))
    }
}

// ---------------------------------------------------------------- bench

fn bench(data_dir: &Path, args: &BenchArgs) -> anyhow::Result<ExitCode> {
    let file = WasmFile::read(&args.file)?;
    let config: Value = serde_json::from_str(&args.config)
        .with_context(|| format!("--config `{}` is not JSON", args.config))?;
    if !config.is_object() {
        bail!("--config must be a JSON object (the step's `with:` mapping)");
    }
    let mut event = read_event(&args.event, args.github_event.as_deref())?;
    let host = host(data_dir)?;
    let started = Instant::now();
    let plugin = host.load(&file.name, &file.bytes, None)?;
    let load = started.elapsed();
    let manifest = host.manifest(&plugin)?;
    let (inputs, files_changed) = bench_inputs(args, &manifest, &mut event)?;
    let invocation = Invocation {
        event: &event,
        workflow: "bench",
        step_id: &manifest.name,
        config: &config,
    };
    let limits = Limits::DEFAULT;
    for _ in 0..args.warmup {
        host.run_step(&plugin, invocation, inputs.clone(), &limits);
    }
    let mut samples = Samples::default();
    let mut first: Option<StepOutcome> = None;
    let mut memory_peak = 0;
    for _ in 0..args.runs {
        let started = Instant::now();
        let mut instance = host.instantiate(&plugin, inputs.clone(), &limits)?;
        let instantiated = started.elapsed();
        let started = Instant::now();
        // The outcome is the step's below; this call is timed only.
        let _ = instance.run(invocation);
        let ran = started.elapsed();
        drop(instance);
        samples.instantiate.push(instantiated);
        samples.run.push(ran);
        samples.both.push(instantiated + ran);
        let outcome = host.run_step(&plugin, invocation, inputs.clone(), &limits);
        samples.step.push(outcome.duration);
        memory_peak = memory_peak.max(outcome.memory_peak);
        first.get_or_insert(outcome);
    }
    let first = first.context("no run was made")?;
    let report = BenchReport {
        file: &file,
        manifest: &manifest,
        event: &event,
        args,
        files_changed,
        load,
        samples,
        memory_peak,
        first: &first,
    };
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report.json())?),
        Format::Text => print!("{}", report.text()),
    }
    Ok(if first.result.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The event from `path`: an andon event (it has `kind`), or a GitHub
/// webhook payload parsed as `andon serve` parses it.
fn read_event(path: &Path, github_event: Option<&str>) -> anyhow::Result<Event> {
    let body = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let value: Value = serde_json::from_slice(&body)
        .with_context(|| format!("{} is not valid JSON", path.display()))?;
    if github_event.is_none() && value.get("kind").is_some() {
        return serde_json::from_value(value)
            .with_context(|| format!("{} is not an andon event", path.display()));
    }
    let name = match github_event {
        Some(name) => name,
        None => infer_github_event(&value).with_context(|| {
            format!(
                "cannot tell which GitHub event {} is: pass --github-event NAME \
                 (pull_request, issue_comment, pull_request_review, push)",
                path.display()
            )
        })?,
    };
    match webhook::parse(name, &body, None)? {
        Parsed::Route(incoming) => {
            let mut event = incoming.event;
            // The worker runs a comment once per command; the bench takes
            // the first command, as a workflow declaring it would get it.
            if let Some(line) = incoming.commands.first() {
                match &line.command {
                    Command::Custom { name, args } => {
                        event.command = Some(name.clone());
                        event.args.clone_from(args);
                    }
                    Command::Run { workflow } => {
                        event.command = Some("run".into());
                        event.args = vec![workflow.clone()];
                    }
                    _ => {}
                }
            }
            event.review_state = event.review_state.or(incoming.review_state);
            event.default_branch = event.default_branch.or(incoming.default_branch);
            Ok(event)
        }
        Parsed::Ignore { reason } => {
            bail!("andon does not run workflows for this `{name}` payload: {reason}")
        }
        Parsed::Ping { .. } => bail!("a `ping` payload runs no workflow"),
    }
}

/// The `X-GitHub-Event` a payload was most likely sent as, from its keys.
fn infer_github_event(payload: &Value) -> Option<&'static str> {
    let has = |key: &str| payload.get(key).is_some();
    if has("comment") {
        Some("issue_comment")
    } else if has("review") {
        Some("pull_request_review")
    } else if has("pull_request") {
        Some("pull_request")
    } else if has("commits") && has("ref") {
        Some("push")
    } else {
        None
    }
}

/// The step's inputs: from `--repo` as `andon run` reads them (the event
/// then points at its revisions), else nothing. Also the number of changed
/// files.
fn bench_inputs(
    args: &BenchArgs,
    manifest: &Manifest,
    event: &mut Event,
) -> anyhow::Result<(Arc<dyn StepInputs>, Option<usize>)> {
    let Some(path) = &args.repo else {
        return Ok((Arc::new(EmptyInputs), None));
    };
    let repo =
        Repo::open(path).with_context(|| format!("cannot open repository {}", path.display()))?;
    let head = repo.resolve(args.head.as_deref().unwrap_or("HEAD"))?;
    let base = match &args.base {
        Some(rev) => Some(repo.resolve(rev)?),
        None => repo.first_parent(&head)?,
    };
    let change = repo.diff(base.as_deref(), &head)?;
    let files_changed = change.files.len();
    event.head.clone_from(&head);
    event.base.clone_from(&base);
    // A throwaway store: kv reads find nothing, and a running `andon serve`
    // holding the real one does not matter.
    let store = andon_store::Store::open_temporary()?;
    let run = Arc::new(RunInputs {
        repo: Arc::new(repo),
        base,
        head,
        change: Arc::new(change),
        store: store.clone(),
        now_micros: crate::inputs::now_micros(),
        pulls: crate::inputs::Pulls::none(),
    });
    let inputs = GitInputs {
        run,
        namespace: manifest.name.clone(),
        artifacts: Arc::new(RunArtifacts::new(store, event.repository.clone())),
    };
    Ok((Arc::new(inputs), Some(files_changed)))
}

/// Durations of each timed run, by phase.
#[derive(Default)]
struct Samples {
    /// `instantiate` on a fresh store.
    instantiate: Vec<Duration>,
    /// The `run` call on that instance.
    run: Vec<Duration>,
    /// The two together.
    both: Vec<Duration>,
    /// `run_step`, the path a workflow step takes.
    step: Vec<Duration>,
}

/// Median, p99, min and max of some durations.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Stats {
    median: Duration,
    p99: Duration,
    min: Duration,
    max: Duration,
}

impl Stats {
    fn of(samples: &[Duration]) -> Stats {
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        let n = sorted.len();
        if n == 0 {
            return Stats {
                median: Duration::ZERO,
                p99: Duration::ZERO,
                min: Duration::ZERO,
                max: Duration::ZERO,
            };
        }
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2
        };
        // Nearest rank: the smallest sample at or above 99% of them.
        let p99 = sorted[(n * 99).div_ceil(100).max(1) - 1];
        Stats {
            median,
            p99,
            min: sorted[0],
            max: sorted[n - 1],
        }
    }

    fn json(&self) -> Value {
        let us = |d: Duration| (d.as_secs_f64() * 1e7).round() / 10.0;
        json!({
            "median": us(self.median),
            "p99": us(self.p99),
            "min": us(self.min),
            "max": us(self.max),
        })
    }
}

struct BenchReport<'a> {
    file: &'a WasmFile,
    manifest: &'a Manifest,
    event: &'a Event,
    args: &'a BenchArgs,
    files_changed: Option<usize>,
    load: Duration,
    samples: Samples,
    memory_peak: u64,
    first: &'a StepOutcome,
}

impl BenchReport<'_> {
    fn series(&self) -> [(&'static str, Stats); 4] {
        [
            ("instantiate", Stats::of(&self.samples.instantiate)),
            ("run", Stats::of(&self.samples.run)),
            ("instantiate_run", Stats::of(&self.samples.both)),
            ("run_step", Stats::of(&self.samples.step)),
        ]
    }

    fn json(&self) -> Value {
        let timings: serde_json::Map<String, Value> = self
            .series()
            .iter()
            .map(|(name, stats)| ((*name).to_string(), stats.json()))
            .collect();
        let (actions, error) = match &self.first.result {
            Ok(actions) => (actions.as_slice(), None),
            Err(error) => (
                &[][..],
                Some(json!({ "kind": error.kind(), "message": error.to_string() })),
            ),
        };
        json!({
            "plugin": {
                "name": self.manifest.name,
                "version": self.manifest.version,
                "file": self.file.name,
                "size": self.file.bytes.len(),
                "sha256": self.file.sha256,
            },
            "event": {
                "kind": self.event.kind.as_str(),
                "action": self.event.action,
                "repository": self.event.repository,
                "number": self.event.number,
                "command": self.event.command,
            },
            "inputs": match self.files_changed {
                Some(n) => json!({ "repo": self.args.repo, "files_changed": n }),
                None => json!("empty"),
            },
            "runs": self.args.runs,
            "warmup": self.args.warmup,
            "load_ms": (self.load.as_secs_f64() * 1e4).round() / 10.0,
            "timings_us": timings,
            "memory_peak_bytes": self.memory_peak,
            "actions_count": actions.len(),
            "actions": actions,
            "error": error,
            "log": self.first.log,
        })
    }

    fn text(&self) -> String {
        let mut out = String::new();
        let m = self.manifest;
        let _ = writeln!(
            out,
            "plugin    {} {} ({} bytes, sha256 {})",
            m.name,
            m.version,
            self.file.bytes.len(),
            &self.file.sha256[..12]
        );
        let e = self.event;
        let mut what = e.kind.as_str().to_string();
        if let Some(action) = &e.action {
            let _ = write!(what, " {action}");
        }
        if let Some(command) = &e.command {
            let _ = write!(what, " /{command}");
        }
        if let Some(number) = e.number {
            let _ = write!(what, " #{number}");
        }
        let _ = writeln!(out, "event     {what} on {}", e.repository);
        let inputs = match self.files_changed {
            Some(n) => format!("git, {n} files changed"),
            None => "empty (no --repo)".into(),
        };
        let _ = writeln!(out, "inputs    {inputs}");
        let _ = writeln!(
            out,
            "runs      {} (after {} warmup), load {}",
            self.args.runs,
            self.args.warmup,
            duration(self.load)
        );
        let _ = writeln!(
            out,
            "\n{:17}{:>11}{:>11}{:>11}{:>11}",
            "", "median", "p99", "min", "max"
        );
        for (name, s) in self.series() {
            let _ = writeln!(
                out,
                "{:17}{:>11}{:>11}{:>11}{:>11}",
                if name == "instantiate_run" {
                    "instantiate+run"
                } else {
                    name
                },
                duration(s.median),
                duration(s.p99),
                duration(s.min),
                duration(s.max)
            );
        }
        let _ = writeln!(
            out,
            "\nmemory    {} peak linear memory",
            bytes(self.memory_peak)
        );
        match &self.first.result {
            Ok(actions) => {
                let _ = writeln!(out, "actions   {}", actions.len());
                for action in actions {
                    let _ = writeln!(out, "  {}", action_summary(action));
                }
            }
            Err(error) => {
                let _ = writeln!(out, "error     {error}");
            }
        }
        out
    }
}

/// One line about an action: its kind and what it is about.
fn action_summary(action: &Action) -> String {
    let first_line = |text: &str| {
        let mut lines = text.lines();
        let first = lines.next().unwrap_or("").to_string();
        if lines.next().is_some() {
            first + " …"
        } else {
            first
        }
    };
    let on = |number: &Option<u64>| number.map(|n| format!(" on #{n}")).unwrap_or_default();
    match action {
        Action::Comment { body, number } => format!("comment{}: {}", on(number), first_line(body)),
        Action::AddLabel { label, number } => format!("add-label {label}{}", on(number)),
        Action::RemoveLabel { label, number } => format!("remove-label {label}{}", on(number)),
        Action::CheckRun(run) => format!("check-run {}: {}", run.name, run.title),
        Action::KvSet { key, .. } => format!("kv-set {key}"),
        Action::Fail { reason } => format!("fail: {}", first_line(reason)),
        other => other.kind().to_string(),
    }
}

fn duration(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1_000.0 {
        format!("{us:.1} µs")
    } else if us < 1_000_000.0 {
        format!("{:.2} ms", us / 1e3)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_crate_and_command_names() {
        for good in ["greet", "pr-greeter", "a1", "x-2-y"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in [
            "", "Greet", "1greet", "-greet", "greet-", "pr--x", "pr_x", "a b", "fn", "test",
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn type_names_are_camel_case_and_do_not_clash() {
        assert_eq!(type_name("pr-greeter"), "PrGreeter");
        assert_eq!(type_name("greet2"), "Greet2");
        assert_eq!(type_name("host"), "HostPlugin");
        assert_eq!(type_name("plugin"), "PluginPlugin");
    }

    #[test]
    fn relative_paths_climb_to_the_common_folder() {
        assert_eq!(
            relative(Path::new("/r/plugins/x"), Path::new("/r/plugins/pdk")),
            PathBuf::from("../pdk")
        );
        assert_eq!(
            relative(Path::new("/r/a/b"), Path::new("/r/plugins/pdk")),
            PathBuf::from("../../plugins/pdk")
        );
    }

    #[test]
    fn stats_take_the_median_and_nearest_rank_p99() {
        let ms = |n: u64| Duration::from_millis(n);
        let samples: Vec<Duration> = (1..=200).rev().map(ms).collect();
        let stats = Stats::of(&samples);
        assert_eq!(stats.min, ms(1));
        assert_eq!(stats.max, ms(200));
        assert_eq!(stats.p99, ms(198));
        assert_eq!(stats.median, Duration::from_micros(100_500));
        assert_eq!(Stats::of(&[ms(7)]).p99, ms(7));
    }

    #[test]
    fn github_events_are_inferred_from_payload_keys() {
        let infer = |v: Value| infer_github_event(&v);
        assert_eq!(
            infer(json!({"comment": {}, "issue": {}})),
            Some("issue_comment")
        );
        assert_eq!(
            infer(json!({"review": {}, "pull_request": {}})),
            Some("pull_request_review")
        );
        assert_eq!(infer(json!({"pull_request": {}})), Some("pull_request"));
        assert_eq!(infer(json!({"commits": [], "ref": "x"})), Some("push"));
        assert_eq!(infer(json!({"zen": "x"})), None);
    }
}
