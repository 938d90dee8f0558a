//! `andon model list` and `andon model show NAME` against `gto show` on
//! one repository with 10,000 GTO tags over 100 models, in one run.
//!
//! The repository is built with one `git fast-import` (100 models x 60
//! versions, each on a commit of its own, plus 40 stage assignments per
//! model, tagger times one second apart) and cached under
//! `CARGO_TARGET_TMPDIR`. It is measured twice: with 10,000 loose tag refs
//! as fast-import leaves them, and after `git pack-refs --all` (what a
//! clone has). Every command is a whole process timed by wall clock:
//! andon's first run (which builds the index) once, then `ANDON_BENCH_RUNS`
//! (default 21) warm runs; gto, which takes over a minute a run here, runs
//! `ANDON_BENCH_GTO_RUNS` times (default 1), on the packed repository.
//! Prints medians, p90 and gto/andon; fails when andon and gto disagree
//! on any model's latest version or stage holders.
//!
//! gto is `$ANDON_GTO`, or `gto==1.10.1` installed into
//! `<target>/gto-venv` as the e2e tests install it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

#[path = "support/git.rs"]
mod support_git;
use support_git::git;

const MODELS: usize = 100;
const VERSIONS: usize = 60;
const ASSIGNMENTS: usize = 40;
const STAGES: &[&str] = &["dev", "staging", "prod"];
const GTO_VERSION: &str = "1.10.1";
/// The model `show` is measured on.
const SHOWN: &str = "m042";
/// 2024-01-01T00:00:00Z: the first tag's time.
const EPOCH: u64 = 1_704_067_200;

fn main() -> ExitCode {
    let runs = env_number("ANDON_BENCH_RUNS", 21);
    let gto_runs = env_number("ANDON_BENCH_GTO_RUNS", 1).max(1);
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("registry-bench");
    let loose = cache.join("loose");
    if !loose.join(".complete").exists() {
        let started = Instant::now();
        build_repo(&loose);
        fs::write(loose.join(".complete"), "").expect("write the marker");
        eprintln!(
            "built {} in {:.1} s",
            loose.display(),
            secs(started.elapsed())
        );
    }
    let packed = cache.join("packed");
    if !packed.join(".complete").exists() {
        let _ = fs::remove_dir_all(&packed);
        git(&cache, &["clone", "-q", "loose", "packed"]);
        git(&packed, &["pack-refs", "--all"]);
        fs::write(packed.join(".complete"), "").expect("write the marker");
    }
    let gto = gto();
    let loose_runs = andon_runs(&loose, runs);
    let packed_runs = andon_runs(&packed, runs);
    // A gto run reads every tag with Python: over a minute on 10,000 tags,
    // so it runs on the packed repository only (what a clone has).
    let (gto_list_times, gto_list) = repeat(gto_runs, &gto, &["show", "--json"], &packed, &cache);
    let (gto_show_times, gto_show) =
        repeat(gto_runs, &gto, &["show", SHOWN, "--json"], &packed, &cache);
    let (gto_list_p50, gto_list_p90) = stats(gto_list_times);
    let (gto_show_p50, gto_show_p90) = stats(gto_show_times);

    let mut report = String::new();
    for (label, repo) in [("loose", &loose), ("packed", &packed)] {
        let tags = git_out(repo, &["tag", "-l"]).lines().count();
        let loose_refs = count_files(&git_dir(repo).join("refs/tags"));
        let _ = writeln!(
            report,
            "{label}: {tags} tags ({loose_refs} loose tag refs), {MODELS} models"
        );
    }
    let _ = writeln!(
        report,
        "gto show --json: p50 {gto_list_p50:.0} ms, p90 {gto_list_p90:.0} ms; \
         gto show {SHOWN} --json: p50 {gto_show_p50:.0} ms, p90 {gto_show_p90:.0} ms \
         ({gto_runs} runs each, packed)"
    );
    let mut agree = true;
    for (label, andon) in [("loose", &loose_runs), ("packed", &packed_runs)] {
        if summary(&andon.list_json) != summary(&gto_list) {
            agree = false;
            let _ = writeln!(report, "DISAGREE ({label}): andon model list vs gto show");
        }
        if andon.list_json != gto_list {
            let _ = writeln!(
                report,
                "note ({label}): the list JSON differs beyond latest versions and stage holders"
            );
        }
        if versions(&andon.show_json) != versions(&gto_show) {
            agree = false;
            let _ = writeln!(
                report,
                "DISAGREE ({label}): andon model show {SHOWN} vs gto show {SHOWN}"
            );
        }
    }
    let gto = (gto_list_p50, gto_show_p50);
    table(&mut report, "loose", loose_runs, gto, runs);
    table(&mut report, "packed", packed_runs, gto, runs);
    println!("{report}");
    if agree {
        ExitCode::SUCCESS
    } else {
        eprintln!("andon and gto disagree (see above)");
        ExitCode::FAILURE
    }
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn git_dir(repo: &Path) -> PathBuf {
    let dot = repo.join(".git");
    if dot.is_dir() {
        dot
    } else {
        repo.to_path_buf()
    }
}

fn count_files(dir: &Path) -> usize {
    fs::read_dir(dir).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .map(|e| {
                if e.path().is_dir() {
                    count_files(&e.path())
                } else {
                    1
                }
            })
            .sum()
    })
}

fn git_out(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}");
    String::from_utf8(out.stdout).expect("utf-8")
}

/// One `data` block of a fast-import stream.
fn data(out: &mut String, text: &str) {
    let _ = write!(out, "data {}\n{text}\n", text.len());
}

/// The fast-import stream: `MODELS * VERSIONS` commits, a registration tag
/// on each, then `ASSIGNMENTS` stage tags per model on its newer versions
/// (stages in turn, counters 1..), as `gto` words them.
fn fast_import_stream() -> String {
    let mut out = String::new();
    let mut time = EPOCH;
    let mut commits = BTreeMap::new();
    let mut mark = 0;
    for v in 0..VERSIONS {
        for m in 0..MODELS {
            mark += 1;
            time += 1;
            commits.insert((m, v), mark);
            let _ = writeln!(out, "commit refs/heads/main\nmark :{mark}");
            let _ = writeln!(out, "committer Bench <bench@example.com> {time} +0000");
            data(&mut out, &format!("m{m:03} v1.{v}.0"));
            let _ = writeln!(out, "M 644 inline models/m{m:03}.txt");
            data(&mut out, &format!("weights {v}\n"));
        }
    }
    let tag = |out: &mut String, name: &str, mark: usize, time: u64, message: &str| {
        let _ = writeln!(out, "tag {name}\nfrom :{mark}");
        let _ = writeln!(out, "tagger Bench <bench@example.com> {time} +0000");
        data(out, &format!("{message}\n"));
    };
    for v in 0..VERSIONS {
        for m in 0..MODELS {
            time += 1;
            let name = format!("m{m:03}");
            let version = format!("v1.{v}.0");
            tag(
                &mut out,
                &format!("{name}@{version}"),
                commits[&(m, v)],
                time,
                &format!("Registering artifact {name} version {version}"),
            );
        }
    }
    for a in 0..ASSIGNMENTS {
        for m in 0..MODELS {
            time += 1;
            let v = VERSIONS - ASSIGNMENTS + a;
            let stage = STAGES[a % STAGES.len()];
            let name = format!("m{m:03}");
            let version = format!("v1.{v}.0");
            tag(
                &mut out,
                &format!("{name}#{stage}#{}", a + 1),
                commits[&(m, v)],
                time,
                &format!("Assigning stage {stage} to artifact {name} version {version}"),
            );
        }
    }
    out
}

fn build_repo(dir: &Path) {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir).expect("mkdir");
    git(dir, &["init", "-q", "-b", "main"]);
    let mut child = Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdin(Stdio::piped())
        .spawn()
        .expect("git fast-import runs");
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(fast_import_stream().as_bytes())
        .expect("feed fast-import");
    assert!(child.wait().expect("fast-import").success(), "fast-import");
    git(dir, &["checkout", "-q", "main"]);
}

/// `$ANDON_GTO`, or the pinned gto in `<target>/gto-venv` (installed under
/// the same lock file and marker as the e2e tests').
fn gto() -> PathBuf {
    if let Some(path) = std::env::var_os("ANDON_GTO") {
        return PathBuf::from(path);
    }
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target dir holds tmp");
    let venv = target.join("gto-venv");
    let done = venv.join(format!(".andon-gto-{GTO_VERSION}"));
    let lock = fs::File::create(target.join("gto-venv.lock")).expect("create the lock file");
    lock.lock().expect("lock gto-venv.lock");
    if !done.exists() {
        let _ = fs::remove_dir_all(&venv);
        let pinned = format!("gto=={GTO_VERSION}");
        let pip = venv.join("bin/pip");
        for (program, args) in [
            (
                Path::new("python3"),
                vec!["-m", "venv", venv.to_str().expect("utf-8")],
            ),
            (pip.as_path(), vec!["install", "-q", pinned.as_str()]),
        ] {
            let out = Command::new(program)
                .args(&args)
                .output()
                .expect("python3 runs");
            assert!(
                out.status.success(),
                "cannot install gto: {} {args:?}:\n{}",
                program.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        fs::write(&done, "").expect("write the install marker");
    }
    venv.join("bin/gto")
}

/// Run `program ARGS` in `repo`; its wall time and stdout as JSON.
fn timed(program: &Path, args: &[&str], repo: &Path, data: &Path) -> (Duration, Value) {
    let started = Instant::now();
    let out = Command::new(program)
        .args(args)
        .current_dir(repo)
        .env("ANDON_DATA_DIR", data)
        .env_remove("ANDON_LOG")
        .output()
        .expect("runs");
    let elapsed = started.elapsed();
    assert!(
        out.status.success(),
        "{} {args:?}: {}",
        program.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{} {args:?} is not JSON ({e}): {}",
            program.display(),
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (elapsed, json)
}

/// Median and p90 (nearest rank) in ms.
fn stats(mut times: Vec<Duration>) -> (f64, f64) {
    times.sort();
    let p90 = times.len().saturating_mul(9).div_ceil(10).max(1) - 1;
    (ms(times[times.len() / 2]), ms(times[p90]))
}

fn repeat(
    n: usize,
    program: &Path,
    args: &[&str],
    repo: &Path,
    data: &Path,
) -> (Vec<Duration>, Value) {
    let mut last = Value::Null;
    let times = (0..n)
        .map(|_| {
            let (t, json) = timed(program, args, repo, data);
            last = json;
            t
        })
        .collect();
    (times, last)
}

/// Latest version and stage holders per model (`gto show --json` shape),
/// stages without a holder dropped.
fn summary(list: &Value) -> BTreeMap<String, (Value, BTreeMap<String, Value>)> {
    list.as_object()
        .expect("an object of models")
        .iter()
        .map(|(name, state)| {
            let stages = state["stage"]
                .as_object()
                .expect("stage")
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            (name.clone(), (state["version"].clone(), stages))
        })
        .collect()
}

/// A model's versions as `version -> sorted stages`, from andon's
/// (`stages: [name]`) or gto's (`stages: [{stage}]`) `show NAME`.
fn versions(show: &Value) -> BTreeMap<String, Vec<String>> {
    show.as_array()
        .expect("a list of versions")
        .iter()
        .map(|v| {
            let mut stages: Vec<String> = v["stages"]
                .as_array()
                .expect("stages")
                .iter()
                .map(|s| {
                    s.as_str()
                        .or_else(|| s["stage"].as_str())
                        .expect("a stage")
                        .to_string()
                })
                .collect();
            stages.sort();
            (v["version"].as_str().expect("version").to_string(), stages)
        })
        .collect()
}

/// andon's timings on one repository and its last outputs.
struct AndonRuns {
    cold_list: Duration,
    cold_show: Duration,
    list: Vec<Duration>,
    show: Vec<Duration>,
    list_json: Value,
    show_json: Value,
}

const LIST: [&str; 4] = ["model", "list", "--format", "json"];
const SHOW: [&str; 5] = ["model", "show", SHOWN, "--format", "json"];

/// andon's first runs (each on an empty data dir: they build the index),
/// then `runs` warm runs of each command.
fn andon_runs(repo: &Path, runs: usize) -> AndonRuns {
    let andon = Path::new(env!("CARGO_BIN_EXE_andon"));
    let data = tempfile::tempdir().expect("tempdir");
    let (cold_list, _) = timed(andon, &LIST, repo, data.path());
    let (list, list_json) = repeat(runs, andon, &LIST, repo, data.path());
    let (show, show_json) = repeat(runs, andon, &SHOW, repo, data.path());
    let fresh = tempfile::tempdir().expect("tempdir");
    let (cold_show, _) = timed(andon, &SHOW, repo, fresh.path());
    AndonRuns {
        cold_list,
        cold_show,
        list,
        show,
        list_json,
        show_json,
    }
}

/// The table for one repository, ratios against gto's medians.
fn table(out: &mut String, label: &str, andon: AndonRuns, gto: (f64, f64), runs: usize) {
    let _ = writeln!(
        out,
        "  {label}: andon first run (builds the index): list {:.1} ms, show {SHOWN} {:.1} ms",
        ms(andon.cold_list),
        ms(andon.cold_show)
    );
    for (name, times, gto) in [
        ("andon model list", andon.list, gto.0),
        ("andon model show m042", andon.show, gto.1),
    ] {
        let (p50, p90) = stats(times);
        let _ = writeln!(
            out,
            "  {label}: {name:<22} p50 {p50:>6.1} ms  p90 {p90:>6.1} ms  ({runs} warm runs)  gto/andon {:>6.0}x",
            gto / p50
        );
    }
}
