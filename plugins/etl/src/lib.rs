//! `etl`: select, rename, filter, derive, deduplicate, aggregate and join
//! datasets into an artifact.
//!
//! The logic is plain Rust that runs natively in tests: [`config`] parses
//! `with:`, [`expr`] the expressions, [`plan`] compiles the steps and runs
//! them over [`plan::Table`]s, [`output`] writes CSV or JSON Lines. This
//! file is the component glue: it opens the inputs through the host's
//! `dataset` interface (every column as text, so values keep the text they
//! were written with) and returns the output as an `artifact` action. The
//! host stores it and records its lineage (this plugin's version, the
//! content ids of the datasets read).

pub mod batch;
pub mod config;
pub mod expr;
pub mod output;
pub mod plan;
pub mod value;

use andon_pdk::dataset::{self, ColumnRequest, ColumnType, ReadOptions};
use andon_pdk::types::{
    Action, Artifact, EventKind, Invocation, LogLevel, Manifest, Permission, PluginError, Side,
};
use andon_pdk::{Guest, host};

use crate::config::{Format, Input};
use crate::plan::{EtlError, Row, Table};

struct Etl;

impl Guest for Etl {
    fn describe() -> Manifest {
        Manifest {
            name: "etl".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description:
                "select, rename, filter, derive, deduplicate, aggregate and join datasets into artifacts"
                    .into(),
            events: vec![
                EventKind::PullRequest,
                EventKind::Push,
                EventKind::Manual,
                EventKind::Comment,
                EventKind::Schedule,
            ],
            commands: Vec::new(),
            permissions: vec![Permission::Artifacts],
            config_schema: None,
        }
    }

    fn run(inv: Invocation) -> Result<Vec<Action>, PluginError> {
        let cfg = config::parse(&inv.config).map_err(PluginError::InvalidConfig)?;
        let outcome = plan::run(&cfg, &mut HostInputs).map_err(|e| match e {
            EtlError::Config(m) => PluginError::InvalidConfig(m),
            EtlError::Failed(m) => PluginError::Failed(m),
        })?;
        for warning in &outcome.warnings {
            host::log(LogLevel::Warn, warning);
        }
        let read: Vec<String> = outcome
            .rows_read
            .iter()
            .map(|(name, rows)| format!("{rows} rows of `{name}`"))
            .collect();
        host::log(
            LogLevel::Info,
            &format!(
                "read {}; wrote {} rows and {} columns to `{}` ({} bytes)",
                read.join(", "),
                outcome.rows,
                outcome.columns.len(),
                cfg.output,
                outcome.data.len()
            ),
        );
        let summary = serde_json::json!({
            "output": cfg.output,
            "format": match cfg.format { Format::Csv => "csv", Format::JsonLines => "jsonl" },
            "rows": outcome.rows,
            "columns": outcome.columns,
            "bytes": outcome.data.len(),
            "rows_read": outcome
                .rows_read
                .iter()
                .map(|(n, r)| (n.clone(), serde_json::json!(r)))
                .collect::<serde_json::Map<_, _>>(),
            "warnings": outcome.warnings,
        });
        if let Err(error) = host::set_output("summary", &summary.to_string()) {
            host::log(
                LogLevel::Warn,
                &format!("cannot set the summary output: {error}"),
            );
        }
        Ok(vec![Action::Artifact(Artifact {
            name: cfg.output.clone(),
            media_type: cfg.format.media_type().into(),
            data: outcome.data,
        })])
    }
}

/// Inputs read through the host's `dataset` interface.
struct HostInputs;

impl plan::Inputs for HostInputs {
    fn open(&mut self, input: &Input) -> Result<Box<dyn Table>, String> {
        let source = input.source.source(Side::Head);
        let format = input.format.map(|f| match f {
            Format::Csv => dataset::Format::Csv,
            Format::JsonLines => dataset::Format::JsonLines,
        });
        // The columns are requested up front, so a first open reads the
        // header and a second one the rows.
        let header = {
            let probe = dataset::open(&source, &options(format, Vec::new(), 1))
                .map_err(andon_pdk::dataset_error_message)?;
            probe.header()
        };
        let columns = header
            .iter()
            .map(|name| ColumnRequest {
                name: name.clone(),
                type_: ColumnType::Text,
            })
            .collect();
        let reader = dataset::open(&source, &options(format, columns, 0))
            .map_err(andon_pdk::dataset_error_message)?;
        Ok(Box::new(HostTable { header, reader }))
    }
}

/// `batch_rows` 0 is the host's default; the header probe asks for one row
/// so that the host parses no more ahead of it.
fn options(
    format: Option<dataset::Format>,
    columns: Vec<ColumnRequest>,
    batch_rows: u32,
) -> ReadOptions {
    ReadOptions {
        format,
        columns,
        batch_rows,
        row_hashes: false,
    }
}

struct HostTable {
    header: Vec<String>,
    reader: dataset::Reader,
}

impl Table for HostTable {
    fn header(&self) -> &[String] {
        &self.header
    }

    fn next_rows(&mut self) -> Result<Option<Vec<Row>>, String> {
        match self
            .reader
            .next()
            .map_err(andon_pdk::dataset_error_message)?
        {
            Some(batch) => batch::text_rows(&batch).map(Some),
            None => Ok(None),
        }
    }
}

andon_pdk::export!(Etl);
