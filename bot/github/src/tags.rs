//! Annotated tags through the git data API (model registry tags such as
//! `churn@v0.0.2` or `churn#prod#3`): a tag object, then its ref. Found
//! again by the ref, so a retry after the ref was made is done without a
//! second tag object; a ref on another commit is never moved.
//!
//! A crash between the two requests leaves a tag object no ref names; the
//! retry makes another one, and GitHub collects the orphan.

use serde::Deserialize;
use serde_json::json;

use crate::GitHubError;
use crate::transport::{Api, Repo, Verb, encode, message};

/// Tags pointing at tags are followed at most this deep.
const MAX_NESTING: usize = 4;

/// An annotated tag to create.
pub(crate) struct NewTag<'a> {
    pub(crate) name: &'a str,
    pub(crate) commit: &'a str,
    pub(crate) message: &'a str,
    pub(crate) tagger_name: &'a str,
    pub(crate) tagger_email: &'a str,
    /// Seconds since the epoch.
    pub(crate) time: i64,
}

/// What a ref or a tag object points at.
#[derive(Deserialize)]
struct Target {
    #[serde(rename = "type")]
    kind: String,
    sha: String,
}

/// `GET .../git/ref/{ref}` and `POST .../git/refs`.
#[derive(Deserialize)]
struct RefJson {
    object: Target,
}

/// `GET .../git/tags/{sha}` and `POST .../git/tags`.
#[derive(Deserialize)]
struct TagJson {
    sha: String,
    object: Target,
}

pub(crate) async fn create(
    api: &Api<'_>,
    repo: &Repo,
    tag: &NewTag<'_>,
) -> Result<String, GitHubError> {
    if let Some(done) = existing(api, repo, tag).await? {
        return Ok(done);
    }
    let date = chrono::DateTime::from_timestamp(tag.time, 0)
        .ok_or_else(|| GitHubError::BadRequest(format!("tag time {} is out of range", tag.time)))?
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let body = json!({
        "tag": tag.name,
        "message": tag.message,
        "object": tag.commit,
        "type": "commit",
        "tagger": { "name": tag.tagger_name, "email": tag.tagger_email, "date": date },
    });
    let path = format!("{}/git/tags", repo.path());
    let object: TagJson = api.json(Verb::Post, &path, Some(&body)).await?;
    let body = json!({ "ref": format!("refs/tags/{}", tag.name), "sha": object.sha });
    let path = format!("{}/git/refs", repo.path());
    let reply = api.send(Verb::Post, &path, Some(&body)).await?;
    // Another attempt made the ref between the lookup and now.
    if reply.status == 422
        && message(reply.status, &reply.body).contains("Reference already exists")
        && let Some(done) = existing(api, repo, tag).await?
    {
        return Ok(done);
    }
    reply.success()?;
    Ok(format!(
        "created tag {} (tag object {}) on {}",
        tag.name,
        short(&object.sha),
        short(tag.commit)
    ))
}

/// `Some(detail)` when `refs/tags/{name}` already names an annotated tag
/// of the commit, `None` when there is no such ref, and a refusal when it
/// names anything else: registry tags are never moved.
async fn existing(
    api: &Api<'_>,
    repo: &Repo,
    tag: &NewTag<'_>,
) -> Result<Option<String>, GitHubError> {
    let path = format!("{}/git/ref/tags/{}", repo.path(), ref_path(tag.name));
    let reply = api.send(Verb::Get, &path, None).await?;
    if reply.status == 404 {
        return Ok(None);
    }
    let found: RefJson = reply.success()?.json()?;
    let mut target = found.object;
    let mut annotated = false;
    for _ in 0..MAX_NESTING {
        if target.kind != "tag" {
            break;
        }
        annotated = true;
        let path = format!("{}/git/tags/{}", repo.path(), encode(&target.sha));
        let object: TagJson = api.json(Verb::Get, &path, None).await?;
        target = object.object;
    }
    let name = tag.name;
    let refused = |message: String| GitHubError::Refused {
        status: 422,
        message,
    };
    if target.kind != "commit" || !target.sha.eq_ignore_ascii_case(tag.commit) {
        return Err(refused(format!(
            "tag {name} already exists on another {} {}; registry tags are never moved",
            target.kind,
            short(&target.sha)
        )));
    }
    if !annotated {
        return Err(refused(format!(
            "tag {name} already exists on {} as a lightweight tag; registry tags must be annotated",
            short(tag.commit)
        )));
    }
    Ok(Some(format!(
        "tag {name} already exists on {}",
        short(tag.commit)
    )))
}

/// A ref name in a URL path: each `/`-separated part percent-encoded (so
/// `#`, `@`, `!` and `=` survive), the slashes kept as GitHub's route wants.
fn ref_path(name: &str) -> String {
    name.split('/').map(encode).collect::<Vec<_>>().join("/")
}

/// An object id as people read it in a log line.
fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ref_names_are_encoded_part_by_part() {
        assert_eq!(ref_path("churn#prod#3"), "churn%23prod%233");
        assert_eq!(ref_path("churn@v0.0.2"), "churn%40v0.0.2");
        assert_eq!(ref_path("models/churn@v1!"), "models/churn%40v1%21");
        assert_eq!(ref_path("a=b"), "a%3Db");
    }
}
