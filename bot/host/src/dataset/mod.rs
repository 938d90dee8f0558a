//! Datasets (CSV, JSON Lines) parsed natively into typed column batches:
//! the host side of the WIT `dataset` interface, kept free of wasmtime
//! types so that benches and native baselines can call it directly.
//!
//! A [`Parser`] reads its source once, front to back, in large chunks into
//! one reused buffer and never holds more than a chunk, the longest row and
//! a batch. Each batch is built in two phases: the format splits rows into
//! the spans of the wanted fields (only the requested columns are ever
//! converted), then each column converts its spans in a loop of its own
//! type. [`Pipelined`] runs a parser on a thread of its own, one batch
//! ahead, so that parsing and the plugin's work use two cores.
//!
//! Nulls and invalid values, for every format and type:
//! - null: an empty CSV field, quoted (`""`) or not; a JSON `null` or a
//!   missing key. Whitespace is data: a CSV field holding a space is not
//!   null, so a column's nulls are the same whatever type it is read as.
//! - invalid: a non-null value that does not parse as the requested type.
//!   Typed parsers (not text) ignore spaces and tabs around the value; a
//!   field of blanks is invalid for them.
//! - text is the field's bytes as they are (JSON strings unescaped; other
//!   JSON values as their JSON text, `{"a":1}` or `12.5`), so a JSON `""`
//!   is an empty text value, not null.

mod batch;
mod csv;
mod hash;
mod input;
mod jsonl;
mod swar;
pub mod value;

use std::collections::HashMap;
use std::io::Read;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use self::batch::BatchBuilder;
use self::csv::Csv;
use self::input::{Input, MAX_ROW_BYTES};
use self::jsonl::Jsonl;

/// A row's status byte: the row holds a value.
pub const VALUE: u8 = 0;
/// A row's status byte: the field is null.
pub const NULL: u8 = 1;
/// A row's status byte: the field does not parse as the requested type.
pub const INVALID: u8 = 2;

/// Rows per batch when the caller does not say.
pub const DEFAULT_BATCH_ROWS: usize = 65_536;
/// Bytes read from the source at a time.
pub const DEFAULT_CHUNK_BYTES: usize = 1 << 20;
/// A batch ends early once its text columns hold this many bytes, which
/// bounds memory and keeps text offsets far from `u32::MAX`.
const TEXT_BATCH_BYTES: usize = 64 << 20;

/// How a dataset's bytes are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with a header row (RFC 4180).
    Csv,
    /// One JSON object per line.
    JsonLines,
}

impl Format {
    /// The format a file name's extension says: `.csv`, `.jsonl`,
    /// `.ndjson` (any case).
    pub fn from_path(path: &str) -> Option<Format> {
        let name = path.rsplit('/').next().unwrap_or(path);
        let (_, extension) = name.rsplit_once('.')?;
        match extension.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "jsonl" | "ndjson" => Some(Format::JsonLines),
            _ => None,
        }
    }
}

/// The type a column is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// The field's bytes.
    Text,
    /// i64.
    Int,
    /// f64.
    Float,
    /// 1 or 0, in an int column.
    Boolean,
    /// Days since 1970-01-01, in an int column.
    Date,
    /// Microseconds since the epoch (UTC), in an int column.
    Timestamp,
}

/// One column to read, and as what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnRequest {
    pub name: String,
    pub kind: ColumnType,
}

/// How to read a dataset.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    pub format: Format,
    /// The columns, in the order batches carry them; a name may repeat
    /// with another type. A name matches the first CSV column so named.
    pub columns: Vec<ColumnRequest>,
    /// Rows per batch (at least 1). A batch may hold fewer when its text
    /// grows large.
    pub batch_rows: usize,
    /// Hand over a 64-bit hash of each whole row.
    pub row_hashes: bool,
    /// Bytes read from the source at a time (tests use tiny ones).
    pub chunk_bytes: usize,
}

impl ReadOptions {
    /// Options with the default batch and chunk sizes and no row hashes.
    pub fn new(format: Format, columns: Vec<ColumnRequest>) -> ReadOptions {
        ReadOptions {
            format,
            columns,
            batch_rows: DEFAULT_BATCH_ROWS,
            row_hashes: false,
            chunk_bytes: DEFAULT_CHUNK_BYTES,
        }
    }
}

/// Text values: value `i` is `data[offsets[i]..offsets[i + 1]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextValues {
    pub offsets: Vec<u32>,
    pub data: Vec<u8>,
}

impl TextValues {
    /// Value `row` (empty for null and invalid rows).
    pub fn get(&self, row: usize) -> Option<&[u8]> {
        let start = *self.offsets.get(row)? as usize;
        let end = *self.offsets.get(row + 1)? as usize;
        self.data.get(start..end)
    }
}

/// A column's values for the rows of one batch; null and invalid rows hold
/// 0 or the empty string.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    Text(TextValues),
    /// int, boolean, date and timestamp columns.
    Int(Vec<i64>),
    Float(Vec<f64>),
}

/// One requested column over the rows of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub values: Values,
    /// One of [`VALUE`], [`NULL`], [`INVALID`] per row, or empty when every
    /// row holds a value.
    pub status: Vec<u8>,
}

impl Column {
    /// Row `row`'s status.
    pub fn status(&self, row: usize) -> u8 {
        self.status.get(row).copied().unwrap_or(VALUE)
    }
}

/// A run of consecutive rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// The 1-based number of the first data row (the header is not one).
    pub first_row: u64,
    pub rows: u32,
    /// The requested columns, in request order.
    pub columns: Vec<Column>,
    /// One hash per row when asked for, else empty.
    pub row_hashes: Vec<u64>,
    /// Numbers of the rows whose field count differs from the header's
    /// (CSV only); their missing fields are null.
    pub ragged_rows: Vec<u64>,
}

/// Why a dataset cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatasetError {
    /// A requested column is not in the header (for JSON Lines: not a key
    /// of any row of the first batch).
    #[error("no column `{0}`")]
    MissingColumn(String),
    /// The bytes are not CSV or JSON Lines; the message names the row.
    #[error("malformed dataset: {0}")]
    Malformed(String),
    /// Reading the source failed.
    #[error("cannot read the dataset: {0}")]
    Io(String),
}

/// How far a format got through the data it was given.
pub(crate) enum Split {
    /// The batch is full.
    Full,
    /// The data ends within a row: read more.
    NeedMore,
    /// The source is done.
    End,
}

enum Splitter {
    Csv { csv: Csv, header: Vec<String> },
    Jsonl(Jsonl),
}

/// A dataset read front to back, one batch at a time, on the caller's
/// thread.
pub struct Parser {
    input: Input,
    splitter: Splitter,
    batch: BatchBuilder,
    batch_rows: usize,
    /// The data ends within a row: read more before splitting.
    refill: bool,
    done: bool,
    /// A batch read ahead by `open` (JSON Lines, to learn its columns).
    pending: Option<Batch>,
}

impl std::fmt::Debug for Parser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parser")
            .field("header", &self.header())
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

fn io_error(error: &std::io::Error) -> DatasetError {
    DatasetError::Io(error.to_string())
}

impl Parser {
    /// Opens a dataset: reads the CSV header, or the first batch of JSON
    /// Lines, and checks that every requested column is there.
    pub fn open(
        reader: Box<dyn Read + Send>,
        options: &ReadOptions,
    ) -> Result<Parser, DatasetError> {
        let mut input = Input::new(reader, options.chunk_bytes);
        input.refill(0).map_err(|e| io_error(&e))?;
        let batch_rows = options.batch_rows.max(1);
        let capacity = batch_rows.min(DEFAULT_BATCH_ROWS);
        match options.format {
            Format::Csv => {
                let (header, pos) = read_header(&mut input)?;
                let mut want: Vec<u32> = Vec::new();
                let mut columns = Vec::with_capacity(options.columns.len());
                let mut slots = 0;
                for request in &options.columns {
                    let field = header
                        .iter()
                        .position(|name| *name == request.name)
                        .ok_or_else(|| DatasetError::MissingColumn(request.name.clone()))?;
                    if want.len() <= field {
                        want.resize(field + 1, 0);
                    }
                    if want[field] == 0 {
                        slots += 1;
                        want[field] = slots;
                    }
                    columns.push((request.kind, want[field] as usize - 1));
                }
                let csv = Csv::new(want, header.len(), pos);
                Ok(Parser {
                    input,
                    splitter: Splitter::Csv { csv, header },
                    batch: BatchBuilder::new(&columns, options.row_hashes, capacity),
                    batch_rows,
                    refill: false,
                    done: false,
                    pending: None,
                })
            }
            Format::JsonLines => {
                let mut slots: HashMap<String, u32> = HashMap::new();
                let mut columns = Vec::with_capacity(options.columns.len());
                for request in &options.columns {
                    let next = slots.len() as u32;
                    let slot = *slots.entry(request.name.clone()).or_insert(next);
                    columns.push((request.kind, slot as usize));
                }
                let jsonl = Jsonl::new(slots, options.row_hashes);
                let mut parser = Parser {
                    input,
                    splitter: Splitter::Jsonl(jsonl),
                    batch: BatchBuilder::new(&columns, options.row_hashes, capacity),
                    batch_rows,
                    refill: false,
                    done: false,
                    pending: None,
                };
                parser.pending = parser.fill()?;
                if let Splitter::Jsonl(jsonl) = &parser.splitter
                    && let Some(missing) =
                        options.columns.iter().find(|c| !jsonl.has_column(&c.name))
                {
                    return Err(DatasetError::MissingColumn(missing.name.clone()));
                }
                Ok(parser)
            }
        }
    }

    /// The column names in file order (for JSON Lines, the keys seen so
    /// far in first-seen order).
    pub fn header(&self) -> &[String] {
        match &self.splitter {
            Splitter::Csv { header, .. } => header,
            Splitter::Jsonl(jsonl) => &jsonl.header,
        }
    }

    /// The next batch, or `None` at the end.
    pub fn next_batch(&mut self) -> Result<Option<Batch>, DatasetError> {
        match self.pending.take() {
            Some(batch) => Ok(Some(batch)),
            None => self.fill(),
        }
    }

    fn fill(&mut self) -> Result<Option<Batch>, DatasetError> {
        if self.done {
            return Ok(None);
        }
        let result = self.fill_inner();
        if result.is_err() {
            self.done = true;
        }
        result
    }

    fn fill_inner(&mut self) -> Result<Option<Batch>, DatasetError> {
        loop {
            if self.refill {
                let pos = self.pos();
                if self.input.data().len() - pos > MAX_ROW_BYTES {
                    return Err(DatasetError::Malformed(format!(
                        "row {} (at byte {}) is longer than {} MiB; is a quote never closed?",
                        self.batch.row_number(),
                        self.input.offset_of(pos),
                        MAX_ROW_BYTES >> 20
                    )));
                }
                self.input.refill(pos).map_err(|e| io_error(&e))?;
                self.set_pos(0);
                self.refill = false;
            }
            let max_rows = self.batch_rows - self.batch.rows;
            let data = self.input.data();
            let eof = self.input.eof();
            let (split, fields) = match &mut self.splitter {
                Splitter::Csv { csv, .. } => (
                    csv.split(data, eof, max_rows, &mut self.batch),
                    &mut csv.fields,
                ),
                Splitter::Jsonl(jsonl) => (
                    jsonl.split(data, eof, max_rows, &mut self.batch),
                    &mut jsonl.fields,
                ),
            };
            let split = split?;
            self.batch.append(fields, data);
            fields.spans.clear();
            fields.scratch.clear();
            match split {
                Split::Full => return Ok(Some(self.batch.take())),
                Split::End => {
                    self.done = true;
                    return Ok((self.batch.rows > 0).then(|| self.batch.take()));
                }
                Split::NeedMore => {
                    self.refill = true;
                    if self.batch.rows > 0 && self.batch.text_bytes() >= TEXT_BATCH_BYTES {
                        return Ok(Some(self.batch.take()));
                    }
                }
            }
        }
    }

    fn pos(&self) -> usize {
        match &self.splitter {
            Splitter::Csv { csv, .. } => csv.pos,
            Splitter::Jsonl(jsonl) => jsonl.pos,
        }
    }

    fn set_pos(&mut self, pos: usize) {
        match &mut self.splitter {
            Splitter::Csv { csv, .. } => csv.pos = pos,
            Splitter::Jsonl(jsonl) => jsonl.pos = pos,
        }
    }
}

/// Reads the CSV header row; returns it and where the data rows start.
fn read_header(input: &mut Input) -> Result<(Vec<String>, usize), DatasetError> {
    let mut pos = 0;
    loop {
        if let Some(header) = Csv::header(input.data(), input.eof(), &mut pos)? {
            return Ok((header, pos));
        }
        if input.data().len() - pos > MAX_ROW_BYTES {
            return Err(DatasetError::Malformed(format!(
                "the header row is longer than {} MiB",
                MAX_ROW_BYTES >> 20
            )));
        }
        input.refill(pos).map_err(|e| io_error(&e))?;
        pos = 0;
    }
}

/// Batches parsed ahead of the reader: at most this many wait in the
/// channel while the parser thread builds the next one.
const PIPELINE_DEPTH: usize = 1;

enum Message {
    /// A batch, and the header's names that are new since the last one.
    Batch(Batch, Vec<String>),
    End,
    Failed(DatasetError),
}

/// A [`Parser`] on a thread of its own, one batch ahead of the reader.
/// Dropping it stops the thread after the batch it is parsing.
pub struct Pipelined {
    header: Vec<String>,
    batches: Receiver<Message>,
    /// How the stream ended, once it has: every later call says the same.
    finished: Option<Result<(), DatasetError>>,
}

impl std::fmt::Debug for Pipelined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipelined")
            .field("header", &self.header)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl Pipelined {
    /// Starts parsing `parser` on a new thread.
    pub fn spawn(parser: Parser) -> Result<Pipelined, DatasetError> {
        let header = parser.header().to_vec();
        let known = header.len();
        let (sender, batches) = sync_channel(PIPELINE_DEPTH);
        std::thread::Builder::new()
            .name("andon-dataset".into())
            .spawn(move || produce(parser, &sender, known))
            .map_err(|e| DatasetError::Io(format!("cannot start a parser thread: {e}")))?;
        Ok(Pipelined {
            header,
            batches,
            finished: None,
        })
    }

    /// The column names known so far (see [`Parser::header`]).
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// The next batch, or `None` at the end. After an error, every call
    /// returns it again.
    pub fn next_batch(&mut self) -> Result<Option<Batch>, DatasetError> {
        if let Some(finished) = &self.finished {
            return finished.clone().map(|()| None);
        }
        let finished = match self.batches.recv() {
            Ok(Message::Batch(batch, names)) => {
                self.header.extend(names);
                return Ok(Some(batch));
            }
            Ok(Message::End) => Ok(()),
            Ok(Message::Failed(error)) => Err(error),
            Err(_) => Err(DatasetError::Io(
                "the parser thread stopped unexpectedly".into(),
            )),
        };
        self.finished = Some(finished.clone());
        finished.map(|()| None)
    }
}

fn produce(mut parser: Parser, sender: &SyncSender<Message>, mut known: usize) {
    loop {
        let message = match parser.next_batch() {
            Ok(Some(batch)) => {
                let header = parser.header();
                let names = header.get(known..).unwrap_or_default().to_vec();
                known = header.len();
                Message::Batch(batch, names)
            }
            Ok(None) => Message::End,
            Err(error) => Message::Failed(error),
        };
        let last = !matches!(message, Message::Batch(..));
        // A send fails when the reader is gone: nobody wants the rest.
        if sender.send(message).is_err() || last {
            return;
        }
    }
}

#[cfg(test)]
mod tests;
