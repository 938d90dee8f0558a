//! `testbed`: a plugin that misbehaves on purpose, one way per `with.mode`,
//! so the host's tests and benches can check the sandbox: time and memory
//! limits, traps, oversized output, path escapes, log floods, every action
//! kind; it also reads datasets through `dataset.open` and reports what it
//! saw, and sets outputs the host must refuse. It is embedded for tests only
//! (`andon_bundle::testing::TESTBED`), never shipped as a stock plugin.

mod mode;

use std::hint::black_box;

use andon_pdk::types::{
    Action, Annotation, AnnotationLevel, Artifact, CheckRun, Conclusion, Invocation, KvEntry,
    LogLevel, Manifest, Permission, PluginError, Side,
};
use andon_pdk::{Guest, dataset, host};
use serde::Deserialize;

use crate::mode::{Config, Mode};

/// `bad-config` parses `with:` into this, which no testbed step satisfies.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Strict {
    #[expect(dead_code, reason = "only its absence matters")]
    required_by_bad_config: u32,
}

struct Testbed;

/// `with: { mode: noop }`, byte for byte as the host sends it.
const NOOP_CONFIG: &str = r#"{"mode":"noop"}"#;

impl Guest for Testbed {
    fn describe() -> Manifest {
        Manifest {
            name: "testbed".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "misbehaves on purpose for andon's own tests; not for users".into(),
            events: Vec::new(),
            commands: Vec::new(),
            permissions: vec![
                Permission::Comment,
                Permission::Labels,
                Permission::Checks,
                Permission::Artifacts,
                Permission::Kv,
            ],
            config_schema: None,
        }
    }

    fn run(inv: Invocation) -> Result<Vec<Action>, PluginError> {
        // The trivial plugin of the benchmarks: answer `noop` (as the host
        // serializes it) before any JSON parsing.
        if inv.config == NOOP_CONFIG {
            return Ok(Vec::new());
        }
        let cfg: Config = andon_pdk::config(&inv)?;
        match cfg.mode {
            Mode::Noop => Ok(Vec::new()),
            Mode::Echo => {
                let body = mode::echo_json(&inv.event, host::changed_files().len());
                Ok(vec![Action::Comment(body)])
            }
            Mode::Loop => spin(),
            Mode::Memory => Ok(vec![Action::Comment(exhaust_memory())]),
            Mode::Trap => panic!("testbed trap: deliberate panic"),
            Mode::Unreachable => unreachable_instruction(),
            Mode::BigOutput => Ok(vec![Action::Comment("x".repeat(cfg.output_bytes()?))]),
            Mode::Escape => Ok(vec![Action::Comment(escape())]),
            Mode::Read => Ok(vec![Action::Comment(read(cfg.required_path()?))]),
            Mode::Error => Err(PluginError::Failed("testbed error: deliberate".into())),
            Mode::BadConfig => andon_pdk::config::<Strict>(&inv).map(|_| Vec::new()),
            Mode::LogFlood => {
                log_flood();
                Ok(Vec::new())
            }
            Mode::Kv => Ok(kv_counter()),
            Mode::AllActions => Ok(all_actions()),
            Mode::Dataset => {
                let report = read_dataset(&cfg)?;
                host::set_output("dataset", &report.to_string()).map_err(PluginError::Failed)?;
                Ok(Vec::new())
            }
            Mode::Outputs => Ok(vec![Action::Comment(outputs(cfg.output_bytes()?))]),
        }
    }
}

/// Runs until the host interrupts it; `black_box` keeps the optimizer from
/// proving the loop pointless.
fn spin() -> ! {
    let mut n = 0u64;
    loop {
        n = black_box(n.wrapping_add(1));
    }
}

/// Allocates and touches 1 MiB blocks with plain `Vec`s, as careless code
/// would, so the first refused allocation aborts the plugin. The host must
/// report that as out of memory, not as a crash.
fn exhaust_memory() -> String {
    const BLOCK: usize = 1 << 20;
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut block = vec![0u8; BLOCK];
        for page in block.iter_mut().step_by(4096) {
            *page = black_box(1);
        }
        blocks.push(block);
        if blocks.len() == usize::MAX {
            return format!("memory: allocated {} MiB", blocks.len());
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn unreachable_instruction() -> ! {
    core::arch::wasm32::unreachable()
}

#[cfg(not(target_arch = "wasm32"))]
fn unreachable_instruction() -> ! {
    panic!("testbed unreachable: only a wasm build has the instruction")
}

/// Tries to read outside the repository; the host must refuse both.
fn escape() -> String {
    ["../outside.txt", "/etc/passwd"]
        .iter()
        .map(|path| match host::read_file(Side::Head, path) {
            Ok(bytes) => format!("{path}: read {} bytes\n", bytes.len()),
            Err(e) => format!("{path}: {}\n", mode::describe_read_error(&e)),
        })
        .collect()
}

/// Reads `path` whole and streamed; a JSON report with the text.
fn read(path: &str) -> String {
    let whole = host::read_file(Side::Head, path);
    let streamed = host::open_blob(Side::Head, path).map(|blob| {
        let (mut total, mut chunks) = (0u64, 0u64);
        loop {
            let chunk = blob.read(64 * 1024);
            if chunk.is_empty() {
                break;
            }
            total += chunk.len() as u64;
            chunks += 1;
        }
        (blob.size(), total, chunks)
    });
    mode::read_json(path, &whole, &streamed)
}

/// Opens the dataset `with:` names and reads every batch; the summary, or
/// the error in WIT spelling.
fn read_dataset(cfg: &Config) -> Result<serde_json::Value, PluginError> {
    let (source, options) = cfg.dataset()?;
    let reader = match dataset::open(&source, &options) {
        Ok(reader) => reader,
        Err(e) => return Ok(serde_json::json!({ "error": mode::describe_dataset_error(&e) })),
    };
    let mut summary = mode::Summary::new(&cfg.columns);
    let error = loop {
        match reader.next() {
            Ok(Some(batch)) => summary.add(&batch),
            Ok(None) => break None,
            Err(e) => break Some(mode::describe_dataset_error(&e)),
        }
    };
    let mut report = summary.to_json(&reader.header(), reader.size(), dataset::now());
    if let Some(error) = error {
        report["error"] = error.into();
    }
    Ok(report)
}

/// Sets a good output, one that is not JSON and one of `bytes` bytes;
/// one line per answer.
fn outputs(bytes: usize) -> String {
    let big = format!("\"{}\"", "x".repeat(bytes));
    [
        ("good", r#"{"kept": true}"#),
        ("not-json", "{oops"),
        ("big", big.as_str()),
    ]
    .iter()
    .map(|(name, value)| match host::set_output(name, value) {
        Ok(()) => format!("{name}: ok\n"),
        Err(e) => format!("{name}: error: {e}\n"),
    })
    .collect()
}

/// 100 000 log lines of 100 bytes each.
fn log_flood() {
    for i in 0..100_000u32 {
        let mut line = format!("testbed log-flood line {i:06} ");
        line.extend(std::iter::repeat_n('.', 100 - line.len()));
        host::log(LogLevel::Info, &line);
    }
}

/// Counts runs in the kv namespace.
fn kv_counter() -> Vec<Action> {
    let n = host::kv_get("counter")
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(0)
        + 1;
    vec![
        Action::KvSet(KvEntry {
            key: "counter".into(),
            value: n.to_string().into_bytes(),
        }),
        Action::Comment(format!("counter={n}")),
    ]
}

fn all_actions() -> Vec<Action> {
    vec![
        Action::Comment("testbed: every action kind".into()),
        Action::AddLabel("testbed/added".into()),
        Action::RemoveLabel("testbed/removed".into()),
        Action::CheckRun(CheckRun {
            name: "testbed".into(),
            conclusion: Conclusion::Neutral,
            title: "testbed check".into(),
            summary: "one annotation".into(),
            text: None,
            annotations: vec![Annotation {
                path: "README.md".into(),
                start_line: 1,
                end_line: 1,
                level: AnnotationLevel::Notice,
                title: Some("testbed".into()),
                message: "a notice".into(),
            }],
        }),
        Action::Artifact(Artifact {
            name: "testbed.json".into(),
            media_type: "application/json".into(),
            data: br#"{"testbed":true}"#.to_vec(),
        }),
        Action::KvSet(KvEntry {
            key: "all-actions".into(),
            value: b"1".to_vec(),
        }),
        Action::Fail("testbed: deliberate fail action".into()),
    ]
}

andon_pdk::export!(Testbed);
