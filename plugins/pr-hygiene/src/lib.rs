//! `pr-hygiene`: checks a pull request's title (Conventional Commits, or a
//! pattern, and a length limit), its description (not empty once the
//! template's HTML comments are gone) and, if asked, a linked issue; the
//! result is a check run with each failure and how to fix it.
//!
//! [`config`] reads `with:`, [`check`] holds the checks, [`report`] turns
//! them into the check run; this file is the glue.

pub mod check;
pub mod config;
pub mod report;

use andon_pdk::types::{
    Action, CommandInfo, EventKind, Invocation, Manifest, Permission, PluginError,
};
use andon_pdk::{Host, Plugin};

use crate::config::{Config, RawConfig};

/// The JSON Schema of `with:`, published in the manifest.
const CONFIG_SCHEMA: &str = r#"{
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "check_name": { "type": "string", "minLength": 1, "default": "pr-hygiene" },
    "conventional": { "type": "boolean", "default": true },
    "types": {
      "type": "array", "items": { "type": "string", "pattern": "^[\\w-]+$" },
      "default": ["feat", "fix", "docs", "style", "refactor", "perf", "test", "build", "ci", "chore", "revert"]
    },
    "scopes": { "type": "array", "items": { "type": "string" } },
    "require_scope": { "type": "boolean", "default": false },
    "max_title_length": { "type": ["integer", "null"], "minimum": 0, "default": 72 },
    "title_pattern": { "type": "string", "minLength": 1 },
    "title_example": { "type": "string" },
    "min_description_length": { "type": "integer", "minimum": 0, "default": 1 },
    "require_issue": { "type": "boolean", "default": false },
    "issue_keywords": {
      "type": "array", "items": { "type": "string" },
      "default": ["close", "closes", "closed", "fix", "fixes", "fixed", "resolve", "resolves", "resolved"]
    },
    "require_keyword": { "type": "boolean", "default": false },
    "issue_prefixes": { "type": "array", "items": { "type": "string", "pattern": "^[A-Za-z0-9]+$" } }
  }
}"#;

/// Pull request actions that change what is checked.
const CHECKED_ACTIONS: [&str; 4] = ["opened", "edited", "synchronize", "reopened"];

/// The plugin.
pub struct PrHygiene;

impl Plugin for PrHygiene {
    fn describe() -> Manifest {
        Manifest {
            name: "pr-hygiene".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description:
                "checks a pull request's title, description and linked issue in a check run".into(),
            events: vec![EventKind::PullRequest, EventKind::Comment],
            commands: vec![CommandInfo {
                name: "hygiene".into(),
                usage: "/hygiene".into(),
                description: "check the pull request's title again".into(),
            }],
            permissions: vec![Permission::Checks],
            config_schema: Some(CONFIG_SCHEMA.into()),
        }
    }

    fn run(inv: Invocation, host: &dyn Host) -> Result<Vec<Action>, PluginError> {
        // The config is checked on every event, so a mistake shows up early.
        let raw: RawConfig = andon_pdk::config(&inv)?;
        let cfg = Config::try_from(raw).map_err(PluginError::InvalidConfig)?;
        let event = &inv.event;
        // The description, when the event carries it: a comment event's
        // `body` is the comment, not the pull request's description.
        let body = match event.kind {
            EventKind::PullRequest => {
                let action = event.action.as_deref().unwrap_or("opened");
                if !CHECKED_ACTIONS.contains(&action) {
                    host.info(&format!("pr-hygiene: nothing to check on `{action}`"));
                    return Ok(Vec::new());
                }
                Some(event.body.as_deref().unwrap_or_default())
            }
            EventKind::Comment
                if event
                    .command
                    .as_deref()
                    .is_some_and(|c| c.eq_ignore_ascii_case("hygiene")) =>
            {
                if event.number.is_none() {
                    host.info("pr-hygiene: nothing to check: the comment is not on a pull request");
                    return Ok(Vec::new());
                }
                None
            }
            _ => {
                host.info("pr-hygiene: nothing to do for this event");
                return Ok(Vec::new());
            }
        };
        let title = event.title.as_deref().unwrap_or_default();
        let findings = report::Findings::gather(title, body, &cfg);
        Ok(vec![Action::CheckRun(report::check_run(&findings, &cfg))])
    }
}

andon_pdk::plugin!(PrHygiene);

#[cfg(test)]
mod tests {
    use andon_pdk::testing::{FakeHost, event};
    use andon_pdk::types::{Action, CheckRun, Conclusion, EventKind, Invocation, PluginError};

    use super::*;

    fn run(inv: Invocation) -> Result<Vec<Action>, PluginError> {
        <PrHygiene as Plugin>::run(inv, &FakeHost::new())
    }

    fn check(inv: Invocation) -> CheckRun {
        match run(inv).as_deref() {
            Ok([Action::CheckRun(check)]) => check.clone(),
            other => panic!("expected one check run, got {other:?}"),
        }
    }

    fn opened(title: &str, body: &str, config: &str) -> Invocation {
        event(EventKind::PullRequest)
            .number(3)
            .action("opened")
            .title(title)
            .body(body)
            .config(config)
            .build()
    }

    #[test]
    fn a_tidy_pull_request_passes() {
        let check = check(opened("feat(parser): add a cache", "Caches parses.", "{}"));
        assert_eq!(check.name, "pr-hygiene");
        assert!(matches!(check.conclusion, Conclusion::Success));
        assert_eq!(check.title, "All 3 checks pass");
        assert!(
            check.summary.contains("✅ title format"),
            "{}",
            check.summary
        );
    }

    #[test]
    fn failures_are_listed_with_their_fixes() {
        let check = check(opened(
            "Add a cache",
            "<!-- describe -->",
            r#"{"require_issue": true, "check_name": "hygiene"}"#,
        ));
        assert_eq!(check.name, "hygiene");
        assert!(matches!(check.conclusion, Conclusion::Failure));
        assert_eq!(
            check.title,
            "3 problems: title format, description, linked issue"
        );
        let summary = &check.summary;
        assert!(summary.contains("### ❌ title format"), "{summary}");
        assert!(summary.contains("`feat(parser): add a cache`"), "{summary}");
        assert!(summary.contains("The description is empty"), "{summary}");
        assert!(summary.contains("`#123`"), "{summary}");
    }

    #[test]
    fn the_issue_may_be_in_the_title() {
        let check = check(opened(
            "fix: crash on empty input (#12)",
            "Guards the empty case.",
            r#"{"require_issue": true}"#,
        ));
        assert!(matches!(check.conclusion, Conclusion::Success), "{check:?}");
    }

    #[test]
    fn only_some_pull_request_actions_are_checked() {
        for action in ["edited", "synchronize", "reopened"] {
            let mut inv = opened("feat: x", "y", "{}");
            inv.event.action = Some(action.into());
            assert!(matches!(run(inv).as_deref(), Ok([Action::CheckRun(_)])));
        }
        for action in ["labeled", "closed"] {
            let mut inv = opened("feat: x", "y", "{}");
            inv.event.action = Some(action.into());
            assert!(matches!(run(inv).as_deref(), Ok([])));
        }
        // A missing title or body is checked as empty, not a crash.
        let bare = event(EventKind::PullRequest).action("opened").build();
        let check = check(bare);
        assert!(matches!(check.conclusion, Conclusion::Failure));
    }

    #[test]
    fn the_command_checks_what_a_comment_carries() {
        let command = |title: &str, config: &str| {
            event(EventKind::Comment)
                .number(3)
                .title(title)
                .body("/hygiene")
                .command("hygiene", &[])
                .config(config)
                .build()
        };
        // The description is not in a comment event: not passed as green.
        let partial = check(command("feat: x", "{}"));
        assert!(matches!(partial.conclusion, Conclusion::ActionRequired));
        assert!(
            partial.summary.contains("not checked"),
            "{}",
            partial.summary
        );
        assert!(matches!(
            check(command("bad title", "{}")).conclusion,
            Conclusion::Failure
        ));
        let title_only = check(command("feat: x", r#"{"min_description_length": 0}"#));
        assert!(matches!(title_only.conclusion, Conclusion::Success));
        // No pull request, or another command: nothing.
        let issue = event(EventKind::Comment).command("hygiene", &[]).build();
        assert!(matches!(run(issue).as_deref(), Ok([])));
        let other = event(EventKind::Comment)
            .number(3)
            .command("lgtm", &[])
            .build();
        assert!(matches!(run(other).as_deref(), Ok([])));
        assert!(matches!(
            run(event(EventKind::Push).build()).as_deref(),
            Ok([])
        ));
    }

    #[test]
    fn bad_config_is_invalid_config() {
        for (json, needle) in [
            (r#"{"skip_drafts": true}"#, "skip_drafts"),
            (r#"{"types": []}"#, "at least one type"),
            (r#"{"types": ["feat:"]}"#, "`feat:` is not a type"),
            (r#"{"scopes": ["a)"]}"#, "cannot be a scope"),
            (r#"{"title_pattern": " "}"#, "must not be empty"),
            (r#"{"check_name": ""}"#, "must not be empty"),
            (r#"{"max_title_length": -1}"#, "with.max_title_length"),
            (r#"{"issue_keywords": ["fix es"]}"#, "not one word"),
            (r#"{"issue_prefixes": ["AB-"]}"#, "not a project key"),
        ] {
            match run(opened("feat: x", "y", json)) {
                Err(PluginError::InvalidConfig(m)) => assert!(m.contains(needle), "{json}: {m}"),
                other => panic!("{json}: expected invalid-config, got {other:?}"),
            }
        }
    }

    #[test]
    fn manifest_schema_is_json() {
        let manifest = <PrHygiene as Plugin>::describe();
        let schema = manifest.config_schema.unwrap_or_default();
        assert!(serde_json::from_str::<serde_json::Value>(&schema).is_ok());
    }
}
