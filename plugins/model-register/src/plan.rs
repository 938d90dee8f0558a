//! Which models a push changed, and what their versions record.

use std::collections::BTreeMap;

use andon_pdk::types::Bump;
use serde::Deserialize;

/// The step's `with:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Only these models (default: every model in `artifacts.yaml` with a
    /// path).
    #[serde(default)]
    pub models: Vec<String>,
    /// `patch` (default), `minor` or `major`.
    #[serde(default)]
    pub bump: Option<String>,
    /// A metrics file (JSON or YAML) for every model, or one per model.
    #[serde(default)]
    pub metrics: Option<Metrics>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Metrics {
    All(String),
    PerModel(BTreeMap<String, String>),
}

impl Config {
    pub fn check(&self) -> Result<(), String> {
        match self.bump.as_deref() {
            None | Some("patch" | "minor" | "major") => Ok(()),
            Some(other) => Err(format!(
                "invalid `with.bump`: `{other}`; use patch, minor or major"
            )),
        }
    }

    pub fn bump(&self) -> Bump {
        match self.bump.as_deref() {
            Some("major") => Bump::Major,
            Some("minor") => Bump::Minor,
            _ => Bump::Patch,
        }
    }

    pub fn bump_name(&self) -> &str {
        self.bump.as_deref().unwrap_or("patch")
    }

    pub fn metrics_for(&self, model: &str) -> Option<String> {
        match &self.metrics {
            None => None,
            Some(Metrics::All(path)) => Some(path.clone()),
            Some(Metrics::PerModel(map)) => map.get(model).cloned(),
        }
    }
}

/// Each model in `artifacts.yaml` with its `path` (models without one are
/// GTO's "virtual" artifacts: nothing to watch).
pub fn models(yaml: &str) -> Result<BTreeMap<String, String>, String> {
    let root = andon_yaml::parse(yaml)
        .map_err(|e| format!("artifacts.yaml:{}:{}: {}", e.line, e.column, e.message))?;
    let json = root.to_json();
    let Some(map) = json.as_object() else {
        return Err("artifacts.yaml must be a mapping of model names to {type, path, ...}".into());
    };
    Ok(map
        .iter()
        .filter_map(|(name, entry)| {
            let path = entry.get("path")?.as_str()?;
            Some((name.clone(), path.trim_end_matches('/').to_string()))
        })
        .collect())
}

/// The models to register: those (of `cfg.models`, if set) whose path is a
/// changed file or a folder holding one. `changed` is `None` when every
/// model counts as changed.
pub fn changed_models(
    models: &BTreeMap<String, String>,
    changed: Option<&[String]>,
    cfg: &Config,
) -> Result<Vec<(String, String)>, String> {
    if let Some(unknown) = cfg.models.iter().find(|m| !models.contains_key(*m)) {
        let known: Vec<&str> = models.keys().map(String::as_str).collect();
        return Err(format!(
            "invalid `with.models`: `{unknown}` is not in artifacts.yaml (with a path); known: {}",
            known.join(", ")
        ));
    }
    Ok(models
        .iter()
        .filter(|(name, _)| cfg.models.is_empty() || cfg.models.contains(name))
        .filter(|(_, path)| {
            changed.is_none_or(|files| {
                files.iter().any(|f| {
                    f == *path
                        || f.strip_prefix(path.as_str())
                            .is_some_and(|r| r.starts_with('/'))
                })
            })
        })
        .map(|(name, path)| (name.clone(), path.clone()))
        .collect())
}

/// A metrics file (JSON, or YAML by extension) as one compact JSON object.
pub fn metrics_json(path: &str, text: &str) -> Result<String, String> {
    let value: serde_json::Value = if path.ends_with(".yaml") || path.ends_with(".yml") {
        andon_yaml::parse(text)
            .map_err(|e| format!("{path}:{}:{}: {}", e.line, e.column, e.message))?
            .to_json()
    } else {
        serde_json::from_str(text).map_err(|e| format!("{path} is not valid JSON: {e}"))?
    };
    if !value.is_object() {
        return Err(format!(
            "{path} must hold a mapping of metric names to values"
        ));
    }
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = "churn:\n  type: model\n  path: models/churn.pkl\nranker:\n  type: model\n  path: models/ranker/\nnotes:\n  type: doc\n";

    fn names(list: &[(String, String)]) -> Vec<&str> {
        list.iter().map(|(n, _)| n.as_str()).collect()
    }

    #[test]
    fn models_with_a_path_are_watched_files_and_folders() {
        let models = models(YAML).expect("parses");
        assert_eq!(models.len(), 2, "the virtual `notes` has no path");
        let cfg = Config::default();
        let changed = ["models/churn.pkl".to_string(), "README.md".into()];
        assert_eq!(
            names(&changed_models(&models, Some(&changed), &cfg).expect("ok")),
            ["churn"]
        );
        let changed = ["models/ranker/weights.bin".to_string()];
        assert_eq!(
            names(&changed_models(&models, Some(&changed), &cfg).expect("ok")),
            ["ranker"]
        );
        let changed = [
            "models/churn.pkl.bak".to_string(),
            "models/rankerX/a".into(),
        ];
        assert!(
            changed_models(&models, Some(&changed), &cfg)
                .expect("ok")
                .is_empty()
        );
        assert_eq!(
            names(&changed_models(&models, None, &cfg).expect("ok")),
            ["churn", "ranker"]
        );
    }

    #[test]
    fn config_names_models_and_metrics() {
        let models = models(YAML).expect("parses");
        let cfg: Config = andon_pdk::parse_config(
            r#"{"models": ["churn"], "bump": "minor", "metrics": {"churn": "eval/churn.json"}}"#,
        )
        .expect("config");
        assert_eq!(
            names(&changed_models(&models, None, &cfg).expect("ok")),
            ["churn"]
        );
        assert_eq!(cfg.metrics_for("churn").as_deref(), Some("eval/churn.json"));
        assert_eq!(cfg.metrics_for("ranker"), None);
        assert!(matches!(cfg.bump(), Bump::Minor));
        let bad: Config = andon_pdk::parse_config(r#"{"models": ["nope"]}"#).expect("config");
        let error = changed_models(&models, None, &bad).expect_err("unknown model");
        assert!(error.contains("known: churn, ranker"), "{error}");
        let bump: Config = andon_pdk::parse_config(r#"{"bump": "huge"}"#).expect("config");
        assert!(bump.check().is_err());
        assert!(andon_pdk::parse_config::<Config>(r#"{"modles": []}"#).is_err());
    }

    #[test]
    fn metrics_files_become_compact_json_objects() {
        assert_eq!(
            metrics_json("m.json", "{ \"auc\": 0.91 }").expect("json"),
            r#"{"auc":0.91}"#
        );
        assert_eq!(
            metrics_json("m.yaml", "auc: 0.91\nloss: 0.2\n").expect("yaml"),
            r#"{"auc":0.91,"loss":0.2}"#
        );
        assert!(metrics_json("m.json", "[1]").is_err());
        assert!(metrics_json("m.json", "{").is_err());
        assert!(models("- a\n- b\n").is_err());
    }
}
