//! Rendering a scan as the one `secret-scan` check run. Only redacted
//! secrets reach this module.

use andon_pdk::types::{Annotation, AnnotationLevel, CheckRun, Conclusion};

use crate::scan::{Finding, Report};

/// The check run's name.
pub const CHECK_NAME: &str = "secret-scan";

/// At most this many findings are listed in the summary table; GitHub caps a
/// summary at 64 KiB. Every finding still gets its annotation.
const MAX_TABLE_ROWS: usize = 100;

/// The check run for a scan: failure with annotations and a table when
/// anything was found, success otherwise.
pub fn check_run(report: &Report) -> CheckRun {
    let lines = plural(report.lines_scanned, "added line");
    if report.findings.is_empty() {
        return CheckRun {
            name: CHECK_NAME.into(),
            conclusion: Conclusion::Success,
            title: "No secrets found".into(),
            summary: format!("No secrets found in {lines}."),
            text: None,
            annotations: Vec::new(),
        };
    }
    let found = plural(report.findings.len() as u64, "possible secret");
    CheckRun {
        name: CHECK_NAME.into(),
        conclusion: Conclusion::Failure,
        title: format!("{found} found"),
        summary: format!("Found {found} in {lines}.\n\n{}", table(&report.findings)),
        text: None,
        annotations: report.findings.iter().map(annotation).collect(),
    }
}

/// A one-line account for the step log.
pub fn log_line(report: &Report) -> String {
    format!(
        "scanned {}, {}",
        plural(report.lines_scanned, "added line"),
        plural(report.findings.len() as u64, "finding")
    )
}

fn annotation(f: &Finding) -> Annotation {
    Annotation {
        path: f.path.clone(),
        start_line: f.line,
        end_line: f.line,
        level: AnnotationLevel::Failure,
        title: Some(f.rule.into()),
        message: format!(
            "possible {} `{}`: remove it and rotate it",
            f.rule, f.redacted
        ),
    }
}

fn table(findings: &[Finding]) -> String {
    let mut out = String::from("| File | Line | Rule | Match |\n| --- | ---: | --- | --- |\n");
    for f in findings.iter().take(MAX_TABLE_ROWS) {
        out.push_str(&format!(
            "| `{}` | {} | {} | `{}` |\n",
            cell(&f.path),
            f.line,
            f.rule,
            cell(&f.redacted)
        ));
    }
    if findings.len() > MAX_TABLE_ROWS {
        out.push_str(&format!(
            "\nand {} more, listed as annotations.\n",
            findings.len() - MAX_TABLE_ROWS
        ));
    }
    out
}

/// Keeps a value inside its table cell and code span.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
        .replace('`', "'")
        .replace(['\n', '\r'], " ")
}

fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::tests::{AWS, GITHUB, lines};
    use crate::scan::{Config, scan};

    #[test]
    fn clean_change_succeeds() {
        let report = scan(
            [("a.rs".to_owned(), lines(&["fn main() {}", "// ok"]))],
            &Config::default(),
        );
        let run = check_run(&report);
        assert_eq!(run.name, "secret-scan");
        assert!(matches!(run.conclusion, Conclusion::Success));
        assert_eq!(run.summary, "No secrets found in 2 added lines.");
        assert!(run.annotations.is_empty());
        assert_eq!(log_line(&report), "scanned 2 added lines, 0 findings");
    }

    #[test]
    fn findings_fail_with_annotations_and_a_table() {
        let files = [
            (
                "deploy/env.sh".to_owned(),
                lines(&["", &format!("AWS_KEY={AWS}")]),
            ),
            ("ci|x.yml".to_owned(), lines(&[&format!("token: {GITHUB}")])),
        ];
        let run = check_run(&scan(files, &Config::default()));
        assert!(matches!(run.conclusion, Conclusion::Failure));
        assert_eq!(run.title, "2 possible secrets found");
        assert_eq!(
            run.summary,
            "Found 2 possible secrets in 3 added lines.\n\n\
             | File | Line | Rule | Match |\n| --- | ---: | --- | --- |\n\
             | `deploy/env.sh` | 2 | aws-access-key-id | `AKIA…(20 chars)` |\n\
             | `ci\\|x.yml` | 1 | github-token | `ghp_…(40 chars)` |\n"
        );
        let a = &run.annotations[0];
        assert_eq!(
            (a.path.as_str(), a.start_line, a.end_line),
            ("deploy/env.sh", 2, 2)
        );
        assert!(matches!(a.level, AnnotationLevel::Failure));
        assert_eq!(a.title.as_deref(), Some("aws-access-key-id"));
        assert_eq!(
            a.message,
            "possible aws-access-key-id `AKIA…(20 chars)`: remove it and rotate it"
        );
    }

    #[test]
    fn no_secret_appears_in_full_anywhere() {
        let secrets = [
            AWS,
            GITHUB,
            "xoxp-5511223344-ZZtopSecretSlack",
            "-----BEGIN EC PRIVATE KEY-----",
            "Zt9#qLw2@Xv8!mK5",
        ];
        let texts = [
            format!("a = {}", secrets[0]),
            format!("b = {}", secrets[1]),
            format!("c = {}", secrets[2]),
            secrets[3].to_owned(),
            format!("password = \"{}\"", secrets[4]),
        ];
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        let report = scan([("s.txt".to_owned(), lines(&texts))], &Config::default());
        assert_eq!(report.findings.len(), secrets.len());
        let rendered = format!(
            "{:?}\n{:?}\n{}",
            report,
            check_run(&report),
            log_line(&report)
        );
        for secret in secrets {
            assert!(!rendered.contains(secret), "{secret} leaked:\n{rendered}");
            let tail: String = secret.chars().skip(4).collect();
            assert!(
                !rendered.contains(&tail),
                "the rest of {secret} leaked:\n{rendered}"
            );
        }
    }

    #[test]
    fn long_tables_are_cut_but_every_finding_is_annotated() {
        let texts: Vec<String> = (0..150).map(|_| AWS.to_owned()).collect();
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        let run = check_run(&scan([("k".to_owned(), lines(&texts))], &Config::default()));
        assert_eq!(run.annotations.len(), 150);
        assert_eq!(run.summary.matches("aws-access-key-id").count(), 100);
        assert!(
            run.summary
                .ends_with("and 50 more, listed as annotations.\n"),
            "{}",
            run.summary
        );
    }
}
