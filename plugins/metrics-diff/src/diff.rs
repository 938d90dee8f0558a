//! Comparing one file's flattened keys between base and head, and the
//! report of a whole step: rows per key, files that could not be read.

use std::collections::HashMap;

use serde::Serialize;

use crate::config::Goals;
use crate::flatten::{Flat, Scalar};

/// Whether a file holds metrics (results) or params (inputs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Metric,
    Param,
}

/// How a key changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Unchanged,
    Added,
    Removed,
    Modified,
}

/// Whether a numeric change goes the way `higher_is_better` or
/// `lower_is_better` wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Better,
    Worse,
}

/// `new - old` of two numbers: exact for integers that fit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Delta {
    Int(i64),
    Float(f64),
}

impl Delta {
    fn of(old: &Scalar, new: &Scalar) -> Option<Delta> {
        if let (Scalar::Int(a), Scalar::Int(b)) = (old, new)
            && let Some(d) = b.checked_sub(*a)
        {
            return Some(Delta::Int(d));
        }
        Some(Delta::Float(new.as_f64()? - old.as_f64()?))
    }

    pub fn as_f64(self) -> f64 {
        match self {
            Delta::Int(i) => i as f64,
            Delta::Float(f) => f,
        }
    }
}

/// One key of one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub kind: Kind,
    pub file: String,
    pub key: String,
    pub old: Option<Scalar>,
    pub new: Option<Scalar>,
    pub change: Change,
    /// For two numbers that differ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delta: Option<Delta>,
    /// `delta` as a percentage of `|old|`, when `old` is not zero.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percent: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
}

/// A file that matched but could not be compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileError {
    pub kind: Kind,
    pub file: String,
    pub message: String,
}

/// Everything one step compared.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    /// Files compared without error.
    pub files: usize,
    /// Changed keys; unchanged ones too when the step asked for `all`.
    pub rows: Vec<Row>,
    pub errors: Vec<FileError>,
}

impl Report {
    /// How many keys of `kind` changed.
    pub fn changed(&self, kind: Kind) -> usize {
        self.rows
            .iter()
            .filter(|r| r.kind == kind && r.change != Change::Unchanged)
            .count()
    }
}

/// True if two values are the same; numbers compare by value (`1` = `1.0`).
fn same(old: &Scalar, new: &Scalar) -> bool {
    match (old.as_f64(), new.as_f64()) {
        (Some(a), Some(b)) => a == b,
        _ => old == new,
    }
}

/// The rows of one file, head's keys in head's order and then the keys only
/// base has. `None` is a side the file is absent from. Unchanged keys are
/// left out unless `all`.
pub fn diff_file(
    kind: Kind,
    file: &str,
    base: Option<&Flat>,
    head: Option<&Flat>,
    goals: &Goals,
    all: bool,
) -> Vec<Row> {
    let empty = Flat::new();
    let (base, head) = (base.unwrap_or(&empty), head.unwrap_or(&empty));
    let base_index: HashMap<&str, &Scalar> = base.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let head_keys: HashMap<&str, ()> = head.iter().map(|(k, _)| (k.as_str(), ())).collect();
    let pairs = head
        .iter()
        .map(|(k, new)| (k, base_index.get(k.as_str()).copied(), Some(new)))
        .chain(
            base.iter()
                .filter(|(k, _)| !head_keys.contains_key(k.as_str()))
                .map(|(k, old)| (k, Some(old), None)),
        );
    pairs
        .map(|(key, old, new)| row(kind, file, key, old, new, goals))
        .filter(|r| all || r.change != Change::Unchanged)
        .collect()
}

fn row(
    kind: Kind,
    file: &str,
    key: &str,
    old: Option<&Scalar>,
    new: Option<&Scalar>,
    goals: &Goals,
) -> Row {
    let (change, delta) = match (old, new) {
        (None, _) => (Change::Added, None),
        (_, None) => (Change::Removed, None),
        (Some(a), Some(b)) if same(a, b) => (Change::Unchanged, None),
        (Some(a), Some(b)) => (Change::Modified, Delta::of(a, b)),
    };
    let percent = delta.and_then(|d| {
        let old = old?.as_f64()?;
        (old != 0.0).then(|| d.as_f64() / old.abs() * 100.0)
    });
    let verdict = delta.and_then(|d| {
        let rising = d.as_f64() > 0.0;
        let higher = goals.higher_is_better(key)?;
        Some(if rising == higher {
            Verdict::Better
        } else {
            Verdict::Worse
        })
    });
    Row {
        kind,
        file: file.to_string(),
        key: key.to_string(),
        old: old.cloned(),
        new: new.cloned(),
        change,
        delta,
        percent,
        verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(list: &[(&str, Scalar)]) -> Flat {
        list.iter()
            .map(|(k, v)| ((*k).to_string(), v.clone()))
            .collect()
    }

    fn goals() -> Goals {
        Goals {
            higher_is_better: vec!["acc".into()],
            lower_is_better: vec!["loss".into()],
        }
    }

    /// (key, change, delta, percent, verdict) of each row.
    type Summary = (String, Change, Option<Delta>, Option<f64>, Option<Verdict>);

    fn check(base: Option<&Flat>, head: Option<&Flat>, all: bool, expected: &[Summary]) {
        let rows = diff_file(Kind::Metric, "m.json", base, head, &goals(), all);
        let got: Vec<Summary> = rows
            .into_iter()
            .map(|r| (r.key, r.change, r.delta, r.percent, r.verdict))
            .collect();
        assert_eq!(got, expected);
    }

    fn s(key: &str, change: Change) -> Summary {
        (key.to_string(), change, None, None, None)
    }

    #[test]
    fn numbers_get_a_delta_a_percentage_and_a_verdict() {
        let base = flat(&[
            ("acc", Scalar::Float(0.8)),
            ("loss", Scalar::Float(0.5)),
            ("n", Scalar::Int(0)),
            ("steps", Scalar::Int(100)),
        ]);
        let head = flat(&[
            ("acc", Scalar::Float(0.9)),
            ("loss", Scalar::Float(0.6)),
            ("n", Scalar::Int(3)),
            ("steps", Scalar::Float(100.0)),
        ]);
        let rows = diff_file(
            Kind::Metric,
            "m.json",
            Some(&base),
            Some(&head),
            &goals(),
            false,
        );
        assert_eq!(rows.len(), 3, "steps 100 = 100.0 is unchanged: {rows:#?}");
        let acc = &rows[0];
        assert!(matches!(acc.delta, Some(Delta::Float(d)) if (d - 0.1).abs() < 1e-12));
        assert!(acc.percent.is_some_and(|p| (p - 12.5).abs() < 1e-9));
        assert_eq!(acc.verdict, Some(Verdict::Better));
        assert_eq!(rows[1].verdict, Some(Verdict::Worse));
        assert_eq!(
            (rows[2].delta, rows[2].percent, rows[2].verdict),
            (Some(Delta::Int(3)), None, None)
        );
    }

    #[test]
    fn added_removed_and_non_numbers() {
        let base = flat(&[
            ("kept", Scalar::Str("a".into())),
            ("gone", Scalar::Int(1)),
            ("flag", Scalar::Bool(true)),
            ("typed", Scalar::Int(1)),
        ]);
        let head = flat(&[
            ("new", Scalar::Null),
            ("kept", Scalar::Str("a".into())),
            ("flag", Scalar::Bool(false)),
            ("typed", Scalar::Str("1".into())),
        ]);
        check(
            Some(&base),
            Some(&head),
            false,
            &[
                s("new", Change::Added),
                s("flag", Change::Modified),
                s("typed", Change::Modified),
                s("gone", Change::Removed),
            ],
        );
        check(
            Some(&base),
            Some(&head),
            true,
            &[
                s("new", Change::Added),
                s("kept", Change::Unchanged),
                s("flag", Change::Modified),
                s("typed", Change::Modified),
                s("gone", Change::Removed),
            ],
        );
    }

    #[test]
    fn a_missing_side_adds_or_removes_every_key() {
        let one = flat(&[("a", Scalar::Int(1)), ("b.0", Scalar::Int(2))]);
        check(
            None,
            Some(&one),
            false,
            &[s("a", Change::Added), s("b.0", Change::Added)],
        );
        check(
            Some(&one),
            None,
            false,
            &[s("a", Change::Removed), s("b.0", Change::Removed)],
        );
    }

    #[test]
    fn integer_deltas_are_exact_and_overflow_falls_back_to_floats() {
        let base = flat(&[
            ("big", Scalar::Int(i64::MIN)),
            ("x", Scalar::Int(9_007_199_254_740_993)),
        ]);
        let head = flat(&[
            ("big", Scalar::Int(i64::MAX)),
            ("x", Scalar::Int(9_007_199_254_740_994)),
        ]);
        let rows = diff_file(
            Kind::Param,
            "p.yaml",
            Some(&base),
            Some(&head),
            &Goals::default(),
            false,
        );
        assert!(matches!(rows[0].delta, Some(Delta::Float(_))));
        assert_eq!(rows[1].delta, Some(Delta::Int(1)));
    }

    #[test]
    fn the_report_counts_changes_per_kind_and_serializes_plainly() {
        let head = flat(&[("lr", Scalar::Float(0.02))]);
        let base = flat(&[("lr", Scalar::Float(0.01))]);
        let report = Report {
            files: 1,
            rows: diff_file(
                Kind::Param,
                "params.yaml",
                Some(&base),
                Some(&head),
                &Goals::default(),
                false,
            ),
            errors: vec![FileError {
                kind: Kind::Metric,
                file: "m.json".into(),
                message: "head: invalid JSON".into(),
            }],
        };
        assert_eq!(
            (report.changed(Kind::Param), report.changed(Kind::Metric)),
            (1, 0)
        );
        assert_eq!(
            serde_json::to_value(&report).expect("serializes"),
            serde_json::json!({
                "files": 1,
                "rows": [{"kind": "param", "file": "params.yaml", "key": "lr", "old": 0.01,
                          "new": 0.02, "change": "modified", "delta": 0.01, "percent": 100.0}],
                "errors": [{"kind": "metric", "file": "m.json", "message": "head: invalid JSON"}],
            })
        );
    }
}
