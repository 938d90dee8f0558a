//! What andon writes on GitHub: check run names and summaries, the
//! `/andon help` reply, replies to commands, and the outbox effects of a
//! finished run.
//!
//! Everything is Markdown. Text from plugins and users goes into code spans,
//! fenced blocks or escaped table cells, so it cannot break the layout, and
//! every `<!--` in it is neutralised so it cannot forge the hidden marker
//! that finds a sticky comment again.

use std::fmt::Write as _;

use crate::action::{Action, Conclusion};
use crate::effect::{CommitState, Effect, PlannedEffect};
use crate::event::{Event, EventKind, RunInfo};
use crate::manifest::Manifest;
use crate::run::{RunRecord, Status, StepRecord};
use crate::schedule::{Report, ReportWhen};
use crate::workflow::{Workflow, closest};

/// Log lines shown under a failed or errored step.
pub const LOG_TAIL_LINES: usize = 20;

/// GitHub refuses check run summaries over 65,535 characters; stay below
/// with room for the closing note.
const MAX_SUMMARY_BYTES: usize = 60_000;

/// Longest log line shown, in bytes; longer ones are cut.
const MAX_LOG_LINE_BYTES: usize = 500;

/// Longest error or failure reason shown, in bytes.
const MAX_REASON_BYTES: usize = 4_000;

/// The check run of a workflow: `andon / {workflow}`.
pub fn check_run_name(workflow: &str) -> String {
    format!("andon / {workflow}")
}

/// The conclusion, title and Markdown summary of a finished run's check run.
pub fn run_summary(run: &RunRecord) -> (Conclusion, String, String) {
    let status = overall_status(run);
    let conclusion = match status {
        Status::Success => Conclusion::Success,
        Status::Failure | Status::Error => Conclusion::Failure,
        Status::Skipped => Conclusion::Skipped,
    };
    (conclusion, title(run, status), summary(run))
}

/// The `workflow_run` event for a finished run of a push or a schedule,
/// for workflows that watch andon's own runs (`on: workflow_run`);
/// `None` for runs of other events (no chains of follow-ups).
pub fn workflow_run_event(run: &RunRecord, default_branch: Option<&str>) -> Option<Event> {
    if !matches!(run.event.kind, EventKind::Push | EventKind::Schedule) {
        return None;
    }
    let status = overall_status(run);
    if status == Status::Skipped {
        return None;
    }
    // A scheduled run checks out the default branch.
    let branch = match run.event.kind {
        EventKind::Schedule => run
            .event
            .branch
            .clone()
            .or_else(|| default_branch.map(str::to_string)),
        _ => run.event.branch.clone(),
    };
    let url = (run.event.repository.contains('/') && !run.event.head.is_empty()).then(|| {
        format!(
            "https://github.com/{}/commit/{}/checks",
            run.event.repository, run.event.head
        )
    });
    let mut event = Event::new(
        EventKind::WorkflowRun,
        &run.event.repository,
        &run.event.head,
    );
    event.action = Some("completed".into());
    event.branch.clone_from(&branch);
    event.default_branch = default_branch.map(str::to_string);
    event.run = Some(RunInfo {
        id: run.id,
        workflow: run.workflow.clone(),
        status: status.as_str().to_string(),
        event: run.event.kind,
        branch,
        head: run.event.head.clone(),
        url,
        summary: if status == Status::Success {
            String::new()
        } else {
            title(run, status)
        },
    });
    Some(event)
}

/// The run's status, from its record and its steps: an error anywhere
/// fails it, and a run whose steps were all skipped is skipped.
fn overall_status(run: &RunRecord) -> Status {
    let all_skipped = run.steps.iter().all(|s| s.status == Status::Skipped);
    if all_skipped && matches!(run.status, Status::Success | Status::Skipped) {
        return Status::Skipped;
    }
    run.status.worst(RunRecord::rolled_up_status(&run.steps))
}

fn title(run: &RunRecord, status: Status) -> String {
    let ids = |wanted: Status| -> Vec<&str> {
        run.steps
            .iter()
            .filter(|s| s.status == wanted)
            .map(|s| s.id.as_str())
            .collect()
    };
    match status {
        Status::Success => {
            let passed = steps(ids(Status::Success).len());
            match ids(Status::Skipped).len() {
                0 => format!("{passed} passed"),
                skipped => format!("{passed} passed, {skipped} skipped"),
            }
        }
        Status::Skipped if run.steps.is_empty() => "no steps ran".into(),
        Status::Skipped => format!("{} skipped", steps(run.steps.len())),
        Status::Failure | Status::Error => {
            let parts: Vec<String> = [(Status::Failure, "failed"), (Status::Error, "errored")]
                .into_iter()
                .filter_map(|(wanted, verb)| {
                    let ids = ids(wanted);
                    let who = match ids.as_slice() {
                        [] => return None,
                        [one] => (*one).to_string(),
                        [one, two] => format!("{one} and {two}"),
                        many => steps(many.len()),
                    };
                    Some(format!("{who} {verb}"))
                })
                .collect();
            if parts.is_empty() {
                format!("the run {}", status_verb(status))
            } else {
                parts.join("; ")
            }
        }
    }
}

/// `1 step`, `3 steps`.
fn steps(n: usize) -> String {
    if n == 1 {
        "1 step".into()
    } else {
        format!("{n} steps")
    }
}

fn status_verb(status: Status) -> &'static str {
    match status {
        Status::Success => "passed",
        Status::Failure => "failed",
        Status::Error => "errored",
        Status::Skipped => "was skipped",
    }
}

fn status_emoji(status: Status) -> &'static str {
    match status {
        Status::Success => "✅",
        Status::Failure => "❌",
        Status::Error => "💥",
        Status::Skipped => "⏭️",
    }
}

fn summary(run: &RunRecord) -> String {
    let mut out =
        String::from("| Step | Plugin | Status | Duration |\n| --- | --- | --- | --- |\n");
    for step in &run.steps {
        let _ = writeln!(
            out,
            "| {} | {} | {} {} | {} |",
            cell_code(&step.id),
            cell_code(&step.plugin),
            status_emoji(step.status),
            step.status,
            if step.status == Status::Skipped {
                "–".to_string()
            } else {
                duration(step.duration_us)
            },
        );
    }
    let mut sections: Vec<String> = run
        .steps
        .iter()
        .filter(|s| matches!(s.status, Status::Failure | Status::Error))
        .map(step_details)
        .collect();
    if let Some(denied) = denied_table(run) {
        sections.push(denied);
    }
    let mut omitted = 0;
    for section in sections {
        if omitted == 0 && out.len() + section.len() < MAX_SUMMARY_BYTES {
            out.push('\n');
            out.push_str(&section);
        } else {
            omitted += 1;
        }
    }
    if omitted > 0 {
        let _ = write!(
            out,
            "\n_{omitted} more section(s) left out to fit GitHub's size limit; `andon runs` shows the whole run._\n"
        );
    }
    out
}

/// Why a failed or errored step failed, and the end of its log.
fn step_details(step: &StepRecord) -> String {
    let mut out = format!(
        "### {} {} {}\n\n",
        status_emoji(step.status),
        code_span(&step.id),
        status_verb(step.status)
    );
    let reasons: Vec<String> = step
        .error
        .iter()
        .cloned()
        .chain(step.actions.iter().filter_map(failure_reason))
        .collect();
    if !reasons.is_empty() {
        out.push_str(&fenced(&cut(&reasons.join("\n"), MAX_REASON_BYTES), "text"));
    }
    let tail = log_tail(&step.log);
    if !tail.is_empty() {
        let _ = write!(
            out,
            "\n<details><summary>Last lines of the log</summary>\n\n{}\n</details>\n",
            fenced(&tail, "text")
        );
    }
    out
}

/// What a failing action says.
fn failure_reason(action: &Action) -> Option<String> {
    match action {
        Action::Fail { reason } => Some(reason.clone()),
        Action::CheckRun(run) if action.is_failure() => {
            Some(format!("check run \"{}\" failed: {}", run.name, run.title))
        }
        _ => None,
    }
}

fn log_tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    let start = lines.len().saturating_sub(LOG_TAIL_LINES);
    lines[start..]
        .iter()
        .map(|line| cut(line, MAX_LOG_LINE_BYTES))
        .collect::<Vec<_>>()
        .join("\n")
}

fn denied_table(run: &RunRecord) -> Option<String> {
    let rows: Vec<String> = run
        .steps
        .iter()
        .flat_map(|step| {
            step.denied.iter().map(move |denied| {
                format!(
                    "| {} | {} | {} |\n",
                    cell_code(&step.id),
                    cell_code(denied.action.kind()),
                    cell(&cut(&denied.reason, MAX_REASON_BYTES)),
                )
            })
        })
        .collect();
    if rows.is_empty() {
        return None;
    }
    Some(format!(
        "### 🚫 Denied actions\n\n| Step | Action | Reason |\n| --- | --- | --- |\n{}",
        rows.concat()
    ))
}

/// `850 µs`, `12.3 ms`, `1.52 s`, `2m 03s`.
fn duration(us: u64) -> String {
    match us {
        0..1_000 => format!("{us} µs"),
        1_000..1_000_000 => format!("{}.{} ms", us / 1_000, us % 1_000 / 100),
        1_000_000..60_000_000 => format!("{}.{:02} s", us / 1_000_000, us % 1_000_000 / 10_000),
        _ => {
            let secs = us / 1_000_000;
            format!("{}m {:02}s", secs / 60, secs % 60)
        }
    }
}

/// The `/andon help` reply: built-in commands, the commands of
/// `workflows`, and those `plugins` declare. Each plugin comes with the name
/// workflows use for it (`uses:`).
pub fn help(workflows: &[&Workflow], plugins: &[(String, Manifest)]) -> String {
    let mut out = String::from(
        "### andon commands\n\n\
         | Command | What it does |\n\
         | --- | --- |\n\
         | `/andon run <workflow>` | Run a workflow by name, whatever its triggers |\n\
         | `/andon rerun` | Run again the steps that did not pass in the latest run of each workflow |\n\
         | `/andon ok-to-test` | Let workflows run on this pull request (for maintainers, when it comes from a fork or a first-time contributor) |\n\
         | `/andon promote <model> <version> <stage>` | Assign a model version a stage in the registry (a GTO tag; write permission, and the checks `.andon/registry.yml` requires) |\n\
         | `/andon help` | Show this list |\n",
    );
    let mut names: Vec<&Workflow> = workflows.to_vec();
    names.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    out.push_str("\n### Workflows\n\n");
    if names.is_empty() {
        out.push_str("This repository has no workflows on its default branch.\n");
    } else {
        out.push_str("| Run it with | Steps |\n| --- | --- |\n");
        for workflow in names {
            let steps: Vec<String> = workflow
                .steps
                .iter()
                .map(|step| cell_code(&step.id))
                .collect();
            let _ = writeln!(
                out,
                "| {} | {} |",
                cell_code(&format!("/andon run {}", workflow.name)),
                steps.join(", ")
            );
        }
    }
    let mut commands: Vec<(&str, &str, &str)> = workflows
        .iter()
        .filter_map(|w| Some((w, w.on.comment.as_ref()?)))
        .flat_map(|(w, trigger)| {
            trigger
                .commands
                .iter()
                .map(|c| (c.as_str(), trigger.permission.as_str(), w.name.as_str()))
        })
        .collect();
    commands.sort_unstable();
    out.push_str("\n### Workflow commands\n\n");
    if commands.is_empty() {
        out.push_str("No workflow here has a `comment` trigger.\n");
    } else {
        out.push_str("| Command | Needs | Workflow |\n| --- | --- | --- |\n");
        for (command, permission, workflow) in commands {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                cell_code(&format!("/{command}")),
                cell_code(permission),
                cell_code(workflow),
            );
        }
    }
    let plugin_commands: Vec<String> = plugins
        .iter()
        .flat_map(|(plugin, manifest)| {
            manifest.commands.iter().map(move |info| {
                let usage = if info.usage.trim().is_empty() {
                    format!("/{}", info.name)
                } else {
                    info.usage.clone()
                };
                format!(
                    "| {} | {} | {} |\n",
                    cell_code(&usage),
                    cell(&info.description),
                    cell_code(plugin),
                )
            })
        })
        .collect();
    if !plugin_commands.is_empty() {
        out.push_str(
            "\n### Plugin commands\n\n| Command | What it does | Plugin |\n| --- | --- | --- |\n",
        );
        out.push_str(&plugin_commands.concat());
    }
    out
}

/// The reply to a command that does not exist, with what the user probably
/// meant (a whole command, such as `/andon rerun`).
pub fn unknown_command(text: &str, suggestion: Option<&str>) -> String {
    let mut out = format!("{} is not a command.", code_span(text.trim()));
    if let Some(suggestion) = suggestion {
        let _ = write!(out, " Did you mean {}?", code_span(suggestion));
    }
    out.push_str(" Say `/andon help` for the list.");
    out
}

/// The reply to a command its author may not give: `needed` and `has` are
/// repository permission levels (`read` ... `admin`).
pub fn refused_command(
    command: &str,
    needed: &str,
    repository: &str,
    user: &str,
    has: &str,
) -> String {
    format!(
        "{} needs {} permission on {}; @{} has {}.",
        code_span(command.trim()),
        code_span(needed),
        plain(repository),
        plain(user),
        code_span(has),
    )
}

/// The reply to `/andon ok-to-test`.
pub fn ok_to_test(approver: &str) -> String {
    format!(
        "@{} allowed workflows to run on this pull request; they are starting now.",
        plain(approver)
    )
}

/// The reply to `/andon run NAME` when no workflow is called `NAME`;
/// `known` are the workflows there are.
pub fn workflow_not_found(name: &str, known: &[&str]) -> String {
    let mut out = format!("No workflow is called {}.", code_span(name));
    match closest(name, known) {
        Some(best) => {
            let _ = write!(
                out,
                " Did you mean {}?",
                code_span(&format!("/andon run {best}"))
            );
        }
        None if known.is_empty() => {
            out.push_str(" This repository has no workflows on its default branch.");
        }
        None => {
            let list: Vec<String> = known.iter().map(|k| code_span(k)).collect();
            let _ = write!(out, " The workflows are {}.", list.join(", "));
        }
    }
    out.push_str(" Say `/andon help` for the list.");
    out
}

/// The check run a worker starts when a run begins. Its external id is the
/// one [`effects_for_run`] finishes.
pub fn check_run_start(
    key_prefix: &str,
    repository: &str,
    installation: Option<u64>,
    workflow: &str,
    head_sha: &str,
    run_index: usize,
) -> PlannedEffect {
    PlannedEffect {
        key: format!("{key_prefix}/{run_index}/check-run-start"),
        repository: repository.to_string(),
        installation,
        effect: Effect::CheckRunStart {
            name: check_run_name(workflow),
            head_sha: head_sha.to_string(),
            external_id: format!("{key_prefix}/{run_index}"),
        },
    }
}

/// The effects of finished run number `run_index` of a delivery: for each
/// step its sticky comment and its plugins' check runs, the labels, and
/// last the workflow's check run. Keys are `{key_prefix}/{run_index}/...`,
/// stable across retries.
///
/// Comments and labels need a pull request: for an event without a number
/// (push, schedule) they are left out. Check runs need a commit: for an
/// event whose head is unknown they are left out. Either way they stay in
/// the run record. Artifacts, kv writes and `fail` have no effect on GitHub.
pub fn effects_for_run(
    key_prefix: &str,
    repository: &str,
    installation: Option<u64>,
    run: &RunRecord,
    run_index: usize,
) -> Vec<PlannedEffect> {
    let base = format!("{key_prefix}/{run_index}");
    let head = run.event.head.as_str();
    let number = run.event.number;
    let planned = |key: String, effect: Effect| PlannedEffect {
        key,
        repository: repository.to_string(),
        installation,
        effect,
    };
    let mut effects = Vec::new();
    // Desired label states per pull request, last word wins:
    // (number, label, present, key).
    let mut labels: Vec<(u64, &str, bool, String)> = Vec::new();
    for step in &run.steps {
        // The step's sticky comments, one per pull request it addresses
        // (the event's, or others named by `comment-on`), in order.
        let mut comments: Vec<(u64, Vec<&str>)> = Vec::new();
        for action in &step.actions {
            if let Action::Comment { body, number: to } = action
                && let Some(target) = to.or(number)
            {
                match comments.iter_mut().find(|(n, _)| *n == target) {
                    Some((_, bodies)) => bodies.push(body),
                    None => comments.push((target, vec![body])),
                }
            }
        }
        for (target, bodies) in comments {
            // The event's own pull request keeps the key it always had.
            let key = if Some(target) == number {
                format!("{base}/{}/comment", step.id)
            } else {
                format!("{base}/{}/comment/{target}", step.id)
            };
            effects.push(planned(
                key,
                Effect::StickyComment {
                    number: target,
                    marker: format!("{}/{}", run.workflow, step.id),
                    body: neutralise(&bodies.join("\n\n")),
                },
            ));
        }
        for (n, action) in step.actions.iter().enumerate() {
            let key = format!("{base}/{}/{n}", step.id);
            match action {
                Action::CheckRun(check) if !head.is_empty() => effects.push(planned(
                    key.clone(),
                    Effect::CheckRunFinish {
                        name: check.name.clone(),
                        head_sha: head.to_string(),
                        external_id: key,
                        conclusion: check.conclusion,
                        title: check.title.clone(),
                        summary: check.summary.clone(),
                        text: check.text.clone(),
                        annotations: check.annotations.clone(),
                    },
                )),
                Action::AddLabel { label, number: to }
                | Action::RemoveLabel { label, number: to } => {
                    let Some(target) = to.or(number) else {
                        continue;
                    };
                    let present = matches!(action, Action::AddLabel { .. });
                    match labels
                        .iter_mut()
                        .find(|(n, l, _, _)| *n == target && l == label)
                    {
                        Some(entry) => *entry = (target, label.as_str(), present, key),
                        None => labels.push((target, label.as_str(), present, key)),
                    }
                }
                _ => {}
            }
        }
    }
    for (number, label, present, key) in labels {
        effects.push(planned(
            key,
            Effect::Label {
                number,
                label: label.to_string(),
                present,
            },
        ));
    }
    if !head.is_empty() {
        let (conclusion, title, summary) = run_summary(run);
        effects.push(planned(
            format!("{base}/check-run"),
            Effect::CheckRunFinish {
                name: check_run_name(&run.workflow),
                head_sha: head.to_string(),
                external_id: base.clone(),
                conclusion,
                title,
                summary,
                text: None,
                annotations: Vec::new(),
            },
        ));
    }
    effects
}

/// GitHub refuses commit status descriptions over 140 characters.
const MAX_STATUS_DESCRIPTION: usize = 140;

/// A scheduled run being reported: the run and what it was for.
#[derive(Debug, Clone, Copy)]
pub struct ScheduledRun<'a> {
    /// Unique per schedule, tick and attempt: `s{schedule}/{tick}/{attempt}`.
    pub key_prefix: &'a str,
    pub repository: &'a str,
    pub installation: Option<u64>,
    /// The tick, as RFC 3339 in the schedule's zone.
    pub tick: &'a str,
    pub attempt: u32,
    /// The branch it ran on, when known.
    pub branch: Option<&'a str>,
    pub report: &'a Report,
}

/// The commit status `andon / {workflow}` is `pending` while a scheduled
/// run runs, when the workflow reports its status.
pub fn scheduled_run_start(
    scheduled: &ScheduledRun<'_>,
    workflow: &str,
    head_sha: &str,
) -> Option<PlannedEffect> {
    if !scheduled.report.status || head_sha.is_empty() {
        return None;
    }
    Some(PlannedEffect {
        key: format!("{}/status-start", scheduled.key_prefix),
        repository: scheduled.repository.to_string(),
        installation: scheduled.installation,
        effect: Effect::CommitStatus {
            sha: head_sha.to_string(),
            context: check_run_name(workflow),
            state: CommitState::Pending,
            description: cut(
                &format!("scheduled for {}: running", scheduled.tick),
                MAX_STATUS_DESCRIPTION,
            ),
        },
    })
}

/// What a finished scheduled run reports, as its workflow's `report:`
/// asks: the commit status on the commit it ran, and a comment on an issue
/// (every run, or with `when: failure` those that did not pass). Check
/// runs, sticky comments and labels are for pull requests: a scheduled
/// run's actions stay in its record.
pub fn effects_for_scheduled_run(
    scheduled: &ScheduledRun<'_>,
    run: &RunRecord,
) -> Vec<PlannedEffect> {
    let (conclusion, title, summary) = run_summary(run);
    let status = overall_status(run);
    let planned = |key: &str, effect: Effect| PlannedEffect {
        key: format!("{}/{key}", scheduled.key_prefix),
        repository: scheduled.repository.to_string(),
        installation: scheduled.installation,
        effect,
    };
    let mut effects = Vec::new();
    if scheduled.report.status && !run.event.head.is_empty() {
        let state = match (status, conclusion) {
            (Status::Error, _) => CommitState::Error,
            (_, Conclusion::Failure) => CommitState::Failure,
            _ => CommitState::Success,
        };
        effects.push(planned(
            "status",
            Effect::CommitStatus {
                sha: run.event.head.clone(),
                context: check_run_name(&run.workflow),
                state,
                description: cut(
                    &format!("{title} (scheduled for {})", scheduled.tick),
                    MAX_STATUS_DESCRIPTION,
                ),
            },
        ));
    }
    let passed = matches!(status, Status::Success | Status::Skipped);
    if let Some(number) = scheduled.report.issue
        && (scheduled.report.when == ReportWhen::Always || !passed)
    {
        effects.push(planned(
            "comment",
            Effect::Reply {
                number,
                marker: scheduled.key_prefix.to_string(),
                body: scheduled_comment(scheduled, run, status, &title, &summary),
            },
        ));
    }
    effects
}

fn scheduled_comment(
    scheduled: &ScheduledRun<'_>,
    run: &RunRecord,
    status: Status,
    title: &str,
    summary: &str,
) -> String {
    let mut out = format!(
        "### {} {} {} · scheduled for {}\n\n",
        status_emoji(status),
        code_span(&run.workflow),
        status_verb(status),
        code_span(scheduled.tick),
    );
    let head: String = run.event.head.chars().take(10).collect();
    let _ = write!(out, "{} · run {}", cell(title), run.id);
    if !head.is_empty() {
        let _ = write!(out, " on {}", code_span(&head));
    }
    if let Some(branch) = scheduled.branch {
        let _ = write!(out, " ({})", code_span(branch));
    }
    if scheduled.attempt > 1 {
        let _ = write!(out, " · attempt {}", scheduled.attempt);
    }
    let _ = write!(out, " · {}\n\n{summary}", duration(run.duration_us));
    out
}

/// `text` with every `<!--` broken by a zero-width space, so plugin or user
/// text cannot open an HTML comment (and so cannot forge a marker). It
/// still reads the same.
pub fn neutralise(text: &str) -> String {
    text.replace("<!--", "<\u{200b}!--")
}

/// `text` for a table cell: one line, `|` escaped.
fn cell(text: &str) -> String {
    neutralise(text)
        .replace(['\r', '\n'], " ")
        .replace('|', "\\|")
}

/// `text` as a code span in a table cell.
fn cell_code(text: &str) -> String {
    code_span(text).replace('|', "\\|")
}

/// `text` as an inline code span, delimited by more backticks than it
/// contains in a row.
fn code_span(text: &str) -> String {
    let text = neutralise(text).replace(['\r', '\n'], " ");
    let ticks = "`".repeat(longest_run(&text, '`') + 1);
    if text.starts_with('`') || text.ends_with('`') || text.trim().is_empty() {
        format!("{ticks} {text} {ticks}")
    } else {
        format!("{ticks}{text}{ticks}")
    }
}

/// `text` as a fenced code block that no line of it can close.
fn fenced(text: &str, info: &str) -> String {
    let fence = "`".repeat((longest_run(text, '`') + 1).max(3));
    format!("{fence}{info}\n{}\n{fence}\n", neutralise(text))
}

/// Text that goes into prose as is: a login or a repository name, which
/// GitHub restricts to safe characters; anything else is dropped.
fn plain(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | '[' | ']'))
        .collect()
}

fn longest_run(text: &str, c: char) -> usize {
    text.split(|x| x != c).map(str::len).max().unwrap_or(0)
}

/// `text` cut to at most `max` bytes at a character boundary, marked `…`
/// when cut.
pub fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        let got: Vec<String> = [0, 999, 1_000, 12_345, 1_520_000, 59_999_999, 123_000_000]
            .into_iter()
            .map(duration)
            .collect();
        assert_eq!(
            got,
            [
                "0 µs", "999 µs", "1.0 ms", "12.3 ms", "1.52 s", "59.99 s", "2m 03s"
            ]
        );
    }

    #[test]
    fn user_text_cannot_escape_its_span() {
        assert_eq!(code_span("a`b"), "``a`b``");
        assert_eq!(code_span("`x"), "`` `x ``");
        assert_eq!(code_span(""), "`  `");
        assert_eq!(cell("a|b\nc"), "a\\|b c");
        assert_eq!(fenced("```\nx", "text"), "````text\n```\nx\n````\n");
        assert!(!neutralise("<!-- andon:x -->").contains("<!--"));
        assert_eq!(plain("alice<b>"), "aliceb");
    }

    #[test]
    fn cut_respects_characters() {
        assert_eq!(cut("héllo", 2), "h…");
        assert_eq!(cut("hello", 5), "hello");
    }
}
