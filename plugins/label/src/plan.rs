//! The label plugin's decision: which labels a `/label` or `/remove-label`
//! command changes, which it refuses and why, and the comment that
//! explains the refusals. Pure: no host calls.

use andon_pdk::RepoPermission;

use crate::config::{Config, Pattern};

/// Add or remove.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Add,
    Remove,
}

/// A label change the plugin asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Act {
    AddLabel(String),
    RemoveLabel(String),
}

/// Why a requested label was not changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No `allowed` or `restricted` pattern matches; maybe a typo of
    /// `suggestion`.
    NotAllowed { suggestion: Option<String> },
    /// A `restricted` label the author lacks the permission for.
    Restricted {
        needed: RepoPermission,
        have: RepoPermission,
    },
    /// `/remove-label` of a label the pull request does not have.
    NotPresent,
}

/// What one command comes to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub acts: Vec<Act>,
    /// Each refused label as typed, with the reason.
    pub refused: Vec<(String, Refusal)>,
}

/// Splits the command's arguments into labels. Arguments arrive split on
/// white space, so they are joined again and read with double quotes
/// grouping: `/label "help wanted" kind/bug`.
pub fn labels_of(args: &[String]) -> Vec<String> {
    let line = args.join(" ");
    let mut labels: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut push = |current: &mut String| {
        let label = current.trim().to_string();
        current.clear();
        if !label.is_empty() && !labels.iter().any(|l| l.eq_ignore_ascii_case(&label)) {
            labels.push(label);
        }
    };
    for c in line.chars() {
        match c {
            '"' => {
                push(&mut current);
                quoted = !quoted;
            }
            c if c.is_whitespace() && !quoted => push(&mut current),
            c => current.push(c),
        }
    }
    push(&mut current);
    labels
}

/// Decides a command on a pull request that has `present` labels, typed by
/// an author with `permission`.
pub fn plan(
    verb: Verb,
    requested: &[String],
    present: &[String],
    permission: RepoPermission,
    cfg: &Config,
) -> Plan {
    let mut plan = Plan::default();
    for label in requested {
        let spelled = match resolve(label, permission, cfg) {
            Ok(spelled) => spelled,
            Err(refusal) => {
                let refusal = match refusal {
                    Refusal::NotAllowed { .. } => Refusal::NotAllowed {
                        suggestion: suggest(label, verb, present, cfg),
                    },
                    other => other,
                };
                plan.refused.push((label.clone(), refusal));
                continue;
            }
        };
        let on_pull_request = present.iter().find(|p| p.eq_ignore_ascii_case(&spelled));
        let act = match (verb, on_pull_request) {
            // Already there: nothing to do, nothing to complain about.
            (Verb::Add, Some(_)) => continue,
            (Verb::Add, None) => Act::AddLabel(spelled),
            (Verb::Remove, Some(existing)) => Act::RemoveLabel(existing.clone()),
            (Verb::Remove, None) => {
                plan.refused.push((label.clone(), Refusal::NotPresent));
                continue;
            }
        };
        if !plan.acts.contains(&act) {
            plan.acts.push(act);
        }
    }
    plan
}

/// The label in its configured spelling, or why it may not be used. A
/// restricted label needs its permission even when `allowed` also lists it,
/// and is usable by those who have it even when `allowed` does not.
fn resolve(label: &str, permission: RepoPermission, cfg: &Config) -> Result<String, Refusal> {
    for (pattern, needed) in &cfg.restricted {
        if let Some(spelled) = pattern.apply(label) {
            return if permission >= *needed {
                Ok(spelled)
            } else {
                Err(Refusal::Restricted {
                    needed: *needed,
                    have: permission,
                })
            };
        }
    }
    cfg.allowed
        .iter()
        .find_map(|pattern| pattern.apply(label))
        .ok_or(Refusal::NotAllowed { suggestion: None })
}

/// The closest usable label to a mistyped one, if one is close enough.
fn suggest(label: &str, verb: Verb, present: &[String], cfg: &Config) -> Option<String> {
    let patterns = cfg
        .allowed
        .iter()
        .chain(cfg.restricted.iter().map(|(p, _)| p));
    let mut candidates: Vec<String> = Vec::new();
    for pattern in patterns {
        match pattern {
            Pattern::Exact(name) => candidates.push(name.clone()),
            // `kidn/bug` against `kind/*`: keep the typed rest after the
            // first `/` and offer the configured prefix.
            Pattern::Prefix(prefix) if prefix.ends_with('/') => {
                if let Some((_, rest)) = label.split_once('/')
                    && !rest.is_empty()
                {
                    candidates.push(format!("{prefix}{rest}"));
                }
            }
            Pattern::Prefix(_) => {}
        }
    }
    if verb == Verb::Remove {
        candidates.extend(present.iter().cloned());
    }
    let typed = label.to_lowercase();
    let limit = 2.max(typed.chars().count() / 4);
    candidates
        .into_iter()
        .map(|c| (distance(&typed, &c.to_lowercase()), c))
        .filter(|(d, _)| *d > 0 && *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance over characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// The sticky comment explaining what `author` asked for and what was
/// refused. Only written when something was refused.
pub fn render(command: &str, author: &str, plan: &Plan, cfg: &Config) -> String {
    let mut out = format!("@{author}: `/{command}` did not change every label.\n\n");
    if !plan.acts.is_empty() {
        let done: Vec<String> = plan
            .acts
            .iter()
            .map(|a| match a {
                Act::AddLabel(l) => format!("added `{}`", code(l)),
                Act::RemoveLabel(l) => format!("removed `{}`", code(l)),
            })
            .collect();
        out.push_str(&format!("Done: {}.\n\n", done.join(", ")));
    }
    for (label, refusal) in &plan.refused {
        let label = code(label);
        let line = match refusal {
            Refusal::NotAllowed {
                suggestion: Some(s),
            } => format!(
                "- `{label}`: not a label this repository allows. Did you mean `{}`?",
                code(s)
            ),
            Refusal::NotAllowed { suggestion: None } => {
                format!("- `{label}`: not a label this repository allows.")
            }
            Refusal::Restricted { needed, have } => format!(
                "- `{label}`: only people with the `{needed}` permission or higher may change \
                 it (yours is `{have}`)."
            ),
            Refusal::NotPresent => format!("- `{label}`: not on this pull request."),
        };
        out.push_str(&line);
        out.push('\n');
    }
    let allowed: Vec<String> = cfg
        .allowed
        .iter()
        .map(|p| format!("`{}`", code(&p.text())))
        .collect();
    if allowed.is_empty() {
        out.push_str("\nNo labels are open to `/label` here.");
    } else {
        out.push_str(&format!(
            "\nLabels open to everyone: {}.",
            allowed.join(", ")
        ));
    }
    if !cfg.restricted.is_empty() {
        let restricted: Vec<String> = cfg
            .restricted
            .iter()
            .map(|(p, needed)| format!("`{}` ({needed})", code(&p.text())))
            .collect();
        out.push_str(&format!("\nRestricted: {}.", restricted.join(", ")));
    }
    out.push_str(" Put a label with spaces in double quotes: `/label \"help wanted\"`.\n");
    out
}

/// Text safe inside a Markdown code span.
fn code(text: &str) -> String {
    text.replace('`', "'")
}

#[cfg(test)]
mod tests {
    use andon_pdk::parse_config;

    use super::*;
    use crate::config::RawConfig;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(ToString::to_string).collect()
    }

    fn config(json: &str) -> Config {
        let raw: RawConfig = parse_config(json).expect("valid json");
        Config::try_from(raw).expect("valid config")
    }

    #[test]
    fn quotes_group_labels_and_duplicates_go() {
        assert_eq!(
            labels_of(&strings(&[
                "\"help", "wanted\"", "kind/bug", "KIND/BUG", "\"\""
            ])),
            ["help wanted", "kind/bug"]
        );
        assert_eq!(
            labels_of(&strings(&["\"good", "first", "issue"])),
            ["good first issue"]
        );
        assert!(labels_of(&[]).is_empty());
    }

    #[test]
    fn distance_counts_edits() {
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "ab"), 2);
        assert_eq!(distance("kind/bgu", "kind/bug"), 2);
    }

    #[test]
    fn prefix_patterns_keep_the_configured_prefix() {
        let p = Pattern::parse("Kind/*").expect("valid");
        assert_eq!(p.apply("kind/Bug").as_deref(), Some("Kind/Bug"));
        assert_eq!(p.apply("kind/"), None);
        assert_eq!(p.apply("kin"), None);
        // Multi-byte text cut inside a character does not panic.
        assert_eq!(p.apply("ü/ü"), None);
        let any = Pattern::parse("*").expect("valid");
        assert_eq!(any.apply("whatever").as_deref(), Some("whatever"));
        assert!(Pattern::parse("k*d").is_err());
        assert!(Pattern::parse(" ").is_err());
    }

    #[test]
    fn suggestions_for_typos() {
        let cfg = Config::default();
        let p = plan(
            Verb::Add,
            &strings(&["kidn/bug", "help-wanted", "zzz"]),
            &[],
            RepoPermission::Read,
            &cfg,
        );
        assert!(p.acts.is_empty());
        let suggestions: Vec<Option<String>> = p
            .refused
            .iter()
            .map(|(_, r)| match r {
                Refusal::NotAllowed { suggestion } => suggestion.clone(),
                _ => None,
            })
            .collect();
        assert_eq!(
            suggestions,
            [Some("kind/bug".into()), Some("help wanted".into()), None]
        );
    }

    #[test]
    fn render_lists_each_refusal() {
        let cfg = config(r#"{"allowed": ["kind/*"], "restricted": {"approved": "maintain"}}"#);
        let p = plan(
            Verb::Add,
            &strings(&["kind/bug", "approved", "bgu"]),
            &[],
            RepoPermission::Write,
            &cfg,
        );
        let text = render("label", "alice", &p, &cfg);
        assert!(text.starts_with("@alice: `/label`"), "{text}");
        assert!(text.contains("Done: added `kind/bug`."), "{text}");
        assert!(
            text.contains("`approved`: only people with the `maintain`"),
            "{text}"
        );
        assert!(text.contains("(yours is `write`)"), "{text}");
        assert!(
            text.contains("`bgu`: not a label this repository allows."),
            "{text}"
        );
        assert!(
            text.contains("Restricted: `approved` (maintain)."),
            "{text}"
        );
    }
}
