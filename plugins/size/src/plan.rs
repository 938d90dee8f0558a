//! The size plugin's decision: which `size/*` label a change gets. Pure: no
//! host calls, so it is unit-tested natively.

use andon_pdk::glob::{self, Glob};
use serde::Deserialize;

/// The labels, smallest first; `LABELS[i]` applies below `thresholds[i]`.
pub const LABELS: [&str; 6] = [
    "size/XS", "size/S", "size/M", "size/L", "size/XL", "size/XXL",
];

/// The `size/` prefix every label this plugin manages starts with.
const PREFIX: &str = "size/";

/// One changed file, as far as sizing cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStat {
    pub path: String,
    pub added: u32,
    pub removed: u32,
    pub binary: bool,
}

/// A label change the plugin asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Act {
    AddLabel(String),
    RemoveLabel(String),
}

/// The step's `with:` mapping as written.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawConfig {
    pub s: u64,
    pub m: u64,
    pub l: u64,
    pub xl: u64,
    pub xxl: u64,
    pub ignore: Vec<String>,
}

impl Default for RawConfig {
    fn default() -> Self {
        RawConfig {
            s: 10,
            m: 30,
            l: 100,
            xl: 500,
            xxl: 1000,
            ignore: Vec::new(),
        }
    }
}

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Upper bounds (exclusive) of XS, S, M, L and XL; strictly increasing.
    thresholds: [u64; 5],
    ignore: Vec<Glob>,
}

impl Default for Config {
    fn default() -> Self {
        Config::try_from(RawConfig::default()).expect("the default thresholds are increasing")
    }
}

impl TryFrom<RawConfig> for Config {
    type Error = String;

    fn try_from(raw: RawConfig) -> Result<Self, String> {
        let thresholds = [raw.s, raw.m, raw.l, raw.xl, raw.xxl];
        if thresholds.windows(2).any(|w| w[0] >= w[1]) {
            return Err(format!(
                "thresholds must increase: s < m < l < xl < xxl, got s={}, m={}, l={}, xl={}, xxl={}",
                raw.s, raw.m, raw.l, raw.xl, raw.xxl
            ));
        }
        let ignore = raw.ignore.iter().map(|p| Glob::new(p)).collect();
        Ok(Config { thresholds, ignore })
    }
}

/// Changed lines that count: added plus removed, over files that are
/// neither binary nor ignored.
pub fn changed_lines(files: &[FileStat], cfg: &Config) -> u64 {
    files
        .iter()
        .filter(|f| !f.binary && !glob::any_match(&cfg.ignore, &f.path))
        .map(|f| u64::from(f.added) + u64::from(f.removed))
        .sum()
}

/// The label for `lines` changed lines.
pub fn label_for(lines: u64, cfg: &Config) -> &'static str {
    let index = cfg
        .thresholds
        .iter()
        .position(|&t| lines < t)
        .unwrap_or(LABELS.len() - 1);
    LABELS[index]
}

/// Removes every other `size/*` label present, then adds the right one if
/// it is missing.
pub fn plan(files: &[FileStat], labels: &[String], cfg: &Config) -> Vec<Act> {
    let wanted = label_for(changed_lines(files, cfg), cfg);
    let mut acts: Vec<Act> = Vec::new();
    for label in labels {
        let stale = label.starts_with(PREFIX) && label != wanted;
        let remove = Act::RemoveLabel(label.clone());
        if stale && !acts.contains(&remove) {
            acts.push(remove);
        }
    }
    if !labels.iter().any(|l| l == wanted) {
        acts.push(Act::AddLabel(wanted.to_owned()));
    }
    acts
}

#[cfg(test)]
mod tests {
    use andon_pdk::parse_config;

    use super::*;

    fn file(path: &str, added: u32, removed: u32) -> FileStat {
        FileStat {
            path: path.into(),
            added,
            removed,
            binary: false,
        }
    }

    fn labels(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    fn config(json: &str) -> Result<Config, String> {
        let raw: RawConfig = parse_config(json).map_err(|e| format!("{e:?}"))?;
        Config::try_from(raw)
    }

    fn add(label: &str) -> Act {
        Act::AddLabel(label.into())
    }

    fn remove(label: &str) -> Act {
        Act::RemoveLabel(label.into())
    }

    #[test]
    fn default_boundaries() {
        let cfg = Config::default();
        let cases = [
            (0, "size/XS"),
            (9, "size/XS"),
            (10, "size/S"),
            (29, "size/S"),
            (30, "size/M"),
            (99, "size/M"),
            (100, "size/L"),
            (499, "size/L"),
            (500, "size/XL"),
            (999, "size/XL"),
            (1000, "size/XXL"),
            (u64::from(u32::MAX) * 2, "size/XXL"),
        ];
        for (lines, expected) in cases {
            assert_eq!(label_for(lines, &cfg), expected, "{lines} lines");
        }
    }

    #[test]
    fn counts_added_plus_removed_without_binaries() {
        let cfg = Config::default();
        let files = [
            file("a.rs", 4, 3),
            file("b.rs", 0, 3),
            FileStat {
                binary: true,
                ..file("logo.png", 500, 500)
            },
        ];
        assert_eq!(changed_lines(&files, &cfg), 10);
        assert_eq!(plan(&files, &[], &cfg), [add("size/S")]);
    }

    #[test]
    fn no_files_is_extra_small() {
        assert_eq!(plan(&[], &[], &Config::default()), [add("size/XS")]);
    }

    #[test]
    fn replaces_stale_size_labels() {
        let cfg = Config::default();
        let files = [file("a.rs", 40, 0)];
        let current = labels(&["bug", "size/XS", "size/XXL", "size/XS", "needs-review"]);
        assert_eq!(
            plan(&files, &current, &cfg),
            [remove("size/XS"), remove("size/XXL"), add("size/M")]
        );
    }

    #[test]
    fn keeps_a_correct_label_and_emits_nothing_for_it() {
        let cfg = Config::default();
        let files = [file("a.rs", 40, 0)];
        assert_eq!(plan(&files, &labels(&["size/M", "bug"]), &cfg), []);
        assert_eq!(
            plan(&files, &labels(&["size/L", "size/M"]), &cfg),
            [remove("size/L")]
        );
    }

    #[test]
    fn unrelated_labels_are_left_alone() {
        let cfg = Config::default();
        let current = labels(&["sizeable", "Size/XL", "kind/size/L"]);
        assert_eq!(plan(&[], &current, &cfg), [add("size/XS")]);
    }

    #[test]
    fn ignore_globs_exclude_files() {
        let cfg = config(r#"{"ignore": ["**/*.lock", "vendor/**"]}"#).expect("valid config");
        let files = [
            file("Cargo.lock", 900, 100),
            file("web/yarn.lock", 900, 100),
            file("vendor/lib/a.c", 5000, 0),
            file("src/lib.rs", 5, 0),
        ];
        assert_eq!(changed_lines(&files, &cfg), 5);
        assert_eq!(plan(&files, &[], &cfg), [add("size/XS")]);
    }

    #[test]
    fn custom_thresholds() {
        let cfg = config(r#"{"s": 1, "m": 2, "l": 3, "xl": 4, "xxl": 5}"#).expect("valid config");
        assert_eq!(label_for(0, &cfg), "size/XS");
        assert_eq!(label_for(1, &cfg), "size/S");
        assert_eq!(label_for(4, &cfg), "size/XL");
        assert_eq!(label_for(5, &cfg), "size/XXL");
        let partial = config(r#"{"xxl": 2000}"#).expect("valid config");
        assert_eq!(label_for(1500, &partial), "size/XL");
    }

    #[test]
    fn bad_config() {
        let err = config(r#"{"m": 10}"#).expect_err("s == m");
        assert!(err.contains("thresholds must increase"), "{err}");
        let err = config(r#"{"l": 5000}"#).expect_err("l > xl");
        assert!(err.contains("l=5000"), "{err}");
        let err = config(r#"{"s": -1}"#).expect_err("negative");
        assert!(err.contains("with.s"), "{err}");
        let err = config(r#"{"ignore": "*.lock"}"#).expect_err("not a list");
        assert!(err.contains("with.ignore"), "{err}");
        let err = config(r#"{"huge": 1}"#).expect_err("unknown field");
        assert!(err.contains("huge"), "{err}");
    }
}
