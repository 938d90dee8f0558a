//! `andon serve` end to end: the real binary, the fake GitHub over HTTP,
//! real git repositories as remotes, real signed payloads.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use andon_testkit::github::{FakeGitHub, Permission};
use andon_testkit::webhook::{Delivery, Payload, fixtures_dir};
use serde_json::Value;

use crate::server::{
    REPO, SECRET, Server, api_status, comment, github_with_pull, origin_with_review, pull_request,
};
use crate::support::{TestRepo, andon, assert_contains, stdout};

const WAIT: Duration = Duration::from_secs(60);

fn deliveries(server: &Server) -> Vec<Value> {
    let out = andon(
        &server.data,
        &["deliveries", "list", "--format", "json", "--limit", "10000"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Value>(&out.stdout)
        .expect("deliveries list is JSON")
        .as_array()
        .cloned()
        .expect("an array")
}

fn workflow_check<'a>(
    runs: &'a [andon_testkit::github::CheckRun],
    name: &str,
) -> Option<&'a andon_testkit::github::CheckRun> {
    runs.iter().find(|r| r.name == name)
}

#[test]
fn a_pull_request_gets_check_runs_and_labels() {
    let (origin, base, head) = origin_with_review();
    let github = github_with_pull(7, &base, &head);
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(data.path(), &github.url(), &[]);

    let payload = pull_request("opened", &origin, 7, &base, &head);
    let (status, body) = server.post(&payload.delivery("pr-opened-1"));
    assert_eq!(status, 202, "{body}");

    let done = github.wait_for(
        |gh| {
            gh.check_runs(REPO)
                .iter()
                .filter(|r| r.status == "completed")
                .count()
                >= 2
                && gh.labels(REPO, 7).iter().any(|l| l.starts_with("size/"))
        },
        WAIT,
    );
    assert!(done, "no check runs and label:\n{}", server.log());
    let runs = github.check_runs(REPO);
    let review = workflow_check(&runs, "andon / review").expect("the workflow's check run");
    assert_eq!(review.head_sha, head);
    assert_eq!(review.conclusion.as_deref(), Some("success"), "{review:?}");
    assert!(
        review.updates >= 1,
        "created in progress, then completed: {review:?}"
    );
    let scan = workflow_check(&runs, "secret-scan").expect("secret-scan's check run");
    assert_eq!(scan.conclusion.as_deref(), Some("success"));
    assert_eq!(github.labels(REPO, 7), vec!["size/XS".to_string()]);

    // The first call for the workflow creates its check run in progress.
    let calls = github.calls();
    let first_post = calls
        .iter()
        .find(|c| c.method == "POST" && c.path.ends_with("/check-runs"))
        .expect("a check run was created");
    assert_eq!(first_post.body["status"], "in_progress", "{first_post:?}");
    // Tokens never travel anywhere but the Authorization header.
    assert!(
        calls
            .iter()
            .all(|c| !c.body.to_string().contains("e2e-token"))
    );

    // The CLI reads through the server while it holds the store.
    assert!(server.wait_idle(WAIT), "{}", server.log());
    let list = deliveries(&server);
    assert_eq!(list.len(), 1, "{list:#?}");
    assert_eq!(list[0]["id"], "pr-opened-1");
    assert_eq!(list[0]["event"], "pull_request");
    assert_eq!(list[0]["state"]["state"], "done");
    let runs = andon(&server.data, &["runs", "--format", "json"]);
    assert!(
        runs.status.success(),
        "{}",
        String::from_utf8_lossy(&runs.stderr)
    );
    let runs: Value = serde_json::from_slice(&runs.stdout).expect("JSON");
    assert_eq!(runs[0]["workflow"], "review");
    let id = runs[0]["id"].as_u64().expect("a run id").to_string();
    let shown = andon(&server.data, &["runs", "show", &id]);
    assert_contains(
        &stdout(&shown),
        &["size", "secret-scan", "on GitHub:", "done:"],
    );
    // Artifacts too: none yet, asked of the server rather than the store.
    let artifacts = andon(&server.data, &["artifacts", "list", "--format", "json"]);
    assert!(
        artifacts.status.success(),
        "{}",
        String::from_utf8_lossy(&artifacts.stderr)
    );
    let artifacts: Value = serde_json::from_slice(&artifacts.stdout).expect("JSON");
    assert_eq!(artifacts, serde_json::json!([]));
    assert!(
        !server.log().contains("e2e-token"),
        "a token reached the log"
    );
}

#[test]
fn intake_verifies_dedups_and_refuses_clearly() {
    let github = FakeGitHub::start();
    let data = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start(data.path(), &github.url(), &[]);
    let payload = Payload::fixture("pull_request", "assigned.payload.json");
    let delivery = payload.delivery("dup-1");

    assert_eq!(server.post(&delivery).0, 202);
    let (status, body) = server.post(&delivery);
    assert_eq!(status, 200, "a redelivery is acknowledged: {body}");
    assert!(body.contains("duplicate"), "{body}");

    // A signature made with another secret, a tampered body, none at all.
    let wrong = delivery.post(&server.webhook(), b"not-the-secret");
    assert_eq!(wrong.0, 401, "{}", wrong.1);
    assert!(wrong.1.contains("X-Hub-Signature-256"), "{}", wrong.1);
    let unsigned = andon_testkit::client::send_blocking(
        "POST",
        &server.webhook(),
        &[
            ("content-type", "application/json"),
            ("x-github-event", "push"),
            ("x-github-delivery", "unsigned-1"),
        ],
        b"{}".to_vec(),
    )
    .expect("request");
    assert_eq!(unsigned.status, 401);
    // The rotated-out secret still works during the rotation.
    assert_eq!(
        payload
            .delivery("old-secret-1")
            .post(&server.webhook(), b"old-secret")
            .0,
        202
    );
    // Malformed JSON, correctly signed: a clear 400, nothing stored.
    let broken = Delivery::new("push", "broken-1", b"{\"ref\": ".to_vec());
    let (status, body) = server.post(&broken);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("not valid JSON"), "{body}");
    // A form-encoded webhook is refused with the fix.
    let sig = andon_testkit::webhook::sign(SECRET, b"payload=%7B%7D");
    let form = andon_testkit::client::send_blocking(
        "POST",
        &server.webhook(),
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("x-github-event", "push"),
            ("x-github-delivery", "form-1"),
            ("x-hub-signature-256", sig.as_str()),
        ],
        b"payload=%7B%7D".to_vec(),
    )
    .expect("request");
    assert_eq!(form.status, 415);
    assert!(form.text().contains("application/json"));
    // ping answers 200 and is not stored.
    let ping = Payload::fixture("ping", "payload.json").delivery("ping-1");
    assert_eq!(server.post(&ping).0, 200);

    assert!(server.wait_idle(WAIT), "{}", server.log());
    let list = deliveries(&server);
    let ids: Vec<&str> = list.iter().filter_map(|d| d["id"].as_str()).collect();
    assert_eq!(ids, vec!["old-secret-1", "dup-1"], "{list:#?}");
    assert!(
        list.iter().all(|d| d["state"]["state"] == "ignored"),
        "{list:#?}"
    );

    // A graceful stop drains and removes serve.json.
    let status = server.terminate();
    assert!(status.success(), "{status:?}\n{}", server.log());
    assert!(!data.path().join("serve.json").exists());
    // The store is readable directly once the server is gone.
    assert_eq!(deliveries(&server).len(), 2);
}

#[test]
fn every_fixture_is_acknowledged_and_settled_without_a_5xx() {
    let github = FakeGitHub::start();
    let data = tempfile::tempdir().expect("tempdir");
    let nowhere = data.path().join("no-such-remotes");
    let server = Server::start(
        data.path(),
        &github.url(),
        &[("ANDON_GIT_BASE_URL", nowhere.to_str().expect("utf-8"))],
    );
    let mut sent = 0;
    for event in std::fs::read_dir(fixtures_dir()).expect("fixtures") {
        let event = event.expect("entry").path();
        if !event.is_dir() {
            continue;
        }
        let name = event
            .file_name()
            .expect("name")
            .to_string_lossy()
            .to_string();
        for file in std::fs::read_dir(&event).expect("fixtures") {
            let file = file.expect("entry").path();
            let body = std::fs::read(&file).expect("read fixture");
            let id = format!(
                "{name}-{}",
                file.file_name().expect("name").to_string_lossy()
            );
            let (status, answer) = Delivery::new(&name, &id, body).post(&server.webhook(), SECRET);
            assert!(
                (200..300).contains(&status),
                "{} got {status}: {answer}",
                file.display()
            );
            sent += 1;
        }
    }
    assert!(sent >= 50, "only {sent} fixtures");
    // Each one ends routed or ignored with a reason (or failed: the remotes
    // do not exist), and the server is still up.
    let deadline = Instant::now() + WAIT;
    loop {
        let list = deliveries(&server);
        let settled = list
            .iter()
            .filter(|d| d["state"]["state"] != "pending")
            .count();
        let routed_ignored = list
            .iter()
            .filter(|d| d["state"]["state"] == "ignored")
            .all(|d| d["state"]["reason"].as_str().is_some_and(|r| !r.is_empty()));
        assert!(
            routed_ignored,
            "an ignored delivery has no reason: {list:#?}"
        );
        // Deliveries needing a fetch retry with backoff; the others settle.
        if settled
            + list
                .iter()
                .filter(|d| d["attempts"].as_u64() > Some(0))
                .count()
            >= list.len()
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "deliveries did not settle: {list:#?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let log = server.log();
    assert!(!log.contains("panicked"), "{log}");
    assert!(
        api_status(&server.data).is_some(),
        "the server stopped:\n{log}"
    );
    assert_contains(&log, &["pull_request action `assigned` is not handled"]);
}

#[test]
fn commands_get_replies_reactions_and_permission_checks() {
    let (origin, base, head) = origin_with_review();
    let github = github_with_pull(3, &base, &head);
    github.set_permission(REPO, "maintainer", Permission::Write);
    github.set_permission(REPO, "visitor", Permission::Read);
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(data.path(), &github.url(), &[]);

    let help = github.add_comment(REPO, 3, "maintainer", "/andon help\n/andon rerum");
    let payload = comment(&origin, 3, "maintainer", "/andon help\n/andon rerum")
        .set("/comment/id", serde_json::json!(help));
    assert_eq!(server.post(&payload.delivery("cmd-1")).0, 202);
    let refused = github.add_comment(REPO, 3, "visitor", "/andon run review");
    let payload = comment(&origin, 3, "visitor", "/andon run review")
        .set("/comment/id", serde_json::json!(refused));
    assert_eq!(server.post(&payload.delivery("cmd-2")).0, 202);
    let run = github.add_comment(REPO, 3, "maintainer", "/andon run review");
    let payload = comment(&origin, 3, "maintainer", "/andon run review")
        .set("/comment/id", serde_json::json!(run));
    assert_eq!(server.post(&payload.delivery("cmd-3")).0, 202);

    assert!(server.wait_idle(WAIT), "{}", server.log());
    let bot: Vec<String> = github
        .comments(REPO, 3)
        .into_iter()
        .filter(|c| c.author == "andon-bot")
        .map(|c| c.body)
        .collect();
    assert_eq!(bot.len(), 3, "{bot:#?}");
    assert!(
        bot.iter()
            .any(|b| b.contains("/andon ok-to-test") && b.contains("/andon run review")),
        "help lists commands and workflows: {bot:#?}"
    );
    assert!(
        bot.iter()
            .any(|b| b.contains("Did you mean `/andon rerun`?")),
        "{bot:#?}"
    );
    assert!(
        bot.iter()
            .any(|b| b.contains("needs `write`") && b.contains("@visitor")),
        "{bot:#?}"
    );
    let reactions = |id| -> Vec<String> {
        github
            .reactions(id)
            .into_iter()
            .map(|r| r.content)
            .collect()
    };
    assert!(
        reactions(help).contains(&"eyes".to_string()),
        "{:?}",
        reactions(help)
    );
    assert!(reactions(help).contains(&"confused".to_string()));
    assert_eq!(reactions(refused), vec!["confused".to_string()]);
    assert_eq!(reactions(run), vec!["rocket".to_string()]);
    // `/andon run review` ran the workflow on the pull request's head,
    // looked up through the API.
    let runs = github.check_runs(REPO);
    let review = workflow_check(&runs, "andon / review").expect("check run");
    assert_eq!(review.head_sha, head);
    // Permission came from the API, never from the payload's association.
    assert!(
        github
            .calls()
            .iter()
            .any(|c| c.path.ends_with("/collaborators/visitor/permission"))
    );
}

#[test]
fn a_fork_waits_for_ok_to_test() {
    let (origin, base, head) = origin_with_review();
    let github = FakeGitHub::start();
    let mut pr = andon_testkit::github::PullRequest::new(REPO, 9, &head, &base);
    pr.author = "outsider".into();
    pr.head_repo = Some("outsider/widgets".into());
    github.add_pull_request(pr);
    github.set_permission(REPO, "maintainer", Permission::Maintain);
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(data.path(), &github.url(), &[]);

    let mut opened = pull_request("opened", &origin, 9, &base, &head).author("outsider");
    opened.json["pull_request"]["head"]["repo"]["full_name"] = "outsider/widgets".into();
    assert_eq!(server.post(&opened.delivery("fork-1")).0, 202);
    assert!(server.wait_idle(WAIT), "{}", server.log());
    assert!(
        github.check_runs(REPO).is_empty(),
        "nothing runs for an untrusted fork"
    );
    let waiting = github.comments(REPO, 9);
    assert_eq!(waiting.len(), 1, "{waiting:#?}");
    assert!(waiting[0].body.contains("/andon ok-to-test"));

    let id = github.add_comment(REPO, 9, "maintainer", "/andon ok-to-test");
    let ok = comment(&origin, 9, "maintainer", "/andon ok-to-test")
        .set("/comment/id", serde_json::json!(id));
    assert_eq!(server.post(&ok.delivery("fork-2")).0, 202);
    assert!(
        github.wait_for(
            |gh| workflow_check(&gh.check_runs(REPO), "andon / review")
                .is_some_and(|r| r.status == "completed"),
            WAIT
        ),
        "{}",
        server.log()
    );
    // Later pushes to the fork run without asking again.
    assert_eq!(
        server
            .post(
                &pull_request("synchronize", &origin, 9, &base, &head)
                    .author("outsider")
                    .delivery("fork-3")
            )
            .0,
        202
    );
    assert!(server.wait_idle(WAIT), "{}", server.log());
    let list = deliveries(&server);
    assert_eq!(list[0]["state"]["state"], "done", "{list:#?}");
    assert!(
        !list[0]["state"]["runs"]
            .as_array()
            .expect("runs")
            .is_empty()
    );
}

#[test]
fn sticky_comments_are_edited_in_place_and_rate_limits_are_honoured() {
    let origin = TestRepo::new();
    origin.write("plugins/testbed.wasm", andon_bundle::testing::TESTBED);
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(andon_bundle::testing::TESTBED))
    };
    origin.write(
        ".andon/workflows/counter.yml",
        format!(
            "name: counter\non: {{ pull_request: {{ types: [opened, synchronize] }} }}\nsteps:\n  - id: count\n    uses: ./plugins/testbed.wasm\n    sha256: {sha}\n    with: {{ mode: kv }}\n    permissions: [comment, kv]\n"
        ),
    );
    let base = origin.commit_all("base");
    origin.git(&["checkout", "-q", "-b", "feature"]);
    origin.write("a.txt", "a\n");
    let head = origin.commit_all("a");
    origin.git(&["checkout", "-q", "main"]);
    let github = github_with_pull(4, &base, &head);
    // The first comment creation is rate limited.
    github.fail_next(
        "POST",
        &format!("/repos/{REPO}/issues/4/comments"),
        429,
        &[("retry-after", "1")],
        1,
    );
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(data.path(), &github.url(), &[]);
    assert_eq!(
        server
            .post(&pull_request("opened", &origin, 4, &base, &head).delivery("s-1"))
            .0,
        202
    );
    assert!(
        github.wait_for(|gh| gh.comments(REPO, 4).len() == 1, WAIT),
        "{}",
        server.log()
    );
    let limited = Instant::now();
    assert_eq!(
        server
            .post(&pull_request("synchronize", &origin, 4, &base, &head).delivery("s-2"))
            .0,
        202
    );
    assert!(
        github.wait_for(
            |gh| gh
                .comments(REPO, 4)
                .first()
                .is_some_and(|c| c.body.contains("counter=2")),
            WAIT
        ),
        "{:#?}\n{}",
        github.comments(REPO, 4),
        server.log()
    );
    let _ = limited;
    let comments = github.comments(REPO, 4);
    assert_eq!(
        comments.len(),
        1,
        "one sticky comment, edited: {comments:#?}"
    );
    assert_eq!(comments[0].edits, 1);
    assert!(comments[0].body.contains("<!-- andon:sticky:"));
    let calls = github.calls();
    let creates: Vec<_> = calls
        .iter()
        .filter(|c| c.method == "POST" && c.path.ends_with("/issues/4/comments"))
        .collect();
    assert_eq!(creates.len(), 2, "one 429, then one create: {creates:#?}");
    assert_eq!(creates[0].status, 429);
    assert!(
        creates[1].at.duration_since(creates[0].at) >= Duration::from_millis(900),
        "Retry-After was not honoured"
    );
}

#[test]
fn replay_runs_a_payload_without_github() {
    let (origin, base, head) = origin_with_review();
    let data = tempfile::tempdir().expect("tempdir");
    let payload = pull_request("opened", &origin, 5, &base, &head);
    let file = data.path().join("payload.json");
    std::fs::write(&file, payload.to_bytes()).expect("write payload");
    let out = andon(
        data.path(),
        &[
            "replay",
            file.to_str().expect("utf-8"),
            "--event",
            "pull_request",
            "--repo",
            origin.path().to_str().expect("utf-8"),
            "--format",
            "json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["status"], "success", "{json:#}");
    let kinds: Vec<&str> = json["effects"]
        .as_array()
        .expect("effects")
        .iter()
        .filter_map(|e| e["effect"]["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"check-run-finish"), "{kinds:?}");
    assert!(kinds.contains(&"label"), "{kinds:?}");
    // An unknown event is ignored with its reason; a broken file is refused.
    std::fs::write(&file, b"{}").expect("write");
    let out = andon(
        data.path(),
        &["replay", file.to_str().expect("utf-8"), "--event", "gollum"],
    );
    assert!(out.status.success());
    assert_contains(&stdout(&out), &["ignored: event `gollum` is not handled"]);
    std::fs::write(&file, b"{ nope").expect("write");
    let out = andon(
        data.path(),
        &["replay", file.to_str().expect("utf-8"), "--event", "push"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_contains(&String::from_utf8_lossy(&out.stderr), &["not valid JSON"]);
}

/// Deliveries sent while the server is killed with SIGKILL at random
/// moments: every delivery that got a 2xx is processed exactly once, and
/// nothing is done twice on GitHub.
#[test]
fn no_acknowledged_delivery_is_lost_or_repeated_across_kill_9() {
    let (origin, base, head) = origin_with_review();
    let github = FakeGitHub::start();
    for n in 1..=4 {
        github.add_pull_request(andon_testkit::github::PullRequest::new(
            REPO, n, &head, &base,
        ));
    }
    let data = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start(data.path(), &github.url(), &[]);
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    eprintln!("crash test seed {seed}");
    let mut random = move |below: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % below
    };
    let mut acknowledged: Vec<String> = Vec::new();
    let mut next = 0u64;
    for _round in 0..5 {
        let kill_at = Instant::now() + Duration::from_millis(50 + random(400));
        while Instant::now() < kill_at {
            next += 1;
            let id = format!("crash-{next}");
            let payload = pull_request("synchronize", &origin, 1 + next % 4, &base, &head);
            let (status, _) = payload.delivery(&id).post(&server.webhook(), SECRET);
            if (200..300).contains(&status) {
                acknowledged.push(id);
            }
        }
        server.kill9();
        server.restart();
    }
    assert!(
        acknowledged.len() >= 10,
        "only {} deliveries acknowledged",
        acknowledged.len()
    );
    assert!(
        server.wait_idle(Duration::from_secs(180)),
        "{}",
        server.log()
    );

    let list = deliveries(&server);
    let by_id: BTreeMap<&str, &Value> = list
        .iter()
        .filter_map(|d| Some((d["id"].as_str()?, d)))
        .collect();
    for id in &acknowledged {
        assert!(
            by_id.contains_key(id.as_str()),
            "{id} was acknowledged and lost"
        );
    }
    // Every stored delivery (acknowledged, or stored just before a kill
    // cut the answer off) was processed exactly once.
    let mut run_ids = HashSet::new();
    for delivery in &list {
        assert_eq!(delivery["state"]["state"], "done", "{delivery:#}");
        let runs = delivery["state"]["runs"].as_array().expect("runs");
        assert_eq!(runs.len(), 1, "one review run per delivery: {delivery:#}");
        for run in runs {
            assert!(
                run_ids.insert(run.as_u64().expect("id")),
                "run {run} claimed twice"
            );
        }
    }
    // Every run in the store belongs to exactly one delivery: none was
    // processed twice.
    let runs = andon(
        &server.data,
        &["runs", "--format", "json", "--limit", "100000"],
    );
    let runs: Value = serde_json::from_slice(&runs.stdout).expect("JSON");
    assert_eq!(runs.as_array().expect("runs").len(), run_ids.len());
    // Nothing was done twice on GitHub: one check run per external id, and
    // each created once.
    let mut created = BTreeMap::<String, usize>::new();
    for call in github.calls() {
        if call.method == "POST" && call.path.ends_with("/check-runs") && call.status == 201 {
            let key = call.body["external_id"].as_str().unwrap_or("").to_string();
            *created.entry(key).or_default() += 1;
        }
    }
    let repeated: Vec<_> = created.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        repeated.is_empty(),
        "check runs created twice: {repeated:?}"
    );
    let finished = github
        .check_runs(REPO)
        .into_iter()
        .filter(|r| r.name == "andon / review" && r.status == "completed")
        .count();
    assert_eq!(finished, list.len());
}

#[test]
fn workflow_commands_typos_and_review_bodies() {
    let (origin, base, head) = origin_with_review();
    origin.write(
        ".andon/workflows/recheck.yml",
        "name: recheck\non:\n  comment: { command: recheck, permission: write }\nsteps:\n  - id: size\n    uses: size\n    permissions: [labels]\n",
    );
    origin.commit_all("a comment-triggered workflow");
    let github = github_with_pull(6, &base, &head);
    github.set_permission(REPO, "maintainer", Permission::Write);
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(data.path(), &github.url(), &[]);

    let typo = github.add_comment(REPO, 6, "maintainer", "/rechek");
    let payload =
        comment(&origin, 6, "maintainer", "/rechek").set("/comment/id", serde_json::json!(typo));
    assert_eq!(server.post(&payload.delivery("wc-1")).0, 202);
    let other = github.add_comment(REPO, 6, "maintainer", "/shrug not for andon");
    let payload = comment(&origin, 6, "maintainer", "/shrug not for andon")
        .set("/comment/id", serde_json::json!(other));
    assert_eq!(server.post(&payload.delivery("wc-2")).0, 202);
    let ok = github.add_comment(REPO, 6, "maintainer", "/recheck");
    let payload =
        comment(&origin, 6, "maintainer", "/recheck").set("/comment/id", serde_json::json!(ok));
    assert_eq!(server.post(&payload.delivery("wc-3")).0, 202);
    // A command in a review body.
    let review = Payload::fixture("pull_request_review", "submitted.payload.json")
        .repository(REPO, origin.path().to_str().expect("utf-8"))
        .set("/repository/default_branch", serde_json::json!("main"))
        .number(6)
        .base_sha(&base)
        .head_sha(&head)
        .set(
            "/review/body",
            serde_json::json!("Looks right.\n/andon run review"),
        )
        .set("/sender/login", serde_json::json!("maintainer"));
    assert_eq!(server.post(&review.delivery("wc-4")).0, 202);

    assert!(server.wait_idle(WAIT), "{}", server.log());
    let bot: Vec<String> = github
        .comments(REPO, 6)
        .into_iter()
        .filter(|c| c.author == "andon-bot")
        .map(|c| c.body)
        .collect();
    assert_eq!(bot.len(), 1, "one reply, to the typo only: {bot:#?}");
    assert!(bot[0].contains("Did you mean `/recheck`?"), "{bot:#?}");
    assert!(
        github.reactions(other).is_empty(),
        "another bot's command is left alone"
    );
    assert_eq!(
        github
            .reactions(ok)
            .into_iter()
            .map(|r| r.content)
            .collect::<Vec<_>>(),
        vec!["rocket".to_string()]
    );
    let runs = github.check_runs(REPO);
    let recheck = workflow_check(&runs, "andon / recheck").expect("the recheck check run");
    assert_eq!(recheck.head_sha, head);
    assert_eq!(recheck.conclusion.as_deref(), Some("success"));
    assert!(
        workflow_check(&runs, "andon / review").is_some(),
        "the review body's command ran"
    );
    assert_eq!(github.labels(REPO, 6), vec!["size/XS".to_string()]);
}

#[test]
fn a_finished_push_run_starts_the_workflows_that_watch_it() {
    // `ci` runs on pushes to main; `after-ci` watches it finish
    // (`on: workflow_run`), as GitHub Actions' `workflow_run`.
    let origin = TestRepo::new();
    origin.write(
        ".andon/workflows/ci.yml",
        "name: ci\non:\n  push: { branches: [main] }\nsteps:\n  - uses: size\n",
    );
    origin.write(
        ".andon/workflows/after-ci.yml",
        "name: after-ci\non:\n  workflow_run: { workflows: [ci], branches: [main] }\nsteps:\n  - uses: size\n",
    );
    origin.write(
        ".andon/workflows/after-other.yml",
        "name: after-other\non:\n  workflow_run: { workflows: [nightly] }\nsteps:\n  - uses: size\n",
    );
    origin.write("src/lib.rs", "pub fn one() -> u32 { 1 }\n");
    let before = origin.commit_all("base");
    origin.write("src/lib.rs", "pub fn one() -> u32 { 2 }\n");
    let after = origin.commit_all("change");
    let github = FakeGitHub::start();
    github.set_git_dir(REPO, origin.path());
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(data.path(), &github.url(), &[]);

    let pushed = crate::server::push(&origin, &before, &after);
    let (status, body) = server.post(&pushed.delivery("push-ci-1"));
    assert_eq!(status, 202, "{body}");
    assert!(server.wait_idle(WAIT), "{}", server.log());

    let runs = crate::server::api_get(&server.data, "/api/runs").expect("/api/runs");
    let runs = runs["runs"].as_array().expect("runs");
    let workflows: Vec<&str> = runs.iter().filter_map(|r| r["workflow"].as_str()).collect();
    assert_eq!(workflows, ["after-ci", "ci"], "{runs:#?}");
    let (watcher, ci) = (&runs[0], &runs[1]);
    let ci_id = ci["id"].as_u64().expect("an id");
    assert_eq!(ci["event"], "push", "{ci:#}");
    assert_eq!(watcher["event"], "workflow_run", "{watcher:#}");
    let detail = crate::server::api_get(&server.data, &format!("/api/runs/{}", watcher["id"]))
        .expect("the watcher's run");
    let event = &detail["run"]["event"];
    assert_eq!(event["run"]["id"], ci_id, "{event:#}");
    assert_eq!(event["run"]["workflow"], "ci", "{event:#}");
    assert_eq!(event["run"]["status"], ci["status"], "{event:#}");
    assert_eq!(event["head"], after.as_str(), "{event:#}");

    // The follow-up is a delivery of its own, named after the run it
    // answers, finished with the watcher's run.
    let follow_up = deliveries(&server)
        .into_iter()
        .find(|d| d["id"] == format!("andon-run-{ci_id}"))
        .unwrap_or_else(|| panic!("no follow-up delivery:\n{}", server.log()));
    assert_eq!(follow_up["event"], "andon_workflow_run");
    assert_eq!(
        follow_up["state"]["runs"],
        serde_json::json!([watcher["id"]]),
        "{follow_up:#}"
    );
}
