//! Integration tests for `andon_git::Mirrors` against real repositories
//! built with the `git` CLI in temporary directories, over local paths and
//! over a small smart-HTTP server (`git http-backend`) that asks for a
//! token the way GitHub does.
#![allow(clippy::unwrap_used, reason = "tests")]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier, Mutex};

use andon_git::{Auth, GitError, Mirrors, Repo};

/// A scratch origin repository driven through the `git` CLI, isolated from
/// the user's and the system's git configuration.
struct Origin {
    dir: tempfile::TempDir,
}

impl Origin {
    fn new() -> Origin {
        let origin = Origin {
            dir: tempfile::Builder::new()
                .prefix("andon-mirror-origin")
                .tempdir()
                .expect("create a temp dir"),
        };
        origin.git(&["init", "-q", "-b", "main"]);
        origin
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn url(&self) -> &str {
        self.path().to_str().expect("temp paths are UTF-8")
    }

    fn git(&self, args: &[&str]) -> String {
        git(self.path(), args)
    }

    fn write(&self, path: &str, contents: &str) {
        let full = self.path().join(path);
        std::fs::create_dir_all(full.parent().expect("a file has a parent"))
            .expect("create parent dirs");
        std::fs::write(full, contents).expect("write a file");
    }

    /// Writes `path`, stages everything and commits; returns the commit id.
    fn commit(&self, path: &str, contents: &str) -> String {
        self.write(path, contents);
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", path]);
        self.git(&["rev-parse", "HEAD"])
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

fn mirrors() -> (tempfile::TempDir, Mirrors) {
    let root = tempfile::Builder::new()
        .prefix("andon-mirrors")
        .tempdir()
        .expect("create a temp dir");
    let mirrors = Mirrors::new(root.path().join("mirrors"));
    (root, mirrors)
}

/// The entries of `dir`, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

const ZERO_ID: &str = "0123456789abcdef0123456789abcdef01234567";

// ---- clone and fetch over local paths ----

#[test]
fn mirrors_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Mirrors>();
    assert_send_sync::<Auth>();
}

#[test]
fn first_sync_clones_a_bare_mirror_that_the_read_apis_use() {
    let origin = Origin::new();
    let first = origin.commit(".andon/workflows/review.yml", "name: review\n");
    origin.write(".andon/workflows/notes.txt", "not a workflow\n");
    let head = origin.commit("src/lib.rs", "fn main() {}\n");
    let (_root, mirrors) = mirrors();

    let repo = mirrors
        .sync("octo/widgets", origin.url(), &[&head], None)
        .expect("first sync clones");

    let path = mirrors.path("octo/widgets").unwrap();
    assert_eq!(path, mirrors.root().join("octo").join("widgets.git"));
    assert!(path.join("objects").is_dir());
    assert_eq!(entries(&mirrors.root().join("octo")), ["widgets.git"]);
    assert_eq!(repo.work_dir(), None);
    assert_eq!(repo.name(), "widgets");
    assert_eq!(repo.resolve("refs/heads/main").unwrap(), head);
    assert_eq!(
        repo.resolve("HEAD").unwrap(),
        head,
        "HEAD follows the origin's"
    );
    assert_eq!(repo.first_parent(&head).unwrap(), Some(first.clone()));
    assert_eq!(
        repo.read_file("main", ".andon/workflows/review.yml")
            .unwrap(),
        Some(b"name: review\n".to_vec())
    );
    assert_eq!(
        repo.list_dir(&head, ".andon/workflows").unwrap(),
        ["notes.txt", "review.yml"]
    );
    let change = repo.diff(Some(&first), &head).unwrap();
    let paths: Vec<&str> = change.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, [".andon/workflows/notes.txt", "src/lib.rs"]);

    let reopened = Repo::open(&path).expect("Repo::open reads a mirror too");
    assert_eq!(reopened.resolve("refs/heads/main").unwrap(), head);
}

#[test]
fn a_new_commit_in_the_origin_is_fetched_when_wanted() {
    let origin = Origin::new();
    let first = origin.commit("a.txt", "1\n");
    let (_root, mirrors) = mirrors();
    mirrors
        .sync("octo/widgets", origin.url(), &[&first], None)
        .unwrap();

    let second = origin.commit("a.txt", "2\n");
    let repo = mirrors
        .sync("octo/widgets", origin.url(), &[&first, &second], None)
        .expect("fetches the new commit");
    assert_eq!(repo.resolve("refs/heads/main").unwrap(), second);
    assert_eq!(
        repo.read_file(&second, "a.txt").unwrap(),
        Some(b"2\n".to_vec())
    );
}

#[test]
fn a_warm_sync_does_not_touch_the_origin() {
    let origin = Origin::new();
    let head = origin.commit("a.txt", "1\n");
    let (_root, mirrors) = mirrors();
    mirrors
        .sync("octo/widgets", origin.url(), &[&head], None)
        .unwrap();

    // With the origin gone, only a sync that never connects can succeed.
    let moved = origin.path().with_extension("moved");
    std::fs::rename(origin.path(), &moved).unwrap();
    let repo = mirrors
        .sync("octo/widgets", origin.url(), &[&head], None)
        .expect("every wanted commit is there: no fetch");
    assert_eq!(repo.resolve("main").unwrap(), head);

    // An empty want asks for an up-to-date mirror, which needs the origin.
    let err = mirrors
        .sync("octo/widgets", origin.url(), &[], None)
        .expect_err("an empty want fetches");
    assert!(matches!(err, GitError::Fetch { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("fetching octo/widgets failed: ")
    );
    std::fs::rename(&moved, origin.path()).unwrap();
}

#[test]
fn an_empty_want_brings_the_mirror_up_to_date() {
    let origin = Origin::new();
    let first = origin.commit("a.txt", "1\n");
    let (_root, mirrors) = mirrors();
    mirrors
        .sync("octo/widgets", origin.url(), &[&first], None)
        .unwrap();
    let second = origin.commit("a.txt", "2\n");
    let repo = mirrors
        .sync("octo/widgets", origin.url(), &[], None)
        .unwrap();
    assert_eq!(repo.resolve("refs/heads/main").unwrap(), second);
}

#[test]
fn a_wanted_commit_missing_after_the_fetch_is_named() {
    let origin = Origin::new();
    let head = origin.commit("a.txt", "1\n");
    let (_root, mirrors) = mirrors();

    for _ in 0..2 {
        // First on a clone, then on a fetch into the existing mirror.
        let err = mirrors
            .sync("octo/widgets", origin.url(), &[&head, ZERO_ID], None)
            .expect_err("the origin does not have it");
        assert!(
            matches!(&err, GitError::MissingCommit { commit, .. } if commit == ZERO_ID),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!("commit {ZERO_ID} is not in octo/widgets after fetching")
        );
        assert!(err.is_transient());
    }
}

#[test]
fn wanted_ids_must_be_full_commit_ids() {
    let origin = Origin::new();
    let head = origin.commit("a.txt", "1\n");
    let (_root, mirrors) = mirrors();
    for bad in [
        "",
        "main",
        &head[..12],
        "zz23456789abcdef0123456789abcdef01234567",
    ] {
        let err = mirrors
            .sync("octo/widgets", origin.url(), &[bad], None)
            .expect_err(bad);
        assert!(matches!(err, GitError::InvalidCommitId { .. }), "{err:?}");
    }
    assert!(!mirrors.root().exists(), "refused before touching anything");

    let tree = origin.git(&["rev-parse", "HEAD^{tree}"]);
    let err = mirrors
        .sync("octo/widgets", origin.url(), &[&tree], None)
        .expect_err("a tree is not a commit");
    assert!(matches!(err, GitError::NotACommit { .. }), "{err:?}");
}

#[test]
fn pull_request_heads_and_tags_are_mirrored() {
    let origin = Origin::new();
    let base = origin.commit("a.txt", "1\n");
    origin.git(&["tag", "-a", "v1", "-m", "release one"]);
    origin.git(&["checkout", "-q", "-b", "topic"]);
    let pr_head = origin.commit("b.txt", "pr\n");
    origin.git(&["update-ref", "refs/pull/7/head", &pr_head]);
    origin.git(&["checkout", "-q", "main"]);
    origin.git(&["branch", "-q", "-D", "topic"]);
    let (_root, mirrors) = mirrors();

    let repo = mirrors
        .sync("octo/widgets", origin.url(), &[&pr_head], None)
        .expect("the PR head comes with refs/pull");
    assert_eq!(repo.resolve("refs/pull/7/head").unwrap(), pr_head);
    assert_eq!(repo.resolve("v1").unwrap(), base);
    assert_eq!(repo.resolve("refs/heads/main").unwrap(), base);
    assert!(repo.resolve("refs/heads/topic").is_err());

    // A later PR and a moved PR head arrive by fetch.
    origin.git(&["checkout", "-q", "-b", "topic2"]);
    let pr8 = origin.commit("c.txt", "pr8\n");
    origin.git(&["update-ref", "refs/pull/8/head", &pr8]);
    origin.git(&["update-ref", "refs/pull/7/head", &pr8]);
    let repo = mirrors
        .sync("octo/widgets", origin.url(), &[&pr8], None)
        .unwrap();
    assert_eq!(repo.resolve("refs/pull/8/head").unwrap(), pr8);
    assert_eq!(repo.resolve("refs/pull/7/head").unwrap(), pr8);
}

#[test]
fn a_force_push_in_the_origin_is_followed() {
    let origin = Origin::new();
    let first = origin.commit("a.txt", "1\n");
    let dropped = origin.commit("a.txt", "2\n");
    origin.git(&["tag", "moving"]);
    let (_root, mirrors) = mirrors();
    mirrors
        .sync("octo/widgets", origin.url(), &[&dropped], None)
        .unwrap();

    origin.git(&["reset", "-q", "--hard", &first]);
    let rewritten = origin.commit("a.txt", "2, rewritten\n");
    origin.git(&["tag", "-f", "moving"]);
    let repo = mirrors
        .sync("octo/widgets", origin.url(), &[&rewritten], None)
        .expect("a forced update is taken");
    assert_eq!(repo.resolve("refs/heads/main").unwrap(), rewritten);
    assert_eq!(repo.resolve("moving").unwrap(), rewritten);
    assert_eq!(repo.first_parent(&rewritten).unwrap(), Some(first));
}

#[test]
fn the_origin_default_branch_becomes_head() {
    let origin = Origin::new();
    origin.git(&["checkout", "-q", "-b", "trunk"]);
    let head = origin.commit("a.txt", "1\n");
    let (_root, mirrors) = mirrors();
    let repo = mirrors
        .sync("octo/widgets", origin.url(), &[&head], None)
        .unwrap();
    assert_eq!(repo.resolve("HEAD").unwrap(), head);
    assert_eq!(repo.resolve("refs/heads/trunk").unwrap(), head);
}

#[test]
fn names_differing_only_in_case_share_a_mirror() {
    let origin = Origin::new();
    let head = origin.commit("a.txt", "1\n");
    let (_root, mirrors) = mirrors();
    mirrors
        .sync("Octo/Widgets", origin.url(), &[&head], None)
        .unwrap();
    assert_eq!(
        mirrors.path("OCTO/widgets").unwrap(),
        mirrors.root().join("octo").join("widgets.git")
    );
    let moved = origin.path().with_extension("moved");
    std::fs::rename(origin.path(), &moved).unwrap();
    mirrors
        .sync("octo/widgets", origin.url(), &[&head], None)
        .expect("the same mirror, warm");
    assert_eq!(entries(mirrors.root()), ["octo"]);
    std::fs::rename(&moved, origin.path()).unwrap();
}

// ---- concurrency ----

#[test]
fn concurrent_syncs_of_one_repository_all_succeed() {
    let origin = Origin::new();
    let head = origin.commit("a.txt", "1\n");
    let (_root, mirrors) = mirrors();
    let barrier = Barrier::new(4);
    let heads: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    let repo = mirrors
                        .sync("octo/widgets", origin.url(), &[&head], None)
                        .expect("every sync succeeds");
                    repo.resolve("refs/heads/main").unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(heads, vec![head.clone(); 4]);
    assert_eq!(entries(&mirrors.root().join("octo")), ["widgets.git"]);

    // And again once warm, with a fetch racing the fast paths.
    let second = origin.commit("a.txt", "2\n");
    std::thread::scope(|scope| {
        for i in 0..4 {
            let (head, second, mirrors, origin) = (&head, &second, &mirrors, &origin);
            scope.spawn(move || {
                let want = if i % 2 == 0 { head } else { second };
                mirrors
                    .sync("octo/widgets", origin.url(), &[want], None)
                    .expect("every sync succeeds");
            });
        }
    });
}

#[test]
fn different_repositories_sync_in_parallel() {
    let origins: Vec<Origin> = (0..3).map(|_| Origin::new()).collect();
    let heads: Vec<String> = origins
        .iter()
        .enumerate()
        .map(|(i, o)| o.commit("a.txt", &format!("{i}\n")))
        .collect();
    let (_root, mirrors) = mirrors();
    std::thread::scope(|scope| {
        for (i, (origin, head)) in origins.iter().zip(&heads).enumerate() {
            let mirrors = &mirrors;
            scope.spawn(move || {
                let repo = mirrors
                    .sync(&format!("octo/repo{i}"), origin.url(), &[head], None)
                    .unwrap();
                assert_eq!(repo.resolve("HEAD").unwrap(), *head);
            });
        }
    });
    assert_eq!(
        entries(&mirrors.root().join("octo")),
        ["repo0.git", "repo1.git", "repo2.git"]
    );
}

// ---- refusals and recovery ----

#[test]
fn invalid_repository_names_are_refused() {
    let origin = Origin::new();
    let head = origin.commit("a.txt", "1\n");
    let (_root, mirrors) = mirrors();
    for bad in [
        "widgets",
        "octo/widgets/extra",
        "../widgets",
        "octo/..",
        "/etc/passwd",
        "octo/wid gets",
        ".octo/widgets",
        "octo\\x/widgets",
    ] {
        let err = mirrors
            .sync(bad, origin.url(), &[&head], None)
            .expect_err(bad);
        assert!(
            matches!(err, GitError::InvalidRepository { .. }),
            "{bad}: {err:?}"
        );
        assert!(mirrors.path(bad).is_err());
    }
    assert!(!mirrors.root().exists());
}

#[test]
fn urls_for_other_transports_are_refused() {
    let (_root, mirrors) = mirrors();
    for (url, secret) in [
        ("ssh://git@github.com/octo/widgets.git", None),
        ("git@github.com:octo/widgets.git", None),
        (
            "https://x-access-token:ghs_in_url@github.com/octo/widgets.git",
            Some("ghs_in_url"),
        ),
    ] {
        let err = mirrors
            .sync("octo/widgets", url, &[ZERO_ID], None)
            .expect_err(url);
        assert!(matches!(err, GitError::InvalidUrl { .. }), "{err:?}");
        if let Some(secret) = secret {
            assert!(!err.to_string().contains(secret));
            assert!(!format!("{err:?}").contains(secret));
        }
    }
}

#[test]
fn a_failed_clone_leaves_nothing_behind() {
    let (root, mirrors) = mirrors();
    let missing = root.path().join("no-such-origin");
    let err = mirrors
        .sync("octo/widgets", missing.to_str().unwrap(), &[ZERO_ID], None)
        .expect_err("nothing to clone");
    assert!(matches!(err, GitError::Fetch { .. }), "{err:?}");
    let owner = mirrors.root().join("octo");
    assert_eq!(
        entries(&owner),
        Vec::<String>::new(),
        "no mirror, no temp dir"
    );
}

#[test]
fn leftovers_of_a_crashed_process_are_cleared() {
    let origin = Origin::new();
    let first = origin.commit("a.txt", "1\n");
    let (_root, mirrors) = mirrors();
    mirrors
        .sync("octo/widgets", origin.url(), &[&first], None)
        .unwrap();
    let path = mirrors.path("octo/widgets").unwrap();

    // What a process killed mid-clone and mid-fetch leaves behind.
    let owner = mirrors.root().join("octo");
    std::fs::create_dir_all(owner.join("widgets.git@abc123/objects")).unwrap();
    std::fs::create_dir_all(owner.join("other.git@keep")).unwrap();
    std::fs::write(path.join("packed-refs.lock"), "").unwrap();
    std::fs::create_dir_all(path.join("refs/heads")).unwrap();
    std::fs::write(path.join("refs/heads/main.lock"), "").unwrap();

    let second = origin.commit("a.txt", "2\n");
    let restarted = Mirrors::new(mirrors.root());
    let repo = restarted
        .sync("octo/widgets", origin.url(), &[&second], None)
        .expect("stale locks do not block the fetch");
    assert_eq!(repo.resolve("refs/heads/main").unwrap(), second);
    assert_eq!(entries(&owner), ["other.git@keep", "widgets.git"]);
    assert!(!path.join("packed-refs.lock").exists());
    assert!(!path.join("refs/heads/main.lock").exists());
}

#[test]
fn a_damaged_mirror_is_reported_not_used() {
    let origin = Origin::new();
    let head = origin.commit("a.txt", "1\n");
    let (_root, mirrors) = mirrors();
    let path = mirrors.path("octo/widgets").unwrap();
    std::fs::create_dir_all(&path).unwrap();
    std::fs::write(path.join("junk"), "not a repository").unwrap();
    let err = mirrors
        .sync("octo/widgets", origin.url(), &[&head], None)
        .expect_err("not a repository");
    assert!(matches!(err, GitError::Open { .. }), "{err:?}");
}

// ---- over http, with a token ----

const TOKEN: &str = "ghs_s3cret-installation-token";
/// `base64("x-access-token:" + TOKEN)`, as sent in `Authorization: Basic`.
const TOKEN_BASIC: &str = "eC1hY2Nlc3MtdG9rZW46Z2hzX3MzY3JldC1pbnN0YWxsYXRpb24tdG9rZW4=";

/// Serves the bare repositories under `root` over smart HTTP through
/// `git http-backend`, answering 401 to any request without the
/// `Authorization` header `TOKEN` gives. Records each request's header.
struct HttpOrigin {
    port: u16,
    seen: Arc<Mutex<Vec<Option<String>>>>,
}

impl HttpOrigin {
    fn start(root: &Path) -> HttpOrigin {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (root, log) = (root.to_owned(), Arc::clone(&seen));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let (root, log) = (root.clone(), Arc::clone(&log));
                std::thread::spawn(move || serve(stream.unwrap(), &root, &log));
            }
        });
        HttpOrigin { port, seen }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{path}", self.port)
    }

    fn seen(&self) -> Vec<Option<String>> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve(stream: TcpStream, root: &Path, log: &Mutex<Vec<Option<String>>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    let mut request_line = String::new();
    reader.read_line(&mut request_line).unwrap();
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap(), parts.next().unwrap().to_owned());
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap();
        headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let body = read_body(&mut reader, &header);
    let authorization = header("authorization");
    log.lock().unwrap().push(authorization.clone());
    if authorization.as_deref() != Some(&format!("Basic {TOKEN_BASIC}")) {
        let reply = "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"git\"\r\n\
                     Content-Length: 0\r\nConnection: close\r\n\r\n";
        stream.write_all(reply.as_bytes()).unwrap();
        return;
    }
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let mut backend = Command::new("git")
        .arg("http-backend")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("REQUEST_METHOD", method)
        .env("PATH_INFO", path)
        .env("QUERY_STRING", query)
        .env("CONTENT_TYPE", header("content-type").unwrap_or_default())
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("GIT_PROTOCOL", header("git-protocol").unwrap_or_default())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run git http-backend");
    let mut stdin = backend.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&body));
    let output = backend.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    let split = output
        .stdout
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("CGI headers end");
    let cgi_headers = String::from_utf8_lossy(&output.stdout[..split]).into_owned();
    let content = &output.stdout[split + 4..];
    let mut status = "200 OK".to_owned();
    let mut reply = String::new();
    for line in cgi_headers.lines() {
        match line.strip_prefix("Status: ") {
            Some(value) => status = value.to_owned(),
            None => reply.push_str(&format!("{line}\r\n")),
        }
    }
    let head = format!(
        "HTTP/1.1 {status}\r\n{reply}Content-Length: {}\r\nConnection: close\r\n\r\n",
        content.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(content).unwrap();
}

/// A request body, sized by `Content-Length` or chunked.
fn read_body(reader: &mut impl BufRead, header: &impl Fn(&str) -> Option<String>) -> Vec<u8> {
    if let Some(length) = header("content-length") {
        let mut body = vec![0; length.parse().unwrap()];
        reader.read_exact(&mut body).unwrap();
        return body;
    }
    let mut body = Vec::new();
    if header("transfer-encoding").as_deref() != Some("chunked") {
        return body;
    }
    loop {
        let mut size = String::new();
        reader.read_line(&mut size).unwrap();
        let size = usize::from_str_radix(size.trim(), 16).unwrap();
        let mut chunk = vec![0; size + 2];
        reader.read_exact(&mut chunk).unwrap();
        if size == 0 {
            return body;
        }
        body.extend_from_slice(&chunk[..size]);
    }
}

/// An origin, and a bare copy of it served over HTTP as `widgets.git`.
fn http_origin() -> (Origin, tempfile::TempDir, HttpOrigin) {
    let origin = Origin::new();
    origin.commit("a.txt", "1\n");
    let served = tempfile::tempdir().unwrap();
    git(
        served.path(),
        &["clone", "-q", "--bare", origin.url(), "widgets.git"],
    );
    let server = HttpOrigin::start(served.path());
    (origin, served, server)
}

#[test]
fn a_token_is_sent_as_basic_auth_and_never_stored() {
    let (origin, served, server) = http_origin();
    let first = origin.git(&["rev-parse", "HEAD"]);
    let (_root, mirrors) = mirrors();
    let auth = Auth::new(TOKEN);
    let url = server.url("widgets.git");

    let repo = mirrors
        .sync("octo/widgets", &url, &[&first], Some(&auth))
        .expect("clones over http with the token");
    assert_eq!(repo.resolve("HEAD").unwrap(), first);

    let second = origin.commit("a.txt", "2\n");
    let bare = served.path().join("widgets.git");
    origin.git(&["push", "-q", bare.to_str().unwrap(), "main"]);
    let repo = mirrors
        .sync("octo/widgets", &url, &[&second], Some(&auth))
        .expect("fetches over http with the token");
    assert_eq!(repo.resolve("refs/heads/main").unwrap(), second);

    let seen = server.seen();
    assert_eq!(seen.first(), Some(&None), "asked without credentials first");
    let basic = format!("Basic {TOKEN_BASIC}");
    assert!(
        seen.iter().any(|h| h.as_deref() == Some(&basic)),
        "{seen:?}"
    );

    let path = mirrors.path("octo/widgets").unwrap();
    for file in files_under(&path) {
        let bytes = std::fs::read(&file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(TOKEN) && !text.contains(TOKEN_BASIC),
            "{} holds the token",
            file.display()
        );
    }
}

#[test]
fn missing_or_rejected_credentials_fail_without_leaking() {
    let (origin, _served, server) = http_origin();
    let head = origin.git(&["rev-parse", "HEAD"]);
    let url = server.url("widgets.git");
    let wrong = "ghs_wrong-token-value";
    for auth in [None, Some(Auth::new(wrong))] {
        let (_root, mirrors) = mirrors();
        let err = mirrors
            .sync("octo/widgets", &url, &[&head], auth.as_ref())
            .expect_err("the server refuses");
        assert!(matches!(err, GitError::Fetch { .. }), "{err:?}");
        assert!(!err.is_transient(), "{err:?}");
        for shown in [err.to_string(), format!("{err:?}")] {
            assert!(!shown.contains(wrong), "{shown}");
        }
        assert!(!mirrors.path("octo/widgets").unwrap().exists());
    }
}

#[test]
fn https_is_compiled_in() {
    // A server that accepts and hangs up: the TLS handshake fails, which
    // takes a built https client (a missing crypto provider would panic).
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            drop(stream);
        }
    });
    let (_root, mirrors) = mirrors();
    let err = mirrors
        .sync(
            "octo/widgets",
            &format!("https://127.0.0.1:{port}/octo/widgets.git"),
            &[ZERO_ID],
            Some(&Auth::new(TOKEN)),
        )
        .expect_err("no TLS server there");
    let message = err.to_string();
    assert!(matches!(err, GitError::Fetch { .. }), "{err:?}");
    assert!(
        !message.contains("not supported") && !message.contains("panic"),
        "{message}"
    );
    assert!(!message.contains(TOKEN), "{message}");
}
