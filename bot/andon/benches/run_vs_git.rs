//! `andon run --workflow workflows/review.yml` on a 1,000-file change,
//! against `git diff --numstat` on the same change, both as whole processes
//! timed in the same run. Prints medians, p90 and the ratio.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

#[path = "support/git.rs"]
mod support_git;
use support_git::git;

const FILES: usize = 1_000;
const ROUNDS: usize = 21;

/// 1,000 files of 50 lines; the change edits three lines in each and adds two.
fn build_repo(dir: &Path) {
    git(dir, &["init", "-q", "-b", "main"]);
    for i in 0..FILES {
        let file = dir.join(format!("src/m{}/f{i}.rs", i % 20));
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        let body: String = (0..50)
            .map(|l| format!("fn item_{i}_{l}() -> u32 {{ {l} }}\n"))
            .collect();
        std::fs::write(file, body).expect("write");
    }
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "base"]);
    for i in 0..FILES {
        let file = dir.join(format!("src/m{}/f{i}.rs", i % 20));
        let mut lines: Vec<String> = std::fs::read_to_string(&file)
            .expect("read")
            .lines()
            .map(String::from)
            .collect();
        for l in [3, 20, 41] {
            lines[l] = format!("fn item_{i}_{l}() -> u32 {{ {} }}", l * 2);
        }
        lines.insert(10, format!("// note {i}"));
        lines.insert(30, format!("const LIMIT_{i}: usize = {i};"));
        std::fs::write(&file, lines.join("\n") + "\n").expect("write");
    }
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "change"]);
    git(dir, &["gc", "-q"]);
}

fn time(mut command: impl FnMut() -> Command) -> Vec<Duration> {
    (0..ROUNDS)
        .map(|_| {
            let mut cmd = command();
            let started = Instant::now();
            let out = cmd.output().expect("runs");
            let took = started.elapsed();
            assert!(
                out.status.code().is_some_and(|c| c <= 1),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            took
        })
        .collect()
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let index = ((samples.len() - 1) as f64 * p).round() as usize;
    samples[index]
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument is a filter we ignore.
    let repo = tempfile::tempdir().expect("tempdir");
    let data = tempfile::tempdir().expect("tempdir");
    build_repo(repo.path());
    let workflow = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workflows/review.yml");
    let andon = || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_andon"));
        cmd.args(["run", "--repo"])
            .arg(repo.path())
            .arg("--workflow")
            .arg(&workflow)
            .args(["--format", "json"])
            .env("ANDON_DATA_DIR", data.path());
        cmd
    };
    // Warm the compiled-plugin cache and the page cache, as a server would be.
    let first = andon().output().expect("andon runs");
    let report: serde_json::Value = serde_json::from_slice(&first.stdout).expect("JSON report");
    assert_eq!(report["files_changed"], FILES, "{report:#}");

    let git_numstat = || {
        let mut cmd = Command::new("git");
        cmd.args(["diff", "--numstat", "HEAD~1", "HEAD"])
            .current_dir(repo.path());
        cmd
    };
    let mut andon_times = time(andon);
    let mut git_times = time(git_numstat);
    let (a50, a90) = (
        percentile(&mut andon_times, 0.5),
        percentile(&mut andon_times, 0.9),
    );
    let (g50, g90) = (
        percentile(&mut git_times, 0.5),
        percentile(&mut git_times, 0.9),
    );
    println!(
        "andon run review.yml, {FILES}-file change: median {:.1} ms, p90 {:.1} ms",
        ms(a50),
        ms(a90)
    );
    println!(
        "git diff --numstat, same change:        median {:.1} ms, p90 {:.1} ms",
        ms(g50),
        ms(g90)
    );
    println!(
        "ratio (andon / git), medians: {:.2}x",
        a50.as_secs_f64() / g50.as_secs_f64()
    );
    let steps: Vec<String> = report["steps"]
        .as_array()
        .map(|s| {
            s.iter()
                .map(|s| {
                    format!(
                        "{} {:.2} ms",
                        s["id"].as_str().unwrap_or("?"),
                        s["duration_ms"].as_f64().unwrap_or(0.0)
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    println!("steps of the first run: {}", steps.join(", "));
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
