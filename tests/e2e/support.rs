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

pub fn andon(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_andon"))
        .args(args)
        .env("ANDON_DATA_DIR", data_dir)
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
