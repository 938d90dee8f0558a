//! Check runs: found by `external_id`, completed with annotations 50 per
//! request, and left alone when executed again.

use andon_core::action::{Annotation, AnnotationLevel, Conclusion};
use andon_core::effect::Effect;
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, method, path, query_param};
use wiremock::{Mock, MockServer};

use crate::{bodies, created, done, fixture, ok, planned, token_github};

const SHA: &str = "ce587453ced02b1526dfb4cb910479d431683101";
const NAME: &str = "andon / size";
const EXTERNAL_ID: &str = "delivery-1/0/size";
const LIST: &str =
    "/repos/octo-org/hello-world/commits/ce587453ced02b1526dfb4cb910479d431683101/check-runs";
const CREATE: &str = "/repos/octo-org/hello-world/check-runs";

fn run(id: u64, status: &str, annotations_count: usize) -> Value {
    let mut run = fixture("check-run.json");
    run["id"] = id.into();
    run["status"] = status.into();
    run["output"]["annotations_count"] = annotations_count.into();
    if status == "completed" {
        run["conclusion"] = "failure".into();
        run["completed_at"] = "2018-05-04T01:14:58Z".into();
    }
    run
}

fn list(runs: &[Value]) -> Value {
    json!({ "total_count": runs.len(), "check_runs": runs })
}

/// Answers the listing with `first` once, then with `then`.
async fn serve_list(server: &MockServer, first: &[Value], then: &[Value]) {
    Mock::given(method("GET"))
        .and(path(LIST))
        .and(query_param("check_name", NAME))
        .and(query_param("filter", "all"))
        .respond_with(ok(list(first)))
        .up_to_n_times(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(LIST))
        .and(query_param("check_name", NAME))
        .respond_with(ok(list(then)))
        .mount(server)
        .await;
}

fn annotations(count: usize) -> Vec<Annotation> {
    (0..count)
        .map(|i| Annotation {
            path: format!("src/file{i}.rs"),
            start_line: u32::try_from(i).expect("small"),
            end_line: u32::try_from(i).expect("small"),
            level: AnnotationLevel::Warning,
            title: (i == 1).then(|| "A title".to_owned()),
            message: format!("finding {i}"),
        })
        .collect()
}

fn finish(annotations: Vec<Annotation>, summary: String) -> Effect {
    Effect::CheckRunFinish {
        name: NAME.into(),
        head_sha: SHA.into(),
        external_id: EXTERNAL_ID.into(),
        conclusion: Conclusion::Failure,
        title: "3 files over the size limit".into(),
        summary,
        text: Some("details".into()),
        annotations,
    }
}

fn sent_annotations(body: &Value) -> Vec<String> {
    body["output"]["annotations"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|a| a["message"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn starting_creates_the_run_once_and_then_finds_it() {
    let server = MockServer::start().await;
    let mut other = run(3, "completed", 0);
    other["external_id"] = "another-run".into();
    serve_list(
        &server,
        &[other.clone()],
        &[other, run(4, "in_progress", 0)],
    )
    .await;
    Mock::given(method("POST"))
        .and(path(CREATE))
        .and(body_partial_json(json!({
            "name": NAME,
            "head_sha": SHA,
            "external_id": EXTERNAL_ID,
            "status": "in_progress",
        })))
        .respond_with(created(run(4, "in_progress", 0)))
        .expect(1)
        .mount(&server)
        .await;
    let github = token_github(&server);
    let effect = planned(Effect::CheckRunStart {
        name: NAME.into(),
        head_sha: SHA.into(),
        external_id: EXTERNAL_ID.into(),
    });
    let first = github.execute(&effect).await.expect("first");
    assert_eq!(done(first), "created check run 4");
    let second = github.execute(&effect).await.expect("second");
    assert_eq!(done(second), "found check run 4");
    let body = &bodies(&server, "POST", CREATE).await[0];
    assert!(
        body["started_at"]
            .as_str()
            .is_some_and(|at| at.ends_with('Z')),
        "{body}"
    );
}

#[tokio::test]
async fn finishing_sends_120_annotations_in_3_requests_and_a_repeat_sends_none() {
    let server = MockServer::start().await;
    serve_list(
        &server,
        &[run(4, "in_progress", 0)],
        &[run(4, "completed", 120)],
    )
    .await;
    Mock::given(method("PATCH"))
        .and(path("/repos/octo-org/hello-world/check-runs/4"))
        .respond_with(ok(run(4, "completed", 50)))
        .expect(3)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(CREATE))
        .respond_with(created(run(5, "completed", 0)))
        .expect(0)
        .mount(&server)
        .await;
    let github = token_github(&server);
    let effect = planned(finish(annotations(120), "Summary".into()));
    let first = github.execute(&effect).await.expect("first");
    assert_eq!(
        done(first),
        "completed check run 4; sent annotations 51..120"
    );
    let second = github.execute(&effect).await.expect("second");
    assert_eq!(done(second), "check run 4 already completed");

    let patches = bodies(&server, "PATCH", "/repos/octo-org/hello-world/check-runs/4").await;
    let sizes: Vec<usize> = patches.iter().map(|b| sent_annotations(b).len()).collect();
    assert_eq!(sizes, [50, 50, 20]);
    let first = &patches[0];
    assert_eq!(first["status"], "completed");
    assert_eq!(first["conclusion"], "failure");
    assert!(first["completed_at"].is_string());
    assert!(first.get("name").is_none() && first.get("head_sha").is_none());
    assert_eq!(first["output"]["title"], "3 files over the size limit");
    assert_eq!(first["output"]["text"], "details");
    assert_eq!(
        first["output"]["annotations"][1],
        json!({
            "path": "src/file1.rs",
            "start_line": 1,
            "end_line": 1,
            "annotation_level": "warning",
            "title": "A title",
            "message": "finding 1",
        })
    );
    // Line 0 does not exist on GitHub: clamped rather than refused.
    assert_eq!(first["output"]["annotations"][0]["start_line"], 1);
    for later in &patches[1..] {
        assert!(later.get("status").is_none(), "{later}");
        assert_eq!(later["output"]["summary"], "Summary");
    }
    assert_eq!(sent_annotations(&patches[2])[0], "finding 100");
}

#[tokio::test]
async fn finishing_a_missing_run_creates_it_completed_with_the_text_cut_to_size() {
    let server = MockServer::start().await;
    serve_list(&server, &[], &[]).await;
    Mock::given(method("POST"))
        .and(path(CREATE))
        .and(body_partial_json(json!({
            "name": NAME,
            "head_sha": SHA,
            "external_id": EXTERNAL_ID,
            "status": "completed",
            "conclusion": "failure",
        })))
        .respond_with(created(run(9, "completed", 50)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/repos/octo-org/hello-world/check-runs/9"))
        .respond_with(ok(run(9, "completed", 60)))
        .expect(1)
        .mount(&server)
        .await;
    let github = token_github(&server);
    let effect = planned(finish(annotations(60), "ü".repeat(70_000)));
    let outcome = github.execute(&effect).await.expect("done");
    assert_eq!(
        done(outcome),
        "created completed check run 9; sent annotations 51..60"
    );
    let post = &bodies(&server, "POST", CREATE).await[0];
    assert_eq!(sent_annotations(post).len(), 50);
    let summary = post["output"]["summary"].as_str().expect("summary");
    assert_eq!(summary.chars().count(), 65_535);
    assert!(summary.ends_with("(truncated: 70000 characters in all)"));
}

#[tokio::test]
async fn a_completed_run_missing_annotations_gets_only_the_rest() {
    // A crash after the first of three updates: the run says 50 are there.
    let server = MockServer::start().await;
    serve_list(&server, &[run(4, "completed", 50)], &[]).await;
    Mock::given(method("PATCH"))
        .and(path("/repos/octo-org/hello-world/check-runs/4"))
        .respond_with(ok(run(4, "completed", 120)))
        .expect(2)
        .mount(&server)
        .await;
    let github = token_github(&server);
    let outcome = github
        .execute(&planned(finish(annotations(120), "Summary".into())))
        .await
        .expect("done");
    assert_eq!(
        done(outcome),
        "check run 4 already completed; sent annotations 51..120"
    );
    let patches = bodies(&server, "PATCH", "/repos/octo-org/hello-world/check-runs/4").await;
    assert_eq!(sent_annotations(&patches[0])[0], "finding 50");
    assert_eq!(sent_annotations(&patches[1]).len(), 20);
    assert!(patches.iter().all(|p| p.get("conclusion").is_none()));
}
