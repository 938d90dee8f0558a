//! Benchmarks `Repo::diff` on a 1,000-file change built with the `git` CLI.

use std::hint::black_box;
use std::path::Path;
use std::process::Command;

use andon_git::Repo;
use criterion::{Criterion, criterion_group, criterion_main};

const FILES: usize = 1000;
const LINES: usize = 50;

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .current_dir(dir)
        .args(["-c", "commit.gpgsign=false"])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Andon Bench")
        .env("GIT_AUTHOR_EMAIL", "bench@andon.invalid")
        .env("GIT_COMMITTER_NAME", "Andon Bench")
        .env("GIT_COMMITTER_EMAIL", "bench@andon.invalid")
        .output()
        .expect("run git");
    assert!(output.status.success(), "git {args:?} failed");
    String::from_utf8_lossy(&output.stdout)
        .trim_end()
        .to_owned()
}

/// Writes every file with `line(file, n)` as its n-th line and commits.
fn commit_files(dir: &Path, message: &str, line: impl Fn(usize, usize) -> String) -> String {
    for file in 0..FILES {
        let path = dir.join(format!("src/m{:02}/file{file:04}.rs", file % 20));
        std::fs::create_dir_all(path.parent().expect("a file has a parent")).expect("mkdir");
        let body: String = (1..=LINES).map(|n| line(file, n) + "\n").collect();
        std::fs::write(path, body).expect("write a file");
    }
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", message]);
    git(dir, &["rev-parse", "HEAD"])
}

fn original(file: usize, n: usize) -> String {
    format!("    let value_{n} = compute({file}, {n}); // line {n}")
}

/// Three edited lines per file: two replaced, one inserted mid-file.
fn edited(file: usize, n: usize) -> String {
    match n {
        10 | 30 => format!("    let value_{n} = changed({file}); // edited"),
        40 => format!("    log(\"inserted in {file}\");\n{}", original(file, n)),
        _ => original(file, n),
    }
}

fn bench_diff(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    git(dir.path(), &["init", "-q", "-b", "main"]);
    let base = commit_files(dir.path(), "base", original);
    let head = commit_files(dir.path(), "head", edited);
    let repo = Repo::open(dir.path()).expect("open the bench repository");
    let change = repo.diff(Some(&base), &head).expect("diff");
    assert_eq!(change.files.len(), FILES);

    // Fresh commits leave loose objects, the slow case; a fetched clone
    // holds packs.
    c.bench_function("diff 1000 modified files, loose objects", |b| {
        b.iter(|| {
            repo.diff(black_box(Some(&base)), black_box(&head))
                .expect("diff")
        });
    });
    git(dir.path(), &["repack", "-adq"]);
    git(dir.path(), &["prune-packed"]);
    let repo = Repo::open(dir.path()).expect("reopen the packed repository");
    c.bench_function("diff 1000 modified files, packed", |b| {
        b.iter(|| {
            repo.diff(black_box(Some(&base)), black_box(&head))
                .expect("diff")
        });
    });
}

criterion_group!(benches, bench_diff);
criterion_main!(benches);
