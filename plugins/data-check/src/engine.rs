//! One streaming pass of a suite over a dataset: the columns to ask the host
//! for (each name and type once), each check's state across batches, and
//! the results.

use std::collections::HashMap;

use andon_pdk::dataset::Batch;
use serde_json::{Value as Json, json};

use crate::columns::Col;
use crate::duration;
use crate::kernels::{self, Accepted, Failures, Moments, Sample, Typed};
use crate::pattern::MatchCache;
use crate::sets::{IntSet, Repeats, TextSet, ValueSet};
use crate::suite::{Check, Rule, Severity, Stat, Suite, Threshold, ValueType};

/// The values of other datasets' columns that `relationship` checks look
/// up, by (path, column); an error says why one could not be read.
pub type References = HashMap<(String, String), Result<ValueSet, String>>;

/// A check's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Warn,
    Fail,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

/// One check's result.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckResult {
    /// 1-based position in the suite.
    pub index: usize,
    /// The check's name (`unique`).
    pub check: &'static str,
    /// The `name:` the suite gave it.
    pub name: Option<String>,
    pub column: Option<String>,
    pub severity: Severity,
    pub status: Status,
    /// Failing rows (0 for checks on the whole dataset).
    pub failed_count: u64,
    /// `failed_count` as a share of all rows, in percent.
    pub failed_percent: f64,
    pub samples: Vec<Sample>,
    /// What was measured, for checks on the whole dataset.
    pub observed: Option<Json>,
    /// One line for people.
    pub message: String,
}

/// The results of a pass.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub rows: u64,
    /// Rows whose field count differs from the header's.
    pub ragged_rows: u64,
    pub ragged_samples: Vec<u64>,
    pub results: Vec<CheckResult>,
}

impl Outcome {
    /// True if a `fail`-severity check failed.
    pub fn failed(&self) -> bool {
        self.results.iter().any(|r| r.status == Status::Fail)
    }
}

/// A check and its running state.
struct Eval<'s> {
    check: &'s Check,
    fails: Failures,
    state: State<'s>,
}

#[allow(
    clippy::large_enum_variant,
    reason = "one state per check and a few checks per run; boxing buys nothing"
)]
enum State<'s> {
    RowCount,
    RowCountChange,
    /// A column the check needs is not in the dataset.
    Missing(String),
    /// The check cannot run (a reference dataset could not be read).
    Broken(String),
    NotNull {
        col: usize,
    },
    Unique {
        col: usize,
        seen: ValueSet,
        repeats: Repeats,
    },
    Accepted {
        col: usize,
        accepted: Accepted,
    },
    Range {
        col: usize,
        text: Option<usize>,
        bounds: (f64, f64),
    },
    Pattern {
        col: usize,
        cache: MatchCache,
    },
    Freshness {
        col: usize,
        text: Option<usize>,
        cutoff: i64,
        newest: Option<i64>,
    },
    Length {
        col: usize,
        bounds: (u64, u64),
    },
    Type {
        col: usize,
        text: usize,
        ty: ValueType,
    },
    Schema {
        typed: Vec<Typed>,
        invalid: Vec<u64>,
        scratch: Vec<bool>,
    },
    DuplicateHashes {
        seen: IntSet,
        repeats: Repeats,
    },
    DuplicateColumns {
        cols: Vec<usize>,
        seen: TextSet,
        repeats: Repeats,
        key: Vec<u8>,
    },
    Stat {
        col: usize,
        moments: Moments,
    },
    Relationship {
        col: usize,
        reference: &'s ValueSet,
    },
}

/// A suite's pass over one dataset.
pub struct Engine<'s> {
    requests: Vec<(String, ValueType)>,
    row_hashes: bool,
    evals: Vec<Eval<'s>>,
    rows: u64,
    ragged_rows: u64,
    ragged_samples: Vec<u64>,
    header: Vec<String>,
    missing: Vec<String>,
    now_us: i64,
}

impl<'s> Engine<'s> {
    /// Plans the pass: `missing` lists columns the dataset turned out not to
    /// have (their checks fail without reading them), `now_us` is the run's
    /// reference time.
    pub fn new(
        suite: &'s Suite,
        references: &'s References,
        now_us: i64,
        missing: &[String],
    ) -> Engine<'s> {
        let mut engine = Engine {
            requests: Vec::new(),
            row_hashes: false,
            evals: Vec::new(),
            rows: 0,
            ragged_rows: 0,
            ragged_samples: Vec::new(),
            header: Vec::new(),
            missing: missing.to_vec(),
            now_us,
        };
        let states: Vec<State<'s>> = suite
            .checks
            .iter()
            .map(|check| engine.plan(check, references))
            .collect();
        for (check, state) in suite.checks.iter().zip(states) {
            let state = engine.resolve(check, state);
            engine.evals.push(Eval {
                check,
                fails: Failures::default(),
                state,
            });
        }
        engine
    }

    /// The columns to read, in batch order, with their types.
    pub fn requests(&self) -> &[(String, ValueType)] {
        &self.requests
    }

    /// True if the host should hash whole rows.
    pub fn wants_row_hashes(&self) -> bool {
        self.row_hashes
    }

    /// True if a `row_count_change` check needs the previous row count.
    pub fn wants_previous_count(&self) -> bool {
        self.evals
            .iter()
            .any(|e| matches!(e.state, State::RowCountChange))
    }

    /// The dataset's column names, for schema checks and messages.
    pub fn set_header(&mut self, header: Vec<String>) {
        self.header = header;
    }

    fn is_missing(&self, column: &str) -> bool {
        self.missing.iter().any(|m| m == column)
    }

    /// The index of `(column, ty)` in the requests, adding it once.
    fn request(&mut self, column: &str, ty: ValueType) -> usize {
        match self
            .requests
            .iter()
            .position(|(c, t)| c == column && *t == ty)
        {
            Some(i) => i,
            None => {
                self.requests.push((column.to_string(), ty));
                self.requests.len() - 1
            }
        }
    }

    fn existing(&self, column: &str, ty: Option<ValueType>) -> Option<usize> {
        self.requests
            .iter()
            .position(|(c, t)| c == column && ty.is_none_or(|ty| *t == ty))
    }

    /// A check's state and requests. `not_null` and the text reads that only
    /// serve samples are settled in [`Engine::resolve`], once every typed
    /// read is known.
    fn plan(&mut self, check: &'s Check, references: &'s References) -> State<'s> {
        if let Some(column) = check.rule.column()
            && self.is_missing(column)
        {
            return State::Missing(column.to_string());
        }
        match &check.rule {
            Rule::RowCount { .. } => State::RowCount,
            Rule::RowCountChange { .. } => State::RowCountChange,
            // Resolved later: any read of the column tells nulls.
            Rule::NotNull { .. } => State::NotNull { col: usize::MAX },
            Rule::Unique { column } => State::Unique {
                col: self.request(column, ValueType::Text),
                seen: ValueSet::new(),
                repeats: Repeats::default(),
            },
            Rule::AcceptedValues { column, values } => State::Accepted {
                col: self.request(column, ValueType::Text),
                accepted: Accepted::new(values),
            },
            Rule::Range { column, min, max } => State::Range {
                col: self.request(column, ValueType::Float),
                text: None,
                bounds: (
                    min.unwrap_or(f64::NEG_INFINITY),
                    max.unwrap_or(f64::INFINITY),
                ),
            },
            Rule::Pattern {
                column, matcher, ..
            } => State::Pattern {
                col: self.request(column, ValueType::Text),
                cache: matcher.cache(),
            },
            Rule::Freshness {
                column, max_age_us, ..
            } => State::Freshness {
                col: self.request(column, ValueType::Timestamp),
                text: None,
                cutoff: self.now_us.saturating_sub(*max_age_us),
                newest: None,
            },
            Rule::Length { column, min, max } => State::Length {
                col: self.request(column, ValueType::Text),
                bounds: (min.unwrap_or(0), max.unwrap_or(u64::MAX)),
            },
            Rule::Type { column, ty } => State::Type {
                col: self.request(column, *ty),
                text: self.request(column, ValueType::Text),
                ty: *ty,
            },
            Rule::Schema { columns, .. } => {
                let mut typed = Vec::new();
                for expected in columns {
                    if let Some(ty) = expected.ty
                        && !self.is_missing(&expected.column)
                    {
                        typed.push(Typed {
                            column: expected.column.clone(),
                            ty,
                            col: self.request(&expected.column, ty),
                            text: self.request(&expected.column, ValueType::Text),
                        });
                    }
                }
                State::Schema {
                    invalid: vec![0; typed.len()],
                    typed,
                    scratch: Vec::new(),
                }
            }
            Rule::DuplicateRows { columns } if columns.is_empty() => {
                self.row_hashes = true;
                State::DuplicateHashes {
                    seen: IntSet::hashed(),
                    repeats: Repeats::default(),
                }
            }
            Rule::DuplicateRows { columns } => {
                if let Some(gone) = columns.iter().find(|c| self.is_missing(c)) {
                    return State::Missing(gone.clone());
                }
                State::DuplicateColumns {
                    cols: columns
                        .iter()
                        .map(|c| self.request(c, ValueType::Text))
                        .collect(),
                    seen: TextSet::default(),
                    repeats: Repeats::default(),
                    key: Vec::new(),
                }
            }
            Rule::Stat { column, .. } => State::Stat {
                col: self.request(column, ValueType::Float),
                moments: Moments::default(),
            },
            Rule::Relationship { column, to, field } => {
                match references.get(&(to.clone(), field.clone())) {
                    Some(Ok(reference)) => State::Relationship {
                        col: self.request(column, ValueType::Text),
                        reference,
                    },
                    Some(Err(message)) => State::Broken(message.clone()),
                    None => State::Broken(format!("`{to}` was not read")),
                }
            }
        }
    }

    fn resolve(&mut self, check: &Check, state: State<'s>) -> State<'s> {
        match state {
            State::NotNull { .. } => {
                let column = check.rule.column().unwrap_or_default();
                State::NotNull {
                    col: self
                        .existing(column, None)
                        .unwrap_or_else(|| self.request(column, ValueType::Text)),
                }
            }
            State::Range { col, bounds, .. } => State::Range {
                col,
                text: self.text_of(col),
                bounds,
            },
            State::Freshness {
                col,
                cutoff,
                newest,
                ..
            } => State::Freshness {
                col,
                text: self.text_of(col),
                cutoff,
                newest,
            },
            other => other,
        }
    }

    /// The text read of the column of request `col`, if there is one.
    fn text_of(&self, col: usize) -> Option<usize> {
        let column = &self.requests.get(col)?.0;
        self.existing(column, Some(ValueType::Text))
    }

    /// Runs every check over one batch. Fails when the batch does not carry
    /// the requested columns.
    pub fn feed(&mut self, batch: &Batch) -> Result<(), String> {
        if batch.columns.len() != self.requests.len() {
            return Err(format!(
                "the host sent {} columns, {} were asked for",
                batch.columns.len(),
                self.requests.len()
            ));
        }
        let n = batch.rows as usize;
        let first = batch.first_row;
        self.rows += u64::from(batch.rows);
        self.ragged_rows += batch.ragged_rows.len() as u64;
        for &row in &batch.ragged_rows {
            if self.ragged_samples.len() >= kernels::MAX_SAMPLES {
                break;
            }
            self.ragged_samples.push(row);
        }
        let cols: Vec<Col<'_>> = batch.columns.iter().map(Col::new).collect();
        for eval in &mut self.evals {
            eval.feed(&cols, &batch.row_hashes, n, first);
        }
        Ok(())
    }

    /// The results. `previous_count` is the row count an earlier run
    /// recorded, for `row_count_change`.
    pub fn finish(self, previous_count: Option<u64>) -> Outcome {
        let rows = self.rows;
        let results = self
            .evals
            .into_iter()
            .map(|eval| {
                let ctx = Finish {
                    rows,
                    now_us: self.now_us,
                    header: &self.header,
                    missing: &self.missing,
                    previous_count,
                };
                eval.finish(&ctx)
            })
            .collect();
        Outcome {
            rows,
            ragged_rows: self.ragged_rows,
            ragged_samples: self.ragged_samples,
            results,
        }
    }
}

impl Eval<'_> {
    fn feed(&mut self, cols: &[Col<'_>], hashes: &[u64], n: usize, first: u64) {
        let f = &mut self.fails;
        let col = |i: usize| cols.get(i).copied();
        match &mut self.state {
            State::RowCount | State::RowCountChange | State::Missing(_) | State::Broken(_) => {}
            State::NotNull { col: c } => {
                if let Some(c) = col(*c) {
                    kernels::not_null(f, c, n, first);
                }
            }
            State::Unique {
                col: c,
                seen,
                repeats,
            } => {
                if let Some(c) = col(*c) {
                    kernels::unique(f, seen, repeats, c, n, first);
                }
            }
            State::Accepted { col: c, accepted } => {
                if let Some(c) = col(*c) {
                    kernels::accepted_values(f, accepted, c, n, first);
                }
            }
            State::Range {
                col: c,
                text,
                bounds,
            } => {
                if let Some(c) = col(*c) {
                    kernels::range(f, *bounds, c, text.and_then(col), n, first);
                }
            }
            State::Pattern { col: c, cache } => {
                if let (Some(c), Rule::Pattern { matcher, .. }) = (col(*c), &self.check.rule) {
                    kernels::pattern(f, matcher, cache, c, n, first);
                }
            }
            State::Freshness {
                col: c,
                text,
                cutoff,
                newest,
            } => {
                if let Some(c) = col(*c) {
                    kernels::freshness(f, newest, *cutoff, c, text.and_then(col), n, first);
                }
            }
            State::Length { col: c, bounds } => {
                if let Some(c) = col(*c) {
                    kernels::length(f, *bounds, c, n, first);
                }
            }
            State::Type { col: c, text, ty } => {
                if let Some(c) = col(*c) {
                    kernels::invalid(f, *ty, c, col(*text), n, first);
                }
            }
            State::Schema {
                typed,
                invalid,
                scratch,
            } => kernels::schema(f, typed, invalid, scratch, cols, n, first),
            State::DuplicateHashes { seen, repeats } => {
                kernels::duplicate_hashes(f, seen, repeats, hashes, n, first);
            }
            State::DuplicateColumns {
                cols: picked,
                seen,
                repeats,
                key,
            } => {
                let picked: Vec<Col<'_>> = picked.iter().filter_map(|&i| col(i)).collect();
                let names = match &self.check.rule {
                    Rule::DuplicateRows { columns } => columns.as_slice(),
                    _ => &[],
                };
                kernels::duplicate_columns(f, seen, repeats, key, names, &picked, n, first);
            }
            State::Stat { col: c, moments } => {
                if let Some(c) = col(*c) {
                    moments.add(c, n);
                }
            }
            State::Relationship { col: c, reference } => {
                if let Some(c) = col(*c) {
                    kernels::relationship(f, reference, c, n, first);
                }
            }
        }
    }

    fn finish(self, ctx: &Finish<'_>) -> CheckResult {
        let check = self.check;
        let mut result = CheckResult {
            index: check.index,
            check: check.rule.kind(),
            name: check.name.clone(),
            column: check.rule.column().map(str::to_string),
            severity: check.severity,
            status: Status::Pass,
            failed_count: 0,
            failed_percent: 0.0,
            samples: Vec::new(),
            observed: None,
            message: String::new(),
        };
        let failed = match self.state {
            State::Missing(column) => {
                result.message = format!(
                    "column `{column}` is not in the dataset ({})",
                    ctx.columns()
                );
                true
            }
            State::Broken(message) => {
                result.message = message;
                true
            }
            State::RowCount => row_count(&mut result, &check.rule, ctx.rows),
            State::RowCountChange => {
                row_count_change(&mut result, &check.rule, ctx.rows, ctx.previous_count)
            }
            State::Stat { moments, .. } => stat(&mut result, &check.rule, &moments),
            State::Freshness { newest, .. } => {
                let rows_failed = rows_result(&mut result, check, self.fails, ctx.rows);
                freshness(&mut result, check, newest, ctx.now_us, rows_failed)
            }
            State::Schema { typed, invalid, .. } => {
                let rows_failed = rows_result(&mut result, check, self.fails, ctx.rows);
                schema(&mut result, check, ctx, &typed, &invalid, rows_failed)
            }
            _ => rows_result(&mut result, check, self.fails, ctx.rows),
        };
        result.status = match (failed, check.severity) {
            (false, _) => Status::Pass,
            (true, Severity::Warn) => Status::Warn,
            (true, Severity::Fail) => Status::Fail,
        };
        result
    }
}

/// What every check's result may depend on once the pass is over.
struct Finish<'a> {
    rows: u64,
    now_us: i64,
    header: &'a [String],
    missing: &'a [String],
    previous_count: Option<u64>,
}

impl Finish<'_> {
    fn columns(&self) -> String {
        if self.header.is_empty() {
            return "no columns were read".into();
        }
        let shown: Vec<String> = self
            .header
            .iter()
            .take(20)
            .map(|c| format!("`{c}`"))
            .collect();
        let more = self.header.len().saturating_sub(20);
        if more > 0 {
            format!("columns: {} and {more} more", shown.join(", "))
        } else {
            format!("columns: {}", shown.join(", "))
        }
    }
}

/// Fills the row counts of a row-level check; true if they exceed its
/// threshold.
fn rows_result(result: &mut CheckResult, check: &Check, fails: Failures, rows: u64) -> bool {
    result.failed_count = fails.count;
    result.failed_percent = percent(fails.count, rows);
    result.samples = fails.samples;
    let exceeded = exceeds(check.threshold, fails.count, rows);
    result.message = rows_message(check, fails.count, rows);
    exceeded
}

/// True if `failed` rows out of `rows` exceed `threshold`.
pub fn exceeds(threshold: Threshold, failed: u64, rows: u64) -> bool {
    match threshold {
        Threshold::Zero => failed > 0,
        Threshold::Count(max) => failed > max,
        Threshold::Percent(max) => percent(failed, rows) > max,
    }
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// "3 rows (0.06%) are null; up to 10 allowed".
fn rows_message(check: &Check, failed: u64, rows: u64) -> String {
    let what = match &check.rule {
        Rule::NotNull { .. } => "null".to_string(),
        Rule::Unique { .. } => "duplicated".to_string(),
        Rule::AcceptedValues { values, .. } => {
            let shown: Vec<&str> = values.iter().take(10).map(String::as_str).collect();
            let more = if values.len() > 10 { ", …" } else { "" };
            format!("not in [{}{more}]", shown.join(", "))
        }
        Rule::Range { min, max, .. } => format!("outside {}", bounds(*min, *max)),
        Rule::Pattern { regex, .. } => format!("not matching `{regex}`"),
        Rule::Freshness { max_age, .. } => format!("older than {max_age} or not timestamps"),
        Rule::Length { min, max, .. } => format!(
            "with a length outside {}",
            bounds(min.map(|v| v as f64), max.map(|v| v as f64))
        ),
        Rule::Type { ty, .. } => format!("not {}", ty.name()),
        Rule::Schema { .. } => "with a value that does not parse as its column's type".to_string(),
        Rule::DuplicateRows { .. } => "duplicated".to_string(),
        Rule::Relationship { to, field, .. } => format!("not found in `{to}` column `{field}`"),
        Rule::RowCount { .. } | Rule::RowCountChange { .. } | Rule::Stat { .. } => String::new(),
    };
    let allowed = match check.threshold {
        Threshold::Zero => String::new(),
        Threshold::Count(n) => format!("; up to {} allowed", thousands(n)),
        Threshold::Percent(p) => format!("; up to {p}% allowed"),
    };
    if failed == 0 {
        return format!("no rows {what}{allowed}");
    }
    format!(
        "{} {} ({}) {what}{allowed}",
        thousands(failed),
        if failed == 1 { "row" } else { "rows" },
        percent_text(percent(failed, rows))
    )
}

fn bounds(min: Option<f64>, max: Option<f64>) -> String {
    match (min, max) {
        (Some(lo), Some(hi)) => format!("[{lo}, {hi}]"),
        (Some(lo), None) => format!("[{lo}, ∞)"),
        (None, Some(hi)) => format!("(-∞, {hi}]"),
        (None, None) => "(-∞, ∞)".into(),
    }
}

/// A percentage with enough digits to tell small shares apart.
pub fn percent_text(p: f64) -> String {
    if p == 0.0 {
        "0%".into()
    } else if p < 0.01 {
        "<0.01%".into()
    } else if p < 10.0 {
        format!("{p:.2}%")
    } else {
        format!("{p:.1}%")
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn row_count(result: &mut CheckResult, rule: &Rule, rows: u64) -> bool {
    let Rule::RowCount { min, max } = rule else {
        return false;
    };
    result.observed = Some(json!({ "rows": rows }));
    let (low, high) = (min.is_some_and(|m| rows < m), max.is_some_and(|m| rows > m));
    result.message = match (low, high) {
        (true, _) => format!(
            "{} rows, fewer than the minimum {}",
            thousands(rows),
            thousands(min.unwrap_or(0))
        ),
        (_, true) => format!(
            "{} rows, more than the maximum {}",
            thousands(rows),
            thousands(max.unwrap_or(0))
        ),
        _ => format!(
            "{} rows, within {}",
            thousands(rows),
            bounds(min.map(|v| v as f64), max.map(|v| v as f64))
        ),
    };
    low || high
}

fn row_count_change(
    result: &mut CheckResult,
    rule: &Rule,
    rows: u64,
    previous: Option<u64>,
) -> bool {
    let Rule::RowCountChange {
        max_decrease,
        max_increase,
        max_decrease_percent,
        max_increase_percent,
    } = rule
    else {
        return false;
    };
    let Some(previous) = previous else {
        result.observed = Some(json!({ "rows": rows, "previous": null }));
        result.message = format!(
            "{} rows; no earlier run recorded a count to compare with",
            thousands(rows)
        );
        return false;
    };
    let change = rows as i128 - previous as i128;
    let change_percent = if previous == 0 {
        if rows == 0 { 0.0 } else { f64::INFINITY }
    } else {
        change as f64 * 100.0 / previous as f64
    };
    result.observed = Some(json!({
        "rows": rows,
        "previous": previous,
        "change": change as i64,
        "change_percent": if change_percent.is_finite() { json!(change_percent) } else { Json::Null },
    }));
    let decrease = (-change).max(0) as u64;
    let increase = change.max(0) as u64;
    let mut problems = Vec::new();
    if max_decrease.is_some_and(|m| decrease > m) {
        problems.push(format!("fell by {}", thousands(decrease)));
    } else if max_decrease_percent.is_some_and(|m| change < 0 && -change_percent > m) {
        problems.push(format!("fell by {:.2}%", -change_percent));
    }
    if max_increase.is_some_and(|m| increase > m) {
        problems.push(format!("grew by {}", thousands(increase)));
    } else if max_increase_percent.is_some_and(|m| change > 0 && change_percent > m) {
        problems.push(if change_percent.is_finite() {
            format!("grew by {change_percent:.2}%")
        } else {
            "grew from 0".into()
        });
    }
    let sign = if change >= 0 { "+" } else { "" };
    result.message = format!(
        "{} rows, {sign}{} since the last run ({})",
        thousands(rows),
        change,
        thousands(previous)
    );
    if !problems.is_empty() {
        result.message = format!("{}: {}", result.message, problems.join(", "));
    }
    !problems.is_empty()
}

fn stat(result: &mut CheckResult, rule: &Rule, m: &Moments) -> bool {
    let Rule::Stat { stat, min, max, .. } = rule else {
        return false;
    };
    let value = match stat {
        Stat::Mean => (m.n > 0).then_some(m.mean),
        Stat::Sum => Some(m.sum),
        Stat::Stddev => m.stddev(),
    };
    result.observed = Some(json!({
        stat.name(): value,
        "values": m.n,
        "invalid": m.invalid,
    }));
    let skipped = if m.invalid > 0 {
        format!(
            " ({} values that are not numbers skipped)",
            thousands(m.invalid)
        )
    } else {
        String::new()
    };
    let Some(value) = value else {
        result.message = format!(
            "no {} to compute: {} numeric values{skipped}",
            stat.name(),
            m.n
        );
        return true;
    };
    // NaN is inside no bounds.
    let inside = min.is_none_or(|lo| value >= lo) && max.is_none_or(|hi| value <= hi);
    let outside = !inside;
    result.message = format!(
        "{} {} {}{skipped}",
        stat.name(),
        number(value),
        if outside {
            format!("is outside {}", bounds(*min, *max))
        } else {
            format!("within {}", bounds(*min, *max))
        }
    );
    outside
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.4}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

/// Freshness fails when the newest value is older than `max_age` (or there
/// is none); stale rows fail it only past an explicit threshold.
fn freshness(
    result: &mut CheckResult,
    check: &Check,
    newest: Option<i64>,
    now_us: i64,
    rows_exceeded: bool,
) -> bool {
    let Rule::Freshness {
        max_age,
        max_age_us,
        ..
    } = &check.rule
    else {
        return false;
    };
    let rows_message = std::mem::take(&mut result.message);
    let Some(newest) = newest else {
        result.observed = Some(json!({ "newest": null, "now": duration::timestamp(now_us) }));
        result.message = "no timestamps to judge freshness by".into();
        return true;
    };
    let age = now_us.saturating_sub(newest);
    result.observed = Some(json!({
        "newest": duration::timestamp(newest),
        "age_seconds": age / 1_000_000,
        "now": duration::timestamp(now_us),
    }));
    let stale = age > *max_age_us;
    result.message = format!(
        "newest {} is {} old ({} {max_age}); {rows_message}",
        duration::timestamp(newest),
        duration::human(age),
        if stale { "more than" } else { "within" },
    );
    stale || (check.threshold != Threshold::Zero && rows_exceeded)
}

fn schema(
    result: &mut CheckResult,
    check: &Check,
    ctx: &Finish<'_>,
    typed: &[Typed],
    invalid: &[u64],
    rows_exceeded: bool,
) -> bool {
    let Rule::Schema { columns, exact } = &check.rule else {
        return false;
    };
    let missing: Vec<&str> = columns
        .iter()
        .map(|c| c.column.as_str())
        .filter(|c| ctx.missing.iter().any(|m| m == c) || !ctx.header.iter().any(|h| h == c))
        .collect();
    let extra: Vec<&str> = if *exact {
        ctx.header
            .iter()
            .map(String::as_str)
            .filter(|h| !columns.iter().any(|c| c.column == *h))
            .collect()
    } else {
        Vec::new()
    };
    let by_column: serde_json::Map<String, Json> = typed
        .iter()
        .zip(invalid)
        .filter(|(_, n)| **n > 0)
        .map(|(t, n)| {
            (
                t.column.clone(),
                json!({ "type": t.ty.name(), "invalid": n }),
            )
        })
        .collect();
    result.observed = Some(json!({
        "missing": missing,
        "unexpected": extra,
        "invalid": by_column,
    }));
    let mut problems = Vec::new();
    if !missing.is_empty() {
        problems.push(format!("missing {}", quoted(&missing)));
    }
    if !extra.is_empty() {
        problems.push(format!("unexpected {}", quoted(&extra)));
    }
    let rows_message = std::mem::take(&mut result.message);
    result.message = if problems.is_empty() {
        format!("all {} columns present; {rows_message}", columns.len())
    } else {
        format!("{}; {rows_message}", problems.join("; "))
    };
    !problems.is_empty() || rows_exceeded
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use andon_pdk::dataset::{Column, TextValues, Values};

    use super::*;
    use crate::columns::{INVALID, NULL, VALUE};
    use crate::suite;

    /// A column of text values; `None` is null.
    fn text(values: &[Option<&str>]) -> Column {
        let mut offsets = vec![0u32];
        let mut data = Vec::new();
        for v in values {
            data.extend_from_slice(v.unwrap_or("").as_bytes());
            offsets.push(data.len() as u32);
        }
        let status = values
            .iter()
            .map(|v| if v.is_some() { VALUE } else { NULL })
            .collect();
        Column {
            values: Values::Text(TextValues { offsets, data }),
            status,
        }
    }

    fn batch(first_row: u64, columns: Vec<Column>) -> Batch {
        let rows = match &columns[0].values {
            Values::Text(t) => t.offsets.len() - 1,
            Values::Int(v) => v.len(),
            Values::Float(v) => v.len(),
        };
        Batch {
            first_row,
            rows: rows as u32,
            columns,
            row_hashes: Vec::new(),
            ragged_rows: Vec::new(),
        }
    }

    /// Runs `suite` over batches built by `make` from the engine's requests.
    fn run(
        suite_text: &str,
        now_us: i64,
        make: impl Fn(&[(String, ValueType)]) -> Vec<Batch>,
    ) -> Outcome {
        let suite = suite::parse(suite_text).expect("valid suite");
        let references = References::new();
        let mut engine = Engine::new(&suite, &references, now_us, &[]);
        engine.set_header(vec!["id".into(), "email".into(), "amount".into()]);
        for b in make(engine.requests()) {
            engine.feed(&b).expect("columns match");
        }
        engine.finish(None)
    }

    fn summary(outcome: &Outcome) -> Vec<(&'static str, &'static str, u64)> {
        outcome
            .results
            .iter()
            .map(|r| (r.check, r.status.name(), r.failed_count))
            .collect()
    }

    #[test]
    fn requests_are_shared_and_not_null_reuses_any_read() {
        let suite = suite::parse(
            "checks:\n  - not_null: { column: email }\n  - pattern: { column: email, regex: '@' }\n  - unique: { column: email }\n  - range: { column: amount, min: 0 }\n  - not_null: { column: amount }\n  - type: { column: amount, type: float }\n",
        )
        .expect("valid");
        let references = References::new();
        let engine = Engine::new(&suite, &references, 0, &[]);
        assert_eq!(
            engine.requests(),
            [
                ("email".to_string(), ValueType::Text),
                ("amount".to_string(), ValueType::Float),
                ("amount".to_string(), ValueType::Text),
            ]
        );
        // The range check borrows the type check's text read for samples.
        assert!(matches!(
            engine.evals[3].state,
            State::Range { text: Some(2), .. }
        ));
        assert!(!engine.wants_row_hashes());
    }

    #[test]
    fn a_pass_over_two_batches() {
        let outcome = run(
            "checks:\n  - row_count: { min: 5 }\n  - not_null: { column: email }\n  - unique: { column: id }\n  - pattern: { column: email, regex: '^[^@]+@[^@]+$', severity: warn }\n  - range: { column: amount, min: 0, max: 100, max_count: 1 }\n",
            0,
            |requests| {
                assert_eq!(requests.len(), 3);
                vec![
                    batch(
                        1,
                        vec![
                            text(&[Some("1"), Some("2"), Some("3")]),
                            text(&[Some("a@x"), None, Some("bad")]),
                            Column {
                                values: Values::Float(vec![1.0, 200.0, 3.0]),
                                status: vec![],
                            },
                        ],
                    ),
                    batch(
                        4,
                        vec![
                            text(&[Some("2"), None]),
                            text(&[Some("b@y"), Some("c@z")]),
                            Column {
                                values: Values::Float(vec![0.0, 0.0]),
                                status: vec![INVALID, NULL],
                            },
                        ],
                    ),
                ]
            },
        );
        assert_eq!(outcome.rows, 5);
        assert_eq!(
            summary(&outcome),
            [
                ("row_count", "pass", 0),
                ("not_null", "fail", 1),
                ("unique", "fail", 2),
                ("pattern", "warn", 1),
                ("range", "fail", 2),
            ]
        );
        let unique = &outcome.results[2];
        assert_eq!(unique.samples[0].row, 4);
        assert_eq!(unique.samples[0].value, Json::from("2"));
        assert_eq!(unique.message, "2 rows (40.0%) duplicated");
        assert_eq!(
            outcome.results[4].samples[1].value,
            Json::from("(not a number)")
        );
        assert!(outcome.failed());
    }

    #[test]
    fn freshness_is_judged_on_the_newest_value() {
        const DAY: i64 = 86_400_000_000;
        let now = 20_000 * DAY;
        let ts = |values: Vec<i64>| Column {
            values: Values::Int(values),
            status: vec![],
        };
        let suite = "checks:\n  - freshness: { column: ts, max_age: 2d }\n";
        let fresh = run(suite, now, |_| {
            vec![batch(1, vec![ts(vec![now - 10 * DAY, now - DAY])])]
        });
        assert_eq!(summary(&fresh), [("freshness", "pass", 1)]);
        assert!(
            fresh.results[0].message.starts_with("newest "),
            "{}",
            fresh.results[0].message
        );
        let stale = run(suite, now, |_| {
            vec![batch(1, vec![ts(vec![now - 3 * DAY])])]
        });
        assert_eq!(summary(&stale), [("freshness", "fail", 1)]);
        let strict = "checks:\n  - freshness: { column: ts, max_age: 2d, max_percent: 10 }\n";
        let many_stale = run(strict, now, |_| {
            vec![batch(1, vec![ts(vec![now - 10 * DAY, now - DAY])])]
        });
        assert_eq!(summary(&many_stale), [("freshness", "fail", 1)]);
        let empty = run(suite, now, |_| Vec::new());
        assert_eq!(summary(&empty), [("freshness", "fail", 0)]);
    }

    #[test]
    fn thresholds() {
        assert!(!exceeds(Threshold::Zero, 0, 10));
        assert!(exceeds(Threshold::Zero, 1, 10));
        assert!(!exceeds(Threshold::Count(3), 3, 10));
        assert!(exceeds(Threshold::Count(3), 4, 10));
        assert!(!exceeds(Threshold::Percent(10.0), 1, 10));
        assert!(exceeds(Threshold::Percent(10.0), 2, 10));
        assert!(!exceeds(Threshold::Percent(0.0), 0, 0));
    }

    #[test]
    fn missing_columns_fail_their_checks_and_others_run() {
        let suite = suite::parse(
            "checks:\n  - not_null: { column: nope }\n  - not_null: { column: id }\n  - schema: { columns: { id: int, nope: text } }\n",
        )
        .expect("valid");
        let references = References::new();
        let mut engine = Engine::new(&suite, &references, 0, &["nope".to_string()]);
        assert_eq!(
            engine.requests(),
            [
                ("id".to_string(), ValueType::Int),
                ("id".to_string(), ValueType::Text)
            ]
        );
        engine.set_header(vec!["id".into()]);
        engine
            .feed(&batch(
                1,
                vec![
                    Column {
                        values: Values::Int(vec![1, 0]),
                        status: vec![VALUE, INVALID],
                    },
                    text(&[Some("1"), Some("x")]),
                ],
            ))
            .expect("columns match");
        let outcome = engine.finish(None);
        assert_eq!(
            summary(&outcome),
            [
                ("not_null", "fail", 0),
                ("not_null", "pass", 0),
                ("schema", "fail", 1)
            ]
        );
        assert_eq!(
            outcome.results[0].message,
            "column `nope` is not in the dataset (columns: `id`)"
        );
        assert!(
            outcome.results[2].message.starts_with("missing `nope`"),
            "{}",
            outcome.results[2].message
        );
        assert_eq!(outcome.results[2].samples[0].value, Json::from("id: x"));
    }

    #[test]
    fn row_count_change_against_the_previous_run() {
        let suite = suite::parse(
            "checks:\n  - row_count_change: { max_decrease_percent: 10, max_increase: 5 }\n",
        )
        .expect("valid");
        let references = References::new();
        let outcome_for = |rows: u32, previous: Option<u64>| {
            let mut engine = Engine::new(&suite, &references, 0, &[]);
            assert!(engine.wants_previous_count());
            engine
                .feed(&Batch {
                    first_row: 1,
                    rows,
                    columns: Vec::new(),
                    row_hashes: Vec::new(),
                    ragged_rows: Vec::new(),
                })
                .expect("no columns");
            engine.finish(previous)
        };
        assert_eq!(outcome_for(100, None).results[0].status, Status::Pass);
        assert_eq!(outcome_for(95, Some(100)).results[0].status, Status::Pass);
        let fell = outcome_for(80, Some(100));
        assert_eq!(fell.results[0].status, Status::Fail);
        assert!(
            fell.results[0].message.ends_with("fell by 20.00%"),
            "{}",
            fell.results[0].message
        );
        assert_eq!(outcome_for(106, Some(100)).results[0].status, Status::Fail);
        assert_eq!(outcome_for(5, Some(0)).results[0].status, Status::Pass);
    }

    #[test]
    fn stats_relationships_and_broken_references() {
        let suite = suite::parse(
            "checks:\n  - mean: { column: amount, min: 1, max: 2 }\n  - stddev: { column: amount, max: 0.1 }\n  - relationship: { column: id, to: c.csv, field: id }\n  - relationship: { column: id, to: gone.csv, field: id }\n",
        )
        .expect("valid");
        let mut known = ValueSet::new();
        known.insert(b"1");
        let mut references = References::new();
        references.insert(("c.csv".into(), "id".into()), Ok(known));
        references.insert(
            ("gone.csv".into(), "id".into()),
            Err("cannot read `gone.csv`: not found".into()),
        );
        let mut engine = Engine::new(&suite, &references, 0, &[]);
        assert_eq!(engine.requests().len(), 2);
        engine
            .feed(&batch(
                1,
                vec![
                    Column {
                        values: Values::Float(vec![1.0, 2.0]),
                        status: vec![],
                    },
                    text(&[Some("1"), Some("2")]),
                ],
            ))
            .expect("columns match");
        let outcome = engine.finish(None);
        assert_eq!(
            summary(&outcome),
            [
                ("mean", "pass", 0),
                ("stddev", "fail", 0),
                ("relationship", "fail", 1),
                ("relationship", "fail", 0),
            ]
        );
        assert_eq!(outcome.results[0].message, "mean 1.5 within [1, 2]");
        assert_eq!(
            outcome.results[3].message,
            "cannot read `gone.csv`: not found"
        );
    }

    #[test]
    fn a_batch_with_the_wrong_columns_is_an_error() {
        let suite = suite::parse("checks:\n  - not_null: { column: id }\n").expect("valid");
        let references = References::new();
        let mut engine = Engine::new(&suite, &references, 0, &[]);
        assert!(
            engine
                .feed(&batch(1, vec![text(&[Some("1")]), text(&[Some("1")])]))
                .is_err()
        );
    }

    #[test]
    fn numbers_for_people() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(percent_text(0.004), "<0.01%");
        assert_eq!(percent_text(12.345), "12.3%");
        assert_eq!(number(2.5), "2.5");
        assert_eq!(number(3.0), "3");
    }
}
