//! The plugin host against real components: the testbed plugin misbehaves
//! on demand, and every misbehaviour must end as a distinct, typed failure
//! while the host keeps serving.

use std::sync::Arc;
use std::time::Duration;

use andon_core::action::Action;
use andon_core::change::{AddedLine, ChangedFile, FileStatus, Side};
use andon_core::event::{Event, EventKind};
use andon_core::limits::Limits;
use andon_host::{
    Blob, BytesBlob, DatasetRead, HostConfig, Invocation, Plugin, PluginHost, ReadError, StepError,
    StepInputs, StepOutcome, Stream,
};
use serde_json::json;

/// Inputs with a fixed change, files and kv.
#[derive(Default)]
struct Fixture {
    files: Vec<ChangedFile>,
    lines: Vec<AddedLine>,
    head_files: Vec<(&'static str, Vec<u8>)>,
    artifacts: Vec<(&'static str, Vec<u8>)>,
    kv: Vec<(&'static str, Vec<u8>)>,
    now: i64,
}

impl StepInputs for Fixture {
    fn changed_files(&self) -> &[ChangedFile] {
        &self.files
    }

    fn added_lines(&self, _path: &str) -> &[AddedLine] {
        &self.lines
    }

    fn read_file(&self, side: Side, path: &str) -> Result<Vec<u8>, ReadError> {
        if side == Side::Base {
            return Err(ReadError::NoRevision);
        }
        self.head_files
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, b)| b.clone())
            .ok_or(ReadError::NotFound)
    }

    fn open_blob(&self, side: Side, path: &str) -> Result<Box<dyn Blob>, ReadError> {
        self.read_file(side, path)
            .map(|b| Box::new(BytesBlob::new(b)) as Box<dyn Blob>)
    }

    fn open_stream(&self, side: Side, path: &str) -> Result<Stream, ReadError> {
        let mut stream = Stream::from_bytes(self.read_file(side, path)?);
        stream.content_id = format!("test:{path}");
        Ok(stream)
    }

    fn open_artifact(&self, name: &str) -> Result<Stream, ReadError> {
        self.artifacts
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| Stream::from_bytes(b.clone()))
            .ok_or(ReadError::NotFound)
    }

    fn now_micros(&self) -> i64 {
        self.now
    }

    fn kv_get(&self, key: &str) -> Option<Vec<u8>> {
        self.kv
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.clone())
    }
}

fn host() -> PluginHost {
    PluginHost::new(HostConfig::default()).expect("host starts")
}

fn testbed(host: &PluginHost) -> Arc<Plugin> {
    host.load("testbed", andon_bundle::testing::TESTBED, None)
        .expect("testbed loads")
}

fn event() -> Event {
    let mut event = Event::new(EventKind::PullRequest, "octo/repo", "a".repeat(40));
    event.number = Some(7);
    event.labels = vec!["size/XS".into()];
    event
}

fn run_mode(host: &PluginHost, mode: &str, inputs: Fixture, limits: &Limits) -> StepOutcome {
    run_with(host, &json!({ "mode": mode }), inputs, limits)
}

fn run_with(
    host: &PluginHost,
    config: &serde_json::Value,
    inputs: Fixture,
    limits: &Limits,
) -> StepOutcome {
    let plugin = testbed(host);
    let event = event();
    let invocation = Invocation {
        event: &event,
        workflow: "test",
        step_id: "step",
        config,
    };
    host.run_step(&plugin, invocation, Arc::new(inputs), limits)
}

fn comment(outcome: &StepOutcome) -> String {
    match outcome.result.as_ref().expect("step succeeded").as_slice() {
        [Action::Comment { body, .. }] => body.clone(),
        other => panic!("expected one comment, got {other:?}"),
    }
}

fn error(outcome: StepOutcome) -> StepError {
    outcome.result.expect_err("step should fail")
}

/// After any failure, the same host still runs a well-behaved step.
fn still_serves(host: &PluginHost) {
    let outcome = run_mode(host, "noop", Fixture::default(), &Limits::DEFAULT);
    assert_eq!(outcome.result.expect("noop runs"), Vec::<Action>::new());
}

#[test]
fn the_manifest_describes_the_plugin() {
    let host = host();
    let manifest = host.manifest(&testbed(&host)).expect("describe works");
    assert_eq!(manifest.name, "testbed");
    assert_eq!(manifest.permissions.len(), 5);
}

#[test]
fn the_event_and_change_reach_the_plugin() {
    let host = host();
    let inputs = Fixture {
        files: vec![ChangedFile {
            path: "a.txt".into(),
            old_path: None,
            status: FileStatus::Added,
            added: 3,
            removed: 0,
            binary: false,
        }],
        ..Fixture::default()
    };
    let body = comment(&run_mode(&host, "echo", inputs, &Limits::DEFAULT));
    let echoed: serde_json::Value = serde_json::from_str(&body).expect("echo is JSON");
    assert_eq!(echoed["repository"], "octo/repo");
    assert_eq!(echoed["number"], 7);
    assert_eq!(echoed["labels"], json!(["size/XS"]));
    assert_eq!(echoed["changed_files"], 1);
}

#[test]
fn an_infinite_loop_times_out() {
    let host = host();
    let limits = Limits {
        timeout: Duration::from_millis(100),
        ..Limits::DEFAULT
    };
    let outcome = run_mode(&host, "loop", Fixture::default(), &limits);
    assert!(
        outcome.duration < Duration::from_secs(5),
        "took {:?}",
        outcome.duration
    );
    let error = error(outcome);
    assert!(
        matches!(&error, StepError::Timeout { plugin, .. } if plugin == "testbed"),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("time limit of 100 ms"),
        "{error}"
    );
    still_serves(&host);
}

#[test]
fn a_memory_bomb_is_out_of_memory() {
    let host = host();
    let limits = Limits {
        memory: 32 << 20,
        ..Limits::DEFAULT
    };
    let outcome = run_mode(&host, "memory", Fixture::default(), &limits);
    assert!(
        outcome.memory_peak <= 32 << 20,
        "peak {}",
        outcome.memory_peak
    );
    let error = error(outcome);
    assert!(
        matches!(error, StepError::OutOfMemory { limit, .. } if limit == 32 << 20),
        "{error:?}"
    );
    still_serves(&host);
}

#[test]
fn a_panic_is_a_trap_with_the_message_from_stderr() {
    let host = host();
    let outcome = run_mode(&host, "trap", Fixture::default(), &Limits::DEFAULT);
    assert!(
        outcome.log.contains("deliberate panic"),
        "log: {}",
        outcome.log
    );
    let error = error(outcome);
    assert!(
        matches!(&error, StepError::Trap { message, .. } if message.contains("deliberate panic")),
        "{error:?}"
    );
    still_serves(&host);
}

#[test]
fn an_unreachable_instruction_is_a_trap() {
    let host = host();
    let error = error(run_mode(
        &host,
        "unreachable",
        Fixture::default(),
        &Limits::DEFAULT,
    ));
    assert!(
        matches!(&error, StepError::Trap { message, .. } if message.contains("unreachable")),
        "{error:?}"
    );
    still_serves(&host);
}

#[test]
fn an_oversized_output_is_refused() {
    let host = host();
    let limits = Limits {
        output_bytes: 1 << 20,
        ..Limits::DEFAULT
    };
    let outcome = run_with(
        &host,
        &json!({ "mode": "big-output", "bytes": 2 << 20 }),
        Fixture::default(),
        &limits,
    );
    let error = error(outcome);
    assert!(
        matches!(error, StepError::OutputTooLarge { size, limit, .. } if size == 2 << 20 && limit == 1 << 20),
        "{error:?}"
    );
    still_serves(&host);
}

#[test]
fn reads_outside_the_repository_are_refused() {
    let host = host();
    let inputs = Fixture {
        head_files: vec![("../outside.txt", b"secret".to_vec())],
        ..Fixture::default()
    };
    let body = comment(&run_mode(&host, "escape", inputs, &Limits::DEFAULT));
    assert!(!body.contains("secret"), "{body}");
    assert_eq!(body.matches("invalid-path").count(), 2, "{body}");
}

#[test]
fn files_and_blobs_are_read_at_the_head() {
    let host = host();
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let inputs = Fixture {
        head_files: vec![("data/x.bin", big)],
        ..Fixture::default()
    };
    let body = comment(&run_with(
        &host,
        &json!({ "mode": "read", "path": "data/x.bin" }),
        inputs,
        &Limits::DEFAULT,
    ));
    assert!(body.contains("200000"), "{body}");
}

#[test]
fn plugin_errors_are_not_traps() {
    let host = host();
    let error = error(run_mode(
        &host,
        "error",
        Fixture::default(),
        &Limits::DEFAULT,
    ));
    assert!(
        matches!(&error, StepError::Failed { message, .. } if message.contains("deliberate")),
        "{error:?}"
    );
    assert!(error.is_plugin_error());
    let error = self::error(run_mode(
        &host,
        "bad-config",
        Fixture::default(),
        &Limits::DEFAULT,
    ));
    assert!(
        matches!(error, StepError::InvalidConfig { .. }),
        "{error:?}"
    );
}

#[test]
fn logs_are_truncated_not_trapped() {
    let host = host();
    let limits = Limits {
        log_bytes: 4096,
        ..Limits::DEFAULT
    };
    let outcome = run_mode(&host, "log-flood", Fixture::default(), &limits);
    assert!(outcome.result.is_ok(), "{:?}", outcome.result);
    assert!(
        outcome.log.len() < 4096 + 200,
        "log is {} bytes",
        outcome.log.len()
    );
    assert!(outcome.log.contains("[log truncated:"), "{}", outcome.log);
}

#[test]
fn kv_reads_come_from_the_plugins_namespace() {
    let host = host();
    let inputs = Fixture {
        kv: vec![("counter", b"41".to_vec())],
        ..Fixture::default()
    };
    let actions = run_mode(&host, "kv", inputs, &Limits::DEFAULT)
        .result
        .expect("kv runs");
    assert!(actions.contains(&Action::KvSet {
        key: "counter".into(),
        value: andon_core::action::KvValue(b"42".to_vec()),
    }));
}

#[test]
fn every_action_kind_converts() {
    let host = host();
    let actions = run_mode(&host, "all-actions", Fixture::default(), &Limits::DEFAULT)
        .result
        .expect("runs");
    let kinds: Vec<&str> = actions.iter().map(Action::kind).collect();
    for kind in [
        "comment",
        "add-label",
        "remove-label",
        "check-run",
        "artifact",
        "kv-set",
        "fail",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
}

#[test]
fn fuel_is_metered_when_enabled() {
    let host = PluginHost::new(HostConfig {
        fuel: true,
        ..HostConfig::default()
    })
    .expect("host starts");
    let outcome = run_mode(&host, "echo", Fixture::default(), &Limits::DEFAULT);
    assert!(
        outcome.fuel_used.is_some_and(|f| f > 0),
        "{:?}",
        outcome.fuel_used
    );
    let limits = Limits {
        fuel: Some(10_000),
        ..Limits::DEFAULT
    };
    let error = error(run_mode(&host, "loop", Fixture::default(), &limits));
    assert!(
        matches!(error, StepError::OutOfFuel { limit: 10_000, .. }),
        "{error:?}"
    );
}

#[test]
fn compiled_plugins_are_cached_on_disk_and_pins_are_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = HostConfig {
        cache_dir: Some(dir.path().to_path_buf()),
        ..HostConfig::default()
    };
    let first = PluginHost::new(config.clone()).expect("host starts");
    let plugin = testbed(&first);
    let entries = std::fs::read_dir(dir.path())
        .expect("cache dir exists")
        .count();
    assert_eq!(entries, 1, "one compiled entry");
    let second = PluginHost::new(config).expect("host starts");
    let cached = second
        .load_from_disk_cache("testbed", andon_bundle::testing::TESTBED)
        .expect("cache loads")
        .expect("cache hit");
    assert_eq!(cached.sha256(), plugin.sha256());
    still_serves(&second);

    let wrong = "0".repeat(64);
    let error = first
        .load("testbed", andon_bundle::testing::TESTBED, Some(&wrong))
        .expect_err("pin mismatch");
    assert!(error.to_string().contains("pins"), "{error}");
    assert!(
        first
            .load(
                "testbed",
                andon_bundle::testing::TESTBED,
                Some(plugin.sha256())
            )
            .is_ok()
    );
}

#[test]
fn garbage_is_not_a_plugin() {
    let host = host();
    let error = host
        .load("junk", b"\0asm not really", None)
        .expect_err("invalid");
    assert!(
        error.to_string().contains("not a valid andon component"),
        "{error}"
    );
}

/// An orders CSV with a quoted field, a CRLF, a null, an invalid amount and
/// a ragged row.
const ORDERS: &str = "id,email,amount,at\r\n\
    1,a@x.io,10.5,2024-05-01T00:00:00Z\r\n\
    2,\"b,quoted\"@x.io,,2024-05-01\n\
    3,c@x.io,oops,2024-05-02T00:00:00+02:00\n\
    4,d@x.io,1.5\n";

fn orders() -> Fixture {
    Fixture {
        head_files: vec![("data/orders.csv", ORDERS.as_bytes().to_vec())],
        now: 1_714_521_600_000_000,
        ..Fixture::default()
    }
}

/// Runs the testbed's `dataset` mode and returns its `dataset` output.
fn read_dataset(
    host: &PluginHost,
    with: &serde_json::Value,
    inputs: Fixture,
) -> (serde_json::Value, StepOutcome) {
    let mut config = json!({ "mode": "dataset" });
    config
        .as_object_mut()
        .expect("an object")
        .extend(with.as_object().expect("an object").clone());
    let outcome = run_with(host, &config, inputs, &Limits::DEFAULT);
    assert_eq!(outcome.result, Ok(Vec::new()), "log: {}", outcome.log);
    let report = outcome
        .outputs
        .get("dataset")
        .cloned()
        .expect("the dataset output is set");
    (report, outcome)
}

#[test]
fn datasets_are_parsed_by_the_host_and_checked_by_the_plugin() {
    let host = host();
    let (report, outcome) = read_dataset(
        &host,
        &json!({
            "path": "data/orders.csv",
            "columns": [
                { "name": "amount", "type": "float" },
                { "name": "id", "type": "int" },
                { "name": "email" },
                { "name": "at", "type": "timestamp" },
            ],
            "batch_rows": 3,
            "row_hashes": true,
        }),
        orders(),
    );
    assert_eq!(report["header"], json!(["id", "email", "amount", "at"]));
    assert_eq!(report["size"], ORDERS.len());
    assert_eq!(report["now"], 1_714_521_600_000_000_i64);
    assert_eq!(
        (report["rows"].clone(), report["batches"].clone()),
        (json!(4), json!(2))
    );
    assert_eq!(report["contiguous"], true);
    assert_eq!(report["ragged"], json!([4]));
    assert_eq!(
        (report["hashes"].clone(), report["distinct_hashes"].clone()),
        (json!(4), json!(4))
    );
    let amount = &report["columns"][0];
    assert_eq!(amount["float_sum"], 12.0);
    assert_eq!(
        (
            amount["values"].clone(),
            amount["nulls"].clone(),
            amount["invalid"].clone()
        ),
        (json!(2), json!(1), json!(1))
    );
    let id = &report["columns"][1];
    assert_eq!(
        (id["int_sum"].clone(), id["values"].clone()),
        (json!("10"), json!(4))
    );
    let email = &report["columns"][2];
    assert_eq!(email["first"], json!(["a@x.io", "b,quoted@x.io", "c@x.io"]));
    let at = &report["columns"][3];
    let day = 19_844_i64 * 86_400_000_000;
    assert_eq!(
        at["first"],
        json!([day, day, day + 86_400_000_000 - 7_200_000_000])
    );
    assert_eq!(at["nulls"], 1);
    assert_eq!(
        outcome.datasets,
        vec![DatasetRead {
            source: "head:data/orders.csv".into(),
            content_id: "test:data/orders.csv".into(),
        }]
    );
}

#[test]
fn json_lines_artifacts_are_datasets_too() {
    let host = host();
    let inputs = Fixture {
        artifacts: vec![(
            "clean.jsonl",
            b"{\"n\": 1, \"tags\": [1]}\n{\"n\": null}\n\n{\"n\": \"3\", \"extra\": true}\n"
                .to_vec(),
        )],
        ..Fixture::default()
    };
    let (report, outcome) = read_dataset(
        &host,
        &json!({ "artifact": "clean.jsonl", "columns": [{ "name": "n", "type": "int" }, { "name": "tags" }] }),
        inputs,
    );
    assert_eq!(report["header"], json!(["n", "tags", "extra"]));
    assert_eq!(report["rows"], 3);
    assert_eq!(report["columns"][0]["int_sum"], "4");
    assert_eq!(report["columns"][0]["nulls"], 1);
    assert_eq!(report["columns"][1]["first"], json!(["[1]", null, null]));
    assert_eq!(
        outcome.datasets,
        vec![DatasetRead {
            source: "artifact:clean.jsonl".into(),
            content_id: String::new(),
        }]
    );
}

#[test]
fn dataset_errors_are_values_not_traps() {
    let host = host();
    let cases = [
        (
            json!({ "path": "data/orders.csv", "columns": [{ "name": "nope" }] }),
            "missing-column(nope)",
        ),
        (json!({ "path": "data/none.csv" }), "not-found("),
        (json!({ "path": "../orders.csv" }), "invalid-source("),
        (
            json!({ "path": "data/orders.csv", "side": "base" }),
            "invalid-source(",
        ),
        (
            json!({ "path": "data/orders.txt" }),
            "other(cannot tell the format",
        ),
        (json!({ "artifact": "" }), "invalid-source("),
        (json!({ "artifact": "missing.csv" }), "not-found("),
        (
            json!({ "path": "data/orders.csv", "format": "json-lines" }),
            "malformed(head:data/orders.csv: line 1",
        ),
        (
            json!({ "path": "data/broken.csv" }),
            "malformed(head:data/broken.csv: row 2",
        ),
    ];
    for (with, expected) in cases {
        let mut inputs = orders();
        inputs
            .head_files
            .push(("data/orders.txt", b"a\n1\n".to_vec()));
        inputs
            .head_files
            .push(("data/broken.csv", b"a\n1\n\"2\n".to_vec()));
        let (report, _) = read_dataset(&host, &with, inputs);
        let error = report["error"].as_str().unwrap_or_default();
        assert!(error.starts_with(expected), "{with}: {report}");
    }
    still_serves(&host);
}

#[test]
fn outputs_that_are_not_json_or_too_large_are_refused() {
    let host = host();
    let limits = Limits {
        output_bytes: 64 << 10,
        ..Limits::DEFAULT
    };
    let outcome = run_with(
        &host,
        &json!({ "mode": "outputs", "bytes": 100_000 }),
        Fixture::default(),
        &limits,
    );
    let body = comment(&outcome);
    assert!(body.contains("good: ok"), "{body}");
    assert!(
        body.contains("not-json: error: output `not-json` is not JSON"),
        "{body}"
    );
    assert!(
        body.contains("big: error: output `big` would bring"),
        "{body}"
    );
    assert_eq!(outcome.outputs.len(), 1, "{:?}", outcome.outputs);
    assert_eq!(outcome.outputs["good"], json!({ "kept": true }));
}
