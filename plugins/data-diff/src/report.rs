//! The diff as a sticky comment (Markdown, in the spirit of Datafold's
//! data-diff and dbt's audit_helper) and as the step's JSON output.
//!
//! The comment stays readable and bounded: sample keys are capped by
//! `samples:`, the column tables by [`MAX_COLUMNS`] rows, long values are
//! cut, and the whole body by [`MAX_COMMENT`] characters (GitHub takes
//! 65,536).

use std::fmt::Write as _;

use serde::Serialize;

use crate::compare::{ColumnDiff, DatasetDiff, RowDiff};
use crate::stats::Summary;

/// Most rows in a column table.
pub const MAX_COLUMNS: usize = 50;
/// Most characters in the comment.
pub const MAX_COMMENT: usize = 60_000;
/// Most characters of one value or key shown.
const MAX_VALUE: usize = 40;

/// How a dataset's file changed in the pull request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileChange {
    Added,
    Modified,
    Deleted,
    Renamed,
}

/// One dataset's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatasetReport {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_path: Option<String>,
    pub change: FileChange,
    #[serde(flatten)]
    pub result: Outcome,
}

/// The comparison, or why there is none.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Diff(Box<DatasetDiff>),
    Error(String),
}

/// The comment's Markdown.
pub fn markdown(reports: &[DatasetReport]) -> String {
    let mut out = String::from("### data-diff\n");
    if reports.is_empty() {
        out.push_str("\nNo dataset this step compares changed.\n");
        return out;
    }
    for report in reports {
        let section = dataset_section(report);
        if out.len() + section.len() > MAX_COMMENT {
            let _ = writeln!(
                out,
                "\n_…more datasets changed than fit in one comment; the step's `diff` output lists them all._"
            );
            break;
        }
        out.push_str(&section);
    }
    out
}

fn dataset_section(report: &DatasetReport) -> String {
    let mut out = String::new();
    let change = match (report.change, &report.old_path) {
        (FileChange::Renamed, Some(old)) => format!("renamed from `{}`", code(old)),
        (FileChange::Added, _) => "new".into(),
        (FileChange::Deleted, _) => "deleted".into(),
        _ => "modified".into(),
    };
    let _ = writeln!(out, "\n#### `{}` ({change})\n", code(&report.path));
    let diff = match &report.result {
        Outcome::Diff(diff) => diff,
        Outcome::Error(message) => {
            let _ = writeln!(out, "⚠️ Not compared: {}", cut(message, 500));
            return out;
        }
    };
    let _ = writeln!(out, "| | base | head | change |\n|:--|--:|--:|--:|");
    let _ = writeln!(
        out,
        "| rows | {} | {} | {} |",
        count(diff.rows.base),
        count(diff.rows.head),
        delta(diff.rows.base, diff.rows.head)
    );
    let (cb, ch) = (
        diff.columns_base.len() as u64,
        diff.columns_head.len() as u64,
    );
    let columns_delta = match ch.cmp(&cb) {
        std::cmp::Ordering::Equal => "0".to_string(),
        std::cmp::Ordering::Greater => format!("+{}", ch - cb),
        std::cmp::Ordering::Less => format!("-{}", cb - ch),
    };
    let _ = writeln!(out, "| columns | {cb} | {ch} | {columns_delta} |");
    schema_section(diff, report.change, &mut out);
    if let Some(rows) = &diff.row_diff {
        rows_section(rows, &mut out);
    }
    if let Some(note) = &diff.note {
        let _ = writeln!(out, "\n_{}_", cut(note, 300));
    }
    columns_section(&diff.columns, &mut out);
    out
}

fn schema_section(diff: &DatasetDiff, change: FileChange, out: &mut String) {
    if matches!(change, FileChange::Added | FileChange::Deleted) {
        return;
    }
    let s = &diff.schema;
    let mut lines = Vec::new();
    let list = |columns: &[(String, crate::stats::Kind)]| {
        columns
            .iter()
            .take(MAX_COLUMNS)
            .map(|(name, kind)| format!("`{}` ({})", code(name), kind.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !s.added.is_empty() {
        lines.push(format!("- added: {}", list(&s.added)));
    }
    if !s.removed.is_empty() {
        lines.push(format!("- removed: {}", list(&s.removed)));
    }
    for (name, before, after) in s.type_changes.iter().take(MAX_COLUMNS) {
        lines.push(format!(
            "- type changed: `{}` {} → {}",
            code(name),
            before.as_str(),
            after.as_str()
        ));
    }
    if s.reordered {
        lines.push("- column order changed".into());
    }
    if lines.is_empty() {
        out.push_str("\n**Schema**: unchanged\n");
    } else {
        let _ = writeln!(out, "\n**Schema**\n{}", lines.join("\n"));
    }
}

fn rows_section(r: &RowDiff, out: &mut String) {
    let keys: Vec<String> = r.key.iter().map(|k| format!("`{}`", code(k))).collect();
    let by = if r.whole_rows {
        "by their values (no `key:` given)".to_string()
    } else {
        format!("by {}", keys.join(", "))
    };
    let _ = writeln!(
        out,
        "\n**Rows** {by}: {} added, {} removed, {} changed, {} unchanged",
        count(r.added),
        count(r.removed),
        count(r.changed),
        count(r.unchanged)
    );
    let mut notes = Vec::new();
    for (what, sides) in [("duplicate", r.duplicate_keys), ("null", r.null_keys)] {
        if sides.base + sides.head > 0 {
            let n = sides.base + sides.head;
            notes.push(format!(
                "{} row{} with a {what} key (base {}, head {}) not compared",
                count(n),
                if n == 1 { "" } else { "s" },
                count(sides.base),
                count(sides.head)
            ));
        }
    }
    if !notes.is_empty() {
        let _ = writeln!(out, "\n⚠️ {}.", notes.join("; "));
    }
    if !r.changed_columns.is_empty() {
        let _ = writeln!(out, "\n| column | rows changed |\n|:--|--:|");
        for (name, n) in r.changed_columns.iter().take(MAX_COLUMNS) {
            let _ = writeln!(out, "| `{}` | {} |", code(name), count(*n));
        }
        if r.changed_columns.len() > MAX_COLUMNS {
            let _ = writeln!(
                out,
                "| … {} more | |",
                r.changed_columns.len() - MAX_COLUMNS
            );
        }
    }
    let mut samples = Vec::new();
    let keys = |keys: &[String]| {
        keys.iter()
            .map(|k| format!("`{}`", code(&cut(k, MAX_VALUE))))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !r.added_samples.is_empty() {
        samples.push(format!("- added: {}", keys(&r.added_samples)));
    }
    if !r.removed_samples.is_empty() {
        samples.push(format!("- removed: {}", keys(&r.removed_samples)));
    }
    if !r.changed_samples.is_empty() {
        let changed: Vec<String> = r
            .changed_samples
            .iter()
            .map(|c| {
                let columns: Vec<String> = c.columns.iter().take(5).map(|n| code(n)).collect();
                let more = if c.columns.len() > 5 { ", …" } else { "" };
                format!(
                    "`{}` ({}{more})",
                    code(&cut(&c.key, MAX_VALUE)),
                    columns.join(", ")
                )
            })
            .collect();
        samples.push(format!("- changed: {}", changed.join(", ")));
    }
    if !samples.is_empty() {
        let _ = writeln!(
            out,
            "\n<details><summary>Sample keys</summary>\n\n{}\n\n</details>",
            samples.join("\n")
        );
    }
}

fn columns_section(columns: &[ColumnDiff], out: &mut String) {
    if columns.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n<details><summary>Column statistics (base → head)</summary>\n\n| column | type | nulls | distinct ≈ | min | max | mean |\n|:--|:--|--:|--:|--:|--:|--:|"
    );
    for column in columns.iter().take(MAX_COLUMNS) {
        let (b, h) = (column.base.as_ref(), column.head.as_ref());
        let pick = |f: &dyn Fn(&Summary) -> String| pair(b.map(f), h.map(f));
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} | {} |",
            code(&column.name),
            pick(&|s| s.kind.as_str().to_string()),
            pick(&|s| count(s.nulls)),
            pick(&|s| count(s.distinct)),
            pick(&|s| s.min.as_deref().map(cell).unwrap_or_default()),
            pick(&|s| s.max.as_deref().map(cell).unwrap_or_default()),
            pick(&|s| s.mean.map(decimal).unwrap_or_default()),
        );
    }
    if columns.len() > MAX_COLUMNS {
        let _ = writeln!(
            out,
            "| … {} more | | | | | | |",
            columns.len() - MAX_COLUMNS
        );
    }
    out.push_str("\n</details>\n");
}

/// `a → b` when the sides differ, one value when they agree, `–` for a
/// side without the column or the value.
fn pair(base: Option<String>, head: Option<String>) -> String {
    let base = base.filter(|b| !b.is_empty());
    let head = head.filter(|h| !h.is_empty());
    match (base, head) {
        (Some(b), Some(h)) if b == h => b,
        (Some(b), Some(h)) => format!("{b} → {h}"),
        (Some(b), None) => format!("{b} → –"),
        (None, Some(h)) => format!("– → {h}"),
        (None, None) => String::new(),
    }
}

/// `1,234,567`.
fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `+12 (+1.2%)`, `-3 (-0.3%)`, `0`.
fn delta(before: u64, after: u64) -> String {
    if before == after {
        return "0".into();
    }
    let sign = if after > before { '+' } else { '-' };
    let diff = count(after.abs_diff(before));
    if before == 0 {
        return format!("{sign}{diff}");
    }
    let percent = (after as f64 - before as f64) / before as f64 * 100.0;
    format!("{sign}{diff} ({percent:+.1}%)")
}

/// A mean, to four decimals without trailing zeros.
fn decimal(f: f64) -> String {
    if !f.is_finite() {
        return f.to_string();
    }
    let text = format!("{f:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A value for a table cell: cut, pipes escaped.
fn cell(value: &str) -> String {
    cut(value, MAX_VALUE).replace('|', "\\|")
}

/// Text for inside backticks: no backticks or line breaks, pipes escaped.
fn code(text: &str) -> String {
    text.replace('`', "'")
        .replace(['\n', '\r'], " ")
        .replace('|', "\\|")
}

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let kept: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{kept}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{Options, compare};
    use crate::table::{MemTable, Table};

    fn report(
        base: Option<&str>,
        head: Option<&str>,
        key: &[&str],
        change: FileChange,
    ) -> DatasetReport {
        let mut base = base.map(MemTable::csv);
        let mut head = head.map(MemTable::csv);
        let diff = compare(
            base.as_mut().map(|t| t as &mut dyn Table),
            head.as_mut().map(|t| t as &mut dyn Table),
            &Options {
                key: key.iter().map(ToString::to_string).collect(),
                samples: 3,
            },
        );
        DatasetReport {
            path: "data/orders.csv".into(),
            old_path: None,
            change,
            result: match diff {
                Ok(d) => Outcome::Diff(Box::new(d)),
                Err(e) => Outcome::Error(e),
            },
        }
    }

    #[test]
    fn a_modified_dataset_reads_well() {
        let r = report(
            Some("id,amount,status\n1,10,new\n2,20,paid\n3,30,paid\n4,40,new"),
            Some(
                "id,amount,status,note\n1,10,new,\n2,25,shipped,x\n3,30.5,paid,\n5,50,new,y\n5,50,new,y",
            ),
            &["id"],
            FileChange::Modified,
        );
        let text = markdown(&[r]);
        let expected = "### data-diff

#### `data/orders.csv` (modified)

| | base | head | change |
|:--|--:|--:|--:|
| rows | 4 | 5 | +1 (+25.0%) |
| columns | 3 | 4 | +1 |

**Schema**
- added: `note` (text)
- type changed: `amount` int → float

**Rows** by `id`: 1 added, 1 removed, 2 changed, 1 unchanged

⚠️ 1 row with a duplicate key (base 0, head 1) not compared.

| column | rows changed |
|:--|--:|
| `amount` | 2 |
| `status` | 1 |

<details><summary>Sample keys</summary>

- added: `5`
- removed: `4`
- changed: `2` (amount, status), `3` (amount)

</details>

<details><summary>Column statistics (base → head)</summary>

| column | type | nulls | distinct ≈ | min | max | mean |
|:--|:--|--:|--:|--:|--:|--:|
| `id` | int | 0 | 4 | 1 | 4 → 5 | 2.5 → 3.2 |
| `amount` | int → float | 0 | 4 | 10 | 40 → 50 | 25 → 33.1 |
| `status` | text | 0 | 2 → 3 |  |  |  |
| `note` | – → text | – → 2 | – → 2 |  |  |  |

</details>
";
        assert_eq!(text, expected);
    }

    #[test]
    fn new_deleted_and_failed_datasets() {
        let text = markdown(&[
            report(None, Some("id,a\n1,x"), &["id"], FileChange::Added),
            report(Some("id,a\n1,x"), None, &["id"], FileChange::Deleted),
            DatasetReport {
                path: "data/bad.csv".into(),
                old_path: None,
                change: FileChange::Modified,
                result: Outcome::Error("head:data/bad.csv: malformed: row 3".into()),
            },
        ]);
        assert!(text.contains("#### `data/orders.csv` (new)"), "{text}");
        assert!(text.contains("| rows | 0 | 1 | +1 |"), "{text}");
        assert!(
            text.contains("**Rows** by `id`: 1 added, 0 removed"),
            "{text}"
        );
        assert!(text.contains("#### `data/orders.csv` (deleted)"), "{text}");
        assert!(text.contains("| `a` | text → – |"), "{text}");
        assert!(
            text.contains("⚠️ Not compared: head:data/bad.csv: malformed: row 3"),
            "{text}"
        );
        assert!(!text.contains("**Schema**"), "{text}");
    }

    #[test]
    fn the_comment_is_bounded() {
        let wide: String = (0..200).map(|i| format!("c{i},")).collect::<String>() + "id";
        let row: String = (0..200).map(|i| format!("{i},")).collect::<String>() + "1";
        let one = report(
            Some(&format!("{wide}\n{row}")),
            Some(&format!("{wide}\n{row}")),
            &["id"],
            FileChange::Modified,
        );
        assert!(markdown(std::slice::from_ref(&one)).contains("| … 151 more | | | | | | |"));
        let many: Vec<DatasetReport> = (0..100).map(|_| one.clone()).collect();
        let text = markdown(&many);
        assert!(text.len() <= MAX_COMMENT + 200, "{}", text.len());
        assert!(text.ends_with("the step's `diff` output lists them all._\n"));
    }

    #[test]
    fn numbers_and_text_are_formatted_for_tables() {
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(12), "12");
        assert_eq!(delta(1000, 988), "-12 (-1.2%)");
        assert_eq!(delta(0, 5), "+5");
        assert_eq!(decimal(2.50), "2.5");
        assert_eq!(decimal(1.0 / 3.0), "0.3333");
        assert_eq!(code("a`b|c\nd"), "a'b\\|c d");
        assert_eq!(cut("abcdef", 4), "abc…");
    }

    #[test]
    fn json_output_is_tagged() {
        let r = report(
            Some("id\n1"),
            Some("id\n1\n2"),
            &["id"],
            FileChange::Modified,
        );
        let json = serde_json::to_value(&r).unwrap_or_default();
        assert_eq!(json["path"], "data/orders.csv");
        assert_eq!(json["change"], "modified");
        assert_eq!(json["diff"]["rows"]["head"], 2);
        assert_eq!(json["diff"]["row_diff"]["added"], 1);
        assert_eq!(json["diff"]["columns"][0]["head"]["type"], "int");
    }
}
