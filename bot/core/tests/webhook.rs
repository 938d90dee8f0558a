//! Webhook payloads: every real GitHub example routes, pings or is ignored,
//! never errors; the fields andon uses are read from the right places; and
//! broken or oddly shaped payloads give an error naming the field, never a
//! panic.
#![expect(
    clippy::disallowed_methods,
    reason = "the tests read their fixtures from disk; the library does not"
)]

use std::path::{Path, PathBuf};

use andon_core::command::Command;
use andon_core::event::EventKind;
use andon_core::webhook::{Incoming, Parsed, WebhookError, parse};
use serde_json::{Value, json};

const FIXTURES: &str = "../../tests/fixtures/github-webhooks";
const ME: Option<&str> = Some("andon[bot]");

fn fixture(event: &str, file: &str) -> Value {
    let path = Path::new(FIXTURES).join(event).join(file);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).expect("fixtures are JSON")
}

fn bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("serializes")
}

fn route(event: &str, payload: &Value) -> Incoming {
    match parse(event, &bytes(payload), ME) {
        Ok(Parsed::Route(incoming)) => incoming,
        other => panic!("expected a route for `{event}`, got {other:?}"),
    }
}

fn ignored(event: &str, payload: &Value) -> String {
    match parse(event, &bytes(payload), ME) {
        Ok(Parsed::Ignore { reason }) => reason,
        other => panic!("expected `{event}` to be ignored, got {other:?}"),
    }
}

fn error(event: &str, body: &[u8]) -> String {
    match parse(event, body, ME) {
        Err(error) => error.to_string(),
        other => panic!("expected an error for `{event}`, got {other:?}"),
    }
}

/// Every fixture file, as (event name, file name, path).
fn all_fixtures() -> Vec<(String, String, PathBuf)> {
    let mut files = Vec::new();
    for dir in std::fs::read_dir(FIXTURES).expect("fixtures folder") {
        let dir = dir.expect("entry").path();
        if !dir.is_dir() {
            continue;
        }
        let event = dir
            .file_name()
            .and_then(|n| n.to_str())
            .expect("utf-8")
            .to_string();
        for file in std::fs::read_dir(&dir).expect("event folder") {
            let path = file.expect("entry").path();
            if path.extension().is_some_and(|e| e == "json") {
                let name = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .expect("utf-8")
                    .to_string();
                files.push((event.clone(), name, path));
            }
        }
    }
    files.sort();
    files
}

/// One line per fixture: what andon does with it.
#[test]
fn every_real_payload_is_routed_pinged_or_ignored() {
    let files = all_fixtures();
    assert!(files.len() >= 50, "only {} fixtures found", files.len());
    let mut lines = Vec::new();
    for (event, name, path) in files {
        let body = std::fs::read(&path).expect("readable");
        let outcome = match parse(&event, &body, ME) {
            Ok(Parsed::Ping { zen }) => format!("ping: {}", zen.unwrap_or_default()),
            Ok(Parsed::Ignore { reason }) => format!("ignore: {reason}"),
            Ok(Parsed::Route(incoming)) => {
                let e = &incoming.event;
                format!(
                    "route: {} {} #{} head={} by {}",
                    e.kind,
                    e.action.as_deref().unwrap_or("-"),
                    e.number.map_or("-".to_string(), |n| n.to_string()),
                    e.head.get(..7).unwrap_or("?"),
                    incoming.sender,
                )
            }
            Err(error) => panic!("{event}/{name}: {error}"),
        };
        lines.push(format!("{event}/{name}: {outcome}"));
    }
    insta::assert_snapshot!("fixture_outcomes", lines.join("\n"));
}

#[test]
fn an_opened_pull_request_carries_everything_a_workflow_needs() {
    let incoming = route(
        "pull_request",
        &fixture("pull_request", "opened.payload.json"),
    );
    let e = &incoming.event;
    assert_eq!(e.kind, EventKind::PullRequest);
    assert_eq!(e.action.as_deref(), Some("opened"));
    assert_eq!(e.repository, "Codertocat/Hello-World");
    assert_eq!(e.number, Some(2));
    assert_eq!(e.author.as_deref(), Some("Codertocat"));
    assert_eq!(e.author_association.as_deref(), Some("OWNER"));
    assert_eq!(e.head, "ec26c3e57ca3a959ca5aad62de7213c562f8c821");
    assert_eq!(
        e.base.as_deref(),
        Some("f95f852bd8fca8fcc58a9a2d6c842781e32a215e")
    );
    assert_eq!(e.branch.as_deref(), Some("master"));
    assert_eq!(
        e.title.as_deref(),
        Some("Update the README with new information.")
    );
    assert_eq!(
        e.body.as_deref(),
        Some("This is a pretty simple change that we need to pull into master.")
    );
    assert_eq!(e.labels, ["bug"]);
    assert_eq!(e.command, None);
    assert_eq!(incoming.installation, Some(1));
    assert_eq!(
        incoming.clone_url.as_deref(),
        Some("https://github.com/Codertocat/Hello-World.git")
    );
    assert_eq!(incoming.default_branch.as_deref(), Some("master"));
    assert_eq!(incoming.sender, "Codertocat");
    assert_eq!(incoming.comment_id, None);
    assert!(incoming.commands.is_empty());
    assert!(!incoming.fork);
    assert_eq!(incoming.review_state, None);
}

#[test]
fn a_null_pull_request_body_is_no_body() {
    let incoming = route(
        "pull_request",
        &fixture("pull_request", "opened.with-null-body.json"),
    );
    assert_eq!(incoming.event.body, None);
}

#[test]
fn synchronize_routes_with_the_new_head() {
    let mut payload = fixture("pull_request", "synchronize.payload.json");
    payload["pull_request"]["head"]["sha"] = json!("1111111111111111111111111111111111111111");
    let incoming = route("pull_request", &payload);
    assert_eq!(incoming.event.action.as_deref(), Some("synchronize"));
    assert_eq!(
        incoming.event.head,
        "1111111111111111111111111111111111111111"
    );
    assert_eq!(incoming.event.kind, EventKind::PullRequest);
}

#[test]
fn pull_requests_from_forks_are_marked() {
    assert_eq!(
        error(
            "push",
            br#"{"sender": {"login": "a"}, "ref": "refs/heads/x", "after": ""}"#
        ),
        "the `push` payload has no `after`"
    );

    let mut payload = fixture("pull_request", "opened.payload.json");
    payload["pull_request"]["head"]["repo"]["full_name"] = json!("mallory/Hello-World");
    assert!(route("pull_request", &payload).fork);
    // A deleted fork has no head repository: still not the base.
    payload["pull_request"]["head"]["repo"] = Value::Null;
    assert!(route("pull_request", &payload).fork);
}

#[test]
fn unhandled_pull_request_actions_are_ignored_with_the_action() {
    let payload = fixture("pull_request", "assigned.payload.json");
    assert_eq!(
        ignored("pull_request", &payload),
        "pull_request action `assigned` is not handled"
    );
}

/// The fixtures' comments are on issues; the same comment on a pull request
/// differs only by `issue.pull_request`.
fn comment_on_pull_request(body: &str) -> Value {
    let mut payload = fixture("issue_comment", "created.with-installation.payload.json");
    payload["issue"]["pull_request"] = json!({
        "url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/1"
    });
    payload["comment"]["body"] = json!(body);
    payload
}

#[test]
fn a_comment_on_a_pull_request_routes_with_its_commands() {
    let payload = comment_on_pull_request("Looks fine.\r\n/andon run data-check\r\n/lgtm\r\n");
    let incoming = route("issue_comment", &payload);
    let e = &incoming.event;
    assert_eq!(e.kind, EventKind::Comment);
    assert_eq!(e.action.as_deref(), Some("created"));
    assert_eq!(e.number, Some(1));
    assert_eq!(e.head, "", "the worker fetches the head");
    assert_eq!(e.author.as_deref(), Some("Codertocat"));
    assert_eq!(e.author_association.as_deref(), Some("OWNER"));
    assert_eq!(e.labels, ["bug"]);
    assert_eq!(incoming.comment_id, Some(492_700_400));
    assert_eq!(incoming.installation, Some(1));
    let commands: Vec<(usize, &str, &Command)> = incoming
        .commands
        .iter()
        .map(|c| (c.line, c.text.as_str(), &c.command))
        .collect();
    assert_eq!(
        commands,
        [
            (
                2,
                "/andon run data-check",
                &Command::Run {
                    workflow: "data-check".into()
                }
            ),
            (
                3,
                "/lgtm",
                &Command::Custom {
                    name: "lgtm".into(),
                    args: vec![]
                }
            ),
        ]
    );
}

#[test]
fn comments_on_issues_and_edits_are_ignored() {
    let payload = fixture("issue_comment", "created.payload.json");
    assert_eq!(
        ignored("issue_comment", &payload),
        "comment on an issue, not a pull request"
    );
    let mut edited = comment_on_pull_request("/andon rerun");
    edited["action"] = json!("edited");
    assert_eq!(
        ignored("issue_comment", &edited),
        "issue_comment action `edited` is not handled"
    );
}

#[test]
fn a_submitted_review_routes_as_a_comment() {
    let mut payload = fixture("pull_request_review", "submitted.payload.json");
    let incoming = route("pull_request_review", &payload);
    assert_eq!(incoming.event.kind, EventKind::Comment);
    assert_eq!(incoming.event.action.as_deref(), Some("review_submitted"));
    assert_eq!(incoming.event.number, Some(2));
    assert_eq!(
        incoming.event.head,
        "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
    );
    assert_eq!(incoming.event.body, None);
    assert_eq!(incoming.review_state.as_deref(), Some("commented"));
    assert!(incoming.commands.is_empty());

    payload["review"]["body"] = json!("Ship it.\n/lgtm");
    payload["review"]["state"] = json!("approved");
    let incoming = route("pull_request_review", &payload);
    assert_eq!(incoming.review_state.as_deref(), Some("approved"));
    assert_eq!(incoming.commands.len(), 1);
    assert_eq!(incoming.commands[0].line, 2);

    let dismissed = fixture("pull_request_review", "dismissed.payload.json");
    assert_eq!(
        ignored("pull_request_review", &dismissed),
        "pull_request_review action `dismissed` is not handled"
    );
}

#[test]
fn a_branch_push_routes_and_tags_and_deletions_are_ignored() {
    let mut payload = fixture("push", "with-new-branch.payload.json");
    let incoming = route("push", &payload);
    let e = &incoming.event;
    assert_eq!(e.kind, EventKind::Push);
    assert_eq!(e.head, "6113728f27ae82c7b1a177c8d03f9e96e0adf246");
    assert_eq!(e.base, None, "a new branch has no before");
    assert_eq!(e.branch.as_deref(), Some("master"));
    assert_eq!(e.number, None);

    payload["before"] = json!("f95f852bd8fca8fcc58a9a2d6c842781e32a215e");
    payload["ref"] = json!("refs/heads/feature/x");
    let incoming = route("push", &payload);
    assert_eq!(
        incoming.event.base.as_deref(),
        Some("f95f852bd8fca8fcc58a9a2d6c842781e32a215e")
    );
    assert_eq!(incoming.event.branch.as_deref(), Some("feature/x"));

    assert_eq!(
        ignored("push", &fixture("push", "payload.json")),
        "push of tag `simple-tag` is not handled"
    );
    payload["deleted"] = json!(true);
    payload["after"] = json!("0000000000000000000000000000000000000000");
    assert_eq!(ignored("push", &payload), "branch `feature/x` was deleted");
}

#[test]
fn installations_are_ignored_with_what_happened() {
    assert_eq!(
        ignored(
            "installation",
            &fixture("installation", "deleted.payload.json")
        ),
        "installation deleted for 1 repository by octocat"
    );
    assert_eq!(
        ignored(
            "installation",
            &fixture("installation", "suspend.payload.json")
        ),
        "installation suspend by Codertocat"
    );
}

#[test]
fn ping_answers_with_zen() {
    let body = bytes(&fixture("ping", "payload.json"));
    assert_eq!(
        parse("ping", &body, ME),
        Ok(Parsed::Ping {
            zen: Some("Anything added dilutes everything else.".into())
        })
    );
    assert_eq!(parse("ping", b"{}", ME), Ok(Parsed::Ping { zen: None }));
}

#[test]
fn unknown_events_are_ignored() {
    let payload = fixture("workflow_dispatch", "payload.json");
    assert_eq!(
        ignored("workflow_dispatch", &payload),
        "event `workflow_dispatch` is not handled"
    );
}

#[test]
fn andon_does_not_answer_itself() {
    let mut payload = comment_on_pull_request("/andon help");
    payload["sender"]["login"] = json!("andon[bot]");
    payload["sender"]["type"] = json!("Bot");
    assert_eq!(ignored("issue_comment", &payload), "sent by andon itself");
    // An App's bot account matches the App's bare name too.
    assert_eq!(
        parse("issue_comment", &bytes(&payload), Some("andon")),
        Ok(Parsed::Ignore {
            reason: "sent by andon itself".into()
        })
    );
    // Without a login to compare, everyone is heard.
    assert!(matches!(
        parse("issue_comment", &bytes(&payload), None),
        Ok(Parsed::Route(_))
    ));
}

#[test]
fn broken_payloads_are_errors_that_name_the_problem() {
    assert!(error("push", b"").starts_with("the `push` payload is not valid JSON: "));
    assert!(error("push", b"{\"ref\": ").starts_with("the `push` payload is not valid JSON: "));
    assert_eq!(
        error("push", b"[]"),
        "the `push` payload should be a JSON object, found an array"
    );
    assert_eq!(
        error("ping", b"null"),
        "the `ping` payload should be a JSON object, found null"
    );
    assert_eq!(
        error("pull_request", b"{}"),
        "the `pull_request` payload has no `sender.login`"
    );
    assert_eq!(
        error("pull_request", br#"{"sender": {"login": 7}}"#),
        "`sender.login` in the `pull_request` payload should be a string, found a number"
    );

    assert_eq!(
        error(
            "push",
            br#"{"sender": {"login": "a"}, "ref": "refs/heads/x", "after": ""}"#
        ),
        "the `push` payload has no `after`"
    );

    let mut payload = fixture("pull_request", "opened.payload.json");
    payload["pull_request"]["head"]
        .as_object_mut()
        .expect("object")
        .remove("sha");
    assert_eq!(
        error("pull_request", &bytes(&payload)),
        "the `pull_request` payload has no `pull_request.head.sha`"
    );
    payload["pull_request"] = json!("2");
    assert_eq!(
        error("pull_request", &bytes(&payload)),
        "`pull_request` in the `pull_request` payload should be an object, found a string"
    );

    let mut payload = comment_on_pull_request("/andon help");
    payload["comment"]["id"] = json!(-1);
    assert_eq!(
        error("issue_comment", &bytes(&payload)),
        "`comment.id` in the `issue_comment` payload should be a positive integer, found a number"
    );
    assert!(matches!(
        parse("issue_comment", b"{", ME),
        Err(WebhookError::Json { .. })
    ));
}

/// Representative payloads of each handled event, as deliveries.
fn samples() -> Vec<(&'static str, Value)> {
    let mut review = fixture("pull_request_review", "submitted.payload.json");
    review["review"]["body"] = json!("/lgtm\n/andon rerum");
    vec![
        (
            "pull_request",
            fixture("pull_request", "opened.payload.json"),
        ),
        (
            "issue_comment",
            comment_on_pull_request("/andon run x\n/lgtm"),
        ),
        ("pull_request_review", review),
        ("push", fixture("push", "with-new-branch.payload.json")),
        (
            "installation",
            fixture("installation", "created.payload.json"),
        ),
        ("ping", fixture("ping", "payload.json")),
    ]
}

#[test]
fn truncated_payloads_are_errors_at_every_cut() {
    for (event, payload) in samples() {
        let body = serde_json::to_vec_pretty(&payload).expect("serializes");
        // Every cut near the ends, and a few hundred in between.
        let edges = (0..512).chain(body.len().saturating_sub(512)..body.len());
        let middle = (0..body.len()).step_by(body.len() / 300 + 1);
        for cut in edges.chain(middle).filter(|cut| *cut < body.len()) {
            assert!(
                matches!(
                    parse(event, &body[..cut], ME),
                    Err(WebhookError::Json { .. })
                ),
                "{event} cut at {cut} of {}",
                body.len()
            );
        }
        assert!(parse(event, &body, ME).is_ok(), "{event} whole");
    }
}

/// Every node of `value`, by JSON pointer.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let child_at = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
                pointers(child, child_at, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                pointers(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

/// `value` keeping only the keys andon reads (and two items per list), so
/// that replacing each of its nodes stays quick.
fn pruned(value: &Value) -> Value {
    const READ: &[&str] = &[
        "action",
        "after",
        "author_association",
        "base",
        "before",
        "body",
        "clone_url",
        "comment",
        "default_branch",
        "deleted",
        "full_name",
        "head",
        "id",
        "installation",
        "issue",
        "labels",
        "login",
        "master_branch",
        "name",
        "number",
        "pull_request",
        "ref",
        "repo",
        "repositories",
        "repository",
        "review",
        "sender",
        "sha",
        "state",
        "title",
        "type",
        "user",
        "zen",
    ];
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(key, _)| READ.contains(&key.as_str()))
                .map(|(key, child)| (key.clone(), pruned(child)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().take(2).map(pruned).collect()),
        other => other.clone(),
    }
}

/// Replacing any node andon reads with a value of another shape, or
/// removing it, gives a result or an error, never a panic.
#[test]
fn reshaped_payloads_never_panic() {
    let replacements = [
        Value::Null,
        json!(-1),
        json!(1.5),
        json!(u64::MAX),
        json!(""),
        json!("0000000000000000000000000000000000000000"),
        json!([]),
        json!({}),
        json!(true),
    ];
    let mut cases = 0;
    for (event, payload) in samples() {
        let payload = pruned(&payload);
        assert!(parse(event, &bytes(&payload), ME).is_ok(), "{event} pruned");
        let mut all = Vec::new();
        pointers(&payload, String::new(), &mut all);
        for pointer in all.iter().filter(|p| !p.is_empty()) {
            for replacement in &replacements {
                let mut changed = payload.clone();
                if let Some(node) = changed.pointer_mut(pointer) {
                    *node = replacement.clone();
                }
                let _ = parse(event, &bytes(&changed), ME);
                cases += 1;
            }
            let (parent, key) = pointer.rsplit_once('/').expect("a pointer has a slash");
            let mut removed = payload.clone();
            if let Some(Value::Object(map)) = removed.pointer_mut(parent) {
                map.remove(&key.replace("~1", "/").replace("~0", "~"));
            }
            let _ = parse(event, &bytes(&removed), ME);
        }
    }
    assert!(cases > 1_000, "only {cases} cases");
}

/// Every handled event name with payloads of every JSON shape.
#[test]
fn any_event_with_any_json_never_panics() {
    let events = [
        "pull_request",
        "issue_comment",
        "pull_request_review",
        "push",
        "installation",
        "ping",
        "",
        "x",
    ];
    let bodies: [&[u8]; 9] = [
        b"",
        b"{}",
        b"[]",
        b"\"x\"",
        b"0",
        b"{\"sender\": {\"login\": \"a\"}, \"action\": \"opened\"}",
        b"{\"sender\": {\"login\": \"a\"}, \"action\": \"created\", \"issue\": {\"pull_request\": {}}}",
        b"{\"sender\": {\"login\": \"a\"}, \"ref\": \"refs/heads/x\", \"after\": \"\"}",
        &[0xff, 0xfe, b'{'],
    ];
    for event in events {
        for body in bodies {
            let _ = parse(event, body, ME);
        }
    }
    // Nesting deeper than serde_json's recursion limit is an error, not a
    // stack overflow.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(parse("push", deep.as_bytes(), ME).is_err());
}
