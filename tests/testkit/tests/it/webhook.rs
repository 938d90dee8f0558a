//! Signing, fixtures and posting deliveries.

use andon_testkit::webhook::{Delivery, Payload, fixtures_dir, sign};
use serde_json::json;

use super::Receiver;

const SECRET: &[u8] = b"webhook-secret";

#[test]
fn signs_like_github() {
    // The example from GitHub's "Validating webhook deliveries".
    assert_eq!(
        sign(b"It's a Secret to Everybody", b"Hello, World!"),
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    );
}

#[test]
fn deliveries_carry_githubs_headers() {
    let receiver = Receiver::start(SECRET);
    let delivery = Delivery::new(
        "ping",
        "delivery-1",
        r#"{"zen":"Keep it logically awesome."}"#,
    );
    let (status, body) = delivery.post(&receiver.url, SECRET);
    assert_eq!((status, body.as_str()), (202, "accepted"));
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].event, "ping");
    assert_eq!(received[0].id, "delivery-1");
    assert_eq!(received[0].user_agent, "GitHub-Hookshot/test");
    assert_eq!(received[0].content_type, "application/json");
    assert_eq!(received[0].body, delivery.body);

    let (status, _) = delivery.post(&receiver.url, b"wrong secret");
    assert_eq!(status, 401);
    assert_eq!(receiver.received().len(), 1);
}

#[tokio::test]
async fn deliveries_post_from_async_code() {
    let receiver = Receiver::start(SECRET);
    let delivery = Payload::fixture("ping", "payload.json").delivery("async-1");
    let answer = delivery.send(&receiver.url, SECRET).await.unwrap();
    assert_eq!(answer.status, 202);
    assert_eq!(receiver.received()[0].event, "ping");
}

#[test]
fn every_fixture_loads() {
    let mut count = 0;
    for event in std::fs::read_dir(fixtures_dir()).unwrap() {
        let event = event.unwrap();
        if !event.file_type().unwrap().is_dir() {
            continue;
        }
        let name = event.file_name().into_string().unwrap();
        for file in std::fs::read_dir(event.path()).unwrap() {
            let file = file.unwrap().file_name().into_string().unwrap();
            let payload = Payload::fixture(&name, &file);
            assert!(payload.json.is_object(), "{name}/{file}");
            count += 1;
        }
    }
    assert!(count > 20, "{count} fixtures");
}

#[test]
fn pull_request_fixtures_are_rewritten() {
    let payload = Payload::fixture("pull_request", "opened.payload.json")
        .repository("acme/widgets", "file:///tmp/widgets.git")
        .number(17)
        .head_sha("1111111111111111111111111111111111111111")
        .base_sha("2222222222222222222222222222222222222222")
        .author("alice")
        .installation(99);
    let json = &payload.json;
    assert_eq!(json["number"], 17);
    assert_eq!(json["pull_request"]["number"], 17);
    assert_eq!(json["repository"]["full_name"], "acme/widgets");
    assert_eq!(json["repository"]["name"], "widgets");
    assert_eq!(json["repository"]["owner"]["login"], "acme");
    assert_eq!(json["repository"]["clone_url"], "file:///tmp/widgets.git");
    assert_eq!(
        json["pull_request"]["base"]["repo"]["full_name"],
        "acme/widgets"
    );
    assert_eq!(
        json["pull_request"]["head"]["repo"]["clone_url"],
        "file:///tmp/widgets.git"
    );
    assert_eq!(
        json["pull_request"]["head"]["sha"],
        "1111111111111111111111111111111111111111"
    );
    assert_eq!(
        json["pull_request"]["base"]["sha"],
        "2222222222222222222222222222222222222222"
    );
    assert_eq!(json["pull_request"]["user"]["login"], "alice");
    assert_eq!(json["sender"]["login"], "alice");
    assert_eq!(json["installation"]["id"], 99);
    // A rewritten payload is still valid JSON with the same event.
    let delivery = payload.delivery("d-1");
    assert_eq!(delivery.event, "pull_request");
    let parsed: serde_json::Value = serde_json::from_slice(&delivery.body).unwrap();
    assert_eq!(&parsed, json);
}

#[test]
fn comment_fixtures_are_rewritten() {
    let payload = Payload::fixture("issue_comment", "created.payload.json")
        .repository("acme/widgets", "file:///tmp/widgets.git")
        .number(3)
        .comment_body("/andon run data-check")
        .author("bob")
        .set("/comment/author_association", json!("MEMBER"));
    let json = &payload.json;
    assert_eq!(json["issue"]["number"], 3);
    assert_eq!(json["comment"]["body"], "/andon run data-check");
    assert_eq!(json["comment"]["user"]["login"], "bob");
    assert_eq!(json["comment"]["author_association"], "MEMBER");
    assert_eq!(json["sender"]["login"], "bob");
    // The fixture has no installation: one is added.
    assert!(json.get("installation").is_none());
    assert_eq!(payload.installation(5).json["installation"]["id"], 5);
}

#[test]
fn push_fixtures_take_shas() {
    let payload = Payload::fixture("push", "payload.json")
        .head_sha("3333333333333333333333333333333333333333")
        .base_sha("4444444444444444444444444444444444444444");
    assert_eq!(
        payload.json["after"],
        "3333333333333333333333333333333333333333"
    );
    assert_eq!(
        payload.json["before"],
        "4444444444444444444444444444444444444444"
    );
}
