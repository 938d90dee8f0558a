//! `data-check`: validates CSV and JSON Lines datasets against a suite of
//! checks, in one streaming pass over typed column batches the host parses.
//!
//! The logic is plain Rust: [`suite`] parses the suite file, [`engine`]
//! plans the column reads and runs the checks ([`kernels`] holds the loops),
//! [`report`] renders results. This file is the component glue: it reads
//! the suite, opens the datasets, feeds batches and turns the outcome into
//! outputs and actions.

pub mod columns;
pub mod duration;
pub mod engine;
pub mod kernels;
pub mod pattern;
pub mod report;
pub mod sets;
pub mod suite;
pub use andon_yaml as yaml;

use std::collections::hash_map::Entry;

use andon_pdk::dataset::{
    self, ColumnRequest, ColumnType, DatasetError, Format, ReadOptions, Reader,
};
use andon_pdk::types::{
    Action, EventKind, Invocation, KvEntry, LogLevel, Manifest, Permission, PluginError, ReadError,
    Side,
};
use andon_pdk::{DatasetName, Guest, host};
use serde::Deserialize;

use crate::engine::{Engine, References};
use crate::sets::ValueSet;
use crate::suite::{DataFormat, Rule, Suite, ValueType};

/// The JSON Schema of `with:`, published in the manifest.
const CONFIG_SCHEMA: &str = r#"{
  "type": "object",
  "additionalProperties": false,
  "required": ["suite"],
  "properties": {
    "suite": { "type": "string", "description": "path of the suite file in the repository" },
    "dataset": { "type": "string", "description": "path of the dataset, instead of the suite's `dataset:`" }
  }
}"#;

/// The step's `with:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default)]
    suite: String,
    #[serde(default)]
    dataset: Option<String>,
}

struct DataCheck;

impl Guest for DataCheck {
    fn describe() -> Manifest {
        Manifest {
            name: "data-check".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "validates CSV and JSON Lines datasets against a suite of checks".into(),
            events: vec![
                EventKind::PullRequest,
                EventKind::Push,
                EventKind::Manual,
                EventKind::Comment,
                EventKind::Schedule,
            ],
            commands: Vec::new(),
            permissions: vec![Permission::Checks, Permission::Kv],
            config_schema: Some(CONFIG_SCHEMA.into()),
        }
    }

    fn run(inv: Invocation) -> Result<Vec<Action>, PluginError> {
        let cfg: Config = andon_pdk::config(&inv)?;
        if cfg.suite.is_empty() {
            return Err(PluginError::InvalidConfig(
                "`with.suite` is missing: give the path of a suite file, \
                 e.g. `suite: checks/orders.yml`"
                    .into(),
            ));
        }
        let suite = read_suite(&cfg.suite)?;
        let Some(dataset) = cfg.dataset.clone().or_else(|| suite.dataset.clone()) else {
            return Err(PluginError::InvalidConfig(format!(
                "no dataset: set `dataset:` in {} or `with.dataset` in the step",
                cfg.suite
            )));
        };
        let references = read_references(&suite);
        let now = dataset::now();
        let (mut engine, reader) = open(&suite, &references, now, &dataset)?;
        engine.set_header(reader.header());
        while let Some(batch) = reader.next().map_err(|e| {
            PluginError::Failed(format!(
                "cannot read `{dataset}`: {}",
                andon_pdk::dataset_error_message(e)
            ))
        })? {
            engine
                .feed(&batch)
                .map_err(|e| PluginError::Failed(format!("cannot check `{dataset}`: {e}")))?;
        }
        let key = format!("row_count:{dataset}");
        let previous = if engine.wants_previous_count() {
            host::kv_get(&key).and_then(|v| String::from_utf8(v).ok()?.trim().parse().ok())
        } else {
            None
        };
        let records_count = engine.wants_previous_count() && records_baseline(inv.event.kind);
        let outcome = engine.finish(previous);

        host::log(LogLevel::Info, &report::log_line(&dataset, &outcome));
        for (name, value) in [
            ("results", report::results_json(&outcome)),
            ("summary", report::summary_json(&dataset, &outcome)),
        ] {
            if let Err(e) = host::set_output(name, &value.to_string()) {
                host::log(LogLevel::Warn, &format!("cannot set output `{name}`: {e}"));
            }
        }
        let mut actions = vec![Action::CheckRun(report::check_run(&dataset, &outcome))];
        if records_count {
            actions.push(Action::KvSet(KvEntry {
                key,
                value: outcome.rows.to_string().into_bytes(),
            }));
        }
        Ok(actions)
    }
}

/// Only runs on the main line (push, schedule, manual) record the row
/// count `row_count_change` compares with; a pull request compares with
/// them and leaves them alone.
fn records_baseline(kind: EventKind) -> bool {
    !matches!(kind, EventKind::PullRequest | EventKind::Comment)
}

fn read_suite(path: &str) -> Result<Suite, PluginError> {
    let bytes = host::read_file(Side::Head, path).map_err(|e| {
        PluginError::InvalidConfig(match e {
            ReadError::NotFound => {
                format!("suite `{path}` not found at the head revision; check `with.suite`")
            }
            ReadError::InvalidPath(m) => format!("suite path `{path}`: {m}"),
            ReadError::NoRevision => "the event has no head revision to read the suite from".into(),
            ReadError::TooLarge(n) => format!("suite `{path}` is too large ({n} bytes)"),
            ReadError::Other(m) => format!("cannot read suite `{path}`: {m}"),
        })
    })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| PluginError::InvalidConfig(format!("suite `{path}` is not UTF-8")))?;
    suite::parse(&text).map_err(|e| PluginError::InvalidConfig(e.render(path)))
}

fn column_type(ty: ValueType) -> ColumnType {
    match ty {
        ValueType::Text => ColumnType::Text,
        ValueType::Int => ColumnType::Int,
        ValueType::Float => ColumnType::Float,
        ValueType::Bool => ColumnType::Boolean,
        ValueType::Date => ColumnType::Date,
        ValueType::Timestamp => ColumnType::Timestamp,
    }
}

fn options(suite: &Suite, columns: &[(String, ValueType)], row_hashes: bool) -> ReadOptions {
    ReadOptions {
        format: suite.format.map(|f| match f {
            DataFormat::Csv => Format::Csv,
            DataFormat::JsonLines => Format::JsonLines,
        }),
        columns: columns
            .iter()
            .map(|(name, ty)| ColumnRequest {
                name: name.clone(),
                type_: column_type(*ty),
            })
            .collect(),
        batch_rows: 0,
        row_hashes,
    }
}

/// Opens the dataset with the engine's column reads. A column the dataset
/// lacks fails the checks that need it, and the others still run: drop it
/// and open again.
fn open<'s>(
    suite: &'s Suite,
    references: &'s References,
    now: i64,
    dataset: &str,
) -> Result<(Engine<'s>, Reader), PluginError> {
    let mut missing: Vec<String> = Vec::new();
    loop {
        let engine = Engine::new(suite, references, now, &missing);
        let source = DatasetName::parse(dataset)
            .map_err(|e| PluginError::InvalidConfig(format!("dataset `{dataset}`: {e}")))?
            .source(Side::Head);
        let options = options(suite, engine.requests(), engine.wants_row_hashes());
        match dataset::open(&source, &options) {
            Ok(reader) => return Ok((engine, reader)),
            Err(DatasetError::MissingColumn(column))
                if !missing.contains(&column)
                    && engine.requests().iter().any(|(c, _)| *c == column) =>
            {
                missing.push(column);
            }
            Err(e) => {
                return Err(PluginError::Failed(format!(
                    "cannot read `{dataset}`: {}",
                    andon_pdk::dataset_error_message(e)
                )));
            }
        }
    }
}

/// The other datasets `relationship` checks look values up in, each read
/// once.
fn read_references(suite: &Suite) -> References {
    let mut references = References::new();
    for check in &suite.checks {
        if let Rule::Relationship { to, field, .. } = &check.rule
            && let Entry::Vacant(slot) = references.entry((to.clone(), field.clone()))
        {
            slot.insert(read_reference(to, field));
        }
    }
    references
}

fn read_reference(path: &str, field: &str) -> Result<ValueSet, String> {
    let options = ReadOptions {
        format: None,
        columns: vec![ColumnRequest {
            name: field.to_string(),
            type_: ColumnType::Text,
        }],
        batch_rows: 0,
        row_hashes: false,
    };
    let fail = |e: DatasetError| {
        format!(
            "cannot read `{path}`: {}",
            andon_pdk::dataset_error_message(e)
        )
    };
    let source = DatasetName::parse(path)
        .map_err(|e| format!("`relationship` dataset `{path}`: {e}"))?
        .source(Side::Head);
    let reader = dataset::open(&source, &options).map_err(fail)?;
    let mut values = ValueSet::new();
    while let Some(batch) = reader.next().map_err(fail)? {
        if let Some(column) = batch.columns.first() {
            kernels::collect(&mut values, columns::Col::new(column), batch.rows as usize);
        }
    }
    Ok(values)
}

andon_pdk::export!(DataCheck);
