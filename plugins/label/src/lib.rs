//! `label`: Prow's label plugin. `/label kind/bug "help wanted"` adds
//! labels, `/remove-label kind/bug` removes them. Only labels the step
//! allows are applied, restricted ones only for authors with the required
//! repository permission; the step's sticky comment explains every label
//! it refused, with the closest allowed label for a typo.
//!
//! [`config`] reads `with:`, [`plan`] decides and renders; this file is the
//! glue.

pub mod config;
pub mod plan;

use andon_pdk::types::{Action, EventKind, Invocation, Manifest, Permission, PluginError};
use andon_pdk::{Host, Plugin, RepoPermission};

use crate::config::{Config, RawConfig};
use crate::plan::{Act, Verb};

/// The JSON Schema of `with:`, published in the manifest.
const CONFIG_SCHEMA: &str = r#"{
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "allowed": {
      "type": "array",
      "items": { "type": "string", "minLength": 1 },
      "default": ["kind/*", "priority/*", "area/*", "triage/*", "sig/*", "help wanted", "good first issue"],
      "description": "labels anyone may apply; `prefix/*` allows a prefix, `*` any label"
    },
    "restricted": {
      "type": "object",
      "additionalProperties": { "enum": ["read", "triage", "write", "maintain", "admin"] },
      "description": "label (or `prefix/*`) -> the repository permission needed to add or remove it"
    }
  }
}"#;

/// The plugin.
pub struct Label;

impl Plugin for Label {
    fn describe() -> Manifest {
        let command = andon_pdk::command_info;
        Manifest {
            name: "label".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "adds and removes allowed labels with `/label` and `/remove-label`".into(),
            events: vec![EventKind::Comment],
            commands: vec![
                command("label", "/label LABEL [LABEL ...]", "add labels"),
                command(
                    "remove-label",
                    "/remove-label LABEL [LABEL ...]",
                    "remove labels",
                ),
            ],
            permissions: vec![Permission::Labels, Permission::Comment],
            config_schema: Some(CONFIG_SCHEMA.into()),
        }
    }

    fn run(inv: Invocation, host: &dyn Host) -> Result<Vec<Action>, PluginError> {
        // The config is checked on every event, so a mistake shows up early.
        let raw: RawConfig = andon_pdk::config(&inv)?;
        let cfg = Config::try_from(raw).map_err(PluginError::InvalidConfig)?;
        let event = &inv.event;
        if event.kind != EventKind::Comment {
            host.info("label: nothing to do: not a comment event");
            return Ok(Vec::new());
        }
        let Some(command) = event.command.as_deref() else {
            host.info("label: nothing to do: the comment carries no command");
            return Ok(Vec::new());
        };
        let verb = match command.to_ascii_lowercase().as_str() {
            "label" => Verb::Add,
            "remove-label" => Verb::Remove,
            _ => {
                host.info(&format!("label: nothing to do: `/{command}` is not mine"));
                return Ok(Vec::new());
            }
        };
        if event.number.is_none() {
            host.info("label: nothing to do: the comment is not on a pull request");
            return Ok(Vec::new());
        }
        let author = event.author.as_deref().unwrap_or("someone");
        let requested = plan::labels_of(&event.args);
        if requested.is_empty() {
            return Ok(vec![Action::Comment(format!(
                "@{author}: `/{command}` needs at least one label, e.g. `/{command} kind/bug` \
                 or `/{command} \"help wanted\"`.\n"
            ))]);
        }
        let permission = RepoPermission::of_author(&inv);
        let plan = plan::plan(verb, &requested, &event.labels, permission, &cfg);
        let mut actions: Vec<Action> = plan
            .acts
            .iter()
            .map(|act| match act {
                Act::AddLabel(l) => Action::AddLabel(l.clone()),
                Act::RemoveLabel(l) => Action::RemoveLabel(l.clone()),
            })
            .collect();
        // Like Prow, the plugin speaks only to explain a refusal.
        if !plan.refused.is_empty() {
            actions.push(Action::Comment(plan::render(command, author, &plan, &cfg)));
        }
        Ok(actions)
    }
}

andon_pdk::plugin!(Label);

#[cfg(test)]
mod tests {
    use andon_pdk::testing::{FakeHost, event};
    use andon_pdk::types::{Action, EventKind, Invocation, PluginError};

    use super::*;

    fn run(inv: Invocation) -> Result<Vec<String>, PluginError> {
        <Label as Plugin>::run(inv, &FakeHost::new())
            .map(|actions| actions.iter().map(show).collect())
    }

    fn show(action: &Action) -> String {
        match action {
            Action::AddLabel(l) => format!("+{l}"),
            Action::RemoveLabel(l) => format!("-{l}"),
            Action::Comment(body) => format!("comment: {body}"),
            other => format!("{other:?}"),
        }
    }

    fn command(name: &str, args: &[&str], permission: &str, config: &str) -> Invocation {
        event(EventKind::Comment)
            .number(7)
            .author("alice")
            .permission(permission)
            .labels(&["kind/bug", "Help Wanted"])
            .command(name, args)
            .config(config)
            .build()
    }

    fn ok(inv: Invocation) -> Vec<String> {
        match run(inv) {
            Ok(actions) => actions,
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }

    #[test]
    fn adds_allowed_labels_in_the_configured_spelling() {
        let actions = ok(command(
            "label",
            &["KIND/feature", "\"good", "FIRST", "issue\"", "priority/P1"],
            "read",
            "{}",
        ));
        assert_eq!(
            actions,
            ["+kind/feature", "+good first issue", "+priority/P1"]
        );
    }

    #[test]
    fn present_labels_are_not_added_again() {
        assert!(ok(command("label", &["kind/BUG"], "read", "{}")).is_empty());
    }

    #[test]
    fn removes_with_the_spelling_on_the_pull_request() {
        let actions = ok(command(
            "remove-label",
            &["\"help", "wanted\"", "kind/bug"],
            "read",
            "{}",
        ));
        assert_eq!(actions, ["-Help Wanted", "-kind/bug"]);
    }

    #[test]
    fn refusals_are_explained_and_the_rest_applied() {
        let actions = ok(command(
            "label",
            &["kind/cleanup", "lgtm", "kidn/flake"],
            "write",
            "{}",
        ));
        assert_eq!(actions.len(), 2, "{actions:?}");
        assert_eq!(actions[0], "+kind/cleanup");
        let comment = &actions[1];
        assert!(
            comment.contains("`lgtm`: not a label this repository allows."),
            "{comment}"
        );
        assert!(comment.contains("Did you mean `kind/flake`?"), "{comment}");
        assert!(comment.contains("Done: added `kind/cleanup`."), "{comment}");
    }

    #[test]
    fn removing_an_absent_label_is_explained() {
        let actions = ok(command("remove-label", &["kind/flake"], "read", "{}"));
        assert_eq!(actions.len(), 1);
        assert!(actions[0].contains("`kind/flake`: not on this pull request."));
    }

    #[test]
    fn restricted_labels_need_the_permission() {
        let config = r#"{"allowed": ["kind/*", "approved"], "restricted": {"Approved": "maintain", "priority/critical*": "write"}}"#;
        let refused = ok(command("label", &["approved"], "write", config));
        assert_eq!(refused.len(), 1);
        assert!(refused[0].contains("`maintain` permission"), "{refused:?}");
        assert!(refused[0].contains("yours is `write`"), "{refused:?}");
        assert_eq!(
            ok(command("label", &["approved"], "admin", config)),
            ["+Approved"]
        );
        // Restricted labels are open to those with the permission even
        // when `allowed` does not list them.
        assert_eq!(
            ok(command(
                "label",
                &["priority/critical-urgent"],
                "write",
                config
            )),
            ["+priority/critical-urgent"]
        );
        // Removing needs the permission too.
        let inv = event(EventKind::Comment)
            .number(7)
            .author("bob")
            .labels(&["Approved"])
            .command("remove-label", &["approved"])
            .config(config)
            .build();
        let refused = ok(inv);
        assert!(refused[0].contains("yours is `none`"), "{refused:?}");
    }

    #[test]
    fn any_label_with_a_star() {
        assert_eq!(
            ok(command("label", &["x"], "read", r#"{"allowed": ["*"]}"#)),
            ["+x"]
        );
        let none = ok(command("label", &["x"], "read", r#"{"allowed": []}"#));
        assert!(none[0].contains("No labels are open"), "{none:?}");
    }

    #[test]
    fn no_labels_gets_usage() {
        let actions = ok(command("label", &[], "read", "{}"));
        assert_eq!(actions.len(), 1);
        assert!(
            actions[0].contains("needs at least one label"),
            "{actions:?}"
        );
    }

    #[test]
    fn odd_events_do_nothing() {
        let cases = [
            event(EventKind::Comment)
                .command("label", &["kind/bug"])
                .build(),
            event(EventKind::Comment).number(3).build(),
            event(EventKind::Comment)
                .number(3)
                .command("hold", &[])
                .build(),
            event(EventKind::PullRequest)
                .number(3)
                .action("opened")
                .build(),
        ];
        for inv in cases {
            assert_eq!(run(inv).ok(), Some(Vec::new()));
        }
    }

    #[test]
    fn bad_config_is_invalid_config() {
        for (json, needle) in [
            (r#"{"allow_any": true}"#, "allow_any"),
            (r#"{"allowed": ["k*nd"]}"#, "`*` may only end"),
            (r#"{"allowed": "kind/*"}"#, "with.allowed"),
            (
                r#"{"restricted": {"approved": "god"}}"#,
                "`god` is not a permission",
            ),
            (
                r#"{"restricted": {"approved": "none"}}"#,
                "not a permission",
            ),
        ] {
            match run(command("label", &["kind/bug"], "admin", json)) {
                Err(PluginError::InvalidConfig(m)) => assert!(m.contains(needle), "{m}"),
                other => panic!("{json}: expected invalid-config, got {other:?}"),
            }
        }
    }

    #[test]
    fn manifest_schema_is_json() {
        let manifest = <Label as Plugin>::describe();
        let schema = manifest.config_schema.unwrap_or_default();
        assert!(serde_json::from_str::<serde_json::Value>(&schema).is_ok());
        assert_eq!(manifest.commands.len(), 2);
    }
}
