//! `andon model ...`: the GTO-compatible model registry of a local
//! repository. Reads come from the store's index, brought up to date from
//! the tag refs first; writes are annotated tags made with gix, named and
//! worded as `gto` names and words them, so `gto` and andon can take turns
//! on the same repository.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use andon_core::action::{Action, RegisterVersion};
use andon_core::registry::{
    self, ArtifactMeta, ArtifactState, Bump, IndexedTag, Lineage, NewTag, Registration,
    RegistryTag, TagEvent, Version,
};
use andon_git::{Repo, Tagger};
use andon_store::{RegistryIndex, Store, StoreError};
use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

#[derive(Debug, clap::Args)]
pub struct ModelArgs {
    /// The repository (a work tree or a bare repository).
    #[arg(long, global = true, default_value = ".")]
    repo: PathBuf,
    #[arg(long, global = true, value_enum, default_value = "text")]
    format: Format,
    #[command(subcommand)]
    command: ModelCommand,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BumpArg {
    Patch,
    Minor,
    Major,
}

#[derive(Debug, Subcommand)]
enum ModelCommand {
    /// Every model: its latest version and the version in each stage (as
    /// `gto show`; `--format json` gives the same JSON).
    List {
        /// Include deprecated models.
        #[arg(long, short = 'd')]
        deprecated: bool,
    },
    /// A model's versions with their stages (`NAME`), or one version's
    /// lineage (`NAME@VERSION`): commit, author, time, content hash,
    /// metrics and the run that made it.
    Show { target: String },
    /// A model's registry events, newest first (as `gto history`); every
    /// model's without a name.
    History { name: Option<String> },
    /// Register a new version on a commit: `--version v1.2.0`, or the
    /// latest bumped by `--bump` (patch by default; `v0.0.1` first).
    Register {
        name: String,
        #[arg(long, conflicts_with = "bump")]
        version: Option<String>,
        #[arg(long, value_enum)]
        bump: Option<BumpArg>,
        /// The commit to register.
        #[arg(long, default_value = "HEAD")]
        rev: String,
        /// A metrics file in the repository (JSON) to snapshot into the
        /// version's lineage.
        #[arg(long)]
        metrics: Option<String>,
    },
    /// Assign a stage to a version (`NAME#STAGE#N`).
    Assign {
        name: String,
        version: String,
        stage: String,
    },
    /// Take a stage from a version (`NAME#STAGE!#N`).
    Unassign {
        name: String,
        version: String,
        stage: String,
    },
    /// Withdraw a version (`NAME@vX.Y.Z!`); its stages end with it.
    Deregister { name: String, version: String },
    /// Retire a model (`NAME@deprecated`); `list` hides it unless `-d`.
    Deprecate {
        name: String,
        /// The commit the tag goes on.
        #[arg(long, default_value = "HEAD")]
        rev: String,
    },
}

pub fn command(data_dir: &Path, args: &ModelArgs) -> anyhow::Result<ExitCode> {
    let repo = Repo::open(&args.repo)
        .with_context(|| format!("cannot open repository {}", args.repo.display()))?;
    // The index is a cache: with the store held by a running `andon serve`,
    // read the tags directly.
    let store = match Store::open(&data_dir.join("store")) {
        Ok(store) => Some(store),
        Err(StoreError::Locked { .. }) => None,
        Err(error) => {
            return Err(error)
                .with_context(|| format!("cannot open the store in {}", data_dir.display()));
        }
    };
    let mut local = LocalRegistry::open(store.as_ref(), &repo, &args.repo)?;
    let json = args.format == Format::Json;
    let out = match &args.command {
        ModelCommand::List { deprecated } => {
            let registry = local.registry();
            if json {
                format!("{:#}", list_json(&registry, *deprecated))
            } else {
                list_text(&registry, *deprecated)
            }
        }
        ModelCommand::Show { target } => show(&local, &repo, target, json)?,
        ModelCommand::History { name } => {
            let events = history(&local.tags, name.as_deref());
            if name.is_some() && events.is_empty() {
                bail!("{}", unknown_model(&local.registry(), name.as_deref()));
            }
            if json {
                format!("{:#}", history_json(&events))
            } else {
                history_text(&events)
            }
        }
        ModelCommand::Register {
            name,
            version,
            bump,
            rev,
            metrics,
        } => {
            let commit = repo.resolve(rev)?;
            let metrics = metrics
                .as_deref()
                .map(|path| metrics_snapshot(&repo, &commit, path))
                .transpose()?;
            let action = RegisterVersion {
                name: name.clone(),
                version: version.clone(),
                bump: match bump {
                    Some(BumpArg::Major) => Bump::Major,
                    Some(BumpArg::Minor) => Bump::Minor,
                    Some(BumpArg::Patch) | None => Bump::Patch,
                },
                path: None,
                content_hash: None,
                metrics,
            };
            let run = Provenance {
                run: "cli".into(),
                workflow: None,
            };
            let applied = local.register(&repo, &action, &commit, &run)?;
            report_applied(&applied, json)
        }
        ModelCommand::Assign {
            name,
            version,
            stage,
        } => {
            let tag = registry::plan_assign(&local.registry(), name, version, stage)?;
            report_applied(&local.create(&repo, tag)?, json)
        }
        ModelCommand::Unassign {
            name,
            version,
            stage,
        } => {
            let tag = registry::plan_unassign(&local.registry(), name, version, stage)?;
            report_applied(&local.create(&repo, tag)?, json)
        }
        ModelCommand::Deregister { name, version } => {
            let tag = registry::plan_deregister(&local.registry(), name, version)?;
            report_applied(&local.create(&repo, tag)?, json)
        }
        ModelCommand::Deprecate { name, rev } => {
            let head = repo.resolve(rev)?;
            let tag = registry::plan_deprecate(&local.registry(), name, &head)?;
            report_applied(&local.create(&repo, tag)?, json)
        }
    };
    print!("{out}");
    if !out.ends_with('\n') {
        println!();
    }
    Ok(ExitCode::SUCCESS)
}

/// Which run made a tag, for its lineage.
#[derive(Debug, Clone)]
pub struct Provenance {
    pub run: String,
    pub workflow: Option<String>,
}

/// What a registry write did.
#[derive(Debug, Clone)]
pub enum Applied {
    Created(NewTag),
    /// The commit already held this version: nothing to do.
    Already {
        name: String,
        version: Version,
    },
}

impl Applied {
    pub fn describe(&self) -> String {
        match self {
            Applied::Created(tag) => format!(
                "created tag {} on {}",
                tag.name,
                &tag.commit[..12.min(tag.commit.len())]
            ),
            Applied::Already { name, version } => {
                format!("{name} {version} is already registered on this commit")
            }
        }
    }
}

fn report_applied(applied: &Applied, json: bool) -> String {
    if !json {
        return applied.describe();
    }
    match applied {
        Applied::Created(tag) => {
            json!({ "created": true, "tag": tag.name, "commit": tag.commit, "message": tag.message })
                .to_string()
        }
        Applied::Already { name, version } => {
            json!({ "created": false, "name": name, "version": version.to_string() }).to_string()
        }
    }
}

/// A local repository's registry: its tags (from the index when there is a
/// store) and what writing to it needs.
pub struct LocalRegistry<'s> {
    store: Option<&'s Store>,
    key: String,
    pub tags: Vec<IndexedTag>,
    tagger: (String, String),
}

impl<'s> LocalRegistry<'s> {
    /// Bring the index of `repo` up to date and read it (or read the tags
    /// directly without a store).
    pub fn open(
        store: Option<&'s Store>,
        repo: &Repo,
        path: &Path,
    ) -> anyhow::Result<LocalRegistry<'s>> {
        let key = format!(
            "local:{}",
            path.canonicalize()
                .unwrap_or_else(|_| path.to_path_buf())
                .display()
        );
        let tags = match store {
            Some(store) => sync_index(store, &key, repo)?,
            None => {
                let refs = repo.tag_refs()?;
                let targets: HashMap<&str, &str> =
                    refs.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
                repo.tags()?
                    .into_iter()
                    .filter(|t| RegistryTag::parse(&t.name).is_some())
                    .map(|t| indexed(t, &targets))
                    .collect()
            }
        };
        let tagger = repo
            .identity()
            .unwrap_or_else(|| ("andon".into(), "andon@localhost".into()));
        Ok(LocalRegistry {
            store,
            key,
            tags,
            tagger,
        })
    }

    pub fn registry(&self) -> BTreeMap<String, ArtifactState> {
        registry::registry_of(&self.tags)
    }

    /// Create `tag` with gix and add it to the index.
    pub fn create(&mut self, repo: &Repo, tag: NewTag) -> anyhow::Result<Applied> {
        let time = crate::inputs::now_micros() / 1_000_000;
        // GTO orders events by their tagger time in seconds; a tag made in
        // the same second as the model's previous one must not sort before
        // it (a register then assign in one script).
        let time = time.max(self.tags.iter().map(|t| t.time).max().unwrap_or(0));
        let tagger = Tagger {
            name: self.tagger.0.clone(),
            email: self.tagger.1.clone(),
            time,
        };
        repo.create_tag(&tag.name, &tag.commit, &tagger, &tag.message)
            .with_context(|| format!("cannot create tag {}", tag.name))?;
        let target = repo
            .tag_refs()?
            .into_iter()
            .find(|(n, _)| *n == tag.name)
            .map(|(_, t)| t)
            .unwrap_or_default();
        let entry = IndexedTag {
            name: tag.name.clone(),
            target,
            commit: tag.commit.clone(),
            time,
            author: tagger.name,
            author_email: tagger.email,
            message: tag.message.clone(),
        };
        if let Some(store) = self.store {
            store.registry_put(&self.key, &entry)?;
        }
        self.tags.push(entry);
        Ok(Applied::Created(tag))
    }

    /// Register a version on `commit`, with the model file's hash from
    /// `artifacts.yaml` when the action names none.
    pub fn register(
        &mut self,
        repo: &Repo,
        action: &RegisterVersion,
        commit: &str,
        run: &Provenance,
    ) -> anyhow::Result<Applied> {
        let lineage = lineage_for(repo, action, commit, run)?;
        match registry::plan_register(
            &self.registry(),
            &action.name,
            action.version.as_deref(),
            action.bump,
            commit,
            &lineage,
        )? {
            Registration::Tag { tag, .. } => self.create(repo, tag),
            Registration::Already(version) => Ok(Applied::Already {
                name: action.name.clone(),
                version,
            }),
        }
    }

    /// Carry out a step's registry action on the local repository.
    pub fn apply(
        &mut self,
        repo: &Repo,
        action: &Action,
        head: &str,
        run: &Provenance,
    ) -> anyhow::Result<Option<Applied>> {
        Ok(Some(match action {
            Action::RegisterVersion(register) => self.register(repo, register, head, run)?,
            Action::AssignStage {
                name,
                version,
                stage,
            } => {
                let tag = registry::plan_assign(&self.registry(), name, version, stage)?;
                self.create(repo, tag)?
            }
            _ => return Ok(None),
        }))
    }
}

/// What a new version's tag message records: the model file (from the
/// action, or `artifacts.yaml` at `commit`), its sha256 (hashed here when
/// the action gives none), the metrics snapshot and the run.
pub fn lineage_for(
    repo: &Repo,
    action: &RegisterVersion,
    commit: &str,
    run: &Provenance,
) -> anyhow::Result<Lineage> {
    let path = match &action.path {
        Some(path) => Some(path.clone()),
        None => artifacts_yaml(repo, commit)?
            .remove(&action.name)
            .and_then(|m| m.path),
    };
    let sha256 = match (&action.content_hash, &path) {
        (Some(hash), _) => Some(hash.clone()),
        (None, Some(path)) => file_sha256(repo, commit, path)?,
        (None, None) => None,
    };
    Ok(Lineage {
        path,
        sha256,
        run: Some(run.run.clone()),
        workflow: run.workflow.clone(),
        metrics: action.metrics.clone(),
    })
}

/// Bring the index of `repo` (stored under `key`) up to date from its tag
/// refs, reading only new or moved tags, and return every registry tag.
pub fn sync_index(store: &Store, key: &str, repo: &Repo) -> anyhow::Result<Vec<IndexedTag>> {
    let fingerprint = repo.tag_refs_fingerprint().unwrap_or_default();
    if let Some(tags) = store.registry_fresh(key, &fingerprint)? {
        return Ok(tags);
    }
    let refs = repo.tag_refs()?;
    let targets: HashMap<&str, &str> = refs.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    let mut read = |names: &[String]| -> Result<Vec<IndexedTag>, String> {
        let found = repo.tags_named(names).map_err(|e| e.to_string())?;
        Ok(found.into_iter().map(|t| indexed(t, &targets)).collect())
    };
    Ok(store
        .registry_sync(key, &fingerprint, &refs, &mut read)?
        .tags)
}

fn indexed(tag: andon_git::TagInfo, targets: &HashMap<&str, &str>) -> IndexedTag {
    let (author, author_email, time) = match tag.tagger {
        Some(t) => (t.name, t.email, t.time),
        None => (String::new(), String::new(), 0),
    };
    IndexedTag {
        target: targets
            .get(tag.name.as_str())
            .map(ToString::to_string)
            .unwrap_or_default(),
        name: tag.name,
        commit: tag.commit,
        time,
        author,
        author_email,
        message: tag.message,
    }
}

/// `artifacts.yaml` at `commit` (GTO's annotation file), empty when absent.
pub fn artifacts_yaml(repo: &Repo, commit: &str) -> anyhow::Result<BTreeMap<String, ArtifactMeta>> {
    match repo.read_file(commit, "artifacts.yaml")? {
        None => Ok(BTreeMap::new()),
        Some(bytes) => registry::parse_artifacts_yaml(&String::from_utf8_lossy(&bytes))
            .map_err(anyhow::Error::msg),
    }
}

/// Hex sha256 of the file at `path` in `commit`, streamed; `None` when
/// there is no such file.
fn file_sha256(repo: &Repo, commit: &str, path: &str) -> anyhow::Result<Option<String>> {
    let Some(mut stream) = repo.open_stream(commit, path)? else {
        return Ok(None);
    };
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 256 << 10];
    loop {
        let n = stream
            .reader
            .read(&mut buffer)
            .with_context(|| format!("cannot read {path}"))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(Some(hex::encode(hasher.finalize())))
}

/// A metrics file in the repository as one compact JSON object.
fn metrics_snapshot(repo: &Repo, commit: &str, path: &str) -> anyhow::Result<String> {
    let bytes = repo
        .read_file(commit, path)?
        .with_context(|| format!("no file {path} at {commit}"))?;
    let value: Value = serde_json::from_slice(&bytes)
        .with_context(|| format!("{path} is not JSON; metrics snapshots are JSON objects"))?;
    if !value.is_object() {
        bail!("{path} must hold a JSON object of metrics");
    }
    Ok(value.to_string())
}

fn unknown_model(registry: &BTreeMap<String, ArtifactState>, name: Option<&str>) -> String {
    let known: Vec<&str> = registry.keys().take(10).map(String::as_str).collect();
    let name = name.unwrap_or_default();
    if known.is_empty() {
        format!("no model `{name}`: the registry is empty (no GTO tags in this repository)")
    } else {
        format!(
            "no model `{name}` in the registry; known: {}",
            known.join(", ")
        )
    }
}

/// `gto show --json`: each model's latest version and stage holders. As
/// gto does, every model lists every stage used anywhere in the registry
/// (deprecated models too), `null` where it holds none.
pub fn list_json(registry: &BTreeMap<String, ArtifactState>, deprecated: bool) -> Value {
    let used = used_stages(registry);
    let mut out = serde_json::Map::new();
    for (name, state) in registry {
        if state.deprecated && !deprecated {
            continue;
        }
        let held = state.stages();
        let stages: serde_json::Map<String, Value> = used
            .iter()
            .map(|stage| {
                let version = held.get(stage).map(|v| v.version.to_string());
                (stage.clone(), json!(version))
            })
            .collect();
        let latest = state.latest();
        out.insert(
            name.clone(),
            json!({
                "version": latest.map(|v| v.version.to_string()),
                "stage": stages,
                "registered": latest.is_some(),
                "active": !state.deprecated,
            }),
        );
    }
    Value::Object(out)
}

/// Every stage name any version of any model was ever assigned, sorted.
fn used_stages(registry: &BTreeMap<String, ArtifactState>) -> Vec<String> {
    let mut used: Vec<String> = registry
        .values()
        .flat_map(|s| s.versions.iter())
        .flat_map(|v| v.stages.iter().map(|s| s.stage.clone()))
        .collect();
    used.sort();
    used.dedup();
    used
}

fn list_text(registry: &BTreeMap<String, ArtifactState>, deprecated: bool) -> String {
    let shown: Vec<(&String, &ArtifactState)> = registry
        .iter()
        .filter(|(_, s)| deprecated || !s.deprecated)
        .collect();
    if shown.is_empty() {
        return "no models registered (no GTO tags in this repository)\n".into();
    }
    let mut stages: Vec<String> = shown
        .iter()
        .flat_map(|(_, s)| s.stages().into_keys())
        .collect();
    stages.sort();
    stages.dedup();
    let mut header = vec!["NAME".to_string(), "LATEST".to_string()];
    header.extend(stages.iter().map(|s| format!("#{s}")));
    let mut rows = vec![header];
    for (name, state) in shown {
        let held = state.stages();
        let mut row = vec![
            if state.deprecated {
                format!("{name} (deprecated)")
            } else {
                name.clone()
            },
            state.latest().map_or("-".into(), |v| v.version.to_string()),
        ];
        row.extend(
            stages
                .iter()
                .map(|s| held.get(s).map_or("-".into(), |v| v.version.to_string())),
        );
        rows.push(row);
    }
    table(&rows)
}

fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    out
}

fn timestamp(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0).map_or_else(
        || seconds.to_string(),
        |at| at.format("%Y-%m-%dT%H:%M:%S+00:00").to_string(),
    )
}

fn short(commit: &str) -> &str {
    &commit[..7.min(commit.len())]
}

fn show(
    local: &LocalRegistry<'_>,
    repo: &Repo,
    target: &str,
    json: bool,
) -> anyhow::Result<String> {
    let registry = local.registry();
    let (name, version) = match target.split_once('@') {
        Some((name, version)) => (name, Some(version)),
        None => (target, None),
    };
    let state = registry
        .get(name)
        .with_context(|| unknown_model(&registry, Some(name)))?;
    let Some(version) = version else {
        return Ok(if json {
            format!("{:#}", versions_json(name, state))
        } else {
            versions_text(name, state)
        });
    };
    let parsed = Version::parse(version).with_context(|| {
        format!("`{version}` is not a SemVer version with a leading `v` (such as `v1.2.0`)")
    })?;
    let found = state.version(&parsed).with_context(|| {
        let known: Vec<String> = state
            .versions
            .iter()
            .take(10)
            .map(|v| v.version.to_string())
            .collect();
        format!(
            "`{name}` has no version {version}; known: {}",
            known.join(", ")
        )
    })?;
    let registration = found.registration();
    let lineage = found.lineage();
    let author = repo.commit_author(&found.commit).ok();
    let meta = artifacts_yaml(repo, &found.commit).unwrap_or_default();
    let meta = meta.get(name).cloned().unwrap_or_default();
    let metrics: Option<Value> = lineage
        .metrics
        .as_deref()
        .and_then(|m| serde_json::from_str(m).ok());
    let value = json!({
        "artifact": name,
        "version": found.version.to_string(),
        "registered": found.registered,
        "stages": state.stages_of(&found.version),
        "commit": found.commit,
        "author": author.as_ref().map(|a| a.name.clone()),
        "author_email": author.as_ref().map(|a| a.email.clone()),
        "committed_at": author.as_ref().map(|a| timestamp(a.time)),
        "registered_at": timestamp(found.registered_at),
        "registered_by": registration.map(|e| e.author.clone()),
        "ref": registration.map(|e| e.tag.name()),
        "path": lineage.path.clone().or(meta.path.clone()),
        "sha256": lineage.sha256,
        "metrics": metrics,
        "run": lineage.run,
        "workflow": lineage.workflow,
        "type": meta.kind,
        "description": meta.description,
        "labels": meta.labels,
    });
    if json {
        return Ok(format!("{value:#}"));
    }
    let mut out = String::new();
    let field = |v: &Value| match v {
        Value::Null => "-".to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => "-".to_string(),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), String::from))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    };
    for key in [
        "artifact",
        "version",
        "stages",
        "commit",
        "author",
        "committed_at",
        "registered_at",
        "registered_by",
        "ref",
        "type",
        "path",
        "sha256",
        "run",
        "workflow",
        "description",
        "labels",
    ] {
        let _ = writeln!(out, "{:<14} {}", format!("{key}:"), field(&value[key]));
    }
    if !found.registered {
        let _ = writeln!(out, "{:<14} deregistered", "state:");
    }
    if let Some(Value::Object(metrics)) = &value.get("metrics") {
        let _ = writeln!(out, "metrics:");
        for (key, v) in metrics {
            let _ = writeln!(out, "  {key}: {v}");
        }
    }
    Ok(out)
}

/// `andon model show NAME --format json`: one entry per version, highest
/// first.
fn versions_json(name: &str, state: &ArtifactState) -> Value {
    Value::Array(
        state
            .versions
            .iter()
            .map(|v| {
                let registration = v.registration();
                let lineage = v.lineage();
                json!({
                    "artifact": name,
                    "version": v.version.to_string(),
                    "stages": state.stages_of(&v.version),
                    "registered": v.registered,
                    "commit": v.commit,
                    "created_at": timestamp(v.registered_at),
                    "ref": registration.map(|e| e.tag.name()),
                    "author": registration.map(|e| e.author.clone()),
                    "sha256": lineage.sha256,
                    "run": lineage.run,
                })
            })
            .collect(),
    )
}

fn versions_text(name: &str, state: &ArtifactState) -> String {
    let mut rows = vec![vec![
        "VERSION".to_string(),
        "STAGES".to_string(),
        "CREATED".to_string(),
        "COMMIT".to_string(),
        "REF".to_string(),
    ]];
    for v in &state.versions {
        let stages = state.stages_of(&v.version);
        let mut version = v.version.to_string();
        if !v.registered {
            version.push_str(" (deregistered)");
        }
        rows.push(vec![
            version,
            if stages.is_empty() {
                "-".into()
            } else {
                stages.join(", ")
            },
            timestamp(v.registered_at),
            short(&v.commit).to_string(),
            RegistryTag {
                artifact: name.to_string(),
                action: registry::Action::Register(v.version.clone()),
                counter: None,
            }
            .name(),
        ]);
    }
    let mut out = table(&rows);
    if state.deprecated {
        out.push_str("(deprecated)\n");
    }
    out
}

/// Every event of `name` (or of every model), newest first, with the
/// version each stage event applies to.
fn history(tags: &[IndexedTag], name: Option<&str>) -> Vec<(TagEvent, Option<Version>)> {
    let events: Vec<TagEvent> = tags
        .iter()
        .filter_map(IndexedTag::event)
        .filter(|e| name.is_none_or(|n| e.tag.artifact == n))
        .collect();
    let registry = registry::registry(events.clone());
    let mut out: Vec<(TagEvent, Option<Version>)> = events
        .into_iter()
        .map(|event| {
            let version = match &event.tag.action {
                registry::Action::Register(v) | registry::Action::Deregister(v) => Some(v.clone()),
                registry::Action::Assign(_) | registry::Action::Unassign(_) => {
                    registry.get(&event.tag.artifact).and_then(|s| {
                        s.versions
                            .iter()
                            .filter(|v| v.commit == event.commit)
                            .map(|v| v.version.clone())
                            .max()
                    })
                }
                _ => None,
            };
            (event, version)
        })
        .collect();
    out.sort_by(|(a, _), (b, _)| {
        (b.time, b.tag.action.priority(), b.tag.counter).cmp(&(
            a.time,
            a.tag.action.priority(),
            a.tag.counter,
        ))
    });
    out
}

fn event_name(action: &registry::Action) -> &'static str {
    match action {
        registry::Action::Create => "creation",
        registry::Action::Deprecate => "deprecation",
        registry::Action::Register(_) => "registration",
        registry::Action::Deregister(_) => "deregistration",
        registry::Action::Assign(_) => "assignment",
        registry::Action::Unassign(_) => "unassignment",
    }
}

fn stage_of(action: &registry::Action) -> Option<&str> {
    match action {
        registry::Action::Assign(s) | registry::Action::Unassign(s) => Some(s),
        _ => None,
    }
}

/// `gto history --json`.
fn history_json(events: &[(TagEvent, Option<Version>)]) -> Value {
    Value::Array(
        events
            .iter()
            .map(|(e, version)| {
                json!({
                    "timestamp": timestamp(e.time),
                    "artifact": e.tag.artifact,
                    "event": event_name(&e.tag.action),
                    "priority": e.tag.action.priority(),
                    "version": version.as_ref().map(ToString::to_string),
                    "stage": stage_of(&e.tag.action),
                    "commit": e.commit,
                    "author": e.author,
                    "author_email": e.author_email,
                    "message": e.message.trim_end(),
                    "ref": e.tag.name(),
                })
            })
            .collect(),
    )
}

fn history_text(events: &[(TagEvent, Option<Version>)]) -> String {
    if events.is_empty() {
        return "no registry events\n".into();
    }
    let mut rows = vec![
        [
            "TIMESTAMP",
            "ARTIFACT",
            "EVENT",
            "VERSION",
            "STAGE",
            "COMMIT",
            "REF",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for (e, version) in events {
        rows.push(vec![
            timestamp(e.time),
            e.tag.artifact.clone(),
            event_name(&e.tag.action).to_string(),
            version.as_ref().map_or("-".into(), ToString::to_string),
            stage_of(&e.tag.action).unwrap_or("-").to_string(),
            short(&e.commit).to_string(),
            e.tag.name(),
        ]);
    }
    table(&rows)
}
