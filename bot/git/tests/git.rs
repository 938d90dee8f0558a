//! Integration tests for `andon-git` against real repositories built with
//! the `git` CLI in temporary directories.
#![allow(clippy::unwrap_used, reason = "tests")]

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::process::Command;

use andon_core::change::{AddedLine, Change, ChangedFile, FileStatus};
use andon_git::{GitError, Repo, validate_path};

/// A scratch repository driven through the `git` CLI, isolated from the
/// user's and the system's git configuration.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let fixture = Fixture {
            dir: tempfile::Builder::new()
                .prefix("andon-git-test")
                .tempdir()
                .expect("create a temp dir"),
        };
        fixture.git(&["init", "-q", "-b", "main"]);
        fixture
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn git(&self, args: &[&str]) -> String {
        git(self.path(), args)
    }

    fn write(&self, path: &str, contents: impl AsRef<[u8]>) {
        let full = self.path().join(path);
        std::fs::create_dir_all(full.parent().expect("a file has a parent"))
            .expect("create parent dirs");
        std::fs::write(full, contents).expect("write a file");
    }

    fn remove(&self, path: &str) {
        std::fs::remove_file(self.path().join(path)).expect("remove a file");
    }

    /// Stages everything and commits; returns the new commit id.
    fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// Moves every object into one pack, as a fetch or `git gc` would.
    fn pack(&self) {
        self.git(&["repack", "-adq"]);
        self.git(&["prune-packed"]);
    }

    fn repo(&self) -> Repo {
        Repo::open(self.path()).expect("open the fixture repository")
    }
}

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .current_dir(dir)
        .args(["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Andon Test")
        .env("GIT_AUTHOR_EMAIL", "test@andon.invalid")
        .env("GIT_COMMITTER_NAME", "Andon Test")
        .env("GIT_COMMITTER_EMAIL", "test@andon.invalid")
        .output()
        .expect("run git");
    assert!(
        output.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("git prints UTF-8 here")
        .trim_end()
        .to_owned()
}

/// `n` numbered lines, each ending in a newline.
fn numbered(n: usize) -> String {
    (1..=n).map(|i| format!("line {i}\n")).collect()
}

fn file<'a>(change: &'a Change, path: &str) -> &'a ChangedFile {
    change
        .files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("{path} is not in the change: {:?}", change.files))
}

fn added(line: u32, text: &str) -> AddedLine {
    AddedLine {
        line,
        text: text.to_owned(),
    }
}

/// Tiny deterministic generator so the random-ish edits are reproducible.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        usize::try_from(self.0 % n as u64).expect("fits in usize")
    }
}

// ---- open and name ----

#[test]
fn repo_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Repo>();
}

#[test]
fn open_discovers_from_a_subdirectory_and_names_the_work_tree() {
    let fx = Fixture::new();
    fx.write("src/lib.rs", "x\n");
    fx.commit("one");
    let repo = Repo::open(&fx.path().join("src")).expect("discover from a subdir");
    let folder = fx
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert_eq!(repo.name(), folder);
}

#[test]
fn open_a_bare_repository_names_it_without_dot_git() {
    let fx = Fixture::new();
    fx.write("a.txt", "a\n");
    let head = fx.commit("one");
    let parent = tempfile::tempdir().expect("temp dir");
    let bare = parent.path().join("widgets.git");
    git(
        parent.path(),
        &[
            "clone",
            "-q",
            "--bare",
            fx.path().to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    let repo = Repo::open(&bare).expect("open a bare repo");
    assert_eq!(repo.name(), "widgets");
    assert_eq!(repo.resolve("HEAD").expect("resolve"), head);
    assert_eq!(
        repo.read_file("HEAD", "a.txt").expect("read"),
        Some(b"a\n".to_vec())
    );
}

#[test]
fn open_refuses_a_directory_without_a_repository() {
    let dir = tempfile::tempdir().expect("temp dir");
    for path in [dir.path().to_owned(), dir.path().join("missing")] {
        let err = Repo::open(&path).expect_err("no repo");
        assert!(matches!(err, GitError::Open { .. }), "{err:?}");
        assert!(!err.is_not_found());
    }
    let err = Repo::open(dir.path()).expect_err("no repo");
    assert!(
        err.to_string()
            .starts_with("cannot open git repository at ")
    );
}

// ---- resolve and first_parent ----

#[test]
fn resolve_heads_parents_tags_and_short_ids() {
    let fx = Fixture::new();
    fx.write("a.txt", "1\n");
    let first = fx.commit("one");
    fx.git(&["tag", "-a", "v1", "-m", "release one"]);
    fx.git(&["tag", "light"]);
    fx.write("a.txt", "2\n");
    let second = fx.commit("two");
    let repo = fx.repo();

    for (rev, want) in [
        ("HEAD", &second),
        ("main", &second),
        ("HEAD~1", &first),
        ("HEAD^", &first),
        ("v1", &first),
        ("light", &first),
        (&first[..8], &first),
        (first.as_str(), &first),
    ] {
        assert_eq!(&repo.resolve(rev).expect(rev), want, "rev {rev}");
    }
}

#[test]
fn resolve_reports_unknown_revisions_as_not_found() {
    let fx = Fixture::new();
    fx.write("a.txt", "1\n");
    fx.commit("one");
    let repo = fx.repo();
    for rev in [
        "nope",
        "HEAD~5",
        "0123456789abcdef0123456789abcdef01234567",
        "",
    ] {
        let err = repo.resolve(rev).expect_err(rev);
        assert!(
            matches!(err, GitError::RevNotFound { .. }),
            "{rev}: {err:?}"
        );
        assert!(err.is_not_found());
        assert_eq!(err.to_string(), format!("revision not found: {rev}"));
    }
}

#[test]
fn resolve_refuses_objects_that_are_not_commits() {
    let fx = Fixture::new();
    fx.write("a.txt", "1\n");
    fx.commit("one");
    let repo = fx.repo();
    for rev in ["HEAD^{tree}", "HEAD:a.txt"] {
        let err = repo.resolve(rev).expect_err(rev);
        assert!(matches!(err, GitError::NotACommit { .. }), "{rev}: {err:?}");
        assert!(!err.is_not_found());
        assert_eq!(err.to_string(), format!("revision {rev} is not a commit"));
    }
}

#[test]
fn first_parent_of_root_and_merge_commits() {
    let fx = Fixture::new();
    fx.write("a.txt", "1\n");
    let root = fx.commit("root");
    fx.git(&["checkout", "-q", "-b", "side"]);
    fx.write("b.txt", "b\n");
    let side = fx.commit("side");
    fx.git(&["checkout", "-q", "main"]);
    fx.write("c.txt", "c\n");
    let main = fx.commit("main");
    fx.git(&["merge", "-q", "--no-ff", "-m", "merge", "side"]);
    let repo = fx.repo();

    assert_eq!(repo.first_parent(&root).expect("root"), None);
    assert_eq!(repo.first_parent(&side).expect("side"), Some(root));
    assert_eq!(repo.first_parent("HEAD").expect("merge"), Some(main));
    assert!(
        repo.first_parent("nope")
            .expect_err("unknown")
            .is_not_found()
    );
}

// ---- files ----

#[test]
fn read_file_hits_misses_and_nested_paths() {
    let fx = Fixture::new();
    fx.write("README.md", "hello\n");
    fx.write(".andon/workflows/ci.yml", "on: push\n");
    fx.commit("one");
    fx.write("README.md", "changed\n");
    fx.commit("two");
    let repo = fx.repo();

    let read = |rev: &str, path: &str| repo.read_file(rev, path).expect(path);
    assert_eq!(read("HEAD", "README.md"), Some(b"changed\n".to_vec()));
    assert_eq!(read("HEAD~1", "README.md"), Some(b"hello\n".to_vec()));
    assert_eq!(
        read("HEAD", ".andon/workflows/ci.yml"),
        Some(b"on: push\n".to_vec())
    );
    assert_eq!(read("HEAD", "missing.txt"), None);
    assert_eq!(read("HEAD", ".andon/missing/ci.yml"), None);
    assert_eq!(read("HEAD", ".andon/workflows"), None, "a directory");
    assert_eq!(read("HEAD", "README.md/inner"), None, "below a file");
    assert!(
        repo.read_file("nope", "README.md")
            .expect_err("rev")
            .is_not_found()
    );
    assert!(matches!(
        repo.read_file("HEAD", "../README.md").expect_err("path"),
        GitError::InvalidPath { .. }
    ));
}

#[test]
fn file_size_reads_the_header() {
    let fx = Fixture::new();
    fx.write("data/blob.bin", vec![7_u8; 12_345]);
    fx.commit("one");
    let repo = fx.repo();
    assert_eq!(
        repo.file_size("HEAD", "data/blob.bin").expect("size"),
        Some(12_345)
    );
    assert_eq!(repo.file_size("HEAD", "data/none.bin").expect("size"), None);
    assert_eq!(repo.file_size("HEAD", "data").expect("size"), None);
}

/// Reads a stream in uneven pieces, as a parser would.
fn drain(stream: andon_git::BlobStream) -> Vec<u8> {
    let mut reader = stream.reader;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 100_003];
    loop {
        let n = reader.read(&mut buf).expect("stream reads");
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
        // Small reads too, to cross the inflater's buffers at odd places.
        let n = reader.read(&mut buf[..7]).expect("stream reads");
        out.extend_from_slice(&buf[..n]);
    }
}

/// Several MiB of text that compresses (like a CSV) and some that does not.
fn dataset_bytes() -> Vec<u8> {
    let mut rng = XorShift(7);
    let mut data = Vec::new();
    for i in 0..60_000 {
        data.extend_from_slice(
            format!(
                "{i},user{}@example.com,{}\n",
                rng.below(1000),
                rng.below(99_999)
            )
            .as_bytes(),
        );
    }
    data.extend((0..500_000).map(|_| u8::try_from(rng.below(256)).expect("a byte")));
    data
}

#[test]
fn open_stream_inflates_loose_blobs_as_it_reads() {
    let fx = Fixture::new();
    let data = dataset_bytes();
    fx.write("data/orders.csv", &data);
    fx.write("empty.csv", "");
    fx.write("small.csv", "a\n1\n");
    fx.commit("one");
    let id = fx.git(&["rev-parse", "HEAD:data/orders.csv"]);
    let loose = fx.path().join(".git/objects").join(&id[..2]).join(&id[2..]);
    assert!(loose.is_file(), "the blob is loose before any repack");
    let repo = fx.repo();

    let stream = repo
        .open_stream("HEAD", "data/orders.csv")
        .expect("opens")
        .expect("exists");
    assert_eq!(
        (stream.size, stream.id.as_str()),
        (data.len() as u64, id.as_str())
    );
    assert!(drain(stream) == data, "the streamed bytes are the file");
    let stream = repo
        .open_stream("HEAD", "empty.csv")
        .expect("opens")
        .expect("exists");
    assert_eq!(stream.size, 0);
    assert!(drain(stream).is_empty());
    let stream = repo
        .open_stream("HEAD", "small.csv")
        .expect("opens")
        .expect("exists");
    assert_eq!(drain(stream), b"a\n1\n");

    assert!(
        repo.open_stream("HEAD", "missing.csv")
            .expect("looks up")
            .is_none()
    );
    assert!(
        repo.open_stream("HEAD", "data")
            .expect("looks up")
            .is_none(),
        "a directory"
    );
    assert!(matches!(
        repo.open_stream("HEAD", "../x.csv")
            .map(|_| ())
            .expect_err("path"),
        GitError::InvalidPath { .. }
    ));
    assert!(
        repo.open_stream("nope", "data/orders.csv")
            .map(|_| ())
            .expect_err("rev")
            .is_not_found()
    );
}

#[test]
fn open_stream_reads_packed_blobs_stored_whole_or_as_deltas() {
    let fx = Fixture::new();
    let data = dataset_bytes();
    fx.write("data/orders.csv", &data);
    fx.commit("one");
    let mut changed = data.clone();
    changed.extend_from_slice(b"one more row\n");
    fx.write("data/orders.csv", &changed);
    fx.commit("two");
    fx.pack();
    let repo = fx.repo();
    for (rev, expected) in [("HEAD", &changed), ("HEAD~1", &data)] {
        let stream = repo
            .open_stream(rev, "data/orders.csv")
            .expect("opens")
            .expect("exists");
        assert_eq!(stream.size, expected.len() as u64);
        assert!(
            drain(stream) == *expected,
            "{rev}: the streamed bytes are the file"
        );
    }
}

#[test]
fn open_stream_reports_a_truncated_loose_object() {
    let fx = Fixture::new();
    fx.write("data.csv", dataset_bytes());
    fx.commit("one");
    let id = fx.git(&["rev-parse", "HEAD:data.csv"]);
    let loose = fx.path().join(".git/objects").join(&id[..2]).join(&id[2..]);
    let bytes = std::fs::read(&loose).expect("read the object");
    let mut permissions = std::fs::metadata(&loose).expect("stat").permissions();
    #[expect(
        clippy::permissions_set_readonly_false,
        reason = "a test damages the object on purpose"
    )]
    permissions.set_readonly(false);
    std::fs::set_permissions(&loose, permissions).expect("make writable");
    std::fs::write(&loose, &bytes[..bytes.len() / 2]).expect("truncate");
    let repo = fx.repo();
    let stream = repo
        .open_stream("HEAD", "data.csv")
        .expect("opens")
        .expect("exists");
    let mut reader = stream.reader;
    let mut sink = Vec::new();
    let error = reader.read_to_end(&mut sink).expect_err("truncated");
    assert!(sink.len() < bytes.len() * 4, "stops at the damage");
    assert!(
        matches!(
            error.kind(),
            std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::InvalidInput
        ),
        "{error}"
    );
}

#[test]
fn validate_path_refuses_escapes_and_odd_spellings() {
    for (path, reason) in [
        ("", "path is empty"),
        ("../x", "path has a `..` component"),
        ("a/../../b", "path has a `..` component"),
        ("a/..", "path has a `..` component"),
        ("/etc/passwd", "path is absolute"),
        ("a\\b", "path contains a backslash"),
        ("a\0b", "path contains a NUL byte"),
        ("./a", "path has a `.` component"),
        ("a/./b", "path has a `.` component"),
        ("a//b", "path has an empty component"),
        ("a/", "path has an empty component"),
    ] {
        match validate_path(path) {
            Err(GitError::InvalidPath { path: p, reason: r }) => {
                assert_eq!((p.as_str(), r), (path, reason));
            }
            other => panic!("{path:?} was not refused: {other:?}"),
        }
    }
    for path in [
        "a",
        "a/b.txt",
        ".andon/workflows/ci.yml",
        "..a/b..",
        "a.b/.c",
    ] {
        validate_path(path).unwrap_or_else(|err| panic!("{path:?}: {err}"));
    }
    let err = validate_path("../x").expect_err("refused");
    assert_eq!(
        err.to_string(),
        r#"invalid path "../x": path has a `..` component"#
    );
}

#[test]
fn list_dir_returns_sorted_file_names_only() {
    let fx = Fixture::new();
    fx.write(".andon/workflows/b.yml", "b\n");
    fx.write(".andon/workflows/a.yml", "a\n");
    fx.write(".andon/workflows/Z.yaml", "z\n");
    fx.write(".andon/workflows/nested/c.yml", "c\n");
    fx.write("top.txt", "t\n");
    fx.commit("one");
    fx.write(".andon/workflows/d.yml", "d\n");
    fx.commit("two");
    let repo = fx.repo();

    let list = |rev: &str, dir: &str| repo.list_dir(rev, dir).expect(dir);
    assert_eq!(
        list("HEAD~1", ".andon/workflows"),
        ["Z.yaml", "a.yml", "b.yml"]
    );
    assert_eq!(
        list("HEAD", ".andon/workflows"),
        ["Z.yaml", "a.yml", "b.yml", "d.yml"]
    );
    assert_eq!(list("HEAD", ""), ["top.txt"]);
    assert!(list("HEAD", ".andon/missing").is_empty());
    assert!(list("HEAD", "top.txt").is_empty(), "a file is no directory");
    assert!(matches!(
        repo.list_dir("HEAD", "a/../b").expect_err("path"),
        GitError::InvalidPath { .. }
    ));
}

// ---- diff ----

#[test]
fn diff_reports_each_status_sorted_by_path() {
    let fx = Fixture::new();
    let body = numbered(40);
    fx.write("keep.txt", "same\n");
    fx.write("modify.txt", "a\nb\nc\n");
    fx.write("delete.txt", "x\ny\n");
    fx.write("old/name.txt", &body);
    fx.write("image.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".as_slice());
    let base = fx.commit("base");
    fx.write("modify.txt", "a\nB\nc\nd\n");
    fx.remove("delete.txt");
    fx.remove("old/name.txt");
    fx.write("new/name.txt", body.replace("line 7\n", "line seven\n"));
    fx.write("added.txt", "new\nfile\n");
    fx.write("image.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR2".as_slice());
    let head = fx.commit("head");
    let change = fx.repo().diff(Some(&base), &head).expect("diff");

    let summary: Vec<_> = change
        .files
        .iter()
        .map(|f| {
            (
                f.path.as_str(),
                f.old_path.as_deref(),
                f.status,
                f.added,
                f.removed,
                f.binary,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("added.txt", None, FileStatus::Added, 2, 0, false),
            ("delete.txt", None, FileStatus::Deleted, 0, 2, false),
            ("image.png", None, FileStatus::Modified, 0, 0, true),
            ("modify.txt", None, FileStatus::Modified, 2, 1, false),
            (
                "new/name.txt",
                Some("old/name.txt"),
                FileStatus::Renamed,
                1,
                1,
                false
            ),
        ]
    );
    assert_eq!(change.added_lines.len(), change.files.len());
    assert_eq!(
        change.added_lines("added.txt"),
        [added(1, "new"), added(2, "file")]
    );
    assert_eq!(
        change.added_lines("modify.txt"),
        [added(2, "B"), added(4, "d")]
    );
    assert_eq!(change.added_lines("new/name.txt"), [added(7, "line seven")]);
    assert!(change.added_lines("delete.txt").is_empty());
    assert!(change.added_lines("image.png").is_empty());
}

#[test]
fn diff_numbers_lines_inserted_in_the_middle() {
    let fx = Fixture::new();
    fx.write("src/main.rs", numbered(20));
    let base = fx.commit("base");
    let mut lines: Vec<String> = numbered(20).lines().map(str::to_owned).collect();
    lines.insert(10, "inserted a".to_owned());
    lines.insert(11, "inserted b".to_owned());
    lines[15] = "replaced".to_owned();
    lines.remove(2);
    fx.write("src/main.rs", lines.join("\n") + "\n");
    let head = fx.commit("head");
    let change = fx.repo().diff(Some(&base), &head).expect("diff");

    let f = file(&change, "src/main.rs");
    assert_eq!((f.status, f.added, f.removed), (FileStatus::Modified, 3, 2));
    assert_eq!(
        change.added_lines("src/main.rs"),
        [
            added(10, "inserted a"),
            added(11, "inserted b"),
            added(15, "replaced"),
        ]
    );
}

#[test]
fn diff_against_the_empty_tree_adds_everything() {
    let fx = Fixture::new();
    fx.write("a.txt", "one\ntwo\n");
    fx.write("dir/b.txt", "three");
    let head = fx.commit("root");
    let change = fx.repo().diff(None, &head).expect("diff");

    assert_eq!(change.paths().collect::<Vec<_>>(), ["a.txt", "dir/b.txt"]);
    assert!(change.files.iter().all(|f| f.status == FileStatus::Added));
    assert_eq!(
        change.added_lines("a.txt"),
        [added(1, "one"), added(2, "two")]
    );
    assert_eq!(change.added_lines("dir/b.txt"), [added(1, "three")]);
    assert_eq!(file(&change, "dir/b.txt").added, 1);
}

#[test]
fn diff_handles_missing_final_newline_crlf_and_invalid_utf8() {
    let fx = Fixture::new();
    fx.write("eol.txt", "a\nb");
    fx.write("crlf.txt", "a\r\nb\r\n");
    fx.write("latin1.txt", "ok\n");
    let base = fx.commit("base");
    fx.write("eol.txt", "a\nb\n");
    fx.write("crlf.txt", "a\r\nB\r\nc");
    fx.write("latin1.txt", b"ok\ncaf\xe9\n".as_slice());
    let head = fx.commit("head");
    let change = fx.repo().diff(Some(&base), &head).expect("diff");

    let eol = file(&change, "eol.txt");
    assert_eq!(
        (eol.added, eol.removed),
        (1, 1),
        "the newline changes line 2"
    );
    assert_eq!(change.added_lines("eol.txt"), [added(2, "b")]);
    assert_eq!(
        change.added_lines("crlf.txt"),
        [added(2, "B"), added(3, "c")]
    );
    assert_eq!(change.added_lines("latin1.txt"), [added(2, "caf\u{fffd}")]);
    assert!(!file(&change, "latin1.txt").binary);
}

#[test]
fn diff_marks_files_binary_when_either_side_has_an_early_nul() {
    let fx = Fixture::new();
    let mut late_nul = "text\n".repeat(2000).into_bytes();
    late_nul.push(0);
    fx.write("becomes-binary.txt", "text\n");
    fx.write("late-nul.txt", "start\n");
    let base = fx.commit("base");
    fx.write("becomes-binary.txt", b"text\n\0\n".as_slice());
    fx.write("late-nul.txt", &late_nul);
    fx.write("new.bin", [0_u8, 1, 2, 3]);
    let head = fx.commit("head");
    let change = fx.repo().diff(Some(&base), &head).expect("diff");

    for path in ["becomes-binary.txt", "new.bin"] {
        let f = file(&change, path);
        assert!(f.binary, "{path}");
        assert_eq!((f.added, f.removed), (0, 0), "{path}");
        assert!(change.added_lines(path).is_empty(), "{path}");
    }
    let late = file(&change, "late-nul.txt");
    assert!(
        !late.binary,
        "a NUL past 8000 bytes does not make a file binary"
    );
}

#[test]
fn files_over_16_mib_are_not_diffed_loose_or_packed() {
    let fx = Fixture::new();
    let big_line = "2026-11-23,order,42.50,shipped\n";
    let big = big_line.repeat(17 * 1024 * 1024 / big_line.len() + 1);
    fx.write("small.csv", "id\n");
    let base = fx.commit("base");
    fx.write("data/orders.csv", &big);
    fx.write("small.csv", "id\n1\n");
    let head = fx.commit("head");
    let check = |how: &str| {
        let change = fx.repo().diff(Some(&base), &head).expect("diff");
        let f = file(&change, "data/orders.csv");
        assert!(f.binary, "{how}: a big file is treated as binary");
        assert_eq!((f.added, f.removed), (0, 0), "{how}");
        assert!(change.added_lines("data/orders.csv").is_empty(), "{how}");
        let small = file(&change, "small.csv");
        assert_eq!((small.binary, small.added), (false, 1), "{how}");
    };
    check("loose");
    fx.pack();
    check("packed");
    // The content itself is still there for whoever streams it.
    let stream = fx
        .repo()
        .open_stream(&head, "data/orders.csv")
        .expect("open")
        .expect("a file");
    assert_eq!(stream.size, big.len() as u64);
}

#[test]
fn diff_of_identical_commits_is_empty_and_bad_revs_fail() {
    let fx = Fixture::new();
    fx.write("a.txt", "a\n");
    let head = fx.commit("one");
    let repo = fx.repo();
    assert_eq!(
        repo.diff(Some(&head), &head).expect("diff"),
        Change::default()
    );
    assert!(
        repo.diff(Some("nope"), &head)
            .expect_err("base")
            .is_not_found()
    );
    assert!(repo.diff(None, "nope").expect_err("head").is_not_found());
}

/// One `--numstat` row; counts are `None` for binary files, as git prints
/// `-` for them.
#[derive(Debug, PartialEq, Eq)]
struct Numstat {
    added: Option<u32>,
    removed: Option<u32>,
    old_path: Option<String>,
}

/// `git diff --numstat -M -z` keyed by (new) path.
fn numstat(dir: &Path, base: &str, head: &str) -> BTreeMap<String, Numstat> {
    let out = git(dir, &["diff", "--numstat", "-M", "-z", base, head]);
    let mut fields = out.split('\0').filter(|s| !s.is_empty());
    let mut stats = BTreeMap::new();
    while let Some(head) = fields.next() {
        let mut parts = head.splitn(3, '\t');
        let count = |s: Option<&str>| s.expect("a count").parse::<u32>().ok();
        let added = count(parts.next());
        let removed = count(parts.next());
        let path = parts.next().expect("path field");
        if path.is_empty() {
            let old = fields.next().expect("rename source").to_owned();
            let new = fields.next().expect("rename target").to_owned();
            let old_path = Some(old);
            stats.insert(
                new,
                Numstat {
                    added,
                    removed,
                    old_path,
                },
            );
        } else {
            let old_path = None;
            stats.insert(
                path.to_owned(),
                Numstat {
                    added,
                    removed,
                    old_path,
                },
            );
        }
    }
    stats
}

fn our_numstat(change: &Change) -> BTreeMap<String, Numstat> {
    change
        .files
        .iter()
        .map(|f| {
            let count = |n: u32| (!f.binary).then_some(n);
            let row = Numstat {
                added: count(f.added),
                removed: count(f.removed),
                old_path: f.old_path.clone(),
            };
            (f.path.clone(), row)
        })
        .collect()
}

/// Applies one of a handful of edits to `lines`, all of them kinds a real
/// change contains: replaced, inserted, deleted, duplicated and moved lines.
fn edit(lines: &mut Vec<String>, rng: &mut XorShift, tag: usize) {
    let at = rng.below(lines.len().max(1));
    match rng.below(6) {
        0 => lines[at] = format!("changed {tag}"),
        1 => lines.insert(at, format!("inserted {tag}")),
        2 if lines.len() > 3 => {
            lines.remove(at);
        }
        3 => {
            let copy = lines[at].clone();
            lines.insert(rng.below(lines.len()), copy);
        }
        4 if lines.len() > 5 => {
            let moved = lines.remove(at);
            lines.insert(rng.below(lines.len()), moved);
        }
        _ => lines.insert(at, "}".to_owned()),
    }
}

#[test]
fn diff_matches_git_numstat_and_hunks_on_random_edits() {
    let fx = Fixture::new();
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut files: Vec<Vec<String>> = Vec::new();
    for i in 0..50 {
        let len = 5 + rng.below(60);
        let lines = (0..len)
            .map(|j| match rng.below(4) {
                0 => "}".to_owned(),
                1 => String::new(),
                _ => format!("    let v{j} = {i} * {};", rng.below(10)),
            })
            .collect();
        files.push(lines);
    }
    let name = |i: usize| format!("pkg{}/file{i:02}.rs", i % 4);
    for (i, lines) in files.iter().enumerate() {
        fx.write(&name(i), lines.join("\n") + "\n");
    }
    let base = fx.commit("base");

    for (i, lines) in files.iter_mut().enumerate() {
        match i {
            0..=2 => fx.remove(&name(i)),
            3..=4 => {
                // Renamed with one small edit, well above 50% similar.
                fx.remove(&name(i));
                lines.push("// moved".to_owned());
                fx.write(&format!("moved/file{i:02}.rs"), lines.join("\n") + "\n");
            }
            5 => fx.write(&name(i), lines.join("\n")),
            _ => {
                for tag in 0..1 + rng.below(6) {
                    edit(lines, &mut rng, tag);
                }
                fx.write(&name(i), lines.join("\n") + "\n");
            }
        }
    }
    fx.write("added/new.rs", "fn main() {}\n");
    fx.write("added/blob.bin", [1_u8, 0, 2]);
    let head = fx.commit("head");

    let change = fx.repo().diff(Some(&base), &head).expect("diff");
    fx.pack();
    let packed = fx.repo().diff(Some(&base), &head).expect("packed diff");
    assert_eq!(packed, change, "packed objects read the same as loose ones");
    let ours = our_numstat(&change);
    let theirs = numstat(fx.path(), &base, &head);
    assert!(theirs.len() > 40, "the edits changed most files");
    assert_eq!(ours, theirs);
    let our_lines: BTreeMap<String, Vec<AddedLine>> = change
        .files
        .iter()
        .zip(&change.added_lines)
        .filter(|(_, lines)| !lines.is_empty())
        .map(|(f, lines)| (f.path.clone(), lines.clone()))
        .collect();
    assert_eq!(our_lines, git_added_lines(fx.path(), &base, &head));
}

/// The added lines of `git diff -M -U0`, numbered from the hunk headers.
fn git_added_lines(dir: &Path, base: &str, head: &str) -> BTreeMap<String, Vec<AddedLine>> {
    let out = git(dir, &["diff", "-M", "-U0", base, head]);
    let mut lines: BTreeMap<String, Vec<AddedLine>> = BTreeMap::new();
    let mut path = String::new();
    let mut next = 0;
    for line in out.lines() {
        if let Some(target) = line.strip_prefix("+++ ") {
            path = target.strip_prefix("b/").unwrap_or(target).to_owned();
        } else if let Some(header) = line.strip_prefix("@@ -") {
            // "@@ -old +start[,count] @@"
            let new_range = header.split(' ').nth(1).expect("new range");
            let start = new_range[1..].split(',').next().expect("start");
            next = start.parse().expect("a line number");
        } else if let Some(text) = line.strip_prefix('+') {
            lines
                .entry(path.clone())
                .or_default()
                .push(added(next, text));
            next += 1;
        }
    }
    lines
}

#[test]
fn diff_of_a_thousand_modified_files() {
    let fx = Fixture::new();
    let name = |i: usize| format!("src/m{:02}/file{i:04}.txt", i % 20);
    for i in 0..1000 {
        fx.write(&name(i), numbered(50));
    }
    let base = fx.commit("base");
    // The base blobs are packed, the head blobs loose: both read paths.
    fx.pack();
    for i in 0..1000 {
        let mut lines: Vec<String> = numbered(50).lines().map(str::to_owned).collect();
        lines[9] = format!("edited {i}");
        lines[29] = format!("edited again {i}");
        lines.insert(40, format!("inserted {i}"));
        fx.write(&name(i), lines.join("\n") + "\n");
    }
    let head = fx.commit("head");
    let change = fx.repo().diff(Some(&base), &head).expect("diff");

    assert_eq!(change.files.len(), 1000);
    let mut paths: Vec<String> = (0..1000).map(name).collect();
    paths.sort();
    assert_eq!(change.paths().collect::<Vec<_>>(), paths);
    for (f, lines) in change.files.iter().zip(&change.added_lines) {
        assert_eq!(
            (f.status, f.added, f.removed, f.binary),
            (FileStatus::Modified, 3, 2, false),
            "{}",
            f.path
        );
        let numbers: Vec<u32> = lines.iter().map(|l| l.line).collect();
        assert_eq!(numbers, [10, 30, 41], "{}", f.path);
    }
    assert_eq!(our_numstat(&change), numstat(fx.path(), &base, &head));
    fx.pack();
    assert_eq!(
        fx.repo().diff(Some(&base), &head).expect("packed diff"),
        change
    );
}

#[test]
fn diff_reports_submodules_without_lines_and_symlinks_as_text() {
    let fx = Fixture::new();
    fx.write("a.txt", "a\n");
    let base = fx.commit("base");
    std::os::unix::fs::symlink("a.txt", fx.path().join("link")).expect("symlink");
    fx.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{base},vendor/sub"),
    ]);
    fx.git(&["add", "link"]);
    fx.git(&["commit", "-q", "-m", "head"]);
    let head = fx.git(&["rev-parse", "HEAD"]);
    let repo = fx.repo();
    let change = repo.diff(Some(&base), &head).expect("diff");

    let sub = file(&change, "vendor/sub");
    assert_eq!(
        (sub.status, sub.added, sub.removed, sub.binary),
        (FileStatus::Added, 0, 0, false)
    );
    assert!(change.added_lines("vendor/sub").is_empty());
    assert_eq!(change.added_lines("link"), [added(1, "a.txt")]);
    assert_eq!(
        repo.read_file("HEAD", "link").expect("read"),
        None,
        "not a regular file"
    );
    assert_eq!(repo.read_file("HEAD", "vendor/sub").expect("read"), None);
    assert_eq!(repo.list_dir("HEAD", "").expect("list"), ["a.txt"]);
}

#[test]
fn repo_can_be_shared_across_threads() {
    let fx = Fixture::new();
    fx.write("a.txt", "1\n");
    let first = fx.commit("one");
    fx.write("a.txt", "2\n");
    let second = fx.commit("two");
    let repo = std::sync::Arc::new(fx.repo());
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let repo = std::sync::Arc::clone(&repo);
            std::thread::spawn(move || repo.diff(Some("HEAD~1"), "HEAD").expect("diff"))
        })
        .collect();
    for handle in handles {
        let change = handle.join().expect("thread");
        assert_eq!(change.added_lines("a.txt"), [added(1, "2")]);
    }
    assert_eq!(repo.resolve("HEAD~1").expect("resolve"), first);
    assert_eq!(repo.resolve("HEAD").expect("resolve"), second);
}

#[test]
fn tags_report_tagger_message_and_peeled_commit() {
    let fx = Fixture::new();
    fx.write("models/m.pkl", "w1\n");
    let first = fx.commit("one");
    fx.git(&[
        "tag",
        "-a",
        "churn@v0.0.1",
        "-m",
        "Registering artifact churn version v0.0.1",
    ]);
    fx.git(&[
        "tag",
        "-a",
        "churn#prod#1",
        "-m",
        "Assigning stage prod",
        &first,
    ]);
    fx.git(&["tag", "light"]);
    // A tag of a tag still peels to the commit.
    fx.git(&["tag", "-a", "outer", "-m", "nested", "churn@v0.0.1"]);
    // A tag of a blob is no registry event.
    let blob = fx.git(&["rev-parse", "HEAD:models/m.pkl"]);
    fx.git(&["tag", "a-blob", &blob]);

    let tags = fx.repo().tags().expect("tags");
    let names: Vec<&str> = tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["churn#prod#1", "churn@v0.0.1", "light", "outer"]);
    let registered = &tags[1];
    assert_eq!(registered.commit, first);
    assert_eq!(
        registered.message.trim(),
        "Registering artifact churn version v0.0.1"
    );
    let tagger = registered.tagger.as_ref().expect("annotated");
    assert!(tagger.time > 1_600_000_000, "{tagger:?}");
    assert!(!tagger.email.is_empty());
    assert_eq!(tags[2].tagger, None);
    assert_eq!(tags[2].commit, first);
    assert_eq!(tags[3].commit, first);

    // The refs alone: the tag object's id for an annotated tag.
    let refs = fx.repo().tag_refs().expect("refs");
    let names: Vec<&str> = refs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["a-blob", "churn#prod#1", "churn@v0.0.1", "light", "outer"]
    );
    assert_eq!(refs[2].1, fx.git(&["rev-parse", "refs/tags/churn@v0.0.1"]));
    assert_eq!(refs[3].1, first);
}

#[test]
fn created_tags_are_annotated_tags_git_reads_and_never_replaced() {
    let fx = Fixture::new();
    fx.write("models/m.pkl", "w1\n");
    let first = fx.commit("one");
    let repo = fx.repo();
    let tagger = andon_git::Tagger {
        name: "andon".into(),
        email: "andon@example.com".into(),
        time: 1_795_392_000,
    };
    repo.create_tag(
        "churn@v0.0.1",
        "HEAD",
        &tagger,
        "Registering artifact churn version v0.0.1\n",
    )
    .expect("created");
    let raw = fx.git(&["cat-file", "-p", "churn@v0.0.1"]);
    assert!(raw.contains(&format!("object {first}")), "{raw}");
    assert!(raw.contains("type commit"), "{raw}");
    assert!(
        raw.contains("tagger andon <andon@example.com> 1795392000 +0000"),
        "{raw}"
    );
    assert!(
        raw.ends_with("Registering artifact churn version v0.0.1"),
        "{raw}"
    );
    let read = repo.tags().expect("tags");
    assert_eq!(read[0].tagger.as_ref(), Some(&tagger));
    assert_eq!(read[0].commit, first);

    let again = repo.create_tag("churn@v0.0.1", "HEAD", &tagger, "again");
    assert!(again.is_err(), "an existing tag is not replaced");
    assert!(repo.create_tag("x@v0.0.1", "nope", &tagger, "m").is_err());
}
