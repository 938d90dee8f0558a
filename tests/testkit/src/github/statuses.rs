//! Commit statuses: create, list for a commit (newest first), and the
//! combined status (the newest of each context).

use serde_json::{Value, json};

use super::CommitStatus;
use super::api::{Incoming, Reply, State, now, repo_key};

const STATES: &[&str] = &["error", "failure", "pending", "success"];

impl State {
    /// `POST /repos/{o}/{r}/statuses/{sha}`.
    pub(super) fn create_status(&mut self, request: &Incoming, repo: &str, sha: &str) -> Reply {
        let body = request.json();
        let field = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_owned);
        let Some(state) = field("state").filter(|s| STATES.contains(&s.as_str())) else {
            return Reply::invalid(
                "Status",
                "state",
                "state must be one of error, failure, pending, success",
            );
        };
        let status = CommitStatus {
            id: self.next_id(),
            repo: repo_key(repo),
            sha: sha.to_owned(),
            context: field("context").unwrap_or_else(|| "default".to_owned()),
            state,
            description: field("description"),
            target_url: field("target_url"),
            creator: self.identity(request).login,
            created_at: now(),
        };
        self.statuses.push(status.clone());
        Reply::json(201, self.status_json(repo, &status))
    }

    /// `GET /repos/{o}/{r}/commits/{ref}/statuses`, newest first.
    pub(super) fn list_statuses(&mut self, request: &Incoming, repo: &str, sha: &str) -> Reply {
        let statuses = self.newest_first(repo, sha);
        let items: Vec<Value> = statuses.iter().map(|s| self.status_json(repo, s)).collect();
        self.list_reply(request, &items)
    }

    /// `GET /repos/{o}/{r}/commits/{ref}/status`: the newest status of each
    /// context (paginated) and their combined state.
    pub(super) fn combined_status(&mut self, request: &Incoming, repo: &str, sha: &str) -> Reply {
        let mut newest = self.newest_first(repo, sha);
        let mut seen = std::collections::HashSet::new();
        newest.retain(|s| seen.insert(s.context.clone()));
        let any = |state: &str| newest.iter().any(|s| s.state == state);
        let state = if any("error") || any("failure") {
            "failure"
        } else if newest.is_empty() || any("pending") {
            "pending"
        } else {
            "success"
        };
        let (page, link) = self.paginate(request, &newest);
        let statuses: Vec<Value> = page.iter().map(|s| self.status_json(repo, s)).collect();
        let repository = self.repository(repo);
        let base = format!("{}/repos/{repo}", self.base_url);
        Reply::json(
            200,
            json!({
                "state": state,
                "statuses": statuses,
                "sha": sha,
                "total_count": newest.len(),
                "repository": repository,
                "commit_url": format!("{base}/commits/{sha}"),
                "url": format!("{base}/commits/{sha}/status"),
            }),
        )
        .link(link)
    }

    fn newest_first(&self, repo: &str, sha: &str) -> Vec<CommitStatus> {
        let key = repo_key(repo);
        self.statuses
            .iter()
            .rev()
            .filter(|s| s.repo == key && s.sha == sha)
            .cloned()
            .collect()
    }

    fn status_json(&mut self, repo: &str, status: &CommitStatus) -> Value {
        let bot = status.creator.ends_with("[bot]");
        let creator = self.user(&status.creator, if bot { "Bot" } else { "User" });
        json!({
            "url": format!("{}/repos/{repo}/statuses/{}", self.base_url, status.sha),
            "avatar_url": creator["avatar_url"].clone(),
            "id": status.id,
            "node_id": format!("SC_kwDO{}", status.id),
            "state": status.state,
            "description": status.description,
            "target_url": status.target_url,
            "context": status.context,
            "created_at": status.created_at,
            "updated_at": status.created_at,
            "creator": creator,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::FakeGitHub;
    use crate::client::send_blocking;

    const SHA: &str = "6dcb09b5b57875f334f61aebed695e2e4193db5e";

    #[test]
    fn the_combined_status_keeps_the_newest_of_each_context() {
        let github = FakeGitHub::start();
        let post = |context: &str, state: &str| {
            let url = format!("{}/repos/octo-org/models/statuses/{SHA}", github.url());
            let body = json!({ "state": state, "context": context, "description": "d" });
            let headers = [("content-type", "application/json")];
            send_blocking("POST", &url, &headers, body.to_string()).expect("answer")
        };
        assert_eq!(post("ci", "pending").status, 201);
        assert_eq!(post("ci", "success").status, 201);
        assert_eq!(post("lint", "failure").status, 201);
        assert_eq!(post("lint", "done").status, 422);
        let url = format!(
            "{}/repos/octo-org/models/commits/{SHA}/status",
            github.url()
        );
        let combined = send_blocking("GET", &url, &[], "").expect("answer").json();
        assert_eq!(combined["state"], "failure");
        let newest: Vec<(&str, &str)> = combined["statuses"]
            .as_array()
            .expect("statuses")
            .iter()
            .map(|s| {
                let field = |name: &str| s[name].as_str().unwrap_or_default();
                (field("context"), field("state"))
            })
            .collect();
        assert_eq!(newest, [("lint", "failure"), ("ci", "success")]);
        assert_eq!(github.commit_statuses("octo-org/models", SHA).len(), 3);
    }
}
