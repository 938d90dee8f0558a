//! The pipeline: the steps of the configuration compiled against the
//! columns they will see (so a typo is an error before any row is read),
//! then run over the main input batch by batch.
//!
//! Rows stream through `select`, `drop`, `rename`, `filter`, `derive` and
//! the probe side of `join`; `deduplicate` streams too, keeping the keys it
//! has seen. `group_by` holds one entry per group and lets its rows go at
//! the end. The other input of a `join` is read whole first, into a hash
//! table by its key columns. So memory holds the join's right side, the
//! groups, the deduplication keys and the output, never the main input.

use std::collections::HashMap;
use std::collections::HashSet;

use crate::config::{AggFunc, AggregateSpec, Config, Input, JoinHow, Op};
use crate::expr::{self, Expr, Issues};
use crate::output::Writer;
use crate::value::{Num, Value, compare};

/// One row: a value per column.
pub type Row = Vec<Value>;

/// A dataset opened for one pass.
pub trait Table {
    /// The column names, in order.
    fn header(&self) -> &[String];
    /// The next rows (one value per header column), or `None` at the end.
    fn next_rows(&mut self) -> Result<Option<Vec<Row>>, String>;
}

/// Opens the inputs the configuration names.
pub trait Inputs {
    fn open(&mut self, input: &Input) -> Result<Box<dyn Table>, String>;
}

/// Why the pipeline did not produce its output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EtlError {
    /// The configuration does not fit the data (a column that is not
    /// there): the step's `with:` must change.
    Config(String),
    /// An input could not be read.
    Failed(String),
}

/// What the pipeline produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub data: Vec<u8>,
    pub columns: Vec<String>,
    pub rows: u64,
    /// Rows read per input name.
    pub rows_read: Vec<(String, u64)>,
    /// One line per step whose expressions met values of the wrong kind.
    pub warnings: Vec<String>,
}

/// Runs the whole pipeline of `cfg`.
pub fn run(cfg: &Config, inputs: &mut dyn Inputs) -> Result<Outcome, EtlError> {
    let main_input = find_input(cfg, &cfg.from)?;
    let mut main = inputs
        .open(main_input)
        .map_err(|e| read_error(&cfg.from, &e))?;
    let mut rows_read = Vec::new();
    let mut columns: Vec<String> = main.header().to_vec();
    let mut stages = Vec::with_capacity(cfg.steps.len());
    for (index, op) in cfg.steps.iter().enumerate() {
        let at = format!("with.steps[{index}].{}", op.key());
        let stage = compile(cfg, op, &at, &mut columns, inputs, &mut rows_read)?;
        stages.push((at, stage, Issues::default()));
    }
    let mut out = Writer::new(cfg.format, &columns);
    let mut read = 0u64;
    while let Some(rows) = main.next_rows().map_err(|e| read_error(&cfg.from, &e))? {
        read += rows.len() as u64;
        let rows = push(&mut stages, 0, rows);
        out.write(&rows);
    }
    for i in 0..stages.len() {
        let rows = stages[i].1.finish();
        let rows = push(&mut stages, i + 1, rows);
        out.write(&rows);
    }
    rows_read.insert(0, (cfg.from.clone(), read));
    let warnings = stages
        .iter()
        .filter(|(_, _, issues)| issues.count > 0)
        .map(|(at, _, issues)| {
            format!(
                "{at}: {} value(s) of the wrong kind became null; the first: {}",
                issues.count,
                issues.first.as_deref().unwrap_or("?")
            )
        })
        .collect();
    let rows = out.rows();
    Ok(Outcome {
        data: out.finish(),
        columns,
        rows,
        rows_read,
        warnings,
    })
}

fn find_input<'a>(cfg: &'a Config, name: &str) -> Result<&'a Input, EtlError> {
    cfg.inputs
        .iter()
        .find(|i| i.name == name)
        .ok_or_else(|| EtlError::Config(format!("no input is called `{name}`")))
}

fn read_error(name: &str, error: &str) -> EtlError {
    EtlError::Failed(format!("cannot read input `{name}`: {error}"))
}

/// Rows through the stages from `start` on.
fn push(stages: &mut [(String, Stage, Issues)], start: usize, mut rows: Vec<Row>) -> Vec<Row> {
    for (_, stage, issues) in stages.iter_mut().skip(start) {
        if rows.is_empty() {
            break;
        }
        rows = stage.process(rows, issues);
    }
    rows
}

/// A compiled step.
enum Stage {
    /// Keep these columns, in this order (select, drop).
    Project(Vec<usize>),
    /// Nothing to do to the rows (rename).
    Pass,
    Filter(Expr),
    /// Set each column to its expression, in order; an index past the end
    /// of the row appends a column.
    Derive(Vec<(usize, Expr)>),
    Deduplicate {
        key: Option<Vec<usize>>,
        seen: HashSet<Vec<u8>>,
    },
    GroupBy(Box<Groups>),
    Join(Box<JoinTable>),
}

struct Groups {
    by: Vec<usize>,
    aggregates: Vec<(AggFunc, Option<Expr>)>,
    index: HashMap<Vec<u8>, usize>,
    /// Per group, in order of first appearance: its key values and states.
    groups: Vec<(Row, Vec<Acc>)>,
}

struct JoinTable {
    left_on: Vec<usize>,
    how: JoinHow,
    /// Right rows (without their key columns) by key.
    right: HashMap<Vec<u8>, Vec<Row>>,
    right_width: usize,
}

impl Stage {
    fn process(&mut self, rows: Vec<Row>, issues: &mut Issues) -> Vec<Row> {
        match self {
            Stage::Pass => rows,
            Stage::Project(keep) => rows
                .into_iter()
                .map(|row| keep.iter().map(|&i| row[i].clone()).collect())
                .collect(),
            Stage::Filter(expr) => rows
                .into_iter()
                .filter(|row| expr.holds(row, issues))
                .collect(),
            Stage::Derive(columns) => rows
                .into_iter()
                .map(|mut row| {
                    for (at, expr) in columns.iter() {
                        let value = expr.eval(&row, issues);
                        if *at < row.len() {
                            row[*at] = value;
                        } else {
                            row.push(value);
                        }
                    }
                    row
                })
                .collect(),
            Stage::Deduplicate { key, seen } => rows
                .into_iter()
                .filter(|row| {
                    let mut k = Vec::new();
                    match key {
                        Some(cols) => cols.iter().for_each(|&i| row[i].write_key(&mut k)),
                        None => row.iter().for_each(|v| v.write_key(&mut k)),
                    }
                    seen.insert(k)
                })
                .collect(),
            Stage::GroupBy(groups) => {
                for row in rows {
                    groups.add(&row, issues);
                }
                Vec::new()
            }
            Stage::Join(table) => table.probe(rows),
        }
    }

    /// Rows held back until the input ended (`group_by`'s groups).
    fn finish(&mut self) -> Vec<Row> {
        match self {
            Stage::GroupBy(groups) => std::mem::take(&mut groups.groups)
                .into_iter()
                .map(|(mut key, accs)| {
                    key.extend(accs.into_iter().map(Acc::value));
                    key
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

impl Groups {
    fn add(&mut self, row: &[Value], issues: &mut Issues) {
        let mut key = Vec::new();
        for &i in &self.by {
            row[i].write_key(&mut key);
        }
        let slot = match self.index.get(&key) {
            Some(&slot) => slot,
            None => {
                let slot = self.groups.len();
                let values = self.by.iter().map(|&i| row[i].clone()).collect();
                let accs = self.aggregates.iter().map(|(f, _)| Acc::new(*f)).collect();
                self.groups.push((values, accs));
                self.index.insert(key, slot);
                slot
            }
        };
        let accs = &mut self.groups[slot].1;
        for ((_, arg), acc) in self.aggregates.iter().zip(accs.iter_mut()) {
            let value = arg.as_ref().map(|e| e.eval(row, issues));
            acc.add(value, issues);
        }
    }
}

impl JoinTable {
    fn probe(&self, rows: Vec<Row>) -> Vec<Row> {
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let key = join_key(&row, &self.left_on);
            match key.as_ref().and_then(|k| self.right.get(k)) {
                Some(matches) => {
                    for right in matches {
                        let mut joined = row.clone();
                        joined.extend(right.iter().cloned());
                        out.push(joined);
                    }
                }
                None if self.how == JoinHow::Left => {
                    let mut joined = row;
                    joined.extend(std::iter::repeat_n(Value::Null, self.right_width));
                    out.push(joined);
                }
                None => {}
            }
        }
        out
    }
}

/// The join key of a row; `None` when a key column is null (null matches
/// nothing, as in SQL).
fn join_key(row: &[Value], cols: &[usize]) -> Option<Vec<u8>> {
    let mut key = Vec::new();
    for &i in cols {
        if row[i].is_null() {
            return None;
        }
        row[i].write_key(&mut key);
    }
    Some(key)
}

/// An aggregate's running state.
enum Acc {
    Count(i64),
    Sum {
        int: i64,
        float: f64,
        is_float: bool,
        seen: bool,
    },
    Extreme {
        max: bool,
        best: Value,
    },
    Mean {
        sum: f64,
        n: u64,
    },
}

impl Acc {
    fn new(func: AggFunc) -> Acc {
        match func {
            AggFunc::Count => Acc::Count(0),
            AggFunc::Sum => Acc::Sum {
                int: 0,
                float: 0.0,
                is_float: false,
                seen: false,
            },
            AggFunc::Min => Acc::Extreme {
                max: false,
                best: Value::Null,
            },
            AggFunc::Max => Acc::Extreme {
                max: true,
                best: Value::Null,
            },
            AggFunc::Mean => Acc::Mean { sum: 0.0, n: 0 },
        }
    }

    /// Fold in one row's value: `None` for `count()`, which counts rows.
    fn add(&mut self, value: Option<Value>, issues: &mut Issues) {
        let value = match value {
            None => {
                if let Acc::Count(n) = self {
                    *n += 1;
                }
                return;
            }
            Some(Value::Null) => return,
            Some(v) => v,
        };
        match self {
            Acc::Count(n) => *n += 1,
            Acc::Sum {
                int,
                float,
                is_float,
                seen,
            } => {
                if let Some(num) = numeric(&value, "sum", issues) {
                    *seen = true;
                    match (num, *is_float) {
                        (Num::Int(i), false) => match int.checked_add(i) {
                            Some(total) => *int = total,
                            None => {
                                *is_float = true;
                                *float = *int as f64 + i as f64;
                            }
                        },
                        (num, false) => {
                            *is_float = true;
                            *float = *int as f64 + num.as_f64();
                        }
                        (num, true) => *float += num.as_f64(),
                    }
                }
            }
            Acc::Extreme { max, best } => {
                if best.is_null() {
                    *best = value;
                    return;
                }
                match compare(&value, best) {
                    Some(std::cmp::Ordering::Greater) if *max => *best = value,
                    Some(std::cmp::Ordering::Less) if !*max => *best = value,
                    Some(_) => {}
                    None => {
                        let (a, b) = (
                            value.to_text().unwrap_or_default(),
                            best.to_text().unwrap_or_default(),
                        );
                        issues.note(|| format!("min/max cannot order {a:?} and {b:?}"));
                    }
                }
            }
            Acc::Mean { sum, n } => {
                if let Some(num) = numeric(&value, "mean", issues) {
                    *sum += num.as_f64();
                    *n += 1;
                }
            }
        }
    }

    fn value(self) -> Value {
        match self {
            Acc::Count(n) => Value::Int(n),
            Acc::Sum { seen: false, .. } => Value::Null,
            Acc::Sum {
                is_float: true,
                float,
                ..
            } => Value::Float(float),
            Acc::Sum { int, .. } => Value::Int(int),
            Acc::Extreme { best, .. } => best,
            Acc::Mean { n: 0, .. } => Value::Null,
            Acc::Mean { sum, n } => Value::Float(sum / n as f64),
        }
    }
}

fn numeric(value: &Value, func: &str, issues: &mut Issues) -> Option<Num> {
    let num = value.as_num();
    if num.is_none() {
        let text = value.to_text().unwrap_or_default();
        issues.note(|| format!("`{func}` needs numbers, got {text:?}"));
    }
    num
}

/// Compiles `op` against `columns` (updated to the columns after it).
fn compile(
    cfg: &Config,
    op: &Op,
    at: &str,
    columns: &mut Vec<String>,
    inputs: &mut dyn Inputs,
    rows_read: &mut Vec<(String, u64)>,
) -> Result<Stage, EtlError> {
    let config = |message: String| EtlError::Config(format!("{at}: {message}"));
    let position = |columns: &[String], name: &str| {
        columns
            .iter()
            .position(|c| c == name)
            .ok_or_else(|| config(expr::unknown_column(name, columns)))
    };
    Ok(match op {
        Op::Select(names) => {
            let keep = names
                .iter()
                .map(|n| position(columns, n))
                .collect::<Result<Vec<_>, _>>()?;
            if let Some(dup) = first_duplicate(names) {
                return Err(config(format!("`{dup}` is selected twice")));
            }
            *columns = names.clone();
            Stage::Project(keep)
        }
        Op::Drop(names) => {
            for n in names {
                position(columns, n)?;
            }
            let keep: Vec<usize> = (0..columns.len())
                .filter(|&i| !names.contains(&columns[i]))
                .collect();
            if keep.is_empty() {
                return Err(config("this would drop every column".into()));
            }
            *columns = keep.iter().map(|&i| columns[i].clone()).collect();
            Stage::Project(keep)
        }
        Op::Rename(pairs) => {
            let mut renamed = columns.clone();
            for (old, new) in pairs {
                let i = position(columns, old)?;
                renamed[i] = new.clone();
            }
            if let Some(dup) = first_duplicate(&renamed) {
                return Err(config(format!(
                    "two columns would be called `{dup}`; rename or drop one of them"
                )));
            }
            *columns = renamed;
            Stage::Pass
        }
        Op::Filter { source, ast } => Stage::Filter(compile_expr(at, source, ast, columns)?),
        Op::Derive(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (name, source, ast) in items {
                let at = format!("{at}.{name}");
                let expr = compile_expr(&at, source, ast, columns)?;
                let slot = match columns.iter().position(|c| c == name) {
                    Some(i) => i,
                    None => {
                        columns.push(name.clone());
                        columns.len() - 1
                    }
                };
                out.push((slot, expr));
            }
            Stage::Derive(out)
        }
        Op::Deduplicate(by) => Stage::Deduplicate {
            key: match by {
                Some(names) => Some(
                    names
                        .iter()
                        .map(|n| position(columns, n))
                        .collect::<Result<_, _>>()?,
                ),
                None => None,
            },
            seen: HashSet::new(),
        },
        Op::GroupBy { by, aggregates } => {
            let by_idx = by
                .iter()
                .map(|n| position(columns, n))
                .collect::<Result<Vec<_>, _>>()?;
            let compiled = aggregates
                .iter()
                .map(|spec| compile_aggregate(at, spec, columns))
                .collect::<Result<Vec<_>, _>>()?;
            let mut after: Vec<String> = by.clone();
            after.extend(aggregates.iter().map(|a| a.name.clone()));
            if let Some(dup) = first_duplicate(&after) {
                return Err(config(format!("two columns would be called `{dup}`")));
            }
            *columns = after;
            Stage::GroupBy(Box::new(Groups {
                by: by_idx,
                aggregates: compiled,
                index: HashMap::new(),
                groups: Vec::new(),
            }))
        }
        Op::Join {
            with,
            left_on,
            right_on,
            how,
            suffix,
        } => {
            let left_idx = left_on
                .iter()
                .map(|n| position(columns, n))
                .collect::<Result<Vec<_>, _>>()?;
            let input = find_input(cfg, with)?;
            let mut table = inputs.open(input).map_err(|e| read_error(with, &e))?;
            let right_columns = table.header().to_vec();
            let right_idx = right_on
                .iter()
                .map(|n| {
                    right_columns.iter().position(|c| c == n).ok_or_else(|| {
                        config(format!(
                            "input `{with}`: {}",
                            expr::unknown_column(n, &right_columns)
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let kept: Vec<usize> = (0..right_columns.len())
                .filter(|i| !right_idx.contains(i))
                .collect();
            for &i in &kept {
                let mut name = right_columns[i].clone();
                if columns.contains(&name) {
                    name.push_str(suffix);
                }
                if columns.contains(&name) {
                    return Err(config(format!(
                        "column `{}` of `{with}` clashes with `{name}` even with the suffix; rename one first",
                        right_columns[i]
                    )));
                }
                columns.push(name);
            }
            let mut right: HashMap<Vec<u8>, Vec<Row>> = HashMap::new();
            let mut read = 0u64;
            while let Some(rows) = table.next_rows().map_err(|e| read_error(with, &e))? {
                read += rows.len() as u64;
                for row in rows {
                    if let Some(key) = join_key(&row, &right_idx) {
                        let values = kept.iter().map(|&i| row[i].clone()).collect();
                        right.entry(key).or_default().push(values);
                    }
                }
            }
            rows_read.push((with.clone(), read));
            Stage::Join(Box::new(JoinTable {
                left_on: left_idx,
                how: *how,
                right,
                right_width: kept.len(),
            }))
        }
    })
}

fn compile_expr(
    at: &str,
    source: &str,
    ast: &expr::Ast,
    columns: &[String],
) -> Result<Expr, EtlError> {
    expr::compile(ast, columns).map_err(|e| {
        EtlError::Config(format!(
            "{at} (column {}): {}",
            e.column(source),
            e.render(source)
        ))
    })
}

fn compile_aggregate(
    at: &str,
    spec: &AggregateSpec,
    columns: &[String],
) -> Result<(AggFunc, Option<Expr>), EtlError> {
    let at = format!(
        "{}.aggregate.{}",
        at.trim_end_matches(".group_by"),
        spec.name
    );
    let arg = match &spec.arg {
        Some(ast) => Some(compile_expr(&at, &spec.source, ast, columns)?),
        None => None,
    };
    Ok((spec.func, arg))
}

fn first_duplicate(names: &[String]) -> Option<&str> {
    let mut seen = HashSet::new();
    names
        .iter()
        .find(|n| !seen.insert(n.as_str()))
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config;

    /// An in-memory table: rows of optional text, handed out two at a time
    /// so that every step sees more than one batch.
    struct Mem {
        header: Vec<String>,
        rows: std::vec::IntoIter<Row>,
    }

    impl Table for Mem {
        fn header(&self) -> &[String] {
            &self.header
        }

        fn next_rows(&mut self) -> Result<Option<Vec<Row>>, String> {
            let batch: Vec<Row> = self.rows.by_ref().take(2).collect();
            Ok((!batch.is_empty()).then_some(batch))
        }
    }

    /// Inputs from CSV-like text: a header line, then `,`-separated fields;
    /// an empty field is null.
    struct MemInputs(Vec<(&'static str, &'static str)>);

    impl Inputs for MemInputs {
        fn open(&mut self, input: &Input) -> Result<Box<dyn Table>, String> {
            let (_, text) = self
                .0
                .iter()
                .find(|(name, _)| *name == input.name)
                .ok_or_else(|| "no such file".to_string())?;
            let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
            let header = lines
                .next()
                .unwrap_or_default()
                .split(',')
                .map(str::to_string)
                .collect();
            let rows: Vec<Row> = lines
                .map(|line| {
                    line.split(',')
                        .map(|f| match f {
                            "" => Value::Null,
                            f => Value::Raw(f.to_string()),
                        })
                        .collect()
                })
                .collect();
            Ok(Box::new(Mem {
                header,
                rows: rows.into_iter(),
            }))
        }
    }

    const ORDERS: &str = "
        id,customer_id,amount,status
        1,10,50,new
        2,10,150,paid
        3,11,250.5,paid
        4,12,,new
        5,11,120,shipped
        2,10,150,paid
    ";

    const CUSTOMERS: &str = "
        customer_id,name,status
        10,Ada,gold
        11,Grace,
    ";

    fn check(steps: &str, expected: &str) {
        let json = format!(
            r#"{{"inputs": {{"orders": "data/orders.csv", "customers": "data/customers.csv"}},
                "from": "orders", "steps": {steps}, "output": "out"}}"#
        );
        let cfg = config::parse(&json).unwrap_or_else(|e| panic!("{e}"));
        let mut inputs = MemInputs(vec![("orders", ORDERS), ("customers", CUSTOMERS)]);
        let outcome = run(&cfg, &mut inputs).unwrap_or_else(|e| panic!("{e:?}"));
        let text = String::from_utf8(outcome.data).unwrap_or_default();
        let expected: String = expected
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(text, expected, "steps: {steps}");
    }

    fn check_error(steps: &str) -> String {
        let json = format!(
            r#"{{"inputs": {{"orders": "data/orders.csv", "customers": "data/customers.csv"}},
                "from": "orders", "steps": {steps}, "output": "out"}}"#
        );
        let cfg = config::parse(&json).unwrap_or_else(|e| panic!("{e}"));
        let mut inputs = MemInputs(vec![("orders", ORDERS), ("customers", CUSTOMERS)]);
        match run(&cfg, &mut inputs) {
            Err(EtlError::Config(m) | EtlError::Failed(m)) => m,
            Ok(o) => panic!("ran: {:?}", String::from_utf8(o.data)),
        }
    }

    #[test]
    fn no_steps_copies_the_input() {
        check(
            "[]",
            "id,customer_id,amount,status
             1,10,50,new
             2,10,150,paid
             3,11,250.5,paid
             4,12,,new
             5,11,120,shipped
             2,10,150,paid",
        );
    }

    #[test]
    fn select_drop_and_rename() {
        check(
            r#"[{"select": ["status", "id"]}, {"rename": {"status": "state"}}]"#,
            "state,id
             new,1
             paid,2
             paid,3
             new,4
             shipped,5
             paid,2",
        );
        check(
            r#"[{"drop": ["amount", "customer_id"]}, {"deduplicate": true}]"#,
            "id,status
             1,new
             2,paid
             3,paid
             4,new
             5,shipped",
        );
    }

    #[test]
    fn filter_keeps_rows_where_the_expression_is_true() {
        check(
            r#"[{"filter": "amount > 100 and status != \"new\""}, {"select": "id"}]"#,
            "id
             2
             3
             5
             2",
        );
        // A null amount is neither > 100 nor <= 100.
        check(
            r#"[{"filter": "not (amount > 100)"}, {"select": "id"}]"#,
            "id
             1",
        );
        check(
            r#"[{"filter": "amount is null or status in ('shipped')"}, {"select": "id"}]"#,
            "id
             4
             5",
        );
    }

    #[test]
    fn derive_adds_or_replaces_columns_in_order() {
        check(
            r#"[{"select": ["id", "amount"]},
                {"derive": [{"cents": "amount * 100"}, {"label": "'#' || id || ':' || cents"}, {"amount": "coalesce(amount, 0)"}]}]"#,
            "id,amount,cents,label
             1,50,5000,#1:5000
             2,150,15000,#2:15000
             3,250.5,25050,#3:25050
             4,0,,
             5,120,12000,#5:12000
             2,150,15000,#2:15000",
        );
    }

    #[test]
    fn deduplicate_by_columns_keeps_the_first_row() {
        check(
            r#"[{"deduplicate": ["customer_id"]}, {"select": ["id", "customer_id"]}]"#,
            "id,customer_id
             1,10
             3,11
             4,12",
        );
    }

    #[test]
    fn group_by_aggregates_in_order_of_first_appearance() {
        check(
            r#"[{"group_by": "customer_id", "aggregate": [
                {"orders": "count()"}, {"with_amount": "count(amount)"}, {"total": "sum(amount)"},
                {"low": "min(amount)"}, {"high": "max(amount)"}, {"mean": "mean(amount)"}]}]"#,
            "customer_id,orders,with_amount,total,low,high,mean
             10,3,3,350,50,150,116.66666666666667
             11,2,2,370.5,120,250.5,185.25
             12,1,0,,,,",
        );
        check(
            r#"[{"group_by": ["status"], "aggregate": {"n": "count(*)", "big": "sum(if(amount > 100, 1, 0))"}}]"#,
            "status,big,n
             new,0,2
             paid,3,3
             shipped,1,1",
        );
    }

    #[test]
    fn joins_inner_and_left_with_suffixes() {
        check(
            r#"[{"join": {"with": "customers", "on": "customer_id"}}, {"select": ["id", "name", "status", "status_right"]}]"#,
            "id,name,status,status_right
             1,Ada,new,gold
             2,Ada,paid,gold
             3,Grace,paid,
             5,Grace,shipped,
             2,Ada,paid,gold",
        );
        check(
            r#"[{"join": {"with": "customers", "left_on": "customer_id", "right_on": "customer_id", "how": "left", "suffix": "_c"}},
                {"filter": "name is null"}]"#,
            "id,customer_id,amount,status,name,status_c
             4,12,,new,,",
        );
    }

    #[test]
    fn columns_are_checked_before_reading() {
        assert_eq!(
            check_error(r#"[{"select": ["id"]}, {"filter": "amount > 1"}]"#),
            "with.steps[1].filter (column 1): no column `amount`; the columns here are: id\n    amount > 1\n    ^"
        );
        assert!(
            check_error(r#"[{"select": ["id", "amout"]}]"#)
                .starts_with("with.steps[0].select: no column `amout` (did you mean `amount`?)")
        );
        assert!(
            check_error(r#"[{"rename": {"id": "status"}}]"#)
                .contains("with.steps[0].rename: two columns would be called `status`")
        );
        assert!(
            check_error(r#"[{"join": {"with": "customers", "on": "id"}}]"#)
                .contains("with.steps[0].join: input `customers`: no column `id`")
        );
        assert!(
            check_error(r#"[{"group_by": "status", "aggregate": {"x": "sum(amt)"}}]"#)
                .starts_with("with.steps[0].aggregate.x (column 5): no column `amt`")
        );
        assert!(
            check_error(r#"[{"drop": ["id", "customer_id", "amount", "status"]}]"#)
                .contains("would drop every column")
        );
        assert!(check_error(r#"[{"select": ["id", "id"]}]"#).contains("`id` is selected twice"));
    }

    #[test]
    fn wrong_kinds_are_reported_once_per_step() {
        let cfg = config::parse(
            r#"{"inputs": {"orders": "o.csv"}, "steps": [{"filter": "status > 1"}], "output": "o"}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let outcome =
            run(&cfg, &mut MemInputs(vec![("orders", ORDERS)])).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(outcome.rows, 0);
        assert_eq!(outcome.rows_read, vec![("orders".to_string(), 6)]);
        assert_eq!(
            outcome.warnings,
            vec![
                "with.steps[0].filter: 6 value(s) of the wrong kind became null; the first: cannot compare text \"new\" with an integer \"1\""
                    .to_string()
            ]
        );
    }

    #[test]
    fn an_unreadable_input_names_it() {
        let cfg = config::parse(r#"{"inputs": {"gone": "x.csv"}, "output": "o"}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            run(&cfg, &mut MemInputs(Vec::new())),
            Err(EtlError::Failed(
                "cannot read input `gone`: no such file".into()
            ))
        );
    }
}
