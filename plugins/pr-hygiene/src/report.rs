//! The findings of one run and the check run that reports them.

use andon_pdk::types::{CheckRun, Conclusion};

use crate::check::{self, Check, Problem};
use crate::config::{Config, TitleRule};

/// What the checks found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    /// Checks that ran and passed.
    pub passed: Vec<Check>,
    pub problems: Vec<Problem>,
    /// Checks that could not run: the event does not carry the description.
    pub unchecked: Vec<Check>,
}

impl Findings {
    /// Runs every configured check; `body` is `None` when the event does
    /// not carry the description (a `/hygiene` comment).
    pub fn gather(title: &str, body: Option<&str>, cfg: &Config) -> Findings {
        let mut findings = Findings::default();
        let title_problems = check::check_title(title, cfg);
        let mut title_checks = Vec::new();
        if cfg.title != TitleRule::Free {
            title_checks.push(Check::TitleForm);
        }
        if cfg.max_title_length.is_some() {
            title_checks.push(Check::TitleLength);
        }
        for c in title_checks {
            if !title_problems.iter().any(|p| p.check == c) {
                findings.passed.push(c);
            }
        }
        findings.problems.extend(title_problems);
        if cfg.min_description_length > 0 {
            match body {
                None => findings.unchecked.push(Check::Description),
                Some(body) => match check::check_description(body, cfg) {
                    Some(problem) => findings.problems.push(problem),
                    None => findings.passed.push(Check::Description),
                },
            }
        }
        if cfg.require_issue {
            match check::check_issue(title, body, cfg) {
                None => findings.passed.push(Check::Issue),
                // Not in the title, and the description is unknown.
                Some(_) if body.is_none() => findings.unchecked.push(Check::Issue),
                Some(problem) => findings.problems.push(problem),
            }
        }
        findings
    }
}

/// The check run: failure with every problem and its fix; success when all
/// passed. When some could not be checked and nothing failed, it asks for
/// action rather than pass unseen (GitHub counts `neutral` as passing).
pub fn check_run(findings: &Findings, cfg: &Config) -> CheckRun {
    let names = |checks: &mut dyn Iterator<Item = Check>| {
        checks.map(Check::name).collect::<Vec<_>>().join(", ")
    };
    let (conclusion, title) = if !findings.problems.is_empty() {
        let n = findings.problems.len();
        let listed = names(&mut findings.problems.iter().map(|p| p.check));
        (
            Conclusion::Failure,
            format!("{n} problem{}: {listed}", if n == 1 { "" } else { "s" }),
        )
    } else if !findings.unchecked.is_empty() {
        (
            Conclusion::ActionRequired,
            format!(
                "Not checked: {}",
                names(&mut findings.unchecked.iter().copied())
            ),
        )
    } else {
        (
            Conclusion::Success,
            format!("All {} checks pass", findings.passed.len()),
        )
    };
    let mut summary = String::new();
    for problem in &findings.problems {
        summary.push_str(&format!(
            "### ❌ {}\n\n{}\n\n{}\n\n",
            problem.check.name(),
            problem.what,
            problem.fix.trim_end()
        ));
    }
    if !findings.unchecked.is_empty() {
        summary.push_str(&format!(
            "### ❔ not checked: {}\n\nA `/hygiene` comment does not carry the pull request's \
             description. Edit the pull request (or push to it) to check everything again.\n\n",
            names(&mut findings.unchecked.iter().copied())
        ));
    }
    for passed in &findings.passed {
        summary.push_str(&format!("✅ {}\n", passed.name()));
    }
    if findings.passed.is_empty() && findings.problems.is_empty() && findings.unchecked.is_empty() {
        summary.push_str("No checks are configured.\n");
    }
    CheckRun {
        name: cfg.check_name.clone(),
        conclusion,
        title,
        summary,
        text: None,
        annotations: Vec::new(),
    }
}
