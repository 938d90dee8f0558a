//! The model registry's semantics, compatible with GTO (Git Tag Ops): the
//! tag names that record registry events, SemVer, and the registry state
//! those events add up to. No IO: the git adapter lists the tags, this
//! module reads them.
//!
//! Tag grammar (GTO's `constants.py`):
//!
//! - `NAME@vX.Y.Z` registers a version, `NAME@vX.Y.Z!` deregisters it;
//! - `NAME#STAGE#N` assigns a stage, `NAME#STAGE!#N` unassigns it (`N`
//!   is one more than the highest counter on any tag of that artifact);
//! - `NAME@deprecated` deprecates the artifact, `NAME@created` creates it.
//!
//! An artifact in a folder of a monorepo is `dir/sub:name`, written
//! `dir/sub=name` in tags.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

mod ops;
pub use ops::*;

/// A SemVer 2 version, written with a leading `v` as GTO does.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    /// Dot-separated identifiers after `-`, empty when none.
    pub pre: Vec<String>,
    /// After `+`; ignored by precedence.
    pub build: Option<String>,
}

/// Which part of the version a registration bumps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bump {
    Major,
    Minor,
    Patch,
}

impl Version {
    /// The first version GTO registers.
    pub const FIRST: Version = Version {
        major: 0,
        minor: 0,
        patch: 1,
        pre: Vec::new(),
        build: None,
    };

    /// `v1.2.3`, `v1.2.3-rc.1+build.5`; the leading `v` is required.
    pub fn parse(text: &str) -> Option<Version> {
        let rest = text.strip_prefix('v')?;
        let (rest, build) = match rest.split_once('+') {
            Some((rest, build)) if valid_identifiers(build, false) => {
                (rest, Some(build.to_string()))
            }
            Some(_) => return None,
            None => (rest, None),
        };
        let (core, pre) = match rest.split_once('-') {
            Some((core, pre)) if valid_identifiers(pre, true) => {
                (core, pre.split('.').map(str::to_string).collect())
            }
            Some(_) => return None,
            None => (rest, Vec::new()),
        };
        let mut numbers = core.split('.').map(numeric);
        let (Some(Some(major)), Some(Some(minor)), Some(Some(patch)), None) = (
            numbers.next(),
            numbers.next(),
            numbers.next(),
            numbers.next(),
        ) else {
            return None;
        };
        Some(Version {
            major,
            minor,
            patch,
            pre,
            build,
        })
    }

    /// The next version after `latest` (the first, `v0.0.1`, when there is
    /// none). A bump drops any prerelease and build.
    pub fn next(latest: Option<&Version>, bump: Bump) -> Version {
        let Some(latest) = latest else {
            return Version::FIRST;
        };
        let (major, minor, patch) = match bump {
            Bump::Major => (latest.major + 1, 0, 0),
            Bump::Minor => (latest.major, latest.minor + 1, 0),
            Bump::Patch => (latest.major, latest.minor, latest.patch + 1),
        };
        Version {
            major,
            minor,
            patch,
            pre: Vec::new(),
            build: None,
        }
    }
}

/// A number without leading zeros.
fn numeric(text: &str) -> Option<u64> {
    let leading_zero = text.len() > 1 && text.starts_with('0');
    if text.is_empty() || leading_zero || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Dot-separated, non-empty `[0-9A-Za-z-]` identifiers; in a prerelease a
/// numeric one has no leading zero.
fn valid_identifiers(text: &str, prerelease: bool) -> bool {
    text.split('.').all(|id| {
        !id.is_empty()
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !(prerelease && id.bytes().all(|b| b.is_ascii_digit()) && numeric(id).is_none())
    })
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre.join("."))?;
        }
        if let Some(build) = &self.build {
            write!(f, "+{build}")?;
        }
        Ok(())
    }
}

impl Ord for Version {
    /// SemVer precedence; build metadata breaks ties only so that the
    /// order is total.
    fn cmp(&self, other: &Version) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => compare_prerelease(&self.pre, &other.pre),
            })
            .then_with(|| self.build.cmp(&other.build))
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Version) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Numeric identifiers compare as numbers and sort before alphanumeric
/// ones; a shorter list that is a prefix of a longer one sorts first.
fn compare_prerelease(a: &[String], b: &[String]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let order = match (numeric(x), numeric(y)) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => x.cmp(y),
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    a.len().cmp(&b.len())
}

/// What a registry tag records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Create,
    Deprecate,
    Register(Version),
    Deregister(Version),
    Assign(String),
    Unassign(String),
}

impl Action {
    /// GTO's order for events at the same instant.
    pub fn priority(&self) -> u8 {
        match self {
            Action::Create => 1,
            Action::Deprecate => 2,
            Action::Register(_) => 3,
            Action::Deregister(_) => 4,
            Action::Assign(_) => 5,
            Action::Unassign(_) => 6,
        }
    }
}

/// A registry tag's name, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryTag {
    /// `name`, or `dir/sub:name` for an artifact in a folder.
    pub artifact: String,
    pub action: Action,
    /// The `#N` suffix; stage tags written by GTO carry one.
    pub counter: Option<u64>,
}

/// A name GTO accepts: letters, digits, `-`, `_` and `/`, starting and
/// ending with a letter or digit.
pub fn valid_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let edge = |b: &u8| b.is_ascii_alphanumeric();
    !bytes.is_empty()
        && bytes.first().is_some_and(edge)
        && bytes.last().is_some_and(edge)
        && bytes
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'/' | b'_'))
}

/// An artifact name: `name`, or `dir:name` with `dir` of
/// `[a-zA-Z0-9-_./]`.
pub fn valid_artifact(artifact: &str) -> bool {
    match artifact.split_once(':') {
        Some((dir, name)) => {
            !dir.is_empty()
                && dir
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'))
                && valid_name(name)
        }
        None => valid_name(artifact),
    }
}

impl RegistryTag {
    /// The tag `name` as a registry event, or `None` when it is not one
    /// (a release tag such as `v1.0`).
    pub fn parse(name: &str) -> Option<RegistryTag> {
        // The counter: a trailing `#N`.
        let (body, counter) = match name.rsplit_once('#') {
            Some((body, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                (body, Some(n.parse().ok()?))
            }
            _ => (name, None),
        };
        let (artifact, action) = if let Some((artifact, stage)) = body.split_once('#') {
            let (stage, cancel) = match stage.strip_suffix('!') {
                Some(stage) => (stage, true),
                None => (stage, false),
            };
            if !valid_name(stage) {
                return None;
            }
            let stage = stage.to_string();
            let action = if cancel {
                Action::Unassign(stage)
            } else {
                Action::Assign(stage)
            };
            (artifact, action)
        } else {
            let (artifact, what) = body.rsplit_once('@')?;
            let action = match what {
                "deprecated" => Action::Deprecate,
                "created" => Action::Create,
                _ => match what.strip_suffix('!') {
                    Some(version) => Action::Deregister(Version::parse(version)?),
                    None => Action::Register(Version::parse(what)?),
                },
            };
            (artifact, action)
        };
        let artifact = artifact.replace('=', ":");
        if !valid_artifact(&artifact) || artifact.matches(':').count() > 1 {
            return None;
        }
        Some(RegistryTag {
            artifact,
            action,
            counter,
        })
    }

    /// The tag's name, as [`RegistryTag::parse`] reads it.
    pub fn name(&self) -> String {
        let artifact = self.artifact.replace(':', "=");
        let mut name = match &self.action {
            Action::Create => format!("{artifact}@created"),
            Action::Deprecate => format!("{artifact}@deprecated"),
            Action::Register(v) => format!("{artifact}@{v}"),
            Action::Deregister(v) => format!("{artifact}@{v}!"),
            Action::Assign(stage) => format!("{artifact}#{stage}"),
            Action::Unassign(stage) => format!("{artifact}#{stage}!"),
        };
        if let Some(n) = self.counter {
            name.push_str(&format!("#{n}"));
        }
        name
    }
}

/// One registry tag with what git says of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagEvent {
    pub tag: RegistryTag,
    /// The commit the tag points at.
    pub commit: String,
    /// The tagger's time, seconds since the epoch.
    pub time: i64,
    pub author: String,
    pub author_email: String,
    pub message: String,
}

/// A stage on one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageState {
    pub stage: String,
    /// The newest event for this stage on this version was an assignment.
    pub active: bool,
    /// When that newest event happened.
    pub since: i64,
}

/// One version of an artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionState {
    pub version: Version,
    pub commit: String,
    pub registered_at: i64,
    /// Registered by a tag that is still in effect.
    pub registered: bool,
    /// Stages in the order they were first assigned.
    pub stages: Vec<StageState>,
    /// Every event of this version, oldest first.
    pub events: Vec<TagEvent>,
}

impl VersionState {
    /// The newest registration tag of this version.
    pub fn registration(&self) -> Option<&TagEvent> {
        self.events
            .iter()
            .rev()
            .find(|e| matches!(e.tag.action, Action::Register(_)))
    }

    /// What andon recorded when registering it (empty for `gto`'s tags).
    pub fn lineage(&self) -> Lineage {
        self.registration()
            .map(|e| Lineage::parse(&e.message))
            .unwrap_or_default()
    }

    /// The stages now in effect on this version, newest first.
    pub fn active_stages(&self) -> Vec<&StageState> {
        let mut active: Vec<&StageState> = self.stages.iter().filter(|s| s.active).collect();
        active.sort_by_key(|s| std::cmp::Reverse(s.since));
        active
    }
}

/// One artifact's registry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArtifactState {
    /// Highest version first.
    pub versions: Vec<VersionState>,
    pub deprecated: bool,
    /// The highest `#N` on any of its tags.
    pub max_counter: u64,
}

impl ArtifactState {
    /// The highest registered version.
    pub fn latest(&self) -> Option<&VersionState> {
        self.versions.iter().find(|v| v.registered)
    }

    /// Which version each stage points at, as `gto show` says (checked
    /// against gto 1.10.1): of the registered versions with the stage in
    /// effect, the one assigned it last. Assigning a stage to an older
    /// version moves the stage there; unassigning it gives it back to the
    /// version that had it before, if that assignment still stands.
    pub fn stages(&self) -> BTreeMap<String, &VersionState> {
        let mut stages: BTreeMap<String, (&VersionState, i64)> = BTreeMap::new();
        for version in self.versions.iter().filter(|v| v.registered) {
            for stage in version.stages.iter().filter(|s| s.active) {
                let newer = stages
                    .get(&stage.stage)
                    .is_none_or(|(_, since)| stage.since > *since);
                if newer {
                    stages.insert(stage.stage.clone(), (version, stage.since));
                }
            }
        }
        stages
            .into_iter()
            .map(|(stage, (version, _))| (stage, version))
            .collect()
    }

    /// The stages `version` holds (see [`ArtifactState::stages`]).
    pub fn stages_of(&self, version: &Version) -> Vec<String> {
        self.stages()
            .into_iter()
            .filter(|(_, v)| v.version == *version)
            .map(|(stage, _)| stage)
            .collect()
    }

    /// The counter for this artifact's next stage tag.
    pub fn next_counter(&self) -> u64 {
        self.max_counter + 1
    }

    pub fn version(&self, version: &Version) -> Option<&VersionState> {
        self.versions.iter().find(|v| v.version == *version)
    }
}

/// Every artifact's state, from its tags in any order.
pub fn registry(mut events: Vec<TagEvent>) -> BTreeMap<String, ArtifactState> {
    events.sort_by(|a, b| {
        (a.time, a.tag.action.priority(), a.tag.counter).cmp(&(
            b.time,
            b.tag.action.priority(),
            b.tag.counter,
        ))
    });
    let mut artifacts: BTreeMap<String, ArtifactState> = BTreeMap::new();
    // Stage tags name no version: they belong to the version registered
    // at the commit they point at.
    for event in events {
        let state = artifacts.entry(event.tag.artifact.clone()).or_default();
        state.max_counter = state.max_counter.max(event.tag.counter.unwrap_or(0));
        // The action is small; the event (with its message) moves into
        // its version rather than being copied.
        let action = event.tag.action.clone();
        match &action {
            Action::Create => {}
            Action::Deprecate => state.deprecated = true,
            Action::Register(version) => {
                match state.versions.iter_mut().find(|v| v.version == *version) {
                    Some(existing) => {
                        existing.registered = true;
                        existing.events.push(event);
                    }
                    None => state.versions.push(VersionState {
                        version: version.clone(),
                        commit: event.commit.clone(),
                        registered_at: event.time,
                        registered: true,
                        stages: Vec::new(),
                        events: vec![event],
                    }),
                }
            }
            Action::Deregister(version) => {
                if let Some(existing) = state.versions.iter_mut().find(|v| v.version == *version) {
                    existing.registered = false;
                    for stage in &mut existing.stages {
                        stage.active = false;
                    }
                    existing.events.push(event);
                }
            }
            Action::Assign(stage) | Action::Unassign(stage) => {
                let active = matches!(action, Action::Assign(_));
                // The newest registered version at that commit.
                let Some(version) = state
                    .versions
                    .iter_mut()
                    .filter(|v| v.commit == event.commit)
                    .max_by(|a, b| a.version.cmp(&b.version))
                else {
                    continue;
                };
                match version.stages.iter_mut().find(|s| s.stage == *stage) {
                    Some(existing) => {
                        existing.active = active;
                        existing.since = event.time;
                    }
                    None => version.stages.push(StageState {
                        stage: stage.clone(),
                        active,
                        since: event.time,
                    }),
                }
                version.events.push(event);
            }
        }
    }
    for state in artifacts.values_mut() {
        state.versions.sort_by(|a, b| b.version.cmp(&a.version));
    }
    artifacts
}

#[cfg(test)]
mod tests;
