//! The andon cord's `with:` mapping, validated into a [`Config`].

use andon_pdk::RepoPermission;
use serde::Deserialize;

/// The label every open pull request gets while the line is stopped.
pub const DEFAULT_LABEL: &str = "do-not-merge/andon";

/// The step's `with:` mapping as written.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawConfig {
    pub label: String,
    /// Branches whose failing runs stop the line; empty means the
    /// repository's default branch.
    pub branches: Vec<String>,
    /// Workflows whose failing runs stop the line; empty means all.
    pub workflows: Vec<String>,
    pub clear_permission: String,
}

impl Default for RawConfig {
    fn default() -> Self {
        RawConfig {
            label: DEFAULT_LABEL.into(),
            branches: Vec::new(),
            workflows: Vec::new(),
            clear_permission: "maintain".into(),
        }
    }
}

/// A validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub label: String,
    pub branches: Vec<String>,
    pub workflows: Vec<String>,
    pub clear_permission: RepoPermission,
}

impl Default for Config {
    fn default() -> Self {
        Config::try_from(RawConfig::default()).expect("the defaults are valid")
    }
}

impl TryFrom<RawConfig> for Config {
    type Error = String;

    fn try_from(raw: RawConfig) -> Result<Self, String> {
        let label = andon_pdk::non_empty(&raw.label, "label")?;
        let clear_permission = RepoPermission::parse(&raw.clear_permission);
        if clear_permission == RepoPermission::None {
            return Err(format!(
                "`clear_permission`: `{}` is not a permission (read, triage, write, maintain \
                 or admin)",
                raw.clear_permission
            ));
        }
        let trimmed = |list: Vec<String>, key: &str| -> Result<Vec<String>, String> {
            list.into_iter()
                .map(|s| {
                    let s = s.trim().to_string();
                    if s.is_empty() {
                        Err(format!("`{key}` holds an empty name"))
                    } else {
                        Ok(s)
                    }
                })
                .collect()
        };
        Ok(Config {
            label,
            branches: trimmed(raw.branches, "branches")?,
            workflows: trimmed(raw.workflows, "workflows")?,
            clear_permission,
        })
    }
}
