//! The outbox: idempotent enqueueing, retries and outcomes, listings.

use andon_core::effect::EffectOutcome;
use andon_store::{OutboxItem, OutboxState, OutboxStore, Store, StoreError};

use super::inbox::effect;
use super::with_raw_tree;

const T0: u64 = 1_700_000_000_000;

fn keys(items: &[OutboxItem]) -> Vec<&str> {
    items.iter().map(|i| i.planned.key.as_str()).collect()
}

fn item(store: &Store, seq: u64) -> OutboxItem {
    store
        .outbox_items(1, Some(seq + 1))
        .unwrap()
        .into_iter()
        .find(|i| i.seq == seq)
        .unwrap()
}

#[test]
fn enqueueing_an_effect_again_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let added = store
        .enqueue_effects(Some(4), &[effect("a"), effect("b")], T0)
        .unwrap();
    assert_eq!(added, 2);
    // `c` twice in one batch is added once.
    let added = store
        .enqueue_effects(None, &[effect("b"), effect("c"), effect("c")], T0 + 1)
        .unwrap();
    assert_eq!(added, 1);
    assert_eq!(store.enqueue_effects(None, &[], T0).unwrap(), 0);
    drop(store);

    let store = Store::open(dir.path()).unwrap();
    let pending = store.outbox_pending(10).unwrap();
    assert_eq!(keys(&pending), ["a", "b", "c"]);
    assert_eq!(
        pending[0],
        OutboxItem {
            seq: 1,
            run: None,
            delivery: Some(4),
            planned: effect("a"),
            state: OutboxState::Pending,
            attempts: 0,
            not_before_ms: T0,
            last_error: None,
            created_at_ms: T0,
        }
    );
    assert_eq!(pending[2].seq, 3);
    assert_eq!(pending[2].delivery, None);
    assert_eq!(pending[2].created_at_ms, T0 + 1);
    assert_eq!(keys(&store.outbox_pending(2).unwrap()), ["a", "b"]);
    assert_eq!(store.outbox_depth().unwrap(), 3);
}

#[test]
fn an_effect_without_a_key_is_refused_with_its_batch() {
    let store = Store::open_temporary().unwrap();
    let error = store
        .enqueue_effects(None, &[effect("a"), effect("")], T0)
        .unwrap_err();
    assert!(
        matches!(error, StoreError::InvalidRequest { .. }),
        "{error}"
    );
    assert_eq!(store.outbox_depth().unwrap(), 0);
    assert_eq!(store.enqueue_effects(None, &[effect("a")], T0).unwrap(), 1);
    assert_eq!(store.outbox_pending(1).unwrap()[0].seq, 1);
}

#[test]
fn retries_back_off_and_outcomes_finish_an_item() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store
        .enqueue_effects(None, &[effect("a"), effect("b"), effect("c")], T0)
        .unwrap();
    assert_eq!(
        store
            .outbox_retry(1, T0 + 1_000, "502 bad gateway")
            .unwrap(),
        1
    );
    assert_eq!(store.outbox_retry(1, T0 + 4_000, "timeout").unwrap(), 2);
    let retried = item(&store, 1);
    assert_eq!(retried.attempts, 2);
    assert_eq!(retried.not_before_ms, T0 + 4_000);
    assert_eq!(retried.last_error.as_deref(), Some("timeout"));
    assert_eq!(retried.state, OutboxState::Pending);

    let done = EffectOutcome::Done {
        detail: "label added".into(),
    };
    store.outbox_finish(1, &done, 3).unwrap();
    let failed = EffectOutcome::Failed {
        error: "404 not found".into(),
    };
    store.outbox_finish(3, &failed, 1).unwrap();
    drop(store);

    let store = Store::open(dir.path()).unwrap();
    assert_eq!(keys(&store.outbox_pending(10).unwrap()), ["b"]);
    assert_eq!(store.outbox_depth().unwrap(), 1);
    let finished = item(&store, 1);
    assert_eq!(
        finished.state,
        OutboxState::Done {
            detail: "label added".into()
        }
    );
    assert_eq!(finished.attempts, 3);
    assert_eq!(
        item(&store, 3).state,
        OutboxState::Failed {
            error: "404 not found".into()
        }
    );

    let error = store.outbox_finish(1, &failed, 4).unwrap_err();
    assert_eq!(error.to_string(), "outbox item 1 is already finished");
    let error = store.outbox_retry(3, T0, "again").unwrap_err();
    assert!(
        matches!(error, StoreError::EffectAlreadyFinished { seq: 3 }),
        "{error}"
    );
    assert_eq!(item(&store, 1).state, OutboxState::from(&done));
    let error = store.outbox_finish(9, &done, 1).unwrap_err();
    assert_eq!(error.to_string(), "no outbox item 9 in the store");
}

#[test]
fn outbox_items_are_listed_newest_first_with_paging() {
    let store = Store::open_temporary().unwrap();
    let effects: Vec<_> = ["a", "b", "c", "d", "e"].map(effect).into();
    store.enqueue_effects(None, &effects, T0).unwrap();
    store
        .outbox_finish(
            2,
            &EffectOutcome::Done {
                detail: "ok".into(),
            },
            1,
        )
        .unwrap();
    let page = |limit, before| keys(&store.outbox_items(limit, before).unwrap()).join("");
    assert_eq!(page(10, None), "edcba");
    assert_eq!(page(2, None), "ed");
    assert_eq!(page(2, Some(4)), "cb");
    assert_eq!(page(2, Some(2)), "a");
    assert_eq!(page(2, Some(1)), "");
    assert_eq!(page(0, None), "");
}

#[test]
fn an_outbox_item_has_a_stable_json_shape() {
    let store = Store::open_temporary().unwrap();
    store.enqueue_effects(Some(2), &[effect("k")], T0).unwrap();
    store.outbox_retry(1, T0 + 10, "502").unwrap();
    assert_eq!(
        serde_json::to_value(item(&store, 1)).unwrap(),
        serde_json::json!({
            "seq": 1,
            "delivery": 2,
            "planned": {
                "key": "k",
                "repository": "o/r",
                "installation": 7,
                "effect": {"kind": "label", "number": 1, "label": "k", "present": true},
            },
            "state": {"state": "pending"},
            "attempts": 1,
            "not_before_ms": T0 + 10,
            "last_error": "502",
            "created_at_ms": T0,
        })
    );
}

#[test]
fn a_corrupt_outbox_item_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store
        .enqueue_effects(None, &[effect("a"), effect("b")], T0)
        .unwrap();
    drop(store);
    with_raw_tree(dir.path(), "outbox", |items| {
        items.insert(&1u64.to_be_bytes()[..], &b"[]"[..]).unwrap();
    });

    let store = Store::open(dir.path()).unwrap();
    let is_corrupt = |error: StoreError| {
        assert!(
            matches!(&error, StoreError::Corrupt { what } if what.starts_with("outbox item 1: ")),
            "{error}"
        );
    };
    is_corrupt(store.outbox_pending(10).unwrap_err());
    is_corrupt(store.outbox_items(10, None).unwrap_err());
    is_corrupt(store.outbox_retry(1, T0, "x").unwrap_err());
    is_corrupt(
        store
            .outbox_finish(1, &EffectOutcome::Done { detail: "d".into() }, 1)
            .unwrap_err(),
    );
    assert_eq!(keys(&store.outbox_items(1, None).unwrap()), ["b"]);
}
