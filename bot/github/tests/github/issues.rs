//! Labels as a desired state, reactions as set members.

use andon_core::effect::Effect;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::{created, done, fixture, ok, planned, refusal, token_github};

const LABELS: &str = "/repos/octo-org/hello-world/issues/1347/labels";

fn label(name: &str) -> Value {
    let mut label = fixture("label.json");
    label["name"] = name.into();
    label
}

fn set(name: &str, present: bool) -> Effect {
    Effect::Label {
        number: 1347,
        label: name.into(),
        present,
    }
}

#[tokio::test]
async fn labels_are_written_only_when_not_already_in_the_wanted_state() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(LABELS))
        .respond_with(ok(json!([label("bug"), label("Needs Review")])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(LABELS))
        .and(body_json(json!({ "labels": ["size/XS"] })))
        .respond_with(ok(json!([
            label("bug"),
            label("Needs Review"),
            label("size/XS")
        ])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("{LABELS}/bug")))
        .respond_with(ok(json!([label("Needs Review")])))
        .expect(1)
        .mount(&server)
        .await;
    // Removed by someone else in the meantime.
    Mock::given(method("DELETE"))
        .and(path(format!("{LABELS}/needs%20review")))
        .respond_with(refusal(404, "Label does not exist"))
        .expect(1)
        .mount(&server)
        .await;
    let github = token_github(&server);
    let mut details = Vec::new();
    for effect in [
        set("bug", true),
        set("BUG", true),
        set("wontfix", false),
        set("size/XS", true),
        set("bug", false),
        set("needs review", false),
    ] {
        details.push(done(github.execute(&planned(effect)).await.expect("done")));
    }
    assert_eq!(
        details,
        [
            "label `bug` already present",
            "label `BUG` already present",
            "label `wontfix` already absent",
            "added label `size/XS`",
            "removed label `bug`",
            "label `needs review` already absent",
        ]
    );
}

#[tokio::test]
async fn a_label_name_is_encoded_in_the_path() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(LABELS))
        .respond_with(ok(json!([label("size/XS")])))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("{LABELS}/size%2FXS")))
        .respond_with(ok(json!([])))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = token_github(&server)
        .execute(&planned(set("size/XS", false)))
        .await
        .expect("done");
    assert_eq!(done(outcome), "removed label `size/XS`");
}

#[tokio::test]
async fn a_reaction_is_done_whether_new_or_already_there() {
    let server = MockServer::start().await;
    let route = "/repos/octo-org/hello-world/issues/comments/99/reactions";
    Mock::given(method("POST"))
        .and(path(route))
        .and(body_json(json!({ "content": "eyes" })))
        .respond_with(created(fixture("reaction.json")))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(route))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("reaction.json")))
        .mount(&server)
        .await;
    let github = token_github(&server);
    let effect = planned(Effect::Reaction {
        comment_id: 99,
        content: "eyes".into(),
    });
    let first = github.execute(&effect).await.expect("done");
    assert_eq!(done(first), "reacted `eyes` to comment 99");
    let second = github.execute(&effect).await.expect("done");
    assert_eq!(done(second), "reaction `eyes` already on comment 99");
}
