//! The sticky comment, in the spirit of Prow's approval notifier: who
//! approved, which OWNERS files still need an approver, whom to ask, and
//! how to approve.

use std::fmt::Write as _;

use andon_pdk::RepoPermission;

use crate::approval::{Outcome, Status, UnitStatus};
use crate::owners::{Problem, owners_path};

/// Files listed per unit before "and N more".
const FILES_SHOWN: usize = 5;
/// Approvers listed per unit before "and N more".
const APPROVERS_SHOWN: usize = 6;

/// Everything the comment shows.
#[derive(Debug, Clone)]
pub struct Report<'a> {
    pub status: &'a Status,
    /// What the command that ran did, and who ran it; `None` on pull
    /// request events.
    pub outcome: Option<(&'a str, &'a Outcome)>,
    /// Whether any OWNERS file covers a changed file.
    pub any_owners: bool,
    /// Who may approve files no OWNERS file covers.
    pub fallback: Option<RepoPermission>,
    pub label: &'a str,
    pub problems: &'a [Problem],
}

/// The comment's Markdown.
pub fn comment(report: &Report<'_>) -> String {
    let mut out = String::new();
    let status = report.status;
    let verdict = if status.approved {
        "APPROVED"
    } else {
        "NOT APPROVED"
    };
    let _ = writeln!(out, "**Approval: {verdict}**");
    if let Some(line) = report
        .outcome
        .and_then(|(login, outcome)| outcome_line(login, outcome))
    {
        let _ = write!(out, "\n{line}\n");
    }
    out.push('\n');
    out.push_str(&approved_by(status));
    if !report.any_owners {
        let _ = write!(
            out,
            "\n\nNo `OWNERS` file covers the files this pull request changes (they are read \
             from the base branch, in Prow's format: `approvers:` and `reviewers:` lists)."
        );
    }
    out.push_str("\n\n");
    if status.approved {
        let _ = writeln!(
            out,
            "Every changed file has an approver's approval: it has the `{}` label.",
            report.label
        );
    } else {
        out.push_str("It needs an approval for each of these:\n");
    }
    out.push('\n');
    for unit in &status.units {
        out.push_str(&unit_line(unit, report.fallback));
        out.push('\n');
    }
    if !status.suggested.is_empty() {
        let _ = write!(
            out,
            "\nSuggested approvers: {}\n",
            mentions(&status.suggested)
        );
    }
    if !report.problems.is_empty() {
        out.push_str("\n**Problems with OWNERS files:**\n\n");
        for problem in report.problems {
            let _ = writeln!(out, "- {problem}");
        }
    }
    out.push_str(
        "\nApprovers approve with `/approve` in a comment and withdraw with `/approve cancel`. \
         Approvals are kept when new commits are pushed.\n",
    );
    out
}

fn outcome_line(login: &str, outcome: &Outcome) -> Option<String> {
    match outcome {
        Outcome::Done => None,
        Outcome::NotAnApprover => Some(format!(
            "@{login}: you are not an approver for any file this pull request changes, so \
             your `/approve` was not counted."
        )),
        Outcome::NothingToCancel => Some(format!(
            "@{login}: you had not approved this pull request; nothing to cancel."
        )),
        Outcome::Unknown(args) => Some(format!(
            "@{login}: `/approve {args}` is not understood; usage: `/approve [no-issue|cancel]`."
        )),
    }
}

fn approved_by(status: &Status) -> String {
    if status.approvers.is_empty() {
        return "Nobody has approved yet.".into();
    }
    let names: Vec<String> = status
        .approvers
        .iter()
        .map(|a| {
            if a.implicit {
                format!("@{} (author, implicitly)", a.login)
            } else {
                format!("@{}", a.login)
            }
        })
        .collect();
    format!("Approved by: {}", names.join(", "))
}

fn unit_line(unit: &UnitStatus, fallback: Option<RepoPermission>) -> String {
    let check = if unit.approved() { "x" } else { " " };
    let what = match &unit.folder {
        Some(folder) => format!("`{}`", owners_path(folder)),
        None => "files no `OWNERS` file lists approvers for".into(),
    };
    let files = files(&unit.files);
    let who = if unit.approved() {
        format!("approved by {}", mentions(&unit.approved_by))
    } else if unit.folder.is_some() {
        format!(
            "approvers: {}",
            shortened(&mentions_of(unit.approvers.iter()), APPROVERS_SHOWN)
        )
    } else {
        match fallback {
            Some(need) => format!("anyone with `{need}` permission may approve"),
            None => "nobody may approve them: add an `OWNERS` file with `approvers:`, or set \
                     `no_owners_approver_permission`"
                .into(),
        }
    };
    format!("- [{check}] {what} ({files}): {who}")
}

fn files(paths: &[String]) -> String {
    match paths.len() {
        0 => "no changed files".into(),
        1 => format!("`{}`", paths[0]),
        _ => {
            let quoted: Vec<String> = paths.iter().map(|p| format!("`{p}`")).collect();
            format!("{} files: {}", paths.len(), shortened(&quoted, FILES_SHOWN))
        }
    }
}

fn mentions(logins: &[String]) -> String {
    mentions_of(logins.iter()).join(", ")
}

fn mentions_of<'a>(logins: impl Iterator<Item = &'a String>) -> Vec<String> {
    logins.map(|l| format!("@{l}")).collect()
}

/// The first `shown` items, then how many more.
fn shortened(items: &[String], shown: usize) -> String {
    if items.len() <= shown {
        return items.join(", ");
    }
    format!(
        "{} and {} more",
        items[..shown].join(", "),
        items.len() - shown
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::approval::Approver;

    fn set(logins: &[&str]) -> BTreeSet<String> {
        logins.iter().map(ToString::to_string).collect()
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(ToString::to_string).collect()
    }

    fn report<'a>(status: &'a Status, problems: &'a [Problem]) -> Report<'a> {
        Report {
            status,
            outcome: None,
            any_owners: true,
            fallback: None,
            label: "approved",
            problems,
        }
    }

    #[test]
    fn not_approved_with_problems() {
        let status = Status {
            approvers: vec![Approver {
                login: "ann".into(),
                implicit: true,
            }],
            units: vec![
                UnitStatus {
                    folder: Some("api".into()),
                    files: strings(&["api/a.rs"]),
                    approvers: set(&["ann", "root"]),
                    approved_by: strings(&["ann"]),
                },
                UnitStatus {
                    folder: Some("web".into()),
                    files: strings(&["web/1", "web/2", "web/3", "web/4", "web/5", "web/6"]),
                    approvers: set(&["a", "b", "c", "d", "e", "f", "g", "root"]),
                    approved_by: Vec::new(),
                },
                UnitStatus {
                    folder: None,
                    files: strings(&["x.rs"]),
                    approvers: BTreeSet::new(),
                    approved_by: Vec::new(),
                },
            ],
            suggested: strings(&["root"]),
            approved: false,
        };
        let problems = [Problem {
            path: "docs/OWNERS".into(),
            line: 3,
            message: "`approvers` must be a list of logins, not a string; the file is ignored"
                .into(),
        }];
        let outcome = Outcome::NotAnApprover;
        let report = Report {
            outcome: Some(("zed", &outcome)),
            ..report(&status, &problems)
        };
        insta::assert_snapshot!(comment(&report));
    }

    #[test]
    fn approved_without_owners() {
        let status = Status {
            approvers: vec![Approver {
                login: "wes".into(),
                implicit: false,
            }],
            units: vec![UnitStatus {
                folder: None,
                files: strings(&["a.rs", "b.rs"]),
                approvers: BTreeSet::new(),
                approved_by: strings(&["wes"]),
            }],
            suggested: Vec::new(),
            approved: true,
        };
        let report = Report {
            any_owners: false,
            fallback: Some(RepoPermission::Write),
            ..report(&status, &[])
        };
        insta::assert_snapshot!(comment(&report));
    }

    #[test]
    fn outcomes_address_the_commenter() {
        let line = |o: Outcome| outcome_line("bo", &o).unwrap_or_default();
        assert_eq!(line(Outcome::Done), "");
        assert!(line(Outcome::NothingToCancel).starts_with("@bo: you had not approved"));
        assert!(line(Outcome::Unknown("please".into())).contains("`/approve please`"));
    }
}
