//! The inbox: acceptance with dedup, durability, processing state, and the
//! one transaction that records what processing a delivery produced.

use std::sync::{Arc, Barrier};

use andon_core::effect::{Effect, PlannedEffect};
use andon_core::run::{RunRecord, Status};
use andon_store::{
    Accepted, DeliveryQuery, DeliveryRecord, DeliveryState, DeliveryStateKind, InboxStore, KvStore,
    NewDelivery, OutboxState, OutboxStore, RunQuery, RunStore, Store, StoreError,
};

use super::{entries_in, export_lines, run_of, with_raw_tree};

const T0: u64 = 1_700_000_000_000;

pub(crate) fn delivery(id: &str) -> NewDelivery {
    NewDelivery {
        id: id.into(),
        event: "pull_request".into(),
        received_at_ms: T0,
        body: format!("{{\"delivery\":\"{id}\"}}").into_bytes(),
    }
}

pub(crate) fn effect(key: &str) -> PlannedEffect {
    PlannedEffect {
        key: key.into(),
        repository: "o/r".into(),
        installation: Some(7),
        effect: Effect::Label {
            number: 1,
            label: key.into(),
            present: true,
        },
    }
}

fn accept_new(store: &Store, id: &str) -> u64 {
    match store.accept(&delivery(id)).unwrap() {
        Accepted::New { seq } => seq,
        duplicate => panic!("{id} was taken for a duplicate: {duplicate:?}"),
    }
}

fn seqs(records: &[DeliveryRecord]) -> Vec<u64> {
    records.iter().map(|r| r.seq).collect()
}

fn state_of(store: &Store, seq: u64) -> DeliveryState {
    store.delivery(seq).unwrap().unwrap().state
}

fn outbox_keys(store: &Store) -> Vec<String> {
    let mut keys: Vec<String> = store
        .outbox_items(usize::MAX, None)
        .unwrap()
        .into_iter()
        .map(|item| item.planned.key)
        .collect();
    keys.sort();
    keys
}

#[test]
fn a_delivery_sent_twice_is_stored_once() {
    let store = Store::open_temporary().unwrap();
    assert_eq!(
        store.accept(&delivery("a")).unwrap(),
        Accepted::New { seq: 1 }
    );
    let again = NewDelivery {
        body: b"another body".to_vec(),
        ..delivery("a")
    };
    assert_eq!(
        store.accept(&again).unwrap(),
        Accepted::Duplicate { seq: 1 }
    );
    assert_eq!(store.accept(&delivery("b")).unwrap().seq(), 2);

    assert_eq!(
        store.delivery(1).unwrap(),
        Some(DeliveryRecord {
            seq: 1,
            id: "a".into(),
            event: "pull_request".into(),
            received_at_ms: T0,
            size: 16,
            state: DeliveryState::Pending,
            attempts: 0,
            last_error: None,
        })
    );
    assert_eq!(
        store.delivery_body(1).unwrap(),
        Some(b"{\"delivery\":\"a\"}".to_vec())
    );
    assert_eq!(store.delivery(3).unwrap(), None);
    assert_eq!(store.delivery_body(3).unwrap(), None);
    assert_eq!(entries_in(&store, "deliveries"), 2);
    assert_eq!(entries_in(&store, "delivery_bodies"), 2);
    assert_eq!(store.inbox_depth().unwrap(), 2);
}

#[test]
fn a_delivery_without_an_id_is_refused() {
    let store = Store::open_temporary().unwrap();
    let error = store.accept(&delivery("")).unwrap_err();
    assert!(
        matches!(error, StoreError::InvalidRequest { .. }),
        "{error}"
    );
    assert_eq!(store.inbox_depth().unwrap(), 0);
}

#[test]
fn synced_deliveries_survive_reopening_and_stay_deduplicated() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    for id in ["a", "b", "c"] {
        accept_new(&store, id);
    }
    store.sync().unwrap();
    drop(store);

    let store = Store::open(dir.path()).unwrap();
    assert_eq!(seqs(&store.pending_deliveries(10).unwrap()), [1, 2, 3]);
    assert_eq!(
        store.delivery_body(2).unwrap(),
        Some(b"{\"delivery\":\"b\"}".to_vec())
    );
    assert_eq!(
        store.accept(&delivery("b")).unwrap(),
        Accepted::Duplicate { seq: 2 }
    );
    assert_eq!(accept_new(&store, "d"), 4);
}

/// Set by the parent test for the child process it starts.
const CRASH_DIR: &str = "ANDON_STORE_TEST_CRASH_DIR";

/// In a child process (see below): accept, sync, then die without running
/// any destructor, as `kill -9` right after the `202` would.
#[test]
fn crash_child_accepts_syncs_and_exits_abruptly() {
    let Some(dir) = std::env::var_os(CRASH_DIR) else {
        return;
    };
    let store = Store::open(std::path::Path::new(&dir)).unwrap();
    for n in 0..20 {
        accept_new(&store, &format!("crash-{n}"));
    }
    store.sync().unwrap();
    std::process::exit(42);
}

#[test]
fn an_acknowledged_delivery_survives_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "inbox::crash_child_accepts_syncs_and_exits_abruptly",
            "--test-threads=1",
        ])
        .env(CRASH_DIR, dir.path())
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(42), "the child did not reach its exit");

    let store = Store::open(dir.path()).unwrap();
    let pending = store.pending_deliveries(100).unwrap();
    assert_eq!(seqs(&pending), (1..=20).collect::<Vec<_>>());
    assert_eq!(pending[19].id, "crash-19");
}

#[test]
fn concurrent_acknowledgements_share_flushes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let before = store.flush_count();
    let threads = 32;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|n| {
            let (store, barrier) = (store.clone(), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                let seq = accept_new(&store, &format!("d-{n}"));
                store.sync().unwrap();
                seq
            })
        })
        .collect();
    let mut accepted: Vec<u64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    accepted.sort_unstable();
    assert_eq!(accepted, (1..=32).collect::<Vec<_>>());
    let flushes = store.flush_count() - before;
    assert!((1..32).contains(&flushes), "{flushes} flushes for 32 syncs");
    drop(store);

    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.inbox_depth().unwrap(), 32);
}

#[test]
fn record_run_flushes_through_group_commit() {
    let store = Store::open_temporary().unwrap();
    let before = store.flush_count();
    store
        .record_run(&mut run_of("w", "o/r", Status::Success), &[])
        .unwrap();
    assert_eq!(store.flush_count(), before + 1);
}

#[test]
fn pending_deliveries_come_oldest_first_without_finished_ones() {
    let store = Store::open_temporary().unwrap();
    for id in ["a", "b", "c", "d", "e"] {
        accept_new(&store, id);
    }
    store
        .finish_delivery(
            2,
            DeliveryState::Ignored {
                reason: "event not handled".into(),
            },
        )
        .unwrap();
    store.commit_delivery(4, &mut [], &[], &[], T0).unwrap();

    assert_eq!(seqs(&store.pending_deliveries(10).unwrap()), [1, 3, 5]);
    assert_eq!(seqs(&store.pending_deliveries(2).unwrap()), [1, 3]);
    assert!(store.pending_deliveries(0).unwrap().is_empty());
    assert_eq!(store.inbox_depth().unwrap(), 3);
    assert_eq!(
        state_of(&store, 4),
        DeliveryState::Done { runs: Vec::new() }
    );
}

#[test]
fn failed_attempts_are_counted_until_the_delivery_is_finished() {
    let store = Store::open_temporary().unwrap();
    let seq = accept_new(&store, "a");
    assert_eq!(store.retry_delivery(seq, "github timed out").unwrap(), 1);
    assert_eq!(store.retry_delivery(seq, "git fetch failed").unwrap(), 2);
    let record = store.delivery(seq).unwrap().unwrap();
    assert_eq!(record.attempts, 2);
    assert_eq!(record.last_error.as_deref(), Some("git fetch failed"));
    assert_eq!(record.state, DeliveryState::Pending);
    assert_eq!(seqs(&store.pending_deliveries(10).unwrap()), [seq]);

    let failed = DeliveryState::Failed {
        error: "gave up after 2 attempts".into(),
    };
    store.finish_delivery(seq, failed.clone()).unwrap();
    assert_eq!(state_of(&store, seq), failed);
    assert_eq!(store.inbox_depth().unwrap(), 0);

    let check_already = |error: StoreError| {
        assert!(
            matches!(error, StoreError::AlreadyProcessed { seq: s } if s == seq),
            "{error}"
        );
    };
    check_already(store.retry_delivery(seq, "again").unwrap_err());
    check_already(
        store
            .finish_delivery(seq, DeliveryState::Done { runs: Vec::new() })
            .unwrap_err(),
    );
    assert_eq!(state_of(&store, seq), failed);
    assert_eq!(store.delivery(seq).unwrap().unwrap().attempts, 2);
}

#[test]
fn finishing_needs_a_pending_delivery_and_a_final_state() {
    let store = Store::open_temporary().unwrap();
    let seq = accept_new(&store, "a");
    let error = store
        .finish_delivery(seq, DeliveryState::Pending)
        .unwrap_err();
    assert!(
        matches!(error, StoreError::InvalidRequest { .. }),
        "{error}"
    );
    let error = store
        .finish_delivery(9, DeliveryState::Done { runs: Vec::new() })
        .unwrap_err();
    assert_eq!(error.to_string(), "no delivery 9 in the store");
    assert!(!error.is_transient());
    let error = store.retry_delivery(9, "x").unwrap_err();
    assert!(
        matches!(error, StoreError::NotFound { seq: 9, .. }),
        "{error}"
    );
    assert_eq!(store.inbox_depth().unwrap(), 1);
}

#[test]
fn commit_delivery_records_runs_kv_effects_and_state_together() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    record_unrelated_run(&store);
    let seq = accept_new(&store, "a");
    let mut runs = [
        run_of("size", "o/r", Status::Success),
        run_of("data", "o/r", Status::Failure),
    ];
    let kv = [("size".to_owned(), "last".to_owned(), b"XS".to_vec())];
    let effects = [
        (Some(1), effect("data/check")),
        (Some(0), effect("size/label")),
        (None, effect("reply")),
        (Some(0), effect("size/comment")),
    ];
    let ids = store
        .commit_delivery(seq, &mut runs, &kv, &effects, T0 + 5)
        .unwrap();
    assert_eq!(ids, [2, 3]);
    assert_eq!(runs.iter().map(|r| r.id).collect::<Vec<_>>(), [2, 3]);
    drop(store);

    let store = Store::open(dir.path()).unwrap();
    assert_eq!(
        state_of(&store, seq),
        DeliveryState::Done { runs: vec![2, 3] }
    );
    assert_eq!(store.inbox_depth().unwrap(), 0);
    assert_eq!(store.run(2).unwrap().unwrap().workflow, "size");
    assert_eq!(store.run(3).unwrap(), Some(runs[1].clone()));
    // Each run names the delivery it answered.
    assert_eq!(store.run(2).unwrap().unwrap().delivery, Some(seq));
    assert_eq!(runs[1].delivery, Some(seq));
    assert_eq!(store.kv_get("size", "last").unwrap(), Some(b"XS".to_vec()));

    let items = store.outbox_pending(10).unwrap();
    let summary: Vec<(u64, Option<u64>, Option<u64>, &str)> = items
        .iter()
        .map(|i| (i.seq, i.run, i.delivery, i.planned.key.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (1, Some(3), Some(seq), "data/check"),
            (2, Some(2), Some(seq), "size/label"),
            (3, None, Some(seq), "reply"),
            (4, Some(2), Some(seq), "size/comment"),
        ]
    );
    assert!(items.iter().all(|i| i.created_at_ms == T0 + 5
        && i.not_before_ms == T0 + 5
        && i.state == OutboxState::Pending));
    let for_run = |run| -> Vec<u64> {
        store
            .outbox_for_run(run)
            .unwrap()
            .iter()
            .map(|i| i.seq)
            .collect()
    };
    assert_eq!(for_run(2), [2, 4]);
    assert_eq!(for_run(3), [1]);
    assert_eq!(for_run(1), Vec::<u64>::new());
}

#[test]
fn a_follow_up_is_queued_with_the_runs_it_names_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let seq = accept_new(&store, "a");
    let mut runs = [
        run_of("push-etl", "o/r", Status::Success),
        run_of("review", "o/r", Status::Failure),
    ];
    // Only the first run is watched; its follow-up names the run's new id.
    let follow_up = |run: &RunRecord| {
        (run.workflow == "push-etl").then(|| NewDelivery {
            id: format!("andon-run-{}", run.id),
            event: "andon_workflow_run".into(),
            received_at_ms: T0 + 5,
            body: format!("{}:{:?}", run.id, run.delivery).into_bytes(),
        })
    };
    let ids = store
        .commit_delivery_with(seq, &mut runs, &[], &[], T0 + 5, &follow_up)
        .unwrap();
    drop(store);

    // Durable with the runs: one new pending delivery, after the first.
    let store = Store::open(dir.path()).unwrap();
    let pending = store.pending_deliveries(10).unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].id, format!("andon-run-{}", ids[0]));
    assert_eq!(pending[0].event, "andon_workflow_run");
    assert!(pending[0].seq > seq);
    assert_eq!(
        store.delivery_body(pending[0].seq).unwrap().unwrap(),
        format!("{}:Some({seq})", ids[0]).into_bytes()
    );

    // A commit that fails (the delivery was processed already) queues
    // nothing; neither does a follow-up whose id is queued already.
    let mut again = [run_of("push-etl", "o/r", Status::Success)];
    let error = store
        .commit_delivery_with(seq, &mut again, &[], &[], T0, &follow_up)
        .unwrap_err();
    assert!(
        matches!(error, StoreError::AlreadyProcessed { .. }),
        "{error}"
    );
    let second = accept_new(&store, "b");
    let same_id = |_: &RunRecord| {
        Some(NewDelivery {
            id: pending[0].id.clone(),
            event: "andon_workflow_run".into(),
            received_at_ms: T0,
            body: Vec::new(),
        })
    };
    store
        .commit_delivery_with(second, &mut again, &[], &[], T0, &same_id)
        .unwrap();
    assert_eq!(store.inbox_depth().unwrap(), 1);
    assert_eq!(store.runs(&RunQuery::default()).unwrap().len(), 3);
}

fn record_unrelated_run(store: &Store) {
    let id = store
        .record_run(&mut run_of("earlier", "o/r", Status::Success), &[])
        .unwrap();
    assert_eq!(id, 1);
}

#[test]
fn a_delivery_is_committed_exactly_once() {
    let store = Store::open_temporary().unwrap();
    let seq = accept_new(&store, "a");
    let kv = [("ns".to_owned(), "k".to_owned(), b"first".to_vec())];
    let mut runs = [run_of("w", "o/r", Status::Success)];
    store
        .commit_delivery(seq, &mut runs, &kv, &[(Some(0), effect("e1"))], T0)
        .unwrap();

    // A second worker that processed the same delivery, differently.
    let mut again = [
        run_of("w", "o/r", Status::Failure),
        run_of("v", "o/r", Status::Success),
    ];
    let kv_again = [("ns".to_owned(), "k".to_owned(), b"second".to_vec())];
    let effects_again = [(Some(1), effect("e2")), (None, effect("e3"))];
    let error = store
        .commit_delivery(seq, &mut again, &kv_again, &effects_again, T0)
        .unwrap_err();
    assert!(
        matches!(error, StoreError::AlreadyProcessed { seq: s } if s == seq),
        "{error}"
    );
    assert_eq!(error.to_string(), "delivery 1 was already processed");
    assert!(again.iter().all(|r| r.id == 0));
    assert_eq!(store.runs(&RunQuery::default()).unwrap().len(), 1);
    assert_eq!(store.kv_get("ns", "k").unwrap(), Some(b"first".to_vec()));
    assert_eq!(outbox_keys(&store), ["e1"]);
    assert_eq!(state_of(&store, seq), DeliveryState::Done { runs: vec![1] });

    // Finishing it another way is refused too.
    let error = store
        .finish_delivery(seq, DeliveryState::Ignored { reason: "x".into() })
        .unwrap_err();
    assert!(
        matches!(error, StoreError::AlreadyProcessed { .. }),
        "{error}"
    );
    let error = store.commit_delivery(7, &mut [], &[], &[], T0).unwrap_err();
    assert!(
        matches!(error, StoreError::NotFound { seq: 7, .. }),
        "{error}"
    );
}

#[test]
fn a_commit_that_is_refused_writes_nothing_and_spends_no_number() {
    let store = Store::open_temporary().unwrap();
    let seq = accept_new(&store, "a");
    let kv = [("ns".to_owned(), "k".to_owned(), b"v".to_vec())];
    let check_refused = |effects: &[(Option<usize>, PlannedEffect)]| {
        let mut runs = [run_of("w", "o/r", Status::Success)];
        let error = store
            .commit_delivery(seq, &mut runs, &kv, effects, T0)
            .unwrap_err();
        assert!(
            matches!(error, StoreError::InvalidRequest { .. }),
            "{error}"
        );
        assert_eq!(runs[0].id, 0);
        assert!(store.runs(&RunQuery::default()).unwrap().is_empty());
        assert_eq!(store.kv_get("ns", "k").unwrap(), None);
        assert!(store.outbox_items(10, None).unwrap().is_empty());
        assert_eq!(state_of(&store, seq), DeliveryState::Pending);
        assert_eq!(store.inbox_depth().unwrap(), 1);
    };
    // An effect of a run that was not given, after a valid one.
    check_refused(&[(Some(0), effect("ok")), (Some(1), effect("bad"))]);
    // An effect without an idempotency key.
    check_refused(&[(None, effect("ok")), (None, effect(""))]);

    let mut runs = [run_of("w", "o/r", Status::Success)];
    let ids = store
        .commit_delivery(seq, &mut runs, &kv, &[(Some(0), effect("ok"))], T0)
        .unwrap();
    assert_eq!(ids, [1]);
    assert_eq!(store.outbox_items(10, None).unwrap()[0].seq, 1);
}

#[test]
fn a_commit_skips_effects_already_in_the_outbox() {
    let store = Store::open_temporary().unwrap();
    assert_eq!(
        store
            .enqueue_effects(None, &[effect("shared")], T0)
            .unwrap(),
        1
    );
    let seq = accept_new(&store, "a");
    let effects = [(Some(0), effect("shared")), (Some(0), effect("new"))];
    store
        .commit_delivery(
            seq,
            &mut [run_of("w", "o/r", Status::Success)],
            &[],
            &effects,
            T0,
        )
        .unwrap();
    let items = store.outbox_items(10, None).unwrap();
    let summary: Vec<(u64, &str, Option<u64>)> = items
        .iter()
        .map(|i| (i.seq, i.planned.key.as_str(), i.run))
        .collect();
    assert_eq!(summary, [(2, "new", Some(1)), (1, "shared", None)]);
    assert_eq!(store.outbox_depth().unwrap(), 2);
}

#[test]
fn deliveries_are_listed_newest_first_with_paging_and_a_state_filter() {
    let store = Store::open_temporary().unwrap();
    for n in 1..=7 {
        accept_new(&store, &format!("d{n}"));
    }
    store
        .finish_delivery(2, DeliveryState::Ignored { reason: "x".into() })
        .unwrap();
    store
        .finish_delivery(5, DeliveryState::Failed { error: "y".into() })
        .unwrap();
    store.commit_delivery(6, &mut [], &[], &[], T0).unwrap();

    let check = |limit, before, state, expected: &[u64]| {
        let query = DeliveryQuery {
            limit,
            before,
            state,
        };
        assert_eq!(
            seqs(&store.deliveries(&query).unwrap()),
            expected,
            "{query:?}"
        );
    };
    use DeliveryStateKind::{Done, Failed, Ignored, Pending};
    check(50, None, None, &[7, 6, 5, 4, 3, 2, 1]);
    check(3, None, None, &[7, 6, 5]);
    check(3, Some(5), None, &[4, 3, 2]);
    check(3, Some(2), None, &[1]);
    check(3, Some(1), None, &[]);
    check(0, None, None, &[]);
    check(50, None, Some(Pending), &[7, 4, 3, 1]);
    check(2, Some(4), Some(Pending), &[3, 1]);
    check(50, None, Some(Done), &[6]);
    check(50, None, Some(Ignored), &[2]);
    check(50, Some(5), Some(Failed), &[]);
    check(50, None, Some(Failed), &[5]);
    assert_eq!(
        seqs(&store.deliveries(&DeliveryQuery::default()).unwrap()),
        [7, 6, 5, 4, 3, 2, 1]
    );
}

#[test]
fn a_delivery_record_has_a_stable_json_shape() {
    let store = Store::open_temporary().unwrap();
    let seq = accept_new(&store, "abc");
    store.commit_delivery(seq, &mut [], &[], &[], T0).unwrap();
    let record = store.delivery(seq).unwrap().unwrap();
    assert_eq!(
        serde_json::to_value(&record).unwrap(),
        serde_json::json!({
            "seq": 1,
            "id": "abc",
            "event": "pull_request",
            "received_at_ms": T0,
            "size": 18,
            "state": {"state": "done", "runs": []},
            "attempts": 0,
        })
    );
    assert_eq!(
        serde_json::to_value(DeliveryStateKind::Ignored).unwrap(),
        "ignored"
    );
}

#[test]
fn a_corrupt_delivery_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    accept_new(&store, "a");
    accept_new(&store, "b");
    drop(store);
    with_raw_tree(dir.path(), "deliveries", |records| {
        records
            .insert(&1u64.to_be_bytes()[..], &b"{not json"[..])
            .unwrap();
    });

    let store = Store::open(dir.path()).unwrap();
    let is_corrupt = |error: StoreError| {
        assert!(
            matches!(&error, StoreError::Corrupt { what } if what.starts_with("delivery 1: ")),
            "{error}"
        );
    };
    is_corrupt(store.delivery(1).unwrap_err());
    is_corrupt(store.pending_deliveries(10).unwrap_err());
    is_corrupt(store.deliveries(&DeliveryQuery::default()).unwrap_err());
    is_corrupt(store.commit_delivery(1, &mut [], &[], &[], T0).unwrap_err());
    is_corrupt(store.retry_delivery(1, "x").unwrap_err());
    assert_eq!(state_of(&store, 2), DeliveryState::Pending);
    drop(store);

    with_raw_tree(dir.path(), "delivery_pending", |pending| {
        pending.insert(&b"short"[..], &b""[..]).unwrap();
    });
    let store = Store::open(dir.path()).unwrap();
    let error = store.pending_deliveries(10).unwrap_err();
    assert!(matches!(error, StoreError::Corrupt { .. }), "{error}");
}

#[test]
fn export_and_import_carry_the_inbox_and_the_outbox() {
    let source = Store::open_temporary().unwrap();
    let done = accept_new(&source, "a");
    let pending = accept_new(&source, "b");
    source.retry_delivery(pending, "flaky").unwrap();
    source
        .commit_delivery(
            done,
            &mut [run_of("w", "o/r", Status::Success)],
            &[],
            &[(Some(0), effect("e1")), (None, effect("e2"))],
            T0,
        )
        .unwrap();
    source.outbox_retry(2, T0 + 1_000, "502").unwrap();
    let mut export = Vec::new();
    let exported = source.export(&mut export).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let target = Store::open(dir.path()).unwrap();
    assert_eq!(target.import(export.as_slice()).unwrap(), exported);
    assert_eq!(export_lines(&target), export_lines(&source));
    for tree in [
        "deliveries",
        "delivery_bodies",
        "delivery_ids",
        "delivery_pending",
        "outbox",
        "outbox_keys",
        "outbox_pending",
        "outbox_runs",
    ] {
        assert!(entries_in(&target, tree) > 0, "{tree} was not exported");
    }
    drop(target);

    let target = Store::open(dir.path()).unwrap();
    assert_eq!(
        target.deliveries(&DeliveryQuery::default()).unwrap(),
        source.deliveries(&DeliveryQuery::default()).unwrap()
    );
    assert_eq!(
        target.delivery_body(pending).unwrap(),
        source.delivery_body(pending).unwrap()
    );
    assert_eq!(seqs(&target.pending_deliveries(10).unwrap()), [pending]);
    assert_eq!(
        target.outbox_pending(10).unwrap(),
        source.outbox_pending(10).unwrap()
    );
    assert_eq!(target.outbox_for_run(1).unwrap().len(), 1);
    // Dedup and the counters came along.
    assert_eq!(
        target.accept(&delivery("a")).unwrap(),
        Accepted::Duplicate { seq: done }
    );
    assert_eq!(accept_new(&target, "c"), 3);
    assert_eq!(
        target
            .enqueue_effects(None, &[effect("e1"), effect("e3")], T0)
            .unwrap(),
        1
    );
    assert_eq!(outbox_keys(&target), ["e1", "e2", "e3"]);
    assert_eq!(target.outbox_items(1, None).unwrap()[0].seq, 3);
}
