//! Plugin host costs, in one run: compiling a component, loading it from the
//! on-disk cache, instantiate-plus-call of a trivial plugin, a whole `size`
//! step on a 200-file change, its call alone on a ready instance, and the
//! same size logic called natively.

use std::sync::Arc;
use std::time::Duration;

use andon_core::change::{ChangedFile, FileStatus};
use andon_core::event::{Event, EventKind};
use andon_core::limits::Limits;
use andon_host::{EmptyInputs, HostConfig, Invocation, PluginHost, StepInputs};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;

struct Change(Vec<ChangedFile>);

impl StepInputs for Change {
    fn changed_files(&self) -> &[ChangedFile] {
        &self.0
    }
}

/// 200 modified files with realistic paths and line counts.
fn change_of_200() -> Vec<ChangedFile> {
    (0..200)
        .map(|i| ChangedFile {
            path: format!("src/module_{}/component_{i}.rs", i % 17),
            old_path: None,
            status: FileStatus::Modified,
            added: (i * 7 % 40) as u32,
            removed: (i * 3 % 25) as u32,
            binary: false,
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let size_wasm = andon_bundle::stock("size").expect("size is bundled").wasm;
    let cache = tempfile::tempdir().expect("tempdir");
    let host = PluginHost::new(HostConfig {
        cache_dir: Some(cache.path().to_path_buf()),
        ..HostConfig::default()
    })
    .expect("host");

    let mut group = c.benchmark_group("load");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(8));
    group.bench_function("compile size", |b| {
        b.iter(|| host.compile_uncached("size", size_wasm).expect("compiles"));
    });
    host.load("size", size_wasm, None)
        .expect("loads and fills the disk cache");
    group.bench_function("cached load size", |b| {
        b.iter(|| {
            host.load_from_disk_cache("size", size_wasm)
                .expect("loads")
                .expect("cache hit")
        });
    });
    group.finish();

    let mut event = Event::new(EventKind::PullRequest, "octo/repo", "a".repeat(40));
    event.labels = vec!["size/S".into()];
    let config = json!({});
    let invocation = Invocation {
        event: &event,
        workflow: "review",
        step_id: "size",
        config: &config,
    };
    let limits = Limits::DEFAULT;

    let mut group = c.benchmark_group("step");
    let noop = host
        .load("testbed", andon_bundle::testing::TESTBED, None)
        .expect("testbed");
    let noop_config = json!({ "mode": "noop" });
    let noop_invocation = Invocation {
        config: &noop_config,
        ..invocation
    };
    group.bench_function("trivial instantiate+call", |b| {
        b.iter(|| {
            host.run_step(&noop, noop_invocation, Arc::new(EmptyInputs), &limits)
                .result
                .expect("runs")
        });
    });

    let size = host.load("size", size_wasm, None).expect("size");
    let inputs: Arc<dyn StepInputs> = Arc::new(Change(change_of_200()));
    group.bench_function("size step, 200 files", |b| {
        b.iter(|| {
            host.run_step(&size, invocation, inputs.clone(), &limits)
                .result
                .expect("runs")
        });
    });
    let mut instance = host
        .instantiate(&size, inputs.clone(), &limits)
        .expect("instantiates");
    group.bench_function("size call on a ready instance, 200 files", |b| {
        b.iter(|| instance.run(invocation).expect("runs"));
    });

    let files = change_of_200();
    group.bench_function("size logic natively, 200 files", |b| {
        b.iter(|| {
            // The same work the plugin does: parse `with:`, take the change,
            // plan the labels.
            let raw: andon_size::plan::RawConfig =
                serde_json::from_str(&config.to_string()).expect("config");
            let cfg = andon_size::plan::Config::try_from(raw).expect("valid");
            let stats: Vec<andon_size::plan::FileStat> = files.iter().map(native_stat).collect();
            andon_size::plan::plan(&stats, &event.labels, &cfg)
        });
    });
    group.finish();
}

fn native_stat(f: &ChangedFile) -> andon_size::plan::FileStat {
    andon_size::plan::FileStat {
        path: f.path.clone(),
        added: f.added,
        removed: f.removed,
        binary: f.binary,
    }
}

criterion_group!(plugin, benches);
criterion_main!(plugin);
