//! Folder-driven cases: `tests/cases/<name>/` holds `repo.sh` (builds the
//! repository), `workflow.yml`, optional `args` (extra `andon run` flags,
//! one per line) and `expected.json` (`status`, `exit`, and the actions, each
//! matched on the fields it names). Add a folder to add a case.

use std::path::Path;

use serde_json::Value;

use crate::support::{TestRepo, project_root};

#[test]
fn cases() {
    let dir = project_root().join("tests/cases");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/cases exists")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no cases in {}", dir.display());
    let failures: Vec<String> = names
        .iter()
        .filter_map(|name| check(&dir.join(name)).err().map(|e| format!("{name}: {e}")))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        names.len(),
        failures.join("\n\n")
    );
}

fn check(case: &Path) -> Result<(), String> {
    let repo = TestRepo::new();
    repo.script(&case.join("repo.sh"));
    let args = std::fs::read_to_string(case.join("args")).unwrap_or_default();
    let args: Vec<&str> = args
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let (code, got) = repo.run_json(&case.join("workflow.yml"), &args);
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(case.join("expected.json")).map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("expected.json: {e}"))?;
    if expected["exit"].as_i64() != Some(i64::from(code)) {
        return Err(format!(
            "exit code {code}, expected {}\n{got:#}",
            expected["exit"]
        ));
    }
    if expected["status"] != got["status"] {
        return Err(format!(
            "status {}, expected {}\n{got:#}",
            got["status"], expected["status"]
        ));
    }
    let want = expected["actions"]
        .as_array()
        .ok_or("expected.json needs `actions`")?;
    let have = got["actions"].as_array().ok_or("output has no `actions`")?;
    if want.len() != have.len() {
        return Err(format!(
            "{} actions, expected {}\n{:#}",
            have.len(),
            want.len(),
            got["actions"]
        ));
    }
    for (w, h) in want.iter().zip(have) {
        if !subset(w, h) {
            return Err(format!(
                "action mismatch\nexpected (subset): {w:#}\ngot: {h:#}"
            ));
        }
    }
    Ok(())
}

/// Whether every field of `want` is in `have` with the same value (arrays
/// element by element, strings starting with `~` as substrings).
fn subset(want: &Value, have: &Value) -> bool {
    match (want, have) {
        (Value::Object(w), Value::Object(h)) => w
            .iter()
            .all(|(k, v)| h.get(k).is_some_and(|hv| subset(v, hv))),
        (Value::Array(w), Value::Array(h)) => {
            w.len() == h.len() && w.iter().zip(h).all(|(a, b)| subset(a, b))
        }
        (Value::String(w), Value::String(h)) if w.starts_with('~') => h.contains(&w[1..]),
        _ => want == have,
    }
}
