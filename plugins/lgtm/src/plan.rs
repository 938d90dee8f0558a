//! The lgtm plugin's decision: what an event asks for, whether its author
//! may, and the label and comment that follow. Pure: the glue in `lib.rs`
//! asks the host and hands the answers in (lazily, as closures, so the
//! forge and the OWNERS files are only asked when the answer matters).

use andon_pdk::RepoPermission;
use andon_pdk::types::{Action, PluginError};
use serde::Deserialize;

/// The JSON Schema of `with:`, published in the manifest.
pub const SCHEMA: &str = r#"{
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "label": { "type": "string", "minLength": 1, "default": "lgtm" },
    "permission": {
      "enum": ["read", "triage", "write", "maintain", "admin"],
      "default": "write"
    },
    "owners": { "type": "boolean", "default": false },
    "review_acts_as_lgtm": { "type": "boolean", "default": true },
    "sticky_on_push": { "type": "boolean", "default": false }
  }
}"#;

/// `with:` as written.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawConfig {
    pub label: String,
    pub permission: String,
    pub owners: bool,
    pub review_acts_as_lgtm: bool,
    pub sticky_on_push: bool,
}

impl Default for RawConfig {
    fn default() -> Self {
        RawConfig {
            label: "lgtm".into(),
            permission: "write".into(),
            owners: false,
            review_acts_as_lgtm: true,
            sticky_on_push: false,
        }
    }
}

/// A validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub label: String,
    /// The repository permission that lets someone change LGTM.
    pub permission: RepoPermission,
    /// Reviewers and approvers in OWNERS files covering a changed file may
    /// too.
    pub owners: bool,
    pub review_acts_as_lgtm: bool,
    /// Keep the label when new commits are pushed.
    pub sticky_on_push: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config::try_from(RawConfig::default()).expect("the defaults are valid")
    }
}

impl Config {
    /// Parses and checks the invocation's `with:`.
    pub fn parse(json: &str) -> Result<Config, PluginError> {
        andon_pdk::checked_config::<RawConfig, Config>(json)
    }
}

impl TryFrom<RawConfig> for Config {
    type Error = String;

    fn try_from(raw: RawConfig) -> Result<Config, String> {
        let label = andon_pdk::non_empty(&raw.label, "with.label")?;
        let permission = match RepoPermission::parse(&raw.permission) {
            RepoPermission::None => {
                return Err(format!(
                    "`with.permission` must be read, triage, write, maintain or admin, not `{}`",
                    raw.permission
                ));
            }
            permission => permission,
        };
        Ok(Config {
            label,
            permission,
            owners: raw.owners,
            review_acts_as_lgtm: raw.review_acts_as_lgtm,
            sticky_on_push: raw.sticky_on_push,
        })
    }
}

/// What an event asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    /// `/lgtm`, `/lgtm no-issue` or an approving review.
    Add,
    /// `/lgtm cancel` or a review requesting changes.
    Remove,
    /// `/lgtm` with arguments it does not take, as written.
    Usage(String),
}

impl Intent {
    /// The intent of `/lgtm ARGS`.
    pub fn of_command(args: &[String]) -> Intent {
        let words: Vec<String> = args.iter().map(|a| a.to_lowercase()).collect();
        match words.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            [] | ["no-issue"] => Intent::Add,
            ["cancel"] => Intent::Remove,
            _ => Intent::Usage(args.join(" ")),
        }
    }

    /// The intent of a review in `state`, when reviews count.
    pub fn of_review(state: &str, cfg: &Config) -> Option<Intent> {
        if !cfg.review_acts_as_lgtm {
            return None;
        }
        match state.to_ascii_lowercase().as_str() {
            "approved" => Some(Intent::Add),
            "changes_requested" => Some(Intent::Remove),
            _ => None,
        }
    }
}

/// Whether the actor may do what they asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Prow's rule: nobody LGTMs their own pull request.
    OwnPullRequest,
    /// Neither the permission nor (with `owners`) an OWNERS listing.
    NotPermitted,
    /// The pull request's author could not be found, so the rule above
    /// cannot be checked.
    UnknownAuthor,
}

/// Who is asking, and what the host knows about them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// Normalised login.
    pub login: String,
    pub permission: RepoPermission,
}

/// May `actor` add LGTM? `author` gives the pull request's author (`None`
/// when it is not known); `listed` whether the actor is a reviewer or
/// approver in an OWNERS file covering a changed file.
pub fn may_add(
    actor: &Actor,
    cfg: &Config,
    author: impl FnOnce() -> Option<String>,
    listed: impl FnOnce() -> bool,
) -> Verdict {
    match author() {
        None => Verdict::UnknownAuthor,
        Some(author) if author == actor.login => Verdict::OwnPullRequest,
        Some(_) if permitted(actor, cfg, listed) => Verdict::Allowed,
        Some(_) => Verdict::NotPermitted,
    }
}

/// May `actor` remove LGTM? Whoever may add it, and the pull request's
/// author.
pub fn may_remove(
    actor: &Actor,
    cfg: &Config,
    author: impl FnOnce() -> Option<String>,
    listed: impl FnOnce() -> bool,
) -> Verdict {
    if permitted(actor, cfg, listed) || author().is_some_and(|a| a == actor.login) {
        Verdict::Allowed
    } else {
        Verdict::NotPermitted
    }
}

fn permitted(actor: &Actor, cfg: &Config, listed: impl FnOnce() -> bool) -> bool {
    actor.permission >= cfg.permission || (cfg.owners && listed())
}

/// The actions for `intent` by `actor` with `verdict`; `labelled` says
/// whether the pull request has the label now.
pub fn actions(
    intent: &Intent,
    verdict: &Verdict,
    actor: &Actor,
    labelled: bool,
    cfg: &Config,
) -> Vec<Action> {
    let who = &actor.login;
    let label = &cfg.label;
    let mut actions = Vec::new();
    let message = match (intent, verdict) {
        (Intent::Usage(args), _) => {
            format!("@{who}: `/lgtm {args}` is not understood; usage: `/lgtm [cancel]`.")
        }
        (Intent::Add, Verdict::Allowed) => {
            if !labelled {
                actions.push(Action::AddLabel(label.clone()));
            }
            format!(
                "LGTM from @{who}: the pull request has the `{label}` label. `/lgtm cancel` removes it."
            )
        }
        (Intent::Remove, Verdict::Allowed) => {
            if labelled {
                actions.push(Action::RemoveLabel(label.clone()));
            }
            format!("@{who} cancelled LGTM: the `{label}` label is removed.")
        }
        (Intent::Add, Verdict::OwnPullRequest) => format!(
            "@{who}: you cannot LGTM your own PR. {}",
            who_may(cfg, "Someone with", "can.")
        ),
        (Intent::Add, Verdict::UnknownAuthor) => format!(
            "@{who}: LGTM not added: the pull request's author could not be found (is it still open?), so andon cannot check that you are not LGTMing your own PR."
        ),
        (Intent::Add, _) => format!(
            "@{who}: adding LGTM needs {}.",
            who_may(cfg, "", &format!("(you have `{}`)", actor.permission))
        ),
        (Intent::Remove, _) => format!(
            "@{who}: cancelling LGTM needs {}, or being the pull request's author.",
            who_may(cfg, "", &format!("(you have `{}`)", actor.permission))
        ),
    };
    actions.push(Action::Comment(message));
    actions
}

/// "`write` permission on the repository [or being listed …]", between
/// `before` and `after`.
fn who_may(cfg: &Config, before: &str, after: &str) -> String {
    let owners = if cfg.owners {
        " or a listing as reviewer or approver in an OWNERS file covering a changed file"
    } else {
        ""
    };
    let text = format!(
        "`{}` permission on the repository{owners} {after}",
        cfg.permission
    );
    if before.is_empty() {
        text
    } else {
        format!("{before} {text}")
    }
}

/// The actions for a new push: the label goes unless it is sticky.
pub fn on_push(labelled: bool, cfg: &Config) -> Vec<Action> {
    if cfg.sticky_on_push || !labelled {
        return Vec::new();
    }
    vec![
        Action::RemoveLabel(cfg.label.clone()),
        Action::Comment(format!(
            "New commits were pushed: the `{}` label is removed. A reviewer can `/lgtm` again.",
            cfg.label
        )),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(login: &str, permission: RepoPermission) -> Actor {
        Actor {
            login: login.into(),
            permission,
        }
    }

    fn author(login: &str) -> impl FnOnce() -> Option<String> {
        let login = login.to_string();
        move || Some(login)
    }

    fn comment(actions: &[Action]) -> &str {
        match actions.last() {
            Some(Action::Comment(body)) => body,
            other => panic!("expected a comment last, got {other:?}"),
        }
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn intents() {
        assert_eq!(Intent::of_command(&[]), Intent::Add);
        assert_eq!(Intent::of_command(&strings(&["No-Issue"])), Intent::Add);
        assert_eq!(Intent::of_command(&strings(&["Cancel"])), Intent::Remove);
        assert_eq!(
            Intent::of_command(&strings(&["cancel", "x"])),
            Intent::Usage("cancel x".into())
        );
        let cfg = Config::default();
        assert_eq!(Intent::of_review("APPROVED", &cfg), Some(Intent::Add));
        assert_eq!(
            Intent::of_review("changes_requested", &cfg),
            Some(Intent::Remove)
        );
        assert_eq!(Intent::of_review("commented", &cfg), None);
        let off = Config {
            review_acts_as_lgtm: false,
            ..Config::default()
        };
        assert_eq!(Intent::of_review("approved", &off), None);
    }

    #[test]
    fn adding_needs_permission_and_someone_elses_pr() {
        let cfg = Config::default();
        let writer = actor("wes", RepoPermission::Write);
        let reader = actor("rita", RepoPermission::Read);
        let unlisted = || false;
        assert_eq!(
            may_add(&writer, &cfg, author("zed"), unlisted),
            Verdict::Allowed
        );
        assert_eq!(
            may_add(&writer, &cfg, author("wes"), unlisted),
            Verdict::OwnPullRequest
        );
        assert_eq!(
            may_add(&writer, &cfg, || None, unlisted),
            Verdict::UnknownAuthor
        );
        assert_eq!(
            may_add(&reader, &cfg, author("zed"), unlisted),
            Verdict::NotPermitted
        );
        // OWNERS listings count only when `owners` is on.
        assert_eq!(
            may_add(&reader, &cfg, author("zed"), || true),
            Verdict::NotPermitted
        );
        let owners = Config {
            owners: true,
            ..Config::default()
        };
        assert_eq!(
            may_add(&reader, &owners, author("zed"), || true),
            Verdict::Allowed
        );
        let admins = Config {
            permission: RepoPermission::Admin,
            ..Config::default()
        };
        assert_eq!(
            may_add(&writer, &admins, author("zed"), unlisted),
            Verdict::NotPermitted
        );
    }

    #[test]
    fn removing_is_also_the_authors() {
        let cfg = Config::default();
        let reader = actor("rita", RepoPermission::Read);
        assert_eq!(
            may_remove(&reader, &cfg, author("rita"), || false),
            Verdict::Allowed
        );
        assert_eq!(
            may_remove(&reader, &cfg, author("zed"), || false),
            Verdict::NotPermitted
        );
        assert_eq!(
            may_remove(&reader, &cfg, || None, || false),
            Verdict::NotPermitted
        );
        let writer = actor("wes", RepoPermission::Write);
        let never = || -> Option<String> { panic!("the author is not needed") };
        assert_eq!(may_remove(&writer, &cfg, never, || false), Verdict::Allowed);
    }

    #[test]
    fn actions_and_messages() {
        let cfg = Config::default();
        let wes = actor("wes", RepoPermission::Write);
        let add = actions(&Intent::Add, &Verdict::Allowed, &wes, false, &cfg);
        assert!(matches!(&add[0], Action::AddLabel(l) if l == "lgtm"));
        assert!(comment(&add).starts_with("LGTM from @wes"));
        assert_eq!(
            actions(&Intent::Add, &Verdict::Allowed, &wes, true, &cfg).len(),
            1
        );
        let remove = actions(&Intent::Remove, &Verdict::Allowed, &wes, true, &cfg);
        assert!(matches!(&remove[0], Action::RemoveLabel(l) if l == "lgtm"));
        assert_eq!(
            actions(&Intent::Remove, &Verdict::Allowed, &wes, false, &cfg).len(),
            1
        );

        let own = actions(&Intent::Add, &Verdict::OwnPullRequest, &wes, false, &cfg);
        assert_eq!(
            comment(&own),
            "@wes: you cannot LGTM your own PR. Someone with `write` permission on the repository can."
        );
        let rita = actor("rita", RepoPermission::Read);
        let denied = actions(&Intent::Add, &Verdict::NotPermitted, &rita, false, &cfg);
        assert_eq!(denied.len(), 1);
        assert_eq!(
            comment(&denied),
            "@rita: adding LGTM needs `write` permission on the repository (you have `read`)."
        );
        let owners = Config {
            owners: true,
            ..Config::default()
        };
        let denied = actions(
            &Intent::Remove,
            &Verdict::NotPermitted,
            &rita,
            true,
            &owners,
        );
        assert!(comment(&denied).contains("OWNERS file"), "{denied:?}");
        assert!(comment(&denied).ends_with("or being the pull request's author."));
        let usage = actions(
            &Intent::Usage("now".into()),
            &Verdict::Allowed,
            &rita,
            false,
            &cfg,
        );
        assert!(comment(&usage).contains("usage: `/lgtm [cancel]`"));
        let unknown = actions(&Intent::Add, &Verdict::UnknownAuthor, &wes, false, &cfg);
        assert!(comment(&unknown).contains("author could not be found"));
    }

    #[test]
    fn pushes_remove_the_label_unless_sticky() {
        let cfg = Config::default();
        assert!(on_push(false, &cfg).is_empty());
        let pushed = on_push(true, &cfg);
        assert!(matches!(&pushed[0], Action::RemoveLabel(l) if l == "lgtm"));
        let sticky = Config {
            sticky_on_push: true,
            ..Config::default()
        };
        assert!(on_push(true, &sticky).is_empty());
    }

    #[test]
    fn config() {
        let cfg = Config::parse(
            r#"{"label": "looks-good", "permission": "maintain", "owners": true, "review_acts_as_lgtm": false, "sticky_on_push": true}"#,
        )
        .expect("valid");
        assert_eq!(cfg.label, "looks-good");
        assert_eq!(cfg.permission, RepoPermission::Maintain);
        assert!(cfg.owners && cfg.sticky_on_push && !cfg.review_acts_as_lgtm);
        assert_eq!(Config::parse("{}").expect("valid"), Config::default());
        let invalid = |json: &str| match Config::parse(json) {
            Err(PluginError::InvalidConfig(m)) => m,
            other => panic!("expected invalid-config for {json}, got {other:?}"),
        };
        assert!(invalid(r#"{"permision": "write"}"#).contains("permision"));
        assert!(invalid(r#"{"permission": "owner"}"#).contains("`owner`"));
        assert!(invalid(r#"{"label": ""}"#).contains("with.label"));
        assert!(invalid(r#"{"owners": "yes"}"#).contains("with.owners"));
    }
}
