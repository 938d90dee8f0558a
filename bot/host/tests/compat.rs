//! WIT versioning: a plugin built against the frozen `andon:plugin@0.1.0`
//! (`plugins/compat-v0-1`) still loads and runs on the current host, and
//! the frozen contract files never change.

use std::sync::Arc;

use andon_core::action::Action;
use andon_core::change::{AddedLine, ChangedFile, FileStatus, Side};
use andon_core::event::{Event, EventKind};
use andon_core::limits::Limits;
use andon_host::{HostConfig, Invocation, PluginHost, ReadError, StepError, StepInputs};
use sha2::{Digest, Sha256};

struct Change(Vec<ChangedFile>);

impl StepInputs for Change {
    fn changed_files(&self) -> &[ChangedFile] {
        &self.0
    }

    fn added_lines(&self, _path: &str) -> &[AddedLine] {
        &[]
    }

    fn read_file(&self, side: Side, path: &str) -> Result<Vec<u8>, ReadError> {
        match (side, path) {
            (Side::Head, "README.md") => Ok(b"# hello\n".to_vec()),
            _ => Err(ReadError::NotFound),
        }
    }
}

fn file(path: &str) -> ChangedFile {
    ChangedFile {
        path: path.into(),
        old_path: None,
        status: FileStatus::Modified,
        added: 1,
        removed: 0,
        binary: false,
    }
}

fn run(
    host: &PluginHost,
    event: &Event,
    config: &serde_json::Value,
) -> Result<Vec<Action>, StepError> {
    let plugin = host
        .load("compat-v0-1", andon_bundle::testing::COMPAT_V0_1, None)
        .expect("a 0.1.0 plugin loads");
    let inputs = Arc::new(Change(vec![file("a.rs"), file("b.rs")]));
    let invocation = Invocation {
        event,
        workflow: "compat",
        step_id: "old",
        config,
    };
    host.run_step(&plugin, invocation, inputs, &Limits::DEFAULT)
        .result
}

#[test]
fn a_plugin_built_against_0_1_0_still_runs() {
    let host = PluginHost::new(HostConfig::default()).expect("host");
    let plugin = host
        .load("compat-v0-1", andon_bundle::testing::COMPAT_V0_1, None)
        .expect("loads");
    assert_eq!(plugin.wit_version(), "andon:plugin@0.1.0");
    let manifest = host.manifest(&plugin).expect("describe works");
    assert_eq!(manifest.name, "compat-v0-1");

    // Fields 0.1.0 does not know (the author's permission, the default
    // branch) are dropped on the way in; host calls answer as before.
    let mut event = Event::new(EventKind::PullRequest, "octo/repo", "a".repeat(40));
    event.number = Some(7);
    event.author_permission = Some("admin".into());
    event.default_branch = Some("main".into());
    let actions = run(&host, &event, &serde_json::json!({})).expect("runs");
    assert_eq!(
        actions,
        vec![
            Action::Comment {
                body: "andon:plugin@0.1.0 saw 2 changed files in octo/repo; README.md: 8 bytes"
                    .into(),
                number: None,
            },
            Action::AddLabel {
                label: "compat/v0.1.0".into(),
                number: None,
            },
        ]
    );

    // Its errors still arrive typed.
    let error = run(&host, &event, &serde_json::json!({"fail": true})).expect_err("fails");
    assert!(
        matches!(error, StepError::InvalidConfig { .. }),
        "{error:?}"
    );

    // An event kind 0.1.0 has no word for is refused with what to do.
    let mut review = event.clone();
    review.kind = EventKind::Review;
    let error = run(&host, &review, &serde_json::json!({})).expect_err("refused");
    assert!(
        error
            .to_string()
            .contains("andon:plugin@0.1.0, which has no `review` events"),
        "{error}"
    );
}

#[test]
fn current_plugins_report_the_current_contract() {
    let host = PluginHost::new(HostConfig::default()).expect("host");
    let plugin = host
        .load("testbed", andon_bundle::testing::TESTBED, None)
        .expect("loads");
    assert_eq!(plugin.wit_version(), andon_host::WIT_VERSION);
    assert_eq!(
        andon_host::WIT_VERSIONS.last(),
        Some(&andon_host::WIT_VERSION)
    );
}

/// A shipped contract is frozen: plugins in the wild were built from
/// these bytes. Change `wit/plugin.wit` (and its version) instead.
#[test]
fn frozen_contracts_do_not_change() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../wit");
    let frozen = [(
        "v0.1.0/plugin.wit",
        "d8a95c27fd395def55fa6a0a8478878111c35077cb4276426576a71fcf21a5c9",
    )];
    for (path, expected) in frozen {
        let bytes = std::fs::read(root.join(path)).expect("frozen WIT");
        assert_eq!(
            hex::encode(Sha256::digest(&bytes)),
            expected,
            "wit/{path} is frozen: it was shipped"
        );
    }
}
