//! OWNERS files in Prow's format: who reviews and who approves which paths.
//!
//! An `OWNERS` file in a folder lists `approvers:` and `reviewers:` for the
//! files under it; the lists of the folders above apply too, unless
//! `options: {no_parent_owners: true}` stops the climb. Entries are GitHub
//! logins or names from the root `OWNERS_ALIASES` file
//! (`aliases: {name: [logins]}`). Logins compare as Prow compares them:
//! trimmed, without a leading `@`, in lower case. Paths compare exactly
//! (git is case-sensitive, so `Docs/OWNERS` does not cover `docs/`).
//!
//! As in Prow, a file that cannot be read as OWNERS is ignored (the folders
//! above it then apply) and reported as a [`Problem`] naming it and its
//! line, so a pull request fixing a broken OWNERS file stays approvable.
//!
//! Used by the `approve` and `lgtm` stock plugins; any plugin that reads
//! Prow's OWNERS files can use it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::types::{ChangedFile, FileStatus};
use andon_yaml::{Node, Value};

/// The name of a folder's owners file.
pub const OWNERS: &str = "OWNERS";
/// The name of the root file of aliases.
pub const OWNERS_ALIASES: &str = "OWNERS_ALIASES";

/// Keys of Prow's OWNERS format this plugin reads no meaning from, and so
/// passes over without a note.
const IGNORED_KEYS: [&str; 5] = [
    "labels",
    "emeritus_approvers",
    "emeritus_reviewers",
    "required_reviewers",
    "security_contacts",
];

/// A login as Prow compares it: trimmed, without a leading `@`, lower case.
pub fn norm_login(login: &str) -> String {
    login.trim().trim_start_matches('@').to_lowercase()
}

/// The folders whose OWNERS files cover `path`, nearest first, ending with
/// the root (`""`): `a/b/c.rs` gives `a/b`, `a`, `""`. Empty segments (a
/// doubled or trailing `/`) are skipped.
pub fn ancestors(path: &str) -> Vec<String> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let folders = parts.len().saturating_sub(1);
    (0..=folders).rev().map(|n| parts[..n].join("/")).collect()
}

/// The paths whose owners a change concerns, sorted: every changed file,
/// and the old path of a rename too (moving a file out of a folder
/// concerns that folder's owners).
pub fn changed_paths(files: Vec<ChangedFile>) -> Vec<String> {
    let mut paths = Vec::new();
    for file in files {
        if let (FileStatus::Renamed, Some(old)) = (file.status, file.old_path) {
            paths.push(old);
        }
        paths.push(file.path);
    }
    paths.sort();
    paths.dedup();
    paths
}

/// The OWNERS file of folder `dir` (`""` is the root).
pub fn owners_path(dir: &str) -> String {
    if dir.is_empty() {
        OWNERS.to_string()
    } else {
        format!("{dir}/{OWNERS}")
    }
}

/// Something wrong in an OWNERS or OWNERS_ALIASES file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file, relative to the repository root.
    pub path: String,
    /// 1-based, 0 when unknown.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "`{}`: {}", self.path, self.message)
        } else {
            write!(f, "`{}` line {}: {}", self.path, self.line, self.message)
        }
    }
}

/// One OWNERS file as written: entries normalised, aliases not expanded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnersFile {
    pub approvers: Vec<String>,
    pub reviewers: Vec<String>,
    pub no_parent_owners: bool,
    /// Parts the file was read without (an unknown key, a filter this
    /// plugin does not apply): worth telling, not worth ignoring the file.
    pub notes: Vec<Problem>,
}

/// Alias name to logins, both normalised.
pub type Aliases = BTreeMap<String, BTreeSet<String>>;

/// Reads the OWNERS file at `path` (the name is only used in problems).
pub fn parse_owners(path: &str, text: &str) -> Result<OwnersFile, Problem> {
    let problem = |line: usize, message: String| Problem {
        path: path.to_string(),
        line,
        message,
    };
    let root = andon_yaml::parse(text).map_err(|e| problem(e.line, e.message))?;
    let mut file = OwnersFile::default();
    let entries = match &root.value {
        Value::Null => return Ok(file),
        Value::Map(entries) => entries,
        _ => {
            return Err(problem(
                root.line,
                format!(
                    "expected a mapping with `approvers:` and `reviewers:`, not {}",
                    root.kind()
                ),
            ));
        }
    };
    for (key, value) in entries {
        let name = key.scalar_text();
        match name.as_str() {
            "approvers" => file.approvers.extend(logins(path, &name, value)?),
            "reviewers" => file.reviewers.extend(logins(path, &name, value)?),
            "options" => file.no_parent_owners = no_parent_owners(path, value)?,
            "filters" => read_filters(path, value, &mut file)?,
            known if IGNORED_KEYS.contains(&known) => {}
            other => file.notes.push(problem(
                key.line,
                format!("unknown key `{other}` (ignored)"),
            )),
        }
    }
    Ok(file)
}

/// Reads the root `OWNERS_ALIASES` file.
pub fn parse_aliases(text: &str) -> Result<Aliases, Problem> {
    let problem = |line: usize, message: String| Problem {
        path: OWNERS_ALIASES.to_string(),
        line,
        message,
    };
    let root = andon_yaml::parse(text).map_err(|e| problem(e.line, e.message))?;
    let mut aliases = Aliases::new();
    let entries = match &root.value {
        Value::Null => return Ok(aliases),
        Value::Map(entries) => entries,
        _ => {
            return Err(problem(
                root.line,
                format!("expected a mapping with `aliases:`, not {}", root.kind()),
            ));
        }
    };
    for (key, value) in entries {
        if key.scalar_text() != "aliases" {
            continue;
        }
        match &value.value {
            Value::Null => {}
            Value::Map(names) => {
                for (name, members) in names {
                    let members = logins(OWNERS_ALIASES, &name.scalar_text(), members)?;
                    aliases
                        .entry(norm_login(&name.scalar_text()))
                        .or_default()
                        .extend(members);
                }
            }
            _ => {
                return Err(problem(
                    value.line,
                    format!(
                        "`aliases` must map names to lists of logins, not {}",
                        value.kind()
                    ),
                ));
            }
        }
    }
    Ok(aliases)
}

/// A list of logins (`approvers:`); nothing (`approvers:` alone) is empty.
fn logins(path: &str, key: &str, node: &Node) -> Result<Vec<String>, Problem> {
    let items = match &node.value {
        Value::Null => return Ok(Vec::new()),
        Value::Seq(items) => items,
        _ => {
            return Err(Problem {
                path: path.to_string(),
                line: node.line,
                message: format!("`{key}` must be a list of logins, not {}", node.kind()),
            });
        }
    };
    let mut logins = Vec::new();
    for item in items {
        match item.scalar() {
            Some(text) => logins.push(norm_login(&text)),
            // `- ` with nothing after it.
            None if matches!(item.value, Value::Null) => {}
            None => {
                return Err(Problem {
                    path: path.to_string(),
                    line: item.line,
                    message: format!("an entry of `{key}` must be a login, not {}", item.kind()),
                });
            }
        }
    }
    logins.retain(|login| !login.is_empty());
    Ok(logins)
}

/// `options: {no_parent_owners: true}`; other options are passed over.
fn no_parent_owners(path: &str, node: &Node) -> Result<bool, Problem> {
    let problem = |line: usize, message: String| Problem {
        path: path.to_string(),
        line,
        message,
    };
    let entries = match &node.value {
        Value::Null => return Ok(false),
        Value::Map(entries) => entries,
        _ => {
            return Err(problem(
                node.line,
                format!("`options` must be a mapping, not {}", node.kind()),
            ));
        }
    };
    let mut stop = false;
    for (key, value) in entries {
        if key.scalar_text() == "no_parent_owners" {
            stop = match value.value {
                Value::Bool(b) => b,
                Value::Null => false,
                _ => {
                    return Err(problem(
                        value.line,
                        format!(
                            "`no_parent_owners` must be true or false, not {}",
                            value.kind()
                        ),
                    ));
                }
            };
        }
    }
    Ok(stop)
}

/// Prow's `filters:` map regular expressions to owners. Only `.*` (every
/// file) is applied; the others are noted and left out, which can only
/// leave fewer approvers, never more.
fn read_filters(path: &str, node: &Node, file: &mut OwnersFile) -> Result<(), Problem> {
    let entries = match &node.value {
        Value::Null => return Ok(()),
        Value::Map(entries) => entries,
        _ => {
            return Err(Problem {
                path: path.to_string(),
                line: node.line,
                message: format!("`filters` must be a mapping, not {}", node.kind()),
            });
        }
    };
    for (pattern, owners) in entries {
        let pattern_text = pattern.scalar_text();
        if pattern_text != ".*" {
            file.notes.push(Problem {
                path: path.to_string(),
                line: pattern.line,
                message: format!(
                    "filter `{pattern_text}` is not applied (only `.*` is); its owners are left out"
                ),
            });
            continue;
        }
        let Value::Map(keys) = &owners.value else {
            continue;
        };
        for (key, value) in keys {
            let name = key.scalar_text();
            match name.as_str() {
                "approvers" => file.approvers.extend(logins(path, &name, value)?),
                "reviewers" => file.reviewers.extend(logins(path, &name, value)?),
                _ => {}
            }
        }
    }
    Ok(())
}

/// A folder's OWNERS file with aliases expanded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Owners {
    pub approvers: BTreeSet<String>,
    pub reviewers: BTreeSet<String>,
    pub no_parent_owners: bool,
}

/// Who covers a file: the folders with an OWNERS file that apply to it,
/// nearest first, and their approvers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    /// The nearest folder whose OWNERS file lists approvers: the unit of
    /// approval, as in Prow. `None` when no OWNERS file lists approvers for
    /// the file.
    pub unit: Option<String>,
    /// The approvers of `unit`'s own OWNERS file (Prow's "leaf" approvers,
    /// preferred when suggesting).
    pub leaf_approvers: BTreeSet<String>,
    /// Everyone who may approve the file: the approvers of every OWNERS file
    /// that applies to it.
    pub approvers: BTreeSet<String>,
    /// Everyone listed as reviewer or approver in those files.
    pub reviewers: BTreeSet<String>,
}

/// The OWNERS files that cover a set of paths, read at one revision.
#[derive(Debug, Clone, Default)]
pub struct OwnersTree {
    /// Folder to its OWNERS file; `None` when it has none (or it was
    /// ignored as malformed).
    folders: BTreeMap<String, Option<Owners>>,
    /// Malformed files (ignored) and notes on files that were read.
    pub problems: Vec<Problem>,
}

impl OwnersTree {
    /// Reads the OWNERS files covering `paths` and the root OWNERS_ALIASES
    /// through `read`, which gives a file's text, `None` when it does not
    /// exist, or an error message. No paths (an empty change) reads the
    /// root's, whose approvers then approve it.
    pub fn load(
        paths: &[String],
        read: &mut dyn FnMut(&str) -> Result<Option<String>, String>,
    ) -> OwnersTree {
        let root = [String::new()];
        let paths = if paths.is_empty() { &root[..] } else { paths };
        let mut tree = OwnersTree::default();
        let mut files: BTreeMap<String, OwnersFile> = BTreeMap::new();
        for path in paths {
            for dir in ancestors(path) {
                if tree.folders.contains_key(&dir) || files.contains_key(&dir) {
                    continue;
                }
                let file_path = owners_path(&dir);
                let parsed = match read(&file_path) {
                    Ok(None) => None,
                    Ok(Some(text)) => parse_owners(&file_path, &text)
                        .map_err(|p| tree.ignore(p))
                        .ok(),
                    Err(message) => {
                        tree.ignore(Problem {
                            path: file_path,
                            line: 0,
                            message,
                        });
                        None
                    }
                };
                match parsed {
                    Some(file) => {
                        tree.problems.extend(file.notes.iter().cloned());
                        files.insert(dir, file);
                    }
                    None => {
                        tree.folders.insert(dir, None);
                    }
                }
            }
        }
        let aliases = if files.is_empty() {
            Aliases::new()
        } else {
            tree.aliases(read)
        };
        for (dir, file) in files {
            let owners = expand(&file, &aliases, &owners_path(&dir), &mut tree.problems);
            tree.folders.insert(dir, Some(owners));
        }
        tree
    }

    /// Notes a file that is ignored for `problem`.
    fn ignore(&mut self, mut problem: Problem) {
        problem.message.push_str("; the file is ignored");
        self.problems.push(problem);
    }

    fn aliases(&mut self, read: &mut dyn FnMut(&str) -> Result<Option<String>, String>) -> Aliases {
        let text = match read(OWNERS_ALIASES) {
            Ok(Some(text)) => text,
            Ok(None) => return Aliases::new(),
            Err(message) => {
                self.ignore(Problem {
                    path: OWNERS_ALIASES.to_string(),
                    line: 0,
                    message,
                });
                return Aliases::new();
            }
        };
        parse_aliases(&text).unwrap_or_else(|problem| {
            self.ignore(problem);
            Aliases::new()
        })
    }

    /// Whether any OWNERS file covering the paths was read.
    pub fn any_owners(&self) -> bool {
        self.folders.values().any(Option::is_some)
    }

    /// Who covers `path`.
    pub fn coverage(&self, path: &str) -> Coverage {
        let mut coverage = Coverage::default();
        for dir in ancestors(path) {
            let Some(Some(owners)) = self.folders.get(&dir) else {
                continue;
            };
            if coverage.unit.is_none() && !owners.approvers.is_empty() {
                coverage.unit = Some(dir.clone());
                coverage.leaf_approvers = owners.approvers.clone();
            }
            coverage.approvers.extend(owners.approvers.iter().cloned());
            coverage.reviewers.extend(owners.approvers.iter().cloned());
            coverage.reviewers.extend(owners.reviewers.iter().cloned());
            if owners.no_parent_owners {
                break;
            }
        }
        coverage
    }
}

/// Expands aliases in a file's lists. Team entries (`org/team`) cannot be
/// resolved without the API and are left out with a note.
fn expand(file: &OwnersFile, aliases: &Aliases, path: &str, notes: &mut Vec<Problem>) -> Owners {
    let mut expand_list = |list: &[String]| -> BTreeSet<String> {
        let mut logins = BTreeSet::new();
        for entry in list {
            if let Some(members) = aliases.get(entry) {
                logins.extend(members.iter().cloned());
            } else if entry.contains('/') {
                notes.push(Problem {
                    path: path.to_string(),
                    line: 0,
                    message: format!(
                        "team `{entry}` is not supported (list its members or use {OWNERS_ALIASES}); left out"
                    ),
                });
            } else {
                logins.insert(entry.clone());
            }
        }
        logins
    };
    Owners {
        approvers: expand_list(&file.approvers),
        reviewers: expand_list(&file.reviewers),
        no_parent_owners: file.no_parent_owners,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn set(logins: &[&str]) -> BTreeSet<String> {
        logins.iter().map(ToString::to_string).collect()
    }

    fn tree(files: &[(&str, &str)], paths: &[&str]) -> OwnersTree {
        let files: HashMap<String, String> = files
            .iter()
            .map(|(p, t)| ((*p).to_string(), (*t).to_string()))
            .collect();
        let paths: Vec<String> = paths.iter().map(ToString::to_string).collect();
        OwnersTree::load(&paths, &mut |p| Ok(files.get(p).cloned()))
    }

    #[test]
    fn ancestors_climb_to_the_root() {
        assert_eq!(ancestors("a/b/c.rs"), ["a/b", "a", ""]);
        assert_eq!(ancestors("README.md"), [""]);
        assert_eq!(ancestors(""), [""]);
        assert_eq!(ancestors("a//b/"), ["a", ""]);
        assert_eq!(owners_path(""), "OWNERS");
        assert_eq!(owners_path("a/b"), "a/b/OWNERS");
    }

    #[test]
    fn logins_are_normalised() {
        let file = parse_owners(
            "OWNERS",
            "approvers:\n  - '@Alice'\n  - ' bob '\n  - ''\n  -\nreviewers: [Carol]\n",
        )
        .expect("valid");
        assert_eq!(file.approvers, ["alice", "bob"]);
        assert_eq!(file.reviewers, ["carol"]);
        assert!(!file.no_parent_owners);
    }

    #[test]
    fn options_filters_and_unknown_keys() {
        let text = "approvers: [a]\noptions:\n  no_parent_owners: true\nlabels: [x]\nfilters:\n  '.*':\n    approvers: [b]\n  '\\.go$':\n    approvers: [c]\naprovers: [d]\n";
        let file = parse_owners("x/OWNERS", text).expect("valid");
        assert_eq!(file.approvers, ["a", "b"]);
        assert!(file.no_parent_owners);
        let notes: Vec<String> = file.notes.iter().map(ToString::to_string).collect();
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(
            notes[0].contains("line 8") && notes[0].contains("not applied"),
            "{notes:?}"
        );
        assert!(
            notes[1].contains("line 10") && notes[1].contains("`aprovers`"),
            "{notes:?}"
        );
    }

    #[test]
    fn empty_files_are_empty_owners() {
        assert_eq!(parse_owners("OWNERS", ""), Ok(OwnersFile::default()));
        assert_eq!(
            parse_owners("OWNERS", "# nobody\n"),
            Ok(OwnersFile::default())
        );
        assert_eq!(
            parse_owners("OWNERS", "approvers:\nreviewers:\noptions:\n"),
            Ok(OwnersFile::default())
        );
    }

    #[test]
    fn malformed_files_name_their_line() {
        let cases = [
            ("approvers: [a\nreviewers: b\n", 2, ""),
            ("approvers: alice\n", 1, "must be a list"),
            ("approvers:\n  - [x]\n", 2, "must be a login"),
            ("- alice\n", 1, "expected a mapping"),
            ("options:\n  no_parent_owners: yes\n", 2, "true or false"),
            (
                "options: [no_parent_owners]\n",
                1,
                "`options` must be a mapping",
            ),
            ("approvers: [a]\napprovers: [b]\n", 2, ""),
        ];
        for (text, line, message) in cases {
            let problem = parse_owners("a/OWNERS", text).expect_err(text);
            assert_eq!(problem.line, line, "{text:?}: {problem}");
            assert!(problem.message.contains(message), "{text:?}: {problem}");
            assert!(
                problem.to_string().starts_with("`a/OWNERS` line"),
                "{problem}"
            );
        }
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a: &a [x,x,x,x,x,x,x,x,x]\n");
        for (prev, name) in ["a", "b", "c", "d", "e", "f"]
            .iter()
            .zip(["b", "c", "d", "e", "f", "g"])
        {
            text.push_str(&format!(
                "{name}: &{name} [{}]\n",
                vec![format!("*{prev}"); 9].join(",")
            ));
        }
        text.push_str("approvers: *g\n");
        assert!(parse_owners("OWNERS", &text).is_err());
    }

    #[test]
    fn aliases_parse_and_expand() {
        let aliases =
            parse_aliases("aliases:\n  Sig-Docs: [Ann, '@bo']\n  empty:\n").expect("valid");
        assert_eq!(aliases.get("sig-docs"), Some(&set(&["ann", "bo"])));
        assert_eq!(aliases.get("empty"), Some(&BTreeSet::new()));
        assert!(parse_aliases("aliases: [a]\n").is_err_and(|p| p.line == 1));

        let t = tree(
            &[
                ("OWNERS", "approvers: [sig-docs, org/team]\n"),
                ("OWNERS_ALIASES", "aliases:\n  sig-docs: [ann, bo]\n"),
            ],
            &["a.md"],
        );
        assert_eq!(t.coverage("a.md").approvers, set(&["ann", "bo"]));
        assert!(
            t.problems
                .iter()
                .any(|p| p.message.contains("team `org/team`"))
        );
    }

    #[test]
    fn coverage_climbs_until_no_parent_owners() {
        let t = tree(
            &[
                ("OWNERS", "approvers: [root]\nreviewers: [r0]\n"),
                ("a/OWNERS", "approvers: [ann]\n"),
                ("a/b/OWNERS", "reviewers: [rb]\n"),
                (
                    "c/OWNERS",
                    "approvers: [cy]\noptions: {no_parent_owners: true}\n",
                ),
                (
                    "d/OWNERS",
                    "reviewers: [dee]\noptions: {no_parent_owners: true}\n",
                ),
            ],
            &["a/b/x.rs", "c/y.rs", "d/z.rs", "top.rs", "e/f/g.rs"],
        );
        let abx = t.coverage("a/b/x.rs");
        assert_eq!(abx.unit.as_deref(), Some("a"));
        assert_eq!(abx.leaf_approvers, set(&["ann"]));
        assert_eq!(abx.approvers, set(&["ann", "root"]));
        assert_eq!(abx.reviewers, set(&["ann", "r0", "rb", "root"]));
        let cy = t.coverage("c/y.rs");
        assert_eq!(cy.approvers, set(&["cy"]));
        let dz = t.coverage("d/z.rs");
        assert_eq!(dz.unit, None);
        assert_eq!(dz.reviewers, set(&["dee"]));
        assert_eq!(t.coverage("top.rs").unit.as_deref(), Some(""));
        assert_eq!(t.coverage("e/f/g.rs").unit.as_deref(), Some(""));
        assert!(t.any_owners());
        assert!(t.problems.is_empty(), "{:?}", t.problems);
    }

    #[test]
    fn paths_are_case_sensitive() {
        let t = tree(
            &[("Docs/OWNERS", "approvers: [ann]\n")],
            &["docs/a.md", "Docs/b.md"],
        );
        assert_eq!(t.coverage("docs/a.md").unit, None);
        assert_eq!(t.coverage("Docs/b.md").unit.as_deref(), Some("Docs"));
    }

    #[test]
    fn malformed_files_are_ignored_and_reported() {
        let t = tree(
            &[
                ("OWNERS", "approvers: [root]\n"),
                (
                    "a/OWNERS",
                    "approvers: [ann\noptions: {no_parent_owners: true}\n",
                ),
                ("OWNERS_ALIASES", "aliases: 7\n"),
            ],
            &["a/x.rs"],
        );
        assert_eq!(t.coverage("a/x.rs").approvers, set(&["root"]));
        let problems: Vec<String> = t.problems.iter().map(ToString::to_string).collect();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("`a/OWNERS` line") && p.ends_with("ignored"))
        );
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("`OWNERS_ALIASES` line 1"))
        );
    }

    #[test]
    fn read_errors_are_reported() {
        let paths = vec!["x.rs".to_string()];
        let t = OwnersTree::load(&paths, &mut |p| {
            if p == "OWNERS" {
                Err("`OWNERS` is not UTF-8".into())
            } else {
                Ok(None)
            }
        });
        assert!(!t.any_owners());
        assert_eq!(t.problems.len(), 1);
        assert!(t.problems[0].to_string().contains("not UTF-8"));
    }

    #[test]
    fn each_folder_is_read_once() {
        let mut reads = Vec::new();
        let paths: Vec<String> = ["a/1", "a/2", "a/b/3", "4"]
            .iter()
            .map(ToString::to_string)
            .collect();
        OwnersTree::load(&paths, &mut |p| {
            reads.push(p.to_string());
            Ok(None)
        });
        assert_eq!(reads, ["a/OWNERS", "OWNERS", "a/b/OWNERS"]);
    }
}
