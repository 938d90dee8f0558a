//! Labels and reactions: states to reach, so a repeat finds them reached.

use serde_json::json;

use crate::GitHubError;
use crate::reads::LabelJson;
use crate::transport::{Api, Repo, Verb, encode};

/// Makes `label` present or absent on `number`, writing only if needed.
pub(crate) async fn label(
    api: &Api<'_>,
    repo: &Repo,
    number: u64,
    label: &str,
    present: bool,
) -> Result<String, GitHubError> {
    let path = format!("{}/issues/{number}/labels", repo.path());
    let labels = api
        .get_all::<LabelJson, Vec<LabelJson>>(format!("{path}?per_page=100"))
        .await?;
    // Label names are unique per repository regardless of case.
    let wanted = label.to_lowercase();
    let has = labels.iter().any(|l| l.name.to_lowercase() == wanted);
    match (has, present) {
        (true, true) => Ok(format!("label `{label}` already present")),
        (false, false) => Ok(format!("label `{label}` already absent")),
        (false, true) => {
            let body = json!({ "labels": [label] });
            api.send(Verb::Post, &path, Some(&body)).await?.success()?;
            Ok(format!("added label `{label}`"))
        }
        (true, false) => {
            let path = format!("{path}/{}", encode(label));
            let reply = api.send(Verb::Delete, &path, None).await?;
            if reply.status == 404 {
                return Ok(format!("label `{label}` already absent"));
            }
            reply.success()?;
            Ok(format!("removed label `{label}`"))
        }
    }
}

/// Reacts to an issue comment. GitHub answers 200 when the reaction was
/// already there and 201 when it adds it: both are done.
pub(crate) async fn reaction(
    api: &Api<'_>,
    repo: &Repo,
    comment_id: u64,
    content: &str,
) -> Result<String, GitHubError> {
    let path = format!("{}/issues/comments/{comment_id}/reactions", repo.path());
    let body = json!({ "content": content });
    let reply = api.send(Verb::Post, &path, Some(&body)).await?.success()?;
    Ok(if reply.status == 200 {
        format!("reaction `{content}` already on comment {comment_id}")
    } else {
        format!("reacted `{content}` to comment {comment_id}")
    })
}
