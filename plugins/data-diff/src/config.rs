//! The step's `with:` mapping.
//!
//! ```yaml
//! with:
//!   datasets: [data/orders.csv, "data/events/*.jsonl"]   # paths or globs
//!   key: id                 # or [region, id]; per dataset: { path: …, key: … }
//!   samples: 5              # sample keys shown per kind of change (0-50)
//! ```
//!
//! Without `datasets`, every changed `.csv`, `.jsonl` and `.ndjson` file is
//! compared. Without `key`, rows are matched by the values of the columns
//! both sides share: a row is then added or removed, never changed.

use andon_pdk::glob::Glob;
use serde_json::Value as Json;

/// Most sample keys per kind of change.
pub const MAX_SAMPLES: usize = 50;

/// Which files to compare, and by which key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetSpec {
    pub pattern: Glob,
    /// `None`: the step's `key`.
    pub key: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub datasets: Vec<DatasetSpec>,
    pub key: Vec<String>,
    pub samples: usize,
}

impl Config {
    /// The key for `path` (or `old_path`), if any of `datasets` matches it.
    pub fn key_for(&self, path: &str, old_path: Option<&str>) -> Option<Vec<String>> {
        self.datasets
            .iter()
            .find(|d| d.pattern.is_match(path) || old_path.is_some_and(|p| d.pattern.is_match(p)))
            .map(|d| d.key.clone().unwrap_or_else(|| self.key.clone()))
    }
}

const KEYS: [&str; 3] = ["datasets", "key", "samples"];

/// Parses the step's `with:` JSON.
pub fn parse(json: &str) -> Result<Config, String> {
    let value: Json = if json.trim().is_empty() {
        Json::Object(serde_json::Map::new())
    } else {
        serde_json::from_str(json).map_err(|e| format!("`with:` is not valid JSON: {e}"))?
    };
    let Json::Object(with) = value else {
        return Err("`with:` must be a mapping (`datasets`, `key`, `samples`)".into());
    };
    if let Some(unknown) = with.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(format!(
            "with: unknown key `{unknown}`; known keys: {}",
            KEYS.join(", ")
        ));
    }
    let key = match with.get("key") {
        None | Some(Json::Null) => Vec::new(),
        Some(value) => names("with.key", value)?,
    };
    let datasets = match with.get("datasets") {
        None | Some(Json::Null) => ["**/*.csv", "**/*.jsonl", "**/*.ndjson"]
            .iter()
            .map(|p| DatasetSpec {
                pattern: Glob::new(p),
                key: None,
            })
            .collect(),
        Some(Json::String(pattern)) => vec![spec_of("with.datasets", pattern)?],
        Some(Json::Array(items)) if !items.is_empty() => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let at = format!("with.datasets[{i}]");
                match item {
                    Json::String(pattern) => spec_of(&at, pattern),
                    Json::Object(fields) => {
                        if let Some(unknown) = fields
                            .keys()
                            .find(|k| !["path", "key"].contains(&k.as_str()))
                        {
                            return Err(format!(
                                "{at}: unknown key `{unknown}`; known keys: path, key"
                            ));
                        }
                        let Some(Json::String(pattern)) = fields.get("path") else {
                            return Err(format!("{at}.path: missing; give the file or a glob"));
                        };
                        let mut spec = spec_of(&at, pattern)?;
                        if let Some(key) = fields.get("key") {
                            spec.key = Some(names(&format!("{at}.key"), key)?);
                        }
                        Ok(spec)
                    }
                    _ => Err(format!("{at}: expected a path, a glob or {{ path, key }}")),
                }
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(
                "with.datasets: expected a path, a glob or a list of them (`datasets: [data/orders.csv]`)"
                    .into(),
            );
        }
    };
    let samples = match with.get("samples") {
        None | Some(Json::Null) => 5,
        Some(Json::Number(n)) => match n.as_u64() {
            Some(n) if n as usize <= MAX_SAMPLES => n as usize,
            _ => {
                return Err(format!(
                    "with.samples: expected 0 to {MAX_SAMPLES}, not {n}"
                ));
            }
        },
        Some(_) => {
            return Err(format!(
                "with.samples: expected a number from 0 to {MAX_SAMPLES}"
            ));
        }
    };
    Ok(Config {
        datasets,
        key,
        samples,
    })
}

fn spec_of(at: &str, pattern: &str) -> Result<DatasetSpec, String> {
    if pattern.trim().is_empty() {
        return Err(format!("{at}: the path is empty"));
    }
    Ok(DatasetSpec {
        pattern: Glob::new(pattern.trim()),
        key: None,
    })
}

fn names(at: &str, value: &Json) -> Result<Vec<String>, String> {
    let list: Vec<String> = match value {
        Json::String(name) => vec![name.clone()],
        Json::Array(items) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("{at}: expected column names"))
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(format!("{at}: expected a column name or a list of them")),
    };
    if list.is_empty() || list.iter().any(|n| n.trim().is_empty()) {
        return Err(format!("{at}: column names must not be empty"));
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(json: &str) -> Config {
        parse(json).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn datasets_take_paths_globs_and_per_file_keys() {
        let cfg = ok(
            r#"{"datasets": ["data/orders.csv", {"path": "data/*.jsonl", "key": ["a", "b"]}], "key": "id"}"#,
        );
        assert_eq!(
            cfg.key_for("data/orders.csv", None),
            Some(vec!["id".to_string()])
        );
        assert_eq!(
            cfg.key_for("data/events.jsonl", None),
            Some(vec!["a".to_string(), "b".into()])
        );
        assert_eq!(cfg.key_for("data/other.csv", None), None);
        // A renamed file matches by its old path too.
        assert!(
            cfg.key_for("data/orders-2024.csv", Some("data/orders.csv"))
                .is_some()
        );
        assert_eq!(cfg.samples, 5);
    }

    #[test]
    fn defaults_compare_every_csv_and_json_lines_file() {
        let cfg = ok("{}");
        assert!(cfg.key_for("a/b.csv", None).is_some());
        assert!(cfg.key_for("x.ndjson", None).is_some());
        assert!(cfg.key_for("README.md", None).is_none());
        assert!(cfg.key.is_empty());
        assert_eq!(ok(r#"{"datasets": "d.csv", "samples": 0}"#).samples, 0);
    }

    #[test]
    fn mistakes_are_named() {
        let err = |json: &str| parse(json).err().unwrap_or_default();
        assert!(err(r#"{"dataset": "x"}"#).contains("with: unknown key `dataset`"));
        assert!(err(r#"{"datasets": []}"#).contains("with.datasets: expected"));
        assert!(err(r#"{"datasets": [3]}"#).contains("with.datasets[0]: expected"));
        assert!(err(r#"{"datasets": [{"key": "id"}]}"#).contains("with.datasets[0].path: missing"));
        assert!(err(r#"{"key": []}"#).contains("with.key: column names must not be empty"));
        assert!(err(r#"{"samples": 500}"#).contains("with.samples: expected 0 to 50"));
        assert!(err("[]").contains("must be a mapping"));
    }
}
