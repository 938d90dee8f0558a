//! `hold`: Prow's hold plugin. `/hold` puts the `do-not-merge/hold` label
//! on a pull request; `/hold cancel`, `/unhold` and `/remove-hold` take it
//! off again.
//!
//! The decision is [`decide`], plain Rust over the event; [`Hold`] is the
//! component glue. The plugin asks for nothing but labels, so it never
//! replies: the label appearing or going is the answer.

use andon_pdk::types::{Action, Event, EventKind, Invocation, Manifest, Permission, PluginError};
use andon_pdk::{Host, Plugin};
use serde::Deserialize;

/// The label Prow's hold plugin uses, and the default here.
pub const DEFAULT_LABEL: &str = "do-not-merge/hold";

/// The JSON Schema of `with:`, published in the manifest.
const CONFIG_SCHEMA: &str = r#"{
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "label": { "type": "string", "minLength": 1, "default": "do-not-merge/hold" }
  }
}"#;

/// The step's `with:` mapping as written.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawConfig {
    /// The label that holds a pull request.
    pub label: String,
}

impl Default for RawConfig {
    fn default() -> Self {
        RawConfig {
            label: DEFAULT_LABEL.into(),
        }
    }
}

/// A validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub label: String,
}

impl TryFrom<RawConfig> for Config {
    type Error = String;

    fn try_from(raw: RawConfig) -> Result<Self, String> {
        let label = andon_pdk::non_empty(&raw.label, "label")?;
        Ok(Config { label })
    }
}

/// What a command asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Put the hold label on.
    Hold,
    /// Take it off.
    Release,
    /// Not a hold command, or not on a pull request.
    Ignore(&'static str),
}

/// Reads the event as Prow does: `/hold` with any arguments but `cancel`
/// holds (`/hold until the release` too); `/hold cancel`, `/unhold` and
/// `/remove-hold` release.
pub fn decide(event: &Event) -> Decision {
    if event.kind != EventKind::Comment {
        return Decision::Ignore("not a comment event");
    }
    if event.number.is_none() {
        return Decision::Ignore("the comment is not on a pull request");
    }
    let Some(command) = event.command.as_deref() else {
        return Decision::Ignore("the comment carries no command");
    };
    let cancel = event
        .args
        .first()
        .is_some_and(|a| a.eq_ignore_ascii_case("cancel"));
    match command.to_ascii_lowercase().as_str() {
        "hold" if cancel => Decision::Release,
        "hold" => Decision::Hold,
        "unhold" | "remove-hold" => Decision::Release,
        _ => Decision::Ignore("not a hold command"),
    }
}

/// The plugin.
pub struct Hold;

impl Plugin for Hold {
    fn describe() -> Manifest {
        let command = andon_pdk::command_info;
        Manifest {
            name: "hold".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "holds a pull request with a do-not-merge label until `/hold cancel`"
                .into(),
            events: vec![EventKind::Comment],
            commands: vec![
                command(
                    "hold",
                    "/hold [cancel]",
                    "put the hold label on the pull request, or take it off with `cancel`",
                ),
                command("unhold", "/unhold", "take the hold label off"),
                command("remove-hold", "/remove-hold", "take the hold label off"),
            ],
            permissions: vec![Permission::Labels],
            config_schema: Some(CONFIG_SCHEMA.into()),
        }
    }

    fn run(inv: Invocation, host: &dyn Host) -> Result<Vec<Action>, PluginError> {
        // The config is checked on every event, so a mistake shows up early.
        let raw: RawConfig = andon_pdk::config(&inv)?;
        let cfg = Config::try_from(raw).map_err(PluginError::InvalidConfig)?;
        // Labels on the event may be stale, and adding a present label or
        // removing an absent one is a no-op, so the action is always sent.
        Ok(match decide(&inv.event) {
            Decision::Hold => vec![Action::AddLabel(cfg.label)],
            Decision::Release => vec![Action::RemoveLabel(cfg.label)],
            Decision::Ignore(why) => {
                host.info(&format!("hold: nothing to do: {why}"));
                Vec::new()
            }
        })
    }
}

andon_pdk::plugin!(Hold);

#[cfg(test)]
mod tests {
    use andon_pdk::testing::{FakeHost, event};
    use andon_pdk::types::{Action, EventKind, Invocation, PluginError};

    use super::*;

    fn run(inv: Invocation) -> Result<Vec<String>, PluginError> {
        let host = FakeHost::new();
        <Hold as Plugin>::run(inv, &host).map(|actions| actions.iter().map(show).collect())
    }

    fn show(action: &Action) -> String {
        match action {
            Action::AddLabel(l) => format!("+{l}"),
            Action::RemoveLabel(l) => format!("-{l}"),
            other => format!("{other:?}"),
        }
    }

    fn command(name: &str, args: &[&str]) -> Invocation {
        event(EventKind::Comment)
            .number(7)
            .author("alice")
            .permission("read")
            .command(name, args)
            .build()
    }

    #[test]
    fn hold_adds_the_label() {
        assert_eq!(
            run(command("hold", &[])).ok(),
            Some(vec!["+do-not-merge/hold".into()])
        );
        // Prow holds on `/hold` followed by anything but `cancel`.
        assert_eq!(
            run(command("hold", &["until", "friday"])).ok(),
            Some(vec!["+do-not-merge/hold".into()])
        );
    }

    #[test]
    fn cancel_unhold_and_remove_hold_release() {
        for (name, args) in [
            ("hold", &["cancel"][..]),
            ("hold", &["CANCEL"][..]),
            ("unhold", &[][..]),
            ("remove-hold", &[][..]),
            ("Unhold", &[][..]),
        ] {
            assert_eq!(
                run(command(name, args)).ok(),
                Some(vec!["-do-not-merge/hold".into()]),
                "/{name} {args:?}"
            );
        }
    }

    #[test]
    fn the_label_is_configurable() {
        let inv = event(EventKind::Comment)
            .number(7)
            .command("hold", &[])
            .config(r#"{"label": " on-hold "}"#)
            .build();
        assert_eq!(run(inv).ok(), Some(vec!["+on-hold".into()]));
    }

    #[test]
    fn other_events_and_commands_do_nothing() {
        let host = FakeHost::new();
        let cases = [
            command("lgtm", &[]),
            // A comment on an issue: no pull request number.
            event(EventKind::Comment).command("hold", &[]).build(),
            event(EventKind::Comment).number(7).build(),
            event(EventKind::PullRequest)
                .number(7)
                .action("opened")
                .build(),
            event(EventKind::Push).build(),
        ];
        for inv in cases {
            let actions = <Hold as Plugin>::run(inv, &host);
            assert!(matches!(actions.as_deref(), Ok([])), "{actions:?}");
        }
        assert!(host.logs().iter().all(|l| l.contains("nothing to do")));
    }

    #[test]
    fn bad_config_is_invalid_config() {
        for (json, needle) in [
            (r#"{"lable": "x"}"#, "lable"),
            (r#"{"label": ""}"#, "must not be empty"),
            (r#"{"label": 3}"#, "with.label"),
            ("[]", "must be a mapping"),
        ] {
            let inv = event(EventKind::Comment)
                .number(1)
                .command("hold", &[])
                .config(json)
                .build();
            match run(inv) {
                Err(PluginError::InvalidConfig(m)) => assert!(m.contains(needle), "{m}"),
                other => panic!("{json}: expected invalid-config, got {other:?}"),
            }
        }
    }

    #[test]
    fn manifest_lists_commands_and_a_valid_schema() {
        let manifest = <Hold as Plugin>::describe();
        let names: Vec<&str> = manifest.commands.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["hold", "unhold", "remove-hold"]);
        let schema = manifest.config_schema.unwrap_or_default();
        assert!(serde_json::from_str::<serde_json::Value>(&schema).is_ok());
    }
}
