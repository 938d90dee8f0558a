//! Which files a step compares, and at which path on each side.
//!
//! A file is compared when it matches `metrics:` or `params:` (metrics win
//! when both match), has a JSON, YAML or TOML extension, and changed between
//! base and head. With `all: true`, every pattern that is a plain path (no
//! `*` or `?`) is compared too, changed or not: the host offers no listing of
//! a revision's files, so globs only ever see changed files.

use andon_pdk::glob::Glob;

use crate::config::Config;
use crate::diff::Kind;
use crate::flatten::Format;

/// How a changed file changed, as far as selection cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Added,
    Modified,
    Deleted,
    Renamed,
}

/// One changed file of the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    pub path: String,
    pub old_path: Option<String>,
    pub status: Status,
}

/// A file to compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub kind: Kind,
    /// The path shown: the head path, or the base path of a deleted file.
    pub path: String,
    pub format: Format,
    /// Where to read it on base; `None` when it cannot be there.
    pub base: Option<String>,
    /// Where to read it on head; `None` when it cannot be there.
    pub head: Option<String>,
}

impl Config {
    fn kind_of(&self, path: &str) -> Option<Kind> {
        if andon_pdk::glob::any_match(&self.metrics, path) {
            Some(Kind::Metric)
        } else if andon_pdk::glob::any_match(&self.params, path) {
            Some(Kind::Param)
        } else {
            None
        }
    }
}

/// The files to compare, in the order of `changed`, then the plain paths
/// `all` adds.
pub fn targets(cfg: &Config, changed: &[Changed]) -> Vec<Target> {
    let mut out: Vec<Target> = changed
        .iter()
        .filter_map(|file| {
            let format = Format::of(&file.path)?;
            let kind = cfg
                .kind_of(&file.path)
                .or_else(|| file.old_path.as_deref().and_then(|p| cfg.kind_of(p)))?;
            let (base, head) = match file.status {
                Status::Added => (None, Some(file.path.clone())),
                Status::Deleted => (Some(file.path.clone()), None),
                Status::Modified => (Some(file.path.clone()), Some(file.path.clone())),
                Status::Renamed => (
                    Some(file.old_path.clone().unwrap_or_else(|| file.path.clone())),
                    Some(file.path.clone()),
                ),
            };
            Some(Target {
                kind,
                path: file.path.clone(),
                format,
                base,
                head,
            })
        })
        .collect();
    if cfg.all {
        let plain = |kind: Kind, globs: &[Glob]| {
            globs
                .iter()
                .filter_map(plain_path)
                .map(move |path| (kind, path))
                .collect::<Vec<_>>()
        };
        for (kind, path) in plain(Kind::Metric, &cfg.metrics)
            .into_iter()
            .chain(plain(Kind::Param, &cfg.params))
        {
            let Some(format) = Format::of(&path) else {
                continue;
            };
            if out
                .iter()
                .any(|t| t.path == path || t.base.as_deref() == Some(&path))
            {
                continue;
            }
            out.push(Target {
                kind,
                path: path.clone(),
                format,
                base: Some(path.clone()),
                head: Some(path),
            });
        }
    }
    out
}

/// The pattern as a path from the repository root, if it has no wildcard.
fn plain_path(glob: &Glob) -> Option<String> {
    let pattern = glob.as_str().trim();
    if pattern.contains(['*', '?']) {
        return None;
    }
    let path = pattern.trim_start_matches("./").trim_start_matches('/');
    (!path.is_empty()).then(|| path.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;

    fn changed(path: &str, status: Status) -> Changed {
        Changed {
            path: path.into(),
            old_path: None,
            status,
        }
    }

    /// (kind, shown path, base path, head path) of each target.
    fn check(with: &str, files: &[Changed], expected: &[(Kind, &str, Option<&str>, Option<&str>)]) {
        let cfg = parse(with).unwrap_or_else(|e| panic!("{e}"));
        let got: Vec<_> = targets(&cfg, files)
            .into_iter()
            .map(|t| (t.kind, t.path, t.base, t.head))
            .collect();
        let expected: Vec<_> = expected
            .iter()
            .map(|(k, p, b, h)| {
                (
                    *k,
                    (*p).to_string(),
                    b.map(str::to_string),
                    h.map(str::to_string),
                )
            })
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn defaults_pick_changed_metrics_and_params_files_at_any_depth() {
        check(
            "{}",
            &[
                changed("README.md", Status::Modified),
                changed("metrics.json", Status::Modified),
                changed("dvclive/metrics.json", Status::Added),
                changed("params.yaml", Status::Deleted),
                changed("eval/scores.json", Status::Modified),
            ],
            &[
                (
                    Kind::Metric,
                    "metrics.json",
                    Some("metrics.json"),
                    Some("metrics.json"),
                ),
                (
                    Kind::Metric,
                    "dvclive/metrics.json",
                    None,
                    Some("dvclive/metrics.json"),
                ),
                (Kind::Param, "params.yaml", Some("params.yaml"), None),
            ],
        );
    }

    #[test]
    fn globs_renames_and_unsupported_extensions() {
        let renamed = Changed {
            path: "eval/new.yaml".into(),
            old_path: Some("eval/old.yaml".into()),
            status: Status::Renamed,
        };
        check(
            r#"{"metrics": ["eval/*"], "params": ["eval/params.toml"]}"#,
            &[
                renamed,
                changed("eval/notes.md", Status::Modified),
                changed("eval/params.toml", Status::Modified),
            ],
            &[
                (
                    Kind::Metric,
                    "eval/new.yaml",
                    Some("eval/old.yaml"),
                    Some("eval/new.yaml"),
                ),
                (
                    Kind::Metric,
                    "eval/params.toml",
                    Some("eval/params.toml"),
                    Some("eval/params.toml"),
                ),
            ],
        );
    }

    #[test]
    fn all_adds_plain_paths_once() {
        check(
            r#"{"metrics": ["metrics.json", "eval/*.json"], "params": ["./cfg/params.yaml", "x.csv"], "all": true}"#,
            &[changed("metrics.json", Status::Modified)],
            &[
                (
                    Kind::Metric,
                    "metrics.json",
                    Some("metrics.json"),
                    Some("metrics.json"),
                ),
                (
                    Kind::Param,
                    "cfg/params.yaml",
                    Some("cfg/params.yaml"),
                    Some("cfg/params.yaml"),
                ),
            ],
        );
    }
}
