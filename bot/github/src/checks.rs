//! Check runs, found again by `external_id` so that starting or finishing
//! one twice changes nothing the second time.

use andon_core::action::{Annotation, Conclusion};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::GitHubError;
use crate::transport::{Api, Repo, Verb, encode};

/// GitHub takes at most this many annotations per create or update and
/// appends each batch to the ones already there.
const ANNOTATIONS_PER_REQUEST: usize = 50;

/// GitHub's limit on `output.summary`, `output.text` and an annotation's
/// message, in characters.
const TEXT_LIMIT: usize = 65_535;

#[derive(Deserialize)]
struct CheckRunJson {
    id: u64,
    external_id: Option<String>,
    status: String,
    conclusion: Option<String>,
    output: Option<OutputJson>,
}

#[derive(Deserialize)]
struct OutputJson {
    annotations_count: Option<usize>,
}

#[derive(Deserialize)]
struct CheckRunList {
    check_runs: Vec<CheckRunJson>,
}

impl From<CheckRunList> for Vec<CheckRunJson> {
    fn from(list: CheckRunList) -> Self {
        list.check_runs
    }
}

#[derive(Deserialize)]
struct Created {
    id: u64,
}

/// The newest check run named `name` on `sha`: its conclusion, or its
/// status while it runs (`in_progress`); `None` when there is none.
pub(crate) async fn latest_conclusion(
    api: &Api<'_>,
    repo: &Repo,
    sha: &str,
    name: &str,
) -> Result<Option<String>, GitHubError> {
    let path = format!(
        "{}/commits/{}/check-runs?check_name={}&filter=latest&per_page=100",
        repo.path(),
        encode(sha),
        encode(name)
    );
    let runs = api.get_all::<CheckRunJson, CheckRunList>(path).await?;
    // `latest` keeps the newest run per name and app; two apps may report
    // the same name, and ids grow with time.
    Ok(runs
        .into_iter()
        .max_by_key(|run| run.id)
        .map(|run| run.conclusion.unwrap_or(run.status)))
}

/// The check run named `name` on `head_sha` that carries `external_id`.
async fn find(
    api: &Api<'_>,
    repo: &Repo,
    name: &str,
    head_sha: &str,
    external_id: &str,
) -> Result<Option<CheckRunJson>, GitHubError> {
    let path = format!(
        "{}/commits/{}/check-runs?check_name={}&filter=all&per_page=100",
        repo.path(),
        encode(head_sha),
        encode(name)
    );
    let runs = api.get_all::<CheckRunJson, CheckRunList>(path).await?;
    Ok(runs
        .into_iter()
        .find(|run| run.external_id.as_deref() == Some(external_id)))
}

pub(crate) async fn start(
    api: &Api<'_>,
    repo: &Repo,
    name: &str,
    head_sha: &str,
    external_id: &str,
) -> Result<String, GitHubError> {
    if let Some(run) = find(api, repo, name, head_sha, external_id).await? {
        return Ok(format!("found check run {}", run.id));
    }
    let body = json!({
        "name": name,
        "head_sha": head_sha,
        "external_id": external_id,
        "status": "in_progress",
        "started_at": now(),
    });
    let path = format!("{}/check-runs", repo.path());
    let created: Created = api.json(Verb::Post, &path, Some(&body)).await?;
    Ok(format!("created check run {}", created.id))
}

/// What a check run ends with.
pub(crate) struct Finish<'a> {
    pub(crate) name: &'a str,
    pub(crate) head_sha: &'a str,
    pub(crate) external_id: &'a str,
    pub(crate) conclusion: Conclusion,
    pub(crate) title: &'a str,
    pub(crate) summary: &'a str,
    pub(crate) text: Option<&'a str>,
    pub(crate) annotations: &'a [Annotation],
}

/// Completes the run with the first batch of annotations, then sends the
/// rest a batch per update. A run already completed has had its first
/// `annotations_count` annotations: only the ones after those are sent, so
/// a retry after a crash between batches resumes instead of repeating.
pub(crate) async fn finish(
    api: &Api<'_>,
    repo: &Repo,
    finish: &Finish<'_>,
) -> Result<String, GitHubError> {
    let annotations: Vec<Value> = finish.annotations.iter().map(annotation).collect();
    let total = annotations.len();
    let found = find(api, repo, finish.name, finish.head_sha, finish.external_id).await?;
    let (id, sent, detail) = match found {
        Some(run) if run.status == "completed" => {
            let sent = run
                .output
                .and_then(|output| output.annotations_count)
                .unwrap_or(0);
            if sent >= total {
                return Ok(format!("check run {} already completed", run.id));
            }
            (
                run.id,
                sent,
                format!("check run {} already completed", run.id),
            )
        }
        Some(run) => {
            let first = &annotations[..total.min(ANNOTATIONS_PER_REQUEST)];
            let mut body = completion(finish, first);
            // A PATCH must not rename the run or move it to another commit.
            if let Some(fields) = body.as_object_mut() {
                fields.remove("name");
                fields.remove("head_sha");
                fields.remove("external_id");
            }
            let path = format!("{}/check-runs/{}", repo.path(), run.id);
            api.send(Verb::Patch, &path, Some(&body)).await?.success()?;
            (
                run.id,
                first.len(),
                format!("completed check run {}", run.id),
            )
        }
        None => {
            let first = &annotations[..total.min(ANNOTATIONS_PER_REQUEST)];
            let body = completion(finish, first);
            let path = format!("{}/check-runs", repo.path());
            let created: Created = api.json(Verb::Post, &path, Some(&body)).await?;
            let id = created.id;
            (id, first.len(), format!("created completed check run {id}"))
        }
    };
    let path = format!("{}/check-runs/{id}", repo.path());
    let rest = &annotations[sent.min(total)..];
    for batch in rest.chunks(ANNOTATIONS_PER_REQUEST) {
        let body = json!({ "output": output(finish, batch) });
        api.send(Verb::Patch, &path, Some(&body)).await?.success()?;
    }
    if rest.is_empty() {
        Ok(detail)
    } else {
        Ok(format!("{detail}; sent annotations {}..{total}", sent + 1))
    }
}

/// The body that creates a completed run (a PATCH drops the identity fields).
fn completion(finish: &Finish<'_>, annotations: &[Value]) -> Value {
    json!({
        "name": finish.name,
        "head_sha": finish.head_sha,
        "external_id": finish.external_id,
        "status": "completed",
        "conclusion": finish.conclusion,
        "completed_at": now(),
        "output": output(finish, annotations),
    })
}

fn output(finish: &Finish<'_>, annotations: &[Value]) -> Value {
    let title = if finish.title.trim().is_empty() {
        finish.name
    } else {
        finish.title
    };
    let mut output = json!({
        "title": title,
        "summary": truncate(finish.summary, TEXT_LIMIT),
    });
    if let Some(text) = finish.text {
        output["text"] = truncate(text, TEXT_LIMIT).into();
    }
    if !annotations.is_empty() {
        output["annotations"] = annotations.into();
    }
    output
}

/// An annotation as GitHub takes it. Lines start at 1 and an annotation
/// must not end before it starts; one bad annotation would make GitHub
/// refuse the whole batch, so those are clamped rather than sent.
fn annotation(annotation: &Annotation) -> Value {
    let start = annotation.start_line.max(1);
    let mut value = json!({
        "path": annotation.path,
        "start_line": start,
        "end_line": annotation.end_line.max(start),
        "annotation_level": annotation.level,
        "message": truncate(&annotation.message, TEXT_LIMIT),
    });
    if let Some(title) = &annotation.title {
        value["title"] = title.as_str().into();
    }
    value
}

/// `text` cut to `limit` characters, ending with a note that it was.
pub(crate) fn truncate(text: &str, limit: usize) -> String {
    let total = text.chars().count();
    if total <= limit {
        return text.to_owned();
    }
    let note = format!("\n\n… (truncated: {total} characters in all)");
    let keep = limit.saturating_sub(note.chars().count());
    let cut = text.char_indices().nth(keep).map_or(text.len(), |(i, _)| i);
    format!("{}{note}", &text[..cut])
}

/// The time now as GitHub wants it in `started_at` and `completed_at`.
fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_to_the_limit_with_a_note() {
        assert_eq!(truncate("short", 10), "short");
        let long = "é".repeat(70_000);
        let cut = truncate(&long, TEXT_LIMIT);
        assert_eq!(cut.chars().count(), TEXT_LIMIT);
        assert!(cut.ends_with("(truncated: 70000 characters in all)"));
    }
}
