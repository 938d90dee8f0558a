//! The `data-check` plugin through `andon run` against the same seven
//! checks in native Rust (`andon_datagen::native`, the `csv` crate), on the
//! generated 5,000,000-row orders CSV, in one run, alternating.
//!
//! Both run as child processes measured by `wait4`: wall time, CPU time
//! (user + system), peak RSS. `andon run` reads the dataset from a real git
//! repository through the workflow `workflows/data-quality.yml`; the
//! baseline reads the same bytes from a file. Every round asserts that the
//! failed counts agree. Prints medians and the ratios.
//!
//! `ANDON_BENCH_ROWS` (default 5,000,000) and `ANDON_BENCH_ROUNDS` (default
//! 3) change the size; the CSV and the repository are cached under
//! `CARGO_TARGET_TMPDIR`, per size and day (timestamps are relative to the
//! day).

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use andon_datagen::measure::{self, Measured};
use andon_datagen::native::{self, Checks};
use andon_datagen::orders::{self, Spec};
use serde_json::Value;

#[path = "support/git.rs"]
mod support_git;
use support_git::git;

/// Set in the child that runs the baseline: `PATH NOW_MICROS`.
const NATIVE_ENV: &str = "ANDON_DATA_CHECK_NATIVE";

fn main() -> ExitCode {
    if let Ok(args) = std::env::var(NATIVE_ENV) {
        return native_child(&args);
    }
    bench();
    ExitCode::SUCCESS
}

/// The baseline as a process of its own: prints its report as JSON.
fn native_child(args: &str) -> ExitCode {
    let (path, now) = args.split_once(' ').expect("PATH NOW_MICROS");
    let now: i64 = now.parse().expect("micros");
    match native::check_file(Path::new(path), &Checks::issue(), now) {
        Ok(report) => {
            println!("{}", serde_json::to_string(&report).expect("JSON"));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("native baseline: {e}");
            ExitCode::FAILURE
        }
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn now_micros() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970");
    i64::try_from(since.as_micros()).expect("in range")
}

/// The orders CSV for `spec`, generated once per size and day.
fn dataset(cache: &Path, spec: &Spec) -> PathBuf {
    let path = cache.join(format!("orders-{}-{}.csv", spec.rows, spec.now));
    if !path.exists() {
        eprintln!("generating {} ...", path.display());
        let partial = path.with_extension("partial");
        let file = File::create(&partial).expect("create the CSV");
        orders::write_orders(BufWriter::with_capacity(1 << 20, file), spec).expect("write the CSV");
        fs::rename(&partial, &path).expect("rename the CSV");
    }
    path
}

/// A repository whose head commit adds the dataset and the suite on top of
/// a base commit, as a pull request would: built once per dataset.
fn repository(cache: &Path, csv: &Path) -> PathBuf {
    let stem = csv.file_stem().expect("a file").to_string_lossy();
    let repo = cache.join(format!("repo-{stem}"));
    let done = repo.join(".bench-ready");
    if done.exists() {
        return repo;
    }
    eprintln!("building {} ...", repo.display());
    let _ = fs::remove_dir_all(&repo);
    fs::create_dir_all(repo.join("data")).expect("mkdir");
    fs::create_dir_all(repo.join("checks")).expect("mkdir");
    git(&repo, &["init", "-q", "-b", "main"]);
    fs::write(repo.join("README.md"), "orders\n").expect("write");
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "base"]);
    fs::copy(csv, repo.join("data/orders.csv")).expect("copy the CSV");
    fs::write(
        repo.join("checks/orders.yml"),
        format!("dataset: data/orders.csv\n{}", orders::SUITE),
    )
    .expect("write the suite");
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "orders"]);
    // The work tree copy is not read by `andon run`; keep the disk small.
    fs::remove_file(repo.join("data/orders.csv")).expect("remove the copy");
    File::create(&done).expect("mark");
    repo
}

/// Failed counts by check, from `andon run --format json`.
fn plugin_counts(m: &Measured) -> Vec<(String, String, u64)> {
    let json: Value = serde_json::from_slice(&m.stdout).unwrap_or_else(|e| {
        panic!(
            "andon run printed no JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&m.stdout),
            String::from_utf8_lossy(&m.stderr)
        )
    });
    let results = json["steps"][0]["outputs"]["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results output: {json:#}"));
    results
        .iter()
        .map(|r| {
            (
                r["check"].as_str().unwrap_or_default().to_string(),
                r["status"].as_str().unwrap_or_default().to_string(),
                r["failed_count"].as_u64().unwrap_or(u64::MAX),
            )
        })
        .collect()
}

/// Failed counts by check, from the baseline's report.
fn native_counts(m: &Measured) -> Vec<(String, String, u64)> {
    assert_eq!(
        m.code,
        Some(0),
        "baseline failed: {}",
        String::from_utf8_lossy(&m.stderr)
    );
    let report: Value = serde_json::from_slice(&m.stdout).expect("baseline JSON");
    report["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            (
                r["check"].as_str().unwrap_or_default().to_string(),
                r["status"].as_str().unwrap_or_default().to_string(),
                r["failed_count"].as_u64().unwrap_or(u64::MAX),
            )
        })
        .collect()
}

/// The plugin step's own duration and linear-memory peak, from the JSON.
fn step_figures(m: &Measured) -> (f64, u64) {
    let json: Value = serde_json::from_slice(&m.stdout).unwrap_or(Value::Null);
    let step = &json["steps"][0];
    (
        step["duration_ms"].as_f64().unwrap_or(f64::NAN),
        step["memory_peak"].as_u64().unwrap_or(0),
    )
}

fn median<T: PartialOrd + Copy>(mut values: Vec<T>) -> T {
    values.sort_by(|a, b| a.partial_cmp(b).expect("comparable"));
    values[values.len() / 2]
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

fn bench() {
    let rows = env_number("ANDON_BENCH_ROWS", Spec::FULL_ROWS);
    let rounds = env_number("ANDON_BENCH_ROUNDS", 3).max(1) as usize;
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("data-check-bench");
    fs::create_dir_all(&cache).expect("cache dir");
    let today = now_micros() / 1_000_000 / 86_400 * 86_400;
    let spec = Spec::new(rows, today);
    let csv = dataset(&cache, &spec);
    let size = fs::metadata(&csv).expect("CSV").len();
    let repo = repository(&cache, &csv);
    let data = tempfile::tempdir().expect("data dir");
    let workflow = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workflows/data-quality.yml");

    let andon = || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_andon"));
        cmd.args(["run", "--repo"])
            .arg(&repo)
            .arg("--workflow")
            .arg(&workflow)
            .args(["--format", "json"])
            .env("ANDON_DATA_DIR", data.path())
            .env_remove("ANDON_LOG");
        cmd
    };
    let baseline = || {
        let mut cmd = Command::new(std::env::current_exe().expect("own path"));
        cmd.env(NATIVE_ENV, format!("{} {}", csv.display(), now_micros()));
        cmd
    };

    // Warm the compiled-plugin cache and the page cache, and check once.
    let first = measure::run(&mut andon()).expect("andon runs");
    let expected = native_counts(&measure::run(&mut baseline()).expect("baseline runs"));
    let got = plugin_counts(&first);
    for (check, status, count) in &expected {
        assert!(
            got.iter()
                .any(|g| g.0 == *check && g.1 == *status && g.2 == *count),
            "{check}: native {status} {count}, plugin {got:?}"
        );
    }
    println!(
        "data-check bench: {} rows, {:.0} MB CSV, 7 checks, {rounds} rounds",
        rows,
        mb(size)
    );
    println!("failed counts (identical): {expected:?}");

    let (mut plugin, mut natives) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let p = measure::run(&mut andon()).expect("andon runs");
        assert_eq!(plugin_counts(&p), got, "plugin counts changed");
        let n = measure::run(&mut baseline()).expect("baseline runs");
        assert_eq!(native_counts(&n), expected, "native counts changed");
        plugin.push(p);
        natives.push(n);
    }

    let figures = |runs: &[Measured]| {
        let wall = median(runs.iter().map(|m| secs(m.wall)).collect());
        let cpu = median(runs.iter().map(|m| secs(m.cpu())).collect());
        let rss = median(runs.iter().map(|m| m.max_rss).collect());
        (wall, cpu, rss)
    };
    let (pw, pc, pr) = figures(&plugin);
    let (nw, nc, nr) = figures(&natives);
    let rows_f = rows as f64;
    let (step_ms, linear) = {
        let all: Vec<(f64, u64)> = plugin.iter().map(step_figures).collect();
        (
            median(all.iter().map(|f| f.0).collect()),
            median(all.iter().map(|f| f.1).collect()),
        )
    };
    println!(
        "andon run (data-check): wall {pw:.3} s, cpu {pc:.3} s, peak RSS {:.0} MB; {:.2} M rows/s, {:.2} M rows per cpu-s",
        mb(pr),
        rows_f / pw / 1e6,
        rows_f / pc / 1e6
    );
    println!(
        "  the step alone: {:.3} s ({:.2} M rows/s), plugin linear memory peak {:.0} MB",
        step_ms / 1000.0,
        rows_f / (step_ms / 1000.0) / 1e6,
        mb(linear)
    );
    println!(
        "native (csv crate):     wall {nw:.3} s, cpu {nc:.3} s, peak RSS {:.0} MB; {:.2} M rows/s, {:.2} M rows per cpu-s",
        mb(nr),
        rows_f / nw / 1e6,
        rows_f / nc / 1e6
    );
    println!(
        "ratio andon / native, medians: wall {:.2}x, cpu {:.2}x, peak RSS {:.2}x",
        pw / nw,
        pc / nc,
        pr as f64 / nr as f64
    );
}
