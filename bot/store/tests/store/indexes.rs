//! The run indexes (`run_facets`) and the data-check history
//! (`check_history`): listings through them equal a full scan, old stores
//! get them on open, and they travel in exports.

use andon_core::run::{RunRecord, Status, StepRecord};
use andon_store::{RunFacet, RunQuery, RunStore, SCHEMA_VERSION, Store};
use serde_json::json;

use super::{run_of, set_raw_schema_version, with_raw_tree};

const REPOS: [&str; 3] = ["acme/widgets", "acme/gadgets", "other/tool"];
const WORKFLOWS: [&str; 4] = ["review", "data-quality", "train", "rare"];
const STATUSES: [Status; 4] = [
    Status::Success,
    Status::Failure,
    Status::Error,
    Status::Skipped,
];

/// Run `i` of a deterministic mix; every 97th run is of workflow `rare`,
/// every 10th checks a dataset.
fn mixed_run(i: usize) -> RunRecord {
    let workflow = if i.is_multiple_of(97) {
        "rare"
    } else {
        WORKFLOWS[i % 3]
    };
    let mut run = run_of(workflow, REPOS[i % 3], STATUSES[(i / 3) % 4]);
    run.started_at_ms += i as u64 * 60_000;
    if i.is_multiple_of(10) {
        run.steps.push(check_step(
            if i.is_multiple_of(20) {
                "data/orders.csv"
            } else {
                "data/users.csv"
            },
            i,
        ));
    }
    run
}

fn check_step(dataset: &str, rows: usize) -> StepRecord {
    let mut step = StepRecord::not_run("check", "data-check", Status::Success, "");
    step.error = None;
    step.outputs.insert(
        "summary".into(),
        json!({"dataset": dataset, "rows": rows, "ragged_rows": 0, "checks": 2, "passed": 1, "warned": 0, "failed": 1}),
    );
    step.outputs.insert(
        "results".into(),
        json!([
            {"check": "not_null", "column": "id", "status": "pass", "failed_count": 0, "failed_percent": 0.0},
            {"check": "row_count", "status": "fail", "failed_count": 0, "failed_percent": 0.0, "observed": rows, "name": "enough rows"}
        ]),
    );
    step
}

fn fill(store: &Store, count: usize) {
    let mut runs: Vec<RunRecord> = (0..count).map(mixed_run).collect();
    for chunk in runs.chunks_mut(100) {
        store.record_runs(chunk).unwrap();
    }
}

/// The same query answered by reading every summary.
fn scanned(store: &Store, query: &RunQuery) -> Vec<u64> {
    let all = store
        .runs(&RunQuery {
            limit: usize::MAX,
            before: query.before,
            ..RunQuery::default()
        })
        .unwrap();
    all.iter()
        .filter(|s| {
            query.workflow.as_ref().is_none_or(|w| *w == s.workflow)
                && query.status.is_none_or(|st| st == s.status)
                && query.repository.as_ref().is_none_or(|r| *r == s.repository)
        })
        .take(query.limit)
        .map(|s| s.id)
        .collect()
}

fn queries() -> Vec<RunQuery> {
    let mut queries = Vec::new();
    for repository in [
        None,
        Some("acme/widgets"),
        Some("other/tool"),
        Some("nobody/none"),
    ] {
        for workflow in [None, Some("review"), Some("rare")] {
            for status in [None, Some(Status::Failure), Some(Status::Skipped)] {
                for before in [None, Some(250), Some(1)] {
                    queries.push(RunQuery {
                        limit: 7,
                        workflow: workflow.map(str::to_string),
                        status,
                        repository: repository.map(str::to_string),
                        before,
                    });
                }
            }
        }
    }
    queries
}

fn assert_indexes_answer_like_a_scan(store: &Store) {
    for query in queries() {
        let indexed: Vec<u64> = store.runs(&query).unwrap().iter().map(|s| s.id).collect();
        assert_eq!(indexed, scanned(store, &query), "{query:?}");
    }
}

#[test]
fn filtered_listings_through_the_indexes_equal_a_full_scan() {
    let store = Store::open_temporary().unwrap();
    fill(&store, 400);
    assert_indexes_answer_like_a_scan(&store);
    // Paging through a rare filter visits every match once, newest first.
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = store
            .runs(&RunQuery {
                limit: 2,
                workflow: Some("rare".into()),
                before,
                ..RunQuery::default()
            })
            .unwrap();
        let Some(last) = page.last() else { break };
        before = Some(last.id);
        seen.extend(page.iter().map(|s| s.id));
    }
    assert_eq!(seen, vec![389, 292, 195, 98, 1]);
}

#[test]
fn facet_values_are_the_distinct_values() {
    let store = Store::open_temporary().unwrap();
    fill(&store, 200);
    let mut nul = run_of("odd\0name", "acme/widgets", Status::Success);
    store.record_run(&mut nul, &[]).unwrap();
    assert_eq!(
        store.run_facet_values(RunFacet::Repository).unwrap(),
        vec!["acme/gadgets", "acme/widgets", "other/tool"]
    );
    assert_eq!(
        store.run_facet_values(RunFacet::Workflow).unwrap(),
        vec!["data-quality", "odd\u{FFFD}name", "rare", "review", "train"]
    );
    assert_eq!(
        store.run_facet_values(RunFacet::Status).unwrap(),
        vec!["error", "failure", "skipped", "success"]
    );
    // A name with a 0 byte is still found exactly.
    let found = store
        .runs(&RunQuery {
            workflow: Some("odd\0name".into()),
            ..RunQuery::default()
        })
        .unwrap();
    assert_eq!(found.iter().map(|s| s.id).collect::<Vec<_>>(), vec![nul.id]);
}

#[test]
fn check_history_follows_the_summary_convention() {
    let store = Store::open_temporary().unwrap();
    fill(&store, 100);
    let latest = store.check_datasets().unwrap();
    let names: Vec<(&str, &str)> = latest
        .iter()
        .map(|p| (p.dataset.as_str(), p.repository.as_str()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("data/orders.csv", "acme/gadgets"),
            ("data/orders.csv", "acme/widgets"),
            ("data/orders.csv", "other/tool"),
            ("data/users.csv", "acme/gadgets"),
            ("data/users.csv", "acme/widgets"),
            ("data/users.csv", "other/tool"),
        ]
    );
    let history = store
        .check_history("data/orders.csv", Some("acme/widgets"), 10)
        .unwrap();
    // Runs 1 + i for i = 0, 60: orders every 20th, acme/widgets every 3rd.
    assert_eq!(
        history.iter().map(|p| p.run).collect::<Vec<_>>(),
        vec![61, 1]
    );
    let newest = &history[0];
    assert_eq!(newest.summary["rows"], 60.0);
    assert_eq!(newest.results[0].label, "not_null(id)");
    assert_eq!(newest.results[1].label, "enough rows");
    assert_eq!(newest.results[1].observed, Some(60.0));
    // Without a repository: the first one holding the dataset.
    let any = store.check_history("data/orders.csv", None, 1).unwrap();
    assert_eq!(any[0].repository, "acme/gadgets");
    assert!(
        store
            .check_history("data/none.csv", None, 5)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn an_old_store_gets_the_indexes_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    fill(&store, 300);
    drop(store);
    // As schema 3 left it: runs without their indexes.
    for tree in ["run_facets", "check_history"] {
        with_raw_tree(dir.path(), tree, |t| t.clear().unwrap());
    }
    set_raw_schema_version(dir.path(), 3);

    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_indexes_answer_like_a_scan(&store);
    assert_eq!(store.check_datasets().unwrap().len(), 6);
}

#[test]
fn the_indexes_travel_in_an_export() {
    let source = Store::open_temporary().unwrap();
    fill(&source, 150);
    let mut export = Vec::new();
    source.export(&mut export).unwrap();
    let text = String::from_utf8(export.clone()).unwrap();
    assert!(text.contains("\"tree\":\"run_facets\""));
    assert!(text.contains("\"tree\":\"check_history\""));

    let copy = Store::open_temporary().unwrap();
    copy.import(export.as_slice()).unwrap();
    assert_indexes_answer_like_a_scan(&copy);
    assert_eq!(
        copy.check_datasets().unwrap(),
        source.check_datasets().unwrap()
    );
    assert_eq!(
        copy.run_facet_values(RunFacet::Workflow).unwrap(),
        source.run_facet_values(RunFacet::Workflow).unwrap()
    );
}
