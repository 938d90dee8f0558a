//! The dashboard's pages as functions of the store and the query: no axum
//! here, so that the benchmark renders the same pages in process.
//!
//! Every page is built with `maud`, which escapes every interpolated value:
//! workflow names, logs, branch names and comment bodies are user content.
//! No JavaScript and no external asset: the CSS is inline.

use std::collections::{BTreeMap, HashMap};

use andon_core::registry::{self, ArtifactState, IndexedTag};
use andon_core::render::cut;
use andon_core::run::{RunRecord, Status, StepRecord};
use andon_store::{
    CheckPoint, DeliveryQuery, DeliveryState, InboxStore, LineageStore, OutboxItem, OutboxState,
    OutboxStore, RegistryIndex, RunFacet, RunQuery, RunStore, RunSummary, ScheduleStore, Store,
    StoreError,
};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::chart::{self, Point};
use crate::activity::ActiveRun;

/// A rendered page: its HTTP status and HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub status: u16,
    pub html: String,
}

/// The query string, already decoded.
pub type Params = HashMap<String, String>;

/// Runs per page of the runs list.
const PAGE_SIZE: usize = 50;
/// Check points charted on a dataset's page.
const HISTORY: usize = 200;
/// Deliveries and outbox items on the inbox and outbox page.
const RECENT: usize = 50;
/// The auto-refresh periods offered, in seconds; `?refresh=N` takes any
/// period in [`REFRESH_BOUNDS`].
const REFRESH_CHOICES: [u32; 3] = [10, 30, 60];
const REFRESH_BOUNDS: std::ops::RangeInclusive<u32> = 5..=3600;

const STYLE: &str = "
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1f2328;background:#f6f8fa}
nav{background:#24292f;padding:.6em 1.2em}nav a{color:#fff;margin-right:1.2em;text-decoration:none;font-weight:600}
nav a.here{text-decoration:underline}
main{padding:1em 1.5em;max-width:1400px}
h1{font-size:1.5em;margin:.3em 0 .6em}h2{font-size:1.15em;margin:1.4em 0 .5em}
table{border-collapse:collapse;background:#fff;margin:.4em 0 1em}th,td{border:1px solid #d0d7de;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#eaeef2}td.num{text-align:right;font-variant-numeric:tabular-nums}
pre{background:#fff;border:1px solid #d0d7de;padding:.6em;overflow:auto;max-height:30em;white-space:pre-wrap;word-break:break-word}
.badge{display:inline-block;padding:0 .5em;border-radius:1em;font-size:.85em;font-weight:600;color:#fff;background:#6e7781}
.success,.done,.pass{background:#1a7f37}.failure,.failed,.fail,.error{background:#cf222e}.warn,.pending,.running{background:#9a6700}.skipped,.ignored{background:#6e7781}
form#filters{margin:.5em 0 1em}form#filters label{margin-right:1em}
.timeline{background:#fff;border:1px solid #d0d7de;padding:.5em;margin:.5em 0 1em}
.bar-row{display:flex;align-items:center;margin:.15em 0}.bar-label{width:14em;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.bar-track{flex:1;position:relative;height:1.1em;background:#f6f8fa}.bar{position:absolute;height:100%;min-width:2px}
.muted{color:#656d76}.paging a{margin-right:1em}
svg.chart{background:#fff;border:1px solid #d0d7de;margin:.3em 1em .8em 0}
svg.chart text{font-size:11px;fill:#1f2328}
.charts{display:flex;flex-wrap:wrap}.charts figure{margin:0}.charts figcaption{font-weight:600}
";

/// The sections, for the nav.
const NAV: [(&str, &str); 5] = [
    ("/", "Runs"),
    ("/schedules", "Schedules"),
    ("/data", "Data"),
    ("/models", "Models"),
    ("/inbox", "Inbox/Outbox"),
];

fn layout(here: &str, title: &str, refresh: Option<u32>, body: Markup) -> String {
    // Already rendered (and escaped) by `html!`.
    let body = PreEscaped(body.into_string());
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                // The browser reloads the same URL: no JavaScript needed.
                @if let Some(seconds) = refresh {
                    meta http-equiv="refresh" content=(seconds);
                }
                title { (title) " · andon" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                nav {
                    @for (href, name) in NAV {
                        a href=(href) class=[(href == here).then_some("here")] { (name) }
                    }
                }
                main { (body) }
            }
        }
    }
    .into_string()
}

fn page(here: &str, title: &str, body: Markup) -> Page {
    refreshing_page(here, title, None, body)
}

/// A page that reloads itself every `refresh` seconds when set.
fn refreshing_page(here: &str, title: &str, refresh: Option<u32>, body: Markup) -> Page {
    Page {
        status: 200,
        html: layout(here, title, refresh, body),
    }
}

/// `?refresh=N`: none, or a period in [`REFRESH_BOUNDS`]; anything else
/// is answered with a 400 page saying what is accepted.
fn refresh_param(params: &Params) -> Result<Option<u32>, Page> {
    let Some(text) = param(params, "refresh") else {
        return Ok(None);
    };
    match text.parse::<u32>() {
        Ok(0) => Ok(None),
        Ok(seconds) if REFRESH_BOUNDS.contains(&seconds) => Ok(Some(seconds)),
        _ => Err(problem(
            400,
            "Bad request",
            &format!(
                "`refresh` is a number of seconds from {} to {} (0 or nothing: off)",
                REFRESH_BOUNDS.start(),
                REFRESH_BOUNDS.end()
            ),
        )),
    }
}

/// Links that switch auto-refresh of `path` off or to one of the offered
/// periods, the current one marked.
fn refresh_links(path: &str, refresh: Option<u32>) -> Markup {
    html! {
        p.refresh.muted {
            "Auto-refresh: "
            @if refresh.is_none() { strong { "off" } } @else { a href=(path) { "off" } }
            @for seconds in REFRESH_CHOICES {
                " · "
                @if refresh == Some(seconds) { strong { (seconds) " s" } }
                @else { a href={ (path) "?refresh=" (seconds) } { (seconds) " s" } }
            }
        }
    }
}

/// A page saying what went wrong, with its status.
pub fn problem(status: u16, title: &str, detail: &str) -> Page {
    Page {
        status,
        html: layout(
            "",
            title,
            None,
            html! { h1 { (title) } p { (detail) } p { a href="/" { "Back to the runs" } } },
        ),
    }
}

fn store_problem(error: &StoreError) -> Page {
    problem(500, "Store error", &error.to_string())
}

/// Milliseconds since the epoch as `2026-11-23 16:21:43 UTC`.
pub fn utc(ms: u64) -> String {
    i64::try_from(ms)
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map_or_else(
            || ms.to_string(),
            |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        )
}

/// Microseconds as people read them: `850 µs`, `12.3 ms`, `4.56 s`, `3m 05s`.
pub fn duration(us: u64) -> String {
    match us {
        0..1_000 => format!("{us} µs"),
        1_000..1_000_000 => format!("{:.1} ms", us as f64 / 1e3),
        1_000_000..60_000_000 => format!("{:.2} s", us as f64 / 1e6),
        _ => format!("{}m {:02}s", us / 60_000_000, (us / 1_000_000) % 60),
    }
}

fn bytes(n: u64) -> String {
    match n {
        0..1024 => format!("{n} B"),
        1024..1_048_576 => format!("{:.1} KiB", n as f64 / 1024.0),
        _ => format!("{:.1} MiB", n as f64 / 1_048_576.0),
    }
}

fn badge(text: &str) -> Markup {
    html! { span class={ "badge " (text) } { (text) } }
}

fn pr_link(repository: &str, number: Option<u64>) -> Markup {
    html! {
        @if let Some(n) = number {
            a href={ "https://github.com/" (repository) "/pull/" (n) } { "#" (n) }
        }
    }
}

fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// `/`: the runs under way (`active`), then the recorded runs, newest
/// first, filtered by repository, workflow and status, paged by
/// `?before=ID`.
pub fn runs(store: &Store, params: &Params, active: &[ActiveRun]) -> Page {
    match runs_page(store, params, active) {
        Ok(page) => page,
        Err(error) => store_problem(&error),
    }
}

fn runs_page(store: &Store, params: &Params, active: &[ActiveRun]) -> Result<Page, StoreError> {
    let repository = param(params, "repository");
    let workflow = param(params, "workflow");
    let status_text = param(params, "status");
    let status = status_text.and_then(Status::parse);
    if status_text.is_some() && status.is_none() {
        return Ok(problem(400, "Bad request", "unknown status"));
    }
    let refresh = match refresh_param(params) {
        Ok(refresh) => refresh,
        Err(page) => return Ok(page),
    };
    let before = match param(params, "before").map(str::parse::<u64>) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => return Ok(problem(400, "Bad request", "`before` must be a run id")),
    };
    let query = RunQuery {
        limit: PAGE_SIZE,
        workflow: workflow.map(str::to_string),
        status,
        repository: repository.map(str::to_string),
        before,
    };
    let found = store.runs(&query)?;
    let repositories = store.run_facet_values(RunFacet::Repository)?;
    let workflows = store.run_facet_values(RunFacet::Workflow)?;
    let statuses = store.run_facet_values(RunFacet::Status)?;
    let filters = |extra: Option<(&str, String)>| {
        let mut pairs: Vec<(&str, String)> = [
            ("repository", repository),
            ("workflow", workflow),
            ("status", status_text),
            ("refresh", refresh.map(|s| s.to_string()).as_deref()),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?.to_string())))
        .collect();
        pairs.extend(extra);
        query_string(&pairs)
    };
    let older = (found.len() == PAGE_SIZE)
        .then(|| {
            found
                .last()
                .map(|last| filters(Some(("before", last.id.to_string()))))
        })
        .flatten();
    let body = html! {
        h1 { "Runs" }
        form id="filters" method="get" action="/" {
            (select("repository", "Repository", &repositories, repository))
            (select("workflow", "Workflow", &workflows, workflow))
            (select("status", "Status", &statuses, status_text))
            label {
                "Auto-refresh "
                select name="refresh" {
                    option value="" { "off" }
                    @for seconds in REFRESH_CHOICES {
                        option value=(seconds) selected[refresh == Some(seconds)] { (seconds) " s" }
                    }
                    @if let Some(other) = refresh.filter(|r| !REFRESH_CHOICES.contains(r)) {
                        option value=(other) selected { (other) " s" }
                    }
                }
            }
            button type="submit" { "Filter" }
            " " a href="/" { "Clear" }
        }
        // Runs under way have no status yet: on the first page, unless a
        // status is asked for.
        @if before.is_none() && status.is_none() {
            (active_table(active, repository, workflow))
        }
        @if found.is_empty() {
            p.muted { "No runs match." }
        } @else {
            (runs_table(&found))
        }
        p.paging {
            @if before.is_some() { a href={ "/" (filters(None)) } { "Newest" } }
            @if let Some(older) = older { a href={ "/" (older) } { "Older" } }
        }
    };
    Ok(refreshing_page("/", "Runs", refresh, body))
}

/// The runs under way that match the filters, the oldest first, with the
/// step each is on and how long it has been running.
fn active_table(active: &[ActiveRun], repository: Option<&str>, workflow: Option<&str>) -> Markup {
    let shown: Vec<&ActiveRun> = active
        .iter()
        .filter(|run| repository.is_none_or(|r| r == run.repository))
        .filter(|run| workflow.is_none_or(|w| w == run.workflow))
        .collect();
    html! {
        @if !shown.is_empty() {
            h2 { "In progress (" (shown.len()) ")" }
            table id="in-progress" {
                thead { tr {
                    th { "Status" } th { "Workflow" } th { "Repository" } th { "Event" } th { "PR" }
                    th { "Started (UTC)" } th { "Running for" } th { "Step" }
                } }
                tbody {
                    @for run in shown {
                        tr {
                            td { (badge("running")) }
                            td { (run.workflow) }
                            td { (run.repository) }
                            td { (run.event) }
                            td { (pr_link(&run.repository, run.number)) }
                            td { (utc(run.started_at_ms)) }
                            td.num { (duration(run.running_for_us)) }
                            td {
                                @if let Some((id, plugin)) = run.steps.get(run.current) {
                                    (run.current + 1) " of " (run.steps.len()) ": " strong { (id) } " "
                                    span.muted { "(" (plugin) ")" }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "Recorded" }
        }
    }
}

fn select(name: &str, label: &str, values: &[String], chosen: Option<&str>) -> Markup {
    html! {
        label {
            (label) " "
            select name=(name) {
                option value="" { "any" }
                @for value in values {
                    option value=(value) selected[chosen == Some(value.as_str())] { (value) }
                }
                // A value no run has (yet) stays chosen.
                @if let Some(chosen) = chosen.filter(|c| !values.iter().any(|v| v == c)) {
                    option value=(chosen) selected { (chosen) }
                }
            }
        }
    }
}

fn runs_table(runs: &[RunSummary]) -> Markup {
    html! {
        table id="runs" {
            thead { tr {
                th { "Run" } th { "Status" } th { "Workflow" } th { "Repository" }
                th { "Event" } th { "PR" } th { "Started (UTC)" } th { "Duration" } th { "Steps" }
            } }
            tbody {
                @for run in runs {
                    tr {
                        td { (run_link(run.id)) }
                        td { (badge(run.status.as_str())) }
                        td { (run.workflow) }
                        td { (run.repository) }
                        td { (run.event.as_str()) }
                        td { (pr_link(&run.repository, run.number)) }
                        td { (utc(run.started_at_ms)) }
                        td.num { (duration(run.duration_us)) }
                        td.num { (run.step_count) }
                    }
                }
            }
        }
    }
}

/// `?a=1&b=2`, percent-encoded; empty without pairs.
pub fn query_string(pairs: &[(&str, String)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let encoded: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    format!("?{}", encoded.join("&"))
}

fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `/runs/{id}`: one run with its event, steps and actions.
pub fn run(store: &Store, id: &str) -> Page {
    let Ok(id) = id.parse::<u64>() else {
        return problem(400, "Bad request", "a run id is a number");
    };
    let found = store.run(id).and_then(|run| {
        Ok(match run {
            Some(run) => Some((run, store.outbox_for_run(id)?)),
            None => None,
        })
    });
    match found {
        Ok(Some((run, outbox))) => {
            // Runs record their delivery; older records are found
            // through their effects, when they made any.
            let delivery = run
                .delivery
                .or_else(|| outbox.iter().find_map(|item| item.delivery))
                .and_then(|seq| store.delivery(seq).ok().flatten());
            page(
                "/",
                &format!("Run #{id}"),
                run_body(&run, &outbox, delivery.as_ref().map(|d| d.id.as_str())),
            )
        }
        Ok(None) => problem(404, "Not found", &format!("there is no run #{id}")),
        Err(error) => store_problem(&error),
    }
}

fn run_body(run: &RunRecord, outbox: &[OutboxItem], delivery: Option<&str>) -> Markup {
    let event = &run.event;
    html! {
        h1 { "Run #" (run.id) }
        p { (badge(run.status.as_str())) " " strong { (run.workflow) } " on " (event.repository)
            " · started " (utc(run.started_at_ms)) " · " (duration(run.duration_us)) }
        h2 { "Event" }
        table.event {
            tr { th { "Kind" } td { (event.kind.as_str()) @if let Some(a) = &event.action { " (" (a) ")" } } }
            tr { th { "Repository" } td { (event.repository) } }
            @if event.number.is_some() {
                tr { th { "Pull request" } td { (pr_link(&event.repository, event.number))
                    @if let Some(t) = &event.title { " " (t) } } }
            }
            @if let Some(b) = &event.branch { tr { th { "Branch" } td { (b) } } }
            tr { th { "Head" } td { code { (event.head) } } }
            @if let Some(b) = &event.base { tr { th { "Base" } td { code { (b) } } } }
            @if let Some(a) = &event.author { tr { th { "Sender" } td { (a)
                @if let Some(assoc) = &event.author_association { " (" (assoc) ")" } } } }
            @if let Some(c) = &event.command { tr { th { "Command" } td { "/" (c) " " (event.args.join(" ")) } } }
            @if let Some(d) = delivery { tr { th { "Delivery" } td { code { (d) } } } }
        }
        h2 { "Timeline" }
        (timeline(&run.steps))
        h2 { "Steps" }
        @for step in &run.steps { (step_section(step)) }
        h2 { "Outcomes on GitHub" }
        @if outbox.is_empty() {
            p.muted { "No effects for this run." }
        } @else {
            (outbox_table(outbox, false))
        }
    }
}

/// The steps as bars on one time axis, Dagster-like: each starts where
/// the previous ended (steps run one after another).
fn timeline(steps: &[StepRecord]) -> Markup {
    let total = steps.iter().map(|s| s.duration_us).sum::<u64>().max(1) as f64;
    let bars = steps.iter().scan(0u64, |start, step| {
        let left = *start as f64 * 100.0 / total;
        *start += step.duration_us;
        Some((step, left, step.duration_us as f64 * 100.0 / total))
    });
    html! {
        div.timeline {
            @for (step, left, width) in bars {
                div.bar-row {
                    span.bar-label { a href={ "#step-" (step.id) } { (step.id) } }
                    span.bar-track {
                        span class={ "bar " (step.status.as_str()) }
                            style=(format!("left:{left:.2}%;width:{width:.2}%"))
                            title={ (step.id) ": " (duration(step.duration_us)) } {}
                    }
                    span.muted { " " (duration(step.duration_us)) }
                }
            }
        }
    }
}

fn step_section(step: &StepRecord) -> Markup {
    html! {
        section.step id={ "step-" (step.id) } {
            h3 { (step.id) " " (badge(step.status.as_str())) }
            table {
                tr { th { "Plugin" } td { (step.plugin) @if let Some(v) = &step.plugin_version { " " (v) } } }
                tr { th { "Duration" } td { (duration(step.duration_us)) } }
                tr { th { "Fuel" } td { @if let Some(f) = step.fuel_used { (f) } @else { "–" } } }
                tr { th { "Memory" } td { (bytes(step.memory_peak)) } }
                @if let Some(e) = &step.error { tr { th { "Error" } td { (e) } } }
            }
            @if !step.log.is_empty() { h4 { "Log" } pre.log { (step.log) } }
            @if !step.outputs.is_empty() {
                h4 { "Outputs" }
                table {
                    @for (name, value) in &step.outputs {
                        tr { th { (name) } td { code { (cut(&value.to_string(), 2_000)) } } }
                    }
                }
            }
            @if !step.actions.is_empty() {
                h4 { "Actions" }
                table.actions {
                    @for action in &step.actions {
                        tr { td { (action.kind()) } td { code { (action_detail(action)) } } }
                    }
                }
            }
            @if !step.denied.is_empty() {
                h4 { "Denied actions" }
                table.denied {
                    @for denied in &step.denied {
                        tr { td { (denied.action.kind()) } td { code { (action_detail(&denied.action)) } } td { (denied.reason) } }
                    }
                }
            }
        }
    }
}

fn action_detail(action: &impl serde::Serialize) -> String {
    cut(&serde_json::to_string(action).unwrap_or_default(), 600)
}

fn outbox_state(state: &OutboxState) -> (&'static str, &str) {
    match state {
        OutboxState::Pending => ("pending", ""),
        OutboxState::Done { detail } => ("done", detail),
        OutboxState::Failed { error } => ("failed", error),
    }
}

fn outbox_table(items: &[OutboxItem], with_run: bool) -> Markup {
    html! {
        table.outbox {
            thead { tr {
                th { "#" } @if with_run { th { "Run" } } th { "Effect" } th { "Repository" }
                th { "State" } th { "Attempts" } th { "Detail or error" } th { "Created (UTC)" }
            } }
            tbody {
                @for item in items {
                    @let (state, detail) = outbox_state(&item.state);
                    tr {
                        td.num { (item.seq) }
                        @if with_run { td { @if let Some(r) = item.run { (run_link(r)) } } }
                        td { (item.planned.effect.kind()) }
                        td { (item.planned.repository) }
                        td { (badge(state)) }
                        td.num { (item.attempts) }
                        td { (detail) @if let Some(e) = &item.last_error { @if detail.is_empty() { (e) } } }
                        td { (utc(item.created_at_ms)) }
                    }
                }
            }
        }
    }
}

/// `/schedules`: every schedule with its last and next fire.
pub fn schedules(store: &Store) -> Page {
    let records = match store.schedules() {
        Ok(records) => records,
        Err(error) => return store_problem(&error),
    };
    let body = html! {
        h1 { "Schedules" }
        @if records.is_empty() { p.muted { "No schedules." } } @else {
            table id="schedules" {
                thead { tr {
                    th { "Repository" } th { "Workflow" } th { "Cron" } th { "Time zone" }
                    th { "Last fire" } th { "Last run" } th { "Next fire (UTC)" } th { "Overlap" }
                    th { "Missed" } th { "Skipped" } th { "Last error" }
                } }
                tbody {
                    @for r in &records {
                        tr {
                            td { (r.entry.repository) }
                            td { (r.entry.workflow) br; span.muted { (r.entry.file) } }
                            td { code { (r.entry.cron) } }
                            td { (r.entry.timezone) }
                            td { @if let Some(t) = r.state.last_tick_ms { (utc(t)) } @else { "never" } }
                            td { @if let Some(last) = &r.state.last_run {
                                @if let Some(id) = last.run { (run_link(id)) " " }
                                (badge(last.status.as_str()))
                            } }
                            td { @if let Some(t) = r.state.next_due_ms { (utc(t)) } @else { "none" } }
                            td { (r.entry.policy.overlap.as_str()) }
                            td { (r.entry.policy.missed.as_str()) }
                            td.num { (r.state.skipped) }
                            td {
                                @if let Some(e) = r.state.last_run.as_ref().and_then(|l| l.error.as_ref()) { (e) }
                                @if let Some(s) = &r.state.last_skip { br; span.muted { "skipped " (utc(s.tick_ms)) ": " (s.reason) } }
                            }
                        }
                    }
                }
            }
        }
    };
    page("/schedules", "Schedules", body)
}

/// `/data`: each dataset's latest check; `?dataset=D[&repository=R]`: its
/// history, with a chart per metric.
pub fn data(store: &Store, params: &Params) -> Page {
    let result = match param(params, "dataset") {
        Some(dataset) => dataset_page(store, dataset, param(params, "repository")),
        None => store.check_datasets().map(|latest| datasets_page(&latest)),
    };
    result.unwrap_or_else(|error| store_problem(&error))
}

/// `#ID`, linked to the run's page.
fn run_link(id: u64) -> Markup {
    html! { a href={ "/runs/" (id) } { "#" (id) } }
}

/// A check's rows, passed, warned and failed, one cell each.
fn summary_cells(point: &CheckPoint) -> Markup {
    html! {
        @for key in ["rows", "passed", "warned", "failed"] {
            td.num { (summary_value(point, key)) }
        }
    }
}

fn summary_value(point: &CheckPoint, key: &str) -> String {
    point
        .summary
        .get(key)
        .map_or_else(|| "–".to_string(), |v| number(*v))
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.3}")
    }
}

fn dataset_href(point: &CheckPoint) -> String {
    format!(
        "/data{}",
        query_string(&[
            ("dataset", point.dataset.clone()),
            ("repository", point.repository.clone()),
        ])
    )
}

fn datasets_page(latest: &[CheckPoint]) -> Page {
    let body = html! {
        h1 { "Data checks" }
        p.muted { "Any step whose outputs hold a " code { "summary" } " object with a string "
            code { "dataset" } " is charted here (the data-check plugin does)." }
        @if latest.is_empty() { p.muted { "No data checks yet." } } @else {
            table id="datasets" {
                thead { tr { th { "Dataset" } th { "Repository" } th { "Latest run" } th { "Status" }
                    th { "Rows" } th { "Passed" } th { "Warned" } th { "Failed" } th { "Checked (UTC)" } } }
                tbody {
                    @for p in latest {
                        tr {
                            td { a href=(dataset_href(p)) { (p.dataset) } }
                            td { (p.repository) }
                            td { (run_link(p.run)) }
                            td { (badge(p.status.as_str())) }
                            (summary_cells(p))
                            td { (utc(p.started_at_ms)) }
                        }
                    }
                }
            }
        }
    };
    page("/data", "Data checks", body)
}

fn dataset_page(
    store: &Store,
    dataset: &str,
    repository: Option<&str>,
) -> Result<Page, StoreError> {
    let mut points = store.check_history(dataset, repository, HISTORY)?;
    if points.is_empty() {
        return Ok(problem(
            404,
            "Not found",
            &format!("no data checks of {dataset}"),
        ));
    }
    points.reverse();
    let series = metric_series(&points);
    let body = html! {
        h1 { "Data checks: " (dataset) }
        p.muted { (points[0].repository) " · " (points.len()) " checks, oldest first in the charts" }
        div.charts {
            @for (name, values) in &series {
                figure { figcaption { (name) } (chart::line(name, values)) }
            }
        }
        h2 { "Runs" }
        table id="history" {
            thead { tr { th { "Run" } th { "Step" } th { "Status" } th { "Rows" } th { "Passed" }
                th { "Warned" } th { "Failed" } th { "Checked (UTC)" } } }
            tbody {
                @for p in points.iter().rev() {
                    tr {
                        td { (run_link(p.run)) }
                        td { (p.step) }
                        td { (badge(p.status.as_str())) }
                        (summary_cells(p))
                        td { (utc(p.started_at_ms)) }
                    }
                }
            }
        }
    };
    Ok(page("/data", "Data checks", body))
}

/// Each metric's points over time: the summary's counts first, then per
/// check its failed percentage and its numeric observation, in the order
/// the checks come.
fn metric_series(points: &[CheckPoint]) -> Vec<(String, Vec<Point>)> {
    let mut series: Vec<(String, Vec<Point>)> = Vec::new();
    let mut place: HashMap<String, usize> = HashMap::new();
    let mut add = |name: String, point: &CheckPoint, value: f64| {
        let at = *place.entry(name.clone()).or_insert_with(|| {
            series.push((name, Vec::new()));
            series.len() - 1
        });
        series[at].1.push(Point {
            time_ms: point.started_at_ms,
            value,
            run: point.run,
            status: point.status,
        });
    };
    for key in ["rows", "passed", "warned", "failed"] {
        for point in points {
            if let Some(v) = point.summary.get(key) {
                add(key.to_string(), point, *v);
            }
        }
    }
    for point in points {
        for metric in &point.results {
            if let Some(v) = metric.failed_percent {
                add(format!("{}: failed %", metric.label), point, v);
            }
            if let Some(v) = metric.observed {
                add(format!("{}: observed", metric.label), point, v);
            }
        }
    }
    series
}

/// `/models`: per repository, models by stage and versions with lineage.
pub fn models(store: &Store) -> Page {
    let repositories = match store.registry_repositories() {
        Ok(repositories) => repositories,
        Err(error) => return store_problem(&error),
    };
    let mut sections = Vec::new();
    for repository in &repositories {
        match store.registry_tags(repository) {
            Ok(tags) => sections.push((repository, registry::registry_of(&tags), tags)),
            Err(error) => return store_problem(&error),
        }
    }
    let artifacts = store.artifact_summaries().unwrap_or_default();
    let body = html! {
        h1 { "Models" }
        @if sections.is_empty() { p.muted { "No model registry indexed yet." } }
        @for (repository, models, tags) in &sections {
            h2 { (repository) }
            (stage_table(models))
            @for (name, state) in models.iter() {
                (versions_table(name, state, tags))
            }
        }
        h2 { "Artifacts" }
        @if artifacts.is_empty() { p.muted { "No artifacts stored." } } @else {
            table id="artifacts" {
                thead { tr { th { "Name" } th { "Versions" } th { "Latest" } th { "Size" } th { "Run" } th { "Step" } th { "Stored (UTC)" } } }
                tbody { @for a in &artifacts { tr {
                    td { (a.name) } td.num { (a.versions) }
                    td { code { (a.latest.sha256.get(..12).unwrap_or(&a.latest.sha256)) } }
                    td.num { (bytes(a.latest.size)) }
                    td { (run_link(a.latest.run_id)) }
                    td { (a.latest.step) " (" (a.latest.plugin) ")" }
                    td { (utc(a.latest.created_at_ms)) }
                } } }
            }
        }
    };
    page("/models", "Models", body)
}

fn stage_table(models: &BTreeMap<String, ArtifactState>) -> Markup {
    let mut stages: Vec<String> = models
        .values()
        .flat_map(|m| m.stages().into_keys())
        .collect();
    stages.sort();
    stages.dedup();
    html! {
        table.stages {
            thead { tr { th { "Model" } th { "Latest" } @for s in &stages { th { (s) } } } }
            tbody { @for (name, state) in models { @let by_stage = state.stages(); tr {
                td { (name) @if state.deprecated { " " span.muted { "(deprecated)" } } }
                td { @if let Some(v) = state.latest() { (v.version.to_string()) } }
                @for s in &stages { td { @if let Some(v) = by_stage.get(s) { (v.version.to_string()) } } }
            } } }
        }
    }
}

fn versions_table(name: &str, state: &ArtifactState, _tags: &[IndexedTag]) -> Markup {
    html! {
        h3 { (name) }
        table.versions {
            thead { tr { th { "Version" } th { "Stages" } th { "Commit" } th { "Registered by" }
                th { "When (UTC)" } th { "Run" } th { "Lineage" } } }
            tbody { @for v in &state.versions {
                @let lineage = v.lineage();
                @let who = v.registration().map(|e| format!("{} <{}>", e.author, e.author_email));
                tr {
                    td { (v.version.to_string()) @if !v.registered { " " span.muted { "(deregistered)" } } }
                    td { (state.stages_of(&v.version).join(", ")) }
                    td { code { (v.commit.get(..12).unwrap_or(&v.commit)) } }
                    td { (who.unwrap_or_default()) }
                    td { (utc(u64::try_from(v.registered_at).unwrap_or(0).saturating_mul(1000))) }
                    td { @match lineage.run.as_deref().map(str::parse::<u64>) {
                        Some(Ok(id)) => (run_link(id)),
                        _ => (lineage.run.as_deref().unwrap_or("")),
                    } @if let Some(w) = &lineage.workflow { " " (w) } }
                    td {
                        @if let Some(p) = &lineage.path { code { (p) } " " }
                        @if let Some(h) = &lineage.sha256 { "sha256 " code { (h.get(..12).unwrap_or(h)) } " " }
                        @if let Some(m) = &lineage.metrics { br; code { (cut(m, 300)) } }
                    }
                }
            } }
        }
    }
}

/// `/inbox` and `/outbox`: their depth, recent deliveries and effects.
pub fn inbox(store: &Store, params: &Params) -> Page {
    let refresh = match refresh_param(params) {
        Ok(refresh) => refresh,
        Err(page) => return page,
    };
    let read = || -> Result<_, StoreError> {
        Ok((
            store.inbox_depth()?,
            store.outbox_depth()?,
            store.deliveries(&DeliveryQuery {
                limit: RECENT,
                ..DeliveryQuery::default()
            })?,
            store.outbox_items(RECENT, None)?,
        ))
    };
    let (inbox_depth, outbox_depth, deliveries, items) = match read() {
        Ok(found) => found,
        Err(error) => return store_problem(&error),
    };
    let body = html! {
        h1 { "Inbox and outbox" }
        (refresh_links("/inbox", refresh))
        p { "Inbox depth: " strong id="inbox-depth" { (inbox_depth) } " · Outbox depth: " strong id="outbox-depth" { (outbox_depth) } }
        h2 { "Recent deliveries" }
        @if deliveries.is_empty() { p.muted { "No deliveries." } } @else {
            table id="deliveries" {
                thead { tr { th { "#" } th { "Delivery id" } th { "Event" } th { "Received (UTC)" }
                    th { "Size" } th { "State" } th { "Attempts" } th { "Runs or reason" } th { "Last error" } } }
                tbody { @for d in &deliveries { tr {
                    td.num { (d.seq) }
                    td { code { (d.id) } }
                    td { (d.event) }
                    td { (utc(d.received_at_ms)) }
                    td.num { (bytes(d.size)) }
                    td { (badge(delivery_state(&d.state))) }
                    td.num { (d.attempts) }
                    td { @match &d.state {
                        DeliveryState::Done { runs } => { @for r in runs { (run_link(*r)) " " } },
                        DeliveryState::Ignored { reason } => (reason),
                        DeliveryState::Failed { error } => (error),
                        DeliveryState::Pending => "",
                    } }
                    td { (d.last_error.as_deref().unwrap_or("")) }
                } } }
            }
        }
        h2 { "Outbox" }
        @if items.is_empty() { p.muted { "No effects." } } @else { (outbox_table(&items, true)) }
    };
    refreshing_page("/inbox", "Inbox and outbox", refresh, body)
}

fn delivery_state(state: &DeliveryState) -> &'static str {
    match state {
        DeliveryState::Pending => "pending",
        DeliveryState::Done { .. } => "done",
        DeliveryState::Ignored { .. } => "ignored",
        DeliveryState::Failed { .. } => "failed",
    }
}

#[cfg(test)]
mod tests {
    use andon_core::{Event, EventKind};

    use super::*;

    const HOSTILE: &str = "<script>alert(1)</script>";

    fn hostile_run() -> RunRecord {
        let mut event = Event::new(EventKind::PullRequest, "acme/widgets", "a".repeat(40));
        event.number = Some(7);
        event.branch = Some(HOSTILE.into());
        event.title = Some(HOSTILE.into());
        let mut step = StepRecord::not_run("lint", "size", Status::Failure, HOSTILE);
        step.log = format!("info: {HOSTILE}\n");
        step.duration_us = 1_500;
        RunRecord {
            id: 0,
            workflow: HOSTILE.into(),
            event,
            started_at_ms: 1_763_900_000_000,
            duration_us: 1_500,
            status: Status::Failure,
            steps: vec![step],
            delivery: None,
        }
    }

    #[test]
    fn user_content_is_escaped_on_every_page_that_shows_it() {
        let store = Store::open_temporary().expect("store");
        store
            .record_run(&mut hostile_run(), &[])
            .expect("record run");
        let list = runs(&store, &Params::new(), &[]);
        let detail = run(&store, "1");
        let filtered = runs(
            &store,
            &Params::from([("workflow".to_string(), HOSTILE.to_string())]),
            &[],
        );
        for page in [&list, &detail, &filtered] {
            assert_eq!(page.status, 200);
            assert!(!page.html.contains("<script"), "{}", page.html);
            assert!(page.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        }
        assert!(filtered.html.contains("href=\"/runs/1\""));
        // The filter's links keep the value, percent-encoded.
        assert_eq!(
            query_string(&[("workflow", HOSTILE.to_string())]),
            "?workflow=%3Cscript%3Ealert%281%29%3C/script%3E"
        );
    }

    #[test]
    fn bad_ids_and_queries_are_answered_not_panicked() {
        let store = Store::open_temporary().expect("store");
        assert_eq!(run(&store, "x").status, 400);
        assert_eq!(run(&store, "-1").status, 400);
        assert_eq!(run(&store, "99999999999999999999").status, 400);
        assert_eq!(run(&store, "42").status, 404);
        let odd = |k: &str, v: &str| Params::from([(k.to_string(), v.to_string())]);
        assert_eq!(runs(&store, &odd("before", "nope"), &[]).status, 400);
        assert_eq!(runs(&store, &odd("status", "sideways"), &[]).status, 400);
        assert_eq!(runs(&store, &odd("before", "0"), &[]).status, 200);
        assert_eq!(data(&store, &odd("dataset", "missing.csv")).status, 404);
        assert_eq!(data(&store, &Params::new()).status, 200);
        assert_eq!(schedules(&store).status, 200);
        assert_eq!(models(&store).status, 200);
        assert_eq!(inbox(&store, &Params::new()).status, 200);
        for bad in ["2", "3601", "soon", "-10"] {
            assert_eq!(runs(&store, &odd("refresh", bad), &[]).status, 400, "{bad}");
            assert_eq!(inbox(&store, &odd("refresh", bad)).status, 400, "{bad}");
        }
    }

    #[test]
    fn pages_refresh_themselves_only_when_asked() {
        let store = Store::open_temporary().expect("store");
        store
            .record_run(&mut hostile_run(), &[])
            .expect("record run");
        let with = |k: &str, v: &str| Params::from([(k.to_string(), v.to_string())]);
        let meta = |seconds: u32| format!("<meta http-equiv=\"refresh\" content=\"{seconds}\">");
        let still = runs(&store, &Params::new(), &[]);
        assert!(!still.html.contains("http-equiv"), "{}", still.html);
        let live = runs(&store, &with("refresh", "30"), &[]);
        assert!(live.html.contains(&meta(30)), "{}", live.html);
        // The form keeps the period chosen; 0 is off.
        assert!(
            live.html
                .contains("<option value=\"30\" selected>30 s</option>")
        );
        assert!(
            !runs(&store, &with("refresh", "0"), &[])
                .html
                .contains("http-equiv")
        );
        let odd = runs(&store, &with("refresh", "45"), &[]);
        assert!(odd.html.contains(&meta(45)));
        assert!(
            odd.html
                .contains("<option value=\"45\" selected>45 s</option>")
        );
        let inbox_page = inbox(&store, &with("refresh", "10"));
        assert!(inbox_page.html.contains(&meta(10)));
        assert!(inbox_page.html.contains("<strong>10 s</strong>"));
        assert!(inbox_page.html.contains("href=\"/inbox?refresh=60\""));
        assert!(!inbox(&store, &Params::new()).html.contains("http-equiv"));
    }

    #[test]
    fn runs_under_way_are_shown_above_the_recorded_ones() {
        let store = Store::open_temporary().expect("store");
        store
            .record_run(&mut hostile_run(), &[])
            .expect("record run");
        let under_way = |workflow: &str, repository: &str| ActiveRun {
            workflow: workflow.into(),
            repository: repository.into(),
            event: "pull_request",
            number: Some(9),
            started_at_ms: 1_763_900_000_000,
            steps: vec![
                ("lint".into(), "size".into()),
                (HOSTILE.into(), "data-check".into()),
            ],
            current: 1,
            running_for_us: 2_500_000,
        };
        let active = [
            under_way("nightly", "acme/widgets"),
            under_way("review", "acme/gadgets"),
        ];
        let all = runs(&store, &Params::new(), &active);
        let section = all.html.split("<table id=\"runs\">").next().unwrap_or("");
        assert!(section.contains("In progress (2)"), "{}", all.html);
        assert!(section.contains("<span class=\"badge running\">running</span>"));
        assert!(
            section.contains("2 of 2: <strong>&lt;script&gt;"),
            "{section}"
        );
        assert!(section.contains("(data-check)"));
        assert!(section.contains("2.50 s"), "how long it has been running");
        assert!(section.contains("href=\"https://github.com/acme/gadgets/pull/9\""));
        // Filters apply; a status or an older page leaves them out.
        let with = |pairs: &[(&str, &str)]| -> Params {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect()
        };
        let one = runs(&store, &with(&[("workflow", "review")]), &active);
        assert!(one.html.contains("In progress (1)"), "{}", one.html);
        let none = runs(&store, &with(&[("repository", "acme/none")]), &active);
        assert!(!none.html.contains("In progress"));
        let failed = runs(&store, &with(&[("status", "failure")]), &active);
        assert!(!failed.html.contains("In progress"));
        let older = runs(&store, &with(&[("before", "5")]), &active);
        assert!(!older.html.contains("In progress"));
        assert!(
            !runs(&store, &Params::new(), &[])
                .html
                .contains("In progress")
        );
    }

    #[test]
    fn durations_and_times_read_as_people_write_them() {
        assert_eq!(duration(850), "850 µs");
        assert_eq!(duration(12_345), "12.3 ms");
        assert_eq!(duration(4_560_000), "4.56 s");
        assert_eq!(duration(185_000_000), "3m 05s");
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(u64::MAX), u64::MAX.to_string());
    }
}
