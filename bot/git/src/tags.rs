//! Tags with what their tag objects say: the model registry's events are
//! annotated tags (GTO's format), read here and interpreted in
//! `andon_core::registry`.

use gix::bstr::ByteSlice;

use crate::{GitError, Repo};

/// One tag of the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagInfo {
    /// The tag's short name, `churn@v0.0.1`.
    pub name: String,
    /// The commit it points at, after peeling.
    pub commit: String,
    /// Who tagged and when; `None` for a lightweight tag.
    pub tagger: Option<Tagger>,
    /// The tag object's message, empty for a lightweight tag.
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tagger {
    pub name: String,
    pub email: String,
    /// Seconds since the epoch.
    pub time: i64,
}

impl Repo {
    /// Every tag that points (through tag objects) at a commit, in name
    /// order. A tag of a tree or blob is left out.
    pub fn tags(&self) -> Result<Vec<TagInfo>, GitError> {
        let repo = self.local();
        let error = |err: &dyn std::fmt::Display| GitError::object("listing tags", err.to_string());
        let platform = repo.references().map_err(|e| error(&e))?;
        let mut tags = Vec::new();
        for reference in platform.tags().map_err(|e| error(&e))? {
            let mut reference = reference.map_err(|e| error(&e))?;
            tags.extend(read_tag(&repo, &mut reference)?);
        }
        tags.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(tags)
    }

    /// The tags called `names` (short names, `churn@v0.0.1`), in the order
    /// asked; a name with no tag, or a tag of a tree or blob, is left out.
    pub fn tags_named(&self, names: &[String]) -> Result<Vec<TagInfo>, GitError> {
        let repo = self.local();
        let mut tags = Vec::with_capacity(names.len());
        for name in names {
            let full = format!("refs/tags/{name}");
            let found = repo
                .try_find_reference(full.as_str())
                .map_err(|e| GitError::object(format_args!("reading tag {name}"), e.to_string()))?;
            if let Some(mut reference) = found {
                tags.extend(read_tag(&repo, &mut reference)?);
            }
        }
        Ok(tags)
    }

    /// Who made `commit` and when: its author's name, email and time
    /// (seconds since the epoch).
    pub fn commit_author(&self, commit: &str) -> Result<Tagger, GitError> {
        let repo = self.local();
        let found = crate::find_commit(&repo, commit)?;
        let what = format!("reading commit {commit}");
        let author = found
            .author()
            .map_err(|e| GitError::object(&what, e.to_string()))?;
        Ok(Tagger {
            name: author.name.trim().to_str_lossy().into_owned(),
            email: author.email.trim().to_str_lossy().into_owned(),
            time: author.seconds(),
        })
    }

    /// The identity git would tag as (`user.name`, `user.email`, or
    /// `GIT_COMMITTER_NAME`/`EMAIL`), if configured.
    pub fn identity(&self) -> Option<(String, String)> {
        let repo = self.local();
        let signature = repo.committer()?.ok()?;
        Some((
            signature.name.trim().to_str_lossy().into_owned(),
            signature.email.trim().to_str_lossy().into_owned(),
        ))
    }

    /// Every tag's name and the object its ref points at (a tag object for
    /// an annotated tag), in name order, without reading any object: what
    /// an index needs to tell which tags are new or moved.
    pub fn tag_refs(&self) -> Result<Vec<(String, String)>, GitError> {
        let repo = self.local();
        let error = |err: &dyn std::fmt::Display| GitError::object("listing tags", err.to_string());
        let platform = repo.references().map_err(|e| error(&e))?;
        let mut refs = Vec::new();
        for reference in platform.tags().map_err(|e| error(&e))? {
            let reference = reference.map_err(|e| error(&e))?;
            if let Some(id) = reference.target().try_id() {
                refs.push((
                    reference.name().shorten().to_str_lossy().into_owned(),
                    id.to_string(),
                ));
            }
        }
        refs.sort();
        Ok(refs)
    }

    /// A fingerprint of the tag refs that changes whenever a tag is made,
    /// moved or deleted, without listing them: the size, inode and change
    /// time of `packed-refs`, and the change time of `refs/tags` and each
    /// folder under it (git writes a loose ref by renaming a lock file
    /// into its folder, which changes the folder). `None` when the refs
    /// are not plain files (a reftable) or cannot be read.
    pub fn tag_refs_fingerprint(&self) -> Option<String> {
        use std::os::unix::fs::MetadataExt;
        let repo = self.local();
        let common = repo.common_dir().to_path_buf();
        if common.join("reftable").exists() {
            return None;
        }
        let mut out = String::new();
        match std::fs::metadata(common.join("packed-refs")) {
            Ok(meta) => out.push_str(&format!(
                "p{}:{}:{}.{};",
                meta.size(),
                meta.ino(),
                meta.ctime(),
                meta.ctime_nsec()
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => out.push_str("p-;"),
            Err(_) => return None,
        }
        let mut folders = vec![common.join("refs/tags")];
        while let Some(folder) = folders.pop() {
            let meta = match std::fs::metadata(&folder) {
                Ok(meta) => meta,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(_) => return None,
            };
            out.push_str(&format!(
                "{}:{}:{}.{};",
                folder.display(),
                meta.ino(),
                meta.ctime(),
                meta.ctime_nsec()
            ));
            for entry in std::fs::read_dir(&folder).ok()? {
                let entry = entry.ok()?;
                if entry.file_type().ok()?.is_dir() {
                    folders.push(entry.path());
                }
            }
        }
        Some(out)
    }

    /// Creates the annotated tag `name` on `commit`, by `tagger`, refusing
    /// to replace a tag of that name (a registry event is never rewritten).
    pub fn create_tag(
        &self,
        name: &str,
        commit: &str,
        tagger: &Tagger,
        message: &str,
    ) -> Result<(), GitError> {
        let repo = self.local();
        let what = format!("creating tag {name}");
        let error = |err: &dyn std::fmt::Display| GitError::object(&what, err.to_string());
        let target = crate::find_commit(&repo, commit)?.id;
        let time = format!("{} +0000", tagger.time);
        let signature = gix::actor::SignatureRef {
            name: tagger.name.as_str().into(),
            email: tagger.email.as_str().into(),
            time: &time,
        };
        repo.tag(
            name,
            target,
            gix::object::Kind::Commit,
            Some(signature),
            message,
            gix::refs::transaction::PreviousValue::MustNotExist,
        )
        .map_err(|e| error(&e))?;
        Ok(())
    }
}

/// One tag reference as a [`TagInfo`]; `None` when it does not lead to a
/// commit.
fn read_tag(
    repo: &gix::Repository,
    reference: &mut gix::Reference<'_>,
) -> Result<Option<TagInfo>, GitError> {
    let name = reference.name().shorten().to_str_lossy().into_owned();
    let what = format!("reading tag {name}");
    let error = |err: &dyn std::fmt::Display| GitError::object(&what, err.to_string());
    let Some(id) = reference.target().try_id().map(ToOwned::to_owned) else {
        return Ok(None);
    };
    let object = repo.find_object(id).map_err(|e| error(&e))?;
    let (tagger, message) = if object.kind == gix::object::Kind::Tag {
        let tag = object.try_to_tag_ref().map_err(|e| error(&e))?;
        let tagger = tag
            .tagger()
            .map_err(|e| error(&e))?
            .map(|signature| Tagger {
                name: signature.name.trim().to_str_lossy().into_owned(),
                email: signature.email.trim().to_str_lossy().into_owned(),
                time: signature.seconds(),
            });
        (tagger, tag.message.to_str_lossy().into_owned())
    } else {
        (None, String::new())
    };
    let Ok(commit) = reference.peel_to_commit() else {
        return Ok(None);
    };
    Ok(Some(TagInfo {
        name,
        commit: commit.id.to_string(),
        tagger,
        message,
    }))
}
