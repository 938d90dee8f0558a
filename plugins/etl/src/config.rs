//! The step's `with:` mapping, parsed by hand so that every mistake names
//! where it is (`with.steps[2].filter`) and what would be right.
//!
//! ```yaml
//! with:
//!   inputs:                       # name -> where to read it
//!     orders: data/orders.csv     # a file at the event's head revision
//!     customers: artifact:customers   # an artifact of this or an earlier run
//!   from: orders                  # the input the steps start from (the only one by default)
//!   steps:
//!     - filter: 'amount > 100 and status != "new"'
//!     - derive: { amount_cents: amount * 100 }
//!     - join: { with: customers, on: customer_id, how: left }
//!     - group_by: [country]
//!       aggregate: { orders: count(), revenue: sum(amount) }
//!   output: orders_by_country     # the artifact's name
//!   format: csv                   # or jsonl; by default from the name's extension, else csv
//! ```
//!
//! Mappings reach the plugin as JSON objects, whose keys come in sorted
//! order, so where order matters (`derive`, `aggregate`) a list of
//! one-entry mappings keeps the order written.

use serde_json::{Map, Value as Json};

use crate::expr::{self, AGGREGATES, Ast, closest};

/// A dataset layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    JsonLines,
}

impl Format {
    fn parse(text: &str) -> Option<Format> {
        match text.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "jsonl" | "ndjson" | "json-lines" | "jsonlines" => Some(Format::JsonLines),
            _ => None,
        }
    }

    /// The layout a name's extension says, if it says one.
    pub fn from_extension(name: &str) -> Option<Format> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".csv") {
            Some(Format::Csv)
        } else if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") {
            Some(Format::JsonLines)
        } else {
            None
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv",
            Format::JsonLines => "application/x-ndjson",
        }
    }
}

/// Where an input is read from: a file of the repository at the event's
/// head revision, or an artifact by name.
pub use andon_pdk::DatasetName as Source;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub name: String,
    pub source: Source,
    /// `None`: from the extension (the host's default).
    pub format: Option<Format>,
}

/// An aggregate of `group_by`.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateSpec {
    pub name: String,
    pub func: AggFunc,
    /// The argument; `None` for `count()` / `count(*)`.
    pub arg: Option<Ast>,
    /// The text as written, for error messages.
    pub source: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggFunc {
    Count,
    Sum,
    Min,
    Max,
    Mean,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinHow {
    Inner,
    Left,
}

/// One step of the pipeline, as written.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Select(Vec<String>),
    Drop(Vec<String>),
    Rename(Vec<(String, String)>),
    Filter {
        source: String,
        ast: Ast,
    },
    Derive(Vec<(String, String, Ast)>),
    /// By these columns, or by whole rows when `None`.
    Deduplicate(Option<Vec<String>>),
    GroupBy {
        by: Vec<String>,
        aggregates: Vec<AggregateSpec>,
    },
    Join {
        with: String,
        left_on: Vec<String>,
        right_on: Vec<String>,
        how: JoinHow,
        suffix: String,
    },
}

impl Op {
    /// The operation's key in `with.steps[i]`.
    pub fn key(&self) -> &'static str {
        match self {
            Op::Select(_) => "select",
            Op::Drop(_) => "drop",
            Op::Rename(_) => "rename",
            Op::Filter { .. } => "filter",
            Op::Derive(_) => "derive",
            Op::Deduplicate(_) => "deduplicate",
            Op::GroupBy { .. } => "group_by",
            Op::Join { .. } => "join",
        }
    }
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub inputs: Vec<Input>,
    /// The input the steps start from.
    pub from: String,
    pub steps: Vec<Op>,
    pub output: String,
    pub format: Format,
}

const TOP_KEYS: [&str; 5] = ["inputs", "from", "steps", "output", "format"];
const OPS: [&str; 8] = [
    "select",
    "drop",
    "rename",
    "filter",
    "derive",
    "deduplicate",
    "group_by",
    "join",
];

/// Parses the step's `with:` JSON.
pub fn parse(json: &str) -> Result<Config, String> {
    let value: Json = if json.trim().is_empty() {
        Json::Object(Map::new())
    } else {
        serde_json::from_str(json).map_err(|e| format!("`with:` is not valid JSON: {e}"))?
    };
    let Json::Object(with) = value else {
        return Err("`with:` must be a mapping with `inputs`, `steps` and `output`".into());
    };
    for key in with.keys() {
        if !TOP_KEYS.contains(&key.as_str()) {
            return Err(unknown_key("with", key, &TOP_KEYS));
        }
    }
    let inputs = inputs(with.get("inputs"))?;
    let from = match with.get("from") {
        Some(Json::String(name)) => {
            if !inputs.iter().any(|i| i.name == *name) {
                return Err(format!(
                    "with.from: no input is called `{name}`; inputs: {}",
                    input_names(&inputs)
                ));
            }
            name.clone()
        }
        Some(other) => {
            return Err(format!(
                "with.from: expected an input's name, not {}",
                kind(other)
            ));
        }
        None if inputs.len() == 1 => inputs[0].name.clone(),
        None => {
            return Err(format!(
                "with.from: say which input the steps start from (inputs: {})",
                input_names(&inputs)
            ));
        }
    };
    let steps = match with.get("steps") {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| step(i, item))
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(format!(
                "with.steps: expected a list of steps (`- filter: …`), not {}",
                kind(other)
            ));
        }
    };
    for (i, op) in steps.iter().enumerate() {
        if let Op::Join { with: name, .. } = op
            && !inputs.iter().any(|input| input.name == *name)
        {
            return Err(format!(
                "with.steps[{i}].join.with: no input is called `{name}`; inputs: {} (add it under `inputs:`)",
                input_names(&inputs)
            ));
        }
    }
    let output = match with.get("output") {
        Some(Json::String(name)) if !name.trim().is_empty() => name.trim().to_string(),
        Some(Json::String(_)) => return Err("with.output: the artifact's name is empty".into()),
        Some(other) => {
            return Err(format!(
                "with.output: expected the artifact's name (`output: orders_clean`), not {}",
                kind(other)
            ));
        }
        None => {
            return Err(
                "with.output: missing; name the artifact to write (`output: orders_clean`)".into(),
            );
        }
    };
    let format = match with.get("format") {
        None | Some(Json::Null) => Format::from_extension(&output).unwrap_or(Format::Csv),
        Some(Json::String(text)) => Format::parse(text).ok_or_else(|| {
            format!("with.format: `{text}` is not a format; use `csv` or `jsonl`")
        })?,
        Some(other) => {
            return Err(format!(
                "with.format: expected `csv` or `jsonl`, not {}",
                kind(other)
            ));
        }
    };
    Ok(Config {
        inputs,
        from,
        steps,
        output,
        format,
    })
}

fn input_names(inputs: &[Input]) -> String {
    inputs
        .iter()
        .map(|i| format!("`{}`", i.name))
        .collect::<Vec<_>>()
        .join(", ")
}

fn inputs(value: Option<&Json>) -> Result<Vec<Input>, String> {
    let Some(Json::Object(map)) = value else {
        return Err(match value {
            None => "with.inputs: missing; name the datasets to read (`inputs: { orders: data/orders.csv }`)".into(),
            Some(other) => format!(
                "with.inputs: expected a mapping of names to files or `artifact:NAME`, not {}",
                kind(other)
            ),
        });
    };
    if map.is_empty() {
        return Err("with.inputs: name at least one dataset to read".into());
    }
    map.iter()
        .map(|(name, spec)| {
            let at = format!("with.inputs.{name}");
            let (text, format) = match spec {
                Json::String(text) => (text.clone(), None),
                Json::Object(fields) => {
                    for key in fields.keys() {
                        if !["path", "artifact", "format"].contains(&key.as_str()) {
                            return Err(unknown_key(&at, key, &["path", "artifact", "format"]));
                        }
                    }
                    let format = match fields.get("format") {
                        None => None,
                        Some(Json::String(f)) => Some(Format::parse(f).ok_or_else(|| {
                            format!("{at}.format: `{f}` is not a format; use `csv` or `jsonl`")
                        })?),
                        Some(other) => {
                            return Err(format!(
                                "{at}.format: expected `csv` or `jsonl`, not {}",
                                kind(other)
                            ));
                        }
                    };
                    let text = match (fields.get("path"), fields.get("artifact")) {
                        (Some(Json::String(p)), None) => p.clone(),
                        (None, Some(Json::String(a))) => format!("artifact:{a}"),
                        _ => {
                            return Err(format!(
                                "{at}: give exactly one of `path: FILE` or `artifact: NAME`"
                            ));
                        }
                    };
                    (text, format)
                }
                other => {
                    return Err(format!(
                        "{at}: expected a file path or `artifact:NAME`, not {}",
                        kind(other)
                    ));
                }
            };
            let source = Source::parse(&text).map_err(|e| format!("{at}: {e}"))?;
            let format = format.or_else(|| match &source {
                Source::File(_) => None,
                // Artifact names often carry no extension: CSV unless the
                // name says otherwise.
                Source::Artifact(a) => Some(Format::from_extension(a).unwrap_or(Format::Csv)),
            });
            Ok(Input {
                name: name.clone(),
                source,
                format,
            })
        })
        .collect()
}

fn step(index: usize, item: &Json) -> Result<Op, String> {
    let at = format!("with.steps[{index}]");
    let Json::Object(map) = item else {
        return Err(format!(
            "{at}: expected a mapping with one operation ({}), not {}",
            OPS.join(", "),
            kind(item)
        ));
    };
    let mut ops = map.keys().filter(|k| k.as_str() != "aggregate");
    let Some(key) = ops.next() else {
        return Err(if map.contains_key("aggregate") {
            format!("{at}: `aggregate` needs a `group_by` beside it")
        } else {
            format!("{at}: empty; give one operation ({})", OPS.join(", "))
        });
    };
    if !OPS.contains(&key.as_str()) {
        return Err(unknown_key(&at, key, &OPS));
    }
    if let Some(second) = ops.next() {
        return Err(format!(
            "{at}: one operation per step, found `{key}` and `{second}`; split them into two steps"
        ));
    }
    if map.contains_key("aggregate") && key != "group_by" {
        return Err(format!(
            "{at}: `aggregate` belongs with `group_by`, not `{key}`"
        ));
    }
    let value = &map[key];
    let at = format!("{at}.{key}");
    Ok(match key.as_str() {
        "select" => Op::Select(names(&at, value)?),
        "drop" => Op::Drop(names(&at, value)?),
        "rename" => Op::Rename(rename(&at, value)?),
        "filter" => {
            let source = text(&at, value, "an expression (`amount > 100`)")?;
            Op::Filter {
                ast: expression(&at, &source)?,
                source,
            }
        }
        "derive" => Op::Derive(
            pairs(&at, value, "a mapping of new columns to expressions")?
                .into_iter()
                .map(|(name, json, at)| {
                    let source = text(&at, json, "an expression (`amount * 100`)")?;
                    Ok((name, source.clone(), expression(&at, &source)?))
                })
                .collect::<Result<_, String>>()?,
        ),
        "deduplicate" => Op::Deduplicate(match value {
            Json::Bool(true) | Json::Null => None,
            Json::Object(m) if m.is_empty() => None,
            Json::Object(m) => match m.get("by") {
                Some(by) if m.len() == 1 => Some(names(&format!("{at}.by"), by)?),
                _ => return Err(format!("{at}: expected `by: [columns]`")),
            },
            other => Some(names(&at, other)?),
        }),
        "group_by" => group_by(&at, value, map.get("aggregate"))?,
        _ => join(&at, value)?,
    })
}

fn expression(at: &str, source: &str) -> Result<Ast, String> {
    expr::parse(source)
        .map_err(|e| format!("{at} (column {}): {}", e.column(source), e.render(source)))
}

fn group_by(at: &str, value: &Json, beside: Option<&Json>) -> Result<Op, String> {
    let (by, aggregate, agg_at) = match (value, beside) {
        (Json::Object(m), None) => {
            for key in m.keys() {
                if !["by", "aggregate"].contains(&key.as_str()) {
                    return Err(unknown_key(at, key, &["by", "aggregate"]));
                }
            }
            let by = m
                .get("by")
                .ok_or_else(|| format!("{at}.by: missing; name the columns to group by"))?;
            (
                names(&format!("{at}.by"), by)?,
                m.get("aggregate"),
                format!("{at}.aggregate"),
            )
        }
        (other, beside) => (
            names(at, other)?,
            beside,
            at.trim_end_matches(".group_by").to_string() + ".aggregate",
        ),
    };
    let Some(aggregate) = aggregate else {
        return Err(format!(
            "{agg_at}: missing; say what to compute per group (`aggregate: {{ orders: count(), revenue: sum(amount) }}`)"
        ));
    };
    let aggregates = pairs(&agg_at, aggregate, "a mapping of new columns to aggregates")?
        .into_iter()
        .map(|(name, json, at)| {
            let source = text(&at, json, "an aggregate (`sum(amount)`)")?;
            let (func, arg) = aggregate_call(&at, &source)?;
            Ok(AggregateSpec {
                name,
                func,
                arg,
                source,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    if aggregates.is_empty() {
        return Err(format!("{agg_at}: say what to compute per group"));
    }
    Ok(Op::GroupBy { by, aggregates })
}

fn aggregate_call(at: &str, source: &str) -> Result<(AggFunc, Option<Ast>), String> {
    let ast = expression(at, source)?;
    let Ast::Call {
        name, args, star, ..
    } = ast
    else {
        return Err(format!(
            "{at}: `{source}` is not an aggregate; use one of {}(…)",
            AGGREGATES.join("(…), ")
        ));
    };
    let func = match name.as_str() {
        "count" => AggFunc::Count,
        "sum" => AggFunc::Sum,
        "min" => AggFunc::Min,
        "max" => AggFunc::Max,
        "mean" | "avg" => AggFunc::Mean,
        other => {
            let hint = closest(other, &AGGREGATES)
                .map(|n| format!("did you mean `{n}`? "))
                .unwrap_or_default();
            return Err(format!(
                "{at}: `{other}` is not an aggregate; {hint}aggregates: {}",
                AGGREGATES.join(", ")
            ));
        }
    };
    match (func, star, args.len()) {
        (AggFunc::Count, true, _) | (AggFunc::Count, false, 0) => Ok((func, None)),
        (_, false, 1) => Ok((func, args.into_iter().next())),
        _ => Err(format!(
            "{at}: `{name}` takes one column or expression{}",
            if func == AggFunc::Count {
                " (or none: `count()` counts rows)"
            } else {
                ""
            }
        )),
    }
}

fn join(at: &str, value: &Json) -> Result<Op, String> {
    const KEYS: [&str; 6] = ["with", "on", "left_on", "right_on", "how", "suffix"];
    let Json::Object(m) = value else {
        return Err(format!(
            "{at}: expected a mapping (`join: {{ with: customers, on: customer_id }}`), not {}",
            kind(value)
        ));
    };
    for key in m.keys() {
        if !KEYS.contains(&key.as_str()) {
            return Err(unknown_key(at, key, &KEYS));
        }
    }
    let with = match m.get("with") {
        Some(Json::String(name)) => name.clone(),
        Some(other) => {
            return Err(format!(
                "{at}.with: expected an input's name, not {}",
                kind(other)
            ));
        }
        None => return Err(format!("{at}.with: missing; name the input to join with")),
    };
    let (left_on, right_on) = match (m.get("on"), m.get("left_on"), m.get("right_on")) {
        (Some(on), None, None) => {
            let on = names(&format!("{at}.on"), on)?;
            (on.clone(), on)
        }
        (None, Some(left), Some(right)) => {
            let left = names(&format!("{at}.left_on"), left)?;
            let right = names(&format!("{at}.right_on"), right)?;
            if left.len() != right.len() {
                return Err(format!(
                    "{at}: `left_on` has {} column(s) but `right_on` has {}",
                    left.len(),
                    right.len()
                ));
            }
            (left, right)
        }
        _ => {
            return Err(format!(
                "{at}: give the key columns as `on: [..]`, or as `left_on` and `right_on` together"
            ));
        }
    };
    let how = match m.get("how") {
        None => JoinHow::Inner,
        Some(Json::String(h)) if h.eq_ignore_ascii_case("inner") => JoinHow::Inner,
        Some(Json::String(h)) if h.eq_ignore_ascii_case("left") => JoinHow::Left,
        Some(other) => {
            return Err(format!(
                "{at}.how: expected `inner` or `left`, not {}",
                shown(other)
            ));
        }
    };
    let suffix = match m.get("suffix") {
        None => "_right".to_string(),
        Some(Json::String(s)) if !s.is_empty() => s.clone(),
        Some(other) => {
            return Err(format!(
                "{at}.suffix: expected a non-empty text, not {}",
                shown(other)
            ));
        }
    };
    Ok(Op::Join {
        with,
        left_on,
        right_on,
        how,
        suffix,
    })
}

/// A column name or a list of them.
fn names(at: &str, value: &Json) -> Result<Vec<String>, String> {
    let list = match value {
        Json::String(name) => vec![name.clone()],
        Json::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Json::String(name) => Ok(name.clone()),
                other => Err(format!(
                    "{at}[{i}]: expected a column name, not {}",
                    kind(other)
                )),
            })
            .collect::<Result<_, _>>()?,
        other => {
            return Err(format!(
                "{at}: expected a column name or a list of them, not {}",
                kind(other)
            ));
        }
    };
    if list.is_empty() {
        return Err(format!("{at}: name at least one column"));
    }
    if let Some(empty) = list.iter().position(|n| n.trim().is_empty()) {
        return Err(format!("{at}[{empty}]: a column name is empty"));
    }
    Ok(list)
}

fn rename(at: &str, value: &Json) -> Result<Vec<(String, String)>, String> {
    let Json::Object(m) = value else {
        return Err(format!(
            "{at}: expected a mapping of old names to new (`{{ amt: amount }}`), not {}",
            kind(value)
        ));
    };
    if m.is_empty() {
        return Err(format!("{at}: name at least one column to rename"));
    }
    m.iter()
        .map(|(old, new)| match new {
            Json::String(new) if !new.trim().is_empty() => Ok((old.clone(), new.clone())),
            other => Err(format!(
                "{at}.{old}: expected the new name, not {}",
                kind(other)
            )),
        })
        .collect()
}

/// `{name: value, …}` (sorted by name) or `[{name: value}, …]` (in order).
fn pairs<'a>(
    at: &str,
    value: &'a Json,
    what: &str,
) -> Result<Vec<(String, &'a Json, String)>, String> {
    let out: Vec<(String, &Json, String)> = match value {
        Json::Object(m) => m
            .iter()
            .map(|(k, v)| (k.clone(), v, format!("{at}.{k}")))
            .collect(),
        Json::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Json::Object(m) if m.len() == 1 => {
                    let (k, v) = m.iter().next().ok_or_else(|| format!("{at}[{i}]: empty"))?;
                    Ok((k.clone(), v, format!("{at}[{i}].{k}")))
                }
                _ => Err(format!("{at}[{i}]: expected one `name: expression` entry")),
            })
            .collect::<Result<_, String>>()?,
        other => return Err(format!("{at}: expected {what}, not {}", kind(other))),
    };
    if out.is_empty() {
        return Err(format!("{at}: expected {what}, got none"));
    }
    Ok(out)
}

fn text(at: &str, value: &Json, what: &str) -> Result<String, String> {
    match value {
        Json::String(s) => Ok(s.clone()),
        // `filter: true` or `derive: { one: 1 }` in YAML arrive as JSON
        // scalars: take their text.
        Json::Number(n) => Ok(n.to_string()),
        Json::Bool(b) => Ok(b.to_string()),
        other => Err(format!("{at}: expected {what}, not {}", kind(other))),
    }
}

fn unknown_key(at: &str, key: &str, known: &[&str]) -> String {
    let hint = closest(key, known)
        .map(|k| format!("did you mean `{k}`? "))
        .unwrap_or_default();
    format!(
        "{at}: unknown key `{key}`; {hint}known keys: {}",
        known.join(", ")
    )
}

fn kind(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a text",
        Json::Array(_) => "a list",
        Json::Object(_) => "a mapping",
    }
}

fn shown(value: &Json) -> String {
    match value {
        Json::String(s) => format!("`{s}`"),
        other => kind(other).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(json: &str) -> Config {
        parse(json).unwrap_or_else(|e| panic!("{e}"))
    }

    fn err(json: &str) -> String {
        match parse(json) {
            Err(e) => e,
            Ok(cfg) => panic!("parsed: {cfg:?}"),
        }
    }

    #[test]
    fn a_full_pipeline_parses() {
        let cfg = ok(r#"{
            "inputs": {"orders": "data/orders.csv", "customers": "artifact:customers"},
            "from": "orders",
            "steps": [
                {"filter": "amount > 100 and status != \"new\""},
                {"select": ["id", "customer_id", "amount"]},
                {"rename": {"amount": "amount_eur"}},
                {"derive": [{"cents": "amount_eur * 100"}, {"big": "cents > 10000"}]},
                {"deduplicate": ["id"]},
                {"join": {"with": "customers", "on": "customer_id", "how": "left"}},
                {"group_by": ["country"], "aggregate": {"n": "count()", "total": "sum(amount_eur)"}}
            ],
            "output": "by_country.jsonl"
        }"#);
        assert_eq!(cfg.from, "orders");
        assert_eq!(cfg.format, Format::JsonLines);
        assert_eq!(
            cfg.inputs[0],
            Input {
                name: "customers".into(),
                source: Source::Artifact("customers".into()),
                format: Some(Format::Csv),
            }
        );
        assert_eq!(cfg.inputs[1].source, Source::File("data/orders.csv".into()));
        let keys: Vec<&str> = cfg.steps.iter().map(Op::key).collect();
        assert_eq!(
            keys,
            [
                "filter",
                "select",
                "rename",
                "derive",
                "deduplicate",
                "join",
                "group_by"
            ]
        );
        let Op::Derive(derived) = &cfg.steps[3] else {
            panic!("derive");
        };
        let names: Vec<&str> = derived.iter().map(|(n, ..)| n.as_str()).collect();
        assert_eq!(names, ["cents", "big"]);
        let Op::GroupBy { by, aggregates } = &cfg.steps[6] else {
            panic!("group_by");
        };
        assert_eq!(by, &["country".to_string()]);
        assert_eq!(aggregates[0].func, AggFunc::Count);
        assert_eq!(aggregates[0].arg, None);
        assert_eq!(aggregates[1].func, AggFunc::Sum);
    }

    #[test]
    fn defaults() {
        let cfg = ok(r#"{"inputs": {"orders": "./data/orders.csv"}, "output": "clean"}"#);
        assert_eq!(cfg.from, "orders");
        assert_eq!(cfg.format, Format::Csv);
        assert!(cfg.steps.is_empty());
        assert_eq!(cfg.inputs[0].source, Source::File("data/orders.csv".into()));
        assert_eq!(cfg.inputs[0].format, None);
        let cfg = ok(
            r#"{"inputs": {"o": {"artifact": "raw", "format": "jsonl"}}, "output": "x", "format": "jsonl",
            "steps": [{"deduplicate": true}, {"group_by": {"by": "a", "aggregate": {"m": "avg(b)"}}}]}"#,
        );
        assert_eq!(cfg.inputs[0].format, Some(Format::JsonLines));
        assert_eq!(cfg.steps[0], Op::Deduplicate(None));
        let Op::GroupBy { aggregates, .. } = &cfg.steps[1] else {
            panic!("group_by");
        };
        assert_eq!(aggregates[0].func, AggFunc::Mean);
    }

    #[test]
    fn mistakes_name_the_step_and_key_with_a_hint() {
        let base = r#""inputs": {"orders": "data/orders.csv"}, "output": "o""#;
        let with_steps = |steps: &str| err(&format!("{{{base}, \"steps\": {steps}}}"));
        assert_eq!(
            with_steps(r#"[{"select": "id"}, {"fliter": "x > 1"}]"#),
            "with.steps[1]: unknown key `fliter`; did you mean `filter`? known keys: select, drop, rename, filter, derive, deduplicate, group_by, join"
        );
        let message = with_steps(r#"[{"filter": "amount >"}]"#);
        assert!(
            message.starts_with(
                "with.steps[0].filter (column 9): expected a value after `>`, found the end"
            ),
            "{message}"
        );
        assert!(
            with_steps(r#"[{"select": "a", "drop": "b"}]"#)
                .contains("one operation per step, found `drop` and `select`")
        );
        assert!(with_steps(r#"[{"group_by": "a"}]"#).contains("with.steps[0].aggregate: missing"));
        assert!(
            with_steps(r#"[{"group_by": "a", "aggregate": {"x": "median(b)"}}]"#).contains(
                "with.steps[0].aggregate.x: `median` is not an aggregate; did you mean `mean`?"
            )
        );
        assert!(
            with_steps(r#"[{"group_by": "a", "aggregate": {"x": "sum(a, b)"}}]"#)
                .contains("`sum` takes one column")
        );
        assert!(
            with_steps(r#"[{"group_by": "a", "aggregate": {"x": "a + 1"}}]"#)
                .contains("is not an aggregate")
        );
        assert!(with_steps(r#"[{"join": {"with": "customers", "on": "id"}}]"#)
            .contains("with.steps[0].join.with: no input is called `customers`; inputs: `orders` (add it under `inputs:`)"));
        assert!(
            with_steps(r#"[{"join": {"with": "orders", "on": "id", "how": "outer"}}]"#)
                .contains("with.steps[0].join.how: expected `inner` or `left`, not `outer`")
        );
        assert!(
            with_steps(r#"[{"join": {"with": "orders", "left_on": "id"}}]"#)
                .contains("`left_on` and `right_on` together")
        );
        assert!(
            with_steps(r#"[{"select": []}]"#)
                .contains("with.steps[0].select: name at least one column")
        );
        assert!(
            with_steps(r#"[{"select": ["a", 3]}]"#)
                .contains("with.steps[0].select[1]: expected a column name, not a number")
        );
        assert!(
            with_steps(r#"[{"derive": {"x": ["a"]}}]"#)
                .contains("with.steps[0].derive.x: expected an expression")
        );
        assert!(
            with_steps(r#"[{"filter": "a > 1", "aggregate": {}}]"#)
                .contains("`aggregate` belongs with `group_by`")
        );
        assert!(
            with_steps(r#"[{"rename": {"a": ""}}]"#)
                .contains("with.steps[0].rename.a: expected the new name")
        );
        assert!(with_steps(r#"{"filter": "a"}"#).contains("with.steps: expected a list"));
        assert!(
            with_steps(r#"["filter"]"#)
                .contains("with.steps[0]: expected a mapping with one operation")
        );
    }

    #[test]
    fn top_level_mistakes() {
        assert!(err("{}").contains("with.inputs: missing"));
        assert!(err(r#"{"inputs": {"a": "x.csv"}}"#).contains("with.output: missing"));
        assert!(
            err(r#"{"inputs": {"a": "x.csv"}, "output": 3}"#)
                .contains("with.output: expected the artifact's name")
        );
        assert!(
            err(r#"{"inputs": {"a": "x.csv", "b": "y.csv"}, "output": "o"}"#)
                .contains("with.from: say which input the steps start from (inputs: `a`, `b`)")
        );
        assert!(
            err(r#"{"inputs": {"a": "x.csv"}, "from": "b", "output": "o"}"#)
                .contains("with.from: no input is called `b`")
        );
        assert!(
            err(r#"{"inputs": {"a": "x.csv"}, "output": "o", "fromat": "csv"}"#)
                .contains("with: unknown key `fromat`; did you mean `format`?")
        );
        assert!(
            err(r#"{"inputs": {"a": "x.csv"}, "output": "o", "format": "parquet"}"#)
                .contains("with.format: `parquet` is not a format")
        );
        assert!(
            err(r#"{"inputs": {"a": "artifact:"}, "output": "o"}"#)
                .contains("with.inputs.a: `artifact:` needs a name")
        );
        assert!(
            err(r#"{"inputs": {"a": {"path": "x", "artifact": "y"}}, "output": "o"}"#)
                .contains("with.inputs.a: give exactly one of")
        );
        assert!(
            err(r#"{"inputs": [], "output": "o"}"#).contains("with.inputs: expected a mapping")
        );
        assert!(err("[1]").contains("`with:` must be a mapping"));
    }
}
