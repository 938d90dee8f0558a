//! Schedules: cron expressions in IANA time zones, the policies of a
//! scheduled workflow, and every decision the scheduler takes about them.
//!
//! Nothing here reads the clock: each decision takes `now` in milliseconds
//! since the Unix epoch, and instants are milliseconds too. The scheduler
//! in the binary persists a [`ScheduleRecord`] and calls
//! [`ScheduleRecord::claim`], [`ScheduleRecord::finish`] and
//! [`ScheduleRecord::recover`] inside store transactions, so the rules of
//! missed ticks, overlapping runs and retries live here, tested without
//! IO.
//!
//! Cron semantics are Vixie cron's, the ones `crontab(5)` documents:
//! five fields (minute, hour, day of month, month, day of week, with `0`
//! and `7` both Sunday), the `@daily`-style shorthands, and a day matching
//! when *either* day field matches if both are restricted. Daylight saving
//! time: a wall-clock time that a spring-forward skips fires at the first
//! instant after the gap, and a wall-clock time that a fall-back repeats
//! fires once, at its first occurrence.

use std::cmp::{max, min};

use chrono::{LocalResult, NaiveDateTime, Offset, SecondsFormat, TimeZone};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::run::Status;
use crate::workflow::{Workflow, closest};

/// A tick fired at most this long after it was due is on time; older ones
/// were missed (the scheduler was down) and the `missed` policy decides.
pub const GRACE_MS: u64 = 60_000;
/// Ticks waiting behind a running one with `overlap: queue`; more are
/// skipped.
pub const MAX_QUEUED: usize = 100;
/// The largest `max_catchup` a workflow may ask for.
pub const MAX_CATCHUP: u32 = 1_000;
/// The most `retries` a workflow may ask for.
pub const MAX_RETRIES: u32 = 10;
/// Retry delays never exceed this, whatever the backoff grows to.
pub const MAX_RETRY_DELAY_MS: u64 = 6 * 3_600_000;
/// The longest `deadline` a workflow may ask for.
pub const MAX_DEADLINE_MS: u64 = 24 * 3_600_000;
/// The time zone of a schedule that names none.
pub const DEFAULT_TIMEZONE: &str = "UTC";

/// Older missed ticks are counted up to this many, then the count stops.
const COUNT_LIMIT: u64 = 10_000;
/// Wall-clock times looked at in one search, at most; far more than a
/// year of a per-minute schedule's repeated DST hours.
const MAX_STEPS: usize = 100_000;

/// What happens to ticks that came due while the scheduler was not
/// running (Airflow's `catchup`, Kubernetes' `startingDeadlineSeconds`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Missed {
    /// Drop them; only a tick on time runs.
    Skip,
    /// Run the newest one, late, and drop the others.
    #[default]
    Latest,
    /// Run them all in order, the newest `max_catchup` at most.
    All,
}

impl Missed {
    pub const NAMES: [&'static str; 3] = ["skip", "latest", "all"];

    pub fn as_str(self) -> &'static str {
        match self {
            Missed::Skip => "skip",
            Missed::Latest => "latest",
            Missed::All => "all",
        }
    }

    pub fn parse(name: &str) -> Option<Missed> {
        [Missed::Skip, Missed::Latest, Missed::All]
            .into_iter()
            .find(|m| m.as_str() == name)
    }
}

/// What a tick does when the previous run of its schedule is still going
/// (Kubernetes' `concurrencyPolicy`: `Forbid`, `Allow` one at a time,
/// `Replace`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Overlap {
    /// Drop the new tick.
    #[default]
    Skip,
    /// Run it once the previous run ends.
    Queue,
    /// Stop the previous run after its current step, then run the new one.
    Cancel,
}

impl Overlap {
    pub const NAMES: [&'static str; 3] = ["skip", "queue", "cancel"];

    pub fn as_str(self) -> &'static str {
        match self {
            Overlap::Skip => "skip",
            Overlap::Queue => "queue",
            Overlap::Cancel => "cancel",
        }
    }

    pub fn parse(name: &str) -> Option<Overlap> {
        [Overlap::Skip, Overlap::Queue, Overlap::Cancel]
            .into_iter()
            .find(|o| o.as_str() == name)
    }
}

/// How a scheduled workflow's ticks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub missed: Missed,
    /// With `missed: all`, how many missed ticks run at most (the newest).
    pub max_catchup: u32,
    pub overlap: Overlap,
    /// Runs that errored (a trap, an exhausted limit, the deadline, a
    /// checkout that failed) are tried again this many times. A run whose
    /// checks failed is a result, not retried.
    pub retries: u32,
    /// The first retry waits this long; each next one twice as long, plus
    /// up to a quarter of deterministic jitter.
    pub retry_backoff_ms: u64,
    /// Wall time for a whole run; the step running when it passes is
    /// stopped and the later ones skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_ms: Option<u64>,
}

impl Policy {
    pub const DEFAULT: Policy = Policy {
        missed: Missed::Latest,
        max_catchup: 10,
        overlap: Overlap::Skip,
        retries: 0,
        retry_backoff_ms: 60_000,
        deadline_ms: None,
    };
}

impl Default for Policy {
    fn default() -> Policy {
        Policy::DEFAULT
    }
}

/// Where a scheduled run's result goes on GitHub, besides the store.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// A commit status `andon / {workflow}` on the commit the run ran on
    /// (the default branch's head).
    #[serde(default)]
    pub status: bool,
    /// A comment on this issue for each run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue: Option<u64>,
    /// With `issue`, comment on every run or only on those that did not
    /// pass.
    #[serde(default)]
    pub when: ReportWhen,
}

/// Which runs `report.issue` comments on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportWhen {
    #[default]
    Always,
    Failure,
}

impl ReportWhen {
    pub const NAMES: [&'static str; 2] = ["always", "failure"];

    pub fn parse(name: &str) -> Option<ReportWhen> {
        match name {
            "always" => Some(ReportWhen::Always),
            "failure" => Some(ReportWhen::Failure),
            _ => None,
        }
    }
}

/// A cron expression that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CronError {
    #[error("cron expression `{expr}` has {found} fields, expected {expected}")]
    FieldCount {
        expr: String,
        found: usize,
        expected: usize,
    },
    #[error("{field} `{value}` in cron expression `{expr}` is invalid: {reason}")]
    Field {
        expr: String,
        field: &'static str,
        value: String,
        reason: String,
    },
    #[error("unknown time zone `{name}`")]
    Timezone {
        name: String,
        suggestion: Option<&'static str>,
    },
}

impl CronError {
    /// What to write instead, for diagnostics.
    pub fn hint(&self) -> String {
        match self {
            CronError::FieldCount { expected: 6, .. } => {
                "second minute hour day-of-month month day-of-week".into()
            }
            CronError::FieldCount { .. } => {
                "minute hour day-of-month month day-of-week, e.g. `0 3 * * *`, or `@daily`".into()
            }
            CronError::Field { field, .. } => format!("{field}: {}", field_hint(field)),
            CronError::Timezone {
                suggestion: Some(best),
                ..
            } => format!("did you mean `{best}`?"),
            CronError::Timezone { .. } => {
                "an IANA time zone name such as `Europe/Paris`, `America/New_York` or `UTC`".into()
            }
        }
    }
}

fn field_hint(field: &str) -> &'static str {
    match field {
        "second" | "minute" => "0-59, lists `1,15`, ranges `0-29`, steps `*/15`",
        "hour" => "0-23, lists, ranges and steps",
        "day of month" => "1-31, lists, ranges and steps",
        "month" => "1-12 or JAN-DEC",
        _ => "0-7 (0 and 7 are Sunday) or SUN-SAT",
    }
}

/// An IANA time zone by name, with the closest name when it is unknown.
pub fn parse_timezone(name: &str) -> Result<Tz, CronError> {
    if let Ok(zone) = name.parse::<Tz>() {
        return Ok(zone);
    }
    let names: Vec<&'static str> = chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()).collect();
    let suggestion = names
        .iter()
        .find(|n| n.eq_ignore_ascii_case(name))
        .copied()
        .or_else(|| closest(name, &names));
    Err(CronError::Timezone {
        name: name.to_string(),
        suggestion,
    })
}

/// A parsed cron expression in a time zone: when its ticks fall, as
/// instants.
#[derive(Debug, Clone)]
pub struct Cron {
    source: String,
    zone: Tz,
    /// The expression as the cron crate reads it (seconds first, weekdays
    /// 1-7 from Sunday), matched against wall-clock times.
    days: cron::Schedule,
    /// When both day fields are restricted a day matches either: this is
    /// the day-of-week half, `days` the day-of-month half.
    weekdays: Option<cron::Schedule>,
}

/// Ticks that came due, from [`Cron::due`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Due {
    /// The newest due ticks asked for, oldest first.
    pub ticks: Vec<u64>,
    /// How many older ones there were besides (counting stops at 10,000).
    pub older: u64,
}

const FIELDS: [&str; 6] = [
    "second",
    "minute",
    "hour",
    "day of month",
    "month",
    "day of week",
];

impl Cron {
    /// A five-field expression (or a shorthand such as `@daily`) in
    /// `timezone` (UTC when `None`).
    pub fn parse(expr: &str, timezone: Option<&str>) -> Result<Cron, CronError> {
        let zone = parse_timezone(timezone.unwrap_or(DEFAULT_TIMEZONE))?;
        let trimmed = expr.trim();
        let expanded = shorthand(trimmed).unwrap_or(trimmed);
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(CronError::FieldCount {
                expr: expr.to_string(),
                found: fields.len(),
                expected: 5,
            });
        }
        Cron::build(expr, zone, "0", &fields)
    }

    /// A six-field expression whose first field is the second, for the
    /// scheduler's own tests and benchmarks (workflows use five fields).
    pub fn parse_with_seconds(expr: &str, timezone: Option<&str>) -> Result<Cron, CronError> {
        let zone = parse_timezone(timezone.unwrap_or(DEFAULT_TIMEZONE))?;
        let fields: Vec<&str> = expr.split_whitespace().collect();
        if fields.len() != 6 {
            return Err(CronError::FieldCount {
                expr: expr.to_string(),
                found: fields.len(),
                expected: 6,
            });
        }
        Cron::build(expr, zone, fields[0], &fields[1..])
    }

    fn build(source: &str, zone: Tz, seconds: &str, f: &[&str]) -> Result<Cron, CronError> {
        let field_error = |index: usize, reason: String| CronError::Field {
            expr: source.to_string(),
            field: FIELDS[index],
            value: if index == 0 {
                seconds.to_string()
            } else {
                f[index - 1].to_string()
            },
            reason,
        };
        let weekdays = weekday_list(f[4]).map_err(|reason| field_error(5, reason))?;
        let restricted = |field: &str| !(field.starts_with('*') || field == "?");
        let compile = |text: String| -> Result<cron::Schedule, CronError> {
            text.parse::<cron::Schedule>().map_err(|_| {
                // Find the field at fault: each alone among wildcards.
                let all = [seconds, f[0], f[1], f[2], f[3]];
                for (index, value) in all.iter().enumerate() {
                    let mut probe = ["0", "*", "*", "*", "*", "*"];
                    probe[index] = value;
                    if let Err(error) = probe.join(" ").parse::<cron::Schedule>() {
                        let reason = out_of_range(index, value)
                            .unwrap_or_else(|| cron_reason(&error.to_string()));
                        return field_error(index, reason);
                    }
                }
                field_error(0, "the fields do not combine".into())
            })
        };
        let (days, weekdays) = if restricted(f[2]) && restricted(f[4]) {
            (
                compile(format!("{seconds} {} {} {} {} *", f[0], f[1], f[2], f[3]))?,
                Some(compile(format!(
                    "{seconds} {} {} * {} {weekdays}",
                    f[0], f[1], f[3]
                ))?),
            )
        } else {
            (
                compile(format!(
                    "{seconds} {} {} {} {} {weekdays}",
                    f[0], f[1], f[2], f[3]
                ))?,
                None,
            )
        };
        Ok(Cron {
            source: source.to_string(),
            zone,
            days,
            weekdays,
        })
    }

    /// The expression as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The IANA name of the time zone.
    pub fn timezone(&self) -> &'static str {
        self.zone.name()
    }

    /// The first tick strictly after `after_ms`, if the expression has one
    /// (`0 0 30 2 *` never does).
    pub fn next_after(&self, after_ms: u64) -> Option<u64> {
        let mut wall = self.wall(after_ms)?;
        // Wall-clock order is instant order except in a repeated hour,
        // whose times were already fired at their first occurrence.
        for _ in 0..MAX_STEPS {
            wall = self.next_wall(wall)?;
            let at = self.instant(wall)?;
            if at > after_ms {
                return Some(at);
            }
        }
        None
    }

    /// The ticks in `(after_ms, now_ms]`: the newest `keep` of them, and
    /// how many older ones there were.
    pub fn due(&self, after_ms: u64, now_ms: u64, keep: usize) -> Due {
        let mut due = Due::default();
        if now_ms <= after_ms {
            return due;
        }
        let Some(mut wall) = self.walk_start(now_ms) else {
            return due;
        };
        let mut last = None;
        for _ in 0..MAX_STEPS {
            let Some(previous) = self.prev_wall(wall) else {
                break;
            };
            wall = previous;
            let Some(at) = self.instant(wall) else {
                break;
            };
            if at > now_ms || last == Some(at) {
                continue;
            }
            if at <= after_ms {
                break;
            }
            last = Some(at);
            if due.ticks.len() < keep {
                due.ticks.push(at);
            } else {
                due.older += 1;
                if due.older >= COUNT_LIMIT {
                    break;
                }
            }
        }
        due.ticks.reverse();
        due
    }

    /// A wall-clock time after which no tick due by `now_ms` lies: just
    /// after now's, or later by the hour a recent fall-back repeated.
    fn walk_start(&self, now_ms: u64) -> Option<NaiveDateTime> {
        let now = self.wall(now_ms)?;
        let earlier = self.offset_seconds(now_ms.saturating_sub(3 * 3_600_000))?;
        let repeated = (earlier - self.offset_seconds(now_ms)?).max(0);
        now.checked_add_signed(chrono::TimeDelta::seconds(repeated + 1))
    }

    fn offset_seconds(&self, ms: u64) -> Option<i64> {
        let secs = i64::try_from(ms / 1000).ok()?;
        let at = self.zone.timestamp_opt(secs, 0).single()?;
        Some(i64::from(at.offset().fix().local_minus_utc()))
    }

    /// The wall-clock time at `ms` (whole seconds).
    fn wall(&self, ms: u64) -> Option<NaiveDateTime> {
        let secs = i64::try_from(ms / 1000).ok()?;
        Some(self.zone.timestamp_opt(secs, 0).single()?.naive_local())
    }

    /// The instant a matching wall-clock time fires at: its only one, the
    /// first of a repeated one, the end of the gap for a skipped one.
    fn instant(&self, wall: NaiveDateTime) -> Option<u64> {
        let secs = match self.zone.from_local_datetime(&wall) {
            LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => at.timestamp(),
            LocalResult::None => self.gap_end(wall)?,
        };
        u64::try_from(secs).ok()?.checked_mul(1000)
    }

    /// The first second whose wall-clock time is after `wall`, which a
    /// spring-forward skipped: the instant the clocks jumped.
    fn gap_end(&self, wall: NaiveDateTime) -> Option<i64> {
        let guess = wall.and_utc().timestamp();
        let (mut before, mut after) = (guess - 86_400, guess + 86_400);
        let is_after = |secs: i64| {
            self.zone
                .timestamp_opt(secs, 0)
                .single()
                .map(|at| at.naive_local() > wall)
        };
        if is_after(before)? || !is_after(after)? {
            return None;
        }
        while after - before > 1 {
            let mid = before + (after - before) / 2;
            if is_after(mid)? {
                after = mid;
            } else {
                before = mid;
            }
        }
        Some(after)
    }

    /// The first matching wall-clock time after `wall`. The cron crate
    /// walks the calendar; fed UTC, it never meets a DST transition.
    fn next_wall(&self, wall: NaiveDateTime) -> Option<NaiveDateTime> {
        let at = wall.and_utc();
        let first = self.days.after(&at).next().map(|d| d.naive_utc());
        let second = self
            .weekdays
            .as_ref()
            .and_then(|s| s.after(&at).next())
            .map(|d| d.naive_utc());
        match (first, second) {
            (Some(a), Some(b)) => Some(min(a, b)),
            (a, b) => a.or(b),
        }
    }

    /// The last matching wall-clock time before `wall`.
    fn prev_wall(&self, wall: NaiveDateTime) -> Option<NaiveDateTime> {
        let at = wall.and_utc();
        let first = self.days.after(&at).next_back().map(|d| d.naive_utc());
        let second = self
            .weekdays
            .as_ref()
            .and_then(|s| s.after(&at).next_back())
            .map(|d| d.naive_utc());
        match (first, second) {
            (Some(a), Some(b)) => Some(max(a, b)),
            (a, b) => a.or(b),
        }
    }
}

/// The five fields a shorthand stands for.
fn shorthand(expr: &str) -> Option<&'static str> {
    Some(match expr {
        "@yearly" | "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * 0",
        "@daily" | "@midnight" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        _ => return None,
    })
}

/// The cron crate's explanation: the last line of its message (the ones
/// before repeat the expression and point at it).
fn cron_reason(message: &str) -> String {
    let last = message
        .lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .unwrap_or(message);
    let reason = last.strip_prefix("Invalid expression: ").unwrap_or(last);
    reason.trim().trim_end_matches('.').to_string()
}

/// A number outside field `index`'s range (0 is the seconds field), said
/// plainly.
fn out_of_range(index: usize, field: &str) -> Option<String> {
    let (low, high) = [(0, 59), (0, 59), (0, 23), (1, 31), (1, 12)]
        .get(index)
        .copied()?;
    field
        .split(',')
        .filter_map(|item| item.split('/').next())
        .flat_map(|range| range.split('-'))
        .filter_map(|number| number.parse::<u32>().ok())
        .find(|n| !(low..=high).contains(n))
        .map(|n| format!("{n} is not in {low}-{high}"))
}

/// A day-of-week field in cron's numbering (0-7, 0 and 7 Sunday, names)
/// as the cron crate's list (1-7 from Sunday).
fn weekday_list(field: &str) -> Result<String, String> {
    let mut days = [false; 7];
    for item in field.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => match step.parse::<usize>() {
                Ok(step) if step > 0 => (range, step),
                _ => return Err(format!("`{step}` is not a step")),
            },
            None => (item, 1),
        };
        let (first, last) = match range {
            "*" | "?" => (0, 6),
            _ => match range.split_once('-') {
                Some((a, b)) => (weekday(a)?, weekday(b)?),
                // `2/3` is every third day from Tuesday.
                None if item.contains('/') => (weekday(range)?, 6),
                None => {
                    let day = weekday(range)?;
                    (day, day)
                }
            },
        };
        if first > last {
            return Err(format!("the range `{range}` runs backwards"));
        }
        for day in (first..=last).step_by(step) {
            days[day % 7] = true;
        }
    }
    Ok(days
        .iter()
        .enumerate()
        .filter(|(_, on)| **on)
        .map(|(day, _)| (day + 1).to_string())
        .collect::<Vec<_>>()
        .join(","))
}

fn weekday(text: &str) -> Result<usize, String> {
    const NAMES: [&str; 7] = [
        "sunday",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
    ];
    if let Ok(day) = text.parse::<usize>() {
        return if day <= 7 {
            Ok(day)
        } else {
            Err(format!("{day} is not a day of the week (0-7)"))
        };
    }
    let lower = text.to_ascii_lowercase();
    NAMES
        .iter()
        .position(|name| lower == *name || (lower.len() == 3 && name.starts_with(&lower)))
        .ok_or_else(|| format!("`{text}` is not a day of the week"))
}

/// The instant `ms` as RFC 3339 in the time zone `timezone` (UTC when the
/// name is unknown).
pub fn format_instant(ms: u64, timezone: &str) -> String {
    let zone = parse_timezone(timezone).unwrap_or(Tz::UTC);
    i64::try_from(ms)
        .ok()
        .and_then(|ms| zone.timestamp_millis_opt(ms).single())
        .map_or_else(
            || format!("{ms} ms"),
            |at| at.to_rfc3339_opts(SecondsFormat::Secs, true),
        )
}

/// Where a schedule's repository comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    /// A GitHub repository: its mirror is fetched and the default branch's
    /// head is run.
    GitHub {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        installation: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        clone_url: Option<String>,
        default_branch: String,
    },
    /// A repository on the server's disk: its `HEAD` is run.
    Local { path: String },
}

/// One `on.schedule` entry of one workflow in one repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleEntry {
    /// `{repository}:{file}#{index}`: stable while the entry keeps its place,
    /// whatever its cron expression.
    pub id: String,
    /// `owner/name`, or a local repository's path.
    pub repository: String,
    pub workflow: String,
    /// The workflow file, relative to the repository root.
    pub file: String,
    /// The entry's place in `on.schedule`.
    pub index: usize,
    pub cron: String,
    /// The IANA time zone (`UTC` when the workflow names none).
    pub timezone: String,
    /// The expression has a leading seconds field (tests and benchmarks).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub with_seconds: bool,
    pub policy: Policy,
    #[serde(default)]
    pub report: Report,
    pub origin: Origin,
}

impl ScheduleEntry {
    pub fn cron(&self) -> Result<Cron, CronError> {
        if self.with_seconds {
            Cron::parse_with_seconds(&self.cron, Some(&self.timezone))
        } else {
            Cron::parse(&self.cron, Some(&self.timezone))
        }
    }

    /// Whether a change from `self` to `other` moves its ticks.
    fn same_ticks(&self, other: &ScheduleEntry) -> bool {
        self.cron == other.cron
            && self.timezone == other.timezone
            && self.with_seconds == other.with_seconds
    }
}

/// The id of entry `index` of the workflow in `file` of `repository`.
pub fn schedule_id(repository: &str, file: &str, index: usize) -> String {
    format!("{repository}:{file}#{index}")
}

/// The prefix of the idempotency keys of attempt `attempt` at `tick_ms` of
/// schedule `id`: short (a hash of the id) and the same on every try.
pub fn effect_key_prefix(id: &str, tick_ms: u64, attempt: u32) -> String {
    format!("s{:016x}/{tick_ms}/{attempt}", fnv1a(&[id.as_bytes()]))
}

/// The schedule entries of `workflows`, read from `repository`.
pub fn entries(repository: &str, origin: &Origin, workflows: &[Workflow]) -> Vec<ScheduleEntry> {
    workflows
        .iter()
        .flat_map(|workflow| {
            workflow
                .on
                .schedule
                .iter()
                .enumerate()
                .map(move |(index, trigger)| ScheduleEntry {
                    id: schedule_id(repository, &workflow.file, index),
                    repository: repository.to_string(),
                    workflow: workflow.name.clone(),
                    file: workflow.file.clone(),
                    index,
                    cron: trigger.cron.clone(),
                    timezone: trigger
                        .timezone
                        .clone()
                        .unwrap_or_else(|| DEFAULT_TIMEZONE.to_string()),
                    with_seconds: false,
                    policy: trigger.policy,
                    report: workflow.report.clone().unwrap_or_default(),
                    origin: origin.clone(),
                })
        })
        .collect()
}

/// A tick claimed and not finished: waiting, running, or waiting to be
/// tried again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingTick {
    /// When it was due.
    pub tick_ms: u64,
    /// 1 for the first try.
    pub attempt: u32,
    /// Not started before this instant (a retry's backoff).
    pub not_before_ms: u64,
    /// Handed to a worker and not finished.
    #[serde(default)]
    pub running: bool,
    /// A newer tick replaces it (`overlap: cancel`): stop after the current
    /// step.
    #[serde(default)]
    pub cancel: bool,
}

/// How the last finished attempt of a schedule ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastRun {
    pub tick_ms: u64,
    pub attempt: u32,
    /// The recorded run; `None` when none could start (the checkout failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<u64>,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub finished_ms: u64,
}

/// The last tick that did not run, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skip {
    pub tick_ms: u64,
    pub reason: String,
}

/// Where a schedule stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleState {
    /// When its ticks start to count: registration, or the last change of
    /// its expression or zone. Earlier ticks were never missed.
    pub since_ms: u64,
    /// The newest tick decided (run, queued or skipped): no tick at or
    /// before it is ever fired again, whatever the expression becomes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_tick_ms: Option<u64>,
    /// The next tick; `None` when the expression has no more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_due_ms: Option<u64>,
    /// Claimed and unfinished ticks, oldest first; at most one runs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<PendingTick>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<LastRun>,
    /// Ticks that did not run (missed or overlapping), in all.
    #[serde(default)]
    pub skipped: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_skip: Option<Skip>,
}

/// A schedule as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleRecord {
    pub entry: ScheduleEntry,
    pub state: ScheduleState,
}

/// A tick to run now: the worker's job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TickJob {
    pub id: String,
    pub tick_ms: u64,
    pub attempt: u32,
}

/// What [`ScheduleRecord::claim`] decided.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Claim {
    /// The tick to hand to a worker now, marked running.
    pub dispatch: Option<TickJob>,
    /// A running tick asked to stop (`overlap: cancel`).
    pub cancel: Option<u64>,
    /// Ticks dropped by this decision.
    pub skipped: u64,
}

/// How an attempt at a tick ended, for [`ScheduleRecord::finish`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TickResult {
    /// A run was recorded.
    Ran { run: u64, status: Status },
    /// No run could start; `retry` when trying again may help.
    Failed { error: String, retry: bool },
}

/// What [`ScheduleRecord::finish`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    /// The tick is done.
    Done,
    /// It runs again at this instant.
    Retry { at_ms: u64 },
}

impl ScheduleRecord {
    /// A schedule first seen at `now_ms`: ticks count from then on.
    pub fn new(entry: ScheduleEntry, now_ms: u64) -> ScheduleRecord {
        let next_due_ms = entry.cron().ok().and_then(|c| c.next_after(now_ms));
        ScheduleRecord {
            entry,
            state: ScheduleState {
                since_ms: now_ms,
                next_due_ms,
                ..ScheduleState::default()
            },
        }
    }

    /// The workflow changed: keep where the schedule stands, unless its
    /// ticks moved (a new expression or zone), in which case ticks count
    /// from `now_ms` again. The newest decided tick stays, so none already
    /// run fires twice.
    pub fn redefine(&mut self, entry: ScheduleEntry, now_ms: u64) {
        if !self.entry.same_ticks(&entry) {
            self.state.since_ms = now_ms;
            let after = max(now_ms, self.state.last_tick_ms.unwrap_or(0));
            self.state.next_due_ms = entry.cron().ok().and_then(|c| c.next_after(after));
        }
        self.entry = entry;
    }

    /// When the scheduler should look at this schedule again: its next
    /// tick, or sooner the first waiting tick (a queued one, a retry).
    pub fn wake_ms(&self) -> Option<u64> {
        let waiting = if self.state.pending.iter().any(|p| p.running) {
            None
        } else {
            self.state.pending.first().map(|p| p.not_before_ms)
        };
        match (self.state.next_due_ms, waiting) {
            (Some(a), Some(b)) => Some(min(a, b)),
            (a, b) => a.or(b),
        }
    }

    /// Decide what happens at `now_ms`: claim the ticks that came due
    /// (applying `missed` and `overlap`), compute the next tick, and hand
    /// out the first waiting tick if none runs.
    pub fn claim(&mut self, now_ms: u64) -> Claim {
        let mut claim = Claim::default();
        let Ok(cron) = self.entry.cron() else {
            self.state.next_due_ms = None;
            claim.dispatch = self.dispatch(now_ms);
            return claim;
        };
        if self.state.next_due_ms.is_some_and(|due| due <= now_ms) {
            self.decide(&cron, Vec::new(), now_ms, &mut claim);
        }
        self.finish_claim(&cron, now_ms, &mut claim);
        claim
    }

    /// After a restart: ticks that were running did not finish (a finished
    /// one is not pending), so they run again, as do those that came due
    /// meanwhile, all under the `missed` policy.
    pub fn recover(&mut self, now_ms: u64) -> Claim {
        let mut claim = Claim::default();
        for pending in &mut self.state.pending {
            pending.running = false;
        }
        let Ok(cron) = self.entry.cron() else {
            self.state.next_due_ms = None;
            claim.dispatch = self.dispatch(now_ms);
            return claim;
        };
        // First attempts compete with the ticks missed meanwhile; retries
        // keep their place and backoff.
        let before = self.state.pending.len();
        self.state.pending.retain(|p| !p.cancel);
        let replaced = u64::try_from(before - self.state.pending.len()).unwrap_or(0);
        if replaced > 0 {
            claim.skipped += replaced;
            self.state.skipped = self.state.skipped.saturating_add(replaced);
        }
        let (first, retries): (Vec<PendingTick>, Vec<PendingTick>) =
            self.state.pending.drain(..).partition(|p| p.attempt == 1);
        self.state.pending = retries;
        let claimed = first.iter().map(|p| p.tick_ms).collect();
        self.decide(&cron, claimed, now_ms, &mut claim);
        self.finish_claim(&cron, now_ms, &mut claim);
        claim
    }

    fn finish_claim(&mut self, cron: &Cron, now_ms: u64, claim: &mut Claim) {
        let after = max(now_ms, self.state.last_tick_ms.unwrap_or(0));
        self.state.next_due_ms = cron.next_after(after);
        claim.dispatch = self.dispatch(now_ms);
    }

    /// Apply the policies to the ticks due by `now_ms` plus `claimed` ones
    /// that must run again.
    fn decide(&mut self, cron: &Cron, claimed: Vec<u64>, now_ms: u64, claim: &mut Claim) {
        let policy = self.entry.policy;
        let keep = match policy.missed {
            Missed::Skip | Missed::Latest => 1,
            Missed::All => usize::try_from(policy.max_catchup.max(1)).unwrap_or(usize::MAX),
        };
        let after = max(self.state.since_ms, self.state.last_tick_ms.unwrap_or(0));
        let due = cron.due(after, now_ms, keep);
        let mut ticks = claimed;
        ticks.extend(&due.ticks);
        ticks.sort_unstable();
        ticks.dedup();
        let missed_reason = "missed: the scheduler was not running when it was due";
        let cut = ticks.len().saturating_sub(keep);
        let older = u64::try_from(cut).unwrap_or(u64::MAX) + due.older;
        if older > 0 {
            self.skip(
                ticks.first().copied().unwrap_or(after),
                missed_reason,
                older,
            );
            claim.skipped += older;
        }
        let ticks = ticks.split_off(cut);
        if let Some(&newest) = ticks.last() {
            let last = self.state.last_tick_ms.unwrap_or(0);
            self.state.last_tick_ms = Some(max(last, newest));
        }
        let busy = !self.state.pending.is_empty();
        for tick in ticks {
            let on_time = now_ms.saturating_sub(tick) <= GRACE_MS;
            if policy.missed == Missed::Skip && !on_time {
                self.skip(tick, missed_reason, 1);
                claim.skipped += 1;
            } else {
                self.admit(tick, busy, now_ms, claim);
            }
        }
    }

    /// Add a due tick under the `overlap` policy; `busy` when a tick of an
    /// earlier decision is running or waiting.
    fn admit(&mut self, tick_ms: u64, busy: bool, now_ms: u64, claim: &mut Claim) {
        let new = PendingTick {
            tick_ms,
            attempt: 1,
            not_before_ms: now_ms,
            running: false,
            cancel: false,
        };
        if !busy {
            self.state.pending.push(new);
            return;
        }
        match self.entry.policy.overlap {
            Overlap::Skip => {
                self.skip(tick_ms, "overlap: the previous run was still going", 1);
                claim.skipped += 1;
            }
            Overlap::Queue if self.state.pending.len() >= MAX_QUEUED => {
                self.skip(tick_ms, "overlap: too many ticks queued", 1);
                claim.skipped += 1;
            }
            Overlap::Queue => self.state.pending.push(new),
            Overlap::Cancel => {
                let before = self.state.pending.len();
                self.state.pending.retain(|p| p.running);
                let replaced = u64::try_from(before - self.state.pending.len()).unwrap_or(0);
                if replaced > 0 {
                    self.skip(tick_ms, "overlap: replaced by a newer tick", replaced);
                    claim.skipped += replaced;
                }
                for running in &mut self.state.pending {
                    if !running.cancel {
                        running.cancel = true;
                        claim.cancel = Some(running.tick_ms);
                    }
                }
                self.state.pending.push(new);
            }
        }
    }

    fn skip(&mut self, tick_ms: u64, reason: &str, count: u64) {
        self.state.skipped = self.state.skipped.saturating_add(count);
        self.state.last_skip = Some(Skip {
            tick_ms,
            reason: reason.to_string(),
        });
    }

    /// The first waiting tick, if none runs and it may start: marked
    /// running and returned.
    fn dispatch(&mut self, now_ms: u64) -> Option<TickJob> {
        if self.state.pending.iter().any(|p| p.running) {
            return None;
        }
        let first = self.state.pending.first_mut()?;
        if first.not_before_ms > now_ms {
            return None;
        }
        first.running = true;
        Some(TickJob {
            id: self.entry.id.clone(),
            tick_ms: first.tick_ms,
            attempt: first.attempt,
        })
    }

    /// Whether the running attempt `attempt` at `tick_ms` was asked to
    /// stop.
    pub fn cancelled(&self, tick_ms: u64, attempt: u32) -> bool {
        self.state
            .pending
            .iter()
            .any(|p| p.tick_ms == tick_ms && p.attempt == attempt && p.cancel)
    }

    /// Record how attempt `attempt` at `tick_ms` ended: done, or to be
    /// tried again after the backoff. An error when that attempt is not
    /// running (it finished already, or the schedule was recovered): the
    /// caller must then record nothing, so a tick never counts twice.
    pub fn finish(
        &mut self,
        tick_ms: u64,
        attempt: u32,
        result: &TickResult,
        now_ms: u64,
    ) -> Result<Finished, String> {
        let Some(index) = self
            .state
            .pending
            .iter()
            .position(|p| p.tick_ms == tick_ms && p.attempt == attempt && p.running)
        else {
            return Err(format!(
                "tick {} attempt {attempt} of {} is not running",
                format_instant(tick_ms, &self.entry.timezone),
                self.entry.id
            ));
        };
        let (run, status, error, retry) = match result {
            TickResult::Ran { run, status } => {
                (Some(*run), *status, None, *status == Status::Error)
            }
            TickResult::Failed { error, retry } => {
                (None, Status::Error, Some(error.clone()), *retry)
            }
        };
        self.state.last_run = Some(LastRun {
            tick_ms,
            attempt,
            run,
            status,
            error,
            finished_ms: now_ms,
        });
        let policy = self.entry.policy;
        let pending = &mut self.state.pending[index];
        if retry && !pending.cancel && attempt <= policy.retries {
            let next = attempt + 1;
            let at_ms = now_ms.saturating_add(retry_delay_ms(
                &self.entry.id,
                tick_ms,
                next,
                policy.retry_backoff_ms,
            ));
            pending.attempt = next;
            pending.running = false;
            pending.not_before_ms = at_ms;
            return Ok(Finished::Retry { at_ms });
        }
        self.state.pending.remove(index);
        Ok(Finished::Done)
    }
}

/// How long to wait before attempt `attempt` (2 for the first retry) at
/// `tick_ms`: `backoff_ms` doubled per earlier retry, at most
/// [`MAX_RETRY_DELAY_MS`], plus up to a quarter more of jitter. The jitter
/// is a hash of the schedule, the tick and the attempt, not a random
/// number: a replay waits the same, and schedules sharing a tick still
/// spread out.
pub fn retry_delay_ms(id: &str, tick_ms: u64, attempt: u32, backoff_ms: u64) -> u64 {
    let doublings = attempt.saturating_sub(2).min(40);
    let base = backoff_ms
        .saturating_mul(1u64 << doublings)
        .min(MAX_RETRY_DELAY_MS);
    let spread = base / 4;
    if spread == 0 {
        return base;
    }
    base + fnv1a(&[
        id.as_bytes(),
        &tick_ms.to_be_bytes(),
        &attempt.to_be_bytes(),
    ]) % (spread + 1)
}

/// FNV-1a, 64 bits: a hash fixed by its definition, unlike std's
/// `DefaultHasher`, which may change between Rust releases.
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in *part {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        // A separator, so that ("ab", "c") and ("a", "bc") differ.
        hash ^= 0xff;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests;
