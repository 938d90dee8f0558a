//! Builds the plugin crates for wasm32-wasip2 with a nested cargo and copies
//! the components into OUT_DIR for `src/lib.rs` to embed.
//!
//! The nested cargo uses its own target dir (`target/plugins`), so it never
//! waits on the outer build's lock, and a clean environment, so the outer
//! build's wrappers (clippy), flags and profile do not leak into the wasm.

use std::env;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, exit};

/// Package name, the file cargo writes, the file name in OUT_DIR.
const PLUGINS: &[(&str, &str, &str)] = &[
    ("andon-size", "andon_size.wasm", "size.wasm"),
    (
        "andon-secret-scan",
        "andon_secret_scan.wasm",
        "secret-scan.wasm",
    ),
    (
        "andon-data-check",
        "andon_data_check.wasm",
        "data-check.wasm",
    ),
    ("andon-data-diff", "andon_data_diff.wasm", "data-diff.wasm"),
    ("andon-etl", "andon_etl.wasm", "etl.wasm"),
    (
        "andon-metrics-diff",
        "andon_metrics_diff.wasm",
        "metrics-diff.wasm",
    ),
    (
        "andon-model-register",
        "andon_model_register.wasm",
        "model-register.wasm",
    ),
    ("andon-lgtm", "andon_lgtm.wasm", "lgtm.wasm"),
    ("andon-approve", "andon_approve.wasm", "approve.wasm"),
    ("andon-hold", "andon_hold.wasm", "hold.wasm"),
    ("andon-label", "andon_label.wasm", "label.wasm"),
    (
        "andon-andon-cord",
        "andon_andon_cord.wasm",
        "andon-cord.wasm",
    ),
    (
        "andon-pr-hygiene",
        "andon_pr_hygiene.wasm",
        "pr-hygiene.wasm",
    ),
    ("andon-testbed", "andon_testbed.wasm", "testbed.wasm"),
    (
        "andon-compat-v0-1",
        "andon_compat_v0_1.wasm",
        "compat-v0-1.wasm",
    ),
];

const TARGET: &str = "wasm32-wasip2";

/// Variables the outer cargo sets that must not reach the nested one.
const SCRUBBED_ENV: &[&str] = &[
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "RUSTFLAGS",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_MAKEFLAGS",
];

/// The first eight bytes of a WebAssembly component (not a core module).
const COMPONENT_HEADER: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

fn main() {
    let manifest_dir = PathBuf::from(env_var("CARGO_MANIFEST_DIR"));
    let root = manifest_dir.join("../..");
    let out_dir = PathBuf::from(env_var("OUT_DIR"));
    for watched in ["plugins", "wit", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }

    check_target_installed();
    let target_dir = root.join("target/plugins");
    build_plugins(&root, &target_dir);

    let release = target_dir.join(TARGET).join("release");
    for (package, built, embedded) in PLUGINS {
        let from = release.join(built);
        let bytes = fs::read(&from).unwrap_or_else(|e| {
            fail(&format!(
                "{package} built, but {} cannot be read: {e}",
                from.display()
            ))
        });
        if !bytes.starts_with(&COMPONENT_HEADER) {
            fail(&format!(
                "{} is not a WebAssembly component",
                from.display()
            ));
        }
        let to = out_dir.join(embedded);
        fs::write(&to, &bytes)
            .unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", to.display())));
    }
}

/// Fails the build unless the wasm32-wasip2 standard library is installed.
fn check_target_installed() {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| OsString::from("rustc"));
    let output = Command::new(&rustc)
        .args(["--print", "target-libdir", "--target", TARGET])
        .output()
        .unwrap_or_else(|e| fail(&format!("cannot run {}: {e}", rustc.to_string_lossy())));
    let libdir = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() || !Path::new(libdir.trim()).is_dir() {
        fail(
            "andon's stock plugins need the wasm32-wasip2 target: \
             run `rustup target add wasm32-wasip2`",
        );
    }
}

/// Runs `cargo build --release --target wasm32-wasip2 -p …` in the workspace.
fn build_plugins(root: &Path, target_dir: &Path) {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .args(["build", "--release", "--target", TARGET])
        .args(PLUGINS.iter().flat_map(|(package, _, _)| ["-p", package]))
        .arg("--target-dir")
        .arg(target_dir)
        // Speed matters more than size, but debug info is dead weight in an
        // embedded component.
        .args(["--config", "profile.release.debug=false"])
        .args(["--config", "profile.release.strip=true"]);
    for var in SCRUBBED_ENV {
        cmd.env_remove(var);
    }
    let output = cmd
        .output()
        .unwrap_or_else(|e| fail(&format!("cannot run the nested cargo build: {e}")));
    if !output.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
        fail(&format!(
            "building the stock plugins for {TARGET} failed ({}); the nested cargo's output is above",
            output.status
        ));
    }
}

fn env_var(name: &str) -> OsString {
    env::var_os(name).unwrap_or_else(|| fail(&format!("cargo did not set {name}")))
}

/// Stops the build with a message cargo shows.
fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    exit(1)
}
