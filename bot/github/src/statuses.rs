//! Commit statuses: a desired state per context, so a repeat that finds
//! the newest status of its context already as wanted makes no call
//! (GitHub keeps every status ever posted; posting again would pile up).

use andon_core::effect::CommitState;
use serde::Deserialize;
use serde_json::json;

use crate::GitHubError;
use crate::transport::{Api, Repo, Verb, encode};

#[derive(Deserialize)]
struct StatusJson {
    context: String,
    state: String,
    description: Option<String>,
}

/// `GET .../commits/{ref}/status`: the newest status of each context.
#[derive(Deserialize)]
struct Combined {
    statuses: Vec<StatusJson>,
}

impl From<Combined> for Vec<StatusJson> {
    fn from(combined: Combined) -> Self {
        combined.statuses
    }
}

/// Makes the newest status of `context` on `sha` read `state` and
/// `description`.
pub(crate) async fn set(
    api: &Api<'_>,
    repo: &Repo,
    sha: &str,
    context: &str,
    state: CommitState,
    description: &str,
) -> Result<String, GitHubError> {
    let newest = newest(api, repo, sha).await?;
    let already = newest.iter().any(|status| {
        status.context == context
            && status.state == state.as_str()
            && status.description.as_deref().unwrap_or("") == description
    });
    if already {
        return Ok(format!(
            "commit status `{context}` already {}",
            state.as_str()
        ));
    }
    let body = json!({
        "state": state.as_str(),
        "context": context,
        "description": description,
    });
    let path = format!("{}/statuses/{}", repo.path(), encode(sha));
    api.send(Verb::Post, &path, Some(&body)).await?.success()?;
    Ok(format!(
        "set commit status `{context}` to {}",
        state.as_str()
    ))
}

/// The newest status of each context on `sha`.
async fn newest(api: &Api<'_>, repo: &Repo, sha: &str) -> Result<Vec<StatusJson>, GitHubError> {
    let path = format!(
        "{}/commits/{}/status?per_page=100",
        repo.path(),
        encode(sha)
    );
    api.get_all::<StatusJson, Combined>(path).await
}

/// The state of the newest status `context` on `sha`, if any.
pub(crate) async fn state_of(
    api: &Api<'_>,
    repo: &Repo,
    sha: &str,
    context: &str,
) -> Result<Option<String>, GitHubError> {
    Ok(newest(api, repo, sha)
        .await?
        .into_iter()
        .find(|status| status.context == context)
        .map(|status| status.state))
}
