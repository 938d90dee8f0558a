//! Artifacts on the host side: what the steps of one run stored (so later
//! steps read them as datasets, `dataset.open(artifact(NAME))`), the named
//! lock that keeps two runs from writing the same dataset at once, and
//! `andon artifacts list|show|get`.
//!
//! Reading `artifact(NAME)`: the version an earlier step of the same run
//! stored, if any; otherwise the newest version of that name stored for
//! the same repository by an earlier run that succeeded. A run that failed
//! (a data check stopped the line after the ETL step) is not read from:
//! its output is kept, with its lineage, but nothing downstream consumes
//! it. Either way the step's lineage records the exact content read
//! (`sha256:<hex>`).

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Condvar, LazyLock, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use andon_core::run::Status;
use andon_host::{ReadError, Stream};
use andon_store::{
    ArtifactStore, ArtifactSummary, ArtifactVersion, LineageStore, Store, StoreError, blob_path,
    open_blob_file,
};
use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};

use crate::serve::api;

/// How many versions of a name `open` looks through for one it may read.
const FALLBACK_VERSIONS: usize = 100;

/// The artifacts the steps of one run have stored so far, by name.
pub struct RunArtifacts {
    store: Store,
    repository: String,
    stored: Mutex<HashMap<String, Stored>>,
}

#[derive(Debug, Clone)]
struct Stored {
    sha256: String,
}

impl RunArtifacts {
    /// The artifacts of a new run for `repository`, stored in `store`.
    pub fn new(store: Store, repository: impl Into<String>) -> RunArtifacts {
        RunArtifacts {
            store,
            repository: repository.into(),
            stored: Mutex::default(),
        }
    }

    /// Note that a step of this run stored `name` with content `sha256`;
    /// later steps read this version.
    pub fn record(&self, name: &str, sha256: &str) {
        lock(&self.stored).insert(
            name.to_string(),
            Stored {
                sha256: sha256.to_string(),
            },
        );
    }

    /// The artifact `name`, as the module documentation says.
    pub fn open(&self, name: &str) -> Result<Stream, ReadError> {
        let mine = lock(&self.stored).get(name).cloned();
        let sha256 = match mine {
            Some(stored) => stored.sha256,
            None => self.latest_good(name)?.ok_or(ReadError::NotFound)?,
        };
        let blob = self
            .store
            .open_artifact(&sha256)
            .map_err(|e| ReadError::Other(format!("cannot read artifact `{name}`: {e}")))?
            .ok_or_else(|| {
                ReadError::Other(format!(
                    "artifact `{name}` names content {sha256} that the store does not hold"
                ))
            })?;
        Ok(Stream {
            reader: blob.reader,
            size: blob.size,
            content_id: format!("sha256:{sha256}"),
        })
    }

    fn latest_good(&self, name: &str) -> Result<Option<String>, ReadError> {
        let versions = self
            .store
            .artifact_versions(name, FALLBACK_VERSIONS)
            .map_err(|e| ReadError::Other(format!("cannot look up artifact `{name}`: {e}")))?;
        Ok(versions
            .into_iter()
            .find(|v| v.repository == self.repository && v.run_status == Status::Success)
            .map(|v| v.sha256))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The maps hold plain data that a panicking holder cannot leave half
    // written, so a poisoned lock is still usable.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The datasets being written right now, by `repository/name`.
///
/// A lock in this process is enough: sled lets one process at a time open
/// a data directory, and every run that writes artifacts into it runs in
/// the process that holds it.
static WRITING: LazyLock<DatasetLocks> = LazyLock::new(DatasetLocks::default);

#[derive(Default)]
struct DatasetLocks {
    held: Mutex<HashSet<String>>,
    released: Condvar,
}

/// Held while a step writes its declared outputs; releases them on drop.
#[must_use = "the datasets are unlocked when the guard is dropped"]
pub struct DatasetGuard {
    keys: Vec<String>,
}

impl Drop for DatasetGuard {
    fn drop(&mut self) {
        if self.keys.is_empty() {
            return;
        }
        let mut held = lock(&WRITING.held);
        for key in &self.keys {
            held.remove(key);
        }
        WRITING.released.notify_all();
    }
}

/// The outputs a step declares: `with.output`, a name or a list of names.
/// Plugins that write named datasets (`etl`) take their output names there,
/// so the host can lock them before the step runs.
pub fn declared_outputs(with: &serde_json::Value) -> Vec<String> {
    match with.get("output") {
        Some(serde_json::Value::String(name)) => vec![name.clone()],
        Some(serde_json::Value::Array(names)) => names
            .iter()
            .filter_map(|n| n.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// Lock the datasets `names` of `repository` for writing, all at once: wait
/// until no other run holds any of them, up to `wait`. Taking the whole set
/// at once (never one by one) cannot deadlock.
pub fn lock_outputs(
    repository: &str,
    names: &[String],
    wait: Duration,
) -> Result<DatasetGuard, String> {
    let keys: Vec<String> = names
        .iter()
        .map(|n| format!("{repository}/{n}"))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    if keys.is_empty() {
        return Ok(DatasetGuard { keys });
    }
    let deadline = Instant::now() + wait;
    let mut held = lock(&WRITING.held);
    loop {
        let busy: Vec<&String> = keys.iter().filter(|k| held.contains(*k)).collect();
        if busy.is_empty() {
            break;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            let name = busy[0]
                .strip_prefix(&format!("{repository}/"))
                .unwrap_or(busy[0]);
            return Err(format!(
                "dataset `{name}` is being written by another run; gave up after {}s",
                wait.as_secs()
            ));
        }
        held = WRITING
            .released
            .wait_timeout(held, left)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
    held.extend(keys.iter().cloned());
    Ok(DatasetGuard { keys })
}

/// `andon artifacts`.
#[derive(Debug, clap::Args)]
pub struct ArtifactsArgs {
    #[command(subcommand)]
    command: ArtifactsCommand,
}

#[derive(Debug, Subcommand)]
enum ArtifactsCommand {
    /// Every artifact name with its newest version, or with `--name` every
    /// version of one name, newest first.
    List {
        /// List the versions of this artifact.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        filter: Filter,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// The lineage of one version: run, step, plugin and input datasets.
    Show {
        /// `NAME`, `NAME@SHA256-PREFIX`, `NAME@RUN-ID` or `NAME@vN`
        /// (version N); the newest version when no `@` is given.
        artifact: String,
        #[command(flatten)]
        filter: Filter,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Write the bytes of one version to standard output or a file.
    Get {
        /// As for `show`.
        artifact: String,
        #[command(flatten)]
        filter: Filter,
        /// Write here instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
struct Filter {
    /// Only artifacts of this repository (`owner/name`, or a local
    /// repository's folder name).
    #[arg(long)]
    repository: Option<String>,
}

impl Filter {
    fn keeps(&self, version: &ArtifactVersion) -> bool {
        self.repository
            .as_ref()
            .is_none_or(|r| *r == version.repository)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// Runs `andon artifacts …`.
pub fn command(data_dir: &Path, args: &ArtifactsArgs) -> anyhow::Result<ExitCode> {
    let source = Source::open(data_dir)?;
    match &args.command {
        ArtifactsCommand::List {
            name,
            filter,
            limit,
            format,
        } => list(&source, name.as_deref(), filter, *limit, *format),
        ArtifactsCommand::Show {
            artifact,
            filter,
            format,
        } => {
            let version = resolve(&source, artifact, filter)?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&version)?),
                Format::Text => print!("{}", lineage_text(&version)),
            }
            Ok(ExitCode::SUCCESS)
        }
        ArtifactsCommand::Get {
            artifact,
            filter,
            output,
        } => {
            let version = resolve(&source, artifact, filter)?;
            get(&source, &version, output.as_deref())
        }
    }
}

/// The store, or the server holding it (like `andon runs`).
enum Source {
    Store(Store),
    Server {
        client: api::Client,
        store_dir: PathBuf,
    },
}

impl Source {
    fn open(data_dir: &Path) -> anyhow::Result<Source> {
        let store_dir = data_dir.join("store");
        match Store::open(&store_dir) {
            Ok(store) => Ok(Source::Store(store)),
            Err(StoreError::Locked { path }) => match api::Client::discover(data_dir) {
                Some(client) => Ok(Source::Server { client, store_dir }),
                None => bail!(
                    "the store at {} is in use by another process, and no andon server publishes serve.json there",
                    path.display()
                ),
            },
            Err(error) => Err(error)
                .with_context(|| format!("cannot open the store in {}", data_dir.display())),
        }
    }

    fn summaries(&self) -> anyhow::Result<Vec<ArtifactSummary>> {
        match self {
            Source::Store(store) => Ok(store.artifact_summaries()?),
            Source::Server { client, .. } => field(&client.get("artifacts")?, "artifacts"),
        }
    }

    /// Every version of `name`, newest first.
    fn versions(&self, name: &str) -> anyhow::Result<Vec<ArtifactVersion>> {
        match self {
            Source::Store(store) => Ok(store.artifact_versions(name, usize::MAX)?),
            Source::Server { client, .. } => field(
                &client.get(&format!("artifacts/{}", api::url_encode(name)))?,
                "versions",
            ),
        }
    }
}

fn field<T: serde::de::DeserializeOwned>(
    value: &serde_json::Value,
    name: &str,
) -> anyhow::Result<T> {
    let inner = value.get(name).cloned().unwrap_or(serde_json::Value::Null);
    serde_json::from_value(inner).with_context(|| format!("the server sent an unexpected `{name}`"))
}

fn list(
    source: &Source,
    name: Option<&str>,
    filter: &Filter,
    limit: usize,
    format: Format,
) -> anyhow::Result<ExitCode> {
    if let Some(name) = name {
        let versions: Vec<ArtifactVersion> = source
            .versions(name)?
            .into_iter()
            .filter(|v| filter.keeps(v))
            .take(limit)
            .collect();
        if versions.is_empty() && format == Format::Text {
            bail!("no artifact is called `{name}`; `andon artifacts list` shows them");
        }
        match format {
            Format::Json => println!("{}", serde_json::to_string_pretty(&versions)?),
            Format::Text => print!("{}", versions_text(&versions)),
        }
        return Ok(ExitCode::SUCCESS);
    }
    let summaries: Vec<ArtifactSummary> = source
        .summaries()?
        .into_iter()
        .filter(|s| filter.keeps(&s.latest))
        .take(limit)
        .collect();
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&summaries)?),
        Format::Text => print!("{}", summaries_text(&summaries)),
    }
    Ok(ExitCode::SUCCESS)
}

/// `NAME[@SELECTOR]` to one version.
fn resolve(source: &Source, spec: &str, filter: &Filter) -> anyhow::Result<ArtifactVersion> {
    let (name, selector) = match spec.rsplit_once('@') {
        Some((name, selector)) if !name.is_empty() => (name, Some(selector)),
        _ => (spec, None),
    };
    let versions: Vec<ArtifactVersion> = source
        .versions(name)?
        .into_iter()
        .filter(|v| filter.keeps(v))
        .collect();
    if versions.is_empty() {
        bail!("no artifact is called `{name}`; `andon artifacts list` shows them");
    }
    select(name, versions, selector)
}

/// Pick the version `selector` names among `versions` (newest first).
fn select(
    name: &str,
    versions: Vec<ArtifactVersion>,
    selector: Option<&str>,
) -> anyhow::Result<ArtifactVersion> {
    let Some(selector) = selector else {
        return versions
            .into_iter()
            .next()
            .context("an artifact without versions");
    };
    let selector = selector.trim();
    let by_version = selector
        .strip_prefix('v')
        .and_then(|n| n.parse::<u64>().ok());
    if let Some(number) = by_version {
        return versions
            .into_iter()
            .find(|v| v.version == number)
            .with_context(|| format!("`{name}` has no version {number}"));
    }
    if let Ok(run) = selector.parse::<u64>()
        && let Some(version) = versions.iter().find(|v| v.run_id == run)
    {
        return Ok(version.clone());
    }
    let prefix = selector
        .strip_prefix("sha256:")
        .unwrap_or(selector)
        .to_ascii_lowercase();
    if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!(
            "`{selector}` is not a version of `{name}`: use a sha256 prefix, a run id or vN (`andon artifacts list --name {name}` lists them)"
        );
    }
    let matching: Vec<&ArtifactVersion> = versions
        .iter()
        .filter(|v| v.sha256.starts_with(&prefix))
        .collect();
    let distinct: HashSet<&str> = matching.iter().map(|v| v.sha256.as_str()).collect();
    match distinct.len() {
        0 => bail!(
            "no version of `{name}` has run id or sha256 prefix `{selector}` (`andon artifacts list --name {name}` lists them)"
        ),
        // The same content stored by several runs: the newest of them.
        1 => Ok(matching[0].clone()),
        _ => {
            let mut shown: Vec<&str> = distinct.into_iter().collect();
            shown.sort_unstable();
            bail!(
                "`{selector}` is ambiguous for `{name}`: it starts {}; give more digits",
                shown
                    .iter()
                    .map(|s| s.get(..12).unwrap_or(s))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    }
}

fn get(
    source: &Source,
    version: &ArtifactVersion,
    output: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let mut blob = match source {
        Source::Store(store) => store.open_artifact(&version.sha256)?,
        Source::Server { client, store_dir } => {
            // Large blobs are files that need no store lock; small ones live
            // inside the store, so the server hands them over.
            match open_blob_file(&blob_path(store_dir, &version.sha256)) {
                Ok(blob) => Some(blob),
                Err(_) => {
                    let value = client.get(&format!("blobs/{}", version.sha256))?;
                    let hex: String = field(&value, "hex")?;
                    let bytes = hex::decode(hex).context("the server sent invalid hex")?;
                    Some(andon_store::ArtifactBlob {
                        size: bytes.len() as u64,
                        reader: Box::new(std::io::Cursor::new(bytes)),
                    })
                }
            }
        }
    }
    .with_context(|| {
        format!(
            "the store has no content {} for `{}`",
            version.sha256, version.name
        )
    })?;
    match output {
        Some(path) => {
            let mut file = std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            std::io::copy(&mut blob.reader, &mut file)
                .with_context(|| format!("cannot write {}", path.display()))?;
            file.sync_all()?;
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            std::io::copy(&mut blob.reader, &mut stdout).context("cannot write the artifact")?;
            stdout.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn summaries_text(summaries: &[ArtifactSummary]) -> String {
    if summaries.is_empty() {
        return "no artifacts stored yet\n".into();
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<24}  {:>8}  {:<12}  {:>10}  {:>6}  {:<8}  {:<20}  CREATED",
        "NAME", "VERSIONS", "LATEST", "SIZE", "RUN", "STATUS", "WORKFLOW"
    );
    for s in summaries {
        let v = &s.latest;
        let _ = writeln!(
            out,
            "{:<24}  {:>8}  {:<12}  {:>10}  {:>6}  {:<8}  {:<20}  {}",
            s.name,
            s.versions,
            short(&v.sha256),
            size_text(v.size),
            v.run_id,
            v.run_status.as_str(),
            v.workflow,
            utc(v.created_at_ms)
        );
    }
    out
}

fn versions_text(versions: &[ArtifactVersion]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>7}  {:<12}  {:>10}  {:>6}  {:<8}  {:<28}  CREATED",
        "VERSION", "SHA256", "SIZE", "RUN", "STATUS", "WORKFLOW/STEP"
    );
    for v in versions {
        let _ = writeln!(
            out,
            "{:>7}  {:<12}  {:>10}  {:>6}  {:<8}  {:<28}  {}",
            format!("v{}", v.version),
            short(&v.sha256),
            size_text(v.size),
            v.run_id,
            v.run_status.as_str(),
            format!("{}/{}", v.workflow, v.step),
            utc(v.created_at_ms)
        );
    }
    out
}

fn lineage_text(v: &ArtifactVersion) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} v{}", v.name, v.version);
    let _ = writeln!(out, "  sha256      {}", v.sha256);
    let _ = writeln!(out, "  size        {} bytes ({})", v.size, v.media_type);
    let _ = writeln!(out, "  created     {}", utc(v.created_at_ms));
    let _ = writeln!(
        out,
        "  run         {} ({}), workflow {}, step {}",
        v.run_id,
        v.run_status.as_str(),
        v.workflow,
        v.step
    );
    let mut plugin = v.plugin.clone();
    if let Some(version) = &v.plugin_version {
        let _ = write!(plugin, " {version}");
    }
    if let Some(sha) = &v.plugin_sha256 {
        let _ = write!(plugin, " (component sha256 {})", short(sha));
    }
    let _ = writeln!(out, "  plugin      {plugin}");
    let _ = writeln!(out, "  repository  {} at {}", v.repository, v.revision);
    if v.inputs.is_empty() {
        let _ = writeln!(out, "  inputs      none recorded");
    } else {
        let _ = writeln!(out, "  inputs");
        let width = v.inputs.iter().map(|i| i.source.len()).max().unwrap_or(0);
        for input in &v.inputs {
            let id = if input.content_id.is_empty() {
                "(content id unknown)"
            } else {
                &input.content_id
            };
            let _ = writeln!(out, "    {:<width$}  {id}", input.source);
        }
    }
    out
}

fn short(sha256: &str) -> &str {
    sha256.get(..12).unwrap_or(sha256)
}

fn size_text(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// `YYYY-MM-DD HH:MM:SSZ` for milliseconds since the Unix epoch.
fn utc(ms: u64) -> String {
    let secs = ms / 1000;
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    fn version(number: u64, run_id: u64, sha256: &str) -> ArtifactVersion {
        ArtifactVersion {
            name: "orders".into(),
            version: number,
            sha256: sha256.into(),
            size: 3,
            media_type: "text/csv".into(),
            run_id,
            run_status: Status::Success,
            workflow: "w".into(),
            step: "s".into(),
            plugin: "etl".into(),
            plugin_version: None,
            plugin_sha256: None,
            inputs: Vec::new(),
            repository: "r".into(),
            revision: "h".into(),
            created_at_ms: 0,
        }
    }

    fn versions() -> Vec<ArtifactVersion> {
        vec![
            version(3, 12, "abc123"),
            version(2, 12, "ab9999"),
            version(1, 7, "120000"),
        ]
    }

    fn pick(selector: Option<&str>) -> Result<u64, String> {
        select("orders", versions(), selector)
            .map(|v| v.version)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn selectors_pick_by_version_run_or_sha_prefix() {
        assert_eq!(pick(None), Ok(3));
        assert_eq!(pick(Some("v2")), Ok(2));
        // A run id: the newest version that run stored.
        assert_eq!(pick(Some("12")), Ok(3));
        assert_eq!(pick(Some("7")), Ok(1));
        // Digits that are no run id are a sha256 prefix.
        assert_eq!(pick(Some("1200")), Ok(1));
        assert_eq!(pick(Some("abc")), Ok(3));
        assert_eq!(pick(Some("sha256:AB9")), Ok(2));
    }

    #[test]
    fn bad_selectors_say_what_to_do() {
        let error = pick(Some("ab")).unwrap_err();
        assert!(
            error.contains("ambiguous") && error.contains("abc123"),
            "{error}"
        );
        let error = pick(Some("ff")).unwrap_err();
        assert!(error.contains("no version of `orders`"), "{error}");
        let error = pick(Some("v9")).unwrap_err();
        assert!(error.contains("no version 9"), "{error}");
        let error = pick(Some("latest!")).unwrap_err();
        assert!(error.contains("sha256 prefix, a run id or vN"), "{error}");
    }

    #[test]
    fn times_are_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00:00Z");
        assert_eq!(utc(1_700_000_000_123), "2023-11-14 22:13:20Z");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00:00Z");
    }

    #[test]
    fn sizes_are_readable() {
        assert_eq!(size_text(0), "0 B");
        assert_eq!(size_text(1023), "1023 B");
        assert_eq!(size_text(1536), "1.5 KiB");
        assert_eq!(size_text(5 << 20), "5.0 MiB");
    }

    #[test]
    fn declared_outputs_are_a_name_or_a_list() {
        let one = serde_json::json!({ "output": "orders_clean" });
        assert_eq!(declared_outputs(&one), vec!["orders_clean".to_string()]);
        let many = serde_json::json!({ "output": ["a", "b", 3] });
        assert_eq!(declared_outputs(&many), vec!["a".to_string(), "b".into()]);
        assert!(declared_outputs(&serde_json::json!({})).is_empty());
    }

    #[test]
    fn a_locked_dataset_waits_and_then_gives_up_with_its_name() {
        let guard = lock_outputs("octo/a", &["locked_one".into()], Duration::ZERO).unwrap();
        let error = lock_outputs(
            "octo/a",
            &["free_one".into(), "locked_one".into()],
            Duration::ZERO,
        )
        .err()
        .unwrap_or_default();
        assert!(
            error.contains("dataset `locked_one` is being written by another run"),
            "{error}"
        );
        // Nothing was taken by the failed attempt, and other repositories
        // have their own names.
        drop(lock_outputs("octo/a", &["free_one".into()], Duration::ZERO).unwrap());
        drop(lock_outputs("octo/b", &["locked_one".into()], Duration::ZERO).unwrap());
        drop(guard);
        drop(lock_outputs("octo/a", &["locked_one".into()], Duration::ZERO).unwrap());
    }

    #[test]
    fn a_waiting_writer_gets_the_lock_when_it_is_released() {
        let guard = lock_outputs("octo/w", &["shared".into()], Duration::ZERO).unwrap();
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| {
                // Generous: the holder releases right after spawning us.
                lock_outputs("octo/w", &["shared".into()], Duration::from_secs(600)).is_ok()
            });
            drop(guard);
            assert!(waiter.join().unwrap_or(false));
        });
    }
}
