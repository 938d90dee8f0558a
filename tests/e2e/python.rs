//! A plugin in another language: `plugins/python/welcome`, Python built
//! into a component by componentize-py (`plugins/python/build.sh`, which
//! installs the pinned componentize-py from PyPI under the target
//! directory), run by the real binary. The build failing, pip's included,
//! fails the test: it never skips.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::server::{REPO, pull_request};
use crate::support::{TestRepo, andon, project_root};

/// The built `welcome.wasm`: built once per test process, and only when
/// missing or older than its sources.
fn welcome_wasm() -> &'static Path {
    static WASM: OnceLock<PathBuf> = OnceLock::new();
    WASM.get_or_init(|| {
        let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .expect("the target dir holds tmp")
            .to_path_buf();
        let out = target.join("plugins/python/welcome.wasm");
        let root = project_root();
        let sources = [
            "plugins/python/welcome/app.py",
            "plugins/python/build.sh",
            "plugins/python/requirements.txt",
            "wit/plugin.wit",
        ];
        let built = std::fs::metadata(&out).and_then(|m| m.modified()).ok();
        let fresh = built.is_some_and(|built| {
            sources.iter().all(|source| {
                let modified = std::fs::metadata(root.join(source))
                    .and_then(|m| m.modified())
                    .unwrap_or_else(|e| panic!("{source}: {e}"));
                modified <= built
            })
        });
        if !fresh {
            let script = root.join("plugins/python/build.sh");
            let result = Command::new("bash")
                .arg(&script)
                .arg(&out)
                .env("CARGO_TARGET_DIR", &target)
                .output()
                .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
            assert!(
                result.status.success(),
                "plugins/python/build.sh failed ({}):\n{}{}",
                result.status,
                String::from_utf8_lossy(&result.stdout),
                String::from_utf8_lossy(&result.stderr),
            );
        }
        out
    })
}

/// The message the tests configure.
const MESSAGE: &str = "Welcome @{author} to {repository}, and thanks for #{number}!";

/// A repository whose default branch runs `welcome` (committed, pinned by
/// its sha256) on pull requests twice: workflow `welcome` with `MESSAGE`
/// and `welcome-default` with no `with:`; and a feature branch to open a
/// pull request from. Returns the repository, base and head.
fn repo_with_welcome() -> (TestRepo, String, String) {
    let repo = TestRepo::new();
    repo.write(
        "plugins/welcome.wasm",
        std::fs::read(welcome_wasm()).expect("read welcome.wasm"),
    );
    let custom = json!({ "message": MESSAGE });
    repo.write(".andon/workflows/welcome.yml", workflow("welcome", &custom));
    repo.write(
        ".andon/workflows/welcome-default.yml",
        workflow("welcome-default", &json!({})),
    );
    repo.write("README.md", "# widgets\n");
    let base = repo.commit_all("base");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("README.md", "# widgets\n\nNow with a README.\n");
    let head = repo.commit_all("a first contribution");
    repo.git(&["checkout", "-q", "main"]);
    (repo, base, head)
}

/// A workflow `name` running the plugin with `with:` = `config`.
fn workflow(name: &str, config: &Value) -> String {
    let wasm = std::fs::read(welcome_wasm()).expect("read welcome.wasm");
    let sha = hex::encode(Sha256::digest(&wasm));
    format!(
        "name: {name}\non: pull_request\nsteps:\n  - uses: ./plugins/welcome.wasm\n    \
         sha256: {sha}\n    with: {config}\n"
    )
}

/// `andon replay` of a `pull_request` delivery from the real fixture,
/// `action` (`opened`) by `newcomer` with GitHub's `association`.
fn replay(repo: &TestRepo, base: &str, head: &str, action: &str, association: &str) -> Value {
    let payload = pull_request(action, repo, 7, base, head)
        .author("newcomer")
        .set("/pull_request/author_association", json!(association));
    let file = repo.data.path().join("payload.json");
    std::fs::write(&file, payload.to_bytes()).expect("write payload");
    let out = andon(
        repo.data.path(),
        &[
            "replay",
            file.to_str().expect("utf-8 path"),
            "--event",
            "pull_request",
            "--repo",
            repo.path().to_str().expect("utf-8 path"),
            "--format",
            "json",
        ],
    );
    assert!(
        out.status.success(),
        "andon replay ({action} by {association}) failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "andon replay output is not JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// The bodies of the `comment` actions of workflow `name`'s run, which
/// must have succeeded.
fn comments(replay: &Value, name: &str) -> Vec<String> {
    let runs: Vec<&Value> = replay["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .filter(|run| run["workflow"] == name)
        .collect();
    assert_eq!(runs.len(), 1, "one run of {name}: {replay:#}");
    assert_eq!(runs[0]["status"], "success", "{replay:#}");
    runs[0]["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter(|a| a["kind"] == "comment")
        .map(|a| a["body"].as_str().expect("a comment has a body").to_owned())
        .collect()
}

/// The bodies of the sticky comments a replay would post on #7.
fn sticky_comments(replay: &Value) -> Vec<String> {
    replay["effects"]
        .as_array()
        .expect("effects")
        .iter()
        .map(|e| &e["effect"])
        .filter(|e| e["kind"] == "sticky-comment" && e["number"] == 7)
        .map(|e| e["body"].as_str().expect("a comment has a body").to_owned())
        .collect()
}

/// One test, so the 18 MB component is compiled once (the compiled-plugin
/// cache lives in the repository's data dir).
#[test]
fn python_welcome_plugin() {
    let (repo, base, head) = repo_with_welcome();
    let expected = format!("Welcome @newcomer to {REPO}, and thanks for #7!");

    // A first-time contributor opens a pull request: welcomed, with the
    // configured message and with the default one.
    for association in ["FIRST_TIME_CONTRIBUTOR", "FIRST_TIMER", "NONE"] {
        let out = replay(&repo, &base, &head, "opened", association);
        assert_eq!(
            comments(&out, "welcome"),
            std::slice::from_ref(&expected),
            "{association}: {out:#}"
        );
        let default = comments(&out, "welcome-default");
        assert_eq!(default.len(), 1, "{association}: {out:#}");
        assert!(
            default[0].contains("@newcomer") && default[0].contains(REPO),
            "{default:?}"
        );
        let sticky = sticky_comments(&out);
        assert_eq!(sticky.len(), 2, "{association}: {out:#}");
        assert!(
            sticky.iter().any(|body| body.contains(&expected)),
            "{sticky:#?}"
        );
        // The plugin's one log line is kept with its step.
        let run = out["runs"]
            .as_array()
            .expect("runs")
            .iter()
            .find(|run| run["workflow"] == "welcome")
            .expect("the welcome run");
        let log = run["steps"][0]["log"].to_string();
        assert!(log.contains("welcoming @newcomer"), "{log}");
    }

    // A member, a pull request pushed to rather than opened: no comment.
    for (action, association) in [
        ("opened", "MEMBER"),
        ("opened", "CONTRIBUTOR"),
        ("synchronize", "FIRST_TIME_CONTRIBUTOR"),
    ] {
        let out = replay(&repo, &base, &head, action, association);
        for name in ["welcome", "welcome-default"] {
            assert_eq!(
                comments(&out, name),
                Vec::<String>::new(),
                "{action} by {association}: {out:#}"
            );
        }
        assert_eq!(sticky_comments(&out), Vec::<String>::new(), "{out:#}");
    }

    // `andon run` has no author association: the step runs, no comment.
    let file = repo.data.path().join("welcome.yml");
    std::fs::write(&file, workflow("welcome", &json!({ "message": MESSAGE })))
        .expect("write workflow");
    let (code, out) = repo.run_json(&file, &["--head", &head, "--base", &base]);
    assert_eq!(code, 0, "{out:#}");
    assert_eq!(out["steps"][0]["status"], "success", "{out:#}");
    assert_eq!(out["actions"], json!([]), "{out:#}");

    // A wrong `with:` is the plugin's invalid-config error, with its reason.
    for (config, reason) in [
        (json!({ "greeting": "hi" }), "unknown key `greeting`"),
        (json!({ "message": 42 }), "`message` must be a string"),
        (
            json!({ "message": "hi {user}" }),
            "unknown placeholder {user}",
        ),
    ] {
        std::fs::write(&file, workflow("welcome", &config)).expect("write workflow");
        let (code, out) = repo.run_json(&file, &["--head", &head, "--base", &base]);
        assert_eq!(code, 1, "{config}: {out:#}");
        let step = &out["steps"][0];
        assert_eq!(step["status"], "error", "{config}: {out:#}");
        let error = step["error"].to_string();
        assert!(
            error.contains("rejected its configuration") && error.contains(reason),
            "{config}: {error}"
        );
    }
}
