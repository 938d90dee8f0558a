//! Sticky comments and replies, found by their hidden markers among the
//! bot's own comments.

use andon_core::effect::Effect;
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::{BOT, bodies, created, done, fixture, mount_identity, ok, planned, token_github};

const COMMENTS: &str = "/repos/octo-org/hello-world/issues/1347/comments";

fn comment(id: u64, login: &str, body: &str) -> Value {
    let mut comment = fixture("issue-comment.json");
    comment["id"] = id.into();
    comment["user"]["login"] = login.into();
    comment["body"] = body.into();
    comment
}

fn sticky(body: &str) -> Effect {
    Effect::StickyComment {
        number: 1347,
        marker: "size".into(),
        body: body.into(),
    }
}

/// No edit at all; `expect(0)` is checked when the server drops.
async fn forbid_edits(server: &MockServer) {
    Mock::given(method("PATCH"))
        .and(path_regex(r"/issues/comments/\d+$"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_sticky_comment_is_created_once_and_then_left_alone() {
    let server = MockServer::start().await;
    mount_identity(&server, BOT).await;
    let part = "<!-- andon:sticky:size part 1 -->\nSize: **S** (12 lines)";
    Mock::given(method("GET"))
        .and(path(COMMENTS))
        .respond_with(ok(json!([comment(1, "octocat", "LGTM")])))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(COMMENTS))
        .and(query_param("per_page", "100"))
        .respond_with(ok(json!([
            comment(1, "octocat", "LGTM"),
            comment(2, BOT, &part.replace('\n', "\r\n")),
        ])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(COMMENTS))
        .and(body_partial_json(json!({ "body": part })))
        .respond_with(created(comment(2, BOT, part)))
        .expect(1)
        .mount(&server)
        .await;
    forbid_edits(&server).await;
    let github = token_github(&server);
    let effect = planned(sticky("Size: **S** (12 lines)"));
    let first = done(github.execute(&effect).await.expect("first"));
    assert_eq!(
        first,
        "sticky comment `size` in 1 part(s): 1 created, 0 edited, 0 unchanged, 0 deleted"
    );
    let second = done(github.execute(&effect).await.expect("second"));
    assert!(
        second.contains("0 created, 0 edited, 1 unchanged"),
        "{second}"
    );
}

#[tokio::test]
async fn a_sticky_comment_is_edited_in_place_and_other_authors_markers_are_ignored() {
    let server = MockServer::start().await;
    mount_identity(&server, BOT).await;
    Mock::given(method("GET"))
        .and(path(COMMENTS))
        .respond_with(ok(json!([
            comment(5, "mallory", "<!-- andon:sticky:size part 1 -->\nhijacked"),
            comment(6, BOT, "<!-- andon:sticky:size part 1 -->\nSize: S"),
            comment(7, BOT, "<!-- andon:sticky:other part 1 -->\nSomething else"),
        ])))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/repos/octo-org/hello-world/issues/comments/6"))
        .and(body_partial_json(json!({
            "body": "<!-- andon:sticky:size part 1 -->\nSize: M",
        })))
        .respond_with(ok(comment(6, BOT, "")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(COMMENTS))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let github = token_github(&server);
    let detail = done(
        github
            .execute(&planned(sticky("Size: M")))
            .await
            .expect("done"),
    );
    assert!(detail.contains("0 created, 1 edited"), "{detail}");
}

#[tokio::test]
async fn a_long_sticky_comment_is_split_across_pages_of_comments() {
    let server = MockServer::start().await;
    mount_identity(&server, BOT).await;
    let body = "a line of the data-quality report\n".repeat(4_000);
    // Page 1 links to page 2 by an absolute URL, as GitHub does.
    Mock::given(method("GET"))
        .and(path(COMMENTS))
        .respond_with(
            ok(json!([comment(10, BOT, "<!-- andon:sticky:size part 1 -->\nold")])).insert_header(
                "link",
                format!(
                    "<{}/repositories/1296269/issues/1347/comments?per_page=100&page=2>; rel=\"next\", \
                     <{}/repositories/1296269/issues/1347/comments?per_page=100&page=2>; rel=\"last\"",
                    server.uri(),
                    server.uri()
                )
                .as_str(),
            ),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repositories/1296269/issues/1347/comments"))
        .and(query_param("page", "2"))
        .respond_with(ok(json!([
            comment(
                11,
                BOT,
                "<!-- andon:sticky:size part 4 -->\nleft from a longer report"
            ),
            comment(12, BOT, "<!-- andon:sticky:size part 1 -->\na duplicate"),
        ])))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/repos/octo-org/hello-world/issues/comments/10"))
        .respond_with(ok(comment(10, BOT, "")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(COMMENTS))
        .respond_with(created(comment(13, BOT, "")))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/repos/octo-org/hello-world/issues/comments/11"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    // Already gone: deleting it again is fine.
    Mock::given(method("DELETE"))
        .and(path("/repos/octo-org/hello-world/issues/comments/12"))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&server)
        .await;
    let github = token_github(&server);
    let detail = done(github.execute(&planned(sticky(&body))).await.expect("done"));
    assert_eq!(
        detail,
        "sticky comment `size` in 3 part(s): 2 created, 1 edited, 0 unchanged, 2 deleted"
    );
    let patch = &bodies(
        &server,
        "PATCH",
        "/repos/octo-org/hello-world/issues/comments/10",
    )
    .await[0]["body"];
    let posts = bodies(&server, "POST", COMMENTS).await;
    let mut parts = vec![patch.as_str().expect("text")];
    parts.extend(posts.iter().map(|p| p["body"].as_str().expect("text")));
    let mut rebuilt = String::new();
    for (i, part) in parts.iter().enumerate() {
        assert!(part.chars().count() <= 65_536, "part {} too long", i + 1);
        let (header, rest) = part.split_once('\n').expect("a header line");
        assert_eq!(header, format!("<!-- andon:sticky:size part {} -->", i + 1));
        rebuilt.push_str(rest);
    }
    assert_eq!(rebuilt, body);
}

#[tokio::test]
async fn a_reply_is_posted_once() {
    let server = MockServer::start().await;
    mount_identity(&server, BOT).await;
    Mock::given(method("GET"))
        .and(path(COMMENTS))
        .respond_with(ok(json!([
            comment(20, "octocat", "/andon run data-check"),
            comment(
                21,
                BOT,
                "<!-- andon:reply:cmd-20 -->\nRunning `data-check`."
            ),
            comment(22, "mallory", "<!-- andon:reply:cmd-30 -->\nnot the bot"),
        ])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(COMMENTS))
        .and(body_partial_json(json!({
            "body": "<!-- andon:reply:cmd-30 -->\nUnknown command `frobnicate`.",
        })))
        .respond_with(created(comment(23, BOT, "")))
        .expect(1)
        .mount(&server)
        .await;
    let github = token_github(&server);
    let reply = |marker: &str, body: &str| {
        planned(Effect::Reply {
            number: 1347,
            marker: marker.into(),
            body: body.into(),
        })
    };
    let already = github
        .execute(&reply("cmd-20", "Running `data-check`."))
        .await
        .expect("done");
    assert_eq!(done(already), "reply already posted as comment 21");
    let posted = github
        .execute(&reply("cmd-30", "Unknown command `frobnicate`."))
        .await
        .expect("done");
    assert_eq!(done(posted), "posted reply as comment 23");
}
