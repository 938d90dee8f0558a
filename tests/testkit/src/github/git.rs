//! The git data API's annotated tags and refs: create a tag object, get
//! one, create a ref, get a ref. With a git directory for the repository
//! ([`super::FakeGitHub::set_git_dir`]) they are made there with the `git`
//! command (`mktag`, `update-ref`), so the ids answered are git's and a
//! clone or fetch sees them; without one they live in memory and the ids
//! are stand-ins hashed from the content.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::Tag;
use super::api::{Incoming, Reply, State, now, repo_key};

const OBJECT_TYPES: &[&str] = &["commit", "tree", "blob", "tag"];

impl State {
    /// `POST /repos/{o}/{r}/git/tags`.
    pub(super) fn create_tag(&mut self, request: &Incoming, repo: &str) -> Reply {
        let body = request.json();
        let field = |name: &str| body.get(name).and_then(Value::as_str);
        let (Some(name), Some(message), Some(object), Some(object_type)) = (
            field("tag"),
            field("message"),
            field("object"),
            field("type"),
        ) else {
            return Reply::invalid("Tag", "tag", "tag, message, object and type are required");
        };
        if !OBJECT_TYPES[..3].contains(&object_type) {
            return Reply::invalid("Tag", "type", "type must be one of commit, tree, blob");
        }
        let tagger = body.get("tagger").unwrap_or(&Value::Null);
        let login = self.identity(request).login;
        let text = |name: &str| tagger.get(name).and_then(Value::as_str).map(str::to_owned);
        let date = text("date").unwrap_or_else(now);
        let Ok(when) = chrono::DateTime::parse_from_rfc3339(&date) else {
            return Reply::invalid("Tag", "tagger.date", "date is not a valid ISO 8601 date");
        };
        let mut tag = Tag {
            sha: String::new(),
            repo: repo_key(repo),
            name: name.to_owned(),
            object: object.to_owned(),
            object_type: object_type.to_owned(),
            message: message.to_owned(),
            tagger_name: text("name").unwrap_or_else(|| login.clone()),
            tagger_email: text("email")
                .unwrap_or_else(|| format!("{login}@users.noreply.github.com")),
            tagger_date: date,
        };
        let content = tag_object(&tag, &when);
        tag.sha = match self.git(repo) {
            Some(git) => {
                if git.object_type(object).as_deref() != Some(object_type) {
                    return Reply::message(422, "Object does not exist");
                }
                match git.run(&["mktag"], Some(&content)) {
                    Ok(sha) => sha,
                    Err(error) => return Reply::invalid("Tag", "tag", &error),
                }
            }
            None if is_object_id(object) => {
                hex::encode(Sha256::digest(content.as_bytes()))[..40].to_owned()
            }
            None => return Reply::message(422, "Object does not exist"),
        };
        self.tags.push(tag.clone());
        Reply::json(201, self.tag_json(repo, &tag))
    }

    /// `GET /repos/{o}/{r}/git/tags/{sha}`.
    pub(super) fn get_tag(&mut self, repo: &str, sha: &str) -> Reply {
        let key = repo_key(repo);
        let known = self
            .tags
            .iter()
            .find(|t| t.repo == key && t.sha == sha)
            .cloned();
        let tag = known.or_else(|| self.git(repo).and_then(|git| git.read_tag(&key, sha)));
        match tag {
            Some(tag) => Reply::json(200, self.tag_json(repo, &tag)),
            None => Reply::not_found(),
        }
    }

    /// `POST /repos/{o}/{r}/git/refs`.
    pub(super) fn create_ref(&mut self, request: &Incoming, repo: &str) -> Reply {
        let body = request.json();
        let field = |name: &str| body.get(name).and_then(Value::as_str);
        let (Some(name), Some(sha)) = (field("ref"), field("sha")) else {
            return Reply::invalid("Reference", "ref", "ref and sha are required");
        };
        if !name.starts_with("refs/") || name.matches('/').count() < 2 {
            return Reply::message(422, "Reference name is invalid");
        }
        if self.resolve_ref(repo, name).is_some() {
            return Reply::message(422, "Reference already exists");
        }
        let object_type = match self.git(repo) {
            Some(git) => {
                let Some(object_type) = git.object_type(sha) else {
                    return Reply::message(422, "Object does not exist");
                };
                if git.run(&["check-ref-format", name], None).is_err() {
                    return Reply::message(422, "Reference name is invalid");
                }
                // The empty old value makes git refuse a ref that exists.
                if let Err(error) = git.run(&["update-ref", name, sha, ""], None) {
                    return Reply::message(422, &error);
                }
                object_type
            }
            None if is_object_id(sha) => self.memory_type(repo, sha),
            None => return Reply::message(422, "Object does not exist"),
        };
        self.refs
            .push((repo_key(repo), name.to_owned(), sha.to_owned()));
        Reply::json(201, self.ref_json(repo, name, sha, &object_type))
    }

    /// `GET /repos/{o}/{r}/git/ref/{ref}`; `name` is the full `refs/...`.
    pub(super) fn get_ref(&mut self, repo: &str, name: &str) -> Reply {
        match self.resolve_ref(repo, name) {
            Some((sha, object_type)) => {
                Reply::json(200, self.ref_json(repo, name, &sha, &object_type))
            }
            None => Reply::not_found(),
        }
    }

    /// The object id and type `name` points at.
    fn resolve_ref(&self, repo: &str, name: &str) -> Option<(String, String)> {
        if let Some(git) = self.git(repo) {
            let sha = git
                .run(&["show-ref", "--verify", "--hash", name], None)
                .ok()?;
            let object_type = git.object_type(&sha)?;
            return Some((sha, object_type));
        }
        let key = repo_key(repo);
        let (_, _, sha) = self.refs.iter().find(|(r, n, _)| *r == key && n == name)?;
        Some((sha.clone(), self.memory_type(repo, sha)))
    }

    /// Without git data, an object the API made is a tag; anything else is
    /// taken for a commit.
    fn memory_type(&self, repo: &str, sha: &str) -> String {
        let key = repo_key(repo);
        let tag = self.tags.iter().any(|t| t.repo == key && t.sha == sha);
        if tag { "tag" } else { "commit" }.to_owned()
    }

    fn git(&self, repo: &str) -> Option<Git> {
        self.git_dirs.get(&repo_key(repo)).cloned().map(Git)
    }

    fn tag_json(&mut self, repo: &str, tag: &Tag) -> Value {
        json!({
            "node_id": format!("TAG_kwDO{}", &tag.sha[..tag.sha.len().min(12)]),
            "tag": tag.name,
            "sha": tag.sha,
            "url": self.object_url(repo, "tag", &tag.sha),
            "message": tag.message,
            "tagger": { "name": tag.tagger_name, "email": tag.tagger_email, "date": tag.tagger_date },
            "object": {
                "type": tag.object_type,
                "sha": tag.object,
                "url": self.object_url(repo, &tag.object_type, &tag.object),
            },
            "verification": {
                "verified": false, "reason": "unsigned", "signature": null,
                "payload": null, "verified_at": null,
            },
        })
    }

    fn ref_json(&self, repo: &str, name: &str, sha: &str, object_type: &str) -> Value {
        json!({
            "ref": name,
            "node_id": format!("REF_kwDO{}", &sha[..sha.len().min(12)]),
            "url": format!("{}/repos/{repo}/git/{name}", self.base_url),
            "object": {
                "type": object_type,
                "sha": sha,
                "url": self.object_url(repo, object_type, sha),
            },
        })
    }

    fn object_url(&self, repo: &str, object_type: &str, sha: &str) -> String {
        format!("{}/repos/{repo}/git/{object_type}s/{sha}", self.base_url)
    }
}

/// A tag object as git writes it; the message ends with a newline, as
/// `git tag -a` leaves it.
fn tag_object(tag: &Tag, when: &chrono::DateTime<chrono::FixedOffset>) -> String {
    let offset = when.offset().local_minus_utc();
    let sign = if offset < 0 { '-' } else { '+' };
    let minutes = offset.unsigned_abs() / 60;
    let mut content = format!(
        "object {}\ntype {}\ntag {}\ntagger {} <{}> {} {sign}{:02}{:02}\n\n{}",
        tag.object,
        tag.object_type,
        tag.name,
        tag.tagger_name,
        tag.tagger_email,
        when.timestamp(),
        minutes / 60,
        minutes % 60,
        tag.message,
    );
    if !content.ends_with('\n') {
        content.push('\n');
    }
    content
}

/// A full object id, as the API wants one.
fn is_object_id(text: &str) -> bool {
    text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The `git` command in one repository.
struct Git(PathBuf);

impl Git {
    /// Runs `git args` with `stdin`; its trimmed output, or its error text.
    fn run(&self, args: &[&str], stdin: Option<&str>) -> Result<String, String> {
        let mut command = Command::new("git");
        command
            .arg("-C")
            .arg(&self.0)
            .args(args)
            // A test run from inside a git hook must not reach the hook's
            // repository.
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot run git: {e}"))?;
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(input.as_bytes())
                .map_err(|e| format!("cannot write to git: {e}"))?;
        }
        let output = child
            .wait_with_output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).trim().to_owned())
        }
    }

    fn object_type(&self, sha: &str) -> Option<String> {
        self.run(&["cat-file", "-t", &format!("{sha}^{{object}}")], None)
            .ok()
    }

    /// A tag object made outside the API (by `git tag -a`, say).
    fn read_tag(&self, repo_key: &str, sha: &str) -> Option<Tag> {
        if self.object_type(sha).as_deref() != Some("tag") {
            return None;
        }
        let content = self.run(&["cat-file", "tag", sha], None).ok()?;
        let (headers, message) = content.split_once("\n\n").unwrap_or((&content, ""));
        let header = |name: &str| {
            headers
                .lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        };
        let tagger = header("tagger").unwrap_or_default();
        let (who, when) = tagger.rsplit_once("> ").unwrap_or((tagger, ""));
        let (tagger_name, tagger_email) = who.split_once(" <").unwrap_or((who, ""));
        Some(Tag {
            sha: sha.to_owned(),
            repo: repo_key.to_owned(),
            name: header("tag")?.to_owned(),
            object: header("object")?.to_owned(),
            object_type: header("type")?.to_owned(),
            message: format!("{message}\n"),
            tagger_name: tagger_name.to_owned(),
            tagger_email: tagger_email.to_owned(),
            tagger_date: git_date(when).unwrap_or_default(),
        })
    }
}

/// `1700000000 +0100` as RFC 3339.
fn git_date(text: &str) -> Option<String> {
    let (seconds, zone) = text.trim().split_once(' ')?;
    let seconds: i64 = seconds.parse().ok()?;
    let zone: i32 = zone.parse().ok()?;
    let offset = chrono::FixedOffset::east_opt((zone / 100 * 60 + zone % 100) * 60)?;
    let at = chrono::DateTime::from_timestamp(seconds, 0)?.with_timezone(&offset);
    Some(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::FakeGitHub;
    use crate::client::{Response, send_blocking};

    const REPO: &str = "octo-org/models";
    const COMMIT: &str = "6dcb09b5b57875f334f61aebed695e2e4193db5e";

    /// A repository in a fresh temporary directory, removed on drop.
    struct Origin(PathBuf);

    impl Origin {
        fn new(name: &str) -> Origin {
            let dir = std::env::temp_dir().join(format!(
                "andon-fake-git-{name}-{}-{}",
                std::process::id(),
                chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
            ));
            std::fs::create_dir_all(&dir).expect("temporary directory");
            let origin = Origin(dir);
            origin.git(&["init", "-q", "-b", "main"]);
            origin
        }

        fn git(&self, args: &[&str]) -> String {
            let mut all = vec!["-c", "user.name=Test", "-c", "user.email=test@example.com"];
            all.extend_from_slice(args);
            Git(self.0.clone()).run(&all, None).expect("git succeeds")
        }

        fn commit(&self, message: &str) -> String {
            self.git(&["commit", "-q", "--allow-empty", "-m", message]);
            self.git(&["rev-parse", "HEAD"])
        }
    }

    impl Drop for Origin {
        fn drop(&mut self) {
            // Best effort: a leftover temporary directory harms nothing.
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn call(github: &FakeGitHub, method: &str, path: &str, body: Option<Value>) -> Response {
        let url = format!("{}/repos/{REPO}{path}", github.url());
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let headers = [
            ("authorization", "Bearer ghp_test"),
            ("content-type", "application/json"),
        ];
        send_blocking(method, &url, &headers, body).expect("the fake answers")
    }

    fn tag_body(name: &str, commit: &str) -> Value {
        json!({
            "tag": name,
            "message": "Registering artifact churn version v0.0.2",
            "object": commit,
            "type": "commit",
            "tagger": { "name": "Jane Doe", "email": "jane@example.com", "date": "2026-01-02T03:04:05+01:00" },
        })
    }

    #[test]
    fn tags_and_refs_become_real_in_the_git_directory() {
        let origin = Origin::new("real");
        let commit = origin.commit("model");
        let github = FakeGitHub::start();
        github.set_git_dir(REPO, &origin.0);

        let created = call(
            &github,
            "POST",
            "/git/tags",
            Some(tag_body("churn#prod#3", &commit)),
        );
        assert_eq!(created.status, 201, "{}", created.text());
        let sha = created.json()["sha"].as_str().expect("sha").to_owned();
        assert_eq!(origin.git(&["cat-file", "-t", &sha]), "tag");
        assert_eq!(created.json()["object"]["sha"], commit.as_str());

        let made = call(
            &github,
            "POST",
            "/git/refs",
            Some(json!({ "ref": "refs/tags/churn#prod#3", "sha": sha })),
        );
        assert_eq!(made.status, 201, "{}", made.text());
        assert_eq!(made.json()["object"]["type"], "tag");

        let format = "%(objecttype) %(refname:strip=2) %(*objectname) %(taggername) %(taggeremail) %(taggerdate:raw) %(contents:subject)";
        assert_eq!(
            origin.git(&["for-each-ref", "refs/tags", &format!("--format={format}")]),
            format!(
                "tag churn#prod#3 {commit} Jane Doe <jane@example.com> 1767319445 +0100 Registering artifact churn version v0.0.2"
            )
        );

        let found = call(&github, "GET", "/git/ref/tags/churn%23prod%233", None);
        assert_eq!(found.status, 200, "{}", found.text());
        assert_eq!(found.json()["ref"], "refs/tags/churn#prod#3");
        assert_eq!(found.json()["object"]["sha"], sha.as_str());
        let again = call(
            &github,
            "POST",
            "/git/refs",
            Some(json!({ "ref": "refs/tags/churn#prod#3", "sha": sha })),
        );
        assert_eq!(again.status, 422);
        assert_eq!(again.json()["message"], "Reference already exists");
        assert_eq!(
            call(&github, "GET", "/git/ref/tags/churn%40v9", None).status,
            404
        );
        assert_eq!(github.tags(REPO).len(), 1);
        assert_eq!(github.tags(REPO)[0].sha, sha);
    }

    #[test]
    fn tags_made_with_git_are_served_too() {
        let origin = Origin::new("outside");
        let commit = origin.commit("model");
        origin.git(&["tag", "-a", "churn@v0.0.1", "-m", "first"]);
        let github = FakeGitHub::start();
        github.set_git_dir(REPO, &origin.0);
        let found = call(&github, "GET", "/git/ref/tags/churn%40v0.0.1", None);
        assert_eq!(found.status, 200, "{}", found.text());
        let sha = found.json()["object"]["sha"]
            .as_str()
            .expect("sha")
            .to_owned();
        let tag = call(&github, "GET", &format!("/git/tags/{sha}"), None).json();
        assert_eq!(tag["tag"], "churn@v0.0.1");
        assert_eq!(
            tag["object"],
            json!({ "type": "commit", "sha": commit, "url": tag["object"]["url"] })
        );
        assert_eq!(tag["tagger"]["name"], "Test");
        assert_eq!(tag["message"], "first\n");
        let unknown = call(&github, "POST", "/git/tags", Some(tag_body("x", COMMIT)));
        assert_eq!(unknown.status, 422, "an object the repository lacks");
    }

    #[test]
    fn without_a_git_directory_tags_live_in_memory() {
        let github = FakeGitHub::start();
        let created = call(
            &github,
            "POST",
            "/git/tags",
            Some(tag_body("churn@v0.0.2", COMMIT)),
        );
        assert_eq!(created.status, 201);
        let sha = created.json()["sha"].as_str().expect("sha").to_owned();
        assert!(is_object_id(&sha));
        assert_eq!(
            call(&github, "GET", "/git/ref/tags/churn%40v0.0.2", None).status,
            404
        );
        let body = json!({ "ref": "refs/tags/churn@v0.0.2", "sha": sha });
        assert_eq!(call(&github, "POST", "/git/refs", Some(body)).status, 201);
        let found = call(&github, "GET", "/git/ref/tags/churn%40v0.0.2", None).json();
        assert_eq!(found["object"]["type"], "tag");
        let tag = call(&github, "GET", &format!("/git/tags/{sha}"), None).json();
        assert_eq!(tag["object"]["sha"], COMMIT);
        assert_eq!(tag["tagger"]["date"], "2026-01-02T03:04:05+01:00");
        let tags = github.tags(REPO);
        assert_eq!(
            (tags[0].name.as_str(), tags[0].tagger_name.as_str()),
            ("churn@v0.0.2", "Jane Doe")
        );
        assert_eq!(
            github.refs(REPO),
            vec![("refs/tags/churn@v0.0.2".to_owned(), sha)]
        );
        let bad = json!({ "ref": "tags/x", "sha": COMMIT });
        assert_eq!(call(&github, "POST", "/git/refs", Some(bad)).status, 422);
    }
}
