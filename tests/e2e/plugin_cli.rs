//! `andon plugin new|inspect|bench`: the plugin author's tools, on the real
//! bundled plugins, real webhook payloads, and a scaffolded crate built
//! for wasm32-wasip2 and run by `andon run`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sha2::{Digest, Sha256};

use crate::support::{TestRepo, assert_contains, project_root, stderr, stdout};

/// `andon ARGS` in `dir`, with a private data dir.
fn andon_in(dir: &Path, data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_andon"))
        .args(args)
        .current_dir(dir)
        .env("ANDON_DATA_DIR", data)
        .env_remove("ANDON_LOG")
        .output()
        .expect("andon runs")
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "output is not JSON ({e}):\n{}\nstderr:\n{}",
            stdout(out),
            stderr(out)
        )
    })
}

/// A bundled plugin written to a file, as an author would have it.
fn stock_file(dir: &Path, name: &str) -> PathBuf {
    let plugin = andon_bundle::stock(name).expect("a bundled plugin");
    let file = dir.join(format!("{name}.wasm"));
    std::fs::write(&file, plugin.wasm).expect("write wasm");
    file
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn inspect_shows_manifest_wit_version_and_interfaces() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = stock_file(tmp.path(), "size");
    let out = andon_in(
        tmp.path(),
        tmp.path(),
        &["plugin", "inspect", path(&file), "--format", "json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let value = json(&out);
    assert_eq!(value["manifest"]["name"], "size");
    let wasm = andon_bundle::stock("size").expect("size").wasm;
    assert_eq!(value["size"], wasm.len());
    assert_eq!(value["sha256"], hex::encode(Sha256::digest(wasm)));
    let wit = value["wit"].as_array().expect("wit versions");
    assert_eq!(wit.len(), 1, "{value:#}");
    let version = wit[0]
        .as_str()
        .and_then(|w| w.strip_prefix("andon:plugin@"))
        .expect("an andon:plugin version");
    let imports = value["imports"].as_array().expect("imports");
    let host = imports
        .iter()
        .find(|i| i["name"] == format!("andon:plugin/host@{version}"))
        .unwrap_or_else(|| panic!("no andon host import in {imports:#?}"));
    assert_eq!(host["kind"], "interface");
    assert!(
        host["members"]
            .as_array()
            .expect("members")
            .iter()
            .any(|m| m["name"] == "changed-files" && m["kind"] == "func"),
        "{host:#}"
    );
    let exports: Vec<&str> = value["exports"]
        .as_array()
        .expect("exports")
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert!(
        exports.contains(&"run") && exports.contains(&"describe"),
        "{exports:?}"
    );

    let out = andon_in(tmp.path(), tmp.path(), &["plugin", "inspect", path(&file)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_contains(
        &stdout(&out),
        &[
            "name         size",
            &format!("wit          andon:plugin@{version}"),
            "imports",
            &format!("andon:plugin/host@{version}"),
            "interface: changed-files",
            "exports",
        ],
    );
}

#[test]
fn inspect_refuses_what_is_not_a_component() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (name, bytes, expected) in [
        (
            "garbage.wasm",
            &b"this is not wasm at all"[..],
            "not WebAssembly",
        ),
        (
            "core.wasm",
            &b"\0asm\x01\0\0\0"[..],
            "core WebAssembly module, not a component",
        ),
    ] {
        let file = tmp.path().join(name);
        std::fs::write(&file, bytes).expect("write");
        let out = andon_in(tmp.path(), tmp.path(), &["plugin", "inspect", path(&file)]);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", stdout(&out));
        assert_contains(&stderr(&out), &[name, expected]);
    }
}

fn fixture(name: &str) -> PathBuf {
    project_root()
        .join("tests/fixtures/github-webhooks")
        .join(name)
}

#[test]
fn bench_reports_timings_memory_and_actions_for_a_webhook_payload() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = stock_file(tmp.path(), "size");
    let payload = fixture("pull_request/opened.payload.json");
    let out = andon_in(
        tmp.path(),
        tmp.path(),
        &[
            "plugin",
            "bench",
            path(&file),
            "--event",
            path(&payload),
            "--runs",
            "20",
            "--warmup",
            "2",
            "--format",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let value = json(&out);
    assert_eq!(value["plugin"]["name"], "size");
    assert_eq!(value["event"]["kind"], "pull_request");
    assert_eq!(value["event"]["action"], "opened");
    assert_eq!(value["runs"], 20);
    for series in ["instantiate", "run", "instantiate_run", "run_step"] {
        let stats = &value["timings_us"][series];
        let (min, median, p99, max) = (
            stats["min"].as_f64().expect("min"),
            stats["median"].as_f64().expect("median"),
            stats["p99"].as_f64().expect("p99"),
            stats["max"].as_f64().expect("max"),
        );
        assert!(
            0.0 < min && min <= median && median <= p99 && p99 <= max,
            "{series}: {stats}"
        );
    }
    assert!(value["memory_peak_bytes"].as_u64().expect("memory") > 0);
    let actions = value["actions"].as_array().expect("actions");
    assert_eq!(value["actions_count"], actions.len());

    // The text report names the same things.
    let out = andon_in(
        tmp.path(),
        tmp.path(),
        &[
            "plugin",
            "bench",
            path(&file),
            "--event",
            path(&payload),
            "--runs",
            "5",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_contains(
        &stdout(&out),
        &[
            "plugin    size",
            "event     pull_request opened",
            "median",
            "instantiate+run",
            "run_step",
            "peak linear memory",
            "actions",
        ],
    );
}

#[test]
fn bench_reads_the_change_from_a_repository_and_takes_andon_events() {
    let repo = TestRepo::new();
    repo.write("a.txt", "one\n");
    repo.commit_all("base");
    repo.write("a.txt", "one\ntwo\nthree\n");
    repo.commit_all("change");
    let file = stock_file(repo.data.path(), "size");
    let event = repo.data.path().join("event.json");
    std::fs::write(
        &event,
        r#"{"kind": "pull_request", "action": "opened", "repository": "octo/repo", "number": 3, "head": "unknown"}"#,
    )
    .expect("write event");
    let out = andon_in(
        repo.path(),
        repo.data.path(),
        &[
            "plugin",
            "bench",
            path(&file),
            "--event",
            path(&event),
            "--repo",
            path(repo.path()),
            "--runs",
            "3",
            "--warmup",
            "0",
            "--format",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let value = json(&out);
    assert_eq!(value["event"]["number"], 3);
    assert_eq!(value["inputs"]["files_changed"], 1);
    let actions = value["actions"].as_array().expect("actions");
    assert!(
        actions.iter().any(|a| a["kind"] == "add-label"),
        "size labels a change it can see: {actions:#?}"
    );
}

#[test]
fn bench_needs_an_event_it_can_read() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = stock_file(tmp.path(), "size");
    let ping = fixture("ping/payload.json");
    let out = andon_in(
        tmp.path(),
        tmp.path(),
        &["plugin", "bench", path(&file), "--event", path(&ping)],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_contains(&stderr(&out), &["--github-event"]);
}

#[test]
fn new_refuses_bad_names_busy_folders_and_a_missing_pdk() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = path(tmp.path());
    let out = andon_in(tmp.path(), tmp.path(), &["plugin", "new", "Bad_Name"]);
    assert_eq!(out.status.code(), Some(2));
    assert_contains(&stderr(&out), &["not a valid plugin name"]);

    // Outside the andon repository, the pdk must be named.
    let out = andon_in(tmp.path(), tmp.path(), &["plugin", "new", "greet"]);
    assert_eq!(out.status.code(), Some(2));
    assert_contains(&stderr(&out), &["--pdk"]);
    assert!(!tmp.path().join("greet").exists());

    // Inside it, the pdk is found; outside the repository the path is
    // absolute.
    let out = andon_in(
        &project_root(),
        tmp.path(),
        &["plugin", "new", "greet", "--dir", dir],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let toml = std::fs::read_to_string(tmp.path().join("greet/Cargo.toml")).expect("Cargo.toml");
    let pdk = project_root()
        .join("plugins/pdk")
        .canonicalize()
        .expect("pdk");
    assert_contains(
        &toml,
        &[&format!("andon-pdk = {{ path = \"{}\" }}", pdk.display())],
    );

    let out = andon_in(
        &project_root(),
        tmp.path(),
        &["plugin", "new", "greet", "--dir", dir],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_contains(&stderr(&out), &["not empty"]);
}

/// The workspace's target folder (the parent of `CARGO_TARGET_TMPDIR`).
fn workspace_target() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target tmp dir has a parent")
        .to_path_buf()
}

/// `cargo ARGS` in `dir`, building into `<target>/plugin-new` so repeated
/// runs are incremental, with the outer build's settings scrubbed.
fn cargo(dir: &Path, args: &[&str]) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", workspace_target().join("plugin-new"));
    for var in [
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_MANIFEST_DIR",
        "CARGO_PRIMARY_PACKAGE",
    ] {
        command.env_remove(var);
    }
    let out = command.output().expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo {args:?} in {}:\n{}",
        dir.display(),
        stderr(&out)
    );
}

#[test]
fn new_scaffolds_a_plugin_that_tests_builds_inspects_and_runs() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pdk = project_root().join("plugins/pdk");
    let out = andon_in(
        tmp.path(),
        tmp.path(),
        &[
            "plugin",
            "new",
            "greet-bot",
            "--dir",
            path(tmp.path()),
            "--pdk",
            path(&pdk),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let krate = tmp.path().join("greet-bot");
    for file in [
        "Cargo.toml",
        "Cargo.lock",
        "src/lib.rs",
        "README.md",
        ".gitignore",
    ] {
        assert!(krate.join(file).is_file(), "{file} was not written");
    }
    let readme = std::fs::read_to_string(krate.join("README.md")).expect("README");
    assert_contains(
        &readme,
        &[
            "cargo test",
            "cargo build --release --target wasm32-wasip2",
            "sha256sum target/wasm32-wasip2/release/greet_bot.wasm",
            "uses: ./plugins/greet-bot.wasm",
            "sha256: ",
        ],
    );

    cargo(&krate, &["test", "--offline", "--quiet"]);
    cargo(
        &krate,
        &[
            "build",
            "--offline",
            "--quiet",
            "--release",
            "--target",
            "wasm32-wasip2",
        ],
    );
    let wasm_file = workspace_target().join("plugin-new/wasm32-wasip2/release/greet_bot.wasm");
    let wasm = std::fs::read(&wasm_file).expect("the built component");

    let out = andon_in(
        tmp.path(),
        tmp.path(),
        &["plugin", "inspect", path(&wasm_file), "--format", "json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let value = json(&out);
    assert_eq!(value["manifest"]["name"], "greet-bot");
    assert_eq!(value["manifest"]["commands"][0]["name"], "greet-bot");
    assert_eq!(value["wit"].as_array().map(Vec::len), Some(1));

    // A workflow uses it by path, pinned, on a pull request.
    let repo = TestRepo::new();
    repo.write("a.txt", "one\n");
    repo.commit_all("base");
    repo.write("plugins/greet-bot.wasm", &wasm);
    let workflow = format!(
        "name: greet\non: [pull_request]\nsteps:\n  - uses: ./plugins/greet-bot.wasm\n    sha256: {}\n",
        hex::encode(Sha256::digest(&wasm))
    );
    repo.write(".andon/workflows/greet.yml", workflow);
    repo.commit_all("add the plugin");
    let (code, run) = repo.run_json(&repo.path().join(".andon/workflows/greet.yml"), &[]);
    assert_eq!(code, 0, "{run:#}");
    let actions = run["actions"].as_array().expect("actions");
    assert!(
        actions.iter().any(|a| a["kind"] == "comment"
            && a["body"]
                .as_str()
                .is_some_and(|b| b.contains("thanks for the pull request"))),
        "{run:#}"
    );
}
