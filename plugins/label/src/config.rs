//! The label plugin's `with:` mapping, validated into a [`Config`]: which
//! labels `/label` may apply and which need a repository permission.

use std::collections::BTreeMap;

use andon_pdk::RepoPermission;
use serde::Deserialize;

/// Labels `/label` applies when `allowed` is absent: Prow's label prefixes
/// and GitHub's two default community labels.
pub const DEFAULT_ALLOWED: [&str; 7] = [
    "kind/*",
    "priority/*",
    "area/*",
    "triage/*",
    "sig/*",
    "help wanted",
    "good first issue",
];

/// The step's `with:` mapping as written.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawConfig {
    pub allowed: Vec<String>,
    pub restricted: BTreeMap<String, String>,
}

impl Default for RawConfig {
    fn default() -> Self {
        RawConfig {
            allowed: DEFAULT_ALLOWED.map(String::from).to_vec(),
            restricted: BTreeMap::new(),
        }
    }
}

/// A label pattern: a label, a prefix (`kind/*`), or any label (`*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    /// One label, in its configured spelling.
    Exact(String),
    /// Every label starting with this text, in its configured spelling.
    Prefix(String),
}

impl Pattern {
    /// Reads `kind/*`, `*` or a plain label. A `*` anywhere but at the end
    /// is a mistake.
    pub fn parse(text: &str) -> Result<Pattern, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("a label pattern is empty".into());
        }
        let (body, prefix) = match text.strip_suffix('*') {
            Some(body) => (body, true),
            None => (text, false),
        };
        if body.contains('*') {
            return Err(format!(
                "`{text}`: `*` may only end a pattern (`kind/*`, or `*` for any label)"
            ));
        }
        Ok(if prefix {
            Pattern::Prefix(body.to_string())
        } else {
            Pattern::Exact(body.to_string())
        })
    }

    /// The label as the configuration spells it, when `label` matches
    /// (ignoring case): the whole label for `Exact`, the configured prefix
    /// and the typed rest for `Prefix`.
    pub fn apply(&self, label: &str) -> Option<String> {
        match self {
            Pattern::Exact(name) => label.eq_ignore_ascii_case(name).then(|| name.clone()),
            Pattern::Prefix(prefix) => {
                let head = label.get(..prefix.len())?;
                let rest = &label[prefix.len()..];
                (head.eq_ignore_ascii_case(prefix) && !rest.is_empty())
                    .then(|| format!("{prefix}{rest}"))
            }
        }
    }

    /// As configured: `kind/*` or `help wanted`.
    pub fn text(&self) -> String {
        match self {
            Pattern::Exact(name) => name.clone(),
            Pattern::Prefix(prefix) => format!("{prefix}*"),
        }
    }
}

/// A validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub allowed: Vec<Pattern>,
    /// Patterns and the permission they need, in configured order.
    pub restricted: Vec<(Pattern, RepoPermission)>,
}

impl Default for Config {
    fn default() -> Self {
        Config::try_from(RawConfig::default()).expect("the default patterns are valid")
    }
}

impl TryFrom<RawConfig> for Config {
    type Error = String;

    fn try_from(raw: RawConfig) -> Result<Self, String> {
        let allowed = raw
            .allowed
            .iter()
            .map(|p| Pattern::parse(p).map_err(|e| format!("`allowed`: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        let mut restricted = Vec::new();
        for (label, permission) in &raw.restricted {
            let pattern = Pattern::parse(label).map_err(|e| format!("`restricted`: {e}"))?;
            let level = RepoPermission::parse(permission);
            if level == RepoPermission::None {
                return Err(format!(
                    "`restricted.{label}`: `{permission}` is not a permission \
                     (read, triage, write, maintain or admin)"
                ));
            }
            restricted.push((pattern, level));
        }
        Ok(Config {
            allowed,
            restricted,
        })
    }
}
