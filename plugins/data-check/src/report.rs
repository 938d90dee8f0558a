//! Rendering an outcome: the step's `results` output (JSON), the check run
//! (a Markdown table, samples in its text) and the log line.

use andon_pdk::types::{CheckRun, Conclusion};
use serde_json::{Value as Json, json};

use crate::engine::{CheckResult, Outcome, Status, percent_text, thousands};

/// GitHub cuts a check run's summary and text at 64 KiB; stay under.
const MAX_MARKDOWN: usize = 60_000;

/// The `results` output: one object per check, in suite order.
pub fn results_json(outcome: &Outcome) -> Json {
    Json::Array(outcome.results.iter().map(result_json).collect())
}

fn result_json(r: &CheckResult) -> Json {
    let mut object = json!({
        "index": r.index,
        "check": r.check,
        "column": r.column,
        "status": r.status.name(),
        "severity": match r.severity {
            crate::suite::Severity::Warn => "warn",
            crate::suite::Severity::Fail => "fail",
        },
        "failed_count": r.failed_count,
        "failed_percent": r.failed_percent,
        "samples": r.samples.iter().map(|s| json!({ "row": s.row, "value": s.value })).collect::<Vec<_>>(),
        "message": r.message,
    });
    if let Some(map) = object.as_object_mut() {
        if let Some(name) = &r.name {
            map.insert("name".into(), Json::from(name.as_str()));
        }
        if let Some(observed) = &r.observed {
            map.insert("observed".into(), observed.clone());
        }
    }
    object
}

/// The `summary` output: the dataset, its rows and the verdict counts.
pub fn summary_json(dataset: &str, outcome: &Outcome) -> Json {
    let count = |s: Status| outcome.results.iter().filter(|r| r.status == s).count();
    json!({
        "dataset": dataset,
        "rows": outcome.rows,
        "ragged_rows": outcome.ragged_rows,
        "checks": outcome.results.len(),
        "passed": count(Status::Pass),
        "warned": count(Status::Warn),
        "failed": count(Status::Fail),
    })
}

/// The check run's name: `data-check: orders` for `data/orders.csv`.
pub fn check_name(dataset: &str) -> String {
    let file = dataset.rsplit('/').next().unwrap_or(dataset);
    let stem = match file.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => file,
    };
    format!("data-check: {stem}")
}

/// The check run: failure if a `fail`-severity check failed.
pub fn check_run(dataset: &str, outcome: &Outcome) -> CheckRun {
    CheckRun {
        name: check_name(dataset),
        conclusion: if outcome.failed() {
            Conclusion::Failure
        } else {
            Conclusion::Success
        },
        title: title(outcome),
        summary: summary(dataset, outcome),
        text: samples_text(outcome),
        annotations: Vec::new(),
    }
}

/// "2 of 7 checks failed, 1 warning · 5,000,000 rows".
pub fn title(outcome: &Outcome) -> String {
    let total = outcome.results.len();
    let failed = outcome
        .results
        .iter()
        .filter(|r| r.status == Status::Fail)
        .count();
    let warned = outcome
        .results
        .iter()
        .filter(|r| r.status == Status::Warn)
        .count();
    let verdict = match (failed, warned) {
        (0, 0) => format!("all {total} checks passed"),
        (0, w) => format!("{total} checks passed, {}", plural(w, "warning")),
        (f, 0) => format!("{f} of {total} checks failed"),
        (f, w) => format!("{f} of {total} checks failed, {}", plural(w, "warning")),
    };
    let mut title = format!("{verdict} · {} rows", thousands(outcome.rows));
    if let Some(first) = title.get(..1) {
        title = first.to_uppercase() + &title[1..];
    }
    title
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn icon(status: Status) -> &'static str {
    match status {
        Status::Pass => "✅",
        Status::Warn => "⚠️",
        Status::Fail => "❌",
    }
}

/// The summary: one table row per check.
pub fn summary(dataset: &str, outcome: &Outcome) -> String {
    let mut out = format!(
        "`{}`: {} rows, {}.\n\n| | Check | Column | Failed rows | Details |\n| --- | --- | --- | ---: | --- |\n",
        cell(dataset),
        thousands(outcome.rows),
        plural(outcome.results.len(), "check"),
    );
    for r in &outcome.results {
        let label = match &r.name {
            Some(name) => format!("`{}` ({})", r.check, cell(name)),
            None => format!("`{}`", r.check),
        };
        let failed = if r.observed.is_some() && r.failed_count == 0 {
            String::new()
        } else {
            format!(
                "{} ({})",
                thousands(r.failed_count),
                percent_text(r.failed_percent)
            )
        };
        let line = format!(
            "| {} | {label} | {} | {failed} | {} |\n",
            icon(r.status),
            r.column
                .as_deref()
                .map_or(String::new(), |c| format!("`{}`", cell(c))),
            cell(&r.message),
        );
        if out.len() + line.len() > MAX_MARKDOWN {
            out.push_str("\nMore checks are listed in the step's `results` output.\n");
            return out;
        }
        out.push_str(&line);
    }
    if outcome.ragged_rows > 0 {
        let rows: Vec<String> = outcome.ragged_samples.iter().map(u64::to_string).collect();
        out.push_str(&format!(
            "\n{} rows have a different number of fields than the header (rows {}); their \
             missing fields read as null.\n",
            thousands(outcome.ragged_rows),
            rows.join(", ")
        ));
    }
    out
}

/// Sample rows of the checks that did not pass, as the check run's text.
fn samples_text(outcome: &Outcome) -> Option<String> {
    let mut out = String::new();
    for r in outcome.results.iter().filter(|r| r.status != Status::Pass) {
        if r.samples.is_empty() {
            continue;
        }
        let mut section = format!(
            "### {} `{}`{}\n\n| Row | Value |\n| ---: | --- |\n",
            icon(r.status),
            r.check,
            r.column
                .as_deref()
                .map_or(String::new(), |c| format!(" on `{}`", cell(c)))
        );
        for s in &r.samples {
            section.push_str(&format!("| {} | {} |\n", s.row, value_cell(&s.value)));
        }
        if matches!(r.check, "unique" | "duplicate_rows") {
            section.push_str(&format!(
                "\nRepeats only: {} failing rows in all, counting the first occurrence of each \
                 repeated value, which is only known to repeat later.\n",
                thousands(r.failed_count)
            ));
        } else if r.failed_count > r.samples.len() as u64 {
            section.push_str(&format!(
                "\nFirst {} of {} failing rows.\n",
                r.samples.len(),
                thousands(r.failed_count)
            ));
        }
        section.push('\n');
        if out.len() + section.len() > MAX_MARKDOWN {
            out.push_str("More samples are in the step's `results` output.\n");
            break;
        }
        out.push_str(&section);
    }
    (!out.is_empty()).then_some(out)
}

fn value_cell(value: &Json) -> String {
    match value {
        Json::Null => "*null*".into(),
        Json::String(s) if s.is_empty() => "*empty*".into(),
        Json::String(s) => format!("`{}`", cell(s).replace('`', "'")),
        other => format!("`{}`", cell(&other.to_string()).replace('`', "'")),
    }
}

/// Text made safe for a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// One line for the step log.
pub fn log_line(dataset: &str, outcome: &Outcome) -> String {
    format!("{}: {}", dataset, title(outcome).to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::Sample;
    use crate::suite::Severity;

    fn result(check: &'static str, status: Status, failed: u64) -> CheckResult {
        CheckResult {
            index: 1,
            check,
            name: None,
            column: Some("email".into()),
            severity: Severity::Fail,
            status,
            failed_count: failed,
            failed_percent: failed as f64 / 10.0,
            samples: (0..failed.min(2))
                .map(|i| Sample {
                    row: i + 7,
                    value: if i == 0 {
                        Json::Null
                    } else {
                        Json::from("a|b")
                    },
                })
                .collect(),
            observed: None,
            message: format!("{failed} rows null"),
        }
    }

    fn outcome(results: Vec<CheckResult>) -> Outcome {
        Outcome {
            rows: 1000,
            ragged_rows: 0,
            ragged_samples: Vec::new(),
            results,
        }
    }

    #[test]
    fn names_and_titles() {
        assert_eq!(check_name("data/orders.csv"), "data-check: orders");
        assert_eq!(check_name("orders"), "data-check: orders");
        assert_eq!(check_name(".hidden"), "data-check: .hidden");
        let o = outcome(vec![
            result("not_null", Status::Fail, 3),
            result("unique", Status::Warn, 1),
            result("pattern", Status::Pass, 0),
        ]);
        assert_eq!(title(&o), "1 of 3 checks failed, 1 warning · 1,000 rows");
        assert_eq!(
            title(&outcome(vec![result("unique", Status::Pass, 0)])),
            "All 1 checks passed · 1,000 rows"
        );
    }

    #[test]
    fn the_check_run_has_a_table_and_samples() {
        let o = outcome(vec![
            result("not_null", Status::Fail, 3),
            result("pattern", Status::Pass, 0),
        ]);
        let run = check_run("data/orders.csv", &o);
        assert!(matches!(run.conclusion, Conclusion::Failure));
        assert!(
            run.summary
                .contains("| ❌ | `not_null` | `email` | 3 (0.30%) | 3 rows null |"),
            "{}",
            run.summary
        );
        let text = run.text.expect("samples");
        assert!(text.contains("| 7 | *null* |"), "{text}");
        assert!(text.contains("| 8 | `a\\|b` |"), "{text}");
        assert!(text.contains("First 2 of 3 failing rows."), "{text}");
        let passing = check_run("d.csv", &outcome(vec![result("unique", Status::Pass, 0)]));
        assert!(matches!(passing.conclusion, Conclusion::Success));
        assert_eq!(passing.text, None);
    }

    #[test]
    fn results_json_has_the_documented_fields() {
        let mut r = result("not_null", Status::Fail, 2);
        r.name = Some("emails".into());
        let json = results_json(&outcome(vec![r]));
        assert_eq!(json[0]["check"], "not_null");
        assert_eq!(json[0]["column"], "email");
        assert_eq!(json[0]["status"], "fail");
        assert_eq!(json[0]["failed_count"], 2);
        assert_eq!(json[0]["samples"][0], json!({"row": 7, "value": null}));
        assert_eq!(json[0]["name"], "emails");
        assert!(json[0].get("observed").is_none());
    }
}
