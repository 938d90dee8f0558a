//! The testbed's `with:` mapping and the reports it renders; plain Rust, so
//! it is unit-tested natively.

use std::collections::HashSet;

use andon_pdk::dataset::{
    Batch, ColumnRequest, ColumnType, DatasetError, Format, ReadOptions, Source, Values,
};
use andon_pdk::types::{Event, EventKind, PluginError, ReadError, Side};
use serde::Deserialize;
use serde_json::{Value, json};

/// How to misbehave.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    #[default]
    Noop,
    Echo,
    Loop,
    Memory,
    Trap,
    Unreachable,
    BigOutput,
    Escape,
    Read,
    Error,
    BadConfig,
    LogFlood,
    Kv,
    AllActions,
    /// Reads a dataset through `dataset.open` and sets the output
    /// `dataset` to a summary: column sums, nulls, invalid values, hashes.
    Dataset,
    /// Sets outputs that the host must refuse (not JSON, too large) and
    /// one it must keep, and comments on what the host answered.
    Outputs,
}

/// The `with:` mapping. Unknown fields are accepted, so every mode can be
/// given anything.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    pub mode: Mode,
    /// `big-output`: the comment's size; 64 MiB when absent.
    pub bytes: Option<u64>,
    /// `read`, `dataset`: the file to read.
    pub path: Option<String>,
    /// `dataset`: `head` (the default) or `base`.
    pub side: Option<String>,
    /// `dataset`: an artifact to read instead of a file.
    pub artifact: Option<String>,
    /// `dataset`: `csv` or `json-lines`; from the extension when absent.
    pub format: Option<String>,
    /// `dataset`: the columns to read.
    pub columns: Vec<ColumnSpec>,
    /// `dataset`: rows per batch (0: the host's default).
    pub batch_rows: u32,
    /// `dataset`: ask for row hashes.
    pub row_hashes: bool,
}

/// One column of `with.columns`.
#[derive(Debug, Clone, Deserialize)]
pub struct ColumnSpec {
    pub name: String,
    /// `text`, `int`, `float`, `boolean`, `date` or `timestamp`.
    #[serde(rename = "type", default = "default_kind")]
    pub kind: String,
}

fn default_kind() -> String {
    "text".into()
}

impl Config {
    pub fn output_bytes(&self) -> Result<usize, PluginError> {
        let bytes = self.bytes.unwrap_or(64 << 20);
        usize::try_from(bytes)
            .map_err(|_| PluginError::InvalidConfig(format!("`with.bytes` is too large: {bytes}")))
    }

    pub fn required_path(&self) -> Result<&str, PluginError> {
        self.path
            .as_deref()
            .ok_or_else(|| PluginError::InvalidConfig("mode `read` needs `with.path`".into()))
    }
}

impl Config {
    /// The source and read options of the `dataset` mode.
    pub fn dataset(&self) -> Result<(Source, ReadOptions), PluginError> {
        let invalid = |m: String| PluginError::InvalidConfig(m);
        let source = match (&self.artifact, &self.path) {
            (Some(name), _) => Source::Artifact(name.clone()),
            (None, Some(path)) => {
                let side = match self.side.as_deref() {
                    None | Some("head") => Side::Head,
                    Some("base") => Side::Base,
                    Some(other) => return Err(invalid(format!("unknown side `{other}`"))),
                };
                Source::File((side, path.clone()))
            }
            (None, None) => {
                return Err(invalid(
                    "mode `dataset` needs `with.path` or `with.artifact`".into(),
                ));
            }
        };
        let format = match self.format.as_deref() {
            None => None,
            Some("csv") => Some(Format::Csv),
            Some("json-lines") => Some(Format::JsonLines),
            Some(other) => return Err(invalid(format!("unknown format `{other}`"))),
        };
        let columns = self
            .columns
            .iter()
            .map(|c| {
                let type_ = match c.kind.as_str() {
                    "text" => ColumnType::Text,
                    "int" => ColumnType::Int,
                    "float" => ColumnType::Float,
                    "boolean" => ColumnType::Boolean,
                    "date" => ColumnType::Date,
                    "timestamp" => ColumnType::Timestamp,
                    other => return Err(invalid(format!("unknown column type `{other}`"))),
                };
                Ok(ColumnRequest {
                    name: c.name.clone(),
                    type_,
                })
            })
            .collect::<Result<_, _>>()?;
        let options = ReadOptions {
            format,
            columns,
            batch_rows: self.batch_rows,
            row_hashes: self.row_hashes,
        };
        Ok((source, options))
    }
}

/// What the `dataset` mode saw, batch by batch.
#[derive(Debug, Default)]
pub struct Summary {
    pub batches: u64,
    pub rows: u64,
    /// Every batch started right after the previous one.
    pub contiguous: bool,
    pub ragged: Vec<u64>,
    pub hashes: u64,
    pub distinct_hashes: HashSet<u64>,
    pub columns: Vec<ColumnSummary>,
}

/// One column's totals.
#[derive(Debug, Default)]
pub struct ColumnSummary {
    pub name: String,
    pub kind: String,
    pub values: u64,
    pub nulls: u64,
    pub invalid: u64,
    /// Sum of the values of an int-like column.
    pub int_sum: i128,
    /// Sum of the values of a float column.
    pub float_sum: f64,
    /// Bytes of the values of a text column.
    pub text_bytes: u64,
    /// The first values (text, or numbers as JSON), nulls as `null`.
    pub first: Vec<Value>,
}

/// How many values of each column the summary keeps.
const FIRST_VALUES: usize = 3;

impl Summary {
    pub fn new(columns: &[ColumnSpec]) -> Summary {
        Summary {
            contiguous: true,
            columns: columns
                .iter()
                .map(|c| ColumnSummary {
                    name: c.name.clone(),
                    kind: c.kind.clone(),
                    ..ColumnSummary::default()
                })
                .collect(),
            ..Summary::default()
        }
    }

    pub fn add(&mut self, batch: &Batch) {
        self.contiguous &= batch.first_row == self.rows + 1;
        self.batches += 1;
        self.rows += u64::from(batch.rows);
        self.ragged.extend_from_slice(&batch.ragged_rows);
        self.hashes += batch.row_hashes.len() as u64;
        self.distinct_hashes
            .extend(batch.row_hashes.iter().copied());
        for (summary, column) in self.columns.iter_mut().zip(&batch.columns) {
            summary.add(&column.values, &column.status, batch.rows as usize);
        }
    }

    pub fn to_json(&self, header: &[String], size: u64, now: i64) -> Value {
        json!({
            "header": header,
            "size": size,
            "now": now,
            "batches": self.batches,
            "rows": self.rows,
            "contiguous": self.contiguous,
            "ragged": self.ragged,
            "hashes": self.hashes,
            "distinct_hashes": self.distinct_hashes.len(),
            "columns": self.columns.iter().map(ColumnSummary::to_json).collect::<Vec<_>>(),
        })
    }
}

impl ColumnSummary {
    fn add(&mut self, values: &Values, status: &[u8], rows: usize) {
        let state = |row: usize| status.get(row).copied().unwrap_or(0);
        for row in 0..rows {
            match state(row) {
                1 => self.nulls += 1,
                2 => self.invalid += 1,
                _ => self.values += 1,
            }
        }
        match values {
            // Null and invalid rows hold 0, so the plain sum is the sum of values.
            Values::Int(ints) => self.int_sum += ints.iter().map(|&v| i128::from(v)).sum::<i128>(),
            Values::Float(floats) => self.float_sum += floats.iter().sum::<f64>(),
            Values::Text(text) => self.text_bytes += text.data.len() as u64,
        }
        for row in 0..rows {
            if self.first.len() >= FIRST_VALUES {
                break;
            }
            self.first.push(match (state(row), values) {
                (1, _) => Value::Null,
                (2, _) => json!("<invalid>"),
                (_, Values::Int(ints)) => json!(ints.get(row)),
                (_, Values::Float(floats)) => json!(floats.get(row)),
                (_, Values::Text(text)) => {
                    let start = text.offsets.get(row).copied().unwrap_or(0) as usize;
                    let end = text.offsets.get(row + 1).copied().unwrap_or(0) as usize;
                    json!(String::from_utf8_lossy(
                        text.data.get(start..end).unwrap_or_default()
                    ))
                }
            });
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "type": self.kind,
            "values": self.values,
            "nulls": self.nulls,
            "invalid": self.invalid,
            "int_sum": self.int_sum.to_string(),
            "float_sum": self.float_sum,
            "text_bytes": self.text_bytes,
            "first": self.first,
        })
    }
}

/// A dataset error in WIT spelling: `missing-column(id)`, `not-found(..)`, …
pub fn describe_dataset_error(e: &DatasetError) -> String {
    match e {
        DatasetError::NotFound(m) => format!("not-found({m})"),
        DatasetError::InvalidSource(m) => format!("invalid-source({m})"),
        DatasetError::MissingColumn(c) => format!("missing-column({c})"),
        DatasetError::Malformed(m) => format!("malformed({m})"),
        DatasetError::Other(m) => format!("other({m})"),
    }
}

/// The `echo` comment: the event fields the plugin got, as JSON.
pub fn echo_json(event: &Event, changed_files: usize) -> String {
    json!({
        "kind": kind_name(event.kind),
        "repository": event.repository,
        "number": event.number,
        "head": event.head,
        "base": event.base,
        "labels": event.labels,
        "changed_files": changed_files,
    })
    .to_string()
}

/// The `read` comment: the file read whole (with its text) and streamed.
pub fn read_json(
    path: &str,
    whole: &Result<Vec<u8>, ReadError>,
    streamed: &Result<(u64, u64, u64), ReadError>,
) -> String {
    let whole = match whole {
        Ok(bytes) => json!({ "bytes": bytes.len(), "text": String::from_utf8_lossy(bytes) }),
        Err(e) => json!({ "error": describe_read_error(e) }),
    };
    let streamed = match streamed {
        Ok((size, total, chunks)) => json!({ "size": size, "read": total, "chunks": chunks }),
        Err(e) => json!({ "error": describe_read_error(e) }),
    };
    json!({ "path": path, "read_file": whole, "blob": streamed }).to_string()
}

/// A read error in WIT spelling: `invalid-path(..)`, `not-found`, …
pub fn describe_read_error(e: &ReadError) -> String {
    match e {
        ReadError::NotFound => "not-found".into(),
        ReadError::InvalidPath(m) => format!("invalid-path({m})"),
        ReadError::NoRevision => "no-revision".into(),
        ReadError::TooLarge(n) => format!("too-large({n})"),
        ReadError::Other(m) => format!("other({m})"),
    }
}

fn kind_name(kind: EventKind) -> &'static str {
    match kind {
        EventKind::PullRequest => "pull-request",
        EventKind::Push => "push",
        EventKind::Manual => "manual",
        EventKind::Comment => "comment",
        EventKind::Schedule => "schedule",
        EventKind::Review => "review",
        EventKind::WorkflowRun => "workflow-run",
    }
}

#[cfg(test)]
mod tests {
    use andon_pdk::parse_config;

    use super::*;

    #[test]
    fn modes_parse_in_kebab_case() {
        let cfg: Config = parse_config(r#"{"mode": "big-output", "bytes": 3}"#).expect("valid");
        assert_eq!(
            (cfg.mode, cfg.output_bytes().ok()),
            (Mode::BigOutput, Some(3))
        );
        let cfg: Config = parse_config("{}").expect("valid");
        assert_eq!(cfg.mode, Mode::Noop);
        assert_eq!(cfg.output_bytes().ok(), Some(64 << 20));
        assert!(parse_config::<Config>(r#"{"mode": "explode"}"#).is_err());
    }

    #[test]
    fn echo_lists_the_event() {
        let event = Event {
            kind: EventKind::PullRequest,
            action: Some("opened".into()),
            repository: "o/r".into(),
            number: Some(7),
            author: None,
            author_association: None,
            base: Some("b".repeat(40)),
            head: "h".repeat(40),
            ref_name: None,
            title: None,
            body: None,
            labels: vec!["bug".into()],
            command: None,
            args: Vec::new(),
            author_permission: None,
            review_state: None,
            run: None,
            default_branch: None,
            pull_request_author: None,
        };
        let v: Value = serde_json::from_str(&echo_json(&event, 3)).expect("json");
        assert_eq!(v["kind"], "pull-request");
        assert_eq!(v["number"], 7);
        assert_eq!(v["labels"][0], "bug");
        assert_eq!(v["changed_files"], 3);
    }

    #[test]
    fn dataset_config() {
        let cfg: Config = parse_config(
            r#"{"mode": "dataset", "path": "d.csv", "side": "base", "format": "csv",
                "columns": [{"name": "a", "type": "int"}, {"name": "b"}], "batch_rows": 10}"#,
        )
        .expect("valid");
        let (source, options) = cfg.dataset().expect("valid");
        assert!(matches!(source, Source::File((Side::Base, p)) if p == "d.csv"));
        assert!(matches!(options.format, Some(Format::Csv)));
        assert_eq!(options.columns.len(), 2);
        assert!(matches!(options.columns[0].type_, ColumnType::Int));
        assert!(matches!(options.columns[1].type_, ColumnType::Text));
        assert_eq!(options.batch_rows, 10);
        let cfg: Config = parse_config(
            r#"{"mode": "dataset", "columns": [{"name": "a", "type": "money"}], "path": "x"}"#,
        )
        .expect("valid");
        assert!(cfg.dataset().is_err());
        let cfg: Config = parse_config(r#"{"mode": "dataset"}"#).expect("valid");
        assert!(cfg.dataset().is_err());
    }

    #[test]
    fn summaries_count_sum_and_sample() {
        use andon_pdk::dataset::{Column, TextValues};
        let specs = vec![
            ColumnSpec {
                name: "n".into(),
                kind: "int".into(),
            },
            ColumnSpec {
                name: "s".into(),
                kind: "text".into(),
            },
        ];
        let mut summary = Summary::new(&specs);
        summary.add(&Batch {
            first_row: 1,
            rows: 3,
            columns: vec![
                Column {
                    values: Values::Int(vec![5, 0, 7]),
                    status: vec![0, 1, 0],
                },
                Column {
                    values: Values::Text(TextValues {
                        offsets: vec![0, 1, 3, 3],
                        data: b"abc".to_vec(),
                    }),
                    status: vec![0, 0, 2],
                },
            ],
            row_hashes: vec![1, 2, 1],
            ragged_rows: vec![2],
        });
        summary.add(&Batch {
            first_row: 5,
            rows: 1,
            columns: vec![
                Column {
                    values: Values::Int(vec![-1]),
                    status: Vec::new(),
                },
                Column {
                    values: Values::Text(TextValues {
                        offsets: vec![0, 0],
                        data: Vec::new(),
                    }),
                    status: vec![1],
                },
            ],
            row_hashes: vec![3],
            ragged_rows: Vec::new(),
        });
        let v = summary.to_json(&["n".into(), "s".into()], 99, 7);
        assert_eq!(v["rows"], 4);
        assert_eq!(v["batches"], 2);
        assert_eq!(v["contiguous"], false);
        assert_eq!(v["ragged"], json!([2]));
        assert_eq!(
            (v["hashes"].clone(), v["distinct_hashes"].clone()),
            (json!(4), json!(3))
        );
        let n = &v["columns"][0];
        assert_eq!(
            (
                n["values"].clone(),
                n["nulls"].clone(),
                n["int_sum"].clone()
            ),
            (json!(3), json!(1), json!("11"))
        );
        assert_eq!(n["first"], json!([5, null, 7]));
        let s = &v["columns"][1];
        assert_eq!(
            (
                s["values"].clone(),
                s["nulls"].clone(),
                s["invalid"].clone()
            ),
            (json!(2), json!(1), json!(1))
        );
        assert_eq!(s["first"], json!(["a", "bc", "<invalid>"]));
        assert_eq!(s["text_bytes"], 3);
    }

    #[test]
    fn read_report() {
        let out = read_json("a.txt", &Ok(b"hi".to_vec()), &Err(ReadError::NotFound));
        let v: Value = serde_json::from_str(&out).expect("json");
        let expected = json!({
            "path": "a.txt",
            "read_file": { "bytes": 2, "text": "hi" },
            "blob": { "error": "not-found" },
        });
        assert_eq!(v, expected);
    }
}
