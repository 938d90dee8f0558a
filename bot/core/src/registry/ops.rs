//! Registry operations as values: which tag a registration, assignment,
//! unassignment, deregistration or deprecation makes, with GTO's rules and
//! GTO's messages, plus the lineage andon adds to the message.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Action, ArtifactState, Bump, RegistryTag, TagEvent, Version, valid_artifact};

/// A registry tag as the store's index keeps it: what the tag ref points at
/// and what the tag object says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexedTag {
    pub name: String,
    /// The id the tag ref points at (the tag object). Empty for a tag andon
    /// has asked GitHub to create that the mirror does not show yet.
    #[serde(default)]
    pub target: String,
    /// The commit the tag peels to.
    pub commit: String,
    /// The tagger's time, seconds since the epoch.
    pub time: i64,
    pub author: String,
    pub author_email: String,
    pub message: String,
}

impl IndexedTag {
    /// The registry event, or `None` when the name is not a registry tag.
    pub fn event(&self) -> Option<TagEvent> {
        Some(TagEvent {
            tag: RegistryTag::parse(&self.name)?,
            commit: self.commit.clone(),
            time: self.time,
            author: self.author.clone(),
            author_email: self.author_email.clone(),
            message: self.message.clone(),
        })
    }

    /// Whether andon made this entry ahead of the tag itself.
    pub fn pending(&self) -> bool {
        self.target.is_empty()
    }
}

/// The registry of every artifact, from indexed tags.
pub fn registry_of(tags: &[IndexedTag]) -> BTreeMap<String, ArtifactState> {
    super::registry(tags.iter().filter_map(IndexedTag::event).collect())
}

/// What andon records about a version beyond GTO's tag: git trailers at the
/// end of the tag message, which GTO shows as part of the message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lineage {
    /// The model file's path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Hex sha256 of the model file at the version's commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The run that made the tag (`42`, or `cli` for the command line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// The workflow of that run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    /// The metrics snapshot, a compact JSON object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<String>,
}

const TRAILERS: [&str; 5] = [
    "Andon-Path",
    "Andon-Sha256",
    "Andon-Run",
    "Andon-Workflow",
    "Andon-Metrics",
];

/// Metrics longer than this are left out of the message (a tag message is
/// not a data store); the rest of the lineage stays.
pub const MAX_METRICS_BYTES: usize = 8 * 1024;

impl Lineage {
    pub fn is_empty(&self) -> bool {
        *self == Lineage::default()
    }

    fn fields(&self) -> [Option<&String>; 5] {
        [
            self.path.as_ref(),
            self.sha256.as_ref(),
            self.run.as_ref(),
            self.workflow.as_ref(),
            self.metrics.as_ref(),
        ]
    }

    /// The trailer block, one `Key: value` line each (no newline inside a
    /// value).
    pub fn trailers(&self) -> String {
        let mut out = String::new();
        for (key, value) in TRAILERS.iter().zip(self.fields()) {
            if let Some(value) = value {
                let value = value.replace(['\r', '\n'], " ");
                if *key == "Andon-Metrics" && value.len() > MAX_METRICS_BYTES {
                    continue;
                }
                out.push_str(&format!("{key}: {value}\n"));
            }
        }
        out
    }

    /// The lineage in a tag message's trailers; empty for a tag `gto` wrote.
    pub fn parse(message: &str) -> Lineage {
        let mut lineage = Lineage::default();
        for line in message.lines() {
            let Some((key, value)) = line.split_once(": ") else {
                continue;
            };
            let value = Some(value.trim().to_string());
            match key {
                "Andon-Path" => lineage.path = value,
                "Andon-Sha256" => lineage.sha256 = value,
                "Andon-Run" => lineage.run = value,
                "Andon-Workflow" => lineage.workflow = value,
                "Andon-Metrics" => lineage.metrics = value,
                _ => {}
            }
        }
        lineage
    }
}

/// GTO's message for a tag (so `gto history` reads the same), with the
/// lineage after a blank line.
pub fn message(tag: &RegistryTag, lineage: &Lineage) -> String {
    let name = &tag.artifact;
    let mut text = match &tag.action {
        Action::Create => format!("Creating artifact {name}"),
        Action::Deprecate => format!("Deprecating artifact '{name}'"),
        Action::Register(v) => format!("Registering artifact {name} version {v}"),
        Action::Deregister(v) => format!("Deregistering artifact {name} version {v}"),
        // Stage tags name no version; the caller's lineage does not either.
        Action::Assign(stage) => format!("Assigning stage {stage} to artifact {name}"),
        Action::Unassign(stage) => format!("Unassigning stage '{stage}' to artifact '{name}'"),
    };
    if !lineage.is_empty() {
        text.push_str("\n\n");
        text.push_str(&lineage.trailers());
    }
    text
}

/// GTO's message for a stage tag, which names the version.
pub fn stage_message(tag: &RegistryTag, version: &Version) -> String {
    let name = &tag.artifact;
    match &tag.action {
        Action::Assign(stage) => {
            format!("Assigning stage {stage} to artifact {name} version {version}")
        }
        Action::Unassign(stage) => {
            format!("Unassigning stage '{stage}' to artifact '{name}' version '{version}'")
        }
        _ => message(tag, &Lineage::default()),
    }
}

/// Why an operation cannot be done. The messages are for whoever asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error(
        "`{0}` is not a valid model name (letters, digits, `-`, `_` and `/`, starting and ending with a letter or digit; `dir:name` in a monorepo)"
    )]
    InvalidName(String),
    #[error("`{0}` is not a valid stage name (letters, digits, `-`, `_` and `/`)")]
    InvalidStage(String),
    #[error("`{0}` is not a SemVer version with a leading `v` (such as `v1.2.0`)")]
    InvalidVersion(String),
    #[error("no model `{name}` in the registry{}", hint(.known))]
    UnknownModel { name: String, known: Vec<String> },
    #[error("`{name}` has no version {version}{}", hint(.known))]
    UnknownVersion {
        name: String,
        version: String,
        known: Vec<String>,
    },
    #[error("`{name}` {version} was deregistered; register it again first")]
    Deregistered { name: String, version: String },
    #[error("`{name}` {version} is already registered (at commit {commit})")]
    VersionExists {
        name: String,
        version: String,
        commit: String,
    },
    #[error(
        "commit {commit} already has version {version} of `{name}`; GTO allows one version per commit"
    )]
    VersionExistsForCommit {
        name: String,
        version: String,
        commit: String,
    },
    #[error("`{name}` {version} does not hold stage `{stage}`")]
    NoStage {
        name: String,
        version: String,
        stage: String,
    },
    #[error("`{name}` {version} already holds stage `{stage}`")]
    AlreadyInStage {
        name: String,
        version: String,
        stage: String,
    },
    #[error("`{0}` is deprecated")]
    Deprecated(String),
}

fn hint(known: &[String]) -> String {
    if known.is_empty() {
        String::new()
    } else {
        format!("; known: {}", known.join(", "))
    }
}

/// A tag to create: its parsed name, the commit it points at, its message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTag {
    pub name: String,
    pub commit: String,
    pub message: String,
}

impl NewTag {
    fn new(tag: &RegistryTag, commit: &str, message: String) -> NewTag {
        NewTag {
            name: tag.name(),
            commit: commit.to_string(),
            message,
        }
    }
}

/// What a registration comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registration {
    /// Make this tag.
    Tag { tag: NewTag, version: Version },
    /// The commit already holds this version: registering again is a no-op
    /// (a redelivered push, a rerun).
    Already(Version),
}

fn check_name(name: &str) -> Result<(), RegistryError> {
    if valid_artifact(name) && name.matches(':').count() <= 1 {
        Ok(())
    } else {
        Err(RegistryError::InvalidName(name.to_string()))
    }
}

fn parse_version(text: &str) -> Result<Version, RegistryError> {
    Version::parse(text).ok_or_else(|| RegistryError::InvalidVersion(text.to_string()))
}

/// Register `name` at `commit`: `version` if given, else the highest
/// version bumped by `bump` (`v0.0.1` for the first), as `gto register`
/// does. One registered version per commit: asking again for the commit's
/// version (or with no version) is [`Registration::Already`].
pub fn plan_register(
    registry: &BTreeMap<String, ArtifactState>,
    name: &str,
    version: Option<&str>,
    bump: Bump,
    commit: &str,
    lineage: &Lineage,
) -> Result<Registration, RegistryError> {
    check_name(name)?;
    let empty = ArtifactState::default();
    let state = registry.get(name).unwrap_or(&empty);
    let wanted = version.map(parse_version).transpose()?;
    if let Some(existing) = state
        .versions
        .iter()
        .find(|v| v.registered && v.commit == commit)
    {
        return match &wanted {
            Some(v) if *v != existing.version => Err(RegistryError::VersionExistsForCommit {
                name: name.to_string(),
                version: existing.version.to_string(),
                commit: commit.to_string(),
            }),
            _ => Ok(Registration::Already(existing.version.clone())),
        };
    }
    let version = match wanted {
        Some(v) => {
            if let Some(existing) = state.version(&v).filter(|e| e.commit != commit) {
                return Err(RegistryError::VersionExists {
                    name: name.to_string(),
                    version: v.to_string(),
                    commit: existing.commit.clone(),
                });
            }
            v
        }
        // As gto: bump the highest version still registered; a bump onto a
        // version that exists (deregistered) is refused like an explicit one.
        None => {
            let next = Version::next(state.latest().map(|v| &v.version), bump);
            if let Some(existing) = state.version(&next) {
                return Err(RegistryError::VersionExists {
                    name: name.to_string(),
                    version: next.to_string(),
                    commit: existing.commit.clone(),
                });
            }
            next
        }
    };
    let tag = RegistryTag {
        artifact: name.to_string(),
        action: Action::Register(version.clone()),
        counter: None,
    };
    let tag = NewTag::new(&tag, commit, message(&tag, lineage));
    Ok(Registration::Tag { tag, version })
}

/// The registered version `version` of `name`, with its state.
fn registered<'a>(
    registry: &'a BTreeMap<String, ArtifactState>,
    name: &str,
    version: &str,
) -> Result<(&'a ArtifactState, &'a super::VersionState), RegistryError> {
    check_name(name)?;
    let state = registry
        .get(name)
        .ok_or_else(|| RegistryError::UnknownModel {
            name: name.to_string(),
            known: registry.keys().take(10).cloned().collect(),
        })?;
    let parsed = parse_version(version)?;
    let found = state
        .version(&parsed)
        .ok_or_else(|| RegistryError::UnknownVersion {
            name: name.to_string(),
            version: version.to_string(),
            known: state
                .versions
                .iter()
                .filter(|v| v.registered)
                .take(10)
                .map(|v| v.version.to_string())
                .collect(),
        })?;
    if !found.registered {
        return Err(RegistryError::Deregistered {
            name: name.to_string(),
            version: version.to_string(),
        });
    }
    Ok((state, found))
}

fn check_stage(stage: &str) -> Result<(), RegistryError> {
    if super::valid_name(stage) {
        Ok(())
    } else {
        Err(RegistryError::InvalidStage(stage.to_string()))
    }
}

/// Assign `stage` to `name` `version`: `NAME#STAGE#N` on the version's
/// commit, N one more than the highest counter on any of its tags.
pub fn plan_assign(
    registry: &BTreeMap<String, ArtifactState>,
    name: &str,
    version: &str,
    stage: &str,
) -> Result<NewTag, RegistryError> {
    plan_stage(registry, name, version, stage, true)
}

/// Unassign `stage` from `name` `version`: `NAME#STAGE!#N`.
pub fn plan_unassign(
    registry: &BTreeMap<String, ArtifactState>,
    name: &str,
    version: &str,
    stage: &str,
) -> Result<NewTag, RegistryError> {
    plan_stage(registry, name, version, stage, false)
}

fn plan_stage(
    registry: &BTreeMap<String, ArtifactState>,
    name: &str,
    version: &str,
    stage: &str,
    assign: bool,
) -> Result<NewTag, RegistryError> {
    check_stage(stage)?;
    let (state, found) = registered(registry, name, version)?;
    let (name, version, stage) = (
        name.to_string(),
        found.version.to_string(),
        stage.to_string(),
    );
    let action = if assign {
        // The stage it holds, as `gto show` says: assigning again is a no-op
        // GTO refuses too.
        if state.stages_of(&found.version).contains(&stage) {
            return Err(RegistryError::AlreadyInStage {
                name,
                version,
                stage,
            });
        }
        Action::Assign(stage)
    } else {
        // Any assignment still in effect on this version can be taken back.
        if !found.stages.iter().any(|s| s.stage == stage && s.active) {
            return Err(RegistryError::NoStage {
                name,
                version,
                stage,
            });
        }
        Action::Unassign(stage)
    };
    let tag = RegistryTag {
        artifact: name,
        action,
        counter: Some(state.next_counter()),
    };
    let message = stage_message(&tag, &found.version);
    Ok(NewTag::new(&tag, &found.commit, message))
}

/// Deregister `name` `version`: `NAME@vX.Y.Z!` on the version's commit.
pub fn plan_deregister(
    registry: &BTreeMap<String, ArtifactState>,
    name: &str,
    version: &str,
) -> Result<NewTag, RegistryError> {
    let (_, found) = registered(registry, name, version)?;
    let tag = RegistryTag {
        artifact: name.to_string(),
        action: Action::Deregister(found.version.clone()),
        counter: None,
    };
    Ok(NewTag::new(
        &tag,
        &found.commit,
        message(&tag, &Lineage::default()),
    ))
}

/// Deprecate `name`: `NAME@deprecated` on `head`.
pub fn plan_deprecate(
    registry: &BTreeMap<String, ArtifactState>,
    name: &str,
    head: &str,
) -> Result<NewTag, RegistryError> {
    check_name(name)?;
    let state = registry
        .get(name)
        .ok_or_else(|| RegistryError::UnknownModel {
            name: name.to_string(),
            known: registry.keys().take(10).cloned().collect(),
        })?;
    if state.deprecated {
        return Err(RegistryError::Deprecated(name.to_string()));
    }
    let tag = RegistryTag {
        artifact: name.to_string(),
        action: Action::Deprecate,
        counter: None,
    };
    Ok(NewTag::new(&tag, head, message(&tag, &Lineage::default())))
}

/// A model's entry in `artifacts.yaml`, as GTO reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ArtifactMeta {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// `virtual: true` (GTO), or no path: nothing in the repository.
    #[serde(rename = "virtual", skip_serializing_if = "std::ops::Not::not")]
    pub is_virtual: bool,
}

/// The models in an `artifacts.yaml` (GTO's annotation file): a mapping of
/// name to `type`, `path`, `description`, `labels`, `virtual`. A broken
/// file or entry is an error that names it.
pub fn parse_artifacts_yaml(text: &str) -> Result<BTreeMap<String, ArtifactMeta>, String> {
    let root = crate::yaml::parse(text)
        .map_err(|e| format!("artifacts.yaml:{}:{}: {}", e.line, e.column, e.message))?;
    let json = root.to_json();
    let Some(map) = json.as_object() else {
        if json.is_null() {
            return Ok(BTreeMap::new());
        }
        return Err("artifacts.yaml: expected a mapping of model names".into());
    };
    let mut out = BTreeMap::new();
    for (name, entry) in map {
        check_name(name).map_err(|e| format!("artifacts.yaml: {e}"))?;
        let text = |key: &str| -> Result<Option<String>, String> {
            match entry.get(key) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(format!(
                    "artifacts.yaml: `{name}.{key}` must be a string, not {other}"
                )),
            }
        };
        if !entry.is_object() && !entry.is_null() {
            return Err(format!("artifacts.yaml: `{name}` must be a mapping"));
        }
        let labels = match entry.get("labels") {
            None | Some(serde_json::Value::Null) => Vec::new(),
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    serde_json::Value::String(s) => Ok(s.clone()),
                    other => Ok(other.to_string()),
                })
                .collect::<Result<_, String>>()?,
            Some(_) => return Err(format!("artifacts.yaml: `{name}.labels` must be a list")),
        };
        let path = text("path")?;
        let meta = ArtifactMeta {
            kind: text("type")?,
            description: text("description")?,
            labels,
            is_virtual: entry
                .get("virtual")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(path.is_none()),
            path,
        };
        out.insert(name.clone(), meta);
    }
    Ok(out)
}

/// Where a repository says who may promote, and after which checks.
pub const REGISTRY_CONFIG: &str = ".andon/registry.yml";

/// The `promote:` rules of [`REGISTRY_CONFIG`]:
///
/// ```yaml
/// promote:
///   permission: write            # the default
///   require_checks: [model-eval] # these must have passed on the version's commit
///   stages:                      # when given, the only stages there are
///     dev: {}
///     prod: { permission: maintain, require_checks: [model-eval, data-quality] }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromotePolicy {
    pub permission: String,
    pub require_checks: Vec<String>,
    /// Per stage: its permission and checks, when it sets them.
    pub stages: BTreeMap<String, (Option<String>, Option<Vec<String>>)>,
}

impl Default for PromotePolicy {
    fn default() -> Self {
        PromotePolicy {
            permission: "write".into(),
            require_checks: Vec::new(),
            stages: BTreeMap::new(),
        }
    }
}

impl PromotePolicy {
    /// Parse [`REGISTRY_CONFIG`]; a mistake names the key.
    pub fn parse(text: &str) -> Result<PromotePolicy, String> {
        let root = crate::yaml::parse(text)
            .map_err(|e| format!("{REGISTRY_CONFIG}:{}:{}: {}", e.line, e.column, e.message))?
            .to_json();
        let mut policy = PromotePolicy::default();
        let Some(promote) = root.get("promote") else {
            return Ok(policy);
        };
        let strings = |value: &serde_json::Value, key: &str| -> Result<Vec<String>, String> {
            value
                .as_array()
                .ok_or_else(|| format!("{REGISTRY_CONFIG}: `{key}` must be a list of check names"))?
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(String::from)
                        .ok_or_else(|| format!("{REGISTRY_CONFIG}: `{key}` must list names"))
                })
                .collect()
        };
        let permission = |value: &serde_json::Value, key: &str| -> Result<String, String> {
            match value.as_str() {
                Some(p @ ("read" | "triage" | "write" | "maintain" | "admin")) => Ok(p.to_string()),
                _ => Err(format!(
                    "{REGISTRY_CONFIG}: `{key}` must be read, triage, write, maintain or admin"
                )),
            }
        };
        let Some(map) = promote.as_object() else {
            return Err(format!("{REGISTRY_CONFIG}: `promote` must be a mapping"));
        };
        for (key, value) in map {
            match key.as_str() {
                "permission" => policy.permission = permission(value, "promote.permission")?,
                "require_checks" => {
                    policy.require_checks = strings(value, "promote.require_checks")?;
                }
                "stages" => {
                    let Some(stages) = value.as_object() else {
                        return Err(format!(
                            "{REGISTRY_CONFIG}: `promote.stages` must be a mapping"
                        ));
                    };
                    for (stage, rule) in stages {
                        let mut entry = (None, None);
                        if let Some(rule) = rule.as_object() {
                            for (k, v) in rule {
                                let at = format!("promote.stages.{stage}.{k}");
                                match k.as_str() {
                                    "permission" => entry.0 = Some(permission(v, &at)?),
                                    "require_checks" => entry.1 = Some(strings(v, &at)?),
                                    _ => {
                                        return Err(format!(
                                            "{REGISTRY_CONFIG}: unknown key `{at}`; use permission or require_checks"
                                        ));
                                    }
                                }
                            }
                        }
                        policy.stages.insert(stage.clone(), entry);
                    }
                }
                other => {
                    return Err(format!(
                        "{REGISTRY_CONFIG}: unknown key `promote.{other}`; use permission, require_checks or stages"
                    ));
                }
            }
        }
        Ok(policy)
    }

    /// The permission and checks promoting to `stage` needs, or why the
    /// stage is not one there is.
    pub fn rule(&self, stage: &str) -> Result<(String, Vec<String>), String> {
        if self.stages.is_empty() {
            return Ok((self.permission.clone(), self.require_checks.clone()));
        }
        let Some((permission, checks)) = self.stages.get(stage) else {
            let known: Vec<&str> = self.stages.keys().map(String::as_str).collect();
            return Err(format!(
                "there is no stage `{stage}`; {REGISTRY_CONFIG} allows {}",
                known.join(", ")
            ));
        };
        Ok((
            permission
                .clone()
                .unwrap_or_else(|| self.permission.clone()),
            checks
                .clone()
                .unwrap_or_else(|| self.require_checks.clone()),
        ))
    }
}
