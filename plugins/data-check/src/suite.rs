//! The suite file: which dataset, which checks. Parsing turns YAML into
//! typed checks, or into one error that names the check, its line, the key
//! and a hint.

use crate::duration;
use crate::pattern::Matcher;
use crate::yaml::{self, Node, Value};

/// A parsed suite.
#[derive(Debug)]
pub struct Suite {
    /// The dataset's path in the repository, unless the step names one.
    pub dataset: Option<String>,
    /// The layout, when the extension does not tell.
    pub format: Option<DataFormat>,
    /// The checks, in file order.
    pub checks: Vec<Check>,
}

/// How a dataset's bytes are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataFormat {
    Csv,
    JsonLines,
}

/// One check of the suite.
#[derive(Debug)]
pub struct Check {
    /// 1-based position in `checks:`.
    pub index: usize,
    /// The line it starts on in the suite file.
    pub line: usize,
    /// An optional display name (`name:`).
    pub name: Option<String>,
    /// What a failure means for the check run.
    pub severity: Severity,
    /// How many failing rows are tolerated.
    pub threshold: Threshold,
    /// What is checked.
    pub rule: Rule,
}

/// What a failed check does to the check run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Reported, but the check run still succeeds.
    Warn,
    /// Fails the check run.
    Fail,
}

/// How many failing rows a row-level check tolerates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    /// None: one failing row fails the check.
    Zero,
    /// At most this many rows.
    Count(u64),
    /// At most this share of the dataset's rows, in percent.
    Percent(f64),
}

/// The types `type` and `schema` check values against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ValueType {
    /// Any value (only in `schema`).
    Text,
    Int,
    Float,
    Bool,
    Date,
    Timestamp,
}

impl ValueType {
    pub fn name(self) -> &'static str {
        match self {
            ValueType::Text => "text",
            ValueType::Int => "int",
            ValueType::Float => "float",
            ValueType::Bool => "bool",
            ValueType::Date => "date",
            ValueType::Timestamp => "timestamp",
        }
    }
}

/// `mean`, `sum` and `stddev`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stat {
    Mean,
    Sum,
    Stddev,
}

impl Stat {
    pub fn name(self) -> &'static str {
        match self {
            Stat::Mean => "mean",
            Stat::Sum => "sum",
            Stat::Stddev => "stddev",
        }
    }
}

/// One expected column of a `schema` check.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    pub column: String,
    /// `None` or `Text`: any value.
    pub ty: Option<ValueType>,
}

/// What a check verifies.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "a suite holds a few checks; a compiled pattern inline is simpler than a box"
)]
pub enum Rule {
    RowCount {
        min: Option<u64>,
        max: Option<u64>,
    },
    RowCountChange {
        max_decrease: Option<u64>,
        max_increase: Option<u64>,
        max_decrease_percent: Option<f64>,
        max_increase_percent: Option<f64>,
    },
    NotNull {
        column: String,
    },
    Unique {
        column: String,
    },
    AcceptedValues {
        column: String,
        values: Vec<String>,
    },
    Range {
        column: String,
        min: Option<f64>,
        max: Option<f64>,
    },
    Pattern {
        column: String,
        regex: String,
        matcher: Matcher,
    },
    Freshness {
        column: String,
        /// As written (`2d`), for messages.
        max_age: String,
        max_age_us: i64,
    },
    Length {
        column: String,
        min: Option<u64>,
        max: Option<u64>,
    },
    Type {
        column: String,
        ty: ValueType,
    },
    Schema {
        columns: Vec<Expected>,
        /// No columns beyond the expected ones.
        exact: bool,
    },
    DuplicateRows {
        /// The columns that make a row; empty means all of them.
        columns: Vec<String>,
    },
    Stat {
        stat: Stat,
        column: String,
        min: Option<f64>,
        max: Option<f64>,
    },
    Relationship {
        column: String,
        /// The other dataset's path in the repository.
        to: String,
        /// Its column.
        field: String,
    },
}

impl Rule {
    /// The check's name as written in the suite.
    pub fn kind(&self) -> &'static str {
        match self {
            Rule::RowCount { .. } => "row_count",
            Rule::RowCountChange { .. } => "row_count_change",
            Rule::NotNull { .. } => "not_null",
            Rule::Unique { .. } => "unique",
            Rule::AcceptedValues { .. } => "accepted_values",
            Rule::Range { .. } => "range",
            Rule::Pattern { .. } => "pattern",
            Rule::Freshness { .. } => "freshness",
            Rule::Length { .. } => "length",
            Rule::Type { .. } => "type",
            Rule::Schema { .. } => "schema",
            Rule::DuplicateRows { .. } => "duplicate_rows",
            Rule::Stat { stat, .. } => stat.name(),
            Rule::Relationship { .. } => "relationship",
        }
    }

    /// The one column the check is about, if it has one.
    pub fn column(&self) -> Option<&str> {
        match self {
            Rule::NotNull { column }
            | Rule::Unique { column }
            | Rule::AcceptedValues { column, .. }
            | Rule::Range { column, .. }
            | Rule::Pattern { column, .. }
            | Rule::Freshness { column, .. }
            | Rule::Length { column, .. }
            | Rule::Type { column, .. }
            | Rule::Stat { column, .. }
            | Rule::Relationship { column, .. } => Some(column),
            Rule::RowCount { .. }
            | Rule::RowCountChange { .. }
            | Rule::Schema { .. }
            | Rule::DuplicateRows { .. } => None,
        }
    }
}

/// A mistake in the suite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuiteError {
    /// 1-based line, 0 when unknown.
    pub line: usize,
    pub message: String,
    pub hint: Option<String>,
}

impl SuiteError {
    /// The error as one message for `invalid-config`, prefixed with the
    /// suite's path and line.
    pub fn render(&self, path: &str) -> String {
        let place = if self.line > 0 {
            format!("{path}:{}", self.line)
        } else {
            path.to_string()
        };
        match &self.hint {
            Some(hint) => format!("{place}: {}; hint: {hint}", self.message),
            None => format!("{place}: {}", self.message),
        }
    }
}

/// Every check's name, for suggestions.
pub const CHECKS: &[&str] = &[
    "row_count",
    "row_count_change",
    "not_null",
    "unique",
    "accepted_values",
    "range",
    "pattern",
    "freshness",
    "length",
    "type",
    "schema",
    "duplicate_rows",
    "mean",
    "sum",
    "stddev",
    "relationship",
];

const TOP_KEYS: &[&str] = &["dataset", "format", "checks"];
const COMMON_KEYS: &[&str] = &["severity", "name"];
const THRESHOLD_KEYS: &[&str] = &["max_count", "max_percent"];
const TYPES: &[&str] = &[
    "int",
    "integer",
    "float",
    "number",
    "bool",
    "boolean",
    "date",
    "timestamp",
    "datetime",
    "text",
    "string",
];

/// Parses a suite file.
pub fn parse(text: &str) -> Result<Suite, SuiteError> {
    let root = yaml::parse(text).map_err(|e| SuiteError {
        line: e.line,
        message: format!("invalid YAML: {}", e.message),
        hint: None,
    })?;
    let Value::Map(entries) = &root.value else {
        return Err(error(
            &root,
            format!("a suite is a mapping, not {}", root.kind()),
            Some("start with `dataset:` and `checks:`".into()),
        ));
    };
    let mut suite = Suite {
        dataset: None,
        format: None,
        checks: Vec::new(),
    };
    let mut saw_checks = false;
    for (key, value) in entries {
        match key_name(key)? {
            "dataset" => suite.dataset = Some(string(value, "`dataset`")?),
            "format" => {
                suite.format = Some(match string(value, "`format`")?.as_str() {
                    "csv" => DataFormat::Csv,
                    "jsonl" | "json_lines" | "ndjson" => DataFormat::JsonLines,
                    other => {
                        return Err(error(
                            value,
                            format!("unknown format `{other}`"),
                            Some("use `csv` or `jsonl`".into()),
                        ));
                    }
                });
            }
            "checks" => {
                saw_checks = true;
                let Value::Seq(items) = &value.value else {
                    return Err(error(
                        value,
                        format!("`checks` must be a list, not {}", value.kind()),
                        Some("write each check as `- not_null: { column: id }`".into()),
                    ));
                };
                for (i, item) in items.iter().enumerate() {
                    suite.checks.push(check(i + 1, item)?);
                }
            }
            other => return Err(unknown_key(key, other, "the suite", TOP_KEYS)),
        }
    }
    if !saw_checks || suite.checks.is_empty() {
        return Err(error(
            &root,
            "the suite has no checks".into(),
            Some("add `checks:` with at least one check, e.g. `- row_count: { min: 1 }`".into()),
        ));
    }
    Ok(suite)
}

/// One `checks:` item: a mapping with one key, the check's name, whose value
/// holds its parameters. A check without parameters may be a bare name.
fn check(index: usize, item: &Node) -> Result<Check, SuiteError> {
    let empty = Node {
        value: Value::Map(Vec::new()),
        line: item.line,
        column: item.column,
    };
    let (name_node, params) = match &item.value {
        Value::Str(_) => (item, &empty),
        Value::Map(entries) if entries.len() == 1 => (&entries[0].0, &entries[0].1),
        Value::Map(entries) if entries.len() > 1 => {
            return Err(error(
                item,
                format!(
                    "check {index} has {} keys; a check is one name with its parameters",
                    entries.len()
                ),
                Some(
                    "indent the parameters under the name: `- range: { column: x, min: 0 }`".into(),
                ),
            ));
        }
        _ => {
            return Err(error(
                item,
                format!("check {index} must be a mapping, not {}", item.kind()),
                Some("for example `- not_null: { column: email }`".into()),
            ));
        }
    };
    let kind = key_name(name_node)?;
    let Some(kind) = CHECKS.iter().copied().find(|c| *c == kind) else {
        return Err(error(
            name_node,
            format!("check {index}: unknown check `{kind}`"),
            Some(suggest(kind, CHECKS)),
        ));
    };
    let params = match &params.value {
        Value::Map(entries) => Params {
            index,
            kind,
            node: params,
            entries,
        },
        Value::Null => Params {
            index,
            kind,
            node: params,
            entries: &[],
        },
        _ => {
            return Err(error(
                params,
                format!(
                    "check {index} (`{kind}`): parameters must be a mapping, not {}",
                    params.kind()
                ),
                Some(format!("for example `- {kind}: {{ column: x }}`")),
            ));
        }
    };
    let (keys, row_level) = keys(kind);
    let mut allowed: Vec<&str> = keys.to_vec();
    allowed.extend_from_slice(COMMON_KEYS);
    if row_level {
        allowed.extend_from_slice(THRESHOLD_KEYS);
    }
    params.only(&allowed, row_level)?;
    let rule = rule(&params)?;
    let severity = match params.opt_string("severity")?.as_deref() {
        None | Some("fail") | Some("error") => Severity::Fail,
        Some("warn") | Some("warning") => Severity::Warn,
        Some(other) => {
            return Err(params.error(
                "severity",
                format!("unknown severity `{other}`"),
                Some("use `warn` or `fail`".into()),
            ));
        }
    };
    let threshold = match (params.opt_u64("max_count")?, params.opt_f64("max_percent")?) {
        (Some(_), Some(_)) => {
            return Err(params.error(
                "max_percent",
                "give `max_count` or `max_percent`, not both".into(),
                None,
            ));
        }
        (Some(n), None) => Threshold::Count(n),
        (None, Some(p)) if (0.0..=100.0).contains(&p) => Threshold::Percent(p),
        (None, Some(p)) => {
            return Err(params.error(
                "max_percent",
                format!("`max_percent` is a percentage from 0 to 100, not {p}"),
                None,
            ));
        }
        (None, None) => Threshold::Zero,
    };
    Ok(Check {
        index,
        line: name_node.line,
        name: params.opt_string("name")?,
        severity,
        threshold,
        rule,
    })
}

/// The keys a check takes, and whether it counts rows (and so takes a
/// threshold).
fn keys(kind: &str) -> (&'static [&'static str], bool) {
    match kind {
        "row_count" => (&["min", "max"], false),
        "row_count_change" => (ROW_COUNT_CHANGE_KEYS, false),
        "not_null" | "unique" => (&["column"], true),
        "accepted_values" => (&["column", "values"], true),
        "range" | "length" => (&["column", "min", "max"], true),
        "pattern" => (&["column", "regex"], true),
        "freshness" => (&["column", "max_age"], true),
        "type" => (&["column", "type"], true),
        "schema" => (&["columns", "exact"], true),
        "duplicate_rows" => (&["columns"], true),
        "mean" | "sum" | "stddev" => (&["column", "min", "max"], false),
        "relationship" => (&["column", "to", "field"], true),
        _ => (&[], false),
    }
}

const ROW_COUNT_CHANGE_KEYS: &[&str] = &[
    "max_decrease",
    "max_increase",
    "max_decrease_percent",
    "max_increase_percent",
];

/// The rule of a check whose keys are known to be allowed.
fn rule(p: &Params<'_>) -> Result<Rule, SuiteError> {
    Ok(match p.kind {
        "row_count" => {
            let (min, max) = (p.opt_u64("min")?, p.opt_u64("max")?);
            p.bounds(min.map(|v| v as f64), max.map(|v| v as f64))?;
            Rule::RowCount { min, max }
        }
        "row_count_change" => {
            let rule = Rule::RowCountChange {
                max_decrease: p.opt_u64("max_decrease")?,
                max_increase: p.opt_u64("max_increase")?,
                max_decrease_percent: p.opt_percent("max_decrease_percent")?,
                max_increase_percent: p.opt_percent("max_increase_percent")?,
            };
            if !ROW_COUNT_CHANGE_KEYS.iter().any(|k| p.get(k).is_some()) {
                return Err(p.error(
                    "",
                    "needs at least one of `max_decrease`, `max_increase`, \
                     `max_decrease_percent`, `max_increase_percent`"
                        .into(),
                    Some("for example `- row_count_change: { max_decrease_percent: 10 }`".into()),
                ));
            }
            rule
        }
        "not_null" => Rule::NotNull {
            column: p.column()?,
        },
        "unique" => Rule::Unique {
            column: p.column()?,
        },
        "accepted_values" => {
            let values = p.string_list("values")?;
            if values.is_empty() {
                return Err(p.error(
                    "values",
                    "`values` is empty".into(),
                    Some("list the accepted values: `values: [new, paid]`".into()),
                ));
            }
            Rule::AcceptedValues {
                column: p.column()?,
                values,
            }
        }
        "range" => {
            let (min, max) = (p.opt_f64("min")?, p.opt_f64("max")?);
            p.bounds(min, max)?;
            Rule::Range {
                column: p.column()?,
                min,
                max,
            }
        }
        "pattern" => {
            let regex = p.required_string("regex")?;
            let matcher = Matcher::new(&regex).map_err(|e| {
                p.error(
                    "regex",
                    format!("invalid `regex`: {e}"),
                    Some("the syntax is Rust's `regex` crate (like RE2); quote it in YAML".into()),
                )
            })?;
            Rule::Pattern {
                column: p.column()?,
                regex,
                matcher,
            }
        }
        "freshness" => {
            let max_age = match p.get("max_age").map(|n| &n.value) {
                Some(Value::Str(s)) => s.clone(),
                Some(Value::Int(i)) => format!("{i}s"),
                _ => {
                    return Err(p.error(
                        "max_age",
                        "needs `max_age`, a duration".into(),
                        Some("for example `max_age: 2d` (units s, m, h, d, w)".into()),
                    ));
                }
            };
            let max_age_us = duration::parse_micros(&max_age).ok_or_else(|| {
                p.error(
                    "max_age",
                    format!("`{max_age}` is not a duration"),
                    Some("write a number and a unit: `90m`, `12h`, `2d`, `1w`, `1d12h`".into()),
                )
            })?;
            Rule::Freshness {
                column: p.column()?,
                max_age,
                max_age_us,
            }
        }
        "length" => {
            let (min, max) = (p.opt_u64("min")?, p.opt_u64("max")?);
            p.bounds(min.map(|v| v as f64), max.map(|v| v as f64))?;
            Rule::Length {
                column: p.column()?,
                min,
                max,
            }
        }
        "type" => {
            let ty = p.value_type("type")?;
            if ty == ValueType::Text {
                return Err(p.error(
                    "type",
                    "every value is text; `type` checks int, float, bool, date or timestamp".into(),
                    None,
                ));
            }
            Rule::Type {
                column: p.column()?,
                ty,
            }
        }
        "schema" => {
            let columns = p.expected_columns()?;
            let exact = p.opt_bool("exact")?.unwrap_or(false);
            Rule::Schema { columns, exact }
        }
        "duplicate_rows" => {
            let columns = if p.get("columns").is_some() {
                p.string_list("columns")?
            } else {
                Vec::new()
            };
            Rule::DuplicateRows { columns }
        }
        "mean" | "sum" | "stddev" => {
            let stat = match p.kind {
                "mean" => Stat::Mean,
                "sum" => Stat::Sum,
                _ => Stat::Stddev,
            };
            let (min, max) = (p.opt_f64("min")?, p.opt_f64("max")?);
            p.bounds(min, max)?;
            Rule::Stat {
                stat,
                column: p.column()?,
                min,
                max,
            }
        }
        "relationship" => Rule::Relationship {
            column: p.column()?,
            to: p.required_string("to")?,
            field: p.required_string("field")?,
        },
        other => {
            return Err(p.error(
                "",
                format!("unknown check `{other}`"),
                Some(suggest(other, CHECKS)),
            ));
        }
    })
}

/// A check's parameter mapping, with accessors that explain mistakes.
struct Params<'a> {
    index: usize,
    kind: &'static str,
    node: &'a Node,
    entries: &'a [(Node, Node)],
}

impl Params<'_> {
    fn get(&self, key: &str) -> Option<&Node> {
        self.entries
            .iter()
            .find(|(k, _)| matches!(&k.value, Value::Str(s) if s == key))
            .map(|(_, v)| v)
    }

    /// An error about `key` (or the whole check when `key` is empty), at the
    /// key's line.
    #[allow(
        clippy::needless_pass_by_value,
        reason = "callers build the message with format!"
    )]
    fn error(&self, key: &str, message: String, hint: Option<String>) -> SuiteError {
        let line = self
            .entries
            .iter()
            .find(|(k, _)| matches!(&k.value, Value::Str(s) if s == key))
            .map_or(self.node.line, |(k, _)| k.line);
        let subject = if key.is_empty() {
            format!("check {} (`{}`)", self.index, self.kind)
        } else {
            format!("check {} (`{}`), `{key}`", self.index, self.kind)
        };
        SuiteError {
            line,
            message: format!("{subject}: {message}"),
            hint,
        }
    }

    /// Refuses keys the check does not take.
    fn only(&self, allowed: &[&str], row_level: bool) -> Result<(), SuiteError> {
        for (key, _) in self.entries {
            let name = key_name(key)?;
            if allowed.contains(&name) {
                continue;
            }
            let hint = if THRESHOLD_KEYS.contains(&name) && !row_level {
                format!(
                    "`{}` judges the whole dataset, so it takes no row threshold",
                    self.kind
                )
            } else {
                suggest(name, allowed)
            };
            return Err(SuiteError {
                line: key.line,
                message: format!(
                    "check {} (`{}`): unknown key `{name}`",
                    self.index, self.kind
                ),
                hint: Some(hint),
            });
        }
        Ok(())
    }

    fn column(&self) -> Result<String, SuiteError> {
        self.required_string("column")
    }

    fn required_string(&self, key: &str) -> Result<String, SuiteError> {
        match self.opt_string(key)? {
            Some(s) if !s.is_empty() => Ok(s),
            Some(_) => Err(self.error(key, format!("`{key}` is empty"), None)),
            None => Err(self.error(
                "",
                format!("needs `{key}`"),
                Some(format!("for example `- {}: {{ {key}: ... }}`", self.kind)),
            )),
        }
    }

    fn opt_string(&self, key: &str) -> Result<Option<String>, SuiteError> {
        match self.get(key) {
            None => Ok(None),
            Some(node) => match &node.value {
                Value::Str(s) => Ok(Some(s.clone())),
                Value::Int(_) | Value::Float(_) | Value::Bool(_) => Ok(node.scalar()),
                _ => Err(self.error(
                    key,
                    format!("`{key}` must be a string, not {}", node.kind()),
                    None,
                )),
            },
        }
    }

    fn opt_bool(&self, key: &str) -> Result<Option<bool>, SuiteError> {
        match self.get(key).map(|n| (&n.value, n)) {
            None => Ok(None),
            Some((Value::Bool(b), _)) => Ok(Some(*b)),
            Some((_, node)) => Err(self.error(
                key,
                format!("`{key}` must be `true` or `false`, not {}", node.kind()),
                None,
            )),
        }
    }

    fn opt_u64(&self, key: &str) -> Result<Option<u64>, SuiteError> {
        match self.get(key).map(|n| (&n.value, n)) {
            None => Ok(None),
            Some((Value::Int(i), _)) if *i >= 0 => Ok(Some(i.unsigned_abs())),
            Some((_, node)) => Err(self.error(
                key,
                format!(
                    "`{key}` must be a whole number of at least 0, not {}",
                    describe(node)
                ),
                None,
            )),
        }
    }

    fn opt_f64(&self, key: &str) -> Result<Option<f64>, SuiteError> {
        match self.get(key).map(|n| (&n.value, n)) {
            None => Ok(None),
            Some((Value::Int(i), _)) => Ok(Some(*i as f64)),
            Some((Value::Float(f), _)) if f.is_finite() => Ok(Some(*f)),
            Some((_, node)) => Err(self.error(
                key,
                format!("`{key}` must be a number, not {}", describe(node)),
                None,
            )),
        }
    }

    fn opt_percent(&self, key: &str) -> Result<Option<f64>, SuiteError> {
        match self.opt_f64(key)? {
            Some(p) if p < 0.0 => Err(self.error(
                key,
                format!("`{key}` is a percentage of at least 0, not {p}"),
                None,
            )),
            other => Ok(other),
        }
    }

    /// At least one bound, and `min` not above `max`.
    fn bounds(&self, min: Option<f64>, max: Option<f64>) -> Result<(), SuiteError> {
        match (min, max) {
            (None, None) => Err(self.error(
                "",
                "needs `min`, `max` or both".into(),
                Some(format!("for example `- {}: {{ min: 1 }}`", self.kind)),
            )),
            (Some(lo), Some(hi)) if lo > hi => {
                Err(self.error("min", format!("`min` ({lo}) is above `max` ({hi})"), None))
            }
            _ => Ok(()),
        }
    }

    /// A list of scalars as text (`values: [new, 1, true]`).
    fn string_list(&self, key: &str) -> Result<Vec<String>, SuiteError> {
        let Some(node) = self.get(key) else {
            return Err(self.error(
                "",
                format!("needs `{key}`"),
                Some(format!("for example `{key}: [a, b]`")),
            ));
        };
        let Value::Seq(items) = &node.value else {
            return Err(self.error(
                key,
                format!("`{key}` must be a list, not {}", node.kind()),
                Some(format!("for example `{key}: [a, b]`")),
            ));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                item.scalar().ok_or_else(|| {
                    self.error(
                        key,
                        format!(
                            "item {} of `{key}` must be a scalar, not {}",
                            i + 1,
                            item.kind()
                        ),
                        None,
                    )
                })
            })
            .collect()
    }

    fn value_type(&self, key: &str) -> Result<ValueType, SuiteError> {
        let name = self.required_string(key)?;
        type_named(&name).ok_or_else(|| {
            self.error(
                key,
                format!("unknown type `{name}`"),
                Some(suggest(&name, TYPES)),
            )
        })
    }

    /// `columns:` of a schema: a mapping of names to types (`~` or `text`
    /// for any), or a list of names.
    fn expected_columns(&self) -> Result<Vec<Expected>, SuiteError> {
        let Some(node) = self.get("columns") else {
            return Err(self.error(
                "",
                "needs `columns`".into(),
                Some("for example `columns: { id: int, email: text }`".into()),
            ));
        };
        let columns = match &node.value {
            Value::Map(entries) => entries
                .iter()
                .map(|(k, v)| {
                    let column = key_name(k)?.to_string();
                    let ty = match &v.value {
                        Value::Null => None,
                        Value::Str(t) => Some(type_named(t).ok_or_else(|| SuiteError {
                            line: v.line,
                            message: format!(
                                "check {} (`schema`), column `{column}`: unknown type `{t}`",
                                self.index
                            ),
                            hint: Some(suggest(t, TYPES)),
                        })?),
                        _ => {
                            return Err(SuiteError {
                                line: v.line,
                                message: format!(
                                    "check {} (`schema`), column `{column}`: the type must be a \
                                     name, not {}",
                                    self.index,
                                    v.kind()
                                ),
                                hint: Some("int, float, bool, date, timestamp or text".into()),
                            });
                        }
                    };
                    Ok(Expected {
                        column,
                        ty: ty.filter(|t| *t != ValueType::Text),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
            Value::Seq(_) => self
                .string_list("columns")?
                .into_iter()
                .map(|column| Expected { column, ty: None })
                .collect(),
            _ => {
                return Err(self.error(
                    "columns",
                    format!("`columns` must be a mapping or a list, not {}", node.kind()),
                    Some("for example `columns: { id: int, email: text }`".into()),
                ));
            }
        };
        if columns.is_empty() {
            return Err(self.error("columns", "`columns` is empty".into(), None));
        }
        Ok(columns)
    }
}

fn type_named(name: &str) -> Option<ValueType> {
    Some(match name {
        "int" | "integer" => ValueType::Int,
        "float" | "number" => ValueType::Float,
        "bool" | "boolean" => ValueType::Bool,
        "date" => ValueType::Date,
        "timestamp" | "datetime" => ValueType::Timestamp,
        "text" | "string" => ValueType::Text,
        _ => return None,
    })
}

fn describe(node: &Node) -> String {
    match &node.value {
        Value::Str(s) => format!("`{s}`"),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        _ => node.kind().to_string(),
    }
}

fn key_name(key: &Node) -> Result<&str, SuiteError> {
    match &key.value {
        Value::Str(s) => Ok(s),
        _ => Err(error(
            key,
            format!("keys must be names, not {}", key.kind()),
            None,
        )),
    }
}

fn string(node: &Node, what: &str) -> Result<String, SuiteError> {
    match &node.value {
        Value::Str(s) if !s.is_empty() => Ok(s.clone()),
        _ => Err(error(
            node,
            format!("{what} must be a non-empty string, not {}", node.kind()),
            None,
        )),
    }
}

fn error(node: &Node, message: String, hint: Option<String>) -> SuiteError {
    SuiteError {
        line: node.line,
        message,
        hint,
    }
}

fn unknown_key(key: &Node, name: &str, place: &str, known: &[&str]) -> SuiteError {
    error(
        key,
        format!("unknown key `{name}` in {place}"),
        Some(suggest(name, known)),
    )
}

/// "did you mean `x`?" for the closest known name, else the list.
fn suggest(name: &str, known: &[&str]) -> String {
    let best = known
        .iter()
        .map(|k| (edit_distance(name, k), *k))
        .min_by_key(|(d, _)| *d);
    match best {
        Some((d, k)) if d <= 2.max(name.len() / 3) => format!("did you mean `{k}`?"),
        _ => format!("expected one of {}", list(known)),
    }
}

fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUE_SUITE: &str = r#"
dataset: data/orders.csv
checks:
  - row_count: { min: 1000 }
  - not_null: { column: email }
  - unique: { column: id }
  - accepted_values: { column: status, values: [new, paid, shipped] }
  - range: { column: amount, min: 0, max: 10000 }
  - pattern: { column: email, regex: "^[^@]+@[^@]+$" }
  - freshness: { column: ts, max_age: 2d }
"#;

    fn parse_err(text: &str) -> String {
        parse(text).expect_err("invalid suite").render("s.yml")
    }

    #[test]
    fn the_issue_suite_parses() {
        let suite = parse(ISSUE_SUITE).expect("valid");
        assert_eq!(suite.dataset.as_deref(), Some("data/orders.csv"));
        let kinds: Vec<&str> = suite.checks.iter().map(|c| c.rule.kind()).collect();
        assert_eq!(
            kinds,
            [
                "row_count",
                "not_null",
                "unique",
                "accepted_values",
                "range",
                "pattern",
                "freshness"
            ]
        );
        assert_eq!(suite.checks[0].line, 4);
        assert_eq!(suite.checks[6].index, 7);
        match &suite.checks[6].rule {
            Rule::Freshness { max_age_us, .. } => assert_eq!(*max_age_us, 2 * 86_400_000_000),
            other => panic!("{other:?}"),
        }
        assert!(
            suite
                .checks
                .iter()
                .all(|c| c.severity == Severity::Fail && c.threshold == Threshold::Zero)
        );
    }

    #[test]
    fn every_check_parses() {
        let suite = parse(
            r#"
checks:
  - row_count_change: { max_decrease_percent: 10, severity: warn }
  - length: { column: email, min: 3, max: 254, max_percent: 0.5 }
  - type: { column: amount, type: float, max_count: 3 }
  - schema: { columns: { id: int, email: ~, ts: timestamp }, exact: true }
  - schema: { columns: [id, email] }
  - duplicate_rows
  - duplicate_rows: { columns: [id, email] }
  - mean: { column: amount, min: 10, max: 1000 }
  - sum: { column: amount, max: 1e9 }
  - stddev: { column: amount, max: 5000 }
  - relationship: { column: customer_id, to: data/customers.csv, field: id, name: fk }
  - accepted_values: { column: quantity, values: [1, 2, 3] }
"#,
        )
        .expect("valid");
        assert_eq!(suite.checks.len(), 12);
        assert_eq!(suite.checks[0].severity, Severity::Warn);
        assert_eq!(suite.checks[1].threshold, Threshold::Percent(0.5));
        assert_eq!(suite.checks[2].threshold, Threshold::Count(3));
        match &suite.checks[3].rule {
            Rule::Schema { columns, exact } => {
                assert!(*exact);
                assert_eq!(columns[1].ty, None);
                assert_eq!(columns[2].ty, Some(ValueType::Timestamp));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(suite.checks[10].name.as_deref(), Some("fk"));
        match &suite.checks[11].rule {
            Rule::AcceptedValues { values, .. } => assert_eq!(values, &["1", "2", "3"]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn mistakes_name_the_check_line_key_and_a_hint() {
        let cases = [
            (
                "checks:\n  - not_nul: { column: a }\n",
                "s.yml:2: check 1: unknown check `not_nul`; hint: did you mean `not_null`?",
            ),
            (
                "checks:\n  - row_count: { min: 1 }\n  - range: { column: a, mn: 0 }\n",
                "s.yml:3: check 2 (`range`): unknown key `mn`; hint: did you mean `min`?",
            ),
            (
                "checks:\n  - range:\n      column: a\n      min: zero\n",
                "s.yml:4: check 1 (`range`), `min`: `min` must be a number, not `zero`",
            ),
            (
                "checks:\n  - row_count: { min: 1, max_count: 3 }\n",
                "takes no row threshold",
            ),
            (
                "checks:\n  - unique: {}\n",
                "check 1 (`unique`): needs `column`",
            ),
            (
                "checks:\n  - pattern: { column: a, regex: \"(\" }\n",
                "check 1 (`pattern`), `regex`: invalid `regex`",
            ),
            (
                "checks:\n  - freshness: { column: ts, max_age: soon }\n",
                "`soon` is not a duration; hint: write a number and a unit",
            ),
            (
                "checks:\n  - range: { column: a, min: 5, max: 1 }\n",
                "`min` (5) is above `max` (1)",
            ),
            (
                "checks:\n  - not_null: { column: a, max_count: 1, max_percent: 2 }\n",
                "not both",
            ),
            (
                "checks:\n  - not_null: { column: a, severity: fatal }\n",
                "unknown severity `fatal`; hint: use `warn` or `fail`",
            ),
            (
                "checks:\n  - type: { column: a, type: integr }\n",
                "unknown type `integr`; hint: did you mean `integer`?",
            ),
            (
                "datset: x\nchecks: []\n",
                "unknown key `datset` in the suite",
            ),
            ("dataset: x\n", "the suite has no checks"),
            ("checks: {}\n", "`checks` must be a list"),
            ("checks: [\n", "invalid YAML"),
            (
                "checks:\n  - not_null: { column: a }\n    unique: { column: b }\n",
                "check 1 has 2 keys",
            ),
        ];
        for (text, expected) in cases {
            let message = parse_err(text);
            assert!(message.contains(expected), "{text:?}:\n{message}");
        }
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest("uniqe", CHECKS), "did you mean `unique`?");
        assert!(suggest("zzzzzzzz", &["a", "b"]).starts_with("expected one of `a`, `b`"));
    }
}
