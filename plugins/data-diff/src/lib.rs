//! `data-diff`: on a pull request that changes datasets, compares each one
//! between base and head (schema, row counts, rows added, removed and
//! changed by key, per-column statistics) and posts the result as a sticky
//! comment and as the step's `diff` output.
//!
//! The logic is plain Rust, tested natively: [`config`] reads `with:`,
//! [`compare`] makes one pass over each side, [`report`] renders. This file
//! is the glue: it picks the changed files the step compares and reads
//! both sides through the host's `dataset` interface, every column as
//! text.

pub mod compare;
pub mod config;
pub mod report;
pub mod stats;
pub mod table;

use andon_pdk::dataset::{self, ColumnRequest, ColumnType, DatasetError, ReadOptions};
use andon_pdk::types::{
    Action, ChangedFile, EventKind, FileStatus, Invocation, LogLevel, Manifest, Permission,
    PluginError, Side,
};
use andon_pdk::{Guest, host};

use crate::compare::Options;
use crate::report::{DatasetReport, FileChange, Outcome};
use crate::table::{Table, TextBatch};

struct DataDiff;

impl Guest for DataDiff {
    fn describe() -> Manifest {
        Manifest {
            name: "data-diff".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "compares changed datasets between the base and head of a pull request"
                .into(),
            events: vec![
                EventKind::PullRequest,
                EventKind::Comment,
                EventKind::Push,
                EventKind::Manual,
            ],
            commands: Vec::new(),
            permissions: vec![Permission::Comment],
            config_schema: None,
        }
    }

    fn run(inv: Invocation) -> Result<Vec<Action>, PluginError> {
        let cfg = config::parse(&inv.config).map_err(PluginError::InvalidConfig)?;
        if inv.event.base.is_none() {
            host::log(
                LogLevel::Info,
                "the event has no base revision: nothing to compare",
            );
            return Ok(Vec::new());
        }
        let mut reports = Vec::new();
        for file in host::changed_files() {
            let Some(key) = cfg.key_for(&file.path, file.old_path.as_deref()) else {
                continue;
            };
            let options = Options {
                key,
                samples: cfg.samples,
            };
            let report = diff_file(&file, &options);
            host::log(LogLevel::Info, &summary_line(&report));
            reports.push(report);
        }
        if reports.is_empty() {
            host::log(LogLevel::Info, "no dataset this step compares changed");
            return Ok(Vec::new());
        }
        match serde_json::to_string(&reports) {
            Ok(json) => {
                if let Err(error) = host::set_output("diff", &json) {
                    host::log(
                        LogLevel::Warn,
                        &format!("cannot set the diff output: {error}"),
                    );
                }
            }
            Err(error) => host::log(LogLevel::Warn, &format!("cannot encode the diff: {error}")),
        }
        Ok(vec![Action::Comment(report::markdown(&reports))])
    }
}

/// Compares one changed file's two sides.
fn diff_file(file: &ChangedFile, options: &Options) -> DatasetReport {
    let (change, base_path, head_path) = match file.status {
        FileStatus::Added => (FileChange::Added, None, Some(file.path.as_str())),
        FileStatus::Deleted => (FileChange::Deleted, Some(file.path.as_str()), None),
        FileStatus::Renamed => (
            FileChange::Renamed,
            Some(file.old_path.as_deref().unwrap_or(&file.path)),
            Some(file.path.as_str()),
        ),
        FileStatus::Modified => (
            FileChange::Modified,
            Some(file.path.as_str()),
            Some(file.path.as_str()),
        ),
    };
    let result = (|| {
        let mut base = base_path
            .map(|p| HostTable::open(Side::Base, p))
            .transpose()?;
        let mut head = head_path
            .map(|p| HostTable::open(Side::Head, p))
            .transpose()?;
        compare::compare(
            base.as_mut().map(|t| t as &mut dyn Table),
            head.as_mut().map(|t| t as &mut dyn Table),
            options,
        )
    })();
    DatasetReport {
        path: file.path.clone(),
        old_path: file.old_path.clone(),
        change,
        result: match result {
            Ok(diff) => Outcome::Diff(Box::new(diff)),
            Err(error) => Outcome::Error(error),
        },
    }
}

fn summary_line(report: &DatasetReport) -> String {
    match &report.result {
        Outcome::Diff(diff) => match &diff.row_diff {
            Some(r) => format!(
                "{}: {} -> {} rows; {} added, {} removed, {} changed",
                report.path, diff.rows.base, diff.rows.head, r.added, r.removed, r.changed
            ),
            None => format!(
                "{}: {} -> {} rows; rows not matched",
                report.path, diff.rows.base, diff.rows.head
            ),
        },
        Outcome::Error(error) => format!("{}: not compared: {error}", report.path),
    }
}

/// One side of a dataset, read through the host.
struct HostTable {
    header: Vec<String>,
    size: u64,
    reader: dataset::Reader,
}

impl HostTable {
    /// Opens `path` at `side`: once with no columns for its header, then
    /// with every column as text.
    fn open(side: Side, path: &str) -> Result<HostTable, String> {
        let source = dataset::Source::File((side, path.to_string()));
        let label = match side {
            Side::Base => "base",
            Side::Head => "head",
        };
        let describe =
            |e: DatasetError| format!("{label}: {}", andon_pdk::dataset_error_message(e));
        let header = {
            let probe = dataset::open(&source, &options(Vec::new(), 1)).map_err(describe)?;
            probe.header()
        };
        let columns = header
            .iter()
            .map(|name| ColumnRequest {
                name: name.clone(),
                type_: ColumnType::Text,
            })
            .collect();
        let reader = dataset::open(&source, &options(columns, 0)).map_err(describe)?;
        Ok(HostTable {
            header,
            size: reader.size(),
            reader,
        })
    }
}

fn options(columns: Vec<ColumnRequest>, batch_rows: u32) -> ReadOptions {
    ReadOptions {
        format: None,
        columns,
        batch_rows,
        row_hashes: false,
    }
}

impl Table for HostTable {
    fn header(&self) -> &[String] {
        &self.header
    }

    fn size(&self) -> u64 {
        self.size
    }

    fn next_batch(&mut self) -> Result<Option<TextBatch>, String> {
        match self
            .reader
            .next()
            .map_err(andon_pdk::dataset_error_message)?
        {
            Some(batch) => TextBatch::from_wit(batch).map(Some),
            None => Ok(None),
        }
    }
}

andon_pdk::export!(DataDiff);
