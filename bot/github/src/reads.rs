//! What the workers read from GitHub: a pull request, a user's
//! permission on a repository and how a check ended on a commit, as plain
//! types.

use std::fmt;

use serde::Deserialize;

use crate::GitHubError;
use crate::transport::{Api, Repo, Verb, encode};

/// A pull request as a worker needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequestInfo {
    pub number: u64,
    pub title: String,
    /// Empty when the description is.
    pub body: String,
    /// The author's login.
    pub author: String,
    pub state: PullRequestState,
    pub draft: bool,
    pub head_sha: String,
    pub head_ref: String,
    pub base_sha: String,
    pub base_ref: String,
    /// Label names.
    pub labels: Vec<String>,
    /// Whether the head branch lives in another repository (or in one that
    /// was deleted): its code is not trusted like a branch of the base.
    pub fork: bool,
    /// Where to fetch the head from; `None` when its repository is gone.
    pub head_clone_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PullRequestState {
    Open,
    Closed,
    Merged,
}

/// A user's access to a repository, ordered from none to admin so that
/// policy can ask `permission >= RepoPermission::Write`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RepoPermission {
    None,
    Read,
    Triage,
    Write,
    Maintain,
    Admin,
}

impl RepoPermission {
    /// A role or permission name as GitHub spells it (`admin`, `maintain`,
    /// `write`, `triage`, `read`, `none`, and the older `push` and `pull`),
    /// in any case. `None` for anything else, such as a custom role name.
    pub fn parse(text: &str) -> Option<RepoPermission> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "none" => RepoPermission::None,
            "read" | "pull" => RepoPermission::Read,
            "triage" => RepoPermission::Triage,
            "write" | "push" => RepoPermission::Write,
            "maintain" => RepoPermission::Maintain,
            "admin" => RepoPermission::Admin,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RepoPermission::None => "none",
            RepoPermission::Read => "read",
            RepoPermission::Triage => "triage",
            RepoPermission::Write => "write",
            RepoPermission::Maintain => "maintain",
            RepoPermission::Admin => "admin",
        }
    }
}

impl fmt::Display for RepoPermission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Deserialize)]
pub(crate) struct UserJson {
    pub(crate) login: String,
}

#[derive(Deserialize)]
struct PullJson {
    number: u64,
    state: String,
    title: String,
    body: Option<String>,
    user: Option<UserJson>,
    #[serde(default)]
    labels: Vec<LabelJson>,
    #[serde(default)]
    draft: bool,
    #[serde(default)]
    merged: bool,
    merged_at: Option<String>,
    head: BranchJson,
    base: BranchJson,
}

#[derive(Deserialize)]
pub(crate) struct LabelJson {
    pub(crate) name: String,
}

#[derive(Deserialize)]
struct BranchJson {
    #[serde(rename = "ref")]
    name: String,
    sha: String,
    repo: Option<RepoJson>,
}

#[derive(Deserialize)]
struct RepoJson {
    full_name: String,
    clone_url: Option<String>,
}

#[derive(Deserialize)]
struct PermissionJson {
    permission: Option<String>,
    role_name: Option<String>,
}

pub(crate) async fn pull_request(
    api: &Api<'_>,
    repo: &Repo,
    number: u64,
) -> Result<PullRequestInfo, GitHubError> {
    let path = format!("{}/pulls/{number}", repo.path());
    let pull: PullJson = api.json(Verb::Get, &path, None).await?;
    Ok(pull.into())
}

/// The open pull requests of `repo`, oldest first (at most
/// `MAX_PAGES` pages of 100).
pub(crate) async fn open_pull_requests(
    api: &Api<'_>,
    repo: &Repo,
) -> Result<Vec<PullRequestInfo>, GitHubError> {
    let path = format!(
        "{}/pulls?state=open&sort=created&direction=asc&per_page=100",
        repo.path()
    );
    let pulls = api.get_all::<PullJson, Vec<PullJson>>(path).await?;
    Ok(pulls.into_iter().map(PullRequestInfo::from).collect())
}

impl From<PullJson> for PullRequestInfo {
    fn from(pull: PullJson) -> PullRequestInfo {
        let state = if pull.merged || pull.merged_at.is_some() {
            PullRequestState::Merged
        } else if pull.state == "open" {
            PullRequestState::Open
        } else {
            PullRequestState::Closed
        };
        let fork = match (&pull.head.repo, &pull.base.repo) {
            (Some(head), Some(base)) => !head.full_name.eq_ignore_ascii_case(&base.full_name),
            _ => true,
        };
        PullRequestInfo {
            number: pull.number,
            title: pull.title,
            body: pull.body.unwrap_or_default(),
            author: pull
                .user
                .map_or_else(|| "ghost".to_owned(), |user| user.login),
            state,
            draft: pull.draft,
            head_sha: pull.head.sha,
            head_ref: pull.head.name,
            base_sha: pull.base.sha,
            base_ref: pull.base.name,
            labels: pull.labels.into_iter().map(|label| label.name).collect(),
            fork,
            head_clone_url: pull.head.repo.and_then(|repo| repo.clone_url),
        }
    }
}

pub(crate) async fn permission(
    api: &Api<'_>,
    repo: &Repo,
    user: &str,
) -> Result<RepoPermission, GitHubError> {
    let path = format!("{}/collaborators/{}/permission", repo.path(), encode(user));
    let reply = api.send(Verb::Get, &path, None).await?;
    if reply.status == 404 {
        return Ok(RepoPermission::None);
    }
    let answer: PermissionJson = reply.success()?.json()?;
    // `role_name` tells maintain and triage apart; a custom role's name
    // means nothing here, so its base `permission` decides.
    let level = answer
        .role_name
        .as_deref()
        .and_then(RepoPermission::parse)
        .or_else(|| answer.permission.as_deref().and_then(RepoPermission::parse));
    Ok(level.unwrap_or(RepoPermission::None))
}

/// See `GitHub::check_conclusion`: a check run of that name, else a
/// commit status of that context.
pub(crate) async fn check_conclusion(
    api: &Api<'_>,
    repo: &Repo,
    sha: &str,
    check_name: &str,
) -> Result<Option<String>, GitHubError> {
    if let Some(conclusion) = crate::checks::latest_conclusion(api, repo, sha, check_name).await? {
        return Ok(Some(conclusion));
    }
    crate::statuses::state_of(api, repo, sha, check_name).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_are_ordered_and_parsed() {
        assert!(RepoPermission::None < RepoPermission::Read);
        assert!(RepoPermission::Triage < RepoPermission::Write);
        assert!(RepoPermission::Maintain < RepoPermission::Admin);
        for level in [
            RepoPermission::None,
            RepoPermission::Read,
            RepoPermission::Triage,
            RepoPermission::Write,
            RepoPermission::Maintain,
            RepoPermission::Admin,
        ] {
            assert_eq!(RepoPermission::parse(level.as_str()), Some(level));
        }
        assert_eq!(RepoPermission::parse("Push"), Some(RepoPermission::Write));
        assert_eq!(RepoPermission::parse("security-manager"), None);
    }
}
