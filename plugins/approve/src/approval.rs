//! The approve plugin's decision: which OWNERS units of a pull request
//! have an approval, whom to ask for the rest, and what a command changes.
//! Pure: the glue in `lib.rs` reads the host and hands the facts in.

use std::collections::{BTreeMap, BTreeSet};

use andon_pdk::RepoPermission;

use crate::owners::{Coverage, OwnersTree};
use crate::state::State;

/// `/approve`'s arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `/approve` or `/approve no-issue` (Prow's way of saying the change
    /// needs no linked issue; andon requires none, so it is the same).
    Approve,
    /// `/approve cancel`.
    Cancel,
    /// Anything else, as written.
    Unknown(String),
}

impl Command {
    pub fn parse(args: &[String]) -> Command {
        let words: Vec<String> = args.iter().map(|a| a.to_lowercase()).collect();
        match words.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            [] | ["no-issue"] => Command::Approve,
            ["cancel"] => Command::Cancel,
            _ => Command::Unknown(args.join(" ")),
        }
    }
}

/// The files of a pull request grouped by the OWNERS file that approves
/// them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Units {
    /// Folder of the nearest OWNERS file with approvers, to its files and
    /// who covers them (the same for every file of a unit).
    pub owned: BTreeMap<String, Unit>,
    /// Files no OWNERS file lists approvers for.
    pub unowned: Vec<String>,
}

/// The files one OWNERS file approves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unit {
    pub files: Vec<String>,
    pub coverage: Coverage,
}

impl Units {
    /// Groups `paths` by their approving OWNERS file. No paths (an empty
    /// change) is one unit: the root's, with no files.
    pub fn new(paths: &[String], tree: &OwnersTree) -> Units {
        let mut units = Units::default();
        if paths.is_empty() {
            let coverage = tree.coverage("");
            match coverage.unit.clone() {
                Some(dir) => {
                    units.owned.insert(
                        dir,
                        Unit {
                            files: Vec::new(),
                            coverage,
                        },
                    );
                }
                None => units.unowned.push(String::new()),
            }
        }
        for path in paths {
            let coverage = tree.coverage(path);
            match coverage.unit.clone() {
                Some(dir) => units
                    .owned
                    .entry(dir)
                    .or_insert_with(|| Unit {
                        files: Vec::new(),
                        coverage,
                    })
                    .files
                    .push(path.clone()),
                None => units.unowned.push(path.clone()),
            }
        }
        units
    }

    /// Whether `login` may approve some of the files: an approver of a
    /// unit, or (for files no OWNERS file covers) someone with `fallback`.
    pub fn may_approve(
        &self,
        login: &str,
        permission: RepoPermission,
        fallback: Option<RepoPermission>,
    ) -> bool {
        self.owned
            .values()
            .any(|u| u.coverage.approvers.contains(login))
            || (!self.unowned.is_empty() && fallback.is_some_and(|need| permission >= need))
    }
}

/// The approve plugin's settings that the decision needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    pub implicit_self_approve: bool,
    /// Who may approve files no OWNERS file covers; `None`: nobody.
    pub fallback: Option<RepoPermission>,
}

/// One approver as the comment shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approver {
    pub login: String,
    /// The author, approving by opening the pull request.
    pub implicit: bool,
}

/// How one unit stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitStatus {
    /// The folder of the OWNERS file; `None` for files no OWNERS file
    /// covers.
    pub folder: Option<String>,
    pub files: Vec<String>,
    /// Who may approve it (empty for uncovered files: see `Rules::fallback`).
    pub approvers: BTreeSet<String>,
    /// Who did.
    pub approved_by: Vec<String>,
}

impl UnitStatus {
    pub fn approved(&self) -> bool {
        !self.approved_by.is_empty()
    }
}

/// Where a pull request stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub approvers: Vec<Approver>,
    /// Owned units by folder, then the uncovered files, if any.
    pub units: Vec<UnitStatus>,
    /// A small set of approvers who together cover every unapproved unit
    /// that approvers can cover.
    pub suggested: Vec<String>,
    pub approved: bool,
}

/// The approvals that count: the recorded ones, and the author's own when
/// they are an approver, the rules allow it and they did not cancel.
fn approvers(state: &State, author: Option<&str>, rules: Rules) -> Vec<Approver> {
    let mut approvers: Vec<Approver> = state
        .approvals
        .iter()
        .map(|a| Approver {
            login: a.login.clone(),
            implicit: false,
        })
        .collect();
    if let Some(author) = author
        && rules.implicit_self_approve
        && !state.author_cancelled
        && !state.approved_by(author)
    {
        approvers.push(Approver {
            login: author.to_string(),
            implicit: true,
        });
    }
    approvers
}

/// Where the pull request stands with `state`'s approvals.
pub fn status(units: &Units, state: &State, author: Option<&str>, rules: Rules) -> Status {
    let approvers = approvers(state, author, rules);
    let mut statuses: Vec<UnitStatus> = units
        .owned
        .iter()
        .map(|(folder, unit)| UnitStatus {
            folder: Some(folder.clone()),
            files: unit.files.clone(),
            approvers: unit.coverage.approvers.clone(),
            approved_by: approvers
                .iter()
                .filter(|a| unit.coverage.approvers.contains(&a.login))
                .map(|a| a.login.clone())
                .collect(),
        })
        .collect();
    if !units.unowned.is_empty() {
        // The author's implicit approval carries no known permission, so
        // only recorded approvals count here.
        let approved_by = rules.fallback.map_or_else(Vec::new, |need| {
            state
                .approvals
                .iter()
                .filter(|a| a.permission() >= need)
                .map(|a| a.login.clone())
                .collect()
        });
        statuses.push(UnitStatus {
            folder: None,
            files: units
                .unowned
                .iter()
                .filter(|f| !f.is_empty())
                .cloned()
                .collect(),
            approvers: BTreeSet::new(),
            approved_by,
        });
    }
    let approved = !statuses.is_empty() && statuses.iter().all(UnitStatus::approved);
    let suggested = suggest(units, &statuses, author);
    Status {
        approvers,
        units: statuses,
        suggested,
        approved,
    }
}

/// Greedy set cover, as Prow's notifier does: repeatedly the approver who
/// covers the most unapproved units, preferring one listed in the units'
/// own OWNERS files, then by name. The author is not suggested.
fn suggest(units: &Units, statuses: &[UnitStatus], author: Option<&str>) -> Vec<String> {
    let mut open: Vec<&Coverage> = statuses
        .iter()
        .filter(|s| !s.approved())
        .filter_map(|s| s.folder.as_ref())
        .filter_map(|folder| units.owned.get(folder))
        .map(|unit| &unit.coverage)
        .collect();
    let mut suggested = Vec::new();
    loop {
        let candidates: BTreeSet<&String> = open
            .iter()
            .flat_map(|c| c.approvers.iter())
            .filter(|login| Some(login.as_str()) != author)
            .collect();
        // `max_by_key` keeps the last maximum; iterate names in reverse so
        // ties go to the first name.
        let best = candidates.into_iter().rev().max_by_key(|login| {
            let covers = open.iter().filter(|c| c.approvers.contains(*login)).count();
            let leaf = open
                .iter()
                .filter(|c| c.leaf_approvers.contains(*login))
                .count();
            (covers, leaf)
        });
        let Some(best) = best.cloned() else {
            return suggested;
        };
        open.retain(|c| !c.approvers.contains(&best));
        suggested.push(best);
    }
}

/// What a command did, to tell the commenter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Their approval is recorded (or withdrawn) and the status shows it.
    Done,
    /// `/approve` from someone who approves none of the files.
    NotAnApprover,
    /// `/approve cancel` from someone who had not approved.
    NothingToCancel,
    /// Arguments `/approve` does not take.
    Unknown(String),
}

/// Applies `command` by `login` to `state`.
pub fn apply(
    command: &Command,
    login: &str,
    permission: RepoPermission,
    author: Option<&str>,
    units: &Units,
    rules: Rules,
    state: &mut State,
) -> Outcome {
    match command {
        Command::Approve if units.may_approve(login, permission, rules.fallback) => {
            state.approve(login, permission);
            if author == Some(login) {
                state.author_cancelled = false;
            }
            Outcome::Done
        }
        Command::Approve => Outcome::NotAnApprover,
        Command::Cancel => {
            let was_recorded = state.withdraw(login);
            let is_author = author == Some(login);
            if is_author {
                state.author_cancelled = true;
            }
            if was_recorded || is_author {
                Outcome::Done
            } else {
                Outcome::NothingToCancel
            }
        }
        Command::Unknown(args) => Outcome::Unknown(args.clone()),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const RULES: Rules = Rules {
        implicit_self_approve: true,
        fallback: None,
    };

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(ToString::to_string).collect()
    }

    fn units(files: &[(&str, &str)], paths: &[&str]) -> Units {
        let files: HashMap<String, String> = files
            .iter()
            .map(|(p, t)| ((*p).to_string(), (*t).to_string()))
            .collect();
        let paths = strings(paths);
        let tree = OwnersTree::load(&paths, &mut |p| Ok(files.get(p).cloned()));
        Units::new(&paths, &tree)
    }

    fn repo(paths: &[&str]) -> Units {
        units(
            &[
                ("OWNERS", "approvers: [root]\n"),
                ("api/OWNERS", "approvers: [ann, bob]\n"),
                ("web/OWNERS", "approvers: [bob, cy]\n"),
                (
                    "docs/OWNERS",
                    "approvers: [dee]\noptions: {no_parent_owners: true}\n",
                ),
            ],
            paths,
        )
    }

    fn approved_by(logins: &[&str]) -> State {
        let mut state = State::default();
        for login in logins {
            state.approve(login, RepoPermission::Write);
        }
        state
    }

    #[test]
    fn commands_parse() {
        assert_eq!(Command::parse(&[]), Command::Approve);
        assert_eq!(Command::parse(&strings(&["No-Issue"])), Command::Approve);
        assert_eq!(Command::parse(&strings(&["CANCEL"])), Command::Cancel);
        assert_eq!(
            Command::parse(&strings(&["cancel", "now"])),
            Command::Unknown("cancel now".into())
        );
    }

    #[test]
    fn every_unit_needs_an_approver() {
        let units = repo(&["api/a.rs", "web/b.ts", "docs/c.md", "README.md"]);
        let s = status(&units, &approved_by(&["bob"]), None, RULES);
        assert!(!s.approved);
        let open: Vec<Option<&str>> = s
            .units
            .iter()
            .filter(|u| !u.approved())
            .map(|u| u.folder.as_deref())
            .collect();
        // bob approves api and web; root is not under docs' no_parent_owners.
        assert_eq!(open, [Some(""), Some("docs")]);
        assert_eq!(s.suggested, ["dee", "root"]);

        let s = status(&units, &approved_by(&["root", "dee"]), None, RULES);
        assert!(s.approved, "root covers api and web from above: {s:?}");
    }

    #[test]
    fn suggestions_cover_greedily_and_skip_the_author() {
        let units = repo(&["api/a.rs", "web/b.ts"]);
        let s = status(&units, &State::default(), None, RULES);
        assert_eq!(
            s.suggested,
            ["bob"],
            "bob covers both; root too, but bob is a leaf approver"
        );
        let s = status(&units, &State::default(), Some("bob"), RULES);
        // bob is an approver of both, so his implicit approval covers them.
        assert!(s.approved);
        let cancelled = State {
            author_cancelled: true,
            ..State::default()
        };
        let s = status(&units, &cancelled, Some("bob"), RULES);
        assert!(!s.approved);
        assert_eq!(s.suggested, ["root"]);
    }

    #[test]
    fn implicit_self_approval_follows_the_rules() {
        let units = repo(&["api/a.rs"]);
        let s = status(&units, &State::default(), Some("ann"), RULES);
        assert!(s.approved);
        assert_eq!(
            s.approvers,
            [Approver {
                login: "ann".into(),
                implicit: true
            }]
        );
        let strict = Rules {
            implicit_self_approve: false,
            ..RULES
        };
        assert!(!status(&units, &State::default(), Some("ann"), strict).approved);
        // An author who approves no file approves nothing by opening it.
        assert!(!status(&units, &State::default(), Some("cy"), RULES).approved);
    }

    #[test]
    fn uncovered_files_need_the_fallback_permission() {
        let units = units(&[], &["a.rs", "b/c.rs"]);
        assert_eq!(units.unowned, ["a.rs", "b/c.rs"]);
        let mut state = State::default();
        state.approve("wes", RepoPermission::Write);
        state.approve("rita", RepoPermission::Read);
        let s = status(&units, &state, Some("wes"), RULES);
        assert!(!s.approved, "nobody may approve without OWNERS by default");
        assert!(s.suggested.is_empty());
        let writers = Rules {
            fallback: Some(RepoPermission::Write),
            ..RULES
        };
        let s = status(&units, &state, None, writers);
        assert!(s.approved);
        assert_eq!(s.units[0].approved_by, ["wes"]);
        assert!(units.may_approve("rita", RepoPermission::Maintain, writers.fallback));
        assert!(!units.may_approve("rita", RepoPermission::Read, writers.fallback));
    }

    #[test]
    fn an_empty_change_needs_a_root_approver() {
        let units = repo(&[]);
        assert!(!status(&units, &State::default(), None, RULES).approved);
        assert!(status(&units, &approved_by(&["root"]), None, RULES).approved);
        let bare = Units::new(&[], &OwnersTree::default());
        let s = status(&bare, &State::default(), None, RULES);
        assert!(!s.approved);
        assert!(s.units[0].files.is_empty());
    }

    #[test]
    fn commands_change_the_state() {
        let units = repo(&["api/a.rs"]);
        let mut state = State::default();
        let write = RepoPermission::Write;
        let run = |cmd: &Command, login: &str, state: &mut State| {
            apply(cmd, login, write, Some("ann"), &units, RULES, state)
        };
        assert_eq!(
            run(&Command::Approve, "cy", &mut state),
            Outcome::NotAnApprover
        );
        assert_eq!(run(&Command::Approve, "bob", &mut state), Outcome::Done);
        assert!(state.approved_by("bob"));
        assert_eq!(
            run(&Command::Cancel, "cy", &mut state),
            Outcome::NothingToCancel
        );
        assert_eq!(run(&Command::Cancel, "bob", &mut state), Outcome::Done);
        assert!(state.approvals.is_empty());
        assert_eq!(run(&Command::Cancel, "ann", &mut state), Outcome::Done);
        assert!(state.author_cancelled);
        assert_eq!(run(&Command::Approve, "ann", &mut state), Outcome::Done);
        assert!(!state.author_cancelled, "approving again undoes the cancel");
        let odd = Command::Unknown("lgtm".into());
        assert_eq!(
            run(&odd, "ann", &mut state),
            Outcome::Unknown("lgtm".into())
        );
    }
}
