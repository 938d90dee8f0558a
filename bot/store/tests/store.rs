//! The sled store against a real database in a temporary folder.

#![allow(clippy::unwrap_used, reason = "tests")]

// Kept beside this file's own tests in `tests/store/`, where cargo does not
// build them as binaries of their own: one test binary for the crate.
#[path = "store/inbox.rs"]
mod inbox;
#[path = "store/indexes.rs"]
mod indexes;
#[path = "store/outbox.rs"]
mod outbox;
#[path = "store/schedules.rs"]
mod schedules;

use std::path::Path;

use andon_core::action::{Artifact, KvValue};
use andon_core::policy::Denied;
use andon_core::run::{RunRecord, Status, StepRecord};
use andon_core::{Action, Annotation, AnnotationLevel, CheckRun, Conclusion, Event, EventKind};
use andon_store::{
    ArtifactStore, KvStore, RunQuery, RunStore, RunSummary, SCHEMA_VERSION, Store, StoreError,
};

fn run_of(workflow: &str, repository: &str, status: Status) -> RunRecord {
    RunRecord {
        id: 0,
        workflow: workflow.into(),
        event: Event::new(EventKind::PullRequest, repository, "a".repeat(40)),
        started_at_ms: 1_700_000_000_000,
        duration_us: 1234,
        status,
        steps: Vec::new(),
        delivery: None,
    }
}

fn record(store: &Store, workflow: &str, repository: &str, status: Status) -> u64 {
    store
        .record_run(&mut run_of(workflow, repository, status), &[])
        .unwrap()
}

/// Edit a tree with sled directly, as a crash, an old version or a newer
/// andon would have left it.
fn with_raw_tree(dir: &Path, tree: &str, edit: impl FnOnce(&sled::Tree)) {
    // The store dropped just before may hold its lock for a moment longer.
    let mut tries = 0;
    let db = loop {
        match sled::open(dir) {
            Err(error) if tries < 100 && error.to_string().contains("could not acquire lock") => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            opened => break opened.unwrap(),
        }
    };
    edit(&db.open_tree(tree).unwrap());
    db.flush().unwrap();
}

fn set_raw_schema_version(dir: &Path, version: u64) {
    with_raw_tree(dir, "meta", |meta| {
        meta.insert("schema_version", &version.to_be_bytes()[..])
            .unwrap();
    });
}

fn export_lines(store: &Store) -> Vec<String> {
    let mut out = Vec::new();
    let count = store.export(&mut out).unwrap();
    let lines: Vec<String> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len() as u64, count);
    lines
}

fn entries_in(store: &Store, tree: &str) -> usize {
    let tag = format!("{{\"tree\":\"{tree}\",");
    export_lines(store)
        .iter()
        .filter(|line| line.starts_with(&tag))
        .count()
}

#[test]
fn store_can_be_shared_between_threads() {
    fn shareable<T: Clone + Send + Sync>() {}
    shareable::<Store>();
}

#[test]
fn run_ids_start_at_one_and_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut run = run_of("size", "o/r", Status::Success);
    assert_eq!(store.record_run(&mut run, &[]).unwrap(), 1);
    assert_eq!(run.id, 1);
    assert_eq!(record(&store, "size", "o/r", Status::Success), 2);
    drop(store);

    let store = Store::open(dir.path()).unwrap();
    assert_eq!(record(&store, "size", "o/r", Status::Success), 3);
    assert_eq!(store.run(1).unwrap().unwrap().id, 1);
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
}

#[test]
fn concurrent_runs_get_distinct_ids() {
    let store = Store::open_temporary().unwrap();
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let store = store.clone();
            std::thread::spawn(move || {
                (0..20)
                    .map(|_| record(&store, "w", "o/r", Status::Success))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut ids: Vec<u64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, (1..=40).collect::<Vec<_>>());
}

#[test]
fn kv_writes_are_recorded_with_their_run() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let writes = vec![
        ("size".to_owned(), "last".to_owned(), b"XS".to_vec()),
        ("data-check".to_owned(), "rows".to_owned(), vec![0xff, 0]),
    ];
    let id = store
        .record_run(&mut run_of("w", "o/r", Status::Success), &writes)
        .unwrap();
    drop(store);

    let store = Store::open(dir.path()).unwrap();
    assert!(store.run(id).unwrap().is_some());
    assert_eq!(store.kv_get("size", "last").unwrap(), Some(b"XS".to_vec()));
    assert_eq!(
        store.kv_get("data-check", "rows").unwrap(),
        Some(vec![0xff, 0])
    );
}

#[test]
fn a_refused_kv_write_records_nothing_and_spends_no_id() {
    let store = Store::open_temporary().unwrap();
    let writes = vec![
        ("ok".to_owned(), "k".to_owned(), b"v".to_vec()),
        ("bad\0ns".to_owned(), "k".to_owned(), b"v".to_vec()),
    ];
    let mut run = run_of("w", "o/r", Status::Success);
    let error = store.record_run(&mut run, &writes).unwrap_err();
    assert!(
        matches!(error, StoreError::InvalidNamespace { .. }),
        "{error}"
    );
    assert!(!error.is_transient());
    assert_eq!(run.id, 0);
    assert_eq!(store.kv_get("ok", "k").unwrap(), None);
    assert!(store.runs(&RunQuery::default()).unwrap().is_empty());
    assert_eq!(record(&store, "w", "o/r", Status::Success), 1);
}

#[test]
fn a_run_that_fails_to_commit_leaves_no_kv_writes_behind() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path()).unwrap());
    // A damaged id counter makes the transaction abort after its kv writes.
    with_raw_tree(dir.path(), "meta", |meta| {
        meta.insert("last_run_id", &b"bad"[..]).unwrap();
    });

    let store = Store::open(dir.path()).unwrap();
    let writes = [("ns".to_owned(), "k".to_owned(), b"v".to_vec())];
    let error = store
        .record_run(&mut run_of("w", "o/r", Status::Success), &writes)
        .unwrap_err();
    assert!(matches!(error, StoreError::Corrupt { .. }), "{error}");
    assert_eq!(store.kv_get("ns", "k").unwrap(), None);
    assert!(store.runs(&RunQuery::default()).unwrap().is_empty());
}

#[test]
fn kv_namespaces_are_separate() {
    let store = Store::open_temporary().unwrap();
    store.kv_set("a", "b\0c", b"1").unwrap();
    store.kv_set("a\u{1}", "k", b"2").unwrap();
    store.kv_set("a", "k", b"3").unwrap();
    store.kv_set("a", "k", b"4").unwrap();
    assert_eq!(store.kv_get("a", "b\0c").unwrap(), Some(b"1".to_vec()));
    assert_eq!(store.kv_get("a\u{1}", "k").unwrap(), Some(b"2".to_vec()));
    assert_eq!(store.kv_get("a", "k").unwrap(), Some(b"4".to_vec()));
    assert_eq!(store.kv_get("b", "k").unwrap(), None);
    assert!(matches!(
        store.kv_get("a\0b", "c"),
        Err(StoreError::InvalidNamespace { .. })
    ));
}

/// Check that `query` lists exactly the runs `expected`, in that order.
fn check_runs(store: &Store, query: &RunQuery, expected: &[u64]) {
    let ids: Vec<u64> = store.runs(query).unwrap().iter().map(|s| s.id).collect();
    assert_eq!(ids, expected, "{query:?}");
}

#[test]
fn runs_are_listed_newest_first_with_filters_and_paging() {
    let store = Store::open_temporary().unwrap();
    for (workflow, repository, status) in [
        ("size", "o/a", Status::Success), // 1
        ("data", "o/a", Status::Failure), // 2
        ("size", "o/b", Status::Failure), // 3
        ("size", "o/a", Status::Error),   // 4
        ("data", "o/b", Status::Success), // 5
        ("size", "o/a", Status::Success), // 6
    ] {
        record(&store, workflow, repository, status);
    }
    let query = |limit| RunQuery {
        limit,
        ..RunQuery::default()
    };

    check_runs(&store, &RunQuery::default(), &[6, 5, 4, 3, 2, 1]);
    check_runs(&store, &query(0), &[]);
    check_runs(&store, &query(2), &[6, 5]);
    check_runs(
        &store,
        &RunQuery {
            before: Some(5),
            ..query(2)
        },
        &[4, 3],
    );
    check_runs(
        &store,
        &RunQuery {
            before: Some(3),
            ..query(2)
        },
        &[2, 1],
    );
    check_runs(
        &store,
        &RunQuery {
            before: Some(1),
            ..query(2)
        },
        &[],
    );
    check_runs(
        &store,
        &RunQuery {
            workflow: Some("size".into()),
            ..RunQuery::default()
        },
        &[6, 4, 3, 1],
    );
    check_runs(
        &store,
        &RunQuery {
            status: Some(Status::Failure),
            ..RunQuery::default()
        },
        &[3, 2],
    );
    check_runs(
        &store,
        &RunQuery {
            repository: Some("o/a".into()),
            workflow: Some("size".into()),
            before: Some(6),
            ..query(1)
        },
        &[4],
    );
    // Repository and workflow together read the composite indexes.
    let combined = |repository: &str, workflow: &str, status| RunQuery {
        repository: Some(repository.into()),
        workflow: Some(workflow.into()),
        status,
        ..RunQuery::default()
    };
    check_runs(&store, &combined("o/a", "size", None), &[6, 4, 1]);
    check_runs(
        &store,
        &combined("o/a", "size", Some(Status::Success)),
        &[6, 1],
    );
    check_runs(
        &store,
        &combined("o/b", "data", Some(Status::Success)),
        &[5],
    );
    check_runs(&store, &combined("o/b", "data", Some(Status::Failure)), &[]);
    check_runs(&store, &combined("o/a", "nothing", None), &[]);
    check_runs(
        &store,
        &RunQuery {
            before: Some(6),
            ..combined("o/a", "size", Some(Status::Success))
        },
        &[1],
    );
}

/// A store of schema 4 has no composite indexes: opening it builds them
/// from the runs, so the combined filters find the runs recorded before.
#[test]
fn version_4_gains_the_composite_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    record(&store, "size", "o/a", Status::Success);
    record(&store, "size", "o/a", Status::Failure);
    record(&store, "data", "o/a", Status::Success);
    drop(store);
    with_raw_tree(dir.path(), "run_facets", |facets| {
        let composite: Vec<_> = facets
            .iter()
            .keys()
            .map(Result::unwrap)
            .filter(|key| matches!(key.first(), Some(b'p' | b't')))
            .collect();
        assert_eq!(composite.len(), 6, "two composite keys per run");
        for key in composite {
            facets.remove(key).unwrap();
        }
    });
    set_raw_schema_version(dir.path(), 4);

    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let query = RunQuery {
        repository: Some("o/a".into()),
        workflow: Some("size".into()),
        ..RunQuery::default()
    };
    check_runs(&store, &query, &[2, 1]);
    check_runs(
        &store,
        &RunQuery {
            status: Some(Status::Failure),
            ..query
        },
        &[2],
    );
}

#[test]
fn a_summary_says_what_ran_and_how_it_ended() {
    let store = Store::open_temporary().unwrap();
    let mut run = sample_run();
    store.record_run(&mut run, &[]).unwrap();
    let summaries = store.runs(&RunQuery::default()).unwrap();
    assert_eq!(
        summaries,
        [RunSummary {
            id: 1,
            workflow: "data-quality".into(),
            repository: "acme/shop".into(),
            event: EventKind::PullRequest,
            number: Some(42),
            status: Status::Failure,
            started_at_ms: 1_700_000_000_000,
            duration_us: 5_000,
            step_count: 2,
        }]
    );
    let json = serde_json::to_value(&summaries[0]).unwrap();
    assert_eq!(json["event"], "pull_request");
    assert_eq!(json["status"], "failure");
}

fn sample_run() -> RunRecord {
    let mut event = Event::new(EventKind::PullRequest, "acme/shop", "b".repeat(40));
    event.number = Some(42);
    event.action = Some("opened".into());
    event.labels = vec!["data".into()];
    let check = CheckRun {
        name: "orders".into(),
        conclusion: Conclusion::Failure,
        title: "2 checks failed".into(),
        summary: "null ids".into(),
        text: None,
        annotations: vec![Annotation {
            path: "data/orders.csv".into(),
            start_line: 3,
            end_line: 3,
            level: AnnotationLevel::Failure,
            title: None,
            message: "id is null".into(),
        }],
    };
    RunRecord {
        id: 0,
        workflow: "data-quality".into(),
        event,
        started_at_ms: 1_700_000_000_000,
        duration_us: 5_000,
        status: Status::Failure,
        steps: vec![
            StepRecord {
                id: "size".into(),
                plugin: "size".into(),
                status: Status::Success,
                duration_us: 40,
                fuel_used: Some(1_000),
                memory_peak: 65_536,
                error: None,
                log: "measured 3 files\n".into(),
                actions: vec![
                    Action::AddLabel {
                        label: "size/XS".into(),
                        number: None,
                    },
                    Action::KvSet {
                        key: "last".into(),
                        value: KvValue(vec![0xff, 0x01]),
                    },
                ],
                denied: vec![Denied {
                    action: Action::Comment {
                        body: "hi".into(),
                        number: None,
                    },
                    reason: "step `size` was not granted `comment`".into(),
                }],
                outputs: Default::default(),
                plugin_version: None,
                plugin_sha256: None,
                inputs: Vec::new(),
            },
            StepRecord {
                id: "orders".into(),
                plugin: "data-check".into(),
                status: Status::Failure,
                duration_us: 4_000,
                fuel_used: None,
                memory_peak: 1 << 20,
                error: None,
                log: String::new(),
                actions: vec![
                    Action::CheckRun(check),
                    // `data` is not part of the record: the artifact store keeps it.
                    Action::Artifact(Artifact {
                        name: "report.json".into(),
                        media_type: "application/json".into(),
                        data: Vec::new(),
                        sha256: "00".repeat(32),
                        size: 2,
                    }),
                    Action::Comment {
                        body: "**2 checks failed**".into(),
                        number: Some(7),
                    },
                    Action::Fail {
                        reason: "orders failed".into(),
                    },
                ],
                denied: Vec::new(),
                outputs: [(
                    "results".to_string(),
                    serde_json::json!([{ "check": "unique", "column": "id", "failed_count": 3 }]),
                )]
                .into_iter()
                .collect(),
                plugin_version: Some("0.1.0".into()),
                plugin_sha256: Some("ab".repeat(32)),
                inputs: vec![andon_core::run::DatasetInput {
                    source: "head:data/orders.csv".into(),
                    content_id: "git:5d308e1d060b0c387d452cf4747f89ecb9935851".into(),
                }],
            },
        ],
        delivery: None,
    }
}

#[test]
fn a_run_round_trips_with_steps_actions_and_denials() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut run = sample_run();
    let id = store.record_run(&mut run, &[]).unwrap();
    drop(store);

    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.run(id).unwrap(), Some(run));
    assert_eq!(store.run(id + 1).unwrap(), None);
}

#[test]
fn a_newer_schema_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path()).unwrap());
    set_raw_schema_version(dir.path(), SCHEMA_VERSION + 1);

    let error = Store::open(dir.path()).unwrap_err();
    assert!(
        matches!(error, StoreError::SchemaTooNew { found, supported }
            if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION),
        "{error:?}"
    );
    assert!(!error.is_transient());
    assert_eq!(
        error.to_string(),
        format!(
            "the store has schema version {} but this andon supports up to {SCHEMA_VERSION}; upgrade andon or use another data directory",
            SCHEMA_VERSION + 1
        )
    );
}

#[test]
fn version_0_is_migrated_to_the_current_schema() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut run = sample_run();
    store.record_run(&mut run, &[]).unwrap();
    drop(store);
    set_raw_schema_version(dir.path(), 0);

    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(store.run(1).unwrap(), Some(run));
    drop(store);
    // The migrated version was written down, not just assumed.
    with_raw_tree(dir.path(), "meta", |meta| {
        let version = meta.get("schema_version").unwrap().unwrap();
        assert_eq!(version.as_ref(), SCHEMA_VERSION.to_be_bytes());
    });
}

#[test]
fn artifacts_are_stored_once_by_content() {
    let store = Store::open_temporary().unwrap();
    let first = store.put_artifact(b"report").unwrap();
    let second = store.put_artifact(b"report").unwrap();
    let other = store.put_artifact(b"other").unwrap();
    assert_eq!(first, second);
    assert_ne!(first, other);
    // sha256("report"), as `printf report | sha256sum` prints it.
    assert_eq!(
        first,
        "845e91831319e89c4d656bdb80c278ac09a7230d61e5dfd2e1b1fbb436ac8917"
    );
    assert_eq!(store.artifact(&first).unwrap(), Some(b"report".to_vec()));
    assert_eq!(
        store.artifact(&first.to_uppercase()).unwrap(),
        Some(b"report".to_vec())
    );
    assert_eq!(store.artifact(&"0".repeat(64)).unwrap(), None);
    assert_eq!(entries_in(&store, "artifacts"), 2);
    assert!(matches!(
        store.artifact("not-a-digest"),
        Err(StoreError::InvalidDigest { .. })
    ));
}

#[test]
fn a_corrupt_record_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    record(&store, "w", "o/r", Status::Success);
    record(&store, "w", "o/r", Status::Success);
    drop(store);
    let key = 1u64.to_be_bytes();
    with_raw_tree(dir.path(), "runs", |runs| {
        runs.insert(&key[..], &b"{not json"[..]).unwrap();
    });

    let store = Store::open(dir.path()).unwrap();
    let error = store.run(1).unwrap_err();
    assert!(
        matches!(&error, StoreError::Corrupt { what } if what.starts_with("run 1: ")),
        "{error}"
    );
    assert!(!error.is_transient());
    assert!(store.run(2).unwrap().is_some());
    drop(store);

    with_raw_tree(dir.path(), "run_index", |index| {
        index.insert(&key[..], &b"[]"[..]).unwrap();
    });
    let store = Store::open(dir.path()).unwrap();
    let error = store.runs(&RunQuery::default()).unwrap_err();
    assert!(
        matches!(&error, StoreError::Corrupt { what } if what.starts_with("run summary 1: ")),
        "{error}"
    );
    check_runs(
        &store,
        &RunQuery {
            limit: 1,
            ..RunQuery::default()
        },
        &[2],
    );
}

#[test]
fn export_and_import_round_trip_into_a_fresh_store() {
    let source = Store::open_temporary().unwrap();
    let mut run = sample_run();
    let writes = [("size".to_owned(), "last".to_owned(), vec![0, 1, 2])];
    source.record_run(&mut run, &writes).unwrap();
    record(&source, "w", "o/r", Status::Success);
    let digest = source.put_artifact(b"report").unwrap();
    let mut export = Vec::new();
    let exported = source.export(&mut export).unwrap();
    assert!(exported >= 7, "{exported}");
    assert!(
        String::from_utf8(export.clone())
            .unwrap()
            .starts_with("{\"tree\":\"meta\",")
    );

    let dir = tempfile::tempdir().unwrap();
    let target = Store::open(dir.path()).unwrap();
    assert_eq!(target.import(export.as_slice()).unwrap(), exported);
    assert_eq!(export_lines(&target), export_lines(&source));
    drop(target);

    let target = Store::open(dir.path()).unwrap();
    assert_eq!(target.run(1).unwrap(), Some(run));
    assert_eq!(
        target.runs(&RunQuery::default()).unwrap(),
        source.runs(&RunQuery::default()).unwrap()
    );
    assert_eq!(target.kv_get("size", "last").unwrap(), Some(vec![0, 1, 2]));
    assert_eq!(target.artifact(&digest).unwrap(), Some(b"report".to_vec()));
    // The id counter came along: ids are not reused after an import.
    assert_eq!(record(&target, "w", "o/r", Status::Success), 3);
}

#[test]
fn import_refuses_a_used_store_and_a_newer_schema() {
    let source = Store::open_temporary().unwrap();
    record(&source, "w", "o/r", Status::Success);
    let mut export = Vec::new();
    source.export(&mut export).unwrap();

    let used = Store::open_temporary().unwrap();
    used.kv_set("ns", "k", b"v").unwrap();
    assert!(matches!(
        used.import(export.as_slice()),
        Err(StoreError::NotEmpty)
    ));

    let newer = format!(
        "{{\"tree\":\"meta\",\"key\":\"{}\",\"value\":\"{}\"}}\n",
        hex::encode("schema_version"),
        hex::encode((SCHEMA_VERSION + 1).to_be_bytes())
    );
    let fresh = Store::open_temporary().unwrap();
    assert!(matches!(
        fresh.import(newer.as_bytes()),
        Err(StoreError::SchemaTooNew { .. })
    ));

    let fresh = Store::open_temporary().unwrap();
    let error = fresh
        .import(&b"{\"tree\":\"nope\",\"key\":\"00\",\"value\":\"00\"}\n"[..])
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "corrupt data in the store: import line 1: unknown tree \"nope\""
    );
}

#[test]
fn a_store_in_use_is_reported_as_locked_and_transient() {
    let dir = tempfile::tempdir().unwrap();
    let _store = Store::open(dir.path()).unwrap();
    let error = Store::open(dir.path()).unwrap_err();
    assert!(matches!(error, StoreError::Locked { .. }), "{error:?}");
    assert!(error.is_transient());
}
