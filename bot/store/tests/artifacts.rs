//! Artifact blobs (inline and as files) and their lineage index, against a
//! real sled database in a temporary folder.

#![allow(clippy::unwrap_used, reason = "tests")]

use std::io::Read;
use std::path::{Path, PathBuf};

use andon_core::action::Artifact;
use andon_core::run::{DatasetInput, RunRecord, Status, StepRecord};
use andon_core::{Action, Event, EventKind};
use andon_store::{
    ArtifactStore, ArtifactVersion, INLINE_MAX, InboxStore, LineageStore, NewDelivery, RunStore,
    Store, StoreError, blob_path,
};
use sha2::{Digest, Sha256};

fn sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Every file under `dir`, recursively, sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Deterministic bytes larger than the inline limit.
fn big(seed: u8) -> Vec<u8> {
    (0..INLINE_MAX * 3)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[test]
fn a_large_blob_is_one_file_named_by_its_digest() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let data = big(1);
    let digest = store.put_artifact(&data).unwrap();
    assert_eq!(digest, sha256(&data));
    let path = dir
        .path()
        .join("artifacts/sha256")
        .join(&digest[..2])
        .join(&digest);
    assert_eq!(blob_path(dir.path(), &digest), path);
    assert_eq!(std::fs::read(&path).unwrap(), data);

    // Identical content is stored once, and no temp file is left behind.
    assert_eq!(store.put_artifact(&data).unwrap(), digest);
    let other = store.put_artifact(&big(2)).unwrap();
    assert_ne!(other, digest);
    let files = files_under(&dir.path().join("artifacts"));
    assert_eq!(
        files,
        vec![
            blob_path(dir.path(), &digest),
            blob_path(dir.path(), &other)
        ]
        .into_iter()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
    );

    assert_eq!(store.artifact(&digest).unwrap(), Some(data.clone()));
    assert_eq!(
        store.artifact(&digest.to_uppercase()).unwrap(),
        Some(data.clone())
    );
    let mut blob = store.open_artifact(&digest).unwrap().unwrap();
    assert_eq!(blob.size, data.len() as u64);
    let mut read = Vec::new();
    blob.reader.read_to_end(&mut read).unwrap();
    assert_eq!(read, data);
}

#[test]
fn a_small_blob_stays_inline_and_makes_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let data = vec![7u8; INLINE_MAX];
    let digest = store.put_artifact(&data).unwrap();
    assert_eq!(store.artifact(&digest).unwrap(), Some(data));
    assert!(files_under(&dir.path().join("artifacts")).is_empty());
    // One byte more is a file.
    let data = vec![7u8; INLINE_MAX + 1];
    let digest = store.put_artifact(&data).unwrap();
    assert!(blob_path(dir.path(), &digest).is_file());
}

#[test]
fn blobs_survive_reopening_and_unknown_digests_are_none() {
    let dir = tempfile::tempdir().unwrap();
    let (small, large) = {
        let store = Store::open(dir.path()).unwrap();
        let small = store.put_artifact(b"report").unwrap();
        let large = store.put_artifact(&big(3)).unwrap();
        store.flush().unwrap();
        (small, large)
    };
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.artifact(&small).unwrap(), Some(b"report".to_vec()));
    assert_eq!(store.artifact(&large).unwrap(), Some(big(3)));
    assert!(store.open_artifact(&"0".repeat(64)).unwrap().is_none());
    assert!(matches!(
        store.open_artifact("xyz"),
        Err(StoreError::InvalidDigest { .. })
    ));
}

#[test]
fn a_recorded_blob_whose_file_vanished_is_corrupt_not_missing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let digest = store.put_artifact(&big(4)).unwrap();
    std::fs::remove_file(blob_path(dir.path(), &digest)).unwrap();
    let error = store.artifact(&digest).unwrap_err();
    assert!(matches!(error, StoreError::Corrupt { .. }), "{error}");
}

#[test]
fn a_temporary_store_keeps_file_blobs_too() {
    let store = Store::open_temporary().unwrap();
    let digest = store.put_artifact(&big(5)).unwrap();
    assert_eq!(store.artifact(&digest).unwrap(), Some(big(5)));
}

fn artifact(name: &str, data: &[u8]) -> Action {
    Action::Artifact(Artifact {
        name: name.into(),
        media_type: "text/csv".into(),
        data: Vec::new(),
        sha256: sha256(data),
        size: data.len() as u64,
    })
}

fn step(id: &str, actions: Vec<Action>, inputs: &[(&str, &str)]) -> StepRecord {
    StepRecord {
        id: id.into(),
        plugin: "etl".into(),
        status: Status::Success,
        duration_us: 10,
        fuel_used: None,
        memory_peak: 0,
        error: None,
        log: String::new(),
        actions,
        denied: Vec::new(),
        outputs: Default::default(),
        plugin_version: Some("0.1.0".into()),
        plugin_sha256: Some("cd".repeat(32)),
        inputs: inputs
            .iter()
            .map(|(source, content_id)| DatasetInput {
                source: (*source).into(),
                content_id: (*content_id).into(),
            })
            .collect(),
    }
}

fn run(workflow: &str, status: Status, started_at_ms: u64, steps: Vec<StepRecord>) -> RunRecord {
    RunRecord {
        id: 0,
        workflow: workflow.into(),
        event: Event::new(EventKind::Schedule, "octo/data", "e".repeat(40)),
        started_at_ms,
        duration_us: 100,
        status,
        steps,
        delivery: None,
    }
}

fn record(store: &Store, mut run: RunRecord) -> u64 {
    store.record_run(&mut run, &[]).unwrap()
}

fn brief(v: &ArtifactVersion) -> (String, u64, u64, String) {
    (v.name.clone(), v.version, v.run_id, v.step.clone())
}

#[test]
fn lineage_lists_every_version_newest_first_with_its_inputs() {
    let store = Store::open_temporary().unwrap();
    let first = record(
        &store,
        run(
            "nightly-etl",
            Status::Success,
            1_000,
            vec![
                step(
                    "orders",
                    vec![artifact("orders_clean", b"v1")],
                    &[("head:data/orders.csv", "git:aaaa")],
                ),
                step(
                    "totals",
                    vec![artifact("totals", b"t1")],
                    &[(
                        "artifact:orders_clean",
                        &format!("sha256:{}", sha256(b"v1")),
                    )],
                ),
            ],
        ),
    );
    // A run without artifacts is read and skipped.
    record(&store, run("review", Status::Success, 1_500, Vec::new()));
    let third = record(
        &store,
        run(
            "nightly-etl",
            Status::Failure,
            2_000,
            vec![step(
                "orders",
                vec![
                    artifact("orders_clean", b"v2"),
                    artifact("orders_clean", b"v3"),
                ],
                &[("head:data/orders.csv", "git:bbbb")],
            )],
        ),
    );

    let versions = store.artifact_versions("orders_clean", 10).unwrap();
    assert_eq!(
        versions.iter().map(brief).collect::<Vec<_>>(),
        vec![
            ("orders_clean".into(), 3, third, "orders".into()),
            ("orders_clean".into(), 2, third, "orders".into()),
            ("orders_clean".into(), 1, first, "orders".into()),
        ]
    );
    let newest = &versions[0];
    assert_eq!(newest.sha256, sha256(b"v3"));
    assert_eq!(newest.size, 2);
    assert_eq!(newest.media_type, "text/csv");
    assert_eq!(newest.run_status, Status::Failure);
    assert_eq!(newest.workflow, "nightly-etl");
    assert_eq!(newest.plugin, "etl");
    assert_eq!(newest.plugin_version.as_deref(), Some("0.1.0"));
    assert_eq!(newest.repository, "octo/data");
    assert_eq!(newest.revision, "e".repeat(40));
    assert_eq!(newest.created_at_ms, 2_000);
    assert_eq!(
        newest.inputs,
        vec![DatasetInput {
            source: "head:data/orders.csv".into(),
            content_id: "git:bbbb".into(),
        }]
    );
    assert_eq!(store.artifact_versions("orders_clean", 1).unwrap().len(), 1);
    assert!(store.artifact_versions("orders", 10).unwrap().is_empty());

    let summaries = store.artifact_summaries().unwrap();
    let names: Vec<(&str, u64, u64)> = summaries
        .iter()
        .map(|s| (s.name.as_str(), s.versions, s.latest.version))
        .collect();
    assert_eq!(names, vec![("orders_clean", 3, 3), ("totals", 1, 1)]);
    assert_eq!(
        summaries[1].latest.inputs[0].source,
        "artifact:orders_clean"
    );
}

#[test]
fn the_index_reads_each_run_once_and_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    record(
        &store,
        run(
            "w",
            Status::Success,
            1,
            vec![step("s", vec![artifact("a", b"1")], &[])],
        ),
    );
    assert_eq!(store.index_artifacts().unwrap(), 1);
    assert_eq!(store.index_artifacts().unwrap(), 0);
    record(
        &store,
        run(
            "w",
            Status::Success,
            2,
            vec![step("s", vec![artifact("a", b"2")], &[])],
        ),
    );
    drop(store);

    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.index_artifacts().unwrap(), 1);
    let summaries = store.artifact_summaries().unwrap();
    assert_eq!(summaries.len(), 1);
    assert_eq!(summaries[0].versions, 2);
    assert_eq!(summaries[0].latest.sha256, sha256(b"2"));
}

#[test]
fn concurrent_readers_never_count_a_version_twice() {
    let store = Store::open_temporary().unwrap();
    for i in 0..200u64 {
        record(
            &store,
            run(
                "w",
                Status::Success,
                i,
                vec![step("s", vec![artifact("a", &i.to_be_bytes())], &[])],
            ),
        );
    }
    let indexed: u64 = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| store.index_artifacts().unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(indexed, 200);
    let versions = store.artifact_versions("a", 1000).unwrap();
    assert_eq!(versions.len(), 200);
    let numbers: Vec<u64> = versions.iter().map(|v| v.version).collect();
    assert_eq!(numbers, (1..=200).rev().collect::<Vec<_>>());
    assert_eq!(store.artifact_summaries().unwrap()[0].versions, 200);
}

#[test]
fn runs_committed_with_a_delivery_are_indexed_too() {
    let store = Store::open_temporary().unwrap();
    let accepted = store
        .accept(&NewDelivery {
            id: "d-1".into(),
            event: "pull_request".into(),
            received_at_ms: 1,
            body: b"{}".to_vec(),
        })
        .unwrap();
    let (andon_store::Accepted::New { seq } | andon_store::Accepted::Duplicate { seq }) = accepted;
    let mut runs = vec![run(
        "data",
        Status::Success,
        5,
        vec![step("diff", vec![artifact("diff.json", b"{}")], &[])],
    )];
    let ids = store.commit_delivery(seq, &mut runs, &[], &[], 5).unwrap();
    let versions = store.artifact_versions("diff.json", 10).unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].run_id, ids[0]);
}
