//! What a plugin says about itself, and the permissions a step can grant.

use serde::{Deserialize, Serialize};

use crate::event::EventKind;

/// What a step may do. Actions outside its permissions are dropped by
/// [`crate::policy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    Comment,
    Labels,
    Checks,
    Artifacts,
    Kv,
    Registry,
}

impl Permission {
    pub const ALL: [Permission; 6] = [
        Permission::Comment,
        Permission::Labels,
        Permission::Checks,
        Permission::Artifacts,
        Permission::Kv,
        Permission::Registry,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Comment => "comment",
            Permission::Labels => "labels",
            Permission::Checks => "checks",
            Permission::Artifacts => "artifacts",
            Permission::Kv => "kv",
            Permission::Registry => "registry",
        }
    }

    /// Parse a workflow's spelling; `comments`, `label` and `check` are
    /// accepted as the obvious aliases.
    pub fn parse(name: &str) -> Option<Permission> {
        Some(match name {
            "comment" | "comments" => Permission::Comment,
            "labels" | "label" => Permission::Labels,
            "checks" | "check" => Permission::Checks,
            "artifacts" | "artifact" => Permission::Artifacts,
            "kv" => Permission::Kv,
            "registry" => Permission::Registry,
            _ => return None,
        })
    }
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandInfo {
    pub name: String,
    pub usage: String,
    pub description: String,
}

/// A plugin's self-description, from its `describe` export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    pub description: String,
    /// Event kinds it handles; empty means all.
    pub events: Vec<EventKind>,
    pub commands: Vec<CommandInfo>,
    pub permissions: Vec<Permission>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_schema: Option<String>,
}
