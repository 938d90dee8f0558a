//! The fake GitHub, endpoint by endpoint, over HTTP.

use std::time::{Duration, Instant};

use andon_testkit::FakeGitHub;
use andon_testkit::github::{Permission, PullRequest};
use serde_json::{Value, json};

use super::{TOKEN, http, http_as};

const REPO: &str = "octo-org/hello";
const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

fn annotation(line: u64) -> Value {
    json!({
        "path": "src/lib.rs", "start_line": line, "end_line": line,
        "annotation_level": "warning", "message": format!("line {line}"),
    })
}

fn annotations(count: u64) -> Vec<Value> {
    (1..=count).map(annotation).collect()
}

#[test]
fn user_and_app() {
    let github = FakeGitHub::start();
    let user = http(&github, "GET", "/user", None);
    assert_eq!(user.status, 200);
    assert_eq!(user.json()["login"], "andon-bot");
    assert_eq!(user.json()["type"], "User");

    github.set_user_comments_author("ci-bot");
    assert_eq!(
        http(&github, "GET", "/user", None).json()["login"],
        "ci-bot"
    );

    let app = http_as(&github, "jwt.header.sig", "GET", "/app", None);
    assert_eq!(app.status, 200);
    assert_eq!(app.json()["slug"], "andon");
}

#[test]
fn installation_tokens_are_recorded_and_act_as_the_app() {
    let github = FakeGitHub::start();
    let installation = http(&github, "GET", &format!("/repos/{REPO}/installation"), None);
    assert_eq!(installation.json()["id"], 1);
    github.set_installation(REPO, 42);
    let installation = http(&github, "GET", &format!("/repos/{REPO}/installation"), None);
    assert_eq!(installation.json()["id"], 42);
    assert_eq!(installation.json()["app_slug"], "andon");

    let token = http_as(
        &github,
        "jwt.header.sig",
        "POST",
        "/app/installations/42/access_tokens",
        None,
    );
    assert_eq!(token.status, 201);
    let token = token.json()["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("ghs_"));
    let issued = github.issued_tokens();
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].installation_id, 42);
    assert_eq!(issued[0].token, token);
    assert_eq!(
        issued[0].authorization.as_deref(),
        Some("Bearer jwt.header.sig")
    );

    // An installation token has no user, and comments with it are the app's.
    assert_eq!(http_as(&github, &token, "GET", "/user", None).status, 403);
    let comment = http_as(
        &github,
        &token,
        "POST",
        &format!("/repos/{REPO}/issues/1/comments"),
        Some(json!({ "body": "from the app" })),
    );
    assert_eq!(comment.status, 201);
    assert_eq!(comment.json()["user"]["login"], "andon[bot]");
    assert_eq!(comment.json()["user"]["type"], "Bot");
    assert_eq!(github.comments(REPO, 1)[0].author, "andon[bot]");
}

#[test]
fn check_run_lifecycle_appends_annotations() {
    let github = FakeGitHub::start();
    let created = http(
        &github,
        "POST",
        &format!("/repos/{REPO}/check-runs"),
        Some(json!({
            "name": "andon / review", "head_sha": SHA, "status": "in_progress",
            "external_id": "run-7",
            "output": { "title": "Reviewing", "summary": "first batch", "annotations": annotations(50) },
        })),
    );
    assert_eq!(created.status, 201, "{}", created.text());
    let id = created.json()["id"].as_u64().unwrap();
    assert_eq!(created.json()["status"], "in_progress");
    assert_eq!(created.json()["output"]["annotations_count"], 50);

    let updated = http(
        &github,
        "PATCH",
        &format!("/repos/{REPO}/check-runs/{id}"),
        Some(json!({
            "conclusion": "failure",
            "output": { "title": "2 problems", "summary": "done", "text": "details", "annotations": [annotation(99)] },
        })),
    );
    assert_eq!(updated.status, 200, "{}", updated.text());
    assert_eq!(updated.json()["status"], "completed");
    assert_eq!(updated.json()["conclusion"], "failure");
    assert_eq!(updated.json()["output"]["annotations_count"], 51);
    assert!(updated.json()["completed_at"].is_string());

    let runs = github.check_runs(REPO);
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(run.annotations.len(), 51);
    assert_eq!(run.annotations[50].start_line, 99);
    assert_eq!(run.output.title.as_deref(), Some("2 problems"));
    assert_eq!(run.output.text.as_deref(), Some("details"));
    assert_eq!(run.external_id.as_deref(), Some("run-7"));
    assert_eq!(run.updates, 1);

    let listed = http(
        &github,
        "GET",
        &format!("/repos/{REPO}/commits/{SHA}/check-runs?check_name=andon%20%2F%20review"),
        None,
    );
    assert_eq!(listed.json()["total_count"], 1);
    let listed_run = &listed.json()["check_runs"][0];
    assert_eq!(listed_run["id"], id);
    assert_eq!(listed_run["name"], "andon / review");
    assert_eq!(listed_run["head_sha"], SHA);
    assert_eq!(listed_run["external_id"], "run-7");
    assert_eq!(listed_run["output"]["summary"], "done");
    assert_eq!(listed_run["output"]["annotations_count"], 51);

    let page = http(
        &github,
        "GET",
        &format!("/repos/{REPO}/check-runs/{id}/annotations?per_page=100"),
        None,
    );
    assert_eq!(page.json().as_array().unwrap().len(), 51);
}

#[test]
fn more_than_fifty_annotations_per_request_are_refused() {
    let github = FakeGitHub::start();
    let create = |count| {
        http(
            &github,
            "POST",
            &format!("/repos/{REPO}/check-runs"),
            Some(json!({
                "name": "lint", "head_sha": SHA,
                "output": { "title": "t", "summary": "s", "annotations": annotations(count) },
            })),
        )
    };
    let refused = create(51);
    assert_eq!(refused.status, 422);
    assert_eq!(refused.json()["message"], "Validation Failed");
    assert!(github.check_runs(REPO).is_empty());
    let id = create(50).json()["id"].as_u64().unwrap();

    let update = http(
        &github,
        "PATCH",
        &format!("/repos/{REPO}/check-runs/{id}"),
        Some(json!({ "output": { "title": "t", "summary": "s", "annotations": annotations(51) } })),
    );
    assert_eq!(update.status, 422);
    assert_eq!(github.check_runs(REPO)[0].annotations.len(), 50);
}

#[test]
fn check_runs_are_validated() {
    let github = FakeGitHub::start();
    let path = format!("/repos/{REPO}/check-runs");
    let cases = [
        json!({ "head_sha": SHA }),
        json!({ "name": "x", "head_sha": SHA, "status": "completed" }),
        json!({ "name": "x", "head_sha": SHA, "conclusion": "great" }),
        json!({ "name": "x", "head_sha": SHA, "output": { "title": "no summary" } }),
        json!({ "name": "x", "head_sha": SHA, "output": { "title": "t", "summary": "s",
                 "annotations": [{ "path": "a", "start_line": 1, "end_line": 1,
                                   "annotation_level": "error", "message": "m" }] } }),
    ];
    for body in cases {
        let answer = http(&github, "POST", &path, Some(body.clone()));
        assert_eq!(answer.status, 422, "{body}");
    }
    assert_eq!(
        http(&github, "PATCH", &format!("{path}/999"), Some(json!({}))).status,
        404
    );
    assert!(github.check_runs(REPO).is_empty());
}

#[test]
fn listing_check_runs_filters_latest_by_default() {
    let github = FakeGitHub::start();
    for (name, sha) in [("a", SHA), ("a", SHA), ("b", SHA), ("a", "other")] {
        let body = json!({ "name": name, "head_sha": sha });
        assert_eq!(
            http(
                &github,
                "POST",
                &format!("/repos/{REPO}/check-runs"),
                Some(body)
            )
            .status,
            201
        );
    }
    let list = |query: &str| {
        http(
            &github,
            "GET",
            &format!("/repos/{REPO}/commits/{SHA}/check-runs{query}"),
            None,
        )
        .json()
    };
    assert_eq!(list("")["total_count"], 2);
    assert_eq!(list("?filter=all")["total_count"], 3);
    assert_eq!(list("?filter=all&check_name=a")["total_count"], 2);
    // The newest run comes first.
    let all = list("?filter=all&check_name=a");
    assert!(all["check_runs"][0]["id"].as_u64() > all["check_runs"][1]["id"].as_u64());
    assert_eq!(list("?status=queued")["total_count"], 2);
    assert_eq!(list("?status=completed")["total_count"], 0);
}

#[test]
fn comments_are_created_edited_and_deleted() {
    let github = FakeGitHub::start();
    let path = format!("/repos/{REPO}/issues/3/comments");
    let created = http(&github, "POST", &path, Some(json!({ "body": "hello" })));
    assert_eq!(created.status, 201);
    let comment = created.json();
    let id = comment["id"].as_u64().unwrap();
    assert_eq!(comment["body"], "hello");
    assert_eq!(comment["user"]["login"], "andon-bot");
    assert_eq!(comment["user"]["type"], "User");
    assert!(comment["created_at"].as_str().unwrap().ends_with('Z'));

    let edit = format!("/repos/{REPO}/issues/comments/{id}");
    let edited = http(
        &github,
        "PATCH",
        &edit,
        Some(json!({ "body": "hello again" })),
    );
    assert_eq!(edited.status, 200);
    assert_eq!(edited.json()["body"], "hello again");
    let stored = github.comments(REPO, 3);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].body, "hello again");
    assert_eq!(stored[0].edits, 1);

    // Other repositories do not see it; owner and name ignore case.
    assert_eq!(
        http(
            &github,
            "GET",
            &format!("/repos/other/repo/issues/comments/{id}"),
            None
        )
        .status,
        404
    );
    assert_eq!(
        http(
            &github,
            "GET",
            &format!("/repos/OCTO-ORG/Hello/issues/comments/{id}"),
            None
        )
        .status,
        200
    );

    let deleted = http(&github, "DELETE", &edit, None);
    assert_eq!(deleted.status, 204);
    assert!(deleted.body.is_empty());
    assert!(github.comments(REPO, 3).is_empty());
    assert_eq!(http(&github, "DELETE", &edit, None).status, 404);
    assert_eq!(
        http(&github, "PATCH", &edit, Some(json!({ "body": "x" }))).status,
        404
    );
}

#[test]
fn comment_bodies_are_limited_to_65536_characters() {
    let github = FakeGitHub::start();
    let path = format!("/repos/{REPO}/issues/1/comments");
    // Characters, not bytes: 65,536 two-byte characters fit.
    let longest = "é".repeat(65_536);
    assert_eq!(
        http(&github, "POST", &path, Some(json!({ "body": longest }))).status,
        201
    );
    let too_long = http(
        &github,
        "POST",
        &path,
        Some(json!({ "body": "x".repeat(65_537) })),
    );
    assert_eq!(too_long.status, 422);
    assert_eq!(too_long.json()["errors"][0]["field"], "body");
    let id = github.comments(REPO, 1)[0].id;
    let edit = http(
        &github,
        "PATCH",
        &format!("/repos/{REPO}/issues/comments/{id}"),
        Some(json!({ "body": "x".repeat(65_537) })),
    );
    assert_eq!(edit.status, 422);
    assert_eq!(github.comments(REPO, 1).len(), 1);
    assert_eq!(http(&github, "POST", &path, Some(json!({}))).status, 422);
}

#[test]
fn comment_lists_are_paginated_with_link_headers() {
    let github = FakeGitHub::start();
    let ids: Vec<u64> = (0..75)
        .map(|i| github.add_comment(REPO, 9, "someone", &format!("comment {i}")))
        .collect();

    let first = http(
        &github,
        "GET",
        &format!("/repos/{REPO}/issues/9/comments"),
        None,
    );
    assert_eq!(first.json().as_array().unwrap().len(), 30);
    let link = first.header("link").unwrap();
    let base = github.url();
    assert_eq!(
        link,
        format!(
            "<{base}/repos/{REPO}/issues/9/comments?page=2>; rel=\"next\", \
             <{base}/repos/{REPO}/issues/9/comments?page=3>; rel=\"last\""
        )
    );

    let last = http(
        &github,
        "GET",
        &format!("/repos/{REPO}/issues/9/comments?per_page=30&page=3"),
        None,
    );
    assert_eq!(last.json().as_array().unwrap().len(), 15);
    let link = last.header("link").unwrap();
    assert!(link.contains("per_page=30&page=2>; rel=\"prev\""), "{link}");
    assert!(
        link.contains("per_page=30&page=1>; rel=\"first\""),
        "{link}"
    );
    assert!(!link.contains("rel=\"next\""), "{link}");

    // Following `next` links visits every comment once, oldest first.
    let mut seen = Vec::new();
    let mut next = Some(format!("{base}/repos/{REPO}/issues/9/comments?per_page=20"));
    while let Some(url) = next.take() {
        let page = http(&github, "GET", url.strip_prefix(&base).unwrap(), None);
        seen.extend(
            page.json()
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_u64().unwrap()),
        );
        next = page.header("link").and_then(|link| {
            link.split(", ")
                .find(|l| l.ends_with("rel=\"next\""))
                .map(|l| l[1..l.find('>').unwrap()].to_owned())
        });
    }
    assert_eq!(seen, ids);

    let single = http(
        &github,
        "GET",
        &format!("/repos/{REPO}/issues/10/comments"),
        None,
    );
    assert_eq!(single.json(), json!([]));
    assert!(single.header("link").is_none());
}

#[test]
fn labels_are_added_listed_and_removed() {
    let github = FakeGitHub::start();
    let path = format!("/repos/{REPO}/issues/4/labels");
    let added = http(
        &github,
        "POST",
        &path,
        Some(json!({ "labels": ["size/L", "needs review"] })),
    );
    assert_eq!(added.status, 200);
    assert_eq!(added.json()[1]["name"], "needs review");
    assert_eq!(
        http(
            &github,
            "POST",
            &path,
            Some(json!({ "labels": ["size/L"] }))
        )
        .json()
        .as_array()
        .unwrap()
        .len(),
        2
    );
    assert_eq!(github.labels(REPO, 4), ["size/L", "needs review"]);
    let listed = http(&github, "GET", &path, None).json();
    assert_eq!(listed[0]["name"], "size/L");
    assert!(listed[0]["id"].is_u64());
    assert_eq!(listed[0]["color"], "ededed");

    // Names are percent-decoded.
    let removed = http(&github, "DELETE", &format!("{path}/size%2FL"), None);
    assert_eq!(removed.status, 200);
    assert_eq!(removed.json()[0]["name"], "needs review");
    assert_eq!(
        http(&github, "DELETE", &format!("{path}/needs%20review"), None).status,
        200
    );
    let absent = http(&github, "DELETE", &format!("{path}/needs%20review"), None);
    assert_eq!(absent.status, 404);
    assert_eq!(absent.json()["message"], "Label does not exist");
    assert!(github.labels(REPO, 4).is_empty());

    github.set_labels(REPO, 4, &["a", "b"]);
    assert_eq!(
        http(&github, "GET", &path, None)
            .json()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let replaced = http(&github, "PUT", &path, Some(json!({ "labels": ["c"] })));
    assert_eq!(replaced.json()[0]["name"], "c");
    assert_eq!(http(&github, "DELETE", &path, None).status, 204);
    assert!(github.labels(REPO, 4).is_empty());
}

#[test]
fn reactions_are_created_once_per_user_and_content() {
    let github = FakeGitHub::start();
    let comment = github.add_comment(REPO, 2, "maintainer", "/andon run review");
    assert_eq!(github.comments(REPO, 2)[0].author, "maintainer");
    let path = format!("/repos/{REPO}/issues/comments/{comment}/reactions");
    let first = http(&github, "POST", &path, Some(json!({ "content": "eyes" })));
    assert_eq!(first.status, 201);
    assert_eq!(first.json()["content"], "eyes");
    assert_eq!(first.json()["user"]["login"], "andon-bot");
    let again = http(&github, "POST", &path, Some(json!({ "content": "eyes" })));
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["id"], first.json()["id"]);
    assert_eq!(
        http(&github, "POST", &path, Some(json!({ "content": "+1" }))).status,
        201
    );
    assert_eq!(
        http(&github, "POST", &path, Some(json!({ "content": "thumbs" }))).status,
        422
    );
    let missing = format!("/repos/{REPO}/issues/comments/{}/reactions", comment + 1000);
    assert_eq!(
        http(
            &github,
            "POST",
            &missing,
            Some(json!({ "content": "eyes" }))
        )
        .status,
        404
    );

    let reactions = github.reactions(comment);
    let contents: Vec<&str> = reactions.iter().map(|r| r.content.as_str()).collect();
    assert_eq!(contents, ["eyes", "+1"]);
    assert!(reactions.iter().all(|r| r.user == "andon-bot"));
    assert_eq!(
        http(&github, "GET", &format!("{path}?content=eyes"), None)
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn pull_requests_come_from_the_test() {
    let github = FakeGitHub::start();
    let mut pr = PullRequest::new(REPO, 5, SHA, "fedcba9876543210fedcba9876543210fedcba98");
    pr.title = "Add data checks".to_owned();
    pr.author = "alice".to_owned();
    pr.labels = vec!["data".to_owned()];
    github.add_pull_request(pr);
    github.set_clone_url(REPO, "file:///tmp/hello.git");

    let answer = http(&github, "GET", &format!("/repos/{REPO}/pulls/5"), None);
    assert_eq!(answer.status, 200);
    let pr = answer.json();
    assert_eq!(pr["number"], 5);
    assert_eq!(pr["title"], "Add data checks");
    assert_eq!(pr["state"], "open");
    assert_eq!(pr["user"]["login"], "alice");
    assert_eq!(pr["head"]["sha"], SHA);
    assert_eq!(pr["head"]["ref"], "feature-5");
    assert_eq!(pr["head"]["repo"]["full_name"], REPO);
    assert_eq!(pr["head"]["repo"]["clone_url"], "file:///tmp/hello.git");
    assert_eq!(pr["base"]["ref"], "main");
    assert_eq!(
        pr["base"]["sha"],
        "fedcba9876543210fedcba9876543210fedcba98"
    );
    assert_eq!(pr["labels"][0]["name"], "data");

    // Labels added through the API show on the pull request.
    http(
        &github,
        "POST",
        &format!("/repos/{REPO}/issues/5/labels"),
        Some(json!({ "labels": ["lgtm"] })),
    );
    let pr = http(&github, "GET", &format!("/repos/{REPO}/pulls/5"), None).json();
    assert_eq!(pr["labels"].as_array().unwrap().len(), 2);

    assert_eq!(
        http(&github, "GET", &format!("/repos/{REPO}/pulls/6"), None).status,
        404
    );
}

#[test]
fn collaborator_permissions() {
    let github = FakeGitHub::start();
    let path = |user: &str| format!("/repos/{REPO}/collaborators/{user}/permission");
    assert_eq!(http(&github, "GET", &path("stranger"), None).status, 404);

    github.set_permission(REPO, "Alice", Permission::Maintain);
    let alice = http(&github, "GET", &path("alice"), None).json();
    assert_eq!(alice["permission"], "write");
    assert_eq!(alice["role_name"], "maintain");
    assert_eq!(alice["user"]["login"], "alice");
    assert_eq!(alice["user"]["permissions"]["push"], true);
    assert_eq!(alice["user"]["permissions"]["admin"], false);

    github.set_permission(REPO, "bob", Permission::Triage);
    assert_eq!(
        http(&github, "GET", &path("bob"), None).json()["permission"],
        "read"
    );

    github.set_default_permission(Some(Permission::Read));
    let stranger = http(&github, "GET", &path("stranger"), None).json();
    assert_eq!(stranger["permission"], "read");
    assert_eq!(stranger["user"]["permissions"]["push"], false);
}

#[test]
fn unknown_endpoints_answer_404_and_are_recorded() {
    let github = FakeGitHub::start();
    let answer = http(&github, "GET", "/repos/o/r/branches?per_page=5", None);
    assert_eq!(answer.status, 404);
    assert_eq!(answer.json()["message"], "Not Found");
    let calls = github.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].path, "/repos/o/r/branches");
    assert_eq!(calls[0].query_param("per_page"), Some("5"));
    assert!(!calls[0].implemented);
    assert_eq!(calls[0].status, 404);
    // A known endpoint that finds nothing is still implemented.
    http(&github, "GET", "/repos/o/r/pulls/1", None);
    assert!(github.calls()[1].implemented);
}

#[test]
fn calls_record_method_body_and_authorization() {
    let github = FakeGitHub::start();
    let before = Instant::now();
    http(
        &github,
        "POST",
        "/repos/o/r/issues/1/comments",
        Some(json!({ "body": "hi" })),
    );
    let call = github.first_call_after(before).unwrap();
    assert_eq!(call.method, "POST");
    assert_eq!(call.path, "/repos/o/r/issues/1/comments");
    assert_eq!(call.body, json!({ "body": "hi" }));
    assert_eq!(
        call.authorization.as_deref(),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(call.status, 201);
    assert_eq!(call.to_string(), "201 POST /repos/o/r/issues/1/comments");
    assert!(github.first_call_after(Instant::now()).is_none());

    let bad = super::client_raw(&github, "POST", "/repos/o/r/issues/1/comments", "{not json");
    assert_eq!(bad.status, 400);
    assert_eq!(github.calls()[1].body, json!("{not json"));
}

#[test]
fn every_answer_carries_rate_limit_headers() {
    let github = FakeGitHub::start();
    let first = http(&github, "GET", "/user", None);
    let second = http(&github, "GET", "/nowhere", None);
    assert_eq!(first.header("x-ratelimit-limit"), Some("5000"));
    assert_eq!(first.header("x-ratelimit-remaining"), Some("4999"));
    assert_eq!(second.header("x-ratelimit-remaining"), Some("4998"));
    assert!(second.header("x-ratelimit-reset").is_some());
}

#[test]
fn injected_faults_answer_before_the_state_changes() {
    let github = FakeGitHub::start();
    let comments = format!("/repos/{REPO}/issues/1/comments");
    github.fail_next("POST", &format!("/repos/{REPO}/issues"), 500, &[], 2);
    for _ in 0..2 {
        let failed = http(&github, "POST", &comments, Some(json!({ "body": "x" })));
        assert_eq!(failed.status, 500);
        assert!(failed.header("x-ratelimit-remaining").is_some());
    }
    assert!(github.comments(REPO, 1).is_empty());
    assert_eq!(
        http(&github, "POST", &comments, Some(json!({ "body": "x" }))).status,
        201
    );

    // Only the given method.
    github.fail_next("PATCH", "/repos", 502, &[], 1);
    assert_eq!(http(&github, "GET", &comments, None).status, 200);

    github.fail_next(
        "*",
        "/repos",
        429,
        &[("retry-after", "1"), ("x-ratelimit-remaining", "0")],
        1,
    );
    let limited = http(&github, "GET", &comments, None);
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("retry-after"), Some("1"));
    assert_eq!(limited.header("x-ratelimit-remaining"), Some("0"));

    github.fail_next("POST", "/repos", 403, &[], 1);
    let secondary = http(&github, "POST", &comments, Some(json!({ "body": "y" })));
    assert_eq!(secondary.status, 403);
    assert_eq!(
        secondary.json()["message"],
        "You have exceeded a secondary rate limit"
    );

    github.fail_next_with_body("GET", "/user", 503, &[], json!({ "message": "down" }), 1);
    assert_eq!(
        http(&github, "GET", "/user", None).json()["message"],
        "down"
    );
    assert_eq!(http(&github, "GET", "/user", None).status, 200);
    assert_eq!(github.comments(REPO, 1).len(), 1);
}

#[test]
fn a_required_token_rejects_others() {
    let github = FakeGitHub::start();
    github.require_token("ghp_right");
    let wrong = http_as(&github, "ghp_wrong", "GET", "/user", None);
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.json()["message"], "Bad credentials");
    assert_eq!(
        http_as(&github, "ghp_right", "GET", "/user", None).status,
        200
    );
    assert_eq!(
        github.calls()[0].authorization.as_deref(),
        Some("Bearer ghp_wrong")
    );

    // The app's endpoints take its JWT; the tokens it issues are accepted.
    let token = http_as(
        &github,
        "jwt",
        "POST",
        "/app/installations/1/access_tokens",
        None,
    );
    let token = token.json()["token"].as_str().unwrap().to_owned();
    let with_token = http_as(
        &github,
        &token,
        "GET",
        &format!("/repos/{REPO}/pulls/1"),
        None,
    );
    assert_eq!(with_token.status, 404);
}

#[test]
fn wait_for_wakes_on_calls() {
    let github = FakeGitHub::start();
    assert!(!github.wait_for(
        |g| !g.comments(REPO, 1).is_empty(),
        Duration::from_millis(100)
    ));
    let url = github.url();
    let poster = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        let headers = [
            ("authorization", "Bearer t"),
            ("content-type", "application/json"),
        ];
        let path = format!("{url}/repos/{REPO}/issues/1/comments");
        andon_testkit::client::send_blocking("POST", &path, &headers, r#"{"body":"late"}"#).unwrap()
    });
    let started = Instant::now();
    assert!(github.wait_for(|g| !g.comments(REPO, 1).is_empty(), Duration::from_secs(10)));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(poster.join().unwrap().status, 201);
}

#[test]
fn dropping_the_fake_stops_the_server() {
    let github = FakeGitHub::start();
    let url = github.url();
    assert_eq!(http(&github, "GET", "/user", None).status, 200);
    drop(github);
    assert!(andon_testkit::client::send_blocking("GET", &format!("{url}/user"), &[], "").is_err());
}

#[tokio::test]
async fn works_from_async_tests() {
    let github = FakeGitHub::start();
    let answer = andon_testkit::client::send("GET", &format!("{}/app", github.url()), &[], "")
        .await
        .unwrap();
    assert_eq!(answer.json()["slug"], "andon");
}
