//! The `dataset` host functions: a plugin opens a CSV or JSON Lines file of
//! the repository (or an artifact of an earlier step) and reads it as typed
//! column batches that [`crate::dataset`] parses natively, one batch ahead
//! on a thread of its own. Dataset errors are WIT values, never traps.

use andon_core::change::{Side, validate_repo_path};
use wasmtime::Result;
use wasmtime::component::Resource;

use crate::bindings::{wit, wit_dataset};
use crate::dataset::{self, ColumnRequest, ColumnType, Format, Parser, Pipelined, ReadOptions};
use crate::host::DatasetRead;
use crate::inputs::ReadError;
use crate::state::StepState;

/// Most columns one reader may request.
pub(crate) const MAX_COLUMNS: usize = 256;
/// Most rows per batch; larger requests are lowered to it.
pub(crate) const MAX_BATCH_ROWS: u32 = 1 << 20;
/// Most readers a step may have open at once (each has a parser thread and
/// buffers).
pub(crate) const MAX_OPEN_READERS: usize = 8;

/// A dataset a plugin opened, kept in the store's resource table.
pub struct ReaderHandle {
    reader: Pipelined,
    size: u64,
    /// `head:PATH`, `base:PATH` or `artifact:NAME`, for messages.
    source: String,
}

impl wit_dataset::Host for StepState {
    fn open(
        &mut self,
        source: wit_dataset::Source,
        options: wit_dataset::ReadOptions,
    ) -> Result<Result<Resource<ReaderHandle>, wit_dataset::DatasetError>> {
        match self.open_reader(&source, options) {
            Ok(handle) => {
                let resource = self.table.push(handle)?;
                self.open_readers += 1;
                Ok(Ok(resource))
            }
            Err(error) => Ok(Err(error)),
        }
    }

    fn now(&mut self) -> Result<i64> {
        Ok(self.inputs.now_micros())
    }
}

impl wit_dataset::HostReader for StepState {
    fn header(&mut self, reader: Resource<ReaderHandle>) -> Result<Vec<String>> {
        Ok(self.table.get(&reader)?.reader.header().to_vec())
    }

    fn size(&mut self, reader: Resource<ReaderHandle>) -> Result<u64> {
        Ok(self.table.get(&reader)?.size)
    }

    fn next(
        &mut self,
        reader: Resource<ReaderHandle>,
    ) -> Result<Result<Option<wit_dataset::Batch>, wit_dataset::DatasetError>> {
        let handle = self.table.get_mut(&reader)?;
        Ok(match handle.reader.next_batch() {
            Ok(batch) => Ok(batch.map(batch_to_wit)),
            Err(error) => Err(parse_error(&handle.source, error)),
        })
    }

    fn drop(&mut self, reader: Resource<ReaderHandle>) -> Result<()> {
        self.table.delete(reader)?;
        self.open_readers = self.open_readers.saturating_sub(1);
        Ok(())
    }
}

impl StepState {
    /// Checks the source and options, opens the stream, records it for
    /// lineage, and starts parsing. The stream is recorded once it opens,
    /// even if its header turns out wrong: the step depended on it.
    fn open_reader(
        &mut self,
        source: &wit_dataset::Source,
        options: wit_dataset::ReadOptions,
    ) -> Result<ReaderHandle, wit_dataset::DatasetError> {
        use wit_dataset::DatasetError as E;
        if self.open_readers >= MAX_OPEN_READERS {
            return Err(E::Other(format!(
                "at most {MAX_OPEN_READERS} datasets may be open at once; drop a reader first"
            )));
        }
        if options.columns.len() > MAX_COLUMNS {
            return Err(E::Other(format!(
                "{} columns requested; at most {MAX_COLUMNS} per reader",
                options.columns.len()
            )));
        }
        let (label, name) = match source {
            wit_dataset::Source::File((which, path)) => {
                validate_repo_path(path)
                    .map_err(|why| E::InvalidSource(format!("`{path}`: {why}")))?;
                let side = match which {
                    wit::Side::Head => "head",
                    wit::Side::Base => "base",
                };
                (format!("{side}:{path}"), path.as_str())
            }
            wit_dataset::Source::Artifact(name) => {
                if name.trim().is_empty() {
                    return Err(E::InvalidSource("an artifact name is empty".into()));
                }
                (format!("artifact:{name}"), name.as_str())
            }
        };
        let format = match options.format {
            Some(wit_dataset::Format::Csv) => Format::Csv,
            Some(wit_dataset::Format::JsonLines) => Format::JsonLines,
            None => Format::from_path(name).ok_or_else(|| {
                E::Other(format!(
                    "cannot tell the format of `{name}` from its name (.csv, .jsonl, .ndjson); set `format`"
                ))
            })?,
        };
        let stream = match source {
            wit_dataset::Source::File((which, path)) => {
                let side = match which {
                    wit::Side::Head => Side::Head,
                    wit::Side::Base => Side::Base,
                };
                self.inputs.open_stream(side, path)
            }
            wit_dataset::Source::Artifact(name) => self.inputs.open_artifact(name),
        }
        .map_err(|error| read_error(&label, error))?;
        self.datasets.push(DatasetRead {
            source: label.clone(),
            content_id: stream.content_id,
        });
        let batch_rows = match options.batch_rows {
            0 => dataset::DEFAULT_BATCH_ROWS,
            rows => rows.min(MAX_BATCH_ROWS) as usize,
        };
        let read_options = ReadOptions {
            format,
            columns: options.columns.into_iter().map(column_request).collect(),
            batch_rows,
            row_hashes: options.row_hashes,
            chunk_bytes: dataset::DEFAULT_CHUNK_BYTES,
        };
        let reader = Parser::open(stream.reader, &read_options)
            .and_then(Pipelined::spawn)
            .map_err(|error| parse_error(&label, error))?;
        Ok(ReaderHandle {
            reader,
            size: stream.size,
            source: label,
        })
    }
}

fn column_request(request: wit_dataset::ColumnRequest) -> ColumnRequest {
    ColumnRequest {
        name: request.name,
        kind: match request.type_ {
            wit_dataset::ColumnType::Text => ColumnType::Text,
            wit_dataset::ColumnType::Int => ColumnType::Int,
            wit_dataset::ColumnType::Float => ColumnType::Float,
            wit_dataset::ColumnType::Boolean => ColumnType::Boolean,
            wit_dataset::ColumnType::Date => ColumnType::Date,
            wit_dataset::ColumnType::Timestamp => ColumnType::Timestamp,
        },
    }
}

fn read_error(label: &str, error: ReadError) -> wit_dataset::DatasetError {
    use wit_dataset::DatasetError as E;
    match error {
        ReadError::NotFound => E::NotFound(format!("{label}: not found")),
        ReadError::InvalidPath(why) => E::InvalidSource(why),
        ReadError::NoRevision => {
            E::InvalidSource(format!("{label}: the event has no revision on that side"))
        }
        ReadError::TooLarge(size) => E::Other(format!("{label}: {size} bytes is too large")),
        ReadError::Other(message) => E::Other(format!("{label}: {message}")),
    }
}

fn parse_error(label: &str, error: dataset::DatasetError) -> wit_dataset::DatasetError {
    use wit_dataset::DatasetError as E;
    match error {
        dataset::DatasetError::MissingColumn(name) => E::MissingColumn(name),
        dataset::DatasetError::Malformed(message) => E::Malformed(format!("{label}: {message}")),
        dataset::DatasetError::Io(message) => E::Other(format!("{label}: {message}")),
    }
}

/// Moves the batch's vectors into the WIT record: no copy per value.
fn batch_to_wit(batch: dataset::Batch) -> wit_dataset::Batch {
    wit_dataset::Batch {
        first_row: batch.first_row,
        rows: batch.rows,
        columns: batch
            .columns
            .into_iter()
            .map(|column| wit_dataset::Column {
                values: match column.values {
                    dataset::Values::Text(text) => {
                        wit_dataset::Values::Text(wit_dataset::TextValues {
                            offsets: text.offsets,
                            data: text.data,
                        })
                    }
                    dataset::Values::Int(ints) => wit_dataset::Values::Int(ints),
                    dataset::Values::Float(floats) => wit_dataset::Values::Float(floats),
                },
                status: column.status,
            })
            .collect(),
        row_hashes: batch.row_hashes,
        ragged_rows: batch.ragged_rows,
    }
}
