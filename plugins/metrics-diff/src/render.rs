//! The sticky comment: a Markdown table per kind (`### Metrics`,
//! `### Params`) with file, key, old, new and change, bounded in rows.

use std::fmt::Write as _;

use crate::diff::{Change, Delta, FileError, Kind, Report, Row, Verdict};
use crate::flatten::Scalar;

/// Most key rows in one comment; the step output has them all.
pub const MAX_ROWS: usize = 200;

/// Longest key or value shown, in characters.
const MAX_CELL: usize = 80;

/// Longest error message shown, in characters.
const MAX_MESSAGE: usize = 300;

/// What the comment says about the revisions compared.
#[derive(Debug, Clone, Copy)]
pub struct Revisions<'a> {
    pub base: &'a str,
    pub head: &'a str,
}

/// The comment for `report`, numbers shown with `precision` significant
/// digits.
pub fn markdown(report: &Report, revisions: Revisions<'_>, precision: usize) -> String {
    let (base, head) = (short(revisions.base), short(revisions.head));
    let mut out = String::from("## metrics-diff\n\n");
    let (metrics, params) = (report.changed(Kind::Metric), report.changed(Kind::Param));
    if metrics + params == 0 {
        let _ = write!(
            out,
            "No metric or param changed between base `{base}` and head `{head}`."
        );
    } else {
        let counts = [(metrics, "metric", "metrics"), (params, "param", "params")]
            .iter()
            .filter(|(n, _, _)| *n > 0)
            .map(|(n, one, many)| format!("{n} {}", if *n == 1 { one } else { many }))
            .collect::<Vec<_>>()
            .join(" and ");
        let _ = write!(out, "Base `{base}` → head `{head}`: {counts} changed.");
    }
    match report.errors.len() {
        0 => {}
        1 => out.push_str(" 1 file could not be compared."),
        n => {
            let _ = write!(out, " {n} files could not be compared.");
        }
    }
    out.push('\n');
    let mut budget = MAX_ROWS;
    for (kind, title) in [(Kind::Metric, "Metrics"), (Kind::Param, "Params")] {
        let rows: Vec<&Row> = report.rows.iter().filter(|r| r.kind == kind).collect();
        let errors: Vec<&FileError> = report.errors.iter().filter(|e| e.kind == kind).collect();
        if rows.is_empty() && errors.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "\n### {title}\n\n| file | key | old | new | change |\n|---|---|--:|--:|---|"
        );
        for error in errors {
            let _ = writeln!(
                out,
                "| {} | ⚠️ not compared | — | — | {} |",
                code(&error.file),
                text(&error.message, MAX_MESSAGE)
            );
        }
        let shown = rows.len().min(budget);
        for row in &rows[..shown] {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                code(&row.file),
                key(&row.key),
                value(row.old.as_ref(), precision),
                value(row.new.as_ref(), precision),
                change(row, precision)
            );
        }
        budget -= shown;
    }
    let hidden = report.rows.len().saturating_sub(MAX_ROWS);
    if hidden > 0 {
        let _ = writeln!(
            out,
            "\n_…and {hidden} more {}, in the step output `metrics_diff`._",
            if hidden == 1 { "row" } else { "rows" }
        );
    }
    out
}

/// A commit id as shown: its first 7 characters.
fn short(rev: &str) -> &str {
    rev.get(..7).unwrap_or(rev)
}

fn key(key: &str) -> String {
    if key.is_empty() {
        "*(whole file)*".into()
    } else {
        code(key)
    }
}

fn value(value: Option<&Scalar>, precision: usize) -> String {
    match value {
        None => "—".into(),
        Some(Scalar::Null) => "null".into(),
        Some(Scalar::Bool(b)) => b.to_string(),
        Some(Scalar::Int(i)) => i.to_string(),
        Some(Scalar::Float(f)) => number(*f, precision),
        Some(Scalar::Str(s)) => code(s),
    }
}

fn change(row: &Row, precision: usize) -> String {
    let mut out = match (row.change, row.delta) {
        (Change::Unchanged, _) => return "—".into(),
        (Change::Added, _) => "added".into(),
        (Change::Removed, _) => "removed".into(),
        (Change::Modified, None) => "changed".into(),
        (Change::Modified, Some(Delta::Int(d))) => format!("{d:+}"),
        (Change::Modified, Some(Delta::Float(d))) => signed(d, precision),
    };
    if let Some(p) = row.percent {
        let _ = write!(out, " ({})", percent(p));
    }
    match row.verdict {
        Some(Verdict::Better) => out.push_str(" ✅"),
        Some(Verdict::Worse) => out.push_str(" ⚠️"),
        None => {}
    }
    out
}

fn signed(x: f64, precision: usize) -> String {
    let text = number(x, precision);
    if x > 0.0 { format!("+{text}") } else { text }
}

fn percent(p: f64) -> String {
    if p != 0.0 && p.abs() < 0.05 {
        return format!("{}<0.1%", if p > 0.0 { "+" } else { "-" });
    }
    format!("{p:+.1}%")
}

/// `x` with `digits` significant digits, as C's `%g` (and so DVC's
/// `--precision`): plain notation unless the exponent is below -4 or at
/// least `digits`, trailing zeros dropped.
pub fn number(x: f64, digits: usize) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let digits = digits.max(1);
    // Rounding first decides the exponent: 9.99996 at 5 digits is 1.0000e1.
    let scientific = format!("{:.*e}", digits - 1, x);
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("`{:e}` always writes an exponent");
    let exponent: i64 = exponent.parse().expect("`{:e}` writes an integer exponent");
    let digits_i = i64::try_from(digits).unwrap_or(i64::MAX);
    if exponent < -4 || exponent >= digits_i {
        return format!("{}e{exponent}", trim_zeros(mantissa));
    }
    let decimals = usize::try_from(digits_i - 1 - exponent).unwrap_or(0);
    trim_zeros(&format!("{x:.decimals$}")).to_string()
}

fn trim_zeros(text: &str) -> &str {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    }
}

/// `text` in a code span that survives a table cell: pipes escaped, line
/// breaks flattened, a fence longer than any backtick run inside, cut at
/// [`MAX_CELL`] characters.
fn code(text: &str) -> String {
    let text = cut(&flatten_lines(text), MAX_CELL).replace('|', "\\|");
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    if longest == 0 {
        return format!("`{text}`");
    }
    let fence = "`".repeat(longest + 1);
    format!("{fence} {text} {fence}")
}

/// `text` as plain table-cell text: pipes and HTML escaped, line breaks
/// flattened, cut at `max` characters.
fn text(text: &str, max: usize) -> String {
    cut(&flatten_lines(text), max)
        .replace('|', "\\|")
        .replace('<', "&lt;")
}

fn flatten_lines(text: &str) -> String {
    text.replace("\r\n", " ").replace(['\n', '\r', '\t'], " ")
}

fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Goals;
    use crate::diff::diff_file;
    use crate::flatten::{Format, parse};

    const REVS: Revisions<'static> = Revisions {
        base: "0123456789abcdef",
        head: "fedcba9876543210",
    };

    #[test]
    fn numbers_have_significant_digits_like_percent_g() {
        let check = |x: f64, digits: usize, expected: &str| {
            assert_eq!(number(x, digits), expected, "{x} at {digits}");
        };
        check(0.912_345_678, 5, "0.91235");
        check(0.93 - 0.91, 5, "0.02");
        check(1234.5678, 5, "1234.6");
        check(123_456.7, 5, "1.2346e5");
        check(99_999.6, 5, "1e5");
        check(9.999_96, 5, "10");
        check(0.000_123_45, 3, "0.000123");
        check(0.000_012_345, 3, "1.23e-5");
        check(-2.5, 5, "-2.5");
        check(3.0, 5, "3");
        check(0.0, 5, "0");
        check(f64::NAN, 5, "NaN");
        check(f64::NEG_INFINITY, 5, "-inf");
        check(0.5, 1, "0.5");
    }

    #[test]
    fn cells_escape_markdown() {
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code("a`b"), "`` a`b ``");
        assert_eq!(code("x\ny"), "`x y`");
        assert_eq!(code(&"k".repeat(100)).chars().count(), MAX_CELL + 3);
        assert_eq!(text("<b>|</b>", 100), "&lt;b>\\|&lt;/b>");
        assert_eq!(percent(0.01), "+<0.1%");
        assert_eq!(percent(-12.345), "-12.3%");
    }

    fn report(base: &str, head: &str, goals: &Goals, all: bool) -> Report {
        let flat = |text: &str| parse(Format::Json, text).unwrap_or_else(|e| panic!("{e}"));
        let (base, head) = (flat(base), flat(head));
        Report {
            files: 1,
            rows: diff_file(
                Kind::Metric,
                "metrics.json",
                Some(&base),
                Some(&head),
                goals,
                all,
            ),
            errors: Vec::new(),
        }
    }

    #[test]
    fn nothing_changed_says_so() {
        let report = report(
            r#"{"acc": 0.9}"#,
            r#"{"acc": 0.9}"#,
            &Goals::default(),
            false,
        );
        assert_eq!(
            markdown(&report, REVS, 5),
            "## metrics-diff\n\nNo metric or param changed between base `0123456` and head `fedcba9`.\n"
        );
    }

    #[test]
    fn the_comment_is_pinned() {
        let goals = Goals {
            higher_is_better: vec!["acc".into()],
            lower_is_better: vec!["loss".into()],
        };
        let mut report = report(
            r#"{"acc": 0.8, "loss": 0.25, "epochs": 10, "n": 0, "name": "a|b", "gone": true, "same": 1}"#,
            r#"{"acc": 0.8123456, "loss": 0.3, "epochs": 12, "n": 5, "name": "c`d", "new": null, "same": 1}"#,
            &goals,
            true,
        );
        let params = parse(Format::Yaml, "train:\n  lr: 0.001\n  layers: [64, 32]\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let head = parse(Format::Yaml, "train:\n  lr: 0.0005\n  layers: [64]\n")
            .unwrap_or_else(|e| panic!("{e}"));
        report.rows.extend(diff_file(
            Kind::Param,
            "params.yaml",
            Some(&params),
            Some(&head),
            &goals,
            false,
        ));
        report.errors.push(FileError {
            kind: Kind::Metric,
            file: "eval/metrics.toml".into(),
            message: "head: invalid TOML at line 2, column 5: expected `=`".into(),
        });
        insta::assert_snapshot!(markdown(&report, REVS, 5));
    }

    #[test]
    fn rows_are_bounded() {
        let many = |offset: usize| {
            let pairs: Vec<String> = (0..MAX_ROWS + 5)
                .map(|i| format!("\"k{i}\": {}", i + offset))
                .collect();
            format!("{{{}}}", pairs.join(","))
        };
        let report = report(&many(0), &many(1), &Goals::default(), false);
        let text = markdown(&report, REVS, 5);
        assert_eq!(text.matches("| `metrics.json` |").count(), MAX_ROWS);
        assert!(
            text.ends_with("\n_…and 5 more rows, in the step output `metrics_diff`._\n"),
            "{text}"
        );
    }
}
