//! The per-step store state: an empty WASI context, the step's inputs, its
//! bounded log, and the memory limiter. Also the host functions plugins
//! import.

use std::collections::BTreeMap;
use std::sync::Arc;

use andon_core::change::{Side, validate_repo_path};
use wasmtime::component::{Resource, ResourceTable};
use wasmtime::{ResourceLimiter, Result};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::bindings::{wit, wit_host};
use crate::inputs::{Blob, ReadError, StepInputs};

/// A blob a plugin opened, kept in the store's resource table.
pub struct BlobHandle(Box<dyn Blob>);

/// Largest file `read-file` returns whole; larger ones must be streamed.
const READ_FILE_MAX: u64 = 64 << 20;
/// Largest chunk one `blob.read` returns.
const BLOB_CHUNK_MAX: usize = 4 << 20;

pub struct StepState {
    wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub stderr: MemoryOutputPipe,
    pub(crate) inputs: Arc<dyn StepInputs>,
    pub limiter: MemoryLimiter,
    log: String,
    log_limit: usize,
    log_dropped: usize,
    /// Outputs set with `host.set-output`, and their encoded size.
    pub outputs: BTreeMap<String, serde_json::Value>,
    output_sizes: BTreeMap<String, usize>,
    outputs_bytes: usize,
    output_limit: usize,
    /// Datasets opened through the `dataset` interface, for lineage.
    pub datasets: Vec<crate::host::DatasetRead>,
    /// Dataset readers the plugin holds now.
    pub(crate) open_readers: usize,
}

impl StepState {
    pub fn new(
        inputs: Arc<dyn StepInputs>,
        memory_limit: usize,
        log_limit: usize,
        output_limit: usize,
    ) -> StepState {
        let stderr = MemoryOutputPipe::new(log_limit.max(1024));
        // No preopened directories, no environment, no arguments, no network,
        // no inherited stdio: the plugin sees nothing the host does not pass.
        let wasi = WasiCtx::builder().stderr(stderr.clone()).build();
        StepState {
            wasi,
            table: ResourceTable::new(),
            stderr,
            inputs,
            limiter: MemoryLimiter {
                limit: memory_limit,
                peak: 0,
                hit: false,
            },
            log: String::new(),
            log_limit,
            log_dropped: 0,
            outputs: BTreeMap::new(),
            output_sizes: BTreeMap::new(),
            outputs_bytes: 0,
            output_limit,
            datasets: Vec::new(),
            open_readers: 0,
        }
    }

    /// The step's log: plugin log lines, then its stderr, with a note of
    /// anything dropped.
    pub fn take_log(&mut self) -> String {
        let mut log = std::mem::take(&mut self.log);
        let stderr = self.stderr.contents();
        if !stderr.is_empty() {
            log.push_str("[stderr]\n");
            log.push_str(&String::from_utf8_lossy(&stderr));
            if !log.ends_with('\n') {
                log.push('\n');
            }
        }
        if self.log_dropped > 0 {
            log.push_str(&format!(
                "[log truncated: {} bytes dropped]\n",
                self.log_dropped
            ));
        }
        log
    }
}

impl WasiView for StepState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Caps linear memory growth. A refused growth is not a trap by itself (the
/// guest sees `memory.grow` fail and usually aborts), so the limiter records
/// it to report the step as out of memory rather than as a crash.
pub struct MemoryLimiter {
    limit: usize,
    pub peak: usize,
    pub hit: bool,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> Result<bool> {
        if desired > self.limit {
            self.hit = true;
            return Ok(false);
        }
        self.peak = self.peak.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> Result<bool> {
        Ok(desired <= 100_000)
    }
}

fn read_error(error: ReadError) -> wit::ReadError {
    match error {
        ReadError::NotFound => wit::ReadError::NotFound,
        ReadError::InvalidPath(why) => wit::ReadError::InvalidPath(why),
        ReadError::NoRevision => wit::ReadError::NoRevision,
        ReadError::TooLarge(size) => wit::ReadError::TooLarge(size),
        ReadError::Other(message) => wit::ReadError::Other(message),
    }
}

fn side(side: wit::Side) -> Side {
    match side {
        wit::Side::Base => Side::Base,
        wit::Side::Head => Side::Head,
    }
}

fn checked_path(path: &str) -> Result<(), wit::ReadError> {
    validate_repo_path(path).map_err(|why| wit::ReadError::InvalidPath(format!("`{path}`: {why}")))
}

impl wit::Host for StepState {}

impl wit_host::Host for StepState {
    fn log(&mut self, level: wit::LogLevel, message: String) -> Result<()> {
        let level = match level {
            wit::LogLevel::Debug => "debug",
            wit::LogLevel::Info => "info",
            wit::LogLevel::Warn => "warn",
            wit::LogLevel::Error => "error",
        };
        let needed = level.len() + message.len() + 4;
        if self.log.len() + needed > self.log_limit {
            self.log_dropped += needed;
        } else {
            self.log.push_str(&format!("[{level}] {message}\n"));
        }
        Ok(())
    }

    fn changed_files(&mut self) -> Result<Vec<wit::ChangedFile>> {
        Ok(self
            .inputs
            .changed_files()
            .iter()
            .map(crate::convert::changed_file)
            .collect())
    }

    fn added_lines(&mut self, path: String) -> Result<Vec<wit::AddedLine>> {
        Ok(self
            .inputs
            .added_lines(&path)
            .iter()
            .map(|l| wit::AddedLine {
                line: l.line,
                text: l.text.clone(),
            })
            .collect())
    }

    fn read_file(
        &mut self,
        which: wit::Side,
        path: String,
    ) -> Result<Result<Vec<u8>, wit::ReadError>> {
        if let Err(e) = checked_path(&path) {
            return Ok(Err(e));
        }
        let bytes = self
            .inputs
            .read_file(side(which), &path)
            .map_err(read_error);
        Ok(match bytes {
            Ok(bytes) if bytes.len() as u64 > READ_FILE_MAX => {
                Err(wit::ReadError::TooLarge(bytes.len() as u64))
            }
            other => other,
        })
    }

    fn open_blob(
        &mut self,
        which: wit::Side,
        path: String,
    ) -> Result<Result<Resource<BlobHandle>, wit::ReadError>> {
        if let Err(e) = checked_path(&path) {
            return Ok(Err(e));
        }
        match self.inputs.open_blob(side(which), &path) {
            Ok(blob) => Ok(Ok(self.table.push(BlobHandle(blob))?)),
            Err(e) => Ok(Err(read_error(e))),
        }
    }

    fn kv_get(&mut self, key: String) -> Result<Option<Vec<u8>>> {
        Ok(self.inputs.kv_get(&key))
    }

    fn set_output(&mut self, name: String, value: String) -> Result<Result<(), String>> {
        let parsed: serde_json::Value = match serde_json::from_str(&value) {
            Ok(parsed) => parsed,
            Err(error) => return Ok(Err(format!("output `{name}` is not JSON: {error}"))),
        };
        let size = name.len() + value.len();
        let old = self.output_sizes.get(&name).copied().unwrap_or(0);
        let total = self.outputs_bytes - old + size;
        if total > self.output_limit {
            return Ok(Err(format!(
                "output `{name}` would bring the step's outputs to {total} bytes, over the limit of {}",
                self.output_limit
            )));
        }
        self.outputs_bytes = total;
        self.output_sizes.insert(name.clone(), size);
        self.outputs.insert(name, parsed);
        Ok(Ok(()))
    }

    fn open_pull_requests(&mut self) -> Result<Result<Vec<wit::PullRequest>, String>> {
        Ok(self
            .inputs
            .open_pull_requests()
            .map(|pulls| pulls.iter().map(crate::convert::pull_request).collect()))
    }
}

impl wit_host::HostBlob for StepState {
    fn size(&mut self, blob: Resource<BlobHandle>) -> Result<u64> {
        Ok(self.table.get(&blob)?.0.size())
    }

    fn read(&mut self, blob: Resource<BlobHandle>, max: u32) -> Result<Vec<u8>> {
        let max = usize::try_from(max)
            .unwrap_or(usize::MAX)
            .min(BLOB_CHUNK_MAX);
        Ok(self.table.get_mut(&blob)?.0.read(max))
    }

    fn drop(&mut self, blob: Resource<BlobHandle>) -> Result<()> {
        self.table.delete(blob)?;
        Ok(())
    }
}
