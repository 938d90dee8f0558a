//! Rendering runs for people (text) and for tools (JSON).

use std::fmt::Write as _;

use andon_core::action::{Action, CheckRun};
use andon_core::effect::{Effect, PlannedEffect};
use andon_core::run::{RunRecord, Status, StepRecord};
use andon_core::schedule::{ScheduleRecord, format_instant};
use andon_store::{DeliveryRecord, DeliveryState, OutboxItem, OutboxState, RunSummary};
use serde_json::{Value, json};

/// The JSON object `andon run --format json` prints: `status`, `steps` and
/// `actions` (each with its `kind` and the step that asked for it).
pub fn run_json(run: &RunRecord, files_changed: usize) -> Value {
    let steps: Vec<Value> = run.steps.iter().map(step_json).collect();
    let mut actions = Vec::new();
    let mut denied = Vec::new();
    for step in &run.steps {
        for action in &step.actions {
            actions.push(with_step(action, &step.id));
        }
        for d in &step.denied {
            let mut value = with_step(&d.action, &step.id);
            value["reason"] = json!(d.reason);
            denied.push(value);
        }
    }
    json!({
        "run": run.id,
        "workflow": run.workflow,
        "status": run_status(run.status),
        "event": run.event,
        "files_changed": files_changed,
        "duration_ms": run.duration_us as f64 / 1000.0,
        "steps": steps,
        "actions": actions,
        "denied": denied,
    })
}

/// A run is reported as `success` or `failure`; a step error fails it.
fn run_status(status: Status) -> &'static str {
    match status {
        Status::Success | Status::Skipped => "success",
        Status::Failure | Status::Error => "failure",
    }
}

fn step_json(step: &StepRecord) -> Value {
    let mut value = json!({
        "id": step.id,
        "plugin": step.plugin,
        "status": step.status,
        "duration_ms": step.duration_us as f64 / 1000.0,
        "memory_peak": step.memory_peak,
    });
    if let Some(error) = &step.error {
        value["error"] = json!(error);
    }
    if let Some(fuel) = step.fuel_used {
        value["fuel_used"] = json!(fuel);
    }
    if !step.log.is_empty() {
        value["log"] = json!(step.log);
    }
    if !step.outputs.is_empty() {
        value["outputs"] = json!(step.outputs);
    }
    value
}

fn with_step(action: &Action, step: &str) -> Value {
    let mut value = serde_json::to_value(action)
        .unwrap_or_else(|e| json!({ "kind": action.kind(), "error": e.to_string() }));
    value["step"] = json!(step);
    value
}

/// A readable report of a run.
pub fn run_text(run: &RunRecord, files_changed: usize) -> String {
    let mut out = String::new();
    let event = &run.event;
    let short = |rev: &str| rev.chars().take(10).collect::<String>();
    let _ = write!(
        out,
        "{} · {} on {}",
        run.workflow, event.kind, event.repository
    );
    match &event.base {
        Some(base) => {
            let _ = writeln!(
                out,
                " · {}..{} · {files_changed} files changed",
                short(base),
                short(&event.head)
            );
        }
        None => {
            let _ = writeln!(out, " · {}", short(&event.head));
        }
    }
    for step in &run.steps {
        let mark = match step.status {
            Status::Success => "ok  ",
            Status::Failure => "FAIL",
            Status::Error => "ERR ",
            Status::Skipped => "skip",
        };
        let _ = writeln!(
            out,
            "  {mark} {:<16} {:<14} {:>8.1} ms",
            step.id,
            step.plugin,
            step.duration_us as f64 / 1000.0
        );
        if let Some(error) = &step.error {
            let _ = writeln!(out, "       {error}");
        }
        for action in &step.actions {
            render_action(&mut out, action);
        }
        for d in &step.denied {
            let _ = writeln!(out, "       denied {}: {}", d.action.kind(), d.reason);
        }
    }
    let status = run_status(run.status);
    let _ = writeln!(
        out,
        "{status} · run {} · {:.1} ms",
        run.id,
        run.duration_us as f64 / 1000.0
    );
    out
}

/// ` on #N` for an action addressed to another pull request.
fn on_pull(number: Option<u64>) -> String {
    number.map(|n| format!(" on #{n}")).unwrap_or_default()
}

fn render_action(out: &mut String, action: &Action) {
    match action {
        Action::Comment { body, number } => {
            let first = body.lines().next().unwrap_or("");
            let _ = writeln!(
                out,
                "       comment{}: {first}{}",
                on_pull(*number),
                if body.lines().nth(1).is_some() {
                    " …"
                } else {
                    ""
                }
            );
        }
        Action::AddLabel { label, number } => {
            let _ = writeln!(out, "       add-label {label}{}", on_pull(*number));
        }
        Action::RemoveLabel { label, number } => {
            let _ = writeln!(out, "       remove-label {label}{}", on_pull(*number));
        }
        Action::CheckRun(run) => render_check_run(out, run),
        Action::Artifact(artifact) => {
            let _ = writeln!(
                out,
                "       artifact {} ({} bytes, sha256 {})",
                artifact.name,
                artifact.size,
                &artifact.sha256[..12.min(artifact.sha256.len())]
            );
        }
        Action::KvSet { key, .. } => {
            let _ = writeln!(out, "       kv-set {key}");
        }
        Action::Fail { reason } => {
            let _ = writeln!(out, "       fail: {reason}");
        }
        Action::RegisterVersion(r) => {
            let version = r.version.clone().unwrap_or_else(|| {
                format!(
                    "next {}",
                    serde_json::json!(r.bump).as_str().unwrap_or("patch")
                )
            });
            let _ = writeln!(out, "       register-version {} {version}", r.name);
        }
        Action::AssignStage {
            name,
            version,
            stage,
        } => {
            let _ = writeln!(out, "       assign-stage {name} {version} {stage}");
        }
    }
}

fn render_check_run(out: &mut String, run: &CheckRun) {
    let conclusion = serde_json::to_value(run.conclusion)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "       check-run {}: {conclusion} · {}",
        run.name, run.title
    );
    for a in &run.annotations {
        let _ = writeln!(out, "         {}:{} {}", a.path, a.start_line, a.message);
    }
}

/// One line per run, newest first, for `andon runs`.
pub fn runs_text(runs: &[RunSummary]) -> String {
    let mut out = String::new();
    if runs.is_empty() {
        out.push_str("no runs recorded yet\n");
        return out;
    }
    let _ = writeln!(
        out,
        "{:>6}  {:<8}  {:<20}  {:<13}  {:<24}  {:>10}",
        "ID", "STATUS", "WORKFLOW", "EVENT", "REPOSITORY", "DURATION"
    );
    for r in runs {
        let _ = writeln!(
            out,
            "{:>6}  {:<8}  {:<20}  {:<13}  {:<24}  {:>7.1} ms",
            r.id,
            r.status.as_str(),
            r.workflow,
            r.event.as_str(),
            r.repository,
            r.duration_us as f64 / 1000.0
        );
    }
    out
}

/// One line per delivery, newest first, for `andon deliveries list`.
pub fn deliveries_text(deliveries: &[DeliveryRecord]) -> String {
    let mut out = String::new();
    if deliveries.is_empty() {
        out.push_str("no deliveries accepted yet\n");
        return out;
    }
    let _ = writeln!(
        out,
        "{:>6}  {:<38}  {:<20}  {:<8}  DETAIL",
        "SEQ", "DELIVERY", "EVENT", "STATE"
    );
    for d in deliveries {
        let (state, detail) = match &d.state {
            DeliveryState::Pending => (
                "pending",
                d.last_error
                    .as_deref()
                    .map(|e| format!("{} attempts, last: {e}", d.attempts))
                    .unwrap_or_default(),
            ),
            DeliveryState::Done { runs } => (
                "done",
                if runs.is_empty() {
                    String::new()
                } else {
                    format!(
                        "runs {}",
                        runs.iter()
                            .map(u64::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                },
            ),
            DeliveryState::Ignored { reason } => ("ignored", reason.clone()),
            DeliveryState::Failed { error } => ("failed", error.clone()),
        };
        let _ = writeln!(
            out,
            "{:>6}  {:<38}  {:<20}  {:<8}  {}",
            d.seq, d.id, d.event, state, detail
        );
    }
    out
}

/// What andon did (or will do) on GitHub for a run, for `andon runs show`.
pub fn outbox_text(items: &[OutboxItem]) -> String {
    let mut out = String::new();
    if items.is_empty() {
        return out;
    }
    out.push_str("on GitHub:\n");
    for item in items {
        let state = match &item.state {
            OutboxState::Pending => match &item.last_error {
                Some(error) => format!("pending (attempt {}: {error})", item.attempts),
                None => "pending".to_string(),
            },
            OutboxState::Done { detail } => format!("done: {detail}"),
            OutboxState::Failed { error } => format!("FAILED: {error}"),
        };
        let _ = writeln!(out, "  {:<17} {}", item.planned.effect.kind(), state);
    }
    out
}

/// The effects a replay would carry out.
pub fn effects_text(effects: &[PlannedEffect]) -> String {
    let mut out = String::new();
    for planned in effects {
        let what = match &planned.effect {
            Effect::CheckRunStart { name, .. } => format!("start check run `{name}`"),
            Effect::CheckRunFinish {
                name,
                conclusion,
                title,
                ..
            } => format!("finish check run `{name}`: {conclusion:?}, {title}"),
            Effect::StickyComment { number, marker, .. } => {
                format!("sticky comment `{marker}` on #{number}")
            }
            Effect::Reply { number, .. } => format!("reply on #{number}"),
            Effect::Label {
                number,
                label,
                present,
            } => format!(
                "{} label `{label}` on #{number}",
                if *present { "add" } else { "remove" }
            ),
            Effect::Reaction { content, .. } => format!("react {content}"),
            Effect::Tag { name, commit, .. } => {
                format!("create tag `{name}` on {}", &commit[..12.min(commit.len())])
            }
            Effect::CommitStatus {
                context,
                state,
                sha,
                ..
            } => format!(
                "set commit status `{context}` to {} on {}",
                state.as_str(),
                sha.chars().take(10).collect::<String>()
            ),
        };
        let _ = writeln!(out, "  would {what}");
    }
    out
}

/// The JSON `andon schedule list --format json` prints: each schedule with
/// its policy, last run and next fire time (as RFC 3339 in its zone and in
/// milliseconds).
pub fn schedules_json(schedules: &[ScheduleRecord]) -> Value {
    let list: Vec<Value> = schedules
        .iter()
        .map(|record| {
            let entry = &record.entry;
            let state = &record.state;
            let at = |ms: u64| format_instant(ms, &entry.timezone);
            json!({
                "id": entry.id,
                "repository": entry.repository,
                "workflow": entry.workflow,
                "file": entry.file,
                "cron": entry.cron,
                "timezone": entry.timezone,
                "policy": entry.policy,
                "report": entry.report,
                "next_fire": state.next_due_ms.map(at),
                "next_fire_ms": state.next_due_ms,
                "last_tick": state.last_tick_ms.map(at),
                "last_run": state.last_run.as_ref().map(|last| json!({
                    "tick": at(last.tick_ms),
                    "tick_ms": last.tick_ms,
                    "run": last.run,
                    "status": last.status,
                    "attempt": last.attempt,
                    "error": last.error,
                })),
                "pending": state.pending.iter().map(|p| json!({
                    "tick": at(p.tick_ms),
                    "tick_ms": p.tick_ms,
                    "attempt": p.attempt,
                    "running": p.running,
                    "not_before": at(p.not_before_ms),
                })).collect::<Vec<_>>(),
                "skipped": state.skipped,
                "last_skip": state.last_skip.as_ref().map(|skip| json!({
                    "tick": at(skip.tick_ms),
                    "reason": skip.reason,
                })),
            })
        })
        .collect();
    Value::Array(list)
}

/// A few lines per schedule, for `andon schedule list`.
pub fn schedules_text(schedules: &[ScheduleRecord]) -> String {
    let mut out = String::new();
    if schedules.is_empty() {
        out.push_str("no schedules: `andon serve` reads them from the workflows' `on.schedule`\n");
        return out;
    }
    for record in schedules {
        let entry = &record.entry;
        let state = &record.state;
        let policy = &entry.policy;
        let at = |ms: u64| format_instant(ms, &entry.timezone);
        let _ = writeln!(
            out,
            "{} · {} ({}#{})",
            entry.repository, entry.workflow, entry.file, entry.index
        );
        let _ = write!(
            out,
            "  cron `{}` in {} · missed: {}",
            entry.cron,
            entry.timezone,
            policy.missed.as_str()
        );
        if policy.missed == andon_core::schedule::Missed::All {
            let _ = write!(out, " (at most {})", policy.max_catchup);
        }
        let _ = write!(out, " · overlap: {}", policy.overlap.as_str());
        if policy.retries > 0 {
            let _ = write!(
                out,
                " · retries: {} ({} s backoff)",
                policy.retries,
                policy.retry_backoff_ms / 1000
            );
        }
        if let Some(deadline) = policy.deadline_ms {
            let _ = write!(out, " · deadline: {} s", deadline / 1000);
        }
        out.push('\n');
        match &state.last_run {
            Some(last) => {
                let _ = write!(out, "  last run: tick {}", at(last.tick_ms));
                if let Some(run) = last.run {
                    let _ = write!(out, " · run {run}");
                }
                let _ = write!(out, " · {}", last.status.as_str());
                if last.attempt > 1 {
                    let _ = write!(out, " · attempt {}", last.attempt);
                }
                if let Some(error) = &last.error {
                    let _ = write!(out, " · {error}");
                }
                out.push('\n');
            }
            None => out.push_str("  last run: none yet\n"),
        }
        for pending in &state.pending {
            let what = if pending.running {
                "running"
            } else if pending.attempt > 1 {
                "retrying"
            } else {
                "queued"
            };
            let _ = write!(out, "  {what}: tick {}", at(pending.tick_ms));
            if pending.attempt > 1 {
                let _ = write!(out, " · attempt {}", pending.attempt);
                if !pending.running {
                    let _ = write!(out, " at {}", at(pending.not_before_ms));
                }
            }
            out.push('\n');
        }
        if let Some(skip) = &state.last_skip {
            let _ = writeln!(
                out,
                "  skipped: {} in all, last tick {}: {}",
                state.skipped,
                at(skip.tick_ms),
                skip.reason
            );
        }
        let _ = writeln!(
            out,
            "  next fire: {}",
            state.next_due_ms.map_or_else(|| "never".to_string(), at)
        );
    }
    out
}
