//! Issue (and pull request) comments, their reactions, and labels.

use serde_json::Value;

use super::api::{Incoming, Reply, State, now, repo_key};
use super::{Comment, Reaction};

/// GitHub's limit on a comment body, in characters.
const MAX_COMMENT: usize = 65_536;
const REACTIONS: &[&str] = &[
    "+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes",
];

impl State {
    /// Store a comment; `repo` is a [`repo_key`].
    pub(super) fn insert_comment(
        &mut self,
        repo: &str,
        issue: u64,
        author: &str,
        body: &str,
    ) -> u64 {
        let id = self.next_id();
        let at = now();
        self.comments.push(Comment {
            id,
            repo: repo.to_owned(),
            issue,
            author: author.to_owned(),
            body: body.to_owned(),
            created_at: at.clone(),
            updated_at: at,
            edits: 0,
        });
        id
    }

    /// `GET /repos/{o}/{r}/issues/{n}/comments`, oldest first, paginated.
    pub(super) fn list_comments(&mut self, request: &Incoming, repo: &str, issue: u64) -> Reply {
        let key = repo_key(repo);
        let comments: Vec<Comment> = self
            .comments
            .iter()
            .filter(|c| c.repo == key && c.issue == issue)
            .cloned()
            .collect();
        let (page, link) = self.paginate(request, &comments);
        let json: Vec<Value> = page.iter().map(|c| self.comment(repo, c)).collect();
        Reply::json(200, Value::Array(json)).link(link)
    }

    /// `POST /repos/{o}/{r}/issues/{n}/comments`, authored by the token's
    /// user.
    pub(super) fn create_comment(&mut self, request: &Incoming, repo: &str, issue: u64) -> Reply {
        let body = match comment_body(request) {
            Ok(body) => body,
            Err(reply) => return reply,
        };
        let author = self.identity(request).login;
        let id = self.insert_comment(&repo_key(repo), issue, &author, &body);
        let comment = self
            .comments
            .last()
            .cloned()
            .expect("a comment was just added");
        let reply = Reply::json(201, self.comment(repo, &comment));
        reply.header(
            "location",
            format!("{}/repos/{repo}/issues/comments/{id}", self.base_url),
        )
    }

    /// `GET /repos/{o}/{r}/issues/comments/{id}`.
    pub(super) fn get_comment(&mut self, repo: &str, id: u64) -> Reply {
        match self.comment_index(repo, id) {
            Some(index) => {
                let comment = self.comments[index].clone();
                Reply::json(200, self.comment(repo, &comment))
            }
            None => Reply::not_found(),
        }
    }

    /// `PATCH /repos/{o}/{r}/issues/comments/{id}`.
    pub(super) fn update_comment(&mut self, request: &Incoming, repo: &str, id: u64) -> Reply {
        let Some(index) = self.comment_index(repo, id) else {
            return Reply::not_found();
        };
        let body = match comment_body(request) {
            Ok(body) => body,
            Err(reply) => return reply,
        };
        let comment = &mut self.comments[index];
        comment.body = body;
        comment.updated_at = now();
        comment.edits += 1;
        let comment = comment.clone();
        Reply::json(200, self.comment(repo, &comment))
    }

    /// `DELETE /repos/{o}/{r}/issues/comments/{id}`, with its reactions.
    pub(super) fn delete_comment(&mut self, repo: &str, id: u64) -> Reply {
        let Some(index) = self.comment_index(repo, id) else {
            return Reply::not_found();
        };
        self.comments.remove(index);
        self.reactions.retain(|r| r.comment_id != id);
        Reply::no_content()
    }

    /// `GET /repos/{o}/{r}/issues/comments/{id}/reactions`.
    pub(super) fn list_reactions(&mut self, request: &Incoming, repo: &str, id: u64) -> Reply {
        if self.comment_index(repo, id).is_none() {
            return Reply::not_found();
        }
        let content = request.param("content");
        let reactions: Vec<Reaction> = self
            .reactions
            .iter()
            .filter(|r| r.comment_id == id && content.is_none_or(|c| r.content == c))
            .cloned()
            .collect();
        let json: Vec<Value> = reactions.iter().map(|r| self.reaction(r)).collect();
        self.list_reply(request, &json)
    }

    /// `POST /repos/{o}/{r}/issues/comments/{id}/reactions`: 201 for a new
    /// reaction, 200 when the user already reacted with that content.
    pub(super) fn create_reaction(&mut self, request: &Incoming, repo: &str, id: u64) -> Reply {
        if self.comment_index(repo, id).is_none() {
            return Reply::not_found();
        }
        let content = request.json().get("content").and_then(Value::as_str);
        let Some(content) = content.filter(|c| REACTIONS.contains(c)) else {
            return Reply::invalid("Reaction", "content", "content is not a valid reaction");
        };
        let user = self.identity(request).login;
        let existing = self
            .reactions
            .iter()
            .find(|r| r.comment_id == id && r.user == user && r.content == content)
            .cloned();
        if let Some(reaction) = existing {
            return Reply::json(200, self.reaction(&reaction));
        }
        let reaction = Reaction {
            id: self.next_id(),
            comment_id: id,
            user,
            content: content.to_owned(),
            created_at: now(),
        };
        self.reactions.push(reaction.clone());
        Reply::json(201, self.reaction(&reaction))
    }

    /// `GET /repos/{o}/{r}/issues/{n}/labels`.
    pub(super) fn list_labels(&mut self, request: &Incoming, repo: &str, issue: u64) -> Reply {
        let labels = self.labels_json(repo, issue);
        self.list_reply(request, &labels)
    }

    /// `POST /repos/{o}/{r}/issues/{n}/labels`: add, keeping the ones it has.
    pub(super) fn add_labels(&mut self, request: &Incoming, repo: &str, issue: u64) -> Reply {
        let Some(names) = label_names(request.json()) else {
            return Reply::invalid("Label", "labels", "labels must be a list of names");
        };
        let labels = self.labels.entry((repo_key(repo), issue)).or_default();
        for name in names {
            if !labels.contains(&name) {
                labels.push(name);
            }
        }
        Reply::json(200, Value::Array(self.labels_json(repo, issue)))
    }

    /// `PUT /repos/{o}/{r}/issues/{n}/labels`: replace them all.
    pub(super) fn replace_labels(&mut self, request: &Incoming, repo: &str, issue: u64) -> Reply {
        let Some(mut names) = label_names(request.json()) else {
            return Reply::invalid("Label", "labels", "labels must be a list of names");
        };
        let mut seen = std::collections::HashSet::new();
        names.retain(|n| seen.insert(n.clone()));
        self.labels.insert((repo_key(repo), issue), names);
        Reply::json(200, Value::Array(self.labels_json(repo, issue)))
    }

    /// `DELETE /repos/{o}/{r}/issues/{n}/labels`.
    pub(super) fn clear_labels(&mut self, repo: &str, issue: u64) -> Reply {
        self.labels.remove(&(repo_key(repo), issue));
        Reply::no_content()
    }

    /// `DELETE /repos/{o}/{r}/issues/{n}/labels/{name}`: the labels left,
    /// or 404 when the issue does not have it.
    pub(super) fn remove_label(&mut self, repo: &str, issue: u64, name: &str) -> Reply {
        let labels = self.labels.entry((repo_key(repo), issue)).or_default();
        let Some(index) = labels.iter().position(|l| l.eq_ignore_ascii_case(name)) else {
            return Reply::message(404, "Label does not exist");
        };
        labels.remove(index);
        Reply::json(200, Value::Array(self.labels_json(repo, issue)))
    }

    fn comment_index(&self, repo: &str, id: u64) -> Option<usize> {
        let key = repo_key(repo);
        self.comments
            .iter()
            .position(|c| c.id == id && c.repo == key)
    }
}

/// `body` of a comment request, within GitHub's limit.
fn comment_body(request: &Incoming) -> Result<String, Reply> {
    let Some(body) = request.json().get("body").and_then(Value::as_str) else {
        return Err(Reply::invalid("IssueComment", "body", "body is required"));
    };
    if body.chars().count() > MAX_COMMENT {
        return Err(Reply::invalid(
            "IssueComment",
            "body",
            "body is too long (maximum is 65536 characters)",
        ));
    }
    Ok(body.to_owned())
}

/// `{"labels": [...]}` or a bare list; names or `{"name": ...}` objects.
fn label_names(body: &Value) -> Option<Vec<String>> {
    let list = body.get("labels").unwrap_or(body).as_array()?;
    list.iter()
        .map(|item| {
            item.as_str()
                .or_else(|| item.get("name").and_then(Value::as_str))
                .map(str::to_owned)
        })
        .collect()
}
