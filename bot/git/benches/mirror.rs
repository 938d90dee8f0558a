//! Benchmarks the warm path of `Mirrors::sync`: every wanted commit is
//! already in the mirror, so the call is an open plus object lookups, on
//! the critical path of event-to-first-comment.

use std::hint::black_box;
use std::path::Path;
use std::process::Command;

use andon_git::Mirrors;
use criterion::{Criterion, criterion_group, criterion_main};

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

fn bench_warm_sync(c: &mut Criterion) {
    let origin = tempfile::tempdir().expect("temp dir");
    git(origin.path(), &["init", "-q", "-b", "main"]);
    let mut base = String::new();
    for i in 0..200 {
        std::fs::write(
            origin.path().join(format!("f{}.txt", i % 20)),
            format!("{i}\n"),
        )
        .expect("write a file");
        git(origin.path(), &["add", "-A"]);
        git(origin.path(), &["commit", "-q", "-m", "change"]);
        if i == 100 {
            base = git(origin.path(), &["rev-parse", "HEAD"]);
        }
    }
    let head = git(origin.path(), &["rev-parse", "HEAD"]);
    let url = origin.path().to_str().expect("UTF-8 temp path");
    let root = tempfile::tempdir().expect("temp dir");
    let mirrors = Mirrors::new(root.path());
    mirrors
        .sync("octo/widgets", url, &[&base, &head], None)
        .expect("the first sync clones");

    c.bench_function("warm sync, 2 wanted commits", |b| {
        b.iter(|| {
            mirrors
                .sync(
                    black_box("octo/widgets"),
                    url,
                    black_box(&[&base, &head]),
                    None,
                )
                .expect("warm sync")
        });
    });
    c.bench_function("warm sync then read a file", |b| {
        b.iter(|| {
            let repo = mirrors
                .sync(black_box("octo/widgets"), url, &[&head], None)
                .expect("warm sync");
            repo.read_file(&head, "f3.txt").expect("read")
        });
    });
}

criterion_group!(benches, bench_warm_sync);
criterion_main!(benches);
