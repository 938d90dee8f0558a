//! Access to git repositories for andon: revisions, files at a revision,
//! diffs between revisions, and local mirrors of remote repositories kept
//! up to date for the server. This is the only crate that links gix; its
//! public API speaks in strings, bytes and `andon_core` types.

mod diff;
mod error;
mod mirror;
mod path;
mod stream;
mod tags;

use std::path::Path;

pub use error::GitError;
pub use mirror::{Auth, Mirrors};
pub use path::validate_path;
pub use stream::BlobStream;
pub use tags::{TagInfo, Tagger};

/// Upper bound for the decoded-object cache of one call. It grows on demand,
/// so small calls do not pay for it.
const OBJECT_CACHE_BYTES: usize = 16 * 1024 * 1024;

/// Upper bound for the cache of decoded delta bases of one call (git's
/// `core.deltaBaseCacheLimit` defaults to 96 MiB). Without it every packed
/// blob re-inflates its whole delta chain.
const PACK_CACHE_BYTES: usize = 64 * 1024 * 1024;

/// An open repository. Cheap to share behind an `Arc` or to clone: every
/// call works on its own thread-local handle with its own object cache.
#[derive(Debug, Clone)]
pub struct Repo {
    inner: gix::ThreadSafeRepository,
    name: String,
    /// Thread-local handles with warm object and pack caches, reused
    /// across calls: making one per call (and its caches) cost about
    /// 200 µs per file a plugin read. Clones share the pool.
    pool: std::sync::Arc<std::sync::Mutex<Vec<gix::Repository>>>,
}

/// A pooled [`gix::Repository`], returned to its [`Repo`]'s pool on drop.
struct Local<'a> {
    repo: Option<gix::Repository>,
    pool: &'a std::sync::Mutex<Vec<gix::Repository>>,
}

impl std::ops::Deref for Local<'_> {
    type Target = gix::Repository;

    fn deref(&self) -> &gix::Repository {
        self.repo.as_ref().expect("present until dropped")
    }
}

impl Drop for Local<'_> {
    fn drop(&mut self) {
        if let (Some(repo), Ok(mut pool)) = (self.repo.take(), self.pool.lock()) {
            // A few handles cover the workers; more would only hold memory.
            if pool.len() < 8 {
                pool.push(repo);
            }
        }
    }
}

impl Repo {
    /// Opens the repository that contains `path` (a work tree or anything
    /// inside it), or the bare repository at `path`.
    pub fn open(path: &Path) -> Result<Repo, GitError> {
        let inner = gix::ThreadSafeRepository::discover(path).map_err(|err| GitError::Open {
            path: path.to_owned(),
            message: err.to_string(),
        })?;
        let name = repo_name(&inner);
        Ok(Repo {
            inner,
            name,
            pool: std::sync::Arc::default(),
        })
    }

    /// Opens the bare mirror at exactly `path`: no discovery upwards, and
    /// only the repository's own config (see `mirror::remote::open_options`).
    fn open_mirror(path: &Path) -> Result<Repo, GitError> {
        let inner =
            gix::ThreadSafeRepository::open_opts(path, mirror::open_options()).map_err(|err| {
                GitError::Open {
                    path: path.to_owned(),
                    message: err.to_string(),
                }
            })?;
        let name = repo_name(&inner);
        Ok(Repo {
            inner,
            name,
            pool: std::sync::Arc::default(),
        })
    }

    /// The work tree folder name, or the bare repository folder name without
    /// its `.git` suffix.
    pub fn name(&self) -> String {
        self.name.clone()
    }

    /// The root of the work tree, or `None` for a bare repository. Paths a
    /// workflow names (a `.wasm` plugin) are relative to it, whatever folder
    /// inside the repository the user pointed at.
    pub fn work_dir(&self) -> Option<std::path::PathBuf> {
        self.inner.work_dir().map(Path::to_path_buf)
    }

    /// The full hex id of the commit that `rev` names, peeling tags.
    pub fn resolve(&self, rev: &str) -> Result<String, GitError> {
        let repo = self.local();
        Ok(find_commit(&repo, rev)?.id.to_string())
    }

    /// The first parent of `commit`, or `None` for a root commit.
    pub fn first_parent(&self, commit: &str) -> Result<Option<String>, GitError> {
        let repo = self.local();
        let commit = find_commit(&repo, commit)?;
        Ok(commit.parent_ids().next().map(|id| id.to_string()))
    }

    /// The content of the regular file at `path` in `rev`, or `None` when
    /// there is no such file (missing, a directory, a symlink or a
    /// submodule).
    pub fn read_file(&self, rev: &str, path: &str) -> Result<Option<Vec<u8>>, GitError> {
        validate_path(path)?;
        let repo = self.local();
        let Some(id) = file_id(&repo, rev, path)? else {
            return Ok(None);
        };
        let mut blob = repo
            .find_blob(id)
            .map_err(|err| GitError::object(format_args!("reading {path} at {rev}"), err))?;
        Ok(Some(blob.take_data()))
    }

    /// The size in bytes of the regular file at `path` in `rev`, read from
    /// the object header without inflating the content.
    pub fn file_size(&self, rev: &str, path: &str) -> Result<Option<u64>, GitError> {
        validate_path(path)?;
        let repo = self.local();
        let Some(id) = file_id(&repo, rev, path)? else {
            return Ok(None);
        };
        let header = repo
            .find_header(id)
            .map_err(|err| GitError::object(format_args!("reading {path} at {rev}"), err))?;
        Ok(Some(header.size()))
    }

    /// The names of the regular files directly inside `dir` at `rev`
    /// (`""` is the root), sorted; empty when `dir` is not a directory there.
    /// Names that are not UTF-8 are left out, as no `&str` path could reach
    /// them.
    pub fn list_dir(&self, rev: &str, dir: &str) -> Result<Vec<String>, GitError> {
        if !dir.is_empty() {
            validate_path(dir)?;
        }
        let repo = self.local();
        let root = commit_tree(&repo, rev)?;
        let tree = if dir.is_empty() {
            root
        } else {
            let entry = root
                .lookup_entry(path::components(dir))
                .map_err(|err| GitError::object(format_args!("looking up {dir} at {rev}"), err))?;
            match entry {
                Some(entry) if entry.mode().is_tree() => repo
                    .find_tree(entry.object_id())
                    .map_err(|err| GitError::object(format_args!("reading {dir} at {rev}"), err))?,
                _ => return Ok(Vec::new()),
            }
        };
        let decoded = tree
            .decode()
            .map_err(|err| GitError::object(format_args!("reading {dir} at {rev}"), err))?;
        let mut names: Vec<String> = decoded
            .entries
            .iter()
            .filter(|entry| entry.mode.is_blob())
            .filter_map(|entry| std::str::from_utf8(entry.filename).ok().map(str::to_owned))
            .collect();
        names.sort_unstable();
        Ok(names)
    }

    /// What changed from `base` to `head` (from the empty tree when `base`
    /// is `None`), with renames detected and added lines numbered in `head`.
    pub fn diff(
        &self,
        base: Option<&str>,
        head: &str,
    ) -> Result<andon_core::change::Change, GitError> {
        let repo = self.local();
        let head_tree = commit_tree(&repo, head)?;
        let base_tree = match base {
            Some(base) => commit_tree(&repo, base)?,
            None => repo.empty_tree(),
        };
        diff::trees(&repo, &base_tree, &head_tree)
    }

    /// The first of `ids` that is not in the object database. An id of
    /// something other than a commit is refused.
    fn missing_commit(&self, ids: &[gix::ObjectId]) -> Result<Option<gix::ObjectId>, GitError> {
        let repo = self.local();
        for &id in ids {
            let header = repo
                .try_find_header(id)
                .map_err(|err| GitError::object(format_args!("looking up {id}"), err))?;
            match header {
                None => return Ok(Some(id)),
                Some(header) if header.kind() != gix::object::Kind::Commit => {
                    return Err(GitError::NotACommit {
                        rev: id.to_string(),
                    });
                }
                Some(_) => {}
            }
        }
        Ok(None)
    }

    fn local(&self) -> Local<'_> {
        let pooled = self.pool.lock().ok().and_then(|mut pool| pool.pop());
        let repo = pooled.unwrap_or_else(|| self.fresh());
        Local {
            repo: Some(repo),
            pool: &self.pool,
        }
    }

    fn fresh(&self) -> gix::Repository {
        let mut repo = self.inner.to_thread_local();
        repo.object_cache_size_if_unset(OBJECT_CACHE_BYTES);
        repo.objects.set_pack_cache(|| {
            Box::new(gix::odb::pack::cache::lru::MemoryCappedHashmap::new(
                PACK_CACHE_BYTES,
            ))
        });
        repo
    }
}

fn repo_name(repo: &gix::ThreadSafeRepository) -> String {
    let dir = repo.work_dir().unwrap_or_else(|| repo.git_dir());
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_owned());
    let name = dir
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    match name.strip_suffix(".git") {
        Some(stem) if repo.work_dir().is_none() && !stem.is_empty() => stem.to_owned(),
        _ => name,
    }
}

/// The commit `rev` names, after peeling tags.
pub(crate) fn find_commit<'repo>(
    repo: &'repo gix::Repository,
    rev: &str,
) -> Result<gix::Commit<'repo>, GitError> {
    let id = repo
        .rev_parse_single(rev)
        .map_err(|err| rev_error(rev, &err))?;
    let not_a_commit = || GitError::NotACommit {
        rev: rev.to_owned(),
    };
    // The header says a blob or tree is no commit without reading it whole.
    let kind = id
        .header()
        .map_err(|err| GitError::object(format_args!("reading {rev}"), err))?
        .kind();
    if matches!(kind, gix::object::Kind::Blob | gix::object::Kind::Tree) {
        return Err(not_a_commit());
    }
    let object = id
        .object()
        .map_err(|err| GitError::object(format_args!("reading {rev}"), err))?
        .peel_tags_to_end()
        .map_err(|err| GitError::object(format_args!("peeling {rev}"), err))?;
    if object.kind != gix::object::Kind::Commit {
        return Err(not_a_commit());
    }
    Ok(object.into_commit())
}

/// A failed rev-parse is the caller's mistake (unknown name, bad syntax,
/// history too short) unless gix says the repository itself is at fault.
fn rev_error(rev: &str, err: &gix::Error) -> GitError {
    use gix::error::Class;
    match err.dominant_class() {
        Some(Class::Corruption | Class::PermissionDenied | Class::ResourceExhaustion(_)) => {
            GitError::object(format_args!("resolving {rev}"), err)
        }
        _ => GitError::RevNotFound {
            rev: rev.to_owned(),
        },
    }
}

fn commit_tree<'repo>(
    repo: &'repo gix::Repository,
    rev: &str,
) -> Result<gix::Tree<'repo>, GitError> {
    find_commit(repo, rev)?
        .tree()
        .map_err(|err| GitError::object(format_args!("reading the tree of {rev}"), err))
}

/// The blob id of the regular file at a validated `path` in `rev`.
fn file_id(
    repo: &gix::Repository,
    rev: &str,
    path: &str,
) -> Result<Option<gix::ObjectId>, GitError> {
    let entry = commit_tree(repo, rev)?
        .lookup_entry(path::components(path))
        .map_err(|err| GitError::object(format_args!("looking up {path} at {rev}"), err))?;
    Ok(entry
        .filter(|entry| entry.mode().is_blob())
        .map(|entry| entry.object_id()))
}
