//! Check runs: create, update (annotations append, at most 50 per
//! request), get, list for a commit, list annotations.

use serde_json::{Value, json};

use super::api::{Incoming, Reply, State, now, repo_key};
use super::{Annotation, CheckRun, CheckRunOutput};

const STATUSES: &[&str] = &[
    "queued",
    "in_progress",
    "completed",
    "waiting",
    "requested",
    "pending",
];
const CONCLUSIONS: &[&str] = &[
    "action_required",
    "cancelled",
    "failure",
    "neutral",
    "success",
    "skipped",
    "stale",
    "timed_out",
];
const LEVELS: &[&str] = &["notice", "warning", "failure"];
/// GitHub's limit on annotations per create or update request.
const MAX_ANNOTATIONS: usize = 50;
/// GitHub's limit on `output.summary` and `output.text`.
const MAX_OUTPUT: usize = 65_535;

impl State {
    /// `POST /repos/{o}/{r}/check-runs`.
    pub(super) fn create_check_run(&mut self, request: &Incoming, repo: &str) -> Reply {
        let body = request.json();
        let (Some(name), Some(head_sha)) = (
            body.get("name").and_then(Value::as_str),
            body.get("head_sha").and_then(Value::as_str),
        ) else {
            return Reply::invalid("CheckRun", "name", "name and head_sha are required");
        };
        let mut run = CheckRun {
            id: 0,
            repo: repo_key(repo),
            name: name.to_owned(),
            head_sha: head_sha.to_owned(),
            external_id: None,
            details_url: None,
            status: "queued".to_owned(),
            conclusion: None,
            started_at: Some(now()),
            completed_at: None,
            output: CheckRunOutput::default(),
            annotations: Vec::new(),
            updates: 0,
        };
        if let Err(reply) = apply(&mut run, body) {
            return reply;
        }
        run.id = self.next_id();
        self.check_runs.push(run.clone());
        Reply::json(201, self.check_run(repo, &run))
    }

    /// `PATCH /repos/{o}/{r}/check-runs/{id}`.
    pub(super) fn update_check_run(&mut self, request: &Incoming, repo: &str, id: u64) -> Reply {
        let Some(index) = self.check_run_index(repo, id) else {
            return Reply::not_found();
        };
        let mut run = self.check_runs[index].clone();
        if let Err(reply) = apply(&mut run, request.json()) {
            return reply;
        }
        run.updates += 1;
        self.check_runs[index] = run.clone();
        Reply::json(200, self.check_run(repo, &run))
    }

    /// `GET /repos/{o}/{r}/check-runs/{id}`.
    pub(super) fn get_check_run(&mut self, repo: &str, id: u64) -> Reply {
        match self.check_run_index(repo, id) {
            Some(index) => {
                let run = self.check_runs[index].clone();
                Reply::json(200, self.check_run(repo, &run))
            }
            None => Reply::not_found(),
        }
    }

    /// `GET /repos/{o}/{r}/check-runs/{id}/annotations`.
    pub(super) fn list_annotations(&mut self, request: &Incoming, repo: &str, id: u64) -> Reply {
        let Some(index) = self.check_run_index(repo, id) else {
            return Reply::not_found();
        };
        let annotations: Vec<Value> = self.check_runs[index]
            .annotations
            .iter()
            .map(|a| {
                let mut json = json!({
                    "start_column": null, "end_column": null, "title": null,
                    "raw_details": null, "blob_href": "",
                });
                if let (Some(base), Ok(Value::Object(fields))) =
                    (json.as_object_mut(), serde_json::to_value(a))
                {
                    base.extend(fields);
                }
                json
            })
            .collect();
        self.list_reply(request, &annotations)
    }

    /// `GET /repos/{o}/{r}/commits/{ref}/check-runs`, newest first;
    /// `filter=latest` (the default) keeps the newest run of each name.
    pub(super) fn list_check_runs(&mut self, request: &Incoming, repo: &str, sha: &str) -> Reply {
        let key = repo_key(repo);
        let name = request.param("check_name");
        let status = request.param("status");
        let latest = request.param("filter") != Some("all");
        let mut runs: Vec<CheckRun> = self
            .check_runs
            .iter()
            .rev()
            .filter(|r| r.repo == key && r.head_sha == sha)
            .filter(|r| name.is_none_or(|n| r.name == n))
            .filter(|r| status.is_none_or(|s| r.status == s))
            .cloned()
            .collect();
        if latest {
            let mut seen = std::collections::HashSet::new();
            runs.retain(|r| seen.insert(r.name.clone()));
        }
        let (page, link) = self.paginate(request, &runs);
        let check_runs: Vec<Value> = page.iter().map(|r| self.check_run(repo, r)).collect();
        Reply::json(
            200,
            json!({ "total_count": runs.len(), "check_runs": check_runs }),
        )
        .link(link)
    }

    fn check_run_index(&self, repo: &str, id: u64) -> Option<usize> {
        let key = repo_key(repo);
        self.check_runs
            .iter()
            .position(|r| r.id == id && r.repo == key)
    }
}

/// Apply the fields of a create or update body to `run`, validating them
/// as GitHub does; `run` is left half-changed on error, so callers apply
/// to a copy.
fn apply(run: &mut CheckRun, body: &Value) -> Result<(), Reply> {
    if !body.is_object() {
        return Err(Reply::invalid(
            "CheckRun",
            "body",
            "the body must be an object",
        ));
    }
    if let Some(name) = text(body, "name")? {
        run.name = name;
    }
    if let Some(url) = text(body, "details_url")? {
        run.details_url = Some(url);
    }
    if let Some(id) = text(body, "external_id")? {
        run.external_id = Some(id);
    }
    if let Some(started) = text(body, "started_at")? {
        run.started_at = Some(started);
    }
    if let Some(status) = text(body, "status")? {
        if !STATUSES.contains(&status.as_str()) {
            return Err(invalid(
                "status",
                &format!("{status} is not a valid status"),
            ));
        }
        run.status = status;
    }
    if let Some(conclusion) = text(body, "conclusion")? {
        if !CONCLUSIONS.contains(&conclusion.as_str()) {
            return Err(invalid(
                "conclusion",
                &format!("{conclusion} is not a valid conclusion"),
            ));
        }
        // Giving a conclusion completes the run.
        run.conclusion = Some(conclusion);
        run.status = "completed".to_owned();
    }
    if let Some(completed) = text(body, "completed_at")? {
        run.completed_at = Some(completed);
    }
    if run.status == "completed" {
        if run.conclusion.is_none() {
            return Err(invalid(
                "conclusion",
                "conclusion is required when status is completed",
            ));
        }
        run.completed_at.get_or_insert_with(now);
    }
    if let Some(output) = body.get("output").filter(|o| !o.is_null()) {
        let (fields, annotations) = parse_output(output)?;
        run.output = fields;
        run.annotations.extend(annotations);
    }
    Ok(())
}

fn parse_output(output: &Value) -> Result<(CheckRunOutput, Vec<Annotation>), Reply> {
    let (Some(title), Some(summary)) = (text(output, "title")?, text(output, "summary")?) else {
        return Err(invalid("output", "output requires a title and a summary"));
    };
    let body_text = text(output, "text")?;
    if summary.chars().count() > MAX_OUTPUT
        || body_text
            .as_ref()
            .is_some_and(|t| t.chars().count() > MAX_OUTPUT)
    {
        return Err(invalid(
            "output",
            "output.summary and output.text are limited to 65535 characters",
        ));
    }
    let annotations = match output.get("annotations") {
        None | Some(Value::Null) => Vec::new(),
        Some(list) => parse_annotations(list)?,
    };
    let fields = CheckRunOutput {
        title: Some(title),
        summary: Some(summary),
        text: body_text,
    };
    Ok((fields, annotations))
}

fn parse_annotations(list: &Value) -> Result<Vec<Annotation>, Reply> {
    let Some(items) = list.as_array() else {
        return Err(invalid(
            "output.annotations",
            "annotations must be an array",
        ));
    };
    if items.len() > MAX_ANNOTATIONS {
        return Err(invalid(
            "output.annotations",
            "only 50 annotations are allowed per request; send the rest in further updates",
        ));
    }
    items
        .iter()
        .map(|item| {
            let annotation: Annotation = serde_json::from_value(item.clone()).map_err(|error| {
                invalid(
                    "output.annotations",
                    &format!("invalid annotation: {error}"),
                )
            })?;
            if !LEVELS.contains(&annotation.annotation_level.as_str()) {
                return Err(invalid(
                    "output.annotations",
                    &format!(
                        "{} is not a valid annotation_level",
                        annotation.annotation_level
                    ),
                ));
            }
            Ok(annotation)
        })
        .collect()
}

/// An optional string field; 422 when it is there but not a string.
fn text(object: &Value, field: &str) -> Result<Option<String>, Reply> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(value)) => Ok(Some(value.clone())),
        Some(_) => Err(invalid(field, &format!("{field} must be a string"))),
    }
}

fn invalid(field: &str, message: &str) -> Reply {
    Reply::invalid("CheckRun", field, message)
}
