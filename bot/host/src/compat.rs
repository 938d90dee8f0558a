//! Serving plugins built against an earlier contract: `andon:plugin@0.1.0`.
//!
//! A 0.1.0 plugin imports the 0.1.0 `host` and `dataset` interfaces; the
//! functions here answer them with the current implementations, moving
//! values between the two versions' generated types. The types of both
//! versions derive serde and share their names, so most values move by
//! name ([`cast`]); column batches, the hot path and the only values with
//! floats, are moved field by field.

use serde::Serialize;
use serde::de::DeserializeOwned;
use wasmtime::component::Resource;
use wasmtime::{Result, format_err};

use crate::bindings::v0_1::{wit as old, wit_dataset as old_dataset, wit_host as old_host};
use crate::bindings::{wit, wit_dataset, wit_host};
use crate::dataset_host::ReaderHandle;
use crate::state::{BlobHandle, StepState};

/// Move a value between versions by its serde form. Fails when `value` has
/// something the target version cannot hold (a 0.2.0 event kind for a
/// 0.1.0 plugin).
pub fn cast<A: Serialize, B: DeserializeOwned>(value: &A) -> Result<B, String> {
    let json = serde_json::to_value(value).map_err(|e| e.to_string())?;
    serde_json::from_value(json).map_err(|e| e.to_string())
}

fn trap<A: Serialize, B: DeserializeOwned>(value: &A) -> Result<B> {
    cast(value).map_err(|e| format_err!("andon:plugin@0.1.0 compatibility: {e}"))
}

impl old::Host for StepState {}

impl old_host::Host for StepState {
    fn log(&mut self, level: old::LogLevel, message: String) -> Result<()> {
        wit_host::Host::log(self, trap(&level)?, message)
    }

    fn changed_files(&mut self) -> Result<Vec<old::ChangedFile>> {
        trap(&wit_host::Host::changed_files(self)?)
    }

    fn added_lines(&mut self, path: String) -> Result<Vec<old::AddedLine>> {
        trap(&wit_host::Host::added_lines(self, path)?)
    }

    fn read_file(
        &mut self,
        side: old::Side,
        path: String,
    ) -> Result<Result<Vec<u8>, old::ReadError>> {
        Ok(match wit_host::Host::read_file(self, trap(&side)?, path)? {
            Ok(bytes) => Ok(bytes),
            Err(error) => Err(trap(&error)?),
        })
    }

    fn open_blob(
        &mut self,
        side: old::Side,
        path: String,
    ) -> Result<Result<Resource<BlobHandle>, old::ReadError>> {
        Ok(match wit_host::Host::open_blob(self, trap(&side)?, path)? {
            Ok(blob) => Ok(blob),
            Err(error) => Err(trap(&error)?),
        })
    }

    fn kv_get(&mut self, key: String) -> Result<Option<Vec<u8>>> {
        wit_host::Host::kv_get(self, key)
    }

    fn set_output(&mut self, name: String, value: String) -> Result<Result<(), String>> {
        wit_host::Host::set_output(self, name, value)
    }
}

impl old_host::HostBlob for StepState {
    fn size(&mut self, blob: Resource<BlobHandle>) -> Result<u64> {
        wit_host::HostBlob::size(self, blob)
    }

    fn read(&mut self, blob: Resource<BlobHandle>, max: u32) -> Result<Vec<u8>> {
        wit_host::HostBlob::read(self, blob, max)
    }

    fn drop(&mut self, blob: Resource<BlobHandle>) -> Result<()> {
        wit_host::HostBlob::drop(self, blob)
    }
}

impl old_dataset::Host for StepState {
    fn open(
        &mut self,
        source: old_dataset::Source,
        options: old_dataset::ReadOptions,
    ) -> Result<Result<Resource<ReaderHandle>, old_dataset::DatasetError>> {
        Ok(
            match wit_dataset::Host::open(self, trap(&source)?, trap(&options)?)? {
                Ok(reader) => Ok(reader),
                Err(error) => Err(trap(&error)?),
            },
        )
    }

    fn now(&mut self) -> Result<i64> {
        wit_dataset::Host::now(self)
    }
}

impl old_dataset::HostReader for StepState {
    fn header(&mut self, reader: Resource<ReaderHandle>) -> Result<Vec<String>> {
        wit_dataset::HostReader::header(self, reader)
    }

    fn size(&mut self, reader: Resource<ReaderHandle>) -> Result<u64> {
        wit_dataset::HostReader::size(self, reader)
    }

    fn next(
        &mut self,
        reader: Resource<ReaderHandle>,
    ) -> Result<Result<Option<old_dataset::Batch>, old_dataset::DatasetError>> {
        Ok(match wit_dataset::HostReader::next(self, reader)? {
            Ok(batch) => Ok(batch.map(old_batch)),
            Err(error) => Err(trap(&error)?),
        })
    }

    fn drop(&mut self, reader: Resource<ReaderHandle>) -> Result<()> {
        wit_dataset::HostReader::drop(self, reader)
    }
}

fn old_batch(batch: wit_dataset::Batch) -> old_dataset::Batch {
    old_dataset::Batch {
        first_row: batch.first_row,
        rows: batch.rows,
        columns: batch
            .columns
            .into_iter()
            .map(|column| old_dataset::Column {
                values: match column.values {
                    wit_dataset::Values::Text(text) => {
                        old_dataset::Values::Text(old_dataset::TextValues {
                            offsets: text.offsets,
                            data: text.data,
                        })
                    }
                    wit_dataset::Values::Int(values) => old_dataset::Values::Int(values),
                    wit_dataset::Values::Float(values) => old_dataset::Values::Float(values),
                },
                status: column.status,
            })
            .collect(),
        row_hashes: batch.row_hashes,
        ragged_rows: batch.ragged_rows,
    }
}

/// The current invocation as a 0.1.0 plugin receives it, or why it cannot
/// (an event kind 0.1.0 does not have).
pub fn invocation(invocation: &wit::Invocation) -> Result<old::Invocation, String> {
    cast(invocation).map_err(|_| {
        // The WIT name of the kind: `WorkflowRun` is `workflow-run`.
        let debug = format!("{:?}", invocation.event.kind);
        let kind = debug.rsplit("::").next().unwrap_or_default();
        let mut name = String::new();
        for (i, c) in kind.char_indices() {
            if c.is_ascii_uppercase() && i > 0 {
                name.push('-');
            }
            name.push(c.to_ascii_lowercase());
        }
        format!(
            "the plugin is built against andon:plugin@0.1.0, which has no `{name}` events; rebuild it against {}",
            crate::WIT_VERSION
        )
    })
}
