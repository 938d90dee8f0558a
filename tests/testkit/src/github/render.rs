//! GitHub's JSON shapes, with every field octocrab's models require, so a
//! client written against the real API reads the fake's answers unchanged.

use serde_json::{Value, json};

use super::api::{APP_ID, APP_SLUG, State};
use super::{CheckRun, Comment, Permission, PullRequest, Reaction};

const WEB: &str = "https://github.com";
/// A fixed creation date for users, apps and repositories.
const EPOCH: &str = "2020-01-01T00:00:00Z";

impl State {
    /// A simple user (`Author` in octocrab); `kind` is `User`, `Bot` or
    /// `Organization`.
    pub fn user(&mut self, login: &str, kind: &str) -> Value {
        let id = self.id_for(format!("user:{}", login.to_lowercase()));
        let api = format!("{}/users/{login}", self.base_url);
        json!({
            "login": login,
            "id": id,
            "node_id": format!("MDQ6VXNlcj{id}"),
            "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"),
            "gravatar_id": "",
            "url": api,
            "html_url": format!("{WEB}/{login}"),
            "followers_url": format!("{api}/followers"),
            "following_url": format!("{api}/following{{/other_user}}"),
            "gists_url": format!("{api}/gists{{/gist_id}}"),
            "starred_url": format!("{api}/starred{{/owner}}{{/repo}}"),
            "subscriptions_url": format!("{api}/subscriptions"),
            "organizations_url": format!("{api}/orgs"),
            "repos_url": format!("{api}/repos"),
            "events_url": format!("{api}/events{{/privacy}}"),
            "received_events_url": format!("{api}/received_events"),
            "type": kind,
            "site_admin": false,
        })
    }

    /// The authenticated user's full profile (`GET /user`).
    pub fn user_profile(&mut self, login: &str) -> Value {
        let mut user = self.user(login, "User");
        let profile = json!({
            "name": login, "company": null, "blog": "", "location": null, "email": null,
            "hireable": null, "bio": null, "twitter_username": null, "public_repos": 0,
            "public_gists": 0, "followers": 0, "following": 0,
            "created_at": EPOCH, "updated_at": EPOCH,
        });
        merge(&mut user, profile);
        user
    }

    pub fn app(&mut self) -> Value {
        let slug = APP_SLUG;
        let owner = self.user("andon-dev", "Organization");
        json!({
            "id": APP_ID,
            "slug": slug,
            "node_id": format!("MDM6QXBw{APP_ID}"),
            "client_id": "Iv1.0000000000000000",
            "owner": owner,
            "name": slug,
            "description": "A Git-native workflow bot",
            "external_url": "https://example.invalid/andon",
            "html_url": format!("{WEB}/apps/{slug}"),
            "created_at": EPOCH,
            "updated_at": EPOCH,
            "permissions": app_permissions(),
            "events": ["check_run", "issue_comment", "pull_request", "push"],
            "installations_count": 1,
        })
    }

    pub fn installation(&mut self, id: u64, owner: &str) -> Value {
        let account = self.user(owner, "Organization");
        json!({
            "id": id,
            "account": account,
            "access_tokens_url": format!("{}/app/installations/{id}/access_tokens", self.base_url),
            "repositories_url": format!("{}/installation/repositories", self.base_url),
            "html_url": format!("{WEB}/organizations/{owner}/settings/installations/{id}"),
            "app_id": APP_ID,
            "app_slug": APP_SLUG,
            "target_id": account["id"],
            "target_type": "Organization",
            "permissions": app_permissions(),
            "events": ["check_run", "issue_comment", "pull_request", "push"],
            "created_at": EPOCH,
            "updated_at": EPOCH,
            "single_file_name": null,
            "repository_selection": "selected",
        })
    }

    /// A repository; `full_name` keeps the case the caller used.
    pub fn repository(&mut self, full_name: &str) -> Value {
        let (owner, name) = full_name.split_once('/').unwrap_or((full_name, full_name));
        let id = self.id_for(format!("repo:{}", full_name.to_lowercase()));
        let owner_json = self.user(owner, "User");
        let clone_url = self
            .clone_urls
            .get(&full_name.to_lowercase())
            .cloned()
            .unwrap_or_else(|| format!("{WEB}/{full_name}.git"));
        json!({
            "id": id,
            "node_id": format!("MDEwOlJlcG9zaXRvcnk{id}"),
            "name": name,
            "full_name": full_name,
            "owner": owner_json,
            "private": false,
            "html_url": format!("{WEB}/{full_name}"),
            "description": null,
            "fork": false,
            "url": format!("{}/repos/{full_name}", self.base_url),
            "clone_url": clone_url,
            "git_url": format!("git://github.com/{full_name}.git"),
            "ssh_url": format!("git@github.com:{full_name}.git"),
            "default_branch": "main",
            "visibility": "public",
            "created_at": EPOCH,
            "updated_at": EPOCH,
            "pushed_at": EPOCH,
        })
    }

    pub fn label(&mut self, repo: &str, name: &str) -> Value {
        let id = self.id_for(format!("label:{}:{name}", repo.to_lowercase()));
        json!({
            "id": id,
            "node_id": format!("MDU6TGFiZWw{id}"),
            "url": format!("{}/repos/{repo}/labels/{}", self.base_url, super::api::encode_segment(name)),
            "name": name,
            "description": null,
            "color": "ededed",
            "default": false,
        })
    }

    pub fn labels_json(&mut self, repo: &str, number: u64) -> Vec<Value> {
        let names = self
            .labels
            .get(&(super::api::repo_key(repo), number))
            .cloned()
            .unwrap_or_default();
        names.iter().map(|name| self.label(repo, name)).collect()
    }

    /// `repo` is the full name as the caller wrote it.
    pub fn comment(&mut self, repo: &str, comment: &Comment) -> Value {
        let bot = comment.author.ends_with("[bot]");
        let user = self.user(&comment.author, if bot { "Bot" } else { "User" });
        let association = self.association(repo, &comment.author);
        let app = if bot { self.app() } else { Value::Null };
        json!({
            "id": comment.id,
            "node_id": format!("IC_kwDO{}", comment.id),
            "url": format!("{}/repos/{repo}/issues/comments/{}", self.base_url, comment.id),
            "html_url": format!("{WEB}/{repo}/pull/{}#issuecomment-{}", comment.issue, comment.id),
            "issue_url": format!("{}/repos/{repo}/issues/{}", self.base_url, comment.issue),
            "body": comment.body,
            "user": user,
            "created_at": comment.created_at,
            "updated_at": comment.updated_at,
            "author_association": association,
            "performed_via_github_app": app,
        })
    }

    /// How `login` relates to `repo`, as GitHub reports it on comments.
    fn association(&self, repo: &str, login: &str) -> &'static str {
        let owner = repo.split_once('/').map_or(repo, |(owner, _)| owner);
        if owner.eq_ignore_ascii_case(login) {
            return "OWNER";
        }
        let key = (super::api::repo_key(repo), login.to_lowercase());
        match self.permissions.get(&key) {
            Some(Permission::None | Permission::Read) | None => "NONE",
            Some(_) => "COLLABORATOR",
        }
    }

    pub fn check_run(&mut self, repo: &str, run: &CheckRun) -> Value {
        let app = self.app();
        json!({
            "id": run.id,
            "node_id": format!("CR_kwDO{}", run.id),
            "head_sha": run.head_sha,
            "external_id": run.external_id.clone().unwrap_or_default(),
            "url": format!("{}/repos/{repo}/check-runs/{}", self.base_url, run.id),
            "html_url": format!("{WEB}/{repo}/runs/{}", run.id),
            "details_url": run.details_url.clone().unwrap_or_else(|| format!("{WEB}/{repo}/runs/{}", run.id)),
            "status": run.status,
            "conclusion": run.conclusion,
            "started_at": run.started_at,
            "completed_at": run.completed_at,
            "output": {
                "title": run.output.title,
                "summary": run.output.summary,
                "text": run.output.text,
                "annotations_count": run.annotations.len(),
                "annotations_url": format!("{}/repos/{repo}/check-runs/{}/annotations", self.base_url, run.id),
            },
            "name": run.name,
            "check_suite": { "id": run.id },
            "app": app,
            "pull_requests": [],
        })
    }

    pub fn reaction(&mut self, reaction: &Reaction) -> Value {
        let bot = reaction.user.ends_with("[bot]");
        let user = self.user(&reaction.user, if bot { "Bot" } else { "User" });
        json!({
            "id": reaction.id,
            "node_id": format!("REA_lADO{}", reaction.id),
            "user": user,
            "content": reaction.content,
            "created_at": reaction.created_at,
        })
    }

    /// `repo` is the full name as the caller wrote it.
    pub fn pull(&mut self, repo: &str, pr: &PullRequest) -> Value {
        let id = self.id_for(format!("pull:{}#{}", repo.to_lowercase(), pr.number));
        let user = self.user(&pr.author, "User");
        let labels = self.labels_json(repo, pr.number);
        let head_repo_name = pr.head_repo.clone().unwrap_or_else(|| repo.to_owned());
        let head_owner = head_repo_name
            .split_once('/')
            .map_or("", |(o, _)| o)
            .to_owned();
        let base_owner = repo.split_once('/').map_or("", |(o, _)| o).to_owned();
        let head_repo = self.repository(&head_repo_name);
        let base_repo = self.repository(repo);
        let head_user = self.user(&head_owner, "User");
        let base_user = self.user(&base_owner, "User");
        let api = format!("{}/repos/{repo}", self.base_url);
        let html = format!("{WEB}/{repo}/pull/{}", pr.number);
        json!({
            "id": id,
            "node_id": format!("PR_kwDO{id}"),
            "number": pr.number,
            "url": format!("{api}/pulls/{}", pr.number),
            "html_url": html,
            "diff_url": format!("{html}.diff"),
            "patch_url": format!("{html}.patch"),
            "issue_url": format!("{api}/issues/{}", pr.number),
            "commits_url": format!("{api}/pulls/{}/commits", pr.number),
            "review_comments_url": format!("{api}/pulls/{}/comments", pr.number),
            "review_comment_url": format!("{api}/pulls/comments{{/number}}"),
            "comments_url": format!("{api}/issues/{}/comments", pr.number),
            "statuses_url": format!("{api}/statuses/{}", pr.head_sha),
            "state": pr.state,
            "locked": false,
            "title": pr.title,
            "user": user,
            "body": pr.body,
            "labels": labels,
            "created_at": EPOCH,
            "updated_at": EPOCH,
            "closed_at": null,
            "merged_at": null,
            "merge_commit_sha": null,
            "draft": pr.draft,
            "head": {
                "label": format!("{head_owner}:{}", pr.head_ref),
                "ref": pr.head_ref,
                "sha": pr.head_sha,
                "user": head_user,
                "repo": head_repo,
            },
            "base": {
                "label": format!("{base_owner}:{}", pr.base_ref),
                "ref": pr.base_ref,
                "sha": pr.base_sha,
                "user": base_user,
                "repo": base_repo,
            },
            "author_association": self.association(repo, &pr.author),
            "merged": false,
            "mergeable": null,
            "mergeable_state": "unknown",
            "comments": 0,
            "commits": 1,
            "additions": 0,
            "deletions": 0,
            "changed_files": 0,
        })
    }

    pub fn permission(&mut self, login: &str, level: Permission) -> Value {
        let mut user = self.user(login, "User");
        let at_least = |floor: Permission| rank(level) >= rank(floor);
        merge(
            &mut user,
            json!({
                "permissions": {
                    "admin": at_least(Permission::Admin),
                    "maintain": at_least(Permission::Maintain),
                    "push": at_least(Permission::Write),
                    "triage": at_least(Permission::Triage),
                    "pull": at_least(Permission::Read),
                },
                "role_name": level.role_name(),
            }),
        );
        json!({
            "permission": level.legacy(),
            "role_name": level.role_name(),
            "user": user,
        })
    }
}

fn rank(level: Permission) -> u8 {
    match level {
        Permission::None => 0,
        Permission::Read => 1,
        Permission::Triage => 2,
        Permission::Write => 3,
        Permission::Maintain => 4,
        Permission::Admin => 5,
    }
}

fn app_permissions() -> Value {
    json!({
        "checks": "write",
        "contents": "read",
        "issues": "write",
        "metadata": "read",
        "pull_requests": "write",
    })
}

/// Add `extra`'s fields to the object `base`.
fn merge(base: &mut Value, extra: Value) {
    if let (Some(base), Value::Object(extra)) = (base.as_object_mut(), extra) {
        base.extend(extra);
    }
}
