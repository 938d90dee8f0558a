//! The step's `with:` mapping, read with `andon_pdk`'s config helper and
//! validated into a [`Config`].
//!
//! ```yaml
//! with:
//!   metrics: ["metrics.json", "eval/*.yaml"]   # paths or globs
//!   params: [params.yaml]
//!   precision: 5              # significant digits shown
//!   all: false                # also show unchanged keys
//!   fail_on_error: false      # fail the run when a file does not parse
//!   higher_is_better: [accuracy, f1]
//!   lower_is_better: [loss]
//! ```

use andon_pdk::glob::Glob;
use serde::Deserialize;

/// Metrics files compared when `metrics:` is absent. Like every pattern
/// without a `/`, they match the file name at any depth, so DVCLive's
/// `dvclive/metrics.json` is one of them.
pub const DEFAULT_METRICS: [&str; 4] = [
    "metrics.json",
    "metrics.yaml",
    "metrics.yml",
    "metrics.toml",
];

/// Params files compared when `params:` is absent; `params.yaml` is DVC's
/// default params file.
pub const DEFAULT_PARAMS: [&str; 4] = ["params.yaml", "params.yml", "params.json", "params.toml"];

/// Significant digits shown by default, as `dvc metrics diff --precision`.
pub const DEFAULT_PRECISION: u8 = 5;

/// Most significant digits an `f64` carries.
const MAX_PRECISION: u8 = 17;

/// The `with:` mapping as written.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawConfig {
    pub metrics: Vec<String>,
    pub params: Vec<String>,
    pub precision: u8,
    pub all: bool,
    pub fail_on_error: bool,
    pub higher_is_better: Vec<String>,
    pub lower_is_better: Vec<String>,
}

impl Default for RawConfig {
    fn default() -> Self {
        RawConfig {
            metrics: DEFAULT_METRICS.map(String::from).to_vec(),
            params: DEFAULT_PARAMS.map(String::from).to_vec(),
            precision: DEFAULT_PRECISION,
            all: false,
            fail_on_error: false,
            higher_is_better: Vec::new(),
            lower_is_better: Vec::new(),
        }
    }
}

/// Which way a metric should move.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Goals {
    pub higher_is_better: Vec<String>,
    pub lower_is_better: Vec<String>,
}

impl Goals {
    /// `Some(true)` if a rise of `key` is good, `Some(false)` if a fall is.
    /// A name matches the whole key or its last `.`-separated parts:
    /// `accuracy` matches `accuracy` and `test.accuracy`.
    pub fn higher_is_better(&self, key: &str) -> Option<bool> {
        let matches = |names: &[String]| names.iter().any(|n| key_matches(n, key));
        if matches(&self.higher_is_better) {
            Some(true)
        } else if matches(&self.lower_is_better) {
            Some(false)
        } else {
            None
        }
    }
}

fn key_matches(name: &str, key: &str) -> bool {
    key == name
        || key
            .strip_suffix(name)
            .is_some_and(|rest| rest.ends_with('.'))
}

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub metrics: Vec<Glob>,
    pub params: Vec<Glob>,
    pub precision: usize,
    pub all: bool,
    pub fail_on_error: bool,
    pub goals: Goals,
}

impl Default for Config {
    fn default() -> Self {
        Config::try_from(RawConfig::default()).expect("the defaults are valid")
    }
}

impl TryFrom<RawConfig> for Config {
    type Error = String;

    fn try_from(raw: RawConfig) -> Result<Config, String> {
        if raw.metrics.is_empty() && raw.params.is_empty() {
            return Err(
                "`with.metrics` and `with.params` are both empty: nothing to compare".into(),
            );
        }
        if !(1..=MAX_PRECISION).contains(&raw.precision) {
            return Err(format!(
                "invalid `with.precision`: expected 1 to {MAX_PRECISION} significant digits, not {}",
                raw.precision
            ));
        }
        if let Some(both) = raw
            .higher_is_better
            .iter()
            .find(|n| raw.lower_is_better.contains(n))
        {
            return Err(format!(
                "`{both}` is in both `with.higher_is_better` and `with.lower_is_better`"
            ));
        }
        for (field, names) in [
            ("higher_is_better", &raw.higher_is_better),
            ("lower_is_better", &raw.lower_is_better),
        ] {
            if names.iter().any(|n| n.trim().is_empty()) {
                return Err(format!("invalid `with.{field}`: a key is empty"));
            }
        }
        Ok(Config {
            metrics: globs("metrics", &raw.metrics)?,
            params: globs("params", &raw.params)?,
            precision: usize::from(raw.precision),
            all: raw.all,
            fail_on_error: raw.fail_on_error,
            goals: Goals {
                higher_is_better: raw.higher_is_better,
                lower_is_better: raw.lower_is_better,
            },
        })
    }
}

fn globs(field: &str, patterns: &[String]) -> Result<Vec<Glob>, String> {
    patterns
        .iter()
        .enumerate()
        .map(|(i, p)| {
            if p.trim().is_empty() {
                Err(format!("invalid `with.{field}[{i}]`: the path is empty"))
            } else {
                Ok(Glob::new(p.trim()))
            }
        })
        .collect()
}

/// Parses the step's `with:` JSON.
pub fn parse(json: &str) -> Result<Config, String> {
    let raw: RawConfig = andon_pdk::parse_config(json).map_err(|e| match e {
        andon_pdk::types::PluginError::InvalidConfig(m)
        | andon_pdk::types::PluginError::Failed(m) => m,
    })?;
    Config::try_from(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(json: &str) -> Config {
        parse(json).unwrap_or_else(|e| panic!("{e}"))
    }

    fn err(json: &str) -> String {
        parse(json).err().unwrap_or_default()
    }

    #[test]
    fn defaults_are_dvc_like() {
        let cfg = ok("{}");
        assert_eq!(cfg.precision, 5);
        assert!(!cfg.all && !cfg.fail_on_error);
        fn names(globs: &[Glob]) -> Vec<&str> {
            globs.iter().map(Glob::as_str).collect()
        }
        assert_eq!(names(&cfg.metrics), DEFAULT_METRICS);
        assert_eq!(names(&cfg.params), DEFAULT_PARAMS);
        assert!(
            cfg.metrics
                .iter()
                .any(|g| g.is_match("dvclive/metrics.json"))
        );
    }

    #[test]
    fn fields_are_read() {
        let cfg = ok(
            r#"{"metrics": ["eval/*.json"], "params": [], "precision": 3, "all": true,
            "fail_on_error": true, "higher_is_better": ["acc"], "lower_is_better": ["loss"]}"#,
        );
        assert!(cfg.metrics[0].is_match("eval/a.json"));
        assert!(cfg.params.is_empty());
        assert_eq!(cfg.precision, 3);
        assert!(cfg.all && cfg.fail_on_error);
        assert_eq!(cfg.goals.higher_is_better("test.acc"), Some(true));
        assert_eq!(cfg.goals.higher_is_better("val.loss"), Some(false));
        assert_eq!(cfg.goals.higher_is_better("val_loss"), None);
        assert_eq!(cfg.goals.higher_is_better("acc5"), None);
    }

    #[test]
    fn mistakes_are_named() {
        assert!(err(r#"{"metric": ["m.json"]}"#).contains("unknown field `metric`"));
        assert!(err(r#"{"precision": 0}"#).contains("`with.precision`: expected 1 to 17"));
        assert!(err(r#"{"precision": "high"}"#).contains("`with.precision`"));
        assert!(err(r#"{"metrics": "m.json"}"#).contains("`with.metrics`"));
        assert!(err(r#"{"metrics": [], "params": []}"#).contains("nothing to compare"));
        assert!(err(r#"{"params": [" "]}"#).contains("`with.params[0]`: the path is empty"));
        assert!(
            err(r#"{"higher_is_better": ["f1"], "lower_is_better": ["f1"]}"#)
                .contains("`f1` is in both")
        );
        assert!(err("[1]").contains("must be a mapping"));
    }
}
