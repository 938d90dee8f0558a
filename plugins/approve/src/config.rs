//! The step's `with:` mapping.

use andon_pdk::RepoPermission;
use andon_pdk::types::PluginError;
use serde::Deserialize;

use crate::approval::Rules;

/// The JSON Schema of `with:`, published in the manifest.
pub const SCHEMA: &str = r#"{
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "label": { "type": "string", "minLength": 1, "default": "approved" },
    "implicit_self_approve": { "type": "boolean", "default": true },
    "no_owners_approver_permission": {
      "type": ["string", "null"],
      "enum": ["read", "triage", "write", "maintain", "admin", null],
      "default": null
    }
  }
}"#;

/// `with:` as written.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawConfig {
    pub label: String,
    pub implicit_self_approve: bool,
    pub no_owners_approver_permission: Option<String>,
}

impl Default for RawConfig {
    fn default() -> Self {
        RawConfig {
            label: "approved".into(),
            implicit_self_approve: true,
            no_owners_approver_permission: None,
        }
    }
}

/// A validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub label: String,
    pub rules: Rules,
}

impl Config {
    /// Parses and checks the invocation's `with:`.
    pub fn parse(json: &str) -> Result<Config, PluginError> {
        andon_pdk::checked_config::<RawConfig, Config>(json)
    }
}

impl TryFrom<RawConfig> for Config {
    type Error = String;

    fn try_from(raw: RawConfig) -> Result<Config, String> {
        let label = andon_pdk::non_empty(&raw.label, "with.label")?;
        let fallback = match raw.no_owners_approver_permission.as_deref() {
            None => None,
            Some(text) => match RepoPermission::parse(text) {
                RepoPermission::None => {
                    return Err(format!(
                        "`with.no_owners_approver_permission` must be read, triage, write, \
                         maintain or admin, not `{text}`"
                    ));
                }
                permission => Some(permission),
            },
        };
        Ok(Config {
            label,
            rules: Rules {
                implicit_self_approve: raw.implicit_self_approve,
                fallback,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(json: &str) -> String {
        match Config::parse(json) {
            Err(PluginError::InvalidConfig(m)) => m,
            other => panic!("expected invalid-config for {json}, got {other:?}"),
        }
    }

    #[test]
    fn defaults_are_prows() {
        let cfg = Config::parse("{}").expect("valid");
        assert_eq!(cfg.label, "approved");
        assert!(cfg.rules.implicit_self_approve);
        assert_eq!(cfg.rules.fallback, None);
    }

    #[test]
    fn fields_parse() {
        let cfg = Config::parse(
            r#"{"label": "ok-to-merge", "implicit_self_approve": false, "no_owners_approver_permission": "Maintain"}"#,
        )
        .expect("valid");
        assert_eq!(cfg.label, "ok-to-merge");
        assert!(!cfg.rules.implicit_self_approve);
        assert_eq!(cfg.rules.fallback, Some(RepoPermission::Maintain));
    }

    #[test]
    fn mistakes_are_named() {
        assert!(invalid(r#"{"lable": "x"}"#).contains("lable"));
        assert!(invalid(r#"{"label": " "}"#).contains("with.label"));
        assert!(
            invalid(r#"{"implicit_self_approve": "yes"}"#).contains("with.implicit_self_approve")
        );
        assert!(invalid(r#"{"no_owners_approver_permission": "owner"}"#).contains("`owner`"));
        assert!(invalid(r#"{"no_owners_approver_permission": "none"}"#).contains("must be read"));
    }
}
