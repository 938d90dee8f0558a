//! The fake through octocrab, the client andon-github uses: its answers
//! must deserialize into octocrab's models, and octocrab's requests must
//! land where the fake expects them.

use andon_testkit::FakeGitHub;
use andon_testkit::github::{Permission, PullRequest};
use octocrab::Octocrab;
use octocrab::models::reactions::ReactionContent;
use octocrab::params::checks::{
    CheckRunConclusion, CheckRunOutput, CheckRunOutputAnnotation, CheckRunOutputAnnotationLevel,
    CheckRunStatus,
};

const OWNER: &str = "octo-org";
const NAME: &str = "hello";
const REPO: &str = "octo-org/hello";
const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

fn octocrab(github: &FakeGitHub) -> Octocrab {
    Octocrab::builder()
        .base_uri(github.url())
        .unwrap()
        .personal_token("ghp_octocrab".to_owned())
        .build()
        .unwrap()
}

fn output(title: &str, lines: std::ops::RangeInclusive<u32>) -> CheckRunOutput {
    CheckRunOutput {
        title: title.to_owned(),
        summary: format!("{title} summary"),
        text: None,
        annotations: lines
            .map(|line| CheckRunOutputAnnotation {
                path: "data/orders.csv".to_owned(),
                start_line: line,
                end_line: line,
                start_column: None,
                end_column: None,
                annotation_level: CheckRunOutputAnnotationLevel::Failure,
                message: format!("row {line} is invalid"),
                title: None,
                raw_details: None,
            })
            .collect(),
        images: Vec::new(),
    }
}

#[tokio::test]
async fn users_apps_and_installations() {
    let github = FakeGitHub::start();
    let crab = octocrab(&github);
    assert_eq!(crab.current().user().await.unwrap().login, "andon-bot");
    assert_eq!(
        crab.current().app().await.unwrap().slug.as_deref(),
        Some("andon")
    );
    github.set_installation(REPO, 7);
    let installation = crab
        .apps()
        .get_repository_installation(OWNER, NAME)
        .await
        .unwrap();
    assert_eq!(installation.id.0, 7);
    let calls = github.calls();
    assert!(
        calls
            .iter()
            .all(|c| c.authorization.as_deref() == Some("Bearer ghp_octocrab"))
    );
}

#[tokio::test]
async fn check_runs() {
    let github = FakeGitHub::start();
    let crab = octocrab(&github);
    let checks = crab.checks(OWNER, NAME);
    let run = checks
        .create_check_run("andon / data-check", SHA)
        .external_id("run-1")
        .status(CheckRunStatus::InProgress)
        .output(output("Checking", 1..=50))
        .send()
        .await
        .unwrap();
    assert_eq!(run.name, "andon / data-check");
    assert_eq!(run.output.annotations_count, 50);

    let run = checks
        .update_check_run(run.id)
        .conclusion(CheckRunConclusion::Failure)
        .output(output("51 problems", 51..=51))
        .send()
        .await
        .unwrap();
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert_eq!(run.output.annotations_count, 51);

    let listed = checks
        .list_check_runs_for_git_ref(SHA.into())
        .send()
        .await
        .unwrap();
    assert_eq!(listed.total_count, 1);
    assert_eq!(
        listed.check_runs[0].output.title.as_deref(),
        Some("51 problems")
    );
    assert_eq!(github.check_runs(REPO)[0].annotations.len(), 51);
}

#[tokio::test]
async fn sticky_comments_labels_and_reactions() {
    let github = FakeGitHub::start();
    let crab = octocrab(&github);
    let issues = crab.issues(OWNER, NAME);
    for i in 0..40 {
        github.add_comment(REPO, 8, "someone", &format!("noise {i}"));
    }
    let comment = issues
        .create_comment(8, "<!-- andon:review -->\nfirst")
        .await
        .unwrap();
    assert_eq!(comment.user.login, "andon-bot");

    // Find the sticky comment across pages, the way a bot does.
    let mut page = issues.list_comments(8).per_page(25).send().await.unwrap();
    let mut found = Vec::new();
    loop {
        found.extend(
            page.items
                .iter()
                .filter(|c| c.user.login == "andon-bot")
                .map(|c| c.id),
        );
        match crab.get_page(&page.next).await.unwrap() {
            Some(next) => page = next,
            None => break,
        }
    }
    assert_eq!(found, [comment.id]);

    let edited = issues
        .update_comment(comment.id, "<!-- andon:review -->\nsecond")
        .await
        .unwrap();
    assert_eq!(
        edited.body.as_deref(),
        Some("<!-- andon:review -->\nsecond")
    );
    let reaction = issues
        .create_comment_reaction(comment.id, ReactionContent::Rocket)
        .await
        .unwrap();
    assert_eq!(reaction.content, ReactionContent::Rocket);
    assert_eq!(github.reactions(comment.id.0)[0].content, "rocket");

    let labels = issues
        .add_labels(8, &["size/XL".to_owned(), "data".to_owned()])
        .await
        .unwrap();
    assert_eq!(labels.len(), 2);
    let left = issues.remove_label(8, "size/XL").await.unwrap();
    assert_eq!(
        left.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
        ["data"]
    );
    let listed = issues.list_labels_for_issue(8).send().await.unwrap();
    assert_eq!(listed.items.len(), 1);

    issues.delete_comment(comment.id).await.unwrap();
    assert_eq!(github.comments(REPO, 8).len(), 40);
}

#[tokio::test]
async fn pull_requests_and_permissions() {
    let github = FakeGitHub::start();
    let crab = octocrab(&github);
    github.add_pull_request(PullRequest::new(
        REPO,
        12,
        SHA,
        "fedcba9876543210fedcba9876543210fedcba98",
    ));
    let pr = crab.pulls(OWNER, NAME).get(12).await.unwrap();
    assert_eq!(pr.number, 12);
    assert_eq!(pr.head.sha, SHA);
    assert_eq!(pr.base.ref_field, "main");
    assert_eq!(
        pr.head
            .repo
            .and_then(|r| r.clone_url)
            .map(|u| u.to_string())
            .as_deref(),
        Some("https://github.com/octo-org/hello.git")
    );

    github.set_permission(REPO, "alice", Permission::Admin);
    let permission = crab
        .repos(OWNER, NAME)
        .get_contributor_permission("alice")
        .send()
        .await
        .unwrap();
    assert_eq!(permission.role_name, "admin");
    assert!(permission.user.permissions.admin);
    let unknown = crab
        .repos(OWNER, NAME)
        .get_contributor_permission("eve")
        .send()
        .await;
    assert!(unknown.is_err());
}
