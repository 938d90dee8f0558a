//! The model registry end to end: `andon model ...` on real repositories, GTO interoperability, `model-register` through `andon run`.
//!
//! Interoperability runs the real `gto` (PyPI, pinned in
//! `support::GTO_VERSION`) on the same repository as andon, both ways:
//! tags andon writes must read the same in `gto show` and `gto history`,
//! and tags `gto` writes must read the same in andon. GTO orders events by
//! tagger time in whole seconds, so every write here goes in a second of
//! its own (`Pacer`); otherwise two events of one stage in one second
//! would have no defined order, in gto or in andon.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::support::{TestRepo, assert_contains, stderr, stdout};

const ARTIFACTS: &str = "\
churn:
  type: model
  path: models/churn.pkl
  description: churn classifier
ranker:
  type: model
  path: models/ranker.onnx
legacy:
  type: model
  path: models/legacy.pkl
";

const MODELS: &[&str] = &["churn", "ranker", "legacy"];

fn now_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

/// Runs each registry write in a wall-clock second after the previous
/// write ended.
struct Pacer {
    last: u64,
}

impl Pacer {
    fn new() -> Pacer {
        Pacer { last: 0 }
    }

    fn write<T>(&mut self, write: impl FnOnce() -> T) -> T {
        while now_seconds() <= self.last {
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = write();
        self.last = now_seconds();
        out
    }
}

/// A repository with `artifacts.yaml`, a model file and a committer set in
/// its config (gto and andon both tag as `user.name`).
fn model_repo() -> TestRepo {
    let repo = TestRepo::new();
    repo.git(&["config", "user.name", "Model Tester"]);
    repo.git(&["config", "user.email", "models@example.com"]);
    repo.write("artifacts.yaml", ARTIFACTS);
    repo.write("models/churn.pkl", "churn weights 1\n");
    repo.write("models/ranker.onnx", "ranker 1\n");
    repo.write("models/legacy.pkl", "legacy\n");
    repo.commit_all("first models");
    repo
}

/// `andon model ARGS`, which must succeed.
fn andon_write(repo: &TestRepo, args: &[&str]) -> Value {
    repo.model_json(args)
}

/// The same registry in andon and gto: `list`/`show`, with and without
/// deprecated models, each model's history, and each model's versions.
/// Every comparison runs; the panic lists all that differ.
fn assert_same_registry(repo: &TestRepo) {
    let mut pairs = vec![
        (
            "andon model list vs gto show".to_string(),
            repo.model_json(&["list"]),
            repo.gto_json(&["show"]),
        ),
        (
            "andon model list -d vs gto show -d".to_string(),
            repo.model_json(&["list", "-d"]),
            repo.gto_json(&["show", "-d"]),
        ),
    ];
    for model in MODELS {
        pairs.push((
            format!("andon model history {model} vs gto history {model}"),
            history_view(&repo.model_json(&["history", model])),
            history_view(&repo.gto_json(&["history", model])),
        ));
        pairs.push((
            format!("andon model show {model} vs gto show {model} -d"),
            json!(andon_versions(&repo.model_json(&["show", model]))),
            json!(gto_versions(&repo.gto_json(&["show", model, "-d"]))),
        ));
    }
    let differ: Vec<String> = pairs
        .into_iter()
        .filter(|(_, andon, gto)| andon != gto)
        .map(|(what, andon, gto)| format!("{what}:\nandon: {andon:#}\ngto:   {gto:#}"))
        .collect();
    assert!(differ.is_empty(), "{}", differ.join("\n\n"));
}

/// `history --json` events with their messages' trailing whitespace
/// dropped: gto prints a tag's message as git stores it (with the final
/// newline `git tag -m` adds), andon without it.
fn history_view(events: &Value) -> Value {
    let mut events = events.clone();
    for event in events.as_array_mut().expect("history is a list") {
        let message = event["message"]
            .as_str()
            .map(str::trim_end)
            .map(String::from);
        event["message"] = json!(message);
    }
    events
}

/// A model's versions as `version -> (commit, ref, stages)`.
type Versions = BTreeMap<String, (Value, Value, Vec<String>)>;

fn andon_versions(show: &Value) -> Versions {
    show.as_array()
        .expect("andon model show NAME is a list")
        .iter()
        .map(|v| {
            let mut stages: Vec<String> = v["stages"]
                .as_array()
                .expect("stages")
                .iter()
                .map(|s| s.as_str().expect("stage name").to_string())
                .collect();
            stages.sort();
            (
                v["version"].as_str().expect("version").to_string(),
                (v["commit"].clone(), v["ref"].clone(), stages),
            )
        })
        .collect()
}

/// gto's registered (and deregistered) versions. gto also lists the HEAD
/// commit as an unregistered "discovered" version (version = ref = the
/// commit's hash) of every model its `artifacts.yaml` declares; andon shows
/// only versions with a registration tag, so those are left out here.
fn gto_versions(show: &Value) -> Versions {
    show.as_array()
        .expect("gto show NAME is a list")
        .iter()
        .filter(|v| v["registrations"].as_array().is_some_and(|r| !r.is_empty()))
        .map(|v| {
            let mut stages: Vec<String> = v["stages"]
                .as_array()
                .expect("stages")
                .iter()
                .map(|s| s["stage"].as_str().expect("stage name").to_string())
                .collect();
            stages.sort();
            (
                v["version"].as_str().expect("version").to_string(),
                (v["commit_hexsha"].clone(), v["ref"].clone(), stages),
            )
        })
        .collect()
}

/// The stage holders `list --format json` reports for `model`.
fn stages_of(list: &Value, model: &str) -> Value {
    list[model]["stage"].clone()
}

#[test]
fn tags_andon_writes_read_the_same_in_gto() {
    let repo = model_repo();
    let mut pace = Pacer::new();
    for args in [
        &["register", "churn"][..],
        &["register", "ranker", "--version", "v1.0.0"],
        &["register", "legacy"],
        &["assign", "churn", "v0.0.1", "prod"],
        &["assign", "churn", "v0.0.1", "staging"],
    ] {
        pace.write(|| andon_write(&repo, args));
    }
    repo.write("models/churn.pkl", "churn weights 2\n");
    repo.write("models/ranker.onnx", "ranker 2\n");
    repo.commit_all("retrain");
    for args in [
        &["register", "churn", "--bump", "minor"][..],
        &["register", "ranker", "--version", "v1.2.0"],
        &["assign", "churn", "v0.1.0", "prod"],
        &["assign", "ranker", "v1.2.0", "dev"],
        // prod goes back to v0.0.1, its holder before v0.1.0.
        &["unassign", "churn", "v0.1.0", "prod"],
    ] {
        pace.write(|| andon_write(&repo, args));
    }
    repo.write("models/churn.pkl", "churn weights 3\n");
    repo.commit_all("new architecture");
    for args in [
        &["register", "churn", "--bump", "major"][..],
        &["assign", "churn", "v1.0.0", "staging"],
        // Its staging ends with it: staging goes back to v0.0.1.
        &["deregister", "churn", "v1.0.0"],
        &["deprecate", "legacy"],
    ] {
        pace.write(|| andon_write(&repo, args));
    }

    let list = repo.model_json(&["list", "-d"]);
    assert_eq!(list["churn"]["version"], "v0.1.0", "{list:#}");
    assert_eq!(stages_of(&list, "churn")["prod"], "v0.0.1", "{list:#}");
    assert_eq!(stages_of(&list, "churn")["staging"], "v0.0.1", "{list:#}");
    assert_eq!(stages_of(&list, "ranker")["dev"], "v1.2.0", "{list:#}");
    assert_eq!(list["legacy"]["active"], false, "{list:#}");
    assert_same_registry(&repo);
}

#[test]
fn tags_gto_writes_read_the_same_in_andon() {
    let repo = model_repo();
    let mut pace = Pacer::new();
    for args in [
        &["register", "churn"][..],
        &["register", "ranker", "--version", "v1.0.0"],
        &["register", "legacy"],
        &["assign", "churn", "--version", "v0.0.1", "--stage", "prod"],
        &[
            "assign",
            "churn",
            "--version",
            "v0.0.1",
            "--stage",
            "staging",
        ],
    ] {
        pace.write(|| repo.gto(args));
    }
    repo.write("models/churn.pkl", "churn weights 2\n");
    repo.write("models/ranker.onnx", "ranker 2\n");
    repo.commit_all("retrain");
    for args in [
        &["register", "churn", "--bump-minor"][..],
        &["register", "ranker", "--version", "v1.2.0"],
        &["assign", "churn", "--version", "v0.1.0", "--stage", "prod"],
        &["assign", "ranker", "--version", "v1.2.0", "--stage", "dev"],
        // gto's unassign.
        &["deprecate", "churn", "v0.1.0", "prod"],
    ] {
        pace.write(|| repo.gto(args));
    }
    repo.write("models/churn.pkl", "churn weights 3\n");
    repo.commit_all("new architecture");
    for args in [
        &["register", "churn", "--bump-major"][..],
        &[
            "assign",
            "churn",
            "--version",
            "v1.0.0",
            "--stage",
            "staging",
        ],
        // gto's deregister.
        &["deprecate", "churn", "v1.0.0"],
        &["deprecate", "legacy"],
    ] {
        pace.write(|| repo.gto(args));
    }

    let list = repo.model_json(&["list", "-d"]);
    assert_eq!(list["churn"]["version"], "v0.1.0", "{list:#}");
    assert_eq!(stages_of(&list, "churn")["prod"], "v0.0.1", "{list:#}");
    assert_eq!(stages_of(&list, "churn")["staging"], "v0.0.1", "{list:#}");
    assert_eq!(list["legacy"]["active"], false, "{list:#}");
    assert_same_registry(&repo);

    // andon carries on where gto stopped: the next counter, the next
    // version.
    let assigned = andon_write(&repo, &["assign", "ranker", "v1.0.0", "prod"]);
    assert_eq!(assigned["created"], true, "{assigned:#}");
    let registered = andon_write(&repo, &["register", "churn"]);
    assert_eq!(registered["tag"], "churn@v0.1.1", "{registered:#}");
}

#[test]
fn user_mistakes_get_clear_messages() {
    let repo = model_repo();
    andon_write(&repo, &["register", "churn"]);

    let out = repo.model(&["assign", "churn", "v9.9.9", "prod"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_contains(&stderr(&out), &["v9.9.9", "v0.0.1"]);

    let out = repo.model(&["show", "nope"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_contains(&stderr(&out), &["nope", "churn"]);

    let out = repo.model(&["register", "churn"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_contains(&stdout(&out), &["churn", "v0.0.1", "already registered"]);

    repo.write("artifacts.yaml", "churn: [type: model\n  path: {\n");
    repo.commit_all("broken artifacts.yaml");
    let out = repo.model(&["register", "churn"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_contains(&stderr(&out), &["artifacts.yaml"]);
}

#[test]
fn the_index_follows_tags_made_and_deleted_with_git() {
    let repo = model_repo();
    andon_write(&repo, &["register", "churn"]);
    assert_eq!(repo.model_json(&["list"])["churn"]["version"], "v0.0.1");

    repo.write("models/churn.pkl", "churn weights 2\n");
    repo.commit_all("retrain");
    repo.git(&[
        "tag",
        "-a",
        "churn@v0.1.0",
        "-m",
        "Registering artifact churn version v0.1.0",
    ]);
    let list = repo.model_json(&["list"]);
    assert_eq!(list["churn"]["version"], "v0.1.0", "{list:#}");

    repo.git(&["tag", "-d", "churn@v0.1.0"]);
    let list = repo.model_json(&["list"]);
    assert_eq!(list["churn"]["version"], "v0.0.1", "{list:#}");
    let history = repo.model_json(&["history", "churn"]);
    assert_eq!(history.as_array().map(Vec::len), Some(1), "{history:#}");
}
