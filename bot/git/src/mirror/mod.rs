//! Local bare mirrors of remote repositories, one per `owner/name`, kept up
//! to date on demand for the server's workers.
//!
//! Invariants:
//! - one [`Mirrors`] in one process owns its root directory (the server's
//!   data dir); the per-repository locks and the cleanup of a dead
//!   process's leftovers rely on it;
//! - a mirror path is either absent or a complete clone: a clone is made in
//!   a sibling temp dir and renamed into place;
//! - credentials live only in memory for the duration of a fetch: never in
//!   the mirror's config, a URL on disk, a log line or an error message.

mod remote;

pub(crate) use remote::open_options;

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use crate::{GitError, Repo};

/// What a fetch must bring along the refs: the branches, the tags and the
/// heads of pull requests (GitHub serves them under `refs/pull/<n>/head`; a
/// plain git remote has none). Forced, so force-pushes are followed.
const REFSPECS: [&str; 3] = [
    "+refs/heads/*:refs/heads/*",
    "+refs/tags/*:refs/tags/*",
    "+refs/pull/*/head:refs/pull/*/head",
];

/// Separates a mirror's name from the random suffix of its temp clone dir.
/// Repository names cannot contain it, so a temp dir of one repository is
/// never mistaken for a mirror or for another repository's temp dir.
const TEMP_MARK: char = '@';

/// How many mirrors stay open between syncs. Each open mirror keeps its
/// pack indexes mapped, so the count is bounded for servers of many
/// repositories; the most recently synced stay open.
const OPEN_MIRRORS: usize = 64;

/// The credentials of one fetch over https: a GitHub App installation token
/// (or any token GitHub accepts as a password for `x-access-token`).
#[derive(Clone)]
pub struct Auth {
    token: String,
}

impl Auth {
    /// Wraps a token. It is only ever sent as the password of HTTP basic
    /// authentication, when the server asks for credentials.
    pub fn new(token: impl Into<String>) -> Auth {
        Auth {
            token: token.into(),
        }
    }
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Auth { token: <redacted> }")
    }
}

/// The bare mirrors under one root: `root/{owner}/{name}.git`.
///
/// Syncs of one repository run one at a time; different repositories sync
/// in parallel. Create one per root and share it.
#[derive(Debug)]
pub struct Mirrors {
    root: PathBuf,
    slots: Mutex<HashMap<String, Arc<Mutex<Slot>>>>,
    /// Opened mirrors, most recently used first. Opening costs about fifty
    /// times what the warm path's lookups cost; a kept handle sees later
    /// fetches, as gix rescans the packs when an object is not found.
    open: Mutex<VecDeque<(String, Repo)>>,
}

/// Per repository state, behind the lock that serialises its syncs.
#[derive(Debug, Default)]
struct Slot {
    /// Whether leftovers of an earlier process (temp clones, lock files)
    /// were cleared; done once, on the first sync in this process.
    swept: bool,
}

impl Mirrors {
    /// Mirrors under `root`; nothing is created until the first sync.
    pub fn new(root: impl Into<PathBuf>) -> Mirrors {
        Mirrors {
            root: root.into(),
            slots: Mutex::new(HashMap::new()),
            open: Mutex::new(VecDeque::new()),
        }
    }

    /// The directory that holds every mirror.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the mirror of `repository` (`owner/name`) lives, whether or
    /// not it exists yet. Names are lowercased, as GitHub's compare without
    /// case: `Octo/Widgets` and `octo/widgets` share one mirror.
    pub fn path(&self, repository: &str) -> Result<PathBuf, GitError> {
        let key = mirror_key(repository)?;
        let (owner, name) = split_repository(&key)?;
        Ok(self.root.join(owner).join(format!("{name}.git")))
    }

    /// Makes sure the mirror of `repository` (`owner/name`) exists and holds
    /// every commit in `want` (full hex ids), cloning or fetching from `url`
    /// (https, http, `file://` or a local path) as needed, and opens it.
    ///
    /// When the mirror already holds every wanted commit the network is not
    /// touched at all. An empty `want` asks for an up-to-date mirror: it
    /// always fetches. Blocking; call it from a blocking thread.
    pub fn sync(
        &self,
        repository: &str,
        url: &str,
        want: &[&str],
        auth: Option<&Auth>,
    ) -> Result<Repo, GitError> {
        let key = mirror_key(repository)?;
        let (owner, name) = split_repository(&key)?;
        let wants = parse_wants(want)?;
        let url = remote::parse_url(url)?;
        let owner_dir = self.root.join(owner);
        let path = owner_dir.join(format!("{name}.git"));

        let slot = self.slot(&key);
        let mut slot = slot.lock().unwrap_or_else(PoisonError::into_inner);
        if !slot.swept {
            sweep(&owner_dir, name, &path);
            slot.swept = true;
        }

        let opened = match self.take_open(&key) {
            Some(repo) => Some(repo),
            None => open_mirror(&path)?,
        };
        match opened {
            Some(repo) => {
                if !wants.is_empty() && repo.missing_commit(&wants)?.is_none() {
                    self.keep_open(&key, &repo);
                    return Ok(repo);
                }
                remote::fetch(&repo.local(), &url, auth)
                    .map_err(|err| GitError::fetch(repository, &err))?;
            }
            None => clone(repository, &url, &owner_dir, name, &path, auth)?,
        }

        let repo = Repo::open_mirror(&path)?;
        self.keep_open(&key, &repo);
        if let Some(commit) = repo.missing_commit(&wants)? {
            return Err(GitError::MissingCommit {
                repository: repository.to_owned(),
                commit: commit.to_string(),
            });
        }
        Ok(repo)
    }

    /// The kept handle of `repository`, if any, taken out of the cache.
    fn take_open(&self, repository: &str) -> Option<Repo> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let index = open.iter().position(|(name, _)| name == repository)?;
        open.remove(index).map(|(_, repo)| repo)
    }

    /// Keeps a handle of `repository` as the most recently used.
    fn keep_open(&self, repository: &str, repo: &Repo) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.retain(|(name, _)| name != repository);
        open.push_front((repository.to_owned(), repo.clone()));
        open.truncate(OPEN_MIRRORS);
    }

    /// The lock of one repository, created on first use.
    fn slot(&self, repository: &str) -> Arc<Mutex<Slot>> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(slots.entry(repository.to_owned()).or_default())
    }
}

/// The checked, lowercased `owner/name` that names a mirror, its lock and
/// its directory.
fn mirror_key(repository: &str) -> Result<String, GitError> {
    split_repository(repository)?;
    Ok(repository.to_ascii_lowercase())
}

/// Splits and checks `owner/name`: one separator, both parts made of ASCII
/// letters, digits, `-`, `_` and `.`, no part that is `.` or `..`, and an
/// owner that does not start with a dot (GitHub allows none there; names
/// may, as in `.github`).
fn split_repository(repository: &str) -> Result<(&str, &str), GitError> {
    let invalid = |reason| GitError::InvalidRepository {
        repository: repository.to_owned(),
        reason,
    };
    let (owner, name) = repository
        .split_once('/')
        .ok_or_else(|| invalid("expected owner/name"))?;
    for part in [owner, name] {
        if part.is_empty() {
            return Err(invalid("expected owner/name"));
        }
        if part.len() > 100 {
            return Err(invalid("a part is longer than 100 characters"));
        }
        if !part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return Err(invalid(
                "only letters, digits, '-', '_' and '.' are allowed, with one '/'",
            ));
        }
        if part == "." || part == ".." {
            return Err(invalid("'.' and '..' are not names"));
        }
    }
    if owner.starts_with('.') {
        return Err(invalid("an owner cannot start with '.'"));
    }
    Ok((owner, name))
}

fn parse_wants(want: &[&str]) -> Result<Vec<gix::ObjectId>, GitError> {
    want.iter()
        .map(|id| {
            gix::ObjectId::from_hex(id.as_bytes()).map_err(|_| GitError::InvalidCommitId {
                id: (*id).to_owned(),
            })
        })
        .collect()
}

/// The mirror at `path`, or `None` when there is none yet. A mirror that
/// exists but does not open is reported, not replaced: [`clone`] only ever
/// renames complete clones into place, so it was damaged from outside.
fn open_mirror(path: &Path) -> Result<Option<Repo>, GitError> {
    match std::fs::symlink_metadata(path) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        _ => Repo::open_mirror(path).map(Some),
    }
}

/// Clones into a temp dir next to `path`, then renames it into place, so
/// that a crash never leaves a half-made mirror at `path`.
fn clone(
    repository: &str,
    url: &gix::Url,
    owner_dir: &Path,
    name: &str,
    path: &Path,
    auth: Option<&Auth>,
) -> Result<(), GitError> {
    let io_error = |doing: &str, err: std::io::Error| GitError::Mirror {
        path: path.to_owned(),
        message: format!("{doing}: {err}"),
    };
    std::fs::create_dir_all(owner_dir).map_err(|err| io_error("creating its directory", err))?;
    let temp = tempfile::Builder::new()
        .prefix(&format!("{name}.git{TEMP_MARK}"))
        .tempdir_in(owner_dir)
        .map_err(|err| io_error("creating a temp dir", err))?;
    remote::clone_bare(url, temp.path(), auth).map_err(|err| GitError::fetch(repository, &err))?;
    std::fs::rename(temp.path(), path).map_err(|err| io_error("moving the clone in place", err))?;
    // Renamed away: nothing is left for the guard to delete.
    let _ = temp.keep();
    Ok(())
}

/// Clears what a process that died mid-sync may have left: temp clones of
/// this repository and lock files in its mirror. Only called under the
/// repository's lock before its first sync in this process, when no writer
/// can be at work. Best effort: what cannot be removed makes the sync fail
/// with the real cause later.
fn sweep(owner_dir: &Path, name: &str, path: &Path) {
    let prefix = format!("{name}.git{TEMP_MARK}");
    if let Ok(entries) = std::fs::read_dir(owner_dir) {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    for lock in [
        "HEAD.lock",
        "config.lock",
        "packed-refs.lock",
        "shallow.lock",
    ] {
        let _ = std::fs::remove_file(path.join(lock));
    }
    remove_lock_files(&path.join("refs"));
}

fn remove_lock_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => remove_lock_files(&path),
            Ok(_) if path.extension().is_some_and(|ext| ext == "lock") => {
                let _ = std::fs::remove_file(&path);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_names() {
        for ok in ["octo/widgets", "a/b", "o-1/.github", "O_o/x.y-z_9"] {
            assert!(split_repository(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "octo",
            "/widgets",
            "octo/",
            "a/b/c",
            "../x",
            "x/..",
            "x/.",
            ".hidden/x",
            "a\\b/c",
            "a/b c",
            "a/b@c",
            "a/é",
            "a/b\0",
        ] {
            let err = split_repository(bad).expect_err(bad);
            assert!(
                matches!(err, GitError::InvalidRepository { .. }),
                "{bad}: {err:?}"
            );
        }
        assert!(split_repository(&format!("a/{}", "x".repeat(101))).is_err());
    }

    #[test]
    fn auth_debug_hides_the_token() {
        let auth = Auth::new("ghs_secret");
        assert!(!format!("{auth:?}").contains("ghs_secret"));
    }
}
