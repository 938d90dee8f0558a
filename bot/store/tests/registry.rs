//! The registry index: incremental sync from tag refs, pending entries.

use andon_core::registry::IndexedTag;
use andon_store::{RegistryIndex, Store};

fn tag(name: &str, target: &str) -> IndexedTag {
    IndexedTag {
        name: name.into(),
        target: target.into(),
        commit: "c".repeat(40),
        time: 1,
        author: "a".into(),
        author_email: "a@x".into(),
        message: format!("message of {name}"),
    }
}

fn refs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect()
}

#[test]
fn sync_reads_only_new_or_moved_tags_and_drops_gone_ones() {
    let store = Store::open_temporary().expect("store");
    let mut asked: Vec<Vec<String>> = Vec::new();
    let mut read = |names: &[String]| {
        asked.push(names.to_vec());
        Ok(names.iter().map(|n| tag(n, &format!("t-{n}"))).collect())
    };
    let first = refs(&[
        ("churn@v0.0.1", "t-churn@v0.0.1"),
        ("v1.0", "x"),
        ("churn#prod#1", "t-churn#prod#1"),
    ]);
    let synced = store
        .registry_sync("o/r", "fp", &first, &mut read)
        .expect("sync");
    assert_eq!(synced.read, 2, "the release tag v1.0 is not a registry tag");
    assert_eq!(synced.tags.len(), 2);

    // Nothing new: nothing read.
    let again = store
        .registry_sync("o/r", "fp", &first, &mut read)
        .expect("sync");
    assert_eq!((again.read, again.removed, again.tags.len()), (0, 0, 2));

    // One moved, one gone, one new; another repository is untouched.
    let second = refs(&[
        ("churn@v0.0.1", "moved"),
        ("churn@v0.0.2", "t-churn@v0.0.2"),
    ]);
    let mut read2 = |names: &[String]| {
        Ok(names
            .iter()
            .map(|n| {
                tag(
                    n,
                    if n == "churn@v0.0.1" {
                        "moved"
                    } else {
                        "t-churn@v0.0.2"
                    },
                )
            })
            .collect())
    };
    let synced = store
        .registry_sync("o/r", "fp", &second, &mut read2)
        .expect("sync");
    assert_eq!((synced.read, synced.removed), (2, 1));
    let names: Vec<&str> = synced.tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["churn@v0.0.1", "churn@v0.0.2"]);
    assert!(store.registry_tags("o/other").expect("tags").is_empty());
    assert_eq!(
        asked,
        [vec!["churn#prod#1".to_string(), "churn@v0.0.1".to_string()]]
    );
}

#[test]
fn a_pending_entry_stays_until_its_ref_appears_then_is_read() {
    let store = Store::open_temporary().expect("store");
    store
        .registry_put("o/r", &tag("churn@v0.0.1", ""))
        .expect("put");
    let mut read = |names: &[String]| Ok(names.iter().map(|n| tag(n, "real")).collect());
    let synced = store
        .registry_sync("o/r", "fp", &[], &mut read)
        .expect("sync");
    assert_eq!(synced.tags.len(), 1);
    assert!(synced.tags[0].pending());
    let synced = store
        .registry_sync("o/r", "fp", &refs(&[("churn@v0.0.1", "real")]), &mut read)
        .expect("sync");
    assert_eq!(synced.read, 1);
    assert!(!synced.tags[0].pending());
}

#[test]
fn a_failing_read_is_an_error_and_changes_nothing() {
    let store = Store::open_temporary().expect("store");
    let mut read = |_: &[String]| Err("object missing".to_string());
    let error = store
        .registry_sync("o/r", "fp", &refs(&[("churn@v0.0.1", "t")]), &mut read)
        .expect_err("fails");
    assert!(error.to_string().contains("object missing"), "{error}");
    assert!(store.registry_tags("o/r").expect("tags").is_empty());
}

#[test]
fn a_matching_fingerprint_skips_the_listing_and_a_new_tag_clears_it() {
    let store = Store::open_temporary().expect("store");
    assert_eq!(store.registry_fresh("o/r", "fp1").expect("fresh"), None);
    let mut read = |names: &[String]| Ok(names.iter().map(|n| tag(n, "t")).collect());
    store
        .registry_sync("o/r", "fp1", &refs(&[("churn@v0.0.1", "t")]), &mut read)
        .expect("sync");
    let fresh = store
        .registry_fresh("o/r", "fp1")
        .expect("fresh")
        .expect("same refs");
    assert_eq!(fresh.len(), 1);
    assert_eq!(store.registry_fresh("o/r", "fp2").expect("fresh"), None);
    assert_eq!(
        store.registry_fresh("o/r", "").expect("fresh"),
        None,
        "no fingerprint, no shortcut"
    );
    // A tag created here changes the refs: the shortcut is off until a sync.
    store
        .registry_put("o/r", &tag("churn@v0.0.2", "t2"))
        .expect("put");
    assert_eq!(store.registry_fresh("o/r", "fp1").expect("fresh"), None);
    assert_eq!(store.registry_tags("o/r").expect("tags").len(), 2);
}
