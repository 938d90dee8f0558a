//! Users, the app and its installation tokens, pull requests and
//! collaborator permissions.

use serde_json::json;

use super::api::{Incoming, Reply, State, repo_key};
use super::{IssuedToken, PullRequest};

impl State {
    /// `GET /user`: the token's user. An installation token has none.
    pub(super) fn get_user(&mut self, request: &Incoming) -> Reply {
        if self.identity(request).kind == "Bot" {
            return Reply::message(403, "Resource not accessible by integration");
        }
        let login = self.token_user.clone();
        Reply::json(200, self.user_profile(&login))
    }

    /// `GET /app`: the app the JWT belongs to.
    pub(super) fn get_app(&mut self) -> Reply {
        Reply::json(200, self.app())
    }

    /// `POST /app/installations/{id}/access_tokens`.
    pub(super) fn create_installation_token(
        &mut self,
        request: &Incoming,
        installation_id: u64,
    ) -> Reply {
        let serial = self.next_id();
        let token = format!("ghs_fake{serial:032}");
        self.issued_tokens.push(IssuedToken {
            installation_id,
            token: token.clone(),
            authorization: request.authorization.clone(),
        });
        let expires_at = (chrono::Utc::now() + chrono::Duration::hours(1))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        Reply::json(
            201,
            json!({
                "token": token,
                "expires_at": expires_at,
                "permissions": { "checks": "write", "contents": "read", "issues": "write", "metadata": "read", "pull_requests": "write" },
                "repository_selection": "selected",
            }),
        )
    }

    /// `GET /repos/{o}/{r}/installation`.
    pub(super) fn get_repo_installation(&mut self, repo: &str) -> Reply {
        let id = self
            .installations
            .get(&repo_key(repo))
            .copied()
            .unwrap_or(1);
        let owner = repo.split_once('/').map_or(repo, |(owner, _)| owner);
        Reply::json(200, self.installation(id, owner))
    }

    /// `GET /repos/{o}/{r}/pulls/{n}`: a pull request the test registered.
    pub(super) fn get_pull(&mut self, repo: &str, number: u64) -> Reply {
        match self.pulls.get(&(repo_key(repo), number)).cloned() {
            Some(pr) => Reply::json(200, self.pull(repo, &pr)),
            None => Reply::not_found(),
        }
    }

    /// `GET /repos/{o}/{r}/pulls`: the registered pull requests in `state`
    /// (`open` by default, `closed` or `all`), oldest first, paginated.
    pub(super) fn list_pulls(&mut self, request: &Incoming, repo: &str) -> Reply {
        let state = request.param("state").unwrap_or("open").to_owned();
        let mut pulls: Vec<PullRequest> = self
            .pulls
            .iter()
            .filter(|((r, _), pr)| *r == repo_key(repo) && (state == "all" || pr.state == state))
            .map(|(_, pr)| pr.clone())
            .collect();
        pulls.sort_by_key(|pr| pr.number);
        let (page, link) = self.paginate(request, &pulls);
        let items: Vec<_> = page.iter().map(|pr| self.pull(repo, pr)).collect();
        Reply::json(200, serde_json::Value::Array(items)).link(link)
    }

    /// `GET /repos/{o}/{r}/collaborators/{user}/permission`.
    pub(super) fn get_permission(&mut self, repo: &str, user: &str) -> Reply {
        let level = self
            .permissions
            .get(&(repo_key(repo), user.to_lowercase()))
            .copied()
            .or(self.default_permission);
        match level {
            Some(level) => Reply::json(200, self.permission(user, level)),
            None => Reply::not_found(),
        }
    }
}
