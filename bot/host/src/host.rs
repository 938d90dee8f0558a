//! The engine, the plugin cache and the step runner.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use andon_core::action::Action;
use andon_core::event::Event;
use andon_core::limits::Limits;
use andon_core::manifest::Manifest;
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap,
};

use crate::bindings::{PluginPre, v0_1, wit};
use crate::error::{LoadError, StepError};
use crate::inputs::{EmptyInputs, StepInputs};
use crate::state::StepState;
use crate::{cache, compat, convert};

/// How often the epoch ticks: the granularity of step timeouts.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Bytes of each pooled linear memory kept resident (and reset in place)
/// when an instance is freed.
const LINEAR_MEMORY_KEEP_RESIDENT: usize = 2 << 20;
/// Bytes of each pooled table kept resident when an instance is freed.
const TABLE_KEEP_RESIDENT: usize = 64 << 10;

/// Host-wide settings.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// Where compiled components are cached; `None` keeps them in memory only.
    pub cache_dir: Option<PathBuf>,
    /// The ceiling for every step's limits.
    pub max: Limits,
    /// Meter fuel for deterministic budgets. For tests and benchmarks only:
    /// fuel and epochs together cost 55-77% on call-heavy plugin code.
    pub fuel: bool,
    /// Plugin instances that may be alive at once (pooling allocator slots).
    pub instances: u32,
    /// Wasm stack per instance, server-wide (wasmtime cannot vary it per
    /// store).
    pub max_stack: usize,
}

impl Default for HostConfig {
    fn default() -> HostConfig {
        HostConfig {
            cache_dir: None,
            max: Limits::MAX,
            fuel: false,
            instances: 64,
            max_stack: 1 << 20,
        }
    }
}

/// What a step is run with.
#[derive(Debug, Clone, Copy)]
pub struct Invocation<'a> {
    pub event: &'a Event,
    pub workflow: &'a str,
    pub step_id: &'a str,
    /// The step's `with:` mapping.
    pub config: &'a serde_json::Value,
}

/// What a step did.
#[derive(Debug, Clone)]
pub struct StepOutcome {
    pub result: Result<Vec<Action>, StepError>,
    pub duration: Duration,
    pub fuel_used: Option<u64>,
    /// Peak linear memory, in bytes.
    pub memory_peak: u64,
    /// Plugin log lines and captured stderr, bounded.
    pub log: String,
    /// Outputs the plugin set (`host.set-output`), JSON values by name.
    pub outputs: BTreeMap<String, serde_json::Value>,
    /// The datasets the plugin opened, in order, for lineage.
    pub datasets: Vec<DatasetRead>,
}

/// A dataset a step read through the `dataset` interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetRead {
    /// What was opened: `head:data/orders.csv`, `base:…` or `artifact:NAME`.
    pub source: String,
    /// What identifies the content (`git:<blob id>`, `sha256:<hex>`), empty
    /// when the source did not say.
    pub content_id: String,
}

/// A loaded plugin, ready to instantiate.
pub struct Plugin {
    name: String,
    sha256: String,
    pre: Pre,
    manifest: OnceLock<Manifest>,
}

/// A plugin linked against the contract version it was built for.
enum Pre {
    Current(PluginPre<StepState>),
    V0_1(v0_1::PluginPre<StepState>),
}

/// An instance's exports, by contract version.
enum Exports {
    Current(crate::bindings::Plugin),
    V0_1(v0_1::Plugin),
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("name", &self.name)
            .field("sha256", &self.sha256)
            .finish_non_exhaustive()
    }
}

impl Plugin {
    /// The name it was loaded under (a bundled name or a path).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Hex sha256 of the component bytes.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The WIT package the plugin was built against (`andon:plugin@0.2.0`).
    pub fn wit_version(&self) -> &'static str {
        match self.pre {
            Pre::Current(_) => crate::WIT_VERSION,
            Pre::V0_1(_) => "andon:plugin@0.1.0",
        }
    }
}

/// The plugin host. Cheap to share behind an `Arc`; one per process.
pub struct PluginHost {
    engine: Engine,
    linker: Linker<StepState>,
    config: HostConfig,
    loaded: Mutex<HashMap<String, Arc<Plugin>>>,
    ticker_stop: Arc<AtomicBool>,
}

impl std::fmt::Debug for PluginHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginHost")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Drop for PluginHost {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

impl PluginHost {
    pub fn new(config: HostConfig) -> Result<PluginHost, LoadError> {
        let engine = engine(&config).map_err(|e| LoadError::Engine(format!("{e:#}")))?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|e| LoadError::Engine(format!("{e:#}")))?;
        crate::bindings::Plugin::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)
            .map_err(|e| LoadError::Engine(format!("{e:#}")))?;
        v0_1::Plugin::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)
            .map_err(|e| LoadError::Engine(format!("{e:#}")))?;
        let ticker_stop = Arc::new(AtomicBool::new(false));
        spawn_ticker(engine.clone(), ticker_stop.clone())
            .map_err(|e| LoadError::Engine(e.to_string()))?;
        Ok(PluginHost {
            engine,
            linker,
            config,
            loaded: Mutex::new(HashMap::new()),
            ticker_stop,
        })
    }

    pub fn config(&self) -> &HostConfig {
        &self.config
    }

    /// Load a plugin from its component bytes, verifying `pin` (a hex
    /// sha256) when given. Compiled code comes from memory, then the disk
    /// cache, and is compiled only when both miss.
    pub fn load(
        &self,
        name: &str,
        wasm: &[u8],
        pin: Option<&str>,
    ) -> Result<Arc<Plugin>, LoadError> {
        let sha256 = hex::encode(Sha256::digest(wasm));
        if let Some(expected) = pin
            && !expected.eq_ignore_ascii_case(&sha256)
        {
            return Err(LoadError::PinMismatch {
                plugin: name.to_string(),
                expected: expected.to_string(),
                actual: sha256,
            });
        }
        if let Some(plugin) = self.lock_loaded().get(&sha256) {
            return Ok(plugin.clone());
        }
        let component = self.compile_cached(name, wasm, &sha256)?;
        let plugin = Arc::new(self.link(name, &sha256, &component)?);
        self.lock_loaded().insert(sha256, plugin.clone());
        Ok(plugin)
    }

    /// Compile `wasm` without any cache, for benchmarks of compilation.
    pub fn compile_uncached(&self, name: &str, wasm: &[u8]) -> Result<Arc<Plugin>, LoadError> {
        let sha256 = hex::encode(Sha256::digest(wasm));
        let component = Component::new(&self.engine, wasm).map_err(|e| invalid(name, &e))?;
        Ok(Arc::new(self.link(name, &sha256, &component)?))
    }

    /// Load from the disk cache only, bypassing the in-memory one; `None` on
    /// a miss. For benchmarks of the cached load path.
    pub fn load_from_disk_cache(
        &self,
        name: &str,
        wasm: &[u8],
    ) -> Result<Option<Arc<Plugin>>, LoadError> {
        let Some(dir) = &self.config.cache_dir else {
            return Ok(None);
        };
        let sha256 = hex::encode(Sha256::digest(wasm));
        match cache::load(&self.engine, &cache::path(dir, &self.engine, &sha256)) {
            Some(component) => Ok(Some(Arc::new(self.link(name, &sha256, &component)?))),
            None => Ok(None),
        }
    }

    fn lock_loaded(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Plugin>>> {
        // A panic while holding this lock cannot leave the map inconsistent
        // (inserts are single calls), so a poisoned lock is still usable.
        self.loaded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn compile_cached(
        &self,
        name: &str,
        wasm: &[u8],
        sha256: &str,
    ) -> Result<Component, LoadError> {
        let file = self
            .config
            .cache_dir
            .as_ref()
            .map(|dir| cache::path(dir, &self.engine, sha256));
        if let Some(component) = file.as_deref().and_then(|f| cache::load(&self.engine, f)) {
            return Ok(component);
        }
        let component = Component::new(&self.engine, wasm).map_err(|e| invalid(name, &e))?;
        if let Some(file) = &file
            && let Err(error) = cache::store(file, &component)
        {
            tracing::warn!(file = %file.display(), %error, "could not cache compiled plugin");
        }
        Ok(component)
    }

    fn link(&self, name: &str, sha256: &str, component: &Component) -> Result<Plugin, LoadError> {
        let instance_pre = self
            .linker
            .instantiate_pre(component)
            .map_err(|e| invalid(name, &e))?;
        let built_for = component
            .component_type()
            .imports(&self.engine)
            .find_map(|(import, _)| {
                let version = import.strip_prefix("andon:plugin/")?.split_once('@')?.1;
                Some(version.to_string())
            });
        let pre = match built_for.as_deref() {
            Some("0.1.0") => {
                Pre::V0_1(v0_1::PluginPre::new(instance_pre).map_err(|e| invalid(name, &e))?)
            }
            Some(_) => Pre::Current(PluginPre::new(instance_pre).map_err(|e| invalid(name, &e))?),
            // A plugin that imports nothing of andon's: its exports decide.
            None => match PluginPre::new(instance_pre.clone()) {
                Ok(pre) => Pre::Current(pre),
                Err(_) => {
                    Pre::V0_1(v0_1::PluginPre::new(instance_pre).map_err(|e| invalid(name, &e))?)
                }
            },
        };
        Ok(Plugin {
            name: name.to_string(),
            sha256: sha256.to_string(),
            pre,
            manifest: OnceLock::new(),
        })
    }

    /// The plugin's manifest, from its `describe` export (asked once).
    pub fn manifest(&self, plugin: &Plugin) -> Result<Manifest, StepError> {
        if let Some(m) = plugin.manifest.get() {
            return Ok(m.clone());
        }
        let limits = Limits {
            timeout: Duration::from_secs(5),
            ..Limits::DEFAULT
        }
        .clamp_to(&self.config.max);
        let mut session = self.start(plugin, Arc::new(EmptyInputs), &limits)?;
        let describe = match &session.exports {
            Exports::Current(exports) => exports.call_describe(&mut session.store),
            Exports::V0_1(exports) => exports
                .call_describe(&mut session.store)
                .and_then(|m| compat::cast(&m).map_err(wasmtime::Error::msg)),
        };
        let manifest = describe
            .map(convert::manifest)
            .map_err(|e| session.classify(plugin, &limits, &e))?;
        Ok(plugin.manifest.get_or_init(|| manifest).clone())
    }

    /// Run one step: a fresh store with `limits`, the plugin's `run` export,
    /// and the actions it returned, or why it did not return any.
    pub fn run_step(
        &self,
        plugin: &Plugin,
        invocation: Invocation<'_>,
        inputs: Arc<dyn StepInputs>,
        limits: &Limits,
    ) -> StepOutcome {
        let limits = limits.clamp_to(&self.config.max);
        let started = Instant::now();
        let mut session = match self.start(plugin, inputs, &limits) {
            Ok(session) => session,
            Err(error) => {
                return StepOutcome {
                    result: Err(error),
                    duration: started.elapsed(),
                    fuel_used: None,
                    memory_peak: 0,
                    log: String::new(),
                    outputs: BTreeMap::new(),
                    datasets: Vec::new(),
                };
            }
        };
        let result = session.call_run(plugin, invocation, &limits);
        let fuel_used = session.fuel_used(&limits);
        let state = session.store.data_mut();
        StepOutcome {
            result,
            duration: started.elapsed(),
            fuel_used,
            memory_peak: state.limiter.peak as u64,
            log: state.take_log(),
            outputs: std::mem::take(&mut state.outputs),
            datasets: std::mem::take(&mut state.datasets),
        }
    }

    fn start(
        &self,
        plugin: &Plugin,
        inputs: Arc<dyn StepInputs>,
        limits: &Limits,
    ) -> Result<Ready, StepError> {
        let mut store = Store::new(
            &self.engine,
            StepState::new(inputs, limits.memory, limits.log_bytes, limits.output_bytes),
        );
        store.limiter(|state| &mut state.limiter);
        store.set_epoch_deadline(epoch_ticks(limits));
        store.epoch_deadline_trap();
        if self.config.fuel {
            store
                .set_fuel(limits.fuel.unwrap_or(u64::MAX))
                .map_err(|e| instantiate_error(plugin, &e))?;
        }
        let instantiated = match &plugin.pre {
            Pre::Current(pre) => pre.instantiate(&mut store).map(Exports::Current),
            Pre::V0_1(pre) => pre.instantiate(&mut store).map(Exports::V0_1),
        };
        match instantiated {
            Ok(exports) => Ok(Ready {
                exports,
                store,
                fuel: self.config.fuel,
            }),
            Err(error) => Err(match classify(plugin, limits, store.data(), &error) {
                StepError::Trap { message, .. } => StepError::Instantiate {
                    plugin: plugin.name.clone(),
                    message,
                },
                other => other,
            }),
        }
    }
}

/// A plugin instantiated once and called many times. Steps never do this
/// (each gets a fresh store); it exists so benchmarks can separate the cost
/// of a call from the cost of instantiation.
pub struct Instance {
    ready: Ready,
    plugin: Arc<Plugin>,
    limits: Limits,
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance")
            .field("plugin", &self.plugin.name)
            .finish_non_exhaustive()
    }
}

impl Instance {
    /// Call `run` again on the same instance, with a fresh time budget.
    pub fn run(&mut self, invocation: Invocation<'_>) -> Result<Vec<Action>, StepError> {
        self.ready
            .store
            .set_epoch_deadline(epoch_ticks(&self.limits));
        self.ready.call_run(&self.plugin, invocation, &self.limits)
    }
}

impl PluginHost {
    /// Instantiate `plugin` for repeated calls; see [`Instance`].
    pub fn instantiate(
        &self,
        plugin: &Arc<Plugin>,
        inputs: Arc<dyn StepInputs>,
        limits: &Limits,
    ) -> Result<Instance, StepError> {
        let limits = limits.clamp_to(&self.config.max);
        Ok(Instance {
            ready: self.start(plugin, inputs, &limits)?,
            plugin: plugin.clone(),
            limits,
        })
    }
}

/// A fresh store with the plugin instantiated in it, for one call.
struct Ready {
    exports: Exports,
    store: Store<StepState>,
    fuel: bool,
}

impl Ready {
    fn call_run(
        &mut self,
        plugin: &Plugin,
        invocation: Invocation<'_>,
        limits: &Limits,
    ) -> Result<Vec<Action>, StepError> {
        let wit_invocation = wit::Invocation {
            event: convert::event(invocation.event),
            workflow: invocation.workflow.to_string(),
            step_id: invocation.step_id.to_string(),
            config: invocation.config.to_string(),
        };
        let returned = match &self.exports {
            Exports::Current(exports) => exports.call_run(&mut self.store, &wit_invocation),
            Exports::V0_1(exports) => {
                let old = match compat::invocation(&wit_invocation) {
                    Ok(old) => old,
                    Err(message) => {
                        return Err(StepError::Failed {
                            plugin: plugin.name.clone(),
                            message,
                        });
                    }
                };
                exports.call_run(&mut self.store, &old).and_then(|result| {
                    Ok(match result {
                        Ok(actions) => Ok(compat::cast(&actions).map_err(wasmtime::Error::msg)?),
                        Err(error) => Err(compat::cast(&error).map_err(wasmtime::Error::msg)?),
                    })
                })
            }
        };
        match returned {
            Ok(Ok(actions)) => {
                let actions: Vec<Action> = actions.into_iter().map(convert::action).collect();
                let size: usize = actions.iter().map(Action::size_hint).sum();
                if size > limits.output_bytes {
                    Err(StepError::OutputTooLarge {
                        plugin: plugin.name.clone(),
                        size,
                        limit: limits.output_bytes,
                    })
                } else {
                    Ok(actions)
                }
            }
            Ok(Err(wit::PluginError::InvalidConfig(message))) => Err(StepError::InvalidConfig {
                plugin: plugin.name.clone(),
                message,
            }),
            Ok(Err(wit::PluginError::Failed(message))) => Err(StepError::Failed {
                plugin: plugin.name.clone(),
                message,
            }),
            Err(error) => Err(self.classify(plugin, limits, &error)),
        }
    }

    fn classify(&self, plugin: &Plugin, limits: &Limits, error: &wasmtime::Error) -> StepError {
        classify(plugin, limits, self.store.data(), error)
    }

    fn fuel_used(&self, limits: &Limits) -> Option<u64> {
        if !self.fuel {
            return None;
        }
        let left = self.store.get_fuel().ok()?;
        Some(limits.fuel.unwrap_or(u64::MAX).saturating_sub(left))
    }
}

fn classify(
    plugin: &Plugin,
    limits: &Limits,
    state: &StepState,
    error: &wasmtime::Error,
) -> StepError {
    let name = plugin.name.clone();
    // Checked first: a refused memory growth usually ends in an `unreachable`
    // trap from the guest's allocator, which is not what happened.
    if state.limiter.hit {
        return StepError::OutOfMemory {
            plugin: name,
            limit: limits.memory,
        };
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => StepError::Timeout {
            plugin: name,
            limit: limits.timeout,
        },
        Some(Trap::OutOfFuel) => StepError::OutOfFuel {
            plugin: name,
            limit: limits.fuel.unwrap_or(u64::MAX),
        },
        _ => {
            let stderr = state.stderr.contents();
            let stderr = String::from_utf8_lossy(&stderr);
            // Rust prints "thread '..' panicked at file:line:col:" and the
            // message on the next line.
            let mut lines = stderr.lines().skip_while(|l| !l.contains("panicked at"));
            let panic = lines.next().map(|at| match lines.next() {
                Some(message) => format!("{} {}", at.trim(), message.trim()),
                None => at.trim().to_string(),
            });
            let mut message = match error.downcast_ref::<Trap>() {
                Some(trap) => trap.to_string(),
                None => format!("{error:#}"),
            };
            if let Some(panic) = panic {
                message = format!("{message} ({panic})");
            }
            StepError::Trap {
                plugin: name,
                message,
            }
        }
    }
}

fn instantiate_error(plugin: &Plugin, error: &wasmtime::Error) -> StepError {
    StepError::Instantiate {
        plugin: plugin.name.clone(),
        message: format!("{error:#}"),
    }
}

fn invalid(name: &str, error: &wasmtime::Error) -> LoadError {
    LoadError::Invalid {
        plugin: name.to_string(),
        message: format!("{error:#}"),
    }
}

fn engine(config: &HostConfig) -> wasmtime::Result<Engine> {
    let mut wasm = Config::new();
    wasm.wasm_component_model(true)
        // No async plugins: one call per step. Halves host<->guest call cost.
        .concurrency_support(false)
        .epoch_interruption(true)
        .consume_fuel(config.fuel)
        .max_wasm_stack(config.max_stack);
    let mut pool = PoolingAllocationConfig::default();
    let instances = config.instances.max(1);
    pool.total_component_instances(instances)
        .total_core_instances(instances * 8)
        .total_memories(instances * 4)
        .total_tables(instances * 8)
        .total_stacks(instances)
        .max_memory_size(config.max.memory)
        // Reset a freed slot by rewriting only its dirty pages (PAGEMAP_SCAN,
        // Linux 6.7+) and keep them resident, instead of madvise-ing them away
        // and taking a page fault per touched page on the next instantiation.
        .pagemap_scan(Enabled::Auto)
        .linear_memory_keep_resident(LINEAR_MEMORY_KEEP_RESIDENT)
        .table_keep_resident(TABLE_KEEP_RESIDENT);
    wasm.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&wasm)
}

/// Epoch ticks for a step's wall time: rounded up, plus one because the
/// first tick may come at once.
fn epoch_ticks(limits: &Limits) -> u64 {
    let ticks = limits
        .timeout
        .as_millis()
        .div_ceil(EPOCH_TICK.as_millis())
        .max(1)
        + 1;
    u64::try_from(ticks).unwrap_or(u64::MAX)
}

fn spawn_ticker(engine: Engine, stop: Arc<AtomicBool>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("andon-epoch".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(EPOCH_TICK);
                engine.increment_epoch();
            }
        })
        .map(drop)
}
