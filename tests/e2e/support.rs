//! Test support: temporary git repositories and running the binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A git repository in a temporary directory, with a private data dir.
pub struct TestRepo {
    pub dir: tempfile::TempDir,
    pub data: tempfile::TempDir,
}

impl TestRepo {
    pub fn new() -> TestRepo {
        let repo = TestRepo {
            dir: tempfile::tempdir().expect("tempdir"),
            data: tempfile::tempdir().expect("tempdir"),
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=Test",
                "-c",
                "user.email=test@example.com",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .current_dir(self.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", self.data.path())
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn write(&self, path: &str, content: impl AsRef<[u8]>) {
        let file = self.path().join(path);
        std::fs::create_dir_all(file.parent().expect("has parent")).expect("mkdir");
        std::fs::write(file, content).expect("write");
    }

    pub fn commit_all(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// Run a shell script in the repository (for case folders).
    pub fn script(&self, script: &Path) {
        let out = Command::new("bash")
            .arg(script)
            .current_dir(self.path())
            .env("GIT_AUTHOR_NAME", "Test")
            .env("GIT_AUTHOR_EMAIL", "test@example.com")
            .env("GIT_COMMITTER_NAME", "Test")
            .env("GIT_COMMITTER_EMAIL", "test@example.com")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", self.data.path())
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "{}: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Run `andon` with this repository's data dir.
    pub fn andon(&self, args: &[&str]) -> Output {
        andon(self.data.path(), args)
    }

    /// `andon run` on this repository with `workflow` and `extra` flags.
    pub fn run(&self, workflow: &Path, extra: &[&str]) -> Output {
        let repo = self.path().to_str().expect("utf-8 path");
        let workflow = workflow.to_str().expect("utf-8 path");
        let mut args = vec!["run", "--repo", repo, "--workflow", workflow];
        args.extend_from_slice(extra);
        self.andon(&args)
    }

    /// `andon run --format json`; returns the exit code and the parsed
    /// output.
    pub fn run_json(&self, workflow: &Path, extra: &[&str]) -> (i32, serde_json::Value) {
        let mut args = vec!["--format", "json"];
        args.extend_from_slice(extra);
        let out = self.run(workflow, &args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let json = serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!(
                "output is not JSON ({e}):\n{stdout}\nstderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code().expect("exited"), json)
    }
}

/// Assert that `text` contains every one of `expected`.
pub fn assert_contains(text: &str, expected: &[&str]) {
    for e in expected {
        assert!(text.contains(e), "missing {e:?} in:\n{text}");
    }
}

/// One compiled-plugin cache for every test's `andon` (entries are keyed
/// by content and engine), so each stock plugin compiles once per run.
pub fn plugin_cache() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-plugin-cache")
}

pub fn andon(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_andon"))
        .args(args)
        .env("ANDON_DATA_DIR", data_dir)
        .env("ANDON_PLUGIN_CACHE", plugin_cache())
        .env_remove("ANDON_LOG")
        .output()
        .expect("andon runs")
}

/// The repository's root, where `workflows/` and `tests/cases/` are.
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The `gto` release the interoperability tests are pinned to.
pub const GTO_VERSION: &str = "1.10.1";

/// The `gto` CLI (PyPI `gto`, pinned): `$ANDON_GTO` when set, else a
/// virtualenv installed once under the target directory. Installation
/// failing fails the test with pip's own words: the interoperability
/// tests never skip.
pub fn gto() -> PathBuf {
    static GTO: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    GTO.get_or_init(|| match std::env::var_os("ANDON_GTO") {
        Some(path) => PathBuf::from(path),
        None => install_gto(),
    })
    .clone()
}

/// `<target>/gto-venv`, made under a lock file so that test binaries
/// running at the same time install once; a marker file says the install
/// finished (a killed install is redone).
fn install_gto() -> PathBuf {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target dir holds tmp")
        .to_path_buf();
    let venv = target.join("gto-venv");
    let done = venv.join(format!(".andon-gto-{GTO_VERSION}"));
    let lock = std::fs::File::create(target.join("gto-venv.lock")).expect("create the lock file");
    lock.lock().expect("lock gto-venv.lock");
    if !done.exists() {
        let _ = std::fs::remove_dir_all(&venv);
        let venv_arg = venv.to_str().expect("utf-8 path");
        install_step("python3", &["-m", "venv", venv_arg]);
        let pip = venv.join("bin/pip");
        let pinned = format!("gto=={GTO_VERSION}");
        install_step(
            pip.to_str().expect("utf-8 path"),
            &["install", "-q", "--disable-pip-version-check", &pinned],
        );
        std::fs::write(&done, "").expect("write the install marker");
    }
    venv.join("bin/gto")
}

fn install_step(program: &str, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot install gto: `{program}` does not run: {e}"));
    assert!(
        out.status.success(),
        "cannot install gto: `{program} {}` failed ({}):\n{}{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
}

impl TestRepo {
    /// Run `gto ARGS` in the repository; panics with its output when it
    /// fails.
    pub fn gto(&self, args: &[&str]) -> String {
        let out = Command::new(gto())
            .args(args)
            .current_dir(self.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", self.data.path())
            .env("NO_COLOR", "1")
            .output()
            .expect("gto runs");
        assert!(
            out.status.success(),
            "gto {args:?} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `gto ARGS --json`, parsed.
    pub fn gto_json(&self, args: &[&str]) -> serde_json::Value {
        let mut args = args.to_vec();
        args.push("--json");
        let out = self.gto(&args);
        serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("gto {args:?} is not JSON ({e}):\n{out}"))
    }

    /// `andon model ARGS --repo REPO --format json`, parsed; panics unless
    /// it succeeds.
    pub fn model_json(&self, args: &[&str]) -> serde_json::Value {
        let repo = self.path().to_str().expect("utf-8 path");
        let mut full = vec!["model", "--repo", repo, "--format", "json"];
        full.extend_from_slice(args);
        let out = self.andon(&full);
        assert!(
            out.status.success(),
            "andon {full:?} failed ({}):\n{}",
            out.status,
            stderr(&out)
        );
        serde_json::from_str(&stdout(&out))
            .unwrap_or_else(|e| panic!("andon {full:?} is not JSON ({e}):\n{}", stdout(&out)))
    }

    /// `andon model ARGS --repo REPO` as text.
    pub fn model(&self, args: &[&str]) -> Output {
        let repo = self.path().to_str().expect("utf-8 path");
        let mut full = vec!["model", "--repo", repo];
        full.extend_from_slice(args);
        self.andon(&full)
    }
}
