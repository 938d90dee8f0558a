//! Comments found again by a hidden marker: the sticky comment (edited in
//! place, split over several comments when long) and the one-off reply.
//!
//! Only comments by andon itself count when its login is known, so a user
//! who pastes a marker can neither hijack nor suppress andon's comment.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::json;

use crate::GitHubError;
use crate::checks::truncate;
use crate::reads::UserJson;
use crate::split::{COMMENT_LIMIT, split};
use crate::transport::{Api, Repo, Verb};

#[derive(Deserialize)]
struct CommentJson {
    id: u64,
    body: Option<String>,
    user: Option<UserJson>,
}

#[derive(Deserialize)]
struct Created {
    id: u64,
}

/// The first line of part `part` of the sticky comment `marker`.
fn sticky_header(marker: &str, part: usize) -> String {
    format!("<!-- andon:sticky:{marker} part {part} -->")
}

/// The part number of a sticky comment of `marker`, from its first line.
fn sticky_part(body: &str, marker: &str) -> Option<usize> {
    let first = body.lines().next()?.trim();
    let inner = first
        .strip_prefix("<!-- andon:sticky:")?
        .strip_suffix(" -->")?;
    let (found, part) = inner.rsplit_once(" part ")?;
    (found == marker).then(|| part.parse().ok()).flatten()
}

/// The comments on `number`, oldest first; only andon's when `me` is known.
async fn list(
    api: &Api<'_>,
    repo: &Repo,
    number: u64,
    me: Option<&str>,
) -> Result<Vec<CommentJson>, GitHubError> {
    let path = format!("{}/issues/{number}/comments?per_page=100", repo.path());
    let comments = api.get_all::<CommentJson, Vec<CommentJson>>(path).await?;
    Ok(comments
        .into_iter()
        .filter(|comment| match (me, &comment.user) {
            (Some(me), Some(user)) => user.login.eq_ignore_ascii_case(me),
            (Some(_), None) => false,
            (None, _) => true,
        })
        .collect())
}

/// Whether GitHub's copy of a body is the one we would send, ignoring the
/// line endings and trailing whitespace it may normalise.
fn same(stored: Option<&str>, wanted: &str) -> bool {
    let normal = |text: &str| text.replace("\r\n", "\n").trim_end().to_owned();
    stored.is_some_and(|stored| normal(stored) == normal(wanted))
}

/// Makes the parts of sticky comment `marker` on `number` read `body`:
/// edits the parts that differ, creates the missing ones, deletes the ones
/// no longer needed (and duplicates left by an interrupted earlier try).
pub(crate) async fn sticky(
    api: &Api<'_>,
    repo: &Repo,
    number: u64,
    marker: &str,
    body: &str,
    me: Option<&str>,
) -> Result<String, GitHubError> {
    let parts = split(body, COMMENT_LIMIT, |part| sticky_header(marker, part));
    let mut existing = BTreeMap::new();
    let mut surplus = Vec::new();
    for comment in list(api, repo, number, me).await? {
        let Some(part) = sticky_part(comment.body.as_deref().unwrap_or(""), marker) else {
            continue;
        };
        if part == 0 || part > parts.len() || existing.contains_key(&part) {
            surplus.push(comment.id);
        } else {
            existing.insert(part, comment);
        }
    }
    let (mut created, mut edited, mut unchanged) = (0, 0, 0);
    for (index, part) in parts.iter().enumerate() {
        let payload = json!({ "body": part });
        match existing.remove(&(index + 1)) {
            Some(comment) if same(comment.body.as_deref(), part) => unchanged += 1,
            Some(comment) => {
                let path = format!("{}/issues/comments/{}", repo.path(), comment.id);
                api.send(Verb::Patch, &path, Some(&payload))
                    .await?
                    .success()?;
                edited += 1;
            }
            None => {
                let path = format!("{}/issues/{number}/comments", repo.path());
                api.send(Verb::Post, &path, Some(&payload))
                    .await?
                    .success()?;
                created += 1;
            }
        }
    }
    for id in &surplus {
        let path = format!("{}/issues/comments/{id}", repo.path());
        let reply = api.send(Verb::Delete, &path, None).await?;
        if reply.status != 404 {
            reply.success()?;
        }
    }
    Ok(format!(
        "sticky comment `{marker}` in {} part(s): {created} created, {edited} edited, \
         {unchanged} unchanged, {} deleted",
        parts.len(),
        surplus.len()
    ))
}

/// Posts `body` on `number` unless a reply carrying `marker` is there.
pub(crate) async fn reply(
    api: &Api<'_>,
    repo: &Repo,
    number: u64,
    marker: &str,
    body: &str,
    me: Option<&str>,
) -> Result<String, GitHubError> {
    let tag = format!("<!-- andon:reply:{marker} -->");
    let comments = list(api, repo, number, me).await?;
    let posted = comments.iter().find(|comment| {
        comment
            .body
            .as_deref()
            .is_some_and(|text| text.contains(&tag))
    });
    if let Some(comment) = posted {
        return Ok(format!("reply already posted as comment {}", comment.id));
    }
    let text = truncate(&format!("{tag}\n{body}"), COMMENT_LIMIT);
    let path = format!("{}/issues/{number}/comments", repo.path());
    let created: Created = api
        .json(Verb::Post, &path, Some(&json!({ "body": text })))
        .await?;
    Ok(format!("posted reply as comment {}", created.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sticky_parts_are_recognised_by_their_exact_marker() {
        let header = sticky_header("size", 2);
        assert_eq!(sticky_part(&format!("{header}\nbody"), "size"), Some(2));
        assert_eq!(sticky_part(&format!("{header}\r\nbody"), "size"), Some(2));
        assert_eq!(sticky_part(&format!("{header}\nbody"), "siz"), None);
        assert_eq!(sticky_part(&format!("text\n{header}"), "size"), None);
        let tricky = sticky_header("a part 1", 3);
        assert_eq!(sticky_part(&tricky, "a part 1"), Some(3));
        assert_eq!(sticky_part(&tricky, "a"), None);
    }
}
